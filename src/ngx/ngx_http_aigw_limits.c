
/*
 * ngx_http_aigw_module: limits and budgets, "aigw_limits".
 *
 * A request of a tenant with limits (or of a key with its own) reserves,
 * once its body is read and before it is signed, the most it can cost:
 * one request, its tokens bound and that bound's price (aigw_reserve.h).
 * The log phase settles the reservation to the tokens and cost the bill
 * counts.
 *
 * Each subject (a tenant, a key) has a slot in the shared memory zone
 * "aigw_limits": this gateway's usage (aigw_limits.h) and the quotas
 * Redis granted it.  A request that fits its quotas while their lease
 * lasts is admitted with no round trip to Redis; one that does not sends
 * a claim (src/lua/aigw_limits.lua) on the worker's limits connection:
 * this gateway's usage, the request's need and a slice of slack; Redis
 * grants, or refuses with the limit and when to retry.  While a claim of
 * a subject is in flight its other requests wait (its quotas are being
 * replaced).  Every second a worker reports the subjects whose spend
 * moved, and gives back the slack of those whose lease ran out: budgets
 * and alerts see settled spend within about a second.
 *
 * With no Redis ("aigw_redis" absent), or Redis away and
 * on_redis_down=open, a gateway checks its own usage against the limits;
 * with on_redis_down=closed it refuses the requests of subjects with
 * limits (503) until Redis is back.
 */


#include <openssl/rand.h>

#include "ngx_http_aigw_counter.h"
#include "aigw_limits.h"
#include "aigw_reserve.h"


#define NGX_HTTP_AIGW_LIM_SIZE      (4 * 1024 * 1024)
#define NGX_HTTP_AIGW_LIM_NAME      (AIGW_TENANT_ID_MAX + 5 + AIGW_KEY_ID_MAX)

#define NGX_HTTP_AIGW_LIM_LEASE     5000    /* ms, as Redis keeps it */
#define NGX_HTTP_AIGW_LIM_MARGIN    500     /* ms less, as used here */
#define NGX_HTTP_AIGW_LIM_GRACE     60000   /* a silent gateway's quota */
#define NGX_HTTP_AIGW_LIM_WAIT      2       /* ms, for another's claim */
#define NGX_HTTP_AIGW_LIM_SYNC      1000
#define NGX_HTTP_AIGW_LIM_SLICE     16      /* slack: 1/16 of a limit */
#define NGX_HTTP_AIGW_LIM_IDLE      120000  /* a slot may be reused */
#define NGX_HTTP_AIGW_LIM_SYNC_MAX  8       /* subjects in one report */
#define NGX_HTTP_AIGW_LIM_TRIES     4

#define NGX_HTTP_AIGW_LIM_CODE_STALE  5


typedef struct {
    u_char                  name[NGX_HTTP_AIGW_LIM_NAME];
    size_t                  len;
    uint32_t                hash;
    ngx_uint_t              used;
    uint64_t                gen;            /* moves with its subject */
    uint64_t                claim_until;    /* ms: a claim in flight */
    uint64_t                last;           /* ms: last admission */
    ngx_uint_t              dirty;          /* spend not yet reported */
    int64_t                 remaining[2];   /* budgets, -1: unknown */
    aigw_lim_state_t        st;
} ngx_http_aigw_lim_slot_t;


typedef struct {
    u_char                  instance[17];
    uint64_t                version;
    uint64_t                gen;
    ngx_uint_t              away;           /* Redis away: said once */
    ngx_uint_t              full;           /* no slot free: said once */
    ngx_uint_t              nslots;
    ngx_http_aigw_lim_slot_t  slots[1];
} ngx_http_aigw_lim_shm_t;


typedef struct {
    ngx_uint_t              slot;
    uint64_t                gen;
    int64_t                 lim[AIGW_LIM_N];
    const aigw_limits_t    *limits;
    const aigw_tenant_t    *tenant;
    const aigw_key_t       *key;            /* a key's own limits */
    ngx_uint_t              report;         /* a sync: keep the lease */
} ngx_http_aigw_lim_sub_t;


/* a claim: a request's, or a worker's report */
typedef struct {
    ngx_http_aigw_lim_sub_t  sub[NGX_HTTP_AIGW_LIM_SYNC_MAX];
    ngx_uint_t              nsub;
    uint64_t                sent;           /* ms */
    ngx_pool_t             *pool;           /* its arguments, the worker's */
    int                     argc;
    const char            **argv;
    size_t                 *argvlen;
    ngx_uint_t              evalsha;
} ngx_http_aigw_lim_claim_t;


struct ngx_http_aigw_lim_req_s {
    ngx_http_request_t     *request;
    aigw_reserve_t          reserve;
    aigw_lim_need_t         need;
    ngx_http_aigw_lim_sub_t sub[2];         /* its tenant, its key */
    ngx_uint_t              nsub;
    uint64_t                admitted;       /* ms, 0: not admitted */
    ngx_queue_t             queue;
    ngx_event_t             wait;
    ngx_uint_t              tries;
    unsigned                prepared:1;
    unsigned                queued:1;
    unsigned                inflight:1;
    unsigned                settled:1;
};


typedef struct {
    ngx_http_aigw_main_conf_t  *amcf;
    ngx_log_t                  *log;
    ngx_queue_t                 waiting;
    ngx_uint_t                  busy;       /* a claim in flight */
    ngx_http_aigw_lim_req_t    *inflight;   /* NULL: a report, or gone */
    ngx_http_aigw_lim_claim_t   claim;      /* the one in flight */
    ngx_event_t                 sync;
    ngx_uint_t                  loaded;     /* Redis has the script */
    ngx_uint_t                  was_up;     /* connected once */
    ngx_uint_t                  sync_from;  /* the slot a report starts at */
    char                        sha1[41];
} ngx_http_aigw_lim_worker_t;


static ngx_int_t ngx_http_aigw_limits_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_aigw_limits_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_limits_prepare(ngx_http_request_t *r,
    ngx_http_aigw_lim_req_t *lr);
static ngx_int_t ngx_http_aigw_limits_try(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_http_aigw_lim_req_t *lr);
static ngx_int_t ngx_http_aigw_limits_refuse(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_http_aigw_lim_sub_t *s, int k,
    uint64_t retry);
static ngx_int_t ngx_http_aigw_limits_alone(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_http_aigw_lim_req_t *lr, uint64_t now);
static ngx_http_aigw_lim_slot_t *ngx_http_aigw_limits_slot(
    ngx_http_aigw_lim_shm_t *shm, ngx_http_aigw_lim_sub_t *s, uint64_t now);
static size_t ngx_http_aigw_limits_name(ngx_http_aigw_lim_sub_t *s,
    u_char *buf);
static ngx_int_t ngx_http_aigw_limits_argv(ngx_http_aigw_lim_claim_t *cl,
    ngx_http_aigw_lim_shm_t *shm, const aigw_lim_need_t *need,
    uint64_t now);
static ngx_int_t ngx_http_aigw_limits_send(ngx_http_aigw_lim_claim_t *cl,
    ngx_http_aigw_lim_req_t *lr);
static void ngx_http_aigw_limits_reply(redisReply *reply, void *data);
static ngx_int_t ngx_http_aigw_limits_apply(ngx_http_aigw_lim_claim_t *cl,
    redisReply *reply, ngx_http_aigw_lim_req_t *lr, ngx_log_t *log,
    int *code, ngx_uint_t *which, uint64_t *retry);
static void ngx_http_aigw_limits_release(ngx_http_aigw_lim_claim_t *cl);
static void ngx_http_aigw_limits_away(ngx_uint_t away, ngx_log_t *log);
static void ngx_http_aigw_limits_wait(ngx_http_aigw_lim_req_t *lr,
    ngx_msec_t ms);
static void ngx_http_aigw_limits_wake(ngx_event_t *ev);
static void ngx_http_aigw_limits_next(void);
static void ngx_http_aigw_limits_ready(ngx_event_t *ev);
static void ngx_http_aigw_limits_sync(ngx_event_t *ev);
static void ngx_http_aigw_limits_cleanup(void *data);
static uint64_t ngx_http_aigw_limits_now(void);


static ngx_http_aigw_lim_worker_t  ngx_http_aigw_lim_worker;


char *
ngx_http_aigw_limits(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    ssize_t     size;
    ngx_int_t   n;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    if (amcf->limits_size) {
        return "is duplicate";
    }

    amcf->limits_size = NGX_HTTP_AIGW_LIM_SIZE;

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "on_redis_down=open") == 0) {
            amcf->limits_closed = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "on_redis_down=closed") == 0) {
            amcf->limits_closed = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "default_max_tokens=", 19) == 0) {
            n = ngx_atoi(value[i].data + 19, value[i].len - 19);

            if (n <= 0 || (uint64_t) n > AIGW_RESERVE_TOKENS_MAX) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"aigw_limits\" default_max_tokens must "
                                   "be an integer from 1 to %uL",
                                   (uint64_t) AIGW_RESERVE_TOKENS_MAX);
                return NGX_CONF_ERROR;
            }

            amcf->default_max_tokens = (uint64_t) n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR
                || (size_t) size < sizeof(ngx_http_aigw_lim_shm_t)
                                   + 8 * ngx_pagesize)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"aigw_limits\" zone= must be a size of "
                                   "at least 64k");
                return NGX_CONF_ERROR;
            }

            amcf->limits_size = (size_t) size;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_limits\": unknown parameter \"%V\" "
                           "(on_redis_down=open|closed, "
                           "default_max_tokens=N, zone=SIZE)", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Once http{} is read: the zone, when any tenant or key has limits (a
 * reload that adds the first one creates it then)
 */

ngx_int_t
ngx_http_aigw_limits_init(ngx_conf_t *cf)
{
    size_t                      i, j;
    ngx_str_t                   name;
    ngx_uint_t                  any;
    ngx_http_handler_pt        *h;
    const aigw_tenant_t        *t;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_aigw_module);

    if (amcf->default_max_tokens == 0) {
        amcf->default_max_tokens = 4096;
    }

    any = 0;

    for (i = 0; amcf->tenants && i < aigw_tenants_count(amcf->tenants); i++) {
        t = aigw_tenants_get(amcf->tenants, i);

        if (aigw_lim_any(&t->limits)) {
            any = 1;
        }

        for (j = 0; j < t->nkeys; j++) {
            if (aigw_lim_any(&t->keys[j].limits)) {
                any = 1;
            }
        }
    }

    if (!any) {
        return NGX_OK;
    }

    ngx_str_set(&name, "aigw_limits");

    amcf->limits = ngx_shared_memory_add(cf, &name,
                                         amcf->limits_size
                                         ? amcf->limits_size
                                         : NGX_HTTP_AIGW_LIM_SIZE,
                                         &ngx_http_aigw_module);
    if (amcf->limits == NULL) {
        return NGX_ERROR;
    }

    amcf->limits->init = ngx_http_aigw_limits_init_zone;
    amcf->limits->data = amcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_aigw_limits_log_handler;

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_limits_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                    size;
    u_char                    rnd[8];
    ngx_slab_pool_t          *shpool;
    ngx_http_aigw_lim_shm_t  *shm;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data) {
        /* a reload: the same zone, this gateway's view and its identity */
        shm_zone->data = data;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    size = shm_zone->shm.size - 8 * ngx_pagesize;

    shm = ngx_slab_alloc(shpool, size);
    if (shm == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(shm, size);

    shm->nslots = (size - sizeof(ngx_http_aigw_lim_shm_t))
                  / sizeof(ngx_http_aigw_lim_slot_t) + 1;

    /* the gateway's identity in Redis: random, kept across reloads */

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        ngx_memcpy(rnd, &shm, ngx_min(sizeof(shm), sizeof(rnd)));
        rnd[0] ^= (u_char) ngx_pid;
        rnd[1] ^= (u_char) ngx_time();
    }

    (void) ngx_hex_dump(shm->instance, rnd, sizeof(rnd));

    shpool->data = shm;
    shm_zone->data = shm;

    return NGX_OK;
}


/* after "aigw_tenants" found the tenant and the model is resolved */

ngx_int_t
ngx_http_aigw_limits_start(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx)
{
    ngx_pool_cleanup_t         *cln;
    ngx_http_aigw_lim_req_t    *lr;
    ngx_http_aigw_lim_sub_t    *s;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    if (amcf->limits == NULL || ctx->tenant == NULL
        || (!aigw_lim_any(&ctx->tenant->limits)
            && (ctx->key == NULL || !aigw_lim_any(&ctx->key->limits))))
    {
        return NGX_OK;
    }

    lr = ngx_pcalloc(r->pool, sizeof(ngx_http_aigw_lim_req_t));
    if (lr == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_aigw_limits_cleanup;
    cln->data = lr;

    lr->request = r;

    lr->wait.handler = ngx_http_aigw_limits_wake;
    lr->wait.data = lr;
    lr->wait.log = r->connection->log;

    if (aigw_lim_any(&ctx->tenant->limits)) {
        s = &lr->sub[lr->nsub++];
        s->tenant = ctx->tenant;
        s->limits = &ctx->tenant->limits;
        aigw_lim_limits(s->limits, s->lim);
    }

    if (ctx->key && aigw_lim_any(&ctx->key->limits)) {
        s = &lr->sub[lr->nsub++];
        s->tenant = ctx->tenant;
        s->key = ctx->key;
        s->limits = &ctx->key->limits;
        aigw_lim_limits(s->limits, s->lim);
    }

    aigw_reserve_init(&lr->reserve, ctx->op->id, (char *) ctx->model.data,
                      ctx->model.len, ngx_http_aigw_usage_format(ctx),
                      amcf->default_max_tokens);

    ctx->limits = lr;

    return NGX_OK;
}


void
ngx_http_aigw_limits_feed(ngx_http_aigw_ctx_t *ctx, u_char *p, size_t len)
{
    aigw_reserve_feed(&ctx->limits->reserve, p, len);
}


/*
 * The body is read: NGX_OK (admitted), NGX_AGAIN (ngx_http_aigw_access_
 * resume() follows), NGX_ERROR, or the status of a refusal
 */

ngx_int_t
ngx_http_aigw_limits_admit(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx)
{
    ngx_http_aigw_lim_req_t  *lr;

    lr = ctx->limits;

    if (lr == NULL) {
        return NGX_OK;
    }

    if (!lr->prepared) {
        if (ngx_http_aigw_limits_prepare(r, lr) != NGX_OK) {
            return NGX_ERROR;
        }

        lr->prepared = 1;
    }

    return ngx_http_aigw_limits_try(r, ctx, lr);
}


/* the request's need: one request, its tokens bound, that bound's price */

static ngx_int_t
ngx_http_aigw_limits_prepare(ngx_http_request_t *r,
    ngx_http_aigw_lim_req_t *lr)
{
    aigw_cost_t                 cost;
    ngx_http_aigw_ctx_t        *ctx;
    const aigw_price_t         *price;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);
    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    aigw_reserve_finish(&lr->reserve);

    lr->need.requests = 1;
    lr->need.tokens = lr->reserve.input_tokens + lr->reserve.output_tokens;
    lr->need.nanousd = 0;

    price = NULL;

    if (amcf->pricing) {
        price = aigw_pricing_lookup(amcf->pricing, (char *) ctx->region.data,
                                    ctx->region.len,
                                    (char *) ctx->billing_model.data,
                                    ctx->billing_model.len);
    }

    if (price) {
        if (aigw_reserve_cost(&lr->reserve, price, &cost) != 0) {
            /* more than any budget can hold: refused as over it */
            lr->need.nanousd = (uint64_t) INT64_MAX;

        } else {
            lr->need.nanousd = cost.total;
        }
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "aigw limits: reserve %uL tokens, %uL nano-USD, priced %d",
                   lr->need.tokens, lr->need.nanousd, price != NULL);

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_limits_try(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    ngx_http_aigw_lim_req_t *lr)
{
    uint64_t                    now;
    ngx_uint_t                  i, claiming, fits;
    ngx_slab_pool_t            *shpool;
    ngx_http_aigw_lim_sub_t    *s;
    ngx_http_aigw_lim_shm_t    *shm;
    ngx_http_aigw_lim_slot_t   *slot;
    ngx_http_aigw_lim_claim_t  *cl;
    ngx_http_aigw_lim_worker_t *w;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);
    w = &ngx_http_aigw_lim_worker;
    cl = &w->claim;

    if (amcf->redis == NULL) {
        return ngx_http_aigw_limits_alone(r, ctx, lr,
                                          ngx_http_aigw_limits_now());
    }

    if (!ngx_http_aigw_redis_up(NGX_HTTP_AIGW_REDIS_LIMITS)) {

        if (!w->was_up
            && ngx_http_aigw_redis_connecting(NGX_HTTP_AIGW_REDIS_LIMITS))
        {
            /* a worker just started: its first connection is near */
            ngx_http_aigw_limits_wait(lr, NGX_HTTP_AIGW_LIM_WAIT);
            return NGX_AGAIN;
        }

        ngx_http_aigw_limits_away(1, r->connection->log);

        if (amcf->limits_closed) {
            ctx->reason = "the gateway cannot check the limits now "
                          "(Redis is away); try again later";
            ctx->retry_after = 1;
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        return ngx_http_aigw_limits_alone(r, ctx, lr,
                                          ngx_http_aigw_limits_now());
    }

    shpool = (ngx_slab_pool_t *) amcf->limits->shm.addr;
    shm = amcf->limits->data;

    now = ngx_http_aigw_limits_now();

    ngx_shmtx_lock(&shpool->mutex);

    claiming = 0;
    fits = 1;

    for (i = 0; i < lr->nsub; i++) {
        s = &lr->sub[i];

        slot = ngx_http_aigw_limits_slot(shm, s, now);
        if (slot == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            ctx->reason = "the gateway has no room for the limits of more "
                          "tenants (aigw_limits zone=)";
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        aigw_lim_roll(&slot->st, now);

        if (slot->claim_until > now) {
            claiming = 1;

        } else if (aigw_lim_fits(&slot->st, s->lim, &lr->need, now, 0) >= 0) {
            fits = 0;
        }
    }

    if (!claiming && fits) {

        /* within this gateway's quotas: no round trip */

        for (i = 0; i < lr->nsub; i++) {
            slot = &shm->slots[lr->sub[i].slot];
            aigw_lim_draw(&slot->st, &lr->need, now);
            slot->last = now;
        }

        ngx_shmtx_unlock(&shpool->mutex);

        lr->admitted = now;
        return NGX_OK;
    }

    if (claiming) {
        /* another worker's claim: its answer is near */
        ngx_shmtx_unlock(&shpool->mutex);
        ngx_http_aigw_limits_wait(lr, NGX_HTTP_AIGW_LIM_WAIT);
        return NGX_AGAIN;
    }

    if (w->busy) {
        /* this worker's connection has a claim in flight: after it */
        ngx_shmtx_unlock(&shpool->mutex);

        ngx_queue_insert_tail(&w->waiting, &lr->queue);
        lr->queued = 1;
        return NGX_AGAIN;
    }

    /* a claim, with this gateway's usage as it is now */

    ngx_reset_pool(cl->pool);

    cl->nsub = lr->nsub;

    for (i = 0; i < lr->nsub; i++) {
        cl->sub[i] = lr->sub[i];
        cl->sub[i].report = 0;

        slot = &shm->slots[lr->sub[i].slot];
        slot->claim_until = now + amcf->redis->timeout + 1000;
    }

    if (ngx_http_aigw_limits_argv(cl, shm, &lr->need, now) != NGX_OK) {
        ngx_http_aigw_limits_release(cl);
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_ERROR;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (ngx_http_aigw_limits_send(cl, lr) != NGX_OK) {
        ngx_shmtx_lock(&shpool->mutex);
        ngx_http_aigw_limits_release(cl);
        ngx_shmtx_unlock(&shpool->mutex);

        ngx_http_aigw_limits_away(1, r->connection->log);

        if (amcf->limits_closed) {
            ctx->reason = "the gateway cannot check the limits now "
                          "(Redis is away); try again later";
            ctx->retry_after = 1;
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        return ngx_http_aigw_limits_alone(r, ctx, lr,
                                          ngx_http_aigw_limits_now());
    }

    return NGX_AGAIN;
}


/* this gateway on its own: its usage against the limits themselves */

static ngx_int_t
ngx_http_aigw_limits_alone(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    ngx_http_aigw_lim_req_t *lr, uint64_t now)
{
    int                         k;
    uint64_t                    retry;
    ngx_uint_t                  i;
    ngx_slab_pool_t            *shpool;
    ngx_http_aigw_lim_sub_t    *s;
    ngx_http_aigw_lim_shm_t    *shm;
    ngx_http_aigw_lim_slot_t   *slot;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    shpool = (ngx_slab_pool_t *) amcf->limits->shm.addr;
    shm = amcf->limits->data;

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < lr->nsub; i++) {
        s = &lr->sub[i];

        slot = ngx_http_aigw_limits_slot(shm, s, now);
        if (slot == NULL) {
            ngx_shmtx_unlock(&shpool->mutex);
            ctx->reason = "the gateway has no room for the limits of more "
                          "tenants (aigw_limits zone=)";
            return NGX_HTTP_SERVICE_UNAVAILABLE;
        }

        aigw_lim_roll(&slot->st, now);

        k = aigw_lim_fits(&slot->st, s->lim, &lr->need, now, 1);

        if (k >= 0) {
            retry = aigw_lim_retry_alone(&slot->st, s->lim, &lr->need, k,
                                         now);
            ngx_shmtx_unlock(&shpool->mutex);

            return ngx_http_aigw_limits_refuse(r, ctx, s, k, retry);
        }
    }

    for (i = 0; i < lr->nsub; i++) {
        slot = &shm->slots[lr->sub[i].slot];
        aigw_lim_draw(&slot->st, &lr->need, now);
        slot->last = now;
        slot->dirty = 1;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    lr->admitted = now;

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_limits_refuse(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    ngx_http_aigw_lim_sub_t *s, int k, uint64_t retry)
{
    u_char  *p;

    p = ngx_pnalloc(r->pool, AIGW_LIM_MESSAGE);
    if (p == NULL) {
        return NGX_ERROR;
    }

    (void) aigw_lim_message((char *) p, k, s->lim, &ctx->limits->need,
                            s->key ? s->key->id.data : NULL);

    ctx->reason = (const char *) p;
    ctx->retry_after = (time_t) ngx_max(retry, 1);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "aigw: tenant \"%s\": %s", s->tenant->id.data, p);

    ngx_http_aigw_metrics_limited(r, s->tenant->id.data, s->tenant->id.len,
                                  (ngx_uint_t) k);

    return NGX_HTTP_TOO_MANY_REQUESTS;
}


/*
 * The subject's slot, found or made (under the zone's mutex): NULL when
 * the zone is full of subjects still in use
 */

static ngx_http_aigw_lim_slot_t *
ngx_http_aigw_limits_slot(ngx_http_aigw_lim_shm_t *shm,
    ngx_http_aigw_lim_sub_t *s, uint64_t now)
{
    u_char                     name[NGX_HTTP_AIGW_LIM_NAME];
    size_t                     len;
    uint32_t                   hash;
    uint64_t                   use[AIGW_LIM_N];
    ngx_uint_t                 i, n, free;
    ngx_http_aigw_lim_slot_t  *slot;

    if (s->gen) {
        slot = &shm->slots[s->slot];

        if (slot->gen == s->gen) {
            return slot;
        }
    }

    len = ngx_http_aigw_limits_name(s, name);
    hash = ngx_crc32_short(name, len);

    free = shm->nslots;

    for (n = 0, i = hash % shm->nslots; n < shm->nslots;
         n++, i = (i + 1) % shm->nslots)
    {
        slot = &shm->slots[i];

        if (!slot->used) {
            if (free == shm->nslots) {
                free = i;
            }

            break;
        }

        if (slot->hash == hash && slot->len == len
            && ngx_memcmp(slot->name, name, len) == 0)
        {
            s->slot = i;
            s->gen = slot->gen;
            return slot;
        }

        if (free == shm->nslots && slot->claim_until <= now
            && slot->last + NGX_HTTP_AIGW_LIM_IDLE <= now && !slot->dirty)
        {
            aigw_lim_usage(&slot->st, now, use);

            if (use[AIGW_LIM_RPM] == 0 && slot->st.day_reserved == 0
                && slot->st.month_reserved == 0)
            {
                /* idle: its usage is in Redis, it may go */
                free = i;
            }
        }
    }

    if (free == shm->nslots) {
        if (!shm->full) {
            shm->full = 1;
            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "aigw: the \"aigw_limits\" zone is full of "
                          "subjects in use: raise its zone= size");
        }

        return NULL;
    }

    slot = &shm->slots[free];

    ngx_memzero(slot, sizeof(ngx_http_aigw_lim_slot_t));

    ngx_memcpy(slot->name, name, len);
    slot->len = len;
    slot->hash = hash;
    slot->used = 1;
    slot->gen = ++shm->gen;
    slot->last = now;
    slot->remaining[0] = -1;
    slot->remaining[1] = -1;

    aigw_lim_init(&slot->st, now);

    s->slot = free;
    s->gen = slot->gen;

    return slot;
}


/* "team-a", or "team-a:key:k7f3q2": the suffix of its Redis key */

static size_t
ngx_http_aigw_limits_name(ngx_http_aigw_lim_sub_t *s, u_char *buf)
{
    u_char  *p;

    p = ngx_cpymem(buf, s->tenant->id.data, s->tenant->id.len);

    if (s->key) {
        p = ngx_cpymem(p, ":key:", 5);
        p = ngx_cpymem(p, s->key->id.data, s->key->id.len);
    }

    return p - buf;
}


/* under the zone's mutex: the script's arguments (aigw_limits.lua) */

static ngx_int_t
ngx_http_aigw_limits_argv(ngx_http_aigw_lim_claim_t *cl,
    ngx_http_aigw_lim_shm_t *shm, const aigw_lim_need_t *need, uint64_t now)
{
    u_char                      *p, *last;
    char                         day[11], month[8];
    size_t                       size;
    int64_t                      slack[3];
    uint64_t                     day_left, month_left, use[AIGW_LIM_N];
    uint64_t                     lease;
    ngx_uint_t                   i, j, n;
    ngx_tm_t                     tm;
    ngx_http_aigw_lim_sub_t     *s;
    ngx_http_aigw_lim_slot_t    *slot;
    ngx_http_aigw_lim_worker_t  *w;
    ngx_http_aigw_main_conf_t   *amcf;
    const aigw_limits_t         *l;

    w = &ngx_http_aigw_lim_worker;
    amcf = w->amcf;

    n = 2 + 1 + 11;

    for (i = 0; i < cl->nsub; i++) {
        n += 1 + 19 + 3 * cl->sub[i].limits->nalert_at;
    }

    cl->argv = ngx_palloc(cl->pool, n * sizeof(char *));
    cl->argvlen = ngx_palloc(cl->pool, n * sizeof(size_t));

    /* the numbers and texts: ample for each field, and the windows */

    size = 512 + cl->nsub * (NGX_HTTP_AIGW_LIM_NAME * 2 + 512
                             + AIGW_LIM_WINDOW_TEXT
                             + AIGW_ALERT_AT_MAX * 64)
           + amcf->redis->prefix.len * 2;

    p = ngx_pnalloc(cl->pool, size);

    if (cl->argv == NULL || cl->argvlen == NULL || p == NULL) {
        return NGX_ERROR;
    }

    last = p + size;

    aigw_lim_periods(now, day, month, &day_left, &month_left);

    ngx_gmtime((time_t) (now / 1000), &tm);

    shm->version++;

#define ngx_http_aigw_lim_arg(fmt, ...)                                       \
    cl->argv[cl->argc] = (const char *) p;                                    \
    p = ngx_slprintf(p, last, fmt, __VA_ARGS__);                              \
    cl->argvlen[cl->argc] = p - (u_char *) cl->argv[cl->argc];                \
    cl->argc++

    cl->argc = 0;

    cl->argv[cl->argc] = w->loaded ? "EVALSHA" : "EVAL";
    cl->argvlen[cl->argc] = ngx_strlen(cl->argv[cl->argc]);
    cl->argc++;

    cl->evalsha = w->loaded;

    if (w->loaded) {
        cl->argv[cl->argc] = w->sha1;
        cl->argvlen[cl->argc] = 40;

    } else {
        cl->argv[cl->argc] = aigw_limits_script;
        cl->argvlen[cl->argc] = ngx_strlen(aigw_limits_script);
    }

    cl->argc++;

    ngx_http_aigw_lim_arg("%ui", cl->nsub);

    for (i = 0; i < cl->nsub; i++) {
        u_char  name[NGX_HTTP_AIGW_LIM_NAME];
        size_t  len;

        len = ngx_http_aigw_limits_name(&cl->sub[i], name);

        ngx_http_aigw_lim_arg("%V:limits:%*s", &amcf->redis->prefix, len,
                              name);
    }

    ngx_http_aigw_lim_arg("%V", &amcf->redis->prefix);
    ngx_http_aigw_lim_arg("%s", shm->instance);
    ngx_http_aigw_lim_arg("%uL", shm->version);
    ngx_http_aigw_lim_arg("%uL", now);
    ngx_http_aigw_lim_arg("%ui", (ngx_uint_t) NGX_HTTP_AIGW_LIM_GRACE);
    ngx_http_aigw_lim_arg("%s", day);
    ngx_http_aigw_lim_arg("%s", month);
    ngx_http_aigw_lim_arg("%uL", day_left);
    ngx_http_aigw_lim_arg("%uL", month_left);
    ngx_http_aigw_lim_arg("%4d-%02d-%02dT%02d:%02d:%02dZ", tm.ngx_tm_year,
                          tm.ngx_tm_mon, tm.ngx_tm_mday, tm.ngx_tm_hour,
                          tm.ngx_tm_min, tm.ngx_tm_sec);
    ngx_http_aigw_lim_arg("%ui", cl->nsub);

    for (i = 0; i < cl->nsub; i++) {
        s = &cl->sub[i];
        slot = &shm->slots[s->slot];
        l = s->limits;

        aigw_lim_usage(&slot->st, now, use);

        if (s->report) {
            /* a report: the lease and the slack as they are */
            lease = (slot->st.lease_until > now)
                    ? slot->st.lease_until + NGX_HTTP_AIGW_LIM_MARGIN - now
                    : 0;

            for (j = 0; j < 3; j++) {
                slack[j] = (lease && slot->st.quota[j] > (int64_t) use[j])
                           ? slot->st.quota[j] - (int64_t) use[j] : 0;
            }

        } else {
            lease = NGX_HTTP_AIGW_LIM_LEASE;

            for (j = 0; j < 3; j++) {
                slack[j] = (s->lim[j] > 0)
                           ? s->lim[j] / NGX_HTTP_AIGW_LIM_SLICE : 0;
            }

            if (s->lim[AIGW_LIM_DAY] < 0 && s->lim[AIGW_LIM_MONTH] > 0) {
                slack[2] = s->lim[AIGW_LIM_MONTH] / NGX_HTTP_AIGW_LIM_SLICE;
            }
        }

        ngx_http_aigw_lim_arg("%s", s->tenant->id.data);
        ngx_http_aigw_lim_arg("%s", s->key ? s->key->id.data : "");
        ngx_http_aigw_lim_arg("%uL", lease);

        for (j = 0; j < AIGW_LIM_N; j++) {
            ngx_http_aigw_lim_arg("%L", s->lim[j]);
        }

        ngx_http_aigw_lim_arg("%uL", use[AIGW_LIM_DAY]);
        ngx_http_aigw_lim_arg("%uL", slot->st.day_settled);
        ngx_http_aigw_lim_arg("%uL", use[AIGW_LIM_MONTH]);
        ngx_http_aigw_lim_arg("%uL", slot->st.month_settled);

        cl->argv[cl->argc] = (const char *) p;
        p += aigw_lim_window_text(&slot->st, now, (char *) p);
        cl->argvlen[cl->argc] = p - (u_char *) cl->argv[cl->argc];
        cl->argc++;

        ngx_http_aigw_lim_arg("%uL", need ? need->requests : 0);
        ngx_http_aigw_lim_arg("%uL", need ? need->tokens : 0);
        ngx_http_aigw_lim_arg("%uL", need ? need->nanousd : 0);

        for (j = 0; j < 3; j++) {
            ngx_http_aigw_lim_arg("%L", slack[j]);
        }

        ngx_http_aigw_lim_arg("%uz", l->nalert_at);

        for (j = 0; j < l->nalert_at; j++) {
            cl->argv[cl->argc] = (const char *) p;
            p += aigw_lim_fraction((char *) p, l->alert_at[j]);
            cl->argvlen[cl->argc] = p - (u_char *) cl->argv[cl->argc];
            cl->argc++;

            ngx_http_aigw_lim_arg("%L", (l->daily_nanousd < 0) ? -1
                                  : (int64_t) aigw_lim_threshold(
                                        l->daily_nanousd, l->alert_at[j]));
            ngx_http_aigw_lim_arg("%L", (l->monthly_nanousd < 0) ? -1
                                  : (int64_t) aigw_lim_threshold(
                                        l->monthly_nanousd, l->alert_at[j]));
        }

        slot->dirty = 0;
    }

#undef ngx_http_aigw_lim_arg

    cl->sent = now;

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_limits_send(ngx_http_aigw_lim_claim_t *cl,
    ngx_http_aigw_lim_req_t *lr)
{
    ngx_int_t                    rc;
    ngx_http_aigw_lim_worker_t  *w;

    w = &ngx_http_aigw_lim_worker;

    rc = ngx_http_aigw_redis_command(NGX_HTTP_AIGW_REDIS_LIMITS, cl->argc,
                                     cl->argv, cl->argvlen,
                                     ngx_http_aigw_limits_reply, cl);
    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    w->busy = 1;
    w->inflight = lr;

    if (lr) {
        lr->inflight = 1;
    }

    return NGX_OK;
}


static void
ngx_http_aigw_limits_reply(redisReply *reply, void *data)
{
    ngx_http_aigw_lim_claim_t *cl = data;

    int                          code;
    uint64_t                     retry;
    ngx_int_t                    rc;
    ngx_uint_t                   which;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_aigw_ctx_t         *ctx;
    ngx_http_aigw_lim_req_t     *lr;
    ngx_http_aigw_lim_worker_t  *w;

    w = &ngx_http_aigw_lim_worker;

    lr = w->inflight;
    w->busy = 0;
    w->inflight = NULL;

    if (lr) {
        lr->inflight = 0;
    }

    if (reply && reply->type == REDIS_REPLY_ERROR && cl->evalsha
        && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
    {
        /* Redis restarted, or flushed its scripts: the whole script */

        w->loaded = 0;
        cl->argv[0] = "EVAL";
        cl->argvlen[0] = 4;
        cl->argv[1] = aigw_limits_script;
        cl->argvlen[1] = ngx_strlen(aigw_limits_script);
        cl->evalsha = 0;

        if (ngx_http_aigw_limits_send(cl, lr) == NGX_OK) {
            return;
        }

        reply = NULL;
    }

    rc = ngx_http_aigw_limits_apply(cl, reply, lr, w->log, &code, &which,
                                    &retry);

    if (rc == NGX_OK && !cl->evalsha) {
        w->loaded = 1;
    }

    ngx_http_aigw_limits_away(rc != NGX_OK, w->log);

    if (lr == NULL) {
        /* a report, or a request that went away */
        ngx_http_aigw_limits_next();
        return;
    }

    r = lr->request;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (rc != NGX_OK) {
        if (w->amcf->limits_closed) {
            ctx->reason = "the gateway cannot check the limits now "
                          "(Redis is away); try again later";
            ctx->retry_after = 1;
            rc = NGX_HTTP_SERVICE_UNAVAILABLE;

        } else {
            rc = ngx_http_aigw_limits_alone(r, ctx, lr,
                                            ngx_http_aigw_limits_now());
        }

    } else if (code == NGX_HTTP_AIGW_LIM_CODE_STALE) {
        /* an older claim of this gateway got there later: again */

        if (++lr->tries < NGX_HTTP_AIGW_LIM_TRIES) {
            rc = ngx_http_aigw_limits_try(r, ctx, lr);

        } else {
            rc = ngx_http_aigw_limits_alone(r, ctx, lr,
                                            ngx_http_aigw_limits_now());
        }

    } else if (code > 0) {
        rc = ngx_http_aigw_limits_refuse(r, ctx, &cl->sub[which], code - 1,
                                         retry);
    }

    if (rc != NGX_AGAIN) {
        ngx_http_aigw_access_resume(r, rc);
        ngx_http_run_posted_requests(c);
    }

    ngx_http_aigw_limits_next();
}


/*
 * The script's answer, applied to the slots: NGX_OK with "code" 0 (and
 * the request's need drawn), a refusal (code, the subject, retry), or
 * NGX_HTTP_AIGW_LIM_CODE_STALE; NGX_ERROR when Redis gave no answer
 */

static ngx_int_t
ngx_http_aigw_limits_apply(ngx_http_aigw_lim_claim_t *cl, redisReply *reply,
    ngx_http_aigw_lim_req_t *lr, ngx_log_t *log, int *code,
    ngx_uint_t *which, uint64_t *retry)
{
    int64_t                     v[8];
    uint64_t                    now, use[AIGW_LIM_N];
    ngx_uint_t                  i, j, ok;
    redisReply                 *e, *f, *a;
    ngx_slab_pool_t            *shpool;
    ngx_http_aigw_lim_sub_t    *s;
    ngx_http_aigw_lim_shm_t    *shm;
    ngx_http_aigw_lim_slot_t   *slot;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_aigw_lim_worker.amcf;
    shpool = (ngx_slab_pool_t *) amcf->limits->shm.addr;
    shm = amcf->limits->data;

    *code = 0;
    *which = 0;
    *retry = 0;

    ok = (reply && reply->type == REDIS_REPLY_ARRAY
          && reply->elements == cl->nsub);

    if (reply && reply->type == REDIS_REPLY_ERROR && !shm->away) {
        /* once: the claims after it fail the same way until Redis heals */
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "aigw: limits: redis refused a claim: %*s",
                      ngx_min((size_t) reply->len, 200), reply->str);
    }

    if (ok && reply->elements == 0) {
        ok = 0;
    }

    /* a stale claim's answer is one number, {5} */

    if (reply && reply->type == REDIS_REPLY_ARRAY && reply->elements == 1
        && reply->element[0]->type == REDIS_REPLY_INTEGER
        && reply->element[0]->integer == NGX_HTTP_AIGW_LIM_CODE_STALE)
    {
        ok = 0;
        *code = NGX_HTTP_AIGW_LIM_CODE_STALE;
    }

    for (i = 0; ok && i < cl->nsub; i++) {
        e = reply->element[i];

        if (e->type != REDIS_REPLY_ARRAY || e->elements != 9) {
            ok = 0;
            break;
        }

        for (j = 0; j < 8; j++) {
            if (e->element[j]->type != REDIS_REPLY_INTEGER) {
                ok = 0;
                break;
            }

            v[j] = e->element[j]->integer;
        }

        if (ok && v[0] > 0 && *code == 0) {
            *code = (int) v[0];
            *which = i;
            *retry = (v[1] > 0) ? (uint64_t) v[1] : 1;
        }
    }

    if (*code < 0 || *code > AIGW_LIM_N) {
        ok = 0;
    }

    now = ngx_http_aigw_limits_now();

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < cl->nsub; i++) {
        s = &cl->sub[i];
        slot = &shm->slots[s->slot];

        if (slot->gen != s->gen) {
            continue;
        }

        slot->claim_until = 0;

        if (!ok) {
            /* what Redis granted is not known: no quota until it says */
            slot->st.lease_until = 0;
            slot->dirty = 1;
            continue;
        }

        e = reply->element[i];

        for (j = 0; j < AIGW_LIM_N; j++) {
            slot->st.quota[j] = e->element[2 + j]->integer;
        }

        if (!s->report) {
            slot->st.lease_until = cl->sent + NGX_HTTP_AIGW_LIM_LEASE
                                   - NGX_HTTP_AIGW_LIM_MARGIN;
        }

        slot->remaining[0] = e->element[6]->integer;
        slot->remaining[1] = e->element[7]->integer;

        for (j = 0; s->key == NULL && j < 2; j++) {
            if (slot->remaining[j] >= 0) {
                ngx_http_aigw_metrics_budget((ngx_cycle_t *) ngx_cycle,
                                             s->tenant->id.data,
                                             s->tenant->id.len, j,
                                             slot->remaining[j]);
            }
        }

        /* the alerts this claim sent: one line each */

        f = e->element[8];

        for (j = 0; f->type == REDIS_REPLY_ARRAY && j < f->elements; j++) {
            a = f->element[j];

            if (a->type != REDIS_REPLY_ARRAY || a->elements != 3
                || a->element[0]->type != REDIS_REPLY_STRING
                || a->element[1]->type != REDIS_REPLY_STRING
                || a->element[2]->type != REDIS_REPLY_INTEGER)
            {
                continue;
            }

            ngx_log_error(NGX_LOG_WARN, log, 0,
                          "aigw: alert: tenant \"%s\"%s%s%s: %*s spend "
                          "reached %*s of the budget (%L nano-USD)",
                          s->tenant->id.data, s->key ? " key \"" : "",
                          s->key ? s->key->id.data : "",
                          s->key ? "\"" : "",
                          ngx_min((size_t) a->element[0]->len, 16),
                          a->element[0]->str,
                          ngx_min((size_t) a->element[1]->len, 16),
                          a->element[1]->str, a->element[2]->integer);
        }
    }

    if (ok && *code == 0 && lr && lr->request) {

        /* granted: the request takes its need within the new quotas */

        for (i = 0; i < cl->nsub; i++) {
            slot = &shm->slots[cl->sub[i].slot];

            if (slot->gen != cl->sub[i].gen) {
                continue;
            }

            aigw_lim_roll(&slot->st, now);
            aigw_lim_draw(&slot->st, &lr->need, now);
            slot->last = now;

            aigw_lim_usage(&slot->st, now, use);
        }

        lr->admitted = now;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (*code == NGX_HTTP_AIGW_LIM_CODE_STALE) {
        return NGX_OK;
    }

    return ok ? NGX_OK : NGX_ERROR;
}


/* a claim that was not sent, or failed: its subjects are free again */

static void
ngx_http_aigw_limits_release(ngx_http_aigw_lim_claim_t *cl)
{
    ngx_uint_t                  i;
    ngx_http_aigw_lim_shm_t    *shm;
    ngx_http_aigw_lim_slot_t   *slot;

    shm = ngx_http_aigw_lim_worker.amcf->limits->data;

    for (i = 0; i < cl->nsub; i++) {
        slot = &shm->slots[cl->sub[i].slot];

        if (slot->gen == cl->sub[i].gen) {
            slot->claim_until = 0;
            slot->dirty = 1;
        }
    }
}


/* one line when Redis goes away for the limits, one when it is back */

static void
ngx_http_aigw_limits_away(ngx_uint_t away, ngx_log_t *log)
{
    ngx_http_aigw_lim_shm_t    *shm;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_aigw_lim_worker.amcf;

    if (amcf == NULL || amcf->limits == NULL) {
        return;
    }

    shm = amcf->limits->data;

    if (shm->away == away) {
        return;
    }

    if (!ngx_atomic_cmp_set((ngx_atomic_t *) &shm->away, !away, away)) {
        return;
    }

    if (away) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "aigw: limits: redis is away: %s",
                      amcf->limits_closed
                      ? "requests of tenants with limits are refused "
                        "(on_redis_down=closed)"
                      : "this gateway enforces the limits on its own usage "
                        "(on_redis_down=open)");

    } else {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "aigw: limits: redis is back: limits are shared "
                      "across gateways again");
    }
}


static void
ngx_http_aigw_limits_wait(ngx_http_aigw_lim_req_t *lr, ngx_msec_t ms)
{
    ngx_add_timer(&lr->wait, ms);
}


static void
ngx_http_aigw_limits_wake(ngx_event_t *ev)
{
    ngx_http_aigw_lim_req_t *lr = ev->data;

    ngx_int_t             rc;
    ngx_connection_t     *c;
    ngx_http_request_t   *r;
    ngx_http_aigw_ctx_t  *ctx;

    r = lr->request;
    c = r->connection;
    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    rc = ngx_http_aigw_limits_try(r, ctx, lr);

    if (rc != NGX_AGAIN) {
        ngx_http_aigw_access_resume(r, rc);
        ngx_http_run_posted_requests(c);
    }

    /* admitted on this worker's quotas without a claim: the next one */
    ngx_http_aigw_limits_next();
}


/* the connection is free: the next request waiting for it */

static void
ngx_http_aigw_limits_next(void)
{
    ngx_queue_t                 *q;
    ngx_http_aigw_lim_req_t     *lr;
    ngx_http_aigw_lim_worker_t  *w;

    w = &ngx_http_aigw_lim_worker;

    while (!w->busy && !ngx_queue_empty(&w->waiting)) {
        q = ngx_queue_head(&w->waiting);
        ngx_queue_remove(q);

        lr = ngx_queue_data(q, ngx_http_aigw_lim_req_t, queue);
        lr->queued = 0;

        /* from a timer, out of this stack */
        ngx_http_aigw_limits_wait(lr, 0);

        /* one at a time: the others may fit once it has its answer */
        break;
    }
}


/* the connection is up: the requests that waited for it */

static void
ngx_http_aigw_limits_ready(ngx_event_t *ev)
{
    ngx_http_aigw_lim_worker.was_up = 1;

    ngx_http_aigw_limits_next();
}


ngx_int_t
ngx_http_aigw_limits_init_worker(ngx_cycle_t *cycle)
{
    ngx_http_aigw_lim_worker_t  *w;
    ngx_http_aigw_main_conf_t   *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_aigw_module);

    w = &ngx_http_aigw_lim_worker;
    ngx_memzero(w, sizeof(ngx_http_aigw_lim_worker_t));

    if (amcf == NULL || amcf->limits == NULL) {
        return NGX_OK;
    }

    w->amcf = amcf;
    w->log = cycle->log;

    ngx_queue_init(&w->waiting);

    aigw_limits_script_sha1(w->sha1);

    if (amcf->redis == NULL) {
        return NGX_OK;
    }

    w->claim.pool = ngx_create_pool(4096, cycle->log);
    if (w->claim.pool == NULL) {
        return NGX_ERROR;
    }

    w->sync.handler = ngx_http_aigw_limits_sync;
    w->sync.data = w;
    w->sync.log = cycle->log;
    w->sync.cancelable = 1;

    ngx_add_timer(&w->sync, NGX_HTTP_AIGW_LIM_SYNC);

    return ngx_http_aigw_redis_start(cycle, NGX_HTTP_AIGW_REDIS_LIMITS,
                                     amcf->redis, ngx_http_aigw_limits_ready);
}


void
ngx_http_aigw_limits_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_aigw_lim_worker_t  *w;

    w = &ngx_http_aigw_lim_worker;

    if (w->amcf == NULL || w->amcf->redis == NULL) {
        return;
    }

    if (w->sync.timer_set) {
        ngx_del_timer(&w->sync);
    }

    ngx_http_aigw_redis_close(NGX_HTTP_AIGW_REDIS_LIMITS);

    if (w->claim.pool) {
        ngx_destroy_pool(w->claim.pool);
        w->claim.pool = NULL;
    }
}


/*
 * Every second: the subjects whose spend moved since their last claim
 * are reported, and those whose lease ran out with slack left give it
 * back, a few in one claim
 */

static void
ngx_http_aigw_limits_sync(ngx_event_t *ev)
{
    uint64_t                     now, use[AIGW_LIM_N];
    ngx_uint_t                   i, j, k, slack, n;
    ngx_slab_pool_t             *shpool;
    const aigw_tenant_t         *t;
    ngx_http_aigw_lim_sub_t     *s;
    ngx_http_aigw_lim_shm_t     *shm;
    ngx_http_aigw_lim_slot_t    *slot;
    ngx_http_aigw_lim_claim_t   *cl;
    ngx_http_aigw_lim_worker_t  *w;
    ngx_http_aigw_main_conf_t   *amcf;

    w = ev->data;
    amcf = w->amcf;

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    ngx_add_timer(&w->sync, NGX_HTTP_AIGW_LIM_SYNC);

    if (w->busy || !ngx_http_aigw_redis_ready(NGX_HTTP_AIGW_REDIS_LIMITS)) {
        return;
    }

    shpool = (ngx_slab_pool_t *) amcf->limits->shm.addr;
    shm = amcf->limits->data;
    cl = &w->claim;

    ngx_reset_pool(cl->pool);
    cl->nsub = 0;

    now = ngx_http_aigw_limits_now();

    ngx_shmtx_lock(&shpool->mutex);

    /* from where the last report stopped: every slot has its turn */

    for (k = 0; k < shm->nslots && cl->nsub < NGX_HTTP_AIGW_LIM_SYNC_MAX;
         k++)
    {
        i = (w->sync_from + k) % shm->nslots;
        slot = &shm->slots[i];

        if (!slot->used || slot->claim_until > now) {
            continue;
        }

        aigw_lim_roll(&slot->st, now);

        slack = 0;

        if (slot->st.lease_until <= now) {
            aigw_lim_usage(&slot->st, now, use);

            for (j = 0; j < AIGW_LIM_N; j++) {
                if (slot->st.quota[j] > (int64_t) use[j]) {
                    slack = 1;
                }
            }
        }

        if (!slot->dirty && !slack) {
            continue;
        }

        /* the subject's tenant and key, by its name, in this config */

        s = &cl->sub[cl->nsub];
        ngx_memzero(s, sizeof(ngx_http_aigw_lim_sub_t));

        n = ngx_strlchr(slot->name, slot->name + slot->len, ':')
            ? (ngx_uint_t) (ngx_strlchr(slot->name, slot->name + slot->len,
                                        ':') - slot->name)
            : slot->len;

        t = aigw_tenants_find(amcf->tenants, (char *) slot->name, n);

        if (t == NULL) {
            /* a tenant a reload removed: nothing to enforce */
            slot->dirty = 0;
            slot->st.lease_until = 0;
            for (j = 0; j < AIGW_LIM_N; j++) {
                slot->st.quota[j] = AIGW_LIM_NO_QUOTA;
            }
            continue;
        }

        s->tenant = t;
        s->limits = &t->limits;

        if (n < slot->len) {
            s->key = aigw_tenants_find_key(amcf->tenants,
                                           (char *) slot->name + n + 5,
                                           slot->len - n - 5);

            if (s->key == NULL || s->key->tenant != t) {
                slot->dirty = 0;
                slot->st.lease_until = 0;
                continue;
            }

            s->limits = &s->key->limits;
        }

        aigw_lim_limits(s->limits, s->lim);

        s->slot = i;
        s->gen = slot->gen;
        s->report = 1;

        slot->claim_until = now + amcf->redis->timeout + 1000;

        cl->nsub++;
    }

    w->sync_from = (w->sync_from + k) % shm->nslots;

    if (cl->nsub == 0) {
        ngx_shmtx_unlock(&shpool->mutex);
        return;
    }

    if (ngx_http_aigw_limits_argv(cl, shm, NULL, now) != NGX_OK) {
        ngx_http_aigw_limits_release(cl);
        ngx_shmtx_unlock(&shpool->mutex);
        return;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (ngx_http_aigw_limits_send(cl, NULL) != NGX_OK) {
        ngx_shmtx_lock(&shpool->mutex);
        ngx_http_aigw_limits_release(cl);
        ngx_shmtx_unlock(&shpool->mutex);
    }
}


/*
 * The log phase: the reservation is replaced by what the bill counts,
 * nothing for a request that never reached AWS
 */

static ngx_int_t
ngx_http_aigw_limits_log_handler(ngx_http_request_t *r)
{
    uint64_t                    now;
    ngx_uint_t                  i;
    aigw_usage_t               *u;
    aigw_lim_need_t             used;
    ngx_slab_pool_t            *shpool;
    ngx_http_aigw_ctx_t        *ctx;
    ngx_http_aigw_lim_req_t    *lr;
    ngx_http_aigw_lim_shm_t    *shm;
    ngx_http_aigw_lim_slot_t   *slot;
    ngx_http_aigw_main_conf_t  *amcf;

    if (r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL || ctx->limits == NULL) {
        return NGX_OK;
    }

    lr = ctx->limits;

    if (!lr->admitted || lr->settled) {
        return NGX_OK;
    }

    lr->settled = 1;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    used.requests = 1;
    used.tokens = 0;
    used.nanousd = 0;

    u = (ctx->status == NGX_OK) ? ngx_http_aigw_usage_result(r, ctx) : NULL;

    if (u) {
        used.tokens = u->input_tokens + u->output_tokens
                      + u->cache_read_input_tokens
                      + u->cache_write_input_tokens;

        if (ngx_http_aigw_cost(r, ctx, &used.nanousd) != NGX_OK) {
            used.nanousd = 0;
        }
    }

    shpool = (ngx_slab_pool_t *) amcf->limits->shm.addr;
    shm = amcf->limits->data;

    now = ngx_http_aigw_limits_now();

    ngx_shmtx_lock(&shpool->mutex);

    for (i = 0; i < lr->nsub; i++) {
        slot = &shm->slots[lr->sub[i].slot];

        if (slot->gen != lr->sub[i].gen) {
            continue;
        }

        aigw_lim_roll(&slot->st, now);
        aigw_lim_settle(&slot->st, lr->admitted, &lr->need, &used);
        slot->last = now;
        slot->dirty = 1;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


static void
ngx_http_aigw_limits_cleanup(void *data)
{
    ngx_http_aigw_lim_req_t *lr = data;

    if (lr->wait.timer_set) {
        ngx_del_timer(&lr->wait);
    }

    if (lr->queued) {
        ngx_queue_remove(&lr->queue);
        lr->queued = 0;
    }

    if (lr->inflight) {
        /* the answer finds no request: it only updates the slots */
        ngx_http_aigw_lim_worker.inflight = NULL;
    }

    lr->request = NULL;
}


static uint64_t
ngx_http_aigw_limits_now(void)
{
    ngx_time_t  *tp;

    ngx_time_update();
    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}
