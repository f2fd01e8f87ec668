/* Scalar expressions: tree builders, the compiler (type inference, operator
 * resolution, code generation) and the evaluator loop.
 *
 * Notes: compiling runs two passes over the tree. infer() types every node
 * bottom-up and resolves each call to an implementation (expr_num.c,
 * expr_str.c, expr_cast.c), recording the implicit coercions its
 * arguments need. gen() then emits the flat program: each node writes to
 * a slot chosen by its parent (a call's arguments are consecutive slots),
 * coercions become cast calls, and the lazy constructs (AND, OR, CASE,
 * COALESCE) become forward jumps. The evaluator is a switch over the
 * instructions; the per-row scratch arena is a list of blocks that never
 * move (so values can point into them) and is reset, not freed, per row. */
#include "operators/expr_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_cast.h"
#include "operators/op_common.h"

/* ------------------------------------------------------------------ names */

const char *
op_type_name(op_type t)
{
    return t < ENG_TYPE_COUNT_ ? eng_type_name((eng_typeid)t) : "???";
}

static const uint8_t tag_of_type[ENG_TYPE_COUNT_] = {
    [ENG_TYPE_UNKNOWN] = ENG_TAG_NULL,        [ENG_TYPE_BOOL] = ENG_TAG_TRUE,
    [ENG_TYPE_INT2] = ENG_TAG_INT2,           [ENG_TYPE_INT4] = ENG_TAG_INT4,
    [ENG_TYPE_INT8] = ENG_TAG_INT8,           [ENG_TYPE_FLOAT4] = ENG_TAG_FLOAT4,
    [ENG_TYPE_FLOAT8] = ENG_TAG_FLOAT8,       [ENG_TYPE_NUMERIC] = ENG_TAG_NUMERIC,
    [ENG_TYPE_TEXT] = ENG_TAG_TEXT,           [ENG_TYPE_VARCHAR] = ENG_TAG_TEXT,
    [ENG_TYPE_BPCHAR] = ENG_TAG_TEXT,         [ENG_TYPE_BYTEA] = ENG_TAG_BYTES,
    [ENG_TYPE_DATE] = ENG_TAG_DATE,           [ENG_TYPE_TIME] = ENG_TAG_TIME,
    [ENG_TYPE_TIMESTAMP] = ENG_TAG_TIMESTAMP, [ENG_TYPE_TIMESTAMPTZ] = ENG_TAG_TIMESTAMPTZ,
    [ENG_TYPE_INTERVAL] = ENG_TAG_INTERVAL,   [ENG_TYPE_UUID] = ENG_TAG_UUID,
    [ENG_TYPE_JSON] = ENG_TAG_TEXT,           [ENG_TYPE_JSONB] = ENG_TAG_TEXT,
    [ENG_TYPE_OTHER] = ENG_TAG_TEXT,
};

uint8_t
op_x_tag_of(op_type t)
{
    return t < ENG_TYPE_COUNT_ ? tag_of_type[t] : ENG_TAG_NULL;
}

op_type
op_x_type_of_tag(uint8_t tag)
{
    static const uint8_t type_of_tag[ENG_TAG_COUNT_] = {
        [ENG_TAG_NULL] = ENG_TYPE_UNKNOWN,        [ENG_TAG_FALSE] = ENG_TYPE_BOOL,
        [ENG_TAG_TRUE] = ENG_TYPE_BOOL,           [ENG_TAG_INT2] = ENG_TYPE_INT2,
        [ENG_TAG_INT4] = ENG_TYPE_INT4,           [ENG_TAG_INT8] = ENG_TYPE_INT8,
        [ENG_TAG_FLOAT4] = ENG_TYPE_FLOAT4,       [ENG_TAG_FLOAT8] = ENG_TYPE_FLOAT8,
        [ENG_TAG_DATE] = ENG_TYPE_DATE,           [ENG_TAG_TIME] = ENG_TYPE_TIME,
        [ENG_TAG_TIMESTAMP] = ENG_TYPE_TIMESTAMP, [ENG_TAG_TIMESTAMPTZ] = ENG_TYPE_TIMESTAMPTZ,
        [ENG_TAG_INTERVAL] = ENG_TYPE_INTERVAL,   [ENG_TAG_UUID] = ENG_TYPE_UUID,
        [ENG_TAG_NUMERIC] = ENG_TYPE_NUMERIC,     [ENG_TAG_TEXT] = ENG_TYPE_TEXT,
        [ENG_TAG_BYTES] = ENG_TYPE_BYTEA,
    };
    return tag < ENG_TAG_COUNT_ ? type_of_tag[tag] : ENG_TYPE_UNKNOWN;
}

bool
op_x_tag_fits(op_type t, uint8_t tag)
{
    if (t == OP_T_BOOL)
        return tag == ENG_TAG_TRUE || tag == ENG_TAG_FALSE;
    if (t == OP_T_UNKNOWN) /* an untyped literal is text */
        return tag == ENG_TAG_TEXT;
    return tag == op_x_tag_of(t);
}

static const char *const fn_names[OP_FN_COUNT_] = {
    [OP_ADD] = "+",
    [OP_SUB] = "-",
    [OP_MUL] = "*",
    [OP_DIV] = "/",
    [OP_MOD] = "%",
    [OP_NEG] = "-",
    [OP_ABS] = "abs",
    [OP_EQ] = "=",
    [OP_NE] = "<>",
    [OP_LT] = "<",
    [OP_LE] = "<=",
    [OP_GT] = ">",
    [OP_GE] = ">=",
    [OP_DISTINCT] = "IS DISTINCT FROM",
    [OP_NOT_DISTINCT] = "IS NOT DISTINCT FROM",
    [OP_AND] = "AND",
    [OP_OR] = "OR",
    [OP_NOT] = "NOT",
    [OP_IS_NULL] = "IS NULL",
    [OP_IS_NOT_NULL] = "IS NOT NULL",
    [OP_IS_TRUE] = "IS TRUE",
    [OP_IS_NOT_TRUE] = "IS NOT TRUE",
    [OP_IS_FALSE] = "IS FALSE",
    [OP_IS_NOT_FALSE] = "IS NOT FALSE",
    [OP_IS_UNKNOWN] = "IS UNKNOWN",
    [OP_IS_NOT_UNKNOWN] = "IS NOT UNKNOWN",
    [OP_COALESCE] = "coalesce",
    [OP_NULLIF] = "nullif",
    [OP_GREATEST] = "greatest",
    [OP_LEAST] = "least",
    [OP_IN] = "IN",
    [OP_NOT_IN] = "NOT IN",
    [OP_LENGTH] = "length",
    [OP_OCTET_LENGTH] = "octet_length",
    [OP_UPPER] = "upper",
    [OP_LOWER] = "lower",
    [OP_SUBSTR] = "substr",
    [OP_STRPOS] = "strpos",
    [OP_BTRIM] = "btrim",
    [OP_LTRIM] = "ltrim",
    [OP_RTRIM] = "rtrim",
    [OP_REPLACE] = "replace",
    [OP_CONCAT_OP] = "||",
    [OP_CONCAT] = "concat",
    [OP_CONCAT_WS] = "concat_ws",
    [OP_LIKE] = "~~",
    [OP_NOT_LIKE] = "!~~",
    [OP_ILIKE] = "~~*",
    [OP_NOT_ILIKE] = "!~~*",
    [OP_STARTS_WITH] = "starts_with",
    [OP_LEFT] = "left",
    [OP_RIGHT] = "right",
    [OP_REPEAT] = "repeat",
    [OP_LPAD] = "lpad",
    [OP_RPAD] = "rpad",
    [OP_SPLIT_PART] = "split_part",
    [OP_REVERSE] = "reverse",
    [OP_DATE_TRUNC] = "date_trunc",
    [OP_EXTRACT] = "extract",
    [OP_DATE_PART] = "date_part",
    [OP_POW] = "^",
    [OP_SQRT] = "sqrt",
    [OP_CBRT] = "cbrt",
    [OP_EXP] = "exp",
    [OP_LN] = "ln",
    [OP_LOG10] = "log",
    [OP_LOG] = "log",
    [OP_FLOOR] = "floor",
    [OP_CEIL] = "ceil",
    [OP_ROUND] = "round",
    [OP_TRUNC] = "trunc",
    [OP_SIGN] = "sign",
    [OP_PI] = "pi",
    [OP_DEGREES] = "degrees",
    [OP_RADIANS] = "radians",
    [OP_SIN] = "sin",
    [OP_COS] = "cos",
    [OP_TAN] = "tan",
    [OP_COT] = "cot",
    [OP_ASIN] = "asin",
    [OP_ACOS] = "acos",
    [OP_ATAN] = "atan",
    [OP_ATAN2] = "atan2",
    [OP_GCD] = "gcd",
    [OP_LCM] = "lcm",
    [OP_MD5] = "md5",
    [OP_INITCAP] = "initcap",
    [OP_TRANSLATE] = "translate",
    [OP_ASCII] = "ascii",
    [OP_CHR] = "chr",
    [OP_TO_HEX] = "to_hex",
    [OP_ENCODE] = "encode",
    [OP_DECODE] = "decode",
    [OP_REGEX] = "~",
    [OP_NOT_REGEX] = "!~",
    [OP_IREGEX] = "~*",
    [OP_NOT_IREGEX] = "!~*",
    [OP_PG_TYPEOF] = "pg_typeof",
    [OP_TIMEZONE] = "timezone",
    [OP_MAKE_DATE] = "make_date",
    [OP_MAKE_TIMESTAMP] = "make_timestamp",
    [OP_JSON_GET] = "->",
    [OP_JSON_GET_TEXT] = "->>",
    [OP_JSON_PATH] = "#>",
    [OP_JSON_PATH_TEXT] = "#>>",
    [OP_JSON_CONTAINS] = "@>",
    [OP_JSON_CONTAINED] = "<@",
    [OP_JSON_EXISTS] = "?",
    [OP_JSON_TYPEOF] = "jsonb_typeof",
    [OP_JSON_ARRAY_LENGTH] = "jsonb_array_length",
    [OP_JSONB_BUILD_OBJECT] = "jsonb_build_object",
    [OP_JSONB_BUILD_ARRAY] = "jsonb_build_array",
    [OP_TO_JSONB] = "to_jsonb",
    [OP_JSONB_PRETTY] = "jsonb_pretty",
    [OP_JSONB_STRIP_NULLS] = "jsonb_strip_nulls",
};

const char *
op_fn_name(op_fn fn)
{
    return (unsigned)fn < OP_FN_COUNT_ && fn_names[fn] ? fn_names[fn] : "???";
}

/* ------------------------------------------------------------------ building */

static op_expr *
node(uint8_t kind)
{
    op_expr *e = calloc(1, sizeof *e);
    ENG_ASSERT(e != NULL);
    e->kind = kind;
    return e;
}

static void
set_args(op_expr *e, int n, op_expr *const *args)
{
    e->nargs = n;
    if (n > 0) {
        e->args = malloc((size_t)n * sizeof *e->args);
        ENG_ASSERT(e->args != NULL);
        for (int i = 0; i < n; i++) {
            ENG_ASSERT(args[i] != NULL);
            e->args[i] = args[i];
        }
    }
}

op_expr *
op_expr_col(int col)
{
    op_expr *e = node(E_COL);
    e->col = col;
    return e;
}

op_expr *
op_expr_lit(eng_row r)
{
    ENG_ASSERT(r.len > 0);
    uint32_t n = eng_datum_size_at(r.data);
    ENG_ASSERT(n <= r.len);
    op_expr *e = node(E_LIT);
    e->lit = malloc(n);
    ENG_ASSERT(e->lit != NULL);
    memcpy(e->lit, r.data, n);
    e->rtype = op_x_type_of_tag(r.data[0]);
    return e;
}

op_expr *
op_expr_lit_typed(eng_row r, op_type t)
{
    op_expr *e = op_expr_lit(r);
    ENG_ASSERT(r.data[0] == ENG_TAG_NULL || op_x_tag_fits(t, r.data[0]));
    e->rtype = t;
    return e;
}

static op_expr *
lit_from(eng_rowbuf *b)
{
    op_expr *e = op_expr_lit(eng_rowbuf_row(b));
    eng_rowbuf_free(b);
    return e;
}

op_expr *
op_expr_null(op_type t)
{
    eng_rowbuf b = {0};
    eng_push_null(&b);
    op_expr *e = lit_from(&b);
    e->rtype = t;
    return e;
}

op_expr *
op_expr_bool(bool v)
{
    eng_rowbuf b = {0};
    eng_push_bool(&b, v);
    return lit_from(&b);
}

op_expr *
op_expr_int2(int16_t v)
{
    eng_rowbuf b = {0};
    eng_push_int2(&b, v);
    return lit_from(&b);
}

op_expr *
op_expr_int4(int32_t v)
{
    eng_rowbuf b = {0};
    eng_push_int4(&b, v);
    return lit_from(&b);
}

op_expr *
op_expr_int8(int64_t v)
{
    eng_rowbuf b = {0};
    eng_push_int8(&b, v);
    return lit_from(&b);
}

op_expr *
op_expr_float4(float v)
{
    eng_rowbuf b = {0};
    eng_push_float4(&b, v);
    return lit_from(&b);
}

op_expr *
op_expr_float8(double v)
{
    eng_rowbuf b = {0};
    eng_push_float8(&b, v);
    return lit_from(&b);
}

op_expr *
op_expr_text(const char *s, uint32_t len)
{
    eng_rowbuf b = {0};
    eng_push_text(&b, s, len);
    return lit_from(&b);
}

op_expr *
op_expr_call(op_fn fn, int nargs, op_expr *const *args)
{
    op_expr *e = node(E_CALL);
    e->fn = fn;
    set_args(e, nargs, args);
    return e;
}

op_expr *
op_expr_call1(op_fn fn, op_expr *a)
{
    return op_expr_call(fn, 1, &a);
}

op_expr *
op_expr_call2(op_fn fn, op_expr *a, op_expr *b)
{
    op_expr *args[2] = {a, b};
    return op_expr_call(fn, 2, args);
}

op_expr *
op_expr_call3(op_fn fn, op_expr *a, op_expr *b, op_expr *c)
{
    op_expr *args[3] = {a, b, c};
    return op_expr_call(fn, 3, args);
}

op_expr *
op_expr_cast(op_expr *arg, eng_type to)
{
    return op_expr_cast_fn(arg, to, NULL);
}

op_expr *
op_expr_cast_fn(op_expr *arg, eng_type to, op_cast_fn fn)
{
    op_expr *e = node(E_CAST);
    set_args(e, 1, &arg);
    e->rtype = (op_type)to.id;
    e->casttype = to;
    e->castfn = fn;
    return e;
}

op_expr *
op_expr_case(op_expr *operand, int n, op_expr *const *whens, op_expr *const *thens, op_expr *els)
{
    op_expr *e = node(E_CASE);
    e->has_operand = operand != NULL;
    e->has_else = els != NULL;
    e->nargs = (operand ? 1 : 0) + 2 * n + (els ? 1 : 0);
    e->args = malloc((size_t)(e->nargs > 0 ? e->nargs : 1) * sizeof *e->args);
    ENG_ASSERT(e->args != NULL);
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

op_expr *
op_expr_ext(const char *name, op_ext_fn fn, op_type result, bool strict, int nargs,
            op_expr *const *args)
{
    op_expr *e = node(E_EXT);
    set_args(e, nargs, args);
    e->name = name;
    e->extfn = fn;
    e->rtype = result;
    e->strict = strict;
    return e;
}

void
op_expr_free(op_expr *e)
{
    if (e == NULL)
        return;
    for (int i = 0; i < e->nargs; i++)
        op_expr_free(e->args[i]);
    free(e->args);
    free(e->lit);
    free(e->argwant);
    free(e);
}

/* ------------------------------------------------------------------ type inference */

typedef struct comp {
    op_prog *p;
    int ncols;
    const op_type *types;
    eng_err *err;
    int depth; /* infer's recursion depth */
} comp;

/* Nesting the compiler accepts (its passes recurse over the tree), like
 * PostgreSQL's max_stack_depth check. */
#define MAX_EXPR_DEPTH 2000

static int infer(comp *c, op_expr *e);

op_type *
op_x_want(op_expr *e)
{
    free(e->argwant);
    e->argwant = calloc((size_t)(e->nargs > 0 ? e->nargs : 1), sizeof *e->argwant);
    ENG_ASSERT(e->argwant != NULL);
    return e->argwant;
}

static int
need_bool(comp *c, op_type t, const char *what)
{
    if (t == OP_T_BOOL || t == OP_T_UNKNOWN)
        return 0;
    return eng_err_set(c->err, ENG_ERRCODE_DATATYPE_MISMATCH,
                       "argument of %s must be type boolean, not type %s", what, op_type_name(t));
}

static int x_is_null(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);
static int x_is_bool(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);
static int x_not(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);
static int x_ext(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);

/* Logic functions: AND, OR, NOT, IS [NOT] NULL/TRUE/FALSE/UNKNOWN. */
static int
resolve_logic(comp *c, op_expr *e, const op_type *at)
{
    const char *name = op_fn_name(e->fn);
    op_x_want(e);
    e->rtype = OP_T_BOOL;
    switch (e->fn) {
    case OP_AND:
    case OP_OR:
        if (e->nargs < 1)
            goto arity;
        for (int i = 0; i < e->nargs; i++) {
            if (need_bool(c, at[i], name))
                return -1;
            e->argwant[i] = OP_T_BOOL;
        }
        return 0;
    case OP_NOT:
        if (e->nargs != 1)
            goto arity;
        if (need_bool(c, at[0], name))
            return -1;
        e->impl_fn = x_not;
        e->impl_strict = true;
        return 0;
    case OP_IS_NULL:
    case OP_IS_NOT_NULL:
        if (e->nargs != 1)
            goto arity;
        e->impl_fn = x_is_null;
        e->impl_aux8 = e->fn == OP_IS_NOT_NULL;
        return 0;
    default: /* IS [NOT] TRUE / FALSE / UNKNOWN */
        if (e->nargs != 1)
            goto arity;
        if (need_bool(c, at[0], name))
            return -1;
        e->impl_fn = x_is_bool;
        e->impl_aux8 = (uint8_t)(e->fn - OP_IS_TRUE);
        return 0;
    }
arity:
    return eng_err_set(c->err, ENG_ERRCODE_UNDEFINED_FUNCTION, "%s takes %s argument%s, not %d",
                       name, e->fn == OP_AND || e->fn == OP_OR ? "at least one" : "one",
                       e->fn == OP_AND || e->fn == OP_OR ? "s" : "", e->nargs);
}

static int
infer_case(comp *c, op_expr *e)
{
    int k = 0, n = (e->nargs - (e->has_operand ? 1 : 0) - (e->has_else ? 1 : 0)) / 2;
    op_type opt = OP_T_UNKNOWN;
    if (e->has_operand)
        opt = e->args[k++]->rtype;
    op_type *res = calloc((size_t)n + 1, sizeof *res);
    ENG_ASSERT(res != NULL);
    int nres = 0;
    for (int i = 0; i < n; i++, k += 2) {
        op_type wt = e->args[k]->rtype;
        if (e->has_operand) {
            op_type ca, cb;
            bool bp;
            if (op_x_comparable(opt, wt, "=", &ca, &cb, &bp, c->err))
                goto fail;
        } else if (need_bool(c, wt, "CASE/WHEN")) {
            goto fail;
        }
        res[nres++] = e->args[k + 1]->rtype;
    }
    if (e->has_else)
        res[nres++] = e->args[k]->rtype;
    op_type t;
    if (op_x_common_type(res, nres, "CASE", &t, c->err))
        goto fail;
    free(res);
    e->rtype = t;
    op_type *w = op_x_want(e);
    k = e->has_operand ? 1 : 0;
    for (int i = 0; i < n; i++, k += 2) {
        w[k] = e->has_operand ? OP_T_UNKNOWN : OP_T_BOOL;
        w[k + 1] = t;
    }
    if (e->has_else)
        w[k] = t;
    return 0;
fail:
    free(res);
    return -1;
}

static int
infer(comp *c, op_expr *e)
{
    if (c->depth >= MAX_EXPR_DEPTH)
        return eng_err_set(c->err, ENG_ERRCODE_STATEMENT_TOO_COMPLEX,
                           "expression nests more than %d levels deep", MAX_EXPR_DEPTH);
    c->depth++;
    for (int i = 0; i < e->nargs; i++) {
        if (infer(c, e->args[i])) {
            c->depth--;
            return -1;
        }
    }
    c->depth--;
    switch (e->kind) {
    case E_COL:
        if (e->col < 0 || e->col >= c->ncols)
            return eng_err_set(c->err, ENG_ERRCODE_UNDEFINED_COLUMN,
                               "column index %d is out of range (the input has %d columns)", e->col,
                               c->ncols);
        e->rtype = c->types[e->col];
        return 0;
    case E_LIT:
        return 0;
    case E_CAST: {
        op_type from = e->args[0]->rtype;
        if (e->castfn || from == OP_T_UNKNOWN ||
            eng_cast_lookup((eng_typeid)from, e->casttype.id) >= 0)
            return 0;
        return eng_err_set(c->err, ENG_ERRCODE_CANNOT_COERCE, "cannot cast type %s to %s",
                           op_type_name(from), op_type_name(e->rtype));
    }
    case E_EXT:
        op_x_want(e);
        e->impl_fn = x_ext;
        e->impl_strict = e->strict;
        return 0;
    case E_CASE:
        return infer_case(c, e);
    case E_CALL:
        break;
    default:
        ENG_UNREACHABLE("bad expression node");
    }
    op_type at_small[8], *at = at_small;
    if (e->nargs > 8) {
        at = malloc((size_t)e->nargs * sizeof *at);
        ENG_ASSERT(at != NULL);
    }
    for (int i = 0; i < e->nargs; i++)
        at[i] = e->args[i]->rtype;
    int rc;
    if ((unsigned)e->fn >= OP_FN_COUNT_)
        rc = eng_err_set(c->err, ENG_ERRCODE_UNDEFINED_FUNCTION, "unknown function %d", e->fn);
    else if (e->fn >= OP_AND && e->fn <= OP_IS_NOT_UNKNOWN)
        rc = resolve_logic(c, e, at);
    else if (e->fn < OP_LENGTH)
        rc = op_x_resolve_num(e, at, c->err);
    else if (e->fn >= OP_JSON_GET)
        rc = op_x_resolve_json(e, at, c->err);
    else if (e->fn >= OP_TIMEZONE)
        rc = op_x_resolve_tz(e, at, c->err);
    else if (e->fn >= OP_DATE_TRUNC && e->fn <= OP_DATE_PART)
        rc = op_x_resolve_date(e, at, c->err);
    else if (e->fn >= OP_MD5)
        rc = op_x_resolve_text(e, at, c->err);
    else if (e->fn >= OP_POW)
        rc = op_x_resolve_math(e, at, c->err);
    else
        rc = op_x_resolve_str(e, at, c->err);
    if (at != at_small)
        free(at);
    return rc;
}

/* ------------------------------------------------------------------ code generation */

static int
new_slots(comp *c, int n)
{
    int s = c->p->nslots;
    c->p->nslots += n;
    return s;
}

static op_x_insn *
emit(comp *c, uint8_t op, int dst)
{
    op_prog *p = c->p;
    if (p->ncode == p->capcode) {
        p->capcode = p->capcode ? 2 * p->capcode : 16;
        p->code = realloc(p->code, (size_t)p->capcode * sizeof *p->code);
        ENG_ASSERT(p->code != NULL);
    }
    op_x_insn *in = &p->code[p->ncode++];
    memset(in, 0, sizeof *in);
    in->op = op;
    in->dst = dst;
    return in;
}

static int
add_const(comp *c, const uint8_t *datum)
{
    op_prog *p = c->p;
    if (p->nconsts == p->capconsts) {
        p->capconsts = p->capconsts ? 2 * p->capconsts : 8;
        p->consts = realloc(p->consts, (size_t)p->capconsts * sizeof *p->consts);
        ENG_ASSERT(p->consts != NULL);
    }
    uint32_t n = eng_datum_size_at(datum);
    if (p->nconstmem == p->capconstmem) {
        p->capconstmem = p->capconstmem ? 2 * p->capconstmem : 8;
        p->constmem = realloc(p->constmem, (size_t)p->capconstmem * sizeof *p->constmem);
        ENG_ASSERT(p->constmem != NULL);
    }
    uint8_t *copy = malloc(n);
    ENG_ASSERT(copy != NULL);
    memcpy(copy, datum, n);
    p->constmem[p->nconstmem++] = copy;
    uint32_t pos = 0;
    op_x_decode(eng_row_next((eng_row){copy, n}, &pos), &p->consts[p->nconsts]);
    return p->nconsts++;
}

static void gen(comp *c, const op_expr *e, int dst, op_type want);

/* A cast of slot src (type from) into dst: an external function, the
 * inline fast path, or the type library. */
static void
emit_cast(comp *c, op_type from, eng_type to, op_cast_fn fn, int src, int dst)
{
    op_x_insn *in = emit(c, X_CALL, dst);
    op_x_fn fast = to.typmod < 0 ? op_x_cast_impl(from, (op_type)to.id) : NULL;
    in->fn = fn ? op_x_cast_ext : fast ? fast : op_x_cast_lib;
    in->castfn = fn;
    in->cfrom = from;
    in->ctype = to;
    in->strict = 1;
    in->aux8 = (uint8_t)to.id;
    in->rtype = (op_type)to.id;
    in->arg = src;
    in->nargs = 1;
}

static void
gen_call(comp *c, const op_expr *e, int dst)
{
    int base = new_slots(c, e->nargs);
    for (int i = 0; i < e->nargs; i++)
        gen(c, e->args[i], base + i, e->argwant ? e->argwant[i] : OP_T_UNKNOWN);
    op_x_insn *in = emit(c, X_CALL, dst);
    in->fn = e->impl_fn;
    in->strict = e->impl_strict;
    in->aux8 = e->impl_aux8;
    in->flags = e->impl_flags;
    in->rtype = e->rtype;
    in->arg = base;
    in->nargs = (uint16_t)e->nargs;
    in->extfn = e->extfn;
    in->mask = e->impl_mask;
}

static void
gen_logic(comp *c, const op_expr *e, int dst)
{
    bool is_and = e->fn == OP_AND;
    op_x_insn *in = emit(c, X_SETBOOL, dst);
    in->aux8 = is_and ? ENG_TAG_TRUE : ENG_TAG_FALSE;
    int first = c->p->ncode;
    for (int i = 0; i < e->nargs; i++) {
        int s = new_slots(c, 1);
        gen(c, e->args[i], s, OP_T_BOOL);
        in = emit(c, is_and ? X_AND : X_OR, dst);
        in->arg = s;
    }
    for (int i = first; i < c->p->ncode; i++)
        if (c->p->code[i].op == (is_and ? X_AND : X_OR) && c->p->code[i].dst == dst)
            c->p->code[i].aux = c->p->ncode;
}

static void
gen_coalesce(comp *c, const op_expr *e, int dst)
{
    int *jumps = malloc((size_t)e->nargs * sizeof *jumps);
    ENG_ASSERT(jumps != NULL);
    for (int i = 0; i < e->nargs; i++) {
        gen(c, e->args[i], dst, e->rtype);
        jumps[i] = c->p->ncode;
        emit(c, X_JNN, 0)->arg = dst;
    }
    for (int i = 0; i < e->nargs; i++)
        c->p->code[jumps[i]].aux = c->p->ncode;
    free(jumps);
}

static void
gen_case(comp *c, const op_expr *e, int dst)
{
    int k = 0, n = (e->nargs - (e->has_operand ? 1 : 0) - (e->has_else ? 1 : 0)) / 2;
    int opslot = -1;
    if (e->has_operand) {
        opslot = new_slots(c, 1);
        gen(c, e->args[k++], opslot, OP_T_UNKNOWN);
    }
    int *ends = malloc((size_t)(n > 0 ? n : 1) * sizeof *ends);
    ENG_ASSERT(ends != NULL);
    for (int i = 0; i < n; i++, k += 2) {
        int cond;
        if (e->has_operand) {
            /* operand = when_i, each side coerced as the = resolves */
            op_type ca = OP_T_UNKNOWN, cb = OP_T_UNKNOWN;
            bool bp = false;
            op_type opt = e->args[0]->rtype;
            int rc = op_x_comparable(opt, e->args[k]->rtype, "=", &ca, &cb, &bp, NULL);
            ENG_ASSERT(rc == 0); /* infer checked it */
            int base = new_slots(c, 2);
            if (ca != OP_T_UNKNOWN && ca != opt && opt != OP_T_UNKNOWN)
                emit_cast(c, opt, op_type_full(ca), NULL, opslot, base);
            else
                emit(c, X_COPY, base)->arg = opslot;
            gen(c, e->args[k], base + 1, cb);
            cond = new_slots(c, 1);
            op_x_insn *in = emit(c, X_CALL, cond);
            in->fn = op_x_compare;
            in->strict = 1;
            in->aux8 = OP_X_EQ;
            in->flags = bp ? OP_X_F_BPCHAR : 0;
            in->rtype = OP_T_BOOL;
            in->arg = base;
            in->nargs = 2;
        } else {
            cond = new_slots(c, 1);
            gen(c, e->args[k], cond, OP_T_BOOL);
        }
        int jnt = c->p->ncode;
        emit(c, X_JNT, 0)->arg = cond;
        gen(c, e->args[k + 1], dst, e->rtype);
        ends[i] = c->p->ncode;
        emit(c, X_JUMP, 0);
        c->p->code[jnt].aux = c->p->ncode;
    }
    if (e->has_else) {
        gen(c, e->args[k], dst, e->rtype);
    } else {
        uint8_t null_datum = ENG_TAG_NULL;
        emit(c, X_CONST, dst)->aux = add_const(c, &null_datum);
    }
    for (int i = 0; i < n; i++)
        c->p->code[ends[i]].aux = c->p->ncode;
    free(ends);
}

static void
gen_node(comp *c, const op_expr *e, int dst)
{
    switch (e->kind) {
    case E_COL: {
        op_x_insn *in = emit(c, X_COL, dst);
        in->aux = e->col;
        in->rtype = e->rtype;
        if (e->col > c->p->max_col)
            c->p->max_col = e->col;
        return;
    }
    case E_LIT:
        emit(c, X_CONST, dst)->aux = add_const(c, e->lit);
        return;
    case E_CAST: {
        op_type from = e->args[0]->rtype;
        if (e->castfn == NULL &&
            (from == OP_T_UNKNOWN || (from == e->rtype && e->casttype.typmod < 0))) {
            gen(c, e->args[0], dst, OP_T_UNKNOWN);
            return;
        }
        int s = new_slots(c, 1);
        gen(c, e->args[0], s, OP_T_UNKNOWN);
        emit_cast(c, from, e->casttype, e->castfn, s, dst);
        return;
    }
    case E_CASE:
        gen_case(c, e, dst);
        return;
    case E_EXT:
        gen_call(c, e, dst);
        return;
    case E_CALL:
        if (e->fn == OP_AND || e->fn == OP_OR)
            gen_logic(c, e, dst);
        else if (e->fn == OP_COALESCE)
            gen_coalesce(c, e, dst);
        else
            gen_call(c, e, dst);
        return;
    }
}

/* Emits e into dst, coerced to `want` (OP_T_UNKNOWN: as is). */
static void
gen(comp *c, const op_expr *e, int dst, op_type want)
{
    if (want == OP_T_UNKNOWN || e->rtype == OP_T_UNKNOWN || e->rtype == want) {
        gen_node(c, e, dst);
        return;
    }
    int s = new_slots(c, 1);
    gen_node(c, e, s);
    emit_cast(c, e->rtype, op_type_full(want), NULL, s, dst);
}

int
op_expr_compile(op_expr *e, int ncols, const op_type *types, op_prog **out, eng_err *err)
{
    *out = NULL;
    op_prog *p = calloc(1, sizeof *p);
    ENG_ASSERT(p != NULL);
    p->max_col = -1;
    comp c = {.p = p, .ncols = ncols, .types = types, .err = err};
    if (infer(&c, e)) {
        op_prog_free(p);
        return -1;
    }
    p->result = new_slots(&c, 1);
    gen(&c, e, p->result, OP_T_UNKNOWN);
    p->type = e->rtype;
    for (int i = 0; i < p->ncode; i++)
        p->code[i].rtag = op_x_tag_of(p->code[i].rtype);
    *out = p;
    return 0;
}

op_type
op_prog_type(const op_prog *p)
{
    return p->type;
}

int
op_prog_max_col(const op_prog *p)
{
    return p->max_col;
}

void
op_prog_free(op_prog *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->nconstmem; i++)
        free(p->constmem[i]);
    free(p->constmem);
    free(p->consts);
    free(p->code);
    free(p);
}

/* ------------------------------------------------------------------ values */

void
op_x_decode(eng_datum d, op_val *v)
{
    v->tag = d.tag;
    v->len = 0;
    v->u.i = 0;
    switch (d.tag) {
    case ENG_TAG_NULL:
    case ENG_TAG_TRUE:
    case ENG_TAG_FALSE:
        return;
    case ENG_TAG_INT2:
    case ENG_TAG_INT4:
    case ENG_TAG_INT8:
        v->u.i = op_datum_int(d);
        return;
    case ENG_TAG_FLOAT4:
    case ENG_TAG_FLOAT8:
        v->u.f = op_datum_float(d);
        return;
    default:
        v->len = d.len;
        v->u.p = d.ptr;
        return;
    }
}

eng_datum
op_x_datum(const op_val *v, uint8_t buf[8])
{
    eng_datum d = {.tag = v->tag, .len = v->len, .ptr = v->u.p};
    switch (v->tag) {
    case ENG_TAG_NULL:
    case ENG_TAG_TRUE:
    case ENG_TAG_FALSE:
        d.len = 0;
        d.ptr = buf;
        break;
    case ENG_TAG_INT2: {
        int16_t x = (int16_t)v->u.i;
        memcpy(buf, &x, 2);
        d.len = 2;
        d.ptr = buf;
        break;
    }
    case ENG_TAG_INT4: {
        int32_t x = (int32_t)v->u.i;
        memcpy(buf, &x, 4);
        d.len = 4;
        d.ptr = buf;
        break;
    }
    case ENG_TAG_INT8:
        memcpy(buf, &v->u.i, 8);
        d.len = 8;
        d.ptr = buf;
        break;
    case ENG_TAG_FLOAT4: {
        float x = (float)v->u.f;
        memcpy(buf, &x, 4);
        d.len = 4;
        d.ptr = buf;
        break;
    }
    case ENG_TAG_FLOAT8:
        memcpy(buf, &v->u.f, 8);
        d.len = 8;
        d.ptr = buf;
        break;
    default:
        break;
    }
    return d;
}

void
op_val_push(const op_val *v, eng_rowbuf *out)
{
    switch (v->tag) {
    case ENG_TAG_NULL:
        eng_push_null(out);
        return;
    case ENG_TAG_TRUE:
    case ENG_TAG_FALSE:
        eng_push_bool(out, v->tag == ENG_TAG_TRUE);
        return;
    case ENG_TAG_INT2:
        eng_push_int2(out, (int16_t)v->u.i);
        return;
    case ENG_TAG_INT4:
        eng_push_int4(out, (int32_t)v->u.i);
        return;
    case ENG_TAG_INT8:
        eng_push_int8(out, v->u.i);
        return;
    case ENG_TAG_FLOAT4:
        eng_push_float4(out, (float)v->u.f);
        return;
    case ENG_TAG_FLOAT8:
        eng_push_float8(out, v->u.f);
        return;
    default: {
        int fs = eng_tag_fixed_size(v->tag);
        if (fs >= 0)
            eng_push_fixed(out, v->tag, v->u.p, (uint32_t)fs);
        else
            eng_push_var(out, v->tag, v->u.p, v->len);
        return;
    }
    }
}

/* ------------------------------------------------------------------ scratch arena */

#define BLK_SIZE ((size_t)64 * 1024)

struct op_x_blk {
    op_x_blk *next;
    size_t cap, used;
    uint8_t data[];
};

uint8_t *
op_x_alloc(op_eval *ev, size_t n, eng_err *err)
{
    if (n > OP_X_MAX_ALLOC) {
        eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED, "requested length too large");
        return NULL;
    }
    n = (n + 7) & ~(size_t)7; /* keep every allocation 8-byte aligned */
    op_x_blk *b = ev->blk;
    if (b && b->cap - b->used >= n) {
        uint8_t *p = b->data + b->used;
        b->used += n;
        return p;
    }
    if (n <= BLK_SIZE && ev->spare) {
        b = ev->spare;
        ev->spare = b->next;
    } else {
        size_t cap = n > BLK_SIZE ? n : BLK_SIZE;
        b = malloc(sizeof *b + cap);
        if (b == NULL) {
            eng_err_set(err, ENG_ERRCODE_OUT_OF_MEMORY, "out of memory");
            return NULL;
        }
        b->cap = cap;
    }
    b->used = n;
    b->next = ev->blk;
    ev->blk = b;
    return b->data;
}

static void
free_blocks(op_x_blk *b)
{
    while (b) {
        op_x_blk *next = b->next;
        free(b);
        b = next;
    }
}

static void
arena_reset(op_eval *ev)
{
    op_x_blk *b = ev->blk;
    if (b == NULL)
        return;
    /* The common case: the row used (part of) one standard block, which
     * stays current. */
    if (b->next == NULL && b->cap == BLK_SIZE) {
        b->used = 0;
        return;
    }
    /* Keep at most a few standard blocks; oversized ones go back to malloc. */
    int kept = 0;
    for (op_x_blk *s = ev->spare; s; s = s->next)
        kept++;
    while (ev->blk) {
        b = ev->blk;
        ev->blk = b->next;
        if (b->cap == BLK_SIZE && kept < 4) {
            b->used = 0;
            b->next = ev->spare;
            ev->spare = b;
            kept++;
        } else {
            free(b);
        }
    }
}

/* ------------------------------------------------------------------ evaluation */

op_eval *
op_eval_new(void)
{
    op_eval *ev = calloc(1, sizeof *ev);
    ENG_ASSERT(ev != NULL);
    return ev;
}

void
op_eval_free(op_eval *ev)
{
    if (ev == NULL)
        return;
    free_blocks(ev->blk);
    free_blocks(ev->spare);
    free(ev->slots);
    free(ev->cols);
    free(ev->off);
    eng_rowbuf_free(&ev->tmp);
    op_x_regex_free(ev->regex);
    free(ev);
}

static void
grow_cols(op_eval *ev)
{
    ev->capcols = ev->capcols ? 2 * ev->capcols : 16;
    ev->cols = realloc(ev->cols, (size_t)ev->capcols * sizeof *ev->cols);
    ev->off = realloc(ev->off, ((size_t)ev->capcols + 1) * sizeof *ev->off);
    ENG_ASSERT(ev->cols != NULL && ev->off != NULL);
}

void
op_eval_begin(op_eval *ev, eng_row r)
{
    arena_reset(ev);
    ev->row = r;
    int n = 0;
    uint32_t pos = 0;
    while (pos < r.len) {
        if (n == ev->capcols)
            grow_cols(ev);
        ev->off[n] = pos;
        op_x_decode(eng_row_next(r, &pos), &ev->cols[n]);
        n++;
    }
    if (n == ev->capcols)
        grow_cols(ev);
    ev->off[n] = r.len;
    ev->nin = ev->ncols = n;
}

void
op_eval_add_col(op_eval *ev, const op_val *v)
{
    if (ev->ncols == ev->capcols)
        grow_cols(ev);
    ev->cols[ev->ncols++] = *v;
}

int
op_eval_ncols(const op_eval *ev)
{
    return ev->ncols;
}

void
op_eval_push_col(const op_eval *ev, int col, eng_rowbuf *out)
{
    ENG_ASSERT(col >= 0 && col < ev->ncols);
    if (col < ev->nin) {
        uint32_t n = ev->off[col + 1] - ev->off[col];
        eng_rowbuf_append(out, ev->row.data + ev->off[col], (uint32_t)(n));
    } else {
        op_val_push(&ev->cols[col], out);
    }
}

int
op_eval_run(op_eval *ev, const op_prog *p, op_val *res, eng_err *err)
{
    if (ev->nslots < p->nslots) {
        free(ev->slots);
        ev->slots = malloc((size_t)p->nslots * sizeof *ev->slots);
        ENG_ASSERT(ev->slots != NULL);
        ev->nslots = p->nslots;
    }
    op_val *s = ev->slots;
    const op_x_insn *code = p->code;
    int pc = 0, n = p->ncode;
    while (pc < n) {
        const op_x_insn *in = &code[pc++];
        switch (in->op) {
        case X_COL: {
            if (in->aux >= ev->ncols)
                return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR,
                                   "row has %d columns, expression reads column %d", ev->ncols,
                                   in->aux);
            const op_val *v = &ev->cols[in->aux];
            if (v->tag != ENG_TAG_NULL && !op_x_tag_fits(in->rtype, v->tag))
                return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR,
                                   "column %d holds a value of tag %d, not of type %s", in->aux,
                                   v->tag, op_type_name(in->rtype));
            s[in->dst] = *v;
            break;
        }
        case X_CONST:
            s[in->dst] = p->consts[in->aux];
            break;
        case X_CALL: {
            const op_val *a = s + in->arg;
            if (in->strict) {
                int i = 0;
                while (i < in->nargs && a[i].tag != ENG_TAG_NULL)
                    i++;
                if (i < in->nargs) {
                    op_x_null(&s[in->dst]);
                    break;
                }
            }
            if (in->fn(ev, in, a, &s[in->dst], err))
                return -1;
            break;
        }
        case X_JUMP:
            pc = in->aux;
            break;
        case X_JNT:
            if (s[in->arg].tag != ENG_TAG_TRUE)
                pc = in->aux;
            break;
        case X_JNN:
            if (s[in->arg].tag != ENG_TAG_NULL)
                pc = in->aux;
            break;
        case X_AND:
            if (s[in->arg].tag == ENG_TAG_FALSE) {
                op_x_bool(&s[in->dst], false);
                pc = in->aux;
            } else if (s[in->arg].tag == ENG_TAG_NULL) {
                op_x_null(&s[in->dst]);
            }
            break;
        case X_OR:
            if (s[in->arg].tag == ENG_TAG_TRUE) {
                op_x_bool(&s[in->dst], true);
                pc = in->aux;
            } else if (s[in->arg].tag == ENG_TAG_NULL) {
                op_x_null(&s[in->dst]);
            }
            break;
        case X_SETBOOL:
            op_x_bool(&s[in->dst], in->aux8 == ENG_TAG_TRUE);
            break;
        case X_COPY:
            s[in->dst] = s[in->arg];
            break;
        default:
            ENG_UNREACHABLE("bad instruction");
        }
    }
    *res = s[p->result];
    return 0;
}

int
op_eval_datum(op_eval *ev, const op_prog *p, eng_row r, eng_rowbuf *out, eng_err *err)
{
    op_eval_begin(ev, r);
    op_val v;
    if (op_eval_run(ev, p, &v, err))
        return -1;
    op_val_push(&v, out);
    return 0;
}

/* ------------------------------------------------------------------ logic implementations */

static int
x_not(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in, (void)err;
    op_x_bool(r, a[0].tag == ENG_TAG_FALSE);
    return 0;
}

static int
x_is_null(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    op_x_bool(r, (a[0].tag == ENG_TAG_NULL) != (in->aux8 != 0));
    return 0;
}

/* aux8: 0 IS TRUE, 1 IS NOT TRUE, 2 IS FALSE, 3 IS NOT FALSE, 4 IS UNKNOWN,
 * 5 IS NOT UNKNOWN (the op_fn order). */
static int
x_is_bool(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)err;
    static const uint8_t want[3] = {ENG_TAG_TRUE, ENG_TAG_FALSE, ENG_TAG_NULL};
    bool is = a[0].tag == want[in->aux8 / 2];
    op_x_bool(r, (in->aux8 & 1) ? !is : is);
    return 0;
}

int
op_x_take_tmp(op_eval *ev, op_type t, op_val *r, eng_err *err)
{
    if (ev->tmp.len == 0 || eng_datum_size_at(ev->tmp.data) != ev->tmp.len)
        return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR,
                           "external function did not return exactly one datum");
    uint8_t *copy = op_x_alloc(ev, ev->tmp.len, err);
    if (copy == NULL)
        return -1;
    memcpy(copy, ev->tmp.data, ev->tmp.len);
    uint32_t pos = 0;
    op_x_decode(eng_row_next((eng_row){copy, ev->tmp.len}, &pos), r);
    if (r->tag != ENG_TAG_NULL && !op_x_tag_fits(t, r->tag))
        return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR,
                           "external function returned tag %d, not type %s", r->tag,
                           op_type_name(t));
    return 0;
}

int
op_x_cast_ext(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    uint8_t buf[8];
    eng_rowbuf_reset(&ev->tmp);
    if (in->castfn(op_x_datum(&a[0], buf), &in->ctype, &ev->tmp, err))
        return -1;
    return op_x_take_tmp(ev, in->rtype, r, err);
}

/* External function: arguments as datums, output decoded from a rowbuf and
 * copied into the arena (the rowbuf is reused by the next call). */
static int
x_ext(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    eng_datum dsmall[8], *d = dsmall;
    uint8_t bsmall[8][8], (*bufs)[8] = bsmall;
    if (in->nargs > 8) { /* scratch, not malloc: this runs per row */
        d = (eng_datum *)(void *)op_x_alloc(ev, in->nargs * sizeof *d, err);
        if (d == NULL)
            return -1;
        bufs = (uint8_t(*)[8])op_x_alloc(ev, in->nargs * sizeof *bufs, err);
        if (bufs == NULL)
            return -1;
    }
    for (int i = 0; i < in->nargs; i++)
        d[i] = op_x_datum(&a[i], bufs[i]);
    eng_rowbuf_reset(&ev->tmp);
    if (in->extfn(d, in->nargs, &ev->tmp, err))
        return -1;
    return op_x_take_tmp(ev, in->rtype, r, err);
}
