
/*
 * ngx_http_aigw_module: a connection to a peer (see ngx_http_aigw_peer.h),
 * in the manner of nginx's OCSP client: resolve, connect to each address
 * in turn, then the TLS handshake and the checks nginx's proxy_ssl_verify
 * makes (the chain, then the name or the IP address).
 */


#include "ngx_http_aigw_peer.h"


static void ngx_http_aigw_peer_resolve_handler(ngx_resolver_ctx_t *resolve);
static void ngx_http_aigw_peer_try(ngx_http_aigw_peer_t *p);
static void ngx_http_aigw_peer_next(ngx_http_aigw_peer_t *p, ngx_err_t err);
static void ngx_http_aigw_peer_write_handler(ngx_event_t *wev);
static void ngx_http_aigw_peer_read_handler(ngx_event_t *rev);
#if (NGX_SSL)
static void ngx_http_aigw_peer_ssl_init(ngx_http_aigw_peer_t *p);
static void ngx_http_aigw_peer_ssl_handshake(ngx_connection_t *c);
#endif
static void ngx_http_aigw_peer_fail(ngx_http_aigw_peer_t *p,
    const char *fmt, ...);


void
ngx_http_aigw_peer_connect(ngx_http_aigw_peer_t *p)
{
    ngx_int_t            rc;
    ngx_addr_t           addr;
    ngx_resolver_ctx_t  *resolve, temp;

    p->addrs = NULL;
    p->naddrs = 0;
    p->naddr = 0;
    p->ip = 0;
    p->connected = 0;
    p->resolve = NULL;
    p->peer.connection = NULL;

    if (p->addr) {
        /* given: a unix socket */
        p->addrs = p->addr;
        p->naddrs = 1;
        p->ip = 1;
        ngx_http_aigw_peer_try(p);
        return;
    }

    rc = ngx_parse_addr(p->pool, &addr, p->host.data, p->host.len);

    if (rc == NGX_ERROR) {
        ngx_http_aigw_peer_fail(p, "no memory");
        return;
    }

    if (rc == NGX_OK) {
        p->ip = 1;

        p->addrs = ngx_pcalloc(p->pool, sizeof(ngx_addr_t));
        if (p->addrs == NULL) {
            ngx_http_aigw_peer_fail(p, "no memory");
            return;
        }

        p->addrs[0] = addr;
        ngx_inet_set_port(addr.sockaddr, p->port);

        p->addrs[0].name.data = ngx_pnalloc(p->pool, NGX_SOCKADDR_STRLEN);
        if (p->addrs[0].name.data == NULL) {
            ngx_http_aigw_peer_fail(p, "no memory");
            return;
        }

        p->addrs[0].name.len = ngx_sock_ntop(addr.sockaddr, addr.socklen,
                                             p->addrs[0].name.data,
                                             NGX_SOCKADDR_STRLEN, 1);
        p->naddrs = 1;

        ngx_http_aigw_peer_try(p);
        return;
    }

    /* a name: resolved again at each connect, its TTL honoured */

    if (p->resolver == NULL) {
        ngx_http_aigw_peer_fail(p, "no resolver defined to resolve %V",
                                &p->host);
        return;
    }

    ngx_memzero(&temp, sizeof(ngx_resolver_ctx_t));
    temp.name = p->host;

    resolve = ngx_resolve_start(p->resolver, &temp);

    if (resolve == NULL) {
        ngx_http_aigw_peer_fail(p, "no memory");
        return;
    }

    if (resolve == NGX_NO_RESOLVER) {
        ngx_http_aigw_peer_fail(p, "no resolver defined to resolve %V",
                                &p->host);
        return;
    }

    resolve->name = p->host;
    resolve->handler = ngx_http_aigw_peer_resolve_handler;
    resolve->data = p;
    resolve->timeout = p->resolver_timeout;

    /* a resolution in progress does not hold a worker's graceful exit */
    resolve->cancelable = 1;

    p->resolve = resolve;

    if (ngx_resolve_name(resolve) != NGX_OK) {
        /* the resolver freed the context */
        p->resolve = NULL;
        ngx_http_aigw_peer_fail(p, "could not resolve %V", &p->host);
    }
}


static void
ngx_http_aigw_peer_resolve_handler(ngx_resolver_ctx_t *resolve)
{
    ngx_http_aigw_peer_t *p = resolve->data;

    u_char           *s;
    size_t            len;
    socklen_t         socklen;
    ngx_int_t         state;
    ngx_uint_t        i, n;
    struct sockaddr  *sockaddr;

    p->resolve = NULL;

    if (resolve->state) {
        state = resolve->state;
        ngx_resolve_name_done(resolve);
        ngx_http_aigw_peer_fail(p, "%V could not be resolved (%i: %s)",
                                &p->host, state,
                                ngx_resolver_strerror(state));
        return;
    }

    n = resolve->naddrs;

    if (n == 0) {
        ngx_resolve_name_done(resolve);
        ngx_http_aigw_peer_fail(p, "%V could not be resolved (no address)",
                                &p->host);
        return;
    }

    p->addrs = ngx_pcalloc(p->pool, n * sizeof(ngx_addr_t));
    if (p->addrs == NULL) {
        goto nomem;
    }

    for (i = 0; i < n; i++) {
        socklen = resolve->addrs[i].socklen;

        sockaddr = ngx_palloc(p->pool, socklen);
        if (sockaddr == NULL) {
            goto nomem;
        }

        ngx_memcpy(sockaddr, resolve->addrs[i].sockaddr, socklen);
        ngx_inet_set_port(sockaddr, p->port);

        s = ngx_pnalloc(p->pool, NGX_SOCKADDR_STRLEN);
        if (s == NULL) {
            goto nomem;
        }

        len = ngx_sock_ntop(sockaddr, socklen, s, NGX_SOCKADDR_STRLEN, 1);

        p->addrs[i].sockaddr = sockaddr;
        p->addrs[i].socklen = socklen;
        p->addrs[i].name.len = len;
        p->addrs[i].name.data = s;
    }

    p->naddrs = n;

    ngx_resolve_name_done(resolve);

    ngx_http_aigw_peer_try(p);

    return;

nomem:

    ngx_resolve_name_done(resolve);
    ngx_http_aigw_peer_fail(p, "no memory");
}


static void
ngx_http_aigw_peer_try(ngx_http_aigw_peer_t *p)
{
    ngx_int_t          rc;
    ngx_err_t          err;
    ngx_addr_t        *addr;
    ngx_connection_t  *c;

    addr = &p->addrs[p->naddr];

    ngx_memzero(&p->peer, sizeof(ngx_peer_connection_t));

    p->peer.sockaddr = addr->sockaddr;
    p->peer.socklen = addr->socklen;
    p->peer.name = &addr->name;
    p->peer.get = ngx_event_get_peer;
    p->peer.log = p->log;
    p->peer.log_error = NGX_ERROR_ERR;

    rc = ngx_event_connect_peer(&p->peer);
    err = ngx_socket_errno;

    if (rc == NGX_ERROR) {
        p->peer.connection = NULL;
        ngx_http_aigw_peer_fail(p, "could not connect to %V", &addr->name);
        return;
    }

    if (rc == NGX_BUSY || rc == NGX_DECLINED) {
        ngx_http_aigw_peer_next(p, err);
        return;
    }

    c = p->peer.connection;

    c->data = p;
    c->pool = p->pool;

    c->read->handler = ngx_http_aigw_peer_read_handler;
    c->write->handler = ngx_http_aigw_peer_write_handler;

    p->connected = 0;

    if (rc == NGX_OK) {
        ngx_http_aigw_peer_write_handler(c->write);
    }
}


/* the connection to the current address failed: the next, if any */

static void
ngx_http_aigw_peer_next(ngx_http_aigw_peer_t *p, ngx_err_t err)
{
    u_char      text[NGX_MAX_ERROR_STR], *e;
    ngx_str_t  *name;

    name = &p->addrs[p->naddr].name;

    if (p->peer.connection) {
        ngx_close_connection(p->peer.connection);
        p->peer.connection = NULL;
    }

    if (++p->naddr < p->naddrs) {
        ngx_http_aigw_peer_try(p);
        return;
    }

    if (err) {
        e = ngx_strerror(err, text, NGX_MAX_ERROR_STR - 1);
        *e = '\0';

        ngx_http_aigw_peer_fail(p, "connect() to %V failed (%d: %s)",
                                name, err, text);
        return;
    }

    ngx_http_aigw_peer_fail(p, "connect() to %V failed", name);
}


static void
ngx_http_aigw_peer_write_handler(ngx_event_t *wev)
{
    int                    err;
    socklen_t              len;
    ngx_connection_t      *c;
    ngx_http_aigw_peer_t  *p;

    c = wev->data;
    p = c->data;

    if (p->connected) {
        return;
    }

    /* connected? (as ngx_http_upstream_test_connect) */

    err = 0;
    len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, (void *) &err, &len) == -1) {
        err = ngx_socket_errno;
    }

    if (err) {
        ngx_http_aigw_peer_next(p, err);
        return;
    }

    p->connected = 1;

#if (NGX_SSL)
    if (p->ssl) {
        ngx_http_aigw_peer_ssl_init(p);
        return;
    }
#endif

    p->handler(p, NULL);
}


static void
ngx_http_aigw_peer_read_handler(ngx_event_t *rev)
{
    ngx_connection_t      *c;
    ngx_http_aigw_peer_t  *p;

    c = rev->data;
    p = c->data;

    /* an early byte, or an error: seen when the connect completes */

    if (ngx_handle_read_event(rev, 0) != NGX_OK) {
        ngx_http_aigw_peer_fail(p, "could not read from %V", &p->host);
    }
}


#if (NGX_SSL)

static void
ngx_http_aigw_peer_ssl_init(ngx_http_aigw_peer_t *p)
{
    ngx_int_t          rc;
    ngx_connection_t  *c;

    c = p->peer.connection;

    if (ngx_ssl_create_connection(p->ssl, c, NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        ngx_http_aigw_peer_fail(p, "could not start TLS with %V", &p->host);
        return;
    }

    /* no SNI for an address (RFC 6066) */

    if (!p->ip
        && SSL_set_tlsext_host_name(c->ssl->connection,
                                    (char *) p->host.data)
           == 0)
    {
        ngx_ssl_error(NGX_LOG_ERR, p->log, 0,
                      "SSL_set_tlsext_host_name(\"%V\") failed", &p->host);
        ngx_http_aigw_peer_fail(p, "could not start TLS with %V", &p->host);
        return;
    }

    c->log->action = p->action;

    rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        c->ssl->handler = ngx_http_aigw_peer_ssl_handshake;
        return;
    }

    ngx_http_aigw_peer_ssl_handshake(c);
}


static void
ngx_http_aigw_peer_ssl_handshake(ngx_connection_t *c)
{
    long                   rc;
    X509                  *cert;
    ngx_http_aigw_peer_t  *p;

    p = c->data;

    c->log->action = NULL;

    if (!c->ssl->handshaked) {
        ngx_http_aigw_peer_fail(p, "TLS handshake with %V failed", &p->host);
        return;
    }

    if (!p->verify) {
        p->handler(p, NULL);
        return;
    }

    rc = SSL_get_verify_result(c->ssl->connection);

    if (rc != X509_V_OK) {
        ngx_http_aigw_peer_fail(p, "the certificate of %V could not be "
                                "verified: (%l: %s)", &p->host, rc,
                                X509_verify_cert_error_string(rc));
        return;
    }

    if (p->ip) {
        cert = SSL_get_peer_certificate(c->ssl->connection);

        rc = (cert && X509_check_ip_asc(cert, (char *) p->host.data, 0) == 1);

        if (cert) {
            X509_free(cert);
        }

    } else {
        rc = (ngx_ssl_check_host(c, &p->host) == NGX_OK);
    }

    if (!rc) {
        ngx_http_aigw_peer_fail(p, "the certificate of %V does not match "
                                "its name", &p->host);
        return;
    }

    p->handler(p, NULL);
}

#endif


static void
ngx_http_aigw_peer_fail(ngx_http_aigw_peer_t *p, const char *fmt, ...)
{
    u_char   *e;
    va_list   args;

    va_start(args, fmt);
    e = ngx_vslprintf(p->error, p->error + sizeof(p->error) - 1, fmt, args);
    va_end(args);

    *e = '\0';

    ngx_http_aigw_peer_close(p);

    p->handler(p, (const char *) p->error);
}


void
ngx_http_aigw_peer_close(ngx_http_aigw_peer_t *p)
{
    ngx_connection_t  *c;

    if (p->resolve) {
        ngx_resolve_name_done(p->resolve);
        p->resolve = NULL;
    }

    c = p->peer.connection;

    if (c == NULL) {
        return;
    }

#if (NGX_SSL)
    if (c->ssl) {
        c->ssl->no_wait_shutdown = 1;
        c->ssl->no_send_shutdown = 1;
        (void) ngx_ssl_shutdown(c);
    }
#endif

    ngx_close_connection(c);
    p->peer.connection = NULL;
}


#if (NGX_SSL)

ngx_int_t
ngx_http_aigw_peer_ssl(ngx_conf_t *cf, ngx_ssl_t **ssl, ngx_str_t *ca_file)
{
    ngx_ssl_t           *s;
    ngx_pool_cleanup_t  *cln;

    s = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (s == NULL) {
        return NGX_ERROR;
    }

    s->log = cf->log;

    if (ngx_ssl_create(s, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL) != NGX_OK) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(s);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = s;

    if (ca_file && ca_file->len) {
        if (ngx_ssl_trusted_certificate(cf, s, ca_file, 10) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        if (SSL_CTX_set_default_verify_paths(s->ctx) != 1) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          "SSL_CTX_set_default_verify_paths() failed");
            return NGX_ERROR;
        }

        SSL_CTX_set_verify_depth(s->ctx, 10);
    }

    *ssl = s;

    return NGX_OK;
}

#else

ngx_int_t
ngx_http_aigw_peer_ssl(ngx_conf_t *cf, ngx_ssl_t **ssl, ngx_str_t *ca_file)
{
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "TLS needs nginx built with SSL");
    return NGX_ERROR;
}

#endif
