
/*
 * aigw: a day's usage rows, their order and their cost (see
 * aigw_day_rows.h).
 */


#include <stdlib.h>
#include <string.h>

#include "aigw_day_rows.h"


static int aigw_day_row_cmp(const void *a, const void *b);


void
aigw_day_rows_sort(aigw_day_rows_t *rows)
{
    if (rows->n > 1) {
        qsort(rows->rows, rows->n, sizeof(aigw_day_row_t),
              aigw_day_row_cmp);
    }
}


static int
aigw_day_row_cmp(const void *a, const void *b)
{
    int                    c;
    const aigw_day_row_t  *x, *y;

    x = a;
    y = b;

    c = strcmp(x->date, y->date);
    if (c) {
        return c;
    }

    c = strcmp(x->tenant, y->tenant);
    if (c) {
        return c;
    }

    return strcmp(x->model, y->model);
}


void
aigw_day_rows_free(aigw_day_rows_t *rows)
{
    size_t           i, j;
    aigw_day_row_t  *row;

    for (i = 0; i < rows->n; i++) {
        row = &rows->rows[i];

        free(row->tenant);
        free(row->model);

        for (j = 0; j < row->nimages; j++) {
            free((char *) row->images[j].size.data);
            free((char *) row->images[j].quality.data);
        }

        free(row->images);
    }

    free(rows->rows);
    memset(rows, 0, sizeof(aigw_day_rows_t));
}


int
aigw_day_row_cost(const aigw_day_row_t *row, const aigw_price_t *price,
    aigw_cost_t *cost)
{
    aigw_cost_usage_t  u;

    memset(&u, 0, sizeof(aigw_cost_usage_t));
    u.input_tokens = row->v[AIGW_F_INPUT];
    u.output_tokens = row->v[AIGW_F_OUTPUT];
    u.cache_read_tokens = row->v[AIGW_F_CACHE_READ];
    u.cache_write_tokens = row->v[AIGW_F_CACHE_WRITE];
    u.images = row->v[AIGW_F_IMAGES];
    u.image_counts = row->images;
    u.nimage_counts = row->nimages;

    return aigw_pricing_cost(price, &u, cost);
}
