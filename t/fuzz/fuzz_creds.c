
/*
 * aigw: the AWS shared credentials and config files.  Input: a byte (the
 * kind of file), the profile name up to a NUL byte, then the text.
 * Checked: the result is 1, 0 or -1 (with a line number); the values of
 * a profile found lie inside the text.
 */

#include "fuzz.h"
#include "aigw_creds.h"


static void
inside(const aigw_str_t *s, const char *text, size_t len)
{
    if (s->len) {
        FUZZ_CHECK(s->data >= text && s->data + s->len <= text + len);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int              rc;
    char            *text;
    size_t           name_len;
    unsigned         line;
    fuzz_in_t        in;
    const char      *name;
    aigw_profile_t   prof;
    aigw_ini_kind_e  kind;

    in.p = data;
    in.len = size;
    kind = (fuzz_byte(&in) & 1) ? AIGW_INI_CONFIG : AIGW_INI_CREDENTIALS;
    name_len = fuzz_field(&in, 0, &name);

    /* the text in a buffer of its size */
    text = malloc(in.len ? in.len : 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, in.p, in.len);

    line = 0;
    memset(&prof, 0, sizeof(prof));

    rc = aigw_ini_profile(text, in.len, kind, name, name_len, &prof, &line);

    FUZZ_CHECK(rc == 1 || rc == 0 || rc == -1);

    if (rc == -1) {
        FUZZ_CHECK(line > 0);
    }

    if (rc == 1) {
        inside(&prof.access_key, text, in.len);
        inside(&prof.secret_key, text, in.len);
        inside(&prof.session_token, text, in.len);
        inside(&prof.region, text, in.len);

        /* the name of a setting aigw does not support: a static string */
        if (prof.unsupported.len) {
            FUZZ_CHECK(strlen(prof.unsupported.data)
                       == prof.unsupported.len);
        }
    }

    free(text);

    return 0;
}
