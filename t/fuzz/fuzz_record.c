
/*
 * aigw: usage records.  Input: a byte of mode, then either (mode even)
 * bytes decoded as a record (journal files are read back from disk), or
 * (mode odd) the fields of a record to encode: stream id, sequence
 * number, date, counters (fixed sizes), then tenant, model and image
 * class separated by NUL bytes.  Checked: a record decoded re-encodes to
 * the same bytes; a record encoded decodes to the same fields, also
 * after its sequence number is rewritten; a damaged byte is refused.
 */

#include "fuzz.h"
#include "aigw_record.h"


static void
check_same(const aigw_record_t *a, const aigw_record_t *b)
{
    FUZZ_CHECK(memcmp(a->stream, b->stream, AIGW_STREAM_ID_LEN) == 0);
    FUZZ_CHECK(a->seq == b->seq);
    FUZZ_CHECK(memcmp(a->date, b->date, AIGW_DATE_LEN) == 0);
    FUZZ_CHECK(a->tenant.len == b->tenant.len
               && memcmp(a->tenant.data, b->tenant.data, a->tenant.len) == 0);
    FUZZ_CHECK(a->model.len == b->model.len
               && memcmp(a->model.data, b->model.data, a->model.len) == 0);
    FUZZ_CHECK(a->image_class.len == b->image_class.len
               && memcmp(a->image_class.data, b->image_class.data,
                         a->image_class.len) == 0);
    FUZZ_CHECK(memcmp(a->v, b->v, sizeof(a->v)) == 0);
}


static void
decode(const uint8_t *p, size_t len)
{
    size_t          i, n, m, avail;
    uint8_t        *copy, *enc;
    aigw_record_t   r;

    /* the bytes at the end of a buffer of their size */
    copy = malloc(len ? len : 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, p, len);

    n = aigw_record_decode(copy, len, &r);

    if (n == 0 || n == (size_t) -1) {
        free(copy);
        return;
    }

    FUZZ_CHECK(n <= len && n <= AIGW_RECORD_MAX);

    /* a prefix of it is not whole yet */
    for (avail = 0; avail < n; avail += 1 + avail / 2) {
        FUZZ_CHECK(aigw_record_decode(copy, avail, &r) == 0
                   || aigw_record_decode(copy, avail, &r) == (size_t) -1);
    }

    FUZZ_CHECK(aigw_record_decode(copy, len, &r) == n);

    /*
     * A counter over AIGW_RECORD_VALUE_MAX decodes (a journal of an
     * older version; the script refuses it into a dead letter), but is
     * never encoded.
     */
    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        if (r.v[i] > AIGW_RECORD_VALUE_MAX) {
            FUZZ_CHECK(aigw_record_size(&r) == 0);
            free(copy);
            return;
        }
    }

    m = aigw_record_size(&r);
    FUZZ_CHECK(m == n);

    enc = malloc(m);
    FUZZ_CHECK(enc != NULL);
    FUZZ_CHECK(aigw_record_encode(enc, &r) == m);
    FUZZ_CHECK(memcmp(enc, copy, m) == 0);

    free(enc);
    free(copy);
}


static void
encode(fuzz_in_t *in)
{
    size_t          i, n;
    uint8_t        *enc;
    uint64_t        seq;
    const uint8_t  *p;
    aigw_record_t   r, d;

    memset(&r, 0, sizeof(r));

    n = fuzz_take(in, AIGW_STREAM_ID_LEN, &p);
    memcpy(r.stream, p, n);
    r.seq = fuzz_u64(in, 8);
    n = fuzz_take(in, AIGW_DATE_LEN, &p);
    memcpy(r.date, p, n);

    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        r.v[i] = fuzz_u64(in, 1 + fuzz_byte(in) % 8);
    }

    r.tenant.len = fuzz_field(in, 0, &r.tenant.data);
    r.model.len = fuzz_field(in, 0, &r.model.data);
    r.image_class.len = fuzz_field(in, 0, &r.image_class.data);

    FUZZ_CHECK(aigw_record_class_valid(r.image_class.data, r.image_class.len)
               == 0
               || aigw_record_class_valid(r.image_class.data,
                                          r.image_class.len) == 1);

    n = aigw_record_size(&r);

    if (n == 0) {
        return;
    }

    FUZZ_CHECK(n <= AIGW_RECORD_MAX);

    enc = malloc(n);
    FUZZ_CHECK(enc != NULL);
    FUZZ_CHECK(aigw_record_encode(enc, &r) == n);

    FUZZ_CHECK(aigw_record_decode(enc, n, &d) == n);
    check_same(&r, &d);

    seq = r.seq ^ 0x5555;
    aigw_record_set_seq(enc, seq);
    FUZZ_CHECK(aigw_record_decode(enc, n, &d) == n);
    FUZZ_CHECK(d.seq == seq);
    d.seq = r.seq;
    check_same(&r, &d);

    /* any byte changed: refused */
    i = (size_t) (r.v[0] % n);
    enc[i] ^= 0x20;
    FUZZ_CHECK(aigw_record_decode(enc, n, &d) != n || i < 4);

    free(enc);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_in_t  in;

    in.p = data;
    in.len = size;

    if (fuzz_byte(&in) & 1) {
        encode(&in);

    } else {
        decode(in.p, in.len);
    }

    return 0;
}
