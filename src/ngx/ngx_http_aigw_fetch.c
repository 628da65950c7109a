
/*
 * ngx_http_aigw_module: fetches on nginx's event loop (see
 * ngx_http_aigw_fetch.h), in the manner of nginx's OCSP client.
 *
 * HTTP: the connection (ngx_http_aigw_peer.c: the host, an IP literal
 * or a name resolved with nginx's resolver, TLS with the certificate and
 * the host name checked), the request written at once, the response read
 * through one buffer of NGX_HTTP_AIGW_FETCH_HEADER_MAX bytes: the status
 * line, the header, then a body framed by Content-Length, chunks or the
 * end of the connection, of at most AIGW_CC_BODY_MAX bytes.  One timer
 * for the whole exchange.
 *
 * Command: nginx's SIGCHLD handler reaps every child of a worker
 * (waitpid(-1)), so a worker never learns the status of a process it
 * forks.  The worker forks a helper instead, which restores SIGCHLD,
 * forks "/bin/sh -c COMMAND" (its own process group), reads its output,
 * waits for it with the deadline, and writes the result to the worker
 * through a pipe: a header (ngx_http_aigw_fetch_frame_t), then the
 * output.  The helper's own exit is reaped by nginx's handler, which
 * logs "unknown process N exited with code 0" at the "notice" level.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include <poll.h>
#include <sys/syscall.h>

#include "ngx_http_aigw_fetch.h"


#define NGX_HTTP_AIGW_FETCH_HEADER_MAX  (16 * 1024)

/* the helper's deadline is the command's; the worker's, a bit later */
#define NGX_HTTP_AIGW_FETCH_GRACE       2000

#define NGX_HTTP_AIGW_FETCH_ERR_LEN     256


typedef enum {
    ngx_http_aigw_fetch_sw_status = 0,
    ngx_http_aigw_fetch_sw_header,
    ngx_http_aigw_fetch_sw_body,
    ngx_http_aigw_fetch_sw_chunk_size,
    ngx_http_aigw_fetch_sw_chunk_ext,
    ngx_http_aigw_fetch_sw_chunk_size_lf,
    ngx_http_aigw_fetch_sw_chunk_data,
    ngx_http_aigw_fetch_sw_chunk_data_cr,
    ngx_http_aigw_fetch_sw_chunk_data_lf,
    ngx_http_aigw_fetch_sw_trailer,
    ngx_http_aigw_fetch_sw_trailer_line,
    ngx_http_aigw_fetch_sw_trailer_lf,
    ngx_http_aigw_fetch_sw_done
} ngx_http_aigw_fetch_state_e;


/* how the helper's command ended */
#define NGX_HTTP_AIGW_FETCH_EXITED      0
#define NGX_HTTP_AIGW_FETCH_SIGNALED    1
#define NGX_HTTP_AIGW_FETCH_TIMEDOUT    2
#define NGX_HTTP_AIGW_FETCH_NORUN       3    /* value: errno */
#define NGX_HTTP_AIGW_FETCH_TOOBIG      4
#define NGX_HTTP_AIGW_FETCH_HELPERR     5    /* value: errno */

#define NGX_HTTP_AIGW_FETCH_MAGIC       0x61696777   /* "aigw" */


typedef struct {
    uint32_t                        magic;
    int32_t                         how;
    int32_t                         value;
    uint32_t                        len;
} ngx_http_aigw_fetch_frame_t;


struct ngx_http_aigw_fetch_s {
    ngx_pool_t                     *pool;
    ngx_log_t                      *log;

    ngx_http_aigw_fetch_handler_pt  handler;
    void                           *data;

    /* the deadline; with "report" set, the report of a failure */
    ngx_event_t                     timer;

    ngx_msec_t                      timeout;

    /* the outcome */
    ngx_int_t                       status;
    ngx_str_t                       body;
    u_char                          error[NGX_HTTP_AIGW_FETCH_ERR_LEN];

    unsigned                        process:1;
    unsigned                        starting:1;
    unsigned                        report:1;
    unsigned                        in_handler:1;
    unsigned                        tls:1;
    unsigned                        sent:1;
    unsigned                        chunked:1;
    unsigned                        length_set:1;
    unsigned                        no_body:1;
    unsigned                        eof:1;

    /* HTTP */
    ngx_str_t                       host;      /* NUL-terminated */
    ngx_http_aigw_peer_t            peer;

    ngx_buf_t                      *request;
    ngx_buf_t                      *buf;       /* what is read */
    u_char                         *body_start;

    ngx_http_aigw_fetch_state_e     state;
    off_t                           length;    /* Content-Length, or rest */
    off_t                           chunk;     /* the chunk's rest */
    ngx_uint_t                      chunk_digits;

    /* command */
    ngx_pid_t                       pid;       /* the helper */
    ngx_connection_t               *pipe;
    u_char                         *frame;
    size_t                          frame_len;
    size_t                          frame_read;
};


static void ngx_http_aigw_fetch_connected(ngx_http_aigw_peer_t *p,
    const char *error);
static void ngx_http_aigw_fetch_write_handler(ngx_event_t *wev);
static void ngx_http_aigw_fetch_read_handler(ngx_event_t *rev);
static void ngx_http_aigw_fetch_dummy_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_aigw_fetch_create_request(ngx_http_aigw_fetch_t *f,
    const aigw_cc_http_t *req);
static ngx_int_t ngx_http_aigw_fetch_parse(ngx_http_aigw_fetch_t *f,
    ngx_uint_t eof);
static ngx_int_t ngx_http_aigw_fetch_parse_header(ngx_http_aigw_fetch_t *f,
    u_char *start, u_char *end);
static ngx_int_t ngx_http_aigw_fetch_parse_body(ngx_http_aigw_fetch_t *f,
    u_char *p, u_char *last);
static ngx_int_t ngx_http_aigw_fetch_body_append(ngx_http_aigw_fetch_t *f,
    u_char *p, size_t n);

static char *ngx_http_aigw_fetch_strerror(ngx_err_t err, u_char *text);
static void ngx_http_aigw_fetch_pipe_handler(ngx_event_t *rev);
static void ngx_http_aigw_fetch_process_result(ngx_http_aigw_fetch_t *f);
static void ngx_http_aigw_fetch_helper(const char *command,
    ngx_msec_t timeout, ngx_fd_t out, ngx_fd_t err);
static void ngx_http_aigw_fetch_helper_sigterm(int signo);

static ngx_http_aigw_fetch_t *ngx_http_aigw_fetch_create(
    ngx_http_aigw_fetch_conf_t *conf, ngx_http_aigw_fetch_handler_pt handler,
    void *data);
static void ngx_http_aigw_fetch_timer_handler(ngx_event_t *ev);
static void ngx_http_aigw_fetch_fail(ngx_http_aigw_fetch_t *f,
    const char *fmt, ...);
static void ngx_http_aigw_fetch_done(ngx_http_aigw_fetch_t *f);
static void ngx_http_aigw_fetch_close(ngx_http_aigw_fetch_t *f);


static ngx_http_aigw_fetch_t *
ngx_http_aigw_fetch_create(ngx_http_aigw_fetch_conf_t *conf,
    ngx_http_aigw_fetch_handler_pt handler, void *data)
{
    ngx_log_t              *log;
    ngx_pool_t             *pool;
    ngx_http_aigw_fetch_t  *f;

    log = conf->log ? conf->log : ngx_cycle->log;

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NULL;
    }

    f = ngx_pcalloc(pool, sizeof(ngx_http_aigw_fetch_t));
    if (f == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    /* its own log: the action is set during the handshake */

    f->log = ngx_palloc(pool, sizeof(ngx_log_t));
    if (f->log == NULL) {
        ngx_destroy_pool(pool);
        return NULL;
    }

    *f->log = *log;

    f->pool = pool;
    f->handler = handler;
    f->data = data;
    f->pid = NGX_INVALID_PID;

    f->timer.handler = ngx_http_aigw_fetch_timer_handler;
    f->timer.data = f;
    f->timer.log = f->log;

    /* a fetch does not hold a worker's graceful exit: it is cancelled */
    f->timer.cancelable = 1;

    f->starting = 1;

    return f;
}


ngx_int_t
ngx_http_aigw_fetch_http(ngx_http_aigw_fetch_conf_t *conf,
    const aigw_cc_http_t *req, ngx_http_aigw_fetch_handler_pt handler,
    void *data, ngx_http_aigw_fetch_t **fetch)
{
    size_t                  len;
    ngx_int_t               rc;
    ngx_http_aigw_fetch_t  *f;

    f = ngx_http_aigw_fetch_create(conf, handler, data);
    if (f == NULL) {
        return NGX_ERROR;
    }

    if (req->url == NULL || req->host == NULL) {
        ngx_log_error(NGX_LOG_ALERT, f->log, 0,
                      "aigw: a fetch without a URL or a host");
        ngx_destroy_pool(f->pool);
        return NGX_ERROR;
    }

    len = ngx_strlen(req->host);

    f->host.data = ngx_pnalloc(f->pool, len + 1);
    if (f->host.data == NULL) {
        goto nomem;
    }

    ngx_memcpy(f->host.data, req->host, len + 1);
    f->host.len = len;
    f->tls = req->tls ? 1 : 0;
    f->timeout = req->timeout_ms;

    f->peer.pool = f->pool;
    f->peer.log = f->log;
    f->peer.host = f->host;
    f->peer.port = (in_port_t) req->port;
    f->peer.ssl = f->tls ? conf->ssl : NULL;
    f->peer.verify = 1;
    f->peer.resolver = conf->resolver;
    f->peer.resolver_timeout = conf->resolver_timeout;
    f->peer.action = "SSL handshaking with the credentials endpoint";
    f->peer.handler = ngx_http_aigw_fetch_connected;
    f->peer.data = f;

    f->buf = ngx_create_temp_buf(f->pool, NGX_HTTP_AIGW_FETCH_HEADER_MAX);
    if (f->buf == NULL) {
        goto nomem;
    }

    /* the deadline of the whole exchange, resolution included */
    ngx_add_timer(&f->timer, f->timeout);

    if (fetch) {
        *fetch = f;
    }

    rc = ngx_http_aigw_fetch_create_request(f, req);

    if (rc == NGX_ERROR) {
        goto nomem;
    }

    if (rc == NGX_DECLINED) {
        ngx_http_aigw_fetch_fail(f, "invalid request to %s", req->url);
        goto started;
    }

    if (req->port == 0 || req->port > 65535) {
        ngx_http_aigw_fetch_fail(f, "invalid port in %s", req->url);
        goto started;
    }

    if (f->tls) {
#if (NGX_SSL)
        if (conf->ssl == NULL) {
            ngx_http_aigw_fetch_fail(f, "https is not available for %s",
                                     req->url);
            goto started;
        }
#else
        ngx_http_aigw_fetch_fail(f, "https is not available for %s "
                                 "(nginx without SSL)", req->url);
        goto started;
#endif
    }

    ngx_http_aigw_peer_connect(&f->peer);

started:

    f->starting = 0;

    return NGX_OK;

nomem:

    ngx_log_error(NGX_LOG_ALERT, f->log, 0,
                  "aigw: could not start a fetch of %s: no memory", req->url);

    if (fetch) {
        *fetch = NULL;
    }

    f->report = 0;
    ngx_http_aigw_fetch_close(f);

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    ngx_destroy_pool(f->pool);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_aigw_fetch_create_request(ngx_http_aigw_fetch_t *f,
    const aigw_cc_http_t *req)
{
    u_char           *p;
    size_t            len, n;
    ngx_uint_t        i;
    ngx_buf_t        *b;
    const u_char     *s;
    const char       *strings[2];
    ngx_uint_t        k;

    if (req->method == NULL || req->target == NULL || req->target[0] != '/'
        || (req->nheaders && req->headers == NULL))
    {
        return NGX_DECLINED;
    }

    len = ngx_strlen(req->method) + 1 + ngx_strlen(req->target)
          + sizeof(" HTTP/1.1" CRLF) - 1;

    for (s = (const u_char *) req->method; *s; s++) {
        if (*s <= ' ' || *s >= 0x7f) {
            return NGX_DECLINED;
        }
    }

    for (s = (const u_char *) req->target; *s; s++) {
        if (*s <= ' ' || *s >= 0x7f) {
            return NGX_DECLINED;
        }
    }

    for (i = 0; i < req->nheaders; i++) {
        strings[0] = req->headers[i].name.data;
        strings[1] = req->headers[i].value.data;

        for (k = 0; k < 2; k++) {
            n = k ? req->headers[i].value.len : req->headers[i].name.len;
            s = (const u_char *) strings[k];

            if (n && s == NULL) {
                return NGX_DECLINED;
            }

            for ( /* void */ ; n; n--, s++) {
                if (*s == CR || *s == LF || *s == '\0'
                    || (k == 0 && (*s == ':' || *s <= ' ')))
                {
                    return NGX_DECLINED;
                }
            }
        }

        if (req->headers[i].name.len == 0) {
            return NGX_DECLINED;
        }

        len += req->headers[i].name.len + sizeof(": ") - 1
               + req->headers[i].value.len + sizeof(CRLF) - 1;
    }

    if (req->body) {
        len += sizeof("Content-Length: " CRLF) - 1 + NGX_SIZE_T_LEN;
    }

    len += sizeof("Connection: close" CRLF CRLF) - 1;

    if (req->body) {
        len += req->body_len;
    }

    b = ngx_create_temp_buf(f->pool, len);
    if (b == NULL) {
        return NGX_ERROR;
    }

    p = b->last;

    p = ngx_sprintf(p, "%s %s HTTP/1.1" CRLF, req->method, req->target);

    for (i = 0; i < req->nheaders; i++) {
        p = ngx_cpymem(p, req->headers[i].name.data,
                       req->headers[i].name.len);
        *p++ = ':'; *p++ = ' ';

        if (req->headers[i].value.len) {
            p = ngx_cpymem(p, req->headers[i].value.data,
                           req->headers[i].value.len);
        }

        *p++ = CR; *p++ = LF;
    }

    if (req->body) {
        p = ngx_sprintf(p, "Content-Length: %uz" CRLF, req->body_len);
    }

    p = ngx_cpymem(p, "Connection: close" CRLF CRLF,
                   sizeof("Connection: close" CRLF CRLF) - 1);

    if (req->body && req->body_len) {
        p = ngx_cpymem(p, req->body, req->body_len);
    }

    b->last = p;
    f->request = b;

    if (ngx_strcmp(req->method, "HEAD") == 0) {
        f->no_body = 1;
    }

    return NGX_OK;
}


/* connected, with TLS verified; or given up */

static void
ngx_http_aigw_fetch_connected(ngx_http_aigw_peer_t *p, const char *error)
{
    ngx_connection_t       *c;
    ngx_http_aigw_fetch_t  *f;

    f = p->data;

    if (error) {
        ngx_http_aigw_fetch_fail(f, "%s", error);
        return;
    }

    c = p->peer.connection;

    c->data = f;
    c->read->handler = ngx_http_aigw_fetch_read_handler;
    c->write->handler = ngx_http_aigw_fetch_write_handler;

    ngx_http_aigw_fetch_write_handler(c->write);
}


static void
ngx_http_aigw_fetch_write_handler(ngx_event_t *wev)
{
    ssize_t                 n, size;
    ngx_connection_t       *c;
    ngx_http_aigw_fetch_t  *f;

    c = wev->data;
    f = c->data;

    f->sent = 1;

    size = f->request->last - f->request->pos;

    if (size == 0) {
        wev->handler = ngx_http_aigw_fetch_dummy_handler;
        return;
    }

    n = c->send(c, f->request->pos, size);

    if (n == NGX_ERROR) {
        ngx_http_aigw_fetch_fail(f, "could not send the request to %V",
                                 &f->host);
        return;
    }

    if (n > 0) {
        f->request->pos += n;

        if (n == size) {
            wev->handler = ngx_http_aigw_fetch_dummy_handler;

            if (ngx_handle_write_event(wev, 0) != NGX_OK) {
                ngx_http_aigw_fetch_fail(f, "could not send the request "
                                         "to %V", &f->host);
                return;
            }

            if (c->read->ready) {
                /* what came before the request was all sent */
                ngx_http_aigw_fetch_read_handler(c->read);
            }

            return;
        }
    }

    if (ngx_handle_write_event(wev, 0) != NGX_OK) {
        ngx_http_aigw_fetch_fail(f, "could not send the request to %V",
                                 &f->host);
    }
}


static void
ngx_http_aigw_fetch_read_handler(ngx_event_t *rev)
{
    ssize_t                 n, size;
    ngx_int_t               rc;
    ngx_buf_t              *b;
    ngx_connection_t       *c;
    ngx_http_aigw_fetch_t  *f;

    c = rev->data;
    f = c->data;

    if (!f->sent) {
        /* an early answer, or an error: seen when writing */
        if (ngx_handle_read_event(rev, 0) != NGX_OK) {
            ngx_http_aigw_fetch_fail(f, "could not read from %V", &f->host);
        }

        return;
    }

    b = f->buf;

    for ( ;; ) {

        size = b->end - b->last;

        if (size == 0) {
            /* only the header fills the buffer: the body is moved out */
            ngx_http_aigw_fetch_fail(f, "the response header of %V is "
                                     "over %d bytes", &f->host,
                                     NGX_HTTP_AIGW_FETCH_HEADER_MAX);
            return;
        }

        n = c->recv(c, b->last, size);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                ngx_http_aigw_fetch_fail(f, "could not read from %V",
                                         &f->host);
            }

            return;
        }

        if (n == NGX_ERROR) {
            ngx_http_aigw_fetch_fail(f, "could not read the response of %V",
                                     &f->host);
            return;
        }

        if (n > 0) {
            b->last += n;
        }

        rc = ngx_http_aigw_fetch_parse(f, n == 0);

        if (rc == NGX_DONE) {
            ngx_http_aigw_fetch_done(f);
            return;
        }

        if (rc == NGX_ERROR) {
            /* failed with the reason */
            return;
        }

        /* NGX_AGAIN */

        if (n == 0) {
            ngx_http_aigw_fetch_fail(f, "%V closed the connection before "
                                     "the end of the response", &f->host);
            return;
        }
    }
}


static void
ngx_http_aigw_fetch_dummy_handler(ngx_event_t *ev)
{
}


/*
 * The response so far, f->buf holding what has not been consumed:
 * NGX_DONE at its end, NGX_AGAIN for more, NGX_ERROR (failed).
 */

static ngx_int_t
ngx_http_aigw_fetch_parse(ngx_http_aigw_fetch_t *f, ngx_uint_t eof)
{
    u_char     *p, *end;
    ngx_int_t   rc;
    ngx_buf_t  *b;

    b = f->buf;

    while (f->state == ngx_http_aigw_fetch_sw_status) {

        /* the status line and header, whole, in the buffer */

        end = NULL;

        for (p = b->pos; p < b->last; p++) {
            if (*p != LF) {
                continue;
            }

            if (p + 1 < b->last && p[1] == LF) {
                end = p + 2;
                break;
            }

            if (p + 2 < b->last && p[1] == CR && p[2] == LF) {
                end = p + 3;
                break;
            }
        }

        if (end == NULL) {
            return NGX_AGAIN;
        }

        rc = ngx_http_aigw_fetch_parse_header(f, b->pos, end);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        b->pos = end;

        if (rc == NGX_AGAIN) {
            /* an interim response (1xx): the next */
            continue;
        }
    }

    if (f->state == ngx_http_aigw_fetch_sw_done) {
        return NGX_DONE;
    }

    rc = ngx_http_aigw_fetch_parse_body(f, b->pos, b->last);

    if (rc != NGX_AGAIN) {
        /* NGX_ERROR: failed, "f" is no more */
        return rc;
    }

    /* the body is copied out: the buffer is free again */
    b->pos = b->start;
    b->last = b->start;

    if (eof) {
        if (!f->chunked && !f->length_set) {
            /* delimited by the end of the connection */
            return NGX_DONE;
        }

        ngx_http_aigw_fetch_fail(f, "%V closed the connection before the "
                                 "end of the response body", &f->host);
        return NGX_ERROR;
    }

    return NGX_AGAIN;
}


/*
 * The status line and header fields in [start, end): NGX_OK, NGX_AGAIN
 * for an interim response, NGX_ERROR (failed).
 */

static ngx_int_t
ngx_http_aigw_fetch_parse_header(ngx_http_aigw_fetch_t *f, u_char *start,
    u_char *end)
{
    u_char     *p, *line, *eol, *colon, *v, *ve;
    off_t       length;
    ngx_int_t   status;
    size_t      n;

    /* HTTP/1.x SP DIGIT DIGIT DIGIT [SP reason] CRLF */

    eol = ngx_strlchr(start, end, LF);
    p = start;

    if (eol - p < 12
        || ngx_strncmp(p, "HTTP/1.", 7) != 0
        || (p[7] != '0' && p[7] != '1')
        || p[8] != ' '
        || p[9] < '1' || p[9] > '5'
        || p[10] < '0' || p[10] > '9'
        || p[11] < '0' || p[11] > '9'
        || (p[12] != ' ' && p[12] != CR && p[12] != LF))
    {
        ngx_http_aigw_fetch_fail(f, "%V sent an invalid status line",
                                 &f->host);
        return NGX_ERROR;
    }

    status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');

    for (p = start; p < eol; p++) {
        if (*p == '\0' || (*p == CR && p + 1 != eol)) {
            ngx_http_aigw_fetch_fail(f, "%V sent an invalid status line",
                                     &f->host);
            return NGX_ERROR;
        }
    }

    if (status < 200) {
        return NGX_AGAIN;
    }

    f->status = status;
    f->length = -1;

    for (line = eol + 1; line < end; line = eol + 1) {

        eol = ngx_strlchr(line, end, LF);

        ve = eol;
        if (ve > line && ve[-1] == CR) {
            ve--;
        }

        if (ve == line) {
            /* the empty line */
            break;
        }

        colon = NULL;

        for (p = line; p < ve; p++) {
            if (*p == '\0' || *p == CR) {
                goto invalid;
            }

            if (*p == ':' && colon == NULL) {
                colon = p;
            }
        }

        if (colon == NULL || colon == line) {
            goto invalid;
        }

        for (p = line; p < colon; p++) {
            if (*p <= ' ' || *p >= 0x7f) {
                goto invalid;
            }
        }

        n = colon - line;

        for (v = colon + 1; v < ve && (*v == ' ' || *v == '\t'); v++) {
            /* void */
        }

        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) {
            ve--;
        }

        if (n == sizeof("Content-Length") - 1
            && ngx_strncasecmp(line, (u_char *) "Content-Length", n) == 0)
        {
            length = ngx_atoof(v, ve - v);

            if (length == NGX_ERROR
                || (f->length_set && length != f->length))
            {
                ngx_http_aigw_fetch_fail(f, "%V sent an invalid "
                                         "Content-Length", &f->host);
                return NGX_ERROR;
            }

            f->length = length;
            f->length_set = 1;
            continue;
        }

        if (n == sizeof("Transfer-Encoding") - 1
            && ngx_strncasecmp(line, (u_char *) "Transfer-Encoding", n) == 0)
        {
            if (ve - v != sizeof("chunked") - 1
                || ngx_strncasecmp(v, (u_char *) "chunked", ve - v) != 0)
            {
                ngx_http_aigw_fetch_fail(f, "%V sent an unsupported "
                                         "Transfer-Encoding", &f->host);
                return NGX_ERROR;
            }

            f->chunked = 1;
            continue;
        }
    }

    if (f->chunked) {
        /* the chunks frame the body, whatever Content-Length says */
        f->length_set = 0;
        f->length = -1;
    }

    if (f->no_body || status == 204 || status == 304) {
        f->state = ngx_http_aigw_fetch_sw_done;
        return NGX_OK;
    }

    if (f->length_set && f->length > AIGW_CC_BODY_MAX) {
        ngx_http_aigw_fetch_fail(f, "the response body of %V is over %d "
                                 "bytes", &f->host, AIGW_CC_BODY_MAX);
        return NGX_ERROR;
    }

    f->body.data = ngx_pnalloc(f->pool, f->length_set ? (size_t) f->length
                                                      : AIGW_CC_BODY_MAX);
    if (f->body.data == NULL && (!f->length_set || f->length)) {
        ngx_http_aigw_fetch_fail(f, "no memory");
        return NGX_ERROR;
    }

    if (f->chunked) {
        f->state = ngx_http_aigw_fetch_sw_chunk_size;

    } else if (f->length_set && f->length == 0) {
        f->state = ngx_http_aigw_fetch_sw_done;

    } else {
        f->state = ngx_http_aigw_fetch_sw_body;
    }

    return NGX_OK;

invalid:

    ngx_http_aigw_fetch_fail(f, "%V sent an invalid header line", &f->host);
    return NGX_ERROR;
}


static ngx_int_t
ngx_http_aigw_fetch_body_append(ngx_http_aigw_fetch_t *f, u_char *p,
    size_t n)
{
    if (n == 0) {
        return NGX_OK;
    }

    if (n > (size_t) AIGW_CC_BODY_MAX - f->body.len) {
        ngx_http_aigw_fetch_fail(f, "the response body of %V is over %d "
                                 "bytes", &f->host, AIGW_CC_BODY_MAX);
        return NGX_ERROR;
    }

    ngx_memcpy(f->body.data + f->body.len, p, n);
    f->body.len += n;

    return NGX_OK;
}


/* NGX_DONE, NGX_AGAIN, NGX_ERROR (failed) */

static ngx_int_t
ngx_http_aigw_fetch_parse_body(ngx_http_aigw_fetch_t *f, u_char *p,
    u_char *last)
{
    u_char      ch;
    size_t      n;
    ngx_int_t   d;

    for ( ;; ) {

        switch (f->state) {

        case ngx_http_aigw_fetch_sw_body:

            n = last - p;

            if (f->length_set) {
                if ((off_t) n >= f->length - (off_t) f->body.len) {
                    /* what follows the body is ignored */
                    n = (size_t) (f->length - (off_t) f->body.len);
                    f->state = ngx_http_aigw_fetch_sw_done;
                }
            }

            if (ngx_http_aigw_fetch_body_append(f, p, n) != NGX_OK) {
                return NGX_ERROR;
            }

            return f->state == ngx_http_aigw_fetch_sw_done ? NGX_DONE
                                                          : NGX_AGAIN;

        case ngx_http_aigw_fetch_sw_chunk_data:

            if (p == last) {
                return NGX_AGAIN;
            }

            n = last - p;

            if ((off_t) n > f->chunk) {
                n = (size_t) f->chunk;
            }

            if (ngx_http_aigw_fetch_body_append(f, p, n) != NGX_OK) {
                return NGX_ERROR;
            }

            p += n;
            f->chunk -= n;

            if (f->chunk == 0) {
                f->state = ngx_http_aigw_fetch_sw_chunk_data_cr;
            }

            break;

        case ngx_http_aigw_fetch_sw_done:
            return NGX_DONE;

        default:

            if (p == last) {
                return NGX_AGAIN;
            }

            ch = *p++;

            switch (f->state) {

            case ngx_http_aigw_fetch_sw_chunk_size:

                if (ch >= '0' && ch <= '9') {
                    d = ch - '0';

                } else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f') {
                    d = (ch | 0x20) - 'a' + 10;

                } else if (f->chunk_digits
                           && (ch == ';' || ch == ' ' || ch == '\t'))
                {
                    f->state = ngx_http_aigw_fetch_sw_chunk_ext;
                    break;

                } else if (f->chunk_digits && ch == CR) {
                    f->state = ngx_http_aigw_fetch_sw_chunk_size_lf;
                    break;

                } else if (f->chunk_digits && ch == LF) {
                    goto chunk_size_done;

                } else {
                    goto invalid;
                }

                if (++f->chunk_digits > 8) {
                    /* over AIGW_CC_BODY_MAX anyway */
                    goto too_large;
                }

                f->chunk = f->chunk * 16 + d;
                break;

            case ngx_http_aigw_fetch_sw_chunk_ext:

                if (ch == CR) {
                    f->state = ngx_http_aigw_fetch_sw_chunk_size_lf;

                } else if (ch == LF) {
                    goto chunk_size_done;

                } else if (ch == '\0') {
                    goto invalid;
                }

                break;

            case ngx_http_aigw_fetch_sw_chunk_size_lf:

                if (ch != LF) {
                    goto invalid;
                }

            chunk_size_done:

                f->chunk_digits = 0;

                if (f->chunk > AIGW_CC_BODY_MAX - (off_t) f->body.len) {
                    goto too_large;
                }

                f->state = f->chunk ? ngx_http_aigw_fetch_sw_chunk_data
                                    : ngx_http_aigw_fetch_sw_trailer;
                break;

            case ngx_http_aigw_fetch_sw_chunk_data_cr:

                if (ch == LF) {
                    f->state = ngx_http_aigw_fetch_sw_chunk_size;
                    break;
                }

                if (ch != CR) {
                    goto invalid;
                }

                f->state = ngx_http_aigw_fetch_sw_chunk_data_lf;
                break;

            case ngx_http_aigw_fetch_sw_chunk_data_lf:

                if (ch != LF) {
                    goto invalid;
                }

                f->state = ngx_http_aigw_fetch_sw_chunk_size;
                break;

            case ngx_http_aigw_fetch_sw_trailer:

                /* the start of a trailer line, or of the last, empty one */

                if (ch == LF) {
                    f->state = ngx_http_aigw_fetch_sw_done;
                    return NGX_DONE;
                }

                if (ch == CR) {
                    f->state = ngx_http_aigw_fetch_sw_trailer_lf;
                    break;
                }

                f->state = ngx_http_aigw_fetch_sw_trailer_line;
                break;

            case ngx_http_aigw_fetch_sw_trailer_line:

                /* trailers are ignored, their length bounded as a chunk's */

                if (++f->chunk > NGX_HTTP_AIGW_FETCH_HEADER_MAX) {
                    goto invalid;
                }

                if (ch == LF) {
                    f->chunk = 0;
                    f->state = ngx_http_aigw_fetch_sw_trailer;
                }

                break;

            case ngx_http_aigw_fetch_sw_trailer_lf:

                if (ch != LF) {
                    goto invalid;
                }

                f->state = ngx_http_aigw_fetch_sw_done;
                return NGX_DONE;

            default:
                goto invalid;
            }
        }
    }

too_large:

    ngx_http_aigw_fetch_fail(f, "the response body of %V is over %d bytes",
                             &f->host, AIGW_CC_BODY_MAX);
    return NGX_ERROR;

invalid:

    ngx_http_aigw_fetch_fail(f, "%V sent an invalid chunked body",
                             &f->host);
    return NGX_ERROR;
}


/* command */


ngx_int_t
ngx_http_aigw_fetch_process(ngx_http_aigw_fetch_conf_t *conf,
    const char *command, ngx_msec_t timeout,
    ngx_http_aigw_fetch_handler_pt handler, void *data,
    ngx_http_aigw_fetch_t **fetch)
{
    int                     fds[2];
    u_char                  text[NGX_MAX_ERROR_STR];
    ngx_fd_t                errfd;
    ngx_err_t               err;
    ngx_pid_t               pid;
    ngx_log_t              *log;
    ngx_connection_t       *c;
    ngx_http_aigw_fetch_t  *f;

    f = ngx_http_aigw_fetch_create(conf, handler, data);
    if (f == NULL) {
        return NGX_ERROR;
    }

    f->process = 1;
    f->timeout = timeout;
    f->status = -1;

    f->frame_len = sizeof(ngx_http_aigw_fetch_frame_t) + AIGW_CC_BODY_MAX;

    f->frame = ngx_pnalloc(f->pool, f->frame_len);
    if (f->frame == NULL) {
        ngx_log_error(NGX_LOG_ALERT, f->log, 0,
                      "aigw: could not run a command: no memory");
        ngx_destroy_pool(f->pool);
        return NGX_ERROR;
    }

    ngx_add_timer(&f->timer, timeout + NGX_HTTP_AIGW_FETCH_GRACE);

    if (fetch) {
        *fetch = f;
    }

    if (pipe2(fds, O_CLOEXEC) == -1) {
        err = ngx_errno;
        ngx_http_aigw_fetch_fail(f, "the command could not be run: pipe() "
                                 "failed (%d: %s)", err,
                                 ngx_http_aigw_fetch_strerror(err, text));
        goto started;
    }

    /* the command's stderr: the error log's file, else /dev/null */

    log = f->log;
    errfd = NGX_INVALID_FILE;

    for ( /* void */ ; log; log = log->next) {
        if (log->file && log->file->fd != NGX_INVALID_FILE
            && log->writer == NULL)
        {
            errfd = log->file->fd;
            break;
        }
    }

    pid = fork();

    if (pid == -1) {
        err = ngx_errno;
        close(fds[0]);
        close(fds[1]);
        ngx_http_aigw_fetch_fail(f, "the command could not be run: fork() "
                                 "failed (%d: %s)", err,
                                 ngx_http_aigw_fetch_strerror(err, text));
        goto started;
    }

    if (pid == 0) {
        ngx_http_aigw_fetch_helper(command, timeout, fds[1], errfd);
        /* unreachable */
    }

    /* the worker */

    close(fds[1]);

    f->pid = pid;

    if (ngx_nonblocking(fds[0]) == -1) {
        err = ngx_socket_errno;
        close(fds[0]);
        ngx_http_aigw_fetch_fail(f, "could not read the command's output "
                                 "(%d: %s)", err,
                                 ngx_http_aigw_fetch_strerror(err, text));
        goto started;
    }

    c = ngx_get_connection(fds[0], f->log);
    if (c == NULL) {
        close(fds[0]);
        ngx_http_aigw_fetch_fail(f, "could not read the command's output: "
                                 "no free connections");
        goto started;
    }

    f->pipe = c;

    c->data = f;
    c->pool = f->pool;
    c->read->handler = ngx_http_aigw_fetch_pipe_handler;
    c->read->log = f->log;
    c->write->handler = ngx_http_aigw_fetch_dummy_handler;
    c->write->log = f->log;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_http_aigw_fetch_fail(f, "could not read the command's output");
    }

started:

    f->starting = 0;

    return NGX_OK;
}


/* the text of "err", in "text" of NGX_MAX_ERROR_STR bytes */

static char *
ngx_http_aigw_fetch_strerror(ngx_err_t err, u_char *text)
{
    u_char  *p;

    p = ngx_strerror(err, text, NGX_MAX_ERROR_STR - 1);
    *p = '\0';

    return (char *) text;
}


static void
ngx_http_aigw_fetch_pipe_handler(ngx_event_t *rev)
{
    u_char                  text[NGX_MAX_ERROR_STR];
    ssize_t                 n;
    ngx_err_t               err;
    ngx_connection_t       *c;
    ngx_http_aigw_fetch_t  *f;

    c = rev->data;
    f = c->data;

    for ( ;; ) {

        if (f->frame_read == f->frame_len) {
            /* one more byte: the end */
            u_char  byte;

            n = read(c->fd, &byte, 1);

            if (n > 0) {
                ngx_http_aigw_fetch_fail(f, "the command's helper sent "
                                         "too much");
                return;
            }

        } else {
            n = read(c->fd, f->frame + f->frame_read,
                     f->frame_len - f->frame_read);
        }

        if (n == -1) {
            err = ngx_errno;

            if (err == NGX_EAGAIN || err == NGX_EINTR) {
                if (ngx_handle_read_event(rev, 0) != NGX_OK) {
                    ngx_http_aigw_fetch_fail(f, "could not read the "
                                             "command's output");
                }

                return;
            }

            ngx_http_aigw_fetch_fail(f, "could not read the command's "
                                     "output (%d: %s)", err,
                                     ngx_http_aigw_fetch_strerror(err,
                                                                  text));
            return;
        }

        if (n == 0) {
            /* the helper has exited, or is exiting */
            f->eof = 1;
            ngx_http_aigw_fetch_process_result(f);
            return;
        }

        f->frame_read += n;
    }
}


static void
ngx_http_aigw_fetch_process_result(ngx_http_aigw_fetch_t *f)
{
    u_char                       text[NGX_MAX_ERROR_STR];
    ngx_http_aigw_fetch_frame_t  frame;

    if (f->frame_read < sizeof(ngx_http_aigw_fetch_frame_t)) {
        ngx_http_aigw_fetch_fail(f, "the command's helper exited early");
        return;
    }

    ngx_memcpy(&frame, f->frame, sizeof(ngx_http_aigw_fetch_frame_t));

    if (frame.magic != NGX_HTTP_AIGW_FETCH_MAGIC
        || frame.len != f->frame_read - sizeof(ngx_http_aigw_fetch_frame_t))
    {
        ngx_http_aigw_fetch_fail(f, "the command's helper exited early");
        return;
    }

    f->body.data = f->frame + sizeof(ngx_http_aigw_fetch_frame_t);
    f->body.len = frame.len;

    switch (frame.how) {

    case NGX_HTTP_AIGW_FETCH_EXITED:
        f->status = frame.value;
        ngx_http_aigw_fetch_done(f);
        return;

    case NGX_HTTP_AIGW_FETCH_SIGNALED:
        ngx_http_aigw_fetch_fail(f, "the command was killed by signal %d",
                                 (int) frame.value);
        return;

    case NGX_HTTP_AIGW_FETCH_TIMEDOUT:
        ngx_http_aigw_fetch_fail(f, "the command timed out after %M ms",
                                 f->timeout);
        return;

    case NGX_HTTP_AIGW_FETCH_TOOBIG:
        ngx_http_aigw_fetch_fail(f, "the command's output is over %d bytes",
                                 AIGW_CC_BODY_MAX);
        return;

    case NGX_HTTP_AIGW_FETCH_NORUN:
    case NGX_HTTP_AIGW_FETCH_HELPERR:
        ngx_http_aigw_fetch_fail(f, "the command could not be run "
                                 "(%d: %s)", (int) frame.value,
                                 ngx_http_aigw_fetch_strerror(frame.value,
                                                              text));
        return;

    default:
        ngx_http_aigw_fetch_fail(f, "the command's helper exited early");
        return;
    }
}


/*
 * The helper, a child of the worker: never returns.  It uses nothing of
 * nginx's but its memory as it was at fork() (a copy), writes no log,
 * and only async-signal-safe calls until its own child execs.
 */

static volatile sig_atomic_t  ngx_http_aigw_fetch_terminate;


static void
ngx_http_aigw_fetch_helper_sigterm(int signo)
{
    ngx_http_aigw_fetch_terminate = 1;
}


static ssize_t
ngx_http_aigw_fetch_write_all(int fd, const u_char *p, size_t n)
{
    ssize_t  w;
    size_t   left;

    for (left = n; left; ) {
        w = write(fd, p, left);

        if (w == -1) {
            if (errno == EINTR) {
                continue;
            }

            return -1;
        }

        p += w;
        left -= w;
    }

    return n;
}


static void
ngx_http_aigw_fetch_close_from(int fd)
{
    long            max;
    struct rlimit   rlim;

#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned int) fd, ~0U, 0) == 0) {
        return;
    }
#endif

    max = 65536;

    if (getrlimit(RLIMIT_NOFILE, &rlim) == 0
        && rlim.rlim_cur != RLIM_INFINITY
        && (long) rlim.rlim_cur < max)
    {
        max = (long) rlim.rlim_cur;
    }

    for ( /* void */ ; fd < max; fd++) {
        (void) close(fd);
    }
}


static ngx_msec_int_t
ngx_http_aigw_fetch_ms_left(struct timespec *deadline)
{
    struct timespec  now;

    clock_gettime(CLOCK_MONOTONIC, &now);

    return (ngx_msec_int_t) ((deadline->tv_sec - now.tv_sec) * 1000
                             + (deadline->tv_nsec - now.tv_nsec) / 1000000);
}


static void
ngx_http_aigw_fetch_helper(const char *command, ngx_msec_t timeout,
    ngx_fd_t out, ngx_fd_t err)
{
    int                           fds[2], exec_fds[2], status, how, value;
    int                           nul, fd, i, exec_err;
    pid_t                         pid, w;
    size_t                        len;
    ssize_t                       n;
    sigset_t                      set;
    ngx_uint_t                    eof;
    ngx_msec_int_t                left;
    struct pollfd                 pfd;
    struct timespec               deadline, pause;
    struct sigaction              sa;
    ngx_http_aigw_fetch_frame_t   frame;
    static u_char                 output[AIGW_CC_BODY_MAX + 1];

    /*
     * signals as a new process has them, for the command; the helper
     * itself never dies of one (nginx would log an alert): SIGTERM held
     * until it is handled, SIGPIPE ignored (a worker gone: a write fails)
     */

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);

    ngx_memzero(&sa, sizeof(struct sigaction));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);

    /* every standard signal (nginx's, and any other module's) */

    for (i = 1; i < 32; i++) {
        if (i != SIGKILL && i != SIGSTOP && i != SIGPIPE) {
            (void) sigaction(i, &sa, NULL);
        }
    }

    sa.sa_handler = SIG_IGN;
    (void) sigaction(SIGPIPE, &sa, NULL);

    /*
     * fds 0, 1, 2: /dev/null, the pipe to the worker, the error log; no
     * other of nginx's descriptors (its connections, its files) is kept
     * busy by the helper or the command
     */

    out = fcntl(out, F_DUPFD_CLOEXEC, 10);
    if (err != NGX_INVALID_FILE) {
        err = fcntl(err, F_DUPFD, 10);
    }

    nul = open("/dev/null", O_RDWR);

    if (nul != -1) {
        nul = fcntl(nul, F_DUPFD, 10);
    }

    if (out == -1 || nul == -1) {
        _exit(1);
    }

    if (err == NGX_INVALID_FILE || err == -1) {
        err = nul;
    }

    if (dup2(nul, 0) == -1 || dup2(out, 1) == -1 || dup2(err, 2) == -1) {
        _exit(1);
    }

    ngx_http_aigw_fetch_close_from(3);

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout / 1000;
    deadline.tv_nsec += (timeout % 1000) * 1000000;

    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }

    ngx_memzero(&frame, sizeof(frame));
    frame.magic = NGX_HTTP_AIGW_FETCH_MAGIC;

    len = 0;

    if (pipe2(fds, O_CLOEXEC) == -1 || pipe2(exec_fds, O_CLOEXEC) == -1) {
        how = NGX_HTTP_AIGW_FETCH_HELPERR;
        value = errno;
        goto report;
    }

    pid = fork();

    if (pid == -1) {
        how = NGX_HTTP_AIGW_FETCH_HELPERR;
        value = errno;
        goto report;
    }

    if (pid == 0) {
        /* the command: its own process group, so all of it is killed */

        (void) setpgid(0, 0);

        if (dup2(fds[1], 1) == -1) {
            exec_err = errno;
            goto exec_failed;
        }

        sa.sa_handler = SIG_DFL;
        (void) sigaction(SIGPIPE, &sa, NULL);

        sigemptyset(&set);
        (void) sigprocmask(SIG_SETMASK, &set, NULL);

        execl("/bin/sh", "sh", "-c", command, (char *) NULL);

        exec_err = errno;

    exec_failed:

        (void) ngx_http_aigw_fetch_write_all(exec_fds[1],
                                             (u_char *) &exec_err,
                                             sizeof(int));
        _exit(127);
    }

    (void) setpgid(pid, pid);

    close(fds[1]);
    close(exec_fds[1]);

    /* the worker ends the helper with SIGTERM (cancelled, or late) */

    sa.sa_handler = ngx_http_aigw_fetch_helper_sigterm;
    (void) sigaction(SIGTERM, &sa, NULL);

    sigemptyset(&set);
    (void) sigprocmask(SIG_SETMASK, &set, NULL);

    /* did exec() fail?  (the pipe closes on exec) */

    do {
        n = read(exec_fds[0], &exec_err, sizeof(int));
    } while (n == -1 && errno == EINTR && !ngx_http_aigw_fetch_terminate);

    close(exec_fds[0]);

    if (n == sizeof(int)) {
        (void) waitpid(pid, &status, 0);
        how = NGX_HTTP_AIGW_FETCH_NORUN;
        value = exec_err;
        goto report;
    }

    how = -1;
    value = 0;
    eof = 0;

    /* the output, up to one byte over the bound */

    while (!eof) {

        if (ngx_http_aigw_fetch_terminate) {
            how = NGX_HTTP_AIGW_FETCH_TIMEDOUT;
            break;
        }

        left = ngx_http_aigw_fetch_ms_left(&deadline);

        if (left <= 0) {
            how = NGX_HTTP_AIGW_FETCH_TIMEDOUT;
            break;
        }

        pfd.fd = fds[0];
        pfd.events = POLLIN;
        pfd.revents = 0;

        if (poll(&pfd, 1, (int) left) <= 0) {
            continue;
        }

        n = read(fds[0], output + len, sizeof(output) - len);

        if (n == -1) {
            if (errno != EINTR && errno != EAGAIN) {
                eof = 1;
            }

            continue;
        }

        if (n == 0) {
            eof = 1;
            continue;
        }

        len += n;

        if (len > AIGW_CC_BODY_MAX) {
            how = NGX_HTTP_AIGW_FETCH_TOOBIG;
            len = AIGW_CC_BODY_MAX;
            break;
        }
    }

    close(fds[0]);

    if (how != -1) {
        (void) kill(-pid, SIGKILL);
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, &status, 0);
        goto report;
    }

    /* its output closed: its end, within the deadline */

    for ( ;; ) {
        w = waitpid(pid, &status, WNOHANG);

        if (w == pid) {
            break;
        }

        if (w == -1 && errno != EINTR) {
            how = NGX_HTTP_AIGW_FETCH_HELPERR;
            value = errno;
            goto report;
        }

        if (ngx_http_aigw_fetch_terminate
            || ngx_http_aigw_fetch_ms_left(&deadline) <= 0)
        {
            (void) kill(-pid, SIGKILL);
            (void) kill(pid, SIGKILL);
            (void) waitpid(pid, &status, 0);
            how = NGX_HTTP_AIGW_FETCH_TIMEDOUT;
            goto report;
        }

        pause.tv_sec = 0;
        pause.tv_nsec = 5 * 1000000;
        (void) nanosleep(&pause, NULL);
    }

    if (WIFEXITED(status)) {
        how = NGX_HTTP_AIGW_FETCH_EXITED;
        value = WEXITSTATUS(status);

    } else {
        how = NGX_HTTP_AIGW_FETCH_SIGNALED;
        value = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }

report:

    frame.how = how;
    frame.value = value;
    frame.len = (uint32_t) len;

    fd = 1;

    if (ngx_http_aigw_fetch_write_all(fd, (u_char *) &frame, sizeof(frame))
        != -1)
    {
        (void) ngx_http_aigw_fetch_write_all(fd, output, len);
    }

    _exit(0);
}


/* the end of a fetch */


static void
ngx_http_aigw_fetch_timer_handler(ngx_event_t *ev)
{
    ngx_http_aigw_fetch_t  *f = ev->data;

    if (f->report) {
        /* a failure of the start, reported from the event loop */
        ngx_http_aigw_fetch_done(f);
        return;
    }

    if (f->process) {
        ngx_http_aigw_fetch_fail(f, "the command timed out after %M ms",
                                 f->timeout);
        return;
    }

    ngx_http_aigw_fetch_fail(f, "%V timed out after %M ms", &f->host,
                             f->timeout);
}


static void
ngx_http_aigw_fetch_fail(ngx_http_aigw_fetch_t *f, const char *fmt, ...)
{
    u_char   *p;
    va_list   args;

    if (f->report) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(f->error, f->error + sizeof(f->error) - 1, fmt, args);
    va_end(args);

    *p = '\0';

    if (f->process) {
        f->status = -1;

    } else {
        f->status = 0;
        f->body.len = 0;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_EVENT, f->log, 0, "aigw fetch: %s",
                   f->error);

    if (f->starting) {
        /* never from within the call that starts the fetch */
        ngx_http_aigw_fetch_close(f);

        f->report = 1;

        if (f->timer.timer_set) {
            ngx_del_timer(&f->timer);
        }

        ngx_add_timer(&f->timer, 0);
        return;
    }

    f->report = 1;
    ngx_http_aigw_fetch_done(f);
}


static void
ngx_http_aigw_fetch_done(ngx_http_aigw_fetch_t *f)
{
    ngx_str_t  body;

    ngx_http_aigw_fetch_close(f);

    if (f->timer.timer_set) {
        ngx_del_timer(&f->timer);
    }

    body = f->body;

    if (body.data == NULL) {
        body.data = (u_char *) "";
        body.len = 0;
    }

    f->in_handler = 1;

    f->handler(f->data, f->status, &body,
               f->report ? (const char *) f->error : NULL);

    ngx_destroy_pool(f->pool);
}


/* closes what is open: resolution, connection, pipe; a helper is ended */

static void
ngx_http_aigw_fetch_close(ngx_http_aigw_fetch_t *f)
{
    /* the response is framed: no close_notify either way */
    ngx_http_aigw_peer_close(&f->peer);

    if (f->pipe) {
        ngx_close_connection(f->pipe);
        f->pipe = NULL;
    }

    if (f->pid != NGX_INVALID_PID) {
        /*
         * a helper still running is told to end (it kills the command);
         * one that has closed its pipe has exited (it may be reaped and
         * its pid reused): no signal.  nginx's SIGCHLD handler reaps it.
         */

        if (!f->eof) {
            (void) kill(f->pid, SIGTERM);
        }

        f->pid = NGX_INVALID_PID;
    }
}


void
ngx_http_aigw_fetch_cancel(ngx_http_aigw_fetch_t *fetch)
{
    if (fetch == NULL || fetch->in_handler) {
        return;
    }

    ngx_http_aigw_fetch_close(fetch);

    if (fetch->timer.timer_set) {
        ngx_del_timer(&fetch->timer);
    }

    ngx_destroy_pool(fetch->pool);
}
