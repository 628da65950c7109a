
/*
 * ngx_http_aigw_module: errors in Bedrock's own shape,
 *
 *     HTTP/1.1 400 Bad Request
 *     Content-Type: application/json
 *     x-amzn-ErrorType: ValidationException
 *
 *     {"message":"..."}
 *
 * so that the AWS SDKs raise the matching exception.
 */


#include "ngx_http_aigw_module.h"


typedef struct {
    ngx_uint_t   status;
    ngx_str_t    type;
    const char  *message;
} ngx_http_aigw_error_t;


static ngx_http_aigw_error_t  ngx_http_aigw_errors[] = {

    { NGX_HTTP_BAD_REQUEST, ngx_string("ValidationException"),
      "invalid request" },

    { NGX_HTTP_UNAUTHORIZED, ngx_string("UnrecognizedClientException"),
      "missing or unknown API key" },

    { NGX_HTTP_FORBIDDEN, ngx_string("AccessDeniedException"),
      "access denied" },

    { NGX_HTTP_NOT_FOUND, ngx_string("ResourceNotFoundException"),
      "not found" },

    { NGX_HTTP_NOT_ALLOWED, ngx_string("ValidationException"),
      "method not allowed" },

    { NGX_HTTP_REQUEST_TIME_OUT, ngx_string("ValidationException"),
      "timed out reading the request body" },

    { NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, ngx_string("ValidationException"),
      "request body too large" },

    { NGX_HTTP_TOO_MANY_REQUESTS, ngx_string("ThrottlingException"),
      "too many requests" },

    { NGX_HTTP_SERVICE_UNAVAILABLE,
      ngx_string("ServiceUnavailableException"),
      "AWS credentials are unavailable" },

    { NGX_HTTP_INTERNAL_SERVER_ERROR, ngx_string("InternalServerException"),
      "internal gateway error" },

    { 0, ngx_null_string, NULL }
};


ngx_int_t
ngx_http_aigw_send_error(ngx_http_request_t *r, ngx_uint_t status,
    const char *message)
{
    u_char                 *p;
    size_t                  len;
    ngx_int_t               rc;
    ngx_buf_t              *b;
    ngx_chain_t             out;
    const char             *m;
    ngx_table_elt_t        *h;
    ngx_http_aigw_error_t  *e;

    if (r->connection->error) {
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return NGX_DONE;
    }

    for (e = ngx_http_aigw_errors; e->status; e++) {
        if (e->status == status) {
            break;
        }
    }

    if (e->status == 0) {
        /* nginx's own statuses, from reading the body */
        e = (status < NGX_HTTP_INTERNAL_SERVER_ERROR) ? &ngx_http_aigw_errors[0]
                                                     : e - 1;
    }

    if (message == NULL) {
        message = e->message;
    }

    r->expect_tested = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    len = sizeof("{\"message\":\"\"}") - 1;

    for (m = message; *m; m++) {
        len += (*m == '"' || *m == '\\') ? 2 : 1;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
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

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return NGX_DONE;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "x-amzn-ErrorType");
    h->value = e->type;

    r->headers_out.status = status;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "aigw error %ui \"%s\"", status, message);

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        ngx_http_finalize_request(r, rc);
        return NGX_DONE;
    }

    out.buf = b;
    out.next = NULL;

    ngx_http_finalize_request(r, ngx_http_output_filter(r, &out));
    return NGX_DONE;
}
