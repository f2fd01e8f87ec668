/* Growable string buffer (see eng_strbuf.h). */
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
eng_strbuf_grow(eng_strbuf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need + 1) {
        ENG_ASSERT(cap < ((size_t)-1) / 2);
        cap *= 2;
    }
    if (cap == b->cap)
        return;
    char *d;
    if (b->borrowed) {
        /* Leave the caller's storage for the heap. */
        d = malloc(cap);
        ENG_ASSERT(d != NULL);
        memcpy(d, b->data, b->len + 1);
        b->borrowed = false;
    } else {
        d = realloc(b->data, cap);
        ENG_ASSERT(d != NULL);
        if (b->data == NULL)
            d[0] = '\0';
    }
    b->data = d;
    b->cap = cap;
}

char *
eng_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    ENG_ASSERT(d != NULL);
    return d;
}

void
eng_strbuf_free(eng_strbuf *b)
{
    if (!b->borrowed)
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->borrowed = false;
}

void
eng_strbuf_printf(eng_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[128];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    ENG_ASSERT(n >= 0);
    if ((size_t)n < sizeof small) {
        eng_strbuf_append(b, small, (size_t)n);
        return;
    }
    char *p = eng_strbuf_extend(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
}
