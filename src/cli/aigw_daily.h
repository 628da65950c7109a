
/*
 * aigw: what "aigw export" and "aigw usage" share: UTC days,
 * the tenants and pricing files, and a day's usage read from Redis.
 *
 * A day's usage (../shared/SPEC.md, "Usage in Redis"): the set
 * PREFIX:usage:DAY:index lists its members TENANT:MODEL (the tenant ends
 * at the first colon, the model is the rest); each has the hash
 * PREFIX:usage:DAY:TENANT:MODEL of integer counters (aigw_record_fields)
 * and, for image models, "images:SIZE:QUALITY" fields counting the
 * images by size ("WxH", or "" when not known) and quality ("" when not
 * given).  The hashes are read with HGETALL, pipelined.
 */

#ifndef AIGW_DAILY_H
#define AIGW_DAILY_H


#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "aigw_record.h"
#include "aigw_pricing.h"
#include "aigw_tenants.h"


#define AIGW_DAILY_ERR_LEN     1024
#define AIGW_DAY_SECONDS       86400


/* one hash: a day, a tenant, a model */
typedef struct {
    char                  date[AIGW_DATE_LEN + 1];
    char                 *tenant;
    char                 *model;
    uint64_t              v[AIGW_RECORD_FIELDS];   /* AIGW_F_* */

    aigw_image_count_t   *images;       /* "images:SIZE:QUALITY" fields */
    size_t                nimages;
} aigw_day_row_t;


typedef struct {
    aigw_day_row_t       *rows;
    size_t                n;
    size_t                cap;
} aigw_day_rows_t;


typedef struct {
    const char           *addr;         /* host:port, [v6]:port, unix:/p */
    const char           *password;
    const char           *db;
    const char           *prefix;
} aigw_redis_opts_t;


/* "YYYY-MM-DD", a real day: its midnight UTC; -1 if not */
time_t aigw_day_parse(const char *s);
/* "YYYY-MM-DD" of a time, UTC */
void aigw_day_format(time_t t, char out[AIGW_DATE_LEN + 1]);
/* midnight UTC today */
time_t aigw_day_today(void);

/*
 * The files, read whole and parsed; NULL with a message that names the
 * file.
 */
aigw_pricing_t *aigw_pricing_load(const char *path, char *err,
    size_t err_size);
aigw_tenants_t *aigw_tenants_load(const char *path, char *err,
    size_t err_size);

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

/* by date, then tenant, then model (bytes) */
void aigw_day_rows_sort(aigw_day_rows_t *rows);
void aigw_day_rows_free(aigw_day_rows_t *rows);

/* the cost of a row at a price; see aigw_pricing_cost() */
int aigw_day_row_cost(const aigw_day_row_t *row, const aigw_price_t *price,
    aigw_cost_t *cost);


#endif /* AIGW_DAILY_H */
