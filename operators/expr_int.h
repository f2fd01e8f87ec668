/* Internals of the scalar expression evaluator, shared by expr.c (tree,
 * compiler, VM), expr_num.c (arithmetic, comparisons), expr_str.c (string
 * functions, LIKE) and expr_cast.c (casts, text I/O). Not for other
 * operators: use op_expr.h.
 *
 * Notes: a program is a flat array of instructions in evaluation order
 * (post-order, with forward jumps for the lazy constructs). Every node
 * writes its value into its own slot; a call's arguments occupy
 * consecutive slots, so an implementation sees them as an array. */
#ifndef OP_EXPR_INT_H
#define OP_EXPR_INT_H

#include <stddef.h>

#include "operators/op_expr.h"

/* ------------------------------------------------------------------ the tree */

typedef struct op_x_insn op_x_insn;

/* An implementation: a = the instruction's argument slots, r = its result
 * slot. Returns 0, or -1 with err set. */
typedef int (*op_x_fn)(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);

enum { E_COL, E_LIT, E_CALL, E_CAST, E_CASE, E_EXT };

struct op_expr {
    uint8_t kind;
    op_type rtype; /* E_LIT / E_CAST / E_EXT: declared; others: set by compile */
    op_fn fn;      /* E_CALL */
    int col;       /* E_COL */
    bool has_operand, has_else, strict;
    int nargs;
    op_expr **args; /* E_CASE: [operand] when0 then0 when1 then1 ... [else] */
    uint8_t *lit;   /* E_LIT: one datum (tag included) */
    op_cast_fn castfn;
    op_ext_fn extfn;
    eng_type casttype; /* E_CAST: the target, typmod included */
    const char *name;
    /* compile annotations */
    op_x_fn impl_fn;
    bool impl_strict;
    uint8_t impl_aux8, impl_flags;
    uint64_t impl_mask; /* per-implementation argument bits (json arguments) */
    op_type *argwant;   /* per argument: type to coerce it to (OP_T_UNKNOWN: as is) */
};

/* ------------------------------------------------------------------ programs */

enum {
    X_COL,     /* slot[dst] = column aux (checked against type rtype) */
    X_CONST,   /* slot[dst] = consts[aux] */
    X_CALL,    /* slot[dst] = fn(slot[arg .. arg+nargs)) (NULL first if strict and a NULL arg) */
    X_JUMP,    /* pc = aux */
    X_JNT,     /* if slot[arg] is not TRUE: pc = aux */
    X_JNN,     /* if slot[arg] is not NULL: pc = aux */
    X_AND,     /* slot[arg] FALSE: slot[dst] = FALSE, pc = aux; NULL: slot[dst] = NULL */
    X_OR,      /* slot[arg] TRUE: slot[dst] = TRUE, pc = aux; NULL: slot[dst] = NULL */
    X_SETBOOL, /* slot[dst] = bool tag aux8 */
    X_COPY,    /* slot[dst] = slot[arg] */
};

struct op_x_insn {
    uint8_t op;
    uint8_t strict;
    op_type rtype; /* result type */
    uint8_t rtag;  /* the tag of its non-NULL values */
    uint8_t aux8;  /* per-implementation parameter (comparison kind, cast target...) */
    uint8_t flags; /* OP_X_F_* */
    uint16_t nargs;
    int32_t dst;
    int32_t arg;
    int32_t aux;
    op_x_fn fn;
    op_cast_fn castfn; /* op_x_cast_ext's function */
    op_ext_fn extfn;   /* an external call's function */
    uint64_t mask;     /* per-implementation argument bits (op_expr impl_mask) */
    op_type cfrom;     /* casts: the source type */
    eng_type ctype;    /* casts: the target type */
};

#define OP_X_F_BPCHAR 1 /* comparison of two char(n) values: trailing spaces ignored */

struct op_prog {
    op_x_insn *code;
    int ncode, capcode;
    op_val *consts;
    int nconsts, capconsts;
    uint8_t **constmem; /* owned copies of literal payloads */
    int nconstmem, capconstmem;
    int nslots;
    int result;
    op_type type;
    int max_col;
};

/* ------------------------------------------------------------------ evaluator */

typedef struct op_x_blk op_x_blk;
typedef struct op_x_regex op_x_regex;
/* Frees a compiled-pattern cache entry (expr_text.c); NULL is a no-op. */
void op_x_regex_free(op_x_regex *c);

struct op_eval {
    op_val *slots;
    int nslots;
    /* current row */
    eng_row row;
    op_val *cols;
    uint32_t *off; /* input column byte offsets, off[nin] = row.len */
    int nin, ncols, capcols;
    /* scratch arena: blocks never move; reset per row */
    op_x_blk *blk;     /* current block (head of the used list) */
    op_x_blk *spare;   /* reset blocks ready for reuse */
    eng_rowbuf tmp;    /* external calls' output */
    op_x_regex *regex; /* the last pattern ~ compiled (owned) */
};

/* n scratch bytes, valid until the next op_eval_begin. Returns NULL with
 * err set when n is past PostgreSQL's MaxAllocSize (54000 "requested
 * length too large") or memory runs out (53200). */
uint8_t *op_x_alloc(op_eval *ev, size_t n, eng_err *err);

/* PostgreSQL's MaxAllocSize: the largest value a function may build. */
#define OP_X_MAX_ALLOC ((size_t)0x3fffffff)

static inline void
op_x_null(op_val *r)
{
    r->tag = ENG_TAG_NULL;
    r->len = 0;
    r->u.i = 0;
}

static inline void
op_x_bool(op_val *r, bool v)
{
    r->tag = v ? ENG_TAG_TRUE : ENG_TAG_FALSE;
    r->len = 0;
    r->u.i = 0;
}

static inline void
op_x_int(op_val *r, op_type t, int64_t v)
{
    r->tag = t;
    r->len = 0;
    r->u.i = v;
}

static inline void
op_x_float(op_val *r, op_type t, double v)
{
    r->tag = t;
    r->len = 0;
    r->u.f = v;
}

static inline void
op_x_str(op_val *r, const uint8_t *p, uint32_t len)
{
    r->tag = ENG_TAG_TEXT;
    r->len = len;
    r->u.p = p;
}

/* Type predicates (op_type = eng_typeid). */
static inline bool
op_x_is_int(op_type t)
{
    return t == OP_T_INT2 || t == OP_T_INT4 || t == OP_T_INT8;
}

static inline bool
op_x_is_float(op_type t)
{
    return t == OP_T_FLOAT4 || t == OP_T_FLOAT8;
}

static inline bool
op_x_is_num(op_type t)
{
    return op_x_is_int(t) || op_x_is_float(t) || t == OP_T_NUMERIC;
}

/* Character data a text function accepts: text, varchar, char(n) (passed
 * through a cast to text) and upstream types carried as text. */
static inline bool
op_x_is_string(op_type t)
{
    return t == OP_T_TEXT || t == OP_T_VARCHAR || t == OP_T_BPCHAR || t == OP_T_OTHER;
}

static inline bool
op_x_is_datetime(op_type t)
{
    return t == OP_T_DATE || t == OP_T_TIME || t == OP_T_TIMESTAMP || t == OP_T_TIMESTAMPTZ ||
           t == OP_T_INTERVAL;
}

/* Tag predicates (values carry row tags). */
static inline bool
op_x_tag_is_int(uint8_t tag)
{
    return tag == ENG_TAG_INT2 || tag == ENG_TAG_INT4 || tag == ENG_TAG_INT8;
}

static inline bool
op_x_tag_is_float(uint8_t tag)
{
    return tag == ENG_TAG_FLOAT4 || tag == ENG_TAG_FLOAT8;
}

/* A numeric value as double (ints converted, as PostgreSQL's int -> float8). */
static inline double
op_x_num_f(const op_val *v)
{
    return op_x_tag_is_int(v->tag) ? (double)v->u.i : v->u.f;
}

/* The tag values of type t carry (ENG_TAG_TRUE for bool, ENG_TAG_NULL for
 * unknown). */
uint8_t op_x_tag_of(op_type t);
/* The type a literal of this tag has. */
op_type op_x_type_of_tag(uint8_t tag);
/* True if a non-NULL value with this tag may have type t. */
bool op_x_tag_fits(op_type t, uint8_t tag);

/* A non-NULL value as a borrowed datum view (ints/floats are re-encoded
 * into buf, which must hold 8 bytes). */
eng_datum op_x_datum(const op_val *v, uint8_t buf[8]);

/* Decodes a datum into a value (payloads borrowed from d). */
void op_x_decode(eng_datum d, op_val *v);

/* ------------------------------------------------------------------ implementations */

/* expr.c */
/* A fresh e->argwant array (all OP_T_UNKNOWN). */
op_type *op_x_want(op_expr *e);
/* Moves the one datum a library call appended to ev->tmp into the arena
 * and decodes it into r, checking it fits type t. */
int op_x_take_tmp(op_eval *ev, op_type t, op_val *r, eng_err *err);
/* Calls an op_cast_fn (instruction castfn, target aux8) on a non-NULL value. */
int op_x_cast_ext(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);

/* Resolution of a built-in call from its argument types `at`: sets
 * e->rtype, e->impl_fn/impl_strict/impl_aux8 and e->argwant (coercions).
 * Returns 0, or -1 with err set (42883, 42804...). */

/* expr_num.c: arithmetic, comparisons, conditionals */
int op_x_resolve_num(op_expr *e, const op_type *at, eng_err *err);
/* Common type of a list (CASE, COALESCE, GREATEST, IN): 42804 if none. */
int op_x_common_type(const op_type *ts, int n, const char *what, op_type *out, eng_err *err);
/* How values of types a and b compare with operator opname ("=", "<"...),
 * as PostgreSQL resolves it: *ca / *cb are the types to coerce each side
 * to first (OP_T_UNKNOWN: none): ints and numeric compare as numeric, any
 * float as float8 (ints need no coercion: op_x_cmp compares them with
 * floats directly), date < timestamp < timestamptz widen, char(n) against
 * text is text; *bpchar is set for two char(n). 42883 if not comparable. */
int op_x_comparable(op_type a, op_type b, const char *opname, op_type *ca, op_type *cb,
                    bool *bpchar, eng_err *err);
/* Compares two non-NULL values of comparable (coerced) types. */
int op_x_cmp(const op_val *a, const op_val *b, bool bpchar);
/* Comparison kinds (instruction aux8 of op_x_compare). */
enum { OP_X_EQ, OP_X_NE, OP_X_LT, OP_X_LE, OP_X_GT, OP_X_GE };
/* The comparison implementation (strict; aux8 = kind). */
int op_x_compare(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);

/* expr_date.c: date/time arithmetic, date_trunc, extract, date_part.
 * Resolves ADD/SUB when an argument is a date/time type, and the date
 * functions; returns 1 if e is not its business. */
int op_x_resolve_date(op_expr *e, const op_type *at, eng_err *err);

/* expr_str.c: string functions */
int op_x_resolve_str(op_expr *e, const op_type *at, eng_err *err);
/* Number of UTF-8 characters in s (a lead byte starts a character). */
int64_t op_x_utf8_count(const uint8_t *s, uint32_t len);

/* "function f(types) does not exist" / "operator does not exist: a op b"
 * (42883) for e called with argument types at (expr_str.c). */
int op_x_no_function(const op_expr *e, const op_type *at, eng_err *err);

/* expr_math.c: OP_POW .. OP_LCM */
int op_x_resolve_math(op_expr *e, const op_type *at, eng_err *err);
/* expr_text.c: OP_MD5 .. OP_PG_TYPEOF */
int op_x_resolve_text(op_expr *e, const op_type *at, eng_err *err);
/* expr_tz.c: OP_TIMEZONE .. OP_MAKE_TIMESTAMP */
int op_x_resolve_tz(op_expr *e, const op_type *at, eng_err *err);
/* expr_json.c: OP_JSON_GET .. OP_JSONB_STRIP_NULLS */
int op_x_resolve_json(op_expr *e, const op_type *at, eng_err *err);

/* expr_cast.c: casts and text forms */
/* The inline cast implementation from -> to (no typmod), or NULL. */
op_x_fn op_x_cast_impl(op_type from, op_type to);
/* The type library's cast (instruction cfrom -> ctype). */
int op_x_cast_lib(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err);
/* Text form of a non-NULL value: the cast to text (booleans "true"/"false")
 * or, with outfn, the type's output function (booleans "t"/"f"); other
 * types through eng_text_format (their tag names their type). */
int op_x_to_text(op_eval *ev, const op_val *v, bool outfn, op_val *r, eng_err *err);
/* Float output as PostgreSQL prints it (shortest round trip); returns length. */
int op_x_float8_out(double v, char buf[32]);
int op_x_float4_out(float v, char buf[32]);

#endif
