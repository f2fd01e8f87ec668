/* Scalar expressions: more string and byte functions (md5, translate,
 * ascii, chr, to_hex, encode/decode, the POSIX regular expression match
 * operators) and pg_typeof, with their type resolution.
 *
 * Notes:
 * - ~, ~*, !~, !~* use the C library's POSIX extended regular expressions
 *   (regcomp with REG_EXTENDED), not PostgreSQL's ARE flavour: the common
 *   subset (literals, . [] [^] * + ? {m,n} | () ^ $, bracket classes like
 *   [[:digit:]]) behaves the same; ARE escapes (\d \s \w as classes, \m,
 *   \y), non-greedy quantifiers, lookahead and back references differ or
 *   fail to compile. Matching is bytewise in the C locale: a multibyte
 *   character is several bytes to . and [] (so '.' matches one byte of
 *   'é'), and ~* folds ASCII case only. Compile errors are 2201B with the
 *   C library's message. The last compiled pattern is cached per
 *   evaluator, so a constant pattern compiles once per thread.
 * - encode/decode follow PostgreSQL's formats byte for byte: hex
 *   (lower-case; decoding skips white space between digit pairs), base64
 *   (76-character lines; decoding skips white space and accepts data after
 *   '=' padding, as PostgreSQL does), escape (\ooo for NUL and bytes >=
 *   0x80, \\ for a backslash).
 * - md5 is RFC 1321, written from the RFC (never used for security). */
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <math.h>

#include "engine/core/eng_hex.h"
#include "operators/expr_int.h"

/* ------------------------------------------------------------------ md5 */

typedef struct md5 {
    uint32_t h[4];
    uint64_t len;
    uint8_t buf[64];
} md5;

static uint32_t md5_k[64];
static pthread_once_t md5_once = PTHREAD_ONCE_INIT;

static void
md5_k_init(void)
{
    /* K[i] = floor(|sin(i + 1)| * 2^32), exact in a double */
    for (int i = 0; i < 64; i++)
        md5_k[i] = (uint32_t)floor(fabs(sin((double)(i + 1))) * 4294967296.0);
}

static const uint8_t md5_shift[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};

static void
md5_block(md5 *m, const uint8_t *p)
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 |
               (uint32_t)p[4 * i + 3] << 24;
    uint32_t a = m->h[0], b = m->h[1], c = m->h[2], d = m->h[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g, round = i / 16;
        switch (round) {
        case 0:
            f = (b & c) | (~b & d);
            g = i;
            break;
        case 1:
            f = (d & b) | (~d & c);
            g = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
            break;
        }
        f += a + md5_k[i] + w[g];
        unsigned s = md5_shift[round][i % 4];
        a = d;
        d = c;
        c = b;
        b += (f << s) | (f >> (32 - s));
    }
    m->h[0] += a;
    m->h[1] += b;
    m->h[2] += c;
    m->h[3] += d;
}

static void
md5_feed(md5 *m, const uint8_t *p, size_t n)
{
    size_t have = (size_t)(m->len % 64);
    m->len += n;
    while (n > 0) {
        size_t take = 64 - have < n ? 64 - have : n;
        memcpy(m->buf + have, p, take);
        have += take;
        p += take;
        n -= take;
        if (have == 64) {
            md5_block(m, m->buf);
            have = 0;
        }
    }
}

static void
md5_hex(const uint8_t *p, size_t n, char out[32])
{
    pthread_once(&md5_once, md5_k_init);
    md5 m = {.h = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u}};
    md5_feed(&m, p, n);
    uint64_t bits = m.len * 8;
    static const uint8_t one = 0x80, zero = 0;
    md5_feed(&m, &one, 1);
    while (m.len % 64 != 56)
        md5_feed(&m, &zero, 1);
    uint8_t le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (uint8_t)(bits >> (8 * i));
    md5_feed(&m, le, 8);
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        uint8_t byte = (uint8_t)(m.h[i / 4] >> (8 * (i % 4)));
        out[2 * i] = hx[byte >> 4];
        out[2 * i + 1] = hx[byte & 15];
    }
}

static int
x_md5(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    uint8_t *o = op_x_alloc(ev, 32, err);
    if (o == NULL)
        return -1;
    md5_hex(a[0].u.p, a[0].len, (char *)o);
    op_x_str(r, o, 32);
    return 0;
}

/* ------------------------------------------------------------------ UTF-8 helpers */

static uint32_t
ch_len(const uint8_t *s, uint32_t n)
{
    uint8_t c = s[0];
    uint32_t l = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
    return l < n ? l : n;
}

/* Code point of the character at s (l bytes); malformed: the lead byte. */
static int32_t
ch_cp(const uint8_t *s, uint32_t l)
{
    if (l == 1)
        return s[0];
    int32_t cp = s[0] & (0x7F >> l);
    for (uint32_t i = 1; i < l; i++)
        cp = (cp << 6) | (s[i] & 0x3F);
    return cp;
}

/* ------------------------------------------------------------------ translate, ascii, chr, to_hex
 */

static int
x_translate(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    const uint8_t *s = a[0].u.p, *f = a[1].u.p, *t = a[2].u.p;
    uint32_t n = a[0].len, fn = a[1].len, tn = a[2].len;
    /* each character becomes at most one character of `to` (4 bytes) */
    uint8_t *o = op_x_alloc(ev, (size_t)n * 4 + 1, err);
    if (o == NULL)
        return -1;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t l = ch_len(s + i, n - i);
        /* position of this character in `from` (first occurrence) */
        int64_t pos = -1, idx = 0;
        for (uint32_t j = 0; j < fn; idx++) {
            uint32_t fl = ch_len(f + j, fn - j);
            if (fl == l && memcmp(f + j, s + i, l) == 0) {
                pos = idx;
                break;
            }
            j += fl;
        }
        if (pos < 0) {
            memcpy(o + k, s + i, l);
            k += l;
        } else {
            /* the pos-th character of `to`, if any (else deleted) */
            uint32_t j = 0;
            for (int64_t c = 0; c < pos && j < tn; c++)
                j += ch_len(t + j, tn - j);
            if (j < tn) {
                uint32_t tl = ch_len(t + j, tn - j);
                memcpy(o + k, t + j, tl);
                k += tl;
            }
        }
        i += l;
    }
    op_x_str(r, o, k);
    return 0;
}

static int
x_ascii(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    int32_t cp = a[0].len == 0 ? 0 : ch_cp(a[0].u.p, ch_len(a[0].u.p, a[0].len));
    op_x_int(r, ENG_TAG_INT4, cp);
    return 0;
}

static int
x_chr(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    int64_t c = a[0].u.i;
    if (c < 0)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "character number must be positive");
    if (c == 0)
        return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED, "null character not permitted");
    if (c > 0x10FFFF)
        return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "requested character too large for encoding: %lld", (long long)c);
    if (c >= 0xD800 && c <= 0xDFFF)
        return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "requested character not valid for encoding: %lld", (long long)c);
    uint8_t *o = op_x_alloc(ev, 4, err);
    if (o == NULL)
        return -1;
    uint32_t l;
    if (c < 0x80) {
        o[0] = (uint8_t)c;
        l = 1;
    } else if (c < 0x800) {
        o[0] = (uint8_t)(0xC0 | (c >> 6));
        o[1] = (uint8_t)(0x80 | (c & 0x3F));
        l = 2;
    } else if (c < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (c >> 12));
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (c & 0x3F));
        l = 3;
    } else {
        o[0] = (uint8_t)(0xF0 | (c >> 18));
        o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
        o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
        o[3] = (uint8_t)(0x80 | (c & 0x3F));
        l = 4;
    }
    op_x_str(r, o, l);
    return 0;
}

/* to_hex of the two's complement of an int4 (aux8 0) or int8 (aux8 1). */
static int
x_to_hex(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    uint64_t v = in->aux8 ? (uint64_t)a[0].u.i : (uint64_t)(uint32_t)(int32_t)a[0].u.i;
    uint8_t *o = op_x_alloc(ev, 16, err);
    if (o == NULL)
        return -1;
    int n = snprintf((char *)o, 17, "%llx", (unsigned long long)v);
    op_x_str(r, o, (uint32_t)n);
    return 0;
}

/* ------------------------------------------------------------------ encode / decode */

enum { ENC_HEX, ENC_BASE64, ENC_ESCAPE };

static int
encoding_of(const op_val *name, int *out, eng_err *err)
{
    static const char *const names[] = {"hex", "base64", "escape"};
    for (int i = 0; i < 3; i++)
        if (name->len == strlen(names[i]) &&
            strncasecmp((const char *)name->u.p, names[i], name->len) == 0) {
            *out = i;
            return 0;
        }
    return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "unrecognized encoding: \"%.*s\"",
                       (int)(name->len > 100 ? 100 : name->len), (const char *)name->u.p);
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
x_encode(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    int enc = 0;
    if (encoding_of(&a[1], &enc, err))
        return -1;
    const uint8_t *s = a[0].u.p;
    uint32_t n = a[0].len;
    size_t cap = enc == ENC_HEX      ? (size_t)n * 2
                 : enc == ENC_ESCAPE ? (size_t)n * 4
                                     : ((size_t)n + 2) / 3 * 4 + (size_t)n / 57 + 1;
    uint8_t *o = op_x_alloc(ev, cap, err);
    if (o == NULL)
        return -1;
    size_t k = 0;
    static const char hx[] = "0123456789abcdef";
    if (enc == ENC_HEX) {
        for (uint32_t i = 0; i < n; i++) {
            o[k++] = (uint8_t)hx[s[i] >> 4];
            o[k++] = (uint8_t)hx[s[i] & 15];
        }
    } else if (enc == ENC_ESCAPE) {
        for (uint32_t i = 0; i < n; i++) {
            if (s[i] == 0 || s[i] >= 0x80) {
                o[k++] = '\\';
                o[k++] = (uint8_t)('0' + (s[i] >> 6));
                o[k++] = (uint8_t)('0' + ((s[i] >> 3) & 7));
                o[k++] = (uint8_t)('0' + (s[i] & 7));
            } else if (s[i] == '\\') {
                o[k++] = '\\';
                o[k++] = '\\';
            } else {
                o[k++] = s[i];
            }
        }
    } else {
        /* groups of three bytes; a newline each time a line reaches 76
         * characters, checked after every input byte (so input of a
         * multiple of 57 bytes ends in a newline, as in PostgreSQL) */
        uint32_t buf = 0, line = 0;
        int have = 0;
        for (uint32_t i = 0; i < n; i++) {
            buf = (buf << 8) | s[i];
            if (++have == 3) {
                for (int j = 3; j >= 0; j--)
                    o[k++] = (uint8_t)b64chars[(buf >> (6 * j)) & 63];
                buf = 0;
                have = 0;
                line += 4;
            }
            if (line >= 76) {
                o[k++] = '\n';
                line = 0;
            }
        }
        if (have > 0) {
            buf <<= 8 * (3 - have);
            o[k++] = (uint8_t)b64chars[(buf >> 18) & 63];
            o[k++] = (uint8_t)b64chars[(buf >> 12) & 63];
            o[k++] = have == 2 ? (uint8_t)b64chars[(buf >> 6) & 63] : '=';
            o[k++] = '=';
        }
    }
    op_x_str(r, o, (uint32_t)k);
    return 0;
}

static int
bad_hex(const uint8_t *p, const uint8_t *end, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                       "invalid hexadecimal digit: \"%.*s\"", (int)ch_len(p, (uint32_t)(end - p)),
                       (const char *)p);
}

static bool
is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
b64val(uint8_t c)
{
    const char *p = c != 0 && c < 127 ? strchr(b64chars, c) : NULL;
    return p ? (int)(p - b64chars) : -1;
}

static int
x_decode(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    int enc = 0;
    if (encoding_of(&a[1], &enc, err))
        return -1;
    const uint8_t *s = a[0].u.p, *end = s + a[0].len;
    uint8_t *o = op_x_alloc(ev, a[0].len + 1, err);
    if (o == NULL)
        return -1;
    size_t k = 0;
    if (enc == ENC_HEX) {
        while (s < end) {
            if (is_space(*s)) {
                s++;
                continue;
            }
            int hi = eng_hex_digit(*s);
            if (hi < 0)
                return bad_hex(s, end, err);
            s++;
            if (s == end)
                return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                                   "invalid hexadecimal data: odd number of digits");
            int lo = eng_hex_digit(*s);
            if (lo < 0)
                return bad_hex(s, end, err);
            s++;
            o[k++] = (uint8_t)(hi << 4 | lo);
        }
    } else if (enc == ENC_BASE64) {
        uint32_t buf = 0;
        int pos = 0, pad = 0; /* pad: bytes the '=' group drops (0: none seen) */
        for (; s < end; s++) {
            int v;
            if (is_space(*s))
                continue;
            if (*s == '=') {
                if (pad == 0) {
                    if (pos == 2)
                        pad = 1;
                    else if (pos == 3)
                        pad = 2;
                    else
                        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                                           "unexpected \"=\" while decoding base64 sequence");
                }
                v = 0;
            } else if ((v = b64val(*s)) < 0) {
                return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                                   "invalid symbol \"%.*s\" found while decoding base64 sequence",
                                   (int)ch_len(s, (uint32_t)(end - s)), (const char *)s);
            }
            buf = (buf << 6) | (uint32_t)v;
            if (++pos == 4) {
                o[k++] = (uint8_t)(buf >> 16);
                if (pad == 0 || pad == 2)
                    o[k++] = (uint8_t)(buf >> 8);
                if (pad == 0)
                    o[k++] = (uint8_t)buf;
                buf = 0;
                pos = 0;
            }
        }
        if (pos != 0) {
            eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE, "invalid base64 end sequence");
            eng_err_hint(err,
                         "Input data is missing padding, is truncated, or is otherwise corrupted.");
            return -1;
        }
    } else {
        while (s < end) {
            if (*s != '\\') {
                o[k++] = *s++;
            } else if (end - s >= 4 && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                       s[3] >= '0' && s[3] <= '7') {
                o[k++] = (uint8_t)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
                s += 4;
            } else if (end - s >= 2 && s[1] == '\\') {
                o[k++] = '\\';
                s += 2;
            } else {
                return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                                   "invalid input syntax for type bytea");
            }
        }
    }
    r->tag = ENG_TAG_BYTES;
    r->len = (uint32_t)k;
    r->u.p = o;
    return 0;
}

/* ------------------------------------------------------------------ regular expressions */

/* The evaluator's one-entry cache of a compiled pattern. */
struct op_x_regex {
    regex_t re;
    int flags;
    uint32_t len;
    char *pat; /* NUL-terminated copy */
};

void
op_x_regex_free(op_x_regex *c)
{
    if (c == NULL)
        return;
    regfree(&c->re);
    free(c->pat);
    free(c);
}

/* aux8: bit 0 negated, bit 1 case-insensitive. */
static int
x_regex(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    int flags = REG_EXTENDED | REG_NOSUB | ((in->aux8 & 2) ? REG_ICASE : 0);
    op_x_regex *c = ev->regex;
    if (c == NULL || c->flags != flags || c->len != a[1].len ||
        memcmp(c->pat, a[1].u.p, a[1].len) != 0) {
        op_x_regex_free(c);
        ev->regex = NULL;
        c = calloc(1, sizeof *c);
        char *pat = malloc((size_t)a[1].len + 1);
        if (c == NULL || pat == NULL) {
            free(c);
            free(pat);
            return eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory");
        }
        memcpy(pat, a[1].u.p, a[1].len);
        pat[a[1].len] = '\0';
        int rc = regcomp(&c->re, pat, flags);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &c->re, msg, sizeof msg);
            free(pat);
            free(c);
            return eng_err_set(err, ENG_ERRCODE_INVALID_REGULAR_EXPRESSION,
                               "invalid regular expression: %s", msg);
        }
        c->pat = pat;
        c->flags = flags;
        c->len = a[1].len;
        ev->regex = c;
    }
    /* regexec needs a NUL-terminated subject (text holds no NUL bytes) */
    char *subj = (char *)op_x_alloc(ev, (size_t)a[0].len + 1, err);
    if (subj == NULL)
        return -1;
    memcpy(subj, a[0].u.p, a[0].len);
    subj[a[0].len] = '\0';
    bool m = regexec(&c->re, subj, 0, NULL, 0) == 0;
    op_x_bool(r, m != (in->aux8 & 1));
    return 0;
}

/* ------------------------------------------------------------------ pg_typeof */

/* aux8: the argument's type. */
static int
x_typeof(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)a, (void)err;
    const char *name = op_type_name(in->aux8);
    op_x_str(r, (const uint8_t *)name, (uint32_t)strlen(name));
    return 0;
}

/* ------------------------------------------------------------------ resolution */

static bool
str_arg(op_type t)
{
    return op_x_is_string(t) || t == OP_T_UNKNOWN;
}

/* Text arguments as text (char(n) loses its trailing spaces). */
static void
want_text(op_expr *e, const op_type *at, op_type *w)
{
    for (int i = 0; i < e->nargs; i++)
        if (at[i] == OP_T_BPCHAR)
            w[i] = OP_T_TEXT;
}

int
op_x_resolve_text(op_expr *e, const op_type *at, eng_err *err)
{
    if (e->fn == OP_INITCAP)
        return op_x_resolve_str(e, at, err);
    op_type *w = op_x_want(e);
    e->impl_strict = true;
    switch (e->fn) {
    case OP_PG_TYPEOF:
        if (e->nargs != 1)
            break;
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_typeof;
        e->impl_aux8 = at[0];
        e->impl_strict = false;
        return 0;
    case OP_MD5:
        if (e->nargs != 1 || !(str_arg(at[0]) || at[0] == OP_T_BYTEA))
            break;
        want_text(e, at, w);
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_md5;
        return 0;
    case OP_TRANSLATE:
        if (e->nargs != 3 || !str_arg(at[0]) || !str_arg(at[1]) || !str_arg(at[2]))
            break;
        want_text(e, at, w);
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_translate;
        return 0;
    case OP_ASCII:
        if (e->nargs != 1 || !str_arg(at[0]))
            break;
        want_text(e, at, w);
        e->rtype = OP_T_INT4;
        e->impl_fn = x_ascii;
        return 0;
    case OP_CHR:
        if (e->nargs != 1 || !(at[0] == OP_T_INT4 || at[0] == OP_T_INT2 || at[0] == OP_T_UNKNOWN))
            break;
        w[0] = OP_T_INT4;
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_chr;
        return 0;
    case OP_TO_HEX:
        if (e->nargs != 1 || !op_x_is_int(at[0]))
            break;
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_to_hex;
        e->impl_aux8 = at[0] == OP_T_INT8;
        return 0;
    case OP_ENCODE:
        if (e->nargs != 2 || !(at[0] == OP_T_BYTEA || at[0] == OP_T_UNKNOWN) || !str_arg(at[1]))
            break;
        want_text(e, at, w);
        w[0] = OP_T_BYTEA;
        e->rtype = OP_T_TEXT;
        e->impl_fn = x_encode;
        return 0;
    case OP_DECODE:
        if (e->nargs != 2 || !str_arg(at[0]) || !str_arg(at[1]))
            break;
        want_text(e, at, w);
        e->rtype = OP_T_BYTEA;
        e->impl_fn = x_decode;
        return 0;
    case OP_REGEX:
    case OP_NOT_REGEX:
    case OP_IREGEX:
    case OP_NOT_IREGEX:
        if (e->nargs != 2 || !str_arg(at[0]) || !str_arg(at[1]))
            break;
        want_text(e, at, w);
        e->rtype = OP_T_BOOL;
        e->impl_fn = x_regex;
        e->impl_aux8 = (uint8_t)(e->fn - OP_REGEX);
        return 0;
    default:
        break;
    }
    return op_x_no_function(e, at, err);
}
