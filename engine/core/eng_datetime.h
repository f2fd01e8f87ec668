/* Dates, times, timestamps and intervals in PostgreSQL's representation,
 * with its text input and output (DateStyle ISO/MDY, IntervalStyle
 * postgres, TimeZone UTC).
 *
 * Notes: date = days since 2000-01-01 (INT32_MIN/INT32_MAX are -infinity /
 * infinity); time = microseconds since midnight (0 .. 24:00:00 inclusive);
 * timestamp(tz) = microseconds since 2000-01-01 00:00:00 (UTC for tz;
 * INT64_MIN/INT64_MAX are -infinity / infinity); interval = months, days,
 * microseconds kept apart as in PostgreSQL. Valid ranges are PostgreSQL's:
 * dates 4714-11-24 BC .. 5874897-12-31, timestamps 4714-11-24 BC ..
 * 294276-12-31 AD. The session time zone is fixed at UTC, so timestamptz
 * input converts any explicit offset to UTC and output always ends in
 * "+00". Pure functions; thread-safe. */
#ifndef ENG_DATETIME_H
#define ENG_DATETIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_strbuf.h"

#define ENG_DATE_NOBEGIN INT32_MIN
#define ENG_DATE_NOEND INT32_MAX
#define ENG_TS_NOBEGIN INT64_MIN
#define ENG_TS_NOEND INT64_MAX

#define ENG_USECS_PER_SEC INT64_C(1000000)
#define ENG_USECS_PER_MINUTE INT64_C(60000000)
#define ENG_USECS_PER_HOUR INT64_C(3600000000)
#define ENG_USECS_PER_DAY INT64_C(86400000000)
#define ENG_POSTGRES_EPOCH_JDATE 2451545 /* date2j(2000, 1, 1) */
#define ENG_UNIX_EPOCH_JDATE 2440588     /* date2j(1970, 1, 1) */

typedef struct eng_interval {
    int32_t months;
    int32_t days;
    int64_t usecs;
} eng_interval;

/* ------------------------------------------------------------ calendar */

/* Julian day number of a proleptic Gregorian date (year 0 = 1 BC). */
int eng_date2j(int year, int month, int day);
void eng_j2date(int jd, int *year, int *month, int *day);
/* Day of week, 0 = Sunday. */
int eng_j2day(int jd);

/* ------------------------------------------------------------ text I/O */

/* Input. Errors: 22007 invalid syntax, 22008 field value / range overflow,
 * with PostgreSQL's messages ("invalid input syntax for type date: ..."). */
int eng_date_parse(const char *s, size_t n, int32_t *out, eng_err *err);
int eng_time_parse(const char *s, size_t n, int32_t typmod, int64_t *out, eng_err *err);
int eng_timestamp_parse(const char *s, size_t n, bool with_tz, int32_t typmod, int64_t *out,
                        eng_err *err);
int eng_interval_parse(const char *s, size_t n, int32_t typmod, eng_interval *out, eng_err *err);

void eng_date_format(int32_t date, eng_strbuf *out);
void eng_time_format(int64_t time, eng_strbuf *out);
void eng_timestamp_format(int64_t ts, bool with_tz, eng_strbuf *out);
void eng_interval_format(const eng_interval *iv, eng_strbuf *out);

/* ------------------------------------------------------------ typmods and conversions */

/* Round to typmod fractional-second digits (half away from zero, as
 * PostgreSQL); 22008 if a timestamp leaves the valid range. */
int eng_timestamp_apply_typmod(int64_t *ts, int32_t typmod, eng_err *err);
void eng_time_apply_typmod(int64_t *t, int32_t typmod);
/* Truncates fields outside the typmod's range and rounds seconds. */
int eng_interval_apply_typmod(eng_interval *iv, int32_t typmod, eng_err *err);

/* date -> timestamp at midnight; 22008 "date out of range for timestamp". */
int eng_date_to_timestamp(int32_t date, int64_t *out, eng_err *err);
/* timestamp -> date (floor); infinities map to infinities. */
int32_t eng_timestamp_to_date(int64_t ts);
/* Time of day of a finite timestamp. */
int64_t eng_timestamp_to_time(int64_t ts);
/* True if ts is finite and within PostgreSQL's timestamp range. */
bool eng_timestamp_in_range(int64_t ts);

/* ts AT TIME ZONE name[0..n) (tz_at.c): from_utc, a timestamptz to the
 * local timestamp in that zone; otherwise a local timestamp to the
 * timestamptz. Infinities pass through. 22023 `time zone "x" not
 * recognized`, 22008 "timestamp out of range". Reads the tz database
 * (may block briefly); thread-safe. */
int eng_timestamp_at_zone(int64_t ts, const char *name, size_t n, bool from_utc, int64_t *out,
                          eng_err *err);

#endif
