
/*
 * aigw: unit tests of aigw_record.c (usage records).
 */


#include <string.h>

#include "unit.h"
#include "aigw_record.h"


static void
fill(aigw_record_t *r, const char *tenant, const char *model,
    const char *class)
{
    size_t  i;

    memset(r, 0, sizeof(aigw_record_t));

    for (i = 0; i < AIGW_STREAM_ID_LEN; i++) {
        r->stream[i] = (unsigned char) (0xa0 + i);
    }

    r->seq = 0x0102030405060708ULL;
    memcpy(r->date, "2026-11-26", AIGW_DATE_LEN);
    r->tenant.data = tenant;
    r->tenant.len = strlen(tenant);
    r->model.data = model;
    r->model.len = strlen(model);
    r->image_class.data = class;
    r->image_class.len = class ? strlen(class) : 0;

    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        r->v[i] = 100000000000ULL * (i + 1) + i;
    }
}


static void
test_roundtrip(void)
{
    size_t          size, i;
    unsigned char   buf[AIGW_RECORD_MAX];
    aigw_record_t   r, d;
    char            model[AIGW_RECORD_MODEL_MAX];

    fill(&r, "team-a", "anthropic.claude-3-haiku-20240307-v1:0", NULL);

    size = aigw_record_size(&r);
    CHECK(size > 0);
    CHECK_EQ_SIZE(aigw_record_encode(buf, &r), size);
    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), size);

    CHECK_MEM(d.stream, AIGW_STREAM_ID_LEN, r.stream, AIGW_STREAM_ID_LEN);
    CHECK_EQ(d.seq, r.seq);
    CHECK_MEM(d.date, AIGW_DATE_LEN, "2026-11-26", AIGW_DATE_LEN);
    CHECK_MEM(d.tenant.data, d.tenant.len, "team-a", 6);
    CHECK_MEM(d.model.data, d.model.len, r.model.data, r.model.len);
    CHECK_EQ_SIZE(d.image_class.len, 0);

    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        CHECK_EQ(d.v[i], r.v[i]);
    }

    /* an image class */
    fill(&r, "t", "amazon.titan-image-generator-v1", "1024x1024:premium");
    size = aigw_record_encode(buf, &r);
    CHECK(size > 0);
    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), size);
    CHECK_MEM(d.image_class.data, d.image_class.len, "1024x1024:premium",
              17);

    /* the longest model */
    memset(model, 'm', sizeof(model));
    r.model.data = model;
    r.model.len = sizeof(model);
    r.image_class.len = 0;
    size = aigw_record_encode(buf, &r);
    CHECK(size > 0 && size <= AIGW_RECORD_MAX);
    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), size);
    CHECK_EQ_SIZE(d.model.len, sizeof(model));
}


static void
test_invalid(void)
{
    size_t          size, i;
    unsigned char   buf[AIGW_RECORD_MAX];
    aigw_record_t   r, d;
    char            model[AIGW_RECORD_MODEL_MAX + 1];

    fill(&r, "", "m", NULL);
    CHECK_EQ_SIZE(aigw_record_size(&r), 0);

    fill(&r, "t", "", NULL);
    CHECK_EQ_SIZE(aigw_record_size(&r), 0);

    memset(model, 'm', sizeof(model));
    fill(&r, "t", "m", NULL);
    r.model.data = model;
    r.model.len = sizeof(model);
    CHECK_EQ_SIZE(aigw_record_size(&r), 0);

    fill(&r, "t", "m", "1024x1024");            /* no quality */
    CHECK_EQ_SIZE(aigw_record_size(&r), 0);
    fill(&r, "t", "m", ":standard");
    CHECK_EQ_SIZE(aigw_record_size(&r), 0);
    fill(&r, "t", "m", "a:b:c");
    CHECK_EQ_SIZE(aigw_record_size(&r), 0);
    fill(&r, "t", "m", "a b:c");
    CHECK_EQ_SIZE(aigw_record_size(&r), 0);

    CHECK(aigw_record_class_valid("512x512:standard", 16));
    CHECK(aigw_record_class_valid("", 0));
    CHECK(!aigw_record_class_valid("512x512:", 8));

    /* truncated: not yet a record */
    fill(&r, "team-a", "model.x", NULL);
    size = aigw_record_encode(buf, &r);

    for (i = 0; i < size; i++) {
        CHECK_EQ_SIZE(aigw_record_decode(buf, i, &d), 0);
    }

    /* every flipped byte is caught (by the CRC or the lengths) */
    for (i = 0; i < size; i++) {
        buf[i] ^= 0x40;
        CHECK(aigw_record_decode(buf, size, &d) != size);
        buf[i] ^= 0x40;
    }

    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), size);

    /* a length below the minimum, above the maximum */
    buf[0] = 4; buf[1] = 0; buf[2] = 0; buf[3] = 0;
    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), (size_t) -1);
    buf[0] = 0xff; buf[1] = 0xff; buf[2] = 0xff; buf[3] = 0x7f;
    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), (size_t) -1);
}


static void
test_set_seq(void)
{
    size_t          size;
    unsigned char   buf[AIGW_RECORD_MAX];
    aigw_record_t   r, d;

    fill(&r, "team-a", "m.x", "512x512:standard");
    r.seq = 0;
    size = aigw_record_encode(buf, &r);

    aigw_record_set_seq(buf, 424242);
    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), size);
    CHECK_EQ(d.seq, 424242);
    CHECK_MEM(d.image_class.data, d.image_class.len, "512x512:standard", 16);

    /* a dead letter's own stream */
    aigw_record_set_stream(buf, (const unsigned char *) "0123456789abcdef",
                           7);
    CHECK_EQ_SIZE(aigw_record_decode(buf, size, &d), size);
    CHECK_EQ(d.seq, 7);
    CHECK_MEM(d.stream, AIGW_STREAM_ID_LEN, "0123456789abcdef", 16);
}


/* a counter over the bound is not encoded: the module clamps first */

static void
test_bounds(void)
{
    size_t          i;
    unsigned char   buf[AIGW_RECORD_MAX];
    aigw_record_t   r;

    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        fill(&r, "team-a", "m.x", NULL);
        r.v[i] = AIGW_RECORD_VALUE_MAX;
        CHECK(aigw_record_encode(buf, &r) > 0);

        r.v[i] = AIGW_RECORD_VALUE_MAX + 1;
        CHECK_EQ_SIZE(aigw_record_size(&r), 0);
        CHECK_EQ_SIZE(aigw_record_encode(buf, &r), 0);

        r.v[i] = 10000000000000000000ULL;
        CHECK_EQ_SIZE(aigw_record_size(&r), 0);
    }

    /* a batch (512 records) at the bound sums exactly in a double */
    CHECK(512.0 * (double) AIGW_RECORD_VALUE_MAX < 9007199254740992.0);
}


static void
test_script(void)
{
    char  sha[41];

    aigw_record_script_sha1(sha);
    CHECK_EQ_SIZE(strlen(sha), 40);

    /* the arguments the script reads per record */
    CHECK(strstr(aigw_record_script, "for i = 5 + ns, #ARGV, 16 do")
          != NULL);
    CHECK(strstr(aigw_record_script, "8796093022208") != NULL);
    CHECK_EQ(AIGW_RECORD_ARGS, 16);
    CHECK(strstr(aigw_record_script, "'images:' .. class") != NULL);
}


int
main(void)
{
    test_roundtrip();
    test_invalid();
    test_set_seq();
    test_bounds();
    test_script();

    return unit_done("test_record");
}
