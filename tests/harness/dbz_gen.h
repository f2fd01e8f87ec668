/* The generated Debezium load: inserts into customers(id, first_name,
 * last_name, email), as Debezium's PostgreSQL connector writes them with
 * JsonConverter (trimmed to the fields generated). One definition for
 * sluice-kafka-produce --gen-debezium, the decoder's differential tests
 * and sluice-bench dbzjson, so all three see the same shapes. */
#ifndef T_DBZ_GEN_H
#define T_DBZ_GEN_H

#include <stddef.h>

/* Kafka Connect schemas (JSON) of the key and of the value envelope. */
extern const char t_dbz_gen_key_schema[];
extern const char t_dbz_gen_value_schema[];

/* Event i's key payload ({"id": i}) into buf[0..cap); returns its length
 * (snprintf's: cap 64 is enough). */
size_t t_dbz_gen_key(long long i, char *buf, size_t cap);
/* Event i's envelope payload (op "c", source.lsn 1000 + 16 i, source.txId
 * i, ts_ms 1700000000000 + i); cap 512 is enough. */
size_t t_dbz_gen_payload(long long i, char *buf, size_t cap);
/* {"schema": <schema>, "payload": <payload>} (schemas.enable=true) for the
 * value (key false) or the key of event i; cap 4096 is enough. */
size_t t_dbz_gen_message(long long i, int key, char *buf, size_t cap);

#endif
