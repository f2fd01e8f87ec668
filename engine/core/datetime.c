/* Date/time calendar arithmetic, output formatting, typmods and
 * conversions (see eng_datetime.h). Input parsing is in datetime_parse.c,
 * intervals in interval.c. */
#include "engine/core/eng_datetime.h"
#include "engine/core/datetime_int.h"
#include "engine/core/eng_type.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ calendar */

/* Days since 1970-01-01 of a proleptic Gregorian date (era-based civil
 * calendar arithmetic; exact for every year the types can hold). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t dd = doy - (153 * mp + 2) / 5 + 1;
    int64_t mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
    *d = (int)dd;
}

int
eng_date2j(int year, int month, int day)
{
    return (int)(days_from_civil(year, month, day) + ENG_UNIX_EPOCH_JDATE);
}

void
eng_j2date(int jd, int *year, int *month, int *day)
{
    civil_from_days((int64_t)jd - ENG_UNIX_EPOCH_JDATE, year, month, day);
}

int
eng_j2day(int jd)
{
    int d = (jd + 1) % 7;
    return d < 0 ? d + 7 : d;
}

bool
eng_dt_leap(int year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int
eng_dt_days_in_month(int year, int month)
{
    static const int tab[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && eng_dt_leap(year) ? 29 : tab[month - 1];
}

bool
eng_dt_valid_julian(int y, int m)
{
    return (y > ENG_JULIAN_MINYEAR || (y == ENG_JULIAN_MINYEAR && m >= ENG_JULIAN_MINMONTH)) &&
           (y < ENG_JULIAN_MAXYEAR || (y == ENG_JULIAN_MAXYEAR && m < ENG_JULIAN_MAXMONTH));
}

bool
eng_timestamp_in_range(int64_t ts)
{
    return ts >= ENG_MIN_TIMESTAMP && ts < ENG_END_TIMESTAMP;
}

int
eng_dt_tm2timestamp(const eng_tm *tm, int64_t fsec, const int *tzp, int64_t *result)
{
    if (!eng_dt_valid_julian(tm->year, tm->mon))
        return -1;
    int64_t date = (int64_t)eng_date2j(tm->year, tm->mon, tm->mday) - ENG_POSTGRES_EPOCH_JDATE;
    int64_t time = (((int64_t)tm->hour * 60 + tm->min) * 60 + tm->sec) * ENG_USECS_PER_SEC + fsec;
    int64_t r;
    if (__builtin_mul_overflow(date, ENG_USECS_PER_DAY, &r) || __builtin_add_overflow(r, time, &r))
        return -1;
    /* just-barely overflow: time of day wrapping past a date boundary */
    if ((r < 0 && date > 0) || (r > 0 && date < -1))
        return -1;
    if (tzp != NULL && __builtin_add_overflow(r, (int64_t)*tzp * ENG_USECS_PER_SEC, &r))
        return -1;
    if (!eng_timestamp_in_range(r))
        return -1;
    *result = r;
    return 0;
}

/* Splits a finite timestamp into calendar fields. */
void
eng_dt_timestamp2tm(int64_t ts, eng_tm *tm, int64_t *fsec)
{
    int64_t date = ts / ENG_USECS_PER_DAY;
    int64_t time = ts - date * ENG_USECS_PER_DAY;
    if (time < 0) {
        time += ENG_USECS_PER_DAY;
        date -= 1;
    }
    eng_j2date((int)(date + ENG_POSTGRES_EPOCH_JDATE), &tm->year, &tm->mon, &tm->mday);
    tm->hour = (int)(time / ENG_USECS_PER_HOUR);
    time -= tm->hour * ENG_USECS_PER_HOUR;
    tm->min = (int)(time / ENG_USECS_PER_MINUTE);
    time -= tm->min * ENG_USECS_PER_MINUTE;
    tm->sec = (int)(time / ENG_USECS_PER_SEC);
    *fsec = time - tm->sec * ENG_USECS_PER_SEC;
}

/* ------------------------------------------------------------------ output */

/* Zero-padded decimal of a non-negative value, at least width digits. */
static char *
put_pad(char *p, int64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n < width)
        tmp[n++] = '0';
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

char *
eng_dt_put_seconds(char *p, int sec, int64_t fsec)
{
    p = put_pad(p, sec, 2);
    if (fsec != 0) {
        /* Six fraction digits, trailing zeros dropped. */
        char digs[6];
        int64_t v = fsec;
        for (int i = 5; i >= 0; i--) {
            digs[i] = (char)('0' + v % 10);
            v /= 10;
        }
        int len = 6;
        while (len > 0 && digs[len - 1] == '0')
            len--;
        *p++ = '.';
        memcpy(p, digs, (size_t)len);
        p += len;
    }
    return p;
}

/* "YYYY-MM-DD", the year as -(year - 1) for BC dates (caller adds " BC"). */
static char *
put_date(char *p, int year, int mon, int mday)
{
    p = put_pad(p, year > 0 ? year : -(year - 1), 4);
    *p++ = '-';
    p = put_pad(p, mon, 2);
    *p++ = '-';
    return put_pad(p, mday, 2);
}

void
eng_date_format(int32_t date, eng_strbuf *out)
{
    if (date == ENG_DATE_NOBEGIN) {
        eng_strbuf_puts(out, "-infinity");
        return;
    }
    if (date == ENG_DATE_NOEND) {
        eng_strbuf_puts(out, "infinity");
        return;
    }
    int y, m, d;
    eng_j2date((int)((int64_t)date + ENG_POSTGRES_EPOCH_JDATE), &y, &m, &d);
    char buf[32], *p = put_date(buf, y, m, d);
    if (y <= 0) {
        memcpy(p, " BC", 3);
        p += 3;
    }
    eng_strbuf_append(out, buf, (size_t)(p - buf));
}

void
eng_time_format(int64_t t, eng_strbuf *out)
{
    int64_t h = t / ENG_USECS_PER_HOUR;
    t -= h * ENG_USECS_PER_HOUR;
    int64_t m = t / ENG_USECS_PER_MINUTE;
    t -= m * ENG_USECS_PER_MINUTE;
    int64_t s = t / ENG_USECS_PER_SEC;
    t -= s * ENG_USECS_PER_SEC;
    char buf[32], *p = buf;
    p = put_pad(p, h, 2);
    *p++ = ':';
    p = put_pad(p, m, 2);
    *p++ = ':';
    p = eng_dt_put_seconds(p, (int)s, t);
    eng_strbuf_append(out, buf, (size_t)(p - buf));
}

void
eng_timestamp_format(int64_t ts, bool with_tz, eng_strbuf *out)
{
    if (ts == ENG_TS_NOBEGIN) {
        eng_strbuf_puts(out, "-infinity");
        return;
    }
    if (ts == ENG_TS_NOEND) {
        eng_strbuf_puts(out, "infinity");
        return;
    }
    eng_tm tm;
    int64_t fsec;
    eng_dt_timestamp2tm(ts, &tm, &fsec);
    char buf[64], *p = put_date(buf, tm.year, tm.mon, tm.mday);
    *p++ = ' ';
    p = put_pad(p, tm.hour, 2);
    *p++ = ':';
    p = put_pad(p, tm.min, 2);
    *p++ = ':';
    p = eng_dt_put_seconds(p, tm.sec, fsec);
    if (with_tz) { /* TimeZone is UTC */
        memcpy(p, "+00", 3);
        p += 3;
    }
    if (tm.year <= 0) {
        memcpy(p, " BC", 3);
        p += 3;
    }
    eng_strbuf_append(out, buf, (size_t)(p - buf));
}

/* ------------------------------------------------------------------ typmods, conversions */

static const int64_t scales[7] = {1000000, 100000, 10000, 1000, 100, 10, 1};
static const int64_t offsets[7] = {500000, 50000, 5000, 500, 50, 5, 0};

int64_t
eng_dt_round_usecs(int64_t v, int precision)
{
    if (precision < 0 || precision >= ENG_MAX_TIME_PRECISION)
        return v;
    if (v >= 0)
        return ((v + offsets[precision]) / scales[precision]) * scales[precision];
    return -(((-v + offsets[precision]) / scales[precision]) * scales[precision]);
}

int
eng_timestamp_apply_typmod(int64_t *ts, int32_t typmod, eng_err *err)
{
    (void)err;
    if (*ts == ENG_TS_NOBEGIN || *ts == ENG_TS_NOEND || typmod < 0 ||
        typmod >= ENG_MAX_TIME_PRECISION)
        return 0;
    *ts = eng_dt_round_usecs(*ts, typmod);
    return 0;
}

void
eng_time_apply_typmod(int64_t *t, int32_t typmod)
{
    if (typmod >= 0 && typmod < ENG_MAX_TIME_PRECISION)
        *t = eng_dt_round_usecs(*t, typmod);
}

int
eng_date_to_timestamp(int32_t date, int64_t *out, eng_err *err)
{
    if (date == ENG_DATE_NOBEGIN) {
        *out = ENG_TS_NOBEGIN;
        return 0;
    }
    if (date == ENG_DATE_NOEND) {
        *out = ENG_TS_NOEND;
        return 0;
    }
    /* Dates past the timestamp range do not convert. */
    if (date >= (ENG_TIMESTAMP_END_JULIAN - ENG_POSTGRES_EPOCH_JDATE))
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                           "date out of range for timestamp");
    *out = (int64_t)date * ENG_USECS_PER_DAY;
    return 0;
}

int32_t
eng_timestamp_to_date(int64_t ts)
{
    if (ts == ENG_TS_NOBEGIN)
        return ENG_DATE_NOBEGIN;
    if (ts == ENG_TS_NOEND)
        return ENG_DATE_NOEND;
    int64_t d = ts / ENG_USECS_PER_DAY;
    if (ts - d * ENG_USECS_PER_DAY < 0)
        d--;
    return (int32_t)d;
}

int64_t
eng_timestamp_to_time(int64_t ts)
{
    int64_t t = ts % ENG_USECS_PER_DAY;
    return t < 0 ? t + ENG_USECS_PER_DAY : t;
}
