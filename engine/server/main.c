/* sluiced: the Sluice server process (one cluster replica).
 *
 * Notes: the main thread becomes the io thread (it runs the io_uring loop
 * that serves pgwire and catches SIGINT/SIGTERM through a signalfd); workers
 * are started before the loop and joined after it. Signals are blocked in
 * every thread so only the signalfd sees them. */
#include "engine/core/eng_err.h"
#include "engine/core/eng_log.h"
#include "engine/core/eng_size.h"
#include "engine/runtime/eng_rt.h"
#include "engine/server/coord.h"
#include "engine/server/pgw_glue.h"
#include "engine/sql/eng_sql.h"
#include "io/io_loop.h"
#include "io/io_pgw.h"
#include "shard/shard_topo.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef SLUICE_HAVE_MIMALLOC
#include <mimalloc.h>
#endif

#define SLUICED_VERSION "0.1.0"

typedef struct options {
    char host[256];
    int port;
    const char *data_dir;
    const char *password_file;
    const char *size_name;
    eng_size size;
    eng_log_level log_level;
} options;

static void
usage(FILE *f)
{
    fprintf(f, "usage: sluiced [--listen HOST:PORT] [--data-dir DIR] [--size SIZE] "
               "[--password-file PATH] [--log-level LEVEL] [--help]\n");
}

static void
help(void)
{
    printf("sluiced %s - Sluice streaming SQL server (one cluster replica)\n\n", SLUICED_VERSION);
    usage(stdout);
    printf("\n"
           "  --listen HOST:PORT  pgwire address (default 127.0.0.1:6875; port 0 picks one)\n"
           "  --data-dir DIR      data directory, created if missing (default ./sluice-data)\n"
           "  --size SIZE         replica size: a name, a cc name or a worker count\n"
           "                      (default 3xsmall)\n"
           "  --password-file PATH  require passwords (SCRAM-SHA-256) from the\n"
           "                      \"user:password\" lines of PATH (default: trust)\n"
           "  --log-level LEVEL   error, warn, info (default), debug, trace\n"
           "  --help              this text\n\n"
           "sizes:\n");
    eng_size_print_table(stdout);
    printf("\nMore workers than processing units works, with a warning.\n");
}

static int
bad_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "sluiced: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    usage(stderr);
    return 2;
}

static int
parse_listen(const char *arg, options *o)
{
    const char *colon = strrchr(arg, ':');
    if (colon == NULL || colon == arg || colon[1] == '\0')
        return -1;
    size_t hl = (size_t)(colon - arg);
    const char *h = arg;
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') { /* [::1]:6875 */
        h++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof o->host)
        return -1;
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 0 || port > 65535)
        return -1;
    memcpy(o->host, h, hl);
    o->host[hl] = '\0';
    o->port = (int)port;
    return 0;
}

/* Returns -1 to go on, or an exit status. */
static int
parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"data-dir", required_argument, NULL, 'd'},
        {"size", required_argument, NULL, 's'},
        {"log-level", required_argument, NULL, 'v'},
        {"password-file", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    snprintf(o->host, sizeof o->host, "127.0.0.1");
    o->port = 6875;
    o->data_dir = "./sluice-data";
    o->size_name = "3xsmall";
    o->log_level = ENG_LOG_INFO;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'l':
            if (parse_listen(optarg, o) != 0)
                return bad_usage("invalid --listen \"%s\": expected HOST:PORT", optarg);
            break;
        case 'd':
            if (*optarg == '\0')
                return bad_usage("--data-dir must not be empty%s", "");
            o->data_dir = optarg;
            break;
        case 's':
            o->size_name = optarg;
            break;
        case 'p':
            if (*optarg == '\0')
                return bad_usage("--password-file must not be empty%s", "");
            o->password_file = optarg;
            break;
        case 'v':
            if (!eng_log_level_parse(optarg, &o->log_level))
                return bad_usage("invalid --log-level \"%s\": expected error, warn, info, debug "
                                 "or trace",
                                 optarg);
            break;
        case 'h':
            help();
            return 0;
        case ':':
            return bad_usage("option %s needs a value", argv[optind - 1]);
        default:
            return bad_usage("unknown option \"%s\"", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument \"%s\"", argv[optind]);
    eng_err err;
    eng_err_clear(&err);
    if (eng_size_parse(o->size_name, &o->size, &err) != 0)
        return bad_usage("%s", err.message);
    return -1;
}

static int
mkdir_p(const char *path)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

typedef struct sigctx {
    io_op op;
    int fd;
    struct signalfd_siginfo info;
} sigctx;

static void
on_signal(io_loop *loop, io_op *op, int res, unsigned flags)
{
    (void)flags;
    sigctx *s = op->ctx;
    if (res == (int)sizeof s->info)
        eng_log(ENG_LOG_INFO, "received %s, shutting down", strsignal((int)s->info.ssi_signo));
    else
        eng_log(ENG_LOG_WARN, "signalfd read failed (%d), shutting down", res);
    io_loop_stop(loop);
}

int
main(int argc, char **argv)
{
    options o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    eng_log_init(o.log_level, 2);
    eng_log_thread_name("io");

    /* Block the stop signals everywhere (threads inherit the mask). */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    signal(SIGPIPE, SIG_IGN);

    eng_err err;
    eng_err_clear(&err);
    shard_topo *topo = NULL;
    eng_rt *rt = NULL;
    io_loop *loop = NULL;
    io_pgw_server *srv = NULL;
    eng_coord *co = NULL;
    sigctx sig = {.fd = -1};
    int status = 1;

    eng_log(ENG_LOG_INFO, "sluiced %s starting: size %s, %d worker%s, data dir %s", SLUICED_VERSION,
            o.size.cc_name ? o.size.name : o.size_name, o.size.workers,
            o.size.workers == 1 ? "" : "s", o.data_dir);
#ifdef SLUICE_HAVE_MIMALLOC
    eng_log(ENG_LOG_INFO, "allocator: mimalloc %d", mi_version());
#else
    eng_log(ENG_LOG_INFO, "allocator: system malloc (mimalloc disabled in this build)");
#endif
    if (mkdir_p(o.data_dir) != 0) {
        eng_log(ENG_LOG_ERROR, "cannot create data directory %s: %s", o.data_dir, strerror(errno));
        goto done;
    }
    if (shard_topo_open(&topo, &err) != 0)
        goto fail;
    char desc[128];
    shard_topo_describe(topo, desc, sizeof desc);
    eng_log(ENG_LOG_INFO, "topology: %s", desc);
    if (eng_rt_start(&rt, topo, o.size.workers, &err) != 0)
        goto fail;
    if (eng_coord_open(&co, rt, o.data_dir, &err) != 0)
        goto fail;
    if (io_loop_open(&loop, 256, &err) != 0)
        goto fail;
    sig.fd = signalfd(-1, &mask, SFD_CLOEXEC);
    if (sig.fd < 0) {
        eng_log(ENG_LOG_ERROR, "signalfd: %s", strerror(errno));
        goto done;
    }
    sig.op = (io_op){on_signal, &sig};
    io_uring_prep_read(io_loop_sqe(loop, &sig.op), sig.fd, &sig.info, sizeof sig.info, 0);
    io_pgw_options po = {.host = o.host, .port = o.port, .password_file = o.password_file};
    if (io_pgw_listen(&srv, loop, &po, &eng_pgw_handler, co, &err) != 0)
        goto fail;
    eng_log(ENG_LOG_INFO, "listening for pgwire connections on %s:%d (%s)", o.host,
            io_pgw_port(srv), o.password_file ? "password authentication" : "trust");
    if (io_loop_run(loop, &err) != 0)
        goto fail;
    status = 0;
    goto done;

fail:
    eng_log(ENG_LOG_ERROR, "%s (SQLSTATE %s)", err.message, err.sqlstate);
done:
    io_pgw_close(srv);
    io_loop_close(loop);
    if (sig.fd >= 0)
        close(sig.fd);
    eng_coord_close(co);
    eng_rt_stop(rt);
    shard_topo_close(topo);
    eng_log(ENG_LOG_INFO, "sluiced stopped");
    return status;
}
