
/*
 * aigw: unit tests of aigw_usage.c.
 *
 *   - every capture of $AIGW_TESTDATA/bedrock-captures (default
 *     ../shared/testdata) yields its expected-usage.json, fed whole, at
 *     every split (bodies under 6 KB) or at seeded random splits, and one
 *     byte at a time; without the token headers, the body's own counts;
 *     cut short, "partial";
 *   - synthetic: SageMaker TGI and OpenAI-style bodies and streams (SSE
 *     split anywhere, JSON lines), exceptions mid-stream, error statuses,
 *     CRC errors, oversized frames, deep JSON, huge strings, image
 *     models, the Anthropic, Llama, Nova and OpenAI-style invoke streams.
 */


#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "es_test_util.h"
#include "aigw_target.h"
#include "aigw_usage.h"


#define SMALL_BODY   6144
#define RANDOM_RUNS  400
#define BIG_BODY     (1024 * 1024)         /* fewer random splits */
#define BIG_RUNS     6


typedef struct {
    const char            *name;
    aigw_op_e              op;
    const char            *model;
    aigw_usage_format_e    format;
    unsigned               status;
    const char            *headers[32];     /* name, value, ..., NULL */
    const unsigned char   *req;
    size_t                 req_len;
    const unsigned char   *body;
    size_t                 len;
    int                    req_bytewise;    /* the request 1 byte a time */
} input_t;


/* the result as text, to compare and to show */
static void
usage_text(const aigw_usage_t *u, char *buf, size_t size)
{
    snprintf(buf, size,
             "in=%llu out=%llu cr=%llu cw=%llu img=%llu has=%x src=%s"
             " err=%d thr=%d type=%s size=%s q=%s w=%llu h=%llu req=%llu",
             (unsigned long long) u->input_tokens,
             (unsigned long long) u->output_tokens,
             (unsigned long long) u->cache_read_input_tokens,
             (unsigned long long) u->cache_write_input_tokens,
             (unsigned long long) u->images, u->has,
             aigw_usage_source_name(u->source), (int) u->error,
             (int) u->throttled,
             u->error_type, u->image_size, u->image_quality,
             (unsigned long long) u->image_width,
             (unsigned long long) u->image_height,
             (unsigned long long) u->images_requested);
}


static void
run(const input_t *in, const size_t *cuts, size_t ncuts, int complete,
    char *text, size_t size, aigw_usage_anomalies_t *an)
{
    size_t                i, from, to;
    aigw_usage_parser_t  *up;

    up = malloc(sizeof(aigw_usage_parser_t));

    aigw_usage_init(up, in->op, in->model, in->model ? strlen(in->model) : 0,
                    in->format);

    if (in->req && aigw_usage_wants_request_body(up)) {
        if (in->req_bytewise) {
            for (i = 0; i < in->req_len; i++) {
                aigw_usage_request_body(up, in->req + i, 1);
            }

        } else {
            aigw_usage_request_body(up, in->req, in->req_len);
        }
    }

    aigw_usage_status(up, in->status);

    for (i = 0; in->headers[i]; i += 2) {
        aigw_usage_header(up, in->headers[i], strlen(in->headers[i]),
                          in->headers[i + 1], strlen(in->headers[i + 1]));
    }

    from = 0;

    for (i = 0; i <= ncuts; i++) {
        to = (cuts != NULL && i < ncuts) ? cuts[i] : in->len;
        aigw_usage_body(up, in->body + from, to - from);
        from = to;
    }

    aigw_usage_finish(up, complete);

    /* finish twice changes nothing */
    aigw_usage_finish(up, !complete);

    usage_text(&up->usage, text, size);

    if (an) {
        aigw_usage_anomalies(up, an);
    }

    free(up);
}


static int
cmp_size(const void *a, const void *b)
{
    size_t  x = *(const size_t *) a, y = *(const size_t *) b;

    return (x > y) - (x < y);
}


/*
 * The result fed whole must be "want" (when not NULL), and the same for
 * every split in two (or random splits of large bodies) and 1 byte at a
 * time.  Returns the number of runs.
 */
static unsigned
check_input(const input_t *in, const char *want, char *whole, size_t size)
{
    char        text[1024];
    size_t      i, k, n, *cuts;
    uint64_t    seed;
    unsigned    runs;

    run(in, NULL, 0, 1, whole, size, NULL);
    runs = 1;

    if (want && !CHECK_STR(whole, want)) {
        fprintf(stderr, "    %s\n", in->name);
    }

    cuts = malloc((in->len + 1) * sizeof(size_t));

    if (in->len < SMALL_BODY) {
        for (i = 1; i < in->len; i++) {
            cuts[0] = i;
            run(in, cuts, 1, 1, text, sizeof(text), NULL);
            runs++;

            if (!CHECK_STR(text, whole)) {
                fprintf(stderr, "    %s: split at %zu\n", in->name, i);
                break;
            }
        }

    } else {
        seed = 0x5eed0000 + in->len;

        for (k = 0; k < (in->len > BIG_BODY ? BIG_RUNS : RANDOM_RUNS); k++) {
            n = 1 + tu_rand(&seed) % 64;

            for (i = 0; i < n; i++) {
                cuts[i] = tu_rand(&seed) % (in->len + 1);
            }

            qsort(cuts, n, sizeof(size_t), cmp_size);
            run(in, cuts, n, 1, text, sizeof(text), NULL);
            runs++;

            if (!CHECK_STR(text, whole)) {
                fprintf(stderr, "    %s: random split %zu\n", in->name, k);
                break;
            }
        }
    }

    for (i = 0; i + 1 < in->len; i++) {
        cuts[i] = i + 1;
    }

    run(in, cuts, in->len ? in->len - 1 : 0, 1, text, sizeof(text), NULL);
    runs++;

    if (!CHECK_STR(text, whole)) {
        fprintf(stderr, "    %s: 1 byte at a time\n", in->name);
    }

    free(cuts);

    return runs;
}


/* the captures */

typedef struct {
    const char  *name;
    const char  *want;          /* the body's own counts, headers removed */
} fallback_t;


/*
 * InvokeModel without the token headers: what each family's body says.
 * Claude 2, Cohere Command and Nova under a guardrail give less or
 * nothing: then the headers are the only exact source.
 */
static const fallback_t  fallbacks[] = {
    { "test_ai21_j2_completion_string_content",
      "in=26 out=42 cr=0 cw=0 src=body" },
    { "test_anthropic_2_completion", "in=0 out=0 cr=0 cw=0 src=none" },
    { "test_anthropic_3_completion_complex_content",
      "in=16 out=29 cr=0 cw=0 src=body" },
    { "test_anthropic_3_completion_string_content",
      "in=16 out=19 cr=0 cw=0 src=body" },
    { "test_cohere_completion", "in=0 out=0 cr=0 cw=0 src=none" },
    { "test_guardrail_invoke", "in=28 out=197 cr=0 cw=0 src=body" },
    { "test_imported_model_completion", "in=6 out=100 cr=0 cw=0 src=body" },
    { "test_invoke_model_metrics", "in=9 out=17 cr=0 cw=0 src=body" },
    { "test_meta_llama2_completion_string_content",
      "in=158 out=128 cr=0 cw=0 src=body" },
    { "test_meta_llama3_completion", "in=8 out=35 cr=0 cw=0 src=body" },
    { "test_nova_completion", "in=30 out=0 cr=0 cw=0 src=body" },
    { "test_nova_cross_region_invoke", "in=7 out=53 cr=0 cw=0 src=body" },
    { "test_prompt_cache", "in=4 out=50 cr=0 cw=18131 src=body" },
    { "test_prompt_cache-1", "in=4 out=50 cr=18131 cw=0 src=body" },
    { "test_titan_completion", "in=30 out=29 cr=0 cw=0 src=body" },
    { NULL, NULL }
};


static void
short_text(const char *full, char *buf, size_t size)
{
    unsigned long long  in, out, cr, cw;
    char                src[32];

    if (sscanf(full, "in=%llu out=%llu cr=%llu cw=%llu img=%*u has=%*x"
                     " src=%31s", &in, &out, &cr, &cw, src) != 5)
    {
        snprintf(buf, size, "unparsable: %s", full);
        return;
    }

    snprintf(buf, size, "in=%llu out=%llu cr=%llu cw=%llu src=%s", in, out,
             cr, cw, src);
}


static unsigned
test_capture(const char *dir, const char *name)
{
    int                      i, nh, stripped;
    char                     path[4096], model[AIGW_MODEL_ID_MAX + 1];
    char                     want[256], got[256], whole[1024], text[1024];
    size_t                   len, n, idlen, k;
    json_t                  *req, *resp, *exp, *hs, *v;
    unsigned                 runs;
    const char              *reason, *key, *rpath, *src;
    input_t                  in;
    aigw_str_t               raw;
    json_error_t             jerr;
    const aigw_op_t         *op;
    aigw_usage_anomalies_t   an;
    const fallback_t        *fb;
    unsigned char           *body;

    runs = 0;

    snprintf(path, sizeof(path), "%s/%s/request.json", dir, name);
    req = json_load_file(path, 0, &jerr);
    snprintf(path, sizeof(path), "%s/%s/response.json", dir, name);
    resp = json_load_file(path, 0, &jerr);
    snprintf(path, sizeof(path), "%s/%s/expected-usage.json", dir, name);
    exp = json_load_file(path, 0, &jerr);
    snprintf(path, sizeof(path), "%s/%s/response.body", dir, name);
    body = (unsigned char *) tu_read_file(path, &len);

    if (!CHECK(req && resp && exp && body)) {
        fprintf(stderr, "    capture %s\n", name);
        goto done;
    }

    memset(&in, 0, sizeof(in));
    in.name = name;

    rpath = json_string_value(json_object_get(req, "path"));

    if (!CHECK(rpath != NULL)
        || !CHECK_EQ(aigw_target_parse_path(rpath, strlen(rpath), &op, &raw,
                                            &reason), AIGW_TARGET_OK))
    {
        goto done;
    }

    idlen = aigw_target_decode_id(op->service, model, raw.data, raw.len,
                                  &reason);
    if (!CHECK(idlen != (size_t) -1)) {
        goto done;
    }

    model[idlen] = '\0';

    in.op = op->id;
    in.model = model;
    in.format = AIGW_USAGE_FORMAT_AUTO;
    in.status = (unsigned) json_integer_value(json_object_get(resp,
                                                              "status"));
    in.body = body;
    in.len = len;

    v = json_object_get(req, "body");
    if (json_is_string(v)) {
        in.req = (const unsigned char *) json_string_value(v);
        in.req_len = json_string_length(v);
    }

    hs = json_object_get(resp, "headers");
    nh = 0;

    json_object_foreach(hs, key, v) {
        if (nh < 30) {
            in.headers[nh++] = key;
            in.headers[nh++] = json_string_value(v);
        }
    }

    in.headers[nh] = NULL;

    src = op->streaming ? "stream"
          : (op->id == AIGW_OP_INVOKE) ? "header" : "body";

    snprintf(want, sizeof(want), "in=%lld out=%lld cr=%lld cw=%lld src=%s",
             json_integer_value(json_object_get(exp, "input_tokens")),
             json_integer_value(json_object_get(exp, "output_tokens")),
             json_integer_value(json_object_get(exp,
                                                "cache_read_input_tokens")),
             json_integer_value(json_object_get(exp,
                                                "cache_write_input_tokens")),
             src);

    runs += check_input(&in, NULL, whole, sizeof(whole));
    short_text(whole, got, sizeof(got));

    if (!CHECK_STR(got, want)) {
        fprintf(stderr, "    capture %s\n", name);
    }

    CHECK(strstr(whole, " err=0 thr=0 type= ") != NULL);

    /* nothing odd in real traffic */
    run(&in, NULL, 0, 1, text, sizeof(text), &an);
    CHECK(an.stream_error == NULL);
    CHECK(an.stream_last == NULL);
    CHECK_EQ(an.crc_errors + an.skipped + an.bad_headers, 0);
    CHECK_EQ(an.json_errors + an.bad_numbers + an.base64_errors, 0);
    CHECK_EQ(an.json_long_keys + an.json_long_numbers, 0);

    /* cut short */

    if (op->streaming) {
        /* in the middle: partial, with what the first messages said */
        run(&in, NULL, 0, 1, whole, sizeof(whole), NULL);
        in.len = len / 2;
        run(&in, NULL, 0, 0, text, sizeof(text), NULL);
        CHECK(strstr(text, "src=partial") != NULL);
        run(&in, NULL, 0, 1, text, sizeof(text), NULL);
        CHECK(strstr(text, "src=partial") != NULL);

        /* all of it but the connection reset: the usage had come */
        in.len = len;
        run(&in, NULL, 0, 0, text, sizeof(text), NULL);
        short_text(text, got, sizeof(got));
        CHECK_STR(got, want);

        /* nothing at all */
        in.len = 0;
        run(&in, NULL, 0, 0, text, sizeof(text), NULL);
        CHECK(strstr(text, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=partial")
              != NULL);
        in.len = len;

    } else if (op->id == AIGW_OP_INVOKE) {
        /* the headers were complete: still exact */
        in.len = len / 2;
        run(&in, NULL, 0, 0, text, sizeof(text), NULL);
        short_text(text, got, sizeof(got));
        CHECK_STR(got, want);
        in.len = len;

    } else {
        in.len = len / 2;
        run(&in, NULL, 0, 1, text, sizeof(text), NULL);
        CHECK(strstr(text, "src=partial") != NULL);
        in.len = len;

        /* the whole document, then the connection reset: it is final */
        run(&in, NULL, 0, 0, text, sizeof(text), NULL);
        short_text(text, got, sizeof(got));
        CHECK_STR(got, want);
    }

    /* InvokeModel without the token headers: the body's own counts */

    if (op->id != AIGW_OP_INVOKE) {
        goto done;
    }

    stripped = 0;

    for (i = 0, k = 0; in.headers[i]; i += 2) {
        if (strncasecmp(in.headers[i], "x-amzn-bedrock-", 15) == 0
            && strstr(in.headers[i] + 15, "oken-") != NULL)
        {
            stripped++;
            continue;
        }

        in.headers[k++] = in.headers[i];
        in.headers[k++] = in.headers[i + 1];
    }

    in.headers[k] = NULL;
    CHECK(stripped >= 2);

    for (fb = fallbacks; fb->name; fb++) {
        if (strcmp(fb->name, name) == 0) {
            break;
        }
    }

    if (!CHECK(fb->name != NULL)) {
        fprintf(stderr, "    no fallback expectation for %s\n", name);
        goto done;
    }

    runs += check_input(&in, NULL, whole, sizeof(whole));
    short_text(whole, got, sizeof(got));

    if (!CHECK_STR(got, fb->want)) {
        fprintf(stderr, "    capture %s without token headers\n", name);
    }

    /* the body cut short: partial */
    in.len = len / 2;
    run(&in, NULL, 0, 0, text, sizeof(text), NULL);
    CHECK(strstr(text, "src=partial") != NULL);

    n = 0;
    (void) n;

done:

    json_decref(req);
    json_decref(resp);
    json_decref(exp);
    free(body);

    return runs;
}


static void
test_captures(void)
{
    int             n;
    DIR            *d;
    char            dir[2048];
    unsigned        runs;
    struct dirent  *de;

    if (!tu_testdata(dir, sizeof(dir), "bedrock-captures")) {
        printf("skip: Bedrock captures not found at %s (set AIGW_TESTDATA)\n",
               dir);
        return;
    }

    d = opendir(dir);
    if (!CHECK(d != NULL)) {
        return;
    }

    n = 0;
    runs = 0;

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strncmp(de->d_name, "test_", 5) != 0) {
            continue;
        }

        runs += test_capture(dir, de->d_name);
        n++;
    }

    closedir(d);

    CHECK(n >= 26);
    printf("captures: %d, fed %u times\n", n, runs);
}


/* building synthetic streams */

typedef struct {
    unsigned char  *p;
    size_t          len;
    size_t          cap;
} buf_t;


static unsigned char *
buf_room(buf_t *b, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 4096;
        b->p = realloc(b->p, b->cap);
    }

    return b->p + b->len;
}


/* an InvokeModelWithResponseStream chunk of the JSON "json" */
static void
add_chunk(buf_t *b, const char *json)
{
    char    *b64, *payload;
    size_t   n;

    n = strlen(json);
    b64 = malloc(n * 2 + 8);
    payload = malloc(n * 2 + 64);

    tu_base64(b64, (const unsigned char *) json, n);
    n = sprintf(payload, "{\"bytes\":\"%s\",\"p\":\"abcdefghij\"}", b64);

    b->len += tu_es_event(buf_room(b, n + 256), "event", ":event-type",
                          "chunk", payload, n);

    free(b64);
    free(payload);
}


static void
add_event(buf_t *b, const char *type, const void *payload, size_t n)
{
    b->len += tu_es_event(buf_room(b, n + 256), "event", ":event-type", type,
                          payload, n);
}


static void
add_exception(buf_t *b, const char *message_type, const char *type_header,
    const char *type, const char *json)
{
    b->len += tu_es_event(buf_room(b, strlen(json) + 256), message_type,
                          type_header, type, json, strlen(json));
}


static const char  anthropic_start[] =
    "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":"
    "\"message\",\"role\":\"assistant\",\"content\":[],\"usage\":"
    "{\"input_tokens\":1200,\"cache_read_input_tokens\":300,"
    "\"cache_creation_input_tokens\":50,\"output_tokens\":1}}}";

static const char  anthropic_delta[] =
    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"Hello \\\"usage\\\": {\"}}";

static const char  anthropic_stop[] =
    "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},"
    "\"usage\":{\"output_tokens\":42}}";

static const char  anthropic_metrics[] =
    "{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":"
    "{\"inputTokenCount\":1200,\"outputTokenCount\":42,"
    "\"invocationLatency\":738,\"firstByteLatency\":378,"
    "\"cacheReadInputTokenCount\":300,\"cacheWriteInputTokenCount\":50}}";


static void
test_invoke_streams(void)
{
    char       whole[1024];
    buf_t      b;
    input_t    in;
    size_t     n, at;

    memset(&b, 0, sizeof(b));
    memset(&in, 0, sizeof(in));
    in.op = AIGW_OP_INVOKE_STREAM;
    in.model = "anthropic.claude-3-5-haiku-20241022-v1:0";
    in.status = 200;
    in.headers[0] = "Content-Type";
    in.headers[1] = "application/vnd.amazon.eventstream";

    /* Anthropic with caching: metrics, and the family's counts */

    add_chunk(&b, anthropic_start);
    add_chunk(&b, anthropic_delta);
    add_chunk(&b, anthropic_stop);
    at = b.len;
    add_chunk(&b, anthropic_metrics);

    in.name = "anthropic stream";
    in.body = b.p;
    in.len = b.len;
    check_input(&in, "in=1200 out=42 cr=300 cw=50 img=0 has=f src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* without the metrics chunk: message_start and message_delta */
    in.len = at;
    in.name = "anthropic stream, no metrics";
    check_input(&in, "in=1200 out=42 cr=300 cw=50 img=0 has=f src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* ... cut there: partial */
    run(&in, NULL, 0, 0, whole, sizeof(whole), NULL);
    CHECK(strstr(whole, "in=1200 out=42 cr=300 cw=50 img=0 has=f src=partial")
          != NULL);

    /* a corrupted metrics chunk is not used */
    b.len = at;
    add_chunk(&b, "{\"amazon-bedrock-invocationMetrics\":"
                  "{\"inputTokenCount\":9999,\"outputTokenCount\":9999}}");
    b.p[b.len - 30] ^= 1;
    in.body = b.p;
    in.len = b.len;
    in.name = "corrupted metrics";
    check_input(&in, "in=1200 out=42 cr=300 cw=50 img=0 has=f src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* a throttling exception mid-stream */

    b.len = 0;
    add_chunk(&b, anthropic_start);
    add_chunk(&b, anthropic_delta);
    add_exception(&b, "exception", ":exception-type", "throttlingException",
                  "{\"message\":\"Too many requests, please wait before"
                  " trying again.\"}");
    in.body = b.p;
    in.len = b.len;
    in.name = "throttling mid-stream";
    check_input(&in, "in=1200 out=1 cr=300 cw=50 img=0 has=f src=stream"
                     " err=1 thr=1 type=ThrottlingException size= q= w=0 h=0"
                     " req=0",
                whole, sizeof(whole));

    /* a model stream error; and an "error" message */

    b.len = 0;
    add_chunk(&b, anthropic_start);
    add_exception(&b, "exception", ":exception-type",
                  "modelStreamErrorException",
                  "{\"message\":\"x\",\"originalStatusCode\":500}");
    in.body = b.p;
    in.len = b.len;
    in.name = "model stream error";
    check_input(&in, "in=1200 out=1 cr=300 cw=50 img=0 has=f src=stream"
                     " err=1 thr=0 type=ModelStreamErrorException size= q="
                     " w=0 h=0 req=0",
                whole, sizeof(whole));

    b.len = 0;
    add_exception(&b, "error", ":error-code", "InternalFailure",
                  "{\"message\":\"x\"}");
    in.body = b.p;
    in.len = b.len;
    in.name = "error message";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=0 type=InternalFailure size= q= w=0 h=0"
                     " req=0",
                whole, sizeof(whole));

    /* an exception with a bad CRC is not believed */
    b.p[b.len - 1] ^= 1;
    in.name = "bad exception";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* Llama: cumulative generation_token_count, no metrics */

    b.len = 0;
    add_chunk(&b, "{\"generation\":\"Hi\",\"prompt_token_count\":17,"
                  "\"generation_token_count\":1,\"stop_reason\":null}");
    add_chunk(&b, "{\"generation\":\" there\",\"prompt_token_count\":null,"
                  "\"generation_token_count\":2,\"stop_reason\":null}");
    add_chunk(&b, "{\"generation\":\"\",\"prompt_token_count\":null,"
                  "\"generation_token_count\":3,\"stop_reason\":\"stop\"}");
    in.model = "meta.llama3-70b-instruct-v1:0";
    in.body = b.p;
    in.len = b.len;
    in.name = "llama stream";
    check_input(&in, "in=17 out=3 cr=0 cw=0 img=0 has=3 src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* Nova: metadata.usage */

    b.len = 0;
    add_chunk(&b, "{\"messageStart\":{\"role\":\"assistant\"}}");
    add_chunk(&b, "{\"contentBlockDelta\":{\"delta\":{\"text\":\"Hi\"},"
                  "\"contentBlockIndex\":0}}");
    add_chunk(&b, "{\"metadata\":{\"usage\":{\"inputTokens\":5,"
                  "\"outputTokens\":7,\"cacheReadInputTokenCount\":2,"
                  "\"cacheWriteInputTokenCount\":0}}}");
    in.model = "us.amazon.nova-lite-v1:0";
    in.body = b.p;
    in.len = b.len;
    in.name = "nova stream";
    check_input(&in, "in=5 out=7 cr=2 cw=0 img=0 has=f src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* OpenAI-style (gpt-oss, imported): prompt includes the cached */

    b.len = 0;
    add_chunk(&b, "{\"choices\":[{\"delta\":{\"content\":\"x\"}}],"
                  "\"usage\":null}");
    add_chunk(&b, "{\"choices\":[],\"usage\":{\"prompt_tokens\":100,"
                  "\"completion_tokens\":20,\"prompt_tokens_details\":"
                  "{\"cached_tokens\":30}}}");
    in.model = "openai.gpt-oss-120b-1:0";
    in.body = b.p;
    in.len = b.len;
    in.name = "openai-style stream";
    check_input(&in, "in=70 out=20 cr=30 cw=0 img=0 has=7 src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* "bytes" with JSON escapes ("\/") and a base64 of '?' chars */

    b.len = 0;
    {
        static const char  payload[] =
            "{\"bytes\":\"eyJ0ZXh0IjoiPz8\\/Pz8\\/IiwicHJvbXB0X3Rva2VuX2Nvd"
            "W50Ijo0LCJnZW5lcmF0aW9uX3Rva2VuX2NvdW50Ijo1fQ==\"}";

        add_event(&b, "chunk", payload, sizeof(payload) - 1);
    }
    in.model = "meta.llama3-70b-instruct-v1:0";
    in.body = b.p;
    in.len = b.len;
    in.name = "escaped base64";
    check_input(&in, "in=4 out=5 cr=0 cw=0 img=0 has=3 src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* an oversized frame (headers over the buffer) is skipped, counted */

    {
        unsigned char           h[4096];
        aigw_usage_anomalies_t  an;

        b.len = 0;
        add_chunk(&b, anthropic_start);

        n = 0;
        while (n < AIGW_ES_HEADERS_BUF + 10) {
            n += tu_es_str_header(h + n, "x-padding",
                                  "0123456789012345678901234567890123456789");
        }

        n += tu_es_str_header(h + n, ":event-type", "chunk");
        n += tu_es_str_header(h + n, ":message-type", "event");
        b.len += tu_es_message(buf_room(&b, n + 256), h, n,
                               "{\"bytes\":\"e30=\"}", 15);
        add_chunk(&b, anthropic_stop);

        in.model = "anthropic.claude-3-haiku-20240307-v1:0";
        in.body = b.p;
        in.len = b.len;
        in.name = "oversized frame";
        check_input(&in, "in=1200 out=42 cr=300 cw=50 img=0 has=f src=stream"
                         " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                    whole, sizeof(whole));

        run(&in, NULL, 0, 1, whole, sizeof(whole), &an);
        CHECK_EQ(an.skipped, 1);
        CHECK_EQ(an.crc_errors, 0);
    }

    /* a prelude CRC error: the rest is lost, the stream is partial */

    {
        aigw_usage_anomalies_t  an;

        b.len = 0;
        add_chunk(&b, anthropic_start);
        at = b.len;
        add_chunk(&b, anthropic_metrics);
        b.p[at + 9] ^= 1;

        in.body = b.p;
        in.len = b.len;
        in.name = "prelude crc";
        check_input(&in, "in=1200 out=1 cr=300 cw=50 img=0 has=f src=partial"
                         " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                    whole, sizeof(whole));

        run(&in, NULL, 0, 1, whole, sizeof(whole), &an);
        CHECK_STR(an.stream_error, "Prelude checksum mismatch");
    }

    /* a chunk of 4 MB (a long text): no growth, the usage still read */

    {
        char                    *json;
        size_t                   big;
        aigw_usage_anomalies_t   an;

        big = 4 * 1024 * 1024;
        json = malloc(big + 256);
        n = sprintf(json, "{\"generation\":\"");
        memset(json + n, 'a', big);
        n += big;
        sprintf(json + n, "\",\"prompt_token_count\":3,"
                "\"generation_token_count\":2000000}");

        b.len = 0;
        add_chunk(&b, json);
        free(json);

        in.body = b.p;
        in.len = b.len;
        in.name = "4 MB chunk";
        check_input(&in, "in=3 out=2000000 cr=0 cw=0 img=0 has=3 src=stream"
                         " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                    whole, sizeof(whole));

        run(&in, NULL, 0, 1, whole, sizeof(whole), &an);
        CHECK_EQ(an.json_errors + an.base64_errors, 0);
    }

    /* converse stream: the metadata event only */

    b.len = 0;
    {
        static const char  start[] = "{\"p\":\"abc\",\"role\":\"assistant\"}";
        static const char  delta[] =
            "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":{\"input\":"
            "\"{\\\"usage\\\":{\\\"inputTokens\\\":99}}\"}},\"p\":\"ab\"}";
        static const char  meta[] =
            "{\"metrics\":{\"latencyMs\":1176},\"p\":\"abcdefgh\","
            "\"trace\":{\"guardrail\":{\"usage\":{\"inputTokens\":77}}},"
            "\"usage\":{\"inputTokens\":236,\"outputTokens\":58,"
            "\"cacheReadInputTokens\":1000,\"cacheWriteInputTokens\":2,"
            "\"totalTokens\":1296}}";

        add_event(&b, "messageStart", start, sizeof(start) - 1);
        add_event(&b, "contentBlockDelta", delta, sizeof(delta) - 1);
        add_event(&b, "usage", meta, sizeof(meta) - 1);
        at = b.len;
        add_event(&b, "metadata", meta, sizeof(meta) - 1);
    }
    in.op = AIGW_OP_CONVERSE_STREAM;
    in.body = b.p;
    in.len = b.len;
    in.name = "converse stream";
    check_input(&in, "in=236 out=58 cr=1000 cw=2 img=0 has=f src=stream"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.len = at;
    run(&in, NULL, 0, 0, whole, sizeof(whole), NULL);
    CHECK(strstr(whole, "has=0 src=partial") != NULL);

    free(b.p);
}


static void
test_errors(void)
{
    char     whole[1024];
    input_t  in;

    static const char  throttled[] =
        "{\"message\":\"Too many requests, please wait before trying"
        " again.\"}";
    static const char  internal[] =
        "{\"__type\":\"com.amazon.coral.service#InternalServerException\","
        "\"message\":\"x\"}";

    memset(&in, 0, sizeof(in));
    in.op = AIGW_OP_INVOKE;
    in.model = "anthropic.claude-3-haiku-20240307-v1:0";

    /* 429 with the type header and a JSON body */

    in.name = "429";
    in.status = 429;
    in.headers[0] = "x-amzn-ErrorType";
    in.headers[1] = "ThrottlingException:http://internal.amazon.com/coral/"
                    "com.amazon.bedrock/";
    in.headers[2] = "Content-Type";
    in.headers[3] = "application/json";
    in.body = (const unsigned char *) throttled;
    in.len = sizeof(throttled) - 1;
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=1 type=ThrottlingException size= q= w=0 h=0"
                     " req=0",
                whole, sizeof(whole));

    /* a stream operation answering 429 with JSON */
    in.op = AIGW_OP_CONVERSE_STREAM;
    in.name = "429 stream";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=1 type=ThrottlingException size= q= w=0 h=0"
                     " req=0",
                whole, sizeof(whole));

    /* 429 without anything */
    in.headers[0] = NULL;
    in.len = 0;
    in.name = "bare 429";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=1 type=ThrottlingException size= q= w=0 h=0"
                     " req=0",
                whole, sizeof(whole));

    /* 400 */
    in.op = AIGW_OP_INVOKE;
    in.status = 400;
    in.headers[0] = "X-Amzn-Errortype";
    in.headers[1] = "ValidationException";
    in.headers[2] = NULL;
    in.body = (const unsigned char *) "{\"message\":\"Malformed input\"}";
    in.len = strlen((const char *) in.body);
    in.name = "400";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=0 type=ValidationException size= q= w=0 h=0"
                     " req=0",
                whole, sizeof(whole));

    /* 500 with the type only in the body */
    in.status = 500;
    in.headers[0] = NULL;
    in.body = (const unsigned char *) internal;
    in.len = sizeof(internal) - 1;
    in.name = "500 __type";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=0 type=InternalServerException size= q= w=0"
                     " h=0 req=0",
                whole, sizeof(whole));

    /* 503 with an HTML body */
    in.status = 503;
    in.body = (const unsigned char *) "<html>busy</html>";
    in.len = strlen((const char *) in.body);
    in.name = "503 html";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* a 400 ThrottlingException from SageMaker, lower-case first letter */
    in.op = AIGW_OP_SM_INVOKE;
    in.model = "my-endpoint";
    in.status = 400;
    in.headers[0] = "x-amzn-errortype";
    in.headers[1] = " throttlingException ";
    in.headers[2] = NULL;
    in.len = 0;
    in.name = "sagemaker throttling";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=1 type=ThrottlingException size= q= w=0 h=0"
                     " req=0",
                whole, sizeof(whole));

    /* 424 ModelError */
    in.status = 424;
    in.headers[1] = "ModelError:http://internal.amazon.com/coral/"
                    "com.amazon.sagemaker/";
    in.body = (const unsigned char *)
              "{\"ErrorCode\":\"CLIENT_ERROR_FROM_MODEL\","
              "\"OriginalStatusCode\":400,\"Message\":\"x\"}";
    in.len = strlen((const char *) in.body);
    in.name = "424";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=0 type=ModelError size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* a type header on a 200 is not an error */
    in.status = 200;
    in.headers[1] = "ThrottlingException";
    in.body = (const unsigned char *) "{}";
    in.len = 2;
    in.format = AIGW_USAGE_FORMAT_OPENAI;
    in.name = "200 with a type";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
}


static void
test_sagemaker(void)
{
    char      whole[1024];
    input_t   in;

    static const char  tgi[] =
        "{\"generated_text\":\"Hello \\\"usage\\\"\",\"details\":"
        "{\"finish_reason\":\"length\",\"generated_tokens\":20,\"seed\":null,"
        "\"prefill\":[{\"id\":1,\"text\":\"<s>\",\"logprob\":null},"
        "{\"id\":22557,\"text\":\"Hello\",\"logprob\":-10.5},"
        "{\"id\":28725,\"text\":\",\",\"logprob\":-2.1}],"
        "\"tokens\":[{\"id\":1,\"text\":\"a\",\"logprob\":-1.0,"
        "\"special\":false}]}}";
    static const char  tgi_array[] =
        "[{\"generated_text\":\"x\",\"details\":{\"finish_reason\":\"length\","
        "\"generated_tokens\":7.0,\"seed\":null,\"prefill\":[]}}]";
    static const char  tgi_noprefill[] =
        "[{\"generated_text\":\"x\",\"details\":{\"finish_reason\":\"length\","
        "\"generated_tokens\":7,\"seed\":null}}]";
    static const char  openai[] =
        "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":"
        "[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
        "\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
        "100,\"completion_tokens\":20,\"total_tokens\":120,"
        "\"prompt_tokens_details\":{\"cached_tokens\":40}}}";

    memset(&in, 0, sizeof(in));
    in.op = AIGW_OP_SM_INVOKE;
    in.model = "my-llm-endpoint";
    in.status = 200;
    in.headers[0] = "Content-Type";
    in.headers[1] = "application/json";

    in.body = (const unsigned char *) tgi;
    in.len = sizeof(tgi) - 1;

    in.format = AIGW_USAGE_FORMAT_TGI;
    in.name = "tgi";
    check_input(&in, "in=3 out=20 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.format = AIGW_USAGE_FORMAT_AUTO;
    in.name = "tgi auto";
    check_input(&in, "in=3 out=20 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.format = AIGW_USAGE_FORMAT_OPENAI;
    in.name = "tgi as openai";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.format = AIGW_USAGE_FORMAT_NONE;
    in.name = "tgi none";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* cut, with format none: nothing was expected */
    run(&in, NULL, 0, 0, whole, sizeof(whole), NULL);
    CHECK(strstr(whole, "src=none") != NULL);

    in.format = AIGW_USAGE_FORMAT_AUTO;
    in.body = (const unsigned char *) tgi_array;
    in.len = sizeof(tgi_array) - 1;
    in.name = "tgi array";
    check_input(&in, "in=0 out=7 cr=0 cw=0 img=0 has=2 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.body = (const unsigned char *) tgi_noprefill;
    in.len = sizeof(tgi_noprefill) - 1;
    in.name = "tgi without prefill";
    check_input(&in, "in=0 out=7 cr=0 cw=0 img=0 has=2 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.body = (const unsigned char *) openai;
    in.len = sizeof(openai) - 1;
    in.name = "openai auto";
    check_input(&in, "in=60 out=20 cr=40 cw=0 img=0 has=7 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.format = AIGW_USAGE_FORMAT_OPENAI;
    in.name = "openai";
    check_input(&in, "in=60 out=20 cr=40 cw=0 img=0 has=7 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    in.format = AIGW_USAGE_FORMAT_TGI;
    in.name = "openai as tgi";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* cut short */
    in.format = AIGW_USAGE_FORMAT_AUTO;
    in.len = sizeof(openai) / 2;
    run(&in, NULL, 0, 1, whole, sizeof(whole), NULL);
    CHECK(strstr(whole, "src=partial") != NULL);

    /* not JSON (CSV): nothing */
    in.body = (const unsigned char *) "0.1,0.2\n";
    in.len = 8;
    in.name = "csv";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
}


/*
 * SageMaker streams: the raw bytes "raw" cut into PayloadPart events at
 * every position (and in 3 parts at many), each event-stream then fed
 * whole, at random splits and 1 byte at a time
 */
static void
check_sm_stream(const char *name, const char *raw, aigw_usage_format_e fmt,
    const char *want)
{
    char       whole[1024], text[1024];
    size_t     len, k, j, n, cuts[8];
    buf_t      b;
    input_t    in;
    uint64_t   seed;
    unsigned   runs;

    memset(&b, 0, sizeof(b));
    memset(&in, 0, sizeof(in));
    in.op = AIGW_OP_SM_INVOKE_STREAM;
    in.model = "my-llm-endpoint";
    in.format = fmt;
    in.status = 200;
    in.headers[0] = "Content-Type";
    in.headers[1] = "application/vnd.amazon.eventstream";
    in.name = name;

    len = strlen(raw);
    seed = 7;
    runs = 0;

    /* one part: all the usual splits */
    add_event(&b, "PayloadPart", raw, len);
    in.body = b.p;
    in.len = b.len;
    check_input(&in, want, whole, sizeof(whole));

    for (k = 0; k <= len; k++) {
        for (j = 0; j < 3; j++) {
            b.len = 0;

            if (j == 0) {
                /* two parts */
                if (k > 0) {
                    add_event(&b, "PayloadPart", raw, k);
                }
                if (k < len) {
                    add_event(&b, "PayloadPart", raw + k, len - k);
                }

            } else {
                /* three parts, the second at a random place */
                n = k + tu_rand(&seed) % (len - k + 1);
                add_event(&b, "PayloadPart", raw, k);
                add_event(&b, "PayloadPart", raw + k, n - k);
                add_event(&b, "PayloadPart", raw + n, len - n);
            }

            in.body = b.p;
            in.len = b.len;

            cuts[0] = tu_rand(&seed) % (b.len + 1);
            cuts[1] = tu_rand(&seed) % (b.len + 1);
            if (cuts[0] > cuts[1]) {
                n = cuts[0];
                cuts[0] = cuts[1];
                cuts[1] = n;
            }

            run(&in, cuts, 2, 1, text, sizeof(text), NULL);
            runs++;

            if (!CHECK_STR(text, want)) {
                fprintf(stderr, "    %s: parts cut at %zu (%zu)\n", name, k,
                        j);
                goto done;
            }
        }
    }

    /* bytes one at a time, in one-byte parts */
    b.len = 0;
    for (k = 0; k < len; k++) {
        add_event(&b, "PayloadPart", raw + k, 1);
    }

    in.body = b.p;
    in.len = b.len;
    run(&in, NULL, 0, 1, text, sizeof(text), NULL);
    CHECK_STR(text, want);

done:

    free(b.p);
}


static void
test_sagemaker_streams(void)
{
    static const char  tgi_sse[] =
        "data:{\"token\":{\"id\":1,\"text\":\" Hello\",\"logprob\":-0.5,"
        "\"special\":false},\"generated_text\":null,\"details\":null}\n\n"
        "data: {\"token\":{\"id\":2,\"text\":\"!\",\"logprob\":-0.1,"
        "\"special\":false},\"generated_text\":null,\"details\":null}\n\n"
        "data:{\"token\":{\"id\":3,\"text\":\"\",\"logprob\":-0.1,"
        "\"special\":true},\"generated_text\":\" Hello!\",\"details\":"
        "{\"finish_reason\":\"eos_token\",\"generated_tokens\":3,"
        "\"seed\":null}}\n\n";

    static const char  openai_sse[] =
        ": keep-alive\r\n\r\n"
        "event: message\r\n"
        "data: {\"id\":\"1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],"
        "\"usage\":null}\r\n\r\n"
        "id: 7\r\n"
        "data: {\"id\":\"1\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
        "\"completion_tokens\":4,\"total_tokens\":16}}\r\n\r\n"
        "data: [DONE]\r\n\r\n";

    /* a JSON value over two data lines of one event; CR line ends */
    static const char  multiline_sse[] =
        "data: {\"usage\":\r"
        "data: {\"prompt_tokens\":5,\"completion_tokens\":6}}\r\r"
        "data: [DONE]\r\r";

    /* vLLM's continuous usage: the last one wins */
    static const char  vllm_sse[] =
        "data: {\"choices\":[{\"text\":\"a\"}],\"usage\":{\"prompt_tokens\":9,"
        "\"completion_tokens\":1}}\n\n"
        "data: {\"choices\":[{\"text\":\"b\"}],\"usage\":{\"prompt_tokens\":9,"
        "\"completion_tokens\":2,\"prompt_tokens_details\":"
        "{\"cached_tokens\":4}}}\n\n"
        "data: not json at all\n\n"
        "data: [DONE]\n\n";

    /* JSON lines (DJL LMI) */
    static const char  jsonlines[] =
        "{\"token\":{\"id\":[1],\"text\":\"a\"},\"generated_text\":null}\n"
        "{\"token\":{\"id\":[2],\"text\":\"b\"},\"generated_text\":\"ab\","
        "\"details\":{\"generated_tokens\":2,\"finish_reason\":\"length\"}}\n";

    /* an SSE stream whose data lines carry a broken value, then good */
    static const char  broken_sse[] =
        "data: {\"usage\":{\"prompt_tokens\":1,,}\n\n"
        "data: {\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3}}\n\n";

    /*
     * a broken data line, then a good one in the same event: the good
     * line's value is read (the reset of the scanner once cleared the
     * line's prefix before its length was taken: an unsigned wrap)
     */
    static const char  broken_line_sse[] =
        "data: x\n"
        "data: {\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3}}\n\n";

    /* the same where the good value (an array) begins with "data: [" */
    static const char  broken_short_sse[] =
        "data: x\n"
        "data: [\n"
        "data: {\"details\":{\"generated_tokens\":3,\"prefill\":[{}]}},\n"
        "data: {\"details\":{\"generated_tokens\":4}}]\n\n";

    check_sm_stream("broken line, same event", broken_line_sse,
                    AIGW_USAGE_FORMAT_AUTO,
                    "in=2 out=3 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("broken line, short line", broken_short_sse,
                    AIGW_USAGE_FORMAT_TGI,
                    "in=1 out=7 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");

    check_sm_stream("tgi sse", tgi_sse, AIGW_USAGE_FORMAT_AUTO,
                    "in=0 out=3 cr=0 cw=0 img=0 has=2 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("tgi sse, tgi", tgi_sse, AIGW_USAGE_FORMAT_TGI,
                    "in=0 out=3 cr=0 cw=0 img=0 has=2 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("openai sse", openai_sse, AIGW_USAGE_FORMAT_AUTO,
                    "in=12 out=4 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("openai sse, openai", openai_sse,
                    AIGW_USAGE_FORMAT_OPENAI,
                    "in=12 out=4 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("openai sse, tgi", openai_sse, AIGW_USAGE_FORMAT_TGI,
                    "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("multi-line sse", multiline_sse, AIGW_USAGE_FORMAT_AUTO,
                    "in=5 out=6 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("vllm sse", vllm_sse, AIGW_USAGE_FORMAT_AUTO,
                    "in=5 out=2 cr=4 cw=0 img=0 has=7 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("json lines", jsonlines, AIGW_USAGE_FORMAT_AUTO,
                    "in=0 out=2 cr=0 cw=0 img=0 has=2 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("broken sse", broken_sse, AIGW_USAGE_FORMAT_AUTO,
                    "in=2 out=3 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");

    /* a model error mid-stream, a CRC error, a cut */
    {
        char     text[1024];
        buf_t    b;
        input_t  in;
        size_t   at;

        aigw_usage_anomalies_t  an;

        memset(&b, 0, sizeof(b));
        memset(&in, 0, sizeof(in));
        in.op = AIGW_OP_SM_INVOKE_STREAM;
        in.model = "ep";
        in.status = 200;
        in.name = "sagemaker exception";

        add_event(&b, "PayloadPart", "data: {\"usage\":{\"prompt_tokens\":1,"
                  "\"completion_tokens\":2}}\n\n", 59);
        add_exception(&b, "exception", ":exception-type", "ModelStreamError",
                      "{\"Message\":\"x\",\"ErrorCode\":\"500\"}");
        in.body = b.p;
        in.len = b.len;
        check_input(&in, "in=1 out=2 cr=0 cw=0 img=0 has=3 src=stream"
                         " err=1 thr=0 type=ModelStreamError size= q= w=0"
                         " h=0 req=0",
                    text, sizeof(text));

        /* a part with a bad CRC: its line is dropped, the next is read */
        b.len = 0;
        add_event(&b, "PayloadPart", "data: {\"usage\":{\"prompt_tokens\":8,"
                  "\"completion_tokens\":", 53);
        add_event(&b, "PayloadPart", "9}}\n\ndata: {\"usage\":{", 22);
        b.p[b.len - 5] ^= 1;
        add_event(&b, "PayloadPart", "\"prompt_tokens\":1}}\n\n", 21);
        at = b.len;
        add_event(&b, "PayloadPart", "data: {\"usage\":{\"prompt_tokens\":3,"
                  "\"completion_tokens\":4}}\n\n", 59);
        in.body = b.p;
        in.len = b.len;
        in.name = "sagemaker bad crc";
        check_input(&in, "in=3 out=4 cr=0 cw=0 img=0 has=3 src=stream"
                         " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                    text, sizeof(text));

        run(&in, NULL, 0, 1, text, sizeof(text), &an);
        CHECK_EQ(an.crc_errors, 1);

        in.len = at;
        run(&in, NULL, 0, 1, text, sizeof(text), NULL);
        CHECK_STR(text, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                        " err=0 thr=0 type= size= q= w=0 h=0 req=0");

        in.len = at - 3;
        run(&in, NULL, 0, 1, text, sizeof(text), NULL);
        CHECK(strstr(text, "src=partial") != NULL);

        free(b.p);
    }
}


/*
 * TGI 2.x streams: the final event's details carry input_length, the
 * input tokens (a stream has no prefill); TGI 1.x's do not, and its
 * input stays unknown
 */
static void
test_tgi_input_length(void)
{
    char         text[1024];
    buf_t        b;
    input_t      in;
    const char  *final;

    static const char  tgi2_sse[] =
        "data:{\"index\":1,\"token\":{\"id\":415,\"text\":\" The\","
        "\"logprob\":-0.31,\"special\":false},\"generated_text\":null,"
        "\"details\":null,\"top_tokens\":[]}\n\n"
        "data:{\"index\":2,\"token\":{\"id\":4372,\"text\":\" answer\","
        "\"logprob\":-1.25,\"special\":false},\"generated_text\":null,"
        "\"details\":null,\"top_tokens\":[]}\n\n"
        "data:{\"index\":3,\"token\":{\"id\":2,\"text\":\"</s>\","
        "\"logprob\":-0.02,\"special\":true},\"generated_text\":"
        "\" The answer\",\"details\":{\"finish_reason\":\"eos_token\","
        "\"generated_tokens\":3,\"seed\":null,\"input_length\":12},"
        "\"top_tokens\":[]}\n\n";

    /* TGI 1.x: no input_length */
    static const char  tgi1_sse[] =
        "data: {\"token\":{\"id\":415,\"text\":\" The\",\"logprob\":-0.31,"
        "\"special\":false},\"generated_text\":null,\"details\":null}\n\n"
        "data: {\"token\":{\"id\":2,\"text\":\"</s>\",\"logprob\":-0.02,"
        "\"special\":true},\"generated_text\":\" The\",\"details\":"
        "{\"finish_reason\":\"eos_token\",\"generated_tokens\":2,"
        "\"seed\":42}}\n\n";

    /* JSON lines, input_length a float */
    static const char  tgi2_lines[] =
        "{\"token\":{\"id\":1,\"text\":\"a\"},\"generated_text\":null,"
        "\"details\":null}\n"
        "{\"token\":{\"id\":2,\"text\":\"b\"},\"generated_text\":\"ab\","
        "\"details\":{\"finish_reason\":\"length\",\"generated_tokens\":2,"
        "\"input_length\":7.0}}\n";

    /* input_length and prefill both: input_length, in either order */
    static const char  both_after[] =
        "data:{\"details\":{\"generated_tokens\":4,\"prefill\":[{},{},{}],"
        "\"input_length\":9}}\n\n";
    static const char  both_before[] =
        "data:{\"details\":{\"input_length\":9,\"generated_tokens\":4,"
        "\"prefill\":[{},{},{}]}}\n\n";

    /* a token event after the final one does not clear it */
    static const char  late_token[] =
        "data:{\"details\":{\"generated_tokens\":4,\"input_length\":9}}\n\n"
        "data:{\"token\":{\"id\":1},\"details\":null}\n\n";

    /* over the bound: not believed, the output still counts */
    static const char  huge[] =
        "data:{\"details\":{\"generated_tokens\":4,"
        "\"input_length\":1000000001}}\n\n";

    check_sm_stream("tgi2 sse, tgi", tgi2_sse, AIGW_USAGE_FORMAT_TGI,
                    "in=12 out=3 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("tgi2 sse, auto", tgi2_sse, AIGW_USAGE_FORMAT_AUTO,
                    "in=12 out=3 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("tgi2 sse, openai", tgi2_sse, AIGW_USAGE_FORMAT_OPENAI,
                    "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("tgi1 sse, tgi", tgi1_sse, AIGW_USAGE_FORMAT_TGI,
                    "in=0 out=2 cr=0 cw=0 img=0 has=2 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("tgi1 sse, auto", tgi1_sse, AIGW_USAGE_FORMAT_AUTO,
                    "in=0 out=2 cr=0 cw=0 img=0 has=2 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("tgi2 json lines", tgi2_lines, AIGW_USAGE_FORMAT_AUTO,
                    "in=7 out=2 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("input_length after prefill", both_after,
                    AIGW_USAGE_FORMAT_TGI,
                    "in=9 out=4 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("input_length before prefill", both_before,
                    AIGW_USAGE_FORMAT_TGI,
                    "in=9 out=4 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("token after the details", late_token,
                    AIGW_USAGE_FORMAT_TGI,
                    "in=9 out=4 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");
    check_sm_stream("input_length over the bound", huge,
                    AIGW_USAGE_FORMAT_TGI,
                    "in=0 out=4 cr=0 cw=0 img=0 has=2 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");

    /* InvokeEndpoint: a body with input_length and prefill */

    memset(&in, 0, sizeof(in));
    in.op = AIGW_OP_SM_INVOKE;
    in.model = "my-llm-endpoint";
    in.format = AIGW_USAGE_FORMAT_TGI;
    in.status = 200;
    in.headers[0] = "Content-Type";
    in.headers[1] = "application/json";
    in.body = (const unsigned char *)
        "[{\"generated_text\":\"x\",\"details\":{\"generated_tokens\":4,"
        "\"prefill\":[{},{},{}],\"input_length\":9}}]";
    in.len = strlen((const char *) in.body);
    in.name = "tgi body with input_length";
    check_input(&in, "in=9 out=4 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                text, sizeof(text));

    /*
     * the stream cut short: before its final event nothing is known
     * ("partial"); once it came whole, its usage is final
     */

    memset(&b, 0, sizeof(b));
    in.op = AIGW_OP_SM_INVOKE_STREAM;
    in.headers[1] = "application/vnd.amazon.eventstream";
    in.name = "tgi2 sse cut";

    final = strstr(tgi2_sse, "data:{\"index\":3");
    add_event(&b, "PayloadPart", tgi2_sse, final - tgi2_sse);
    add_event(&b, "PayloadPart", final, 40);
    in.body = b.p;
    in.len = b.len;
    run(&in, NULL, 0, 0, text, sizeof(text), NULL);
    CHECK_STR(text, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=partial"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");

    add_event(&b, "PayloadPart", final + 40, strlen(final + 40));
    in.body = b.p;
    in.len = b.len;
    run(&in, NULL, 0, 0, text, sizeof(text), NULL);
    CHECK_STR(text, "in=12 out=3 cr=0 cw=0 img=0 has=3 src=stream"
                    " err=0 thr=0 type= size= q= w=0 h=0 req=0");

    free(b.p);
}


static void
test_bodies(void)
{
    char      whole[1024], *doc;
    size_t    n, i, big;
    input_t   in;

    aigw_usage_anomalies_t  an;

    memset(&in, 0, sizeof(in));
    in.status = 200;

    /* converse: only the top-level usage */

    in.op = AIGW_OP_CONVERSE;
    in.model = "anthropic.claude-3-haiku-20240307-v1:0";
    in.body = (const unsigned char *)
        "{\"output\":{\"message\":{\"content\":[{\"toolUse\":{\"input\":"
        "{\"usage\":{\"inputTokens\":999,\"outputTokens\":999}},"
        "\"name\":\"t\"}}]}},\"usage\":{\"inputTokens\":10,"
        "\"outputTokens\":2.0e0,\"cacheReadInputTokens\":5,"
        "\"cacheWriteInputTokens\":1,\"totalTokens\":18},"
        "\"metrics\":{\"latencyMs\":1}}";
    in.len = strlen((const char *) in.body);
    in.name = "converse tool use";
    check_input(&in, "in=10 out=2 cr=5 cw=1 img=0 has=f src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* count-tokens: never metered */

    in.op = AIGW_OP_COUNT_TOKENS;
    in.body = (const unsigned char *) "{\"inputTokens\":123}";
    in.len = strlen((const char *) in.body);
    in.headers[0] = "X-Amzn-Bedrock-Input-Token-Count";
    in.headers[1] = "123";
    in.headers[2] = NULL;
    in.name = "count tokens";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
    run(&in, NULL, 0, 0, whole, sizeof(whole), NULL);
    CHECK(strstr(whole, "src=none") != NULL);

    /* headers: any case, floats, a bad value ignored and counted */

    in.op = AIGW_OP_INVOKE;
    in.headers[0] = "x-amzn-bedrock-input-token-count";
    in.headers[1] = " 28.0 ";
    in.headers[2] = "X-AMZN-BEDROCK-OUTPUT-TOKEN-COUNT";
    in.headers[3] = "1.5";
    in.headers[4] = "X-Amzn-Bedrock-Cache-Read-Input-Token-Count";
    in.headers[5] = "2e3";
    in.headers[6] = NULL;
    in.name = "header forms";
    check_input(&in, "in=28 out=0 cr=2000 cw=0 img=0 has=5 src=header"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
    run(&in, NULL, 0, 1, whole, sizeof(whole), &an);
    CHECK_EQ(an.bad_numbers, 1);

    /* a count that is not an integer is ignored */

    in.headers[0] = NULL;
    in.body = (const unsigned char *)
              "{\"usage\":{\"input_tokens\":1.5,\"output_tokens\":-3,"
              "\"cache_read_input_tokens\":1e400}}";
    in.len = strlen((const char *) in.body);
    in.name = "bad numbers";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
    run(&in, NULL, 0, 1, whole, sizeof(whole), &an);
    CHECK_EQ(an.bad_numbers, 3);

    /* deep JSON: the usage at the top is read, the depth counted */

    doc = malloc(64 * 1024);
    n = sprintf(doc, "{\"content\":");

    for (i = 0; i < 40; i++) {
        n += sprintf(doc + n, "{\"usage\":[");
    }

    n += sprintf(doc + n, "{\"input_tokens\":999}");

    for (i = 0; i < 40; i++) {
        n += sprintf(doc + n, "]}");
    }

    n += sprintf(doc + n, ",\"usage\":{\"input_tokens\":11,"
                 "\"output_tokens\":22}}");

    in.body = (const unsigned char *) doc;
    in.len = n;
    in.name = "deep JSON";
    check_input(&in, "in=11 out=22 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
    run(&in, NULL, 0, 1, whole, sizeof(whole), &an);
    CHECK(an.json_too_deep > 0);
    CHECK_EQ(an.json_errors, 0);

    /* too deep to be JSON we accept: what came before it is kept */
    n = sprintf(doc, "{\"usage\":{\"input_tokens\":5},\"x\":");
    memset(doc + n, '[', 1000);
    n += 1000;
    in.len = n;
    in.name = "too deep";
    check_input(&in, "in=5 out=0 cr=0 cw=0 img=0 has=1 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
    run(&in, NULL, 0, 1, whole, sizeof(whole), &an);
    CHECK_EQ(an.json_errors, 1);
    CHECK_STR(an.json_error, "JSON nested too deeply");
    free(doc);

    /* a huge string (a long completion), split at random */

    big = 4 * 1024 * 1024;
    doc = malloc(big + 256);
    n = sprintf(doc, "{\"completion\":\"");

    for (i = 0; i < big; i++) {
        doc[n + i] = (i % 97 == 0) ? '\\' : (i % 97 == 1) ? '"' : 'x';
    }

    n += big;
    n += sprintf(doc + n, "\",\"usage\":{\"input_tokens\":3,"
                 "\"output_tokens\":4000000}}");

    in.body = (const unsigned char *) doc;
    in.len = n;
    in.name = "huge string";
    check_input(&in, "in=3 out=4000000 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));
    free(doc);

    /* a text model's "images" are not counted */

    in.body = (const unsigned char *)
              "{\"images\":[\"a\",\"b\"],\"usage\":{\"input_tokens\":1,"
              "\"output_tokens\":2}}";
    in.len = strlen((const char *) in.body);
    in.name = "no images";
    check_input(&in, "in=1 out=2 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* Cohere Command R */

    in.model = "cohere.command-r-v1:0";
    in.body = (const unsigned char *)
              "{\"response_id\":\"x\",\"text\":\"hi\",\"meta\":"
              "{\"api_version\":{\"version\":\"1\"},\"billed_units\":"
              "{\"input_tokens\":9,\"output_tokens\":12},\"tokens\":"
              "{\"input_tokens\":70,\"output_tokens\":12}}}";
    in.len = strlen((const char *) in.body);
    in.name = "cohere command r";
    check_input(&in, "in=9 out=12 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* Titan with two results: summed */

    in.model = "amazon.titan-text-express-v1";
    in.body = (const unsigned char *)
              "{\"inputTextTokenCount\":5,\"results\":[{\"tokenCount\":3,"
              "\"outputText\":\"a\"},{\"tokenCount\":4.0,\"outputText\":"
              "\"b\"}]}";
    in.len = strlen((const char *) in.body);
    in.name = "titan results";
    check_input(&in, "in=5 out=7 cr=0 cw=0 img=0 has=3 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* Titan embeddings */

    in.model = "amazon.titan-embed-text-v2:0";
    in.body = (const unsigned char *)
              "{\"embedding\":[0.1,-0.25,3e-5,1],\"embeddingsByType\":"
              "{\"float\":[0.1]},\"inputTextTokenCount\":6}";
    in.len = strlen((const char *) in.body);
    in.name = "titan embeddings";
    check_input(&in, "in=6 out=0 cr=0 cw=0 img=0 has=1 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* a 2xx body that is not complete JSON, "complete": partial */
    in.body = (const unsigned char *) "{\"inputTextTokenCount\":6,";
    in.len = strlen((const char *) in.body);
    run(&in, NULL, 0, 1, whole, sizeof(whole), NULL);
    CHECK(strstr(whole, "in=6 out=0 cr=0 cw=0 img=0 has=1 src=partial")
          != NULL);

    /* an empty 2xx body: nothing */
    in.len = 0;
    run(&in, NULL, 0, 1, whole, sizeof(whole), NULL);
    CHECK(strstr(whole, "has=0 src=none") != NULL);
}


static void
test_images(void)
{
    char      whole[1024];
    input_t   in;

    static const char  titan_req[] =
        "{\"taskType\":\"TEXT_IMAGE\",\"textToImageParams\":{\"text\":"
        "\"a cat\",\"width\":1},\"imageGenerationConfig\":"
        "{\"numberOfImages\":2,\"quality\":\"premium\",\"height\":512,"
        "\"width\":768,\"cfgScale\":8.0,\"seed\":42}}";
    static const char  titan_resp[] =
        "{\"images\":[\"iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB\",\"iVBORw0KGgo=\"],"
        "\"error\":null}";
    static const char  canvas_req[] =
        "{\"taskType\":\"TEXT_IMAGE\",\"textToImageParams\":{\"text\":\"x\"},"
        "\"imageGenerationConfig\":{\"numberOfImages\":1,\"height\":1024,"
        "\"width\":1024}}";
    static const char  canvas_resp[] = "{\"images\":[\"iVBORw0KGgo=\"]}";
    static const char  sdxl_req[] =
        "{\"text_prompts\":[{\"text\":\"x\",\"weight\":1.0}],\"cfg_scale\":10,"
        "\"seed\":0,\"steps\":50,\"samples\":1,\"width\":1024,"
        "\"height\":1024}";
    static const char  sdxl_resp[] =
        "{\"result\":\"success\",\"artifacts\":[{\"seed\":0,\"base64\":"
        "\"iVBORw0KGgo=\",\"finishReason\":\"SUCCESS\"}]}";
    static const char  sd3_req[] =
        "{\"prompt\":\"x\",\"mode\":\"text-to-image\",\"aspect_ratio\":\"1:1\","
        "\"output_format\":\"png\"}";
    static const char  sd3_resp[] =
        "{\"seeds\":[12],\"finish_reasons\":[null],\"images\":"
        "[\"iVBORw0KGgo=\"]}";

    memset(&in, 0, sizeof(in));
    in.op = AIGW_OP_INVOKE;
    in.status = 200;

    in.model = "amazon.titan-image-generator-v2:0";
    in.req = (const unsigned char *) titan_req;
    in.req_len = sizeof(titan_req) - 1;
    in.body = (const unsigned char *) titan_resp;
    in.len = sizeof(titan_resp) - 1;
    in.name = "titan image";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=2 has=10 src=body"
                     " err=0 thr=0 type= size=768x512 q=premium w=768 h=512"
                     " req=2",
                whole, sizeof(whole));

    in.req_bytewise = 1;
    in.name = "titan image, request 1 byte at a time";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=2 has=10 src=body"
                     " err=0 thr=0 type= size=768x512 q=premium w=768 h=512"
                     " req=2",
                whole, sizeof(whole));
    in.req_bytewise = 0;

    in.model = "amazon.nova-canvas-v1:0";
    in.req = (const unsigned char *) canvas_req;
    in.req_len = sizeof(canvas_req) - 1;
    in.body = (const unsigned char *) canvas_resp;
    in.len = sizeof(canvas_resp) - 1;
    in.name = "nova canvas";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=1 has=10 src=body"
                     " err=0 thr=0 type= size=1024x1024 q= w=1024 h=1024"
                     " req=1",
                whole, sizeof(whole));

    in.model = "stability.stable-diffusion-xl-v1";
    in.req = (const unsigned char *) sdxl_req;
    in.req_len = sizeof(sdxl_req) - 1;
    in.body = (const unsigned char *) sdxl_resp;
    in.len = sizeof(sdxl_resp) - 1;
    in.name = "stability sdxl";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=1 has=10 src=body"
                     " err=0 thr=0 type= size=1024x1024 q= w=1024 h=1024"
                     " req=1",
                whole, sizeof(whole));

    in.model = "stability.sd3-large-v1:0";
    in.req = (const unsigned char *) sd3_req;
    in.req_len = sizeof(sd3_req) - 1;
    in.body = (const unsigned char *) sd3_resp;
    in.len = sizeof(sd3_resp) - 1;
    in.name = "stability sd3";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=1 has=10 src=body"
                     " err=0 thr=0 type= size= q= w=0 h=0 req=0",
                whole, sizeof(whole));

    /* an application inference profile may be an image model */
    in.model = "arn:aws:bedrock:us-east-1:123456789012:"
               "application-inference-profile/abcd1234";
    in.req = (const unsigned char *) titan_req;
    in.req_len = sizeof(titan_req) - 1;
    in.body = (const unsigned char *) titan_resp;
    in.len = sizeof(titan_resp) - 1;
    in.name = "image profile";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=2 has=10 src=body"
                     " err=0 thr=0 type= size=768x512 q=premium w=768 h=512"
                     " req=2",
                whole, sizeof(whole));

    /* with token headers too */
    in.headers[0] = "X-Amzn-Bedrock-Input-Token-Count";
    in.headers[1] = "7";
    in.headers[2] = NULL;
    in.name = "image with headers";
    check_input(&in, "in=7 out=0 cr=0 cw=0 img=2 has=11 src=header"
                     " err=0 thr=0 type= size=768x512 q=premium w=768 h=512"
                     " req=2",
                whole, sizeof(whole));
    in.headers[0] = NULL;

    /* an error: no images, the request still known */
    in.status = 400;
    in.body = (const unsigned char *) "{\"message\":\"blocked\"}";
    in.len = strlen((const char *) in.body);
    in.headers[0] = "x-amzn-ErrorType";
    in.headers[1] = "ValidationException";
    in.name = "image error";
    check_input(&in, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none"
                     " err=1 thr=0 type=ValidationException size=768x512"
                     " q=premium w=768 h=512 req=2",
                whole, sizeof(whole));

    /* a text model: the request is not wanted */
    {
        aigw_usage_parser_t  *up;

        up = malloc(sizeof(aigw_usage_parser_t));
        aigw_usage_init(up, AIGW_OP_INVOKE, "anthropic.claude-v2", 19,
                        AIGW_USAGE_FORMAT_AUTO);
        CHECK_EQ(aigw_usage_wants_request_body(up), 0);
        aigw_usage_init(up, AIGW_OP_INVOKE, "amazon.nova-canvas-v1:0", 23,
                        AIGW_USAGE_FORMAT_AUTO);
        CHECK_EQ(aigw_usage_wants_request_body(up), 1);
        aigw_usage_init(up, AIGW_OP_CONVERSE, "amazon.nova-canvas-v1:0", 23,
                        AIGW_USAGE_FORMAT_AUTO);
        CHECK_EQ(aigw_usage_wants_request_body(up), 0);
        aigw_usage_init(up, AIGW_OP_INVOKE,
                        "arn:aws:bedrock:us-east-1::foundation-model/"
                        "anthropic.claude-v2", 63, AIGW_USAGE_FORMAT_AUTO);
        CHECK_EQ(aigw_usage_wants_request_body(up), 0);
        aigw_usage_init(up, AIGW_OP_INVOKE, NULL, 0, AIGW_USAGE_FORMAT_AUTO);
        CHECK_EQ(aigw_usage_wants_request_body(up), 0);
        free(up);
    }
}


static void
test_misc(void)
{
    char                    text[1024];
    input_t                 in;
    aigw_usage_parser_t    *up;
    aigw_usage_anomalies_t  an;

    /* empty and NULL values */

    up = malloc(sizeof(aigw_usage_parser_t));
    aigw_usage_init(up, AIGW_OP_INVOKE, "amazon.nova-canvas-v1:0", 23,
                    AIGW_USAGE_FORMAT_AUTO);
    aigw_usage_status(up, 500);
    aigw_usage_header(up, "x-amzn-ErrorType", 16, NULL, 0);
    aigw_usage_header(up, "X-Amzn-Bedrock-Input-Token-Count", 32, NULL, 0);
    aigw_usage_request_body(up, NULL, 0);
    aigw_usage_body(up, NULL, 0);
    aigw_usage_finish(up, 1);
    usage_text(&up->usage, text, sizeof(text));
    CHECK_STR(text, "in=0 out=0 cr=0 cw=0 img=0 has=0 src=none err=1 thr=0"
                    " type= size= q= w=0 h=0 req=0");
    aigw_usage_anomalies(up, &an);
    CHECK_EQ(an.bad_numbers, 1);
    free(up);

    /* what is counted for the log, and what is not */

    memset(&in, 0, sizeof(in));
    in.op = AIGW_OP_INVOKE;
    in.model = "anthropic.claude-v2";
    in.status = 200;
    in.body = (const unsigned char *) "<html>";
    in.len = 6;
    run(&in, NULL, 0, 1, text, sizeof(text), &an);
    CHECK_EQ(an.json_errors, 1);
    CHECK_STR(an.json_error, "expected a value");

    in.status = 503;
    run(&in, NULL, 0, 1, text, sizeof(text), &an);
    CHECK_EQ(an.json_errors, 0);

    in.status = 200;
    in.op = AIGW_OP_SM_INVOKE;
    in.format = AIGW_USAGE_FORMAT_AUTO;
    run(&in, NULL, 0, 1, text, sizeof(text), &an);
    CHECK_EQ(an.json_errors, 0);

    in.format = AIGW_USAGE_FORMAT_OPENAI;
    run(&in, NULL, 0, 1, text, sizeof(text), &an);
    CHECK_EQ(an.json_errors, 1);

    CHECK_STR(aigw_usage_source_name(AIGW_USAGE_SOURCE_NONE), "none");
    CHECK_STR(aigw_usage_source_name(AIGW_USAGE_SOURCE_HEADER), "header");
    CHECK_STR(aigw_usage_source_name(AIGW_USAGE_SOURCE_BODY), "body");
    CHECK_STR(aigw_usage_source_name(AIGW_USAGE_SOURCE_STREAM), "stream");
    CHECK_STR(aigw_usage_source_name(AIGW_USAGE_SOURCE_PARTIAL), "partial");
    CHECK_STR(aigw_usage_source_name((aigw_usage_source_e) 99), "none");

    /* the bound stated in aigw_usage.h */
    CHECK(sizeof(aigw_usage_parser_t) <= AIGW_USAGE_STATE_MAX);
}


int
main(void)
{
    test_captures();
    test_invoke_streams();
    test_errors();
    test_sagemaker();
    test_sagemaker_streams();
    test_tgi_input_length();
    test_bodies();
    test_images();
    test_misc();

    printf("sizeof(aigw_usage_parser_t) = %zu\n",
           sizeof(aigw_usage_parser_t));

    return unit_done("usage");
}
