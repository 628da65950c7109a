
/*
 * aigw: unit tests of aigw_sigv4.c.
 *
 *   1. the official SigV4 test suite (header-signed variants), from
 *      $AIGW_TESTDATA/sigv4 (default ../shared/testdata/sigv4);
 *   2. Bedrock and SageMaker vectors computed by botocore
 *      (t/unit/sigv4_bedrock_vectors.json, t/gen_sigv4_vectors.py);
 *   3. the signing key, its cache, the Authorization buffer, the
 *      canonical URI, query and headers, bad input.
 */


#define _GNU_SOURCE

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "unit.h"
#include "aigw_util.h"
#include "aigw_sigv4.h"
#include "aigw_target.h"


#define S(s)  { s, sizeof(s) - 1 }

#define TEST_MAX_HEADERS  AIGW_SIGV4_MAX_HEADERS


typedef struct {
    char    *p;
    size_t   len;
    size_t   cap;
} buf_t;


typedef struct {
    buf_t    creq;
    buf_t    sts;
    int      creq_calls;
    int      sts_calls;
} sink_t;


static void
buf_add(buf_t *b, const char *p, size_t len)
{
    char    *np;
    size_t   cap;

    if (b->len + len + 1 > b->cap) {
        cap = (b->len + len + 1) * 2;
        np = realloc(b->p, cap);

        if (np == NULL) {
            fprintf(stderr, "out of memory\n");
            exit(2);
        }

        b->p = np;
        b->cap = cap;
    }

    memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = '\0';
}


static void
sink_reset(sink_t *s)
{
    s->creq.len = 0;
    s->sts.len = 0;
    s->creq_calls = 0;
    s->sts_calls = 0;

    buf_add(&s->creq, "", 0);
    buf_add(&s->sts, "", 0);
}


static void
sink_free(sink_t *s)
{
    free(s->creq.p);
    free(s->sts.p);
}


static void
test_sink(void *data, int what, const char *p, size_t len)
{
    sink_t  *s;

    s = data;

    if (what == 1) {
        buf_add(&s->creq, p, len);
        s->creq_calls++;

    } else if (what == 2) {
        buf_add(&s->sts, p, len);
        s->sts_calls++;
    }
}


static char *
read_file(const char *path, size_t *len)
{
    long   n;
    FILE  *f;
    char  *p;

    f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }

    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0)
    {
        fclose(f);
        return NULL;
    }

    p = malloc(n + 1);

    if (p == NULL || fread(p, 1, n, f) != (size_t) n) {
        free(p);
        fclose(f);
        return NULL;
    }

    fclose(f);

    p[n] = '\0';
    *len = n;

    return p;
}


/* "a/b/c" ("c" may be NULL); 0, or -1 when it does not fit */

static int
path_join(char *buf, size_t size, const char *a, const char *b,
    const char *c)
{
    int  n;

    if (c) {
        n = snprintf(buf, size, "%s/%s/%s", a, b, c);

    } else {
        n = snprintf(buf, size, "%s/%s", a, b);
    }

    return (n < 0 || (size_t) n >= size) ? -1 : 0;
}


static int
is_dir(const char *path)
{
    struct stat  st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}


/* the directory of this source file, as the compiler saw it */

static void
source_dir(char *buf, size_t size)
{
    const char  *slash;

    slash = strrchr(__FILE__, '/');

    if (slash == NULL) {
        snprintf(buf, size, ".");

    } else {
        snprintf(buf, size, "%.*s", (int) (slash - __FILE__), __FILE__);
    }
}


static time_t
parse_time(const char *s)
{
    struct tm  tm;

    memset(&tm, 0, sizeof(tm));

    /* "2015-08-30T12:36:00Z" or "20150830T123600Z" */

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6
        && sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
    {
        return (time_t) -1;
    }

    tm.tm_year -= 1900;
    tm.tm_mon -= 1;

    return timegm(&tm);
}


static aigw_str_t
json_str(json_t *obj, const char *key)
{
    json_t      *v;
    aigw_str_t   s;

    v = json_object_get(obj, key);

    if (json_is_string(v)) {
        s.data = json_string_value(v);
        s.len = json_string_length(v);

    } else {
        s.data = "";
        s.len = 0;
    }

    return s;
}


/* 1. the official SigV4 test suite */

typedef struct {
    aigw_str_t      method;
    aigw_str_t      path;
    aigw_str_t      query;
    aigw_header_t   headers[TEST_MAX_HEADERS];
    size_t          nheaders;
    const char     *body;
    size_t          body_len;
} request_t;


/*
 * request.txt: the request line (the target may hold spaces), headers
 * with folded continuation lines and repeated names, a blank line, the
 * body
 */

static int
parse_request(char *data, size_t len, request_t *r)
{
    char           *p, *end, *le, *sp, *http, *q, *colon;
    aigw_header_t  *h;

    memset(r, 0, sizeof(request_t));

    p = data;
    end = data + len;

    le = memchr(p, '\n', end - p);
    if (le == NULL) {
        le = end;
    }

    sp = memchr(p, ' ', le - p);
    http = memmem(p, le - p, " HTTP/", 6);

    while (http) {
        q = memmem(http + 1, le - http - 1, " HTTP/", 6);
        if (q == NULL) {
            break;
        }

        http = q;
    }

    if (sp == NULL || http == NULL || http < sp) {
        return -1;
    }

    r->method.data = p;
    r->method.len = sp - p;

    q = memchr(sp + 1, '?', http - sp - 1);

    r->path.data = sp + 1;
    r->path.len = (q ? q : http) - (sp + 1);

    if (q) {
        r->query.data = q + 1;
        r->query.len = http - q - 1;

    } else {
        r->query.data = "";
    }

    r->body = "";

    for (p = le + 1; p < end; p = le + 1) {
        le = memchr(p, '\n', end - p);
        if (le == NULL) {
            le = end;
        }

        if (le == p) {
            r->body = le + 1 <= end ? le + 1 : end;
            r->body_len = end - r->body;
            break;
        }

        if ((*p == ' ' || *p == '\t') && r->nheaders > 0) {
            h = &r->headers[r->nheaders - 1];
            h->value.len = le - h->value.data;
            continue;
        }

        colon = memchr(p, ':', le - p);
        if (colon == NULL || r->nheaders == TEST_MAX_HEADERS) {
            return -1;
        }

        h = &r->headers[r->nheaders++];
        h->name.data = p;
        h->name.len = colon - p;
        h->value.data = colon + 1;
        h->value.len = le - colon - 1;
    }

    return 0;
}


static char *
read_vector_file(const char *dir, const char *name, const char *file,
    size_t *len)
{
    char  path[4096];

    if (path_join(path, sizeof(path), dir, name, file) != 0) {
        return NULL;
    }

    return read_file(path, len);
}


static int
run_suite_vector(const char *dir, const char *name)
{
    int                   ok;
    char                 *req, *creq, *sts, *sig, *signed_req, *a, *ae;
    char                  hash[64], auth[2048];
    size_t                req_len, creq_len, sts_len, sig_len, sr_len;
    json_t               *ctx, *creds, *v;
    sink_t                sink;
    request_t             r;
    json_error_t          err;
    aigw_creds_t          c;
    aigw_sigv4_input_t    in;
    aigw_sigv4_output_t   out;
    char                  path[4096];

    ok = 1;
    memset(&sink, 0, sizeof(sink));
    sink_reset(&sink);

    ctx = NULL;

    if (path_join(path, sizeof(path), dir, name, "context.json") == 0) {
        ctx = json_load_file(path, 0, &err);
    }

    req = read_vector_file(dir, name, "request.txt", &req_len);
    creq = read_vector_file(dir, name, "header-canonical-request.txt",
                            &creq_len);
    sts = read_vector_file(dir, name, "header-string-to-sign.txt", &sts_len);
    sig = read_vector_file(dir, name, "header-signature.txt", &sig_len);
    signed_req = read_vector_file(dir, name, "header-signed-request.txt",
                                  &sr_len);

    if (!CHECK(ctx != NULL && req && creq && sts && sig && signed_req)) {
        fprintf(stderr, "    %s: missing or unreadable files\n", name);
        ok = 0;
        goto done;
    }

    if (!CHECK(parse_request(req, req_len, &r) == 0)) {
        fprintf(stderr, "    %s: cannot parse request.txt\n", name);
        ok = 0;
        goto done;
    }

    creds = json_object_get(ctx, "credentials");

    c.access_key = json_str(creds, "access_key_id");
    c.secret_key = json_str(creds, "secret_access_key");
    c.session_token = json_str(creds, "token");

    memset(&in, 0, sizeof(in));

    in.method = r.method;
    in.path = r.path;
    in.query = r.query;
    in.headers = r.headers;
    in.nheaders = r.nheaders;
    in.region = json_str(ctx, "region");
    in.service = json_str(ctx, "service");
    in.now = parse_time(json_string_value(json_object_get(ctx,
                                                          "timestamp")));
    in.creds = &c;
    in.sink = test_sink;
    in.sink_data = &sink;

    aigw_sha256_hex(hash, r.body, r.body_len);
    in.payload_hash.data = hash;
    in.payload_hash.len = 64;

    v = json_object_get(ctx, "normalize");
    if (json_is_true(v)) {
        in.flags |= AIGW_SIGV4_NORMALIZE_PATH;
    }

    v = json_object_get(ctx, "sign_body");
    if (json_is_true(v)) {
        in.flags |= AIGW_SIGV4_SIGN_CONTENT_SHA;
    }

    v = json_object_get(ctx, "omit_session_token");
    if (json_is_true(v)) {
        in.flags |= AIGW_SIGV4_TOKEN_UNSIGNED;
    }

    if (!CHECK(aigw_sigv4_auth_size(&in) <= sizeof(auth))
        || !CHECK_EQ(aigw_sigv4_sign(&in, &out, auth, sizeof(auth)), 0))
    {
        fprintf(stderr, "    %s: signing failed\n", name);
        ok = 0;
        goto done;
    }

    ok &= CHECK_MEM(sink.creq.p, sink.creq.len, creq, creq_len);
    ok &= CHECK_MEM(sink.sts.p, sink.sts.len, sts, sts_len);
    ok &= CHECK_MEM(out.signature, strlen(out.signature), sig, sig_len);

    a = strstr(signed_req, "\nAuthorization:");

    if (CHECK(a != NULL)) {
        a += sizeof("\nAuthorization:") - 1;
        ae = strchr(a, '\n');
        if (ae == NULL) {
            ae = a + strlen(a);
        }

        ok &= CHECK_MEM(out.authorization, out.authorization_len, a,
                        (size_t) (ae - a));
        ok &= CHECK_EQ_SIZE(strlen(out.authorization),
                            out.authorization_len);

    } else {
        ok = 0;
    }

done:

    json_decref(ctx);
    free(req);
    free(creq);
    free(sts);
    free(sig);
    free(signed_req);
    sink_free(&sink);

    return ok;
}


static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char * const *) a, *(char * const *) b);
}


static void
test_suite(void)
{
    int             passed, failed;
    DIR            *d;
    char            testdata[4096], dir[4096], src[2048], probe[8192];
    char           *names[512];
    size_t          i, n;
    const char     *env;
    struct dirent  *de;

    env = getenv("AIGW_TESTDATA");

    if (env && *env) {
        snprintf(testdata, sizeof(testdata), "%s", env);

    } else if (is_dir("../shared/testdata")) {
        snprintf(testdata, sizeof(testdata), "../shared/testdata");

    } else {
        /* t/unit/../../ is the repository */
        source_dir(src, sizeof(src));
        if (path_join(testdata, sizeof(testdata), src,
                      "../../../shared/testdata", NULL) != 0
            || !is_dir(testdata))
        {
            snprintf(testdata, sizeof(testdata), "../shared/testdata");
        }
    }

    if (path_join(dir, sizeof(dir), testdata, "sigv4", NULL) != 0) {
        dir[0] = '\0';
    }

    if (!is_dir(dir)) {
        printf("skip: SigV4 test suite not found at %s (set AIGW_TESTDATA)\n",
               dir);
        return;
    }

    d = opendir(dir);
    if (!CHECK(d != NULL)) {
        return;
    }

    n = 0;

    while ((de = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0]))
    {
        if (de->d_name[0] == '.') {
            continue;
        }

        if (path_join(probe, sizeof(probe), dir, de->d_name, "context.json")
            != 0
            || access(probe, R_OK) != 0)
        {
            continue;
        }

        names[n] = strdup(de->d_name);

        if (names[n]) {
            n++;
        }
    }

    closedir(d);

    qsort(names, n, sizeof(char *), name_cmp);

    printf("SigV4 test suite (%s):\n", dir);

    passed = 0;
    failed = 0;

    for (i = 0; i < n; i++) {
        if (run_suite_vector(dir, names[i])) {
            printf("  ok    %s\n", names[i]);
            passed++;

        } else {
            printf("  FAIL  %s\n", names[i]);
            failed++;
        }

        free(names[i]);
    }

    CHECK(n > 0);

    printf("SigV4 test suite: %d of %zu vectors passed, %d failed\n", passed,
           n, failed);
}


/* 2. botocore's Bedrock and SageMaker vectors */

static int
run_bedrock_vector(json_t *v, aigw_sigv4_cache_t *cache)
{
    int                   ok;
    char                  hash[64], auth[1024], path[4096], host[256];
    char                 *id;
    size_t                n;
    sink_t                sink;
    const char           *reason;
    aigw_str_t            raw, body, service_name, target;
    aigw_creds_t          c;
    aigw_header_t         h;
    aigw_service_e        service;
    const aigw_op_t      *op, *parsed;
    aigw_sigv4_input_t    in;
    aigw_sigv4_output_t   out;

    ok = 1;
    memset(&sink, 0, sizeof(sink));
    sink_reset(&sink);

    /* the path as aigw builds it, and back */

    service_name = json_str(v, "service");
    service = strcmp(service_name.data, "sagemaker") == 0
              ? AIGW_SERVICE_SAGEMAKER : AIGW_SERVICE_BEDROCK;

    ok &= CHECK_STR(aigw_service_signing_names[service], service_name.data);

    target = json_str(v, "target");
    op = aigw_op_by_suffix(service, json_str(v, "operation").data,
                           json_str(v, "operation").len);

    if (!CHECK(op != NULL)) {
        sink_free(&sink);
        return 0;
    }

    n = aigw_target_upstream_path(NULL, op, target.data, target.len);

    if (CHECK(n < sizeof(path))) {
        n = aigw_target_upstream_path(path, op, target.data, target.len);
        ok &= CHECK_MEM(path, n, json_str(v, "path").data,
                        json_str(v, "path").len);
    }

    parsed = NULL;
    reason = NULL;

    ok &= CHECK_EQ(aigw_target_parse_path(json_str(v, "path").data,
                                          json_str(v, "path").len,
                                          &parsed, &raw, &reason),
                   AIGW_TARGET_OK);
    ok &= CHECK(parsed == op);

    id = malloc(raw.len + 1);

    if (CHECK(id != NULL)) {
        n = aigw_target_decode_id(service, id, raw.data, raw.len, &reason);
        ok &= CHECK(n != (size_t) -1);

        if (n != (size_t) -1) {
            ok &= CHECK_MEM(id, n, target.data, target.len);
        }

        free(id);
    }

    if (strcmp(json_str(v, "host").data, "localhost:8443") != 0) {
        n = aigw_target_default_host(host, sizeof(host), service,
                                     json_str(v, "region").data,
                                     json_str(v, "region").len);
        ok &= CHECK_STR(host, json_str(v, "host").data);
    }

    /* the signature */

    body = json_str(v, "body");
    aigw_sha256_hex(hash, body.data, body.len);
    ok &= CHECK_MEM(hash, 64, json_str(v, "payload_hash").data,
                    json_str(v, "payload_hash").len);

    c.access_key = json_str(v, "access_key");
    c.secret_key = json_str(v, "secret_key");
    c.session_token = json_str(v, "token");

    h.name.data = "host";
    h.name.len = 4;
    h.value = json_str(v, "host");

    memset(&in, 0, sizeof(in));

    in.method = json_str(v, "method");
    in.path = json_str(v, "path");
    in.query.data = "";
    in.query.len = 0;
    in.headers = &h;
    in.nheaders = 1;
    in.payload_hash.data = hash;
    in.payload_hash.len = 64;
    in.region = json_str(v, "region");
    in.service = service_name;
    in.now = parse_time(json_str(v, "timestamp").data);
    in.creds = &c;
    in.flags = AIGW_SIGV4_NORMALIZE_PATH | AIGW_SIGV4_SIGN_CONTENT_SHA;
    in.cache = cache;
    in.sink = test_sink;
    in.sink_data = &sink;

    if (!CHECK_EQ(aigw_sigv4_sign(&in, &out, auth, sizeof(auth)), 0)) {
        sink_free(&sink);
        return 0;
    }

    ok &= CHECK_MEM(out.amz_date, strlen(out.amz_date),
                    json_str(v, "timestamp").data,
                    json_str(v, "timestamp").len);
    ok &= CHECK_MEM(sink.creq.p, sink.creq.len,
                    json_str(v, "canonical_request").data,
                    json_str(v, "canonical_request").len);
    ok &= CHECK_MEM(sink.sts.p, sink.sts.len,
                    json_str(v, "string_to_sign").data,
                    json_str(v, "string_to_sign").len);
    ok &= CHECK_STR(out.signature, json_str(v, "signature").data);
    ok &= CHECK_STR(out.authorization, json_str(v, "authorization").data);
    ok &= CHECK_EQ_SIZE(out.authorization_len, strlen(out.authorization));

    /* and again without the sink, without the cache */

    in.sink = NULL;
    in.cache = NULL;

    ok &= CHECK_EQ(aigw_sigv4_sign(&in, &out, auth, sizeof(auth)), 0);
    ok &= CHECK_STR(out.authorization, json_str(v, "authorization").data);

    sink_free(&sink);

    return ok;
}


static void
test_bedrock_vectors(void)
{
    int                  passed, failed;
    char                 src[2048], path[4096];
    size_t               i;
    json_t              *doc, *vectors, *v;
    json_error_t         err;
    aigw_sigv4_cache_t   cache;

    snprintf(path, sizeof(path), "t/unit/sigv4_bedrock_vectors.json");

    doc = json_load_file(path, 0, &err);

    if (doc == NULL) {
        source_dir(src, sizeof(src));

        if (path_join(path, sizeof(path), src, "sigv4_bedrock_vectors.json",
                      NULL) == 0)
        {
            doc = json_load_file(path, 0, &err);
        }
    }

    if (!CHECK(doc != NULL)) {
        fprintf(stderr, "    %s: %s\n", path, err.text);
        return;
    }

    vectors = json_object_get(doc, "vectors");

    CHECK(json_array_size(vectors) >= 12);

    memset(&cache, 0, sizeof(cache));

    printf("botocore SigV4 vectors (%s):\n", path);

    passed = 0;
    failed = 0;

    json_array_foreach(vectors, i, v) {
        if (run_bedrock_vector(v, &cache)) {
            printf("  ok    %s\n", json_str(v, "name").data);
            passed++;

        } else {
            printf("  FAIL  %s\n", json_str(v, "name").data);
            failed++;
        }
    }

    printf("botocore SigV4 vectors: %d of %zu passed, %d failed\n", passed,
           json_array_size(vectors), failed);

    json_decref(doc);
}


/* 3. the pieces */

static void
test_signing_key(void)
{
    char            hex[64], secret[200], k[300];
    size_t          i;
    unsigned char   key[32], t1[32], t2[32];
    aigw_str_t      s, region, service;

    static const size_t  lens[] = { 0, 1, 40, 59, 60, 61, 64, 65, 100, 200 };

    /* AWS's documented example */

    s.data = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    s.len = strlen(s.data);
    region.data = "us-east-1";
    region.len = 9;
    service.data = "iam";
    service.len = 3;

    aigw_sigv4_signing_key(&s, "20120215", &region, &service, key);
    aigw_hex(hex, key, 32);
    CHECK_MEM(hex, 64, "f4780e2d9f65fa895f9c67b32ce1baf0"
                       "b0d8a43505a000a1a9e090d414db404d", 64);

    /* secrets at and beyond the HMAC block: "AWS4" + secret hashed */

    memset(secret, 'S', sizeof(secret));

    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        s.data = secret;
        s.len = lens[i];

        memcpy(k, "AWS4", 4);
        memcpy(k + 4, secret, s.len);

        aigw_hmac_sha256(t1, k, 4 + s.len, "20120215", 8);
        aigw_hmac_sha256(t2, t1, 32, "us-east-1", 9);
        aigw_hmac_sha256(t1, t2, 32, "iam", 3);
        aigw_hmac_sha256(t2, t1, 32, "aws4_request", 12);

        aigw_sigv4_signing_key(&s, "20120215", &region, &service, key);

        if (!CHECK_MEM(key, 32, t2, 32)) {
            fprintf(stderr, "    secret of %zu bytes\n", s.len);
        }
    }
}


static void
test_amz_date(void)
{
    char       buf[AIGW_AMZ_DATE_LEN + 1], ref[AIGW_AMZ_DATE_LEN + 1];
    time_t     t;
    struct tm  tm;

    aigw_sigv4_amz_date(1440938160, buf);
    CHECK_STR(buf, "20150830T123600Z");

    aigw_sigv4_amz_date(0, buf);
    CHECK_STR(buf, "19700101T000000Z");

    aigw_sigv4_amz_date(951782400, buf);
    CHECK_STR(buf, "20000229T000000Z");

    /* as strftime() gives it, years 1000 to 9999; zeros outside them */

    for (t = (time_t) -30610224000LL - 86400 * 3;
         t < (time_t) 253402300800LL + 86400 * 3;
         t += 86400 * 37 + 3607)
    {
        aigw_sigv4_amz_date(t, buf);

        if (gmtime_r(&t, &tm) == NULL
            || tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900)
        {
            strcpy(ref, "00000000T000000Z");

        } else {
            strftime(ref, sizeof(ref), "%Y%m%dT%H%M%SZ", &tm);
        }

        if (!CHECK_STR(buf, ref)) {
            break;
        }
    }
}


typedef struct {
    aigw_header_t        headers[TEST_MAX_HEADERS + 2];
    aigw_creds_t         creds;
    aigw_sigv4_input_t   in;
    aigw_sigv4_output_t  out;
    sink_t               sink;
    char                 auth[4096];
} simple_t;


static void
simple_init(simple_t *t)
{
    static const aigw_str_t  akid = S("AKIDEXAMPLE");
    static const aigw_str_t  secret =
                              S("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
    static const aigw_str_t  host_name = S("host");
    static const aigw_str_t  host_value = S("example.amazonaws.com");
    static const aigw_str_t  empty_hash =
        S("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    memset(t, 0, sizeof(simple_t));

    t->creds.access_key = akid;
    t->creds.secret_key = secret;

    t->headers[0].name = host_name;
    t->headers[0].value = host_value;

    t->in.method.data = "GET";
    t->in.method.len = 3;
    t->in.path.data = "/";
    t->in.path.len = 1;
    t->in.query.data = "";
    t->in.headers = t->headers;
    t->in.nheaders = 1;
    t->in.payload_hash = empty_hash;
    t->in.region.data = "us-east-1";
    t->in.region.len = 9;
    t->in.service.data = "service";
    t->in.service.len = 7;
    t->in.now = 1440938160;
    t->in.creds = &t->creds;
    t->in.sink = test_sink;
    t->in.sink_data = &t->sink;

    sink_reset(&t->sink);
}


static int
simple_sign(simple_t *t)
{
    sink_reset(&t->sink);

    return aigw_sigv4_sign(&t->in, &t->out, t->auth, sizeof(t->auth));
}


/* line "n" (0-based) of the canonical request */

static void
creq_line(simple_t *t, int n, const char **p, size_t *len)
{
    const char  *s, *e;

    s = t->sink.creq.p;

    while (n-- > 0) {
        s = strchr(s, '\n');
        if (s == NULL) {
            *p = "";
            *len = 0;
            return;
        }

        s++;
    }

    e = strchr(s, '\n');

    *p = s;
    *len = e ? (size_t) (e - s) : strlen(s);
}


static void
check_uri(const char *path, unsigned flags, const char *expected, int line)
{
    size_t       len;
    simple_t     t;
    const char  *p;

    simple_init(&t);

    t.in.path.data = path;
    t.in.path.len = strlen(path);
    t.in.flags = flags;

    if (!CHECK_EQ(simple_sign(&t), 0)) {
        fprintf(stderr, "    (URI case at line %d)\n", line);
        sink_free(&t.sink);
        return;
    }

    creq_line(&t, 1, &p, &len);

    if (!CHECK_MEM(p, len, expected, strlen(expected))) {
        fprintf(stderr, "    (URI case at line %d)\n", line);
    }

    sink_free(&t.sink);
}


static void
test_canonical_uri(void)
{
    char      path[256], enc[3 * 256];
    size_t    i;
    unsigned  n;

    n = AIGW_SIGV4_NORMALIZE_PATH;

    /* botocore's _normalize_url_path() gives these */

    check_uri("/a/b/../c/./d", n, "/a/c/d", __LINE__);
    check_uri("/a/b/..", n, "/a", __LINE__);
    check_uri("/a/b/../", n, "/a/", __LINE__);
    check_uri("/../a", n, "/a", __LINE__);
    check_uri("/a//b///", n, "/a/b/", __LINE__);
    check_uri("", n, "/", __LINE__);
    check_uri("a/b", n, "a/b", __LINE__);
    check_uri("/..", n, "/", __LINE__);
    check_uri("/%2E%2E/x", n, "/%252E%252E/x", __LINE__);
    check_uri("/a/./", n, "/a/", __LINE__);
    check_uri("/./a/b/./../c/", n, "/a/c/", __LINE__);
    check_uri("/a b/", n, "/a%20b/", __LINE__);
    check_uri("/.../x", n, "/.../x", __LINE__);
    check_uri("/..a/b..", n, "/..a/b..", __LINE__);

    check_uri("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", n,
              "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse",
              __LINE__);
    check_uri("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", 0,
              "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse",
              __LINE__);

    /* S3: as is */

    check_uri("/bucket/key%3A1/a%20b", AIGW_SIGV4_NO_DOUBLE_ENCODE,
              "/bucket/key%3A1/a%20b", __LINE__);
    check_uri("/a/./b//c", AIGW_SIGV4_NO_DOUBLE_ENCODE, "/a/./b//c",
              __LINE__);
    check_uri("/a/./b//c/..", AIGW_SIGV4_NO_DOUBLE_ENCODE | n, "/a/b",
              __LINE__);

    /* not normalised */

    check_uri("/a/./b//c/..", 0, "/a/./b//c/..", __LINE__);
    check_uri("", 0, "/", __LINE__);

    /* every byte but NUL, as aigw_uri_encode() encodes it */

    for (i = 0; i < 255; i++) {
        path[i] = (char) (i + 1);
    }

    path[255] = '\0';

    enc[aigw_uri_encode(enc, path, 255, 1)] = '\0';
    check_uri(path, 0, enc, __LINE__);

    path[0] = '/';
    path['/' - 1] = 'x';
    path[254] = '/';
    enc[aigw_uri_encode(enc, path, 255, 1)] = '\0';
    check_uri(path, n, enc, __LINE__);
}


static void
check_query(const char *query, const char *expected, int line)
{
    size_t       len;
    simple_t     t;
    const char  *p;

    simple_init(&t);

    t.in.query.data = query;
    t.in.query.len = strlen(query);

    if (!CHECK_EQ(simple_sign(&t), 0)) {
        fprintf(stderr, "    (query case at line %d)\n", line);
        sink_free(&t.sink);
        return;
    }

    creq_line(&t, 2, &p, &len);

    if (!CHECK_MEM(p, len, expected, strlen(expected))) {
        fprintf(stderr, "    (query case at line %d)\n", line);
    }

    sink_free(&t.sink);
}


static void
test_canonical_query(void)
{
    char      *q;
    size_t     i;
    simple_t   t;

    check_query("", "", __LINE__);
    check_query("a=1", "a=1", __LINE__);
    check_query("b=2&a=1", "a=1&b=2", __LINE__);
    check_query("a=2&a=1&a=10", "a=1&a=10&a=2", __LINE__);
    check_query("c&d=&a", "a=&c=&d=", __LINE__);
    check_query("k=a b", "k=a%20b", __LINE__);
    check_query("k=a+b", "k=a%2Bb", __LINE__);
    check_query("k=a%20b", "k=a%20b", __LINE__);
    check_query("k=a%2fb", "k=a%2Fb", __LINE__);
    check_query("k=%7e%2D%2e%5F", "k=~-._", __LINE__);
    check_query("k=a=b", "k=a%3Db", __LINE__);
    check_query("%zz=1&k=%4", "%25zz=1&k=%254", __LINE__);
    check_query("&&a=1&", "a=1", __LINE__);
    check_query("=v&a=1", "=v&a=1", __LINE__);

    /* by encoded key: '%' sorts before every unreserved character */

    check_query("A=1&%7B=2", "%7B=2&A=1", __LINE__);
    check_query("z=1&!=2", "%21=2&z=1", __LINE__);
    check_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1",
                "%E1%88%B4=Value1&Param=Value2&Param-3=Value3", __LINE__);
    check_query("%41=1&%3A=2&B=3", "%3A=2&A=1&B=3", __LINE__);
    check_query("x=%FF&x=%0A&x=a", "x=%0A&x=%FF&x=a", __LINE__);
    check_query("ab=1&a=2", "a=2&ab=1", __LINE__);

    /* too many arguments */

    q = malloc(4 * (AIGW_SIGV4_MAX_QUERY_ARGS + 1) + 1);
    if (!CHECK(q != NULL)) {
        return;
    }

    for (i = 0; i < AIGW_SIGV4_MAX_QUERY_ARGS + 1; i++) {
        snprintf(q + 4 * i, 5, "a=%c&", (char) ('A' + i % 26));
    }

    simple_init(&t);
    t.in.query.data = q;
    t.in.query.len = 4 * AIGW_SIGV4_MAX_QUERY_ARGS - 1;
    CHECK_EQ(simple_sign(&t), 0);

    t.in.query.len = 4 * (AIGW_SIGV4_MAX_QUERY_ARGS + 1) - 1;
    CHECK_EQ(simple_sign(&t), -1);

    sink_free(&t.sink);
    free(q);
}


static void
test_canonical_headers(void)
{
    simple_t  t;

    static const char  *expected =
        "GET\n/\n\n"
        "content-type:application/json\n"
        "host:example.amazonaws.com\n"
        "my-header:a b,c d,,e\n"
        "x-amz-content-sha256:"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
        "x-amz-date:20150830T123600Z\n"
        "x-amz-security-token:TOKEN\n"
        "\n"
        "content-type;host;my-header;x-amz-content-sha256;x-amz-date;"
        "x-amz-security-token\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    simple_init(&t);

    t.headers[1].name.data = "My-Header";
    t.headers[1].name.len = 9;
    t.headers[1].value.data = "  a \t\r\n  b  ";
    t.headers[1].value.len = 12;

    t.headers[2].name.data = "Content-Type";
    t.headers[2].name.len = 12;
    t.headers[2].value.data = "application/json";
    t.headers[2].value.len = 16;

    t.headers[3].name.data = "my-header";
    t.headers[3].name.len = 9;
    t.headers[3].value.data = "c   d";
    t.headers[3].value.len = 5;

    t.headers[4].name.data = "MY-HEADER";
    t.headers[4].name.len = 9;
    t.headers[4].value.data = " ";
    t.headers[4].value.len = 1;

    t.headers[5].name.data = "my-header";
    t.headers[5].name.len = 9;
    t.headers[5].value.data = "e";
    t.headers[5].value.len = 1;

    /* the caller's own x-amz-date and token are replaced */

    t.headers[6].name.data = "X-Amz-Date";
    t.headers[6].name.len = 10;
    t.headers[6].value.data = "19990101T000000Z";
    t.headers[6].value.len = 16;

    t.headers[7].name.data = "x-amz-security-token";
    t.headers[7].name.len = 20;
    t.headers[7].value.data = "OLD";
    t.headers[7].value.len = 3;

    t.in.nheaders = 8;
    t.in.flags = AIGW_SIGV4_SIGN_CONTENT_SHA;
    t.creds.session_token.data = "TOKEN";
    t.creds.session_token.len = 5;

    CHECK_EQ(simple_sign(&t), 0);
    CHECK_STR(t.sink.creq.p, expected);
    CHECK(strstr(t.out.authorization, ", SignedHeaders=content-type;host;"
                 "my-header;x-amz-content-sha256;x-amz-date;"
                 "x-amz-security-token, Signature=") != NULL);

    /* the token unsigned */

    t.in.nheaders = 1;
    t.in.flags = AIGW_SIGV4_TOKEN_UNSIGNED;

    CHECK_EQ(simple_sign(&t), 0);
    CHECK(strstr(t.sink.creq.p, "token") == NULL);
    CHECK(strstr(t.out.authorization, "SignedHeaders=host;x-amz-date,")
          != NULL);

    /* the sink gets the string to sign once, whole */

    CHECK_EQ(t.sink.sts_calls, 1);
    CHECK(t.sink.creq_calls >= 1);

    sink_free(&t.sink);
}


static void
test_bad_input(void)
{
    size_t    i;
    simple_t  t;

    simple_init(&t);
    CHECK_EQ(simple_sign(&t), 0);

    /* no host */

    t.headers[0].name.data = "hostx";
    t.headers[0].name.len = 5;
    CHECK_EQ(simple_sign(&t), -1);

    t.headers[0].name.data = "HOST";
    t.headers[0].name.len = 4;
    CHECK_EQ(simple_sign(&t), 0);

    t.in.nheaders = 0;
    CHECK_EQ(simple_sign(&t), -1);
    t.in.nheaders = 1;

    /* as many headers as allowed, and one more */

    for (i = 1; i < TEST_MAX_HEADERS + 1; i++) {
        t.headers[i].name.data = "x-h";
        t.headers[i].name.len = 3;
        t.headers[i].value.data = "v";
        t.headers[i].value.len = 1;
    }

    t.in.nheaders = TEST_MAX_HEADERS;
    CHECK_EQ(simple_sign(&t), 0);

    t.in.nheaders = TEST_MAX_HEADERS + 1;
    CHECK_EQ(simple_sign(&t), -1);
    t.in.nheaders = 1;

    /* an empty header name */

    t.headers[1].name.len = 0;
    t.in.nheaders = 2;
    CHECK_EQ(simple_sign(&t), -1);
    t.in.nheaders = 1;

    /* region and service: 31 bytes at most, printable */

    t.in.region.data = "abcdefghijklmnopqrstuvwxyz01234";
    t.in.region.len = 31;
    CHECK_EQ(simple_sign(&t), 0);

    t.in.region.data = "abcdefghijklmnopqrstuvwxyz012345";
    t.in.region.len = 32;
    CHECK_EQ(simple_sign(&t), -1);

    t.in.region.len = 0;
    CHECK_EQ(simple_sign(&t), -1);

    t.in.region.data = "us\0east";
    t.in.region.len = 7;
    CHECK_EQ(simple_sign(&t), -1);

    t.in.region.data = "us-east-1";
    t.in.region.len = 9;

    t.in.service.data = "serv/ice";
    t.in.service.len = 8;
    CHECK_EQ(simple_sign(&t), -1);

    t.in.service.data = "service";
    t.in.service.len = 7;

    /* an access key that would break the header */

    t.creds.access_key.data = "AKID\r\nX: 1";
    t.creds.access_key.len = 10;
    CHECK_EQ(simple_sign(&t), -1);

    t.creds.access_key.data = "AKIDEXAMPLE";
    t.creds.access_key.len = 11;

    /* empty strings may come as NULL */

    t.in.query.data = NULL;
    t.in.query.len = 0;
    t.headers[1].name.data = "x-empty";
    t.headers[1].name.len = 7;
    t.headers[1].value.data = NULL;
    t.headers[1].value.len = 0;
    t.in.nheaders = 2;
    CHECK_EQ(simple_sign(&t), 0);
    CHECK(strstr(t.sink.creq.p, "\n\nhost:example.amazonaws.com\nx-amz-date:"
                 "20150830T123600Z\nx-empty:\n\nhost;x-amz-date;x-empty\n")
          != NULL);
    t.in.query.data = "";
    t.in.nheaders = 1;

    /* no credentials */

    t.in.creds = NULL;
    CHECK_EQ(simple_sign(&t), -1);
    t.in.creds = &t.creds;

    CHECK_EQ(simple_sign(&t), 0);

    sink_free(&t.sink);
}


static void
test_auth_size(void)
{
    size_t    need, size, i;
    simple_t  t;
    char      big[4096];

    simple_init(&t);

    for (i = 1; i < 6; i++) {
        t.headers[i].name.data = "X-Some-Longer-Header-Name";
        t.headers[i].name.len = 25;
        t.headers[i].value.data = "v";
        t.headers[i].value.len = 1;
    }

    t.in.nheaders = 6;
    t.in.flags = AIGW_SIGV4_SIGN_CONTENT_SHA;
    t.creds.session_token.data = "TOKEN";
    t.creds.session_token.len = 5;

    size = aigw_sigv4_auth_size(&t.in);

    CHECK_EQ(aigw_sigv4_sign(&t.in, &t.out, big, sizeof(big)), 0);
    need = t.out.authorization_len + 1;

    CHECK(size >= need);
    CHECK_EQ(aigw_sigv4_sign(&t.in, &t.out, big, size), 0);
    CHECK_EQ(aigw_sigv4_sign(&t.in, &t.out, big, need), 0);
    CHECK_EQ_SIZE(strlen(big), need - 1);
    CHECK(t.out.authorization == big);

    for (i = 0; i < need; i++) {
        if (!CHECK_EQ(aigw_sigv4_sign(&t.in, &t.out, big, i), -1)) {
            fprintf(stderr, "    buffer of %zu bytes accepted\n", i);
            break;
        }
    }

    /* without the content hash and the token it only shrinks */

    t.in.flags = 0;
    t.creds.session_token.len = 0;
    CHECK_EQ(aigw_sigv4_sign(&t.in, &t.out, big, sizeof(big)), 0);
    CHECK(aigw_sigv4_auth_size(&t.in) >= t.out.authorization_len + 1);

    sink_free(&t.sink);
}


static void
test_cache(void)
{
    char                 sig[65], region[16];
    size_t               i;
    simple_t             t;
    aigw_sigv4_cache_t   cache;

    simple_init(&t);
    memset(&cache, 0, sizeof(cache));

    t.in.sink = NULL;

    CHECK_EQ(simple_sign(&t), 0);
    memcpy(sig, t.out.signature, sizeof(sig));

    t.in.cache = &cache;

    CHECK_EQ(simple_sign(&t), 0);
    CHECK_STR(t.out.signature, sig);
    CHECK_EQ(cache.misses, 1);
    CHECK_EQ(cache.hits, 0);

    CHECK_EQ(simple_sign(&t), 0);
    CHECK_STR(t.out.signature, sig);
    CHECK_EQ(cache.misses, 1);
    CHECK_EQ(cache.hits, 1);

    /* the cache holds no copy of the secret */

    CHECK(memmem(&cache, sizeof(cache), t.creds.secret_key.data,
                 t.creds.secret_key.len) == NULL);

    /* another secret, day, service: misses */

    t.creds.secret_key.data = "another-secret";
    t.creds.secret_key.len = 14;
    CHECK_EQ(simple_sign(&t), 0);
    CHECK(strcmp(t.out.signature, sig) != 0);
    CHECK_EQ(cache.misses, 2);

    t.in.now += 86400;
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.misses, 3);

    t.in.now += 60;
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.misses, 3);
    CHECK_EQ(cache.hits, 2);

    t.in.service.data = "servic";
    t.in.service.len = 6;
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.misses, 4);

    /* the least recently used goes: fill 8 regions, touch r0, add r8 */

    memset(&cache, 0, sizeof(cache));
    t.in.region.data = region;

    for (i = 0; i < AIGW_SIGV4_CACHE_SIZE; i++) {
        t.in.region.len = snprintf(region, sizeof(region), "r%zu", i);
        CHECK_EQ(simple_sign(&t), 0);
    }

    CHECK_EQ(cache.misses, AIGW_SIGV4_CACHE_SIZE);

    t.in.region.len = snprintf(region, sizeof(region), "r0");
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.hits, 1);

    t.in.region.len = snprintf(region, sizeof(region), "r8");
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.misses, AIGW_SIGV4_CACHE_SIZE + 1);

    t.in.region.len = snprintf(region, sizeof(region), "r0");
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.hits, 2);

    t.in.region.len = snprintf(region, sizeof(region), "r1");
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.misses, AIGW_SIGV4_CACHE_SIZE + 2);

    /* a region that is a prefix of a cached one is another region */

    t.in.region.len = snprintf(region, sizeof(region), "r");
    CHECK_EQ(simple_sign(&t), 0);
    CHECK_EQ(cache.misses, AIGW_SIGV4_CACHE_SIZE + 3);

    /* the tick wraps: the cache starts again, signatures stay right */

    t.in.region.data = "us-east-1";
    t.in.region.len = 9;
    t.in.service.data = "service";
    t.in.service.len = 7;
    t.in.now = 1440938160;
    t.creds.secret_key.data = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    t.creds.secret_key.len = 40;

    cache.tick = (unsigned) -2;

    for (i = 0; i < 4; i++) {
        CHECK_EQ(simple_sign(&t), 0);
        CHECK_STR(t.out.signature, sig);
    }

    sink_free(&t.sink);
}


/*
 * The HMAC pads of cached keys are kept by entry position: caches that
 * take turns in a position, a cache zeroed again, the pads freed, all
 * sign as without a cache.
 */

static void
test_cache_pads(void)
{
    char                 sig[2][65];
    size_t               i, k;
    simple_t             t;
    aigw_sigv4_cache_t   cache[2];

    static const char  *secrets[2] = {
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "another-secret"
    };

    simple_init(&t);
    t.in.sink = NULL;

    for (k = 0; k < 2; k++) {
        t.creds.secret_key.data = secrets[k];
        t.creds.secret_key.len = strlen(secrets[k]);
        CHECK_EQ(simple_sign(&t), 0);
        memcpy(sig[k], t.out.signature, sizeof(sig[k]));
    }

    CHECK(strcmp(sig[0], sig[1]) != 0);

    memset(cache, 0, sizeof(cache));

    for (i = 0; i < 6; i++) {
        k = i % 2;

        if (i == 4) {
            aigw_sigv4_cleanup();
            memset(&cache[1], 0, sizeof(cache[1]));
        }

        /* the same key in the first position of each cache */

        t.in.cache = &cache[k];
        t.creds.secret_key.data = secrets[k];
        t.creds.secret_key.len = strlen(secrets[k]);

        CHECK_EQ(simple_sign(&t), 0);
        CHECK_STR(t.out.signature, sig[k]);
        CHECK_EQ(simple_sign(&t), 0);
        CHECK_STR(t.out.signature, sig[k]);
    }

    CHECK_EQ(cache[0].misses, 1);
    CHECK_EQ(cache[0].hits, 5);
    CHECK_EQ(cache[1].misses, 1);               /* zeroed before i == 5 */
    CHECK_EQ(cache[1].hits, 1);

    /* a copy of a cache holds the same keys */

    cache[1] = cache[0];
    t.in.cache = &cache[1];
    t.creds.secret_key.data = secrets[0];
    t.creds.secret_key.len = strlen(secrets[0]);

    CHECK_EQ(simple_sign(&t), 0);
    CHECK_STR(t.out.signature, sig[0]);
    CHECK_EQ(cache[1].misses, 1);

    sink_free(&t.sink);
}


int
main(void)
{
    test_suite();
    test_bedrock_vectors();
    test_signing_key();
    test_amz_date();
    test_canonical_uri();
    test_canonical_query();
    test_canonical_headers();
    test_bad_input();
    test_auth_size();
    test_cache();
    test_cache_pads();

    aigw_sigv4_cleanup();
    aigw_util_cleanup();

    return unit_done("test_sigv4");
}
