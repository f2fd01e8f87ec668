/* Numeric sum accumulator for sum()/avg() with retractions.
 *
 * Notes: positive and negative contributions go into two arrays of int64
 * per-digit sums over one window of base-10000 weights. An add touches only
 * the value's digits; carries are propagated lazily, before the per-digit
 * sums could overflow (after ~10^14 digit additions), so adds do not
 * allocate once the window covers the values seen. Multiplicities above
 * 2^20 are multiplied out exactly first. The display scale of the result is
 * the maximum over the values currently present, tracked as a small
 * multiset of scales so retractions restore a smaller scale. */
#include "engine/core/eng_numeric.h"

#include <stdlib.h>
#include <string.h>

#define NBASE ENG_NUMERIC_NBASE
#define PENDING_LIMIT 100000000000000LL /* 1e14 * 9999 stays far below 2^63 */
#define MAX_DIRECT_MULT (1 << 20)
#define HEADROOM 6 /* top digits kept free for carries */

void
eng_numeric_acc_init(eng_numeric_acc *a)
{
    memset(a, 0, sizeof *a);
}

void
eng_numeric_acc_free(eng_numeric_acc *a)
{
    free(a->pos);
    free(a->neg);
    free(a->scales);
    eng_numeric_acc_init(a);
}

/* Grows the window so weights lo..hi are covered, with HEADROOM free digits
 * above hi. */
static void
ensure_window(eng_numeric_acc *a, int32_t hi, int32_t lo)
{
    int32_t want_top = hi + HEADROOM;
    if (a->ndig > 0 && want_top <= a->top && lo >= a->top - a->ndig + 1)
        return;
    int32_t new_top = a->ndig > 0 && a->top > want_top ? a->top : want_top;
    int32_t old_low = a->top - a->ndig + 1;
    int32_t new_low = a->ndig > 0 && old_low < lo ? old_low : lo;
    int32_t n = new_top - new_low + 1;
    if (a->ndig > 0 && n < 2 * a->ndig) {
        /* Double, extending towards the side that needed room. */
        int32_t extra = 2 * a->ndig - n;
        if (lo < old_low)
            new_low -= extra;
        else
            new_top += extra;
        n = new_top - new_low + 1;
    }
    int64_t *pos = calloc((size_t)n, sizeof *pos), *neg = calloc((size_t)n, sizeof *neg);
    ENG_ASSERT(pos != NULL && neg != NULL);
    if (a->ndig > 0) {
        int32_t off = new_top - a->top;
        memcpy(pos + off, a->pos, (size_t)a->ndig * sizeof *pos);
        memcpy(neg + off, a->neg, (size_t)a->ndig * sizeof *neg);
    }
    free(a->pos);
    free(a->neg);
    a->pos = pos;
    a->neg = neg;
    a->top = new_top;
    a->ndig = n;
}

/* Propagates carries so every digit sum is < NBASE; the headroom absorbs
 * the final carry (the sums are bounded by PENDING_LIMIT * NBASE). */
static void
propagate(int64_t *d, int32_t n)
{
    int64_t carry = 0;
    for (int32_t i = n - 1; i >= 0; i--) {
        int64_t s = d[i] + carry;
        d[i] = s % NBASE;
        carry = s / NBASE;
    }
    ENG_ASSERT(carry == 0);
}

static void
carry_now(eng_numeric_acc *a)
{
    propagate(a->pos, a->ndig);
    propagate(a->neg, a->ndig);
    a->pending = 0;
    /* Keep the headroom free for the next round of adds. */
    for (int32_t i = 0; i < HEADROOM && i < a->ndig; i++)
        if (a->pos[i] != 0 || a->neg[i] != 0) {
            ensure_window(a, a->top - i + 1, a->top - a->ndig + 1);
            break;
        }
}

static void
scales_add(eng_numeric_acc *a, int32_t dscale, int64_t diff)
{
    for (int32_t i = 0; i < a->nscales; i++) {
        if (a->scales[i].dscale != dscale)
            continue;
        a->scales[i].count += diff;
        if (a->scales[i].count == 0)
            a->scales[i] = a->scales[--a->nscales];
        return;
    }
    if (a->nscales == a->scales_cap) {
        int32_t cap = a->scales_cap ? a->scales_cap * 2 : 4;
        void *p = realloc(a->scales, (size_t)cap * sizeof a->scales[0]);
        ENG_ASSERT(p != NULL);
        a->scales = p;
        a->scales_cap = cap;
    }
    a->scales[a->nscales].dscale = dscale;
    a->scales[a->nscales].count = diff;
    a->nscales++;
}

static void
add_digits(eng_numeric_acc *a, const eng_numeric *v, uint64_t mult, bool negative)
{
    int32_t lo = v->weight - v->ndigits + 1;
    ensure_window(a, v->weight, lo);
    if (a->pending + (int64_t)mult > PENDING_LIMIT)
        carry_now(a);
    int64_t *arr = negative ? a->neg : a->pos;
    const int16_t *d = eng_numeric_cdigits(v);
    int32_t base = a->top - v->weight;
    for (int32_t i = 0; i < v->ndigits; i++)
        arr[base + i] += (int64_t)d[i] * (int64_t)mult;
    a->pending += (int64_t)mult;
}

void
eng_numeric_acc_add(eng_numeric_acc *a, const eng_numeric *v, int64_t diff)
{
    if (diff == 0)
        return;
    a->count += diff;
    switch (v->sign) {
    case ENG_NUMERIC_NAN:
        a->nan_count += diff;
        return;
    case ENG_NUMERIC_PINF:
        a->pinf_count += diff;
        return;
    case ENG_NUMERIC_NINF:
        a->ninf_count += diff;
        return;
    default:
        break;
    }
    scales_add(a, v->dscale, diff);
    if (v->ndigits == 0)
        return;
    bool negative = (v->sign == ENG_NUMERIC_NEG) != (diff < 0);
    uint64_t mult = diff < 0 ? (uint64_t)0 - (uint64_t)diff : (uint64_t)diff;
    if (mult <= MAX_DIRECT_MULT) {
        add_digits(a, v, mult, negative);
        return;
    }
    /* Large multiplicity: multiply exactly, then add once. */
    eng_numeric m, p;
    eng_numeric_init(&m);
    eng_numeric_init(&p);
    eng_numeric_from_int64(&m, (int64_t)(mult >> 1));
    /* The product is exact even when it exceeds the storage format (the
     * error is then only reported); the sum reports any overflow. */
    (void)eng_numeric_mul(v, &m, &p, NULL);
    add_digits(a, &p, 2, negative);
    if (mult & 1)
        add_digits(a, v, 1, negative);
    eng_numeric_free(&m);
    eng_numeric_free(&p);
}

void
eng_numeric_acc_add_int64(eng_numeric_acc *a, int64_t v, int64_t diff)
{
    eng_numeric n;
    eng_numeric_init(&n);
    eng_numeric_from_int64(&n, v);
    eng_numeric_acc_add(a, &n, diff);
}

/* Builds the value of one normalised digit-sum array. */
static void
array_value(const eng_numeric_acc *a, const int64_t *d, int32_t dscale, eng_numeric *out)
{
    int16_t *o = eng_numeric_reserve(out, a->ndig);
    for (int32_t i = 0; i < a->ndig; i++)
        o[i] = (int16_t)d[i];
    out->ndigits = a->ndig;
    out->weight = a->top;
    out->sign = ENG_NUMERIC_POS;
    out->dscale = dscale;
    eng_numeric_normalize(out);
}

int
eng_numeric_acc_sum(const eng_numeric_acc *a, eng_numeric *out, eng_err *err)
{
    if (a->nan_count != 0 || (a->pinf_count > 0 && a->ninf_count > 0)) {
        eng_numeric_set_special(out, ENG_NUMERIC_NAN);
        return 0;
    }
    if (a->pinf_count > 0 || a->ninf_count > 0) {
        eng_numeric_set_special(out, a->pinf_count > 0 ? ENG_NUMERIC_PINF : ENG_NUMERIC_NINF);
        return 0;
    }
    int32_t dscale = 0;
    for (int32_t i = 0; i < a->nscales; i++)
        if (a->scales[i].count > 0 && a->scales[i].dscale > dscale)
            dscale = a->scales[i].dscale;
    if (a->ndig == 0) {
        eng_numeric_set_zero(out, dscale);
        return 0;
    }
    int64_t stackbuf[2 * 64];
    int64_t *tmp = a->ndig <= 64 ? stackbuf : malloc(2 * (size_t)a->ndig * sizeof *tmp);
    ENG_ASSERT(tmp != NULL);
    int64_t *p = tmp, *q = tmp + a->ndig;
    memcpy(p, a->pos, (size_t)a->ndig * sizeof *p);
    memcpy(q, a->neg, (size_t)a->ndig * sizeof *q);
    propagate(p, a->ndig);
    propagate(q, a->ndig);
    eng_numeric P, N;
    eng_numeric_init(&P);
    eng_numeric_init(&N);
    array_value(a, p, dscale, &P);
    array_value(a, q, dscale, &N);
    if (tmp != stackbuf)
        free(tmp);
    int rc = eng_numeric_sub(&P, &N, out, err);
    eng_numeric_free(&P);
    eng_numeric_free(&N);
    return rc;
}

int
eng_numeric_acc_avg(const eng_numeric_acc *a, eng_numeric *out, eng_err *err)
{
    ENG_ASSERT(a->count > 0);
    eng_numeric sum, cnt;
    eng_numeric_init(&sum);
    eng_numeric_init(&cnt);
    int rc = eng_numeric_acc_sum(a, &sum, err);
    if (rc == 0 && eng_numeric_is_special(&sum)) {
        eng_numeric_copy(out, &sum);
    } else if (rc == 0) {
        eng_numeric_from_int64(&cnt, a->count);
        rc = eng_numeric_div(&sum, &cnt, out, err);
    }
    eng_numeric_free(&sum);
    eng_numeric_free(&cnt);
    return rc;
}
