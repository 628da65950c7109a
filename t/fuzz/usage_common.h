
/*
 * aigw: what the usage targets share: a response (operation, model,
 * headers, request and response bodies) run through the usage parser,
 * its bodies fed whole, byte by byte or in pieces, the result as text.
 */

#ifndef AIGW_FUZZ_USAGE_COMMON_H
#define AIGW_FUZZ_USAGE_COMMON_H


#include "fuzz.h"
#include "aigw_usage.h"


#define FUZZ_USAGE_HEADERS  8
#define FUZZ_USAGE_TEXT     1024


static const char  *fuzz_models[] = {
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.amazon.nova-lite-v1:0",
    "amazon.titan-text-express-v1",
    "meta.llama3-8b-instruct-v1:0",
    "cohere.command-r-v1:0",
    "ai21.j2-mid-v1",
    "mistral.mistral-7b-instruct-v0:2",
    "amazon.titan-image-generator-v2:0",
    "amazon.nova-canvas-v1:0",
    "stability.sd3-large-v1:0",
    ("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"
     "a1b2c3"),
    "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0",
    "my-llm-endpoint",
    ""
};

#define FUZZ_NMODELS  (sizeof(fuzz_models) / sizeof(fuzz_models[0]))

static const unsigned  fuzz_statuses[] = { 200, 200, 200, 400, 429, 500 };


typedef struct {
    const char      *name;
    const uint8_t   *value;
    size_t           value_len;
} fuzz_header_t;


typedef struct {
    aigw_op_e             op;
    aigw_usage_format_e   format;
    const char           *model;
    unsigned              status;
    int                   complete;
    uint64_t              seed;

    fuzz_header_t         headers[FUZZ_USAGE_HEADERS];
    size_t                nheaders;

    const uint8_t        *req;
    size_t                req_len;
    const uint8_t        *body;
    size_t                len;
} fuzz_resp_t;


/* op, format, model, status, complete, seed: 13 bytes */
static inline void
fuzz_usage_params(fuzz_in_t *in, fuzz_resp_t *r)
{
    r->op = (aigw_op_e) (fuzz_byte(in) % (AIGW_OP_SM_INVOKE_STREAM + 1));
    r->format = (aigw_usage_format_e)
                    (fuzz_byte(in) % (AIGW_USAGE_FORMAT_NONE + 1));
    r->model = fuzz_models[fuzz_byte(in) % FUZZ_NMODELS];
    r->status = fuzz_statuses[fuzz_byte(in)
                              % (sizeof(fuzz_statuses) / sizeof(unsigned))];
    r->complete = fuzz_byte(in) & 1;
    r->seed = fuzz_u64(in, 8);
}


static void
fuzz_usage_feed_req(void *ctx, const uint8_t *p, size_t len)
{
    aigw_usage_request_body(ctx, p, len);
}


static void
fuzz_usage_feed_body(void *ctx, const uint8_t *p, size_t len)
{
    aigw_usage_body(ctx, p, len);
}


static inline void
fuzz_usage_text(const aigw_usage_parser_t *up, char *out)
{
    const aigw_usage_t      *u;
    aigw_usage_anomalies_t   a;

    u = &up->usage;
    aigw_usage_anomalies(up, &a);

    FUZZ_CHECK(strlen(u->error_type) <= AIGW_USAGE_ERROR_TYPE_MAX);
    FUZZ_CHECK(strlen(u->image_size) <= AIGW_USAGE_IMAGE_SIZE_MAX);
    FUZZ_CHECK(strlen(u->image_quality) <= AIGW_USAGE_QUALITY_MAX);

    snprintf(out, FUZZ_USAGE_TEXT,
             "in=%llu out=%llu cr=%llu cw=%llu img=%llu has=%x src=%s"
             " status=%u err=%d thr=%d type=%s size=%s q=%s w=%llu h=%llu"
             " req=%llu | stream=%s last=%s crc=%u skipped=%u"
             " bad=%u json=%u (%s) deep=%u keys=%u numbers=%u"
             " badnum=%u b64=%u",
             (unsigned long long) u->input_tokens,
             (unsigned long long) u->output_tokens,
             (unsigned long long) u->cache_read_input_tokens,
             (unsigned long long) u->cache_write_input_tokens,
             (unsigned long long) u->images, u->has,
             aigw_usage_source_name(u->source), u->status, (int) u->error,
             (int) u->throttled, u->error_type, u->image_size,
             u->image_quality, (unsigned long long) u->image_width,
             (unsigned long long) u->image_height,
             (unsigned long long) u->images_requested,
             a.stream_error ? a.stream_error : "-",
             a.stream_last ? a.stream_last : "-", a.crc_errors, a.skipped,
             a.bad_headers, a.json_errors,
             a.json_error ? a.json_error : "-", a.json_too_deep,
             a.json_long_keys, a.json_long_numbers, a.bad_numbers,
             a.base64_errors);
}


static inline void
fuzz_usage_run(const fuzz_resp_t *r, int how, char *out)
{
    size_t                i;
    aigw_usage_parser_t  *up;

    up = malloc(sizeof(aigw_usage_parser_t));
    FUZZ_CHECK(up != NULL);

    aigw_usage_init(up, r->op, r->model, strlen(r->model), r->format);

    if (r->req_len && aigw_usage_wants_request_body(up)) {
        fuzz_feed(fuzz_usage_feed_req, up, r->req, r->req_len, how,
                  r->seed ^ 1);
    }

    aigw_usage_status(up, r->status);

    for (i = 0; i < r->nheaders; i++) {
        aigw_usage_header(up, r->headers[i].name, strlen(r->headers[i].name),
                          (const char *) r->headers[i].value,
                          r->headers[i].value_len);
    }

    fuzz_feed(fuzz_usage_feed_body, up, r->body, r->len, how, r->seed);

    aigw_usage_finish(up, r->complete);
    fuzz_usage_text(up, out);

    free(up);
}


#endif /* AIGW_FUZZ_USAGE_COMMON_H */
