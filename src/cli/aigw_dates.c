
/*
 * aigw: UTC days of the command-line tool (see aigw_dates.h).
 */


#include <string.h>
#include <time.h>

#include "aigw_dates.h"


time_t
aigw_day_parse(const char *s)
{
    int        i;
    time_t     t;
    struct tm  tm, back;

    if (strlen(s) != AIGW_DATE_LEN || s[4] != '-' || s[7] != '-') {
        return -1;
    }

    for (i = 0; i < AIGW_DATE_LEN; i++) {
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) {
            return -1;
        }
    }

    memset(&tm, 0, sizeof(struct tm));
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100
                 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
    tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');

    if (tm.tm_year < 70 || tm.tm_mon < 0 || tm.tm_mon > 11
        || tm.tm_mday < 1)
    {
        return -1;
    }

    back = tm;
    t = timegm(&tm);

    /* 2024-02-30 comes back as March 1st */

    if (t == (time_t) -1 || tm.tm_mday != back.tm_mday
        || tm.tm_mon != back.tm_mon)
    {
        return -1;
    }

    return t;
}


time_t
aigw_time_parse(const char *s)
{
    int     i, v[3];
    char    day[AIGW_DATE_LEN + 1];
    time_t  t;

    if (strlen(s) == AIGW_DATE_LEN) {
        return aigw_day_parse(s);
    }

    /* T, HH:MM:SS, Z */

    if (strlen(s) != AIGW_DATE_LEN + 10 || s[AIGW_DATE_LEN] != 'T'
        || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
    {
        return -1;
    }

    for (i = 0; i < 3; i++) {
        if (s[11 + 3 * i] < '0' || s[11 + 3 * i] > '9'
            || s[12 + 3 * i] < '0' || s[12 + 3 * i] > '9')
        {
            return -1;
        }

        v[i] = (s[11 + 3 * i] - '0') * 10 + (s[12 + 3 * i] - '0');
    }

    if (v[0] > 23 || v[1] > 59 || v[2] > 59) {
        return -1;
    }

    memcpy(day, s, AIGW_DATE_LEN);
    day[AIGW_DATE_LEN] = '\0';

    t = aigw_day_parse(day);

    return (t == -1) ? -1 : t + v[0] * 3600 + v[1] * 60 + v[2];
}


void
aigw_day_format(time_t t, char out[AIGW_DATE_LEN + 1])
{
    struct tm  tm;

    gmtime_r(&t, &tm);
    strftime(out, AIGW_DATE_LEN + 1, "%Y-%m-%d", &tm);
}


time_t
aigw_day_today(void)
{
    time_t  now;

    now = time(NULL);

    return now - now % AIGW_DAY_SECONDS;
}
