/* Naive multisets for oracle tests: rows with counts, recomputed from
 * scratch and compared with what operators maintain incrementally. */
#ifndef T_ORACLE_H
#define T_ORACLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/runtime/eng_batch.h"

/* A multiset of rows: parallel arrays, linear scans (small on purpose). */
typedef struct t_mset {
    eng_batch *b; /* rows with their counts as diff; time unused */
} t_mset;

static inline void
t_mset_init(t_mset *m)
{
    m->b = calloc(1, sizeof *m->b);
}

static inline void
t_mset_free(t_mset *m)
{
    eng_batch_free(m->b);
    m->b = NULL;
}

static inline void
t_mset_add(t_mset *m, eng_row r, int64_t diff)
{
    for (uint32_t i = 0; i < m->b->n; i++) {
        if (eng_row_eq(eng_batch_row(m->b, i), r)) {
            m->b->upd[i].diff += diff;
            return;
        }
    }
    eng_batch_push(m->b, r, 0, diff);
}

/* Sorts and consolidates a copy of b's (row, diff) ignoring time. */
static inline eng_batch *
t_normalize(const eng_batch *b)
{
    eng_batch *c = calloc(1, sizeof *c);
    for (uint32_t i = 0; i < b->n; i++)
        eng_batch_push(c, eng_batch_row(b, i), 0, b->upd[i].diff);
    eng_batch_consolidate(c);
    return c;
}

static inline void
t_print_row(FILE *f, eng_row r)
{
    uint32_t pos = 0;
    fputc('(', f);
    while (pos < r.len) {
        eng_datum d = eng_row_next(r, &pos);
        switch (d.tag) {
        case ENG_TAG_NULL:
            fputs("NULL", f);
            break;
        case ENG_TAG_TRUE:
            fputs("t", f);
            break;
        case ENG_TAG_FALSE:
            fputs("f", f);
            break;
        case ENG_TAG_INT8:
            fprintf(f, "%lld", (long long)eng_datum_int8(d));
            break;
        case ENG_TAG_FLOAT8: {
            double v;
            memcpy(&v, d.ptr, 8);
            fprintf(f, "%g", v);
            break;
        }
        case ENG_TAG_TEXT:
            fprintf(f, "'%.*s'", (int)d.len, (const char *)d.ptr);
            break;
        default:
            fprintf(f, "<tag %d>", d.tag);
        }
        if (pos < r.len)
            fputc(',', f);
    }
    fputc(')', f);
}

/* True if the two collections are equal as multisets; prints a diff if not. */
static inline bool
t_same(const char *what, const eng_batch *got, const eng_batch *want)
{
    eng_batch *g = t_normalize(got), *w = t_normalize(want);
    bool same = g->n == w->n;
    for (uint32_t i = 0; same && i < g->n; i++)
        same = g->upd[i].diff == w->upd[i].diff &&
               eng_row_eq(eng_batch_row(g, i), eng_batch_row(w, i));
    if (!same) {
        fprintf(stderr, "%s: collections differ (got %u rows, want %u)\n", what, g->n, w->n);
        for (uint32_t i = 0; i < g->n && i < 40; i++) {
            fprintf(stderr, "  got  ");
            t_print_row(stderr, eng_batch_row(g, i));
            fprintf(stderr, " x%lld\n", (long long)g->upd[i].diff);
        }
        for (uint32_t i = 0; i < w->n && i < 40; i++) {
            fprintf(stderr, "  want ");
            t_print_row(stderr, eng_batch_row(w, i));
            fprintf(stderr, " x%lld\n", (long long)w->upd[i].diff);
        }
    }
    eng_batch_free(g);
    eng_batch_free(w);
    return same;
}

/* Deterministic PRNG (splitmix64). */
static inline uint64_t
t_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
