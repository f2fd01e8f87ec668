/* Helpers shared by operators: datum order and numeric access. */
#include "operators/op_common.h"

#include <math.h>

double
op_datum_float(eng_datum d)
{
    if (d.tag == ENG_TAG_FLOAT8) {
        double v;
        memcpy(&v, d.ptr, 8);
        return v;
    }
    if (d.tag == ENG_TAG_FLOAT4) {
        float v;
        memcpy(&v, d.ptr, 4);
        return v;
    }
    return 0.0;
}

int64_t
op_datum_int(eng_datum d)
{
    switch (d.tag) {
    case ENG_TAG_INT2: {
        int16_t v;
        memcpy(&v, d.ptr, 2);
        return v;
    }
    case ENG_TAG_INT4:
        return eng_load_i32(d.ptr);
    case ENG_TAG_INT8:
        return eng_load_i64(d.ptr);
    default:
        return 0;
    }
}

int
op_datum_cmp(eng_datum a, eng_datum b)
{
    if (a.tag != b.tag)
        return a.tag < b.tag ? -1 : 1;
    switch (a.tag) {
    case ENG_TAG_FALSE:
    case ENG_TAG_TRUE:
    case ENG_TAG_NULL:
        return 0;
    case ENG_TAG_INT2:
    case ENG_TAG_INT4:
    case ENG_TAG_INT8: {
        int64_t x = op_datum_int(a), y = op_datum_int(b);
        return x < y ? -1 : x > y;
    }
    case ENG_TAG_DATE: {
        int32_t x = eng_load_i32(a.ptr), y = eng_load_i32(b.ptr);
        return x < y ? -1 : x > y;
    }
    case ENG_TAG_TIME:
    case ENG_TAG_TIMESTAMP:
    case ENG_TAG_TIMESTAMPTZ: {
        int64_t x = eng_load_i64(a.ptr), y = eng_load_i64(b.ptr);
        return x < y ? -1 : x > y;
    }
    case ENG_TAG_FLOAT4:
    case ENG_TAG_FLOAT8: {
        double x = op_datum_float(a), y = op_datum_float(b);
        if (isnan(x) || isnan(y))
            return isnan(x) ? (isnan(y) ? 0 : 1) : -1;
        return x < y ? -1 : x > y;
    }
    default: {
        uint32_t n = a.len < b.len ? a.len : b.len;
        int c = memcmp(a.ptr, b.ptr, n);
        return c ? c : (a.len < b.len ? -1 : a.len > b.len);
    }
    }
}
