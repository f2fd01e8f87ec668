/* json validation and jsonb canonical text (PostgreSQL 15's json lexer and
 * grammar, jsonb's key order and output format).
 *
 * Notes: one non-recursive pushdown parser serves both types. json only
 * validates (as PostgreSQL's json_in, \u escapes are checked for four hex
 * digits but not decoded); jsonb decodes strings (surrogate pairs joined,
 * \u0000 rejected with 22P05), normalises numbers through numeric, and
 * builds a flat tree whose objects are sorted by key (shorter first, then
 * bytewise) keeping the last of duplicate keys, then prints it as
 * PostgreSQL's jsonb_out does. Nesting is bounded (54001) so hostile input
 * cannot exhaust memory through the container stack. Scratch memory is
 * malloc'd per call and freed before returning. */
#include "engine/core/eng_hex.h"
#include "engine/core/eng_numeric.h"
#include "engine/core/eng_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 6400

/* ------------------------------------------------------------------ growable arrays */

typedef struct {
    void *p;
    size_t len, cap, elem;
} vec;

static void *
vec_push(vec *v)
{
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *np = realloc(v->p, cap * v->elem);
        ENG_ASSERT(np != NULL);
        v->p = np;
        v->cap = cap;
    }
    return (char *)v->p + v->elem * v->len++;
}

/* ------------------------------------------------------------------ jsonb tree */

enum { JV_NULL, JV_TRUE, JV_FALSE, JV_NUMBER, JV_STRING, JV_ARRAY, JV_OBJECT };

typedef struct {
    uint8_t kind;
    uint32_t a, b; /* scalars: text offset/len in pool; containers: first child in kids, count */
} jnode;

typedef struct {
    vec nodes;       /* jnode */
    vec kids;        /* uint32_t node indices, containers' children contiguous */
    vec stack;       /* uint32_t: completed values not yet adopted by a container */
    eng_strbuf pool; /* decoded strings and number texts */
} builder;

static uint32_t
new_node(builder *b, uint8_t kind, uint32_t a, uint32_t len)
{
    jnode *n = vec_push(&b->nodes);
    n->kind = kind;
    n->a = a;
    n->b = len;
    uint32_t idx = (uint32_t)(b->nodes.len - 1);
    *(uint32_t *)vec_push(&b->stack) = idx;
    return idx;
}

/* Orders object keys as jsonb does: shorter first, then bytewise. */
static int
key_cmp(const builder *b, uint32_t ka, uint32_t kb)
{
    const jnode *nodes = b->nodes.p;
    const jnode *x = &nodes[ka], *y = &nodes[kb];
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    return memcmp(b->pool.data + x->a, b->pool.data + y->a, x->b);
}

/* Stable merge sort of (key, value) index pairs, so duplicates keep their
 * input order and the last one can win. */
static void
sort_pairs(const builder *b, uint32_t *pairs, uint32_t *tmp, uint32_t n)
{
    if (n < 2)
        return;
    uint32_t h = n / 2;
    sort_pairs(b, pairs, tmp, h);
    sort_pairs(b, pairs + 2 * h, tmp, n - h);
    uint32_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (key_cmp(b, pairs[2 * j], pairs[2 * i]) < 0) {
            tmp[2 * k] = pairs[2 * j];
            tmp[2 * k + 1] = pairs[2 * j + 1];
            j++;
        } else {
            tmp[2 * k] = pairs[2 * i];
            tmp[2 * k + 1] = pairs[2 * i + 1];
            i++;
        }
        k++;
    }
    for (; i < h; i++, k++) {
        tmp[2 * k] = pairs[2 * i];
        tmp[2 * k + 1] = pairs[2 * i + 1];
    }
    for (; j < n; j++, k++) {
        tmp[2 * k] = pairs[2 * j];
        tmp[2 * k + 1] = pairs[2 * j + 1];
    }
    memcpy(pairs, tmp, (size_t)n * 2 * sizeof *pairs);
}

/* Closes a container whose children are the top `count` stack entries. */
static void
close_container(builder *b, uint8_t kind, uint32_t count)
{
    uint32_t *items = count ? (uint32_t *)b->stack.p + b->stack.len - count : NULL;
    uint32_t first = (uint32_t)b->kids.len;
    uint32_t kept = count;
    if (kind == JV_ARRAY) {
        for (uint32_t i = 0; i < count; i++)
            *(uint32_t *)vec_push(&b->kids) = items[i];
    } else {
        uint32_t npairs = count / 2;
        uint32_t *pairs = malloc((size_t)(npairs ? npairs : 1) * 4 * sizeof *pairs);
        ENG_ASSERT(pairs != NULL);
        if (npairs)
            memcpy(pairs, items, (size_t)npairs * 2 * sizeof *pairs);
        sort_pairs(b, pairs, pairs + 2 * (size_t)npairs, npairs);
        kept = 0;
        for (uint32_t i = 0; i < npairs; i++) {
            if (i + 1 < npairs && key_cmp(b, pairs[2 * i], pairs[2 * i + 2]) == 0)
                continue; /* a later duplicate wins */
            *(uint32_t *)vec_push(&b->kids) = pairs[2 * i];
            *(uint32_t *)vec_push(&b->kids) = pairs[2 * i + 1];
            kept += 2;
        }
        free(pairs);
    }
    b->stack.len -= count;
    new_node(b, kind, first, kept);
}

/* escape_json */
static void
put_string(eng_strbuf *out, const char *s, size_t n)
{
    eng_strbuf_putc(out, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char tmp[8];
        switch (c) {
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        default:
            if (c < ' ') {
                snprintf(tmp, sizeof tmp, "\\u%04x", c);
                esc = tmp;
            }
            break;
        }
        if (esc == NULL)
            continue;
        eng_strbuf_append(out, s + run, i - run);
        eng_strbuf_puts(out, esc);
        run = i + 1;
    }
    eng_strbuf_append(out, s + run, n - run);
    eng_strbuf_putc(out, '"');
}

/* Prints the tree rooted at root without recursion. */
static void
print_tree(const builder *b, uint32_t root, eng_strbuf *out)
{
    const jnode *nodes = b->nodes.p;
    const uint32_t *kids = b->kids.p;
    typedef struct {
        uint32_t node, next;
    } frame;
    vec st = {.elem = sizeof(frame)};
    uint32_t cur = root;
    for (;;) {
        const jnode *n = &nodes[cur];
        switch (n->kind) {
        case JV_NULL:
            eng_strbuf_puts(out, "null");
            break;
        case JV_TRUE:
            eng_strbuf_puts(out, "true");
            break;
        case JV_FALSE:
            eng_strbuf_puts(out, "false");
            break;
        case JV_NUMBER:
            eng_strbuf_append(out, b->pool.data + n->a, n->b);
            break;
        case JV_STRING:
            put_string(out, b->pool.data + n->a, n->b);
            break;
        default: {
            eng_strbuf_putc(out, n->kind == JV_ARRAY ? '[' : '{');
            frame *f = vec_push(&st);
            f->node = cur;
            f->next = 0;
            break;
        }
        }
        /* Find the next value to print, closing finished containers. */
        for (;;) {
            if (st.len == 0) {
                free(st.p);
                return;
            }
            frame *f = (frame *)st.p + st.len - 1;
            const jnode *c = &nodes[f->node];
            if (f->next >= c->b) {
                eng_strbuf_putc(out, c->kind == JV_ARRAY ? ']' : '}');
                st.len--;
                continue;
            }
            if (f->next > 0)
                eng_strbuf_puts(out, ", ");
            if (c->kind == JV_OBJECT) {
                const jnode *k = &nodes[kids[c->a + f->next]];
                put_string(out, b->pool.data + k->a, k->b);
                eng_strbuf_puts(out, ": ");
                cur = kids[c->a + f->next + 1];
                f->next += 2;
            } else {
                cur = kids[c->a + f->next];
                f->next += 1;
            }
            break;
        }
    }
}

/* ------------------------------------------------------------------ lexer + parser */

typedef enum {
    T_END,
    T_LBRACE,
    T_RBRACE,
    T_LBRACKET,
    T_RBRACKET,
    T_COMMA,
    T_COLON,
    T_STRING,
    T_NUMBER,
    T_TRUE,
    T_FALSE,
    T_NULL,
} tok_t;

typedef struct {
    const char *s;
    size_t n, pos;
    tok_t tok;
    size_t tstart, tend;       /* token text */
    builder *b;                /* NULL: validate only */
    uint32_t str_off, str_len; /* decoded string in b->pool */
    eng_err *err;
} parser;

static bool
is_alnum_json(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$' || c >= 0x80;
}

static int
fail(parser *p, const char *sqlstate, const char *detail)
{
    if (strcmp(sqlstate, ENG_ERRCODE_UNTRANSLATABLE_CHARACTER) == 0)
        eng_err_set(p->err, sqlstate, "unsupported Unicode escape sequence");
    else
        eng_err_set(p->err, sqlstate, "invalid input syntax for type json");
    eng_err_detail(p->err, "%s", detail);
    return -1;
}

static int
fail_token(parser *p, size_t start, size_t end)
{
    char msg[256];
    int len = (int)(end - start > 200 ? 200 : end - start);
    snprintf(msg, sizeof msg, "Token \"%.*s\" is invalid.", len, p->s + start);
    return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, msg);
}

static void
put_utf8(eng_strbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    eng_strbuf_append(b, u, n);
}

/* Lexes a string starting at the opening quote. */
static int
lex_string(parser *p)
{
    const char *s = p->s;
    size_t i = p->pos + 1;
    eng_strbuf *pool = p->b ? &p->b->pool : NULL;
    size_t start_len = pool ? pool->len : 0;
    long hi_sur = -1;
    size_t run = i;
    for (;;) {
        if (i >= p->n) {
            p->tend = i;
            return fail_token(p, p->tstart, i);
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '"')
            break;
        if (c < 0x20) {
            char msg[64];
            snprintf(msg, sizeof msg, "Character with value 0x%02x must be escaped.", c);
            return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, msg);
        }
        if (c != '\\') {
            if (pool && hi_sur != -1)
                return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                            "Unicode low surrogate must follow a high surrogate.");
            i++;
            continue;
        }
        /* An escape. */
        if (pool)
            eng_strbuf_append(pool, s + run, i - run);
        i++;
        if (i >= p->n)
            return fail_token(p, p->tstart, i);
        char e = s[i];
        if (e == 'u') {
            int v = 0;
            for (int k = 1; k <= 4; k++) {
                int h = i + (size_t)k < p->n ? eng_hex_digit(s[i + (size_t)k]) : -1;
                if (h < 0)
                    return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                                "\"\\u\" must be followed by four hexadecimal digits.");
                v = v * 16 + h;
            }
            i += 5;
            run = i;
            if (!pool)
                continue;
            if (v >= 0xD800 && v <= 0xDBFF) {
                if (hi_sur != -1)
                    return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                                "Unicode high surrogate must not follow a high surrogate.");
                hi_sur = v;
                continue;
            }
            uint32_t cp = (uint32_t)v;
            if (v >= 0xDC00 && v <= 0xDFFF) {
                if (hi_sur == -1)
                    return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                                "Unicode low surrogate must follow a high surrogate.");
                cp = 0x10000 + (((uint32_t)hi_sur & 0x3FF) << 10) + ((uint32_t)v & 0x3FF);
                hi_sur = -1;
            }
            if (hi_sur != -1)
                return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                            "Unicode low surrogate must follow a high surrogate.");
            if (cp == 0)
                return fail(p, ENG_ERRCODE_UNTRANSLATABLE_CHARACTER,
                            "\\u0000 cannot be converted to text.");
            put_utf8(pool, cp);
            continue;
        }
        if (pool && hi_sur != -1)
            return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                        "Unicode low surrogate must follow a high surrogate.");
        char out;
        switch (e) {
        case '"':
        case '\\':
        case '/':
            out = e;
            break;
        case 'b':
            out = '\b';
            break;
        case 'f':
            out = '\f';
            break;
        case 'n':
            out = '\n';
            break;
        case 'r':
            out = '\r';
            break;
        case 't':
            out = '\t';
            break;
        default: {
            char msg[64];
            unsigned char ec = (unsigned char)e;
            int cl = ec < 0x80 ? 1 : (ec & 0xe0) == 0xc0 ? 2 : (ec & 0xf0) == 0xe0 ? 3 : 4;
            if ((size_t)cl > p->n - i)
                cl = (int)(p->n - i);
            snprintf(msg, sizeof msg, "Escape sequence \"\\%.*s\" is invalid.", cl, s + i);
            return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, msg);
        }
        }
        if (pool)
            eng_strbuf_putc(pool, out);
        i++;
        run = i;
    }
    if (pool && hi_sur != -1)
        return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                    "Unicode low surrogate must follow a high surrogate.");
    if (pool) {
        eng_strbuf_append(pool, s + run, i - run);
        p->str_off = (uint32_t)start_len;
        p->str_len = (uint32_t)(pool->len - start_len);
    }
    p->pos = i + 1;
    p->tend = p->pos;
    p->tok = T_STRING;
    return 0;
}

static int
lex_number(parser *p)
{
    const char *s = p->s;
    size_t i = p->pos;
    bool ok = true;
    if (s[i] == '-')
        i++;
    if (i < p->n && s[i] == '0') {
        i++;
    } else if (i < p->n && s[i] >= '1' && s[i] <= '9') {
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        ok = false;
    }
    if (ok && i < p->n && s[i] == '.') {
        i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            ok = false;
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (ok && i < p->n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < p->n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->n || s[i] < '0' || s[i] > '9')
            ok = false;
        while (i < p->n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    /* Trailing letters or digits make the whole run one bad token. */
    size_t end = i;
    while (end < p->n && is_alnum_json((unsigned char)s[end]))
        end++;
    if (!ok || end != i)
        return fail_token(p, p->tstart, end);
    p->pos = p->tend = i;
    p->tok = T_NUMBER;
    return 0;
}

static int
next_tok(parser *p)
{
    while (p->pos < p->n && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
                             p->s[p->pos] == '\r'))
        p->pos++;
    p->tstart = p->pos;
    if (p->pos >= p->n) {
        p->tok = T_END;
        p->tend = p->pos;
        return 0;
    }
    char c = p->s[p->pos];
    switch (c) {
    case '{':
        p->tok = T_LBRACE;
        break;
    case '}':
        p->tok = T_RBRACE;
        break;
    case '[':
        p->tok = T_LBRACKET;
        break;
    case ']':
        p->tok = T_RBRACKET;
        break;
    case ',':
        p->tok = T_COMMA;
        break;
    case ':':
        p->tok = T_COLON;
        break;
    case '"':
        return lex_string(p);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return lex_number(p);
        {
            size_t end = p->pos;
            while (end < p->n && is_alnum_json((unsigned char)p->s[end]))
                end++;
            if (end == p->pos)
                return fail_token(p, p->pos, p->pos + 1);
            size_t len = end - p->pos;
            if (len == 4 && memcmp(p->s + p->pos, "true", 4) == 0)
                p->tok = T_TRUE;
            else if (len == 5 && memcmp(p->s + p->pos, "false", 5) == 0)
                p->tok = T_FALSE;
            else if (len == 4 && memcmp(p->s + p->pos, "null", 4) == 0)
                p->tok = T_NULL;
            else
                return fail_token(p, p->pos, end);
            p->pos = p->tend = end;
            return 0;
        }
    }
    p->pos++;
    p->tend = p->pos;
    return 0;
}

static int
expected(parser *p, const char *what)
{
    if (p->tok == T_END)
        return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                    "The input string ended unexpectedly.");
    char msg[300];
    int len = (int)(p->tend - p->tstart > 200 ? 200 : p->tend - p->tstart);
    snprintf(msg, sizeof msg, "Expected %s, but found \"%.*s\".", what, len, p->s + p->tstart);
    return fail(p, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION, msg);
}

/* Emits the scalar at the current token into the builder. */
static int
emit_scalar(parser *p)
{
    builder *b = p->b;
    if (b == NULL)
        return 0;
    switch (p->tok) {
    case T_STRING:
        new_node(b, JV_STRING, p->str_off, p->str_len);
        return 0;
    case T_TRUE:
        new_node(b, JV_TRUE, 0, 0);
        return 0;
    case T_FALSE:
        new_node(b, JV_FALSE, 0, 0);
        return 0;
    case T_NULL:
        new_node(b, JV_NULL, 0, 0);
        return 0;
    case T_NUMBER: {
        eng_numeric v;
        eng_numeric_init(&v);
        int rc = eng_numeric_parse(p->s + p->tstart, p->tend - p->tstart, -1, &v, p->err);
        if (rc == 0) {
            size_t off = b->pool.len;
            eng_numeric_format(&v, &b->pool);
            new_node(b, JV_NUMBER, (uint32_t)off, (uint32_t)(b->pool.len - off));
        }
        eng_numeric_free(&v);
        return rc;
    }
    default:
        ENG_UNREACHABLE("not a scalar");
        return -1;
    }
}

typedef struct {
    uint8_t kind;   /* JV_ARRAY / JV_OBJECT */
    uint32_t count; /* values (arrays) or keys + values (objects) pushed so far */
} level;

/* The grammar as a pushdown automaton over an explicit container stack. */
static int
parse(parser *p)
{
    vec levels = {.elem = sizeof(level)};
    int rc = -1;
    if (next_tok(p) < 0)
        goto out;
    enum { S_VALUE, S_AFTER_VALUE } state = S_VALUE;
    for (;;) {
        level *top = levels.len ? (level *)levels.p + levels.len - 1 : NULL;
        if (state == S_VALUE) {
            switch (p->tok) {
            case T_LBRACE:
            case T_LBRACKET: {
                if (levels.len >= MAX_DEPTH) {
                    eng_err_set(p->err, ENG_ERRCODE_STATEMENT_TOO_COMPLEX,
                                "stack depth limit exceeded");
                    goto out;
                }
                level *l = vec_push(&levels);
                l->kind = p->tok == T_LBRACE ? JV_OBJECT : JV_ARRAY;
                l->count = 0;
                if (next_tok(p) < 0)
                    goto out;
                if (l->kind == JV_OBJECT) {
                    if (p->tok == T_RBRACE) {
                        goto close;
                    }
                    if (p->tok != T_STRING) {
                        expected(p, "string or \"}\"");
                        goto out;
                    }
                    goto key;
                }
                if (p->tok == T_RBRACKET)
                    goto close;
                continue; /* first array element */
            }
            case T_STRING:
            case T_NUMBER:
            case T_TRUE:
            case T_FALSE:
            case T_NULL:
                if (emit_scalar(p) < 0)
                    goto out;
                if (top)
                    top->count++;
                if (next_tok(p) < 0)
                    goto out;
                state = S_AFTER_VALUE;
                continue;
            default:
                expected(p, "JSON value");
                goto out;
            }
        }
        /* S_AFTER_VALUE */
        if (top == NULL) {
            if (p->tok != T_END) {
                expected(p, "end of input");
                goto out;
            }
            rc = 0;
            goto out;
        }
        if (top->kind == JV_ARRAY) {
            if (p->tok == T_COMMA) {
                if (next_tok(p) < 0)
                    goto out;
                state = S_VALUE;
                continue;
            }
            if (p->tok == T_RBRACKET)
                goto close;
            expected(p, "\",\" or \"]\"");
            goto out;
        }
        if (p->tok == T_RBRACE)
            goto close;
        if (p->tok != T_COMMA) {
            expected(p, "\",\" or \"}\"");
            goto out;
        }
        if (next_tok(p) < 0)
            goto out;
        if (p->tok != T_STRING) {
            expected(p, "string");
            goto out;
        }
    key:
        /* current token is a key string */
        top = (level *)levels.p + levels.len - 1;
        if (p->b)
            new_node(p->b, JV_STRING, p->str_off, p->str_len);
        top->count++;
        if (next_tok(p) < 0)
            goto out;
        if (p->tok != T_COLON) {
            expected(p, "\":\"");
            goto out;
        }
        if (next_tok(p) < 0)
            goto out;
        state = S_VALUE;
        continue;
    close:
        top = (level *)levels.p + levels.len - 1;
        if (p->b)
            close_container(p->b, top->kind, top->count);
        levels.len--;
        if (levels.len)
            ((level *)levels.p + levels.len - 1)->count++;
        if (next_tok(p) < 0)
            goto out;
        state = S_AFTER_VALUE;
    }
out:
    free(levels.p);
    return rc;
}

int
eng_json_validate(const char *s, size_t n, eng_err *err)
{
    parser p = {.s = s, .n = n, .err = err};
    return parse(&p);
}

int
eng_jsonb_canonicalize(const char *s, size_t n, eng_strbuf *out, eng_err *err)
{
    builder b = {.nodes = {.elem = sizeof(jnode)},
                 .kids = {.elem = sizeof(uint32_t)},
                 .stack = {.elem = sizeof(uint32_t)}};
    eng_strbuf_grow(&b.pool, 64);
    parser p = {.s = s, .n = n, .err = err, .b = &b};
    int rc = parse(&p);
    if (rc == 0) {
        ENG_ASSERT(b.stack.len == 1);
        print_tree(&b, ((uint32_t *)b.stack.p)[0], out);
    }
    free(b.nodes.p);
    free(b.kids.p);
    free(b.stack.p);
    eng_strbuf_free(&b.pool);
    return rc;
}
