
/*
 * ngx_http_aigw_module: directives, configuration and module registration.
 *
 * The request path lives in the other glue files: the access phase
 * (ngx_http_aigw_access.c), the request body hash
 * (ngx_http_aigw_request_body.c), the variables
 * (ngx_http_aigw_variables.c), the credential providers
 * (ngx_http_aigw_credentials.c) and the error responses
 * (ngx_http_aigw_error.c).
 */


#include "ngx_http_aigw_module.h"


static char *ngx_http_aigw_endpoint(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_aigw_parse_endpoint(ngx_conf_t *cf, ngx_str_t *url,
    ngx_http_aigw_endpoint_t *ep);
static char *ngx_http_aigw_region(ngx_conf_t *cf, void *post, void *data);
static ngx_int_t ngx_http_aigw_region_valid(ngx_str_t *region);

static void ngx_http_aigw_check_resolver(ngx_conf_t *cf,
    ngx_http_aigw_loc_conf_t *alcf);

static ngx_int_t ngx_http_aigw_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_aigw_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_aigw_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_aigw_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_aigw_create_srv_conf(ngx_conf_t *cf);
static void *ngx_http_aigw_create_loc_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_aigw_gateway_log(ngx_conf_t *cf,
    ngx_http_aigw_main_conf_t *amcf);
static ngx_int_t ngx_http_aigw_init_module(ngx_cycle_t *cycle);
static char *ngx_http_aigw_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_aigw_init_process(ngx_cycle_t *cycle);
static void ngx_http_aigw_exit_process(ngx_cycle_t *cycle);


static ngx_conf_post_handler_pt  ngx_http_aigw_region_post =
    ngx_http_aigw_region;


static ngx_str_t  ngx_http_aigw_endpoint_names[] = {
    ngx_null_string,
    ngx_string("bedrock"),
    ngx_string("sagemaker"),
    ngx_string("sts")
};


static ngx_command_t  ngx_http_aigw_commands[] = {

    { ngx_string("aigw"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_aigw_loc_conf_t, enable),
      NULL },

    { ngx_string("aigw_region"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_aigw_loc_conf_t, region),
      &ngx_http_aigw_region_post },

    { ngx_string("aigw_credentials"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_aigw_credentials,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_tenants"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_aigw_tenants,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_model"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE3|NGX_CONF_TAKE4|NGX_CONF_TAKE5,
      ngx_http_aigw_model,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_pricing"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_aigw_pricing,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_aigw_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_endpoint"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_aigw_endpoint,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_model_id"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_aigw_loc_conf_t, model_id),
      NULL },

    { ngx_string("aigw_limits"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_ANY,
      ngx_http_aigw_limits,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_aigw_metrics,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_aigw_module_ctx = {
    ngx_http_aigw_preconfiguration,        /* preconfiguration */
    ngx_http_aigw_postconfiguration,       /* postconfiguration */

    ngx_http_aigw_create_main_conf,        /* create main configuration */
    ngx_http_aigw_init_main_conf,          /* init main configuration */

    ngx_http_aigw_create_srv_conf,         /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_aigw_create_loc_conf,         /* create location configuration */
    ngx_http_aigw_merge_loc_conf           /* merge location configuration */
};


ngx_module_t  ngx_http_aigw_module = {
    NGX_MODULE_V1,
    &ngx_http_aigw_module_ctx,             /* module context */
    ngx_http_aigw_commands,                /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_aigw_init_module,             /* init module */
    ngx_http_aigw_init_process,            /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_aigw_exit_process,            /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static char *
ngx_http_aigw_endpoint(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_loc_conf_t *alcf = conf;

    ngx_str_t                 *value;
    ngx_uint_t                 i;
    ngx_http_aigw_endpoint_t  *ep;

    value = cf->args->elts;

    for (i = 1; i < NGX_HTTP_AIGW_ENDPOINTS; i++) {
        if (value[1].len == ngx_http_aigw_endpoint_names[i].len
            && ngx_strncmp(value[1].data, ngx_http_aigw_endpoint_names[i].data,
                           value[1].len)
               == 0)
        {
            break;
        }
    }

    if (i == NGX_HTTP_AIGW_ENDPOINTS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown service \"%V\" in \"aigw_endpoint\", "
                           "it must be \"bedrock\", \"sagemaker\" or "
                           "\"sts\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (i == NGX_HTTP_AIGW_ENDPOINT_STS && cf->cmd_type != NGX_HTTP_MAIN_CONF) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_endpoint sts\" is allowed only in http{}: "
                           "the credentials are the same for all gateways");
        return NGX_CONF_ERROR;
    }

    ep = &alcf->endpoints[i];

    if (ep->url.data) {
        return "is duplicate";
    }

    if (ngx_http_aigw_parse_endpoint(cf, &value[2], ep) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * "https://host[:port][/]" or "http://...": the URL prefix of the
 * upstream requests and the Host header they are signed with (the port
 * only when it is not the scheme's default, as the AWS SDKs send it)
 */

static ngx_int_t
ngx_http_aigw_parse_endpoint(ngx_conf_t *cf, ngx_str_t *url,
    ngx_http_aigw_endpoint_t *ep)
{
    u_char     *p, *host, *last, *port;
    size_t      skip;
    ngx_int_t   n;
    ngx_str_t   dflt;

    if (url->len > 8 && ngx_strncasecmp(url->data, (u_char *) "https://", 8)
                        == 0)
    {
        skip = 8;
        ngx_str_set(&dflt, "443");

    } else if (url->len > 7
               && ngx_strncasecmp(url->data, (u_char *) "http://", 7) == 0)
    {
        skip = 7;
        ngx_str_set(&dflt, "80");

    } else {
        goto invalid;
    }

    host = url->data + skip;
    last = url->data + url->len;

    if (last[-1] == '/') {
        last--;
    }

    port = NULL;

    for (p = host; p < last; p++) {

        if (*p == '[') {
            p = ngx_strlchr(p, last, ']');
            if (p == NULL) {
                goto invalid;
            }

            continue;
        }

        if (*p == ':') {
            port = p + 1;
            continue;
        }

        if (*p == '/' || *p == '?' || *p == '#' || *p == '@' || *p <= ' ') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"aigw_endpoint\" URL \"%V\" must be "
                               "a scheme and a host with an optional port, "
                               "without a path", url);
            return NGX_ERROR;
        }
    }

    if ((port ? port - 1 : last) == host) {
        goto invalid;
    }

    if (port) {
        n = ngx_atoi(port, last - port);
        if (n < 1 || n > 65535) {
            goto invalid;
        }

        if ((size_t) (last - port) == dflt.len
            && ngx_strncmp(port, dflt.data, dflt.len) == 0)
        {
            last = port - 1;
        }
    }

    ep->url.len = skip + (last - host);
    ep->url.data = ngx_pnalloc(cf->pool, ep->url.len);
    if (ep->url.data == NULL) {
        return NGX_ERROR;
    }

    ngx_strlow(ep->url.data, url->data, ep->url.len);

    ep->host.data = ep->url.data + skip;
    ep->host.len = ep->url.len - skip;

    return NGX_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"aigw_endpoint\" URL \"%V\", "
                       "expected \"https://host[:port]\"", url);
    return NGX_ERROR;
}


static char *
ngx_http_aigw_region(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *region = data;

    if (ngx_http_aigw_region_valid(region) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid AWS region \"%V\"", region);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_aigw_region_valid(ngx_str_t *region)
{
    u_char  *p;

    if (region->len == 0 || region->len > 31) {
        return NGX_ERROR;
    }

    for (p = region->data; p < region->data + region->len; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
              || *p == '-'))
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_aigw_add_variables(cf);
}


static ngx_int_t
ngx_http_aigw_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_aigw_module);

    /* credentials are looked for only where a gateway needs them */

    if (amcf->used && ngx_http_aigw_creds_init_conf(cf, amcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ngx_http_aigw_access_init(cf) != NGX_OK
        || ngx_http_aigw_request_body_init(cf) != NGX_OK
        || ngx_http_aigw_usage_init(cf) != NGX_OK
        || ngx_http_aigw_counter_init(cf) != NGX_OK
        || ngx_http_aigw_limits_init(cf) != NGX_OK
        || ngx_http_aigw_metrics_init(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_aigw_error_init(cf);
}


static void *
ngx_http_aigw_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->creds = NULL;
     *     amcf->sign_cache = { 0 };
     *     amcf->used = 0;
     *     amcf->tenants = NULL;
     *     amcf->tenants_file = { 0, NULL };
     *     amcf->models = { 0 };
     */

    if (ngx_array_init(&amcf->gateway_logs, cf->pool, 4, sizeof(ngx_log_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return amcf;
}


static char *
ngx_http_aigw_init_main_conf(ngx_conf_t *cf, void *conf)
{
    char                      *env;
    ngx_str_t                  region;
    ngx_http_aigw_loc_conf_t  *alcf;

    /*
     * the http{} level region defaults to the environment of the master
     * process, as the AWS SDKs do; every level below inherits it
     */

    alcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_aigw_module);

    if (alcf->region.data == NULL) {
        env = getenv("AWS_REGION");

        if (env == NULL || *env == '\0') {
            env = getenv("AWS_DEFAULT_REGION");
        }

        if (env && *env) {
            region.len = ngx_strlen(env);
            region.data = (u_char *) env;

            region.data = ngx_pstrdup(cf->pool, &region);
            if (region.data == NULL) {
                return NGX_CONF_ERROR;
            }

            if (ngx_http_aigw_region_valid(&region) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid AWS region \"%V\" in the "
                                   "environment", &region);
                return NGX_CONF_ERROR;
            }

            alcf->region = region;
        }
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_aigw_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_aigw_srv_conf_t  *ascf;

    ascf = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_srv_conf_t));
    if (ascf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     ascf->gateway = 0;
     */

    return ascf;
}


static void *
ngx_http_aigw_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_aigw_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->region = { 0, NULL };
     *     alcf->endpoints = { { 0, NULL }, ... };
     *     alcf->resolved = { { 0, NULL }, ... };
     */

    alcf->enable = NGX_CONF_UNSET;
    alcf->model_id = NGX_CONF_UNSET_PTR;

    return alcf;
}


static char *
ngx_http_aigw_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_aigw_loc_conf_t *prev = parent;
    ngx_http_aigw_loc_conf_t *conf = child;

    size_t                      len;
    u_char                      host[256];
    ngx_uint_t                  i;
    ngx_http_aigw_endpoint_t   *ep;
    ngx_http_aigw_srv_conf_t   *ascf;
    ngx_http_aigw_main_conf_t  *amcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->region, prev->region, "");
    ngx_conf_merge_ptr_value(conf->model_id, prev->model_id, NULL);

    if (conf->enable) {
        amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_aigw_module);
        amcf->used = 1;

        if (amcf->tenants == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"aigw\" is on but there is no "
                               "\"aigw_tenants\": every gateway request "
                               "must carry a tenant's API key");
            return NGX_CONF_ERROR;
        }

        ascf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_aigw_module);
        ascf->gateway = 1;

        if (ngx_http_aigw_gateway_log(cf, amcf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    for (i = 1; i < NGX_HTTP_AIGW_ENDPOINTS; i++) {
        if (conf->endpoints[i].url.data == NULL) {
            conf->endpoints[i] = prev->endpoints[i];
        }
    }

    if (conf->enable && conf->region.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw\" is on but no AWS region is set: "
                           "add \"aigw_region\" or set AWS_REGION in "
                           "nginx's environment");
        return NGX_CONF_ERROR;
    }

    /*
     * the runtimes' default endpoints follow this level's region, so an
     * inner "aigw_region" is not shadowed by an outer default
     */

    for (i = AIGW_SERVICE_BEDROCK; i <= AIGW_SERVICE_SAGEMAKER; i++) {
        ep = &conf->resolved[i];

        if (conf->endpoints[i].url.data) {
            *ep = conf->endpoints[i];
            continue;
        }

        if (conf->region.len == 0) {
            continue;
        }

        len = aigw_target_default_host((char *) host, sizeof(host), i,
                                       (char *) conf->region.data,
                                       conf->region.len);
        if (len == 0) {
            return NGX_CONF_ERROR;
        }

        ep->url.len = sizeof("https://") - 1 + len;
        ep->url.data = ngx_pnalloc(cf->pool, ep->url.len);
        if (ep->url.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_sprintf(ep->url.data, "https://%*s", len, host);

        ep->host.data = ep->url.data + sizeof("https://") - 1;
        ep->host.len = len;
    }

    if (conf->enable) {
        ngx_http_aigw_check_resolver(cf, conf);
    }

    return NGX_CONF_OK;
}


/*
 * "proxy_pass $aigw_upstream_url" resolves an endpoint's host name at run
 * time, which needs a "resolver", unless an upstream block has that name:
 * say so at "nginx -t" rather than with a 502 at the first request
 */

static void
ngx_http_aigw_check_resolver(ngx_conf_t *cf, ngx_http_aigw_loc_conf_t *alcf)
{
    u_char                         *colon;
    ngx_str_t                       host;
    ngx_uint_t                      i, j;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_upstream_srv_conf_t  **uscfp;
    ngx_http_upstream_main_conf_t  *umcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->resolver && clcf->resolver->connections.nelts) {
        return;
    }

    umcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_upstream_module);
    uscfp = umcf->upstreams.elts;

    for (i = AIGW_SERVICE_BEDROCK; i <= AIGW_SERVICE_SAGEMAKER; i++) {
        host = alcf->resolved[i].host;

        if (host.len == 0 || host.data[0] == '[') {
            continue;
        }

        colon = ngx_strlchr(host.data, host.data + host.len, ':');
        if (colon) {
            host.len = colon - host.data;
        }

        if (ngx_inet_addr(host.data, host.len) != INADDR_NONE) {
            continue;
        }

        for (j = 0; j < umcf->upstreams.nelts; j++) {
            if (uscfp[j]->host.len == host.len
                && ngx_strncasecmp(uscfp[j]->host.data, host.data, host.len)
                   == 0)
            {
                break;
            }
        }

        if (j == umcf->upstreams.nelts) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "aigw: no \"resolver\" for \"%V\": add "
                               "\"resolver\" or an upstream block of that "
                               "name, or requests to it will fail", &host);
        }
    }
}


/*
 * Remembers the error logs a gateway location writes to: its own, or what
 * it inherits (the server's, http's, the main one), and its server's, for
 * nginx logs there what it rejects before a location is chosen
 */

static ngx_int_t
ngx_http_aigw_gateway_log(ngx_conf_t *cf, ngx_http_aigw_main_conf_t *amcf)
{
    ngx_log_t                  *log[2], **lp;
    ngx_uint_t                  i, j;
    ngx_http_core_srv_conf_t   *cscf;
    ngx_http_core_loc_conf_t   *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    log[0] = clcf->error_log;

    cscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_core_module);
    clcf = cscf->ctx->loc_conf[ngx_http_core_module.ctx_index];
    log[1] = clcf->error_log;

    for (i = 0; i < 2; i++) {
        if (log[i] == NULL) {
            continue;
        }

        lp = amcf->gateway_logs.elts;

        for (j = 0; j < amcf->gateway_logs.nelts; j++) {
            if (lp[j] == log[i]) {
                break;
            }
        }

        if (j < amcf->gateway_logs.nelts) {
            continue;
        }

        lp = ngx_array_push(&amcf->gateway_logs);
        if (lp == NULL) {
            return NGX_ERROR;
        }

        *lp = log[i];
    }

    return NGX_OK;
}


/*
 * nginx itself logs whole request header lines at "info" ("client sent
 * invalid header line", "client sent duplicate header line"), an API key
 * among them: a warning for every error log of a gateway at "info" or
 * "debug".  Here, once the whole configuration is read, as the main
 * error_log may come after the http block; at "nginx -t" and at start
 * the warning goes to stderr as well.
 */

static ngx_int_t
ngx_http_aigw_init_module(ngx_cycle_t *cycle)
{
    ngx_str_t                   name;
    ngx_log_t                 **lp, *log;
    ngx_uint_t                  i;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_aigw_module);

    if (amcf == NULL) {
        return NGX_OK;
    }

    if (amcf->used && amcf->creds
        && ngx_http_aigw_creds_init_module(cycle, amcf->creds) != NGX_OK)
    {
        return NGX_ERROR;
    }

    lp = amcf->gateway_logs.elts;

    for (i = 0; i < amcf->gateway_logs.nelts; i++) {

        for (log = lp[i]; log; log = log->next) {

            if (log->log_level <= NGX_LOG_NOTICE) {
                continue;
            }

            if (log->file && log->file->name.len) {
                name = log->file->name;

            } else if (log->file) {
                ngx_str_set(&name, "stderr");

            } else if (log->writer == ngx_syslog_writer) {
                ngx_str_set(&name, "syslog");

            } else {
                ngx_str_set(&name, "memory");
            }

            ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                          "aigw: the error log \"%V\" of a gateway is at "
                          "\"%s\" level: nginx itself logs the request "
                          "header lines it rejects, API keys among them, "
                          "at \"info\"; keep gateway error logs at "
                          "\"notice\" or above", &name,
                          (log->log_level >= NGX_LOG_DEBUG) ? "debug"
                                                            : "info");
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_init_process(ngx_cycle_t *cycle)
{
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_aigw_module);

    if (amcf == NULL) {
        return NGX_OK;
    }

    if (amcf->creds
        && ngx_http_aigw_creds_init_worker(cycle, amcf->creds) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (amcf->redis
        && ngx_http_aigw_counter_init_worker(cycle, amcf->redis) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_aigw_limits_init_worker(cycle);
}


static void
ngx_http_aigw_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_aigw_module);

    if (amcf) {
        ngx_http_aigw_creds_exit_worker(amcf->creds);
    }

    ngx_http_aigw_counter_exit_worker(cycle);
    ngx_http_aigw_limits_exit_worker(cycle);

    /* the digest contexts and HMAC pads that hashing and signing keep */

    aigw_sigv4_cleanup();
    aigw_util_cleanup();
}
