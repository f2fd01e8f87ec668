/* sluice-kafka-mock: a throwaway Kafka-protocol broker for tests, built on
 * librdkafka's mock cluster.
 *
 *   sluice-kafka-mock [--brokers N] [--topic NAME[:PARTITIONS]]...
 *
 * Prints the bootstrap address ("127.0.0.1:PORT[,...]") on the first line
 * of stdout, then reads commands on stdin, one per line, answering each
 * with "ok" or "error: ..." on stdout:
 *   create TOPIC [PARTITIONS]   create a topic (default 1 partition)
 *   quit                        exit
 * Runs until killed (SIGINT/SIGTERM) or quit; end of stdin is not a stop
 * signal, so it can run in the background with stdin from /dev/null. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int
create_topic(rd_kafka_mock_cluster_t *mc, const char *spec)
{
    char name[250];
    int parts = 1;
    const char *colon = strchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, spec, n);
    name[n] = '\0';
    if (colon) {
        parts = atoi(colon + 1);
        if (parts < 1 || parts > 10000)
            return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "sluice-kafka-mock: create %s: %s\n", name, rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    int brokers = 1;
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "sluice-kafka-mock: %s\n", errstr);
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc)
            brokers = atoi(argv[++i]);
    if (brokers < 1 || brokers > 16) {
        fprintf(stderr, "sluice-kafka-mock: --brokers must be 1..16\n");
        return 2;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
    if (mc == NULL) {
        fprintf(stderr, "sluice-kafka-mock: cannot create mock cluster\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0) {
            i++;
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            if (create_topic(mc, argv[++i]) != 0) {
                fprintf(stderr, "sluice-kafka-mock: bad --topic %s\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: sluice-kafka-mock [--brokers N] [--topic NAME[:PARTS]]...\n");
            return 2;
        }
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);

    char line[512];
    bool stdin_open = true;
    while (!stop) {
        if (!stdin_open) {
            pause();
            continue;
        }
        if (fgets(line, sizeof line, stdin) == NULL) {
            stdin_open = false;
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        char topic[300];
        int parts = 1;
        if (strcmp(line, "quit") == 0)
            break;
        if (sscanf(line, "create %299s %d", topic, &parts) >= 1) {
            char spec[320];
            snprintf(spec, sizeof spec, "%s:%d", topic, parts);
            puts(create_topic(mc, spec) == 0 ? "ok" : "error: cannot create topic");
        } else if (line[0] != '\0') {
            puts("error: unknown command");
        }
        fflush(stdout);
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
