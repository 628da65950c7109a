
/*
 * ngx_http_aigw_module: token usage of the upstream response.
 *
 * A header filter and a body filter observe the response of every
 * gateway request as AWS sends it and pass it on untouched: the token
 * headers, JSON bodies and binary event streams are parsed chunk by
 * chunk by the core's usage parser, whose state is a fixed-size struct
 * in the request pool: nothing is buffered, however long the response.
 * The result is read at the log phase (the variables below, and the
 * counters).
 */


#include "ngx_http_aigw_module.h"


static ngx_int_t ngx_http_aigw_usage_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_usage_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_aigw_usage_finish(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_uint_t complete);
static void ngx_http_aigw_usage_set_error(aigw_usage_t *u, ngx_str_t *type);
static void ngx_http_aigw_usage_log_anomalies(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_aigw_usage_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_aigw_usage_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_aigw_usage_body_filter;

    return NGX_OK;
}


/* the parser of a resolved request, before its body is read */

ngx_int_t
ngx_http_aigw_usage_start(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx)
{
    ctx->usage = ngx_palloc(r->pool, sizeof(aigw_usage_parser_t));
    if (ctx->usage == NULL) {
        return NGX_ERROR;
    }

    aigw_usage_init(ctx->usage, ctx->op->id, (char *) ctx->model.data,
                    ctx->model.len, ngx_http_aigw_usage_format(ctx));

    ctx->usage_request_body = aigw_usage_wants_request_body(ctx->usage);

    return NGX_OK;
}


/* how a SageMaker endpoint reports its usage, as its catalog entry says */

aigw_usage_format_e
ngx_http_aigw_usage_format(ngx_http_aigw_ctx_t *ctx)
{
    aigw_usage_format_e  format;

    switch (ctx->catalog ? ctx->catalog->usage : NGX_HTTP_AIGW_USAGE_AUTO) {

    case NGX_HTTP_AIGW_USAGE_OPENAI:
        format = AIGW_USAGE_FORMAT_OPENAI;
        break;

    case NGX_HTTP_AIGW_USAGE_TGI:
        format = AIGW_USAGE_FORMAT_TGI;
        break;

    case NGX_HTTP_AIGW_USAGE_NONE:
        format = AIGW_USAGE_FORMAT_NONE;
        break;

    default:
        format = AIGW_USAGE_FORMAT_AUTO;
        break;
    }

    return format;
}


static ngx_int_t
ngx_http_aigw_usage_header_filter(ngx_http_request_t *r)
{
    ngx_uint_t            i;
    ngx_list_part_t      *part;
    ngx_table_elt_t      *h;
    ngx_http_aigw_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL || ctx->usage == NULL || ctx->status != NGX_OK
        || ctx->metering || r->upstream == NULL)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx->metering = 1;

    aigw_usage_status(ctx->usage, r->headers_out.status);

    if (r->err_status) {
        /* nginx's own error page (502, 504): AWS sent nothing to meter */
        ctx->usage_skip_body = 1;
        return ngx_http_next_header_filter(r);
    }

    part = &r->upstream->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("x-amzn-RequestId") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "x-amzn-RequestId",
                               h[i].key.len)
               == 0)
        {
            ctx->request_id = h[i].value;
        }

        aigw_usage_header(ctx->usage, (char *) h[i].key.data, h[i].key.len,
                          (char *) h[i].value.data, h[i].value.len);
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_aigw_usage_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                 size;
    ngx_buf_t            *b;
    ngx_chain_t          *cl;
    ngx_http_aigw_ctx_t  *ctx;

    if (in == NULL || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL || !ctx->metering || ctx->usage_done) {
        return ngx_http_next_body_filter(r, in);
    }

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        size = ngx_buf_size(b);

        if (size && !ctx->usage_skip_body) {

            if (ctx->ttft_ms == 0 && ctx->op->streaming) {
                ctx->ttft_ms = ngx_http_aigw_elapsed_ms(r) + 1;
            }

            if (ngx_buf_in_memory(b)) {
                aigw_usage_body(ctx->usage, b->pos, size);

            } else {
                /* proxy_buffering spilled it to disk: not read back */
                ctx->usage_unread = 1;
            }
        }

        if (b->last_buf) {
            ngx_http_aigw_usage_finish(r, ctx, 1);
            break;
        }
    }

    return ngx_http_next_body_filter(r, in);
}


/* milliseconds since the request began, as $request_time counts them */

ngx_msec_t
ngx_http_aigw_elapsed_ms(ngx_http_request_t *r)
{
    ngx_time_t      *tp;
    ngx_msec_int_t   ms;

    tp = ngx_timeofday();

    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    return (ngx_msec_t) ngx_max(ms, 0);
}


/*
 * The usage of the response: final once the body ended; a response cut
 * short (the client went away, the upstream reset) is finished here, at
 * the log phase, as partial.  NULL for a request that was not metered.
 */

aigw_usage_t *
ngx_http_aigw_usage_result(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx)
{
    if (ctx->usage == NULL || ctx->status != NGX_OK) {
        return NULL;
    }

    if (!ctx->usage_done) {
        /* complete only if there was no body to read: nginx's error page */
        ngx_http_aigw_usage_finish(r, ctx, ctx->usage_skip_body);
    }

    return &ctx->usage->usage;
}


static void
ngx_http_aigw_usage_finish(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    ngx_uint_t complete)
{
    aigw_usage_t      *u;
    ngx_connection_t  *c;

    ctx->usage_done = 1;

    aigw_usage_finish(ctx->usage, complete && !ctx->usage_unread);

    u = &ctx->usage->usage;
    c = r->connection;

    if (!complete && ctx->metering && !c->error && !c->timedout) {

        /*
         * the body did not end, and not because of the client: the
         * upstream closed or reset the connection, broke the framing or
         * stopped sending (nginx cut the response after its header): a
         * failed call, of the type nginx's 502 or 504 would have had
         */

        ngx_http_aigw_usage_set_error(u, ngx_http_aigw_error_type(
                                             NGX_HTTP_BAD_GATEWAY));
    }

    if (u->error && u->error_type[0] == '\0') {

        /* an error status without a type (an HTML or text body) */

        ngx_http_aigw_usage_set_error(u, ngx_http_aigw_error_type(u->status));
    }

    ngx_http_aigw_usage_log_anomalies(r, ctx);
}


static void
ngx_http_aigw_usage_set_error(aigw_usage_t *u, ngx_str_t *type)
{
    u->error = 1;

    if (u->error_type[0] == '\0' && type->len < sizeof(u->error_type)) {
        ngx_memcpy(u->error_type, type->data, type->len);
        u->error_type[type->len] = '\0';
    }
}


static void
ngx_http_aigw_usage_log_anomalies(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx)
{
    aigw_usage_anomalies_t  a;

    if (ctx->usage_unread) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "aigw: part of the response was buffered to a "
                      "temporary file and not metered: keep "
                      "\"proxy_buffering off\" (aigw_params)");
    }

    aigw_usage_anomalies(ctx->usage, &a);

    if (a.stream_error) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "aigw: event stream from AWS: %s", a.stream_error);
    }

    if (a.crc_errors || a.skipped || a.bad_headers) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "aigw: event stream from AWS: %uD messages with a bad "
                      "CRC, %uD skipped (headers over the bound), %uD with "
                      "malformed headers", a.crc_errors, a.skipped,
                      a.bad_headers);
    }

    if (a.json_errors || a.bad_numbers || a.base64_errors) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "aigw: response from AWS: %uD JSON documents not "
                      "parsed (%s), %uD counts not integers, %uD base64 "
                      "errors", a.json_errors,
                      a.json_error ? a.json_error : "-", a.bad_numbers,
                      a.base64_errors);
    }

    if (a.out_of_range) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "aigw: response from AWS: %uD counts over %uL, the "
                      "most a response can report, not counted",
                      a.out_of_range, (uint64_t) AIGW_USAGE_COUNT_MAX);
    }
}
