
/*
 * aigw: AWS shared credentials and config files.
 *
 * The dialect is Python's configparser as botocore uses it: "[section]"
 * headers, "key = value" or "key: value", full-line comments starting
 * with "#" or ";", indented lines continuing a value (botocore's nested
 * "s3 =" settings), keys case-sensitive.
 */


#include <stddef.h>
#include <string.h>

#include "aigw_creds.h"


static const char  *aigw_ini_unsupported[] = {
    "mfa_serial",
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "sso_role_name",
    "sso_region",
    "sso_registration_scopes",
    "login_session",
    NULL
};


typedef struct {
    const char  *key;
    size_t       offset;
} aigw_ini_key_t;


#define aigw_ini_field(f)  offsetof(aigw_profile_t, f)

static const aigw_ini_key_t  aigw_ini_keys[] = {
    { "aws_access_key_id", aigw_ini_field(access_key) },
    { "aws_secret_access_key", aigw_ini_field(secret_key) },
    { "aws_session_token", aigw_ini_field(session_token) },
    { "region", aigw_ini_field(region) },
    { "role_arn", aigw_ini_field(role_arn) },
    { "source_profile", aigw_ini_field(source_profile) },
    { "credential_source", aigw_ini_field(credential_source) },
    { "web_identity_token_file", aigw_ini_field(web_identity_token_file) },
    { "role_session_name", aigw_ini_field(role_session_name) },
    { "external_id", aigw_ini_field(external_id) },
    { "duration_seconds", aigw_ini_field(duration_seconds) },
    { "credential_process", aigw_ini_field(credential_process) },
    { NULL, 0 }
};


static int aigw_ini_is_space(char c);
static void aigw_ini_trim(const char **p, const char **last);
static int aigw_ini_section_match(const char *p, const char *last,
    aigw_ini_kind_e kind, const char *name, size_t name_len);
static int aigw_ini_key_is(const char *p, size_t len, const char *key);


int
aigw_ini_profile(const char *text, size_t len, aigw_ini_kind_e kind,
    const char *name, size_t name_len, aigw_profile_t *profile,
    unsigned *err_line)
{
    int                     found, in_profile;
    size_t                  klen;
    unsigned                line;
    aigw_str_t             *s;
    const char             *p, *end, *eol, *last, *k, *klast, *v, *vlast,
                           *d, **u;
    const aigw_ini_key_t   *ik;

    memset(profile, 0, sizeof(aigw_profile_t));

    found = 0;
    in_profile = 0;
    line = 0;
    p = text;
    end = text + len;

    while (p < end) {
        line++;

        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            eol = end;
        }

        last = eol;
        k = p;
        p = (eol < end) ? eol + 1 : end;

        if (k < last && aigw_ini_is_space(*k)) {
            /* a continuation line: part of the previous (nested) value */
            continue;
        }

        aigw_ini_trim(&k, &last);

        if (k == last || *k == '#' || *k == ';') {
            continue;
        }

        if (*k == '[') {
            if (last[-1] != ']') {
                *err_line = line;
                return -1;
            }

            in_profile = aigw_ini_section_match(k + 1, last - 1, kind,
                                                name, name_len);
            found |= in_profile;
            continue;
        }

        d = NULL;

        for (v = k; v < last; v++) {
            if (*v == '=' || *v == ':') {
                d = v;
                break;
            }
        }

        if (d == NULL || d == k) {
            *err_line = line;
            return -1;
        }

        if (!in_profile) {
            continue;
        }

        klast = d;
        aigw_ini_trim(&k, &klast);
        klen = klast - k;

        v = d + 1;
        vlast = last;
        aigw_ini_trim(&v, &vlast);

        for (ik = aigw_ini_keys; ik->key; ik++) {
            if (aigw_ini_key_is(k, klen, ik->key)) {
                s = (aigw_str_t *) ((char *) profile + ik->offset);
                s->data = v;
                s->len = vlast - v;
                break;
            }
        }

        if (ik->key == NULL && profile->unsupported.len == 0) {
            for (u = aigw_ini_unsupported; *u; u++) {
                if (aigw_ini_key_is(k, klen, *u)) {
                    profile->unsupported.data = *u;
                    profile->unsupported.len = strlen(*u);
                    break;
                }
            }
        }
    }

    return found;
}


aigw_str_t
aigw_ini_needs_chain(const aigw_profile_t *profile)
{
    aigw_str_t  s;

    s.data = NULL;
    s.len = 0;

    if (profile->role_arn.len) {
        s.data = "role_arn";

    } else if (profile->web_identity_token_file.len) {
        s.data = "web_identity_token_file";

    } else if (profile->credential_process.len) {
        s.data = "credential_process";

    } else {
        return profile->unsupported;
    }

    s.len = strlen(s.data);

    return s;
}


static int
aigw_ini_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}


static void
aigw_ini_trim(const char **p, const char **last)
{
    while (*p < *last && aigw_ini_is_space(**p)) {
        (*p)++;
    }

    while (*last > *p && aigw_ini_is_space((*last)[-1])) {
        (*last)--;
    }
}


static int
aigw_ini_section_match(const char *p, const char *last,
    aigw_ini_kind_e kind, const char *name, size_t name_len)
{
    aigw_ini_trim(&p, &last);

    if (kind == AIGW_INI_CONFIG) {
        if ((size_t) (last - p) > 8 && memcmp(p, "profile", 7) == 0
            && aigw_ini_is_space(p[7]))
        {
            p += 8;
            aigw_ini_trim(&p, &last);

        } else if (!(last - p == 7 && memcmp(p, "default", 7) == 0)) {
            /* "[sso-session x]", "[services x]", or a bare name */
            return 0;
        }
    }

    return (size_t) (last - p) == name_len && memcmp(p, name, name_len) == 0;
}


static int
aigw_ini_key_is(const char *p, size_t len, const char *key)
{
    return strlen(key) == len && memcmp(p, key, len) == 0;
}
