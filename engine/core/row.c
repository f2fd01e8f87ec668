/* Row validation, column offsets, builders. */
#include "engine/core/eng_row.h"
#include "engine/core/eng_err.h"

#include <math.h>
#include <stdlib.h>

bool
eng_row_validate(eng_row r, int ncols)
{
    uint32_t pos = 0;
    int n = 0;
    while (pos < r.len) {
        int fs = eng_tag_fixed_size(r.data[pos]);
        if (fs == -2)
            return false;
        if (fs >= 0) {
            if ((uint64_t)pos + 1 + (uint32_t)fs > r.len)
                return false;
            pos += 1 + (uint32_t)fs;
        } else {
            if ((uint64_t)pos + 5 > r.len)
                return false;
            uint32_t l = eng_load_u32(r.data + pos + 1);
            if ((uint64_t)pos + 5 + l > r.len)
                return false;
            pos += 5 + l;
        }
        n++;
    }
    return ncols < 0 || n == ncols;
}

int
eng_row_ncols(eng_row r)
{
    uint32_t pos = 0;
    int n = 0;
    while (pos < r.len) {
        pos += eng_datum_size_at(r.data + pos);
        n++;
    }
    return n;
}

uint32_t
eng_row_col_offset(eng_row r, int col)
{
    uint32_t pos = 0;
    for (int i = 0; i < col && pos < r.len; i++)
        pos += eng_datum_size_at(r.data + pos);
    return pos;
}

void
eng_rowbuf_grow(eng_rowbuf *b, uint32_t need)
{
    uint32_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        ENG_ASSERT(cap < UINT32_MAX / 2);
        cap *= 2;
    }
    uint8_t *d = realloc(b->data, cap);
    ENG_ASSERT(d != NULL);
    b->data = d;
    b->cap = cap;
}

void
eng_rowbuf_free(eng_rowbuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void
eng_push_float4(eng_rowbuf *b, float v)
{
    if (v == 0.0f)
        v = 0.0f;
    else if (isnan(v))
        v = NAN;
    eng_push_fixed(b, ENG_TAG_FLOAT4, &v, 4);
}

void
eng_push_float8(eng_rowbuf *b, double v)
{
    if (v == 0.0)
        v = 0.0;
    else if (isnan(v))
        v = (double)NAN;
    eng_push_fixed(b, ENG_TAG_FLOAT8, &v, 8);
}
