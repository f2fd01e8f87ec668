/* sluice-bench: benchmark programs printing one JSON object per line. */
#include "bench/bench.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "core") == 0)
        return bench_core_main(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "expr") == 0)
        return bench_expr_main(argc - 2, argv + 2);
    if (argc >= 2 && (strcmp(argv[1], "peek") == 0 || strcmp(argv[1], "pgwire") == 0))
        return bench_sql_main(argv[1], argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "pgcdc") == 0)
        return bench_pgcdc_main(argc - 2, argv + 2);
#ifdef SLUICE_KAFKA
    if (argc >= 2 && strcmp(argv[1], "kafka") == 0)
        return bench_kafka_main(argc - 2, argv + 2);
#endif
    if (argc >= 2 && strcmp(argv[1], "dbzjson") == 0)
        return bench_dbz_main(argc - 2, argv + 2);
    fprintf(stderr,
            "usage: sluice-bench core|expr|peek|pgwire|pgcdc|kafka|dbzjson [options]   (see "
            "bench/README.md)\n");
    return 2;
}
