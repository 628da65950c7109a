
/*
 * ngx_http_aigw_module: "aigw_pricing" and the real-time cost.
 *
 * The pricing file (the same one "aigw export" reads) is parsed when
 * nginx reads its configuration; at the log phase a request's cost is
 * computed once, exactly, in nano-dollars, for $aigw_cost and the
 * cost_nanousd counter.
 */


#include "ngx_http_aigw_module.h"
#include "aigw_file.h"
#include "aigw_pricing.h"


#define NGX_HTTP_AIGW_PRICING_MAX  (64 * 1024 * 1024)


static void ngx_http_aigw_pricing_cleanup(void *data);


char *
ngx_http_aigw_pricing(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    char                 err[AIGW_PRICING_ERR_LEN];
    char                *text;
    size_t               len;
    ngx_str_t           *value, file;
    aigw_pricing_t      *pricing;
    ngx_pool_cleanup_t  *cln;

    if (amcf->pricing) {
        return "is duplicate";
    }

    value = cf->args->elts;
    file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    text = aigw_file_read((char *) file.data, NGX_HTTP_AIGW_PRICING_MAX,
                          &len, err, sizeof(err));

    if (text == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "aigw_pricing: \"%V\": %s",
                           &file, err);
        return NGX_CONF_ERROR;
    }

    pricing = aigw_pricing_parse(text, len, err, sizeof(err));

    free(text);

    if (pricing == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "aigw_pricing: \"%V\": %s",
                           &file, err);
    }

    if (pricing == NULL) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        aigw_pricing_free(pricing);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_aigw_pricing_cleanup;
    cln->data = pricing;

    amcf->pricing = pricing;

    return NGX_CONF_OK;
}


static void
ngx_http_aigw_pricing_cleanup(void *data)
{
    aigw_pricing_free(data);
}


/*
 * The price of the request's model in its region, as the bill and the
 * reservation both price it; NULL without aigw_pricing or a price
 */

const aigw_price_t *
ngx_http_aigw_price(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx)
{
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    if (amcf->pricing == NULL) {
        return NULL;
    }

    return aigw_pricing_lookup(amcf->pricing, (char *) ctx->region.data,
                               ctx->region.len,
                               (char *) ctx->billing_model.data,
                               ctx->billing_model.len);
}


/*
 * The request's cost, computed once: NGX_OK with "*nanousd", or
 * NGX_DECLINED when it is not known (no prices, or none for the model)
 */

ngx_int_t
ngx_http_aigw_cost(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    uint64_t *nanousd)
{
    aigw_cost_t                 cost;
    aigw_usage_t               *u;
    const aigw_price_t         *price;
    aigw_cost_usage_t           cu;
    aigw_image_count_t          ic;
    ngx_http_aigw_main_conf_t  *amcf;

    if (ctx->cost_done) {
        *nanousd = ctx->cost_nanousd;
        return ctx->cost_known ? NGX_OK : NGX_DECLINED;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    u = ngx_http_aigw_usage_result(r, ctx);

    if (amcf->pricing == NULL || u == NULL) {
        return NGX_DECLINED;
    }

    ctx->cost_done = 1;

    price = ngx_http_aigw_price(r, ctx);

    ngx_memzero(&cu, sizeof(aigw_cost_usage_t));

    cu.input_tokens = u->input_tokens;
    cu.output_tokens = u->output_tokens;
    cu.cache_read_tokens = u->cache_read_input_tokens;
    cu.cache_write_tokens = u->cache_write_input_tokens;
    cu.images = u->images;

    if (u->images && u->image_size[0]) {
        ic.size.data = u->image_size;
        ic.size.len = ngx_strlen(u->image_size);
        ic.quality.data = u->image_quality;
        ic.quality.len = ngx_strlen(u->image_quality);
        ic.count = u->images;

        cu.image_counts = &ic;
        cu.nimage_counts = 1;
    }

    if (price == NULL || aigw_pricing_cost(price, &cu, &cost) != 0) {
        if (price == NULL) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "aigw: no price for \"%V\"", &ctx->billing_model);
        }

        return NGX_DECLINED;
    }

    if (cost.missing) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "aigw: the price of \"%V\" lacks some of its usage",
                      &ctx->billing_model);
    }

    ctx->cost_known = 1;
    ctx->cost_nanousd = cost.total;

    *nanousd = cost.total;

    return NGX_OK;
}
