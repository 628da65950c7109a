
/*
 * aigw: the event-stream decoder on any bytes.  Input: 8 bytes, the seed
 * of the pieces; then the stream.  Fed whole, one byte at a time and in
 * pieces, it must give the same callbacks (a trace: every header, the
 * payload bytes, the CRC verdicts) and the same counters and errors.
 */

#include "fuzz.h"
#include "aigw_eventstream.h"


typedef struct {
    uint64_t           hash;
    uint64_t           payload;         /* bytes */
    int                in_message;
    int                rc;
} trace_t;


static void
trace_headers(trace_t *t, const aigw_es_message_t *msg)
{
    char              name[256];
    size_t            pos;
    unsigned          n;
    aigw_es_header_t  h, f;

    pos = 0;
    n = 0;

    while (aigw_es_header_next(msg, &pos, &h)) {
        n++;
        fuzz_hash(&t->hash, h.name, h.name_len);
        fuzz_hash_u64(&t->hash, h.type);
        fuzz_hash_u64(&t->hash, (uint64_t) h.i);
        fuzz_hash_u64(&t->hash, h.len);

        if (h.len) {
            fuzz_hash(&t->hash, h.p, h.len);
        }

        /* the first header of that name is found */
        if (memchr(h.name, '\0', h.name_len) == NULL) {
            memcpy(name, h.name, h.name_len);
            name[h.name_len] = '\0';
            FUZZ_CHECK(aigw_es_header_find(msg, name, &f) == 1);
            FUZZ_CHECK(f.name_len == h.name_len);
        }
    }

    FUZZ_CHECK(n == msg->nheaders);
}


static void
on_start(aigw_es_decoder_t *es, const aigw_es_message_t *msg, void *data)
{
    trace_t  *t = data;

    FUZZ_CHECK(!t->in_message);
    FUZZ_CHECK(msg->total_length >= AIGW_ES_MIN_LEN);
    FUZZ_CHECK(msg->total_length == msg->headers_length
                                    + msg->payload_length + AIGW_ES_MIN_LEN);

    t->in_message = 1;
    fuzz_hash(&t->hash, "S", 1);
    fuzz_hash_u64(&t->hash, msg->total_length);
    fuzz_hash_u64(&t->hash, msg->headers_length);
    trace_headers(t, msg);
}


static void
on_payload(aigw_es_decoder_t *es, const unsigned char *p, size_t len,
    void *data)
{
    trace_t  *t = data;

    FUZZ_CHECK(t->in_message);
    FUZZ_CHECK(len > 0);

    /* the bytes, not the pieces: those depend on the split */
    t->payload += len;
    fuzz_hash(&t->hash, p, len);
}


static void
on_end(aigw_es_decoder_t *es, const aigw_es_message_t *msg, int crc_ok,
    void *data)
{
    trace_t  *t = data;

    FUZZ_CHECK(t->in_message);

    t->in_message = 0;
    fuzz_hash(&t->hash, "E", 1);
    fuzz_hash_u64(&t->hash, (uint64_t) crc_ok);
    fuzz_hash_u64(&t->hash, msg->message_crc);
    fuzz_hash_u64(&t->hash, msg->payload_length);
    trace_headers(t, msg);
}


static const aigw_es_handler_t  handler = { on_start, on_payload, on_end };


static void
feed(void *ctx, const uint8_t *p, size_t len)
{
    aigw_es_decoder_t  *es = ctx;
    trace_t            *t = es->data;
    int                 rc;

    rc = aigw_es_feed(es, p, len);

    FUZZ_CHECK(rc == 0 || rc == -1);
    FUZZ_CHECK((rc == -1) == (es->error != NULL));

    if (rc != 0) {
        t->rc = rc;
    }
}


static void
run(const uint8_t *p, size_t len, int how, uint64_t seed, char *out,
    size_t size)
{
    int                 rc, in;
    trace_t             t;
    aigw_es_decoder_t  *es;

    es = malloc(sizeof(aigw_es_decoder_t));
    FUZZ_CHECK(es != NULL);

    memset(&t, 0, sizeof(t));
    t.hash = FUZZ_HASH_INIT;

    aigw_es_init(es, &handler, &t);
    fuzz_feed(feed, es, p, len, how, seed);

    in = aigw_es_in_message(es);
    rc = aigw_es_finish(es);

    if (es->error == NULL && !in) {
        FUZZ_CHECK(rc == 0);
        FUZZ_CHECK(es->offset == len);
    }

    snprintf(out, size,
             "trace=%016llx payload=%llu rc=%d in=%d finish=%d error=%s"
             " last=%s offset=%llu messages=%llu crc=%u skipped=%u"
             " bad=%u",
             (unsigned long long) t.hash, (unsigned long long) t.payload,
             t.rc, in, rc, es->error ? es->error : "-",
             es->last_error ? es->last_error : "-",
             (unsigned long long) es->offset,
             (unsigned long long) es->messages, es->crc_errors, es->skipped,
             es->bad_headers);

    free(es);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char       whole[512], bytes[512], pieces[512];
    uint64_t   seed;
    fuzz_in_t  in;

    in.p = data;
    in.len = size;
    seed = fuzz_u64(&in, 8);

    run(in.p, in.len, FUZZ_WHOLE, seed, whole, sizeof(whole));
    run(in.p, in.len, FUZZ_BYTES, seed, bytes, sizeof(bytes));
    run(in.p, in.len, FUZZ_PIECES, seed, pieces, sizeof(pieces));

    FUZZ_SAME("byte by byte", whole, bytes);
    FUZZ_SAME("pieces", whole, pieces);

    return 0;
}
