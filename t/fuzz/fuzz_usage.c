
/*
 * aigw: usage extraction from a response, any bytes.  Input:
 *
 *     op, format, model, status, "complete" (1 byte each), 8 bytes of
 *     seed, the number of headers (1 byte), then per header a name index
 *     and a value length (1 byte each) and the value; the length of the
 *     request body (2 bytes) and the request body; the response body.
 *
 * The request body and the response body are fed whole, one byte at a
 * time and in pieces: the usage and the anomalies must be the same.
 */

#include "fuzz.h"
#include "usage_common.h"


static const char  *header_names[] = {
    "Content-Type",
    "X-Amzn-Bedrock-Input-Token-Count",
    "X-Amzn-Bedrock-Output-Token-Count",
    "X-Amzn-Bedrock-Cache-Read-Input-Token-Count",
    "X-Amzn-Bedrock-Cache-Write-Input-Token-Count",
    "x-amzn-ErrorType",
    "X-Amzn-Invoked-Production-Variant",
    "content-type"
};

#define NHEADER_NAMES  (sizeof(header_names) / sizeof(header_names[0]))


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char          whole[FUZZ_USAGE_TEXT], bytes[FUZZ_USAGE_TEXT],
                  pieces[FUZZ_USAGE_TEXT];
    size_t        i, n;
    fuzz_in_t     in;
    fuzz_resp_t   r;

    memset(&r, 0, sizeof(r));

    in.p = data;
    in.len = size;

    fuzz_usage_params(&in, &r);

    n = fuzz_byte(&in) % (FUZZ_USAGE_HEADERS + 1);

    for (i = 0; i < n; i++) {
        r.headers[i].name = header_names[fuzz_byte(&in) % NHEADER_NAMES];
        r.headers[i].value_len = fuzz_take(&in, fuzz_byte(&in),
                                           &r.headers[i].value);
    }

    r.nheaders = n;
    r.req_len = fuzz_take(&in, fuzz_u64(&in, 2), &r.req);
    r.body = in.p;
    r.len = in.len;

    fuzz_usage_run(&r, FUZZ_WHOLE, whole);
    fuzz_usage_run(&r, FUZZ_BYTES, bytes);
    fuzz_usage_run(&r, FUZZ_PIECES, pieces);

    FUZZ_SAME("byte by byte", whole, bytes);
    FUZZ_SAME("pieces", whole, pieces);

    return 0;
}
