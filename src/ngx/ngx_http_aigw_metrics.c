
/*
 * ngx_http_aigw_module: "aigw_metrics", Prometheus text exposition 0.0.4.
 *
 * The metrics live in one shared memory zone, "aigw_metrics", so that the
 * worker answering a scrape sees what every worker counted, and a reload
 * keeps them (the zone is kept when its size, which max_series= fixes,
 * is).  A series is one label set: (tenant, model) for the counters,
 * with the requests by operation and status class in it, and (model,
 * operation) for the histograms; its counters are
 * atomics updated at the log phase without a lock.  Series are found
 * through an open-addressing index which only grows: a lookup takes no
 * lock, a new series takes the slab mutex once.  Past max_series, or when
 * the zone has no room for a series' labels, a request is counted in the
 * overflow series, whose labels are all "_other", and in
 * aigw_metrics_folded_total: memory stays bounded whatever the labels.
 */


#include "ngx_http_aigw_counter.h"
#include "aigw_limits.h"


#define NGX_HTTP_AIGW_METRICS_MAX_SERIES   1000
#define NGX_HTTP_AIGW_METRICS_LABELS_AVG   256

/* 14 bounds, as OpenTelemetry advises for GenAI metrics, then +Inf */
#define NGX_HTTP_AIGW_METRICS_BUCKETS      15

/* the kinds of series */
#define NGX_HTTP_AIGW_METRICS_TENANT       0
#define NGX_HTTP_AIGW_METRICS_MODEL        1
#define NGX_HTTP_AIGW_METRICS_LIMITS       2    /* a tenant's, no overflow */

/* the histograms of a model series */
#define NGX_HTTP_AIGW_H_UPSTREAM           0
#define NGX_HTTP_AIGW_H_TTFT               1
#define NGX_HTTP_AIGW_H_DURATION           2
#define NGX_HTTP_AIGW_H_INPUT              3
#define NGX_HTTP_AIGW_H_OUTPUT             4
#define NGX_HTTP_AIGW_HISTOGRAMS           5

/* the families: three counters, then one per histogram */
#define NGX_HTTP_AIGW_F_REQUESTS           0
#define NGX_HTTP_AIGW_F_TOKENS             1
#define NGX_HTTP_AIGW_F_COST               2
#define NGX_HTTP_AIGW_F_HISTOGRAMS         3
#define NGX_HTTP_AIGW_FAMILIES                                                \
    (NGX_HTTP_AIGW_F_HISTOGRAMS + NGX_HTTP_AIGW_HISTOGRAMS)

/* the most lines of a series in one family: its requests */
#define NGX_HTTP_AIGW_METRICS_LINES        (NGX_HTTP_AIGW_METRICS_OPS * 5)

#define NGX_HTTP_AIGW_METRICS_OPS          (AIGW_OP_SM_INVOKE_STREAM + 1)

/* a string literal, at "p" */
#define ngx_http_aigw_metrics_text(p, s)                                      \
    p = ngx_cpymem(p, s, sizeof(s) - 1)

#define NGX_HTTP_AIGW_METRICS_OTHER        "_other"
#define NGX_HTTP_AIGW_METRICS_NONE         "_none"


/*
 * ngx_atomic_t is as wide as a pointer: 64 bits where nginx is built for
 * 64-bit platforms; on a 32-bit one a counter wraps at 2^32 (the cost in
 * nano-USD at 4.29 USD)
 */

typedef struct {
    ngx_atomic_t                bucket[NGX_HTTP_AIGW_METRICS_BUCKETS];
    ngx_atomic_t                sum;        /* ms, or tokens */
} ngx_http_aigw_histogram_t;


typedef struct {
    ngx_uint_t                  kind;
    uint32_t                    hash;
    ngx_str_t                   tenant;     /* empty in a model series */
    ngx_str_t                   model;
    ngx_str_t                   operation;
    ngx_str_t                   system;     /* "aws.bedrock", ... */

    union {
        struct {
            /* by operation (0: none) and class: 1xx ... 5xx */
            ngx_atomic_t        requests[NGX_HTTP_AIGW_METRICS_OPS][5];
            ngx_atomic_t        tokens[4];
            ngx_atomic_t        cost;           /* nano-USD */
        } t;

        ngx_http_aigw_histogram_t  h[NGX_HTTP_AIGW_HISTOGRAMS];

        struct {
            ngx_atomic_t        limited[AIGW_LIM_N];
            ngx_atomic_t        remaining[2];   /* nano-USD + 1; 0: none */
        } l;
    } v;
} ngx_http_aigw_series_t;


typedef struct {
    ngx_uint_t                  max;        /* series, the overflow's too */
    ngx_atomic_t                used;
    ngx_atomic_t                folded;
    ngx_uint_t                  mask;       /* of the index */
    ngx_atomic_uint_t          *index;      /* series number + 1; 0: free */
    ngx_http_aigw_series_t     *series;
} ngx_http_aigw_metrics_shm_t;


/* the text being written: a chain of buffers */
typedef struct {
    ngx_http_request_t         *r;
    ngx_chain_t                *out;
    ngx_chain_t               **last;
    ngx_buf_t                  *b;
} ngx_http_aigw_metrics_out_t;


static ngx_int_t ngx_http_aigw_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_aigw_series_t *ngx_http_aigw_metrics_series(
    ngx_shm_zone_t *zone, ngx_uint_t kind, ngx_str_t *tenant,
    ngx_str_t *model, ngx_str_t *operation, ngx_str_t *system);
static ngx_http_aigw_series_t *ngx_http_aigw_metrics_find(
    ngx_http_aigw_metrics_shm_t *m, uint32_t hash, ngx_uint_t kind,
    ngx_str_t *tenant, ngx_str_t *model, ngx_str_t *operation);
static ngx_int_t ngx_http_aigw_metrics_insert(ngx_slab_pool_t *shpool,
    ngx_http_aigw_metrics_shm_t *m, uint32_t hash, ngx_uint_t kind,
    ngx_str_t *tenant, ngx_str_t *model, ngx_str_t *operation,
    ngx_str_t *system);
static uint32_t ngx_http_aigw_metrics_hash(ngx_uint_t kind,
    ngx_str_t *tenant, ngx_str_t *model, ngx_str_t *operation);
static ngx_int_t ngx_http_aigw_metrics_log_handler(ngx_http_request_t *r);
static void ngx_http_aigw_metrics_observe(ngx_http_aigw_histogram_t *h,
    ngx_uint_t which, uint64_t v);
static ngx_msec_t ngx_http_aigw_metrics_upstream_ms(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_metrics_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_metrics_write(ngx_http_aigw_metrics_out_t *o,
    ngx_http_aigw_main_conf_t *amcf);
static u_char *ngx_http_aigw_metrics_counters(u_char *p,
    ngx_http_aigw_series_t *s, ngx_uint_t family);
static ngx_http_aigw_series_t *ngx_http_aigw_metrics_tenant_limits(
    ngx_http_aigw_main_conf_t *amcf, const char *tenant, size_t len);
static u_char *ngx_http_aigw_metrics_limits(u_char *p,
    ngx_http_aigw_series_t *s, ngx_uint_t family);
static u_char *ngx_http_aigw_metrics_histogram(u_char *p,
    ngx_http_aigw_series_t *s, ngx_uint_t which);
static u_char *ngx_http_aigw_metrics_labels(u_char *p,
    ngx_http_aigw_series_t *s, ngx_uint_t which);
static u_char *ngx_http_aigw_metrics_reserve(ngx_http_aigw_metrics_out_t *o,
    u_char *p, size_t len);
static ngx_uint_t ngx_http_aigw_metrics_used(ngx_http_aigw_series_t *s);
static size_t ngx_http_aigw_metrics_room(ngx_http_aigw_series_t *s);
static u_char *ngx_http_aigw_metrics_label(u_char *p, const char *name,
    ngx_str_t *value);


/* the bounds, in ms for the durations and in tokens for the token usage */

static uint64_t  ngx_http_aigw_duration_bounds[] = {
    10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10240, 20480, 40960,
    81920
};

static uint64_t  ngx_http_aigw_token_bounds[] = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304,
    16777216, 67108864
};

/* HELP and TYPE of each family, in NGX_HTTP_AIGW_F_* order */

static const char  *ngx_http_aigw_metrics_heads[] = {
    "# HELP aigw_requests_total Requests of known tenants, by the HTTP "
    "status class of the response.\n"
    "# TYPE aigw_requests_total counter\n",

    "# HELP aigw_tokens_total Tokens AWS reported, by type.\n"
    "# TYPE aigw_tokens_total counter\n",

    "# HELP aigw_cost_usd_total Cost in USD, as aigw_pricing prices the "
    "usage.\n"
    "# TYPE aigw_cost_usd_total counter\n",

    "# HELP aigw_upstream_duration_seconds Time AWS took to answer "
    "whole.\n"
    "# TYPE aigw_upstream_duration_seconds histogram\n",

    "# HELP aigw_time_to_first_token_seconds Time to the first streamed "
    "event.\n"
    "# TYPE aigw_time_to_first_token_seconds histogram\n",

    "# HELP gen_ai_client_operation_duration_seconds GenAI operation "
    "duration.\n"
    "# TYPE gen_ai_client_operation_duration_seconds histogram\n",

    "# HELP gen_ai_client_token_usage Number of input and output tokens "
    "used.\n"
    "# TYPE gen_ai_client_token_usage histogram\n",

    ""      /* the output tokens: the same family */
};

static const char  *ngx_http_aigw_metrics_limit_heads[] = {
    "# HELP aigw_limited_total Requests refused by a tenant's limit (or "
    "one of its keys').\n"
    "# TYPE aigw_limited_total counter\n",

    "# HELP aigw_budget_remaining_usd What is left of a tenant's budget in "
    "the current period, as Redis last told this gateway.\n"
    "# TYPE aigw_budget_remaining_usd gauge\n"
};

static const char  *ngx_http_aigw_token_types[] = {
    "input", "output", "cache_read", "cache_write"
};


/* "aigw_metrics [max_series=N]" */

char *
ngx_http_aigw_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    size_t                     size;
    ngx_int_t                  n;
    ngx_str_t                 *value, name;
    ngx_http_core_loc_conf_t  *clcf;

    value = cf->args->elts;
    n = NGX_HTTP_AIGW_METRICS_MAX_SERIES;

    if (cf->args->nelts == 2) {
        if (ngx_strncmp(value[1].data, "max_series=", 11) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        n = ngx_atoi(value[1].data + 11, value[1].len - 11);

        if (n < 1 || n > 1000000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid max_series \"%V\": from 1 to "
                               "1000000", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_aigw_metrics_handler;

    if (amcf->metrics) {
        if ((ngx_uint_t) n != amcf->metrics_max) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "aigw_metrics: max_series differs from "
                               "that of another location (one zone "
                               "holds them all)");
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    amcf->metrics_max = n;

    /* the series, the overflow's two, the index, their labels */

    size = (n + 2) * (sizeof(ngx_http_aigw_series_t)
                      + 4 * sizeof(ngx_atomic_uint_t)
                      + NGX_HTTP_AIGW_METRICS_LABELS_AVG)
           + 64 * ngx_pagesize;

    ngx_str_set(&name, "aigw_metrics");

    amcf->metrics = ngx_shared_memory_add(cf, &name, size,
                                          &ngx_http_aigw_module);
    if (amcf->metrics == NULL) {
        return NGX_CONF_ERROR;
    }

    if (amcf->metrics->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"aigw_metrics\" is used "
                           "twice");
        return NGX_CONF_ERROR;
    }

    amcf->metrics->init = ngx_http_aigw_metrics_init_zone;
    amcf->metrics->data = amcf;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_aigw_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_aigw_main_conf_t *amcf = shm_zone->data;

    ngx_str_t                     other, none;
    ngx_uint_t                    slots;
    ngx_slab_pool_t              *shpool;
    ngx_http_aigw_metrics_shm_t  *m;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        /* a reload: the series go on (the size, so max_series, is kept) */
        return NGX_OK;
    }

    m = ngx_slab_calloc(shpool, sizeof(ngx_http_aigw_metrics_shm_t));
    if (m == NULL) {
        return NGX_ERROR;
    }

    m->max = amcf->metrics_max + 2;

    for (slots = 2; slots < 2 * m->max; slots *= 2) { /* void */ }

    m->mask = slots - 1;

    m->index = ngx_slab_calloc(shpool, slots * sizeof(ngx_atomic_uint_t));
    m->series = ngx_slab_calloc(shpool,
                                m->max * sizeof(ngx_http_aigw_series_t));

    if (m->index == NULL || m->series == NULL) {
        return NGX_ERROR;
    }

    shpool->data = m;

    shpool->log_ctx = ngx_slab_alloc(shpool,
                                     sizeof(" in aigw metrics zone") - 1 + 1);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in aigw metrics zone%Z");

    /*
     * a full zone is no error: the series folds into "_other", which
     * aigw_metrics_folded_total counts, without a log line per request
     */
    shpool->log_nomem = 0;

    /* the overflow series, first, so that there is always room for them */

    /*
     * series[NGX_HTTP_AIGW_METRICS_TENANT] and [..._MODEL]; the tenant
     * series of a real tenant and model "_other" is this one too: the
     * counters have no operation label
     */

    ngx_str_set(&other, NGX_HTTP_AIGW_METRICS_OTHER);
    ngx_str_set(&none, NGX_HTTP_AIGW_METRICS_NONE);

    if (ngx_http_aigw_metrics_insert(shpool, m,
            ngx_http_aigw_metrics_hash(NGX_HTTP_AIGW_METRICS_TENANT, &other,
                                       &other, &none),
            NGX_HTTP_AIGW_METRICS_TENANT, &other, &other, &none, &other)
        != NGX_OK
        || ngx_http_aigw_metrics_insert(shpool, m,
            ngx_http_aigw_metrics_hash(NGX_HTTP_AIGW_METRICS_MODEL, &other,
                                       &other, &other),
            NGX_HTTP_AIGW_METRICS_MODEL, &other, &other, &other, &other)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_aigw_metrics_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_aigw_metrics_log_handler;

    return NGX_OK;
}


/*
 * The series of a label set; the overflow series when there is no room
 * for a new one.  The index only grows, and a slot is published after its
 * series is written, so a lookup needs no lock.
 */

static ngx_http_aigw_series_t *
ngx_http_aigw_metrics_series(ngx_shm_zone_t *zone, ngx_uint_t kind,
    ngx_str_t *tenant, ngx_str_t *model, ngx_str_t *operation,
    ngx_str_t *system)
{
    uint32_t                      hash;
    ngx_int_t                     rc;
    ngx_slab_pool_t              *shpool;
    ngx_http_aigw_series_t       *s;
    ngx_http_aigw_metrics_shm_t  *m;

    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    m = shpool->data;

    hash = ngx_http_aigw_metrics_hash(kind, tenant, model, operation);

    s = ngx_http_aigw_metrics_find(m, hash, kind, tenant, model, operation);
    if (s) {
        return s;
    }

    ngx_shmtx_lock(&shpool->mutex);

    s = ngx_http_aigw_metrics_find(m, hash, kind, tenant, model, operation);

    if (s == NULL) {
        rc = ngx_http_aigw_metrics_insert(shpool, m, hash, kind, tenant,
                                          model, operation, system);
        if (rc == NGX_OK) {
            s = ngx_http_aigw_metrics_find(m, hash, kind, tenant, model,
                                           operation);
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (s) {
        return s;
    }

    (void) ngx_atomic_fetch_add(&m->folded, 1);

    /* the overflow series, the first two; the limits' have none */

    return (kind == NGX_HTTP_AIGW_METRICS_LIMITS) ? NULL : &m->series[kind];
}


static ngx_http_aigw_series_t *
ngx_http_aigw_metrics_find(ngx_http_aigw_metrics_shm_t *m, uint32_t hash,
    ngx_uint_t kind, ngx_str_t *tenant, ngx_str_t *model,
    ngx_str_t *operation)
{
    ngx_uint_t               i, n;
    ngx_http_aigw_series_t  *s;

    for (i = hash & m->mask; /* void */ ; i = (i + 1) & m->mask) {
        n = m->index[i];

        if (n == 0) {
            return NULL;
        }

        ngx_memory_barrier();

        s = &m->series[n - 1];

        if (s->hash == hash && s->kind == kind
            && s->tenant.len == tenant->len
            && s->model.len == model->len
            && s->operation.len == operation->len
            && ngx_memcmp(s->tenant.data, tenant->data, tenant->len) == 0
            && ngx_memcmp(s->model.data, model->data, model->len) == 0
            && ngx_memcmp(s->operation.data, operation->data,
                          operation->len) == 0)
        {
            return s;
        }
    }
}


/* under the slab mutex: NGX_DECLINED when there is no room */

static ngx_int_t
ngx_http_aigw_metrics_insert(ngx_slab_pool_t *shpool,
    ngx_http_aigw_metrics_shm_t *m, uint32_t hash, ngx_uint_t kind,
    ngx_str_t *tenant, ngx_str_t *model, ngx_str_t *operation,
    ngx_str_t *system)
{
    u_char                  *p;
    ngx_uint_t               i;
    ngx_http_aigw_series_t  *s;

    if (m->used >= m->max) {
        return NGX_DECLINED;
    }

    p = ngx_slab_alloc_locked(shpool, tenant->len + model->len
                                      + operation->len + system->len + 1);
    if (p == NULL) {
        return NGX_DECLINED;
    }

    s = &m->series[m->used];

    s->kind = kind;
    s->hash = hash;

    s->tenant.data = p;
    s->tenant.len = tenant->len;
    p = ngx_cpymem(p, tenant->data, tenant->len);

    s->model.data = p;
    s->model.len = model->len;
    p = ngx_cpymem(p, model->data, model->len);

    s->operation.data = p;
    s->operation.len = operation->len;
    p = ngx_cpymem(p, operation->data, operation->len);

    s->system.data = p;
    s->system.len = system->len;
    (void) ngx_cpymem(p, system->data, system->len);

    for (i = hash & m->mask; m->index[i]; i = (i + 1) & m->mask) {
        /* void */
    }

    /* the series is whole before a lookup can find it */

    ngx_memory_barrier();

    m->used++;
    m->index[i] = m->used;

    return NGX_OK;
}


static uint32_t
ngx_http_aigw_metrics_hash(ngx_uint_t kind, ngx_str_t *tenant,
    ngx_str_t *model, ngx_str_t *operation)
{
    u_char    k;
    uint32_t  crc;

    k = (u_char) kind;

    ngx_crc32_init(crc);
    ngx_crc32_update(&crc, &k, 1);
    ngx_crc32_update(&crc, tenant->data, tenant->len);
    ngx_crc32_update(&crc, (u_char *) "\n", 1);
    ngx_crc32_update(&crc, model->data, model->len);
    ngx_crc32_update(&crc, (u_char *) "\n", 1);
    ngx_crc32_update(&crc, operation->data, operation->len);
    ngx_crc32_final(crc);

    return crc;
}


/* a request with a known tenant, counted from what the counter records */

static ngx_int_t
ngx_http_aigw_metrics_log_handler(ngx_http_request_t *r)
{
    uint64_t                    cost;
    ngx_str_t                   tenant, model, operation, system, none;
    ngx_uint_t                  status, op;
    aigw_usage_t               *u;
    ngx_http_aigw_ctx_t        *ctx;
    ngx_http_aigw_series_t     *s;
    ngx_http_aigw_histogram_t  *h;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    if (amcf->metrics == NULL || r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL || ctx->tenant == NULL || ctx->metered) {
        return NGX_OK;
    }

    ctx->metered = 1;

    u = ngx_http_aigw_usage_result(r, ctx);

    ngx_str_set(&none, NGX_HTTP_AIGW_METRICS_NONE);

    tenant.data = (u_char *) ctx->tenant->id.data;
    tenant.len = ctx->tenant->id.len;

    ngx_http_aigw_counter_model(ctx, u, &model);

    if (model.len == 0) {
        model = none;
    }

    if (ctx->op) {
        operation.data = (u_char *) ctx->op->suffix;
        operation.len = ngx_strlen(ctx->op->suffix);

        system.data = (u_char *) (ctx->op->service == AIGW_SERVICE_SAGEMAKER
                                  ? "aws.sagemaker" : "aws.bedrock");
        system.len = ngx_strlen(system.data);

    } else {
        operation = none;
        system = none;
    }

    op = ctx->op ? ctx->op->id : AIGW_OP_NONE;

    s = ngx_http_aigw_metrics_series(amcf->metrics,
                                     NGX_HTTP_AIGW_METRICS_TENANT, &tenant,
                                     &model, &none, &none);

    status = r->headers_out.status / 100;
    status = ngx_max(status, 1);
    status = ngx_min(status, 5);

    (void) ngx_atomic_fetch_add(&s->v.t.requests[op][status - 1], 1);

    if (u) {
        (void) ngx_atomic_fetch_add(&s->v.t.tokens[0], u->input_tokens);
        (void) ngx_atomic_fetch_add(&s->v.t.tokens[1], u->output_tokens);
        (void) ngx_atomic_fetch_add(&s->v.t.tokens[2],
                                    u->cache_read_input_tokens);
        (void) ngx_atomic_fetch_add(&s->v.t.tokens[3],
                                    u->cache_write_input_tokens);
    }

    if (ngx_http_aigw_cost(r, ctx, &cost) == NGX_OK) {
        (void) ngx_atomic_fetch_add(&s->v.t.cost, cost);
    }

    if (!ctx->metering) {
        /* the gateway answered: no upstream to time */
        return NGX_OK;
    }

    tenant.len = 0;

    s = ngx_http_aigw_metrics_series(amcf->metrics,
                                     NGX_HTTP_AIGW_METRICS_MODEL, &tenant,
                                     &model, &operation, &system);
    h = s->v.h;

    ngx_http_aigw_metrics_observe(h, NGX_HTTP_AIGW_H_UPSTREAM,
                                  ngx_http_aigw_metrics_upstream_ms(r));
    ngx_http_aigw_metrics_observe(h, NGX_HTTP_AIGW_H_DURATION,
                                  ngx_http_aigw_elapsed_ms(r));

    if (ctx->ttft_ms) {
        ngx_http_aigw_metrics_observe(h, NGX_HTTP_AIGW_H_TTFT,
                                      ctx->ttft_ms - 1);
    }

    if (u) {
        ngx_http_aigw_metrics_observe(h, NGX_HTTP_AIGW_H_INPUT,
                                      u->input_tokens);
        ngx_http_aigw_metrics_observe(h, NGX_HTTP_AIGW_H_OUTPUT,
                                      u->output_tokens);
    }

    return NGX_OK;
}


static void
ngx_http_aigw_metrics_observe(ngx_http_aigw_histogram_t *h, ngx_uint_t which,
    uint64_t v)
{
    uint64_t    *bounds;
    ngx_uint_t   i;

    bounds = (which >= NGX_HTTP_AIGW_H_INPUT) ? ngx_http_aigw_token_bounds
                                              : ngx_http_aigw_duration_bounds;

    for (i = 0; i < NGX_HTTP_AIGW_METRICS_BUCKETS - 1; i++) {
        if (v <= bounds[i]) {
            break;
        }
    }

    h += which;

    (void) ngx_atomic_fetch_add(&h->bucket[i], 1);
    (void) ngx_atomic_fetch_add(&h->sum, v);
}


/* the time AWS took, over every upstream tried, as $upstream_response_time */

static ngx_msec_t
ngx_http_aigw_metrics_upstream_ms(ngx_http_request_t *r)
{
    ngx_msec_t                  ms;
    ngx_uint_t                  i;
    ngx_http_upstream_state_t  *state;

    ms = 0;

    if (r->upstream_states == NULL) {
        return 0;
    }

    state = r->upstream_states->elts;

    for (i = 0; i < r->upstream_states->nelts; i++) {
        if (state[i].status && state[i].response_time != (ngx_msec_t) -1) {
            ms += state[i].response_time;
        }
    }

    return ms;
}


static ngx_int_t
ngx_http_aigw_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_aigw_main_conf_t    *amcf;
    ngx_http_aigw_metrics_out_t   o;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    ngx_memzero(&o, sizeof(ngx_http_aigw_metrics_out_t));
    o.r = r;
    o.last = &o.out;

    if (ngx_http_aigw_metrics_write(&o, amcf) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    o.b->last_buf = (r == r->main) ? 1 : 0;
    o.b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = 0;

    for (o.last = &o.out; *o.last; o.last = &(*o.last)->next) {
        r->headers_out.content_length_n += (*o.last)->buf->last
                                           - (*o.last)->buf->pos;
    }

    ngx_str_set(&r->headers_out.content_type,
                "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, o.out);
}


static ngx_int_t
ngx_http_aigw_metrics_write(ngx_http_aigw_metrics_out_t *o,
    ngx_http_aigw_main_conf_t *amcf)
{
    u_char                       *p;
    int64_t                       journal;
    uint64_t                      queued;
    ngx_uint_t                    i, j, n;
    ngx_slab_pool_t              *shpool;
    ngx_http_aigw_series_t       *s;
    ngx_http_aigw_metrics_shm_t  *m;

    shpool = (ngx_slab_pool_t *) amcf->metrics->shm.addr;
    m = shpool->data;
    n = m->used;

    ngx_memory_barrier();

    p = ngx_http_aigw_metrics_reserve(o, NULL, 0);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /*
     * one pass per family, over every series of its kind; the two
     * histograms of token usage make one family
     */

    for (j = 0; j < NGX_HTTP_AIGW_FAMILIES; j++) {

        p = ngx_http_aigw_metrics_reserve(o, p, 256);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(p, ngx_http_aigw_metrics_heads[j],
                       ngx_strlen(ngx_http_aigw_metrics_heads[j]));

        for (i = 0; i < n; i++) {
            s = &m->series[i];

            if (j < NGX_HTTP_AIGW_F_HISTOGRAMS
                ? !ngx_http_aigw_metrics_used(s)
                : s->kind != NGX_HTTP_AIGW_METRICS_MODEL)
            {
                continue;
            }

            p = ngx_http_aigw_metrics_reserve(o, p,
                                  NGX_HTTP_AIGW_METRICS_LINES
                                  * ngx_http_aigw_metrics_room(s));
            if (p == NULL) {
                return NGX_ERROR;
            }

            p = (j < NGX_HTTP_AIGW_F_HISTOGRAMS)
                ? ngx_http_aigw_metrics_counters(p, s, j)
                : ngx_http_aigw_metrics_histogram(p, s,
                                          j - NGX_HTTP_AIGW_F_HISTOGRAMS);
        }
    }

    /* the limits, per tenant */

    for (j = 0; j < 2; j++) {
        p = ngx_http_aigw_metrics_reserve(o, p, 256);
        if (p == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(p, ngx_http_aigw_metrics_limit_heads[j],
                       ngx_strlen(ngx_http_aigw_metrics_limit_heads[j]));

        for (i = 0; i < n; i++) {
            s = &m->series[i];

            if (s->kind != NGX_HTTP_AIGW_METRICS_LIMITS) {
                continue;
            }

            p = ngx_http_aigw_metrics_reserve(o, p,
                                   AIGW_LIM_N * ngx_http_aigw_metrics_room(s));
            if (p == NULL) {
                return NGX_ERROR;
            }

            p = ngx_http_aigw_metrics_limits(p, s, j);
        }
    }

    /* the gauges, in one piece */

    p = ngx_http_aigw_metrics_reserve(o, p, 2048);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (amcf->redis) {
        ngx_http_aigw_queue_stats(amcf->redis, &queued, &journal);

        p = ngx_sprintf(p,
                "# HELP aigw_redis_up 1 when the answering worker's "
                "connection to Redis is ready.\n"
                "# TYPE aigw_redis_up gauge\n"
                "aigw_redis_up %ui\n"
                "# HELP aigw_queue_records Usage records in the shared "
                "memory queue, not yet in Redis.\n"
                "# TYPE aigw_queue_records gauge\n"
                "aigw_queue_records %uL\n"
                "# HELP aigw_journal_records Usage records this queue "
                "wrote to journal files, not yet replayed into Redis.\n"
                "# TYPE aigw_journal_records gauge\n"
                "aigw_journal_records %L\n",
                ngx_http_aigw_redis_up(NGX_HTTP_AIGW_REDIS_COUNTER), queued,
                journal);
    }

    p = ngx_sprintf(p,
            "# HELP aigw_metrics_series Series in use, the overflow "
            "series included.\n"
            "# TYPE aigw_metrics_series gauge\n"
            "aigw_metrics_series %ui\n"
            "# HELP aigw_metrics_series_max Series the zone holds "
            "(max_series, and the two overflow series).\n"
            "# TYPE aigw_metrics_series_max gauge\n"
            "aigw_metrics_series_max %ui\n"
            "# HELP aigw_metrics_folded_total Updates of a new series "
            "folded into the overflow series (_other).\n"
            "# TYPE aigw_metrics_folded_total counter\n"
            "aigw_metrics_folded_total %uA\n",
            n, m->max, m->folded);

    o->b->last = p;

    return NGX_OK;
}


/* the lines of a tenant series in one of the counter families */

static u_char *
ngx_http_aigw_metrics_counters(u_char *p, ngx_http_aigw_series_t *s,
    ngx_uint_t family)
{
    uint64_t            cost;
    ngx_uint_t          i;
    ngx_atomic_uint_t   count;
    const aigw_op_t    *op;

    static const char  *names[] = {
        "aigw_requests_total{", "aigw_tokens_total{", "aigw_cost_usd_total{"
    };

    count = 0;

    for (i = 0; i < NGX_HTTP_AIGW_METRICS_LINES; i++) {

        if (family == NGX_HTTP_AIGW_F_REQUESTS) {
            count = s->v.t.requests[i / 5][i % 5];

            if (count == 0) {
                continue;
            }

        } else if (family == NGX_HTTP_AIGW_F_TOKENS ? i >= 4 : i >= 1) {
            break;
        }

        p = ngx_cpymem(p, names[family], ngx_strlen(names[family]));
        p = ngx_http_aigw_metrics_label(p, "tenant", &s->tenant);
        p = ngx_http_aigw_metrics_label(p, ",model", &s->model);

        if (family == NGX_HTTP_AIGW_F_REQUESTS) {
            op = aigw_op_get(i / 5);
            p = ngx_sprintf(p, ",operation=\"%s\",status=\"%uixx\"} %uA\n",
                            op ? op->suffix : NGX_HTTP_AIGW_METRICS_NONE,
                            i % 5 + 1, count);

        } else if (family == NGX_HTTP_AIGW_F_TOKENS) {
            p = ngx_sprintf(p, ",type=\"%s\"} %uA\n",
                            ngx_http_aigw_token_types[i], s->v.t.tokens[i]);

        } else {
            cost = s->v.t.cost;
            p = ngx_sprintf(p, "} %uL.%09uL\n",
                            cost / 1000000000, cost % 1000000000);
        }
    }

    return p;
}


/* the lines of a tenant's limits series: refusals, or what is left */

static u_char *
ngx_http_aigw_metrics_limits(u_char *p, ngx_http_aigw_series_t *s,
    ngx_uint_t family)
{
    uint64_t    v;
    ngx_uint_t  i;

    static const char  *periods[] = { "daily", "monthly" };

    for (i = 0; i < (family == 0 ? AIGW_LIM_N : 2); i++) {

        if (family == 0) {
            v = s->v.l.limited[i];

            if (v == 0) {
                continue;
            }

            p = ngx_http_aigw_metrics_label(p, "aigw_limited_total{tenant",
                                            &s->tenant);
            p = ngx_sprintf(p, ",limit=\"%s\"} %uL\n", aigw_lim_name(i), v);
            continue;
        }

        v = s->v.l.remaining[i];

        if (v == 0) {
            continue;
        }

        v--;

        p = ngx_http_aigw_metrics_label(p, "aigw_budget_remaining_usd{tenant",
                                        &s->tenant);
        p = ngx_sprintf(p, ",period=\"%s\"} %uL.%09uL\n", periods[i],
                        v / 1000000000, v % 1000000000);
    }

    return p;
}


/* the limits series of a tenant; NULL without aigw_metrics, or room */

static ngx_http_aigw_series_t *
ngx_http_aigw_metrics_tenant_limits(ngx_http_aigw_main_conf_t *amcf,
    const char *tenant, size_t len)
{
    ngx_str_t  t, none;

    if (amcf->metrics == NULL) {
        return NULL;
    }

    t.data = (u_char *) tenant;
    t.len = len;

    /* empty labels, with data: copied by ngx_cpymem(), which memcpy()s */
    ngx_str_set(&none, "");

    return ngx_http_aigw_metrics_series(amcf->metrics,
                                        NGX_HTTP_AIGW_METRICS_LIMITS, &t,
                                        &none, &none, &none);
}


/* a request refused by limit "limit" (AIGW_LIM_*) */

void
ngx_http_aigw_metrics_limited(ngx_http_request_t *r, const char *tenant,
    size_t len, ngx_uint_t limit)
{
    ngx_http_aigw_series_t     *s;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    if (limit >= AIGW_LIM_N) {
        return;
    }

    s = ngx_http_aigw_metrics_tenant_limits(amcf, tenant, len);

    if (s) {
        (void) ngx_atomic_fetch_add(&s->v.l.limited[limit], 1);
    }
}


/* what is left of a tenant's budget, "period" 0 daily, 1 monthly */

void
ngx_http_aigw_metrics_budget(ngx_cycle_t *cycle, const char *tenant,
    size_t len, ngx_uint_t period, int64_t remaining)
{
    ngx_http_aigw_series_t     *s;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_aigw_module);

    if (amcf == NULL || period > 1 || remaining < 0) {
        return;
    }

    s = ngx_http_aigw_metrics_tenant_limits(amcf, tenant, len);

    if (s) {
        s->v.l.remaining[period] = (ngx_atomic_uint_t) remaining + 1;
    }
}


/*
 * One histogram of a model series, if it has observations: buckets are
 * kept apart and added up here, so that they rise and +Inf is the count
 * whatever updates run meanwhile
 */

static u_char *
ngx_http_aigw_metrics_histogram(u_char *p, ngx_http_aigw_series_t *s,
    ngx_uint_t which)
{
    uint64_t                   *bounds, count, sum;
    ngx_uint_t                  i;
    const char                 *name;
    ngx_http_aigw_histogram_t  *h;

    static const char  *names[] = {
        "aigw_upstream_duration_seconds",
        "aigw_time_to_first_token_seconds",
        "gen_ai_client_operation_duration_seconds",
        "gen_ai_client_token_usage",
        "gen_ai_client_token_usage"
    };

    h = &s->v.h[which];
    name = names[which];
    sum = h->sum;
    count = 0;

    for (i = 0; i < NGX_HTTP_AIGW_METRICS_BUCKETS; i++) {
        count += h->bucket[i];
    }

    if (count == 0) {
        return p;
    }

    bounds = (which >= NGX_HTTP_AIGW_H_INPUT) ? ngx_http_aigw_token_bounds
                                              : ngx_http_aigw_duration_bounds;
    count = 0;

    for (i = 0; i < NGX_HTTP_AIGW_METRICS_BUCKETS; i++) {
        count += h->bucket[i];

        p = ngx_sprintf(p, "%s_bucket{", name);
        p = ngx_http_aigw_metrics_labels(p, s, which);

        if (i == NGX_HTTP_AIGW_METRICS_BUCKETS - 1) {
            ngx_http_aigw_metrics_text(p, ",le=\"+Inf\"}");

        } else if (which >= NGX_HTTP_AIGW_H_INPUT) {
            p = ngx_sprintf(p, ",le=\"%uL\"}", bounds[i]);

        } else {
            p = ngx_sprintf(p, ",le=\"%uL.%02uL\"}",
                            bounds[i] / 1000, bounds[i] % 1000 / 10);
        }

        p = ngx_sprintf(p, " %uL\n", count);
    }

    p = ngx_sprintf(p, "%s_sum{", name);
    p = ngx_http_aigw_metrics_labels(p, s, which);

    if (which >= NGX_HTTP_AIGW_H_INPUT) {
        p = ngx_sprintf(p, "} %uL\n", sum);

    } else {
        p = ngx_sprintf(p, "} %uL.%03uL\n", sum / 1000, sum % 1000);
    }

    p = ngx_sprintf(p, "%s_count{", name);
    p = ngx_http_aigw_metrics_labels(p, s, which);

    return ngx_sprintf(p, "} %uL\n", count);
}


/* the labels of a model series: aigw's own, or OpenTelemetry's */

static u_char *
ngx_http_aigw_metrics_labels(u_char *p, ngx_http_aigw_series_t *s,
    ngx_uint_t which)
{
    if (which <= NGX_HTTP_AIGW_H_TTFT) {
        p = ngx_http_aigw_metrics_label(p, "model", &s->model);
        return ngx_http_aigw_metrics_label(p, ",operation", &s->operation);
    }

    p = ngx_http_aigw_metrics_label(p, "gen_ai_operation_name",
                                    &s->operation);
    p = ngx_http_aigw_metrics_label(p, ",gen_ai_system", &s->system);
    p = ngx_http_aigw_metrics_label(p, ",gen_ai_request_model", &s->model);

    if (which == NGX_HTTP_AIGW_H_INPUT) {
        ngx_http_aigw_metrics_text(p, ",gen_ai_token_type=\"input\"");

    } else if (which == NGX_HTTP_AIGW_H_OUTPUT) {
        ngx_http_aigw_metrics_text(p, ",gen_ai_token_type=\"output\"");
    }

    return p;
}


/*
 * Room for "len" more bytes at "p" in the current buffer, or a new buffer
 * (p NULL: the first); the returned pointer is where to write
 */

static u_char *
ngx_http_aigw_metrics_reserve(ngx_http_aigw_metrics_out_t *o, u_char *p,
    size_t len)
{
    size_t        size;
    ngx_chain_t  *cl;

    if (o->b) {
        o->b->last = p;

        if ((size_t) (o->b->end - p) >= len) {
            return p;
        }
    }

    size = ngx_max(len, 64 * 1024);

    o->b = ngx_create_temp_buf(o->r->pool, size);
    if (o->b == NULL) {
        return NULL;
    }

    cl = ngx_alloc_chain_link(o->r->pool);
    if (cl == NULL) {
        return NULL;
    }

    cl->buf = o->b;
    cl->next = NULL;

    *o->last = cl;
    o->last = &cl->next;

    return o->b->last;
}


/* a tenant series which counted requests (the overflow's may not have) */

static ngx_uint_t
ngx_http_aigw_metrics_used(ngx_http_aigw_series_t *s)
{
    ngx_uint_t  i;

    if (s->kind != NGX_HTTP_AIGW_METRICS_TENANT) {
        return 0;
    }

    for (i = 0; i < NGX_HTTP_AIGW_METRICS_OPS * 5; i++) {
        if (s->v.t.requests[i / 5][i % 5]) {
            return 1;
        }
    }

    return 0;
}


/* the most one line of a series takes, its labels escaped */

static size_t
ngx_http_aigw_metrics_room(ngx_http_aigw_series_t *s)
{
    return 256 + 2 * (s->tenant.len + s->model.len + s->operation.len
                      + s->system.len);
}


/* name="value", the value escaped */

static u_char *
ngx_http_aigw_metrics_label(u_char *p, const char *name, ngx_str_t *value)
{
    p = ngx_cpymem(p, name, ngx_strlen(name));
    *p++ = '=';
    *p++ = '"';

    p += aigw_label_escape((char *) p, (char *) value->data, value->len);

    *p++ = '"';

    return p;
}
