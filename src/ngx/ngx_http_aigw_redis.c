
/*
 * ngx_http_aigw_module: "aigw_redis" and the Redis client.
 *
 * hiredis 0.14's asynchronous API on nginx's event loop: one connection
 * per worker, a non-blocking connect, level-triggered read and write
 * events on an nginx connection wrapping hiredis's socket, and nginx
 * timers for what hiredis 0.14 has not (connect and reply timeouts),
 * reconnecting with a backoff.  hiredis resolves host names with blocking
 * DNS: addresses are IPs or unix sockets.  One command is in flight at a
 * time: the counter sends a batch, then the next.
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
} ngx_http_aigw_redis_t;


static char *ngx_http_aigw_redis_address(ngx_conf_t *cf,
    ngx_http_aigw_redis_conf_t *rc, ngx_str_t *addr);
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


static ngx_http_aigw_redis_t  ngx_http_aigw_redis_client;


/*
 * aigw_redis ADDRESS [password=P] [db=N] [prefix=aigw] [queue=SIZE]
 *            [journal=DIR] [timeout=TIME] [max_models=N]
 */

char *
ngx_http_aigw_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_aigw_main_conf_t *amcf = conf;

    ssize_t                      size;
    ngx_str_t                   *value, s, journal;
    ngx_int_t                    n;
    ngx_msec_t                   ms;
    ngx_uint_t                   i;
    ngx_http_aigw_redis_conf_t  *rc;

    if (amcf->redis) {
        return "is duplicate";
    }

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_http_aigw_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    if (ngx_http_aigw_redis_address(cf, rc, &value[1]) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_str_set(&rc->prefix, "aigw");
    rc->queue_size = 16 * 1024 * 1024;
    rc->timeout = 2000;
    rc->seq_ttl = 30 * 86400;
    rc->max_models = 100;

    ngx_str_null(&journal);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rc->password.len = value[i].len - 9;
            rc->password.data = ngx_pnalloc(cf->pool, rc->password.len + 1);
            if (rc->password.data == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_cpystrn(rc->password.data, value[i].data + 9,
                        rc->password.len + 1);
            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR) {
                goto invalid;
            }

            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rc->prefix.data = value[i].data + 7;
            rc->prefix.len = value[i].len - 7;

            if (rc->prefix.len == 0
                || ngx_strlchr(rc->prefix.data,
                               rc->prefix.data + rc->prefix.len, ':'))
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"aigw_redis\" prefix must be non-empty "
                                   "and without \":\" (the model ID is "
                                   "everything after the fourth colon of a "
                                   "key)");
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "queue=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size < (ssize_t) (256 * 1024)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\" in \"aigw_redis\": the "
                                   "queue takes at least 256k", &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->queue_size = size;
            continue;
        }

        if (ngx_strncmp(value[i].data, "journal=", 8) == 0) {
            journal.data = value[i].data + 8;
            journal.len = value[i].len - 8;

            if (journal.len == 0) {
                goto invalid;
            }

            rc->journal_set = 1;
            continue;
        }

        if (ngx_strncmp(value[i].data, "max_models=", 11) == 0) {
            n = ngx_atoi(value[i].data + 11, value[i].len - 11);
            if (n == NGX_ERROR || n < 1 || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\" in \"aigw_redis\": "
                                   "max_models takes 1 to 1000000",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->max_models = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            ms = ngx_parse_time(&s, 0);
            if (ms == (ngx_msec_t) NGX_ERROR || ms == 0) {
                goto invalid;
            }

            rc->timeout = ms;
            continue;
        }

        goto invalid;
    }

    rc->journal = ngx_pcalloc(cf->pool, sizeof(ngx_path_t));
    if (rc->journal == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the default is known once http{} is read: redis_init_conf() */

    rc->journal->name = journal;
    rc->journal->conf_file = cf->conf_file->file.name.data;
    rc->journal->line = cf->conf_file->line;

    if (ngx_http_aigw_queue_add(cf, rc) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    amcf->redis = rc;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\" in \"aigw_redis\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * Once http{} is read: the journal directory (by default "aigw" next to
 * the http{} client_body_temp_path, so that each nginx instance has its
 * own), and the tag of the Redis target its files belong to.
 */

ngx_int_t
ngx_http_aigw_redis_init_conf(ngx_conf_t *cf, ngx_http_aigw_redis_conf_t *rc)
{
    u_char                    *p, *last;
    size_t                     len;
    ngx_str_t                  temp;
    u_char                     md[32];
    ngx_http_core_loc_conf_t  *clcf;

    if (!rc->journal_set) {
        clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

        if (clcf->client_body_temp_path) {
            temp = clcf->client_body_temp_path->name;

        } else {
            ngx_str_set(&temp, NGX_HTTP_CLIENT_TEMP_PATH);
        }

        last = temp.data + temp.len;

        while (last > temp.data && last[-1] == '/') {
            last--;
        }

        while (last > temp.data && last[-1] != '/') {
            last--;
        }

        len = last - temp.data;

        /* NUL-terminated, as nginx creates paths by their C string */

        rc->journal->name.len = len + sizeof("aigw") - 1;
        rc->journal->name.data = ngx_pnalloc(cf->pool,
                                             rc->journal->name.len + 1);
        if (rc->journal->name.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_cpymem(rc->journal->name.data, temp.data, len);
        ngx_memcpy(p, "aigw", sizeof("aigw"));
    }

    if (ngx_conf_full_name(cf->cycle, &rc->journal->name, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    /* nginx creates it at start, owned by the workers' user */

    if (ngx_add_path(cf, &rc->journal) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * Journal files are named after the target they are counted into:
     * another nginx sharing the directory, counting into another Redis
     * (or the same one under another prefix or db), leaves them alone
     */

    p = ngx_pnalloc(cf->pool, rc->address.len + rc->prefix.len
                              + NGX_INT_T_LEN + 3);
    if (p == NULL) {
        return NGX_ERROR;
    }

    last = ngx_sprintf(p, "%V\n%i\n%V", &rc->address, rc->db, &rc->prefix);

    aigw_sha256(md, p, last - p);
    aigw_hex((char *) rc->journal_tag, md, sizeof(rc->journal_tag) / 2);

    return NGX_OK;
}


static char *
ngx_http_aigw_redis_address(ngx_conf_t *cf, ngx_http_aigw_redis_conf_t *rc,
    ngx_str_t *addr)
{
    u_char     *p, *host, *last;
    ngx_int_t   port;
    u_char      buf[NGX_INET6_ADDRSTRLEN + 1];
#if (NGX_HAVE_INET6)
    u_char      inaddr6[16];
#endif

    rc->address = *addr;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        rc->unix_path.len = addr->len - 5;
        rc->unix_path.data = ngx_pnalloc(cf->pool, rc->unix_path.len + 1);
        if (rc->unix_path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_cpystrn(rc->unix_path.data, addr->data + 5,
                    rc->unix_path.len + 1);
        return NGX_CONF_OK;
    }

    last = addr->data + addr->len;
    host = addr->data;

    if (*host == '[') {
        p = ngx_strlchr(host, last, ']');
        if (p == NULL || p + 1 >= last || p[1] != ':') {
            goto invalid;
        }

        host++;
        rc->host.len = p - host;
        p += 2;

    } else {
        p = ngx_strlchr(host, last, ':');
        if (p == NULL) {
            goto invalid;
        }

        rc->host.len = p - host;
        p++;
    }

    port = ngx_atoi(p, last - p);
    if (port < 1 || port > 65535 || rc->host.len == 0
        || rc->host.len > NGX_INET6_ADDRSTRLEN)
    {
        goto invalid;
    }

    rc->port = port;

    ngx_memcpy(buf, host, rc->host.len);
    buf[rc->host.len] = '\0';

    if (ngx_inet_addr(buf, rc->host.len) == INADDR_NONE
#if (NGX_HAVE_INET6)
        && ngx_inet6_addr(buf, rc->host.len, inaddr6) != NGX_OK
#endif
        )
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"aigw_redis\" address \"%V\" must be an IP "
                           "address and a port, or \"unix:/path\": hiredis "
                           "resolves host names with blocking DNS, which "
                           "would stall nginx's workers", addr);
        return NGX_CONF_ERROR;
    }

    rc->host.data = ngx_pnalloc(cf->pool, rc->host.len + 1);
    if (rc->host.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_cpystrn(rc->host.data, buf, rc->host.len + 1);

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid \"aigw_redis\" address \"%V\", expected "
                       "IP:PORT, [IPv6]:PORT or unix:/path", addr);
    return NGX_CONF_ERROR;
}


ngx_int_t
ngx_http_aigw_redis_start(ngx_cycle_t *cycle, ngx_http_aigw_redis_conf_t *rc,
    ngx_event_handler_pt ready)
{
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_client;

    ngx_memzero(rd, sizeof(ngx_http_aigw_redis_t));

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
ngx_http_aigw_redis_ready(void)
{
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_client;

    return rd->state == NGX_HTTP_AIGW_REDIS_READY && rd->handler == NULL;
}


/*
 * Sends a command: its reply, or NULL if Redis went away or did not
 * answer in time, goes to "handler".  NGX_DECLINED when Redis is not ready
 * or a command is in flight.
 */

ngx_int_t
ngx_http_aigw_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_aigw_redis_reply_pt handler, void *data)
{
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_client;

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
ngx_http_aigw_redis_close(void)
{
    redisAsyncContext      *ac;
    ngx_http_aigw_redis_t  *rd;

    rd = &ngx_http_aigw_redis_client;

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

    if (rd->state == NGX_HTTP_AIGW_REDIS_READY) {
        ngx_log_error(NGX_LOG_WARN, rd->log, 0,
                      "aigw: redis \"%V\" is away, usage is kept in the "
                      "queue", &rd->rc->address);
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
