
/*
 * aigw: an incremental (push) JSON scanner, SAX-style.  It is fed byte
 * ranges of any size (down to one byte) and reports events with the path
 * of the value they belong to; the events are the same for every split
 * of the input.  Nothing is buffered but a key per level and a number:
 * strings of any length are delivered in pieces, escapes decoded.
 *
 * The state is a plain struct of fixed size that the caller allocates
 * (sizeof(aigw_json_scan_t) is 1336 bytes on LP64): a key of up to
 * AIGW_JSON_KEY_MAX bytes for each of the AIGW_JSON_MAX_DEPTH outer
 * levels, one bit for each deeper level, a number of up to
 * AIGW_JSON_NUMBER_MAX bytes.  The scanner never allocates.  No nginx
 * headers.
 *
 * Paths.  While an event is reported, js->depth is the number of open
 * containers around the value and js->level[0 .. depth - 1] describe
 * them: for an object its key of the value, for an array the index of
 * the element.  A container's START and END events are reported with the
 * path of the container itself (outside it).  Only the outer
 * AIGW_JSON_MAX_DEPTH levels are recorded: deeper values are still
 * scanned and reported, but they match no pattern.  Keys longer than
 * AIGW_JSON_KEY_MAX bytes are marked too long and match no pattern.
 *
 * Patterns (aigw_json_match()): keys separated by ".", "[]" for an array
 * element (any index): "usage.inputTokens", "results[].tokenCount",
 * "[].details.generated_tokens", "images[]", "" (the top level).  A key
 * containing ".", "[" or "]" cannot be written.
 */

#ifndef AIGW_JSON_SCAN_H
#define AIGW_JSON_SCAN_H


#include <stddef.h>
#include <stdint.h>


#define AIGW_JSON_MAX_DEPTH      16     /* levels recorded with key/index */
#define AIGW_JSON_MAX_NESTING    512    /* deeper is a syntax error */
#define AIGW_JSON_KEY_MAX        64     /* bytes of a key kept (decoded) */
#define AIGW_JSON_NUMBER_MAX     40     /* bytes of a number kept */

/* flags of aigw_json_init() */
#define AIGW_JSON_MULTI          0x01   /* a sequence of top-level values */

/* aigw_json_feed() and aigw_json_finish() */
#define AIGW_JSON_OK             0
#define AIGW_JSON_ERROR          -1     /* syntax error or handler stop */
#define AIGW_JSON_INCOMPLETE     1      /* finish(): input ended in a value */


typedef enum {
    AIGW_JSON_OBJECT_START = 1,
    AIGW_JSON_OBJECT_END,
    AIGW_JSON_ARRAY_START,
    AIGW_JSON_ARRAY_END,
    AIGW_JSON_STRING_START,
    AIGW_JSON_STRING_DATA,             /* a piece of the decoded string */
    AIGW_JSON_STRING_END,
    AIGW_JSON_NUMBER,                  /* raw text; len 0 when too long */
    AIGW_JSON_TRUE,
    AIGW_JSON_FALSE,
    AIGW_JSON_NULL,
    AIGW_JSON_DOC_END                  /* a top-level value is complete */
} aigw_json_event_e;


typedef struct aigw_json_scan_s  aigw_json_scan_t;

/*
 * "p", "len": the piece of a string (STRING_DATA), the number text
 * (NUMBER); NULL, 0 otherwise.  A non-zero return stops the scanner:
 * aigw_json_feed() returns AIGW_JSON_ERROR and js->error is
 * "stopped by the handler".
 */
typedef int (*aigw_json_handler_pt)(aigw_json_scan_t *js,
    aigw_json_event_e ev, const char *p, size_t len, void *data);


typedef struct {
    uint32_t         index;            /* array: the element's index */
    uint8_t          array;            /* 1: array, 0: object */
    uint8_t          key_too_long;
    uint8_t          key_len;
    char             key[AIGW_JSON_KEY_MAX];
} aigw_json_level_t;


struct aigw_json_scan_s {
    aigw_json_handler_pt   handler;
    void                  *data;

    const char            *error;      /* static reason, NULL if none */
    uint64_t               offset;     /* bytes consumed; at an error: just
                                          after the byte where it failed */

    /* anomalies, counted since aigw_json_init() (reset keeps them) */
    uint32_t               too_deep;   /* containers deeper than MAX_DEPTH */
    uint32_t               long_keys;
    uint32_t               long_numbers;
    uint32_t               documents;  /* top-level values completed */

    unsigned               depth;
    unsigned               flags;

    /* private */
    uint8_t                state;
    uint8_t                in_key;
    uint8_t                num_state;
    uint8_t                num_len;
    uint8_t                num_too_long;
    uint8_t                lit_pos;
    uint8_t                lit_len;
    uint8_t                uhex_n;
    uint32_t               ucode;
    uint32_t               hi_surrogate;
    const char            *literal;
    char                   num[AIGW_JSON_NUMBER_MAX];
    uint8_t                nest[AIGW_JSON_MAX_NESTING / 8];  /* 1: array */
    aigw_json_level_t      level[AIGW_JSON_MAX_DEPTH];
};


void aigw_json_init(aigw_json_scan_t *js, unsigned flags,
    aigw_json_handler_pt handler, void *data);

/* ready for a new document; the anomaly counters are kept */
void aigw_json_reset(aigw_json_scan_t *js);

/* AIGW_JSON_OK, or AIGW_JSON_ERROR (then js->error; the rest is ignored) */
int aigw_json_feed(aigw_json_scan_t *js, const char *p, size_t len);

/*
 * The end of the input: a top-level number still open is reported.
 * AIGW_JSON_OK when the input ended after a complete value (with
 * AIGW_JSON_MULTI: after zero or more complete values), else
 * AIGW_JSON_INCOMPLETE, or AIGW_JSON_ERROR after an error.
 */
int aigw_json_finish(aigw_json_scan_t *js);

/* 1 while a top-level value has begun but is not complete */
int aigw_json_in_value(const aigw_json_scan_t *js);

/* 1 when the path of the current event is "pattern" (see above) */
int aigw_json_match(const aigw_json_scan_t *js, const char *pattern);

/*
 * The current path as text ("results[2].tokenCount", "" at the top),
 * NUL-terminated, truncated to "size"; for messages and tests.  Returns
 * the length written.
 */
size_t aigw_json_path(const aigw_json_scan_t *js, char *buf, size_t size);

/*
 * A JSON number as an unsigned integer, exactly, without floating point:
 * integers ("28"), and numbers with a zero fraction ("28.0", "2.8e1",
 * "280e-1", "-0").  Returns 0, or -1 when the text is not a JSON number,
 * is negative, has a fraction, or exceeds UINT64_MAX.
 */
int aigw_json_number_u64(const char *p, size_t len, uint64_t *out);


#endif /* AIGW_JSON_SCAN_H */
