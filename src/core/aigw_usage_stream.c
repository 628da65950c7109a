
/*
 * aigw: the event-stream messages of a response: which carry usage (an
 * invoke stream's chunks, a Converse stream's metadata, SageMaker's
 * payload parts, exceptions), the base64 "bytes" of a chunk decoded on
 * the fly, and what a message gives committed only when its CRC matches.
 * No nginx headers, no allocation.
 */


#include <string.h>

#include "aigw_usage_int.h"


static void aigw_usage_es_start(aigw_es_decoder_t *es,
    const aigw_es_message_t *msg, void *data);
static void aigw_usage_es_payload(aigw_es_decoder_t *es,
    const unsigned char *p, size_t len, void *data);
static void aigw_usage_es_end(aigw_es_decoder_t *es,
    const aigw_es_message_t *msg, int crc_ok, void *data);
static int aigw_usage_on_chunk(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data);
static void aigw_usage_base64(aigw_usage_parser_t *up, const char *p,
    size_t len);
static void aigw_usage_base64_end(aigw_usage_parser_t *up);
static void aigw_usage_scanner(aigw_json_scan_t *js, unsigned flags,
    aigw_json_handler_pt handler);
static int aigw_usage_str_is(const aigw_es_header_t *h, const char *s);


const aigw_es_handler_t  aigw_usage_es_handler = {
    aigw_usage_es_start,
    aigw_usage_es_payload,
    aigw_usage_es_end
};


static const signed char  aigw_usage_b64[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -3, -3, -1, -1, -3, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -3, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, 62, -1, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -2, -1, -1,
    -1,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
    -1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};


static void
aigw_usage_es_start(aigw_es_decoder_t *es, const aigw_es_message_t *msg,
    void *data)
{
    aigw_usage_parser_t  *up = data;

    aigw_es_header_t      mt, h;

    up->events++;
    up->kind = UK_OTHER;
    aigw_usage_clear(&up->stage);

    if (aigw_es_header_find(msg, ":message-type", &mt)
        && mt.type == AIGW_ES_STRING
        && !aigw_usage_str_is(&mt, "event"))
    {
        if (aigw_usage_str_is(&mt, "exception")) {
            if (!aigw_es_header_find(msg, ":exception-type", &h)) {
                h.type = AIGW_ES_BOOL_FALSE;
            }

        } else if (aigw_usage_str_is(&mt, "error")) {
            if (!aigw_es_header_find(msg, ":error-code", &h)) {
                h.type = AIGW_ES_BOOL_FALSE;
            }

        } else {
            return;
        }

        up->kind = UK_ERROR;
        up->stage.error = 1;

        if (h.type == AIGW_ES_STRING) {
            aigw_usage_error_type(up->stage.error_type, (const char *) h.p,
                                  h.len);

        } else {
            up->stage.error_type[0] = '\0';
        }

        return;
    }

    if (!aigw_es_header_find(msg, ":event-type", &h)
        || h.type != AIGW_ES_STRING)
    {
        return;
    }

    switch (up->op) {

    case AIGW_OP_INVOKE_STREAM:
        if (aigw_usage_str_is(&h, "chunk")) {
            up->kind = UK_CHUNK;
            up->in_bytes = 0;
            up->cap_js = NULL;
            aigw_usage_scanner(&up->outer, 0, aigw_usage_on_chunk);
            aigw_usage_clear(&up->doc);
        }

        break;

    case AIGW_OP_CONVERSE_STREAM:
        if (aigw_usage_str_is(&h, "metadata")) {
            up->kind = UK_JSON;
            up->cap_js = NULL;
            up->rules = &aigw_usage_rules_converse;
            aigw_usage_scanner(&up->outer, 0, aigw_usage_on_doc);
            aigw_usage_clear(&up->doc);
        }

        break;

    case AIGW_OP_SM_INVOKE_STREAM:
        if (aigw_usage_str_is(&h, "PayloadPart")) {
            up->kind = UK_PART;

            if (up->rules == NULL) {
                up->rules = &aigw_usage_rules_sagemaker;
                aigw_usage_scanner(&up->outer, AIGW_JSON_MULTI,
                                   aigw_usage_on_doc);
            }
        }

        break;

    default:
        break;
    }
}


static void
aigw_usage_es_payload(aigw_es_decoder_t *es, const unsigned char *p,
    size_t len, void *data)
{
    aigw_usage_parser_t  *up = data;

    switch (up->kind) {

    case UK_CHUNK:
    case UK_JSON:
        aigw_usage_feed_json(up, &up->outer, (const char *) p, len);
        break;

    case UK_PART:
        aigw_usage_sse(up, (const char *) p, len);
        break;

    default:
        break;
    }
}


static void
aigw_usage_es_end(aigw_es_decoder_t *es, const aigw_es_message_t *msg,
    int crc_ok, void *data)
{
    aigw_usage_parser_t  *up = data;

    if ((up->kind == UK_CHUNK || up->kind == UK_JSON)
        && up->outer.error == NULL
        && aigw_json_finish(&up->outer) != AIGW_JSON_OK)
    {
        aigw_usage_json_error(up, "incomplete JSON in an event");
    }

    if (crc_ok) {
        aigw_usage_merge(&up->committed, &up->stage);

    } else if (up->kind == UK_PART) {
        /* what the bad message began cannot be trusted: to the next line */
        aigw_usage_sse_reset(up);

        if (up->sse_state == SSE_RAW) {
            up->raw_skip = 1;

        } else if (up->sse_state != SSE_BEGIN) {
            up->sse_state = SSE_IGNORE;
        }
    }

    aigw_usage_clear(&up->stage);
    up->kind = UK_OTHER;
}


/* the wrapper of an invoke stream's chunk: {"bytes": "<base64>", "p": ""} */

static int
aigw_usage_on_chunk(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len, void *data)
{
    aigw_usage_parser_t  *up = data;

    switch (ev) {

    case AIGW_JSON_STRING_START:
        if (js->depth == 1 && aigw_json_match(js, "bytes")) {
            up->in_bytes = 1;
            up->b64_bits = 0;
            up->b64_n = 0;
            up->b64_pad = 0;
            aigw_usage_scanner(&up->inner, 0, aigw_usage_on_doc);
            aigw_usage_clear(&up->doc);
        }

        break;

    case AIGW_JSON_STRING_DATA:
        if (up->in_bytes) {
            aigw_usage_base64(up, p, len);
        }

        break;

    case AIGW_JSON_STRING_END:
        if (up->in_bytes) {
            up->in_bytes = 0;
            aigw_usage_base64_end(up);

            if (up->inner.error == NULL
                && aigw_json_finish(&up->inner) != AIGW_JSON_OK)
            {
                aigw_usage_json_error(up, "incomplete JSON in a chunk");
            }

            aigw_usage_clear(&up->doc);
        }

        break;

    default:
        break;
    }

    return 0;
}


static void
aigw_usage_base64(aigw_usage_parser_t *up, const char *p, size_t len)
{
    int                   v, a, b, c, d;
    size_t                n;
    uint32_t              bits;
    const unsigned char  *s, *end;
    unsigned char         out[384];

    s = (const unsigned char *) p;
    end = s + len;
    n = 0;

    while (s < end) {

        /* whole quantums, the usual case */

        if (up->b64_n == 0 && !up->b64_pad) {
            while (end - s >= 4 && n <= sizeof(out) - 3) {
                a = aigw_usage_b64[s[0]];
                b = aigw_usage_b64[s[1]];
                c = aigw_usage_b64[s[2]];
                d = aigw_usage_b64[s[3]];

                if ((a | b | c | d) < 0) {
                    break;
                }

                bits = (uint32_t) a << 18 | (uint32_t) b << 12
                       | (uint32_t) c << 6 | (uint32_t) d;

                out[n++] = (unsigned char) (bits >> 16);
                out[n++] = (unsigned char) (bits >> 8);
                out[n++] = (unsigned char) bits;
                s += 4;
            }
        }

        if (n > sizeof(out) - 3) {
            aigw_usage_feed_json(up, &up->inner, (const char *) out, n);
            n = 0;
        }

        if (s == end) {
            break;
        }

        v = aigw_usage_b64[*s++];

        if (v == -3) {
            continue;               /* white space */
        }

        if (v == -2) {
            up->b64_pad = 1;        /* '=' */
            continue;
        }

        if (v < 0 || up->b64_pad) {
            up->base64_errors++;
            continue;
        }

        up->b64_bits = up->b64_bits << 6 | (uint32_t) v;

        if (++up->b64_n == 4) {
            out[n++] = (unsigned char) (up->b64_bits >> 16);
            out[n++] = (unsigned char) (up->b64_bits >> 8);
            out[n++] = (unsigned char) up->b64_bits;
            up->b64_bits = 0;
            up->b64_n = 0;
        }
    }

    if (n) {
        aigw_usage_feed_json(up, &up->inner, (const char *) out, n);
    }
}


static void
aigw_usage_base64_end(aigw_usage_parser_t *up)
{
    unsigned char  out[2];

    switch (up->b64_n) {

    case 0:
        return;

    case 2:
        out[0] = (unsigned char) (up->b64_bits >> 4);
        aigw_usage_feed_json(up, &up->inner, (const char *) out, 1);
        break;

    case 3:
        out[0] = (unsigned char) (up->b64_bits >> 10);
        out[1] = (unsigned char) (up->b64_bits >> 2);
        aigw_usage_feed_json(up, &up->inner, (const char *) out, 2);
        break;

    default:
        up->base64_errors++;
        break;
    }

    up->b64_n = 0;
    up->b64_bits = 0;
}


/* a new document for a scanner, its anomaly counters kept */

static void
aigw_usage_scanner(aigw_json_scan_t *js, unsigned flags,
    aigw_json_handler_pt handler)
{
    js->handler = handler;
    js->flags = flags;
    aigw_json_reset(js);
}


/* a string header value is exactly "s" */

static int
aigw_usage_str_is(const aigw_es_header_t *h, const char *s)
{
    size_t  len;

    len = strlen(s);

    return h->type == AIGW_ES_STRING && h->len == len
           && memcmp(h->p, s, len) == 0;
}
