
/*
 * aigw: unit tests of aigw_decimal.c: exact decimal text at a scale, and
 * the JSON rule (integers exact, reals of at most 15 significant digits,
 * decimal strings of any length).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "aigw_decimal.h"


static void
expect_text(const char *s, unsigned scale, unsigned flags, int rc,
    unsigned long long want, int line)
{
    int       got;
    uint64_t  v;

    v = 12345;
    got = aigw_decimal_parse(s, strlen(s), scale, flags, &v);

    if (!unit_check_eq(got, rc, __FILE__, line, s, "rc")) {
        return;
    }

    if (rc == AIGW_DECIMAL_OK) {
        unit_check(v == want, __FILE__, line, "value");
    }
}

#define TEXT(s, scale, flags, rc, want)                                       \
    expect_text(s, scale, flags, rc, want, __LINE__)


static void
expect_json(const char *doc, unsigned scale, int rc, unsigned long long want,
    const char *text, int line)
{
    int           got;
    char          buf[AIGW_DECIMAL_TEXT_LEN];
    json_t       *root;
    uint64_t      v;
    json_error_t  jerr;

    root = json_loads(doc, JSON_DECODE_ANY, &jerr);

    if (!unit_check(root != NULL, __FILE__, line, doc)) {
        return;
    }

    v = 12345;
    got = aigw_decimal_json(root, scale, &v, buf);

    if (unit_check_eq(got, rc, __FILE__, line, doc, "rc")) {
        if (rc == AIGW_DECIMAL_OK) {
            unit_check(v == want, __FILE__, line, "value");
        }

        if (text) {
            unit_check_str(buf, text, __FILE__, line, "text", "expected");
        }
    }

    json_decref(root);
}

#define JSON(doc, scale, rc, want, text)                                      \
    expect_json(doc, scale, rc, want, text, __LINE__)


static void
test_text(void)
{
    /* plain decimal strings */

    TEXT("0", 12, 0, AIGW_DECIMAL_OK, 0);
    TEXT("007.50", 2, 0, AIGW_DECIMAL_OK, 750);
    TEXT("0.0000001234567890123", 19, 0, AIGW_DECIMAL_OK, 1234567890123ULL);
    TEXT("0.10000000000000000000000000", 1, 0, AIGW_DECIMAL_OK, 1);
    TEXT("18446744073709551615", 0, 0, AIGW_DECIMAL_OK, UINT64_MAX);
    TEXT("18446744073709551616", 0, 0, AIGW_DECIMAL_RANGE, 0);
    TEXT("1844674407370955161.5", 1, 0, AIGW_DECIMAL_OK, UINT64_MAX);
    TEXT("99999999999999999999999", 0, 0, AIGW_DECIMAL_RANGE, 0);
    TEXT("0.125", 2, 0, AIGW_DECIMAL_PLACES, 0);
    TEXT("99999999999999999999999.125", 2, 0, AIGW_DECIMAL_PLACES, 0);
    TEXT("-1", 0, 0, AIGW_DECIMAL_NEGATIVE, 0);
    TEXT("-0", 0, 0, AIGW_DECIMAL_NEGATIVE, 0);
    TEXT("", 0, 0, AIGW_DECIMAL_MALFORMED, 0);
    TEXT(".5", 1, 0, AIGW_DECIMAL_MALFORMED, 0);
    TEXT("5.", 1, 0, AIGW_DECIMAL_MALFORMED, 0);
    TEXT("1e3", 0, 0, AIGW_DECIMAL_MALFORMED, 0);
    TEXT("+1", 0, 0, AIGW_DECIMAL_MALFORMED, 0);
    TEXT(" 1", 0, 0, AIGW_DECIMAL_MALFORMED, 0);

    /* JSON numbers */

    TEXT("2.5e-05", 12, AIGW_DECIMAL_JSON, AIGW_DECIMAL_OK, 25000000ULL);
    TEXT("1E+2", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_OK, 100);
    TEXT("280e-1", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_OK, 28);
    TEXT("-0", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_OK, 0);
    TEXT("-0.0e5", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_OK, 0);
    TEXT("-1", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_NEGATIVE, 0);
    TEXT("-0.5", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_NEGATIVE, 0);
    TEXT("1e-999999999999", 12, AIGW_DECIMAL_JSON, AIGW_DECIMAL_PLACES, 0);
    TEXT("1e999999999999", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_RANGE, 0);
    TEXT("1.8446744073709551615e19", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_OK,
         UINT64_MAX);
    TEXT("01", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_MALFORMED, 0);
    TEXT("1e", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_MALFORMED, 0);
    TEXT("1e+", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_MALFORMED, 0);
    TEXT("1.5", 0, AIGW_DECIMAL_JSON, AIGW_DECIMAL_PLACES, 0);
}


static void
test_json(void)
{
    JSON("0", 9, AIGW_DECIMAL_OK, 0, "0");
    JSON("12", 9, AIGW_DECIMAL_OK, 12000000000ULL, "12");
    JSON("9223372036854775807", 0, AIGW_DECIMAL_OK, 9223372036854775807ULL,
         "9223372036854775807");
    JSON("9223372036854775807", 1, AIGW_DECIMAL_RANGE, 0, NULL);
    JSON("-3", 0, AIGW_DECIMAL_NEGATIVE, 0, "-3");
    JSON("-0", 0, AIGW_DECIMAL_OK, 0, NULL);
    JSON("-0.0", 0, AIGW_DECIMAL_OK, 0, "-0");
    JSON("-0.5", 1, AIGW_DECIMAL_NEGATIVE, 0, "-0.5");

    /* reals: the shortest text of at most 15 significant digits */

    JSON("0.1", 1, AIGW_DECIMAL_OK, 1, "0.1");
    JSON("0.00025", 12, AIGW_DECIMAL_OK, 250000000ULL, "0.00025");
    JSON("2.5e-5", 12, AIGW_DECIMAL_OK, 25000000ULL, "2.5e-05");
    JSON("1e7", 0, AIGW_DECIMAL_OK, 10000000ULL, "10000000");
    JSON("123456789012.345", 3, AIGW_DECIMAL_OK, 123456789012345ULL,
         "123456789012.345");
    JSON("0.100000000000000000000", 1, AIGW_DECIMAL_OK, 1, "0.1");
    JSON("1e-13", 12, AIGW_DECIMAL_PLACES, 0, "1e-13");

    /* 16 and 17 significant digits: not kept by a double */

    JSON("0.1234567890123456", 16, AIGW_DECIMAL_INEXACT, 0, NULL);
    JSON("0.12345678901234567", 17, AIGW_DECIMAL_INEXACT, 0,
         "0.12345678901234566");
    JSON("9007199254740993.0", 0, AIGW_DECIMAL_INEXACT, 0, NULL);

    /* strings: any length */

    JSON("\"0.0000001234567890123\"", 19, AIGW_DECIMAL_OK, 1234567890123ULL,
         "");
    JSON("\"2.5e-5\"", 12, AIGW_DECIMAL_MALFORMED, 0, NULL);
    JSON("\"-1\"", 0, AIGW_DECIMAL_NEGATIVE, 0, NULL);

    JSON("true", 0, AIGW_DECIMAL_TYPE, 0, NULL);
    JSON("null", 0, AIGW_DECIMAL_TYPE, 0, NULL);
    JSON("[1]", 0, AIGW_DECIMAL_TYPE, 0, NULL);
}


/* every real of at most 15 significant digits round-trips */

static void
test_round_trip(void)
{
    int        i, ok;
    char       text[64];
    json_t    *v;
    uint64_t   got, want;
    unsigned   digits, places;

    srand(11);
    ok = 1;

    for (i = 0; i < 100000 && ok; i++) {
        digits = 1 + rand() % 15;
        places = rand() % 16;

        want = 1 + (uint64_t) rand() * (uint64_t) rand();
        while (want >= 1000000000000000ULL) {
            want /= 10;
        }

        /* "want" of at most "digits" digits, "places" of them decimals */

        snprintf(text, sizeof(text), "%llu", (unsigned long long) want);
        text[digits < strlen(text) ? digits : strlen(text)] = '\0';
        want = strtoull(text, NULL, 10);

        if (want == 0) {
            continue;
        }

        snprintf(text, sizeof(text), "%llue-%u", (unsigned long long) want,
                 places);

        v = json_real(strtod(text, NULL));

        /* at the scale of its places, the value is its digits */

        ok = CHECK(aigw_decimal_json(v, places, &got, NULL)
                   == AIGW_DECIMAL_OK)
             && CHECK(got == want);

        json_decref(v);

        if (!ok) {
            fprintf(stderr, "    %s\n", text);
        }
    }
}


/* the reals of a document written with more digits than a double keeps */

static void
digits(const char *doc, int line, int column, const char *text, int at)
{
    int           rc;
    json_error_t  jerr;

    rc = aigw_decimal_json_digits(doc, strlen(doc), &jerr);

    if (text == NULL) {
        unit_check(rc == 0, __FILE__, at, "no real of over 15 digits");
        return;
    }

    if (unit_check(rc == -1, __FILE__, at, "a real of over 15 digits")) {
        unit_check(jerr.line == line, __FILE__, at, "line");
        unit_check(jerr.column == column, __FILE__, at, "column");
        unit_check(strstr(jerr.text, text) != NULL, __FILE__, at, "text");
    }
}

#define DIGITS(doc, line, column, text)                                       \
    digits(doc, line, column, text, __LINE__)


static void
test_json_digits(void)
{
    DIGITS("{\"a\": 0.123456789012345}", 0, 0, NULL);
    DIGITS("{\"a\": 123456789012345678901234}", 0, 0, NULL);
    DIGITS("{\"a\": 0.50000000000000000000, \"b\": 1000000000000000.0}",
           0, 0, NULL);
    DIGITS("{\"a\": 0.000000000000000000001}", 0, 0, NULL);
    DIGITS("{\"a\": 1.23456789012345e-300}", 0, 0, NULL);
    DIGITS("{\"a\": \"0.1234567890123456789\", \"b\\\"1.1234567890123456\":"
           " [-0.0, 1e5]}", 0, 0, NULL);
    DIGITS("[1,\n 2,\n  12.5000000000000001]", 3, 3,
           "12.5000000000000001 has 18 significant digits");
    DIGITS("[-1234567890.123456e3]", 1, 2,
           "-1234567890.123456e3 has 16 significant digits");
    DIGITS("[0.0000001234567890123456]", 1, 2, "has 16 significant digits");
    DIGITS("[1.00000000000000001]", 1, 2, "has 18 significant digits");
    DIGITS("[\"\\\\\", 1.00000000000000001]", 1, 8, "has 18");
}


int
main(void)
{
    test_text();
    test_json();
    test_round_trip();
    test_json_digits();

    return unit_done("test_decimal");
}
