
/*
 * aigw: small helpers of the pure core (hex, SHA-256, HMAC, URI encoding,
 * constant-time comparison).  No nginx headers.
 */


#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "aigw_util.h"


struct aigw_sha256_s {
    EVP_MD_CTX  *ctx;
};


static const char  aigw_hex_lower[] = "0123456789abcdef";
static const char  aigw_hex_upper[] = "0123456789ABCDEF";


void
aigw_hex(char *out, const unsigned char *in, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        *out++ = aigw_hex_lower[in[i] >> 4];
        *out++ = aigw_hex_lower[in[i] & 0x0f];
    }
}


void
aigw_sha256(unsigned char out[32], const void *p, size_t len)
{
    if (p == NULL) {
        p = "";
    }

    if (EVP_Digest(p, len, out, NULL, EVP_sha256(), NULL) != 1) {
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


void
aigw_hmac_sha256(unsigned char out[32], const void *key, size_t key_len,
    const void *p, size_t len)
{
    unsigned int  n;

    if (key == NULL) {
        key = "";
    }

    if (p == NULL) {
        p = "";
    }

    n = 32;

    if (key_len > 0x7fffffff
        || HMAC(EVP_sha256(), key, (int) key_len, p, len, out, &n) == NULL)
    {
        memset(out, 0, 32);
    }
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

    if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }

    return h;
}


int
aigw_sha256_update(aigw_sha256_t *h, const void *p, size_t len)
{
    if (len == 0) {
        return 0;
    }

    return EVP_DigestUpdate(h->ctx, p, len) == 1 ? 0 : -1;
}


int
aigw_sha256_final_hex(aigw_sha256_t *h, char out[64])
{
    unsigned char  md[32];
    unsigned int   n;

    n = 32;

    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1) {
        return -1;
    }

    aigw_hex(out, md, 32);

    return EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
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


int
aigw_ct_equal(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len) == 0;
}
