
/*
 * aigw: unit tests of aigw_pricing.c and aigw_csv.c: decimal prices,
 * every error of the pricing file, the lookup order (exact, ARN, without
 * the cross-region prefix, globs by specificity, region overrides),
 * image prices, exact costs at 10^12 tokens, the rounding rule, the
 * amount formatter, and CSV quoting.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "aigw_csv.h"
#include "aigw_pricing.h"


#define S(s)  s, sizeof(s) - 1

#define CHECK_PART(s, lit)                                                   \
    CHECK_MEM((s).data, (s).len, lit, sizeof(lit) - 1)

#define HAIKU      "anthropic.claude-3-haiku-20240307-v1:0"
#define HAIKU_US   "us." HAIKU
#define TITAN_IMG  "amazon.titan-image-generator-v1"

/* the example of ../shared/SPEC.md, verbatim */
static const char  spec_example[] =
    "{\n"
    "  \"currency\": \"USD\",\n"
    "  \"models\": {\n"
    "    \"anthropic.claude-3-haiku-20240307-v1:0\":\n"
    "      {\"input_per_1k\": 0.00025, \"output_per_1k\": 0.00125,\n"
    "       \"cache_read_per_1k\": 0.000025, \"cache_write_per_1k\":"
    " 0.0003125},\n"
    "    \"amazon.titan-image-generator-v1\":\n"
    "      {\"per_image\": {\"512x512\": {\"standard\": 0.008, \"premium\":"
    " 0.01},\n"
    "                     \"larger\": {\"standard\": 0.01, \"premium\":"
    " 0.012}}}\n"
    "  },\n"
    "  \"regions\": {\"eu-central-1\": {\"models\": {}}}\n"
    "}\n";


static char  err[AIGW_PRICING_ERR_LEN];


static aigw_pricing_t *
load(const char *json)
{
    return aigw_pricing_parse(json, strlen(json), err, sizeof(err));
}


static void
expect_error(const char *json, const char *msg, int line)
{
    aigw_pricing_t  *p;

    p = load(json);

    if (!unit_check(p == NULL, __FILE__, line, "parse fails")) {
        aigw_pricing_free(p);
        return;
    }

    unit_check_str(err, msg, __FILE__, line, "err", "expected");
}

#define ERR(json, msg)  expect_error(json, msg, __LINE__)


/* one model: {"models": {"m": <prices>}} */

static void
expect_model_error(const char *prices, const char *msg, int line)
{
    char  buf[4096];

    snprintf(buf, sizeof(buf), "{\"models\": {\"m\": %s}}", prices);
    expect_error(buf, msg, line);
}

#define MERR(prices, msg)  expect_model_error(prices, msg, __LINE__)


static void
expect_price(const char *text, int json, unsigned long long want, int line)
{
    uint64_t     pico;
    const char  *reason;

    pico = 12345;
    reason = NULL;

    if (!unit_check(aigw_price_parse(text, strlen(text), json, &pico,
                                     &reason) == 0,
                    __FILE__, line, "price parses"))
    {
        fprintf(stderr, "    \"%s\": %s\n", text, reason);
        return;
    }

    unit_check_eq((long long) pico, (long long) want, __FILE__, line,
                  "pico", "expected");
}

#define PRICE(text, json, want)  expect_price(text, json, want, __LINE__)


static void
expect_price_error(const char *text, int json, const char *why, int line)
{
    uint64_t     pico;
    const char  *reason;

    reason = NULL;

    if (!unit_check(aigw_price_parse(text, strlen(text), json, &pico,
                                     &reason) != 0,
                    __FILE__, line, "price rejected"))
    {
        return;
    }

    unit_check_str(reason, why, __FILE__, line, "reason", "expected");
}

#define PRICE_ERR(text, json, why)                                           \
    expect_price_error(text, json, why, __LINE__)


static const char *
lookup_key(const aigw_pricing_t *p, const char *region, const char *model)
{
    const aigw_price_t  *e;

    e = aigw_pricing_lookup(p, region, region ? strlen(region) : 0, model,
                            strlen(model));

    return e ? e->key.data : NULL;
}


static const char *
lookup_region(const aigw_pricing_t *p, const char *region, const char *model)
{
    const aigw_price_t  *e;

    e = aigw_pricing_lookup(p, region, region ? strlen(region) : 0, model,
                            strlen(model));

    return e ? e->region.data : NULL;
}


static long long
image_price(const aigw_price_t *e, const char *size, const char *quality)
{
    uint64_t  pico;

    if (aigw_price_image(e, size, size ? strlen(size) : 0, quality,
                         quality ? strlen(quality) : 0, &pico)
        != 0)
    {
        return -1;
    }

    return (long long) pico;
}


static const char *
fmt(uint64_t nano)
{
    static char  buf[4][AIGW_COST_LEN];
    static int   i;

    i = (i + 1) % 4;
    aigw_cost_format(nano, buf[i]);

    return buf[i];
}


/* --- decimal prices ------------------------------------------------------- */


static void
test_price_parse(void)
{
    char  buf[AIGW_COST_LEN];

    PRICE("0", 1, 0);
    PRICE("0", 0, 0);
    PRICE("0.0", 1, 0);
    PRICE("0e10", 1, 0);
    PRICE("0.000000000000000000000", 0, 0);
    PRICE("0.00025", 1, 250000000ULL);
    PRICE("0.00025", 0, 250000000ULL);
    PRICE("2.5e-05", 1, 25000000ULL);          /* Python's json.dumps */
    PRICE("2.5E-5", 1, 25000000ULL);
    PRICE("0.0003125", 1, 312500000ULL);
    PRICE("1e-12", 1, 1);
    PRICE("0.000000000001", 0, 1);
    PRICE("0.100000000000000", 0, 100000000000ULL);  /* zeros of no value */
    PRICE("123e-2", 1, 1230000000000ULL);
    PRICE("1E+2", 1, 100000000000000ULL);
    PRICE("1000000", 1, 1000000000000000000ULL);     /* the maximum */
    PRICE("1000000.000000000000", 0, 1000000000000000000ULL);
    PRICE("100000000000000000000e-14", 1, 1000000000000000000ULL);
    PRICE("0.000000000001000000e0", 1, 1);
    PRICE("007.5", 0, 7500000000000ULL);       /* strings: leading zeros */
    PRICE("0.123456789012", 0, 123456789012ULL);

    PRICE_ERR("0.0000000000001", 0, "more than 12 decimal places");
    PRICE_ERR("1e-13", 1, "more than 12 decimal places");
    PRICE_ERR("0.1234567890125", 1, "more than 12 decimal places");
    PRICE_ERR("1e-999999999999", 1, "more than 12 decimal places");
    PRICE_ERR("1000000.000000000001", 0, "too large (at most 1000000 USD)");
    PRICE_ERR("1000001", 1, "too large (at most 1000000 USD)");
    PRICE_ERR("1e7", 1, "too large (at most 1000000 USD)");
    PRICE_ERR("1e999999999999", 1, "too large (at most 1000000 USD)");
    PRICE_ERR("99999999999999999999999", 0,
              "too large (at most 1000000 USD)");
    PRICE_ERR("-0.5", 1, "a price cannot be negative");
    PRICE_ERR("-0", 0, "a price cannot be negative");
    PRICE_ERR("01", 1, "not a valid number");
    PRICE_ERR("1.", 1, "not a valid number");
    PRICE_ERR("1e", 1, "not a valid number");
    PRICE_ERR("", 0, "not a decimal number (digits, optionally a \".\" and "
              "more digits)");
    PRICE_ERR(".5", 0, "not a decimal number (digits, optionally a \".\" "
              "and more digits)");
    PRICE_ERR("1e-3", 0, "not a decimal number (digits, optionally a \".\" "
              "and more digits)");
    PRICE_ERR(" 1", 0, "not a decimal number (digits, optionally a \".\" "
              "and more digits)");
    PRICE_ERR("1,5", 0, "not a decimal number (digits, optionally a \".\" "
              "and more digits)");
    PRICE_ERR("USD 1", 0, "not a decimal number (digits, optionally a \".\" "
              "and more digits)");

    aigw_price_format(250000000ULL, buf);
    CHECK_STR(buf, "0.00025");
    aigw_price_format(0, buf);
    CHECK_STR(buf, "0.0");
    aigw_price_format(1000000000000000000ULL, buf);
    CHECK_STR(buf, "1000000.0");
    aigw_price_format(1, buf);
    CHECK_STR(buf, "0.000000000001");
    aigw_price_format(12500000000000ULL, buf);
    CHECK_STR(buf, "12.5");
}


/* --- the file: every error ------------------------------------------------ */


static void
test_parse_errors(void)
{
    char   *big;
    size_t  i;

    /* syntax: jansson's messages */

    ERR("", "line 1, column 0: '[' or '{' expected near end of file");
    ERR("  \n ", "line 2, column 1: '[' or '{' expected near end of file");
    ERR("[]", "expected a JSON object at the top level");
    ERR("{", "line 1, column 1: string or '}' expected near end of file");
    ERR("{} x", "line 1, column 4: end of file expected near 'x'");
    ERR("{}{}", "line 1, column 3: end of file expected near '{'");
    ERR("{\"models\" {}}", "line 1, column 11: ':' expected near '{'");
    ERR("{\"models\": {}",
        "line 1, column 13: '}' expected near end of file");
    ERR("{\"models\": {},}",
        "line 1, column 15: string or '}' expected near '}'");
    ERR("{\n  \"models\": {\n    \"m\": {\"input_per_1k\": 0.1,}\n  }\n}",
        "line 3, column 31: string or '}' expected near '}'");
    ERR("{\"models\": {\"m\": {\"input_per_1k\": 01}}}",
        "line 1, column 35: invalid token near '0'");
    ERR("{\"models\": {\"m\": {\"input_per_1k\": 1.}}}",
        "line 1, column 36: invalid token near '1.'");
    ERR("{\"models\": {\"m\": {\"input_per_1k\": 1.5e}}}",
        "line 1, column 38: invalid token near '1.5e'");
    ERR("{\"models\": {\"m",
        "line 1, column 14: premature end of input near '\"m'");
    ERR("{\"models\": {\"a\\qb\": {}}}",
        "line 1, column 16: invalid escape near '\"a\\q'");
    ERR("{\"models\": {\"a\\u12G4\": {}}}",
        "line 1, column 19: invalid escape near '\"a\\u12G'");
    ERR("{\"models\": {\"a\\udc00\": {}}}",
        "line 1, column 21: invalid Unicode '\\uDC00' near '\"a\\udc00\"'");
    ERR("{\"models\": {\"a\\ud800x\": {}}}",
        "line 1, column 22: invalid Unicode '\\uD800' near '\"a\\ud800x\"'");
    ERR("{\"models\": {\"a\\u0000\": {}}}",
        "line 1, column 21: NUL byte in object key not supported near "
        "'\"a\\u0000\"'");
    ERR("{\"models\": {\"a\tb\": {}}}",
        "line 1, column 14: control character 0x9 near '\"a'");
    ERR("{\"models\": {\"a\xff\": {}}}",
        "line 1, column 14: unable to decode byte 0xff near '\"a'");
    ERR("{\"models\": {\"a\xc0\xaf\": {}}}",             /* overlong */
        "line 1, column 14: unable to decode byte 0xc0 near '\"a'");
    ERR("{\"models\": {\"a\xed\xa0\x80\": {}}}",         /* surrogate */
        "line 1, column 14: unable to decode byte 0xed near '\"a'");
    ERR("{\"models\": {\"a\xe2\x82\": {}}}",             /* truncated */
        "line 1, column 14: unable to decode byte 0xe2 near '\"a'");

    /* duplicate members, at every level: jansson's message */

    ERR("{\"currency\": \"USD\", \"currency\": \"USD\"}",
        "line 1, column 30: duplicate object key near '\"currency\"'");
    ERR("{\"models\": {}, \"models\": {}}",
        "line 1, column 23: duplicate object key near '\"models\"'");
    ERR("{\"regions\": {}, \"regions\": {}}",
        "line 1, column 25: duplicate object key near '\"regions\"'");
    MERR("{\"input_per_1k\": 1, \"input_per_1k\": 2}",
         "line 1, column 51: duplicate object key near '\"input_per_1k\"'");
    MERR("{\"per_image\": {\"default\": {\"standard\": 1}}, \"per_image\": "
         "{}}", "line 1, column 72: duplicate object key near "
         "'\"per_image\"'");
    ERR("{\"models\": {\"m\": {\"input_per_1k\": 1}, \"m\": "
        "{\"input_per_1k\": 2}}}",
        "line 1, column 41: duplicate object key near '\"m\"'");
    ERR("{\"models\": {\"a.*\": {\"input_per_1k\": 1}, \"b\": "
        "{\"input_per_1k\": 1}, \"a.*\": {\"input_per_1k\": 2}}}",
        "line 1, column 71: duplicate object key near '\"a.*\"'");
    MERR("{\"per_image\": {\"larger\": {\"standard\": 1}, \"larger\": "
         "{\"premium\": 1}}}",
         "line 1, column 67: duplicate object key near '\"larger\"'");
    MERR("{\"per_image\": {\"512x512\": {\"standard\": 1, \"standard\": 2}}}",
         "line 1, column 69: duplicate object key near '\"standard\"'");
    ERR("{\"regions\": {\"eu-1\": {}, \"eu-1\": {}}}",
        "line 1, column 31: duplicate object key near '\"eu-1\"'");
    ERR("{\"regions\": {\"eu-1\": {\"models\": {}, \"models\": {}}}}",
        "line 1, column 44: duplicate object key near '\"models\"'");
    ERR("{\"regions\": {\"eu-1\": {\"models\": {\"m\": {\"input_per_1k\": "
        "1}, \"m\": {\"input_per_1k\": 1}}}}}",
        "line 1, column 62: duplicate object key near '\"m\"'");

    /* the top level */

    ERR("{\"curency\": \"USD\"}",
        "unknown field \"curency\" (expected currency, models, regions)");
    ERR("{\"currency\": \"EUR\"}",
        "currency: \"EUR\" is not supported (only \"USD\")");
    ERR("{\"currency\": \"usd\"}",
        "currency: \"usd\" is not supported (only \"USD\")");
    ERR("{\"currency\": 1}", "currency: expected a string (\"USD\")");
    ERR("{\"models\": []}", "models: expected an object");
    ERR("{\"models\": null}", "models: expected an object");

    /* models */

    ERR("{\"models\": {\"\": {\"input_per_1k\": 1}}}",
        "models: a model key of 0 bytes (1 to 2048)");
    MERR("1", "model \"m\": expected an object of prices");
    MERR("{}", "model \"m\": no price (expected at least one of "
         "input_per_1k, output_per_1k, cache_read_per_1k, "
         "cache_write_per_1k, per_image)");
    MERR("{\"inptu_per_1k\": 1}", "model \"m\": unknown field "
         "\"inptu_per_1k\" (expected input_per_1k, output_per_1k, "
         "cache_read_per_1k, cache_write_per_1k, per_image)");
    MERR("{\"input_per_1k\": true}", "model \"m\": input_per_1k: expected a "
         "price (a number or a decimal string)");
    MERR("{\"output_per_1k\": null}", "model \"m\": output_per_1k: expected "
         "a price (a number or a decimal string)");
    MERR("{\"cache_read_per_1k\": [1]}", "model \"m\": cache_read_per_1k: "
         "expected a price (a number or a decimal string)");
    MERR("{\"input_per_1k\": -1}",
         "model \"m\": input_per_1k: -1: a price cannot be negative");
    MERR("{\"input_per_1k\": \"-1\"}",
         "model \"m\": input_per_1k: \"-1\": a price cannot be negative");
    MERR("{\"cache_write_per_1k\": 0.0000000000001}",
         "model \"m\": cache_write_per_1k: 1e-13: more than 12 decimal "
         "places");
    MERR("{\"output_per_1k\": \"0.0000000000001\"}",
         "model \"m\": output_per_1k: \"0.0000000000001\": more than 12 "
         "decimal places");
    MERR("{\"input_per_1k\": 1e7}",
         "model \"m\": input_per_1k: 10000000: too large (at most 1000000 "
         "USD)");
    MERR("{\"input_per_1k\": 1234.12345678901234}",
         "model \"m\": input_per_1k: 1234.1234567890124: more than 15 "
         "significant digits, more than a JSON number keeps exactly (write "
         "the price as a decimal string)");
    /* more digits than 15, though its double prints back within 15 */
    MERR("{\"input_per_1k\": 92829.9809705502929310000}",
         "line 1, column 35: the number 92829.9809705502929310000 has 20"
         " significant digits, more than the 15 a JSON number keeps"
         " exactly: write it as a decimal string");
    MERR("{\"input_per_1k\": -0.5}",
         "model \"m\": input_per_1k: -0.5: a price cannot be negative");
    MERR("{\"input_per_1k\": \"2.5e-5\"}",
         "model \"m\": input_per_1k: \"2.5e-5\": not a decimal number "
         "(digits, optionally a \".\" and more digits)");

    /* per_image */

    MERR("{\"per_image\": 1}", "model \"m\": per_image: expected an object "
         "({\"512x512\": {\"standard\": 0.008}})");
    MERR("{\"per_image\": {}}", "model \"m\": per_image: no size");
    MERR("{\"per_image\": {\"big\": {\"standard\": 1}}}",
         "model \"m\": per_image: \"big\" is not a size (\"WxH\" such as "
         "\"512x512\", \"larger\" or \"default\")");
    MERR("{\"per_image\": {\"512x\": {\"standard\": 1}}}",
         "model \"m\": per_image: \"512x\" is not a size (\"WxH\" such as "
         "\"512x512\", \"larger\" or \"default\")");
    MERR("{\"per_image\": {\"0x512\": {\"standard\": 1}}}",
         "model \"m\": per_image: \"0x512\" is not a size (\"WxH\" such as "
         "\"512x512\", \"larger\" or \"default\")");
    MERR("{\"per_image\": {\"512X512\": {\"standard\": 1}}}",
         "model \"m\": per_image: \"512X512\" is not a size (\"WxH\" such as "
         "\"512x512\", \"larger\" or \"default\")");
    MERR("{\"per_image\": {\"512x512\": 0.008}}", "model \"m\": per_image: "
         "\"512x512\": expected an object of qualities "
         "({\"standard\": 0.008})");
    MERR("{\"per_image\": {\"512x512\": {}}}",
         "model \"m\": per_image: \"512x512\": no quality");
    MERR("{\"per_image\": {\"512x512\": {\"hd quality\": 1}}}",
         "model \"m\": per_image: \"512x512\": \"hd quality\" is not a "
         "quality ([A-Za-z0-9_-]{1,32})");
    MERR("{\"per_image\": {\"512x512\": {\"\": 1}}}",
         "model \"m\": per_image: \"512x512\": \"\" is not a quality "
         "([A-Za-z0-9_-]{1,32})");
    MERR("{\"per_image\": {\"512x512\": {\"standard\": 1, \"premium\": "
         "0.0000000000001}}}", "model \"m\": per_image: \"512x512\": "
         "premium: 1e-13: more than 12 decimal places");
    MERR("{\"per_image\": {\"512x512\": {\"standard\": \"x\"}}}",
         "model \"m\": per_image: \"512x512\": standard: \"x\": not a "
         "decimal number (digits, optionally a \".\" and more digits)");

    /* regions */

    ERR("{\"regions\": []}", "regions: expected an object");
    ERR("{\"regions\": {\"EU-1\": {}}}",
        "regions: \"EU-1\" is not a region name ([a-z0-9-]{1,32})");
    ERR("{\"regions\": {\"\": {}}}",
        "regions: \"\" is not a region name ([a-z0-9-]{1,32})");
    ERR("{\"regions\": {\"eu-1\": []}}",
        "region \"eu-1\": expected an object ({\"models\": {...}})");
    ERR("{\"regions\": {\"eu-1\": {\"model\": {}}}}",
        "region \"eu-1\": unknown field \"model\" (expected models)");
    ERR("{\"regions\": {\"eu-1\": {\"models\": 1}}}",
        "region \"eu-1\": models: expected an object");
    ERR("{\"regions\": {\"eu-1\": {\"models\": {\"m\": "
        "{\"input_per_1k\": 0.5, \"inptu\": 1}}}}}",
        "region \"eu-1\": model \"m\": unknown field \"inptu\" (expected "
        "input_per_1k, output_per_1k, cache_read_per_1k, "
        "cache_write_per_1k, per_image)");
    ERR("{\"regions\": {\"eu-1\": {\"models\": {\"m\": "
        "{\"per_image\": {\"1x1\": {\"standard\": -2}}}}}}}",
        "region \"eu-1\": model \"m\": per_image: \"1x1\": standard: -2: "
        "a price cannot be negative");
    ERR("{\"regions\": {\"eu-1\": {\"models\": {}}, \"eu-2\": "
        "{\"models\": {\"m\": {}}}}}",
        "region \"eu-2\": model \"m\": no price (expected at least one of "
        "input_per_1k, output_per_1k, cache_read_per_1k, "
        "cache_write_per_1k, per_image)");

    /* keys: too long; shown truncated in messages */

    big = malloc(3000);
    if (big == NULL) {
        CHECK(0);
        return;
    }

    strcpy(big, "{\"models\": {\"");
    for (i = 0; i < 2049; i++) {
        strcat(big, "k");
    }
    strcat(big, "\": {\"input_per_1k\": 1}}}");

    ERR(big, "models: a model key of 2049 bytes (1 to 2048)");

    strcpy(big, "{\"models\": {\"");
    for (i = 0; i < 200; i++) {
        strcat(big, "k");
    }
    strcat(big, "\": {\"input_per_1k\": 1, \"x\": 1}}}");

    aigw_pricing_free(load(big));
    CHECK(strlen(err) < 300);
    CHECK(strstr(err, "kkk...\": unknown field \"x\"") != NULL);
    CHECK(strncmp(err, "model \"kkkk", 11) == 0);

    free(big);

    /* a message truncated to the buffer */

    {
        char             small[16];
        const char      *bad;
        aigw_pricing_t  *p;

        bad = "{\"models\": {\"m\": {}}}";
        p = aigw_pricing_parse(bad, strlen(bad), small, sizeof(small));
        CHECK(p == NULL);
        CHECK_STR(small, "model \"m\": no p");
    }
}


/* the 15-digit rule: more digits as a decimal string, exactly */

static void
test_parse_digits(void)
{
    aigw_pricing_t      *p;
    const aigw_price_t  *e;

    p = load("{\"models\": {\"m\": {\"input_per_1k\": "
             "\"123456.123456789012\", \"output_per_1k\": 0.000123456789,"
             " \"cache_read_per_1k\": -0}}}");
    if (!CHECK(p != NULL)) {
        fprintf(stderr, "    %s\n", err);
        return;
    }

    e = aigw_pricing_lookup(p, NULL, 0, "m", 1);

    if (CHECK(e != NULL)) {
        CHECK(e->input_pico == 123456123456789012ULL);
        CHECK(e->output_pico == 123456789ULL);
        CHECK(e->cache_read_pico == 0);
    }

    aigw_pricing_free(p);
}


static void
test_parse_ok(void)
{
    aigw_pricing_t      *p;
    const aigw_price_t  *e;

    p = load(spec_example);
    if (!CHECK(p != NULL)) {
        fprintf(stderr, "    %s\n", err);
        return;
    }

    CHECK_EQ_SIZE(aigw_pricing_count(p), 2);

    e = aigw_pricing_lookup(p, NULL, 0, S(HAIKU));
    if (CHECK(e != NULL)) {
        CHECK_STR(e->key.data, HAIKU);
        CHECK_STR(e->region.data, "");
        CHECK_EQ(e->has, AIGW_PRICE_INPUT | AIGW_PRICE_OUTPUT
                         | AIGW_PRICE_CACHE_READ | AIGW_PRICE_CACHE_WRITE);
        CHECK_EQ(e->glob, 0);
        CHECK_EQ(e->input_pico, 250000000LL);
        CHECK_EQ(e->output_pico, 1250000000LL);
        CHECK_EQ(e->cache_read_pico, 25000000LL);
        CHECK_EQ(e->cache_write_pico, 312500000LL);
        CHECK_EQ_SIZE(e->nimages, 0);
    }

    e = aigw_pricing_lookup(p, S("eu-central-1"), S(TITAN_IMG));
    if (CHECK(e != NULL)) {
        CHECK_EQ(e->has, AIGW_PRICE_IMAGE);
        CHECK_EQ_SIZE(e->nimages, 4);
        CHECK_STR(e->images[0].size.data, "512x512");
        CHECK_STR(e->images[0].quality.data, "standard");
        CHECK_EQ(e->images[0].pico, 8000000000LL);
        CHECK_STR(e->images[3].size.data, "larger");
        CHECK_STR(e->images[3].quality.data, "premium");
        CHECK_EQ(e->images[3].pico, 12000000000LL);
    }

    aigw_pricing_free(p);

    /* strings, escapes, UTF-8, no currency, only regions */

    p = load("{\"regions\": {\"eu-west-1\": {\"models\": {\"caf\\u00e9."
             "mod\xc3\xa8le\\ud83d\\ude00\": {\"input_per_1k\": \"1.5\"}}}}}");
    if (CHECK(p != NULL)) {
        e = aigw_pricing_lookup(p, S("eu-west-1"),
                                S("caf\xc3\xa9.mod\xc3\xa8le\xf0\x9f\x98\x80"));
        CHECK(e != NULL && e->input_pico == 1500000000000ULL);
        CHECK_STR(lookup_region(p, "eu-west-1",
                                "caf\xc3\xa9.mod\xc3\xa8le\xf0\x9f\x98\x80"),
                  "eu-west-1");
        CHECK(aigw_pricing_lookup(p, NULL, 0,
              S("caf\xc3\xa9.mod\xc3\xa8le\xf0\x9f\x98\x80")) == NULL);
        aigw_pricing_free(p);
    }

    p = load("{}");
    CHECK(p != NULL && aigw_pricing_count(p) == 0);
    CHECK(aigw_pricing_lookup(p, S("us-east-1"), S(HAIKU)) == NULL);
    aigw_pricing_free(p);

    p = load(" {\"currency\":\"USD\",\"models\":{},\"regions\":{}} \n");
    CHECK(p != NULL);
    aigw_pricing_free(p);

    aigw_pricing_free(NULL);
}


/* --- lookup --------------------------------------------------------------- */


static void
test_forms(void)
{
    aigw_str_t  s;

    CHECK_EQ(aigw_pricing_strip_prefix(S(HAIKU_US), &s), 1);
    CHECK_PART(s, HAIKU);
    CHECK_EQ(aigw_pricing_strip_prefix(S("us-gov.meta.llama3-8b"), &s), 1);
    CHECK_PART(s, "meta.llama3-8b");
    CHECK_EQ(aigw_pricing_strip_prefix(S("global.anthropic.claude-x"), &s),
             1);
    CHECK_EQ(aigw_pricing_strip_prefix(S("apac.amazon.nova-pro-v1:0"), &s),
             1);
    CHECK_PART(s, "amazon.nova-pro-v1:0");

    CHECK_EQ(aigw_pricing_strip_prefix(S(HAIKU), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("amazon.nova-lite-v1:0"), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("u.anthropic.x"), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("US.anthropic.x"), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("us.anthropic."), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("us..x"), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("us.Anthropic.x"), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("abcdefghijklmnopq.a.b"), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S("abcdefghijklmnop.a.b"), &s), 1);
    CHECK_EQ(aigw_pricing_strip_prefix(S("us"), &s), 0);
    CHECK_EQ(aigw_pricing_strip_prefix(S(""), &s), 0);

    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws:bedrock:us-east-1:"
             "123456789012:inference-profile/" HAIKU_US), &s), 1);
    CHECK_PART(s, HAIKU_US);
    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws:bedrock:us-east-1::"
             "foundation-model/" HAIKU), &s), 1);
    CHECK_PART(s, HAIKU);
    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws-us-gov:bedrock:us-gov-west-1"
             ":123456789012:inference-profile/us-gov.x.y"), &s), 1);
    CHECK_PART(s, "us-gov.x.y");
    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws:bedrock:us-east-1:"
             "123456789012:application-inference-profile/abcd1234"), &s), 0);
    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws:bedrock:us-east-1:"
             "123456789012:provisioned-model/abcd1234"), &s), 0);
    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws:sagemaker:us-east-1:"
             "123456789012:inference-profile/x.y"), &s), 0);
    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws:bedrock:us-east-1:"
             "123456789012:inference-profile/"), &s), 0);
    CHECK_EQ(aigw_pricing_arn_model(S("arn:aws:bedrock:us-east-1"), &s), 0);
    CHECK_EQ(aigw_pricing_arn_model(S(HAIKU), &s), 0);
}


static void
test_lookup(void)
{
    aigw_pricing_t  *p;

    p = load(
        "{\"models\": {"
        "  \"" HAIKU "\": {\"input_per_1k\": 0.00025},"
        "  \"" HAIKU_US "\": {\"input_per_1k\": 0.0003},"
        "  \"anthropic.claude-*\": {\"input_per_1k\": 1},"
        "  \"anthropic.claude-3-*\": {\"input_per_1k\": 2},"
        "  \"*\": {\"input_per_1k\": 3},"
        "  \"amazon.nova-lite-v1:0\": {\"input_per_1k\": 4},"
        "  \"meta.llama3-?-8b*\": {\"input_per_1k\": 5},"
        "  \"meta.llama3-1-*\": {\"input_per_1k\": 6},"
        "  \"arn:aws:bedrock:us-east-1:123456789012:"
        "application-inference-profile/abcd1234\": {\"input_per_1k\": 7},"
        "  \"cohere.c*:0\": {\"input_per_1k\": 8},"
        "  \"us.cohere.*\": {\"input_per_1k\": 9}"
        "},"
        "\"regions\": {"
        "  \"eu-central-1\": {\"models\": {"
        "    \"" HAIKU "\": {\"input_per_1k\": 0.0005},"
        "    \"amazon.*\": {\"input_per_1k\": 10}}},"
        "  \"ap-south-1\": {\"models\": {"
        "    \"" HAIKU_US "\": {\"input_per_1k\": 11}}},"
        "  \"us-west-2\": {}"
        "}}");

    if (!CHECK(p != NULL)) {
        fprintf(stderr, "    %s\n", err);
        return;
    }

    CHECK_EQ_SIZE(aigw_pricing_count(p), 14);

    /* exact, as given */
    CHECK_STR(lookup_key(p, NULL, HAIKU), HAIKU);
    CHECK_STR(lookup_key(p, NULL, HAIKU_US), HAIKU_US);

    /* without the cross-region prefix */
    CHECK_STR(lookup_key(p, NULL, "eu." HAIKU), HAIKU);
    CHECK_STR(lookup_key(p, NULL, "apac." HAIKU), HAIKU);
    CHECK_STR(lookup_key(p, NULL, "global." HAIKU), HAIKU);
    CHECK_STR(lookup_key(p, NULL, "us-gov." HAIKU), HAIKU);

    /* ARNs: the profile's or the model's ID, then without the prefix */
    CHECK_STR(lookup_key(p, NULL, "arn:aws:bedrock:us-east-1:123456789012:"
                         "inference-profile/" HAIKU_US), HAIKU_US);
    CHECK_STR(lookup_key(p, NULL, "arn:aws:bedrock:eu-west-1:123456789012:"
                         "inference-profile/eu." HAIKU), HAIKU);
    CHECK_STR(lookup_key(p, NULL, "arn:aws:bedrock:us-east-1::"
                         "foundation-model/" HAIKU), HAIKU);
    CHECK_STR(lookup_key(p, NULL, "arn:aws:bedrock:us-east-1:123456789012:"
                         "application-inference-profile/abcd1234"),
              "arn:aws:bedrock:us-east-1:123456789012:"
              "application-inference-profile/abcd1234");
    CHECK_STR(lookup_key(p, NULL, "arn:aws:bedrock:us-east-1:123456789012:"
                         "application-inference-profile/zzzz"), "*");
    CHECK_STR(lookup_key(p, NULL, "arn:aws:bedrock:us-east-1:123456789012:"
                         "inference-profile/us.anthropic.claude-3-opus"),
              "anthropic.claude-3-*");

    /* exact beats any glob, the longest glob wins */
    CHECK_STR(lookup_key(p, NULL, "amazon.nova-lite-v1:0"),
              "amazon.nova-lite-v1:0");
    CHECK_STR(lookup_key(p, NULL, "anthropic.claude-3-sonnet"),
              "anthropic.claude-3-*");
    CHECK_STR(lookup_key(p, NULL, "anthropic.claude-v2"),
              "anthropic.claude-*");
    CHECK_STR(lookup_key(p, NULL, "us.anthropic.claude-3-sonnet"),
              "anthropic.claude-3-*");      /* the stripped form, over "*" */
    CHECK_STR(lookup_key(p, NULL, "xyz"), "*");
    CHECK_STR(lookup_key(p, NULL, "meta.llama3-1-8b-instruct-v1:0"),
              "meta.llama3-?-8b*");         /* 17 bytes over 15 */
    CHECK_STR(lookup_key(p, NULL, "meta.llama3-1-70b"), "meta.llama3-1-*");

    /* a tie in length: the one matching the earlier form wins */
    CHECK_STR(lookup_key(p, NULL, "us.cohere.command-v1:0"),
              "us.cohere.*");
    CHECK_STR(lookup_key(p, NULL, "eu.cohere.command-v1:0"),
              "cohere.c*:0");

    /* region overrides, else the top level */
    CHECK_STR(lookup_region(p, "eu-central-1", HAIKU), "eu-central-1");
    CHECK_STR(lookup_region(p, "eu-central-1", "eu." HAIKU), "eu-central-1");
    CHECK_STR(lookup_key(p, "eu-central-1", "amazon.nova-lite-v1:0"),
              "amazon.*");                  /* a region's glob first */
    /* the region's entry of the model, before the top level's profile */
    CHECK_STR(lookup_region(p, "eu-central-1", HAIKU_US), "eu-central-1");
    CHECK_STR(lookup_key(p, "eu-central-1", HAIKU_US), HAIKU);
    CHECK_STR(lookup_region(p, "ap-south-1", HAIKU_US), "ap-south-1");
    CHECK_STR(lookup_region(p, "ap-south-1", HAIKU), "");
    CHECK_STR(lookup_region(p, "us-west-2", HAIKU), "");
    CHECK_STR(lookup_region(p, "sa-east-1", HAIKU), "");
    CHECK_STR(lookup_region(p, NULL, HAIKU), "");
    CHECK_STR(lookup_key(p, "eu-central-1", "xyz"), "*");

    CHECK(aigw_pricing_lookup(p, NULL, 0, NULL, 0) == NULL);
    CHECK(aigw_pricing_lookup(NULL, NULL, 0, S(HAIKU)) == NULL);

    aigw_pricing_free(p);

    /* without a catch-all: nothing */

    p = load("{\"models\": {\"" HAIKU "\": {\"input_per_1k\": 1},"
             " \"b?\": {\"input_per_1k\": 1}, \"b*\": {\"input_per_1k\": 1},"
             " \"x*\": {\"input_per_1k\": 1}, \"c*\": {\"input_per_1k\": 1}"
             "}}");
    if (CHECK(p != NULL)) {
        CHECK(lookup_key(p, NULL, "anthropic.claude-instant") == NULL);
        CHECK(lookup_key(p, NULL, "us.anthropic.claude-3-haiku-20240307-v2")
              == NULL);
        CHECK(lookup_key(p, NULL, "") == NULL);
        CHECK_STR(lookup_key(p, NULL, "bx"), "b?");  /* same length: file */
        CHECK_STR(lookup_key(p, NULL, "bxy"), "b*");
        CHECK_STR(lookup_key(p, NULL, "x"), "x*");
        aigw_pricing_free(p);
    }
}


/* --- images --------------------------------------------------------------- */


static void
test_images(void)
{
    aigw_pricing_t      *p;
    const aigw_price_t  *titan, *canvas, *dflt, *one, *lg, *multi;

    p = load(
        "{\"models\": {"
        "  \"titan\": {\"per_image\": {"
        "    \"512x512\": {\"standard\": 0.008, \"premium\": 0.01},"
        "    \"larger\": {\"standard\": 0.01, \"premium\": 0.012}}},"
        "  \"canvas\": {\"per_image\": {"
        "    \"1024x1024\": {\"standard\": 0.04, \"premium\": 0.06},"
        "    \"2048x2048\": {\"standard\": 0.06, \"premium\": 0.08}}},"
        "  \"dflt\": {\"per_image\": {"
        "    \"1024x1024\": {\"standard\": 0.04},"
        "    \"default\": {\"standard\": 0.05, \"premium\": 0.07}}},"
        "  \"one\": {\"per_image\": {\"1024x1024\": {\"premium\": 0.08}}},"
        "  \"lg\": {\"per_image\": {"
        "    \"larger\": {\"standard\": 0.2}, \"default\": {\"standard\": 0.1}"
        "  }},"
        "  \"multi\": {\"per_image\": {\"default\": {\"a\": 1, \"b\": 2}}}"
        "}}");

    if (!CHECK(p != NULL)) {
        fprintf(stderr, "    %s\n", err);
        return;
    }

    titan = aigw_pricing_lookup(p, NULL, 0, S("titan"));
    canvas = aigw_pricing_lookup(p, NULL, 0, S("canvas"));
    dflt = aigw_pricing_lookup(p, NULL, 0, S("dflt"));
    one = aigw_pricing_lookup(p, NULL, 0, S("one"));
    lg = aigw_pricing_lookup(p, NULL, 0, S("lg"));
    multi = aigw_pricing_lookup(p, NULL, 0, S("multi"));

    if (!CHECK(titan && canvas && dflt && one && lg && multi)) {
        aigw_pricing_free(p);
        return;
    }

    /* the exact size; smaller sizes at the smallest size above them */
    CHECK_EQ(image_price(titan, "512x512", "standard"), 8000000000LL);
    CHECK_EQ(image_price(titan, "512x512", "premium"), 10000000000LL);
    CHECK_EQ(image_price(titan, "512x512", NULL), 8000000000LL);
    CHECK_EQ(image_price(titan, "256x256", NULL), 8000000000LL);
    CHECK_EQ(image_price(titan, "384x640", "premium"), 10000000000LL);

    /* "larger": above every WxH key */
    CHECK_EQ(image_price(titan, "1024x1024", "premium"), 12000000000LL);
    CHECK_EQ(image_price(titan, "513x512", NULL), 10000000000LL);
    CHECK_EQ(image_price(titan, "768x1280", "standard"), 10000000000LL);

    /* an unknown quality; no size and no default */
    CHECK_EQ(image_price(titan, "1024x1024", "ultra"), -1);
    CHECK_EQ(image_price(titan, NULL, NULL), -1);
    CHECK_EQ(image_price(titan, "", "standard"), -1);
    CHECK_EQ(image_price(titan, "big", NULL), -1);

    CHECK_EQ(image_price(canvas, "1280x720", NULL), 40000000000LL);
    CHECK_EQ(image_price(canvas, "1024x1024", "premium"), 60000000000LL);
    CHECK_EQ(image_price(canvas, "2048x1152", "premium"), 80000000000LL);
    CHECK_EQ(image_price(canvas, "4096x4096", NULL), -1);  /* no larger */
    CHECK_EQ(image_price(canvas, NULL, NULL), -1);

    CHECK_EQ(image_price(dflt, "1024x1024", NULL), 40000000000LL);
    CHECK_EQ(image_price(dflt, "512x512", NULL), 40000000000LL);
    CHECK_EQ(image_price(dflt, "2048x2048", NULL), 50000000000LL);
    CHECK_EQ(image_price(dflt, "2048x2048", "premium"), 70000000000LL);
    CHECK_EQ(image_price(dflt, NULL, NULL), 50000000000LL);
    CHECK_EQ(image_price(dflt, NULL, "premium"), 70000000000LL);
    CHECK_EQ(image_price(dflt, "1024x1024", "premium"), -1);

    /* the only size, the only quality (when none is asked for) */
    CHECK_EQ(image_price(one, NULL, NULL), 80000000000LL);
    CHECK_EQ(image_price(one, "1024x1024", NULL), 80000000000LL);
    CHECK_EQ(image_price(one, "4096x4096", NULL), 80000000000LL);
    CHECK_EQ(image_price(one, NULL, "standard"), -1);

    /* "larger" with no WxH key: above 512x512 */
    CHECK_EQ(image_price(lg, "1024x1024", NULL), 200000000000LL);
    CHECK_EQ(image_price(lg, "512x512", NULL), 100000000000LL);
    CHECK_EQ(image_price(lg, NULL, NULL), 100000000000LL);

    /* several qualities, none "standard": only an explicit one */
    CHECK_EQ(image_price(multi, NULL, NULL), -1);
    CHECK_EQ(image_price(multi, NULL, "b"), 2000000000000LL);

    CHECK_EQ(image_price(aigw_pricing_lookup(p, NULL, 0, S("none")),
                         "512x512", NULL), -1);

    aigw_pricing_free(p);
}


/* --- cost ----------------------------------------------------------------- */


static void
test_cost_exact(void)
{
    aigw_cost_t          c;
    aigw_pricing_t      *p;
    aigw_cost_usage_t    u;
    const aigw_price_t  *e;

    p = load(spec_example);
    if (!CHECK(p != NULL)) {
        return;
    }

    e = aigw_pricing_lookup(p, NULL, 0, S("us." HAIKU));
    if (!CHECK(e != NULL)) {
        aigw_pricing_free(p);
        return;
    }

    /*
     * 10^12 tokens of each kind at the SPEC's Haiku prices:
     *   input  10^12 x 0.00025 / 1000     =  250000 USD
     *   output 10^12 x 0.00125 / 1000     = 1250000 USD
     *   cache  10^12 x (0.000025 + 0.0003125) / 1000 = 337500 USD
     *   total                               1837500 USD
     */

    memset(&u, 0, sizeof(u));
    u.input_tokens = 1000000000000ULL;
    u.output_tokens = 1000000000000ULL;
    u.cache_read_tokens = 1000000000000ULL;
    u.cache_write_tokens = 1000000000000ULL;

    CHECK_EQ(aigw_pricing_cost(e, &u, &c), 0);
    CHECK_STR(fmt(c.input), "250000.000000000");
    CHECK_STR(fmt(c.output), "1250000.000000000");
    CHECK_STR(fmt(c.cache), "337500.000000000");
    CHECK_STR(fmt(c.total), "1837500.000000000");
    CHECK_EQ(c.missing, 0);

    /*
     * 10^12 + 7 tokens: 250000.00000175 USD input (7 x 0.00025 / 1000 =
     * 0.00000175), 1250000.00000875 output, cache read 25000.000000175
     * (7 x 0.000025 / 1000 = 0.000000175, exact at the nano-dollar), cache
     * write 312500.0000021875 (7 x 0.0003125 / 1000 = 0.0000021875, i.e.
     * 2187.5 nano-dollars): cache 337500.0000023625 = 2362.5 nano over,
     * half up: 337500.000002363.
     */

    u.input_tokens = 1000000000007ULL;
    u.output_tokens = 1000000000007ULL;
    u.cache_read_tokens = 1000000000007ULL;
    u.cache_write_tokens = 1000000000007ULL;

    CHECK_EQ(aigw_pricing_cost(e, &u, &c), 0);
    CHECK_STR(fmt(c.input), "250000.000001750");
    CHECK_STR(fmt(c.output), "1250000.000008750");
    CHECK_STR(fmt(c.cache), "337500.000002363");
    CHECK_STR(fmt(c.total), "1837500.000012863");

    aigw_pricing_free(p);

    /*
     * every digit of a 12-decimal price: 0.123456789012 USD per 1K
     * x (10^12 + 7) tokens = 123456789012 x (10^12 + 7) femto-dollars
     * = 123456789012864197523084 fUSD = 123456789012864197.523084 nUSD,
     * half up: 123456789012864198 nUSD = 123456789.012864198 USD
     */

    p = load("{\"models\": {\"m\": {\"input_per_1k\": \"0.123456789012\","
             " \"output_per_1k\": 1e-12, \"cache_read_per_1k\": 1000000,"
             " \"cache_write_per_1k\": 0.1}}}");
    if (!CHECK(p != NULL)) {
        return;
    }

    e = aigw_pricing_lookup(p, NULL, 0, S("m"));

    memset(&u, 0, sizeof(u));
    u.input_tokens = 1000000000007ULL;
    u.output_tokens = 1000000000000ULL;
    CHECK_EQ(aigw_pricing_cost(e, &u, &c), 0);
    CHECK_STR(fmt(c.input), "123456789.012864198");
    /* 10^12 x 10^-12 USD / 1000 = 0.001 USD */
    CHECK_STR(fmt(c.output), "0.001000000");
    CHECK_STR(fmt(c.cache), "0.000000000");
    CHECK_STR(fmt(c.total), "123456789.013864198");

    /* 0.1 is not a binary fraction: 10^12 + 1 tokens x 0.1 / 1000 */
    memset(&u, 0, sizeof(u));
    u.cache_write_tokens = 1000000000001ULL;
    CHECK_EQ(aigw_pricing_cost(e, &u, &c), 0);
    CHECK_STR(fmt(c.cache), "100000000.000100000");

    /* the most expensive price: 10^12 tokens x 10^6 USD / 1000 = 10^15 */
    memset(&u, 0, sizeof(u));
    u.cache_read_tokens = 10000000ULL;
    CHECK_EQ(aigw_pricing_cost(e, &u, &c), 0);
    CHECK_STR(fmt(c.cache), "10000000000.000000000");

    /* beyond UINT64_MAX nano-dollars: an error, not a wrong number */
    u.cache_read_tokens = 1000000000000ULL;
    CHECK_EQ(aigw_pricing_cost(e, &u, &c), -1);
    u.cache_read_tokens = UINT64_MAX;
    CHECK_EQ(aigw_pricing_cost(e, &u, &c), -1);

    /* 18446744073.709551615 USD exactly fits */
    memset(&u, 0, sizeof(u));
    u.output_tokens = 18446744073709551615ULL;
    /* x 10^-12 USD / 1000: 18446.744073709551615 USD, half up */
    CHECK_EQ(aigw_pricing_cost(e, &u, &c), 0);
    CHECK_STR(fmt(c.output), "18446.744073710");

    aigw_pricing_free(p);
}


static void
test_cost_rounding(void)
{
    aigw_cost_t          c;
    aigw_pricing_t      *p;
    aigw_cost_usage_t    u;
    const aigw_price_t  *half, *below;

    /* 0.0000005 USD per 1K tokens: half a nano-dollar a token */

    p = load("{\"models\": {"
             "\"half\": {\"input_per_1k\": 0.0000005, \"output_per_1k\":"
             " 0.0000005, \"cache_read_per_1k\": 0.0000005,"
             " \"cache_write_per_1k\": 0.0000005},"
             "\"below\": {\"input_per_1k\": 0.000000499999,"
             " \"output_per_1k\": 0.000000000001}}}");
    if (!CHECK(p != NULL)) {
        return;
    }

    half = aigw_pricing_lookup(p, NULL, 0, S("half"));
    below = aigw_pricing_lookup(p, NULL, 0, S("below"));

    memset(&u, 0, sizeof(u));

    /* 0.5 rounds up; 1.5 to 2; 2.5 to 3 (half up, not to even) */
    u.input_tokens = 1;
    CHECK_EQ(aigw_pricing_cost(half, &u, &c), 0);
    CHECK_EQ(c.input, 1);
    u.input_tokens = 3;
    CHECK_EQ(aigw_pricing_cost(half, &u, &c), 0);
    CHECK_EQ(c.input, 2);
    u.input_tokens = 5;
    CHECK_EQ(aigw_pricing_cost(half, &u, &c), 0);
    CHECK_EQ(c.input, 3);
    u.input_tokens = 4;
    CHECK_EQ(aigw_pricing_cost(half, &u, &c), 0);
    CHECK_EQ(c.input, 2);

    /* just below half rounds down */
    u.input_tokens = 1;
    CHECK_EQ(aigw_pricing_cost(below, &u, &c), 0);
    CHECK_EQ(c.input, 0);
    CHECK_STR(fmt(c.total), "0.000000000");

    /* once per component: input 0.5 -> 1, output 0.5 -> 1, total 2 */
    u.input_tokens = 1;
    u.output_tokens = 1;
    CHECK_EQ(aigw_pricing_cost(half, &u, &c), 0);
    CHECK_EQ(c.input, 1);
    CHECK_EQ(c.output, 1);
    CHECK_EQ(c.total, 2);

    /* cache read and write are one component: 0.5 + 0.5 = 1 */
    memset(&u, 0, sizeof(u));
    u.cache_read_tokens = 1;
    u.cache_write_tokens = 1;
    CHECK_EQ(aigw_pricing_cost(half, &u, &c), 0);
    CHECK_EQ(c.cache, 1);
    CHECK_EQ(c.total, 1);

    /* 499999 + 1 pico-dollars x 1 token: 0.499999 + 0.000001 */
    memset(&u, 0, sizeof(u));
    u.input_tokens = 1;
    u.output_tokens = 1;
    CHECK_EQ(aigw_pricing_cost(below, &u, &c), 0);
    CHECK_EQ(c.input, 0);
    CHECK_EQ(c.output, 0);

    /* no usage, no cost, nothing missing */
    memset(&u, 0, sizeof(u));
    CHECK_EQ(aigw_pricing_cost(below, &u, &c), 0);
    CHECK(c.total == 0 && c.missing == 0);

    aigw_pricing_free(p);
}


static void
test_cost_missing_and_images(void)
{
    aigw_cost_t          c;
    aigw_pricing_t      *p;
    aigw_cost_usage_t    u;
    aigw_image_count_t   ic[3];
    const aigw_price_t  *titan, *text, *dflt;

    p = load("{\"models\": {"
             "\"titan\": {\"output_per_1k\": 0.001, \"per_image\": {"
             "  \"512x512\": {\"standard\": 0.008, \"premium\": 0.01},"
             "  \"larger\": {\"standard\": 0.01, \"premium\": 0.012}}},"
             "\"text\": {\"input_per_1k\": 0.003},"
             "\"dflt\": {\"per_image\": {\"default\": {\"standard\": 0.04},"
             "  \"1024x1024\": {\"premium\": 0.08}}}}}");
    if (!CHECK(p != NULL)) {
        fprintf(stderr, "    %s\n", err);
        return;
    }

    titan = aigw_pricing_lookup(p, NULL, 0, S("titan"));
    text = aigw_pricing_lookup(p, NULL, 0, S("text"));
    dflt = aigw_pricing_lookup(p, NULL, 0, S("dflt"));

    /* a text model with only an input price */

    memset(&u, 0, sizeof(u));
    u.input_tokens = 1000;
    u.output_tokens = 500;
    u.cache_read_tokens = 10;
    CHECK_EQ(aigw_pricing_cost(text, &u, &c), 0);
    CHECK_EQ(c.input, 3000000);
    CHECK_EQ(c.output, 0);
    CHECK_EQ(c.cache, 0);
    CHECK_EQ(c.total, 3000000);
    CHECK_EQ(c.missing, AIGW_PRICE_OUTPUT | AIGW_PRICE_CACHE_READ);
    CHECK(c.missing & AIGW_COST_OUTPUT_MISSING);
    CHECK(c.missing & AIGW_COST_CACHE_MISSING);
    CHECK(!(c.missing & AIGW_COST_INPUT_MISSING));

    /* no price at all */

    u.cache_write_tokens = 1;
    u.images = 2;
    CHECK_EQ(aigw_pricing_cost(NULL, &u, &c), 0);
    CHECK_EQ(c.missing, AIGW_PRICE_INPUT | AIGW_PRICE_OUTPUT
                        | AIGW_PRICE_CACHE_READ | AIGW_PRICE_CACHE_WRITE
                        | AIGW_PRICE_IMAGE);
    CHECK_EQ(c.total, 0);

    /*
     * images by size and quality: 3 x 512x512 standard (0.008) +
     * 2 x 1024x1024 premium (larger: 0.012) = 0.048 USD; plus 200 output
     * tokens x 0.001 / 1000 = 0.0002 USD: output 0.0482 USD.  The sixth
     * image has no size: titan has no default, it is missing.
     */

    memset(&u, 0, sizeof(u));
    ic[0].size.data = "512x512";
    ic[0].size.len = 7;
    ic[0].quality.data = "standard";
    ic[0].quality.len = 8;
    ic[0].count = 3;
    ic[1].size.data = "1024x1024";
    ic[1].size.len = 9;
    ic[1].quality.data = "premium";
    ic[1].quality.len = 7;
    ic[1].count = 2;
    ic[2].size.data = "";
    ic[2].size.len = 0;
    ic[2].quality.data = "";
    ic[2].quality.len = 0;
    ic[2].count = 0;

    u.output_tokens = 200;
    u.images = 5;
    u.image_counts = ic;
    u.nimage_counts = 3;

    CHECK_EQ(aigw_pricing_cost(titan, &u, &c), 0);
    CHECK_STR(fmt(c.output), "0.048200000");
    CHECK_STR(fmt(c.total), "0.048200000");
    CHECK_EQ(c.missing, 0);

    u.images = 6;
    CHECK_EQ(aigw_pricing_cost(titan, &u, &c), 0);
    CHECK_STR(fmt(c.output), "0.048200000");
    CHECK_EQ(c.missing, AIGW_PRICE_IMAGE);

    /* the details win when they count more than "images" */
    u.images = 1;
    CHECK_EQ(aigw_pricing_cost(titan, &u, &c), 0);
    CHECK_STR(fmt(c.output), "0.048200000");
    CHECK_EQ(c.missing, 0);

    /* an unknown quality is missing; the rest is counted */
    ic[1].quality.data = "ultra";
    ic[1].quality.len = 5;
    u.images = 5;
    CHECK_EQ(aigw_pricing_cost(titan, &u, &c), 0);
    CHECK_STR(fmt(c.output), "0.024200000");
    CHECK_EQ(c.missing, AIGW_PRICE_IMAGE);

    /* images without details at the default price */
    memset(&u, 0, sizeof(u));
    u.images = 3;
    CHECK_EQ(aigw_pricing_cost(dflt, &u, &c), 0);
    CHECK_STR(fmt(c.output), "0.120000000");
    CHECK_EQ(c.missing, 0);

    /* 10^12 images at 0.04: 4 x 10^10 USD, beyond 18.4 x 10^9: an error */
    u.images = 1000000000000ULL;
    CHECK_EQ(aigw_pricing_cost(dflt, &u, &c), -1);
    u.images = 100000000000ULL;                     /* 10^11: 4 x 10^9 */
    CHECK_EQ(aigw_pricing_cost(dflt, &u, &c), 0);
    CHECK_STR(fmt(c.output), "4000000000.000000000");
    u.images = UINT64_MAX;
    CHECK_EQ(aigw_pricing_cost(dflt, &u, &c), -1);

    aigw_pricing_free(p);
}


static void
test_format(void)
{
    char  buf[AIGW_COST_LEN];

    CHECK_EQ_SIZE(aigw_cost_format(0, buf), 11);
    CHECK_STR(buf, "0.000000000");
    aigw_cost_format(1, buf);
    CHECK_STR(buf, "0.000000001");
    aigw_cost_format(999999999, buf);
    CHECK_STR(buf, "0.999999999");
    aigw_cost_format(1000000000, buf);
    CHECK_STR(buf, "1.000000000");
    aigw_cost_format(1234567890, buf);
    CHECK_STR(buf, "1.234567890");
    aigw_cost_format(12345678901ULL, buf);
    CHECK_STR(buf, "12.345678901");
    CHECK_EQ_SIZE(aigw_cost_format(UINT64_MAX, buf), 21);
    CHECK_STR(buf, "18446744073.709551615");
}


/* --- CSV ------------------------------------------------------------------ */


static void
check_field(const char *in, const char *want, int line)
{
    char    buf[256];
    size_t  n, m;

    n = aigw_csv_field(NULL, in, strlen(in));
    m = aigw_csv_field(buf, in, strlen(in));

    unit_check_size(n, m, __FILE__, line, "length", "written");
    unit_check_mem(buf, m, want, strlen(want), __FILE__, line, "field",
                   "expected");
}

#define FIELD(in, want)  check_field(in, want, __LINE__)


static void
test_csv(void)
{
    size_t       i, commas;
    const char  *h;

    FIELD("", "");
    FIELD("team-a", "team-a");
    FIELD(HAIKU, HAIKU);
    FIELD("arn:aws:bedrock:us-east-1:123456789012:inference-profile/x",
          "arn:aws:bedrock:us-east-1:123456789012:inference-profile/x");
    FIELD("R&D", "R&D");
    FIELD("\xc3\x89quipe donn\xc3\xa9""es", "\xc3\x89quipe donn\xc3\xa9""es");
    FIELD("a b", "a b");
    FIELD("sales, EMEA", "\"sales, EMEA\"");
    FIELD(",", "\",\"");
    FIELD("say \"hi\"", "\"say \"\"hi\"\"\"");
    FIELD("\"", "\"\"\"\"");
    FIELD("line1\nline2", "\"line1\nline2\"");
    FIELD("cr\r", "\"cr\r\"");
    FIELD("a,\"b\"\r\n", "\"a,\"\"b\"\"\r\n\"");
    FIELD("'single'", "'single'");

    CHECK_EQ(aigw_csv_needs_quotes(S("plain")), 0);
    CHECK_EQ(aigw_csv_needs_quotes(S("a,b")), 1);

    h = AIGW_CSV_HEADER;
    commas = 0;

    for (i = 0; h[i]; i++) {
        commas += (h[i] == ',');
    }

    CHECK_EQ_SIZE(commas + 1, AIGW_CSV_COLUMNS);
    CHECK(strncmp(h, "date,team_id,project,department,model_id,", 41) == 0);
    CHECK(strcmp(h + strlen(h) - 11, ",total_cost") == 0);
}


/* --- many models ---------------------------------------------------------- */


static void
test_many(void)
{
    char                *buf, key[64];
    size_t               i, n, size;
    aigw_pricing_t      *p;
    const aigw_price_t  *e;

    size = 10000 * 80 + 64;
    buf = malloc(size);
    if (buf == NULL) {
        CHECK(0);
        return;
    }

    n = snprintf(buf, size, "{\"models\": {");

    for (i = 0; i < 10000; i++) {
        n += snprintf(buf + n, size - n, "%s\"provider.model-%zu-v1:0\": "
                      "{\"input_per_1k\": \"0.%09zu\"}", i ? "," : "", i,
                      i + 1);
    }

    n += snprintf(buf + n, size - n, ", \"provider.*\": {\"input_per_1k\":"
                  " 9}}}");

    p = aigw_pricing_parse(buf, n, err, sizeof(err));
    free(buf);

    if (!CHECK(p != NULL)) {
        fprintf(stderr, "    %s\n", err);
        return;
    }

    CHECK_EQ_SIZE(aigw_pricing_count(p), 10001);

    for (i = 0; i < 10000; i += 999) {
        snprintf(key, sizeof(key), "us.provider.model-%zu-v1:0", i);
        e = aigw_pricing_lookup(p, NULL, 0, key, strlen(key));
        CHECK(e != NULL && e->input_pico == (i + 1) * 1000);
    }

    CHECK_STR(lookup_key(p, NULL, "provider.other"), "provider.*");

    aigw_pricing_free(p);
}


int
main(void)
{
    test_price_parse();
    test_parse_errors();
    test_parse_digits();
    test_parse_ok();
    test_forms();
    test_lookup();
    test_images();
    test_cost_exact();
    test_cost_rounding();
    test_cost_missing_and_images();
    test_format();
    test_csv();
    test_many();

    return unit_done("test_pricing");
}
