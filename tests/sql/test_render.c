/* Renderer tests: hand-built IR trees over tables (a table = a dataflow
 * with an input node feeding arrange nodes, as the catalog builds it) are
 * rendered, installed on a 2-worker runtime and fed random insert/retract
 * streams over many timestamps; at every time the view's arrangement,
 * peeked at that time, must equal eng_ir_eval over the tables' contents
 * at that time. Also: errors in data (22012 while the failing row is
 * present), planning errors as SQLSTATEs, shared-arrangement joins.
 *
 * Seeds are fixed; SLUICE_SEED overrides; failures print the seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine/core/eng_log.h"
#include "engine/runtime/eng_rt.h"
#include "engine/sql/eng_ir_eval.h"
#include "engine/sql/eng_render.h"
#include "operators/op_arrange.h"
#include "operators/op_project.h"
#include "tests/model/oracle.h"

static shard_topo *topo;
static uint64_t base_seed = 7;

static int
setup(void **state)
{
    (void)state;
    eng_log_init(ENG_LOG_ERROR, 2);
    const char *s = getenv("SLUICE_SEED");
    if (s)
        base_seed = strtoull(s, NULL, 10);
    eng_err e;
    eng_err_clear(&e);
    return shard_topo_open(&topo, &e);
}

static int
teardown(void **state)
{
    (void)state;
    shard_topo_close(topo);
    return 0;
}

static eng_type
ty(eng_typeid id)
{
    return eng_type_make(id, ENG_TYPMOD_NONE);
}

/* ------------------------------------------------------------------ tables */

/* A(k int8, v int8, b bool, s text): arranged as rows and by k.
 * B(k int8, w int8, s text): arranged as rows only. */
enum { TA = 1, TB = 2 };

typedef struct table {
    uint64_t id;
    const char *name;
    int ncols;
    eng_type types[4];
    eng_df *df;
    int input, arr_row, arr_k;
    eng_render_arr arrs[2];
    int narrs;
    int keycols[1];
    t_mset state;
    uint64_t seed;
} table;

typedef struct world {
    eng_rt *rt;
    eng_client *c;
    table t[2];
    eng_time now; /* next time to write */
} world;

static void
table_init(world *w, table *t, uint64_t id, bool keyed, uint64_t seed)
{
    t->id = id;
    t->seed = seed;
    t->name = id == TA ? "a" : "b";
    if (id == TA) {
        t->ncols = 4;
        t->types[0] = ty(ENG_TYPE_INT8);
        t->types[1] = ty(ENG_TYPE_INT8);
        t->types[2] = ty(ENG_TYPE_BOOL);
        t->types[3] = ty(ENG_TYPE_TEXT);
    } else {
        t->ncols = 3;
        t->types[0] = ty(ENG_TYPE_INT8);
        t->types[1] = ty(ENG_TYPE_INT8);
        t->types[2] = ty(ENG_TYPE_TEXT);
    }
    eng_plan *p = eng_plan_new();
    t->input = eng_plan_input(p, t->name);
    op_arrange_params *ap = calloc(1, sizeof *ap);
    ap->key_ncols = OP_KEY_ALL;
    t->arr_row = eng_plan_node(p, "arrange", op_arrange_make, ap, free, 1);
    eng_plan_edge(p, t->input, t->arr_row, 0, OP_KEY_ALL);
    t->narrs = 1;
    t->arr_k = -1;
    if (keyed) {
        op_project_params *pp = op_project_params_new(1 + t->ncols);
        pp->cols[0] = 0;
        for (int c = 0; c < t->ncols; c++)
            pp->cols[1 + c] = c;
        int pr = eng_plan_node(p, "project", op_project_make, pp, free, 1);
        eng_plan_edge(p, t->input, pr, 0, -1);
        op_arrange_params *ak = calloc(1, sizeof *ak);
        ak->key_ncols = 1;
        t->arr_k = eng_plan_node(p, "arrange", op_arrange_make, ak, free, 1);
        eng_plan_edge(p, pr, t->arr_k, 0, 1);
    }
    t->df = eng_df_install(w->c, p);
    t->keycols[0] = 0;
    t->arrs[0] = (eng_render_arr){.df = t->df, .node = t->arr_row, .key_is_row = true};
    if (keyed) {
        t->arrs[1] = (eng_render_arr){
            .df = t->df, .node = t->arr_k, .key_is_row = false, .nkey = 1, .keycols = t->keycols};
        t->narrs = 2;
    }
    t_mset_init(&t->state);
}

static const char *const strs[] = {"a", "b", "cc", "d"};

static void
gen_row(table *t, eng_rowbuf *rb)
{
    uint64_t *s = &t->seed;
    eng_rowbuf_reset(rb);
    if (t_rand(s) % 100 < 10)
        eng_push_null(rb);
    else
        eng_push_int8(rb, (int64_t)(t_rand(s) % 4));
    if (t_rand(s) % 100 < 10)
        eng_push_null(rb);
    else
        eng_push_int8(rb, (int64_t)(t_rand(s) % 7) - 3);
    if (t->id == TA) {
        uint64_t x = t_rand(s) % 10;
        if (x == 0)
            eng_push_null(rb);
        else
            eng_push_bool(rb, x < 6);
    }
    if (t_rand(s) % 100 < 10) {
        eng_push_null(rb);
    } else {
        const char *v = strs[t_rand(s) % 4];
        eng_push_text(rb, v, (uint32_t)strlen(v));
    }
}

/* n random updates at time `at` into t (sent), state updated. */
static void
table_step(world *w, table *t, int n, eng_time at)
{
    eng_batch *b = eng_client_batch(w->c);
    eng_rowbuf rb = {0};
    for (int i = 0; i < n; i++) {
        eng_batch *st = t->state.b;
        if (st->n > 0 && t_rand(&t->seed) % 100 < 40) {
            uint32_t j = (uint32_t)(t_rand(&t->seed) % st->n);
            if (st->upd[j].diff > 0) {
                eng_rowbuf_reset(&rb);
                eng_push_row(&rb, eng_batch_row(st, j));
                eng_batch_push(b, eng_rowbuf_row(&rb), at, -1);
                t_mset_add(&t->state, eng_rowbuf_row(&rb), -1);
                continue;
            }
        }
        gen_row(t, &rb);
        int64_t d = t_rand(&t->seed) % 8 == 0 ? 2 : 1;
        eng_batch_push(b, eng_rowbuf_row(&rb), at, d);
        t_mset_add(&t->state, eng_rowbuf_row(&rb), d);
    }
    eng_rowbuf_free(&rb);
    eng_df_send(w->c, t->df, t->input, b);
}

static void
world_step(world *w, int n)
{
    for (int i = 0; i < 2; i++)
        table_step(w, &w->t[i], n, w->now);
    for (int i = 0; i < 2; i++)
        eng_df_advance(w->c, w->t[i].df, w->t[i].input, w->now + 1);
    w->now++;
}

static void
world_start(world *w, uint64_t seed)
{
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_rt_start(&w->rt, topo, 2, &err), 0);
    w->c = eng_client_new(w->rt);
    table_init(w, &w->t[0], TA, true, seed * 31 + 1);
    table_init(w, &w->t[1], TB, false, seed * 17 + 5);
    w->now = 0;
}

static void
world_stop(world *w)
{
    for (int i = 0; i < 2; i++) {
        eng_df_drop(w->c, w->t[i].df);
        t_mset_free(&w->t[i].state);
    }
    eng_client_free(w->c);
    eng_rt_stop(w->rt);
}

static int
cat_lookup(void *ctx, uint64_t id, const eng_render_arr **out, eng_err *err)
{
    world *w = ctx;
    for (int i = 0; i < 2; i++)
        if (w->t[i].id == id) {
            *out = w->t[i].arrs;
            return w->t[i].narrs;
        }
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE, "no collection %llu",
                       (unsigned long long)id);
}

static int
eval_get(void *ctx, uint64_t id, const eng_batch **out, eng_err *err)
{
    world *w = ctx;
    for (int i = 0; i < 2; i++)
        if (w->t[i].id == id) {
            *out = w->t[i].state.b;
            return 0;
        }
    return eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE, "no collection");
}

/* ------------------------------------------------------------------ IR helpers */

static eng_rel *
get_a(void)
{
    eng_type t[4] = {ty(ENG_TYPE_INT8), ty(ENG_TYPE_INT8), ty(ENG_TYPE_BOOL), ty(ENG_TYPE_TEXT)};
    return eng_rel_get(TA, "a", 4, t);
}

static eng_rel *
get_b(void)
{
    eng_type t[3] = {ty(ENG_TYPE_INT8), ty(ENG_TYPE_INT8), ty(ENG_TYPE_TEXT)};
    return eng_rel_get(TB, "b", 3, t);
}

static eng_sx *
col(int c)
{
    return eng_sx_col(c, ty(ENG_TYPE_UNKNOWN));
}

static eng_rel *
map1(eng_rel *in, eng_sx *e)
{
    eng_err err;
    eng_err_clear(&err);
    eng_sx **ex = malloc(sizeof *ex);
    ex[0] = e;
    eng_rel *r = eng_rel_map(in, 1, ex, &err);
    if (r == NULL)
        fail_msg("map: %s", err.message);
    return r;
}

static eng_rel *
filter1(eng_rel *in, eng_sx *e)
{
    eng_sx **ex = malloc(sizeof *ex);
    ex[0] = e;
    return eng_rel_filter(in, 1, ex);
}

static eng_rel *
project(eng_rel *in, int n, const int *cols)
{
    return eng_rel_project(in, n, cols);
}

static eng_rel *
union2(eng_rel *a, eng_rel *b)
{
    eng_rel **ins = malloc(2 * sizeof *ins);
    ins[0] = a;
    ins[1] = b;
    return eng_rel_union(2, ins);
}

/* ------------------------------------------------------------------ the driver */

/* Sorts the comma-separated pieces of text column col of each row (the
 * operator's string_agg order is not deterministic). */
static eng_batch *
norm_strings(const eng_batch *b, int col)
{
    eng_batch *o = calloc(1, sizeof *o);
    eng_rowbuf rb = {0};
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        if (col < 0) {
            eng_batch_push(o, r, 0, b->upd[i].diff);
            continue;
        }
        eng_rowbuf_reset(&rb);
        uint32_t pos = 0;
        for (int c = 0; pos < r.len; c++) {
            eng_datum d = eng_row_next(r, &pos);
            if (c != col || d.tag != ENG_TAG_TEXT) {
                eng_push_datum(&rb, d);
                continue;
            }
            char *pieces[256];
            int np = 0;
            char *s = strndup((const char *)d.ptr, d.len), *save = NULL;
            for (char *tok = strtok_r(s, ",", &save); tok && np < 256;
                 tok = strtok_r(NULL, ",", &save))
                pieces[np++] = tok;
            for (int x = 1; x < np; x++)
                for (int y = x; y > 0 && strcmp(pieces[y - 1], pieces[y]) > 0; y--) {
                    char *tmp = pieces[y];
                    pieces[y] = pieces[y - 1];
                    pieces[y - 1] = tmp;
                }
            eng_strbuf sb = {0};
            for (int x = 0; x < np; x++) {
                if (x)
                    eng_strbuf_putc(&sb, ',');
                eng_strbuf_puts(&sb, pieces[x]);
            }
            eng_push_text(&rb, sb.data ? sb.data : "", (uint32_t)sb.len);
            eng_strbuf_free(&sb);
            free(s);
        }
        eng_batch_push(o, eng_rowbuf_row(&rb), 0, b->upd[i].diff);
    }
    eng_rowbuf_free(&rb);
    return o;
}

/* Keyed output layout: rows = key columns ++ all columns. */
static eng_batch *
keyed_layout(const eng_batch *b, int nkey, const int *keycols)
{
    eng_batch *o = calloc(1, sizeof *o);
    eng_rowbuf rb = {0};
    for (uint32_t i = 0; i < b->n; i++) {
        eng_row r = eng_batch_row(b, i);
        eng_rowbuf_reset(&rb);
        for (int k = 0; k < nkey; k++) {
            uint32_t pos = eng_row_col_offset(r, keycols[k]);
            eng_push_datum(&rb, eng_row_next(r, &pos));
        }
        eng_push_row(&rb, r);
        eng_batch_push(o, eng_rowbuf_row(&rb), 0, b->upd[i].diff);
    }
    eng_rowbuf_free(&rb);
    return o;
}

typedef struct vcase {
    const char *name;
    eng_rel *(*build)(void);
    int sagg_col; /* string_agg column to normalise, -1 none */
    int nkey;     /* > 0: arrange the output by keycols */
    int keycols[2];
    int min_shared; /* joins expected to read an arrangement in place */
} vcase;

static int steps_run;

static void
run_case(const vcase *vc, uint64_t seed)
{
    world w = {0};
    world_start(&w, seed);
    for (int i = 0; i < 3; i++) /* history before the view exists */
        world_step(&w, 8);
    eng_err err;
    eng_err_clear(&err);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(eng_df_wait(w.c, w.t[i].df, w.t[i].arr_row, w.now - 1, 10000, &err), 0);
        if (w.t[i].arr_k >= 0)
            assert_int_equal(eng_df_wait(w.c, w.t[i].df, w.t[i].arr_k, w.now - 1, 10000, &err), 0);
    }

    eng_rel *rel = vc->build();
    eng_render_env env = {.client = w.c, .lookup = cat_lookup, .ctx = &w};
    eng_render_opts opts = {.arrange = ENG_RENDER_ARRANGE_ROW};
    if (vc->nkey > 0)
        opts = (eng_render_opts){
            .arrange = ENG_RENDER_ARRANGE_KEYS, .nkey = vc->nkey, .keycols = vc->keycols};
    eng_plan *p = eng_plan_new();
    eng_render_result res;
    int rc = eng_render(rel, &env, &opts, p, &res, &err);
    if (rc != 0)
        fail_msg("%s: render failed: %s %s", vc->name, err.sqlstate, err.message);
    assert_true(res.arrange >= 0);
    assert_true(res.shared_joins >= vc->min_shared);
    eng_df *df = eng_df_install(w.c, p);
    eng_render_start(&res, w.c, df);
    /* as_of: the latest time written (the view's first read is there), or
     * 0 for constants alone */
    assert_true(res.as_of == w.now - 1 || (res.as_of == 0 && res.nimports == 0));

    const int T = 30;
    for (int step = 0; step <= T; step++) {
        /* a dataflow of constants alone is complete (frontier: the empty
         * one) and compacts all its history: read its latest state */
        eng_time t = res.nimports == 0 ? ENG_TIME_MAX : w.now - 1;
        eng_batch *want;
        eng_err_clear(&err);
        int erc = eng_ir_eval(rel, eval_get, &w, &want, &err);
        eng_err perr;
        eng_err_clear(&perr);
        eng_batch *got = NULL;
        eng_time at;
        int prc = eng_df_peek(w.c, df, res.arrange, t, NULL, &got, &at, &perr);
        char what[160];
        snprintf(what, sizeof what, "%s seed %llu t=%llu", vc->name, (unsigned long long)seed,
                 (unsigned long long)t);
        if (erc != 0) {
            if (prc == 0 || strcmp(perr.sqlstate, err.sqlstate) != 0)
                fail_msg("%s: oracle error %s (%s), peek rc %d %s", what, err.sqlstate, err.message,
                         prc, perr.sqlstate);
        } else {
            if (prc != 0)
                fail_msg("%s: peek failed: %s %s", what, perr.sqlstate, perr.message);
            eng_batch *w2 = vc->nkey > 0 ? keyed_layout(want, vc->nkey, vc->keycols) : NULL;
            int scol = vc->sagg_col >= 0 ? vc->sagg_col + vc->nkey : -1;
            eng_batch *gn = norm_strings(got, scol), *wn = norm_strings(w2 ? w2 : want, scol);
            if (!t_same(what, gn, wn))
                fail_msg("%s: view differs from the oracle", what);
            eng_batch_free(gn);
            eng_batch_free(wn);
            if (w2)
                eng_batch_free(w2);
            eng_batch_free(want);
        }
        if (got)
            eng_batch_free(got);
        steps_run++;
        if (step < T)
            world_step(&w, 6);
    }
    eng_df_drop(w.c, df);
    eng_render_result_free(&res);
    eng_rel_free(rel);
    world_stop(&w);
}

/* ------------------------------------------------------------------ the cases */

/* MAP/FILTER/PROJECT chain (one mfp): k, v*2, k+v where v*2 > -3 and s IS NOT NULL. */
static eng_rel *
build_mfp(void)
{
    eng_rel *r = map1(get_a(), eng_sx_call2(OP_MUL, col(1), eng_sx_int8(2)));
    r = filter1(r, eng_sx_call2(OP_GT, col(4), eng_sx_int8(-3)));
    r = map1(r, eng_sx_call2(OP_ADD, col(0), col(1)));
    r = filter1(r, eng_sx_call1(OP_IS_NOT_NULL, col(3)));
    return project(r, 4, (int[]){0, 4, 5, 3});
}

static eng_rel *
join_on_k(op_join_kind kind)
{
    return eng_rel_join(kind, get_a(), get_b(), 1, (int[]){0}, (int[]){0});
}

static eng_rel *
build_join_inner_shared(void)
{
    return join_on_k(OP_JOIN_INNER);
}

static eng_rel *
build_join_left(void)
{
    return join_on_k(OP_JOIN_LEFT);
}

static eng_rel *
build_join_right(void)
{
    return join_on_k(OP_JOIN_RIGHT);
}

static eng_rel *
build_join_full(void)
{
    return join_on_k(OP_JOIN_FULL);
}

/* Inner join on two columns, neither side arranged that way; the right
 * side is B swapped (w, k) so the keys are reordered. */
static eng_rel *
build_join_inner_2keys(void)
{
    eng_rel *b = project(get_b(), 3, (int[]){1, 0, 2});
    return eng_rel_join(OP_JOIN_INNER, b, get_a(), 2, (int[]){1, 0}, (int[]){0, 1});
}

/* Cross join of small projections. */
static eng_rel *
build_cross(void)
{
    eng_rel *a = filter1(get_a(), eng_sx_call2(OP_EQ, col(0), eng_sx_int8(1)));
    a = project(a, 2, (int[]){1, 2});
    eng_rel *b =
        project(filter1(get_b(), eng_sx_call2(OP_LT, col(1), eng_sx_int8(0))), 1, (int[]){2});
    return eng_rel_join(OP_JOIN_INNER, a, b, 0, NULL, NULL);
}

/* A with extra columns for the aggregates: 4 v::float8, 5 v::float4,
 * 6 v::numeric / 4, 7 v::int4. */
static eng_rel *
a_wide(void)
{
    eng_rel *r = map1(get_a(), eng_sx_cast(col(1), ty(ENG_TYPE_FLOAT8)));
    r = map1(r, eng_sx_cast(col(1), ty(ENG_TYPE_FLOAT4)));
    r = map1(r, eng_sx_call2(OP_DIV, eng_sx_cast(col(1), ty(ENG_TYPE_NUMERIC)), eng_sx_int8(4)));
    return map1(r, eng_sx_cast(col(1), ty(ENG_TYPE_INT4)));
}

static const eng_agg all_aggs[] = {
    {OP_AGG_COUNT_STAR, -1, NULL},
    {OP_AGG_COUNT, 1, NULL},
    {OP_AGG_SUM_INT, 7, NULL},
    {OP_AGG_SUM_INT8, 1, NULL},
    {OP_AGG_SUM_FLOAT, 4, NULL},
    {OP_AGG_SUM_FLOAT4, 5, NULL},
    {OP_AGG_SUM_NUMERIC, 6, NULL},
    {OP_AGG_AVG_INT, 7, NULL},
    {OP_AGG_AVG_FLOAT, 4, NULL},
    {OP_AGG_AVG_NUMERIC, 6, NULL},
    {OP_AGG_BOOL_AND, 2, NULL},
    {OP_AGG_BOOL_OR, 2, NULL},
    {OP_AGG_MIN, 1, NULL},
    {OP_AGG_MAX, 3, NULL},
    {OP_AGG_COUNT_DISTINCT, 3, NULL},
    {OP_AGG_STRING_AGG, 3, (char *)","},
};
#define NAGGS ((int)(sizeof all_aggs / sizeof all_aggs[0]))

static eng_rel *
build_reduce_grouped(void)
{
    return eng_rel_reduce(a_wide(), 1, (int[]){0}, NAGGS, all_aggs, false);
}

/* Global aggregates over a filtered input that is often empty. */
static eng_rel *
build_reduce_global(void)
{
    eng_rel *in = filter1(a_wide(), eng_sx_call2(OP_EQ, col(0), eng_sx_int8(3)));
    in = filter1(in, eng_sx_call2(OP_GT, col(1), eng_sx_int8(1)));
    return eng_rel_reduce(in, 0, NULL, NAGGS, all_aggs, true);
}

/* Group by two columns (s, k) with a few aggregates over a join. */
static eng_rel *
build_reduce_join(void)
{
    eng_rel *j = join_on_k(OP_JOIN_LEFT);
    eng_agg aggs[3] = {
        {OP_AGG_COUNT_STAR, -1, NULL}, {OP_AGG_SUM_INT8, 5, NULL}, {OP_AGG_MIN, 6, NULL}};
    return eng_rel_reduce(j, 2, (int[]){3, 0}, 3, aggs, false);
}

static eng_rel *
build_topk_groups(void)
{
    op_order o[1] = {{1, true, true}};
    return eng_rel_topk(get_a(), 1, (int[]){0}, 1, o, 2, 1);
}

static eng_rel *
build_topk_global(void)
{
    op_order o[2] = {{3, false, false}, {1, false, true}};
    return eng_rel_topk(get_a(), 0, NULL, 2, o, 4, 0);
}

static eng_rel *
build_topk_offset_only(void)
{
    op_order o[1] = {{1, false, false}};
    return eng_rel_topk(get_b(), 1, (int[]){2}, 1, o, -1, 2);
}

/* ---- window functions */

/* A one-datum default row (freed by the caller with free()). */
static eng_row
dflt_int8(int64_t v)
{
    uint8_t *b = malloc(9);
    b[0] = ENG_TAG_INT8;
    memcpy(b + 1, &v, 8);
    return (eng_row){b, 9};
}

static eng_row
dflt_text(const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    uint8_t *b = malloc(5 + n);
    b[0] = ENG_TAG_TEXT;
    memcpy(b + 1, &n, 4);
    memcpy(b + 5, s, n);
    return (eng_row){b, 5 + n};
}

static eng_rel *
window_of(eng_rel *in, int npart, const int *part, int norder, const op_order *order, int nwin,
          eng_win *wins)
{
    eng_rel *r = eng_rel_window(in, npart, part, norder, order, nwin, wins);
    for (int i = 0; i < nwin; i++)
        free((void *)(uintptr_t)wins[i].dflt.data); /* copied by the constructor */
    return r;
}

/* Every function over A by k, ordered by v (ties, NULLs, duplicates). */
static eng_rel *
build_window_all(void)
{
    op_order o[1] = {{1, false, false}};
    eng_win w[6] = {
        {OP_WINDOW_ROW_NUMBER, 0, 0, {NULL, 0}}, {OP_WINDOW_RANK, 0, 0, {NULL, 0}},
        {OP_WINDOW_DENSE_RANK, 0, 0, {NULL, 0}}, {OP_WINDOW_LAG, 1, 1, {NULL, 0}},
        {OP_WINDOW_LEAD, 3, 2, dflt_text("zz")}, {OP_WINDOW_LAG, 1, 2, dflt_int8(-99)},
    };
    return window_of(get_a(), 1, (int[]){0}, 1, o, 6, w);
}

/* Partition by (s, k), v DESC NULLS FIRST then b NULLS FIRST; output
 * arranged by a function column. */
static eng_rel *
build_window_desc(void)
{
    op_order o[2] = {{1, true, true}, {2, false, true}};
    eng_win w[5] = {
        {OP_WINDOW_RANK, 0, 0, {NULL, 0}},       {OP_WINDOW_LEAD, 1, 1, dflt_int8(7)},
        {OP_WINDOW_DENSE_RANK, 0, 0, {NULL, 0}}, {OP_WINDOW_LAG, 3, 1, {NULL, 0}},
        {OP_WINDOW_ROW_NUMBER, 0, 0, {NULL, 0}},
    };
    return window_of(get_a(), 2, (int[]){3, 0}, 2, o, 5, w);
}

/* One global partition over B, v NULLS FIRST; lag with a negative
 * offset; then "row_number <= 3" filtered and projected (the parent's
 * projection folds into the window's). */
static eng_rel *
build_window_global(void)
{
    op_order o[1] = {{1, false, true}};
    eng_win w[4] = {
        {OP_WINDOW_ROW_NUMBER, 0, 0, {NULL, 0}},
        {OP_WINDOW_RANK, 0, 0, {NULL, 0}},
        {OP_WINDOW_LEAD, 0, 2, dflt_int8(-1)},
        {OP_WINDOW_LAG, 2, -1, dflt_text("none")},
    };
    eng_rel *r = window_of(get_b(), 0, NULL, 1, o, 4, w);
    r = filter1(r, eng_sx_call2(OP_LE, col(3), eng_sx_int8(3)));
    return project(r, 5, (int[]){6, 2, 3, 4, 5});
}

/* No order columns (every row a peer of every other): ranks are all 1,
 * row_number follows the rows' bytes; over a join's output. */
static eng_rel *
build_window_no_order(void)
{
    eng_win w[4] = {
        {OP_WINDOW_RANK, 0, 0, {NULL, 0}},
        {OP_WINDOW_DENSE_RANK, 0, 0, {NULL, 0}},
        {OP_WINDOW_ROW_NUMBER, 0, 0, {NULL, 0}},
        {OP_WINDOW_LEAD, 5, 1, {NULL, 0}},
    };
    return window_of(join_on_k(OP_JOIN_INNER), 1, (int[]){3}, 0, NULL, 4, w);
}

/* Ranks only (duplicates come out as equal rows that accumulate), by s
 * DESC over b. */
static eng_rel *
build_window_ranks(void)
{
    op_order o[1] = {{3, true, false}};
    eng_win w[2] = {{OP_WINDOW_RANK, 0, 0, {NULL, 0}}, {OP_WINDOW_DENSE_RANK, 0, 0, {NULL, 0}}};
    return window_of(get_a(), 1, (int[]){2}, 1, o, 2, w);
}

static eng_rel *
ak(void)
{
    return project(get_a(), 2, (int[]){0, 3});
}

static eng_rel *
bk(void)
{
    return project(get_b(), 2, (int[]){0, 2});
}

static eng_rel *
build_union_distinct(void)
{
    return eng_rel_distinct(union2(ak(), bk()));
}

static eng_rel *
build_union_all(void)
{
    return union2(ak(), bk());
}

static eng_rel *
build_except_all(void)
{
    return eng_rel_threshold(union2(ak(), eng_rel_negate(bk())));
}

static eng_rel *
build_intersect_all(void)
{
    eng_rel *ex = eng_rel_threshold(union2(ak(), eng_rel_negate(bk())));
    return union2(ak(), eng_rel_negate(ex));
}

static eng_rel *
build_except(void)
{
    return eng_rel_threshold(
        union2(eng_rel_distinct(ak()), eng_rel_negate(eng_rel_distinct(bk()))));
}

static eng_rel *
const_rows(void)
{
    eng_type t[2] = {ty(ENG_TYPE_INT8), ty(ENG_TYPE_TEXT)};
    eng_rowbuf rb = {0};
    eng_row rows[3];
    uint32_t offs[4];
    for (int i = 0; i < 3; i++) {
        offs[i] = rb.len;
        if (i == 2)
            eng_push_null(&rb);
        else
            eng_push_int8(&rb, i + 1);
        eng_push_text(&rb, strs[i], (uint32_t)strlen(strs[i]));
    }
    offs[3] = rb.len;
    for (int i = 0; i < 3; i++)
        rows[i] = (eng_row){rb.data + offs[i], offs[i + 1] - offs[i]};
    int64_t diffs[3] = {1, 2, 1};
    eng_rel *r = eng_rel_const(2, t, 3, rows, diffs);
    eng_rowbuf_free(&rb);
    return r;
}

/* Constants joined with a table and unioned with another. */
static eng_rel *
build_consts(void)
{
    eng_rel *j = eng_rel_join(OP_JOIN_LEFT, const_rows(), get_b(), 1, (int[]){0}, (int[]){0});
    eng_rel *x = project(j, 2, (int[]){0, 4});
    return union2(x, const_rows());
}

/* A constant alone, arranged by a key. */
static eng_rel *
build_const_only(void)
{
    return const_rows();
}

static const vcase cases[] = {
    {"mfp", build_mfp, -1, 0, {0}, 0},
    {"inner join (shared)", build_join_inner_shared, -1, 0, {0}, 1},
    {"left join", build_join_left, -1, 0, {0}, 0},
    {"right join", build_join_right, -1, 0, {0}, 0},
    {"full join", build_join_full, -1, 0, {0}, 0},
    {"inner join 2 keys", build_join_inner_2keys, -1, 0, {0}, 0},
    {"cross join", build_cross, -1, 0, {0}, 0},
    {"reduce grouped", build_reduce_grouped, 1 + 15, 0, {0}, 0},
    {"reduce global", build_reduce_global, 15, 0, {0}, 0},
    {"reduce over join, keyed output", build_reduce_join, -1, 1, {1}, 0},
    {"topk groups", build_topk_groups, -1, 0, {0}, 0},
    {"topk global", build_topk_global, -1, 2, {3, 0}, 0},
    {"topk offset only", build_topk_offset_only, -1, 0, {0}, 0},
    {"union", build_union_distinct, -1, 0, {0}, 0},
    {"union all", build_union_all, -1, 0, {0}, 0},
    {"except all", build_except_all, -1, 0, {0}, 0},
    {"except", build_except, -1, 0, {0}, 0},
    {"intersect all", build_intersect_all, -1, 0, {0}, 0},
    {"constants", build_consts, -1, 0, {0}, 0},
    {"constant only", build_const_only, -1, 1, {1}, 0},
    {"window: every function", build_window_all, -1, 0, {0}, 0},
    {"window: desc nulls first, keyed output", build_window_desc, -1, 1, {8}, 0},
    {"window: global, filtered", build_window_global, -1, 0, {0}, 0},
    {"window: no order, over a join", build_window_no_order, -1, 0, {0}, 0},
    {"window: ranks only", build_window_ranks, -1, 0, {0}, 0},
};

static void
test_views(void **st)
{
    (void)st;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            run_case(&cases[i], base_seed + 100 * (uint64_t)round + i);
    assert_true(steps_run >= 300);
}

/* ------------------------------------------------------------------ errors in data */

static void
test_data_error(void **st)
{
    (void)st;
    world w = {0};
    world_start(&w, base_seed);
    eng_err err;
    eng_err_clear(&err);
    /* a row with v = 1 at time 0 */
    eng_rowbuf rb = {0};
    eng_push_int8(&rb, 1);
    eng_push_int8(&rb, 1);
    eng_push_bool(&rb, true);
    eng_push_text(&rb, "a", 1);
    eng_batch *b = eng_client_batch(w.c);
    eng_batch_push(b, eng_rowbuf_row(&rb), 0, 1);
    eng_df_send(w.c, w.t[0].df, w.t[0].input, b);
    eng_df_advance(w.c, w.t[0].df, w.t[0].input, 1);
    eng_df_advance(w.c, w.t[1].df, w.t[1].input, 1);

    eng_rel *rel = map1(get_a(), eng_sx_call2(OP_DIV, eng_sx_int8(10), col(1)));
    eng_render_env env = {.client = w.c, .lookup = cat_lookup, .ctx = &w};
    eng_render_opts opts = {.arrange = ENG_RENDER_ARRANGE_ROW};
    eng_plan *p = eng_plan_new();
    eng_render_result res;
    assert_int_equal(eng_render(rel, &env, &opts, p, &res, &err), 0);
    eng_df *df = eng_df_install(w.c, p);
    eng_render_start(&res, w.c, df);

    eng_batch *got;
    eng_time at;
    assert_int_equal(eng_df_peek(w.c, df, res.arrange, 0, NULL, &got, &at, &err), 0);
    assert_int_equal(got->n, 1);
    eng_batch_free(got);

    /* insert v = 0 at time 1: the view fails with 22012 */
    eng_rowbuf zero = {0};
    eng_push_int8(&zero, 2);
    eng_push_int8(&zero, 0);
    eng_push_null(&zero);
    eng_push_null(&zero);
    b = eng_client_batch(w.c);
    eng_batch_push(b, eng_rowbuf_row(&zero), 1, 1);
    eng_df_send(w.c, w.t[0].df, w.t[0].input, b);
    eng_df_advance(w.c, w.t[0].df, w.t[0].input, 2);
    eng_err_clear(&err);
    assert_int_equal(eng_df_peek(w.c, df, res.arrange, 1, NULL, &got, &at, &err), -1);
    assert_string_equal(err.sqlstate, "22012");
    /* the oracle agrees */
    t_mset_add(&w.t[0].state, eng_rowbuf_row(&rb), 1);
    t_mset_add(&w.t[0].state, eng_rowbuf_row(&zero), 1);
    eng_batch *want;
    eng_err_clear(&err);
    assert_int_equal(eng_ir_eval(rel, eval_get, &w, &want, &err), -1);
    assert_string_equal(err.sqlstate, "22012");

    /* retract it at time 2: readable again */
    b = eng_client_batch(w.c);
    eng_batch_push(b, eng_rowbuf_row(&zero), 2, -1);
    eng_df_send(w.c, w.t[0].df, w.t[0].input, b);
    eng_df_advance(w.c, w.t[0].df, w.t[0].input, 3);
    eng_err_clear(&err);
    assert_int_equal(eng_df_peek(w.c, df, res.arrange, 2, NULL, &got, &at, &err), 0);
    assert_int_equal(got->n, 1);
    eng_batch_free(got);

    eng_rowbuf_free(&rb);
    eng_rowbuf_free(&zero);
    eng_df_drop(w.c, df);
    eng_render_result_free(&res);
    eng_rel_free(rel);
    world_stop(&w);
}

/* ------------------------------------------------------------------ planning errors */

static void
expect_render_error(world *w, eng_rel *rel, const char *sqlstate)
{
    eng_render_env env = {.client = w->c, .lookup = cat_lookup, .ctx = w};
    eng_plan *p = eng_plan_new();
    eng_render_result res;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_render(rel, &env, NULL, p, &res, &err), -1);
    if (strcmp(err.sqlstate, sqlstate) != 0)
        fail_msg("want %s, got %s: %s", sqlstate, err.sqlstate, err.message);
    eng_plan_free(p);
    eng_rel_free(rel);
}

static void
test_render_errors(void **st)
{
    (void)st;
    world w = {0};
    world_start(&w, base_seed);
    world_step(&w, 4);
    /* join keys of different types */
    expect_render_error(
        &w, eng_rel_join(OP_JOIN_INNER, get_a(), get_b(), 1, (int[]){0}, (int[]){2}), "42804");
    /* union inputs of different types */
    expect_render_error(
        &w, union2(project(get_a(), 1, (int[]){0}), project(get_b(), 1, (int[]){2})), "42804");
    /* a predicate that is not boolean */
    expect_render_error(&w, filter1(get_a(), col(1)), "42804");
    /* a column out of range */
    expect_render_error(&w, filter1(get_a(), eng_sx_call1(OP_IS_NULL, col(9))), "42703");
    /* unknown collection */
    eng_type t1[1] = {ty(ENG_TYPE_INT8)};
    expect_render_error(&w, eng_rel_get(99, "nope", 1, t1), "42P01");
    /* sum over text */
    eng_agg bad[1] = {{OP_AGG_SUM_INT, 3, NULL}};
    expect_render_error(&w, eng_rel_reduce(get_a(), 0, NULL, 1, bad, true), "42804");
    /* a global aggregate with group columns */
    eng_agg cnt[1] = {{OP_AGG_COUNT_STAR, -1, NULL}};
    expect_render_error(&w, eng_rel_reduce(get_a(), 1, (int[]){0}, 1, cnt, true), "0A000");
    /* a constant whose row does not match its types */
    eng_rowbuf rb = {0};
    eng_push_text(&rb, "x", 1);
    eng_row r = eng_rowbuf_row(&rb);
    expect_render_error(&w, eng_rel_const(1, t1, 1, &r, NULL), "42804");
    eng_rowbuf_free(&rb);
    /* a lag default of another type than its column */
    eng_win bw[1] = {{OP_WINDOW_LAG, 1, 1, dflt_text("x")}};
    expect_render_error(&w, window_of(get_a(), 1, (int[]){0}, 0, NULL, 1, bw), "42804");
    /* window columns out of range */
    eng_win rn[1] = {{OP_WINDOW_LEAD, 7, 1, {NULL, 0}}};
    expect_render_error(&w, window_of(get_a(), 1, (int[]){0}, 0, NULL, 1, rn), "42703");
    op_order bo[1] = {{5, false, false}};
    eng_win rk[1] = {{OP_WINDOW_RANK, 0, 0, {NULL, 0}}};
    expect_render_error(&w, window_of(get_a(), 1, (int[]){0}, 1, bo, 1, rk), "42703");
    expect_render_error(&w, window_of(get_a(), 1, (int[]){4}, 0, NULL, 1, rk), "42703");
    /* an unknown function kind */
    eng_win uk[1] = {{(op_window_kind)99, 0, 0, {NULL, 0}}};
    expect_render_error(&w, window_of(get_a(), 0, NULL, 0, NULL, 1, uk), "0A000");
    /* a failed render leaves no hold: the tables still compact and run */
    world_step(&w, 4);
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_df_wait(w.c, w.t[0].df, w.t[0].arr_row, w.now - 1, 10000, &err), 0);
    world_stop(&w);
}

/* A rendered but never installed plan releases its holds. */
static void
test_result_free(void **st)
{
    (void)st;
    world w = {0};
    world_start(&w, base_seed);
    world_step(&w, 4);
    eng_rel *rel = join_on_k(OP_JOIN_INNER);
    eng_render_env env = {.client = w.c, .lookup = cat_lookup, .ctx = &w};
    eng_plan *p = eng_plan_new();
    eng_render_result res;
    eng_err err;
    eng_err_clear(&err);
    assert_int_equal(eng_render(rel, &env, NULL, p, &res, &err), 0);
    assert_int_equal(res.arrange, -1);
    assert_int_equal(res.shared_joins, 1);
    eng_time as_of = res.as_of;
    eng_render_result_free(&res);
    eng_plan_free(p);
    eng_rel_free(rel);
    /* Released: the sources compact past as_of (a new hold there fails). */
    bool compacted = false;
    for (int i = 0; i < 500 && !compacted; i++) {
        world_step(&w, 2);
        assert_int_equal(eng_df_wait(w.c, w.t[0].df, w.t[0].arr_k, w.now - 1, 10000, &err), 0);
        eng_err_clear(&err);
        if (eng_df_hold(w.t[0].df, w.t[0].arr_k, as_of, &err) == 0)
            eng_df_release(w.t[0].df, w.t[0].arr_k, as_of);
        else
            compacted = true;
    }
    assert_true(compacted);
    world_stop(&w);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_data_error),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_result_free),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
