
/*
 * ngx_http_aigw_module: where the AWS credentials come from.
 *
 * The chain itself (which source, in which order, STS, the container
 * endpoint, IMDS, profiles) is the core's (aigw_credchain.h), the same
 * the CLI runs; this file runs it on nginx's terms:
 *
 *   - the environment the chain sees is the workers' one, as nginx's
 *     "env" directives make it, in the master as in the workers; a
 *     variable the master has and the workers are not given is named at
 *     start-up with the "env" line that passes it;
 *   - at configuration time, in the master, the chain runs as far as it
 *     can without the network (variables, files): credentials found so
 *     are there when the workers start; "nginx -t" never waits on the
 *     network;
 *   - in the workers, a timer looks once a second whether credentials
 *     are missing, due for refresh (less than min(5 minutes, half their
 *     lifetime) left) or, for keys from files, due for a look at the
 *     files again (each minute); one worker takes the fetch (a lease in
 *     shared memory) and runs the chain on the event loop
 *     (ngx_http_aigw_fetch.c); the result goes to shared memory, where
 *     every worker finds it;
 *   - a failed fetch is logged once, retried after 1, 2, 4 ... 60
 *     seconds with jitter, and the current credentials stay in use until
 *     they expire; a request is never signed with credentials in their
 *     last AIGW_CC_EXPIRY_MARGIN seconds: without credentials, it gets
 *     503 and nothing is logged per request.
 *
 * "static" keys need none of this: they are the configuration's.
 */


#include <pwd.h>

#include "ngx_http_aigw_module.h"
#include "ngx_http_aigw_fetch.h"
#include "aigw_credchain.h"
#include "aigw_file.h"


#define NGX_HTTP_AIGW_CREDS_TICK       1000
#define NGX_HTTP_AIGW_CREDS_RECHECK    60       /* s: keys from files */
#define NGX_HTTP_AIGW_CREDS_LEASE      120      /* s: a fetch is stale */
#define NGX_HTTP_AIGW_CREDS_BACKOFF    60       /* s: the longest wait */
#define NGX_HTTP_AIGW_CREDS_QUIET      300      /* s: a repeated error */

#define NGX_HTTP_AIGW_CREDS_AKID_MAX   128
#define NGX_HTTP_AIGW_CREDS_SECRET_MAX 128
#define NGX_HTTP_AIGW_CREDS_ORIGIN_MAX 256


/* what the workers share; written by the holder of the lease only */

typedef struct {
    ngx_atomic_t                    seq;        /* odd: being written */
    ngx_atomic_t                    lease;      /* the fetching pid */
    time_t                          lease_time;

    size_t                          akid_len;   /* 0: none yet */
    size_t                          secret_len;
    size_t                          token_len;
    time_t                          expiration; /* 0: does not */
    time_t                          obtained;
    time_t                          refresh_at; /* 0: never */
    time_t                          recheck;    /* 0: never */
    ngx_uint_t                      source;

    ngx_uint_t                      failures;
    time_t                          next_try;
    time_t                          error_logged;
    uint32_t                        error_crc;

    u_char                          origin[NGX_HTTP_AIGW_CREDS_ORIGIN_MAX];
    u_char                          akid[NGX_HTTP_AIGW_CREDS_AKID_MAX];
    u_char                          secret[NGX_HTTP_AIGW_CREDS_SECRET_MAX];
    u_char                          token[AIGW_CC_TOKEN_MAX];
} ngx_http_aigw_creds_shm_t;


struct ngx_http_aigw_creds_s {
    aigw_cc_source_e                source;
    ngx_str_t                       profile;    /* NUL-terminated, or 0 */
    aigw_creds_t                    keys;       /* static */
    ngx_str_t                       region;     /* NUL-terminated */
    ngx_str_t                       sts;        /* NUL-terminated, or 0 */
    ngx_str_t                       home;       /* NUL-terminated */

    ngx_shm_zone_t                 *zone;       /* NULL: static */
    ngx_http_aigw_creds_shm_t      *sh;         /* in the zone */
    ngx_core_conf_t                *ccf;        /* its "env" lines */
    ngx_str_t                       missing;    /* "env A; env B;" */
    ngx_resolver_t                 *resolver;
    ngx_msec_t                      resolver_timeout;
    ngx_http_aigw_fetch_conf_t      fetch;

    /* in each worker */
    ngx_event_t                     timer;
    aigw_cc_t                      *cc;         /* a fetch in progress */
    ngx_pool_t                     *pool;       /* its memory */
    ngx_http_aigw_fetch_t          *op;
    ngx_uint_t                      op_process;

    ngx_atomic_uint_t               seq;        /* of the copy below */
    aigw_creds_t                    creds;      /* len 0: none */
    u_char                         *mem;
    size_t                          mem_size;
    time_t                          expiration;
};


static ngx_http_aigw_creds_t *ngx_http_aigw_creds_create(ngx_conf_t *cf,
    ngx_str_t *value, ngx_uint_t n);
static ngx_int_t ngx_http_aigw_creds_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static const char *ngx_http_aigw_creds_getenv(void *data, const char *name);
static void ngx_http_aigw_creds_cc_conf(ngx_http_aigw_creds_t *creds,
    aigw_cc_conf_t *conf);
static ngx_uint_t ngx_http_aigw_creds_env_missing(
    ngx_http_aigw_creds_t *creds, const char *name);
static ngx_int_t ngx_http_aigw_creds_env_check(ngx_cycle_t *cycle,
    ngx_http_aigw_creds_t *creds);
static void ngx_http_aigw_creds_read_file(ngx_http_aigw_creds_t *creds,
    const char *path);
static void ngx_http_aigw_creds_timer(ngx_event_t *ev);
static void ngx_http_aigw_creds_start(ngx_http_aigw_creds_t *creds);
static void ngx_http_aigw_creds_step(ngx_http_aigw_creds_t *creds);
static void ngx_http_aigw_creds_fetched(void *data, ngx_int_t status,
    ngx_str_t *body, const char *error);
static void ngx_http_aigw_creds_done(ngx_http_aigw_creds_t *creds,
    const aigw_cc_result_t *res);
static void ngx_http_aigw_creds_failed(ngx_http_aigw_creds_t *creds,
    const aigw_cc_result_t *res);
static void ngx_http_aigw_creds_finish(ngx_http_aigw_creds_t *creds);
static ngx_int_t ngx_http_aigw_creds_publish(ngx_http_aigw_creds_shm_t *sh,
    const aigw_cc_result_t *res, time_t now);
static ngx_int_t ngx_http_aigw_creds_sync(ngx_http_aigw_creds_t *creds,
    ngx_log_t *log);
static ngx_int_t ngx_http_aigw_creds_set(ngx_http_aigw_creds_t *creds,
    const aigw_creds_t *c, ngx_log_t *log);
static void ngx_http_aigw_creds_cleanup(void *data);


char *
ngx_http_aigw_credentials(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    if (amcf->creds) {
        return "is duplicate";
    }

    amcf->creds = ngx_http_aigw_creds_create(cf, cf->args->elts,
                                             cf->args->nelts);
    if (amcf->creds == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* "aigw_credentials NAME [ARGS]", value[0] the directive's name */

static ngx_http_aigw_creds_t *
ngx_http_aigw_creds_create(ngx_conf_t *cf, ngx_str_t *value, ngx_uint_t n)
{
    int                     source;
    ngx_uint_t              max, min;
    ngx_pool_cleanup_t     *cln;
    ngx_http_aigw_creds_t  *creds;

    source = aigw_cc_source((char *) value[1].data, value[1].len);

    if (source < 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown credentials provider \"%V\", it must be "
                           "\"chain\", \"env\", \"file [PROFILE]\", "
                           "\"web_identity\", \"ecs\", \"imds\" or "
                           "\"static AKID SECRET [TOKEN]\"", &value[1]);
        return NULL;
    }

    switch (source) {

    case AIGW_CC_STATIC:
        min = 2;
        max = 3;
        break;

    case AIGW_CC_FILE:
        min = 0;
        max = 1;
        break;

    default:
        min = 0;
        max = 0;
    }

    if (n - 2 < min || n - 2 > max) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid number of arguments in "
                           "\"aigw_credentials %V\"", &value[1]);
        return NULL;
    }

    creds = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_creds_t));
    if (creds == NULL) {
        return NULL;
    }

    creds->source = source;

    if (source == AIGW_CC_FILE && n == 3) {
        creds->profile = value[2];
    }

    if (source == AIGW_CC_STATIC) {
        creds->keys.access_key.data = (char *) value[2].data;
        creds->keys.access_key.len = value[2].len;
        creds->keys.secret_key.data = (char *) value[3].data;
        creds->keys.secret_key.len = value[3].len;

        if (n == 5) {
            creds->keys.session_token.data = (char *) value[4].data;
            creds->keys.session_token.len = value[4].len;
        }

        if (ngx_http_aigw_creds_set(creds, &creds->keys, cf->log) != NGX_OK)
        {
            return NULL;
        }
    }

    /* the worker's copy is on the heap: a refresh replaces it */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_aigw_creds_cleanup;
    cln->data = creds;

    return creds;
}


ngx_int_t
ngx_http_aigw_creds_init_conf(ngx_conf_t *cf, ngx_http_aigw_main_conf_t *amcf)
{
    u_char                     *p;
    char                       *home;
    size_t                      size;
    uint32_t                    crc;
    ngx_str_t                   name, chain[2];
    struct passwd              *pw;
    ngx_http_aigw_creds_t      *creds;
    ngx_http_aigw_loc_conf_t   *alcf;
    ngx_http_core_loc_conf_t   *clcf;
    ngx_http_aigw_endpoint_t   *sts;

    if (amcf->creds == NULL) {

        /* the default: "aigw_credentials chain" */

        ngx_str_set(&chain[0], "aigw_credentials");
        ngx_str_set(&chain[1], "chain");

        amcf->creds = ngx_http_aigw_creds_create(cf, chain, 2);
        if (amcf->creds == NULL) {
            return NGX_ERROR;
        }
    }

    creds = amcf->creds;

    if (creds->source == AIGW_CC_STATIC) {
        return NGX_OK;
    }

    /* what the chain needs that only the configuration knows */

    alcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_aigw_module);
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (alcf->region.len) {
        creds->region.data = ngx_pnalloc(cf->pool, alcf->region.len + 1);
        if (creds->region.data == NULL) {
            return NGX_ERROR;
        }

        creds->region.len = alcf->region.len;
        ngx_memcpy(creds->region.data, alcf->region.data, alcf->region.len);
        creds->region.data[creds->region.len] = '\0';
    }

    sts = &alcf->endpoints[NGX_HTTP_AIGW_ENDPOINT_STS];

    if (sts->url.len) {
        creds->sts.data = ngx_pnalloc(cf->pool, sts->url.len + 1);
        if (creds->sts.data == NULL) {
            return NGX_ERROR;
        }

        creds->sts.len = sts->url.len;
        ngx_memcpy(creds->sts.data, sts->url.data, sts->url.len);
        creds->sts.data[creds->sts.len] = '\0';
    }

    if (creds->profile.len) {
        creds->profile.data = (u_char *) ngx_pstrdup(cf->pool,
                                                     &creds->profile);
        if (creds->profile.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_pnalloc(cf->pool, creds->profile.len + 1);
        if (p == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(p, creds->profile.data, creds->profile.len);
        p[creds->profile.len] = '\0';
        creds->profile.data = p;
    }

    /*
     * ~/.aws is the master's, as nginx was started: the workers may run
     * as another user, with no HOME at all
     */

    home = getenv("HOME");

    if (home == NULL || *home == '\0') {
        pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }

    creds->home.len = ngx_strlen(home);
    creds->home.data = ngx_pnalloc(cf->pool, creds->home.len + 1);
    if (creds->home.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(creds->home.data, home, creds->home.len + 1);

    creds->resolver = clcf->resolver;
    creds->resolver_timeout = clcf->resolver_timeout;

    /*
     * One zone per configuration of the chain: a reload that keeps it
     * keeps the credentials fetched; one that changes it starts afresh,
     * and the old workers keep theirs until they exit.
     */

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, (u_char *) aigw_cc_source_name(creds->source),
                     ngx_strlen(aigw_cc_source_name(creds->source)));
    ngx_crc32_update(&crc, (u_char *) "|", 1);
    ngx_crc32_update(&crc, creds->profile.data, creds->profile.len);
    ngx_crc32_update(&crc, (u_char *) "|", 1);
    ngx_crc32_update(&crc, creds->region.data, creds->region.len);
    ngx_crc32_update(&crc, (u_char *) "|", 1);
    ngx_crc32_update(&crc, creds->sts.data, creds->sts.len);
    ngx_crc32_update(&crc, (u_char *) "|", 1);
    ngx_crc32_update(&crc, creds->home.data, creds->home.len);
    ngx_crc32_final(crc);

    name.data = ngx_pnalloc(cf->pool, sizeof("aigw_credentials_") - 1 + 8);
    if (name.data == NULL) {
        return NGX_ERROR;
    }

    name.len = ngx_sprintf(name.data, "aigw_credentials_%08xD", crc)
               - name.data;

    size = 8 * ngx_pagesize
           + ngx_align(sizeof(ngx_http_aigw_creds_shm_t), ngx_pagesize);

    creds->zone = ngx_shared_memory_add(cf, &name, size,
                                        &ngx_http_aigw_module);
    if (creds->zone == NULL) {
        return NGX_ERROR;
    }

    creds->zone->init = ngx_http_aigw_creds_zone_init;
    creds->zone->data = creds;

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_creds_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_aigw_creds_t  *creds = shm_zone->data;

    ngx_slab_pool_t  *shpool;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        /* a reload with the same chain: what was fetched stays */
        creds->sh = shpool->data;
        return NGX_OK;
    }

    creds->sh = ngx_slab_calloc(shpool, sizeof(ngx_http_aigw_creds_shm_t));
    if (creds->sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = creds->sh;

    return NGX_OK;
}


/*
 * In the master, once the whole configuration is read (the "env" lines
 * may follow http{}): the workers' environment, the lines it lacks, the
 * TLS context of STS, and the chain run as far as it goes without the
 * network.
 */

ngx_int_t
ngx_http_aigw_creds_init_module(ngx_cycle_t *cycle,
    ngx_http_aigw_creds_t *creds)
{
    const char                 *ca;
    ngx_str_t                   ca_file;
    ngx_uint_t                  explicit;
    ngx_conf_t                  cf;
    aigw_cc_t                  *cc;
    aigw_cc_conf_t              conf;
    aigw_cc_action_t            act;
    const aigw_cc_result_t     *res;
    ngx_http_aigw_creds_shm_t  *sh;

    if (creds->source == AIGW_CC_STATIC) {
        return NGX_OK;
    }

    creds->ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx,
                                                  ngx_core_module);

    if (ngx_http_aigw_creds_env_check(cycle, creds) != NGX_OK) {
        return NGX_ERROR;
    }

#if (NGX_SSL)
    ngx_memzero(&cf, sizeof(ngx_conf_t));
    cf.cycle = cycle;
    cf.pool = cycle->pool;
    cf.temp_pool = cycle->pool;
    cf.log = cycle->log;

    ca = ngx_http_aigw_creds_getenv(creds, "AWS_CA_BUNDLE");

    ca_file.data = (u_char *) (ca ? ca : "");
    ca_file.len = ngx_strlen(ca_file.data);

    if (ngx_http_aigw_peer_ssl(&cf, &creds->fetch.ssl, &ca_file) != NGX_OK) {
        return NGX_ERROR;
    }
#endif

    creds->fetch.resolver = creds->resolver;
    creds->fetch.resolver_timeout = creds->resolver_timeout;

    explicit = (creds->source != AIGW_CC_CHAIN);

    ngx_http_aigw_creds_cc_conf(creds, &conf);

    creds->pool = ngx_create_pool(4096, cycle->log);
    if (creds->pool == NULL) {
        return NGX_ERROR;
    }

    cc = aigw_cc_create(&conf);
    if (cc == NULL) {
        ngx_destroy_pool(creds->pool);
        creds->pool = NULL;
        return NGX_ERROR;
    }

    creds->cc = cc;

    for ( ;; ) {
        aigw_cc_next(cc, ngx_time(), &act);

        if (act.step == AIGW_CC_READ_FILE) {
            ngx_http_aigw_creds_read_file(creds, act.path);
            continue;
        }

        break;
    }

    res = aigw_cc_result(cc);
    sh = creds->sh;

    switch (act.step) {

    case AIGW_CC_DONE:

        if (sh && ngx_atomic_cmp_set(&sh->lease, 0, ngx_pid)) {
            (void) ngx_http_aigw_creds_publish(sh, res, ngx_time());
            (void) ngx_atomic_cmp_set(&sh->lease, ngx_pid, 0);
        }

        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "aigw: AWS credentials from %s", res->origin);
        break;

    case AIGW_CC_FAILED:

        if (explicit) {
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                          "aigw_credentials %s: %s%V",
                          aigw_cc_source_name(creds->source), res->error,
                          &creds->missing);
            goto failed;
        }

        if (!res->not_found) {
            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "aigw_credentials chain: %s%V", res->error,
                          &creds->missing);
            break;
        }

        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "aigw: no AWS credentials found (%s)%V; gateway "
                      "requests get 503 until they appear", res->error,
                      &creds->missing);
        break;

    default:
        /* the network is the workers' */
        ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                      "aigw: AWS credentials of \"%s\" are fetched by the "
                      "workers", aigw_cc_source_name(creds->source));
        break;
    }

    aigw_cc_destroy(cc);
    creds->cc = NULL;
    ngx_destroy_pool(creds->pool);
    creds->pool = NULL;

    return NGX_OK;

failed:

    aigw_cc_destroy(cc);
    creds->cc = NULL;
    ngx_destroy_pool(creds->pool);
    creds->pool = NULL;

    return NGX_ERROR;
}


/*
 * The workers' environment: a variable named by an "env" line, with the
 * line's value or the master's; nothing else (nginx clears the rest).
 * In a worker, getenv() gives the same answer.
 */

static const char *
ngx_http_aigw_creds_getenv(void *data, const char *name)
{
    ngx_http_aigw_creds_t *creds = data;

    size_t       len;
    ngx_str_t   *var;
    ngx_uint_t   i;

    if (creds->ccf == NULL) {
        return NULL;
    }

    len = ngx_strlen(name);
    var = creds->ccf->env.elts;

    for (i = 0; i < creds->ccf->env.nelts; i++) {

        /* "env NAME=VALUE": the length is the name's, "=VALUE" follows */

        if (var[i].len != len || ngx_strncmp(var[i].data, name, len) != 0) {
            continue;
        }

        if (var[i].data[len] == '=') {
            return (const char *) var[i].data + len + 1;
        }

        return getenv(name);
    }

    return NULL;
}


static void
ngx_http_aigw_creds_cc_conf(ngx_http_aigw_creds_t *creds, aigw_cc_conf_t *conf)
{
    ngx_memzero(conf, sizeof(aigw_cc_conf_t));

    conf->source = creds->source;
    conf->profile = creds->profile.len ? (char *) creds->profile.data : NULL;
    conf->region = creds->region.len ? (char *) creds->region.data : NULL;
    conf->sts_endpoint = creds->sts.len ? (char *) creds->sts.data : NULL;
    conf->getenv = ngx_http_aigw_creds_getenv;
    conf->env_data = creds;
    conf->home = (char *) creds->home.data;
}


/*
 * A variable the chain would read that the master has and the workers do
 * not; the region is not one when aigw_region gives it, nor HOME (~/.aws
 * is the master's, given to the chain).
 */

static ngx_uint_t
ngx_http_aigw_creds_env_missing(ngx_http_aigw_creds_t *creds,
    const char *name)
{
    const char  *v;

    if (ngx_strcmp(name, "HOME") == 0
        || (creds->region.len
            && (ngx_strcmp(name, "AWS_REGION") == 0
                || ngx_strcmp(name, "AWS_DEFAULT_REGION") == 0)))
    {
        return 0;
    }

    v = getenv(name);

    return v && *v && ngx_http_aigw_creds_getenv(creds, name) == NULL;
}


/* the variables the chain reads that the master has and workers do not */

static ngx_int_t
ngx_http_aigw_creds_env_check(ngx_cycle_t *cycle,
    ngx_http_aigw_creds_t *creds)
{
    u_char              *p;
    size_t               len;
    const char *const   *name;

    len = 0;

    for (name = aigw_cc_env_names(creds->source); *name; name++) {

        if (!ngx_http_aigw_creds_env_missing(creds, *name)) {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "aigw: %s is set in nginx's environment, but nginx "
                      "workers do not see it: add \"env %s;\" to the main "
                      "context of nginx.conf", *name, *name);

        len += sizeof(" env ;") - 1 + ngx_strlen(*name);
    }

    if (len == 0) {
        return NGX_OK;
    }

    len += sizeof("; nginx.conf lacks") - 1;

    p = ngx_pnalloc(cycle->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    creds->missing.data = p;
    p = ngx_cpymem(p, "; nginx.conf lacks", sizeof("; nginx.conf lacks") - 1);

    for (name = aigw_cc_env_names(creds->source); *name; name++) {
        if (ngx_http_aigw_creds_env_missing(creds, *name)) {
            p = ngx_sprintf(p, " env %s;", *name);
        }
    }

    creds->missing.len = p - creds->missing.data;

    return NGX_OK;
}


/*
 * a small local file (a token, a profile): read whole, bounded, by the
 * core's reader, at start-up or in a timer, never on a request's path
 */

static void
ngx_http_aigw_creds_read_file(ngx_http_aigw_creds_t *creds, const char *path)
{
    int       err;
    char     *text, msg[AIGW_FILE_ERR_LEN];
    size_t    len;
    ngx_fd_t  fd;

    /*
     * any kind of file, as the SDKs read them ("/dev/null" for none); not
     * blocking, should it be a FIFO without a writer
     */

    fd = ngx_open_file(path, NGX_FILE_RDONLY|NGX_FILE_NONBLOCK,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        aigw_cc_file_done(creds->cc, ngx_errno ? ngx_errno : EIO, NULL, 0);
        return;
    }

    text = aigw_file_read_fd(fd, AIGW_CC_FILE_MAX, &len, msg, sizeof(msg));
    err = ngx_errno ? ngx_errno : EIO;

    (void) ngx_close_file(fd);

    if (text == NULL) {
        aigw_cc_file_done(creds->cc, err, NULL, 0);
        return;
    }

    aigw_cc_file_done(creds->cc, 0, text, len);

    free(text);
}


ngx_int_t
ngx_http_aigw_creds_init_worker(ngx_cycle_t *cycle,
    ngx_http_aigw_creds_t *creds)
{
    if (creds->zone == NULL) {
        return NGX_OK;
    }

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    creds->fetch.log = cycle->log;

    creds->timer.handler = ngx_http_aigw_creds_timer;
    creds->timer.data = creds;
    creds->timer.log = cycle->log;
    creds->timer.cancelable = 1;

    /* the first look at once: a worker may start with nothing */

    ngx_add_timer(&creds->timer, 1);

    return NGX_OK;
}


void
ngx_http_aigw_creds_exit_worker(ngx_http_aigw_creds_t *creds)
{
    if (creds == NULL || creds->zone == NULL) {
        return;
    }

    if (creds->op) {
        ngx_http_aigw_fetch_cancel(creds->op);
        creds->op = NULL;
    }

    if (creds->cc) {
        ngx_http_aigw_creds_finish(creds);
    }
}


static void
ngx_http_aigw_creds_timer(ngx_event_t *ev)
{
    ngx_http_aigw_creds_t *creds = ev->data;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (creds->cc == NULL) {
        ngx_http_aigw_creds_start(creds);
    }

    ngx_add_timer(ev, NGX_HTTP_AIGW_CREDS_TICK);
}


static ngx_uint_t
ngx_http_aigw_creds_due(ngx_http_aigw_creds_shm_t *sh, time_t now)
{
    if (now < sh->next_try) {
        return 0;
    }

    return sh->akid_len == 0
           || (sh->refresh_at && now >= sh->refresh_at)
           || (sh->recheck && now >= sh->recheck);
}


static void
ngx_http_aigw_creds_start(ngx_http_aigw_creds_t *creds)
{
    time_t                      now;
    ngx_atomic_uint_t           pid;
    aigw_cc_conf_t              conf;
    ngx_http_aigw_creds_shm_t  *sh;

    sh = creds->sh;
    now = ngx_time();

    if (!ngx_http_aigw_creds_due(sh, now)) {
        return;
    }

    /* the lease: one fetch for all workers; a dead fetcher's goes stale */

    if (!ngx_atomic_cmp_set(&sh->lease, 0, ngx_pid)) {
        pid = sh->lease;

        if (now - sh->lease_time < NGX_HTTP_AIGW_CREDS_LEASE
            || !ngx_atomic_cmp_set(&sh->lease, pid, ngx_pid))
        {
            return;
        }
    }

    sh->lease_time = now;

    /* another worker may have finished just now */

    if (!ngx_http_aigw_creds_due(sh, now)) {
        (void) ngx_atomic_cmp_set(&sh->lease, ngx_pid, 0);
        return;
    }

    creds->pool = ngx_create_pool(4096, ngx_cycle->log);
    if (creds->pool == NULL) {
        (void) ngx_atomic_cmp_set(&sh->lease, ngx_pid, 0);
        return;
    }

    ngx_http_aigw_creds_cc_conf(creds, &conf);

    creds->cc = aigw_cc_create(&conf);
    if (creds->cc == NULL) {
        ngx_destroy_pool(creds->pool);
        creds->pool = NULL;
        (void) ngx_atomic_cmp_set(&sh->lease, ngx_pid, 0);
        return;
    }

    ngx_http_aigw_creds_step(creds);
}


static void
ngx_http_aigw_creds_step(ngx_http_aigw_creds_t *creds)
{
    ngx_int_t          rc;
    aigw_cc_action_t   act;

    for ( ;; ) {
        aigw_cc_next(creds->cc, ngx_time(), &act);

        switch (act.step) {

        case AIGW_CC_READ_FILE:
            ngx_http_aigw_creds_read_file(creds, act.path);
            continue;

        case AIGW_CC_HTTP:
            creds->op_process = 0;
            rc = ngx_http_aigw_fetch_http(&creds->fetch, &act.http,
                                          ngx_http_aigw_creds_fetched, creds,
                                          &creds->op);
            if (rc != NGX_OK) {
                aigw_cc_http_done(creds->cc, 0, NULL, 0,
                                  "could not start the request");
                continue;
            }

            return;

        case AIGW_CC_PROCESS:
            creds->op_process = 1;
            rc = ngx_http_aigw_fetch_process(&creds->fetch, act.command,
                                             act.timeout_ms,
                                             ngx_http_aigw_creds_fetched,
                                             creds, &creds->op);
            if (rc != NGX_OK) {
                aigw_cc_process_done(creds->cc, -1, NULL, 0,
                                     "could not start the process");
                continue;
            }

            return;

        case AIGW_CC_DONE:
            ngx_http_aigw_creds_done(creds, aigw_cc_result(creds->cc));
            ngx_http_aigw_creds_finish(creds);
            return;

        default: /* AIGW_CC_FAILED */
            ngx_http_aigw_creds_failed(creds, aigw_cc_result(creds->cc));
            ngx_http_aigw_creds_finish(creds);
            return;
        }
    }
}


static void
ngx_http_aigw_creds_fetched(void *data, ngx_int_t status, ngx_str_t *body,
    const char *error)
{
    ngx_http_aigw_creds_t *creds = data;

    u_char  *p;
    size_t   len;

    creds->op = NULL;

    if (creds->cc == NULL) {
        return;
    }

    /* the body lives as long as the fetch: the chain may keep pointers */

    p = NULL;
    len = 0;

    if (body && body->len) {
        p = ngx_pnalloc(creds->pool, body->len + 1);
        if (p == NULL) {
            status = creds->op_process ? -1 : 0;
            error = "out of memory";

        } else {
            ngx_memcpy(p, body->data, body->len);
            p[body->len] = '\0';
            len = body->len;
        }
    }

    if (creds->op_process) {
        aigw_cc_process_done(creds->cc, (int) status, (char *) p, len, error);

    } else {
        aigw_cc_http_done(creds->cc, (int) status, (char *) p, len, error);
    }

    ngx_http_aigw_creds_step(creds);
}


static void
ngx_http_aigw_creds_done(ngx_http_aigw_creds_t *creds,
    const aigw_cc_result_t *res)
{
    time_t                      now;
    ngx_int_t                   rc;
    ngx_uint_t                  level, recovered;
    ngx_http_aigw_creds_shm_t  *sh;

    sh = creds->sh;
    now = ngx_time();

    recovered = (sh->failures != 0);

    rc = ngx_http_aigw_creds_publish(sh, res, now);

    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "aigw: AWS credentials from %s are too long",
                      res->origin);
        return;
    }

    if (rc == NGX_DECLINED && !recovered) {
        /* the same keys, from files looked at again */
        return;
    }

    level = (recovered || rc == NGX_OK) ? NGX_LOG_NOTICE : NGX_LOG_INFO;

    if (res->expiration) {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "aigw: AWS credentials from %s, valid for %T s%s",
                      res->origin, res->expiration - now,
                      recovered ? ", after failures" : "");

    } else {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "aigw: AWS credentials from %s%s", res->origin,
                      recovered ? ", after failures" : "");
    }
}


/*
 * Writes a result; NGX_DECLINED: the keys are those already there (only
 * the times move), NGX_OK: new keys.
 */

static ngx_int_t
ngx_http_aigw_creds_publish(ngx_http_aigw_creds_shm_t *sh,
    const aigw_cc_result_t *res, time_t now)
{
    ngx_int_t            rc;
    const aigw_creds_t  *c;

    c = &res->creds;

    if (c->access_key.len > NGX_HTTP_AIGW_CREDS_AKID_MAX
        || c->secret_key.len > NGX_HTTP_AIGW_CREDS_SECRET_MAX
        || c->session_token.len > AIGW_CC_TOKEN_MAX)
    {
        /* the chain checks these bounds; they are the zone's too */
        return NGX_ERROR;
    }

    rc = NGX_OK;

    if (sh->akid_len == c->access_key.len
        && sh->secret_len == c->secret_key.len
        && sh->token_len == c->session_token.len
        && sh->expiration == res->expiration
        && ngx_memcmp(sh->akid, c->access_key.data, sh->akid_len) == 0
        && ngx_memcmp(sh->secret, c->secret_key.data, sh->secret_len) == 0
        && (sh->token_len == 0
            || ngx_memcmp(sh->token, c->session_token.data, sh->token_len)
               == 0))
    {
        rc = NGX_DECLINED;

    } else {
        (void) ngx_atomic_fetch_add(&sh->seq, 1);
        ngx_memory_barrier();

        sh->akid_len = c->access_key.len;
        ngx_memcpy(sh->akid, c->access_key.data, c->access_key.len);
        sh->secret_len = c->secret_key.len;
        ngx_memcpy(sh->secret, c->secret_key.data, c->secret_key.len);
        sh->token_len = c->session_token.len;

        if (c->session_token.len) {
            ngx_memcpy(sh->token, c->session_token.data,
                       c->session_token.len);
        }

        sh->expiration = res->expiration;

        ngx_memory_barrier();
        (void) ngx_atomic_fetch_add(&sh->seq, 1);
    }

    sh->obtained = now;
    sh->refresh_at = aigw_cc_refresh_at(now, res->expiration);
    sh->source = res->source;
    sh->recheck = (res->expiration == 0 && res->source == AIGW_CC_FILE)
                  ? now + NGX_HTTP_AIGW_CREDS_RECHECK : 0;
    sh->failures = 0;
    sh->next_try = 0;
    sh->error_crc = 0;

    (void) ngx_cpystrn(sh->origin, (u_char *) res->origin,
                       NGX_HTTP_AIGW_CREDS_ORIGIN_MAX);

    return rc;
}


static void
ngx_http_aigw_creds_failed(ngx_http_aigw_creds_t *creds,
    const aigw_cc_result_t *res)
{
    time_t                      now, delay, left;
    uint32_t                    crc;
    ngx_uint_t                  level, shift;
    ngx_http_aigw_creds_shm_t  *sh;

    sh = creds->sh;
    now = ngx_time();

    sh->failures++;

    shift = ngx_min(sh->failures - 1, 6);
    delay = ngx_min((time_t) 1 << shift, NGX_HTTP_AIGW_CREDS_BACKOFF);

    /* jitter: from 3/4 to 5/4 of it, so workers of many gateways spread */

    delay = delay * 3 / 4 + (time_t) (ngx_random() % (delay / 2 + 1));
    if (delay < 1) {
        delay = 1;
    }

    sh->next_try = now + delay;

    if (sh->recheck && sh->recheck < sh->next_try) {
        sh->recheck = sh->next_try;
    }

    /* once per failure: an error the same as the last is not repeated */

    crc = ngx_crc32_short((u_char *) res->error, ngx_strlen(res->error));

    if (crc == sh->error_crc
        && now - sh->error_logged < NGX_HTTP_AIGW_CREDS_QUIET)
    {
        return;
    }

    sh->error_crc = crc;
    sh->error_logged = now;

    left = 0;

    if (sh->akid_len) {
        left = sh->expiration ? sh->expiration - now : -1;
    }

    level = (left > AIGW_CC_EXPIRY_MARGIN || left == -1) ? NGX_LOG_WARN
                                                         : NGX_LOG_ERR;

    if (left == -1) {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "aigw: AWS credentials: %s%V; the current ones stay "
                      "in use; trying again in %T s", res->error,
                      &creds->missing, delay);

    } else if (left > AIGW_CC_EXPIRY_MARGIN) {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "aigw: AWS credentials: %s%V; the current ones stay "
                      "in use for %T s; trying again in %T s", res->error,
                      &creds->missing, left - AIGW_CC_EXPIRY_MARGIN, delay);

    } else {
        ngx_log_error(level, ngx_cycle->log, 0,
                      "aigw: AWS credentials: %s%V; gateway requests get "
                      "503; trying again in %T s", res->error,
                      &creds->missing, delay);
    }
}


static void
ngx_http_aigw_creds_finish(ngx_http_aigw_creds_t *creds)
{
    ngx_http_aigw_creds_shm_t  *sh;

    sh = creds->sh;

    if (creds->cc) {
        aigw_cc_destroy(creds->cc);
        creds->cc = NULL;
    }

    if (creds->pool) {
        ngx_destroy_pool(creds->pool);
        creds->pool = NULL;
    }

    (void) ngx_atomic_cmp_set(&sh->lease, ngx_pid, 0);
}


/*
 * The request path: the worker's copy of the shared credentials, taken
 * again when a fetch changed them; NULL (and *reason) when there are
 * none that may sign now.
 */

const aigw_creds_t *
ngx_http_aigw_creds_get(ngx_http_aigw_creds_t *creds, ngx_log_t *log,
    const char **reason)
{
    if (creds->zone && ngx_http_aigw_creds_sync(creds, log) != NGX_OK) {
        *reason = "AWS credentials are unavailable";
        return NULL;
    }

    if (creds->creds.access_key.len == 0) {
        *reason = "AWS credentials are not available yet";
        return NULL;
    }

    if (creds->expiration
        && creds->expiration - AIGW_CC_EXPIRY_MARGIN <= ngx_time())
    {
        *reason = "AWS credentials expired and could not be refreshed yet";
        return NULL;
    }

    return &creds->creds;
}


static ngx_int_t
ngx_http_aigw_creds_sync(ngx_http_aigw_creds_t *creds, ngx_log_t *log)
{
    u_char                     *mem, *p;
    size_t                      size;
    time_t                      expiration;
    ngx_uint_t                  tries;
    aigw_creds_t                c;
    ngx_atomic_uint_t           seq;
    ngx_http_aigw_creds_shm_t  *sh;

    sh = creds->sh;

    if (sh->seq == creds->seq) {
        return NGX_OK;
    }

    size = NGX_HTTP_AIGW_CREDS_AKID_MAX + NGX_HTTP_AIGW_CREDS_SECRET_MAX
           + AIGW_CC_TOKEN_MAX;

    mem = ngx_alloc(size, log);
    if (mem == NULL) {
        return NGX_ERROR;
    }

    /* a copy taken between two equal even numbers is whole */

    for (tries = 0; tries < 100; tries++) {

        seq = sh->seq;
        ngx_memory_barrier();

        if (seq & 1) {
            ngx_cpu_pause();
            continue;
        }

        c.access_key.len = ngx_min(sh->akid_len,
                                   NGX_HTTP_AIGW_CREDS_AKID_MAX);
        c.secret_key.len = ngx_min(sh->secret_len,
                                   NGX_HTTP_AIGW_CREDS_SECRET_MAX);
        c.session_token.len = ngx_min(sh->token_len, AIGW_CC_TOKEN_MAX);
        expiration = sh->expiration;

        p = mem;
        c.access_key.data = (char *) p;
        p = ngx_cpymem(p, sh->akid, c.access_key.len);
        c.secret_key.data = (char *) p;
        p = ngx_cpymem(p, sh->secret, c.secret_key.len);
        c.session_token.data = (char *) p;
        ngx_memcpy(p, sh->token, c.session_token.len);

        ngx_memory_barrier();

        if (sh->seq == seq) {
            goto copied;
        }
    }

    /* a writer in the middle of it: the copy we had, for this request */

    ngx_explicit_memzero(mem, size);
    ngx_free(mem);

    return NGX_OK;

copied:

    if (creds->mem) {
        ngx_explicit_memzero(creds->mem, creds->mem_size);
        ngx_free(creds->mem);
    }

    creds->mem = mem;
    creds->mem_size = size;
    creds->creds = c;
    creds->expiration = expiration;
    creds->seq = seq;

    return NGX_OK;
}


/* the static keys, into the worker's copy */

static ngx_int_t
ngx_http_aigw_creds_set(ngx_http_aigw_creds_t *creds, const aigw_creds_t *c,
    ngx_log_t *log)
{
    u_char  *mem, *p;
    size_t   size;

    size = c->access_key.len + c->secret_key.len + c->session_token.len;

    mem = ngx_alloc(size ? size : 1, log);
    if (mem == NULL) {
        return NGX_ERROR;
    }

    p = mem;

    creds->creds.access_key.data = (char *) p;
    creds->creds.access_key.len = c->access_key.len;
    p = ngx_cpymem(p, c->access_key.data, c->access_key.len);

    creds->creds.secret_key.data = (char *) p;
    creds->creds.secret_key.len = c->secret_key.len;
    p = ngx_cpymem(p, c->secret_key.data, c->secret_key.len);

    creds->creds.session_token.data = (char *) p;
    creds->creds.session_token.len = c->session_token.len;

    /* no token: its data may be NULL, which memcpy() must not be given */
    if (c->session_token.len) {
        ngx_memcpy(p, c->session_token.data, c->session_token.len);
    }

    creds->mem = mem;
    creds->mem_size = size ? size : 1;
    creds->expiration = 0;

    return NGX_OK;
}


static void
ngx_http_aigw_creds_cleanup(void *data)
{
    ngx_http_aigw_creds_t  *creds = data;

    if (creds->mem) {
        ngx_explicit_memzero(creds->mem, creds->mem_size);
        ngx_free(creds->mem);
        creds->mem = NULL;
    }
}
