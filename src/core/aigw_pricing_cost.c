
/*
 * aigw: the cost of a usage at a price, in exact 128-bit integer
 * arithmetic, and amounts as decimal text (see "Cost" in
 * aigw_pricing.h).
 */


#include <stdio.h>
#include <string.h>

#include "aigw_pricing.h"


typedef unsigned __int128  aigw_u128_t;


static int aigw_cost_tokens(const aigw_price_t *price,
    const aigw_cost_usage_t *u, unsigned bit, aigw_u128_t *acc,
    aigw_cost_t *cost);
static int aigw_femto_add(aigw_u128_t *acc, uint64_t n, uint64_t pico,
    uint64_t mult);
static int aigw_femto_nano(aigw_u128_t femto, uint64_t *nano);


int
aigw_pricing_cost(const aigw_price_t *price, const aigw_cost_usage_t *u,
    aigw_cost_t *cost)
{
    size_t                     i;
    uint64_t                   pico, detailed;
    aigw_u128_t                in, out, cache;
    const aigw_image_count_t  *ic;

    memset(cost, 0, sizeof(aigw_cost_t));

    in = 0;
    out = 0;
    cache = 0;

    if (aigw_cost_tokens(price, u, AIGW_PRICE_INPUT, &in, cost) != 0
        || aigw_cost_tokens(price, u, AIGW_PRICE_OUTPUT, &out, cost) != 0
        || aigw_cost_tokens(price, u, AIGW_PRICE_CACHE_READ, &cache, cost)
           != 0
        || aigw_cost_tokens(price, u, AIGW_PRICE_CACHE_WRITE, &cache, cost)
           != 0)
    {
        return -1;
    }

    /* images: pico-dollars per image, 1000 femto-dollars a pico-dollar */

    detailed = 0;

    for (i = 0; i < u->nimage_counts; i++) {
        ic = &u->image_counts[i];

        if (ic->count == 0) {
            continue;
        }

        detailed = (detailed > UINT64_MAX - ic->count) ? UINT64_MAX
                                                       : detailed + ic->count;

        if (aigw_price_image(price, ic->size.data, ic->size.len,
                             ic->quality.data, ic->quality.len, &pico)
            != 0)
        {
            cost->missing |= AIGW_PRICE_IMAGE;
            continue;
        }

        if (aigw_femto_add(&out, ic->count, pico, 1000) != 0) {
            return -1;
        }
    }

    if (u->images > detailed) {
        if (aigw_price_image(price, NULL, 0, NULL, 0, &pico) != 0) {
            cost->missing |= AIGW_PRICE_IMAGE;

        } else if (aigw_femto_add(&out, u->images - detailed, pico, 1000)
                   != 0)
        {
            return -1;
        }
    }

    if (aigw_femto_nano(in, &cost->input) != 0
        || aigw_femto_nano(out, &cost->output) != 0
        || aigw_femto_nano(cache, &cost->cache) != 0)
    {
        return -1;
    }

    if (cost->input > UINT64_MAX - cost->output
        || cost->input + cost->output > UINT64_MAX - cost->cache)
    {
        return -1;
    }

    cost->total = cost->input + cost->output + cost->cache;

    return 0;
}


/* the tokens of one price ("bit"): added to "acc", or the price missing */

static int
aigw_cost_tokens(const aigw_price_t *price, const aigw_cost_usage_t *u,
    unsigned bit, aigw_u128_t *acc, aigw_cost_t *cost)
{
    uint64_t  n, pico;

    switch (bit) {

    case AIGW_PRICE_INPUT:
        n = u->input_tokens;
        pico = price ? price->input_pico : 0;
        break;

    case AIGW_PRICE_OUTPUT:
        n = u->output_tokens;
        pico = price ? price->output_pico : 0;
        break;

    case AIGW_PRICE_CACHE_READ:
        n = u->cache_read_tokens;
        pico = price ? price->cache_read_pico : 0;
        break;

    default: /* AIGW_PRICE_CACHE_WRITE */
        n = u->cache_write_tokens;
        pico = price ? price->cache_write_pico : 0;
        break;
    }

    if (n == 0) {
        return 0;
    }

    if (price == NULL || !(price->has & bit)) {
        cost->missing |= bit;
        return 0;
    }

    return aigw_femto_add(acc, n, pico, 1);
}


static int
aigw_femto_add(aigw_u128_t *acc, uint64_t n, uint64_t pico, uint64_t mult)
{
    aigw_u128_t  v;

    if (__builtin_mul_overflow((aigw_u128_t) n, (aigw_u128_t) pico, &v)
        || __builtin_mul_overflow(v, (aigw_u128_t) mult, &v)
        || __builtin_add_overflow(*acc, v, acc))
    {
        return -1;
    }

    return 0;
}


/* femto-dollars to nano-dollars, half up */

static int
aigw_femto_nano(aigw_u128_t femto, uint64_t *nano)
{
    aigw_u128_t  v;

    if (femto > ~(aigw_u128_t) 0 - 500000) {
        return -1;
    }

    v = (femto + 500000) / 1000000;

    if (v > UINT64_MAX) {
        return -1;
    }

    *nano = (uint64_t) v;

    return 0;
}


size_t
aigw_cost_format(uint64_t nanousd, char *buf)
{
    return (size_t) snprintf(buf, AIGW_COST_LEN, "%llu.%09llu",
                             (unsigned long long) (nanousd / 1000000000ULL),
                             (unsigned long long) (nanousd % 1000000000ULL));
}


size_t
aigw_price_format(uint64_t pico, char *buf)
{
    int     n;
    char    frac[16];

    n = snprintf(frac, sizeof(frac), "%012llu",
                 (unsigned long long) (pico % AIGW_PICO_PER_USD));

    while (n > 1 && frac[n - 1] == '0') {
        frac[--n] = '\0';
    }

    return (size_t) snprintf(buf, AIGW_COST_LEN, "%llu.%s",
                             (unsigned long long) (pico / AIGW_PICO_PER_USD),
                             frac);
}
