/* Internal to the datetime modules (datetime.c, datetime_parse.c,
 * interval.c): broken-down times, range constants and shared helpers. Not
 * for use outside engine/core. */
#ifndef ENG_DATETIME_INT_H
#define ENG_DATETIME_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_datetime.h"

/* Broken-down date and time; year 0 is 1 BC. */
typedef struct eng_tm {
    int year, mon, mday;
    int hour, min, sec;
} eng_tm;

#define ENG_JULIAN_MINYEAR (-4713)
#define ENG_JULIAN_MINMONTH 11
#define ENG_JULIAN_MAXYEAR 5874898
#define ENG_JULIAN_MAXMONTH 6
#define ENG_DATE_END_JULIAN 2147483494     /* date2j(5874898, 1, 1) */
#define ENG_TIMESTAMP_END_JULIAN 109203528 /* date2j(294277, 1, 1) */
#define ENG_MIN_TIMESTAMP INT64_C(-211813488000000000)
#define ENG_END_TIMESTAMP INT64_C(9223371331200000000)

bool eng_dt_leap(int year);
int eng_dt_days_in_month(int year, int month);
/* PostgreSQL's IS_VALID_JULIAN: the Julian-day routines are safe. */
bool eng_dt_valid_julian(int year, int month);
/* tm (+ fsec, + zone offset in seconds west of UTC when tzp != NULL) to a
 * timestamp; -1 if out of range. */
int eng_dt_tm2timestamp(const eng_tm *tm, int64_t fsec, const int *tzp, int64_t *result);
void eng_dt_timestamp2tm(int64_t ts, eng_tm *tm, int64_t *fsec);
/* Writes "SS[.ffffff]" (trailing zeros trimmed); returns the end. */
char *eng_dt_put_seconds(char *p, int sec, int64_t fsec);
/* Rounds microseconds to precision digits, half away from zero. */
int64_t eng_dt_round_usecs(int64_t v, int precision);

/* A named time zone (tz.c): from the system tz database, or a POSIX TZ
 * string. Returns new (free with eng_tz_free), or NULL if the name is not
 * a zone. Reads files; may block briefly. */
typedef struct eng_tz eng_tz;
eng_tz *eng_tz_load(const char *name);
void eng_tz_free(eng_tz *z);
/* The zone's offset for local time tm, in seconds west of UTC (PostgreSQL's
 * DetermineTimeZoneOffset, including its choice in DST gaps/overlaps). */
int eng_tz_local_offset(const eng_tz *z, const eng_tm *tm);
/* PostgreSQL's DetermineTimeZoneAbbrevOffset for a "dynamic" abbreviation
 * defined by zone z: the offset (seconds west) the abbreviation had at or
 * nearest before local time tm, else the zone's offset then. */
int eng_tz_abbrev_offset(const eng_tz *z, const char *abbrev, const eng_tm *tm);
/* Time zone abbreviations of PostgreSQL's Default set (tz_abbrevs.c): a
 * fixed offset (seconds east) and daylight flag, or a defining zone. */
bool eng_tz_abbrev_lookup(const char *name, int *offset, bool *isdst, const char **zone);
/* True (and *gmtoff, seconds east) if the zone always has one offset. */
bool eng_tz_fixed_offset(const eng_tz *z, int *gmtoff);

#endif
