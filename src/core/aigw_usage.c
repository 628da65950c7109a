
/*
 * aigw: exact token usage of a Bedrock or SageMaker response, from its
 * headers, JSON body or event stream.  No nginx headers, no allocation.
 */


#include <stdio.h>
#include <string.h>

#include "aigw_usage.h"


/* parser modes */
enum {
    UM_UNDECIDED = 0,
    UM_NONE,                    /* the body is not looked at */
    UM_JSON,                    /* a JSON body */
    UM_STREAM                   /* an event stream */
};


/* event-stream message kinds */
enum {
    UK_OTHER = 0,
    UK_CHUNK,                   /* invoke stream: {"bytes": base64} */
    UK_JSON,                    /* converse stream metadata: JSON */
    UK_PART,                    /* SageMaker PayloadPart: raw bytes */
    UK_ERROR                    /* exception or error */
};


/* the SageMaker stream's payload bytes */
enum {
    SSE_BEGIN = 0,              /* leading white space */
    SSE_RAW,                    /* JSON values, one after another */
    SSE_LINE,                   /* the start of an SSE line */
    SSE_DATA,                   /* the value of a "data:" line */
    SSE_IGNORE                  /* up to the end of the line */
};


/* rule actions */
enum {
    UR_SET = 0,                 /* a number: the last one wins */
    UR_SUM,                     /* numbers: added within a document */
    UR_COUNT,                   /* array elements: counted */
    UR_STRING                   /* a short string: captured */
};


/* capture slots of UR_STRING */
#define AIGW_USAGE_CAP_ERROR    100
#define AIGW_USAGE_CAP_QUALITY  101

#define AIGW_USAGE_IMAGE        0x01        /* only for image models */


struct aigw_usage_rule_s {
    const char   *path;
    uint8_t       slot;
    uint8_t       action;
    uint8_t       flags;
};


#define AIGW_USAGE_MASK(a, b)                                                 \
    (((1u << ((b) + 1)) - 1) & ~((1u << (a)) - 1))

#define AIGW_USAGE_MET_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_MET_IN, AIGW_USAGE_MET_CW)
#define AIGW_USAGE_FAM_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_FAM_IN, AIGW_USAGE_FAM_CW)
#define AIGW_USAGE_OAI_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_OAI_IN, AIGW_USAGE_OAI_CACHED)
#define AIGW_USAGE_TGI_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_TGI_IN, AIGW_USAGE_TGI_OUT)
#define AIGW_USAGE_HDR_MASK                                                   \
    AIGW_USAGE_MASK(AIGW_USAGE_HDR_IN, AIGW_USAGE_HDR_CW)

#define aigw_usage_has(acc, s)  ((acc)->has & (1u << (s)))


/*
 * Bedrock InvokeModel bodies and the decoded chunks of
 * InvokeModelWithResponseStream: every family's own counts.  The paths
 * start at the top of the document: a "usage" nested elsewhere (tool
 * input, guardrail traces) never matches.
 */

static const aigw_usage_rule_t  aigw_usage_bedrock_rules[] = {

    /* the stream's last chunk */
    { "amazon-bedrock-invocationMetrics.inputTokenCount",
      AIGW_USAGE_MET_IN, UR_SET, 0 },
    { "amazon-bedrock-invocationMetrics.outputTokenCount",
      AIGW_USAGE_MET_OUT, UR_SET, 0 },
    { "amazon-bedrock-invocationMetrics.cacheReadInputTokenCount",
      AIGW_USAGE_MET_CR, UR_SET, 0 },
    { "amazon-bedrock-invocationMetrics.cacheWriteInputTokenCount",
      AIGW_USAGE_MET_CW, UR_SET, 0 },

    /* Anthropic Messages: the body, and the message_delta event */
    { "usage.input_tokens", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "usage.output_tokens", AIGW_USAGE_FAM_OUT, UR_SET, 0 },
    { "usage.cache_read_input_tokens", AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "usage.cache_creation_input_tokens", AIGW_USAGE_FAM_CW, UR_SET, 0 },

    /* Anthropic's message_start event */
    { "message.usage.input_tokens", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "message.usage.output_tokens", AIGW_USAGE_FAM_OUT, UR_SET, 0 },
    { "message.usage.cache_read_input_tokens",
      AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "message.usage.cache_creation_input_tokens",
      AIGW_USAGE_FAM_CW, UR_SET, 0 },

    /* Nova */
    { "usage.inputTokens", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "usage.outputTokens", AIGW_USAGE_FAM_OUT, UR_SET, 0 },
    { "usage.cacheReadInputTokenCount", AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "usage.cacheWriteInputTokenCount", AIGW_USAGE_FAM_CW, UR_SET, 0 },
    { "usage.cacheReadInputTokens", AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "usage.cacheWriteInputTokens", AIGW_USAGE_FAM_CW, UR_SET, 0 },

    /* Nova's stream: the metadata event */
    { "metadata.usage.inputTokens", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "metadata.usage.outputTokens", AIGW_USAGE_FAM_OUT, UR_SET, 0 },
    { "metadata.usage.cacheReadInputTokenCount",
      AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "metadata.usage.cacheWriteInputTokenCount",
      AIGW_USAGE_FAM_CW, UR_SET, 0 },
    { "metadata.usage.cacheReadInputTokens", AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "metadata.usage.cacheWriteInputTokens",
      AIGW_USAGE_FAM_CW, UR_SET, 0 },

    /* Titan Text and Embeddings */
    { "inputTextTokenCount", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "results[].tokenCount", AIGW_USAGE_FAM_OUT, UR_SUM, 0 },
    { "totalOutputTextTokenCount", AIGW_USAGE_FAM_OUT, UR_SET, 0 },

    /* Llama */
    { "prompt_token_count", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "generation_token_count", AIGW_USAGE_FAM_OUT, UR_SET, 0 },

    /* Cohere Command R */
    { "meta.billed_units.input_tokens", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "meta.billed_units.output_tokens", AIGW_USAGE_FAM_OUT, UR_SET, 0 },

    /* OpenAI-style: Mistral, Jamba, DeepSeek, gpt-oss, imported models */
    { "usage.prompt_tokens", AIGW_USAGE_OAI_IN, UR_SET, 0 },
    { "usage.completion_tokens", AIGW_USAGE_OAI_OUT, UR_SET, 0 },
    { "usage.prompt_tokens_details.cached_tokens",
      AIGW_USAGE_OAI_CACHED, UR_SET, 0 }
};


/* values of any type, counted */

static const aigw_usage_rule_t  aigw_usage_bedrock_values[] = {

    /* AI21 Jurassic-2: the tokens themselves */
    { "prompt.tokens[]", AIGW_USAGE_FAM_IN, UR_COUNT, 0 },
    { "completions[].data.tokens[]", AIGW_USAGE_FAM_OUT, UR_COUNT, 0 },

    /* images: Titan Image Generator, Nova Canvas, Stability */
    { "images[]", AIGW_USAGE_IMAGES, UR_COUNT, AIGW_USAGE_IMAGE },
    { "artifacts[]", AIGW_USAGE_IMAGES, UR_COUNT, AIGW_USAGE_IMAGE }
};


/* Converse bodies and ConverseStream's metadata event */

static const aigw_usage_rule_t  aigw_usage_converse_rules[] = {
    { "usage.inputTokens", AIGW_USAGE_FAM_IN, UR_SET, 0 },
    { "usage.outputTokens", AIGW_USAGE_FAM_OUT, UR_SET, 0 },
    { "usage.cacheReadInputTokens", AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "usage.cacheWriteInputTokens", AIGW_USAGE_FAM_CW, UR_SET, 0 },
    { "usage.cacheReadInputTokenCount", AIGW_USAGE_FAM_CR, UR_SET, 0 },
    { "usage.cacheWriteInputTokenCount", AIGW_USAGE_FAM_CW, UR_SET, 0 }
};


/* SageMaker: OpenAI-style and TGI (an object or an array of them) */

static const aigw_usage_rule_t  aigw_usage_sagemaker_rules[] = {
    { "usage.prompt_tokens", AIGW_USAGE_OAI_IN, UR_SET, 0 },
    { "usage.completion_tokens", AIGW_USAGE_OAI_OUT, UR_SET, 0 },
    { "usage.prompt_tokens_details.cached_tokens",
      AIGW_USAGE_OAI_CACHED, UR_SET, 0 },
    { "details.generated_tokens", AIGW_USAGE_TGI_OUT, UR_SUM, 0 },
    { "[].details.generated_tokens", AIGW_USAGE_TGI_OUT, UR_SUM, 0 }
};

static const aigw_usage_rule_t  aigw_usage_sagemaker_values[] = {
    { "details.prefill[]", AIGW_USAGE_TGI_IN, UR_COUNT, 0 },
    { "[].details.prefill[]", AIGW_USAGE_TGI_IN, UR_COUNT, 0 }
};


/* error bodies: {"message": "..."}, sometimes with the type */

static const aigw_usage_rule_t  aigw_usage_error_values[] = {
    { "__type", AIGW_USAGE_CAP_ERROR, UR_STRING, 0 }
};


/* the request body of image models */

static const aigw_usage_rule_t  aigw_usage_request_rules[] = {
    { "imageGenerationConfig.width", AIGW_USAGE_REQ_WIDTH, UR_SET, 0 },
    { "imageGenerationConfig.height", AIGW_USAGE_REQ_HEIGHT, UR_SET, 0 },
    { "imageGenerationConfig.numberOfImages",
      AIGW_USAGE_REQ_IMAGES, UR_SET, 0 },
    { "width", AIGW_USAGE_REQ_WIDTH, UR_SET, 0 },
    { "height", AIGW_USAGE_REQ_HEIGHT, UR_SET, 0 },
    { "samples", AIGW_USAGE_REQ_IMAGES, UR_SET, 0 }
};

static const aigw_usage_rule_t  aigw_usage_request_values[] = {
    { "imageGenerationConfig.quality", AIGW_USAGE_CAP_QUALITY, UR_STRING,
      0 }
};


#define aigw_usage_nelts(a)  (sizeof(a) / sizeof(a[0]))


/*
 * A set of rules: for numbers (UR_SET, UR_SUM), and for the start of any
 * value (UR_COUNT, UR_STRING), so that most events look at few rules
 */

struct aigw_usage_rules_s {
    const aigw_usage_rule_t  *numbers;
    size_t                    nnumbers;
    const aigw_usage_rule_t  *values;
    size_t                    nvalues;
};


static const aigw_usage_rules_t  aigw_usage_bedrock = {
    aigw_usage_bedrock_rules, aigw_usage_nelts(aigw_usage_bedrock_rules),
    aigw_usage_bedrock_values, aigw_usage_nelts(aigw_usage_bedrock_values)
};

static const aigw_usage_rules_t  aigw_usage_converse = {
    aigw_usage_converse_rules, aigw_usage_nelts(aigw_usage_converse_rules),
    NULL, 0
};

static const aigw_usage_rules_t  aigw_usage_sagemaker = {
    aigw_usage_sagemaker_rules, aigw_usage_nelts(aigw_usage_sagemaker_rules),
    aigw_usage_sagemaker_values,
    aigw_usage_nelts(aigw_usage_sagemaker_values)
};

static const aigw_usage_rules_t  aigw_usage_error = {
    NULL, 0,
    aigw_usage_error_values, aigw_usage_nelts(aigw_usage_error_values)
};

static const aigw_usage_rules_t  aigw_usage_request = {
    aigw_usage_request_rules, aigw_usage_nelts(aigw_usage_request_rules),
    aigw_usage_request_values, aigw_usage_nelts(aigw_usage_request_values)
};


/* the bound promised in aigw_usage.h */
typedef char  aigw_usage_state_max_check
                  [sizeof(aigw_usage_parser_t) <= AIGW_USAGE_STATE_MAX
                   ? 1 : -1];


static int aigw_usage_on_doc(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data);
static int aigw_usage_on_chunk(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data);
static int aigw_usage_on_request(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data);
static void aigw_usage_apply(aigw_usage_parser_t *up, aigw_json_scan_t *js,
    const aigw_usage_rules_t *rules, aigw_usage_acc_t *acc,
    aigw_json_event_e ev, const char *p, size_t len);
static void aigw_usage_apply_rules(aigw_usage_parser_t *up,
    aigw_json_scan_t *js, const aigw_usage_rule_t *rules, size_t n,
    aigw_usage_acc_t *acc, aigw_json_event_e ev, const char *p, size_t len);
static void aigw_usage_capture_end(aigw_usage_parser_t *up);
static void aigw_usage_merge(aigw_usage_acc_t *dst,
    const aigw_usage_acc_t *src);
static void aigw_usage_clear(aigw_usage_acc_t *acc);
static void aigw_usage_json_error(aigw_usage_parser_t *up,
    const char *reason);
static void aigw_usage_feed_json(aigw_usage_parser_t *up,
    aigw_json_scan_t *js, const char *p, size_t len);
static void aigw_usage_decide(aigw_usage_parser_t *up);
static void aigw_usage_es_start(aigw_es_decoder_t *es,
    const aigw_es_message_t *msg, void *data);
static void aigw_usage_es_payload(aigw_es_decoder_t *es,
    const unsigned char *p, size_t len, void *data);
static void aigw_usage_es_end(aigw_es_decoder_t *es,
    const aigw_es_message_t *msg, int crc_ok, void *data);
static void aigw_usage_base64(aigw_usage_parser_t *up, const char *p,
    size_t len);
static void aigw_usage_base64_end(aigw_usage_parser_t *up);
static void aigw_usage_sse(aigw_usage_parser_t *up, const char *p,
    size_t len);
static void aigw_usage_sse_line_end(aigw_usage_parser_t *up);
static void aigw_usage_sse_event_end(aigw_usage_parser_t *up);
static void aigw_usage_sse_reset(aigw_usage_parser_t *up);
static void aigw_usage_resolve(aigw_usage_parser_t *up, int cut);
static unsigned aigw_usage_group(const aigw_usage_acc_t *c, unsigned first,
    unsigned n, uint64_t v[4]);
static unsigned aigw_usage_openai(const aigw_usage_acc_t *c, uint64_t v[4]);
static void aigw_usage_resolve_images(aigw_usage_parser_t *up);
static void aigw_usage_resolve_error(aigw_usage_parser_t *up);
static void aigw_usage_error_type(char *dst, const char *p, size_t len);
static int aigw_usage_str_eq(const char *a, size_t alen, const char *b);
static int aigw_usage_str_has(const char *s, size_t len, const char *what);
static int aigw_usage_str_is(const aigw_es_header_t *h, const char *s);
static void aigw_usage_scanner(aigw_json_scan_t *js, unsigned flags,
    aigw_json_handler_pt handler);


static const aigw_es_handler_t  aigw_usage_es_handler = {
    aigw_usage_es_start,
    aigw_usage_es_payload,
    aigw_usage_es_end
};


static const signed char  aigw_usage_b64[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -3, -3, -1, -1, -3, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, 62, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -2, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};


void
aigw_usage_init(aigw_usage_parser_t *up, aigw_op_e op, const char *model,
    size_t model_len, aigw_usage_format_e format)
{
    size_t              i;
    static const char  *families[] = {
        "anthropic.", "meta.", "mistral.", "cohere.", "ai21.", "amazon.",
        "deepseek.", "openai.", "qwen.", "writer.", "twelvelabs.", NULL
    };

    memset(up, 0, sizeof(aigw_usage_parser_t));

    up->op = op;
    up->format = format;

    if (model == NULL) {
        model_len = 0;
        model = "";
    }

    /*
     * image models; and ARNs naming no model (application inference
     * profiles, provisioned, custom, imported models) may be any
     */

    if (aigw_usage_str_has(model, model_len, "image")
        || aigw_usage_str_has(model, model_len, "canvas")
        || aigw_usage_str_has(model, model_len, "stability.")
        || aigw_usage_str_has(model, model_len, "stable-diffusion"))
    {
        up->image_model = 1;

    } else if (model_len > 4 && memcmp(model, "arn:", 4) == 0) {
        up->image_model = 1;

        for (i = 0; families[i]; i++) {
            if (aigw_usage_str_has(model, model_len, families[i])) {
                up->image_model = 0;
                break;
            }
        }
    }

    if (op != AIGW_OP_INVOKE) {
        up->image_model = 0;
    }

    aigw_es_init(&up->es, &aigw_usage_es_handler, up);
    aigw_json_init(&up->outer, 0, aigw_usage_on_doc, up);
    aigw_json_init(&up->inner, 0, aigw_usage_on_doc, up);
    aigw_json_init(&up->request, 0, aigw_usage_on_request, up);
}


int
aigw_usage_wants_request_body(const aigw_usage_parser_t *up)
{
    return up->image_model;
}


void
aigw_usage_request_body(aigw_usage_parser_t *up, const void *p, size_t len)
{
    if (!up->image_model || up->request.error || len == 0) {
        return;
    }

    (void) aigw_json_feed(&up->request, p, len);
}


void
aigw_usage_status(aigw_usage_parser_t *up, unsigned status)
{
    up->usage.status = status;
}


void
aigw_usage_header(aigw_usage_parser_t *up, const char *name,
    size_t name_len, const char *value, size_t value_len)
{
    unsigned  slot;
    uint64_t  n;

    while (value_len && (value[0] == ' ' || value[0] == '\t')) {
        value++;
        value_len--;
    }

    while (value_len
           && (value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
    {
        value_len--;
    }

    if (aigw_usage_str_eq(name, name_len, "content-type")) {
        up->content_es = aigw_usage_str_has(value, value_len,
                                     "application/vnd.amazon.eventstream");
        up->content_json = !up->content_es
                           && aigw_usage_str_has(value, value_len, "json");
        return;
    }

    if (aigw_usage_str_eq(name, name_len, "x-amzn-errortype")) {
        aigw_usage_error_type(up->hdr_error, value, value_len);
        return;
    }

    if (name_len < sizeof("x-amzn-bedrock-") - 1
        || !aigw_usage_str_eq(name, sizeof("x-amzn-bedrock-") - 1,
                              "x-amzn-bedrock-"))
    {
        return;
    }

    name += sizeof("x-amzn-bedrock-") - 1;
    name_len -= sizeof("x-amzn-bedrock-") - 1;

    if (aigw_usage_str_eq(name, name_len, "input-token-count")) {
        slot = AIGW_USAGE_HDR_IN;

    } else if (aigw_usage_str_eq(name, name_len, "output-token-count")) {
        slot = AIGW_USAGE_HDR_OUT;

    } else if (aigw_usage_str_eq(name, name_len,
                                 "cache-read-input-token-count"))
    {
        slot = AIGW_USAGE_HDR_CR;

    } else if (aigw_usage_str_eq(name, name_len,
                                 "cache-write-input-token-count"))
    {
        slot = AIGW_USAGE_HDR_CW;

    } else {
        return;
    }

    if (aigw_json_number_u64(value, value_len, &n) != 0) {
        up->bad_numbers++;
        return;
    }

    up->committed.v[slot] = n;
    up->committed.has |= 1u << slot;
}


void
aigw_usage_body(aigw_usage_parser_t *up, const void *p, size_t len)
{
    if (up->finished || len == 0) {
        return;
    }

    if (up->mode == UM_UNDECIDED) {
        aigw_usage_decide(up);
    }

    up->body_seen = 1;

    switch (up->mode) {

    case UM_JSON:
        aigw_usage_feed_json(up, &up->outer, p, len);
        break;

    case UM_STREAM:
        (void) aigw_es_feed(&up->es, p, len);
        break;

    default:
        break;
    }
}


static void
aigw_usage_decide(aigw_usage_parser_t *up)
{
    const aigw_op_t  *op;

    op = aigw_op_get(up->op);

    up->mode = UM_NONE;

    if (op == NULL) {
        return;
    }

    if (up->usage.status >= 400) {
        up->mode = UM_JSON;
        up->rules = &aigw_usage_error;
        up->doc_commit = 1;
        return;
    }

    if (!op->metered
        || (op->service == AIGW_SERVICE_SAGEMAKER
            && up->format == AIGW_USAGE_FORMAT_NONE))
    {
        return;
    }

    if (op->streaming && !up->content_json) {
        up->mode = UM_STREAM;
        return;
    }

    up->mode = UM_JSON;
    up->doc_commit = 1;

    switch (up->op) {

    case AIGW_OP_CONVERSE:
    case AIGW_OP_CONVERSE_STREAM:
        up->rules = &aigw_usage_converse;
        break;

    case AIGW_OP_SM_INVOKE:
    case AIGW_OP_SM_INVOKE_STREAM:
        up->rules = &aigw_usage_sagemaker;
        break;

    default:
        up->rules = &aigw_usage_bedrock;
        break;
    }
}


static void
aigw_usage_feed_json(aigw_usage_parser_t *up, aigw_json_scan_t *js,
    const char *p, size_t len)
{
    if (js->error) {
        return;
    }

    if (aigw_json_feed(js, p, len) != AIGW_JSON_OK) {
        aigw_usage_json_error(up, js->error);
    }
}


/*
 * Counted for the log: not error pages (HTML is fine there), nor what
 * SageMaker models with the "auto" format send (CSV, text, anything)
 */

static void
aigw_usage_json_error(aigw_usage_parser_t *up, const char *reason)
{
    if (up->usage.status >= 400
        || ((up->op == AIGW_OP_SM_INVOKE || up->op == AIGW_OP_SM_INVOKE_STREAM)
            && up->format == AIGW_USAGE_FORMAT_AUTO))
    {
        return;
    }

    up->json_errors++;
    up->json_error = reason;
}


/* JSON documents: the body, a converse metadata event, SSE data, chunks */

static int
aigw_usage_on_doc(aigw_json_scan_t *js, aigw_json_event_e ev, const char *p,
    size_t len, void *data)
{
    aigw_usage_parser_t  *up = data;

    if (ev == AIGW_JSON_DOC_END) {
        if (js == &up->outer && up->doc_commit) {
            aigw_usage_merge(&up->committed, &up->doc);

        } else {
            aigw_usage_merge(&up->stage, &up->doc);
        }

        aigw_usage_clear(&up->doc);
        return 0;
    }

    if (js == &up->inner) {
        aigw_usage_apply(up, js, &aigw_usage_bedrock, &up->doc, ev, p,
                         len);
        return 0;
    }

    aigw_usage_apply(up, js, up->rules, &up->doc, ev, p, len);

    return 0;
}


static int
aigw_usage_on_request(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data)
{
    aigw_usage_parser_t  *up = data;

    if (ev != AIGW_JSON_DOC_END) {
        aigw_usage_apply(up, js, &aigw_usage_request, &up->req, ev, p,
                         len);
    }

    return 0;
}


static void
aigw_usage_apply(aigw_usage_parser_t *up, aigw_json_scan_t *js,
    const aigw_usage_rules_t *rules, aigw_usage_acc_t *acc,
    aigw_json_event_e ev, const char *p, size_t len)
{
    switch (ev) {

    case AIGW_JSON_STRING_DATA:
        if (up->cap_js == js) {
            if (len > sizeof(up->cap) - up->cap_len) {
                len = sizeof(up->cap) - up->cap_len;
                up->cap_too_long = 1;
            }

            memcpy(up->cap + up->cap_len, p, len);
            up->cap_len += len;
        }

        return;

    case AIGW_JSON_STRING_END:
        if (up->cap_js == js) {
            aigw_usage_capture_end(up);
        }

        return;

    case AIGW_JSON_OBJECT_END:
    case AIGW_JSON_ARRAY_END:
        return;

    default:
        break;
    }

    /* the start of a value */

    if (js->depth > AIGW_JSON_MAX_DEPTH || rules == NULL) {
        return;
    }

    if (ev == AIGW_JSON_NUMBER) {
        aigw_usage_apply_rules(up, js, rules->numbers, rules->nnumbers, acc,
                               ev, p, len);
    }

    aigw_usage_apply_rules(up, js, rules->values, rules->nvalues, acc, ev, p,
                           len);
}


static void
aigw_usage_apply_rules(aigw_usage_parser_t *up, aigw_json_scan_t *js,
    const aigw_usage_rule_t *rules, size_t n, aigw_usage_acc_t *acc,
    aigw_json_event_e ev, const char *p, size_t len)
{
    char                      c0;
    size_t                    i;
    uint64_t                  v;
    const aigw_usage_rule_t  *r;

    /* the first byte of the path, to skip most rules at once */

    if (js->depth == 0) {
        c0 = '\0';

    } else if (js->level[0].array) {
        c0 = '[';

    } else {
        c0 = js->level[0].key_len ? js->level[0].key[0] : '\0';
    }

    for (i = 0; i < n; i++) {
        r = &rules[i];

        if (r->path[0] != c0
            || ((r->flags & AIGW_USAGE_IMAGE) && !up->image_model)
            || !aigw_json_match(js, r->path))
        {
            continue;
        }

        switch (r->action) {

        case UR_COUNT:
            if (acc->v[r->slot] < UINT64_MAX) {
                acc->v[r->slot]++;
            }

            acc->has |= 1u << r->slot;
            break;

        case UR_STRING:
            if (ev == AIGW_JSON_STRING_START) {
                up->cap_js = js;
                up->cap_slot = r->slot;
                up->cap_len = 0;
                up->cap_too_long = 0;
            }

            break;

        default: /* UR_SET, UR_SUM: numbers only */
            if (aigw_json_number_u64(p, len, &v) != 0) {
                up->bad_numbers++;
                break;
            }

            if (r->action == UR_SUM && aigw_usage_has(acc, r->slot)) {
                v = (acc->v[r->slot] > UINT64_MAX - v)
                    ? UINT64_MAX : acc->v[r->slot] + v;
            }

            acc->v[r->slot] = v;
            acc->has |= 1u << r->slot;
            break;
        }
    }
}


static void
aigw_usage_capture_end(aigw_usage_parser_t *up)
{
    size_t  len;

    up->cap_js = NULL;

    switch (up->cap_slot) {

    case AIGW_USAGE_CAP_ERROR:
        aigw_usage_error_type(up->body_error, up->cap, up->cap_len);
        break;

    case AIGW_USAGE_CAP_QUALITY:
        len = up->cap_len;

        if (up->cap_too_long || len > AIGW_USAGE_QUALITY_MAX) {
            len = 0;
        }

        memcpy(up->quality, up->cap, len);
        up->quality[len] = '\0';
        break;
    }
}


static void
aigw_usage_merge(aigw_usage_acc_t *dst, const aigw_usage_acc_t *src)
{
    unsigned  i;

    if (src->has) {
        for (i = 0; i < AIGW_USAGE_NSLOTS; i++) {
            if (src->has & (1u << i)) {
                dst->v[i] = src->v[i];
            }
        }

        dst->has |= src->has;
    }

    if (src->error) {
        dst->error = 1;
        memcpy(dst->error_type, src->error_type, sizeof(dst->error_type));
    }
}


static void
aigw_usage_clear(aigw_usage_acc_t *acc)
{
    acc->has = 0;
    acc->error = 0;
}


/* event streams */

static void
aigw_usage_es_start(aigw_es_decoder_t *es, const aigw_es_message_t *msg,
    void *data)
{
    aigw_usage_parser_t  *up = data;

    aigw_es_header_t      mt, h;

    up->events++;
    up->kind = UK_OTHER;
    aigw_usage_clear(&up->stage);

    if (aigw_es_header_find(msg, ":message-type", &mt)
        && mt.type == AIGW_ES_STRING
        && !aigw_usage_str_is(&mt, "event"))
    {
        if (aigw_usage_str_is(&mt, "exception")) {
            if (!aigw_es_header_find(msg, ":exception-type", &h)) {
                h.type = AIGW_ES_BOOL_FALSE;
            }

        } else if (aigw_usage_str_is(&mt, "error")) {
            if (!aigw_es_header_find(msg, ":error-code", &h)) {
                h.type = AIGW_ES_BOOL_FALSE;
            }

        } else {
            return;
        }

        up->kind = UK_ERROR;
        up->stage.error = 1;

        if (h.type == AIGW_ES_STRING) {
            aigw_usage_error_type(up->stage.error_type, (const char *) h.p,
                                  h.len);

        } else {
            up->stage.error_type[0] = '\0';
        }

        return;
    }

    if (!aigw_es_header_find(msg, ":event-type", &h)
        || h.type != AIGW_ES_STRING)
    {
        return;
    }

    switch (up->op) {

    case AIGW_OP_INVOKE_STREAM:
        if (aigw_usage_str_is(&h, "chunk")) {
            up->kind = UK_CHUNK;
            up->in_bytes = 0;
            up->cap_js = NULL;
            aigw_usage_scanner(&up->outer, 0, aigw_usage_on_chunk);
            aigw_usage_clear(&up->doc);
        }

        break;

    case AIGW_OP_CONVERSE_STREAM:
        if (aigw_usage_str_is(&h, "metadata")) {
            up->kind = UK_JSON;
            up->cap_js = NULL;
            up->rules = &aigw_usage_converse;
            aigw_usage_scanner(&up->outer, 0, aigw_usage_on_doc);
            aigw_usage_clear(&up->doc);
        }

        break;

    case AIGW_OP_SM_INVOKE_STREAM:
        if (aigw_usage_str_is(&h, "PayloadPart")) {
            up->kind = UK_PART;

            if (up->rules == NULL) {
                up->rules = &aigw_usage_sagemaker;
                aigw_usage_scanner(&up->outer, AIGW_JSON_MULTI,
                                   aigw_usage_on_doc);
            }
        }

        break;

    default:
        break;
    }
}


static void
aigw_usage_es_payload(aigw_es_decoder_t *es, const unsigned char *p,
    size_t len, void *data)
{
    aigw_usage_parser_t  *up = data;

    switch (up->kind) {

    case UK_CHUNK:
    case UK_JSON:
        aigw_usage_feed_json(up, &up->outer, (const char *) p, len);
        break;

    case UK_PART:
        aigw_usage_sse(up, (const char *) p, len);
        break;

    default:
        break;
    }
}


static void
aigw_usage_es_end(aigw_es_decoder_t *es, const aigw_es_message_t *msg,
    int crc_ok, void *data)
{
    aigw_usage_parser_t  *up = data;

    if ((up->kind == UK_CHUNK || up->kind == UK_JSON)
        && up->outer.error == NULL
        && aigw_json_finish(&up->outer) != AIGW_JSON_OK)
    {
        aigw_usage_json_error(up, "incomplete JSON in an event");
    }

    if (crc_ok) {
        aigw_usage_merge(&up->committed, &up->stage);

    } else if (up->kind == UK_PART) {
        /* what the bad message began cannot be trusted: to the next line */
        aigw_usage_sse_reset(up);

        if (up->sse_state == SSE_RAW) {
            up->raw_skip = 1;

        } else if (up->sse_state != SSE_BEGIN) {
            up->sse_state = SSE_IGNORE;
        }
    }

    aigw_usage_clear(&up->stage);
    up->kind = UK_OTHER;
}


/* the wrapper of an invoke stream's chunk: {"bytes": "<base64>", "p": ""} */

static int
aigw_usage_on_chunk(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data)
{
    aigw_usage_parser_t  *up = data;

    switch (ev) {

    case AIGW_JSON_STRING_START:
        if (js->depth == 1 && aigw_json_match(js, "bytes")) {
            up->in_bytes = 1;
            up->b64_bits = 0;
            up->b64_n = 0;
            up->b64_pad = 0;
            aigw_usage_scanner(&up->inner, 0, aigw_usage_on_doc);
            aigw_usage_clear(&up->doc);
        }

        break;

    case AIGW_JSON_STRING_DATA:
        if (up->in_bytes) {
            aigw_usage_base64(up, p, len);
        }

        break;

    case AIGW_JSON_STRING_END:
        if (up->in_bytes) {
            up->in_bytes = 0;
            aigw_usage_base64_end(up);

            if (up->inner.error == NULL
                && aigw_json_finish(&up->inner) != AIGW_JSON_OK)
            {
                aigw_usage_json_error(up, "incomplete JSON in a chunk");
            }

            aigw_usage_clear(&up->doc);
        }

        break;

    default:
        break;
    }

    return 0;
}


static void
aigw_usage_base64(aigw_usage_parser_t *up, const char *p, size_t len)
{
    int                   v, a, b, c, d;
    size_t                n;
    uint32_t              bits;
    const unsigned char  *s, *end;
    unsigned char         out[384];

    s = (const unsigned char *) p;
    end = s + len;
    n = 0;

    while (s < end) {

        /* whole quantums, the usual case */

        if (up->b64_n == 0 && !up->b64_pad) {
            while (end - s >= 4 && n <= sizeof(out) - 3) {
                a = aigw_usage_b64[s[0]];
                b = aigw_usage_b64[s[1]];
                c = aigw_usage_b64[s[2]];
                d = aigw_usage_b64[s[3]];

                if ((a | b | c | d) < 0) {
                    break;
                }

                bits = (uint32_t) a << 18 | (uint32_t) b << 12
                       | (uint32_t) c << 6 | (uint32_t) d;

                out[n++] = (unsigned char) (bits >> 16);
                out[n++] = (unsigned char) (bits >> 8);
                out[n++] = (unsigned char) bits;
                s += 4;
            }
        }

        if (n > sizeof(out) - 3) {
            aigw_usage_feed_json(up, &up->inner, (const char *) out, n);
            n = 0;
        }

        if (s == end) {
            break;
        }

        v = aigw_usage_b64[*s++];

        if (v == -3) {
            continue;               /* white space */
        }

        if (v == -2) {
            up->b64_pad = 1;        /* '=' */
            continue;
        }

        if (v < 0 || up->b64_pad) {
            up->base64_errors++;
            continue;
        }

        up->b64_bits = up->b64_bits << 6 | (uint32_t) v;

        if (++up->b64_n == 4) {
            out[n++] = (unsigned char) (up->b64_bits >> 16);
            out[n++] = (unsigned char) (up->b64_bits >> 8);
            out[n++] = (unsigned char) up->b64_bits;
            up->b64_bits = 0;
            up->b64_n = 0;
        }
    }

    if (n) {
        aigw_usage_feed_json(up, &up->inner, (const char *) out, n);
    }
}


static void
aigw_usage_base64_end(aigw_usage_parser_t *up)
{
    unsigned char  out[2];

    switch (up->b64_n) {

    case 0:
        return;

    case 2:
        out[0] = (unsigned char) (up->b64_bits >> 4);
        aigw_usage_feed_json(up, &up->inner, (const char *) out, 1);
        break;

    case 3:
        out[0] = (unsigned char) (up->b64_bits >> 10);
        out[1] = (unsigned char) (up->b64_bits >> 2);
        aigw_usage_feed_json(up, &up->inner, (const char *) out, 2);
        break;

    default:
        up->base64_errors++;
        break;
    }

    up->b64_n = 0;
    up->b64_bits = 0;
}


/*
 * SageMaker's PayloadPart bytes: server-sent events ("data: {...}" lines,
 * an empty line ending an event; LF, CRLF or CR), or JSON values one
 * after another (JSON lines); split anywhere across parts.  The JSON of a
 * data line goes to the scanner as it comes; only the first bytes of a
 * line are kept, to tell "data:" and "data: [DONE]" from other fields.
 */

static void
aigw_usage_sse(aigw_usage_parser_t *up, const char *p, size_t len)
{
    size_t       i, off;
    uint64_t     base;
    const char  *end, *q;

    end = p + len;

    while (p < end) {

        switch (up->sse_state) {

        case SSE_BEGIN:
            if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
                p++;
                break;
            }

            if (*p == '{' || *p == '[') {
                up->sse_state = SSE_RAW;
                up->raw_skip = 0;

            } else {
                up->sse_state = SSE_LINE;
                up->pfx_n = 0;
            }

            break;

        case SSE_RAW:
            if (up->raw_skip) {
                q = memchr(p, '\n', end - p);

                if (q == NULL) {
                    return;
                }

                p = q + 1;
                up->raw_skip = 0;
                aigw_usage_sse_reset(up);
                break;
            }

            base = up->outer.offset;
            aigw_usage_feed_json(up, &up->outer, p, end - p);

            if (up->outer.error == NULL) {
                return;
            }

            /* resynchronize at the next line */
            p += up->outer.offset - base;
            up->raw_skip = 1;
            break;

        case SSE_LINE:
            if (*p == '\n' && up->sse_cr) {
                up->sse_cr = 0;
                p++;
                break;
            }

            up->sse_cr = 0;

            if (*p == '\r' || *p == '\n') {
                up->sse_cr = (*p == '\r');
                p++;
                aigw_usage_sse_line_end(up);
                break;
            }

            up->pfx[up->pfx_n++] = *p++;

            /* "data:", an optional space, not "[DONE" */

            i = up->pfx_n < 5 ? up->pfx_n : 5;

            if (memcmp(up->pfx, "data:", i) != 0) {
                up->sse_state = SSE_IGNORE;
                break;
            }

            if (up->pfx_n <= 5) {
                break;
            }

            off = (up->pfx[5] == ' ') ? 6 : 5;

            if (up->pfx_n == off) {
                break;
            }

            i = up->pfx_n - off;
            if (i > 5) {
                i = 5;
            }

            if (memcmp(up->pfx + off, "[DONE", i) == 0) {
                if (i == 5) {
                    up->sse_state = SSE_IGNORE;
                }
                break;
            }

            /* the reset clears pfx_n: the length is taken before it */
            i = up->pfx_n - off;

            if (up->outer.error) {
                aigw_usage_sse_reset(up);
            }

            up->sse_state = SSE_DATA;
            aigw_usage_feed_json(up, &up->outer, up->pfx + off, i);
            break;

        case SSE_DATA:
        case SSE_IGNORE:
            for (q = p; q < end && *q != '\n' && *q != '\r'; q++) {
                /* void */
            }

            if (up->sse_state == SSE_DATA && q > p) {
                aigw_usage_feed_json(up, &up->outer, p, q - p);
            }

            if (q == end) {
                return;
            }

            if (up->sse_state == SSE_DATA) {
                /* data lines of one event are joined with "\n" */
                aigw_usage_feed_json(up, &up->outer, "\n", 1);
            }

            up->sse_cr = (*q == '\r');
            up->sse_state = SSE_LINE;
            up->pfx_n = 0;
            p = q + 1;
            break;
        }
    }
}


/* a line ended while its first bytes were being looked at */

static void
aigw_usage_sse_line_end(aigw_usage_parser_t *up)
{
    size_t  off, n;

    if (up->pfx_n == 0) {
        aigw_usage_sse_event_end(up);
        return;
    }

    if (up->pfx_n > 5 && memcmp(up->pfx, "data:", 5) == 0) {
        /* a short data line: "data: [DON", "data: 1" */
        off = (up->pfx[5] == ' ') ? 6 : 5;
        n = up->pfx_n - off;

        if (up->outer.error) {
            aigw_usage_sse_reset(up);
        }

        aigw_usage_feed_json(up, &up->outer, up->pfx + off, n);
        aigw_usage_feed_json(up, &up->outer, "\n", 1);
    }

    up->pfx_n = 0;
}


static void
aigw_usage_sse_event_end(aigw_usage_parser_t *up)
{
    if (up->outer.error == NULL && aigw_json_in_value(&up->outer)) {
        aigw_usage_json_error(up, "incomplete JSON in an event");
    }

    /* a top-level number ends here */
    if (up->outer.error == NULL) {
        (void) aigw_json_finish(&up->outer);
    }

    aigw_usage_sse_reset(up);
}


static void
aigw_usage_sse_reset(aigw_usage_parser_t *up)
{
    aigw_json_reset(&up->outer);
    aigw_usage_clear(&up->doc);
    up->cap_js = NULL;
    up->pfx_n = 0;
}


void
aigw_usage_finish(aigw_usage_parser_t *up, int complete)
{
    int  cut;

    if (up->finished) {
        return;
    }

    up->finished = 1;
    cut = !complete;

    if (up->image_model && up->request.error == NULL) {
        (void) aigw_json_finish(&up->request);
    }

    if (up->mode == UM_UNDECIDED) {
        aigw_usage_decide(up);
    }

    switch (up->mode) {

    case UM_JSON:
        if (up->outer.error == NULL) {
            switch (aigw_json_finish(&up->outer)) {

            case AIGW_JSON_OK:
                if (up->body_seen) {
                    /* the whole document came: its usage is final */
                    cut = 0;
                }
                break;

            case AIGW_JSON_INCOMPLETE:
                if (up->body_seen) {
                    cut = 1;
                }
                break;

            default:
                aigw_usage_json_error(up, up->outer.error);
                break;
            }
        }

        /* what is known of a body cut short */
        aigw_usage_merge(&up->committed, &up->doc);
        aigw_usage_clear(&up->doc);
        break;

    case UM_STREAM:
        if (aigw_es_finish(&up->es) != 0) {
            cut = 1;
        }

        if (up->sse_state == SSE_RAW || up->sse_state == SSE_DATA) {
            /* values of an unfinished event were not committed */
            aigw_usage_clear(&up->doc);
        }

        break;

    default:
        break;
    }

    aigw_usage_resolve(up, cut);
}


static void
aigw_usage_resolve(aigw_usage_parser_t *up, int cut)
{
    int                 final, fam, oai, tgi;
    unsigned            i, has, status;
    uint64_t            v[4];
    aigw_usage_t       *u;
    const aigw_op_t    *op;
    aigw_usage_acc_t   *c;

    u = &up->usage;
    c = &up->committed;
    op = aigw_op_get(up->op);
    status = u->status;

    v[0] = v[1] = v[2] = v[3] = 0;
    has = 0;
    final = 0;

    fam = (c->has & AIGW_USAGE_FAM_MASK) != 0;
    oai = (c->has & AIGW_USAGE_OAI_MASK) != 0;
    tgi = (c->has & AIGW_USAGE_TGI_MASK) != 0;

    if (op == NULL || !op->metered) {
        /* CountTokens */

    } else if (op->service == AIGW_SERVICE_BEDROCK
               && (c->has & AIGW_USAGE_HDR_MASK))
    {
        has = aigw_usage_group(c, AIGW_USAGE_HDR_IN, 4, v);
        u->source = AIGW_USAGE_SOURCE_HEADER;
        final = 1;

    } else if (op->service == AIGW_SERVICE_BEDROCK) {

        if (fam) {
            has = aigw_usage_group(c, AIGW_USAGE_FAM_IN, 4, v);

        } else if (oai) {
            has = aigw_usage_openai(c, v);
        }

        /* the invocation metrics win, count by count */

        has |= aigw_usage_group(c, AIGW_USAGE_MET_IN, 4, v);

        if (up->op == AIGW_OP_INVOKE_STREAM) {
            final = (c->has & AIGW_USAGE_MET_MASK) != 0;

        } else if (up->op == AIGW_OP_CONVERSE_STREAM) {
            final = fam;
        }

    } else if (up->format == AIGW_USAGE_FORMAT_OPENAI
               || (up->format == AIGW_USAGE_FORMAT_AUTO && oai))
    {
        has = aigw_usage_openai(c, v);
        final = oai;

    } else if (up->format == AIGW_USAGE_FORMAT_TGI
               || up->format == AIGW_USAGE_FORMAT_AUTO)
    {
        has = aigw_usage_group(c, AIGW_USAGE_TGI_IN, 2, v);
        final = tgi;
    }

    /* a count over the bound is not believed (aigw_usage.h) */

    for (i = 0; i < 4; i++) {
        if (v[i] > AIGW_USAGE_COUNT_MAX) {
            v[i] = 0;
            has &= ~(1u << i);
            up->out_of_range++;
        }
    }

    u->input_tokens = v[0];
    u->output_tokens = v[1];
    u->cache_read_input_tokens = v[2];
    u->cache_write_input_tokens = v[3];

    if (up->image_model && aigw_usage_has(c, AIGW_USAGE_IMAGES)) {

        if (c->v[AIGW_USAGE_IMAGES] > AIGW_USAGE_COUNT_MAX) {
            up->out_of_range++;

        } else {
            u->images = c->v[AIGW_USAGE_IMAGES];
            has |= AIGW_USAGE_HAS_IMAGES;
        }
    }

    u->has = has;

    if (u->source == AIGW_USAGE_SOURCE_NONE && has) {
        u->source = (up->mode == UM_STREAM) ? AIGW_USAGE_SOURCE_STREAM
                                            : AIGW_USAGE_SOURCE_BODY;
    }

    if (up->mode == UM_JSON && !cut) {
        final = 1;
    }

    if (cut && !final && op != NULL && op->metered
        && status >= 200 && status < 400
        && !(op->service == AIGW_SERVICE_SAGEMAKER
             && up->format == AIGW_USAGE_FORMAT_NONE))
    {
        u->source = AIGW_USAGE_SOURCE_PARTIAL;
    }

    aigw_usage_resolve_images(up);
    aigw_usage_resolve_error(up);
}


/*
 * The counts of "n" slots from "first", in the order input, output, cache
 * read, cache write: into v[], with their AIGW_USAGE_HAS_* bits returned
 */

static unsigned
aigw_usage_group(const aigw_usage_acc_t *c, unsigned first, unsigned n,
    uint64_t v[4])
{
    unsigned  i, has;

    has = 0;

    for (i = 0; i < n; i++) {
        if (aigw_usage_has(c, first + i)) {
            v[i] = c->v[first + i];
            has |= 1u << i;
        }
    }

    return has;
}


/* OpenAI's prompt_tokens include the cached ones */

static unsigned
aigw_usage_openai(const aigw_usage_acc_t *c, uint64_t v[4])
{
    unsigned  has;

    has = aigw_usage_group(c, AIGW_USAGE_OAI_IN, 2, v);

    if (aigw_usage_has(c, AIGW_USAGE_OAI_CACHED)) {
        v[2] = c->v[AIGW_USAGE_OAI_CACHED];
        v[0] = (v[0] > v[2]) ? v[0] - v[2] : 0;
        has |= AIGW_USAGE_HAS_CACHE_READ;
    }

    return has;
}


static void
aigw_usage_resolve_images(aigw_usage_parser_t *up)
{
    aigw_usage_t      *u;
    aigw_usage_acc_t  *r;

    u = &up->usage;
    r = &up->req;

    if (aigw_usage_has(r, AIGW_USAGE_REQ_WIDTH)) {
        u->image_width = r->v[AIGW_USAGE_REQ_WIDTH];
    }

    if (aigw_usage_has(r, AIGW_USAGE_REQ_HEIGHT)) {
        u->image_height = r->v[AIGW_USAGE_REQ_HEIGHT];
    }

    if (aigw_usage_has(r, AIGW_USAGE_REQ_IMAGES)) {
        u->images_requested = r->v[AIGW_USAGE_REQ_IMAGES];
    }

    if (u->image_width && u->image_height) {
        snprintf(u->image_size, sizeof(u->image_size), "%llux%llu",
                 (unsigned long long) u->image_width,
                 (unsigned long long) u->image_height);
    }

    memcpy(u->image_quality, up->quality, sizeof(u->image_quality));
}


static void
aigw_usage_resolve_error(aigw_usage_parser_t *up)
{
    aigw_usage_t      *u;
    aigw_usage_acc_t  *c;

    u = &up->usage;
    c = &up->committed;

    if (c->error) {
        u->error = 1;
        memcpy(u->error_type, c->error_type, sizeof(u->error_type));
    }

    if (u->status >= 400) {
        u->error = 1;

        if (u->error_type[0] == '\0') {
            if (up->hdr_error[0]) {
                memcpy(u->error_type, up->hdr_error, sizeof(u->error_type));

            } else if (up->body_error[0]) {
                memcpy(u->error_type, up->body_error,
                       sizeof(u->error_type));

            } else if (u->status == 429) {
                memcpy(u->error_type, "ThrottlingException",
                       sizeof("ThrottlingException"));
            }
        }
    }

    if (u->status == 429
        || aigw_usage_str_has(u->error_type, strlen(u->error_type),
                              "throttl"))
    {
        u->throttled = 1;
    }
}


/*
 * An error type as AWS sends it ("ThrottlingException",
 * "ModelError:http://internal...", "com.amazon.coral#Throttling",
 * "throttlingException") reduced to a safe name with a capital.
 */

static void
aigw_usage_error_type(char *dst, const char *p, size_t len)
{
    size_t       i, n;
    const char  *colon;

    dst[0] = '\0';

    if (p == NULL || len == 0) {
        return;
    }

    colon = memchr(p, ':', len);
    if (colon) {
        len = colon - p;
    }

    for (i = len; i > 0; i--) {
        if (p[i - 1] == '#') {
            p += i;
            len -= i;
            break;
        }
    }

    n = 0;

    for (i = 0; i < len && n < AIGW_USAGE_ERROR_TYPE_MAX; i++) {
        if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
            || (p[i] >= '0' && p[i] <= '9')
            || p[i] == '_' || p[i] == '.' || p[i] == '-')
        {
            dst[n++] = p[i];
        }
    }

    dst[n] = '\0';

    if (dst[0] >= 'a' && dst[0] <= 'z') {
        dst[0] = (char) (dst[0] - 'a' + 'A');
    }
}


void
aigw_usage_anomalies(const aigw_usage_parser_t *up,
    aigw_usage_anomalies_t *a)
{
    const aigw_json_scan_t  *js[3];
    int                      i;

    memset(a, 0, sizeof(aigw_usage_anomalies_t));

    a->stream_error = up->es.error;
    a->stream_last = up->es.last_error;
    a->crc_errors = up->es.crc_errors;
    a->skipped = up->es.skipped;
    a->bad_headers = up->es.bad_headers;
    a->json_errors = up->json_errors;
    a->json_error = up->json_error;
    a->bad_numbers = up->bad_numbers;
    a->out_of_range = up->out_of_range;
    a->base64_errors = up->base64_errors;

    js[0] = &up->outer;
    js[1] = &up->inner;
    js[2] = &up->request;

    for (i = 0; i < 3; i++) {
        a->json_too_deep += js[i]->too_deep;
        a->json_long_keys += js[i]->long_keys;
        a->json_long_numbers += js[i]->long_numbers;
    }
}


const char *
aigw_usage_source_name(aigw_usage_source_e source)
{
    static const char  *names[] = {
        "none", "header", "body", "stream", "partial"
    };

    if ((unsigned) source >= sizeof(names) / sizeof(names[0])) {
        return "none";
    }

    return names[source];
}


/* a new document for a scanner, its anomaly counters kept */

static void
aigw_usage_scanner(aigw_json_scan_t *js, unsigned flags,
    aigw_json_handler_pt handler)
{
    js->handler = handler;
    js->flags = flags;
    aigw_json_reset(js);
}


/* a string header value is exactly "s" */

static int
aigw_usage_str_is(const aigw_es_header_t *h, const char *s)
{
    size_t  len;

    len = strlen(s);

    return h->type == AIGW_ES_STRING && h->len == len
           && memcmp(h->p, s, len) == 0;
}


/* "a" equals the lowercase "b", ASCII case-insensitively */

static int
aigw_usage_str_eq(const char *a, size_t alen, const char *b)
{
    size_t  i;
    char    c;

    for (i = 0; i < alen; i++) {
        c = a[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }

        if (b[i] == '\0' || c != b[i]) {
            return 0;
        }
    }

    return b[alen] == '\0';
}


/* "s" contains the lowercase "what", ASCII case-insensitively */

static int
aigw_usage_str_has(const char *s, size_t len, const char *what)
{
    size_t  i, n;

    n = strlen(what);

    for (i = 0; i + n <= len; i++) {
        if (aigw_usage_str_eq(s + i, n, what)) {
            return 1;
        }
    }

    return 0;
}
