
/*
 * aigw: a day's usage read from Redis (see aigw_redis_read.h).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "aigw_decimal.h"
#include "aigw_redis_read.h"


#define AIGW_REDIS_BATCH        512
#define AIGW_REDIS_TIMEOUT      30


static int aigw_day_row_fill(aigw_day_row_t *row, const char *key,
    const redisReply *r, char *err, size_t err_size);


redisContext *
aigw_redis_open(const aigw_redis_opts_t *o, char *err, size_t err_size)
{
    char            host[256];
    size_t          hlen;
    uint64_t        port, db;
    redisReply     *r;
    const char     *addr, *colon, *h;
    redisContext   *c;
    struct timeval  tv;

    addr = o->addr ? o->addr : "127.0.0.1:6379";
    db = 0;

    if (o->db
        && aigw_decimal_parse(o->db, strlen(o->db), 0, 0, &db)
           != AIGW_DECIMAL_OK)
    {
        snprintf(err, err_size, "--db \"%s\": expected a number", o->db);
        return NULL;
    }

    tv.tv_sec = 10;
    tv.tv_usec = 0;

    if (strncmp(addr, "unix:", 5) == 0) {
        if (addr[5] == '\0') {
            snprintf(err, err_size, "--redis \"%s\": expected unix:/path",
                     addr);
            return NULL;
        }

        c = redisConnectUnixWithTimeout(addr + 5, tv);

    } else {
        if (addr[0] == '[') {
            h = addr + 1;
            colon = strchr(h, ']');

            if (colon == NULL || (colon[1] != ':' && colon[1] != '\0')) {
                goto invalid;
            }

            hlen = (size_t) (colon - h);
            colon = colon[1] ? colon + 1 : NULL;

        } else {
            h = addr;
            colon = strrchr(addr, ':');
            hlen = colon ? (size_t) (colon - addr) : strlen(addr);
        }

        port = 6379;

        if (colon
            && (aigw_decimal_parse(colon + 1, strlen(colon + 1), 0, 0,
                                   &port)
                != AIGW_DECIMAL_OK
                || port == 0 || port > 65535))
        {
            goto invalid;
        }

        if (hlen == 0 || hlen >= sizeof(host)) {
            goto invalid;
        }

        memcpy(host, h, hlen);
        host[hlen] = '\0';

        c = redisConnectWithTimeout(host, (int) port, tv);
    }

    if (c == NULL) {
        snprintf(err, err_size, "Redis at %s: out of memory", addr);
        return NULL;
    }

    if (c->err) {
        snprintf(err, err_size, "Redis at %s: %s", addr, c->errstr);
        redisFree(c);
        return NULL;
    }

    tv.tv_sec = AIGW_REDIS_TIMEOUT;
    (void) redisSetTimeout(c, tv);

    if (o->password) {
        r = redisCommand(c, "AUTH %s", o->password);

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, err_size, "Redis at %s: AUTH: %s", addr,
                     r ? r->str : c->errstr);
            goto failed;
        }

        freeReplyObject(r);
    }

    if (db) {
        r = redisCommand(c, "SELECT %llu", (unsigned long long) db);

        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            snprintf(err, err_size, "Redis at %s: SELECT %llu: %s", addr,
                     (unsigned long long) db, r ? r->str : c->errstr);
            goto failed;
        }

        freeReplyObject(r);
    }

    return c;

failed:

    if (r) {
        freeReplyObject(r);
    }

    redisFree(c);
    return NULL;

invalid:

    snprintf(err, err_size, "--redis \"%s\": expected host:port, "
             "[address]:port or unix:/path", addr);
    return NULL;
}


int
aigw_redis_day(redisContext *c, const char *cmd, const char *prefix,
    const char *date, aigw_day_rows_t *rows, char *err, size_t err_size)
{
    int              rc, bad;
    char            *key, *colon;
    void            *reply;
    size_t           j, k, n, klen, plen, base;
    redisReply      *members, *r, *m;
    aigw_day_row_t  *row, *grown;

    rc = -1;
    plen = strlen(prefix);

    members = redisCommand(c, "SMEMBERS %s:usage:%s:index", prefix, date);

    if (members == NULL) {
        snprintf(err, err_size, "Redis: SMEMBERS: %s", c->errstr);
        return -1;
    }

    if (members->type == REDIS_REPLY_ERROR) {
        snprintf(err, err_size, "Redis: SMEMBERS %s:usage:%s:index: %s",
                 prefix, date, members->str);
        freeReplyObject(members);
        return -1;
    }

    if (members->type != REDIS_REPLY_ARRAY) {
        snprintf(err, err_size, "Redis: SMEMBERS: unexpected reply");
        freeReplyObject(members);
        return -1;
    }

    n = members->elements;
    key = NULL;

    if (n && rows->cap - rows->n < n) {
        grown = realloc(rows->rows, (rows->n + n) * sizeof(aigw_day_row_t));
        if (grown == NULL) {
            snprintf(err, err_size, "out of memory");
            goto done;
        }

        rows->rows = grown;
        rows->cap = rows->n + n;
    }

    /* HGETALL, AIGW_REDIS_BATCH at a time */

    for (base = 0; base < n; base += AIGW_REDIS_BATCH) {
        k = (n - base < AIGW_REDIS_BATCH) ? n - base : AIGW_REDIS_BATCH;

        for (j = 0; j < k; j++) {
            m = members->element[base + j];

            if (m->type != REDIS_REPLY_STRING) {
                snprintf(err, err_size, "Redis: SMEMBERS: not a string");
                goto done;
            }

            if (redisAppendCommand(c, "HGETALL %s:usage:%s:%b", prefix,
                                   date, m->str, m->len)
                != REDIS_OK)
            {
                snprintf(err, err_size, "Redis: %s", c->errstr);
                goto done;
            }
        }

        for (j = 0; j < k; j++) {
            m = members->element[base + j];

            if (redisGetReply(c, &reply) != REDIS_OK || reply == NULL) {
                snprintf(err, err_size, "Redis: HGETALL: %s", c->errstr);
                goto done;
            }

            r = reply;

            free(key);
            klen = plen + 7 + AIGW_DATE_LEN + 1 + m->len + 1;
            key = malloc(klen);

            if (key == NULL) {
                freeReplyObject(r);
                snprintf(err, err_size, "out of memory");
                goto done;
            }

            snprintf(key, klen, "%s:usage:%s:%.*s", prefix, date,
                     (int) m->len, m->str);

            if (r->type == REDIS_REPLY_ERROR) {
                snprintf(err, err_size, "Redis: HGETALL %s: %s", key,
                         r->str);
                freeReplyObject(r);
                goto done;
            }

            colon = memchr(m->str, ':', m->len);

            if (colon == NULL || colon == m->str
                || (size_t) (colon - m->str) + 1 == m->len
                || memchr(m->str, '\0', m->len) != NULL)
            {
                fprintf(stderr, "aigw %s: %s:usage:%s:index: member \"%.*s\" "
                        "is not TENANT:MODEL: skipped\n", cmd, prefix, date,
                        (int) (m->len > 200 ? 200 : m->len), m->str);
                freeReplyObject(r);
                continue;
            }

            if (r->type != REDIS_REPLY_ARRAY || r->elements == 0) {
                fprintf(stderr, "aigw %s: %s: in the day's index, but no "
                        "such hash (deleted or expired?): skipped\n", cmd,
                        key);
                freeReplyObject(r);
                continue;
            }

            row = &rows->rows[rows->n];
            memset(row, 0, sizeof(aigw_day_row_t));
            memcpy(row->date, date, AIGW_DATE_LEN + 1);

            row->tenant = malloc((size_t) (colon - m->str) + 1);
            row->model = malloc(m->len - (size_t) (colon - m->str));

            if (row->tenant == NULL || row->model == NULL) {
                free(row->tenant);
                free(row->model);
                freeReplyObject(r);
                snprintf(err, err_size, "out of memory");
                goto done;
            }

            memcpy(row->tenant, m->str, (size_t) (colon - m->str));
            row->tenant[colon - m->str] = '\0';
            memcpy(row->model, colon + 1, m->len - (size_t) (colon - m->str)
                                          - 1);
            row->model[m->len - (size_t) (colon - m->str) - 1] = '\0';

            rows->n++;

            bad = aigw_day_row_fill(row, key, r, err, err_size);
            freeReplyObject(r);

            if (bad) {
                goto done;
            }
        }
    }

    rc = 0;

done:

    /* after an error, replies may still be pending: the caller gives up */

    free(key);
    freeReplyObject(members);

    return rc;
}


static int
aigw_day_row_fill(aigw_day_row_t *row, const char *key, const redisReply *r,
    char *err, size_t err_size)
{
    size_t               i, f, n;
    uint64_t             v;
    const char          *name, *size, *q;
    aigw_image_count_t  *ic;
    const redisReply    *fr, *vr;

    for (i = 0; i + 1 < r->elements; i += 2) {
        fr = r->element[i];
        vr = r->element[i + 1];

        if (fr->type != REDIS_REPLY_STRING || vr->type != REDIS_REPLY_STRING) {
            snprintf(err, err_size, "Redis: HGETALL %s: unexpected reply",
                     key);
            return -1;
        }

        name = fr->str;

        if (memchr(name, '\0', fr->len) != NULL) {
            /* not a field of ours: names are compared as C strings */
            continue;
        }

        if (fr->len >= 7 && strncmp(name, "images:", 7) == 0) {
            /* images:SIZE:QUALITY */

            size = name + 7;
            q = memchr(size, ':', fr->len - 7);

            if (q == NULL) {
                continue;
            }

            if (aigw_decimal_parse(vr->str, vr->len, 0, 0, &v)
                != AIGW_DECIMAL_OK)
            {
                goto bad;
            }

            n = row->nimages;
            ic = realloc(row->images, (n + 1) * sizeof(aigw_image_count_t));
            if (ic == NULL) {
                snprintf(err, err_size, "out of memory");
                return -1;
            }

            row->images = ic;
            ic = &ic[n];
            memset(ic, 0, sizeof(aigw_image_count_t));
            row->nimages++;

            ic->size.data = strndup(size, (size_t) (q - size));
            ic->quality.data = strndup(q + 1,
                                       fr->len - (size_t) (q + 1 - name));

            if (ic->size.data == NULL || ic->quality.data == NULL) {
                snprintf(err, err_size, "out of memory");
                return -1;
            }

            ic->size.len = strlen(ic->size.data);
            ic->quality.len = strlen(ic->quality.data);
            ic->count = v;

            continue;
        }

        for (f = 0; f < AIGW_RECORD_FIELDS; f++) {
            if (strcmp(name, aigw_record_fields[f]) == 0) {
                break;
            }
        }

        if (f == AIGW_RECORD_FIELDS) {
            /* a field of a later version: not ours */
            continue;
        }

        if (aigw_decimal_parse(vr->str, vr->len, 0, 0, &row->v[f])
            != AIGW_DECIMAL_OK)
        {
            goto bad;
        }
    }

    return 0;

bad:

    snprintf(err, err_size, "Redis: %s: field \"%s\" is \"%.*s\", not a "
             "non-negative integer", key, name,
             (int) (vr->len > 40 ? 40 : vr->len), vr->str);
    return -1;
}
