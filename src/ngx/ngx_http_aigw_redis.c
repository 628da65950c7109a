
/*
 * ngx_http_aigw_module: the Redis client.
 *
 * An nginx peer connection (ngx_http_aigw_peer.c: a host name resolved
 * with nginx's resolver at each connect, so that a failover that moves
 * the name is followed; TLS with the certificate and the name verified;
 * or a unix socket), hiredis only to format the commands and to parse the
 * replies (its reader).  nginx timers bound the connect (resolution,
 * TLS and the handshake included) and each reply; a connection lost is
 * made again with a backoff.  The handshake (AUTH, SELECT, PING) is
 * pipelined; the connection is ready at its PONG.  A worker has two
 * connections, one for the counter and one for the limits, so that a
 * batch of records never delays a request's admission; on each, one
 * command is in flight at a time.
 */


#include "ngx_http_aigw_counter.h"
#include "ngx_http_aigw_peer.h"


#define NGX_HTTP_AIGW_REDIS_DOWN        0
#define NGX_HTTP_AIGW_REDIS_CONNECTING  1
#define NGX_HTTP_AIGW_REDIS_READY       2

#define NGX_HTTP_AIGW_BACKOFF_MIN       100
#define NGX_HTTP_AIGW_BACKOFF_MAX       5000

#define NGX_HTTP_AIGW_REDIS_READ        16384


typedef struct {
    ngx_http_aigw_redis_conf_t     *rc;
    ngx_http_aigw_peer_t            peer;
    ngx_pool_t                     *pool;    /* of the connection */
    ngx_connection_t               *c;       /* connected */
    redisReader                    *reader;
    ngx_log_t                      *log;
    ngx_log_t                       conn_log; /* its action set by TLS */
    ngx_uint_t                      state;
    ngx_uint_t                      handshake; /* replies before PONG */
    ngx_msec_t                      backoff;
    ngx_event_t                     timer;
    ngx_event_t                     ready;

    /* what is to be sent: formatted commands */
    u_char                         *out;
    size_t                          out_len;
    size_t                          out_sent;

    ngx_http_aigw_redis_reply_pt    handler;
    void                           *data;

    const char                     *away;   /* what is done meanwhile */
} ngx_http_aigw_redis_t;


static void ngx_http_aigw_redis_connect(ngx_http_aigw_redis_t *rd);
static void ngx_http_aigw_redis_connected(ngx_http_aigw_peer_t *p,
    const char *error);
static ngx_int_t ngx_http_aigw_redis_queue(ngx_http_aigw_redis_t *rd,
    int argc, const char **argv, const size_t *argvlen);
static void ngx_http_aigw_redis_fail(ngx_http_aigw_redis_t *rd,
    const char *why);
static void ngx_http_aigw_redis_gone(ngx_http_aigw_redis_t *rd);
static void ngx_http_aigw_redis_free(ngx_http_aigw_redis_t *rd);
static void ngx_http_aigw_redis_timer(ngx_event_t *ev);
static void ngx_http_aigw_redis_reply(ngx_http_aigw_redis_t *rd,
    redisReply *reply);
static void ngx_http_aigw_redis_read_handler(ngx_event_t *rev);
static void ngx_http_aigw_redis_write_handler(ngx_event_t *wev);


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

    if (ngx_http_aigw_redis_queue(rd, argc, argv, argvlen) != NGX_OK) {
        ngx_http_aigw_redis_fail(rd, "could not send a command");
        return NGX_ERROR;
    }

    rd->handler = handler;
    rd->data = data;

    ngx_add_timer(&rd->timer, rd->rc->timeout);

    /* sent from the event loop: the handler is never called from here */
    ngx_post_event(rd->c->write, &ngx_posted_events);

    return NGX_OK;
}


/* at the worker's exit: nginx must find no socket of ours left open */

void
ngx_http_aigw_redis_close(ngx_uint_t id)
{
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

    ngx_http_aigw_redis_free(rd);

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }
}


/* resolve (a name, again at each connect), connect, TLS */

static void
ngx_http_aigw_redis_connect(ngx_http_aigw_redis_t *rd)
{
    ngx_http_aigw_peer_t        *p;
    ngx_http_aigw_redis_conf_t  *rc;

    rc = rd->rc;

    rd->pool = ngx_create_pool(1024, rd->log);
    if (rd->pool == NULL) {
        ngx_http_aigw_redis_gone(rd);
        return;
    }

    rd->conn_log = *rd->log;

    p = &rd->peer;
    ngx_memzero(p, sizeof(ngx_http_aigw_peer_t));

    p->pool = rd->pool;
    p->log = &rd->conn_log;
    p->host = rc->host;
    p->port = (in_port_t) rc->port;
    p->addr = rc->unix_addr;
    p->ssl = rc->ssl;
    p->verify = rc->tls_verify;
    p->resolver = rc->resolver;
    p->resolver_timeout = rc->resolver_timeout;
    p->action = "SSL handshaking with redis";
    p->handler = ngx_http_aigw_redis_connected;
    p->data = rd;

    rd->state = NGX_HTTP_AIGW_REDIS_CONNECTING;

    /* the deadline of the whole connect, the handshake's replies included */
    ngx_add_timer(&rd->timer, rc->timeout);

    ngx_http_aigw_peer_connect(p);
}


static void
ngx_http_aigw_redis_connected(ngx_http_aigw_peer_t *p, const char *error)
{
    ngx_http_aigw_redis_t *rd = p->data;

    const char                  *argv[3];
    size_t                       argvlen[3];
    ngx_int_t                    rv;
    ngx_connection_t            *c;
    u_char                       db[NGX_INT_T_LEN];
    ngx_http_aigw_redis_conf_t  *rc;

    rc = rd->rc;

    if (error) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0, "aigw: redis \"%V\": %s",
                      &rc->address, error);
        ngx_http_aigw_redis_gone(rd);
        return;
    }

    c = p->peer.connection;

    c->data = rd;
    c->read->handler = ngx_http_aigw_redis_read_handler;
    c->write->handler = ngx_http_aigw_redis_write_handler;

    rd->c = c;

    rd->reader = redisReaderCreate();
    if (rd->reader == NULL) {
        ngx_http_aigw_redis_fail(rd, "no memory");
        return;
    }

    /* the handshake is pipelined */

    rv = NGX_OK;
    rd->handshake = 0;

    if (rc->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;

        if (rc->username.len) {
            argv[1] = (const char *) rc->username.data;
            argvlen[1] = rc->username.len;
        }

        argv[rc->username.len ? 2 : 1] = (const char *) rc->password.data;
        argvlen[rc->username.len ? 2 : 1] = rc->password.len;

        rv = ngx_http_aigw_redis_queue(rd, rc->username.len ? 3 : 2, argv,
                                       argvlen);
        rd->handshake++;
    }

    if (rv == NGX_OK && rc->db) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = ngx_sprintf(db, "%i", rc->db) - db;

        rv = ngx_http_aigw_redis_queue(rd, 2, argv, argvlen);
        rd->handshake++;
    }

    if (rv == NGX_OK) {
        argv[0] = "PING";
        argvlen[0] = 4;

        rv = ngx_http_aigw_redis_queue(rd, 1, argv, argvlen);
        rd->handshake++;
    }

    if (rv != NGX_OK) {
        ngx_http_aigw_redis_fail(rd, "no memory");
        return;
    }

    ngx_http_aigw_redis_write_handler(c->write);
}


/* appends a command to what is to be sent */

static ngx_int_t
ngx_http_aigw_redis_queue(ngx_http_aigw_redis_t *rd, int argc,
    const char **argv, const size_t *argvlen)
{
    u_char  *out;
    char    *cmd;
    int      len;

    len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0) {
        return NGX_ERROR;
    }

    if (rd->out_sent == rd->out_len) {
        if (rd->out) {
            ngx_free(rd->out);
        }

        /* a copy: hiredis's buffer goes with redisFreeCommand() */
        out = ngx_alloc(len, rd->log);
        if (out == NULL) {
            redisFreeCommand(cmd);
            return NGX_ERROR;
        }

        ngx_memcpy(out, cmd, len);

        rd->out = out;
        rd->out_len = len;
        rd->out_sent = 0;

    } else {
        /* the handshake's commands, one after another */
        out = ngx_alloc(rd->out_len + len, rd->log);
        if (out == NULL) {
            redisFreeCommand(cmd);
            return NGX_ERROR;
        }

        ngx_memcpy(ngx_cpymem(out, rd->out, rd->out_len), cmd, len);

        ngx_free(rd->out);

        rd->out = out;
        rd->out_len += len;
    }

    redisFreeCommand(cmd);

    return NGX_OK;
}


/*
 * An answer that says this Redis cannot take writes now, as a failover
 * leaves it: a replica (READONLY, the old primary demoted), loading its
 * data, or a replica that lost its primary.  The connection is made again,
 * its name resolved again, to follow the failover.
 */

ngx_uint_t
ngx_http_aigw_redis_failover(ngx_uint_t id, redisReply *reply)
{
    ngx_uint_t              i;
    ngx_http_aigw_redis_t  *rd;

    static ngx_str_t  codes[] = {
        ngx_string("READONLY"),
        ngx_string("LOADING"),
        ngx_string("MASTERDOWN"),
        ngx_null_string
    };

    if (reply == NULL || reply->type != REDIS_REPLY_ERROR) {
        return 0;
    }

    for (i = 0; codes[i].len; i++) {
        if ((size_t) reply->len >= codes[i].len
            && ngx_strncmp(reply->str, codes[i].data, codes[i].len) == 0)
        {
            break;
        }
    }

    if (codes[i].len == 0) {
        return 0;
    }

    rd = &ngx_http_aigw_redis_clients[id];

    if (rd->state != NGX_HTTP_AIGW_REDIS_DOWN) {
        ngx_http_aigw_redis_fail(rd, "cannot take writes now: reconnecting "
                                 "(a failover moves the primary)");
    }

    return 1;
}


/* gives up the connection */

static void
ngx_http_aigw_redis_fail(ngx_http_aigw_redis_t *rd, const char *why)
{
    ngx_log_error(NGX_LOG_ERR, rd->log, 0, "aigw: redis \"%V\": %s",
                  &rd->rc->address, why);

    ngx_http_aigw_redis_gone(rd);
}


/*
 * The connection is gone: it is closed, a command in flight fails, and a
 * reconnect is scheduled
 */

static void
ngx_http_aigw_redis_gone(ngx_http_aigw_redis_t *rd)
{
    ngx_http_aigw_redis_reply_pt  handler;

    if (rd->state == NGX_HTTP_AIGW_REDIS_READY && rd->away) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "aigw: redis \"%V\" is away, %s",
                      &rd->rc->address, rd->away);
    }

    ngx_http_aigw_redis_free(rd);

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


/* closes what is open: the resolution, the connection, the reader */

static void
ngx_http_aigw_redis_free(ngx_http_aigw_redis_t *rd)
{
    if (rd->pool) {
        ngx_http_aigw_peer_close(&rd->peer);
        ngx_destroy_pool(rd->pool);
        rd->pool = NULL;
    }

    rd->c = NULL;

    if (rd->reader) {
        redisReaderFree(rd->reader);
        rd->reader = NULL;
    }

    if (rd->out) {
        ngx_free(rd->out);
        rd->out = NULL;
    }

    rd->out_len = 0;
    rd->out_sent = 0;
    rd->handshake = 0;
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
ngx_http_aigw_redis_reply(ngx_http_aigw_redis_t *rd, redisReply *reply)
{
    ngx_http_aigw_redis_reply_pt  handler;

    if (rd->handshake) {
        rd->handshake--;

        if (reply->type == REDIS_REPLY_ERROR) {
            /* AUTH's and SELECT's errors name no password */
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "aigw: redis \"%V\" refused the connection: %*s",
                          &rd->rc->address, (size_t) reply->len, reply->str);

            ngx_http_aigw_redis_fail(rd, "handshake failed");
            return;
        }

        if (rd->handshake) {
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
        return;
    }

    if (rd->handler == NULL) {
        ngx_http_aigw_redis_fail(rd, "a reply to no command");
        return;
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    handler = rd->handler;
    rd->handler = NULL;

    handler(reply, rd->data);
}


static void
ngx_http_aigw_redis_read_handler(ngx_event_t *rev)
{
    void                   *reply;
    ssize_t                 n;
    ngx_connection_t       *c;
    ngx_http_aigw_redis_t  *rd;
    u_char                  buf[NGX_HTTP_AIGW_REDIS_READ];

    c = rev->data;
    rd = c->data;

    for ( ;; ) {

        n = c->recv(c, buf, sizeof(buf));

        if (n == NGX_AGAIN) {
            break;
        }

        if (n == 0) {
            ngx_http_aigw_redis_fail(rd, "the connection was closed");
            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_aigw_redis_fail(rd, "could not read");
            return;
        }

        if (redisReaderFeed(rd->reader, (const char *) buf, n) != REDIS_OK) {
            ngx_http_aigw_redis_fail(rd, "no memory");
            return;
        }

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(rd->reader, &reply) != REDIS_OK) {
                ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                              "aigw: redis \"%V\": protocol error: %s",
                              &rd->rc->address, rd->reader->errstr);
                ngx_http_aigw_redis_fail(rd, "invalid reply");
                return;
            }

            if (reply == NULL) {
                break;
            }

            ngx_http_aigw_redis_reply(rd, reply);

            freeReplyObject(reply);

            if (rd->c != c) {
                /* given up, or closed, by the reply or its handler */
                return;
            }
        }
    }

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_aigw_redis_fail(rd, "could not read");
    }
}


static void
ngx_http_aigw_redis_write_handler(ngx_event_t *wev)
{
    ssize_t                 n;
    ngx_connection_t       *c;
    ngx_http_aigw_redis_t  *rd;

    c = wev->data;
    rd = c->data;

    while (rd->out_sent < rd->out_len) {

        n = c->send(c, rd->out + rd->out_sent, rd->out_len - rd->out_sent);

        if (n == NGX_ERROR) {
            ngx_http_aigw_redis_fail(rd, "could not send a command");
            return;
        }

        if (n == NGX_AGAIN) {
            break;
        }

        rd->out_sent += n;
    }

    if (rd->out_sent == rd->out_len && rd->out) {
        ngx_free(rd->out);
        rd->out = NULL;
        rd->out_len = 0;
        rd->out_sent = 0;
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_aigw_redis_fail(rd, "could not send a command");
    }
}
