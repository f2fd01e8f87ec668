/* project: rearranges columns (select, reorder, duplicate), the column-only
 * part of map/filter/project. Stateless: emits as input arrives; output
 * frontier = input frontier. */
#ifndef OP_PROJECT_H
#define OP_PROJECT_H

#include "engine/runtime/eng_dataflow.h"

typedef struct op_project_params {
    int ncols;
    int cols[]; /* output column i = input column cols[i] */
} op_project_params;

op_project_params *op_project_params_new(int ncols);
eng_op *op_project_make(const void *params, eng_wctx *w);

#endif
