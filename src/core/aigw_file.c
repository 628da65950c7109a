
/*
 * aigw: reading a whole file (see aigw_file.h).
 */


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
    char        *text, *p;
    size_t       size, got;
    ssize_t      n;
    struct stat  st;

    if (err_size) {
        err[0] = '\0';
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        e = errno;
        aigw_file_error(err, err_size, "open()", e);
        errno = e;
        return NULL;
    }

    text = NULL;

    if (fstat(fd, &st) == -1) {
        aigw_file_error(err, err_size, "fstat()", errno);
        goto failed;
    }

    if (!S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "not a regular file");
        errno = EINVAL;
        goto failed;
    }

    if ((unsigned long long) st.st_size > max) {
        aigw_file_too_large(err, err_size, max);
        goto failed;
    }

    /*
     * The size is a hint: the file may change while it is read.  One
     * byte more than it announces tells a file that grew.
     */

    size = (size_t) st.st_size + 1;

    text = malloc(size + 1);
    if (text == NULL) {
        snprintf(err, err_size, "out of memory");
        goto failed;
    }

    got = 0;

    for ( ;; ) {
        if (got == size) {
            if (size > max) {
                aigw_file_too_large(err, err_size, max);
                goto failed;
            }

            size = (2 * size > max + 1) ? max + 1 : 2 * size;

            p = realloc(text, size + 1);
            if (p == NULL) {
                snprintf(err, err_size, "out of memory");
                goto failed;
            }

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

    if (got > max) {
        aigw_file_too_large(err, err_size, max);
        goto failed;
    }

    (void) close(fd);

    text[got] = '\0';
    *len = got;

    return text;

failed:

    e = errno;
    free(text);
    (void) close(fd);
    errno = e;

    return NULL;
}


static void
aigw_file_error(char *err, size_t err_size, const char *call, int e)
{
    snprintf(err, err_size, "%s failed (%d: %s)", call, e, strerror(e));
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
