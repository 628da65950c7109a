
/*
 * ngx_http_aigw_module: the usage queue in shared memory.
 *
 * A ring of encoded records (aigw_record.h).  A request's record is
 * committed here at the log phase, before the request is freed: the ring
 * lives in nginx's shared memory, so it survives the crash of the worker
 * that wrote it, and a reload (the zone is kept when its size is).  Every
 * record gets the queue's stream id and the next sequence number.  Whole
 * records leave the ring in order: to Redis, or to the journal.  The
 * zone's slab mutex, which nginx frees when its holder dies, guards the
 * ring; the drainer's lease lives here too.
 */


#include <openssl/rand.h>

#include "ngx_http_aigw_counter.h"


static ngx_int_t ngx_http_aigw_queue_init(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_http_aigw_queue_t *ngx_http_aigw_queue_get(
    ngx_http_aigw_redis_conf_t *rc, ngx_slab_pool_t **shpool);
static void ngx_http_aigw_queue_copy_out(ngx_http_aigw_queue_t *q, u_char *dst,
    uint64_t from, size_t len);
static uint64_t ngx_http_aigw_now_ms(void);


ngx_int_t
ngx_http_aigw_queue_add(ngx_conf_t *cf, ngx_http_aigw_redis_conf_t *rc)
{
    ngx_str_t  name;

    ngx_str_set(&name, "aigw_usage");

    rc->zone = ngx_shared_memory_add(cf, &name, rc->queue_size,
                                     &ngx_http_aigw_module);
    if (rc->zone == NULL) {
        return NGX_ERROR;
    }

    if (rc->zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "shared memory zone \"aigw_usage\" is used "
                           "twice");
        return NGX_ERROR;
    }

    rc->zone->init = ngx_http_aigw_queue_init;
    rc->zone->data = rc;

    return NGX_OK;
}


static ngx_int_t
ngx_http_aigw_queue_init(ngx_shm_zone_t *shm_zone, void *data)
{
    size_t                  size;
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data || shm_zone->shm.exists) {
        /* a reload: the queue goes on, records, stream and all */
        return NGX_OK;
    }

    q = ngx_slab_calloc(shpool, sizeof(ngx_http_aigw_queue_t));
    if (q == NULL) {
        return NGX_ERROR;
    }

    /* the ring takes what the slab allocator can give in one piece */

    for (size = shm_zone->shm.size / 8 * 7; size >= ngx_pagesize;
         size = size / 8 * 7)
    {
        size = ngx_align(size, ngx_pagesize) - ngx_pagesize;

        q->ring = ngx_slab_alloc(shpool, size);
        if (q->ring) {
            break;
        }
    }

    if (q->ring == NULL) {
        return NGX_ERROR;
    }

    q->size = size;

    if (RAND_bytes(q->stream, AIGW_STREAM_ID_LEN) != 1) {
        return NGX_ERROR;
    }

    shpool->data = q;

    shpool->log_ctx = ngx_slab_alloc(shpool,
                                     sizeof(" in aigw usage queue") - 1 + 1);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in aigw usage queue%Z");

    return NGX_OK;
}


static ngx_http_aigw_queue_t *
ngx_http_aigw_queue_get(ngx_http_aigw_redis_conf_t *rc,
    ngx_slab_pool_t **shpool)
{
    *shpool = (ngx_slab_pool_t *) rc->zone->shm.addr;
    return (*shpool)->data;
}


/*
 * Commits a record: NGX_OK, or NGX_DECLINED when the ring is full (the
 * caller journals it), NGX_ERROR for a record that cannot be encoded
 */

ngx_int_t
ngx_http_aigw_queue_push(ngx_http_aigw_redis_conf_t *rc, aigw_record_t *rec,
    ngx_log_t *log)
{
    u_char                  buf[AIGW_RECORD_MAX];
    size_t                  size, off, part;
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_memcpy(rec->stream, q->stream, AIGW_STREAM_ID_LEN);
    rec->seq = 0;

    size = aigw_record_encode(buf, rec);
    if (size == 0) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "aigw: usage record of tenant \"%*s\" cannot be "
                      "encoded", rec->tenant.len, rec->tenant.data);
        return NGX_ERROR;
    }

    ngx_shmtx_lock(&shpool->mutex);

    if (q->size - (size_t) (q->head - q->tail) < size) {
        ngx_shmtx_unlock(&shpool->mutex);
        return NGX_DECLINED;
    }

    aigw_record_set_seq(buf, ++q->seq);

    off = (size_t) (q->head % q->size);
    part = ngx_min(size, q->size - off);

    ngx_memcpy(q->ring + off, buf, part);
    ngx_memcpy(q->ring, buf + part, size - part);

    q->head += size;
    q->queued++;

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


/*
 * Copies whole records from the front of the queue, at most "max" bytes;
 * "*end" is the queue offset after them, for ngx_http_aigw_queue_take();
 * "*journal_gen" tells whether a journal file appeared since the caller
 * last looked: then the journal goes to Redis first
 */

size_t
ngx_http_aigw_queue_peek(ngx_http_aigw_redis_conf_t *rc, u_char *buf,
    size_t max, uint64_t *end, uint64_t *journal_gen)
{
    u_char                  lenbuf[4];
    size_t                  n, len;
    uint64_t                from, avail;
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_shmtx_lock(&shpool->mutex);

    from = q->tail;
    avail = q->head - from;
    n = 0;

    while (n < avail) {
        ngx_http_aigw_queue_copy_out(q, lenbuf, from + n, 4);

        len = lenbuf[0] | (lenbuf[1] << 8) | (lenbuf[2] << 16)
              | ((size_t) lenbuf[3] << 24);

        if (n + len > max) {
            break;
        }

        n += len;
    }

    ngx_http_aigw_queue_copy_out(q, buf, from, n);

    *journal_gen = q->journal_gen;

    ngx_shmtx_unlock(&shpool->mutex);

    *end = from + n;

    return n;
}


/*
 * The records up to "end" are counted, or journaled: then the journal's
 * generation moves in the same step, so that a drainer which sees these
 * records gone also sees that there is a journal file to send first
 */

void
ngx_http_aigw_queue_take(ngx_http_aigw_redis_conf_t *rc, uint64_t end,
    ngx_uint_t journaled, ngx_uint_t records)
{
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_shmtx_lock(&shpool->mutex);

    if (end > q->tail) {
        q->tail = end;

        if (journaled) {
            q->journaled += records;
            q->journal_gen++;

        } else {
            q->counted += records;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


/* a record went to the journal directly (the ring was full) */

void
ngx_http_aigw_queue_overflowed(ngx_http_aigw_redis_conf_t *rc)
{
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_shmtx_lock(&shpool->mutex);
    q->overflowed++;
    q->journal_gen++;
    ngx_shmtx_unlock(&shpool->mutex);
}


/* the records of a journal file are counted in Redis */

void
ngx_http_aigw_queue_replayed(ngx_http_aigw_redis_conf_t *rc,
    ngx_uint_t records)
{
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_shmtx_lock(&shpool->mutex);
    q->replayed += records;
    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * For aigw_metrics: the records in the ring, and those journaled and not
 * replayed yet (negative while files older than the zone are replayed)
 */

void
ngx_http_aigw_queue_stats(ngx_http_aigw_redis_conf_t *rc, uint64_t *queued,
    int64_t *journal)
{
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_shmtx_lock(&shpool->mutex);

    *queued = q->queued - q->counted - q->journaled;
    *journal = (int64_t) (q->journaled + q->overflowed - q->replayed);

    ngx_shmtx_unlock(&shpool->mutex);

    /*
     * files older than the zone (a restart) are replayed without having
     * been counted in: a gauge of records does not go below 0
     */

    if (*journal < 0) {
        *journal = 0;
    }
}


size_t
ngx_http_aigw_queue_fill(ngx_http_aigw_redis_conf_t *rc)
{
    size_t                  fill;
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_shmtx_lock(&shpool->mutex);
    fill = (size_t) (q->head - q->tail);
    ngx_shmtx_unlock(&shpool->mutex);

    return fill;
}


/*
 * The drainer's lease: 1 when this worker holds it (renewed), 0 when
 * another live worker does.  With "take" 0 a lapsed lease is not taken.
 */

ngx_uint_t
ngx_http_aigw_queue_lease(ngx_http_aigw_redis_conf_t *rc, ngx_uint_t take)
{
    uint64_t                now;
    ngx_uint_t              held;
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    now = ngx_http_aigw_now_ms();
    held = 0;

    ngx_shmtx_lock(&shpool->mutex);

    if (q->lease_pid == ngx_pid
        || (take && (q->lease_pid == 0 || q->lease_until < now)))
    {
        q->lease_pid = ngx_pid;
        q->lease_until = now + NGX_HTTP_AIGW_LEASE_MS;
        held = 1;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return held;
}


void
ngx_http_aigw_queue_release(ngx_http_aigw_redis_conf_t *rc)
{
    ngx_slab_pool_t        *shpool;
    ngx_http_aigw_queue_t  *q;

    q = ngx_http_aigw_queue_get(rc, &shpool);

    ngx_shmtx_lock(&shpool->mutex);

    if (q->lease_pid == ngx_pid) {
        q->lease_pid = 0;
    }

    ngx_shmtx_unlock(&shpool->mutex);
}


static void
ngx_http_aigw_queue_copy_out(ngx_http_aigw_queue_t *q, u_char *dst,
    uint64_t from, size_t len)
{
    size_t  off, part;

    off = (size_t) (from % q->size);
    part = ngx_min(len, q->size - off);

    ngx_memcpy(dst, q->ring + off, part);
    ngx_memcpy(dst + part, q->ring, len - part);
}


static uint64_t
ngx_http_aigw_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (uint64_t) tp->sec * 1000 + tp->msec;
}
