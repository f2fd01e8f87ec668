/* Scalar expressions: AT TIME ZONE (timezone()), make_date and
 * make_timestamp, with PostgreSQL's types and errors.
 *
 * Notes: timezone(zone, timestamptz) gives the local timestamp in the
 * zone, timezone(zone, timestamp) the timestamptz of a local time there
 * (a date is read as timestamptz, PostgreSQL's preferred datetime type).
 * A text zone is looked up by the type library (eng_timestamp_at_zone:
 * abbreviations, tz database names, POSIX strings); an interval zone is
 * a fixed offset east of UTC, whole seconds, without months or days. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_datetime.h"
#include "operators/expr_int.h"

static int
set_i64(op_eval *ev, op_val *r, uint8_t tag, int64_t v, eng_err *err)
{
    uint8_t *p = op_x_alloc(ev, 8, err);
    if (p == NULL)
        return -1;
    memcpy(p, &v, 8);
    r->tag = tag;
    r->len = 8;
    r->u.p = p;
    return 0;
}

/* aux8: 1 if the zone is an interval; in->rtype: the result type
 * (timestamp: the argument was a timestamptz). */
static int
x_timezone(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    int64_t ts = eng_load_i64(a[1].u.p), out;
    bool from_utc = in->rtype == OP_T_TIMESTAMP;
    if (in->aux8) {
        eng_interval iv;
        memcpy(&iv.months, a[0].u.p, 4);
        memcpy(&iv.days, a[0].u.p + 4, 4);
        memcpy(&iv.usecs, a[0].u.p + 8, 8);
        if (iv.months != 0 || iv.days != 0) {
            eng_strbuf sb = {0};
            eng_interval_format(&iv, &sb);
            eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                        "interval time zone \"%s\" must not include months or days",
                        eng_strbuf_cstr(&sb));
            eng_strbuf_free(&sb);
            return -1;
        }
        int64_t east = iv.usecs / ENG_USECS_PER_SEC * ENG_USECS_PER_SEC;
        if (ts == ENG_TS_NOBEGIN || ts == ENG_TS_NOEND)
            out = ts;
        else if (__builtin_add_overflow(ts, from_utc ? east : -east, &out) ||
                 !eng_timestamp_in_range(out))
            return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW, "timestamp out of range");
    } else if (eng_timestamp_at_zone(ts, (const char *)a[0].u.p, a[0].len, from_utc, &out, err)) {
        return -1;
    }
    return set_i64(ev, r, in->rtag, out, err);
}

static bool
valid_date(int year, int mon, int day)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year == 0 || mon < 1 || mon > 12 || day < 1)
        return false;
    int y = year > 0 ? year : year + 1; /* astronomical year: 1 BC is 0 */
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    return day <= mdays[mon - 1] + (mon == 2 && leap);
}

/* Days since 2000-01-01 of a valid date (negative years BC); -1 with err
 * set if outside the date range. */
static int
make_days(int64_t year, int64_t mon, int64_t day, int32_t *out, eng_err *err)
{
    if (year < -5000000 || year > 6000000 || !valid_date((int)year, (int)mon, (int)day))
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                           "date field value out of range: %lld-%02lld-%02lld", (long long)year,
                           (long long)mon, (long long)day);
    int y = year > 0 ? (int)year : (int)year + 1;
    /* PostgreSQL's Julian day range: 4714-11-24 BC .. 5874897-12-31 */
    if (y < -4713 || (y == -4713 && mon < 11) || y > 5874897)
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                           "date out of range: %lld-%02lld-%02lld", (long long)year, (long long)mon,
                           (long long)day);
    *out = eng_date2j(y, (int)mon, (int)day) - ENG_POSTGRES_EPOCH_JDATE;
    return 0;
}

static int
x_make_date(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    int32_t d = 0;
    if (make_days(a[0].u.i, a[1].u.i, a[2].u.i, &d, err))
        return -1;
    uint8_t *p = op_x_alloc(ev, 4, err);
    if (p == NULL)
        return -1;
    memcpy(p, &d, 4);
    r->tag = ENG_TAG_DATE;
    r->len = 4;
    r->u.p = p;
    return 0;
}

static int
x_make_timestamp(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    int64_t year = a[0].u.i, mon = a[1].u.i, day = a[2].u.i, hour = a[3].u.i, min = a[4].u.i;
    double sec = op_x_num_f(&a[5]);
    int32_t d = 0;
    if (make_days(year, mon, day, &d, err))
        return -1;
    if (hour < 0 || min < 0 || min > 59 || !(sec >= 0) || sec > 60 || hour > 24 ||
        (hour == 24 && (min > 0 || sec > 0))) {
        char sbuf[32];
        snprintf(sbuf, sizeof sbuf, "%02g", sec);
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                           "time field value out of range: %lld:%02lld:%s", (long long)hour,
                           (long long)min, sbuf);
    }
    int64_t t = (hour * 60 + min) * 60 * ENG_USECS_PER_SEC + (int64_t)rint(sec * 1e6);
    int64_t ts = (int64_t)d * ENG_USECS_PER_DAY + t;
    if (!eng_timestamp_in_range(ts)) {
        char sbuf[32];
        snprintf(sbuf, sizeof sbuf, "%02g", sec);
        return eng_err_set(err, ENG_ERRCODE_DATETIME_FIELD_OVERFLOW,
                           "timestamp out of range: %lld-%02lld-%02lld %lld:%02lld:%s",
                           (long long)year, (long long)mon, (long long)day, (long long)hour,
                           (long long)min, sbuf);
    }
    return set_i64(ev, r, ENG_TAG_TIMESTAMP, ts, err);
}

static bool
int_arg(op_type t)
{
    return t == OP_T_INT4 || t == OP_T_INT2 || t == OP_T_UNKNOWN;
}

int
op_x_resolve_tz(op_expr *e, const op_type *at, eng_err *err)
{
    op_type *w = op_x_want(e);
    e->impl_strict = true;
    switch (e->fn) {
    case OP_TIMEZONE: {
        if (e->nargs != 2)
            break;
        bool iv = at[0] == OP_T_INTERVAL;
        if (!iv && !op_x_is_string(at[0]) && at[0] != OP_T_UNKNOWN)
            break;
        op_type t = at[1];
        if (t == OP_T_DATE || t == OP_T_UNKNOWN)
            t = OP_T_TIMESTAMPTZ;
        if (t != OP_T_TIMESTAMP && t != OP_T_TIMESTAMPTZ)
            break;
        w[0] = at[0] == OP_T_BPCHAR ? OP_T_TEXT : OP_T_UNKNOWN;
        w[1] = t;
        e->rtype = t == OP_T_TIMESTAMP ? OP_T_TIMESTAMPTZ : OP_T_TIMESTAMP;
        e->impl_fn = x_timezone;
        e->impl_aux8 = iv;
        return 0;
    }
    case OP_MAKE_DATE:
        if (e->nargs != 3 || !int_arg(at[0]) || !int_arg(at[1]) || !int_arg(at[2]))
            break;
        w[0] = w[1] = w[2] = OP_T_INT4;
        e->rtype = OP_T_DATE;
        e->impl_fn = x_make_date;
        return 0;
    case OP_MAKE_TIMESTAMP:
        if (e->nargs != 6)
            break;
        for (int i = 0; i < 5; i++) {
            if (!int_arg(at[i]))
                return op_x_no_function(e, at, err);
            w[i] = OP_T_INT4;
        }
        if (!op_x_is_num(at[5]) && at[5] != OP_T_UNKNOWN)
            break;
        w[5] = OP_T_FLOAT8;
        e->rtype = OP_T_TIMESTAMP;
        e->impl_fn = x_make_timestamp;
        return 0;
    default:
        break;
    }
    return op_x_no_function(e, at, err);
}
