
/*
 * aigw: UTC days, as "aigw export" and "aigw usage" take and name them:
 * "YYYY-MM-DD", the key format of the usage in Redis; and UTC times, as
 * "aigw alerts --since" takes them.
 */

#ifndef AIGW_DATES_H
#define AIGW_DATES_H


#include <time.h>

#include "aigw_record.h"


#define AIGW_DAY_SECONDS       86400


/* "YYYY-MM-DD", a real day: its midnight UTC; -1 if not */
time_t aigw_day_parse(const char *s);
/* "YYYY-MM-DD" of a time, UTC */
void aigw_day_format(time_t t, char out[AIGW_DATE_LEN + 1]);
/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", UTC; -1 if neither */
time_t aigw_time_parse(const char *s);
/* midnight UTC today */
time_t aigw_day_today(void);


#endif /* AIGW_DATES_H */
