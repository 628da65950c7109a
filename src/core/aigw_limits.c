
/*
 * aigw: a gateway instance's view of one subject's limits
 * (aigw_limits.h).
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aigw_limits.h"
#include "aigw_util.h"


/* src/lua/embed.sh writes aigw_limits_lua.h from src/lua/aigw_limits.lua */

const char  aigw_limits_script[] = {
#include "aigw_limits_lua.h"
};


static uint64_t aigw_lim_sub(uint64_t a, uint64_t b);
static aigw_lim_bucket_t *aigw_lim_bucket(aigw_lim_state_t *st, int64_t sec);
static void aigw_lim_digits(char *p, unsigned v, int n);
static size_t aigw_lim_decimal(char *buf, uint64_t v, uint64_t one,
    int places);


void
aigw_lim_limits(const aigw_limits_t *l, int64_t lim[AIGW_LIM_N])
{
    lim[AIGW_LIM_RPM] = l->rpm;
    lim[AIGW_LIM_TPM] = l->tpm;
    lim[AIGW_LIM_DAY] = l->daily_nanousd;
    lim[AIGW_LIM_MONTH] = l->monthly_nanousd;
}


int
aigw_lim_any(const aigw_limits_t *l)
{
    return l->rpm != AIGW_LIMIT_NONE || l->tpm != AIGW_LIMIT_NONE
           || l->daily_nanousd != AIGW_LIMIT_NONE
           || l->monthly_nanousd != AIGW_LIMIT_NONE;
}


void
aigw_lim_init(aigw_lim_state_t *st, uint64_t now_ms)
{
    int  k;

    memset(st, 0, sizeof(aigw_lim_state_t));

    for (k = 0; k < AIGW_LIM_N; k++) {
        st->quota[k] = AIGW_LIM_NO_QUOTA;
    }

    aigw_lim_period_ids(now_ms, &st->day, &st->month);
}


void
aigw_lim_roll(aigw_lim_state_t *st, uint64_t now_ms)
{
    int32_t  day, month;

    aigw_lim_period_ids(now_ms, &day, &month);

    /*
     * A new period starts at zero; the quota Redis granted for the old
     * one is of no use in it
     */

    if (day != st->day) {
        st->day = day;
        st->day_reserved = 0;
        st->day_settled = 0;
        st->lease_until = 0;
    }

    if (month != st->month) {
        st->month = month;
        st->month_reserved = 0;
        st->month_settled = 0;
        st->lease_until = 0;
    }
}


void
aigw_lim_usage(const aigw_lim_state_t *st, uint64_t now_ms,
    uint64_t use[AIGW_LIM_N])
{
    int64_t                   now;
    const aigw_lim_bucket_t  *b;

    now = (int64_t) (now_ms / 1000);

    use[AIGW_LIM_RPM] = 0;
    use[AIGW_LIM_TPM] = 0;

    for (b = st->ring; b < st->ring + AIGW_LIM_WINDOW; b++) {
        if (b->sec > now - AIGW_LIM_WINDOW && b->sec <= now) {
            use[AIGW_LIM_RPM] += b->requests;
            use[AIGW_LIM_TPM] += b->tokens;
        }
    }

    use[AIGW_LIM_DAY] = st->day_reserved + st->day_settled;
    use[AIGW_LIM_MONTH] = st->month_reserved + st->month_settled;
}


int
aigw_lim_fits(const aigw_lim_state_t *st, const int64_t lim[AIGW_LIM_N],
    const aigw_lim_need_t *need, uint64_t now_ms, int alone)
{
    int       k;
    int64_t   cap;
    uint64_t  use[AIGW_LIM_N], n[AIGW_LIM_N];

    aigw_lim_usage(st, now_ms, use);

    n[AIGW_LIM_RPM] = need->requests;
    n[AIGW_LIM_TPM] = need->tokens;
    n[AIGW_LIM_DAY] = need->nanousd;
    n[AIGW_LIM_MONTH] = need->nanousd;

    for (k = 0; k < AIGW_LIM_N; k++) {

        if (lim[k] < 0) {
            continue;
        }

        if (alone) {
            cap = lim[k];

        } else {
            if (st->lease_until <= now_ms) {
                return k;
            }

            cap = st->quota[k];
        }

        if (cap < 0 || n[k] > (uint64_t) cap || use[k] > (uint64_t) cap - n[k])
        {
            return k;
        }
    }

    return -1;
}


void
aigw_lim_draw(aigw_lim_state_t *st, const aigw_lim_need_t *need,
    uint64_t now_ms)
{
    aigw_lim_bucket_t  *b;

    b = aigw_lim_bucket(st, (int64_t) (now_ms / 1000));

    b->requests += need->requests;
    b->tokens += need->tokens;

    st->day_reserved += need->nanousd;
    st->month_reserved += need->nanousd;
}


void
aigw_lim_settle(aigw_lim_state_t *st, uint64_t admitted_ms,
    const aigw_lim_need_t *reserved, const aigw_lim_need_t *used)
{
    int32_t             day, month;
    int64_t             sec;
    aigw_lim_bucket_t  *b;

    sec = (int64_t) (admitted_ms / 1000);
    b = &st->ring[sec % AIGW_LIM_WINDOW];

    if (b->sec == sec) {
        b->tokens = aigw_lim_sub(b->tokens, reserved->tokens) + used->tokens;
    }

    aigw_lim_period_ids(admitted_ms, &day, &month);

    if (day == st->day) {
        st->day_reserved = aigw_lim_sub(st->day_reserved, reserved->nanousd);
        st->day_settled += used->nanousd;
    }

    if (month == st->month) {
        st->month_reserved = aigw_lim_sub(st->month_reserved,
                                          reserved->nanousd);
        st->month_settled += used->nanousd;
    }
}


size_t
aigw_lim_window_text(const aigw_lim_state_t *st, uint64_t now_ms, char *buf)
{
    int                       n;
    size_t                    len;
    int64_t                   now;
    const aigw_lim_bucket_t  *b;

    now = (int64_t) (now_ms / 1000);
    len = 0;
    buf[0] = '\0';

    for (b = st->ring; b < st->ring + AIGW_LIM_WINDOW; b++) {

        if (b->sec <= now - AIGW_LIM_WINDOW || b->sec > now
            || (b->requests == 0 && b->tokens == 0))
        {
            continue;
        }

        n = snprintf(buf + len, AIGW_LIM_WINDOW_TEXT - len, "%s%lld:%llu:%llu",
                     len ? "," : "", (long long) b->sec,
                     (unsigned long long) b->requests,
                     (unsigned long long) b->tokens);

        if (n < 0 || (size_t) n >= AIGW_LIM_WINDOW_TEXT - len) {
            /* 60 entries of at most 63 bytes: not reached */
            buf[len] = '\0';
            break;
        }

        len += n;
    }

    return len;
}


uint64_t
aigw_lim_retry_alone(const aigw_lim_state_t *st,
    const int64_t lim[AIGW_LIM_N], const aigw_lim_need_t *need, int k,
    uint64_t now_ms)
{
    char                      day[11], month[8];
    int64_t                   now, sec;
    uint64_t                  use[AIGW_LIM_N], n, over, freed, x;
    uint64_t                  day_left, month_left;
    const aigw_lim_bucket_t  *b;

    aigw_lim_periods(now_ms, day, month, &day_left, &month_left);

    if (k == AIGW_LIM_DAY) {
        return day_left;
    }

    if (k == AIGW_LIM_MONTH) {
        return month_left;
    }

    n = (k == AIGW_LIM_RPM) ? need->requests : need->tokens;

    if (lim[k] < 0 || n > (uint64_t) lim[k]) {
        return AIGW_LIM_WINDOW;
    }

    aigw_lim_usage(st, now_ms, use);

    over = use[k] + n - (uint64_t) lim[k];
    freed = 0;
    now = (int64_t) (now_ms / 1000);

    /* the oldest second first: when it leaves the window, it frees */

    for (sec = now - AIGW_LIM_WINDOW + 1; sec <= now; sec++) {
        b = &st->ring[sec % AIGW_LIM_WINDOW];

        if (b->sec != sec) {
            continue;
        }

        x = (k == AIGW_LIM_RPM) ? b->requests : b->tokens;
        freed += x;

        if (x && freed >= over) {
            return (uint64_t) (sec + AIGW_LIM_WINDOW - now);
        }
    }

    return AIGW_LIM_WINDOW;
}


void
aigw_lim_periods(uint64_t now_ms, char day[11], char month[8],
    uint64_t *day_left, uint64_t *month_left)
{
    int        y, m;
    time_t     t;
    uint64_t   now, next;
    struct tm  tm;

    now = now_ms / 1000;
    t = (time_t) now;

    if (gmtime_r(&t, &tm) == NULL) {
        memset(&tm, 0, sizeof(struct tm));
        tm.tm_year = 70;
        tm.tm_mday = 1;
    }

    y = tm.tm_year + 1900;
    m = tm.tm_mon + 1;

    aigw_lim_digits(month, (unsigned) y % 10000, 4);
    month[4] = '-';
    aigw_lim_digits(month + 5, (unsigned) m, 2);
    month[7] = '\0';

    memcpy(day, month, 7);
    day[7] = '-';
    aigw_lim_digits(day + 8, (unsigned) tm.tm_mday, 2);
    day[10] = '\0';

    *day_left = 86400 - now % 86400;

    /* the first second of the next month */

    tm.tm_sec = 0;
    tm.tm_min = 0;
    tm.tm_hour = 0;
    tm.tm_mday = 1;
    tm.tm_mon = m % 12;
    tm.tm_year = (m == 12) ? tm.tm_year + 1 : tm.tm_year;

    next = (uint64_t) timegm(&tm);

    *month_left = (next > now) ? next - now : 1;
}


size_t
aigw_lim_usd(char *buf, uint64_t nanousd)
{
    return aigw_lim_decimal(buf, nanousd, AIGW_NANOUSD_PER_USD, 9);
}


size_t
aigw_lim_fraction(char *buf, uint32_t ppm)
{
    return aigw_lim_decimal(buf, ppm, AIGW_PPM, 6);
}


uint64_t
aigw_lim_threshold(int64_t budget, uint32_t ppm)
{
    uint64_t  b;

    b = (uint64_t) budget;

    /* in two parts: budget * ppm may not fit 64 bits */

    return b / AIGW_PPM * ppm
           + (b % AIGW_PPM * ppm + AIGW_PPM - 1) / AIGW_PPM;
}


size_t
aigw_lim_message(char *buf, int k, const int64_t lim[AIGW_LIM_N],
    const aigw_lim_need_t *need, const char *key)
{
    int       n;
    char      who[80], usd[AIGW_LIM_USD_TEXT], cost[AIGW_LIM_USD_TEXT];
    uint64_t  l;

    l = (lim[k] < 0) ? 0 : (uint64_t) lim[k];

    if (key) {
        (void) snprintf(who, sizeof(who), "key %.64s: ", key);

    } else {
        who[0] = '\0';
    }

    switch (k) {

    case AIGW_LIM_RPM:
        n = snprintf(buf, AIGW_LIM_MESSAGE,
                     "%srate limit of %llu requests per minute reached", who,
                     (unsigned long long) l);
        break;

    case AIGW_LIM_TPM:
        if (need->tokens > l) {
            n = snprintf(buf, AIGW_LIM_MESSAGE,
                         "%sthe request may use up to %llu tokens, more "
                         "than the token limit of %llu per minute", who,
                         (unsigned long long) need->tokens,
                         (unsigned long long) l);

        } else {
            n = snprintf(buf, AIGW_LIM_MESSAGE,
                         "%stoken limit of %llu tokens per minute reached",
                         who, (unsigned long long) l);
        }
        break;

    default:
        (void) aigw_lim_usd(usd, l);

        if (need->nanousd > l) {
            (void) aigw_lim_usd(cost, need->nanousd);

            n = snprintf(buf, AIGW_LIM_MESSAGE,
                         "%sthe request may cost up to %s USD, more than "
                         "the %s budget of %s USD", who, cost,
                         (k == AIGW_LIM_DAY) ? "daily" : "monthly", usd);

        } else {
            n = snprintf(buf, AIGW_LIM_MESSAGE, "%s%s budget of %s USD "
                         "reached", who,
                         (k == AIGW_LIM_DAY) ? "daily" : "monthly", usd);
        }
        break;
    }

    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }

    return ((size_t) n < AIGW_LIM_MESSAGE) ? (size_t) n : AIGW_LIM_MESSAGE - 1;
}


void
aigw_limits_script_sha1(char out[41])
{
    aigw_sha1_hex(out, aigw_limits_script, sizeof(aigw_limits_script) - 1);
}


const char *
aigw_lim_name(int k)
{
    static const char  *names[AIGW_LIM_N] = {
        "rpm", "tpm", "daily_usd", "monthly_usd"
    };

    return (k >= 0 && k < AIGW_LIM_N) ? names[k] : "";
}


static uint64_t
aigw_lim_sub(uint64_t a, uint64_t b)
{
    return (a > b) ? a - b : 0;
}


/* the ring's slot of a second, emptied when it held an older second */

static aigw_lim_bucket_t *
aigw_lim_bucket(aigw_lim_state_t *st, int64_t sec)
{
    aigw_lim_bucket_t  *b;

    b = &st->ring[sec % AIGW_LIM_WINDOW];

    if (b->sec != sec) {
        b->sec = sec;
        b->requests = 0;
        b->tokens = 0;
    }

    return b;
}


void
aigw_lim_period_ids(uint64_t now_ms, int32_t *day, int32_t *month)
{
    time_t     t;
    struct tm  tm;

    t = (time_t) (now_ms / 1000);

    *day = (int32_t) (now_ms / 1000 / 86400);

    if (gmtime_r(&t, &tm) == NULL) {
        *month = 0;
        return;
    }

    *month = (int32_t) ((tm.tm_year - 70) * 12 + tm.tm_mon);
}


/* "n" decimal digits of "v", zero-padded */

static void
aigw_lim_digits(char *p, unsigned v, int n)
{
    while (n--) {
        p[n] = (char) ('0' + v % 10);
        v /= 10;
    }
}


/* v / one, "places" decimals at most, no trailing zeros: "0.25", "50" */

static size_t
aigw_lim_decimal(char *buf, uint64_t v, uint64_t one, int places)
{
    int  n;

    n = snprintf(buf, AIGW_LIM_USD_TEXT, "%llu.%0*llu",
                 (unsigned long long) (v / one), places,
                 (unsigned long long) (v % one));

    while (buf[n - 1] == '0') {
        n--;
    }

    if (buf[n - 1] == '.') {
        n--;
    }

    buf[n] = '\0';

    return (size_t) n;
}
