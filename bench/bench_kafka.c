/* sluice-bench kafka: Debezium messages from Kafka into sluiced, side by
 * side with kcat reading the same topic in one run.
 *
 *   debezium_json  Debezium JSON with the schema in every message (the
 *                  JsonConverter's schemas.enable=true), FORMAT JSON
 *                  ENVELOPE DEBEZIUM.
 *   debezium_avro  Debezium Avro in the Confluent framing, schemas in a
 *                  schema registry, FORMAT AVRO USING CONFLUENT SCHEMA
 *                  REGISTRY CONNECTION ... ENVELOPE DEBEZIUM.
 *
 * Notes
 * - Load. sluice-kafka-produce --gen-debezium N writes N inserts of a
 *   customers table (ids 1..N, keyed by id) round-robin over the topic's
 *   partitions, before anything is timed. The harness's Kafka is
 *   librdkafka's mock cluster: it keeps about 5 MiB per partition and drops
 *   older message sets silently, so the defaults spread N thin enough
 *   (JSON events are ~1.7 KiB, Avro ~115 B), and the first kcat run counts
 *   what the topic holds: anything but N ends the run. The mock answers a
 *   fetch with one message set per partition and finds it by a linear scan,
 *   so small producer batches make it, not the consumer, the bottleneck;
 *   the producer lingers --linger-ms (default 100) to write big batches.
 * - Baseline. `kcat -C -b B -t T -o beginning -e -q -X
 *   fetch.wait.max.ms=10 > /dev/null`: the broker path without decoding,
 *   timed from fork to exit; its CPU time from wait4's rusage. sluiced's
 *   consumer fetches with fetch.wait.max.ms=10 (io/kafka.c); kcat's default
 *   (500) adds ~0.5 s of waiting at the end of the topic before -e exits
 *   (measured), so the baseline uses sluiced's setting
 *   (--kcat-fetch-wait-ms 500 gives kcat's default).
 * - sluiced. Timed from CREATE SOURCE (which reads topic metadata and, for
 *   JSON, the newest messages' embedded schemas), followed by CREATE
 *   MATERIALIZED VIEW cnt AS SELECT count(*) AS n FROM src, until
 *   `SELECT n FROM cnt` returns N (a read waits until the topic's contents
 *   at start are in); --count select instead polls `SELECT count(*) FROM
 *   src`, an ad hoc scan of the source (~0.2 s for 1M rows). Its CPU
 *   time is the utime + stime delta of the sluiced process (/proc/PID/stat)
 *   over that span, so it includes every thread's work (and the little an
 *   idle sluiced spends, reported as sluiced_idle_cpu_per_s).
 *   `rehydration_seconds` is the source's own figure
 *   (mz_internal.mz_source_statistics.rehydration_latency: from the
 *   consumer's start until the start contents are readable). Each run
 *   creates a new source reading the topic from the beginning and drops it
 *   afterwards.
 * - Runs. A warm-up of each side first (the kcat one counts), then --reps
 *   runs alternating kcat and sluiced; the figures are medians.
 * - Every statement has a deadline (--timeout); a global alarm ends the run
 *   if anything else hangs. A sluiced that refuses a statement or gives a
 *   wrong count makes its figures null with an `error` and the exit status
 *   1; the baseline is still measured. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "bench/bench.h"

#define TOPIC_JSON "bench_dbz_json"
#define TOPIC_AVRO "bench_dbz_avro"
#define MAX_REPS 32

typedef struct cfg {
    const char *brokers, *dsn, *registry, *produce, *schema_dir, *kcat;
    pid_t sluiced_pid;
    long json_n, avro_n;
    int json_parts, avro_parts, reps, linger_ms, kcat_wait_ms;
    double timeout;
    bool json, avro;
    bool select_count; /* --count select: SELECT count(*) FROM src, not a view */
} cfg;

typedef struct state {
    const cfg *c;
    bench_sluice sl;
    int sources; /* sources created so far (their names) */
    double idle_cpu_per_s;
} state;

/* One timed run of either side. */
typedef struct run {
    double secs, cpu, create_s, rehyd_s;
} run;

/* ------------------------------------------------------------ sluiced */

/* Seconds of an interval in PostgreSQL's text output ("[N day[s] ]HH:MM:SS[.f]"),
 * -1 if it is something else. */
static double
interval_s(const char *t)
{
    double days = 0, h = 0, m = 0, sec = 0;
    const char *p = strstr(t, "day");
    if (p != NULL) {
        days = atof(t);
        p = strchr(p, ' ');
        t = p != NULL ? p + 1 : "0:0:0";
    }
    if (sscanf(t, "%lf:%lf:%lf", &h, &m, &sec) != 3)
        return -1;
    return days * 86400 + h * 3600 + m * 60 + sec;
}

static void
setup_sluice(state *s)
{
    char sql[1024];
    if (!bench_sluice_connect(&s->sl, s->c->dsn))
        return;
    snprintf(sql, sizeof sql, "CREATE CONNECTION bench_kafka TO KAFKA (BROKER '%s')",
             s->c->brokers);
    if (!bench_sluice_cmd(&s->sl, sql, 30))
        return;
    /* What an idle sluiced spends (its timers), to read cpu_seconds by. */
    if (s->c->sluiced_pid > 0) {
        double c0 = bench_proc_cpu_s(s->c->sluiced_pid), t0 = bench_now_s();
        bench_sleep_s(1);
        double c1 = bench_proc_cpu_s(s->c->sluiced_pid);
        s->idle_cpu_per_s = c0 >= 0 && c1 >= 0 ? (c1 - c0) / (bench_now_s() - t0) : -1;
    }
}

/* CREATE SOURCE over topic and a view counting it until the view says
 * want (--count select: until `SELECT count(*)` from the source does),
 * then DROP SOURCE ... CASCADE. Returns false (sluice failed) on a refused statement, a timeout
 * or a wrong count. */
static bool
sluice_run(state *s, bool avro, const char *topic, long want, run *out)
{
    const cfg *c = s->c;
    char name[64], sql[1024];
    snprintf(name, sizeof name, "bench_src_%d", ++s->sources);
    if (avro)
        snprintf(sql, sizeof sql,
                 "CREATE SOURCE %s FROM KAFKA CONNECTION bench_kafka (TOPIC '%s') FORMAT AVRO "
                 "USING CONFLUENT SCHEMA REGISTRY CONNECTION bench_csr ENVELOPE DEBEZIUM",
                 name, topic);
    else
        snprintf(sql, sizeof sql,
                 "CREATE SOURCE %s FROM KAFKA CONNECTION bench_kafka (TOPIC '%s') FORMAT JSON "
                 "ENVELOPE DEBEZIUM",
                 name, topic);
    double c0 = c->sluiced_pid > 0 ? bench_proc_cpu_s(c->sluiced_pid) : -1;
    double t0 = bench_now_s(), end = t0 + c->timeout;
    if (!bench_sluice_cmd(&s->sl, sql, c->timeout))
        return false;
    out->create_s = bench_now_s() - t0;
    char count_sql[128];
    if (c->select_count) {
        snprintf(count_sql, sizeof count_sql, "SELECT count(*) FROM %s", name);
    } else {
        snprintf(sql, sizeof sql, "CREATE MATERIALIZED VIEW %s_cnt AS SELECT count(*) AS n FROM %s",
                 name, name);
        if (!bench_sluice_cmd(&s->sl, sql, c->timeout))
            return false;
        snprintf(count_sql, sizeof count_sql, "SELECT n FROM %s_cnt", name);
    }
    out->secs = bench_sluice_wait(&s->sl, count_sql, name, want, t0, end, 0.005);
    if (out->secs < 0)
        return false;
    double c1 = c->sluiced_pid > 0 ? bench_proc_cpu_s(c->sluiced_pid) : -1;
    out->cpu = c0 >= 0 && c1 >= 0 ? c1 - c0 : -1;
    snprintf(sql, sizeof sql,
             "SELECT rehydration_latency FROM mz_internal.mz_source_statistics WHERE name = '%s'",
             name);
    PGresult *r = bench_sluice_row(&s->sl, sql, 30);
    if (r == NULL)
        return false;
    out->rehyd_s = PQgetisnull(r, 0, 0) ? -1 : interval_s(PQgetvalue(r, 0, 0));
    PQclear(r);
    snprintf(sql, sizeof sql, "DROP SOURCE %s CASCADE", name);
    if (!bench_sluice_cmd(&s->sl, sql, 60))
        return false;
    bench_sleep_s(0.3); /* the consumer thread stops, the arrangement goes */
    return true;
}

/* ------------------------------------------------------------ Kafka side */

static void
produce(state *s, bool avro, const char *topic, long n, int parts)
{
    const cfg *c = s->c;
    char nbuf[32], pbuf[32], linger[64], vs[1024], ks[1024];
    snprintf(nbuf, sizeof nbuf, "%ld", n);
    snprintf(pbuf, sizeof pbuf, "%d", parts);
    snprintf(linger, sizeof linger, "linger.ms=%d", c->linger_ms);
    char *argv[32];
    int a = 0;
    argv[a++] = (char *)c->produce;
    argv[a++] = "-b";
    argv[a++] = (char *)c->brokers;
    argv[a++] = "-t";
    argv[a++] = (char *)topic;
    argv[a++] = "--gen-debezium";
    argv[a++] = nbuf;
    argv[a++] = "--gen-format";
    argv[a++] = avro ? "avro" : "json";
    argv[a++] = "--gen-partitions";
    argv[a++] = pbuf;
    argv[a++] = "-X";
    argv[a++] = linger;
    if (avro) {
        snprintf(vs, sizeof vs, "%s/envelope.avsc", c->schema_dir);
        snprintf(ks, sizeof ks, "%s/key.avsc", c->schema_dir);
        argv[a++] = "--registry";
        argv[a++] = (char *)c->registry;
        argv[a++] = "--value-schema";
        argv[a++] = vs;
        argv[a++] = "--key-schema";
        argv[a++] = ks;
    }
    argv[a] = NULL;
    double t0 = bench_now_s(), secs = 0, cpu = 0;
    pid_t pid = bench_spawn(argv, -1);
    int st = bench_wait_child(pid, t0, c->timeout * 4, &secs, &cpu);
    if (st != 0)
        bench_die("%s --gen-debezium %ld into %s failed (status %d)", c->produce, n, topic, st);
    bench_note("%s: produced %ld messages over %d partitions in %.1f s", topic, n, parts, secs);
}

/* kcat reading the whole topic once. counted: its output is one byte per
 * message, counted into *count; otherwise it goes to /dev/null (timed). */
static void
kcat_run(state *s, const char *topic, bool counted, long *count, run *out)
{
    const cfg *c = s->c;
    char wait[64];
    snprintf(wait, sizeof wait, "fetch.wait.max.ms=%d", c->kcat_wait_ms);
    char *argv[16];
    int a = 0;
    argv[a++] = (char *)c->kcat;
    argv[a++] = "-C";
    argv[a++] = "-b";
    argv[a++] = (char *)c->brokers;
    argv[a++] = "-t";
    argv[a++] = (char *)topic;
    argv[a++] = "-o";
    argv[a++] = "beginning";
    argv[a++] = "-e";
    argv[a++] = "-q";
    argv[a++] = "-X";
    argv[a++] = wait;
    if (counted) {
        argv[a++] = "-f";
        argv[a++] = "x";
    }
    argv[a] = NULL;
    int fds[2] = {-1, -1};
    if (counted && pipe2(fds, O_CLOEXEC) != 0)
        bench_die("pipe: %s", strerror(errno));
    double t0 = bench_now_s();
    pid_t pid = bench_spawn(argv, fds[1]);
    if (counted) {
        close(fds[1]);
        long got = 0;
        char buf[65536];
        for (;;) {
            double left = t0 + c->timeout - bench_now_s();
            struct pollfd p = {fds[0], POLLIN, 0};
            if (left <= 0)
                break;
            if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
                bench_die("poll: %s", strerror(errno));
            ssize_t k = read(fds[0], buf, sizeof buf);
            if (k == 0)
                break;
            if (k < 0 && errno != EINTR && errno != EAGAIN)
                bench_die("read: %s", strerror(errno));
            if (k > 0)
                got += k;
        }
        close(fds[0]);
        *count = got;
    }
    int st = bench_wait_child(pid, t0, c->timeout, &out->secs, &out->cpu);
    if (st < 0)
        bench_die("kcat did not read %s within %.0f s", topic, c->timeout);
    if (st != 0)
        bench_die("kcat -C -t %s failed (status %d)", topic, st);
}

/* ------------------------------------------------------------ one workload */

static void
bench_one(state *s, const char *name, bool avro, const char *topic, long n, int parts,
          double target)
{
    const cfg *c = s->c;
    produce(s, avro, topic, n, parts);
    run warm = {0};
    long count = 0;
    kcat_run(s, topic, true, &count, &warm);
    if (count != n)
        bench_die("%s: kcat read %ld messages, %ld were produced: the Kafka mock dropped some (it "
                  "keeps ~5 MiB per partition); use more partitions or fewer messages",
                  topic, count, n);
    bench_note("%s: kcat read all %ld messages (warm-up, %.2f s)", topic, count, warm.secs);
    if (bench_sluice_on(&s->sl) && sluice_run(s, avro, topic, n, &warm))
        bench_note("%s: sluiced warm-up %.2f s (CREATE SOURCE %.2f s)", topic, warm.secs,
                   warm.create_s);
    int reps = c->reps;
    double ks[MAX_REPS], kc[MAX_REPS], ss[MAX_REPS], sc[MAX_REPS], scr[MAX_REPS], sr[MAX_REPS];
    int nk = 0, ns = 0;
    for (int r = 0; r < reps; r++) {
        run k = {0};
        kcat_run(s, topic, false, NULL, &k);
        ks[nk] = k.secs;
        kc[nk++] = k.cpu;
        bench_note("%s: run %d: kcat %.3f s (%.0f msgs/s), cpu %.2f s", topic, r + 1, k.secs,
                   n / k.secs, k.cpu);
        run sl = {0};
        if (bench_sluice_on(&s->sl) && sluice_run(s, avro, topic, n, &sl)) {
            ss[ns] = sl.secs;
            sc[ns] = sl.cpu;
            scr[ns] = sl.create_s;
            sr[ns++] = sl.rehyd_s;
            bench_note("%s: run %d: sluiced %.3f s (%.0f msgs/s; CREATE SOURCE %.2f s, rehydration "
                       "%.2f s), cpu %.2f s",
                       topic, r + 1, sl.secs, n / sl.secs, sl.create_s, sl.rehyd_s, sl.cpu);
        }
    }
    double kmed = bench_median(ks, nk), kcpu = bench_median(kc, nk);
    bool have = ns == reps;
    double smed = have ? bench_median(ss, ns) : -1, scpu = have ? bench_median(sc, ns) : -1;
    printf("{\"bench\":\"kafka\",\"name\":\"%s\",\"unit\":\"msgs/s\",\"messages\":%ld,"
           "\"partitions\":%d,\"runs\":%d,\"count\":\"%s\"",
           name, n, parts, reps, c->select_count ? "select" : "view");
    if (have) {
        printf(",\"seconds\":%.3f,\"msgs_per_s\":%.0f", smed, n / smed);
        bench_json_double("cpu_seconds", scpu, "%.2f");
        bench_json_double("create_source_seconds", bench_median(scr, ns), "%.3f");
        bench_json_double("rehydration_seconds", bench_median(sr, ns), "%.3f");
    } else {
        printf(",\"seconds\":null,\"msgs_per_s\":null,\"cpu_seconds\":null");
    }
    printf(",\"baseline\":\"kcat\",\"baseline_fetch_wait_ms\":%d,\"baseline_seconds\":%.3f,"
           "\"baseline_msgs_per_s\":%.0f,\"baseline_cpu_seconds\":%.2f",
           c->kcat_wait_ms, kmed, n / kmed, kcpu);
    if (have) {
        printf(",\"ratio\":%.3f", kmed / smed);
        bench_json_double("cpu_ratio", scpu > 0 ? kcpu / scpu : -1, "%.3f");
        printf(",\"target\":%.1f,\"met\":%s", target, kmed / smed >= target ? "true" : "false");
    } else {
        printf(",\"ratio\":null,\"target\":%.1f,\"met\":null", target);
    }
    bench_json_double("sluiced_idle_cpu_per_s", s->idle_cpu_per_s, "%.3f");
    printf(",\"seconds_all\":[");
    for (int i = 0; i < ns; i++)
        printf("%s%.3f", i ? "," : "", ss[i]);
    printf("],\"baseline_seconds_all\":[");
    for (int i = 0; i < nk; i++)
        printf("%s%.3f", i ? "," : "", ks[i]);
    printf("]");
    bench_json_error(&s->sl);
    printf("}\n");
    fflush(stdout);
}

/* ------------------------------------------------------------ main */

static void
usage(void)
{
    fprintf(stderr,
            "usage: sluice-bench kafka --brokers B [--dsn DSN --sluiced-pid PID] [--registry URL]\n"
            "       [--json-messages N] [--json-partitions P] [--avro-messages N]\n"
            "       [--avro-partitions P] [--reps R] [--only json|avro]... [--quick]\n"
            "       [--linger-ms MS] [--timeout S] [--produce PATH] [--schema-dir DIR]\n"
            "       [--kcat PATH] [--kcat-fetch-wait-ms MS] [--count view|select]\n"
            "   or: sluice-bench kafka --print-topics [the same options]   (see "
            "bench/README.md)\n");
}

/* sluice-kafka-produce next to this program (build/tests/harness/), or
 * NULL. */
static char *
default_produce(void)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return NULL;
    *slash = '\0';
    size_t len = strlen(exe) + 64;
    char *p = malloc(len);
    if (p != NULL)
        snprintf(p, len, "%s/tests/harness/sluice-kafka-produce", exe);
    return p;
}

int
bench_kafka_main(int argc, char **argv)
{
    cfg c = {.kcat = "kcat",
             .json_n = 256000,
             .json_parts = 128,
             .avro_n = 1000000,
             .avro_parts = 64,
             .reps = 3,
             .linger_ms = 100,
             .kcat_wait_ms = 10,
             .timeout = 300};
    bool only = false, print_topics = false;
    static const struct option opts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"dsn", required_argument, NULL, 'd'},
        {"sluiced-pid", required_argument, NULL, 'P'},
        {"registry", required_argument, NULL, 'r'},
        {"json-messages", required_argument, NULL, 'j'},
        {"json-partitions", required_argument, NULL, 'J'},
        {"avro-messages", required_argument, NULL, 'a'},
        {"avro-partitions", required_argument, NULL, 'A'},
        {"reps", required_argument, NULL, 'n'},
        {"only", required_argument, NULL, 'o'},
        {"quick", no_argument, NULL, 'q'},
        {"linger-ms", required_argument, NULL, 'l'},
        {"timeout", required_argument, NULL, 't'},
        {"produce", required_argument, NULL, 'p'},
        {"schema-dir", required_argument, NULL, 's'},
        {"kcat", required_argument, NULL, 'k'},
        {"kcat-fetch-wait-ms", required_argument, NULL, 'w'},
        {"print-topics", no_argument, NULL, 'T'},
        {"count", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    int o;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 'b':
            c.brokers = optarg;
            break;
        case 'd':
            c.dsn = optarg;
            break;
        case 'P':
            c.sluiced_pid = (pid_t)atol(optarg);
            break;
        case 'r':
            c.registry = optarg;
            break;
        case 'j':
            c.json_n = atol(optarg);
            break;
        case 'J':
            c.json_parts = atoi(optarg);
            break;
        case 'a':
            c.avro_n = atol(optarg);
            break;
        case 'A':
            c.avro_parts = atoi(optarg);
            break;
        case 'n':
            c.reps = atoi(optarg);
            break;
        case 'o':
            only = true;
            if (strcmp(optarg, "json") == 0)
                c.json = true;
            else if (strcmp(optarg, "avro") == 0)
                c.avro = true;
            else {
                usage();
                return 2;
            }
            break;
        case 'q':
            c.json_n = 16000;
            c.json_parts = 16;
            c.avro_n = 50000;
            c.avro_parts = 8;
            c.reps = 1;
            c.timeout = 60;
            break;
        case 'l':
            c.linger_ms = atoi(optarg);
            break;
        case 't':
            c.timeout = atof(optarg);
            break;
        case 'p':
            c.produce = optarg;
            break;
        case 's':
            c.schema_dir = optarg;
            break;
        case 'k':
            c.kcat = optarg;
            break;
        case 'w':
            c.kcat_wait_ms = atoi(optarg);
            break;
        case 'c':
            if (strcmp(optarg, "view") != 0 && strcmp(optarg, "select") != 0) {
                usage();
                return 2;
            }
            c.select_count = strcmp(optarg, "select") == 0;
            break;
        case 'T':
            print_topics = true;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!only)
        c.json = c.avro = true;
    if (c.json_n < 1 || c.avro_n < 1 || c.json_parts < 1 || c.avro_parts < 1 || c.reps < 1 ||
        c.reps > MAX_REPS || c.linger_ms < 0 || c.kcat_wait_ms < 0 || c.timeout <= 0 ||
        (c.dsn != NULL && c.sluiced_pid <= 0)) {
        usage();
        return 2;
    }
    if (print_topics) {
        /* For the script that starts the Kafka mock with these topics. */
        if (c.json)
            printf("%s:%d\n", TOPIC_JSON, c.json_parts);
        if (c.avro)
            printf("%s:%d\n", TOPIC_AVRO, c.avro_parts);
        return 0;
    }
    if (c.brokers == NULL) {
        usage();
        return 2;
    }
    bench_start("sluice-bench kafka", NULL);
    char *produce_path = NULL;
    if (c.produce == NULL)
        c.produce = produce_path = default_produce();
    if (c.produce == NULL || access(c.produce, X_OK) != 0)
        bench_die("sluice-kafka-produce not found (--produce PATH)");
    if (c.avro && (c.registry == NULL || c.schema_dir == NULL)) {
        bench_note("no --registry or --schema-dir: debezium_avro is skipped");
        c.avro = false;
    }

    signal(SIGPIPE, SIG_IGN);
    /* The whole run: every wait has its own deadline; this catches the rest. */
    alarm((unsigned)(c.timeout * (4 + 2 * (c.reps + 1)) * 2 + 600));

    state s = {.c = &c, .sl = {.timeout = c.timeout}, .idle_cpu_per_s = -1};
    if (c.dsn != NULL)
        setup_sluice(&s);
    else
        snprintf(s.sl.err, sizeof s.sl.err, "no sluiced (--dsn)");
    if (c.json)
        bench_one(&s, "debezium_json", false, TOPIC_JSON, c.json_n, c.json_parts, 0.5);
    if (c.avro) {
        if (bench_sluice_on(&s.sl)) {
            char sql[1024];
            snprintf(sql, sizeof sql,
                     "CREATE CONNECTION bench_csr TO CONFLUENT SCHEMA REGISTRY (URL '%s')",
                     c.registry);
            bench_sluice_cmd(&s.sl, sql, 30);
        }
        bench_one(&s, "debezium_avro", true, TOPIC_AVRO, c.avro_n, c.avro_parts, 0.7);
    }
    if (s.sl.conn != NULL)
        PQfinish(s.sl.conn);
    free(produce_path);
    return s.sl.failed ? 1 : 0;
}
