
/*
 * aigw: small helpers of the pure core (hex, SHA-256, HMAC, URI encoding,
 * constant-time comparison, glob matching).  No nginx headers.
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aigw_util.h"


struct aigw_sha256_s {
    EVP_MD_CTX  *ctx;
    int          final;         /* finalised: initialised again when used */
};


static const char  aigw_hex_lower[] = "0123456789abcdef";
static const char  aigw_hex_upper[] = "0123456789ABCDEF";

/* see aigw_sha256_md() */
static EVP_MD      *aigw_sha256_fetched;
static EVP_MD_CTX  *aigw_sha256_shared;


void
aigw_hex(char *out, const unsigned char *in, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        *out++ = aigw_hex_lower[in[i] >> 4];
        *out++ = aigw_hex_lower[in[i] & 0x0f];
    }
}


const EVP_MD *
aigw_sha256_md(void)
{
    if (aigw_sha256_fetched == NULL) {
        aigw_sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);

        if (aigw_sha256_fetched == NULL) {
            return EVP_sha256();
        }
    }

    return aigw_sha256_fetched;
}


void
aigw_util_cleanup(void)
{
    EVP_MD_CTX_free(aigw_sha256_shared);
    aigw_sha256_shared = NULL;

    EVP_MD_free(aigw_sha256_fetched);
    aigw_sha256_fetched = NULL;
}


/* the context of the one-shot hashes; NULL on allocation failure */

static EVP_MD_CTX *
aigw_sha256_shared_ctx(void)
{
    if (aigw_sha256_shared == NULL) {
        aigw_sha256_shared = EVP_MD_CTX_new();
    }

    return aigw_sha256_shared;
}


void
aigw_sha1_hex(char out[41], const void *p, size_t len)
{
    unsigned int   n;
    unsigned char  md[EVP_MAX_MD_SIZE];

    n = 0;

    (void) EVP_Digest(p, len, md, &n, EVP_sha1(), NULL);

    aigw_hex(out, md, 20);
    out[40] = '\0';
}


void
aigw_sha256(unsigned char out[32], const void *p, size_t len)
{
    EVP_MD_CTX  *ctx;

    if (p == NULL) {
        p = "";
    }

    ctx = aigw_sha256_shared_ctx();

    if (ctx == NULL
        || EVP_DigestInit_ex(ctx, aigw_sha256_md(), NULL) != 1
        || EVP_DigestUpdate(ctx, p, len) != 1
        || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
    {
        memset(out, 0, 32);
    }
}


void
aigw_sha256_hex(char out[64], const void *p, size_t len)
{
    unsigned char  md[32];

    aigw_sha256(md, p, len);
    aigw_hex(out, md, 32);
}


/*
 * HMAC (RFC 2104): the key block is the key, or its hash when longer than
 * a SHA-256 block, zero-padded to a block; the inner hash starts with
 * the block XOR 0x36 (ipad), the outer with the block XOR 0x5c (opad).
 */

static int
aigw_hmac_key_block(unsigned char k[64], const void *key, size_t key_len)
{
    EVP_MD_CTX  *ctx;

    memset(k, 0, 64);

    if (key_len <= 64) {
        if (key_len) {
            memcpy(k, key, key_len);
        }

        return 0;
    }

    ctx = aigw_sha256_shared_ctx();

    if (ctx == NULL
        || EVP_DigestInit_ex(ctx, aigw_sha256_md(), NULL) != 1
        || EVP_DigestUpdate(ctx, key, key_len) != 1
        || EVP_DigestFinal_ex(ctx, k, NULL) != 1)
    {
        return -1;
    }

    return 0;
}


/* "ctx" after the key block XOR "x": the block is XORed in place */

static int
aigw_hmac_pad(EVP_MD_CTX *ctx, unsigned char k[64], unsigned char x)
{
    size_t  i;

    for (i = 0; i < 64; i++) {
        k[i] ^= x;
    }

    if (EVP_DigestInit_ex(ctx, aigw_sha256_md(), NULL) != 1
        || EVP_DigestUpdate(ctx, k, 64) != 1)
    {
        return -1;
    }

    return 0;
}


void
aigw_hmac_sha256(unsigned char out[32], const void *key, size_t key_len,
    const void *p, size_t len)
{
    EVP_MD_CTX     *ctx;
    unsigned char   k[64], inner[32];

    if (p == NULL) {
        p = "";
    }

    ctx = aigw_sha256_shared_ctx();

    if (ctx == NULL
        || aigw_hmac_key_block(k, key, key_len) != 0
        || aigw_hmac_pad(ctx, k, 0x36) != 0
        || EVP_DigestUpdate(ctx, p, len) != 1
        || EVP_DigestFinal_ex(ctx, inner, NULL) != 1
        || aigw_hmac_pad(ctx, k, 0x36 ^ 0x5c) != 0
        || EVP_DigestUpdate(ctx, inner, 32) != 1
        || EVP_DigestFinal_ex(ctx, out, NULL) != 1)
    {
        memset(out, 0, 32);
    }

    /* key material: the key block, and the MAC in the context's state */

    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(inner, sizeof(inner));

    if (ctx) {
        (void) EVP_MD_CTX_reset(ctx);
    }
}


int
aigw_hmac_sha256_pads(EVP_MD_CTX *inner, EVP_MD_CTX *outer, const void *key,
    size_t key_len)
{
    int            rc;
    unsigned char  k[64];

    rc = (aigw_hmac_key_block(k, key, key_len) == 0
          && aigw_hmac_pad(inner, k, 0x36) == 0
          && aigw_hmac_pad(outer, k, 0x36 ^ 0x5c) == 0)
         ? 0 : -1;

    OPENSSL_cleanse(k, sizeof(k));

    return rc;
}


int
aigw_hmac_sha256_from_pads(unsigned char out[32], EVP_MD_CTX *work,
    const EVP_MD_CTX *inner, const EVP_MD_CTX *outer, const void *p,
    size_t len)
{
    unsigned char  md[32];

    if (p == NULL) {
        p = "";
    }

    if (EVP_MD_CTX_copy_ex(work, inner) != 1
        || EVP_DigestUpdate(work, p, len) != 1
        || EVP_DigestFinal_ex(work, md, NULL) != 1
        || EVP_MD_CTX_copy_ex(work, outer) != 1
        || EVP_DigestUpdate(work, md, 32) != 1
        || EVP_DigestFinal_ex(work, out, NULL) != 1)
    {
        memset(out, 0, 32);
        return -1;
    }

    return 0;
}


aigw_sha256_t *
aigw_sha256_new(void)
{
    aigw_sha256_t  *h;

    h = malloc(sizeof(aigw_sha256_t));
    if (h == NULL) {
        return NULL;
    }

    h->ctx = EVP_MD_CTX_new();
    if (h->ctx == NULL) {
        free(h);
        return NULL;
    }

    if (EVP_DigestInit_ex(h->ctx, aigw_sha256_md(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }

    h->final = 0;

    return h;
}


int
aigw_sha256_update(aigw_sha256_t *h, const void *p, size_t len)
{
    if (len == 0) {
        return 0;
    }

    if (h->final) {
        if (EVP_DigestInit_ex(h->ctx, aigw_sha256_md(), NULL) != 1) {
            return -1;
        }

        h->final = 0;
    }

    return EVP_DigestUpdate(h->ctx, p, len) == 1 ? 0 : -1;
}


int
aigw_sha256_final_hex(aigw_sha256_t *h, char out[64])
{
    unsigned char  md[32];

    if (h->final) {
        if (EVP_DigestInit_ex(h->ctx, aigw_sha256_md(), NULL) != 1) {
            return -1;
        }

        h->final = 0;
    }

    if (EVP_DigestFinal_ex(h->ctx, md, NULL) != 1) {
        return -1;
    }

    /* initialised again when it is used again, if it is */

    h->final = 1;

    aigw_hex(out, md, 32);

    return 0;
}


void
aigw_sha256_free(aigw_sha256_t *h)
{
    if (h == NULL) {
        return;
    }

    EVP_MD_CTX_free(h->ctx);
    free(h);
}


size_t
aigw_uri_encode(char *dst, const char *src, size_t len, int keep_slash)
{
    size_t          i, n;
    unsigned char   c;

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~' || (c == '/' && keep_slash))
        {
            if (dst) {
                dst[n] = (char) c;
            }

            n++;
            continue;
        }

        if (dst) {
            dst[n] = '%';
            dst[n + 1] = aigw_hex_upper[c >> 4];
            dst[n + 2] = aigw_hex_upper[c & 0x0f];
        }

        n += 3;
    }

    return n;
}


int
aigw_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


size_t
aigw_uri_decode(char *dst, const char *src, size_t len)
{
    int     hi, lo;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {

        if (src[i] != '%') {
            dst[n++] = src[i];
            continue;
        }

        if (len - i < 3) {
            return (size_t) -1;
        }

        hi = aigw_hex_value((unsigned char) src[i + 1]);
        lo = aigw_hex_value((unsigned char) src[i + 2]);

        if (hi < 0 || lo < 0) {
            return (size_t) -1;
        }

        dst[n++] = (char) ((hi << 4) | lo);
        i += 2;
    }

    return n;
}


size_t
aigw_label_escape(char *dst, const char *src, size_t len)
{
    char    c;
    size_t  i, n;

    n = 0;

    for (i = 0; i < len; i++) {
        c = src[i];

        if (c == '\\' || c == '"' || c == '\n') {
            if (dst) {
                dst[n] = '\\';
                dst[n + 1] = (c == '\n') ? 'n' : c;
            }

            n += 2;
            continue;
        }

        if (dst) {
            dst[n] = c;
        }

        n++;
    }

    return n;
}


int
aigw_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}


int
aigw_glob_match(const char *pattern, size_t plen, const char *s, size_t len)
{
    int     star;
    size_t  pi, si, star_pi, star_si;

    /*
     * Only the last "*" seen ever needs to be backtracked to: whatever
     * an earlier "*" matched more can as well be matched by the later
     * one.  Each failure moves the last "*" one byte further, so the
     * cost is at most plen * len.
     */

    pi = 0;
    si = 0;
    star = 0;
    star_pi = 0;
    star_si = 0;

    while (si < len) {

        if (pi < plen && pattern[pi] == '*') {
            star = 1;
            star_pi = ++pi;
            star_si = si;
            continue;
        }

        if (pi < plen && (pattern[pi] == '?' || pattern[pi] == s[si])) {
            pi++;
            si++;
            continue;
        }

        if (!star) {
            return 0;
        }

        pi = star_pi;
        si = ++star_si;
    }

    while (pi < plen && pattern[pi] == '*') {
        pi++;
    }

    return pi == plen;
}


int
aigw_str_ieq(const char *a, size_t alen, const char *b)
{
    size_t  i;
    char    c;

    for (i = 0; i < alen; i++) {
        c = a[i];

        if (c >= 'A' && c <= 'Z') {
            c = (char) (c - 'A' + 'a');
        }

        if (b[i] == '\0' || c != b[i]) {
            return 0;
        }
    }

    return b[alen] == '\0';
}


int
aigw_str_ihas(const char *s, size_t len, const char *what)
{
    size_t  i, n;

    n = strlen(what);

    for (i = 0; i + n <= len; i++) {
        if (aigw_str_ieq(s + i, n, what)) {
            return 1;
        }
    }

    return 0;
}
