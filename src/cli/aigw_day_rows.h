
/*
 * aigw: the usage of a day, a tenant and a model, as read from Redis
 * (aigw_redis_read.h): its counters, its images by size and quality, the
 * order "aigw export" and "aigw usage" list rows in, and a row's cost.
 */

#ifndef AIGW_DAY_ROWS_H
#define AIGW_DAY_ROWS_H


#include <stddef.h>
#include <stdint.h>

#include "aigw_record.h"
#include "aigw_pricing.h"


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


/* by date, then tenant, then model (bytes) */
void aigw_day_rows_sort(aigw_day_rows_t *rows);
void aigw_day_rows_free(aigw_day_rows_t *rows);

/* the cost of a row at a price; see aigw_pricing_cost() */
int aigw_day_row_cost(const aigw_day_row_t *row, const aigw_price_t *price,
    aigw_cost_t *cost);


#endif /* AIGW_DAY_ROWS_H */
