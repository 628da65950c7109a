
/*
 * aigw: small helpers of the pure core (hex, SHA-256, HMAC, URI encoding,
 * constant-time comparison).  No nginx headers.
 */

#ifndef AIGW_UTIL_H
#define AIGW_UTIL_H


#include <stddef.h>


typedef struct aigw_sha256_s  aigw_sha256_t;


/* the value of a hex digit (either case), or -1 */
int aigw_hex_value(unsigned char c);

/* lowercase hex of "len" bytes into "out" (2 * len chars, no NUL) */
void aigw_hex(char *out, const unsigned char *in, size_t len);

void aigw_sha256(unsigned char out[32], const void *p, size_t len);
void aigw_sha256_hex(char out[64], const void *p, size_t len);
void aigw_hmac_sha256(unsigned char out[32], const void *key, size_t key_len,
    const void *p, size_t len);

/* incremental SHA-256; aigw_sha256_new() returns NULL on allocation failure */
aigw_sha256_t *aigw_sha256_new(void);
int aigw_sha256_update(aigw_sha256_t *h, const void *p, size_t len);
/* writes 64 lowercase hex chars (no NUL); the context can then be reused */
int aigw_sha256_final_hex(aigw_sha256_t *h, char out[64]);
void aigw_sha256_free(aigw_sha256_t *h);

/*
 * AWS URI encoding: every byte but A-Z a-z 0-9 - . _ ~ becomes %XX
 * (uppercase hex); with "keep_slash", '/' is kept.  "dst" NULL: only the
 * length is computed.  Returns the encoded length.
 */
size_t aigw_uri_encode(char *dst, const char *src, size_t len,
    int keep_slash);

/*
 * Percent-decoding; "+" is kept as is.  Returns the decoded length, or
 * (size_t) -1 on a malformed escape.  "dst" may equal "src".
 */
size_t aigw_uri_decode(char *dst, const char *src, size_t len);

/* 1 when equal; the time taken depends only on "len" */
int aigw_ct_equal(const void *a, const void *b, size_t len);


#endif /* AIGW_UTIL_H */
