
/*
 * aigw: unit tests of aigw_credchain.c, the credentials provider chain,
 * driven by scripted actions (cc_test_util.h).
 */


#include <stdlib.h>
#include <strings.h>

#include "aigw_sts.h"
#include "cc_test_util.h"
#include "sts_vectors.h"


#define AKID1    "ASIAAAAAAAAAAAAAAAA1"
#define AKID2    "ASIABBBBBBBBBBBBBBB2"
#define AKID3    "ASIACCCCCCCCCCCCCCC3"
#define SECRET1  "sEcReT1/K7MDENG+bPxRfiCYEXAMPLEKEY1"
#define SECRET2  "sEcReT2/K7MDENG+bPxRfiCYEXAMPLEKEY2"
#define SECRET3  "sEcReT3/K7MDENG+bPxRfiCYEXAMPLEKEY3"
#define TOKEN1   "ToKeN1//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+1="
#define TOKEN2   "ToKeN2//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+2="
#define TOKEN3   "ToKeN3//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+3="
#define WEBTOKEN "eyJhbGciOiJSUzI1NiJ9.WeBiDeNtItY.sIgNaTuRe"
#define ECSTOKEN "EcSaUtHoRiZaTiOn-ToKeN-9f8e7d"
#define IMDSTOKEN "ImDsV2-ToKeN-AQAEAHEAAAAAAAAA=="

#define STS_OK(akid, secret, token, exp)                                      \
    "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">" \
    "\n  <AssumeRoleResult>\n    <Credentials>\n"                             \
    "      <AccessKeyId>" akid "</AccessKeyId>\n"                             \
    "      <SecretAccessKey>" secret "</SecretAccessKey>\n"                   \
    "      <SessionToken>" token "</SessionToken>\n"                          \
    "      <Expiration>" exp "</Expiration>\n"                                \
    "    </Credentials>\n    <AssumedRoleUser><Arn>x</Arn>"                   \
    "</AssumedRoleUser>\n  </AssumeRoleResult>\n</AssumeRoleResponse>\n"

#define JSON_CREDS(akid, secret, tokname, token, exp)                         \
    "{\"AccessKeyId\": \"" akid "\", \"SecretAccessKey\": \"" secret "\", "   \
    "\"" tokname "\": \"" token "\", \"Expiration\": \"" exp "\"}"

#define IMDS_CREDS(akid, secret, token, exp)                                  \
    "{\"Code\": \"Success\", \"LastUpdated\": \"2027-01-15T07:00:00Z\", "     \
    "\"Type\": \"AWS-HMAC\", \"AccessKeyId\": \"" akid "\", "                 \
    "\"SecretAccessKey\": \"" secret "\", \"Token\": \"" token "\", "         \
    "\"Expiration\": \"" exp "\"}"

#define HOME_CREDS   "/home/u/.aws/credentials"
#define HOME_CONFIG  "/home/u/.aws/config"


/* every secret value the tests use: never in an error */
static const char  *secrets[] = {
    SECRET1, SECRET2, SECRET3, TOKEN1, TOKEN2, TOKEN3, WEBTOKEN, ECSTOKEN,
    IMDSTOKEN, NULL
};


static void
check_no_secret(const aigw_cc_result_t *r)
{
    const char  **s;

    if (r->error == NULL) {
        return;
    }

    for (s = secrets; *s; s++) {
        if (!CHECK(strstr(r->error, *s) == NULL)) {
            fprintf(stderr, "    secret in \"%s\"\n", r->error);
        }
    }
}


static const aigw_cc_result_t *
failed(aigw_cc_t *cc)
{
    const aigw_cc_result_t  *r;

    r = cc_failed(cc);
    check_no_secret(r);

    return r;
}


static void
home(void)
{
    cc_reset_env();
    cc_setenv("HOME", "/home/u");
}


static void
test_env(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc_setenv("AWS_SESSION_TOKEN", TOKEN1);

    cc = cc_start(AIGW_CC_ENV, NULL);
    r = cc_done(cc);
    CHECK_CREDS(r, "AKIAENVKEY", SECRET1, TOKEN1);
    CHECK_EQ(r->expiration, 0);
    CHECK_EQ(r->source, AIGW_CC_ENV);
    CHECK_STR(r->origin, "environment");
    aigw_cc_destroy(cc);

    /* the older name of the token */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc_setenv("AWS_SECURITY_TOKEN", TOKEN2);
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    r = cc_done(cc);
    CHECK_CREDS(r, "AKIAENVKEY", SECRET1, TOKEN2);
    CHECK_EQ(r->source, AIGW_CC_ENV);
    aigw_cc_destroy(cc);

    /* half of it: an error, in a chain too */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "AWS_SECRET_ACCESS_KEY");
    CHECK_EQ(r->not_found, 0);
    aigw_cc_destroy(cc);

    /* none */
    home();
    cc = cc_start(AIGW_CC_ENV, NULL);
    r = failed(cc);
    CHECK_EQ(r->not_found, 1);
    aigw_cc_destroy(cc);

    /* a key that would break a header line */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIA\r\nX-Evil: 1");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc = cc_start(AIGW_CC_ENV, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "access key id");
    aigw_cc_destroy(cc);

    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc_setenv("AWS_SESSION_TOKEN", "tok en");
    cc = cc_start(AIGW_CC_ENV, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "session token");
    aigw_cc_destroy(cc);
}


static void
test_static(void)
{
    aigw_cc_t               *cc;
    aigw_cc_conf_t           conf;
    const aigw_cc_result_t  *r;

    memset(&conf, 0, sizeof(conf));
    conf.source = AIGW_CC_STATIC;
    conf.keys.access_key.data = "AKIASTATIC";
    conf.keys.access_key.len = 10;
    conf.keys.secret_key.data = SECRET2;
    conf.keys.secret_key.len = strlen(SECRET2);

    cc = aigw_cc_create(&conf);
    r = cc_done(cc);
    CHECK_CREDS(r, "AKIASTATIC", SECRET2, "");
    CHECK_EQ(r->source, AIGW_CC_STATIC);
    aigw_cc_destroy(cc);

    conf.keys.secret_key.data = "bad\nsecret";
    conf.keys.secret_key.len = 10;
    cc = aigw_cc_create(&conf);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "secret access key");
    aigw_cc_destroy(cc);

    conf.keys.secret_key.len = 0;
    cc = aigw_cc_create(&conf);
    r = failed(cc);
    aigw_cc_destroy(cc);
}


static void
test_file_static(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /* the credentials file wins, key by key, over the config file */
    home();
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, 0,
            "[default]\naws_access_key_id = AKIAFILEKEY\n"
            "aws_secret_access_key = " SECRET1 "\n");
    CC_FILE(cc, HOME_CONFIG, 0,
            "[default]\naws_access_key_id = AKIACONFIG\n"
            "aws_secret_access_key = " SECRET2 "\n"
            "aws_session_token = " TOKEN1 "\n");
    r = cc_done(cc);
    CHECK_CREDS(r, "AKIAFILEKEY", SECRET1, TOKEN1);
    CHECK_EQ(r->source, AIGW_CC_FILE);
    CHECK_STR(r->origin, "profile \"default\"");
    aigw_cc_destroy(cc);

    /* AWS_PROFILE, the files moved, "[profile x]" in the config */
    home();
    cc_setenv("AWS_PROFILE", "dev");
    cc_setenv("AWS_SHARED_CREDENTIALS_FILE", "/etc/aws/creds");
    cc_setenv("AWS_CONFIG_FILE", "/etc/aws/conf");
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, "/etc/aws/creds", ENOENT, NULL);
    CC_FILE(cc, "/etc/aws/conf", 0,
            "[default]\naws_access_key_id = AKIANOTTHIS\n"
            "aws_secret_access_key = x\n"
            "[profile dev]\naws_access_key_id = AKIADEV\n"
            "aws_secret_access_key = " SECRET3 "\n");
    r = cc_done(cc);
    CHECK_CREDS(r, "AKIADEV", SECRET3, "");
    CHECK_STR(r->origin, "profile \"dev\"");
    aigw_cc_destroy(cc);

    /* the profile given wins over AWS_PROFILE; missing: an error */
    cc = cc_start(AIGW_CC_FILE, "prod");
    CC_FILE(cc, "/etc/aws/creds", ENOENT, NULL);
    CC_FILE(cc, "/etc/aws/conf", ENOENT, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "profile \"prod\"");
    CHECK_CONTAINS(r->error, "/etc/aws/creds");
    CHECK_EQ(r->not_found, 1);
    aigw_cc_destroy(cc);

    /* a file that cannot be read, a syntax error */
    home();
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, EACCES, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, HOME_CREDS);
    CHECK_CONTAINS(r->error, "ermission denied");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, 0, "[default]\naws_secret_access_key = "
            SECRET1 "\njunk\n");
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "syntax error in \"" HOME_CREDS "\" line 3");
    aigw_cc_destroy(cc);

    /* unsupported settings are named */
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\nsso_session = corp\n"
            "sso_account_id = 1\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "\"sso_session\"");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, 0, "[default]\naws_access_key_id = AKIAX\n"
            "aws_secret_access_key = " SECRET1 "\n");
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\nmfa_serial = arn:x\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "\"mfa_serial\"");
    aigw_cc_destroy(cc);

    /* a key of the file that would break a header */
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, 0, "[default]\naws_access_key_id = AKIA\rX\n"
            "aws_secret_access_key = " SECRET1 "\n");
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "profile \"default\"");
    aigw_cc_destroy(cc);
}


/* checks an STS request; "token": x-amz-security-token expected */
static void
check_sts(const char *url, const char *host, const char *body,
    const char *token, int signed_)
{
    CHECK_STR(cc_act.http.url, url);
    CHECK_STR(cc_act.http.host, host);
    CHECK_EQ(cc_act.http.port, 443);
    CHECK_EQ(cc_act.http.tls, 1);
    CHECK_STR(cc_act.http.target, "/");
    CHECK_STR(cc_header("Host"), host);
    CHECK_STR(cc_header("Content-Type"),
              "application/x-www-form-urlencoded; charset=utf-8");
    CHECK_STR(cc_body(), body);
    CHECK_STR(cc_header("X-Amz-Security-Token"), token);

    if (signed_) {
        CHECK_STR(cc_header("X-Amz-Date"), "20270115T080000Z");
        CHECK(cc_contains(cc_header("Authorization"),
                          "AWS4-HMAC-SHA256 Credential="));
        CHECK(cc_contains(cc_header("Authorization"),
                          "/20270115/"));
        CHECK(cc_contains(cc_header("Authorization"), "/sts/aws4_request"));

    } else {
        CHECK(cc_header("Authorization") == NULL);
        CHECK(cc_header("X-Amz-Date") == NULL);
    }
}


static void
test_file_roles(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /*
     * two hops: top <- middle <- base (static keys); the requests as
     * botocore serializes and signs them (t/gen_sts_vectors.py)
     */
    home();
    cc_setenv("AWS_REGION", "eu-west-1");
    cc = cc_start(AIGW_CC_FILE, "top");
    CC_FILE(cc, HOME_CREDS, 0,
            "[base]\naws_access_key_id = AKIABASEKEY\n"
            "aws_secret_access_key = " SECRET1 "\n");
    CC_FILE(cc, HOME_CONFIG, 0,
            "[profile top]\nrole_arn = arn:aws:iam::111:role/top\n"
            "source_profile = middle\nrole_session_name = sess-top\n"
            "[profile middle]\nrole_arn = arn:aws:iam::222:role/mid\n"
            "source_profile = base\nduration_seconds = 900\n"
            "external_id = ext/1 +x\n");

    /* the inner role first, signed with the base's keys */
    if (CC_HTTP(cc, "POST", "https://sts.eu-west-1.amazonaws.com")) {
        check_sts("https://sts.eu-west-1.amazonaws.com",
                  "sts.eu-west-1.amazonaws.com", STS_VEC_ROLE_BODY, NULL, 1);
        CHECK_STR(cc_header("Authorization"), STS_VEC_ROLE_AUTH);
    }

    CC_ANSWER(cc, 200, STS_OK(AKID2, SECRET2, TOKEN2, CC_EXP));

    /* then the outer, with the inner's, token and all */
    if (CC_HTTP(cc, "POST", "https://sts.eu-west-1.amazonaws.com")) {
        check_sts("https://sts.eu-west-1.amazonaws.com",
                  "sts.eu-west-1.amazonaws.com", STS_VEC_CHAINED_BODY,
                  TOKEN2, 1);
        CHECK_STR(cc_header("Authorization"), STS_VEC_CHAINED_AUTH);
    }

    CC_ANSWER(cc, 200, STS_OK(AKID3, SECRET3, TOKEN3,
                              "2027-01-15T08:30:00.000Z"));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID3, SECRET3, TOKEN3);
    CHECK_EQ(r->expiration, CC_NOW + 1800);
    CHECK_EQ(r->source, AIGW_CC_FILE);
    CHECK_STR(r->origin, "role arn:aws:iam::111:role/top of profile \"top\"");
    aigw_cc_destroy(cc);

    /* a profile that is its own source uses its keys; the profile's region */
    home();
    cc = cc_start(AIGW_CC_FILE, "self");
    CC_FILE(cc, HOME_CREDS, 0,
            "[self]\naws_access_key_id = AKIASELFKEY\n"
            "aws_secret_access_key = " SECRET1 "\n");
    CC_FILE(cc, HOME_CONFIG, 0,
            "[profile self]\nrole_arn = arn:aws:iam::1:role/s\n"
            "source_profile = self\nregion = cn-north-1\n");

    if (CC_HTTP(cc, "POST", "https://sts.cn-north-1.amazonaws.com.cn")) {
        CHECK(cc_contains(cc_header("Authorization"),
                          "Credential=AKIASELFKEY/20270115/cn-north-1/"));
    }

    CC_ANSWER(cc, 200, STS_OK(AKID2, SECRET2, TOKEN2, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID2, SECRET2, TOKEN2);
    aigw_cc_destroy(cc);

    /* a cycle */
    home();
    cc = cc_start(AIGW_CC_FILE, "a");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0,
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\n"
            "source_profile = b\n"
            "[profile b]\nrole_arn = arn:aws:iam::1:role/b\n"
            "source_profile = a\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "cycle");
    CHECK_EQ(r->not_found, 0);
    aigw_cc_destroy(cc);

    /* a source that is not there */
    cc = cc_start(AIGW_CC_FILE, "a");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0,
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\n"
            "source_profile = gone\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "\"gone\"");
    aigw_cc_destroy(cc);

    /* role_arn alone; both source_profile and credential_source */
    cc = cc_start(AIGW_CC_FILE, "a");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile a]\nrole_arn = arn:x\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "source_profile");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_FILE, "a");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile a]\nrole_arn = arn:x\n"
            "source_profile = b\ncredential_source = Environment\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "more than one");
    aigw_cc_destroy(cc);

    /* a setting with a NUL byte: not a shorter path (fuzz_credchain) */
    cc = cc_start(AIGW_CC_FILE, "w");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    aigw_cc_next(cc, CC_NOW, &cc_act);
    CHECK_EQ(cc_act.step, AIGW_CC_READ_FILE);
    aigw_cc_file_done(cc, 0, "[profile w]\nrole_arn = arn:x\n"
                      "web_identity_token_file = /t\0/x\n", 61);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "profile \"w\" holds a NUL byte");
    aigw_cc_destroy(cc);

    /* a bad duration */
    cc = cc_start(AIGW_CC_FILE, "a");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile a]\nrole_arn = arn:x\n"
            "credential_source = Environment\nduration_seconds = 60\n");
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    aigw_cc_destroy(cc);
}


static void
test_credential_source(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /* Environment */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = Environment\n");

    if (CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com")) {
        CHECK(cc_contains(cc_header("Authorization"),
                          "Credential=AKIAENVKEY/20270115/us-east-1/sts/"));
    }

    CC_ANSWER(cc, 200, STS_OK(AKID2, SECRET2, TOKEN2, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID2, SECRET2, TOKEN2);
    aigw_cc_destroy(cc);

    /* EcsContainer */
    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds/x");
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = EcsContainer\n");
    CHECK(CC_HTTP(cc, "GET", "http://169.254.170.2/v2/creds/x"));
    CC_ANSWER(cc, 200, JSON_CREDS(AKID1, SECRET1, "Token", TOKEN1, CC_EXP));

    if (CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com")) {
        CHECK(cc_contains(cc_header("Authorization"),
                          "Credential=" AKID1 "/20270115/us-east-1/sts/"));
        CHECK_STR(cc_header("X-Amz-Security-Token"), TOKEN1);
    }

    CC_ANSWER(cc, 200, STS_OK(AKID2, SECRET2, TOKEN2, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID2, SECRET2, TOKEN2);
    aigw_cc_destroy(cc);

    /* Ec2InstanceMetadata: IMDS failing is an error, not "not found" */
    home();
    cc = cc_start(AIGW_CC_CHAIN, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = Ec2InstanceMetadata\n");
    CHECK(CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token"));
    CC_ANSWER(cc, 0, NULL);
    r = failed(cc);
    CHECK_EQ(r->not_found, 0);
    CHECK_CONTAINS(r->error, "connection refused");
    aigw_cc_destroy(cc);

    /* an unknown one */
    home();
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = Magic\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "credential_source");
    aigw_cc_destroy(cc);
}


static void
test_web_identity(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    home();
    cc_setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
    cc_setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/wi");
    cc_setenv("AWS_ROLE_SESSION_NAME", "pod 1");
    cc_setenv("AWS_DEFAULT_REGION", "ap-south-1");

    cc = cc_start(AIGW_CC_WEB_IDENTITY, NULL);
    CC_FILE(cc, "/var/run/token", 0, WEBTOKEN "\n");

    if (CC_HTTP(cc, "POST", "https://sts.ap-south-1.amazonaws.com")) {
        check_sts("https://sts.ap-south-1.amazonaws.com",
                  "sts.ap-south-1.amazonaws.com",
                  "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
                  "&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fwi"
                  "&RoleSessionName=pod+1&WebIdentityToken=" WEBTOKEN,
                  NULL, 0);
        CHECK_STR(cc_body(), STS_VEC_WI_BODY);
        CHECK_EQ(cc_act.http.timeout_ms, 10000);
    }

    CC_ANSWER(cc, 200, STS_OK(AKID1, SECRET1, TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);
    CHECK_EQ(r->expiration, CC_NOW + 3600);
    CHECK_EQ(r->source, AIGW_CC_WEB_IDENTITY);
    CHECK_STR(r->origin, "role arn:aws:iam::1:role/wi via web identity");
    aigw_cc_destroy(cc);

    /* STS's error: code and message, never the token */
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, "/var/run/token", 0, WEBTOKEN);
    CHECK(CC_HTTP(cc, "POST", "https://sts.ap-south-1.amazonaws.com"));
    CC_ANSWER(cc, 400,
              "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
              "2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n"
              "    <Code>InvalidIdentityToken</Code>\n"
              "    <Message>Token &quot;" WEBTOKEN "&quot; &amp; more "
              "&#x41;&#66;</Message>\n  </Error>\n"
              "  <RequestId>r</RequestId>\n</ErrorResponse>\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "HTTP 400 InvalidIdentityToken: Token \"");
    CHECK_CONTAINS(r->error, "\" & more AB");
    CHECK_CONTAINS(r->error, "https://sts.ap-south-1.amazonaws.com");
    CHECK_CONTAINS(r->error, "arn:aws:iam::1:role/wi");
    CHECK_EQ(r->not_found, 0);
    aigw_cc_destroy(cc);

    /* the token file is read each time; missing: an error */
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, "/var/run/token", ENOENT, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "/var/run/token");
    aigw_cc_destroy(cc);

    /* the endpoint given, else AWS_ENDPOINT_URL_STS */
    cc_setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:8999/sts");
    cc = cc_start(AIGW_CC_WEB_IDENTITY, NULL);
    CC_FILE(cc, "/var/run/token", 0, WEBTOKEN);

    if (CC_HTTP(cc, "POST", "http://127.0.0.1:8999/sts")) {
        CHECK_EQ(cc_act.http.tls, 0);
        CHECK_STR(cc_act.http.host, "127.0.0.1");
        CHECK_EQ(cc_act.http.port, 8999);
        CHECK_STR(cc_act.http.target, "/sts");
        CHECK_STR(cc_header("Host"), "127.0.0.1:8999");
    }

    CC_ANSWER(cc, 200, STS_OK(AKID1, SECRET1, TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);
    aigw_cc_destroy(cc);

    /* no role */
    home();
    cc_setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token");
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "AWS_ROLE_ARN");
    aigw_cc_destroy(cc);

    /* in a profile */
    home();
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\nrole_arn = arn:aws:iam::1:role/p\n"
            "web_identity_token_file = /t\nrole_session_name = s\n");
    CC_FILE(cc, "/t", 0, WEBTOKEN);

    if (CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com")) {
        CHECK_STR(cc_body(), "Action=AssumeRoleWithWebIdentity"
                  "&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3A"
                  "role%2Fp&RoleSessionName=s&WebIdentityToken=" WEBTOKEN);
    }

    CC_ANSWER(cc, 200, STS_OK(AKID1, SECRET1, TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);
    CHECK_EQ(r->source, AIGW_CC_FILE);
    aigw_cc_destroy(cc);
}


static void
test_process(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    home();
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\n"
            "credential_process = /usr/bin/creds --json\n");
    CC_PROCESS(cc, "/usr/bin/creds --json", 0,
               "{\"Version\": 1, \"AccessKeyId\": \"" AKID1 "\", "
               "\"SecretAccessKey\": \"" SECRET1 "\", \"SessionToken\": \""
               TOKEN1 "\", \"Expiration\": \"2027-01-15T10:00:00+01:00\"}");
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);
    CHECK_EQ(r->expiration, CC_NOW + 3600);
    CHECK_STR(r->origin, "credential_process of profile \"default\"");
    aigw_cc_destroy(cc);

    /* no token, no expiration */
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", 0, "{\"Version\": 1, \"AccessKeyId\": \""
               AKID1 "\", \"SecretAccessKey\": \"" SECRET1 "\"}\n");
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, "");
    CHECK_EQ(r->expiration, 0);
    aigw_cc_destroy(cc);

    /* null: absent */
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", 0, "{\"Version\": 1, \"AccessKeyId\": \""
               AKID1 "\", \"SecretAccessKey\": \"" SECRET1 "\", "
               "\"SessionToken\": null, \"Expiration\": null}");
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, "");
    aigw_cc_destroy(cc);

    /* exit status; the output is never in the error */
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", 2, SECRET1);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "exited with status 2");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", -1, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "timed out");
    aigw_cc_destroy(cc);

    /* bad JSON, version, expired */
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", 0, "{\"Version\": 1, \"AccessKeyId\": \"" SECRET1);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "not a JSON object");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", 0, "{\"Version\": 2, \"AccessKeyId\": \""
               AKID1 "\", \"SecretAccessKey\": \"" SECRET1 "\"}");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "Version");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", 0, "{\"Version\": 1, \"AccessKeyId\": \""
               AKID1 "\", \"SecretAccessKey\": \"" SECRET1 "\", "
               "\"Expiration\": \"2027-01-15T08:00:04Z\"}");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "expired");
    aigw_cc_destroy(cc);

    /* a key id that is not one */
    cc = cc_start(AIGW_CC_FILE, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
    CC_PROCESS(cc, "c", 0, "{\"Version\": 1, \"AccessKeyId\": \"akid\", "
               "\"SecretAccessKey\": \"" SECRET1 "\"}");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "access key id");
    aigw_cc_destroy(cc);
}


static void
test_ecs(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "/v2/credentials/1?a=b");
    cc_setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", ECSTOKEN);

    cc = cc_start(AIGW_CC_ECS, NULL);

    if (CC_HTTP(cc, "GET", "http://169.254.170.2/v2/credentials/1?a=b")) {
        CHECK_STR(cc_act.http.host, "169.254.170.2");
        CHECK_EQ(cc_act.http.port, 80);
        CHECK_EQ(cc_act.http.tls, 0);
        CHECK_STR(cc_act.http.target, "/v2/credentials/1?a=b");
        CHECK_STR(cc_header("Host"), "169.254.170.2");
        CHECK_STR(cc_header("Authorization"), ECSTOKEN);
        CHECK_EQ(cc_act.http.timeout_ms, 2000);
        CHECK(cc_act.http.body == NULL);
    }

    CC_ANSWER(cc, 200, JSON_CREDS(AKID1, SECRET1, "Token", TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);
    CHECK_EQ(r->expiration, CC_NOW + 3600);
    CHECK_EQ(r->source, AIGW_CC_ECS);
    CHECK_STR(r->origin, "container endpoint");
    aigw_cc_destroy(cc);

    /* the SDKs' four fields are required */
    cc = cc_start(AIGW_CC_ECS, NULL);
    CHECK(CC_STEP(cc, AIGW_CC_HTTP));
    CC_ANSWER(cc, 200, "{\"AccessKeyId\": \"" AKID1 "\", "
              "\"SecretAccessKey\": \"" SECRET1 "\", \"Token\": \"" TOKEN1
              "\"}");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "Expiration is missing");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_ECS, NULL);
    CHECK(CC_STEP(cc, AIGW_CC_HTTP));
    CC_ANSWER(cc, 200, "{\"AccessKeyId\": \"" AKID1 "\", "
              "\"SecretAccessKey\": \"" SECRET1 "\", \"Token\": null, "
              "\"Expiration\": \"" CC_EXP "\"}");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "Token is not a string");
    aigw_cc_destroy(cc);

    /* an error status */
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    CHECK(CC_HTTP(cc, "GET", "http://169.254.170.2/v2/credentials/1?a=b"));
    CC_ANSWER(cc, 500, "oops");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "HTTP 500");
    CHECK_CONTAINS(r->error, "http://169.254.170.2/v2/credentials/1?a=b");
    CHECK_EQ(r->not_found, 0);
    aigw_cc_destroy(cc);
}


static void
test_imds(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    home();
    cc = cc_start(AIGW_CC_IMDS, NULL);

    if (CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token")) {
        CHECK_STR(cc_act.http.host, "169.254.169.254");
        CHECK_EQ(cc_act.http.port, 80);
        CHECK_STR(cc_act.http.target, "/latest/api/token");
        CHECK_STR(cc_header("x-aws-ec2-metadata-token-ttl-seconds"),
                  "21600");
        CHECK(cc_header("x-aws-ec2-metadata-token") == NULL);
        CHECK_EQ(cc_act.http.timeout_ms, 1000);
        CHECK(cc_act.http.body != NULL && cc_act.http.body_len == 0);
    }

    CC_ANSWER(cc, 200, IMDSTOKEN);

    if (CC_HTTP(cc, "GET", "http://169.254.169.254/latest/meta-data/iam/"
                "security-credentials/"))
    {
        CHECK_STR(cc_header("x-aws-ec2-metadata-token"), IMDSTOKEN);
        CHECK(cc_header("x-aws-ec2-metadata-token-ttl-seconds") == NULL);
    }

    CC_ANSWER(cc, 200, "my-role\nother\n");

    if (CC_HTTP(cc, "GET", "http://169.254.169.254/latest/meta-data/iam/"
                "security-credentials/my-role"))
    {
        CHECK_STR(cc_header("x-aws-ec2-metadata-token"), IMDSTOKEN);
        CHECK_STR(cc_act.http.target,
                  "/latest/meta-data/iam/security-credentials/my-role");
    }

    CC_ANSWER(cc, 200, IMDS_CREDS(AKID1, SECRET1, TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);
    CHECK_EQ(r->source, AIGW_CC_IMDS);
    CHECK_STR(r->origin, "instance profile \"my-role\"");
    aigw_cc_destroy(cc);

    /* no token (401): no IMDSv1 */
    cc = cc_start(AIGW_CC_IMDS, NULL);
    CHECK(CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token"));
    CC_ANSWER(cc, 401, "");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "HTTP 401");
    CHECK_EQ(r->not_found, 0);
    aigw_cc_destroy(cc);

    /* the same in a chain: nothing found */
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\nregion = eu-west-1\n");
    CHECK(CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token"));
    CC_ANSWER(cc, 401, "");
    r = failed(cc);
    CHECK_EQ(r->not_found, 1);
    CHECK_CONTAINS(r->error, "no AWS credentials found");
    CHECK_CONTAINS(r->error, "AWS_ACCESS_KEY_ID");
    CHECK_CONTAINS(r->error, "AWS_WEB_IDENTITY_TOKEN_FILE");
    CHECK_CONTAINS(r->error, HOME_CONFIG);
    CHECK_CONTAINS(r->error, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    CHECK_CONTAINS(r->error, "HTTP 401");
    aigw_cc_destroy(cc);

    /* Code not Success */
    cc = cc_start(AIGW_CC_IMDS, NULL);
    CHECK(CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token"));
    CC_ANSWER(cc, 200, IMDSTOKEN);
    CHECK(CC_HTTP(cc, "GET", "http://169.254.169.254/latest/meta-data/iam/"
                  "security-credentials/"));
    CC_ANSWER(cc, 200, "r");
    CHECK(CC_HTTP(cc, "GET", "http://169.254.169.254/latest/meta-data/iam/"
                  "security-credentials/r"));
    CC_ANSWER(cc, 200, "{\"Code\": \"AssumeRoleUnauthorizedAccess\"}");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "Success");
    aigw_cc_destroy(cc);

    /* disabled */
    home();
    cc_setenv("AWS_EC2_METADATA_DISABLED", "TRUE");
    cc = cc_start(AIGW_CC_IMDS, NULL);
    r = failed(cc);
    CHECK_EQ(r->not_found, 1);
    CHECK_CONTAINS(r->error, "AWS_EC2_METADATA_DISABLED");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    r = failed(cc);
    CHECK_EQ(r->not_found, 1);
    CHECK_CONTAINS(r->error, "no AWS credentials found");
    aigw_cc_destroy(cc);

    /* moved */
    home();
    cc_setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1338/");
    cc = cc_start(AIGW_CC_IMDS, NULL);

    if (CC_HTTP(cc, "PUT", "http://127.0.0.1:1338/latest/api/token")) {
        CHECK_STR(cc_act.http.host, "127.0.0.1");
        CHECK_EQ(cc_act.http.port, 1338);
        CHECK_STR(cc_header("Host"), "127.0.0.1:1338");
    }

    CC_ANSWER(cc, 200, IMDSTOKEN);
    CHECK(CC_HTTP(cc, "GET", "http://127.0.0.1:1338/latest/meta-data/iam/"
                  "security-credentials/"));
    aigw_cc_destroy(cc);

    home();
    cc_setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");
    cc = cc_start(AIGW_CC_IMDS, NULL);

    if (CC_HTTP(cc, "PUT", "http://[fd00:ec2::254]/latest/api/token")) {
        CHECK_STR(cc_act.http.host, "fd00:ec2::254");
        CHECK_STR(cc_header("Host"), "[fd00:ec2::254]");
    }

    aigw_cc_destroy(cc);
}


static void
test_chain_order(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /* everything configured: env first */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc_setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/wi");
    cc_setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/wi");
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c");
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    r = cc_done(cc);
    CHECK_EQ(r->source, AIGW_CC_ENV);
    aigw_cc_destroy(cc);

    /* then web identity */
    home();
    cc_setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/wi");
    cc_setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/wi");
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c");
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, "/wi", 0, WEBTOKEN);
    CHECK(CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com"));
    CC_ANSWER(cc, 200, STS_OK(AKID1, SECRET1, TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_EQ(r->source, AIGW_CC_WEB_IDENTITY);
    aigw_cc_destroy(cc);

    /* then the files */
    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c");
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, 0, "[default]\naws_access_key_id = AKIAF\n"
            "aws_secret_access_key = " SECRET2 "\n");
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    r = cc_done(cc);
    CHECK_EQ(r->source, AIGW_CC_FILE);
    CHECK_CREDS(r, "AKIAF", SECRET2, "");
    aigw_cc_destroy(cc);

    /* then the container */
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[default]\nregion = eu-west-1\n");
    CHECK(CC_HTTP(cc, "GET", "http://169.254.170.2/c"));
    CC_ANSWER(cc, 200, JSON_CREDS(AKID1, SECRET1, "Token", TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_EQ(r->source, AIGW_CC_ECS);
    aigw_cc_destroy(cc);

    /* then IMDS */
    home();
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    CHECK(CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token"));
    CC_ANSWER(cc, 200, IMDSTOKEN);
    CHECK(CC_HTTP(cc, "GET", "http://169.254.169.254/latest/meta-data/iam/"
                  "security-credentials/"));
    CC_ANSWER(cc, 200, "role");
    CHECK(CC_HTTP(cc, "GET", "http://169.254.169.254/latest/meta-data/iam/"
                  "security-credentials/role"));
    CC_ANSWER(cc, 200, IMDS_CREDS(AKID1, SECRET1, TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_EQ(r->source, AIGW_CC_IMDS);
    CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);
    aigw_cc_destroy(cc);

    /* an explicit profile that is not there ends it */
    home();
    cc_setenv("AWS_PROFILE", "nope");
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    r = failed(cc);
    CHECK_EQ(r->not_found, 0);
    CHECK_CONTAINS(r->error, "profile \"nope\"");
    aigw_cc_destroy(cc);
}


static void
test_misc(void)
{
    const char *const  *names;
    int                 i, found;

    CHECK_EQ(aigw_cc_refresh_at(1000, 0), 0);
    CHECK_EQ(aigw_cc_refresh_at(1000, 1000 + 3600), 1000 + 3600 - 300);
    CHECK_EQ(aigw_cc_refresh_at(1000, 1000 + 300), 1000 + 150);
    CHECK_EQ(aigw_cc_refresh_at(1000, 1000 + 601), 1000 + 601 - 300);
    CHECK_EQ(aigw_cc_refresh_at(1000, 900), 900);

    CHECK_EQ(aigw_cc_source("chain", 5), AIGW_CC_CHAIN);
    CHECK_EQ(aigw_cc_source("web_identity", 12), AIGW_CC_WEB_IDENTITY);
    CHECK_EQ(aigw_cc_source("static", 6), AIGW_CC_STATIC);
    CHECK_EQ(aigw_cc_source("imdsv1", 6), -1);
    CHECK_EQ(aigw_cc_source("ima", 2), -1);
    CHECK_STR(aigw_cc_source_name(AIGW_CC_ECS), "ecs");

    names = aigw_cc_env_names(AIGW_CC_ENV);
    CHECK_STR(names[0], "AWS_ACCESS_KEY_ID");
    CHECK(aigw_cc_env_names(AIGW_CC_STATIC)[0] == NULL);

    /* the chain's: the union of the others' */
    for (i = AIGW_CC_ENV; i <= AIGW_CC_IMDS; i++) {
        for (names = aigw_cc_env_names(i); *names; names++) {
            const char *const  *all;

            found = 0;

            for (all = aigw_cc_env_names(AIGW_CC_CHAIN); *all; all++) {
                found |= strcmp(*all, *names) == 0;
            }

            if (!CHECK(found)) {
                fprintf(stderr, "    %s\n", *names);
            }
        }
    }
}


static void
test_time(void)
{
#define T(s)  aigw_cc_parse_time(s, strlen(s))

    CHECK_EQ(T("2027-01-15T08:00:00Z"), CC_NOW);
    CHECK_EQ(T("2027-01-15T08:00:00.123456Z"), CC_NOW);
    CHECK_EQ(T("2027-01-15T08:00:00+00:00"), CC_NOW);
    CHECK_EQ(T("2027-01-15T09:30:00+01:30"), CC_NOW);
    CHECK_EQ(T("2027-01-15T03:00:00-0500"), CC_NOW);
    CHECK_EQ(T("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ(T("2024-02-29T00:00:00Z"), 1709164800);
    CHECK_EQ(T("2000-03-01T00:00:00Z"), 951868800);
    CHECK_EQ(T("2027-01-15t08:00:00z"), CC_NOW);

    CHECK_EQ(T(""), -1);
    CHECK_EQ(T("2027-01-15T08:00:00"), -1);
    CHECK_EQ(T("2027-01-15 08:00:00Z"), -1);
    CHECK_EQ(T("2027-01-15T08:00:00ZZ"), -1);
    CHECK_EQ(T("2027-01-15T08:00:00.Z"), -1);
    CHECK_EQ(T("2027-13-15T08:00:00Z"), -1);
    CHECK_EQ(T("2023-02-29T08:00:00Z"), -1);
    CHECK_EQ(T("2027-01-15T24:00:00Z"), -1);
    CHECK_EQ(T("2027-01-15T08:60:00Z"), -1);
    CHECK_EQ(T("2027-01-15T08:00:00+24:00"), -1);
    CHECK_EQ(T("1969-12-31T23:59:59Z"), -1);
    CHECK_EQ(T("1970-01-01T00:00:00+01:00"), -1);
    CHECK_EQ(T("+027-01-15T08:00:00Z"), -1);
    CHECK_EQ(T("2027-01-15T08:00:00Z\n"), -1);
    CHECK_EQ(aigw_cc_parse_time("2027-01-15T08:00:00Z", 19), -1);

#undef T
}


/* a FULL_URI: "ok" whether it is fetched (host, port, tls, Host) */
static void
ecs_full(const char *uri, int ok, const char *host, unsigned port, int tls,
    const char *hosthdr, const char *target)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri);
    cc = cc_start(AIGW_CC_ECS, NULL);

    if (ok) {
        if (CC_HTTP(cc, "GET", uri)) {
            CHECK_STR(cc_act.http.host, host);
            CHECK_EQ(cc_act.http.port, port);
            CHECK_EQ(cc_act.http.tls, tls);
            CHECK_STR(cc_header("Host"), hosthdr);
            CHECK_STR(cc_act.http.target, target);
            CHECK(cc_header("Authorization") == NULL);
        } else {
            fprintf(stderr, "    %s\n", uri);
        }

        CC_ANSWER(cc, 200, JSON_CREDS(AKID1, SECRET1, "Token", TOKEN1,
                                      CC_EXP));
        r = cc_done(cc);
        CHECK_CREDS(r, AKID1, SECRET1, TOKEN1);

    } else {
        r = failed(cc);

        if (!CHECK(cc_contains(r->error, "container credentials URL"))) {
            fprintf(stderr, "    %s: %s\n", uri, r->error);
        }
    }

    aigw_cc_destroy(cc);
}


static void
test_ecs_hosts(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    ecs_full("http://127.0.0.1:8080/creds", 1, "127.0.0.1", 8080, 0,
             "127.0.0.1:8080", "/creds");
    ecs_full("http://127.5.6.7/creds?id=1", 1, "127.5.6.7", 80, 0,
             "127.5.6.7", "/creds?id=1");
    ecs_full("http://localhost/x", 1, "localhost", 80, 0, "localhost", "/x");
    ecs_full("http://LOCALHOST:80/x", 1, "LOCALHOST", 80, 0, "LOCALHOST",
             "/x");
    ecs_full("http://[::1]:9/x", 1, "::1", 9, 0, "[::1]:9", "/x");
    ecs_full("http://169.254.170.2/v2/credentials/abc", 1, "169.254.170.2",
             80, 0, "169.254.170.2", "/v2/credentials/abc");
    ecs_full("http://169.254.170.23/v1/credentials", 1, "169.254.170.23",
             80, 0, "169.254.170.23", "/v1/credentials");
    ecs_full("http://[fd00:ec2::23]/v1/credentials", 1, "fd00:ec2::23", 80,
             0, "[fd00:ec2::23]", "/v1/credentials");
    ecs_full("http://[fd00:0ec2:0::23]/v1", 1, "fd00:0ec2:0::23", 80, 0,
             "[fd00:0ec2:0::23]", "/v1");
    ecs_full("https://creds.example.com/x", 1, "creds.example.com", 443, 1,
             "creds.example.com", "/x");
    ecs_full("https://creds.example.com:8443", 1, "creds.example.com", 8443,
             1, "creds.example.com:8443", "/");
    ecs_full("HTTPS://10.0.0.1/x", 1, "10.0.0.1", 443, 1, "10.0.0.1", "/x");

    /* plain http elsewhere: refused */
    ecs_full("http://169.254.169.254/latest/meta-data/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://example.com/creds", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1.evil.example/creds", 0, 0, 0, 0, 0, 0);
    ecs_full("http://localhost.evil.example/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://[fd00:ec2::24]/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://[::2]/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://10.0.0.1/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://2130706433/", 0, 0, 0, 0, 0, 0);

    /* not URLs */
    ecs_full("http://user@127.0.0.1/", 0, 0, 0, 0, 0, 0);
    ecs_full("ftp://127.0.0.1/", 0, 0, 0, 0, 0, 0);
    ecs_full("127.0.0.1/creds", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1/a b", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1/a\r\nX-Evil: 1", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1:0/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1:99999/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1:/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1:8x/", 0, 0, 0, 0, 0, 0);
    ecs_full("http:///creds", 0, 0, 0, 0, 0, 0);
    ecs_full("http://[::1/", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1/x#frag", 0, 0, 0, 0, 0, 0);
    ecs_full("http://127.0.0.1\xc3\xa9/", 0, 0, 0, 0, 0, 0);

    /* the relative URI wins; it must be a path */
    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/f");
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/r");
    cc = cc_start(AIGW_CC_ECS, NULL);
    CHECK(CC_HTTP(cc, "GET", "http://169.254.170.2/r"));
    aigw_cc_destroy(cc);

    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "@evil.example/r");
    cc = cc_start(AIGW_CC_ECS, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "RELATIVE_URI");
    aigw_cc_destroy(cc);

    /* none set */
    home();
    cc = cc_start(AIGW_CC_ECS, NULL);
    r = failed(cc);
    CHECK_EQ(r->not_found, 1);
    aigw_cc_destroy(cc);
}


static void
test_ecs_token_file(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
              "http://169.254.170.23/v1/credentials");
    cc_setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
              "/var/run/secrets/pods.eks.amazonaws.com/token");
    cc_setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "not-this-one");

    /* read at each resolution: a rotated token is used */
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, ENOENT, NULL);
    CC_FILE(cc, "/var/run/secrets/pods.eks.amazonaws.com/token", 0,
            ECSTOKEN);

    if (CC_HTTP(cc, "GET", "http://169.254.170.23/v1/credentials")) {
        CHECK_STR(cc_header("Authorization"), ECSTOKEN);
    }

    CC_ANSWER(cc, 200, JSON_CREDS(AKID1, SECRET1, "Token", TOKEN1, CC_EXP));
    r = cc_done(cc);
    CHECK_EQ(r->source, AIGW_CC_ECS);
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_ECS, NULL);
    CC_FILE(cc, "/var/run/secrets/pods.eks.amazonaws.com/token", 0,
            "Bearer rotated-2");

    if (CC_HTTP(cc, "GET", "http://169.254.170.23/v1/credentials")) {
        CHECK_STR(cc_header("Authorization"), "Bearer rotated-2");
    }

    CC_ANSWER(cc, 200, JSON_CREDS(AKID2, SECRET2, "Token", TOKEN2, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID2, SECRET2, TOKEN2);
    aigw_cc_destroy(cc);

    /* a line break: an error that does not show the token */
    cc = cc_start(AIGW_CC_ECS, NULL);
    CC_FILE(cc, "/var/run/secrets/pods.eks.amazonaws.com/token", 0,
            ECSTOKEN "\r\nX-Evil: 1");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "line break");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_ECS, NULL);
    CC_FILE(cc, "/var/run/secrets/pods.eks.amazonaws.com/token", 0,
            ECSTOKEN "\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "line break");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_ECS, NULL);
    CC_FILE(cc, "/var/run/secrets/pods.eks.amazonaws.com/token", 0,
            ECSTOKEN "\x01");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "not printable");
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_ECS, NULL);
    CC_FILE(cc, "/var/run/secrets/pods.eks.amazonaws.com/token", ENOENT,
            NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "/var/run/secrets/pods.eks.amazonaws.com/token");
    aigw_cc_destroy(cc);

    /* the variable's token, with a line break */
    home();
    cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c");
    cc_setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", ECSTOKEN "\nX: 1");
    cc = cc_start(AIGW_CC_ECS, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "line break");
    aigw_cc_destroy(cc);
}


/* an STS answer to a web identity resolution */
static const aigw_cc_result_t *
wi_answer(aigw_cc_t **cc, int status, const char *body)
{
    home();
    cc_setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/t");
    cc_setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/wi");
    *cc = cc_start(AIGW_CC_WEB_IDENTITY, NULL);
    CC_FILE(*cc, "/t", 0, WEBTOKEN);
    CHECK(CC_HTTP(*cc, "POST", "https://sts.us-east-1.amazonaws.com"));
    CC_ANSWER(*cc, status, body);
    aigw_cc_next(*cc, CC_NOW, &cc_act);

    if (cc_act.step == AIGW_CC_FAILED) {
        check_no_secret(aigw_cc_result(*cc));
    }

    return aigw_cc_result(*cc);
}


#define WI_FAILS(status, body, what)                                          \
    do {                                                                      \
        r = wi_answer(&cc, status, body);                                     \
        CHECK_EQ(cc_act.step, AIGW_CC_FAILED);                                \
        CHECK_CONTAINS(r->error, what);                                       \
        aigw_cc_destroy(cc);                                                  \
    } while (0)


static void
test_sts_answers(void)
{
    char                    *big;
    size_t                   n;
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /* peers' values that would break a header line */
    WI_FAILS(200, STS_OK("ASIA&#13;&#10;X-Evil:1AAAAA", SECRET1, TOKEN1,
                         CC_EXP), "access key id");
    WI_FAILS(200, STS_OK(AKID1, "se cret", TOKEN1, CC_EXP),
             "secret access key");
    WI_FAILS(200, STS_OK(AKID1, SECRET1, "tok&#10;en", CC_EXP),
             "session token");
    WI_FAILS(200, STS_OK(AKID1, SECRET1, "tok\ten", CC_EXP),
             "session token");
    WI_FAILS(200, STS_OK(AKID1, SECRET1, "tok&#xe9;en", CC_EXP),
             "session token");
    WI_FAILS(200, STS_OK("asiaaaaaaaaaaaaaaaaa", SECRET1, TOKEN1, CC_EXP),
             "access key id");
    WI_FAILS(200, STS_OK("ASIASHORT", SECRET1, TOKEN1, CC_EXP),
             "access key id");

    /* entities decoded: a secret with "&" and "<" */
    r = wi_answer(&cc, 200, STS_OK(AKID1, "a&amp;b&lt;c&#x2F;d&#43;", TOKEN1,
                                   CC_EXP));
    CHECK_EQ(cc_act.step, AIGW_CC_DONE);
    CHECK_MEM(r->creds.secret_key.data, r->creds.secret_key.len, "a&b<c/d+",
              8);
    aigw_cc_destroy(cc);

    /* missing, malformed, expired */
    WI_FAILS(200, "<AssumeRoleWithWebIdentityResponse/>", "missing");
    WI_FAILS(200, "", "AccessKeyId is missing");
    WI_FAILS(200, STS_OK(AKID1, SECRET1, "a&bogus;b", CC_EXP), "malformed");
    WI_FAILS(200, STS_OK(AKID1, SECRET1, TOKEN1, "tomorrow"),
             "expiration is not a time");
    WI_FAILS(200, STS_OK(AKID1, SECRET1, TOKEN1, "2027-01-15T07:59:59Z"),
             "expired");
    /* within the margin */
    WI_FAILS(200, STS_OK(AKID1, SECRET1, TOKEN1, "2027-01-15T08:00:05Z"),
             "expired");
    r = wi_answer(&cc, 200, STS_OK(AKID1, SECRET1, TOKEN1,
                                   "2027-01-15T08:00:06Z"));
    CHECK_EQ(cc_act.step, AIGW_CC_DONE);
    CHECK_EQ(r->expiration, CC_NOW + 6);
    aigw_cc_destroy(cc);

    /* errors: the status, STS's code and message, cleaned */
    WI_FAILS(403, "<ErrorResponse><Error><Code>AccessDenied</Code>"
             "<Message>Not authorized to perform sts:AssumeRoleWith"
             "WebIdentity</Message></Error></ErrorResponse>",
             "HTTP 403 AccessDenied: Not authorized to perform "
             "sts:AssumeRoleWithWebIdentity");
    WI_FAILS(503, "<html>busy</html>", "HTTP 503");
    WI_FAILS(400, "<ErrorResponse><Error><Code>Bad&#10;Code</Code>"
             "<Message>line1\r\nline2\x01</Message></Error></ErrorResponse>",
             "HTTP 400 Bad?Code: line1??line2?");
    WI_FAILS(0, NULL, "connection refused");

    /* a message that echoes the web identity token */
    WI_FAILS(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
             "<Message>bad token " WEBTOKEN "</Message></Error>"
             "</ErrorResponse>", "bad token ****");

    /* huge: a token of AIGW_CC_TOKEN_MAX bytes passes, one more does not */
    big = malloc(3 * AIGW_CC_TOKEN_MAX);

    if (big) {
        n = (size_t) sprintf(big, "<R><Credentials><AccessKeyId>" AKID1
                             "</AccessKeyId><SecretAccessKey>" SECRET1
                             "</SecretAccessKey><Expiration>" CC_EXP
                             "</Expiration><SessionToken>");
        memset(big + n, 'T', AIGW_CC_TOKEN_MAX);
        strcpy(big + n + AIGW_CC_TOKEN_MAX,
               "</SessionToken></Credentials></R>");

        r = wi_answer(&cc, 200, big);
        CHECK_EQ(cc_act.step, AIGW_CC_DONE);
        CHECK_EQ_SIZE(r->creds.session_token.len, AIGW_CC_TOKEN_MAX);
        aigw_cc_destroy(cc);

        memset(big + n, 'T', AIGW_CC_TOKEN_MAX + 1);
        strcpy(big + n + AIGW_CC_TOKEN_MAX + 1,
               "</SessionToken></Credentials></R>");
        WI_FAILS(200, big, "SessionToken is too long");

        free(big);
    }

    /* a body over AIGW_CC_BODY_MAX is cut there: the end is missing */
    big = malloc(AIGW_CC_BODY_MAX + 2048);

    if (big) {
        n = (size_t) sprintf(big, "<R><Credentials><AccessKeyId>" AKID1
                             "</AccessKeyId><SecretAccessKey>" SECRET1
                             "</SecretAccessKey><Expiration>" CC_EXP
                             "</Expiration><!--");
        memset(big + n, ' ', AIGW_CC_BODY_MAX);
        strcpy(big + n + AIGW_CC_BODY_MAX, "--><SessionToken>" TOKEN1
               "</SessionToken></Credentials></R>");
        WI_FAILS(200, big, "HTTP 200 but AccessKeyId is too long or "
                 "malformed");
        free(big);
    }
}


static void
test_imds_answers(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    struct {
        const char  *token;
        const char  *roles;
        const char  *creds;
        const char  *error;
    } cases[] = {
        { IMDSTOKEN "\r\nX-Evil: 1", NULL, NULL, "token" },
        { "to ken", NULL, NULL, "token" },
        { "", NULL, NULL, "token" },
        { IMDSTOKEN, "../../../user-data", NULL, "no instance profile" },
        { IMDSTOKEN, "role\r\nX-Evil: 1", NULL, NULL },
        { IMDSTOKEN, "ro le", NULL, "no instance profile" },
        { IMDSTOKEN, "", NULL, "no instance profile" },
        { IMDSTOKEN,
          "r123456789012345678901234567890123456789012345678901234567890123"
          "45", NULL, "no instance profile" },
        { IMDSTOKEN, "role", "not json", "not a JSON object" },
        { IMDSTOKEN, "role", "{\"Code\": \"Success\", \"AccessKeyId\": \""
          AKID1 "\", \"SecretAccessKey\": \"" SECRET1 "\", \"Token\": "
          "\"a\\r\\nX-Evil: 1\", \"Expiration\": \"" CC_EXP "\"}",
          "session token" },
        { IMDSTOKEN, "role", "{\"Code\": \"Success\", \"AccessKeyId\": \""
          AKID1 "\", \"SecretAccessKey\": \"" SECRET1 "\", \"Token\": \""
          TOKEN1 "\"}", "Expiration is missing" },
        { IMDSTOKEN, "role", "{\"Code\": \"Success\", \"AccessKeyId\": 7, "
          "\"SecretAccessKey\": \"" SECRET1 "\"}", "not a string" },
        { IMDSTOKEN, "role", IMDS_CREDS(AKID1, SECRET1, TOKEN1,
                                        "2027-01-15T07:00:00Z"), "expired" },
    };

    size_t  i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        home();
        cc = cc_start(AIGW_CC_IMDS, NULL);
        CHECK(CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token"));
        CC_ANSWER(cc, 200, cases[i].token);

        if (cases[i].roles) {
            CHECK(CC_HTTP(cc, "GET", "http://169.254.169.254/latest/"
                          "meta-data/iam/security-credentials/"));
            CC_ANSWER(cc, 200, cases[i].roles);
        }

        if (cases[i].creds) {
            CHECK(CC_STEP(cc, AIGW_CC_HTTP));
            CC_ANSWER(cc, 200, cases[i].creds);
        }

        if (cases[i].error == NULL) {
            /* "role\r\n...": the first line is the role, cleanly */
            if (CC_HTTP(cc, "GET", "http://169.254.169.254/latest/meta-data"
                        "/iam/security-credentials/role"))
            {
                CHECK_STR(cc_act.http.target, "/latest/meta-data/iam/"
                          "security-credentials/role");
            }

            aigw_cc_destroy(cc);
            continue;
        }

        r = failed(cc);

        if (!CHECK(cc_contains(r->error, cases[i].error))) {
            fprintf(stderr, "    case %zu: %s\n", i, r->error);
        }

        aigw_cc_destroy(cc);
    }
}


static void
test_signing_input(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /* a region that would break the Authorization header, any endpoint */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc_setenv("AWS_REGION", "us-east-1\r\nX-Evil: 1");
    cc_setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.com");
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = Environment\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "region \"us-east-1??X-Evil: 1\"");
    aigw_cc_destroy(cc);

    /* an endpoint that is not a URL */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc_setenv("AWS_ENDPOINT_URL_STS", "https://sts.example.com\r\nX: 1");
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = Environment\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "not a valid URL");
    CHECK(strchr(r->error, '\r') == NULL);
    aigw_cc_destroy(cc);

    /* a bad duration */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = Environment\n"
            "duration_seconds = 60\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "duration_seconds \"60\"");
    aigw_cc_destroy(cc);

    /* an STS error names the role, the URL, STS's words; not the keys */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc_setenv("AWS_SESSION_TOKEN", TOKEN1);
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\ncredential_source = Environment\n");

    if (CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com")) {
        CHECK_STR(cc_header("X-Amz-Security-Token"), TOKEN1);
    }

    CC_ANSWER(cc, 403, "<ErrorResponse><Error><Code>SignatureDoesNotMatch"
              "</Code><Message>The request signature we calculated does not "
              "match. The String-to-Sign should have been " SECRET1 " "
              TOKEN1 "</Message></Error></ErrorResponse>");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "AssumeRole of role arn:aws:iam::1:role/r at "
                   "https://sts.us-east-1.amazonaws.com: HTTP 403 "
                   "SignatureDoesNotMatch: The request signature");
    aigw_cc_destroy(cc);
}


static void
test_protocol(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /* an action not answered, or answered with another kind */
    home();
    cc = cc_start(AIGW_CC_FILE, NULL);
    CHECK(CC_STEP(cc, AIGW_CC_READ_FILE));
    r = failed(cc);
    CHECK_CONTAINS(r->error, "not given the result");
    /* FAILED stays FAILED */
    r = failed(cc);
    aigw_cc_destroy(cc);

    cc = cc_start(AIGW_CC_FILE, NULL);
    CHECK(CC_STEP(cc, AIGW_CC_READ_FILE));
    CC_ANSWER(cc, 200, "x");
    r = failed(cc);
    aigw_cc_destroy(cc);

    /* DONE stays DONE */
    home();
    cc_setenv("AWS_ACCESS_KEY_ID", "AKIAENVKEY");
    cc_setenv("AWS_SECRET_ACCESS_KEY", SECRET1);
    cc = cc_start(AIGW_CC_ENV, NULL);
    r = cc_done(cc);
    r = cc_done(cc);
    CHECK_CREDS(r, "AKIAENVKEY", SECRET1, "");
    aigw_cc_destroy(cc);

    /* a file over AIGW_CC_FILE_MAX */
    home();
    cc = cc_start(AIGW_CC_FILE, NULL);
    CHECK(CC_STEP(cc, AIGW_CC_READ_FILE));
    aigw_cc_file_done(cc, EFBIG, NULL, 0);
    r = failed(cc);
    CHECK_CONTAINS(r->error, HOME_CREDS);
    aigw_cc_destroy(cc);

    /* a file of AIGW_CC_FILE_MAX bytes is read; one more is not */
    {
        char    *big;
        size_t   n;

        big = malloc(AIGW_CC_FILE_MAX + 2);

        if (CHECK(big != NULL)) {
            n = (size_t) sprintf(big, "[default]\naws_access_key_id = "
                                 "AKIABIG\naws_secret_access_key = "
                                 SECRET1 "\n#");
            memset(big + n, 'x', AIGW_CC_FILE_MAX + 1 - n);
            big[AIGW_CC_FILE_MAX + 1] = '\0';

            home();
            cc = cc_start(AIGW_CC_FILE, NULL);
            CHECK(CC_STEP(cc, AIGW_CC_READ_FILE));
            aigw_cc_file_done(cc, 0, big, AIGW_CC_FILE_MAX);
            CHECK(CC_STEP(cc, AIGW_CC_READ_FILE));
            aigw_cc_file_done(cc, 0, big, AIGW_CC_FILE_MAX);
            r = cc_done(cc);
            CHECK_CREDS(r, "AKIABIG", SECRET1, "");
            aigw_cc_destroy(cc);

            cc = cc_start(AIGW_CC_FILE, NULL);
            CHECK(CC_STEP(cc, AIGW_CC_READ_FILE));
            aigw_cc_file_done(cc, 0, big, AIGW_CC_FILE_MAX + 1);
            r = failed(cc);
            CHECK_CONTAINS(r->error, "larger than 1048576 bytes");
            aigw_cc_destroy(cc);

            free(big);
        }
    }

    /* no HOME: the file source has nothing; the chain goes on */
    cc_reset_env();
    cc = cc_start(AIGW_CC_FILE, NULL);
    r = failed(cc);
    CHECK_EQ(r->not_found, 1);
    CHECK_CONTAINS(r->error, "HOME");
    aigw_cc_destroy(cc);

    cc_reset_env();
    cc = cc_start(AIGW_CC_CHAIN, NULL);
    CHECK(CC_HTTP(cc, "PUT", "http://169.254.169.254/latest/api/token"));
    aigw_cc_destroy(cc);

    /* HOME given in the conf */
    {
        aigw_cc_conf_t  conf;

        memset(&conf, 0, sizeof(conf));
        conf.source = AIGW_CC_FILE;
        conf.home = "/srv/aigw";
        cc = aigw_cc_create(&conf);
        CC_FILE(cc, "/srv/aigw/.aws/credentials", ENOENT, NULL);
        CC_FILE(cc, "/srv/aigw/.aws/config", ENOENT, NULL);
        r = failed(cc);
        aigw_cc_destroy(cc);

        /* the conf's region and STS endpoint win */
        conf.source = AIGW_CC_WEB_IDENTITY;
        conf.region = "eu-central-1";
        conf.sts_endpoint = "https://sts.example.internal:444/base";
        conf.getenv = cc_getenv;
        conf.env_data = &cc_env;
        home();
        cc_setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/t");
        cc_setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/wi");
        cc_setenv("AWS_REGION", "us-west-2");
        cc_setenv("AWS_ENDPOINT_URL_STS", "https://not-this");
        cc = aigw_cc_create(&conf);
        CC_FILE(cc, "/t", 0, WEBTOKEN);

        if (CC_HTTP(cc, "POST", "https://sts.example.internal:444/base")) {
            CHECK_STR(cc_act.http.host, "sts.example.internal");
            CHECK_EQ(cc_act.http.port, 444);
            CHECK_STR(cc_act.http.target, "/base");
            CHECK_STR(cc_header("Host"), "sts.example.internal:444");
        }

        aigw_cc_destroy(cc);
    }
}


static void
test_xml(void)
{
    long         n;
    char         buf[64];
    const char  *path[3];

#define X(xml, p0, p1, want)                                                  \
    do {                                                                      \
        path[0] = p0;                                                         \
        path[1] = p1;                                                         \
        n = aigw_xml_text(xml, strlen(xml), path, p1 ? 2 : 1, buf,            \
                          sizeof(buf));                                       \
        if (want == NULL) {                                                   \
            CHECK(n < 0);                                                     \
        } else if (CHECK(n >= 0)) {                                           \
            CHECK_STR(buf, (const char *) want);                              \
        }                                                                     \
    } while (0)

    X("<a><b>x</b></a>", "a", "b", "x");
    X("<ns:a xmlns:ns='u'><ns:b attr=\"1>2\"> x y </ns:b></ns:a>", "a", "b",
      "x y");
    X("<a><!-- <b>no</b> --><b>yes</b></a>", "a", "b", "yes");
    X("<a><bb>no</bb><b>yes</b></a>", "a", "b", "yes");
    X("<a><b/></a>", "a", "b", "");
    X("<a><b><c>x</c></b></a>", "a", "b", NULL);
    X("<a><b>x</a>", "a", "b", NULL);
    X("<a><b>x", "a", "b", NULL);
    X("<a><b>&#0;</b></a>", "a", "b", NULL);
    X("<a><b>&#x110000;</b></a>", "a", "b", NULL);
    X("<a><b>&#xD800;</b></a>", "a", "b", NULL);
    X("<a><b>&#;</b></a>", "a", "b", NULL);
    X("<a><b>&nbsp;</b></a>", "a", "b", NULL);
    X("<a><b>&amp</b></a>", "a", "b", NULL);
    X("<a><b>&#x263A;&#233;</b></a>", "a", "b", "\xe2\x98\xba\xc3\xa9");
    X("<b>outside</b><a></a>", "a", "b", NULL);
    X("<a><a><b>inner</b></a></a>", "a", "b", "inner");
    X("", "a", NULL, NULL);
    X("<a", "a", NULL, NULL);

    /* the buffer: 63 bytes and the NUL fit, 64 do not */
    {
        char  xml[200];

        memcpy(xml, "<a>", 3);
        memset(xml + 3, 'x', 64);
        strcpy(xml + 67, "</a>");
        X(xml, "a", NULL, NULL);
        strcpy(xml + 66, "</a>");
        path[0] = "a";
        CHECK_EQ(aigw_xml_text(xml, strlen(xml), path, 1, buf, sizeof(buf)),
                 63);
    }

#undef X
}


/* every field a container endpoint or a process gives, made hostile */
static void
test_peer_fields(void)
{
    size_t                   i, k;
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    static const char  *bad[] = {
        "a\\r\\nX-Evil: 1", "a b", "a\\tb", "caf\\u00e9", "", "a\\u0000b",
        "a\\u007fb"
    };

    static const char  *fields[] = {
        "AccessKeyId", "SecretAccessKey", "Token"
    };

    char  json[512];

    for (k = 0; k < 3; k++) {
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            snprintf(json, sizeof(json),
                     "{\"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\", "
                     "\"Token\": \"%s\", \"Expiration\": \"" CC_EXP "\"}",
                     k == 0 ? bad[i] : AKID1, k == 1 ? bad[i] : SECRET1,
                     k == 2 ? bad[i] : TOKEN1);

            /* the container endpoint */
            home();
            cc_setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/c");
            cc = cc_start(AIGW_CC_ECS, NULL);
            CHECK(CC_STEP(cc, AIGW_CC_HTTP));
            CC_ANSWER(cc, 200, json);
            aigw_cc_next(cc, CC_NOW, &cc_act);

            /* an empty token is no token; anything else is refused */
            if (k == 2 && bad[i][0] == '\0') {
                CHECK_EQ(cc_act.step, AIGW_CC_DONE);

            } else if (!CHECK_EQ(cc_act.step, AIGW_CC_FAILED)) {
                fprintf(stderr, "    %s: %s\n", fields[k], bad[i]);

            } else {
                r = aigw_cc_result(cc);
                check_no_secret(r);
                CHECK(r->error && strpbrk(r->error, "\r\n") == NULL);
            }

            aigw_cc_destroy(cc);

            /* a process, "SessionToken" for "Token" */
            snprintf(json, sizeof(json),
                     "{\"Version\": 1, \"AccessKeyId\": \"%s\", "
                     "\"SecretAccessKey\": \"%s\", \"SessionToken\": \"%s\"}",
                     k == 0 ? bad[i] : AKID1, k == 1 ? bad[i] : SECRET1,
                     k == 2 ? bad[i] : TOKEN1);
            home();
            cc = cc_start(AIGW_CC_FILE, NULL);
            CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
            CC_FILE(cc, HOME_CONFIG, 0, "[default]\ncredential_process = c\n");
            CC_PROCESS(cc, "c", 0, json);
            aigw_cc_next(cc, CC_NOW, &cc_act);

            if (k == 2 && bad[i][0] == '\0') {
                CHECK_EQ(cc_act.step, AIGW_CC_DONE);

            } else if (!CHECK_EQ(cc_act.step, AIGW_CC_FAILED)) {
                fprintf(stderr, "    process %s: %s\n", fields[k], bad[i]);
            }

            aigw_cc_destroy(cc);
        }
    }
}


static void
test_source_kinds(void)
{
    aigw_cc_t               *cc;
    const aigw_cc_result_t  *r;

    /* a role whose source is a process */
    home();
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\nsource_profile = p\n[profile p]\n"
            "credential_process = /bin/p\n");
    CC_PROCESS(cc, "/bin/p", 0, "{\"Version\": 1, \"AccessKeyId\": \""
               AKID1 "\", \"SecretAccessKey\": \"" SECRET1 "\", "
               "\"SessionToken\": \"" TOKEN1 "\"}");

    if (CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com")) {
        CHECK(cc_contains(cc_header("Authorization"),
                          "Credential=" AKID1 "/"));
        CHECK_STR(cc_header("X-Amz-Security-Token"), TOKEN1);
    }

    CC_ANSWER(cc, 200, STS_OK(AKID2, SECRET2, TOKEN2, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID2, SECRET2, TOKEN2);
    aigw_cc_destroy(cc);

    /* a role whose source is a web identity role */
    home();
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\nsource_profile = w\n[profile w]\nrole_arn = arn:aws:"
            "iam::1:role/w\nweb_identity_token_file = /w\n");
    CC_FILE(cc, "/w", 0, WEBTOKEN);

    if (CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com")) {
        CHECK(cc_contains(cc_body(), "Action=AssumeRoleWithWebIdentity&"));
        CHECK(cc_contains(cc_body(), "role%2Fw&"));
        CHECK(cc_header("Authorization") == NULL);
    }

    CC_ANSWER(cc, 200, STS_OK(AKID1, SECRET1, TOKEN1, CC_EXP));

    if (CC_HTTP(cc, "POST", "https://sts.us-east-1.amazonaws.com")) {
        CHECK(cc_contains(cc_body(), "Action=AssumeRole&"));
        CHECK(cc_contains(cc_body(), "role%2Fr&"));
        CHECK(cc_contains(cc_header("Authorization"),
                          "Credential=" AKID1 "/"));
    }

    CC_ANSWER(cc, 200, STS_OK(AKID2, SECRET2, TOKEN2, CC_EXP));
    r = cc_done(cc);
    CHECK_CREDS(r, AKID2, SECRET2, TOKEN2);
    aigw_cc_destroy(cc);

    /* the hop's STS failure: the profile's role named */
    home();
    cc = cc_start(AIGW_CC_FILE, "r");
    CC_FILE(cc, HOME_CREDS, 0, "[p]\naws_access_key_id = AKIAP\n"
            "aws_secret_access_key = " SECRET3 "\n");
    CC_FILE(cc, HOME_CONFIG, 0, "[profile r]\nrole_arn = arn:aws:iam::1:"
            "role/r\nsource_profile = p\n");
    CHECK(CC_STEP(cc, AIGW_CC_HTTP));
    CC_ANSWER(cc, 0, NULL);
    r = failed(cc);
    CHECK_CONTAINS(r->error, "AssumeRole of role arn:aws:iam::1:role/r at "
                   "https://sts.us-east-1.amazonaws.com: connection refused");
    aigw_cc_destroy(cc);

    /* too many hops */
    home();
    cc = cc_start(AIGW_CC_FILE, "p0");
    CC_FILE(cc, HOME_CREDS, ENOENT, NULL);
    CC_FILE(cc, HOME_CONFIG, 0,
            "[profile p0]\nrole_arn=a\nsource_profile=p1\n"
            "[profile p1]\nrole_arn=a\nsource_profile=p2\n"
            "[profile p2]\nrole_arn=a\nsource_profile=p3\n"
            "[profile p3]\nrole_arn=a\nsource_profile=p4\n"
            "[profile p4]\nrole_arn=a\nsource_profile=p5\n"
            "[profile p5]\nrole_arn=a\nsource_profile=p6\n"
            "[profile p6]\nrole_arn=a\nsource_profile=p7\n"
            "[profile p7]\nrole_arn=a\nsource_profile=p8\n"
            "[profile p8]\nrole_arn=a\nsource_profile=p9\n"
            "[profile p9]\naws_access_key_id=A\naws_secret_access_key=S\n");
    r = failed(cc);
    CHECK_CONTAINS(r->error, "more than 8 roles");
    aigw_cc_destroy(cc);
}


int
main(void)
{
    test_env();
    test_static();
    test_file_static();
    test_file_roles();
    test_credential_source();
    test_web_identity();
    test_process();
    test_ecs();
    test_imds();
    test_chain_order();
    test_peer_fields();
    test_source_kinds();
    test_ecs_hosts();
    test_ecs_token_file();
    test_sts_answers();
    test_imds_answers();
    test_signing_input();
    test_protocol();
    test_xml();
    test_misc();
    test_time();

    return unit_done("test_credchain");
}
