/* bytea and uuid text I/O (PostgreSQL's byteain/byteaout, uuid_in/uuid_out). */
#include "engine/core/eng_text.h"
#include "engine/core/eng_hex.h"

#include <stdlib.h>
#include <string.h>

/* Bytes of the (possibly multi-byte) character at s, for error messages. */
static int
char_len(const char *s, size_t left)
{
    uint8_t c = (uint8_t)s[0];
    int l = c < 0x80             ? 1
            : (c & 0xe0) == 0xc0 ? 2
            : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4
                                 : 1;
    return (size_t)l < left ? l : (int)left;
}

static int
bad_hex_digit(const char *s, size_t left, eng_err *err)
{
    return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                       "invalid hexadecimal digit: \"%.*s\"", char_len(s, left), s);
}

int
eng_bytea_parse(const char *s, size_t n, eng_rowbuf *out, eng_err *err)
{
    uint32_t start = out->len;
    if (n >= 2 && s[0] == '\\' && s[1] == 'x') {
        uint8_t *p = eng_rowbuf_extend(out, 5 + (uint32_t)((n - 2) / 2));
        p[0] = ENG_TAG_BYTES;
        uint8_t *o = p + 5;
        size_t i = 2;
        while (i < n) {
            char c = s[i];
            if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
                i++;
                continue;
            }
            int hi = eng_hex_digit(c);
            if (hi < 0) {
                out->len = start;
                return bad_hex_digit(s + i, n - i, err);
            }
            if (++i >= n) {
                out->len = start;
                return eng_err_set(err, ENG_ERRCODE_INVALID_PARAMETER_VALUE,
                                   "invalid hexadecimal data: odd number of digits");
            }
            int lo = eng_hex_digit(s[i]);
            if (lo < 0) {
                out->len = start;
                return bad_hex_digit(s + i, n - i, err);
            }
            i++;
            *o++ = (uint8_t)(hi << 4 | lo);
        }
        uint32_t len = (uint32_t)(o - (p + 5));
        memcpy(p + 1, &len, 4);
        out->len = start + 5 + len;
        return 0;
    }
    /* Escape format: first validate and count, then copy. */
    size_t count = 0;
    for (size_t i = 0; i < n; count++) {
        if (s[i] != '\\') {
            if (s[i] == '\0')
                goto bad;
            i++;
        } else if (i + 3 < n + 0 && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
                   s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            i += 4;
        } else if (i + 1 < n && s[i + 1] == '\\') {
            i += 2;
        } else {
            goto bad;
        }
    }
    uint8_t *p = eng_rowbuf_extend(out, 5 + (uint32_t)count);
    p[0] = ENG_TAG_BYTES;
    uint32_t len = (uint32_t)count;
    memcpy(p + 1, &len, 4);
    uint8_t *o = p + 5;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\') {
            *o++ = (uint8_t)s[i++];
        } else if (s[i + 1] == '\\') {
            *o++ = '\\';
            i += 2;
        } else {
            *o++ = (uint8_t)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
            i += 4;
        }
    }
    return 0;
bad:
    return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                       "invalid input syntax for type bytea");
}

static const char hexdig[] = "0123456789abcdef";

void
eng_bytea_format(const uint8_t *p, size_t n, eng_strbuf *out)
{
    char *o = eng_strbuf_extend(out, 2 + 2 * n);
    *o++ = '\\';
    *o++ = 'x';
    for (size_t i = 0; i < n; i++) {
        *o++ = hexdig[p[i] >> 4];
        *o++ = hexdig[p[i] & 15];
    }
}

int
eng_uuid_parse(const char *s, size_t n, uint8_t out[16], eng_err *err)
{
    size_t i = 0;
    bool braces = false;
    if (i < n && s[i] == '{') {
        braces = true;
        i++;
    }
    for (int k = 0; k < 16; k++) {
        if (i + 1 >= n)
            goto bad;
        int hi = eng_hex_digit(s[i]), lo = eng_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            goto bad;
        out[k] = (uint8_t)(hi << 4 | lo);
        i += 2;
        if (i < n && s[i] == '-' && (k % 2) == 1 && k < 15)
            i++;
    }
    if (braces) {
        if (i >= n || s[i] != '}')
            goto bad;
        i++;
    }
    if (i != n)
        goto bad;
    return 0;
bad:
    return eng_err_set(err, ENG_ERRCODE_INVALID_TEXT_REPRESENTATION,
                       "invalid input syntax for type uuid: \"%.*s\"", (int)n, s);
}

void
eng_uuid_format(const uint8_t u[16], eng_strbuf *out)
{
    char *o = eng_strbuf_extend(out, 36);
    for (int k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10)
            *o++ = '-';
        *o++ = hexdig[u[k] >> 4];
        *o++ = hexdig[u[k] & 15];
    }
}
