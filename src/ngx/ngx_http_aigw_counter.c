
/*
 * ngx_http_aigw_module: counting usage, exactly once.
 *
 * At the log phase a request's record is committed to the queue in
 * shared memory (a worker whose queue is full appends it to its overflow
 * journal file instead).  In each worker a drainer runs on a timer; the
 * one holding the lease sends batches to Redis, each one EVALSHA of the
 * counting script (aigw_record.h): one round trip per batch, atomic, and
 * idempotent, as Redis skips records it has counted.  The journal goes
 * first, then the queue, so that every stream reaches Redis in order.
 * While Redis is away the queue keeps half its size and the drainer moves
 * the rest to journal files; a worker that exits (reload, quit) drains
 * what it can to Redis and journals the rest.
 */


#include <openssl/rand.h>

#include "ngx_http_aigw_counter.h"


#define NGX_HTTP_AIGW_BATCH_BYTES      (256 * 1024)
#define NGX_HTTP_AIGW_BATCH_RECORDS    512
#define NGX_HTTP_AIGW_BATCH_STREAMS    32

#define NGX_HTTP_AIGW_DRAIN_IDLE       100
#define NGX_HTTP_AIGW_DRAIN_RETRY      1000
#define NGX_HTTP_AIGW_DRAIN_LOCKED     10
#define NGX_HTTP_AIGW_HOLD_MAX         30000
#define NGX_HTTP_AIGW_JOURNAL_SCAN     10000


typedef struct {
    ngx_http_aigw_redis_conf_t     *rc;
    ngx_log_t                      *log;
    ngx_event_t                     timer;

    /* the batch: from the queue, or from a journal file */
    u_char                         *buf;
    size_t                          len;
    ngx_uint_t                      records;
    uint64_t                        start;          /* queue offsets */
    uint64_t                        end;

    unsigned                        busy:1;
    unsigned                        journal:1;
    unsigned                        eval:1;
    unsigned                        leased:1;
    unsigned                        scan:1;
    unsigned                        replaying:1;
    unsigned                        closing:1;

    /* the batch in d->buf was refused this many times (errors of its own) */
    ngx_uint_t                      refused;

    /* Redis answers, but cannot count now (LOADING, READONLY, ...) */
    ngx_msec_t                      hold;
    ngx_msec_t                      hold_until;

    uint64_t                        journal_gen;
    ngx_msec_t                      scanned;

    /* the journal file being replayed */
    ngx_pool_t                     *jpool;
    ngx_file_t                      jfile;      /* fd, name, log */
    off_t                           joff;

    /* this worker's overflow stream */
    u_char                          ov_stream[AIGW_STREAM_ID_LEN];
    uint64_t                        ov_seq;
    uint64_t                        ov_first;

    char                            sha1[41];
} ngx_http_aigw_drain_t;


static ngx_int_t ngx_http_aigw_counter_log_handler(ngx_http_request_t *r);
static void ngx_http_aigw_counter_overflow(ngx_http_aigw_redis_conf_t *rc,
    aigw_record_t *rec, ngx_log_t *log);
static void ngx_http_aigw_drain_tick(ngx_event_t *ev);
static void ngx_http_aigw_drain_ready(ngx_event_t *ev);
static void ngx_http_aigw_drain_arm(ngx_http_aigw_drain_t *d, ngx_msec_t t);
static ngx_int_t ngx_http_aigw_drain_scan(ngx_http_aigw_drain_t *d);
static ngx_int_t ngx_http_aigw_drain_journal(ngx_http_aigw_drain_t *d);
static void ngx_http_aigw_drain_journal_reset(ngx_http_aigw_drain_t *d);
static void ngx_http_aigw_drain_journal_done(ngx_http_aigw_drain_t *d,
    ngx_uint_t remove);
static ngx_int_t ngx_http_aigw_drain_send(ngx_http_aigw_drain_t *d);
static void ngx_http_aigw_drain_reply(redisReply *reply, void *data);
static ngx_int_t ngx_http_aigw_drain_command(ngx_http_aigw_drain_t *d,
    int argc, const char **argv, const size_t *lens,
    ngx_http_aigw_redis_reply_pt handler);
static ngx_int_t ngx_http_aigw_drain_wait(ngx_http_aigw_drain_t *d);
static void ngx_http_aigw_drain_hold(ngx_http_aigw_drain_t *d);
static void ngx_http_aigw_drain_waited(redisReply *reply, void *data);
static void ngx_http_aigw_drain_done(ngx_http_aigw_drain_t *d);
static ngx_uint_t ngx_http_aigw_drain_transient(redisReply *reply);
static void ngx_http_aigw_drain_refused(ngx_http_aigw_drain_t *d,
    redisReply *reply);
static void ngx_http_aigw_drain_dead(ngx_http_aigw_drain_t *d,
    redisReply *reply, const char *why);
static ngx_uint_t ngx_http_aigw_drain_held(ngx_http_aigw_drain_t *d);
static void ngx_http_aigw_drain_give_up(ngx_http_aigw_drain_t *d);
static ngx_int_t ngx_http_aigw_drain_spill(ngx_http_aigw_drain_t *d);
static size_t ngx_http_aigw_batch_cut(u_char *buf, size_t len,
    ngx_uint_t *records, ngx_uint_t *bad);


static ngx_http_aigw_drain_t  ngx_http_aigw_drain;


ngx_int_t
ngx_http_aigw_counter_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_aigw_module);

    if (amcf->redis
        && ngx_http_aigw_redis_init_conf(cf, amcf->redis) != NGX_OK)
    {
        return NGX_ERROR;
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_aigw_counter_log_handler;

    return NGX_OK;
}


/* the request's usage record, committed before the request is freed */

static ngx_int_t
ngx_http_aigw_counter_log_handler(ngx_http_request_t *r)
{
    u_char                     *p;
    ngx_tm_t                    tm;
    ngx_int_t                   rc;
    ngx_str_t                   model;
    aigw_usage_t               *u;
    aigw_record_t               rec;
    ngx_http_aigw_ctx_t        *ctx;
    ngx_http_aigw_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_aigw_module);

    if (amcf->redis == NULL || r != r->main) {
        return NGX_OK;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_aigw_module);

    if (ctx == NULL || ctx->status != NGX_OK || ctx->tenant == NULL
        || ctx->counted)
    {
        return NGX_OK;
    }

    ctx->counted = 1;

    u = ngx_http_aigw_usage_result(r, ctx);

    ngx_memzero(&rec, sizeof(aigw_record_t));

    ngx_gmtime(r->start_sec, &tm);
    (void) ngx_sprintf((u_char *) rec.date, "%4d-%02d-%02d",
                       tm.ngx_tm_year, tm.ngx_tm_mon, tm.ngx_tm_mday);

    rec.tenant = ctx->tenant->id;

    ngx_http_aigw_counter_model(ctx, u, &model);
    rec.model.data = (char *) model.data;
    rec.model.len = model.len;

    rec.v[AIGW_F_REQUESTS] = 1;
    rec.v[AIGW_F_LATENCY] = ngx_min(ngx_http_aigw_elapsed_ms(r),
                                    AIGW_RECORD_VALUE_MAX);

    if (ngx_http_aigw_cost(r, ctx, &rec.v[AIGW_F_COST]) != NGX_OK) {
        rec.v[AIGW_F_COST] = 0;

    } else if (rec.v[AIGW_F_COST] > AIGW_RECORD_VALUE_MAX) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "aigw: the cost of one request of tenant \"%*s\", "
                      "%uL nano-USD, is over the most a record holds "
                      "(check the pricing file): counted as %uL",
                      rec.tenant.len, rec.tenant.data, rec.v[AIGW_F_COST],
                      (uint64_t) AIGW_RECORD_VALUE_MAX);
        rec.v[AIGW_F_COST] = AIGW_RECORD_VALUE_MAX;
    }

    if (u && u->images && u->image_size[0]) {
        /* priced by size and quality: "1024x1024:premium" */
        p = ngx_pnalloc(r->pool, AIGW_RECORD_CLASS_MAX);
        if (p == NULL) {
            return NGX_ERROR;
        }

        rec.image_class.data = (char *) p;
        rec.image_class.len = ngx_snprintf(p, AIGW_RECORD_CLASS_MAX, "%s:%s",
                                           u->image_size,
                                           u->image_quality[0]
                                           ? u->image_quality : "standard")
                              - p;

        if (!aigw_record_class_valid(rec.image_class.data,
                                     rec.image_class.len))
        {
            rec.image_class.len = 0;
        }
    }

    if (u) {
        rec.v[AIGW_F_INPUT] = u->input_tokens;
        rec.v[AIGW_F_OUTPUT] = u->output_tokens;
        rec.v[AIGW_F_CACHE_READ] = u->cache_read_input_tokens;
        rec.v[AIGW_F_CACHE_WRITE] = u->cache_write_input_tokens;
        rec.v[AIGW_F_IMAGES] = u->images;
        rec.v[AIGW_F_ERRORS] = u->error;
        rec.v[AIGW_F_THROTTLED] = u->throttled;
    }

    rc = ngx_http_aigw_queue_push(amcf->redis, &rec, r->connection->log);

    if (rc == NGX_DECLINED) {
        ngx_http_aigw_counter_overflow(amcf->redis, &rec, r->connection->log);
    }

    return NGX_OK;
}


void
ngx_http_aigw_counter_model(ngx_http_aigw_ctx_t *ctx, aigw_usage_t *u,
    ngx_str_t *model)
{
    if (u && ctx->metering && !ctx->usage_skip_body
        && (u->status == NGX_HTTP_BAD_REQUEST
            || u->status == NGX_HTTP_FORBIDDEN
            || u->status == NGX_HTTP_NOT_FOUND))
    {
        /*
         * AWS refused the request as invalid (a model ID that does not
         * exist, say): one bucket, not one Redis hash (or one metrics
         * series) per made-up ID
         */
        ngx_str_set(model, AIGW_RECORD_MODEL_INVALID);
        return;
    }

    *model = ctx->billing_model;
}


/* the queue is full: the record goes to this worker's overflow file */

static void
ngx_http_aigw_counter_overflow(ngx_http_aigw_redis_conf_t *rc,
    aigw_record_t *rec, ngx_log_t *log)
{
    u_char                  buf[AIGW_RECORD_MAX];
    size_t                  size;
    ngx_int_t               rv;
    ngx_http_aigw_drain_t  *d;

    d = &ngx_http_aigw_drain;

    ngx_memcpy(rec->stream, d->ov_stream, AIGW_STREAM_ID_LEN);
    rec->seq = ++d->ov_seq;

    if (d->ov_first == 0) {
        d->ov_first = rec->seq;
    }

    size = aigw_record_encode(buf, rec);

    rv = (size == 0) ? NGX_ERROR
                     : ngx_http_aigw_journal_append(rc, buf, size,
                                                    d->ov_stream, d->ov_first,
                                                    log);

    if (rv == NGX_AGAIN) {
        /* the file is being claimed for replay: a new one, named after
           this record (the one claimed holds only earlier records) */
        d->ov_first = rec->seq;
        rv = ngx_http_aigw_journal_append(rc, buf, size, d->ov_stream,
                                          d->ov_first, log);
    }

    if (rv != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "aigw: the usage queue is full and the journal cannot "
                      "be written (disk full?): the usage of this request "
                      "of tenant \"%*s\" is lost",
                      rec->tenant.len, rec->tenant.data);
        return;
    }

    ngx_http_aigw_queue_overflowed(rc);

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "aigw: the usage queue is full, usage goes to the "
                  "journal");
}


ngx_int_t
ngx_http_aigw_counter_init_worker(ngx_cycle_t *cycle,
    ngx_http_aigw_redis_conf_t *rc)
{
    ngx_http_aigw_drain_t  *d;

    d = &ngx_http_aigw_drain;

    ngx_memzero(d, sizeof(ngx_http_aigw_drain_t));

    d->rc = rc;
    d->log = cycle->log;
    d->jfile.fd = NGX_INVALID_FILE;
    d->jfile.log = cycle->log;
    d->scan = 1;

    d->buf = ngx_alloc(NGX_HTTP_AIGW_BATCH_BYTES, cycle->log);
    if (d->buf == NULL) {
        return NGX_ERROR;
    }

    if (RAND_bytes(d->ov_stream, AIGW_STREAM_ID_LEN) != 1) {
        return NGX_ERROR;
    }

    aigw_record_script_sha1(d->sha1);

    d->timer.handler = ngx_http_aigw_drain_tick;
    d->timer.data = d;
    d->timer.log = cycle->log;

    if (ngx_http_aigw_redis_start(cycle, NGX_HTTP_AIGW_REDIS_COUNTER, rc,
                                  ngx_http_aigw_drain_ready)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_IDLE);

    return NGX_OK;
}


/*
 * The worker exits: what is left in the queue goes to the journal, if no
 * other live worker drains it; the Redis connection is closed.
 */

void
ngx_http_aigw_counter_exit_worker(ngx_cycle_t *cycle)
{
    ngx_http_aigw_drain_t  *d;

    d = &ngx_http_aigw_drain;

    if (d->rc == NULL) {
        return;
    }

    d->closing = 1;

    if (d->timer.timer_set) {
        ngx_del_timer(&d->timer);
    }

    if (ngx_http_aigw_queue_lease(d->rc, 1)) {
        while (ngx_http_aigw_drain_spill(d) == NGX_OK) {
            /* void */
        }

        ngx_http_aigw_queue_release(d->rc);
    }

    ngx_http_aigw_redis_close(NGX_HTTP_AIGW_REDIS_COUNTER);

    if (d->jfile.fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(d->jfile.fd);
        d->jfile.fd = NGX_INVALID_FILE;
    }

    if (d->jpool) {
        ngx_destroy_pool(d->jpool);
        d->jpool = NULL;
    }

    ngx_free(d->buf);
    d->buf = NULL;
    d->rc = NULL;
}


static void
ngx_http_aigw_drain_ready(ngx_event_t *ev)
{
    ngx_http_aigw_drain_t  *d;

    d = &ngx_http_aigw_drain;

    /* a journal may have grown while Redis was away */
    d->scan = 1;

    if (!d->busy) {
        ngx_http_aigw_drain_arm(d, 0);
    }
}


static void
ngx_http_aigw_drain_tick(ngx_event_t *ev)
{
    size_t                  n;
    uint64_t                gen;
    ngx_int_t               rc;
    ngx_http_aigw_drain_t  *d;

    d = ev->data;

    if (d->closing) {
        return;
    }

    if (d->busy) {
        /* the reply, or the Redis client's timeout, comes first */
        ngx_http_aigw_drain_arm(d, d->rc->timeout);
        return;
    }

    if (!ngx_http_aigw_queue_lease(d->rc, 1)) {
        /* another worker drains; when it stops, look at the journal first */
        d->leased = 0;
        ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_LEASE_MS / 3);
        return;
    }

    if (!d->leased) {
        d->leased = 1;
        d->scan = 1;
    }

    if (!ngx_http_aigw_redis_ready(NGX_HTTP_AIGW_REDIS_COUNTER)
        || ngx_http_aigw_drain_held(d))
    {

        /*
         * Redis is away, or cannot count for now: the queue keeps
         * records up to half its size, the journal takes the rest (all
         * of it when the worker exits: it does not wait for Redis)
         */

        while (ngx_http_aigw_queue_fill(d->rc)
               > (ngx_exiting ? 0 : d->rc->queue_size / 2))
        {
            if (ngx_http_aigw_drain_spill(d) != NGX_OK) {

                if (ngx_exiting) {
                    /* the journal cannot be written: nothing more to do */
                    ngx_log_error(NGX_LOG_ALERT, d->log, 0,
                                  "aigw: Redis is away and the journal "
                                  "cannot be written: the usage left in "
                                  "the queue is lost when nginx stops");
                }

                break;
            }
        }

        if (ngx_exiting) {
            ngx_http_aigw_drain_give_up(d);
            return;
        }

        ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_IDLE);
        return;
    }

    if (d->scan || d->replaying
        || ngx_current_msec - d->scanned > NGX_HTTP_AIGW_JOURNAL_SCAN)
    {
        if (ngx_http_aigw_drain_scan(d) == NGX_ERROR) {
            ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_RETRY);
            return;
        }
    }

    if (d->replaying) {
        rc = ngx_http_aigw_drain_journal(d);

        if (rc == NGX_OK) {
            return;
        }

        ngx_http_aigw_drain_arm(d, (rc == NGX_DECLINED) ? 0
                                   : (rc == NGX_AGAIN)
                                     ? NGX_HTTP_AIGW_DRAIN_LOCKED
                                     : NGX_HTTP_AIGW_DRAIN_RETRY);
        return;
    }

    n = ngx_http_aigw_queue_peek(d->rc, d->buf, NGX_HTTP_AIGW_BATCH_BYTES,
                                 &d->end, &gen);

    if (gen != d->journal_gen) {
        /* a journal file appeared since the last look: it goes first */
        d->journal_gen = gen;
        d->scan = 1;
        ngx_http_aigw_drain_arm(d, 0);
        return;
    }

    if (n == 0) {
        if (ngx_exiting) {
            ngx_http_aigw_queue_release(d->rc);
            d->leased = 0;
            return;
        }

        ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_IDLE);
        return;
    }

    d->len = n;
    d->start = d->end - n;
    d->journal = 0;

    if (ngx_http_aigw_drain_send(d) != NGX_OK) {
        ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_RETRY);
    }
}


/*
 * Arms the drainer.  While it holds records to count, its timer keeps
 * an exiting worker alive; otherwise it does not.
 */

static void
ngx_http_aigw_drain_arm(ngx_http_aigw_drain_t *d, ngx_msec_t t)
{
    if (d->closing) {
        return;
    }

    if (d->timer.timer_set) {
        ngx_del_timer(&d->timer);
    }

    d->timer.cancelable = !(d->leased
                            && (d->busy || d->replaying
                                || ngx_http_aigw_queue_fill(d->rc)));

    ngx_add_timer(&d->timer, t);
}


static ngx_int_t
ngx_http_aigw_drain_scan(ngx_http_aigw_drain_t *d)
{
    ngx_int_t  rc;

    d->scan = 0;
    d->scanned = ngx_current_msec;

    if (d->jfile.fd != NGX_INVALID_FILE) {
        /* in the middle of a file */
        d->replaying = 1;
        return NGX_OK;
    }

    if (d->jpool == NULL) {
        d->jpool = ngx_create_pool(1024, d->log);
        if (d->jpool == NULL) {
            return NGX_ERROR;
        }
    }

    /* the file found is the one ngx_http_aigw_drain_journal() opens */

    ngx_http_aigw_drain_journal_reset(d);

    rc = ngx_http_aigw_journal_next(d->rc, &d->jfile.name, d->jpool, d->log);

    if (rc == NGX_ERROR) {
        ngx_http_aigw_drain_journal_reset(d);
        return NGX_ERROR;
    }

    d->replaying = (rc == NGX_OK);

    if (rc == NGX_DECLINED) {
        ngx_http_aigw_drain_journal_reset(d);
    }

    return NGX_OK;
}


static void
ngx_http_aigw_drain_journal_reset(ngx_http_aigw_drain_t *d)
{
    ngx_reset_pool(d->jpool);
    ngx_str_null(&d->jfile.name);
}


/*
 * Sends the next batch of the journal: NGX_OK when one is in flight,
 * NGX_DECLINED when the file is done (or there is none left), NGX_ERROR
 */

static ngx_int_t
ngx_http_aigw_drain_journal(ngx_http_aigw_drain_t *d)
{
    ssize_t     n;
    ngx_int_t   rc;
    ngx_uint_t  records, bad;

    if (d->jfile.fd == NGX_INVALID_FILE) {

        if (d->jfile.name.data == NULL) {
            rc = ngx_http_aigw_journal_next(d->rc, &d->jfile.name, d->jpool,
                                            d->log);

            if (rc != NGX_OK) {
                d->replaying = 0;
                ngx_http_aigw_drain_journal_reset(d);
                return rc;
            }
        }

        rc = ngx_http_aigw_journal_claim(&d->jfile.name, &d->jfile.fd,
                                         d->log);

        if (rc != NGX_OK) {
            /* NGX_AGAIN: a writer is appending; the next scan finds it */
            d->jfile.fd = NGX_INVALID_FILE;
            ngx_http_aigw_drain_journal_reset(d);
            return (rc == NGX_DECLINED || rc == NGX_AGAIN) ? rc : NGX_ERROR;
        }

        d->joff = 0;

        ngx_log_error(NGX_LOG_NOTICE, d->log, 0,
                      "aigw: counting the usage journal \"%V\"",
                      &d->jfile.name);
    }

    n = ngx_read_file(&d->jfile, d->buf, NGX_HTTP_AIGW_BATCH_BYTES, d->joff);

    if (n == NGX_ERROR) {
        /* ngx_read_file() logged it, with the file's name */
        ngx_http_aigw_drain_journal_done(d, 0);
        return NGX_ERROR;
    }

    d->len = ngx_http_aigw_batch_cut(d->buf, n, &records, &bad);

    if (d->len == 0) {
        if (bad) {
            ngx_log_error(NGX_LOG_ALERT, d->log, 0,
                          "aigw: the usage journal \"%V\" is damaged at "
                          "offset %O: the rest of it is not counted",
                          &d->jfile.name, d->joff);

        } else if (n) {
            /* a record cut short: its writer died while writing it */
            ngx_log_error(NGX_LOG_WARN, d->log, 0,
                          "aigw: the usage journal \"%V\" ends with an "
                          "incomplete record, which is not counted",
                          &d->jfile.name);
        }

        ngx_http_aigw_drain_journal_done(d, 1);
        return NGX_DECLINED;
    }

    d->journal = 1;

    return ngx_http_aigw_drain_send(d);
}


static void
ngx_http_aigw_drain_journal_done(ngx_http_aigw_drain_t *d, ngx_uint_t remove)
{
    if (remove && ngx_delete_file(d->jfile.name.data) == NGX_FILE_ERROR
        && ngx_errno != NGX_ENOENT)
    {
        ngx_log_error(NGX_LOG_ALERT, d->log, ngx_errno,
                      "aigw: " ngx_delete_file_n " \"%V\" failed",
                      &d->jfile.name);
    }

    (void) ngx_close_file(d->jfile.fd);
    d->jfile.fd = NGX_INVALID_FILE;

    ngx_http_aigw_drain_journal_reset(d);
}


/* one EVALSHA (EVAL when Redis lost the script) of the batch in d->buf */

static ngx_int_t
ngx_http_aigw_drain_send(ngx_http_aigw_drain_t *d)
{
    u_char          *p, *numbers;
    size_t          *lens, off, size;
    ngx_int_t        rc;
    ngx_uint_t       i, f, s, nstreams, records, bad, argc;
    ngx_pool_t      *pool;
    const char     **argv;
    aigw_record_t    rec;
    u_char           streams[NGX_HTTP_AIGW_BATCH_STREAMS][AIGW_STREAM_ID_LEN];
    u_char           hex[NGX_HTTP_AIGW_BATCH_STREAMS][2 * AIGW_STREAM_ID_LEN];

    d->len = ngx_http_aigw_batch_cut(d->buf, d->len, &records, &bad);

    /* a batch names at most NGX_HTTP_AIGW_BATCH_STREAMS streams */

    nstreams = 0;
    off = 0;

    for (i = 0; i < records; i++) {
        size = aigw_record_decode(d->buf + off, d->len - off, &rec);

        for (s = 0; s < nstreams; s++) {
            if (ngx_memcmp(streams[s], rec.stream, AIGW_STREAM_ID_LEN) == 0) {
                break;
            }
        }

        if (s == nstreams) {
            if (nstreams == NGX_HTTP_AIGW_BATCH_STREAMS) {
                break;
            }

            ngx_memcpy(streams[nstreams++], rec.stream, AIGW_STREAM_ID_LEN);
        }

        off += size;
    }

    if (i < records) {
        records = i;
        d->len = off;
    }

    if (!d->journal) {
        /* the queue's batch ends where these records do */
        d->end = d->start + d->len;
    }

    d->records = records;

    if (records == 0) {
        return NGX_ERROR;
    }

    pool = ngx_create_pool(16384, d->log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    argc = 7 + nstreams + records * AIGW_RECORD_ARGS;

    argv = ngx_palloc(pool, argc * sizeof(char *));
    lens = ngx_palloc(pool, argc * sizeof(size_t));
    numbers = ngx_pnalloc(pool, (4 + records * (2 + AIGW_RECORD_FIELDS))
                                * NGX_INT64_LEN);

    if (argv == NULL || lens == NULL || numbers == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    p = numbers;
    argc = 0;

#define ngx_http_aigw_arg(s, l)                                               \
    argv[argc] = (const char *) (s); lens[argc++] = (l)

#define ngx_http_aigw_arg_num(fmt, v)                                         \
    argv[argc] = (const char *) p;                                            \
    lens[argc++] = ngx_sprintf(p, fmt, v) - p;                                \
    p += lens[argc - 1]

    if (d->eval) {
        ngx_http_aigw_arg("EVAL", 4);
        ngx_http_aigw_arg(aigw_record_script,
                          ngx_strlen(aigw_record_script));

    } else {
        ngx_http_aigw_arg("EVALSHA", 7);
        ngx_http_aigw_arg(d->sha1, 40);
    }

    ngx_http_aigw_arg("0", 1);
    ngx_http_aigw_arg(d->rc->prefix.data, d->rc->prefix.len);
    ngx_http_aigw_arg_num("%T", d->rc->seq_ttl);
    ngx_http_aigw_arg_num("%ui", d->rc->max_models);
    ngx_http_aigw_arg_num("%ui", nstreams);

    for (s = 0; s < nstreams; s++) {
        aigw_hex((char *) hex[s], streams[s], AIGW_STREAM_ID_LEN);
        ngx_http_aigw_arg(hex[s], 2 * AIGW_STREAM_ID_LEN);
    }

    off = 0;

    for (i = 0; i < records; i++) {
        off += aigw_record_decode(d->buf + off, d->len - off, &rec);

        for (s = 0; s < nstreams; s++) {
            if (ngx_memcmp(streams[s], rec.stream, AIGW_STREAM_ID_LEN) == 0) {
                break;
            }
        }

        ngx_http_aigw_arg_num("%ui", s + 1);
        ngx_http_aigw_arg_num("%uL", rec.seq);
        ngx_http_aigw_arg(rec.date, AIGW_DATE_LEN);
        ngx_http_aigw_arg(rec.tenant.data, rec.tenant.len);
        ngx_http_aigw_arg(rec.model.data, rec.model.len);
        ngx_http_aigw_arg(rec.image_class.len ? rec.image_class.data : "",
                          rec.image_class.len);

        for (f = 0; f < AIGW_RECORD_FIELDS; f++) {
            ngx_http_aigw_arg_num("%uL", rec.v[f]);
        }
    }

#undef ngx_http_aigw_arg
#undef ngx_http_aigw_arg_num

    rc = ngx_http_aigw_drain_command(d, (int) argc, argv, lens,
                                     ngx_http_aigw_drain_reply);

    /* the command is copied */
    ngx_destroy_pool(pool);

    return rc;
}


/* a command of the drainer: one in flight, which an exiting worker waits */

static ngx_int_t
ngx_http_aigw_drain_command(ngx_http_aigw_drain_t *d, int argc,
    const char **argv, const size_t *lens,
    ngx_http_aigw_redis_reply_pt handler)
{
    if (ngx_http_aigw_redis_command(NGX_HTTP_AIGW_REDIS_COUNTER, argc, argv,
                                    lens, handler, d)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    d->busy = 1;

    ngx_http_aigw_drain_arm(d, d->rc->timeout + 1000);

    return NGX_OK;
}


static void
ngx_http_aigw_drain_reply(redisReply *reply, void *data)
{
    ngx_http_aigw_drain_t *d = data;

    size_t       i;
    redisReply  *e;

    d->busy = 0;

    if (d->closing) {
        return;
    }

    if (reply == NULL) {
        /* Redis went away: the batch stays where it was */
        ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_IDLE);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {

        if (!d->eval && reply->len >= 8
            && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
        {
            /* a restarted Redis: the script travels once more */
            d->eval = 1;

            if (ngx_http_aigw_drain_send(d) != NGX_OK) {
                ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_RETRY);
            }

            return;
        }

        if (ngx_http_aigw_drain_transient(reply)) {
            /* not the batch's fault: as if Redis were away, for a while */

            (void) ngx_http_aigw_redis_failover(NGX_HTTP_AIGW_REDIS_COUNTER,
                                                reply);

            ngx_http_aigw_drain_hold(d);

            ngx_log_error(NGX_LOG_ERR, d->log, 0,
                          "aigw: redis \"%V\" cannot count now: %*s; "
                          "trying again in %M ms%s", &d->rc->address,
                          (size_t) reply->len, reply->str, d->hold,
                          (reply->len >= 5
                           && (ngx_strncmp(reply->str, "MOVED", 5) == 0
                               || ngx_strncmp(reply->str, "ASK ", 4) == 0))
                          ? " (a Redis Cluster endpoint: aigw counts into "
                            "one primary, see README)" : "");

            ngx_http_aigw_drain_arm(d, 0);
            return;
        }

        ngx_http_aigw_drain_refused(d, reply);
        return;
    }

    d->eval = 0;
    d->hold = 0;
    d->refused = 0;

    if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 1) {

        /* records refused one by one: position, reason */

        for (i = 1; i + 1 < reply->elements; i += 2) {
            e = reply->element[i + 1];

            if (e->type == REDIS_REPLY_STRING
                || e->type == REDIS_REPLY_STATUS)
            {
                ngx_log_error(NGX_LOG_ALERT, d->log, 0,
                              "aigw: redis \"%V\" refused usage record %z "
                              "of a batch: %*s", &d->rc->address,
                              (size_t) reply->element[i]->integer,
                              (size_t) e->len, e->str);
            }
        }

        ngx_http_aigw_drain_dead(d, reply, "refused");
    }

    if (d->rc->replicas) {
        /* counted by the primary: by enough replicas too, before it goes */

        if (ngx_http_aigw_drain_wait(d) != NGX_OK) {
            ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_RETRY);
        }

        return;
    }

    ngx_http_aigw_drain_done(d);
}


/* WAIT replicas timeout, after a batch the primary counted */

static ngx_int_t
ngx_http_aigw_drain_wait(ngx_http_aigw_drain_t *d)
{
    u_char       n[NGX_INT_T_LEN], ms[NGX_INT_T_LEN];
    size_t       lens[3];
    const char  *argv[3];

    argv[0] = "WAIT";
    lens[0] = 4;
    argv[1] = (const char *) n;
    lens[1] = ngx_sprintf(n, "%ui", d->rc->replicas) - n;
    argv[2] = (const char *) ms;
    lens[2] = ngx_sprintf(ms, "%M", d->rc->timeout / 2) - ms;

    return ngx_http_aigw_drain_command(d, 3, argv, lens,
                                       ngx_http_aigw_drain_waited);
}


/*
 * The replicas that have the batch: enough, and it leaves the queue; too
 * few, and it stays, to be sent again (the sequence marks make that
 * harmless) after a while, as when Redis cannot count
 */

static void
ngx_http_aigw_drain_waited(redisReply *reply, void *data)
{
    ngx_http_aigw_drain_t *d = data;

    d->busy = 0;

    if (d->closing) {
        return;
    }

    if (reply == NULL) {
        ngx_http_aigw_drain_arm(d, NGX_HTTP_AIGW_DRAIN_IDLE);
        return;
    }

    if (reply->type == REDIS_REPLY_INTEGER
        && reply->integer >= (long long) d->rc->replicas)
    {
        ngx_http_aigw_drain_done(d);
        return;
    }

    ngx_http_aigw_drain_hold(d);

    if (reply->type == REDIS_REPLY_INTEGER) {
        ngx_log_error(NGX_LOG_WARN, d->log, 0,
                      "aigw: redis \"%V\": a batch reached %L of the %ui "
                      "replicas replicas= asks for: it stays in the queue "
                      "and goes again in %M ms", &d->rc->address,
                      (int64_t) reply->integer, d->rc->replicas, d->hold);

    } else {
        ngx_log_error(NGX_LOG_ERR, d->log, 0,
                      "aigw: redis \"%V\": WAIT failed: %*s; the batch "
                      "goes again in %M ms", &d->rc->address,
                      (reply->type == REDIS_REPLY_ERROR
                       || reply->type == REDIS_REPLY_STATUS)
                      ? ngx_min((size_t) reply->len, 200) : 0,
                      reply->str, d->hold);
    }

    ngx_http_aigw_drain_arm(d, 0);
}


/* Redis cannot take the batch now: it waits, longer each time */

static void
ngx_http_aigw_drain_hold(ngx_http_aigw_drain_t *d)
{
    d->hold = d->hold ? ngx_min(2 * d->hold, NGX_HTTP_AIGW_HOLD_MAX)
                      : NGX_HTTP_AIGW_DRAIN_RETRY;
    d->hold_until = ngx_current_msec + d->hold;
}


/* the batch in d->buf is counted (or set aside): the next one */

static void
ngx_http_aigw_drain_done(ngx_http_aigw_drain_t *d)
{
    if (d->journal) {
        d->joff += d->len;
        ngx_http_aigw_queue_replayed(d->rc, d->records);

    } else {
        ngx_http_aigw_queue_take(d->rc, d->end, 0, d->records);
    }

    ngx_http_aigw_drain_arm(d, 0);
}


/*
 * Errors that say nothing of the batch: Redis loading its data, a
 * replica, out of memory, busy, an ACL or AUTH problem, a cluster's
 * redirection.  The batch waits; any other error is the batch's own.
 */

static ngx_uint_t
ngx_http_aigw_drain_transient(redisReply *reply)
{
    size_t       n, i;
    ngx_str_t    code;

    static ngx_str_t  transient[] = {
        ngx_string("LOADING"),
        ngx_string("BUSY"),
        ngx_string("MASTERDOWN"),
        ngx_string("READONLY"),
        ngx_string("TRYAGAIN"),
        ngx_string("CLUSTERDOWN"),
        ngx_string("OOM"),
        ngx_string("NOREPLICAS"),
        ngx_string("MISCONF"),
        ngx_string("NOAUTH"),
        ngx_string("NOPERM"),
        ngx_string("WRONGPASS"),
        /* a cluster: no batch is the batch's fault there either */
        ngx_string("MOVED"),
        ngx_string("ASK"),
        ngx_string("CROSSSLOT"),
        ngx_null_string
    };

    for (n = 0; n < (size_t) reply->len && reply->str[n] != ' '; n++) {
        /* void */
    }

    code.data = (u_char *) reply->str;
    code.len = n;

    for (i = 0; transient[i].len; i++) {
        if (code.len == transient[i].len
            && ngx_strncmp(code.data, transient[i].data, code.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Redis refused the batch as a whole, and wrote nothing: once may be a
 * fluke; twice, the batch is set aside in a dead-letter file, so that
 * the queue moves on
 */

static void
ngx_http_aigw_drain_refused(ngx_http_aigw_drain_t *d, redisReply *reply)
{
    d->refused++;

    if (d->refused < 2) {
        ngx_log_error(NGX_LOG_ERR, d->log, 0,
                      "aigw: redis \"%V\" did not count a usage batch: %*s; "
                      "trying once more", &d->rc->address,
                      (size_t) reply->len, reply->str);

        ngx_http_aigw_drain_arm(d, ngx_exiting ? 0
                                               : NGX_HTTP_AIGW_DRAIN_RETRY);
        return;
    }

    ngx_log_error(NGX_LOG_ALERT, d->log, 0,
                  "aigw: redis \"%V\" refused a usage batch of %ui records "
                  "twice: %*s", &d->rc->address, d->records,
                  (size_t) reply->len, reply->str);

    d->refused = 0;

    ngx_http_aigw_drain_dead(d, NULL, "refused twice");
    ngx_http_aigw_drain_done(d);
}


/*
 * Writes records of the batch in d->buf to a dead-letter file: those the
 * script's reply names, or all of them ("reply" NULL).  They get a
 * stream of their own, numbered from 1, so that the file, renamed to
 * ".aigwj", is counted once, whatever the marks of their old streams.
 */

static void
ngx_http_aigw_drain_dead(ngx_http_aigw_drain_t *d, redisReply *reply,
    const char *why)
{
    u_char         *out, *p;
    size_t          off, size, i, n;
    uint64_t        seq;
    ngx_uint_t      pick;
    aigw_record_t   rec;
    u_char          stream[AIGW_STREAM_ID_LEN];

    out = ngx_alloc(d->len, d->log);
    if (out == NULL || RAND_bytes(stream, AIGW_STREAM_ID_LEN) != 1) {
        goto failed;
    }

    p = out;
    seq = 0;
    off = 0;

    for (n = 1; off < d->len; n++) {
        size = aigw_record_decode(d->buf + off, d->len - off, &rec);

        if (size == 0 || size == (size_t) -1) {
            break;
        }

        off += size;

        pick = (reply == NULL);

        for (i = 1; !pick && i + 1 < reply->elements; i += 2) {
            if (reply->element[i]->type == REDIS_REPLY_INTEGER
                && (size_t) reply->element[i]->integer == n)
            {
                pick = 1;
            }
        }

        if (!pick) {
            continue;
        }

        /* as it was (even an older version's, over today's bounds) */

        ngx_memcpy(p, d->buf + off - size, size);
        aigw_record_set_stream(p, stream, ++seq);
        p += size;
    }

    if (seq == 0) {
        ngx_free(out);
        return;
    }

    if (ngx_http_aigw_journal_write(d->rc, out, p - out, stream, 1, 1,
                                    d->log)
        != NGX_OK)
    {
        goto failed;
    }

    ngx_free(out);

    ngx_log_error(NGX_LOG_ALERT, d->log, 0,
                  "aigw: %uL usage records %s by redis \"%V\" are set "
                  "aside in a dead-letter file (*.aigwdead) in \"%V\": "
                  "rename it to *.aigwj to count them once the cause is "
                  "fixed", seq, why, &d->rc->address, &d->rc->journal->name);
    return;

failed:

    if (out) {
        ngx_free(out);
    }

    ngx_log_error(NGX_LOG_ALERT, d->log, 0,
                  "aigw: usage records %s by redis \"%V\" could not be "
                  "set aside and are lost", why, &d->rc->address);
}


/* Redis cannot count for now (see ngx_http_aigw_drain_transient()) */

static ngx_uint_t
ngx_http_aigw_drain_held(ngx_http_aigw_drain_t *d)
{
    if (d->hold == 0) {
        return 0;
    }

    if ((ngx_msec_int_t) (d->hold_until - ngx_current_msec) > 0) {
        return 1;
    }

    return 0;
}


/*
 * An exiting worker whose records cannot reach Redis now: the queue is in
 * the journal (or lost, as logged); a journal file being replayed stays
 * where it is for the next drainer
 */

static void
ngx_http_aigw_drain_give_up(ngx_http_aigw_drain_t *d)
{
    if (d->jfile.fd != NGX_INVALID_FILE) {
        (void) ngx_close_file(d->jfile.fd);
        d->jfile.fd = NGX_INVALID_FILE;
        ngx_http_aigw_drain_journal_reset(d);
    }

    d->replaying = 0;

    ngx_http_aigw_queue_release(d->rc);
    d->leased = 0;
}


/*
 * Moves a batch from the queue to a journal file: NGX_OK, NGX_DECLINED
 * when the queue is empty, NGX_ERROR when the journal cannot be written
 */

static ngx_int_t
ngx_http_aigw_drain_spill(ngx_http_aigw_drain_t *d)
{
    size_t         n, len;
    uint64_t       end, gen;
    ngx_uint_t     records, bad;
    aigw_record_t  rec;

    n = ngx_http_aigw_queue_peek(d->rc, d->buf, NGX_HTTP_AIGW_BATCH_BYTES,
                                 &end, &gen);
    if (n == 0) {
        return NGX_DECLINED;
    }

    /* a batch at most; the rest follows in the next file */

    len = ngx_http_aigw_batch_cut(d->buf, n, &records, &bad);

    if (len == 0 || aigw_record_decode(d->buf, len, &rec) == (size_t) -1) {
        ngx_log_error(NGX_LOG_ALERT, d->log, 0,
                      "aigw: the usage queue is damaged");
        return NGX_ERROR;
    }

    if (ngx_http_aigw_journal_write(d->rc, d->buf, len, rec.stream, rec.seq,
                                    0, d->log)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_http_aigw_queue_take(d->rc, end - n + len, 1, records);

    return NGX_OK;
}


/*
 * The whole records at the start of "buf", at most a batch of them: their
 * length; "*bad" when the bytes after them are not a record at all
 */

static size_t
ngx_http_aigw_batch_cut(u_char *buf, size_t len, ngx_uint_t *records,
    ngx_uint_t *bad)
{
    size_t         off, size;
    aigw_record_t  rec;

    off = 0;
    *records = 0;
    *bad = 0;

    while (off < len && *records < NGX_HTTP_AIGW_BATCH_RECORDS) {
        size = aigw_record_decode(buf + off, len - off, &rec);

        if (size == 0) {
            break;
        }

        if (size == (size_t) -1) {
            *bad = 1;
            break;
        }

        off += size;
        (*records)++;
    }

    return off;
}
