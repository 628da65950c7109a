
/*
 * aigw: loading a pricing file (see aigw_pricing.h): read with jansson,
 * checked against the file's schema, prices turned into integers by
 * aigw_decimal; then every scope (the top level, each region) gets an
 * index of its exact keys, sorted for binary search, and a list of its
 * glob keys, longest first.
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aigw_decimal.h"
#include "aigw_pricing_int.h"


#define AIGW_PRICING_KEY_SHOW    96     /* bytes of a key in a message */


typedef struct {
    char                *err;
    size_t               err_size;
    int                  failed;

    /* where we are, for messages: 'region "r": model "m": ' */
    char                 where[3 * AIGW_PRICING_KEY_SHOW + 64];

    aigw_pricing_t      *pricing;
} aigw_pload_t;


static int aigw_pricing_top(aigw_pload_t *ld, json_t *root);
static int aigw_pricing_currency(aigw_pload_t *ld, json_t *v);
static int aigw_pricing_regions(aigw_pload_t *ld, json_t *obj);
static int aigw_pricing_models(aigw_pload_t *ld, aigw_price_scope_t *scope,
    json_t *obj);
static int aigw_pricing_entry(aigw_pload_t *ld, aigw_price_t *e, json_t *obj);
static int aigw_pricing_images(aigw_pload_t *ld, aigw_price_t *e,
    json_t *obj);
static int aigw_pricing_qualities(aigw_pload_t *ld, aigw_price_t *e,
    const char *size, json_t *obj, size_t *cap);
static int aigw_pricing_price(aigw_pload_t *ld, const char *field,
    json_t *v, uint64_t *pico);
static int aigw_price_check(aigw_decimal_rc_e rc, int json, uint64_t *pico,
    const char **reason);
static int aigw_pricing_index(aigw_pload_t *ld, aigw_price_scope_t *scope);
static void aigw_pricing_scope_free(aigw_price_scope_t *scope);

static int aigw_pload_field(aigw_pload_t *ld, const char *key,
    const char *const *names, const char *expected);
static char *aigw_pload_strdup(aigw_pload_t *ld, const char *s, size_t len);
static void *aigw_pload_grow(aigw_pload_t *ld, void *array, size_t n,
    size_t *cap, size_t size, size_t first);
static void aigw_pload_error(aigw_pload_t *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void aigw_pload_show(char *buf, size_t size, const char *s,
    size_t len);
static size_t aigw_pload_where_push(aigw_pload_t *ld, const char *kind,
    const char *name, size_t len);

static int aigw_price_cmp(const void *a, const void *b);
static int aigw_glob_cmp(const void *a, const void *b);
static int aigw_is_glob(const char *s, size_t len);


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


aigw_pricing_t *
aigw_pricing_parse(const char *text, size_t len, char *err, size_t err_size)
{
    size_t           i;
    json_t          *root;
    json_error_t     jerr;
    aigw_pload_t     ld;
    aigw_pricing_t  *p;

    if (err_size) {
        err[0] = '\0';
    }

    /*
     * Duplicate members are refused at every level; strings are UTF-8
     * without NUL (jansson's defaults)
     */

    root = json_loadb(text ? text : "", text ? len : 0,
                      JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        snprintf(err, err_size, "line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return NULL;
    }

    p = calloc(1, sizeof(aigw_pricing_t));
    if (p == NULL) {
        snprintf(err, err_size, "out of memory");
        json_decref(root);
        return NULL;
    }

    p->top.name.data = "";

    memset(&ld, 0, sizeof(aigw_pload_t));
    ld.err = err;
    ld.err_size = err_size;
    ld.pricing = p;

    if (aigw_pricing_top(&ld, root) != 0
        || aigw_pricing_index(&ld, &p->top) != 0)
    {
        goto failed;
    }

    if (p->nregions > 1) {
        qsort(p->regions, p->nregions, sizeof(aigw_price_scope_t),
              aigw_pricing_region_cmp);
    }

    for (i = 0; i < p->nregions; i++) {
        if (aigw_pricing_index(&ld, &p->regions[i]) != 0) {
            goto failed;
        }
    }

    /* what the field checks cannot see: a real rounded on reading */

    if (aigw_decimal_json_digits(text, len, &jerr) != 0) {
        snprintf(err, err_size, "line %d, column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        goto failed;
    }

    json_decref(root);

    return p;

failed:

    json_decref(root);
    aigw_pricing_free(p);

    return NULL;
}


static int
aigw_pricing_top(aigw_pload_t *ld, json_t *root)
{
    int          rc;
    json_t      *v;
    const char  *key;

    if (!json_is_object(root)) {
        aigw_pload_error(ld, "expected a JSON object at the top level");
        return -1;
    }

    json_object_foreach(root, key, v) {

        switch (aigw_pload_field(ld, key, aigw_pricing_top_fields,
                                 "currency, models, regions"))
        {
        case 0:
            rc = aigw_pricing_currency(ld, v);
            break;

        case 1:
            rc = aigw_pricing_models(ld, &ld->pricing->top, v);
            break;

        case 2:
            rc = aigw_pricing_regions(ld, v);
            break;

        default:
            return -1;
        }

        if (rc != 0) {
            return -1;
        }
    }

    return 0;
}


static int
aigw_pricing_currency(aigw_pload_t *ld, json_t *v)
{
    size_t       len;
    const char  *cur;

    if (!json_is_string(v)) {
        aigw_pload_error(ld, "currency: expected a string (\"USD\")");
        return -1;
    }

    cur = json_string_value(v);
    len = json_string_length(v);

    if (len != 3 || strcmp(cur, "USD") != 0) {
        aigw_pload_error(ld, "currency: \"%.*s\" is not supported "
                         "(only \"USD\")", (int) (len > 16 ? 16 : len), cur);
        return -1;
    }

    return 0;
}


static int
aigw_pricing_regions(aigw_pload_t *ld, json_t *obj)
{
    size_t               i, len, mark;
    json_t              *v, *models;
    const char          *name, *key;
    aigw_pricing_t      *p;
    aigw_price_scope_t  *scope;
    char                 show[AIGW_PRICING_KEY_SHOW + 8];

    p = ld->pricing;

    if (!json_is_object(obj)) {
        aigw_pload_error(ld, "regions: expected an object");
        return -1;
    }

    p->regions = calloc(json_object_size(obj) + 1,
                        sizeof(aigw_price_scope_t));
    if (p->regions == NULL) {
        aigw_pload_error(ld, "out of memory");
        return -1;
    }

    json_object_foreach(obj, name, v) {

        len = strlen(name);

        for (i = 0; i < len; i++) {
            if (!((name[i] >= 'a' && name[i] <= 'z')
                  || (name[i] >= '0' && name[i] <= '9') || name[i] == '-'))
            {
                break;
            }
        }

        if (len == 0 || len > AIGW_PRICING_REGION_MAX || i != len) {
            aigw_pload_show(show, sizeof(show), name, len);
            aigw_pload_error(ld, "regions: \"%s\" is not a region name "
                             "([a-z0-9-]{1,32})", show);
            return -1;
        }

        scope = &p->regions[p->nregions];

        scope->name.data = aigw_pload_strdup(ld, name, len);
        if (scope->name.data == NULL) {
            return -1;
        }

        scope->name.len = len;
        p->nregions++;

        mark = aigw_pload_where_push(ld, "region", name, len);

        if (!json_is_object(v)) {
            aigw_pload_error(ld, "expected an object ({\"models\": {...}})");
            return -1;
        }

        json_object_foreach(v, key, models) {
            if (aigw_pload_field(ld, key, aigw_pricing_region_fields,
                                 "models")
                < 0)
            {
                return -1;
            }

            if (aigw_pricing_models(ld, scope, models) != 0) {
                return -1;
            }
        }

        ld->where[mark] = '\0';
    }

    return 0;
}


static int
aigw_pricing_models(aigw_pload_t *ld, aigw_price_scope_t *scope, json_t *obj)
{
    size_t         len, mark;
    json_t        *v;
    const char    *key;
    aigw_price_t  *e;

    if (!json_is_object(obj)) {
        aigw_pload_error(ld, "models: expected an object");
        return -1;
    }

    scope->entries = calloc(json_object_size(obj) + 1, sizeof(aigw_price_t));
    if (scope->entries == NULL) {
        aigw_pload_error(ld, "out of memory");
        return -1;
    }

    json_object_foreach(obj, key, v) {

        len = strlen(key);

        if (len == 0 || len > AIGW_PRICING_KEY_MAX) {
            aigw_pload_error(ld, "models: a model key of %zu bytes (1 to %d)",
                             len, AIGW_PRICING_KEY_MAX);
            return -1;
        }

        e = &scope->entries[scope->n];

        e->key.data = aigw_pload_strdup(ld, key, len);
        if (e->key.data == NULL) {
            return -1;
        }

        e->key.len = len;
        e->region = scope->name;
        e->glob = aigw_is_glob(key, len);
        scope->n++;

        mark = aigw_pload_where_push(ld, "model", key, len);

        if (aigw_pricing_entry(ld, e, v) != 0) {
            return -1;
        }

        ld->where[mark] = '\0';
    }

    return 0;
}


static int
aigw_pricing_entry(aigw_pload_t *ld, aigw_price_t *e, json_t *obj)
{
    int          rc, field;
    json_t      *v;
    uint64_t    *dst[4];
    const char  *key;

    if (!json_is_object(obj)) {
        aigw_pload_error(ld, "expected an object of prices");
        return -1;
    }

    /* in the order of aigw_price_names[] */

    dst[0] = &e->input_pico;
    dst[1] = &e->output_pico;
    dst[2] = &e->cache_read_pico;
    dst[3] = &e->cache_write_pico;

    json_object_foreach(obj, key, v) {

        field = aigw_pload_field(ld, key, aigw_price_names,
                                 aigw_price_fields);
        if (field < 0) {
            return -1;
        }

        /* the field's bit in "has" is its AIGW_PRICE_* */

        e->has |= 1u << field;

        if (field < 4) {
            rc = aigw_pricing_price(ld, aigw_price_names[field], v,
                                    dst[field]);

        } else {
            rc = aigw_pricing_images(ld, e, v);
        }

        if (rc != 0) {
            return -1;
        }
    }

    if (e->has == 0) {
        aigw_pload_error(ld, "no price (expected at least one of %s)",
                         aigw_price_fields);
        return -1;
    }

    return 0;
}


static int
aigw_pricing_images(aigw_pload_t *ld, aigw_price_t *e, json_t *obj)
{
    int          rc;
    char        *size;
    size_t       len, cap, before;
    json_t      *v;
    uint64_t     w, h;
    const char  *key;
    char         show[AIGW_PRICING_KEY_SHOW + 8];

    if (!json_is_object(obj)) {
        aigw_pload_error(ld, "per_image: expected an object "
                         "({\"512x512\": {\"standard\": 0.008}})");
        return -1;
    }

    cap = 0;

    json_object_foreach(obj, key, v) {

        len = strlen(key);

        if (aigw_pricing_size_parse(key, len, &w, &h) != 0
            && strcmp(key, "larger") != 0 && strcmp(key, "default") != 0)
        {
            aigw_pload_show(show, sizeof(show), key, len);
            aigw_pload_error(ld, "per_image: \"%s\" is not a size (\"WxH\" "
                             "such as \"512x512\", \"larger\" or "
                             "\"default\")", show);
            return -1;
        }

        size = aigw_pload_strdup(ld, key, len);
        if (size == NULL) {
            return -1;
        }

        before = e->nimages;

        rc = aigw_pricing_qualities(ld, e, size, v, &cap);

        if (e->nimages == before) {
            /* not kept by any image price */
            free(size);
        }

        if (rc != 0) {
            return -1;
        }
    }

    if (e->nimages == 0) {
        aigw_pload_error(ld, "per_image: no size");
        return -1;
    }

    return 0;
}


static int
aigw_pricing_qualities(aigw_pload_t *ld, aigw_price_t *e, const char *size,
    json_t *obj, size_t *cap)
{
    char                *q;
    size_t               i, len, n;
    json_t              *v;
    const char          *key;
    aigw_image_price_t  *ip, *images;
    char                 field[AIGW_PRICING_KEY_SHOW + 64];
    char                 show[AIGW_PRICING_KEY_SHOW + 8];

    if (!json_is_object(obj)) {
        aigw_pload_error(ld, "per_image: \"%s\": expected an object of "
                         "qualities ({\"standard\": 0.008})", size);
        return -1;
    }

    n = 0;

    json_object_foreach(obj, key, v) {

        len = strlen(key);

        for (i = 0; i < len; i++) {
            if (!((key[i] >= 'a' && key[i] <= 'z')
                  || (key[i] >= 'A' && key[i] <= 'Z')
                  || (key[i] >= '0' && key[i] <= '9') || key[i] == '_'
                  || key[i] == '-'))
            {
                break;
            }
        }

        if (len == 0 || len > AIGW_PRICING_QUALITY_MAX || i != len) {
            aigw_pload_show(show, sizeof(show), key, len);
            aigw_pload_error(ld, "per_image: \"%s\": \"%s\" is not a quality "
                             "([A-Za-z0-9_-]{1,32})", size, show);
            return -1;
        }

        images = aigw_pload_grow(ld, e->images, e->nimages, cap,
                                 sizeof(aigw_image_price_t), 4);
        if (images == NULL) {
            return -1;
        }

        e->images = images;

        q = aigw_pload_strdup(ld, key, len);
        if (q == NULL) {
            return -1;
        }

        ip = &e->images[e->nimages++];
        ip->size.data = size;
        ip->size.len = strlen(size);
        ip->quality.data = q;
        ip->quality.len = len;
        ip->pico = 0;
        n++;

        snprintf(field, sizeof(field), "per_image: \"%s\": %s", size, q);

        if (aigw_pricing_price(ld, field, v, &ip->pico) != 0) {
            return -1;
        }
    }

    if (n == 0) {
        aigw_pload_error(ld, "per_image: \"%s\": no quality", size);
        return -1;
    }

    return 0;
}


static int
aigw_pricing_price(aigw_pload_t *ld, const char *field, json_t *v,
    uint64_t *pico)
{
    const char  *reason;
    char         text[AIGW_DECIMAL_TEXT_LEN];
    char         show[AIGW_PRICING_KEY_SHOW + 8];

    /* a decimal string, or a JSON number: its decimal text */

    if (aigw_price_check(aigw_decimal_json(v, AIGW_PRICE_DECIMALS, pico,
                                           text),
                         !json_is_string(v), pico, &reason)
        == 0)
    {
        return 0;
    }

    if (json_is_string(v)) {
        aigw_pload_show(show, sizeof(show), json_string_value(v),
                        json_string_length(v));
        aigw_pload_error(ld, "%s: \"%s\": %s", field, show, reason);

    } else if (json_is_number(v)) {
        aigw_pload_error(ld, "%s: %s: %s", field, text, reason);

    } else {
        aigw_pload_error(ld, "%s: %s", field, reason);
    }

    return -1;
}


int
aigw_price_parse(const char *p, size_t len, int json, uint64_t *pico,
    const char **reason)
{
    /* "-0" too: a price is written without a sign */

    if (len && p[0] == '-') {
        *reason = "a price cannot be negative";
        return -1;
    }

    return aigw_price_check(aigw_decimal_parse(p, len, AIGW_PRICE_DECIMALS,
                                               json ? AIGW_DECIMAL_JSON : 0,
                                               pico),
                            json, pico, reason);
}


/* a price's aigw_decimal_rc_e: 0, or -1 and the reason */

static int
aigw_price_check(aigw_decimal_rc_e rc, int json, uint64_t *pico,
    const char **reason)
{
    switch (rc) {

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

    case AIGW_DECIMAL_NEGATIVE:
        *reason = "a price cannot be negative";
        return -1;

    case AIGW_DECIMAL_INEXACT:
        *reason = "more than 15 significant digits, more than a JSON number"
                  " keeps exactly (write the price as a decimal string)";
        return -1;

    case AIGW_DECIMAL_TYPE:
        *reason = "expected a price (a number or a decimal string)";
        return -1;

    default:
        *reason = json ? "not a valid number"
                       : "not a decimal number (digits, optionally a \".\" "
                         "and more digits)";
        return -1;
    }
}


static int
aigw_pricing_index(aigw_pload_t *ld, aigw_price_scope_t *scope)
{
    size_t         i;
    aigw_price_t  *e;

    if (scope->n == 0) {
        return 0;
    }

    scope->exact = malloc(scope->n * sizeof(aigw_price_t *));
    scope->globs = malloc(scope->n * sizeof(aigw_price_t *));

    if (scope->exact == NULL || scope->globs == NULL) {
        aigw_pload_error(ld, "out of memory");
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

    /*
     * The keys of a scope are distinct (jansson refuses duplicate
     * members); the globs: longest first, then file order (a stable
     * order)
     */

    qsort(scope->exact, scope->nexact, sizeof(aigw_price_t *),
          aigw_price_cmp);
    qsort(scope->globs, scope->nglobs, sizeof(aigw_price_t *),
          aigw_glob_cmp);

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


/*
 * A member's key, one of "names" (NULL-terminated).  Returns the index,
 * or -1 on an unknown field.
 */

static int
aigw_pload_field(aigw_pload_t *ld, const char *key, const char *const *names,
    const char *expected)
{
    int   i;
    char  show[AIGW_PRICING_KEY_SHOW + 8];

    for (i = 0; names[i]; i++) {
        if (strcmp(names[i], key) == 0) {
            return i;
        }
    }

    aigw_pload_show(show, sizeof(show), key, strlen(key));
    aigw_pload_error(ld, "unknown field \"%s\" (expected %s)", show,
                     expected);

    return -1;
}


static char *
aigw_pload_strdup(aigw_pload_t *ld, const char *s, size_t len)
{
    char  *p;

    p = malloc(len + 1);
    if (p == NULL) {
        aigw_pload_error(ld, "out of memory");
        return NULL;
    }

    memcpy(p, s, len + 1);

    return p;
}


/*
 * Room for the element after the "n" of an array of elements of "size"
 * bytes with room for "*cap": the array, grown ("first" elements, then
 * twice as many) when full; NULL when out of memory (the array stays).
 */

static void *
aigw_pload_grow(aigw_pload_t *ld, void *array, size_t n, size_t *cap,
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
        aigw_pload_error(ld, "out of memory");
        return NULL;
    }

    *cap = c;

    return a;
}


static void
aigw_pload_error(aigw_pload_t *ld, const char *fmt, ...)
{
    size_t   n;
    va_list  args;

    if (ld->failed || ld->err_size == 0) {
        ld->failed = 1;
        return;
    }

    ld->failed = 1;

    n = snprintf(ld->err, ld->err_size, "%s", ld->where);

    if (n >= ld->err_size) {
        return;
    }

    va_start(args, fmt);
    vsnprintf(ld->err + n, ld->err_size - n, fmt, args);
    va_end(args);
}


/* a key for a message: at most AIGW_PRICING_KEY_SHOW bytes, then "..." */

static void
aigw_pload_show(char *buf, size_t size, const char *s, size_t len)
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
aigw_pload_where_push(aigw_pload_t *ld, const char *kind, const char *name,
    size_t len)
{
    char    show[AIGW_PRICING_KEY_SHOW + 8];
    size_t  n;

    n = strlen(ld->where);

    aigw_pload_show(show, sizeof(show), name, len);
    snprintf(ld->where + n, sizeof(ld->where) - n, "%s \"%s\": ", kind,
             show);

    return n;
}


static int
aigw_price_cmp(const void *a, const void *b)
{
    const aigw_price_t  *x, *y;

    x = *(const aigw_price_t * const *) a;
    y = *(const aigw_price_t * const *) b;

    return aigw_pricing_str_cmp(x->key.data, x->key.len, y->key.data,
                                y->key.len);
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
aigw_is_glob(const char *s, size_t len)
{
    return memchr(s, '*', len) != NULL || memchr(s, '?', len) != NULL;
}
