/* The lexer for Sluice's own statements (see lex.h). */
#include "engine/server/lex.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

void
ex_lex_ws(ex_lexer *l)
{
    for (;;) {
        while (isspace((unsigned char)*l->p))
            l->p++;
        if (l->p[0] == '-' && l->p[1] == '-') {
            while (*l->p && *l->p != '\n')
                l->p++;
            continue;
        }
        return;
    }
}

bool
ex_lex_kw(ex_lexer *l, const char *k)
{
    ex_lex_ws(l);
    size_t n = strlen(k);
    if (strncasecmp(l->p, k, n) != 0 || isalnum((unsigned char)l->p[n]) || l->p[n] == '_')
        return false;
    l->p += n;
    return true;
}

bool
ex_lex_punct(ex_lexer *l, char c)
{
    ex_lex_ws(l);
    if (*l->p != c)
        return false;
    l->p++;
    return true;
}

bool
ex_lex_end(ex_lexer *l)
{
    ex_lex_ws(l);
    if (*l->p == ';')
        l->p++;
    ex_lex_ws(l);
    return *l->p == '\0';
}

int
ex_lex_syntax(ex_lexer *l, eng_err *err, const char *what)
{
    ex_lex_ws(l);
    eng_err_set(err, ENG_ERRCODE_SYNTAX_ERROR, "syntax error: expected %s", what);
    err->position = (int)(l->p - l->sql) + 1;
    return -1;
}

/* An identifier (lower-cased unless quoted), a string literal or a
 * number, into buf. */
bool
ex_lex_value(ex_lexer *l, char *buf, size_t cap)
{
    ex_lex_ws(l);
    size_t k = 0;
    const char *p = l->p;
    if (*p == '\'') {
        p++;
        for (;;) {
            if (*p == '\0')
                return false;
            if (*p == '\'' && p[1] == '\'') {
                p += 2;
                if (k + 1 < cap)
                    buf[k++] = '\'';
                continue;
            }
            if (*p == '\'') {
                p++;
                break;
            }
            if (k + 1 < cap)
                buf[k++] = *p;
            p++;
        }
    } else if (*p == '"') {
        p++;
        while (*p && *p != '"') {
            if (k + 1 < cap)
                buf[k++] = *p;
            p++;
        }
        if (*p != '"')
            return false;
        p++;
    } else if (isalnum((unsigned char)*p) || *p == '_') {
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-')
            if (k + 1 < cap)
                buf[k++] = (char)tolower((unsigned char)*p++);
            else
                p++;
    } else {
        return false;
    }
    buf[k] = '\0';
    l->p = p;
    return true;
}

/* One identifier part (no dots) into buf. */
static bool
ident(ex_lexer *l, char *buf, size_t cap)
{
    ex_lex_ws(l);
    const char *p = l->p;
    size_t k = 0;
    if (*p == '"') {
        p++;
        for (;;) {
            if (*p == '\0')
                return false;
            if (*p == '"' && p[1] == '"') {
                if (k + 1 < cap)
                    buf[k++] = '"';
                p += 2;
                continue;
            }
            if (*p == '"')
                break;
            if (k + 1 < cap)
                buf[k++] = *p;
            p++;
        }
        p++;
    } else if (isalpha((unsigned char)*p) || *p == '_') {
        while (isalnum((unsigned char)*p) || *p == '_' || *p == '$')
            if (k + 1 < cap)
                buf[k++] = (char)tolower((unsigned char)*p++);
            else
                p++;
    } else {
        return false;
    }
    buf[k] = '\0';
    l->p = p;
    return true;
}

int
ex_lex_qname(ex_lexer *l, char parts[][128], int max)
{
    int n = 0;
    if (!ident(l, parts[0], 128))
        return 0;
    n = 1;
    while (n < max && *l->p == '.') {
        const char *save = l->p;
        l->p++;
        if (!ident(l, parts[n], 128)) {
            l->p = save;
            break;
        }
        n++;
    }
    return n;
}

bool
ex_lex_string(ex_lexer *l, char *buf, size_t cap)
{
    ex_lex_ws(l);
    if (*l->p != '\'')
        return false;
    return ex_lex_value(l, buf, cap);
}
