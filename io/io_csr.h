/* A Confluent Schema Registry client: the registry side of the Kafka
 * source (writer schemas by id, a subject's latest schema, registration
 * for tests and benchmarks), over HTTP(S) with libcurl.
 *
 * Notes: an io_csr belongs to one thread and keeps one libcurl easy handle,
 * so consecutive requests reuse the connection (HTTP keep-alive). Every
 * call blocks for at most the configured timeout (connect included).
 * curl_global_init runs once per process (pthread_once), so handles may be
 * opened from any thread. The registry is an untrusted network peer: a
 * response larger than IO_CSR_MAX_RESPONSE is refused, and anything that
 * is not the JSON we expect is an error (08P01), never an assert. Errors
 * name the registry's URL (without the password of a
 * http://user:password@host URL), the subject or the schema id; the
 * configured password never appears in a message (a registry that echoes
 * it back has it masked).
 *
 * SQLSTATEs: connection refused, DNS failure, TLS failure, timeout 08001;
 * HTTP 401/403 28000; an unknown subject (error code 40401, or 40402 for
 * "latest" of a subject without versions) 42704; an unknown schema id
 * (40403) 22023; a schema the registry rejects as invalid (42201) 22023;
 * a schema type other than Avro (PROTOBUF, JSON) 0A000; a response that
 * is not the expected JSON or is too large 08P01; any other HTTP status
 * 58000 with the status and the registry's message. */
#ifndef IO_CSR_H
#define IO_CSR_H

#include <stdint.h>

#include "engine/core/eng_err.h"

/* The largest response body accepted (a registry answer is a few KiB). */
#define IO_CSR_MAX_RESPONSE (16u << 20)

typedef struct io_csr_conf {
    const char *url;      /* http[s]://host[:port][/prefix], trailing slash or not */
    const char *user;     /* NULL: no authentication */
    const char *password; /* HTTP Basic; NULL with a user: empty */
    const char *ca_pem;   /* PEM CA certificates for https; NULL: the system's */
    int timeout_ms;       /* per request, connect included; 0: 10000 */
} io_csr_conf;

typedef struct io_csr io_csr;

/* Copies the configuration (nothing in c is borrowed after the call) and
 * checks the URL's shape; no I/O. Returns a new client (free with
 * io_csr_close), or NULL with err set: 22023 for a URL that is not
 * http:// or https://, has a query or fragment or control characters, or
 * a negative timeout; 53200 when libcurl cannot be initialised. */
io_csr *io_csr_open(const io_csr_conf *c, eng_err *err);

/* Closes the connection and frees the client. NULL is a no-op. */
void io_csr_close(io_csr *c);

/* GET /subjects: the registry is reachable, accepts the credentials and
 * answers the API (a JSON array). Returns 0, or -1 with err set. */
int io_csr_check(io_csr *c, eng_err *err);

/* GET /schemas/ids/{id}. On success *schema is the schema's JSON text,
 * new, NUL-terminated (free with free()). Returns 0, or -1 with err set
 * (22023 for an unknown id) and *schema untouched. */
int io_csr_schema_by_id(io_csr *c, uint32_t id, char **schema, eng_err *err);

/* GET /subjects/{subject}/versions/latest (subject borrowed for the call,
 * URL-encoded into the path). On success *id is the schema's global id
 * and *schema its JSON text, new (free with free()). Returns 0, or -1
 * with err set (42704 for an unknown subject) and the outputs untouched. */
int io_csr_latest(io_csr *c, const char *subject, uint32_t *id, char **schema, eng_err *err);

/* POST /subjects/{subject}/versions: registers schema (Avro JSON text,
 * borrowed for the call) under subject and sets *id to its global id (an
 * existing id when the registry already knows the schema). For tests and
 * benchmarks. Returns 0, or -1 with err set (22023 when the registry
 * rejects the schema, 58000 for an incompatible one, HTTP 409). */
int io_csr_register(io_csr *c, const char *subject, const char *schema, uint32_t *id, eng_err *err);

#endif
