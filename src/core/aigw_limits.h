
/*
 * aigw: a gateway instance's view of one subject's limits (a tenant, or a
 * key with limits of its own): what it has used in the last 60 seconds
 * and in the current UTC day and month, and the quotas Redis granted it.
 * No nginx headers, no allocation, no I/O: the module keeps these in
 * shared memory and talks to Redis (src/lua/aigw_limits.lua).
 *
 * The resources, AIGW_LIM_*:
 *
 *   rpm     requests admitted in the window: the current second and the
 *           59 before it
 *   tpm     tokens in the same window: a request's reservation bound at
 *           admission, settled to its real count at the end
 *   day     nano-USD of the UTC day: settled spend plus the reservations
 *           of requests still running
 *   month   the same for the calendar month (UTC)
 *
 * A quota caps the instance's own usage of a resource: it admits a
 * request without asking Redis while its lease lasts and the request
 * fits every quota.  Redis grants quotas so that the quotas of all live
 * instances (or their usage, where larger) fit each limit: spend cannot
 * pass a budget, whichever gateway admits.  With no Redis to ask
 * ("alone"), the instance checks its own usage against the limits.
 */

#ifndef AIGW_LIMITS_H
#define AIGW_LIMITS_H


#include <stddef.h>
#include <stdint.h>

#include "aigw_tenants.h"


#define AIGW_LIM_RPM        0
#define AIGW_LIM_TPM        1
#define AIGW_LIM_DAY        2
#define AIGW_LIM_MONTH      3
#define AIGW_LIM_N          4

#define AIGW_LIM_WINDOW     60          /* seconds */

/* a quota Redis did not grant (the limit is not set) */
#define AIGW_LIM_NO_QUOTA   (-1)


typedef struct {
    int64_t     sec;                    /* unix second; 0: empty */
    uint64_t    requests;
    uint64_t    tokens;
} aigw_lim_bucket_t;


typedef struct {
    int32_t             day;            /* days since 1970-01-01 */
    int32_t             month;          /* months since 1970-01 */
    uint64_t            day_reserved;   /* running requests' bounds */
    uint64_t            day_settled;
    uint64_t            month_reserved;
    uint64_t            month_settled;

    int64_t             quota[AIGW_LIM_N];
    uint64_t            lease_until;    /* ms since the epoch */

    aigw_lim_bucket_t   ring[AIGW_LIM_WINDOW];
} aigw_lim_state_t;


/* what a request takes: 1 request, its tokens and cost bounds */
typedef struct {
    uint64_t            requests;
    uint64_t            tokens;
    uint64_t            nanousd;
} aigw_lim_need_t;


/* the limits as four numbers, AIGW_LIMIT_NONE where unset */
void aigw_lim_limits(const aigw_limits_t *l, int64_t lim[AIGW_LIM_N]);

/* any limit set */
int aigw_lim_any(const aigw_limits_t *l);

/* a fresh state */
void aigw_lim_init(aigw_lim_state_t *st, uint64_t now_ms);

/* the ids of a time's UTC day and month, as the state keeps them */
void aigw_lim_period_ids(uint64_t now_ms, int32_t *day, int32_t *month);

/* moves to now's day and month (a new one starts at zero) */
void aigw_lim_roll(aigw_lim_state_t *st, uint64_t now_ms);

/* the instance's usage of each resource now */
void aigw_lim_usage(const aigw_lim_state_t *st, uint64_t now_ms,
    uint64_t use[AIGW_LIM_N]);

/*
 * Whether "need" fits: "alone" 0, every set limit within the quota while
 * the lease lasts; "alone" 1, within the limits themselves.  Returns -1
 * when it fits, or the AIGW_LIM_* that it does not fit.
 */
int aigw_lim_fits(const aigw_lim_state_t *st, const int64_t lim[AIGW_LIM_N],
    const aigw_lim_need_t *need, uint64_t now_ms, int alone);

/* takes "need" (the state rolled to now) */
void aigw_lim_draw(aigw_lim_state_t *st, const aigw_lim_need_t *need,
    uint64_t now_ms);

/*
 * The end of a request admitted at "admitted_ms" with "reserved":
 * replaces the reservation by what it used (tokens and cost as billed).
 * A window second or a period that has passed is left as it is.
 */
void aigw_lim_settle(aigw_lim_state_t *st, uint64_t admitted_ms,
    const aigw_lim_need_t *reserved, const aigw_lim_need_t *used);

/*
 * The window as the limits script reads it, "sec:requests:tokens,...":
 * at most AIGW_LIM_WINDOW_TEXT bytes, NUL-terminated.  Returns its length.
 */
#define AIGW_LIM_WINDOW_TEXT  (AIGW_LIM_WINDOW * 64)

size_t aigw_lim_window_text(const aigw_lim_state_t *st, uint64_t now_ms,
    char *buf);

/*
 * Seconds until "need" fits resource "k" when the instance is alone:
 * until enough of the window passes, or the period ends.
 */
uint64_t aigw_lim_retry_alone(const aigw_lim_state_t *st,
    const int64_t lim[AIGW_LIM_N], const aigw_lim_need_t *need, int k,
    uint64_t now_ms);

/*
 * The UTC day ("YYYY-MM-DD") and month ("YYYY-MM") of a time, and the
 * seconds left in each.
 */
void aigw_lim_periods(uint64_t now_ms, char day[11], char month[8],
    uint64_t *day_left, uint64_t *month_left);

/* nano-USD as decimal USD, no trailing zeros ("50", "0.25") */
#define AIGW_LIM_USD_TEXT  32

size_t aigw_lim_usd(char *buf, uint64_t nanousd);

/* a fraction in parts per million as a decimal ("0.8", "1"), in
 * AIGW_LIM_USD_TEXT bytes */
size_t aigw_lim_fraction(char *buf, uint32_t ppm);

/* an alert_at threshold of a budget in nano-USD (rounded up) */
uint64_t aigw_lim_threshold(int64_t budget, uint32_t ppm);

/*
 * The client's message for a refusal on resource "k": the limit it
 * reached ("daily budget of 50 USD reached"), or that the request alone
 * exceeds it.  "key" is the key id of a key's own limits, else NULL.
 */
#define AIGW_LIM_MESSAGE  256

size_t aigw_lim_message(char *buf, int k, const int64_t lim[AIGW_LIM_N],
    const aigw_lim_need_t *need, const char *key);

/*
 * The limits script (src/lua/aigw_limits.lua), for EVAL and EVALSHA, and
 * its lowercase hex SHA-1
 */
extern const char  aigw_limits_script[];

void aigw_limits_script_sha1(char out[41]);

/* "rpm", "tpm", "daily_usd", "monthly_usd" */
const char *aigw_lim_name(int k);


#endif /* AIGW_LIMITS_H */
