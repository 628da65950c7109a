
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
 *
 * The connection, and the options that name it, are those of every
 * command that reads Redis (export, usage, alerts).
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


/* the options of an aigw_redis_opts_t, in a command's aigw_opt_t table */
#define AIGW_REDIS_OPTS(ro)                                                   \
    { "--redis", 0, &(ro).addr, NULL, 0 },                                    \
    { "--password", 0, &(ro).password, NULL, 0 },                             \
    { "--db", 0, &(ro).db, NULL, 0 },                                         \
    { "--prefix", 0, &(ro).prefix, NULL, 0 }

/* and their lines in the command's --help */
#define AIGW_REDIS_OPTS_HELP                                                  \
    "  --redis ADDR     host:port, [IPv6]:port or unix:/path of Redis\n"      \
    "                   (default 127.0.0.1:6379)\n"                           \
    "  --password P     Redis AUTH password\n"                                \
    "  --db N           Redis database number (default 0)\n"                  \
    "  --prefix P       the key prefix of aigw_redis prefix= (default aigw)\n"


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
