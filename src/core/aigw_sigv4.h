
/*
 * aigw: AWS Signature Version 4 (pure C, OpenSSL only, no nginx headers).
 *
 * The canonical request is never materialised: it is fed to SHA-256 piece
 * by piece, so signing allocates nothing and the request path may be as
 * long as a Bedrock ARN allows.  A debug sink (tests) can receive the
 * canonical request and the string to sign as they are produced.
 */

#ifndef AIGW_SIGV4_H
#define AIGW_SIGV4_H


#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "aigw_types.h"
#include "aigw_util.h"


#define AIGW_AMZ_DATE_LEN        16          /* 20150830T123600Z */
#define AIGW_SIGV4_MAX_HEADERS   64
#define AIGW_SIGV4_MAX_QUERY_ARGS  64       /* sorted on the stack */

/* flags of aigw_sigv4_input_t */

/* remove "." and ".." segments and collapse "//" (non-S3 services) */
#define AIGW_SIGV4_NORMALIZE_PATH     0x01
/*
 * the path is used as is in the canonical URI (S3); otherwise it is
 * URI-encoded once more, as botocore does for every other service:
 * a wire path carrying "%3A" is canonicalised as "%253A"
 */
#define AIGW_SIGV4_NO_DOUBLE_ENCODE   0x02
/* add and sign "x-amz-content-sha256: <payload hash>" */
#define AIGW_SIGV4_SIGN_CONTENT_SHA   0x04
/*
 * with a session token: do not sign x-amz-security-token (it is added to
 * the request after signing, as some services such as IoT require)
 */
#define AIGW_SIGV4_TOKEN_UNSIGNED     0x08


/*
 * The derived signing key depends only on the secret, the day, the region
 * and the service: it is cached, keyed on all four (the secret by a
 * SHA-256 fingerprint, so the cache holds no copy of it).  A cache is
 * plain memory, zeroed to start with.  The HMAC pads of its keys (see
 * aigw_hmac_sha256_pads()) are OpenSSL objects: they are kept in the
 * process, one pair per entry position, tagged with the "gen" of the
 * entry they were made for (a number the process gives each key it puts
 * in a cache), until aigw_sigv4_cleanup().
 */

#define AIGW_SIGV4_CACHE_SIZE    8

typedef struct {
    unsigned char  secret_fp[32];
    char           date[9];             /* YYYYMMDD */
    char           region[32];
    char           service[32];
    unsigned char  key[32];
    unsigned       used;                /* LRU tick, 0: empty */
    uint64_t       gen;                 /* of its HMAC pads, 0: none */
} aigw_sigv4_cache_entry_t;


typedef struct {
    aigw_sigv4_cache_entry_t  entries[AIGW_SIGV4_CACHE_SIZE];
    unsigned                  tick;
    unsigned long             hits;
    unsigned long             misses;
} aigw_sigv4_cache_t;


/* receives the canonical request (what 1) and the string to sign (what 2) */
typedef void (*aigw_sigv4_sink_pt)(void *data, int what, const char *p,
    size_t len);


typedef struct {
    aigw_str_t            method;
    aigw_str_t            path;          /* as on the wire, without query */
    aigw_str_t            query;         /* raw, without '?'; may be empty */

    /*
     * Headers to sign besides x-amz-date, x-amz-content-sha256 and
     * x-amz-security-token, which are added from the fields below.  "host"
     * must be among them.  Names are matched case-insensitively, values
     * are trimmed and inner runs of white space collapsed; repeated names
     * are joined with ",".
     */
    const aigw_header_t  *headers;
    size_t                nheaders;

    aigw_str_t            payload_hash;  /* lowercase hex SHA-256 of body */
    aigw_str_t            region;
    aigw_str_t            service;
    time_t                now;
    const aigw_creds_t   *creds;
    unsigned              flags;

    aigw_sigv4_cache_t   *cache;         /* NULL: derive every time */
    aigw_sigv4_sink_pt    sink;          /* NULL: none */
    void                 *sink_data;
} aigw_sigv4_input_t;


typedef struct {
    char     amz_date[AIGW_AMZ_DATE_LEN + 1];
    char     signature[AIGW_SHA256_HEX_LEN + 1];

    /* the value of the Authorization header, NUL-terminated */
    char    *authorization;
    size_t   authorization_len;
} aigw_sigv4_output_t;


/*
 * Returns 0 on success; -1 on bad input (too many headers or query
 * arguments, region or service too long, no host header) or when "auth",
 * of "auth_size" bytes, cannot hold the Authorization value:
 * aigw_sigv4_auth_size() gives a size that always suffices.
 */
int aigw_sigv4_sign(const aigw_sigv4_input_t *in, aigw_sigv4_output_t *out,
    char *auth, size_t auth_size);
size_t aigw_sigv4_auth_size(const aigw_sigv4_input_t *in);

/* the signing key of a day "YYYYMMDD", a region and a service */
void aigw_sigv4_signing_key(const aigw_str_t *secret, const char *date,
    const aigw_str_t *region, const aigw_str_t *service,
    unsigned char key[32]);

/* "20150830T123600Z" of a time, NUL-terminated */
void aigw_sigv4_amz_date(time_t t, char buf[AIGW_AMZ_DATE_LEN + 1]);

/*
 * Frees (and so cleanses) what signing keeps in the process: a digest
 * context and the HMAC pads of cached keys.  Signing can go on after it.
 */
void aigw_sigv4_cleanup(void);


#endif /* AIGW_SIGV4_H */
