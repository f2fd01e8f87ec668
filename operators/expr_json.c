/* Scalar expressions: json and jsonb operators and functions (-> ->> #>
 * #>> @> <@ ?, jsonb_typeof, jsonb_array_length, jsonb_build_object,
 * jsonb_build_array, to_jsonb, jsonb_pretty, jsonb_strip_nulls).
 *
 * Notes: values are text: json as its input was written, jsonb in
 * PostgreSQL's canonical output form (engine/core/json.c), so a sub-value
 * of a jsonb value is the substring that prints it, and two jsonb strings
 * are equal exactly when their texts are. Functions walk the text with a
 * bounded scanner (never past the value's end; malformed text is XX000,
 * not a crash) and return substrings of their input where they can.
 * Results built anew (jsonb_build_*, to_jsonb) go through the jsonb
 * canonicaliser, so keys are sorted and numbers normalised as PostgreSQL
 * does. #> and #>> take the path as a text[] literal ('{a,1}'), since
 * arrays are not a type here; a multi-dimensional literal is rejected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/core/eng_numeric.h"
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_text.h"
#include "operators/expr_int.h"

typedef struct span {
    const uint8_t *p, *end;
} span;

enum { J_OBJECT, J_ARRAY, J_STRING, J_NUMBER, J_TRUE, J_FALSE, J_NULL };

static int
corrupt(eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR, "malformed json value");
}

static const uint8_t *
skip_ws(const uint8_t *p, const uint8_t *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int
kind_of(const span *v)
{
    switch (*v->p) {
    case '{':
        return J_OBJECT;
    case '[':
        return J_ARRAY;
    case '"':
        return J_STRING;
    case 't':
        return J_TRUE;
    case 'f':
        return J_FALSE;
    case 'n':
        return J_NULL;
    default:
        return J_NUMBER;
    }
}

/* End of the string starting at p (just past its closing quote), or NULL. */
static const uint8_t *
skip_string(const uint8_t *p, const uint8_t *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

/* End of the value starting at p, or NULL if malformed. */
static const uint8_t *
skip_value(const uint8_t *p, const uint8_t *end)
{
    if (p >= end)
        return NULL;
    if (*p == '"')
        return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && !strchr(",]}: \t\n\r", *p))
            p++;
        return p;
    }
    long depth = 0;
    while (p < end) {
        if (*p == '"') {
            p = skip_string(p, end);
            if (p == NULL)
                return NULL;
            continue;
        }
        if (*p == '{' || *p == '[')
            depth++;
        else if (*p == '}' || *p == ']')
            depth--;
        p++;
        if (depth == 0)
            return p;
    }
    return NULL;
}

/* The value at the start of [p, end) (white space around it skipped). */
static int
value_at(const uint8_t *p, const uint8_t *end, span *v)
{
    p = skip_ws(p, end);
    const uint8_t *e = skip_value(p, end);
    if (e == NULL || e == p)
        return -1;
    v->p = p;
    v->end = e;
    return 0;
}

/* Iterates a container's elements or members. */
typedef struct jit {
    const uint8_t *p, *end;
    bool obj, first;
} jit;

static void
jit_init(jit *it, const span *c)
{
    it->p = c->p + 1;
    it->end = c->end - 1;
    it->obj = *c->p == '{';
    it->first = true;
}

/* 1 with the next (key,) value, 0 at the end, -1 if malformed. */
static int
jit_next(jit *it, span *key, span *val)
{
    const uint8_t *p = skip_ws(it->p, it->end);
    if (p >= it->end)
        return 0;
    if (!it->first) {
        if (*p != ',')
            return -1;
        p = skip_ws(p + 1, it->end);
    }
    it->first = false;
    if (it->obj) {
        if (p >= it->end || *p != '"')
            return -1;
        key->p = p;
        key->end = skip_string(p, it->end);
        if (key->end == NULL)
            return -1;
        p = skip_ws(key->end, it->end);
        if (p >= it->end || *p != ':')
            return -1;
        p++;
    }
    if (value_at(p, it->end, val))
        return -1;
    it->p = val->end;
    return 1;
}

static int
hex4(const uint8_t *p, const uint8_t *end, uint32_t *out)
{
    if (end - p < 4)
        return -1;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return 0;
}

static uint32_t
put_utf8(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xC0 | (cp >> 6));
        o[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12));
        o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18));
    o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* The decoded contents of a string value (borrowed from s when it has no
 * escapes, else built in the arena). */
static int
str_decode(op_eval *ev, const span *s, op_val *r, eng_err *err)
{
    const uint8_t *p = s->p + 1, *end = s->end - 1;
    if (memchr(p, '\\', (size_t)(end - p)) == NULL) {
        op_x_str(r, p, (uint32_t)(end - p));
        return 0;
    }
    uint8_t *o = op_x_alloc(ev, (size_t)(end - p) + 4, err);
    if (o == NULL)
        return -1;
    uint32_t k = 0;
    while (p < end) {
        if (*p != '\\') {
            o[k++] = *p++;
            continue;
        }
        if (end - p < 2)
            return corrupt(err);
        uint8_t c = p[1];
        p += 2;
        switch (c) {
        case 'b':
            o[k++] = '\b';
            break;
        case 'f':
            o[k++] = '\f';
            break;
        case 'n':
            o[k++] = '\n';
            break;
        case 'r':
            o[k++] = '\r';
            break;
        case 't':
            o[k++] = '\t';
            break;
        case 'u': {
            uint32_t cp, lo;
            if (hex4(p, end, &cp))
                return corrupt(err);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
                hex4(p + 2, end, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            } else if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
                return eng_err_set(err, ENG_ERRCODE_UNTRANSLATABLE_CHARACTER,
                                   "unsupported Unicode escape sequence");
            }
            k += put_utf8(o + k, cp);
            break;
        }
        default: /* \" \\ \/ */
            o[k++] = c;
            break;
        }
    }
    op_x_str(r, o, k);
    return 0;
}

/* True if the key string k (with quotes) decodes to name. */
static int
key_equals(op_eval *ev, const span *k, const uint8_t *name, uint32_t n, bool *eq, eng_err *err)
{
    op_val d;
    if (str_decode(ev, k, &d, err))
        return -1;
    *eq = d.len == n && memcmp(d.u.p, name, n) == 0;
    return 0;
}

/* The member `name` of object o (the last one with that name, as json's
 * -> picks); *found false if none. */
static int
obj_get(op_eval *ev, const span *o, const uint8_t *name, uint32_t n, span *out, bool *found,
        eng_err *err)
{
    jit it;
    span k, v;
    int rc;
    *found = false;
    jit_init(&it, o);
    while ((rc = jit_next(&it, &k, &v)) == 1) {
        bool eq;
        if (key_equals(ev, &k, name, n, &eq, err))
            return -1;
        if (eq) {
            *out = v;
            *found = true;
        }
    }
    return rc < 0 ? corrupt(err) : 0;
}

static int
arr_len(const span *a, int64_t *n, eng_err *err)
{
    jit it;
    span k, v;
    int rc;
    *n = 0;
    jit_init(&it, a);
    while ((rc = jit_next(&it, &k, &v)) == 1)
        (*n)++;
    return rc < 0 ? corrupt(err) : 0;
}

/* Element i of array a (negative: from the end). */
static int
arr_get(const span *a, int64_t i, span *out, bool *found, eng_err *err)
{
    *found = false;
    if (i < 0) {
        int64_t n;
        if (arr_len(a, &n, err))
            return -1;
        i += n;
        if (i < 0)
            return 0;
    }
    jit it;
    span k, v;
    int rc;
    jit_init(&it, a);
    while ((rc = jit_next(&it, &k, &v)) == 1) {
        if (i-- == 0) {
            *out = v;
            *found = true;
            return 0;
        }
    }
    return rc < 0 ? corrupt(err) : 0;
}

static int
root(const op_val *v, span *s, eng_err *err)
{
    if (value_at(v->u.p, v->u.p + v->len, s))
        return corrupt(err);
    return 0;
}

/* A value as the result: itself (json, jsonb), or as text (->>): strings
 * decoded, null is NULL, others their text. */
static int
result_of(op_eval *ev, const span *v, bool as_text, op_val *r, eng_err *err)
{
    if (as_text && kind_of(v) == J_STRING)
        return str_decode(ev, v, r, err);
    if (as_text && kind_of(v) == J_NULL) {
        op_x_null(r);
        return 0;
    }
    op_x_str(r, v->p, (uint32_t)(v->end - v->p));
    return 0;
}

/* j -> k, j ->> k; aux8: 1 for ->>; flags: 1 if k is an integer. */
static int
x_get(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    span j, v;
    bool found = false;
    if (root(&a[0], &j, err))
        return -1;
    int k = kind_of(&j);
    if (in->flags & 1) {
        if (k == J_ARRAY && arr_get(&j, a[1].u.i, &v, &found, err))
            return -1;
    } else if (k == J_OBJECT && obj_get(ev, &j, a[1].u.p, a[1].len, &v, &found, err)) {
        return -1;
    }
    if (!found) {
        op_x_null(r);
        return 0;
    }
    return result_of(ev, &v, in->aux8, r, err);
}

/* ------------------------------------------------------------------ paths */

static int
malformed_array(const op_val *lit, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                       "malformed array literal: \"%.*s\"", (int)(lit->len > 200 ? 200 : lit->len),
                       (const char *)lit->u.p);
}

static bool
arr_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Parses a one-dimensional text[] literal into elements (arena copies);
 * a NULL element has len UINT32_MAX. */
static int
parse_path(op_eval *ev, const op_val *lit, op_val **elems, int *n, eng_err *err)
{
    const uint8_t *p = lit->u.p, *end = p + lit->len;
    while (p < end && arr_space(*p))
        p++;
    if (p == end || *p != '{')
        return malformed_array(lit, err);
    p++;
    /* at most one element per byte (plus one) */
    op_val *v = (op_val *)(void *)op_x_alloc(ev, ((size_t)lit->len + 1) * sizeof *v, err);
    uint8_t *buf = op_x_alloc(ev, (size_t)lit->len + 1, err);
    if (v == NULL || buf == NULL)
        return -1;
    int cnt = 0;
    size_t bk = 0;
    while (p < end && arr_space(*p))
        p++;
    if (p < end && *p == '}') {
        p++;
        goto tail;
    }
    for (;;) {
        while (p < end && arr_space(*p))
            p++;
        if (p == end || *p == '{' || *p == '}' || *p == ',')
            return malformed_array(lit, err);
        uint8_t *start = buf + bk;
        size_t len = 0;
        bool quoted = false, any_escape = false;
        size_t trail = 0; /* unquoted: length without trailing white space */
        if (*p == '"') {
            quoted = true;
            for (p++;; p++) {
                if (p == end)
                    return malformed_array(lit, err);
                if (*p == '\\') {
                    if (++p == end)
                        return malformed_array(lit, err);
                } else if (*p == '"') {
                    p++;
                    break;
                }
                start[len++] = *p;
            }
            trail = len;
        } else {
            while (p < end && *p != ',' && *p != '}') {
                if (*p == '"' || *p == '{')
                    return malformed_array(lit, err);
                if (*p == '\\') {
                    any_escape = true;
                    if (++p == end)
                        return malformed_array(lit, err);
                    start[len++] = *p++;
                    trail = len;
                    continue;
                }
                start[len++] = *p;
                if (!arr_space(*p))
                    trail = len;
                p++;
            }
        }
        bk += len;
        while (p < end && arr_space(*p))
            p++;
        if (!quoted && !any_escape && trail == 4 && strncasecmp((char *)start, "null", 4) == 0)
            v[cnt].len = UINT32_MAX;
        else
            op_x_str(&v[cnt], start, (uint32_t)trail);
        cnt++;
        if (p == end)
            return malformed_array(lit, err);
        if (*p == '}') {
            p++;
            break;
        }
        if (*p != ',')
            return malformed_array(lit, err);
        p++;
    }
tail:
    while (p < end && arr_space(*p))
        p++;
    if (p != end)
        return malformed_array(lit, err);
    *elems = v;
    *n = cnt;
    return 0;
}

/* An array index in path text: an optional sign and digits, else none. */
static bool
path_index(const op_val *e, int64_t *out)
{
    char buf[24];
    if (e->len == 0 || e->len >= sizeof buf)
        return false;
    memcpy(buf, e->u.p, e->len);
    buf[e->len] = '\0';
    char *endp;
    long long v = strtoll(buf, &endp, 10);
    if (*endp != '\0' || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = v;
    return true;
}

/* j #> path, j #>> path (aux8 1). */
static int
x_path(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    op_val *elems = NULL;
    int n = 0;
    if (parse_path(ev, &a[1], &elems, &n, err))
        return -1;
    span v;
    if (root(&a[0], &v, err))
        return -1;
    for (int i = 0; i < n; i++) {
        bool found = false;
        if (elems[i].len == UINT32_MAX)
            break; /* a NULL step: NULL */
        int k = kind_of(&v);
        int64_t idx;
        span next;
        if (k == J_OBJECT) {
            if (obj_get(ev, &v, elems[i].u.p, elems[i].len, &next, &found, err))
                return -1;
        } else if (k == J_ARRAY && path_index(&elems[i], &idx)) {
            if (arr_get(&v, idx, &next, &found, err))
                return -1;
        }
        if (!found) {
            op_x_null(r);
            return 0;
        }
        v = next;
    }
    for (int i = 0; i < n; i++)
        if (elems[i].len == UINT32_MAX) {
            op_x_null(r);
            return 0;
        }
    return result_of(ev, &v, in->aux8, r, err);
}

/* ------------------------------------------------------------------ containment, existence */

static int
num_equal(const span *a, const span *b, bool *eq, eng_err *err)
{
    size_t la = (size_t)(a->end - a->p), lb = (size_t)(b->end - b->p);
    if (la == lb && memcmp(a->p, b->p, la) == 0) {
        *eq = true;
        return 0;
    }
    eng_numeric x, y;
    eng_numeric_init(&x);
    eng_numeric_init(&y);
    int rc = eng_numeric_parse((const char *)a->p, la, -1, &x, err);
    if (rc == 0)
        rc = eng_numeric_parse((const char *)b->p, lb, -1, &y, err);
    if (rc == 0)
        *eq = eng_numeric_cmp(&x, &y) == 0;
    eng_numeric_free(&x);
    eng_numeric_free(&y);
    return rc;
}

static int
scalar_equal(const span *a, const span *b, bool *eq, eng_err *err)
{
    int ka = kind_of(a), kb = kind_of(b);
    *eq = false;
    if (ka != kb)
        return 0;
    if (ka == J_NUMBER)
        return num_equal(a, b, eq, err);
    /* canonical jsonb: equal strings have equal texts */
    *eq = a->end - a->p == b->end - b->p && memcmp(a->p, b->p, (size_t)(a->end - a->p)) == 0;
    return 0;
}

static bool
is_container(int k)
{
    return k == J_OBJECT || k == J_ARRAY;
}

/* a @> b as jsonb defines it: objects contain objects member-wise,
 * arrays contain arrays element-wise (each element of b somewhere in a),
 * scalars equal; at the top level an array also contains a scalar that
 * is one of its elements. */
static int
contains(op_eval *ev, const span *a, const span *b, bool top, bool *res, eng_err *err)
{
    int ka = kind_of(a), kb = kind_of(b);
    *res = false;
    jit it, it2;
    span k, v, k2, v2;
    int rc;
    if (ka != kb) {
        if (!(top && ka == J_ARRAY && !is_container(kb)))
            return 0;
        jit_init(&it, a);
        while ((rc = jit_next(&it, &k, &v)) == 1) {
            if (scalar_equal(&v, b, res, err))
                return -1;
            if (*res)
                return 0;
        }
        return rc < 0 ? corrupt(err) : 0;
    }
    if (!is_container(ka))
        return scalar_equal(a, b, res, err);
    jit_init(&it, b);
    while ((rc = jit_next(&it, &k, &v)) == 1) {
        bool ok = false;
        if (ka == J_OBJECT) {
            op_val name;
            span av;
            bool found;
            if (str_decode(ev, &k, &name, err) ||
                obj_get(ev, a, name.u.p, name.len, &av, &found, err))
                return -1;
            if (found && contains(ev, &av, &v, false, &ok, err))
                return -1;
        } else {
            int kv = kind_of(&v);
            jit_init(&it2, a);
            int rc2;
            while (!ok && (rc2 = jit_next(&it2, &k2, &v2)) == 1) {
                int ke = kind_of(&v2);
                if (is_container(kv) ? ke == kv && contains(ev, &v2, &v, false, &ok, err)
                                     : !is_container(ke) && scalar_equal(&v2, &v, &ok, err))
                    return -1;
            }
            if (!ok && rc2 < 0)
                return corrupt(err);
        }
        if (!ok)
            return 0;
    }
    if (rc < 0)
        return corrupt(err);
    *res = true;
    return 0;
}

/* a @> b (aux8 0), a <@ b (aux8 1). */
static int
x_contains(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    span x, y;
    bool res;
    if (root(&a[0], &x, err) || root(&a[1], &y, err))
        return -1;
    if (in->aux8 ? contains(ev, &y, &x, true, &res, err) : contains(ev, &x, &y, true, &res, err))
        return -1;
    op_x_bool(r, res);
    return 0;
}

/* j ? key: a member of an object, a string element of an array, or the
 * string itself. */
static int
x_exists(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)in;
    span j, k, v, dummy;
    bool found = false;
    if (root(&a[0], &j, err))
        return -1;
    int kind = kind_of(&j);
    if (kind == J_OBJECT) {
        if (obj_get(ev, &j, a[1].u.p, a[1].len, &dummy, &found, err))
            return -1;
    } else if (kind == J_STRING) {
        if (key_equals(ev, &j, a[1].u.p, a[1].len, &found, err))
            return -1;
    } else if (kind == J_ARRAY) {
        jit it;
        int rc;
        jit_init(&it, &j);
        while (!found && (rc = jit_next(&it, &k, &v)) == 1)
            if (kind_of(&v) == J_STRING && key_equals(ev, &v, a[1].u.p, a[1].len, &found, err))
                return -1;
        if (!found && rc < 0)
            return corrupt(err);
    }
    op_x_bool(r, found);
    return 0;
}

/* ------------------------------------------------------------------ typeof, array length */

static int
x_typeof(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in;
    static const char *const names[] = {"object",  "array",   "string", "number",
                                        "boolean", "boolean", "null"};
    span j;
    if (root(&a[0], &j, err))
        return -1;
    const char *s = names[kind_of(&j)];
    op_x_str(r, (const uint8_t *)s, (uint32_t)strlen(s));
    return 0;
}

static int
x_array_length(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    (void)ev, (void)in;
    span j;
    if (root(&a[0], &j, err))
        return -1;
    int k = kind_of(&j);
    if (k != J_ARRAY)
        return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                           "cannot get array length of a %s",
                           k == J_OBJECT ? "non-array" : "scalar");
    int64_t n;
    if (arr_len(&j, &n, err))
        return -1;
    op_x_int(r, ENG_TAG_INT4, n);
    return 0;
}

/* ------------------------------------------------------------------ printing */

static void
indent(eng_strbuf *o, int level)
{
    for (int i = 0; i < level * 4; i++)
        eng_strbuf_putc(o, ' ');
}

/* Prints v: compact (canonical jsonb spacing) or pretty (jsonb_pretty's
 * layout: four spaces per level); strip drops object members whose value
 * is null, at every level. */
static int
print_value(const span *v, bool pretty, bool strip, int level, eng_strbuf *o, eng_err *err)
{
    int k = kind_of(v);
    if (!is_container(k)) {
        eng_strbuf_append(o, (const char *)v->p, (size_t)(v->end - v->p));
        return 0;
    }
    jit it;
    span key, val;
    int rc, n = 0;
    eng_strbuf_putc(o, k == J_OBJECT ? '{' : '[');
    jit_init(&it, v);
    while ((rc = jit_next(&it, &key, &val)) == 1) {
        if (strip && k == J_OBJECT && kind_of(&val) == J_NULL)
            continue;
        if (n++ > 0)
            eng_strbuf_puts(o, pretty ? "," : ", ");
        if (pretty) {
            eng_strbuf_putc(o, '\n');
            indent(o, level + 1);
        }
        if (k == J_OBJECT) {
            eng_strbuf_append(o, (const char *)key.p, (size_t)(key.end - key.p));
            eng_strbuf_puts(o, ": ");
        }
        if (print_value(&val, pretty, strip, level + 1, o, err))
            return -1;
    }
    if (rc < 0)
        return corrupt(err);
    if (pretty) {
        eng_strbuf_putc(o, '\n');
        indent(o, level);
    }
    eng_strbuf_putc(o, k == J_OBJECT ? '}' : ']');
    return 0;
}

/* Moves a built text into the arena as the result. */
static int
take_strbuf(op_eval *ev, eng_strbuf *sb, op_val *r, eng_err *err)
{
    uint8_t *p = op_x_alloc(ev, sb->len, err);
    if (p != NULL) {
        memcpy(p, sb->data, sb->len);
        op_x_str(r, p, (uint32_t)sb->len);
    }
    eng_strbuf_free(sb);
    return p == NULL ? -1 : 0;
}

/* jsonb_pretty (aux8 0), jsonb_strip_nulls (aux8 1). */
static int
x_print(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    span j;
    if (root(&a[0], &j, err))
        return -1;
    eng_strbuf sb = {0};
    if (print_value(&j, in->aux8 == 0, in->aux8 == 1, 0, &sb, err)) {
        eng_strbuf_free(&sb);
        return -1;
    }
    return take_strbuf(ev, &sb, r, err);
}

/* ------------------------------------------------------------------ building */

static void
put_json_string(eng_strbuf *o, const uint8_t *s, uint32_t n)
{
    static const char hx[] = "0123456789abcdef";
    eng_strbuf_putc(o, '"');
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        switch (c) {
        case '"':
            eng_strbuf_puts(o, "\\\"");
            break;
        case '\\':
            eng_strbuf_puts(o, "\\\\");
            break;
        case '\b':
            eng_strbuf_puts(o, "\\b");
            break;
        case '\f':
            eng_strbuf_puts(o, "\\f");
            break;
        case '\n':
            eng_strbuf_puts(o, "\\n");
            break;
        case '\r':
            eng_strbuf_puts(o, "\\r");
            break;
        case '\t':
            eng_strbuf_puts(o, "\\t");
            break;
        default:
            if (c < 0x20) {
                eng_strbuf_puts(o, "\\u00");
                eng_strbuf_putc(o, hx[c >> 4]);
                eng_strbuf_putc(o, hx[c & 15]);
            } else {
                eng_strbuf_putc(o, (char)c);
            }
        }
    }
    eng_strbuf_putc(o, '"');
}

/* Appends the json form of value v (is_json: v is json or jsonb text), as
 * to_jsonb converts it. */
static int
put_jsonb_of(op_eval *ev, const op_val *v, bool is_json, eng_strbuf *o, eng_err *err)
{
    if (v->tag == ENG_TAG_NULL) {
        eng_strbuf_puts(o, "null");
        return 0;
    }
    if (is_json) {
        eng_strbuf_append(o, (const char *)v->u.p, v->len);
        return 0;
    }
    if (v->tag == ENG_TAG_TEXT) {
        put_json_string(o, v->u.p, v->len);
        return 0;
    }
    op_val t;
    if (op_x_to_text(ev, v, true, &t, err))
        return -1;
    const char *s = (const char *)t.u.p;
    uint32_t n = t.len;
    switch (v->tag) {
    case ENG_TAG_TRUE:
    case ENG_TAG_FALSE:
        eng_strbuf_puts(o, v->tag == ENG_TAG_TRUE ? "true" : "false");
        return 0;
    case ENG_TAG_INT2:
    case ENG_TAG_INT4:
    case ENG_TAG_INT8:
    case ENG_TAG_FLOAT4:
    case ENG_TAG_FLOAT8:
    case ENG_TAG_NUMERIC:
        /* NaN and the infinities are not json numbers: strings */
        if ((s[0] >= '0' && s[0] <= '9') || (s[0] == '-' && n > 1 && s[1] >= '0' && s[1] <= '9'))
            eng_strbuf_append(o, s, n);
        else
            put_json_string(o, t.u.p, n);
        return 0;
    case ENG_TAG_TIMESTAMP:
    case ENG_TAG_TIMESTAMPTZ: {
        /* XML Schema form: a T between date and time, +hh:mm offsets */
        const char *sp = memchr(s, ' ', n);
        if (sp == NULL || !(s[0] >= '0' && s[0] <= '9')) {
            put_json_string(o, t.u.p, n);
            return 0;
        }
        eng_strbuf b = {0};
        eng_strbuf_append(&b, s, (size_t)(sp - s));
        eng_strbuf_putc(&b, 'T');
        eng_strbuf_append(&b, sp + 1, (size_t)(n - (uint32_t)(sp + 1 - s)));
        if (v->tag == ENG_TAG_TIMESTAMPTZ && b.len >= 3 && b.data[b.len - 3] == '+')
            eng_strbuf_puts(&b, ":00");
        put_json_string(o, (const uint8_t *)b.data, (uint32_t)b.len);
        eng_strbuf_free(&b);
        return 0;
    }
    default:
        put_json_string(o, t.u.p, n);
        return 0;
    }
}

static int
finish_jsonb(op_eval *ev, eng_strbuf *sb, op_val *r, eng_err *err)
{
    eng_strbuf canon = {0};
    int rc = eng_jsonb_canonicalize(sb->data ? sb->data : "", sb->len, &canon, err);
    eng_strbuf_free(sb);
    if (rc != 0) {
        eng_strbuf_free(&canon);
        return -1;
    }
    return take_strbuf(ev, &canon, r, err);
}

static bool
arg_is_json(const op_x_insn *in, int i)
{
    return i < 64 && (in->mask >> i) & 1;
}

/* jsonb_build_object (aux8 0), jsonb_build_array (aux8 1), to_jsonb (2). */
static int
x_build(op_eval *ev, const op_x_insn *in, const op_val *a, op_val *r, eng_err *err)
{
    eng_strbuf sb = {0};
    if (in->aux8 == 2) {
        if (put_jsonb_of(ev, &a[0], arg_is_json(in, 0), &sb, err))
            goto fail;
        return finish_jsonb(ev, &sb, r, err);
    }
    if (in->aux8 == 0 && in->nargs % 2 != 0) {
        eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                    "argument list must have even number of elements");
        eng_err_hint(err, "The arguments of jsonb_build_object() must consist of alternating keys "
                          "and values.");
        return -1;
    }
    eng_strbuf_putc(&sb, in->aux8 == 0 ? '{' : '[');
    for (int i = 0; i < in->nargs; i++) {
        if (i > 0)
            eng_strbuf_puts(&sb, in->aux8 == 0 && i % 2 == 1 ? ": " : ", ");
        if (in->aux8 == 0 && i % 2 == 0) {
            if (a[i].tag == ENG_TAG_NULL) {
                eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                            "argument %d: key must not be null", i + 1);
                goto fail;
            }
            op_val t = a[i];
            if (t.tag != ENG_TAG_TEXT && op_x_to_text(ev, &a[i], false, &t, err))
                goto fail;
            put_json_string(&sb, t.u.p, t.len);
            continue;
        }
        if (put_jsonb_of(ev, &a[i], arg_is_json(in, i), &sb, err))
            goto fail;
    }
    eng_strbuf_putc(&sb, in->aux8 == 0 ? '}' : ']');
    return finish_jsonb(ev, &sb, r, err);
fail:
    eng_strbuf_free(&sb);
    return -1;
}

/* ------------------------------------------------------------------ resolution */

static bool
is_json(op_type t)
{
    return t == OP_T_JSON || t == OP_T_JSONB;
}

int
op_x_resolve_json(op_expr *e, const op_type *at, eng_err *err)
{
    op_type *w = op_x_want(e);
    e->impl_strict = true;
    switch (e->fn) {
    case OP_JSON_GET:
    case OP_JSON_GET_TEXT:
        if (e->nargs != 2 || !is_json(at[0]))
            break;
        if (at[1] == OP_T_INT4 || at[1] == OP_T_INT2) {
            w[1] = OP_T_INT4;
            e->impl_flags = 1;
        } else if (op_x_is_string(at[1]) || at[1] == OP_T_UNKNOWN) {
            w[1] = OP_T_TEXT;
        } else {
            break;
        }
        e->rtype = e->fn == OP_JSON_GET ? at[0] : OP_T_TEXT;
        e->impl_fn = x_get;
        e->impl_aux8 = e->fn == OP_JSON_GET_TEXT;
        return 0;
    case OP_JSON_PATH:
    case OP_JSON_PATH_TEXT:
        if (e->nargs != 2 || !is_json(at[0]) || !(op_x_is_string(at[1]) || at[1] == OP_T_UNKNOWN))
            break;
        w[1] = OP_T_TEXT;
        e->rtype = e->fn == OP_JSON_PATH ? at[0] : OP_T_TEXT;
        e->impl_fn = x_path;
        e->impl_aux8 = e->fn == OP_JSON_PATH_TEXT;
        return 0;
    case OP_JSON_CONTAINS:
    case OP_JSON_CONTAINED:
        if (e->nargs != 2 || at[0] != OP_T_JSONB || at[1] != OP_T_JSONB)
            break;
        e->rtype = OP_T_BOOL;
        e->impl_fn = x_contains;
        e->impl_aux8 = e->fn == OP_JSON_CONTAINED;
        return 0;
    case OP_JSON_EXISTS:
        if (e->nargs != 2 || at[0] != OP_T_JSONB ||
            !(op_x_is_string(at[1]) || at[1] == OP_T_UNKNOWN))
            break;
        w[1] = OP_T_TEXT;
        e->rtype = OP_T_BOOL;
        e->impl_fn = x_exists;
        return 0;
    case OP_JSON_TYPEOF:
    case OP_JSON_ARRAY_LENGTH:
        if (e->nargs != 1 || !is_json(at[0]))
            break;
        e->rtype = e->fn == OP_JSON_TYPEOF ? OP_T_TEXT : OP_T_INT4;
        e->impl_fn = e->fn == OP_JSON_TYPEOF ? x_typeof : x_array_length;
        return 0;
    case OP_JSONB_PRETTY:
    case OP_JSONB_STRIP_NULLS:
        if (e->nargs != 1 || at[0] != OP_T_JSONB)
            break;
        e->rtype = OP_T_TEXT;
        if (e->fn == OP_JSONB_STRIP_NULLS)
            e->rtype = OP_T_JSONB;
        e->impl_fn = x_print;
        e->impl_aux8 = e->fn == OP_JSONB_STRIP_NULLS;
        return 0;
    case OP_TO_JSONB:
    case OP_JSONB_BUILD_OBJECT:
    case OP_JSONB_BUILD_ARRAY:
        if (e->fn == OP_TO_JSONB && e->nargs != 1)
            break;
        for (int i = 0; i < e->nargs; i++) {
            if (is_json(at[i])) {
                if (i >= 64)
                    return eng_err_set(err, ENG_ERRCODE_FEATURE_NOT_SUPPORTED,
                                       "%s takes json arguments only among its first 64",
                                       op_fn_name(e->fn));
                e->impl_mask |= UINT64_C(1) << i;
            }
        }
        e->rtype = OP_T_JSONB;
        e->impl_fn = x_build;
        e->impl_aux8 = e->fn == OP_TO_JSONB ? 2 : e->fn == OP_JSONB_BUILD_ARRAY;
        e->impl_strict = e->fn == OP_TO_JSONB;
        return 0;
    default:
        break;
    }
    return op_x_no_function(e, at, err);
}
