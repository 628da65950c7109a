
/*
 * aigw: the pricing file, price lookup and exact cost arithmetic.  No
 * nginx headers, no I/O: the caller reads the file (aigw_file_read())
 * and prefixes its path to the error messages.  The module
 * (aigw_pricing, $aigw_cost, cost_nanousd) and "aigw export" / "aigw
 * usage" share it.  aigw_pricing_load.c reads the file,
 * aigw_pricing_lookup.c finds prices, aigw_pricing_cost.c computes costs.
 *
 * The file (JSON):
 *
 *     {"currency": "USD",
 *      "models": {MODEL: PRICES, ...},
 *      "regions": {REGION: {"models": {MODEL: PRICES, ...}}, ...}}
 *
 *     PRICES: {"input_per_1k", "output_per_1k", "cache_read_per_1k",
 *              "cache_write_per_1k": PRICE,
 *              "per_image": {SIZE: {QUALITY: PRICE, ...}, ...}}
 *
 * "currency" is optional and must be "USD".  A PRICE is in US dollars: a
 * JSON number or a decimal string ("0.00025"), turned into an exact
 * decimal by aigw_decimal_json(): a JSON number of at most 15
 * significant digits is the decimal it reads as (exponents are fine,
 * "2.5e-05"); one of more digits than a double keeps is refused, and
 * such a price is written as a decimal string, plain digits with an
 * optional fraction, of any length ("0.000000001234567890").  A price
 * is non-negative, at most AIGW_PRICE_MAX_USD, with at most 12
 * decimal places (digits of value: "0.000250000000000" is fine), and is
 * kept as an integer number of pico-dollars (1e-12 USD).  Per-token
 * prices are per 1,000 tokens; "per_image" prices are per image.  A
 * PRICES object names at least one price.  SIZE is "WxH" (positive
 * integers, "512x512"), "larger" or "default"; QUALITY is
 * [A-Za-z0-9_-]{1,32} ("standard", "premium").  MODEL keys are model
 * IDs, ARNs or glob patterns ("*" any run of bytes, "?" one byte,
 * aigw_glob_match()) of at most AIGW_PRICING_KEY_MAX bytes; REGION is
 * [a-z0-9-]{1,32}.  Unknown fields and duplicate members are errors at
 * every level; the file is UTF-8 without NUL (jansson's rules).
 *
 * Lookup (aigw_pricing_lookup()).  The model as called is turned into up
 * to three forms, in this order:
 *
 *   1. the model as given;
 *   2. for a Bedrock ARN of a foundation model or a (system-defined,
 *      cross-region) inference profile, "arn:PARTITION:bedrock:REGION:
 *      ACCOUNT:foundation-model/ID" or ".../inference-profile/ID": its ID;
 *      application inference profiles, provisioned and custom models are
 *      opaque and have no such form;
 *   3. the ID (2, else 1) without its cross-region prefix: when it starts
 *      with 2 to 16 bytes of [a-z-] and a "." ("us.", "eu.", "apac.",
 *      "global.", "us-gov."), and the rest is itself a "provider.model"
 *      ID (a non-empty run of [a-z0-9-], a ".", then at least one byte),
 *      the rest: "us.anthropic.claude-3-haiku-20240307-v1:0" gives
 *      "anthropic.claude-3-haiku-20240307-v1:0", while
 *      "anthropic.claude-3-haiku-20240307-v1:0" (no second ".") and
 *      "amazon.nova-lite-v1:0" keep theirs.
 *
 * With a region that has a "regions" entry, that region's models are
 * searched first, then the top-level models; a region's entry replaces a
 * top-level one whole (its fields are not merged).  In each: the forms,
 * in order, against the exact (non-glob) keys; then the glob keys (those
 * with "*" or "?") against every form: of all the globs matching any
 * form, the longest pattern wins (the most specific), ties going to the
 * one matching an earlier form, then to the first in the file.  So
 * "anthropic.claude-3-haiku-*" prices "us.anthropic.claude-3-haiku-..."
 * and beats a catch-all "*".
 *
 * Images (aigw_price_image()): a size "WxH" picks
 *
 *   1. the size key "WxH" itself;
 *   2. else the "WxH" key of the smallest area >= W*H ("256x256" at the
 *      "512x512" price; ties: the first in the file);
 *   3. else "larger", when W*H exceeds the area of every "WxH" key (with
 *      none, when it exceeds 512*512);
 *   4. else "default"; else the only size key, if there is one.
 *
 * No size ("", or not "WxH") picks "default", else the only size key.
 * Then the quality: as given, else (none given) "standard"; when that is
 * absent and none was given, the size's only quality, if it has one.
 * An unknown quality given explicitly has no price.
 *
 * Cost (aigw_pricing_cost()).  Exact integer arithmetic: a component's
 * cost in femto-dollars (1e-15 USD) is the exact sum of tokens x
 * pico-dollars per 1K (and images x pico-dollars per image x 1000), in
 * 128-bit integers; it is then rounded to nano-dollars (1e-9 USD) half up
 * (0.5 nano-dollar and above rounds up), once per component:
 *
 *     input   input tokens
 *     output  output tokens, plus images
 *     cache   cache-read plus cache-write input tokens
 *
 * and the total is the sum of the three rounded components, so that a
 * CSV row adds up.  A component with usage but no price (the entry lacks
 * the field) is reported in "missing"; its cost is 0 and the total is
 * then only the sum of the components known.
 */

#ifndef AIGW_PRICING_H
#define AIGW_PRICING_H


#include <stddef.h>
#include <stdint.h>

#include "aigw_types.h"


#define AIGW_PICO_PER_USD        1000000000000ULL
#define AIGW_PRICE_MAX_USD       1000000ULL          /* per 1K or image */
#define AIGW_PRICE_MAX_PICO      (AIGW_PRICE_MAX_USD * AIGW_PICO_PER_USD)
#define AIGW_PRICE_DECIMALS      12

#define AIGW_PRICING_KEY_MAX     2048                /* a model key */
#define AIGW_PRICING_REGION_MAX  32
#define AIGW_PRICING_QUALITY_MAX 32
#define AIGW_PRICING_ERR_LEN     512                 /* enough for any */

/* "18446744073.709551615" and the NUL: aigw_cost_format() */
#define AIGW_COST_LEN            24

/* the prices an entry has (aigw_price_t.has); the ones lacking (missing) */
#define AIGW_PRICE_INPUT         0x01
#define AIGW_PRICE_OUTPUT        0x02
#define AIGW_PRICE_CACHE_READ    0x04
#define AIGW_PRICE_CACHE_WRITE   0x08
#define AIGW_PRICE_IMAGE         0x10

/* the components of aigw_cost_t a missing price leaves unknown */
#define AIGW_COST_INPUT_MISSING   AIGW_PRICE_INPUT
#define AIGW_COST_OUTPUT_MISSING  (AIGW_PRICE_OUTPUT | AIGW_PRICE_IMAGE)
#define AIGW_COST_CACHE_MISSING   (AIGW_PRICE_CACHE_READ                    \
                                   | AIGW_PRICE_CACHE_WRITE)


typedef struct aigw_pricing_s  aigw_pricing_t;


/* all strings are NUL-terminated as well (len excludes the NUL) */

typedef struct {
    aigw_str_t       size;              /* "512x512", "larger", "default" */
    aigw_str_t       quality;           /* "standard", "premium", ... */
    uint64_t         pico;              /* per image */
} aigw_image_price_t;


typedef struct {
    aigw_str_t            key;          /* as in the file */
    aigw_str_t            region;       /* "" for a top-level entry */
    unsigned              has;          /* AIGW_PRICE_* */
    unsigned              glob:1;       /* the key has "*" or "?" */

    /* pico-dollars per 1,000 tokens; 0 when not in "has" */
    uint64_t              input_pico;
    uint64_t              output_pico;
    uint64_t              cache_read_pico;
    uint64_t              cache_write_pico;

    aigw_image_price_t   *images;       /* file order; NULL if none */
    size_t                nimages;
} aigw_price_t;


/* images of one size and quality */
typedef struct {
    aigw_str_t            size;         /* "1024x1024"; len 0: unknown */
    aigw_str_t            quality;      /* len 0: not given ("standard") */
    uint64_t              count;
} aigw_image_count_t;


typedef struct {
    uint64_t                   input_tokens;
    uint64_t                   output_tokens;
    uint64_t                   cache_read_tokens;
    uint64_t                   cache_write_tokens;

    /*
     * "images" is the number of images made; "image_counts" details some
     * or all of them by size and quality.  The images not detailed
     * (images minus the sum of the counts, if positive) are priced with
     * no size and no quality given (the "default" price).
     */
    uint64_t                   images;
    const aigw_image_count_t  *image_counts;
    size_t                     nimage_counts;
} aigw_cost_usage_t;


/* nano-dollars (1e-9 USD) */
typedef struct {
    uint64_t              input;
    uint64_t              output;
    uint64_t              cache;
    uint64_t              total;        /* input + output + cache */
    unsigned              missing;      /* AIGW_PRICE_*: usage, no price */
} aigw_cost_t;


/*
 * Parses and validates the text of a pricing file.  Returns NULL on
 * error, with a message in "err" (NUL-terminated, truncated to
 * "err_size"; AIGW_PRICING_ERR_LEN is always enough) naming the region,
 * the model and the field:
 *
 *     model "anthropic.claude-3-haiku-20240307-v1:0": input_per_1k:
 *         more than 12 decimal places
 *     region "eu-central-1": model "x": unknown field "inptu_per_1k"
 *         (expected input_per_1k, ...)
 *
 * or the line and column of a JSON syntax error or of a duplicate member,
 * with jansson's message ("duplicate object key near '"m"'").  A number
 * is shown as the decimal it reads as ("1e-13").  The result holds no
 * reference to "text", is read-only, and can be shared by processes
 * forked after the load.
 */
aigw_pricing_t *aigw_pricing_parse(const char *text, size_t len, char *err,
    size_t err_size);

/* frees everything aigw_pricing_parse() allocated; NULL is fine */
void aigw_pricing_free(aigw_pricing_t *p);

/* the number of entries (models of every region included) */
size_t aigw_pricing_count(const aigw_pricing_t *p);

/*
 * The price of a model (see "Lookup" above): "region" NULL or len 0
 * looks at the top level only.  NULL when nothing matches.
 */
const aigw_price_t *aigw_pricing_lookup(const aigw_pricing_t *p,
    const char *region, size_t region_len, const char *model, size_t len);

/*
 * The forms 2 and 3 of "Lookup": the model ID inside a Bedrock
 * foundation-model or inference-profile ARN, and an ID without its
 * cross-region prefix.  Each returns 1 and the part of "model" in "*out",
 * or 0 when the rule does not apply.
 */
int aigw_pricing_arn_model(const char *model, size_t len, aigw_str_t *out);
int aigw_pricing_strip_prefix(const char *model, size_t len,
    aigw_str_t *out);

/*
 * The per-image price for a size ("WxH") and a quality (see "Images"
 * above); len 0 for either when not known.  Returns 0 and "*pico", or -1
 * when the entry has no price that applies.
 */
int aigw_price_image(const aigw_price_t *price, const char *size,
    size_t size_len, const char *quality, size_t quality_len,
    uint64_t *pico);

/*
 * The cost of a usage at a price (see "Cost" above).  "price" NULL: every
 * component with usage is missing.  Returns 0, or -1 when a cost exceeds
 * UINT64_MAX nano-dollars (over 18 billion USD).
 */
int aigw_pricing_cost(const aigw_price_t *price, const aigw_cost_usage_t *u,
    aigw_cost_t *cost);

/*
 * Nano-dollars as a decimal amount of USD with 9 decimals: 1234567890
 * gives "1.234567890", 0 gives "0.000000000".  Writes a NUL-terminated
 * string into "buf" (AIGW_COST_LEN bytes) and returns its length.
 */
size_t aigw_cost_format(uint64_t nanousd, char *buf);

/*
 * A price (pico-dollars) as a decimal amount of USD with the fewest
 * decimals that keep it exact (at least one): 250000000 gives "0.00025".
 * Writes a NUL-terminated string into "buf" (AIGW_COST_LEN bytes)
 * and returns its length.
 */
size_t aigw_price_format(uint64_t pico, char *buf);

/*
 * A decimal amount of USD as pico-dollars, exactly (the pricing file's
 * rule): the text of a JSON number ("0.00025", "2.5e-05") with "json"
 * set, else a decimal string ("0.00025").  Returns 0, or -1 with a
 * static reason in "*reason" (malformed, negative, more than 12 decimal
 * places, too large).
 */
int aigw_price_parse(const char *p, size_t len, int json, uint64_t *pico,
    const char **reason);


#endif /* AIGW_PRICING_H */
