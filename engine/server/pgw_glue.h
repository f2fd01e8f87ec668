/* The SQL front end's pgwire handler: pass it to io_pgw_listen with the
 * coordinator as ctx. */
#ifndef ENG_PGW_GLUE_H
#define ENG_PGW_GLUE_H

#include "engine/server/coord.h"
#include "io/io_pgw.h"

extern const io_pgw_handler eng_pgw_handler;

#endif
