
/*
 * aigw: a growable byte buffer (see aigw_buf.h).
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aigw_buf.h"


void
aigw_buf_init(aigw_buf_t *b)
{
    memset(b, 0, sizeof(aigw_buf_t));
}


void
aigw_buf_free(aigw_buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(aigw_buf_t));
}


void
aigw_buf_add(aigw_buf_t *b, const void *p, size_t len)
{
    char    *data;
    size_t   size;

    if (b->failed) {
        return;
    }

    if (b->len + len + 1 > b->size) {
        size = b->size ? b->size : 256;

        while (size < b->len + len + 1) {
            size *= 2;
        }

        data = realloc(b->data, size);
        if (data == NULL) {
            b->failed = 1;
            return;
        }

        b->data = data;
        b->size = size;
    }

    if (len) {
        memcpy(b->data + b->len, p, len);
    }

    b->len += len;
    b->data[b->len] = '\0';
}


void
aigw_buf_str(aigw_buf_t *b, const char *s)
{
    aigw_buf_add(b, s, strlen(s));
}


void
aigw_buf_printf(aigw_buf_t *b, const char *fmt, ...)
{
    int      n;
    char     small[256];
    char    *big;
    va_list  args;

    va_start(args, fmt);
    n = vsnprintf(small, sizeof(small), fmt, args);
    va_end(args);

    if (n < 0) {
        b->failed = 1;
        return;
    }

    if ((size_t) n < sizeof(small)) {
        aigw_buf_add(b, small, (size_t) n);
        return;
    }

    big = malloc((size_t) n + 1);
    if (big == NULL) {
        b->failed = 1;
        return;
    }

    va_start(args, fmt);
    vsnprintf(big, (size_t) n + 1, fmt, args);
    va_end(args);

    aigw_buf_add(b, big, (size_t) n);
    free(big);
}
