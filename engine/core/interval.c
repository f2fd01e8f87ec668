/* Interval text input (PostgreSQL's postgres / SQL-standard field syntax
 * and ISO 8601 "P..." forms), output in IntervalStyle 'postgres', and
 * typmod application.
 *
 * Notes: fields are read right to left so a unit word applies to the number
 * before it; fractional units spill into smaller ones as PostgreSQL does
 * (months of 30 days, days of 24 hours, half-microseconds rounded away from
 * zero); any overflow is 22015. Pure functions. */
#include "engine/core/datetime_int.h"
#include "engine/core/datetime_parse.h"
#include "engine/core/eng_type.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The accumulating interval (PostgreSQL's pg_itm_in). */
typedef struct {
    int64_t usec;
    int mday, mon, year;
} itm_in;

enum {
    U_NONE = 0,
    U_MICROSEC,
    U_MILLISEC,
    U_SECOND,
    U_MINUTE,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
    U_QUARTER,
    U_TZ,
};

enum { K_UNITS, K_AGO, K_IGNORE };

static const struct {
    const char *tok;
    int kind;
    int unit;
} units[] = {
    {"@", K_IGNORE, 0},
    {"ago", K_AGO, U_NONE},
    {"c", K_UNITS, U_CENTURY},
    {"cent", K_UNITS, U_CENTURY},
    {"centuries", K_UNITS, U_CENTURY},
    {"century", K_UNITS, U_CENTURY},
    {"d", K_UNITS, U_DAY},
    {"day", K_UNITS, U_DAY},
    {"days", K_UNITS, U_DAY},
    {"dec", K_UNITS, U_DECADE},
    {"decade", K_UNITS, U_DECADE},
    {"decades", K_UNITS, U_DECADE},
    {"decs", K_UNITS, U_DECADE},
    {"h", K_UNITS, U_HOUR},
    {"hour", K_UNITS, U_HOUR},
    {"hours", K_UNITS, U_HOUR},
    {"hr", K_UNITS, U_HOUR},
    {"hrs", K_UNITS, U_HOUR},
    {"m", K_UNITS, U_MINUTE},
    {"microsecon", K_UNITS, U_MICROSEC},
    {"mil", K_UNITS, U_MILLENNIUM},
    {"millennia", K_UNITS, U_MILLENNIUM},
    {"millennium", K_UNITS, U_MILLENNIUM},
    {"millisecon", K_UNITS, U_MILLISEC},
    {"mils", K_UNITS, U_MILLENNIUM},
    {"min", K_UNITS, U_MINUTE},
    {"mins", K_UNITS, U_MINUTE},
    {"minute", K_UNITS, U_MINUTE},
    {"minutes", K_UNITS, U_MINUTE},
    {"mon", K_UNITS, U_MONTH},
    {"mons", K_UNITS, U_MONTH},
    {"month", K_UNITS, U_MONTH},
    {"months", K_UNITS, U_MONTH},
    {"ms", K_UNITS, U_MILLISEC},
    {"msec", K_UNITS, U_MILLISEC},
    {"msecond", K_UNITS, U_MILLISEC},
    {"mseconds", K_UNITS, U_MILLISEC},
    {"msecs", K_UNITS, U_MILLISEC},
    {"qtr", K_UNITS, U_QUARTER},
    {"quarter", K_UNITS, U_QUARTER},
    {"s", K_UNITS, U_SECOND},
    {"sec", K_UNITS, U_SECOND},
    {"second", K_UNITS, U_SECOND},
    {"seconds", K_UNITS, U_SECOND},
    {"secs", K_UNITS, U_SECOND},
    {"timezone", K_UNITS, U_TZ},
    {"timezone_h", K_UNITS, U_TZ},
    {"timezone_m", K_UNITS, U_TZ},
    {"us", K_UNITS, U_MICROSEC},
    {"usec", K_UNITS, U_MICROSEC},
    {"microsecond", K_UNITS, U_MICROSEC},
    {"useconds", K_UNITS, U_MICROSEC},
    {"usecs", K_UNITS, U_MICROSEC},
    {"w", K_UNITS, U_WEEK},
    {"week", K_UNITS, U_WEEK},
    {"weeks", K_UNITS, U_WEEK},
    {"y", K_UNITS, U_YEAR},
    {"year", K_UNITS, U_YEAR},
    {"years", K_UNITS, U_YEAR},
    {"yr", K_UNITS, U_YEAR},
    {"yrs", K_UNITS, U_YEAR},
};

/* Field-seen mask bits, as in PostgreSQL. */
#define MK(x) (1 << (x))
enum {
    B_YEAR = 2,
    B_DAY = 3,
    B_MONTH = 1,
    B_HOUR = 10,
    B_MINUTE = 11,
    B_SECOND = 12,
    B_MILLISECOND = 13,
    B_MICROSECOND = 14,
    B_WEEK = 24,
    B_DECADE = 25,
    B_CENTURY = 26,
    B_MILLENNIUM = 27,
};
#define ALL_SECS_M (MK(B_SECOND) | MK(B_MILLISECOND) | MK(B_MICROSECOND))
#define TIME_M (MK(B_HOUR) | MK(B_MINUTE) | ALL_SECS_M)

/* ------------------------------------------------------------------ accumulation */

static bool
adjust_fract_usecs(double frac, int64_t scale, itm_in *itm)
{
    if (frac == 0)
        return true;
    frac *= (double)scale;
    int64_t usec = (int64_t)frac;
    frac -= (double)usec;
    if (frac > 0.5)
        usec++;
    else if (frac < -0.5)
        usec--;
    return !__builtin_add_overflow(itm->usec, usec, &itm->usec);
}

static bool
adjust_fract_days(double frac, int scale, itm_in *itm)
{
    if (frac == 0)
        return true;
    frac *= scale;
    int extra = (int)frac;
    if (__builtin_add_overflow(itm->mday, extra, &itm->mday))
        return false;
    frac -= extra;
    return adjust_fract_usecs(frac, ENG_USECS_PER_DAY, itm);
}

static bool
adjust_fract_years(double frac, int scale, itm_in *itm)
{
    int extra = (int)rint(frac * scale * 12);
    return !__builtin_add_overflow(itm->mon, extra, &itm->mon);
}

static bool
adjust_usecs(int64_t val, double fval, int64_t scale, itm_in *itm)
{
    int64_t usec;
    if (__builtin_mul_overflow(val, scale, &usec) ||
        __builtin_add_overflow(itm->usec, usec, &itm->usec))
        return false;
    return adjust_fract_usecs(fval, scale, itm);
}

static bool
adjust_days(int64_t val, int scale, itm_in *itm)
{
    int days;
    if (val < INT_MIN || val > INT_MAX)
        return false;
    return !__builtin_mul_overflow((int)val, scale, &days) &&
           !__builtin_add_overflow(itm->mday, days, &itm->mday);
}

static bool
adjust_months(int64_t val, itm_in *itm)
{
    if (val < INT_MIN || val > INT_MAX)
        return false;
    return !__builtin_add_overflow(itm->mon, (int)val, &itm->mon);
}

static bool
adjust_years(int64_t val, int scale, itm_in *itm)
{
    int years;
    if (val < INT_MIN || val > INT_MAX)
        return false;
    return !__builtin_mul_overflow((int)val, scale, &years) &&
           !__builtin_add_overflow(itm->year, years, &itm->year);
}

static int
parse_fraction(const char *cp, double *frac)
{
    if (cp[1] == '\0') {
        *frac = 0;
        return 0;
    }
    char *end;
    errno = 0;
    *frac = strtod(cp, &end);
    if (*end != '\0' || errno != 0)
        return ENG_DTERR_BAD_FORMAT;
    return 0;
}

/* hh:mm[:ss[.f]] or mm:ss.f into microseconds (DecodeTimeForInterval). */
static int
decode_time(const char *str, int range, int *tmask, itm_in *itm)
{
    char *cp;
    *tmask = TIME_M;
    errno = 0;
    long long hour = strtoll(str, &cp, 10);
    if (errno == ERANGE)
        return ENG_DTERR_FIELD_OVERFLOW;
    if (*cp != ':')
        return ENG_DTERR_BAD_FORMAT;
    errno = 0;
    long v = strtol(cp + 1, &cp, 10);
    if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
        return ENG_DTERR_FIELD_OVERFLOW;
    int min = (int)v, sec = 0;
    int64_t fsec = 0;
    if (*cp == '\0') {
        if (range == (ENG_INTERVAL_MINUTE | ENG_INTERVAL_SECOND)) {
            if (hour > INT_MAX || hour < INT_MIN)
                return ENG_DTERR_FIELD_OVERFLOW;
            sec = min;
            min = (int)hour;
            hour = 0;
        }
    } else if (*cp == '.') {
        double frac;
        if (parse_fraction(cp, &frac) != 0)
            return ENG_DTERR_BAD_FORMAT;
        fsec = (int64_t)rint(frac * 1000000);
        if (hour > INT_MAX || hour < INT_MIN)
            return ENG_DTERR_FIELD_OVERFLOW;
        sec = min;
        min = (int)hour;
        hour = 0;
    } else if (*cp == ':') {
        errno = 0;
        v = strtol(cp + 1, &cp, 10);
        if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
            return ENG_DTERR_FIELD_OVERFLOW;
        sec = (int)v;
        if (*cp == '.') {
            double frac;
            if (parse_fraction(cp, &frac) != 0)
                return ENG_DTERR_BAD_FORMAT;
            fsec = (int64_t)rint(frac * 1000000);
        } else if (*cp != '\0') {
            return ENG_DTERR_BAD_FORMAT;
        }
    } else {
        return ENG_DTERR_BAD_FORMAT;
    }
    if (hour < 0 || min < 0 || min > 59 || sec < 0 || sec > 60 || fsec < 0 ||
        fsec > ENG_USECS_PER_SEC)
        return ENG_DTERR_FIELD_OVERFLOW;
    int64_t us = fsec, t;
    if (__builtin_mul_overflow((int64_t)hour, ENG_USECS_PER_HOUR, &t) ||
        __builtin_add_overflow(us, t, &us) ||
        __builtin_add_overflow(us, (int64_t)min * ENG_USECS_PER_MINUTE, &us) ||
        __builtin_add_overflow(us, (int64_t)sec * ENG_USECS_PER_SEC, &us))
        return ENG_DTERR_FIELD_OVERFLOW;
    itm->usec = us; /* PostgreSQL overwrites, it does not add */
    return 0;
}

static int
lookup_unit(const char *s, int *unit)
{
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strncmp(s, units[i].tok, 10) == 0) {
            *unit = units[i].unit;
            return units[i].kind;
        }
    return -1;
}

/* The unit a bare rightmost number takes from the typmod's range. */
static int
default_unit(int range)
{
    switch (range) {
    case ENG_INTERVAL_YEAR:
        return U_YEAR;
    case ENG_INTERVAL_MONTH:
    case ENG_INTERVAL_YEAR | ENG_INTERVAL_MONTH:
        return U_MONTH;
    case ENG_INTERVAL_DAY:
        return U_DAY;
    case ENG_INTERVAL_HOUR:
    case ENG_INTERVAL_DAY | ENG_INTERVAL_HOUR:
        return U_HOUR;
    case ENG_INTERVAL_MINUTE:
    case ENG_INTERVAL_HOUR | ENG_INTERVAL_MINUTE:
    case ENG_INTERVAL_DAY | ENG_INTERVAL_HOUR | ENG_INTERVAL_MINUTE:
        return U_MINUTE;
    default:
        return U_SECOND;
    }
}

/* DecodeInterval: postgres-style and SQL-standard fields. */
static int
decode_interval(eng_dt_fields *f, int range, itm_in *itm)
{
    bool is_before = false;
    int fmask = 0, tmask, type = -1, dterr;
    memset(itm, 0, sizeof *itm);
    for (int i = f->nf - 1; i >= 0; i--) {
        char *field = f->field[i];
        tmask = 0;
        switch (f->ftype[i]) {
        case ENG_DTK_TIME:
            if ((dterr = decode_time(field, range, &tmask, itm)) != 0)
                return dterr;
            type = U_DAY;
            break;
        case ENG_DTK_TZ:
            /* signed hh:mm[:ss] */
            if (strchr(field + 1, ':') != NULL && decode_time(field + 1, range, &tmask, itm) == 0) {
                if (*field == '-') {
                    if (itm->usec == INT64_MIN)
                        return ENG_DTERR_FIELD_OVERFLOW;
                    itm->usec = -itm->usec;
                }
                type = U_DAY;
                break;
            }
            /* Not a time: a signed number or year-month, as below. */
            /* FALLTHROUGH */
        case ENG_DTK_DATE:
        case ENG_DTK_NUMBER: {
            if (type == -1)
                type = default_unit(range);
            char *cp;
            errno = 0;
            long long lv = strtoll(field, &cp, 10);
            if (errno == ERANGE)
                return ENG_DTERR_FIELD_OVERFLOW;
            int64_t val = lv;
            double fval;
            if (*cp == '-') {
                /* SQL year-month "Y-M" */
                errno = 0;
                long v2 = strtol(cp + 1, &cp, 10);
                if (errno == ERANGE || v2 < 0 || v2 >= 12)
                    return ENG_DTERR_FIELD_OVERFLOW;
                if (*cp != '\0')
                    return ENG_DTERR_BAD_FORMAT;
                type = U_MONTH;
                if (*field == '-')
                    v2 = -v2;
                if (__builtin_mul_overflow(val, (int64_t)12, &val) ||
                    __builtin_add_overflow(val, (int64_t)v2, &val))
                    return ENG_DTERR_FIELD_OVERFLOW;
                fval = 0;
            } else if (*cp == '.') {
                if (parse_fraction(cp, &fval) != 0)
                    return ENG_DTERR_BAD_FORMAT;
                if (*field == '-')
                    fval = -fval;
            } else if (*cp == '\0') {
                fval = 0;
            } else {
                return ENG_DTERR_BAD_FORMAT;
            }
            bool ok;
            switch (type) {
            case U_MICROSEC:
                ok = adjust_usecs(val, fval, 1, itm);
                tmask = MK(B_MICROSECOND);
                break;
            case U_MILLISEC:
                ok = adjust_usecs(val, fval, 1000, itm);
                tmask = MK(B_MILLISECOND);
                break;
            case U_SECOND:
                ok = adjust_usecs(val, fval, ENG_USECS_PER_SEC, itm);
                tmask = fval == 0 ? MK(B_SECOND) : ALL_SECS_M;
                break;
            case U_MINUTE:
                ok = adjust_usecs(val, fval, ENG_USECS_PER_MINUTE, itm);
                tmask = MK(B_MINUTE);
                break;
            case U_HOUR:
                ok = adjust_usecs(val, fval, ENG_USECS_PER_HOUR, itm);
                tmask = MK(B_HOUR);
                type = U_DAY;
                break;
            case U_DAY:
                ok = adjust_days(val, 1, itm) && adjust_fract_usecs(fval, ENG_USECS_PER_DAY, itm);
                tmask = MK(B_DAY);
                break;
            case U_WEEK:
                ok = adjust_days(val, 7, itm) && adjust_fract_days(fval, 7, itm);
                tmask = MK(B_WEEK);
                break;
            case U_MONTH:
                ok = adjust_months(val, itm) && adjust_fract_days(fval, 30, itm);
                tmask = MK(B_MONTH);
                break;
            case U_YEAR:
                ok = adjust_years(val, 1, itm) && adjust_fract_years(fval, 1, itm);
                tmask = MK(B_YEAR);
                break;
            case U_DECADE:
                ok = adjust_years(val, 10, itm) && adjust_fract_years(fval, 10, itm);
                tmask = MK(B_DECADE);
                break;
            case U_CENTURY:
                ok = adjust_years(val, 100, itm) && adjust_fract_years(fval, 100, itm);
                tmask = MK(B_CENTURY);
                break;
            case U_MILLENNIUM:
                ok = adjust_years(val, 1000, itm) && adjust_fract_years(fval, 1000, itm);
                tmask = MK(B_MILLENNIUM);
                break;
            default:
                return ENG_DTERR_BAD_FORMAT;
            }
            if (!ok)
                return ENG_DTERR_FIELD_OVERFLOW;
            break;
        }
        case ENG_DTK_STRING:
        case ENG_DTK_SPECIAL: {
            int unit;
            int kind = lookup_unit(field, &unit);
            if (kind == K_IGNORE)
                continue;
            if (kind == K_UNITS) {
                type = unit;
            } else if (kind == K_AGO) {
                is_before = true;
                type = unit;
            } else {
                return ENG_DTERR_BAD_FORMAT;
            }
            break;
        }
        default:
            return ENG_DTERR_BAD_FORMAT;
        }
        if (tmask & fmask)
            return ENG_DTERR_BAD_FORMAT;
        fmask |= tmask;
    }
    if (fmask == 0)
        return ENG_DTERR_BAD_FORMAT;
    if (is_before) {
        if (itm->usec == INT64_MIN || itm->mday == INT_MIN || itm->mon == INT_MIN ||
            itm->year == INT_MIN)
            return ENG_DTERR_FIELD_OVERFLOW;
        itm->usec = -itm->usec;
        itm->mday = -itm->mday;
        itm->mon = -itm->mon;
        itm->year = -itm->year;
    }
    return 0;
}

/* ------------------------------------------------------------------ ISO 8601 */

static int
iso_number(const char *str, char **end, int64_t *ipart, double *fpart)
{
    if (!((*str >= '0' && *str <= '9') || *str == '-' || *str == '.'))
        return ENG_DTERR_BAD_FORMAT;
    errno = 0;
    double val = strtod(str, end);
    if (*end == str || errno != 0)
        return ENG_DTERR_BAD_FORMAT;
    if (isnan(val) || val < -1.0e15 || val > 1.0e15)
        return ENG_DTERR_FIELD_OVERFLOW;
    *ipart = val >= 0 ? (int64_t)floor(val) : (int64_t)-floor(-val);
    *fpart = val - (double)*ipart;
    return 0;
}

static int
iso_int_width(const char *s)
{
    if (*s == '-')
        s++;
    int w = 0;
    while (s[w] >= '0' && s[w] <= '9')
        w++;
    return w;
}

#define OVF(x)                                                                                     \
    do {                                                                                           \
        if (!(x))                                                                                  \
            return ENG_DTERR_FIELD_OVERFLOW;                                                       \
    } while (0)

/* DecodeISO8601Interval on a NUL-terminated copy of the input. */
static int
decode_iso8601(char *str, itm_in *itm)
{
    bool datepart = true, havefield = false;
    memset(itm, 0, sizeof *itm);
    if (strlen(str) < 2 || str[0] != 'P')
        return ENG_DTERR_BAD_FORMAT;
    str++;
    while (*str) {
        if (*str == 'T') {
            datepart = false;
            havefield = false;
            str++;
            continue;
        }
        char *fieldstart = str;
        int64_t val;
        double fval;
        int dterr = iso_number(str, &str, &val, &fval);
        if (dterr)
            return dterr;
        char unit = *str++;
        if (datepart) {
            switch (unit) {
            case 'Y':
                OVF(adjust_years(val, 1, itm) && adjust_fract_years(fval, 1, itm));
                break;
            case 'M':
                OVF(adjust_months(val, itm) && adjust_fract_days(fval, 30, itm));
                break;
            case 'W':
                OVF(adjust_days(val, 7, itm) && adjust_fract_days(fval, 7, itm));
                break;
            case 'D':
                OVF(adjust_days(val, 1, itm) && adjust_fract_usecs(fval, ENG_USECS_PER_DAY, itm));
                break;
            case 'T':
            case '\0':
                if (iso_int_width(fieldstart) == 8 && !havefield) {
                    OVF(adjust_years(val / 10000, 1, itm) &&
                        adjust_months((val / 100) % 100, itm) && adjust_days(val % 100, 1, itm) &&
                        adjust_fract_usecs(fval, ENG_USECS_PER_DAY, itm));
                    if (unit == '\0')
                        return 0;
                    datepart = false;
                    havefield = false;
                    continue;
                }
                /* Not the basic format: the extended one. */
                /* FALLTHROUGH */
            case '-':
                if (havefield)
                    return ENG_DTERR_BAD_FORMAT;
                OVF(adjust_years(val, 1, itm) && adjust_fract_years(fval, 1, itm));
                if (unit == '\0')
                    return 0;
                if (unit == 'T') {
                    datepart = false;
                    havefield = false;
                    continue;
                }
                if ((dterr = iso_number(str, &str, &val, &fval)) != 0)
                    return dterr;
                OVF(adjust_months(val, itm) && adjust_fract_days(fval, 30, itm));
                if (*str == '\0')
                    return 0;
                if (*str == 'T') {
                    datepart = false;
                    havefield = false;
                    continue;
                }
                if (*str != '-')
                    return ENG_DTERR_BAD_FORMAT;
                str++;
                if ((dterr = iso_number(str, &str, &val, &fval)) != 0)
                    return dterr;
                OVF(adjust_days(val, 1, itm) && adjust_fract_usecs(fval, ENG_USECS_PER_DAY, itm));
                if (*str == '\0')
                    return 0;
                if (*str == 'T') {
                    datepart = false;
                    havefield = false;
                    continue;
                }
                return ENG_DTERR_BAD_FORMAT;
            default:
                return ENG_DTERR_BAD_FORMAT;
            }
        } else {
            switch (unit) {
            case 'H':
                OVF(adjust_usecs(val, fval, ENG_USECS_PER_HOUR, itm));
                break;
            case 'M':
                OVF(adjust_usecs(val, fval, ENG_USECS_PER_MINUTE, itm));
                break;
            case 'S':
                OVF(adjust_usecs(val, fval, ENG_USECS_PER_SEC, itm));
                break;
            case '\0':
                if (iso_int_width(fieldstart) == 6 && !havefield) {
                    OVF(adjust_usecs(val / 10000, 0, ENG_USECS_PER_HOUR, itm) &&
                        adjust_usecs((val / 100) % 100, 0, ENG_USECS_PER_MINUTE, itm) &&
                        adjust_usecs(val % 100, 0, ENG_USECS_PER_SEC, itm) &&
                        adjust_fract_usecs(fval, 1, itm));
                    return 0;
                }
                /* Not the basic format: the extended one. */
                /* FALLTHROUGH */
            case ':':
                if (havefield)
                    return ENG_DTERR_BAD_FORMAT;
                OVF(adjust_usecs(val, fval, ENG_USECS_PER_HOUR, itm));
                if (unit == '\0')
                    return 0;
                if ((dterr = iso_number(str, &str, &val, &fval)) != 0)
                    return dterr;
                OVF(adjust_usecs(val, fval, ENG_USECS_PER_MINUTE, itm));
                if (*str == '\0')
                    return 0;
                if (*str != ':')
                    return ENG_DTERR_BAD_FORMAT;
                str++;
                if ((dterr = iso_number(str, &str, &val, &fval)) != 0)
                    return dterr;
                OVF(adjust_usecs(val, fval, ENG_USECS_PER_SEC, itm));
                if (*str == '\0')
                    return 0;
                return ENG_DTERR_BAD_FORMAT;
            default:
                return ENG_DTERR_BAD_FORMAT;
            }
        }
        havefield = true;
    }
    return 0;
}

/* ------------------------------------------------------------------ entry points */

int
eng_interval_parse(const char *s, size_t n, int32_t typmod, eng_interval *out, eng_err *err)
{
    int range = typmod >= 0 ? ENG_INTERVAL_RANGE(typmod) : ENG_INTERVAL_FULL_RANGE;
    eng_dt_fields f;
    itm_in itm;
    int dterr = eng_dt_split(s, n, 256, &f);
    if (dterr == 0)
        dterr = decode_interval(&f, range, &itm);
    if (dterr == ENG_DTERR_BAD_FORMAT) {
        char small[256];
        char *copy = n < sizeof small ? small : malloc(n + 1);
        ENG_ASSERT(copy != NULL);
        memcpy(copy, s, n);
        copy[n] = '\0';
        dterr = memchr(s, '\0', n) ? ENG_DTERR_BAD_FORMAT : decode_iso8601(copy, &itm);
        if (copy != small)
            free(copy);
    }
    if (dterr != 0) {
        if (dterr == ENG_DTERR_FIELD_OVERFLOW)
            dterr = ENG_DTERR_INTERVAL_OVERFLOW;
        return eng_dt_error(dterr, s, n, "interval", NULL, err);
    }
    int64_t months = (int64_t)itm.year * 12 + itm.mon;
    if (months > INT32_MAX || months < INT32_MIN)
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "interval out of range");
    out->months = (int32_t)months;
    out->days = itm.mday;
    out->usecs = itm.usec;
    return eng_interval_apply_typmod(out, typmod, err);
}

int
eng_interval_apply_typmod(eng_interval *iv, int32_t typmod, eng_err *err)
{
    if (typmod < 0)
        return 0;
    int range = ENG_INTERVAL_RANGE(typmod), precision = ENG_INTERVAL_PRECISION(typmod);
    const int D = ENG_INTERVAL_DAY, H = ENG_INTERVAL_HOUR, MI = ENG_INTERVAL_MINUTE;
    if (range == ENG_INTERVAL_YEAR) {
        iv->months = (iv->months / 12) * 12;
        iv->days = 0;
        iv->usecs = 0;
    } else if (range == ENG_INTERVAL_MONTH || range == (ENG_INTERVAL_YEAR | ENG_INTERVAL_MONTH)) {
        iv->days = 0;
        iv->usecs = 0;
    } else if (range == D) {
        iv->usecs = 0;
    } else if (range == H || range == (D | H)) {
        iv->usecs = (iv->usecs / ENG_USECS_PER_HOUR) * ENG_USECS_PER_HOUR;
    } else if (range == MI || range == (D | H | MI) || range == (H | MI)) {
        iv->usecs = (iv->usecs / ENG_USECS_PER_MINUTE) * ENG_USECS_PER_MINUTE;
    }
    if (precision != ENG_INTERVAL_FULL_PRECISION) {
        if (precision < 0 || precision > ENG_MAX_TIME_PRECISION)
            return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                               "interval(%d) precision must be between %d and %d", precision, 0,
                               ENG_MAX_TIME_PRECISION);
        iv->usecs = eng_dt_round_usecs(iv->usecs, precision);
    }
    return 0;
}

/* "N unit[s]" for a nonzero part, with PostgreSQL's sign rules. */
static char *
add_part(char *p, int value, const char *unit, bool *is_zero, bool *is_before)
{
    if (value == 0)
        return p;
    if (!*is_zero)
        *p++ = ' ';
    if (*is_before && value > 0)
        *p++ = '+';
    p += sprintf(p, "%d %s%s", value, unit, value != 1 ? "s" : "");
    *is_before = value < 0;
    *is_zero = false;
    return p;
}

void
eng_interval_format(const eng_interval *iv, eng_strbuf *out)
{
    int year = iv->months / 12, mon = iv->months % 12, mday = iv->days;
    int64_t t = iv->usecs;
    int64_t hour = t / ENG_USECS_PER_HOUR;
    t -= hour * ENG_USECS_PER_HOUR;
    int min = (int)(t / ENG_USECS_PER_MINUTE);
    t -= (int64_t)min * ENG_USECS_PER_MINUTE;
    int sec = (int)(t / ENG_USECS_PER_SEC);
    int64_t fsec = t - (int64_t)sec * ENG_USECS_PER_SEC;
    char buf[160], *p = buf;
    bool is_zero = true, is_before = false;
    p = add_part(p, year, "year", &is_zero, &is_before);
    p = add_part(p, mon, "mon", &is_zero, &is_before);
    p = add_part(p, mday, "day", &is_zero, &is_before);
    if (is_zero || hour != 0 || min != 0 || sec != 0 || fsec != 0) {
        bool minus = hour < 0 || min < 0 || sec < 0 || fsec < 0;
        if (!is_zero)
            *p++ = ' ';
        if (minus)
            *p++ = '-';
        else if (is_before)
            *p++ = '+';
        uint64_t ah = hour < 0 ? (uint64_t)0 - (uint64_t)hour : (uint64_t)hour;
        p += sprintf(p, "%02llu:%02d:", (unsigned long long)ah, min < 0 ? -min : min);
        p = eng_dt_put_seconds(p, sec < 0 ? -sec : sec, fsec < 0 ? -fsec : fsec);
    }
    eng_strbuf_append(out, buf, (size_t)(p - buf));
}
