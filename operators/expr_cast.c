/* Scalar expressions: casts between bool, int2/int4/int8, float4/float8 and
 * text with PostgreSQL's rules, and the text forms of values.
 *
 * Notes: float -> int rounds half to even (rint) and fails with 22003 out
 * of range or on NaN; int -> narrower int fails with 22003; float8 ->
 * float4 fails on overflow/underflow. text -> int/float/bool parse as
 * PostgreSQL 15's input functions (surrounding white space allowed;
 * decimal digits only for ints; strtod()/strtof() for floats, with
 * NaN/Infinity/inf; the boolean words and their prefixes). Floats print as
 * PostgreSQL 15 does with extra_float_digits = 1: the shortest decimal that
 * reads back as the same value, closest to it among the shortest, in fixed
 * notation for decimal exponents -4 <= e < 15 (float4: < 6), otherwise
 * d.ddde+XX. The shortest digits are found with correctly rounded printf
 * at increasing precision, trying at each precision both decimals that
 * bracket the value. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "operators/expr_int.h"

/* ------------------------------------------------------------------ float output */

static bool
round_trips(const char *s, double v, bool f4)
{
    if (f4)
        return strtof(s, NULL) == (float)v;
    return strtod(s, NULL) == v;
}

/* Shortest digits (no trailing zeros) and decimal exponent of v > 0. */
static void
shortest(double v, bool f4, char dig[24], int *dexp)
{
    char buf[48];
    int maxp = f4 ? 9 : 17;
    for (int p = 1; p <= maxp; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, v);
        /* buf is d[.ddd]e[+-]XX */
        uint64_t m = (uint64_t)(buf[0] - '0');
        const char *q = buf + 1;
        if (*q == '.')
            q++;
        while (isdigit((unsigned char)*q))
            m = m * 10 + (uint64_t)(*q++ - '0');
        int e = atoi(q + 1);
        if (!round_trips(buf, v, f4)) {
            /* The other decimal of p digits bracketing v. */
            bool above = f4 ? strtof(buf, NULL) > (float)v : strtod(buf, NULL) > v;
            uint64_t lo = 1;
            for (int i = 1; i < p; i++)
                lo *= 10;
            m = above ? m - 1 : m + 1;
            if (m < lo)
                continue; /* 99..9 of p-1 digits: already tried */
            if (m == lo * 10) {
                m = lo;
                e++;
            }
            char num[24];
            snprintf(num, sizeof num, "%" PRIu64, m);
            snprintf(buf, sizeof buf, "%c.%se%d", num[0], num + 1, e);
            if (!round_trips(buf, v, f4))
                continue;
        }
        int n = snprintf(dig, 24, "%" PRIu64, m);
        while (n > 1 && dig[n - 1] == '0')
            dig[--n] = '\0';
        *dexp = e;
        return;
    }
    ENG_ASSERT(0 && "17 digits always round-trip");
}

static int
float_out(double v, bool f4, char out[32])
{
    if (isnan(v))
        return snprintf(out, 32, "NaN");
    if (isinf(v))
        return snprintf(out, 32, v > 0 ? "Infinity" : "-Infinity");
    char *o = out;
    if (signbit(v)) {
        *o++ = '-';
        v = -v;
    }
    if (v == 0) {
        *o++ = '0';
        *o = '\0';
        return (int)(o - out);
    }
    char dig[24];
    int e;
    shortest(v, f4, dig, &e);
    int n = (int)strlen(dig);
    if (e >= -4 && e < (f4 ? 6 : 15)) {
        if (e < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = -1; i > e; i--)
                *o++ = '0';
            memcpy(o, dig, (size_t)n);
            o += n;
        } else {
            for (int i = 0; i <= e; i++)
                *o++ = i < n ? dig[i] : '0';
            if (n > e + 1) {
                *o++ = '.';
                memcpy(o, dig + e + 1, (size_t)(n - e - 1));
                o += n - e - 1;
            }
        }
        *o = '\0';
        return (int)(o - out);
    }
    *o++ = dig[0];
    if (n > 1) {
        *o++ = '.';
        memcpy(o, dig + 1, (size_t)(n - 1));
        o += n - 1;
    }
    o += snprintf(o, 12, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    return (int)(o - out);
}

int
op_x_float8_out(double v, char buf[32])
{
    return float_out(v, false, buf);
}

int
op_x_float4_out(float v, char buf[32])
{
    return float_out(v, true, buf);
}

/* ------------------------------------------------------------------ text forms */

static const uint8_t *const bool_words[2][2] = {
    {(const uint8_t *)"false", (const uint8_t *)"true"},
    {(const uint8_t *)"f", (const uint8_t *)"t"},
};

int
op_x_to_text(op_eval *ev, const op_val *v, bool outfn, op_val *r, eng_err *err)
{
    char buf[32];
    int n;
    switch (v->tag) {
    case ENG_TAG_TEXT:
        *r = *v;
        return 0;
    case ENG_TAG_TRUE:
    case ENG_TAG_FALSE: {
        const uint8_t *w = bool_words[outfn][v->tag == ENG_TAG_TRUE];
        op_x_str(r, w, (uint32_t)strlen((const char *)w));
        return 0;
    }
    case ENG_TAG_INT2:
    case ENG_TAG_INT4:
    case ENG_TAG_INT8:
        n = snprintf(buf, sizeof buf, "%" PRId64, v->u.i);
        break;
    case ENG_TAG_FLOAT4:
        n = op_x_float4_out((float)v->u.f, buf);
        break;
    case ENG_TAG_FLOAT8:
        n = op_x_float8_out(v->u.f, buf);
        break;
    default:
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                           "text form of type %s is not supported yet", op_type_name(v->tag));
    }
    uint8_t *p = op_x_alloc(ev, (size_t)n, err);
    if (p == NULL)
        return -1;
    memcpy(p, buf, (size_t)n);
    op_x_str(r, p, (uint32_t)n);
    return 0;
}

/* ------------------------------------------------------------------ numeric casts */

static int
range_err(op_type t, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "%s out of range",
                       t == OP_T_INT2   ? "smallint"
                       : t == OP_T_INT4 ? "integer"
                                        : "bigint");
}

static int
c_int_int(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    int64_t x = a[0].u.i;
    if ((in->rtype == OP_T_INT2 && (x < INT16_MIN || x > INT16_MAX)) ||
        (in->rtype == OP_T_INT4 && (x < INT32_MIN || x > INT32_MAX)))
        return range_err(in->rtype, err);
    op_x_int(r, in->rtype, x);
    return 0;
}

static int
c_int_float(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    double v = in->rtype == OP_T_FLOAT4 ? (double)(float)a[0].u.i : (double)a[0].u.i;
    op_x_float(r, in->rtype, v);
    return 0;
}

static int
c_float_int(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    double v = rint(a[0].u.f);
    /* PostgreSQL's FLOAT8_FITS_IN_INTx: [-2^(x-1), 2^(x-1)) */
    double lim = in->rtype == OP_T_INT2   ? 32768.0
                 : in->rtype == OP_T_INT4 ? 2147483648.0
                                          : 9223372036854775808.0;
    if (isnan(v) || !(v >= -lim && v < lim))
        return range_err(in->rtype, err);
    op_x_int(r, in->rtype, (int64_t)v);
    return 0;
}

static int
c_float_float(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    double v = a[0].u.f;
    if (in->rtype == OP_T_FLOAT4) {
        float f = (float)v;
        if (isinf(f) && !isinf(v))
            return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                               "value out of range: overflow");
        if (f == 0.0f && v != 0.0)
            return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                               "value out of range: underflow");
        v = f;
    }
    op_x_float(r, in->rtype, v);
    return 0;
}

static int
c_bool_int(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    op_x_int(r, OP_T_INT4, a[0].tag == ENG_TAG_TRUE);
    return 0;
}

static int
c_int_bool(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    op_x_bool(r, a[0].u.i != 0);
    return 0;
}

static int
c_to_text(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    return op_x_to_text(ev, &a[0], false, r, err);
}

/* ------------------------------------------------------------------ text input */

static int
bad_input(const char *type, const op_val *s, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                       "invalid input syntax for type %s: \"%.*s\"", type, (int)s->len,
                       (const char *)s->u.p);
}

static bool
is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* PostgreSQL 15's pg_strtoint16/32/64: [ws][+-]digits[ws]; overflow is
 * reported as soon as the digits pass the range, before trailing junk. */
static int
parse_int(const op_val *s, op_type t, int64_t *out, eng_err *err)
{
    const char *name = t == OP_T_INT2 ? "smallint" : t == OP_T_INT4 ? "integer" : "bigint";
    const uint8_t *p = s->u.p, *end = p + s->len;
    while (p < end && is_space(*p))
        p++;
    bool neg = false;
    if (p < end && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p == end || !isdigit(*p))
        return bad_input(name, s, err);
    /* Accumulate negatively: the negative range is the larger one. */
    int64_t lim = t == OP_T_INT2 ? INT16_MIN : t == OP_T_INT4 ? INT32_MIN : INT64_MIN;
    int64_t v = 0;
    while (p < end && isdigit(*p)) {
        int d = *p++ - '0';
        if (v < (lim + d) / 10)
            goto range;
        v = v * 10 - d;
    }
    while (p < end && is_space(*p))
        p++;
    if (p != end)
        return bad_input(name, s, err);
    if (!neg) {
        if (v == lim)
            goto range;
        v = -v;
    }
    *out = v;
    return 0;
range:
    return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                       "value \"%.*s\" is out of range for type %s", (int)s->len,
                       (const char *)s->u.p, name);
}

static int
parse_float(op_eval *ev, const op_val *s, bool f4, double *out, eng_err *err)
{
    const char *name = f4 ? "real" : "double precision";
    if (memchr(s->u.p, '\0', s->len))
        return bad_input(name, s, err);
    char small[128], *buf = small;
    if (s->len >= sizeof small) {
        buf = (char *)op_x_alloc(ev, (size_t)s->len + 1, err);
        if (buf == NULL)
            return -1;
    }
    memcpy(buf, s->u.p, s->len);
    buf[s->len] = '\0';
    char *num = buf, *endp;
    while (*num && is_space((uint8_t)*num))
        num++;
    if (*num == '\0')
        return bad_input(name, s, err);
    errno = 0;
    double v = f4 ? (double)strtof(num, &endp) : strtod(num, &endp);
    if (endp == num || errno != 0) {
        static const struct {
            const char *word;
            double v;
        } words[] = {{"NaN", NAN},
                     {"Infinity", INFINITY},
                     {"+Infinity", INFINITY},
                     {"-Infinity", -INFINITY},
                     {"inf", INFINITY},
                     {"+inf", INFINITY},
                     {"-inf", -INFINITY}};
        int save = errno;
        size_t i = 0;
        for (; i < sizeof words / sizeof words[0]; i++) {
            size_t l = strlen(words[i].word);
            if (strncasecmp(num, words[i].word, l) == 0) {
                v = words[i].v;
                endp = num + l;
                break;
            }
        }
        if (i == sizeof words / sizeof words[0]) {
            if (save != ERANGE)
                return bad_input(name, s, err);
            /* ERANGE for denormals is fine; for zero or huge it is not. */
            double huge = f4 ? (double)HUGE_VALF : HUGE_VAL;
            if (v == 0.0 || v >= huge || v <= -huge)
                return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                                   "\"%.*s\" is out of range for type %s", (int)(endp - num), num,
                                   name);
        }
    }
    while (*endp && is_space((uint8_t)*endp))
        endp++;
    if (*endp != '\0')
        return bad_input(name, s, err);
    *out = v;
    return 0;
}

/* PostgreSQL's parse_bool_with_len: a prefix of true/false/yes/no, on/off
 * (at least two letters), 1/0; case-insensitive, white space trimmed. */
static int
parse_bool(const op_val *s, bool *out, eng_err *err)
{
    const uint8_t *p = s->u.p;
    size_t n = s->len;
    while (n > 0 && is_space(*p))
        p++, n--;
    while (n > 0 && is_space(p[n - 1]))
        n--;
    static const struct {
        const char *word;
        bool v;
        size_t min;
    } words[] = {{"true", true, 1}, {"false", false, 1}, {"yes", true, 1}, {"no", false, 1},
                 {"on", true, 2},   {"off", false, 2},   {"1", true, 1},   {"0", false, 1}};
    if (n > 0) {
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
            size_t l = strlen(words[i].word);
            if (n >= words[i].min && n <= l &&
                strncasecmp((const char *)p, words[i].word, n) == 0) {
                *out = words[i].v;
                return 0;
            }
        }
    }
    return bad_input("boolean", s, err);
}

static int
c_from_text(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    switch (in->rtype) {
    case OP_T_BOOL: {
        bool b = false;
        if (parse_bool(&a[0], &b, err))
            return -1;
        op_x_bool(r, b);
        return 0;
    }
    case OP_T_INT2:
    case OP_T_INT4:
    case OP_T_INT8: {
        int64_t v = 0;
        if (parse_int(&a[0], in->rtype, &v, err))
            return -1;
        op_x_int(r, in->rtype, v);
        return 0;
    }
    default: {
        double v = 0;
        if (parse_float(ev, &a[0], in->rtype == OP_T_FLOAT4, &v, err))
            return -1;
        op_x_float(r, in->rtype, v);
        return 0;
    }
    }
}

/* ------------------------------------------------------------------ the cast table */

static bool
basic(op_type t)
{
    return t == OP_T_BOOL || op_x_is_num(t) || t == OP_T_TEXT;
}

op_x_fn
op_x_cast_impl(op_type from, op_type to)
{
    if (from == ENG_TAG_FALSE)
        from = OP_T_BOOL;
    if (from == to || !basic(from) || !basic(to))
        return NULL;
    if (to == OP_T_TEXT)
        return c_to_text;
    if (from == OP_T_TEXT)
        return c_from_text;
    if (op_x_is_int(from) && op_x_is_int(to))
        return c_int_int;
    if (op_x_is_int(from) && op_x_is_float(to))
        return c_int_float;
    if (op_x_is_float(from) && op_x_is_int(to))
        return c_float_int;
    if (op_x_is_float(from) && op_x_is_float(to))
        return c_float_float;
    /* PostgreSQL casts boolean only to and from integer (int4). */
    if (from == OP_T_BOOL && to == OP_T_INT4)
        return c_bool_int;
    if (from == OP_T_INT4 && to == OP_T_BOOL)
        return c_int_bool;
    return NULL;
}
