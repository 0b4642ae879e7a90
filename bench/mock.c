/*
 * mock.c - the peer for bench/run.ts: librdkafka's in-memory mock cluster
 * (one broker) as a standalone process.
 *
 *   gcc -O2 -o mock mock.c -lrdkafka -lpthread
 *   mock [-t TOPIC:PARTITIONS]... [-T MAX_SECS]
 *
 * Creates the topics, prints "BOOTSTRAP=127.0.0.1:PORT" on stdout (the port
 * is chosen by the kernel) and serves until SIGTERM/SIGINT, or until
 * MAX_SECS (default 3600) have passed, a safety net should the parent die.
 * The mock keeps at most 5 MiB per partition, hence many partitions.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 256

static void die(const char *msg) {
        fprintf(stderr, "mock: %s\n", msg);
        exit(1);
}

int main(int argc, char **argv) {
        const char *topics[MAX_TOPICS];
        int ntopics = 0, max_secs = 3600, opt;
        char err[256];

        while ((opt = getopt(argc, argv, "t:T:h")) != -1) {
                switch (opt) {
                case 't':
                        if (ntopics == MAX_TOPICS)
                                die("too many topics");
                        topics[ntopics++] = optarg;
                        break;
                case 'T':
                        max_secs = atoi(optarg);
                        break;
                default:
                        fprintf(stderr,
                                "usage: mock [-t TOPIC:PARTITIONS]... [-T MAX_SECS]\n");
                        return 2;
                }
        }

        /* Block the stop signals before librdkafka starts its threads, so
         * that only sigtimedwait() below receives them. */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &stop, NULL);

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk)
                die(err);
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
        if (!mc)
                die("rd_kafka_mock_cluster_new failed");

        for (int i = 0; i < ntopics; i++) {
                char name[256];
                const char *colon = strrchr(topics[i], ':');
                int parts = colon ? atoi(colon + 1) : 0;
                size_t len = colon ? (size_t)(colon - topics[i]) : 0;
                if (parts <= 0 || len == 0 || len >= sizeof(name))
                        die("bad -t, expected TOPIC:PARTITIONS");
                memcpy(name, topics[i], len);
                name[len] = '\0';
                rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
                if (e)
                        die(rd_kafka_err2str(e));
        }

        printf("BOOTSTRAP=%s\n", rd_kafka_mock_cluster_bootstraps(mc));
        fflush(stdout);

        struct timespec limit = {.tv_sec = max_secs, .tv_nsec = 0};
        int sig = sigtimedwait(&stop, NULL, &limit);
        if (sig < 0 && errno == EAGAIN)
                fprintf(stderr, "mock: %d s limit reached, exiting\n", max_secs);
        /* Skip the (slow) teardown of a cluster holding lots of data. */
        _exit(0);
}
