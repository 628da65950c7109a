
/*
 * aigw: "aigw export": a day's usage (or a range of days) from Redis as
 * the cost CSV of ../shared/SPEC.md, to stdout, a file, or S3.
 *
 * One row per day, team (tenant) and model, sorted by day, team and model
 * (bytes); the columns of AIGW_CSV_HEADER; "\n" line ends; RFC 4180
 * quoting (aigw_csv.h).  Costs are computed again from the tokens with
 * the pricing file (aigw_pricing.h), in USD with 9 decimals; a cost that
 * cannot be computed is an empty field:
 *
 *   - no pricing file: every cost column is empty;
 *   - no price for the model: every cost column of its rows is empty, and
 *     the model is named on stderr (exit 1 with --strict);
 *   - the model's price lacks a field the row has usage for (output
 *     tokens of a model priced only for input, images without a size
 *     price that applies): that component's column and total_cost are
 *     empty; named on stderr too.
 *
 * A file is written whole to a temporary file next to it, then renamed.
 * To S3, each day is its own object, PREFIX/year=YYYY/month=MM/day=DD/
 * usage.csv (aigw_s3.h), overwritten by a re-run; an empty day is a file
 * with the header only.
 */


#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aigw_csv.h"
#include "aigw_cli.h"
#include "aigw_cli_file.h"
#include "aigw_dates.h"
#include "aigw_day_rows.h"
#include "aigw_redis_read.h"
#include "aigw_http.h"
#include "aigw_opts.h"
#include "aigw_s3.h"


#define AIGW_EXPORT_MAX_DAYS    3660


typedef struct {
    char        *model;
    char        *key;           /* the price entry, NULL: none */
    unsigned     missing;       /* AIGW_PRICE_*, 0 with key NULL */
    int          overflow;
    size_t       rows;
} aigw_unpriced_t;


typedef struct {
    const aigw_pricing_t  *pricing;
    const char            *pricing_path;
    const aigw_tenants_t  *tenants;
    const char            *region;

    aigw_unpriced_t       *unpriced;
    size_t                 nunpriced;
    size_t                 cap;
    int                    failed;
} aigw_export_ctx_t;


static void aigw_export_rows(aigw_export_ctx_t *ctx,
    const aigw_day_rows_t *rows, aigw_buf_t *out);
static void aigw_export_row(aigw_export_ctx_t *ctx,
    const aigw_day_row_t *row, aigw_buf_t *out);
static void aigw_export_field(aigw_buf_t *out, const char *s, size_t len);
static int aigw_export_bucket(const aigw_day_row_t *row, aigw_buf_t *out);
static void aigw_export_note(aigw_export_ctx_t *ctx, const char *model,
    const aigw_price_t *price, unsigned missing, int overflow);
static int aigw_unpriced_cmp(const void *a, const void *b);
static int aigw_export_report(aigw_export_ctx_t *ctx);
static int aigw_export_file(const char *path, const aigw_buf_t *buf,
    char *err, size_t err_size);


static const char  aigw_export_help[] =
    "usage: aigw export [--date YYYY-MM-DD | --from YYYY-MM-DD --to "
    "YYYY-MM-DD]\n"
    "                   [--redis ADDR] [--password P] [--db N] "
    "[--prefix P]\n"
    "                   [--pricing FILE] [--tenants FILE] [--region R]\n"
    "                   [--out PATH | - | s3://bucket/prefix/] "
    "[--s3-region R]\n"
    "                   [--endpoint URL] [--strict] [-v | --verbose]\n"
    "\n"
    "Exports the usage counted in Redis as a cost CSV: one row per day,\n"
    "team (tenant) and model, sorted, with the columns\n"
    "\n"
    "  " "date,team_id,project,department,model_id,invocations,"
    "input_tokens,\n"
    "  " "output_tokens,cache_read_input_tokens,cache_write_input_tokens,"
    "images,\n"
    "  " "errors,throttled,input_cost,output_cost,cache_cost,total_cost\n"
    "\n"
    "Costs (USD, 9 decimals) are computed from the token counts with the\n"
    "pricing file, exactly; without --pricing they are empty.  A model with\n"
    "no price keeps its rows, with empty costs, and is named on stderr.\n"
    "\n"
    "options:\n"
    "  --date D         the UTC day to export (default: yesterday, UTC)\n"
    "  --from D --to D  every day from D to D, both included: one CSV on\n"
    "                   stdout or in a file; one object per day in S3\n"
    AIGW_REDIS_OPTS_HELP
    "  --pricing FILE   the pricing file (the aigw_pricing directive's)\n"
    "  --tenants FILE   the tenants file, for the project and department\n"
    "                   columns (empty without it, or for unknown tenants)\n"
    "  --region R       the AWS region of the gateway, whose prices apply:\n"
    "                   the pricing file's \"regions\" overrides for R\n"
    "                   (not the bucket's region: see --s3-region)\n"
    "  --out PATH       a file (written whole, then renamed into place),\n"
    "                   \"-\" for stdout (the default), or\n"
    "                   s3://bucket/prefix/: PUT of\n"
    "                   prefix/year=YYYY/month=MM/day=DD/usage.csv, signed\n"
    "                   with SigV4; a re-run overwrites the object.\n"
    "                   Credentials: the AWS SDKs' chain, the gateway's\n"
    "                   own: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY;\n"
    "                   web identity (AWS_WEB_IDENTITY_TOKEN_FILE,\n"
    "                   AWS_ROLE_ARN); the AWS_PROFILE profile of\n"
    "                   ~/.aws/credentials and ~/.aws/config (keys,\n"
    "                   role_arn, credential_process); the container\n"
    "                   endpoint (AWS_CONTAINER_CREDENTIALS_*_URI); EC2\n"
    "                   instance metadata (IMDSv2).  STS: the bucket's\n"
    "                   region's, or AWS_ENDPOINT_URL_STS\n"
    "  --s3-region R    the bucket's region; default: AWS_REGION, else\n"
    "                   AWS_DEFAULT_REGION, else the profile's region in\n"
    "                   ~/.aws/config, else asked of S3 (HEAD Bucket, then\n"
    "                   GetBucketLocation)\n"
    "  --endpoint URL   an S3-compatible endpoint, http[s]://host[:port]\n"
    "                   (path-style requests); default: AWS S3 over HTTPS\n"
    "  --strict         exit 1 when a model has no price\n"
    "  -v, --verbose    log where the credentials and the bucket's region\n"
    "                   come from, and the requests, on stderr (never a\n"
    "                   secret)\n"
    "  -h, --help       this help\n"
    "\n"
    "Exit status: 0 done, 1 an error (Redis, S3, a file; or a missing\n"
    "price with --strict), 2 bad usage.\n";


int
aigw_cmd_export(int argc, char **argv)
{
    int                 rc, strict, verbose, status;
    char                err[AIGW_CLI_ERR_LEN], s3err[AIGW_S3_ERR_LEN];
    char                day[AIGW_DATE_LEN + 1], *key;
    size_t              klen, nrows;
    time_t              from, to, t;
    aigw_s3_t           s3;
    aigw_buf_t          out;
    redisContext       *redis;
    aigw_pricing_t     *pricing;
    aigw_tenants_t     *tenants;
    aigw_day_rows_t     rows;
    aigw_export_ctx_t   ctx;
    aigw_redis_opts_t   ro;
    const char         *date, *dfrom, *dto, *pricing_path, *tenants_path;
    const char         *region, *dest, *endpoint, *s3_region;
    aigw_opt_t          opts[] = {
        { "--date", 0, &date, NULL, 0 },
        { "--from", 0, &dfrom, NULL, 0 },
        { "--to", 0, &dto, NULL, 0 },
        AIGW_REDIS_OPTS(ro),
        { "--pricing", 0, &pricing_path, NULL, 0 },
        { "--tenants", 0, &tenants_path, NULL, 0 },
        { "--region", 0, &region, NULL, 0 },
        { "--out", 0, &dest, NULL, 0 },
        { "--s3-region", 0, &s3_region, NULL, 0 },
        { "--endpoint", 0, &endpoint, NULL, 0 },
        { "--strict", 0, NULL, &strict, 0 },
        { "--verbose", 'v', NULL, &verbose, 0 },
        { NULL, 0, NULL, NULL, 0 }
    };

    date = NULL;
    dfrom = NULL;
    dto = NULL;
    pricing_path = NULL;
    tenants_path = NULL;
    region = NULL;
    dest = NULL;
    endpoint = NULL;
    s3_region = NULL;
    strict = 0;
    verbose = 0;
    memset(&ro, 0, sizeof(aigw_redis_opts_t));

    rc = aigw_opts_parse("export", aigw_export_help, argc, argv, opts, 0);
    if (rc >= 0) {
        return rc;
    }

    /* the days */

    if (date && (dfrom || dto)) {
        fprintf(stderr, "aigw export: --date and --from/--to exclude each "
                "other\n");
        return AIGW_EXIT_USAGE;
    }

    if ((dfrom == NULL) != (dto == NULL)) {
        fprintf(stderr, "aigw export: --from and --to go together\n");
        return AIGW_EXIT_USAGE;
    }

    if (date) {
        from = aigw_day_parse(date);
        to = from;

        if (from == -1) {
            fprintf(stderr, "aigw export: --date \"%s\": expected a day, "
                    "YYYY-MM-DD\n", date);
            return AIGW_EXIT_USAGE;
        }

    } else if (dfrom) {
        from = aigw_day_parse(dfrom);
        to = aigw_day_parse(dto);

        if (from == -1 || to == -1) {
            fprintf(stderr, "aigw export: --%s \"%s\": expected a day, "
                    "YYYY-MM-DD\n", from == -1 ? "from" : "to",
                    from == -1 ? dfrom : dto);
            return AIGW_EXIT_USAGE;
        }

        if (from > to) {
            fprintf(stderr, "aigw export: --from %s is after --to %s\n",
                    dfrom, dto);
            return AIGW_EXIT_USAGE;
        }

        if ((to - from) / AIGW_DAY_SECONDS >= AIGW_EXPORT_MAX_DAYS) {
            fprintf(stderr, "aigw export: more than %d days\n",
                    AIGW_EXPORT_MAX_DAYS);
            return AIGW_EXIT_USAGE;
        }

    } else {
        from = aigw_day_today() - AIGW_DAY_SECONDS;
        to = from;
    }

    if (ro.prefix == NULL) {
        ro.prefix = "aigw";
    }

    if (ro.prefix[0] == '\0' || strchr(ro.prefix, ':') != NULL) {
        fprintf(stderr, "aigw export: --prefix \"%s\": expected a non-empty "
                "prefix without \":\"\n", ro.prefix);
        return AIGW_EXIT_USAGE;
    }

    if (dest == NULL || dest[0] == '\0') {
        dest = "-";
    }

    if ((endpoint || s3_region) && strncmp(dest, "s3://", 5) != 0) {
        fprintf(stderr, "aigw export: %s is for --out s3://...\n",
                endpoint ? "--endpoint" : "--s3-region");
        return AIGW_EXIT_USAGE;
    }

    /* the files, S3, Redis: before any output */

    status = AIGW_EXIT_ERROR;
    pricing = NULL;
    tenants = NULL;
    redis = NULL;
    memset(&s3, 0, sizeof(aigw_s3_t));
    memset(&rows, 0, sizeof(aigw_day_rows_t));
    memset(&ctx, 0, sizeof(aigw_export_ctx_t));
    aigw_buf_init(&out);

    (void) signal(SIGPIPE, SIG_IGN);

    if (pricing_path) {
        pricing = aigw_cli_pricing_load(pricing_path, err, sizeof(err));
        if (pricing == NULL) {
            fprintf(stderr, "aigw export: %s\n", err);
            goto done;
        }
    }

    if (tenants_path) {
        tenants = aigw_cli_tenants_load(tenants_path, err, sizeof(err));
        if (tenants == NULL) {
            fprintf(stderr, "aigw export: %s\n", err);
            goto done;
        }
    }

    if (strncmp(dest, "s3://", 5) == 0) {
        if (aigw_s3_init(&s3, dest, endpoint, s3_region, s3err,
                         sizeof(s3err))
            != 0)
        {
            fprintf(stderr, "aigw export: %s\n", s3err);
            goto done;
        }

        s3.verbose = verbose;

        if (aigw_s3_region_config(&s3, s3err, sizeof(s3err)) != 0
            || aigw_s3_credentials(&s3, s3err, sizeof(s3err)) != 0
            || aigw_s3_region(&s3, s3err, sizeof(s3err)) != 0)
        {
            fprintf(stderr, "aigw export: %s\n", s3err);
            goto done;
        }

        if (verbose) {
            fprintf(stderr, "aigw export: bucket \"%s\" in %s (%s)\n",
                    s3.bucket, s3.region, s3.region_source);
        }
    }

    redis = aigw_redis_open(&ro, err, sizeof(err));
    if (redis == NULL) {
        fprintf(stderr, "aigw export: %s\n", err);
        goto done;
    }

    ctx.pricing = pricing;
    ctx.pricing_path = pricing_path;
    ctx.tenants = tenants;
    ctx.region = region;

    aigw_buf_str(&out, AIGW_CSV_HEADER "\n");

    for (t = from; t <= to; t += AIGW_DAY_SECONDS) {
        aigw_day_format(t, day);

        if (aigw_redis_day(redis, "export", ro.prefix, day, &rows, err,
                           sizeof(err))
            != 0)
        {
            fprintf(stderr, "aigw export: %s\n", err);
            goto done;
        }

        if (s3.bucket == NULL) {
            /* one CSV for every day: the rows, day after day */
            aigw_day_rows_sort(&rows);
            aigw_export_rows(&ctx, &rows, &out);
            aigw_day_rows_free(&rows);
            continue;
        }

        /* S3: one object per day */

        aigw_day_rows_sort(&rows);
        aigw_export_rows(&ctx, &rows, &out);
        nrows = rows.n;
        aigw_day_rows_free(&rows);

        if (out.failed || ctx.failed) {
            fprintf(stderr, "aigw export: out of memory\n");
            goto done;
        }

        klen = strlen(s3.prefix) + 64;
        key = malloc(klen);
        if (key == NULL) {
            fprintf(stderr, "aigw export: out of memory\n");
            goto done;
        }

        snprintf(key, klen, "%syear=%.4s/month=%.2s/day=%.2s/usage.csv",
                 s3.prefix, day, day + 5, day + 8);

        if (aigw_s3_put(&s3, key, out.data, out.len, "text/csv", s3err,
                        sizeof(s3err))
            != 0)
        {
            fprintf(stderr, "aigw export: %s\n", s3err);
            free(key);
            goto done;
        }

        fprintf(stderr, "aigw export: %s: s3://%s/%s (%zu row%s)\n", day,
                s3.bucket, key, nrows, nrows == 1 ? "" : "s");
        free(key);

        out.len = 0;
        aigw_buf_str(&out, AIGW_CSV_HEADER "\n");
    }

    if (s3.bucket == NULL) {
        if (out.failed || ctx.failed) {
            fprintf(stderr, "aigw export: out of memory\n");
            goto done;
        }

        if (aigw_export_file(dest, &out, err, sizeof(err)) != 0) {
            fprintf(stderr, "aigw export: %s\n", err);
            goto done;
        }
    }

    status = AIGW_EXIT_OK;

    if (aigw_export_report(&ctx) && strict) {
        status = AIGW_EXIT_ERROR;
    }

done:

    aigw_day_rows_free(&rows);
    aigw_buf_free(&out);
    aigw_s3_free(&s3);
    aigw_pricing_free(pricing);
    aigw_tenants_free(tenants);

    if (redis) {
        redisFree(redis);
    }

    while (ctx.nunpriced) {
        ctx.nunpriced--;
        free(ctx.unpriced[ctx.nunpriced].model);
        free(ctx.unpriced[ctx.nunpriced].key);
    }

    free(ctx.unpriced);

    return status;
}


static void
aigw_export_rows(aigw_export_ctx_t *ctx, const aigw_day_rows_t *rows,
    aigw_buf_t *out)
{
    size_t  i;

    for (i = 0; i < rows->n; i++) {
        aigw_export_row(ctx, &rows->rows[i], out);
    }
}


static void
aigw_export_row(aigw_export_ctx_t *ctx, const aigw_day_row_t *row,
    aigw_buf_t *out)
{
    int                   rc, f;
    char                  num[AIGW_COST_LEN];
    size_t                rlen;
    aigw_cost_t           cost;
    const aigw_tenant_t  *t;
    const aigw_price_t   *price;
    static const int      counters[] = {
        AIGW_F_REQUESTS, AIGW_F_INPUT, AIGW_F_OUTPUT, AIGW_F_CACHE_READ,
        AIGW_F_CACHE_WRITE, AIGW_F_IMAGES, AIGW_F_ERRORS, AIGW_F_THROTTLED
    };

    t = ctx->tenants ? aigw_tenants_find(ctx->tenants, row->tenant,
                                         strlen(row->tenant))
                     : NULL;

    aigw_buf_add(out, row->date, AIGW_DATE_LEN);
    aigw_buf_add(out, ",", 1);
    aigw_export_field(out, row->tenant, strlen(row->tenant));
    aigw_buf_add(out, ",", 1);

    if (t) {
        aigw_export_field(out, t->project.data, t->project.len);
        aigw_buf_add(out, ",", 1);
        aigw_export_field(out, t->department.data, t->department.len);

    } else {
        aigw_buf_add(out, ",", 1);
    }

    aigw_buf_add(out, ",", 1);
    aigw_export_field(out, row->model, strlen(row->model));

    for (f = 0; f < (int) (sizeof(counters) / sizeof(counters[0])); f++) {
        aigw_buf_printf(out, ",%llu",
                        (unsigned long long) row->v[counters[f]]);
    }

    /* the costs */

    if (ctx->pricing == NULL) {
        aigw_buf_str(out, ",,,,\n");
        return;
    }

    if (aigw_export_bucket(row, out)) {
        return;
    }

    rlen = ctx->region ? strlen(ctx->region) : 0;
    price = aigw_pricing_lookup(ctx->pricing, ctx->region, rlen, row->model,
                                strlen(row->model));

    if (price == NULL) {
        aigw_export_note(ctx, row->model, NULL, 0, 0);
        aigw_buf_str(out, ",,,,\n");
        return;
    }

    rc = aigw_day_row_cost(row, price, &cost);

    if (rc != 0) {
        aigw_export_note(ctx, row->model, price, 0, 1);
        aigw_buf_str(out, ",,,,\n");
        return;
    }

    if (cost.missing) {
        aigw_export_note(ctx, row->model, price, cost.missing, 0);
    }

    aigw_buf_add(out, ",", 1);

    if (!(cost.missing & AIGW_COST_INPUT_MISSING)) {
        aigw_buf_add(out, num, aigw_cost_format(cost.input, num));
    }

    aigw_buf_add(out, ",", 1);

    if (!(cost.missing & AIGW_COST_OUTPUT_MISSING)) {
        aigw_buf_add(out, num, aigw_cost_format(cost.output, num));
    }

    aigw_buf_add(out, ",", 1);

    if (!(cost.missing & AIGW_COST_CACHE_MISSING)) {
        aigw_buf_add(out, num, aigw_cost_format(cost.cache, num));
    }

    aigw_buf_add(out, ",", 1);

    if (cost.missing == 0) {
        aigw_buf_add(out, num, aigw_cost_format(cost.total, num));
    }

    aigw_buf_add(out, "\n", 1);
}


/*
 * The module's buckets (README, "The keys"): "_invalid" and "_other" are
 * no models to price.  A row with no tokens and no images costs nothing;
 * "_other" (several models) has the total the module priced each request
 * at, and no components.  1 when the row's costs are written.
 */

static int
aigw_export_bucket(const aigw_day_row_t *row, aigw_buf_t *out)
{
    char  num[AIGW_COST_LEN];

    if (strcmp(row->model, AIGW_RECORD_MODEL_INVALID) != 0
        && strcmp(row->model, AIGW_RECORD_MODEL_OTHER) != 0)
    {
        return 0;
    }

    if (row->v[AIGW_F_INPUT] == 0 && row->v[AIGW_F_OUTPUT] == 0
        && row->v[AIGW_F_CACHE_READ] == 0 && row->v[AIGW_F_CACHE_WRITE] == 0
        && row->v[AIGW_F_IMAGES] == 0)
    {
        aigw_buf_str(out, ",0.000000000,0.000000000,0.000000000,"
                          "0.000000000\n");
        return 1;
    }

    if (row->v[AIGW_F_COST] == 0) {
        return 0;
    }

    aigw_buf_str(out, ",,,,");
    aigw_buf_add(out, num, aigw_cost_format(row->v[AIGW_F_COST], num));
    aigw_buf_add(out, "\n", 1);

    return 1;
}


static void
aigw_export_field(aigw_buf_t *out, const char *s, size_t len)
{
    char  *q;

    if (!aigw_csv_needs_quotes(s, len)) {
        aigw_buf_add(out, s, len);
        return;
    }

    q = malloc(2 * len + 2);
    if (q == NULL) {
        out->failed = 1;
        return;
    }

    aigw_buf_add(out, q, aigw_csv_field(q, s, len));
    free(q);
}


/* a model whose rows lack some cost, once per model and price */

static void
aigw_export_note(aigw_export_ctx_t *ctx, const char *model,
    const aigw_price_t *price, unsigned missing, int overflow)
{
    size_t            i;
    aigw_unpriced_t  *u;

    for (i = 0; i < ctx->nunpriced; i++) {
        u = &ctx->unpriced[i];

        if (strcmp(u->model, model) == 0) {
            u->rows++;
            u->missing |= missing;
            u->overflow |= overflow;
            return;
        }
    }

    if (ctx->nunpriced == ctx->cap) {
        ctx->cap = ctx->cap ? 2 * ctx->cap : 8;
        u = realloc(ctx->unpriced, ctx->cap * sizeof(aigw_unpriced_t));
        if (u == NULL) {
            ctx->failed = 1;
            return;
        }

        ctx->unpriced = u;
    }

    u = &ctx->unpriced[ctx->nunpriced];
    memset(u, 0, sizeof(aigw_unpriced_t));
    u->model = strdup(model);
    u->key = price ? strdup(price->key.data) : NULL;
    u->missing = missing;
    u->overflow = overflow;
    u->rows = 1;

    if (u->model == NULL || (price && u->key == NULL)) {
        free(u->model);
        free(u->key);
        ctx->failed = 1;
        return;
    }

    ctx->nunpriced++;
}


static int
aigw_unpriced_cmp(const void *a, const void *b)
{
    return strcmp(((const aigw_unpriced_t *) a)->model,
                  ((const aigw_unpriced_t *) b)->model);
}


/* names the models with missing costs on stderr; 1 if any */

static int
aigw_export_report(aigw_export_ctx_t *ctx)
{
    char              what[160];
    size_t            i;
    aigw_unpriced_t  *u;

    if (ctx->nunpriced == 0) {
        return 0;
    }

    qsort(ctx->unpriced, ctx->nunpriced, sizeof(aigw_unpriced_t),
          aigw_unpriced_cmp);

    for (i = 0; i < ctx->nunpriced; i++) {
        u = &ctx->unpriced[i];

        if (u->key == NULL) {
            fprintf(stderr, "aigw export: no price for model \"%s\" in "
                    "\"%s\"%s%s: %zu row%s with empty cost columns\n",
                    u->model, ctx->pricing_path,
                    ctx->region ? " for region " : "",
                    ctx->region ? ctx->region : "", u->rows,
                    u->rows == 1 ? "" : "s");
            continue;
        }

        if (u->overflow) {
            fprintf(stderr, "aigw export: model \"%s\": a cost over "
                    "18 billion USD: %zu row%s with empty cost columns\n",
                    u->model, u->rows, u->rows == 1 ? "" : "s");
            continue;
        }

        snprintf(what, sizeof(what), "%s%s%s%s%s",
                 (u->missing & AIGW_PRICE_INPUT) ? ", input tokens" : "",
                 (u->missing & AIGW_PRICE_OUTPUT) ? ", output tokens" : "",
                 (u->missing & AIGW_PRICE_CACHE_READ)
                 ? ", cache read tokens" : "",
                 (u->missing & AIGW_PRICE_CACHE_WRITE)
                 ? ", cache write tokens" : "",
                 (u->missing & AIGW_PRICE_IMAGE)
                 ? ", images (no size or quality price applies)" : "");

        fprintf(stderr, "aigw export: model \"%s\" (priced by \"%s\"): no "
                "price for %s: %zu row%s with empty %s%s%stotal_cost\n",
                u->model, u->key, what + 2, u->rows,
                u->rows == 1 ? "" : "s",
                (u->missing & AIGW_COST_INPUT_MISSING) ? "input_cost, " : "",
                (u->missing & AIGW_COST_OUTPUT_MISSING)
                ? "output_cost, " : "",
                (u->missing & AIGW_COST_CACHE_MISSING) ? "cache_cost, " : "");
    }

    return 1;
}


static int
aigw_export_file(const char *path, const aigw_buf_t *buf, char *err,
    size_t err_size)
{
    int      fd;
    char    *tmp;
    size_t   len, off;
    ssize_t  n;

    if (strcmp(path, "-") == 0) {
        if (buf->len && fwrite(buf->data, 1, buf->len, stdout) != buf->len) {
            snprintf(err, err_size, "stdout: %s", strerror(errno));
            return -1;
        }

        if (fflush(stdout) != 0) {
            snprintf(err, err_size, "stdout: %s", strerror(errno));
            return -1;
        }

        return 0;
    }

    len = strlen(path) + 32;
    tmp = malloc(len);
    if (tmp == NULL) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }

    snprintf(tmp, len, "%s.tmp.%ld", path, (long) getpid());

    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, err_size, "\"%s\": %s", tmp, strerror(errno));
        free(tmp);
        return -1;
    }

    for (off = 0; off < buf->len; off += (size_t) n) {
        n = write(fd, buf->data + off, buf->len - off);

        if (n < 0 && errno == EINTR) {
            n = 0;
            continue;
        }

        if (n <= 0) {
            snprintf(err, err_size, "\"%s\": %s", tmp, strerror(errno));
            goto failed;
        }
    }

    if (fsync(fd) != 0) {
        snprintf(err, err_size, "\"%s\": fsync: %s", tmp, strerror(errno));
        goto failed;
    }

    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, err_size, "\"%s\": %s", tmp, strerror(errno));
        goto failed;
    }

    fd = -1;

    if (rename(tmp, path) != 0) {
        snprintf(err, err_size, "\"%s\": %s", path, strerror(errno));
        goto failed;
    }

    free(tmp);

    return 0;

failed:

    if (fd >= 0) {
        close(fd);
    }

    (void) unlink(tmp);
    free(tmp);

    return -1;
}
