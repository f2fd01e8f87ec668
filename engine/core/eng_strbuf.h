/* A small growable string buffer for text output.
 *
 * Notes: the buffer owns its memory (malloc); eng_strbuf_free releases it.
 * A zero-initialised eng_strbuf ({0}) is a valid empty buffer. A buffer may
 * also start on caller-provided storage (eng_strbuf_init_on, e.g. a stack
 * array): it moves to the heap only if it outgrows it, so short values
 * cost no allocation; eng_strbuf_free is still required. data is kept
 * NUL-terminated after every append once anything was appended, so
 * eng_strbuf_cstr() is cheap; len never counts the terminator. Reuse one
 * buffer across many values (eng_strbuf_reset) to avoid per-value malloc.
 * Allocation failure is fatal (ENG_ASSERT), as for eng_rowbuf. */
#ifndef ENG_STRBUF_H
#define ENG_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct eng_strbuf {
    char *data;
    size_t len, cap;
    bool borrowed; /* data is the caller's storage, not ours to free */
} eng_strbuf;

/* Starts b empty on storage[0..cap) (borrowed until b is freed or grows;
 * cap >= 1). */
static inline void
eng_strbuf_init_on(eng_strbuf *b, char *storage, size_t cap)
{
    b->data = storage;
    b->len = 0;
    b->cap = cap;
    b->borrowed = true;
    storage[0] = '\0';
}

/* Makes room for at least need bytes plus a terminator. */
void eng_strbuf_grow(eng_strbuf *b, size_t need);
void eng_strbuf_free(eng_strbuf *b);

/* A malloc'd copy of s, NULL for NULL; allocation failure is fatal, as
 * above. Free with free(). */
char *eng_strdup(const char *s);

/* Appends printf-style text. */
void eng_strbuf_printf(eng_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void
eng_strbuf_reset(eng_strbuf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Reserves n bytes at the end and returns a pointer to them (borrowed until
 * the next append); the caller fills them. The terminator is written. */
static inline char *
eng_strbuf_extend(eng_strbuf *b, size_t n)
{
    if (b->len + n + 1 > b->cap)
        eng_strbuf_grow(b, b->len + n);
    char *p = b->data + b->len;
    b->len += n;
    b->data[b->len] = '\0';
    return p;
}

static inline void
eng_strbuf_append(eng_strbuf *b, const char *s, size_t n)
{
    char *p = eng_strbuf_extend(b, n);
    if (n)
        memcpy(p, s, n);
}

static inline void
eng_strbuf_puts(eng_strbuf *b, const char *s)
{
    eng_strbuf_append(b, s, strlen(s));
}

static inline void
eng_strbuf_putc(eng_strbuf *b, char c)
{
    *eng_strbuf_extend(b, 1) = c;
}

/* Drops bytes past len (len <= b->len). */
static inline void
eng_strbuf_truncate(eng_strbuf *b, size_t len)
{
    b->len = len;
    if (b->data)
        b->data[len] = '\0';
}

/* The contents as a C string (borrowed until the next append or free);
 * "" for a buffer never appended to. */
static inline const char *
eng_strbuf_cstr(const eng_strbuf *b)
{
    return b->data ? b->data : "";
}

#endif
