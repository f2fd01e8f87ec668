/* Scalar expressions: string functions and LIKE, with their type
 * resolution.
 *
 * Notes: text is UTF-8. Character positions and lengths count characters:
 * a character is a lead byte and the continuation bytes its lead byte
 * announces, clipped at the end of the string, so malformed input never
 * reads out of bounds (a stray continuation byte counts as one character).
 * Results are built in the evaluator's scratch arena; sizes are checked
 * against PostgreSQL's limits (54000 "requested length too large" past
 * 1 GB) before anything is allocated. */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <wctype.h>

#include "operators/expr_int.h"

/* ------------------------------------------------------------------ UTF-8 */

/* Bytes of the character starting at s[0] (1..4, clipped to n >= 1). */
static inline uint32_t
ch_len(const uint8_t *s, uint32_t n)
{
    uint8_t c = s[0];
    uint32_t l = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
    return l < n ? l : n;
}

int64_t
op_x_utf8_count(const uint8_t *s, uint32_t len)
{
    int64_t n = 0;
    for (uint32_t i = 0; i < len; i += ch_len(s + i, len - i))
        n++;
    return n;
}

/* Byte offset of character k (0-based) of s, or len if s is shorter. */
static uint32_t
ch_offset(const uint8_t *s, uint32_t len, int64_t k)
{
    uint32_t i = 0;
    while (k > 0 && i < len) {
        i += ch_len(s + i, len - i);
        k--;
    }
    return i;
}

/* Decodes a well-formed multi-byte character; -1 if malformed. */
static int32_t
ch_decode(const uint8_t *s, uint32_t l)
{
    if (l == 1)
        return s[0] < 0x80 ? s[0] : -1;
    int32_t cp = s[0] & (0x7F >> l);
    for (uint32_t i = 1; i < l; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const int32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[l] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    return cp;
}

static uint32_t
ch_encode(int32_t cp, uint8_t *out)
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------ case mapping */

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void
utf8_locale_init(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static int32_t
map_case(int32_t cp, bool upper)
{
    if (cp < 0x80 || utf8_locale == (locale_t)0) {
        if (upper && cp >= 'a' && cp <= 'z')
            return cp - 32;
        if (!upper && cp >= 'A' && cp <= 'Z')
            return cp + 32;
        return cp;
    }
    wint_t m = upper ? towupper_l((wint_t)cp, utf8_locale) : towlower_l((wint_t)cp, utf8_locale);
    /* Never produce something we cannot encode back. */
    if ((int32_t)m <= 0 || m > 0x10FFFF || (m >= 0xD800 && m <= 0xDFFF))
        return cp;
    return (int32_t)m;
}

/* upper/lower of s into the arena. Malformed bytes are copied unchanged. */
static int
case_map(op_eval *ev, const uint8_t *s, uint32_t n, bool upper, op_val *r, eng_err *err)
{
    pthread_once(&utf8_once, utf8_locale_init);
    /* A character grows at most from 2 to 3 bytes under case mapping. */
    uint8_t *out = op_x_alloc(ev, (size_t)n * 2, err);
    if (out == NULL)
        return -1;
    uint32_t o = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t l = ch_len(s + i, n - i);
        int32_t cp = ch_decode(s + i, l);
        if (cp < 0) {
            memcpy(out + o, s + i, l);
            o += l;
        } else {
            o += ch_encode(map_case(cp, upper), out + o);
        }
        i += l;
    }
    op_x_str(r, out, o);
    return 0;
}

/* ------------------------------------------------------------------ implementations */

enum {
    S_LENGTH,
    S_OCTET_LENGTH,
    S_UPPER,
    S_LOWER,
    S_REVERSE,
    S_INITCAP,
};

/* True if code point cp is a letter or digit (initcap's word characters). */
static bool
is_alnum_cp(int32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    return utf8_locale != (locale_t)0 && iswalnum_l((wint_t)cp, utf8_locale);
}

/* initcap: the first letter of each run of letters and digits upper-cased,
 * the rest lower-cased. Malformed bytes are copied and end a word. */
static int
initcap(op_eval *ev, const uint8_t *s, uint32_t n, op_val *r, eng_err *err)
{
    pthread_once(&utf8_once, utf8_locale_init);
    uint8_t *out = op_x_alloc(ev, (size_t)n * 2, err);
    if (out == NULL)
        return -1;
    uint32_t o = 0;
    bool in_word = false;
    for (uint32_t i = 0; i < n;) {
        uint32_t l = ch_len(s + i, n - i);
        int32_t cp = ch_decode(s + i, l);
        if (cp < 0) {
            memcpy(out + o, s + i, l);
            o += l;
            in_word = false;
        } else {
            o += ch_encode(map_case(cp, !in_word), out + o);
            in_word = is_alnum_cp(cp);
        }
        i += l;
    }
    op_x_str(r, out, o);
    return 0;
}

static int
x_str1(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    const uint8_t *s = a[0].u.p;
    uint32_t n = a[0].len;
    switch (in->aux8) {
    case S_LENGTH:
        op_x_int(r, ENG_TAG_INT4, op_x_utf8_count(s, n));
        return 0;
    case S_OCTET_LENGTH:
        op_x_int(r, ENG_TAG_INT4, n);
        return 0;
    case S_UPPER:
    case S_LOWER:
        return case_map(ev, s, n, in->aux8 == S_UPPER, r, err);
    case S_INITCAP:
        return initcap(ev, s, n, r, err);
    default: { /* reverse, by characters */
        uint8_t *out = op_x_alloc(ev, n, err);
        if (out == NULL)
            return -1;
        for (uint32_t i = 0; i < n;) {
            uint32_t l = ch_len(s + i, n - i);
            memcpy(out + n - i - l, s + i, l);
            i += l;
        }
        op_x_str(r, out, n);
        return 0;
    }
    }
}

/* substr(s, start [, count]): characters [start, start + count), 1-based,
 * clipped to the string; a start before 1 eats into the count. */
static int
x_substr(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev;
    const uint8_t *s = a[0].u.p;
    uint32_t n = a[0].len;
    int64_t start = a[1].u.i, end = INT64_MAX;
    if (in->nargs == 3) {
        int64_t count = a[2].u.i;
        if (count < 0)
            return eng_err_set(err, ENG_ERRCODE_SUBSTRING_ERROR,
                               "negative substring length not allowed");
        end = start + count; /* ints are int4: no overflow in int64 */
    }
    if (start < 1)
        start = 1;
    if (end <= start) {
        op_x_str(r, s, 0);
        return 0;
    }
    uint32_t b = ch_offset(s, n, start - 1);
    uint32_t e = end == INT64_MAX ? n : b + ch_offset(s + b, n - b, end - start);
    op_x_str(r, s + b, e - b);
    return 0;
}

/* strpos(s, sub): 1-based character position of the first match, 0 if none. */
static int
x_strpos(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    const uint8_t *s = a[0].u.p, *t = a[1].u.p;
    uint32_t n = a[0].len, m = a[1].len;
    if (m == 0) {
        op_x_int(r, ENG_TAG_INT4, 1);
        return 0;
    }
    /* Search at character starts only, so malformed text never matches
     * in the middle of a character. */
    int64_t pos = 1;
    for (uint32_t i = 0; i + m <= n; i += ch_len(s + i, n - i), pos++) {
        if (s[i] == t[0] && memcmp(s + i, t, m) == 0) {
            op_x_int(r, ENG_TAG_INT4, pos);
            return 0;
        }
    }
    op_x_int(r, ENG_TAG_INT4, 0);
    return 0;
}

/* True if the character c (l bytes) is one of the characters of set. */
static bool
in_set(const uint8_t *c, uint32_t l, const uint8_t *set, uint32_t n)
{
    for (uint32_t i = 0; i < n;) {
        uint32_t k = ch_len(set + i, n - i);
        if (k == l && memcmp(set + i, c, l) == 0)
            return true;
        i += k;
    }
    return false;
}

/* btrim/ltrim/rtrim(s [, chars]); aux8: bit 0 leading, bit 1 trailing. */
static int
x_trim(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    const uint8_t *s = a[0].u.p;
    const uint8_t *set = in->nargs == 2 ? a[1].u.p : (const uint8_t *)" ";
    uint32_t n = a[0].len, m = in->nargs == 2 ? a[1].len : 1;
    uint32_t b = 0, e = n;
    if (m > 0 && (in->aux8 & 1)) {
        while (b < e) {
            uint32_t l = ch_len(s + b, e - b);
            if (!in_set(s + b, l, set, m))
                break;
            b += l;
        }
    }
    if (m > 0 && (in->aux8 & 2)) {
        while (e > b) {
            /* step back to the start of the last character */
            uint32_t k = e - 1;
            while (k > b && (s[k] & 0xC0) == 0x80 && e - k < 4)
                k--;
            uint32_t l = ch_len(s + k, e - k);
            if (k + l != e) { /* malformed tail: treat the last byte alone */
                k = e - 1;
                l = 1;
            }
            if (!in_set(s + k, l, set, m))
                break;
            e = k;
        }
    }
    op_x_str(r, s + b, e - b);
    return 0;
}

/* Non-overlapping occurrences of t (m > 0 bytes) in s, left to right. */
static const uint8_t *
find(const uint8_t *s, uint32_t n, const uint8_t *t, uint32_t m)
{
    if (m > n)
        return NULL;
    return memmem(s, n, t, m);
}

static int
x_replace(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    const uint8_t *s = a[0].u.p, *f = a[1].u.p, *t = a[2].u.p;
    uint32_t n = a[0].len, fl = a[1].len, tl = a[2].len;
    if (n == 0 || fl == 0) {
        *r = a[0];
        return 0;
    }
    size_t count = 0;
    for (const uint8_t *p = s; (p = find(p, (uint32_t)(s + n - p), f, fl)) != NULL; p += fl)
        count++;
    if (count == 0) {
        *r = a[0];
        return 0;
    }
    size_t total = n + count * tl - count * fl;
    uint8_t *out = op_x_alloc(ev, total, err);
    if (out == NULL)
        return -1;
    uint8_t *o = out;
    const uint8_t *p = s, *q;
    while ((q = find(p, (uint32_t)(s + n - p), f, fl)) != NULL) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, t, tl);
        o += tl;
        p = q + fl;
    }
    memcpy(o, p, (size_t)(s + n - p));
    op_x_str(r, out, (uint32_t)total);
    return 0;
}

/* a || b, the non-text side converted with its cast to text (coerced by
 * resolution, so both are text here). */
static int
x_concat_op(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    size_t n = (size_t)a[0].len + a[1].len;
    uint8_t *out = op_x_alloc(ev, n, err);
    if (out == NULL)
        return -1;
    memcpy(out, a[0].u.p, a[0].len);
    memcpy(out + a[0].len, a[1].u.p, a[1].len);
    op_x_str(r, out, (uint32_t)n);
    if (in->aux8) /* bytea || bytea */
        r->tag = ENG_TAG_BYTES;
    return 0;
}

/* concat(...) (aux8 0) / concat_ws(sep, ...) (aux8 1): NULLs skipped,
 * values in their output form (booleans t/f). */
static int
x_concat(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    int first = in->aux8 ? 1 : 0;
    if (in->aux8 && a[0].tag == ENG_TAG_NULL) {
        op_x_null(r);
        return 0;
    }
    /* Text forms first (they live in the arena until the row ends). */
    op_val small[8], *tv = small;
    int n = in->nargs - first;
    if (n > 8) {
        tv = (op_val *)(void *)op_x_alloc(ev, (size_t)n * sizeof *tv, err);
        if (tv == NULL)
            return -1;
    }
    size_t total = 0;
    int parts = 0;
    for (int i = 0; i < n; i++) {
        const op_val *v = &a[first + i];
        if (v->tag == ENG_TAG_NULL) {
            tv[i].tag = ENG_TAG_NULL;
            continue;
        }
        if (op_x_to_text(ev, v, true, &tv[i], err))
            return -1;
        total += tv[i].len;
        parts++;
    }
    if (in->aux8 && parts > 1)
        total += (size_t)(parts - 1) * a[0].len;
    uint8_t *out = op_x_alloc(ev, total, err);
    if (out == NULL)
        return -1;
    size_t o = 0;
    bool any = false;
    for (int i = 0; i < n; i++) {
        if (tv[i].tag == ENG_TAG_NULL)
            continue;
        if (in->aux8 && any) {
            memcpy(out + o, a[0].u.p, a[0].len);
            o += a[0].len;
        }
        memcpy(out + o, tv[i].u.p, tv[i].len);
        o += tv[i].len;
        any = true;
    }
    op_x_str(r, out, (uint32_t)o);
    return 0;
}

static int
x_starts_with(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    op_x_bool(r, a[1].len <= a[0].len && memcmp(a[0].u.p, a[1].u.p, a[1].len) == 0);
    return 0;
}

/* left (aux8 0) / right (aux8 1) (s, n) */
static int
x_left_right(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    const uint8_t *s = a[0].u.p;
    uint32_t n = a[0].len;
    int64_t k = a[1].u.i, chars = op_x_utf8_count(s, n);
    /* characters kept: n >= 0 keeps n, n < 0 drops -n */
    int64_t keep = k >= 0 ? (k < chars ? k : chars) : (chars + k > 0 ? chars + k : 0);
    if (in->aux8 == 0) {
        op_x_str(r, s, ch_offset(s, n, keep));
    } else {
        uint32_t b = ch_offset(s, n, chars - keep);
        op_x_str(r, s + b, n - b);
    }
    return 0;
}

static int
too_large(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED, "requested length too large");
}

static int
x_repeat(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    int64_t count = a[1].u.i;
    uint32_t n = a[0].len;
    if (count <= 0 || n == 0) {
        op_x_str(r, a[0].u.p, 0);
        return 0;
    }
    /* PostgreSQL's check: count * len + header must be a valid allocation. */
    if ((uint64_t)count * n + 4 > OP_X_MAX_ALLOC)
        return too_large(err);
    size_t total = (size_t)count * n;
    uint8_t *out = op_x_alloc(ev, total, err);
    if (out == NULL)
        return -1;
    for (int64_t i = 0; i < count; i++)
        memcpy(out + (size_t)i * n, a[0].u.p, n);
    op_x_str(r, out, (uint32_t)total);
    return 0;
}

/* lpad (aux8 0) / rpad (aux8 1) (s, len [, fill]): s truncated to len
 * characters, or padded to len with fill repeated (fill empty: no pad). */
static int
x_pad(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    const uint8_t *s = a[0].u.p;
    const uint8_t *fill = in->nargs == 3 ? a[2].u.p : (const uint8_t *)" ";
    uint32_t n = a[0].len, fl = in->nargs == 3 ? a[2].len : 1;
    int64_t len = a[1].u.i < 0 ? 0 : a[1].u.i;
    int64_t chars = op_x_utf8_count(s, n);
    uint32_t keep = n;
    if (chars > len) {
        keep = ch_offset(s, n, len);
        chars = len;
    }
    if (fl == 0)
        len = chars;
    /* PostgreSQL's check: len characters of up to 4 bytes each. */
    if ((uint64_t)len * 4 + 4 > OP_X_MAX_ALLOC)
        return too_large(err);
    int64_t pad = len - chars;
    /* Exact size of the padding: whole fills, then a prefix of one. */
    int64_t fill_chars = fl ? op_x_utf8_count(fill, fl) : 1;
    size_t pad_bytes = 0;
    if (pad > 0) {
        pad_bytes = (size_t)(pad / fill_chars) * fl + ch_offset(fill, fl, pad % fill_chars);
    }
    uint8_t *out = op_x_alloc(ev, keep + pad_bytes, err);
    if (out == NULL)
        return -1;
    uint8_t *p = out + (in->aux8 == 0 ? 0 : keep);
    for (size_t done = 0; done < pad_bytes;) {
        size_t k = pad_bytes - done < fl ? pad_bytes - done : fl;
        memcpy(p + done, fill, k);
        done += k;
    }
    memcpy(in->aux8 == 0 ? out + pad_bytes : out, s, keep);
    op_x_str(r, out, (uint32_t)(keep + pad_bytes));
    return 0;
}

/* split_part(s, delim, n): the n-th field (1-based; negative counts from
 * the end). */
static int
x_split_part(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in;
    const uint8_t *s = a[0].u.p, *d = a[1].u.p;
    uint32_t n = a[0].len, m = a[1].len;
    int64_t k = a[2].u.i;
    if (k == 0)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "field position must not be zero");
    if (n == 0 || (m == 0 && k != 1 && k != -1)) {
        op_x_str(r, s, 0);
        return 0;
    }
    if (m == 0) {
        *r = a[0];
        return 0;
    }
    if (k < 0) {
        int64_t fields = 1;
        for (const uint8_t *p = s; (p = find(p, (uint32_t)(s + n - p), d, m)) != NULL; p += m)
            fields++;
        k = fields + k + 1;
        if (k <= 0) {
            op_x_str(r, s, 0);
            return 0;
        }
    }
    const uint8_t *start = s;
    for (int64_t i = 1; i < k; i++) {
        const uint8_t *q = find(start, (uint32_t)(s + n - start), d, m);
        if (q == NULL) {
            op_x_str(r, s, 0);
            return 0;
        }
        start = q + m;
    }
    const uint8_t *end = find(start, (uint32_t)(s + n - start), d, m);
    op_x_str(r, start, (uint32_t)((end ? end : s + n) - start));
    return 0;
}

/* ------------------------------------------------------------------ LIKE */

enum { LIKE_FALSE, LIKE_TRUE, LIKE_ABORT, LIKE_ERROR, LIKE_TOO_DEEP };

/* Nesting of '%' the matcher recurses through before it gives up. */
#define LIKE_MAX_DEPTH 10000

/* Matches text t against pattern p (backslash escapes), PostgreSQL's
 * algorithm: '%' tries each later text position where the next literal
 * pattern byte matches, and gives up on the whole match (ABORT) once the
 * text runs out, which keeps it polynomial. Recursion is bounded by
 * LIKE_MAX_DEPTH (LIKE_TOO_DEEP), so no pattern exhausts the stack. LIKE_ERROR: the pattern ends
 * with an escape at a point the match reached. */
static int
like_match(const uint8_t *t, uint32_t tn, const uint8_t *p, uint32_t pn, int depth)
{
    if (depth > LIKE_MAX_DEPTH)
        return LIKE_TOO_DEEP;
    if (pn == 1 && p[0] == '%')
        return LIKE_TRUE;
    while (tn > 0 && pn > 0) {
        if (p[0] == '\\') {
            p++, pn--;
            if (pn == 0)
                return LIKE_ERROR;
            if (p[0] != t[0])
                return LIKE_FALSE;
        } else if (p[0] == '%') {
            p++, pn--;
            /* %% is %; %_ consumes a character */
            while (pn > 0) {
                if (p[0] == '%') {
                    p++, pn--;
                } else if (p[0] == '_') {
                    if (tn == 0)
                        return LIKE_ABORT;
                    uint32_t l = ch_len(t, tn);
                    t += l, tn -= l;
                    p++, pn--;
                } else {
                    break;
                }
            }
            if (pn == 0)
                return LIKE_TRUE;
            uint8_t first;
            if (p[0] == '\\') {
                if (pn < 2)
                    return LIKE_ERROR;
                first = p[1];
            } else {
                first = p[0];
            }
            while (tn > 0) {
                if (t[0] == first) {
                    int m = like_match(t, tn, p, pn, depth + 1);
                    if (m != LIKE_FALSE)
                        return m;
                }
                uint32_t l = ch_len(t, tn);
                t += l, tn -= l;
            }
            return LIKE_ABORT;
        } else if (p[0] == '_') {
            uint32_t l = ch_len(t, tn);
            t += l, tn -= l;
            p++, pn--;
            continue;
        } else if (p[0] != t[0]) {
            return LIKE_FALSE;
        }
        t++, tn--;
        p++, pn--;
    }
    if (tn > 0)
        return LIKE_FALSE;
    while (pn > 0 && p[0] == '%')
        p++, pn--;
    return pn == 0 ? LIKE_TRUE : LIKE_ABORT;
}

/* Rewrites pattern p with escape character e (l bytes; l == 0: none) into
 * the backslash form like_match understands, as PostgreSQL's like_escape. */
static int
like_escape(op_eval *ev, const op_val *p, const op_val *e, op_val *out, eng_err *err)
{
    const uint8_t *s = p->u.p, *esc = e->u.p;
    uint32_t n = p->len, el = e->len;
    if (el > 0 && ch_len(esc, el) != el) {
        eng_err_set(err, ENG_ERRCODE_INVALID_ESCAPE_SEQUENCE, "invalid escape string");
        eng_err_hint(err, "Escape string must be empty or one character.");
        return -1;
    }
    if (el == 1 && esc[0] == '\\') {
        *out = *p;
        return 0;
    }
    uint8_t *o = op_x_alloc(ev, (size_t)n * 2, err);
    if (o == NULL)
        return -1;
    uint32_t k = 0;
    bool after = false;
    for (uint32_t i = 0; i < n;) {
        uint32_t l = ch_len(s + i, n - i);
        if (el > 0 && !after && l == el && memcmp(s + i, esc, el) == 0) {
            o[k++] = '\\';
            after = true;
        } else if (s[i] == '\\') {
            o[k++] = '\\';
            if (!after)
                o[k++] = '\\';
            after = false;
        } else {
            memcpy(o + k, s + i, l);
            k += l;
            after = false;
        }
        i += l;
    }
    op_x_str(out, o, k);
    return 0;
}

/* s LIKE p [ESCAPE e]; aux8: bit 0 negated, bit 1 case-insensitive.
 * Not strict: with an ESCAPE, PostgreSQL rewrites the pattern before it
 * looks at s, so a bad escape fails even when s is NULL. */
static int
x_like(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    op_val pat = a[1], s = a[0];
    for (int i = 1; i < in->nargs; i++) {
        if (a[i].tag == ENG_TAG_NULL) {
            op_x_null(r);
            return 0;
        }
    }
    if (in->nargs == 3 && like_escape(ev, &a[1], &a[2], &pat, err))
        return -1;
    if (s.tag == ENG_TAG_NULL) {
        op_x_null(r);
        return 0;
    }
    if (in->aux8 & 2) { /* ILIKE: lower() both sides, as PostgreSQL does for UTF-8 */
        if (case_map(ev, s.u.p, s.len, false, &s, err) ||
            case_map(ev, pat.u.p, pat.len, false, &pat, err))
            return -1;
    }
    int m = like_match(s.u.p, s.len, pat.u.p, pat.len, 0);
    if (m == LIKE_TOO_DEEP)
        return eng_err_set(err, ENG_ERRCODE_STATEMENT_TOO_COMPLEX,
                           "LIKE pattern nests %% more than %d levels deep", LIKE_MAX_DEPTH);
    if (m == LIKE_ERROR)
        return eng_err_set(err, ENG_ERRCODE_INVALID_ESCAPE_SEQUENCE,
                           "LIKE pattern must not end with escape character");
    op_x_bool(r, (m == LIKE_TRUE) != (in->aux8 & 1));
    return 0;
}

/* ------------------------------------------------------------------ resolution */

/* Argument kinds of a signature: T text, I int4 (int2 accepted), A any. */
typedef struct sig {
    op_fn fn;
    const char *args; /* required kinds, then '[' optional kinds */
    op_type rtype;
    op_x_fn impl;
    uint8_t aux8;
    bool strict;
} sig;

static const sig sigs[] = {
    {OP_LENGTH, "T", OP_T_INT4, x_str1, S_LENGTH, true},
    {OP_OCTET_LENGTH, "T", OP_T_INT4, x_str1, S_OCTET_LENGTH, true},
    {OP_UPPER, "T", OP_T_TEXT, x_str1, S_UPPER, true},
    {OP_LOWER, "T", OP_T_TEXT, x_str1, S_LOWER, true},
    {OP_REVERSE, "T", OP_T_TEXT, x_str1, S_REVERSE, true},
    {OP_INITCAP, "T", OP_T_TEXT, x_str1, S_INITCAP, true},
    {OP_SUBSTR, "TI[I", OP_T_TEXT, x_substr, 0, true},
    {OP_STRPOS, "TT", OP_T_INT4, x_strpos, 0, true},
    {OP_BTRIM, "T[T", OP_T_TEXT, x_trim, 3, true},
    {OP_LTRIM, "T[T", OP_T_TEXT, x_trim, 1, true},
    {OP_RTRIM, "T[T", OP_T_TEXT, x_trim, 2, true},
    {OP_REPLACE, "TTT", OP_T_TEXT, x_replace, 0, true},
    {OP_LIKE, "TT[T", OP_T_BOOL, x_like, 0, false},
    {OP_NOT_LIKE, "TT[T", OP_T_BOOL, x_like, 1, false},
    {OP_ILIKE, "TT[T", OP_T_BOOL, x_like, 2, false},
    {OP_NOT_ILIKE, "TT[T", OP_T_BOOL, x_like, 3, false},
    {OP_STARTS_WITH, "TT", OP_T_BOOL, x_starts_with, 0, true},
    {OP_LEFT, "TI", OP_T_TEXT, x_left_right, 0, true},
    {OP_RIGHT, "TI", OP_T_TEXT, x_left_right, 1, true},
    {OP_REPEAT, "TI", OP_T_TEXT, x_repeat, 0, true},
    {OP_LPAD, "TI[T", OP_T_TEXT, x_pad, 0, true},
    {OP_RPAD, "TI[T", OP_T_TEXT, x_pad, 1, true},
    {OP_SPLIT_PART, "TTI", OP_T_TEXT, x_split_part, 0, true},
};

static int
no_function(op_expr *e, const op_type *at, eng_err *err)
{
    return op_x_no_function(e, at, err);
}

int
op_x_no_function(const op_expr *e, const op_type *at, eng_err *err)
{
    char buf[256];
    size_t o = 0;
    bool oper = e->fn == OP_CONCAT_OP || (e->fn >= OP_LIKE && e->fn <= OP_NOT_ILIKE) ||
                e->fn == OP_POW || (e->fn >= OP_REGEX && e->fn <= OP_NOT_IREGEX) ||
                (e->fn >= OP_JSON_GET && e->fn <= OP_JSON_EXISTS);
    if (oper && e->nargs == 2)
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: %s %s %s",
                           op_type_name(at[0]), op_fn_name(e->fn), op_type_name(at[1]));
    buf[0] = '\0';
    for (int i = 0; i < e->nargs && o < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", i ? ", " : "", op_type_name(at[i]));
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_FUNCTION, "function %s(%s) does not exist",
                       op_fn_name(e->fn), buf);
}

static bool
kind_ok(char k, op_type t)
{
    if (t == OP_T_UNKNOWN)
        return true;
    if (k == 'T')
        return op_x_is_string(t);
    if (k == 'I')
        return t == OP_T_INT4 || t == OP_T_INT2;
    return true;
}

int
op_x_resolve_str(op_expr *e, const op_type *at, eng_err *err)
{
    op_type *w = op_x_want(e);
    /* bytea: length and octet_length count bytes; bytea || bytea */
    if ((e->fn == OP_LENGTH || e->fn == OP_OCTET_LENGTH) && e->nargs == 1 && at[0] == OP_T_BYTEA) {
        e->rtype = OP_T_INT4;
        e->impl_fn = x_str1;
        e->impl_aux8 = S_OCTET_LENGTH;
        e->impl_strict = true;
        return 0;
    }
    if (e->fn == OP_CONCAT_OP && e->nargs == 2 && (at[0] == OP_T_BYTEA || at[1] == OP_T_BYTEA) &&
        (at[0] == OP_T_BYTEA || at[0] == OP_T_UNKNOWN) &&
        (at[1] == OP_T_BYTEA || at[1] == OP_T_UNKNOWN)) {
        w[0] = w[1] = OP_T_BYTEA;
        e->rtype = OP_T_BYTEA;
        e->impl_fn = x_concat_op;
        e->impl_aux8 = 1;
        e->impl_strict = true;
        return 0;
    }
    if (e->fn == OP_CONCAT_OP) {
        /* text || text, or anynonarray || text: the other side through its
         * cast to text */
        if (e->nargs != 2)
            return no_function(e, at, err);
        bool ta = op_x_is_string(at[0]) || at[0] == OP_T_UNKNOWN;
        bool tb = op_x_is_string(at[1]) || at[1] == OP_T_UNKNOWN;
        if (!ta && !tb)
            return no_function(e, at, err);
        for (int i = 0; i < 2; i++)
            w[i] = OP_T_TEXT;
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_concat_op;
        e->impl_strict = true;
        return 0;
    }
    if (e->fn == OP_CONCAT || e->fn == OP_CONCAT_WS) {
        /* any arguments, in their output form */
        bool ws = e->fn == OP_CONCAT_WS;
        if (e->nargs < 1 || (ws && !kind_ok('T', at[0])))
            return no_function(e, at, err);
        if (ws && at[0] == OP_T_BPCHAR)
            w[0] = OP_T_TEXT;
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_concat;
        e->impl_aux8 = ws;
        return 0;
    }
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        const sig *g = &sigs[i];
        if (g->fn != e->fn)
            continue;
        int k = 0, nreq = 0, nmax = 0;
        for (const char *c = g->args; *c; c++)
            if (*c != '[')
                nmax++;
        nreq = (int)(strchr(g->args, '[') ? strchr(g->args, '[') - g->args : nmax);
        if (e->nargs < nreq || e->nargs > nmax)
            return no_function(e, at, err);
        for (const char *c = g->args; *c && k < e->nargs; c++) {
            if (*c == '[')
                continue;
            if (!kind_ok(*c, at[k]))
                return no_function(e, at, err);
            /* char(n) -> text drops trailing spaces (octet_length(char(n))
             * counts them: PostgreSQL has a bpchar version) */
            if (*c == 'T' && at[k] == OP_T_BPCHAR && e->fn != OP_OCTET_LENGTH)
                w[k] = OP_T_TEXT;
            k++;
        }
        e->rtype = g->rtype;
        e->impl_fn = g->impl;
        e->impl_aux8 = g->aux8;
        /* LIKE without ESCAPE is strict; with one it orders NULL checks itself */
        e->impl_strict = g->strict || e->nargs == 2;
        return 0;
    }
    return no_function(e, at, err);
}
