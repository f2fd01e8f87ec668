/* A small lexer for Sluice's own statements (CREATE CONNECTION, CREATE
 * SOURCE, ...), which libpg_query cannot parse: keywords, punctuation,
 * identifiers (lower-cased unless quoted), string literals and numbers,
 * with -- comments skipped. Errors carry the position for pgwire. */
#ifndef ENG_LEX_H
#define ENG_LEX_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/core/eng_err.h"

typedef struct ex_lexer {
    const char *sql, *p;
} ex_lexer;

void ex_lex_ws(ex_lexer *l);
/* Consumes keyword k (case-insensitive, whole word) if next. */
bool ex_lex_kw(ex_lexer *l, const char *k);
bool ex_lex_punct(ex_lexer *l, char c);
/* Whether the statement ends here: only blanks, comments and one ';'
 * follow (they are consumed). */
bool ex_lex_end(ex_lexer *l);
/* 42601 "syntax error: expected <what>" at the current position; returns -1. */
int ex_lex_syntax(ex_lexer *l, eng_err *err, const char *what);
/* An identifier (lower-cased unless quoted; unquoted ones may contain '.'
 * and '-'), a string literal or a number, into buf. */
bool ex_lex_value(ex_lexer *l, char *buf, size_t cap);
/* A possibly qualified name: up to max parts separated by '.', each an
 * identifier (lower-cased unless quoted). Returns the part count, 0 if
 * there is no name here. */
int ex_lex_qname(ex_lexer *l, char parts[][128], int max);
/* A string literal into buf (false if the next token is not one). */
bool ex_lex_string(ex_lexer *l, char *buf, size_t cap);

#endif
