/* Helpers shared by operators: datum order and numeric access. */
#include "operators/op_common.h"
#include "engine/core/eng_cmp.h"

#include <math.h>
#include <stdlib.h>

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
    return eng_datum_cmp(a, b);
}
void
op_pending_push(op_pending *p, eng_batch_pool *pool, eng_row row, eng_time t, int64_t diff)
{
    /* Times mostly arrive in order: look from the newest bucket back. */
    uint32_t i = p->n;
    while (i > 0 && p->v[i - 1].time > t)
        i--;
    if (i == 0 || p->v[i - 1].time != t) {
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 8;
            p->v = realloc(p->v, p->cap * sizeof *p->v);
            ENG_ASSERT(p->v != NULL);
        }
        memmove(p->v + i + 1, p->v + i, (p->n - i) * sizeof *p->v);
        p->v[i].time = t;
        p->v[i].b = eng_batch_get(pool);
        p->n++;
        i++;
    }
    eng_batch_push(p->v[i - 1].b, row, t, diff);
}

eng_batch *
op_pending_pop(op_pending *p, eng_time f, bool inclusive, eng_time *t)
{
    if (p->n == 0 || p->v[0].time > f || (!inclusive && p->v[0].time == f))
        return NULL;
    eng_batch *b = p->v[0].b;
    *t = p->v[0].time;
    memmove(p->v, p->v + 1, (p->n - 1) * sizeof *p->v);
    p->n--;
    return b;
}

void
op_pending_free(op_pending *p)
{
    for (uint32_t i = 0; i < p->n; i++)
        eng_batch_free(p->v[i].b);
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}
