
/*
 * aigw: the AWS credentials provider chain (see aigw_credchain.h).
 *
 * A resolution is a state machine: aigw_cc_next() runs until it needs
 * something from the outside, describes it in the action and returns;
 * the *_done() calls keep the answer for the next aigw_cc_next(), which
 * judges it.  Everything a resolution holds is in blocks of its own
 * (bounded by AIGW_CC_MEM_MAX), zeroed when they are freed: the answers
 * hold secrets.
 */


#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "aigw_cc_int.h"


static char *aigw_cc_copy(aigw_cc_t *cc, const char *s, int *nomem);
static void aigw_cc_copy_str(aigw_cc_t *cc, aigw_str_t *dst,
    const aigw_str_t *src, int *nomem);
static void aigw_cc_answer(aigw_cc_t *cc, aigw_cc_step_e step, int status,
    const char *data, size_t len, size_t max, const char *error);
static int aigw_cc_digits(const char **p, const char *end, int n, int *v);


static const char *const  aigw_cc_env_all[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_PROFILE",
    "HOME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_STS",
    NULL
};

static const char *const  aigw_cc_env_env[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    NULL
};

static const char *const  aigw_cc_env_web_identity[] = {
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_STS",
    NULL
};

/* a profile's, and those its credential_source may read */
static const char *const  aigw_cc_env_file[] = {
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_PROFILE",
    "HOME",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    NULL
};

static const char *const  aigw_cc_env_ecs[] = {
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    NULL
};

static const char *const  aigw_cc_env_imds[] = {
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
    NULL
};

static const char *const  aigw_cc_env_none[] = {
    NULL
};


static const char *const  aigw_cc_names[] = {
    "chain", "env", "web_identity", "file", "ecs", "imds", "static"
};


aigw_cc_t *
aigw_cc_create(const aigw_cc_conf_t *conf)
{
    int          i, nomem;
    aigw_cc_t   *cc;
    const char  *v;

    cc = calloc(1, sizeof(aigw_cc_t));
    if (cc == NULL) {
        return NULL;
    }

    cc->source = conf->source;

    if ((unsigned) cc->source > AIGW_CC_STATIC) {
        cc->source = AIGW_CC_CHAIN;
        aigw_cc_fail(cc, 0, "unknown credentials source");
    }

    nomem = 0;

    if (conf->profile) {
        cc->profile = aigw_cc_copy(cc, conf->profile, &nomem);
    }

    if (conf->region) {
        cc->region = aigw_cc_copy(cc, conf->region, &nomem);
    }

    if (conf->sts_endpoint) {
        cc->sts_endpoint = aigw_cc_copy(cc, conf->sts_endpoint, &nomem);
    }

    if (conf->home) {
        cc->home = aigw_cc_copy(cc, conf->home, &nomem);
    }

    aigw_cc_copy_str(cc, &cc->keys.access_key, &conf->keys.access_key,
                     &nomem);
    aigw_cc_copy_str(cc, &cc->keys.secret_key, &conf->keys.secret_key,
                     &nomem);
    aigw_cc_copy_str(cc, &cc->keys.session_token, &conf->keys.session_token,
                     &nomem);

    aigw_cc_secret(cc, cc->keys.secret_key.data);
    aigw_cc_secret(cc, cc->keys.session_token.data);

    for (i = 0; i < E_N; i++) {
        v = conf->getenv ? conf->getenv(conf->env_data, aigw_cc_env_all[i])
                         : NULL;

        if (v && *v) {
            cc->env[i] = aigw_cc_copy(cc, v, &nomem);
        }
    }

    aigw_cc_secret(cc, cc->env[E_SECRET]);
    aigw_cc_secret(cc, cc->env[E_TOKEN]);
    aigw_cc_secret(cc, cc->env[E_SECURITY_TOKEN]);
    aigw_cc_secret(cc, cc->env[E_ECS_TOKEN]);

    if (nomem) {
        aigw_cc_destroy(cc);
        return NULL;
    }

    return cc;
}


static char *
aigw_cc_copy(aigw_cc_t *cc, const char *s, int *nomem)
{
    char  *p;

    p = aigw_cc_strndup(cc, s, strlen(s));
    if (p == NULL) {
        *nomem = 1;
    }

    return p;
}


static void
aigw_cc_copy_str(aigw_cc_t *cc, aigw_str_t *dst, const aigw_str_t *src,
    int *nomem)
{
    if (src->len == 0 || src->data == NULL) {
        return;
    }

    dst->data = aigw_cc_strndup(cc, src->data, src->len);
    dst->len = src->len;

    if (dst->data == NULL) {
        dst->len = 0;
        *nomem = 1;
    }
}


void
aigw_cc_destroy(aigw_cc_t *cc)
{
    aigw_cc_blk_t  *b, *next;

    if (cc == NULL) {
        return;
    }

    for (b = cc->blocks; b; b = next) {
        next = b->next;
        OPENSSL_cleanse(b, sizeof(aigw_cc_blk_t) + b->size);
        free(b);
    }

    OPENSSL_cleanse(cc, sizeof(aigw_cc_t));
    free(cc);
}


void
aigw_cc_next(aigw_cc_t *cc, time_t now, aigw_cc_action_t *act)
{
    memset(act, 0, sizeof(aigw_cc_action_t));
    cc->now = now;

    if (cc->pending != AIGW_CC_DONE) {
        aigw_cc_fail(cc, 0, "the credentials chain was not given the "
                     "result of its last action");
    }

    for ( ;; ) {
        if (cc->state == S_DONE) {
            act->step = AIGW_CC_DONE;
            return;
        }

        /* a failure is final, whatever state a step went on to set */
        if (cc->state == S_FAILED || cc->result.error != NULL) {
            cc->state = S_FAILED;
            memset(act, 0, sizeof(aigw_cc_action_t));
            act->step = AIGW_CC_FAILED;
            return;
        }

        /* a resolution is bounded: a guard against a loop of states */
        if (++cc->steps > 1000) {
            aigw_cc_fail(cc, 0, "the credentials chain did not end");
            continue;
        }

        if (aigw_cc_step(cc, act) && cc->result.error == NULL) {
            cc->pending = act->step;
            return;
        }
    }
}


void
aigw_cc_answer_reset(aigw_cc_t *cc)
{
    if (cc->r_data) {
        aigw_cc_free(cc, cc->r_data);
        cc->r_data = NULL;
    }

    if (cc->r_error) {
        aigw_cc_free(cc, cc->r_error);
        cc->r_error = NULL;
    }

    cc->r_len = 0;
    cc->r_status = 0;
}


static void
aigw_cc_answer(aigw_cc_t *cc, aigw_cc_step_e step, int status,
    const char *data, size_t len, size_t max, const char *error)
{
    if (cc->pending != step) {
        /* not what was asked: the next step fails */
        cc->pending = AIGW_CC_FAILED;
        return;
    }

    cc->pending = AIGW_CC_DONE;
    aigw_cc_answer_reset(cc);

    cc->r_status = status;

    if (len > max) {
        len = max;
    }

    cc->r_data = aigw_cc_strndup(cc, data ? data : "", data ? len : 0);
    cc->r_len = data ? len : 0;

    if (error) {
        len = strnlen(error, 200);
        cc->r_error = aigw_cc_alloc(cc, len + 1);

        if (cc->r_error) {
            aigw_cc_clean(cc->r_error, len + 1, error, len);
        }
    }

    if (cc->r_data == NULL || (error && cc->r_error == NULL)) {
        aigw_cc_nomem(cc);
    }
}


void
aigw_cc_file_done(aigw_cc_t *cc, int err, const char *data, size_t len)
{
    if (err == 0 && len > AIGW_CC_FILE_MAX) {
        err = EFBIG;
    }

    aigw_cc_answer(cc, AIGW_CC_READ_FILE, err, err ? NULL : data, len,
                   AIGW_CC_FILE_MAX, NULL);
}


void
aigw_cc_http_done(aigw_cc_t *cc, int status, const char *body, size_t len,
    const char *error)
{
    aigw_cc_answer(cc, AIGW_CC_HTTP, status, body, len, AIGW_CC_BODY_MAX,
                   status == 0 ? (error ? error : "no response") : NULL);
}


void
aigw_cc_process_done(aigw_cc_t *cc, int status, const char *out, size_t len,
    const char *error)
{
    aigw_cc_answer(cc, AIGW_CC_PROCESS, status, out, len, AIGW_CC_BODY_MAX,
                   status == -1 ? (error ? error : "could not run") : NULL);
}


const aigw_cc_result_t *
aigw_cc_result(const aigw_cc_t *cc)
{
    return &cc->result;
}


time_t
aigw_cc_refresh_at(time_t obtained, time_t expiration)
{
    time_t  margin;

    if (expiration == 0) {
        return 0;
    }

    margin = expiration > obtained ? (expiration - obtained) / 2 : 0;

    if (margin > 300) {
        margin = 300;
    }

    return expiration - margin;
}


int
aigw_cc_source(const char *name, size_t len)
{
    int  i;

    for (i = 0; i <= AIGW_CC_STATIC; i++) {
        if (strlen(aigw_cc_names[i]) == len
            && memcmp(aigw_cc_names[i], name, len) == 0)
        {
            return i;
        }
    }

    return -1;
}


const char *
aigw_cc_source_name(aigw_cc_source_e source)
{
    if ((unsigned) source > AIGW_CC_STATIC) {
        return "unknown";
    }

    return aigw_cc_names[source];
}


const char *const *
aigw_cc_env_names(aigw_cc_source_e source)
{
    switch (source) {

    case AIGW_CC_CHAIN:
        return aigw_cc_env_all;

    case AIGW_CC_FILE:
        return aigw_cc_env_file;

    case AIGW_CC_ENV:
        return aigw_cc_env_env;

    case AIGW_CC_WEB_IDENTITY:
        return aigw_cc_env_web_identity;

    case AIGW_CC_ECS:
        return aigw_cc_env_ecs;

    case AIGW_CC_IMDS:
        return aigw_cc_env_imds;

    default:
        return aigw_cc_env_none;
    }
}


static int
aigw_cc_digits(const char **p, const char *end, int n, int *v)
{
    int  i;

    *v = 0;

    for (i = 0; i < n; i++) {
        if (*p >= end || **p < '0' || **p > '9') {
            return -1;
        }

        *v = *v * 10 + (**p - '0');
        (*p)++;
    }

    return 0;
}


time_t
aigw_cc_parse_time(const char *p, size_t len)
{
    int          year, mon, day, hour, min, sec, oh, om, sign, leap;
    long long    days, y, m, t;
    const char  *end;

    static const int  mdays[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    end = p + len;

    if (aigw_cc_digits(&p, end, 4, &year) || p >= end || *p++ != '-'
        || aigw_cc_digits(&p, end, 2, &mon) || p >= end || *p++ != '-'
        || aigw_cc_digits(&p, end, 2, &day) || p >= end
        || (*p != 'T' && *p != 't'))
    {
        return -1;
    }

    p++;

    if (aigw_cc_digits(&p, end, 2, &hour) || p >= end || *p++ != ':'
        || aigw_cc_digits(&p, end, 2, &min) || p >= end || *p++ != ':'
        || aigw_cc_digits(&p, end, 2, &sec))
    {
        return -1;
    }

    if (p < end && *p == '.') {
        p++;

        if (p >= end || *p < '0' || *p > '9') {
            return -1;
        }

        while (p < end && *p >= '0' && *p <= '9') {
            p++;
        }
    }

    if (p >= end) {
        return -1;
    }

    oh = 0;
    om = 0;
    sign = 1;

    if (*p == 'Z' || *p == 'z') {
        p++;

    } else if (*p == '+' || *p == '-') {
        sign = (*p == '-') ? -1 : 1;
        p++;

        if (aigw_cc_digits(&p, end, 2, &oh)) {
            return -1;
        }

        if (p < end && *p == ':') {
            p++;
        }

        if (aigw_cc_digits(&p, end, 2, &om) || oh > 23 || om > 59) {
            return -1;
        }

    } else {
        return -1;
    }

    if (p != end) {
        return -1;
    }

    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

    if (year < 1970 || mon < 1 || mon > 12 || day < 1
        || day > mdays[mon - 1] + (mon == 2 && leap)
        || hour > 23 || min > 59 || sec > 60)
    {
        return -1;
    }

    /* days since 1970-01-01 of a proleptic Gregorian date */
    y = year - (mon <= 2);
    m = mon <= 2 ? mon + 9 : mon - 3;
    days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + day - 1
           - 719468;

    t = days * 86400 + hour * 3600 + min * 60 + sec
        - sign * (oh * 3600 + om * 60);

    if (t < 0) {
        return -1;
    }

    return (time_t) t;
}


/* memory */

void *
aigw_cc_alloc(aigw_cc_t *cc, size_t size)
{
    aigw_cc_blk_t  *b;

    if (size > AIGW_CC_MEM_MAX || cc->mem + size > AIGW_CC_MEM_MAX) {
        return NULL;
    }

    b = malloc(sizeof(aigw_cc_blk_t) + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = cc->blocks;
    b->size = size;
    cc->blocks = b;
    cc->mem += size;

    return b + 1;
}


void
aigw_cc_free(aigw_cc_t *cc, void *p)
{
    aigw_cc_blk_t  **bp, *b;

    for (bp = &cc->blocks; *bp; bp = &(*bp)->next) {
        b = *bp;

        if ((void *) (b + 1) == p) {
            *bp = b->next;
            cc->mem -= b->size;
            OPENSSL_cleanse(b, sizeof(aigw_cc_blk_t) + b->size);
            free(b);
            return;
        }
    }
}


char *
aigw_cc_strndup(aigw_cc_t *cc, const char *p, size_t len)
{
    char  *s;

    s = aigw_cc_alloc(cc, len + 1);
    if (s == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(s, p, len);
    }

    s[len] = '\0';

    return s;
}


char *
aigw_cc_sprintf(aigw_cc_t *cc, const char *fmt, ...)
{
    int       n;
    char     *s;
    va_list   args;

    va_start(args, fmt);
    n = vsnprintf(NULL, 0, fmt, args);
    va_end(args);

    if (n < 0) {
        return NULL;
    }

    s = aigw_cc_alloc(cc, (size_t) n + 1);
    if (s == NULL) {
        return NULL;
    }

    va_start(args, fmt);
    vsnprintf(s, (size_t) n + 1, fmt, args);
    va_end(args);

    return s;
}


/* a value no error message may contain */
void
aigw_cc_secret(aigw_cc_t *cc, const char *s)
{
    if (s && *s && cc->nsecrets < AIGW_CC_SECRETS_MAX) {
        cc->secrets[cc->nsecrets++] = s;
    }
}


void
aigw_cc_fail(aigw_cc_t *cc, int not_found, const char *fmt, ...)
{
    char     *p;
    size_t    i, n, slen;
    va_list   args;

    va_start(args, fmt);
    vsnprintf(cc->err, sizeof(cc->err), fmt, args);
    va_end(args);

    /* the error names no secret, whatever a peer echoed */
    for (i = 0; i < cc->nsecrets; i++) {
        slen = strlen(cc->secrets[i]);

        if (slen < 4) {
            continue;
        }

        while ((p = strstr(cc->err, cc->secrets[i])) != NULL) {
            for (n = 0; n < slen; n++) {
                p[n] = '*';
            }
        }

        /* and no long prefix of one cut off at the end */
        n = strlen(cc->err);

        for (slen = slen - 1; slen >= 8; slen--) {
            if (n >= slen
                && memcmp(cc->err + n - slen, cc->secrets[i], slen) == 0)
            {
                memset(cc->err + n - slen, '*', slen);
                break;
            }
        }
    }

    /* one line of printable text, whatever a peer or a variable held */
    for (p = cc->err; *p; p++) {
        if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f) {
            *p = '?';
        }
    }

    cc->result.error = cc->err;
    cc->result.not_found = not_found;
    cc->state = S_FAILED;
}


void
aigw_cc_nomem(aigw_cc_t *cc)
{
    aigw_cc_fail(cc, 0, "the credentials chain is out of memory");
}


/* a peer's text made printable, for a message */
void
aigw_cc_clean(char *dst, size_t size, const char *p, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len && n + 1 < size; i++) {
        dst[n++] = (p[i] >= 0x20 && p[i] < 0x7f) ? p[i] : '?';
    }

    if (size) {
        dst[n] = '\0';
    }
}


const char *
aigw_cc_getenv(aigw_cc_t *cc, int e)
{
    return cc->env[e];
}


/* the state machine; returns 1 when "act" is to be done */

int
aigw_cc_step(aigw_cc_t *cc, aigw_cc_action_t *act)
{
    switch (cc->state) {

    case S_START:
        switch (cc->source) {

        case AIGW_CC_CHAIN:
            cc->chain = 1;

            if (aigw_cc_getenv(cc, E_AKID) || aigw_cc_getenv(cc, E_SECRET)) {
                cc->state = S_ENV;
            } else {
                cc->state = S_CHAIN_WI;
            }

            return 0;

        case AIGW_CC_ENV:
            cc->state = S_ENV;
            return 0;

        case AIGW_CC_WEB_IDENTITY:
            cc->state = S_WI_ENV;
            return 0;

        case AIGW_CC_FILE:
            cc->state = S_FILE;
            return 0;

        case AIGW_CC_ECS:
            cc->state = S_ECS;
            return 0;

        case AIGW_CC_IMDS:
            cc->state = S_IMDS;
            return 0;

        default:
            if (cc->keys.access_key.len == 0
                || cc->keys.secret_key.len == 0)
            {
                aigw_cc_fail(cc, 1, "no static keys given");
                return 0;
            }

            if (aigw_cc_set_creds(cc, cc->keys.access_key.data,
                                  cc->keys.access_key.len,
                                  cc->keys.secret_key.data,
                                  cc->keys.secret_key.len,
                                  cc->keys.session_token.data,
                                  cc->keys.session_token.len, 0, 0,
                                  "the static keys")
                == 0)
            {
                cc->result.origin = "static keys";
                cc->result.source = AIGW_CC_STATIC;
                aigw_cc_done(cc);
            }

            return 0;
        }

    case S_CHAIN_WI:
        cc->state = aigw_cc_getenv(cc, E_WI_FILE) ? S_WI_ENV : S_CHAIN_FILE;
        return 0;

    case S_CHAIN_FILE:
        cc->state = S_FILE;
        return 0;

    case S_CHAIN_ECS:
        if (aigw_cc_getenv(cc, E_ECS_RELATIVE)
            || aigw_cc_getenv(cc, E_ECS_FULL))
        {
            cc->state = S_ECS;
        } else {
            cc->state = S_CHAIN_IMDS;
        }

        return 0;

    case S_CHAIN_IMDS:
        cc->state = S_IMDS;
        return 0;

    case S_ENV:
        if (aigw_cc_env_creds(cc, "the environment") == 0) {
            cc->result.origin = "environment";
            cc->result.source = AIGW_CC_ENV;
            aigw_cc_done(cc);
        }

        return 0;

    case S_WI_ENV:
        if (aigw_cc_getenv(cc, E_WI_FILE) == NULL) {
            aigw_cc_fail(cc, 1, "AWS_WEB_IDENTITY_TOKEN_FILE is not set");
            return 0;
        }

        if (aigw_cc_getenv(cc, E_ROLE_ARN) == NULL) {
            aigw_cc_fail(cc, 0, "AWS_WEB_IDENTITY_TOKEN_FILE is set but "
                         "AWS_ROLE_ARN is not");
            return 0;
        }

        cc->wi_file = cc->env[E_WI_FILE];
        cc->wi_role = cc->env[E_ROLE_ARN];
        cc->wi_session = cc->env[E_ROLE_SESSION];
        cc->wi_duration = NULL;
        cc->result.source = AIGW_CC_WEB_IDENTITY;
        cc->nhops = 0;

        return aigw_cc_wi_start(cc, act);

    case S_WI_TOKEN:
        return aigw_cc_wi_request(cc, act);

    case S_WI_RESP:
        if (aigw_cc_sts_answer(cc, "AssumeRoleWithWebIdentity") == 0) {
            cc->state = S_GOT;
        }

        return 0;

    case S_FILE:
        cc->result.source = AIGW_CC_FILE;
        return aigw_cc_file_start(cc, act);

    case S_FILE_CREDS:
        if (aigw_cc_file_got(cc, 0) != 0) {
            return 0;
        }

        act->step = AIGW_CC_READ_FILE;
        act->path = cc->path[1];
        cc->state = S_FILE_CONFIG;
        return 1;

    case S_FILE_CONFIG:
        if (aigw_cc_file_got(cc, 1) != 0) {
            return 0;
        }

        (void) aigw_cc_plan(cc);
        return 0;

    case S_BASE:
        return aigw_cc_base(cc, act);

    case S_ECS:
        if (cc->base != B_ECS) {
            cc->result.source = AIGW_CC_ECS;
        }

        return aigw_cc_ecs_start(cc, act);

    case S_ECS_TOKEN:
        return aigw_cc_ecs_request(cc, act);

    case S_ECS_RESP:
        if (aigw_cc_ecs_answer(cc) == 0) {
            cc->state = S_GOT;
        }

        return 0;

    case S_IMDS:
        if (cc->base != B_IMDS) {
            cc->result.source = AIGW_CC_IMDS;
        }

        return aigw_cc_imds_start(cc, act);

    case S_IMDS_TOKEN:
    case S_IMDS_ROLE:
    case S_IMDS_CREDS:
        if (aigw_cc_imds_answer(cc) != 0 || cc->state == S_GOT) {
            return 0;
        }

        /* the token got: the role's name; the name got: its credentials */
        return aigw_cc_imds_request(cc, act, "GET",
                                    cc->state == S_IMDS_ROLE
                                    ? AIGW_CC_IMDS_CREDS : cc->imds_role);

    case S_PROCESS_RESP:
        if (aigw_cc_process_answer(cc) == 0) {
            cc->state = S_GOT;
        }

        return 0;

    case S_GOT:
        if (cc->nhops == 0) {
            aigw_cc_done(cc);
            return 0;
        }

        return aigw_cc_hop_request(cc, act);

    case S_HOP_RESP:
        if (aigw_cc_sts_answer(cc, "AssumeRole") == 0) {
            cc->nhops--;
            cc->state = S_GOT;
        }

        return 0;

    default:
        aigw_cc_fail(cc, 0, "the credentials chain is in no known state");
        return 0;
    }
}


int
aigw_cc_done(aigw_cc_t *cc)
{
    if (cc->result.error != NULL) {
        cc->state = S_FAILED;
        return -1;
    }

    cc->result.creds = cc->cur;
    cc->result.expiration = cc->cur_exp;
    cc->result.error = NULL;
    cc->result.not_found = 0;

    if (cc->result.origin == NULL) {
        cc->result.origin = "unknown";
    }

    cc->state = S_DONE;

    return 0;
}


/* credentials */

int
aigw_cc_valid_key_id(const char *p, size_t len, int strict)
{
    size_t  i;

    if (!strict) {
        return aigw_cc_valid_printable(p, len, AIGW_CC_KEY_MAX);
    }

    if (len < 16 || len > AIGW_CC_KEY_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9'))) {
            return 0;
        }
    }

    return 1;
}


int
aigw_cc_valid_printable(const char *p, size_t len, size_t max)
{
    size_t  i;

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if ((unsigned char) p[i] <= 0x20 || (unsigned char) p[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


/*
 * Checks and keeps credentials.  "strict": from a peer (STS, a
 * container endpoint, IMDS, a process), the key id [A-Z0-9]{16,128};
 * otherwise (the operator's: the environment, a file, the static keys)
 * printable.  Either way nothing can break a header line.
 */

int
aigw_cc_set_creds(aigw_cc_t *cc, const char *akid, size_t akid_len,
    const char *secret, size_t secret_len, const char *token,
    size_t token_len, time_t exp, int strict, const char *what)
{
    char  *a, *s, *t;

    if (!aigw_cc_valid_key_id(akid, akid_len, strict)) {
        aigw_cc_fail(cc, 0, "%s: the access key id is not valid "
                     "(%zu bytes)", what, akid_len);
        return -1;
    }

    if (!aigw_cc_valid_printable(secret, secret_len, AIGW_CC_KEY_MAX)) {
        aigw_cc_fail(cc, 0, "%s: the secret access key is not valid "
                     "(%zu bytes)", what, secret_len);
        return -1;
    }

    if (token_len
        && !aigw_cc_valid_printable(token, token_len, AIGW_CC_TOKEN_MAX))
    {
        aigw_cc_fail(cc, 0, "%s: the session token is not valid "
                     "(%zu bytes)", what, token_len);
        return -1;
    }

    if (exp != 0 && exp - AIGW_CC_EXPIRY_MARGIN <= cc->now) {
        aigw_cc_fail(cc, 0, "%s: the credentials have expired "
                     "(%lld seconds ago)", what,
                     (long long) (cc->now - exp));
        return -1;
    }

    a = aigw_cc_strndup(cc, akid, akid_len);
    s = aigw_cc_strndup(cc, secret, secret_len);
    t = aigw_cc_strndup(cc, token_len ? token : "", token_len);

    if (a == NULL || s == NULL || t == NULL) {
        aigw_cc_nomem(cc);
        return -1;
    }

    aigw_cc_secret(cc, s);
    aigw_cc_secret(cc, t);

    cc->cur.access_key.data = a;
    cc->cur.access_key.len = akid_len;
    cc->cur.secret_key.data = s;
    cc->cur.secret_key.len = secret_len;
    cc->cur.session_token.data = t;
    cc->cur.session_token.len = token_len;
    cc->cur_exp = exp;
    cc->cur_obtained = cc->now;

    return 0;
}


int
aigw_cc_env_creds(aigw_cc_t *cc, const char *what)
{
    const char  *akid, *secret, *token;

    akid = aigw_cc_getenv(cc, E_AKID);
    secret = aigw_cc_getenv(cc, E_SECRET);
    token = aigw_cc_getenv(cc, E_TOKEN);

    if (token == NULL) {
        token = aigw_cc_getenv(cc, E_SECURITY_TOKEN);
    }

    if (akid == NULL && secret == NULL) {
        aigw_cc_fail(cc, 1, "%s: AWS_ACCESS_KEY_ID and "
                     "AWS_SECRET_ACCESS_KEY are not set", what);
        return -1;
    }

    if (akid == NULL || secret == NULL) {
        aigw_cc_fail(cc, 0, "%s: %s is set but %s is not", what,
                     akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                     akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        return -1;
    }

    return aigw_cc_set_creds(cc, akid, strlen(akid), secret, strlen(secret),
                             token, token ? strlen(token) : 0, 0, 0, what);
}
