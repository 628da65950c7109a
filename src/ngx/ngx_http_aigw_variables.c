
/*
 * ngx_http_aigw_module: the variables set in the access phase.
 */


#include "ngx_http_aigw_module.h"
#include "aigw_pricing.h"


static ngx_int_t ngx_http_aigw_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_aigw_variable_operation(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_aigw_variable_tenant(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static aigw_usage_t *ngx_http_aigw_variable_usage(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_variable_count(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_aigw_variable_usage_source(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_aigw_variable_error_type(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_aigw_variable_ttft(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_aigw_variable_cost(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_aigw_variable_set(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len);


#define NGX_HTTP_AIGW_VAR_TENANT       0
#define NGX_HTTP_AIGW_VAR_PROJECT      1
#define NGX_HTTP_AIGW_VAR_DEPARTMENT   2
#define NGX_HTTP_AIGW_VAR_KEY_ID       3


static ngx_http_variable_t  ngx_http_aigw_vars[] = {

    { ngx_string("aigw_tenant"), NULL, ngx_http_aigw_variable_tenant,
      NGX_HTTP_AIGW_VAR_TENANT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_project"), NULL, ngx_http_aigw_variable_tenant,
      NGX_HTTP_AIGW_VAR_PROJECT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_department"), NULL, ngx_http_aigw_variable_tenant,
      NGX_HTTP_AIGW_VAR_DEPARTMENT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_key_id"), NULL, ngx_http_aigw_variable_tenant,
      NGX_HTTP_AIGW_VAR_KEY_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_model"), NULL, ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, model), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_operation"), NULL, ngx_http_aigw_variable_operation,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_service"), NULL, ngx_http_aigw_variable_operation,
      1, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_upstream"), NULL, ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, upstream), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_upstream_url"), NULL, ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, upstream_url),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_authorization"), NULL, ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, authorization),
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_NOHASH, 0 },

    { ngx_string("aigw_amz_date"), NULL, ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, amz_date), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_security_token"), NULL, ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, security_token),
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_NOHASH, 0 },

    { ngx_string("aigw_content_sha256"), NULL, ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, content_sha256),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    /* known at the log phase */

    { ngx_string("aigw_input_tokens"), NULL, ngx_http_aigw_variable_count,
      offsetof(aigw_usage_t, input_tokens), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_output_tokens"), NULL, ngx_http_aigw_variable_count,
      offsetof(aigw_usage_t, output_tokens), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_cache_read_input_tokens"), NULL,
      ngx_http_aigw_variable_count,
      offsetof(aigw_usage_t, cache_read_input_tokens),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_cache_write_input_tokens"), NULL,
      ngx_http_aigw_variable_count,
      offsetof(aigw_usage_t, cache_write_input_tokens),
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_images"), NULL, ngx_http_aigw_variable_count,
      offsetof(aigw_usage_t, images), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_usage_source"), NULL,
      ngx_http_aigw_variable_usage_source, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_upstream_request_id"), NULL,
      ngx_http_aigw_variable_str,
      offsetof(ngx_http_aigw_ctx_t, request_id), NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_error_type"), NULL, ngx_http_aigw_variable_error_type,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_ttft_ms"), NULL, ngx_http_aigw_variable_ttft,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("aigw_cost"), NULL, ngx_http_aigw_variable_cost,
      0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_aigw_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_aigw_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_variable_str(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t            *s;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_aigw_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = (ngx_str_t *) ((char *) ctx + data);

    if (s->data == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    return ngx_http_aigw_variable_set(r, v, s->data, s->len);
}


/* the operation's API name ("Converse"), or its service ("bedrock") */

static ngx_int_t
ngx_http_aigw_variable_operation(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char           *s;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_aigw_module);

    if (ctx == NULL || ctx->op == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    s = data ? aigw_service_names[ctx->op->service] : ctx->op->name;

    return ngx_http_aigw_variable_set(r, v, (u_char *) s, ngx_strlen(s));
}


static ngx_int_t
ngx_http_aigw_variable_tenant(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const aigw_str_t     *s;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_aigw_module);

    if (ctx == NULL || ctx->tenant == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    switch (data) {

    case NGX_HTTP_AIGW_VAR_TENANT:
        s = &ctx->tenant->id;
        break;

    case NGX_HTTP_AIGW_VAR_PROJECT:
        s = &ctx->tenant->project;
        break;

    case NGX_HTTP_AIGW_VAR_DEPARTMENT:
        s = &ctx->tenant->department;
        break;

    default: /* NGX_HTTP_AIGW_VAR_KEY_ID */
        s = &ctx->key->id;
        break;
    }

    return ngx_http_aigw_variable_set(r, v, (u_char *) s->data, s->len);
}


/* the usage of the response, NULL when the request was not metered */

static aigw_usage_t *
ngx_http_aigw_variable_usage(ngx_http_request_t *r)
{
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_aigw_module);

    return ctx ? ngx_http_aigw_usage_result(r->main, ctx) : NULL;
}


/* a token or image count of the response */

static ngx_int_t
ngx_http_aigw_variable_count(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char        *p;
    aigw_usage_t  *u;

    u = ngx_http_aigw_variable_usage(r);

    if (u == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_aigw_variable_set(r, v, p,
                                      ngx_sprintf(p, "%uL",
                                          *(uint64_t *) ((char *) u + data))
                                      - p);
}


static ngx_int_t
ngx_http_aigw_variable_usage_source(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    const char    *name;
    aigw_usage_t  *u;

    u = ngx_http_aigw_variable_usage(r);

    if (u == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    name = aigw_usage_source_name(u->source);

    return ngx_http_aigw_variable_set(r, v, (u_char *) name,
                                      ngx_strlen(name));
}


/* AWS's error (status, header, stream exception), else the gateway's */

static ngx_int_t
ngx_http_aigw_variable_error_type(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    aigw_usage_t         *u;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_aigw_module);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    u = ngx_http_aigw_usage_result(r->main, ctx);

    if (u && u->error_type[0]) {
        return ngx_http_aigw_variable_set(r, v, (u_char *) u->error_type,
                                          ngx_strlen(u->error_type));
    }

    if (ctx->error_type) {
        return ngx_http_aigw_variable_set(r, v, ctx->error_type->data,
                                          ctx->error_type->len);
    }

    v->not_found = 1;
    return NGX_OK;
}


/* time to the first streamed byte of a streaming operation */

static ngx_int_t
ngx_http_aigw_variable_ttft(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char               *p;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_aigw_module);

    if (ctx == NULL || ctx->ttft_ms == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_aigw_variable_set(r, v, p,
                                      ngx_sprintf(p, "%M", ctx->ttft_ms - 1)
                                      - p);
}


/* the cost in USD, with "aigw_pricing" */

static ngx_int_t
ngx_http_aigw_variable_cost(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char               *p;
    uint64_t              nanousd;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_aigw_module);

    if (ctx == NULL || ngx_http_aigw_cost(r->main, ctx, &nanousd) != NGX_OK)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, AIGW_COST_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    return ngx_http_aigw_variable_set(r, v, p,
                                      aigw_cost_format(nanousd, (char *) p));
}


static ngx_int_t
ngx_http_aigw_variable_set(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, u_char *data, size_t len)
{
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = data;

    return NGX_OK;
}
