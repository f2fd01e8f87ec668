/* What the two Avro test programs share: test_avro_cf (io/avro_cf.c on
 * hand-made bytes) and test_avro_encode (the test tools' encoder read
 * back by io/avro_cf.c). cmocka tests only: failures are cmocka asserts. */
#ifndef T_AVRO_CHECK_H
#define T_AVRO_CHECK_H

#include <stddef.h>

#include "engine/core/eng_row.h"
#include "io/io_avro.h"

/* A record with a field of every column type io/avro_cf.c reads (b, i, l,
 * f, d, s, y, e, x, n, dec, fdec, dt, tm, tu, tsm, tsu, u, ns). */
extern const char *const t_avro_all_types;

/* Row r of decoder d as "a|b|NULL|..." through eng_text_format, into
 * out[0..cap); asserts that r holds exactly d's columns, each of its
 * column's type. */
void t_avro_row_text(const io_avro_decoder *d, eng_row r, char *out, size_t cap);

/* The text of tests/io/data/NAME (at most 16 KiB). Returns one of two
 * static buffers, so two results can be held at once: borrowed until the
 * next call but one. */
char *t_avro_slurp(const char *name);

#endif
