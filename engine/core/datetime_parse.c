/* Date, time and timestamp text input with PostgreSQL 15's rules.
 *
 * Notes: input is first split into typed fields (numbers, strings, dates
 * with embedded separators, times, signed zone offsets), then decoded field
 * by field with a mask of the date/time parts seen so far, as PostgreSQL's
 * ParseDateTime/DecodeDateTime/DecodeTimeOnly do, so the same spellings are
 * accepted and rejected with the same SQLSTATEs. DateStyle is ISO, MDY.
 * Supported beyond ISO: month and weekday names, BC/AD, AM/PM, 'epoch',
 * 'infinity', '-infinity', 'allballs', 'now', 'today', 'tomorrow',
 * 'yesterday', Julian days ('J2451545'), run-together dates and times
 * (20240102 030405), ISO 'T' separators, ISO labelled fields
 * (y2024m01d02), numeric zone offsets (+hh, +hh:mm, +hhmm, +hh:mm:ss),
 * PostgreSQL's Default zone abbreviations (tz_abbrevs.c; "dynamic" ones
 * through their zone's history) with the "dst" modifier, and full zone
 * names from the system tz database or POSIX TZ strings (tz.c). */
#include "engine/core/datetime_int.h"
#include "engine/core/datetime_parse.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Field mask bits (PostgreSQL's DTK_M positions). */
enum {
    F_RESERV = 0,
    F_MONTH = 1,
    F_YEAR = 2,
    F_DAY = 3,
    F_TZ = 5,
    F_DTZ = 6,
    F_DYNTZ = 7,
    F_AMPM = 9,
    F_HOUR = 10,
    F_MINUTE = 11,
    F_SECOND = 12,
    F_MILLISECOND = 13,
    F_MICROSECOND = 14,
    F_DOY = 15,
    F_DOW = 16,
    F_UNITS = 17,
    F_ADBC = 18,
    F_ISOTIME = 23,
    F_DTZMOD = 28,
    F_IGNORE = 8,
    F_UNKNOWN = 30,
};
#define M(x) (1 << (x))
#define DATE_M (M(F_YEAR) | M(F_MONTH) | M(F_DAY))
#define TIME_M (M(F_HOUR) | M(F_MINUTE) | M(F_SECOND) | M(F_MILLISECOND) | M(F_MICROSECOND))

/* Values of RESERV tokens and unit prefixes. */
enum {
    V_NOW = 1,
    V_EPOCH,
    V_LATE,
    V_EARLY,
    V_ZULU,
    V_TODAY,
    V_TOMORROW,
    V_YESTERDAY,
    V_JULIAN,
    V_TIME, /* the ISO "t" */
    V_OTHER_UNIT,
    V_YEAR,
    V_MONTH,
    V_DAY,
    V_HOUR,
    V_MINUTE,
    V_SECOND,
    V_AM,
    V_PM,
    V_HR24,
    V_AD,
    V_BC,
};

/* Result kinds of decoding (dtype). */
enum { DT_DATE = 1, DT_TIME, DT_EPOCH, DT_LATE, DT_EARLY };

typedef struct {
    const char *tok;
    int type; /* F_* */
    int val;
} token;

static const token date_tokens[] = {
    {"ad", F_ADBC, V_AD},
    {"allballs", F_RESERV, V_ZULU},
    {"am", F_AMPM, V_AM},
    {"apr", F_MONTH, 4},
    {"april", F_MONTH, 4},
    {"at", F_IGNORE, 0},
    {"aug", F_MONTH, 8},
    {"august", F_MONTH, 8},
    {"bc", F_ADBC, V_BC},
    {"d", F_UNITS, V_DAY},
    {"dec", F_MONTH, 12},
    {"december", F_MONTH, 12},
    {"dow", F_UNITS, V_OTHER_UNIT},
    {"dst", F_DTZMOD, 3600},
    {"doy", F_UNITS, V_OTHER_UNIT},
    {"epoch", F_RESERV, V_EPOCH},
    {"feb", F_MONTH, 2},
    {"february", F_MONTH, 2},
    {"fri", F_DOW, 5},
    {"friday", F_DOW, 5},
    {"h", F_UNITS, V_HOUR},
    {"infinity", F_RESERV, V_LATE},
    {"-infinity", F_RESERV, V_EARLY},
    {"isodow", F_UNITS, V_OTHER_UNIT},
    {"isoyear", F_UNITS, V_OTHER_UNIT},
    {"j", F_UNITS, V_JULIAN},
    {"jan", F_MONTH, 1},
    {"january", F_MONTH, 1},
    {"jd", F_UNITS, V_JULIAN},
    {"jul", F_MONTH, 7},
    {"julian", F_UNITS, V_JULIAN},
    {"july", F_MONTH, 7},
    {"jun", F_MONTH, 6},
    {"june", F_MONTH, 6},
    {"m", F_UNITS, V_MONTH},
    {"mar", F_MONTH, 3},
    {"march", F_MONTH, 3},
    {"may", F_MONTH, 5},
    {"mm", F_UNITS, V_MINUTE},
    {"mon", F_DOW, 1},
    {"monday", F_DOW, 1},
    {"nov", F_MONTH, 11},
    {"november", F_MONTH, 11},
    {"now", F_RESERV, V_NOW},
    {"oct", F_MONTH, 10},
    {"october", F_MONTH, 10},
    {"on", F_IGNORE, 0},
    {"pm", F_AMPM, V_PM},
    {"s", F_UNITS, V_SECOND},
    {"sat", F_DOW, 6},
    {"saturday", F_DOW, 6},
    {"sep", F_MONTH, 9},
    {"sept", F_MONTH, 9},
    {"september", F_MONTH, 9},
    {"sun", F_DOW, 0},
    {"sunday", F_DOW, 0},
    {"t", F_ISOTIME, V_TIME},
    {"thu", F_DOW, 4},
    {"thur", F_DOW, 4},
    {"thurs", F_DOW, 4},
    {"thursday", F_DOW, 4},
    {"today", F_RESERV, V_TODAY},
    {"tomorrow", F_RESERV, V_TOMORROW},
    {"tue", F_DOW, 2},
    {"tues", F_DOW, 2},
    {"tuesday", F_DOW, 2},
    {"wed", F_DOW, 3},
    {"wednesday", F_DOW, 3},
    {"weds", F_DOW, 3},
    {"y", F_UNITS, V_YEAR},
    {"yesterday", F_RESERV, V_YESTERDAY},
};

/* PostgreSQL compares tokens on their first 10 characters. */
#define TOKMAXLEN 10

static const token *
lookup_token(const char *s)
{
    for (size_t i = 0; i < sizeof date_tokens / sizeof date_tokens[0]; i++)
        if (strncmp(s, date_tokens[i].tok, TOKMAXLEN) == 0)
            return &date_tokens[i];
    return NULL;
}

/* ------------------------------------------------------------------ splitting */

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_alnum(char c)
{
    return is_digit(c) || is_alpha(c);
}

static bool
is_punct(char c)
{
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
}

static char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

int
eng_dt_split(const char *s, size_t n, size_t bufmax, eng_dt_fields *f)
{
    size_t i = 0, b = 0;
    if (bufmax > sizeof f->buf)
        bufmax = sizeof f->buf;
    f->nf = 0;
    f->bad_zone = NULL;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (b + 1 >= bufmax)                                                                       \
            return ENG_DTERR_BAD_FORMAT;                                                           \
        f->buf[b++] = (c);                                                                         \
    } while (0)
#define AT(k) ((k) < n ? s[k] : '\0')
    while (i < n) {
        char c = s[i];
        if (c == '\0')
            return ENG_DTERR_BAD_FORMAT;
        if (is_space(c)) {
            i++;
            continue;
        }
        if (f->nf >= ENG_DT_MAXFIELDS)
            return ENG_DTERR_BAD_FORMAT;
        size_t start = b;
        int type;
        if (is_digit(c)) {
            while (is_digit(AT(i)))
                PUT(s[i++]);
            if (AT(i) == ':') {
                type = ENG_DTK_TIME;
                PUT(s[i++]);
                while (is_digit(AT(i)) || AT(i) == ':' || AT(i) == '.')
                    PUT(s[i++]);
            } else if (AT(i) == '-' || AT(i) == '/' || AT(i) == '.') {
                char delim = s[i];
                PUT(s[i++]);
                if (is_digit(AT(i))) {
                    type = delim == '.' ? ENG_DTK_NUMBER : ENG_DTK_DATE;
                    while (is_digit(AT(i)))
                        PUT(s[i++]);
                    /* a three-field date needs matching delimiters */
                    if (AT(i) == delim) {
                        type = ENG_DTK_DATE;
                        PUT(s[i++]);
                        while (is_digit(AT(i)) || AT(i) == delim)
                            PUT(s[i++]);
                    }
                } else {
                    type = ENG_DTK_DATE;
                    while (is_alnum(AT(i)) || AT(i) == delim)
                        PUT(lower(s[i++]));
                }
            } else {
                type = ENG_DTK_NUMBER;
            }
        } else if (c == '.') {
            PUT(s[i++]);
            while (is_digit(AT(i)))
                PUT(s[i++]);
            type = ENG_DTK_NUMBER;
        } else if (is_alpha(c)) {
            type = ENG_DTK_STRING;
            while (is_alpha(AT(i)))
                PUT(lower(s[i++]));
            /* Embedded separators make a date ("jan-02-2024") or a zone
             * name, unless what we have is a known keyword. */
            bool is_date = false;
            char nc = AT(i);
            if (nc == '-' || nc == '/' || nc == '.') {
                is_date = true;
            } else if (nc == '+' || is_digit(nc)) {
                f->buf[b] = '\0';
                if (lookup_token(f->buf + start) == NULL)
                    is_date = true;
            }
            if (is_date) {
                type = ENG_DTK_DATE;
                do {
                    PUT(lower(s[i++]));
                } while (i < n && (s[i] == '+' || s[i] == '-' || s[i] == '/' || s[i] == '_' ||
                                   s[i] == '.' || s[i] == ':' || is_alnum(s[i])));
            }
        } else if (c == '+' || c == '-') {
            PUT(s[i++]);
            while (i < n && is_space(s[i]))
                i++;
            if (is_digit(AT(i))) {
                type = ENG_DTK_TZ;
                PUT(s[i++]);
                while (is_digit(AT(i)) || AT(i) == ':' || AT(i) == '.' || AT(i) == '-')
                    PUT(s[i++]);
            } else if (is_alpha(AT(i))) {
                type = ENG_DTK_SPECIAL;
                PUT(lower(s[i++]));
                while (is_alpha(AT(i)))
                    PUT(lower(s[i++]));
            } else {
                return ENG_DTERR_BAD_FORMAT;
            }
        } else if (is_punct(c)) {
            i++; /* other punctuation only delimits */
            continue;
        } else {
            return ENG_DTERR_BAD_FORMAT;
        }
        PUT('\0');
        f->field[f->nf] = f->buf + start;
        f->ftype[f->nf] = type;
        f->nf++;
    }
#undef PUT
#undef AT
    return 0;
}

/* ------------------------------------------------------------------ field decoders */

/* strtol-like parse of an int (leading white space and sign allowed);
 * returns false on overflow. *end is set past the digits. */
static bool
parse_int(const char *s, char **end, int *out)
{
    errno = 0;
    long v = strtol(s, end, 10);
    if (errno == ERANGE || v > 2147483647L || v < -2147483647L - 1)
        return false;
    *out = (int)v;
    return true;
}

static int
parse_fraction_usecs(const char *cp, int64_t *fsec)
{
    /* cp points at '.' */
    if (cp[1] == '\0') {
        *fsec = 0;
        return 0;
    }
    char *end;
    errno = 0;
    double frac = strtod(cp, &end);
    if (*end != '\0' || errno != 0)
        return ENG_DTERR_BAD_FORMAT;
    *fsec = (int64_t)rint(frac * 1000000);
    return 0;
}

int
eng_dt_decode_timezone(const char *str, int *tzp)
{
    int hr, min, sec = 0;
    char *cp;
    if (*str != '+' && *str != '-')
        return ENG_DTERR_BAD_FORMAT;
    if (!parse_int(str + 1, &cp, &hr))
        return ENG_DTERR_TZDISP_OVERFLOW;
    if (*cp == ':') {
        if (!parse_int(cp + 1, &cp, &min))
            return ENG_DTERR_TZDISP_OVERFLOW;
        if (*cp == ':' && !parse_int(cp + 1, &cp, &sec))
            return ENG_DTERR_TZDISP_OVERFLOW;
    } else if (*cp == '\0' && strlen(str) > 3) {
        min = hr % 100;
        hr = hr / 100;
    } else {
        min = 0;
    }
    if (hr < 0 || hr > 15 || min < 0 || min >= 60 || sec < 0 || sec >= 60)
        return ENG_DTERR_TZDISP_OVERFLOW;
    int tz = (hr * 60 + min) * 60 + sec;
    if (*str == '-')
        tz = -tz;
    *tzp = -tz;
    if (*cp != '\0')
        return ENG_DTERR_BAD_FORMAT;
    return 0;
}

/* hh:mm[:ss[.fff]] or mm:ss.fff into tm (DecodeTime). */
static int
decode_time(const char *str, int *tmask, eng_tm *tm, int64_t *fsec)
{
    char *cp;
    *tmask = TIME_M;
    if (!parse_int(str, &cp, &tm->hour))
        return ENG_DTERR_FIELD_OVERFLOW;
    if (*cp != ':')
        return ENG_DTERR_BAD_FORMAT;
    if (!parse_int(cp + 1, &cp, &tm->min))
        return ENG_DTERR_FIELD_OVERFLOW;
    int dterr;
    if (*cp == '\0') {
        tm->sec = 0;
        *fsec = 0;
    } else if (*cp == '.') {
        /* mm:ss.fff */
        if ((dterr = parse_fraction_usecs(cp, fsec)) != 0)
            return dterr;
        tm->sec = tm->min;
        tm->min = tm->hour;
        tm->hour = 0;
    } else if (*cp == ':') {
        if (!parse_int(cp + 1, &cp, &tm->sec))
            return ENG_DTERR_FIELD_OVERFLOW;
        if (*cp == '\0')
            *fsec = 0;
        else if (*cp == '.') {
            if ((dterr = parse_fraction_usecs(cp, fsec)) != 0)
                return dterr;
        } else
            return ENG_DTERR_BAD_FORMAT;
    } else {
        return ENG_DTERR_BAD_FORMAT;
    }
    if (tm->hour < 0 || tm->min < 0 || tm->min > 59 || tm->sec < 0 || tm->sec > 60 || *fsec < 0 ||
        *fsec > ENG_USECS_PER_SEC)
        return ENG_DTERR_FIELD_OVERFLOW;
    return 0;
}

static bool
time_overflows(int hour, int min, int sec, int64_t fsec)
{
    if (hour < 0 || hour > 24 || min < 0 || min >= 60 || sec < 0 || sec > 60 || fsec < 0 ||
        fsec > ENG_USECS_PER_SEC)
        return true;
    return (((int64_t)hour * 60 + min) * 60 + sec) * ENG_USECS_PER_SEC + fsec > ENG_USECS_PER_DAY;
}

/* Run-together digits: yyyymmdd, hhmmss, hhmm, with optional fraction
 * (DecodeNumberField). Returns ENG_DTK_DATE / ENG_DTK_TIME or an error.
 * Modifies str. */
static int
decode_number_field(int len, char *str, int fmask, int *tmask, eng_tm *tm, int64_t *fsec,
                    bool *is2digits)
{
    char *cp = strchr(str, '.');
    if (cp != NULL) {
        if (cp[1] == '\0') {
            *fsec = 0;
        } else {
            errno = 0;
            double frac = strtod(cp, NULL);
            if (errno != 0)
                return ENG_DTERR_BAD_FORMAT;
            *fsec = (int64_t)rint(frac * 1000000);
        }
        *cp = '\0';
        len = (int)strlen(str);
    } else if ((fmask & DATE_M) != DATE_M) {
        if (len >= 6) {
            *tmask = DATE_M;
            tm->mday = atoi(str + (len - 2));
            str[len - 2] = '\0';
            tm->mon = atoi(str + (len - 4));
            str[len - 4] = '\0';
            tm->year = atoi(str);
            if (len - 4 == 2)
                *is2digits = true;
            return ENG_DTK_DATE;
        }
    }
    if ((fmask & TIME_M) != TIME_M) {
        if (len == 6) {
            *tmask = TIME_M;
            tm->sec = atoi(str + 4);
            str[4] = '\0';
            tm->min = atoi(str + 2);
            str[2] = '\0';
            tm->hour = atoi(str);
            return ENG_DTK_TIME;
        }
        if (len == 4) {
            *tmask = TIME_M;
            tm->sec = 0;
            tm->min = atoi(str + 2);
            str[2] = '\0';
            tm->hour = atoi(str);
            return ENG_DTK_TIME;
        }
    }
    return ENG_DTERR_BAD_FORMAT;
}

/* One numeric date field, interpreted by what is already known (MDY). */
static int
decode_number(int flen, char *str, bool have_text_month, int fmask, int *tmask, eng_tm *tm,
              int64_t *fsec, bool *is2digits)
{
    char *cp;
    int val;
    *tmask = 0;
    if (!parse_int(str, &cp, &val))
        return ENG_DTERR_FIELD_OVERFLOW;
    if (cp == str)
        return ENG_DTERR_BAD_FORMAT;
    if (*cp == '.') {
        if (cp - str > 2) {
            int r = decode_number_field(flen, str, fmask | DATE_M, tmask, tm, fsec, is2digits);
            return r < 0 ? r : 0;
        }
        int dterr = parse_fraction_usecs(cp, fsec);
        if (dterr)
            return dterr;
    } else if (*cp != '\0') {
        return ENG_DTERR_BAD_FORMAT;
    }
    /* day of year after a year */
    if (flen == 3 && (fmask & DATE_M) == M(F_YEAR) && val >= 1 && val <= 366) {
        *tmask = M(F_DOY) | M(F_MONTH) | M(F_DAY);
        tm->mday = val; /* resolved in validate_date */
        tm->mon = -1;
        return 0;
    }
    switch (fmask & DATE_M) {
    case 0:
        if (flen >= 3) {
            *tmask = M(F_YEAR);
            tm->year = val;
        } else {
            *tmask = M(F_MONTH);
            tm->mon = val;
        }
        break;
    case M(F_YEAR):
        *tmask = M(F_MONTH);
        tm->mon = val;
        break;
    case M(F_MONTH):
        if (have_text_month) {
            if (flen >= 3) {
                *tmask = M(F_YEAR);
                tm->year = val;
            } else {
                *tmask = M(F_DAY);
                tm->mday = val;
            }
        } else {
            *tmask = M(F_DAY);
            tm->mday = val;
        }
        break;
    case M(F_YEAR) | M(F_MONTH):
        if (have_text_month && flen >= 3 && *is2digits) {
            /* DD-MON-YYYY: the first number was the day */
            *tmask = M(F_DAY);
            tm->mday = tm->year;
            tm->year = val;
            *is2digits = false;
        } else {
            *tmask = M(F_DAY);
            tm->mday = val;
        }
        break;
    case M(F_DAY):
        *tmask = M(F_MONTH);
        tm->mon = val;
        break;
    case M(F_MONTH) | M(F_DAY):
        *tmask = M(F_YEAR);
        tm->year = val;
        break;
    case DATE_M: {
        int r = decode_number_field(flen, str, fmask, tmask, tm, fsec, is2digits);
        return r < 0 ? r : 0;
    }
    default:
        return ENG_DTERR_BAD_FORMAT;
    }
    if (*tmask == M(F_YEAR))
        *is2digits = flen <= 2;
    return 0;
}

/* A date field with separators ("2024-01-02", "jan-02-2024"). */
static int
decode_date(char *str, int fmask, int *tmask, bool *is2digits, eng_tm *tm)
{
    char *field[ENG_DT_MAXFIELDS];
    int nf = 0;
    bool have_text_month = false;
    *tmask = 0;
    while (*str != '\0' && nf < ENG_DT_MAXFIELDS) {
        while (*str != '\0' && !is_alnum(*str))
            str++;
        if (*str == '\0')
            return ENG_DTERR_BAD_FORMAT;
        field[nf] = str;
        if (is_digit(*str)) {
            while (is_digit(*str))
                str++;
        } else if (is_alpha(*str)) {
            while (is_alpha(*str))
                str++;
        }
        if (*str != '\0')
            *str++ = '\0';
        nf++;
    }
    /* Text fields first: they are unambiguous months. */
    for (int i = 0; i < nf; i++) {
        if (!is_alpha(*field[i]))
            continue;
        const token *t = lookup_token(field[i]);
        if (t != NULL && t->type == F_IGNORE)
            continue;
        if (t == NULL || t->type != F_MONTH)
            return ENG_DTERR_BAD_FORMAT;
        if (fmask & M(F_MONTH))
            return ENG_DTERR_BAD_FORMAT;
        tm->mon = t->val;
        have_text_month = true;
        fmask |= M(F_MONTH);
        *tmask |= M(F_MONTH);
        field[i] = NULL;
    }
    for (int i = 0; i < nf; i++) {
        if (field[i] == NULL)
            continue;
        int len = (int)strlen(field[i]);
        if (len <= 0)
            return ENG_DTERR_BAD_FORMAT;
        int dmask;
        int64_t fsec;
        int dterr =
            decode_number(len, field[i], have_text_month, fmask, &dmask, tm, &fsec, is2digits);
        if (dterr)
            return dterr;
        if (fmask & dmask)
            return ENG_DTERR_BAD_FORMAT;
        fmask |= dmask;
        *tmask |= dmask;
    }
    if ((fmask & ~(M(F_DOY) | M(F_TZ))) != DATE_M)
        return ENG_DTERR_BAD_FORMAT;
    return 0;
}

static int
validate_date(int fmask, bool isjulian, bool is2digits, bool bc, eng_tm *tm)
{
    if (fmask & M(F_YEAR)) {
        if (isjulian) {
            /* already correct */
        } else if (bc) {
            if (tm->year <= 0)
                return ENG_DTERR_FIELD_OVERFLOW;
            tm->year = -(tm->year - 1);
        } else if (is2digits) {
            if (tm->year < 0)
                return ENG_DTERR_FIELD_OVERFLOW;
            if (tm->year < 70)
                tm->year += 2000;
            else if (tm->year < 100)
                tm->year += 1900;
        } else if (tm->year <= 0) {
            return ENG_DTERR_FIELD_OVERFLOW;
        }
    }
    if (fmask & M(F_DOY)) {
        int yday = tm->mday;
        eng_j2date(eng_date2j(tm->year, 1, 1) + yday - 1, &tm->year, &tm->mon, &tm->mday);
    }
    if ((fmask & M(F_MONTH)) && (tm->mon < 1 || tm->mon > 12))
        return ENG_DTERR_MD_FIELD_OVERFLOW;
    if ((fmask & M(F_DAY)) && (tm->mday < 1 || tm->mday > 31))
        return ENG_DTERR_MD_FIELD_OVERFLOW;
    if ((fmask & DATE_M) == DATE_M && tm->mday > eng_dt_days_in_month(tm->year, tm->mon))
        return ENG_DTERR_FIELD_OVERFLOW;
    return 0;
}

/* Current UTC time as broken-down fields (for 'now', 'today', ...). */
static void
current_tm(eng_tm *tm, int64_t *fsec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us =
        ((int64_t)ts.tv_sec - (int64_t)(ENG_POSTGRES_EPOCH_JDATE - ENG_UNIX_EPOCH_JDATE) * 86400) *
            ENG_USECS_PER_SEC +
        ts.tv_nsec / 1000;
    eng_dt_timestamp2tm(us, tm, fsec);
}

/* Zones met while decoding; released by the caller (zones_free). */
typedef struct {
    eng_tz *named;      /* a full zone name */
    eng_tz *abbrev_tz;  /* the zone defining a dynamic abbreviation */
    const char *abbrev; /* that abbreviation (a field of the input) */
} zones;

static void
zones_free(zones *z)
{
    eng_tz_free(z->named);
    eng_tz_free(z->abbrev_tz);
}

/* Looks a string field up: zone abbreviations first, then keywords. For a
 * dynamic abbreviation *dynzone is its defining zone. */
static int
special_type(const char *field, int *val, const char **dynzone)
{
    int off;
    bool isdst;
    if (eng_tz_abbrev_lookup(field, &off, &isdst, dynzone)) {
        *val = off;
        return *dynzone ? F_DYNTZ : isdst ? F_DTZ : F_TZ;
    }
    const token *t = lookup_token(field);
    if (t == NULL)
        return F_UNKNOWN;
    *val = t->val;
    return t->type;
}

/* A number after a unit label ("y2024m01d02", "J2451545", "T030405"):
 * PostgreSQL's ISO labelled fields. */
static int
decode_labelled(int ptype, char *field, int fmask, int *tmask, eng_tm *tm, int64_t *fsec, int *tzp,
                bool *isjulian, bool *is2digits)
{
    char *cp;
    int val, dterr;
    if (!parse_int(field, &cp, &val))
        return ENG_DTERR_FIELD_OVERFLOW;
    if (*cp == '.') {
        if (ptype != V_JULIAN && ptype != V_TIME && ptype != V_SECOND)
            return ENG_DTERR_BAD_FORMAT;
    } else if (*cp != '\0') {
        return ENG_DTERR_BAD_FORMAT;
    }
    switch (ptype) {
    case V_YEAR:
        tm->year = val;
        *tmask = M(F_YEAR);
        break;
    case V_MONTH:
        /* a month and an hour already? then it is minutes */
        if ((fmask & M(F_MONTH)) && (fmask & M(F_HOUR))) {
            tm->min = val;
            *tmask = M(F_MINUTE);
        } else {
            tm->mon = val;
            *tmask = M(F_MONTH);
        }
        break;
    case V_DAY:
        tm->mday = val;
        *tmask = M(F_DAY);
        break;
    case V_HOUR:
        tm->hour = val;
        *tmask = M(F_HOUR);
        break;
    case V_MINUTE:
        tm->min = val;
        *tmask = M(F_MINUTE);
        break;
    case V_SECOND:
        tm->sec = val;
        *tmask = M(F_SECOND);
        if (*cp == '.') {
            if ((dterr = parse_fraction_usecs(cp, fsec)) != 0)
                return dterr;
            *tmask = M(F_SECOND) | M(F_MILLISECOND) | M(F_MICROSECOND);
        }
        break;
    case V_JULIAN:
        if (val < 0)
            return ENG_DTERR_FIELD_OVERFLOW;
        *tmask = DATE_M;
        eng_j2date(val, &tm->year, &tm->mon, &tm->mday);
        *isjulian = true;
        if (*cp == '.') {
            char *endp;
            errno = 0;
            double time = strtod(cp, &endp);
            if (*endp != '\0' || errno != 0)
                return ENG_DTERR_BAD_FORMAT;
            time *= (double)ENG_USECS_PER_DAY;
            int64_t fr = (int64_t)time;
            tm->hour = (int)(fr / ENG_USECS_PER_HOUR);
            fr -= tm->hour * ENG_USECS_PER_HOUR;
            tm->min = (int)(fr / ENG_USECS_PER_MINUTE);
            fr -= tm->min * ENG_USECS_PER_MINUTE;
            tm->sec = (int)(fr / ENG_USECS_PER_SEC);
            *fsec = fr - tm->sec * ENG_USECS_PER_SEC;
            *tmask |= TIME_M;
        }
        break;
    case V_TIME:
        dterr = decode_number_field((int)strlen(field), field, fmask | DATE_M, tmask, tm, fsec,
                                    is2digits);
        if (dterr < 0)
            return dterr;
        if (*tmask != TIME_M)
            return ENG_DTERR_BAD_FORMAT;
        break;
    default:
        return ENG_DTERR_BAD_FORMAT;
    }
    (void)tzp;
    return 0;
}

/* DecodeDateTime for date and timestamp input. with_tz: zones are
 * accepted (always; the date and timestamp types ignore them). */
static int
decode_datetime(eng_dt_fields *f, zones *zs, int *dtype, eng_tm *tm, int64_t *fsec, int *tzp)
{
    int fmask = 0, tmask, ptype = 0, mer = V_HR24;
    bool have_text_month = false, isjulian = false, is2digits = false, bc = false;
    int dterr;
    *dtype = DT_DATE;
    tm->hour = tm->min = tm->sec = 0;
    tm->year = tm->mon = tm->mday = 0;
    *fsec = 0;
    *tzp = 0;
    for (int i = 0; i < f->nf; i++) {
        char *field = f->field[i];
        tmask = 0;
        switch (f->ftype[i]) {
        case ENG_DTK_DATE:
            if (ptype == V_JULIAN) {
                /* Julian day with an attached zone */
                char *cp;
                int val;
                if (!parse_int(field, &cp, &val) || val < 0)
                    return ENG_DTERR_FIELD_OVERFLOW;
                eng_j2date(val, &tm->year, &tm->mon, &tm->mday);
                isjulian = true;
                if ((dterr = eng_dt_decode_timezone(cp, tzp)) != 0)
                    return dterr;
                tmask = DATE_M | TIME_M | M(F_TZ);
                ptype = 0;
            } else if (ptype != 0 ||
                       ((fmask & (M(F_MONTH) | M(F_DAY))) == (M(F_MONTH) | M(F_DAY)))) {
                /* Already have a date: a zone name or hhmmss-zz. */
                if (is_digit(*field) || ptype != 0) {
                    if (ptype != 0) {
                        if (ptype != V_TIME)
                            return ENG_DTERR_BAD_FORMAT;
                        ptype = 0;
                    }
                    if ((fmask & TIME_M) == TIME_M)
                        return ENG_DTERR_BAD_FORMAT;
                    char *cp = strchr(field, '-');
                    if (cp == NULL)
                        return ENG_DTERR_BAD_FORMAT;
                    if ((dterr = eng_dt_decode_timezone(cp, tzp)) != 0)
                        return dterr;
                    *cp = '\0';
                    dterr = decode_number_field((int)strlen(field), field, fmask, &tmask, tm, fsec,
                                                &is2digits);
                    if (dterr < 0)
                        return dterr;
                    tmask |= M(F_TZ);
                } else {
                    /* A full time zone name ("europe/paris"). */
                    if (zs->named == NULL)
                        zs->named = eng_tz_load(field);
                    if (zs->named == NULL) {
                        f->bad_zone = field;
                        return ENG_DTERR_ZONE_UNKNOWN;
                    }
                    tmask = M(F_TZ);
                }
            } else {
                if ((dterr = decode_date(field, fmask, &tmask, &is2digits, tm)) != 0)
                    return dterr;
            }
            break;
        case ENG_DTK_TIME:
            if (ptype != 0) {
                if (ptype != V_TIME)
                    return ENG_DTERR_BAD_FORMAT;
                ptype = 0;
            }
            if ((dterr = decode_time(field, &tmask, tm, fsec)) != 0)
                return dterr;
            if (time_overflows(tm->hour, tm->min, tm->sec, *fsec))
                return ENG_DTERR_FIELD_OVERFLOW;
            break;
        case ENG_DTK_TZ:
            if ((dterr = eng_dt_decode_timezone(field, tzp)) != 0)
                return dterr;
            tmask = M(F_TZ);
            break;
        case ENG_DTK_NUMBER:
            if (ptype != 0) {
                dterr = decode_labelled(ptype, field, fmask, &tmask, tm, fsec, tzp, &isjulian,
                                        &is2digits);
                if (dterr)
                    return dterr;
                ptype = 0;
                *dtype = DT_DATE;
            } else {
                int flen = (int)strlen(field);
                char *cp = strchr(field, '.');
                if (cp != NULL && !(fmask & DATE_M)) {
                    if ((dterr = decode_date(field, fmask, &tmask, &is2digits, tm)) != 0)
                        return dterr;
                } else if (cp != NULL && flen - (int)strlen(cp) > 2) {
                    dterr = decode_number_field(flen, field, fmask, &tmask, tm, fsec, &is2digits);
                    if (dterr < 0)
                        return dterr;
                } else if (flen >= 6 && (!(fmask & DATE_M) || !(fmask & TIME_M))) {
                    dterr = decode_number_field(flen, field, fmask, &tmask, tm, fsec, &is2digits);
                    if (dterr < 0)
                        return dterr;
                } else {
                    dterr = decode_number(flen, field, have_text_month, fmask, &tmask, tm, fsec,
                                          &is2digits);
                    if (dterr)
                        return dterr;
                }
            }
            break;
        case ENG_DTK_STRING:
        case ENG_DTK_SPECIAL: {
            int val = 0;
            const char *dynzone = NULL;
            int type = special_type(field, &val, &dynzone);
            if (type == F_IGNORE)
                continue;
            tmask = M(type);
            switch (type) {
            case F_RESERV:
                switch (val) {
                case V_NOW:
                    tmask = DATE_M | TIME_M | M(F_TZ);
                    *dtype = DT_DATE;
                    current_tm(tm, fsec);
                    *tzp = 0;
                    break;
                case V_YESTERDAY:
                case V_TODAY:
                case V_TOMORROW: {
                    eng_tm cur;
                    int64_t cf;
                    tmask = DATE_M;
                    *dtype = DT_DATE;
                    current_tm(&cur, &cf);
                    int delta = val == V_YESTERDAY ? -1 : val == V_TOMORROW ? 1 : 0;
                    eng_j2date(eng_date2j(cur.year, cur.mon, cur.mday) + delta, &tm->year, &tm->mon,
                               &tm->mday);
                    break;
                }
                case V_ZULU:
                    tmask = TIME_M | M(F_TZ);
                    *dtype = DT_DATE;
                    tm->hour = tm->min = tm->sec = 0;
                    *tzp = 0;
                    break;
                case V_EPOCH:
                    *dtype = DT_EPOCH;
                    break;
                case V_LATE:
                    *dtype = DT_LATE;
                    break;
                case V_EARLY:
                    *dtype = DT_EARLY;
                    break;
                default:
                    return ENG_DTERR_BAD_FORMAT;
                }
                break;
            case F_MONTH:
                /* a numeric month already? then it was the day */
                if ((fmask & M(F_MONTH)) && !have_text_month && !(fmask & M(F_DAY)) &&
                    tm->mon >= 1 && tm->mon <= 31) {
                    tm->mday = tm->mon;
                    tmask = M(F_DAY);
                }
                have_text_month = true;
                tm->mon = val;
                break;
            case F_TZ:
                *tzp = -val;
                break;
            case F_DTZ:
                tmask |= M(F_TZ);
                *tzp = -val;
                break;
            case F_DTZMOD: /* "dst" after a standard-time abbreviation */
                tmask |= M(F_DTZ);
                *tzp -= val;
                break;
            case F_DYNTZ:
                tmask |= M(F_TZ);
                if (zs->abbrev_tz == NULL)
                    zs->abbrev_tz = eng_tz_load(dynzone);
                if (zs->abbrev_tz == NULL)
                    return ENG_DTERR_BAD_FORMAT;
                zs->abbrev = field;
                break;
            case F_AMPM:
                mer = val;
                break;
            case F_ADBC:
                bc = val == V_BC;
                break;
            case F_DOW:
                break;
            case F_UNITS:
                tmask = 0;
                if (ptype != 0)
                    return ENG_DTERR_BAD_FORMAT;
                ptype = val;
                break;
            case F_ISOTIME:
                tmask = 0;
                if ((fmask & DATE_M) != DATE_M)
                    return ENG_DTERR_BAD_FORMAT;
                if (i >= f->nf - 1 ||
                    (f->ftype[i + 1] != ENG_DTK_NUMBER && f->ftype[i + 1] != ENG_DTK_TIME &&
                     f->ftype[i + 1] != ENG_DTK_DATE))
                    return ENG_DTERR_BAD_FORMAT;
                ptype = val;
                break;
            case F_UNKNOWN:
                /* an all-alpha time zone name ("japan")? */
                if (zs->named == NULL)
                    zs->named = eng_tz_load(field);
                if (zs->named == NULL)
                    return ENG_DTERR_BAD_FORMAT;
                tmask = M(F_TZ);
                break;
            default:
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
    if ((dterr = validate_date(fmask, isjulian, is2digits, bc, tm)) != 0)
        return dterr;
    if (mer != V_HR24 && tm->hour > 12)
        return ENG_DTERR_FIELD_OVERFLOW;
    if (mer == V_AM && tm->hour == 12)
        tm->hour = 0;
    else if (mer == V_PM && tm->hour != 12)
        tm->hour += 12;
    if (*dtype == DT_DATE && (fmask & DATE_M) != DATE_M)
        return ENG_DTERR_BAD_FORMAT;
    if (*dtype == DT_DATE) {
        /* A zone's offset needs the date (DST); "dst" only modifies an
         * abbreviation. */
        if ((zs->named != NULL || zs->abbrev_tz != NULL) && (fmask & M(F_DTZMOD)))
            return ENG_DTERR_BAD_FORMAT;
        if (zs->named != NULL)
            *tzp = eng_tz_local_offset(zs->named, tm);
        if (zs->abbrev_tz != NULL)
            *tzp = eng_tz_abbrev_offset(zs->abbrev_tz, zs->abbrev, tm);
        if (!(fmask & M(F_TZ)) && (fmask & M(F_DTZMOD)))
            return ENG_DTERR_BAD_FORMAT;
    }
    return 0;
}

/* DecodeTimeOnly for the time type. */
static int
decode_time_only(eng_dt_fields *f, zones *zs, eng_tm *tm, int64_t *fsec)
{
    int fmask = 0, tmask, ptype = 0, mer = V_HR24, tz = 0;
    bool is2digits = false, bc = false;
    int dterr;
    memset(tm, 0, sizeof *tm);
    *fsec = 0;
    int nf = f->nf;
    for (int i = 0; i < nf; i++) {
        char *field = f->field[i];
        tmask = 0;
        switch (f->ftype[i]) {
        case ENG_DTK_DATE:
            if (i == 0 && nf >= 2 &&
                (f->ftype[nf - 1] == ENG_DTK_DATE || f->ftype[1] == ENG_DTK_TIME)) {
                if ((dterr = decode_date(field, fmask, &tmask, &is2digits, tm)) != 0)
                    return dterr;
            } else if (is_digit(*field)) {
                if ((fmask & TIME_M) == TIME_M)
                    return ENG_DTERR_BAD_FORMAT;
                char *cp = strchr(field, '-');
                if (cp == NULL)
                    return ENG_DTERR_BAD_FORMAT;
                if ((dterr = eng_dt_decode_timezone(cp, &tz)) != 0)
                    return dterr;
                *cp = '\0';
                dterr = decode_number_field((int)strlen(field), field, fmask | DATE_M, &tmask, tm,
                                            fsec, &is2digits);
                if (dterr < 0)
                    return dterr;
                f->ftype[i] = dterr;
                tmask |= M(F_TZ);
            } else {
                if (zs->named == NULL)
                    zs->named = eng_tz_load(field);
                if (zs->named == NULL) {
                    f->bad_zone = field;
                    return ENG_DTERR_ZONE_UNKNOWN;
                }
                f->ftype[i] = ENG_DTK_TZ;
                tmask = M(F_TZ);
            }
            break;
        case ENG_DTK_TIME:
            if (ptype != 0) {
                if (ptype != V_TIME)
                    return ENG_DTERR_BAD_FORMAT;
                ptype = 0;
            }
            if ((dterr = decode_time(field, &tmask, tm, fsec)) != 0)
                return dterr;
            break;
        case ENG_DTK_TZ:
            if ((dterr = eng_dt_decode_timezone(field, &tz)) != 0)
                return dterr;
            tmask = M(F_TZ);
            break;
        case ENG_DTK_NUMBER: {
            if (ptype != 0) {
                bool isjulian = false;
                dterr = decode_labelled(ptype, field, fmask, &tmask, tm, fsec, &tz, &isjulian,
                                        &is2digits);
                if (dterr)
                    return dterr;
                ptype = 0;
                break;
            }
            int flen = (int)strlen(field);
            char *cp = strchr(field, '.');
            if (cp != NULL) {
                if (i == 0 && nf >= 2 && f->ftype[nf - 1] == ENG_DTK_DATE) {
                    if ((dterr = decode_date(field, fmask, &tmask, &is2digits, tm)) != 0)
                        return dterr;
                } else if (flen - (int)strlen(cp) > 2) {
                    dterr = decode_number_field(flen, field, fmask | DATE_M, &tmask, tm, fsec,
                                                &is2digits);
                    if (dterr < 0)
                        return dterr;
                    f->ftype[i] = dterr;
                } else {
                    return ENG_DTERR_BAD_FORMAT;
                }
            } else if (flen > 4) {
                dterr =
                    decode_number_field(flen, field, fmask | DATE_M, &tmask, tm, fsec, &is2digits);
                if (dterr < 0)
                    return dterr;
                f->ftype[i] = dterr;
            } else {
                dterr =
                    decode_number(flen, field, false, fmask | DATE_M, &tmask, tm, fsec, &is2digits);
                if (dterr)
                    return dterr;
            }
            break;
        }
        case ENG_DTK_STRING:
        case ENG_DTK_SPECIAL: {
            int val = 0;
            const char *dynzone = NULL;
            int type = special_type(field, &val, &dynzone);
            if (type == F_IGNORE)
                continue;
            tmask = M(type);
            switch (type) {
            case F_RESERV:
                if (val == V_NOW) {
                    eng_tm cur;
                    tmask = TIME_M;
                    current_tm(&cur, fsec);
                    tm->hour = cur.hour;
                    tm->min = cur.min;
                    tm->sec = cur.sec;
                } else if (val == V_ZULU) {
                    tmask = TIME_M | M(F_TZ);
                    tm->hour = tm->min = tm->sec = 0;
                } else {
                    return ENG_DTERR_BAD_FORMAT;
                }
                break;
            case F_TZ:
                tz = -val;
                break;
            case F_DTZ:
                tmask |= M(F_TZ);
                tz = -val;
                break;
            case F_DTZMOD:
                tmask |= M(F_DTZ);
                tz -= val;
                break;
            case F_DYNTZ:
                tmask |= M(F_TZ);
                if (zs->abbrev_tz == NULL)
                    zs->abbrev_tz = eng_tz_load(dynzone);
                if (zs->abbrev_tz == NULL)
                    return ENG_DTERR_BAD_FORMAT;
                break;
            case F_AMPM:
                mer = val;
                break;
            case F_ADBC:
                bc = val == V_BC;
                break;
            case F_UNITS:
                tmask = 0;
                if (ptype != 0)
                    return ENG_DTERR_BAD_FORMAT;
                ptype = val;
                break;
            case F_ISOTIME:
                tmask = 0;
                if (i >= nf - 1 ||
                    (f->ftype[i + 1] != ENG_DTK_NUMBER && f->ftype[i + 1] != ENG_DTK_TIME &&
                     f->ftype[i + 1] != ENG_DTK_DATE))
                    return ENG_DTERR_BAD_FORMAT;
                ptype = val;
                break;
            case F_UNKNOWN:
                if (zs->named == NULL)
                    zs->named = eng_tz_load(field);
                if (zs->named == NULL)
                    return ENG_DTERR_BAD_FORMAT;
                tmask = M(F_TZ);
                break;
            default:
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
    (void)tz;
    if ((dterr = validate_date(fmask, false, is2digits, bc, tm)) != 0)
        return dterr;
    if (mer != V_HR24 && tm->hour > 12)
        return ENG_DTERR_FIELD_OVERFLOW;
    if (mer == V_AM && tm->hour == 12)
        tm->hour = 0;
    else if (mer == V_PM && tm->hour != 12)
        tm->hour += 12;
    if (time_overflows(tm->hour, tm->min, tm->sec, *fsec))
        return ENG_DTERR_FIELD_OVERFLOW;
    if ((fmask & TIME_M) != TIME_M)
        return ENG_DTERR_BAD_FORMAT;
    /* A zone with DST needs a date to mean anything; "dst" needs a zone. */
    int gmtoff;
    if ((zs->named != NULL || zs->abbrev_tz != NULL) && (fmask & M(F_DTZMOD)))
        return ENG_DTERR_BAD_FORMAT;
    if (zs->named != NULL && !eng_tz_fixed_offset(zs->named, &gmtoff) && (fmask & DATE_M) != DATE_M)
        return ENG_DTERR_BAD_FORMAT;
    if (zs->abbrev_tz != NULL && (fmask & DATE_M) != 0 && (fmask & DATE_M) != DATE_M)
        return ENG_DTERR_BAD_FORMAT;
    if (!(fmask & M(F_TZ)) && (fmask & M(F_DTZMOD)))
        return ENG_DTERR_BAD_FORMAT;
    return 0;
}

/* ------------------------------------------------------------------ errors, entry points */

int
eng_dt_error(int dterr, const char *s, size_t n, const char *tname, const char *zone, eng_err *err)
{
    int len = (int)(n > 200 ? 200 : n);
    switch (dterr) {
    case ENG_DTERR_FIELD_OVERFLOW:
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                           "date/time field value out of range: \"%.*s\"", len, s);
    case ENG_DTERR_MD_FIELD_OVERFLOW:
        eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                    "date/time field value out of range: \"%.*s\"", len, s);
        eng_err_hint(err, "Perhaps you need a different \"datestyle\" setting.");
        return -1;
    case ENG_DTERR_INTERVAL_OVERFLOW:
        return eng_err_set(err, ENG_ERRCODE_INTERVAL_FIELD_OVERFLOW,
                           "interval field value out of range: \"%.*s\"", len, s);
    case ENG_DTERR_TZDISP_OVERFLOW:
        return eng_err_set(err, ENG_ERRCODE_INVALID_TIME_ZONE_DISPLACEMENT_VALUE,
                           "time zone displacement out of range: \"%.*s\"", len, s);
    case ENG_DTERR_ZONE_UNKNOWN:
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "time zone \"%s\" not recognized", zone ? zone : "");
    default:
        return eng_err_set(err, ENG_ERRCODE_INVALID_DATETIME_FORMAT,
                           "invalid input syntax for type %s: \"%.*s\"", tname, len, s);
    }
}

/* Buffer limit of PostgreSQL's date/time input (MAXDATELEN + MAXDATEFIELDS). */
#define DT_BUFMAX 153

int
eng_date_parse(const char *s, size_t n, int32_t *out, eng_err *err)
{
    eng_dt_fields f;
    eng_tm tm;
    int64_t fsec;
    int dtype, tz;
    zones zs = {0};
    int dterr = eng_dt_split(s, n, DT_BUFMAX, &f);
    if (dterr == 0)
        dterr = decode_datetime(&f, &zs, &dtype, &tm, &fsec, &tz);
    zones_free(&zs);
    if (dterr != 0)
        return eng_dt_error(dterr, s, n, "date", f.bad_zone, err);
    switch (dtype) {
    case DT_DATE:
        break;
    case DT_EPOCH:
        tm.year = 1970;
        tm.mon = 1;
        tm.mday = 1;
        break;
    case DT_LATE:
        *out = ENG_DATE_NOEND;
        return 0;
    case DT_EARLY:
        *out = ENG_DATE_NOBEGIN;
        return 0;
    default:
        return eng_dt_error(ENG_DTERR_BAD_FORMAT, s, n, "date", NULL, err);
    }
    int64_t date;
    if (!eng_dt_valid_julian(tm.year, tm.mon) ||
        (date = (int64_t)eng_date2j(tm.year, tm.mon, tm.mday) - ENG_POSTGRES_EPOCH_JDATE) <
            -ENG_POSTGRES_EPOCH_JDATE ||
        date >= (int64_t)ENG_DATE_END_JULIAN - ENG_POSTGRES_EPOCH_JDATE)
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "date out of range: \"%.*s\"",
                           (int)(n > 200 ? 200 : n), s);
    *out = (int32_t)date;
    return 0;
}

int
eng_time_parse(const char *s, size_t n, int32_t typmod, int64_t *out, eng_err *err)
{
    eng_dt_fields f;
    eng_tm tm;
    int64_t fsec;
    zones zs = {0};
    int dterr = eng_dt_split(s, n, DT_BUFMAX, &f);
    if (dterr == 0)
        dterr = decode_time_only(&f, &zs, &tm, &fsec);
    zones_free(&zs);
    if (dterr != 0)
        return eng_dt_error(dterr, s, n, "time", f.bad_zone, err);
    int64_t t = (((int64_t)tm.hour * 60 + tm.min) * 60 + tm.sec) * ENG_USECS_PER_SEC + fsec;
    eng_time_apply_typmod(&t, typmod);
    *out = t;
    return 0;
}

int
eng_timestamp_parse(const char *s, size_t n, bool with_tz, int32_t typmod, int64_t *out,
                    eng_err *err)
{
    const char *tname = with_tz ? "timestamp with time zone" : "timestamp";
    eng_dt_fields f;
    eng_tm tm;
    int64_t fsec, ts;
    int dtype, tz;
    zones zs = {0};
    int dterr = eng_dt_split(s, n, DT_BUFMAX, &f);
    if (dterr == 0)
        dterr = decode_datetime(&f, &zs, &dtype, &tm, &fsec, &tz);
    zones_free(&zs);
    if (dterr != 0)
        return eng_dt_error(dterr, s, n, tname, f.bad_zone, err);
    switch (dtype) {
    case DT_DATE:
        /* timestamp without time zone ignores any zone in the input */
        if (eng_dt_tm2timestamp(&tm, fsec, with_tz ? &tz : NULL, &ts) != 0)
            return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                               "timestamp out of range: \"%.*s\"", (int)(n > 200 ? 200 : n), s);
        break;
    case DT_EPOCH:
        ts = -(int64_t)(ENG_POSTGRES_EPOCH_JDATE - ENG_UNIX_EPOCH_JDATE) * ENG_USECS_PER_DAY;
        break;
    case DT_LATE:
        ts = ENG_TS_NOEND;
        break;
    case DT_EARLY:
        ts = ENG_TS_NOBEGIN;
        break;
    default:
        return eng_dt_error(ENG_DTERR_BAD_FORMAT, s, n, tname, NULL, err);
    }
    if (eng_timestamp_apply_typmod(&ts, typmod, err) < 0)
        return -1;
    *out = ts;
    return 0;
}
