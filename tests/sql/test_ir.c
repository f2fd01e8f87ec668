/* Unit tests: the planner IR (eng_ir.h): constructors and their types,
 * typechecking through op_expr_compile, lowering (the lowered tree
 * evaluates to the right value), column rewriting, copy/free, EXPLAIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/sql/eng_ir.h"

static eng_type
ty(eng_typeid id)
{
    return eng_type_make(id, ENG_TYPMOD_NONE);
}

static eng_sx *
text_lit(const char *s)
{
    eng_rowbuf b = {0};
    eng_push_text(&b, s, (uint32_t)strlen(s));
    eng_sx *e = eng_sx_lit(eng_rowbuf_row(&b), ty(ENG_TYPE_TEXT));
    eng_rowbuf_free(&b);
    return e;
}

static void
assert_explain(const eng_sx *e, const char *want)
{
    eng_strbuf sb = {0};
    eng_sx_explain(e, &sb);
    assert_string_equal(eng_strbuf_cstr(&sb), want);
    eng_strbuf_free(&sb);
}

static void
test_typecheck(void **s)
{
    (void)s;
    eng_type cols[3] = {ty(ENG_TYPE_INT4), ty(ENG_TYPE_INT8),
                        eng_type_make(ENG_TYPE_VARCHAR, 10 + 4)};
    eng_err err;
    eng_err_clear(&err);
    /* (#0 + #1) * 2 : int8; children typed too */
    eng_sx *e = eng_sx_call2(OP_MUL,
                             eng_sx_call2(OP_ADD, eng_sx_col(0, ty(ENG_TYPE_UNKNOWN)),
                                          eng_sx_col(1, ty(ENG_TYPE_UNKNOWN))),
                             eng_sx_int8(2));
    assert_int_equal(eng_sx_typecheck(e, 3, cols, &err), 0);
    assert_int_equal(e->type.id, ENG_TYPE_INT8);
    assert_int_equal(e->args[0]->type.id, ENG_TYPE_INT8);
    assert_int_equal(e->args[0]->args[0]->type.id, ENG_TYPE_INT4);
    assert_explain(e, "(#0 + #1) * 2");
    eng_sx_free(e);

    /* a column keeps its typmod; a cast its target */
    e = eng_sx_col(2, ty(ENG_TYPE_UNKNOWN));
    assert_int_equal(eng_sx_typecheck(e, 3, cols, &err), 0);
    assert_int_equal(e->type.id, ENG_TYPE_VARCHAR);
    assert_int_equal(e->type.typmod, 14);
    eng_sx_free(e);
    e = eng_sx_cast(eng_sx_col(0, ty(ENG_TYPE_UNKNOWN)),
                    eng_type_make(ENG_TYPE_NUMERIC, ((10 << 16) | 2) + 4));
    assert_int_equal(eng_sx_typecheck(e, 3, cols, &err), 0);
    assert_int_equal(e->type.id, ENG_TYPE_NUMERIC);
    assert_int_equal(e->type.typmod, ((10 << 16) | 2) + 4);
    assert_explain(e, "#0::numeric(10,2)");
    eng_sx_free(e);

    /* comparisons are boolean; CASE unifies */
    eng_sx *w = eng_sx_call2(OP_GT, eng_sx_col(0, ty(ENG_TYPE_INT4)), eng_sx_int8(3));
    eng_sx *t = eng_sx_col(0, ty(ENG_TYPE_INT4));
    e = eng_sx_case(NULL, 1, &w, &t, eng_sx_null(ty(ENG_TYPE_UNKNOWN)));
    assert_int_equal(eng_sx_typecheck(e, 3, cols, &err), 0);
    assert_int_equal(e->type.id, ENG_TYPE_INT4);
    assert_int_equal(e->args[0]->type.id, ENG_TYPE_BOOL);
    assert_explain(e, "CASE WHEN #0 > 3 THEN #0 ELSE NULL END");
    eng_sx_free(e);

    /* type errors are eng_err values */
    e = eng_sx_call2(OP_ADD, eng_sx_col(0, ty(ENG_TYPE_INT4)), text_lit("x"));
    eng_err_clear(&err);
    assert_int_equal(eng_sx_typecheck(e, 3, cols, &err), -1);
    assert_string_equal(err.sqlstate, "42883");
    eng_sx_free(e);
    e = eng_sx_col(7, ty(ENG_TYPE_INT4));
    eng_err_clear(&err);
    assert_int_equal(eng_sx_typecheck(e, 3, cols, &err), -1);
    assert_string_equal(err.sqlstate, "42703");
    eng_sx_free(e);
    /* a literal whose datum does not fit its declared type */
    e = eng_sx_call2(OP_EQ, eng_sx_col(0, ty(ENG_TYPE_INT4)),
                     eng_sx_lit((eng_row){(const uint8_t *)"\x02", 1}, ty(ENG_TYPE_INT4)));
    eng_err_clear(&err);
    assert_int_equal(eng_sx_typecheck(e, 3, cols, &err), -1);
    assert_string_equal(err.sqlstate, "42804");
    eng_sx_free(e);
}

static void
test_lower_eval(void **s)
{
    (void)s;
    eng_type cols[2] = {ty(ENG_TYPE_INT8), ty(ENG_TYPE_TEXT)};
    eng_err err;
    eng_err_clear(&err);
    eng_sx *args[2] = {eng_sx_col(1, ty(ENG_TYPE_TEXT)), text_lit("-z")};
    eng_sx *e = eng_sx_call(OP_CONCAT_OP, 2, args);
    assert_int_equal(eng_sx_typecheck(e, 2, cols, &err), 0);
    assert_int_equal(e->type.id, ENG_TYPE_TEXT);
    assert_explain(e, "#1 || '-z'::text");
    op_expr *x = eng_sx_lower(e);
    op_type ot[2] = {OP_T_INT8, OP_T_TEXT};
    op_prog *p;
    assert_int_equal(op_expr_compile(x, 2, ot, &p, &err), 0);
    eng_rowbuf in = {0}, out = {0};
    eng_push_int8(&in, 5);
    eng_push_text(&in, "ab", 2);
    op_eval *ev = op_eval_new();
    assert_int_equal(op_eval_datum(ev, p, eng_rowbuf_row(&in), &out, &err), 0);
    eng_rowbuf want = {0};
    eng_push_text(&want, "ab-z", 4);
    assert_true(eng_row_eq(eng_rowbuf_row(&out), eng_rowbuf_row(&want)));
    op_eval_free(ev);
    op_prog_free(p);
    op_expr_free(x);
    eng_rowbuf_free(&in);
    eng_rowbuf_free(&out);
    eng_rowbuf_free(&want);
    eng_sx_free(e);
}

static void
test_rewrite(void **s)
{
    (void)s;
    eng_sx *e = eng_sx_call2(
        OP_AND,
        eng_sx_call2(OP_EQ, eng_sx_col(0, ty(ENG_TYPE_INT8)), eng_sx_col(2, ty(ENG_TYPE_INT8))),
        eng_sx_call1(OP_IS_NULL, eng_sx_col(1, ty(ENG_TYPE_INT8))));
    assert_int_equal(eng_sx_max_col(e), 2);
    assert_true(eng_sx_uses(e, 1));
    assert_false(eng_sx_uses(e, 3));
    assert_false(eng_sx_is_const(e));
    eng_sx *c = eng_sx_copy(e);
    int map[3] = {5, 4, 3};
    eng_sx_remap(e, map);
    assert_explain(e, "(#5 = #3) AND (#4 IS NULL)");
    eng_sx_shift(c, 10);
    assert_explain(c, "(#10 = #12) AND (#11 IS NULL)");
    eng_sx_free(e);
    eng_sx_free(c);
    eng_sx *k = eng_sx_call1(OP_NEG, eng_sx_int8(4));
    assert_true(eng_sx_is_const(k));
    assert_int_equal(eng_sx_max_col(k), -1);
    assert_explain(k, "-4");
    eng_sx_free(k);
}

static eng_rel *
table(uint64_t id, const char *name)
{
    eng_type t[3] = {ty(ENG_TYPE_INT8), ty(ENG_TYPE_INT4), ty(ENG_TYPE_TEXT)};
    return eng_rel_get(id, name, 3, t);
}

static void
test_relations(void **s)
{
    (void)s;
    eng_err err;
    eng_err_clear(&err);
    /* map: expressions read input columns and earlier maps */
    eng_sx **ex = malloc(2 * sizeof *ex);
    ex[0] =
        eng_sx_call2(OP_ADD, eng_sx_col(1, ty(ENG_TYPE_INT4)), eng_sx_col(1, ty(ENG_TYPE_INT4)));
    ex[1] = eng_sx_call2(OP_MUL, eng_sx_col(3, ty(ENG_TYPE_UNKNOWN)), eng_sx_int8(2));
    eng_rel *m = eng_rel_map(table(1, "t"), 2, ex, &err);
    assert_non_null(m);
    assert_int_equal(m->ncols, 5);
    assert_int_equal(m->types[3].id, ENG_TYPE_INT4);
    assert_int_equal(m->types[4].id, ENG_TYPE_INT8);

    eng_sx **pr = malloc(sizeof *pr);
    pr[0] = eng_sx_call2(OP_GT, eng_sx_col(4, ty(ENG_TYPE_INT8)), eng_sx_int8(0));
    eng_rel *f = eng_rel_filter(m, 1, pr);
    int pc[2] = {4, 2};
    eng_rel *p = eng_rel_project(f, 2, pc);
    assert_int_equal(p->types[0].id, ENG_TYPE_INT8);
    assert_int_equal(p->types[1].id, ENG_TYPE_TEXT);

    int lk[1] = {0}, rk[1] = {0};
    eng_rel *j = eng_rel_join(OP_JOIN_LEFT, p, table(2, "u"), 1, lk, rk);
    assert_int_equal(j->ncols, 5);
    assert_int_equal(j->types[4].id, ENG_TYPE_TEXT);

    int g[1] = {1};
    eng_agg aggs[4] = {{OP_AGG_COUNT_STAR, -1, NULL},
                       {OP_AGG_SUM_INT8, 0, NULL},
                       {OP_AGG_MAX, 3, NULL},
                       {OP_AGG_STRING_AGG, 4, (char *)","}};
    eng_rel *r = eng_rel_reduce(j, 1, g, 4, aggs, false);
    assert_int_equal(r->ncols, 5);
    assert_int_equal(r->types[0].id, ENG_TYPE_TEXT);
    assert_int_equal(r->types[1].id, ENG_TYPE_INT8);
    assert_int_equal(r->types[2].id, ENG_TYPE_NUMERIC);
    assert_int_equal(r->types[3].id, ENG_TYPE_INT4);
    assert_int_equal(r->types[4].id, ENG_TYPE_TEXT);
    assert_ptr_not_equal(r->aggs[3].sep, aggs[3].sep); /* copied */

    op_order ord[1] = {{1, true, true}};
    eng_rel *tk = eng_rel_topk(r, 1, (int[]){0}, 1, ord, 3, 1);

    eng_rowbuf rb = {0};
    eng_push_text(&rb, "x", 1);
    eng_push_int8(&rb, 1);
    eng_push_null(&rb);
    eng_push_int4(&rb, 7);
    eng_push_text(&rb, "it's", 4);
    eng_row row = eng_rowbuf_row(&rb);
    int64_t d = 2;
    eng_rel *k = eng_rel_const(5, r->types, 1, &row, &d);
    eng_rowbuf_free(&rb);
    eng_rel **ins = malloc(2 * sizeof *ins);
    ins[0] = tk;
    ins[1] = eng_rel_negate(k);
    eng_rel *u = eng_rel_threshold(eng_rel_distinct(eng_rel_union(2, ins)));
    assert_int_equal(u->ncols, 5);

    eng_strbuf sb = {0};
    eng_rel_explain(u, &sb);
    const char *want = "Threshold\n"
                       "  Distinct\n"
                       "    Union\n"
                       "      TopK group=[#0] order=[#1 DESC NULLS FIRST] limit=3 offset=1\n"
                       "        Reduce group=[#1] aggs=[count(*), sum(#0), max(#3), "
                       "string_agg(#4, ',')]\n"
                       "          Join left on #0 = #2\n"
                       "            Project [#4, #2]\n"
                       "              Filter #4 > 0\n"
                       "                Map #1 + #1, #3 * 2\n"
                       "                  Get t (id 1)\n"
                       "            Get u (id 2)\n"
                       "      Negate\n"
                       "        Constant ('x', 1, NULL, 7, 'it''s') x2\n";
    if (strcmp(eng_strbuf_cstr(&sb), want) != 0)
        fprintf(stderr, "%s", eng_strbuf_cstr(&sb));
    assert_string_equal(eng_strbuf_cstr(&sb), want);

    /* a copy explains the same and is independent */
    eng_rel *c = eng_rel_copy(u);
    eng_rel_free(u);
    eng_strbuf sb2 = {0};
    eng_rel_explain(c, &sb2);
    assert_string_equal(eng_strbuf_cstr(&sb2), want);
    eng_rel_free(c);
    eng_strbuf_free(&sb);
    eng_strbuf_free(&sb2);
}

/* WINDOW: types, copied arrays and defaults, copy/free, EXPLAIN. */
static void
test_window(void **s)
{
    (void)s;
    eng_rowbuf rb = {0};
    eng_push_text(&rb, "none", 4);
    uint8_t *dflt = malloc(rb.len);
    memcpy(dflt, rb.data, rb.len);
    uint32_t dlen = rb.len;
    eng_rowbuf_free(&rb);
    eng_win wins[5] = {
        {OP_WINDOW_ROW_NUMBER, 0, 0, {NULL, 0}}, {OP_WINDOW_RANK, 0, 0, {NULL, 0}},
        {OP_WINDOW_DENSE_RANK, 0, 0, {NULL, 0}}, {OP_WINDOW_LAG, 1, 1, {NULL, 0}},
        {OP_WINDOW_LEAD, 2, 2, {dflt, dlen}},
    };
    op_order ord[2] = {{1, true, true}, {2, false, false}};
    int part[1] = {0};
    eng_rel *w = eng_rel_window(table(1, "t"), 1, part, 2, ord, 5, wins);
    free(dflt); /* copied */
    part[0] = 9;
    ord[0].col = 9;
    assert_int_equal(w->ncols, 8);
    assert_int_equal(w->types[2].id, ENG_TYPE_TEXT);
    assert_int_equal(w->types[3].id, ENG_TYPE_INT8);
    assert_int_equal(w->types[4].id, ENG_TYPE_INT8);
    assert_int_equal(w->types[5].id, ENG_TYPE_INT8);
    assert_int_equal(w->types[6].id, ENG_TYPE_INT4);
    assert_int_equal(w->types[7].id, ENG_TYPE_TEXT);
    assert_int_equal(w->part[0], 0);
    assert_int_equal(w->order[0].col, 1);
    assert_int_equal(w->wins[3].dflt.len, 1); /* no default: a NULL datum */
    assert_int_equal(w->wins[3].dflt.data[0], ENG_TAG_NULL);
    const char *want = "Window part=[#0] order=[#1 DESC NULLS FIRST, #2 ASC NULLS LAST] "
                       "fns=[row_number(), rank(), dense_rank(), lag(#1, 1, NULL), "
                       "lead(#2, 2, 'none')]\n"
                       "  Get t (id 1)\n";
    eng_strbuf sb = {0};
    eng_rel_explain(w, &sb);
    if (strcmp(eng_strbuf_cstr(&sb), want) != 0)
        fprintf(stderr, "%s", eng_strbuf_cstr(&sb));
    assert_string_equal(eng_strbuf_cstr(&sb), want);
    eng_rel *c = eng_rel_copy(w);
    eng_rel_free(w);
    eng_strbuf sb2 = {0};
    eng_rel_explain(c, &sb2);
    assert_string_equal(eng_strbuf_cstr(&sb2), want);
    assert_int_equal(eng_win_type(&c->wins[4], 3, c->in[0]->types).id, ENG_TYPE_TEXT);
    eng_rel_free(c);
    eng_strbuf_free(&sb);
    eng_strbuf_free(&sb2);
}

static void
test_map_error(void **s)
{
    (void)s;
    eng_err err;
    eng_err_clear(&err);
    eng_sx **ex = malloc(sizeof *ex);
    ex[0] = eng_sx_call2(OP_ADD, eng_sx_col(2, ty(ENG_TYPE_TEXT)), eng_sx_int8(1));
    eng_rel *m = eng_rel_map(table(1, "t"), 1, ex, &err); /* frees its inputs */
    assert_null(m);
    assert_string_equal(err.sqlstate, "42883");
}

static void
test_agg_types(void **s)
{
    (void)s;
    eng_type i4 = ty(ENG_TYPE_INT4), f4 = ty(ENG_TYPE_FLOAT4), d = ty(ENG_TYPE_DATE);
    assert_int_equal(eng_agg_type(OP_AGG_COUNT_STAR, i4).id, ENG_TYPE_INT8);
    assert_int_equal(eng_agg_type(OP_AGG_COUNT, d).id, ENG_TYPE_INT8);
    assert_int_equal(eng_agg_type(OP_AGG_COUNT_DISTINCT, d).id, ENG_TYPE_INT8);
    assert_int_equal(eng_agg_type(OP_AGG_SUM_INT, i4).id, ENG_TYPE_INT8);
    assert_int_equal(eng_agg_type(OP_AGG_SUM_INT8, i4).id, ENG_TYPE_NUMERIC);
    assert_int_equal(eng_agg_type(OP_AGG_SUM_FLOAT, f4).id, ENG_TYPE_FLOAT8);
    assert_int_equal(eng_agg_type(OP_AGG_SUM_FLOAT4, f4).id, ENG_TYPE_FLOAT4);
    assert_int_equal(eng_agg_type(OP_AGG_SUM_NUMERIC, i4).id, ENG_TYPE_NUMERIC);
    assert_int_equal(eng_agg_type(OP_AGG_AVG_INT, i4).id, ENG_TYPE_NUMERIC);
    assert_int_equal(eng_agg_type(OP_AGG_AVG_FLOAT, f4).id, ENG_TYPE_FLOAT8);
    assert_int_equal(eng_agg_type(OP_AGG_AVG_NUMERIC, i4).id, ENG_TYPE_NUMERIC);
    assert_int_equal(eng_agg_type(OP_AGG_BOOL_AND, i4).id, ENG_TYPE_BOOL);
    assert_int_equal(eng_agg_type(OP_AGG_BOOL_OR, i4).id, ENG_TYPE_BOOL);
    assert_int_equal(eng_agg_type(OP_AGG_MIN, d).id, ENG_TYPE_DATE);
    assert_int_equal(eng_agg_type(OP_AGG_MAX, f4).id, ENG_TYPE_FLOAT4);
    assert_int_equal(eng_agg_type(OP_AGG_STRING_AGG, ty(ENG_TYPE_VARCHAR)).id, ENG_TYPE_TEXT);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typecheck), cmocka_unit_test(test_lower_eval),
        cmocka_unit_test(test_rewrite),   cmocka_unit_test(test_relations),
        cmocka_unit_test(test_map_error), cmocka_unit_test(test_agg_types),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
