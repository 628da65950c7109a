
/*
 * ngx_http_aigw_module: the model catalog of "aigw_model".
 *
 *     aigw_model ALIAS bedrock|sagemaker TARGET [region=R]
 *                [usage=auto|openai|tgi|none];
 *
 * An alias names a Bedrock model (ID, inference profile or ARN) or a
 * SageMaker endpoint; a SageMaker endpoint listed here is also reachable
 * by its own name from the seed-style route.  The catalog is small (an
 * operator's list): it is searched linearly.
 */


#include "ngx_http_aigw_module.h"


static ngx_str_t  ngx_http_aigw_usage_formats[] = {
    ngx_string("auto"),
    ngx_string("openai"),
    ngx_string("tgi"),
    ngx_string("none"),
    ngx_null_string
};


char *
ngx_http_aigw_model(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    size_t                  len;
    u_char                  host[256];
    ngx_str_t              *value, s;
    ngx_uint_t              i, j;
    const char             *reason;
    ngx_http_aigw_model_t  *m, *models;

    value = cf->args->elts;

    if (amcf->models.elts == NULL
        && ngx_array_init(&amcf->models, cf->pool, 8,
                          sizeof(ngx_http_aigw_model_t))
           != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    reason = aigw_target_check_id(AIGW_SERVICE_BEDROCK, (char *) value[1].data,
                                  value[1].len);
    if (reason || ngx_strlchr(value[1].data, value[1].data + value[1].len,
                              '/'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid alias \"%V\" in \"aigw_model\": aliases "
                           "are made of letters, digits and \"._:-\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    models = amcf->models.elts;

    for (i = 0; i < amcf->models.nelts; i++) {
        if (models[i].alias.len == value[1].len
            && ngx_strncmp(models[i].alias.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate alias \"%V\" in \"aigw_model\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    m = ngx_array_push(&amcf->models);
    if (m == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(m, sizeof(ngx_http_aigw_model_t));

    m->alias = value[1];
    m->usage = NGX_HTTP_AIGW_USAGE_AUTO;

    if (value[2].len == 7 && ngx_strncmp(value[2].data, "bedrock", 7) == 0) {
        m->service = AIGW_SERVICE_BEDROCK;

    } else if (value[2].len == 9
               && ngx_strncmp(value[2].data, "sagemaker", 9) == 0)
    {
        m->service = AIGW_SERVICE_SAGEMAKER;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid service \"%V\" in \"aigw_model\", it "
                           "must be \"bedrock\" or \"sagemaker\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    reason = aigw_target_check_id(m->service, (char *) value[3].data,
                                  value[3].len);
    if (reason) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid target \"%V\" of \"aigw_model %V\": %s",
                           &value[3], &value[1], reason);
        return NGX_CONF_ERROR;
    }

    m->target = value[3];

    for (i = 4; i < cf->args->nelts; i++) {

        if (value[i].len > 7
            && ngx_strncmp(value[i].data, "region=", 7) == 0)
        {
            m->region.data = value[i].data + 7;
            m->region.len = value[i].len - 7;

            len = aigw_target_default_host((char *) host, sizeof(host),
                                           m->service,
                                           (char *) m->region.data,
                                           m->region.len);
            if (len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid region \"%V\" in \"aigw_model\"",
                                   &m->region);
                return NGX_CONF_ERROR;
            }

            m->endpoint.url.len = sizeof("https://") - 1 + len;
            m->endpoint.url.data = ngx_pnalloc(cf->pool, m->endpoint.url.len);
            if (m->endpoint.url.data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_sprintf(m->endpoint.url.data, "https://%*s", len, host);

            m->endpoint.host.data = m->endpoint.url.data
                                    + sizeof("https://") - 1;
            m->endpoint.host.len = len;

            continue;
        }

        if (value[i].len > 6 && ngx_strncmp(value[i].data, "usage=", 6) == 0)
        {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            for (j = 0; ngx_http_aigw_usage_formats[j].len; j++) {
                if (ngx_http_aigw_usage_formats[j].len == s.len
                    && ngx_strncmp(ngx_http_aigw_usage_formats[j].data,
                                   s.data, s.len)
                       == 0)
                {
                    break;
                }
            }

            if (ngx_http_aigw_usage_formats[j].len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\" in \"aigw_model\", it "
                                   "must be \"usage=auto\", \"usage=openai\", "
                                   "\"usage=tgi\" or \"usage=none\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            if (m->service != AIGW_SERVICE_SAGEMAKER) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"%V\" in \"aigw_model\" is for SageMaker "
                                   "endpoints: Bedrock reports its own usage",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            m->usage = j;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\" in \"aigw_model\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The catalog entry of a name a tenant asks for: an alias, else a
 * SageMaker endpoint listed as a target; NULL if none
 */

ngx_http_aigw_model_t *
ngx_http_aigw_catalog_find(ngx_http_aigw_main_conf_t *amcf, ngx_str_t *name)
{
    ngx_uint_t              i;
    ngx_http_aigw_model_t  *m;

    m = amcf->models.elts;

    for (i = 0; i < amcf->models.nelts; i++) {
        if (m[i].alias.len == name->len
            && ngx_strncmp(m[i].alias.data, name->data, name->len) == 0)
        {
            return &m[i];
        }
    }

    for (i = 0; i < amcf->models.nelts; i++) {
        if (m[i].service == AIGW_SERVICE_SAGEMAKER
            && m[i].target.len == name->len
            && ngx_strncmp(m[i].target.data, name->data, name->len) == 0)
        {
            return &m[i];
        }
    }

    return NULL;
}
