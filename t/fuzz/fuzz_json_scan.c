
/*
 * aigw: the JSON scanner on any bytes.  Input: a byte of flags (bit 0:
 * AIGW_JSON_MULTI), a byte naming the event at which the handler stops
 * (0: never), 8 bytes of seed; then the text.  Fed whole, one byte at a
 * time and in pieces, it must report the same events with the same paths
 * and pattern matches, the same string bytes (in pieces of any size) and
 * end the same way.  Numbers the scanner reports are checked against
 * aigw_json_number_u64() and strtoull().
 */

#include <errno.h>

#include "fuzz.h"
#include "aigw_json_scan.h"


static const char  *patterns[] = {
    "", "usage", "usage.inputTokens", "usage.output_tokens",
    "results[].tokenCount", "[].details.generated_tokens", "images[]",
    "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", "[][][]", NULL
};


typedef struct {
    uint64_t    hash;
    uint64_t    string_bytes;
    unsigned    events;
    unsigned    stop_at;
    int         in_string;
    int         rc;
} trace_t;


static void
check_number(const char *p, size_t len)
{
    int                 rc;
    char                buf[AIGW_JSON_NUMBER_MAX + 1];
    size_t              i;
    uint64_t            v;
    unsigned long long  w;

    FUZZ_CHECK(len <= AIGW_JSON_NUMBER_MAX);

    rc = aigw_json_number_u64(p, len, &v);

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return;
        }
    }

    /* plain digits: what strtoull() reads, when it fits */
    memcpy(buf, p, len);
    buf[len] = '\0';
    errno = 0;
    w = strtoull(buf, NULL, 10);

    if (errno == ERANGE) {
        FUZZ_CHECK(rc == -1);

    } else {
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(v == w);
    }
}


static int
handler(aigw_json_scan_t *js, aigw_json_event_e ev, const char *p,
    size_t len, void *data)
{
    trace_t   *t = data;
    char       path[2048];
    size_t     n;
    unsigned   i;

    if (ev == AIGW_JSON_STRING_DATA) {
        /* the bytes, not the pieces */
        FUZZ_CHECK(t->in_string);
        FUZZ_CHECK(len > 0);
        t->string_bytes += len;
        fuzz_hash(&t->hash, p, len);
        return 0;
    }

    t->events++;

    if (ev == AIGW_JSON_STRING_START) {
        t->in_string = 1;

    } else if (ev == AIGW_JSON_STRING_END) {
        FUZZ_CHECK(t->in_string);
        t->in_string = 0;
    }

    fuzz_hash_u64(&t->hash, ev);
    fuzz_hash_u64(&t->hash, js->depth);

    n = aigw_json_path(js, path, sizeof(path));
    FUZZ_CHECK(n < sizeof(path));
    FUZZ_CHECK(strlen(path) == n);
    fuzz_hash(&t->hash, path, n);

    for (i = 0; patterns[i]; i++) {
        fuzz_hash_u64(&t->hash, (uint64_t) aigw_json_match(js, patterns[i]));
    }

    if (ev == AIGW_JSON_NUMBER) {
        fuzz_hash(&t->hash, p, len);

        if (len) {
            check_number(p, len);
        }
    }

    return t->stop_at != 0 && t->events == t->stop_at;
}


static void
feed(void *ctx, const uint8_t *p, size_t len)
{
    aigw_json_scan_t  *js = ctx;
    trace_t           *t = js->data;
    int                rc;

    rc = aigw_json_feed(js, (const char *) p, len);

    FUZZ_CHECK(rc == AIGW_JSON_OK || rc == AIGW_JSON_ERROR);
    FUZZ_CHECK((rc == AIGW_JSON_ERROR) == (js->error != NULL));

    if (rc != AIGW_JSON_OK) {
        t->rc = rc;
    }
}


static void
run(const uint8_t *p, size_t len, unsigned flags, unsigned stop_at,
    int how, uint64_t seed, char *out, size_t size)
{
    int                rc, in;
    trace_t            t;
    aigw_json_scan_t  *js;

    js = malloc(sizeof(aigw_json_scan_t));
    FUZZ_CHECK(js != NULL);

    memset(&t, 0, sizeof(t));
    t.hash = FUZZ_HASH_INIT;
    t.stop_at = stop_at;

    aigw_json_init(js, flags, handler, &t);
    fuzz_feed(feed, js, p, len, how, seed);

    in = aigw_json_in_value(js);
    rc = aigw_json_finish(js);

    FUZZ_CHECK(rc == AIGW_JSON_OK || rc == AIGW_JSON_ERROR
               || rc == AIGW_JSON_INCOMPLETE);

    snprintf(out, size,
             "trace=%016llx strings=%llu events=%u rc=%d in=%d finish=%d"
             " error=%s offset=%llu documents=%u deep=%u keys=%u"
             " numbers=%u",
             (unsigned long long) t.hash,
             (unsigned long long) t.string_bytes, t.events, t.rc, in, rc,
             js->error ? js->error : "-", (unsigned long long) js->offset,
             js->documents, js->too_deep, js->long_keys, js->long_numbers);

    free(js);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char       whole[512], bytes[512], pieces[512];
    unsigned   flags, stop_at;
    uint64_t   seed;
    fuzz_in_t  in;

    in.p = data;
    in.len = size;
    flags = fuzz_byte(&in) & AIGW_JSON_MULTI;
    stop_at = fuzz_byte(&in);
    seed = fuzz_u64(&in, 8);

    run(in.p, in.len, flags, stop_at, FUZZ_WHOLE, seed, whole,
        sizeof(whole));
    run(in.p, in.len, flags, stop_at, FUZZ_BYTES, seed, bytes,
        sizeof(bytes));
    run(in.p, in.len, flags, stop_at, FUZZ_PIECES, seed, pieces,
        sizeof(pieces));

    FUZZ_SAME("byte by byte", whole, bytes);
    FUZZ_SAME("pieces", whole, pieces);

    /* the number reader on the raw bytes */
    if (in.len <= 64) {
        uint64_t  v;

        (void) aigw_json_number_u64((const char *) in.p, in.len, &v);
    }

    return 0;
}
