
/*
 * aigw: the pricing file, price lookup and exact cost arithmetic (see
 * aigw_pricing.h).
 *
 * The file is read by a small strict JSON parser of its own, driven by
 * the file's schema: numbers stay decimal text until aigw_price_parse()
 * turns them into integers, and keys of any length (ARNs) are kept
 * whole.  Then every scope (the top level, each region) gets an index of
 * its exact keys, sorted for binary search, and a list of its glob keys,
 * longest first.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aigw_decimal.h"
#include "aigw_pricing.h"
#include "aigw_util.h"


#define AIGW_PRICING_KEY_SHOW    96     /* bytes of a key in a message */
#define AIGW_IMAGE_BASE_AREA     (512ULL * 512ULL)


typedef unsigned __int128  aigw_u128_t;


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


typedef struct {
    const char          *text;
    size_t               len;
    size_t               pos;
    unsigned             line;
    size_t               line_start;
    char                *err;
    size_t               err_size;
    int                  failed;

    /* where we are, for messages: 'region "r": model "m": ' */
    char                 where[3 * AIGW_PRICING_KEY_SHOW + 64];

    aigw_pricing_t      *pricing;
} aigw_pparse_t;


static int aigw_pricing_top(aigw_pparse_t *pp);
static int aigw_pricing_currency(aigw_pparse_t *pp);
static int aigw_pricing_regions(aigw_pparse_t *pp);
static int aigw_pricing_models(aigw_pparse_t *pp, aigw_price_scope_t *scope);
static int aigw_pricing_entry(aigw_pparse_t *pp, aigw_price_t *e);
static int aigw_pricing_images(aigw_pparse_t *pp, aigw_price_t *e);
static int aigw_pricing_qualities(aigw_pparse_t *pp, aigw_price_t *e,
    const char *size, size_t size_len, size_t *cap);
static int aigw_pricing_price(aigw_pparse_t *pp, const char *field,
    uint64_t *pico);
static int aigw_pricing_index(aigw_pparse_t *pp, aigw_price_scope_t *scope);
static int aigw_pricing_dup(aigw_pparse_t *pp, aigw_price_scope_t *scope,
    aigw_price_t **v, size_t n);
static void aigw_pricing_scope_free(aigw_price_scope_t *scope);

static void aigw_pp_ws(aigw_pparse_t *pp);
static int aigw_pp_peek(aigw_pparse_t *pp);
static int aigw_pp_expect(aigw_pparse_t *pp, char c, const char *what);
static int aigw_pp_object_next(aigw_pparse_t *pp, int first, char **key,
    size_t *key_len);
static int aigw_pp_string(aigw_pparse_t *pp, char **out, size_t *out_len);
static int aigw_pp_number(aigw_pparse_t *pp, const char **p, size_t *len);
static size_t aigw_pp_digits(aigw_pparse_t *pp);
static int aigw_pp_hex4(aigw_pparse_t *pp, uint32_t *cp);
static int aigw_pp_field(aigw_pparse_t *pp, char *key, size_t key_len,
    const char *const *names, const char *expected, unsigned *seen);
static void *aigw_pp_grow(aigw_pparse_t *pp, void *array, size_t n,
    size_t *cap, size_t size, size_t first);
static void aigw_pp_syntax(aigw_pparse_t *pp, const char *what);
static void aigw_pp_error(aigw_pparse_t *pp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void aigw_pp_show(char *buf, size_t size, const char *s, size_t len);
static size_t aigw_pp_where_push(aigw_pparse_t *pp, const char *kind,
    const char *name, size_t len);

static int aigw_price_cmp(const void *a, const void *b);
static int aigw_glob_cmp(const void *a, const void *b);
static int aigw_region_cmp(const void *a, const void *b);
static int aigw_str_cmp(const char *a, size_t alen, const char *b,
    size_t blen);
static int aigw_str_is(const aigw_str_t *str, const char *s, size_t len);
static int aigw_is_glob(const char *s, size_t len);
static const aigw_price_t *aigw_scope_lookup(const aigw_price_scope_t *scope,
    const aigw_str_t *forms, size_t nforms);
static int aigw_size_parse(const char *s, size_t len, uint64_t *w,
    uint64_t *h);
static int aigw_image_quality(const aigw_price_t *price, const char *size,
    size_t size_len, const char *quality, size_t quality_len,
    uint64_t *pico);
static int aigw_cost_tokens(const aigw_price_t *price,
    const aigw_cost_usage_t *u, unsigned bit, aigw_u128_t *acc,
    aigw_cost_t *cost);
static int aigw_femto_add(aigw_u128_t *acc, uint64_t n, uint64_t pico,
    uint64_t mult);
static int aigw_femto_nano(aigw_u128_t femto, uint64_t *nano);


static const char  *const aigw_pricing_top_fields[] = {
    "currency", "models", "regions", NULL
};

static const char  *const aigw_pricing_region_fields[] = {
    "models", NULL
};

/* an entry's fields: the bit of each in "has" is its AIGW_PRICE_* */

static const char  *const aigw_price_names[] = {
    "input_per_1k", "output_per_1k", "cache_read_per_1k",
    "cache_write_per_1k", "per_image", NULL
};

static const char  aigw_price_fields[] =
    "input_per_1k, output_per_1k, cache_read_per_1k, cache_write_per_1k,"
    " per_image";


/* --- parsing -------------------------------------------------------------- */


aigw_pricing_t *
aigw_pricing_parse(const char *text, size_t len, char *err, size_t err_size)
{
    size_t          i;
    aigw_pparse_t   pp;
    aigw_pricing_t *p;

    if (err_size) {
        err[0] = '\0';
    }

    p = calloc(1, sizeof(aigw_pricing_t));
    if (p == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }

    p->top.name.data = "";

    memset(&pp, 0, sizeof(aigw_pparse_t));
    pp.text = text ? text : "";
    pp.len = text ? len : 0;
    pp.line = 1;
    pp.err = err;
    pp.err_size = err_size;
    pp.pricing = p;

    if (aigw_pricing_top(&pp) != 0) {
        goto failed;
    }

    aigw_pp_ws(&pp);

    if (pp.pos != pp.len) {
        aigw_pp_syntax(&pp, "expected the end of the file");
        goto failed;
    }

    if (aigw_pricing_index(&pp, &p->top) != 0) {
        goto failed;
    }

    if (p->nregions > 1) {
        qsort(p->regions, p->nregions, sizeof(aigw_price_scope_t),
              aigw_region_cmp);
    }

    for (i = 0; i < p->nregions; i++) {
        if (aigw_pricing_index(&pp, &p->regions[i]) != 0) {
            goto failed;
        }
    }

    return p;

failed:

    aigw_pricing_free(p);
    return NULL;
}


static int
aigw_pricing_top(aigw_pparse_t *pp)
{
    int        rc, first;
    char      *key;
    size_t     key_len;
    unsigned   seen;

    aigw_pp_ws(pp);

    if (aigw_pp_peek(pp) != '{') {
        if (pp->pos >= pp->len) {
            aigw_pp_syntax(pp, "expected a JSON object, the file is empty");

        } else {
            aigw_pp_syntax(pp, "expected a JSON object");
        }

        return -1;
    }

    seen = 0;

    for (first = 1; /* void */; first = 0) {
        rc = aigw_pp_object_next(pp, first, &key, &key_len);
        if (rc <= 0) {
            return rc;
        }

        switch (aigw_pp_field(pp, key, key_len, aigw_pricing_top_fields,
                              "currency, models, regions", &seen))
        {
        case 0:
            rc = aigw_pricing_currency(pp);
            break;

        case 1:
            rc = aigw_pricing_models(pp, &pp->pricing->top);
            break;

        case 2:
            rc = aigw_pricing_regions(pp);
            break;

        default:
            return -1;
        }

        if (rc != 0) {
            return -1;
        }
    }
}


static int
aigw_pricing_currency(aigw_pparse_t *pp)
{
    char    *cur;
    size_t   cur_len;

    if (aigw_pp_peek(pp) != '"') {
        aigw_pp_error(pp, "currency: expected a string (\"USD\")");
        return -1;
    }

    if (aigw_pp_string(pp, &cur, &cur_len) != 0) {
        return -1;
    }

    if (cur_len != 3 || strcmp(cur, "USD") != 0) {
        aigw_pp_error(pp, "currency: \"%.*s\" is not supported "
                      "(only \"USD\")", (int) (cur_len > 16 ? 16 : cur_len),
                      cur);
        free(cur);
        return -1;
    }

    free(cur);

    return 0;
}


static int
aigw_pricing_regions(aigw_pparse_t *pp)
{
    int                  rc, first, rfirst;
    char                *name, *key;
    size_t               i, len, key_len, mark;
    unsigned             seen;
    aigw_pricing_t      *p;
    aigw_price_scope_t  *scope, *regions;

    p = pp->pricing;

    aigw_pp_ws(pp);

    if (aigw_pp_peek(pp) != '{') {
        aigw_pp_error(pp, "regions: expected an object");
        return -1;
    }

    for (first = 1; /* void */; first = 0) {
        rc = aigw_pp_object_next(pp, first, &name, &len);
        if (rc <= 0) {
            return rc;
        }

        for (i = 0; i < len; i++) {
            if (!((name[i] >= 'a' && name[i] <= 'z')
                  || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
            {
                break;
            }
        }

        if (len == 0 || len > AIGW_PRICING_REGION_MAX || i != len) {
            char  show[AIGW_PRICING_KEY_SHOW + 8];

            aigw_pp_show(show, sizeof(show), name, len);
            aigw_pp_error(pp, "regions: \"%s\" is not a region name "
                          "([a-z0-9-]{1,32})", show);
            free(name);
            return -1;
        }

        for (i = 0; i < p->nregions; i++) {
            if (aigw_str_is(&p->regions[i].name, name, len)) {
                aigw_pp_error(pp, "duplicate region \"%s\"", name);
                free(name);
                return -1;
            }
        }

        regions = aigw_pp_grow(pp, p->regions, p->nregions, &p->cap,
                               sizeof(aigw_price_scope_t), 4);
        if (regions == NULL) {
            free(name);
            return -1;
        }

        p->regions = regions;

        scope = &p->regions[p->nregions++];
        memset(scope, 0, sizeof(aigw_price_scope_t));
        scope->name.data = name;
        scope->name.len = len;

        mark = aigw_pp_where_push(pp, "region", name, len);

        aigw_pp_ws(pp);

        if (aigw_pp_peek(pp) != '{') {
            aigw_pp_error(pp, "expected an object ({\"models\": {...}})");
            return -1;
        }

        seen = 0;

        for (rfirst = 1; /* void */; rfirst = 0) {
            rc = aigw_pp_object_next(pp, rfirst, &key, &key_len);
            if (rc < 0) {
                return -1;
            }

            if (rc == 0) {
                break;
            }

            if (aigw_pp_field(pp, key, key_len, aigw_pricing_region_fields,
                              "models", &seen)
                < 0)
            {
                return -1;
            }

            if (aigw_pricing_models(pp, scope) != 0) {
                return -1;
            }
        }

        pp->where[mark] = '\0';
    }
}


static int
aigw_pricing_models(aigw_pparse_t *pp, aigw_price_scope_t *scope)
{
    int            rc, first;
    char          *key;
    size_t         key_len, mark;
    aigw_price_t  *e, *entries;

    aigw_pp_ws(pp);

    if (aigw_pp_peek(pp) != '{') {
        aigw_pp_error(pp, "models: expected an object");
        return -1;
    }

    for (first = 1; /* void */; first = 0) {
        rc = aigw_pp_object_next(pp, first, &key, &key_len);
        if (rc <= 0) {
            return rc;
        }

        if (key_len == 0 || key_len > AIGW_PRICING_KEY_MAX) {
            aigw_pp_error(pp, "models: a model key of %zu bytes (1 to %d)",
                          key_len, AIGW_PRICING_KEY_MAX);
            free(key);
            return -1;
        }

        entries = aigw_pp_grow(pp, scope->entries, scope->n, &scope->cap,
                               sizeof(aigw_price_t), 16);
        if (entries == NULL) {
            free(key);
            return -1;
        }

        scope->entries = entries;

        e = &scope->entries[scope->n++];
        memset(e, 0, sizeof(aigw_price_t));
        e->key.data = key;
        e->key.len = key_len;
        e->region = scope->name;
        e->glob = aigw_is_glob(key, key_len);

        mark = aigw_pp_where_push(pp, "model", key, key_len);

        if (aigw_pricing_entry(pp, e) != 0) {
            return -1;
        }

        pp->where[mark] = '\0';
    }
}


static int
aigw_pricing_entry(aigw_pparse_t *pp, aigw_price_t *e)
{
    int        rc, first, field;
    char      *key;
    size_t     key_len;
    uint64_t  *dst[4];

    aigw_pp_ws(pp);

    if (aigw_pp_peek(pp) != '{') {
        aigw_pp_error(pp, "expected an object of prices");
        return -1;
    }

    /* in the order of aigw_price_names[] */

    dst[0] = &e->input_pico;
    dst[1] = &e->output_pico;
    dst[2] = &e->cache_read_pico;
    dst[3] = &e->cache_write_pico;

    for (first = 1; /* void */; first = 0) {
        rc = aigw_pp_object_next(pp, first, &key, &key_len);
        if (rc < 0) {
            return -1;
        }

        if (rc == 0) {
            break;
        }

        /* the field's bit in "has" is its AIGW_PRICE_* */

        field = aigw_pp_field(pp, key, key_len, aigw_price_names,
                              aigw_price_fields, &e->has);
        if (field < 0) {
            return -1;
        }

        if (field < 4) {
            rc = aigw_pricing_price(pp, aigw_price_names[field], dst[field]);

        } else {
            rc = aigw_pricing_images(pp, e);
        }

        if (rc != 0) {
            return -1;
        }
    }

    if (e->has == 0) {
        aigw_pp_error(pp, "no price (expected at least one of %s)",
                      aigw_price_fields);
        return -1;
    }

    return 0;
}


static int
aigw_pricing_images(aigw_pparse_t *pp, aigw_price_t *e)
{
    int        rc, first;
    char      *size;
    size_t     i, len, cap, before;
    uint64_t   w, h;

    aigw_pp_ws(pp);

    if (aigw_pp_peek(pp) != '{') {
        aigw_pp_error(pp, "per_image: expected an object "
                      "({\"512x512\": {\"standard\": 0.008}})");
        return -1;
    }

    cap = 0;

    for (first = 1; /* void */; first = 0) {
        rc = aigw_pp_object_next(pp, first, &size, &len);
        if (rc < 0) {
            return -1;
        }

        if (rc == 0) {
            break;
        }

        if (aigw_size_parse(size, len, &w, &h) != 0
            && !(len == 6 && strcmp(size, "larger") == 0)
            && !(len == 7 && strcmp(size, "default") == 0))
        {
            char  show[AIGW_PRICING_KEY_SHOW + 8];

            aigw_pp_show(show, sizeof(show), size, len);
            aigw_pp_error(pp, "per_image: \"%s\" is not a size (\"WxH\" "
                          "such as \"512x512\", \"larger\" or \"default\")",
                          show);
            free(size);
            return -1;
        }

        for (i = 0; i < e->nimages; i++) {
            if (aigw_str_is(&e->images[i].size, size, len)) {
                aigw_pp_error(pp, "per_image: duplicate size \"%s\"", size);
                free(size);
                return -1;
            }
        }

        before = e->nimages;

        rc = aigw_pricing_qualities(pp, e, size, len, &cap);

        if (e->nimages == before) {
            /* not kept by any image price */
            free(size);
        }

        if (rc != 0) {
            return -1;
        }
    }

    if (e->nimages == 0) {
        aigw_pp_error(pp, "per_image: no size");
        return -1;
    }

    return 0;
}


static int
aigw_pricing_qualities(aigw_pparse_t *pp, aigw_price_t *e,
    const char *size, size_t size_len, size_t *cap)
{
    int                  rc, first;
    char                *q, field[AIGW_PRICING_KEY_SHOW + 64];
    size_t               i, len, n;
    aigw_image_price_t  *ip, *images;

    aigw_pp_ws(pp);

    if (aigw_pp_peek(pp) != '{') {
        aigw_pp_error(pp, "per_image: \"%s\": expected an object of "
                      "qualities ({\"standard\": 0.008})", size);
        return -1;
    }

    n = 0;

    for (first = 1; /* void */; first = 0) {
        rc = aigw_pp_object_next(pp, first, &q, &len);
        if (rc < 0) {
            return -1;
        }

        if (rc == 0) {
            break;
        }

        for (i = 0; i < len; i++) {
            if (!((q[i] >= 'a' && q[i] <= 'z') || (q[i] >= 'A' && q[i] <= 'Z')
                  || (q[i] >= '0' && q[i] <= '9') || q[i] == '_'
                  || q[i] == '-'))
            {
                break;
            }
        }

        if (len == 0 || len > AIGW_PRICING_QUALITY_MAX || i != len) {
            char  show[AIGW_PRICING_KEY_SHOW + 8];

            aigw_pp_show(show, sizeof(show), q, len);
            aigw_pp_error(pp, "per_image: \"%s\": \"%s\" is not a quality "
                          "([A-Za-z0-9_-]{1,32})", size, show);
            free(q);
            return -1;
        }

        for (i = e->nimages - n; i < e->nimages; i++) {
            if (aigw_str_is(&e->images[i].quality, q, len)) {
                aigw_pp_error(pp, "per_image: \"%s\": duplicate quality "
                              "\"%s\"", size, q);
                free(q);
                return -1;
            }
        }

        images = aigw_pp_grow(pp, e->images, e->nimages, cap,
                              sizeof(aigw_image_price_t), 4);
        if (images == NULL) {
            free(q);
            return -1;
        }

        e->images = images;

        ip = &e->images[e->nimages++];
        ip->size.data = size;
        ip->size.len = size_len;
        ip->quality.data = q;
        ip->quality.len = len;
        ip->pico = 0;
        n++;

        snprintf(field, sizeof(field), "per_image: \"%s\": %s", size, q);

        if (aigw_pricing_price(pp, field, &ip->pico) != 0) {
            return -1;
        }
    }

    if (n == 0) {
        aigw_pp_error(pp, "per_image: \"%s\": no quality", size);
        return -1;
    }

    return 0;
}


static int
aigw_pricing_price(aigw_pparse_t *pp, const char *field, uint64_t *pico)
{
    int          c, rc;
    char        *s;
    size_t       len;
    const char  *p, *reason;
    char         show[AIGW_PRICING_KEY_SHOW + 8];

    aigw_pp_ws(pp);

    c = aigw_pp_peek(pp);
    s = NULL;

    /* a decimal string, or a JSON number (s stays NULL) */

    if (c == '"') {
        if (aigw_pp_string(pp, &s, &len) != 0) {
            return -1;
        }

        p = s;

    } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (aigw_pp_number(pp, &p, &len) != 0) {
            return -1;
        }

    } else {
        aigw_pp_error(pp, "%s: expected a price (a number or a decimal "
                      "string)", field);
        return -1;
    }

    rc = aigw_price_parse(p, len, s == NULL, pico, &reason);

    if (rc != 0) {
        aigw_pp_show(show, sizeof(show), p, len);
        aigw_pp_error(pp, s ? "%s: \"%s\": %s" : "%s: %s: %s", field, show,
                      reason);
    }

    free(s);

    return rc;
}


static int
aigw_pricing_index(aigw_pparse_t *pp, aigw_price_scope_t *scope)
{
    size_t         i;
    aigw_price_t  *e;

    if (scope->n == 0) {
        return 0;
    }

    scope->exact = malloc(scope->n * sizeof(aigw_price_t *));
    scope->globs = malloc(scope->n * sizeof(aigw_price_t *));

    if (scope->exact == NULL || scope->globs == NULL) {
        aigw_pp_error(pp, "out of memory");
        return -1;
    }

    for (i = 0; i < scope->n; i++) {
        e = &scope->entries[i];

        if (e->glob) {
            scope->globs[scope->nglobs++] = e;

        } else {
            scope->exact[scope->nexact++] = e;
        }
    }

    /* duplicates: equal neighbours once sorted */

    qsort(scope->exact, scope->nexact, sizeof(aigw_price_t *),
          aigw_price_cmp);
    qsort(scope->globs, scope->nglobs, sizeof(aigw_price_t *),
          aigw_price_cmp);

    if (aigw_pricing_dup(pp, scope, scope->exact, scope->nexact) != 0
        || aigw_pricing_dup(pp, scope, scope->globs, scope->nglobs) != 0)
    {
        return -1;
    }

    /* the globs: longest first, then file order (a stable order) */

    qsort(scope->globs, scope->nglobs, sizeof(aigw_price_t *),
          aigw_glob_cmp);

    return 0;
}


static int
aigw_pricing_dup(aigw_pparse_t *pp, aigw_price_scope_t *scope,
    aigw_price_t **v, size_t n)
{
    char    show[AIGW_PRICING_KEY_SHOW + 8];
    size_t  i;

    for (i = 1; i < n; i++) {
        if (aigw_price_cmp(&v[i - 1], &v[i]) != 0) {
            continue;
        }

        aigw_pp_show(show, sizeof(show), v[i]->key.data, v[i]->key.len);

        if (scope->name.len) {
            snprintf(pp->err, pp->err_size, "region \"%s\": duplicate "
                     "model \"%s\"", scope->name.data, show);

        } else {
            snprintf(pp->err, pp->err_size, "duplicate model \"%s\"", show);
        }

        pp->failed = 1;
        return -1;
    }

    return 0;
}


void
aigw_pricing_free(aigw_pricing_t *p)
{
    size_t  i;

    if (p == NULL) {
        return;
    }

    aigw_pricing_scope_free(&p->top);

    for (i = 0; i < p->nregions; i++) {
        free((char *) p->regions[i].name.data);
        aigw_pricing_scope_free(&p->regions[i]);
    }

    free(p->regions);
    free(p);
}


static void
aigw_pricing_scope_free(aigw_price_scope_t *scope)
{
    size_t         i, j;
    aigw_price_t  *e;

    for (i = 0; i < scope->n; i++) {
        e = &scope->entries[i];

        free((char *) e->key.data);

        for (j = 0; j < e->nimages; j++) {
            if (j == 0
                || e->images[j].size.data != e->images[j - 1].size.data)
            {
                free((char *) e->images[j].size.data);
            }

            free((char *) e->images[j].quality.data);
        }

        free(e->images);
    }

    free(scope->entries);
    free(scope->exact);
    free(scope->globs);
}


size_t
aigw_pricing_count(const aigw_pricing_t *p)
{
    size_t  i, n;

    n = p->top.n;

    for (i = 0; i < p->nregions; i++) {
        n += p->regions[i].n;
    }

    return n;
}


/* --- the JSON reader ------------------------------------------------------ */


static void
aigw_pp_ws(aigw_pparse_t *pp)
{
    char  c;

    while (pp->pos < pp->len) {
        c = pp->text[pp->pos];

        if (c == '\n') {
            pp->line++;
            pp->line_start = pp->pos + 1;

        } else if (c != ' ' && c != '\t' && c != '\r') {
            return;
        }

        pp->pos++;
    }
}


static int
aigw_pp_peek(aigw_pparse_t *pp)
{
    return (pp->pos < pp->len) ? (unsigned char) pp->text[pp->pos] : -1;
}


static int
aigw_pp_expect(aigw_pparse_t *pp, char c, const char *what)
{
    aigw_pp_ws(pp);

    if (aigw_pp_peek(pp) != (unsigned char) c) {
        aigw_pp_syntax(pp, what);
        return -1;
    }

    pp->pos++;

    return 0;
}


/*
 * Objects: called with "first" set at the "{", then again after each
 * member's value.  Returns 1 and the next member's key (malloc()ed,
 * NUL-terminated; the reader is then at its value), 0 at the "}" (which
 * it consumes), -1 on error.
 */

static int
aigw_pp_object_next(aigw_pparse_t *pp, int first, char **key,
    size_t *key_len)
{
    int  c;

    aigw_pp_ws(pp);

    if (first) {
        if (aigw_pp_expect(pp, '{', "expected '{'") != 0) {
            return -1;
        }

        aigw_pp_ws(pp);

        if (aigw_pp_peek(pp) == '}') {
            pp->pos++;
            return 0;
        }

    } else {
        c = aigw_pp_peek(pp);

        if (c == '}') {
            pp->pos++;
            return 0;
        }

        if (c != ',') {
            aigw_pp_syntax(pp, "expected ',' or '}'");
            return -1;
        }

        pp->pos++;
        aigw_pp_ws(pp);
    }

    if (aigw_pp_peek(pp) != '"') {
        aigw_pp_syntax(pp, "expected a string (a member name)");
        return -1;
    }

    if (aigw_pp_string(pp, key, key_len) != 0) {
        return -1;
    }

    if (aigw_pp_expect(pp, ':', "expected ':'") != 0) {
        free(*key);
        return -1;
    }

    aigw_pp_ws(pp);

    return 1;
}


/* a JSON string, decoded, UTF-8 checked; at its opening quote */

static int
aigw_pp_string(aigw_pparse_t *pp, char **out, size_t *out_len)
{
    int             k;
    char           *buf;
    size_t          n, i, start;
    uint32_t        cp, lo;
    unsigned char   c;

    start = ++pp->pos;

    /* the decoded form is never longer than the source */

    for (i = start; i < pp->len && pp->text[i] != '"'; i++) {
        if (pp->text[i] == '\\') {
            i++;
        }
    }

    buf = malloc(i - start + 1);
    if (buf == NULL) {
        aigw_pp_error(pp, "out of memory");
        return -1;
    }

    n = 0;

    for ( ;; ) {
        if (pp->pos >= pp->len) {
            aigw_pp_syntax(pp, "unterminated string");
            goto failed;
        }

        c = (unsigned char) pp->text[pp->pos];

        if (c == '"') {
            pp->pos++;
            break;
        }

        if (c < 0x20) {
            aigw_pp_syntax(pp, "control character in a string");
            goto failed;
        }

        if (c != '\\') {

            if (c < 0x80) {
                buf[n++] = (char) c;
                pp->pos++;
                continue;
            }

            /* UTF-8: the shortest form, no surrogates, at most U+10FFFF */

            if (c >= 0xc2 && c <= 0xdf) {
                k = 1;
                cp = c & 0x1f;

            } else if (c >= 0xe0 && c <= 0xef) {
                k = 2;
                cp = c & 0x0f;

            } else if (c >= 0xf0 && c <= 0xf4) {
                k = 3;
                cp = c & 0x07;

            } else {
                aigw_pp_syntax(pp, "invalid UTF-8");
                goto failed;
            }

            if (pp->pos + k >= pp->len) {
                aigw_pp_syntax(pp, "invalid UTF-8");
                goto failed;
            }

            for (i = 1; i <= (size_t) k; i++) {
                c = (unsigned char) pp->text[pp->pos + i];

                if ((c & 0xc0) != 0x80) {
                    aigw_pp_syntax(pp, "invalid UTF-8");
                    goto failed;
                }

                cp = (cp << 6) | (c & 0x3f);
            }

            if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff)))
                || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            {
                aigw_pp_syntax(pp, "invalid UTF-8");
                goto failed;
            }

            memcpy(buf + n, pp->text + pp->pos, k + 1);
            n += k + 1;
            pp->pos += k + 1;
            continue;
        }

        /* an escape */

        if (pp->pos + 1 >= pp->len) {
            aigw_pp_syntax(pp, "unterminated string");
            goto failed;
        }

        c = (unsigned char) pp->text[pp->pos + 1];
        pp->pos += 2;

        switch (c) {
        case '"':
        case '\\':
        case '/':
            buf[n++] = (char) c;
            continue;
        case 'b':
            buf[n++] = '\b';
            continue;
        case 'f':
            buf[n++] = '\f';
            continue;
        case 'n':
            buf[n++] = '\n';
            continue;
        case 'r':
            buf[n++] = '\r';
            continue;
        case 't':
            buf[n++] = '\t';
            continue;
        case 'u':
            break;
        default:
            pp->pos--;
            aigw_pp_syntax(pp, "invalid escape in a string");
            goto failed;
        }

        if (aigw_pp_hex4(pp, &cp) != 0) {
            goto failed;
        }

        if (cp >= 0xdc00 && cp <= 0xdfff) {
            aigw_pp_syntax(pp, "lone low surrogate in a \\u escape");
            goto failed;
        }

        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (pp->pos + 6 > pp->len || pp->text[pp->pos] != '\\'
                || pp->text[pp->pos + 1] != 'u')
            {
                aigw_pp_syntax(pp, "lone high surrogate in a \\u escape");
                goto failed;
            }

            pp->pos += 2;

            if (aigw_pp_hex4(pp, &lo) != 0) {
                goto failed;
            }

            if (lo < 0xdc00 || lo > 0xdfff) {
                aigw_pp_syntax(pp, "lone high surrogate in a \\u escape");
                goto failed;
            }

            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }

        if (cp == 0) {
            aigw_pp_syntax(pp, "NUL (\\u0000) in a string");
            goto failed;
        }

        /* at most as long as the escape it comes from (6 or 12 bytes) */

        if (cp < 0x80) {
            buf[n++] = (char) cp;

        } else if (cp < 0x800) {
            buf[n++] = (char) (0xc0 | (cp >> 6));
            buf[n++] = (char) (0x80 | (cp & 0x3f));

        } else if (cp < 0x10000) {
            buf[n++] = (char) (0xe0 | (cp >> 12));
            buf[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
            buf[n++] = (char) (0x80 | (cp & 0x3f));

        } else {
            buf[n++] = (char) (0xf0 | (cp >> 18));
            buf[n++] = (char) (0x80 | ((cp >> 12) & 0x3f));
            buf[n++] = (char) (0x80 | ((cp >> 6) & 0x3f));
            buf[n++] = (char) (0x80 | (cp & 0x3f));
        }
    }

    buf[n] = '\0';
    *out = buf;
    *out_len = n;

    return 0;

failed:

    free(buf);
    return -1;
}


/* the text of a JSON number, checked against the grammar */

static int
aigw_pp_number(aigw_pparse_t *pp, const char **p, size_t *len)
{
    size_t       start, n;
    const char  *t;

    t = pp->text;
    start = pp->pos;

    if (pp->pos < pp->len && t[pp->pos] == '-') {
        pp->pos++;
    }

    n = aigw_pp_digits(pp);

    if (n == 0 || (n > 1 && t[pp->pos - n] == '0')) {
        goto malformed;
    }

    if (pp->pos < pp->len && t[pp->pos] == '.') {
        pp->pos++;

        if (aigw_pp_digits(pp) == 0) {
            goto malformed;
        }
    }

    if (pp->pos < pp->len && (t[pp->pos] == 'e' || t[pp->pos] == 'E')) {
        pp->pos++;

        if (pp->pos < pp->len && (t[pp->pos] == '+' || t[pp->pos] == '-')) {
            pp->pos++;
        }

        if (aigw_pp_digits(pp) == 0) {
            goto malformed;
        }
    }

    *p = t + start;
    *len = pp->pos - start;

    return 0;

malformed:

    pp->pos = start;
    aigw_pp_syntax(pp, "malformed number");

    return -1;
}


/* skips [0-9]*, returns how many */

static size_t
aigw_pp_digits(aigw_pparse_t *pp)
{
    size_t  start;

    start = pp->pos;

    while (pp->pos < pp->len && pp->text[pp->pos] >= '0'
           && pp->text[pp->pos] <= '9')
    {
        pp->pos++;
    }

    return pp->pos - start;
}


/* the four hex digits of a \u escape */

static int
aigw_pp_hex4(aigw_pparse_t *pp, uint32_t *cp)
{
    int     k;
    size_t  i;

    *cp = 0;

    for (i = 0; i < 4; i++) {
        k = aigw_pp_peek(pp);

        if (k >= '0' && k <= '9') {
            *cp = *cp * 16 + (k - '0');

        } else if ((k | 0x20) >= 'a' && (k | 0x20) <= 'f') {
            *cp = *cp * 16 + ((k | 0x20) - 'a' + 10);

        } else {
            aigw_pp_syntax(pp, "invalid \\u escape");
            return -1;
        }

        pp->pos++;
    }

    return 0;
}


static void
aigw_pp_syntax(aigw_pparse_t *pp, const char *what)
{
    if (pp->failed) {
        return;
    }

    pp->failed = 1;

    snprintf(pp->err, pp->err_size, "line %u, column %zu: %s", pp->line,
             pp->pos - pp->line_start + 1, what);
}


static void
aigw_pp_error(aigw_pparse_t *pp, const char *fmt, ...)
{
    size_t   n;
    va_list  args;

    if (pp->failed || pp->err_size == 0) {
        pp->failed = 1;
        return;
    }

    pp->failed = 1;

    n = snprintf(pp->err, pp->err_size, "%s", pp->where);

    if (n >= pp->err_size) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(pp->err + n, pp->err_size - n, fmt, args);
    va_end(args);
}


/* a key for a message: at most AIGW_PRICING_KEY_SHOW bytes, then "..." */

static void
aigw_pp_show(char *buf, size_t size, const char *s, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len && n + 5 < size; i++) {
        if (i == AIGW_PRICING_KEY_SHOW) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }

        buf[n++] = ((unsigned char) s[i] < 0x20 || s[i] == '"') ? '?' : s[i];
    }

    buf[n] = '\0';
}


/* appends 'kind "name": ' to the message prefix; returns the old length */

static size_t
aigw_pp_where_push(aigw_pparse_t *pp, const char *kind, const char *name,
    size_t len)
{
    char    show[AIGW_PRICING_KEY_SHOW + 8];
    size_t  n;

    n = strlen(pp->where);

    aigw_pp_show(show, sizeof(show), name, len);
    snprintf(pp->where + n, sizeof(pp->where) - n, "%s \"%s\": ", kind,
             show);

    return n;
}


/*
 * A member's key, one of "names" (NULL-terminated), each allowed once:
 * bit i of "*seen" stands for names[i].  Returns the index, or -1 on an
 * unknown or duplicate field.  The key is freed.
 */

static int
aigw_pp_field(aigw_pparse_t *pp, char *key, size_t key_len,
    const char *const *names, const char *expected, unsigned *seen)
{
    int   i;
    char  show[AIGW_PRICING_KEY_SHOW + 8];

    for (i = 0; names[i]; i++) {
        if (strlen(names[i]) == key_len
            && memcmp(names[i], key, key_len) == 0)
        {
            break;
        }
    }

    if (names[i] == NULL) {
        aigw_pp_show(show, sizeof(show), key, key_len);
        aigw_pp_error(pp, "unknown field \"%s\" (expected %s)", show,
                      expected);
        free(key);
        return -1;
    }

    free(key);

    if (*seen & (1u << i)) {
        aigw_pp_error(pp, "duplicate field \"%s\"", names[i]);
        return -1;
    }

    *seen |= 1u << i;

    return i;
}


/*
 * Room for the element after the "n" of an array of elements of "size"
 * bytes with room for "*cap": the array, grown ("first" elements, then
 * twice as many) when full; NULL when out of memory (the array stays).
 */

static void *
aigw_pp_grow(aigw_pparse_t *pp, void *array, size_t n, size_t *cap,
    size_t size, size_t first)
{
    void    *a;
    size_t   c;

    if (n < *cap) {
        return array;
    }

    c = *cap ? 2 * *cap : first;

    a = realloc(array, c * size);
    if (a == NULL) {
        aigw_pp_error(pp, "out of memory");
        return NULL;
    }

    *cap = c;

    return a;
}


/* --- prices --------------------------------------------------------------- */


int
aigw_price_parse(const char *p, size_t len, int json, uint64_t *pico,
    const char **reason)
{
    /* "-0" too: a price is written without a sign */

    if (len && p[0] == '-') {
        *reason = "a price cannot be negative";
        return -1;
    }

    switch (aigw_decimal_parse(p, len, AIGW_PRICE_DECIMALS,
                               json ? AIGW_DECIMAL_JSON : 0, pico))
    {
    case AIGW_DECIMAL_OK:
        if (*pico <= AIGW_PRICE_MAX_PICO) {
            return 0;
        }

        /* fall through */

    case AIGW_DECIMAL_RANGE:
        *reason = "too large (at most 1000000 USD)";
        return -1;

    case AIGW_DECIMAL_PLACES:
        *reason = "more than 12 decimal places";
        return -1;

    default:
        *reason = json ? "not a valid number"
                       : "not a decimal number (digits, optionally a \".\" "
                         "and more digits)";
        return -1;
    }
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


/* --- lookup --------------------------------------------------------------- */


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
                        sizeof(aigw_price_scope_t), aigw_region_cmp);

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

            c = aigw_str_cmp(forms[i].data, forms[i].len, e->key.data,
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

    if (size_len == 0 || aigw_size_parse(size, size_len, &w, &h) != 0) {
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

        if (aigw_str_is(s, "larger", 6)) {
            larger = s;
            continue;
        }

        if (aigw_str_is(s, "default", 7)) {
            dflt = s;
            continue;
        }

        if (aigw_size_parse(s->data, s->len, &w, &h) != 0) {
            continue;
        }

        a = (w > UINT64_MAX / h) ? UINT64_MAX : w * h;

        if (a > max_area) {
            max_area = a;
        }

        if (size_len == 0) {
            continue;
        }

        if (aigw_str_is(s, size, size_len)) {
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

        if (aigw_str_is(&ip->quality, quality, quality_len)) {
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

static int
aigw_size_parse(const char *s, size_t len, uint64_t *w, uint64_t *h)
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


/* --- cost ----------------------------------------------------------------- */


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


/* --- helpers -------------------------------------------------------------- */


static int
aigw_str_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int  c;

    c = memcmp(a, b, alen < blen ? alen : blen);

    if (c) {
        return c;
    }

    return (alen < blen) ? -1 : (alen > blen);
}


static int
aigw_price_cmp(const void *a, const void *b)
{
    const aigw_price_t  *x, *y;

    x = *(const aigw_price_t * const *) a;
    y = *(const aigw_price_t * const *) b;

    return aigw_str_cmp(x->key.data, x->key.len, y->key.data, y->key.len);
}


static int
aigw_glob_cmp(const void *a, const void *b)
{
    const aigw_price_t  *x, *y;

    x = *(const aigw_price_t * const *) a;
    y = *(const aigw_price_t * const *) b;

    if (x->key.len != y->key.len) {
        return (x->key.len > y->key.len) ? -1 : 1;
    }

    /* the entries array is in file order */
    return (x < y) ? -1 : (x > y);
}


static int
aigw_region_cmp(const void *a, const void *b)
{
    const aigw_price_scope_t  *x, *y;

    x = a;
    y = b;

    return aigw_str_cmp(x->name.data, x->name.len, y->name.data,
                        y->name.len);
}


static int
aigw_str_is(const aigw_str_t *str, const char *s, size_t len)
{
    return str->len == len && memcmp(str->data, s, len) == 0;
}


static int
aigw_is_glob(const char *s, size_t len)
{
    return memchr(s, '*', len) != NULL || memchr(s, '?', len) != NULL;
}
