
/*
 * aigw: the tenants file parser, then what the gateway asks of its
 * result.  Input: a byte of the error buffer's size, a presented key up
 * to a NUL byte, a model ID up to a NUL byte, then the file's text.
 * Checked: an error comes with a NUL-terminated message that fits
 * AIGW_TENANTS_ERR_LEN; every tenant and key is found by its id; the
 * key is authenticated, the model and its inference profile looked up
 * for every tenant; the glob matcher and the key splitter on any bytes.
 */

#include "fuzz.h"
#include "aigw_tenants.h"
#include "aigw_util.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char                  err[AIGW_TENANTS_ERR_LEN], *text;
    size_t                i, j, k, n, key_len, model_len, err_size;
    fuzz_in_t             in;
    aigw_str_t            id;
    const char           *key, *model;
    aigw_tenants_t       *ts;
    const aigw_key_t     *found;
    const aigw_tenant_t  *t, *tenant;
    aigw_auth_rc_e        rc;

    in.p = data;
    in.len = size;
    err_size = 1 + fuzz_byte(&in) * 2;
    if (err_size > sizeof(err)) {
        err_size = sizeof(err);
    }

    key_len = fuzz_field(&in, 0, &key);
    model_len = fuzz_field(&in, 0, &model);

    text = malloc(in.len ? in.len : 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, in.p, in.len);

    memset(err, 0x7f, sizeof(err));
    ts = aigw_tenants_parse(text, in.len, err, err_size);

    if (ts == NULL) {
        FUZZ_CHECK(memchr(err, '\0', err_size) != NULL);

        if (err_size == sizeof(err)) {
            /* never truncated at the full size: ends before the end */
            FUZZ_CHECK(strlen(err) < sizeof(err) - 1);
            FUZZ_CHECK(strlen(err) > 0);
        }
    }

    /* the result holds no reference to the text */
    memset(text, 0, in.len);
    free(text);

    n = aigw_tenants_count(ts);
    k = 0;

    for (i = 0; i < n; i++) {
        t = aigw_tenants_get(ts, i);
        FUZZ_CHECK(aigw_tenant_id_valid(t->id.data, t->id.len));
        FUZZ_CHECK(aigw_tenants_find(ts, t->id.data, t->id.len) == t);

        for (j = 0; j < t->nkeys; j++) {
            FUZZ_CHECK(aigw_tenants_find_key(ts, t->keys[j].id.data,
                                             t->keys[j].id.len)
                       == &t->keys[j]);
            FUZZ_CHECK(t->keys[j].tenant == t);
            k++;
        }

        (void) aigw_tenant_model_allowed(t, model, model_len);
        (void) aigw_tenant_inference_profile(t, model, model_len);
    }

    FUZZ_CHECK(k == aigw_tenants_key_count(ts));

    rc = aigw_tenants_authenticate(ts, key, key_len, &tenant, &found);

    if (rc == AIGW_AUTH_OK) {
        FUZZ_CHECK(tenant != NULL && found != NULL);
        FUZZ_CHECK(found->tenant == tenant);

    } else {
        FUZZ_CHECK(tenant == NULL && found == NULL);
    }

    if (aigw_key_parse(key, key_len, &id) == 0) {
        FUZZ_CHECK(id.data >= key && id.data + id.len <= key + key_len);
        FUZZ_CHECK(aigw_key_id_valid(id.data, id.len));

    } else {
        FUZZ_CHECK(rc == AIGW_AUTH_MALFORMED);
    }

    (void) aigw_glob_match(key, key_len, model, model_len);

    aigw_tenants_free(ts);

    return 0;
}
