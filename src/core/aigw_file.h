
/*
 * aigw: reading a whole file, the one way the core's callers read the
 * configuration files (tenants, pricing, credentials) at load time.  No
 * nginx headers: the module calls it while it reads its configuration,
 * the command-line tool whenever it needs a file.
 */

#ifndef AIGW_FILE_H
#define AIGW_FILE_H


#include <stddef.h>


#define AIGW_FILE_ERR_LEN        128         /* enough for any message */


/*
 * The whole of the regular file "path", of at most "max" bytes: a
 * malloc()ed copy, NUL-terminated (the caller frees it), its length
 * without the NUL in "*len".  NULL on error, with a message in "err"
 * (NUL-terminated, truncated to "err_size") that does not repeat the
 * path: "open() failed (2: No such file or directory)", "not a regular
 * file", "larger than 64 MB", "read() failed (...)", "out of memory";
 * errno is kept from the system call that failed, else EINVAL (not a
 * regular file), EFBIG (too large) or ENOMEM.
 */
char *aigw_file_read(const char *path, size_t max, size_t *len, char *err,
    size_t err_size);

/*
 * The same from an open descriptor of any kind (a pipe, /dev/null, a file
 * held locked), to its end; the descriptor is left open.  What is dropped
 * on the way (a buffer outgrown, a failure) is zeroed first: the files
 * read may hold secrets.
 */
char *aigw_file_read_fd(int fd, size_t max, size_t *len, char *err,
    size_t err_size);


#endif /* AIGW_FILE_H */
