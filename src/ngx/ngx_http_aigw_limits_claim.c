
/*
 * ngx_http_aigw_module: limits and budgets, the claims to Redis.
 *
 * Each worker has a connection of its own to Redis for the limits, with
 * one claim in flight at a time: a request's (its subjects' usage as this
 * gateway sees it, its need, a slice of slack) or a report (every second:
 * the subjects whose spend moved, and those whose lease ran out with
 * slack to give back).  The limits script (src/lua/aigw_limits.lua)
 * answers with each subject's quotas, a refusal and when to retry, what
 * is left of its budgets and the alerts it sent.  The requests waiting
 * for the connection go one at a time when it is free.
 */


#include "ngx_http_aigw_limits.h"


static void ngx_http_aigw_limits_reply(redisReply *reply, void *data);
static ngx_int_t ngx_http_aigw_limits_apply(ngx_http_aigw_lim_claim_t *cl,
    redisReply *reply, ngx_http_aigw_lim_req_t *lr, ngx_log_t *log,
    int *code, ngx_uint_t *which, uint64_t *retry);
static void ngx_http_aigw_limits_tell(ngx_http_aigw_lim_claim_t *cl,
    redisReply *reply, ngx_log_t *log);
static void ngx_http_aigw_limits_ready(ngx_event_t *ev);
static void ngx_http_aigw_limits_sync(ngx_event_t *ev);


ngx_http_aigw_lim_worker_t  ngx_http_aigw_lim_worker;


/* under the zone's mutex: the script's arguments (aigw_limits.lua) */

ngx_int_t
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

            /*
             * requests still running: Redis keeps counting what they
             * reserved, as long as this gateway says so
             */

            if (slot->st.day_reserved || slot->st.month_reserved) {
                lease = ngx_max(lease, NGX_HTTP_AIGW_LIM_LEASE);
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

        s->lease = lease;

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


ngx_int_t
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
        rc = ngx_http_aigw_limits_down(r, ctx, lr);

    } else if (code == NGX_HTTP_AIGW_LIM_CODE_STALE) {
        /* an older claim of this gateway got there later: again */

        if (++lr->tries < NGX_HTTP_AIGW_LIM_TRIES) {
            rc = ngx_http_aigw_limits_try(r, ctx, lr);

        } else {
            /* claims that keep losing: as if Redis were away */
            rc = ngx_http_aigw_limits_down(r, ctx, lr);
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
    uint64_t                    now;
    ngx_uint_t                  i, j, ok;
    redisReply                 *e;
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

    /* a Redis a failover demoted: the connection is made again */
    (void) ngx_http_aigw_redis_failover(NGX_HTTP_AIGW_REDIS_LIMITS, reply);

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

        slot->held_until = cl->sent + s->lease;

        if (!s->report) {
            slot->st.lease_until = cl->sent + NGX_HTTP_AIGW_LIM_LEASE
                                   - NGX_HTTP_AIGW_LIM_MARGIN;
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
            ngx_http_aigw_limits_draw(slot, &lr->need, now);
        }

        lr->admitted = now;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (*code == NGX_HTTP_AIGW_LIM_CODE_STALE) {
        return NGX_OK;
    }

    if (!ok) {
        return NGX_ERROR;
    }

    ngx_http_aigw_limits_tell(cl, reply, log);

    return NGX_OK;
}


/*
 * Out of the zone's lock: what is left of the tenants' budgets to the
 * metrics, and a line for each alert the claim sent
 */

static void
ngx_http_aigw_limits_tell(ngx_http_aigw_lim_claim_t *cl, redisReply *reply,
    ngx_log_t *log)
{
    ngx_uint_t                i, j;
    redisReply               *e, *f, *a;
    ngx_http_aigw_lim_sub_t  *s;

    for (i = 0; i < cl->nsub; i++) {
        s = &cl->sub[i];
        e = reply->element[i];

        for (j = 0; s->key == NULL && j < 2; j++) {
            if (e->element[6 + j]->integer >= 0) {
                ngx_http_aigw_metrics_budget((ngx_cycle_t *) ngx_cycle,
                                             s->tenant->id.data,
                                             s->tenant->id.len, j,
                                             e->element[6 + j]->integer);
            }
        }

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
}


/* a claim that was not sent, or failed: its subjects are free again */

void
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

void
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


/* the connection is free: the next request waiting for it */

void
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
    ngx_uint_t                   i, j, k, slack, n, nalive;
    ngx_pid_t                    alive[NGX_HTTP_AIGW_LIM_HOLDERS];
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
    nalive = 0;

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

        if (ngx_http_aigw_limits_reap(slot, alive, &nalive)) {
            slot->dirty = 1;
        }

        slack = 0;

        /* running reservations whose lease in Redis is about to end */

        if ((slot->st.day_reserved || slot->st.month_reserved)
            && slot->held_until < now + 2 * NGX_HTTP_AIGW_LIM_SYNC)
        {
            slack = 1;
        }

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
