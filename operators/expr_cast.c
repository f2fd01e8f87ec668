/* Scalar expressions: casts and the text forms of values.
 *
 * Notes: casts among bool, int2/int4/int8, float4/float8 and text (without
 * typmod) run inline on values, with PostgreSQL's rules: float -> int rounds
 * half to even (rint) and fails with 22003 out of range or on NaN, int ->
 * narrower int fails with 22003, float8 -> float4 fails on overflow or
 * underflow; text input and output use the type library's helpers
 * (eng_int_parse, eng_float8_parse, eng_bool_parse, eng_float8_shortest...),
 * so they are PostgreSQL 15's input and output functions. Every other cast
 * (numeric, dates, char(n), json, typmods...) goes through eng_cast, the
 * library's pg_cast table; every other type's text form through
 * eng_text_format. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_cast.h"
#include "engine/core/eng_float.h"
#include "engine/core/eng_text.h"
#include "operators/expr_int.h"

int
op_x_float8_out(double v, char buf[32])
{
    return (int)eng_float8_shortest(v, buf);
}

int
op_x_float4_out(float v, char buf[32])
{
    return (int)eng_float4_shortest(v, buf);
}

/* ------------------------------------------------------------------ text forms */

static const uint8_t *const bool_words[2][2] = {
    {(const uint8_t *)"false", (const uint8_t *)"true"},
    {(const uint8_t *)"f", (const uint8_t *)"t"},
};

int
op_x_to_text(op_eval *ev, const op_val *v, bool outfn, op_val *r, eng_err *err)
{
    char buf[ENG_FLOAT_SHORTEST_MAX > 32 ? ENG_FLOAT_SHORTEST_MAX : 32];
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
        n = (int)eng_float4_shortest((float)v->u.f, buf);
        break;
    case ENG_TAG_FLOAT8:
        n = (int)eng_float8_shortest(v->u.f, buf);
        break;
    default: {
        /* Every other tag names one type; its output function. */
        eng_type t = op_type_full(op_x_type_of_tag(v->tag));
        uint8_t small[8];
        char storage[128];
        eng_strbuf sb;
        eng_strbuf_init_on(&sb, storage, sizeof storage);
        eng_text_format(&t, op_x_datum(v, small), &sb);
        uint8_t *p = op_x_alloc(ev, sb.len, err);
        if (p != NULL) {
            memcpy(p, sb.data, sb.len);
            op_x_str(r, p, (uint32_t)sb.len);
        }
        eng_strbuf_free(&sb);
        return p ? 0 : -1;
    }
    }
    uint8_t *p = op_x_alloc(ev, (size_t)n, err);
    if (p == NULL)
        return -1;
    memcpy(p, buf, (size_t)n);
    op_x_str(r, p, (uint32_t)n);
    return 0;
}

/* ------------------------------------------------------------------ inline casts */

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
    op_x_int(r, in->rtag, x);
    return 0;
}

static int
c_int_float(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    double v = in->rtype == OP_T_FLOAT4 ? (double)(float)a[0].u.i : (double)a[0].u.i;
    op_x_float(r, in->rtag, v);
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
    op_x_int(r, in->rtag, (int64_t)v);
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
    op_x_float(r, in->rtag, v);
    return 0;
}

static int
c_bool_int(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    op_x_int(r, in->rtag, a[0].tag == ENG_TAG_TRUE);
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

static int
c_from_text(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    const char *s = (const char *)a[0].u.p;
    size_t n = a[0].len;
    switch (in->rtype) {
    case OP_T_BOOL: {
        bool b = false;
        if (eng_bool_parse(s, n, &b, err))
            return -1;
        op_x_bool(r, b);
        return 0;
    }
    case OP_T_INT2:
    case OP_T_INT4:
    case OP_T_INT8: {
        int64_t v = 0;
        int bits = in->rtype == OP_T_INT2 ? 16 : in->rtype == OP_T_INT4 ? 32 : 64;
        if (eng_int_parse(s, n, bits, &v, err))
            return -1;
        op_x_int(r, in->rtag, v);
        return 0;
    }
    case OP_T_FLOAT4: {
        float f = 0;
        if (eng_float4_parse(s, n, &f, err))
            return -1;
        op_x_float(r, in->rtag, f);
        return 0;
    }
    default: {
        double v = 0;
        if (eng_float8_parse(s, n, &v, err))
            return -1;
        op_x_float(r, in->rtag, v);
        return 0;
    }
    }
}

static bool
basic(op_type t)
{
    return t == OP_T_BOOL || op_x_is_int(t) || op_x_is_float(t) || t == OP_T_TEXT;
}

op_x_fn
op_x_cast_impl(op_type from, op_type to)
{
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

/* ------------------------------------------------------------------ library casts */

int
op_x_cast_lib(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    uint8_t small[8];
    eng_type from = op_type_full(in->cfrom);
    eng_rowbuf_reset(&ev->tmp);
    if (eng_cast(&from, &in->ctype, op_x_datum(&a[0], small), &ev->tmp, err))
        return -1;
    return op_x_take_tmp(ev, in->rtype, r, err);
}
