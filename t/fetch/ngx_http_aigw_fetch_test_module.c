
/*
 * A test-only module: "aigw_fetch_test" in a location runs one fetch of
 * ngx_http_aigw_fetch.c per request and answers with its outcome:
 *
 *   status: N
 *   error: TEXT           (only when there is one)
 *   length: N
 *
 *   BODY
 *
 * The request's arguments (URL-encoded) say which: url=URL (http:// or
 * https://, a host, an IPv4 or [IPv6] address, a port, a path), or
 * cmd=COMMAND; timeout=MS (5000), method=GET, body=TEXT (sent with
 * Content-Length), cancel=MS (the fetch is cancelled after MS: the
 * answer is "cancelled").
 *
 * "aigw_fetch_test_ca FILE|system" gives https fetches an SSL context
 * (ngx_http_aigw_peer_ssl); names are resolved with the location's
 * "resolver".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_aigw_fetch.h"


typedef struct {
    ngx_flag_t                 enable;
    ngx_str_t                  ca;
    ngx_ssl_t                 *ssl;
} ngx_http_aigw_fetch_test_loc_conf_t;


typedef struct {
    ngx_http_request_t        *request;
    ngx_http_aigw_fetch_t     *fetch;
    ngx_event_t                cancel;
    aigw_header_t              headers[2];
    char                      *host_header;
} ngx_http_aigw_fetch_test_ctx_t;


static ngx_int_t ngx_http_aigw_fetch_test_handler(ngx_http_request_t *r);
static void ngx_http_aigw_fetch_test_done(void *data, ngx_int_t status,
    ngx_str_t *body, const char *error);
static void ngx_http_aigw_fetch_test_cancel(ngx_event_t *ev);
static void ngx_http_aigw_fetch_test_cleanup(void *data);
static void ngx_http_aigw_fetch_test_respond(ngx_http_request_t *r,
    ngx_int_t status, ngx_str_t *body, const char *error);
static char *ngx_http_aigw_fetch_test_arg(ngx_http_request_t *r,
    const char *name);
static char *ngx_http_aigw_fetch_test(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void *ngx_http_aigw_fetch_test_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_aigw_fetch_test_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);


static ngx_command_t  ngx_http_aigw_fetch_test_commands[] = {

    { ngx_string("aigw_fetch_test"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_aigw_fetch_test,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("aigw_fetch_test_ca"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_aigw_fetch_test_loc_conf_t, ca),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_aigw_fetch_test_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_aigw_fetch_test_create_loc_conf,
    ngx_http_aigw_fetch_test_merge_loc_conf
};


ngx_module_t  ngx_http_aigw_fetch_test_module = {
    NGX_MODULE_V1,
    &ngx_http_aigw_fetch_test_module_ctx,  /* module context */
    ngx_http_aigw_fetch_test_commands,     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_aigw_fetch_test_handler(ngx_http_request_t *r)
{
    u_char                               *p, *host, *end;
    char                                 *url, *cmd, *arg;
    ngx_int_t                             rc, n;
    ngx_msec_t                            timeout;
    ngx_pool_cleanup_t                   *cln;
    aigw_cc_http_t                        req;
    ngx_http_core_loc_conf_t             *clcf;
    ngx_http_aigw_fetch_conf_t            conf;
    ngx_http_aigw_fetch_test_ctx_t       *ctx;
    ngx_http_aigw_fetch_test_loc_conf_t  *tlcf;

    tlcf = ngx_http_get_module_loc_conf(r, ngx_http_aigw_fetch_test_module);
    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_aigw_fetch_test_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;

    ngx_memzero(&conf, sizeof(ngx_http_aigw_fetch_conf_t));
    conf.ssl = tlcf->ssl;
    conf.resolver = clcf->resolver;
    conf.resolver_timeout = clcf->resolver_timeout;
    conf.log = r->connection->log;

    timeout = 5000;

    arg = ngx_http_aigw_fetch_test_arg(r, "timeout");
    if (arg) {
        n = ngx_atoi((u_char *) arg, ngx_strlen(arg));
        if (n == NGX_ERROR) {
            return NGX_HTTP_BAD_REQUEST;
        }

        timeout = n;
    }

    url = ngx_http_aigw_fetch_test_arg(r, "url");
    cmd = ngx_http_aigw_fetch_test_arg(r, "cmd");

    if (cmd) {
        rc = ngx_http_aigw_fetch_process(&conf, cmd, timeout,
                                         ngx_http_aigw_fetch_test_done, ctx,
                                         &ctx->fetch);
        goto started;
    }

    if (url == NULL) {
        return NGX_HTTP_BAD_REQUEST;
    }

    ngx_memzero(&req, sizeof(aigw_cc_http_t));

    req.url = url;
    req.timeout_ms = timeout;
    req.method = ngx_http_aigw_fetch_test_arg(r, "method");
    if (req.method == NULL) {
        req.method = "GET";
    }

    req.body = ngx_http_aigw_fetch_test_arg(r, "body");
    if (req.body) {
        req.body_len = ngx_strlen(req.body);
    }

    p = (u_char *) url;

    if (ngx_strncmp(p, "http://", 7) == 0) {
        p += 7;
        req.port = 80;

    } else if (ngx_strncmp(p, "https://", 8) == 0) {
        p += 8;
        req.tls = 1;
        req.port = 443;

    } else {
        return NGX_HTTP_BAD_REQUEST;
    }

    ctx->host_header = (char *) p;

    if (*p == '[') {
        host = ++p;
        end = (u_char *) ngx_strchr(p, ']');
        if (end == NULL) {
            return NGX_HTTP_BAD_REQUEST;
        }

        p = end + 1;

    } else {
        host = p;
        for (end = p; *end && *end != ':' && *end != '/'; end++) {
            /* void */
        }

        p = end;
    }

    if (*p == ':') {
        n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            n = n * 10 + *p - '0';
        }

        req.port = n;
    }

    if (*p != '/') {
        return NGX_HTTP_BAD_REQUEST;
    }

    req.target = (char *) p;

    /* "Host" is what precedes the path; the host, what is in it */

    ctx->headers[0].name.data = "Host";
    ctx->headers[0].name.len = 4;
    ctx->headers[0].value.data = ctx->host_header;
    ctx->headers[0].value.len = (u_char *) req.target
                                - (u_char *) ctx->host_header;
    ctx->headers[1].name.data = "X-Aigw-Test";
    ctx->headers[1].name.len = sizeof("X-Aigw-Test") - 1;
    ctx->headers[1].value.data = "fetch";
    ctx->headers[1].value.len = sizeof("fetch") - 1;

    req.headers = ctx->headers;
    req.nheaders = 2;

    req.host = ngx_pnalloc(r->pool, end - host + 1);
    if (req.host == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_cpystrn((u_char *) req.host, host, end - host + 1);

    rc = ngx_http_aigw_fetch_http(&conf, &req, ngx_http_aigw_fetch_test_done,
                                  ctx, &ctx->fetch);

started:

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_aigw_fetch_cancel(ctx->fetch);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_aigw_fetch_test_cleanup;
    cln->data = ctx;

    arg = ngx_http_aigw_fetch_test_arg(r, "cancel");
    if (arg) {
        ctx->cancel.handler = ngx_http_aigw_fetch_test_cancel;
        ctx->cancel.data = ctx;
        ctx->cancel.log = r->connection->log;
        ngx_add_timer(&ctx->cancel, ngx_atoi((u_char *) arg,
                                             ngx_strlen(arg)));
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_http_aigw_fetch_test_done(void *data, ngx_int_t status, ngx_str_t *body,
    const char *error)
{
    ngx_http_aigw_fetch_test_ctx_t *ctx = data;

    /* the fetch ends after this call: not to be cancelled */
    ctx->fetch = NULL;

    if (ctx->cancel.timer_set) {
        ngx_del_timer(&ctx->cancel);
    }

    ngx_http_aigw_fetch_test_respond(ctx->request, status, body, error);
}


static void
ngx_http_aigw_fetch_test_cancel(ngx_event_t *ev)
{
    ngx_str_t                        body;
    ngx_http_aigw_fetch_test_ctx_t  *ctx = ev->data;

    ngx_http_aigw_fetch_cancel(ctx->fetch);
    ctx->fetch = NULL;

    ngx_str_set(&body, "");
    ngx_http_aigw_fetch_test_respond(ctx->request, -2, &body, "cancelled");
}


static void
ngx_http_aigw_fetch_test_cleanup(void *data)
{
    ngx_http_aigw_fetch_test_ctx_t *ctx = data;

    if (ctx->fetch) {
        ngx_http_aigw_fetch_cancel(ctx->fetch);
        ctx->fetch = NULL;
    }

    if (ctx->cancel.timer_set) {
        ngx_del_timer(&ctx->cancel);
    }
}


static void
ngx_http_aigw_fetch_test_respond(ngx_http_request_t *r, ngx_int_t status,
    ngx_str_t *body, const char *error)
{
    size_t             len;
    ngx_int_t          rc;
    ngx_buf_t         *b;
    ngx_chain_t        out;
    ngx_connection_t  *c;

    c = r->connection;

    len = sizeof("status: \nerror: \nlength: \n\n") - 1 + NGX_INT_T_LEN * 2
          + (error ? ngx_strlen(error) : 0) + body->len;

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        ngx_http_run_posted_requests(c);
        return;
    }

    b->last = ngx_sprintf(b->last, "status: %i\n", status);

    if (error) {
        b->last = ngx_sprintf(b->last, "error: %s\n", error);
    }

    b->last = ngx_sprintf(b->last, "length: %uz\n\n", body->len);
    b->last = ngx_cpymem(b->last, body->data, body->len);
    b->last_buf = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "text/plain");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        ngx_http_run_posted_requests(c);
        return;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
    ngx_http_run_posted_requests(c);
}


/* the argument "name", unescaped, NUL-terminated; NULL: none */

static char *
ngx_http_aigw_fetch_test_arg(ngx_http_request_t *r, const char *name)
{
    u_char     *dst, *src;
    ngx_str_t   value;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &value)
        != NGX_OK)
    {
        return NULL;
    }

    dst = ngx_pnalloc(r->pool, value.len + 1);
    if (dst == NULL) {
        return NULL;
    }

    src = value.data;
    value.data = dst;

    ngx_unescape_uri(&dst, &src, value.len, 0);
    *dst = '\0';

    /* '+' as a space, as forms send it */
    for (src = value.data; src < dst; src++) {
        if (*src == '+') {
            *src = ' ';
        }
    }

    return (char *) value.data;
}


static char *
ngx_http_aigw_fetch_test(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_fetch_test_loc_conf_t *tlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    tlcf->enable = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_aigw_fetch_test_handler;

    return NGX_CONF_OK;
}


static void *
ngx_http_aigw_fetch_test_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_aigw_fetch_test_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_fetch_test_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    conf->enable = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_aigw_fetch_test_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_aigw_fetch_test_loc_conf_t *prev = parent;
    ngx_http_aigw_fetch_test_loc_conf_t *conf = child;

    ngx_str_t  ca;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_str_value(conf->ca, prev->ca, "");

    if (!conf->enable || conf->ca.len == 0) {
        return NGX_CONF_OK;
    }

    ca = conf->ca;

    if (ca.len == sizeof("system") - 1
        && ngx_strncmp(ca.data, "system", ca.len) == 0)
    {
        ngx_str_null(&ca);
    }

    if (ngx_http_aigw_peer_ssl(cf, &conf->ssl, &ca) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}
