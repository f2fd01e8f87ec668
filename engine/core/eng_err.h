/* Errors that carry a SQLSTATE, shaped like a pgwire ErrorResponse.
 *
 * Notes: a function that can fail returns int (0, or -1) and fills the
 * caller's eng_err exactly once with eng_err_set(). Callers pass the error
 * up, optionally prefixing context with eng_err_context(); they never
 * overwrite it. Strings live inside the struct: no allocation, no free. */
#ifndef ENG_ERR_H
#define ENG_ERR_H

#include <stdbool.h>
#include <stddef.h>

#include "eng_errcodes.h"

#define ENG_ERR_MSG_MAX 512
#define ENG_ERR_DETAIL_MAX 512
#define ENG_ERR_HINT_MAX 256

typedef enum eng_severity {
    ENG_SEV_ERROR = 0,
    ENG_SEV_FATAL,
    ENG_SEV_WARNING,
    ENG_SEV_NOTICE,
} eng_severity;

typedef struct eng_err {
    char sqlstate[6]; /* "" while unset */
    eng_severity severity;
    int position; /* 1-based cursor position in the statement, 0 if none */
    char message[ENG_ERR_MSG_MAX];
    char detail[ENG_ERR_DETAIL_MAX];
    char hint[ENG_ERR_HINT_MAX];
} eng_err;

/* Resets err to "no error". */
void eng_err_clear(eng_err *err);

/* True once eng_err_set() filled err. */
bool eng_err_isset(const eng_err *err);

/* Fills err with sqlstate (an ENG_ERRCODE_* constant) and a printf-style
 * message. Always returns -1 so callers can `return eng_err_set(...)`.
 * err may be NULL (the error is then dropped). Setting an already-set error
 * is an invariant violation: the first error wins and the call asserts in
 * debug builds. */
int eng_err_set(eng_err *err, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds detail / hint text to an error already set. */
void eng_err_detail(eng_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void eng_err_hint(eng_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes "<context>: " to the message of an error already set. */
void eng_err_context(eng_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The condition name of a SQLSTATE ("division_by_zero"), or NULL if the code
 * is not in errcodes.txt. */
const char *eng_err_condition_name(const char *sqlstate);

/* "ERROR", "FATAL", ... as pgwire spells severities. */
const char *eng_err_severity_name(eng_severity sev);

/* Always-on assertion for our own invariants (never for untrusted input). */
#define ENG_ASSERT(cond) ((cond) ? (void)0 : eng_assert_fail(#cond, __FILE__, __LINE__, __func__))
#ifndef NDEBUG
#define ENG_DASSERT(cond) ENG_ASSERT(cond)
#else
#define ENG_DASSERT(cond) ((void)0)
#endif

/* Marks code our own invariants make unreachable (always on). */
#define ENG_UNREACHABLE(what) eng_assert_fail(what, __FILE__, __LINE__, __func__)

_Noreturn void eng_assert_fail(const char *expr, const char *file, int line, const char *func);

#endif
