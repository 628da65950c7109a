
/*
 * ngx_http_aigw_module: tenants and their API keys.
 *
 * The tenants file is read and validated when nginx reads its
 * configuration (a bad file fails "nginx -t" with its path and the
 * reason); "nginx -s reload" reads it again.  On the request path a key is
 * found by its public id in O(1) and its SHA-256 compared in constant
 * time, and the client's credentials are dropped from the request.  No
 * key, secret or hash ever reaches a log line.
 */


#include "ngx_http_aigw_module.h"
#include "aigw_file.h"
#include "aigw_record.h"


/* a tenants file larger than this is a mistake, not a configuration */
#define NGX_HTTP_AIGW_TENANTS_MAX  (256 * 1024 * 1024)


static void ngx_http_aigw_tenants_cleanup(void *data);
static ngx_int_t ngx_http_aigw_find_key(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_int_t ngx_http_aigw_authorize_headers(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, const char **reason);
static ngx_int_t ngx_http_aigw_billing_prefix(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, size_t len, const char **reason);
static ngx_int_t ngx_http_aigw_authorize_target(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_table_elt_t *h, const char *kind,
    const char **reason);
static ngx_uint_t ngx_http_aigw_same_key(ngx_str_t *a, ngx_str_t *b);
static ngx_uint_t ngx_http_aigw_client_credential(ngx_table_elt_t *h);


/*
 * The AWS request headers a client may send, and what the gateway does
 * with them (README, "Request headers"): those that pick another
 * resource, a price or an account resource are authorized, the others
 * pass; any other X-Amzn-Bedrock-* or X-Amzn-SageMaker-* header is
 * refused, as a header AWS adds later may widen access.
 */

typedef enum {
    NGX_HTTP_AIGW_HDR_PASS = 0,
    NGX_HTTP_AIGW_HDR_TIER,
    NGX_HTTP_AIGW_HDR_LATENCY,
    NGX_HTTP_AIGW_HDR_GUARDRAIL,
    NGX_HTTP_AIGW_HDR_TARGET
} ngx_http_aigw_hdr_e;


typedef struct {
    ngx_str_t                   name;       /* lowercase */
    ngx_http_aigw_hdr_e         check;
    const char                 *kind;       /* of a target: "variant" */
} ngx_http_aigw_hdr_t;


static ngx_http_aigw_hdr_t  ngx_http_aigw_headers[] = {

    { ngx_string("x-amzn-bedrock-accept"), NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-bedrock-trace"), NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-bedrock-request-metadata"),
      NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-bedrock-guardrailversion"),
      NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-bedrock-guardrailidentifier"),
      NGX_HTTP_AIGW_HDR_GUARDRAIL, NULL },
    { ngx_string("x-amzn-bedrock-service-tier"),
      NGX_HTTP_AIGW_HDR_TIER, NULL },
    { ngx_string("x-amzn-bedrock-performanceconfig-latency"),
      NGX_HTTP_AIGW_HDR_LATENCY, NULL },

    { ngx_string("x-amzn-sagemaker-accept"), NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-sagemaker-custom-attributes"),
      NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-sagemaker-inference-id"),
      NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-sagemaker-enable-explanations"),
      NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-sagemaker-session-id"),
      NGX_HTTP_AIGW_HDR_PASS, NULL },
    { ngx_string("x-amzn-sagemaker-target-model"),
      NGX_HTTP_AIGW_HDR_TARGET, "model" },
    { ngx_string("x-amzn-sagemaker-target-variant"),
      NGX_HTTP_AIGW_HDR_TARGET, "variant" },
    { ngx_string("x-amzn-sagemaker-target-container-hostname"),
      NGX_HTTP_AIGW_HDR_TARGET, "container" },
    { ngx_string("x-amzn-sagemaker-inference-component"),
      NGX_HTTP_AIGW_HDR_TARGET, "component" },

    { ngx_null_string, NGX_HTTP_AIGW_HDR_PASS, NULL }
};


char *
ngx_http_aigw_tenants(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    char                *text;
    char                 err[AIGW_TENANTS_ERR_LEN];
    size_t               len;
    ngx_str_t           *value;
    aigw_tenants_t      *tenants;
    ngx_pool_cleanup_t  *cln;

    if (amcf->tenants) {
        return "is duplicate";
    }

    value = cf->args->elts;

    amcf->tenants_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &amcf->tenants_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    text = aigw_file_read((char *) amcf->tenants_file.data,
                          NGX_HTTP_AIGW_TENANTS_MAX, &len, err, sizeof(err));

    if (text == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "aigw_tenants: \"%V\": %s",
                           &amcf->tenants_file, err);
        return NGX_CONF_ERROR;
    }

    tenants = aigw_tenants_parse(text, len, err, sizeof(err));

    free(text);

    if (tenants == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "aigw_tenants: \"%V\": %s",
                           &amcf->tenants_file, err);
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        aigw_tenants_free(tenants);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_aigw_tenants_cleanup;
    cln->data = tenants;

    amcf->tenants = tenants;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, cf->log, 0,
                   "aigw tenants \"%V\": %uz tenants, %uz keys",
                   &amcf->tenants_file, aigw_tenants_count(tenants),
                   aigw_tenants_key_count(tenants));

    return NGX_CONF_OK;
}


static void
ngx_http_aigw_tenants_cleanup(void *data)
{
    aigw_tenants_free(data);
}


/*
 * Finds the request's tenant by its API key, and drops the client's
 * credentials from the request: NGX_OK, NGX_ERROR, or 401 with "*reason"
 * set.  The key comes in "X-Api-Key", else in
 * "Authorization: Bearer" (what the AWS SDKs send with
 * AWS_BEARER_TOKEN_BEDROCK); a SigV4 Authorization is not a key.
 */

ngx_int_t
ngx_http_aigw_authenticate(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    const char **reason)
{
    ngx_int_t                   rc;
    ngx_str_t                   key;
    aigw_auth_rc_e              arc;
    const aigw_key_t           *found;
    const aigw_tenant_t        *tenant;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    /*
     * the key first, then the client's credentials are dropped whatever
     * the key's fate
     */

    rc = ngx_http_aigw_find_key(r, &key);

    if (ngx_http_aigw_strip_credentials(r) != NGX_OK) {
        return NGX_ERROR;
    }

    switch (rc) {

    case NGX_OK:
        break;

    case NGX_BUSY:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "aigw: conflicting API keys");
        *reason = "conflicting API keys: send one key, in the x-api-key "
                  "header or as Authorization: Bearer";
        return NGX_HTTP_UNAUTHORIZED;

    default:
        *reason = "missing API key: send it in the x-api-key header or as "
                  "Authorization: Bearer";
        return NGX_HTTP_UNAUTHORIZED;
    }

    arc = aigw_tenants_authenticate(amcf->tenants, (char *) key.data, key.len,
                                    &tenant, &found);

    switch (arc) {

    case AIGW_AUTH_OK:
        ctx->tenant = tenant;
        ctx->key = found;

        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "aigw tenant \"%s\" key \"%s\"",
                       tenant->id.data, found->id.data);
        return NGX_OK;

    case AIGW_AUTH_MALFORMED:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "aigw: malformed API key");
        break;

    default:
        /* the key id, not the key: ids are public */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "aigw: %s API key",
                      (arc == AIGW_AUTH_UNKNOWN_KEY) ? "unknown" : "invalid");
        break;
    }

    *reason = "invalid API key";
    return NGX_HTTP_UNAUTHORIZED;
}


/*
 * The request's key: NGX_OK; NGX_DECLINED when there is none (or it is
 * empty); NGX_BUSY when the request carries two different ones (x-api-key
 * twice, or x-api-key and a Bearer): which tenant it is would be a guess.
 */

static ngx_int_t
ngx_http_aigw_find_key(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char           *p, *last;
    ngx_str_t         bearer;
    ngx_uint_t        i, found;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    found = 0;
    ngx_str_null(key);

    part = &r->headers_in.headers.part;
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

        if (h[i].key.len == sizeof("x-api-key") - 1
            && ngx_strncmp(h[i].lowcase_key, "x-api-key",
                           sizeof("x-api-key") - 1)
               == 0)
        {
            if (found && !ngx_http_aigw_same_key(key, &h[i].value)) {
                return NGX_BUSY;
            }

            *key = h[i].value;
            found = 1;
        }
    }

    if (r->headers_in.authorization != NULL) {
        p = r->headers_in.authorization->value.data;
        last = p + r->headers_in.authorization->value.len;

        if (last - p >= (ssize_t) sizeof("Bearer ")
            && ngx_strncasecmp(p, (u_char *) "Bearer ", sizeof("Bearer ") - 1)
               == 0)
        {
            p += sizeof("Bearer ") - 1;

            while (p < last && *p == ' ') {
                p++;
            }

            while (last > p && last[-1] == ' ') {
                last--;
            }

            bearer.data = p;
            bearer.len = last - p;

            if (found && !ngx_http_aigw_same_key(key, &bearer)) {
                return NGX_BUSY;
            }

            *key = bearer;
            found = 1;
        }
    }

    return (found && key->len) ? NGX_OK : NGX_DECLINED;
}


static ngx_uint_t
ngx_http_aigw_same_key(ngx_str_t *a, ngx_str_t *b)
{
    return a->len == b->len && ngx_memcmp(a->data, b->data, a->len) == 0;
}


/*
 * The client's credentials must not reach AWS: Authorization (an SDK's
 * own SigV4 signature, or a Bearer key), X-Api-Key and every X-Amz-*
 * header; nor may they reach a log ($http_* variables).  The header list
 * is rebuilt without them; the pointers nginx keeps to known headers, and
 * the key found in one, stay valid, as the old list is not freed.
 */

ngx_int_t
ngx_http_aigw_strip_credentials(ngx_http_request_t *r)
{
    ngx_uint_t        i, n, drop;
    ngx_list_t        headers;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h, *nh;

    n = 0;
    drop = 0;
    part = &r->headers_in.headers.part;
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

        n++;

        if (ngx_http_aigw_client_credential(&h[i])) {
            drop++;
        }
    }

    if (drop == 0) {
        return NGX_OK;
    }

    if (ngx_list_init(&headers, r->pool, n - drop + 1, sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &r->headers_in.headers.part;
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

        if (ngx_http_aigw_client_credential(&h[i])) {
            continue;
        }

        nh = ngx_list_push(&headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    r->headers_in.headers = headers;
    r->headers_in.authorization = NULL;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_aigw_client_credential(ngx_table_elt_t *h)
{
    return (h->key.len == 13
            && ngx_strncmp(h->lowcase_key, "authorization", 13) == 0)
           || (h->key.len == 9
               && ngx_strncmp(h->lowcase_key, "x-api-key", 9) == 0)
           || (h->key.len >= 6
               && ngx_strncmp(h->lowcase_key, "x-amz-", 6) == 0);
}


/*
 * The tenant may use the model it asked for (ID, ARN or alias, before
 * any alias or inference profile is resolved): NGX_OK, or 403
 */

ngx_int_t
ngx_http_aigw_authorize(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    const char **reason)
{
    if (aigw_tenant_model_allowed(ctx->tenant, (char *) ctx->requested.data,
                                  ctx->requested.len))
    {
        return ngx_http_aigw_authorize_headers(r, ctx, reason);
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "aigw: tenant \"%s\" may not use \"%V\"",
                  ctx->tenant->id.data, &ctx->requested);

    *reason = "this API key may not use this model";
    return NGX_HTTP_FORBIDDEN;
}


/*
 * The AWS headers of the request (ngx_http_aigw_headers[]): NGX_OK, or
 * 403 for a resource, tier or latency the tenant may not use, or 400 for
 * a header the gateway does not pass, with "*reason" set.  A service tier
 * or latency other than the default sets ctx->billing_prefix.
 */

static ngx_int_t
ngx_http_aigw_authorize_headers(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, const char **reason)
{
    ngx_int_t             rc;
    ngx_uint_t            i, k, tiers, latencies;
    ngx_list_part_t      *part;
    ngx_table_elt_t      *h;
    ngx_http_aigw_hdr_t  *hd;

    tiers = 0;
    latencies = 0;

    part = &r->headers_in.headers.part;
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

        if (!((h[i].key.len > sizeof("x-amzn-bedrock-") - 1
               && ngx_strncmp(h[i].lowcase_key, "x-amzn-bedrock-",
                              sizeof("x-amzn-bedrock-") - 1)
                  == 0)
              || (h[i].key.len > sizeof("x-amzn-sagemaker-") - 1
                  && ngx_strncmp(h[i].lowcase_key, "x-amzn-sagemaker-",
                                 sizeof("x-amzn-sagemaker-") - 1)
                     == 0)))
        {
            continue;
        }

        for (hd = ngx_http_aigw_headers; hd->name.len; hd++) {
            if (hd->name.len == h[i].key.len
                && ngx_strncmp(hd->name.data, h[i].lowcase_key, h[i].key.len)
                   == 0)
            {
                break;
            }
        }

        if (hd->name.len == 0) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "aigw: the header \"%V\" is not passed",
                          &h[i].key);
            *reason = "an X-Amzn-Bedrock-* or X-Amzn-SageMaker-* header "
                      "the gateway does not pass";
            return NGX_HTTP_BAD_REQUEST;
        }

        switch (hd->check) {

        case NGX_HTTP_AIGW_HDR_TIER:

            k = aigw_service_tier((char *) h[i].value.data, h[i].value.len);

            if (k == 0 || tiers++) {
                *reason = (k == 0) ? "X-Amzn-Bedrock-Service-Tier: expected "
                                     "priority, default, flex or reserved"
                                   : "X-Amzn-Bedrock-Service-Tier: more "
                                     "than one";
                return NGX_HTTP_BAD_REQUEST;
            }

            if (!aigw_tenant_tier_allowed(ctx->tenant, k)) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "aigw: tenant \"%s\" may not use the "
                              "service tier \"%V\"", ctx->tenant->id.data,
                              &h[i].value);
                *reason = "this API key may not use this service tier";
                return NGX_HTTP_FORBIDDEN;
            }

            ctx->tier = k;
            continue;

        case NGX_HTTP_AIGW_HDR_LATENCY:

            if (latencies++) {
                *reason = "X-Amzn-Bedrock-PerformanceConfig-Latency: more "
                          "than one";
                return NGX_HTTP_BAD_REQUEST;
            }

            if (h[i].value.len == sizeof("standard") - 1
                && ngx_strncmp(h[i].value.data, "standard",
                               sizeof("standard") - 1)
                   == 0)
            {
                ctx->latency = AIGW_LATENCY_STANDARD;
                continue;
            }

            if (!(h[i].value.len == sizeof("optimized") - 1
                  && ngx_strncmp(h[i].value.data, "optimized",
                                 sizeof("optimized") - 1)
                     == 0))
            {
                *reason = "X-Amzn-Bedrock-PerformanceConfig-Latency: "
                          "expected standard or optimized";
                return NGX_HTTP_BAD_REQUEST;
            }

            if (!ctx->tenant->latency_optimized) {
                ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                              "aigw: tenant \"%s\" may not use "
                              "latency-optimized inference",
                              ctx->tenant->id.data);
                *reason = "this API key may not use latency-optimized "
                          "inference";
                return NGX_HTTP_FORBIDDEN;
            }

            ctx->latency = AIGW_LATENCY_OPTIMIZED;
            continue;

        case NGX_HTTP_AIGW_HDR_GUARDRAIL:

            /* "" is no guardrail (the API's pattern allows it) */

            if (h[i].value.len == 0) {
                continue;
            }

            rc = ngx_http_aigw_authorize_target(r, ctx, &h[i], NULL,
                                                reason);
            if (rc != NGX_OK) {
                return rc;
            }

            continue;

        case NGX_HTTP_AIGW_HDR_TARGET:

            rc = ngx_http_aigw_authorize_target(r, ctx, &h[i], hd->kind,
                                                reason);
            if (rc != NGX_OK) {
                return rc;
            }

            continue;

        default: /* NGX_HTTP_AIGW_HDR_PASS */
            continue;
        }
    }

    /* Converse takes a tier and a latency in the body as well */

    if (ctx->op->id == AIGW_OP_CONVERSE
        || ctx->op->id == AIGW_OP_CONVERSE_STREAM)
    {
        ctx->converse_opts = ngx_palloc(r->pool,
                                        sizeof(aigw_converse_opts_t));
        if (ctx->converse_opts == NULL) {
            return NGX_ERROR;
        }

        aigw_converse_opts_init(ctx->converse_opts);
    }

    return ngx_http_aigw_billing_prefix(r, ctx, ctx->model.len, reason);
}


/*
 * The service tier and latency of a Converse body, once it is read: the
 * same rules as their headers (ngx_http_aigw_authorize_headers()); a
 * body that names another tier or latency than a header is refused.
 * NGX_OK, NGX_ERROR, or the HTTP status with "*reason" set.
 */

ngx_int_t
ngx_http_aigw_authorize_body(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    const char **reason)
{
    u_char                *model;
    size_t                 base;
    ngx_int_t              rc;
    aigw_converse_opts_t  *o;

    o = ctx->converse_opts;

    if (o == NULL) {
        return NGX_OK;
    }

    ctx->converse_opts = NULL;

    aigw_converse_opts_finish(o);

    if (o->unreadable) {
        *reason = "the request body is not one JSON object";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (o->bad_tier || (o->tiers & (o->tiers - 1))
        || (o->tiers && ctx->tier && o->tiers != ctx->tier))
    {
        *reason = "serviceTier.type: expected one of priority, default, "
                  "flex or reserved, the X-Amzn-Bedrock-Service-Tier "
                  "header's if there is one";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (o->bad_latency || (o->latencies & (o->latencies - 1))
        || (o->latencies && ctx->latency && o->latencies != ctx->latency))
    {
        *reason = "performanceConfig.latency: expected standard or "
                  "optimized, the X-Amzn-Bedrock-PerformanceConfig-Latency "
                  "header's if there is one";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (o->tiers && !aigw_tenant_tier_allowed(ctx->tenant, o->tiers)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "aigw: tenant \"%s\" may not use the service tier "
                      "\"%s\"", ctx->tenant->id.data,
                      aigw_service_tier_name(o->tiers));
        *reason = "this API key may not use this service tier";
        return NGX_HTTP_FORBIDDEN;
    }

    if (o->latencies == AIGW_LATENCY_OPTIMIZED
        && !ctx->tenant->latency_optimized)
    {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "aigw: tenant \"%s\" may not use latency-optimized "
                      "inference", ctx->tenant->id.data);
        *reason = "this API key may not use latency-optimized inference";
        return NGX_HTTP_FORBIDDEN;
    }

    if ((o->tiers == 0 || o->tiers == ctx->tier)
        && (o->latencies == 0 || o->latencies == ctx->latency))
    {
        return NGX_OK;
    }

    ctx->tier = o->tiers ? o->tiers : ctx->tier;
    ctx->latency = o->latencies ? o->latencies : ctx->latency;

    /* counted under the new prefix and the same model */

    base = ctx->billing_model.len - ctx->billing_prefix.len;
    model = ctx->billing_model.data + ctx->billing_prefix.len;

    rc = ngx_http_aigw_billing_prefix(r, ctx, base, reason);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_aigw_billing_model(r, ctx, model, base);
}


/*
 * ctx->billing_model: the model usage counts under, after the prefix of
 * its service tier and latency, if any
 */

ngx_int_t
ngx_http_aigw_billing_model(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    u_char *model, size_t len)
{
    u_char  *p;

    if (ctx->billing_prefix.len == 0) {
        ctx->billing_model.data = model;
        ctx->billing_model.len = len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, ctx->billing_prefix.len + len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->billing_model.data = p;
    ctx->billing_model.len = ctx->billing_prefix.len + len;

    p = ngx_cpymem(p, ctx->billing_prefix.data, ctx->billing_prefix.len);
    ngx_memcpy(p, model, len);

    return NGX_OK;
}


/*
 * ctx->billing_prefix from ctx->tier and ctx->latency: "priority:",
 * "optimized:", "priority:optimized:", or none for the default tier and
 * latency; 400 when the model's name ("len" bytes) with it would be too
 * long to count
 */

static ngx_int_t
ngx_http_aigw_billing_prefix(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    size_t len, const char **reason)
{
    u_char      *p;
    size_t       n;
    ngx_uint_t   tier, optimized;

    tier = (ctx->tier != 0 && ctx->tier != AIGW_TIER_DEFAULT);
    optimized = (ctx->latency == AIGW_LATENCY_OPTIMIZED);

    ngx_str_null(&ctx->billing_prefix);

    if (!tier && !optimized) {
        return NGX_OK;
    }

    n = tier ? ngx_strlen(aigw_service_tier_name(ctx->tier)) + 1 : 0;
    n += optimized ? sizeof("optimized:") - 1 : 0;

    if (n + len > AIGW_RECORD_MODEL_MAX) {
        /* the name it would count under is too long to count */
        *reason = "the model ID is too long for a service tier or latency "
                  "other than the default";
        return NGX_HTTP_BAD_REQUEST;
    }

    p = ngx_pnalloc(r->pool, n);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->billing_prefix.data = p;
    ctx->billing_prefix.len = n;

    if (tier) {
        p = ngx_sprintf(p, "%s:", aigw_service_tier_name(ctx->tier));
    }

    if (optimized) {
        ngx_memcpy(p, "optimized:", sizeof("optimized:") - 1);
    }

    return NGX_OK;
}


/*
 * A header that picks another resource: the tenant's "models" must allow
 * it as a resource of its own.  A SageMaker model, variant, container or
 * inference component of the endpoint: "REQUESTED/KIND/VALUE"
 * ("my-endpoint/variant/variant-a"), REQUESTED as the tenant asked for
 * the endpoint (its name, or an alias).  A Bedrock guardrail ("kind"
 * NULL): "guardrail/VALUE", its ID or ARN as sent.
 */

static ngx_int_t
ngx_http_aigw_authorize_target(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_table_elt_t *h, const char *kind,
    const char **reason)
{
    u_char     *p;
    size_t      len;
    ngx_str_t   target;

    if (kind) {
        len = ctx->requested.len + 1 + ngx_strlen(kind) + 1 + h->value.len;

    } else {
        len = sizeof("guardrail/") - 1 + h->value.len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    target.data = p;
    target.len = len;

    if (kind) {
        p = ngx_cpymem(p, ctx->requested.data, ctx->requested.len);
        p = ngx_sprintf(p, "/%s/", kind);

    } else {
        p = ngx_cpymem(p, "guardrail/", sizeof("guardrail/") - 1);
    }

    ngx_memcpy(p, h->value.data, h->value.len);

    if (aigw_tenant_model_allowed(ctx->tenant, (char *) target.data,
                                  target.len))
    {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "aigw: tenant \"%s\" may not use \"%V\" (%V)",
                  ctx->tenant->id.data, &target, &h->key);

    *reason = kind ? "this API key may not use this model, variant, "
                     "container or inference component of the endpoint"
                   : "this API key may not use this guardrail";
    return NGX_HTTP_FORBIDDEN;
}
