
/*
 * ngx_http_aigw_module: limits and budgets, what the two files share.
 *
 * ngx_http_aigw_limits.c        "aigw_limits", the zone, a request's
 *                               reservation, its admission on this
 *                               gateway's quotas (or alone), the settle
 * ngx_http_aigw_limits_claim.c  claims and reports to Redis on each
 *                               worker's limits connection, their answers
 */

#ifndef _NGX_HTTP_AIGW_LIMITS_H_INCLUDED_
#define _NGX_HTTP_AIGW_LIMITS_H_INCLUDED_


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

/* the workers a subject's running reservations are tracked for */
#define NGX_HTTP_AIGW_LIM_HOLDERS   32


/*
 * A worker's share of a subject's running reservations, so that those of
 * a worker that died (and never settled them) are released
 */
typedef struct {
    ngx_pid_t               pid;            /* 0: free */
    int32_t                 day;            /* as aigw_lim_state_t's */
    int32_t                 month;
    uint64_t                day_reserved;
    uint64_t                month_reserved;
} ngx_http_aigw_lim_holder_t;


typedef struct {
    u_char                  name[NGX_HTTP_AIGW_LIM_NAME];
    size_t                  len;
    uint32_t                hash;
    ngx_uint_t              used;
    uint64_t                gen;            /* moves with its subject */
    uint64_t                claim_until;    /* ms: a claim in flight */
    uint64_t                last;           /* ms: last admission */
    ngx_uint_t              dirty;          /* spend not yet reported */
    uint64_t                held_until;     /* ms: the lease Redis has */
    aigw_lim_state_t        st;
    ngx_http_aigw_lim_holder_t  holders[NGX_HTTP_AIGW_LIM_HOLDERS];
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
    uint64_t                lease;          /* ms, as sent */
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


extern ngx_http_aigw_lim_worker_t  ngx_http_aigw_lim_worker;


/* ngx_http_aigw_limits.c */
ngx_int_t ngx_http_aigw_limits_try(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_http_aigw_lim_req_t *lr);
ngx_int_t ngx_http_aigw_limits_refuse(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_http_aigw_lim_sub_t *s, int k,
    uint64_t retry);
ngx_int_t ngx_http_aigw_limits_down(ngx_http_request_t *r,
    ngx_http_aigw_ctx_t *ctx, ngx_http_aigw_lim_req_t *lr);
void ngx_http_aigw_limits_wait(ngx_http_aigw_lim_req_t *lr, ngx_msec_t ms);
size_t ngx_http_aigw_limits_name(ngx_http_aigw_lim_sub_t *s, u_char *buf);
uint64_t ngx_http_aigw_limits_now(void);

void ngx_http_aigw_limits_draw(ngx_http_aigw_lim_slot_t *slot,
    const aigw_lim_need_t *need, uint64_t now);
ngx_uint_t ngx_http_aigw_limits_reap(ngx_http_aigw_lim_slot_t *slot,
    ngx_pid_t *alive, ngx_uint_t *nalive);

/* ngx_http_aigw_limits_claim.c */
ngx_int_t ngx_http_aigw_limits_argv(ngx_http_aigw_lim_claim_t *cl,
    ngx_http_aigw_lim_shm_t *shm, const aigw_lim_need_t *need,
    uint64_t now);
ngx_int_t ngx_http_aigw_limits_send(ngx_http_aigw_lim_claim_t *cl,
    ngx_http_aigw_lim_req_t *lr);
void ngx_http_aigw_limits_release(ngx_http_aigw_lim_claim_t *cl);
void ngx_http_aigw_limits_away(ngx_uint_t away, ngx_log_t *log);
void ngx_http_aigw_limits_next(void);


#endif /* _NGX_HTTP_AIGW_LIMITS_H_INCLUDED_ */
