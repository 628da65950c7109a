
/*
 * aigw: the loaded set's lookups: tenant ids and key ids in
 * open-addressing hash tables (linear probing, at most half full) keyed
 * with SipHash-2-4 and a seed drawn at load, so that probe sequences
 * cannot be predicted from the outside.
 */


#include <string.h>

#include "aigw_tenants_int.h"


static uint64_t aigw_siphash(const unsigned char key[16], const void *in,
    size_t len);


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

    s = ts ? aigw_tenants_table_find(ts, &ts->tenant_table, id, len) : NULL;

    return s ? aigw_tenant_of(s) : NULL;
}


const aigw_key_t *
aigw_tenants_find_key(const aigw_tenants_t *ts, const char *id, size_t len)
{
    const aigw_str_t  *s;

    s = ts ? aigw_tenants_table_find(ts, &ts->key_table, id, len) : NULL;

    return s ? aigw_key_of(s) : NULL;
}



int
aigw_tenants_table_init(aigw_tenants_t *ts, aigw_table_t *t, size_t n)
{
    size_t  size;

    size = 4;

    while (size < 2 * n) {
        size <<= 1;
    }

    t->slots = aigw_tenants_arena_alloc(ts, size * sizeof(aigw_str_t *),
                                sizeof(void *));
    if (t->slots == NULL) {
        return -1;
    }

    memset(t->slots, 0, size * sizeof(aigw_str_t *));
    t->mask = size - 1;

    return 0;
}


/* NULL, or the entry with the same id already there */

const aigw_str_t *
aigw_tenants_table_insert(aigw_tenants_t *ts, aigw_table_t *t,
    const aigw_str_t *s)
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


const aigw_str_t *
aigw_tenants_table_find(const aigw_tenants_t *ts, const aigw_table_t *t,
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
