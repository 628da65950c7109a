
/*
 * aigw: the reservation bound of any request body.  Input: the operation,
 * the usage format, the model (1 byte each, indexes), 8 bytes of seed, 4
 * bytes of default_max_tokens, then the body.  Fed whole, one byte at a
 * time and in pieces, the bound must be the same; it is never over its
 * clamps, and its cost is priced (in range at a dollar per 1K tokens;
 * saturated at the dearest price a pricing file allows).
 */

#include "fuzz.h"
#include "aigw_reserve.h"


static const char  *models[] = {
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.anthropic.claude-sonnet-4-20250514-v1:0",
    "meta.llama3-70b-instruct-v1:0",
    "amazon.titan-text-express-v1",
    "us.amazon.nova-lite-v1:0",
    "mistral.mistral-large-2402-v1:0",
    "cohere.command-text-v14",
    "ai21.j2-ultra-v1",
    "openai.gpt-oss-120b-1:0",
    "amazon.titan-embed-text-v2:0",
    "amazon.nova-canvas-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x",
    "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-8b-v1:0",
    "my-endpoint",
    ""
};

#define NMODELS  (sizeof(models) / sizeof(models[0]))


static void
feed(void *ctx, const uint8_t *p, size_t len)
{
    aigw_reserve_feed(ctx, p, len);
}


static void
run(aigw_op_e op, aigw_usage_format_e format, const char *model,
    uint64_t def, const uint8_t *body, size_t len, int how, uint64_t seed,
    char *out, size_t size)
{
    aigw_reserve_t  r;

    aigw_reserve_init(&r, op, model, strlen(model), format, def);
    fuzz_feed(feed, &r, body, len, how, seed);
    aigw_reserve_finish(&r);

    FUZZ_CHECK(r.input_tokens <= AIGW_USAGE_COUNT_MAX);
    FUZZ_CHECK(r.input_tokens == 0 || r.input_tokens == len);
    FUZZ_CHECK(r.output_tokens <= AIGW_USAGE_COUNT_MAX);
    FUZZ_CHECK(r.max_tokens <= AIGW_RESERVE_TOKENS_MAX);
    FUZZ_CHECK(r.choices <= AIGW_RESERVE_CHOICES_MAX);

    /* the default is reserved whenever no good value was found */
    if ((r.max_tokens == 0 || r.bad || r.unreadable) && r.input_tokens
        && r.output_tokens)
    {
        FUZZ_CHECK(r.output_tokens >= (def < AIGW_RESERVE_TOKENS_MAX
                                       ? def : AIGW_RESERVE_TOKENS_MAX));
    }

    snprintf(out, size, "in %llu out %llu max %llu n %llu bad %u clamp %u "
             "unread %u images %u", (unsigned long long) r.input_tokens,
             (unsigned long long) r.output_tokens,
             (unsigned long long) r.max_tokens,
             (unsigned long long) r.choices, r.bad, r.clamped,
             r.unreadable, r.images);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 whole[256], bytes[256], pieces[256];
    uint64_t             seed, def;
    fuzz_in_t            in;
    aigw_op_e            op;
    aigw_cost_t          cost;
    const char          *model;
    aigw_reserve_t       r;
    aigw_price_t         price;
    aigw_usage_format_e  format;

    in.p = data;
    in.len = size;

    op = (aigw_op_e) (fuzz_byte(&in) % (AIGW_OP_SM_INVOKE_STREAM + 1));
    format = (aigw_usage_format_e) (fuzz_byte(&in)
                                    % (AIGW_USAGE_FORMAT_NONE + 1));
    model = models[fuzz_byte(&in) % NMODELS];
    seed = fuzz_u64(&in, 8);
    def = fuzz_u64(&in, 4);

    run(op, format, model, def, in.p, in.len, FUZZ_WHOLE, seed, whole,
        sizeof(whole));
    run(op, format, model, def, in.p, in.len, FUZZ_BYTES, seed, bytes,
        sizeof(bytes));
    run(op, format, model, def, in.p, in.len, FUZZ_PIECES, seed, pieces,
        sizeof(pieces));

    FUZZ_SAME("byte by byte", whole, bytes);
    FUZZ_SAME("pieces", whole, pieces);

    /* a dollar per 1K tokens: the clamps keep the cost in range */
    aigw_reserve_init(&r, op, model, strlen(model), format, def);
    aigw_reserve_feed(&r, in.p, in.len);
    aigw_reserve_finish(&r);

    memset(&price, 0, sizeof(price));
    price.has = AIGW_PRICE_INPUT | AIGW_PRICE_OUTPUT
                | AIGW_PRICE_CACHE_WRITE;
    price.input_pico = AIGW_PICO_PER_USD / 2;
    price.output_pico = AIGW_PICO_PER_USD;
    price.cache_write_pico = AIGW_PICO_PER_USD;

    FUZZ_CHECK(aigw_reserve_cost(&r, &price, &cost) == 0);
    FUZZ_CHECK(cost.missing == 0);
    FUZZ_CHECK(cost.input == 0);

    /* the dearest prices a pricing file allows: any overflow saturates */
    price.output_pico = AIGW_PRICE_MAX_PICO;

    if (aigw_reserve_cost(&r, &price, &cost) != 0) {
        FUZZ_CHECK(cost.total == UINT64_MAX);
    }

    return 0;
}
