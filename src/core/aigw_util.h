
/*
 * aigw: small helpers of the pure core (hex, SHA-256, HMAC, URI encoding,
 * constant-time comparison, glob matching).  No nginx headers.
 */

#ifndef AIGW_UTIL_H
#define AIGW_UTIL_H


#include <stddef.h>


#define AIGW_SHA256_HEX_LEN      64


typedef struct aigw_sha256_s  aigw_sha256_t;

/* OpenSSL's EVP_MD and EVP_MD_CTX, without its headers */
struct evp_md_st;
struct evp_md_ctx_st;


/* the value of a hex digit (either case), or -1 */
int aigw_hex_value(unsigned char c);

/* lowercase hex of "len" bytes into "out" (2 * len chars, no NUL) */
void aigw_hex(char *out, const unsigned char *in, size_t len);

/*
 * SHA-256 as an EVP_MD fetched once per process: EVP_sha256() would have
 * every EVP_DigestInit_ex() fetch it again (a lock, a lookup by name).
 * EVP_sha256() when the fetch fails.  It is held, with the digest
 * context the one-shot functions below share, until aigw_util_cleanup();
 * none of this is thread-safe: the core serves single-threaded processes
 * (nginx workers, the CLI).
 */
const struct evp_md_st *aigw_sha256_md(void);

/* frees what the functions here keep; they can be used again after it */
void aigw_util_cleanup(void);

/* the lowercase hex SHA-1 of a text, NUL-terminated (Redis's script IDs) */
void aigw_sha1_hex(char out[41], const void *p, size_t len);

void aigw_sha256(unsigned char out[32], const void *p, size_t len);
void aigw_sha256_hex(char out[64], const void *p, size_t len);
void aigw_hmac_sha256(unsigned char out[32], const void *key, size_t key_len,
    const void *p, size_t len);

/*
 * HMAC-SHA256 for a key that signs many messages: aigw_hmac_sha256_pads()
 * hashes the key's inner and outer pads into two digest contexts, once;
 * aigw_hmac_sha256_from_pads() copies them into "work" and hashes a
 * message, two SHA-256 blocks fewer than aigw_hmac_sha256().  The pads
 * are as secret as the key: EVP_MD_CTX_free() cleanses them.  Both return
 * 0, or -1 when OpenSSL fails.
 */
int aigw_hmac_sha256_pads(struct evp_md_ctx_st *inner,
    struct evp_md_ctx_st *outer, const void *key, size_t key_len);
int aigw_hmac_sha256_from_pads(unsigned char out[32],
    struct evp_md_ctx_st *work, const struct evp_md_ctx_st *inner,
    const struct evp_md_ctx_st *outer, const void *p, size_t len);

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

/*
 * A label value of the Prometheus text format: backslash, double quote
 * and newline escaped ("\\", "\"", "\n"), at most twice "len" bytes.
 * "dst" NULL: only the length is computed.  Returns the escaped length.
 */
size_t aigw_label_escape(char *dst, const char *src, size_t len);

/* 1 when equal; the time taken depends only on "len" */
int aigw_ct_equal(const void *a, const void *b, size_t len);


/*
 * Glob matching of a whole string: "*" matches any run of bytes (":" and
 * "/" included), "?" exactly one byte, every other byte itself; there is
 * no escape and no character class.  Iterative, O(plen * len) at worst.
 */
int aigw_glob_match(const char *pattern, size_t plen, const char *s,
    size_t len);

/* "a" equals the lowercase "b", ASCII case-insensitively */
int aigw_str_ieq(const char *a, size_t alen, const char *b);

/* "s" contains the lowercase "what", ASCII case-insensitively */
int aigw_str_ihas(const char *s, size_t len, const char *what);


#endif /* AIGW_UTIL_H */
