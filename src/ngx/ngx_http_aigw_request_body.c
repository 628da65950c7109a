
/*
 * ngx_http_aigw_module: the request body filter.
 *
 * SigV4 signs the SHA-256 of the body.  The hash is taken while nginx
 * reads the body, buffer by buffer, before nginx's own save filter keeps
 * it in memory or writes it to a temporary file: a body of any size is
 * hashed without being read back from disk.
 */


#include "ngx_http_aigw_module.h"


static ngx_int_t ngx_http_aigw_request_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_aigw_request_body_cleanup(void *data);


static ngx_http_request_body_filter_pt  ngx_http_next_request_body_filter;


ngx_int_t
ngx_http_aigw_request_body_init(ngx_conf_t *cf)
{
    ngx_http_next_request_body_filter = ngx_http_top_request_body_filter;
    ngx_http_top_request_body_filter = ngx_http_aigw_request_body_filter;

    return NGX_OK;
}


/*
 * Starts hashing the body of a request about to be read: NGX_OK, or the
 * HTTP status to answer with.  A body already read before the request
 * reached this location (an internal redirect) is hashed from memory.
 */

ngx_int_t
ngx_http_aigw_request_body_start(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx)
{
    ngx_buf_t           *b;
    ngx_chain_t         *cl;
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->body_hash = aigw_sha256_new();
    if (ctx->body_hash == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_aigw_request_body_cleanup;
    cln->data = ctx->body_hash;

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    if (r->request_body->temp_file) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "aigw: the request body was read to a file before "
                      "the request reached the gateway location, it "
                      "cannot be signed without blocking");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (aigw_sha256_update(ctx->body_hash, b->pos, b->last - b->pos)
            != 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ctx->limits) {
            ngx_http_aigw_limits_feed(ctx, b->pos, b->last - b->pos);
        }

        if (ctx->usage_request_body) {
            aigw_usage_request_body(ctx->usage, b->pos, b->last - b->pos);
        }

        if (ctx->converse_opts) {
            aigw_converse_opts_feed(ctx->converse_opts, b->pos,
                                    b->last - b->pos);
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_request_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t            *b;
    ngx_chain_t          *cl;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL || ctx->body_hash == NULL || ctx->status != NGX_DONE) {
        return ngx_http_next_request_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (!ngx_buf_in_memory(b)) {
            if (ngx_buf_size(b) == 0) {
                continue;
            }

            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "aigw: request body buffer not in memory");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (aigw_sha256_update(ctx->body_hash, b->pos, b->last - b->pos)
            != 0)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ctx->limits) {
            ngx_http_aigw_limits_feed(ctx, b->pos, b->last - b->pos);
        }

        if (ctx->usage_request_body) {
            /* an image model's size and quality, for pricing */
            aigw_usage_request_body(ctx->usage, b->pos, b->last - b->pos);
        }

        if (ctx->converse_opts) {
            /* a service tier or latency in the body, authorized at its end */
            aigw_converse_opts_feed(ctx->converse_opts, b->pos,
                                    b->last - b->pos);
        }
    }

    return ngx_http_next_request_body_filter(r, in);
}


static void
ngx_http_aigw_request_body_cleanup(void *data)
{
    aigw_sha256_free(data);
}
