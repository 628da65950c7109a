
/*
 * aigw: finding a price in a loaded pricing file: a model's entry (its
 * forms, the exact keys, then the globs), and an image's price by size
 * and quality (see "Lookup" and "Images" in aigw_pricing.h).
 */


#include <stdlib.h>
#include <string.h>

#include "aigw_pricing_int.h"
#include "aigw_util.h"


#define AIGW_IMAGE_BASE_AREA     (512ULL * 512ULL)


static const aigw_price_t *aigw_scope_lookup(const aigw_price_scope_t *scope,
    const aigw_str_t *forms, size_t nforms);
static int aigw_image_quality(const aigw_price_t *price, const char *size,
    size_t size_len, const char *quality, size_t quality_len,
    uint64_t *pico);


const aigw_price_t *
aigw_pricing_lookup(const aigw_pricing_t *p, const char *region,
    size_t region_len, const char *model, size_t len)
{
    size_t                     nforms;
    aigw_str_t                 forms[3], id;
    aigw_price_scope_t         key;
    const aigw_price_t        *found;
    const aigw_price_scope_t  *scope;

    if (p == NULL || model == NULL || len == 0) {
        return NULL;
    }

    forms[0].data = model;
    forms[0].len = len;
    nforms = 1;
    id = forms[0];

    if (aigw_pricing_arn_model(model, len, &id)) {
        forms[nforms++] = id;
    }

    if (aigw_pricing_strip_prefix(id.data, id.len, &forms[nforms])) {
        nforms++;
    }

    if (region && region_len && p->nregions) {
        memset(&key, 0, sizeof(aigw_price_scope_t));
        key.name.data = region;
        key.name.len = region_len;

        scope = bsearch(&key, p->regions, p->nregions,
                        sizeof(aigw_price_scope_t), aigw_pricing_region_cmp);

        if (scope) {
            found = aigw_scope_lookup(scope, forms, nforms);
            if (found) {
                return found;
            }
        }
    }

    return aigw_scope_lookup(&p->top, forms, nforms);
}


static const aigw_price_t *
aigw_scope_lookup(const aigw_price_scope_t *scope, const aigw_str_t *forms,
    size_t nforms)
{
    size_t         i, j, lo, hi, mid, best_form;
    int            c;
    aigw_price_t  *e, *best;

    for (i = 0; i < nforms; i++) {
        lo = 0;
        hi = scope->nexact;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;
            e = scope->exact[mid];

            c = aigw_pricing_str_cmp(forms[i].data, forms[i].len, e->key.data,
                             e->key.len);

            if (c == 0) {
                return e;
            }

            if (c < 0) {
                hi = mid;

            } else {
                lo = mid + 1;
            }
        }
    }

    /*
     * The globs are sorted longest first, then in file order: the first
     * glob to match any form has the longest pattern; among those of the
     * same length, the one matching the earliest form wins.
     */

    best = NULL;
    best_form = nforms;

    for (j = 0; j < scope->nglobs; j++) {
        e = scope->globs[j];

        if (best && e->key.len < best->key.len) {
            break;
        }

        for (i = 0; i < best_form; i++) {
            if (aigw_glob_match(e->key.data, e->key.len, forms[i].data,
                                forms[i].len))
            {
                best = e;
                best_form = i;
                break;
            }
        }
    }

    return best;
}


int
aigw_pricing_arn_model(const char *model, size_t len, aigw_str_t *out)
{
    size_t       i, colons, slash;
    const char  *res, *svc;
    size_t       svc_len, res_len;

    /* arn:PARTITION:bedrock:REGION:ACCOUNT:RESOURCE */

    if (len < 4 || memcmp(model, "arn:", 4) != 0) {
        return 0;
    }

    colons = 0;
    svc = NULL;
    svc_len = 0;
    res = NULL;

    for (i = 0; i < len; i++) {
        if (model[i] != ':') {
            continue;
        }

        colons++;

        if (colons == 2) {
            svc = model + i + 1;

        } else if (colons == 3) {
            svc_len = (size_t) (model + i - svc);

        } else if (colons == 5) {
            res = model + i + 1;
            break;
        }
    }

    if (res == NULL || svc_len != 7 || memcmp(svc, "bedrock", 7) != 0) {
        return 0;
    }

    res_len = len - (size_t) (res - model);

    for (slash = 0; slash < res_len && res[slash] != '/'; slash++) {
        /* void */
    }

    if (slash + 1 >= res_len) {
        return 0;
    }

    if (!((slash == 16 && memcmp(res, "foundation-model", 16) == 0)
          || (slash == 17 && memcmp(res, "inference-profile", 17) == 0)))
    {
        return 0;
    }

    out->data = res + slash + 1;
    out->len = res_len - slash - 1;

    return 1;
}


int
aigw_pricing_strip_prefix(const char *model, size_t len, aigw_str_t *out)
{
    size_t  i, j;

    for (i = 0; i < len && ((model[i] >= 'a' && model[i] <= 'z')
                            || model[i] == '-');
         i++)
    {
        /* void */
    }

    if (i < 2 || i > 16 || i >= len || model[i] != '.') {
        return 0;
    }

    /* the rest: [a-z0-9-]+ "." and at least one byte */

    for (j = i + 1; j < len && ((model[j] >= 'a' && model[j] <= 'z')
                                || (model[j] >= '0' && model[j] <= '9')
                                || model[j] == '-');
         j++)
    {
        /* void */
    }

    if (j == i + 1 || j + 1 >= len || model[j] != '.') {
        return 0;
    }

    out->data = model + i + 1;
    out->len = len - i - 1;

    return 1;
}


/* --- images --------------------------------------------------------------- */


int
aigw_price_image(const aigw_price_t *price, const char *size,
    size_t size_len, const char *quality, size_t quality_len,
    uint64_t *pico)
{
    size_t                     i, nsizes;
    uint64_t                   w, h, area, a, best_area, max_area;
    const aigw_str_t          *s, *best, *larger, *dflt, *only;
    const aigw_image_price_t  *ip;

    if (price == NULL || price->nimages == 0) {
        return -1;
    }

    /* the size keys, each once (a size's qualities are adjacent) */

    best = NULL;
    larger = NULL;
    dflt = NULL;
    only = NULL;
    nsizes = 0;
    best_area = 0;
    max_area = 0;

    if (size_len == 0 || aigw_pricing_size_parse(size, size_len, &w, &h) != 0) {
        area = 0;
        size_len = 0;

    } else {
        area = (w > UINT64_MAX / h) ? UINT64_MAX : w * h;
    }

    for (i = 0; i < price->nimages; i++) {
        ip = &price->images[i];

        if (i && ip->size.data == price->images[i - 1].size.data) {
            continue;
        }

        s = &ip->size;
        nsizes++;
        only = s;

        if (aigw_pricing_str_is(s, "larger", 6)) {
            larger = s;
            continue;
        }

        if (aigw_pricing_str_is(s, "default", 7)) {
            dflt = s;
            continue;
        }

        if (aigw_pricing_size_parse(s->data, s->len, &w, &h) != 0) {
            continue;
        }

        a = (w > UINT64_MAX / h) ? UINT64_MAX : w * h;

        if (a > max_area) {
            max_area = a;
        }

        if (size_len == 0) {
            continue;
        }

        if (aigw_pricing_str_is(s, size, size_len)) {
            return aigw_image_quality(price, s->data, s->len, quality,
                                      quality_len, pico);
        }

        if (a >= area && (best == NULL || a < best_area)) {
            best = s;
            best_area = a;
        }
    }

    if (size_len) {
        if (best) {
            return aigw_image_quality(price, best->data, best->len, quality,
                                      quality_len, pico);
        }

        if (larger
            && area > (max_area ? max_area : AIGW_IMAGE_BASE_AREA))
        {
            return aigw_image_quality(price, larger->data, larger->len,
                                      quality, quality_len, pico);
        }
    }

    if (dflt) {
        return aigw_image_quality(price, dflt->data, dflt->len, quality,
                                  quality_len, pico);
    }

    if (nsizes == 1) {
        return aigw_image_quality(price, only->data, only->len, quality,
                                  quality_len, pico);
    }

    return -1;
}


static int
aigw_image_quality(const aigw_price_t *price, const char *size,
    size_t size_len, const char *quality, size_t quality_len,
    uint64_t *pico)
{
    size_t                     i, n;
    const aigw_image_price_t  *ip, *single;

    if (quality_len == 0) {
        quality = "standard";
        quality_len = 8;
        n = 0;

    } else {
        n = 2;      /* given: no fallback to the only quality */
    }

    single = NULL;

    for (i = 0; i < price->nimages; i++) {
        ip = &price->images[i];

        if (ip->size.data != size || ip->size.len != size_len) {
            continue;
        }

        if (aigw_pricing_str_is(&ip->quality, quality, quality_len)) {
            *pico = ip->pico;
            return 0;
        }

        single = ip;
        n++;
    }

    if (n == 1) {
        *pico = single->pico;
        return 0;
    }

    return -1;
}


/* "WxH": two positive decimal integers of at most 9 digits each */

int
aigw_pricing_size_parse(const char *s, size_t len, uint64_t *w, uint64_t *h)
{
    size_t     i, d;
    uint64_t  *v;

    v = w;
    *w = 0;
    *h = 0;
    d = 0;

    for (i = 0; i < len; i++) {
        if (s[i] == 'x' && v == w && d) {
            v = h;
            d = 0;
            continue;
        }

        if (s[i] < '0' || s[i] > '9' || d == 9 || (d == 0 && s[i] == '0')) {
            return -1;
        }

        *v = *v * 10 + (uint64_t) (s[i] - '0');
        d++;
    }

    return (v == h && d) ? 0 : -1;
}
