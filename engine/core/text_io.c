/* eng_text_parse / eng_text_format: per-type dispatch, plus the integer and
 * boolean input functions. */
#include "engine/core/eng_text.h"
#include "engine/core/eng_datetime.h"
#include "engine/core/eng_float.h"
#include "engine/core/eng_numeric.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool
is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int
eng_int_parse(const char *s, size_t n, int bits, int64_t *out, eng_err *err)
{
    const char *tname = bits == 16 ? "smallint" : bits == 32 ? "integer" : "bigint";
    uint64_t limit = bits == 16 ? 32768u : bits == 32 ? 2147483648u : (uint64_t)1 << 63;
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    bool neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+')) {
        neg = s[i] == '-';
        i++;
    }
    if (i >= n || s[i] < '0' || s[i] > '9')
        goto syntax;
    uint64_t v = 0, max = limit - (neg ? 0 : 1);
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        uint64_t dig = (uint64_t)(s[i] - '0');
        /* Overflow is reported as soon as it happens, before any junk. */
        if (v > (max - dig) / 10)
            return eng_err_set(err, ENG_ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                               "value \"%.*s\" is out of range for type %s", (int)n, s, tname);
        v = v * 10 + dig;
        i++;
    }
    while (i < n && is_space(s[i]))
        i++;
    if (i != n)
        goto syntax;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
syntax:
    return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                       "invalid input syntax for type %s: \"%.*s\"", tname, (int)n, s);
}

/* Case-insensitive: s[0..len) is a prefix of word (len <= strlen(word)). */
static bool
prefix_of(const char *s, size_t len, const char *word, size_t minlen)
{
    size_t wl = strlen(word);
    if (len > wl || len < minlen)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != word[i])
            return false;
    }
    return true;
}

int
eng_bool_parse(const char *s, size_t n, bool *out, eng_err *err)
{
    size_t b = 0, e = n;
    while (b < e && is_space(s[b]))
        b++;
    while (e > b && is_space(s[e - 1]))
        e--;
    const char *v = s + b;
    size_t len = e - b;
    if (len > 0) {
        switch (v[0]) {
        case 't':
        case 'T':
            if (prefix_of(v, len, "true", 1))
                return *out = true, 0;
            break;
        case 'f':
        case 'F':
            if (prefix_of(v, len, "false", 1))
                return *out = false, 0;
            break;
        case 'y':
        case 'Y':
            if (prefix_of(v, len, "yes", 1))
                return *out = true, 0;
            break;
        case 'n':
        case 'N':
            if (prefix_of(v, len, "no", 1))
                return *out = false, 0;
            break;
        case 'o':
        case 'O':
            /* "o" alone is ambiguous: at least two characters. */
            if (prefix_of(v, len, "on", 2))
                return *out = true, 0;
            if (prefix_of(v, len, "off", 2))
                return *out = false, 0;
            break;
        case '1':
            if (len == 1)
                return *out = true, 0;
            break;
        case '0':
            if (len == 1)
                return *out = false, 0;
            break;
        default:
            break;
        }
    }
    return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                       "invalid input syntax for type boolean: \"%.*s\"", (int)n, s);
}

int
eng_text_parse(const eng_type *t, const char *s, size_t n, eng_rowbuf *out, eng_err *err)
{
    int64_t i64;
    if (n > ENG_TEXT_MAX_LEN)
        return eng_err_set(err, ENG_ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                           "value too long: %zu bytes (the limit is %d)", n, ENG_TEXT_MAX_LEN);
    switch (t->id) {
    case ENG_TYPE_BOOL: {
        bool b;
        if (eng_bool_parse(s, n, &b, err) < 0)
            return -1;
        eng_push_bool(out, b);
        return 0;
    }
    case ENG_TYPE_INT2:
        if (eng_int_parse(s, n, 16, &i64, err) < 0)
            return -1;
        eng_push_int2(out, (int16_t)i64);
        return 0;
    case ENG_TYPE_INT4:
        if (eng_int_parse(s, n, 32, &i64, err) < 0)
            return -1;
        eng_push_int4(out, (int32_t)i64);
        return 0;
    case ENG_TYPE_INT8:
        if (eng_int_parse(s, n, 64, &i64, err) < 0)
            return -1;
        eng_push_int8(out, i64);
        return 0;
    case ENG_TYPE_FLOAT4: {
        float f;
        if (eng_float4_parse(s, n, &f, err) < 0)
            return -1;
        eng_push_float4(out, f);
        return 0;
    }
    case ENG_TYPE_FLOAT8: {
        double d;
        if (eng_float8_parse(s, n, &d, err) < 0)
            return -1;
        eng_push_float8(out, d);
        return 0;
    }
    case ENG_TYPE_NUMERIC: {
        eng_numeric v;
        eng_numeric_init(&v);
        int rc = eng_numeric_parse(s, n, t->typmod, &v, err);
        if (rc == 0)
            eng_numeric_push(out, &v);
        eng_numeric_free(&v);
        return rc;
    }
    case ENG_TYPE_TEXT:
    case ENG_TYPE_UNKNOWN:
    case ENG_TYPE_OTHER:
        if (eng_utf8_validate(s, n, err) < 0)
            return -1;
        eng_push_text(out, s, (uint32_t)n);
        return 0;
    case ENG_TYPE_VARCHAR: {
        size_t keep;
        if (eng_utf8_validate(s, n, err) < 0 ||
            eng_varchar_check(s, n, t->typmod, false, &keep, err) < 0)
            return -1;
        eng_push_text(out, s, (uint32_t)keep);
        return 0;
    }
    case ENG_TYPE_BPCHAR:
        if (eng_utf8_validate(s, n, err) < 0)
            return -1;
        return eng_bpchar_push(s, n, t->typmod, false, out, err);
    case ENG_TYPE_BYTEA:
        return eng_bytea_parse(s, n, out, err);
    case ENG_TYPE_UUID: {
        uint8_t u[16];
        if (eng_uuid_parse(s, n, u, err) < 0)
            return -1;
        eng_push_fixed(out, ENG_TAG_UUID, u, 16);
        return 0;
    }
    case ENG_TYPE_JSON:
        if (eng_utf8_validate(s, n, err) < 0 || eng_json_validate(s, n, err) < 0)
            return -1;
        eng_push_text(out, s, (uint32_t)n);
        return 0;
    case ENG_TYPE_JSONB: {
        if (eng_utf8_validate(s, n, err) < 0)
            return -1;
        eng_strbuf b = {0};
        int rc = eng_jsonb_canonicalize(s, n, &b, err);
        if (rc == 0)
            eng_push_text(out, b.data ? b.data : "", (uint32_t)b.len);
        eng_strbuf_free(&b);
        return rc;
    }
    case ENG_TYPE_DATE: {
        int32_t d;
        if (eng_date_parse(s, n, &d, err) < 0)
            return -1;
        eng_push_fixed(out, ENG_TAG_DATE, &d, 4);
        return 0;
    }
    case ENG_TYPE_TIME:
        if (eng_time_parse(s, n, t->typmod, &i64, err) < 0)
            return -1;
        eng_push_fixed(out, ENG_TAG_TIME, &i64, 8);
        return 0;
    case ENG_TYPE_TIMESTAMP:
    case ENG_TYPE_TIMESTAMPTZ: {
        bool tz = t->id == ENG_TYPE_TIMESTAMPTZ;
        if (eng_timestamp_parse(s, n, tz, t->typmod, &i64, err) < 0)
            return -1;
        eng_push_fixed(out, tz ? ENG_TAG_TIMESTAMPTZ : ENG_TAG_TIMESTAMP, &i64, 8);
        return 0;
    }
    case ENG_TYPE_INTERVAL: {
        eng_interval iv;
        if (eng_interval_parse(s, n, t->typmod, &iv, err) < 0)
            return -1;
        uint8_t buf[16];
        memcpy(buf, &iv.months, 4);
        memcpy(buf + 4, &iv.days, 4);
        memcpy(buf + 8, &iv.usecs, 8);
        eng_push_fixed(out, ENG_TAG_INTERVAL, buf, 16);
        return 0;
    }
    case ENG_TYPE_COUNT_:
    default:
        break;
    }
    return eng_err_set(err, ENG_ERRCODE_INTERNAL_ERROR, "unknown type id %d", (int)t->id);
}

void
eng_text_format(const eng_type *t, eng_datum d, eng_strbuf *out)
{
    ENG_ASSERT(d.tag != ENG_TAG_NULL);
    char buf[32];
    int n;
    switch (d.tag) {
    case ENG_TAG_TRUE:
        eng_strbuf_putc(out, 't');
        return;
    case ENG_TAG_FALSE:
        eng_strbuf_putc(out, 'f');
        return;
    case ENG_TAG_INT2: {
        int16_t v;
        memcpy(&v, d.ptr, 2);
        n = snprintf(buf, sizeof buf, "%d", (int)v);
        eng_strbuf_append(out, buf, (size_t)n);
        return;
    }
    case ENG_TAG_INT4:
        n = snprintf(buf, sizeof buf, "%" PRId32, eng_load_i32(d.ptr));
        eng_strbuf_append(out, buf, (size_t)n);
        return;
    case ENG_TAG_INT8:
        n = snprintf(buf, sizeof buf, "%" PRId64, eng_load_i64(d.ptr));
        eng_strbuf_append(out, buf, (size_t)n);
        return;
    case ENG_TAG_FLOAT4: {
        float f;
        memcpy(&f, d.ptr, 4);
        eng_float4_format(f, out);
        return;
    }
    case ENG_TAG_FLOAT8: {
        double f;
        memcpy(&f, d.ptr, 8);
        eng_float8_format(f, out);
        return;
    }
    case ENG_TAG_NUMERIC: {
        eng_numeric v;
        eng_numeric_init(&v);
        eng_numeric_from_datum(d, &v);
        eng_numeric_format(&v, out);
        eng_numeric_free(&v);
        return;
    }
    case ENG_TAG_TEXT:
        eng_strbuf_append(out, (const char *)d.ptr, d.len);
        return;
    case ENG_TAG_BYTES:
        eng_bytea_format(d.ptr, d.len, out);
        return;
    case ENG_TAG_UUID:
        eng_uuid_format(d.ptr, out);
        return;
    case ENG_TAG_DATE:
        eng_date_format(eng_load_i32(d.ptr), out);
        return;
    case ENG_TAG_TIME:
        eng_time_format(eng_load_i64(d.ptr), out);
        return;
    case ENG_TAG_TIMESTAMP:
    case ENG_TAG_TIMESTAMPTZ:
        eng_timestamp_format(eng_load_i64(d.ptr), d.tag == ENG_TAG_TIMESTAMPTZ, out);
        return;
    case ENG_TAG_INTERVAL: {
        eng_interval iv;
        memcpy(&iv.months, d.ptr, 4);
        memcpy(&iv.days, d.ptr + 4, 4);
        memcpy(&iv.usecs, d.ptr + 8, 8);
        eng_interval_format(&iv, out);
        return;
    }
    default:
        break;
    }
    (void)t;
    ENG_UNREACHABLE("eng_text_format: bad tag");
}
