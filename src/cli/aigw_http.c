
/*
 * aigw: the command-line tool's HTTP client, on libcurl (see aigw_http.h).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "aigw_http.h"


#define AIGW_HTTP_MAX_HEADERS    128
#define AIGW_HTTP_HEAD_MAX       (64 * 1024)
#define AIGW_HTTP_RETRY_MS       1000
#define AIGW_HTTP_RETRY_MAX_MS   8000


typedef struct {
    /* the last head's header lines, "name: value" each, NUL-terminated */
    aigw_buf_t    head;
    size_t        nheaders;
    size_t        head_bytes;       /* of every head, 1xx ones included */
    int           in_head;          /* a status line came, not its end */
    int           status;           /* of that status line */
    int           final;            /* the final head ended: trailers */

    aigw_buf_t    body;

    /* why a callback stopped the transfer */
    char          why[AIGW_HTTP_ERR_LEN];
} aigw_http_ctx_t;


static CURL *aigw_http_handle(char *err, size_t err_size);
static int aigw_http_setup(CURL *c, const aigw_http_request_t *req,
    struct curl_slist **list, aigw_buf_t *url, aigw_http_ctx_t *ctx,
    char *curl_err);
static struct curl_slist *aigw_http_headers(const aigw_http_request_t *req);
static size_t aigw_http_on_header(char *p, size_t size, size_t n,
    void *data);
static size_t aigw_http_on_body(char *p, size_t size, size_t n, void *data);
static int aigw_http_response(aigw_http_ctx_t *ctx, CURL *c,
    aigw_http_response_t *resp, char *err, size_t err_size);
static void aigw_http_error(const aigw_http_request_t *req, CURLcode rc,
    const char *curl_err, char *err, size_t err_size);
static const char *aigw_http_proxy_var(const aigw_http_request_t *req);


/* one handle for the run: its connection cache is what reuses them */
static CURL  *aigw_http_curl;
static int    aigw_http_inited;


int
aigw_http_do(const aigw_http_request_t *req, aigw_http_response_t *resp,
    char *err, size_t err_size)
{
    int                  rc;
    CURL                *c;
    CURLcode             code;
    aigw_buf_t           url;
    aigw_http_ctx_t      ctx;
    struct curl_slist   *list;
    char                 curl_err[CURL_ERROR_SIZE];

    memset(resp, 0, sizeof(aigw_http_response_t));

    c = aigw_http_handle(err, err_size);
    if (c == NULL) {
        return -1;
    }

    memset(&ctx, 0, sizeof(aigw_http_ctx_t));
    aigw_buf_init(&url);
    list = NULL;
    curl_err[0] = '\0';
    rc = -1;

    if (aigw_http_setup(c, req, &list, &url, &ctx, curl_err) != 0) {
        snprintf(err, err_size, "%s", ctx.why[0] ? ctx.why
                 : "cannot set up the request (libcurl)");
        goto done;
    }

    code = curl_easy_perform(c);

    if (code != CURLE_OK) {
        if (ctx.why[0]) {
            snprintf(err, err_size, "%s", ctx.why);

        } else {
            aigw_http_error(req, code, curl_err, err, err_size);
        }

        goto done;
    }

    rc = aigw_http_response(&ctx, c, resp, err, err_size);

done:

    /* the handle keeps no pointer into what is freed here */
    curl_easy_reset(c);

    curl_slist_free_all(list);
    aigw_buf_free(&url);
    aigw_buf_free(&ctx.head);
    aigw_buf_free(&ctx.body);

    return rc;
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


int
aigw_http_retry_delay(int rc, int status, unsigned attempt,
    unsigned attempts)
{
    unsigned  ms;

    /* an answer below 500 is the server's word: asking again changes
     * nothing (a 403 stays a 403) */
    if ((rc == 0 && status < 500) || attempt >= attempts) {
        return -1;
    }

    ms = AIGW_HTTP_RETRY_MS;

    while (--attempt && ms < AIGW_HTTP_RETRY_MAX_MS) {
        ms *= 2;
    }

    return (int) (ms < AIGW_HTTP_RETRY_MAX_MS ? ms : AIGW_HTTP_RETRY_MAX_MS);
}


void
aigw_http_cleanup(void)
{
    if (aigw_http_curl) {
        curl_easy_cleanup(aigw_http_curl);
        aigw_http_curl = NULL;
    }

    if (aigw_http_inited) {
        curl_global_cleanup();
        aigw_http_inited = 0;
    }
}


static CURL *
aigw_http_handle(char *err, size_t err_size)
{
    if (aigw_http_curl) {
        return aigw_http_curl;
    }

    if (!aigw_http_inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, err_size, "cannot initialise libcurl");
            return NULL;
        }

        aigw_http_inited = 1;
    }

    aigw_http_curl = curl_easy_init();

    if (aigw_http_curl == NULL) {
        snprintf(err, err_size, "cannot initialise libcurl");
    }

    return aigw_http_curl;
}


static int
aigw_http_setup(CURL *c, const aigw_http_request_t *req,
    struct curl_slist **list, aigw_buf_t *url, aigw_http_ctx_t *ctx,
    char *curl_err)
{
    int          v6;
    long         connect_ms, total_ms, stall_s;
    const char  *ca, *proxy;
    CURLcode     rc;

    v6 = (strchr(req->host, ':') != NULL);

    aigw_buf_printf(url, "%s://%s%s%s:%u%s", req->tls ? "https" : "http",
                    v6 ? "[" : "", req->host, v6 ? "]" : "", req->port,
                    req->target);

    *list = aigw_http_headers(req);

    if (url->failed || *list == NULL) {
        snprintf(ctx->why, sizeof(ctx->why), "out of memory");
        return -1;
    }

    if (req->timeout_ms > 0) {
        connect_ms = req->timeout_ms;
        total_ms = req->timeout_ms;
        stall_s = (req->timeout_ms + 999) / 1000;

    } else {
        connect_ms = AIGW_HTTP_TIMEOUT_MS;
        total_ms = AIGW_HTTP_TOTAL_MS;
        stall_s = AIGW_HTTP_TIMEOUT_MS / 1000;
    }

    rc = CURLE_OK;

#define aigw_set(opt, v)  if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, v)

    aigw_set(CURLOPT_URL, url->data);
    aigw_set(CURLOPT_PROTOCOLS_STR, "http,https");
    aigw_set(CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
    /* the target is sent as signed: no "/./" or "/../" squashed */
    aigw_set(CURLOPT_PATH_AS_IS, 1L);
    aigw_set(CURLOPT_HTTPHEADER, *list);
    /* the headers go to the server only, never in a proxy's CONNECT */
    aigw_set(CURLOPT_HEADEROPT, (long) CURLHEADER_SEPARATE);
    aigw_set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    aigw_set(CURLOPT_NOSIGNAL, 1L);
    aigw_set(CURLOPT_ERRORBUFFER, curl_err);

    aigw_set(CURLOPT_HEADERFUNCTION, aigw_http_on_header);
    aigw_set(CURLOPT_HEADERDATA, ctx);
    aigw_set(CURLOPT_WRITEFUNCTION, aigw_http_on_body);
    aigw_set(CURLOPT_WRITEDATA, ctx);
    aigw_set(CURLOPT_MAXFILESIZE_LARGE,
             (curl_off_t) AIGW_HTTP_RESPONSE_MAX);

    /* a stalled peer or a slow trickle ends the exchange, never a hang */
    aigw_set(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    aigw_set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    aigw_set(CURLOPT_LOW_SPEED_TIME, stall_s);
    aigw_set(CURLOPT_TIMEOUT_MS, total_ms);

    aigw_set(CURLOPT_SSL_VERIFYPEER, 1L);
    aigw_set(CURLOPT_SSL_VERIFYHOST, 2L);
    aigw_set(CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);

    ca = getenv("AWS_CA_BUNDLE");

    if (ca && *ca) {
        /* that bundle alone, as the AWS SDKs do */
        aigw_set(CURLOPT_CAINFO, ca);
        aigw_set(CURLOPT_CAPATH, NULL);

    } else {
        /* OpenSSL's own variables, which libcurl does not read */
        ca = getenv("SSL_CERT_FILE");
        if (ca && *ca) {
            aigw_set(CURLOPT_CAINFO, ca);
        }

        ca = getenv("SSL_CERT_DIR");
        if (ca && *ca) {
            aigw_set(CURLOPT_CAPATH, ca);
        }
    }

    /*
     * libcurl reads http_proxy in lower case only (the CGI "httpoxy"
     * defence); a command-line tool takes HTTP_PROXY too, as the AWS
     * SDKs and the AWS CLI do.  no_proxy / NO_PROXY still apply to it.
     */
    if (!req->tls && getenv("http_proxy") == NULL) {
        proxy = getenv("HTTP_PROXY");

        if (proxy && *proxy) {
            aigw_set(CURLOPT_PROXY, proxy);
        }
    }

    if (req->body) {
        /* "" for an empty body: libcurl sends Content-Length: 0 */
        aigw_set(CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
        aigw_set(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);

        if (strcmp(req->method, "POST") != 0) {
            aigw_set(CURLOPT_CUSTOMREQUEST, req->method);
        }

    } else if (strcmp(req->method, "HEAD") == 0) {
        aigw_set(CURLOPT_NOBODY, 1L);

    } else {
        aigw_set(CURLOPT_HTTPGET, 1L);

        if (strcmp(req->method, "GET") != 0) {
            aigw_set(CURLOPT_CUSTOMREQUEST, req->method);
        }
    }

#undef aigw_set

    if (rc != CURLE_OK) {
        snprintf(ctx->why, sizeof(ctx->why), "libcurl: %s",
                 curl_easy_strerror(rc));
        return -1;
    }

    return 0;
}


/*
 * The caller's headers as they are, and "Name:" for what libcurl would add
 * on its own: Expect: 100-continue would hold the body back for a reply
 * some peers never send, Accept is noise, and POSTFIELDS' default
 * Content-Type would go unsigned.  A header with an empty value is
 * "Name;" in libcurl's list ("Name:" removes it).
 */

static struct curl_slist *
aigw_http_headers(const aigw_http_request_t *req)
{
    int                  ctype;
    size_t               i;
    aigw_buf_t           line;
    struct curl_slist   *list, *next;
    const aigw_header_t *h;

    static const char  *removed[] = { "Expect:", "Accept:", NULL };

    list = NULL;
    ctype = 0;
    aigw_buf_init(&line);

    for (i = 0; i < req->nheaders + 3; i++) {
        line.len = 0;

        if (i < req->nheaders) {
            h = &req->headers[i];

            if (h->name.len == 12
                && strncasecmp(h->name.data, "Content-Type", 12) == 0)
            {
                ctype = 1;
            }

            aigw_buf_add(&line, h->name.data, h->name.len);
            aigw_buf_add(&line, h->value.len ? ": " : ";", h->value.len ? 2
                                                                        : 1);
            aigw_buf_add(&line, h->value.data, h->value.len);

        } else if (removed[i - req->nheaders]) {
            aigw_buf_str(&line, removed[i - req->nheaders]);

        } else if (!ctype) {
            aigw_buf_str(&line, "Content-Type:");

        } else {
            continue;
        }

        next = line.failed ? NULL : curl_slist_append(list, line.data);

        if (next == NULL) {
            curl_slist_free_all(list);
            aigw_buf_free(&line);
            return NULL;
        }

        list = next;
    }

    aigw_buf_free(&line);

    return list;
}


/*
 * One line of a head, with its CRLF: the status line, a header, or the
 * empty line.  A 1xx answer's head comes before the final one; only the
 * last is kept.  The checks are the ones the old parser made: lines
 * split by their lengths, so a peer's NUL, a bare CR or LF, or a line
 * without a colon is a malformed response, never a C string end.
 */

static size_t
aigw_http_on_header(char *p, size_t size, size_t n, void *data)
{
    size_t            len;
    const char       *colon;
    aigw_http_ctx_t  *ctx;

    ctx = data;
    len = size * n;

    ctx->head_bytes += len;

    if (ctx->head_bytes > AIGW_HTTP_HEAD_MAX) {
        snprintf(ctx->why, sizeof(ctx->why), "response headers over %d "
                 "bytes", AIGW_HTTP_HEAD_MAX);
        return 0;
    }

    if (memchr(p, '\0', len) != NULL) {
        snprintf(ctx->why, sizeof(ctx->why),
                 "a NUL byte in the response head");
        return 0;
    }

    if (len < 2 || p[len - 2] != '\r' || p[len - 1] != '\n'
        || memchr(p, '\r', len - 2) != NULL
        || memchr(p, '\n', len - 2) != NULL)
    {
        snprintf(ctx->why, sizeof(ctx->why), "malformed response %s line",
                 ctx->in_head ? "header" : "status");
        return 0;
    }

    len -= 2;

    if (ctx->final) {
        /* a chunked body's trailers and their empty line: not kept */
        return size * n;
    }

    if (!ctx->in_head) {
        /* "HTTP/1.x NNN reason" */

        if (len < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' '
            || p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9'
            || p[11] < '0' || p[11] > '9')
        {
            snprintf(ctx->why, sizeof(ctx->why), "not an HTTP/1.x response");
            return 0;
        }

        ctx->in_head = 1;
        ctx->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
        ctx->head.len = 0;
        ctx->nheaders = 0;

        return size * n;
    }

    if (len == 0) {
        ctx->in_head = 0;
        ctx->final = (ctx->status >= 200);
        return size * n;
    }

    colon = memchr(p, ':', len);

    if (colon == NULL || colon == p) {
        snprintf(ctx->why, sizeof(ctx->why),
                 "malformed response header line");
        return 0;
    }

    if (ctx->nheaders == AIGW_HTTP_MAX_HEADERS) {
        snprintf(ctx->why, sizeof(ctx->why), "more than %d response headers",
                 AIGW_HTTP_MAX_HEADERS);
        return 0;
    }

    aigw_buf_add(&ctx->head, p, len);
    aigw_buf_add(&ctx->head, "", 1);
    ctx->nheaders++;

    if (ctx->head.failed) {
        snprintf(ctx->why, sizeof(ctx->why), "out of memory");
        return 0;
    }

    return size * n;
}


static size_t
aigw_http_on_body(char *p, size_t size, size_t n, void *data)
{
    size_t            len;
    aigw_http_ctx_t  *ctx;

    ctx = data;
    len = size * n;

    if (ctx->body.len + len > AIGW_HTTP_RESPONSE_MAX) {
        snprintf(ctx->why, sizeof(ctx->why), "response over %d bytes",
                 AIGW_HTTP_RESPONSE_MAX);
        return 0;
    }

    aigw_buf_add(&ctx->body, p, len);

    if (ctx->body.failed) {
        snprintf(ctx->why, sizeof(ctx->why), "out of memory");
        return 0;
    }

    return len;
}


/* the kept head and body, handed over to "resp" */

static int
aigw_http_response(aigw_http_ctx_t *ctx, CURL *c, aigw_http_response_t *resp,
    char *err, size_t err_size)
{
    long    status;
    char   *p, *next, *colon, *v, *e;
    size_t  i;

    status = 0;
    (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);

    /* libcurl takes a line it cannot parse for the head's end at times */
    if (status < 200 || status > 599 || !ctx->final) {
        snprintf(err, err_size, "malformed response head");
        return -1;
    }

    /* allocated and NUL-terminated even when empty */
    aigw_buf_add(&ctx->body, "", 0);

    if (ctx->body.failed) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    resp->headers = calloc(ctx->nheaders + 1, sizeof(aigw_header_t));

    if (resp->headers == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    resp->status = (int) status;

    resp->body = ctx->body.data;
    resp->body_len = ctx->body.len;
    aigw_buf_init(&ctx->body);

    resp->raw = ctx->head.data;
    aigw_buf_init(&ctx->head);

    for (i = 0, p = resp->raw; i < ctx->nheaders; i++, p = next) {
        e = p + strlen(p);
        next = e + 1;

        /* a colon, not the first byte: aigw_http_on_header() checked */
        colon = strchr(p, ':');
        v = colon + 1;

        while (v < e && (*v == ' ' || *v == '\t')) {
            v++;
        }

        while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }

        *e = '\0';

        resp->headers[i].name.data = p;
        resp->headers[i].name.len = (size_t) (colon - p);
        resp->headers[i].value.data = v;
        resp->headers[i].value.len = (size_t) (e - v);
    }

    resp->nheaders = ctx->nheaders;

    return 0;
}


static void
aigw_http_error(const aigw_http_request_t *req, CURLcode rc,
    const char *curl_err, char *err, size_t err_size)
{
    const char  *why, *ca, *proxy;

    why = curl_err[0] ? curl_err : curl_easy_strerror(rc);

    switch (rc) {

    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(err, err_size, "cannot resolve \"%s\": %s", req->host, why);
        break;

    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(err, err_size, "cannot resolve the proxy: %s", why);
        break;

    case CURLE_COULDNT_CONNECT:
        proxy = aigw_http_proxy_var(req);

        /* the proxy's address is in libcurl's words; never its URL,
         * which may hold a password */
        snprintf(err, err_size, "cannot connect to %s port %u%s%s%s: %s",
                 req->host, req->port, proxy ? " (through the proxy of "
                                             : "",
                 proxy ? proxy : "",
                 proxy ? (getenv("NO_PROXY") || getenv("no_proxy")
                          ? ", unless NO_PROXY names it)" : ")")
                       : "",
                 why);
        break;

    case CURLE_OPERATION_TIMEDOUT:
        snprintf(err, err_size, "%s port %u: timed out: %s", req->host,
                 req->port, why);
        break;

    case CURLE_GOT_NOTHING:
        snprintf(err, err_size, "%s port %u: the connection closed before "
                 "a response", req->host, req->port);
        break;

    case CURLE_PARTIAL_FILE:
        snprintf(err, err_size, "%s port %u: the connection closed before "
                 "the whole body: %s", req->host, req->port, why);
        break;

    case CURLE_WEIRD_SERVER_REPLY:
        /* libcurl's own checks of the head: a NUL byte, a bad status */
        snprintf(err, err_size, "%s port %u: malformed response: %s",
                 req->host, req->port, why);
        break;

    case CURLE_FILESIZE_EXCEEDED:
        snprintf(err, err_size, "response over %d bytes",
                 AIGW_HTTP_RESPONSE_MAX);
        break;

    case CURLE_PEER_FAILED_VERIFICATION:
        snprintf(err, err_size, "TLS handshake with %s failed: certificate "
                 "verification: %s", req->host, why);
        break;

    case CURLE_SSL_CACERT_BADFILE:
        ca = getenv("AWS_CA_BUNDLE");
        snprintf(err, err_size, "cannot load %s: %s",
                 (ca && *ca) ? "AWS_CA_BUNDLE" : "the CA certificates", why);
        break;

    case CURLE_SSL_CONNECT_ERROR:
        snprintf(err, err_size, "TLS handshake with %s failed: %s",
                 req->host, why);
        break;

    default:
        snprintf(err, err_size, "%s port %u: %s", req->host, req->port, why);
        break;
    }
}


/* the variable that names a proxy for the request, NO_PROXY aside */

static const char *
aigw_http_proxy_var(const aigw_http_request_t *req)
{
    const char    *v, **name;

    static const char  *https[] = { "https_proxy", "HTTPS_PROXY",
                                    "all_proxy", "ALL_PROXY", NULL };
    static const char  *http[] = { "http_proxy", "HTTP_PROXY",
                                   "all_proxy", "ALL_PROXY", NULL };

    for (name = req->tls ? https : http; *name; name++) {
        v = getenv(*name);

        if (v && *v) {
            return *name;
        }
    }

    return NULL;
}
