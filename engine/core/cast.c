/* Casts between SQL types (see eng_cast.h). */
#include "engine/core/eng_cast.h"
#include "engine/core/eng_datetime.h"
#include "engine/core/eng_float.h"
#include "engine/core/eng_numeric.h"
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_text.h"

#include <math.h>
#include <string.h>

#define I ENG_CAST_IMPLICIT
#define A ENG_CAST_ASSIGNMENT
#define E ENG_CAST_EXPLICIT

static bool
is_string(eng_typeid id)
{
    return eng_type_is_string(id) && id != ENG_TYPE_UNKNOWN;
}

static bool
is_int(eng_typeid id)
{
    return id == ENG_TYPE_INT2 || id == ENG_TYPE_INT4 || id == ENG_TYPE_INT8;
}

static bool
is_float(eng_typeid id)
{
    return id == ENG_TYPE_FLOAT4 || id == ENG_TYPE_FLOAT8;
}

int
eng_cast_lookup(eng_typeid from, eng_typeid to)
{
    if (from == to || from == ENG_TYPE_UNKNOWN)
        return I;
    if (to == ENG_TYPE_UNKNOWN)
        return -1;
    if (is_string(to))
        return is_string(from) ? I : A; /* I/O conversion to a string type */
    if (is_string(from))
        return E; /* I/O conversion from a string type */
    /* Numeric types: widening is implicit, narrowing needs assignment. */
    static const signed char num[5][5] = {
        /*            int2 int4 int8 f4 f8 */
        /* int2 */ {I, I, I, I, I},
        /* int4 */ {A, I, I, I, I},
        /* int8 */ {A, A, I, I, I},
        /* f4   */ {A, A, A, I, I},
        /* f8   */ {A, A, A, A, I},
    };
    bool fn = is_int(from) || is_float(from), tn = is_int(to) || is_float(to);
    if (fn && tn)
        return num[from - ENG_TYPE_INT2][to - ENG_TYPE_INT2];
    if (fn && to == ENG_TYPE_NUMERIC)
        return is_int(from) ? I : A;
    if (from == ENG_TYPE_NUMERIC && tn)
        return is_int(to) ? A : I;
    if ((from == ENG_TYPE_BOOL && to == ENG_TYPE_INT4) ||
        (from == ENG_TYPE_INT4 && to == ENG_TYPE_BOOL))
        return E;
    switch (from) {
    case ENG_TYPE_DATE:
        return to == ENG_TYPE_TIMESTAMP || to == ENG_TYPE_TIMESTAMPTZ ? I : -1;
    case ENG_TYPE_TIMESTAMP:
        return to == ENG_TYPE_TIMESTAMPTZ ? I : to == ENG_TYPE_DATE || to == ENG_TYPE_TIME ? A : -1;
    case ENG_TYPE_TIMESTAMPTZ:
        return to == ENG_TYPE_DATE || to == ENG_TYPE_TIME || to == ENG_TYPE_TIMESTAMP ? A : -1;
    case ENG_TYPE_TIME:
        return to == ENG_TYPE_INTERVAL ? I : -1;
    case ENG_TYPE_INTERVAL:
        return to == ENG_TYPE_TIME ? A : -1;
    case ENG_TYPE_JSON:
        return to == ENG_TYPE_JSONB ? A : -1;
    case ENG_TYPE_JSONB:
        if (to == ENG_TYPE_JSON)
            return A;
        return to == ENG_TYPE_BOOL || to == ENG_TYPE_NUMERIC || is_int(to) || is_float(to) ? E : -1;
    default:
        return -1;
    }
}

/* ------------------------------------------------------------------ helpers */

static int
cannot_cast(const eng_type *from, const eng_type *to, eng_err *err)
{
    eng_strbuf a = {0}, b = {0};
    eng_type fa = *from, tb = *to;
    fa.typmod = tb.typmod = ENG_TYPMOD_NONE;
    eng_type_format(&fa, &a);
    eng_type_format(&tb, &b);
    eng_err_set(err, ENG_ERRCODE_CANNOT_COERCE, "cannot cast type %s to %s", eng_strbuf_cstr(&a),
                eng_strbuf_cstr(&b));
    eng_strbuf_free(&a);
    eng_strbuf_free(&b);
    return -1;
}

static int64_t
int_value(eng_datum d)
{
    switch (d.tag) {
    case ENG_TAG_INT2: {
        int16_t v;
        memcpy(&v, d.ptr, 2);
        return v;
    }
    case ENG_TAG_INT4:
        return eng_load_i32(d.ptr);
    default:
        return eng_load_i64(d.ptr);
    }
}

static double
float_value(eng_datum d)
{
    if (d.tag == ENG_TAG_FLOAT4) {
        float f;
        memcpy(&f, d.ptr, 4);
        return (double)f;
    }
    double v;
    memcpy(&v, d.ptr, 8);
    return v;
}

static const char *
int_name(eng_typeid id)
{
    return id == ENG_TYPE_INT2 ? "smallint" : id == ENG_TYPE_INT4 ? "integer" : "bigint";
}

static int
push_int(eng_typeid to, int64_t v, eng_rowbuf *out, eng_err *err)
{
    if ((to == ENG_TYPE_INT2 && (v < INT16_MIN || v > INT16_MAX)) ||
        (to == ENG_TYPE_INT4 && (v < INT32_MIN || v > INT32_MAX)))
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "%s out of range",
                           int_name(to));
    if (to == ENG_TYPE_INT2)
        eng_push_int2(out, (int16_t)v);
    else if (to == ENG_TYPE_INT4)
        eng_push_int4(out, (int32_t)v);
    else
        eng_push_int8(out, v);
    return 0;
}

/* float -> int: round half to even (rint), then range-check. */
static int
float_to_int(eng_typeid to, double v, eng_rowbuf *out, eng_err *err)
{
    v = rint(v);
    double lo = to == ENG_TYPE_INT2   ? -32768.0
                : to == ENG_TYPE_INT4 ? -2147483648.0
                                      : -9223372036854775808.0;
    /* The upper bound is exclusive and exactly representable: -lo. */
    if (isnan(v) || v < lo || v >= -lo)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "%s out of range",
                           int_name(to));
    return push_int(to, (int64_t)v, out, err);
}

static int
push_float8_to(eng_typeid to, double v, eng_rowbuf *out, eng_err *err)
{
    if (to == ENG_TYPE_FLOAT8) {
        eng_push_float8(out, v);
        return 0;
    }
    float f = (float)v;
    if (isinf(f) && !isinf(v))
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "value out of range: overflow");
    if (f == 0.0f && v != 0.0)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "value out of range: underflow");
    eng_push_float4(out, f);
    return 0;
}

/* Pushes numeric v as type `to` (a number type), applying typmods. */
static int
push_numeric_as(const eng_type *to, eng_numeric *v, eng_rowbuf *out, eng_err *err)
{
    if (to->id == ENG_TYPE_NUMERIC) {
        if (eng_numeric_apply_typmod(v, to->typmod, err) < 0)
            return -1;
        eng_numeric_push(out, v);
        return 0;
    }
    if (is_int(to->id)) {
        int64_t i;
        int bits = to->id == ENG_TYPE_INT2 ? 16 : to->id == ENG_TYPE_INT4 ? 32 : 64;
        if (eng_numeric_to_int(v, bits, &i, err) < 0)
            return -1;
        return push_int(to->id, i, out, err);
    }
    if (to->id == ENG_TYPE_FLOAT8) {
        double f;
        if (eng_numeric_to_float8(v, &f, err) < 0)
            return -1;
        eng_push_float8(out, f);
        return 0;
    }
    float f;
    if (eng_numeric_to_float4(v, &f, err) < 0)
        return -1;
    eng_push_float4(out, f);
    return 0;
}

/* Appends a string value to a string type, with the target's length rule. */
static int
push_string(const eng_type *to, const char *s, size_t n, bool explicit_cast, eng_rowbuf *out,
            eng_err *err)
{
    if (to->id == ENG_TYPE_VARCHAR) {
        size_t keep;
        if (eng_varchar_check(s, n, to->typmod, explicit_cast, &keep, err) < 0)
            return -1;
        eng_push_text(out, s, (uint32_t)keep);
        return 0;
    }
    if (to->id == ENG_TYPE_BPCHAR)
        return eng_bpchar_push(s, n, to->typmod, explicit_cast, out, err);
    eng_push_text(out, s, (uint32_t)n);
    return 0;
}

static void
push_interval(eng_rowbuf *out, const eng_interval *iv)
{
    uint8_t buf[16];
    memcpy(buf, &iv->months, 4);
    memcpy(buf + 4, &iv->days, 4);
    memcpy(buf + 8, &iv->usecs, 8);
    eng_push_fixed(out, ENG_TAG_INTERVAL, buf, 16);
}

static void
load_interval(eng_datum d, eng_interval *iv)
{
    memcpy(&iv->months, d.ptr, 4);
    memcpy(&iv->days, d.ptr + 4, 4);
    memcpy(&iv->usecs, d.ptr + 8, 8);
}

/* Parses text (an I/O conversion from a string type or an untyped
 * literal): the input function with no typmod (interval literals excepted,
 * as in PostgreSQL), then the typmod coercion of the context. */
static int
from_text(const eng_type *from, const eng_type *to, bool explicit_cast, const char *s, size_t n,
          eng_rowbuf *out, eng_err *err)
{
    if (is_string(to->id) || to->id == ENG_TYPE_UNKNOWN) {
        if (from->id == ENG_TYPE_UNKNOWN && eng_utf8_validate(s, n, err) < 0)
            return -1;
        return push_string(to, s, n, explicit_cast, out, err);
    }
    eng_type plain = *to;
    if (!(to->id == ENG_TYPE_INTERVAL && from->id == ENG_TYPE_UNKNOWN))
        plain.typmod = ENG_TYPMOD_NONE;
    uint32_t start = out->len;
    if (eng_text_parse(&plain, s, n, out, err) < 0)
        return -1;
    if (plain.typmod == to->typmod || to->typmod < 0)
        return 0;
    /* Length coercion of the parsed value. */
    uint8_t *p = out->data + start;
    int rc = 0;
    switch (to->id) {
    case ENG_TYPE_NUMERIC: {
        eng_numeric v;
        eng_numeric_init(&v);
        eng_numeric_from_datum((eng_datum){p[0], eng_load_u32(p + 1), p + 5}, &v);
        out->len = start;
        rc = push_numeric_as(to, &v, out, err);
        eng_numeric_free(&v);
        break;
    }
    case ENG_TYPE_TIMESTAMP:
    case ENG_TYPE_TIMESTAMPTZ: {
        int64_t ts = eng_load_i64(p + 1);
        rc = eng_timestamp_apply_typmod(&ts, to->typmod, err);
        memcpy(p + 1, &ts, 8);
        break;
    }
    case ENG_TYPE_TIME: {
        int64_t t = eng_load_i64(p + 1);
        eng_time_apply_typmod(&t, to->typmod);
        memcpy(p + 1, &t, 8);
        break;
    }
    case ENG_TYPE_INTERVAL: {
        eng_interval iv;
        load_interval((eng_datum){p[0], 16, p + 1}, &iv);
        rc = eng_interval_apply_typmod(&iv, to->typmod, err);
        out->len = start;
        if (rc == 0)
            push_interval(out, &iv);
        break;
    }
    default:
        break;
    }
    if (rc < 0)
        out->len = start;
    return rc;
}

/* jsonb -> bool / number types: only from a scalar of the matching kind. */
static int
from_jsonb(const eng_type *to, eng_datum d, eng_rowbuf *out, eng_err *err)
{
    const char *s = (const char *)d.ptr;
    size_t n = d.len;
    const char *kind;
    switch (n ? s[0] : 'n') {
    case '{':
        kind = "object";
        break;
    case '[':
        kind = "array";
        break;
    case '"':
        kind = "string";
        break;
    case 't':
    case 'f':
        kind = "boolean";
        break;
    case 'n':
        kind = "null";
        break;
    default:
        kind = "numeric";
        break;
    }
    bool want_bool = to->id == ENG_TYPE_BOOL;
    if ((want_bool && strcmp(kind, "boolean") != 0) ||
        (!want_bool && strcmp(kind, "numeric") != 0)) {
        eng_strbuf name = {0};
        eng_type_format(to, &name);
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "cannot cast jsonb %s to type %s",
                    kind, eng_strbuf_cstr(&name));
        eng_strbuf_free(&name);
        return -1;
    }
    if (want_bool) {
        eng_push_bool(out, s[0] == 't');
        return 0;
    }
    eng_numeric v;
    eng_numeric_init(&v);
    int rc = eng_numeric_parse(s, n, -1, &v, err);
    if (rc == 0)
        rc = push_numeric_as(to, &v, out, err);
    eng_numeric_free(&v);
    return rc;
}

/* ------------------------------------------------------------------ the cast */

int
eng_cast(const eng_type *from, const eng_type *to, eng_datum d, eng_rowbuf *out, eng_err *err)
{
    return eng_cast_ctx(from, to, ENG_CAST_EXPLICIT, d, out, err);
}

int
eng_cast_ctx(const eng_type *from, const eng_type *to, eng_cast_context ctx, eng_datum d,
             eng_rowbuf *out, eng_err *err)
{
    if (d.tag == ENG_TAG_NULL) {
        eng_push_null(out);
        return 0;
    }
    int c = eng_cast_lookup(from->id, to->id);
    if (c < 0 || c > (int)ctx)
        return cannot_cast(from, to, err);
    bool explicit_cast = ctx == ENG_CAST_EXPLICIT;
    eng_typeid f = from->id, t = to->id;

    /* Strings in: parse. */
    if (is_string(f) || f == ENG_TYPE_UNKNOWN) {
        const char *s = (const char *)d.ptr;
        size_t n = d.len;
        /* char(n) -> text/varchar drops the padding. */
        if (f == ENG_TYPE_BPCHAR && (t == ENG_TYPE_TEXT || t == ENG_TYPE_VARCHAR))
            n = eng_bpchar_trimmed_len(s, n);
        return from_text(from, to, explicit_cast, s, n, out, err);
    }
    /* Strings out: format. */
    if (is_string(t)) {
        char small[128];
        eng_strbuf b;
        eng_strbuf_init_on(&b, small, sizeof small);
        if (f == ENG_TYPE_BOOL)
            eng_strbuf_puts(&b, d.tag == ENG_TAG_TRUE ? "true" : "false");
        else
            eng_text_format(from, d, &b);
        int rc = push_string(to, b.data, b.len, explicit_cast, out, err);
        eng_strbuf_free(&b);
        return rc;
    }
    if (f == t && from->typmod == to->typmod) {
        eng_push_datum(out, d);
        return 0;
    }
    eng_numeric v;
    int rc;
    switch (f) {
    case ENG_TYPE_BOOL: /* -> int4 */
        eng_push_int4(out, d.tag == ENG_TAG_TRUE ? 1 : 0);
        return 0;
    case ENG_TYPE_INT2:
    case ENG_TYPE_INT4:
    case ENG_TYPE_INT8: {
        int64_t i = int_value(d);
        if (t == ENG_TYPE_BOOL) {
            eng_push_bool(out, i != 0);
            return 0;
        }
        if (is_int(t))
            return push_int(t, i, out, err);
        if (t == ENG_TYPE_FLOAT8) {
            eng_push_float8(out, (double)i);
            return 0;
        }
        if (t == ENG_TYPE_FLOAT4) {
            eng_push_float4(out, (float)i);
            return 0;
        }
        eng_numeric_init(&v);
        eng_numeric_from_int64(&v, i);
        rc = push_numeric_as(to, &v, out, err);
        eng_numeric_free(&v);
        return rc;
    }
    case ENG_TYPE_FLOAT4:
    case ENG_TYPE_FLOAT8: {
        double x = float_value(d);
        if (is_int(t))
            return float_to_int(t, x, out, err);
        if (is_float(t))
            return push_float8_to(t, x, out, err);
        eng_numeric_init(&v);
        if (f == ENG_TYPE_FLOAT4)
            eng_numeric_from_float4(&v, (float)x);
        else
            eng_numeric_from_float8(&v, x);
        rc = push_numeric_as(to, &v, out, err);
        eng_numeric_free(&v);
        return rc;
    }
    case ENG_TYPE_NUMERIC:
        eng_numeric_init(&v);
        eng_numeric_from_datum(d, &v);
        rc = push_numeric_as(to, &v, out, err);
        eng_numeric_free(&v);
        return rc;
    case ENG_TYPE_DATE: {
        int64_t ts;
        if (eng_date_to_timestamp(eng_load_i32(d.ptr), &ts, err) < 0 ||
            eng_timestamp_apply_typmod(&ts, to->typmod, err) < 0)
            return -1;
        eng_push_fixed(out, t == ENG_TYPE_TIMESTAMP ? ENG_TAG_TIMESTAMP : ENG_TAG_TIMESTAMPTZ, &ts,
                       8);
        return 0;
    }
    case ENG_TYPE_TIMESTAMP:
    case ENG_TYPE_TIMESTAMPTZ: {
        int64_t ts = eng_load_i64(d.ptr);
        if (t == ENG_TYPE_DATE) {
            int32_t date = eng_timestamp_to_date(ts);
            eng_push_fixed(out, ENG_TAG_DATE, &date, 4);
            return 0;
        }
        if (t == ENG_TYPE_TIME) {
            if (ts == ENG_TS_NOBEGIN || ts == ENG_TS_NOEND) {
                eng_push_null(out); /* PostgreSQL returns NULL here */
                return 0;
            }
            int64_t tm = eng_timestamp_to_time(ts);
            eng_time_apply_typmod(&tm, to->typmod);
            eng_push_fixed(out, ENG_TAG_TIME, &tm, 8);
            return 0;
        }
        /* timestamp <-> timestamptz: the session time zone is UTC */
        if (eng_timestamp_apply_typmod(&ts, to->typmod, err) < 0)
            return -1;
        eng_push_fixed(out, t == ENG_TYPE_TIMESTAMP ? ENG_TAG_TIMESTAMP : ENG_TAG_TIMESTAMPTZ, &ts,
                       8);
        return 0;
    }
    case ENG_TYPE_TIME: {
        int64_t tm = eng_load_i64(d.ptr);
        if (t == ENG_TYPE_TIME) {
            eng_time_apply_typmod(&tm, to->typmod);
            eng_push_fixed(out, ENG_TAG_TIME, &tm, 8);
            return 0;
        }
        eng_interval iv = {0, 0, tm};
        if (eng_interval_apply_typmod(&iv, to->typmod, err) < 0)
            return -1;
        push_interval(out, &iv);
        return 0;
    }
    case ENG_TYPE_INTERVAL: {
        eng_interval iv;
        load_interval(d, &iv);
        if (t == ENG_TYPE_INTERVAL) {
            if (eng_interval_apply_typmod(&iv, to->typmod, err) < 0)
                return -1;
            push_interval(out, &iv);
            return 0;
        }
        int64_t tm = iv.usecs % ENG_USECS_PER_DAY;
        if (tm < 0)
            tm += ENG_USECS_PER_DAY;
        eng_time_apply_typmod(&tm, to->typmod);
        eng_push_fixed(out, ENG_TAG_TIME, &tm, 8);
        return 0;
    }
    case ENG_TYPE_JSON:
    case ENG_TYPE_JSONB:
        if (t == ENG_TYPE_JSONB && f == ENG_TYPE_JSON) {
            eng_strbuf b = {0};
            rc = eng_jsonb_canonicalize((const char *)d.ptr, d.len, &b, err);
            if (rc == 0)
                eng_push_text(out, b.data ? b.data : "", (uint32_t)b.len);
            eng_strbuf_free(&b);
            return rc;
        }
        if (t == ENG_TYPE_JSON || t == ENG_TYPE_JSONB) {
            eng_push_datum(out, d);
            return 0;
        }
        return from_jsonb(to, d, out, err);
    default:
        break;
    }
    return cannot_cast(from, to, err);
}
