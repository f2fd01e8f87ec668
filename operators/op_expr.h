/* Scalar expressions: a tree built through a C API (by the SQL planner),
 * compiled once into a flat program, evaluated row by row with PostgreSQL
 * semantics.
 *
 * Notes:
 * - Building. Nodes are column references (by input column index),
 *   literals (a datum given as a one-datum row), calls of built-in
 *   functions and operators (op_fn), casts, CASE, and calls of external
 *   functions. A builder takes ownership of the nodes passed to it;
 *   op_expr_free frees a whole tree. Builders never fail (they abort on
 *   allocation failure, like the rest of the engine's builders); every
 *   semantic check (arity, types) happens in op_expr_compile.
 * - Types are the type library's (engine/core/eng_type.h): an op_type is
 *   an eng_typeid; casts take a full eng_type (typmods: varchar(n),
 *   numeric(p,s), timestamp(p)...). OP_T_UNKNOWN is an untyped NULL
 *   literal. Compiling infers every node's type from the input columns'
 *   types, resolves operators as PostgreSQL does (int2/int4/int8/numeric/
 *   float4/float8 arithmetic with PostgreSQL's result types, date and
 *   timestamp arithmetic with integers and intervals, CASE/COALESCE/
 *   GREATEST/LEAST/IN branches unified to a common type, char(n) and
 *   varchar passed to text functions) and inserts the implicit casts. A
 *   mismatch is a compile error (42883, 42804, 42846), never an
 *   evaluation error. Casts and text output of every type go through the
 *   type library (eng_cast, eng_text_format), with inline fast paths for
 *   bool, ints, floats and text; numeric arithmetic through eng_numeric.
 * - Evaluation. A program (op_prog) is immutable after compilation and may
 *   be shared by threads. Each thread evaluates with its own op_eval,
 *   which holds the value slots and a scratch arena that is reset at every
 *   op_eval_begin: at steady state no allocation happens per row. An
 *   error in data (overflow, division by zero, bad cast input...) is
 *   returned as an eng_err with its SQLSTATE, never a crash or an assert.
 * - Laziness is PostgreSQL's: AND/OR stop at the first FALSE/TRUE, CASE
 *   evaluates only the branch taken, COALESCE stops at the first non-NULL.
 *   Every other call evaluates all its arguments first (IN lists,
 *   GREATEST/LEAST and NULLIF included), then a strict function returns
 *   NULL if any argument is NULL.
 * - Text is UTF-8; lengths and positions count characters. upper/lower
 *   map each character with towupper/towlower in the C.UTF-8 locale (one
 *   character to one character, like PostgreSQL in a C.UTF-8 database; ß
 *   stays ß) and fall back to ASCII if that locale is missing. Comparisons
 *   are bytewise (C collation).
 * - Floats: -0.0 is a value inside an evaluation (so (0.0 * -1)::text is
 *   "-0" as in PostgreSQL) but rows store it as 0 (eng_row canonical form).
 * - Dates and times: the session time zone is UTC (as in the type library),
 *   so timestamptz arithmetic is timestamp arithmetic. */
#ifndef OP_EXPR_H
#define OP_EXPR_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_type.h"

typedef uint8_t op_type; /* an eng_typeid */
#define OP_T_UNKNOWN ENG_TYPE_UNKNOWN
#define OP_T_BOOL ENG_TYPE_BOOL
#define OP_T_INT2 ENG_TYPE_INT2
#define OP_T_INT4 ENG_TYPE_INT4
#define OP_T_INT8 ENG_TYPE_INT8
#define OP_T_FLOAT4 ENG_TYPE_FLOAT4
#define OP_T_FLOAT8 ENG_TYPE_FLOAT8
#define OP_T_NUMERIC ENG_TYPE_NUMERIC
#define OP_T_TEXT ENG_TYPE_TEXT
#define OP_T_VARCHAR ENG_TYPE_VARCHAR
#define OP_T_BPCHAR ENG_TYPE_BPCHAR
#define OP_T_BYTEA ENG_TYPE_BYTEA
#define OP_T_DATE ENG_TYPE_DATE
#define OP_T_TIME ENG_TYPE_TIME
#define OP_T_TIMESTAMP ENG_TYPE_TIMESTAMP
#define OP_T_TIMESTAMPTZ ENG_TYPE_TIMESTAMPTZ
#define OP_T_INTERVAL ENG_TYPE_INTERVAL
#define OP_T_UUID ENG_TYPE_UUID
#define OP_T_JSON ENG_TYPE_JSON
#define OP_T_JSONB ENG_TYPE_JSONB
#define OP_T_OTHER ENG_TYPE_OTHER

/* A type without modifier. */
static inline eng_type
op_type_full(op_type t)
{
    return eng_type_make((eng_typeid)t, ENG_TYPMOD_NONE);
}

/* PostgreSQL's name of a type ("integer", "double precision", "boolean"). */
const char *op_type_name(op_type t);

/* Built-in functions and operators. Arguments in brackets are optional. */
typedef enum op_fn {
    /* arithmetic on int2/int4/int8/float4/float8 */
    OP_ADD, /* a + b */
    OP_SUB, /* a - b */
    OP_MUL, /* a * b */
    OP_DIV, /* a / b (ints truncate toward zero) */
    OP_MOD, /* a % b (ints only) */
    OP_NEG, /* -a */
    OP_ABS, /* abs(a) */
    /* comparisons (any comparable pair), strict */
    OP_EQ,
    OP_NE,
    OP_LT,
    OP_LE,
    OP_GT,
    OP_GE,
    OP_DISTINCT,     /* a IS DISTINCT FROM b */
    OP_NOT_DISTINCT, /* a IS NOT DISTINCT FROM b */
    /* logic */
    OP_AND, /* n-ary, n >= 1 */
    OP_OR,  /* n-ary, n >= 1 */
    OP_NOT,
    OP_IS_NULL,
    OP_IS_NOT_NULL,
    OP_IS_TRUE,
    OP_IS_NOT_TRUE,
    OP_IS_FALSE,
    OP_IS_NOT_FALSE,
    OP_IS_UNKNOWN,
    OP_IS_NOT_UNKNOWN,
    /* conditionals (CASE has its own builder) */
    OP_COALESCE, /* n >= 1 */
    OP_NULLIF,   /* nullif(a, b) */
    OP_GREATEST, /* n >= 1, NULLs ignored */
    OP_LEAST,
    OP_IN,     /* a IN (b, c, ...): args[0] = a */
    OP_NOT_IN, /* a NOT IN (b, c, ...) */
    /* strings */
    OP_LENGTH,       /* length(s) = char_length(s): characters */
    OP_OCTET_LENGTH, /* octet_length(s): bytes */
    OP_UPPER,
    OP_LOWER,
    OP_SUBSTR,      /* substr(s, from [, count]) = substring(s FROM from [FOR count]) */
    OP_STRPOS,      /* strpos(s, sub); position(sub IN s) is strpos(s, sub) */
    OP_BTRIM,       /* btrim(s [, chars]) = trim([BOTH] [chars] FROM s) */
    OP_LTRIM,       /* ltrim(s [, chars]) = trim(LEADING [chars] FROM s) */
    OP_RTRIM,       /* rtrim(s [, chars]) = trim(TRAILING [chars] FROM s) */
    OP_REPLACE,     /* replace(s, from, to) */
    OP_CONCAT_OP,   /* a || b: NULL if either is NULL; one side may be non-text */
    OP_CONCAT,      /* concat(...): NULLs ignored, values in their output form */
    OP_CONCAT_WS,   /* concat_ws(sep, ...) */
    OP_LIKE,        /* s LIKE pattern [ESCAPE esc] */
    OP_NOT_LIKE,    /* s NOT LIKE pattern [ESCAPE esc] */
    OP_ILIKE,       /* s ILIKE pattern [ESCAPE esc] */
    OP_NOT_ILIKE,   /* s NOT ILIKE pattern [ESCAPE esc] */
    OP_STARTS_WITH, /* starts_with(s, prefix) */
    OP_LEFT,        /* left(s, n) */
    OP_RIGHT,       /* right(s, n) */
    OP_REPEAT,      /* repeat(s, n) */
    OP_LPAD,        /* lpad(s, len [, fill]) */
    OP_RPAD,        /* rpad(s, len [, fill]) */
    OP_SPLIT_PART,  /* split_part(s, delim, n) */
    OP_REVERSE,     /* reverse(s) */
    /* dates and times (+ and - also take date/timestamp/interval operands) */
    OP_DATE_TRUNC, /* date_trunc(unit, timestamp | timestamptz | interval) */
    OP_EXTRACT,    /* EXTRACT(field FROM x) = extract(field, x): numeric */
    OP_DATE_PART,  /* date_part(field, x): double precision */
    /* math (expr_math.c): float8 versions through libm, numeric versions
     * exact where listed in docs/sql.md */
    OP_POW,     /* a ^ b = power(a, b): float8 or numeric */
    OP_SQRT,    /* sqrt(x): float8 or numeric */
    OP_CBRT,    /* cbrt(x): float8 */
    OP_EXP,     /* exp(x): float8 */
    OP_LN,      /* ln(x): float8 */
    OP_LOG10,   /* log(x) = log10(x): float8 */
    OP_LOG,     /* log(b, x): numeric; log(x) is OP_LOG10 */
    OP_FLOOR,   /* floor(x): float8 or numeric */
    OP_CEIL,    /* ceil(x) = ceiling(x): float8 or numeric */
    OP_ROUND,   /* round(x) float8 or numeric; round(numeric, int) */
    OP_TRUNC,   /* trunc(x) float8 or numeric; trunc(numeric, int) */
    OP_SIGN,    /* sign(x): float8 or numeric */
    OP_PI,      /* pi() */
    OP_DEGREES, /* degrees(x) */
    OP_RADIANS, /* radians(x) */
    OP_SIN,
    OP_COS,
    OP_TAN,
    OP_COT,
    OP_ASIN,
    OP_ACOS,
    OP_ATAN,
    OP_ATAN2, /* atan2(y, x) */
    OP_GCD,   /* gcd(a, b): int4, int8 */
    OP_LCM,   /* lcm(a, b): int4, int8 */
    /* strings and bytes (expr_text.c) */
    OP_MD5,        /* md5(text | bytea): text */
    OP_INITCAP,    /* initcap(s) */
    OP_TRANSLATE,  /* translate(s, from, to) */
    OP_ASCII,      /* ascii(s): code point of the first character */
    OP_CHR,        /* chr(int) */
    OP_TO_HEX,     /* to_hex(int4 | int8) */
    OP_ENCODE,     /* encode(bytea, 'hex' | 'base64' | 'escape'): text */
    OP_DECODE,     /* decode(text, 'hex' | 'base64' | 'escape'): bytea */
    OP_REGEX,      /* s ~ re (POSIX extended) */
    OP_NOT_REGEX,  /* s !~ re */
    OP_IREGEX,     /* s ~* re */
    OP_NOT_IREGEX, /* s !~* re */
    OP_PG_TYPEOF,  /* pg_typeof(x): the type's name as text (not strict) */
    /* dates (expr_date.c) */
    OP_TIMEZONE,       /* timezone(zone, ts) = ts AT TIME ZONE zone */
    OP_MAKE_DATE,      /* make_date(y, m, d) */
    OP_MAKE_TIMESTAMP, /* make_timestamp(y, mon, d, h, min, sec float8) */
    /* json and jsonb (expr_json.c) */
    OP_JSON_GET,           /* j -> key | index */
    OP_JSON_GET_TEXT,      /* j ->> key | index */
    OP_JSON_PATH,          /* j #> '{a,b}' */
    OP_JSON_PATH_TEXT,     /* j #>> '{a,b}' */
    OP_JSON_CONTAINS,      /* a @> b (jsonb) */
    OP_JSON_CONTAINED,     /* a <@ b (jsonb) */
    OP_JSON_EXISTS,        /* j ? key (jsonb) */
    OP_JSON_TYPEOF,        /* jsonb_typeof(j), json_typeof(j) */
    OP_JSON_ARRAY_LENGTH,  /* jsonb_array_length(j), json_array_length(j) */
    OP_JSONB_BUILD_OBJECT, /* jsonb_build_object(k, v, ...) */
    OP_JSONB_BUILD_ARRAY,  /* jsonb_build_array(v, ...) */
    OP_TO_JSONB,           /* to_jsonb(x) */
    OP_JSONB_PRETTY,       /* jsonb_pretty(j) */
    OP_JSONB_STRIP_NULLS,  /* jsonb_strip_nulls(j) */
    OP_FN_COUNT_
} op_fn;

/* SQL name of a function ("+", "length", "IS DISTINCT FROM"). */
const char *op_fn_name(op_fn fn);

typedef struct op_expr op_expr;

/* A value during evaluation: ints of every width in i, floats (float4
 * exactly widened) in f, strings and opaque payloads (date, numeric, ...)
 * as p/len, borrowed from the input row, the program or the evaluator's
 * scratch arena (valid until the next op_eval_begin). tag ENG_TAG_NULL is
 * SQL NULL; booleans are ENG_TAG_TRUE/ENG_TAG_FALSE. */
typedef struct op_val {
    uint8_t tag;
    uint32_t len;
    union {
        int64_t i;
        double f;
        const uint8_t *p;
    } u;
} op_val;

/* A cast implementation: converts the non-NULL datum `in` to type *to,
 * appending exactly one datum (of that type's tag, or NULL) to out. `in`
 * and `to` are borrowed for the call. Returns 0, or -1 with err set (an
 * error in data). For casts outside the type library's table. */
typedef int (*op_cast_fn)(eng_datum in, const eng_type *to, eng_rowbuf *out, eng_err *err);

/* An external function: args[0..n) borrowed for the call (NULL args only
 * if the function is not strict), appends exactly one datum to out.
 * Returns 0, or -1 with err set. */
typedef int (*op_ext_fn)(const eng_datum *args, int n, eng_rowbuf *out, eng_err *err);

/* ------------------------------------------------------------------ building */

/* Input column `col` (0-based). */
op_expr *op_expr_col(int col);

/* A literal: the first datum of r (copied). Its type is its tag's (TEXT for
 * ENG_TAG_TEXT, BYTEA for ENG_TAG_BYTES); a NULL datum is an untyped NULL
 * (OP_T_UNKNOWN). */
op_expr *op_expr_lit(eng_row r);

/* A literal of type t (whose tag the datum must carry, or NULL): for the
 * types that share a tag (varchar, char(n), json, jsonb as text). */
op_expr *op_expr_lit_typed(eng_row r, op_type t);

/* Literal conveniences. */
op_expr *op_expr_null(op_type t); /* typed NULL (t may be OP_T_UNKNOWN) */
op_expr *op_expr_bool(bool v);
op_expr *op_expr_int2(int16_t v);
op_expr *op_expr_int4(int32_t v);
op_expr *op_expr_int8(int64_t v);
op_expr *op_expr_float4(float v);
op_expr *op_expr_float8(double v);
op_expr *op_expr_text(const char *s, uint32_t len);

/* fn(args[0..nargs)): takes ownership of the nodes (not of the array). */
op_expr *op_expr_call(op_fn fn, int nargs, op_expr *const *args);
op_expr *op_expr_call1(op_fn fn, op_expr *a);
op_expr *op_expr_call2(op_fn fn, op_expr *a, op_expr *b);
op_expr *op_expr_call3(op_fn fn, op_expr *a, op_expr *b, op_expr *c);

/* CAST(arg AS to) with PostgreSQL's rules (the type library's cast table,
 * typmods applied as an explicit cast does). A cast PostgreSQL lacks fails
 * to compile (42846) unless given a function with op_expr_cast_fn. */
op_expr *op_expr_cast(op_expr *arg, eng_type to);

/* CAST(arg AS to) through fn (called for non-NULL inputs only). */
op_expr *op_expr_cast_fn(op_expr *arg, eng_type to, op_cast_fn fn);

/* CASE [operand] WHEN whens[i] THEN thens[i] ... [ELSE els] END. operand
 * NULL: searched form (whens are boolean conditions); otherwise each
 * `operand = whens[i]` is tested, operand evaluated once. els may be NULL
 * (ELSE NULL). Takes ownership of every node. */
op_expr *op_expr_case(op_expr *operand, int n, op_expr *const *whens, op_expr *const *thens,
                      op_expr *els);

/* name(args...) through an external function returning type `result`.
 * name is borrowed for the tree's lifetime (a string literal, typically);
 * strict: NULL if any argument is NULL, without calling fn. */
op_expr *op_expr_ext(const char *name, op_ext_fn fn, op_type result, bool strict, int nargs,
                     op_expr *const *args);

/* Frees e and its subtree (NULL is a no-op). */
void op_expr_free(op_expr *e);

/* ------------------------------------------------------------------ compiling */

typedef struct op_prog op_prog;

/* Compiles e for rows whose columns have types types[0..ncols) into a new
 * program (free with op_prog_free). e stays owned by the caller (it is
 * annotated with types, not kept). Returns 0, or -1 with err set: 42703
 * (column index out of range), 42883 (no such operator or function for
 * these types, wrong argument count), 42804 (argument types mismatch),
 * 42846 (no such cast), 42725 (operator is not unique: unknown + unknown),
 * 54001 (nested more than 2000 levels deep). */
int op_expr_compile(op_expr *e, int ncols, const op_type *types, op_prog **out, eng_err *err);

/* The result type of a program. */
op_type op_prog_type(const op_prog *p);

/* Largest input column index the program reads, -1 if none. */
int op_prog_max_col(const op_prog *p);

void op_prog_free(op_prog *p);

/* ------------------------------------------------------------------ evaluating */

typedef struct op_eval op_eval;

/* A new evaluator (one per thread). Never NULL (aborts on OOM). */
op_eval *op_eval_new(void);
void op_eval_free(op_eval *ev);

/* Makes r the current row: indexes its columns and resets the scratch
 * arena (values of the previous row die). r is borrowed until the next
 * op_eval_begin. */
void op_eval_begin(op_eval *ev, eng_row r);

/* Appends v as the next column of the current row (so later programs can
 * read it as column op_eval_ncols() - 1). v's bytes must live until the
 * next op_eval_begin (results of op_eval_run do). */
void op_eval_add_col(op_eval *ev, const op_val *v);

/* Columns of the current row (input + added). */
int op_eval_ncols(const op_eval *ev);

/* Evaluates p over the current row into *res (borrowed until the next
 * op_eval_begin). Returns 0, or -1 with err set. */
int op_eval_run(op_eval *ev, const op_prog *p, op_val *res, eng_err *err);

/* Appends column col of the current row to out as a datum (input columns
 * are copied verbatim, added ones encoded). */
void op_eval_push_col(const op_eval *ev, int col, eng_rowbuf *out);

/* Appends v to out as a canonical datum (float4/float8: -0.0 -> 0, one NaN). */
void op_val_push(const op_val *v, eng_rowbuf *out);

/* Convenience: begin(r) + run(p) + push of the result to out. */
int op_eval_datum(op_eval *ev, const op_prog *p, eng_row r, eng_rowbuf *out, eng_err *err);

#endif
