
/*
 * aigw: reading a whole file (see aigw_file.h).
 */


#ifndef _GNU_SOURCE
#define _GNU_SOURCE                 /* explicit_bzero() */
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "aigw_file.h"


#define AIGW_MB                  (1024 * 1024)


static void aigw_file_error(char *err, size_t err_size, const char *call,
    int e);
static void aigw_file_too_large(char *err, size_t err_size, size_t max);


char *
aigw_file_read(const char *path, size_t max, size_t *len, char *err,
    size_t err_size)
{
    int          fd, e;
    char        *text;
    struct stat  st;

    if (err_size) {
        err[0] = '\0';
    }

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd == -1) {
        e = errno;
        aigw_file_error(err, err_size, "open()", e);
        errno = e;
        return NULL;
    }

    text = NULL;

    if (fstat(fd, &st) == -1) {
        aigw_file_error(err, err_size, "fstat()", errno);

    } else if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "not a regular file");
        errno = EINVAL;

    } else {
        text = aigw_file_read_fd(fd, max, len, err, err_size);
    }

    e = errno;
    (void) close(fd);
    errno = e;

    return text;
}


char *
aigw_file_read_fd(int fd, size_t max, size_t *len, char *err,
    size_t err_size)
{
    int          e;
    char        *text, *p;
    size_t       size, got;
    ssize_t      n;
    struct stat  st;

    if (err_size) {
        err[0] = '\0';
    }

    /*
     * A regular file's size is a hint (it may change while it is read):
     * one byte more than it tells a file that grew, and one far too big
     * is refused before any allocation.  Anything else grows from 4 KB.
     */

    size = 4096;

    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((unsigned long long) st.st_size > max) {
            aigw_file_too_large(err, err_size, max);
            return NULL;
        }

        size = (size_t) st.st_size + 1;
    }

    if (size > max + 1) {
        size = max + 1;
    }

    text = malloc(size + 1);
    if (text == NULL) {
        snprintf(err, err_size, "out of memory");
        errno = ENOMEM;
        return NULL;
    }

    got = 0;

    for ( ;; ) {
        if (got == size) {
            if (size > max) {
                aigw_file_too_large(err, err_size, max);
                goto failed;
            }

            size = (size > max / 2) ? max + 1 : 2 * size;

            /* not realloc(): what is left behind is zeroed first */

            p = malloc(size + 1);
            if (p == NULL) {
                snprintf(err, err_size, "out of memory");
                errno = ENOMEM;
                goto failed;
            }

            memcpy(p, text, got);
            explicit_bzero(text, got);
            free(text);
            text = p;
        }

        n = read(fd, text + got, size - got);

        if (n == -1) {
            if (errno == EINTR) {
                continue;
            }

            aigw_file_error(err, err_size, "read()", errno);
            goto failed;
        }

        if (n == 0) {
            break;
        }

        got += (size_t) n;
    }

    text[got] = '\0';
    *len = got;

    return text;

failed:

    e = errno;
    explicit_bzero(text, got);
    free(text);
    errno = e;

    return NULL;
}


static void
aigw_file_error(char *err, size_t err_size, const char *call, int e)
{
    snprintf(err, err_size, "%s failed (%d: %s)", call, e, strerror(e));
    errno = e;
}


static void
aigw_file_too_large(char *err, size_t err_size, size_t max)
{
    if (max && max % AIGW_MB == 0) {
        snprintf(err, err_size, "larger than %zu MB", max / AIGW_MB);

    } else {
        snprintf(err, err_size, "larger than %zu bytes", max);
    }

    errno = EFBIG;
}
