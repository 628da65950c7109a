
/*
 * aigw: the core's per-request hashing and signing, next to plain SHA-256
 * of the same body, in the same process.  Not a test: it asserts nothing
 * about speed.  "make bench-sign".
 *
 * A request's core work, as the module does it for a Converse request:
 *
 *   - aigw_tenants_authenticate() of the presented API key against a
 *     loaded tenants set (SHA-256 of the key, constant-time compare);
 *   - the body hash: aigw_sha256_new(), _update() of a 1 KB body (one
 *     nginx buffer; another size on the command line), _final_hex(),
 *     _free();
 *   - aigw_sigv4_sign() with the input of ngx_http_aigw_sign(): POST, the
 *     upstream path, the host header, the payload hash, the signing key
 *     cache of the worker (so a hit, as for all but the first request of
 *     a day).
 *
 * The baseline is EVP_Digest(SHA-256) of the same body.
 *
 *     bench_sign [N [BODY]]   N requests (default 200000) and N baselines,
 *                             with a body of BODY bytes (default 1024)
 *
 * The loops are bench_base_loop() and bench_request_loop(), for callgrind:
 * "valgrind --tool=callgrind --toggle-collect=bench_request_loop
 * bench_sign 1000" counts the instructions of 1000 requests (the Makefile
 * target does it for both loops when valgrind is installed).  One request
 * of each runs first, outside them, and prints its signature: the same
 * inputs always give the same one.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "aigw_sigv4.h"
#include "aigw_target.h"
#include "aigw_tenants.h"
#include "aigw_util.h"


#define BENCH_N          200000
#define BENCH_BODY_LEN   1024
#define BENCH_BODY_MAX   (1024 * 1024)

#define BENCH_KEY                                                             \
    "aigw_k7f3q2ab_GzLCjLOMBUgOzMG9YP-XAptXoFyWcYuW2tfp2EiU9Uk"
#define BENCH_MODEL      "anthropic.claude-3-haiku-20240307-v1:0"
#define BENCH_HOST       "bedrock-runtime.us-east-1.amazonaws.com"


typedef struct {
    const aigw_tenants_t  *tenants;
    aigw_sigv4_cache_t     cache;
    aigw_creds_t           creds;
    char                   path[256];
    size_t                 path_len;
    char                  *body;
    size_t                 body_len;
    char                   auth[1024];
    char                   signature[AIGW_SHA256_HEX_LEN + 1];
} bench_t;


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static int
bench_base(bench_t *b)
{
    unsigned char  md[32];

    if (EVP_Digest(b->body, b->body_len, md, NULL, EVP_sha256(), NULL)
        != 1)
    {
        return -1;
    }

    return md[0];
}


static int
bench_request(bench_t *b)
{
    char                  hash[AIGW_SHA256_HEX_LEN];
    size_t                size;
    aigw_header_t         host;
    aigw_sha256_t        *h;
    aigw_sigv4_input_t    in;
    aigw_sigv4_output_t   out;
    const aigw_key_t     *key;
    const aigw_tenant_t  *tenant;

    /* the access phase: the key */

    if (aigw_tenants_authenticate(b->tenants, BENCH_KEY,
                                  sizeof(BENCH_KEY) - 1, &tenant, &key)
        != AIGW_AUTH_OK)
    {
        return -1;
    }

    /* the body, as it is read */

    h = aigw_sha256_new();
    if (h == NULL) {
        return -1;
    }

    if (aigw_sha256_update(h, b->body, b->body_len) != 0
        || aigw_sha256_final_hex(h, hash) != 0)
    {
        aigw_sha256_free(h);
        return -1;
    }

    /* ngx_http_aigw_sign() */

    host.name.data = "host";
    host.name.len = 4;
    host.value.data = BENCH_HOST;
    host.value.len = sizeof(BENCH_HOST) - 1;

    memset(&in, 0, sizeof(aigw_sigv4_input_t));

    in.method.data = "POST";
    in.method.len = 4;
    in.path.data = b->path;
    in.path.len = b->path_len;
    in.headers = &host;
    in.nheaders = 1;
    in.payload_hash.data = hash;
    in.payload_hash.len = AIGW_SHA256_HEX_LEN;
    in.region.data = "us-east-1";
    in.region.len = 9;
    in.service.data = aigw_service_signing_names[AIGW_SERVICE_BEDROCK];
    in.service.len = strlen(in.service.data);
    in.now = 1440938160;                      /* 20150830T123600Z */
    in.creds = &b->creds;
    in.flags = AIGW_SIGV4_NORMALIZE_PATH | AIGW_SIGV4_SIGN_CONTENT_SHA;
    in.cache = &b->cache;

    size = aigw_sigv4_auth_size(&in);

    if (size > sizeof(b->auth)
        || aigw_sigv4_sign(&in, &out, b->auth, size) != 0)
    {
        aigw_sha256_free(h);
        return -1;
    }

    memcpy(b->signature, out.signature, sizeof(b->signature));

    /* the pool cleanup */

    aigw_sha256_free(h);

    return 0;
}


static __attribute__((noinline)) int
bench_base_loop(bench_t *b, long n)
{
    int   rc;
    long  i;

    rc = 0;

    for (i = 0; i < n; i++) {
        rc |= bench_base(b);
    }

    return rc < 0 ? -1 : 0;
}


static __attribute__((noinline)) int
bench_request_loop(bench_t *b, long n)
{
    long  i;

    for (i = 0; i < n; i++) {
        if (bench_request(b) != 0) {
            return -1;
        }
    }

    return 0;
}


int
main(int argc, char **argv)
{
    long                    n, arg;
    char                    json[512], hex[AIGW_SHA256_HEX_LEN + 1];
    char                    err[AIGW_TENANTS_ERR_LEN];
    size_t                  i, len;
    double                  t0, t_base, t_req;
    bench_t                *b;
    aigw_tenants_t         *ts;
    static const char       text[] =
        "Summarise the following paragraph in five words, please. ";

    n = argc > 1 ? atol(argv[1]) : BENCH_N;
    arg = argc > 2 ? atol(argv[2]) : BENCH_BODY_LEN;

    if (n <= 0 || arg < 64 || arg > BENCH_BODY_MAX) {
        fprintf(stderr, "usage: bench_sign [N [BODY]]"
                " (BODY from 64 to %d bytes)\n", BENCH_BODY_MAX);
        return 2;
    }

    b = calloc(1, sizeof(bench_t));
    if (b == NULL) {
        return 1;
    }

    len = (size_t) arg;

    b->body_len = len;
    b->body = malloc(len);
    if (b->body == NULL) {
        return 1;
    }

    /* the tenants set: one tenant, the key's SHA-256 */

    aigw_sha256_hex(hex, BENCH_KEY, sizeof(BENCH_KEY) - 1);
    hex[AIGW_SHA256_HEX_LEN] = '\0';

    snprintf(json, sizeof(json),
             "{\"tenants\": [{\"id\": \"team-a\", \"models\": [\"*\"],"
             " \"keys\": [{\"id\": \"k7f3q2ab\", \"sha256\": \"%s\"}]}]}",
             hex);

    ts = aigw_tenants_parse(json, strlen(json), err, sizeof(err));
    if (ts == NULL) {
        fprintf(stderr, "bench_sign: tenants: %s\n", err);
        return 1;
    }

    b->tenants = ts;

    b->creds.access_key.data = "AKIDEXAMPLE";
    b->creds.access_key.len = 11;
    b->creds.secret_key.data = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    b->creds.secret_key.len = 40;

    b->path_len = aigw_target_upstream_path(b->path,
                                            aigw_op_get(AIGW_OP_CONVERSE),
                                            BENCH_MODEL,
                                            sizeof(BENCH_MODEL) - 1);

    /* a Converse body */

    i = (size_t) snprintf(b->body, len,
                          "{\"messages\":[{\"role\":\"user\",\"content\":"
                          "[{\"text\":\"");

    for ( /* void */ ; i < len - 6; i++) {
        b->body[i] = text[i % (sizeof(text) - 1)];
    }

    memcpy(b->body + i, "\"}]}]}", 6);

    /* one of each outside the loops: lazy initialisations, the key cache */

    if (bench_base(b) < 0 || bench_request(b) != 0) {
        fprintf(stderr, "bench_sign: a request failed\n");
        return 1;
    }

    printf("bench-sign: %ld requests: authenticate a key, SHA-256 of a"
           " %zu-byte body, SigV4 (%s)\n", n, len, b->path);
    printf("signature: %s\n", b->signature);

    t0 = now();

    if (bench_base_loop(b, n) != 0) {
        return 1;
    }

    t_base = now() - t0;

    t0 = now();

    if (bench_request_loop(b, n) != 0) {
        fprintf(stderr, "bench_sign: a request failed\n");
        return 1;
    }

    t_req = now() - t0;

    printf("SHA-256 of the body (EVP_Digest):    %8.0f ns\n",
           t_base * 1e9 / n);
    printf("a request's core work:               %8.0f ns"
           "   ratio to SHA-256 %.2f\n", t_req * 1e9 / n, t_req / t_base);
    printf("signing key cache: %lu hits, %lu misses\n",
           b->cache.hits, b->cache.misses);

    aigw_tenants_free(ts);
    free(b->body);
    free(b);

    /* what hashing and signing keep in the process */

    aigw_sigv4_cleanup();
    aigw_util_cleanup();

    return 0;
}
