/* The coordinator: statement execution, the catalog's runtime side (table
 * inputs, materialized views, indexes), reads and writes at the table
 * timestamp. See coord.h for the locking and timestamp rules. */
#include "engine/server/coord.h"

#include <ctype.h>
#include <jansson.h>
#include <pg_query.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/core/eng_cmp.h"
#include "engine/core/eng_log.h"
#include "engine/core/eng_text.h"
#include "engine/server/coord_int.h"
#include "engine/server/source_int.h"
#include "engine/server/exec_int.h"
#include "engine/sql/eng_bind.h"
#include "engine/sql/eng_ir_eval.h"
#include "engine/sql/eng_render.h"
#include "operators/op_arrange.h"

static void *
xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz);
    ENG_ASSERT(p != NULL);
    return p;
}

/* The arrangements of collection id (its own, then its indexes'). ctx is
 * a coord_look owned by the caller (so concurrent readers do not share
 * scratch space). */
int
coord_lookup_arrs(void *ctx, uint64_t id, const eng_render_arr **out, eng_err *err)
{
    coord_look *lk = ctx;
    eng_coord *co = lk->co;
    lk->n = 0;
    eng_obj *o = eng_catalog_get(co->cat, id);
    if (o == NULL)
        return eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE, "relation %llu does not exist",
                           (unsigned long long)id);
    objrt *r = o->rt;
    if (r != NULL && r->has_arr && lk->n < COORD_MAX_ARRS)
        lk->arrs[lk->n++] = r->arr;
    int n = eng_catalog_count(co->cat);
    for (int i = 0; i < n && lk->n < COORD_MAX_ARRS; i++) {
        eng_obj *x = eng_catalog_at(co->cat, i);
        if (x->kind == ENG_OBJ_INDEX && x->on_id == id && x->rt != NULL &&
            ((objrt *)x->rt)->has_arr)
            lk->arrs[lk->n++] = ((objrt *)x->rt)->arr;
    }
    *out = lk->arrs;
    return lk->n;
}

/* ------------------------------------------------------------------ timestamps */

static eng_time
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (eng_time)ts.tv_sec * 1000 + (eng_time)(ts.tv_nsec / 1000000);
}

/* ------------------------------------------------------------------ open / close */

static int replay_stmt(void *ctx, uint64_t id, const char *sql, eng_err *err);

void
coord_set_ts(eng_coord *co, eng_time t)
{
    co->ts = t;
    int n = eng_catalog_count(co->cat);
    for (int i = 0; i < n; i++) {
        eng_obj *o = eng_catalog_at(co->cat, i);
        objrt *r = o->rt;
        if (o->kind == ENG_OBJ_TABLE && r != NULL && r->input >= 0)
            eng_df_advance(co->client, r->df, r->input, t + 1);
    }
}

/* The table clock: once a second (like Materialize's tables), the table
 * timestamp moves to the wall clock and every table input advances, so
 * subscriptions and views over tables see time pass without writes. */
static void *
ticker_main(void *arg)
{
    eng_coord *co = arg;
    pthread_mutex_lock(&co->tick_mu);
    while (!co->tick_stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&co->tick_cv, &co->tick_mu, &until);
        if (co->tick_stop)
            break;
        pthread_mutex_unlock(&co->tick_mu);
        pthread_rwlock_wrlock(&co->lock);
        eng_time now = now_ms();
        if (now > co->ts)
            coord_set_ts(co, now);
        pthread_rwlock_unlock(&co->lock);
        pthread_mutex_lock(&co->tick_mu);
    }
    pthread_mutex_unlock(&co->tick_mu);
    return NULL;
}

int
eng_coord_open(eng_coord **out, eng_rt *rt, const char *data_dir, eng_err *err)
{
    eng_coord *co = xcalloc(1, sizeof *co);
    co->rt = rt;
    co->cat = eng_catalog_new(data_dir);
    co->client = eng_client_new(rt);
    pthread_rwlock_init(&co->lock, NULL);
    pthread_mutex_init(&co->id_mu, NULL);
    co->ts = now_ms();
    coord_system_init(co);
    co->replaying = true;
    eng_session *s = eng_session_new(co);
    co->replay_session = s;
    int rc = eng_catalog_load(co->cat, replay_stmt, co, err);
    co->replay_session = NULL;
    eng_session_free(s);
    co->replaying = false;
    pthread_mutex_init(&co->tick_mu, NULL);
    pthread_cond_init(&co->tick_cv, NULL);
    if (rc != 0) {
        eng_coord_close(co);
        return -1;
    }
    ex_sources_start(co);
    co->ticking = pthread_create(&co->ticker, NULL, ticker_main, co) == 0;
    *out = co;
    return 0;
}

void
eng_coord_close(eng_coord *co)
{
    if (co == NULL)
        return;
    if (co->ticking) {
        pthread_mutex_lock(&co->tick_mu);
        co->tick_stop = true;
        pthread_cond_signal(&co->tick_cv);
        pthread_mutex_unlock(&co->tick_mu);
        pthread_join(co->ticker, NULL);
    }
    pthread_mutex_destroy(&co->tick_mu);
    pthread_cond_destroy(&co->tick_cv);
    eng_catalog_free(co->cat);
    eng_client_free(co->client);
    pthread_rwlock_destroy(&co->lock);
    pthread_mutex_destroy(&co->id_mu);
    free(co);
}

static int
replay_stmt(void *ctx, uint64_t id, const char *sql, eng_err *err)
{
    eng_coord *co = ctx;
    co->forced_id = id;
    eng_sink none = {0};
    int rc = eng_session_run(co->replay_session, sql, &none, err);
    co->forced_id = 0;
    return rc;
}

uint64_t
coord_new_id(eng_coord *co)
{
    if (co->forced_id != 0)
        return co->forced_id;
    return eng_catalog_next_id(co->cat);
}

/* ------------------------------------------------------------------ sessions */

eng_session *
eng_session_new(eng_coord *co)
{
    eng_session *s = xcalloc(1, sizeof *s);
    s->co = co;
    s->client = eng_client_new(co->rt);
    s->txn = 'I';
    return s;
}

void
eng_session_free(eng_session *s)
{
    if (s == NULL)
        return;
    ex_cursors_free(s);
    ex_parse_cache_free(s);
    eng_client_free(s->client);
    for (int i = 0; i < s->nvars; i++) {
        free(s->vars[i].name);
        free(s->vars[i].value);
    }
    free(s->vars);
    free(s);
}

char
eng_session_txn_status(const eng_session *s)
{
    return s->txn;
}

/* ------------------------------------------------------------------ evaluation */

/* True if rel only maps, filters, projects, unions, negates constants and
 * collections: then a peek of each collection plus local evaluation
 * answers it in time linear in the data read. */
static bool
is_linear(const eng_rel *r)
{
    switch (r->kind) {
    case ENG_REL_GET:
    case ENG_REL_CONST:
        return true;
    case ENG_REL_MAP:
    case ENG_REL_FILTER:
    case ENG_REL_PROJECT:
    case ENG_REL_NEGATE:
    case ENG_REL_UNION:
        for (int i = 0; i < r->nin; i++)
            if (!is_linear(r->in[i]))
                return false;
        return true;
    default:
        return false;
    }
}

static bool
uses_system(eng_coord *co, const eng_rel *r)
{
    if (r->kind == ENG_REL_GET) {
        eng_obj *o = eng_catalog_get(co->cat, r->get_id);
        return o != NULL && o->kind == ENG_OBJ_SYSTEM;
    }
    for (int i = 0; i < r->nin; i++)
        if (uses_system(co, r->in[i]))
            return true;
    return false;
}

/* A point lookup: FILTER(col = literal) directly over a GET whose
 * arrangement is keyed by exactly that column. Fills the key row. */
static const eng_render_arr *
point_key(eng_coord *co, const eng_rel *r, eng_rowbuf *key, coord_look *look)
{
    while (r->kind == ENG_REL_PROJECT || r->kind == ENG_REL_MAP)
        r = r->in[0];
    if (r->kind != ENG_REL_FILTER || r->in[0]->kind != ENG_REL_GET)
        return NULL;
    const eng_rel *g = r->in[0];
    const eng_render_arr *arrs;
    eng_err e;
    eng_err_clear(&e);
    coord_look *lk = look;
    lk->co = co;
    int n = coord_lookup_arrs(lk, g->get_id, &arrs, &e);
    for (int p = 0; p < r->nexprs; p++) {
        const eng_sx *x = r->exprs[p];
        if (x->kind != ENG_SX_CALL || x->fn != OP_EQ || x->nargs != 2)
            continue;
        const eng_sx *col = x->args[0], *lit = x->args[1];
        if (col->kind != ENG_SX_COL) {
            col = x->args[1];
            lit = x->args[0];
        }
        if (col->kind != ENG_SX_COL || lit->kind != ENG_SX_LIT ||
            lit->type.id != g->types[col->col].id)
            continue;
        for (int a = 0; a < n; a++)
            if (!arrs[a].key_is_row && arrs[a].nkey == 1 && arrs[a].keycols[0] == col->col) {
                eng_push_row(key, lit->lit);
                return &arrs[a];
            }
    }
    return NULL;
}

typedef struct getctx {
    eng_coord *co;
    eng_session *s;
    eng_time t;
    int n;
    uint64_t ids[64];
    eng_batch *b[64];
    bool has_point; /* read point_id through point_arr with point_key */
    eng_render_arr point_arr;
    uint64_t point_id;
    eng_row point_key;
    coord_look look;
} getctx;

/* Reads collection id at ctx->t through one of its arrangements, as rows
 * of its columns. */
static int
eval_get(void *ctx, uint64_t id, const eng_batch **out, eng_err *err)
{
    getctx *g = ctx;
    for (int i = 0; i < g->n; i++)
        if (g->ids[i] == id) {
            *out = g->b[i];
            return 0;
        }
    if (g->n == 64)
        return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "query reads too many relations");
    eng_obj *o = eng_catalog_get(g->co->cat, id);
    eng_batch *b = NULL;
    if (o != NULL && o->kind == ENG_OBJ_SYSTEM) {
        if (coord_system_rows(g->co, g->s->client, o, &b, err) != 0)
            return -1;
    } else {
        const eng_render_arr *arrs;
        const eng_render_arr *use = NULL;
        const eng_row *key = NULL;
        if (g->has_point && g->point_id == id) {
            use = &g->point_arr;
            key = &g->point_key;
        } else {
            g->look.co = g->co;
            int n = coord_lookup_arrs(&g->look, id, &arrs, err);
            if (n < 0)
                return -1;
            if (n == 0)
                return eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                                   "relation \"%s\" has no arrangement to read", o ? o->name : "?");
            use = &arrs[0];
        }
        eng_batch *raw = NULL;
        eng_time at;
        eng_render_arr a = *use;
        if (eng_df_peek(g->s->client, a.df, a.node, g->t, key, &raw, &at, err) != 0)
            return -1;
        if (a.key_is_row) {
            b = raw;
        } else {
            /* Rows are key ++ all columns: drop the key. */
            b = eng_client_batch(g->s->client);
            for (uint32_t i = 0; i < raw->n; i++) {
                eng_row r = eng_batch_row(raw, i);
                uint32_t off = eng_row_col_offset(r, a.nkey);
                eng_batch_push(b, (eng_row){r.data + off, r.len - off}, raw->upd[i].time,
                               raw->upd[i].diff);
            }
            eng_batch_free(raw);
        }
    }
    g->ids[g->n] = id;
    g->b[g->n] = b;
    g->n++;
    *out = b;
    return 0;
}

static void
getctx_free(getctx *g)
{
    for (int i = 0; i < g->n; i++)
        eng_batch_free(g->b[i]);
    g->n = 0;
}

/* Read holds on the arrangements a query over sources reads. */
typedef struct holdset {
    int n;
    eng_time t;
    eng_df *df[64];
    int node[64];
} holdset;

static int
hold_gets(eng_coord *co, const eng_rel *r, holdset *h)
{
    if (r->kind == ENG_REL_GET) {
        coord_look lk = {.co = co};
        const eng_render_arr *arrs;
        eng_err e;
        eng_err_clear(&e);
        if (h->n == 64 || coord_lookup_arrs(&lk, r->get_id, &arrs, &e) <= 0)
            return 0;
        if (eng_df_hold(arrs[0].df, arrs[0].node, h->t, &e) != 0)
            return -1;
        h->df[h->n] = arrs[0].df;
        h->node[h->n++] = arrs[0].node;
        return 0;
    }
    for (int i = 0; i < r->nin; i++)
        if (hold_gets(co, r->in[i], h) != 0)
            return -1;
    return 0;
}

static void
release_gets(holdset *h)
{
    for (int i = 0; i < h->n; i++)
        eng_df_release(h->df[i], h->node[i], h->t);
    h->n = 0;
}

static bool
rel_ids_exist(eng_coord *co, const eng_rel *r)
{
    if (r->kind == ENG_REL_GET && eng_catalog_get(co->cat, r->get_id) == NULL)
        return false;
    for (int i = 0; i < r->nin; i++)
        if (!rel_ids_exist(co, r->in[i]))
            return false;
    return true;
}

/* Evaluates rel at the table timestamp (read lock held). On success *out
 * is a new batch of rows with multiplicities. */
int
coord_eval(eng_session *s, const eng_rel *rel, eng_batch **out, eng_err *err)
{
    eng_coord *co = s->co;
    getctx g = {0};
    g.co = co;
    g.s = s;
    g.t = co->ts;
    /* Reads of sources: at the latest time all of them are complete, and
     * never before their snapshots (waiting without the lock). */
    bool from_source = false;
    holdset hs = {0};
    int attempts = 0;
    for (;;) {
        struct srcrt *wait = NULL;
        eng_time st;
        int sr = ex_source_read_ts(co, rel, &st, &wait, err);
        if (sr < 0)
            return -1;
        if (sr == 1) {
            /* Sources move on by themselves: hold every arrangement read at
             * st, or try a later time if one compacted past it meanwhile. */
            g.t = st;
            from_source = true;
            hs.n = 0;
            hs.t = st;
            if (hold_gets(co, rel, &hs) != 0) {
                release_gets(&hs);
                if (++attempts < 1000)
                    continue;
                return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR,
                                   "could not find a readable time for the sources read");
            }
        }
        if (sr != 2)
            break;
        if (s->wrlocked) {
            ex_source_wait_cancel(wait);
            return eng_err_set(err, ENG_ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                               "a source this statement reads is still taking its snapshot");
        }
        pthread_rwlock_unlock(&co->lock);
        int rc = ex_source_wait(s, wait, err);
        pthread_rwlock_rdlock(&co->lock);
        if (rc != 0)
            return -1;
        if (!rel_ids_exist(co, rel))
            return eng_err_set(err, ENG_ERRCODE_UNDEFINED_TABLE,
                               "a relation this query reads was dropped while it waited");
    }
    if (is_linear(rel) || uses_system(co, rel)) {
        eng_rowbuf key = {0};
        const eng_render_arr *pa = is_linear(rel) ? point_key(co, rel, &key, &g.look) : NULL;
        if (pa != NULL) {
            const eng_rel *x = rel;
            while (x->kind != ENG_REL_GET)
                x = x->in[0];
            g.has_point = true;
            g.point_arr = *pa;
            g.point_id = x->get_id;
            g.point_key = eng_rowbuf_row(&key);
        }
        int rc = eng_ir_eval(rel, eval_get, &g, out, err);
        getctx_free(&g);
        eng_rowbuf_free(&key);
        release_gets(&hs);
        return rc;
    }
    /* A temporary dataflow. */
    eng_plan *plan = eng_plan_new();
    coord_look lk = {.co = co};
    eng_render_env env = {s->client, coord_lookup_arrs, &lk};
    eng_render_opts opts = {ENG_RENDER_ARRANGE_ROW, 0, NULL};
    eng_render_result res;
    if (eng_render(rel, &env, &opts, plan, &res, err) != 0) {
        eng_plan_free(plan);
        release_gets(&hs);
        return -1;
    }
    eng_df *df = eng_df_install(s->client, plan);
    eng_render_start(&res, s->client, df);
    eng_time at;
    /* Without imports the dataflow's inputs are closed constants: read the
     * latest time. */
    /* Sources advance by themselves: read the latest time the dataflow
     * has, which is a consistent time for all its inputs. */
    eng_time t = res.nimports == 0 || from_source ? ENG_TIME_MAX
                 : g.t < res.as_of                ? res.as_of
                                                  : g.t;
    int rc = eng_df_peek(s->client, df, res.arrange, t, NULL, out, &at, err);
    eng_render_result_free(&res);
    eng_df_drop(s->client, df);
    release_gets(&hs);
    return rc;
}

/* ------------------------------------------------------------------ result rows */

typedef struct sortkey {
    eng_row row;
    int64_t n;
    eng_datum *d; /* decoded columns */
} sortkey;

static __thread const op_order *sort_order;
static __thread int sort_norder;
static __thread const eng_type *sort_types;

static int
cmp_rows(const void *pa, const void *pb)
{
    const sortkey *a = pa, *b = pb;
    for (int i = 0; i < sort_norder; i++) {
        const op_order *o = &sort_order[i];
        eng_datum x = a->d[o->col], y = b->d[o->col];
        bool xn = x.tag == ENG_TAG_NULL, yn = y.tag == ENG_TAG_NULL;
        int c;
        if (xn || yn) {
            if (xn && yn)
                continue;
            c = xn ? (o->nulls_first ? -1 : 1) : (o->nulls_first ? 1 : -1);
            return c;
        }
        c = eng_datum_cmp_typed(&sort_types[o->col], x, y);
        if (c != 0)
            return o->desc ? -c : c;
    }
    return 0;
}

/* Sends rows (ordered, limited) to the sink, only the first nvisible
 * columns. Returns the row count sent, or -1 (sink gone / error). */
int64_t
coord_send_rows(eng_batch *b, int ncols, const eng_type *types, int nvisible, int norder,
                const op_order *order, int64_t limit, int64_t offset, const eng_sink *sink,
                bool copy, eng_err *err)
{
    uint32_t n = b->n;
    sortkey *k = xcalloc(n, sizeof *k);
    eng_datum *cells = xcalloc((size_t)n * (size_t)(ncols ? ncols : 1), sizeof *cells);
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t d = b->upd[i].diff;
        if (d == 0)
            continue;
        if (d < 0) {
            free(k);
            free(cells);
            eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR,
                        "a row of the result has a negative multiplicity (%lld)", (long long)d);
            return -1;
        }
        k[m].row = eng_batch_row(b, i);
        k[m].n = d;
        k[m].d = cells + (size_t)m * (size_t)ncols;
        uint32_t pos = 0;
        for (int c = 0; c < ncols; c++)
            k[m].d[c] = eng_row_next(k[m].row, &pos);
        m++;
    }
    if (norder > 0) {
        sort_order = order;
        sort_norder = norder;
        sort_types = types;
        qsort(k, m, sizeof *k, cmp_rows);
    }
    int64_t sent = 0, skipped = 0;
    eng_rowbuf vis = {0};
    int rc = 0;
    for (uint32_t i = 0; i < m && rc == 0; i++) {
        for (int64_t r = 0; r < k[i].n; r++) {
            if (skipped < offset) {
                skipped++;
                continue;
            }
            if (limit >= 0 && sent >= limit)
                break;
            eng_row out = k[i].row;
            if (nvisible < ncols) {
                eng_rowbuf_reset(&vis);
                for (int c = 0; c < nvisible; c++)
                    eng_push_datum(&vis, k[i].d[c]);
                out = eng_rowbuf_row(&vis);
            }
            if ((copy        ? sink->copy_row(sink->ctx, out)
                 : sink->row ? sink->row(sink->ctx, out)
                             : 0) != 0) {
                rc = -1;
                break;
            }
            sent++;
        }
    }
    eng_rowbuf_free(&vis);
    free(k);
    free(cells);
    if (rc != 0) {
        eng_err_set(err, ENG_ERRCODE_QUERY_CANCELED, "canceling statement due to user request");
        return -1;
    }
    return sent;
}
