
/*
 * aigw: the credentials chain, every action answered with fuzzed bytes.
 * Input: a byte (the source), a byte (the hours past the base time of
 * "now"), the profile up to a NUL byte (empty: none), the environment
 * up to a NUL byte ("NAME=VALUE" lines), then one answer per action:
 * a byte (which errno, HTTP status or exit status), two bytes of length
 * (big-endian) and that many bytes (the file, the body, the output).
 *
 * Checked: the resolution ends (DONE or FAILED) within a bounded number
 * of actions; every action is well formed (header values and the request
 * target printable, no CR or LF, a host and a port); DONE credentials
 * pass the chain's rules (a peer's key id [A-Z0-9]{16,128}, nothing that
 * breaks a header line, not expired); a FAILED error is one printable
 * line without the environment's secrets; ASan and LeakSanitizer see
 * every byte and every block.
 */

#include <errno.h>

#include "fuzz.h"
#include "aigw_credchain.h"


#define FUZZ_CC_NOW        1800000000
#define FUZZ_CC_STEPS_MAX  64
#define FUZZ_CC_ENV_MAX    32


typedef struct {
    char        *names[FUZZ_CC_ENV_MAX];
    char        *values[FUZZ_CC_ENV_MAX];
    unsigned     n;
} fuzz_env_t;


static const char *
fuzz_getenv(void *data, const char *name)
{
    unsigned     i;
    fuzz_env_t  *env;

    env = data;

    for (i = 0; i < env->n; i++) {
        if (strcmp(env->names[i], name) == 0) {
            return env->values[i];
        }
    }

    return NULL;
}


/* "NAME=VALUE\n..." */
static void
fuzz_env_parse(fuzz_env_t *env, const char *p, size_t len)
{
    size_t       n;
    const char  *end, *eol, *eq;

    end = p + len;

    while (p < end && env->n < FUZZ_CC_ENV_MAX) {
        eol = memchr(p, '\n', end - p);
        if (eol == NULL) {
            eol = end;
        }

        eq = memchr(p, '=', eol - p);

        if (eq != NULL) {
            n = eq - p;
            env->names[env->n] = strndup(p, n);
            env->values[env->n] = strndup(eq + 1, eol - eq - 1);
            FUZZ_CHECK(env->names[env->n] && env->values[env->n]);
            env->n++;
        }

        p = eol + 1;
    }
}


static void
fuzz_env_free(fuzz_env_t *env)
{
    unsigned  i;

    for (i = 0; i < env->n; i++) {
        free(env->names[i]);
        free(env->values[i]);
    }
}


static int
fuzz_printable(const char *p, size_t len, int spaces)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) p[i] < (spaces ? 0x20 : 0x21)
            || (unsigned char) p[i] >= 0x7f)
        {
            return 0;
        }
    }

    return 1;
}


static void
fuzz_check_http(const aigw_cc_http_t *h)
{
    size_t  i;

    FUZZ_CHECK(h->method != NULL && h->url != NULL && h->host != NULL
               && h->target != NULL);
    FUZZ_CHECK(strcmp(h->method, "GET") == 0 || strcmp(h->method, "PUT") == 0
               || strcmp(h->method, "POST") == 0);
    FUZZ_CHECK(h->host[0] != '\0' && fuzz_printable(h->host,
                                                    strlen(h->host), 0));
    FUZZ_CHECK(h->port >= 1 && h->port <= 65535);
    FUZZ_CHECK(h->target[0] == '/'
               && fuzz_printable(h->target, strlen(h->target), 0));
    FUZZ_CHECK(fuzz_printable(h->url, strlen(h->url), 0));
    FUZZ_CHECK(h->timeout_ms > 0);
    FUZZ_CHECK(h->nheaders >= 1 && h->headers != NULL);

    for (i = 0; i < h->nheaders; i++) {
        FUZZ_CHECK(h->headers[i].name.len > 0);
        FUZZ_CHECK(fuzz_printable(h->headers[i].name.data,
                                  h->headers[i].name.len, 0));
        FUZZ_CHECK(fuzz_printable(h->headers[i].value.data,
                                  h->headers[i].value.len, 1));
    }

    FUZZ_CHECK(h->headers[0].name.len == 4
               && memcmp(h->headers[0].name.data, "Host", 4) == 0);

    if (h->body) {
        /* every byte readable */
        for (i = 0; i < h->body_len; i++) {
            FUZZ_CHECK(h->body[i] != '\0');
        }
    }

    FUZZ_CHECK(strcmp(h->method, "POST") != 0 || h->body != NULL);
}


static void
fuzz_check_done(const aigw_cc_result_t *r, time_t now)
{
    size_t              i;
    const aigw_creds_t  *c;

    c = &r->creds;

    FUZZ_CHECK(r->origin != NULL && strlen(r->origin) > 0);
    FUZZ_CHECK(c->access_key.len >= 1 && c->access_key.len <= 128);
    FUZZ_CHECK(c->secret_key.len >= 1 && c->secret_key.len <= 128);
    FUZZ_CHECK(c->session_token.len <= AIGW_CC_TOKEN_MAX);
    FUZZ_CHECK(fuzz_printable(c->access_key.data, c->access_key.len, 0));
    FUZZ_CHECK(fuzz_printable(c->secret_key.data, c->secret_key.len, 0));
    FUZZ_CHECK(fuzz_printable(c->session_token.data, c->session_token.len,
                              0));

    if (r->source == AIGW_CC_WEB_IDENTITY || r->source == AIGW_CC_ECS
        || r->source == AIGW_CC_IMDS)
    {
        FUZZ_CHECK(c->access_key.len >= 16);

        for (i = 0; i < c->access_key.len; i++) {
            FUZZ_CHECK((c->access_key.data[i] >= 'A'
                        && c->access_key.data[i] <= 'Z')
                       || (c->access_key.data[i] >= '0'
                           && c->access_key.data[i] <= '9'));
        }
    }

    if (r->expiration != 0) {
        FUZZ_CHECK(r->expiration > now + AIGW_CC_EXPIRY_MARGIN);
        FUZZ_CHECK(aigw_cc_refresh_at(now, r->expiration) <= r->expiration);
        FUZZ_CHECK(aigw_cc_refresh_at(now, r->expiration) >= now);
    }
}


static void
fuzz_check_failed(const aigw_cc_result_t *r, fuzz_env_t *env)
{
    size_t       len;
    unsigned     i;
    const char  *secret;

    static const char  *secrets[] = {
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", NULL
    };

    FUZZ_CHECK(r->error != NULL);
    len = strlen(r->error);
    FUZZ_CHECK(len > 0 && len < AIGW_CC_ERR_LEN);
    FUZZ_CHECK(fuzz_printable(r->error, len, 1));
    FUZZ_CHECK(r->not_found == 0 || r->not_found == 1);

    for (i = 0; secrets[i]; i++) {
        secret = fuzz_getenv(env, secrets[i]);

        if (secret && strlen(secret) >= 4) {
            FUZZ_CHECK(strstr(r->error, secret) == NULL);
        }
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                      status;
    char                    *copy;
    time_t                   now;
    size_t                   len, plen, elen;
    unsigned                 steps, kind;
    fuzz_in_t                in;
    aigw_cc_t               *cc;
    fuzz_env_t               env;
    const char              *profile, *envp;
    const uint8_t           *answer;
    aigw_cc_conf_t           conf;
    aigw_cc_action_t         act;
    const aigw_cc_result_t  *r;

    static const int  errs[] = { 0, 0, 0, ENOENT, ENOTDIR, EACCES, EFBIG,
                                 EIO };
    static const int  statuses[] = { 200, 200, 200, 200, 0, 400, 401, 403,
                                     404, 500, 503, 302 };
    static const int  exits[] = { 0, 0, 0, 1, 2, -1, 255, 127 };

    in.p = data;
    in.len = size;

    memset(&conf, 0, sizeof(conf));
    memset(&env, 0, sizeof(env));

    conf.source = fuzz_byte(&in) % 7;
    now = FUZZ_CC_NOW + (time_t) fuzz_byte(&in) * 3600;

    plen = fuzz_field(&in, 0, &profile);
    elen = fuzz_field(&in, 0, &envp);

    copy = plen ? strndup(profile, plen) : NULL;
    conf.profile = (copy && *copy) ? copy : NULL;

    fuzz_env_parse(&env, envp, elen);
    conf.getenv = fuzz_getenv;
    conf.env_data = &env;

    if (conf.source == AIGW_CC_STATIC) {
        conf.keys.access_key.data = fuzz_getenv(&env, "AWS_ACCESS_KEY_ID");
        conf.keys.secret_key.data = fuzz_getenv(&env,
                                                "AWS_SECRET_ACCESS_KEY");
        conf.keys.session_token.data = fuzz_getenv(&env,
                                                   "AWS_SESSION_TOKEN");
        conf.keys.access_key.len = conf.keys.access_key.data
                                   ? strlen(conf.keys.access_key.data) : 0;
        conf.keys.secret_key.len = conf.keys.secret_key.data
                                   ? strlen(conf.keys.secret_key.data) : 0;
        conf.keys.session_token.len =
            conf.keys.session_token.data
            ? strlen(conf.keys.session_token.data) : 0;
    }

    cc = aigw_cc_create(&conf);
    FUZZ_CHECK(cc != NULL);

    for (steps = 0; ; steps++) {
        FUZZ_CHECK(steps < FUZZ_CC_STEPS_MAX);

        aigw_cc_next(cc, now, &act);

        if (act.step == AIGW_CC_DONE || act.step == AIGW_CC_FAILED) {
            break;
        }

        kind = fuzz_byte(&in);
        len = fuzz_u64(&in, 2);
        len = fuzz_take(&in, len, &answer);

        switch (act.step) {

        case AIGW_CC_READ_FILE:
            FUZZ_CHECK(act.path != NULL && act.path[0] != '\0');
            status = errs[kind % 8];
            aigw_cc_file_done(cc, status, status ? NULL : (char *) answer,
                              status ? 0 : len);
            break;

        case AIGW_CC_HTTP:
            fuzz_check_http(&act.http);
            status = statuses[kind % 12];
            aigw_cc_http_done(cc, status, (char *) answer, len,
                              status ? NULL : "timed out");
            break;

        case AIGW_CC_PROCESS:
            FUZZ_CHECK(act.command != NULL && act.command[0] != '\0');
            FUZZ_CHECK(act.timeout_ms > 0);
            status = exits[kind % 8];
            aigw_cc_process_done(cc, status, (char *) answer, len,
                                 status == -1 ? "killed" : NULL);
            break;

        default:
            FUZZ_CHECK(0);
        }
    }

    r = aigw_cc_result(cc);

    if (act.step == AIGW_CC_DONE) {
        fuzz_check_done(r, now);

    } else {
        fuzz_check_failed(r, &env);
    }

    aigw_cc_destroy(cc);
    fuzz_env_free(&env);
    free(copy);

    return 0;
}
