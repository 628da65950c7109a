
/*
 * aigw: what the tenants files share: the loaded set (its arena and hash
 * tables).  Private to the core.
 */

#ifndef AIGW_TENANTS_INT_H
#define AIGW_TENANTS_INT_H


#include <stddef.h>

#include "aigw_tenants.h"


#define aigw_align(n, a)        (((n) + ((a) - 1)) & ~((size_t) (a) - 1))

#define AIGW_ARENA_ALIGN        16

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


/* aigw_tenants_load.c: "size" bytes of the set's arena, or NULL */
void *aigw_tenants_arena_alloc(aigw_tenants_t *ts, size_t size,
    size_t align);

/* aigw_tenants_keys.c: 1 to "max" characters of [A-Za-z0-9] and "punct" */
int aigw_tenants_id_chars(const char *id, size_t len, size_t max,
    const char *punct);

/*
 * aigw_tenants_hash.c: a table of room for "n" ids; adding the "id"
 * member of a tenant or a key (NULL, or the entry with the same id
 * already there); finding one
 */
int aigw_tenants_table_init(aigw_tenants_t *ts, aigw_table_t *t, size_t n);
const aigw_str_t *aigw_tenants_table_insert(aigw_tenants_t *ts,
    aigw_table_t *t, const aigw_str_t *s);
const aigw_str_t *aigw_tenants_table_find(const aigw_tenants_t *ts,
    const aigw_table_t *t, const char *p, size_t len);


#endif /* AIGW_TENANTS_INT_H */
