
/*
 * ngx_http_aigw_module: the access phase.
 *
 * It finds the tenant by its key (which drops the client's own
 * credentials), resolves what the request targets (operation, model ID or
 * endpoint name, upstream URL), reads the body without blocking while the
 * request body filter hashes it, then signs the upstream request and lets
 * the phases go on to proxy_pass.  An error ends the request with its
 * status, which the error filter renders (ngx_http_aigw_error.c).
 */


#include "ngx_http_aigw_module.h"


static ngx_int_t ngx_http_aigw_access_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_access_error(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_int_t status, const char *reason);
static void ngx_http_aigw_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_resolve(ngx_http_request_t *r,
    ngx_http_aigw_loc_conf_t *alcf, ngx_http_aigw_ctx_t *ctx,
    const char **reason);
static ngx_int_t ngx_http_aigw_upstream(ngx_http_request_t *r,
    ngx_http_aigw_loc_conf_t *alcf, ngx_http_aigw_ctx_t *ctx);
static const aigw_op_t *ngx_http_aigw_op_for_service(const aigw_op_t *op,
    aigw_service_e service);
static ngx_int_t ngx_http_aigw_raw_path(ngx_http_request_t *r,
    ngx_str_t *path);
static const aigw_op_t *ngx_http_aigw_op_from_path(ngx_http_request_t *r,
    ngx_str_t *path);
static ngx_int_t ngx_http_aigw_sign(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);


ngx_int_t
ngx_http_aigw_access_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_aigw_access_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_access_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    const char                *reason;
    ngx_http_aigw_ctx_t       *ctx;
    ngx_http_aigw_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_aigw_module);

    if (!alcf->enable) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx) {
        if (ctx->status == NGX_DONE) {
            /* still reading the body */
            return NGX_AGAIN;
        }

        if (ctx->status == NGX_OK) {
            return NGX_OK;
        }

        return ngx_http_aigw_access_error(r, ctx, ctx->status, ctx->reason);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "aigw access handler");

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_aigw_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    /* not signed until the body is read */
    ctx->status = NGX_DONE;

    ngx_http_set_ctx(r, ctx, ngx_http_aigw_module);

    reason = NULL;

    /*
     * the key first (which drops the client's credentials), then the
     * target is resolved and the tenant's access to it checked
     */

    rc = ngx_http_aigw_authenticate(r, ctx, &reason);

    if (rc == NGX_OK) {
        rc = ngx_http_aigw_resolve(r, alcf, ctx, &reason);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_aigw_authorize(r, ctx, &reason);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_aigw_upstream(r, alcf, ctx);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_aigw_usage_start(r, ctx);
    }

    if (rc == NGX_OK) {
        rc = ngx_http_aigw_limits_start(r, ctx);
    }

    if (rc != NGX_OK) {
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_aigw_access_error(r, ctx, rc, reason);
    }

    rc = ngx_http_aigw_request_body_start(r, ctx);

    if (rc != NGX_OK) {
        return ngx_http_aigw_access_error(r, ctx, rc, NULL);
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_aigw_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* the rest of a body nginx stopped reading must not be parsed */
        r->keepalive = 0;
        return ngx_http_aigw_access_error(r, ctx, rc, NULL);
    }

    ngx_http_finalize_request(r, NGX_DONE);
    return NGX_DONE;
}


/*
 * The request ends with the gateway's error: its status and reason are
 * kept in the context, and nginx's error response, which the error
 * filter renders in Bedrock's shape, is sent.  The request is finalized
 * here rather than the status returned to the access phase: there
 * "satisfy any" would let another module's access grant pass over a 401
 * or 403, and a 401 would wait "auth_delay".
 *
 * What nginx's error response does besides is undone for these errors:
 * the request was well-formed HTTP, so a 400 or 500 keeps the connection
 * (the filter restores r->keepalive and r->lingering_close as they are
 * here), and the location's error_page does not replace the answer.
 */

static ngx_int_t
ngx_http_aigw_access_error(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    ngx_int_t status, const char *reason)
{
    ctx->status = status;
    ctx->reason = reason;

    if (r->connection->error) {
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return NGX_DONE;
    }

    r->expect_tested = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        r->keepalive = 0;
    }

    ctx->error_keepalive = r->keepalive;
    ctx->error_lingering_close = r->lingering_close;
    r->error_page = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "aigw error %i \"%s\"", status,
                   reason ? reason : "");

    ngx_http_finalize_request(r, status);
    return NGX_DONE;
}


/*
 * The body is read: the model's access (from the body), the limits (which
 * may ask Redis: the request waits), then signing
 */

static void
ngx_http_aigw_body_handler(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    rc = ngx_http_aigw_authorize_body(r, ctx, &ctx->reason);

    if (rc == NGX_OK) {
        rc = ngx_http_aigw_limits_admit(r, ctx);

        if (rc == NGX_AGAIN) {
            r->write_event_handler = ngx_http_request_empty_handler;
            return;
        }
    }

    ngx_http_aigw_access_resume(r, rc);
}


/* "rc": NGX_OK to sign and go on, NGX_ERROR, or an error status */

void
ngx_http_aigw_access_resume(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_aigw_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (rc == NGX_OK) {
        rc = ngx_http_aigw_sign(r, ctx);

    } else if (rc == NGX_ERROR) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->status = rc;

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);
}


/*
 * What the request targets: the operation, the model (or SageMaker
 * endpoint) the tenant asked for and what it resolves to through the
 * catalog.  NGX_OK, NGX_ERROR, or the HTTP status of a bad target with
 * "*reason" set to a message for the client.
 */

static ngx_int_t
ngx_http_aigw_resolve(ngx_http_request_t *r, ngx_http_aigw_loc_conf_t *alcf,
    ngx_http_aigw_ctx_t *ctx, const char **reason)
{
    u_char                     *p;
    size_t                      len;
    ngx_str_t                   path, id;
    ngx_uint_t                  named;
    aigw_str_t                  raw;
    aigw_service_e              service;
    const aigw_op_t            *op;
    aigw_target_rc_e            trc;
    ngx_http_aigw_model_t      *m;
    ngx_http_aigw_main_conf_t  *amcf;

    if (ngx_http_aigw_raw_path(r, &path) != NGX_OK) {
        return NGX_ERROR;
    }

    /* "named": the model is a name only, the path does not say a service */

    named = 1;

    if (alcf->model_id) {

        /* the model from a complex value, the operation from the path */

        if (ngx_http_complex_value(r, alcf->model_id, &id) != NGX_OK) {
            return NGX_ERROR;
        }

        op = ngx_http_aigw_op_from_path(r, &path);

    } else {
        trc = aigw_target_parse_path((char *) path.data, path.len, &op, &raw,
                                     reason);

        switch (trc) {

        case AIGW_TARGET_OK:
            id.data = (u_char *) raw.data;
            id.len = raw.len;
            named = 0;
            break;

        case AIGW_TARGET_NOT_FOUND:

            /* the seed-style route: POST /invoke?model_id=X[&stream=true] */

            if (path.len == sizeof("/invoke") - 1
                && ngx_strncmp(path.data, "/invoke", path.len) == 0)
            {
                if (ngx_http_arg(r, (u_char *) "model_id", 8, &id) != NGX_OK)
                {
                    ngx_str_null(&id);
                }

                op = ngx_http_aigw_op_from_path(r, &path);
                break;
            }

            *reason = "unknown path: the gateway serves "
                      "/model/{modelId}/{operation}, "
                      "/endpoints/{name}/{operation} and "
                      "/invoke?model_id={modelId}";
            return NGX_HTTP_NOT_FOUND;

        default:
            return NGX_HTTP_BAD_REQUEST;
        }
    }

    if (op == NULL) {
        *reason = "unknown operation";
        return NGX_HTTP_BAD_REQUEST;
    }

    if (r->method != NGX_HTTP_POST) {
        *reason = "the operations of the gateway take POST";
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (id.len == 0) {
        *reason = "no model ID";
        return NGX_HTTP_BAD_REQUEST;
    }

    p = ngx_pnalloc(r->pool, id.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    len = aigw_uri_decode((char *) p, (char *) id.data, id.len);
    if (len == (size_t) -1 || len == 0) {
        *reason = "malformed percent-encoding in the model ID";
        return NGX_HTTP_BAD_REQUEST;
    }

    ctx->requested.data = p;
    ctx->requested.len = len;

    ctx->model = ctx->requested;
    ctx->region = alcf->region;
    service = op->service;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    m = ngx_http_aigw_catalog_find(amcf, &ctx->requested);

    if (m) {
        ctx->catalog = m;
        ctx->model = m->target;
        service = m->service;

        if (m->region.len) {
            ctx->region = m->region;
        }

    } else if (named) {

        /*
         * not in the catalog: a Bedrock model, inference profile or ARN;
         * Bedrock's own IDs all have a "." ("anthropic.claude-...")
         */

        if (ngx_strlchr(p, p + len, '.') == NULL
            && !(len > 4 && ngx_strncmp(p, "arn:", 4) == 0))
        {
            *reason = "unknown model or alias";
            return NGX_HTTP_NOT_FOUND;
        }

        service = AIGW_SERVICE_BEDROCK;
    }

    op = ngx_http_aigw_op_for_service(op, service);

    if (op == NULL) {
        *reason = (service == AIGW_SERVICE_SAGEMAKER)
                  ? "this operation is not available for a SageMaker endpoint"
                  : "this operation is not available for a Bedrock model";
        return NGX_HTTP_BAD_REQUEST;
    }

    ctx->op = op;

    *reason = aigw_target_check_id(service, (char *) ctx->model.data,
                                   ctx->model.len);
    if (*reason) {
        return NGX_HTTP_BAD_REQUEST;
    }

    return NGX_OK;
}


/*
 * The tenant's inference profile, if it maps the model to one, then the
 * upstream URL and the path to sign
 */

static ngx_int_t
ngx_http_aigw_upstream(ngx_http_request_t *r, ngx_http_aigw_loc_conf_t *alcf,
    ngx_http_aigw_ctx_t *ctx)
{
    u_char                    *p;
    size_t                     len;
    const aigw_str_t          *arn;
    ngx_http_aigw_endpoint_t  *ep;

    /*
     * usage counts under the model, not the tenant's profile ARN, with the
     * prefix of a differently priced service tier or latency
     */

    if (ngx_http_aigw_billing_model(r, ctx, ctx->model.data, ctx->model.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->op->service == AIGW_SERVICE_BEDROCK) {
        arn = aigw_tenant_inference_profile(ctx->tenant,
                                            (char *) ctx->requested.data,
                                            ctx->requested.len);
        if (arn == NULL && ctx->catalog) {
            arn = aigw_tenant_inference_profile(ctx->tenant,
                                                (char *) ctx->model.data,
                                                ctx->model.len);
        }

        if (arn) {
            ctx->model.data = (u_char *) arn->data;
            ctx->model.len = arn->len;
        }
    }

    ep = &alcf->endpoints[ctx->op->service];

    if (ep->url.len == 0) {
        ep = (ctx->catalog && ctx->catalog->region.len)
             ? &ctx->catalog->endpoint
             : &alcf->resolved[ctx->op->service];
    }

    if (ep->url.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "aigw: no endpoint for %s",
                      aigw_service_names[ctx->op->service]);
        return NGX_ERROR;
    }

    ctx->upstream = ep->host;

    len = aigw_target_upstream_path(NULL, ctx->op, (char *) ctx->model.data,
                                    ctx->model.len);

    ctx->upstream_url.len = ep->url.len + len;
    ctx->upstream_url.data = ngx_pnalloc(r->pool, ctx->upstream_url.len);
    if (ctx->upstream_url.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(ctx->upstream_url.data, ep->url.data, ep->url.len);

    ctx->upstream_path.data = p;
    ctx->upstream_path.len = aigw_target_upstream_path((char *) p, ctx->op,
                                                       (char *) ctx->model.data,
                                                       ctx->model.len);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "aigw %s \"%V\" -> \"%V\"", ctx->op->name, &ctx->model,
                   &ctx->upstream_url);

    return NGX_OK;
}


/*
 * A Bedrock operation on a SageMaker endpoint and the other way round:
 * InvokeModel and InvokeEndpoint stand for each other, with or without
 * a response stream; the Converse API exists on Bedrock only
 */

static const aigw_op_t *
ngx_http_aigw_op_for_service(const aigw_op_t *op, aigw_service_e service)
{
    if (op->service == service) {
        return op;
    }

    switch (op->id) {

    case AIGW_OP_INVOKE:
        return aigw_op_get(AIGW_OP_SM_INVOKE);

    case AIGW_OP_INVOKE_STREAM:
        return aigw_op_get(AIGW_OP_SM_INVOKE_STREAM);

    case AIGW_OP_SM_INVOKE:
        return aigw_op_get(AIGW_OP_INVOKE);

    case AIGW_OP_SM_INVOKE_STREAM:
        return aigw_op_get(AIGW_OP_INVOKE_STREAM);

    default:
        return NULL;
    }
}


/*
 * The path as the client encoded it, so that an ARN's "%2F" stays apart
 * from the path's own "/".  After a rewrite or an internal redirect only
 * the decoded URI is left: it is encoded again, and an ARN in it then
 * shows as an extra "/" (use aigw_model_id there).
 */

static ngx_int_t
ngx_http_aigw_raw_path(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char  *p;
    size_t   len;

    if (r->valid_unparsed_uri) {
        path->data = r->unparsed_uri.data;
        path->len = r->unparsed_uri.len;

        p = ngx_strlchr(path->data, path->data + path->len, '?');
        if (p) {
            path->len = p - path->data;
        }

        return NGX_OK;
    }

    len = aigw_uri_encode(NULL, (char *) r->uri.data, r->uri.len, 1);

    path->data = ngx_pnalloc(r->pool, len);
    if (path->data == NULL) {
        return NGX_ERROR;
    }

    path->len = aigw_uri_encode((char *) path->data, (char *) r->uri.data,
                                r->uri.len, 1);

    return NGX_OK;
}


/*
 * With aigw_model_id: the last path segment names the operation
 * ("/anything/converse"), "/invoke" included; "stream=true" in the query
 * picks the streaming form of an operation that has one.
 */

static const aigw_op_t *
ngx_http_aigw_op_from_path(ngx_http_request_t *r, ngx_str_t *path)
{
    u_char           *p, *last;
    ngx_str_t         stream;
    const aigw_op_t  *op;

    last = path->data + path->len;

    for (p = last; p > path->data && p[-1] != '/'; p--) {
        /* void */
    }

    op = aigw_op_by_suffix(AIGW_SERVICE_BEDROCK, (char *) p, last - p);

    if (op == NULL) {
        op = aigw_op_by_suffix(AIGW_SERVICE_SAGEMAKER, (char *) p, last - p);
        if (op == NULL) {
            return NULL;
        }
    }

    if (op->streaming
        || ngx_http_arg(r, (u_char *) "stream", 6, &stream) != NGX_OK
        || !((stream.len == 4 && ngx_strncmp(stream.data, "true", 4) == 0)
             || (stream.len == 1 && stream.data[0] == '1')))
    {
        return op;
    }

    switch (op->id) {

    case AIGW_OP_INVOKE:
        return aigw_op_get(AIGW_OP_INVOKE_STREAM);

    case AIGW_OP_CONVERSE:
        return aigw_op_get(AIGW_OP_CONVERSE_STREAM);

    case AIGW_OP_SM_INVOKE:
        return aigw_op_get(AIGW_OP_SM_INVOKE_STREAM);

    default:
        return op;
    }
}


/* NGX_OK or the HTTP status to answer with */

static ngx_int_t
ngx_http_aigw_sign(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx)
{
    u_char                     *p;
    size_t                      size;
    aigw_header_t               host;
    const aigw_creds_t         *creds;
    aigw_sigv4_input_t          in;
    aigw_sigv4_output_t         out;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    p = ngx_pnalloc(r->pool, AIGW_SHA256_HEX_LEN);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (aigw_sha256_final_hex(ctx->body_hash, (char *) p) != 0) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->content_sha256.data = p;
    ctx->content_sha256.len = AIGW_SHA256_HEX_LEN;

    creds = ngx_http_aigw_creds_get(amcf->creds, r->connection->log,
                                    &ctx->reason);
    if (creds == NULL) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    host.name.data = "host";
    host.name.len = 4;
    host.value.data = (char *) ctx->upstream.data;
    host.value.len = ctx->upstream.len;

    ngx_memzero(&in, sizeof(aigw_sigv4_input_t));

    in.method.data = "POST";
    in.method.len = 4;
    in.path.data = (char *) ctx->upstream_path.data;
    in.path.len = ctx->upstream_path.len;
    in.headers = &host;
    in.nheaders = 1;
    in.payload_hash.data = (char *) ctx->content_sha256.data;
    in.payload_hash.len = ctx->content_sha256.len;
    in.region.data = (char *) ctx->region.data;
    in.region.len = ctx->region.len;
    in.service.data = aigw_service_signing_names[ctx->op->service];
    in.service.len = ngx_strlen(in.service.data);
    in.now = ngx_time();
    in.creds = creds;
    in.flags = AIGW_SIGV4_NORMALIZE_PATH | AIGW_SIGV4_SIGN_CONTENT_SHA;
    in.cache = &amcf->sign_cache;

    size = aigw_sigv4_auth_size(&in);

    p = ngx_pnalloc(r->pool, size + AIGW_AMZ_DATE_LEN
                             + creds->session_token.len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (aigw_sigv4_sign(&in, &out, (char *) p, size) != 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "aigw: could not sign the request to \"%V\"",
                      &ctx->upstream);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->authorization.data = p;
    ctx->authorization.len = out.authorization_len;
    p += size;

    ctx->amz_date.data = p;
    ctx->amz_date.len = AIGW_AMZ_DATE_LEN;
    p = ngx_cpymem(p, out.amz_date, AIGW_AMZ_DATE_LEN);

    /* the token may be refreshed before proxy_pass reads it: a copy */

    ctx->security_token.data = p;
    ctx->security_token.len = creds->session_token.len;
    ngx_memcpy(p, creds->session_token.data, creds->session_token.len);

    return NGX_OK;
}
