/* sluice-sql: runs SQL statements (from argv or stdin, one per line or
 * separated by ';') through an in-process coordinator and prints the
 * results as text. A debugging aid and the driver of test_coord's cases.
 *
 *   sluice-sql [-w workers] [-d data_dir] ['SQL' ...] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t_session.h"

int
main(int argc, char **argv)
{
    int workers = 2;
    const char *dir = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "w:d:")) != -1) {
        if (opt == 'w')
            workers = atoi(optarg);
        else if (opt == 'd')
            dir = optarg;
        else
            return 2;
    }
    eng_err err;
    eng_err_clear(&err);
    shard_topo *topo;
    eng_rt *rt;
    eng_coord *co;
    if (shard_topo_open(&topo, &err) != 0 || eng_rt_start(&rt, topo, workers, &err) != 0 ||
        eng_coord_open(&co, rt, dir, &err) != 0) {
        fprintf(stderr, "sluice-sql: %s\n", err.message);
        return 1;
    }
    eng_session *s = eng_session_new(co);
    if (optind < argc) {
        for (int i = optind; i < argc; i++) {
            char *r = t_sql(s, argv[i]);
            fputs(r, stdout);
            free(r);
        }
    } else {
        char *line = NULL;
        size_t cap = 0;
        eng_strbuf acc = {0};
        while (getline(&line, &cap, stdin) > 0) {
            eng_strbuf_puts(&acc, line);
            size_t n = strlen(line);
            while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
                n--;
            if (n > 0 && line[n - 1] == ';') {
                char *r = t_sql(s, eng_strbuf_cstr(&acc));
                fputs(r, stdout);
                free(r);
                eng_strbuf_reset(&acc);
            }
        }
        free(line);
        eng_strbuf_free(&acc);
    }
    eng_session_free(s);
    eng_coord_close(co);
    eng_rt_stop(rt);
    shard_topo_close(topo);
    return 0;
}
