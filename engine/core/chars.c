/* Character data: UTF-8 validation and the char(n) / varchar(n) length
 * rules of PostgreSQL (counted in characters, excess spaces forgiven). */
#include "engine/core/eng_text.h"

#include <stdio.h>
#include <string.h>

/* Expected byte length from the first byte, as pg_utf_mblen. */
static int
utf8_mblen(uint8_t c)
{
    if ((c & 0x80) == 0)
        return 1;
    if ((c & 0xe0) == 0xc0)
        return 2;
    if ((c & 0xf0) == 0xe0)
        return 3;
    if ((c & 0xf8) == 0xf0)
        return 4;
    return 1;
}

/* pg_utf8_islegal: shortest forms only, no surrogates, <= U+10FFFF. */
static bool
utf8_legal(const uint8_t *s, int len)
{
    uint8_t a;
    switch (len) {
    case 4:
        a = s[3];
        if (a < 0x80 || a > 0xBF)
            return false;
        /* fallthrough */
    case 3:
        a = s[2];
        if (a < 0x80 || a > 0xBF)
            return false;
        /* fallthrough */
    case 2:
        a = s[1];
        switch (s[0]) {
        case 0xE0:
            if (a < 0xA0 || a > 0xBF)
                return false;
            break;
        case 0xED:
            if (a < 0x80 || a > 0x9F)
                return false;
            break;
        case 0xF0:
            if (a < 0x90 || a > 0xBF)
                return false;
            break;
        case 0xF4:
            if (a < 0x80 || a > 0x8F)
                return false;
            break;
        default:
            if (a < 0x80 || a > 0xBF)
                return false;
            break;
        }
        /* fallthrough */
    case 1:
        a = s[0];
        if (a >= 0x80 && a < 0xC2)
            return false;
        if (a > 0xF4)
            return false;
        break;
    default:
        return false;
    }
    return true;
}

int
eng_utf8_validate(const char *str, size_t n, eng_err *err)
{
    const uint8_t *s = (const uint8_t *)str;
    size_t i = 0;
    while (i < n) {
        /* Fast path over ASCII. */
        if (s[i] != 0 && s[i] < 0x80) {
            i++;
            continue;
        }
        int l = utf8_mblen(s[i]);
        if (s[i] != 0 && (size_t)l <= n - i && utf8_legal(s + i, l)) {
            i += (size_t)l;
            continue;
        }
        char bytes[8 * 5 + 1];
        size_t lim = (size_t)l < n - i ? (size_t)l : n - i, k = 0;
        for (size_t j = 0; j < lim && j < 8; j++)
            k += (size_t)snprintf(bytes + k, sizeof bytes - k, "%s0x%02x", j ? " " : "", s[i + j]);
        return eng_err_set(err, ENG_ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
                           "invalid byte sequence for encoding \"UTF8\": %s", bytes);
    }
    return 0;
}

size_t
eng_utf8_strlen(const char *s, size_t n)
{
    size_t chars = 0;
    for (size_t i = 0; i < n; i++)
        if (((uint8_t)s[i] & 0xC0) != 0x80)
            chars++;
    return chars;
}

size_t
eng_utf8_cliplen(const char *s, size_t n, size_t nchars)
{
    size_t i = 0, c = 0;
    while (i < n && c < nchars) {
        i += (size_t)utf8_mblen((uint8_t)s[i]);
        c++;
    }
    return i < n ? i : n;
}

static bool
all_spaces(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ')
            return false;
    return true;
}

int
eng_varchar_check(const char *s, size_t n, int32_t typmod, bool explicit_cast, size_t *keep,
                  eng_err *err)
{
    *keep = n;
    if (typmod < 5)
        return 0;
    size_t maxlen = (size_t)(typmod - 4);
    if (n <= maxlen) /* bytes >= characters */
        return 0;
    size_t clip = eng_utf8_cliplen(s, n, maxlen);
    if (!explicit_cast && !all_spaces(s + clip, n - clip))
        return eng_err_set(err, ENG_ERRCODE_STRING_DATA_RIGHT_TRUNCATION,
                           "value too long for type character varying(%zu)", maxlen);
    *keep = clip;
    return 0;
}

void
eng_varchar_push(const char *s, size_t n, int32_t typmod, eng_rowbuf *out)
{
    size_t keep;
    int rc = eng_varchar_check(s, n, typmod, true, &keep, NULL);
    ENG_ASSERT(rc == 0);
    eng_push_text(out, s, (uint32_t)keep);
}

int
eng_bpchar_push(const char *s, size_t n, int32_t typmod, bool explicit_cast, eng_rowbuf *out,
                eng_err *err)
{
    if (typmod < 5) {
        eng_push_text(out, s, (uint32_t)n);
        return 0;
    }
    size_t maxlen = (size_t)(typmod - 4);
    size_t chars = eng_utf8_strlen(s, n);
    size_t len = n, pad = 0;
    if (chars > maxlen) {
        size_t clip = eng_utf8_cliplen(s, n, maxlen);
        if (!explicit_cast && !all_spaces(s + clip, n - clip))
            return eng_err_set(err, ENG_ERRCODE_STRING_DATA_RIGHT_TRUNCATION,
                               "value too long for type character(%zu)", maxlen);
        len = clip;
    } else {
        pad = maxlen - chars;
    }
    ENG_ASSERT(len + pad < UINT32_MAX);
    uint32_t total = (uint32_t)(len + pad);
    uint8_t *p = eng_rowbuf_extend(out, 5 + total);
    p[0] = ENG_TAG_TEXT;
    memcpy(p + 1, &total, 4);
    if (len)
        memcpy(p + 5, s, len);
    memset(p + 5 + len, ' ', pad);
    return 0;
}

size_t
eng_bpchar_trimmed_len(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return n;
}
