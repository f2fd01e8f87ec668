/* The optimiser against the naive evaluator: for random data and plans
 * with filters above projections, maps, joins of every kind, unions,
 * negations, reductions, top-k and windows, eng_ir_eval of the plan before
 * and after eng_opt must agree (and the filters must have moved). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/sql/eng_bind.h"
#include "engine/sql/eng_ir_eval.h"

static uint64_t rng = 7;

static uint64_t
rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static eng_type
i4(void)
{
    return eng_type_make(ENG_TYPE_INT4, ENG_TYPMOD_NONE);
}

/* A random 2-column int4 table as a CONST (NULLs sometimes). */
static eng_rel *
table(int rows)
{
    eng_rowbuf b = {0};
    uint32_t *off = calloc((size_t)rows + 1, sizeof *off);
    for (int r = 0; r < rows; r++) {
        off[r] = b.len;
        for (int c = 0; c < 2; c++) {
            if (rnd() % 10 == 0)
                eng_push_null(&b);
            else
                eng_push_int4(&b, (int32_t)(rnd() % 6));
        }
    }
    off[rows] = b.len;
    eng_row *rs = calloc((size_t)rows + 1, sizeof *rs);
    int64_t *d = calloc((size_t)rows + 1, sizeof *d);
    for (int r = 0; r < rows; r++) {
        rs[r] = (eng_row){b.data + off[r], off[r + 1] - off[r]};
        d[r] = 1 + (int64_t)(rnd() % 2);
    }
    eng_type t[2] = {i4(), i4()};
    eng_rel *rel = eng_rel_const(2, t, rows, rs, d);
    free(rs);
    free(d);
    free(off);
    eng_rowbuf_free(&b);
    return rel;
}

/* col op literal */
static eng_sx *
pred(int col, op_fn fn, int v)
{
    eng_rowbuf b = {0};
    eng_push_int4(&b, v);
    eng_sx *args[2] = {eng_sx_col(col, i4()), eng_sx_lit(eng_rowbuf_row(&b), i4())};
    eng_rowbuf_free(&b);
    eng_sx *e = eng_sx_call(fn, 2, args);
    e->type = eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE);
    return e;
}

static eng_rel *
filter1(eng_rel *in, eng_sx *p)
{
    eng_sx **v = calloc(1, sizeof *v);
    v[0] = p;
    return eng_rel_filter(in, 1, v);
}

static eng_rel *
filter2(eng_rel *in, eng_sx *p, eng_sx *q)
{
    eng_sx **v = calloc(2, sizeof *v);
    v[0] = p;
    v[1] = q;
    return eng_rel_filter(in, 2, v);
}

/* Plan number k over two fresh random tables. */
static eng_rel *
plan(int k)
{
    eng_rel *a = table(12), *b = table(12);
    int lk[1] = {0}, rk[1] = {0};
    switch (k) {
    case 0: { /* filter over join (inner/left/right/full) */
        op_join_kind kinds[4] = {OP_JOIN_INNER, OP_JOIN_LEFT, OP_JOIN_RIGHT, OP_JOIN_FULL};
        eng_rel *j = eng_rel_join(kinds[rnd() % 4], a, b, 1, lk, rk);
        return filter2(j, pred(1, OP_GT, 1), pred(3, OP_LT, 4));
    }
    case 1: { /* filter over project over map */
        eng_rowbuf one = {0};
        eng_push_int4(&one, 1);
        eng_sx *args[2] = {eng_sx_col(0, i4()), eng_sx_lit(eng_rowbuf_row(&one), i4())};
        eng_rowbuf_free(&one);
        eng_sx **m = calloc(1, sizeof *m);
        m[0] = eng_sx_call(OP_ADD, 2, args);
        eng_err err;
        eng_err_clear(&err);
        eng_rel *mp = eng_rel_map(a, 1, m, &err);
        eng_rel_free(b);
        int cols[2] = {2, 1};
        eng_rel *pr = eng_rel_project(mp, 2, cols);
        return filter2(pr, pred(0, OP_GE, 2), pred(1, OP_NE, 3));
    }
    case 2: { /* filter over union of a and negate? (threshold keeps it valid) */
        eng_rel **v = calloc(2, sizeof *v);
        v[0] = a;
        v[1] = b;
        eng_rel *u = eng_rel_distinct(eng_rel_union(2, v));
        return filter1(u, pred(0, OP_LE, 3));
    }
    case 3: { /* filter over reduce: one on the key (pushed), one on the count */
        eng_agg ag = {OP_AGG_COUNT_STAR, -1, NULL};
        int g[1] = {0};
        eng_rel *r = eng_rel_reduce(a, 1, g, 1, &ag, false);
        eng_rel_free(b);
        eng_rowbuf x = {0};
        eng_push_int8(&x, 1);
        eng_sx *args[2] = {
            eng_sx_col(1, eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE)),
            eng_sx_lit(eng_rowbuf_row(&x), eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE))};
        eng_rowbuf_free(&x);
        eng_sx *cnt = eng_sx_call(OP_GT, 2, args);
        cnt->type = eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE);
        return filter2(r, pred(0, OP_GT, 1), cnt);
    }
    case 4: { /* filter over topk per group */
        op_order o = {1, true, false};
        int g[1] = {0};
        eng_rel *t = eng_rel_topk(a, 1, g, 1, &o, 2, 0);
        eng_rel_free(b);
        return filter2(t, pred(0, OP_NE, 2), pred(1, OP_GT, 0));
    }
    default: { /* filter over a window (partition pushed, rank not) */
        op_order o = {1, false, false};
        int part[1] = {0};
        eng_win w = {OP_WINDOW_ROW_NUMBER, 0, 1, {NULL, 0}};
        eng_rel *win = eng_rel_window(a, 1, part, 1, &o, 1, &w);
        eng_rel_free(b);
        eng_rowbuf x = {0};
        eng_push_int8(&x, 2);
        eng_sx *args[2] = {
            eng_sx_col(2, eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE)),
            eng_sx_lit(eng_rowbuf_row(&x), eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE))};
        eng_rowbuf_free(&x);
        eng_sx *rn = eng_sx_call(OP_LE, 2, args);
        rn->type = eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE);
        return filter2(win, pred(0, OP_LT, 4), rn);
    }
    }
}

static int
no_get(void *ctx, uint64_t id, const eng_batch **out, eng_err *err)
{
    (void)ctx;
    (void)id;
    (void)out;
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE, "no collections here");
}

static bool
same(eng_batch *a, eng_batch *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++) {
        eng_row x = eng_batch_row(a, i), y = eng_batch_row(b, i);
        if (!eng_row_eq(x, y) || a->upd[i].diff != b->upd[i].diff)
            return false;
    }
    return true;
}

static void
test_opt_preserves_results(void **state)
{
    (void)state;
    int moved = 0;
    for (int round = 0; round < 300; round++) {
        eng_rel *p = plan(round % 6);
        eng_rel *copy = eng_rel_copy(p);
        eng_err err;
        eng_err_clear(&err);
        eng_batch *before = NULL, *after = NULL;
        assert_int_equal(eng_ir_eval(p, no_get, NULL, &before, &err), 0);
        eng_rel *o = eng_opt(copy);
        eng_err_clear(&err);
        assert_int_equal(eng_ir_eval(o, no_get, NULL, &after, &err), 0);
        if (!same(before, after))
            fail_msg("plan %d (round %d): results differ after eng_opt", round % 6, round);
        moved += o->kind != ENG_REL_FILTER || o->nexprs < 2;
        eng_batch_free(before);
        eng_batch_free(after);
        eng_rel_free(p);
        eng_rel_free(o);
    }
    /* Every plan has a pushable predicate: the optimiser moved something. */
    assert_true(moved >= 250);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_opt_preserves_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
