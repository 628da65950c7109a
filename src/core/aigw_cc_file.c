
/*
 * aigw: the credentials chain: the shared files' profiles, from the one
 * asked for through source_profile to what gives the first credentials.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aigw_cc_int.h"


/* the shared files */

int
aigw_cc_file_start(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    const char  *home, *p;

    if (cc->profile && *cc->profile) {
        cc->prof_name = cc->profile;
        cc->prof_explicit = 1;

    } else if (aigw_cc_getenv(cc, E_PROFILE)) {
        cc->prof_name = cc->env[E_PROFILE];
        cc->prof_explicit = 1;

    } else {
        cc->prof_name = "default";
    }

    home = cc->home ? cc->home : aigw_cc_getenv(cc, E_HOME);

    p = aigw_cc_getenv(cc, E_CREDS_FILE);

    if (p) {
        cc->path[0] = aigw_cc_strndup(cc, p, strlen(p));

    } else if (home) {
        cc->path[0] = aigw_cc_sprintf(cc, "%s/.aws/credentials", home);
    }

    p = aigw_cc_getenv(cc, E_CONFIG_FILE);

    if (p) {
        cc->path[1] = aigw_cc_strndup(cc, p, strlen(p));

    } else if (home) {
        cc->path[1] = aigw_cc_sprintf(cc, "%s/.aws/config", home);
    }

    if (home == NULL && (cc->path[0] == NULL || cc->path[1] == NULL)) {
        if (cc->chain) {
            cc->state = S_CHAIN_ECS;
            return 0;
        }

        aigw_cc_fail(cc, 1, "HOME is not set: no ~/.aws/credentials, no "
                     "~/.aws/config");
        return 0;
    }

    if (cc->path[0] == NULL || cc->path[1] == NULL) {
        aigw_cc_nomem(cc);
        return 0;
    }

    act->step = AIGW_CC_READ_FILE;
    act->path = cc->path[0];
    cc->state = S_FILE_CREDS;

    return 1;
}


int
aigw_cc_file_got(aigw_cc_t *cc, int i)
{
    int  err;

    err = cc->r_status;

    if (err == ENOENT || err == ENOTDIR) {
        aigw_cc_answer_reset(cc);
        return 0;
    }

    if (err == EFBIG) {
        aigw_cc_fail(cc, 0, "\"%s\" is larger than %d bytes", cc->path[i],
                     AIGW_CC_FILE_MAX);
        return -1;
    }

    if (err != 0) {
        aigw_cc_fail(cc, 0, "could not read \"%s\": %s", cc->path[i],
                     strerror(err));
        return -1;
    }

    /* kept: the profiles point into it */
    cc->text[i] = cc->r_data;
    cc->text_len[i] = cc->r_len;
    cc->r_data = NULL;
    aigw_cc_answer_reset(cc);

    return 0;
}


/*
 * A profile of both files, merged: the credentials file wins, key by
 * key.  1: found, 0: not, -1: failed.
 */

int
aigw_cc_profile(aigw_cc_t *cc, const char *name, size_t len,
    aigw_profile_t *prof)
{
    int              i, rc, found;
    size_t           k;
    unsigned         line;
    aigw_str_t      *dst, *src;
    aigw_profile_t   p;

    memset(prof, 0, sizeof(aigw_profile_t));
    found = 0;

    for (i = 0; i < 2; i++) {
        if (cc->text[i] == NULL) {
            continue;
        }

        line = 0;
        rc = aigw_ini_profile(cc->text[i], cc->text_len[i],
                              i ? AIGW_INI_CONFIG : AIGW_INI_CREDENTIALS,
                              name, len, &p, &line);

        if (rc < 0) {
            aigw_cc_fail(cc, 0, "syntax error in \"%s\" line %u",
                         cc->path[i], line);
            return -1;
        }

        if (rc == 0) {
            continue;
        }

        found = 1;

        for (k = 0; k < sizeof(aigw_profile_t) / sizeof(aigw_str_t); k++) {
            dst = (aigw_str_t *) prof + k;
            src = (aigw_str_t *) &p + k;

            if (dst->len == 0 && src->len) {
                *dst = *src;
            }
        }
    }

    return found;
}


/* a value of a profile's, NUL-terminated, kept */
char *
aigw_cc_value(aigw_cc_t *cc, const aigw_str_t *s)
{
    char  *v;

    if (s->len == 0) {
        return NULL;
    }

    if (memchr(s->data, '\0', s->len) != NULL) {
        aigw_cc_fail(cc, 0, "a setting of profile \"%s\" holds a NUL byte",
                     cc->base_name ? cc->base_name : cc->prof_name);
        return NULL;
    }

    v = aigw_cc_strndup(cc, s->data, s->len);
    if (v == NULL) {
        aigw_cc_nomem(cc);
    }

    return v;
}


/*
 * From the profile asked for, through source_profile, to what gives the
 * first credentials: the roles to assume on the way (cc->hops, the last
 * first) and the base (cc->base).
 */

int
aigw_cc_plan(aigw_cc_t *cc)
{
    int              rc;
    char            *name;
    size_t           len;
    unsigned         i, n;
    aigw_profile_t   p;
    const char      *cs;

    name = cc->prof_name;
    n = 0;

    for ( ;; ) {
        len = strlen(name);

        rc = aigw_cc_profile(cc, name, len, &p);

        if (rc < 0) {
            return -1;
        }

        if (rc == 0) {
            if (n == 0 && cc->chain && !cc->prof_explicit) {
                /* no default profile: the next source */
                cc->state = S_CHAIN_ECS;
                return 0;
            }

            if (n == 0) {
                aigw_cc_fail(cc, cc->chain ? 0 : 1,
                             "profile \"%s\" is in neither \"%s\" nor "
                             "\"%s\"", name, cc->path[0], cc->path[1]);
            } else {
                aigw_cc_fail(cc, 0, "profile \"%s\": its source_profile "
                             "\"%s\" is in neither \"%s\" nor \"%s\"",
                             cc->hops[n - 1].profile, name, cc->path[0],
                             cc->path[1]);
            }

            return -1;
        }

        if (n == 0) {
            cc->top = p;
        }

        if (p.unsupported.len) {
            aigw_cc_fail(cc, 0, "profile \"%s\" uses \"%s\", which aigw "
                         "does not support", name, p.unsupported.data);
            return -1;
        }

        cc->base_p = p;
        cc->base_name = name;

        if (p.role_arn.len == 0) {
            if (p.access_key.len || p.secret_key.len) {
                cc->base = B_STATIC;

            } else if (p.credential_process.len) {
                cc->base = B_PROCESS;

            } else if (n == 0 && cc->chain
                       && p.web_identity_token_file.len == 0)
            {
                /* a profile of settings but no credentials: the next */
                cc->state = S_CHAIN_ECS;
                return 0;

            } else {
                aigw_cc_fail(cc, 0, "profile \"%s\" has no credentials: "
                             "no aws_access_key_id, role_arn or "
                             "credential_process", name);
                return -1;
            }

            break;
        }

        if (n == AIGW_CC_HOPS_MAX) {
            aigw_cc_fail(cc, 0, "profile \"%s\": more than %d roles "
                         "chained", cc->prof_name, AIGW_CC_HOPS_MAX);
            return -1;
        }

        if ((p.source_profile.len != 0) + (p.credential_source.len != 0)
            + (p.web_identity_token_file.len != 0) > 1)
        {
            aigw_cc_fail(cc, 0, "profile \"%s\" has more than one of "
                         "source_profile, credential_source and "
                         "web_identity_token_file", name);
            return -1;
        }

        if (p.web_identity_token_file.len) {
            /* the role is assumed with the web identity itself */
            cc->base = B_WEB_IDENTITY;
            break;
        }

        cc->hops[n].profile = name;
        cc->hops[n].p = p;
        n++;

        if (p.credential_source.len) {
            cs = p.credential_source.data;
            len = p.credential_source.len;

            if (len == 11 && memcmp(cs, "Environment", 11) == 0) {
                cc->base = B_ENV;

            } else if (len == 12 && memcmp(cs, "EcsContainer", 12) == 0) {
                cc->base = B_ECS;

            } else if (len == 19
                       && memcmp(cs, "Ec2InstanceMetadata", 19) == 0)
            {
                cc->base = B_IMDS;

            } else {
                aigw_cc_fail(cc, 0, "profile \"%s\": credential_source "
                             "must be Environment, EcsContainer or "
                             "Ec2InstanceMetadata", name);
                return -1;
            }

            break;
        }

        if (p.source_profile.len == 0) {
            aigw_cc_fail(cc, 0, "profile \"%s\" has role_arn but none of "
                         "source_profile, credential_source and "
                         "web_identity_token_file", name);
            return -1;
        }

        if (p.source_profile.len == len
            && memcmp(p.source_profile.data, name, len) == 0)
        {
            /* its own static keys */
            if (p.access_key.len == 0 && p.secret_key.len == 0) {
                aigw_cc_fail(cc, 0, "profile \"%s\" is its own "
                             "source_profile but has no static keys", name);
                return -1;
            }

            cc->base = B_STATIC;
            break;
        }

        for (i = 0; i < n; i++) {
            if (strlen(cc->hops[i].profile) == p.source_profile.len
                && memcmp(cc->hops[i].profile, p.source_profile.data,
                          p.source_profile.len) == 0)
            {
                aigw_cc_fail(cc, 0, "profile \"%s\": source_profile "
                             "\"%.*s\" makes a cycle", cc->prof_name,
                             (int) p.source_profile.len,
                             p.source_profile.data);
                return -1;
            }
        }

        name = aigw_cc_value(cc, &p.source_profile);
        if (name == NULL) {
            return -1;
        }
    }

    cc->nhops = n;
    cc->state = S_BASE;

    return 0;
}


int
aigw_cc_base(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    aigw_profile_t  *p;

    p = &cc->base_p;

    switch (cc->base) {

    case B_STATIC:
        if (aigw_cc_set_creds(cc, p->access_key.data, p->access_key.len,
                              p->secret_key.data, p->secret_key.len,
                              p->session_token.data, p->session_token.len,
                              0, 0, cc->base_name)
            != 0)
        {
            aigw_cc_fail(cc, 0, "profile \"%s\": its static keys are not "
                         "valid (aws_access_key_id and "
                         "aws_secret_access_key, printable, no spaces)",
                         cc->base_name);
            return 0;
        }

        cc->result.origin = aigw_cc_sprintf(cc, "profile \"%s\"",
                                            cc->base_name);
        cc->state = S_GOT;
        return 0;

    case B_ENV:
        if (aigw_cc_env_creds(cc, "credential_source Environment") == 0) {
            cc->state = S_GOT;
        } else {
            cc->result.not_found = 0;
        }

        return 0;

    case B_ECS:
        cc->state = S_ECS;
        return 0;

    case B_IMDS:
        cc->state = S_IMDS;
        return 0;

    case B_WEB_IDENTITY:
        cc->wi_file = aigw_cc_value(cc, &p->web_identity_token_file);
        cc->wi_role = aigw_cc_value(cc, &p->role_arn);
        cc->wi_session = aigw_cc_value(cc, &p->role_session_name);
        cc->wi_duration = aigw_cc_value(cc, &p->duration_seconds);

        if (cc->state == S_FAILED) {
            return 0;
        }

        return aigw_cc_wi_start(cc, act);

    case B_PROCESS:
        act->step = AIGW_CC_PROCESS;
        act->command = aigw_cc_value(cc, &p->credential_process);
        act->timeout_ms = AIGW_CC_PROCESS_TIMEOUT;

        if (act->command == NULL) {
            return 0;
        }

        cc->result.origin = aigw_cc_sprintf(cc, "credential_process of "
                                            "profile \"%s\"", cc->base_name);
        cc->state = S_PROCESS_RESP;
        return 1;

    default:
        aigw_cc_fail(cc, 0, "no credentials");
        return 0;
    }
}
