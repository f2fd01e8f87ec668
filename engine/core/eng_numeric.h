/* Exact decimal arithmetic with PostgreSQL's numeric semantics.
 *
 * Notes: a value is sign, base-10000 digits, a weight (the power of 10000 of
 * the first digit) and a display scale (dscale: decimal digits printed after
 * the point), exactly as PostgreSQL's NumericVar, so result scales
 * (add/sub: max of the inputs, mul: sum, div: select_div_scale) and output
 * match PostgreSQL byte for byte. Special values: NaN, +Infinity, -Infinity
 * (PostgreSQL 14+). Limits are PostgreSQL's: up to 131072 digits before the
 * point, 16383 after; exceeding them is 22003 "value overflows numeric
 * format".
 *
 * An eng_numeric is a working value with inline room for 80 decimal digits;
 * longer values spill to the heap, so always eng_numeric_free() a value
 * once done, and never copy one by struct assignment (eng_numeric_copy).
 * Every function that produces a value leaves it normalised (no leading or
 * trailing zero digits, zero is positive with weight 0). Results may alias
 * inputs.
 *
 * Row encoding (payload of ENG_TAG_NUMERIC, little-endian):
 *   finite:  u16 sign (0x0000 positive, 0x4000 negative), i16 weight,
 *            u16 dscale, then ndigits x u16 base-10000 digits
 *   special: u16 only: 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity
 * One encoding per (value, dscale) pair, so equal pairs are memcmp-equal.
 *
 * Thread-safety: values are plain data; no shared state. */
#ifndef ENG_NUMERIC_H
#define ENG_NUMERIC_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_strbuf.h"

#define ENG_NUMERIC_NBASE 10000
#define ENG_NUMERIC_DEC_DIGITS 4
#define ENG_NUMERIC_INLINE 20          /* base digits stored in the struct */
#define ENG_NUMERIC_MAX_PRECISION 1000 /* numeric(p,s): 1 <= p <= 1000 */
#define ENG_NUMERIC_MIN_SCALE (-1000)  /* -1000 <= s <= 1000 */
#define ENG_NUMERIC_MAX_SCALE 1000
#define ENG_NUMERIC_DSCALE_MAX 16383 /* display scale limit of the format */
#define ENG_NUMERIC_WEIGHT_MAX 32767
#define ENG_NUMERIC_WEIGHT_MIN (-32768)
#define ENG_NUMERIC_MAX_RESULT_SCALE 2000 /* round()/trunc() scale bound */

typedef enum eng_numeric_sign {
    ENG_NUMERIC_POS = 0,
    ENG_NUMERIC_NEG = 1,
    ENG_NUMERIC_NAN = 2,
    ENG_NUMERIC_PINF = 3,
    ENG_NUMERIC_NINF = 4,
} eng_numeric_sign;

typedef struct eng_numeric {
    uint8_t sign;    /* eng_numeric_sign */
    int32_t weight;  /* power of NBASE of digits()[0] */
    int32_t dscale;  /* display scale, >= 0 */
    int32_t ndigits; /* number of base digits in use */
    int32_t cap;     /* capacity of the heap array (0: inline) */
    int16_t *heap;   /* malloc'd digits, or NULL while the inline array suffices */
    int16_t inl[ENG_NUMERIC_INLINE];
} eng_numeric;

/* The digit array (borrowed; valid until the value is next modified). */
static inline int16_t *
eng_numeric_digits(eng_numeric *n)
{
    return n->heap ? n->heap : n->inl;
}

static inline const int16_t *
eng_numeric_cdigits(const eng_numeric *n)
{
    return n->heap ? n->heap : n->inl;
}

static inline bool
eng_numeric_is_special(const eng_numeric *n)
{
    return n->sign >= ENG_NUMERIC_NAN;
}

static inline bool
eng_numeric_is_nan(const eng_numeric *n)
{
    return n->sign == ENG_NUMERIC_NAN;
}

static inline bool
eng_numeric_is_zero(const eng_numeric *n)
{
    return n->sign <= ENG_NUMERIC_NEG && n->ndigits == 0;
}

/* Sets n to 0 with dscale 0 (no allocation). */
void eng_numeric_init(eng_numeric *n);
/* Releases heap digits; n is 0 afterwards and may be reused. */
void eng_numeric_free(eng_numeric *n);
/* dst = src (deep copy). */
void eng_numeric_copy(eng_numeric *dst, const eng_numeric *src);
/* Sets n to NaN, +Infinity or -Infinity. */
void eng_numeric_set_special(eng_numeric *n, eng_numeric_sign s);
/* Sets n to 0 with the given display scale. */
void eng_numeric_set_zero(eng_numeric *n, int32_t dscale);

/* Low level, for code that builds values digit by digit: makes room for
 * ndigits digits (keeping the current ones) and returns the digit array;
 * after filling digits, ndigits, weight, sign and dscale, call
 * eng_numeric_normalize() to strip zero digits. */
int16_t *eng_numeric_reserve(eng_numeric *n, int32_t ndigits);
void eng_numeric_normalize(eng_numeric *n);

/* ------------------------------------------------------------ row encoding */

/* Decodes an ENG_TAG_NUMERIC payload. Fails with XX001 on a malformed or
 * non-canonical encoding (rows from outside the process). */
int eng_numeric_decode(const uint8_t *p, uint32_t len, eng_numeric *out, eng_err *err);
/* Decodes a datum of a row we built (trusted: asserts on corruption). */
void eng_numeric_from_datum(eng_datum d, eng_numeric *out);
/* Appends n as one ENG_TAG_NUMERIC datum in canonical form. */
void eng_numeric_push(eng_rowbuf *b, const eng_numeric *n);
/* Encoded payload size of n. */
uint32_t eng_numeric_encoded_size(const eng_numeric *n);

/* ------------------------------------------------------------ text */

/* Parses PostgreSQL numeric input (leading/trailing white space, sign,
 * digits with optional point, exponent, NaN / [+-]Infinity / [+-]inf,
 * case-insensitive). Errors: 22P02 invalid syntax, 22003 out of range.
 * typmod < 0: none; else numeric(p,s) is applied as numeric_in does. */
int eng_numeric_parse(const char *s, size_t n, int32_t typmod, eng_numeric *out, eng_err *err);
/* Appends numeric_out's text (dscale digits after the point). */
void eng_numeric_format(const eng_numeric *n, eng_strbuf *out);

/* ------------------------------------------------------------ arithmetic */

/* res = a + b, a - b, a * b (exact; dscale capped at 16383 with rounding). */
int eng_numeric_add(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err);
int eng_numeric_sub(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err);
int eng_numeric_mul(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err);
/* res = a / b rounded (half away from zero) to select_div_scale(a, b).
 * 22012 on division by zero. */
int eng_numeric_div(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err);
/* res = a / b rounded to rscale decimal places (rscale >= 0). */
int eng_numeric_div_scale(const eng_numeric *a, const eng_numeric *b, int rscale, eng_numeric *res,
                          eng_err *err);
/* res = a - trunc(a / b) * b (sign of a), 22012 on b = 0. */
int eng_numeric_mod(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err);
/* The result scale PostgreSQL picks for a / b. */
int eng_numeric_div_scale_for(const eng_numeric *a, const eng_numeric *b);
void eng_numeric_neg(eng_numeric *n);
void eng_numeric_abs(eng_numeric *n);
/* Total order: -Infinity < finite < +Infinity < NaN; NaN = NaN; dscale is
 * ignored (1.0 = 1.00). */
int eng_numeric_cmp(const eng_numeric *a, const eng_numeric *b);
/* round(n, scale) / trunc(n, scale) as SQL round()/trunc(): scale is
 * clamped to +-2000; a negative scale rounds left of the point and leaves
 * dscale 0. Special values are unchanged. */
void eng_numeric_round(eng_numeric *n, int scale);
void eng_numeric_trunc(eng_numeric *n, int scale);

/* ------------------------------------------------------------ typmod */

/* numeric(p,s) typmod as PostgreSQL encodes it (((p << 16) | (s & 0x7ff)) + 4). */
int32_t eng_numeric_typmod_make(int precision, int scale);
int eng_numeric_typmod_precision(int32_t typmod);
int eng_numeric_typmod_scale(int32_t typmod);
static inline bool
eng_numeric_typmod_valid(int32_t typmod)
{
    return typmod >= 4;
}
/* Rounds n to the typmod's scale and checks its precision (22003 "numeric
 * field overflow"); infinities do not fit any typmod; NaN always fits. */
int eng_numeric_apply_typmod(eng_numeric *n, int32_t typmod, eng_err *err);

/* ------------------------------------------------------------ conversions */

void eng_numeric_from_int64(eng_numeric *n, int64_t v);
/* float8 -> numeric as PostgreSQL: 15 significant digits ("%.15g"). */
void eng_numeric_from_float8(eng_numeric *n, double v);
/* float4 -> numeric: 6 significant digits. */
void eng_numeric_from_float4(eng_numeric *n, float v);
/* numeric -> int rounds half away from zero. 22003 "<type> out of range",
 * 0A000 for NaN / infinity. bits is 16, 32 or 64. */
int eng_numeric_to_int(const eng_numeric *n, int bits, int64_t *out, eng_err *err);
/* numeric -> float8/float4 through the decimal text (correctly rounded);
 * 22003 when out of range. */
int eng_numeric_to_float8(const eng_numeric *n, double *out, eng_err *err);
int eng_numeric_to_float4(const eng_numeric *n, float *out, eng_err *err);

/* ------------------------------------------------------------ aggregation */

/* A sum accumulator for sum()/avg() over numeric (or integer) inputs that
 * supports retractions (negative multiplicities). Adds go into per-digit
 * int64 sums with deferred carries, so steady-state adds do not allocate;
 * the digit window grows (doubling) only when a value has digits outside
 * it. The result's dscale is the largest dscale among the values currently
 * in the accumulator, as recomputing PostgreSQL's sum() would give. */
typedef struct eng_numeric_acc {
    int64_t count; /* net number of values added (including specials) */
    int64_t nan_count, pinf_count, ninf_count;
    int64_t *pos, *neg; /* digit sums; pos[i] has weight top - i */
    int32_t top;        /* weight of pos[0] / neg[0] */
    int32_t ndig;       /* digits in the window */
    int64_t pending;    /* digit additions since the last carry propagation */
    struct {
        int32_t dscale;
        int64_t count;
    } * scales;
    int32_t nscales, scales_cap;
} eng_numeric_acc;

void eng_numeric_acc_init(eng_numeric_acc *a);
void eng_numeric_acc_free(eng_numeric_acc *a);
/* Adds v with multiplicity diff (negative retracts). */
void eng_numeric_acc_add(eng_numeric_acc *a, const eng_numeric *v, int64_t diff);
void eng_numeric_acc_add_int64(eng_numeric_acc *a, int64_t v, int64_t diff);
/* The sum (0 when empty; callers map count == 0 to NULL); 22003 if the sum
 * exceeds the format. */
int eng_numeric_acc_sum(const eng_numeric_acc *a, eng_numeric *out, eng_err *err);
/* sum / count with select_div_scale, as PostgreSQL's avg(numeric);
 * count must be > 0. */
int eng_numeric_acc_avg(const eng_numeric_acc *a, eng_numeric *out, eng_err *err);

#endif
