
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
 * a claim (ngx_http_aigw_limits_claim.c, src/lua/aigw_limits.lua) on the
 * worker's limits connection: this gateway's usage, the request's need
 * and a slice of slack; Redis grants, or refuses with the limit and when
 * to retry.  While a claim of a subject is in flight its other requests
 * wait (its quotas are being replaced).  Every second a worker reports
 * the subjects whose spend moved, and gives back the slack of those whose
 * lease ran out: budgets and alerts see settled spend within about a
 * second.
 *
 * With no Redis ("aigw_redis" absent), or Redis away and
 * on_redis_down=open, a gateway checks its own usage against the limits;
 * with on_redis_down=closed it refuses the requests of subjects with
 * limits (503) until Redis is back.
 */


#include <openssl/rand.h>

#include "ngx_http_aigw_limits.h"


static ngx_int_t ngx_http_aigw_limits_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_aigw_limits_log_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_aigw_limits_prepare(ngx_http_request_t *r,
    ngx_http_aigw_lim_req_t *lr);
static ngx_int_t ngx_http_aigw_limits_alone(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_http_aigw_lim_req_t *lr, uint64_t now);
static ngx_int_t ngx_http_aigw_limits_find(ngx_http_aigw_ctx_t *ctx,
    ngx_http_aigw_lim_req_t *lr, ngx_http_aigw_lim_shm_t *shm, uint64_t now);
static ngx_http_aigw_lim_slot_t *ngx_http_aigw_limits_slot(
    ngx_http_aigw_lim_shm_t *shm, ngx_http_aigw_lim_sub_t *s, uint64_t now);
static ngx_http_aigw_lim_holder_t *ngx_http_aigw_limits_holder(
    ngx_http_aigw_lim_slot_t *slot, ngx_uint_t add);
static void ngx_http_aigw_limits_unhold(ngx_http_aigw_lim_slot_t *slot,
    uint64_t admitted, const aigw_lim_need_t *need);
static void ngx_http_aigw_limits_wake(ngx_event_t *ev);
static void ngx_http_aigw_limits_cleanup(void *data);



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
    aigw_cost_t           cost;
    ngx_http_aigw_ctx_t  *ctx;
    const aigw_price_t   *price;

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    aigw_reserve_finish(&lr->reserve);

    lr->need.requests = 1;
    lr->need.tokens = lr->reserve.input_tokens + lr->reserve.output_tokens;
    lr->need.nanousd = 0;

    price = ngx_http_aigw_price(r, ctx);

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


ngx_int_t
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

        return ngx_http_aigw_limits_down(r, ctx, lr);
    }

    shpool = (ngx_slab_pool_t *) amcf->limits->shm.addr;
    shm = amcf->limits->data;

    now = ngx_http_aigw_limits_now();

    ngx_shmtx_lock(&shpool->mutex);

    if (ngx_http_aigw_limits_find(ctx, lr, shm, now) != NGX_OK) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    claiming = 0;
    fits = 1;

    for (i = 0; i < lr->nsub; i++) {
        s = &lr->sub[i];
        slot = &shm->slots[s->slot];

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
            ngx_http_aigw_limits_draw(slot, &lr->need, now);
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

        return ngx_http_aigw_limits_down(r, ctx, lr);
    }

    return NGX_AGAIN;
}


/* Redis is away: on_redis_down= decides */

ngx_int_t
ngx_http_aigw_limits_down(ngx_http_request_t *r, ngx_http_aigw_ctx_t *ctx,
    ngx_http_aigw_lim_req_t *lr)
{
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    if (amcf->limits_closed) {
        ctx->reason = "the gateway cannot check the limits now "
                      "(Redis is away); try again later";
        ctx->retry_after = 1;
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    return ngx_http_aigw_limits_alone(r, ctx, lr, ngx_http_aigw_limits_now());
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

    if (ngx_http_aigw_limits_find(ctx, lr, shm, now) != NGX_OK) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    for (i = 0; i < lr->nsub; i++) {
        s = &lr->sub[i];
        slot = &shm->slots[s->slot];

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
        ngx_http_aigw_limits_draw(slot, &lr->need, now);
        slot->dirty = 1;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    lr->admitted = now;

    return NGX_OK;
}


ngx_int_t
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
 * Under the zone's mutex: the slots of the request's subjects, moved to
 * now's day and month; NGX_DECLINED, with the client's reason, when the
 * zone has no room for one
 */

static ngx_int_t
ngx_http_aigw_limits_find(ngx_http_aigw_ctx_t *ctx,
    ngx_http_aigw_lim_req_t *lr, ngx_http_aigw_lim_shm_t *shm, uint64_t now)
{
    ngx_uint_t                 i;
    ngx_http_aigw_lim_slot_t  *slot;

    for (i = 0; i < lr->nsub; i++) {
        slot = ngx_http_aigw_limits_slot(shm, &lr->sub[i], now);

        if (slot == NULL) {
            ctx->reason = "the gateway has no room for the limits of more "
                          "tenants (aigw_limits zone=)";
            return NGX_DECLINED;
        }

        aigw_lim_roll(&slot->st, now);
    }

    return NGX_OK;
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

    aigw_lim_init(&slot->st, now);

    s->slot = free;
    s->gen = slot->gen;

    return slot;
}


/* "team-a", or "team-a:key:k7f3q2": the suffix of its Redis key */

size_t
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


void
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
        ngx_http_aigw_limits_unhold(slot, lr->admitted, &lr->need);
        slot->last = now;
        slot->dirty = 1;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/*
 * Under the zone's mutex: the request takes "need", and this worker
 * holds its reservation until it settles
 */

void
ngx_http_aigw_limits_draw(ngx_http_aigw_lim_slot_t *slot,
    const aigw_lim_need_t *need, uint64_t now)
{
    ngx_http_aigw_lim_holder_t  *hd;

    aigw_lim_draw(&slot->st, need, now);
    slot->last = now;

    hd = ngx_http_aigw_limits_holder(slot, 1);

    if (hd) {
        hd->day_reserved += need->nanousd;
        hd->month_reserved += need->nanousd;
    }
}


/* the settle of a reservation this worker held */

static void
ngx_http_aigw_limits_unhold(ngx_http_aigw_lim_slot_t *slot,
    uint64_t admitted, const aigw_lim_need_t *need)
{
    int32_t                      day, month;
    ngx_http_aigw_lim_holder_t  *hd;

    hd = ngx_http_aigw_limits_holder(slot, 0);

    if (hd == NULL) {
        return;
    }

    /* the periods the request was admitted in */
    aigw_lim_period_ids(admitted, &day, &month);

    if (day == hd->day) {
        hd->day_reserved -= ngx_min(hd->day_reserved, need->nanousd);
    }

    if (month == hd->month) {
        hd->month_reserved -= ngx_min(hd->month_reserved, need->nanousd);
    }

    if (hd->day_reserved == 0 && hd->month_reserved == 0) {
        hd->pid = 0;
    }
}


/*
 * This worker's entry among the subject's holders, its periods the
 * state's (the state is rolled); NULL when all are taken ("add") or it
 * has none
 */

static ngx_http_aigw_lim_holder_t *
ngx_http_aigw_limits_holder(ngx_http_aigw_lim_slot_t *slot, ngx_uint_t add)
{
    ngx_uint_t                   i;
    ngx_http_aigw_lim_holder_t  *hd, *free;

    free = NULL;
    hd = NULL;

    for (i = 0; i < NGX_HTTP_AIGW_LIM_HOLDERS; i++) {
        hd = &slot->holders[i];

        if (hd->pid == ngx_pid) {
            break;
        }

        if (hd->pid == 0 && free == NULL) {
            free = hd;
        }
    }

    if (i == NGX_HTTP_AIGW_LIM_HOLDERS) {
        if (!add || free == NULL) {
            return NULL;
        }

        hd = free;
        ngx_memzero(hd, sizeof(ngx_http_aigw_lim_holder_t));
        hd->pid = ngx_pid;
        hd->day = slot->st.day;
        hd->month = slot->st.month;
    }

    if (hd->day != slot->st.day) {
        hd->day = slot->st.day;
        hd->day_reserved = 0;
    }

    if (hd->month != slot->st.month) {
        hd->month = slot->st.month;
        hd->month_reserved = 0;
    }

    return hd;
}


/*
 * Under the zone's mutex: the reservations of workers that are gone (a
 * crash: they never settled) are released.  "alive" remembers the
 * workers found alive during one pass over the slots ("nalive" of them,
 * at most NGX_HTTP_AIGW_LIM_HOLDERS), so that each is asked once.
 * Returns whether any was released.
 */

ngx_uint_t
ngx_http_aigw_limits_reap(ngx_http_aigw_lim_slot_t *slot, ngx_pid_t *alive,
    ngx_uint_t *nalive)
{
    ngx_uint_t                   i, j, reaped;
    ngx_http_aigw_lim_holder_t  *hd;

    reaped = 0;

    for (i = 0; i < NGX_HTTP_AIGW_LIM_HOLDERS; i++) {
        hd = &slot->holders[i];

        if (hd->pid == 0 || hd->pid == ngx_pid) {
            continue;
        }

        for (j = 0; j < *nalive && alive[j] != hd->pid; j++) {
            /* void */
        }

        if (j < *nalive) {
            continue;
        }

        if (kill(hd->pid, 0) == 0 || ngx_errno != NGX_ESRCH) {
            if (*nalive < NGX_HTTP_AIGW_LIM_HOLDERS) {
                alive[(*nalive)++] = hd->pid;
            }

            continue;
        }

        if (hd->day == slot->st.day) {
            slot->st.day_reserved -= ngx_min(slot->st.day_reserved,
                                             hd->day_reserved);
        }

        if (hd->month == slot->st.month) {
            slot->st.month_reserved -= ngx_min(slot->st.month_reserved,
                                               hd->month_reserved);
        }

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "aigw: limits: \"%*s\": the reservations of the "
                      "worker %P, gone, are released", slot->len,
                      slot->name, hd->pid);

        hd->pid = 0;
        reaped = 1;
    }

    return reaped;
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


uint64_t
ngx_http_aigw_limits_now(void)
{
    ngx_time_t  *tp;

    /* the event loop's time: no system call on the request's path */
    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}
