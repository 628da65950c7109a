
/*
 * aigw: CSV fields (see aigw_csv.h).
 */


#include <string.h>

#include "aigw_csv.h"


int
aigw_csv_needs_quotes(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') {
            return 1;
        }
    }

    return 0;
}


size_t
aigw_csv_field(char *dst, const char *s, size_t len)
{
    size_t  i, n;

    if (!aigw_csv_needs_quotes(s, len)) {
        if (dst && len) {
            memcpy(dst, s, len);
        }

        return len;
    }

    n = 0;

    if (dst) {
        dst[n] = '"';
    }

    n++;

    for (i = 0; i < len; i++) {
        if (s[i] == '"') {
            if (dst) {
                dst[n] = '"';
            }

            n++;
        }

        if (dst) {
            dst[n] = s[i];
        }

        n++;
    }

    if (dst) {
        dst[n] = '"';
    }

    return n + 1;
}
