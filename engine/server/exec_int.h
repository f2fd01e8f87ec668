/* Statement execution internals shared by exec.c, dialect.c and
 * prepared.c. */
#ifndef ENG_EXEC_INT_H
#define ENG_EXEC_INT_H

#include <jansson.h>

#include "engine/server/coord_int.h"
#include "io/io_pgsrc.h"
#include "engine/sql/eng_sql.h"

int ex_complete(const eng_sink *sink, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ex_notice(const eng_sink *sink, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Rows of text columns (cells row-major, NULL = SQL NULL); tag NULL:
 * "SELECT n". */
int ex_text_result(const eng_sink *sink, int ncols, const char *const *names, int nrows,
                   const char *const *cells, const char *tag);
/* Runs a bound query and sends its rows. Called with the coordinator's
 * read lock held; releases it once the rows are computed (before sending
 * them, so a slow client holds up no writer). */
int ex_query(eng_session *s, eng_query *q, const eng_sink *sink, bool copy, eng_err *err);
int ex_stmt(eng_session *s, const char *type, const json_t *body, const char *sql,
            eng_bind_params *params, const eng_sink *sink, eng_err *err);
int ex_parse(const char *sql, json_t **root, const char **type, const json_t **body, eng_err *err);
/* Frees the session's cache of parsed statements. */
void ex_parse_cache_free(eng_session *s);
int ex_drop_obj(eng_coord *co, eng_obj *o, bool cascade, const eng_sink *sink, eng_err *err);
void ex_objrt_free(eng_obj *o);

/* Now, for now() in one-off statements (microseconds since 2000-01-01). */
int64_t ex_now_us(void);

/* Runs a bound query, appending its rows in order (final ORDER BY and
 * LIMIT applied, visible columns only) to out. Read lock held. */
int ex_query_rows(eng_session *s, eng_query *q, eng_batch *out, eng_err *err);

/* subscribe.c: SUBSCRIBE, COPY (SUBSCRIBE ...), DECLARE / FETCH / CLOSE. */
bool ex_subscribe_match(const char *sql);
int ex_subscribe(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);
void ex_cursors_free(eng_session *s);
/* The columns FETCH from a cursor returns (for Describe), -1 if unknown. */
int ex_fetch_describe(eng_session *s, const char *sql, int *ncols, char *const **names,
                      const eng_type **types);

/* dialect.c: Sluice's own statements (SHOW ..., later SUBSCRIBE, CREATE
 * SOURCE...). */
bool ex_dialect_match(const char *sql);
bool ex_dialect_is_show(const char *sql);
int ex_dialect(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);
/* connection.c: CREATE CONNECTION ... TO POSTGRES (...), DROP CONNECTION. */
int ex_connection(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);
/* A connection object's type as SHOW CONNECTIONS names it: "postgres",
 * "kafka" or "confluent-schema-registry" (a static string). */
const char *ex_connection_type(const eng_obj *o);

/* A PostgreSQL connection's options with its secrets resolved (the CA
 * certificate staged in a private file), for the sources. */
typedef struct ex_pgconn {
    io_pgsrc_conn c;
    char *strs[6];
    char ca_path[64];
} ex_pgconn;
/* Lock held. Returns 0, or -1 with err (a secret is gone...). */
int ex_pgconn_resolve(eng_coord *co, const eng_obj *conn, ex_pgconn *out, eng_err *err);
void ex_pgconn_free(ex_pgconn *c);

/* A Kafka or schema registry connection's options with its secrets
 * resolved (kind "kafka": brokers, security_protocol, sasl_*, ca; kind
 * "csr": url, user, password, ca). Lock held. Returns 0, or -1 with err
 * (42809 if the connection is of another kind, a secret is gone). */
typedef struct ex_kconn {
    char *brokers, *security_protocol, *sasl_mechanisms, *sasl_username, *sasl_password;
    char *url, *user, *password;
    char *ca; /* PEM */
} ex_kconn;
int ex_kconn_resolve(eng_coord *co, const eng_obj *conn, const char *kind, ex_kconn *out,
                     eng_err *err);
void ex_kconn_free(ex_kconn *c);

/* The value of secret `name` (borrowed; the caller holds the lock), NULL
 * if there is none. */
const char *ex_secret_value(eng_session *s, const char *name);

/* psql_compat.c: psql's describe queries (\d and friends), recognised by
 * their text and answered from the catalog. */
bool ex_psql_match(const char *sql);
int ex_psql(eng_session *s, const char *sql, const eng_sink *sink, eng_err *err);

#endif
