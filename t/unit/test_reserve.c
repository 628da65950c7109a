
/*
 * aigw_reserve: the reservation bound of every family's max-tokens field,
 * hostile values, the same for every split of the body; its cost.
 */

#include "unit.h"

#include "aigw_reserve.h"


#define C   AIGW_OP_CONVERSE
#define CS  AIGW_OP_CONVERSE_STREAM
#define I   AIGW_OP_INVOKE
#define IS  AIGW_OP_INVOKE_STREAM
#define SM  AIGW_OP_SM_INVOKE
#define SMS AIGW_OP_SM_INVOKE_STREAM

#define AUTO    AIGW_USAGE_FORMAT_AUTO
#define OAI     AIGW_USAGE_FORMAT_OPENAI
#define TGI     AIGW_USAGE_FORMAT_TGI
#define NONE    AIGW_USAGE_FORMAT_NONE

#define MAX     AIGW_RESERVE_TOKENS_MAX

/* flags */
#define BAD     0x01
#define CLAMP   0x02
#define UNREAD  0x04
#define IMAGES  0x08
#define NOIN    0x10            /* no input tokens either */


typedef struct {
    aigw_op_e            op;
    const char          *model;
    aigw_usage_format_e  format;
    const char          *body;
    uint64_t             output;
    unsigned             flags;
} reserve_case_t;


/* the default of every case */
#define DEF     333


static const reserve_case_t  cases[] = {

    /* Converse: every family alike */
    { C, "anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "{\"messages\":[],\"inferenceConfig\":{\"maxTokens\":512}}", 512, 0 },
    { CS, "meta.llama3-8b-instruct-v1:0", AUTO,
      "{\"inferenceConfig\":{\"temperature\":0.5,\"maxTokens\":77}}", 77,
      0 },
    { C, "us.amazon.nova-lite-v1:0", AUTO, "{\"messages\":[]}", DEF, 0 },
    /* the family's own field is not Converse's */
    { C, "anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "{\"max_tokens\":9000}", DEF, 0 },
    /* nested elsewhere: not the field */
    { C, "anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "{\"messages\":[{\"content\":[{\"inferenceConfig\":{\"maxTokens\":"
      "99999}}]}],\"x\":{\"inferenceConfig\":{\"maxTokens\":99999}}}",
      DEF, 0 },
    { C, "anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "[{\"inferenceConfig\":{\"maxTokens\":99999}}]", DEF, 0 },

    /* Anthropic: messages and the legacy text completions */
    { I, "anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "{\"anthropic_version\":\"bedrock-2023-05-31\",\"max_tokens\":1024,"
      "\"messages\":[{\"role\":\"user\",\"content\":\"max_tokens\"}]}",
      1024, 0 },
    { IS, "us.anthropic.claude-sonnet-4-20250514-v1:0", AUTO,
      "{\"max_tokens\":64}", 64, 0 },
    { I, "anthropic.claude-v2", AUTO,
      "{\"prompt\":\"\\n\\nHuman: hi\\n\\nAssistant:\","
      "\"max_tokens_to_sample\":300}", 300, 0 },
    { I, "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2",
      AUTO, "{\"max_tokens_to_sample\":301}", 301, 0 },
    { I, "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
      "us.anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "{\"max_tokens\":302,\"max_gen_len\":5000}", 302, 0 },
    /* another family's field: not read */
    { I, "anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "{\"max_gen_len\":5000}", DEF, 0 },

    /* Meta Llama */
    { I, "meta.llama3-70b-instruct-v1:0", AUTO,
      "{\"prompt\":\"hi\",\"max_gen_len\":512,\"temperature\":0.5}", 512,
      0 },
    { I, "us.meta.llama3-2-90b-instruct-v1:0", AUTO,
      "{\"prompt\":\"hi\",\"max_tokens\":512}", DEF, 0 },

    /* Amazon Titan text, Nova */
    { I, "amazon.titan-text-express-v1", AUTO,
      "{\"inputText\":\"hi\",\"textGenerationConfig\":{\"maxTokenCount\":"
      "4096,\"temperature\":0}}", 4096, 0 },
    { I, "amazon.titan-tg1-large", AUTO,
      "{\"textGenerationConfig\":{\"maxTokenCount\":8}}", 8, 0 },
    { I, "amazon.titan-text-lite-v1", AUTO,
      "{\"maxTokenCount\":4096}", DEF, 0 },
    { I, "amazon.nova-pro-v1:0", AUTO,
      "{\"messages\":[],\"inferenceConfig\":{\"maxTokens\":1000}}", 1000,
      0 },
    { I, "us.amazon.nova-micro-v1:0", AUTO,
      "{\"inferenceConfig\":{\"max_new_tokens\":700}}", 700, 0 },
    { I, "amazon.nova-lite-v1:0", AUTO,
      "{\"inferenceConfig\":{\"max_new_tokens\":700,\"maxTokens\":900}}",
      900, 0 },

    /* Mistral, Cohere, AI21 */
    { I, "mistral.mistral-large-2402-v1:0", AUTO,
      "{\"prompt\":\"<s>[INST] hi [/INST]\",\"max_tokens\":200}", 200, 0 },
    { I, "cohere.command-r-plus-v1:0", AUTO,
      "{\"message\":\"hi\",\"max_tokens\":250}", 250, 0 },
    { I, "cohere.command-text-v14", AUTO,
      "{\"prompt\":\"hi\",\"max_tokens\":100,\"num_generations\":3}", 300,
      0 },
    { I, "ai21.j2-ultra-v1", AUTO,
      "{\"prompt\":\"hi\",\"maxTokens\":200,\"numResults\":2}", 400, 0 },
    { I, "ai21.jamba-1-5-large-v1:0", AUTO,
      "{\"messages\":[],\"max_tokens\":100,\"n\":4}", 400, 0 },

    /* OpenAI-style Bedrock models */
    { I, "openai.gpt-oss-120b-1:0", AUTO,
      "{\"messages\":[],\"max_completion_tokens\":1500}", 1500, 0 },
    { I, "us.deepseek.r1-v1:0", AUTO,
      "{\"prompt\":\"hi\",\"max_tokens\":1600}", 1600, 0 },
    { I, "qwen.qwen3-32b-v1:0", AUTO, "{\"max_tokens\":10,\"n\":2}", 20,
      0 },

    /* embeddings: no output; images: no output tokens, flagged */
    { I, "amazon.titan-embed-text-v2:0", AUTO,
      "{\"inputText\":\"hi\",\"max_tokens\":50}", 0, 0 },
    { I, "cohere.embed-english-v3", AUTO, "{\"texts\":[\"hi\"]}", 0, 0 },
    { I, "amazon.titan-embed-image-v1", AUTO, "{\"inputText\":\"hi\"}", 0,
      0 },
    { I, "amazon.nova-canvas-v1:0", AUTO,
      "{\"taskType\":\"TEXT_IMAGE\",\"imageGenerationConfig\":"
      "{\"numberOfImages\":2}}", 0, IMAGES },
    { I, "stability.sd3-large-v1:0", AUTO, "{\"prompt\":\"x\"}", 0,
      IMAGES },

    /* no known family: every path, the largest */
    { I, "arn:aws:bedrock:us-east-1:123456789012:application-inference-"
      "profile/abcdef123456", AUTO,
      "{\"max_gen_len\":40,\"max_tokens\":30}", 40, 0 },
    { I, "arn:aws:bedrock:us-east-1:123456789012:imported-model/abc123",
      AUTO, "{\"inferenceConfig\":{\"max_new_tokens\":41}}", 41, 0 },
    { I, "arn:aws:bedrock:us-east-1:123456789012:custom-model/x/y", AUTO,
      "{\"textGenerationConfig\":{\"maxTokenCount\":42},\"n\":2}", 84, 0 },
    { I, "twelvelabs.pegasus-1-2-v1:0", AUTO, "{\"maxTokens\":43}", 43, 0 },
    { I, "", AUTO, "{\"max_tokens\":44}", 44, 0 },

    /* SageMaker by the usage format */
    { SM, "my-endpoint", TGI,
      "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":128,"
      "\"do_sample\":true}}", 128, 0 },
    { SMS, "my-endpoint", TGI, "{\"inputs\":\"hi\",\"max_tokens\":9}", DEF,
      0 },
    { SM, "my-endpoint", OAI,
      "{\"messages\":[],\"max_tokens\":256,\"max_completion_tokens\":200}",
      256, 0 },
    { SMS, "my-endpoint", OAI, "{\"max_completion_tokens\":20,\"n\":3}", 60,
      0 },
    { SM, "my-endpoint", OAI,
      "{\"parameters\":{\"max_new_tokens\":128}}", DEF, 0 },
    { SM, "my-endpoint", AUTO,
      "{\"parameters\":{\"max_new_tokens\":128}}", 128, 0 },
    { SM, "my-endpoint", AUTO, "{\"max_tokens\":129}", 129, 0 },
    /* not read at all, not billed */
    { SM, "my-endpoint", NONE, "{\"max_tokens\":129}", 0, NOIN },
    { SM, "my-endpoint", NONE, "not json", 0, NOIN },
    { AIGW_OP_COUNT_TOKENS, "anthropic.claude-3-haiku-20240307-v1:0", AUTO,
      "{\"input\":{\"invokeModel\":{\"body\":\"{\\\"max_tokens\\\":5}\"}}}",
      0, NOIN },

    /* null: absent */
    { I, "mistral.mistral-7b-instruct-v0:2", AUTO, "{\"max_tokens\":null}",
      DEF, 0 },
    { SM, "e", OAI, "{\"max_tokens\":null,\"max_completion_tokens\":50}",
      50, 0 },

    /* numbers: exact, fractions rounded up, clamped */
    { I, "mistral.x", AUTO, "{\"max_tokens\":100.0}", 100, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":1e3}", 1000, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":2.5E+2}", 250, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":100.5}", 101, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":100.0000000001}", 101, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":0.001}", 1, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":1e-400}", 1, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":12000e-1}", 1200, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":10000000}", MAX, 0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":10000001}", MAX, CLAMP },
    { I, "mistral.x", AUTO, "{\"max_tokens\":18446744073709551616}", MAX,
      CLAMP },
    { I, "mistral.x", AUTO, "{\"max_tokens\":1e999999999999}", MAX, CLAMP },
    { I, "mistral.x", AUTO,
      "{\"max_tokens\":123456789012345678901234567890123456789012345}",
      MAX, CLAMP },
    { I, "mistral.x", AUTO,
      "{\"max_tokens\":0.00000000000000000000000000000000000000000001}",
      MAX, CLAMP },
    { I, "cohere.command-text-v14", AUTO,
      "{\"max_tokens\":1e9,\"num_generations\":1e9}",
      AIGW_USAGE_COUNT_MAX, CLAMP },

    /* not positive, not a number: the default joins */
    { I, "mistral.x", AUTO, "{\"max_tokens\":0}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":-0}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":-5}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":-1e999}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":true}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":false}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":{\"a\":1}}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":[1000]}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":\"lots\"}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":\"\"}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":\"1e\"}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":\"1.2.3\"}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":\"-\"}", DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":\"12abc\"}", DEF, BAD },
    { I, "mistral.x", AUTO,
      "{\"max_tokens\":\"this is a long string of words, not a number\"}",
      DEF, BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":5,\"max_tokens\":-1}", DEF,
      BAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":5000,\"max_tokens\":\"x\"}",
      5000, BAD },
    { I, "cohere.command-text-v14", AUTO,
      "{\"max_tokens\":10,\"num_generations\":0}", DEF, BAD },

    /* strings holding numbers */
    { SM, "e", OAI, "{\"max_tokens\":\"512\"}", 512, 0 },
    { SM, "e", OAI, "{\"max_tokens\":\" +0512 \"}", 512, 0 },
    { SM, "e", OAI, "{\"max_tokens\":\"\\u0035\\u0031\\u0032\"}", 512, 0 },
    { SM, "e", OAI, "{\"max_tokens\":\"51.2\"}", 52, 0 },
    { SM, "e", OAI, "{\"max_tokens\":\"99999999999\"}", MAX, CLAMP },
    { SM, "e", OAI,
      "{\"max_tokens\":\"1234567890123456789012345678901234567890123\"}",
      MAX, CLAMP },

    /* duplicated keys and two fields: the largest */
    { I, "mistral.x", AUTO, "{\"max_tokens\":10,\"max_tokens\":2000}", 2000,
      0 },
    { I, "mistral.x", AUTO, "{\"max_tokens\":2000,\"max_tokens\":10}", 2000,
      0 },
    { I, "anthropic.claude-v2", AUTO,
      "{\"max_tokens_to_sample\":10,\"max_tokens\":20}", 20, 0 },
    { C, "x", AUTO, "{\"inferenceConfig\":{\"maxTokens\":10},"
      "\"inferenceConfig\":{\"maxTokens\":30}}", 30, 0 },

    /* keys escaped, spaced; deep nesting past the scanner's path */
    { I, "mistral.x", AUTO, "{ \"max\\u005ftokens\" : 321 }", 321, 0 },
    { I, "mistral.x", AUTO,
      "{\"a\":[[[[[[[[[[[[[[[[[[[[{\"max_tokens\":9}]]]]]]]]]]]]]]]]]]]],"
      "\"max_tokens\":8}", 8, 0 },

    /* not one JSON value: the default joins; a number cut short is
       not read */
    { I, "mistral.x", AUTO, "{\"max_tokens\":100", DEF, UNREAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":1000,", 1000, UNREAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":1000}}", 1000, UNREAD },
    { I, "mistral.x", AUTO, "{\"max_tokens\":1}{\"max_tokens\":2}", DEF,
      UNREAD },
    { I, "mistral.x", AUTO, "max_tokens=5", DEF, UNREAD },
    { I, "mistral.x", AUTO, "", DEF, UNREAD },
    { C, "x", AUTO, "\xff\xfe{", DEF, UNREAD },
};


static uint64_t
expected_input(const reserve_case_t *c)
{
    return (c->flags & NOIN) ? 0 : strlen(c->body);
}


static int
check_result(const reserve_case_t *c, const aigw_reserve_t *r, size_t split)
{
    if (r->output_tokens == c->output
        && r->input_tokens == expected_input(c)
        && r->bad == !!(c->flags & BAD)
        && r->clamped == !!(c->flags & CLAMP)
        && r->unreadable == !!(c->flags & UNREAD)
        && r->images == !!(c->flags & IMAGES))
    {
        return 1;
    }

    fprintf(stderr, "    model %s body %s, split at %zu: output %llu "
            "input %llu bad %u clamped %u unreadable %u images %u\n",
            c->model, c->body, split, (unsigned long long) r->output_tokens,
            (unsigned long long) r->input_tokens, r->bad, r->clamped,
            r->unreadable, r->images);

    return 0;
}


static void
check_case(const reserve_case_t *c, size_t split)
{
    size_t          len;
    aigw_reserve_t  r;

    len = strlen(c->body);
    split = (split > len) ? len : split;

    aigw_reserve_init(&r, c->op, c->model, strlen(c->model), c->format,
                      DEF);
    aigw_reserve_feed(&r, c->body, split);
    aigw_reserve_feed(&r, c->body + split, len - split);
    aigw_reserve_finish(&r);

    CHECK(check_result(c, &r, split));

    /* finish is once */
    aigw_reserve_finish(&r);
    CHECK(check_result(c, &r, split));
}


static void
test_bytewise(void)
{
    size_t          i, k, len;
    aigw_reserve_t  r;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        len = strlen(cases[i].body);

        aigw_reserve_init(&r, cases[i].op, cases[i].model,
                          strlen(cases[i].model), cases[i].format, DEF);

        for (k = 0; k < len; k++) {
            aigw_reserve_feed(&r, cases[i].body + k, 1);
        }

        aigw_reserve_finish(&r);

        CHECK(check_result(&cases[i], &r, (size_t) -1));
    }
}


static void
test_default(void)
{
    aigw_reserve_t  r;

    /* the default is clamped too; 0 reserves no output */
    aigw_reserve_init(&r, C, "x", 1, AUTO, UINT64_MAX);
    aigw_reserve_feed(&r, "{}", 2);
    aigw_reserve_finish(&r);
    CHECK_EQ(r.output_tokens, MAX);
    CHECK_EQ(r.clamped, 0);

    aigw_reserve_init(&r, C, "x", 1, AUTO, 0);
    aigw_reserve_feed(&r, "{}", 2);
    aigw_reserve_finish(&r);
    CHECK_EQ(r.output_tokens, 0);
    CHECK_EQ(r.input_tokens, 2);

    /* NULL model: no family, every path */
    aigw_reserve_init(&r, I, NULL, 0, AUTO, 7);
    aigw_reserve_feed(&r, "{\"max_gen_len\":8}", 17);
    aigw_reserve_finish(&r);
    CHECK_EQ(r.output_tokens, 8);

    /* no body at all */
    aigw_reserve_init(&r, I, "meta.x", 6, AUTO, 7);
    aigw_reserve_finish(&r);
    CHECK_EQ(r.output_tokens, 7);
    CHECK_EQ(r.input_tokens, 0);
    CHECK_EQ(r.unreadable, 1);
}


/* a large body: fixed memory, the input by its bytes */

static void
feed(aigw_reserve_t *r, const char *s)
{
    aigw_reserve_feed(r, s, strlen(s));
}


static void
test_large(void)
{
    size_t          i;
    char            chunk[4096];
    aigw_reserve_t  r;

    memset(chunk, 'a', sizeof(chunk));

    aigw_reserve_init(&r, I, "anthropic.claude-3-haiku-20240307-v1:0",
                      38, AUTO, 7);
    feed(&r, "{\"messages\":[{\"content\":\"");

    for (i = 0; i < 4096; i++) {
        aigw_reserve_feed(&r, chunk, sizeof(chunk));
    }

    feed(&r, "\"}],\"max_tokens\":4000}");
    aigw_reserve_finish(&r);

    CHECK_EQ(r.output_tokens, 4000);
    CHECK_EQ(r.input_tokens, 25 + 4096 * 4096 + 22);
    CHECK_EQ(r.unreadable, 0);

    /* 512 levels is the scanner's nesting: deeper is unreadable */
    aigw_reserve_init(&r, I, "mistral.x", 9, AUTO, 7);
    feed(&r, "{\"max_tokens\":90,\"a\":");

    for (i = 0; i < 600; i++) {
        aigw_reserve_feed(&r, "[", 1);
    }

    aigw_reserve_finish(&r);
    CHECK_EQ(r.output_tokens, 90);
    CHECK_EQ(r.unreadable, 1);
}


static aigw_pricing_t *
pricing(void)
{
    char         err[AIGW_PRICING_ERR_LEN];
    const char  *json;

    json = "{\"models\":{"
           "\"plain\":{\"input_per_1k\":\"0.003\","
                      "\"output_per_1k\":\"0.015\"},"
           "\"cached\":{\"input_per_1k\":\"0.003\","
                       "\"output_per_1k\":\"0.015\","
                       "\"cache_read_per_1k\":\"0.0003\","
                       "\"cache_write_per_1k\":\"0.00375\"},"
           "\"readdear\":{\"input_per_1k\":\"0.001\","
                         "\"cache_read_per_1k\":\"0.002\"},"
           "\"nooutput\":{\"input_per_1k\":\"0.001\"}}}";

    return aigw_pricing_parse(json, strlen(json), err, sizeof(err));
}


static void
test_cost(void)
{
    aigw_cost_t          cost, bill;
    aigw_reserve_t       r;
    aigw_pricing_t      *p;
    aigw_cost_usage_t    u;
    const aigw_price_t  *price;

    p = pricing();

    if (!CHECK(p != NULL)) {
        return;
    }

    /* 1000 bytes, 2000 output tokens */
    aigw_reserve_init(&r, C, "plain", 5, AUTO, 2000);
    aigw_reserve_feed(&r, "{\"a\":\"", 6);

    while (r.body_bytes < 998) {
        aigw_reserve_feed(&r, "x", 1);
    }

    aigw_reserve_feed(&r, "\"}", 2);
    aigw_reserve_finish(&r);
    CHECK_EQ(r.input_tokens, 1000);
    CHECK_EQ(r.output_tokens, 2000);

    price = aigw_pricing_lookup(p, NULL, 0, "plain", 5);
    CHECK_EQ(aigw_reserve_cost(&r, price, &cost), 0);
    /* 1 x 0.003 + 2 x 0.015 USD */
    CHECK_EQ(cost.total, 33000000);
    CHECK_EQ(cost.input, 3000000);
    CHECK_EQ(cost.missing, 0);

    /* the same as the bill of that usage */
    memset(&u, 0, sizeof(u));
    u.input_tokens = 1000;
    u.output_tokens = 2000;
    CHECK_EQ(aigw_pricing_cost(price, &u, &bill), 0);
    CHECK_EQ(bill.total, cost.total);

    /* a cache write is dearer than input: every input token at it */
    price = aigw_pricing_lookup(p, NULL, 0, "cached", 6);
    CHECK_EQ(aigw_reserve_cost(&r, price, &cost), 0);
    CHECK_EQ(cost.total, 3750000 + 30000000);
    CHECK_EQ(cost.cache, 3750000);
    CHECK_EQ(cost.input, 0);

    price = aigw_pricing_lookup(p, NULL, 0, "readdear", 8);
    CHECK_EQ(aigw_reserve_cost(&r, price, &cost), 0);
    CHECK_EQ(cost.cache, 2000000);
    CHECK_EQ(cost.missing, AIGW_PRICE_OUTPUT);

    /* no output price: missing, as on the bill */
    price = aigw_pricing_lookup(p, NULL, 0, "nooutput", 8);
    CHECK_EQ(aigw_reserve_cost(&r, price, &cost), 0);
    CHECK_EQ(cost.total, 1000000);
    CHECK(cost.missing & AIGW_PRICE_OUTPUT);

    /* no price */
    CHECK_EQ(aigw_reserve_cost(&r, NULL, &cost), 0);
    CHECK_EQ(cost.total, 0);
    CHECK(cost.missing & AIGW_PRICE_INPUT);

    /* the most of each bound: a cost that fits */
    aigw_reserve_init(&r, I, "cohere.command-text-v14", 23, AUTO, 7);
    feed(&r, "{\"max_tokens\":1e9,\"num_generations\":999}");
    aigw_reserve_finish(&r);
    CHECK_EQ(r.output_tokens, AIGW_USAGE_COUNT_MAX);

    price = aigw_pricing_lookup(p, NULL, 0, "plain", 5);
    CHECK_EQ(aigw_reserve_cost(&r, price, &cost), 0);
    CHECK_EQ(cost.output, 15000000000000ULL);

    aigw_pricing_free(p);
}


int
main(void)
{
    size_t  i, s;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (s = 0; s <= strlen(cases[i].body); s++) {
            check_case(&cases[i], s);
        }
    }

    test_bytewise();
    test_default();
    test_large();
    test_cost();

    return unit_done("test_reserve");
}
