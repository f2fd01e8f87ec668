/* The planner's IR: constructors, copy/free, typechecking, lowering to
 * op_expr, column rewriting and EXPLAIN text (eng_ir.h).
 *
 * Notes:
 * - Ownership follows eng_ir.h: a node owns its children, arrays and
 *   expressions. Constructors take ownership of the node pointers they are
 *   given (inputs, expressions) and of non-const arrays (MAP/FILTER's
 *   expression array, UNION's input array); const arrays (types, rows,
 *   column lists, aggregates, order) are copied, aggregate separators
 *   included.
 * - Typechecking lowers an expression to op_expr and compiles it with
 *   op_expr_compile, the single source of truth for PostgreSQL's typing
 *   rules. Every subtree is compiled on its own to learn its type (before
 *   the implicit casts its parent may insert): cost O(size x depth), paid
 *   once per expression at plan time. */
#include "engine/sql/eng_ir.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_text.h"

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    ENG_ASSERT(p != NULL);
    return p;
}

static void *
xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    ENG_ASSERT(p != NULL);
    return p;
}

static void *
xdup(const void *src, size_t n)
{
    void *p = xmalloc(n);
    if (n)
        memcpy(p, src, n);
    return p;
}

static char *
xstrdup(const char *s)
{
    return s ? xdup(s, strlen(s) + 1) : NULL;
}

/* ------------------------------------------------------------------ scalars */

static eng_sx *
sx_node(eng_sx_kind kind, eng_type type)
{
    eng_sx *e = xcalloc(1, sizeof *e);
    e->kind = kind;
    e->type = type;
    e->col = -1;
    return e;
}

static void
sx_set_args(eng_sx *e, int n, eng_sx *const *args)
{
    e->nargs = n;
    if (n > 0) {
        e->args = xmalloc((size_t)n * sizeof *e->args);
        for (int i = 0; i < n; i++) {
            ENG_ASSERT(args[i] != NULL);
            e->args[i] = args[i];
        }
    }
}

eng_sx *
eng_sx_col(int col, eng_type type)
{
    eng_sx *e = sx_node(ENG_SX_COL, type);
    e->col = col;
    return e;
}

eng_sx *
eng_sx_lit(eng_row r, eng_type type)
{
    ENG_ASSERT(r.len > 0);
    uint32_t n = eng_datum_size_at(r.data);
    ENG_ASSERT(n <= r.len);
    eng_sx *e = sx_node(ENG_SX_LIT, type);
    e->litbuf = xdup(r.data, n);
    e->lit = (eng_row){e->litbuf, n};
    return e;
}

eng_sx *
eng_sx_bool(bool v)
{
    /* Padded so the compiler can see eng_datum_size_at stays in bounds. */
    uint8_t b[5] = {v ? ENG_TAG_TRUE : ENG_TAG_FALSE, 0, 0, 0, 0};
    return eng_sx_lit((eng_row){b, 1}, op_type_full(OP_T_BOOL));
}

eng_sx *
eng_sx_int8(int64_t v)
{
    uint8_t b[9];
    b[0] = ENG_TAG_INT8;
    memcpy(b + 1, &v, 8);
    return eng_sx_lit((eng_row){b, 9}, op_type_full(OP_T_INT8));
}

eng_sx *
eng_sx_null(eng_type type)
{
    uint8_t b[5] = {ENG_TAG_NULL, 0, 0, 0, 0};
    return eng_sx_lit((eng_row){b, 1}, type);
}

eng_sx *
eng_sx_call(op_fn fn, int n, eng_sx *const *args)
{
    eng_sx *e = sx_node(ENG_SX_CALL, op_type_full(OP_T_UNKNOWN));
    e->fn = fn;
    sx_set_args(e, n, args);
    return e;
}

eng_sx *
eng_sx_call1(op_fn fn, eng_sx *a)
{
    return eng_sx_call(fn, 1, &a);
}

eng_sx *
eng_sx_call2(op_fn fn, eng_sx *a, eng_sx *b)
{
    eng_sx *args[2] = {a, b};
    return eng_sx_call(fn, 2, args);
}

eng_sx *
eng_sx_cast(eng_sx *arg, eng_type to)
{
    eng_sx *e = sx_node(ENG_SX_CAST, to);
    e->cast_to = to;
    sx_set_args(e, 1, &arg);
    return e;
}

eng_sx *
eng_sx_case(eng_sx *operand, int n, eng_sx *const *whens, eng_sx *const *thens, eng_sx *els)
{
    eng_sx *e = sx_node(ENG_SX_CASE, op_type_full(OP_T_UNKNOWN));
    e->case_operand = operand != NULL;
    e->case_else = els != NULL;
    e->nargs = (operand ? 1 : 0) + 2 * n + (els ? 1 : 0);
    e->args = xmalloc((size_t)(e->nargs ? e->nargs : 1) * sizeof *e->args);
    int k = 0;
    if (operand)
        e->args[k++] = operand;
    for (int i = 0; i < n; i++) {
        ENG_ASSERT(whens[i] != NULL && thens[i] != NULL);
        e->args[k++] = whens[i];
        e->args[k++] = thens[i];
    }
    if (els)
        e->args[k++] = els;
    return e;
}

eng_sx *
eng_sx_ext(const char *name, op_ext_fn fn, eng_type result, bool strict, int n, eng_sx *const *args)
{
    eng_sx *e = sx_node(ENG_SX_EXT, result);
    e->ext_name = name;
    e->ext_fn = fn;
    e->ext_strict = strict;
    sx_set_args(e, n, args);
    return e;
}

eng_sx *
eng_sx_copy(const eng_sx *e)
{
    if (e == NULL)
        return NULL;
    eng_sx *c = xdup(e, sizeof *e);
    if (e->litbuf) {
        c->litbuf = xdup(e->litbuf, e->lit.len);
        c->lit = (eng_row){c->litbuf, e->lit.len};
    }
    if (e->nargs > 0) {
        c->args = xmalloc((size_t)e->nargs * sizeof *c->args);
        for (int i = 0; i < e->nargs; i++)
            c->args[i] = eng_sx_copy(e->args[i]);
    } else {
        c->args = NULL;
    }
    return c;
}

void
eng_sx_free(eng_sx *e)
{
    if (e == NULL)
        return;
    for (int i = 0; i < e->nargs; i++)
        eng_sx_free(e->args[i]);
    free(e->args);
    free(e->litbuf);
    free(e);
}

/* Lowers e without checking literal tags (eng_sx_typecheck does). */
op_expr *
eng_sx_lower(const eng_sx *e)
{
    op_expr *stack[8];
    op_expr **args = e->nargs <= 8 ? stack : xmalloc((size_t)e->nargs * sizeof *args);
    for (int i = 0; i < e->nargs; i++)
        args[i] = eng_sx_lower(e->args[i]);
    op_expr *r = NULL;
    switch (e->kind) {
    case ENG_SX_COL:
        r = op_expr_col(e->col);
        break;
    case ENG_SX_LIT:
        if (e->lit.data[0] == ENG_TAG_NULL)
            r = op_expr_null((op_type)e->type.id);
        else if (eng_type_tag_matches(&e->type, e->lit.data[0]) || e->type.id == ENG_TYPE_UNKNOWN)
            r = op_expr_lit_typed(e->lit, (op_type)e->type.id);
        else /* mismatched (typecheck reports it): typed by its tag */
            r = op_expr_lit(e->lit);
        break;
    case ENG_SX_CALL:
        r = op_expr_call(e->fn, e->nargs, args);
        break;
    case ENG_SX_CAST:
        r = e->cast_fn ? op_expr_cast_fn(args[0], e->cast_to, e->cast_fn)
                       : op_expr_cast(args[0], e->cast_to);
        break;
    case ENG_SX_CASE: {
        int k = 0;
        op_expr *operand = e->case_operand ? args[k++] : NULL;
        int n = (e->nargs - k - (e->case_else ? 1 : 0)) / 2;
        op_expr *wstack[8], *tstack[8];
        op_expr **whens = n <= 8 ? wstack : xmalloc((size_t)n * sizeof *whens);
        op_expr **thens = n <= 8 ? tstack : xmalloc((size_t)n * sizeof *thens);
        for (int i = 0; i < n; i++) {
            whens[i] = args[k++];
            thens[i] = args[k++];
        }
        op_expr *els = e->case_else ? args[k++] : NULL;
        r = op_expr_case(operand, n, whens, thens, els);
        if (whens != wstack)
            free(whens);
        if (thens != tstack)
            free(thens);
        break;
    }
    case ENG_SX_EXT:
        r = op_expr_ext(e->ext_name, e->ext_fn, (op_type)e->type.id, e->ext_strict, e->nargs, args);
        break;
    }
    if (args != stack)
        free(args);
    ENG_ASSERT(r != NULL);
    return r;
}

/* Checks literal tags against their declared types (a binder bug made
 * into an error value rather than op_expr's assert). */
static int
check_lits(const eng_sx *e, eng_err *err)
{
    if (e->kind == ENG_SX_LIT && e->lit.data[0] != ENG_TAG_NULL &&
        !(e->type.id == ENG_TYPE_UNKNOWN ? e->lit.data[0] == ENG_TAG_TEXT
                                         : eng_type_tag_matches(&e->type, e->lit.data[0])))
        return eng_err_set(err, ENG_ERRCODE_DATATYPE_MISMATCH,
                           "literal of type %s carries a value of another type",
                           eng_type_name(e->type.id));
    if (e->kind == ENG_SX_CASE) {
        int body = e->nargs - (e->case_operand ? 1 : 0) - (e->case_else ? 1 : 0);
        if (body < 2 || body % 2 != 0)
            return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "CASE needs at least one WHEN");
    }
    if (e->kind == ENG_SX_CAST && e->nargs != 1)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "CAST takes one argument");
    for (int i = 0; i < e->nargs; i++)
        if (check_lits(e->args[i], err) != 0)
            return -1;
    return 0;
}

/* Compiles e alone; returns its op_type or -1 with err set. */
static int
compile_type(const eng_sx *e, int ncols, const op_type *types, eng_err *err)
{
    op_expr *x = eng_sx_lower(e);
    op_prog *prog = NULL;
    int rc = op_expr_compile(x, ncols, types, &prog, err);
    op_expr_free(x);
    if (rc != 0)
        return -1;
    int t = op_prog_type(prog);
    op_prog_free(prog);
    return t;
}

static void
set_type(eng_sx *e, int t)
{
    /* Casts, literals and external calls keep their declared type (and
     * typmod); the others take what the compiler inferred. */
    if (e->kind == ENG_SX_CAST || e->kind == ENG_SX_EXT)
        return;
    if (e->kind == ENG_SX_LIT && e->type.id == (eng_typeid)t)
        return;
    e->type = op_type_full((op_type)t);
}

/* Types the children of e (each subtree compiled alone). A subtree that
 * does not compile on its own keeps its previous type: only the root's
 * error is the expression's. */
static void
type_children(eng_sx *e, int ncols, const op_type *types)
{
    for (int i = 0; i < e->nargs; i++) {
        eng_sx *a = e->args[i];
        if (a->kind == ENG_SX_COL) {
            if (a->col >= 0 && a->col < ncols)
                a->type = op_type_full(types[a->col]);
        } else if (a->kind != ENG_SX_LIT) {
            eng_err ignored;
            eng_err_clear(&ignored);
            int t = compile_type(a, ncols, types, &ignored);
            if (t >= 0)
                set_type(a, t);
        }
        type_children(a, ncols, types);
    }
}

int
eng_sx_typecheck(eng_sx *e, int ncols, const eng_type *types, eng_err *err)
{
    if (check_lits(e, err) != 0)
        return -1;
    op_type stack[32];
    op_type *ot = ncols <= 32 ? stack : xmalloc((size_t)ncols * sizeof *ot);
    for (int i = 0; i < ncols; i++)
        ot[i] = (op_type)types[i].id;
    int t = compile_type(e, ncols, ot, err);
    if (t >= 0) {
        set_type(e, t);
        /* a column keeps its typmod */
        if (e->kind == ENG_SX_COL)
            e->type = types[e->col];
        type_children(e, ncols, ot);
    }
    if (ot != stack)
        free(ot);
    return t >= 0 ? 0 : -1;
}

void
eng_sx_remap(eng_sx *e, const int *map)
{
    if (e->kind == ENG_SX_COL) {
        ENG_ASSERT(map[e->col] >= 0);
        e->col = map[e->col];
    }
    for (int i = 0; i < e->nargs; i++)
        eng_sx_remap(e->args[i], map);
}

void
eng_sx_shift(eng_sx *e, int delta)
{
    if (e->kind == ENG_SX_COL)
        e->col += delta;
    for (int i = 0; i < e->nargs; i++)
        eng_sx_shift(e->args[i], delta);
}

int
eng_sx_max_col(const eng_sx *e)
{
    int m = e->kind == ENG_SX_COL ? e->col : -1;
    for (int i = 0; i < e->nargs; i++) {
        int c = eng_sx_max_col(e->args[i]);
        if (c > m)
            m = c;
    }
    return m;
}

bool
eng_sx_uses(const eng_sx *e, int c)
{
    if (e->kind == ENG_SX_COL && e->col == c)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (eng_sx_uses(e->args[i], c))
            return true;
    return false;
}

bool
eng_sx_is_const(const eng_sx *e)
{
    return eng_sx_max_col(e) < 0;
}

static bool
fn_is_infix(op_fn fn, int nargs)
{
    if (nargs != 2)
        return false;
    switch (fn) {
    case OP_ADD:
    case OP_SUB:
    case OP_MUL:
    case OP_DIV:
    case OP_MOD:
    case OP_EQ:
    case OP_NE:
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE:
    case OP_DISTINCT:
    case OP_NOT_DISTINCT:
    case OP_AND:
    case OP_OR:
    case OP_CONCAT_OP:
    case OP_LIKE:
    case OP_NOT_LIKE:
    case OP_ILIKE:
    case OP_NOT_ILIKE:
        return true;
    default:
        return false;
    }
}

static bool
fn_is_postfix(op_fn fn)
{
    return fn >= OP_IS_NULL && fn <= OP_IS_NOT_UNKNOWN;
}

/* Appends txt as a SQL string literal ('it''s'). */
static void
put_quoted(eng_strbuf *out, const eng_strbuf *txt)
{
    eng_strbuf_putc(out, '\'');
    for (size_t i = 0; i < txt->len; i++) {
        if (txt->data[i] == '\'')
            eng_strbuf_putc(out, '\'');
        eng_strbuf_putc(out, txt->data[i]);
    }
    eng_strbuf_putc(out, '\'');
}

static void
explain_lit(const eng_sx *e, eng_strbuf *out)
{
    uint32_t pos = 0;
    eng_datum d = eng_row_next(e->lit, &pos);
    if (d.tag == ENG_TAG_NULL) {
        eng_strbuf_puts(out, "NULL");
        if (e->type.id != ENG_TYPE_UNKNOWN) {
            eng_strbuf_puts(out, "::");
            eng_type_format(&e->type, out);
        }
        return;
    }
    if (d.tag == ENG_TAG_TRUE || d.tag == ENG_TAG_FALSE) {
        eng_strbuf_puts(out, d.tag == ENG_TAG_TRUE ? "true" : "false");
        return;
    }
    if ((d.tag == ENG_TAG_INT8 && e->type.id == ENG_TYPE_INT8) ||
        (d.tag == ENG_TAG_INT4 && e->type.id == ENG_TYPE_INT4)) {
        int64_t v = d.tag == ENG_TAG_INT8 ? eng_load_i64(d.ptr) : eng_load_i32(d.ptr);
        eng_strbuf_printf(out, "%" PRId64, v);
        return;
    }
    eng_type t = e->type;
    if (!eng_type_tag_matches(&t, d.tag))
        t = op_type_full(OP_T_TEXT);
    eng_strbuf txt = {0};
    if (t.id == ENG_TYPE_UNKNOWN)
        eng_strbuf_append(&txt, (const char *)d.ptr, d.len);
    else
        eng_text_format(&t, d, &txt);
    put_quoted(out, &txt);
    eng_strbuf_free(&txt);
    if (e->type.id != ENG_TYPE_UNKNOWN) {
        eng_strbuf_puts(out, "::");
        eng_type_format(&e->type, out);
    }
}

static void
explain_rec(const eng_sx *e, eng_strbuf *out, bool nested)
{
    switch (e->kind) {
    case ENG_SX_COL:
        eng_strbuf_printf(out, "#%d", e->col);
        return;
    case ENG_SX_LIT:
        explain_lit(e, out);
        return;
    case ENG_SX_CALL:
        if (fn_is_infix(e->fn, e->nargs) || ((e->fn == OP_AND || e->fn == OP_OR) && e->nargs > 2)) {
            if (nested)
                eng_strbuf_putc(out, '(');
            for (int i = 0; i < e->nargs; i++) {
                if (i)
                    eng_strbuf_printf(out, " %s ", op_fn_name(e->fn));
                explain_rec(e->args[i], out, true);
            }
            if (nested)
                eng_strbuf_putc(out, ')');
            return;
        }
        if (e->nargs == 1 && (e->fn == OP_NOT || e->fn == OP_NEG)) {
            if (nested)
                eng_strbuf_putc(out, '(');
            eng_strbuf_puts(out, e->fn == OP_NOT ? "NOT " : "-");
            explain_rec(e->args[0], out, true);
            if (nested)
                eng_strbuf_putc(out, ')');
            return;
        }
        if (e->nargs == 1 && fn_is_postfix(e->fn)) {
            if (nested)
                eng_strbuf_putc(out, '(');
            explain_rec(e->args[0], out, true);
            eng_strbuf_printf(out, " %s", op_fn_name(e->fn));
            if (nested)
                eng_strbuf_putc(out, ')');
            return;
        }
        eng_strbuf_puts(out, op_fn_name(e->fn));
        eng_strbuf_putc(out, '(');
        for (int i = 0; i < e->nargs; i++) {
            if (i)
                eng_strbuf_puts(out, ", ");
            explain_rec(e->args[i], out, false);
        }
        eng_strbuf_putc(out, ')');
        return;
    case ENG_SX_CAST:
        explain_rec(e->args[0], out, true);
        eng_strbuf_puts(out, "::");
        eng_type_format(&e->cast_to, out);
        return;
    case ENG_SX_CASE: {
        int k = 0;
        eng_strbuf_puts(out, "CASE");
        if (e->case_operand) {
            eng_strbuf_putc(out, ' ');
            explain_rec(e->args[k++], out, true);
        }
        int end = e->nargs - (e->case_else ? 1 : 0);
        for (; k + 1 < end; k += 2) {
            eng_strbuf_puts(out, " WHEN ");
            explain_rec(e->args[k], out, false);
            eng_strbuf_puts(out, " THEN ");
            explain_rec(e->args[k + 1], out, false);
        }
        if (e->case_else) {
            eng_strbuf_puts(out, " ELSE ");
            explain_rec(e->args[e->nargs - 1], out, false);
        }
        eng_strbuf_puts(out, " END");
        return;
    }
    case ENG_SX_EXT:
        eng_strbuf_puts(out, e->ext_name ? e->ext_name : "?");
        eng_strbuf_putc(out, '(');
        for (int i = 0; i < e->nargs; i++) {
            if (i)
                eng_strbuf_puts(out, ", ");
            explain_rec(e->args[i], out, false);
        }
        eng_strbuf_putc(out, ')');
        return;
    }
}

void
eng_sx_explain(const eng_sx *e, eng_strbuf *out)
{
    explain_rec(e, out, false);
}

/* ------------------------------------------------------------------ relations */

static eng_rel *
rel_node(eng_rel_kind kind, int ncols)
{
    eng_rel *r = xcalloc(1, sizeof *r);
    r->kind = kind;
    r->ncols = ncols;
    r->types = xcalloc((size_t)ncols, sizeof *r->types);
    r->limit = -1;
    return r;
}

static void
rel_set_in1(eng_rel *r, eng_rel *in)
{
    ENG_ASSERT(in != NULL);
    r->nin = 1;
    r->in = xmalloc(sizeof *r->in);
    r->in[0] = in;
}

static int *
dup_ints(const int *v, int n)
{
    return n > 0 ? xdup(v, (size_t)n * sizeof *v) : NULL;
}

eng_rel *
eng_rel_get(uint64_t id, const char *name, int ncols, const eng_type *types)
{
    eng_rel *r = rel_node(ENG_REL_GET, ncols);
    if (ncols)
        memcpy(r->types, types, (size_t)ncols * sizeof *types);
    r->get_id = id;
    r->get_name = xstrdup(name);
    return r;
}

/* Copies rows[0..n) into one buffer that out's rows point into. */
static void
copy_rows(eng_rel *r, int nrows, const eng_row *rows, const int64_t *diffs)
{
    size_t total = 0;
    for (int i = 0; i < nrows; i++)
        total += rows[i].len;
    r->nrows = nrows;
    r->rowbuf = xmalloc(total);
    r->rows = xcalloc((size_t)nrows, sizeof *r->rows);
    r->diffs = xcalloc((size_t)nrows, sizeof *r->diffs);
    size_t off = 0;
    for (int i = 0; i < nrows; i++) {
        if (rows[i].len)
            memcpy(r->rowbuf + off, rows[i].data, rows[i].len);
        r->rows[i] = (eng_row){r->rowbuf + off, rows[i].len};
        r->diffs[i] = diffs ? diffs[i] : 1;
        off += rows[i].len;
    }
}

eng_rel *
eng_rel_const(int ncols, const eng_type *types, int nrows, const eng_row *rows,
              const int64_t *diffs)
{
    eng_rel *r = rel_node(ENG_REL_CONST, ncols);
    if (ncols)
        memcpy(r->types, types, (size_t)ncols * sizeof *types);
    copy_rows(r, nrows, rows, diffs);
    return r;
}

eng_rel *
eng_rel_map(eng_rel *in, int n, eng_sx **exprs, eng_err *err)
{
    eng_rel *r = rel_node(ENG_REL_MAP, in->ncols + n);
    if (in->ncols)
        memcpy(r->types, in->types, (size_t)in->ncols * sizeof *in->types);
    rel_set_in1(r, in);
    r->nexprs = n;
    r->exprs = exprs;
    for (int i = 0; i < n; i++) {
        if (eng_sx_typecheck(exprs[i], in->ncols + i, r->types, err) != 0) {
            eng_err_context(err, "map expression %d", i);
            eng_rel_free(r);
            return NULL;
        }
        r->types[in->ncols + i] = exprs[i]->type;
    }
    return r;
}

eng_rel *
eng_rel_filter(eng_rel *in, int n, eng_sx **preds)
{
    eng_rel *r = rel_node(ENG_REL_FILTER, in->ncols);
    if (in->ncols)
        memcpy(r->types, in->types, (size_t)in->ncols * sizeof *in->types);
    rel_set_in1(r, in);
    r->nexprs = n;
    r->exprs = preds;
    return r;
}

eng_rel *
eng_rel_project(eng_rel *in, int n, const int *cols)
{
    eng_rel *r = rel_node(ENG_REL_PROJECT, n);
    for (int i = 0; i < n; i++) {
        ENG_ASSERT(cols[i] >= 0 && cols[i] < in->ncols);
        r->types[i] = in->types[cols[i]];
    }
    r->cols = dup_ints(cols, n);
    rel_set_in1(r, in);
    return r;
}

eng_rel *
eng_rel_join(op_join_kind kind, eng_rel *l, eng_rel *r, int nkeys, const int *lkeys,
             const int *rkeys)
{
    eng_rel *j = rel_node(ENG_REL_JOIN, l->ncols + r->ncols);
    if (l->ncols)
        memcpy(j->types, l->types, (size_t)l->ncols * sizeof *l->types);
    if (r->ncols)
        memcpy(j->types + l->ncols, r->types, (size_t)r->ncols * sizeof *r->types);
    j->nin = 2;
    j->in = xmalloc(2 * sizeof *j->in);
    j->in[0] = l;
    j->in[1] = r;
    j->join_kind = kind;
    j->nkeys = nkeys;
    j->lkeys = dup_ints(lkeys, nkeys);
    j->rkeys = dup_ints(rkeys, nkeys);
    return j;
}

eng_type
eng_agg_type(op_agg_kind kind, eng_type t)
{
    switch (kind) {
    case OP_AGG_COUNT_STAR:
    case OP_AGG_COUNT:
    case OP_AGG_COUNT_DISTINCT:
    case OP_AGG_SUM_INT:
        return op_type_full(OP_T_INT8);
    case OP_AGG_SUM_INT8:
    case OP_AGG_AVG_INT:
    case OP_AGG_SUM_NUMERIC:
    case OP_AGG_AVG_NUMERIC:
        return op_type_full(OP_T_NUMERIC);
    case OP_AGG_SUM_FLOAT:
    case OP_AGG_AVG_FLOAT:
        return op_type_full(OP_T_FLOAT8);
    case OP_AGG_SUM_FLOAT4:
        return op_type_full(OP_T_FLOAT4);
    case OP_AGG_BOOL_AND:
    case OP_AGG_BOOL_OR:
        return op_type_full(OP_T_BOOL);
    case OP_AGG_MIN:
    case OP_AGG_MAX:
        return t;
    case OP_AGG_STRING_AGG:
        return op_type_full(OP_T_TEXT);
    }
    return op_type_full(OP_T_UNKNOWN);
}

eng_rel *
eng_rel_reduce(eng_rel *in, int ngroup, const int *group, int naggs, const eng_agg *aggs,
               bool global)
{
    eng_rel *r = rel_node(ENG_REL_REDUCE, ngroup + naggs);
    for (int i = 0; i < ngroup; i++) {
        ENG_ASSERT(group[i] >= 0 && group[i] < in->ncols);
        r->types[i] = in->types[group[i]];
    }
    r->ngroup = ngroup;
    r->group = dup_ints(group, ngroup);
    r->naggs = naggs;
    r->aggs = naggs > 0 ? xcalloc((size_t)naggs, sizeof *r->aggs) : NULL;
    for (int i = 0; i < naggs; i++) {
        r->aggs[i] = aggs[i];
        r->aggs[i].sep = xstrdup(aggs[i].sep);
        eng_type t = aggs[i].col >= 0 && aggs[i].col < in->ncols ? in->types[aggs[i].col]
                                                                 : op_type_full(OP_T_UNKNOWN);
        r->types[ngroup + i] = eng_agg_type(aggs[i].kind, t);
    }
    r->global = global;
    rel_set_in1(r, in);
    return r;
}

eng_rel *
eng_rel_topk(eng_rel *in, int ngroup, const int *group, int norder, const op_order *order,
             int64_t limit, int64_t offset)
{
    eng_rel *r = rel_node(ENG_REL_TOPK, in->ncols);
    if (in->ncols)
        memcpy(r->types, in->types, (size_t)in->ncols * sizeof *in->types);
    r->ngroup = ngroup;
    r->group = dup_ints(group, ngroup);
    r->norder = norder;
    r->order = norder > 0 ? xdup(order, (size_t)norder * sizeof *order) : NULL;
    r->limit = limit;
    r->offset = offset;
    rel_set_in1(r, in);
    return r;
}

/* Copies wins[0..n): each default's bytes owned by the copy (a NULL datum
 * when none was given). */
static eng_win *
dup_wins(const eng_win *wins, int n)
{
    if (n <= 0)
        return NULL;
    eng_win *w = xdup(wins, (size_t)n * sizeof *wins);
    for (int i = 0; i < n; i++) {
        static const uint8_t null_datum = ENG_TAG_NULL;
        eng_row d = wins[i].dflt.len > 0 ? wins[i].dflt : (eng_row){&null_datum, 1};
        w[i].dflt = (eng_row){xdup(d.data, d.len), d.len};
    }
    return w;
}

static void
free_wins(eng_win *w, int n)
{
    for (int i = 0; w && i < n; i++)
        free((void *)(uintptr_t)w[i].dflt.data);
    free(w);
}

eng_type
eng_win_type(const eng_win *w, int ncols, const eng_type *types)
{
    switch (w->kind) {
    case OP_WINDOW_LAG:
    case OP_WINDOW_LEAD:
        return w->col >= 0 && w->col < ncols ? types[w->col] : op_type_full(OP_T_UNKNOWN);
    default:
        return op_type_full(OP_T_INT8);
    }
}

eng_rel *
eng_rel_window(eng_rel *in, int npart, const int *part, int norder, const op_order *order, int nwin,
               const eng_win *wins)
{
    eng_rel *r = rel_node(ENG_REL_WINDOW, in->ncols + nwin);
    if (in->ncols)
        memcpy(r->types, in->types, (size_t)in->ncols * sizeof *in->types);
    for (int i = 0; i < nwin; i++)
        r->types[in->ncols + i] = eng_win_type(&wins[i], in->ncols, in->types);
    r->npart = npart;
    r->part = dup_ints(part, npart);
    r->norder = norder;
    r->order = norder > 0 ? xdup(order, (size_t)norder * sizeof *order) : NULL;
    r->nwin = nwin;
    r->wins = dup_wins(wins, nwin);
    rel_set_in1(r, in);
    return r;
}

static eng_rel *
rel_same_types(eng_rel_kind kind, eng_rel *in)
{
    eng_rel *r = rel_node(kind, in->ncols);
    if (in->ncols)
        memcpy(r->types, in->types, (size_t)in->ncols * sizeof *in->types);
    rel_set_in1(r, in);
    return r;
}

eng_rel *
eng_rel_distinct(eng_rel *in)
{
    return rel_same_types(ENG_REL_DISTINCT, in);
}

eng_rel *
eng_rel_union(int n, eng_rel **ins)
{
    ENG_ASSERT(n >= 1);
    eng_rel *r = rel_node(ENG_REL_UNION, ins[0]->ncols);
    if (r->ncols)
        memcpy(r->types, ins[0]->types, (size_t)r->ncols * sizeof *r->types);
    r->nin = n;
    r->in = ins;
    return r;
}

eng_rel *
eng_rel_negate(eng_rel *in)
{
    return rel_same_types(ENG_REL_NEGATE, in);
}

eng_rel *
eng_rel_threshold(eng_rel *in)
{
    return rel_same_types(ENG_REL_THRESHOLD, in);
}

eng_rel *
eng_rel_copy(const eng_rel *r)
{
    if (r == NULL)
        return NULL;
    eng_rel *c = xdup(r, sizeof *r);
    c->types = xdup(r->types, (size_t)r->ncols * sizeof *r->types);
    c->in = NULL;
    if (r->nin > 0) {
        c->in = xmalloc((size_t)r->nin * sizeof *c->in);
        for (int i = 0; i < r->nin; i++)
            c->in[i] = eng_rel_copy(r->in[i]);
    }
    c->get_name = xstrdup(r->get_name);
    c->rows = NULL;
    c->diffs = NULL;
    c->rowbuf = NULL;
    if (r->kind == ENG_REL_CONST)
        copy_rows(c, r->nrows, r->rows, r->diffs);
    c->exprs = NULL;
    if (r->nexprs > 0) {
        c->exprs = xmalloc((size_t)r->nexprs * sizeof *c->exprs);
        for (int i = 0; i < r->nexprs; i++)
            c->exprs[i] = eng_sx_copy(r->exprs[i]);
    }
    c->cols = r->kind == ENG_REL_PROJECT ? dup_ints(r->cols, r->ncols) : NULL;
    c->lkeys = dup_ints(r->lkeys, r->lkeys ? r->nkeys : 0);
    c->rkeys = dup_ints(r->rkeys, r->rkeys ? r->nkeys : 0);
    c->group = dup_ints(r->group, r->group ? r->ngroup : 0);
    c->aggs = NULL;
    if (r->naggs > 0) {
        c->aggs = xdup(r->aggs, (size_t)r->naggs * sizeof *r->aggs);
        for (int i = 0; i < r->naggs; i++)
            c->aggs[i].sep = xstrdup(r->aggs[i].sep);
    }
    c->order = r->norder > 0 ? xdup(r->order, (size_t)r->norder * sizeof *r->order) : NULL;
    c->part = dup_ints(r->part, r->part ? r->npart : 0);
    c->wins = dup_wins(r->wins, r->wins ? r->nwin : 0);
    return c;
}

void
eng_rel_free(eng_rel *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->nin; i++)
        eng_rel_free(r->in[i]);
    free(r->in);
    free(r->types);
    free(r->get_name);
    free(r->rows);
    free(r->diffs);
    free(r->rowbuf);
    for (int i = 0; i < r->nexprs; i++)
        eng_sx_free(r->exprs[i]);
    free(r->exprs);
    free(r->cols);
    free(r->lkeys);
    free(r->rkeys);
    free(r->group);
    for (int i = 0; i < r->naggs; i++)
        free(r->aggs[i].sep);
    free(r->aggs);
    free(r->order);
    free(r->part);
    free_wins(r->wins, r->nwin);
    free(r);
}

/* ------------------------------------------------------------------ explain */

static const char *const rel_names[] = {
    [ENG_REL_GET] = "Get",       [ENG_REL_CONST] = "Constant",  [ENG_REL_MAP] = "Map",
    [ENG_REL_FILTER] = "Filter", [ENG_REL_PROJECT] = "Project", [ENG_REL_JOIN] = "Join",
    [ENG_REL_REDUCE] = "Reduce", [ENG_REL_TOPK] = "TopK",       [ENG_REL_DISTINCT] = "Distinct",
    [ENG_REL_UNION] = "Union",   [ENG_REL_NEGATE] = "Negate",   [ENG_REL_THRESHOLD] = "Threshold",
    [ENG_REL_WINDOW] = "Window",
};

static const char *
join_name(op_join_kind k)
{
    switch (k) {
    case OP_JOIN_INNER:
        return "inner";
    case OP_JOIN_LEFT:
        return "left";
    case OP_JOIN_RIGHT:
        return "right";
    case OP_JOIN_FULL:
        return "full";
    }
    return "?";
}

static const char *
agg_name(op_agg_kind k)
{
    switch (k) {
    case OP_AGG_COUNT_STAR:
    case OP_AGG_COUNT:
        return "count";
    case OP_AGG_SUM_INT:
    case OP_AGG_SUM_FLOAT:
    case OP_AGG_SUM_INT8:
    case OP_AGG_SUM_FLOAT4:
    case OP_AGG_SUM_NUMERIC:
        return "sum";
    case OP_AGG_AVG_INT:
    case OP_AGG_AVG_FLOAT:
    case OP_AGG_AVG_NUMERIC:
        return "avg";
    case OP_AGG_BOOL_AND:
        return "bool_and";
    case OP_AGG_BOOL_OR:
        return "bool_or";
    case OP_AGG_MIN:
        return "min";
    case OP_AGG_MAX:
        return "max";
    case OP_AGG_COUNT_DISTINCT:
        return "count";
    case OP_AGG_STRING_AGG:
        return "string_agg";
    }
    return "?";
}

static void
put_cols(eng_strbuf *out, const int *v, int n)
{
    eng_strbuf_putc(out, '[');
    for (int i = 0; i < n; i++)
        eng_strbuf_printf(out, i ? ", #%d" : "#%d", v[i]);
    eng_strbuf_putc(out, ']');
}

static void
put_datum(eng_strbuf *out, const eng_type *t, eng_datum d)
{
    if (d.tag == ENG_TAG_NULL) {
        eng_strbuf_puts(out, "NULL");
        return;
    }
    eng_type tt = *t;
    if (!eng_type_tag_matches(&tt, d.tag) || tt.id == ENG_TYPE_UNKNOWN)
        tt = op_type_full(d.tag == ENG_TAG_TEXT ? OP_T_TEXT : OP_T_UNKNOWN);
    if (tt.id == ENG_TYPE_UNKNOWN) {
        eng_strbuf_printf(out, "<tag %d>", d.tag);
        return;
    }
    if (!eng_type_is_string(tt.id) && d.tag != ENG_TAG_BYTES) {
        eng_text_format(&tt, d, out);
        return;
    }
    eng_strbuf txt = {0};
    eng_text_format(&tt, d, &txt);
    put_quoted(out, &txt);
    eng_strbuf_free(&txt);
}

static const char *
win_name(op_window_kind k)
{
    switch (k) {
    case OP_WINDOW_ROW_NUMBER:
        return "row_number";
    case OP_WINDOW_RANK:
        return "rank";
    case OP_WINDOW_DENSE_RANK:
        return "dense_rank";
    case OP_WINDOW_LAG:
        return "lag";
    case OP_WINDOW_LEAD:
        return "lead";
    }
    return "?";
}

static void
put_order(eng_strbuf *out, const op_order *order, int n)
{
    eng_strbuf_putc(out, '[');
    for (int i = 0; i < n; i++)
        eng_strbuf_printf(out, "%s#%d %s NULLS %s", i ? ", " : "", order[i].col,
                          order[i].desc ? "DESC" : "ASC", order[i].nulls_first ? "FIRST" : "LAST");
    eng_strbuf_putc(out, ']');
}

/* " part=[#0] order=[#1 ASC NULLS LAST] fns=[row_number(), lag(#1, 1, NULL)]" */
static void
explain_window(const eng_rel *r, eng_strbuf *out)
{
    eng_strbuf_puts(out, " part=");
    put_cols(out, r->part, r->npart);
    eng_strbuf_puts(out, " order=");
    put_order(out, r->order, r->norder);
    eng_strbuf_puts(out, " fns=[");
    const eng_rel *in = r->in[0];
    for (int i = 0; i < r->nwin; i++) {
        const eng_win *w = &r->wins[i];
        eng_strbuf_printf(out, "%s%s(", i ? ", " : "", win_name(w->kind));
        if (w->kind == OP_WINDOW_LAG || w->kind == OP_WINDOW_LEAD) {
            eng_strbuf_printf(out, "#%d, %" PRId64 ", ", w->col, w->offset);
            eng_type t = eng_win_type(w, in->ncols, in->types);
            uint32_t pos = 0;
            if (w->dflt.len > 0 && eng_row_validate(w->dflt, 1))
                put_datum(out, &t, eng_row_next(w->dflt, &pos));
            else
                eng_strbuf_puts(out, "<bad default>");
        }
        eng_strbuf_putc(out, ')');
    }
    eng_strbuf_putc(out, ']');
}

static void
explain_rel(const eng_rel *r, eng_strbuf *out, int depth)
{
    for (int i = 0; i < depth; i++)
        eng_strbuf_puts(out, "  ");
    eng_strbuf_puts(out, rel_names[r->kind]);
    switch (r->kind) {
    case ENG_REL_GET:
        eng_strbuf_printf(out, " %s (id %" PRIu64 ")", r->get_name ? r->get_name : "?", r->get_id);
        break;
    case ENG_REL_CONST:
        for (int i = 0; i < r->nrows; i++) {
            eng_strbuf_puts(out, i ? ", (" : " (");
            uint32_t pos = 0;
            for (int c = 0; c < r->ncols && pos < r->rows[i].len; c++) {
                if (c)
                    eng_strbuf_puts(out, ", ");
                put_datum(out, &r->types[c], eng_row_next(r->rows[i], &pos));
            }
            eng_strbuf_putc(out, ')');
            if (r->diffs[i] != 1)
                eng_strbuf_printf(out, " x%" PRId64, r->diffs[i]);
        }
        if (r->nrows == 0)
            eng_strbuf_puts(out, " <empty>");
        break;
    case ENG_REL_MAP:
    case ENG_REL_FILTER:
        for (int i = 0; i < r->nexprs; i++) {
            eng_strbuf_puts(out, i ? ", " : " ");
            eng_sx_explain(r->exprs[i], out);
        }
        break;
    case ENG_REL_PROJECT:
        eng_strbuf_putc(out, ' ');
        put_cols(out, r->cols, r->ncols);
        break;
    case ENG_REL_JOIN:
        eng_strbuf_printf(out, " %s",
                          r->nkeys == 0 && r->join_kind == OP_JOIN_INNER ? "cross"
                                                                         : join_name(r->join_kind));
        for (int i = 0; i < r->nkeys; i++)
            eng_strbuf_printf(out, "%s#%d = #%d", i ? " AND " : " on ", r->lkeys[i],
                              r->in[0]->ncols + r->rkeys[i]);
        break;
    case ENG_REL_REDUCE:
        eng_strbuf_puts(out, r->global ? " global" : " group=");
        if (!r->global || r->ngroup > 0)
            put_cols(out, r->group, r->ngroup);
        eng_strbuf_puts(out, " aggs=[");
        for (int i = 0; i < r->naggs; i++) {
            const eng_agg *a = &r->aggs[i];
            eng_strbuf_printf(out, "%s%s(", i ? ", " : "", agg_name(a->kind));
            if (a->kind == OP_AGG_COUNT_DISTINCT)
                eng_strbuf_puts(out, "DISTINCT ");
            if (a->kind == OP_AGG_COUNT_STAR)
                eng_strbuf_putc(out, '*');
            else
                eng_strbuf_printf(out, "#%d", a->col);
            if (a->kind == OP_AGG_STRING_AGG)
                eng_strbuf_printf(out, ", '%s'", a->sep ? a->sep : "");
            eng_strbuf_putc(out, ')');
        }
        eng_strbuf_putc(out, ']');
        break;
    case ENG_REL_TOPK:
        eng_strbuf_puts(out, " group=");
        put_cols(out, r->group, r->ngroup);
        eng_strbuf_puts(out, " order=[");
        for (int i = 0; i < r->norder; i++)
            eng_strbuf_printf(out, "%s#%d %s NULLS %s", i ? ", " : "", r->order[i].col,
                              r->order[i].desc ? "DESC" : "ASC",
                              r->order[i].nulls_first ? "FIRST" : "LAST");
        eng_strbuf_putc(out, ']');
        if (r->limit >= 0)
            eng_strbuf_printf(out, " limit=%" PRId64, r->limit);
        if (r->offset > 0)
            eng_strbuf_printf(out, " offset=%" PRId64, r->offset);
        break;
    case ENG_REL_WINDOW:
        explain_window(r, out);
        break;
    default:
        break;
    }
    eng_strbuf_putc(out, '\n');
    for (int i = 0; i < r->nin; i++)
        explain_rel(r->in[i], out, depth + 1);
}

void
eng_rel_explain(const eng_rel *r, eng_strbuf *out)
{
    explain_rel(r, out, 0);
}
