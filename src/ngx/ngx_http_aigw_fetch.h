
/*
 * ngx_http_aigw_module: fetches on nginx's event loop, for the
 * credentials chain: one HTTP/1.1 exchange (plain, or TLS through
 * nginx's SSL layer with the peer's certificate and host name verified),
 * or one command run with /bin/sh -c and its standard output read.
 *
 * Never blocking: the connection is non-blocking, host names are
 * resolved with nginx's resolver, a command's output is read from a
 * non-blocking pipe; each has a deadline.  What is read is bounded
 * (AIGW_CC_BODY_MAX).  Each fetch has its own pool, freed after its
 * handler returns.
 */

#ifndef _NGX_HTTP_AIGW_FETCH_H_INCLUDED_
#define _NGX_HTTP_AIGW_FETCH_H_INCLUDED_


#include "ngx_http_aigw_peer.h"
#include "aigw_credchain.h"


typedef struct ngx_http_aigw_fetch_s  ngx_http_aigw_fetch_t;


/*
 * Called once per fetch, from the event loop (never from within the
 * call that started it).  HTTP: the status (0: no response, "error"
 * says why: connect, resolve, TLS, timeout, a malformed or oversized
 * response) and the body.  Command: its exit status (-1: could not run,
 * killed, timed out, "error" says why) and its output.  The body and the
 * error are valid during the call only.
 */
typedef void (*ngx_http_aigw_fetch_handler_pt)(void *data, ngx_int_t status,
    ngx_str_t *body, const char *error);


typedef struct {
    ngx_ssl_t                      *ssl;        /* NULL: https refused */
    ngx_resolver_t                 *resolver;   /* NULL: names refused */
    ngx_msec_t                      resolver_timeout;
    ngx_log_t                      *log;
} ngx_http_aigw_fetch_conf_t;


/*
 * Starts the exchange; NGX_OK: the handler will be called, NGX_ERROR: it
 * will not (no memory), the error is logged.
 */
ngx_int_t ngx_http_aigw_fetch_http(ngx_http_aigw_fetch_conf_t *conf,
    const aigw_cc_http_t *req, ngx_http_aigw_fetch_handler_pt handler,
    void *data, ngx_http_aigw_fetch_t **fetch);

/* runs "command" with /bin/sh -c, stdin from /dev/null, stderr to the
 * error log's file */
ngx_int_t ngx_http_aigw_fetch_process(ngx_http_aigw_fetch_conf_t *conf,
    const char *command, ngx_msec_t timeout,
    ngx_http_aigw_fetch_handler_pt handler, void *data,
    ngx_http_aigw_fetch_t **fetch);

/* stops a fetch in progress (a worker exiting); its handler is not
 * called; a command is killed */
void ngx_http_aigw_fetch_cancel(ngx_http_aigw_fetch_t *fetch);


#endif /* _NGX_HTTP_AIGW_FETCH_H_INCLUDED_ */
