
/*
 * aigw: SigV4 canonicalization and signing of any request.  Input: flags
 * (1 byte: AIGW_SIGV4_*, bit 4: no host header), the time (4 bytes),
 * then fields separated by NUL bytes: method, path, query, region,
 * service, access key, secret key, session token, payload hash, then
 * header names and values, alternately.  Checked: signing succeeds but
 * for the documented reasons; the Authorization value fits the size
 * aigw_sigv4_auth_size() gives; the canonical request is the same with
 * and without the key cache, the signature too; the canonical URI and
 * query are URI-encoded (only unreserved bytes, "/", "=", "&" and "%XX").
 */

#include "fuzz.h"
#include "aigw_sigv4.h"


typedef struct {
    char    *p;
    size_t   len;
    size_t   cap;
    size_t   sts;               /* where the string to sign begins */
} sink_t;


static void
sink(void *data, int what, const char *p, size_t len)
{
    sink_t  *s = data;
    size_t   cap;
    char    *n;

    if (what == 2 && s->sts == 0) {
        s->sts = s->len + 1;
        sink(data, 0, "\x01", 1);
    }

    if (s->len + len > s->cap) {
        cap = (s->len + len) * 2 + 64;
        n = realloc(s->p, cap);
        FUZZ_CHECK(n != NULL);
        s->p = n;
        s->cap = cap;
    }

    memcpy(s->p + s->len, p, len);
    s->len += len;
}


static int
unreserved(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~';
}


static int
hex_upper(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}


/* line "n" (from 0) of the canonical request is encoded */
static void
check_encoded(const char *p, size_t len, unsigned line, const char *extra)
{
    size_t       i, start;
    unsigned     n;
    const char  *end;

    n = 0;
    start = 0;

    for (i = 0; i < len && n < line; i++) {
        if (p[i] == '\n') {
            n++;
            start = i + 1;
        }
    }

    FUZZ_CHECK(n == line);

    end = memchr(p + start, '\n', len - start);
    FUZZ_CHECK(end != NULL);

    for (p += start; p < end; p++) {
        if (*p == '%') {
            FUZZ_CHECK(end - p > 2 && hex_upper(p[1]) && hex_upper(p[2]));
            p += 2;
            continue;
        }

        FUZZ_CHECK(unreserved((unsigned char) *p) || strchr(extra, *p));
    }
}


static int
sign(aigw_sigv4_input_t *si, sink_t *s, aigw_sigv4_output_t *out,
    char **auth)
{
    int     rc;
    size_t  size;

    size = aigw_sigv4_auth_size(si);
    *auth = malloc(size ? size : 1);
    FUZZ_CHECK(*auth != NULL);

    memset(s, 0, sizeof(sink_t));
    si->sink = sink;
    si->sink_data = s;

    rc = aigw_sigv4_sign(si, out, *auth, size);

    if (rc == 0) {
        FUZZ_CHECK(out->authorization_len < size);
        FUZZ_CHECK(strlen(out->authorization) == out->authorization_len);
        FUZZ_CHECK(strlen(out->signature) == AIGW_SHA256_HEX_LEN);
    }

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                   rc1, rc2;
    char                 *auth1, *auth2;
    size_t                i, n;
    sink_t                s1, s2;
    unsigned              flags;
    fuzz_in_t             in;
    aigw_str_t           *f[9];
    aigw_creds_t          creds;
    aigw_header_t         headers[AIGW_SIGV4_MAX_HEADERS + 4];
    aigw_sigv4_input_t    si;
    aigw_sigv4_output_t   out1, out2;

    static aigw_sigv4_cache_t  cache;

    memset(&si, 0, sizeof(si));
    memset(&creds, 0, sizeof(creds));

    in.p = data;
    in.len = size;

    flags = fuzz_byte(&in);
    si.now = (time_t) fuzz_u64(&in, 4);

    f[0] = &si.method;
    f[1] = &si.path;
    f[2] = &si.query;
    f[3] = &si.region;
    f[4] = &si.service;
    f[5] = &creds.access_key;
    f[6] = &creds.secret_key;
    f[7] = &creds.session_token;
    f[8] = &si.payload_hash;

    for (i = 0; i < 9; i++) {
        f[i]->len = fuzz_field(&in, 0, &f[i]->data);
    }

    n = 0;

    if (!(flags & 0x10)) {
        headers[n].name.data = "Host";
        headers[n].name.len = 4;
        headers[n].value.data = "bedrock-runtime.us-east-1.amazonaws.com";
        headers[n].value.len = 39;
        n++;
    }

    while (in.len && n < AIGW_SIGV4_MAX_HEADERS + 4) {
        headers[n].name.len = fuzz_field(&in, 0, &headers[n].name.data);
        headers[n].value.len = fuzz_field(&in, 0, &headers[n].value.data);
        n++;
    }

    si.headers = headers;
    si.nheaders = n;
    si.creds = &creds;
    si.flags = flags & 0x0f;

    rc1 = sign(&si, &s1, &out1, &auth1);

    si.cache = &cache;
    rc2 = sign(&si, &s2, &out2, &auth2);

    FUZZ_CHECK(rc1 == rc2);

    if (rc1 == 0) {
        FUZZ_CHECK(s1.len == s2.len && memcmp(s1.p, s2.p, s1.len) == 0);
        FUZZ_CHECK(strcmp(out1.signature, out2.signature) == 0);
        FUZZ_CHECK(strcmp(out1.authorization, out2.authorization) == 0);
        FUZZ_CHECK(s1.sts != 0);

        /* the method and an S3 path are the caller's: not when they
           hold a line end */
        if (memchr(si.method.data, '\n', si.method.len) == NULL) {

            if (!(si.flags & AIGW_SIGV4_NO_DOUBLE_ENCODE)) {
                check_encoded(s1.p, s1.sts - 1, 1, "/");
                check_encoded(s1.p, s1.sts - 1, 2, "=&");

            } else if (memchr(si.path.data, '\n', si.path.len) == NULL) {
                check_encoded(s1.p, s1.sts - 1, 2, "=&");
            }
        }
    }

    if ((flags & 0xe0) == 0xe0) {
        aigw_sigv4_cleanup();
    }

    free(s1.p);
    free(s2.p);
    free(auth1);
    free(auth2);

    return 0;
}
