/* Datum ordering as PostgreSQL sorts (see eng_cmp.h). */
#include "engine/core/eng_cmp.h"
#include "engine/core/eng_numeric.h"
#include "engine/core/eng_text.h"

#include <math.h>
#include <string.h>

static int
cmp_i64(int64_t a, int64_t b)
{
    return (a > b) - (a < b);
}

static int
cmp_double(double a, double b)
{
    if (isnan(a))
        return isnan(b) ? 0 : 1;
    if (isnan(b))
        return -1;
    return (a > b) - (a < b);
}

static int
cmp_bytes(const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    uint32_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (al > bl) - (al < bl);
}

static bool
is_int_tag(uint8_t t)
{
    return t == ENG_TAG_INT2 || t == ENG_TAG_INT4 || t == ENG_TAG_INT8;
}

static int64_t
int_of(eng_datum d)
{
    if (d.tag == ENG_TAG_INT2) {
        int16_t v;
        memcpy(&v, d.ptr, 2);
        return v;
    }
    return d.tag == ENG_TAG_INT4 ? eng_load_i32(d.ptr) : eng_load_i64(d.ptr);
}

/* 128-bit span of an interval in microseconds (30-day months). */
static int
cmp_interval(const uint8_t *a, const uint8_t *b)
{
    __int128 span[2];
    const uint8_t *p[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        int32_t months, days;
        int64_t usecs;
        memcpy(&months, p[i], 4);
        memcpy(&days, p[i] + 4, 4);
        memcpy(&usecs, p[i] + 8, 8);
        span[i] = (__int128)usecs + ((__int128)days + (__int128)months * 30) * 86400000000LL;
    }
    return (span[0] > span[1]) - (span[0] < span[1]);
}

int
eng_datum_cmp(eng_datum a, eng_datum b)
{
    if (a.tag == ENG_TAG_NULL || b.tag == ENG_TAG_NULL)
        return (a.tag != ENG_TAG_NULL) ? -1 : (b.tag != ENG_TAG_NULL) ? 1 : 0;
    if (a.tag != b.tag) {
        if (is_int_tag(a.tag) && is_int_tag(b.tag))
            return cmp_i64(int_of(a), int_of(b));
        bool ab = a.tag == ENG_TAG_TRUE || a.tag == ENG_TAG_FALSE;
        bool bb = b.tag == ENG_TAG_TRUE || b.tag == ENG_TAG_FALSE;
        if (ab && bb)
            return a.tag == ENG_TAG_TRUE ? 1 : -1;
        if ((a.tag == ENG_TAG_FLOAT4 || a.tag == ENG_TAG_FLOAT8) &&
            (b.tag == ENG_TAG_FLOAT4 || b.tag == ENG_TAG_FLOAT8)) {
            double x, y;
            if (a.tag == ENG_TAG_FLOAT4) {
                float f;
                memcpy(&f, a.ptr, 4);
                x = f;
            } else {
                memcpy(&x, a.ptr, 8);
            }
            if (b.tag == ENG_TAG_FLOAT4) {
                float f;
                memcpy(&f, b.ptr, 4);
                y = f;
            } else {
                memcpy(&y, b.ptr, 8);
            }
            return cmp_double(x, y);
        }
        return a.tag < b.tag ? -1 : 1;
    }
    switch (a.tag) {
    case ENG_TAG_FALSE:
    case ENG_TAG_TRUE:
        return 0;
    case ENG_TAG_INT2:
    case ENG_TAG_INT4:
    case ENG_TAG_INT8:
        return cmp_i64(int_of(a), int_of(b));
    case ENG_TAG_FLOAT4: {
        float x, y;
        memcpy(&x, a.ptr, 4);
        memcpy(&y, b.ptr, 4);
        return cmp_double(x, y);
    }
    case ENG_TAG_FLOAT8: {
        double x, y;
        memcpy(&x, a.ptr, 8);
        memcpy(&y, b.ptr, 8);
        return cmp_double(x, y);
    }
    case ENG_TAG_DATE:
        return cmp_i64(eng_load_i32(a.ptr), eng_load_i32(b.ptr));
    case ENG_TAG_TIME:
    case ENG_TAG_TIMESTAMP:
    case ENG_TAG_TIMESTAMPTZ:
        return cmp_i64(eng_load_i64(a.ptr), eng_load_i64(b.ptr));
    case ENG_TAG_INTERVAL:
        return cmp_interval(a.ptr, b.ptr);
    case ENG_TAG_UUID:
        return cmp_bytes(a.ptr, 16, b.ptr, 16);
    case ENG_TAG_NUMERIC: {
        if (a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0)
            return 0;
        eng_numeric x, y;
        eng_numeric_init(&x);
        eng_numeric_init(&y);
        eng_numeric_from_datum(a, &x);
        eng_numeric_from_datum(b, &y);
        int c = eng_numeric_cmp(&x, &y);
        eng_numeric_free(&x);
        eng_numeric_free(&y);
        return c;
    }
    case ENG_TAG_TEXT:
    case ENG_TAG_BYTES:
    default:
        return cmp_bytes(a.ptr, a.len, b.ptr, b.len);
    }
}

int
eng_datum_cmp_typed(const eng_type *t, eng_datum a, eng_datum b)
{
    if (t->id == ENG_TYPE_BPCHAR && a.tag == ENG_TAG_TEXT && b.tag == ENG_TAG_TEXT) {
        uint32_t al = (uint32_t)eng_bpchar_trimmed_len((const char *)a.ptr, a.len);
        uint32_t bl = (uint32_t)eng_bpchar_trimmed_len((const char *)b.ptr, b.len);
        return cmp_bytes(a.ptr, al, b.ptr, bl);
    }
    return eng_datum_cmp(a, b);
}

int
eng_row_cmp(eng_row a, eng_row b)
{
    uint32_t pa = 0, pb = 0;
    while (pa < a.len && pb < b.len) {
        int c = eng_datum_cmp(eng_row_next(a, &pa), eng_row_next(b, &pb));
        if (c != 0)
            return c;
    }
    return (pa < a.len) - (pb < b.len);
}
