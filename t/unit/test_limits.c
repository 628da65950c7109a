
/*
 * Unit tests of aigw_limits.c: a gateway's view of one subject's limits
 * (the window of 60 seconds, the UTC day and month, quotas and their
 * lease), the numbers and messages it gives, and the periods.
 */

#include <string.h>

#include "aigw_limits.h"
#include "unit.h"


/* 2026-12-07T21:50:12.250Z */
#define T0     1796680212250ULL
#define SEC    1000ULL


static void
test_periods(void)
{
    char      day[11], month[8];
    uint64_t  dl, ml;

    aigw_lim_periods(T0, day, month, &dl, &ml);
    CHECK_STR(day, "2026-12-07");
    CHECK_STR(month, "2026-12");
    /* 21:50:12 is 78612 s into the day */
    CHECK_EQ(dl, 86400 - 78612);
    /* to 2027-01-01: 24 days and the rest of this one */
    CHECK_EQ(ml, 24 * 86400 + 86400 - 78612);

    /* the last second of a year */
    aigw_lim_periods(1798761599000ULL, day, month, &dl, &ml);
    CHECK_STR(day, "2026-12-31");
    CHECK_EQ(dl, 1);
    CHECK_EQ(ml, 1);

    /* February of a leap year */
    aigw_lim_periods(1709164800000ULL, day, month, &dl, &ml);
    CHECK_STR(day, "2024-02-29");
    CHECK_STR(month, "2024-02");
    CHECK_EQ(ml, 86400);
}


static void
test_window(void)
{
    char              text[AIGW_LIM_WINDOW_TEXT];
    int64_t           lim[AIGW_LIM_N] = { 3, 1000, -1, -1 };
    uint64_t          use[AIGW_LIM_N];
    aigw_lim_need_t   n = { 1, 100, 0 }, real = { 1, 40, 0 };
    aigw_lim_state_t  st;

    aigw_lim_init(&st, T0);

    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0, 1), -1);
    aigw_lim_draw(&st, &n, T0);
    aigw_lim_draw(&st, &n, T0 + 10 * SEC);
    aigw_lim_draw(&st, &n, T0 + 20 * SEC);

    aigw_lim_usage(&st, T0 + 20 * SEC, use);
    CHECK_EQ(use[AIGW_LIM_RPM], 3);
    CHECK_EQ(use[AIGW_LIM_TPM], 300);

    /* three in the window: the fourth waits for the first to leave */
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 20 * SEC, 1), AIGW_LIM_RPM);
    CHECK_EQ(aigw_lim_retry_alone(&st, lim, &n, AIGW_LIM_RPM,
                                  T0 + 20 * SEC), 40);

    /* the first second leaves the window 60 seconds on */
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 59 * SEC, 1), AIGW_LIM_RPM);
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 60 * SEC, 1), -1);

    (void) aigw_lim_window_text(&st, T0 + 20 * SEC, text);
    CHECK(strstr(text, "1796680212:1:100") != NULL);
    CHECK(strstr(text, "1796680232:1:100") != NULL);

    /* settled: the second's tokens become what was used */
    aigw_lim_settle(&st, T0 + 10 * SEC, &n, &real);
    aigw_lim_usage(&st, T0 + 20 * SEC, use);
    CHECK_EQ(use[AIGW_LIM_TPM], 240);
    CHECK_EQ(use[AIGW_LIM_RPM], 3);

    /* a settle after its second left the ring changes nothing */
    aigw_lim_settle(&st, T0 - 100 * SEC, &n, &real);
    aigw_lim_usage(&st, T0 + 20 * SEC, use);
    CHECK_EQ(use[AIGW_LIM_TPM], 240);

    /* tpm: a need larger than the limit never fits, retry is a window */
    n.tokens = 2000;
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 20 * SEC, 1), AIGW_LIM_RPM);
    lim[AIGW_LIM_RPM] = -1;
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 20 * SEC, 1), AIGW_LIM_TPM);
    CHECK_EQ(aigw_lim_retry_alone(&st, lim, &n, AIGW_LIM_TPM, T0), 60);
}


static void
test_budget_and_quota(void)
{
    int64_t           lim[AIGW_LIM_N] = { -1, -1, 1000, 5000 };
    uint64_t          use[AIGW_LIM_N];
    aigw_lim_need_t   n = { 1, 10, 300 }, real = { 1, 8, 120 };
    aigw_lim_state_t  st;

    aigw_lim_init(&st, T0);

    /* quota mode: no lease, no admission */
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0, 0), AIGW_LIM_DAY);

    st.quota[AIGW_LIM_DAY] = 600;
    st.quota[AIGW_LIM_MONTH] = 600;
    st.lease_until = T0 + 5 * SEC;

    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0, 0), -1);
    aigw_lim_draw(&st, &n, T0);
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0, 0), -1);
    aigw_lim_draw(&st, &n, T0);
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0, 0), AIGW_LIM_DAY);

    /* a settle frees what was not used: 600 - 420 left */
    aigw_lim_settle(&st, T0, &n, &real);
    n.nanousd = 181;
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 4 * SEC, 0), AIGW_LIM_DAY);
    n.nanousd = 180;
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 4 * SEC, 0), -1);

    /* the lease ends: nothing without Redis */
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0 + 5 * SEC, 0), AIGW_LIM_DAY);
    n.nanousd = 300;

    aigw_lim_usage(&st, T0, use);
    CHECK_EQ(use[AIGW_LIM_DAY], 420);
    CHECK_EQ(st.day_settled, 120);
    CHECK_EQ(st.day_reserved, 300);
    CHECK_EQ(use[AIGW_LIM_MONTH], 420);

    /* alone: the limits themselves; a retry waits for the next day */
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0, 1), -1);
    n.nanousd = 700;
    CHECK_EQ(aigw_lim_fits(&st, lim, &n, T0, 1), AIGW_LIM_DAY);
    CHECK_EQ(aigw_lim_retry_alone(&st, lim, &n, AIGW_LIM_DAY, T0),
             86400 - 78612);

    /* the next day starts at zero, the month goes on */
    aigw_lim_roll(&st, T0 + 86400 * SEC);
    aigw_lim_usage(&st, T0 + 86400 * SEC, use);
    CHECK_EQ(use[AIGW_LIM_DAY], 0);
    CHECK_EQ(use[AIGW_LIM_MONTH], 420);
    CHECK_EQ(st.lease_until, 0);

    /* a reservation of yesterday settles into the month only */
    n.nanousd = 300;
    aigw_lim_settle(&st, T0, &n, &real);
    CHECK_EQ(st.day_settled, 0);
    CHECK_EQ(st.month_settled, 240);
    CHECK_EQ(st.month_reserved, 0);
}


static void
test_texts(void)
{
    char             buf[AIGW_LIM_MESSAGE];
    int64_t          lim[AIGW_LIM_N] = { 600, 200000, 50000000000LL,
                                         1000000000LL };
    aigw_lim_need_t  n = { 1, 300000, 250000000 };

    (void) aigw_lim_usd(buf, 50000000000ULL);
    CHECK_STR(buf, "50");
    (void) aigw_lim_usd(buf, 250000000ULL);
    CHECK_STR(buf, "0.25");
    (void) aigw_lim_usd(buf, 1);
    CHECK_STR(buf, "0.000000001");
    (void) aigw_lim_usd(buf, 0);
    CHECK_STR(buf, "0");

    (void) aigw_lim_fraction(buf, 800000);
    CHECK_STR(buf, "0.8");
    (void) aigw_lim_fraction(buf, 1000000);
    CHECK_STR(buf, "1");
    (void) aigw_lim_fraction(buf, 2500001);
    CHECK_STR(buf, "2.500001");

    /* rounded up: an alert never fires below its fraction */
    CHECK_EQ(aigw_lim_threshold(50000000000LL, 800000), 40000000000ULL);
    CHECK_EQ(aigw_lim_threshold(3, 500000), 2);
    CHECK_EQ(aigw_lim_threshold(INT64_MAX, 1000000), (uint64_t) INT64_MAX);

    (void) aigw_lim_message(buf, AIGW_LIM_DAY, lim, &n, NULL);
    CHECK_STR(buf, "daily budget of 50 USD reached");
    (void) aigw_lim_message(buf, AIGW_LIM_MONTH, lim, &n, "k7f3q2");
    CHECK_STR(buf, "key k7f3q2: monthly budget of 1 USD reached");
    (void) aigw_lim_message(buf, AIGW_LIM_RPM, lim, &n, NULL);
    CHECK_STR(buf, "rate limit of 600 requests per minute reached");
    (void) aigw_lim_message(buf, AIGW_LIM_TPM, lim, &n, NULL);
    CHECK_STR(buf, "the request may use up to 300000 tokens, more than the "
                   "token limit of 200000 per minute");
    n.nanousd = 2000000000;
    (void) aigw_lim_message(buf, AIGW_LIM_MONTH, lim, &n, NULL);
    CHECK_STR(buf, "the request may cost up to 2 USD, more than the monthly "
                   "budget of 1 USD");

    CHECK_STR(aigw_lim_name(AIGW_LIM_DAY), "daily_usd");
    CHECK_STR(aigw_lim_name(9), "");
}


int
main(void)
{
    test_periods();
    test_window();
    test_budget_and_quota();
    test_texts();

    return unit_done("test_limits");
}
