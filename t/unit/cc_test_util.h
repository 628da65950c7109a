
/*
 * aigw: a scripted driver of the credentials chain for the unit tests:
 * a fake environment, and one call per action expected, which checks
 * the action and answers it.
 */

#ifndef AIGW_CC_TEST_UTIL_H
#define AIGW_CC_TEST_UTIL_H


#include <errno.h>
#include <string.h>

#include "unit.h"
#include "aigw_credchain.h"


#define CC_NOW   1800000000                 /* 2027-01-15T08:00:00Z */
#define CC_EXP   "2027-01-15T09:00:00Z"     /* CC_NOW + 3600 */

#define CC_ENV_MAX  32


typedef struct {
    const char  *names[CC_ENV_MAX];
    const char  *values[CC_ENV_MAX];
    unsigned     n;
} cc_env_t;


static cc_env_t          cc_env;
static aigw_cc_action_t  cc_act;


static const char *
cc_getenv(void *data, const char *name)
{
    unsigned   i;
    cc_env_t  *env;

    env = data;

    for (i = 0; i < env->n; i++) {
        if (strcmp(env->names[i], name) == 0) {
            return env->values[i];
        }
    }

    return NULL;
}


static void
cc_setenv(const char *name, const char *value)
{
    cc_env.names[cc_env.n] = name;
    cc_env.values[cc_env.n] = value;
    cc_env.n++;
}


/* a resolution of "source" in the environment set with cc_setenv() */
static aigw_cc_t *
cc_start(aigw_cc_source_e source, const char *profile)
{
    aigw_cc_t       *cc;
    aigw_cc_conf_t   conf;

    memset(&conf, 0, sizeof(conf));
    conf.source = source;
    conf.profile = profile;
    conf.getenv = cc_getenv;
    conf.env_data = &cc_env;

    cc = aigw_cc_create(&conf);
    CHECK(cc != NULL);

    return cc;
}


static void
cc_reset_env(void)
{
    memset(&cc_env, 0, sizeof(cc_env));
}


static size_t
cc_len(const char *s)
{
    return s ? strlen(s) : 0;
}


static const char *
cc_step_name(aigw_cc_step_e s)
{
    static const char  *names[] = {
        "DONE", "FAILED", "READ_FILE", "HTTP", "PROCESS"
    };

    return (unsigned) s < 5 ? names[s] : "?";
}


#define CC_STEP(cc, s)                                                        \
    (aigw_cc_next((cc), CC_NOW, &cc_act),                                     \
     cc_act.step == (s) ? 1                                                   \
     : (fprintf(stderr, "    step %s, expected %s\n",                         \
                cc_step_name(cc_act.step), cc_step_name(s)),                  \
        cc_act.step == AIGW_CC_FAILED                                         \
        ? fprintf(stderr, "    error: %s\n", aigw_cc_result(cc)->error) : 0, \
        0))

/* expects a READ_FILE of "path", answers "err" (0: "data") */
#define CC_FILE(cc, fpath, err, data)                                         \
    do {                                                                      \
        if (CHECK(CC_STEP(cc, AIGW_CC_READ_FILE))) {                          \
            CHECK_STR(cc_act.path, fpath);                                    \
        }                                                                     \
        aigw_cc_file_done((cc), (err), (data), cc_len(data));                 \
    } while (0)

/* expects an HTTP request "method url" (its checks follow) */
#define CC_HTTP(cc, m, u)                                                     \
    (CHECK(CC_STEP(cc, AIGW_CC_HTTP))                                         \
     && CHECK_STR(cc_act.http.method, m) && CHECK_STR(cc_act.http.url, u))

#define CC_ANSWER(cc, status, body)                                           \
    aigw_cc_http_done((cc), (status), (body), cc_len(body),                   \
                      (status) ? NULL : "connection refused")

#define CC_PROCESS(cc, cmd, status, out)                                      \
    do {                                                                      \
        if (CHECK(CC_STEP(cc, AIGW_CC_PROCESS))) {                            \
            CHECK_STR(cc_act.command, cmd);                                   \
        }                                                                     \
        aigw_cc_process_done((cc), (status), (out), cc_len(out),              \
                             (status) == -1 ? "timed out" : NULL);            \
    } while (0)


/* the value of a header of the current request, NULL if none */
static const char *
cc_header(const char *name)
{
    size_t      i;
    static char  buf[16384];

    for (i = 0; i < cc_act.http.nheaders; i++) {
        if (cc_act.http.headers[i].name.len == strlen(name)
            && strncasecmp(cc_act.http.headers[i].name.data, name,
                           strlen(name)) == 0)
        {
            if (cc_act.http.headers[i].value.len >= sizeof(buf)) {
                return "(too long)";
            }

            memcpy(buf, cc_act.http.headers[i].value.data,
                   cc_act.http.headers[i].value.len);
            buf[cc_act.http.headers[i].value.len] = '\0';
            return buf;
        }
    }

    return NULL;
}


static const char *
cc_body(void)
{
    static char  buf[65536];

    if (cc_act.http.body == NULL) {
        return NULL;
    }

    if (cc_act.http.body_len >= sizeof(buf)) {
        return "(too long)";
    }

    memcpy(buf, cc_act.http.body, cc_act.http.body_len);
    buf[cc_act.http.body_len] = '\0';

    return buf;
}


/* the end: DONE with these keys, or FAILED */
static const aigw_cc_result_t *
cc_done(aigw_cc_t *cc)
{
    CHECK(CC_STEP(cc, AIGW_CC_DONE));

    return aigw_cc_result(cc);
}


static const aigw_cc_result_t *
cc_failed(aigw_cc_t *cc)
{
    const aigw_cc_result_t  *r;

    CHECK(CC_STEP(cc, AIGW_CC_FAILED));
    r = aigw_cc_result(cc);
    CHECK(r->error != NULL);

    if (r->error == NULL) {
        return r;
    }

    /* an error is one line of printable text */
    CHECK(strpbrk(r->error, "\r\n") == NULL);

    return r;
}


static int
cc_contains(const char *hay, const char *needle)
{
    return hay != NULL && strstr(hay, needle) != NULL;
}


#define CHECK_CONTAINS(hay, needle)                                           \
    do {                                                                      \
        if (!CHECK(cc_contains(hay, needle))) {                               \
            fprintf(stderr, "    \"%s\" not in \"%s\"\n", needle,             \
                    (hay) ? (hay) : "(null)");                                \
        }                                                                     \
    } while (0)

#define CHECK_CREDS(r, akid, secret, token)                                   \
    do {                                                                      \
        CHECK_MEM((r)->creds.access_key.data, (r)->creds.access_key.len,     \
                  akid, strlen(akid));                                        \
        CHECK_MEM((r)->creds.secret_key.data, (r)->creds.secret_key.len,     \
                  secret, strlen(secret));                                    \
        CHECK_MEM((r)->creds.session_token.data,                              \
                  (r)->creds.session_token.len, token, strlen(token));        \
    } while (0)


#endif /* AIGW_CC_TEST_UTIL_H */
