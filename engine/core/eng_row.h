/* Rows: one contiguous byte string per row, in a canonical tagged encoding.
 *
 * Notes: a row is a sequence of datums; each datum is one tag byte followed
 * by its payload:
 *
 *   tag                 payload
 *   ENG_TAG_NULL        -
 *   ENG_TAG_FALSE/TRUE  -
 *   ENG_TAG_INT2        2 bytes, little-endian two's complement
 *   ENG_TAG_INT4        4 bytes LE
 *   ENG_TAG_INT8        8 bytes LE
 *   ENG_TAG_FLOAT4      4 bytes LE IEEE-754 (canonical: -0.0 stored as 0.0, one NaN)
 *   ENG_TAG_FLOAT8      8 bytes LE IEEE-754 (same rules)
 *   ENG_TAG_DATE        4 bytes LE: days since 2000-01-01 (PostgreSQL's epoch)
 *   ENG_TAG_TIME        8 bytes LE: microseconds since midnight
 *   ENG_TAG_TIMESTAMP   8 bytes LE: microseconds since 2000-01-01 00:00:00
 *   ENG_TAG_TIMESTAMPTZ 8 bytes LE: microseconds since 2000-01-01 00:00:00 UTC
 *   ENG_TAG_INTERVAL    16 bytes: int32 months, int32 days, int64 microseconds (LE)
 *   ENG_TAG_UUID        16 bytes, network order
 *   ENG_TAG_NUMERIC     4-byte LE length + canonical numeric bytes (core/numeric.c)
 *   ENG_TAG_TEXT        4-byte LE length + UTF-8 bytes (text, varchar, char, json,
 *                       jsonb in canonical text form, and any other type as text)
 *   ENG_TAG_BYTES       4-byte LE length + bytes (bytea)
 *
 * Canonical means one encoding per value, so row equality is memcmp and a
 * row's hash is one XXH3 call over its bytes. The encoding is
 * self-describing: operators that only move, compare or hash rows need no
 * schema. (DESIGN §3 sketches a NULL bitmap + fixed + variable layout; the
 * tagged layout is used instead because it needs no schema to slice, project
 * or concatenate rows, and keys of one or two columns, the common case, are
 * just as compact.)
 *
 * Rows are borrowed views (eng_row) over memory someone else owns (a batch
 * arena, an arrangement); the owner says how long they stay valid. */
#ifndef ENG_ROW_H
#define ENG_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* XXH3 inlined: hashing a 9-byte key must not cost a library call. */
#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL
#endif
#include <xxhash.h>

enum {
    ENG_TAG_NULL = 0,
    ENG_TAG_FALSE = 1,
    ENG_TAG_TRUE = 2,
    ENG_TAG_INT2 = 3,
    ENG_TAG_INT4 = 4,
    ENG_TAG_INT8 = 5,
    ENG_TAG_FLOAT4 = 6,
    ENG_TAG_FLOAT8 = 7,
    ENG_TAG_DATE = 8,
    ENG_TAG_TIME = 9,
    ENG_TAG_TIMESTAMP = 10,
    ENG_TAG_TIMESTAMPTZ = 11,
    ENG_TAG_INTERVAL = 12,
    ENG_TAG_UUID = 13,
    ENG_TAG_NUMERIC = 14,
    ENG_TAG_TEXT = 15,
    ENG_TAG_BYTES = 16,
    ENG_TAG_COUNT_ = 17
};

typedef struct eng_row {
    const uint8_t *data;
    uint32_t len;
} eng_row;

/* A decoded view of one datum inside a row (borrowed like the row). */
typedef struct eng_datum {
    uint8_t tag;
    uint32_t len;       /* payload length */
    const uint8_t *ptr; /* payload (for TEXT/BYTES/NUMERIC: after the length word) */
} eng_datum;

static inline uint64_t
eng_row_hash(eng_row r)
{
    return XXH3_64bits(r.data, r.len);
}

/* Byte equality of n bytes, inlined for the short keys that dominate. */
static inline bool
eng_bytes_eq(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    while (n >= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y)
            return false;
        a += 8;
        b += 8;
        n -= 8;
    }
    while (n--)
        if (*a++ != *b++)
            return false;
    return true;
}

static inline bool
eng_row_eq(eng_row a, eng_row b)
{
    return a.len == b.len && eng_bytes_eq(a.data, b.data, a.len);
}

/* Fixed payload size of a tag, or -1 for length-prefixed tags. */
static inline int
eng_tag_fixed_size(uint8_t tag)
{
    static const signed char sizes[ENG_TAG_COUNT_] = {0, 0, 0, 2,  4,  8,  4,  8, 4,
                                                      8, 8, 8, 16, 16, -1, -1, -1};
    return tag < ENG_TAG_COUNT_ ? sizes[tag] : -2;
}

static inline uint32_t
eng_load_u32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline int64_t
eng_load_i64(const uint8_t *p)
{
    int64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline int32_t
eng_load_i32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Decodes the datum at *pos in r and advances *pos past it. Rows we built
 * are trusted: a malformed row is an invariant violation, checked by
 * eng_row_validate() where rows come from outside. */
static inline eng_datum
eng_row_next(eng_row r, uint32_t *pos)
{
    eng_datum d;
    d.tag = r.data[*pos];
    int fs = eng_tag_fixed_size(d.tag);
    if (fs >= 0) {
        d.len = (uint32_t)fs;
        d.ptr = r.data + *pos + 1;
        *pos += 1 + (uint32_t)fs;
    } else {
        d.len = eng_load_u32(r.data + *pos + 1);
        d.ptr = r.data + *pos + 5;
        *pos += 5 + d.len;
    }
    return d;
}

/* Byte length of the datum starting at p (tag included). */
static inline uint32_t
eng_datum_size_at(const uint8_t *p)
{
    int fs = eng_tag_fixed_size(p[0]);
    return fs >= 0 ? 1 + (uint32_t)fs : 5 + eng_load_u32(p + 1);
}

/* True if r is a well-formed sequence of exactly ncols datums (ncols < 0:
 * any count). For rows built from untrusted bytes. */
bool eng_row_validate(eng_row r, int ncols);

/* Number of datums in a (valid) row. */
int eng_row_ncols(eng_row r);

/* Offset of column col (0-based) in a valid row; r.len if col is past the end. */
uint32_t eng_row_col_offset(eng_row r, int col);

/* ------------------------------------------------------------------ building rows */

/* A growable byte buffer that rows are packed into. Memory is owned by the
 * builder (or by an arena, see eng_arena.h); eng_rowbuf_free releases it. */
typedef struct eng_rowbuf {
    uint8_t *data;
    uint32_t len, cap;
} eng_rowbuf;

void eng_rowbuf_grow(eng_rowbuf *b, uint32_t need);
void eng_rowbuf_free(eng_rowbuf *b);

static inline uint8_t *
eng_rowbuf_extend(eng_rowbuf *b, uint32_t n)
{
    if (b->len + n > b->cap)
        eng_rowbuf_grow(b, b->len + n);
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

/* Appends n bytes from p (n may be 0, p then may be NULL). */
static inline void
eng_rowbuf_append(eng_rowbuf *b, const void *p, uint32_t n)
{
    if (n > 0)
        memcpy(eng_rowbuf_extend(b, n), p, n);
}

static inline eng_row
eng_rowbuf_row(const eng_rowbuf *b)
{
    return (eng_row){b->data, b->len};
}

static inline void
eng_rowbuf_reset(eng_rowbuf *b)
{
    b->len = 0;
}

static inline void
eng_push_null(eng_rowbuf *b)
{
    *eng_rowbuf_extend(b, 1) = ENG_TAG_NULL;
}

static inline void
eng_push_bool(eng_rowbuf *b, bool v)
{
    *eng_rowbuf_extend(b, 1) = v ? ENG_TAG_TRUE : ENG_TAG_FALSE;
}

static inline void
eng_push_fixed(eng_rowbuf *b, uint8_t tag, const void *payload, uint32_t n)
{
    uint8_t *p = eng_rowbuf_extend(b, 1 + n);
    p[0] = tag;
    memcpy(p + 1, payload, n);
}

static inline void
eng_push_int2(eng_rowbuf *b, int16_t v)
{
    eng_push_fixed(b, ENG_TAG_INT2, &v, 2);
}

static inline void
eng_push_int4(eng_rowbuf *b, int32_t v)
{
    eng_push_fixed(b, ENG_TAG_INT4, &v, 4);
}

static inline void
eng_push_int8(eng_rowbuf *b, int64_t v)
{
    eng_push_fixed(b, ENG_TAG_INT8, &v, 8);
}

/* Canonicalises -0.0 to 0.0 and every NaN to one bit pattern. */
void eng_push_float4(eng_rowbuf *b, float v);
void eng_push_float8(eng_rowbuf *b, double v);

static inline void
eng_push_var(eng_rowbuf *b, uint8_t tag, const void *bytes, uint32_t n)
{
    uint8_t *p = eng_rowbuf_extend(b, 5 + n);
    p[0] = tag;
    memcpy(p + 1, &n, 4);
    if (n)
        memcpy(p + 5, bytes, n);
}

static inline void
eng_push_text(eng_rowbuf *b, const char *s, uint32_t n)
{
    eng_push_var(b, ENG_TAG_TEXT, s, n);
}

/* Appends a datum copied verbatim (tag included). */
static inline void
eng_push_datum(eng_rowbuf *b, eng_datum d)
{
    int fs = eng_tag_fixed_size(d.tag);
    if (fs >= 0)
        eng_push_fixed(b, d.tag, d.ptr, d.len);
    else
        eng_push_var(b, d.tag, d.ptr, d.len);
}

/* Appends all datums of r. */
static inline void
eng_push_row(eng_rowbuf *b, eng_row r)
{
    if (r.len)
        memcpy(eng_rowbuf_extend(b, r.len), r.data, r.len);
}

static inline int64_t
eng_datum_int8(eng_datum d)
{
    return eng_load_i64(d.ptr);
}

#endif
