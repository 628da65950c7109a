
/*
 * aigw: a growable byte buffer, always NUL-terminated, used by the
 * commands to build their output and by the transport for responses.
 * An allocation failure sets "failed" and makes later additions no-ops:
 * check it once, at the end.
 */

#ifndef AIGW_BUF_H
#define AIGW_BUF_H


#include <stddef.h>


typedef struct {
    char    *data;
    size_t   len;
    size_t   size;
    int      failed;                /* an allocation failed */
} aigw_buf_t;


void aigw_buf_init(aigw_buf_t *b);
void aigw_buf_free(aigw_buf_t *b);
void aigw_buf_add(aigw_buf_t *b, const void *p, size_t len);
void aigw_buf_str(aigw_buf_t *b, const char *s);
void aigw_buf_printf(aigw_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


#endif /* AIGW_BUF_H */
