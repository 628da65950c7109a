
/*
 * aigw: the command-line tool's HTTP client, on libcurl: one request at a
 * time, blocking, over HTTP/1.1 or HTTPS.
 *
 * One curl handle serves the whole run, so that the requests of a run
 * (credentials, then S3) reuse their connections.  TLS: the peer's
 * certificate is always verified, against $AWS_CA_BUNDLE when set, else
 * $SSL_CERT_FILE / $SSL_CERT_DIR, else the system's CA store; the name or
 * address is checked.  Proxies: https_proxy / HTTPS_PROXY for https://,
 * http_proxy / HTTP_PROXY for http://, ALL_PROXY, and no_proxy / NO_PROXY
 * (curl's rules; HTTP_PROXY in capitals is honoured here as well, as the
 * AWS SDKs do).  The caller's headers are sent as they are, and nothing
 * else but Content-Length: no Expect, Accept or default Content-Type, so
 * that what the SigV4 signer signed is what goes.
 *
 * The response is kept whole (at most AIGW_HTTP_RESPONSE_MAX bytes of
 * body); its head is checked as strictly as the gateway's own parser
 * would: a NUL byte, a bare CR or LF, or a line without a colon fail the
 * exchange.
 */

#ifndef AIGW_HTTP_H
#define AIGW_HTTP_H


#include <stddef.h>

#include "aigw_sigv4.h"
#include "aigw_buf.h"


#define AIGW_HTTP_ERR_LEN        512
#define AIGW_HTTP_RESPONSE_MAX   (16 * 1024 * 1024)

/* connecting, and the longest stall of a transfer */
#define AIGW_HTTP_TIMEOUT_MS     30000
/* a whole exchange, when the request gives no timeout of its own */
#define AIGW_HTTP_TOTAL_MS       (10 * 60 * 1000)


typedef struct {
    const char           *method;
    const char           *host;     /* to connect to; no brackets */
    unsigned              port;
    int                   tls;
    const char           *target;   /* "/path?query", as sent */

    /* sent as they are: Host among them; Content-Length is added */
    const aigw_header_t  *headers;
    size_t                nheaders;

    const char           *body;     /* NULL: none (no Content-Length) */
    size_t                body_len;

    int                   timeout_ms;   /* the whole exchange; 0: the
                                           defaults above */
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
 * proxy, TLS, timeout, a malformed or oversized response).  It never
 * retries: the caller decides (a 5xx or -1 may be tried again, a 4xx
 * never; aigw_http_retry_delay()).
 */
int aigw_http_do(const aigw_http_request_t *req, aigw_http_response_t *resp,
    char *err, size_t err_size);

void aigw_http_response_free(aigw_http_response_t *resp);

/* the first header of that name (any case), or NULL */
const aigw_str_t *aigw_http_header(const aigw_http_response_t *resp,
    const char *name);

/*
 * The pause in milliseconds before attempt "attempt" + 1 of "attempts",
 * after a result of aigw_http_do() (rc) and its status; -1: do not try
 * again (done, a 1xx to 4xx answer, or the attempts spent).
 */
int aigw_http_retry_delay(int rc, int status, unsigned attempt,
    unsigned attempts);

/* closes the connections and frees the handle; at the end of a run */
void aigw_http_cleanup(void);


#endif /* AIGW_HTTP_H */
