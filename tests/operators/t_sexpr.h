/* Test helper: a tiny S-expression language that builds an op_expr tree and
 * renders the same expression as PostgreSQL SQL, so one case list drives
 * both the unit tests and the differential test against PostgreSQL.
 *
 *   atoms   42 -7           int4 literal (int8 if it does not fit)
 *           i2:5 i4:5 i8:5  typed ints;  f4:1.5 f8:-0.25 f8:nan f8:inf  floats
 *           1.5             float8
 *           'it''s'         text;  true false;  null (untyped) null:i4 (typed)
 *           $3              input column 3
 *   calls   (+ a b) (- a b) (* a b) (/ a b) (% a b) (neg a) (abs a)
 *           (= a b) (<> a b) (< a b) (<= a b) (> a b) (>= a b)
 *           (distinct a b) (notdistinct a b)
 *           (and a b ...) (or a b ...) (not a) (isnull a) (isnotnull a)
 *           (istrue a) (isnottrue a) (isfalse a) (isnotfalse a)
 *           (isunknown a) (isnotunknown a)
 *           (coalesce a ...) (nullif a b) (greatest a ...) (least a ...)
 *           (in a b ...) (notin a b ...)
 *           (case (when c r) ... [(else e)])   (casex x (when v r) ... [(else e)])
 *           (cast TYPE a)   TYPE: bool i2 i4 i8 f4 f8 text, or a type name
 *                           without spaces (numeric(10,2), varchar(3), date...)
 *           (lit TYPE 'text')  a literal through the type's input function
 *           (extract FIELD a)  EXTRACT(FIELD FROM a)
 *           (|| a b) (like s p [esc]) (notlike ...) (ilike ...) (notilike ...)
 *           (position sub s) (substring s from [for]) (trim-both s [chars])
 *           (trim-leading s [chars]) (trim-trailing s [chars])
 *           any other name: the function of that name (length, upper, lpad...) */
#ifndef T_SEXPR_H
#define T_SEXPR_H

#include <stddef.h>

#include "operators/op_expr.h"

/* Parses src. On success returns 0, *out is the tree (caller frees) and sql
 * holds the PostgreSQL rendering. On a syntax error returns -1 with a
 * message in sql. */
int t_sexpr_parse(const char *src, op_expr **out, char *sql, size_t sqlcap);

/* Parses, wraps in CAST(... AS text), compiles for the given columns and
 * evaluates over row r (may be an empty row). Writes "NULL", the text
 * value, or "ERROR <sqlstate>: <message>" into res. Returns 0, or -1 if the
 * source or its compilation failed (message in res). */
int t_sexpr_eval(const char *src, int ncols, const op_type *types, eng_row r, char *res,
                 size_t rescap);

#endif
