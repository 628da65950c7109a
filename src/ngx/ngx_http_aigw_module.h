
/*
 * ngx_http_aigw_module: the types its glue files share.
 */

#ifndef _NGX_HTTP_AIGW_MODULE_H_INCLUDED_
#define _NGX_HTTP_AIGW_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "aigw_converse_opts.h"
#include "aigw_pricing.h"
#include "aigw_sigv4.h"
#include "aigw_target.h"
#include "aigw_tenants.h"
#include "aigw_usage.h"
#include "aigw_util.h"


/* aigw_endpoint takes these besides the two runtimes */
#define NGX_HTTP_AIGW_ENDPOINT_STS     3
#define NGX_HTTP_AIGW_ENDPOINTS        4

/* usage= of aigw_model: how a SageMaker endpoint reports tokens */
#define NGX_HTTP_AIGW_USAGE_AUTO       0
#define NGX_HTTP_AIGW_USAGE_OPENAI     1
#define NGX_HTTP_AIGW_USAGE_TGI        2
#define NGX_HTTP_AIGW_USAGE_NONE       3


typedef struct ngx_http_aigw_creds_s  ngx_http_aigw_creds_t;
typedef struct ngx_http_aigw_lim_req_s  ngx_http_aigw_lim_req_t;


typedef struct {
    ngx_str_t                   url;        /* "https://host[:port]" */
    ngx_str_t                   host;       /* "host[:port]", as signed */
} ngx_http_aigw_endpoint_t;


/* an entry of the "aigw_model" catalog */
typedef struct {
    ngx_str_t                   alias;
    aigw_service_e              service;
    ngx_str_t                   target;     /* model ID, ARN or endpoint */
    ngx_str_t                   region;     /* len 0: the location's */
    ngx_http_aigw_endpoint_t    endpoint;   /* the region's default */
    ngx_uint_t                  usage;      /* NGX_HTTP_AIGW_USAGE_* */
} ngx_http_aigw_model_t;


/* "aigw_redis": where and how usage is counted */
typedef struct {
    ngx_str_t                   address;     /* as configured */
    ngx_str_t                   host;        /* a name or an IP, NUL-t. */
    ngx_int_t                   port;
    ngx_addr_t                 *unix_addr;   /* unix:PATH */
    ngx_str_t                   username;    /* ACL user */
    ngx_str_t                   password;
    ngx_str_t                   tls_ca;      /* empty: the system's store */
    ngx_flag_t                  tls;
    ngx_flag_t                  tls_verify;
    ngx_ssl_t                  *ssl;         /* with tls=on */
    ngx_resolver_t             *resolver;    /* http{}'s */
    ngx_msec_t                  resolver_timeout;
    ngx_int_t                   db;
    ngx_str_t                   prefix;
    size_t                      queue_size;
    ngx_msec_t                  timeout;
    time_t                      seq_ttl;
    ngx_uint_t                  max_models;  /* per tenant and day */
    ngx_uint_t                  replicas;    /* WAIT for them, 0: none */
    ngx_path_t                 *journal;
    ngx_flag_t                  journal_set; /* journal= given */
    /* the Redis target (address, db, prefix) journal files belong to */
    u_char                      journal_tag[16];
    ngx_shm_zone_t             *zone;
} ngx_http_aigw_redis_conf_t;


typedef struct {
    ngx_http_aigw_creds_t      *creds;
    aigw_sigv4_cache_t          sign_cache;  /* per worker (after fork) */
    ngx_flag_t                  used;        /* "aigw on" somewhere */

    ngx_http_aigw_redis_conf_t *redis;

    aigw_tenants_t             *tenants;
    ngx_str_t                   tenants_file;
    struct aigw_pricing_s      *pricing;
    ngx_array_t                 models;      /* ngx_http_aigw_model_t */

    /* "aigw_limits" */
    ngx_shm_zone_t             *limits;      /* NULL: no tenant has any */
    size_t                      limits_size;
    ngx_flag_t                  limits_closed;   /* on_redis_down=closed */
    uint64_t                    default_max_tokens;

    ngx_shm_zone_t             *metrics;     /* "aigw_metrics" */
    ngx_uint_t                  metrics_max; /* its max_series */

    /* the error logs of gateway locations and their servers */
    ngx_array_t                 gateway_logs;   /* ngx_log_t * */
} ngx_http_aigw_main_conf_t;


typedef struct {
    /* a location of the server has "aigw on" */
    ngx_flag_t                  gateway;
} ngx_http_aigw_srv_conf_t;


typedef struct {
    ngx_flag_t                  enable;
    ngx_str_t                   region;
    ngx_http_aigw_endpoint_t    endpoints[NGX_HTTP_AIGW_ENDPOINTS];

    /* the endpoints of the runtimes: explicit, or this region's default */
    ngx_http_aigw_endpoint_t    resolved[AIGW_SERVICE_SAGEMAKER + 1];
    ngx_http_complex_value_t   *model_id;
} ngx_http_aigw_loc_conf_t;


typedef struct {
    const aigw_tenant_t        *tenant;
    const aigw_key_t           *key;

    ngx_str_t                   requested;      /* as the tenant asked */
    ngx_http_aigw_model_t      *catalog;        /* its catalog entry */
    ngx_str_t                   billing_model;  /* before any profile */
    ngx_str_t                   billing_prefix; /* "priority:", ... */
    unsigned                    tier;           /* AIGW_TIER_*, 0: none */
    unsigned                    latency;        /* AIGW_LATENCY_* */
    aigw_converse_opts_t       *converse_opts;  /* Converse's body */

    const aigw_op_t            *op;
    ngx_str_t                   model;          /* the target: ID, ARN */
    ngx_str_t                   region;
    ngx_str_t                   upstream;       /* host[:port] */
    ngx_str_t                   upstream_url;
    ngx_str_t                   upstream_path;  /* within upstream_url */

    ngx_str_t                   authorization;
    ngx_str_t                   amz_date;
    ngx_str_t                   security_token;
    ngx_str_t                   content_sha256;

    aigw_sha256_t              *body_hash;      /* while the body is read */

    aigw_usage_parser_t        *usage;
    ngx_str_t                   request_id;     /* x-amzn-RequestId */
    ngx_msec_t                  ttft_ms;        /* + 1; 0: no event yet */
    ngx_str_t                  *error_type;     /* of the gateway's error */

    /*
     * NGX_DONE while the body is read, then NGX_OK or the HTTP status of
     * the gateway's error, which the error filter renders
     */
    ngx_int_t                   status;
    const char                 *reason;         /* of an error status */
    time_t                      retry_after;    /* seconds, 0: none */

    ngx_http_aigw_lim_req_t    *limits;         /* the tenant has some */

    ngx_buf_t                  *error_body;     /* JSON for nginx's error */
    unsigned                    error_sent:1;
    /* the connection's state before the error response of "status" */
    unsigned                    error_keepalive:1;
    unsigned                    error_lingering_close:1;

    unsigned                    usage_request_body:1;
    unsigned                    metering:1;     /* the response is AWS's */
    unsigned                    usage_skip_body:1;
    unsigned                    usage_unread:1;
    unsigned                    usage_done:1;
    unsigned                    counted:1;
    unsigned                    metered:1;      /* in aigw_metrics */
    unsigned                    cost_done:1;
    unsigned                    cost_known:1;

    uint64_t                    cost_nanousd;
} ngx_http_aigw_ctx_t;


/*
 * the credentials to sign with now, valid until the next event-loop
 * turn; NULL and a reason when there are none
 */
const aigw_creds_t *ngx_http_aigw_creds_get(ngx_http_aigw_creds_t *creds,
    ngx_log_t *log, const char **reason);

char *ngx_http_aigw_credentials(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_aigw_creds_init_conf(ngx_conf_t *cf,
    ngx_http_aigw_main_conf_t *amcf);
ngx_int_t ngx_http_aigw_creds_init_module(ngx_cycle_t *cycle,
    ngx_http_aigw_creds_t *creds);
ngx_int_t ngx_http_aigw_creds_init_worker(ngx_cycle_t *cycle,
    ngx_http_aigw_creds_t *creds);
void ngx_http_aigw_creds_exit_worker(ngx_http_aigw_creds_t *creds);

char *ngx_http_aigw_tenants(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_aigw_authenticate(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, const char **reason);
ngx_int_t ngx_http_aigw_strip_credentials(ngx_http_request_t *r);
ngx_int_t ngx_http_aigw_authorize(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, const char **reason);
ngx_int_t ngx_http_aigw_billing_model(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, u_char *model, size_t len);
ngx_int_t ngx_http_aigw_authorize_body(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, const char **reason);

char *ngx_http_aigw_model(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_http_aigw_model_t *ngx_http_aigw_catalog_find(
    ngx_http_aigw_main_conf_t *amcf, ngx_str_t *name);

ngx_int_t ngx_http_aigw_access_init(ngx_conf_t *cf);
ngx_int_t ngx_http_aigw_request_body_init(ngx_conf_t *cf);
ngx_int_t ngx_http_aigw_request_body_start(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);
ngx_int_t ngx_http_aigw_add_variables(ngx_conf_t *cf);

ngx_int_t ngx_http_aigw_usage_init(ngx_conf_t *cf);
ngx_int_t ngx_http_aigw_usage_start(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);
aigw_usage_t *ngx_http_aigw_usage_result(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);
ngx_msec_t ngx_http_aigw_elapsed_ms(ngx_http_request_t *r);

char *ngx_http_aigw_pricing(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_aigw_cost(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    uint64_t *nanousd);
const aigw_price_t *ngx_http_aigw_price(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);

char *ngx_http_aigw_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_aigw_counter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_aigw_counter_init_worker(ngx_cycle_t *cycle,
    ngx_http_aigw_redis_conf_t *rc);
void ngx_http_aigw_counter_exit_worker(ngx_cycle_t *cycle);
ngx_int_t ngx_http_aigw_error_init(ngx_conf_t *cf);

char *ngx_http_aigw_limits(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_aigw_limits_init(ngx_conf_t *cf);
ngx_int_t ngx_http_aigw_limits_start(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);
void ngx_http_aigw_limits_feed(ngx_http_aigw_ctx_t *ctx, u_char *p,
    size_t len);
ngx_int_t ngx_http_aigw_limits_admit(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx);
ngx_int_t ngx_http_aigw_limits_init_worker(ngx_cycle_t *cycle);
void ngx_http_aigw_limits_exit_worker(ngx_cycle_t *cycle);
/* the access phase goes on once limits decided ("rc": NGX_OK, a status) */
void ngx_http_aigw_access_resume(ngx_http_request_t *r, ngx_int_t rc);
aigw_usage_format_e ngx_http_aigw_usage_format(ngx_http_aigw_ctx_t *ctx);

char *ngx_http_aigw_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
void ngx_http_aigw_metrics_limited(ngx_http_request_t *r, const char *tenant,
    size_t len, ngx_uint_t limit);
void ngx_http_aigw_metrics_budget(ngx_cycle_t *cycle, const char *tenant,
    size_t len, ngx_uint_t period, int64_t remaining);
ngx_int_t ngx_http_aigw_metrics_init(ngx_conf_t *cf);
/* the gateway's error type of a status ("ServiceUnavailableException") */
ngx_str_t *ngx_http_aigw_error_type(ngx_uint_t status);


extern ngx_module_t  ngx_http_aigw_module;


#endif /* _NGX_HTTP_AIGW_MODULE_H_INCLUDED_ */
