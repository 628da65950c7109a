
/*
 * aigw: API keys: the key and id formats, authentication (in the same
 * time whether the key id is known or not) and new keys.
 */


#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "aigw_tenants_int.h"
#include "aigw_util.h"


#define aigw_is_digit(c)        ((c) >= '0' && (c) <= '9')


static const char  aigw_base64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char  aigw_key_id_alphabet[] =
    "abcdefghijklmnopqrstuvwxyz0123456789";


int
aigw_tenant_id_valid(const char *id, size_t len)
{
    return aigw_tenants_id_chars(id, len, AIGW_TENANT_ID_MAX, "_.-");
}


int
aigw_key_id_valid(const char *id, size_t len)
{
    return aigw_tenants_id_chars(id, len, AIGW_KEY_ID_MAX, "-");
}


/* 1 to "max" characters of [A-Za-z0-9] and of "punct" */

int
aigw_tenants_id_chars(const char *id, size_t len, size_t max, const char *punct)
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
        || !aigw_tenants_id_chars(u + 1, AIGW_KEY_SECRET_LEN,
                                  AIGW_KEY_SECRET_LEN, "-_"))
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
