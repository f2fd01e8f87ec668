/* float4/float8 text I/O (see eng_float.h).
 *
 * Notes: the shortest round-trip digits are found with the C library,
 * which rounds correctly in both directions: for a digit count p, the
 * correctly rounded p-digit decimal is the closest p-digit candidate; if it
 * does not read back as the input, the only other p-digit candidate that
 * could is its neighbour on the far side of the value (the rounding
 * interval is asymmetric at powers of two). "Some p-digit decimal reads
 * back" is monotone in p, so the shortest p is found by bisection over
 * 1..17 (1..9 for float4). This yields the same digits as Ryu. */
#include "engine/core/eng_float.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
prefix_ci(const char *s, const char *word)
{
    for (; *word; s++, word++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        char w = *word;
        if (w >= 'A' && w <= 'Z')
            w = (char)(w + 32);
        if (c != w)
            return false;
    }
    return true;
}

/* Shared by float4 and float8: PostgreSQL's float[48]in logic. */
static int
parse_float(const char *s, size_t n, bool is4, double *out, eng_err *err)
{
    const char *tname = is4 ? "real" : "double precision";
    char small[256];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    ENG_ASSERT(buf != NULL);
    memcpy(buf, s, n);
    buf[n] = '\0';
    int rc = 0;
    if (memchr(s, '\0', n) != NULL)
        goto syntax;
    const char *num = buf;
    while (*num && is_space(*num))
        num++;
    if (*num == '\0')
        goto syntax;
    char *end;
    double val;
    errno = 0;
    if (is4)
        val = (double)strtof(num, &end);
    else
        val = strtod(num, &end);
    if (end == num || errno != 0) {
        int save = errno;
        static const struct {
            const char *w;
            int sign; /* 0 NaN, 1 +inf, -1 -inf */
        } sp[] = {{"NaN", 0}, {"Infinity", 1}, {"+Infinity", 1}, {"-Infinity", -1},
                  {"inf", 1}, {"+inf", 1},     {"-inf", -1}};
        size_t k;
        for (k = 0; k < sizeof sp / sizeof sp[0]; k++)
            if (prefix_ci(num, sp[k].w))
                break;
        if (k < sizeof sp / sizeof sp[0]) {
            val = sp[k].sign == 0 ? (double)NAN : sp[k].sign * (double)INFINITY;
            end = (char *)num + strlen(sp[k].w);
        } else if (save == ERANGE) {
            if (val == 0.0 || isinf(val)) {
                /* PostgreSQL quotes only the number: no surrounding space */
                rc = eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                                 "\"%.*s\" is out of range for type %s", (int)(end - num), num,
                                 tname);
                goto done;
            }
        } else {
            goto syntax;
        }
    }
    while (*end && is_space(*end))
        end++;
    if (*end != '\0')
        goto syntax;
    *out = val;
    goto done;
syntax:
    rc = eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                     "invalid input syntax for type %s: \"%s\"", tname, buf);
done:
    if (buf != small)
        free(buf);
    return rc;
}

int
eng_float8_parse(const char *s, size_t n, double *out, eng_err *err)
{
    return parse_float(s, n, false, out, err);
}

int
eng_float4_parse(const char *s, size_t n, float *out, eng_err *err)
{
    double v;
    if (parse_float(s, n, true, &v, err) < 0)
        return -1;
    *out = (float)v;
    return 0;
}

/* ------------------------------------------------------------------ output */

/* A candidate decimal: digits[0..len) with the point after the first digit,
 * times 10^exp. */
typedef struct {
    char digits[24];
    int len;
    int exp;
} decimal;

/* True if decimal d equals exactly the midpoint between v (> 0) and its
 * neighbour on d's side. Every such midpoint is m * 2^e with m odd and
 * below 2^55, so a decimal with <= 17 digits can only hit one when its
 * power of ten is small: exact integer arithmetic suffices. */
static bool
midpoint_eq(const decimal *d, double v, double u)
{
    /* v and u as integers times a power of two with a common exponent */
    int ev, eu;
    double fv = frexp(v, &ev), fu = frexp(u, &eu);
    int e = (ev < eu ? ev : eu) - 60;
    unsigned __int128 mv = (unsigned __int128)ldexp(fv, ev - e);
    unsigned __int128 mu = (unsigned __int128)ldexp(fu, eu - e);
    unsigned __int128 n = mv + mu; /* midpoint = n * 2^(e-1) */
    int E = e - 1;
    while (n != 0 && (n & 1) == 0) {
        n >>= 1;
        E++;
    }
    /* d = D * 10^k with D the digit string as an integer */
    uint64_t D = 0;
    for (int i = 0; i < d->len; i++)
        D = D * 10 + (uint64_t)(d->digits[i] - '0');
    int k = d->exp - (d->len - 1);
    int t = 0;
    while (D != 0 && (D & 1) == 0) {
        D >>= 1;
        t++;
    }
    unsigned __int128 x = D;
    if (k >= 0) {
        if (k > 27)
            return false;
        for (int i = 0; i < k; i++)
            x *= 5;
    } else {
        if (-k > 27)
            return false;
        for (int i = 0; i < -k; i++) {
            if (x % 5 != 0)
                return false;
            x /= 5;
        }
    }
    /* 2^(t+k) * x == 2^E * n, both odd parts */
    return x == n && t + k == E;
}

/* True if decimal d equals exactly the midpoint between v (> 0) and one
 * of its neighbours. Every such midpoint is m * 2^e with m odd and below
 * 2^55, so a decimal with <= 17 digits can only hit one when its power of
 * ten is small: exact integer arithmetic suffices. */
static bool
is_midpoint(const decimal *d, double v, bool is4)
{
    for (int dir = 0; dir < 2; dir++) {
        double u = is4 ? (double)nextafterf((float)v, dir ? INFINITY : 0.0f)
                       : nextafter(v, dir ? INFINITY : 0.0);
        if (!isinf(u) && u != 0.0 && midpoint_eq(d, v, u))
            return true;
    }
    return false;
}

/* True if d lies strictly inside v's rounding interval: it reads back as v
 * and is not exactly on a boundary (PostgreSQL's Ryu does not accept
 * boundary values even when round-half-even would map them back). *r is
 * set to d's value as a double. */
static bool
reads_back(const decimal *d, double v, bool is4, double *r)
{
    char buf[48];
    if (d->len == 1)
        snprintf(buf, sizeof buf, "%ce%d", d->digits[0], d->exp);
    else
        snprintf(buf, sizeof buf, "%c.%.*se%d", d->digits[0], d->len - 1, d->digits + 1, d->exp);
    *r = strtod(buf, NULL);
    bool same = is4 ? strtof(buf, NULL) == (float)v : *r == v;
    return same && !is_midpoint(d, v, is4);
}

/* Parses "d.ddde[+-]XX" (printf %e output) into a decimal. */
static void
from_e_format(const char *buf, decimal *d)
{
    int k = 0;
    const char *c = buf;
    for (; *c && *c != 'e'; c++)
        if (*c != '.')
            d->digits[k++] = *c;
    d->len = k;
    d->exp = atoi(c + 1);
}

/* Correctly rounded p-digit decimal of v (v > 0, finite), derived from the
 * correctly rounded maximal-length digits `full`: rounding those again is
 * exact unless they end in exactly 5000..., where the exact value may lie
 * on either side of the midpoint; then printf is asked for p digits. */
static void
rounded(double v, int p, const decimal *full, decimal *d)
{
    if (p >= full->len) {
        *d = *full;
        return;
    }
    *d = *full;
    d->len = p;
    char first = full->digits[p];
    bool up = first > '5';
    if (first == '5') {
        bool tail = false;
        for (int i = p + 1; i < full->len; i++)
            tail |= full->digits[i] != '0';
        if (!tail) {
            char buf[48];
            snprintf(buf, sizeof buf, "%.*e", p - 1, v);
            from_e_format(buf, d);
            return;
        }
        up = true;
    }
    if (up) {
        int i = p - 1;
        while (i >= 0 && d->digits[i] == '9')
            d->digits[i--] = '0';
        if (i >= 0) {
            d->digits[i]++;
        } else {
            d->digits[0] = '1';
            d->exp++;
        }
    }
}

/* Adds (up) or subtracts one unit in the last digit. */
static void
step(decimal *d, bool up)
{
    int i = d->len - 1;
    if (up) {
        while (i >= 0 && d->digits[i] == '9')
            d->digits[i--] = '0';
        if (i >= 0) {
            d->digits[i]++;
        } else { /* 99..9 -> 100..0: one more digit than p, drop a zero */
            d->digits[0] = '1';
            d->exp++;
        }
    } else {
        while (i >= 0 && d->digits[i] == '0')
            d->digits[i--] = '9';
        // cppcheck-suppress negativeIndex ; digits[0] >= 1, so the loop stops at i >= 0
        d->digits[i]--;
        if (d->digits[0] == '0') { /* 100..0 -> 099..9: renormalise */
            memmove(d->digits, d->digits + 1, (size_t)d->len - 1);
            d->digits[d->len - 1] = '9';
            d->exp--;
        }
    }
}

/* The p-digit decimal inside v's rounding interval closest to v, if any. */
static bool
try_digits(double v, int p, bool is4, const decimal *full, decimal *out)
{
    decimal d;
    double r;
    rounded(v, p, full, &d);
    if (reads_back(&d, v, is4, &r)) {
        *out = d;
        return true;
    }
    /* Only the neighbour on the far side of v can still be inside. */
    if (r == v)
        return false;
    step(&d, r < v);
    if (reads_back(&d, v, is4, &r)) {
        *out = d;
        return true;
    }
    return false;
}

static size_t
shortest(double v, bool is4, char *out)
{
    char *p = out;
    if (isnan(v)) {
        strcpy(out, "NaN");
        return 3;
    }
    if (signbit(v)) {
        *p++ = '-';
        v = -v;
    }
    if (isinf(v)) {
        strcpy(p, "Infinity");
        return (size_t)(p - out) + 8;
    }
    if (v == 0.0) {
        strcpy(p, "0");
        return (size_t)(p - out) + 1;
    }
    int lo = 1, hi = is4 ? 9 : 17;
    /* 17 (9) correctly rounded digits always read back; shorter candidates
     * are derived from them. */
    decimal full, best;
    char buf[48];
    snprintf(buf, sizeof buf, "%.*e", hi - 1, v);
    from_e_format(buf, &full);
    best = full;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        decimal d;
        if (try_digits(v, mid, is4, &full, &d)) {
            best = d;
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    while (best.len > 1 && best.digits[best.len - 1] == '0')
        best.len--;
    int exp = best.exp, len = best.len;
    if (exp >= -4 && exp < (is4 ? 6 : 15)) {
        if (exp < 0) {
            *p++ = '0';
            *p++ = '.';
            for (int i = 0; i < -exp - 1; i++)
                *p++ = '0';
            memcpy(p, best.digits, (size_t)len);
            p += len;
        } else {
            for (int i = 0; i <= exp; i++)
                *p++ = i < len ? best.digits[i] : '0';
            if (len > exp + 1) {
                *p++ = '.';
                memcpy(p, best.digits + exp + 1, (size_t)(len - exp - 1));
                p += len - exp - 1;
            }
        }
    } else {
        *p++ = best.digits[0];
        if (len > 1) {
            *p++ = '.';
            memcpy(p, best.digits + 1, (size_t)len - 1);
            p += len - 1;
        }
        *p++ = 'e';
        *p++ = exp < 0 ? '-' : '+';
        int e = exp < 0 ? -exp : exp;
        if (e >= 100)
            *p++ = (char)('0' + e / 100);
        *p++ = (char)('0' + (e / 10) % 10);
        *p++ = (char)('0' + e % 10);
    }
    *p = '\0';
    return (size_t)(p - out);
}

size_t
eng_float8_shortest(double v, char buf[ENG_FLOAT_SHORTEST_MAX])
{
    return shortest(v, false, buf);
}

size_t
eng_float4_shortest(float v, char buf[ENG_FLOAT_SHORTEST_MAX])
{
    return shortest((double)v, true, buf);
}

void
eng_float8_format(double v, eng_strbuf *out)
{
    char buf[ENG_FLOAT_SHORTEST_MAX];
    size_t n = shortest(v, false, buf);
    eng_strbuf_append(out, buf, n);
}

void
eng_float4_format(float v, eng_strbuf *out)
{
    char buf[ENG_FLOAT_SHORTEST_MAX];
    size_t n = shortest((double)v, true, buf);
    eng_strbuf_append(out, buf, n);
}
