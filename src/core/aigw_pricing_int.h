
/*
 * aigw: what the pricing files share (aigw_pricing_load.c builds the
 * scopes, aigw_pricing_lookup.c searches them).  Private to the core.
 */

#ifndef AIGW_PRICING_INT_H
#define AIGW_PRICING_INT_H


#include <string.h>

#include "aigw_pricing.h"


/* the top level, or a region: its entries and their indexes */
typedef struct {
    aigw_str_t        name;             /* "" for the top level */
    aigw_price_t     *entries;          /* file order */
    size_t            n;
    size_t            cap;
    aigw_price_t    **exact;            /* sorted by key */
    size_t            nexact;
    aigw_price_t    **globs;            /* longest first, then file order */
    size_t            nglobs;
} aigw_price_scope_t;


struct aigw_pricing_s {
    aigw_price_scope_t   top;
    aigw_price_scope_t  *regions;       /* sorted by name */
    size_t               nregions;
    size_t               cap;
};


/* "WxH": positive integers of at most 9 digits; 0, or -1 */
int aigw_pricing_size_parse(const char *s, size_t len, uint64_t *w,
    uint64_t *h);


/* bytes in memcmp() order, a prefix first */

static inline int
aigw_pricing_str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int  c;

    c = memcmp(a, b, alen < blen ? alen : blen);

    if (c) {
        return c;
    }

    return (alen < blen) ? -1 : (alen > blen);
}


/* scopes by name: qsort() and bsearch() */

static inline int
aigw_pricing_region_cmp(const void *a, const void *b)
{
    const aigw_price_scope_t  *x, *y;

    x = a;
    y = b;

    return aigw_pricing_str_cmp(x->name.data, x->name.len, y->name.data,
                                y->name.len);
}


static inline int
aigw_pricing_str_is(const aigw_str_t *str, const char *s, size_t len)
{
    return str->len == len && memcmp(str->data, s, len) == 0;
}


#endif /* AIGW_PRICING_INT_H */
