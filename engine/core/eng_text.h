/* Text I/O of datums: PostgreSQL's text representation in and out.
 *
 * Notes: eng_text_parse is the type's input function (as COPY or an INSERT
 * of a string literal would apply it, typmod included: char(n) is padded,
 * varchar(n)/char(n) reject non-space excess with 22001); eng_text_format is
 * its output function under DateStyle 'ISO, MDY', IntervalStyle 'postgres',
 * TimeZone 'UTC', extra_float_digits 1, bytea_output 'hex'. Errors carry
 * PostgreSQL's SQLSTATE and, where practical, its message wording. The
 * per-type helpers below are the building blocks (also used by casts).
 * Everything here is thread-safe and allocates only inside the caller's
 * buffers (and transiently for unusually long inputs). */
#ifndef ENG_TEXT_H
#define ENG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_row.h"
#include "engine/core/eng_strbuf.h"
#include "engine/core/eng_type.h"

/* Longest text input accepted (PostgreSQL's 1 GB field limit). */
#define ENG_TEXT_MAX_LEN 0x3FFFFFFF

/* Appends one datum of type t parsed from s[0..n) to out. On error out is
 * unchanged and err is set (54000 past ENG_TEXT_MAX_LEN). */
int eng_text_parse(const eng_type *t, const char *s, size_t n, eng_rowbuf *out, eng_err *err);

/* Appends the text of non-NULL datum d of type t (d's tag must match t). */
void eng_text_format(const eng_type *t, eng_datum d, eng_strbuf *out);

/* ------------------------------------------------------------ integers, bool */

/* int2/int4/int8 input (bits 16/32/64): white space, sign, decimal digits.
 * 22P02 `invalid input syntax for type integer: "x"`, 22003 `value "x" is
 * out of range for type integer`. */
int eng_int_parse(const char *s, size_t n, int bits, int64_t *out, eng_err *err);
/* boolin: t/true/y/yes/on/1 and f/false/n/no/off/0, unique prefixes, any case. */
int eng_bool_parse(const char *s, size_t n, bool *out, eng_err *err);

/* ------------------------------------------------------------ character data */

/* 0 if s[0..n) is valid UTF-8 without NUL bytes, else 22021 with
 * PostgreSQL's "invalid byte sequence for encoding "UTF8": 0x.." message. */
int eng_utf8_validate(const char *s, size_t n, eng_err *err);
/* Number of characters in valid UTF-8. */
size_t eng_utf8_strlen(const char *s, size_t n);
/* Byte length of the first nchars characters of valid UTF-8. */
size_t eng_utf8_cliplen(const char *s, size_t n, size_t nchars);

/* Applies a varchar(n) / char(n) typmod to valid UTF-8 s and appends the
 * ENG_TAG_TEXT datum. explicit_cast: truncate silently (CAST); otherwise
 * excess characters must be spaces (input, assignment) or 22001 "value too
 * long for type character varying(n)". bpchar pads with spaces to n. */
void eng_varchar_push(const char *s, size_t n, int32_t typmod, eng_rowbuf *out);
int eng_varchar_check(const char *s, size_t n, int32_t typmod, bool explicit_cast, size_t *keep,
                      eng_err *err);
int eng_bpchar_push(const char *s, size_t n, int32_t typmod, bool explicit_cast, eng_rowbuf *out,
                    eng_err *err);
/* Length of s without trailing spaces (bpchar semantics: char(n) -> text). */
size_t eng_bpchar_trimmed_len(const char *s, size_t n);

/* ------------------------------------------------------------ bytea, uuid */

/* bytea input: "\x" hex (white space between digit pairs allowed) or the
 * escape format (\\ and \ooo octal). Appends an ENG_TAG_BYTES datum. */
int eng_bytea_parse(const char *s, size_t n, eng_rowbuf *out, eng_err *err);
/* "\x" + lower-case hex. */
void eng_bytea_format(const uint8_t *p, size_t n, eng_strbuf *out);

/* uuid input: 32 hex digits, optional braces, '-' after any group of four
 * digits. */
int eng_uuid_parse(const char *s, size_t n, uint8_t out[16], eng_err *err);
void eng_uuid_format(const uint8_t u[16], eng_strbuf *out);

/* ------------------------------------------------------------ json, jsonb */

/* Validates json text (PostgreSQL's grammar). 22P02 with a detail line. */
int eng_json_validate(const char *s, size_t n, eng_err *err);
/* Parses json text and appends jsonb's canonical text: object keys sorted
 * (shorter first, then bytewise), duplicate keys keep the last value,
 * `{"a": 1, "b": [1, 2]}` spacing, numbers as numeric output, strings
 * re-escaped as PostgreSQL prints them. */
int eng_jsonb_canonicalize(const char *s, size_t n, eng_strbuf *out, eng_err *err);

#endif
