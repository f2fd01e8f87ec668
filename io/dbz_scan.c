/* JSON scanning for the Debezium decoder: one validating pass over a
 * message without building a tree, then cursors over the checked text.
 *
 * Notes: io_dbz_json_check accepts exactly the texts that jansson's
 * json_loadb(..., JSON_REJECT_DUPLICATES) accepts (the tree decoder this
 * replaced, kept as the tests' oracle in tests/io/dbz_json_ref.c), so a
 * message is 22P02 for one decoder iff it is for the other:
 *   - one object or array at the top, white space (space, tab, CR, LF)
 *     around tokens, nothing after it;
 *   - strings: no byte below 0x20, strict UTF-8 (no overlong forms, no
 *     surrogates, nothing above U+10FFFF, no truncated sequence); escapes
 *     \" \\ \/ \b \f \n \r \t \uXXXX, a \u high surrogate only followed by
 *     a \u low surrogate, no lone low surrogate, no \u0000 (jansson rejects
 *     NUL without JSON_ALLOW_NUL, in keys always);
 *   - numbers: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; an integer
 *     (no fraction or exponent) must fit int64 (strtoll's ERANGE); a real
 *     must not overflow a double (strtod returning +-HUGE_VAL);
 *   - true, false, null; anything else outside strings (any byte >= 0x80
 *     too) is an invalid token, except one NUL byte right after a number
 *     or a literal, which jansson drops (an artefact of its look-ahead);
 *   - at most 2048 nested values (JSON_PARSER_MAX_DEPTH; the top-level
 *     value is at depth 1, so a value inside 2048 open containers fails);
 *   - no object with two equal keys, compared after unescaping.
 * The scan is iterative, with a bit stack of container kinds, so hostile
 * nesting costs no C stack.
 *
 * Duplicate keys: the keys of every open object sit on one stack as (hash
 * of the unescaped key, raw span), each object's run opened by a marker
 * entry. When an object closes its keys are compared: pairwise when there
 * are at most 16 (hashes first, so that costs a few integer compares),
 * else after a heap sort by (hash, key), so no crafted object is
 * quadratic. Hash collisions are settled by comparing the keys in full.
 *
 * Speed: strings are scanned 8 bytes at a time (a SWAR test for '"', '\\',
 * control bytes and non-ASCII; the plain case inlined), key entries are
 * written in place; the check of a 1.7 KB generated message (its ~1.4 KB
 * schema included) is ~22k instructions, ~1.3 us here, the rest of the
 * decoding ~0.5 us. The members of the top-level object and of its
 * "payload" object are recorded (io_dbz_jroot), so the decoder finds the
 * envelope's parts without walking the payload again.
 *
 * Allocation: none, unless more than KEYS_INLINE keys of open objects are
 * pending at once (the key stack moves to the heap for that call) or a
 * real of LONG_REAL characters or more needs strtod. Every load is
 * bounds-checked against the end of the buffer, including the cursors',
 * which otherwise trust the check. */
#include "io/dbz_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dbz_scan.c's 8-byte scans assume a little-endian machine"
#endif

#define KEYS_INLINE 128
#define LONG_REAL 128

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

static inline uint64_t
load64(const uint8_t *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* High bit set in each byte of w that ends a plain run inside a string
 * being checked: '"', '\\', below 0x20, 0x80 and above. Bytes above the
 * lowest flagged one may be flagged wrongly (borrows), the lowest is
 * exact: no byte below it borrows. */
static inline uint64_t
str_special(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    return ((q - ONES) | (b - ONES) | (w - ONES * 0x20) | w) & HIGH;
}

/* The same for checked text: only '"' and '\\' stop (UTF-8 is valid). */
static inline uint64_t
quote_or_backslash(uint64_t w)
{
    uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');
    return (((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGH;
}

static inline bool
is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

static inline bool
is_ws(uint8_t c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int
hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at p[0..4) (p + 4 <= end), or -1. */
static int32_t
hex4(const uint8_t *p)
{
    int32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static size_t
utf8_put(uint32_t cp, uint8_t *o)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | cp >> 6);
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | cp >> 12);
        o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | cp >> 18);
    o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------ unescaping checked strings */

/* Reads the unescaped bytes of a checked string one at a time. */
typedef struct unesc {
    const uint8_t *p, *e;
    uint8_t buf[4];
    uint8_t i, n;
} unesc;

static void
unesc_init(unesc *u, const io_dbz_jstr *s)
{
    u->p = (const uint8_t *)s->p;
    u->e = u->p + s->n;
    u->i = u->n = 0;
}

/* One escape at p (a backslash) into o; returns the bytes written and
 * advances *pp. The escape was checked. */
static size_t
unescape_one(const uint8_t **pp, uint8_t *o)
{
    const uint8_t *p = *pp;
    uint8_t x = p[1];
    if (x != 'u') {
        *pp = p + 2;
        switch (x) {
        case 'b':
            o[0] = '\b';
            break;
        case 'f':
            o[0] = '\f';
            break;
        case 'n':
            o[0] = '\n';
            break;
        case 'r':
            o[0] = '\r';
            break;
        case 't':
            o[0] = '\t';
            break;
        default: /* " \ / */
            o[0] = x;
        }
        return 1;
    }
    uint32_t cp = (uint32_t)hex4(p + 2);
    p += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo = (uint32_t)hex4(p + 2);
        p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    *pp = p;
    return utf8_put(cp, o);
}

/* The next unescaped byte, or -1 at the end. */
static int
unesc_next(unesc *u)
{
    if (u->i < u->n)
        return u->buf[u->i++];
    if (u->p >= u->e)
        return -1;
    if (*u->p != '\\')
        return *u->p++;
    u->n = (uint8_t)unescape_one(&u->p, u->buf);
    u->i = 1;
    return u->buf[0];
}

bool
io_dbz_json_str_eq_esc(const io_dbz_jstr *s, const char *c, size_t n)
{
    if (n > s->n)
        return false; /* unescaping never lengthens */
    unesc u;
    unesc_init(&u, s);
    for (size_t i = 0; i < n; i++)
        if (unesc_next(&u) != (uint8_t)c[i])
            return false;
    return unesc_next(&u) < 0;
}

/* Unescapes s into o (room for s->n bytes); returns the length. */
static size_t
unescape_into(const io_dbz_jstr *s, uint8_t *o)
{
    const uint8_t *p = (const uint8_t *)s->p, *e = p + s->n;
    uint8_t *d = o;
    while (p < e) {
        const uint8_t *bs = memchr(p, '\\', (size_t)(e - p));
        size_t run = (size_t)((bs ? bs : e) - p);
        memcpy(d, p, run);
        d += run;
        p += run;
        if (!bs)
            break;
        d += unescape_one(&p, d);
    }
    return (size_t)(d - o);
}

void
io_dbz_json_unescape(const io_dbz_jstr *s, eng_strbuf *out)
{
    size_t at = out->len;
    eng_strbuf_extend(out, s->n);
    out->len = at + unescape_into(s, (uint8_t *)out->data + at);
    out->data[out->len] = '\0';
}

size_t
io_dbz_json_unescape_to(const io_dbz_jstr *s, char *buf, size_t cap)
{
    if (!s->esc) {
        if (s->n > cap)
            return SIZE_MAX;
        memcpy(buf, s->p, s->n);
        return s->n;
    }
    unesc u;
    unesc_init(&u, s);
    size_t n = 0;
    for (int c; (c = unesc_next(&u)) >= 0;) {
        if (n == cap)
            return SIZE_MAX;
        buf[n++] = (char)c;
    }
    return n;
}

/* ------------------------------------------------ the check */

/* A key of an open object, or (len == SIZE_MAX) the marker that opens an
 * object's run of keys, off then being the enclosing object's marker. */
typedef struct keyent {
    uint32_t h;   /* hash of the unescaped key */
    uint32_t esc; /* the raw key has escapes */
    size_t off, len;
} keyent;

typedef struct chk {
    const uint8_t *base, *end;
    keyent *keys;
    size_t nkeys, cap;
    size_t frame; /* the innermost open object's marker */
    const char *why;
    const uint8_t *at;
    keyent inl[KEYS_INLINE];
} chk;

static const uint8_t *
fail(chk *c, const uint8_t *at, const char *why)
{
    c->why = why;
    c->at = at;
    return NULL;
}

static inline const uint8_t *
skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && is_ws(*p))
        p++;
    return p;
}

static inline uint32_t
hash_words(uint64_t first, uint64_t last, size_t len)
{
    uint64_t h = first * 0x9E3779B97F4A7C15ull;
    h ^= (last + len) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    return (uint32_t)h;
}

/* The hash of a key from its first and last 8 unescaped bytes and its
 * length (both words the zero-padded key when it is shorter than 8). */
static uint32_t
hash_raw(const uint8_t *p, size_t n, const uint8_t *end)
{
    if (n >= 8)
        return hash_words(load64(p), load64(p + n - 8), n);
    uint64_t w = 0;
    if (n > 0) {
        if (end - p >= 8)
            w = load64(p) & (~0ull >> (64 - 8 * n));
        else
            memcpy(&w, p, n);
    }
    return hash_words(w, w, n);
}

static uint32_t
hash_escaped(const io_dbz_jstr *s)
{
    unesc u;
    unesc_init(&u, s);
    uint64_t first = 0, last = 0;
    size_t n = 0;
    for (int c; (c = unesc_next(&u)) >= 0; n++) {
        if (n < 8)
            first |= (uint64_t)c << (8 * n);
        last = last >> 8 | (uint64_t)c << 56;
    }
    return hash_words(first, n >= 8 ? last : first, n);
}

static int
key_cmp(const chk *c, const keyent *a, const keyent *b)
{
    if (!a->esc && !b->esc) {
        size_t m = a->len < b->len ? a->len : b->len;
        int r = memcmp(c->base + a->off, c->base + b->off, m);
        return r ? r : (a->len > b->len) - (a->len < b->len);
    }
    io_dbz_jstr sa = {(const char *)c->base + a->off, a->len, a->esc};
    io_dbz_jstr sb = {(const char *)c->base + b->off, b->len, b->esc};
    unesc ua, ub;
    unesc_init(&ua, &sa);
    unesc_init(&ub, &sb);
    for (;;) {
        int x = unesc_next(&ua), y = unesc_next(&ub);
        if (x != y)
            return x - y;
        if (x < 0)
            return 0;
    }
}

static int
ent_cmp(const chk *c, const keyent *a, const keyent *b)
{
    if (a->h != b->h)
        return a->h < b->h ? -1 : 1;
    return key_cmp(c, a, b);
}

static void
sift_down(const chk *c, keyent *k, size_t i, size_t n)
{
    for (;;) {
        size_t m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && ent_cmp(c, &k[l], &k[m]) > 0)
            m = l;
        if (r < n && ent_cmp(c, &k[r], &k[m]) > 0)
            m = r;
        if (m == i)
            return;
        keyent t = k[i];
        k[i] = k[m];
        k[m] = t;
        i = m;
    }
}

/* True if two of the n keys k[] are equal. May reorder k. */
static bool
has_duplicate(const chk *c, keyent *k, size_t n)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (k[i].h == k[j].h && key_cmp(c, &k[i], &k[j]) == 0)
                    return true;
        return false;
    }
    for (size_t i = n / 2; i-- > 0;)
        sift_down(c, k, i, n);
    for (size_t end = n; end-- > 1;) {
        keyent t = k[0];
        k[0] = k[end];
        k[end] = t;
        sift_down(c, k, 0, end);
    }
    for (size_t i = 1; i < n; i++)
        if (k[i].h == k[i - 1].h && key_cmp(c, &k[i], &k[i - 1]) == 0)
            return true;
    return false;
}

/* Moves the key stack to (a bigger) heap array. */
__attribute__((noinline)) static void
grow_keys(chk *c)
{
    size_t cap = 2 * c->cap;
    keyent *k;
    if (c->keys == c->inl) {
        k = malloc(cap * sizeof *k);
        ENG_ASSERT(k != NULL);
        memcpy(k, c->inl, c->nkeys * sizeof *k);
    } else {
        k = realloc(c->keys, cap * sizeof *k);
        ENG_ASSERT(k != NULL);
    }
    c->keys = k;
    c->cap = cap;
}

/* The next free entry of the key stack, filled in place by the caller
 * (a struct passed by value was stored piecewise and reloaded whole: a
 * store-forwarding stall per key). */
static inline keyent *
push_key(chk *c)
{
    if (c->nkeys == c->cap)
        grow_keys(c);
    return &c->keys[c->nkeys++];
}

static inline void
open_object(chk *c)
{
    keyent *m = push_key(c);
    m->off = c->frame;
    m->len = SIZE_MAX;
    c->frame = c->nkeys - 1;
}

/* Closes the innermost object: -1 if it had a duplicate key. */
static int
close_object(chk *c)
{
    size_t first = c->frame + 1, n = c->nkeys - first;
    if (n > 1 && has_duplicate(c, c->keys + first, n))
        return -1;
    c->nkeys = c->frame;
    c->frame = c->keys[c->frame].off;
    return 0;
}

/* p at a backslash inside a string: past the escape, or NULL. */
static const uint8_t *
scan_escape(chk *c, const uint8_t *p)
{
    const uint8_t *end = c->end;
    if (end - p < 2)
        return fail(c, p, "premature end of input in an escape");
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 2;
    case 'u':
        break;
    default:
        return fail(c, p, "invalid escape");
    }
    int32_t v = end - p >= 6 ? hex4(p + 2) : -1;
    if (v < 0)
        return fail(c, p, "invalid \\u escape");
    if (v == 0)
        return fail(c, p, "\\u0000 is not allowed");
    if (v >= 0xDC00 && v <= 0xDFFF)
        return fail(c, p, "a \\u low surrogate without a high one");
    if (v < 0xD800 || v > 0xDBFF)
        return p + 6;
    p += 6;
    int32_t lo = end - p >= 6 && p[0] == '\\' && p[1] == 'u' ? hex4(p + 2) : -1;
    if (lo < 0xDC00 || lo > 0xDFFF)
        return fail(c, p, "a \\u high surrogate without a low one");
    return p + 6;
}

/* p at a byte >= 0x80 inside a string: past its UTF-8 sequence, or NULL. */
static const uint8_t *
scan_utf8(chk *c, const uint8_t *p)
{
    size_t left = (size_t)(c->end - p);
    uint8_t b = p[0];
    size_t len;
    uint32_t cp, min;
    if (b >= 0xC2 && b <= 0xDF) {
        len = 2, cp = b & 0x1F, min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        len = 3, cp = b & 0x0F, min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        len = 4, cp = b & 0x07, min = 0x10000;
    } else {
        return fail(c, p, "invalid UTF-8");
    }
    if (left < len)
        return fail(c, p, "invalid UTF-8");
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return fail(c, p, "invalid UTF-8");
        cp = cp << 6 | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return fail(c, p, "invalid UTF-8");
    return p + len;
}

/* scan_string's general case: p inside a string (or at its end). */
__attribute__((noinline)) static const uint8_t *
scan_string_slow(chk *c, const uint8_t *p, bool *esc)
{
    const uint8_t *end = c->end;
    for (;;) {
        if (end - p >= 8) {
            uint64_t m = str_special(load64(p));
            if (m == 0) {
                p += 8;
                continue;
            }
            p += __builtin_ctzll(m) >> 3;
        } else if (p == end) {
            return fail(c, p, "premature end of input in a string");
        }
        uint8_t ch = *p;
        if (ch == '"')
            return p + 1;
        if (ch == '\\') {
            *esc = true;
            p = scan_escape(c, p);
        } else if (ch >= 0x80) {
            p = scan_utf8(c, p);
        } else if (ch < 0x20) {
            return fail(c, p, "control character in a string");
        } else {
            p++; /* the last few bytes, one at a time */
            continue;
        }
        if (p == NULL)
            return NULL;
    }
}

/* p just past an opening quote: just past the closing one, or NULL. *esc
 * is set if the string has escapes. Inlined for the common case, plain
 * ASCII up to the closing quote: 8 bytes per step, and the first special
 * byte told from the quote mask without reloading it. */
static inline const uint8_t *
scan_string(chk *c, const uint8_t *p, bool *esc)
{
    while (c->end - p >= 8) {
        uint64_t w = load64(p), m = str_special(w);
        if (m == 0) {
            p += 8;
            continue;
        }
        /* the quote mask is exact up to the first special byte */
        uint64_t q = w ^ (ONES * '"');
        if ((m & (0 - m)) & (q - ONES) & ~q)
            return p + (__builtin_ctzll(m) >> 3) + 1;
        break;
    }
    return scan_string_slow(c, p, esc);
}

/* p at '-' or a digit: past the number, or NULL. */
static const uint8_t *
scan_number(chk *c, const uint8_t *p)
{
    const uint8_t *s = p, *end = c->end;
    bool neg = *p == '-';
    if (neg)
        p++;
    const uint8_t *digits = p;
    if (p == end || !is_digit(*p))
        return fail(c, s, "invalid number");
    if (*p == '0') {
        if (++p < end && is_digit(*p))
            return fail(c, s, "invalid number (leading zero)");
    } else {
        while (p < end && is_digit(*p))
            p++;
    }
    size_t nint = (size_t)(p - digits);
    bool real = false;
    if (p < end && *p == '.') {
        if (++p == end || !is_digit(*p))
            return fail(c, s, "invalid number");
        while (p < end && is_digit(*p))
            p++;
        real = true;
    }
    int64_t e10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;
        if (++p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == end || !is_digit(*p))
            return fail(c, s, "invalid number");
        for (; p < end && is_digit(*p); p++)
            if (e10 < 1000000)
                e10 = e10 * 10 + (*p - '0');
        if (eneg)
            e10 = -e10;
        real = true;
    }
    if (!real) {
        if (nint > 19 ||
            (nint == 19 &&
             memcmp(digits, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0))
            return fail(c, s, "integer out of range");
        return p;
    }
    /* |value| < 10^(nint + e10) < DBL_MAX: strtod cannot overflow */
    if ((int64_t)nint + e10 <= 308)
        return p;
    double d;
    if (io_dbz_json_real((const char *)s, (size_t)(p - s), &d) < 0)
        return fail(c, s, "real number overflow");
    return p;
}

int
io_dbz_json_check(const char *s, size_t n, io_dbz_jroot *root, eng_err *err)
{
    chk c;
    c.base = (const uint8_t *)s;
    c.end = c.base + n;
    c.keys = c.inl;
    c.nkeys = 0;
    c.cap = KEYS_INLINE;
    c.frame = SIZE_MAX;
    c.why = NULL;
    c.at = c.base;
    /* bit d: the container at depth d + 1 is an object */
    uint64_t isobj[IO_DBZ_JSON_MAX_DEPTH / 64];
    size_t depth = 0;
    io_dbz_jmembers *rec = NULL; /* the object at depth 1 or 2 whose members are recorded */
    const uint8_t *p, *end = c.end;
    int rc = -1;
    root->value = root->schema = root->payload = NULL;
    root->nmembers = 0;
    root->top.complete = root->inner.complete = false;
    root->top.n = root->inner.n = 0;

    p = skip_ws(c.base, end);
    if (p == end || (*p != '{' && *p != '[')) {
        fail(&c, p, "'[' or '{' expected");
        goto done;
    }
    root->value = (const char *)p;
    root->top.complete = *p == '{';
value:
    if (depth >= IO_DBZ_JSON_MAX_DEPTH) {
        fail(&c, p, "maximum nesting depth reached");
        goto done;
    }
    if (p == end) {
        fail(&c, p, "premature end of input");
        goto done;
    }
    switch (*p) {
    case '{':
        isobj[depth / 64] |= 1ull << (depth % 64);
        depth++;
        open_object(&c);
        if (depth == 1) {
            rec = &root->top;
        } else if (depth == 2) {
            rec = (const char *)p == root->payload ? &root->inner : NULL;
            if (rec)
                rec->complete = true;
        }
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}') {
            p++;
            close_object(&c);
            if (depth-- <= 2)
                rec = depth == 1 ? &root->top : NULL;
            goto after;
        }
        goto key;
    case '[':
        isobj[depth / 64] &= ~(1ull << (depth % 64));
        depth++;
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']') {
            p++;
            depth--;
            goto after;
        }
        goto value;
    case '"': {
        bool esc = false;
        if ((p = scan_string(&c, p + 1, &esc)) == NULL)
            goto done;
        goto after;
    }
    case 't':
        if (end - p < 4 || memcmp(p, "true", 4) != 0)
            break;
        p += 4;
        goto after_lookahead;
    case 'f':
        if (end - p < 5 || memcmp(p, "false", 5) != 0)
            break;
        p += 5;
        goto after_lookahead;
    case 'n':
        if (end - p < 4 || memcmp(p, "null", 4) != 0)
            break;
        p += 4;
        goto after_lookahead;
    default:
        if (*p == '-' || is_digit(*p)) {
            if ((p = scan_number(&c, p)) == NULL)
                goto done;
            goto after_lookahead;
        }
        break;
    }
    fail(&c, p, "invalid token");
    goto done;

after_lookahead:
    /* jansson reads one byte past a number or a literal and puts it back;
     * a NUL put back reads as "buffer empty", so that one NUL byte is
     * dropped. Accept it too, so that no message that decoded before fails. */
    if (p < end && *p == '\0')
        p++;
    goto after;

key:
    if (p == end || *p != '"') {
        fail(&c, p, "string or '}' expected");
        goto done;
    }
    {
        const uint8_t *k = p + 1;
        bool esc = false;
        if ((p = scan_string(&c, k, &esc)) == NULL)
            goto done;
        io_dbz_jstr ks = {(const char *)k, (size_t)(p - 1 - k), esc};
        keyent *e = push_key(&c);
        e->h = esc ? hash_escaped(&ks) : hash_raw(k, ks.n, end);
        e->esc = esc;
        e->off = (size_t)(k - c.base);
        e->len = ks.n;
        p = skip_ws(p, end);
        if (p == end || *p != ':') {
            fail(&c, p, "':' expected");
            goto done;
        }
        p = skip_ws(p + 1, end);
        if (depth <= 2 && rec != NULL) {
            if (rec->n < IO_DBZ_JSON_MEMBERS) {
                rec->m[rec->n].key = ks;
                rec->m[rec->n++].val = (const char *)p;
            } else {
                rec->complete = false;
            }
            if (depth == 1) {
                root->nmembers++;
                if (io_dbz_json_str_eq(&ks, "schema", 6))
                    root->schema = (const char *)p;
                else if (io_dbz_json_str_eq(&ks, "payload", 7))
                    root->payload = (const char *)p;
            }
        }
        goto value;
    }

after:
    p = skip_ws(p, end);
    if (depth == 0) {
        if (p != end) {
            fail(&c, p, "end of input expected");
            goto done;
        }
        rc = 0;
        goto done;
    }
    if (p == end) {
        fail(&c, p, "premature end of input");
        goto done;
    }
    if (isobj[(depth - 1) / 64] >> ((depth - 1) % 64) & 1) {
        if (*p == ',') {
            p = skip_ws(p + 1, end);
            goto key;
        }
        if (*p == '}') {
            if (close_object(&c) < 0) {
                fail(&c, p, "duplicate object key");
                goto done;
            }
            p++;
            if (depth-- <= 2)
                rec = depth == 1 ? &root->top : NULL;
            goto after;
        }
        fail(&c, p, "',' or '}' expected");
        goto done;
    }
    if (*p == ',') {
        p = skip_ws(p + 1, end);
        goto value;
    }
    if (*p == ']') {
        p++;
        depth--;
        goto after;
    }
    fail(&c, p, "',' or ']' expected");

done:
    if (c.keys != c.inl)
        free(c.keys);
    if (rc < 0)
        return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                           "invalid JSON in Debezium message: %s at byte %zu", c.why,
                           (size_t)(c.at - c.base));
    return 0;
}

int
io_dbz_json_real(const char *p, size_t n, double *out)
{
    char buf[LONG_REAL];
    char *s = n < sizeof buf ? buf : malloc(n + 1);
    ENG_ASSERT(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    errno = 0;
    double d = strtod(s, NULL);
    int rc = (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE ? -1 : 0;
    if (s != buf)
        free(s);
    *out = d;
    return rc;
}

/* ------------------------------------------------ cursors over checked text */

const char *
io_dbz_json_ws(const char *p, const char *end)
{
    return (const char *)skip_ws((const uint8_t *)p, (const uint8_t *)end);
}

const char *
io_dbz_json_string(const char *p, const char *end, io_dbz_jstr *s)
{
    const uint8_t *q = (const uint8_t *)p + 1, *e = (const uint8_t *)end;
    bool esc = false;
    for (;;) {
        if (e - q >= 8) {
            uint64_t m = quote_or_backslash(load64(q));
            if (m == 0) {
                q += 8;
                continue;
            }
            q += __builtin_ctzll(m) >> 3;
        }
        if (*q == '"')
            break;
        if (*q == '\\') {
            esc = true;
            q += 2; /* a \u escape's hex digits are neither '"' nor '\\' */
        } else {
            q++;
        }
    }
    s->p = p + 1;
    s->n = (size_t)((const char *)q - s->p);
    s->esc = esc;
    return (const char *)q + 1;
}

const char *
io_dbz_json_number_end(const char *p, const char *end)
{
    while (p < end &&
           (is_digit((uint8_t)*p) || *p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E'))
        p++;
    return p;
}

const char *
io_dbz_json_skip(const char *p, const char *end)
{
    switch (*p) {
    case '"': {
        io_dbz_jstr s;
        return io_dbz_json_string(p, end, &s);
    }
    case '{':
    case '[': {
        size_t depth = 0;
        for (;;) {
            char ch = *p;
            if (ch == '"') {
                io_dbz_jstr s;
                p = io_dbz_json_string(p, end, &s);
                continue;
            }
            if (ch == '{' || ch == '[')
                depth++;
            else if ((ch == '}' || ch == ']') && --depth == 0)
                return p + 1;
            p++;
        }
    }
    case 't':
    case 'n':
        p += 4;
        break;
    case 'f':
        p += 5;
        break;
    default:
        p = io_dbz_json_number_end(p, end);
    }
    return p < end && *p == '\0' ? p + 1 : p; /* see after_lookahead in the check */
}

bool
io_dbz_json_member(io_dbz_jiter *it, io_dbz_jstr *key, const char **val)
{
    const char *p = it->val ? io_dbz_json_skip(it->val, it->end) : it->p;
    p = io_dbz_json_ws(p, it->end);
    if (*p == ',')
        p = io_dbz_json_ws(p + 1, it->end);
    if (*p == '}') {
        it->p = p;
        it->val = NULL;
        return false;
    }
    p = io_dbz_json_string(p, it->end, key);
    p = io_dbz_json_ws(p, it->end); /* at ':' */
    p = io_dbz_json_ws(p + 1, it->end);
    it->val = *val = p;
    return true;
}

bool
io_dbz_json_element(io_dbz_jiter *it, const char **val)
{
    const char *p = it->val ? io_dbz_json_skip(it->val, it->end) : it->p;
    p = io_dbz_json_ws(p, it->end);
    if (*p == ',')
        p = io_dbz_json_ws(p + 1, it->end);
    if (*p == ']') {
        it->p = p;
        it->val = NULL;
        return false;
    }
    it->val = *val = p;
    return true;
}
