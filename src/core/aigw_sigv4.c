
/*
 * aigw: AWS Signature Version 4 (pure C, OpenSSL only, no nginx headers).
 *
 * The canonical request is produced piece by piece into a small buffer
 * on the stack that is flushed into SHA-256 (and the debug sink): it is
 * never held whole.  Signing allocates nothing but, once per process, a
 * digest context, and for each key of a cache its HMAC pads (two digest
 * contexts): see aigw_sigv4_cleanup().
 */


#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aigw_util.h"
#include "aigw_sigv4.h"


#define AIGW_SIGV4_ALGORITHM     "AWS4-HMAC-SHA256"
#define AIGW_SIGV4_TERMINATOR    "aws4_request"
#define AIGW_SIGV4_FIELD_MAX     31      /* region, service: see the cache */

#define aigw_sigv4_buf_literal(b, s)  aigw_sigv4_buf_add(b, s, sizeof(s) - 1)


typedef struct {
    EVP_MD_CTX           *md;
    aigw_sigv4_sink_pt    sink;
    void                 *sink_data;
    size_t                len;
    int                   error;
    char                  buf[512];
} aigw_sigv4_writer_t;


typedef struct {
    const char  *key;
    size_t       key_len;
    const char  *value;
    size_t       value_len;
} aigw_sigv4_arg_t;


typedef struct {
    char    *p;
    size_t   len;
    size_t   size;
} aigw_sigv4_buf_t;


/*
 * The HMAC pads of a cache's keys, by entry position: OpenSSL contexts,
 * which the cache, plain memory that callers zero, cannot own.  They are
 * for the entry of the same "gen" (0: none) in any cache: one cache per
 * process (a worker's) always finds them; caches that take turns in a
 * position make them again.
 */

typedef struct {
    uint64_t     gen;
    EVP_MD_CTX  *inner;
    EVP_MD_CTX  *outer;
} aigw_sigv4_pads_t;


static const char  aigw_sigv4_hex_upper[] = "0123456789ABCDEF";

/* A-Z a-z 0-9 - . _ ~, a bit per byte */
static const uint32_t  aigw_sigv4_unreserved_map[] = {
    0x00000000,                 /* 0x00-0x1f */
    0x03ff6000,                 /* 0x20-0x3f: - . 0-9 */
    0x87fffffe,                 /* 0x40-0x5f: A-Z _ */
    0x47fffffe,                 /* 0x60-0x7f: a-z ~ */
    0x00000000, 0x00000000, 0x00000000, 0x00000000
};

/* the canonical request's digest, then the signature's */
static EVP_MD_CTX         *aigw_sigv4_md;

static aigw_sigv4_pads_t   aigw_sigv4_pads[AIGW_SIGV4_CACHE_SIZE];
static uint64_t            aigw_sigv4_gen;


static void
aigw_sigv4_flush(aigw_sigv4_writer_t *w)
{
    if (w->len == 0) {
        return;
    }

    if (EVP_DigestUpdate(w->md, w->buf, w->len) != 1) {
        w->error = 1;
    }

    if (w->sink) {
        w->sink(w->sink_data, 1, w->buf, w->len);
    }

    w->len = 0;
}


static void
aigw_sigv4_write(aigw_sigv4_writer_t *w, const char *p, size_t len)
{
    if (len == 0) {
        return;
    }

    if (len > sizeof(w->buf) - w->len) {
        aigw_sigv4_flush(w);

        if (len >= sizeof(w->buf)) {
            if (EVP_DigestUpdate(w->md, p, len) != 1) {
                w->error = 1;
            }

            if (w->sink) {
                w->sink(w->sink_data, 1, p, len);
            }

            return;
        }
    }

    memcpy(w->buf + w->len, p, len);
    w->len += len;
}


static void
aigw_sigv4_byte(aigw_sigv4_writer_t *w, char c)
{
    if (w->len == sizeof(w->buf)) {
        aigw_sigv4_flush(w);
    }

    w->buf[w->len++] = c;
}


static int
aigw_sigv4_unreserved(unsigned char c)
{
    return (aigw_sigv4_unreserved_map[c >> 5] >> (c & 0x1f)) & 1;
}


static void
aigw_sigv4_encode_byte(aigw_sigv4_writer_t *w, unsigned char c,
    int keep_slash)
{
    if (aigw_sigv4_unreserved(c) || (c == '/' && keep_slash)) {
        aigw_sigv4_byte(w, (char) c);
        return;
    }

    aigw_sigv4_byte(w, '%');
    aigw_sigv4_byte(w, aigw_sigv4_hex_upper[c >> 4]);
    aigw_sigv4_byte(w, aigw_sigv4_hex_upper[c & 0x0f]);
}


static void
aigw_sigv4_encode(aigw_sigv4_writer_t *w, const char *p, size_t len,
    int keep_slash, int encode)
{
    size_t         i, n;
    unsigned char  c;

    if (!encode) {
        aigw_sigv4_write(w, p, len);
        return;
    }

    /* the bytes kept as they are go in runs */

    for (i = 0; i < len; i += n) {

        for (n = 0; i + n < len; n++) {
            c = (unsigned char) p[i + n];

            if (!aigw_sigv4_unreserved(c) && !(c == '/' && keep_slash)) {
                break;
            }
        }

        if (n) {
            aigw_sigv4_write(w, p + i, n);
            continue;
        }

        aigw_sigv4_encode_byte(w, (unsigned char) p[i], keep_slash);
        n = 1;
    }
}


/* canonical URI */

static int
aigw_sigv4_is_dots(const char *p, size_t len)
{
    return len == 2 && p[0] == '.' && p[1] == '.';
}


static int
aigw_sigv4_is_dot(const char *p, size_t len)
{
    return len == 1 && p[0] == '.';
}


/* the end of the segment that starts at "start" */

static size_t
aigw_sigv4_segment_end(const char *path, size_t len, size_t start)
{
    const char  *p;

    p = memchr(path + start, '/', len - start);

    return p ? (size_t) (p - path) : len;
}


/*
 * Whether the segment [start, end) survives the removal of dot segments:
 * it is neither empty, ".", nor "..", and no later ".." pops it.
 */

static int
aigw_sigv4_segment_kept(const char *path, size_t len, size_t start,
    size_t end)
{
    size_t  s, e, depth;

    if (end == start
        || aigw_sigv4_is_dot(path + start, end - start)
        || aigw_sigv4_is_dots(path + start, end - start))
    {
        return 0;
    }

    depth = 0;

    for (s = end; s < len; s = e) {
        s++;                                  /* the '/' */
        e = aigw_sigv4_segment_end(path, len, s);

        if (e == s || aigw_sigv4_is_dot(path + s, e - s)) {
            continue;
        }

        if (aigw_sigv4_is_dots(path + s, e - s)) {
            if (depth == 0) {
                return 0;
            }

            depth--;
            continue;
        }

        depth++;
    }

    return 1;
}


/*
 * As botocore's remove_dot_segments(): "." and ".." segments removed,
 * empty segments dropped, the leading '/' kept, the trailing '/' kept if
 * any segment remains; an empty result is "/".
 */

static void
aigw_sigv4_normalized_uri(aigw_sigv4_writer_t *w, const char *path,
    size_t len, int encode)
{
    int     lead;
    size_t  s, e, kept;

    lead = (path[0] == '/');
    kept = 0;

    if (lead) {
        aigw_sigv4_byte(w, '/');
    }

    for (s = 0; s <= len; s = e + 1) {
        e = aigw_sigv4_segment_end(path, len, s);

        if (!aigw_sigv4_segment_kept(path, len, s, e)) {
            continue;
        }

        if (kept++) {
            aigw_sigv4_byte(w, '/');
        }

        aigw_sigv4_encode(w, path + s, e - s, 0, encode);
    }

    if (kept && path[len - 1] == '/') {
        aigw_sigv4_byte(w, '/');

    } else if (!kept && !lead) {
        aigw_sigv4_byte(w, '/');
    }
}


static void
aigw_sigv4_canonical_uri(aigw_sigv4_writer_t *w, const aigw_sigv4_input_t *in)
{
    int  encode;

    if (in->path.len == 0) {
        aigw_sigv4_byte(w, '/');
        return;
    }

    encode = !(in->flags & AIGW_SIGV4_NO_DOUBLE_ENCODE);

    if (in->flags & AIGW_SIGV4_NORMALIZE_PATH) {
        aigw_sigv4_normalized_uri(w, in->path.data, in->path.len, encode);

    } else {
        aigw_sigv4_encode(w, in->path.data, in->path.len, 1, encode);
    }
}


/* canonical query string */

/*
 * The next percent-decoded byte of [*pp, end), or -1 at the end; a '%'
 * not followed by two hex digits stands for itself.
 */

static int
aigw_sigv4_decode_next(const char **pp, const char *end)
{
    int          hi, lo;
    const char  *p;

    p = *pp;

    if (p == end) {
        return -1;
    }

    if (*p == '%' && end - p >= 3) {
        hi = aigw_hex_value((unsigned char) p[1]);
        lo = aigw_hex_value((unsigned char) p[2]);

        if (hi >= 0 && lo >= 0) {
            *pp = p + 3;
            return (hi << 4) | lo;
        }
    }

    *pp = p + 1;

    return (unsigned char) *p;
}


/*
 * Compares the AWS encodings of two raw strings without producing them:
 * an encoded byte starts with '%', below every unreserved character, and
 * two escapes compare as their bytes do (uppercase hex keeps the order).
 */

static int
aigw_sigv4_encoded_cmp(const char *a, size_t alen, const char *b,
    size_t blen)
{
    int          ca, cb;
    const char  *aend, *bend;

    aend = a + alen;
    bend = b + blen;

    for ( ;; ) {
        ca = aigw_sigv4_decode_next(&a, aend);
        cb = aigw_sigv4_decode_next(&b, bend);

        if (ca < 0 || cb < 0) {
            return (ca >= 0) - (cb >= 0);
        }

        if (aigw_sigv4_unreserved((unsigned char) ca)) {
            ca += 256;
        }

        if (aigw_sigv4_unreserved((unsigned char) cb)) {
            cb += 256;
        }

        if (ca != cb) {
            return ca < cb ? -1 : 1;
        }
    }
}


static int
aigw_sigv4_arg_cmp(const aigw_sigv4_arg_t *a, const aigw_sigv4_arg_t *b)
{
    int  rc;

    rc = aigw_sigv4_encoded_cmp(a->key, a->key_len, b->key, b->key_len);

    if (rc != 0) {
        return rc;
    }

    return aigw_sigv4_encoded_cmp(a->value, a->value_len, b->value,
                                  b->value_len);
}


static void
aigw_sigv4_write_arg(aigw_sigv4_writer_t *w, const char *p, size_t len)
{
    int          c;
    const char  *end;

    end = p + len;

    for ( ;; ) {
        c = aigw_sigv4_decode_next(&p, end);

        if (c < 0) {
            return;
        }

        aigw_sigv4_encode_byte(w, (unsigned char) c, 0);
    }
}


static int
aigw_sigv4_canonical_query(aigw_sigv4_writer_t *w,
    const aigw_sigv4_input_t *in)
{
    size_t             i, j, n;
    const char        *p, *end, *amp, *eq;
    aigw_sigv4_arg_t   args[AIGW_SIGV4_MAX_QUERY_ARGS], arg;

    if (in->query.len == 0) {
        return 0;
    }

    n = 0;
    p = in->query.data;
    end = p + in->query.len;

    while (p < end) {
        amp = memchr(p, '&', end - p);
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (n == AIGW_SIGV4_MAX_QUERY_ARGS) {
            return -1;
        }

        eq = memchr(p, '=', amp - p);

        arg.key = p;

        if (eq) {
            arg.key_len = eq - p;
            arg.value = eq + 1;
            arg.value_len = amp - eq - 1;

        } else {
            arg.key_len = amp - p;
            arg.value = amp;
            arg.value_len = 0;
        }

        /* insertion sort, stable */

        for (j = n; j > 0 && aigw_sigv4_arg_cmp(&args[j - 1], &arg) > 0; j--)
        {
            args[j] = args[j - 1];
        }

        args[j] = arg;
        n++;

        p = amp + 1;
    }

    for (i = 0; i < n; i++) {
        if (i) {
            aigw_sigv4_byte(w, '&');
        }

        aigw_sigv4_write_arg(w, args[i].key, args[i].key_len);
        aigw_sigv4_byte(w, '=');
        aigw_sigv4_write_arg(w, args[i].value, args[i].value_len);
    }

    return 0;
}


/* canonical headers */

static int
aigw_sigv4_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? c | 0x20 : c;
}


static int
aigw_sigv4_name_cmp(const aigw_str_t *a, const aigw_str_t *b)
{
    int     ca, cb;
    size_t  i, n;

    n = a->len < b->len ? a->len : b->len;

    for (i = 0; i < n; i++) {
        ca = aigw_sigv4_lower((unsigned char) a->data[i]);
        cb = aigw_sigv4_lower((unsigned char) b->data[i]);

        if (ca != cb) {
            return ca - cb;
        }
    }

    return (a->len > b->len) - (a->len < b->len);
}


/* inserts "h" into the sorted "hs" of "n" headers, after its equals */

static void
aigw_sigv4_insert(const aigw_header_t **hs, size_t n, const aigw_header_t *h)
{
    while (n > 0 && aigw_sigv4_name_cmp(&hs[n - 1]->name, &h->name) > 0) {
        hs[n] = hs[n - 1];
        n--;
    }

    hs[n] = h;
}


static int
aigw_sigv4_name_is(const aigw_str_t *name, const char *lc)
{
    size_t  i;

    for (i = 0; i < name->len; i++) {
        if (lc[i] == '\0'
            || aigw_sigv4_lower((unsigned char) name->data[i]) != lc[i])
        {
            return 0;
        }
    }

    return lc[i] == '\0';
}


static int
aigw_sigv4_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static void
aigw_sigv4_write_value(aigw_sigv4_writer_t *w, const aigw_str_t *v)
{
    const char  *p, *q, *end;

    if (v->len == 0) {
        return;
    }

    p = v->data;
    end = p + v->len;

    while (p < end && aigw_sigv4_space(*p)) {
        p++;
    }

    while (end > p && aigw_sigv4_space(end[-1])) {
        end--;
    }

    /* runs of other bytes, each run of white space as one space */

    while (p < end) {

        for (q = p; q < end && !aigw_sigv4_space(*q); q++) {
            /* void */
        }

        aigw_sigv4_write(w, p, q - p);

        if (q == end) {
            break;
        }

        /* trimmed: other bytes follow */

        while (aigw_sigv4_space(*q)) {
            q++;
        }

        aigw_sigv4_byte(w, ' ');
        p = q;
    }
}


static void
aigw_sigv4_write_name(aigw_sigv4_writer_t *w, const aigw_str_t *name)
{
    size_t  i;

    for (i = 0; i < name->len; i++) {
        aigw_sigv4_byte(w,
                        (char) aigw_sigv4_lower((unsigned char) name->data[i]));
    }
}


static int
aigw_sigv4_buf_add(aigw_sigv4_buf_t *b, const char *p, size_t len)
{
    if (b->size - b->len < len) {
        return -1;
    }

    if (len == 0) {
        return 0;
    }

    memcpy(b->p + b->len, p, len);
    b->len += len;

    return 0;
}


/* the signed header names, into "b" */

static int
aigw_sigv4_signed_headers(aigw_sigv4_buf_t *b, const aigw_header_t **hs,
    size_t n)
{
    size_t  i, k;

    for (i = 0; i < n; i++) {
        if (i && aigw_sigv4_name_cmp(&hs[i - 1]->name, &hs[i]->name) == 0) {
            continue;
        }

        if (i && aigw_sigv4_buf_add(b, ";", 1) != 0) {
            return -1;
        }

        if (b->size - b->len < hs[i]->name.len) {
            return -1;
        }

        for (k = 0; k < hs[i]->name.len; k++) {
            b->p[b->len++] = (char) aigw_sigv4_lower(
                                        (unsigned char) hs[i]->name.data[k]);
        }
    }

    return 0;
}


static int
aigw_sigv4_field_ok(const aigw_str_t *s, size_t max)
{
    size_t         i;
    unsigned char  c;

    if (s->len == 0 || s->len > max) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        c = (unsigned char) s->data[i];

        if (c < 0x21 || c >= 0x7f || c == '/' || c == ',') {
            return 0;
        }
    }

    return 1;
}


/* "n" of "len" decimal digits */

static void
aigw_sigv4_digits(char *p, int n, size_t len)
{
    while (len--) {
        p[len] = (char) ('0' + n % 10);
        n /= 10;
    }
}


/* strftime("%Y%m%dT%H%M%SZ") of a year of four digits, without locales */

static int
aigw_sigv4_format_date(time_t t, char buf[AIGW_AMZ_DATE_LEN + 1])
{
    struct tm  tm;

    if (gmtime_r(&t, &tm) == NULL
        || tm.tm_year < 1000 - 1900 || tm.tm_year > 9999 - 1900)
    {
        memcpy(buf, "00000000T000000Z", AIGW_AMZ_DATE_LEN + 1);
        return -1;
    }

    aigw_sigv4_digits(buf, tm.tm_year + 1900, 4);
    aigw_sigv4_digits(buf + 4, tm.tm_mon + 1, 2);
    aigw_sigv4_digits(buf + 6, tm.tm_mday, 2);
    buf[8] = 'T';
    aigw_sigv4_digits(buf + 9, tm.tm_hour, 2);
    aigw_sigv4_digits(buf + 11, tm.tm_min, 2);
    aigw_sigv4_digits(buf + 13, tm.tm_sec, 2);
    buf[15] = 'Z';
    buf[16] = '\0';

    return 0;
}


void
aigw_sigv4_amz_date(time_t t, char buf[AIGW_AMZ_DATE_LEN + 1])
{
    (void) aigw_sigv4_format_date(t, buf);
}


void
aigw_sigv4_signing_key(const aigw_str_t *secret, const char *date,
    const aigw_str_t *region, const aigw_str_t *service,
    unsigned char key[32])
{
    size_t          klen;
    EVP_MD_CTX     *md;
    unsigned char   k[64], t[32];
    unsigned int    n;

    /*
     * HMAC keys longer than the SHA-256 block are replaced by their hash:
     * "AWS4" + a long secret is hashed here, without a copy on the heap
     */

    if (4 + secret->len <= sizeof(k)) {
        memcpy(k, "AWS4", 4);
        memcpy(k + 4, secret->data, secret->len);
        klen = 4 + secret->len;

    } else {
        memset(k, 0, sizeof(k));
        n = 32;

        md = EVP_MD_CTX_new();

        if (md == NULL
            || EVP_DigestInit_ex(md, aigw_sha256_md(), NULL) != 1
            || EVP_DigestUpdate(md, "AWS4", 4) != 1
            || EVP_DigestUpdate(md, secret->data, secret->len) != 1
            || EVP_DigestFinal_ex(md, k, &n) != 1)
        {
            memset(k, 0, sizeof(k));
        }

        EVP_MD_CTX_free(md);
        klen = 32;
    }

    aigw_hmac_sha256(t, k, klen, date, 8);
    aigw_hmac_sha256(key, t, 32, region->data, region->len);
    aigw_hmac_sha256(t, key, 32, service->data, service->len);
    aigw_hmac_sha256(key, t, 32, AIGW_SIGV4_TERMINATOR,
                     sizeof(AIGW_SIGV4_TERMINATOR) - 1);

    OPENSSL_cleanse(k, sizeof(k));
    OPENSSL_cleanse(t, sizeof(t));
}


static int
aigw_sigv4_cache_entry_is(const aigw_sigv4_cache_entry_t *e,
    const unsigned char fp[32], const char *date, const aigw_str_t *region,
    const aigw_str_t *service)
{
    return e->used != 0
           && memcmp(e->date, date, 8) == 0
           && e->region[region->len] == '\0'
           && memcmp(e->region, region->data, region->len) == 0
           && e->service[service->len] == '\0'
           && memcmp(e->service, service->data, service->len) == 0
           && aigw_ct_equal(e->secret_fp, fp, 32);
}


/*
 * The cache entry of the signing key, found or made.  Region and service
 * are checked: at most 31 bytes, no NUL.
 */

static const aigw_sigv4_cache_entry_t *
aigw_sigv4_cached_key(aigw_sigv4_cache_t *cache, const aigw_creds_t *creds,
    const char *date, const aigw_str_t *region, const aigw_str_t *service)
{
    size_t                     i;
    unsigned char              fp[32];
    aigw_sigv4_cache_entry_t  *e, *victim;

    if (cache->tick == UINT_MAX) {
        for (i = 0; i < AIGW_SIGV4_CACHE_SIZE; i++) {
            cache->entries[i].used = 0;
        }

        cache->tick = 0;
    }

    /* a fingerprint: as the cache holds it, no need to cleanse it */

    aigw_sha256(fp, creds->secret_key.data, creds->secret_key.len);

    victim = &cache->entries[0];

    for (i = 0; i < AIGW_SIGV4_CACHE_SIZE; i++) {
        e = &cache->entries[i];

        if (aigw_sigv4_cache_entry_is(e, fp, date, region, service)) {
            e->used = ++cache->tick;
            cache->hits++;
            return e;
        }

        if (e->used < victim->used) {
            victim = e;
        }
    }

    cache->misses++;

    OPENSSL_cleanse(victim, sizeof(aigw_sigv4_cache_entry_t));

    aigw_sigv4_signing_key(&creds->secret_key, date, region, service,
                           victim->key);

    memcpy(victim->secret_fp, fp, 32);
    memcpy(victim->date, date, 8);
    victim->date[8] = '\0';
    memcpy(victim->region, region->data, region->len);
    victim->region[region->len] = '\0';
    memcpy(victim->service, service->data, service->len);
    victim->service[service->len] = '\0';
    victim->used = ++cache->tick;
    victim->gen = ++aigw_sigv4_gen;

    return victim;
}


/* the HMAC pads of a cache entry's key, made if need be; NULL on failure */

static const aigw_sigv4_pads_t *
aigw_sigv4_pads_of(const aigw_sigv4_cache_t *cache,
    const aigw_sigv4_cache_entry_t *e)
{
    aigw_sigv4_pads_t  *pads;

    pads = &aigw_sigv4_pads[e - cache->entries];

    if (e->gen != 0 && pads->gen == e->gen) {
        return pads;
    }

    pads->gen = 0;

    if (e->gen == 0) {
        return NULL;
    }

    if (pads->inner == NULL) {
        pads->inner = EVP_MD_CTX_new();
    }

    if (pads->outer == NULL) {
        pads->outer = EVP_MD_CTX_new();
    }

    if (pads->inner == NULL || pads->outer == NULL
        || aigw_hmac_sha256_pads(pads->inner, pads->outer, e->key, 32) != 0)
    {
        /* no stale pads of an evicted key either */

        (void) EVP_MD_CTX_reset(pads->inner);
        (void) EVP_MD_CTX_reset(pads->outer);

        return NULL;
    }

    pads->gen = e->gen;

    return pads;
}


/* the signature of the string to sign, into "md" */

static void
aigw_sigv4_signature(const aigw_sigv4_input_t *in, const char *date,
    const char *sts, size_t len, unsigned char md[32])
{
    unsigned char                    key[32];
    const aigw_sigv4_pads_t         *pads;
    const aigw_sigv4_cache_entry_t  *e;

    if (in->cache == NULL) {
        aigw_sigv4_signing_key(&in->creds->secret_key, date, &in->region,
                               &in->service, key);
        aigw_hmac_sha256(md, key, 32, sts, len);
        OPENSSL_cleanse(key, sizeof(key));
        return;
    }

    e = aigw_sigv4_cached_key(in->cache, in->creds, date, &in->region,
                              &in->service);

    pads = aigw_sigv4_pads_of(in->cache, e);

    if (pads == NULL
        || aigw_hmac_sha256_from_pads(md, aigw_sigv4_md, pads->inner,
                                      pads->outer, sts, len)
           != 0)
    {
        aigw_hmac_sha256(md, e->key, 32, sts, len);
    }
}


void
aigw_sigv4_cleanup(void)
{
    size_t  i;

    EVP_MD_CTX_free(aigw_sigv4_md);
    aigw_sigv4_md = NULL;

    for (i = 0; i < AIGW_SIGV4_CACHE_SIZE; i++) {
        EVP_MD_CTX_free(aigw_sigv4_pads[i].inner);
        EVP_MD_CTX_free(aigw_sigv4_pads[i].outer);
        aigw_sigv4_pads[i].inner = NULL;
        aigw_sigv4_pads[i].outer = NULL;
        aigw_sigv4_pads[i].gen = 0;
    }
}


size_t
aigw_sigv4_auth_size(const aigw_sigv4_input_t *in)
{
    size_t  i, n;

    n = sizeof(AIGW_SIGV4_ALGORITHM " Credential=") - 1
        + (in->creds ? in->creds->access_key.len : 0)
        + sizeof("/YYYYMMDD/") - 1
        + in->region.len + 1 + in->service.len
        + sizeof("/" AIGW_SIGV4_TERMINATOR ", SignedHeaders=") - 1
        + sizeof("x-amz-content-sha256;x-amz-date;x-amz-security-token;")
        - 1
        + sizeof(", Signature=") - 1 + AIGW_SHA256_HEX_LEN + 1;

    for (i = 0; i < in->nheaders; i++) {
        n += in->headers[i].name.len + 1;
    }

    return n;
}


int
aigw_sigv4_sign(const aigw_sigv4_input_t *in, aigw_sigv4_output_t *out,
    char *auth, size_t auth_size)
{
    int                   host, token;
    char                  sts[256], *p;
    size_t                i, j, n, sh, sh_len;
    unsigned char         md[32];
    const aigw_creds_t   *creds;
    aigw_sigv4_buf_t      b;
    aigw_header_t         extra[3];
    aigw_sigv4_writer_t   w;
    const aigw_header_t  *h, *hs[AIGW_SIGV4_MAX_HEADERS + 3];

    creds = in->creds;

    if (creds == NULL
        || in->nheaders > AIGW_SIGV4_MAX_HEADERS
        || (in->nheaders && in->headers == NULL)
        || (in->path.len && in->path.data == NULL)
        || (in->query.len && in->query.data == NULL)
        || !aigw_sigv4_field_ok(&in->region, AIGW_SIGV4_FIELD_MAX)
        || !aigw_sigv4_field_ok(&in->service, AIGW_SIGV4_FIELD_MAX)
        || !aigw_sigv4_field_ok(&creds->access_key, (size_t) -1))
    {
        return -1;
    }

    if (aigw_sigv4_format_date(in->now, out->amz_date) != 0) {
        return -1;
    }

    token = creds->session_token.len > 0
            && !(in->flags & AIGW_SIGV4_TOKEN_UNSIGNED);

    /* the headers to sign, sorted by name (insertion sort, stable) */

    n = 0;
    host = 0;

    extra[0].name.data = "x-amz-date";
    extra[0].name.len = sizeof("x-amz-date") - 1;
    extra[0].value.data = out->amz_date;
    extra[0].value.len = AIGW_AMZ_DATE_LEN;

    extra[1].name.data = "x-amz-content-sha256";
    extra[1].name.len = sizeof("x-amz-content-sha256") - 1;
    extra[1].value = in->payload_hash;

    extra[2].name.data = "x-amz-security-token";
    extra[2].name.len = sizeof("x-amz-security-token") - 1;
    extra[2].value = creds->session_token;

    for (i = 0; i < in->nheaders + 3; i++) {

        if (i < in->nheaders) {
            h = &in->headers[i];

            if (h->name.len == 0 || h->name.data == NULL
                || (h->value.len && h->value.data == NULL))
            {
                return -1;
            }

            /* those added below replace the caller's */

            if (aigw_sigv4_name_is(&h->name, "x-amz-date")
                || ((in->flags & AIGW_SIGV4_SIGN_CONTENT_SHA)
                    && aigw_sigv4_name_is(&h->name, "x-amz-content-sha256"))
                || (token
                    && aigw_sigv4_name_is(&h->name, "x-amz-security-token")))
            {
                continue;
            }

            if (aigw_sigv4_name_is(&h->name, "host")) {
                host = 1;
            }

        } else {
            j = i - in->nheaders;

            if ((j == 1 && !(in->flags & AIGW_SIGV4_SIGN_CONTENT_SHA))
                || (j == 2 && !token))
            {
                continue;
            }

            h = &extra[j];
        }

        aigw_sigv4_insert(hs, n++, h);
    }

    if (!host) {
        return -1;
    }

    /* the Authorization value up to the signature */

    b.p = auth;
    b.len = 0;
    b.size = auth_size;

    if (aigw_sigv4_buf_literal(&b, AIGW_SIGV4_ALGORITHM " Credential=")
        || aigw_sigv4_buf_add(&b, creds->access_key.data,
                              creds->access_key.len)
        || aigw_sigv4_buf_literal(&b, "/")
        || aigw_sigv4_buf_add(&b, out->amz_date, 8)
        || aigw_sigv4_buf_literal(&b, "/")
        || aigw_sigv4_buf_add(&b, in->region.data, in->region.len)
        || aigw_sigv4_buf_literal(&b, "/")
        || aigw_sigv4_buf_add(&b, in->service.data, in->service.len)
        || aigw_sigv4_buf_literal(&b, "/" AIGW_SIGV4_TERMINATOR)
        || aigw_sigv4_buf_literal(&b, ", SignedHeaders="))
    {
        return -1;
    }

    sh = b.len;

    if (aigw_sigv4_signed_headers(&b, hs, n) != 0) {
        return -1;
    }

    sh_len = b.len - sh;

    if (b.size - b.len < sizeof(", Signature=") - 1 + AIGW_SHA256_HEX_LEN + 1)
    {
        return -1;
    }

    /* the canonical request, into SHA-256 */

    if (aigw_sigv4_md == NULL) {
        aigw_sigv4_md = EVP_MD_CTX_new();

        if (aigw_sigv4_md == NULL) {
            return -1;
        }
    }

    w.md = aigw_sigv4_md;

    if (EVP_DigestInit_ex(w.md, aigw_sha256_md(), NULL) != 1) {
        return -1;
    }

    w.sink = in->sink;
    w.sink_data = in->sink_data;
    w.len = 0;
    w.error = 0;

    aigw_sigv4_write(&w, in->method.data, in->method.len);
    aigw_sigv4_byte(&w, '\n');

    aigw_sigv4_canonical_uri(&w, in);
    aigw_sigv4_byte(&w, '\n');

    if (aigw_sigv4_canonical_query(&w, in) != 0) {
        return -1;
    }

    aigw_sigv4_byte(&w, '\n');

    for (i = 0; i < n; i = j) {
        aigw_sigv4_write_name(&w, &hs[i]->name);
        aigw_sigv4_byte(&w, ':');
        aigw_sigv4_write_value(&w, &hs[i]->value);

        for (j = i + 1;
             j < n && aigw_sigv4_name_cmp(&hs[i]->name, &hs[j]->name) == 0;
             j++)
        {
            aigw_sigv4_byte(&w, ',');
            aigw_sigv4_write_value(&w, &hs[j]->value);
        }

        aigw_sigv4_byte(&w, '\n');
    }

    aigw_sigv4_byte(&w, '\n');
    aigw_sigv4_write(&w, auth + sh, sh_len);
    aigw_sigv4_byte(&w, '\n');
    aigw_sigv4_write(&w, in->payload_hash.data, in->payload_hash.len);
    aigw_sigv4_flush(&w);

    if (w.error || EVP_DigestFinal_ex(w.md, md, NULL) != 1) {
        return -1;
    }

    /* the string to sign */

    p = sts;
    memcpy(p, AIGW_SIGV4_ALGORITHM "\n", sizeof(AIGW_SIGV4_ALGORITHM));
    p += sizeof(AIGW_SIGV4_ALGORITHM);
    memcpy(p, out->amz_date, AIGW_AMZ_DATE_LEN);
    p += AIGW_AMZ_DATE_LEN;
    *p++ = '\n';
    memcpy(p, out->amz_date, 8);
    p += 8;
    *p++ = '/';
    memcpy(p, in->region.data, in->region.len);
    p += in->region.len;
    *p++ = '/';
    memcpy(p, in->service.data, in->service.len);
    p += in->service.len;
    memcpy(p, "/" AIGW_SIGV4_TERMINATOR "\n",
           sizeof("/" AIGW_SIGV4_TERMINATOR "\n") - 1);
    p += sizeof("/" AIGW_SIGV4_TERMINATOR "\n") - 1;
    aigw_hex(p, md, 32);
    p += 2 * 32;

    if (in->sink) {
        in->sink(in->sink_data, 2, sts, p - sts);
    }

    /* the signature: public, no need to cleanse it */

    aigw_sigv4_signature(in, out->amz_date, sts, p - sts, md);
    aigw_hex(out->signature, md, 32);
    out->signature[AIGW_SHA256_HEX_LEN] = '\0';

    (void) aigw_sigv4_buf_literal(&b, ", Signature=");
    (void) aigw_sigv4_buf_add(&b, out->signature, AIGW_SHA256_HEX_LEN);
    auth[b.len] = '\0';

    out->authorization = auth;
    out->authorization_len = b.len;

    return 0;
}
