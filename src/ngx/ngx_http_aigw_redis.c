
/*
 * ngx_http_aigw_module: the Redis client.
 *
 * hiredis 0.14's asynchronous API on nginx's event loop: one connection
 * per worker, a non-blocking connect, level-triggered read and write
 * events on an nginx connection wrapping hiredis's socket, and nginx
 * timers for what hiredis 0.14 has not (connect and reply timeouts),
 * reconnecting with a backoff.  hiredis resolves host names with blocking
 * DNS: addresses are IPs or unix sockets.  A worker has two connections,
 * one for the counter and one for the limits, so that a batch of records
 * never delays a request's admission; on each, one command is in flight
 * at a time.
 */


#include <hiredis/async.h>

#include "ngx_http_aigw_counter.h"


#define NGX_HTTP_AIGW_REDIS_DOWN        0
#define NGX_HTTP_AIGW_REDIS_CONNECTING  1
#define NGX_HTTP_AIGW_REDIS_READY       2

#define NGX_HTTP_AIGW_BACKOFF_MIN       100
#define NGX_HTTP_AIGW_BACKOFF_MAX       5000


typedef struct {
    ngx_http_aigw_redis_conf_t     *rc;
    redisAsyncContext              *ac;
    ngx_connection_t               *c;
    ngx_log_t                      *log;
    ngx_uint_t                      state;
    ngx_msec_t                      backoff;
    ngx_event_t                     timer;
    ngx_event_t                     ready;

    ngx_http_aigw_redis_reply_pt    handler;
    void                           *data;

    const char                     *away;   /* what is done meanwhile */
} ngx_http_aigw_redis_t;


static void ngx_http_aigw_redis_connect(ngx_http_aigw_redis_t *rd);
static void ngx_http_aigw_redis_fail(ngx_http_aigw_redis_t *rd,
    const char *why);
static void ngx_http_aigw_redis_gone(ngx_http_aigw_redis_t *rd);
static void ngx_http_aigw_redis_timer(ngx_event_t *ev);
static void ngx_http_aigw_redis_handshake(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_aigw_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_aigw_redis_connected(const redisAsyncContext *ac,
    int status);
static void ngx_http_aigw_redis_disconnected(const redisAsyncContext *ac,
    int status);
static void ngx_http_aigw_redis_read_handler(ngx_event_t *ev);
static void ngx_http_aigw_redis_write_handler(ngx_event_t *ev);
static void ngx_http_aigw_redis_add_read(void *data);
static void ngx_http_aigw_redis_del_read(void *data);
static void ngx_http_aigw_redis_add_write(void *data);
static void ngx_http_aigw_redis_del_write(void *data);
static void ngx_http_aigw_redis_cleanup(void *data);


static ngx_http_aigw_redis_t  ngx_http_aigw_redis_clients[2];


ngx_int_t
ngx_http_aigw_redis_start(ngx_cycle_t *cycle, ngx_uint_t id,
    ngx_http_aigw_redis_conf_t *rc, ngx_event_handler_pt ready)
{
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_clients[id];

    ngx_memzero(rd, sizeof(ngx_http_aigw_redis_t));

    /* the limits say it themselves, once for all workers */
    rd->away = (id == NGX_HTTP_AIGW_REDIS_COUNTER)
               ? "usage is kept in the queue" : NULL;

    rd->rc = rc;
    rd->log = cycle->log;
    rd->backoff = NGX_HTTP_AIGW_BACKOFF_MIN;

    rd->timer.handler = ngx_http_aigw_redis_timer;
    rd->timer.data = rd;
    rd->timer.log = cycle->log;
    rd->timer.cancelable = 1;

    rd->ready.handler = ready;
    rd->ready.data = rd;
    rd->ready.log = cycle->log;

    ngx_http_aigw_redis_connect(rd);

    return NGX_OK;
}


ngx_uint_t
ngx_http_aigw_redis_ready(ngx_uint_t id)
{
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_clients[id];

    return rd->state == NGX_HTTP_AIGW_REDIS_READY && rd->handler == NULL;
}


/* a connection being made */

ngx_uint_t
ngx_http_aigw_redis_connecting(ngx_uint_t id)
{
    return ngx_http_aigw_redis_clients[id].state
           == NGX_HTTP_AIGW_REDIS_CONNECTING;
}


/* connected: a command may be in flight */

ngx_uint_t
ngx_http_aigw_redis_up(ngx_uint_t id)
{
    return ngx_http_aigw_redis_clients[id].state
           == NGX_HTTP_AIGW_REDIS_READY;
}


/*
 * Sends a command: its reply, or NULL if Redis went away or did not
 * answer in time, goes to "handler".  NGX_DECLINED when Redis is not ready
 * or a command is in flight.
 */

ngx_int_t
ngx_http_aigw_redis_command(ngx_uint_t id, int argc, const char **argv,
    const size_t *argvlen, ngx_http_aigw_redis_reply_pt handler, void *data)
{
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_clients[id];

    if (rd->state != NGX_HTTP_AIGW_REDIS_READY || rd->handler) {
        return NGX_DECLINED;
    }

    if (redisAsyncCommandArgv(rd->ac, ngx_http_aigw_redis_reply, rd, argc,
                              argv, argvlen)
        != REDIS_OK)
    {
        ngx_http_aigw_redis_fail(rd, "could not send a command");
        return NGX_ERROR;
    }

    rd->handler = handler;
    rd->data = data;

    ngx_add_timer(&rd->timer, rd->rc->timeout);

    return NGX_OK;
}


/* at the worker's exit: nginx must find no socket of ours left open */

void
ngx_http_aigw_redis_close(ngx_uint_t id)
{
    redisAsyncContext      *ac;
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_clients[id];

    if (rd->rc == NULL) {
        /* never started */
        return;
    }

    if (rd->ready.posted) {
        ngx_delete_posted_event(&rd->ready);
    }

    rd->backoff = 0;
    rd->handler = NULL;
    rd->state = NGX_HTTP_AIGW_REDIS_DOWN;

    ac = rd->ac;

    ngx_http_aigw_redis_gone(rd);

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    if (ac) {
        redisAsyncFree(ac);
    }
}


static void
ngx_http_aigw_redis_connect(ngx_http_aigw_redis_t *rd)
{
    redisAsyncContext           *ac;
    ngx_connection_t            *c;
    ngx_http_aigw_redis_conf_t  *rc;

    rc = rd->rc;

    if (rc->unix_path.len) {
        ac = redisAsyncConnectUnix((char *) rc->unix_path.data);

    } else {
        ac = redisAsyncConnect((char *) rc->host.data, (int) rc->port);
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "aigw: redis \"%V\": %s", &rc->address,
                      ac ? ac->errstr : "out of memory");
        if (ac) {
            redisAsyncFree(ac);
        }

        ngx_http_aigw_redis_gone(rd);
        return;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_http_aigw_redis_gone(rd);
        return;
    }

    c->data = rd;
    c->read->handler = ngx_http_aigw_redis_read_handler;
    c->write->handler = ngx_http_aigw_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    rd->ac = ac;
    rd->c = c;
    rd->state = NGX_HTTP_AIGW_REDIS_CONNECTING;

    ac->data = rd;
    ac->ev.data = rd;
    ac->ev.addRead = ngx_http_aigw_redis_add_read;
    ac->ev.delRead = ngx_http_aigw_redis_del_read;
    ac->ev.addWrite = ngx_http_aigw_redis_add_write;
    ac->ev.delWrite = ngx_http_aigw_redis_del_write;
    ac->ev.cleanup = ngx_http_aigw_redis_cleanup;

    (void) redisAsyncSetConnectCallback(ac, ngx_http_aigw_redis_connected);
    (void) redisAsyncSetDisconnectCallback(ac,
                                           ngx_http_aigw_redis_disconnected);

    /* the handshake is pipelined behind the connect */

    if (rc->password.len) {
        (void) redisAsyncCommand(ac, ngx_http_aigw_redis_handshake, NULL,
                                 "AUTH %s", rc->password.data);
    }

    if (rc->db) {
        (void) redisAsyncCommand(ac, ngx_http_aigw_redis_handshake, NULL,
                                 "SELECT %d", (int) rc->db);
    }

    (void) redisAsyncCommand(ac, ngx_http_aigw_redis_handshake, rd, "PING");

    ngx_add_timer(&rd->timer, rc->timeout);
}


/* gives up the connection */

static void
ngx_http_aigw_redis_fail(ngx_http_aigw_redis_t *rd, const char *why)
{
    redisAsyncContext  *ac;

    ngx_log_error(NGX_LOG_ERR, rd->log, 0, "aigw: redis \"%V\": %s",
                  &rd->rc->address, why);

    ac = rd->ac;

    ngx_http_aigw_redis_gone(rd);

    if (ac) {
        /* its callbacks find it is not rd->ac any more */
        redisAsyncFree(ac);
    }
}


/*
 * The context is gone, or going (hiredis frees it): it is not used again;
 * a command in flight fails, and a reconnect is scheduled
 */

static void
ngx_http_aigw_redis_gone(ngx_http_aigw_redis_t *rd)
{
    ngx_http_aigw_redis_reply_pt  handler;

    if (rd->state == NGX_HTTP_AIGW_REDIS_DOWN && rd->ac == NULL
        && (rd->timer.timer_set || rd->backoff == 0))
    {
        /* already handled */
        return;
    }

    if (rd->state == NGX_HTTP_AIGW_REDIS_READY && rd->away) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "aigw: redis \"%V\" is away, %s",
                      &rd->rc->address, rd->away);
    }

    rd->ac = NULL;
    rd->state = NGX_HTTP_AIGW_REDIS_DOWN;

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    if (rd->backoff) {
        ngx_add_timer(&rd->timer, rd->backoff);
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_AIGW_BACKOFF_MAX);
    }

    if (rd->handler) {
        handler = rd->handler;
        rd->handler = NULL;
        handler(NULL, rd->data);
    }
}


static void
ngx_http_aigw_redis_timer(ngx_event_t *ev)
{
    ngx_http_aigw_redis_t *rd = ev->data;

    switch (rd->state) {

    case NGX_HTTP_AIGW_REDIS_CONNECTING:
        ngx_http_aigw_redis_fail(rd, "connect timed out");
        return;

    case NGX_HTTP_AIGW_REDIS_READY:
        ngx_http_aigw_redis_fail(rd, "no reply in time");
        return;

    default:
        ngx_http_aigw_redis_connect(rd);
        return;
    }
}


static void
ngx_http_aigw_redis_handshake(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply             *reply = r;
    ngx_http_aigw_redis_t  *rd;

    rd = ac->data;

    if (reply == NULL || rd == NULL || rd->ac != ac) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        /* AUTH's and SELECT's errors name no password */
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "aigw: redis \"%V\" refused the connection: %*s",
                      &rd->rc->address, (size_t) reply->len, reply->str);

        ngx_http_aigw_redis_fail(rd, "handshake failed");
        return;
    }

    if (privdata == NULL) {
        return;
    }

    /* PONG: ready */

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    rd->state = NGX_HTTP_AIGW_REDIS_READY;
    rd->backoff = NGX_HTTP_AIGW_BACKOFF_MIN;

    ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                  "aigw: redis \"%V\" connected", &rd->rc->address);

    ngx_post_event(&rd->ready, &ngx_posted_events);
}


static void
ngx_http_aigw_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    ngx_http_aigw_redis_t *rd = privdata;

    ngx_http_aigw_redis_reply_pt  handler;

    if (rd->ac != ac) {
        return;
    }

    if (r == NULL) {
        /* hiredis is freeing the context */
        ngx_http_aigw_redis_gone(rd);
        return;
    }

    if (rd->handler == NULL) {
        return;
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    handler = rd->handler;
    rd->handler = NULL;

    handler(r, rd->data);
}


static void
ngx_http_aigw_redis_connected(const redisAsyncContext *ac, int status)
{
    ngx_http_aigw_redis_t  *rd;

    rd = ac->data;

    if (status == REDIS_OK || rd == NULL || rd->ac != ac) {
        return;
    }

    /* hiredis frees the context once this returns */

    ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                  "aigw: redis \"%V\": connect failed: %s",
                  &rd->rc->address, ac->errstr);

    ngx_http_aigw_redis_gone(rd);
}


static void
ngx_http_aigw_redis_disconnected(const redisAsyncContext *ac, int status)
{
    ngx_http_aigw_redis_t  *rd;

    rd = ac->data;

    if (rd == NULL || rd->ac != ac) {
        return;
    }

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "aigw: redis \"%V\": %s", &rd->rc->address,
                      ac->errstr);
    }

    ngx_http_aigw_redis_gone(rd);
}


static void
ngx_http_aigw_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_aigw_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    if (rd->ac) {
        redisAsyncHandleRead(rd->ac);
    }
}


static void
ngx_http_aigw_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_aigw_redis_t  *rd;

    c = ev->data;
    rd = c->data;

    if (rd->ac) {
        redisAsyncHandleWrite(rd->ac);
    }
}


/*
 * hiredis reads and writes what one call allows and expects to be called
 * again while the socket stays ready: level-triggered events
 */

static void
ngx_http_aigw_redis_add_read(void *data)
{
    ngx_http_aigw_redis_t *rd = data;

    if (rd->c && !rd->c->read->active) {
        (void) ngx_add_event(rd->c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_aigw_redis_del_read(void *data)
{
    ngx_http_aigw_redis_t *rd = data;

    if (rd->c && rd->c->read->active) {
        (void) ngx_del_event(rd->c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_aigw_redis_add_write(void *data)
{
    ngx_http_aigw_redis_t *rd = data;

    if (rd->c && !rd->c->write->active) {
        (void) ngx_add_event(rd->c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }
}


static void
ngx_http_aigw_redis_del_write(void *data)
{
    ngx_http_aigw_redis_t *rd = data;

    if (rd->c && rd->c->write->active) {
        (void) ngx_del_event(rd->c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket right after: the nginx connection goes first */

static void
ngx_http_aigw_redis_cleanup(void *data)
{
    ngx_http_aigw_redis_t *rd = data;

    ngx_connection_t  *c;

    c = rd->c;

    if (c == NULL) {
        return;
    }

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;
    rd->c = NULL;
}
