
/*
 * aigw: "aigw alerts": the budget alerts of the Redis stream PREFIX:alerts
 * (../shared/SPEC.md, "Limits, budgets, alerts, metrics"), oldest first,
 * as an aligned table or as JSON lines; with --follow, then each new one
 * as it comes (XREAD BLOCK), until SIGINT or SIGTERM.
 *
 * The stream is writable by anyone with access to Redis: each value is
 * cleaned for the terminal and cut (aigw_text.h), unknown fields are
 * ignored, and an entry of another shape is skipped with a warning.
 */


#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aigw_cli.h"
#include "aigw_dates.h"
#include "aigw_decimal.h"
#include "aigw_opts.h"
#include "aigw_redis_read.h"
#include "aigw_text.h"


#define AIGW_ALERTS_COLS         8
#define AIGW_ALERTS_CELL         128     /* the bytes of a value shown */
#define AIGW_ALERTS_COUNT        100
#define AIGW_ALERTS_COUNT_MAX    100000
#define AIGW_ALERTS_BLOCK_MS     1000    /* how soon a signal is seen */
#define AIGW_ALERTS_BATCH        100     /* the most entries an XREAD reads */
#define AIGW_ALERTS_BACKOFF_MS   250
#define AIGW_ALERTS_BACKOFF_MAX  5000

/* a stream ID, MS-SEQ: two 64-bit numbers */
#define AIGW_ALERTS_ID_LEN       41


typedef struct {
    char                 id[AIGW_ALERTS_ID_LEN + 1];
    unsigned             present;       /* a bit a column */
    char                 cell[AIGW_ALERTS_COLS]
                             [AIGW_ALERTS_CELL + AIGW_TEXT_EXTRA];
} aigw_alert_t;


typedef struct {
    const char          *key;           /* PREFIX:alerts */
    int                  json;
    size_t               w[AIGW_ALERTS_COLS];
} aigw_alerts_ctx_t;


static int aigw_alerts_since(const char *s, uint64_t *ms, uint64_t *seq);
static int aigw_alerts_id(const char *s, size_t len, uint64_t *ms,
    uint64_t *seq);
static int aigw_alerts_entry(aigw_alerts_ctx_t *ctx, const redisReply *e,
    aigw_alert_t *a);
static int aigw_alerts_print(aigw_alerts_ctx_t *ctx, const aigw_alert_t *a);
static int aigw_alerts_failed(aigw_alerts_ctx_t *ctx, redisContext *c,
    const char *cmd, redisReply *r);
static int aigw_alerts_follow(aigw_alerts_ctx_t *ctx,
    const aigw_redis_opts_t *ro, redisContext *c, char *last);
static void aigw_alerts_signal(int signo);
static void aigw_alerts_sleep(unsigned ms);


/* the fields shown, in their columns' order; a column's head is its
 * field's name in capitals; the numbers are aligned on their right */

static const char  *aigw_alerts_fields[AIGW_ALERTS_COLS] = {
    "time", "tenant", "key", "period", "period_start", "threshold",
    "spend_usd", "limit_usd"
};

#define AIGW_ALERTS_NUMBERS  5

/* the narrowest of the columns: a time, "monthly" */
static const size_t  aigw_alerts_min_width[AIGW_ALERTS_COLS] = {
    20, 0, 0, 7, 0, 0, 0, 0
};


static volatile sig_atomic_t  aigw_alerts_stop;
static volatile sig_atomic_t  aigw_alerts_waiting;


static const char  aigw_alerts_help[] =
    "usage: aigw alerts [-n N | --count N] [--since TIME | --since ID]\n"
    "                   [-f | --follow] [--json]\n"
    "                   [--redis ADDR] [--password P] [--db N] [--prefix P]\n"
    "\n"
    "Prints the budget alerts of the gateways, the entries of the Redis\n"
    "stream PREFIX:alerts, oldest first, one a line, in the columns\n"
    "\n"
    "  TIME TENANT KEY PERIOD PERIOD_START THRESHOLD SPEND_USD LIMIT_USD\n"
    "\n"
    "(\"-\": a field the entry does not have).  A value is shown cleaned:\n"
    "control characters, terminal escapes and bytes that are not UTF-8\n"
    "become \"?\", and a value longer than 128 bytes is cut with an\n"
    "ellipsis.  An empty or missing stream prints the header alone.\n"
    "\n"
    "options:\n"
    "  -n, --count N    the last N entries (default 100; 0: none, for\n"
    "                   --follow)\n"
    "  --since T        only the entries added at or after T: a UTC time,\n"
    "                   YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, or a stream\n"
    "                   entry ID, MS or MS-SEQ (the \"id\" of --json); the\n"
    "                   last N of them\n"
    "  -f, --follow     then wait for new entries and print each as it\n"
    "                   comes, until interrupted (SIGINT, SIGTERM: exit\n"
    "                   0); while Redis is away, retry (one line on stderr\n"
    "                   an outage)\n"
    "  --json           one JSON object a line instead of the table: \"id\"\n"
    "                   (the entry's ID) and each field the entry has, as\n"
    "                   strings, cleaned as above; no header\n"
    AIGW_REDIS_OPTS_HELP
    "  -h, --help       this help\n"
    "\n"
    "Exit status: 0 done (or interrupted with --follow), 1 an error (Redis,\n"
    "PREFIX:alerts not a stream), 2 bad usage.\n";


int
aigw_cmd_alerts(int argc, char **argv)
{
    int                  rc, follow, json, status;
    char                 err[AIGW_CLI_ERR_LEN], *key;
    char                 start[AIGW_ALERTS_ID_LEN + 1];
    char                 last[AIGW_ALERTS_ID_LEN + 1];
    size_t               i, j, k, n, len;
    uint64_t             count, ms, seq;
    redisReply          *r;
    redisContext        *redis;
    aigw_alert_t        *alerts, a;
    aigw_alerts_ctx_t    ctx;
    aigw_redis_opts_t    ro;
    struct sigaction     sa;
    const char          *count_s, *since;
    aigw_opt_t           opts[] = {
        { "--count", 'n', &count_s, NULL, 0 },
        { "--since", 0, &since, NULL, 0 },
        { "--follow", 'f', NULL, &follow, 0 },
        { "--json", 0, NULL, &json, 0 },
        AIGW_REDIS_OPTS(ro),
        { NULL, 0, NULL, NULL, 0 }
    };

    count_s = NULL;
    since = NULL;
    follow = 0;
    json = 0;
    memset(&ro, 0, sizeof(aigw_redis_opts_t));

    rc = aigw_opts_parse("alerts", aigw_alerts_help, argc, argv, opts, 0);
    if (rc >= 0) {
        return rc;
    }

    count = AIGW_ALERTS_COUNT;

    if (count_s
        && (aigw_decimal_parse(count_s, strlen(count_s), 0, 0, &count)
            != AIGW_DECIMAL_OK
            || count > AIGW_ALERTS_COUNT_MAX))
    {
        return aigw_opts_error("alerts", "--count \"%s\": expected a number "
                               "from 0 to %d", count_s,
                               AIGW_ALERTS_COUNT_MAX);
    }

    /* "last": where --follow reads on from, the last entry seen; before
     * any, the ID just below --since's (XREAD reads after its ID) */

    strcpy(start, "-");
    strcpy(last, "0-0");

    if (since) {
        if (aigw_alerts_since(since, &ms, &seq) != 0) {
            return aigw_opts_error("alerts", "--since \"%s\": expected "
                                   "YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or a "
                                   "stream ID, MS or MS-SEQ", since);
        }

        snprintf(start, sizeof(start), "%llu-%llu", (unsigned long long) ms,
                 (unsigned long long) seq);

        if (seq) {
            snprintf(last, sizeof(last), "%llu-%llu",
                     (unsigned long long) ms, (unsigned long long) seq - 1);

        } else if (ms) {
            snprintf(last, sizeof(last), "%llu-%llu",
                     (unsigned long long) ms - 1,
                     (unsigned long long) UINT64_MAX);
        }
    }

    if (ro.prefix == NULL) {
        ro.prefix = "aigw";
    }

    len = strlen(ro.prefix) + sizeof(":alerts");
    key = malloc(len);
    if (key == NULL) {
        fprintf(stderr, "aigw alerts: out of memory\n");
        return AIGW_EXIT_ERROR;
    }

    snprintf(key, len, "%s:alerts", ro.prefix);

    memset(&ctx, 0, sizeof(aigw_alerts_ctx_t));
    ctx.key = key;
    ctx.json = json;

    status = AIGW_EXIT_ERROR;
    alerts = NULL;
    r = NULL;

    if (follow) {
        /* a signal while waiting exits at once: all that was printed is
         * flushed (hiredis reads again after EINTR: a wait would last
         * until XREAD's BLOCK times out); else it ends the loop of
         * aigw_alerts_follow() at its next turn */

        memset(&sa, 0, sizeof(struct sigaction));
        sa.sa_handler = aigw_alerts_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }

    redis = aigw_redis_open(&ro, err, sizeof(err));
    if (redis == NULL) {
        fprintf(stderr, "aigw alerts: %s\n", err);
        goto done;
    }

    /* the last "count" entries, newest first; one at least, for --follow
     * to read on after the newest */

    r = redisCommand(redis, "XREVRANGE %s + %s COUNT %llu", key, start,
                     (unsigned long long) (count ? count : 1));

    if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
        aigw_alerts_failed(&ctx, redis, "XREVRANGE", r);
        r = NULL;
        goto done;
    }

    alerts = calloc(r->elements + 1, sizeof(aigw_alert_t));
    if (alerts == NULL) {
        fprintf(stderr, "aigw alerts: out of memory\n");
        goto done;
    }

    n = 0;

    for (i = 0; i < r->elements; i++) {
        rc = aigw_alerts_entry(&ctx, r->element[i], &a);

        if (i == 0 && a.id[0]) {
            memcpy(last, a.id, sizeof(a.id));
        }

        if (rc == 0 && n < count) {
            alerts[n++] = a;
        }
    }

    freeReplyObject(r);
    r = NULL;

    /* the widths, then the table, oldest first */

    for (j = 0; j < AIGW_ALERTS_COLS; j++) {
        ctx.w[j] = strlen(aigw_alerts_fields[j]);

        if (ctx.w[j] < aigw_alerts_min_width[j]) {
            ctx.w[j] = aigw_alerts_min_width[j];
        }

        for (i = 0; i < n; i++) {
            len = aigw_text_width(alerts[i].cell[j]);
            ctx.w[j] = (len > ctx.w[j]) ? len : ctx.w[j];
        }
    }

    /* the header: the fields' names in capitals */

    if (!json) {
        memset(&a, 0, sizeof(aigw_alert_t));

        for (j = 0; j < AIGW_ALERTS_COLS; j++) {
            for (k = 0; aigw_alerts_fields[j][k]; k++) {
                a.cell[j][k] = (char) toupper(aigw_alerts_fields[j][k]);
            }
        }

        if (aigw_alerts_print(&ctx, &a) != 0) {
            goto done;
        }
    }

    for (i = n; i > 0; i--) {
        if (aigw_alerts_print(&ctx, &alerts[i - 1]) != 0) {
            goto done;
        }
    }

    free(alerts);
    alerts = NULL;

    if (follow) {
        status = aigw_alerts_follow(&ctx, &ro, redis, last);
        redis = NULL;
        goto done;
    }

    status = AIGW_EXIT_OK;

done:

    if (r) {
        freeReplyObject(r);
    }

    if (redis) {
        redisFree(redis);
    }

    free(alerts);
    free(key);

    return status;
}


/* waits for the entries after "last" and prints them; frees "c" */

static int
aigw_alerts_follow(aigw_alerts_ctx_t *ctx, const aigw_redis_opts_t *ro,
    redisContext *c, char *last)
{
    int                rc, type, status, down;
    char               err[AIGW_CLI_ERR_LEN];
    size_t             i;
    unsigned           backoff;
    redisReply        *r, *s;
    aigw_alert_t       a;

    status = AIGW_EXIT_OK;
    down = 0;
    backoff = AIGW_ALERTS_BACKOFF_MS;

    while (!aigw_alerts_stop) {

        aigw_alerts_waiting = 1;

        if (c == NULL) {
            aigw_alerts_sleep(backoff);

            backoff = (backoff * 2 > AIGW_ALERTS_BACKOFF_MAX)
                      ? AIGW_ALERTS_BACKOFF_MAX : backoff * 2;

            if (aigw_alerts_stop) {
                break;
            }

            c = aigw_redis_open(ro, err, sizeof(err));
            aigw_alerts_waiting = 0;
            continue;
        }

        r = redisCommand(c, "XREAD COUNT %d BLOCK %d STREAMS %s %s",
                         AIGW_ALERTS_BATCH, AIGW_ALERTS_BLOCK_MS, ctx->key,
                         last);

        aigw_alerts_waiting = 0;

        if (r && r->type == REDIS_REPLY_NIL) {
            freeReplyObject(r);
            down = 0;
            continue;
        }

        type = r ? r->type : REDIS_REPLY_ERROR;

        if (type == REDIS_REPLY_ERROR
            && (r == NULL || strncmp(r->str, "WRONGTYPE", 9) != 0))
        {
            /* gone (or loading, or restarted without us): again, later */

            if (!down && !aigw_alerts_stop) {
                fprintf(stderr, "aigw alerts: Redis at %s: %.200s: retrying "
                        "until it answers\n",
                        ro->addr ? ro->addr : "127.0.0.1:6379",
                        r ? r->str : c->errstr);
                down = 1;
            }

            if (r) {
                freeReplyObject(r);
            }

            redisFree(c);
            c = NULL;
            continue;
        }

        /* [[KEY, [ENTRY, ...]]] */

        if (type != REDIS_REPLY_ARRAY || r->elements != 1
            || r->element[0]->type != REDIS_REPLY_ARRAY
            || r->element[0]->elements != 2
            || r->element[0]->element[1]->type != REDIS_REPLY_ARRAY)
        {
            aigw_alerts_failed(ctx, c, "XREAD", r);
            status = AIGW_EXIT_ERROR;
            break;
        }

        down = 0;
        backoff = AIGW_ALERTS_BACKOFF_MS;
        s = r->element[0]->element[1];

        for (i = 0; i < s->elements; i++) {
            rc = aigw_alerts_entry(ctx, s->element[i], &a);

            /* past an entry skipped too, not to read it again */

            if (a.id[0]) {
                memcpy(last, a.id, sizeof(a.id));
            }

            if (rc != 0) {
                continue;
            }

            if (aigw_alerts_print(ctx, &a) != 0) {
                status = AIGW_EXIT_ERROR;
                break;
            }
        }

        freeReplyObject(r);

        if (status != AIGW_EXIT_OK) {
            break;
        }
    }

    if (c) {
        redisFree(c);
    }

    return status;
}


/* "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SSZ", "MS" or "MS-SEQ" */

static int
aigw_alerts_since(const char *s, uint64_t *ms, uint64_t *seq)
{
    time_t  t;

    t = aigw_time_parse(s);

    if (t != -1) {
        *ms = (uint64_t) t * 1000;
        *seq = 0;
        return 0;
    }

    if (strchr(s, '-') == NULL) {
        *seq = 0;
        return aigw_decimal_parse(s, strlen(s), 0, 0, ms) == AIGW_DECIMAL_OK
               ? 0 : -1;
    }

    return aigw_alerts_id(s, strlen(s), ms, seq);
}


/* a stream entry's ID, MS-SEQ */

static int
aigw_alerts_id(const char *s, size_t len, uint64_t *ms, uint64_t *seq)
{
    const char  *dash;

    dash = memchr(s, '-', len);

    if (dash == NULL
        || aigw_decimal_parse(s, (size_t) (dash - s), 0, 0, ms)
           != AIGW_DECIMAL_OK
        || aigw_decimal_parse(dash + 1, len - (size_t) (dash + 1 - s), 0, 0,
                              seq)
           != AIGW_DECIMAL_OK)
    {
        return -1;
    }

    return 0;
}


/*
 * An entry, [ID, [FIELD, VALUE, ...]], into "a"; -1 with a warning when
 * it is not one (a->id is set all the same once the ID is valid, else
 * empty).  The first of two fields of one name is the one kept.
 */

static int
aigw_alerts_entry(aigw_alerts_ctx_t *ctx, const redisReply *e,
    aigw_alert_t *a)
{
    char               id[AIGW_ALERTS_ID_LEN + AIGW_TEXT_EXTRA];
    size_t             i, j;
    uint64_t           ms, seq;
    const redisReply  *f, *v;

    memset(a, 0, sizeof(aigw_alert_t));

    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2
        || e->element[0]->type != REDIS_REPLY_STRING)
    {
        fprintf(stderr, "aigw alerts: %s: an entry is not [ID, FIELDS]: "
                "skipped\n", ctx->key);
        return -1;
    }

    f = e->element[0];

    if (f->len > AIGW_ALERTS_ID_LEN
        || aigw_alerts_id(f->str, f->len, &ms, &seq) != 0)
    {
        aigw_text_clean(id, AIGW_ALERTS_ID_LEN, f->str, f->len);
        fprintf(stderr, "aigw alerts: %s: entry \"%s\": not a stream ID: "
                "skipped\n", ctx->key, id);
        return -1;
    }

    memcpy(a->id, f->str, f->len);

    v = e->element[1];

    if (v->type != REDIS_REPLY_ARRAY || v->elements % 2) {
        goto bad;
    }

    for (i = 0; i < v->elements; i++) {
        if (v->element[i]->type != REDIS_REPLY_STRING) {
            goto bad;
        }
    }

    for (i = 0; i < v->elements; i += 2) {
        f = v->element[i];

        for (j = 0; j < AIGW_ALERTS_COLS; j++) {
            if (f->len == strlen(aigw_alerts_fields[j])
                && memcmp(f->str, aigw_alerts_fields[j], f->len) == 0)
            {
                break;
            }
        }

        if (j == AIGW_ALERTS_COLS || (a->present & (1u << j))) {
            /* a field of a later version, or one given again */
            continue;
        }

        f = v->element[i + 1];
        aigw_text_clean(a->cell[j], AIGW_ALERTS_CELL, f->str, f->len);
        a->present |= 1u << j;
    }

    return 0;

bad:

    fprintf(stderr, "aigw alerts: %s: entry %s is not a field/value list: "
            "skipped\n", ctx->key, a->id);
    return -1;
}


/* a line: the table's, or a JSON object's; flushed, for a pipe's reader */

static int
aigw_alerts_print(aigw_alerts_ctx_t *ctx, const aigw_alert_t *a)
{
    int          rc;
    char        *text;
    size_t       j;
    json_t      *o;
    const char  *cell;

    if (ctx->json) {
        o = json_object();
        rc = (o == NULL
              || json_object_set_new(o, "id", json_string(a->id)) != 0);

        for (j = 0; !rc && j < AIGW_ALERTS_COLS; j++) {
            if (a->present & (1u << j)) {
                rc = json_object_set_new(o, aigw_alerts_fields[j],
                                         json_string(a->cell[j]));
            }
        }

        text = rc ? NULL : json_dumps(o, JSON_COMPACT);
        json_decref(o);

        if (text == NULL) {
            fprintf(stderr, "aigw alerts: out of memory\n");
            return -1;
        }

        puts(text);
        free(text);

    } else {
        for (j = 0; j < AIGW_ALERTS_COLS; j++) {
            cell = a->cell[j][0] ? a->cell[j] : "-";

            fputs(j ? "  " : "", stdout);
            aigw_text_pad(stdout, cell, ctx->w[j], j >= AIGW_ALERTS_NUMBERS);
        }

        putchar('\n');
    }

    if (fflush(stdout) != 0) {
        fprintf(stderr, "aigw alerts: stdout: write error\n");
        return -1;
    }

    return 0;
}


/* a reply that is not what "cmd" answers: the message, and -1 */

static int
aigw_alerts_failed(aigw_alerts_ctx_t *ctx, redisContext *c, const char *cmd,
    redisReply *r)
{
    redisReply  *t;

    if (r == NULL) {
        fprintf(stderr, "aigw alerts: Redis: %s: %s\n", cmd, c->errstr);
        return -1;
    }

    if (r->type != REDIS_REPLY_ERROR) {
        fprintf(stderr, "aigw alerts: Redis: %s %s: unexpected reply\n",
                cmd, ctx->key);

    } else if (strncmp(r->str, "WRONGTYPE", 9) != 0) {
        fprintf(stderr, "aigw alerts: Redis: %s %s: %.200s\n", cmd,
                ctx->key, r->str);

    } else {
        t = redisCommand(c, "TYPE %s", ctx->key);

        fprintf(stderr, "aigw alerts: %s is a %.32s, not a stream: is "
                "--prefix right?\n", ctx->key,
                (t && t->type == REDIS_REPLY_STATUS) ? t->str : "value");

        if (t) {
            freeReplyObject(t);
        }
    }

    freeReplyObject(r);

    return -1;
}


static void
aigw_alerts_signal(int signo)
{
    if (aigw_alerts_waiting) {
        _exit(AIGW_EXIT_OK);
    }

    aigw_alerts_stop = 1;
}


/* sleeps "ms" milliseconds, less when a signal comes */

static void
aigw_alerts_sleep(unsigned ms)
{
    struct timespec  ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long) (ms % 1000) * 1000000;

    (void) nanosleep(&ts, NULL);
}
