
/*
 * aigw: loading a tenants file (tenants, keys, allowed models and tiers,
 * inference profiles, limits).
 *
 * The file is parsed with jansson, then copied into an arena: one block
 * sized from the JSON text (every string kept is shorter than its JSON
 * form), more only if that estimate falls short.  The jansson tree is
 * freed before aigw_tenants_parse() returns.  Amounts are exact decimals
 * (aigw_decimal_json()).
 */


#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "aigw_decimal.h"
#include "aigw_target.h"
#include "aigw_tenants_int.h"
#include "aigw_util.h"


#define AIGW_ARENA_BLOCK_MIN    65536
#define AIGW_ALERT_AT_MAX_PPM   (10 * AIGW_PPM)


typedef struct {
    aigw_tenants_t       *ts;
    char                 *err;
    size_t                err_size;
    const char           *tenant_id;        /* valid, NUL-terminated */
    size_t                tenant_no;        /* from 1; 0: not in a tenant */
    char                  where[128];       /* 'key "k1": ', 'keys #2: ' */
} aigw_tenants_ctx_t;


static aigw_tenants_t *aigw_tenants_new(size_t size);
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
static void aigw_tenant_limits_none(aigw_limits_t *l);
static int aigw_tenant_limits(aigw_tenants_ctx_t *ctx, aigw_limits_t *l,
    json_t *obj);
static int aigw_tenant_alert_at(aigw_tenants_ctx_t *ctx, aigw_limits_t *l,
    json_t *arr);
static aigw_decimal_rc_e aigw_tenant_amount(json_t *v, unsigned scale,
    int64_t *out);
static int aigw_model_chars(const char *s, size_t len);


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

    ts->tenants = aigw_tenants_arena_alloc(ts,
                                           (n ? n : 1) * sizeof(aigw_tenant_t),
                                           sizeof(void *));

    if (ts->tenants == NULL
        || aigw_tenants_table_init(ts, &ts->tenant_table, n) != 0
        || aigw_tenants_table_init(ts, &ts->key_table, nkeys) != 0)
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

        dup = aigw_tenants_table_insert(ts, &ts->tenant_table, &t->id);

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

    /* what the field checks cannot see: a real rounded on reading */

    if (aigw_decimal_json_digits(text, len, &jerr) != 0) {
        ctx.tenant_id = NULL;
        ctx.tenant_no = 0;
        ctx.where[0] = '\0';
        aigw_tenants_fail(&ctx, "line %d, column %d: %s", jerr.line,
                          jerr.column, jerr.text);
        goto failed;
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


void *
aigw_tenants_arena_alloc(aigw_tenants_t *ts, size_t size, size_t align)
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

    p = aigw_tenants_arena_alloc(ctx->ts, (n ? n : 1) * size, sizeof(void *));
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

    p = aigw_tenants_arena_alloc(ctx->ts, len + 1, 1);
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
    aigw_tenant_limits_none(&t->limits);

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
            if (aigw_tenant_limits(ctx, &t->limits, v) != 0) {
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

    if (!aigw_tenants_id_chars(s, len, max, punct)) {
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
    aigw_tenant_limits_none(&k->limits);

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

        } else if (strcmp(name, "limits") == 0) {
            if (aigw_tenant_limits(ctx, &k->limits, v) != 0) {
                return -1;
            }

        } else {
            return aigw_tenants_fail(ctx, "unknown field %s (expected id,"
                                     " sha256, created, note, limits)",
                                     aigw_tenants_quote(q, sizeof(q), name));
        }
    }

    dup = aigw_tenants_table_insert(ctx->ts, &ctx->ts->key_table, &k->id);

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


static void
aigw_tenant_limits_none(aigw_limits_t *l)
{
    l->rpm = AIGW_LIMIT_NONE;
    l->tpm = AIGW_LIMIT_NONE;
    l->daily_nanousd = AIGW_LIMIT_NONE;
    l->monthly_nanousd = AIGW_LIMIT_NONE;
    l->nalert_at = 0;
}


static int
aigw_tenant_limits(aigw_tenants_ctx_t *ctx, aigw_limits_t *l, json_t *obj)
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
                l->rpm = json_integer_value(v);

            } else {
                l->tpm = json_integer_value(v);
            }

        } else if (strcmp(name, "daily_usd") == 0
                   || strcmp(name, "monthly_usd") == 0)
        {
            dst = (name[0] == 'd') ? &l->daily_nanousd : &l->monthly_nanousd;

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
            if (aigw_tenant_alert_at(ctx, l, v) != 0) {
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
aigw_tenant_alert_at(aigw_tenants_ctx_t *ctx, aigw_limits_t *l,
    json_t *arr)
{
    int             rc;
    size_t          i, j, n;
    int64_t         v;
    uint32_t        ppm;

    if (!json_is_array(arr)) {
        return aigw_tenants_fail(ctx, "limits.alert_at: expected an array"
                                 " of fractions of the budgets");
    }

    n = json_array_size(arr);

    if (n > AIGW_ALERT_AT_MAX) {
        return aigw_tenants_fail(ctx, "limits.alert_at: more than %d"
                                 " thresholds", AIGW_ALERT_AT_MAX);
    }

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
