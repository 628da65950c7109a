
/*
 * aigw: the tenants file, API key authentication and model access.
 *
 * The file is parsed with jansson, then copied into an arena: one block
 * sized from the JSON text (every string kept is shorter than its JSON
 * form), more only if that estimate falls short.  The jansson tree is
 * freed before aigw_tenants_parse() returns.
 *
 * Tenant ids and key ids are found in open-addressing hash tables
 * (linear probing, at most half full) keyed with SipHash-2-4 and a seed
 * drawn at load, so that probe sequences cannot be predicted from the
 * outside.
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aigw_decimal.h"
#include "aigw_target.h"
#include "aigw_util.h"
#include "aigw_tenants.h"


#define AIGW_ARENA_ALIGN        16
#define AIGW_ARENA_BLOCK_MIN    65536
#define AIGW_ALERT_AT_MAX_PPM   (10 * AIGW_PPM)

#define aigw_align(n, a)        (((n) + ((a) - 1)) & ~((size_t) (a) - 1))
#define aigw_is_digit(c)        ((c) >= '0' && (c) <= '9')

/* a tenant or a key from its "id" member, as the hash tables hold it */
#define aigw_tenant_of(s)                                                     \
    ((const aigw_tenant_t *) ((const char *) (s)                              \
                              - offsetof(aigw_tenant_t, id)))
#define aigw_key_of(s)                                                        \
    ((const aigw_key_t *) ((const char *) (s) - offsetof(aigw_key_t, id)))


typedef struct aigw_arena_block_s  aigw_arena_block_t;

struct aigw_arena_block_s {
    aigw_arena_block_t   *next;
    size_t                size;             /* of the data */
    size_t                used;
};

#define AIGW_ARENA_HEADER                                                     \
    aigw_align(sizeof(aigw_arena_block_t), AIGW_ARENA_ALIGN)


typedef struct {
    const aigw_str_t    **slots;            /* the "id" member of a struct */
    size_t                mask;             /* slots - 1, a power of 2 */
} aigw_table_t;


struct aigw_tenants_s {
    aigw_arena_block_t   *blocks;           /* the first holds this struct */
    aigw_arena_block_t   *cur;

    aigw_tenant_t        *tenants;
    size_t                ntenants;
    size_t                nkeys;

    aigw_table_t          tenant_table;     /* -> aigw_tenant_t.id */
    aigw_table_t          key_table;        /* -> aigw_key_t.id */

    unsigned char         seed[16];
    unsigned char         dummy[32];        /* compared for unknown ids */
};


typedef struct {
    aigw_tenants_t       *ts;
    char                 *err;
    size_t                err_size;
    const char           *tenant_id;        /* valid, NUL-terminated */
    size_t                tenant_no;        /* from 1; 0: not in a tenant */
    char                  where[128];       /* 'key "k1": ', 'keys #2: ' */
} aigw_tenants_ctx_t;


static aigw_tenants_t *aigw_tenants_new(size_t size);
static void *aigw_arena_alloc(aigw_tenants_t *ts, size_t size,
    size_t align);
static void *aigw_arena_array(aigw_tenants_ctx_t *ctx, size_t n,
    size_t size);
static int aigw_arena_str(aigw_tenants_ctx_t *ctx, aigw_str_t *dst,
    const char *src, size_t len);
static size_t aigw_tenants_estimate(json_t *tenants, size_t text_len,
    size_t *nkeys);
static int aigw_tenants_fail(aigw_tenants_ctx_t *ctx, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void aigw_tenants_syntax_error(aigw_tenants_ctx_t *ctx,
    const json_error_t *jerr);
static const char *aigw_tenants_quote(char *buf, size_t size,
    const char *s);
static int aigw_id_chars(const char *id, size_t len, size_t max,
    const char *punct);
static int aigw_tenant_build(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *obj);
static int aigw_tenants_object_id(aigw_tenants_ctx_t *ctx, json_t *obj,
    size_t max, const char *punct, aigw_str_t *dst);
static int aigw_tenant_text(aigw_tenants_ctx_t *ctx, json_t *v,
    const char *field, aigw_str_t *dst);
static int aigw_tenant_keys(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *arr);
static int aigw_tenant_key(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    aigw_key_t *k, json_t *obj);
static int aigw_tenant_tiers(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *arr);
static int aigw_tenant_models(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *arr);
static int aigw_tenant_profiles(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *obj);
static const char *aigw_tenant_check_profile_arn(const char *arn,
    size_t len);
static int aigw_profile_cmp(const void *a, const void *b);
static int aigw_tenant_limits(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *obj);
static int aigw_tenant_alert_at(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *arr);
static aigw_decimal_rc_e aigw_tenant_amount(json_t *v, unsigned scale,
    int64_t *out);
static int aigw_model_chars(const char *s, size_t len);
static int aigw_table_init(aigw_tenants_t *ts, aigw_table_t *t, size_t n);
static const aigw_str_t *aigw_table_insert(aigw_tenants_t *ts,
    aigw_table_t *t, const aigw_str_t *s);
static const aigw_str_t *aigw_table_find(const aigw_tenants_t *ts,
    const aigw_table_t *t, const char *p, size_t len);
static uint64_t aigw_siphash(const unsigned char key[16], const void *in,
    size_t len);


static const char  aigw_base64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char  aigw_key_id_alphabet[] =
    "abcdefghijklmnopqrstuvwxyz0123456789";

aigw_tenants_t *
aigw_tenants_parse(const char *text, size_t len, char *err, size_t err_size)
{
    size_t               i, n, nkeys;
    json_t              *root, *arr, *v;
    const char          *name;
    json_error_t         jerr;
    aigw_tenants_t      *ts;
    aigw_tenant_t       *t;
    const aigw_str_t    *dup;
    aigw_tenants_ctx_t   ctx;
    char                 q[96];

    memset(&ctx, 0, sizeof(aigw_tenants_ctx_t));
    ctx.err = err;
    ctx.err_size = err_size;

    if (err_size) {
        err[0] = '\0';
    }

    ts = NULL;

    root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        aigw_tenants_syntax_error(&ctx, &jerr);
        return NULL;
    }

    if (!json_is_object(root)) {
        aigw_tenants_fail(&ctx, "expected a JSON object {\"tenants\": [...]}"
                                " at the top level");
        goto failed;
    }

    json_object_foreach(root, name, v) {
        if (strcmp(name, "tenants") != 0) {
            aigw_tenants_fail(&ctx, "unknown field %s at the top level"
                              " (expected only \"tenants\")",
                              aigw_tenants_quote(q, sizeof(q), name));
            goto failed;
        }
    }

    arr = json_object_get(root, "tenants");

    if (arr == NULL) {
        aigw_tenants_fail(&ctx, "missing \"tenants\"");
        goto failed;
    }

    if (!json_is_array(arr)) {
        aigw_tenants_fail(&ctx, "\"tenants\": expected an array");
        goto failed;
    }

    n = json_array_size(arr);

    ts = aigw_tenants_new(aigw_tenants_estimate(arr, len, &nkeys));
    if (ts == NULL) {
        aigw_tenants_fail(&ctx, "out of memory");
        goto failed;
    }

    ctx.ts = ts;

    if (RAND_bytes(ts->seed, sizeof(ts->seed)) != 1
        || RAND_bytes(ts->dummy, sizeof(ts->dummy)) != 1)
    {
        aigw_tenants_fail(&ctx, "no random bytes available");
        goto failed;
    }

    ts->tenants = aigw_arena_alloc(ts, (n ? n : 1) * sizeof(aigw_tenant_t),
                                   sizeof(void *));

    if (ts->tenants == NULL
        || aigw_table_init(ts, &ts->tenant_table, n) != 0
        || aigw_table_init(ts, &ts->key_table, nkeys) != 0)
    {
        aigw_tenants_fail(&ctx, "out of memory");
        goto failed;
    }

    memset(ts->tenants, 0, (n ? n : 1) * sizeof(aigw_tenant_t));

    for (i = 0; i < n; i++) {
        t = &ts->tenants[i];

        ctx.tenant_no = i + 1;
        ctx.tenant_id = NULL;
        ctx.where[0] = '\0';

        if (aigw_tenant_build(&ctx, t, json_array_get(arr, i)) != 0) {
            goto failed;
        }

        ts->ntenants++;

        dup = aigw_table_insert(ts, &ts->tenant_table, &t->id);

        if (dup) {
            ctx.tenant_id = NULL;
            ctx.tenant_no = 0;
            aigw_tenants_fail(&ctx, "duplicate tenant id \"%s\""
                              " (tenants #%zu and #%zu)", t->id.data,
                              (size_t) (aigw_tenant_of(dup) - ts->tenants)
                              + 1, i + 1);
            goto failed;
        }
    }

    json_decref(root);

    return ts;

failed:

    json_decref(root);
    aigw_tenants_free(ts);

    return NULL;
}


void
aigw_tenants_free(aigw_tenants_t *ts)
{
    aigw_arena_block_t  *b, *next;

    if (ts == NULL) {
        return;
    }

    /* "ts" lives in the first block: free it last */

    b = ts->blocks->next;

    while (b) {
        next = b->next;
        free(b);
        b = next;
    }

    free(ts->blocks);
}


size_t
aigw_tenants_count(const aigw_tenants_t *ts)
{
    return ts ? ts->ntenants : 0;
}


size_t
aigw_tenants_key_count(const aigw_tenants_t *ts)
{
    return ts ? ts->nkeys : 0;
}


const aigw_tenant_t *
aigw_tenants_get(const aigw_tenants_t *ts, size_t i)
{
    if (ts == NULL || i >= ts->ntenants) {
        return NULL;
    }

    return &ts->tenants[i];
}


const aigw_tenant_t *
aigw_tenants_find(const aigw_tenants_t *ts, const char *id, size_t len)
{
    const aigw_str_t  *s;

    s = ts ? aigw_table_find(ts, &ts->tenant_table, id, len) : NULL;

    return s ? aigw_tenant_of(s) : NULL;
}


const aigw_key_t *
aigw_tenants_find_key(const aigw_tenants_t *ts, const char *id, size_t len)
{
    const aigw_str_t  *s;

    s = ts ? aigw_table_find(ts, &ts->key_table, id, len) : NULL;

    return s ? aigw_key_of(s) : NULL;
}


int
aigw_tenant_id_valid(const char *id, size_t len)
{
    return aigw_id_chars(id, len, AIGW_TENANT_ID_MAX, "_.-");
}


int
aigw_key_id_valid(const char *id, size_t len)
{
    return aigw_id_chars(id, len, AIGW_KEY_ID_MAX, "-");
}


/* 1 to "max" characters of [A-Za-z0-9] and of "punct" */

static int
aigw_id_chars(const char *id, size_t len, size_t max, const char *punct)
{
    size_t         i;
    unsigned char  c;

    if (id == NULL || len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) id[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || aigw_is_digit(c) || (c != '\0' && strchr(punct, c))))
        {
            return 0;
        }
    }

    return 1;
}


int
aigw_key_parse(const char *key, size_t len, aigw_str_t *id)
{
    const char  *p, *u, *end;

    if (key == NULL
        || len < AIGW_KEY_PREFIX_LEN + 2 + AIGW_KEY_SECRET_LEN
        || len > AIGW_KEY_MAX_LEN
        || memcmp(key, AIGW_KEY_PREFIX, AIGW_KEY_PREFIX_LEN) != 0)
    {
        return -1;
    }

    p = key + AIGW_KEY_PREFIX_LEN;
    end = key + len;

    u = memchr(p, '_', end - p);

    if (u == NULL || !aigw_key_id_valid(p, u - p)
        || end - (u + 1) != AIGW_KEY_SECRET_LEN
        || !aigw_id_chars(u + 1, AIGW_KEY_SECRET_LEN, AIGW_KEY_SECRET_LEN,
                          "-_"))
    {
        return -1;
    }

    id->data = p;
    id->len = u - p;

    return 0;
}


aigw_auth_rc_e
aigw_tenants_authenticate(const aigw_tenants_t *ts, const char *key,
    size_t len, const aigw_tenant_t **tenant, const aigw_key_t **found)
{
    int                   equal;
    aigw_str_t            id;
    unsigned char         md[32];
    const aigw_key_t     *k;
    const unsigned char  *ref;

    *tenant = NULL;
    *found = NULL;

    if (aigw_key_parse(key, len, &id) != 0) {
        return AIGW_AUTH_MALFORMED;
    }

    if (ts == NULL) {
        return AIGW_AUTH_UNKNOWN_KEY;
    }

    k = aigw_tenants_find_key(ts, id.data, id.len);

    /* the same work whether the id is known or not */

    ref = k ? k->sha256 : ts->dummy;

    aigw_sha256(md, key, len);
    equal = aigw_ct_equal(md, ref, sizeof(md));
    OPENSSL_cleanse(md, sizeof(md));

    if (k == NULL) {
        return AIGW_AUTH_UNKNOWN_KEY;
    }

    if (!equal) {
        return AIGW_AUTH_BAD_SECRET;
    }

    *tenant = k->tenant;
    *found = k;

    return AIGW_AUTH_OK;
}


int
aigw_tenant_model_allowed(const aigw_tenant_t *t, const char *model,
    size_t len)
{
    size_t  i;

    /*
     * Exact glob semantics, nothing implicit: a cross-region profile
     * ("us.x"), an ARN or an alias is allowed only by a glob that matches
     * it as written.
     */

    if (t == NULL || model == NULL) {
        return 0;
    }

    for (i = 0; i < t->nmodels; i++) {
        if (aigw_glob_match(t->models[i].data, t->models[i].len, model, len))
        {
            return 1;
        }
    }

    return 0;
}


static const struct {
    const char  *name;
    size_t       len;
    unsigned     tier;
} aigw_service_tiers[] = {
    { "default", 7, AIGW_TIER_DEFAULT },
    { "priority", 8, AIGW_TIER_PRIORITY },
    { "flex", 4, AIGW_TIER_FLEX },
    { "reserved", 8, AIGW_TIER_RESERVED },
    { NULL, 0, 0 }
};


unsigned
aigw_service_tier(const char *name, size_t len)
{
    size_t  i;

    for (i = 0; aigw_service_tiers[i].name; i++) {
        if (len == aigw_service_tiers[i].len
            && memcmp(name, aigw_service_tiers[i].name, len) == 0)
        {
            return aigw_service_tiers[i].tier;
        }
    }

    return 0;
}


const char *
aigw_service_tier_name(unsigned tier)
{
    size_t  i;

    for (i = 0; aigw_service_tiers[i].name; i++) {
        if (tier == aigw_service_tiers[i].tier) {
            return aigw_service_tiers[i].name;
        }
    }

    return "";
}


int
aigw_tenant_tier_allowed(const aigw_tenant_t *t, unsigned tier)
{
    if (tier == AIGW_TIER_DEFAULT) {
        return 1;
    }

    return t != NULL && tier != 0 && (t->service_tiers & tier) == tier;
}


const aigw_str_t *
aigw_tenant_inference_profile(const aigw_tenant_t *t, const char *model,
    size_t len)
{
    int                              rc;
    size_t                           lo, hi, mid, n;
    const aigw_inference_profile_t  *p;

    if (t == NULL || model == NULL) {
        return NULL;
    }

    lo = 0;
    hi = t->nprofiles;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        p = &t->profiles[mid];

        n = (p->model.len < len) ? p->model.len : len;
        rc = memcmp(p->model.data, model, n);

        if (rc == 0) {
            rc = (p->model.len < len) ? -1 : (p->model.len > len);
        }

        if (rc == 0) {
            return &p->arn;
        }

        if (rc < 0) {
            lo = mid + 1;

        } else {
            hi = mid;
        }
    }

    return NULL;
}


size_t
aigw_key_generate(const char *id, size_t id_len, char *key,
    char *sha256_hex)
{
    size_t          i, n, r;
    unsigned char   rnd[32];
    uint32_t        v;
    char           *p;
    char            gen[AIGW_KEY_GEN_ID_LEN];

    if (id == NULL) {

        /* [a-z0-9]: rejection sampling keeps the 36 letters uniform */

        n = 0;

        while (n < AIGW_KEY_GEN_ID_LEN) {
            if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
                return 0;
            }

            for (r = 0; r < sizeof(rnd) && n < AIGW_KEY_GEN_ID_LEN; r++) {
                if (rnd[r] < 252) {
                    gen[n++] = aigw_key_id_alphabet[rnd[r] % 36];
                }
            }
        }

        id = gen;
        id_len = AIGW_KEY_GEN_ID_LEN;

    } else if (!aigw_key_id_valid(id, id_len)) {
        return 0;
    }

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return 0;
    }

    p = key;
    memcpy(p, AIGW_KEY_PREFIX, AIGW_KEY_PREFIX_LEN);
    p += AIGW_KEY_PREFIX_LEN;
    memcpy(p, id, id_len);
    p += id_len;
    *p++ = '_';

    /* base64url without padding: 10 groups of 3 bytes, then 2 bytes */

    for (i = 0; i + 3 <= sizeof(rnd); i += 3) {
        v = ((uint32_t) rnd[i] << 16) | ((uint32_t) rnd[i + 1] << 8)
            | rnd[i + 2];
        *p++ = aigw_base64url[(v >> 18) & 0x3f];
        *p++ = aigw_base64url[(v >> 12) & 0x3f];
        *p++ = aigw_base64url[(v >> 6) & 0x3f];
        *p++ = aigw_base64url[v & 0x3f];
    }

    v = ((uint32_t) rnd[30] << 16) | ((uint32_t) rnd[31] << 8);
    *p++ = aigw_base64url[(v >> 18) & 0x3f];
    *p++ = aigw_base64url[(v >> 12) & 0x3f];
    *p++ = aigw_base64url[(v >> 6) & 0x3f];

    *p = '\0';
    n = p - key;

    OPENSSL_cleanse(rnd, sizeof(rnd));

    aigw_sha256_hex(sha256_hex, key, n);
    sha256_hex[AIGW_SHA256_HEX_LEN] = '\0';

    return n;
}


/* the arena */


static aigw_tenants_t *
aigw_tenants_new(size_t size)
{
    aigw_tenants_t      *ts;
    aigw_arena_block_t  *b;

    size += aigw_align(sizeof(aigw_tenants_t), AIGW_ARENA_ALIGN);

    b = malloc(AIGW_ARENA_HEADER + size);
    if (b == NULL) {
        return NULL;
    }

    b->next = NULL;
    b->size = size;
    b->used = aigw_align(sizeof(aigw_tenants_t), AIGW_ARENA_ALIGN);

    ts = (aigw_tenants_t *) ((char *) b + AIGW_ARENA_HEADER);
    memset(ts, 0, sizeof(aigw_tenants_t));

    ts->blocks = b;
    ts->cur = b;

    return ts;
}


static void *
aigw_arena_alloc(aigw_tenants_t *ts, size_t size, size_t align)
{
    size_t               off;
    aigw_arena_block_t  *b;

    b = ts->cur;
    off = aigw_align(b->used, align);

    if (off > b->size || size > b->size - off) {

        /* the estimate fell short: a new block */

        off = AIGW_ARENA_BLOCK_MIN;
        if (off < size) {
            off = size;
        }

        b = malloc(AIGW_ARENA_HEADER + off);
        if (b == NULL) {
            return NULL;
        }

        b->next = NULL;
        b->size = off;
        b->used = 0;

        ts->cur->next = b;
        ts->cur = b;

        off = 0;
    }

    b->used = off + size;

    return (char *) b + AIGW_ARENA_HEADER + off;
}


/* an array of "n" elements (room for one at least), or NULL, reported */

static void *
aigw_arena_array(aigw_tenants_ctx_t *ctx, size_t n, size_t size)
{
    void  *p;

    p = aigw_arena_alloc(ctx->ts, (n ? n : 1) * size, sizeof(void *));
    if (p == NULL) {
        aigw_tenants_fail(ctx, "out of memory");
    }

    return p;
}


static int
aigw_arena_str(aigw_tenants_ctx_t *ctx, aigw_str_t *dst, const char *src,
    size_t len)
{
    char  *p;

    p = aigw_arena_alloc(ctx->ts, len + 1, 1);
    if (p == NULL) {
        return aigw_tenants_fail(ctx, "out of memory");
    }

    memcpy(p, src, len);
    p[len] = '\0';

    dst->data = p;
    dst->len = len;

    return 0;
}


/*
 * The structures are counted from the tree; the strings take less than
 * the text they came from.
 */

static size_t
aigw_tenants_estimate(json_t *tenants, size_t text_len, size_t *nkeys)
{
    size_t   i, n, size, keys, models, profiles;
    json_t  *t, *v;

    n = json_array_size(tenants);
    keys = 0;
    models = 0;
    profiles = 0;

    for (i = 0; i < n; i++) {
        t = json_array_get(tenants, i);

        v = json_object_get(t, "keys");
        keys += json_array_size(v);

        v = json_object_get(t, "models");
        models += json_array_size(v);

        v = json_object_get(t, "inference_profiles");
        profiles += json_object_size(v);
    }

    *nkeys = keys;

    size = (n + 1) * sizeof(aigw_tenant_t)
           + keys * sizeof(aigw_key_t)
           + models * sizeof(aigw_str_t)
           + profiles * sizeof(aigw_inference_profile_t)
           + (3 * n + 3) * AIGW_ARENA_ALIGN
           + (n + keys + 4) * 2 * sizeof(aigw_str_t *) * 2
           + text_len + 64;

    return size;
}


/* errors */


static int
aigw_tenants_fail(aigw_tenants_ctx_t *ctx, const char *fmt, ...)
{
    int      n;
    size_t   used;
    va_list  args;

    if (ctx->err_size == 0) {
        return -1;
    }

    if (ctx->tenant_id) {
        n = snprintf(ctx->err, ctx->err_size, "tenant \"%s\": %s",
                     ctx->tenant_id, ctx->where);

    } else if (ctx->tenant_no) {
        n = snprintf(ctx->err, ctx->err_size, "tenant #%zu: %s",
                     ctx->tenant_no, ctx->where);

    } else {
        n = 0;
        ctx->err[0] = '\0';
    }

    used = (n < 0) ? 0 : (size_t) n;

    if (used >= ctx->err_size) {
        return -1;
    }

    va_start(args, fmt);
    vsnprintf(ctx->err + used, ctx->err_size - used, fmt, args);
    va_end(args);

    return -1;
}


static void
aigw_tenants_syntax_error(aigw_tenants_ctx_t *ctx, const json_error_t *jerr)
{
    char    text[JSON_ERROR_TEXT_LENGTH];
    char   *near;

    /*
     * jansson ends its messages with "near '<token>'": the token may be
     * a hash, which must not reach a log; the line and column say where
     */

    memcpy(text, jerr->text, sizeof(text));
    text[sizeof(text) - 1] = '\0';

    near = strstr(text, " near ");
    if (near) {
        *near = '\0';
    }

    aigw_tenants_fail(ctx, "invalid JSON at line %d, column %d: %s",
                      jerr->line, jerr->column, text);
}


/*
 * A string from the file, quoted for a message: non-printable bytes as
 * \xNN, at most about 64 bytes of it.
 */

static const char *
aigw_tenants_quote(char *buf, size_t size, const char *s)
{
    size_t         n, max;
    unsigned char  c;

    max = size - 8;
    n = 0;
    buf[n++] = '"';

    for ( /* void */ ; *s; s++) {
        c = (unsigned char) *s;

        if (n + 4 > max) {
            memcpy(buf + n, "...", 3);
            n += 3;
            break;
        }

        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\') {
            n += snprintf(buf + n, size - n, "\\x%02x", c);

        } else {
            buf[n++] = (char) c;
        }
    }

    buf[n++] = '"';
    buf[n] = '\0';

    return buf;
}


/* a tenant */


static int
aigw_tenant_build(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t, json_t *obj)
{
    json_t      *v;
    const char  *name;
    char         q[96];

    if (aigw_tenants_object_id(ctx, obj, AIGW_TENANT_ID_MAX, "_.-", &t->id)
        != 0)
    {
        return -1;
    }

    ctx->tenant_id = t->id.data;

    t->project.data = "";
    t->department.data = "";
    t->service_tiers = AIGW_TIER_DEFAULT;
    t->limits.rpm = AIGW_LIMIT_NONE;
    t->limits.tpm = AIGW_LIMIT_NONE;
    t->limits.daily_nanousd = AIGW_LIMIT_NONE;
    t->limits.monthly_nanousd = AIGW_LIMIT_NONE;

    json_object_foreach(obj, name, v) {

        if (strcmp(name, "id") == 0) {
            continue;
        }

        if (strcmp(name, "project") == 0) {
            if (aigw_tenant_text(ctx, v, name, &t->project) != 0) {
                return -1;
            }

        } else if (strcmp(name, "department") == 0) {
            if (aigw_tenant_text(ctx, v, name, &t->department) != 0) {
                return -1;
            }

        } else if (strcmp(name, "keys") == 0) {
            if (aigw_tenant_keys(ctx, t, v) != 0) {
                return -1;
            }

        } else if (strcmp(name, "models") == 0) {
            if (aigw_tenant_models(ctx, t, v) != 0) {
                return -1;
            }

        } else if (strcmp(name, "inference_profiles") == 0) {
            if (aigw_tenant_profiles(ctx, t, v) != 0) {
                return -1;
            }

        } else if (strcmp(name, "service_tiers") == 0) {
            if (aigw_tenant_tiers(ctx, t, v) != 0) {
                return -1;
            }

        } else if (strcmp(name, "latency_optimized") == 0) {
            if (!json_is_boolean(v)) {
                return aigw_tenants_fail(ctx, "latency_optimized: expected"
                                         " true or false");
            }

            t->latency_optimized = json_is_true(v);

        } else if (strcmp(name, "limits") == 0) {
            if (aigw_tenant_limits(ctx, t, v) != 0) {
                return -1;
            }

        } else {
            return aigw_tenants_fail(ctx, "unknown field %s (expected id,"
                                     " project, department, keys, models,"
                                     " inference_profiles, service_tiers,"
                                     " latency_optimized, limits)",
                                     aigw_tenants_quote(q, sizeof(q), name));
        }
    }

    return 0;
}


/*
 * The "id" of a tenant's or a key's object: 1 to "max" characters of
 * [A-Za-z0-9] and "punct", copied to "dst"
 */

static int
aigw_tenants_object_id(aigw_tenants_ctx_t *ctx, json_t *obj, size_t max,
    const char *punct, aigw_str_t *dst)
{
    size_t       len;
    json_t      *id;
    const char  *s;

    if (!json_is_object(obj)) {
        return aigw_tenants_fail(ctx, "expected an object");
    }

    id = json_object_get(obj, "id");

    if (id == NULL) {
        return aigw_tenants_fail(ctx, "missing \"id\"");
    }

    if (!json_is_string(id)) {
        return aigw_tenants_fail(ctx, "id: expected a string");
    }

    s = json_string_value(id);
    len = json_string_length(id);

    if (!aigw_id_chars(s, len, max, punct)) {
        return aigw_tenants_fail(ctx, "id: expected 1 to %zu characters"
                                 " of [A-Za-z0-9%s]", max, punct);
    }

    return aigw_arena_str(ctx, dst, s, len);
}


/* project, department, a key's created and note */

static int
aigw_tenant_text(aigw_tenants_ctx_t *ctx, json_t *v, const char *field,
    aigw_str_t *dst)
{
    size_t         i, len;
    const char    *s;
    unsigned char  c;

    if (!json_is_string(v)) {
        return aigw_tenants_fail(ctx, "%s: expected a string", field);
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len > AIGW_TENANT_TEXT_MAX) {
        return aigw_tenants_fail(ctx, "%s: longer than %d bytes", field,
                                 AIGW_TENANT_TEXT_MAX);
    }

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 || c == 0x7f) {
            return aigw_tenants_fail(ctx, "%s: control characters are not"
                                     " allowed", field);
        }
    }

    return aigw_arena_str(ctx, dst, s, len);
}


static int
aigw_tenant_keys(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t, json_t *arr)
{
    size_t  i, n;

    if (!json_is_array(arr)) {
        return aigw_tenants_fail(ctx, "keys: expected an array");
    }

    n = json_array_size(arr);

    t->keys = aigw_arena_array(ctx, n, sizeof(aigw_key_t));
    if (t->keys == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        snprintf(ctx->where, sizeof(ctx->where), "keys #%zu: ", i + 1);

        if (aigw_tenant_key(ctx, t, &t->keys[i], json_array_get(arr, i))
            != 0)
        {
            return -1;
        }

        t->nkeys++;
    }

    ctx->where[0] = '\0';

    return 0;
}


static int
aigw_tenant_key(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t, aigw_key_t *k,
    json_t *obj)
{
    int                h, l;
    size_t             i;
    json_t            *sha, *v;
    const char        *name, *s;
    const aigw_key_t  *other;
    const aigw_str_t  *dup;
    char               q[96];

    memset(k, 0, sizeof(aigw_key_t));
    k->created.data = "";
    k->note.data = "";
    k->tenant = t;

    if (aigw_tenants_object_id(ctx, obj, AIGW_KEY_ID_MAX, "-", &k->id) != 0) {
        return -1;
    }

    snprintf(ctx->where, sizeof(ctx->where), "key \"%s\": ", k->id.data);

    sha = json_object_get(obj, "sha256");

    if (sha == NULL) {
        return aigw_tenants_fail(ctx, "missing \"sha256\"");
    }

    if (!json_is_string(sha)
        || json_string_length(sha) != AIGW_SHA256_HEX_LEN)
    {
        return aigw_tenants_fail(ctx, "sha256: expected %d hexadecimal"
                                 " digits (the SHA-256 of the whole key)",
                                 AIGW_SHA256_HEX_LEN);
    }

    s = json_string_value(sha);

    for (i = 0; i < 32; i++) {
        h = aigw_hex_value((unsigned char) s[2 * i]);
        l = aigw_hex_value((unsigned char) s[2 * i + 1]);

        if (h < 0 || l < 0) {
            return aigw_tenants_fail(ctx, "sha256: expected %d hexadecimal"
                                     " digits (the SHA-256 of the whole"
                                     " key)", AIGW_SHA256_HEX_LEN);
        }

        k->sha256[i] = (unsigned char) (h << 4 | l);
    }

    json_object_foreach(obj, name, v) {

        if (strcmp(name, "id") == 0 || strcmp(name, "sha256") == 0) {
            continue;
        }

        if (strcmp(name, "created") == 0) {
            if (aigw_tenant_text(ctx, v, name, &k->created) != 0) {
                return -1;
            }

        } else if (strcmp(name, "note") == 0) {
            if (aigw_tenant_text(ctx, v, name, &k->note) != 0) {
                return -1;
            }

        } else {
            return aigw_tenants_fail(ctx, "unknown field %s (expected id,"
                                     " sha256, created, note)",
                                     aigw_tenants_quote(q, sizeof(q), name));
        }
    }

    dup = aigw_table_insert(ctx->ts, &ctx->ts->key_table, &k->id);

    if (dup) {
        other = aigw_key_of(dup);

        ctx->where[0] = '\0';

        if (other->tenant == t) {
            return aigw_tenants_fail(ctx, "key id \"%s\" is used twice",
                                     k->id.data);
        }

        ctx->tenant_id = NULL;
        ctx->tenant_no = 0;

        return aigw_tenants_fail(ctx, "key id \"%s\" is used twice"
                                 " (tenants \"%s\" and \"%s\")", k->id.data,
                                 other->tenant->id.data, t->id.data);
    }

    ctx->ts->nkeys++;

    return 0;
}


static int
aigw_tenant_models(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t, json_t *arr)
{
    size_t       i, n, len;
    json_t      *v;
    const char  *s;

    if (!json_is_array(arr)) {
        return aigw_tenants_fail(ctx, "models: expected an array of glob"
                                 " patterns");
    }

    n = json_array_size(arr);

    t->models = aigw_arena_array(ctx, n, sizeof(aigw_str_t));
    if (t->models == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        v = json_array_get(arr, i);

        if (!json_is_string(v)) {
            return aigw_tenants_fail(ctx, "models #%zu: expected a string",
                                     i + 1);
        }

        s = json_string_value(v);
        len = json_string_length(v);

        if (len == 0) {
            return aigw_tenants_fail(ctx, "models #%zu: empty pattern",
                                     i + 1);
        }

        if (len > AIGW_MODEL_ID_MAX) {
            return aigw_tenants_fail(ctx, "models #%zu: longer than %d"
                                     " bytes", i + 1, AIGW_MODEL_ID_MAX);
        }

        if (!aigw_model_chars(s, len)) {
            return aigw_tenants_fail(ctx, "models #%zu: spaces and control"
                                     " characters are not allowed", i + 1);
        }

        if (aigw_arena_str(ctx, &t->models[i], s, len) != 0) {
            return -1;
        }

        t->nmodels++;
    }

    return 0;
}


/* "service_tiers": names of Bedrock's tiers; "default" is always allowed */

static int
aigw_tenant_tiers(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t, json_t *arr)
{
    char       q[96];
    size_t     i, n;
    json_t    *v;
    unsigned   tier;

    if (!json_is_array(arr)) {
        return aigw_tenants_fail(ctx, "service_tiers: expected an array of"
                                 " \"priority\", \"flex\", \"reserved\","
                                 " \"default\"");
    }

    n = json_array_size(arr);

    for (i = 0; i < n; i++) {
        v = json_array_get(arr, i);

        if (!json_is_string(v)) {
            return aigw_tenants_fail(ctx, "service_tiers #%zu: expected a"
                                     " string", i + 1);
        }

        tier = aigw_service_tier(json_string_value(v),
                                 json_string_length(v));

        if (tier == 0) {
            return aigw_tenants_fail(ctx, "service_tiers #%zu: %s is not"
                                     " \"priority\", \"flex\","
                                     " \"reserved\" or \"default\"", i + 1,
                                     aigw_tenants_quote(q, sizeof(q),
                                                   json_string_value(v)));
        }

        t->service_tiers |= tier;
    }

    return 0;
}


static int
aigw_tenant_profiles(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *obj)
{
    size_t                     n, len;
    json_t                    *v;
    const char                *model, *reason;
    aigw_inference_profile_t  *p;
    char                       q[96];

    if (!json_is_object(obj)) {
        return aigw_tenants_fail(ctx, "inference_profiles: expected an"
                                 " object {\"model ID\": \"inference profile"
                                 " ARN\"}");
    }

    n = json_object_size(obj);

    t->profiles = aigw_arena_array(ctx, n, sizeof(aigw_inference_profile_t));
    if (t->profiles == NULL) {
        return -1;
    }

    json_object_foreach(obj, model, v) {
        len = strlen(model);

        if (len == 0 || len > AIGW_MODEL_ID_MAX
            || !aigw_model_chars(model, len))
        {
            return aigw_tenants_fail(ctx, "inference_profiles: invalid model"
                                     " ID %s",
                                     aigw_tenants_quote(q, sizeof(q),
                                                        model));
        }

        if (!json_is_string(v)) {
            return aigw_tenants_fail(ctx, "inference_profiles %s: expected"
                                     " a string (an inference profile ARN)",
                                     aigw_tenants_quote(q, sizeof(q),
                                                        model));
        }

        reason = aigw_tenant_check_profile_arn(json_string_value(v),
                                               json_string_length(v));
        if (reason) {
            return aigw_tenants_fail(ctx, "inference_profiles %s: %s",
                                     aigw_tenants_quote(q, sizeof(q), model),
                                     reason);
        }

        p = &t->profiles[t->nprofiles];

        if (aigw_arena_str(ctx, &p->model, model, len) != 0
            || aigw_arena_str(ctx, &p->arn, json_string_value(v),
                              json_string_length(v))
               != 0)
        {
            return -1;
        }

        t->nprofiles++;
    }

    qsort(t->profiles, t->nprofiles, sizeof(aigw_inference_profile_t),
          aigw_profile_cmp);

    return 0;
}


/*
 * arn:PARTITION:bedrock:REGION:ACCOUNT:inference-profile/ID
 * arn:PARTITION:bedrock:REGION:ACCOUNT:application-inference-profile/ID
 */

static const char *
aigw_tenant_check_profile_arn(const char *arn, size_t len)
{
    size_t       n;
    const char  *reason, *p, *end, *f[6];

    reason = aigw_target_check_id(AIGW_SERVICE_BEDROCK, arn, len);
    if (reason) {
        return reason;
    }

    if (len < 4 || memcmp(arn, "arn:", 4) != 0) {
        return "expected an inference profile ARN"
               " (arn:aws:bedrock:REGION:ACCOUNT:"
               "application-inference-profile/ID)";
    }

    /* valid ARN: six fields, the resource last */

    p = arn;
    end = arn + len;

    for (n = 0; n < 6; n++) {
        f[n] = p;

        if (n < 5) {
            p = memchr(p, ':', end - p);
            if (p == NULL) {
                return "invalid model ARN";
            }

            p++;
        }
    }

    if (f[3] - f[2] != sizeof("bedrock:") - 1
        || memcmp(f[2], "bedrock:", sizeof("bedrock:") - 1) != 0)
    {
        return "not a Bedrock inference profile ARN";
    }

    if (f[5] - f[4] == 1) {
        return "an inference profile ARN needs an account ID";
    }

    n = end - f[5];

    if (!(n > sizeof("inference-profile/") - 1
          && memcmp(f[5], "inference-profile/",
                    sizeof("inference-profile/") - 1) == 0)
        && !(n > sizeof("application-inference-profile/") - 1
             && memcmp(f[5], "application-inference-profile/",
                       sizeof("application-inference-profile/") - 1) == 0))
    {
        return "not an inference profile ARN (expected"
               " arn:aws:bedrock:REGION:ACCOUNT:"
               "application-inference-profile/ID or"
               " ...:inference-profile/ID)";
    }

    return NULL;
}


static int
aigw_profile_cmp(const void *a, const void *b)
{
    int                              rc;
    size_t                           n;
    const aigw_inference_profile_t  *pa, *pb;

    pa = a;
    pb = b;

    n = (pa->model.len < pb->model.len) ? pa->model.len : pb->model.len;
    rc = memcmp(pa->model.data, pb->model.data, n);

    if (rc) {
        return rc;
    }

    return (pa->model.len > pb->model.len) - (pa->model.len < pb->model.len);
}


static int
aigw_tenant_limits(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t, json_t *obj)
{
    int          rc;
    int64_t     *dst;
    json_t      *v;
    const char  *name;
    char         q[96];

    if (!json_is_object(obj)) {
        return aigw_tenants_fail(ctx, "limits: expected an object");
    }

    json_object_foreach(obj, name, v) {

        if (strcmp(name, "rpm") == 0 || strcmp(name, "tpm") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0) {
                return aigw_tenants_fail(ctx, "limits.%s: expected a"
                                         " non-negative integer", name);
            }

            if (name[0] == 'r') {
                t->limits.rpm = json_integer_value(v);

            } else {
                t->limits.tpm = json_integer_value(v);
            }

        } else if (strcmp(name, "daily_usd") == 0
                   || strcmp(name, "monthly_usd") == 0)
        {
            dst = (name[0] == 'd') ? &t->limits.daily_nanousd
                                   : &t->limits.monthly_nanousd;

            rc = aigw_tenant_amount(v, 9, dst);

            if (rc == AIGW_DECIMAL_PLACES) {
                return aigw_tenants_fail(ctx, "limits.%s: more than 9"
                                         " decimal places", name);
            }

            if (rc == AIGW_DECIMAL_RANGE) {
                return aigw_tenants_fail(ctx, "limits.%s: too large", name);
            }

            if (rc == AIGW_DECIMAL_INEXACT) {
                return aigw_tenants_fail(ctx, "limits.%s: a number of more"
                                         " than 15 significant digits"
                                         " (write it as a string such as"
                                         " \"12.5\")", name);
            }

            if (rc != AIGW_DECIMAL_OK) {
                return aigw_tenants_fail(ctx, "limits.%s: expected a"
                                         " non-negative amount in USD (a"
                                         " number, or a string such as"
                                         " \"12.5\")", name);
            }

        } else if (strcmp(name, "alert_at") == 0) {
            if (aigw_tenant_alert_at(ctx, t, v) != 0) {
                return -1;
            }

        } else {
            return aigw_tenants_fail(ctx, "limits: unknown field %s"
                                     " (expected rpm, tpm, daily_usd,"
                                     " monthly_usd, alert_at)",
                                     aigw_tenants_quote(q, sizeof(q), name));
        }
    }

    return 0;
}


static int
aigw_tenant_alert_at(aigw_tenants_ctx_t *ctx, aigw_tenant_t *t,
    json_t *arr)
{
    int             rc;
    size_t          i, j, n;
    int64_t         v;
    uint32_t        ppm;
    aigw_limits_t  *l;

    if (!json_is_array(arr)) {
        return aigw_tenants_fail(ctx, "limits.alert_at: expected an array"
                                 " of fractions of the budgets");
    }

    n = json_array_size(arr);

    if (n > AIGW_ALERT_AT_MAX) {
        return aigw_tenants_fail(ctx, "limits.alert_at: more than %d"
                                 " thresholds", AIGW_ALERT_AT_MAX);
    }

    l = &t->limits;
    l->nalert_at = 0;

    for (i = 0; i < n; i++) {
        rc = aigw_tenant_amount(json_array_get(arr, i), 6, &v);

        if (rc == AIGW_DECIMAL_PLACES) {
            return aigw_tenants_fail(ctx, "limits.alert_at #%zu: more than"
                                     " 6 decimal places", i + 1);
        }

        if (rc == AIGW_DECIMAL_INEXACT) {
            return aigw_tenants_fail(ctx, "limits.alert_at #%zu: a number"
                                     " of more than 15 significant digits",
                                     i + 1);
        }

        if (rc != AIGW_DECIMAL_OK || v <= 0 || v > AIGW_ALERT_AT_MAX_PPM) {
            return aigw_tenants_fail(ctx, "limits.alert_at #%zu: expected a"
                                     " fraction of the budgets, greater"
                                     " than 0 and at most 10", i + 1);
        }

        ppm = (uint32_t) v;

        /* insertion sort, duplicates refused */

        for (j = l->nalert_at; j > 0 && l->alert_at[j - 1] >= ppm; j--) {
            if (l->alert_at[j - 1] == ppm) {
                return aigw_tenants_fail(ctx, "limits.alert_at #%zu: a"
                                         " duplicate threshold", i + 1);
            }

            l->alert_at[j] = l->alert_at[j - 1];
        }

        l->alert_at[j] = ppm;
        l->nalert_at++;
    }

    return 0;
}


/*
 * A non-negative amount (aigw_decimal_json()) times 10^scale, which must
 * fit in int64_t, else AIGW_DECIMAL_RANGE.
 */

static aigw_decimal_rc_e
aigw_tenant_amount(json_t *v, unsigned scale, int64_t *out)
{
    uint64_t           u;
    aigw_decimal_rc_e  rc;

    rc = aigw_decimal_json(v, scale, &u, NULL);

    if (rc == AIGW_DECIMAL_OK) {
        if (u > INT64_MAX) {
            return AIGW_DECIMAL_RANGE;
        }

        *out = (int64_t) u;
    }

    return rc;
}


/* model IDs and patterns: printable ASCII without spaces */

static int
aigw_model_chars(const char *s, size_t len)
{
    size_t         i;
    unsigned char  c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c < 0x21 || c > 0x7e) {
            return 0;
        }
    }

    return 1;
}


/* the hash tables */


static int
aigw_table_init(aigw_tenants_t *ts, aigw_table_t *t, size_t n)
{
    size_t  size;

    size = 4;

    while (size < 2 * n) {
        size <<= 1;
    }

    t->slots = aigw_arena_alloc(ts, size * sizeof(aigw_str_t *),
                                sizeof(void *));
    if (t->slots == NULL) {
        return -1;
    }

    memset(t->slots, 0, size * sizeof(aigw_str_t *));
    t->mask = size - 1;

    return 0;
}


/* NULL, or the entry with the same id already there */

static const aigw_str_t *
aigw_table_insert(aigw_tenants_t *ts, aigw_table_t *t, const aigw_str_t *s)
{
    size_t             i;
    const aigw_str_t  *e;

    i = (size_t) aigw_siphash(ts->seed, s->data, s->len) & t->mask;

    for ( ;; ) {
        e = t->slots[i];

        if (e == NULL) {
            t->slots[i] = s;
            return NULL;
        }

        if (e->len == s->len && memcmp(e->data, s->data, s->len) == 0) {
            return e;
        }

        i = (i + 1) & t->mask;
    }
}


static const aigw_str_t *
aigw_table_find(const aigw_tenants_t *ts, const aigw_table_t *t,
    const char *p, size_t len)
{
    size_t             i;
    const aigw_str_t  *e;

    if (p == NULL || t->slots == NULL) {
        return NULL;
    }

    i = (size_t) aigw_siphash(ts->seed, p, len) & t->mask;

    for ( ;; ) {
        e = t->slots[i];

        if (e == NULL) {
            return NULL;
        }

        if (e->len == len && memcmp(e->data, p, len) == 0) {
            return e;
        }

        i = (i + 1) & t->mask;
    }
}


/* SipHash-2-4 (Aumasson, Bernstein) */

#define AIGW_ROTL(x, b)  (((x) << (b)) | ((x) >> (64 - (b))))

#define AIGW_SIPROUND                                                         \
    do {                                                                      \
        v0 += v1; v1 = AIGW_ROTL(v1, 13); v1 ^= v0;                           \
        v0 = AIGW_ROTL(v0, 32);                                               \
        v2 += v3; v3 = AIGW_ROTL(v3, 16); v3 ^= v2;                           \
        v0 += v3; v3 = AIGW_ROTL(v3, 21); v3 ^= v0;                           \
        v2 += v1; v1 = AIGW_ROTL(v1, 17); v1 ^= v2;                           \
        v2 = AIGW_ROTL(v2, 32);                                               \
    } while (0)


static uint64_t
aigw_load64(const unsigned char *p)
{
    return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16
           | (uint64_t) p[3] << 24 | (uint64_t) p[4] << 32
           | (uint64_t) p[5] << 40 | (uint64_t) p[6] << 48
           | (uint64_t) p[7] << 56;
}


static uint64_t
aigw_siphash(const unsigned char key[16], const void *in, size_t len)
{
    size_t                i, left;
    uint64_t              k0, k1, v0, v1, v2, v3, m, b;
    const unsigned char  *p, *end;

    k0 = aigw_load64(key);
    k1 = aigw_load64(key + 8);

    v0 = k0 ^ 0x736f6d6570736575ULL;
    v1 = k1 ^ 0x646f72616e646f6dULL;
    v2 = k0 ^ 0x6c7967656e657261ULL;
    v3 = k1 ^ 0x7465646279746573ULL;

    p = in;
    left = len & 7;
    end = p + (len - left);

    for ( /* void */ ; p != end; p += 8) {
        m = aigw_load64(p);
        v3 ^= m;
        AIGW_SIPROUND;
        AIGW_SIPROUND;
        v0 ^= m;
    }

    b = (uint64_t) len << 56;

    for (i = 0; i < left; i++) {
        b |= (uint64_t) p[i] << (8 * i);
    }

    v3 ^= b;
    AIGW_SIPROUND;
    AIGW_SIPROUND;
    v0 ^= b;

    v2 ^= 0xff;
    AIGW_SIPROUND;
    AIGW_SIPROUND;
    AIGW_SIPROUND;
    AIGW_SIPROUND;

    return v0 ^ v1 ^ v2 ^ v3;
}
