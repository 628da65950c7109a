
/*
 * aigw: an incremental decoder of application/vnd.amazon.eventstream, the
 * binary framing of Bedrock's and SageMaker's response streams:
 *
 *     total length (4)  headers length (4)  prelude CRC32 (4)
 *     headers (headers length)  payload  message CRC32 (4)
 *
 * big-endian; the prelude CRC covers the first 8 bytes, the message CRC
 * everything before it.  The decoder is fed byte ranges of any size and
 * gives the same callbacks for every split.  It keeps a fixed-size state
 * (sizeof(aigw_es_decoder_t), 1176 bytes on LP64) that the caller
 * allocates: the headers of a message are buffered (up to
 * AIGW_ES_HEADERS_BUF bytes), the payload is handed over in pieces as it
 * arrives, whatever its size.  No nginx headers, no allocation, no zlib.
 *
 * Limits, as botocore's decoder checks them:
 *
 *     total length >= 16 and headers length <= total length - 16,
 *     headers length <= AIGW_ES_MAX_HEADERS_LEN (128 KiB),
 *     payload length <= AIGW_ES_MAX_PAYLOAD_LEN (16 MiB),
 *
 * so a message is at most 16 MiB + 128 KiB + 16 bytes.  A prelude CRC
 * mismatch or a length out of these limits leaves the stream impossible
 * to resynchronize: the decoder sets es->error (for a CRC mismatch
 * exactly "Prelude checksum mismatch") and ignores the rest.
 *
 * A message whose headers exceed AIGW_ES_HEADERS_BUF is skipped (no
 * callbacks; es->skipped counts it; its CRC is still checked).  A message
 * whose CRC does not match is reported to message_end() with crc_ok 0
 * (es->crc_errors, es->last_error "Message checksum mismatch"); decoding
 * goes on with the next message, the framing being intact.  Consumers
 * stage what they extract from a message and commit it only when
 * message_end() says crc_ok.
 */

#ifndef AIGW_EVENTSTREAM_H
#define AIGW_EVENTSTREAM_H


#include <stddef.h>
#include <stdint.h>


#define AIGW_ES_PRELUDE_LEN       12
#define AIGW_ES_MIN_LEN           16
#define AIGW_ES_MAX_HEADERS_LEN   (128 * 1024)
#define AIGW_ES_MAX_PAYLOAD_LEN   (16 * 1024 * 1024)
#define AIGW_ES_MAX_TOTAL_LEN                                                 \
    (AIGW_ES_MAX_PAYLOAD_LEN + AIGW_ES_MAX_HEADERS_LEN + AIGW_ES_MIN_LEN)

/* the headers of a message buffered; messages with more are skipped */
#define AIGW_ES_HEADERS_BUF       1024


typedef enum {
    AIGW_ES_BOOL_TRUE = 0,
    AIGW_ES_BOOL_FALSE = 1,
    AIGW_ES_BYTE = 2,
    AIGW_ES_INT16 = 3,
    AIGW_ES_INT32 = 4,
    AIGW_ES_INT64 = 5,
    AIGW_ES_BYTES = 6,
    AIGW_ES_STRING = 7,
    AIGW_ES_TIMESTAMP = 8,              /* milliseconds since the epoch */
    AIGW_ES_UUID = 9
} aigw_es_type_e;


typedef struct {
    const char             *name;
    size_t                  name_len;
    aigw_es_type_e          type;

    /* bool (1, 0), byte, int16, int32, int64, timestamp: sign-extended */
    int64_t                 i;

    /* bytes, string (not NUL-terminated), uuid (16 bytes) */
    const unsigned char    *p;
    size_t                  len;
} aigw_es_header_t;


typedef struct {
    uint32_t                total_length;
    uint32_t                headers_length;
    uint32_t                payload_length;
    uint32_t                prelude_crc;
    uint32_t                message_crc;    /* set for message_end() */

    /* the raw header block, validated; see aigw_es_header_next() */
    const unsigned char    *headers;
    unsigned                nheaders;
} aigw_es_message_t;


typedef struct aigw_es_decoder_s  aigw_es_decoder_t;

typedef struct {
    /* the prelude and the headers of a message have arrived */
    void  (*message_start)(aigw_es_decoder_t *es,
                           const aigw_es_message_t *msg, void *data);

    /* a piece of the payload (never empty) */
    void  (*payload)(aigw_es_decoder_t *es, const unsigned char *p,
                     size_t len, void *data);

    /* the message CRC has arrived: crc_ok 1 when it matched */
    void  (*message_end)(aigw_es_decoder_t *es,
                         const aigw_es_message_t *msg, int crc_ok,
                         void *data);
} aigw_es_handler_t;


struct aigw_es_decoder_s {
    aigw_es_handler_t       handler;        /* NULL members: not called */
    void                   *data;

    /* fatal: the rest of the stream is ignored; NULL if none */
    const char             *error;
    /* the last message-level problem: a CRC mismatch, bad headers */
    const char             *last_error;

    uint64_t                offset;         /* bytes consumed */
    uint64_t                messages;       /* messages completed */
    uint32_t                crc_errors;     /* message CRC mismatches */
    uint32_t                skipped;        /* headers over the buffer */
    uint32_t                bad_headers;    /* malformed header blocks */

    /* private */
    unsigned                state;
    uint32_t                need;           /* bytes left in this part */
    uint32_t                crc;            /* running message CRC */
    unsigned                have;           /* bytes in prelude / crc */
    unsigned                skip;           /* this message is skipped */
    unsigned char           prelude[AIGW_ES_PRELUDE_LEN];
    aigw_es_message_t       msg;
    unsigned char           hbuf[AIGW_ES_HEADERS_BUF];
};


void aigw_es_init(aigw_es_decoder_t *es, const aigw_es_handler_t *handler,
    void *data);

/* returns 0, or -1 once es->error is set (the input is then ignored) */
int aigw_es_feed(aigw_es_decoder_t *es, const void *p, size_t len);

/*
 * The end of the stream: 0 when it ended between messages, -1 when it
 * ended inside one ("Truncated message" in es->last_error) or after a
 * fatal error.
 */
int aigw_es_finish(aigw_es_decoder_t *es);

/* 1 while inside a message */
int aigw_es_in_message(const aigw_es_decoder_t *es);

/*
 * Iterates over the headers of a message: "*pos" starts at 0; returns 1
 * and fills "h", or 0 at the end.  Valid during message_start() and
 * message_end().
 */
int aigw_es_header_next(const aigw_es_message_t *msg, size_t *pos,
    aigw_es_header_t *h);

/* the first header named "name" (case-sensitive); 1 if found, else 0 */
int aigw_es_header_find(const aigw_es_message_t *msg, const char *name,
    aigw_es_header_t *h);

/* zlib-compatible CRC32 (IEEE): crc = aigw_crc32(0, p, len), chainable */
uint32_t aigw_crc32(uint32_t crc, const void *p, size_t len);


#endif /* AIGW_EVENTSTREAM_H */
