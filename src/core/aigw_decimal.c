
/*
 * aigw: exact decimals (see aigw_decimal.h).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aigw_decimal.h"


/* an exponent beyond it puts any non-zero value out of range either way */
#define AIGW_DECIMAL_EXP_MAX     1000000000

/* the significant digits a double keeps exactly, whatever the decimal */
#define AIGW_DECIMAL_DIGITS      15


aigw_decimal_rc_e
aigw_decimal_parse(const char *p, size_t len, unsigned scale, unsigned flags,
    uint64_t *out)
{
    int        json, neg, eneg;
    size_t     i, int_start, int_len, frac_start, frac_len, ndig;
    size_t     first, last, k;
    int64_t    exp, places, shift;
    uint64_t   v, d;

    json = flags & AIGW_DECIMAL_JSON;
    i = 0;
    neg = 0;

    if (len && p[0] == '-') {
        if (!json) {
            return AIGW_DECIMAL_NEGATIVE;
        }

        neg = 1;
        i++;
    }

    int_start = i;

    while (i < len && p[i] >= '0' && p[i] <= '9') {
        i++;
    }

    int_len = i - int_start;

    if (int_len == 0 || (json && int_len > 1 && p[int_start] == '0')) {
        return AIGW_DECIMAL_MALFORMED;
    }

    frac_start = i;
    frac_len = 0;

    if (i < len && p[i] == '.') {
        frac_start = ++i;

        while (i < len && p[i] >= '0' && p[i] <= '9') {
            i++;
        }

        frac_len = i - frac_start;

        if (frac_len == 0) {
            return AIGW_DECIMAL_MALFORMED;
        }
    }

    exp = 0;

    if (json && i < len && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        eneg = 0;

        if (i < len && (p[i] == '+' || p[i] == '-')) {
            eneg = (p[i] == '-');
            i++;
        }

        if (i == len || p[i] < '0' || p[i] > '9') {
            return AIGW_DECIMAL_MALFORMED;
        }

        while (i < len && p[i] >= '0' && p[i] <= '9') {
            if (exp < AIGW_DECIMAL_EXP_MAX) {
                exp = exp * 10 + (p[i] - '0');
            }

            i++;
        }

        if (eneg) {
            exp = -exp;
        }
    }

    if (i != len) {
        return AIGW_DECIMAL_MALFORMED;
    }

    /*
     * The digits d[0 .. ndig - 1] (the integer part, then the fraction)
     * times 10^-(frac_len - exp); without the leading and trailing zeros,
     * d[first .. last] times 10^-places.
     */

    ndig = int_len + frac_len;

#define AIGW_DIGIT(j)                                                         \
    ((j) < int_len ? p[int_start + (j)] : p[frac_start + (j) - int_len])

    for (first = 0; first < ndig && AIGW_DIGIT(first) == '0'; first++) {
        /* void */
    }

    if (first == ndig) {
        *out = 0;
        return AIGW_DECIMAL_OK;
    }

    if (neg) {
        return AIGW_DECIMAL_NEGATIVE;
    }

    for (last = ndig - 1; AIGW_DIGIT(last) == '0'; last--) {
        /* void */
    }

    places = (int64_t) frac_len - exp - (int64_t) (ndig - 1 - last);

    if (places > (int64_t) scale) {
        return AIGW_DECIMAL_PLACES;
    }

    shift = (int64_t) scale - places;

    /* UINT64_MAX has 20 digits */

    if ((int64_t) (last - first + 1) + shift > 20) {
        return AIGW_DECIMAL_RANGE;
    }

    v = 0;

    for (k = first; k <= last; k++) {
        d = (uint64_t) (AIGW_DIGIT(k) - '0');

        if (v > (UINT64_MAX - d) / 10) {
            return AIGW_DECIMAL_RANGE;
        }

        v = v * 10 + d;
    }

#undef AIGW_DIGIT

    while (shift-- > 0) {
        if (v > UINT64_MAX / 10) {
            return AIGW_DECIMAL_RANGE;
        }

        v *= 10;
    }

    *out = v;

    return AIGW_DECIMAL_OK;
}


aigw_decimal_rc_e
aigw_decimal_json(const struct json_t *v, unsigned scale, uint64_t *out,
    char *text)
{
    char        buf[AIGW_DECIMAL_TEXT_LEN];
    double      r;
    json_int_t  n;

    if (text == NULL) {
        text = buf;
    }

    text[0] = '\0';

    if (json_is_string(v)) {
        return aigw_decimal_parse(json_string_value(v), json_string_length(v),
                                  scale, 0, out);
    }

    if (json_is_integer(v)) {
        n = json_integer_value(v);

        snprintf(text, AIGW_DECIMAL_TEXT_LEN, "%" JSON_INTEGER_FORMAT, n);

        if (n < 0) {
            return AIGW_DECIMAL_NEGATIVE;
        }

        return aigw_decimal_parse(text, strlen(text), scale,
                                  AIGW_DECIMAL_JSON, out);
    }

    if (!json_is_real(v)) {
        return AIGW_DECIMAL_TYPE;
    }

    r = json_real_value(v);

    /* jansson refuses what overflows a double: no NaN, no infinity */

    snprintf(text, AIGW_DECIMAL_TEXT_LEN, "%.*g", AIGW_DECIMAL_DIGITS, r);

    /* -0.0 is 0, as "-0" is (jansson reads it as the integer 0) */

    if (r < 0) {
        return AIGW_DECIMAL_NEGATIVE;
    }

    if (strtod(text, NULL) != r) {
        snprintf(text, AIGW_DECIMAL_TEXT_LEN, "%.17g", r);
        return AIGW_DECIMAL_INEXACT;
    }

    return aigw_decimal_parse(text, strlen(text), scale, AIGW_DECIMAL_JSON,
                              out);
}


int
aigw_decimal_json_digits(const char *text, size_t len, json_error_t *jerr)
{
    int     real;
    size_t  i, start, line, col, col0, ndig, zeros, shown;

    line = 1;
    col0 = 0;               /* the offset where the line starts */
    i = 0;

    while (i < len) {

        if (text[i] == '\n') {
            line++;
            col0 = ++i;
            continue;
        }

        if (text[i] == '"') {
            for (i++; i < len && text[i] != '"'; i++) {
                if (text[i] == '\\') {
                    i++;
                }
            }
            i++;
            continue;
        }

        if (text[i] != '-' && (text[i] < '0' || text[i] > '9')) {
            i++;
            continue;
        }

        /*
         * a number: its significant digits run from the first non-zero
         * digit of the mantissa to its last non-zero one
         */

        start = i;
        real = 0;
        ndig = 0;
        zeros = 0;

        for ( /* void */ ; i < len; i++) {
            if (text[i] >= '0' && text[i] <= '9') {
                if (text[i] == '0') {
                    zeros += (ndig > 0);
                } else {
                    ndig += zeros + 1;
                    zeros = 0;
                }

            } else if (text[i] == '.') {
                real = 1;

            } else if (text[i] != '-') {
                break;
            }
        }

        if (i < len && (text[i] == 'e' || text[i] == 'E')) {
            real = 1;
            for (i++; i < len && (text[i] == '+' || text[i] == '-'
                                  || (text[i] >= '0' && text[i] <= '9'));
                 i++)
            {
                /* void */
            }
        }

        if (real && ndig > AIGW_DECIMAL_DIGITS) {
            col = start - col0 + 1;
            shown = i - start > 40 ? 40 : i - start;

            memset(jerr, 0, sizeof(json_error_t));
            jerr->line = (int) line;
            jerr->column = (int) col;
            jerr->position = (int) start;
            snprintf(jerr->text, JSON_ERROR_TEXT_LENGTH,
                     "the number %.*s%s has %zu significant digits, more "
                     "than the 15 a JSON number keeps exactly: write it "
                     "as a decimal string", (int) shown, text + start,
                     shown < i - start ? "..." : "", ndig);
            return -1;
        }
    }

    return 0;
}
