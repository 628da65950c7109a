
/*
 * aigw: unit tests of aigw_eventstream.c: CRC32; the AWS SDK event-stream
 * vectors ($AIGW_TESTDATA/eventstream, default ../shared/testdata), every
 * one at every split; every stream capture of bedrock-captures at every
 * split; synthetic messages: limits, skipped headers, CRC errors,
 * truncation, all ten header types.
 */


#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "unit.h"
#include "es_test_util.h"
#include "aigw_eventstream.h"


/* what the decoder reported, as text, and the payloads */

typedef struct {
    char       log[65536];
    size_t     log_len;
    uint32_t   payload_crc;         /* of all payloads, in order */
    uint64_t   payload_len;
    int        messages;
    int        crc_ok;
    int        in_payload;
} rec_t;


static void
rec_printf(rec_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


static void
rec_printf(rec_t *r, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(r->log + r->log_len, sizeof(r->log) - r->log_len, fmt,
                  ap);
    va_end(ap);

    if (n > 0) {
        r->log_len += n;
        if (r->log_len >= sizeof(r->log)) {
            r->log_len = sizeof(r->log) - 1;
        }
    }
}


static void
rec_start(aigw_es_decoder_t *es, const aigw_es_message_t *msg, void *data)
{
    rec_t             *r = data;
    size_t             pos, i;
    aigw_es_header_t   h;

    rec_printf(r, "start %u %u %u %u;", msg->total_length,
               msg->headers_length, msg->payload_length, msg->prelude_crc);

    pos = 0;

    while (aigw_es_header_next(msg, &pos, &h)) {
        rec_printf(r, "h %.*s %d ", (int) h.name_len, h.name, (int) h.type);

        if (h.p) {
            for (i = 0; i < h.len; i++) {
                rec_printf(r, "%02x", h.p[i]);
            }

        } else {
            rec_printf(r, "%lld", (long long) h.i);
        }

        rec_printf(r, ";");
    }
}


static void
rec_payload(aigw_es_decoder_t *es, const unsigned char *p, size_t len,
    void *data)
{
    rec_t  *r = data;

    CHECK(len > 0);

    r->payload_crc = aigw_crc32(r->payload_crc, p, len);
    r->payload_len += len;
}


static void
rec_end(aigw_es_decoder_t *es, const aigw_es_message_t *msg, int crc_ok,
    void *data)
{
    rec_t  *r = data;

    rec_printf(r, "end %u %d payload %08x %llu;", msg->message_crc, crc_ok,
               r->payload_crc, (unsigned long long) r->payload_len);

    r->messages++;
    r->crc_ok += crc_ok;
}


static const aigw_es_handler_t  rec_handler = {
    rec_start, rec_payload, rec_end
};


/* feeds "in" cut at "cuts"; returns the finish rc */
static int
decode_split(aigw_es_decoder_t *es, rec_t *r, const unsigned char *in,
    size_t len, const size_t *cuts, size_t ncuts)
{
    size_t  i, from, to;

    memset(r, 0, sizeof(rec_t));
    aigw_es_init(es, &rec_handler, r);

    from = 0;

    for (i = 0; i <= ncuts; i++) {
        to = (cuts != NULL && i < ncuts) ? cuts[i] : len;

        if (to > from) {
            (void) aigw_es_feed(es, in + from, to - from);
        }

        from = to;
    }

    rec_printf(r, "error %s last %s", es->error ? es->error : "-",
               es->last_error ? es->last_error : "-");

    return aigw_es_finish(es);
}


/* the same callbacks for the whole input, every 2-split and bytes */
static void
check_splits(const char *name, const unsigned char *in, size_t len,
    rec_t *whole)
{
    int                 rc, rc1;
    size_t              i, *cuts;
    rec_t              *r;
    aigw_es_decoder_t   es;

    r = malloc(sizeof(rec_t));
    cuts = malloc((len + 1) * sizeof(size_t));

    rc = decode_split(&es, whole, in, len, NULL, 0);

    for (i = 1; i < len; i++) {
        cuts[0] = i;
        rc1 = decode_split(&es, r, in, len, cuts, 1);

        if (!CHECK_EQ(rc1, rc) || !CHECK_STR(r->log, whole->log)) {
            fprintf(stderr, "    %s: split at %zu\n", name, i);
            break;
        }
    }

    for (i = 0; i + 1 < len; i++) {
        cuts[i] = i + 1;
    }

    rc1 = decode_split(&es, r, in, len, cuts, len ? len - 1 : 0);

    if (!CHECK_EQ(rc1, rc) || !CHECK_STR(r->log, whole->log)) {
        fprintf(stderr, "    %s: 1 byte at a time\n", name);
    }

    free(r);
    free(cuts);
}


static void
test_crc32(void)
{
    size_t         i, j, n;
    uint32_t       ref, c;
    uint64_t       seed;
    unsigned char  buf[1000];

    CHECK_EQ(aigw_crc32(0, "", 0), 0);
    CHECK_EQ(aigw_crc32(0, "123456789", 9), 0xcbf43926);
    CHECK_EQ(aigw_crc32(0, "The quick brown fox jumps over the lazy dog", 43),
             0x414fa339);
    CHECK_EQ(aigw_crc32(aigw_crc32(0, "12345", 5), "6789", 4), 0xcbf43926);

    /* against a bitwise reference, every length up to 1000, chained */

    seed = 42;

    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char) tu_rand(&seed);
    }

    for (n = 0; n <= sizeof(buf); n += (n < 40) ? 1 : 37) {
        ref = 0xffffffff;

        for (i = 0; i < n; i++) {
            ref ^= buf[i];

            for (j = 0; j < 8; j++) {
                ref = (ref >> 1) ^ (0xedb88320 & (0 - (ref & 1)));
            }
        }

        ref = ~ref;

        if (!CHECK_EQ(aigw_crc32(0, buf, n), ref)) {
            fprintf(stderr, "    length %zu\n", n);
        }

        c = aigw_crc32(0, buf, n / 3);
        c = aigw_crc32(c, buf + n / 3, n - n / 3);
        CHECK_EQ(c, ref);
    }
}


/* the expected log of a decoded/positive JSON file */
static int
expected_log(json_t *j, rec_t *r)
{
    size_t          i, k, hlen;
    long            plen;
    json_t         *hs, *h, *v;
    unsigned char   buf[4096];
    uint32_t        total, headers_len;

    memset(r, 0, sizeof(rec_t));

    total = (uint32_t) json_integer_value(json_object_get(j, "total_length"));
    headers_len = (uint32_t) json_integer_value(
                                 json_object_get(j, "headers_length"));

    plen = tu_unbase64(buf, json_string_value(json_object_get(j,
                                                              "payload")));
    if (plen < 0) {
        return -1;
    }

    rec_printf(r, "start %u %u %u %u;", total, headers_len,
               total - headers_len - 16,
               (uint32_t) json_integer_value(json_object_get(j,
                                                             "prelude_crc")));

    hs = json_object_get(j, "headers");
    hlen = 0;

    json_array_foreach(hs, i, h) {
        rec_printf(r, "h %s %d ",
                   json_string_value(json_object_get(h, "name")),
                   (int) json_integer_value(json_object_get(h, "type")));

        v = json_object_get(h, "value");

        if (json_is_string(v)) {
            long  n = tu_unbase64(buf + 2048, json_string_value(v));

            if (n < 0) {
                return -1;
            }

            for (k = 0; k < (size_t) n; k++) {
                rec_printf(r, "%02x", buf[2048 + k]);
            }

        } else if (json_is_boolean(v)) {
            rec_printf(r, "%d", json_is_true(v) ? 1 : 0);

        } else {
            rec_printf(r, "%lld", (long long) json_integer_value(v));
        }

        rec_printf(r, ";");
        hlen++;
    }

    rec_printf(r, "end %u 1 payload %08x %ld;",
               (uint32_t) json_integer_value(json_object_get(j,
                                                             "message_crc")),
               aigw_crc32(0, buf, plen), plen);

    rec_printf(r, "error - last -");

    return 0;
}


static void
test_vectors(void)
{
    int                 n;
    DIR                *d;
    char                dir[2048], path[4096], *name, *text, *want;
    size_t              len, wlen;
    json_t             *j;
    rec_t              *whole, *exp;
    json_error_t        jerr;
    struct dirent      *de;
    aigw_es_decoder_t   es;
    unsigned char      *bin;

    if (!tu_testdata(dir, sizeof(dir), "eventstream")) {
        return;
    }

    whole = malloc(sizeof(rec_t));
    exp = malloc(sizeof(rec_t));

    /* positive: every field, at every split */

    snprintf(path, sizeof(path), "%s/encoded/positive", dir);
    d = opendir(path);

    if (!CHECK(d != NULL)) {
        goto done;
    }

    n = 0;

    while ((de = readdir(d)) != NULL) {
        name = de->d_name;

        if (name[0] == '.') {
            continue;
        }

        snprintf(path, sizeof(path), "%s/encoded/positive/%s", dir, name);
        bin = (unsigned char *) tu_read_file(path, &len);

        snprintf(path, sizeof(path), "%s/decoded/positive/%s", dir, name);
        j = json_load_file(path, 0, &jerr);

        if (!CHECK(bin != NULL) || !CHECK(j != NULL)) {
            free(bin);
            json_decref(j);
            continue;
        }

        CHECK_EQ(expected_log(j, exp), 0);

        check_splits(name, bin, len, whole);

        if (!CHECK_STR(whole->log, exp->log)) {
            fprintf(stderr, "    vector %s\n", name);
        }

        CHECK_EQ(whole->messages, 1);
        CHECK_EQ(whole->crc_ok, 1);

        n++;
        free(bin);
        json_decref(j);
    }

    closedir(d);
    CHECK_EQ(n, 5);

    /* negative: rejected for exactly the published reason */

    snprintf(path, sizeof(path), "%s/encoded/negative", dir);
    d = opendir(path);

    if (!CHECK(d != NULL)) {
        goto done;
    }

    n = 0;

    while ((de = readdir(d)) != NULL) {
        name = de->d_name;

        if (name[0] == '.') {
            continue;
        }

        snprintf(path, sizeof(path), "%s/encoded/negative/%s", dir, name);
        bin = (unsigned char *) tu_read_file(path, &len);

        snprintf(path, sizeof(path), "%s/decoded/negative/%s", dir, name);
        want = tu_read_file(path, &wlen);

        if (!CHECK(bin != NULL) || !CHECK(want != NULL)) {
            free(bin);
            free(want);
            continue;
        }

        while (wlen && (want[wlen - 1] == '\n' || want[wlen - 1] == ' ')) {
            want[--wlen] = '\0';
        }

        check_splits(name, bin, len, whole);

        /* decoded once more to look at the decoder itself */
        (void) decode_split(&es, exp, bin, len, NULL, 0);

        text = (char *) (es.error ? es.error : es.last_error);

        if (!CHECK_STR(text, want)) {
            fprintf(stderr, "    vector %s\n", name);
        }

        /* nothing from a rejected message is ever committed */
        CHECK_EQ(exp->crc_ok, 0);

        n++;
        free(bin);
        free(want);
    }

    closedir(d);
    CHECK_EQ(n, 4);

done:

    free(whole);
    free(exp);
}


/* every stream capture decodes with all CRCs good, at every split */
static void
test_captures(void)
{
    int                 n;
    DIR                *d;
    char                dir[2048], path[4096];
    size_t              len;
    rec_t              *whole;
    struct dirent      *de;
    unsigned char      *bin;
    aigw_es_decoder_t   es;

    if (!tu_testdata(dir, sizeof(dir), "bedrock-captures")) {
        return;
    }

    d = opendir(dir);
    if (!CHECK(d != NULL)) {
        return;
    }

    whole = malloc(sizeof(rec_t));
    n = 0;

    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strstr(de->d_name, "stream") == NULL) {
            continue;
        }

        snprintf(path, sizeof(path), "%s/%s/response.body", dir, de->d_name);
        bin = (unsigned char *) tu_read_file(path, &len);

        if (!CHECK(bin != NULL)) {
            continue;
        }

        check_splits(de->d_name, bin, len, whole);

        CHECK(whole->messages > 0);
        CHECK_EQ(whole->crc_ok, whole->messages);

        (void) decode_split(&es, whole, bin, len, NULL, 0);
        CHECK(es.error == NULL);
        CHECK(es.last_error == NULL);
        CHECK_EQ(es.offset, len);
        CHECK_EQ(es.messages, (uint64_t) whole->messages);
        CHECK_EQ(aigw_es_finish(&es), 0);

        n++;
        free(bin);
    }

    closedir(d);
    free(whole);

    CHECK(n >= 6);
}


static size_t
put_header(unsigned char *p, const char *name, int type, const void *v,
    size_t len)
{
    size_t  n, i;

    n = strlen(name);
    i = 0;

    p[i++] = (unsigned char) n;
    memcpy(p + i, name, n);
    i += n;
    p[i++] = (unsigned char) type;

    if (type == AIGW_ES_BYTES || type == AIGW_ES_STRING) {
        p[i++] = (unsigned char) (len >> 8);
        p[i++] = (unsigned char) len;
    }

    memcpy(p + i, v, len);

    return i + len;
}


static void
test_header_types(void)
{
    size_t              n, len;
    rec_t              *r;
    unsigned char       h[512], msg[1024];
    aigw_es_decoder_t   es;
    aigw_es_header_t    hd;
    aigw_es_message_t   m;

    static const unsigned char  i16[] = { 0xff, 0xfe };
    static const unsigned char  i32[] = { 0x80, 0, 0, 1 };
    static const unsigned char  i64[] = { 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xfd };
    static const unsigned char  ts[] = { 0, 0, 1, 0x8f, 0, 0, 0, 0 };
    static const unsigned char  uuid[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
                                           11, 12, 13, 14, 15, 16 };
    static const unsigned char  byte[] = { 0x80 };

    n = 0;
    n += put_header(h + n, "t", AIGW_ES_BOOL_TRUE, "", 0);
    n += put_header(h + n, "f", AIGW_ES_BOOL_FALSE, "", 0);
    n += put_header(h + n, "b", AIGW_ES_BYTE, byte, 1);
    n += put_header(h + n, "i16", AIGW_ES_INT16, i16, 2);
    n += put_header(h + n, "i32", AIGW_ES_INT32, i32, 4);
    n += put_header(h + n, "i64", AIGW_ES_INT64, i64, 8);
    n += put_header(h + n, "bytes", AIGW_ES_BYTES, "\0\1\2", 3);
    n += put_header(h + n, "str", AIGW_ES_STRING, "hello", 5);
    n += put_header(h + n, "ts", AIGW_ES_TIMESTAMP, ts, 8);
    n += put_header(h + n, "uuid", AIGW_ES_UUID, uuid, 16);
    n += put_header(h + n, "", AIGW_ES_STRING, "", 0);

    len = tu_es_message(msg, h, n, "{}", 2);

    r = malloc(sizeof(rec_t));
    check_splits("all types", msg, len, r);

    CHECK(strstr(r->log,
                 "h t 0 1;h f 1 0;h b 2 -128;h i16 3 -2;h i32 4 -2147483647;"
                 "h i64 5 -3;h bytes 6 000102;h str 7 68656c6c6f;"
                 "h ts 8 1713691951104;"
                 "h uuid 9 0102030405060708090a0b0c0d0e0f10;"
                 "h  7 ;") != NULL);
    CHECK_EQ(r->crc_ok, 1);

    /* find */
    memset(&m, 0, sizeof(m));
    m.headers = h;
    m.headers_length = (uint32_t) n;

    if (CHECK(aigw_es_header_find(&m, "str", &hd))) {
        CHECK_MEM(hd.p, hd.len, "hello", 5);
        CHECK_EQ(hd.type, AIGW_ES_STRING);
    }

    if (CHECK(aigw_es_header_find(&m, "ts", &hd))) {
        CHECK_EQ(hd.i, 1713691951104LL);
    }

    CHECK(!aigw_es_header_find(&m, "nope", &hd));
    CHECK(!aigw_es_header_find(&m, "St", &hd));

    /* a malformed header block: the message is skipped, counted */

    h[0] = 200;                         /* a name running past the end */
    len = tu_es_message(msg, h, n, "{}", 2);
    (void) decode_split(&es, r, msg, len, NULL, 0);
    CHECK_EQ(es.bad_headers, 1);
    CHECK_EQ(r->messages, 0);
    CHECK_STR(es.last_error, "Malformed headers");
    CHECK(es.error == NULL);

    n = put_header(h, "x", 10, "", 0);  /* an unknown type */
    len = tu_es_message(msg, h, n, "{}", 2);
    (void) decode_split(&es, r, msg, len, NULL, 0);
    CHECK_EQ(es.bad_headers, 1);

    n = put_header(h, "x", AIGW_ES_INT64, "1234", 4);   /* short value */
    len = tu_es_message(msg, h, n, "", 0);
    (void) decode_split(&es, r, msg, len, NULL, 0);
    CHECK_EQ(es.bad_headers, 1);

    free(r);
}


static void
test_limits(void)
{
    int                 rc;
    size_t              len, n, i, big;
    rec_t              *r;
    unsigned char      *buf, *payload, pre[16];
    aigw_es_decoder_t   es;

    r = malloc(sizeof(rec_t));
    buf = malloc(3 * 4096);

    /* headers over the buffer: skipped, counted, the CRC still checked */

    n = 0;
    for (i = 0; n < AIGW_ES_HEADERS_BUF + 100; i++) {
        n += tu_es_str_header(buf + 4096 + n, "x-pad",
                              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    }

    len = tu_es_message(buf, buf + 4096, n, "payload", 7);
    len += tu_es_event(buf + len, "event", ":event-type", "chunk", "{}", 2);

    check_splits("big headers", buf, len, r);
    rc = decode_split(&es, r, buf, len, NULL, 0);
    CHECK_EQ(rc, 0);
    CHECK_EQ(es.skipped, 1);
    CHECK_EQ(es.messages, 2);
    CHECK_EQ(r->messages, 1);
    CHECK_EQ(es.crc_errors, 0);

    /* ... and a bad CRC of a skipped message is still seen */
    len = tu_es_message(buf, buf + 4096, n, "payload", 7);
    buf[len - 1] ^= 1;
    (void) decode_split(&es, r, buf, len, NULL, 0);
    CHECK_EQ(es.skipped, 1);
    CHECK_EQ(es.crc_errors, 1);
    CHECK_STR(es.last_error, "Message checksum mismatch");

    /* a bad message CRC: reported, and the next message decodes */

    len = tu_es_event(buf, "event", ":event-type", "chunk", "{\"a\":1}", 7);
    buf[20] ^= 0x20;
    n = len;
    len += tu_es_event(buf + len, "event", ":event-type", "chunk", "{}", 2);

    check_splits("bad crc", buf, len, r);
    CHECK_EQ(r->messages, 2);
    CHECK_EQ(r->crc_ok, 1);
    CHECK(strstr(r->log, "end") != NULL);
    rc = decode_split(&es, r, buf, len, NULL, 0);
    CHECK_EQ(rc, 0);
    CHECK_EQ(es.crc_errors, 1);
    CHECK(es.error == NULL);

    /* truncated: in a message */

    rc = decode_split(&es, r, buf, n + 5, NULL, 0);
    CHECK_EQ(rc, -1);
    CHECK_STR(es.last_error, "Truncated message");
    CHECK_EQ(aigw_es_in_message(&es), 1);

    rc = decode_split(&es, r, buf, n, NULL, 0);
    CHECK_EQ(rc, 0);
    CHECK_EQ(aigw_es_in_message(&es), 0);

    rc = decode_split(&es, r, buf, 0, NULL, 0);
    CHECK_EQ(rc, 0);

    /* lengths: with a valid prelude CRC, still rejected */

#define PRELUDE(total, hlen)                                                  \
    tu_be32(pre, total);                                                      \
    tu_be32(pre + 4, hlen);                                                   \
    tu_be32(pre + 8, aigw_crc32(0, pre, 8))

    PRELUDE(15, 0);
    rc = decode_split(&es, r, pre, 12, NULL, 0);
    CHECK_STR(es.error, "Invalid message length");
    CHECK_EQ(rc, -1);
    CHECK_EQ(aigw_es_feed(&es, pre, 12), -1);

    PRELUDE(100, 85);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK_STR(es.error, "Invalid message length");

    PRELUDE(100, 84);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK(es.error == NULL);

    PRELUDE(AIGW_ES_MAX_HEADERS_LEN + 17, AIGW_ES_MAX_HEADERS_LEN + 1);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK_STR(es.error, "Headers length exceeds the maximum");

    PRELUDE(AIGW_ES_MAX_HEADERS_LEN + 16, AIGW_ES_MAX_HEADERS_LEN);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK(es.error == NULL);

    PRELUDE(AIGW_ES_MAX_TOTAL_LEN, AIGW_ES_MAX_HEADERS_LEN);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK(es.error == NULL);

    PRELUDE(AIGW_ES_MAX_TOTAL_LEN + 1, AIGW_ES_MAX_HEADERS_LEN);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK_STR(es.error, "Payload length exceeds the maximum");

    PRELUDE(AIGW_ES_MAX_PAYLOAD_LEN + 17, 0);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK_STR(es.error, "Payload length exceeds the maximum");

    PRELUDE(0xffffffff, 0xffffffef);
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK_STR(es.error, "Headers length exceeds the maximum");

    /* a bad prelude CRC: nothing after it is looked at */
    PRELUDE(16, 0);
    pre[11] ^= 1;
    (void) decode_split(&es, r, pre, 12, NULL, 0);
    CHECK_STR(es.error, "Prelude checksum mismatch");

    /* a 16 MiB payload streams through in pieces, nothing buffered */

    big = AIGW_ES_MAX_PAYLOAD_LEN;
    free(buf);
    buf = malloc(big + 64);
    payload = malloc(big);
    memset(payload, 'z', big);
    n = tu_es_str_header(pre, ":event-type", "x");
    len = tu_es_message(buf, pre, n, payload, big);
    free(payload);

    memset(r, 0, sizeof(rec_t));
    aigw_es_init(&es, &rec_handler, r);

    for (i = 0; i < len; i += 65536) {
        CHECK_EQ(aigw_es_feed(&es, buf + i, len - i < 65536 ? len - i : 65536),
                 0);
    }

    CHECK_EQ(aigw_es_finish(&es), 0);
    CHECK_EQ(r->crc_ok, 1);
    CHECK_EQ(r->payload_len, big);

#undef PRELUDE

    free(buf);
    free(r);

    CHECK(sizeof(aigw_es_decoder_t) < 1300);
}


static void
test_no_handler(void)
{
    size_t              len;
    unsigned char       buf[256];
    aigw_es_decoder_t   es;

    len = tu_es_event(buf, "event", ":event-type", "chunk", "{}", 2);

    aigw_es_init(&es, NULL, NULL);
    CHECK_EQ(aigw_es_feed(&es, buf, len), 0);
    CHECK_EQ(aigw_es_finish(&es), 0);
    CHECK_EQ(es.messages, 1);
}


int
main(void)
{
    int   vectors, captures;
    char  dir[2048], dir2[2048];

    /* one line when the shared test data is missing */

    vectors = tu_testdata(dir, sizeof(dir), "eventstream");
    captures = tu_testdata(dir2, sizeof(dir2), "bedrock-captures");

    if (!vectors || !captures) {
        printf("skip: event-stream test data not found at %s%s%s"
               " (set AIGW_TESTDATA)\n", vectors ? "" : dir,
               (!vectors && !captures) ? " and " : "", captures ? "" : dir2);
    }

    test_crc32();
    test_vectors();
    test_captures();
    test_header_types();
    test_limits();
    test_no_handler();

    printf("sizeof(aigw_es_decoder_t) = %zu\n", sizeof(aigw_es_decoder_t));

    return unit_done("eventstream");
}
