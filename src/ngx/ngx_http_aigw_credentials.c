
/*
 * ngx_http_aigw_module: where the AWS credentials come from.
 *
 * A credentials chain is a list of sources, each run by a provider.  A
 * provider loads its credentials at configuration time, in the master
 * process, where the environment and the files are readable; it may also
 * refresh them in each worker, from a timer, never on the request path.
 * A refresh must not block: network providers start their request on
 * nginx's event loop, return NGX_AGAIN and hand the answer to
 * ngx_http_aigw_creds_set() when it arrives.  The request path only
 * reads the active source's current snapshot.
 */


#include <pwd.h>

#include "ngx_http_aigw_module.h"
#include "aigw_creds.h"


/* how often workers look for new credentials, and how early before expiry */
#define NGX_HTTP_AIGW_CREDS_CHECK      60000
#define NGX_HTTP_AIGW_CREDS_EARLY      300

#define NGX_HTTP_AIGW_CREDS_FILE_MAX   (1024 * 1024)


typedef struct ngx_http_aigw_creds_source_s  ngx_http_aigw_creds_source_t;


typedef struct {
    ngx_str_t                       name;

    /* NGX_OK: loaded, NGX_DECLINED: nothing there, NGX_ERROR: bad config */
    ngx_int_t                     (*load)(ngx_conf_t *cf,
                                      ngx_http_aigw_creds_source_t *src);

    /* NGX_OK: done, NGX_AGAIN: in progress, NGX_ERROR: failed; may be NULL */
    ngx_int_t                     (*refresh)(ngx_http_aigw_creds_source_t *src,
                                      ngx_log_t *log);
} ngx_http_aigw_creds_provider_t;


typedef struct {
    ngx_str_t                       path;
    time_t                          mtime;
    off_t                           size;
} ngx_http_aigw_creds_file_t;


struct ngx_http_aigw_creds_source_s {
    ngx_http_aigw_creds_provider_t *provider;
    ngx_http_aigw_creds_t          *chain;
    ngx_str_t                       args[3];
    ngx_uint_t                      nargs;

    aigw_creds_t                    creds;      /* len 0: none */
    u_char                         *mem;        /* holds the strings */
    size_t                          mem_size;
    time_t                          expiration; /* 0: does not expire */

    /* the "file" provider */
    ngx_str_t                       profile;
    ngx_http_aigw_creds_file_t      files[2];   /* credentials, config */
};


struct ngx_http_aigw_creds_s {
    ngx_array_t                     sources;
    ngx_http_aigw_creds_source_t   *active;
    ngx_event_t                     timer;
    unsigned                        chain:1;
};


static ngx_http_aigw_creds_t *ngx_http_aigw_creds_create(ngx_conf_t *cf,
    ngx_str_t *name, ngx_str_t *args, ngx_uint_t nargs);
static ngx_int_t ngx_http_aigw_creds_add(ngx_conf_t *cf,
    ngx_http_aigw_creds_t *creds, ngx_str_t *name, ngx_str_t *args,
    ngx_uint_t nargs);
static ngx_http_aigw_creds_provider_t *ngx_http_aigw_creds_provider(
    ngx_str_t *name);
static ngx_int_t ngx_http_aigw_creds_set(ngx_http_aigw_creds_source_t *src,
    const aigw_creds_t *creds, time_t expiration, ngx_log_t *log);
static void ngx_http_aigw_creds_select(ngx_http_aigw_creds_t *creds);
static void ngx_http_aigw_creds_cleanup(void *data);
static void ngx_http_aigw_creds_timer(ngx_event_t *ev);

static ngx_int_t ngx_http_aigw_creds_static_load(ngx_conf_t *cf,
    ngx_http_aigw_creds_source_t *src);
static ngx_int_t ngx_http_aigw_creds_env_load(ngx_conf_t *cf,
    ngx_http_aigw_creds_source_t *src);
static ngx_int_t ngx_http_aigw_creds_file_load(ngx_conf_t *cf,
    ngx_http_aigw_creds_source_t *src);
static ngx_int_t ngx_http_aigw_creds_file_refresh(
    ngx_http_aigw_creds_source_t *src, ngx_log_t *log);
static ngx_int_t ngx_http_aigw_creds_file_read(
    ngx_http_aigw_creds_source_t *src, ngx_pool_t *pool, ngx_log_t *log,
    ngx_uint_t fatal);
static ngx_int_t ngx_http_aigw_creds_file_path(ngx_conf_t *cf,
    ngx_str_t *path, const char *env, const char *dflt);


static ngx_http_aigw_creds_provider_t  ngx_http_aigw_creds_providers[] = {

    { ngx_string("static"),
      ngx_http_aigw_creds_static_load,
      NULL },

    { ngx_string("env"),
      ngx_http_aigw_creds_env_load,
      NULL },

    { ngx_string("file"),
      ngx_http_aigw_creds_file_load,
      ngx_http_aigw_creds_file_refresh },

    { ngx_null_string, NULL, NULL }
};


/* the providers of "chain", in the order the AWS SDKs try them */

static ngx_str_t  ngx_http_aigw_creds_chain[] = {
    ngx_string("env"),
    ngx_string("file"),
    ngx_null_string
};


char *
ngx_http_aigw_credentials(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    ngx_str_t  *value;

    if (amcf->creds) {
        return "is duplicate";
    }

    value = cf->args->elts;

    amcf->creds = ngx_http_aigw_creds_create(cf, &value[1], &value[2],
                                             cf->args->nelts - 2);
    if (amcf->creds == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_http_aigw_creds_t *
ngx_http_aigw_creds_create(ngx_conf_t *cf, ngx_str_t *name, ngx_str_t *args,
    ngx_uint_t nargs)
{
    ngx_uint_t              i, max;
    ngx_http_aigw_creds_t  *creds;

    creds = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_creds_t));
    if (creds == NULL) {
        return NULL;
    }

    if (ngx_array_init(&creds->sources, cf->pool, 4,
                       sizeof(ngx_http_aigw_creds_source_t))
        != NGX_OK)
    {
        return NULL;
    }

    if (name->len == 5 && ngx_strncmp(name->data, "chain", 5) == 0) {
        if (nargs != 0) {
            goto invalid;
        }

        creds->chain = 1;

        for (i = 0; ngx_http_aigw_creds_chain[i].len; i++) {
            if (ngx_http_aigw_creds_add(cf, creds,
                                        &ngx_http_aigw_creds_chain[i],
                                        NULL, 0)
                != NGX_OK)
            {
                return NULL;
            }
        }

        return creds;
    }

    if (ngx_http_aigw_creds_provider(name) == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown credentials provider \"%V\", it must be "
                           "\"chain\", \"env\", \"file [PROFILE]\" or "
                           "\"static AKID SECRET [TOKEN]\"", name);
        return NULL;
    }

    if (name->len == 6 && ngx_strncmp(name->data, "static", 6) == 0) {
        if (nargs < 2 || nargs > 3) {
            goto invalid;
        }

    } else {
        max = (name->len == 4) ? 1 : 0;         /* "file [PROFILE]" */

        if (nargs > max) {
            goto invalid;
        }
    }

    if (ngx_http_aigw_creds_add(cf, creds, name, args, nargs) != NGX_OK) {
        return NULL;
    }

    return creds;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid number of arguments in "
                       "\"aigw_credentials %V\"", name);
    return NULL;
}


static ngx_int_t
ngx_http_aigw_creds_add(ngx_conf_t *cf, ngx_http_aigw_creds_t *creds,
    ngx_str_t *name, ngx_str_t *args, ngx_uint_t nargs)
{
    ngx_uint_t                     i;
    ngx_pool_cleanup_t            *cln;
    ngx_http_aigw_creds_source_t  *src;

    src = ngx_array_push(&creds->sources);
    if (src == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(src, sizeof(ngx_http_aigw_creds_source_t));

    src->provider = ngx_http_aigw_creds_provider(name);
    src->chain = creds;
    src->nargs = nargs;

    for (i = 0; i < nargs; i++) {
        src->args[i] = args[i];
    }

    /* the strings are on the heap: a refresh in a worker replaces them */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_aigw_creds_cleanup;
    cln->data = src;

    return NGX_OK;
}


static ngx_http_aigw_creds_provider_t *
ngx_http_aigw_creds_provider(ngx_str_t *name)
{
    ngx_http_aigw_creds_provider_t  *p;

    for (p = ngx_http_aigw_creds_providers; p->name.len; p++) {
        if (p->name.len == name->len
            && ngx_strncmp(p->name.data, name->data, name->len) == 0)
        {
            return p;
        }
    }

    return NULL;
}


ngx_int_t
ngx_http_aigw_creds_init_conf(ngx_conf_t *cf, ngx_http_aigw_main_conf_t *amcf)
{
    ngx_int_t                      rc;
    ngx_str_t                      chain;
    ngx_uint_t                     i;
    ngx_http_aigw_creds_t         *creds;
    ngx_http_aigw_creds_source_t  *src;

    if (amcf->creds == NULL) {

        /* the default: "aigw_credentials chain" */

        ngx_str_set(&chain, "chain");

        amcf->creds = ngx_http_aigw_creds_create(cf, &chain, NULL, 0);
        if (amcf->creds == NULL) {
            return NGX_ERROR;
        }
    }

    creds = amcf->creds;
    src = creds->sources.elts;

    for (i = 0; i < creds->sources.nelts; i++) {

        rc = src[i].provider->load(cf, &src[i]);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_DECLINED && !creds->chain) {
            return NGX_ERROR;
        }
    }

    ngx_http_aigw_creds_select(creds);

    if (creds->active == NULL) {
        ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                      "aigw: no AWS credentials found (environment, "
                      "shared credentials and config files); gateway "
                      "requests get 503 until they appear");
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_aigw_creds_init_worker(ngx_cycle_t *cycle,
    ngx_http_aigw_creds_t *creds)
{
    ngx_uint_t                     i;
    ngx_http_aigw_creds_source_t  *src;

    src = creds->sources.elts;

    for (i = 0; i < creds->sources.nelts; i++) {
        if (src[i].provider->refresh) {
            break;
        }
    }

    if (i == creds->sources.nelts) {
        return NGX_OK;
    }

    creds->timer.handler = ngx_http_aigw_creds_timer;
    creds->timer.data = creds;
    creds->timer.log = cycle->log;
    creds->timer.cancelable = 1;

    ngx_add_timer(&creds->timer, NGX_HTTP_AIGW_CREDS_CHECK);

    return NGX_OK;
}


const aigw_creds_t *
ngx_http_aigw_creds_get(ngx_http_aigw_creds_t *creds, ngx_log_t *log)
{
    ngx_http_aigw_creds_source_t  *src;

    src = creds->active;

    if (src == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0, "aigw: no AWS credentials");
        return NULL;
    }

    if (src->expiration && src->expiration <= ngx_time()) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "aigw: AWS credentials of \"%V\" expired",
                      &src->provider->name);
        return NULL;
    }

    return &src->creds;
}


static ngx_int_t
ngx_http_aigw_creds_set(ngx_http_aigw_creds_source_t *src,
    const aigw_creds_t *creds, time_t expiration, ngx_log_t *log)
{
    u_char  *mem, *p;
    size_t   size;

    size = creds->access_key.len + creds->secret_key.len
           + creds->session_token.len;

    mem = ngx_alloc(size, log);
    if (mem == NULL) {
        return NGX_ERROR;
    }

    if (src->mem) {
        ngx_explicit_memzero(src->mem, src->mem_size);
        ngx_free(src->mem);
    }

    src->mem = mem;
    src->mem_size = size;
    src->expiration = expiration;

    p = mem;

    src->creds.access_key.data = (char *) p;
    src->creds.access_key.len = creds->access_key.len;
    p = ngx_cpymem(p, creds->access_key.data, creds->access_key.len);

    src->creds.secret_key.data = (char *) p;
    src->creds.secret_key.len = creds->secret_key.len;
    p = ngx_cpymem(p, creds->secret_key.data, creds->secret_key.len);

    src->creds.session_token.data = (char *) p;
    src->creds.session_token.len = creds->session_token.len;

    /* no token: its data may be NULL, which memcpy() must not be given */
    if (creds->session_token.len) {
        ngx_memcpy(p, creds->session_token.data, creds->session_token.len);
    }

    return NGX_OK;
}


static void
ngx_http_aigw_creds_select(ngx_http_aigw_creds_t *creds)
{
    ngx_uint_t                     i;
    ngx_http_aigw_creds_source_t  *src;

    src = creds->sources.elts;

    for (i = 0; i < creds->sources.nelts; i++) {
        if (src[i].creds.access_key.len) {
            creds->active = &src[i];
            return;
        }
    }

    creds->active = NULL;
}


static void
ngx_http_aigw_creds_cleanup(void *data)
{
    ngx_http_aigw_creds_source_t  *src = data;

    if (src->mem) {
        ngx_explicit_memzero(src->mem, src->mem_size);
        ngx_free(src->mem);
        src->mem = NULL;
    }
}


static void
ngx_http_aigw_creds_timer(ngx_event_t *ev)
{
    ngx_http_aigw_creds_t *creds = ev->data;

    ngx_uint_t                     i;
    ngx_http_aigw_creds_source_t  *src;

    src = creds->sources.elts;

    for (i = 0; i < creds->sources.nelts; i++) {
        if (src[i].provider->refresh) {
            (void) src[i].provider->refresh(&src[i], ev->log);
        }
    }

    ngx_http_aigw_creds_select(creds);

    if (!ngx_exiting) {
        ngx_add_timer(ev, NGX_HTTP_AIGW_CREDS_CHECK);
    }
}


static ngx_int_t
ngx_http_aigw_creds_static_load(ngx_conf_t *cf,
    ngx_http_aigw_creds_source_t *src)
{
    aigw_creds_t  creds;

    creds.access_key.data = (char *) src->args[0].data;
    creds.access_key.len = src->args[0].len;
    creds.secret_key.data = (char *) src->args[1].data;
    creds.secret_key.len = src->args[1].len;
    creds.session_token.data = (char *) src->args[2].data;
    creds.session_token.len = (src->nargs == 3) ? src->args[2].len : 0;

    return ngx_http_aigw_creds_set(src, &creds, 0, cf->log);
}


static ngx_int_t
ngx_http_aigw_creds_env_load(ngx_conf_t *cf, ngx_http_aigw_creds_source_t *src)
{
    char          *akid, *secret, *token;
    aigw_creds_t   creds;

    akid = getenv("AWS_ACCESS_KEY_ID");
    secret = getenv("AWS_SECRET_ACCESS_KEY");
    token = getenv("AWS_SESSION_TOKEN");

    if (akid == NULL || *akid == '\0' || secret == NULL || *secret == '\0') {
        if (!src->chain->chain) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "aigw_credentials env: AWS_ACCESS_KEY_ID and "
                               "AWS_SECRET_ACCESS_KEY are not both set in "
                               "nginx's environment");
        }

        return NGX_DECLINED;
    }

    creds.access_key.data = akid;
    creds.access_key.len = ngx_strlen(akid);
    creds.secret_key.data = secret;
    creds.secret_key.len = ngx_strlen(secret);
    creds.session_token.data = token;
    creds.session_token.len = token ? ngx_strlen(token) : 0;

    return ngx_http_aigw_creds_set(src, &creds, 0, cf->log);
}


static ngx_int_t
ngx_http_aigw_creds_file_load(ngx_conf_t *cf,
    ngx_http_aigw_creds_source_t *src)
{
    char       *env;
    ngx_int_t   rc;

    if (src->nargs) {
        src->profile = src->args[0];

    } else {
        env = getenv("AWS_PROFILE");

        if (env && *env) {
            src->profile.len = ngx_strlen(env);
            src->profile.data = (u_char *) env;

        } else {
            ngx_str_set(&src->profile, "default");
        }

        src->profile.data = ngx_pstrdup(cf->pool, &src->profile);
        if (src->profile.data == NULL) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_aigw_creds_file_path(cf, &src->files[0].path,
                                      "AWS_SHARED_CREDENTIALS_FILE",
                                      "/.aws/credentials")
        != NGX_OK
        || ngx_http_aigw_creds_file_path(cf, &src->files[1].path,
                                         "AWS_CONFIG_FILE", "/.aws/config")
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_aigw_creds_file_read(src, cf->temp_pool, cf->log,
                                       !src->chain->chain);

    if (rc == NGX_DECLINED && !src->chain->chain) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "aigw_credentials file: no credentials for "
                           "profile \"%V\" in \"%V\" or \"%V\"",
                           &src->profile, &src->files[0].path,
                           &src->files[1].path);
    }

    return rc;
}


static ngx_int_t
ngx_http_aigw_creds_file_refresh(ngx_http_aigw_creds_source_t *src,
    ngx_log_t *log)
{
    ngx_int_t         rc;
    ngx_uint_t        i, changed;
    ngx_pool_t       *pool;
    ngx_file_info_t   fi;

    changed = 0;

    for (i = 0; i < 2; i++) {
        if (ngx_file_info(src->files[i].path.data, &fi) == NGX_FILE_ERROR) {
            if (src->files[i].mtime != 0) {
                changed = 1;
            }

            continue;
        }

        if (ngx_file_mtime(&fi) != src->files[i].mtime
            || ngx_file_size(&fi) != src->files[i].size)
        {
            changed = 1;
        }
    }

    if (!changed) {
        return NGX_OK;
    }

    pool = ngx_create_pool(NGX_DEFAULT_POOL_SIZE, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_http_aigw_creds_file_read(src, pool, log, 0);

    ngx_destroy_pool(pool);

    if (rc == NGX_OK) {
        ngx_log_error(NGX_LOG_NOTICE, log, 0,
                      "aigw: AWS credentials of profile \"%V\" reloaded",
                      &src->profile);
    }

    return rc;
}


/*
 * Reads the profile from the credentials file, then the config file (the
 * credentials file wins, as in the SDKs).  NGX_DECLINED: no credentials.
 */

static ngx_int_t
ngx_http_aigw_creds_file_read(ngx_http_aigw_creds_source_t *src,
    ngx_pool_t *pool, ngx_log_t *log, ngx_uint_t fatal)
{
    int                          found;
    ssize_t                      n;
    unsigned                     line;
    ngx_fd_t                     fd;
    u_char                      *text;
    ngx_uint_t                   i, level;
    ngx_file_t                   file;
    aigw_creds_t                 creds;
    aigw_profile_t               profile, merged;
    ngx_file_info_t              fi;
    ngx_http_aigw_creds_file_t  *f;

    level = fatal ? NGX_LOG_EMERG : NGX_LOG_WARN;

    ngx_memzero(&merged, sizeof(aigw_profile_t));

    for (i = 0; i < 2; i++) {
        f = &src->files[i];
        f->mtime = 0;
        f->size = 0;

        fd = ngx_open_file(f->path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

        if (fd == NGX_INVALID_FILE) {
            if (ngx_errno != NGX_ENOENT && ngx_errno != NGX_ENOTDIR) {
                ngx_log_error(level, log, ngx_errno,
                              "aigw: " ngx_open_file_n " \"%V\" failed",
                              &f->path);
                if (fatal) {
                    return NGX_ERROR;
                }
            }

            continue;
        }

        ngx_memzero(&file, sizeof(ngx_file_t));
        file.fd = fd;
        file.name = f->path;
        file.log = log;

        if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR
            || ngx_file_size(&fi) > NGX_HTTP_AIGW_CREDS_FILE_MAX)
        {
            ngx_log_error(level, log, 0,
                          "aigw: \"%V\" is not a readable file of at most "
                          "1 MB", &f->path);
            (void) ngx_close_file(fd);
            return NGX_ERROR;
        }

        f->mtime = ngx_file_mtime(&fi);
        f->size = ngx_file_size(&fi);

        file.info = fi;

        text = ngx_pnalloc(pool, (size_t) f->size + 1);
        if (text == NULL) {
            (void) ngx_close_file(fd);
            return NGX_ERROR;
        }

        n = ngx_read_file(&file, text, (size_t) f->size, 0);

        (void) ngx_close_file(fd);

        if (n != (ssize_t) f->size) {
            ngx_log_error(level, log, 0,
                          "aigw: could not read \"%V\"", &f->path);
            return NGX_ERROR;
        }

        found = aigw_ini_profile((char *) text, n,
                                 i ? AIGW_INI_CONFIG : AIGW_INI_CREDENTIALS,
                                 (char *) src->profile.data, src->profile.len,
                                 &profile, &line);

        if (found < 0) {
            ngx_log_error(level, log, 0,
                          "aigw: syntax error in \"%V\" line %ud",
                          &f->path, line);
            return NGX_ERROR;
        }

        if (found == 0) {
            continue;
        }

        if (merged.access_key.len == 0 && profile.access_key.len) {
            merged.access_key = profile.access_key;
            merged.secret_key = profile.secret_key;
            merged.session_token = profile.session_token;
        }

        if (merged.unsupported.len == 0) {
            merged.unsupported = profile.unsupported;
        }
    }

    if (merged.unsupported.len) {
        ngx_log_error(level, log, 0,
                      "aigw: profile \"%V\" uses \"%s\", which aigw cannot "
                      "use: give the profile static keys or use another "
                      "\"aigw_credentials\" provider",
                      &src->profile, merged.unsupported.data);
        return fatal ? NGX_ERROR : NGX_DECLINED;
    }

    if (merged.access_key.len == 0 || merged.secret_key.len == 0) {
        return NGX_DECLINED;
    }

    creds.access_key = merged.access_key;
    creds.secret_key = merged.secret_key;
    creds.session_token = merged.session_token;

    return ngx_http_aigw_creds_set(src, &creds, 0, log);
}


static ngx_int_t
ngx_http_aigw_creds_file_path(ngx_conf_t *cf, ngx_str_t *path,
    const char *env, const char *dflt)
{
    char           *value, *home;
    size_t          len;
    struct passwd  *pw;

    value = getenv(env);

    if (value && *value) {
        len = ngx_strlen(value);
        path->data = ngx_pnalloc(cf->pool, len + 1);
        if (path->data == NULL) {
            return NGX_ERROR;
        }

        path->len = len;
        ngx_memcpy(path->data, value, len + 1);
        return NGX_OK;
    }

    home = getenv("HOME");

    if (home == NULL || *home == '\0') {
        pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }

    len = ngx_strlen(home) + ngx_strlen(dflt);

    path->data = ngx_pnalloc(cf->pool, len + 1);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    path->len = ngx_sprintf(path->data, "%s%s%Z", home, dflt) - path->data - 1;

    return NGX_OK;
}
