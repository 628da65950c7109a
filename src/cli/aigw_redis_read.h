
/*
 * aigw: a day's usage read from Redis, for "aigw export" and "aigw usage".
 *
 * A day's usage (../shared/SPEC.md, "Usage in Redis"): the set
 * PREFIX:usage:DAY:index lists its members TENANT:MODEL (the tenant ends
 * at the first colon, the model is the rest); each has the hash
 * PREFIX:usage:DAY:TENANT:MODEL of integer counters (aigw_record_fields)
 * and, for image models, "images:SIZE:QUALITY" fields counting the
 * images by size ("WxH", or "" when not known) and quality ("" when not
 * given).  The hashes are read with HGETALL, pipelined.
 */

#ifndef AIGW_REDIS_READ_H
#define AIGW_REDIS_READ_H


#include <stddef.h>

#include <hiredis/hiredis.h>

#include "aigw_day_rows.h"


typedef struct {
    const char           *addr;         /* host:port, [v6]:port, unix:/p */
    const char           *password;
    const char           *db;
    const char           *prefix;
} aigw_redis_opts_t;


/* connects, AUTH, SELECT; NULL with a message */
redisContext *aigw_redis_open(const aigw_redis_opts_t *o, char *err,
    size_t err_size);

/*
 * Appends the day's rows.  Members without a hash and malformed members
 * are skipped with a warning on stderr (prefixed with "cmd"); a counter
 * that is not a non-negative integer is an error.  Returns 0, or -1 with
 * a message.
 */
int aigw_redis_day(redisContext *c, const char *cmd, const char *prefix,
    const char *date, aigw_day_rows_t *rows, char *err, size_t err_size);


#endif /* AIGW_REDIS_READ_H */
