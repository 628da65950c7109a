
/*
 * aigw: usage records (see aigw_record.h).
 */


#include <string.h>

#include "aigw_eventstream.h"
#include "aigw_record.h"
#include "aigw_util.h"


const char  *aigw_record_fields[AIGW_RECORD_FIELDS] = {
    "requests",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_write_input_tokens",
    "images",
    "errors",
    "throttled",
    "latency_ms_sum",
    "cost_nanousd"
};


/*
 * the counting script: src/lua/aigw_record.lua, embedded by the build
 * (src/lua/embed.sh writes aigw_record_lua.h from it)
 */

const char  aigw_record_script[] = {
#include "aigw_record_lua.h"
};


static void aigw_put32(unsigned char *p, uint32_t v);
static void aigw_put64(unsigned char *p, uint64_t v);
static uint32_t aigw_get32(const unsigned char *p);
static uint64_t aigw_get64(const unsigned char *p);


size_t
aigw_record_size(const aigw_record_t *r)
{
    size_t  i;

    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        if (r->v[i] > AIGW_RECORD_VALUE_MAX) {
            return 0;
        }
    }

    if (r->tenant.len == 0 || r->tenant.len > AIGW_RECORD_TENANT_MAX
        || r->model.len == 0 || r->model.len > AIGW_RECORD_MODEL_MAX
        || !aigw_record_class_valid(r->image_class.data,
                                    r->image_class.len))
    {
        return 0;
    }

    return AIGW_RECORD_HEAD + AIGW_DATE_LEN + 1 + r->tenant.len + 2
           + r->model.len + 1 + r->image_class.len + 8 * AIGW_RECORD_FIELDS;
}


/* empty, or "SIZE:QUALITY", each [A-Za-z0-9_.-]+ */

int
aigw_record_class_valid(const char *p, size_t len)
{
    size_t  i, colon;

    if (len == 0) {
        return 1;
    }

    if (len > AIGW_RECORD_CLASS_MAX) {
        return 0;
    }

    colon = 0;

    for (i = 0; i < len; i++) {
        if (p[i] == ':') {
            if (colon || i == 0 || i == len - 1) {
                return 0;
            }

            colon = i;
            continue;
        }

        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')
              || (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '.'
              || p[i] == '-'))
        {
            return 0;
        }
    }

    return colon != 0;
}


size_t
aigw_record_encode(unsigned char *dst, const aigw_record_t *r)
{
    size_t          i, size;
    unsigned char  *p;

    size = aigw_record_size(r);
    if (size == 0) {
        return 0;
    }

    p = dst;

    aigw_put32(p, (uint32_t) size);
    p += 8;                                     /* the CRC comes last */

    memcpy(p, r->stream, AIGW_STREAM_ID_LEN);
    p += AIGW_STREAM_ID_LEN;

    aigw_put64(p, r->seq);
    p += 8;

    memcpy(p, r->date, AIGW_DATE_LEN);
    p += AIGW_DATE_LEN;

    *p++ = (unsigned char) r->tenant.len;
    memcpy(p, r->tenant.data, r->tenant.len);
    p += r->tenant.len;

    *p++ = (unsigned char) (r->model.len & 0xff);
    *p++ = (unsigned char) (r->model.len >> 8);
    memcpy(p, r->model.data, r->model.len);
    p += r->model.len;

    *p++ = (unsigned char) r->image_class.len;
    if (r->image_class.len) {
        memcpy(p, r->image_class.data, r->image_class.len);
        p += r->image_class.len;
    }

    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        aigw_put64(p, r->v[i]);
        p += 8;
    }

    aigw_put32(dst + 4, aigw_crc32(0, dst + 8, size - 8));

    return size;
}


size_t
aigw_record_decode(const unsigned char *p, size_t avail, aigw_record_t *r)
{
    size_t                i, size, len;
    const unsigned char  *q, *end;

    if (avail < 8) {
        return 0;
    }

    size = aigw_get32(p);

    if (size < AIGW_RECORD_HEAD + AIGW_DATE_LEN + 1 + 1 + 2 + 1 + 1
                  + 8 * AIGW_RECORD_FIELDS
        || size > AIGW_RECORD_MAX)
    {
        return (size_t) -1;
    }

    if (avail < size) {
        return 0;
    }

    if (aigw_get32(p + 4) != aigw_crc32(0, p + 8, size - 8)) {
        return (size_t) -1;
    }

    end = p + size;
    q = p + 8;

    memcpy(r->stream, q, AIGW_STREAM_ID_LEN);
    q += AIGW_STREAM_ID_LEN;

    r->seq = aigw_get64(q);
    q += 8;

    memcpy(r->date, q, AIGW_DATE_LEN);
    q += AIGW_DATE_LEN;

    len = *q++;
    if (len == 0 || len > AIGW_RECORD_TENANT_MAX || end - q < (ptrdiff_t) len)
    {
        return (size_t) -1;
    }

    r->tenant.data = (const char *) q;
    r->tenant.len = len;
    q += len;

    if (end - q < 2) {
        return (size_t) -1;
    }

    len = q[0] | ((size_t) q[1] << 8);
    q += 2;

    if (len == 0 || len > AIGW_RECORD_MODEL_MAX
        || end - q < (ptrdiff_t) (len + 1 + 8 * AIGW_RECORD_FIELDS))
    {
        return (size_t) -1;
    }

    r->model.data = (const char *) q;
    r->model.len = len;
    q += len;

    len = *q++;

    if (end - q != (ptrdiff_t) (len + 8 * AIGW_RECORD_FIELDS)) {
        return (size_t) -1;
    }

    r->image_class.data = (const char *) q;
    r->image_class.len = len;
    q += len;

    if (!aigw_record_class_valid(r->image_class.data, len)) {
        return (size_t) -1;
    }

    for (i = 0; i < AIGW_RECORD_FIELDS; i++) {
        r->v[i] = aigw_get64(q);
        q += 8;
    }

    return size;
}


void
aigw_record_set_seq(unsigned char *p, uint64_t seq)
{
    size_t  size;

    size = aigw_get32(p);

    aigw_put64(p + 8 + AIGW_STREAM_ID_LEN, seq);
    aigw_put32(p + 4, aigw_crc32(0, p + 8, size - 8));
}


void
aigw_record_set_stream(unsigned char *p,
    const unsigned char stream[AIGW_STREAM_ID_LEN], uint64_t seq)
{
    memcpy(p + 8, stream, AIGW_STREAM_ID_LEN);
    aigw_record_set_seq(p, seq);
}


void
aigw_record_script_sha1(char out[41])
{
    aigw_sha1_hex(out, aigw_record_script, sizeof(aigw_record_script) - 1);
}


static void
aigw_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) v;
    p[1] = (unsigned char) (v >> 8);
    p[2] = (unsigned char) (v >> 16);
    p[3] = (unsigned char) (v >> 24);
}


static void
aigw_put64(unsigned char *p, uint64_t v)
{
    aigw_put32(p, (uint32_t) v);
    aigw_put32(p + 4, (uint32_t) (v >> 32));
}


static uint32_t
aigw_get32(const unsigned char *p)
{
    return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
           | ((uint32_t) p[3] << 24);
}


static uint64_t
aigw_get64(const unsigned char *p)
{
    return (uint64_t) aigw_get32(p) | ((uint64_t) aigw_get32(p + 4) << 32);
}
