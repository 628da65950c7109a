
/*
 * aigw: throughput of the event-stream decoder with usage extraction on a
 * realistic InvokeModelWithResponseStream response, next to plain CRC32
 * over the same bytes, in the same process.  Not a test: it asserts
 * nothing about speed.  "make bench-decode".
 *
 * The stream is synthesized like Bedrock's Anthropic streams: a
 * message_start chunk, text deltas (mostly a few words, some long), a
 * message_delta and a message_stop with the invocation metrics; each
 * chunk's JSON is base64 in "bytes", with a random "p" padding.  One
 * response is about 256 KB; it is decoded again and again, each time by
 * a fresh parser, in 16 KB pieces (nginx's buffers), up to about 200 MB.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es_test_util.h"
#include "aigw_eventstream.h"
#include "aigw_usage.h"


#define BENCH_TOTAL    (200 * 1000 * 1000)
#define BENCH_PIECE    16384
#define BENCH_CHUNKS   1000


typedef struct {
    unsigned char  *p;
    size_t          len;
    size_t          cap;
} buf_t;


static const char  *words[] = {
    "the", "gateway", "meters", "every", "token", "exactly", ",", " and",
    "streams", "flow", "through", "nginx", "without", "buffering", ".",
    "Bedrock", "\\\"quoted\\\"", "caf\\u00e9", "\\n\\n", "observability"
};


static double
now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
add_chunk(buf_t *b, const char *json, uint64_t *seed)
{
    size_t   n, pad;
    char     b64[8192], payload[9000];

    static const char  letters[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    tu_base64(b64, (const unsigned char *) json, strlen(json));

    pad = 1 + tu_rand(seed) % 50;
    n = sprintf(payload, "{\"bytes\":\"%s\",\"p\":\"", b64);
    memcpy(payload + n, letters, pad);
    n += pad;
    n += sprintf(payload + n, "\"}");

    if (b->len + n + 256 > b->cap) {
        b->cap = (b->len + n + 256) * 2;
        b->p = realloc(b->p, b->cap);
    }

    b->len += tu_es_event(b->p + b->len, "event", ":event-type", "chunk",
                          payload, n);
}


static void
make_response(buf_t *b)
{
    int       i, k, nw;
    char      text[4096], json[8192];
    size_t    n;
    uint64_t  seed;

    seed = 2024;

    add_chunk(b, "{\"type\":\"message_start\",\"message\":{\"id\":"
              "\"msg_bdrk_014eJfxWXNnxFKhmuiT8FYf7\",\"type\":\"message\","
              "\"role\":\"assistant\",\"model\":\"claude-3-sonnet-20240229\","
              "\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
              "\"usage\":{\"input_tokens\":1216,\"output_tokens\":1}}}",
              &seed);

    add_chunk(b, "{\"type\":\"content_block_start\",\"index\":0,"
              "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}", &seed);

    for (i = 0; i < BENCH_CHUNKS; i++) {

        /* most deltas are a few words; one in five is long */
        nw = (tu_rand(&seed) % 5 == 0) ? 40 + tu_rand(&seed) % 60
                                        : 1 + tu_rand(&seed) % 4;
        n = 0;

        for (k = 0; k < nw; k++) {
            n += sprintf(text + n, "%s%s", k ? " " : "",
                         words[tu_rand(&seed) % (sizeof(words)
                                                 / sizeof(words[0]))]);
        }

        sprintf(json, "{\"type\":\"content_block_delta\",\"index\":0,"
                "\"delta\":{\"type\":\"text_delta\",\"text\":\"%s\"}}", text);
        add_chunk(b, json, &seed);
    }

    add_chunk(b, "{\"type\":\"content_block_stop\",\"index\":0}", &seed);
    add_chunk(b, "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
              "\"end_turn\",\"stop_sequence\":null},\"usage\":"
              "{\"output_tokens\":3021}}", &seed);
    add_chunk(b, "{\"type\":\"message_stop\","
              "\"amazon-bedrock-invocationMetrics\":{\"inputTokenCount\":1216,"
              "\"outputTokenCount\":3021,\"invocationLatency\":7380,"
              "\"firstByteLatency\":378}}", &seed);
}


int
main(void)
{
    int                    pass, passes;
    size_t                 off, n;
    double                 t0, t_crc, t_es, t_usage, mb;
    uint32_t               crc;
    buf_t                  b;
    aigw_es_decoder_t      es;
    aigw_usage_parser_t    up;
    volatile uint32_t      sink;

    memset(&b, 0, sizeof(b));
    make_response(&b);

    passes = (int) (BENCH_TOTAL / b.len) + 1;
    mb = (double) b.len * passes / 1e6;

    /* a check that it meters what it should */

    aigw_usage_init(&up, AIGW_OP_INVOKE_STREAM,
                    "anthropic.claude-3-sonnet-20240229-v1:0", 39,
                    AIGW_USAGE_FORMAT_AUTO);
    aigw_usage_status(&up, 200);
    aigw_usage_body(&up, b.p, b.len);
    aigw_usage_finish(&up, 1);

    printf("bench-decode: a %zu-byte InvokeModelWithResponseStream response"
           " (%d chunks, %.0f bytes each), %d times: %.1f MB,"
           " in %d-byte pieces\n",
           b.len, BENCH_CHUNKS + 5, (double) b.len / (BENCH_CHUNKS + 5),
           passes, mb, BENCH_PIECE);
    printf("usage read: input %llu, output %llu, source %s"
           " (expected 1216, 3021, stream)\n",
           (unsigned long long) up.usage.input_tokens,
           (unsigned long long) up.usage.output_tokens,
           aigw_usage_source_name(up.usage.source));
    printf("state: sizeof(aigw_usage_parser_t) %zu bytes,"
           " sizeof(aigw_es_decoder_t) %zu bytes\n",
           sizeof(aigw_usage_parser_t), sizeof(aigw_es_decoder_t));

    /* plain CRC32 over the same bytes, in the same pieces */

    t0 = now();
    crc = 0;

    for (pass = 0; pass < passes; pass++) {
        for (off = 0; off < b.len; off += n) {
            n = b.len - off < BENCH_PIECE ? b.len - off : BENCH_PIECE;
            crc = aigw_crc32(crc, b.p + off, n);
        }
    }

    t_crc = now() - t0;
    sink = crc;
    (void) sink;

    /* the decoder alone: framing and both CRCs */

    t0 = now();

    for (pass = 0; pass < passes; pass++) {
        aigw_es_init(&es, NULL, NULL);

        for (off = 0; off < b.len; off += n) {
            n = b.len - off < BENCH_PIECE ? b.len - off : BENCH_PIECE;
            (void) aigw_es_feed(&es, b.p + off, n);
        }

        (void) aigw_es_finish(&es);
    }

    t_es = now() - t0;

    /* the decoder with usage extraction: base64, two JSON scanners */

    t0 = now();

    for (pass = 0; pass < passes; pass++) {
        aigw_usage_init(&up, AIGW_OP_INVOKE_STREAM,
                        "anthropic.claude-3-sonnet-20240229-v1:0", 39,
                        AIGW_USAGE_FORMAT_AUTO);
        aigw_usage_status(&up, 200);

        for (off = 0; off < b.len; off += n) {
            n = b.len - off < BENCH_PIECE ? b.len - off : BENCH_PIECE;
            aigw_usage_body(&up, b.p + off, n);
        }

        aigw_usage_finish(&up, 1);
    }

    t_usage = now() - t0;

    printf("crc32 (aigw_crc32, slicing-by-8):    %8.1f MB/s\n", mb / t_crc);
    printf("event-stream decoder (CRCs, frames):  %8.1f MB/s"
           "   ratio to crc32 %.2f\n", mb / t_es, t_crc / t_es);
    printf("decoder + usage extraction:           %8.1f MB/s"
           "   ratio to crc32 %.2f\n", mb / t_usage, t_crc / t_usage);

    free(b.p);

    return 0;
}
