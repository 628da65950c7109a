
/*
 * aigw: the command-line tool's one way to read a whole file (the
 * pricing and tenants files, the AWS credentials and config files, web
 * identity tokens, the tenants file "aigw key" rewrites), and the pricing
 * and tenants files loaded with it.
 *
 * The reading itself is the core's (aigw_file.h), which zeroes what it
 * drops on the way: the buffers may hold secrets.  Here: the errno
 * values the callers turn into their messages, and files of any kind
 * (a pipe, /dev/null) where the AWS tools read them.
 */

#ifndef AIGW_CLI_FILE_H
#define AIGW_CLI_FILE_H


#include <stddef.h>

#include "aigw_pricing.h"
#include "aigw_tenants.h"


/* refuse anything but a regular file (EINVAL) */
#define AIGW_CLI_FILE_REGULAR   0x1


/*
 * The whole file, at most "max" bytes: malloc()ed and NUL-terminated, its
 * length in *len; NULL with an errno value in *errnum (the open()'s or
 * read()'s, EFBIG when larger than "max", EINVAL when not a regular file
 * and AIGW_CLI_FILE_REGULAR is given, ENOMEM).
 */
char *aigw_cli_file_read(const char *path, unsigned flags, size_t max,
    size_t *len, int *errnum);

/* the same, from an open descriptor, to its end */
char *aigw_cli_fd_read(int fd, size_t max, size_t *len, int *errnum);

/*
 * The pricing and tenants files, read whole and parsed; NULL with a
 * message that names the file.
 */
aigw_pricing_t *aigw_cli_pricing_load(const char *path, char *err,
    size_t err_size);
aigw_tenants_t *aigw_cli_tenants_load(const char *path, char *err,
    size_t err_size);


#endif /* AIGW_CLI_FILE_H */
