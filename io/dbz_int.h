/* Debezium JSON internals shared by dbz_scan.c (the JSON scanner) and
 * dbz_decode.c (envelopes, rows, values). Not part of io_dbz.h.
 *
 * Notes: a message is checked once by io_dbz_json_check (the whole text,
 * with jansson's acceptance rules), then read in place with the cursor
 * helpers below, which trust the check: they never fail, and they never
 * load past `end`. Pointers into the message are borrowed from the
 * caller's buffer. */
#ifndef IO_DBZ_INT_H
#define IO_DBZ_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_strbuf.h"

/* Deepest nesting of values accepted: jansson's JSON_PARSER_MAX_DEPTH, so
 * the scanner and the tree decoder it replaced agree on every input. */
#define IO_DBZ_JSON_MAX_DEPTH 2048

/* A string's raw contents, between its quotes, escapes not applied. */
typedef struct io_dbz_jstr {
    const char *p;
    size_t n;
    bool esc; /* contains a backslash escape */
} io_dbz_jstr;

/* The members of one object, as the check saw them (at most
 * IO_DBZ_JSON_MEMBERS; complete is false if the object had more, or was
 * not seen). */
#define IO_DBZ_JSON_MEMBERS 16
typedef struct io_dbz_jmembers {
    bool complete;
    int n;
    struct {
        io_dbz_jstr key;
        const char *val; /* first byte of the value */
    } m[IO_DBZ_JSON_MEMBERS];
} io_dbz_jmembers;

/* What the check learnt about the top-level value: where it is, and the
 * members of the two objects an envelope can be (the top-level object,
 * and the object that is its "payload" member's value), so the decoder
 * finds op, source, before, after... without walking over them again. */
typedef struct io_dbz_jroot {
    const char *value;     /* first byte of the top-level value ('{' or '[') */
    size_t nmembers;       /* members of a top-level object (0 for an array) */
    const char *schema;    /* value of the top-level "schema" member, or NULL */
    const char *payload;   /* value of the top-level "payload" member, or NULL */
    io_dbz_jmembers top;   /* the top-level object's members */
    io_dbz_jmembers inner; /* the members of the object at payload */
} io_dbz_jroot;

/* Checks that s[0..n) is one JSON text as jansson's json_loadb(s, n,
 * JSON_REJECT_DUPLICATES, ...) accepts it (see dbz_scan.c for the rules)
 * and fills *root. Returns 0, or -1 with 22P02 "invalid JSON in Debezium
 * message: ..." naming the byte offset. Allocates only for pathological
 * texts (over 128 keys of open objects pending at once, or a real of 128+
 * characters near the double range); never reads outside s[0..n). */
int io_dbz_json_check(const char *s, size_t n, io_dbz_jroot *root, eng_err *err);

/* ------------------------------------------------ cursors over checked text */

/* An iteration over the members of an object or the elements of an array. */
typedef struct io_dbz_jiter {
    const char *p, *end;
    const char *val; /* the current value; the next call skips it */
} io_dbz_jiter;

/* Past white space (p <= end). */
const char *io_dbz_json_ws(const char *p, const char *end);
/* p at a value: just past it. */
const char *io_dbz_json_skip(const char *p, const char *end);
/* p at '"': fills *s, returns just past the closing quote. */
const char *io_dbz_json_string(const char *p, const char *end, io_dbz_jstr *s);
/* p at a number: just past it. */
const char *io_dbz_json_number_end(const char *p, const char *end);

/* Starts iterating the object or array whose '{' or '[' is at p. */
static inline void
io_dbz_json_iter(io_dbz_jiter *it, const char *p, const char *end)
{
    it->p = p + 1;
    it->end = end;
    it->val = NULL;
}
/* The next member of an object: its key and the start of its value; false
 * after the last. */
bool io_dbz_json_member(io_dbz_jiter *it, io_dbz_jstr *key, const char **val);
/* The next element of an array; false after the last. */
bool io_dbz_json_element(io_dbz_jiter *it, const char **val);

/* True if the unescaped string s equals c[0..n). */
bool io_dbz_json_str_eq_esc(const io_dbz_jstr *s, const char *c, size_t n);
static inline bool
io_dbz_json_str_eq(const io_dbz_jstr *s, const char *c, size_t n)
{
    if (s->esc)
        return io_dbz_json_str_eq_esc(s, c, n);
    return s->n == n && memcmp(s->p, c, n) == 0;
}
/* Appends the unescaped contents of s to out (never longer than s->n). */
void io_dbz_json_unescape(const io_dbz_jstr *s, eng_strbuf *out);
/* Unescapes s into buf[0..cap) and returns its length, or SIZE_MAX if it
 * does not fit. */
size_t io_dbz_json_unescape_to(const io_dbz_jstr *s, char *buf, size_t cap);

/* strtod of the number token p[0..n) (copied and terminated: the message
 * is not). Returns 0, or -1 if it overflows a double (jansson's rule). */
int io_dbz_json_real(const char *p, size_t n, double *out);

#endif
