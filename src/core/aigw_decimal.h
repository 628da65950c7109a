
/*
 * aigw: exact decimals.  A decimal text becomes a fixed-point integer at
 * a given scale (the number of decimal places kept: 12 for pico-dollars,
 * 9 for nano-dollars, 0 for a count), exactly, never through binary
 * floating point.  No nginx headers.
 *
 * Configuration files (pricing, tenants) are read with jansson, which
 * keeps a JSON number as a json_int_t or a double; aigw_decimal_json()
 * turns either into the exact decimal it stands for:
 *
 *   - an integer is exact;
 *   - a real is accepted when it has at most 15 significant digits: its
 *     shortest decimal text, printf("%.15g"), reads back as the same
 *     double, and that text is the decimal ("2.5e-05", "0.1").  Any
 *     decimal of at most 15 significant digits, read into a double,
 *     round-trips so; a real that does not was written with more digits
 *     than a double keeps, and is refused (AIGW_DECIMAL_INEXACT): such a
 *     value is written as a decimal string ("0.0000001234567890123");
 *   - a string is a plain decimal, [0-9]+(\.[0-9]+)?, of any length.
 */

#ifndef AIGW_DECIMAL_H
#define AIGW_DECIMAL_H


#include <stddef.h>
#include <stdint.h>


/* aigw_decimal_parse() flags */

/*
 * the text is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?,
 * a "-" being refused unless the value is 0 ("-0", "-0.0e5"); without it
 * the text is [0-9]+(\.[0-9]+)? and any leading "-" is AIGW_DECIMAL_NEGATIVE
 */
#define AIGW_DECIMAL_JSON        0x01


/* a JSON real's shortest decimal text ("%.15g", "%.17g") and its NUL */
#define AIGW_DECIMAL_TEXT_LEN    32


typedef enum {
    AIGW_DECIMAL_OK = 0,
    AIGW_DECIMAL_MALFORMED = -1,        /* not of the grammar */
    AIGW_DECIMAL_NEGATIVE = -2,         /* below 0 */
    AIGW_DECIMAL_PLACES = -3,           /* more decimal places than scale */
    AIGW_DECIMAL_RANGE = -4,            /* beyond UINT64_MAX at the scale */
    AIGW_DECIMAL_INEXACT = -5,          /* a real of over 15 digits */
    AIGW_DECIMAL_TYPE = -6              /* not a number nor a string */
} aigw_decimal_rc_e;


struct json_t;
struct json_error_t;


/*
 * The decimal text "p" times 10^scale, exactly, into "*out".  Errors are
 * checked in the order of the enum: a text with both more places than
 * "scale" and too large a value is AIGW_DECIMAL_PLACES.
 */
aigw_decimal_rc_e aigw_decimal_parse(const char *p, size_t len,
    unsigned scale, unsigned flags, uint64_t *out);

/*
 * A JSON value (jansson): an integer, a real or a decimal string, as
 * above, times 10^scale.  "text" (AIGW_DECIMAL_TEXT_LEN bytes, or NULL)
 * receives, for a number, the decimal text it stands for, or for a real
 * refused as inexact, its "%.17g" text: for messages.  A string's text is
 * the string itself.
 */
aigw_decimal_rc_e aigw_decimal_json(const struct json_t *v, unsigned scale,
    uint64_t *out, char *text);

/*
 * jansson keeps a real's double, not its text: a real written with more
 * than 15 significant digits whose double happens to print back within 15
 * ("92829.9809705502929310000" reads as 92829.9809705503) would pass
 * aigw_decimal_json() rounded.  The text of a document that jansson has
 * loaded is looked at once more, for its numbers only (strings skipped):
 * the first real (with "." or an exponent) of over 15 significant digits
 * is -1, with its line, column and a message in "jerr", as jansson gives
 * its own errors; else 0.  Integers are exact either way.
 */
int aigw_decimal_json_digits(const char *text, size_t len,
    struct json_error_t *jerr);


#endif /* AIGW_DECIMAL_H */
