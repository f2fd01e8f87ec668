/* Internal to the differential test (test_types_pg.c): the comparison
 * checks and the case generators shared between its two source files. */
#ifndef T_TYPES_PG_H
#define T_TYPES_PG_H

#include <stdbool.h>
#include <stdint.h>

/* 's'::typname on both sides. */
void t_check_literal(const char *cname, const char *typname, const char *s);
/* 's'::from::to on both sides. */
void t_check_cast(const char *from, const char *to, const char *s);
/* INSERT of 's' into a column of typname (input function + assignment). */
void t_check_assign(const char *typname, const char *s);
/* a OP b for numeric, OP one of + - * / %. */
void t_check_numeric_op(const char *a, char op, const char *b);
void t_check_numeric_round(const char *a, int scale, bool trunc);
/* sum() and avg() of vals. */
void t_check_numeric_agg(char **vals, int n);
/* format_type, OID and typmod of a type name. */
void t_check_type_name(const char *name);

/* The random source of the generators (seeded by main). */
extern uint64_t t_rng_state;

void t_run_type_names(void);
void t_run_ints(void);
void t_run_floats(void);
void t_run_numeric(void);
void t_run_strings(void);
void t_run_casts(void);
void t_run_bytea_uuid(void);
void t_run_json(void);
void t_run_dates(void);
void t_run_times(void);
void t_run_timestamps(void);
void t_run_intervals(void);
void t_run_zones(void);

#endif
