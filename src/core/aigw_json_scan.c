
/*
 * aigw: an incremental (push) JSON scanner, SAX-style, with bounded
 * state.  No nginx headers, no allocation.
 */


#include <stdio.h>
#include <string.h>

#include "aigw_decimal.h"
#include "aigw_json_scan.h"


enum {
    JS_TOP = 0,                 /* before a top-level value */
    JS_VALUE,                   /* after ':' or ',' in an array */
    JS_VALUE_OR_END,            /* after '[' */
    JS_KEY_OR_END,              /* after '{' */
    JS_KEY,                     /* after ',' in an object */
    JS_COLON,                   /* after a key */
    JS_AFTER,                   /* after a value in a container */
    JS_DONE,                    /* after the top-level value */
    JS_STRING,
    JS_ESCAPE,
    JS_UNICODE,
    JS_NUMBER,
    JS_LITERAL,
    JS_ERROR
};


/* number states */
enum {
    NS_MINUS = 0,               /* "-" */
    NS_ZERO,                    /* "0", "-0" */
    NS_INT,                     /* "12" */
    NS_DOT,                     /* "1." */
    NS_FRAC,                    /* "1.5" */
    NS_E,                       /* "1e" */
    NS_ESIGN,                   /* "1e-" */
    NS_EXP                      /* "1e5" */
};


#define aigw_json_ws(c)                                                       \
    ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

#define AIGW_JSON_ONES  0x0101010101010101ULL

#define aigw_json_nest_array(js, d)                                           \
    ((js)->nest[(d) >> 3] & (1 << ((d) & 7)))


static int aigw_json_emit(aigw_json_scan_t *js, aigw_json_event_e ev,
    const char *p, size_t len);
static int aigw_json_value(aigw_json_scan_t *js, unsigned char c);
static int aigw_json_push(aigw_json_scan_t *js, int array);
static int aigw_json_pop(aigw_json_scan_t *js, int array);
static int aigw_json_after_value(aigw_json_scan_t *js);
static int aigw_json_str_out(aigw_json_scan_t *js, const char *p,
    size_t len);
static int aigw_json_str_flush_hi(aigw_json_scan_t *js);
static int aigw_json_str_code(aigw_json_scan_t *js, uint32_t cp);
static int aigw_json_num_char(aigw_json_scan_t *js, unsigned char c);
static int aigw_json_num_end(aigw_json_scan_t *js);
static int aigw_json_fail(aigw_json_scan_t *js, const char *reason);


static const char  aigw_json_stopped[] = "stopped by the handler";


void
aigw_json_init(aigw_json_scan_t *js, unsigned flags,
    aigw_json_handler_pt handler, void *data)
{
    memset(js, 0, sizeof(aigw_json_scan_t));

    js->handler = handler;
    js->data = data;
    js->flags = flags;
    js->state = JS_TOP;
}


void
aigw_json_reset(aigw_json_scan_t *js)
{
    js->error = NULL;
    js->depth = 0;
    js->state = JS_TOP;
    js->in_key = 0;
    js->num_len = 0;
    js->num_too_long = 0;
    js->hi_surrogate = 0;
}


int
aigw_json_in_value(const aigw_json_scan_t *js)
{
    return js->state != JS_TOP && js->state != JS_DONE
           && js->state != JS_ERROR;
}


int
aigw_json_feed(aigw_json_scan_t *js, const char *p, size_t len)
{
    int            rc;
    uint64_t       base, w, q, b;
    const char    *begin, *end, *run;
    unsigned char  c;

    if (js->state == JS_ERROR) {
        return AIGW_JSON_ERROR;
    }

    base = js->offset;
    begin = p;
    end = p + len;
    rc = 0;

    while (p < end) {

        c = (unsigned char) *p;

        switch (js->state) {

        case JS_STRING:

            /* the hot path: a run of plain bytes */

            run = p;

            /* 8 bytes at a time while none is '"', '\\' or < 0x20 */

            while (end - p >= 8) {
                memcpy(&w, p, 8);

                q = w ^ (AIGW_JSON_ONES * '"');
                b = w ^ (AIGW_JSON_ONES * '\\');

                if ((((q - AIGW_JSON_ONES) & ~q)
                     | ((b - AIGW_JSON_ONES) & ~b)
                     | ((w - AIGW_JSON_ONES * 0x20) & ~w))
                    & (AIGW_JSON_ONES * 0x80))
                {
                    break;
                }

                p += 8;
            }

            while (p < end) {
                c = (unsigned char) *p;

                if (c == '"' || c == '\\' || c < 0x20) {
                    break;
                }

                p++;
            }

            if (p > run) {
                rc = aigw_json_str_out(js, run, p - run);
                if (rc != 0) {
                    break;
                }
            }

            if (p == end) {
                continue;
            }

            if (c == '\\') {
                js->state = JS_ESCAPE;
                p++;
                continue;
            }

            if (c != '"') {
                p++;
                rc = aigw_json_fail(js, "control character in a string");
                break;
            }

            p++;

            if (js->hi_surrogate) {
                rc = aigw_json_str_flush_hi(js);
                if (rc != 0) {
                    break;
                }
            }

            if (js->in_key) {
                js->in_key = 0;

                if (js->depth <= AIGW_JSON_MAX_DEPTH
                    && js->level[js->depth - 1].key_too_long)
                {
                    js->long_keys++;
                }

                js->state = JS_COLON;
                continue;
            }

            rc = aigw_json_emit(js, AIGW_JSON_STRING_END, NULL, 0);
            if (rc == 0) {
                rc = aigw_json_after_value(js);
            }

            break;

        case JS_ESCAPE:
            p++;

            if (c == 'u') {
                js->ucode = 0;
                js->uhex_n = 0;
                js->state = JS_UNICODE;
                continue;
            }

            switch (c) {
            case '"':
            case '\\':
            case '/':
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            default:
                rc = aigw_json_fail(js, "invalid escape in a string");
                break;
            }

            if (rc != 0) {
                break;
            }

            if (js->hi_surrogate) {
                rc = aigw_json_str_flush_hi(js);
                if (rc != 0) {
                    break;
                }
            }

            js->state = JS_STRING;
            rc = aigw_json_str_out(js, (const char *) &c, 1);
            break;

        case JS_UNICODE:
            p++;

            if (c >= '0' && c <= '9') {
                js->ucode = (js->ucode << 4) | (c - '0');

            } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
                js->ucode = (js->ucode << 4) | ((c | 0x20) - 'a' + 10);

            } else {
                rc = aigw_json_fail(js, "invalid \\u escape in a string");
                break;
            }

            if (++js->uhex_n < 4) {
                continue;
            }

            js->state = JS_STRING;
            rc = aigw_json_str_code(js, js->ucode);
            break;

        case JS_NUMBER:
            if (aigw_json_num_char(js, c)) {
                p++;
                continue;
            }

            /* the byte ends the number; it is looked at again */

            rc = aigw_json_num_end(js);
            if (rc != 0) {
                p++;
            }

            break;

        case JS_LITERAL:
            p++;

            if (c != (unsigned char) js->literal[js->lit_pos]) {
                rc = aigw_json_fail(js, "invalid literal");
                break;
            }

            if (++js->lit_pos < js->lit_len) {
                continue;
            }

            rc = aigw_json_emit(js, js->literal[0] == 't' ? AIGW_JSON_TRUE
                                : js->literal[0] == 'f' ? AIGW_JSON_FALSE
                                : AIGW_JSON_NULL, NULL, 0);
            if (rc == 0) {
                rc = aigw_json_after_value(js);
            }

            break;

        case JS_TOP:
        case JS_VALUE:
        case JS_VALUE_OR_END:
            if (aigw_json_ws(c)) {
                p++;
                continue;
            }

            p++;

            if (c == ']' && js->state == JS_VALUE_OR_END) {
                rc = aigw_json_pop(js, 1);
                break;
            }

            rc = aigw_json_value(js, c);
            break;

        case JS_KEY_OR_END:
        case JS_KEY:
            if (aigw_json_ws(c)) {
                p++;
                continue;
            }

            p++;

            if (c == '}' && js->state == JS_KEY_OR_END) {
                rc = aigw_json_pop(js, 0);
                break;
            }

            if (c != '"') {
                rc = aigw_json_fail(js, "expected a key");
                break;
            }

            if (js->depth <= AIGW_JSON_MAX_DEPTH) {
                js->level[js->depth - 1].key_len = 0;
                js->level[js->depth - 1].key_too_long = 0;
            }

            js->in_key = 1;
            js->state = JS_STRING;
            continue;

        case JS_COLON:
            p++;

            if (aigw_json_ws(c)) {
                continue;
            }

            if (c != ':') {
                rc = aigw_json_fail(js, "expected ':'");
                break;
            }

            js->state = JS_VALUE;
            continue;

        case JS_AFTER:
            p++;

            if (aigw_json_ws(c)) {
                continue;
            }

            if (c == ',') {
                if (aigw_json_nest_array(js, js->depth - 1)) {
                    if (js->depth <= AIGW_JSON_MAX_DEPTH) {
                        js->level[js->depth - 1].index++;
                    }

                    js->state = JS_VALUE;

                } else {
                    js->state = JS_KEY;
                }

                continue;
            }

            if (c == '}' || c == ']') {
                rc = aigw_json_pop(js, c == ']');
                break;
            }

            rc = aigw_json_fail(js, "expected ',' or the end of a container");
            break;

        case JS_DONE:
            p++;

            if (aigw_json_ws(c)) {
                continue;
            }

            rc = aigw_json_fail(js, "data after the JSON value");
            break;

        default: /* JS_ERROR */
            rc = -1;
            break;
        }

        if (rc != 0) {
            break;
        }
    }

    if (rc != 0) {
        js->state = JS_ERROR;

        if (js->error == NULL) {
            js->error = aigw_json_stopped;
        }

        /* just after the byte where it failed */
        js->offset = base + (p - begin);

        return AIGW_JSON_ERROR;
    }

    js->offset = base + len;

    return AIGW_JSON_OK;
}


int
aigw_json_finish(aigw_json_scan_t *js)
{
    if (js->state == JS_ERROR) {
        return AIGW_JSON_ERROR;
    }

    if (js->state == JS_NUMBER && js->depth == 0) {
        if (aigw_json_num_end(js) != 0) {
            js->state = JS_ERROR;
            if (js->error == NULL) {
                js->error = aigw_json_stopped;
            }
            return AIGW_JSON_ERROR;
        }
    }

    if (js->state == JS_DONE) {
        return AIGW_JSON_OK;
    }

    if (js->state == JS_TOP && (js->flags & AIGW_JSON_MULTI)) {
        return AIGW_JSON_OK;
    }

    return AIGW_JSON_INCOMPLETE;
}


static int
aigw_json_fail(aigw_json_scan_t *js, const char *reason)
{
    js->error = reason;
    return -1;
}


static int
aigw_json_emit(aigw_json_scan_t *js, aigw_json_event_e ev, const char *p,
    size_t len)
{
    if (js->handler == NULL) {
        return 0;
    }

    if (js->handler(js, ev, p, len, js->data) != 0) {
        js->error = aigw_json_stopped;
        return -1;
    }

    return 0;
}


static int
aigw_json_value(aigw_json_scan_t *js, unsigned char c)
{
    switch (c) {

    case '{':
        if (aigw_json_emit(js, AIGW_JSON_OBJECT_START, NULL, 0) != 0) {
            return -1;
        }

        js->state = JS_KEY_OR_END;
        return aigw_json_push(js, 0);

    case '[':
        if (aigw_json_emit(js, AIGW_JSON_ARRAY_START, NULL, 0) != 0) {
            return -1;
        }

        js->state = JS_VALUE_OR_END;
        return aigw_json_push(js, 1);

    case '"':
        js->in_key = 0;
        js->hi_surrogate = 0;
        js->state = JS_STRING;
        return aigw_json_emit(js, AIGW_JSON_STRING_START, NULL, 0);

    case 't':
        js->literal = "true";
        break;

    case 'f':
        js->literal = "false";
        break;

    case 'n':
        js->literal = "null";
        break;

    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            js->num_len = 0;
            js->num_too_long = 0;
            js->num[js->num_len++] = (char) c;
            js->num_state = (c == '-') ? NS_MINUS
                            : (c == '0') ? NS_ZERO : NS_INT;
            js->state = JS_NUMBER;
            return 0;
        }

        return aigw_json_fail(js, "expected a value");
    }

    js->lit_pos = 1;
    js->lit_len = (uint8_t) strlen(js->literal);
    js->state = JS_LITERAL;

    return 0;
}


static int
aigw_json_push(aigw_json_scan_t *js, int array)
{
    unsigned            d;
    aigw_json_level_t  *lv;

    d = js->depth;

    if (d >= AIGW_JSON_MAX_NESTING) {
        return aigw_json_fail(js, "JSON nested too deeply");
    }

    if (array) {
        js->nest[d >> 3] |= (uint8_t) (1 << (d & 7));

    } else {
        js->nest[d >> 3] &= (uint8_t) ~(1 << (d & 7));
    }

    if (d < AIGW_JSON_MAX_DEPTH) {
        lv = &js->level[d];
        lv->array = (uint8_t) array;
        lv->index = 0;
        lv->key_len = 0;
        lv->key_too_long = 0;

    } else {
        js->too_deep++;
    }

    js->depth = d + 1;

    return 0;
}


static int
aigw_json_pop(aigw_json_scan_t *js, int array)
{
    if (js->depth == 0
        || !aigw_json_nest_array(js, js->depth - 1) != !array)
    {
        return aigw_json_fail(js, array ? "unexpected ']'" : "unexpected '}'");
    }

    js->depth--;

    if (aigw_json_emit(js, array ? AIGW_JSON_ARRAY_END : AIGW_JSON_OBJECT_END,
                       NULL, 0)
        != 0)
    {
        return -1;
    }

    return aigw_json_after_value(js);
}


static int
aigw_json_after_value(aigw_json_scan_t *js)
{
    if (js->depth > 0) {
        js->state = JS_AFTER;
        return 0;
    }

    js->documents++;
    js->state = (js->flags & AIGW_JSON_MULTI) ? JS_TOP : JS_DONE;

    return aigw_json_emit(js, AIGW_JSON_DOC_END, NULL, 0);
}


static int
aigw_json_str_out(aigw_json_scan_t *js, const char *p, size_t len)
{
    aigw_json_level_t  *lv;

    if (js->hi_surrogate) {
        if (aigw_json_str_flush_hi(js) != 0) {
            return -1;
        }
    }

    if (!js->in_key) {
        return aigw_json_emit(js, AIGW_JSON_STRING_DATA, p, len);
    }

    if (js->depth > AIGW_JSON_MAX_DEPTH) {
        return 0;
    }

    lv = &js->level[js->depth - 1];

    if (lv->key_too_long) {
        return 0;
    }

    if (len > (size_t) (AIGW_JSON_KEY_MAX - lv->key_len)) {
        lv->key_too_long = 1;
        return 0;
    }

    memcpy(lv->key + lv->key_len, p, len);
    lv->key_len = (uint8_t) (lv->key_len + len);

    return 0;
}


/* a high surrogate not followed by a low one becomes U+FFFD */

static int
aigw_json_str_flush_hi(aigw_json_scan_t *js)
{
    static const char  fffd[] = "\xef\xbf\xbd";

    js->hi_surrogate = 0;

    return aigw_json_str_out(js, fffd, 3);
}


static int
aigw_json_str_code(aigw_json_scan_t *js, uint32_t cp)
{
    char  buf[4];

    if (js->hi_surrogate) {
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            cp = 0x10000 + ((js->hi_surrogate - 0xd800) << 10)
                 + (cp - 0xdc00);
            js->hi_surrogate = 0;

        } else if (aigw_json_str_flush_hi(js) != 0) {
            return -1;
        }
    }

    if (cp >= 0xd800 && cp <= 0xdbff) {
        js->hi_surrogate = cp;
        return 0;
    }

    if (cp >= 0xdc00 && cp <= 0xdfff) {
        cp = 0xfffd;
    }

    if (cp < 0x80) {
        buf[0] = (char) cp;
        return aigw_json_str_out(js, buf, 1);
    }

    if (cp < 0x800) {
        buf[0] = (char) (0xc0 | (cp >> 6));
        buf[1] = (char) (0x80 | (cp & 0x3f));
        return aigw_json_str_out(js, buf, 2);
    }

    if (cp < 0x10000) {
        buf[0] = (char) (0xe0 | (cp >> 12));
        buf[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
        buf[2] = (char) (0x80 | (cp & 0x3f));
        return aigw_json_str_out(js, buf, 3);
    }

    buf[0] = (char) (0xf0 | (cp >> 18));
    buf[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
    buf[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
    buf[3] = (char) (0x80 | (cp & 0x3f));

    return aigw_json_str_out(js, buf, 4);
}


/* 1 when "c" continues the number (and is kept), 0 when it ends it */

static int
aigw_json_num_char(aigw_json_scan_t *js, unsigned char c)
{
    int  digit;

    digit = (c >= '0' && c <= '9');

    switch (js->num_state) {

    case NS_MINUS:
        if (!digit) {
            return 0;
        }
        js->num_state = (c == '0') ? NS_ZERO : NS_INT;
        break;

    case NS_ZERO:
    case NS_INT:
        if (c == '.') {
            js->num_state = NS_DOT;

        } else if (c == 'e' || c == 'E') {
            js->num_state = NS_E;

        } else if (digit && js->num_state == NS_INT) {
            /* stays */

        } else {
            return 0;
        }
        break;

    case NS_DOT:
    case NS_FRAC:
        if (digit) {
            js->num_state = NS_FRAC;

        } else if ((c == 'e' || c == 'E') && js->num_state == NS_FRAC) {
            js->num_state = NS_E;

        } else {
            return 0;
        }
        break;

    case NS_E:
        if (c == '+' || c == '-') {
            js->num_state = NS_ESIGN;

        } else if (digit) {
            js->num_state = NS_EXP;

        } else {
            return 0;
        }
        break;

    case NS_ESIGN:
    case NS_EXP:
        if (!digit) {
            return 0;
        }
        js->num_state = NS_EXP;
        break;
    }

    if (js->num_len < AIGW_JSON_NUMBER_MAX) {
        js->num[js->num_len++] = (char) c;

    } else {
        js->num_too_long = 1;
    }

    return 1;
}


static int
aigw_json_num_end(aigw_json_scan_t *js)
{
    size_t  len;

    switch (js->num_state) {
    case NS_ZERO:
    case NS_INT:
    case NS_FRAC:
    case NS_EXP:
        break;
    default:
        return aigw_json_fail(js, "invalid number");
    }

    len = js->num_len;

    if (js->num_too_long) {
        js->long_numbers++;
        len = 0;
    }

    if (aigw_json_emit(js, AIGW_JSON_NUMBER, js->num, len) != 0) {
        return -1;
    }

    return aigw_json_after_value(js);
}


int
aigw_json_match(const aigw_json_scan_t *js, const char *pattern)
{
    size_t                    n;
    unsigned                  i;
    const char               *s, *k;
    const aigw_json_level_t  *lv;

    if (js->depth > AIGW_JSON_MAX_DEPTH) {
        return 0;
    }

    s = pattern;

    for (i = 0; i < js->depth; i++) {
        lv = &js->level[i];

        if (lv->array) {
            if (s[0] != '[' || s[1] != ']') {
                return 0;
            }

            s += 2;
            continue;
        }

        if (s != pattern) {
            if (*s != '.') {
                return 0;
            }
            s++;
        }

        k = s;

        while (*s != '\0' && *s != '.' && *s != '[') {
            s++;
        }

        n = s - k;

        if (lv->key_too_long || n != lv->key_len
            || memcmp(k, lv->key, n) != 0)
        {
            return 0;
        }
    }

    return *s == '\0';
}


size_t
aigw_json_path(const aigw_json_scan_t *js, char *buf, size_t size)
{
    int                       n;
    size_t                    len, avail;
    unsigned                  i;
    const aigw_json_level_t  *lv;

    if (size == 0) {
        return 0;
    }

    len = 0;

    for (i = 0; i < js->depth && i < AIGW_JSON_MAX_DEPTH; i++) {
        lv = &js->level[i];
        avail = size - len;

        if (lv->array) {
            n = snprintf(buf + len, avail, "[%u]", (unsigned) lv->index);

        } else {
            n = snprintf(buf + len, avail, "%s%.*s", len ? "." : "",
                         lv->key_too_long ? 3 : (int) lv->key_len,
                         lv->key_too_long ? "..." : lv->key);
        }

        if (n < 0 || (size_t) n >= avail) {
            len = size - 1;
            break;
        }

        len += n;
    }

    buf[len] = '\0';

    return len;
}


int
aigw_json_number_u64(const char *p, size_t len, uint64_t *out)
{
    return aigw_decimal_parse(p, len, 0, AIGW_DECIMAL_JSON, out)
           == AIGW_DECIMAL_OK ? 0 : -1;
}
