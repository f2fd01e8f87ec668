/* The generated Debezium load (see dbz_gen.h). */
#include "tests/harness/dbz_gen.h"

#include <stdio.h>

/* Kafka Connect's schema of the generated table's row, key and envelope
 * (Debezium's PostgreSQL connector, trimmed to the fields generated). */
#define GEN_ROW                                                                                    \
    "\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"},"                        \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"first_name\"},"                           \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"last_name\"},"                            \
    "{\"type\":\"string\",\"optional\":false,\"field\":\"email\"}]"
const char t_dbz_gen_key_schema[] =
    "{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"optional\":false,\"field\":\"id\"}],"
    "\"optional\":false,\"name\":\"gen.public.customers.Key\"}";
const char t_dbz_gen_value_schema[] =
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"struct\"," GEN_ROW ",\"optional\":true,\"name\":\"gen.public.customers.Value\","
    "\"field\":\"before\"},"
    "{\"type\":\"struct\"," GEN_ROW ",\"optional\":true,\"name\":\"gen.public.customers.Value\","
    "\"field\":\"after\"},"
    "{\"type\":\"struct\",\"fields\":["
    "{\"type\":\"string\",\"optional\":false,\"field\":\"version\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"connector\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"name\"},"
    "{\"type\":\"int64\",\"optional\":false,\"field\":\"ts_ms\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"db\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"schema\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"table\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"txId\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"lsn\"}],"
    "\"optional\":false,\"name\":\"io.debezium.connector.postgresql.Source\",\"field\":\"source\"},"
    "{\"type\":\"string\",\"optional\":false,\"field\":\"op\"},"
    "{\"type\":\"int64\",\"optional\":true,\"field\":\"ts_ms\"}],"
    "\"optional\":false,\"name\":\"gen.public.customers.Envelope\"}";

size_t
t_dbz_gen_key(long long i, char *buf, size_t cap)
{
    return (size_t)snprintf(buf, cap, "{\"id\":%lld}", i);
}

size_t
t_dbz_gen_payload(long long i, char *buf, size_t cap)
{
    const long long ts = 1700000000000LL + i;
    return (size_t)snprintf(
        buf, cap,
        "{\"before\":null,\"after\":{\"id\":%lld,\"first_name\":\"first%lld\","
        "\"last_name\":\"last%lld\",\"email\":\"user%lld@example.com\"},"
        "\"source\":{\"version\":\"2.5.0.Final\",\"connector\":\"postgresql\","
        "\"name\":\"gen\",\"ts_ms\":%lld,\"db\":\"postgres\",\"schema\":\"public\","
        "\"table\":\"customers\",\"txId\":%lld,\"lsn\":%lld},\"op\":\"c\",\"ts_ms\":%lld}",
        i, i, i, i, ts, i, 1000 + 16 * i, ts);
}

size_t
t_dbz_gen_message(long long i, int key, char *buf, size_t cap)
{
    char payload[512];
    if (key)
        t_dbz_gen_key(i, payload, sizeof payload);
    else
        t_dbz_gen_payload(i, payload, sizeof payload);
    return (size_t)snprintf(buf, cap, "{\"schema\":%s,\"payload\":%s}",
                            key ? t_dbz_gen_key_schema : t_dbz_gen_value_schema, payload);
}
