
/*
 * aigw: the request path parser and the model ID validator on any bytes.
 * Input: a byte choosing the service, then the path.  Checked: an ID the
 * path parser returns lies inside the path; the decoded ID passes
 * aigw_target_check_id(); the upstream path has the length
 * aigw_target_upstream_path() computes without writing, and re-parses to
 * the same operation and ID; aigw_uri_decode() undoes aigw_uri_encode().
 */

#include "fuzz.h"
#include "aigw_target.h"
#include "aigw_util.h"


static void
check_id(const aigw_op_t *op, const char *raw, size_t len)
{
    char              *id, *up, *dec;
    size_t             n, m, k;
    aigw_str_t         raw2;
    const char        *reason;
    const aigw_op_t   *op2;
    aigw_target_rc_e   rc;

    id = malloc(len ? len : 1);
    FUZZ_CHECK(id != NULL);

    reason = NULL;
    n = aigw_target_decode_id(op->service, id, raw, len, &reason);

    if (n == (size_t) -1) {
        FUZZ_CHECK(reason != NULL);
        free(id);
        return;
    }

    FUZZ_CHECK(n <= len);
    FUZZ_CHECK(aigw_target_check_id(op->service, id, n) == NULL);

    m = aigw_target_upstream_path(NULL, op, id, n);
    up = malloc(m + 1);
    FUZZ_CHECK(up != NULL);
    FUZZ_CHECK(aigw_target_upstream_path(up, op, id, n) == m);

    rc = aigw_target_parse_path(up, m, &op2, &raw2, &reason);
    FUZZ_CHECK(rc == AIGW_TARGET_OK);
    FUZZ_CHECK(op2 == op);

    dec = malloc(raw2.len ? raw2.len : 1);
    FUZZ_CHECK(dec != NULL);
    k = aigw_target_decode_id(op->service, dec, raw2.data, raw2.len,
                              &reason);
    FUZZ_CHECK(k == n && memcmp(dec, id, n) == 0);

    free(dec);
    free(up);
    free(id);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char               *enc, *dec, host[256];
    size_t              n, m;
    unsigned            service, cap;
    fuzz_in_t           in;
    aigw_str_t          raw;
    const char         *path, *reason;
    const aigw_op_t    *op;
    aigw_target_rc_e    rc;

    in.p = data;
    in.len = size;
    service = fuzz_byte(&in) % 3;
    cap = fuzz_byte(&in);
    path = (const char *) in.p;

    reason = NULL;
    op = NULL;
    rc = aigw_target_parse_path(path, in.len, &op, &raw, &reason);

    switch (rc) {

    case AIGW_TARGET_OK:
        FUZZ_CHECK(op != NULL);
        FUZZ_CHECK(raw.data >= path && raw.data + raw.len <= path + in.len);
        check_id(op, raw.data, raw.len);
        break;

    case AIGW_TARGET_NOT_FOUND:
        break;

    default:
        FUZZ_CHECK(reason != NULL);
        break;
    }

    /* the validator on any bytes, as a decoded ID */
    if (aigw_target_check_id((aigw_service_e) service, path, in.len)
        == NULL)
    {
        FUZZ_CHECK(service != AIGW_SERVICE_NONE);
        FUZZ_CHECK(in.len > 0 && in.len <= AIGW_MODEL_ID_MAX);
    }

    /* URI encoding both ways */
    m = aigw_uri_encode(NULL, path, in.len, service & 1);
    enc = malloc(m + 1);
    dec = malloc(m + 1);
    FUZZ_CHECK(enc != NULL && dec != NULL);
    FUZZ_CHECK(aigw_uri_encode(enc, path, in.len, service & 1) == m);
    n = aigw_uri_decode(dec, enc, m);
    FUZZ_CHECK(n == in.len && memcmp(dec, path, n) == 0);
    (void) aigw_uri_decode(dec, path, in.len);
    free(enc);
    free(dec);

    /* the default host of a region */
    n = aigw_target_default_host(host, cap, (aigw_service_e) service, path,
                                 in.len);
    FUZZ_CHECK(n < cap || n == 0);

    if (n) {
        FUZZ_CHECK(strlen(host) == n);
    }

    return 0;
}
