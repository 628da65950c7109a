
/*
 * aigw: reading whole files in the command-line tool (see aigw_cli_file.h).
 */


#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "aigw_cli_file.h"
#include "aigw_file.h"


/* the pricing and tenants files */
#define AIGW_CLI_CONFIG_MAX     (256 * 1024 * 1024)


static char *aigw_cli_config_read(const char *path, size_t *len, char *err,
    size_t err_size);
static void aigw_cli_config_done(char *text, size_t len, const char *msg,
    const char *path, char *err, size_t err_size);


char *
aigw_cli_file_read(const char *path, unsigned flags, size_t max,
    size_t *len, int *errnum)
{
    int    fd;
    char  *text, msg[AIGW_FILE_ERR_LEN];

    if (flags & AIGW_CLI_FILE_REGULAR) {
        text = aigw_file_read(path, max, len, msg, sizeof(msg));
        *errnum = errno;
        return text;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *errnum = errno;
        return NULL;
    }

    text = aigw_file_read_fd(fd, max, len, msg, sizeof(msg));
    *errnum = errno;
    close(fd);

    return text;
}


char *
aigw_cli_fd_read(int fd, size_t max, size_t *len, int *errnum)
{
    char  *text, msg[AIGW_FILE_ERR_LEN];

    text = aigw_file_read_fd(fd, max, len, msg, sizeof(msg));
    *errnum = errno;

    return text;
}


aigw_pricing_t *
aigw_cli_pricing_load(const char *path, char *err, size_t err_size)
{
    char            *text, msg[AIGW_PRICING_ERR_LEN];
    size_t           len;
    aigw_pricing_t  *p;

    text = aigw_cli_config_read(path, &len, err, err_size);
    if (text == NULL) {
        return NULL;
    }

    p = aigw_pricing_parse(text, len, msg, sizeof(msg));
    aigw_cli_config_done(text, len, p ? NULL : msg, path, err, err_size);

    return p;
}


aigw_tenants_t *
aigw_cli_tenants_load(const char *path, char *err, size_t err_size)
{
    char            *text, msg[AIGW_TENANTS_ERR_LEN];
    size_t           len;
    aigw_tenants_t  *ts;

    text = aigw_cli_config_read(path, &len, err, err_size);
    if (text == NULL) {
        return NULL;
    }

    ts = aigw_tenants_parse(text, len, msg, sizeof(msg));
    aigw_cli_config_done(text, len, ts ? NULL : msg, path, err, err_size);

    return ts;
}


static char *
aigw_cli_config_read(const char *path, size_t *len, char *err,
    size_t err_size)
{
    int    e;
    char  *text;

    text = aigw_cli_file_read(path, AIGW_CLI_FILE_REGULAR,
                              AIGW_CLI_CONFIG_MAX, len, &e);

    if (text == NULL) {
        if (e == EINVAL) {
            snprintf(err, err_size, "\"%s\": not a regular file", path);

        } else if (e == EFBIG) {
            snprintf(err, err_size, "\"%s\": over %d MB", path,
                     AIGW_CLI_CONFIG_MAX >> 20);

        } else {
            snprintf(err, err_size, "\"%s\": %s", path, strerror(e));
        }
    }

    return text;
}


/* the text dropped (zeroed: a tenants file holds the keys' hashes), and
 * the parser's message, if any, prefixed with the file */

static void
aigw_cli_config_done(char *text, size_t len, const char *msg,
    const char *path, char *err, size_t err_size)
{
    explicit_bzero(text, len);
    free(text);

    if (msg) {
        snprintf(err, err_size, "\"%s\": %s", path, msg);
    }
}
