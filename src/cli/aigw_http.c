
/*
 * aigw: a small blocking HTTP/1.1 client (see aigw_http.h).
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "aigw_http.h"


#define AIGW_HTTP_MAX_HEADERS    128
#define AIGW_HTTP_HEAD_MAX       (64 * 1024)


typedef struct {
    int          fd;
    SSL_CTX     *ctx;
    SSL         *ssl;
    int          timeout_ms;
    const char  *host;
} aigw_conn_t;


static int aigw_conn_open(aigw_conn_t *c, const aigw_http_request_t *req,
    char *err, size_t err_size);
static int aigw_conn_connect(aigw_conn_t *c, const char *host,
    unsigned port, char *err, size_t err_size);
static int aigw_conn_tls(aigw_conn_t *c, const char *host, char *err,
    size_t err_size);
static int aigw_conn_write(aigw_conn_t *c, const char *p, size_t len,
    char *err, size_t err_size);
static ssize_t aigw_conn_read(aigw_conn_t *c, char *p, size_t len,
    char *err, size_t err_size);
static void aigw_conn_close(aigw_conn_t *c);
static void aigw_tls_error(const char *what, char *err, size_t err_size);
static int aigw_http_read_more(aigw_conn_t *c, aigw_buf_t *in, char *err,
    size_t err_size);
static int aigw_http_parse_head(aigw_http_response_t *resp, const char *p,
    size_t len, char *err, size_t err_size);
static int aigw_http_chunked(const char *p, size_t len, aigw_buf_t *out,
    char *err, size_t err_size);
static int aigw_http_has_token(const aigw_str_t *v, const char *token);


int
aigw_http_do(const aigw_http_request_t *req, aigw_http_response_t *resp,
    char *err, size_t err_size)
{
    int                rc, head_only, eof;
    char              *end;
    size_t             i, head_len;
    long long          clen;
    aigw_buf_t         out, in, body;
    aigw_conn_t        c;
    const aigw_str_t  *te, *cl;

    memset(resp, 0, sizeof(aigw_http_response_t));
    memset(&c, 0, sizeof(aigw_conn_t));
    c.fd = -1;

    aigw_buf_init(&out);
    aigw_buf_init(&in);
    aigw_buf_init(&body);

    /* the request */

    aigw_buf_printf(&out, "%s %s HTTP/1.1\r\n", req->method, req->target);

    for (i = 0; i < req->nheaders; i++) {
        aigw_buf_add(&out, req->headers[i].name.data,
                     req->headers[i].name.len);
        aigw_buf_add(&out, ": ", 2);
        aigw_buf_add(&out, req->headers[i].value.data,
                     req->headers[i].value.len);
        aigw_buf_add(&out, "\r\n", 2);
    }

    if (req->body) {
        aigw_buf_printf(&out, "Content-Length: %zu\r\n", req->body_len);
    }

    aigw_buf_str(&out, "Connection: close\r\n\r\n");

    if (out.failed) {
        snprintf(err, err_size, "out of memory");
        goto failed;
    }

    if (aigw_conn_open(&c, req, err, err_size) != 0) {
        goto failed;
    }

    if (aigw_conn_write(&c, out.data, out.len, err, err_size) != 0
        || (req->body && req->body_len
            && aigw_conn_write(&c, req->body, req->body_len, err, err_size)
               != 0))
    {
        goto failed;
    }

    /* the head, after any 1xx interim responses */

    head_only = (strcmp(req->method, "HEAD") == 0);

    for ( ;; ) {
        for ( ;; ) {
            end = (in.len >= 4) ? memmem(in.data, in.len, "\r\n\r\n", 4)
                                : NULL;
            if (end != NULL) {
                break;
            }

            if (in.len > AIGW_HTTP_HEAD_MAX) {
                snprintf(err, err_size, "response headers over %d bytes",
                         AIGW_HTTP_HEAD_MAX);
                goto failed;
            }

            rc = aigw_http_read_more(&c, &in, err, err_size);
            if (rc < 0) {
                goto failed;
            }

            if (rc == 0) {
                snprintf(err, err_size, "the connection closed before a "
                         "complete response (%zu bytes)", in.len);
                goto failed;
            }
        }

        head_len = (size_t) (end - in.data) + 4;

        if (aigw_http_parse_head(resp, in.data, head_len, err, err_size)
            != 0)
        {
            goto failed;
        }

        if (resp->status >= 200) {
            break;
        }

        /* 100 Continue and the like: skip */

        memmove(in.data, in.data + head_len, in.len - head_len);
        in.len -= head_len;
        aigw_http_response_free(resp);
    }

    memmove(in.data, in.data + head_len, in.len - head_len);
    in.len -= head_len;

    /* the body */

    te = aigw_http_header(resp, "Transfer-Encoding");
    cl = aigw_http_header(resp, "Content-Length");

    if (head_only || resp->status == 204 || resp->status == 304) {
        /* none */

    } else if (te && aigw_http_has_token(te, "chunked")) {
        for ( ;; ) {
            body.len = 0;
            rc = aigw_http_chunked(in.data, in.len, &body, err, err_size);

            if (rc < 0) {
                goto failed;
            }

            if (rc > 0) {
                break;
            }

            rc = aigw_http_read_more(&c, &in, err, err_size);
            if (rc < 0) {
                goto failed;
            }

            if (rc == 0) {
                snprintf(err, err_size, "the connection closed inside a "
                         "chunked body");
                goto failed;
            }
        }

    } else if (cl) {
        clen = 0;

        for (i = 0; i < cl->len; i++) {
            if (cl->data[i] < '0' || cl->data[i] > '9'
                || clen > AIGW_HTTP_RESPONSE_MAX)
            {
                snprintf(err, err_size, "bad Content-Length in the response");
                goto failed;
            }

            clen = clen * 10 + (cl->data[i] - '0');
        }

        if (cl->len == 0 || clen > AIGW_HTTP_RESPONSE_MAX) {
            snprintf(err, err_size, "bad Content-Length in the response");
            goto failed;
        }

        while (in.len < (size_t) clen) {
            rc = aigw_http_read_more(&c, &in, err, err_size);
            if (rc < 0) {
                goto failed;
            }

            if (rc == 0) {
                snprintf(err, err_size, "the connection closed after %zu of "
                         "%lld body bytes", in.len, clen);
                goto failed;
            }
        }

        aigw_buf_add(&body, in.data, (size_t) clen);

    } else {
        for (eof = 0; !eof; /* void */) {
            rc = aigw_http_read_more(&c, &in, err, err_size);
            if (rc < 0) {
                goto failed;
            }

            eof = (rc == 0);
        }

        aigw_buf_add(&body, in.data, in.len);
    }

    aigw_buf_add(&body, "", 1);

    if (body.failed) {
        snprintf(err, err_size, "out of memory");
        goto failed;
    }

    resp->body = body.data;
    resp->body_len = body.len - 1;

    aigw_conn_close(&c);
    aigw_buf_free(&out);
    aigw_buf_free(&in);

    return 0;

failed:

    aigw_conn_close(&c);
    aigw_buf_free(&out);
    aigw_buf_free(&in);
    aigw_buf_free(&body);
    aigw_http_response_free(resp);

    return -1;
}


void
aigw_http_response_free(aigw_http_response_t *resp)
{
    free(resp->headers);
    free(resp->raw);
    free(resp->body);
    memset(resp, 0, sizeof(aigw_http_response_t));
}


const aigw_str_t *
aigw_http_header(const aigw_http_response_t *resp, const char *name)
{
    size_t  i, len;

    len = strlen(name);

    for (i = 0; i < resp->nheaders; i++) {
        if (resp->headers[i].name.len == len
            && strncasecmp(resp->headers[i].name.data, name, len) == 0)
        {
            return &resp->headers[i].value;
        }
    }

    return NULL;
}


/* 1: more bytes appended, 0: the end of the connection, -1: an error */

static int
aigw_http_read_more(aigw_conn_t *c, aigw_buf_t *in, char *err,
    size_t err_size)
{
    char     buf[16384];
    ssize_t  n;

    if (in->len > AIGW_HTTP_RESPONSE_MAX + AIGW_HTTP_HEAD_MAX) {
        snprintf(err, err_size, "response over %d bytes",
                 AIGW_HTTP_RESPONSE_MAX);
        return -1;
    }

    n = aigw_conn_read(c, buf, sizeof(buf), err, err_size);
    if (n < 0) {
        return -1;
    }

    if (n == 0) {
        return 0;
    }

    aigw_buf_add(in, buf, (size_t) n);

    if (in->failed) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    return 1;
}


/*
 * The head [p, p + len), as found: it ends with the empty line.  Lines
 * are split by explicit lengths: a peer's NUL byte, a bare CR or LF, or a
 * line without a colon is a malformed response, never a C string end.
 */

static int
aigw_http_parse_head(aigw_http_response_t *resp, const char *p, size_t len,
    char *err, size_t err_size)
{
    char        *raw, *line, *next, *colon, *v, *e, *end;
    size_t       n;

    raw = malloc(len + 1);
    resp->headers = calloc(AIGW_HTTP_MAX_HEADERS, sizeof(aigw_header_t));

    if (raw == NULL || resp->headers == NULL) {
        free(raw);
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    memcpy(raw, p, len);
    raw[len] = '\0';
    resp->raw = raw;

    if (memchr(raw, '\0', len) != NULL) {
        snprintf(err, err_size, "a NUL byte in the response head");
        return -1;
    }

    /* "HTTP/1.x NNN reason" */

    if (len < 12 || strncmp(raw, "HTTP/1.", 7) != 0 || raw[8] != ' '
        || raw[9] < '1' || raw[9] > '5' || raw[10] < '0' || raw[10] > '9'
        || raw[11] < '0' || raw[11] > '9')
    {
        snprintf(err, err_size, "not an HTTP/1.x response");
        return -1;
    }

    resp->status = (raw[9] - '0') * 100 + (raw[10] - '0') * 10
                   + (raw[11] - '0');

    end = raw + len;

    line = memmem(raw, len, "\r\n", 2);
    if (line == NULL) {
        snprintf(err, err_size, "malformed response status line");
        return -1;
    }

    if (memchr(raw, '\n', (size_t) (line - raw)) != NULL
        || memchr(raw, '\r', (size_t) (line - raw)) != NULL)
    {
        snprintf(err, err_size, "malformed response status line");
        return -1;
    }

    line += 2;
    n = 0;

    for ( ;; ) {
        next = memmem(line, (size_t) (end - line), "\r\n", 2);

        if (next == NULL) {
            snprintf(err, err_size, "malformed response header line");
            return -1;
        }

        if (next == line) {
            /* the empty line */
            break;
        }

        if (memchr(line, '\n', (size_t) (next - line)) != NULL
            || memchr(line, '\r', (size_t) (next - line)) != NULL)
        {
            snprintf(err, err_size, "malformed response header line");
            return -1;
        }

        colon = memchr(line, ':', (size_t) (next - line));

        if (colon == NULL || colon == line) {
            snprintf(err, err_size, "malformed response header line");
            return -1;
        }

        if (n == AIGW_HTTP_MAX_HEADERS) {
            snprintf(err, err_size, "more than %d response headers",
                     AIGW_HTTP_MAX_HEADERS);
            return -1;
        }

        v = colon + 1;

        while (v < next && (*v == ' ' || *v == '\t')) {
            v++;
        }

        e = next;

        while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }

        *e = '\0';

        resp->headers[n].name.data = line;
        resp->headers[n].name.len = (size_t) (colon - line);
        resp->headers[n].value.data = v;
        resp->headers[n].value.len = (size_t) (e - v);
        n++;

        line = next + 2;
    }

    resp->nheaders = n;

    return 0;
}


/*
 * Decodes a whole chunked body from [p, p + len) into "out".  1: done,
 * 0: more bytes are needed, -1: malformed.
 */

static int
aigw_http_chunked(const char *p, size_t len, aigw_buf_t *out, char *err,
    size_t err_size)
{
    int          d;
    size_t       size;
    const char  *end, *eol;

    end = p + len;

    for ( ;; ) {
        eol = memmem(p, (size_t) (end - p), "\r\n", 2);
        if (eol == NULL) {
            return 0;
        }

        size = 0;
        d = 0;

        while (p < eol) {
            if (*p >= '0' && *p <= '9') {
                size = size * 16 + (size_t) (*p - '0');

            } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
                size = size * 16 + (size_t) ((*p | 0x20) - 'a' + 10);

            } else {
                break;
            }

            if (size > AIGW_HTTP_RESPONSE_MAX) {
                snprintf(err, err_size, "chunked response over %d bytes",
                         AIGW_HTTP_RESPONSE_MAX);
                return -1;
            }

            d++;
            p++;
        }

        /* chunk extensions after ";" are ignored */

        if (d == 0 || (p < eol && *p != ';' && *p != ' ' && *p != '\t')) {
            snprintf(err, err_size, "malformed chunk size");
            return -1;
        }

        p = eol + 2;

        if (size == 0) {
            /* trailers, then an empty line */

            for ( ;; ) {
                eol = memmem(p, (size_t) (end - p), "\r\n", 2);
                if (eol == NULL) {
                    return 0;
                }

                if (eol == p) {
                    return 1;
                }

                p = eol + 2;
            }
        }

        if ((size_t) (end - p) < size + 2) {
            return 0;
        }

        if (p[size] != '\r' || p[size + 1] != '\n') {
            snprintf(err, err_size, "malformed chunk");
            return -1;
        }

        aigw_buf_add(out, p, size);

        if (out->len > AIGW_HTTP_RESPONSE_MAX) {
            snprintf(err, err_size, "chunked response over %d bytes",
                     AIGW_HTTP_RESPONSE_MAX);
            return -1;
        }

        p += size + 2;
    }
}


static int
aigw_http_has_token(const aigw_str_t *v, const char *token)
{
    size_t       len;
    const char  *p, *end, *s;

    len = strlen(token);
    p = v->data;
    end = v->data + v->len;

    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        s = p;

        while (p < end && *p != ',' && *p != ' ' && *p != '\t'
               && *p != ';')
        {
            p++;
        }

        if ((size_t) (p - s) == len && strncasecmp(s, token, len) == 0) {
            return 1;
        }

        while (p < end && *p != ',') {
            p++;
        }
    }

    return 0;
}


/* --- connections ---------------------------------------------------------- */


static int
aigw_conn_open(aigw_conn_t *c, const aigw_http_request_t *req, char *err,
    size_t err_size)
{
    c->timeout_ms = req->timeout_ms ? req->timeout_ms : AIGW_HTTP_TIMEOUT_MS;
    c->host = req->host;

    if (aigw_conn_connect(c, req->host, req->port, err, err_size) != 0) {
        return -1;
    }

    if (req->tls && aigw_conn_tls(c, req->host, err, err_size) != 0) {
        return -1;
    }

    return 0;
}


static int
aigw_conn_connect(aigw_conn_t *c, const char *host, unsigned port,
    char *err, size_t err_size)
{
    int               fd, rc, flags, soerr, one;
    char              service[8];
    socklen_t         len;
    struct pollfd     pfd;
    struct timeval    tv;
    struct addrinfo   hints, *res, *ai;

    snprintf(service, sizeof(service), "%u", port);

    memset(&hints, 0, sizeof(struct addrinfo));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;

    rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, err_size, "cannot resolve \"%s\": %s", host,
                 gai_strerror(rc));
        return -1;
    }

    snprintf(err, err_size, "cannot connect to %s port %u", host, port);

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            snprintf(err, err_size, "socket(): %s", strerror(errno));
            continue;
        }

        flags = fcntl(fd, F_GETFL);
        (void) fcntl(fd, F_SETFL, flags | O_NONBLOCK);

        rc = connect(fd, ai->ai_addr, ai->ai_addrlen);

        if (rc != 0 && errno == EINPROGRESS) {
            pfd.fd = fd;
            pfd.events = POLLOUT;

            do {
                rc = poll(&pfd, 1, c->timeout_ms);
            } while (rc < 0 && errno == EINTR);

            if (rc == 0) {
                snprintf(err, err_size, "cannot connect to %s port %u: "
                         "timed out", host, port);
                close(fd);
                continue;
            }

            soerr = 0;
            len = sizeof(soerr);

            if (rc < 0
                || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0
                || soerr != 0)
            {
                snprintf(err, err_size, "cannot connect to %s port %u: %s",
                         host, port, strerror(soerr ? soerr : errno));
                close(fd);
                continue;
            }

        } else if (rc != 0) {
            snprintf(err, err_size, "cannot connect to %s port %u: %s",
                     host, port, strerror(errno));
            close(fd);
            continue;
        }

        (void) fcntl(fd, F_SETFL, flags);

        tv.tv_sec = c->timeout_ms / 1000;
        tv.tv_usec = (c->timeout_ms % 1000) * 1000;
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));

        one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

        c->fd = fd;
        freeaddrinfo(res);

        return 0;
    }

    freeaddrinfo(res);

    return -1;
}


static int
aigw_conn_tls(aigw_conn_t *c, const char *host, char *err, size_t err_size)
{
    long                  vr;
    const char           *bundle;
    unsigned char         addr[16];
    X509_VERIFY_PARAM    *param;

    c->ctx = SSL_CTX_new(TLS_client_method());
    if (c->ctx == NULL) {
        aigw_tls_error("SSL_CTX_new()", err, err_size);
        return -1;
    }

    (void) SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);

    bundle = getenv("AWS_CA_BUNDLE");

    if (bundle && *bundle) {
        if (SSL_CTX_load_verify_locations(c->ctx, bundle, NULL) != 1) {
            aigw_tls_error("cannot load AWS_CA_BUNDLE", err, err_size);
            return -1;
        }

    } else if (SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
        aigw_tls_error("cannot load the system's CA certificates", err,
                       err_size);
        return -1;
    }

    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        aigw_tls_error("SSL_new()", err, err_size);
        return -1;
    }

    param = SSL_get0_param(c->ssl);

    if (inet_pton(AF_INET, host, addr) == 1
        || inet_pton(AF_INET6, host, addr) == 1)
    {
        /* no SNI for an address; the certificate must name it */
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
            aigw_tls_error("X509_VERIFY_PARAM_set1_ip_asc()", err, err_size);
            return -1;
        }

    } else {
        if (SSL_set_tlsext_host_name(c->ssl, host) != 1
            || SSL_set1_host(c->ssl, host) != 1)
        {
            aigw_tls_error("SNI", err, err_size);
            return -1;
        }

        X509_VERIFY_PARAM_set_hostflags(param,
                                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }

    ERR_clear_error();

    if (SSL_connect(c->ssl) != 1) {
        vr = SSL_get_verify_result(c->ssl);

        if (vr != X509_V_OK) {
            snprintf(err, err_size, "TLS handshake with %s failed: "
                     "certificate verification: %s", host,
                     X509_verify_cert_error_string(vr));

        } else {
            char  what[300];

            snprintf(what, sizeof(what), "TLS handshake with %s failed",
                     host);
            aigw_tls_error(what, err, err_size);
        }

        return -1;
    }

    return 0;
}


static void
aigw_tls_error(const char *what, char *err, size_t err_size)
{
    char           buf[256];
    unsigned long  e;

    e = ERR_get_error();

    if (e == 0) {
        snprintf(err, err_size, "%s: %s", what,
                 errno ? strerror(errno) : "failed");
        return;
    }

    ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(err, err_size, "%s: %s", what, buf);
    ERR_clear_error();
}


static int
aigw_conn_write(aigw_conn_t *c, const char *p, size_t len, char *err,
    size_t err_size)
{
    int      n;
    ssize_t  w;

    while (len) {
        if (c->ssl) {
            n = SSL_write(c->ssl, p, len > 65536 ? 65536 : (int) len);

            if (n <= 0) {
                aigw_tls_error("TLS write", err, err_size);
                return -1;
            }

            w = n;

        } else {
            w = send(c->fd, p, len, MSG_NOSIGNAL);

            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }

                snprintf(err, err_size, "send to %s: %s", c->host,
                         (errno == EAGAIN) ? "timed out" : strerror(errno));
                return -1;
            }
        }

        p += w;
        len -= (size_t) w;
    }

    return 0;
}


static ssize_t
aigw_conn_read(aigw_conn_t *c, char *p, size_t len, char *err,
    size_t err_size)
{
    int      n, e;
    ssize_t  r;

    if (c->ssl) {
        n = SSL_read(c->ssl, p, (int) len);

        if (n > 0) {
            return n;
        }

        e = SSL_get_error(c->ssl, n);

        if (e == SSL_ERROR_ZERO_RETURN) {
            return 0;
        }

        if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0
            && (errno == 0 || errno == ECONNRESET))
        {
            /* closed without close_notify: an end all the same */
            return 0;
        }

        if (e == SSL_ERROR_SSL
            && ERR_GET_REASON(ERR_peek_error())
               == SSL_R_UNEXPECTED_EOF_WHILE_READING)
        {
            ERR_clear_error();
            return 0;
        }

        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            snprintf(err, err_size, "reading from %s: timed out", c->host);
            return -1;
        }

        aigw_tls_error("TLS read", err, err_size);
        return -1;
    }

    for ( ;; ) {
        r = recv(c->fd, p, len, 0);

        if (r >= 0) {
            return r;
        }

        if (errno == EINTR) {
            continue;
        }

        snprintf(err, err_size, "reading from %s: %s", c->host,
                 (errno == EAGAIN || errno == EWOULDBLOCK)
                 ? "timed out" : strerror(errno));
        return -1;
    }
}


static void
aigw_conn_close(aigw_conn_t *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }

    if (c->ctx) {
        SSL_CTX_free(c->ctx);
        c->ctx = NULL;
    }

    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}


/* --- buffers -------------------------------------------------------------- */


void
aigw_buf_init(aigw_buf_t *b)
{
    memset(b, 0, sizeof(aigw_buf_t));
}


void
aigw_buf_free(aigw_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(aigw_buf_t));
}


void
aigw_buf_add(aigw_buf_t *b, const void *p, size_t len)
{
    char    *data;
    size_t   size;

    if (b->failed) {
        return;
    }

    if (b->len + len + 1 > b->size) {
        size = b->size ? b->size : 256;

        while (size < b->len + len + 1) {
            size *= 2;
        }

        data = realloc(b->data, size);
        if (data == NULL) {
            b->failed = 1;
            return;
        }

        b->data = data;
        b->size = size;
    }

    if (len) {
        memcpy(b->data + b->len, p, len);
    }

    b->len += len;
    b->data[b->len] = '\0';
}


void
aigw_buf_str(aigw_buf_t *b, const char *s)
{
    aigw_buf_add(b, s, strlen(s));
}


void
aigw_buf_printf(aigw_buf_t *b, const char *fmt, ...)
{
    int      n;
    char     small[256];
    char    *big;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(small, sizeof(small), fmt, args);
    va_end(args);

    if (n < 0) {
        b->failed = 1;
        return;
    }

    if ((size_t) n < sizeof(small)) {
        aigw_buf_add(b, small, (size_t) n);
        return;
    }

    big = malloc((size_t) n + 1);
    if (big == NULL) {
        b->failed = 1;
        return;
    }

    va_start(args, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, args);
    va_end(args);

    aigw_buf_add(b, big, (size_t) n);
    free(big);
}
