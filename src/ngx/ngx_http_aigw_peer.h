
/*
 * ngx_http_aigw_module: a connection to a peer on nginx's event loop,
 * shared by the credential fetches (ngx_http_aigw_fetch.c) and the Redis
 * client (ngx_http_aigw_redis.c): the host, an IP literal or a name
 * resolved with nginx's resolver (or addresses given, a unix socket), a
 * non-blocking connect to each address in turn while none accepts, then,
 * with TLS, the handshake with SNI and the peer's certificate and host
 * name verified.  The caller keeps the deadline.
 */

#ifndef _NGX_HTTP_AIGW_PEER_H_INCLUDED_
#define _NGX_HTTP_AIGW_PEER_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_event.h>
#include <ngx_event_connect.h>


#define NGX_HTTP_AIGW_PEER_ERR_LEN  256


typedef struct ngx_http_aigw_peer_s  ngx_http_aigw_peer_t;

/*
 * Connected (error NULL: p->peer.connection is the caller's, its handlers
 * still the peer's own, to be set) or given up ("error" says why, valid
 * during the call only; nothing is left open).  May be called from within
 * ngx_http_aigw_peer_connect().
 */
typedef void (*ngx_http_aigw_peer_handler_pt)(ngx_http_aigw_peer_t *p,
    const char *error);


struct ngx_http_aigw_peer_s {
    /* the caller's */
    ngx_pool_t                     *pool;      /* addresses, connection */
    ngx_log_t                      *log;
    ngx_str_t                       host;      /* NUL-terminated */
    in_port_t                       port;
    ngx_addr_t                     *addr;      /* given: no resolution */
    ngx_ssl_t                      *ssl;       /* TLS when set */
    ngx_uint_t                      verify;    /* the certificate, the name */
    ngx_resolver_t                 *resolver;  /* NULL: names refused */
    ngx_msec_t                      resolver_timeout;
    char                           *action;    /* "SSL handshaking with ..." */
    ngx_http_aigw_peer_handler_pt   handler;
    void                           *data;

    /* its own */
    ngx_peer_connection_t           peer;
    ngx_resolver_ctx_t             *resolve;
    ngx_addr_t                     *addrs;
    ngx_uint_t                      naddrs;
    ngx_uint_t                      naddr;
    unsigned                        ip:1;
    unsigned                        connected:1;
    u_char                          error[NGX_HTTP_AIGW_PEER_ERR_LEN];
};


/* starts; the handler is called once, unless closed before */
void ngx_http_aigw_peer_connect(ngx_http_aigw_peer_t *p);

/* what is open is closed (a resolution, the connection); TLS is not shut
 * down cleanly: what the callers speak is framed */
void ngx_http_aigw_peer_close(ngx_http_aigw_peer_t *p);

/*
 * An SSL context for a client: TLS 1.2 or later, the peer verified
 * against "ca_file", or the system's store when it is empty.  At
 * configuration time.
 */
ngx_int_t ngx_http_aigw_peer_ssl(ngx_conf_t *cf, ngx_ssl_t **ssl,
    ngx_str_t *ca_file);


#endif /* _NGX_HTTP_AIGW_PEER_H_INCLUDED_ */
