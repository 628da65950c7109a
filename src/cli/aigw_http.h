
/*
 * aigw: a small blocking HTTP/1.1 client for the command-line tool (S3):
 * one request per connection ("Connection: close"), over TCP or TLS
 * (OpenSSL: certificates verified against the system's CA store, or
 * $AWS_CA_BUNDLE, or $SSL_CERT_FILE; the host name checked; SNI).  The
 * request body goes with a Content-Length; the response is read whole:
 * status, headers and a body framed by Content-Length, chunked transfer
 * coding, or the end of the connection.
 *
 * And a growable byte buffer, used by the commands to build their output.
 */

#ifndef AIGW_HTTP_H
#define AIGW_HTTP_H


#include <stddef.h>

#include "aigw_sigv4.h"


#define AIGW_HTTP_ERR_LEN        512
#define AIGW_HTTP_RESPONSE_MAX   (16 * 1024 * 1024)
#define AIGW_HTTP_TIMEOUT_MS     30000


typedef struct {
    char    *data;
    size_t   len;
    size_t   size;
    int      failed;                /* an allocation failed */
} aigw_buf_t;


typedef struct {
    const char           *method;
    const char           *host;     /* to connect to, for SNI and checks */
    unsigned              port;
    int                   tls;
    const char           *target;   /* "/path?query", as sent */

    /* sent as they are: Host among them; Content-Length is added */
    const aigw_header_t  *headers;
    size_t                nheaders;

    const char           *body;     /* NULL: none (no Content-Length) */
    size_t                body_len;

    int                   timeout_ms;   /* 0: AIGW_HTTP_TIMEOUT_MS */
} aigw_http_request_t;


typedef struct {
    int                   status;
    aigw_header_t        *headers;      /* pointing into "raw" */
    size_t                nheaders;
    char                 *body;         /* NUL-terminated as well */
    size_t                body_len;

    char                 *raw;          /* private */
} aigw_http_response_t;


/*
 * Sends the request and reads the response.  Returns 0 (any status), or
 * -1 with a message in "err" when no response came (DNS, connection,
 * TLS, timeout, a malformed response).
 */
int aigw_http_do(const aigw_http_request_t *req, aigw_http_response_t *resp,
    char *err, size_t err_size);

void aigw_http_response_free(aigw_http_response_t *resp);

/* the first header of that name (any case), or NULL */
const aigw_str_t *aigw_http_header(const aigw_http_response_t *resp,
    const char *name);


void aigw_buf_init(aigw_buf_t *b);
void aigw_buf_free(aigw_buf_t *b);
void aigw_buf_add(aigw_buf_t *b, const void *p, size_t len);
void aigw_buf_str(aigw_buf_t *b, const char *s);
void aigw_buf_printf(aigw_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif /* AIGW_HTTP_H */
