
/*
 * aigw: the rules that map a JSON document's paths to usage counts, per
 * operation and model family, and their application to the scanner's
 * events.  No nginx headers, no allocation.
 */


#include <string.h>

#include "aigw_usage_int.h"


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
    { "[].details.generated_tokens", AIGW_USAGE_TGI_OUT, UR_SUM, 0 },

    /* TGI 2.x: the input tokens, in a stream's last event */
    { "details.input_length", AIGW_USAGE_TGI_LEN, UR_SUM, 0 },
    { "[].details.input_length", AIGW_USAGE_TGI_LEN, UR_SUM, 0 }
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


const aigw_usage_rules_t  aigw_usage_rules_bedrock = {
    aigw_usage_bedrock_rules, aigw_usage_nelts(aigw_usage_bedrock_rules),
    aigw_usage_bedrock_values, aigw_usage_nelts(aigw_usage_bedrock_values)
};

const aigw_usage_rules_t  aigw_usage_rules_converse = {
    aigw_usage_converse_rules, aigw_usage_nelts(aigw_usage_converse_rules),
    NULL, 0
};

const aigw_usage_rules_t  aigw_usage_rules_sagemaker = {
    aigw_usage_sagemaker_rules, aigw_usage_nelts(aigw_usage_sagemaker_rules),
    aigw_usage_sagemaker_values,
    aigw_usage_nelts(aigw_usage_sagemaker_values)
};

const aigw_usage_rules_t  aigw_usage_rules_error = {
    NULL, 0,
    aigw_usage_error_values, aigw_usage_nelts(aigw_usage_error_values)
};

const aigw_usage_rules_t  aigw_usage_rules_request = {
    aigw_usage_request_rules, aigw_usage_nelts(aigw_usage_request_rules),
    aigw_usage_request_values, aigw_usage_nelts(aigw_usage_request_values)
};


static void aigw_usage_apply(aigw_usage_parser_t *up, aigw_json_scan_t *js,
    const aigw_usage_rules_t *rules, aigw_usage_acc_t *acc,
    aigw_json_event_e ev, const char *p, size_t len);
static void aigw_usage_apply_rules(aigw_usage_parser_t *up,
    aigw_json_scan_t *js, const aigw_usage_rule_t *rules, size_t n,
    aigw_usage_acc_t *acc, aigw_json_event_e ev, const char *p, size_t len);
static void aigw_usage_capture_end(aigw_usage_parser_t *up);


/* JSON documents: the body, a converse metadata event, SSE data, chunks */

int
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
        aigw_usage_apply(up, js, &aigw_usage_rules_bedrock, &up->doc, ev, p,
                         len);
        return 0;
    }

    aigw_usage_apply(up, js, up->rules, &up->doc, ev, p, len);

    return 0;
}


int
aigw_usage_on_request(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data)
{
    aigw_usage_parser_t  *up = data;

    if (ev != AIGW_JSON_DOC_END) {
        aigw_usage_apply(up, js, &aigw_usage_rules_request, &up->req, ev, p,
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


void
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


void
aigw_usage_clear(aigw_usage_acc_t *acc)
{
    acc->has = 0;
    acc->error = 0;
}
