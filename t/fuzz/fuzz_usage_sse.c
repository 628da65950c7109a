
/*
 * aigw: SageMaker's streamed payloads (server-sent events, JSON lines,
 * JSON values one after another) through the usage parser.  Input: the
 * format (1 byte), "complete" (1 byte), 8 bytes of seed, then the raw
 * bytes the model sends.  They are cut into PayloadPart events three
 * ways (one part, parts at the places the seed picks, one byte a part),
 * each event stream fed whole, one byte at a time and in pieces: the
 * usage and the anomalies must be the same for all.
 */

#include "fuzz.h"
#include "usage_common.h"
#include "es_test_util.h"


/* the framing of a PayloadPart: 3 string headers and the prelude, CRC */
#define PART_OVERHEAD  128


static size_t
add_part(uint8_t *out, const uint8_t *p, size_t len)
{
    return tu_es_event(out, "event", ":event-type", "PayloadPart", p, len);
}


/* the stream of "raw" cut into parts: 0 one part, 1 random, 2 bytes */
static size_t
make_stream(uint8_t *out, const uint8_t *raw, size_t len, int how,
    uint64_t seed)
{
    size_t  n, k;

    if (how == 0 || len == 0) {
        return add_part(out, raw, len);
    }

    n = 0;

    while (len) {
        k = (how == 2) ? 1 : 1 + fuzz_rand(&seed) % (len < 24 ? len : 24);
        n += add_part(out + n, raw, k);
        raw += k;
        len -= k;
    }

    return n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char         first[FUZZ_USAGE_TEXT], text[FUZZ_USAGE_TEXT];
    size_t       cap;
    uint8_t     *stream;
    int          parts, how;
    fuzz_in_t    in;
    fuzz_resp_t  r;

    static const char  ct[] = "application/vnd.amazon.eventstream";

    memset(&r, 0, sizeof(r));

    in.p = data;
    in.len = size;

    r.op = AIGW_OP_SM_INVOKE_STREAM;
    r.format = (aigw_usage_format_e)
                   (fuzz_byte(&in) % (AIGW_USAGE_FORMAT_NONE + 1));
    r.model = "my-llm-endpoint";
    r.status = 200;
    r.complete = fuzz_byte(&in) & 1;
    r.seed = fuzz_u64(&in, 8);

    r.headers[0].name = "Content-Type";
    r.headers[0].value = (const uint8_t *) ct;
    r.headers[0].value_len = sizeof(ct) - 1;
    r.nheaders = 1;

    cap = (in.len + 1) * (PART_OVERHEAD + 1);
    stream = malloc(cap);
    FUZZ_CHECK(stream != NULL);

    for (parts = 0; parts < 3; parts++) {
        r.body = stream;
        r.len = make_stream(stream, in.p, in.len, parts, r.seed ^ 2);
        FUZZ_CHECK(r.len <= cap);

        for (how = FUZZ_WHOLE; how <= FUZZ_PIECES; how++) {

            if (parts == 0 && how == FUZZ_WHOLE) {
                fuzz_usage_run(&r, how, first);
                continue;
            }

            /* one byte a part, one byte at a time: no more than that */
            if (parts == 2 && how == FUZZ_BYTES) {
                continue;
            }

            fuzz_usage_run(&r, how, text);
            FUZZ_SAME(parts == 0 ? "bytes or pieces" : "parts", first, text);
        }
    }

    free(stream);

    return 0;
}
