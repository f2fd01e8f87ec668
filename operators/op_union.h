/* union and negate: stateless.
 *
 * union: N input ports, output = the concatenation of all inputs (UNION ALL;
 * UNION is distinct over it). negate: one input, every diff negated (with
 * union and threshold it builds EXCEPT and INTERSECT). Both emit as input
 * arrives; output frontier = input frontier (the minimum over ports). */
#ifndef OP_UNION_H
#define OP_UNION_H

#include "engine/runtime/eng_dataflow.h"

/* params: NULL */
eng_op *op_union_make(const void *params, eng_wctx *w);
eng_op *op_negate_make(const void *params, eng_wctx *w);

#endif
