/* Numeric: representation, row encoding and arithmetic (see eng_numeric.h).
 *
 * Notes: the algorithms follow the shape of PostgreSQL's numeric.c because
 * the results (digits and scales) must be identical: base-10000 digits,
 * add/sub on aligned digit arrays, schoolbook multiplication with deferred
 * carries, and long division (Knuth's algorithm D) producing a truncated
 * quotient one decimal digit past the result scale, which is then rounded
 * half away from zero, so division is correctly rounded as in PostgreSQL.
 * Scratch space comes from the stack for typical sizes and from malloc only
 * for long values. Text I/O and conversions live in numeric_io.c, the
 * aggregation accumulator in numeric_acc.c. */
#include "engine/core/eng_numeric.h"

#include <stdlib.h>
#include <string.h>

#define NBASE ENG_NUMERIC_NBASE
#define HALF_NBASE 5000
#define DEC_DIGITS ENG_NUMERIC_DEC_DIGITS
#define NUMERIC_MIN_SIG_DIGITS 16
#define NUMERIC_MAX_DISPLAY_SCALE 1000

#define SIGN_POS 0x0000
#define SIGN_NEG 0x4000
#define SIGN_NAN 0xC000
#define SIGN_PINF 0xD000
#define SIGN_NINF 0xF000

#define STACK_DIGITS 128

static const int32_t pow10_tab[5] = {1, 10, 100, 1000, 10000};

/* ------------------------------------------------------------------ storage */

void
eng_numeric_init(eng_numeric *n)
{
    n->sign = ENG_NUMERIC_POS;
    n->weight = 0;
    n->dscale = 0;
    n->ndigits = 0;
    n->cap = 0;
    n->heap = NULL;
}

void
eng_numeric_free(eng_numeric *n)
{
    free(n->heap);
    eng_numeric_init(n);
}

int16_t *
eng_numeric_reserve(eng_numeric *n, int32_t ndigits)
{
    if (n->heap == NULL && ndigits <= ENG_NUMERIC_INLINE)
        return n->inl;
    if (n->heap != NULL && ndigits <= n->cap)
        return n->heap;
    int32_t cap = ndigits < 2 * ENG_NUMERIC_INLINE ? 2 * ENG_NUMERIC_INLINE : ndigits;
    if (n->cap * 2 > cap)
        cap = n->cap * 2;
    int16_t *d = malloc((size_t)cap * sizeof *d);
    ENG_ASSERT(d != NULL);
    if (n->ndigits > 0)
        memcpy(d, eng_numeric_digits(n), (size_t)n->ndigits * sizeof *d);
    free(n->heap);
    n->heap = d;
    n->cap = cap;
    return d;
}

/* Moves src into dst (dst's old digits are released; src is left empty). */
static void
move_into(eng_numeric *dst, eng_numeric *src)
{
    if (dst == src)
        return;
    free(dst->heap);
    *dst = *src; /* digits() is derived from heap, so a struct copy is a move */
    eng_numeric_init(src);
}

void
eng_numeric_copy(eng_numeric *dst, const eng_numeric *src)
{
    if (dst == src)
        return;
    int16_t *d = eng_numeric_reserve(dst, src->ndigits);
    if (src->ndigits > 0)
        memcpy(d, eng_numeric_cdigits(src), (size_t)src->ndigits * sizeof *d);
    dst->sign = src->sign;
    dst->weight = src->weight;
    dst->dscale = src->dscale;
    dst->ndigits = src->ndigits;
}

void
eng_numeric_set_special(eng_numeric *n, eng_numeric_sign s)
{
    n->sign = (uint8_t)s;
    n->weight = 0;
    n->dscale = 0;
    n->ndigits = 0;
}

void
eng_numeric_set_zero(eng_numeric *n, int32_t dscale)
{
    n->sign = ENG_NUMERIC_POS;
    n->weight = 0;
    n->ndigits = 0;
    n->dscale = dscale;
}

void
eng_numeric_normalize(eng_numeric *n)
{
    int16_t *d = eng_numeric_digits(n);
    int32_t nd = n->ndigits, lead = 0;
    while (lead < nd && d[lead] == 0)
        lead++;
    while (nd > lead && d[nd - 1] == 0)
        nd--;
    if (nd == lead) {
        n->ndigits = 0;
        n->weight = 0;
        n->sign = ENG_NUMERIC_POS;
        return;
    }
    if (lead > 0)
        memmove(d, d + lead, (size_t)(nd - lead) * sizeof *d);
    n->weight -= lead;
    n->ndigits = nd - lead;
}

/* 22003 if n (finite, stripped) does not fit the storage format. */
static int
check_format(const eng_numeric *n, eng_err *err)
{
    if (n->sign <= ENG_NUMERIC_NEG &&
        (n->weight > ENG_NUMERIC_WEIGHT_MAX || n->weight < ENG_NUMERIC_WEIGHT_MIN ||
         n->dscale > ENG_NUMERIC_DSCALE_MAX || n->dscale < 0))
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "value overflows numeric format");
    return 0;
}

/* ------------------------------------------------------------------ encoding */

uint32_t
eng_numeric_encoded_size(const eng_numeric *n)
{
    if (eng_numeric_is_special(n))
        return 2;
    return 6 + 2 * (uint32_t)n->ndigits;
}

static void
put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v & 0xff);
    p[1] = (uint8_t)(v >> 8);
}

static uint16_t
get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

void
eng_numeric_push(eng_rowbuf *b, const eng_numeric *n)
{
    uint32_t len = eng_numeric_encoded_size(n);
    uint8_t *p = eng_rowbuf_extend(b, 5 + len);
    p[0] = ENG_TAG_NUMERIC;
    memcpy(p + 1, &len, 4);
    p += 5;
    switch (n->sign) {
    case ENG_NUMERIC_NAN:
        put_u16(p, SIGN_NAN);
        return;
    case ENG_NUMERIC_PINF:
        put_u16(p, SIGN_PINF);
        return;
    case ENG_NUMERIC_NINF:
        put_u16(p, SIGN_NINF);
        return;
    default:
        break;
    }
    ENG_DASSERT(n->ndigits == 0 ||
                (eng_numeric_cdigits(n)[0] != 0 && eng_numeric_cdigits(n)[n->ndigits - 1] != 0));
    put_u16(p, n->sign == ENG_NUMERIC_NEG ? SIGN_NEG : SIGN_POS);
    put_u16(p + 2, (uint16_t)(int16_t)n->weight);
    put_u16(p + 4, (uint16_t)n->dscale);
    const int16_t *d = eng_numeric_cdigits(n);
    for (int32_t i = 0; i < n->ndigits; i++)
        put_u16(p + 6 + 2 * i, (uint16_t)d[i]);
}

int
eng_numeric_decode(const uint8_t *p, uint32_t len, eng_numeric *out, eng_err *err)
{
    if (len < 2 || (len & 1))
        goto bad;
    uint16_t sign = get_u16(p);
    if (len == 2) {
        if (sign == SIGN_NAN)
            eng_numeric_set_special(out, ENG_NUMERIC_NAN);
        else if (sign == SIGN_PINF)
            eng_numeric_set_special(out, ENG_NUMERIC_PINF);
        else if (sign == SIGN_NINF)
            eng_numeric_set_special(out, ENG_NUMERIC_NINF);
        else
            goto bad;
        return 0;
    }
    if (len < 6 || (sign != SIGN_POS && sign != SIGN_NEG))
        goto bad;
    int32_t nd = (int32_t)(len - 6) / 2;
    int32_t weight = (int16_t)get_u16(p + 2);
    int32_t dscale = get_u16(p + 4);
    if (dscale > ENG_NUMERIC_DSCALE_MAX)
        goto bad;
    if (nd == 0 && (sign != SIGN_POS || weight != 0))
        goto bad;
    int16_t *d = eng_numeric_reserve(out, nd);
    for (int32_t i = 0; i < nd; i++) {
        uint16_t v = get_u16(p + 6 + 2 * i);
        if (v >= NBASE)
            goto bad;
        d[i] = (int16_t)v;
    }
    if (nd > 0 && (d[0] == 0 || d[nd - 1] == 0))
        goto bad;
    /* Nonzero digits past the display scale would be hidden: not canonical.
     * The last digit's last nonzero decimal sits at position
     * -4 * weight(last) - (its trailing decimal zeros) after the point. */
    if (nd > 0 && weight - nd + 1 < 0) {
        int32_t last = d[nd - 1], tz = 0;
        while (last % 10 == 0) {
            last /= 10;
            tz++;
        }
        if (-(weight - nd + 1) * DEC_DIGITS - tz > dscale)
            goto bad;
    }
    out->sign = sign == SIGN_NEG ? ENG_NUMERIC_NEG : ENG_NUMERIC_POS;
    out->weight = weight;
    out->dscale = dscale;
    out->ndigits = nd;
    return 0;
bad:
    return eng_err_set(err, ENG_ERRCODE_DATA_CORRUPTED, "invalid numeric encoding in row");
}

void
eng_numeric_from_datum(eng_datum d, eng_numeric *out)
{
    ENG_ASSERT(d.tag == ENG_TAG_NUMERIC);
    int rc = eng_numeric_decode(d.ptr, d.len, out, NULL);
    ENG_ASSERT(rc == 0);
}

/* ------------------------------------------------------------------ magnitude helpers */

/* Compares |a| and |b| of finite stripped values. */
static int
cmp_abs(const eng_numeric *a, const eng_numeric *b)
{
    if (a->ndigits == 0)
        return b->ndigits == 0 ? 0 : -1;
    if (b->ndigits == 0)
        return 1;
    if (a->weight != b->weight)
        return a->weight > b->weight ? 1 : -1;
    const int16_t *da = eng_numeric_cdigits(a), *db = eng_numeric_cdigits(b);
    int32_t n = a->ndigits < b->ndigits ? a->ndigits : b->ndigits;
    for (int32_t i = 0; i < n; i++)
        if (da[i] != db[i])
            return da[i] > db[i] ? 1 : -1;
    if (a->ndigits != b->ndigits)
        return a->ndigits > b->ndigits ? 1 : -1;
    return 0;
}

/* Digit of x at base-10000 weight w (0 outside the stored digits). */
static inline int32_t
digit_at(const eng_numeric *x, const int16_t *d, int32_t w)
{
    int32_t i = x->weight - w;
    return (i >= 0 && i < x->ndigits) ? d[i] : 0;
}

/* Lowest weight of a finite value's digits (its weight if it has none). */
static inline int32_t
low_weight(const eng_numeric *x)
{
    return x->ndigits ? x->weight - x->ndigits + 1 : x->weight;
}

/* res = |a| + |b| (res must not alias a or b); sign left to the caller. */
static void
add_abs(const eng_numeric *a, const eng_numeric *b, eng_numeric *res)
{
    int32_t hi = (a->weight > b->weight ? a->weight : b->weight) + 1;
    int32_t la = low_weight(a), lb = low_weight(b);
    int32_t lo = la < lb ? la : lb;
    int32_t len = hi - lo + 1;
    int16_t *r = eng_numeric_reserve(res, len);
    const int16_t *da = eng_numeric_cdigits(a), *db = eng_numeric_cdigits(b);
    int32_t carry = 0;
    for (int32_t i = len - 1; i >= 0; i--) {
        int32_t w = hi - i;
        int32_t s = digit_at(a, da, w) + digit_at(b, db, w) + carry;
        carry = s >= NBASE;
        r[i] = (int16_t)(carry ? s - NBASE : s);
    }
    res->ndigits = len;
    res->weight = hi;
}

/* res = |a| - |b| where |a| >= |b| (res must not alias a or b). */
static void
sub_abs(const eng_numeric *a, const eng_numeric *b, eng_numeric *res)
{
    int32_t hi = a->weight;
    int32_t la = low_weight(a), lb = low_weight(b);
    int32_t lo = la < lb ? la : lb;
    int32_t len = hi - lo + 1;
    int16_t *r = eng_numeric_reserve(res, len);
    const int16_t *da = eng_numeric_cdigits(a), *db = eng_numeric_cdigits(b);
    int32_t borrow = 0;
    for (int32_t i = len - 1; i >= 0; i--) {
        int32_t w = hi - i;
        int32_t s = digit_at(a, da, w) - digit_at(b, db, w) - borrow;
        borrow = s < 0;
        r[i] = (int16_t)(borrow ? s + NBASE : s);
    }
    ENG_DASSERT(borrow == 0);
    res->ndigits = len;
    res->weight = hi;
}

/* Rounds (half away from zero) or truncates a finite value to rscale
 * decimal digits after the point (rscale may be negative); sets dscale to
 * rscale and strips. */
static void
round_to(eng_numeric *n, int32_t rscale, bool round)
{
    int32_t nd = n->ndigits;
    int32_t di = (n->weight + 1) * DEC_DIGITS + rscale; /* decimal digits kept */
    if (nd == 0) {
        n->dscale = rscale;
        return;
    }
    if (di < 0) {
        eng_numeric_set_zero(n, rscale);
        return;
    }
    int16_t *d = eng_numeric_digits(n);
    int32_t keep = (di + DEC_DIGITS - 1) / DEC_DIGITS; /* base digits kept */
    int32_t part = di % DEC_DIGITS; /* decimal digits kept in the last one, 0 = all */
    if (keep < nd || (keep == nd && part > 0)) {
        int32_t carry = 0, i;
        if (part == 0) {
            /* Whole digits dropped: the first dropped one decides. */
            carry = round && d[keep] >= HALF_NBASE;
            i = keep - 1;
        } else {
            /* The last kept digit is cut inside: round within it. */
            int32_t p = pow10_tab[DEC_DIGITS - part];
            int32_t last = d[keep - 1];
            int32_t extra = last % p;
            last -= extra;
            if (round && extra >= p / 2) {
                last += p;
                if (last >= NBASE) {
                    last -= NBASE;
                    carry = 1;
                }
            }
            d[keep - 1] = (int16_t)last;
            i = keep - 2;
        }
        nd = keep;
        for (; carry && i >= 0; i--) {
            int32_t s = d[i] + carry;
            carry = s >= NBASE;
            d[i] = (int16_t)(carry ? s - NBASE : s);
        }
        if (carry) {
            /* Carry out of the first digit: 9999.9 -> 10000. */
            d = eng_numeric_reserve(n, nd + 1);
            memmove(d + 1, d, (size_t)nd * sizeof *d);
            d[0] = 1;
            nd++;
            n->weight++;
        }
        n->ndigits = nd;
    }
    n->dscale = rscale;
    eng_numeric_normalize(n);
}

/* ------------------------------------------------------------------ add / sub */

/* res = a + (negate_b ? -b : b) for finite a and b. */
static void
add_finite(const eng_numeric *a, const eng_numeric *b, bool negate_b, eng_numeric *res)
{
    eng_numeric t;
    eng_numeric_init(&t);
    uint8_t sa = a->sign;
    uint8_t sb = b->ndigits == 0 ? ENG_NUMERIC_POS : (uint8_t)(b->sign ^ (negate_b ? 1 : 0));
    int32_t dscale = a->dscale > b->dscale ? a->dscale : b->dscale;
    if (sa == sb) {
        add_abs(a, b, &t);
        t.sign = sa;
    } else {
        int c = cmp_abs(a, b);
        if (c == 0) {
            eng_numeric_set_zero(&t, 0);
        } else if (c > 0) {
            sub_abs(a, b, &t);
            t.sign = sa;
        } else {
            sub_abs(b, a, &t);
            t.sign = sb;
        }
    }
    t.dscale = dscale;
    eng_numeric_normalize(&t);
    move_into(res, &t);
}

/* Result of adding two values at least one of which is special, following
 * PostgreSQL: NaN wins, Inf + -Inf = NaN. b_sign is b's sign after negation. */
static eng_numeric_sign
add_special(uint8_t a, uint8_t b)
{
    if (a == ENG_NUMERIC_NAN || b == ENG_NUMERIC_NAN)
        return ENG_NUMERIC_NAN;
    if (a == ENG_NUMERIC_PINF)
        return b == ENG_NUMERIC_NINF ? ENG_NUMERIC_NAN : ENG_NUMERIC_PINF;
    if (a == ENG_NUMERIC_NINF)
        return b == ENG_NUMERIC_PINF ? ENG_NUMERIC_NAN : ENG_NUMERIC_NINF;
    return (eng_numeric_sign)b; /* a finite, b infinite */
}

static uint8_t
negate_sign(uint8_t s)
{
    if (s == ENG_NUMERIC_PINF)
        return ENG_NUMERIC_NINF;
    if (s == ENG_NUMERIC_NINF)
        return ENG_NUMERIC_PINF;
    return s;
}

int
eng_numeric_add(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err)
{
    if (eng_numeric_is_special(a) || eng_numeric_is_special(b)) {
        eng_numeric_set_special(res, add_special(a->sign, b->sign));
        return 0;
    }
    add_finite(a, b, false, res);
    return check_format(res, err);
}

int
eng_numeric_sub(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err)
{
    if (eng_numeric_is_special(a) || eng_numeric_is_special(b)) {
        eng_numeric_set_special(res, add_special(a->sign, negate_sign(b->sign)));
        return 0;
    }
    add_finite(a, b, true, res);
    return check_format(res, err);
}

/* ------------------------------------------------------------------ mul */

/* res = a * b for finite a and b, exact (dscale = sum of dscales). */
static void
mul_finite(const eng_numeric *a, const eng_numeric *b, eng_numeric *res)
{
    int32_t dscale = a->dscale + b->dscale;
    if (a->ndigits == 0 || b->ndigits == 0) {
        eng_numeric_set_zero(res, dscale);
        return;
    }
    int32_t na = a->ndigits, nb = b->ndigits, len = na + nb;
    uint64_t stackbuf[STACK_DIGITS];
    uint64_t *acc = len <= STACK_DIGITS ? stackbuf : malloc((size_t)len * sizeof *acc);
    ENG_ASSERT(acc != NULL);
    memset(acc, 0, (size_t)len * sizeof *acc);
    const int16_t *da = eng_numeric_cdigits(a), *db = eng_numeric_cdigits(b);
    /* Each product is < 10^8 and a column sums at most min(na, nb) of them,
     * far below 2^64 for any value the format can hold: carries can wait. */
    for (int32_t i = 0; i < na; i++) {
        uint64_t x = (uint64_t)da[i];
        if (x == 0)
            continue;
        uint64_t *col = acc + i + 1;
        for (int32_t j = 0; j < nb; j++)
            col[j] += x * (uint64_t)db[j];
    }
    eng_numeric t;
    eng_numeric_init(&t);
    int16_t *r = eng_numeric_reserve(&t, len);
    uint64_t carry = 0;
    for (int32_t k = len - 1; k >= 0; k--) {
        uint64_t s = acc[k] + carry;
        r[k] = (int16_t)(s % NBASE);
        carry = s / NBASE;
    }
    ENG_DASSERT(carry == 0);
    if (acc != stackbuf)
        free(acc);
    t.ndigits = len;
    t.weight = a->weight + b->weight + 1;
    t.sign = a->sign == b->sign ? ENG_NUMERIC_POS : ENG_NUMERIC_NEG;
    t.dscale = dscale;
    eng_numeric_normalize(&t);
    move_into(res, &t);
}

static int
special_sign_of(const eng_numeric *n)
{
    switch (n->sign) {
    case ENG_NUMERIC_PINF:
        return 1;
    case ENG_NUMERIC_NINF:
        return -1;
    default:
        return n->ndigits == 0 ? 0 : (n->sign == ENG_NUMERIC_NEG ? -1 : 1);
    }
}

int
eng_numeric_mul(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err)
{
    if (eng_numeric_is_special(a) || eng_numeric_is_special(b)) {
        if (a->sign == ENG_NUMERIC_NAN || b->sign == ENG_NUMERIC_NAN) {
            eng_numeric_set_special(res, ENG_NUMERIC_NAN);
            return 0;
        }
        int s = special_sign_of(a) * special_sign_of(b);
        eng_numeric_set_special(res, s == 0  ? ENG_NUMERIC_NAN
                                     : s > 0 ? ENG_NUMERIC_PINF
                                             : ENG_NUMERIC_NINF);
        return 0;
    }
    mul_finite(a, b, res);
    /* The exact product may carry more fraction digits than the format
     * holds: round it, as PostgreSQL does. */
    if (res->dscale > ENG_NUMERIC_DSCALE_MAX)
        round_to(res, ENG_NUMERIC_DSCALE_MAX, true);
    return check_format(res, err);
}

/* ------------------------------------------------------------------ div */

/* Long division of big-endian base-10000 integers: q[0..m-n] = u[0..m-1] /
 * v[0..n-1] truncated, for m >= n >= 1 and v[0] != 0. w is scratch of m + 1
 * int32 values. Knuth, TAOCP vol. 2, 4.3.1, algorithm D. */
static void
long_div(const int32_t *u_in, int32_t m, const int32_t *v_in, int32_t n, int32_t *vn, int32_t *w,
         int32_t *q)
{
    if (n == 1) {
        int64_t r = 0, v = v_in[0];
        for (int32_t i = 0; i < m; i++) {
            int64_t cur = r * NBASE + u_in[i];
            int64_t qd = cur / v;
            r = cur - qd * v;
            if (i >= n - 1)
                q[i - (n - 1)] = (int32_t)qd;
        }
        return;
    }
    /* Normalise so the divisor's leading digit is >= NBASE / 2. */
    int32_t d = NBASE / (v_in[0] + 1);
    int32_t carry = 0;
    for (int32_t i = n - 1; i >= 0; i--) {
        int32_t t = v_in[i] * d + carry;
        vn[i] = t % NBASE;
        carry = t / NBASE;
    }
    carry = 0;
    for (int32_t i = m - 1; i >= 0; i--) {
        int32_t t = u_in[i] * d + carry;
        w[i + 1] = t % NBASE;
        carry = t / NBASE;
    }
    w[0] = carry;
    int64_t v0 = vn[0], v1 = vn[1];
    for (int32_t j = 0; j <= m - n; j++) {
        int64_t num = (int64_t)w[j] * NBASE + w[j + 1];
        int64_t qhat = num / v0, rhat = num - qhat * v0;
        while (qhat >= NBASE || qhat * v1 > rhat * NBASE + w[j + 2]) {
            qhat--;
            rhat += v0;
            if (rhat >= NBASE)
                break;
        }
        int64_t borrow = 0;
        for (int32_t i = n; i >= 1; i--) {
            int64_t p = qhat * vn[i - 1] + borrow;
            int64_t t = w[j + i] - p % NBASE;
            borrow = p / NBASE;
            if (t < 0) {
                t += NBASE;
                borrow++;
            }
            w[j + i] = (int32_t)t;
        }
        int64_t top = w[j] - borrow;
        if (top < 0) {
            /* qhat was one too large (rare): add the divisor back. */
            qhat--;
            int32_t c = 0;
            for (int32_t i = n; i >= 1; i--) {
                int32_t s = w[j + i] + vn[i - 1] + c;
                c = s >= NBASE;
                w[j + i] = c ? s - NBASE : s;
            }
            top += c;
        }
        ENG_DASSERT(top == 0);
        w[j] = (int32_t)top;
        q[j] = (int32_t)qhat;
    }
}

/* res = trunc(|a| / |b|) to F base-10000 digits after the point, with the
 * sign of a * b. a and b finite, b nonzero; res must not alias them. */
static void
div_trunc(const eng_numeric *a, const eng_numeric *b, int32_t F, eng_numeric *res)
{
    int32_t na = a->ndigits, nb = b->ndigits;
    uint8_t sign = a->sign == b->sign ? ENG_NUMERIC_POS : ENG_NUMERIC_NEG;
    /* a / b = A / B * NBASE^(la - lb) where A, B are the digit strings as
     * integers; the quotient we want is floor(A * NBASE^shift / B). */
    int32_t shift = low_weight(a) - low_weight(b) + F;
    int32_t ulen = na + shift; /* digits of A shifted (dropping digits truncates) */
    if (na == 0 || ulen < nb) {
        eng_numeric_set_zero(res, 0);
        return;
    }
    /* Scratch: u (ulen), w (ulen + 1), vn (nb), v (nb), q (ulen - nb + 1). */
    int32_t need = 3 * ulen + nb + 2;
    int32_t stackbuf[4 * STACK_DIGITS];
    int32_t *buf = need <= 4 * STACK_DIGITS ? stackbuf : malloc((size_t)need * sizeof *buf);
    ENG_ASSERT(buf != NULL);
    int32_t *u = buf, *w = u + ulen, *vn = w + ulen + 1, *v = vn + nb, *q = v + nb;
    const int16_t *da = eng_numeric_cdigits(a), *db = eng_numeric_cdigits(b);
    for (int32_t i = 0; i < ulen; i++)
        u[i] = i < na ? da[i] : 0;
    for (int32_t i = 0; i < nb; i++)
        v[i] = db[i];
    int32_t qlen = ulen - nb + 1;
    long_div(u, ulen, v, nb, vn, w, q);
    int16_t *r = eng_numeric_reserve(res, qlen);
    for (int32_t i = 0; i < qlen; i++)
        r[i] = (int16_t)q[i];
    if (buf != stackbuf)
        free(buf);
    res->ndigits = qlen;
    res->weight = qlen - 1 - F;
    res->sign = sign;
    res->dscale = F * DEC_DIGITS;
    eng_numeric_normalize(res);
}

int
eng_numeric_div_scale_for(const eng_numeric *a, const eng_numeric *b)
{
    int32_t w1 = 0, w2 = 0, f1 = 0, f2 = 0;
    if (!eng_numeric_is_special(a) && a->ndigits > 0) {
        w1 = a->weight;
        f1 = eng_numeric_cdigits(a)[0];
    }
    if (!eng_numeric_is_special(b) && b->ndigits > 0) {
        w2 = b->weight;
        f2 = eng_numeric_cdigits(b)[0];
    }
    /* Estimate the quotient's weight; when the first digits are equal we
     * cannot tell, so assume a < b as PostgreSQL does. */
    int32_t qweight = w1 - w2;
    if (f1 <= f2)
        qweight--;
    int32_t rscale = NUMERIC_MIN_SIG_DIGITS - qweight * DEC_DIGITS;
    if (rscale < a->dscale)
        rscale = a->dscale;
    if (rscale < b->dscale)
        rscale = b->dscale;
    if (rscale < 0)
        rscale = 0;
    if (rscale > NUMERIC_MAX_DISPLAY_SCALE)
        rscale = NUMERIC_MAX_DISPLAY_SCALE;
    return rscale;
}

static int
division_by_zero(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_DIVISION_BY_ZERO, "division by zero");
}

/* Special-value division as PostgreSQL 14+: returns 1 if res was set, 0 if
 * both are finite, -1 on error. */
static int
div_special(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err)
{
    if (!eng_numeric_is_special(a) && !eng_numeric_is_special(b))
        return 0;
    if (a->sign == ENG_NUMERIC_NAN || b->sign == ENG_NUMERIC_NAN) {
        eng_numeric_set_special(res, ENG_NUMERIC_NAN);
        return 1;
    }
    if (eng_numeric_is_special(a)) { /* +-Inf / x */
        if (eng_numeric_is_special(b)) {
            eng_numeric_set_special(res, ENG_NUMERIC_NAN);
            return 1;
        }
        int s = special_sign_of(b);
        if (s == 0)
            return division_by_zero(err);
        if (a->sign == ENG_NUMERIC_NINF)
            s = -s;
        eng_numeric_set_special(res, s > 0 ? ENG_NUMERIC_PINF : ENG_NUMERIC_NINF);
        return 1;
    }
    /* finite / +-Inf = 0 */
    eng_numeric_set_zero(res, 0);
    return 1;
}

int
eng_numeric_div_scale(const eng_numeric *a, const eng_numeric *b, int rscale, eng_numeric *res,
                      eng_err *err)
{
    int sp = div_special(a, b, res, err);
    if (sp != 0)
        return sp < 0 ? -1 : 0;
    if (b->ndigits == 0)
        return division_by_zero(err);
    if (rscale < 0)
        rscale = 0;
    eng_numeric t;
    eng_numeric_init(&t);
    /* One decimal digit past rscale, truncated, decides the rounding. */
    div_trunc(a, b, (rscale + DEC_DIGITS) / DEC_DIGITS, &t);
    round_to(&t, rscale, true);
    move_into(res, &t);
    return check_format(res, err);
}

int
eng_numeric_div(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err)
{
    return eng_numeric_div_scale(a, b, eng_numeric_div_scale_for(a, b), res, err);
}

int
eng_numeric_mod(const eng_numeric *a, const eng_numeric *b, eng_numeric *res, eng_err *err)
{
    if (eng_numeric_is_special(a) || eng_numeric_is_special(b)) {
        if (a->sign == ENG_NUMERIC_NAN || b->sign == ENG_NUMERIC_NAN) {
            eng_numeric_set_special(res, ENG_NUMERIC_NAN);
            return 0;
        }
        if (eng_numeric_is_special(a)) { /* Inf % x */
            if (special_sign_of(b) == 0)
                return division_by_zero(err);
            eng_numeric_set_special(res, ENG_NUMERIC_NAN);
            return 0;
        }
        eng_numeric_copy(res, a); /* x % Inf = x */
        return 0;
    }
    if (b->ndigits == 0)
        return division_by_zero(err);
    eng_numeric q, p;
    eng_numeric_init(&q);
    eng_numeric_init(&p);
    div_trunc(a, b, 0, &q);
    q.dscale = 0;
    mul_finite(b, &q, &p); /* exact: dscale = b's */
    add_finite(a, &p, true, res);
    eng_numeric_free(&q);
    eng_numeric_free(&p);
    return check_format(res, err);
}

/* ------------------------------------------------------------------ sign, compare, round */

void
eng_numeric_neg(eng_numeric *n)
{
    if (n->sign == ENG_NUMERIC_POS && n->ndigits > 0)
        n->sign = ENG_NUMERIC_NEG;
    else if (n->sign == ENG_NUMERIC_NEG)
        n->sign = ENG_NUMERIC_POS;
    else
        n->sign = negate_sign(n->sign);
}

void
eng_numeric_abs(eng_numeric *n)
{
    if (n->sign == ENG_NUMERIC_NEG)
        n->sign = ENG_NUMERIC_POS;
    else if (n->sign == ENG_NUMERIC_NINF)
        n->sign = ENG_NUMERIC_PINF;
}

static int
order_rank(uint8_t s)
{
    switch (s) {
    case ENG_NUMERIC_NINF:
        return 0;
    case ENG_NUMERIC_PINF:
        return 2;
    case ENG_NUMERIC_NAN:
        return 3;
    default:
        return 1;
    }
}

int
eng_numeric_cmp(const eng_numeric *a, const eng_numeric *b)
{
    int ra = order_rank(a->sign), rb = order_rank(b->sign);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (ra != 1)
        return 0;
    if (a->sign != b->sign) /* zero is always positive */
        return a->sign == ENG_NUMERIC_NEG ? -1 : 1;
    int c = cmp_abs(a, b);
    return a->sign == ENG_NUMERIC_NEG ? -c : c;
}

static void
round_or_trunc(eng_numeric *n, int scale, bool round)
{
    if (eng_numeric_is_special(n))
        return;
    if (scale > ENG_NUMERIC_MAX_RESULT_SCALE)
        scale = ENG_NUMERIC_MAX_RESULT_SCALE;
    if (scale < -ENG_NUMERIC_MAX_RESULT_SCALE)
        scale = -ENG_NUMERIC_MAX_RESULT_SCALE;
    round_to(n, scale, round);
    if (n->dscale < 0)
        n->dscale = 0;
}

void
eng_numeric_round(eng_numeric *n, int scale)
{
    round_or_trunc(n, scale, true);
}

void
eng_numeric_trunc(eng_numeric *n, int scale)
{
    round_or_trunc(n, scale, false);
}

/* ------------------------------------------------------------------ typmod */

int32_t
eng_numeric_typmod_make(int precision, int scale)
{
    return (int32_t)((((uint32_t)precision << 16) | ((uint32_t)scale & 0x7ff)) + 4);
}

int
eng_numeric_typmod_precision(int32_t typmod)
{
    return (int)(((uint32_t)(typmod - 4) >> 16) & 0xffff);
}

int
eng_numeric_typmod_scale(int32_t typmod)
{
    /* 11-bit two's complement (PostgreSQL 15 allows negative scales). */
    return (int)((((uint32_t)(typmod - 4) & 0x7ff) ^ 1024)) - 1024;
}

int
eng_numeric_apply_typmod(eng_numeric *n, int32_t typmod, eng_err *err)
{
    if (!eng_numeric_typmod_valid(typmod) || n->sign == ENG_NUMERIC_NAN)
        return 0;
    int precision = eng_numeric_typmod_precision(typmod);
    int scale = eng_numeric_typmod_scale(typmod);
    if (eng_numeric_is_special(n)) {
        eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "numeric field overflow");
        eng_err_detail(err, "A field with precision %d, scale %d cannot hold an infinite value.",
                       precision, scale);
        return -1;
    }
    int maxdigits = precision - scale;
    round_to(n, scale, true);
    if (n->dscale < 0)
        n->dscale = 0;
    if (n->ndigits == 0)
        return 0;
    int32_t ddigits = (n->weight + 1) * DEC_DIGITS;
    int32_t first = eng_numeric_cdigits(n)[0];
    if (first < 10)
        ddigits -= 3;
    else if (first < 100)
        ddigits -= 2;
    else if (first < 1000)
        ddigits -= 1;
    if (ddigits > maxdigits) {
        eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "numeric field overflow");
        eng_err_detail(err,
                       "A field with precision %d, scale %d must round to an absolute value "
                       "less than %s%d.",
                       precision, scale, maxdigits ? "10^" : "", maxdigits ? maxdigits : 1);
        return -1;
    }
    return 0;
}
