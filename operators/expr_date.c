/* Scalar expressions: date and time arithmetic (date +- integer, date -
 * date, date/timestamp/timestamptz +- interval, timestamp - timestamp,
 * interval +- interval, - interval), date_trunc, EXTRACT and date_part,
 * with PostgreSQL 15's semantics over the type library's representation
 * (engine/core/eng_datetime.h).
 *
 * Notes: the session time zone is UTC, so timestamptz behaves as timestamp
 * here (PostgreSQL steps months and days in the session zone). Month
 * arithmetic clamps to the end of the month (Jan 31 + 1 month = Feb 28/29);
 * timestamp - timestamp is justified into days and time as PostgreSQL's
 * timestamp_mi does. Out-of-range results are 22008 "timestamp out of
 * range" / "date out of range" / "interval out of range". EXTRACT returns
 * numeric (exact: seconds with 6 decimals), date_part float8; infinite
 * timestamps give +-Infinity for monotonic fields and NULL for the others.
 * Units are matched as PostgreSQL's DecodeUnits does (lower-cased, first
 * 10 characters). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_datetime.h"
#include "engine/core/eng_numeric.h"
#include "operators/expr_int.h"

#define MONTHS_PER_YEAR 12

/* ------------------------------------------------------------------ helpers */

typedef struct tm_ {
    int year, mon, mday;
    int64_t time; /* microseconds of the day */
} tm_;

static int
ts_range(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "timestamp out of range");
}

static int
iv_range(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "interval out of range");
}

static void
ts2tm(int64_t ts, tm_ *tm)
{
    int32_t d = eng_timestamp_to_date(ts);
    eng_j2date(d + ENG_POSTGRES_EPOCH_JDATE, &tm->year, &tm->mon, &tm->mday);
    tm->time = eng_timestamp_to_time(ts);
}

/* PostgreSQL's IS_VALID_JULIAN, then date2j and the timestamp range. */
static int
tm2ts(const tm_ *tm, int64_t *out, eng_err *err)
{
    if (!((tm->year > -4713 || (tm->year == -4713 && tm->mon >= 11)) &&
          (tm->year < 5874898 || (tm->year == 5874898 && tm->mon < 6))))
        return ts_range(err);
    int64_t days = (int64_t)eng_date2j(tm->year, tm->mon, tm->mday) - ENG_POSTGRES_EPOCH_JDATE;
    int64_t ts;
    if (__builtin_mul_overflow(days, ENG_USECS_PER_DAY, &ts) ||
        __builtin_add_overflow(ts, tm->time, &ts) || !eng_timestamp_in_range(ts))
        return ts_range(err);
    *out = ts;
    return 0;
}

static int
days_in_month(int year, int mon)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return days[mon - 1] + (mon == 2 && leap);
}

static eng_interval
get_iv(const op_val *v)
{
    eng_interval iv;
    memcpy(&iv.months, v->u.p, 4);
    memcpy(&iv.days, v->u.p + 4, 4);
    memcpy(&iv.usecs, v->u.p + 8, 8);
    return iv;
}

static int64_t
get_i64(const op_val *v)
{
    return eng_load_i64(v->u.p);
}

static int32_t
get_i32(const op_val *v)
{
    return eng_load_i32(v->u.p);
}

/* A fixed-size result built in the arena. */
static int
set_fixed(op_eval *ev, op_val *r, uint8_t tag, const void *payload, uint32_t n, eng_err *err)
{
    uint8_t *p = op_x_alloc(ev, n, err);
    if (p == NULL)
        return -1;
    memcpy(p, payload, n);
    r->tag = tag;
    r->len = n;
    r->u.p = p;
    return 0;
}

static int
set_ts(op_eval *ev, op_val *r, uint8_t tag, int64_t ts, eng_err *err)
{
    return set_fixed(ev, r, tag, &ts, 8, err);
}

static int
set_iv(op_eval *ev, op_val *r, eng_interval iv, eng_err *err)
{
    uint8_t b[16];
    memcpy(b, &iv.months, 4);
    memcpy(b + 4, &iv.days, 4);
    memcpy(b + 8, &iv.usecs, 8);
    return set_fixed(ev, r, ENG_TAG_INTERVAL, b, 16, err);
}

/* timestamp + interval (sign -1: minus), PostgreSQL's timestamp_pl_interval. */
static int
ts_pl_iv(int64_t ts, eng_interval iv, int sign, int64_t *out, eng_err *err)
{
    if (ts == ENG_TS_NOBEGIN || ts == ENG_TS_NOEND) {
        *out = ts;
        return 0;
    }
    if (sign < 0) {
        iv.months = -iv.months;
        iv.days = -iv.days;
        iv.usecs = -iv.usecs;
    }
    if (iv.months != 0) {
        tm_ tm;
        if (!eng_timestamp_in_range(ts))
            return ts_range(err);
        ts2tm(ts, &tm);
        int64_t mon = (int64_t)tm.mon + iv.months;
        int64_t year = tm.year;
        if (mon > MONTHS_PER_YEAR) {
            year += (mon - 1) / MONTHS_PER_YEAR;
            mon = (mon - 1) % MONTHS_PER_YEAR + 1;
        } else if (mon < 1) {
            year += mon / MONTHS_PER_YEAR - 1;
            mon = mon % MONTHS_PER_YEAR + MONTHS_PER_YEAR;
        }
        if (year < -10000000 || year > 10000000)
            return ts_range(err);
        tm.year = (int)year;
        tm.mon = (int)mon;
        int dim = days_in_month(tm.year, tm.mon);
        if (tm.mday > dim)
            tm.mday = dim;
        if (tm2ts(&tm, &ts, err))
            return -1;
    }
    if (iv.days != 0) {
        tm_ tm;
        if (!eng_timestamp_in_range(ts))
            return ts_range(err);
        ts2tm(ts, &tm);
        int64_t j = (int64_t)eng_date2j(tm.year, tm.mon, tm.mday) + iv.days;
        if (j < 0 || j > INT32_MAX)
            return ts_range(err);
        eng_j2date((int)j, &tm.year, &tm.mon, &tm.mday);
        if (tm2ts(&tm, &ts, err))
            return -1;
    }
    if (__builtin_add_overflow(ts, iv.usecs, &ts) || !eng_timestamp_in_range(ts))
        return ts_range(err);
    *out = ts;
    return 0;
}

/* ------------------------------------------------------------------ arithmetic */

enum {
    D_DATE_PL_INT,  /* date + int, int + date (aux: which side is the date) */
    D_DATE_MI_INT,  /* date - int */
    D_DATE_MI_DATE, /* date - date */
    D_TS_PL_IV,     /* timestamp(tz) + interval, either order */
    D_TS_MI_IV,     /* timestamp(tz) - interval */
    D_TS_MI_TS,     /* timestamp(tz) - timestamp(tz) */
    D_IV_PL_IV,
    D_IV_MI_IV,
    D_IV_NEG,
    D_TIME_PL_IV,   /* time + interval, either order */
    D_TIME_MI_IV,   /* time - interval */
    D_TIME_MI_TIME, /* time - time */
    D_DATE_PL_TIME, /* date + time, either order */
    D_IV_MUL,       /* interval * float8, either order */
    D_IV_DIV,       /* interval / float8 */
};

/* PostgreSQL's TSROUND: to microsecond precision. */
static double
ts_round(double v)
{
    return rint(v * 1000000.0) / 1000000.0;
}

static bool
fits_i32(double v)
{
    return !isnan(v) && v >= -2147483648.0 && v < 2147483648.0;
}

/* interval * factor (or / divisor), PostgreSQL's interval_mul/interval_div:
 * fractional months cascade into days (30 per month), fractional days into
 * time, each rounded to microseconds. */
static int
iv_scale(eng_interval iv, double f, bool div, eng_interval *r, eng_err *err)
{
    if (div && f == 0.0)
        return eng_err_set(err, ENG_ERRCODE_DIVISION_BY_ZERO, "division by zero");
    double m = div ? iv.months / f : iv.months * f;
    if (!fits_i32(m))
        return iv_range(err);
    r->months = (int32_t)m;
    double d = div ? iv.days / f : iv.days * f;
    if (!fits_i32(d))
        return iv_range(err);
    r->days = (int32_t)d;
    double month_days = ts_round((m - r->months) * 30.0);
    double sec = ts_round((d - r->days + month_days - (int)month_days) * 86400.0);
    if (fabs(sec) >= 86400.0) {
        r->days += (int)(sec / 86400.0);
        sec -= (int)(sec / 86400.0) * 86400.0;
    }
    r->days += (int32_t)month_days;
    double t = rint((div ? (double)iv.usecs / f : (double)iv.usecs * f) + sec * 1000000.0);
    if (isnan(t) || !(t >= -9223372036854775808.0 && t < 9223372036854775808.0))
        return iv_range(err);
    r->usecs = (int64_t)t;
    return 0;
}

static int
date_range(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "date out of range");
}

/* PostgreSQL's IS_VALID_DATE: [date2j(-4713, 11, 24), date2j(5874898, 1, 1)) */
static bool
date_valid(int64_t d)
{
    return d >= -ENG_POSTGRES_EPOCH_JDATE && d < 2147483494 - ENG_POSTGRES_EPOCH_JDATE;
}

static int
iv_add(eng_interval x, eng_interval y, eng_interval *r, eng_err *err)
{
    if (__builtin_add_overflow(x.months, y.months, &r->months) ||
        __builtin_add_overflow(x.days, y.days, &r->days) ||
        __builtin_add_overflow(x.usecs, y.usecs, &r->usecs))
        return iv_range(err);
    return 0;
}

static int
iv_neg(eng_interval x, eng_interval *r, eng_err *err)
{
    if (x.months == INT32_MIN || x.days == INT32_MIN || x.usecs == INT64_MIN)
        return iv_range(err);
    r->months = -x.months;
    r->days = -x.days;
    r->usecs = -x.usecs;
    return 0;
}

/* aux8: D_*; flags bit 0: the first argument is the int / interval (a
 * commuted +). */
static int
x_date_arith(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    const op_val *x = &a[0], *y = &a[1];
    if (in->flags & 1) {
        x = &a[1];
        y = &a[0];
    }
    switch (in->aux8) {
    case D_DATE_PL_INT:
    case D_DATE_MI_INT: {
        int32_t d = get_i32(x);
        if (d == ENG_DATE_NOBEGIN || d == ENG_DATE_NOEND)
            return set_fixed(ev, r, ENG_TAG_DATE, &d, 4, err);
        int64_t res = in->aux8 == D_DATE_PL_INT ? (int64_t)d + y->u.i : (int64_t)d - y->u.i;
        if (res < INT32_MIN || res > INT32_MAX || !date_valid(res))
            return date_range(err);
        int32_t out = (int32_t)res;
        return set_fixed(ev, r, ENG_TAG_DATE, &out, 4, err);
    }
    case D_DATE_MI_DATE: {
        int32_t d1 = get_i32(x), d2 = get_i32(y);
        if (d1 == ENG_DATE_NOBEGIN || d1 == ENG_DATE_NOEND || d2 == ENG_DATE_NOBEGIN ||
            d2 == ENG_DATE_NOEND)
            return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                               "cannot subtract infinite dates");
        op_x_int(r, ENG_TAG_INT4, (int64_t)d1 - d2);
        return 0;
    }
    case D_TS_PL_IV:
    case D_TS_MI_IV: {
        int64_t ts = 0;
        if (ts_pl_iv(get_i64(x), get_iv(y), in->aux8 == D_TS_PL_IV ? 1 : -1, &ts, err))
            return -1;
        return set_ts(ev, r, in->rtag, ts, err);
    }
    case D_TS_MI_TS: {
        int64_t t1 = get_i64(x), t2 = get_i64(y);
        if (t1 == ENG_TS_NOBEGIN || t1 == ENG_TS_NOEND || t2 == ENG_TS_NOBEGIN ||
            t2 == ENG_TS_NOEND)
            return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                               "cannot subtract infinite timestamps");
        eng_interval iv = {0, 0, 0};
        if (__builtin_sub_overflow(t1, t2, &iv.usecs))
            return iv_range(err);
        /* interval_justify_hours: whole days out of the time */
        int64_t whole = iv.usecs / ENG_USECS_PER_DAY;
        iv.usecs -= whole * ENG_USECS_PER_DAY;
        if (whole > INT32_MAX || whole < INT32_MIN)
            return iv_range(err);
        iv.days = (int32_t)whole;
        if (iv.days > 0 && iv.usecs < 0) {
            iv.usecs += ENG_USECS_PER_DAY;
            iv.days--;
        } else if (iv.days < 0 && iv.usecs > 0) {
            iv.usecs -= ENG_USECS_PER_DAY;
            iv.days++;
        }
        return set_iv(ev, r, iv, err);
    }
    case D_IV_PL_IV:
    case D_IV_MI_IV: {
        eng_interval res = {0, 0, 0}, n = get_iv(y);
        if (in->aux8 == D_IV_MI_IV && iv_neg(n, &n, err))
            return -1;
        if (iv_add(get_iv(x), n, &res, err))
            return -1;
        return set_iv(ev, r, res, err);
    }
    case D_TIME_PL_IV:
    case D_TIME_MI_IV: { /* wraps around midnight; months and days ignored */
        int64_t span = get_iv(y).usecs % ENG_USECS_PER_DAY;
        int64_t t = get_i64(x) + (in->aux8 == D_TIME_PL_IV ? span : -span);
        t -= t / ENG_USECS_PER_DAY * ENG_USECS_PER_DAY;
        if (t < 0)
            t += ENG_USECS_PER_DAY;
        return set_ts(ev, r, ENG_TAG_TIME, t, err);
    }
    case D_TIME_MI_TIME: {
        eng_interval iv = {0, 0, get_i64(x) - get_i64(y)};
        return set_iv(ev, r, iv, err);
    }
    case D_DATE_PL_TIME: {
        int32_t d = get_i32(x);
        int64_t ts;
        if (d == ENG_DATE_NOBEGIN || d == ENG_DATE_NOEND)
            return set_ts(ev, r, ENG_TAG_TIMESTAMP,
                          d == ENG_DATE_NOBEGIN ? ENG_TS_NOBEGIN : ENG_TS_NOEND, err);
        if (eng_date_to_timestamp(d, &ts, err))
            return -1;
        ts += get_i64(y);
        if (!eng_timestamp_in_range(ts))
            return ts_range(err);
        return set_ts(ev, r, ENG_TAG_TIMESTAMP, ts, err);
    }
    case D_IV_MUL:
    case D_IV_DIV: {
        eng_interval res = {0, 0, 0};
        if (iv_scale(get_iv(x), op_x_num_f(y), in->aux8 == D_IV_DIV, &res, err))
            return -1;
        return set_iv(ev, r, res, err);
    }
    default: {
        eng_interval res = {0, 0, 0};
        if (iv_neg(get_iv(&a[0]), &res, err))
            return -1;
        return set_iv(ev, r, res, err);
    }
    }
}

/* ------------------------------------------------------------------ units */

enum {
    U_MICROSEC,
    U_MILLISEC,
    U_SECOND,
    U_MINUTE,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_QUARTER,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
    U_TZ,
    U_DOW,
    U_ISODOW,
    U_DOY,
    U_ISOYEAR,
    U_JULIAN,
    U_EPOCH,    /* a reserved word */
    U_RESERVED, /* another reserved word (now, today...): never supported */
    U_UNKNOWN,
};

static const struct {
    const char *tok;
    int unit;
} unit_words[] = {
    /* PostgreSQL's deltatktbl (DecodeUnits) */
    {"c", U_CENTURY},
    {"cent", U_CENTURY},
    {"centuries", U_CENTURY},
    {"century", U_CENTURY},
    {"d", U_DAY},
    {"day", U_DAY},
    {"days", U_DAY},
    {"dec", U_DECADE},
    {"decade", U_DECADE},
    {"decades", U_DECADE},
    {"decs", U_DECADE},
    {"h", U_HOUR},
    {"hour", U_HOUR},
    {"hours", U_HOUR},
    {"hr", U_HOUR},
    {"hrs", U_HOUR},
    {"m", U_MINUTE},
    {"microsecon", U_MICROSEC},
    {"mil", U_MILLENNIUM},
    {"millennia", U_MILLENNIUM},
    {"millennium", U_MILLENNIUM},
    {"millisecon", U_MILLISEC},
    {"mils", U_MILLENNIUM},
    {"min", U_MINUTE},
    {"mins", U_MINUTE},
    {"minute", U_MINUTE},
    {"minutes", U_MINUTE},
    {"mon", U_MONTH},
    {"mons", U_MONTH},
    {"month", U_MONTH},
    {"months", U_MONTH},
    {"ms", U_MILLISEC},
    {"msec", U_MILLISEC},
    {"msecond", U_MILLISEC},
    {"mseconds", U_MILLISEC},
    {"msecs", U_MILLISEC},
    {"qtr", U_QUARTER},
    {"quarter", U_QUARTER},
    {"s", U_SECOND},
    {"sec", U_SECOND},
    {"second", U_SECOND},
    {"seconds", U_SECOND},
    {"secs", U_SECOND},
    {"timezone", U_TZ},
    {"timezone_h", U_TZ},
    {"timezone_m", U_TZ},
    {"us", U_MICROSEC},
    {"usec", U_MICROSEC},
    {"usecond", U_MICROSEC},
    {"useconds", U_MICROSEC},
    {"usecs", U_MICROSEC},
    {"w", U_WEEK},
    {"week", U_WEEK},
    {"weeks", U_WEEK},
    {"y", U_YEAR},
    {"year", U_YEAR},
    {"years", U_YEAR},
    {"yr", U_YEAR},
    {"yrs", U_YEAR},
};

/* The special words EXTRACT also accepts (PostgreSQL's DecodeSpecial). */
static const struct {
    const char *tok;
    int unit;
} special_words[] = {
    {"dow", U_DOW},           {"doy", U_DOY},
    {"isodow", U_ISODOW},     {"isoyear", U_ISOYEAR},
    {"j", U_JULIAN},          {"jd", U_JULIAN},
    {"julian", U_JULIAN},     {"epoch", U_EPOCH},
    {"infinity", U_RESERVED}, {"-infinity", U_RESERVED},
    {"now", U_RESERVED},      {"today", U_RESERVED},
    {"tomorrow", U_RESERVED}, {"yesterday", U_RESERVED},
    {"allballs", U_RESERVED},
};

/* Lower-cases s into low (ASCII, up to 63 bytes like an identifier) and
 * looks it up; special: EXTRACT's extra words too. */
static int
decode_units(const op_val *s, char low[64], bool special)
{
    uint32_t n = s->len < 63 ? s->len : 63;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t ch = s->u.p[i];
        low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
    }
    low[n] = '\0';
    for (size_t i = 0; i < sizeof unit_words / sizeof unit_words[0]; i++)
        if (strncmp(low, unit_words[i].tok, 10) == 0)
            return unit_words[i].unit;
    if (special)
        for (size_t i = 0; i < sizeof special_words / sizeof special_words[0]; i++)
            if (strncmp(low, special_words[i].tok, 10) == 0)
                return special_words[i].unit;
    return U_UNKNOWN;
}

static const char *
type_desc(op_type t)
{
    return op_type_name(t);
}

static int
unit_not_recognized(const char *low, op_type t, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                       "unit \"%s\" not recognized for type %s", low, type_desc(t));
}

static int
unit_not_supported(const char *low, op_type t, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                       "unit \"%s\" not supported for type %s", low, type_desc(t));
}

/* ------------------------------------------------------------------ ISO weeks */

static int
isoweek_start(int year)
{
    int day4 = eng_date2j(year, 1, 4);
    return day4 - eng_j2day(day4 - 1);
}

static int
date2isoweek(int year, int mon, int mday)
{
    int dayn = eng_date2j(year, mon, mday), start = isoweek_start(year);
    if (dayn < start)
        start = isoweek_start(year - 1);
    int week = (dayn - start) / 7 + 1;
    if (week >= 52) {
        int next = isoweek_start(year + 1);
        if (dayn >= next)
            week = (dayn - next) / 7 + 1;
    }
    return week;
}

static int
date2isoyear(int year, int mon, int mday)
{
    int dayn = eng_date2j(year, mon, mday), start = isoweek_start(year);
    if (dayn < start) {
        start = isoweek_start(year - 1);
        year--;
    }
    int week = (dayn - start) / 7 + 1;
    if (week >= 52 && dayn >= isoweek_start(year + 1))
        year++;
    return year;
}

/* ------------------------------------------------------------------ date_trunc */

/* date_trunc(unit, interval): PostgreSQL's interval_trunc over the
 * interval's fields (years and months from its months, hours... from its
 * time). */
static int
trunc_interval(op_eval *ev, const op_val *a, op_val *r, eng_err *err)
{
    char low[64];
    eng_interval iv = get_iv(&a[1]);
    int unit = decode_units(&a[0], low, false);
    if (unit == U_UNKNOWN)
        return unit_not_recognized(low, OP_T_INTERVAL, err);
    int64_t year = iv.months / 12, mon = iv.months % 12, mday = iv.days;
    int64_t hour = iv.usecs / ENG_USECS_PER_HOUR;
    int64_t rest = iv.usecs - hour * ENG_USECS_PER_HOUR;
    int64_t min = rest / ENG_USECS_PER_MINUTE;
    rest -= min * ENG_USECS_PER_MINUTE;
    int64_t sec = rest / ENG_USECS_PER_SEC, usec = rest % ENG_USECS_PER_SEC;
    switch (unit) {
    case U_MILLENNIUM:
    case U_CENTURY:
    case U_DECADE:
    case U_YEAR:
    case U_QUARTER:
    case U_MONTH:
    case U_DAY:
    case U_HOUR:
    case U_MINUTE:
    case U_SECOND:
        /* C division truncates toward zero, as PostgreSQL's does here */
        if (unit == U_MILLENNIUM)
            year = year / 1000 * 1000;
        if (unit == U_CENTURY)
            year = year / 100 * 100;
        if (unit == U_DECADE)
            year = year / 10 * 10;
        if (unit >= U_YEAR)
            mon = 0;
        if (unit >= U_QUARTER)
            mon = 3 * (mon / 3);
        if (unit >= U_MONTH)
            mday = 0;
        if (unit >= U_DAY)
            hour = 0;
        if (unit >= U_HOUR)
            min = 0;
        if (unit >= U_MINUTE)
            sec = 0;
        usec = 0;
        break;
    case U_MILLISEC:
        usec = usec / 1000 * 1000;
        break;
    case U_MICROSEC:
        break;
    default: {
        int rc = unit_not_supported(low, OP_T_INTERVAL, err);
        if (unit == U_WEEK)
            eng_err_detail(err, "Months usually have fractional weeks.");
        return rc;
    }
    }
    eng_interval res = {(int32_t)(year * 12 + mon), (int32_t)mday,
                        ((hour * 60 + min) * 60 + sec) * ENG_USECS_PER_SEC + usec};
    return set_iv(ev, r, res, err);
}

static int
x_date_trunc(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    if (a[1].tag == ENG_TAG_INTERVAL)
        return trunc_interval(ev, a, r, err);
    char low[64];
    int64_t ts = get_i64(&a[1]);
    if (ts == ENG_TS_NOBEGIN || ts == ENG_TS_NOEND) /* before the unit is even looked at */
        return set_ts(ev, r, in->rtag, ts, err);
    int unit = decode_units(&a[0], low, false);
    if (unit == U_UNKNOWN)
        return unit_not_recognized(low, in->rtype, err);
    if (unit > U_MILLENNIUM)
        return unit_not_supported(low, in->rtype, err);
    if (!eng_timestamp_in_range(ts))
        return ts_range(err);
    tm_ tm;
    ts2tm(ts, &tm);
    int64_t hour = tm.time / ENG_USECS_PER_HOUR, min = tm.time / ENG_USECS_PER_MINUTE % 60,
            sec = tm.time / ENG_USECS_PER_SEC % 60, fsec = tm.time % ENG_USECS_PER_SEC;
    switch (unit) {
    case U_WEEK: {
        int woy = date2isoweek(tm.year, tm.mon, tm.mday);
        if (woy >= 52 && tm.mon == 1)
            tm.year--;
        if (woy <= 1 && tm.mon == MONTHS_PER_YEAR)
            tm.year++;
        eng_j2date((woy - 1) * 7 + isoweek_start(tm.year), &tm.year, &tm.mon, &tm.mday);
        hour = min = sec = fsec = 0;
        break;
    }
    case U_MILLENNIUM:
    case U_CENTURY:
    case U_DECADE:
    case U_YEAR:
    case U_QUARTER:
    case U_MONTH:
    case U_DAY:
    case U_HOUR:
    case U_MINUTE:
    case U_SECOND:
        /* PostgreSQL's fall-through chain: each unit clears everything
         * below it; BC years count from 1 BC (year 0). */
        if (unit == U_MILLENNIUM)
            tm.year = tm.year > 0 ? ((tm.year + 999) / 1000) * 1000 - 999
                                  : -((999 - (tm.year - 1)) / 1000) * 1000 + 1;
        if (unit == U_CENTURY)
            tm.year = tm.year > 0 ? ((tm.year + 99) / 100) * 100 - 99
                                  : -((99 - (tm.year - 1)) / 100) * 100 + 1;
        if (unit == U_DECADE)
            tm.year = tm.year > 0 ? (tm.year / 10) * 10 : -((8 - (tm.year - 1)) / 10) * 10;
        if (unit >= U_YEAR)
            tm.mon = 1;
        if (unit >= U_QUARTER)
            tm.mon = 3 * ((tm.mon - 1) / 3) + 1;
        if (unit >= U_MONTH)
            tm.mday = 1;
        if (unit >= U_DAY)
            hour = 0;
        if (unit >= U_HOUR)
            min = 0;
        if (unit >= U_MINUTE)
            sec = 0;
        fsec = 0;
        break;
    case U_MILLISEC:
        fsec = (fsec / 1000) * 1000;
        break;
    case U_MICROSEC:
        break;
    default:
        return unit_not_supported(low, in->rtype, err);
    }
    tm.time = ((hour * 60 + min) * 60 + sec) * ENG_USECS_PER_SEC + fsec;
    if (tm2ts(&tm, &ts, err))
        return -1;
    return set_ts(ev, r, in->rtag, ts, err);
}

/* ------------------------------------------------------------------ extract / date_part */

/* The numeric v / 10^scale (exact), or v as float8 divided. */
static int
set_scaled(op_eval *ev, const op_x_insn *in, int64_t v, int scale, op_val *r, eng_err *err)
{
    if (in->rtype == OP_T_FLOAT8) { /* one correctly rounded division */
        static const double pow10[7] = {1, 10, 100, 1000, 10000, 100000, 1000000};
        op_x_float(r, ENG_TAG_FLOAT8, (double)v / pow10[scale]);
        return 0;
    }
    char buf[48], digits[24];
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    int len = (int)strlen(digits);
    char *o = buf;
    if (v < 0)
        *o++ = '-';
    if (scale == 0) {
        o += snprintf(o, 40, "%s", digits);
    } else if (len > scale) {
        memcpy(o, digits, (size_t)(len - scale));
        o += len - scale;
        *o++ = '.';
        memcpy(o, digits + len - scale, (size_t)scale);
        o += scale;
    } else {
        *o++ = '0';
        *o++ = '.';
        for (int i = len; i < scale; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)len);
        o += len;
    }
    eng_numeric nv;
    eng_numeric_init(&nv);
    int rc = eng_numeric_parse(buf, (size_t)(o - buf), -1, &nv, err);
    if (rc == 0) {
        eng_rowbuf_reset(&ev->tmp);
        eng_numeric_push(&ev->tmp, &nv);
        rc = op_x_take_tmp(ev, in->rtype, r, err);
    }
    eng_numeric_free(&nv);
    return rc;
}

/* Seconds (scale 6) or milliseconds (scale 3) of us microseconds: exact
 * numeric, or float8 computed as PostgreSQL does (whole seconds plus the
 * fraction, which rounds differently from one division). */
static int
set_secs(op_eval *ev, const op_x_insn *in, int64_t us, int scale, op_val *r, eng_err *err)
{
    if (in->rtype != OP_T_FLOAT8)
        return set_scaled(ev, in, us, scale, r, err);
    int64_t sec = us / ENG_USECS_PER_SEC, fsec = us % ENG_USECS_PER_SEC;
    double v = scale == 6 ? (double)sec + (double)fsec / 1000000.0
                          : (double)sec * 1000.0 + (double)fsec / 1000.0;
    op_x_float(r, ENG_TAG_FLOAT8, v);
    return 0;
}

static int
set_special(op_eval *ev, const op_x_insn *in, bool negative, op_val *r, eng_err *err)
{
    if (in->rtype == OP_T_FLOAT8) {
        op_x_float(r, ENG_TAG_FLOAT8, negative ? -__builtin_inf() : __builtin_inf());
        return 0;
    }
    eng_numeric nv;
    eng_numeric_init(&nv);
    eng_numeric_set_special(&nv, negative ? ENG_NUMERIC_NINF : ENG_NUMERIC_PINF);
    eng_rowbuf_reset(&ev->tmp);
    eng_numeric_push(&ev->tmp, &nv);
    eng_numeric_free(&nv);
    return op_x_take_tmp(ev, in->rtype, r, err);
}

/* julian day + fraction of the day: numeric via the library's division */
static int
set_julian(op_eval *ev, const op_x_insn *in, int64_t jd, int64_t usec, op_val *r, eng_err *err)
{
    if (in->rtype == OP_T_FLOAT8) { /* PostgreSQL's float formula */
        int64_t secs = usec / ENG_USECS_PER_SEC, fsec = usec % ENG_USECS_PER_SEC;
        op_x_float(r, ENG_TAG_FLOAT8,
                   (double)jd + ((double)secs + (double)fsec / 1000000.0) / 86400.0);
        return 0;
    }
    eng_numeric a, b, q, s;
    eng_numeric_init(&a);
    eng_numeric_init(&b);
    eng_numeric_init(&q);
    eng_numeric_init(&s);
    eng_numeric_from_int64(&a, usec);
    eng_numeric_from_int64(&b, ENG_USECS_PER_DAY);
    int rc = eng_numeric_div(&a, &b, &q, err);
    if (rc == 0) {
        eng_numeric_from_int64(&a, jd);
        rc = eng_numeric_add(&a, &q, &s, err);
    }
    if (rc == 0) {
        eng_rowbuf_reset(&ev->tmp);
        eng_numeric_push(&ev->tmp, &s);
        rc = op_x_take_tmp(ev, in->rtype, r, err);
    }
    eng_numeric_free(&a);
    eng_numeric_free(&b);
    eng_numeric_free(&q);
    eng_numeric_free(&s);
    return rc;
}

static bool
monotonic(int unit)
{
    return unit == U_YEAR || unit == U_DECADE || unit == U_CENTURY || unit == U_MILLENNIUM ||
           unit == U_JULIAN || unit == U_ISOYEAR || unit == U_EPOCH;
}

/* Fields of a calendar date (year 0 = 1 BC). */
static bool
date_field(int unit, int year, int mon, int mday, int64_t *out)
{
    switch (unit) {
    case U_DAY:
        *out = mday;
        return true;
    case U_MONTH:
        *out = mon;
        return true;
    case U_QUARTER:
        *out = (mon - 1) / 3 + 1;
        return true;
    case U_WEEK:
        *out = date2isoweek(year, mon, mday);
        return true;
    case U_YEAR:
        *out = year > 0 ? year : year - 1;
        return true;
    case U_DECADE:
        *out = year >= 0 ? year / 10 : -((8 - (year - 1)) / 10);
        return true;
    case U_CENTURY:
        *out = year > 0 ? (year + 99) / 100 : -((99 - (year - 1)) / 100);
        return true;
    case U_MILLENNIUM:
        *out = year > 0 ? (year + 999) / 1000 : -((999 - (year - 1)) / 1000);
        return true;
    case U_ISOYEAR: {
        int64_t y = date2isoyear(year, mon, mday);
        *out = y <= 0 ? y - 1 : y;
        return true;
    }
    case U_DOW:
    case U_ISODOW: {
        int d = eng_j2day(eng_date2j(year, mon, mday));
        *out = unit == U_ISODOW && d == 0 ? 7 : d;
        return true;
    }
    case U_DOY:
        *out = eng_date2j(year, mon, mday) - eng_date2j(year, 1, 1) + 1;
        return true;
    default:
        return false;
    }
}

/* Unix epoch as a timestamp (µs since 2000-01-01). */
#define EPOCH_TS (-INT64_C(946684800000000))

static int
part_timestamp(op_eval *ev, const op_x_insn *in, int unit, const char *low, int64_t ts, op_val *r,
               eng_err *err)
{
    op_type t = in->flags & 2 ? OP_T_TIMESTAMPTZ : OP_T_TIMESTAMP;
    if (unit == U_UNKNOWN)
        return unit_not_recognized(low, t, err);
    if (ts == ENG_TS_NOBEGIN || ts == ENG_TS_NOEND) {
        if (unit == U_RESERVED)
            return unit_not_supported(low, t, err);
        if (monotonic(unit))
            return set_special(ev, in, ts == ENG_TS_NOBEGIN, r, err);
        op_x_null(r);
        return 0;
    }
    if (unit == U_EPOCH) {
        int64_t d;
        if (!__builtin_sub_overflow(ts, EPOCH_TS, &d))
            return set_scaled(ev, in, d, 6, r, err);
        return ts_range(err);
    }
    if (unit == U_RESERVED)
        return unit_not_supported(low, t, err);
    if (!eng_timestamp_in_range(ts))
        return ts_range(err);
    tm_ tm;
    ts2tm(ts, &tm);
    int64_t usec_min = tm.time % ENG_USECS_PER_MINUTE; /* seconds and fraction */
    int64_t v;
    switch (unit) {
    case U_MICROSEC:
        return set_scaled(ev, in, usec_min, 0, r, err);
    case U_MILLISEC:
        return set_secs(ev, in, usec_min, 3, r, err);
    case U_SECOND:
        return set_secs(ev, in, usec_min, 6, r, err);
    case U_MINUTE:
        return set_scaled(ev, in, tm.time / ENG_USECS_PER_MINUTE % 60, 0, r, err);
    case U_HOUR:
        return set_scaled(ev, in, tm.time / ENG_USECS_PER_HOUR, 0, r, err);
    case U_JULIAN:
        return set_julian(ev, in, eng_date2j(tm.year, tm.mon, tm.mday), tm.time, r, err);
    case U_TZ:
        if (t == OP_T_TIMESTAMPTZ) /* the session zone is UTC */
            return set_scaled(ev, in, 0, 0, r, err);
        return unit_not_supported(low, t, err);
    default:
        if (!date_field(unit, tm.year, tm.mon, tm.mday, &v))
            return unit_not_supported(low, t, err);
        return set_scaled(ev, in, v, 0, r, err);
    }
}

static int
part_date(op_eval *ev, const op_x_insn *in, int unit, const char *low, int32_t d, op_val *r,
          eng_err *err)
{
    if (unit == U_UNKNOWN)
        return unit_not_recognized(low, OP_T_DATE, err);
    bool inf = d == ENG_DATE_NOBEGIN || d == ENG_DATE_NOEND;
    if (inf) {
        switch (unit) {
        case U_DAY:
        case U_MONTH:
        case U_QUARTER:
        case U_WEEK:
        case U_DOW:
        case U_ISODOW:
        case U_DOY:
            op_x_null(r);
            return 0;
        default:
            if (monotonic(unit))
                return set_special(ev, in, d == ENG_DATE_NOBEGIN, r, err);
            return unit_not_supported(low, OP_T_DATE, err);
        }
    }
    int64_t v;
    if (unit == U_EPOCH)
        return set_scaled(ev, in,
                          ((int64_t)d + ENG_POSTGRES_EPOCH_JDATE - ENG_UNIX_EPOCH_JDATE) * 86400, 0,
                          r, err);
    if (unit == U_JULIAN)
        return set_scaled(ev, in, (int64_t)d + ENG_POSTGRES_EPOCH_JDATE, 0, r, err);
    int year, mon, mday;
    eng_j2date(d + ENG_POSTGRES_EPOCH_JDATE, &year, &mon, &mday);
    if (!date_field(unit, year, mon, mday, &v))
        return unit_not_supported(low, OP_T_DATE, err);
    return set_scaled(ev, in, v, 0, r, err);
}

static int
part_interval(op_eval *ev, const op_x_insn *in, int unit, const char *low, eng_interval iv,
              op_val *r, eng_err *err)
{
    if (unit == U_UNKNOWN || unit == U_RESERVED || unit == U_DOW || unit == U_DOY ||
        unit == U_ISODOW || unit == U_ISOYEAR || unit == U_JULIAN) {
        if (unit == U_UNKNOWN || unit == U_RESERVED)
            return unit_not_recognized(low, OP_T_INTERVAL, err);
        return unit_not_supported(low, OP_T_INTERVAL, err);
    }
    int64_t years = iv.months / 12, mons = iv.months % 12;
    int64_t hours = iv.usecs / ENG_USECS_PER_HOUR;
    int64_t rest = iv.usecs - hours * ENG_USECS_PER_HOUR;
    int64_t mins = rest / ENG_USECS_PER_MINUTE;
    int64_t usec_min = rest - mins * ENG_USECS_PER_MINUTE;
    switch (unit) {
    case U_MICROSEC:
        return set_scaled(ev, in, usec_min, 0, r, err);
    case U_MILLISEC:
        return set_secs(ev, in, usec_min, 3, r, err);
    case U_SECOND:
        return set_secs(ev, in, usec_min, 6, r, err);
    case U_MINUTE:
        return set_scaled(ev, in, mins, 0, r, err);
    case U_HOUR:
        return set_scaled(ev, in, hours, 0, r, err);
    case U_DAY:
        return set_scaled(ev, in, iv.days, 0, r, err);
    case U_MONTH:
        return set_scaled(ev, in, mons, 0, r, err);
    case U_QUARTER:
        return set_scaled(ev, in, mons / 3 + 1, 0, r, err);
    case U_YEAR:
        return set_scaled(ev, in, years, 0, r, err);
    case U_DECADE:
        return set_scaled(ev, in, years / 10, 0, r, err);
    case U_CENTURY:
        return set_scaled(ev, in, years / 100, 0, r, err);
    case U_MILLENNIUM:
        return set_scaled(ev, in, years / 1000, 0, r, err);
    case U_EPOCH: {
        if (in->rtype == OP_T_FLOAT8) {
            double v = (double)iv.usecs / 1000000.0;
            v += 365.25 * 86400 * (double)(iv.months / 12);
            v += 30.0 * 86400 * (double)(iv.months % 12);
            v += 86400.0 * iv.days;
            op_x_float(r, ENG_TAG_FLOAT8, v);
            return 0;
        }
        /* in quarters of a day so that 365.25 days a year stays integral */
        int64_t secs = ((int64_t)(4 * 365.25) * (iv.months / 12) +
                        (int64_t)(4 * 30) * (iv.months % 12) + (int64_t)4 * iv.days) *
                       (86400 / 4);
        int64_t v;
        if (__builtin_mul_overflow(secs, INT64_C(1000000), &v) ||
            __builtin_add_overflow(v, iv.usecs, &v))
            return iv_range(err);
        return set_scaled(ev, in, v, 6, r, err);
    }
    default: /* week, timezone */
        return unit_not_supported(low, OP_T_INTERVAL, err);
    }
}

static int
part_time(op_eval *ev, const op_x_insn *in, int unit, const char *low, int64_t t, op_val *r,
          eng_err *err)
{
    int64_t usec_min = t % ENG_USECS_PER_MINUTE;
    switch (unit) {
    case U_MICROSEC:
        return set_scaled(ev, in, usec_min, 0, r, err);
    case U_MILLISEC:
        return set_secs(ev, in, usec_min, 3, r, err);
    case U_SECOND:
        return set_secs(ev, in, usec_min, 6, r, err);
    case U_MINUTE:
        return set_scaled(ev, in, t / ENG_USECS_PER_MINUTE % 60, 0, r, err);
    case U_HOUR:
        return set_scaled(ev, in, t / ENG_USECS_PER_HOUR, 0, r, err);
    case U_EPOCH:
        return set_scaled(ev, in, t, 6, r, err);
    case U_UNKNOWN:
    case U_RESERVED:
        return unit_not_recognized(low, OP_T_TIME, err);
    default:
        return unit_not_supported(low, OP_T_TIME, err);
    }
}

/* extract / date_part(field, x): rtype numeric or float8; flags bit 1:
 * x is timestamptz. */
static int
x_part(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    char low[64];
    int unit = decode_units(&a[0], low, true);
    switch (a[1].tag) {
    case ENG_TAG_DATE:
        return part_date(ev, in, unit, low, get_i32(&a[1]), r, err);
    case ENG_TAG_INTERVAL:
        return part_interval(ev, in, unit, low, get_iv(&a[1]), r, err);
    case ENG_TAG_TIME:
        return part_time(ev, in, unit, low, get_i64(&a[1]), r, err);
    default:
        return part_timestamp(ev, in, unit, low, get_i64(&a[1]), r, err);
    }
}

/* ------------------------------------------------------------------ resolution */

static int
no_op(op_expr *e, const op_type *at, eng_err *err)
{
    if (e->nargs == 1)
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: %s %s",
                           op_fn_name(e->fn), op_type_name(at[0]));
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: %s %s %s",
                       op_type_name(at[0]), op_fn_name(e->fn), op_type_name(at[1]));
}

static bool
is_ts(op_type t)
{
    return t == OP_T_TIMESTAMP || t == OP_T_TIMESTAMPTZ;
}

static int
resolve_arith(op_expr *e, const op_type *at, eng_err *err)
{
    op_type a = at[0], b = at[1], *w = op_x_want(e);
    bool add = e->fn == OP_ADD;
    e->impl_fn = x_date_arith;
    e->impl_strict = true;
    if (a == OP_T_UNKNOWN || b == OP_T_UNKNOWN)
        return eng_err_set(err, ENG_ERRCODE_AMBIGUOUS_FUNCTION, "operator is not unique: %s %s %s",
                           op_type_name(a), op_fn_name(e->fn), op_type_name(b));
    bool ia = a == OP_T_INT2 || a == OP_T_INT4, ib = b == OP_T_INT2 || b == OP_T_INT4;
    if (a == OP_T_DATE && ib) { /* date +- int */
        e->rtype = OP_T_DATE;
        e->impl_aux8 = add ? D_DATE_PL_INT : D_DATE_MI_INT;
        return 0;
    }
    if (add && ia && b == OP_T_DATE) {
        e->rtype = OP_T_DATE;
        e->impl_aux8 = D_DATE_PL_INT;
        e->impl_flags = 1;
        return 0;
    }
    if (!add && a == OP_T_DATE && b == OP_T_DATE) {
        e->rtype = OP_T_INT4;
        e->impl_aux8 = D_DATE_MI_DATE;
        return 0;
    }
    /* date/timestamp(tz) +- interval; a date widens to timestamp */
    if ((a == OP_T_DATE || is_ts(a)) && b == OP_T_INTERVAL) {
        e->rtype = a == OP_T_DATE ? OP_T_TIMESTAMP : a;
        w[0] = e->rtype;
        e->impl_aux8 = add ? D_TS_PL_IV : D_TS_MI_IV;
        return 0;
    }
    if (add && a == OP_T_INTERVAL && (b == OP_T_DATE || is_ts(b))) {
        e->rtype = b == OP_T_DATE ? OP_T_TIMESTAMP : b;
        w[1] = e->rtype;
        e->impl_aux8 = D_TS_PL_IV;
        e->impl_flags = 1;
        return 0;
    }
    /* timestamp - timestamp, widening a date or a timestamp */
    if (!add && (a == OP_T_DATE || is_ts(a)) && (b == OP_T_DATE || is_ts(b))) {
        op_type t =
            a == OP_T_TIMESTAMPTZ || b == OP_T_TIMESTAMPTZ ? OP_T_TIMESTAMPTZ : OP_T_TIMESTAMP;
        w[0] = w[1] = t;
        e->rtype = OP_T_INTERVAL;
        e->impl_aux8 = D_TS_MI_TS;
        return 0;
    }
    if (a == OP_T_INTERVAL && b == OP_T_INTERVAL) {
        e->rtype = OP_T_INTERVAL;
        e->impl_aux8 = add ? D_IV_PL_IV : D_IV_MI_IV;
        return 0;
    }
    if (a == OP_T_TIME && b == OP_T_INTERVAL) {
        e->rtype = OP_T_TIME;
        e->impl_aux8 = add ? D_TIME_PL_IV : D_TIME_MI_IV;
        return 0;
    }
    if (add && a == OP_T_INTERVAL && b == OP_T_TIME) {
        e->rtype = OP_T_TIME;
        e->impl_aux8 = D_TIME_PL_IV;
        e->impl_flags = 1;
        return 0;
    }
    if (!add && a == OP_T_TIME && b == OP_T_TIME) {
        e->rtype = OP_T_INTERVAL;
        e->impl_aux8 = D_TIME_MI_TIME;
        return 0;
    }
    if (add && ((a == OP_T_DATE && b == OP_T_TIME) || (a == OP_T_TIME && b == OP_T_DATE))) {
        e->rtype = OP_T_TIMESTAMP;
        e->impl_aux8 = D_DATE_PL_TIME;
        e->impl_flags = a == OP_T_TIME;
        return 0;
    }
    return no_op(e, at, err);
}

/* interval * number, number * interval, interval / number: the number is
 * read as float8 (ints directly, numeric through a cast). */
static int
resolve_iv_scale(op_expr *e, const op_type *at, eng_err *err)
{
    bool mul = e->fn == OP_MUL;
    int iv = at[0] == OP_T_INTERVAL ? 0 : 1, num = 1 - iv;
    if (!mul && iv != 0)
        return no_op(e, at, err);
    if (!(op_x_is_num(at[num]) || at[num] == OP_T_UNKNOWN))
        return no_op(e, at, err);
    op_type *w = op_x_want(e);
    if (at[num] == OP_T_NUMERIC || at[num] == OP_T_FLOAT4)
        w[num] = OP_T_FLOAT8;
    e->rtype = OP_T_INTERVAL;
    e->impl_fn = x_date_arith;
    e->impl_strict = true;
    e->impl_aux8 = mul ? D_IV_MUL : D_IV_DIV;
    e->impl_flags = iv == 1;
    return 0;
}

int
op_x_resolve_date(op_expr *e, const op_type *at, eng_err *err)
{
    switch (e->fn) {
    case OP_MUL:
    case OP_DIV:
        if (e->nargs != 2 || (at[0] != OP_T_INTERVAL && at[1] != OP_T_INTERVAL))
            return 1;
        return resolve_iv_scale(e, at, err);
    case OP_ADD:
    case OP_SUB:
        if (e->nargs != 2 || !(op_x_is_datetime(at[0]) || op_x_is_datetime(at[1])))
            return 1;
        return resolve_arith(e, at, err);
    case OP_NEG:
        if (e->nargs != 1 || at[0] != OP_T_INTERVAL)
            return 1;
        e->rtype = OP_T_INTERVAL;
        e->impl_fn = x_date_arith;
        e->impl_strict = true;
        e->impl_aux8 = D_IV_NEG;
        return 0;
    case OP_DATE_TRUNC: {
        op_type *w = op_x_want(e);
        if (e->nargs != 2 || !(op_x_is_string(at[0]) || at[0] == OP_T_UNKNOWN))
            goto nofn;
        op_type t = at[1];
        if (t == OP_T_DATE || t == OP_T_UNKNOWN) /* PostgreSQL picks timestamptz for a date */
            t = OP_T_TIMESTAMPTZ;
        if (!is_ts(t) && t != OP_T_INTERVAL)
            goto nofn;
        w[0] = at[0] == OP_T_BPCHAR ? OP_T_TEXT : OP_T_UNKNOWN;
        w[1] = t;
        e->rtype = t;
        e->impl_fn = x_date_trunc;
        e->impl_strict = true;
        return 0;
    }
    case OP_EXTRACT:
    case OP_DATE_PART: {
        op_type *w = op_x_want(e);
        if (e->nargs != 2 || !(op_x_is_string(at[0]) || at[0] == OP_T_UNKNOWN))
            goto nofn;
        op_type t = at[1];
        if (t == OP_T_UNKNOWN)
            t = OP_T_TIMESTAMPTZ;
        /* date_part(text, date) is date_part(text, date::timestamp) */
        if (e->fn == OP_DATE_PART && t == OP_T_DATE)
            t = OP_T_TIMESTAMP;
        if (!(t == OP_T_DATE || t == OP_T_TIME || is_ts(t) || t == OP_T_INTERVAL))
            goto nofn;
        w[0] = at[0] == OP_T_BPCHAR ? OP_T_TEXT : OP_T_UNKNOWN;
        w[1] = t;
        e->rtype = e->fn == OP_EXTRACT ? OP_T_NUMERIC : OP_T_FLOAT8;
        e->impl_fn = x_part;
        e->impl_strict = true;
        e->impl_flags = t == OP_T_TIMESTAMPTZ ? 2 : 0;
        return 0;
    }
    default:
        return 1;
    }
nofn:
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "function %s(%s, %s) does not exist",
                       op_fn_name(e->fn), op_type_name(at[0]),
                       e->nargs > 1 ? op_type_name(at[1]) : "");
}
