/* sluice-bench subcommands. Each returns a process exit status. */
#ifndef BENCH_H
#define BENCH_H

int bench_core_main(int argc, char **argv);
int bench_expr_main(int argc, char **argv);
/* mode: "peek" or "pgwire" (bench_sql.c). */
int bench_sql_main(const char *mode, int argc, char **argv);
/* PostgreSQL CDC into sluiced vs pg_recvlogical / a subscriber (bench_pgcdc.c). */
int bench_pgcdc_main(int argc, char **argv);
/* Debezium JSON and Avro from Kafka into sluiced vs kcat (bench_kafka.c; built with
 * SLUICE_KAFKA only). */
int bench_kafka_main(int argc, char **argv);
/* Debezium JSON decoding vs the jansson tree decoder (bench_dbz.c). */
int bench_dbz_main(int argc, char **argv);

#endif
