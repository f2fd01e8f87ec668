/* Test helper: S-expressions -> op_expr trees + PostgreSQL SQL. */
#include "tests/operators/t_sexpr.h"

#include "engine/core/eng_text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct P {
    const char *s;
    char *sql;
    size_t len, cap;
    char err[200];
} P;

static void
emit(P *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p->sql + p->len, p->len < p->cap ? p->cap - p->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        p->len += (size_t)n;
    if (p->len >= p->cap)
        p->len = p->cap - 1;
}

static void
ws(P *p)
{
    while (isspace((unsigned char)*p->s))
        p->s++;
}

static op_expr *parse(P *p);

static op_expr *
fail(P *p, const char *msg)
{
    if (!p->err[0])
        snprintf(p->err, sizeof p->err, "%s at '%.20s'", msg, p->s);
    return NULL;
}

/* A type name: up to whitespace (typmods in parentheses included). */
static void
type_token(P *p, char *buf, size_t cap)
{
    ws(p);
    size_t n = 0;
    while (p->s[n] && !isspace((unsigned char)p->s[n]))
        n++;
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(buf, p->s, k);
    buf[k] = '\0';
    p->s += n;
}

/* A token: up to whitespace or a parenthesis. */
static size_t
token(P *p, char *buf, size_t cap)
{
    ws(p);
    size_t n = 0;
    while (p->s[n] && !isspace((unsigned char)p->s[n]) && p->s[n] != '(' && p->s[n] != ')')
        n++;
    size_t k = n < cap - 1 ? n : cap - 1;
    memcpy(buf, p->s, k);
    buf[k] = '\0';
    p->s += n;
    return n;
}

/* Type names: short aliases, else any spelling eng_type_parse accepts
 * without spaces (numeric(10,2), varchar(3), timestamptz, interval...). */
static const struct {
    const char *name, *sql;
} aliases[] = {
    {"bool", "boolean"}, {"i2", "int2"},   {"i4", "int4"},   {"i8", "int8"},
    {"f4", "float4"},    {"f8", "float8"}, {"text", "text"},
};

static bool
type_of(const char *name, eng_type *t, const char **sql)
{
    *sql = name;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(aliases[i].name, name) == 0)
            *sql = aliases[i].sql;
    eng_err err;
    eng_err_clear(&err);
    return eng_type_parse(*sql, strlen(*sql), t, &err) == 0;
}

static op_expr *
atom(P *p)
{
    ws(p);
    if (*p->s == '\'') { /* text literal, '' for a quote */
        char *buf = malloc(strlen(p->s) + 1);
        size_t n = 0;
        p->s++;
        emit(p, "'");
        for (;;) {
            if (*p->s == '\0') {
                free(buf);
                return fail(p, "unterminated string");
            }
            if (*p->s == '\'') {
                if (p->s[1] != '\'')
                    break;
                emit(p, "''");
                buf[n++] = '\'';
                p->s += 2;
                continue;
            }
            emit(p, "%c", *p->s);
            buf[n++] = *p->s++;
        }
        p->s++;
        emit(p, "'::text");
        op_expr *e = op_expr_text(buf, (uint32_t)n);
        free(buf);
        return e;
    }
    char tok[256];
    if (token(p, tok, sizeof tok) == 0)
        return fail(p, "expected an atom");
    if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0) {
        emit(p, "%s", tok);
        return op_expr_bool(tok[0] == 't');
    }
    if (strcmp(tok, "null") == 0) {
        emit(p, "NULL");
        return op_expr_null(OP_T_UNKNOWN);
    }
    if (strncmp(tok, "null:", 5) == 0) {
        eng_type t;
        const char *sql;
        if (!type_of(tok + 5, &t, &sql))
            return fail(p, "bad type");
        emit(p, "NULL::%s", sql);
        return op_expr_null((op_type)t.id);
    }
    if (tok[0] == '$') {
        emit(p, "c%s", tok + 1);
        return op_expr_col(atoi(tok + 1));
    }
    char *colon = strchr(tok, ':');
    if (colon) {
        *colon = '\0';
        eng_type t;
        const char *sql;
        const char *v = colon + 1;
        if (!type_of(tok, &t, &sql))
            return fail(p, "bad typed literal");
        emit(p, "'%s'::%s", v, sql);
        char *end;
        errno = 0;
        switch (t.id) {
        case ENG_TYPE_INT2:
            return op_expr_int2((int16_t)strtol(v, &end, 10));
        case ENG_TYPE_INT4:
            return op_expr_int4((int32_t)strtol(v, &end, 10));
        case ENG_TYPE_INT8:
            return op_expr_int8(strtoll(v, &end, 10));
        case ENG_TYPE_FLOAT4:
            return op_expr_float4(strtof(v, &end));
        case ENG_TYPE_FLOAT8:
            return op_expr_float8(strtod(v, &end));
        default:
            return fail(p, "bad typed literal");
        }
    }
    char *end;
    errno = 0;
    long long i = strtoll(tok, &end, 10);
    if (*end == '\0' && errno == 0) {
        if (i >= INT32_MIN && i <= INT32_MAX) {
            emit(p, "'%lld'::int4", i);
            return op_expr_int4((int32_t)i);
        }
        emit(p, "'%lld'::int8", i);
        return op_expr_int8(i);
    }
    double d = strtod(tok, &end);
    if (*end == '\0') {
        emit(p, "'%s'::float8", tok);
        return op_expr_float8(d);
    }
    return fail(p, "bad atom");
}

/* Parses arguments up to ')' into args (emitting each, separated by sep). */
static int
args(P *p, op_expr **a, int max, const char *sep)
{
    int n = 0;
    for (;;) {
        ws(p);
        if (*p->s == ')') {
            p->s++;
            return n;
        }
        if (*p->s == '\0' || n == max) {
            fail(p, "bad argument list");
            goto bad;
        }
        if (n > 0)
            emit(p, "%s", sep);
        a[n] = parse(p);
        if (a[n] == NULL)
            goto bad;
        n++;
    }
bad:
    for (int i = 0; i < n; i++)
        op_expr_free(a[i]);
    return -1;
}

static const struct {
    const char *name;
    op_fn fn;
    const char *sql; /* infix operator (with spaces) or NULL for name(args) */
} ops[] = {
    {"+", OP_ADD, " + "},
    {"-", OP_SUB, " - "},
    {"*", OP_MUL, " * "},
    {"/", OP_DIV, " / "},
    {"%", OP_MOD, " % "},
    {"=", OP_EQ, " = "},
    {"<>", OP_NE, " <> "},
    {"<", OP_LT, " < "},
    {"<=", OP_LE, " <= "},
    {">", OP_GT, " > "},
    {">=", OP_GE, " >= "},
    {"distinct", OP_DISTINCT, " IS DISTINCT FROM "},
    {"notdistinct", OP_NOT_DISTINCT, " IS NOT DISTINCT FROM "},
    {"and", OP_AND, " AND "},
    {"or", OP_OR, " OR "},
    {"||", OP_CONCAT_OP, " || "},
    {"abs", OP_ABS, NULL},
    {"coalesce", OP_COALESCE, NULL},
    {"nullif", OP_NULLIF, NULL},
    {"greatest", OP_GREATEST, NULL},
    {"least", OP_LEAST, NULL},
    {"length", OP_LENGTH, NULL},
    {"char_length", OP_LENGTH, NULL},
    {"octet_length", OP_OCTET_LENGTH, NULL},
    {"upper", OP_UPPER, NULL},
    {"lower", OP_LOWER, NULL},
    {"substr", OP_SUBSTR, NULL},
    {"strpos", OP_STRPOS, NULL},
    {"btrim", OP_BTRIM, NULL},
    {"ltrim", OP_LTRIM, NULL},
    {"rtrim", OP_RTRIM, NULL},
    {"replace", OP_REPLACE, NULL},
    {"concat", OP_CONCAT, NULL},
    {"concat_ws", OP_CONCAT_WS, NULL},
    {"starts_with", OP_STARTS_WITH, NULL},
    {"left", OP_LEFT, NULL},
    {"right", OP_RIGHT, NULL},
    {"repeat", OP_REPEAT, NULL},
    {"lpad", OP_LPAD, NULL},
    {"rpad", OP_RPAD, NULL},
    {"split_part", OP_SPLIT_PART, NULL},
    {"reverse", OP_REVERSE, NULL},
    {"date_trunc", OP_DATE_TRUNC, NULL},
    {"date_part", OP_DATE_PART, NULL},
    {"power", OP_POW, NULL},
    {"sqrt", OP_SQRT, NULL},
    {"cbrt", OP_CBRT, NULL},
    {"exp", OP_EXP, NULL},
    {"ln", OP_LN, NULL},
    {"log", OP_LOG, NULL},
    {"log10", OP_LOG10, NULL},
    {"floor", OP_FLOOR, NULL},
    {"ceil", OP_CEIL, NULL},
    {"ceiling", OP_CEIL, NULL},
    {"round", OP_ROUND, NULL},
    {"trunc", OP_TRUNC, NULL},
    {"sign", OP_SIGN, NULL},
    {"pi", OP_PI, NULL},
    {"degrees", OP_DEGREES, NULL},
    {"radians", OP_RADIANS, NULL},
    {"sin", OP_SIN, NULL},
    {"cos", OP_COS, NULL},
    {"tan", OP_TAN, NULL},
    {"cot", OP_COT, NULL},
    {"asin", OP_ASIN, NULL},
    {"acos", OP_ACOS, NULL},
    {"atan", OP_ATAN, NULL},
    {"atan2", OP_ATAN2, NULL},
    {"gcd", OP_GCD, NULL},
    {"lcm", OP_LCM, NULL},
    {"md5", OP_MD5, NULL},
    {"initcap", OP_INITCAP, NULL},
    {"translate", OP_TRANSLATE, NULL},
    {"ascii", OP_ASCII, NULL},
    {"chr", OP_CHR, NULL},
    {"to_hex", OP_TO_HEX, NULL},
    {"encode", OP_ENCODE, NULL},
    {"decode", OP_DECODE, NULL},
    {"pg_typeof", OP_PG_TYPEOF, NULL},
    {"timezone", OP_TIMEZONE, NULL},
    {"make_date", OP_MAKE_DATE, NULL},
    {"make_timestamp", OP_MAKE_TIMESTAMP, NULL},
    {"jsonb_typeof", OP_JSON_TYPEOF, NULL},
    {"json_typeof", OP_JSON_TYPEOF, NULL},
    {"jsonb_array_length", OP_JSON_ARRAY_LENGTH, NULL},
    {"json_array_length", OP_JSON_ARRAY_LENGTH, NULL},
    {"jsonb_build_object", OP_JSONB_BUILD_OBJECT, NULL},
    {"jsonb_build_array", OP_JSONB_BUILD_ARRAY, NULL},
    {"to_jsonb", OP_TO_JSONB, NULL},
    {"jsonb_pretty", OP_JSONB_PRETTY, NULL},
    {"jsonb_strip_nulls", OP_JSONB_STRIP_NULLS, NULL},
    {"^", OP_POW, " ^ "},
    {"~", OP_REGEX, " ~ "},
    {"!~", OP_NOT_REGEX, " !~ "},
    {"~*", OP_IREGEX, " ~* "},
    {"!~*", OP_NOT_IREGEX, " !~* "},
    {"->", OP_JSON_GET, " -> "},
    {"->>", OP_JSON_GET_TEXT, " ->> "},
    {"#>", OP_JSON_PATH, " #> "},
    {"#>>", OP_JSON_PATH_TEXT, " #>> "},
    {"@>", OP_JSON_CONTAINS, " @> "},
    {"<@", OP_JSON_CONTAINED, " <@ "},
    {"?", OP_JSON_EXISTS, " ? "},
};

static const struct {
    const char *name, *sql;
    op_fn fn;
} postfix[] = {
    {"isnull", "IS NULL", OP_IS_NULL},
    {"isnotnull", "IS NOT NULL", OP_IS_NOT_NULL},
    {"istrue", "IS TRUE", OP_IS_TRUE},
    {"isnottrue", "IS NOT TRUE", OP_IS_NOT_TRUE},
    {"isfalse", "IS FALSE", OP_IS_FALSE},
    {"isnotfalse", "IS NOT FALSE", OP_IS_NOT_FALSE},
    {"isunknown", "IS UNKNOWN", OP_IS_UNKNOWN},
    {"isnotunknown", "IS NOT UNKNOWN", OP_IS_NOT_UNKNOWN},
};

#define MAXARGS 64

static op_expr *
parse_case(P *p, bool simple)
{
    op_expr *operand = NULL, *whens[MAXARGS], *thens[MAXARGS], *els = NULL;
    int n = 0;
    emit(p, "CASE ");
    if (simple) {
        operand = parse(p);
        if (operand == NULL)
            return NULL;
        emit(p, " ");
    }
    for (;;) {
        ws(p);
        if (*p->s == ')') {
            p->s++;
            break;
        }
        char tok[32];
        if (*p->s != '(')
            goto bad;
        p->s++;
        token(p, tok, sizeof tok);
        if (strcmp(tok, "when") == 0 && n < MAXARGS) {
            emit(p, "WHEN ");
            whens[n] = parse(p);
            if (whens[n] == NULL)
                goto bad;
            emit(p, " THEN ");
            thens[n] = parse(p);
            if (thens[n] == NULL) {
                op_expr_free(whens[n]);
                goto bad;
            }
            n++;
        } else if (strcmp(tok, "else") == 0 && els == NULL) {
            emit(p, "ELSE ");
            els = parse(p);
            if (els == NULL)
                goto bad;
        } else {
            fail(p, "expected when/else");
            goto bad;
        }
        emit(p, " ");
        ws(p);
        if (*p->s != ')') {
            fail(p, "expected )");
            goto bad;
        }
        p->s++;
    }
    emit(p, "END");
    return op_expr_case(operand, n, whens, thens, els);
bad:
    fail(p, "bad CASE");
    op_expr_free(operand);
    op_expr_free(els);
    for (int i = 0; i < n; i++) {
        op_expr_free(whens[i]);
        op_expr_free(thens[i]);
    }
    return NULL;
}

static op_expr *
parse(P *p)
{
    ws(p);
    if (*p->s != '(')
        return atom(p);
    p->s++;
    char head[64];
    token(p, head, sizeof head);
    op_expr *a[MAXARGS];
    int n;
    if (strcmp(head, "case") == 0 || strcmp(head, "casex") == 0) {
        emit(p, "(");
        op_expr *e = parse_case(p, head[4] == 'x');
        emit(p, ")");
        return e;
    }
    if (strcmp(head, "cast") == 0) {
        char tn[64];
        type_token(p, tn, sizeof tn);
        eng_type t;
        const char *tsql;
        if (!type_of(tn, &t, &tsql))
            return fail(p, "bad cast type");
        char tcopy[64];
        snprintf(tcopy, sizeof tcopy, "%s", tsql);
        emit(p, "CAST(");
        if ((n = args(p, a, 1, "")) != 1)
            return n == 0 ? fail(p, "cast needs an argument") : NULL;
        emit(p, " AS %s)", tcopy);
        return op_expr_cast(a[0], t);
    }
    if (strcmp(head, "lit") == 0) { /* (lit TYPE 'text'): the type's input function */
        char tn[64];
        type_token(p, tn, sizeof tn);
        eng_type t;
        const char *tsql;
        if (!type_of(tn, &t, &tsql))
            return fail(p, "bad literal type");
        char tcopy[64];
        snprintf(tcopy, sizeof tcopy, "%s", tsql);
        ws(p);
        if (*p->s != '\'')
            return fail(p, "lit wants a quoted string");
        const char *q = ++p->s;
        while (*p->s && *p->s != '\'')
            p->s++;
        if (*p->s != '\'')
            return fail(p, "unterminated string");
        size_t qn = (size_t)(p->s - q);
        p->s++;
        ws(p);
        if (*p->s != ')')
            return fail(p, "lit takes a type and a string");
        p->s++;
        emit(p, "'%.*s'::%s", (int)qn, q, tcopy);
        eng_rowbuf rb = {0};
        eng_err err;
        eng_err_clear(&err);
        if (eng_text_parse(&t, q, qn, &rb, &err)) {
            eng_rowbuf_free(&rb);
            return fail(p, "bad literal value");
        }
        op_expr *e = op_expr_lit_typed(eng_rowbuf_row(&rb), (op_type)t.id);
        eng_rowbuf_free(&rb);
        return e;
    }
    if (strcmp(head, "neg") == 0 || strcmp(head, "not") == 0) {
        bool neg = head[0] == 'n' && head[1] == 'e';
        emit(p, neg ? "(- " : "(NOT ");
        if ((n = args(p, a, 1, "")) != 1)
            return n == 0 ? fail(p, "needs an argument") : NULL;
        emit(p, ")");
        return op_expr_call1(neg ? OP_NEG : OP_NOT, a[0]);
    }
    for (size_t i = 0; i < sizeof postfix / sizeof postfix[0]; i++) {
        if (strcmp(head, postfix[i].name) == 0) {
            emit(p, "(");
            if ((n = args(p, a, 1, "")) != 1)
                return n == 0 ? fail(p, "needs an argument") : NULL;
            emit(p, " %s)", postfix[i].sql);
            return op_expr_call1(postfix[i].fn, a[0]);
        }
    }
    if (strcmp(head, "in") == 0 || strcmp(head, "notin") == 0) {
        emit(p, "(");
        a[0] = parse(p);
        if (a[0] == NULL)
            return NULL;
        emit(p, head[0] == 'n' ? " NOT IN (" : " IN (");
        n = args(p, a + 1, MAXARGS - 1, ", ");
        if (n < 0) {
            op_expr_free(a[0]);
            return NULL;
        }
        emit(p, "))");
        return op_expr_call(head[0] == 'n' ? OP_NOT_IN : OP_IN, n + 1, a);
    }
    if (strcmp(head, "like") == 0 || strcmp(head, "notlike") == 0 || strcmp(head, "ilike") == 0 ||
        strcmp(head, "notilike") == 0) {
        bool not = head[0] == 'n', ci = strstr(head, "ilike") != NULL;
        op_fn fn = ci ? (not ? OP_NOT_ILIKE : OP_ILIKE) : (not ? OP_NOT_LIKE : OP_LIKE);
        emit(p, "(");
        a[0] = parse(p);
        if (a[0] == NULL)
            return NULL;
        emit(p, " %s%s ", not ? "NOT " : "", ci ? "ILIKE" : "LIKE");
        a[1] = parse(p);
        if (a[1] == NULL) {
            op_expr_free(a[0]);
            return NULL;
        }
        ws(p);
        n = 2;
        if (*p->s != ')') {
            emit(p, " ESCAPE ");
            a[2] = parse(p);
            if (a[2] == NULL) {
                op_expr_free(a[0]);
                op_expr_free(a[1]);
                return NULL;
            }
            n = 3;
            ws(p);
        }
        if (*p->s != ')') {
            for (int i = 0; i < n; i++)
                op_expr_free(a[i]);
            return fail(p, "LIKE takes 2 or 3 arguments");
        }
        p->s++;
        emit(p, ")");
        return op_expr_call(fn, n, a);
    }
    if (strcmp(head, "extract") == 0) { /* (extract FIELD x) -> EXTRACT(FIELD FROM x) */
        char field[32];
        token(p, field, sizeof field);
        emit(p, "EXTRACT(%s FROM ", field);
        if ((n = args(p, a + 1, 1, "")) != 1)
            return n == 0 ? fail(p, "extract needs an argument") : NULL;
        emit(p, ")");
        a[0] = op_expr_text(field, (uint32_t)strlen(field));
        return op_expr_call(OP_EXTRACT, 2, a);
    }
    if (strcmp(head, "position") == 0) {
        emit(p, "position(");
        if ((n = args(p, a, 2, " IN ")) != 2) {
            for (int i = 0; i < n; i++)
                op_expr_free(a[i]);
            return fail(p, "position takes 2 arguments");
        }
        emit(p, ")");
        return op_expr_call2(OP_STRPOS, a[1], a[0]);
    }
    if (strcmp(head, "substring") == 0) {
        emit(p, "substring(");
        a[0] = parse(p);
        if (a[0] == NULL)
            return NULL;
        emit(p, " FROM ");
        n = args(p, a + 1, 2, " FOR ");
        if (n < 1) {
            if (n > 0)
                op_expr_free(a[1]);
            op_expr_free(a[0]);
            return fail(p, "substring takes 2 or 3 arguments");
        }
        emit(p, ")");
        return op_expr_call(OP_SUBSTR, n + 1, a);
    }
    if (strncmp(head, "trim-", 5) == 0) {
        const char *side = head + 5;
        op_fn fn = strcmp(side, "both") == 0      ? OP_BTRIM
                   : strcmp(side, "leading") == 0 ? OP_LTRIM
                                                  : OP_RTRIM;
        /* SQL puts the characters first: render from a second buffer. */
        P q = *p;
        char sbuf[2048];
        q.sql = sbuf;
        q.len = 0;
        q.cap = sizeof sbuf;
        a[0] = parse(&q);
        if (a[0] == NULL) {
            p->s = q.s;
            return fail(p, q.err);
        }
        size_t split = q.len;
        ws(&q);
        n = 1;
        if (*q.s != ')') {
            emit(&q, " ");
            a[1] = parse(&q);
            if (a[1] == NULL) {
                op_expr_free(a[0]);
                p->s = q.s;
                return fail(p, q.err);
            }
            n = 2;
            ws(&q);
        }
        p->s = q.s;
        if (*p->s != ')') {
            for (int i = 0; i < n; i++)
                op_expr_free(a[i]);
            return fail(p, "trim takes 1 or 2 arguments");
        }
        p->s++;
        emit(p, "trim(%s %s FROM %.*s)",
             fn == OP_BTRIM   ? "BOTH"
             : fn == OP_LTRIM ? "LEADING"
                              : "TRAILING",
             n == 2 ? sbuf + split + 1 : "", (int)split, sbuf);
        return op_expr_call(fn, n, a);
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(head, ops[i].name) != 0)
            continue;
        const char *sql = ops[i].sql;
        if (sql)
            emit(p, "(");
        else
            emit(p, "%s(", ops[i].name);
        n = args(p, a, MAXARGS, sql ? sql : ", ");
        if (n < 0)
            return NULL;
        emit(p, ")");
        return op_expr_call(ops[i].fn, n, a);
    }
    return fail(p, "unknown function");
}

int
t_sexpr_parse(const char *src, op_expr **out, char *sql, size_t sqlcap)
{
    P p = {.s = src, .sql = sql, .cap = sqlcap};
    sql[0] = '\0';
    op_expr *e = parse(&p);
    ws(&p);
    if (e && *p.s != '\0') {
        op_expr_free(e);
        e = NULL;
        fail(&p, "trailing input");
    }
    if (e == NULL) {
        snprintf(sql, sqlcap, "%s", p.err[0] ? p.err : "parse error");
        return -1;
    }
    *out = e;
    return 0;
}

int
t_sexpr_eval(const char *src, int ncols, const op_type *types_, eng_row r, char *res, size_t rescap)
{
    char sql[4096];
    op_expr *e;
    if (t_sexpr_parse(src, &e, sql, sizeof sql)) {
        snprintf(res, rescap, "PARSE %s", sql);
        return -1;
    }
    e = op_expr_cast(e, op_type_full(OP_T_TEXT));
    op_prog *prog;
    eng_err err;
    eng_err_clear(&err);
    int rc = op_expr_compile(e, ncols, types_, &prog, &err);
    op_expr_free(e);
    if (rc) {
        snprintf(res, rescap, "COMPILE %s: %s", err.sqlstate, err.message);
        return -1;
    }
    op_eval *ev = op_eval_new();
    op_val v;
    op_eval_begin(ev, r);
    if (op_eval_run(ev, prog, &v, &err))
        snprintf(res, rescap, "ERROR %s: %s", err.sqlstate, err.message);
    else if (v.tag == ENG_TAG_NULL)
        snprintf(res, rescap, "NULL");
    else
        snprintf(res, rescap, "%.*s", (int)v.len, (const char *)v.u.p);
    op_eval_free(ev);
    op_prog_free(prog);
    return 0;
}
