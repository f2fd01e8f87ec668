/* Binding scalar expressions: libpg_query's expression nodes to eng_sx.
 *
 * Notes: untyped literals ('...', NULL, parameters without a declared
 * type) are ENG_SX_LIT nodes of type UNKNOWN until their context fixes a
 * type (bx_coerce_unknown, in place, so parameter placeholders keep their
 * identity for type inference); whatever is still unknown when a node is
 * typechecked becomes text. Aggregate calls, when the context allows them
 * (ctx->agg), are registered and replaced by a reference to a column past
 * the FROM scope; bind.c lifts those over the GROUP BY output. */
#include "engine/sql/bind_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/core/eng_cast.h"
#include "engine/core/eng_numeric.h"
#include "engine/core/eng_text.h"

/* ------------------------------------------------------------------ json helpers */

const char *
eng_pg_node(const json_t *node, const json_t **body)
{
    if (!json_is_object(node) || json_object_size(node) != 1) {
        if (body)
            *body = NULL;
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v)
    {
        if (body)
            *body = v;
        return key;
    }
    return NULL;
}

const char *
eng_pg_str(const json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *
eng_pg_strnode(const json_t *node)
{
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    if (t == NULL || strcmp(t, "String") != 0)
        return NULL;
    const char *s = eng_pg_str(b, "sval");
    return s ? s : "";
}

int
eng_pg_int(const json_t *body, const char *key, int dflt)
{
    json_t *v = json_object_get(body, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

bool
eng_pg_bool(const json_t *body, const char *key)
{
    return json_is_true(json_object_get(body, key));
}

int
eng_pg_location(const json_t *node)
{
    const json_t *b = NULL;
    if (eng_pg_node(node, &b) == NULL || b == NULL)
        return -1;
    return eng_pg_int(b, "location", -1);
}

int
bx_error_at(bctx *c, const json_t *node, const char *sqlstate, const char *fmt, ...)
{
    char msg[ENG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (eng_err_isset(c->err))
        return -1;
    eng_err_set(c->err, sqlstate, "%s", msg);
    int loc = node ? eng_pg_location(node) : -1;
    if (loc >= 0)
        c->err->position = loc + 1;
    return -1;
}

/* ------------------------------------------------------------------ types */

static int
num_rank(eng_typeid t)
{
    switch (t) {
    case ENG_TYPE_INT2:
        return 1;
    case ENG_TYPE_INT4:
        return 2;
    case ENG_TYPE_INT8:
        return 3;
    case ENG_TYPE_NUMERIC:
        return 4;
    case ENG_TYPE_FLOAT4:
        return 5;
    case ENG_TYPE_FLOAT8:
        return 6;
    default:
        return 0;
    }
}

static bool
is_str(eng_typeid t)
{
    return t == ENG_TYPE_TEXT || t == ENG_TYPE_VARCHAR || t == ENG_TYPE_BPCHAR ||
           t == ENG_TYPE_OTHER;
}

int
bx_common_type(bctx *c, eng_type a, eng_type b, const char *what, eng_type *out)
{
    if (a.id == ENG_TYPE_UNKNOWN) {
        *out = b.id == ENG_TYPE_UNKNOWN ? eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE) : b;
        return 0;
    }
    if (b.id == ENG_TYPE_UNKNOWN || (a.id == b.id && a.typmod == b.typmod)) {
        *out = a;
        return 0;
    }
    if (a.id == b.id) {
        *out = eng_type_make(a.id, ENG_TYPMOD_NONE);
        return 0;
    }
    int ra = num_rank(a.id), rb = num_rank(b.id);
    if (ra && rb) {
        *out = eng_type_make(ra > rb ? a.id : b.id, ENG_TYPMOD_NONE);
        return 0;
    }
    if (is_str(a.id) && is_str(b.id)) {
        *out = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
        return 0;
    }
    if ((a.id == ENG_TYPE_TIMESTAMP && b.id == ENG_TYPE_TIMESTAMPTZ) ||
        (a.id == ENG_TYPE_TIMESTAMPTZ && b.id == ENG_TYPE_TIMESTAMP)) {
        *out = eng_type_make(ENG_TYPE_TIMESTAMPTZ, ENG_TYPMOD_NONE);
        return 0;
    }
    if ((a.id == ENG_TYPE_DATE && (b.id == ENG_TYPE_TIMESTAMP || b.id == ENG_TYPE_TIMESTAMPTZ)) ||
        (b.id == ENG_TYPE_DATE && (a.id == ENG_TYPE_TIMESTAMP || a.id == ENG_TYPE_TIMESTAMPTZ))) {
        *out = a.id == ENG_TYPE_DATE ? b : a;
        out->typmod = ENG_TYPMOD_NONE;
        return 0;
    }
    if ((a.id == ENG_TYPE_JSON || a.id == ENG_TYPE_JSONB) && a.id == b.id) {
        *out = a;
        return 0;
    }
    eng_strbuf sa = {0}, sb = {0};
    eng_type_format(&a, &sa);
    eng_type_format(&b, &sb);
    eng_err_set(c->err, ENG_ERRCODE_DATATYPE_MISMATCH, "%s types %s and %s cannot be matched", what,
                eng_strbuf_cstr(&sa), eng_strbuf_cstr(&sb));
    eng_strbuf_free(&sa);
    eng_strbuf_free(&sb);
    return -1;
}

int
bx_coerce_unknown(bctx *c, eng_sx *e, eng_type to)
{
    if (e->kind != ENG_SX_LIT || e->type.id != ENG_TYPE_UNKNOWN || to.id == ENG_TYPE_UNKNOWN)
        return 0;
    uint32_t pos = 0;
    eng_datum d = eng_row_next(e->lit, &pos);
    if (d.tag == ENG_TAG_NULL) {
        e->type = to;
        return 0;
    }
    eng_rowbuf buf = {0};
    eng_type base = to;
    if (to.id == ENG_TYPE_VARCHAR || to.id == ENG_TYPE_BPCHAR)
        base.typmod = to.typmod; /* a literal must fit, as PostgreSQL checks */
    if (eng_text_parse(&base, (const char *)d.ptr, d.len, &buf, c->err) != 0) {
        eng_rowbuf_free(&buf);
        return -1;
    }
    free(e->litbuf);
    e->litbuf = buf.data;
    e->lit = (eng_row){buf.data, buf.len};
    e->type = to;
    return 0;
}

int
bx_typecheck(bctx *c, const bscope *s, eng_sx *e)
{
    /* Untyped literals left as direct children are text by now. */
    for (int i = 0; i < e->nargs; i++)
        if (e->args[i] != NULL && e->args[i]->kind == ENG_SX_LIT &&
            e->args[i]->type.id == ENG_TYPE_UNKNOWN) {
            uint32_t pos = 0;
            if (eng_row_next(e->args[i]->lit, &pos).tag != ENG_TAG_NULL)
                e->args[i]->type = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
        }
    if (c->agg != NULL && s->n == c->agg->nfrom)
        return eng_sx_typecheck(e, c->agg->nfrom + c->agg->n, c->agg->types, c->err);
    if (c->win != NULL && s->n == c->win->nfrom)
        return eng_sx_typecheck(e, c->win->nfrom + c->win->n, c->win->types, c->err);
    eng_type stack[64];
    eng_type *types = s->n <= 64 ? stack : malloc((size_t)s->n * sizeof *types);
    ENG_ASSERT(types != NULL);
    for (int i = 0; i < s->n; i++)
        types[i] = s->cols[i].type;
    int rc = eng_sx_typecheck(e, s->n, types, c->err);
    if (types != stack)
        free(types);
    return rc;
}

/* The statement's time as a literal: 'z' timestamptz, 's' timestamp
 * (UTC), 'd' date. */
static eng_sx *
now_lit(int64_t us, char kind)
{
    eng_rowbuf buf = {0};
    eng_type t;
    if (kind == 'd') {
        int64_t days = us / 86400000000LL - (us % 86400000000LL < 0);
        int32_t d = (int32_t)days;
        eng_push_fixed(&buf, ENG_TAG_DATE, &d, 4);
        t = eng_type_make(ENG_TYPE_DATE, ENG_TYPMOD_NONE);
    } else {
        eng_push_fixed(&buf, kind == 'z' ? ENG_TAG_TIMESTAMPTZ : ENG_TAG_TIMESTAMP, &us, 8);
        t = eng_type_make(kind == 'z' ? ENG_TYPE_TIMESTAMPTZ : ENG_TYPE_TIMESTAMP, ENG_TYPMOD_NONE);
    }
    eng_sx *e = eng_sx_lit(eng_rowbuf_row(&buf), t);
    eng_rowbuf_free(&buf);
    return e;
}

eng_sx *
bx_cast_to(bctx *c, eng_sx *e, eng_type to)
{
    if (e->kind == ENG_SX_LIT && e->type.id == ENG_TYPE_UNKNOWN) {
        if (bx_coerce_unknown(c, e, to) != 0) {
            eng_sx_free(e);
            return NULL;
        }
        return e;
    }
    if (e->type.id == to.id && (to.typmod == ENG_TYPMOD_NONE || e->type.typmod == to.typmod))
        return e;
    eng_sx *r = eng_sx_cast(e, to);
    r->type = to;
    return r;
}

bool
bx_sx_equal(const eng_sx *a, const eng_sx *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    if (a->kind != b->kind || a->nargs != b->nargs || a->type.id != b->type.id)
        return false;
    switch (a->kind) {
    case ENG_SX_COL:
        return a->col == b->col;
    case ENG_SX_LIT:
        return a->lit.len == b->lit.len && memcmp(a->lit.data, b->lit.data, a->lit.len) == 0;
    case ENG_SX_CALL:
        if (a->fn != b->fn)
            return false;
        break;
    case ENG_SX_CAST:
        if (a->cast_to.id != b->cast_to.id || a->cast_to.typmod != b->cast_to.typmod)
            return false;
        break;
    case ENG_SX_CASE:
        if (a->case_operand != b->case_operand || a->case_else != b->case_else)
            return false;
        break;
    case ENG_SX_EXT:
        if (a->ext_fn != b->ext_fn)
            return false;
        break;
    }
    for (int i = 0; i < a->nargs; i++)
        if (!bx_sx_equal(a->args[i], b->args[i]))
            return false;
    return true;
}

/* ------------------------------------------------------------------ names */

static const char *const agg_names[] = {"count",    "sum",     "avg",   "min",       "max",
                                        "bool_and", "bool_or", "every", "string_agg"};

bool
bx_is_agg_name(const char *name)
{
    for (size_t i = 0; i < sizeof agg_names / sizeof agg_names[0]; i++)
        if (strcmp(name, agg_names[i]) == 0)
            return true;
    return false;
}

/* The unqualified function name of a FuncCall body. */
static const char *
func_name(const json_t *body)
{
    json_t *names = json_object_get(body, "funcname");
    size_t n = json_array_size(names);
    if (n == 0)
        return "";
    const char *s = eng_pg_strnode(json_array_get(names, n - 1));
    return s ? s : "";
}

bool
bx_has_agg(const json_t *node)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach((json_t *)node, i, v) if (bx_has_agg(v)) return true;
        return false;
    }
    if (!json_is_object(node))
        return false;
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    if (t != NULL && strcmp(t, "FuncCall") == 0 && json_object_get(b, "over") == NULL &&
        bx_is_agg_name(func_name(b)))
        return true;
    if (t != NULL && (strcmp(t, "SubLink") == 0 || strcmp(t, "SelectStmt") == 0))
        return false; /* a subquery's aggregates are its own */
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v) if (bx_has_agg(v)) return true;
    return false;
}

const char *
bx_colname(const json_t *node)
{
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    if (t == NULL)
        return "?column?";
    if (strcmp(t, "ColumnRef") == 0) {
        json_t *f = json_object_get(b, "fields");
        const char *s = eng_pg_strnode(json_array_get(f, json_array_size(f) - 1));
        return s ? s : "?column?";
    }
    if (strcmp(t, "FuncCall") == 0) {
        const char *n = func_name(b);
        if (strcmp(n, "btrim") == 0 &&
            strcmp(eng_pg_str(b, "funcformat") ?: "", "COERCE_SQL_SYNTAX") == 0)
            return "btrim";
        return n;
    }
    if (strcmp(t, "TypeCast") == 0) {
        const char *inner = bx_colname(json_object_get(b, "arg"));
        if (strcmp(inner, "?column?") != 0)
            return inner;
        json_t *tn = json_object_get(b, "typeName");
        const json_t *tb = json_object_get(tn, "names");
        const char *s = eng_pg_strnode(json_array_get(tb, json_array_size(tb) - 1));
        return s ? s : "?column?";
    }
    if (strcmp(t, "CaseExpr") == 0)
        return "case";
    if (strcmp(t, "CoalesceExpr") == 0)
        return "coalesce";
    if (strcmp(t, "MinMaxExpr") == 0)
        return strcmp(eng_pg_str(b, "op") ?: "", "IS_GREATEST") == 0 ? "greatest" : "least";
    if (strcmp(t, "A_Expr") == 0 && strcmp(eng_pg_str(b, "kind") ?: "", "AEXPR_NULLIF") == 0)
        return "nullif";
    if (strcmp(t, "SubLink") == 0) {
        const char *k = eng_pg_str(b, "subLinkType");
        if (k && strcmp(k, "EXISTS_SUBLINK") == 0)
            return "exists";
        if (k && strcmp(k, "EXPR_SUBLINK") == 0) {
            const json_t *sb = NULL;
            eng_pg_node(json_object_get(b, "subselect"), &sb);
            json_t *tl = json_object_get(sb, "targetList");
            if (json_array_size(tl) == 1) {
                const json_t *rb = NULL;
                eng_pg_node(json_array_get(tl, 0), &rb);
                const char *nm = eng_pg_str(rb, "name");
                return nm ? nm : bx_colname(json_object_get(rb, "val"));
            }
        }
    }
    return "?column?";
}

/* ------------------------------------------------------------------ column references */

static eng_sx *
bind_colref(bctx *c, const bscope *s, const json_t *node, const json_t *b)
{
    json_t *fields = json_object_get(b, "fields");
    size_t nf = json_array_size(fields);
    const char *rel = NULL, *name = NULL;
    for (size_t i = 0; i < nf; i++) {
        const json_t *fb = NULL;
        const char *ft = eng_pg_node(json_array_get(fields, i), &fb);
        if (ft != NULL && strcmp(ft, "A_Star") == 0) {
            bx_error_at(c, node, ENG_ERRCODE_SYNTAX_ERROR, "\"*\" is not allowed in this position");
            return NULL;
        }
    }
    if (nf == 1) {
        name = eng_pg_strnode(json_array_get(fields, 0));
    } else if (nf == 2 || nf == 3) {
        rel = eng_pg_strnode(json_array_get(fields, nf - 2));
        name = eng_pg_strnode(json_array_get(fields, nf - 1));
    } else {
        bx_error_at(c, node, ENG_ERRCODE_SYNTAX_ERROR,
                    "improper qualified name (too many dotted names)");
        return NULL;
    }
    if (name == NULL)
        return NULL;
    int found = -1;
    bool rel_seen = false;
    for (int i = 0; i < s->n; i++) {
        const bcol *col = &s->cols[i];
        if (rel != NULL) {
            if (col->rel == NULL || strcmp(col->rel, rel) != 0)
                continue;
            rel_seen = true;
        } else if (col->hidden) {
            continue;
        }
        if (col->name == NULL || strcmp(col->name, name) != 0)
            continue;
        if (found >= 0) {
            bx_error_at(c, node, ENG_ERRCODE_AMBIGUOUS_COLUMN,
                        "column reference \"%s\" is ambiguous", name);
            return NULL;
        }
        found = i;
    }
    if (found < 0) {
        if (rel != NULL && !rel_seen)
            bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_TABLE,
                        "missing FROM-clause entry for table \"%s\"", rel);
        else if (rel != NULL)
            bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_COLUMN, "column %s.%s does not exist", rel,
                        name);
        else
            bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_COLUMN, "column \"%s\" does not exist",
                        name);
        return NULL;
    }
    return eng_sx_col(found, s->cols[found].type);
}

/* ------------------------------------------------------------------ constants */

static eng_sx *
bind_const(bctx *c, const json_t *node, const json_t *b)
{
    eng_rowbuf buf = {0};
    eng_sx *e = NULL;
    json_t *v;
    if (eng_pg_bool(b, "isnull")) {
        e = eng_sx_null(eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE));
    } else if ((v = json_object_get(b, "ival")) != NULL) {
        json_t *iv = json_object_get(v, "ival");
        int64_t x = json_is_integer(iv) ? json_integer_value(iv) : 0;
        eng_push_int4(&buf, (int32_t)x);
        e = eng_sx_lit(eng_rowbuf_row(&buf), eng_type_make(ENG_TYPE_INT4, ENG_TYPMOD_NONE));
    } else if ((v = json_object_get(b, "fval")) != NULL) {
        const char *s = eng_pg_str(v, "fval");
        if (s == NULL)
            s = "0";
        int64_t x;
        eng_err tmp;
        eng_err_clear(&tmp);
        bool is_int = strpbrk(s, ".eE") == NULL;
        if (is_int && eng_int_parse(s, strlen(s), 64, &x, &tmp) == 0) {
            eng_push_int8(&buf, x);
            e = eng_sx_lit(eng_rowbuf_row(&buf), eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE));
        } else {
            eng_type nt = eng_type_make(ENG_TYPE_NUMERIC, ENG_TYPMOD_NONE);
            if (eng_text_parse(&nt, s, strlen(s), &buf, c->err) != 0) {
                eng_rowbuf_free(&buf);
                return NULL;
            }
            e = eng_sx_lit(eng_rowbuf_row(&buf), nt);
        }
    } else if ((v = json_object_get(b, "sval")) != NULL) {
        const char *s = eng_pg_str(v, "sval");
        if (s == NULL)
            s = "";
        eng_push_text(&buf, s, (uint32_t)strlen(s));
        e = eng_sx_lit(eng_rowbuf_row(&buf), eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE));
    } else if ((v = json_object_get(b, "boolval")) != NULL) {
        e = eng_sx_bool(eng_pg_bool(v, "boolval"));
    } else {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "bit string literals are not supported");
        return NULL;
    }
    eng_rowbuf_free(&buf);
    return e;
}

static eng_sx *
bind_param(bctx *c, const json_t *node, const json_t *b)
{
    int n = eng_pg_int(b, "number", 0);
    eng_bind_params *p = c->env->params;
    if (p == NULL || n < 1 || n > p->n) {
        bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_PARAMETER, "there is no parameter $%d", n);
        return NULL;
    }
    eng_type t = p->types[n - 1];
    eng_sx *e;
    if (p->values != NULL) {
        e = eng_sx_lit(p->values[n - 1], t);
    } else {
        e = eng_sx_null(t);
        if (c->param_nodes != NULL && c->param_nodes[n - 1] == NULL)
            c->param_nodes[n - 1] = e;
    }
    return e;
}

/* ------------------------------------------------------------------ operators and functions */

typedef struct fn_entry {
    const char *name;
    op_fn fn;
} fn_entry;

static const fn_entry fn_table[] = {
    {"length", OP_LENGTH},
    {"char_length", OP_LENGTH},
    {"character_length", OP_LENGTH},
    {"octet_length", OP_OCTET_LENGTH},
    {"upper", OP_UPPER},
    {"lower", OP_LOWER},
    {"substr", OP_SUBSTR},
    {"substring", OP_SUBSTR},
    {"strpos", OP_STRPOS},
    {"position", OP_STRPOS},
    {"btrim", OP_BTRIM},
    {"ltrim", OP_LTRIM},
    {"rtrim", OP_RTRIM},
    {"replace", OP_REPLACE},
    {"concat", OP_CONCAT},
    {"concat_ws", OP_CONCAT_WS},
    {"starts_with", OP_STARTS_WITH},
    {"left", OP_LEFT},
    {"right", OP_RIGHT},
    {"repeat", OP_REPEAT},
    {"lpad", OP_LPAD},
    {"rpad", OP_RPAD},
    {"split_part", OP_SPLIT_PART},
    {"reverse", OP_REVERSE},
    {"date_trunc", OP_DATE_TRUNC},
    {"extract", OP_EXTRACT},
    {"date_part", OP_DATE_PART},
    {"abs", OP_ABS},
    {"coalesce", OP_COALESCE},
    {"nullif", OP_NULLIF},
    {"greatest", OP_GREATEST},
    {"least", OP_LEAST},
    {"mod", OP_MOD},
    {"power", OP_POW},
    {"pow", OP_POW},
    {"sqrt", OP_SQRT},
    {"cbrt", OP_CBRT},
    {"exp", OP_EXP},
    {"ln", OP_LN},
    {"log10", OP_LOG10},
    {"log", OP_LOG},
    {"floor", OP_FLOOR},
    {"ceil", OP_CEIL},
    {"ceiling", OP_CEIL},
    {"round", OP_ROUND},
    {"trunc", OP_TRUNC},
    {"sign", OP_SIGN},
    {"pi", OP_PI},
    {"degrees", OP_DEGREES},
    {"radians", OP_RADIANS},
    {"sin", OP_SIN},
    {"cos", OP_COS},
    {"tan", OP_TAN},
    {"cot", OP_COT},
    {"asin", OP_ASIN},
    {"acos", OP_ACOS},
    {"atan", OP_ATAN},
    {"atan2", OP_ATAN2},
    {"gcd", OP_GCD},
    {"lcm", OP_LCM},
    {"md5", OP_MD5},
    {"initcap", OP_INITCAP},
    {"translate", OP_TRANSLATE},
    {"ascii", OP_ASCII},
    {"chr", OP_CHR},
    {"to_hex", OP_TO_HEX},
    {"encode", OP_ENCODE},
    {"decode", OP_DECODE},
    {"pg_typeof", OP_PG_TYPEOF},
    {"timezone", OP_TIMEZONE},
    {"make_date", OP_MAKE_DATE},
    {"make_timestamp", OP_MAKE_TIMESTAMP},
    {"jsonb_typeof", OP_JSON_TYPEOF},
    {"json_typeof", OP_JSON_TYPEOF},
    {"jsonb_array_length", OP_JSON_ARRAY_LENGTH},
    {"json_array_length", OP_JSON_ARRAY_LENGTH},
    {"jsonb_build_object", OP_JSONB_BUILD_OBJECT},
    {"jsonb_build_array", OP_JSONB_BUILD_ARRAY},
    {"to_jsonb", OP_TO_JSONB},
    {"jsonb_pretty", OP_JSONB_PRETTY},
    {"jsonb_strip_nulls", OP_JSONB_STRIP_NULLS},
};

static const fn_entry op_table[] = {
    {"+", OP_ADD},
    {"-", OP_SUB},
    {"*", OP_MUL},
    {"/", OP_DIV},
    {"%", OP_MOD},
    {"=", OP_EQ},
    {"<>", OP_NE},
    {"!=", OP_NE},
    {"<", OP_LT},
    {"<=", OP_LE},
    {">", OP_GT},
    {">=", OP_GE},
    {"||", OP_CONCAT_OP},
    {"~~", OP_LIKE},
    {"!~~", OP_NOT_LIKE},
    {"~~*", OP_ILIKE},
    {"!~~*", OP_NOT_ILIKE},
    {"^", OP_POW},
    {"~", OP_REGEX},
    {"!~", OP_NOT_REGEX},
    {"~*", OP_IREGEX},
    {"!~*", OP_NOT_IREGEX},
    {"->", OP_JSON_GET},
    {"->>", OP_JSON_GET_TEXT},
    {"#>", OP_JSON_PATH},
    {"#>>", OP_JSON_PATH_TEXT},
    {"@>", OP_JSON_CONTAINS},
    {"<@", OP_JSON_CONTAINED},
    {"?", OP_JSON_EXISTS},
};

/* Finishes a call node: coerces untyped arguments (to the type of the
 * typed ones for comparisons and arithmetic, text otherwise), then
 * typechecks. Takes ownership of e. */
static eng_sx *
finish_call(bctx *c, const bscope *s, eng_sx *e, const json_t *node, bool unify)
{
    if (unify) {
        eng_type known = eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE);
        for (int i = 0; i < e->nargs; i++) {
            if (e->args[i]->type.id == ENG_TYPE_UNKNOWN)
                continue;
            if (known.id == ENG_TYPE_UNKNOWN) {
                known = e->args[i]->type;
            } else {
                eng_type t;
                eng_err tmp;
                eng_err_clear(&tmp);
                bctx c2 = *c;
                c2.err = &tmp;
                if (bx_common_type(&c2, known, e->args[i]->type, "", &t) == 0)
                    known = t;
            }
        }
        if (known.id != ENG_TYPE_UNKNOWN) {
            /* Date/time arithmetic with an untyped literal: PostgreSQL picks
             * interval for the literal of timestamp +/- '...'. */
            eng_type lt = known;
            if ((e->fn == OP_ADD || e->fn == OP_SUB) &&
                (known.id == ENG_TYPE_DATE || known.id == ENG_TYPE_TIMESTAMP ||
                 known.id == ENG_TYPE_TIMESTAMPTZ || known.id == ENG_TYPE_TIME) &&
                e->nargs == 2 && e->args[1]->type.id == ENG_TYPE_UNKNOWN)
                lt = eng_type_make(ENG_TYPE_INTERVAL, ENG_TYPMOD_NONE);
            lt.typmod = ENG_TYPMOD_NONE;
            for (int i = 0; i < e->nargs; i++)
                if (bx_coerce_unknown(c, e->args[i], lt) != 0) {
                    if (c->err->position == 0 && node)
                        c->err->position = eng_pg_location(node) + 1;
                    eng_sx_free(e);
                    return NULL;
                }
        }
    }
    for (int i = 0; i < e->nargs; i++)
        if (e->args[i] != NULL && e->args[i]->type.id == ENG_TYPE_UNKNOWN)
            bx_coerce_unknown(c, e->args[i], eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE));
    if (bx_typecheck(c, s, e) != 0) {
        if (c->err->position == 0 && node != NULL) {
            int loc = eng_pg_location(node);
            if (loc >= 0)
                c->err->position = loc + 1;
        }
        eng_sx_free(e);
        return NULL;
    }
    return e;
}

static eng_sx *
call_n(bctx *c, const bscope *s, op_fn fn, int n, eng_sx **args, const json_t *node, bool unify)
{
    for (int i = 0; i < n; i++)
        if (args[i] == NULL) {
            for (int j = 0; j < n; j++)
                eng_sx_free(args[j]);
            return NULL;
        }
    return finish_call(c, s, eng_sx_call(fn, n, args), node, unify);
}

static eng_sx *
call2(bctx *c, const bscope *s, op_fn fn, eng_sx *a, eng_sx *b, const json_t *node)
{
    eng_sx *args[2] = {a, b};
    /* || and LIKE take text: an untyped literal is text there, whatever
     * the other side (PostgreSQL's anynonarray || text). */
    bool unify = !(fn == OP_CONCAT_OP || fn == OP_LIKE || fn == OP_NOT_LIKE || fn == OP_ILIKE ||
                   fn == OP_NOT_ILIKE);
    return call_n(c, s, fn, 2, args, node, unify);
}

/* Binds every element of a JSON array. Returns a new array of n nodes or
 * NULL. */
static eng_sx **
bind_list(bctx *c, const bscope *s, const json_t *list, int extra_front, int *n)
{
    int m = (int)json_array_size(list);
    eng_sx **v = calloc((size_t)(m + extra_front + 1), sizeof *v);
    ENG_ASSERT(v != NULL);
    for (int i = 0; i < m; i++) {
        v[extra_front + i] = bx_expr(c, s, json_array_get(list, (size_t)i));
        if (v[extra_front + i] == NULL) {
            for (int j = 0; j < m + extra_front; j++)
                eng_sx_free(v[j]);
            free(v);
            return NULL;
        }
    }
    *n = m + extra_front;
    return v;
}

static eng_sx *
bind_aexpr(bctx *c, const bscope *s, const json_t *node, const json_t *b)
{
    const char *kind = eng_pg_str(b, "kind");
    json_t *names = json_object_get(b, "name");
    const char *opname = eng_pg_strnode(json_array_get(names, json_array_size(names) - 1));
    if (opname == NULL)
        opname = "";
    const json_t *lx = json_object_get(b, "lexpr"), *rx = json_object_get(b, "rexpr");
    if (kind == NULL)
        kind = "AEXPR_OP";

    if (strcmp(kind, "AEXPR_IN") == 0) {
        const json_t *lb = NULL;
        if (strcmp(eng_pg_node(rx, &lb) ?: "", "List") != 0)
            return bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                               "IN over a subquery is not supported here"),
                   NULL;
        int n;
        eng_sx *l = bx_expr(c, s, lx);
        if (l == NULL)
            return NULL;
        eng_sx **v = bind_list(c, s, json_object_get(lb, "items"), 1, &n);
        if (v == NULL) {
            eng_sx_free(l);
            return NULL;
        }
        v[0] = l;
        eng_sx *e = call_n(c, s, strcmp(opname, "<>") == 0 ? OP_NOT_IN : OP_IN, n, v, node, true);
        free(v);
        return e;
    }
    if (strcmp(kind, "AEXPR_BETWEEN") == 0 || strcmp(kind, "AEXPR_NOT_BETWEEN") == 0 ||
        strcmp(kind, "AEXPR_BETWEEN_SYM") == 0 || strcmp(kind, "AEXPR_NOT_BETWEEN_SYM") == 0) {
        const json_t *lb = NULL;
        eng_pg_node(rx, &lb);
        json_t *items = json_object_get(lb, "items");
        bool neg = strstr(kind, "NOT") != NULL, sym = strstr(kind, "SYM") != NULL;
        eng_sx *x = bx_expr(c, s, lx);
        eng_sx *lo = x ? bx_expr(c, s, json_array_get(items, 0)) : NULL;
        eng_sx *hi = lo ? bx_expr(c, s, json_array_get(items, 1)) : NULL;
        if (hi == NULL) {
            eng_sx_free(x);
            eng_sx_free(lo);
            return NULL;
        }
        eng_sx *x2 = eng_sx_copy(x), *lo2 = sym ? eng_sx_copy(lo) : NULL,
               *hi2 = sym ? eng_sx_copy(hi) : NULL, *x3 = sym ? eng_sx_copy(x) : NULL,
               *x4 = sym ? eng_sx_copy(x) : NULL;
        eng_sx *a = call2(c, s, neg ? OP_LT : OP_GE, x, lo, node);
        eng_sx *bb = call2(c, s, neg ? OP_GT : OP_LE, x2, hi, node);
        eng_sx *args[2] = {a, bb};
        eng_sx *e = call_n(c, s, neg ? OP_OR : OP_AND, 2, args, node, false);
        if (sym && e != NULL) {
            eng_sx *a2 = call2(c, s, neg ? OP_LT : OP_GE, x3, hi2, node);
            eng_sx *b2 = call2(c, s, neg ? OP_GT : OP_LE, x4, lo2, node);
            eng_sx *args2[2] = {a2, b2};
            eng_sx *e2 = call_n(c, s, neg ? OP_OR : OP_AND, 2, args2, node, false);
            eng_sx *args3[2] = {e, e2};
            return call_n(c, s, neg ? OP_AND : OP_OR, 2, args3, node, false);
        }
        eng_sx_free(x3);
        eng_sx_free(x4);
        eng_sx_free(lo2);
        eng_sx_free(hi2);
        return e;
    }
    if (strcmp(kind, "AEXPR_OP") != 0 && strcmp(kind, "AEXPR_DISTINCT") != 0 &&
        strcmp(kind, "AEXPR_NOT_DISTINCT") != 0 && strcmp(kind, "AEXPR_NULLIF") != 0 &&
        strcmp(kind, "AEXPR_LIKE") != 0 && strcmp(kind, "AEXPR_ILIKE") != 0) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "operator form %s is not supported",
                    kind + 6);
        return NULL;
    }
    op_fn fn;
    if (strcmp(kind, "AEXPR_DISTINCT") == 0)
        fn = OP_DISTINCT;
    else if (strcmp(kind, "AEXPR_NOT_DISTINCT") == 0)
        fn = OP_NOT_DISTINCT;
    else if (strcmp(kind, "AEXPR_NULLIF") == 0)
        fn = OP_NULLIF;
    else {
        size_t i;
        for (i = 0; i < sizeof op_table / sizeof op_table[0]; i++)
            if (strcmp(op_table[i].name, opname) == 0)
                break;
        if (i == sizeof op_table / sizeof op_table[0]) {
            bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: %s",
                        opname);
            return NULL;
        }
        fn = op_table[i].fn;
    }
    if (lx == NULL) { /* prefix operator */
        eng_sx *a = bx_expr(c, s, rx);
        if (a == NULL)
            return NULL;
        if (fn == OP_SUB) {
            /* Fold -<numeric literal> so -2147483648 stays int4 as in PostgreSQL. */
            eng_sx *args[1] = {a};
            return call_n(c, s, OP_NEG, 1, args, node, false);
        }
        if (fn == OP_ADD)
            return a;
        eng_sx_free(a);
        bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION, "operator does not exist: %s", opname);
        return NULL;
    }
    eng_sx *l = bx_expr(c, s, lx);
    if (l == NULL)
        return NULL;
    /* LIKE ... ESCAPE e arrives as like_escape(pattern, e). */
    const json_t *rb = NULL;
    if ((fn == OP_LIKE || fn == OP_NOT_LIKE || fn == OP_ILIKE || fn == OP_NOT_ILIKE) &&
        strcmp(eng_pg_node(rx, &rb) ?: "", "FuncCall") == 0 &&
        strcmp(func_name(rb), "like_escape") == 0) {
        json_t *fa = json_object_get(rb, "args");
        eng_sx *p = bx_expr(c, s, json_array_get(fa, 0));
        eng_sx *esc = p ? bx_expr(c, s, json_array_get(fa, 1)) : NULL;
        eng_sx *args[3] = {l, p, esc};
        if (esc == NULL) {
            eng_sx_free(l);
            eng_sx_free(p);
            return NULL;
        }
        return call_n(c, s, fn, 3, args, node, false);
    }
    eng_sx *r = bx_expr(c, s, rx);
    if (r == NULL) {
        eng_sx_free(l);
        return NULL;
    }
    /* j -> 'key', j #> '{a,b}', j ? 'key': the untyped right side is text,
     * not the left side's type */
    if (fn == OP_JSON_GET || fn == OP_JSON_GET_TEXT || fn == OP_JSON_PATH ||
        fn == OP_JSON_PATH_TEXT || fn == OP_JSON_EXISTS) {
        eng_sx *args[2] = {l, r};
        return call_n(c, s, fn, 2, args, node, false);
    }
    return call2(c, s, fn, l, r, node);
}

static eng_sx *
bind_typecast(bctx *c, const bscope *s, const json_t *node, const json_t *b)
{
    eng_type t;
    if (eng_bind_typename(json_object_get(b, "typeName"), &t, c->err) != 0) {
        if (c->err->position == 0)
            c->err->position = eng_pg_location(node) + 1;
        return NULL;
    }
    eng_sx *a = bx_expr(c, s, json_object_get(b, "arg"));
    if (a == NULL)
        return NULL;
    if (a->kind == ENG_SX_LIT && a->type.id == ENG_TYPE_UNKNOWN) {
        uint32_t pos = 0;
        bool isnull = eng_row_next(a->lit, &pos).tag == ENG_TAG_NULL;
        if (isnull || t.typmod == ENG_TYPMOD_NONE) {
            if (bx_coerce_unknown(c, a, t) != 0) {
                if (c->err->position == 0)
                    c->err->position = eng_pg_location(node) + 1;
                eng_sx_free(a);
                return NULL;
            }
            return a;
        }
        a->type = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
    }
    eng_sx *e = eng_sx_cast(a, t);
    if (bx_typecheck(c, s, e) != 0) {
        if (c->err->position == 0)
            c->err->position = eng_pg_location(node) + 1;
        eng_sx_free(e);
        return NULL;
    }
    e->type = t;
    return e;
}

/* Registers an aggregate call and returns the reference to its column. */
static eng_sx *
bind_agg(bctx *c, const bscope *s, const json_t *node, const json_t *b, const char *name)
{
    bagg_state *st = c->agg;
    if (st == NULL || s->n != st->nfrom) {
        bx_error_at(c, node, ENG_ERRCODE_GROUPING_ERROR,
                    "aggregate functions are not allowed in %s",
                    c->where ? c->where : "this context");
        return NULL;
    }
    if (st->in_agg) {
        bx_error_at(c, node, ENG_ERRCODE_GROUPING_ERROR,
                    "aggregate function calls cannot be nested");
        return NULL;
    }
    if (json_object_get(b, "agg_order") != NULL && strcmp(name, "string_agg") != 0) {
        /* ORDER BY inside an order-insensitive aggregate changes nothing. */
    }
    bool star = eng_pg_bool(b, "agg_star"), distinct = eng_pg_bool(b, "agg_distinct");
    json_t *args = json_object_get(b, "args");
    int nargs = (int)json_array_size(args);
    const json_t *filter = json_object_get(b, "agg_filter");
    st->in_agg = true;
    eng_sx *arg = NULL, *sep = NULL;
    bagg a = {0};
    a.node = node;
    int rc = -1;
    if (star) {
        a.kind = OP_AGG_COUNT_STAR;
    } else {
        int want = strcmp(name, "string_agg") == 0 ? 2 : 1;
        if (nargs != want) {
            bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION,
                        "function %s with %d arguments does not exist", name, nargs);
            goto done;
        }
        arg = bx_expr(c, s, json_array_get(args, 0));
        if (arg == NULL)
            goto done;
        json_t *ao = json_object_get(b, "agg_order");
        if (want == 2 && ao != NULL) {
            /* string_agg concatenates in value order: ORDER BY the value
             * (ascending) is what it does; anything else is not supported. */
            const json_t *sb = NULL;
            eng_pg_node(json_array_get(ao, 0), &sb);
            const char *dir = eng_pg_str(sb, "sortby_dir");
            eng_sx *oe =
                json_array_size(ao) == 1 ? bx_expr(c, s, json_object_get(sb, "node")) : NULL;
            bool ok = oe != NULL && bx_sx_equal(oe, arg) &&
                      (dir == NULL || strcmp(dir, "SORTBY_ASC") == 0 ||
                       strcmp(dir, "SORTBY_DEFAULT") == 0);
            eng_sx_free(oe);
            if (!ok) {
                if (!eng_err_isset(c->err))
                    bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                                "string_agg supports ORDER BY only on its value, ascending");
                goto done;
            }
        }
        if (want == 2) {
            sep = bx_expr(c, s, json_array_get(args, 1));
            if (sep == NULL)
                goto done;
            if (!eng_sx_is_const(sep) || sep->kind != ENG_SX_LIT) {
                bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                            "string_agg's separator must be a constant");
                goto done;
            }
            uint32_t pos = 0;
            eng_datum d = eng_row_next(sep->lit, &pos);
            a.sep = strndup(d.tag == ENG_TAG_TEXT ? (const char *)d.ptr : "",
                            d.tag == ENG_TAG_TEXT ? d.len : 0);
            if (bx_coerce_unknown(c, arg, eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE)) != 0)
                goto done;
        }
        if (arg->type.id == ENG_TYPE_UNKNOWN)
            bx_coerce_unknown(c, arg, eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE));
        eng_typeid t = arg->type.id;
        bool isint = t == ENG_TYPE_INT2 || t == ENG_TYPE_INT4;
        if (strcmp(name, "count") == 0) {
            a.kind = distinct ? OP_AGG_COUNT_DISTINCT : OP_AGG_COUNT;
            distinct = false;
        } else if (strcmp(name, "sum") == 0) {
            if (isint)
                a.kind = OP_AGG_SUM_INT;
            else if (t == ENG_TYPE_INT8)
                a.kind = OP_AGG_SUM_INT8;
            else if (t == ENG_TYPE_NUMERIC)
                a.kind = OP_AGG_SUM_NUMERIC;
            else if (t == ENG_TYPE_FLOAT4)
                a.kind = OP_AGG_SUM_FLOAT4;
            else if (t == ENG_TYPE_FLOAT8)
                a.kind = OP_AGG_SUM_FLOAT;
            else
                goto nofn;
        } else if (strcmp(name, "avg") == 0) {
            if (isint || t == ENG_TYPE_INT8)
                a.kind = OP_AGG_AVG_INT;
            else if (t == ENG_TYPE_NUMERIC)
                a.kind = OP_AGG_AVG_NUMERIC;
            else if (t == ENG_TYPE_FLOAT4 || t == ENG_TYPE_FLOAT8)
                a.kind = OP_AGG_AVG_FLOAT;
            else
                goto nofn;
        } else if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0) {
            if (t == ENG_TYPE_JSON || t == ENG_TYPE_BOOL)
                goto nofn;
            a.kind = name[1] == 'i' ? OP_AGG_MIN : OP_AGG_MAX;
            distinct = false; /* min(DISTINCT x) = min(x) */
        } else if (strcmp(name, "bool_and") == 0 || strcmp(name, "every") == 0 ||
                   strcmp(name, "bool_or") == 0) {
            if (t != ENG_TYPE_BOOL)
                goto nofn;
            a.kind = strcmp(name, "bool_or") == 0 ? OP_AGG_BOOL_OR : OP_AGG_BOOL_AND;
            distinct = false;
        } else if (strcmp(name, "string_agg") == 0) {
            if (!is_str(t))
                goto nofn;
            a.kind = OP_AGG_STRING_AGG;
        }
        a.distinct = distinct;
    }
    if (filter != NULL) {
        eng_sx *f = bx_bool(c, s, filter, "FILTER");
        if (f == NULL)
            goto done;
        eng_sx *val = arg ? arg : eng_sx_bool(true);
        eng_sx *w[1] = {f}, *th[1] = {val};
        eng_sx *cs = eng_sx_case(NULL, 1, w, th, NULL);
        if (bx_typecheck(c, s, cs) != 0) {
            eng_sx_free(cs);
            arg = NULL;
            goto done;
        }
        arg = cs;
        if (a.kind == OP_AGG_COUNT_STAR)
            a.kind = OP_AGG_COUNT;
    }
    a.arg = arg;
    a.type = eng_agg_type(a.kind, arg ? arg->type : eng_type_make(ENG_TYPE_INT8, ENG_TYPMOD_NONE));
    arg = NULL;
    /* The same aggregate twice is computed once. */
    int k;
    for (k = 0; k < st->n; k++)
        if (st->aggs[k].kind == a.kind && st->aggs[k].distinct == a.distinct &&
            bx_sx_equal(st->aggs[k].arg, a.arg) &&
            ((st->aggs[k].sep == NULL && a.sep == NULL) ||
             (st->aggs[k].sep && a.sep && strcmp(st->aggs[k].sep, a.sep) == 0)))
            break;
    if (k < st->n) {
        eng_sx_free(a.arg);
        free(a.sep);
    } else {
        if (st->n == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 8;
            st->aggs = realloc(st->aggs, (size_t)st->cap * sizeof *st->aggs);
            ENG_ASSERT(st->aggs != NULL);
        }
        st->aggs[st->n++] = a;
        st->types = realloc(st->types, (size_t)(st->nfrom + st->n) * sizeof *st->types);
        ENG_ASSERT(st->types != NULL);
        st->types[st->nfrom + st->n - 1] = a.type;
    }
    a.sep = NULL;
    rc = 0;
    st->in_agg = false;
    eng_sx_free(sep);
    return eng_sx_col(st->nfrom + k, st->aggs[k].type);
nofn:
    bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION, "function %s(%s) does not exist", name,
                op_type_name((op_type)arg->type.id));
done:
    (void)rc;
    st->in_agg = false;
    eng_sx_free(arg);
    eng_sx_free(sep);
    free(a.sep);
    return NULL;
}

static eng_sx *
bind_funccall(bctx *c, const bscope *s, const json_t *node, const json_t *b)
{
    const char *name = func_name(b);
    if (json_object_get(b, "over") != NULL)
        return bq_window_call(c, s, node, b, name);
    if (bx_is_agg_name(name))
        return bind_agg(c, s, node, b, name);
    if (eng_pg_bool(b, "agg_star") || eng_pg_bool(b, "agg_distinct") ||
        json_object_get(b, "agg_filter") != NULL) {
        bx_error_at(c, node, ENG_ERRCODE_WRONG_OBJECT_TYPE, "%s is not an aggregate function",
                    name);
        return NULL;
    }
    if ((strcmp(name, "now") == 0 || strcmp(name, "clock_timestamp") == 0 ||
         strcmp(name, "statement_timestamp") == 0 || strcmp(name, "transaction_timestamp") == 0) &&
        c->env->now_us != 0 && json_array_size(json_object_get(b, "args")) == 0)
        return now_lit(c->env->now_us, 'z');
    if (strcmp(name, "now") == 0 || strcmp(name, "clock_timestamp") == 0 ||
        strcmp(name, "statement_timestamp") == 0 || strcmp(name, "transaction_timestamp") == 0 ||
        strcmp(name, "random") == 0) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "%s() is not supported in views (it is not deterministic)", name);
        return NULL;
    }
    size_t i;
    for (i = 0; i < sizeof fn_table / sizeof fn_table[0]; i++)
        if (strcmp(fn_table[i].name, name) == 0)
            break;
    if (i == sizeof fn_table / sizeof fn_table[0]) {
        bx_error_at(c, node, ENG_ERRCODE_UNDEFINED_FUNCTION, "function %s does not exist", name);
        eng_err_hint(c->err, "No function matches the given name. Sluice's functions are listed "
                             "in docs/sql.md.");
        return NULL;
    }
    op_fn fn = fn_table[i].fn;
    int n;
    eng_sx **v = bind_list(c, s, json_object_get(b, "args"), 0, &n);
    if (v == NULL)
        return NULL;
    /* extract('year', x): the field is text; the other arguments of
     * string functions are text or integers. */
    bool unify = fn == OP_COALESCE || fn == OP_GREATEST || fn == OP_LEAST || fn == OP_NULLIF;
    /* Untyped literals given to json functions are json (jsonb_...: jsonb),
     * encode's first argument bytea, as PostgreSQL's signatures make them. */
    eng_type lt = eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE);
    if (fn == OP_JSON_TYPEOF || fn == OP_JSON_ARRAY_LENGTH || fn == OP_JSONB_PRETTY ||
        fn == OP_JSONB_STRIP_NULLS)
        lt.id = strncmp(name, "jsonb", 5) == 0 ? ENG_TYPE_JSONB : ENG_TYPE_JSON;
    else if (fn == OP_ENCODE)
        lt.id = ENG_TYPE_BYTEA;
    if (lt.id != ENG_TYPE_UNKNOWN && n > 0 && bx_coerce_unknown(c, v[0], lt) != 0) {
        for (int j = 0; j < n; j++)
            eng_sx_free(v[j]);
        free(v);
        return NULL;
    }
    eng_sx *e = call_n(c, s, fn, n, v, node, unify);
    free(v);
    return e;
}

static eng_sx *
bind_case(bctx *c, const bscope *s, const json_t *node, const json_t *b)
{
    const json_t *arg = json_object_get(b, "arg");
    json_t *whens = json_object_get(b, "args");
    const json_t *defr = json_object_get(b, "defresult");
    int n = (int)json_array_size(whens);
    eng_sx *operand = NULL, *els = NULL;
    eng_sx **w = calloc((size_t)n + 1, sizeof *w), **t = calloc((size_t)n + 1, sizeof *t);
    ENG_ASSERT(w && t);
    eng_sx *e = NULL;
    if (arg != NULL && (operand = bx_expr(c, s, arg)) == NULL)
        goto fail;
    for (int i = 0; i < n; i++) {
        const json_t *wb = NULL;
        eng_pg_node(json_array_get(whens, (size_t)i), &wb);
        if (operand != NULL) {
            w[i] = bx_expr(c, s, json_object_get(wb, "expr"));
            if (w[i] == NULL)
                goto fail;
            if (w[i]->type.id == ENG_TYPE_UNKNOWN && bx_coerce_unknown(c, w[i], operand->type) != 0)
                goto fail;
        } else if ((w[i] = bx_bool(c, s, json_object_get(wb, "expr"), "CASE")) == NULL) {
            goto fail;
        }
        if ((t[i] = bx_expr(c, s, json_object_get(wb, "result"))) == NULL)
            goto fail;
    }
    if (defr != NULL && (els = bx_expr(c, s, defr)) == NULL)
        goto fail;
    /* The result type: common type of the branches. */
    eng_type rt = eng_type_make(ENG_TYPE_UNKNOWN, ENG_TYPMOD_NONE);
    for (int i = 0; i <= n; i++) {
        eng_sx *x = i < n ? t[i] : els;
        if (x == NULL)
            continue;
        if (bx_common_type(c, rt, x->type, "CASE", &rt) != 0)
            goto fail;
    }
    if (rt.id == ENG_TYPE_UNKNOWN)
        rt = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
    for (int i = 0; i <= n; i++) {
        eng_sx **x = i < n ? &t[i] : &els;
        if (*x == NULL)
            continue;
        if ((*x = bx_cast_to(c, *x, rt)) == NULL)
            goto fail;
    }
    e = eng_sx_case(operand, n, w, t, els);
    operand = els = NULL;
    free(w);
    free(t);
    if (bx_typecheck(c, s, e) != 0) {
        eng_sx_free(e);
        return NULL;
    }
    e->type = rt;
    return e;
fail:
    for (int i = 0; i < n; i++) {
        eng_sx_free(w[i]);
        eng_sx_free(t[i]);
    }
    free(w);
    free(t);
    eng_sx_free(operand);
    eng_sx_free(els);
    (void)node;
    return NULL;
}

eng_sx *
bx_bool(bctx *c, const bscope *s, const json_t *node, const char *clause)
{
    eng_sx *e = bx_expr(c, s, node);
    if (e == NULL)
        return NULL;
    if (e->type.id == ENG_TYPE_UNKNOWN &&
        bx_coerce_unknown(c, e, eng_type_make(ENG_TYPE_BOOL, ENG_TYPMOD_NONE)) != 0) {
        eng_sx_free(e);
        return NULL;
    }
    if (e->type.id != ENG_TYPE_BOOL) {
        bx_error_at(c, node, ENG_ERRCODE_DATATYPE_MISMATCH,
                    "argument of %s must be type boolean, not type %s", clause,
                    op_type_name((op_type)e->type.id));
        eng_sx_free(e);
        return NULL;
    }
    return e;
}

eng_sx *
bx_expr(bctx *c, const bscope *s, const json_t *node)
{
    const json_t *b = NULL;
    const char *t = eng_pg_node(node, &b);
    if (t == NULL) {
        bx_error_at(c, NULL, ENG_ERRCODE_SYNTAX_ERROR, "malformed expression");
        return NULL;
    }
    if (strcmp(t, "ColumnRef") == 0)
        return bind_colref(c, s, node, b);
    if (strcmp(t, "A_Const") == 0)
        return bind_const(c, node, b);
    if (strcmp(t, "ParamRef") == 0)
        return bind_param(c, node, b);
    if (strcmp(t, "A_Expr") == 0)
        return bind_aexpr(c, s, node, b);
    if (strcmp(t, "TypeCast") == 0)
        return bind_typecast(c, s, node, b);
    if (strcmp(t, "FuncCall") == 0)
        return bind_funccall(c, s, node, b);
    if (strcmp(t, "CaseExpr") == 0)
        return bind_case(c, s, node, b);
    if (strcmp(t, "BoolExpr") == 0) {
        const char *op = eng_pg_str(b, "boolop");
        json_t *args = json_object_get(b, "args");
        int n = (int)json_array_size(args);
        eng_sx **v = calloc((size_t)n + 1, sizeof *v);
        ENG_ASSERT(v != NULL);
        for (int i = 0; i < n; i++) {
            v[i] = bx_bool(c, s, json_array_get(args, (size_t)i),
                           strcmp(op, "AND_EXPR") == 0  ? "AND"
                           : strcmp(op, "OR_EXPR") == 0 ? "OR"
                                                        : "NOT");
            if (v[i] == NULL) {
                for (int j = 0; j < i; j++)
                    eng_sx_free(v[j]);
                free(v);
                return NULL;
            }
        }
        op_fn fn = strcmp(op, "AND_EXPR") == 0  ? OP_AND
                   : strcmp(op, "OR_EXPR") == 0 ? OP_OR
                                                : OP_NOT;
        eng_sx *e = call_n(c, s, fn, n, v, node, false);
        free(v);
        return e;
    }
    if (strcmp(t, "NullTest") == 0) {
        eng_sx *a = bx_expr(c, s, json_object_get(b, "arg"));
        if (a == NULL)
            return NULL;
        bool isnot = strcmp(eng_pg_str(b, "nulltesttype") ?: "", "IS_NOT_NULL") == 0;
        eng_sx *args[1] = {a};
        return call_n(c, s, isnot ? OP_IS_NOT_NULL : OP_IS_NULL, 1, args, node, false);
    }
    if (strcmp(t, "BooleanTest") == 0) {
        eng_sx *a = bx_bool(c, s, json_object_get(b, "arg"), "IS TRUE");
        if (a == NULL)
            return NULL;
        const char *k = eng_pg_str(b, "booltesttype") ?: "";
        op_fn fn = strcmp(k, "IS_TRUE") == 0        ? OP_IS_TRUE
                   : strcmp(k, "IS_NOT_TRUE") == 0  ? OP_IS_NOT_TRUE
                   : strcmp(k, "IS_FALSE") == 0     ? OP_IS_FALSE
                   : strcmp(k, "IS_NOT_FALSE") == 0 ? OP_IS_NOT_FALSE
                   : strcmp(k, "IS_UNKNOWN") == 0   ? OP_IS_UNKNOWN
                                                    : OP_IS_NOT_UNKNOWN;
        eng_sx *args[1] = {a};
        return call_n(c, s, fn, 1, args, node, false);
    }
    if (strcmp(t, "CoalesceExpr") == 0 || strcmp(t, "MinMaxExpr") == 0) {
        int n;
        eng_sx **v = bind_list(c, s, json_object_get(b, "args"), 0, &n);
        if (v == NULL)
            return NULL;
        op_fn fn = t[0] == 'C' ? OP_COALESCE
                   : strcmp(eng_pg_str(b, "op") ?: "", "IS_GREATEST") == 0 ? OP_GREATEST
                                                                           : OP_LEAST;
        eng_sx *e = call_n(c, s, fn, n, v, node, true);
        free(v);
        return e;
    }
    if (strcmp(t, "SQLValueFunction") == 0) {
        const char *op = eng_pg_str(b, "op") ?: "";
        if (c->env->now_us != 0) {
            if (strcmp(op, "SVFOP_CURRENT_TIMESTAMP") == 0)
                return now_lit(c->env->now_us, 'z');
            if (strcmp(op, "SVFOP_LOCALTIMESTAMP") == 0)
                return now_lit(c->env->now_us, 's'); /* TimeZone is UTC */
            if (strcmp(op, "SVFOP_CURRENT_DATE") == 0)
                return now_lit(c->env->now_us, 'd');
        }
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                    "%s is not supported in views (it is not deterministic)",
                    eng_pg_str(b, "op") ? eng_pg_str(b, "op") + 6 : "this function");
        return NULL;
    }
    if (strcmp(t, "SubLink") == 0)
        return bq_sublink_expr(c, s, node, b);
    if (strcmp(t, "A_ArrayExpr") == 0 || strcmp(t, "A_Indirection") == 0) {
        bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "arrays are not supported");
        return NULL;
    }
    bx_error_at(c, node, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "expression %s is not supported", t);
    return NULL;
}

/* ------------------------------------------------------------------ public helpers */

int
eng_bind_typename(const json_t *tn, eng_type *out, eng_err *err)
{
    const json_t *b = tn;
    const json_t *inner = NULL;
    if (eng_pg_node(tn, &inner) != NULL && strcmp(eng_pg_node(tn, NULL), "TypeName") == 0)
        b = inner;
    if (json_object_get(b, "arrayBounds") != NULL)
        return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED, "array types are not supported");
    json_t *names = json_object_get(b, "names");
    size_t nn = json_array_size(names);
    const char *name = nn ? eng_pg_strnode(json_array_get(names, nn - 1)) : NULL;
    if (name == NULL)
        return eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "malformed type name");
    eng_strbuf sb = {0};
    eng_strbuf_puts(&sb, name);
    json_t *mods = json_object_get(b, "typmods");
    if (json_array_size(mods) > 0 && strcmp(name, "interval") != 0) {
        eng_strbuf_putc(&sb, '(');
        for (size_t i = 0; i < json_array_size(mods); i++) {
            const json_t *mb = NULL;
            eng_pg_node(json_array_get(mods, i), &mb);
            json_t *iv = json_object_get(json_object_get(mb, "ival"), "ival");
            eng_strbuf_printf(&sb, "%s%lld", i ? "," : "",
                              (long long)(json_is_integer(iv) ? json_integer_value(iv) : 0));
        }
        eng_strbuf_putc(&sb, ')');
    }
    int rc = eng_type_parse(eng_strbuf_cstr(&sb), sb.len, out, err);
    eng_strbuf_free(&sb);
    return rc;
}

eng_sx *
eng_bind_assign(eng_sx *e, eng_type to, const char *colname, eng_err *err)
{
    bctx c = {0};
    c.err = err;
    if (e->kind == ENG_SX_LIT && e->type.id == ENG_TYPE_UNKNOWN) {
        uint32_t pos = 0;
        bool isnull = eng_row_next(e->lit, &pos).tag == ENG_TAG_NULL;
        eng_type base = to;
        if (!isnull && (to.id == ENG_TYPE_VARCHAR || to.id == ENG_TYPE_BPCHAR))
            base = eng_type_make(ENG_TYPE_TEXT, ENG_TYPMOD_NONE);
        if (bx_coerce_unknown(&c, e, base) != 0) {
            eng_sx_free(e);
            return NULL;
        }
        if (base.id == to.id && base.typmod == to.typmod)
            return e;
    }
    if (e->type.id == to.id && (to.typmod == ENG_TYPMOD_NONE || e->type.typmod == to.typmod))
        return e;
    if (eng_cast_lookup(e->type.id, to.id) < 0 ||
        eng_cast_lookup(e->type.id, to.id) > ENG_CAST_ASSIGNMENT) {
        eng_strbuf a = {0}, b = {0};
        eng_type_format(&to, &a);
        eng_type_format(&e->type, &b);
        eng_err_set(err, ENG_ERRCODE_DATATYPE_MISMATCH,
                    "column \"%s\" is of type %s but expression is of type %s", colname,
                    eng_strbuf_cstr(&a), eng_strbuf_cstr(&b));
        eng_err_hint(err, "You will need to rewrite or cast the expression.");
        eng_strbuf_free(&a);
        eng_strbuf_free(&b);
        eng_sx_free(e);
        return NULL;
    }
    eng_sx *r = eng_sx_cast(e, to);
    r->type = to;
    return r;
}

int
eng_bind_fold(const eng_sx *e, eng_rowbuf *out, eng_err *err)
{
    if (e->kind == ENG_SX_LIT) {
        eng_push_row(out, e->lit);
        return 0;
    }
    op_expr *x = eng_sx_lower(e);
    op_prog *p = NULL;
    int rc = op_expr_compile(x, 0, NULL, &p, err);
    op_expr_free(x);
    if (rc != 0)
        return -1;
    op_eval *ev = op_eval_new();
    eng_row empty = {(const uint8_t *)"", 0};
    rc = op_eval_datum(ev, p, empty, out, err);
    op_eval_free(ev);
    op_prog_free(p);
    return rc;
}
