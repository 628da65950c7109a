
/*
 * ngx_http_aigw_module: errors in Bedrock's own shape,
 *
 *     HTTP/1.1 400 Bad Request
 *     Content-Type: application/json
 *     x-amzn-ErrorType: ValidationException
 *
 *     {"message":"..."}
 *
 * so that the AWS SDKs raise the matching exception (and retry where they
 * should).  Every error of a gateway location is one of nginx's error
 * responses, which a header and body filter turn into this shape: the
 * gateway's own (the access phase finalizes the request with the status
 * and keeps its reason in the request's context) and those nginx makes
 * itself (413 for a body over client_max_body_size, 502 and 504 from the
 * proxy, 429 from limit_req).  Errors AWS sends pass through untouched.
 */


#include "ngx_http_aigw_module.h"


typedef struct {
    ngx_uint_t   status;
    ngx_str_t    type;
    const char  *message;
} ngx_http_aigw_error_t;


static ngx_http_aigw_error_t *ngx_http_aigw_error_find(ngx_uint_t status);
static ngx_buf_t *ngx_http_aigw_error_body(ngx_http_request_t *r,
    const char *message);
static ngx_int_t ngx_http_aigw_error_headers(ngx_http_request_t *r,
    ngx_http_aigw_error_t *e, ngx_buf_t *b);
static ngx_int_t ngx_http_aigw_error_retry_after(ngx_http_request_t *r,
    time_t seconds);
static ngx_int_t ngx_http_aigw_error_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_error_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


static ngx_http_aigw_error_t  ngx_http_aigw_errors[] = {

    { NGX_HTTP_BAD_REQUEST, ngx_string("ValidationException"),
      "bad request" },

    { NGX_HTTP_UNAUTHORIZED, ngx_string("UnrecognizedClientException"),
      "missing or unknown API key" },

    { NGX_HTTP_FORBIDDEN, ngx_string("AccessDeniedException"),
      "access denied" },

    { NGX_HTTP_NOT_FOUND, ngx_string("ResourceNotFoundException"),
      "not found" },

    { NGX_HTTP_NOT_ALLOWED, ngx_string("ValidationException"),
      "method not allowed" },

    { NGX_HTTP_REQUEST_TIME_OUT, ngx_string("ValidationException"),
      "timed out reading the request" },

    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, ngx_string("ValidationException"),
      "request body too large" },

    { NGX_HTTP_TOO_MANY_REQUESTS, ngx_string("ThrottlingException"),
      "too many requests" },

    { NGX_HTTP_INTERNAL_SERVER_ERROR, ngx_string("InternalServerException"),
      "internal gateway error" },

    /* nginx's answer to a Transfer-Encoding other than chunked */
    { NGX_HTTP_NOT_IMPLEMENTED, ngx_string("ValidationException"),
      "unsupported Transfer-Encoding" },

    { NGX_HTTP_BAD_GATEWAY, ngx_string("ServiceUnavailableException"),
      "the gateway could not get an answer from AWS" },

    { NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_string("ServiceUnavailableException"),
      "service unavailable" },

    { NGX_HTTP_GATEWAY_TIME_OUT, ngx_string("ServiceUnavailableException"),
      "AWS did not answer in time" },

    { 0, ngx_null_string, NULL }
};


ngx_int_t
ngx_http_aigw_error_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_aigw_error_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_aigw_error_body_filter;

    return NGX_OK;
}


ngx_str_t *
ngx_http_aigw_error_type(ngx_uint_t status)
{
    return &ngx_http_aigw_error_find(status)->type;
}


static ngx_http_aigw_error_t *
ngx_http_aigw_error_find(ngx_uint_t status)
{
    ngx_http_aigw_error_t  *e;

    for (e = ngx_http_aigw_errors; e->status; e++) {
        if (e->status == status) {
            return e;
        }
    }

    /* another status: the generic error of its class */

    return (status < NGX_HTTP_INTERNAL_SERVER_ERROR)
           ? &ngx_http_aigw_errors[0]
           : ngx_http_aigw_error_find(NGX_HTTP_INTERNAL_SERVER_ERROR);
}


static ngx_buf_t *
ngx_http_aigw_error_body(ngx_http_request_t *r, const char *message)
{
    u_char      *p;
    size_t       len;
    ngx_buf_t   *b;
    const char  *m;

    len = sizeof("{\"message\":\"\"}") - 1;

    for (m = message; *m; m++) {
        len += (*m == '"' || *m == '\\') ? 2 : 1;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    p = ngx_cpymem(b->last, "{\"message\":\"", sizeof("{\"message\":\"") - 1);

    for (m = message; *m; m++) {
        if (*m == '"' || *m == '\\') {
            *p++ = '\\';
        }

        *p++ = (u_char) *m;
    }

    b->last = ngx_cpymem(p, "\"}", 2);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    return b;
}


static ngx_int_t
ngx_http_aigw_error_headers(ngx_http_request_t *r, ngx_http_aigw_error_t *e,
    ngx_buf_t *b)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "x-amzn-ErrorType");
    h->value = e->type;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    r->headers_out.content_length_n = b->last - b->pos;

    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    return NGX_OK;
}


/* when a refused request may try again (limits), as AWS says it too */

static ngx_int_t
ngx_http_aigw_error_retry_after(ngx_http_request_t *r, time_t seconds)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%T", seconds) - p;

    return NGX_OK;
}


/*
 * nginx's error responses (r->err_status is set by its special response
 * handler only) in a gateway location get a JSON body instead: the
 * gateway's reason when the error is the gateway's, else the status's
 */

static ngx_int_t
ngx_http_aigw_error_header_filter(ngx_http_request_t *r)
{
    ngx_buf_t                 *b;
    const char                *message;
    ngx_http_aigw_ctx_t       *ctx;
    ngx_http_aigw_error_t     *e;
    ngx_http_aigw_srv_conf_t  *ascf;
    ngx_http_aigw_loc_conf_t  *alcf;
    ngx_http_core_srv_conf_t  *cscf;

    if (r != r->main
        || r->err_status < NGX_HTTP_BAD_REQUEST
        || r->headers_out.status != r->err_status)
    {
        return ngx_http_next_header_filter(r);
    }

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_aigw_module);

    if (!alcf->enable) {

        /*
         * a request nginx refused before it chose a location (a NUL or a
         * ".." above the root in the path): a gateway server answers it
         * in JSON too
         */

        ascf = ngx_http_get_module_srv_conf(r, ngx_http_aigw_module);
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);

        if (!ascf->gateway || r->loc_conf != cscf->ctx->loc_conf) {
            return ngx_http_next_header_filter(r);
        }
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_aigw_ctx_t));
        if (ctx == NULL) {
            return NGX_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_aigw_module);
    }

    /*
     * nginx refused the request before the access phase could drop the
     * client's key: drop it now, before the access log sees it
     */

    if (ngx_http_aigw_strip_credentials(r) != NGX_OK) {
        return NGX_ERROR;
    }

    e = ngx_http_aigw_error_find(r->err_status);
    message = e->message;

    if (ctx->status == (ngx_int_t) r->err_status) {

        /*
         * the gateway's error (ngx_http_aigw_access_error()): the
         * connection is kept or closed as it was before nginx's error
         * response
         */

        if (ctx->reason) {
            message = ctx->reason;
        }

        if (ctx->retry_after
            && ngx_http_aigw_error_retry_after(r, ctx->retry_after)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        r->keepalive = ctx->error_keepalive;
        r->lingering_close = ctx->error_lingering_close;
    }

    b = ngx_http_aigw_error_body(r, message);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_aigw_error_headers(r, e, b) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->error_body = b;

    if (ctx->error_type == NULL) {
        ctx->error_type = &e->type;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_aigw_error_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t            *b;
    ngx_chain_t          *cl, out;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL || ctx->error_body == NULL) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's HTML page is consumed, the JSON goes out once instead */

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (in == NULL || ctx->error_sent) {
        return (in == NULL) ? ngx_http_next_body_filter(r, in) : NGX_OK;
    }

    ctx->error_sent = 1;

    b = ctx->error_body;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}
