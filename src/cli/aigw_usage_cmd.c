
/*
 * aigw: "aigw usage": the live counters of a day in Redis, as an aligned
 * table grouped by tenant, model or department, with a totals line.
 *
 * The cost column is the module's own running cost (cost_nanousd), or,
 * with --pricing, the cost computed again from the tokens (then a "*"
 * marks a group with usage the pricing file has no price for: its cost
 * counts only what is priced).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aigw_cli.h"
#include "aigw_cli_file.h"
#include "aigw_dates.h"
#include "aigw_day_rows.h"
#include "aigw_redis_read.h"
#include "aigw_http.h"
#include "aigw_opts.h"
#include "aigw_text.h"


#define AIGW_USAGE_COLS         11


typedef struct {
    const char            *name;
    const aigw_day_row_t  *row;
} aigw_usage_item_t;


typedef struct {
    const char            *name;
    uint64_t               v[AIGW_RECORD_FIELDS];
    uint64_t               cost;
    int                    partial;
} aigw_usage_group_t;


static int aigw_usage_item_cmp(const void *a, const void *b);
static void aigw_usage_add(aigw_usage_group_t *g, const aigw_day_row_t *row,
    uint64_t cost, int partial);
static void aigw_usage_cells(const aigw_usage_group_t *g,
    char cells[AIGW_USAGE_COLS][32]);
static void aigw_usage_line(const char *name,
    char cells[AIGW_USAGE_COLS][32], const size_t *w);


static const char  *aigw_usage_heads[AIGW_USAGE_COLS] = {
    NULL, "REQUESTS", "INPUT_TOKENS", "OUTPUT_TOKENS", "CACHE_READ",
    "CACHE_WRITE", "IMAGES", "ERRORS", "THROTTLED", "AVG_MS", "COST_USD"
};


static const char  aigw_usage_help[] =
    "usage: aigw usage [--date YYYY-MM-DD] [--by tenant|model|department]\n"
    "                  [--redis ADDR] [--password P] [--db N] [--prefix P]\n"
    "                  [--tenants FILE] [--pricing FILE] [--region R]\n"
    "\n"
    "Shows the day's live usage counters from Redis as a table: requests,\n"
    "tokens (input, output, cache read, cache write), images, errors,\n"
    "throttled requests, the mean latency and the cost in USD, one line a\n"
    "tenant, model or department, then the totals.  The cost is the\n"
    "module's running cost, or, with --pricing, computed again from the\n"
    "tokens (\"*\": some usage of the group has no price).\n"
    "\n"
    "options:\n"
    "  --date D         the UTC day (default: today, UTC)\n"
    "  --by G           tenant (the default), model or department (needs\n"
    "                   --tenants)\n"
    AIGW_REDIS_OPTS_HELP
    "  --tenants FILE   the tenants file (departments)\n"
    "  --pricing FILE   compute the costs with this pricing file\n"
    "  --region R       the pricing file's region overrides to apply\n"
    "  -h, --help       this help\n";


int
aigw_cmd_usage(int argc, char **argv)
{
    int                   rc, status, partial;
    char                  err[AIGW_CLI_ERR_LEN], day[AIGW_DATE_LEN + 1];
    char                  cells[AIGW_USAGE_COLS][32];
    size_t                i, j, ng, w[AIGW_USAGE_COLS], n;
    time_t                t;
    uint64_t              cost;
    aigw_cost_t           c;
    redisContext         *redis;
    aigw_pricing_t       *pricing;
    aigw_tenants_t       *tenants;
    aigw_day_rows_t       rows;
    aigw_redis_opts_t     ro;
    aigw_usage_item_t    *items;
    aigw_usage_group_t   *groups, total;
    const char           *date, *by, *pricing_path, *tenants_path, *region;
    const aigw_price_t   *price;
    const aigw_tenant_t  *tn;
    const aigw_day_row_t *row;
    aigw_opt_t            opts[] = {
        { "--date", 0, &date, NULL, 0 },
        { "--by", 0, &by, NULL, 0 },
        AIGW_REDIS_OPTS(ro),
        { "--tenants", 0, &tenants_path, NULL, 0 },
        { "--pricing", 0, &pricing_path, NULL, 0 },
        { "--region", 0, &region, NULL, 0 },
        { NULL, 0, NULL, NULL, 0 }
    };

    date = NULL;
    by = "tenant";
    pricing_path = NULL;
    tenants_path = NULL;
    region = NULL;
    memset(&ro, 0, sizeof(aigw_redis_opts_t));

    rc = aigw_opts_parse("usage", aigw_usage_help, argc, argv, opts, 0);
    if (rc >= 0) {
        return rc;
    }

    if (date) {
        t = aigw_day_parse(date);

        if (t == -1) {
            fprintf(stderr, "aigw usage: --date \"%s\": expected a day, "
                    "YYYY-MM-DD\n", date);
            return AIGW_EXIT_USAGE;
        }

    } else {
        t = aigw_day_today();
    }

    if (strcmp(by, "tenant") != 0 && strcmp(by, "model") != 0
        && strcmp(by, "department") != 0)
    {
        fprintf(stderr, "aigw usage: --by \"%s\": expected tenant, model or "
                "department\n", by);
        return AIGW_EXIT_USAGE;
    }

    if (by[0] == 'd' && tenants_path == NULL) {
        fprintf(stderr, "aigw usage: --by department needs --tenants FILE\n");
        return AIGW_EXIT_USAGE;
    }

    if (ro.prefix == NULL) {
        ro.prefix = "aigw";
    }

    aigw_day_format(t, day);

    status = AIGW_EXIT_ERROR;
    pricing = NULL;
    tenants = NULL;
    redis = NULL;
    items = NULL;
    groups = NULL;
    memset(&rows, 0, sizeof(aigw_day_rows_t));

    if (pricing_path) {
        pricing = aigw_cli_pricing_load(pricing_path, err, sizeof(err));
        if (pricing == NULL) {
            fprintf(stderr, "aigw usage: %s\n", err);
            goto done;
        }
    }

    if (tenants_path) {
        tenants = aigw_cli_tenants_load(tenants_path, err, sizeof(err));
        if (tenants == NULL) {
            fprintf(stderr, "aigw usage: %s\n", err);
            goto done;
        }
    }

    redis = aigw_redis_open(&ro, err, sizeof(err));
    if (redis == NULL) {
        fprintf(stderr, "aigw usage: %s\n", err);
        goto done;
    }

    if (aigw_redis_day(redis, "usage", ro.prefix, day, &rows, err,
                       sizeof(err))
        != 0)
    {
        fprintf(stderr, "aigw usage: %s\n", err);
        goto done;
    }

    /* the groups: the rows sorted by their group's name, then merged */

    items = calloc(rows.n + 1, sizeof(aigw_usage_item_t));
    groups = calloc(rows.n + 1, sizeof(aigw_usage_group_t));

    if (items == NULL || groups == NULL) {
        fprintf(stderr, "aigw usage: out of memory\n");
        goto done;
    }

    for (i = 0; i < rows.n; i++) {
        row = &rows.rows[i];
        items[i].row = row;

        if (by[0] == 't') {
            items[i].name = row->tenant;

        } else if (by[0] == 'm') {
            items[i].name = row->model;

        } else {
            tn = aigw_tenants_find(tenants, row->tenant,
                                   strlen(row->tenant));
            items[i].name = (tn && tn->department.len) ? tn->department.data
                                                       : "(none)";
        }
    }

    if (rows.n > 1) {
        qsort(items, rows.n, sizeof(aigw_usage_item_t), aigw_usage_item_cmp);
    }

    memset(&total, 0, sizeof(aigw_usage_group_t));
    total.name = "TOTAL";
    ng = 0;

    for (i = 0; i < rows.n; i++) {
        row = items[i].row;
        partial = 0;

        if (pricing) {
            price = aigw_pricing_lookup(pricing, region,
                                        region ? strlen(region) : 0,
                                        row->model, strlen(row->model));

            if (aigw_day_row_cost(row, price, &c) != 0) {
                cost = 0;
                partial = 1;

            } else {
                cost = c.total;
                partial = (c.missing != 0);
            }

        } else {
            cost = row->v[AIGW_F_COST];
        }

        if (ng == 0 || strcmp(groups[ng - 1].name, items[i].name) != 0) {
            groups[ng++].name = items[i].name;
        }

        aigw_usage_add(&groups[ng - 1], row, cost, partial);
        aigw_usage_add(&total, row, cost, partial);
    }

    /* the widths */

    aigw_usage_heads[0] = (by[0] == 't') ? "TENANT"
                          : (by[0] == 'm') ? "MODEL" : "DEPARTMENT";

    for (j = 0; j < AIGW_USAGE_COLS; j++) {
        w[j] = strlen(aigw_usage_heads[j]);
    }

    for (i = 0; i <= ng; i++) {
        const aigw_usage_group_t  *g = (i < ng) ? &groups[i] : &total;

        aigw_usage_cells(g, cells);

        n = aigw_text_width(g->name);
        w[0] = (n > w[0]) ? n : w[0];

        for (j = 1; j < AIGW_USAGE_COLS; j++) {
            n = strlen(cells[j]);
            w[j] = (n > w[j]) ? n : w[j];
        }
    }

    /* the table */

    for (j = 1; j < AIGW_USAGE_COLS; j++) {
        snprintf(cells[j], sizeof(cells[j]), "%s", aigw_usage_heads[j]);
    }

    printf("usage of %s (UTC)%s%s\n", day, pricing ? ", costs from " : "",
           pricing ? pricing_path : "");
    aigw_usage_line(aigw_usage_heads[0], cells, w);

    for (i = 0; i < ng; i++) {
        aigw_usage_cells(&groups[i], cells);
        aigw_usage_line(groups[i].name, cells, w);
    }

    n = 0;

    for (j = 0; j < AIGW_USAGE_COLS; j++) {
        n += w[j] + (j ? 2 : 0);
    }

    for (j = 0; j < n; j++) {
        putchar('-');
    }

    putchar('\n');

    aigw_usage_cells(&total, cells);
    aigw_usage_line(total.name, cells, w);

    if (total.partial) {
        printf("* some usage has no price in \"%s\": its cost is not "
               "counted\n", pricing_path);
    }

    if (fflush(stdout) != 0) {
        fprintf(stderr, "aigw usage: stdout: write error\n");
        goto done;
    }

    status = AIGW_EXIT_OK;

done:

    free(items);
    free(groups);
    aigw_day_rows_free(&rows);
    aigw_pricing_free(pricing);
    aigw_tenants_free(tenants);

    if (redis) {
        redisFree(redis);
    }

    return status;
}


static int
aigw_usage_item_cmp(const void *a, const void *b)
{
    const aigw_usage_item_t  *x, *y;

    x = a;
    y = b;

    return strcmp(x->name, y->name);
}


static void
aigw_usage_add(aigw_usage_group_t *g, const aigw_day_row_t *row,
    uint64_t cost, int partial)
{
    size_t  f;

    for (f = 0; f < AIGW_RECORD_FIELDS; f++) {
        g->v[f] += row->v[f];
    }

    g->cost += cost;
    g->partial |= partial;
}


static void
aigw_usage_cells(const aigw_usage_group_t *g,
    char cells[AIGW_USAGE_COLS][32])
{
    size_t            j;
    static const int  f[] = {
        -1, AIGW_F_REQUESTS, AIGW_F_INPUT, AIGW_F_OUTPUT, AIGW_F_CACHE_READ,
        AIGW_F_CACHE_WRITE, AIGW_F_IMAGES, AIGW_F_ERRORS, AIGW_F_THROTTLED
    };

    cells[0][0] = '\0';

    for (j = 1; j < 9; j++) {
        snprintf(cells[j], 32, "%llu", (unsigned long long) g->v[f[j]]);
    }

    if (g->v[AIGW_F_REQUESTS]) {
        snprintf(cells[9], 32, "%llu",
                 (unsigned long long) (g->v[AIGW_F_LATENCY]
                                       / g->v[AIGW_F_REQUESTS]));

    } else {
        snprintf(cells[9], 32, "-");
    }

    aigw_cost_format(g->cost, cells[10]);

    if (g->partial) {
        strcat(cells[10], "*");
    }
}


static void
aigw_usage_line(const char *name, char cells[AIGW_USAGE_COLS][32],
    const size_t *w)
{
    size_t  j;

    aigw_text_pad(stdout, name, w[0], 0);

    for (j = 1; j < AIGW_USAGE_COLS; j++) {
        printf("  %*s", (int) w[j], cells[j]);
    }

    putchar('\n');
}
