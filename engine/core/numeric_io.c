/* Numeric text input/output and conversions to and from integers and
 * floats, with PostgreSQL 15's accepted inputs, output and error wording. */
#include "engine/core/eng_numeric.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBASE ENG_NUMERIC_NBASE
#define DEC_DIGITS ENG_NUMERIC_DEC_DIGITS

/* PostgreSQL's isspace() set in the C locale. */
static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool
prefix_ci(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word);
    if (n < wl)
        return false;
    for (size_t i = 0; i < wl; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        char w = word[i];
        if (w >= 'A' && w <= 'Z')
            w = (char)(w + 32);
        if (c != w)
            return false;
    }
    return true;
}

static int
syntax_error(const char *s, size_t n, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                       "invalid input syntax for type numeric: \"%.*s\"", (int)n, s);
}

int
eng_numeric_parse(const char *s, size_t n, int32_t typmod, eng_numeric *out, eng_err *err)
{
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    static const struct {
        const char *word;
        eng_numeric_sign sign;
    } specials[] = {
        {"NaN", ENG_NUMERIC_NAN},        {"Infinity", ENG_NUMERIC_PINF},
        {"+Infinity", ENG_NUMERIC_PINF}, {"-Infinity", ENG_NUMERIC_NINF},
        {"inf", ENG_NUMERIC_PINF},       {"+inf", ENG_NUMERIC_PINF},
        {"-inf", ENG_NUMERIC_NINF},
    };
    for (size_t k = 0; k < sizeof specials / sizeof specials[0]; k++) {
        if (!prefix_ci(s + i, n - i, specials[k].word))
            continue;
        i += strlen(specials[k].word);
        while (i < n && is_space(s[i]))
            i++;
        if (i != n)
            return syntax_error(s, n, err);
        eng_numeric_set_special(out, specials[k].sign);
        return eng_numeric_apply_typmod(out, typmod, err);
    }

    /* Scan sign, digits and point; remember where the digits are. */
    uint8_t sign = ENG_NUMERIC_POS;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '-' ? ENG_NUMERIC_NEG : ENG_NUMERIC_POS;
        i++;
    }
    bool have_dp = false;
    if (i < n && s[i] == '.') {
        have_dp = true;
        i++;
    }
    if (i >= n || !is_digit(s[i]))
        return syntax_error(s, n, err);
    size_t dstart = i;
    int64_t dweight = -1, dscale = 0, ddigits = 0;
    while (i < n) {
        if (is_digit(s[i])) {
            ddigits++;
            if (have_dp)
                dscale++;
            else
                dweight++;
            i++;
        } else if (s[i] == '.') {
            if (have_dp)
                return syntax_error(s, n, err);
            have_dp = true;
            i++;
        } else {
            break;
        }
    }
    size_t dend = i;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        /* The exponent is read as strtol() would: white space, sign, digits. */
        i++;
        size_t j = i;
        while (j < n && is_space(s[j]))
            j++;
        bool eneg = false;
        if (j < n && (s[j] == '+' || s[j] == '-')) {
            eneg = s[j] == '-';
            j++;
        }
        if (j >= n || !is_digit(s[j]))
            return syntax_error(s, n, err);
        int64_t e = 0;
        while (j < n && is_digit(s[j])) {
            if (e < INT64_MAX / 100)
                e = e * 10 + (s[j] - '0');
            j++;
        }
        if (e >= INT_MAX / 2)
            return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                               "value overflows numeric format");
        if (eneg)
            e = -e;
        dweight += e;
        dscale -= e;
        if (dscale < 0)
            dscale = 0;
        i = j;
    }
    while (i < n && is_space(s[i]))
        i++;
    if (i != n)
        return syntax_error(s, n, err);

    /* Align the decimal digits on base-10000 digit boundaries. */
    int64_t weight;
    if (dweight >= 0)
        weight = (dweight + 1 + DEC_DIGITS - 1) / DEC_DIGITS - 1;
    else
        weight = -((-dweight - 1) / DEC_DIGITS + 1);
    int64_t offset = (weight + 1) * DEC_DIGITS - (dweight + 1);
    int64_t nd = (ddigits + offset + DEC_DIGITS - 1) / DEC_DIGITS;
    if (weight > INT32_MAX / 2 || weight < INT32_MIN / 2 || dscale > INT32_MAX / 2)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "value overflows numeric format");
    int16_t *d = eng_numeric_reserve(out, (int32_t)nd);
    memset(d, 0, (size_t)nd * sizeof *d);
    static const int16_t mult[4] = {1000, 100, 10, 1};
    int64_t pos = offset; /* decimal position within the digit array */
    for (size_t k = dstart; k < dend; k++) {
        if (s[k] == '.')
            continue;
        d[pos / DEC_DIGITS] =
            (int16_t)(d[pos / DEC_DIGITS] + (s[k] - '0') * mult[pos % DEC_DIGITS]);
        pos++;
    }
    out->sign = sign;
    out->weight = (int32_t)weight;
    out->ndigits = (int32_t)nd;
    out->dscale = (int32_t)dscale;
    eng_numeric_normalize(out);
    if (eng_numeric_apply_typmod(out, typmod, err) < 0)
        return -1;
    if (out->weight > ENG_NUMERIC_WEIGHT_MAX || out->weight < ENG_NUMERIC_WEIGHT_MIN ||
        out->dscale > ENG_NUMERIC_DSCALE_MAX)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                           "value overflows numeric format");
    return 0;
}

/* Exact length of numeric_out's text for a finite value. */
static size_t
text_len(const eng_numeric *n)
{
    size_t len = n->sign == ENG_NUMERIC_NEG ? 1 : 0;
    if (n->ndigits == 0 || n->weight < 0) {
        len += 1;
    } else {
        int32_t first = eng_numeric_cdigits(n)[0];
        len += (size_t)n->weight * DEC_DIGITS + (first >= 1000  ? 4
                                                 : first >= 100 ? 3
                                                 : first >= 10  ? 2
                                                                : 1);
    }
    if (n->dscale > 0)
        len += 1 + (size_t)n->dscale;
    return len;
}

/* Writes numeric_out's text for a finite value into p (text_len bytes). */
static void
write_text(const eng_numeric *n, char *p)
{
    const int16_t *d = eng_numeric_cdigits(n);
    if (n->sign == ENG_NUMERIC_NEG)
        *p++ = '-';
    if (n->ndigits == 0 || n->weight < 0) {
        *p++ = '0';
    } else {
        for (int32_t w = n->weight, i = 0; w >= 0; w--, i++) {
            int32_t v = i < n->ndigits ? d[i] : 0;
            char tmp[4];
            for (int k = 3; k >= 0; k--) {
                tmp[k] = (char)('0' + v % 10);
                v /= 10;
            }
            int skip = 0;
            if (i == 0)
                while (skip < 3 && tmp[skip] == '0')
                    skip++;
            memcpy(p, tmp + skip, (size_t)(4 - skip));
            p += 4 - skip;
        }
    }
    if (n->dscale > 0) {
        *p++ = '.';
        int32_t left = n->dscale;
        for (int32_t w = -1; left > 0; w--) {
            int32_t i = n->weight - w;
            int32_t v = (i >= 0 && i < n->ndigits) ? d[i] : 0;
            char tmp[4];
            for (int k = 3; k >= 0; k--) {
                tmp[k] = (char)('0' + v % 10);
                v /= 10;
            }
            int take = left < 4 ? left : 4;
            memcpy(p, tmp, (size_t)take);
            p += take;
            left -= take;
        }
    }
}

void
eng_numeric_format(const eng_numeric *n, eng_strbuf *out)
{
    switch (n->sign) {
    case ENG_NUMERIC_NAN:
        eng_strbuf_puts(out, "NaN");
        return;
    case ENG_NUMERIC_PINF:
        eng_strbuf_puts(out, "Infinity");
        return;
    case ENG_NUMERIC_NINF:
        eng_strbuf_puts(out, "-Infinity");
        return;
    default:
        break;
    }
    size_t len = text_len(n);
    write_text(n, eng_strbuf_extend(out, len));
}

/* ------------------------------------------------------------------ conversions */

void
eng_numeric_from_int64(eng_numeric *n, int64_t v)
{
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int16_t tmp[5];
    int nd = 0;
    while (u) {
        tmp[nd++] = (int16_t)(u % NBASE);
        u /= NBASE;
    }
    eng_numeric_set_zero(n, 0);
    if (nd == 0)
        return;
    int16_t *d = eng_numeric_reserve(n, nd);
    for (int i = 0; i < nd; i++)
        d[i] = tmp[nd - 1 - i];
    n->ndigits = nd;
    n->weight = nd - 1;
    n->sign = v < 0 ? ENG_NUMERIC_NEG : ENG_NUMERIC_POS;
    eng_numeric_normalize(n);
}

void
eng_numeric_from_float8(eng_numeric *n, double v)
{
    if (isnan(v)) {
        eng_numeric_set_special(n, ENG_NUMERIC_NAN);
        return;
    }
    if (isinf(v)) {
        eng_numeric_set_special(n, v < 0 ? ENG_NUMERIC_NINF : ENG_NUMERIC_PINF);
        return;
    }
    char buf[64];
    int len = snprintf(buf, sizeof buf, "%.*g", 15, v);
    int rc = eng_numeric_parse(buf, (size_t)len, -1, n, NULL);
    ENG_ASSERT(rc == 0);
}

void
eng_numeric_from_float4(eng_numeric *n, float v)
{
    if (isnan(v)) {
        eng_numeric_set_special(n, ENG_NUMERIC_NAN);
        return;
    }
    if (isinf(v)) {
        eng_numeric_set_special(n, v < 0 ? ENG_NUMERIC_NINF : ENG_NUMERIC_PINF);
        return;
    }
    char buf[64];
    int len = snprintf(buf, sizeof buf, "%.*g", 6, (double)v);
    int rc = eng_numeric_parse(buf, (size_t)len, -1, n, NULL);
    ENG_ASSERT(rc == 0);
}

int
eng_numeric_to_int(const eng_numeric *n, int bits, int64_t *out, eng_err *err)
{
    const char *tname = bits == 16 ? "smallint" : bits == 32 ? "integer" : "bigint";
    if (n->sign == ENG_NUMERIC_NAN)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "cannot convert NaN to %s",
                           tname);
    if (eng_numeric_is_special(n))
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "cannot convert infinity to %s",
                           tname);
    eng_numeric r;
    eng_numeric_init(&r);
    eng_numeric_copy(&r, n);
    eng_numeric_round(&r, 0);
    bool ok = true;
    int64_t val = 0;
    const int16_t *d = eng_numeric_cdigits(&r);
    if (r.ndigits > 0 && r.weight > 4)
        ok = false;
    /* Accumulate as a negative number so INT64_MIN is representable. */
    for (int32_t w = r.weight, i = 0; ok && r.ndigits > 0 && w >= 0; w--, i++) {
        int32_t dig = i < r.ndigits ? d[i] : 0;
        if (val < (INT64_MIN + dig) / NBASE) {
            ok = false;
            break;
        }
        val = val * NBASE - dig;
    }
    if (ok && r.sign != ENG_NUMERIC_NEG) {
        if (val == INT64_MIN)
            ok = false;
        else
            val = -val;
    }
    eng_numeric_free(&r);
    int64_t lo = bits == 16 ? INT16_MIN : bits == 32 ? INT32_MIN : INT64_MIN;
    int64_t hi = bits == 16 ? INT16_MAX : bits == 32 ? INT32_MAX : INT64_MAX;
    if (!ok || val < lo || val > hi)
        return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE, "%s out of range", tname);
    *out = val;
    return 0;
}

/* Formats n into a NUL-terminated string: into small when it fits, else into
 * *heap (malloc'd; caller frees). */
static char *
to_cstring(const eng_numeric *n, char *small, size_t cap, char **heap)
{
    size_t len = text_len(n);
    char *p = small;
    *heap = NULL;
    if (len + 1 > cap) {
        p = *heap = malloc(len + 1);
        ENG_ASSERT(p != NULL);
    }
    write_text(n, p);
    p[len] = '\0';
    return p;
}

int
eng_numeric_to_float8(const eng_numeric *n, double *out, eng_err *err)
{
    switch (n->sign) {
    case ENG_NUMERIC_NAN:
        *out = (double)NAN;
        return 0;
    case ENG_NUMERIC_PINF:
        *out = (double)INFINITY;
        return 0;
    case ENG_NUMERIC_NINF:
        *out = -(double)INFINITY;
        return 0;
    default:
        break;
    }
    char small[128], *heap;
    char *s = to_cstring(n, small, sizeof small, &heap);
    errno = 0;
    double v = strtod(s, NULL);
    int rc = 0;
    if (errno == ERANGE && (v == 0.0 || isinf(v)))
        rc = eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                         "\"%s\" is out of range for type double precision", s);
    else
        *out = v;
    free(heap);
    return rc;
}

int
eng_numeric_to_float4(const eng_numeric *n, float *out, eng_err *err)
{
    switch (n->sign) {
    case ENG_NUMERIC_NAN:
        *out = NAN;
        return 0;
    case ENG_NUMERIC_PINF:
        *out = INFINITY;
        return 0;
    case ENG_NUMERIC_NINF:
        *out = -INFINITY;
        return 0;
    default:
        break;
    }
    char small[128], *heap;
    char *s = to_cstring(n, small, sizeof small, &heap);
    errno = 0;
    float v = strtof(s, NULL);
    int rc = 0;
    if (errno == ERANGE && (v == 0.0f || isinf(v)))
        rc = eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                         "\"%s\" is out of range for type real", s);
    else
        *out = v;
    free(heap);
    return rc;
}
