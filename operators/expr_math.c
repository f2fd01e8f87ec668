/* Scalar expressions: mathematical functions (power, roots, logarithms,
 * rounding, trigonometry, gcd/lcm), with PostgreSQL's type resolution.
 *
 * Notes: the float8 versions call the C library, as PostgreSQL does on the
 * same platform, so results agree bit for bit; around the call they apply
 * PostgreSQL's checks (domain errors 2201E/2201F, "input is out of range",
 * overflow and underflow 22003). The numeric versions are exact: floor,
 * ceil, round, trunc and sign by digit manipulation; sqrt by an integer
 * square root of the argument scaled to the result scale PostgreSQL picks
 * (at least 16 significant digits, never fewer than the argument's
 * scale), correctly rounded; power for integer exponents by exact
 * multiplication rounded to PostgreSQL's result scale (16 decimals, or
 * the base's scale). numeric exp, ln,
 * log and power with a non-integer exponent are not implemented (0A000,
 * with a hint to cast to double precision): matching PostgreSQL's digits
 * there needs its series evaluation, which we have not written.
 * Resolution: an integer or float argument selects the float8 version,
 * numeric the numeric one (as PostgreSQL, whose preferred numeric type is
 * float8); abs stays in expr_num.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/core/eng_numeric.h"
#include "operators/expr_int.h"

/* Function kinds (instruction aux8). */
enum {
    M_SQRT,
    M_CBRT,
    M_EXP,
    M_LN,
    M_LOG10,
    M_FLOOR,
    M_CEIL,
    M_ROUND,
    M_TRUNC,
    M_SIGN,
    M_DEGREES,
    M_RADIANS,
    M_SIN,
    M_COS,
    M_TAN,
    M_COT,
    M_ASIN,
    M_ACOS,
    M_ATAN,
};

/* PostgreSQL's float8 constant for degrees/radians (to its last digit, so
 * the products round the same way). */
#define RADIANS_PER_DEGREE 0.0174532925199432957692

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

static int
out_of_range(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "input is out of range");
}

static int
neg_sqrt(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                       "cannot take square root of a negative number");
}

static int
log_domain(double x, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_ARGUMENT_FOR_LOG,
                       x == 0 ? "cannot take logarithm of zero"
                              : "cannot take logarithm of a negative number");
}

/* ------------------------------------------------------------------ float8 */

static int
x_float1(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    double x = op_x_num_f(&a[0]), v = 0;
    switch (in->aux8) {
    case M_SQRT:
        if (x < 0)
            return neg_sqrt(err);
        v = sqrt(x);
        break;
    case M_CBRT:
        v = cbrt(x);
        break;
    case M_EXP:
        if (isnan(x) || isinf(x)) {
            v = x < 0 ? 0.0 : x;
            break;
        }
        errno = 0;
        v = exp(x);
        if (errno == ERANGE && v != 0)
            return overflow(err);
        if (isinf(v))
            return overflow(err);
        if (v == 0.0)
            return underflow(err);
        break;
    case M_LN:
    case M_LOG10:
        if (x <= 0)
            return log_domain(x, err);
        v = in->aux8 == M_LN ? log(x) : log10(x);
        if (isinf(v) && !isinf(x))
            return overflow(err);
        if (v == 0.0 && x != 1.0)
            return underflow(err);
        break;
    case M_FLOOR:
        v = floor(x);
        break;
    case M_CEIL:
        v = ceil(x);
        break;
    case M_ROUND:
        v = rint(x); /* half to even, as PostgreSQL's float8 round */
        break;
    case M_TRUNC:
        v = trunc(x);
        break;
    case M_SIGN:
        v = x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
        break;
    case M_DEGREES:
        v = x / RADIANS_PER_DEGREE;
        if (isinf(v) && !isinf(x))
            return overflow(err);
        if (v == 0.0 && x != 0.0)
            return underflow(err);
        break;
    case M_RADIANS:
        v = x * RADIANS_PER_DEGREE;
        if (isinf(v) && !isinf(x))
            return overflow(err);
        if (v == 0.0 && x != 0.0)
            return underflow(err);
        break;
    case M_SIN:
    case M_COS:
    case M_TAN:
    case M_COT:
        if (isnan(x)) {
            v = x;
            break;
        }
        if (isinf(x))
            return out_of_range(err);
        v = in->aux8 == M_SIN ? sin(x) : in->aux8 == M_COS ? cos(x) : tan(x);
        if (in->aux8 == M_COT)
            v = 1.0 / v; /* cot(0) is Infinity, as in PostgreSQL */
        else if (isinf(v) && in->aux8 != M_TAN)
            return overflow(err);
        break;
    case M_ASIN:
    case M_ACOS:
        if (isnan(x)) {
            v = x;
            break;
        }
        if (x < -1.0 || x > 1.0)
            return out_of_range(err);
        v = in->aux8 == M_ASIN ? asin(x) : acos(x);
        break;
    case M_ATAN:
        v = isnan(x) ? x : atan(x);
        break;
    default:
        ENG_UNREACHABLE("bad math function");
    }
    op_x_float(r, ENG_TAG_FLOAT8, v);
    return 0;
}

static bool
is_odd_integer(double y)
{
    return isfinite(y) && floor(y) == y && fmod(fabs(y), 2.0) == 1.0;
}

/* x ^ y with PostgreSQL's special cases: NaN absorbs everything except
 * NaN ^ 0 = 1 and 1 ^ NaN = 1; infinite operands follow POSIX pow(); the
 * domain errors are 2201F. */
static int
float_pow(double x, double y, double *out, eng_err *err)
{
    if (isnan(x) || isnan(y)) {
        *out = (isnan(x) && y == 0) || (isnan(y) && x == 1.0) ? 1.0 : NAN;
        return 0;
    }
    if (x == 0 && y < 0)
        return eng_err_set(err, ENG_ERRCODE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                           "zero raised to a negative power is undefined");
    if (x < 0 && isfinite(y) && floor(y) != y)
        return eng_err_set(err, ENG_ERRCODE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                           "a negative number raised to a non-integer power yields a complex "
                           "result");
    if (isinf(y)) {
        double ax = fabs(x);
        *out = ax == 1.0 ? 1.0 : (ax > 1.0) == (y > 0) ? INFINITY : 0.0;
        return 0;
    }
    if (isinf(x)) {
        if (y == 0) {
            *out = 1.0;
        } else if (x > 0) {
            *out = y > 0 ? INFINITY : 0.0;
        } else {
            bool odd = is_odd_integer(y);
            *out = y > 0 ? (odd ? -INFINITY : INFINITY) : (odd ? -0.0 : 0.0);
        }
        return 0;
    }
    errno = 0;
    double v = pow(x, y);
    if (errno == ERANGE && v != 0)
        return overflow(err);
    if (isinf(v))
        return overflow(err);
    if (v == 0.0 && x != 0.0)
        return underflow(err);
    *out = v;
    return 0;
}

static int
x_float_pow(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in;
    double v = 0;
    if (float_pow(op_x_num_f(&a[0]), op_x_num_f(&a[1]), &v, err))
        return -1;
    op_x_float(r, ENG_TAG_FLOAT8, v);
    return 0;
}

static int
x_atan2(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    double y = op_x_num_f(&a[0]), x = op_x_num_f(&a[1]);
    op_x_float(r, ENG_TAG_FLOAT8, isnan(x) || isnan(y) ? NAN : atan2(y, x));
    return 0;
}

static int
x_pi(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)a, (void)err;
    op_x_float(r, ENG_TAG_FLOAT8, 3.14159265358979323846);
    return 0;
}

/* ------------------------------------------------------------------ integers */

static int
int_range_err(op_type t, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "%s out of range",
                       t == OP_T_INT4 ? "integer" : "bigint");
}

/* gcd / lcm (aux8 1) of int4 or int8 (in->rtype). The result must be
 * representable: gcd(INT_MIN, 0) and gcd(INT_MIN, INT_MIN) overflow. */
static int
x_gcd(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    int64_t x = a[0].u.i, y = a[1].u.i;
    int64_t lo = in->rtype == OP_T_INT4 ? INT32_MIN : INT64_MIN;
    int64_t hi = in->rtype == OP_T_INT4 ? INT32_MAX : INT64_MAX;
    /* Work on non-positive values so INT64_MIN needs no negation. */
    int64_t p = x > 0 ? -x : x, q = y > 0 ? -y : y;
    while (q != 0) {
        int64_t t = q == -1 ? 0 : p % q; /* INT64_MIN % -1 traps */
        p = q;
        q = t;
    }
    int64_t g = p; /* -gcd, <= 0 */
    if (in->aux8 == 0) {
        if (g < -hi)
            return int_range_err(in->rtype, err);
        op_x_int(r, in->rtag, -g);
        return 0;
    }
    if (x == 0 || y == 0) {
        op_x_int(r, in->rtag, 0);
        return 0;
    }
    if (g < -hi)
        return int_range_err(in->rtype, err);
    int64_t v;
    if (__builtin_mul_overflow(x / -g, y, &v) || v < lo || v > hi || v == lo)
        return int_range_err(in->rtype, err);
    op_x_int(r, in->rtag, v < 0 ? -v : v);
    return 0;
}

/* ------------------------------------------------------------------ numeric */

static void
num_get(const op_val *v, eng_numeric *n)
{
    uint8_t b[8];
    eng_numeric_from_datum(op_x_datum(v, b), n);
}

static int
num_put(op_eval *ev, const eng_numeric *n, op_val *r, eng_err *err)
{
    eng_rowbuf_reset(&ev->tmp);
    eng_numeric_push(&ev->tmp, n);
    return op_x_take_tmp(ev, OP_T_NUMERIC, r, err);
}

/* 10^e as a numeric (e may be negative). */
static void
num_pow10(eng_numeric *n, int e)
{
    char buf[32];
    int len = snprintf(buf, sizeof buf, "1e%d", e);
    eng_err tmp;
    eng_err_clear(&tmp);
    int rc = eng_numeric_parse(buf, (size_t)len, -1, n, &tmp);
    ENG_ASSERT(rc == 0);
}

/* floor / ceil (dscale 0) of a finite value. */
static int
num_floor_ceil(eng_numeric *x, bool ceil_, eng_err *err)
{
    eng_numeric t, one;
    eng_numeric_init(&t);
    eng_numeric_init(&one);
    eng_numeric_copy(&t, x);
    eng_numeric_trunc(&t, 0);
    int rc = 0;
    if (eng_numeric_cmp(&t, x) != 0 && (x->sign == ENG_NUMERIC_NEG) != ceil_) {
        eng_numeric_from_int64(&one, ceil_ ? 1 : -1);
        rc = eng_numeric_add(&t, &one, &t, err);
    }
    eng_numeric_copy(x, &t);
    x->dscale = 0;
    eng_numeric_free(&t);
    eng_numeric_free(&one);
    return rc;
}

/* floor(n)^.5 of a non-negative integer n by Newton's iteration from
 * above (y' = (y + n / y) / 2, floors throughout, stops when it no longer
 * decreases). */
static int
num_isqrt(const eng_numeric *n, eng_numeric *out, eng_err *err)
{
    eng_numeric y, q, t, half;
    eng_numeric_init(&y);
    eng_numeric_init(&q);
    eng_numeric_init(&t);
    eng_numeric_init(&half);
    int rc = 0;
    /* 10^ceil(digits / 2) >= sqrt(n) */
    num_pow10(&y, ((n->weight + 1) * ENG_NUMERIC_DEC_DIGITS + 1) / 2);
    rc = eng_numeric_parse("0.5", 3, -1, &half, err);
    ENG_ASSERT(rc == 0);
    for (;;) {
        /* q = floor(n / y): rounded quotient, corrected downward */
        if ((rc = eng_numeric_div_scale(n, &y, 0, &q, err)) != 0)
            goto done;
        if ((rc = eng_numeric_mul(&q, &y, &t, err)) != 0)
            goto done;
        if (eng_numeric_cmp(&t, n) > 0) {
            eng_numeric_from_int64(&t, 1);
            if ((rc = eng_numeric_sub(&q, &t, &q, err)) != 0)
                goto done;
        }
        if ((rc = eng_numeric_add(&q, &y, &t, err)) != 0 ||
            (rc = eng_numeric_mul(&t, &half, &t, err)) != 0)
            goto done;
        eng_numeric_trunc(&t, 0);
        if (eng_numeric_cmp(&t, &y) >= 0)
            break;
        eng_numeric_copy(&y, &t);
    }
    eng_numeric_copy(out, &y);
done:
    eng_numeric_free(&y);
    eng_numeric_free(&q);
    eng_numeric_free(&t);
    eng_numeric_free(&half);
    return rc;
}

static int
clamp_scale(int s)
{
    return s < 0 ? 0 : s > ENG_NUMERIC_MAX_SCALE ? ENG_NUMERIC_MAX_SCALE : s;
}

/* sqrt of a finite non-negative value, rounded to PostgreSQL's result
 * scale: 16 significant digits from the estimated weight of the root,
 * at least the argument's scale. */
static int
num_sqrt(const eng_numeric *x, eng_numeric *res, eng_err *err)
{
    int sweight = (x->weight + 1) * ENG_NUMERIC_DEC_DIGITS / 2 - 1;
    int rscale = 16 - sweight;
    if (rscale < x->dscale)
        rscale = x->dscale;
    rscale = clamp_scale(rscale);
    if (eng_numeric_is_zero(x)) {
        eng_numeric_set_zero(res, rscale);
        return 0;
    }
    eng_numeric n, p;
    eng_numeric_init(&n);
    eng_numeric_init(&p);
    num_pow10(&p, 2 * (rscale + 1));
    int rc = eng_numeric_mul(x, &p, &n, err);
    if (rc == 0) {
        eng_numeric_trunc(&n, 0);
        rc = num_isqrt(&n, &n, err);
    }
    if (rc == 0) {
        num_pow10(&p, -(rscale + 1));
        rc = eng_numeric_mul(&n, &p, res, err);
    }
    if (rc == 0)
        eng_numeric_round(res, rscale);
    eng_numeric_free(&n);
    eng_numeric_free(&p);
    return rc;
}

static int
not_supported(const char *what, eng_err *err)
{
    eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "%s is not supported yet", what);
    eng_err_hint(err, "Cast the arguments to double precision.");
    return -1;
}

/* base ^ exp for an integer exp: exact, rounded to PostgreSQL's result
 * scale for integer exponents (16 digits after the point, or the base's
 * scale if larger). */
static int
num_pow_int(const eng_numeric *base, int64_t e, eng_numeric *res, eng_err *err)
{
    int rscale = clamp_scale(base->dscale > 16 ? base->dscale : 16);
    uint64_t m = e < 0 ? (uint64_t)0 - (uint64_t)e : (uint64_t)e;
    eng_numeric acc, sq;
    eng_numeric_init(&acc);
    eng_numeric_init(&sq);
    eng_numeric_from_int64(&acc, 1);
    eng_numeric_copy(&sq, base);
    int rc = 0;
    /* exact square-and-multiply: the format's limits (22003) bound it */
    while (m > 0 && rc == 0) {
        if (m & 1)
            rc = eng_numeric_mul(&acc, &sq, &acc, err);
        m >>= 1;
        if (m > 0 && rc == 0)
            rc = eng_numeric_mul(&sq, &sq, &sq, err);
    }
    if (rc == 0) {
        if (e < 0) {
            eng_numeric one;
            eng_numeric_init(&one);
            eng_numeric_from_int64(&one, 1);
            rc = eng_numeric_div_scale(&one, &acc, rscale, res, err);
            eng_numeric_free(&one);
        } else {
            eng_numeric_copy(res, &acc);
            eng_numeric_round(res, rscale);
        }
    }
    eng_numeric_free(&acc);
    eng_numeric_free(&sq);
    return rc;
}

static int
num_pow(const eng_numeric *x, const eng_numeric *y, eng_numeric *res, eng_err *err)
{
    if (eng_numeric_is_nan(x) || eng_numeric_is_nan(y)) {
        eng_numeric one;
        eng_numeric_init(&one);
        eng_numeric_from_int64(&one, 1);
        bool is_one = (eng_numeric_is_nan(x) && eng_numeric_is_zero(y)) ||
                      (eng_numeric_is_nan(y) && eng_numeric_cmp(x, &one) == 0);
        eng_numeric_free(&one);
        if (is_one)
            eng_numeric_from_int64(res, 1);
        else
            eng_numeric_set_special(res, ENG_NUMERIC_NAN);
        return 0;
    }
    if (eng_numeric_is_special(x) || eng_numeric_is_special(y))
        return not_supported("numeric power with an infinite operand", err);
    eng_numeric t;
    eng_numeric_init(&t);
    eng_numeric_copy(&t, y);
    eng_numeric_trunc(&t, 0);
    bool integral = eng_numeric_cmp(&t, y) == 0;
    int64_t e = 0;
    eng_err tmp;
    eng_err_clear(&tmp);
    bool fits = integral && eng_numeric_to_int(&t, 32, &e, &tmp) == 0;
    eng_numeric_free(&t);
    if (eng_numeric_is_zero(x) && y->sign == ENG_NUMERIC_NEG && !eng_numeric_is_zero(y))
        return eng_err_set(err, ENG_ERRCODE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                           "zero raised to a negative power is undefined");
    if (x->sign == ENG_NUMERIC_NEG && !integral)
        return eng_err_set(err, ENG_ERRCODE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                           "a negative number raised to a non-integer power yields a complex "
                           "result");
    if (!fits)
        return not_supported("numeric power with a non-integer exponent", err);
    return num_pow_int(x, e, res, err);
}

/* numeric functions of one argument (aux8 kind) and round/trunc with a
 * scale (nargs 2), power (aux8 0xff). */
static int
x_num_math(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    eng_numeric x, y, z;
    eng_numeric_init(&x);
    eng_numeric_init(&y);
    eng_numeric_init(&z);
    num_get(&a[0], &x);
    int rc = 0;
    if (in->aux8 == 0xff) {
        num_get(&a[1], &y);
        rc = num_pow(&x, &y, &z, err);
        goto out;
    }
    bool special = eng_numeric_is_special(&x);
    switch (in->aux8) {
    case M_ROUND:
    case M_TRUNC: {
        int64_t s = in->nargs == 2 ? a[1].u.i : 0;
        eng_numeric_copy(&z, &x);
        if (in->aux8 == M_ROUND)
            eng_numeric_round(&z, (int)s);
        else
            eng_numeric_trunc(&z, (int)s);
        break;
    }
    case M_FLOOR:
    case M_CEIL:
        eng_numeric_copy(&z, &x);
        if (!special)
            rc = num_floor_ceil(&z, in->aux8 == M_CEIL, err);
        break;
    case M_SIGN:
        if (eng_numeric_is_nan(&x))
            eng_numeric_copy(&z, &x);
        else if (eng_numeric_is_zero(&x))
            eng_numeric_set_zero(&z, 0);
        else
            eng_numeric_from_int64(&z, x.sign == ENG_NUMERIC_NEG || x.sign == ENG_NUMERIC_NINF ? -1
                                                                                               : 1);
        break;
    case M_SQRT:
        if (eng_numeric_is_nan(&x) || x.sign == ENG_NUMERIC_PINF)
            eng_numeric_copy(&z, &x);
        else if (x.sign == ENG_NUMERIC_NEG || x.sign == ENG_NUMERIC_NINF)
            rc = neg_sqrt(err);
        else
            rc = num_sqrt(&x, &z, err);
        break;
    default:
        ENG_UNREACHABLE("bad numeric math function");
    }
out:
    if (rc == 0)
        rc = num_put(ev, &z, r, err);
    eng_numeric_free(&x);
    eng_numeric_free(&y);
    eng_numeric_free(&z);
    return rc;
}

/* ------------------------------------------------------------------ resolution */

static const struct {
    op_fn fn;
    uint8_t kind;
    bool has_numeric; /* PostgreSQL has a numeric version */
    bool numeric_impl;
} unary[] = {
    {OP_SQRT, M_SQRT, true, true},         {OP_CBRT, M_CBRT, false, false},
    {OP_EXP, M_EXP, true, false},          {OP_LN, M_LN, true, false},
    {OP_LOG10, M_LOG10, true, false},      {OP_LOG, M_LOG10, true, false},
    {OP_FLOOR, M_FLOOR, true, true},       {OP_CEIL, M_CEIL, true, true},
    {OP_ROUND, M_ROUND, true, true},       {OP_TRUNC, M_TRUNC, true, true},
    {OP_SIGN, M_SIGN, true, true},         {OP_DEGREES, M_DEGREES, false, false},
    {OP_RADIANS, M_RADIANS, false, false}, {OP_SIN, M_SIN, false, false},
    {OP_COS, M_COS, false, false},         {OP_TAN, M_TAN, false, false},
    {OP_COT, M_COT, false, false},         {OP_ASIN, M_ASIN, false, false},
    {OP_ACOS, M_ACOS, false, false},       {OP_ATAN, M_ATAN, false, false},
};

int
op_x_resolve_math(op_expr *e, const op_type *at, eng_err *err)
{
    op_type *w = op_x_want(e);
    e->impl_strict = true;
    for (int i = 0; i < e->nargs; i++)
        if (at[i] != OP_T_UNKNOWN && !op_x_is_num(at[i]))
            return op_x_no_function(e, at, err);
    switch (e->fn) {
    case OP_PI:
        if (e->nargs != 0)
            return op_x_no_function(e, at, err);
        e->rtype = OP_T_FLOAT8;
        e->impl_fn = x_pi;
        return 0;
    case OP_POW:
        if (e->nargs != 2)
            return op_x_no_function(e, at, err);
        if (at[0] == OP_T_UNKNOWN && at[1] == OP_T_UNKNOWN)
            return eng_err_set(err, ENG_ERRCODE_AMBIGUOUS_FUNCTION,
                               "operator is not unique: unknown ^ unknown");
        if ((at[0] == OP_T_NUMERIC || at[1] == OP_T_NUMERIC) && !op_x_is_float(at[0]) &&
            !op_x_is_float(at[1])) {
            w[0] = w[1] = OP_T_NUMERIC;
            e->rtype = OP_T_NUMERIC;
            e->impl_fn = x_num_math;
            e->impl_aux8 = 0xff;
        } else {
            w[0] = w[1] = OP_T_FLOAT8;
            e->rtype = OP_T_FLOAT8;
            e->impl_fn = x_float_pow;
        }
        return 0;
    case OP_ATAN2:
        if (e->nargs != 2)
            return op_x_no_function(e, at, err);
        w[0] = w[1] = OP_T_FLOAT8;
        e->rtype = OP_T_FLOAT8;
        e->impl_fn = x_atan2;
        return 0;
    case OP_GCD:
    case OP_LCM:
        if (e->nargs != 2)
            return op_x_no_function(e, at, err);
        if (!op_x_is_int(at[0]) || !op_x_is_int(at[1])) {
            if (op_x_is_float(at[0]) || op_x_is_float(at[1]))
                return op_x_no_function(e, at, err);
            return not_supported(
                e->fn == OP_GCD ? "gcd(numeric, numeric)" : "lcm(numeric, numeric)", err);
        }
        if (at[0] == OP_T_INT2 && at[1] == OP_T_INT2)
            return eng_err_set(err, ENG_ERRCODE_AMBIGUOUS_FUNCTION,
                               "function %s(smallint, smallint) is not unique", op_fn_name(e->fn));
        e->rtype = at[0] == OP_T_INT8 || at[1] == OP_T_INT8 ? OP_T_INT8 : OP_T_INT4;
        w[0] = w[1] = e->rtype;
        e->impl_fn = x_gcd;
        e->impl_aux8 = e->fn == OP_LCM;
        return 0;
    case OP_LOG: /* log(x) is log10(x), below */
        if (e->nargs != 2)
            break;
        if (op_x_is_float(at[0]) || op_x_is_float(at[1]))
            return op_x_no_function(e, at, err);
        return not_supported("log(numeric, numeric)", err);
    case OP_ROUND:
    case OP_TRUNC:
        if (e->nargs == 2) {
            if (at[0] == OP_T_UNKNOWN || op_x_is_float(at[0]) ||
                !(at[1] == OP_T_INT4 || at[1] == OP_T_INT2 || at[1] == OP_T_UNKNOWN))
                return op_x_no_function(e, at, err);
            w[0] = OP_T_NUMERIC;
            w[1] = OP_T_INT4;
            e->rtype = OP_T_NUMERIC;
            e->impl_fn = x_num_math;
            e->impl_aux8 = e->fn == OP_ROUND ? M_ROUND : M_TRUNC;
            return 0;
        }
        break;
    default:
        break;
    }
    for (size_t i = 0; i < sizeof unary / sizeof unary[0]; i++) {
        if (unary[i].fn != e->fn)
            continue;
        if (e->nargs != 1)
            return op_x_no_function(e, at, err);
        if (at[0] == OP_T_UNKNOWN)
            return eng_err_set(err, ENG_ERRCODE_AMBIGUOUS_FUNCTION,
                               "function %s(unknown) is not unique", op_fn_name(e->fn));
        e->impl_aux8 = unary[i].kind;
        if (at[0] == OP_T_NUMERIC && unary[i].has_numeric) {
            if (!unary[i].numeric_impl) {
                char what[64];
                snprintf(what, sizeof what, "%s(numeric)", op_fn_name(e->fn));
                return not_supported(what, err);
            }
            e->rtype = OP_T_NUMERIC;
            e->impl_fn = x_num_math;
            return 0;
        }
        w[0] = OP_T_FLOAT8;
        e->rtype = OP_T_FLOAT8;
        e->impl_fn = x_float1;
        return 0;
    }
    return op_x_no_function(e, at, err);
}
