
/*
 * ngx_http_aigw_module: tenants and their API keys.
 *
 * The tenants file is read and validated when nginx reads its
 * configuration (a bad file fails "nginx -t" with its path and the
 * reason); "nginx -s reload" reads it again.  On the request path a key is
 * found by its public id in O(1) and its SHA-256 compared in constant
 * time.  No key, secret or hash ever reaches a log line.
 */


#include "ngx_http_aigw_module.h"


/* a tenants file larger than this is a mistake, not a configuration */
#define NGX_HTTP_AIGW_TENANTS_MAX  (256 * 1024 * 1024)


static void ngx_http_aigw_tenants_cleanup(void *data);
static ngx_int_t ngx_http_aigw_find_key(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_uint_t ngx_http_aigw_same_key(ngx_str_t *a, ngx_str_t *b);


char *
ngx_http_aigw_tenants(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    u_char              *text;
    char                 err[AIGW_TENANTS_ERR_LEN];
    ssize_t              n;
    ngx_fd_t             fd;
    ngx_str_t           *value;
    ngx_file_t           file;
    ngx_file_info_t      fi;
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

    fd = ngx_open_file(amcf->tenants_file.data, NGX_FILE_RDONLY,
                       NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "aigw_tenants: " ngx_open_file_n " \"%V\" failed",
                           &amcf->tenants_file);
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = amcf->tenants_file;
    file.log = cf->log;

    text = NULL;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "aigw_tenants: " ngx_fd_info_n " \"%V\" failed",
                           &amcf->tenants_file);
        goto failed;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_AIGW_TENANTS_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "aigw_tenants: \"%V\" is larger than 256 MB",
                           &amcf->tenants_file);
        goto failed;
    }

    file.info = fi;

    text = ngx_alloc((size_t) ngx_file_size(&fi) + 1, cf->log);
    if (text == NULL) {
        goto failed;
    }

    n = ngx_read_file(&file, text, (size_t) ngx_file_size(&fi), 0);

    if (n != (ssize_t) ngx_file_size(&fi)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "aigw_tenants: could not read \"%V\"",
                           &amcf->tenants_file);
        goto failed;
    }

    tenants = aigw_tenants_parse((char *) text, n, err, sizeof(err));

    if (tenants == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "aigw_tenants: \"%V\": %s",
                           &amcf->tenants_file, err);
        goto failed;
    }

    ngx_free(text);
    (void) ngx_close_file(fd);

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

failed:

    if (text) {
        ngx_free(text);
    }

    (void) ngx_close_file(fd);

    return NGX_CONF_ERROR;
}


static void
ngx_http_aigw_tenants_cleanup(void *data)
{
    aigw_tenants_free(data);
}


/*
 * Finds the request's tenant by its API key: NGX_OK, or 401 with
 * "*reason" set.  The key comes in "X-Api-Key", else in
 * "Authorization: Bearer" (what the AWS SDKs send with
 * AWS_BEARER_TOKEN_BEDROCK); a SigV4 Authorization is not a key.
 */

ngx_int_t
ngx_http_aigw_authenticate(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    const char **reason)
{
    ngx_str_t                   key;
    aigw_auth_rc_e              rc;
    const aigw_key_t           *found;
    const aigw_tenant_t        *tenant;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    switch (ngx_http_aigw_find_key(r, &key)) {

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

    rc = aigw_tenants_authenticate(amcf->tenants, (char *) key.data, key.len,
                                   &tenant, &found);

    switch (rc) {

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
                      (rc == AIGW_AUTH_UNKNOWN_KEY) ? "unknown" : "invalid");
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
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "aigw: tenant \"%s\" may not use \"%V\"",
                  ctx->tenant->id.data, &ctx->requested);

    *reason = "this API key may not use this model";
    return NGX_HTTP_FORBIDDEN;
}
