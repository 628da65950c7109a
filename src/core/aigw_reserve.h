
/*
 * aigw: the reservation bound of a request: the most input and output
 * tokens it can be billed, read from its JSON body while the body streams
 * by (any split, the same result), in fixed memory; and that bound's
 * cost, priced by the same function as the bill.  No nginx headers, no
 * allocation.
 *
 * Input tokens: at most the body's length in bytes.  A model's tokens
 * (byte-level BPE, SentencePiece with byte fallback) each stand for at
 * least one byte of the UTF-8 text they encode, and a JSON string is at
 * least as long as the text it decodes to (an escape is never shorter
 * than the bytes it stands for); the chat template's few tokens a message
 * are paid for by the JSON around each message ({"role":"user",...}, 30
 * bytes and more).  The bound does NOT hold for what the body names but
 * does not carry, nor for what the provider adds: images, documents and
 * videos (a small, highly compressible image can count more tokens than
 * its bytes; an S3 location counts none of its bytes), and the system
 * prompt a provider adds for tools (Anthropic: a few hundred tokens).
 * The caller adds its own allowance for those.
 *
 * Output tokens: the request's max-tokens field, per operation and model
 * family (the model ID, a cross-region profile ID, or the ID inside a
 * foundation-model or inference-profile ARN, as aigw_pricing_lookup()
 * reads it), the paths from the top of the body:
 *
 *   Converse, ConverseStream     inferenceConfig.maxTokens
 *   InvokeModel[WithResponseStream]:
 *     anthropic.                 max_tokens, max_tokens_to_sample
 *     meta.                      max_gen_len
 *     amazon.titan-text/-tg1     textGenerationConfig.maxTokenCount
 *     amazon.nova                inferenceConfig.maxTokens,
 *                                inferenceConfig.max_new_tokens
 *     mistral.                   max_tokens
 *     cohere.                    max_tokens; times num_generations
 *     ai21.                      maxTokens, max_tokens; times numResults, n
 *     deepseek., openai., qwen., writer.
 *                                max_tokens, max_completion_tokens; times n
 *     embedding models ("embed" in the ID): no output
 *     image models (Titan Image, Nova Canvas and Reel, Stability): no
 *                                output tokens; their images are not
 *                                bounded here ("images" is set)
 *     any other (application inference profiles, custom and imported
 *                                models, a family not listed): every
 *                                path above, the largest
 *   InvokeEndpoint[WithResponseStream], by the usage format:
 *     tgi                        parameters.max_new_tokens
 *     openai                     max_tokens, max_completion_tokens;
 *                                times n
 *     auto                       all three; times n
 *     none                       nothing: the usage is not read either
 *   CountTokens                  nothing: not billed
 *
 * Values.  Every occurrence of a path counts (a duplicated key, two
 * fields of one family): the bound is the largest, since whichever one
 * the model reads is at most that.  A value is read as a number, or as a
 * string holding a number (some SageMaker containers accept "512"):
 * an integer as it is, a fraction rounded up ("100.5" is 101, "1e3" is
 * 1000), anything above AIGW_RESERVE_TOKENS_MAX clamped to it ("clamped"
 * is set), a number too long for the scanner (over AIGW_JSON_NUMBER_MAX
 * bytes) clamped too.  null is as if absent.  A value that is not a
 * positive number (0, negative, true, an object, a string of text) sets
 * "bad" and counts as the default: Bedrock refuses such a request (400),
 * so its reservation is released whole, and a SageMaker container that
 * takes it uses its own default, which "default_max_tokens" stands for.
 * The default (the caller's default_max_tokens, clamped to
 * AIGW_RESERVE_TOKENS_MAX) is the bound when no path was found, and joins
 * the largest when a value was bad or the body is not one JSON value
 * ("unreadable": Bedrock refuses it too).  The number of choices ("n" and
 * the like) multiplies the bound: 1 when absent or bad, clamped to
 * AIGW_RESERVE_CHOICES_MAX.
 *
 * A number the body ends inside of is not read (the body is unreadable).
 *
 * Both bounds are clamped to AIGW_USAGE_COUNT_MAX, the most the usage
 * parser accepts in one count of a response: the clamp never takes a
 * bound below a count the bill could accept.
 */

#ifndef AIGW_RESERVE_H
#define AIGW_RESERVE_H


#include <stddef.h>
#include <stdint.h>

#include "aigw_json_scan.h"
#include "aigw_pricing.h"
#include "aigw_target.h"
#include "aigw_usage.h"


/*
 * The most output tokens one choice reserves: ten million, the largest
 * context window of any model today, which the output cannot exceed.  A
 * request asking for more is refused by the model (400) and released.
 */
#define AIGW_RESERVE_TOKENS_MAX     10000000ULL

/* the most choices ("n"): OpenAI's own limit */
#define AIGW_RESERVE_CHOICES_MAX    128

/* bytes of a string value kept: as many as a number */
#define AIGW_RESERVE_STRING_MAX     AIGW_JSON_NUMBER_MAX


typedef struct aigw_reserve_path_s  aigw_reserve_path_t;


typedef struct {
    aigw_json_scan_t            js;

    /* the result, after aigw_reserve_finish() */
    uint64_t                    input_tokens;
    uint64_t                    output_tokens;

    /* what was read */
    uint64_t                    body_bytes;
    uint64_t                    max_tokens;    /* largest, 0: none found */
    uint64_t                    choices;       /* largest, 0: none found */
    uint64_t                    default_max;

    unsigned                    bad:1;         /* a value not a positive
                                                  number */
    unsigned                    clamped:1;     /* a value over the most */
    unsigned                    unreadable:1;  /* not one JSON value */
    unsigned                    images:1;      /* an image model */

    /* private */
    unsigned                    none:1;        /* nothing is billed */
    unsigned                    no_output:1;
    unsigned                    finished:1;
    unsigned                    capture:1;     /* a string value */
    unsigned                    cap_numeric:1; /* only number bytes */
    unsigned                    cap_role;
    size_t                      cap_len;
    const aigw_reserve_path_t  *paths;
    char                        cap[AIGW_RESERVE_STRING_MAX];
} aigw_reserve_t;


/*
 * "model": the decoded model ID, ARN or endpoint name; "format":
 * SageMaker only; "default_max_tokens": the output bound of a request
 * that names none.
 */
void aigw_reserve_init(aigw_reserve_t *r, aigw_op_e op, const char *model,
    size_t model_len, aigw_usage_format_e format,
    uint64_t default_max_tokens);

/* the request body, in pieces of any size */
void aigw_reserve_feed(aigw_reserve_t *r, const void *p, size_t len);

/* the end of the body: sets input_tokens and output_tokens; once */
void aigw_reserve_finish(aigw_reserve_t *r);

/*
 * The cost of the bound at a price, by aigw_pricing_cost(): the output
 * tokens at the output price, the input tokens at the dearest of the
 * entry's input, cache-read and cache-write prices (a cache write costs
 * more than plain input: the bill may count any input token as one).
 * "price" NULL: nothing is priced, as on the bill (cost->missing).
 * Returns 0, or -1 with cost->total UINT64_MAX when it exceeds that.
 */
int aigw_reserve_cost(const aigw_reserve_t *r, const aigw_price_t *price,
    aigw_cost_t *cost);


#endif /* AIGW_RESERVE_H */
