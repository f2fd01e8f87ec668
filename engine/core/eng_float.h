/* float4/float8 text input and output with PostgreSQL 15's rules.
 *
 * Notes: output is the shortest decimal string that reads back as the same
 * value (PostgreSQL's default extra_float_digits = 1), closest to the exact
 * value among the shortest, formatted as PostgreSQL's Ryu-based output does:
 * fixed notation for decimal exponents -4 <= e < 15 (float8) or < 6
 * (float4), otherwise d.ddde+XX with at least two exponent digits; "NaN",
 * "Infinity", "-Infinity". Input is strtod()/strtof() with PostgreSQL's
 * checks: surrounding white space, NaN/[+-]Infinity/[+-]inf in any case,
 * 22003 when the value over- or underflows to infinity or zero.
 * Thread-safe; no allocation except for inputs longer than 255 bytes. */
#ifndef ENG_FLOAT_H
#define ENG_FLOAT_H

#include <stddef.h>

#include "engine/core/eng_err.h"
#include "engine/core/eng_strbuf.h"

/* Longest output of eng_float8_shortest / eng_float4_shortest plus a NUL. */
#define ENG_FLOAT_SHORTEST_MAX 32

int eng_float8_parse(const char *s, size_t n, double *out, eng_err *err);
int eng_float4_parse(const char *s, size_t n, float *out, eng_err *err);

/* Writes the output text into buf (NUL-terminated), returns its length. */
size_t eng_float8_shortest(double v, char buf[ENG_FLOAT_SHORTEST_MAX]);
size_t eng_float4_shortest(float v, char buf[ENG_FLOAT_SHORTEST_MAX]);

void eng_float8_format(double v, eng_strbuf *out);
void eng_float4_format(float v, eng_strbuf *out);

#endif
