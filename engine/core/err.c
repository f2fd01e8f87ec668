/* SQLSTATE-carrying error values. */
#include "engine/core/eng_err.h"
#include "engine/core/eng_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *code;
    const char *name;
} errcode_table[] = {ENG_ERRCODE_TABLE};

void
eng_err_clear(eng_err *err)
{
    if (err == NULL)
        return;
    err->sqlstate[0] = '\0';
    err->severity = ENG_SEV_ERROR;
    err->position = 0;
    err->message[0] = err->detail[0] = err->hint[0] = '\0';
}

bool
eng_err_isset(const eng_err *err)
{
    return err != NULL && err->sqlstate[0] != '\0';
}

int
eng_err_set(eng_err *err, const char *sqlstate, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    ENG_DASSERT(!eng_err_isset(err));
    if (eng_err_isset(err))
        return -1; /* first error wins */
    ENG_ASSERT(sqlstate != NULL && strlen(sqlstate) == 5);
    memcpy(err->sqlstate, sqlstate, 6);
    err->severity = ENG_SEV_ERROR;
    err->position = 0;
    err->detail[0] = err->hint[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static void
vappend(char *dst, size_t cap, const char *fmt, va_list ap)
{
    vsnprintf(dst, cap, fmt, ap);
}

void
eng_err_detail(eng_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vappend(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
}

void
eng_err_hint(eng_err *err, const char *fmt, ...)
{
    if (err == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vappend(err->hint, sizeof err->hint, fmt, ap);
    va_end(ap);
}

void
eng_err_context(eng_err *err, const char *fmt, ...)
{
    if (err == NULL || !eng_err_isset(err))
        return;
    char ctx[ENG_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx, sizeof ctx, fmt, ap);
    va_end(ap);
    /* Build "<ctx>: <message>" by hand: snprintf into a same-size buffer
     * trips -Wformat-truncation, and truncation is what we want here. */
    char joined[ENG_ERR_MSG_MAX];
    size_t cl = strnlen(ctx, sizeof joined - 1);
    memcpy(joined, ctx, cl);
    size_t n = cl;
    if (n + 2 < sizeof joined) {
        joined[n++] = ':';
        joined[n++] = ' ';
    }
    size_t ml = strnlen(err->message, sizeof joined - 1 - n);
    memcpy(joined + n, err->message, ml);
    joined[n + ml] = '\0';
    memcpy(err->message, joined, sizeof joined);
}

const char *
eng_err_condition_name(const char *sqlstate)
{
    if (sqlstate == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof errcode_table / sizeof errcode_table[0]; i++)
        if (strcmp(errcode_table[i].code, sqlstate) == 0)
            return errcode_table[i].name;
    return NULL;
}

const char *
eng_err_severity_name(eng_severity sev)
{
    switch (sev) {
    case ENG_SEV_FATAL:
        return "FATAL";
    case ENG_SEV_WARNING:
        return "WARNING";
    case ENG_SEV_NOTICE:
        return "NOTICE";
    case ENG_SEV_ERROR:
    default:
        return "ERROR";
    }
}

void
eng_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    eng_log(ENG_LOG_ERROR, "assertion failed: %s (%s:%d in %s)", expr, file, line, func);
    fprintf(stderr, "sluice: assertion failed: %s (%s:%d in %s)\n", expr, file, line, func);
    abort();
}
