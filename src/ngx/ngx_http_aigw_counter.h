
/*
 * ngx_http_aigw_module: counting usage in Redis, exactly once.
 *
 *   log phase  --record-->  queue (shared memory)  --batches-->  Redis
 *                                    |                        ^
 *                                    +--> journal (disk) -----+
 *
 * ngx_http_aigw_queue.c       the queue: a ring of records in shared
 *                             memory, which outlives a crashed worker
 *                             and a reload
 * ngx_http_aigw_redis_conf.c  "aigw_redis": the Redis address, its
 *                             credentials and TLS, options, the queue's
 *                             zone, the journal directory
 * ngx_http_aigw_redis.c       the Redis client: nginx peer connections
 *                             (ngx_http_aigw_peer.c), hiredis's command
 *                             formatter and reply reader; two per worker
 * ngx_http_aigw_journal.c     append-only journal files, for when Redis
 *                             is away longer than the queue can hold
 * ngx_http_aigw_counter.c     the log-phase record and the drainer: one
 *                             worker at a time (a lease in the queue)
 *                             sends the journal, then the queue, to Redis
 */

#ifndef _NGX_HTTP_AIGW_COUNTER_H_INCLUDED_
#define _NGX_HTTP_AIGW_COUNTER_H_INCLUDED_


#include <hiredis/hiredis.h>

#include "ngx_http_aigw_module.h"
#include "aigw_record.h"


/* the drainer's lease: renewed while held, taken over when it lapses */
#define NGX_HTTP_AIGW_LEASE_MS        3000


typedef struct {
    u_char                  stream[AIGW_STREAM_ID_LEN];
    uint64_t                seq;            /* the last one given */
    uint64_t                head;           /* bytes ever queued */
    uint64_t                tail;           /* bytes ever taken */
    size_t                  size;           /* of the ring */
    u_char                 *ring;

    ngx_pid_t               lease_pid;
    uint64_t                lease_until;    /* ms since the epoch */

    uint64_t                journal_gen;    /* moves at each journal write */

    /* for the logs and the tests */
    uint64_t                queued;
    uint64_t                counted;
    uint64_t                journaled;
    uint64_t                overflowed;
    uint64_t                replayed;       /* journal records counted */
} ngx_http_aigw_queue_t;


/* the queue */
ngx_int_t ngx_http_aigw_queue_add(ngx_conf_t *cf,
    ngx_http_aigw_redis_conf_t *rc);
ngx_int_t ngx_http_aigw_queue_push(ngx_http_aigw_redis_conf_t *rc,
    aigw_record_t *rec, ngx_log_t *log);
size_t ngx_http_aigw_queue_peek(ngx_http_aigw_redis_conf_t *rc, u_char *buf,
    size_t max, uint64_t *end, uint64_t *journal_gen);
void ngx_http_aigw_queue_take(ngx_http_aigw_redis_conf_t *rc, uint64_t end,
    ngx_uint_t journaled, ngx_uint_t records);
void ngx_http_aigw_queue_overflowed(ngx_http_aigw_redis_conf_t *rc);
void ngx_http_aigw_queue_replayed(ngx_http_aigw_redis_conf_t *rc,
    ngx_uint_t records);
void ngx_http_aigw_queue_stats(ngx_http_aigw_redis_conf_t *rc,
    uint64_t *queued, int64_t *journal);
size_t ngx_http_aigw_queue_fill(ngx_http_aigw_redis_conf_t *rc);
ngx_uint_t ngx_http_aigw_queue_lease(ngx_http_aigw_redis_conf_t *rc,
    ngx_uint_t take);
void ngx_http_aigw_queue_release(ngx_http_aigw_redis_conf_t *rc);


/* the model a request is counted under ("_invalid", ...) */
void ngx_http_aigw_counter_model(ngx_http_aigw_ctx_t *ctx, aigw_usage_t *u,
    ngx_str_t *model);


/* "aigw_redis", once http{} is read */
ngx_int_t ngx_http_aigw_redis_init_conf(ngx_conf_t *cf,
    ngx_http_aigw_redis_conf_t *rc);

/* the Redis client */
typedef void (*ngx_http_aigw_redis_reply_pt)(redisReply *reply, void *data);

/* a worker's connections */
#define NGX_HTTP_AIGW_REDIS_COUNTER   0
#define NGX_HTTP_AIGW_REDIS_LIMITS    1

ngx_int_t ngx_http_aigw_redis_start(ngx_cycle_t *cycle, ngx_uint_t id,
    ngx_http_aigw_redis_conf_t *rc, ngx_event_handler_pt ready);
ngx_uint_t ngx_http_aigw_redis_ready(ngx_uint_t id);
ngx_uint_t ngx_http_aigw_redis_up(ngx_uint_t id);
ngx_uint_t ngx_http_aigw_redis_connecting(ngx_uint_t id);
ngx_int_t ngx_http_aigw_redis_command(ngx_uint_t id, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_aigw_redis_reply_pt handler, void *data);
void ngx_http_aigw_redis_close(ngx_uint_t id);
ngx_uint_t ngx_http_aigw_redis_failover(ngx_uint_t id, redisReply *reply);


/* the journal */
ngx_int_t ngx_http_aigw_journal_write(ngx_http_aigw_redis_conf_t *rc,
    u_char *records, size_t len, u_char *stream, uint64_t first,
    ngx_uint_t dead, ngx_log_t *log);
ngx_int_t ngx_http_aigw_journal_append(ngx_http_aigw_redis_conf_t *rc,
    u_char *record, size_t len, u_char *stream, uint64_t first,
    ngx_log_t *log);
ngx_int_t ngx_http_aigw_journal_next(ngx_http_aigw_redis_conf_t *rc,
    ngx_str_t *name, ngx_pool_t *pool, ngx_log_t *log);
ngx_int_t ngx_http_aigw_journal_claim(ngx_str_t *name, ngx_fd_t *fd,
    ngx_log_t *log);


#endif /* _NGX_HTTP_AIGW_COUNTER_H_INCLUDED_ */
