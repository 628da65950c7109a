
/*
 * aigw: the pricing file parser, then what counting asks of its result.
 * Input: 8 bytes of token counts (4 x 2 bytes, scaled), a region, a
 * model, an image size and quality, each up to a NUL byte, then the
 * file's text.  Checked: an error comes with a NUL-terminated message;
 * lookups and costs of the usage; a price read from any text formats
 * and reads back to itself; costs format as "N.NNNNNNNNN".
 */

#include "fuzz.h"
#include "aigw_pricing.h"


static void
check_price_text(const char *p, size_t len)
{
    int          json;
    char         buf[AIGW_COST_LEN];
    size_t       n;
    uint64_t     pico, back;
    const char  *reason;

    for (json = 0; json <= 1; json++) {
        reason = NULL;

        if (aigw_price_parse(p, len, json, &pico, &reason) != 0) {
            FUZZ_CHECK(reason != NULL);
            continue;
        }

        n = aigw_price_format(pico, buf);
        FUZZ_CHECK(n == strlen(buf) && n < AIGW_COST_LEN);
        FUZZ_CHECK(aigw_price_parse(buf, n, 0, &back, &reason) == 0);
        FUZZ_CHECK(back == pico);
        FUZZ_CHECK(aigw_price_parse(buf, n, 1, &back, &reason) == 0);
        FUZZ_CHECK(back == pico);
    }
}


static void
check_cost(uint64_t nano)
{
    char    buf[AIGW_COST_LEN];
    size_t  n;

    n = aigw_cost_format(nano, buf);
    FUZZ_CHECK(n == strlen(buf) && n < AIGW_COST_LEN);
    FUZZ_CHECK(n >= 11 && buf[n - 10] == '.');
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                 err[AIGW_PRICING_ERR_LEN], *text;
    size_t               i, region_len, model_len, size_len, quality_len;
    uint64_t             pico;
    fuzz_in_t            in;
    aigw_str_t           part;
    aigw_cost_t          cost;
    const char          *region, *model, *isize, *quality;
    aigw_pricing_t      *pr;
    aigw_image_count_t   ic;
    aigw_cost_usage_t    u;
    const aigw_price_t  *price;

    in.p = data;
    in.len = size;

    memset(&u, 0, sizeof(u));
    u.input_tokens = fuzz_u64(&in, 2) << (fuzz_byte(&in) % 48);
    u.output_tokens = fuzz_u64(&in, 2) << (fuzz_byte(&in) % 48);
    u.cache_read_tokens = fuzz_u64(&in, 2);
    u.cache_write_tokens = fuzz_u64(&in, 2);
    u.images = fuzz_byte(&in);

    region_len = fuzz_field(&in, 0, &region);
    model_len = fuzz_field(&in, 0, &model);
    size_len = fuzz_field(&in, 0, &isize);
    quality_len = fuzz_field(&in, 0, &quality);

    ic.size.data = isize;
    ic.size.len = size_len;
    ic.quality.data = quality;
    ic.quality.len = quality_len;
    ic.count = u.images / 2;
    u.image_counts = &ic;
    u.nimage_counts = 1;

    text = malloc(in.len ? in.len : 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, in.p, in.len);

    pr = aigw_pricing_parse(text, in.len, err, sizeof(err));

    if (pr == NULL) {
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        FUZZ_CHECK(strlen(err) > 0);
    }

    /* the result holds no reference to the text */
    memset(text, 0, in.len);
    free(text);

    if (pr) {
        (void) aigw_pricing_count(pr);
    }

    price = aigw_pricing_lookup(pr, region, region_len, model, model_len);

    if (aigw_pricing_cost(price, &u, &cost) == 0) {
        check_cost(cost.input);
        check_cost(cost.output);
        check_cost(cost.cache);
        check_cost(cost.total);
        FUZZ_CHECK(cost.total >= cost.input);
    }

    if (price) {
        (void) aigw_price_image(price, isize, size_len, quality, quality_len,
                                &pico);

        /* a "WxH" size key and its quality price themselves ("larger"
           and "default" are not sizes one asks for) */
        for (i = 0; i < price->nimages; i++) {
            if (price->images[i].size.len == 0
                || price->images[i].size.data[0] < '1'
                || price->images[i].size.data[0] > '9')
            {
                continue;
            }

            FUZZ_CHECK(aigw_price_image(price, price->images[i].size.data,
                                        price->images[i].size.len,
                                        price->images[i].quality.data,
                                        price->images[i].quality.len,
                                        &pico) == 0);
        }
    }

    if (aigw_pricing_arn_model(model, model_len, &part)) {
        FUZZ_CHECK(part.data >= model
                   && part.data + part.len <= model + model_len);
    }

    if (aigw_pricing_strip_prefix(model, model_len, &part)) {
        FUZZ_CHECK(part.data >= model
                   && part.data + part.len <= model + model_len);
    }

    check_price_text(isize, size_len);
    check_price_text(quality, quality_len);

    aigw_pricing_free(pr);

    return 0;
}
