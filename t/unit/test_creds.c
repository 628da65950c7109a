
/*
 * aigw: unit tests of aigw_creds.c (shared credentials and config files).
 */


#include <string.h>

#include "unit.h"
#include "aigw_creds.h"


static int
profile(const char *text, aigw_ini_kind_e kind, const char *name,
    aigw_profile_t *p, unsigned *line)
{
    return aigw_ini_profile(text, strlen(text), kind, name, strlen(name), p,
                            line);
}


static void
test_credentials_file(void)
{
    unsigned        line;
    aigw_profile_t  p;

    static const char  text[] =
        "# a comment\n"
        "[default]\n"
        "aws_access_key_id = AKIDDEFAULT\n"
        "aws_secret_access_key=secret/with+chars=\n"
        "\n"
        "; another comment\n"
        "[dev]\r\n"
        "  \n"
        "aws_access_key_id: AKIDDEV\r\n"
        "aws_secret_access_key = devsecret\r\n"
        "aws_session_token = tok==en\r\n"
        "region = eu-west-1\r\n"
        "[prod]\n"
        "aws_access_key_id = AKIDPROD1\n"
        "aws_access_key_id = AKIDPROD2\n";

    CHECK_EQ(profile(text, AIGW_INI_CREDENTIALS, "default", &p, &line), 1);
    CHECK_MEM(p.access_key.data, p.access_key.len, "AKIDDEFAULT", 11);
    CHECK_MEM(p.secret_key.data, p.secret_key.len, "secret/with+chars=", 18);
    CHECK_EQ_SIZE(p.session_token.len, 0);
    CHECK_EQ_SIZE(p.unsupported.len, 0);

    CHECK_EQ(profile(text, AIGW_INI_CREDENTIALS, "dev", &p, &line), 1);
    CHECK_MEM(p.access_key.data, p.access_key.len, "AKIDDEV", 7);
    CHECK_MEM(p.secret_key.data, p.secret_key.len, "devsecret", 9);
    CHECK_MEM(p.session_token.data, p.session_token.len, "tok==en", 7);
    CHECK_MEM(p.region.data, p.region.len, "eu-west-1", 9);

    /* the last setting of a key wins */
    CHECK_EQ(profile(text, AIGW_INI_CREDENTIALS, "prod", &p, &line), 1);
    CHECK_MEM(p.access_key.data, p.access_key.len, "AKIDPROD2", 9);
    CHECK_EQ_SIZE(p.secret_key.len, 0);

    CHECK_EQ(profile(text, AIGW_INI_CREDENTIALS, "nope", &p, &line), 0);

    /* a credentials file has no "profile " prefix */
    CHECK_EQ(profile("[profile dev]\naws_access_key_id=A\n",
                     AIGW_INI_CREDENTIALS, "dev", &p, &line), 0);
}


static void
test_config_file(void)
{
    unsigned        line;
    aigw_profile_t  p;

    static const char  text[] =
        "[default]\n"
        "region = us-east-1\n"
        "s3 =\n"
        "    max_concurrent_requests = 20\n"
        "    aws_access_key_id = NESTED\n"
        "[profile  dev ]\n"
        "aws_access_key_id = AKIDDEV\n"
        "aws_secret_access_key = s\n"
        "[sso-session corp]\n"
        "sso_start_url = https://example.awsapps.com/start\n"
        "[profile assumed]\n"
        "role_arn = arn:aws:iam::123456789012:role/x\n"
        "source_profile = default\n"
        "[profile proc]\n"
        "aws_access_key_id = A\n"
        "credential_process = /bin/creds\n"
        "[dev]\n"
        "aws_access_key_id = BARE\n";

    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "default", &p, &line), 1);
    CHECK_MEM(p.region.data, p.region.len, "us-east-1", 9);
    /* nested settings are not the profile's own */
    CHECK_EQ_SIZE(p.access_key.len, 0);

    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "dev", &p, &line), 1);
    CHECK_MEM(p.access_key.data, p.access_key.len, "AKIDDEV", 7);

    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "corp", &p, &line), 0);

    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "assumed", &p, &line), 1);
    CHECK_EQ_SIZE(p.unsupported.len, 0);
    CHECK_MEM(p.role_arn.data, p.role_arn.len,
              "arn:aws:iam::123456789012:role/x", 32);
    CHECK_MEM(p.source_profile.data, p.source_profile.len, "default", 7);
    CHECK_STR(aigw_ini_needs_chain(&p).data, "role_arn");

    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "proc", &p, &line), 1);
    CHECK_EQ_SIZE(p.unsupported.len, 0);
    CHECK_MEM(p.credential_process.data, p.credential_process.len,
              "/bin/creds", 10);
    CHECK_STR(aigw_ini_needs_chain(&p).data, "credential_process");
    CHECK_MEM(p.access_key.data, p.access_key.len, "A", 1);
}


static void
test_chain_settings(void)
{
    unsigned        line;
    aigw_profile_t  p;

    static const char  text[] =
        "[profile web]\n"
        "role_arn = arn:aws:iam::1:role/w\n"
        "web_identity_token_file = /var/run/token\n"
        "role_session_name = sess\n"
        "external_id = ext\n"
        "duration_seconds = 900\n"
        "credential_source = Environment\n"
        "region = eu-west-3\n"
        "[profile mfa]\n"
        "aws_access_key_id = A\n"
        "mfa_serial = arn:aws:iam::1:mfa/u\n"
        "sso_role_name = r\n"
        "[profile sso]\n"
        "sso_role_name = r\n"
        "mfa_serial = arn:aws:iam::1:mfa/u\n";

    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "web", &p, &line), 1);
    CHECK_MEM(p.role_arn.data, p.role_arn.len, "arn:aws:iam::1:role/w", 21);
    CHECK_MEM(p.web_identity_token_file.data, p.web_identity_token_file.len,
              "/var/run/token", 14);
    CHECK_MEM(p.role_session_name.data, p.role_session_name.len, "sess", 4);
    CHECK_MEM(p.external_id.data, p.external_id.len, "ext", 3);
    CHECK_MEM(p.duration_seconds.data, p.duration_seconds.len, "900", 3);
    CHECK_MEM(p.credential_source.data, p.credential_source.len,
              "Environment", 11);
    CHECK_MEM(p.region.data, p.region.len, "eu-west-3", 9);
    CHECK_EQ_SIZE(p.unsupported.len, 0);

    /* the first unsupported setting, by line */
    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "mfa", &p, &line), 1);
    CHECK_STR(p.unsupported.data, "mfa_serial");
    CHECK_STR(aigw_ini_needs_chain(&p).data, "mfa_serial");
    CHECK_EQ(profile(text, AIGW_INI_CONFIG, "sso", &p, &line), 1);
    CHECK_STR(p.unsupported.data, "sso_role_name");
}


static void
test_syntax_errors(void)
{
    unsigned        line;
    aigw_profile_t  p;

    line = 0;
    CHECK_EQ(profile("[default]\nno delimiter here\n", AIGW_INI_CREDENTIALS,
                     "default", &p, &line), -1);
    CHECK_EQ(line, 2);

    line = 0;
    CHECK_EQ(profile("[a]\nx=1\n[broken\n", AIGW_INI_CREDENTIALS, "a", &p,
                     &line), -1);
    CHECK_EQ(line, 3);

    line = 0;
    CHECK_EQ(profile("[a]\n= value\n", AIGW_INI_CREDENTIALS, "a", &p,
                     &line), -1);
    CHECK_EQ(line, 2);

    /* empty text, no newline at the end */
    CHECK_EQ(profile("", AIGW_INI_CREDENTIALS, "a", &p, &line), 0);
    CHECK_EQ(profile("[a]\naws_access_key_id=X", AIGW_INI_CREDENTIALS, "a",
                     &p, &line), 1);
    CHECK_MEM(p.access_key.data, p.access_key.len, "X", 1);
}


int
main(void)
{
    test_credentials_file();
    test_config_file();
    test_chain_settings();
    test_syntax_errors();

    return unit_done("test_creds");
}
