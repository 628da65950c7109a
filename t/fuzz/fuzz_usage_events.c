
/*
 * aigw: usage extraction from event streams whose framing and CRCs are
 * right, so that the fuzzer reaches what the events carry.  Input: the
 * parameters of usage_common.h (13 bytes), then messages, each a kind
 * (1 byte), a length (2 bytes) and that many bytes:
 *
 *     0  an invoke stream "chunk": {"bytes": base64 of the bytes}
 *     1  a "chunk" whose payload is the bytes
 *     2  a ConverseStream event (its type from the first byte) of the
 *        bytes: messageStart, contentBlockDelta, messageStop, metadata
 *     3  an exception, :exception-type the bytes up to the first ":"
 *     4  a SageMaker PayloadPart of the bytes
 *     5  a "chunk" as in 0 with a bad message CRC
 *     6  an "error" message, :error-code the bytes up to the first ":"
 *     7  the bytes as they are, outside any framing
 *
 * The stream is fed whole, one byte at a time and in pieces: the usage
 * and the anomalies must be the same.
 */

#include "fuzz.h"
#include "usage_common.h"
#include "es_test_util.h"


/* a message is at most 2 x its bytes (base64) and 400 of framing */
#define STREAM_SIZE(size)  (2 * (size) + 400 * ((size) / 3 + 1))


static const char  *converse_events[] = {
    "messageStart", "contentBlockDelta", "contentBlockStop", "messageStop",
    "metadata"
};


static size_t
add_message(uint8_t *out, unsigned kind, const uint8_t *p, size_t len)
{
    char            *b64;
    size_t           n, k;
    unsigned char    h[1024];
    const uint8_t   *colon;

    switch (kind) {

    case 0:
    case 5:
        b64 = malloc(len * 4 / 3 + 64);
        FUZZ_CHECK(b64 != NULL);
        memcpy(b64, "{\"bytes\":\"", 10);
        n = 10 + tu_base64(b64 + 10, p, len);
        memcpy(b64 + n, "\",\"p\":\"abc\"}", 12);
        n += 12;
        n = tu_es_event(out, "event", ":event-type", "chunk", b64, n);
        free(b64);

        if (kind == 5) {
            out[n - 1] ^= 0x5a;
        }

        return n;

    case 1:
        return tu_es_event(out, "event", ":event-type", "chunk", p, len);

    case 2:
        k = len ? p[0] % (sizeof(converse_events) / sizeof(char *)) : 0;
        return tu_es_event(out, "event", ":event-type", converse_events[k],
                           len ? p + 1 : p, len ? len - 1 : 0);

    case 3:
    case 6:
        colon = memchr(p, ':', len);
        k = colon ? (size_t) (colon - p) : len;
        if (k > 255) {
            k = 255;
        }

        n = tu_es_str_header(h, ":message-type",
                             kind == 3 ? "exception" : "error");

        h[n] = (unsigned char) (kind == 3 ? 15 : 11);
        memcpy(h + n + 1, kind == 3 ? ":exception-type" : ":error-code",
               h[n]);
        n += 1 + h[n];
        h[n++] = AIGW_ES_STRING;
        h[n++] = 0;
        h[n++] = (unsigned char) k;
        memcpy(h + n, p, k);
        n += k;

        return tu_es_message(out, h, n, p + k, len - k);

    case 4:
        return tu_es_event(out, "event", ":event-type", "PayloadPart", p,
                           len);

    default:
        memcpy(out, p, len);
        return len;
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char            whole[FUZZ_USAGE_TEXT], bytes[FUZZ_USAGE_TEXT],
                    pieces[FUZZ_USAGE_TEXT];
    size_t          n, len;
    uint8_t        *stream;
    unsigned        kind;
    fuzz_in_t       in;
    fuzz_resp_t     r;
    const uint8_t  *p;

    static const char  ct[] = "application/vnd.amazon.eventstream";

    memset(&r, 0, sizeof(r));

    in.p = data;
    in.len = size;

    fuzz_usage_params(&in, &r);

    if (r.op == AIGW_OP_NONE) {
        r.op = AIGW_OP_INVOKE_STREAM;
    }

    r.headers[0].name = "Content-Type";
    r.headers[0].value = (const uint8_t *) ct;
    r.headers[0].value_len = sizeof(ct) - 1;
    r.nheaders = 1;

    stream = malloc(STREAM_SIZE(size));
    FUZZ_CHECK(stream != NULL);

    len = 0;

    while (in.len) {
        kind = fuzz_byte(&in) % 8;
        n = fuzz_take(&in, fuzz_u64(&in, 2), &p);
        len += add_message(stream + len, kind, p, n);
    }

    FUZZ_CHECK(len <= STREAM_SIZE(size));

    r.body = stream;
    r.len = len;

    fuzz_usage_run(&r, FUZZ_WHOLE, whole);
    fuzz_usage_run(&r, FUZZ_BYTES, bytes);
    fuzz_usage_run(&r, FUZZ_PIECES, pieces);

    FUZZ_SAME("byte by byte", whole, bytes);
    FUZZ_SAME("pieces", whole, pieces);

    free(stream);

    return 0;
}
