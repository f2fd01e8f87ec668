/* The jansson tree decoder of Debezium JSON that io/dbz_decode.c replaced:
 * the oracle of tests/io/test_dbz_json.c's differential tests and the
 * baseline of `sluice-bench dbzjson`. Same contracts as io_dbz_decode,
 * io_dbz_decode_key and io_dbz_decode_txn (io/io_dbz.h); jansson allocates
 * the tree per message. */
#ifndef T_DBZ_JSON_REF_H
#define T_DBZ_JSON_REF_H

#include "io/io_dbz.h"

int t_dbz_ref_decode(const io_dbz_schema *cols, const char *value, size_t n, io_dbz_change *out,
                     eng_err *err);
int t_dbz_ref_decode_key(const io_dbz_schema *key_cols, const char *key, size_t n,
                         io_dbz_change *out, eng_err *err);
int t_dbz_ref_decode_txn(const char *msg, size_t n, const char *collection, io_dbz_txn *out,
                         eng_err *err);

#endif
