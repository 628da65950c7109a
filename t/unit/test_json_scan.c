
/*
 * aigw: unit tests of aigw_json_scan.c: events and paths, the same for
 * every split of the input; escapes; errors; bounds (depth, keys,
 * numbers, huge strings); several documents; aigw_json_number_u64().
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "aigw_json_scan.h"


#define S(s)  s, sizeof(s) - 1


/* the events as text: "O(path)", "S(path)=text;", "N(path)=1;", ... */

typedef struct {
    char      buf[16384];
    size_t    len;
    int       in_string;
    int       stop_at;              /* stop at this event number, or -1 */
    int       events;
    size_t    string_bytes;
} rec_t;


static void
rec_put(rec_t *r, const char *p, size_t len)
{
    if (len > sizeof(r->buf) - 1 - r->len) {
        len = sizeof(r->buf) - 1 - r->len;
    }

    memcpy(r->buf + r->len, p, len);
    r->len += len;
    r->buf[r->len] = '\0';
}


static int
rec_handler(aigw_json_scan_t *js, aigw_json_event_e ev, const char *p,
    size_t len, void *data)
{
    rec_t  *r = data;

    char    path[256], tag;

    if (r->stop_at >= 0 && r->events == r->stop_at) {
        return 1;
    }

    r->events++;

    if (ev == AIGW_JSON_STRING_DATA) {
        r->string_bytes += len;

        if (r->len < 8192) {
            rec_put(r, p, len);
        }

        return 0;
    }

    if (ev == AIGW_JSON_STRING_END) {
        rec_put(r, ";", 1);
        return 0;
    }

    if (ev == AIGW_JSON_DOC_END) {
        rec_put(r, "D;", 2);
        return 0;
    }

    switch (ev) {
    case AIGW_JSON_OBJECT_START: tag = 'O'; break;
    case AIGW_JSON_OBJECT_END:   tag = 'o'; break;
    case AIGW_JSON_ARRAY_START:  tag = 'A'; break;
    case AIGW_JSON_ARRAY_END:    tag = 'a'; break;
    case AIGW_JSON_STRING_START: tag = 'S'; break;
    case AIGW_JSON_NUMBER:       tag = 'N'; break;
    case AIGW_JSON_TRUE:         tag = 'T'; break;
    case AIGW_JSON_FALSE:        tag = 'F'; break;
    default:                     tag = 'Z'; break;
    }

    aigw_json_path(js, path, sizeof(path));
    rec_put(r, &tag, 1);
    rec_put(r, "(", 1);
    rec_put(r, path, strlen(path));
    rec_put(r, ")", 1);

    if (ev == AIGW_JSON_STRING_START) {
        rec_put(r, "=", 1);

    } else if (ev == AIGW_JSON_NUMBER) {
        rec_put(r, "=", 1);
        rec_put(r, p, len);
        rec_put(r, ";", 1);
    }

    return 0;
}


/* feeds "in" in pieces at "cuts" (sorted, n of them); returns finish rc */
static int
scan_split(rec_t *r, unsigned flags, const char *in, size_t len,
    const size_t *cuts, size_t ncuts, const char **error)
{
    int               rc;
    size_t            i, from, to;
    aigw_json_scan_t  js;

    memset(r, 0, sizeof(rec_t));
    r->stop_at = -1;
    aigw_json_init(&js, flags, rec_handler, r);

    from = 0;
    rc = AIGW_JSON_OK;

    for (i = 0; i <= ncuts; i++) {
        to = (i < ncuts) ? cuts[i] : len;
        rc = aigw_json_feed(&js, in + from, to - from);
        from = to;

        if (rc != AIGW_JSON_OK) {
            break;
        }
    }

    if (rc == AIGW_JSON_OK) {
        rc = aigw_json_finish(&js);
    }

    if (error) {
        *error = js.error;
    }

    return rc;
}


/* the same events and result for the whole, every 2-split, 1 byte */
static void
check_doc(unsigned flags, const char *in, int want_rc, const char *want)
{
    int          rc;
    size_t       len, i, *cuts;
    rec_t       *whole, *r;
    const char  *err;

    len = strlen(in);
    whole = malloc(sizeof(rec_t));
    r = malloc(sizeof(rec_t));
    cuts = malloc((len + 1) * sizeof(size_t));

    rc = scan_split(whole, flags, in, len, NULL, 0, &err);

    if (!CHECK_EQ(rc, want_rc) || (want && !CHECK_STR(whole->buf, want))) {
        fprintf(stderr, "    input: %s\n    error: %s\n", in,
                err ? err : "none");
    }

    for (i = 1; i < len; i++) {
        cuts[0] = i;
        rc = scan_split(r, flags, in, len, cuts, 1, NULL);

        if (!CHECK_EQ(rc, want_rc) || !CHECK_STR(r->buf, whole->buf)) {
            fprintf(stderr, "    split at %zu of: %s\n", i, in);
            break;
        }
    }

    for (i = 0; i + 1 < len; i++) {
        cuts[i] = i + 1;
    }

    rc = scan_split(r, flags, in, len, cuts, len ? len - 1 : 0, NULL);
    CHECK_EQ(rc, want_rc);
    CHECK_STR(r->buf, whole->buf);

    free(whole);
    free(r);
    free(cuts);
}


static void
check_error(const char *in, const char *reason)
{
    rec_t       *r;
    const char  *err;
    int          rc;

    r = malloc(sizeof(rec_t));

    rc = scan_split(r, 0, in, strlen(in), NULL, 0, &err);

    if (!CHECK_EQ(rc, AIGW_JSON_ERROR) || !CHECK_STR(err, reason)) {
        fprintf(stderr, "    input: %s\n", in);
    }

    /* one byte at a time: the same reason */
    check_doc(0, in, AIGW_JSON_ERROR, NULL);

    free(r);
}


static void
test_events(void)
{
    check_doc(0, "{}", AIGW_JSON_OK, "O()o()D;");
    check_doc(0, "[]", AIGW_JSON_OK, "A()a()D;");
    check_doc(0, " \t\r\n{ } \n", AIGW_JSON_OK, "O()o()D;");
    check_doc(0, "12", AIGW_JSON_OK, "N()=12;D;");
    check_doc(0, "-0.5e+10", AIGW_JSON_OK, "N()=-0.5e+10;D;");
    check_doc(0, "\"x\"", AIGW_JSON_OK, "S()=x;D;");
    check_doc(0, "true", AIGW_JSON_OK, "T()D;");
    check_doc(0, "null ", AIGW_JSON_OK, "Z()D;");

    check_doc(0,
        "{\"usage\":{\"inputTokens\":28,\"outputTokens\":2.8e1},"
        "\"results\":[{\"tokenCount\":197.0,\"outputText\":\"hi\"},"
        "{\"tokenCount\":3}],\"ok\":true,\"no\":false,\"n\":null,"
        "\"e\":[],\"o\":{},\"aa\":[[1,[2]],{\"k\":[]}]}",
        AIGW_JSON_OK,
        "O()O(usage)N(usage.inputTokens)=28;N(usage.outputTokens)=2.8e1;"
        "o(usage)A(results)O(results[0])N(results[0].tokenCount)=197.0;"
        "S(results[0].outputText)=hi;o(results[0])O(results[1])"
        "N(results[1].tokenCount)=3;o(results[1])a(results)T(ok)F(no)"
        "Z(n)A(e)a(e)O(o)o(o)A(aa)A(aa[0])N(aa[0][0])=1;A(aa[0][1])"
        "N(aa[0][1][0])=2;a(aa[0][1])a(aa[0])O(aa[1])A(aa[1].k)a(aa[1].k)"
        "o(aa[1])a(aa)o()D;");

    check_doc(0,
        "[ {\"generated_text\" : \"a b\" , \"details\" : "
        "{ \"generated_tokens\" : 20 , \"prefill\" : [ {\"id\":1} ] } } ]",
        AIGW_JSON_OK,
        "A()O([0])S([0].generated_text)=a b;O([0].details)"
        "N([0].details.generated_tokens)=20;A([0].details.prefill)"
        "O([0].details.prefill[0])N([0].details.prefill[0].id)=1;"
        "o([0].details.prefill[0])a([0].details.prefill)o([0].details)"
        "o([0])a()D;");

    /* numbers end at any delimiter */
    check_doc(0, "[1,-2,3.5,4e2,0,-0]", AIGW_JSON_OK,
              "A()N([0])=1;N([1])=-2;N([2])=3.5;N([3])=4e2;N([4])=0;"
              "N([5])=-0;a()D;");
    check_doc(0, "{\"a\":1}", AIGW_JSON_OK, "O()N(a)=1;o()D;");
}


static void
test_escapes(void)
{
    /* \" \\ \/ \b \f \n \r \t, \u, surrogate pairs, split anywhere */
    check_doc(0, "[\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\te\"]", AIGW_JSON_OK,
              "A()S([0])=a\"b\\c/d\b\f\n\r\te;a()D;");

    check_doc(0, "\"\\u00e9\\u20AC\\ud83d\\ude00\\u0041\"", AIGW_JSON_OK,
              "S()=\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A;D;");

    /* lone surrogates become U+FFFD */
    check_doc(0, "\"\\ud83dx\\ude00\\ud83d\\n\\ud83d\\ud83d\\ude00\\ud800\"",
              AIGW_JSON_OK,
              "S()=\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\n\xef\xbf\xbd"
              "\xf0\x9f\x98\x80\xef\xbf\xbd;D;");

    /* escaped quotes and backslashes do not end strings */
    check_doc(0, "{\"k\\\"ey\":\"v\\\\\",\"x\":\"\\\\\\\"\"}", AIGW_JSON_OK,
              "O()S(k\"ey)=v\\;S(x)=\\\";o()D;");

    /* raw UTF-8 passes */
    check_doc(0, "{\"\xc3\xa9\":\"\xe2\x82\xac\"}", AIGW_JSON_OK,
              "O()S(\xc3\xa9)=\xe2\x82\xac;o()D;");

    /* an escaped key matches its decoded form */
    check_doc(0, "{\"\\u0075sage\":{\"in\":1}}", AIGW_JSON_OK,
              "O()O(usage)N(usage.in)=1;o(usage)o()D;");
}


static void
test_errors(void)
{
    check_error("{\"a\" 1}", "expected ':'");
    check_error("[1,]", "expected a value");
    check_error("{\"a\":1,}", "expected a key");
    check_error("{1:2}", "expected a key");
    check_error("[1 2]", "expected ',' or the end of a container");
    check_error("[1}", "unexpected '}'");
    check_error("{\"a\":1]", "unexpected ']'");
    check_error("01", "data after the JSON value");
    check_error("[01]", "expected ',' or the end of a container");
    check_error("{} x", "data after the JSON value");
    check_error("[1.]", "invalid number");
    check_error("[-]", "invalid number");
    check_error("[1e]", "invalid number");
    check_error("[.5]", "expected a value");
    check_error("[+1]", "expected a value");
    check_error("trux", "invalid literal");
    check_error("[nul]", "invalid literal");
    check_error("\"a\nb\"", "control character in a string");
    check_error("\"\\x\"", "invalid escape in a string");
    check_error("\"\\u12G4\"", "invalid \\u escape in a string");
    check_error("]", "expected a value");
    check_error("'a'", "expected a value");

    /* incomplete input */
    check_doc(0, "", AIGW_JSON_INCOMPLETE, "");
    check_doc(0, "{\"a\":", AIGW_JSON_INCOMPLETE, "O()");
    check_doc(0, "[1", AIGW_JSON_INCOMPLETE, "A()");
    check_doc(0, "\"abc", AIGW_JSON_INCOMPLETE, "S()=abc");
    check_doc(0, "tr", AIGW_JSON_INCOMPLETE, "");
    check_doc(0, "1.", AIGW_JSON_ERROR, "");
}


static void
test_offset_and_stop(void)
{
    rec_t             r;
    aigw_json_scan_t  js;

    memset(&r, 0, sizeof(r));
    r.stop_at = -1;
    aigw_json_init(&js, 0, rec_handler, &r);

    CHECK_EQ(aigw_json_feed(&js, S("{\"a\":[1,")), AIGW_JSON_OK);
    CHECK_EQ(js.offset, 8);
    CHECK_EQ(aigw_json_in_value(&js), 1);
    CHECK_EQ(aigw_json_feed(&js, S("2,x]}")), AIGW_JSON_ERROR);
    CHECK_STR(js.error, "expected a value");
    CHECK_EQ(js.offset, 11);

    /* the rest is ignored; reset starts over */
    CHECK_EQ(aigw_json_feed(&js, S("{}")), AIGW_JSON_ERROR);
    CHECK_EQ(aigw_json_in_value(&js), 0);
    aigw_json_reset(&js);
    CHECK(js.error == NULL);
    CHECK_EQ(aigw_json_feed(&js, S("{}")), AIGW_JSON_OK);
    CHECK_EQ(aigw_json_finish(&js), AIGW_JSON_OK);
    CHECK_EQ(aigw_json_in_value(&js), 0);

    /* a handler stops the scanner */
    memset(&r, 0, sizeof(r));
    r.stop_at = 2;
    aigw_json_init(&js, 0, rec_handler, &r);
    CHECK_EQ(aigw_json_feed(&js, S("[1,2,3]")), AIGW_JSON_ERROR);
    CHECK_STR(js.error, "stopped by the handler");
    CHECK_EQ(r.events, 2);
    CHECK_EQ(aigw_json_finish(&js), AIGW_JSON_ERROR);

    /* no handler at all */
    aigw_json_init(&js, 0, NULL, NULL);
    CHECK_EQ(aigw_json_feed(&js, S("{\"a\":[1,2,{\"b\":\"c\"}]}")),
             AIGW_JSON_OK);
    CHECK_EQ(aigw_json_finish(&js), AIGW_JSON_OK);
    CHECK_EQ(js.documents, 1);
}


static void
test_multi(void)
{
    check_doc(AIGW_JSON_MULTI, "{\"a\":1} {\"b\":2}\n[3]4 true\"s\"{}",
              AIGW_JSON_OK,
              "O()N(a)=1;o()D;O()N(b)=2;o()D;A()N([0])=3;a()D;N()=4;D;T()D;"
              "S()=s;D;O()o()D;");
    check_doc(AIGW_JSON_MULTI, "", AIGW_JSON_OK, "");
    check_doc(AIGW_JSON_MULTI, "  \n ", AIGW_JSON_OK, "");
    check_doc(AIGW_JSON_MULTI, "1 2", AIGW_JSON_OK, "N()=1;D;N()=2;D;");
    check_doc(AIGW_JSON_MULTI, "{} {", AIGW_JSON_INCOMPLETE, "O()o()D;O()");
    check_doc(0, "{} {}", AIGW_JSON_ERROR, "O()o()D;");
}


/* which patterns match at which events */

typedef struct {
    const char  *pattern;
    char         got[1024];
} match_t;


static int
match_handler(aigw_json_scan_t *js, aigw_json_event_e ev, const char *p,
    size_t len, void *data)
{
    match_t  *m = data;

    if (ev == AIGW_JSON_NUMBER && aigw_json_match(js, m->pattern)) {
        strncat(m->got, p, len);
        strcat(m->got, ",");
    }

    return 0;
}


static void
check_match(const char *doc, const char *pattern, const char *want)
{
    match_t           m;
    aigw_json_scan_t  js;

    memset(&m, 0, sizeof(m));
    m.pattern = pattern;

    aigw_json_init(&js, 0, match_handler, &m);
    CHECK_EQ(aigw_json_feed(&js, doc, strlen(doc)), AIGW_JSON_OK);
    CHECK_EQ(aigw_json_finish(&js), AIGW_JSON_OK);

    if (!CHECK_STR(m.got, want)) {
        fprintf(stderr, "    pattern %s in %s\n", pattern, doc);
    }
}


static void
test_match(void)
{
    static const char  doc[] =
        "{\"usage\":{\"inputTokens\":1,\"x\":{\"usage\":{\"inputTokens\":9}}},"
        "\"results\":[{\"tokenCount\":2},{\"tokenCount\":3}],"
        "\"trace\":{\"usage\":{\"inputTokens\":7}},\"n\":5,"
        "\"m\":[[6]],\"a.b\":8}";

    check_match(doc, "usage.inputTokens", "1,");
    check_match(doc, "usage.x.usage.inputTokens", "9,");
    check_match(doc, "results[].tokenCount", "2,3,");
    check_match(doc, "trace.usage.inputTokens", "7,");
    check_match(doc, "n", "5,");
    check_match(doc, "m[][]", "6,");
    check_match(doc, "m[]", "");
    check_match(doc, "m", "");
    check_match(doc, "usage", "");
    check_match(doc, "usage.inputToken", "");
    check_match(doc, "usage.inputTokensX", "");
    check_match(doc, "usage.inputTokens.", "");
    check_match(doc, "usageinputTokens", "");
    check_match(doc, "", "");
    check_match(doc, "a.b", "");

    check_match("[{\"details\":{\"generated_tokens\":20}}]",
                "[].details.generated_tokens", "20,");
    check_match("{\"details\":{\"generated_tokens\":20}}",
                "[].details.generated_tokens", "");
    check_match("7", "", "7,");
    check_match("[7]", "[]", "7,");
}


/* bounds: depth, keys, numbers, strings */

static void
test_bounds(void)
{
    int                i;
    char              *doc, key[80];
    rec_t             *r;
    size_t             n, total;
    match_t            m;
    aigw_json_scan_t   js;

    /* 20 levels: the 17th and deeper are not recorded */

    doc = malloc(4096);
    n = 0;

    for (i = 0; i < 20; i++) {
        n += sprintf(doc + n, "{\"k%d\":", i);
    }

    n += sprintf(doc + n, "1");

    for (i = 0; i < 20; i++) {
        doc[n++] = '}';
    }

    doc[n] = '\0';

    memset(&m, 0, sizeof(m));
    m.pattern = "k0.k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16."
                "k17.k18.k19";
    aigw_json_init(&js, 0, match_handler, &m);
    CHECK_EQ(aigw_json_feed(&js, doc, n), AIGW_JSON_OK);
    CHECK_EQ(aigw_json_finish(&js), AIGW_JSON_OK);
    CHECK_STR(m.got, "");
    CHECK_EQ(js.too_deep, 4);
    CHECK_EQ(js.depth, 0);

    /* 16 levels match */

    n = 0;

    for (i = 0; i < 16; i++) {
        n += sprintf(doc + n, "{\"k%d\":", i);
    }

    n += sprintf(doc + n, "[1]");

    for (i = 0; i < 16; i++) {
        doc[n++] = '}';
    }

    doc[n] = '\0';

    memset(&m, 0, sizeof(m));
    m.pattern = "k0.k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15";
    aigw_json_init(&js, 0, match_handler, &m);
    CHECK_EQ(aigw_json_feed(&js, doc, n), AIGW_JSON_OK);
    CHECK_STR(m.got, "");
    CHECK_EQ(js.too_deep, 1);

    /* nesting past AIGW_JSON_MAX_NESTING is an error, not a crash */

    free(doc);
    doc = malloc(2 * AIGW_JSON_MAX_NESTING + 16);
    memset(doc, '[', AIGW_JSON_MAX_NESTING);
    memset(doc + AIGW_JSON_MAX_NESTING, ']', AIGW_JSON_MAX_NESTING);
    aigw_json_init(&js, 0, NULL, NULL);
    CHECK_EQ(aigw_json_feed(&js, doc, 2 * AIGW_JSON_MAX_NESTING),
             AIGW_JSON_OK);
    CHECK_EQ(aigw_json_finish(&js), AIGW_JSON_OK);

    memset(doc, '[', AIGW_JSON_MAX_NESTING + 1);
    aigw_json_init(&js, 0, NULL, NULL);
    CHECK_EQ(aigw_json_feed(&js, doc, AIGW_JSON_MAX_NESTING + 1),
             AIGW_JSON_ERROR);
    CHECK_STR(js.error, "JSON nested too deeply");
    free(doc);

    /* keys: 64 bytes are kept, 65 are too long and never match */

    memset(key, 'k', sizeof(key));
    key[AIGW_JSON_KEY_MAX] = '\0';

    doc = malloc(256);
    n = sprintf(doc, "{\"%s\":1}", key);
    memset(&m, 0, sizeof(m));
    m.pattern = key;
    aigw_json_init(&js, 0, match_handler, &m);
    CHECK_EQ(aigw_json_feed(&js, doc, n), AIGW_JSON_OK);
    CHECK_STR(m.got, "1,");
    CHECK_EQ(js.long_keys, 0);

    key[AIGW_JSON_KEY_MAX] = 'k';
    key[AIGW_JSON_KEY_MAX + 1] = '\0';
    n = sprintf(doc, "{\"%s\":1}", key);
    memset(&m, 0, sizeof(m));
    m.pattern = key;
    aigw_json_init(&js, 0, match_handler, &m);
    CHECK_EQ(aigw_json_feed(&js, doc, n), AIGW_JSON_OK);
    CHECK_STR(m.got, "");
    CHECK_EQ(js.long_keys, 1);

    /* a truncated long key does not match its prefix either */
    key[AIGW_JSON_KEY_MAX] = '\0';
    m.got[0] = '\0';
    m.pattern = key;
    aigw_json_init(&js, 0, match_handler, &m);
    CHECK_EQ(aigw_json_feed(&js, doc, n), AIGW_JSON_OK);
    CHECK_STR(m.got, "");
    free(doc);

    /* numbers: 40 bytes are reported, longer ones with length 0 */

    check_doc(0, "[1234567890123456789012345678901234567890]", AIGW_JSON_OK,
              "A()N([0])=1234567890123456789012345678901234567890;a()D;");
    check_doc(0, "[12345678901234567890123456789012345678901]",
              AIGW_JSON_OK, "A()N([0])=;a()D;");

    /* a 16 MB string, in 1000-byte pieces: all of it, nothing kept */

    total = 16 * 1024 * 1024;
    doc = malloc(total);
    memset(doc, 'x', total);
    memcpy(doc, "{\"s\":\"", 6);
    memcpy(doc + total - 2, "\"}", 2);

    r = malloc(sizeof(rec_t));
    memset(r, 0, sizeof(rec_t));
    r->stop_at = -1;
    aigw_json_init(&js, 0, rec_handler, r);

    for (n = 0; n < total; n += 1000) {
        if (aigw_json_feed(&js, doc + n, total - n < 1000 ? total - n : 1000)
            != AIGW_JSON_OK)
        {
            break;
        }
    }

    CHECK_EQ(aigw_json_finish(&js), AIGW_JSON_OK);
    CHECK_EQ_SIZE(r->string_bytes, total - 8);
    CHECK_EQ(js.offset, total);

    free(r);
    free(doc);

    CHECK(sizeof(aigw_json_scan_t) < 1400);
}


static void
check_u64(const char *s, int want_rc, uint64_t want)
{
    int       rc;
    uint64_t  v;

    v = 12345;
    rc = aigw_json_number_u64(s, strlen(s), &v);

    if (!CHECK_EQ(rc, want_rc)) {
        fprintf(stderr, "    number: \"%s\"\n", s);
        return;
    }

    if (rc == 0 && v != want) {
        unit_fail_head(__FILE__, __LINE__, "number value");
        fprintf(stderr, "    \"%s\": %llu, expected %llu\n", s,
                (unsigned long long) v, (unsigned long long) want);
    }
}


static void
test_number_u64(void)
{
    check_u64("0", 0, 0);
    check_u64("7", 0, 7);
    check_u64("28", 0, 28);
    check_u64("28.0", 0, 28);
    check_u64("28.000", 0, 28);
    check_u64("2.8e1", 0, 28);
    check_u64("2.8E+1", 0, 28);
    check_u64("280e-1", 0, 28);
    check_u64("280.0e-1", 0, 28);
    check_u64("0.28e2", 0, 28);
    check_u64("100e-2", 0, 1);
    check_u64("1e0", 0, 1);
    check_u64("1e-0", 0, 1);
    check_u64("197.0", 0, 197);
    check_u64("1000000000000000000000e-3", 0, 1000000000000000000ULL);
    check_u64("123456789012345678900000000e-8", 0, 1234567890123456789ULL);
    check_u64("18446744073709551615", 0, UINT64_MAX);
    check_u64("18446744073709551615.000", 0, UINT64_MAX);
    check_u64("1.8446744073709551615e19", 0, UINT64_MAX);
    check_u64("1e19", 0, 10000000000000000000ULL);
    check_u64("-0", 0, 0);
    check_u64("-0.0", 0, 0);
    check_u64("0e999999999999", 0, 0);
    check_u64("0.000", 0, 0);

    check_u64("18446744073709551616", -1, 0);
    check_u64("18446744073709551615.5", -1, 0);
    check_u64("99999999999999999999", -1, 0);
    check_u64("1e20", -1, 0);
    check_u64("2e19", -1, 0);
    check_u64("1e999999999999", -1, 0);
    check_u64("12345678901234567890123e-5", -1, 0);
    check_u64("1.5", -1, 0);
    check_u64("28.01", -1, 0);
    check_u64("5e-1", -1, 0);
    check_u64("1e-999999999999", -1, 0);
    check_u64("-1", -1, 0);
    check_u64("-28.0", -1, 0);
    check_u64("", -1, 0);
    check_u64("-", -1, 0);
    check_u64("01", -1, 0);
    check_u64("1.", -1, 0);
    check_u64(".5", -1, 0);
    check_u64("1e", -1, 0);
    check_u64("1e+", -1, 0);
    check_u64("+1", -1, 0);
    check_u64(" 1", -1, 0);
    check_u64("1 ", -1, 0);
    check_u64("0x10", -1, 0);
    check_u64("NaN", -1, 0);
    check_u64("1,0", -1, 0);
}


int
main(void)
{
    test_events();
    test_escapes();
    test_errors();
    test_offset_and_stop();
    test_multi();
    test_match();
    test_bounds();
    test_number_u64();

    printf("sizeof(aigw_json_scan_t) = %zu\n", sizeof(aigw_json_scan_t));

    return unit_done("json_scan");
}
