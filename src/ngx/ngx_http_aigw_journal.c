
/*
 * ngx_http_aigw_module: the journal of usage records.
 *
 * When Redis is away longer than the queue can hold, records go to files
 * in the journal directory, named so that sorting them gives the order in
 * which their records must be counted:
 *
 *     TARGET-STREAM-FIRSTSEQ-PID.aigwj
 *
 * TARGET is the tag of the Redis target (address, db, prefix) they are
 * to be counted into: a drainer replays only its own target's files, so
 * that nginx instances sharing a directory keep their counts apart.
 *
 * A spill of queued records is written whole under a hidden name, then
 * renamed: it appears complete or not at all.  A worker whose queue was
 * full appends records to its own overflow file, under an exclusive
 * lock it never waits for: a file whose lock is taken is being claimed,
 * and the writer starts a new file.  To replay a file, the drainer
 * renames it aside (".replaying": a writer opening the old name starts a
 * new file) and tries its lock: a writer in the middle of an append
 * holds it, and the drainer comes back a moment later.  Once its records
 * are counted the file is removed.  Replaying a file again after a crash
 * is harmless: Redis skips records it has counted.
 *
 * Records Redis refuses (aigw_record.h) go to a dead-letter file,
 * TARGET-STREAM-1-PID.aigwdead, under a stream of their own: never
 * replayed on its own, it is counted once renamed to ".aigwj" (after the
 * cause is fixed).
 */


#include <dirent.h>
#include <sys/file.h>

#include "ngx_http_aigw_counter.h"


#define NGX_HTTP_AIGW_JOURNAL_EXT        ".aigwj"
#define NGX_HTTP_AIGW_JOURNAL_DEAD       ".aigwdead"
#define NGX_HTTP_AIGW_JOURNAL_REPLAYING  ".replaying"
#define NGX_HTTP_AIGW_JOURNAL_TAG_LEN    16


static u_char *ngx_http_aigw_journal_name(ngx_http_aigw_redis_conf_t *rc,
    u_char *buf, u_char *stream, uint64_t first, const char *pre,
    const char *ext, const char *post);
static ngx_int_t ngx_http_aigw_journal_write_all(ngx_fd_t fd, u_char *p,
    size_t len);
static ngx_int_t ngx_http_aigw_journal_cmp(u_char *a, size_t alen, u_char *b,
    size_t blen);


#define NGX_HTTP_AIGW_JOURNAL_NAME_LEN                                       \
    (1 + 1 + NGX_HTTP_AIGW_JOURNAL_TAG_LEN + 1 + 2 * AIGW_STREAM_ID_LEN + 1   \
     + 20 + 1 + NGX_INT64_LEN + sizeof(NGX_HTTP_AIGW_JOURNAL_DEAD)           \
     + sizeof(".tmp"))


/* a spill of queued records: it appears whole or not at all */

ngx_int_t
ngx_http_aigw_journal_write(ngx_http_aigw_redis_conf_t *rc, u_char *records,
    size_t len, u_char *stream, uint64_t first, ngx_uint_t dead,
    ngx_log_t *log)
{
    const char  *ext;

    u_char    *tmp, *name;
    ngx_fd_t   fd;

    tmp = ngx_alloc(2 * (rc->journal->name.len
                         + NGX_HTTP_AIGW_JOURNAL_NAME_LEN), log);
    if (tmp == NULL) {
        return NGX_ERROR;
    }

    name = tmp + rc->journal->name.len + NGX_HTTP_AIGW_JOURNAL_NAME_LEN;

    ext = dead ? NGX_HTTP_AIGW_JOURNAL_DEAD : NGX_HTTP_AIGW_JOURNAL_EXT;

    (void) ngx_http_aigw_journal_name(rc, tmp, stream, first, ".", ext,
                                      ".tmp");
    (void) ngx_http_aigw_journal_name(rc, name, stream, first, "", ext, "");

    fd = ngx_open_file(tmp, NGX_FILE_WRONLY, NGX_FILE_TRUNCATE,
                       NGX_FILE_OWNER_ACCESS);

    if (fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "aigw: " ngx_open_file_n " \"%s\" failed", tmp);
        ngx_free(tmp);
        return NGX_ERROR;
    }

    if (ngx_http_aigw_journal_write_all(fd, records, len) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "aigw: writing the usage journal \"%s\" failed, "
                      "usage stays in the queue", tmp);
        (void) ngx_close_file(fd);
        (void) ngx_delete_file(tmp);
        ngx_free(tmp);
        return NGX_ERROR;
    }

    if (ngx_close_file(fd) == NGX_FILE_ERROR
        || ngx_rename_file(tmp, name) == NGX_FILE_ERROR)
    {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "aigw: saving the usage journal \"%s\" failed", name);
        (void) ngx_delete_file(tmp);
        ngx_free(tmp);
        return NGX_ERROR;
    }

    ngx_free(tmp);

    return NGX_OK;
}


/*
 * A record of this worker's overflow file, appended under its lock:
 * NGX_AGAIN when the lock is taken (the caller starts a new file)
 */

ngx_int_t
ngx_http_aigw_journal_append(ngx_http_aigw_redis_conf_t *rc, u_char *record,
    size_t len, u_char *stream, uint64_t first, ngx_log_t *log)
{
    u_char           *name;
    ngx_fd_t          fd;
    ngx_err_t         err;
    ngx_int_t         rc2;
    ngx_uint_t        tries;
    ngx_file_info_t   fi, ni;

    name = ngx_alloc(rc->journal->name.len + NGX_HTTP_AIGW_JOURNAL_NAME_LEN,
                     log);
    if (name == NULL) {
        return NGX_ERROR;
    }

    (void) ngx_http_aigw_journal_name(rc, name, stream, first, "",
                                      NGX_HTTP_AIGW_JOURNAL_EXT, "");

    rc2 = NGX_ERROR;

    for (tries = 0; tries < 8; tries++) {

        fd = ngx_open_file(name, NGX_FILE_APPEND,
                           NGX_FILE_CREATE_OR_OPEN,
                           NGX_FILE_OWNER_ACCESS);

        if (fd == NGX_INVALID_FILE) {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "aigw: " ngx_open_file_n " \"%s\" failed", name);
            break;
        }

        /*
         * never wait for the lock: whoever holds it (the drainer, which
         * claims the file) the caller starts a new file
         */

        if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
            err = ngx_errno;
            (void) ngx_close_file(fd);

            if (err == NGX_EAGAIN) {
                rc2 = NGX_AGAIN;
            }

            break;
        }

        if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
            (void) ngx_close_file(fd);
            break;
        }

        /* claimed for replay since it was opened: write to a new one */

        if (ngx_file_info(name, &ni) == NGX_FILE_ERROR
            || fi.st_ino != ni.st_ino || fi.st_dev != ni.st_dev)
        {
            (void) ngx_close_file(fd);
            continue;
        }

        if (ngx_http_aigw_journal_write_all(fd, record, len) == NGX_OK) {
            rc2 = NGX_OK;

        } else {
            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "aigw: appending to the usage journal \"%s\" "
                          "failed", name);
        }

        (void) ngx_close_file(fd);
        break;
    }

    ngx_free(name);

    return rc2;
}


/*
 * The journal file to replay first: NGX_OK and its name (in "pool"), or
 * NGX_DECLINED when there is none.  Files being replayed (renamed aside,
 * and left by a worker that died) come before new ones of the same name.
 */

ngx_int_t
ngx_http_aigw_journal_next(ngx_http_aigw_redis_conf_t *rc, ngx_str_t *name,
    ngx_pool_t *pool, ngx_log_t *log)
{
    u_char     *de;
    u_char      best[NGX_HTTP_AIGW_JOURNAL_NAME_LEN + 16];
    size_t      len, blen, base;
    ngx_dir_t   dir;

    if (ngx_open_dir(&rc->journal->name, &dir) == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "aigw: " ngx_open_dir_n " \"%V\" failed",
                      &rc->journal->name);
        return NGX_ERROR;
    }

    blen = 0;

    while (ngx_read_dir(&dir) == NGX_OK) {

        de = ngx_de_name(&dir);

        if (de[0] == '.') {
            continue;
        }

        /* another Redis target's */

        if (ngx_strncmp(de, rc->journal_tag, NGX_HTTP_AIGW_JOURNAL_TAG_LEN)
            != 0
            || de[NGX_HTTP_AIGW_JOURNAL_TAG_LEN] != '-')
        {
            continue;
        }

        len = ngx_de_namelen(&dir);

        if (len > NGX_HTTP_AIGW_JOURNAL_NAME_LEN) {
            continue;
        }

        base = len;

        if (len > sizeof(NGX_HTTP_AIGW_JOURNAL_REPLAYING) - 1
            && ngx_strcmp(de + len
                          - (sizeof(NGX_HTTP_AIGW_JOURNAL_REPLAYING) - 1),
                          NGX_HTTP_AIGW_JOURNAL_REPLAYING)
               == 0)
        {
            base = len - (sizeof(NGX_HTTP_AIGW_JOURNAL_REPLAYING) - 1);
        }

        if (base <= sizeof(NGX_HTTP_AIGW_JOURNAL_EXT) - 1
            || ngx_strncmp(de + base
                           - (sizeof(NGX_HTTP_AIGW_JOURNAL_EXT) - 1),
                           NGX_HTTP_AIGW_JOURNAL_EXT,
                           sizeof(NGX_HTTP_AIGW_JOURNAL_EXT) - 1)
               != 0)
        {
            continue;
        }

        if (blen == 0
            || ngx_http_aigw_journal_cmp(de, len, best, blen) < 0)
        {
            ngx_memcpy(best, de, len);
            blen = len;
        }
    }

    (void) ngx_close_dir(&dir);

    if (blen == 0) {
        return NGX_DECLINED;
    }

    name->len = rc->journal->name.len + 1 + blen;
    name->data = ngx_pnalloc(pool, name->len + 1
                                   + sizeof(NGX_HTTP_AIGW_JOURNAL_REPLAYING));
    if (name->data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(name->data, "%V/%*s%Z", &rc->journal->name, blen, best);

    return NGX_OK;
}


/*
 * Claims a file for replay: renamed aside (unless it is already), then
 * locked.  "name" (from ngx_http_aigw_journal_next(), which leaves room
 * for the suffix) becomes the file's new name.  NGX_DECLINED: another
 * worker took it meanwhile.
 */

ngx_int_t
ngx_http_aigw_journal_claim(ngx_str_t *name, ngx_fd_t *fd, ngx_log_t *log)
{
    u_char     *old;
    size_t      r;
    ngx_err_t   err;

    r = sizeof(NGX_HTTP_AIGW_JOURNAL_REPLAYING) - 1;

    if (name->len <= r
        || ngx_strcmp(name->data + name->len - r,
                      NGX_HTTP_AIGW_JOURNAL_REPLAYING)
           != 0)
    {
        old = ngx_alloc(name->len + 1, log);
        if (old == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(old, name->data, name->len + 1);
        ngx_memcpy(name->data + name->len, NGX_HTTP_AIGW_JOURNAL_REPLAYING,
                   r + 1);

        if (ngx_rename_file(old, name->data) == NGX_FILE_ERROR) {
            ngx_free(old);

            if (ngx_errno == NGX_ENOENT) {
                return NGX_DECLINED;
            }

            ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                          "aigw: " ngx_rename_file_n " \"%s\" failed",
                          name->data);
            return NGX_ERROR;
        }

        ngx_free(old);
        name->len += r;
    }

    *fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (*fd == NGX_INVALID_FILE) {
        if (ngx_errno == NGX_ENOENT) {
            return NGX_DECLINED;
        }

        ngx_log_error(NGX_LOG_ALERT, log, ngx_errno,
                      "aigw: " ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    /*
     * a writer in the middle of an append finishes first: the drainer
     * comes back for the file (its name now ends in ".replaying")
     */

    if (flock(*fd, LOCK_EX | LOCK_NB) == -1) {
        err = ngx_errno;

        (void) ngx_close_file(*fd);
        *fd = NGX_INVALID_FILE;

        if (err == NGX_EAGAIN) {
            return NGX_AGAIN;
        }

        ngx_log_error(NGX_LOG_ALERT, log, err,
                      "aigw: flock(\"%V\") failed", name);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static u_char *
ngx_http_aigw_journal_name(ngx_http_aigw_redis_conf_t *rc, u_char *buf,
    u_char *stream, uint64_t first, const char *pre, const char *ext,
    const char *post)
{
    u_char  *p;
    u_char   hex[2 * AIGW_STREAM_ID_LEN];

    aigw_hex((char *) hex, stream, AIGW_STREAM_ID_LEN);

    p = ngx_sprintf(buf, "%V/%s%*s-%*s-%020uL-%P%s%s%Z", &rc->journal->name,
                    pre, (size_t) NGX_HTTP_AIGW_JOURNAL_TAG_LEN,
                    rc->journal_tag, sizeof(hex), hex, first, ngx_pid, ext,
                    post);

    return p;
}


static ngx_int_t
ngx_http_aigw_journal_write_all(ngx_fd_t fd, u_char *p, size_t len)
{
    ssize_t  n;

    while (len) {
        n = ngx_write_fd(fd, p, len);

        if (n == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            return NGX_ERROR;
        }

        p += n;
        len -= n;
    }

    return NGX_OK;
}


/*
 * Orders file names by their base (without ".replaying"); of two with the
 * same base the one being replayed comes first
 */

static ngx_int_t
ngx_http_aigw_journal_cmp(u_char *a, size_t alen, u_char *b, size_t blen)
{
    size_t     abase, bbase, r;
    ngx_int_t  c;

    r = sizeof(NGX_HTTP_AIGW_JOURNAL_REPLAYING) - 1;

    abase = (alen > r && ngx_strncmp(a + alen - r,
                                     NGX_HTTP_AIGW_JOURNAL_REPLAYING, r)
                         == 0)
            ? alen - r : alen;

    bbase = (blen > r && ngx_strncmp(b + blen - r,
                                     NGX_HTTP_AIGW_JOURNAL_REPLAYING, r)
                         == 0)
            ? blen - r : blen;

    c = ngx_memn2cmp(a, b, abase, bbase);

    if (c != 0) {
        return c;
    }

    /* the same base: ".replaying" (longer) first */

    return (ngx_int_t) blen - (ngx_int_t) alen;
}
