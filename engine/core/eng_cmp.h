/* Type-aware ordering of datums, as PostgreSQL sorts them.
 *
 * Notes: eng_datum_cmp needs only the tags: integers of different widths
 * compare by value; floats put NaN above everything (NaN = NaN) and -0 = 0;
 * numeric orders by value (-Infinity < finite < Infinity < NaN; 1.0 = 1.00);
 * text and bytea compare bytewise (C collation), a prefix first; dates,
 * times and timestamps by value with -infinity / infinity at the ends;
 * intervals by their total span with 30-day months and 24-hour days
 * (so '1 mon' = '30 days', as in PostgreSQL); uuids bytewise. NULL sorts
 * after every value (callers usually handle NULL themselves). Datums of
 * unrelated tags order by tag, so the order stays total.
 * eng_datum_cmp_typed adds what the tag cannot tell: char(n) ignores
 * trailing spaces. Pure functions. */
#ifndef ENG_CMP_H
#define ENG_CMP_H

#include "engine/core/eng_row.h"
#include "engine/core/eng_type.h"

/* <0, 0, >0. */
int eng_datum_cmp(eng_datum a, eng_datum b);
/* As eng_datum_cmp, for two datums of type t. */
int eng_datum_cmp_typed(const eng_type *t, eng_datum a, eng_datum b);
/* Compares two rows column by column with eng_datum_cmp. */
int eng_row_cmp(eng_row a, eng_row b);

#endif
