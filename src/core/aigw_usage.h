
/*
 * aigw: exact token usage of a Bedrock or SageMaker response, read as it
 * passes: from the response headers, the JSON body, or the event stream,
 * fed in byte ranges of any size, with the same result for every split.
 * No nginx headers; no allocation; nothing is buffered but a few short
 * strings.  The parser is a plain struct of fixed size that the caller
 * allocates: sizeof(aigw_usage_parser_t) is 6712 bytes on LP64 (x86_64,
 * aarch64), whatever the size of the response, and at most
 * AIGW_USAGE_STATE_MAX (8 KiB) anywhere (checked when compiling).  It
 * holds three JSON scanners (the body or an event's payload, the decoded
 * "bytes" of a chunk, the request body) and an event-stream decoder.
 * The core does not log: anomalies are counted (aigw_usage_anomalies_t)
 * for the caller to log.
 *
 * Calls, in this order:
 *
 *     aigw_usage_init()             the operation, model, SageMaker format
 *     aigw_usage_request_body()     optional, image models only (see
 *                                   aigw_usage_wants_request_body())
 *     aigw_usage_status()
 *     aigw_usage_header()           each response header
 *     aigw_usage_body()             the response body, in any pieces
 *     aigw_usage_finish()           complete, or cut short
 *
 * then parser->usage holds the result.
 *
 * Sources of usage (input_tokens never includes cached tokens):
 *
 *  - InvokeModel: the X-Amzn-Bedrock-Input-Token-Count,
 *    -Output-Token-Count, -Cache-Read-Input-Token-Count and
 *    -Cache-Write-Input-Token-Count headers ("header"); without them the
 *    counts the model family puts in the body ("body"): Anthropic
 *    usage.input_tokens, output_tokens, cache_read_input_tokens,
 *    cache_creation_input_tokens; Nova usage.inputTokens, outputTokens,
 *    cacheReadInputTokenCount, cacheWriteInputTokenCount; Titan
 *    inputTextTokenCount and the sum of results[].tokenCount; Llama
 *    prompt_token_count, generation_token_count; Cohere Command R
 *    meta.billed_units.input_tokens, output_tokens; AI21 Jurassic-2 the
 *    number of prompt.tokens[] and completions[].data.tokens[]; the
 *    OpenAI-style usage.prompt_tokens, completion_tokens,
 *    prompt_tokens_details.cached_tokens (input = prompt - cached).
 *  - InvokeModelWithResponseStream ("stream"): the JSON of the base64
 *    "bytes" of each "chunk" event, decoded on the fly:
 *    amazon-bedrock-invocationMetrics (inputTokenCount, outputTokenCount,
 *    cacheReadInputTokenCount, cacheWriteInputTokenCount) is
 *    authoritative; for each count it lacks, the family's own (the above,
 *    and Titan totalOutputTextTokenCount, Anthropic message_start
 *    message.usage and message_delta usage, Nova metadata.usage).
 *  - Converse ("body"): the top-level usage: inputTokens, outputTokens,
 *    cacheReadInputTokens, cacheWriteInputTokens.
 *  - ConverseStream ("stream"): the same in the "metadata" event.
 *  - CountTokens: not metered ("none").
 *  - InvokeEndpoint ("body") and InvokeEndpointWithResponseStream
 *    ("stream", PayloadPart events carrying server-sent events "data:
 *    {...}", JSON lines or concatenated JSON): with the usage format
 *    "openai" usage.prompt_tokens, completion_tokens and
 *    prompt_tokens_details.cached_tokens; "tgi" details.generated_tokens
 *    (output) and details.input_length (input: TGI 2.x, in a stream's
 *    last event), else the number of details.prefill[] entries, for an
 *    object or an array of them; "auto" openai, else tgi; "none" nothing.
 *  - Image models (Titan Image Generator, Nova Canvas, Stability; and
 *    ARNs that do not name a model family): images counts the elements of
 *    the response's top-level "images" (or Stability's "artifacts")
 *    array; image_width, image_height, image_quality and
 *    images_requested come from the request body's imageGenerationConfig
 *    (width, height, quality, numberOfImages) or Stability's top-level
 *    width, height, samples.  image_size is "WxH" in pixels ("512x512",
 *    "1024x1024"), empty when the request did not give both.
 *
 * In a stream, values are staged per event-stream message and committed
 * only when the message's CRC matches.  A response cut short (finish
 * with complete 0, or a body or stream that ends inside a value or a
 * message) keeps what was committed, with source "partial", unless the
 * final usage had already arrived (the token headers, a complete JSON
 * body, the invocation metrics or the metadata event).
 *
 * Errors: a status >= 400 sets error, and error_type from x-amzn-ErrorType
 * (up to the first ':'), else from a JSON body's "__type", else
 * "ThrottlingException" for 429.  An event-stream message of
 * :message-type "exception" (or "error") sets error and error_type from
 * :exception-type (or :error-code).  Error types are reduced to
 * [A-Za-z0-9_.-], after any '#', with a capital first letter:
 * "throttlingException" gives "ThrottlingException".  throttled is set by
 * a 429 or an error type containing "throttl" (any case).
 */

#ifndef AIGW_USAGE_H
#define AIGW_USAGE_H


#include <stddef.h>
#include <stdint.h>

#include "aigw_target.h"
#include "aigw_json_scan.h"
#include "aigw_eventstream.h"


#define AIGW_USAGE_STATE_MAX        8192    /* sizeof(aigw_usage_parser_t) */

#define AIGW_USAGE_ERROR_TYPE_MAX   64
#define AIGW_USAGE_IMAGE_SIZE_MAX   41      /* "WxH", two 20-digit numbers */
#define AIGW_USAGE_QUALITY_MAX      16

/*
 * The most tokens (or images) one response may report for one count: a
 * hundred times the largest context window of any model (10 million
 * tokens).  A count above it cannot be true: it is treated as unreadable
 * (not counted, its "has" bit clear) and reported in the anomalies, so
 * that one hostile or broken response cannot skew or stop the counting.
 */
#define AIGW_USAGE_COUNT_MAX        1000000000ULL

/* aigw_usage_t.has */
#define AIGW_USAGE_HAS_INPUT        0x01
#define AIGW_USAGE_HAS_OUTPUT       0x02
#define AIGW_USAGE_HAS_CACHE_READ   0x04
#define AIGW_USAGE_HAS_CACHE_WRITE  0x08
#define AIGW_USAGE_HAS_IMAGES       0x10


typedef enum {
    AIGW_USAGE_SOURCE_NONE = 0,
    AIGW_USAGE_SOURCE_HEADER,
    AIGW_USAGE_SOURCE_BODY,
    AIGW_USAGE_SOURCE_STREAM,
    AIGW_USAGE_SOURCE_PARTIAL
} aigw_usage_source_e;


typedef enum {
    AIGW_USAGE_FORMAT_AUTO = 0,
    AIGW_USAGE_FORMAT_OPENAI,
    AIGW_USAGE_FORMAT_TGI,
    AIGW_USAGE_FORMAT_NONE
} aigw_usage_format_e;


typedef struct {
    uint64_t               input_tokens;
    uint64_t               output_tokens;
    uint64_t               cache_read_input_tokens;
    uint64_t               cache_write_input_tokens;
    uint64_t               images;
    unsigned               has;             /* AIGW_USAGE_HAS_* */

    aigw_usage_source_e    source;

    unsigned               status;
    unsigned               error:1;         /* status >= 400, exception */
    unsigned               throttled:1;
    char                   error_type[AIGW_USAGE_ERROR_TYPE_MAX + 1];

    /* image models, from the request body; 0 and "" when not given */
    uint64_t               image_width;
    uint64_t               image_height;
    uint64_t               images_requested;
    char                   image_size[AIGW_USAGE_IMAGE_SIZE_MAX + 1];
    char                   image_quality[AIGW_USAGE_QUALITY_MAX + 1];
} aigw_usage_t;


/* what the caller may log; all zero / NULL normally */
typedef struct {
    const char            *stream_error;    /* fatal event-stream error */
    const char            *stream_last;     /* last message-level problem */
    uint32_t               crc_errors;      /* messages dropped: bad CRC */
    uint32_t               skipped;         /* headers over the buffer */
    uint32_t               bad_headers;     /* malformed header blocks */
    /* JSON documents not parsed; not counted: error pages, SageMaker
       with the "auto" format (its models may send anything) */
    uint32_t               json_errors;
    const char            *json_error;      /* the last reason */
    uint32_t               json_too_deep;   /* containers past the path */
    uint32_t               json_long_keys;
    uint32_t               json_long_numbers;
    uint32_t               bad_numbers;     /* counts not an exact integer */
    uint32_t               out_of_range;    /* counts over the bound */
    uint32_t               base64_errors;
} aigw_usage_anomalies_t;


/* private: where a count goes before the final choice */
typedef enum {
    AIGW_USAGE_MET_IN = 0,                  /* invocationMetrics */
    AIGW_USAGE_MET_OUT,
    AIGW_USAGE_MET_CR,
    AIGW_USAGE_MET_CW,
    AIGW_USAGE_FAM_IN,                      /* the model family's own */
    AIGW_USAGE_FAM_OUT,
    AIGW_USAGE_FAM_CR,
    AIGW_USAGE_FAM_CW,
    AIGW_USAGE_OAI_IN,                      /* OpenAI-style */
    AIGW_USAGE_OAI_OUT,
    AIGW_USAGE_OAI_CACHED,
    AIGW_USAGE_TGI_IN,                      /* TGI details */
    AIGW_USAGE_TGI_OUT,
    AIGW_USAGE_TGI_LEN,                     /* input_length: TGI 2.x */
    AIGW_USAGE_IMAGES,
    AIGW_USAGE_HDR_IN,                      /* the token headers */
    AIGW_USAGE_HDR_OUT,
    AIGW_USAGE_HDR_CR,
    AIGW_USAGE_HDR_CW,
    AIGW_USAGE_REQ_WIDTH,                   /* the request body */
    AIGW_USAGE_REQ_HEIGHT,
    AIGW_USAGE_REQ_IMAGES,
    AIGW_USAGE_NSLOTS
} aigw_usage_slot_e;


typedef struct {
    uint64_t               v[AIGW_USAGE_NSLOTS];
    uint32_t               has;             /* 1 << slot */
    uint8_t                error;           /* error_type is set */
    char                   error_type[AIGW_USAGE_ERROR_TYPE_MAX + 1];
} aigw_usage_acc_t;


typedef struct aigw_usage_rule_s   aigw_usage_rule_t;
typedef struct aigw_usage_rules_s  aigw_usage_rules_t;


typedef struct {
    aigw_usage_t           usage;           /* the result, after finish */
    uint64_t               events;          /* stream messages begun */

    /* private */
    aigw_op_e              op;
    aigw_usage_format_e    format;
    unsigned               mode;
    unsigned               image_model:1;
    unsigned               content_json:1;
    unsigned               content_es:1;
    unsigned               body_seen:1;
    unsigned               finished:1;
    unsigned               in_bytes:1;
    unsigned               doc_commit:1;    /* doc -> committed directly */
    unsigned               raw_skip:1;
    unsigned               sse_cr:1;
    unsigned               kind;            /* of the current message */
    unsigned               sse_state;
    unsigned               pfx_n;
    char                   pfx[12];

    const aigw_usage_rules_t  *rules;

    /* string capture: the error "__type", the image quality */
    aigw_json_scan_t      *cap_js;
    unsigned               cap_slot;
    unsigned               cap_len;
    unsigned               cap_too_long:1;
    char                   cap[AIGW_USAGE_ERROR_TYPE_MAX];

    /* base64 of a chunk's "bytes" */
    uint32_t               b64_bits;
    unsigned               b64_n;
    unsigned               b64_pad;

    uint32_t               json_errors;
    const char            *json_error;
    uint32_t               bad_numbers;
    uint32_t               out_of_range;
    uint32_t               base64_errors;

    char                   hdr_error[AIGW_USAGE_ERROR_TYPE_MAX + 1];
    char                   body_error[AIGW_USAGE_ERROR_TYPE_MAX + 1];
    char                   quality[AIGW_USAGE_QUALITY_MAX + 1];

    aigw_usage_acc_t       committed;
    aigw_usage_acc_t       stage;           /* the current message */
    aigw_usage_acc_t       doc;             /* the current JSON document */
    aigw_usage_acc_t       req;

    aigw_es_decoder_t      es;
    aigw_json_scan_t       outer;           /* body, payload, SSE data */
    aigw_json_scan_t       inner;           /* decoded "bytes" of a chunk */
    aigw_json_scan_t       request;
} aigw_usage_parser_t;


/*
 * "model": the model ID, ARN or endpoint name (decoded), only looked at
 * here (it decides whether the model makes images); "format": SageMaker
 * only.
 */
void aigw_usage_init(aigw_usage_parser_t *up, aigw_op_e op,
    const char *model, size_t model_len, aigw_usage_format_e format);

/* 1 when the request body is worth feeding (an image model) */
int aigw_usage_wants_request_body(const aigw_usage_parser_t *up);
void aigw_usage_request_body(aigw_usage_parser_t *up, const void *p,
    size_t len);

void aigw_usage_status(aigw_usage_parser_t *up, unsigned status);

/* a response header; names are compared case-insensitively */
void aigw_usage_header(aigw_usage_parser_t *up, const char *name,
    size_t name_len, const char *value, size_t value_len);

void aigw_usage_body(aigw_usage_parser_t *up, const void *p, size_t len);

/*
 * "complete": 1 when the response ended normally, 0 when it was cut short
 * (the client went away, the upstream reset).  Fills up->usage; later
 * calls do nothing.
 */
void aigw_usage_finish(aigw_usage_parser_t *up, int complete);

void aigw_usage_anomalies(const aigw_usage_parser_t *up,
    aigw_usage_anomalies_t *a);

/* "none", "header", "body", "stream", "partial" */
const char *aigw_usage_source_name(aigw_usage_source_e source);


#endif /* AIGW_USAGE_H */
