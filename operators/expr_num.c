/* Scalar expressions: arithmetic, comparisons and conditionals (NULLIF,
 * GREATEST/LEAST, IN, IS DISTINCT FROM), with their type resolution.
 *
 * Notes: types follow PostgreSQL's operator resolution for the built-in
 * numeric types: int op int gives the wider int type (int2 + int2 is
 * int2: overflow is checked against the result type), float4 op float4
 * gives float4 (computed in single precision), any other int/float mix
 * gives float8. Integer arithmetic runs in int64 with overflow builtins,
 * then checks the result type's range. Float results follow PostgreSQL's
 * checks: an infinite result from finite operands overflows, a zero
 * product or quotient of non-zero finite operands underflows (22003). */
#include <math.h>
#include <stdio.h>

#include "engine/core/eng_cmp.h"
#include "engine/core/eng_numeric.h"
#include "operators/expr_int.h"

enum { A_ADD, A_SUB, A_MUL, A_DIV, A_MOD };

static int
int_range_err(op_type t, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "%s out of range",
                       t == OP_T_INT2   ? "smallint"
                       : t == OP_T_INT4 ? "integer"
                                        : "bigint");
}

static bool
int_fits(op_type t, int64_t v)
{
    if (t == OP_T_INT2)
        return v >= INT16_MIN && v <= INT16_MAX;
    if (t == OP_T_INT4)
        return v >= INT32_MIN && v <= INT32_MAX;
    return true;
}

static int
div_zero(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_DIVISION_BY_ZERO, "division by zero");
}

static int
x_arith_int(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    int64_t x = a[0].u.i, y = a[1].u.i, v = 0;
    bool ovf = false;
    switch (in->aux8) {
    case A_ADD:
        ovf = __builtin_add_overflow(x, y, &v);
        break;
    case A_SUB:
        ovf = __builtin_sub_overflow(x, y, &v);
        break;
    case A_MUL:
        ovf = __builtin_mul_overflow(x, y, &v);
        break;
    case A_DIV:
        if (y == 0)
            return div_zero(err);
        if (y == -1) /* INT_MIN / -1 overflows (and traps in C) */
            ovf = __builtin_sub_overflow((int64_t)0, x, &v);
        else
            v = x / y;
        break;
    case A_MOD:
        if (y == 0)
            return div_zero(err);
        v = y == -1 ? 0 : x % y; /* INT_MIN % -1 is 0, not a trap */
        break;
    }
    if (ovf || !int_fits(in->rtype, v))
        return int_range_err(in->rtype, err);
    op_x_int(r, in->rtag, v);
    return 0;
}

static int
overflow(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "value out of range: overflow");
}

static int
underflow(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                       "value out of range: underflow");
}

/* float8 arithmetic (float4 in single precision when in->rtype is float4). */
static int
x_arith_float(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    double x = op_x_num_f(&a[0]), y = op_x_num_f(&a[1]), v = 0;
    bool f4 = in->rtype == OP_T_FLOAT4;
    switch (in->aux8) {
    case A_ADD:
        v = f4 ? (double)((float)x + (float)y) : x + y;
        if (isinf(v) && !isinf(x) && !isinf(y))
            return overflow(err);
        break;
    case A_SUB:
        v = f4 ? (double)((float)x - (float)y) : x - y;
        if (isinf(v) && !isinf(x) && !isinf(y))
            return overflow(err);
        break;
    case A_MUL:
        v = f4 ? (double)((float)x * (float)y) : x * y;
        if (isinf(v) && !isinf(x) && !isinf(y))
            return overflow(err);
        if (v == 0.0 && x != 0.0 && y != 0.0)
            return underflow(err);
        break;
    case A_DIV:
        if (y == 0.0 && !isnan(x))
            return div_zero(err);
        v = f4 ? (double)((float)x / (float)y) : x / y;
        if (isinf(v) && !isinf(x))
            return overflow(err);
        if (v == 0.0 && x != 0.0 && !isinf(y))
            return underflow(err);
        break;
    }
    op_x_float(r, in->rtag, v);
    return 0;
}

static int64_t
int_min(op_type t)
{
    return t == OP_T_INT2 ? INT16_MIN : t == OP_T_INT4 ? INT32_MIN : INT64_MIN;
}

/* aux8: 0 negate, 1 abs */
static int
x_neg_int(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    int64_t x = a[0].u.i;
    if (x == int_min(in->rtype))
        return int_range_err(in->rtype, err);
    op_x_int(r, in->rtag, in->aux8 && x >= 0 ? x : -x);
    return 0;
}

static int
x_neg_float(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    op_x_float(r, in->rtag, in->aux8 ? fabs(a[0].u.f) : -a[0].u.f);
    return 0;
}

/* numeric arithmetic through the type library (both arguments numeric). */
static int
x_arith_numeric(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    uint8_t b0[8], b1[8];
    eng_numeric x, y, z;
    eng_numeric_init(&x);
    eng_numeric_init(&y);
    eng_numeric_init(&z);
    eng_numeric_from_datum(op_x_datum(&a[0], b0), &x);
    int rc;
    if (in->nargs == 1) { /* aux8: 0 negate, 1 abs */
        eng_numeric_copy(&z, &x);
        if (in->aux8)
            eng_numeric_abs(&z);
        else
            eng_numeric_neg(&z);
        rc = 0;
    } else {
        eng_numeric_from_datum(op_x_datum(&a[1], b1), &y);
        switch (in->aux8) {
        case A_ADD:
            rc = eng_numeric_add(&x, &y, &z, err);
            break;
        case A_SUB:
            rc = eng_numeric_sub(&x, &y, &z, err);
            break;
        case A_MUL:
            rc = eng_numeric_mul(&x, &y, &z, err);
            break;
        case A_DIV:
            rc = eng_numeric_div(&x, &y, &z, err);
            break;
        default:
            rc = eng_numeric_mod(&x, &y, &z, err);
            break;
        }
    }
    if (rc == 0) {
        eng_rowbuf_reset(&ev->tmp);
        eng_numeric_push(&ev->tmp, &z);
        rc = op_x_take_tmp(ev, in->rtype, r, err);
    }
    eng_numeric_free(&x);
    eng_numeric_free(&y);
    eng_numeric_free(&z);
    return rc;
}

/* ------------------------------------------------------------------ comparisons */

int
op_x_cmp(const op_val *a, const op_val *b, bool bpchar)
{
    if (op_x_tag_is_int(a->tag) && op_x_tag_is_int(b->tag))
        return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
    if ((op_x_tag_is_int(a->tag) || op_x_tag_is_float(a->tag)) &&
        (op_x_tag_is_int(b->tag) || op_x_tag_is_float(b->tag))) {
        /* PostgreSQL compares int with float as float8, NaN above all. */
        double x = op_x_num_f(a), y = op_x_num_f(b);
        if (isnan(x) || isnan(y))
            return isnan(x) ? (isnan(y) ? 0 : 1) : -1;
        return x < y ? -1 : x > y;
    }
    uint8_t ba[8], bb[8];
    if (bpchar) {
        static const eng_type bp = {ENG_TYPE_BPCHAR, ENG_TYPMOD_NONE};
        return eng_datum_cmp_typed(&bp, op_x_datum(a, ba), op_x_datum(b, bb));
    }
    return eng_datum_cmp(op_x_datum(a, ba), op_x_datum(b, bb));
}

static bool
cmp_holds(int kind, int c)
{
    switch (kind) {
    case OP_X_EQ:
        return c == 0;
    case OP_X_NE:
        return c != 0;
    case OP_X_LT:
        return c < 0;
    case OP_X_LE:
        return c <= 0;
    case OP_X_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

int
op_x_compare(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    op_x_bool(r, cmp_holds(in->aux8, op_x_cmp(&a[0], &a[1], in->flags & OP_X_F_BPCHAR)));
    return 0;
}

/* aux8: 1 for IS NOT DISTINCT FROM */
static int
x_distinct(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    bool na = a[0].tag == ENG_TAG_NULL, nb = a[1].tag == ENG_TAG_NULL;
    bool distinct = na || nb ? na != nb : op_x_cmp(&a[0], &a[1], in->flags & OP_X_F_BPCHAR) != 0;
    op_x_bool(r, in->aux8 ? !distinct : distinct);
    return 0;
}

/* aux8: 1 greatest, 0 least. The first of equal values wins, as in
 * PostgreSQL (it only replaces on a strict improvement). */
static int
x_minmax(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    int best = -1;
    for (int i = 0; i < in->nargs; i++) {
        if (a[i].tag == ENG_TAG_NULL)
            continue;
        if (best < 0) {
            best = i;
            continue;
        }
        int c = op_x_cmp(&a[i], &a[best], in->flags & OP_X_F_BPCHAR);
        if (in->aux8 ? c > 0 : c < 0)
            best = i;
    }
    if (best < 0)
        op_x_null(r);
    else
        *r = a[best];
    return 0;
}

static int
x_nullif(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    if (a[0].tag != ENG_TAG_NULL && a[1].tag != ENG_TAG_NULL &&
        op_x_cmp(&a[0], &a[1], in->flags & OP_X_F_BPCHAR) == 0)
        op_x_null(r);
    else
        *r = a[0];
    return 0;
}

/* a[0] IN (a[1..]); aux8: 1 for NOT IN. SQL's rule: TRUE if some element
 * equals, else NULL if the left side or some element is NULL, else FALSE. */
static int
x_in(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    if (a[0].tag == ENG_TAG_NULL) {
        op_x_null(r);
        return 0;
    }
    bool saw_null = false;
    for (int i = 1; i < in->nargs; i++) {
        if (a[i].tag == ENG_TAG_NULL) {
            saw_null = true;
        } else if (op_x_cmp(&a[0], &a[i], in->flags & OP_X_F_BPCHAR) == 0) {
            op_x_bool(r, !in->aux8);
            return 0;
        }
    }
    if (saw_null)
        op_x_null(r);
    else
        op_x_bool(r, in->aux8);
    return 0;
}

/* ------------------------------------------------------------------ resolution */

/* Rank in PostgreSQL's implicit-cast order within a category: a value
 * of lower rank converts implicitly to a higher one. 0: not ranked. */
static int
num_rank(op_type t)
{
    switch (t) {
    case OP_T_INT2:
        return 1;
    case OP_T_INT4:
        return 2;
    case OP_T_INT8:
        return 3;
    case OP_T_NUMERIC:
        return 4;
    case OP_T_FLOAT4:
        return 5;
    case OP_T_FLOAT8:
        return 6;
    default:
        return 0;
    }
}

static int
time_rank(op_type t)
{
    return t == OP_T_DATE ? 1 : t == OP_T_TIMESTAMP ? 2 : t == OP_T_TIMESTAMPTZ ? 3 : 0;
}

static bool
text_like(op_type t)
{
    return t == OP_T_TEXT || t == OP_T_VARCHAR || t == OP_T_OTHER;
}

int
op_x_comparable(op_type a, op_type b, const char *opname, op_type *ca, op_type *cb, bool *bpchar,
                eng_err *err)
{
    *ca = *cb = OP_T_UNKNOWN;
    *bpchar = false;
    if (a == OP_T_UNKNOWN || b == OP_T_UNKNOWN || a == b) {
        *bpchar = a == OP_T_BPCHAR && b == OP_T_BPCHAR;
        return 0;
    }
    int na = num_rank(a), nb = num_rank(b);
    if (na && nb) {
        /* int vs int and int vs float compare natively; numeric meets ints
         * as numeric and floats as float8 */
        if (a == OP_T_NUMERIC || b == OP_T_NUMERIC) {
            op_type t = op_x_is_float(a) || op_x_is_float(b) ? OP_T_FLOAT8 : OP_T_NUMERIC;
            *ca = a == t ? OP_T_UNKNOWN : t;
            *cb = b == t ? OP_T_UNKNOWN : t;
        }
        return 0;
    }
    int ta = time_rank(a), tb = time_rank(b);
    if (ta && tb) {
        op_type t = ta > tb ? a : b;
        *ca = a == t ? OP_T_UNKNOWN : t;
        *cb = b == t ? OP_T_UNKNOWN : t;
        return 0;
    }
    bool sa = text_like(a) || a == OP_T_BPCHAR, sb = text_like(b) || b == OP_T_BPCHAR;
    if (sa && sb) { /* char(n) meets text as text; varchar is text */
        *ca = a == OP_T_BPCHAR ? OP_T_TEXT : OP_T_UNKNOWN;
        *cb = b == OP_T_BPCHAR ? OP_T_TEXT : OP_T_UNKNOWN;
        return 0;
    }
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: %s %s %s",
                       op_type_name(a), opname, op_type_name(b));
}

int
op_x_common_type(const op_type *ts, int n, const char *what, op_type *out, eng_err *err)
{
    op_type t = OP_T_UNKNOWN;
    for (int i = 0; i < n; i++) {
        op_type u = ts[i];
        if (u == OP_T_UNKNOWN || u == t)
            continue;
        if (t == OP_T_UNKNOWN) {
            t = u;
        } else if (num_rank(t) && num_rank(u)) {
            /* PostgreSQL's select_common_type in the numeric category: the
             * type every other converts to implicitly */
            t = num_rank(u) > num_rank(t) ? u : t;
        } else if (time_rank(t) && time_rank(u)) {
            t = time_rank(u) > time_rank(t) ? u : t;
        } else if ((text_like(t) || t == OP_T_BPCHAR) && (text_like(u) || u == OP_T_BPCHAR)) {
            t = OP_T_TEXT; /* the preferred string type */
        } else {
            return eng_err_set(err, ENG_ERRCODE_DATATYPE_MISMATCH,
                               "%s types %s and %s cannot be matched", what, op_type_name(t),
                               op_type_name(u));
        }
    }
    *out = t == OP_T_UNKNOWN ? OP_T_TEXT : t; /* all unknown: text, as PostgreSQL */
    return 0;
}

static int
arity(op_expr *e, const char *want, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "%s takes %s, not %d argument%s",
                       op_fn_name(e->fn), want, e->nargs, e->nargs == 1 ? "" : "s");
}

static int
resolve_arith(op_expr *e, const op_type *at, eng_err *err)
{
    const char *name = op_fn_name(e->fn);
    if (e->nargs != 2)
        return arity(e, "two arguments", err);
    op_type a = at[0], b = at[1];
    if (a == OP_T_UNKNOWN && b == OP_T_UNKNOWN)
        return eng_err_set(err, ENG_ERRCODE_AMBIGUOUS_FUNCTION,
                           "operator is not unique: unknown %s unknown", name);
    if (a == OP_T_UNKNOWN)
        a = b;
    if (b == OP_T_UNKNOWN)
        b = a;
    bool ok = op_x_is_num(a) && op_x_is_num(b);
    bool anyfloat = op_x_is_float(a) || op_x_is_float(b);
    if (ok && e->fn == OP_MOD && anyfloat)
        ok = false;
    if (!ok)
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: %s %s %s",
                           op_type_name(at[0]), name, op_type_name(at[1]));
    e->impl_strict = true;
    e->impl_aux8 = (uint8_t)(e->fn - OP_ADD);
    op_type *w = op_x_want(e);
    if (op_x_is_int(a) && op_x_is_int(b)) {
        e->rtype = a > b ? a : b;
        e->impl_fn = x_arith_int;
    } else if (!anyfloat) { /* numeric with ints: numeric */
        e->rtype = OP_T_NUMERIC;
        e->impl_fn = x_arith_numeric;
        w[0] = w[1] = OP_T_NUMERIC;
    } else {
        e->rtype = a == OP_T_FLOAT4 && b == OP_T_FLOAT4 ? OP_T_FLOAT4 : OP_T_FLOAT8;
        e->impl_fn = x_arith_float;
        /* ints are read as doubles directly; numeric goes through float8 */
        for (int i = 0; i < 2; i++)
            if (at[i] == OP_T_NUMERIC)
                w[i] = OP_T_FLOAT8;
    }
    return 0;
}

static int
resolve_unary(op_expr *e, const op_type *at, eng_err *err)
{
    bool neg = e->fn == OP_NEG;
    if (e->nargs != 1)
        return arity(e, "one argument", err);
    op_type a = at[0];
    if (a == OP_T_UNKNOWN)
        return eng_err_set(err, ENG_ERRCODE_AMBIGUOUS_FUNCTION, "%s is not unique: %sunknown",
                           neg ? "operator" : "function", neg ? "- " : "abs ");
    if (!op_x_is_num(a)) {
        if (neg)
            return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: - %s",
                               op_type_name(a));
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "function abs(%s) does not exist",
                           op_type_name(a));
    }
    e->rtype = a;
    e->impl_fn = op_x_is_int(a) ? x_neg_int : a == OP_T_NUMERIC ? x_arith_numeric : x_neg_float;
    e->impl_strict = true;
    e->impl_aux8 = !neg;
    return 0;
}

/* Unifies all arguments to their common type (CASE-like constructs). */
static int
unify(op_expr *e, const op_type *at, int from, const char *what, eng_err *err)
{
    op_type t;
    if (op_x_common_type(at + from, e->nargs - from, what, &t, err))
        return -1;
    op_type *w = op_x_want(e);
    for (int i = from; i < e->nargs; i++)
        w[i] = t;
    e->rtype = t;
    e->impl_flags = t == OP_T_BPCHAR ? OP_X_F_BPCHAR : 0;
    return 0;
}

int
op_x_resolve_num(op_expr *e, const op_type *at, eng_err *err)
{
    int rc = op_x_resolve_date(e, at, err);
    if (rc <= 0)
        return rc;
    switch (e->fn) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
        return resolve_arith(e, at, err);
    case OP_NEG:
    case OP_ABS:
        return resolve_unary(e, at, err);
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
    case OP_DISTINCT:
    case OP_NOT_DISTINCT: {
        if (e->nargs != 2)
            return arity(e, "two arguments", err);
        bool distinct = e->fn == OP_DISTINCT || e->fn == OP_NOT_DISTINCT;
        op_type *w = op_x_want(e);
        bool bp;
        if (op_x_comparable(at[0], at[1], distinct ? "=" : op_fn_name(e->fn), &w[0], &w[1], &bp,
                            err))
            return -1;
        e->impl_flags = bp ? OP_X_F_BPCHAR : 0;
        e->rtype = OP_T_BOOL;
        if (distinct) {
            e->impl_fn = x_distinct;
            e->impl_aux8 = e->fn == OP_NOT_DISTINCT;
        } else {
            e->impl_fn = op_x_compare;
            e->impl_strict = true;
            e->impl_aux8 = (uint8_t)(OP_X_EQ + (e->fn - OP_EQ));
        }
        return 0;
    }
    case OP_COALESCE:
        if (e->nargs < 1)
            return arity(e, "at least one argument", err);
        return unify(e, at, 0, "COALESCE", err);
    case OP_GREATEST:
    case OP_LEAST:
        if (e->nargs < 1)
            return arity(e, "at least one argument", err);
        if (unify(e, at, 0, e->fn == OP_GREATEST ? "GREATEST" : "LEAST", err))
            return -1;
        e->impl_fn = x_minmax;
        e->impl_aux8 = e->fn == OP_GREATEST;
        return 0;
    case OP_NULLIF: {
        if (e->nargs != 2)
            return arity(e, "two arguments", err);
        op_type ca, cb;
        bool bp;
        if (op_x_comparable(at[0], at[1], "=", &ca, &cb, &bp, err))
            return -1;
        /* The type of the left input of the `=` PostgreSQL resolves: an
         * int compared with a float is compared (and returned) as float8. */
        op_type t = ca != OP_T_UNKNOWN ? ca : at[0];
        if (op_x_is_int(at[0]) && op_x_is_float(at[1]))
            t = OP_T_FLOAT8;
        if (t == OP_T_UNKNOWN)
            t = at[1] != OP_T_UNKNOWN ? at[1] : OP_T_TEXT;
        op_type *w = op_x_want(e);
        w[0] = t;
        w[1] = cb;
        e->rtype = t;
        e->impl_fn = x_nullif;
        e->impl_flags = bp ? OP_X_F_BPCHAR : 0;
        return 0;
    }
    case OP_IN:
    case OP_NOT_IN:
        if (e->nargs < 2)
            return arity(e, "a value and at least one list element", err);
        if (unify(e, at, 0, "IN", err))
            return -1;
        e->rtype = OP_T_BOOL;
        e->impl_fn = x_in;
        e->impl_aux8 = e->fn == OP_NOT_IN;
        return 0;
    default:
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "function %s does not exist",
                           op_fn_name(e->fn));
    }
}
