/* Casts between SQL types with PostgreSQL 15's semantics.
 *
 * Notes: the cast table mirrors pg_cast for the supported types: which
 * casts exist and in which context (implicit, assignment, explicit), plus
 * PostgreSQL's automatic I/O conversion casts (any type to a string type in
 * assignment context, a string type to any type explicitly). Conversions
 * round as PostgreSQL does (float -> int: rint, half to even; numeric ->
 * int: half away from zero; float -> numeric: 15 / 6 significant digits),
 * report 22003 "integer out of range" and friends, and apply the target's
 * typmod (length coercion: an explicit cast to varchar(n)/char(n) truncates
 * silently, an assignment fails with 22001). A cast PostgreSQL lacks is
 * 42846 "cannot cast type X to Y". Casting a NULL datum yields NULL.
 * Thread-safe; allocates only inside out (and transiently for long text). */
#ifndef ENG_CAST_H
#define ENG_CAST_H

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_type.h"

typedef enum eng_cast_context {
    ENG_CAST_IMPLICIT = 0,   /* in expressions, without being asked */
    ENG_CAST_ASSIGNMENT = 1, /* storing into a column (INSERT/UPDATE) */
    ENG_CAST_EXPLICIT = 2,   /* CAST(x AS t) / x::t */
} eng_cast_context;

/* The least context in which a cast from -> to exists (ignoring typmods),
 * or -1 if PostgreSQL has no such cast. Same type: ENG_CAST_IMPLICIT. */
int eng_cast_lookup(eng_typeid from, eng_typeid to);

/* Explicit cast of datum d (of type from) to type to, appended to out.
 * On error out is unchanged. */
int eng_cast(const eng_type *from, const eng_type *to, eng_datum d, eng_rowbuf *out, eng_err *err);

/* The same in a given context: fails with 42846 if the cast does not exist
 * in that context; typmod coercion follows the context. */
int eng_cast_ctx(const eng_type *from, const eng_type *to, eng_cast_context ctx, eng_datum d,
                 eng_rowbuf *out, eng_err *err);

#endif
