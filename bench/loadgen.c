/*
 * loadgen.c - librdkafka load generator for bench/run.ts.
 *
 *   gcc -O2 -o loadgen loadgen.c -lrdkafka -lpthread
 *
 *   loadgen produce -b HOST:PORT -t TOPIC -n N -s SIZE -a 1|all -l LINGER_MS -P PARTS [-S]
 *   loadgen mproduce -b HOST:PORT -t TOPIC -n N -s SIZE -a 1|all -l LINGER_MS -P PARTS -c PRODUCERS [-S]
 *   loadgen consume -b HOST:PORT -t TOPIC -n N -P PARTS
 *   loadgen e2e     -b HOST:PORT -t TOPIC -r RATE -d SECS -s SIZE -P PARTS [-l LINGER_MS] [-w WARMUP_SECS]
 *   loadgen gconsume -b HOST:PORT -t TOPIC -n N -P PARTS
 *   loadgen join    -b HOST:PORT -t TOPIC -m MEMBERS -P PARTS
 *   loadgen version
 *   common: [-T LIMIT_SECS (120)] [-X key=value]...
 *
 * produce: N messages, partition i*PARTS/N for message i (equal contiguous
 *   shares, like a sticky partitioner); timed from the first produce() to
 *   the last delivery report. -S: one message at a time (linger 0), waiting
 *   for its delivery report; reports produce()->report latency percentiles.
 * mproduce: as produce, from PRODUCERS producers at once (one rd_kafka_t,
 *   connection and thread each, N/PRODUCERS messages each), timed from
 *   their common start to the last delivery report. -S: each producer sends
 *   one message at a time, waiting for its delivery report.
 * consume: assign() every partition at offset 0 (no group join), read N
 *   messages; timed from the first message to the last. Also counts offset
 *   anomalies (an offset that is not previous+1 within a partition).
 * gconsume: as consume, but subscribe() in a fresh consumer group (range
 *   assignor) with auto commit every second; also reports the time from
 *   subscribe() to the first assignment (join_ms).
 * join: MEMBERS consumers (one process, one rd_kafka_t each, polled in
 *   turn) subscribe to the topic in one fresh group at once; reports the
 *   time from the first subscribe() until every member holds partitions and
 *   together they hold each partition exactly once (all_assigned_ms).
 *   heartbeat.interval.ms=100, so the members learn of rebalances from the
 *   broker within 100 ms rather than the 3 s default.
 * e2e: a producer paced at RATE msg/s (1 ms ticks, one partition per tick,
 *   rotating) writes a CLOCK_MONOTONIC timestamp into each payload; a
 *   consumer (own rd_kafka_t, own thread) tails the topic from offset 0 and
 *   records now - timestamp. Messages sent during the first WARMUP_SECS (1)
 *   are not counted.
 *
 * Before timing starts, every mode waits (bounded) for topic metadata with
 * at least PARTS partitions, each with a leader that answers ListOffsets
 * for it. The last stdout line is "RESULT key=value ...".
 * Exit status: 0 ok, 1 error, 3 time limit reached or messages missing.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

struct opts {
        const char *mode, *brokers, *topic, *acks;
        long n;
        int size, linger, parts, sync, limit, warmup, members, producers;
        double rate, secs;
        const char *x[32];
        int nx;
};
static struct opts O = {.acks = "1", .n = 1000000, .size = 100, .linger = 5,
                        .parts = 1, .limit = 120, .warmup = 1, .rate = 50000, .members = 10, .producers = 1,
                        .secs = 20};

static int64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_alarm(int sig) {
        static const char err[] = "loadgen: time limit reached\n";
        static const char res[] = "RESULT status=timeout\n";
        (void)sig;
        if (write(2, err, sizeof(err) - 1) < 0 || write(1, res, sizeof(res) - 1) < 0)
                _exit(3);
        _exit(3);
}

static void fail(const char *what, const char *detail) {
        fprintf(stderr, "loadgen: %s: %s\n", what, detail);
        printf("RESULT status=error\n");
        exit(1);
}

static void setc(rd_kafka_conf_t *c, const char *k, const char *v) {
        char err[256];
        if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
                fail(k, err);
}

static rd_kafka_conf_t *base_conf(void) {
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        setc(c, "bootstrap.servers", O.brokers);
        setc(c, "socket.nagle.disable", "true");
        return c;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

static rd_kafka_conf_t *producer_conf(int linger_ms) {
        rd_kafka_conf_t *c = base_conf();
        char buf[32];
        snprintf(buf, sizeof(buf), "%d", O.limit * 1000);
        setc(c, "message.timeout.ms", buf);
        snprintf(buf, sizeof(buf), "%d", linger_ms);
        setc(c, "linger.ms", buf);
        setc(c, "acks", O.acks);
        setc(c, "queue.buffering.max.messages", "2000000");
        setc(c, "queue.buffering.max.kbytes", "2097152");
        rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
        return c;
}

static void apply_x(rd_kafka_conf_t *c) {
        for (int i = 0; i < O.nx; i++) {
                char kv[512], *eq;
                snprintf(kv, sizeof(kv), "%s", O.x[i]);
                if (!(eq = strchr(kv, '=')))
                        fail("-X", "expected key=value");
                *eq = '\0';
                setc(c, kv, eq + 1);
        }
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, rd_kafka_conf_t *c) {
        char err[256];
        apply_x(c);
        rd_kafka_t *rk = rd_kafka_new(type, c, err, sizeof(err));
        if (!rk)
                fail("rd_kafka_new", err);
        return rk;
}

/* Wait (at most 30 s) until the topic is known with >= O.parts partitions,
 * each with a leader and no error, and each leader answers ListOffsets for
 * it. Apache Kafka answers an auto-created topic with LEADER_NOT_AVAILABLE
 * until its partitions are placed, and names a leader in Metadata a moment
 * before that leader has the partition's log (NOT_LEADER_OR_FOLLOWER); a
 * producer started then waits out retries, seconds of it on 64 partitions.
 * For a producer this also triggers auto-creation on brokers that do it. */
static void wait_metadata(rd_kafka_t *rk) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, O.topic, NULL);
        int64_t deadline = now_ns() + 30 * (int64_t)1000000000;
        char last[256] = "no answer";
        while (now_ns() < deadline) {
                const struct rd_kafka_metadata *md = NULL;
                rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 2000);
                if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
                        int ok = md->topic_cnt == 1 && !md->topics[0].err &&
                                 md->topics[0].partition_cnt >= O.parts;
                        int leaderless = 0;
                        for (int i = 0; md->topic_cnt == 1 && i < md->topics[0].partition_cnt; i++)
                                if (md->topics[0].partitions[i].leader < 0 || md->topics[0].partitions[i].err)
                                        leaderless++;
                        ok = ok && !leaderless;
                        snprintf(last, sizeof(last), "%s, %d partitions, %d without a leader",
                                 md->topic_cnt ? rd_kafka_err2str(md->topics[0].err) : "no topic",
                                 md->topic_cnt ? md->topics[0].partition_cnt : 0, leaderless);
                        for (int i = 0; ok && i < md->topics[0].partition_cnt; i++) {
                                int64_t lo, hi;
                                rd_kafka_resp_err_t oe =
                                        rd_kafka_query_watermark_offsets(rk, O.topic, i, &lo, &hi, 2000);
                                if (oe) {
                                        snprintf(last, sizeof(last), "partition %d: ListOffsets: %s", i,
                                                 rd_kafka_err2str(oe));
                                        ok = 0;
                                }
                        }
                        rd_kafka_metadata_destroy(md);
                        if (ok) {
                                rd_kafka_topic_destroy(rkt);
                                return;
                        }
                } else {
                        snprintf(last, sizeof(last), "%s", rd_kafka_err2str(e));
                }
                usleep(100 * 1000);
        }
        fail("metadata", last);
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static double pct(const double *v, long n, double p) {
        if (n <= 0)
                return 0;
        long i = (long)(p / 100.0 * (double)n + 0.999999999) - 1;
        return v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}

static void print_latency(double *v, long n) {
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        printf(" samples=%ld p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f", n,
               pct(v, n, 50), pct(v, n, 99), pct(v, n, 99.9), n ? v[n - 1] : 0.0);
}

static void fill_payload(char *buf, int size) {
        uint32_t x = 2463534242u; /* xorshift: incompressible, deterministic */
        for (int i = 0; i < size; i++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                buf[i] = (char)x;
        }
}

/* ------------------------------------------------------------ produce */

static long g_ok, g_failed;
static rd_kafka_resp_err_t g_first_err;
static int64_t g_last_dr_ns, g_sent_ns;
static double *g_lat;
static long g_nlat;

/* Atomic: with mproduce, each producer's thread runs the callbacks of its own handle. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        int64_t t = now_ns();
        __atomic_store_n(&g_last_dr_ns, t, __ATOMIC_RELAXED);
        if (m->err) {
                if (__atomic_fetch_add(&g_failed, 1, __ATOMIC_RELAXED) == 0)
                        g_first_err = m->err;
        } else {
                __atomic_fetch_add(&g_ok, 1, __ATOMIC_RELAXED);
        }
        if (g_lat)
                g_lat[g_nlat++] = (double)(t - g_sent_ns) / 1e6;
        if (opaque) /* mproduce: the producer's own count */
                __atomic_fetch_add((long *)opaque, 1, __ATOMIC_RELAXED);
}

static void produce_one(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int part,
                        void *buf, int flags) {
        while (rd_kafka_produce(rkt, part, flags, buf, (size_t)O.size, NULL, 0, NULL) == -1) {
                rd_kafka_resp_err_t e = rd_kafka_last_error();
                if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        fail("produce", rd_kafka_err2str(e));
                rd_kafka_poll(rk, 1);
        }
}

static int cmd_produce(void) {
        rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, producer_conf(O.sync ? 0 : O.linger));
        wait_metadata(rk);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, O.topic, NULL);

        char *payload = malloc((size_t)O.size);
        fill_payload(payload, O.size);
        if (O.sync && !(g_lat = malloc(sizeof(double) * (size_t)O.n)))
                fail("malloc", "latency array");

        int64_t t0 = now_ns();
        for (long i = 0; i < O.n; i++) {
                int part = (int)((int64_t)i * O.parts / O.n);
                if (O.sync) {
                        long before = g_ok + g_failed;
                        g_sent_ns = now_ns();
                        produce_one(rk, rkt, part, payload, 0);
                        while (g_ok + g_failed == before)
                                rd_kafka_poll(rk, 100);
                } else {
                        /* flags 0: librdkafka neither copies nor frees the
                         * (static) payload. */
                        produce_one(rk, rkt, part, payload, 0);
                        if ((i & 1023) == 0)
                                rd_kafka_poll(rk, 0);
                }
        }
        while (g_ok + g_failed < O.n)
                rd_kafka_poll(rk, 100);

        double secs = (double)(g_last_dr_ns - t0) / 1e9;
        if (g_failed)
                fprintf(stderr, "loadgen: %ld delivery failures, first: %s\n", g_failed,
                        rd_kafka_err2str(g_first_err));
        printf("RESULT status=%s mode=produce msgs=%ld failed=%ld secs=%.4f msgs_per_s=%.0f mb_per_s=%.2f",
               g_failed ? "error" : "ok", g_ok, g_failed, secs, (double)O.n / secs,
               (double)O.n * O.size / 1e6 / secs);
        if (O.sync)
                print_latency(g_lat, g_nlat);
        printf("\n");
        fflush(stdout);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------ mproduce */

struct producer {
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt;
        long n, done;
        const char *payload;
        int64_t end_ns;
};

static pthread_barrier_t g_start;

static void *producer_main(void *arg) {
        struct producer *p = arg;
        pthread_barrier_wait(&g_start);
        for (long i = 0; i < p->n; i++) {
                int part = (int)((int64_t)i * O.parts / p->n);
                long before = __atomic_load_n(&p->done, __ATOMIC_RELAXED);
                produce_one(p->rk, p->rkt, part, (void *)p->payload, 0);
                if (O.sync) {
                        while (__atomic_load_n(&p->done, __ATOMIC_RELAXED) == before)
                                rd_kafka_poll(p->rk, 100);
                } else if ((i & 1023) == 0) {
                        rd_kafka_poll(p->rk, 0);
                }
        }
        while (rd_kafka_outq_len(p->rk) > 0)
                rd_kafka_poll(p->rk, 100);
        p->end_ns = now_ns();
        return NULL;
}

/* N messages from C producers (one rd_kafka_t, so one connection, and one
 * thread each), N/C each, every producer writing every partition in
 * contiguous shares as produce does; timed from the common start to the
 * last delivery report. */
static int cmd_mproduce(void) {
        if (O.producers <= 0 || O.producers > 1024)
                fail("-c", "PRODUCERS must be 1..1024");
        struct producer *ps = calloc((size_t)O.producers, sizeof(*ps));
        pthread_t *th = calloc((size_t)O.producers, sizeof(*th));
        char *payload = malloc((size_t)O.size);
        fill_payload(payload, O.size);
        for (int j = 0; j < O.producers; j++) {
                rd_kafka_conf_t *conf = producer_conf(O.sync ? 0 : O.linger);
                rd_kafka_conf_set_opaque(conf, &ps[j].done);
                ps[j].rk = new_handle(RD_KAFKA_PRODUCER, conf);
                if (j == 0)
                        wait_metadata(ps[j].rk);
                ps[j].rkt = rd_kafka_topic_new(ps[j].rk, O.topic, NULL);
                ps[j].n = O.n / O.producers + (j < O.n % O.producers);
                ps[j].payload = payload;
        }
        pthread_barrier_init(&g_start, NULL, (unsigned)O.producers + 1);
        for (int j = 0; j < O.producers; j++)
                pthread_create(&th[j], NULL, producer_main, &ps[j]);
        int64_t t0 = now_ns();
        pthread_barrier_wait(&g_start);
        for (int j = 0; j < O.producers; j++)
                pthread_join(th[j], NULL);
        double secs = (double)(g_last_dr_ns - t0) / 1e9;
        if (g_failed)
                fprintf(stderr, "loadgen: %ld delivery failures, first: %s\n", g_failed,
                        rd_kafka_err2str(g_first_err));
        printf("RESULT status=%s mode=mproduce producers=%d msgs=%ld failed=%ld secs=%.4f msgs_per_s=%.0f mb_per_s=%.2f\n",
               g_failed || g_ok != O.n ? "error" : "ok", O.producers, g_ok, g_failed, secs, (double)g_ok / secs,
               (double)g_ok * O.size / 1e6 / secs);
        fflush(stdout);
        for (int j = 0; j < O.producers; j++) {
                rd_kafka_topic_destroy(ps[j].rkt);
                rd_kafka_destroy(ps[j].rk);
        }
        return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------ consume */

static rd_kafka_t *new_consumer(void) {
        rd_kafka_conf_t *c = base_conf();
        char group[64];
        /* assign() needs a group.id, but no group is joined. */
        snprintf(group, sizeof(group), "loadgen-%d", (int)getpid());
        setc(c, "group.id", group);
        setc(c, "enable.auto.commit", "false");
        setc(c, "enable.auto.offset.store", "false");
        setc(c, "enable.partition.eof", "false");
        setc(c, "auto.offset.reset", "earliest");
        setc(c, "queued.min.messages", "1000000");
        setc(c, "fetch.max.bytes", "8388608");
        rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, c);
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

static void assign_all(rd_kafka_t *rk) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(O.parts);
        for (int p = 0; p < O.parts; p++)
                rd_kafka_topic_partition_list_add(l, O.topic, p)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e)
                fail("assign", rd_kafka_err2str(e));
}

static int report_consumer_error(const rd_kafka_message_t *m, int *shown) {
        if ((*shown)++ < 5)
                fprintf(stderr, "loadgen: consumer: %s\n", rd_kafka_message_errstr(m));
        return 1;
}

struct consumed {
        long cnt, anomalies, errors;
        uint64_t bytes;
        double secs;
};

/* Reads O.n messages: timed from the first to the last, counting offsets
 * that are not previous + 1 within a partition. */
static struct consumed consume_n(rd_kafka_t *rk) {
        int64_t *next = calloc((size_t)O.parts, sizeof(*next));
        struct consumed c = {0};
        int shown = 0;
        int64_t t_first = 0, t_last = 0;
        while (c.cnt < O.n) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                if (m->err) {
                        c.errors += report_consumer_error(m, &shown);
                } else {
                        t_last = now_ns();
                        if (!c.cnt++)
                                t_first = t_last;
                        c.bytes += m->len;
                        if (m->partition >= 0 && m->partition < O.parts) {
                                if (m->offset != next[m->partition])
                                        c.anomalies++;
                                next[m->partition] = m->offset + 1;
                        }
                }
                rd_kafka_message_destroy(m);
        }
        free(next);
        c.secs = (double)(t_last - t_first) / 1e9;
        if (c.secs <= 0)
                c.secs = 1e-9;
        return c;
}

static int cmd_consume(void) {
        rd_kafka_t *rk = new_consumer();
        wait_metadata(rk);
        assign_all(rk);

        struct consumed c = consume_n(rk);
        long cnt = c.cnt, anomalies = c.anomalies, errors = c.errors;
        uint64_t bytes = c.bytes;
        double secs = c.secs;
        printf("RESULT status=ok mode=consume msgs=%ld bytes=%" PRIu64
               " secs=%.4f msgs_per_s=%.0f mb_per_s=%.2f offset_anomalies=%ld consumer_errors=%ld\n",
               cnt, bytes, secs, (double)cnt / secs, (double)bytes / 1e6 / secs, anomalies,
               errors);
        fflush(stdout);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}

/* ------------------------------------------------------------ group consume */

struct member {
        rd_kafka_t *rk;
        int assigned; /* partitions held now */
        int64_t t_assigned;
};

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
        struct member *m = opaque;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                rd_kafka_assign(rk, parts);
                m->assigned = parts->cnt;
                if (!m->t_assigned)
                        m->t_assigned = now_ns();
        } else {
                rd_kafka_assign(rk, NULL);
                m->assigned = 0;
        }
}

static rd_kafka_t *new_group_member(const char *group, struct member *m, int autocommit) {
        rd_kafka_conf_t *c = base_conf();
        setc(c, "group.id", group);
        setc(c, "partition.assignment.strategy", "range");
        setc(c, "enable.auto.commit", autocommit ? "true" : "false");
        setc(c, "auto.commit.interval.ms", "1000");
        setc(c, "enable.partition.eof", "false");
        setc(c, "auto.offset.reset", "earliest");
        setc(c, "queued.min.messages", "1000000");
        setc(c, "fetch.max.bytes", "8388608");
        if (!autocommit)
                setc(c, "heartbeat.interval.ms", "100");
        rd_kafka_conf_set_rebalance_cb(c, rebalance_cb);
        rd_kafka_conf_set_opaque(c, m);
        apply_x(c);
        rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, c);
        rd_kafka_poll_set_consumer(rk);
        return rk;
}

static void subscribe(rd_kafka_t *rk) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, O.topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e)
                fail("subscribe", rd_kafka_err2str(e));
}

static int cmd_gconsume(void) {
        char group[64];
        snprintf(group, sizeof(group), "loadgen-g-%d", (int)getpid());
        struct member mb = {0};
        rd_kafka_t *rk = new_group_member(group, &mb, 1);
        mb.rk = rk;
        wait_metadata(rk);
        int64_t t_sub = now_ns();
        subscribe(rk);
        struct consumed c = consume_n(rk);
        long cnt = c.cnt, anomalies = c.anomalies, errors = c.errors;
        uint64_t bytes = c.bytes;
        double secs = c.secs;
        /* the last commit, synchronously: the committed offsets must reach the log */
        rd_kafka_resp_err_t ce = rd_kafka_commit(rk, NULL, 0);
        printf("RESULT status=%s mode=gconsume msgs=%ld bytes=%" PRIu64
               " secs=%.4f msgs_per_s=%.0f mb_per_s=%.2f join_ms=%.1f offset_anomalies=%ld consumer_errors=%ld commit=%s\n",
               ce ? "commit_failed" : "ok", cnt, bytes, secs, (double)cnt / secs, (double)bytes / 1e6 / secs,
               (double)(mb.t_assigned - t_sub) / 1e6, anomalies, errors, rd_kafka_err2name(ce));
        fflush(stdout);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return ce ? 1 : 0;
}

static int cmd_join(void) {
        char group[64];
        snprintf(group, sizeof(group), "loadgen-j-%d", (int)getpid());
        int n = O.members;
        struct member *ms = calloc((size_t)n, sizeof(*ms));
        for (int i = 0; i < n; i++)
                ms[i].rk = new_group_member(group, &ms[i], 0);
        wait_metadata(ms[0].rk);
        int64_t t0 = now_ns();
        for (int i = 0; i < n; i++)
                subscribe(ms[i].rk);
        int64_t t_done = 0;
        while (!t_done) {
                int total = 0, holding = 0;
                for (int i = 0; i < n; i++) {
                        rd_kafka_message_t *m = rd_kafka_consumer_poll(ms[i].rk, 1);
                        if (m)
                                rd_kafka_message_destroy(m);
                        total += ms[i].assigned;
                        holding += ms[i].assigned > 0;
                }
                if (total == O.parts && holding == n)
                        t_done = now_ns();
        }
        printf("RESULT status=ok mode=join members=%d all_assigned_ms=%.1f first_assigned_ms=%.1f\n", n,
               (double)(t_done - t0) / 1e6, (double)(ms[0].t_assigned - t0) / 1e6);
        fflush(stdout);
        for (int i = 0; i < n; i++) {
                rd_kafka_consumer_close(ms[i].rk);
                rd_kafka_destroy(ms[i].rk);
        }
        return 0;
}

/* ------------------------------------------------------------ e2e */

static long g_sent;                /* written by the producer thread */
static int g_producer_done;        /* ditto */
static int64_t g_warm_end_ns;      /* set before the consumer starts */
static long g_received, g_counted; /* written by the consumer thread */
static double *g_e2e_lat;
static long g_e2e_cap;

static void *e2e_consumer(void *arg) {
        rd_kafka_t *rk = arg;
        int shown = 0;
        int64_t deadline = 0;
        for (;;) {
                if (__atomic_load_n(&g_producer_done, __ATOMIC_ACQUIRE)) {
                        if (g_received >= __atomic_load_n(&g_sent, __ATOMIC_RELAXED))
                                break;
                        if (!deadline)
                                deadline = now_ns() + 15 * (int64_t)1000000000;
                        else if (now_ns() > deadline)
                                break; /* messages missing: reported by main */
                }
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
                if (!m)
                        continue;
                if (m->err) {
                        report_consumer_error(m, &shown);
                } else if (m->len >= 8) {
                        int64_t ts, t = now_ns();
                        memcpy(&ts, m->payload, sizeof(ts));
                        g_received++;
                        if (ts >= g_warm_end_ns && g_counted < g_e2e_cap)
                                g_e2e_lat[g_counted++] = (double)(t - ts) / 1e6;
                }
                rd_kafka_message_destroy(m);
        }
        return NULL;
}

static int cmd_e2e(void) {
        if (O.size < 8)
                fail("-s", "e2e needs at least 8 bytes per message");
        rd_kafka_t *prod = new_handle(RD_KAFKA_PRODUCER, producer_conf(O.linger));
        wait_metadata(prod); /* creates the topic on auto-creating brokers */
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(prod, O.topic, NULL);

        rd_kafka_t *cons = new_consumer();
        assign_all(cons);
        g_e2e_cap = (long)(O.rate * O.secs) + 1000;
        if (!(g_e2e_lat = malloc(sizeof(double) * (size_t)g_e2e_cap)))
                fail("malloc", "latency array");

        char *payload = malloc((size_t)O.size);
        fill_payload(payload, O.size);
        int64_t start = now_ns(), end = start + (int64_t)(O.secs * 1e9);
        g_warm_end_ns = start + (int64_t)O.warmup * 1000000000;
        pthread_t thr;
        if (pthread_create(&thr, NULL, e2e_consumer, cons))
                fail("pthread_create", "consumer");

        struct timespec next;
        clock_gettime(CLOCK_MONOTONIC, &next);
        long tick = 0, sent = 0;
        int64_t t;
        while ((t = now_ns()) < end) {
                long due = (long)((double)(t - start) * O.rate / 1e9);
                int part = (int)(tick++ % O.parts);
                for (; sent < due; sent++) {
                        int64_t ts = now_ns();
                        memcpy(payload, &ts, sizeof(ts));
                        produce_one(prod, rkt, part, payload, RD_KAFKA_MSG_F_COPY);
                        __atomic_store_n(&g_sent, sent + 1, __ATOMIC_RELAXED);
                }
                rd_kafka_poll(prod, 0);
                next.tv_nsec += 1000000;
                if (next.tv_nsec >= 1000000000)
                        next.tv_sec++, next.tv_nsec -= 1000000000;
                clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        }
        double send_secs = (double)(now_ns() - start) / 1e9;
        rd_kafka_flush(prod, 15000);
        __atomic_store_n(&g_producer_done, 1, __ATOMIC_RELEASE);
        pthread_join(thr, NULL);

        int ok = !g_failed && g_received >= sent;
        if (g_failed)
                fprintf(stderr, "loadgen: %ld delivery failures, first: %s\n", g_failed,
                        rd_kafka_err2str(g_first_err));
        if (g_received < sent)
                fprintf(stderr, "loadgen: received %ld of %ld messages\n", g_received, sent);
        printf("RESULT status=%s mode=e2e sent=%ld received=%ld failed=%ld rate=%.0f",
               ok ? "ok" : "error", sent, g_received, g_failed, (double)sent / send_secs);
        print_latency(g_e2e_lat, g_counted);
        printf("\n");
        fflush(stdout);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(prod);
        rd_kafka_consumer_close(cons);
        rd_kafka_destroy(cons);
        return ok ? 0 : (g_failed ? 1 : 3);
}

/* ------------------------------------------------------------ main */

static void usage(void) {
        fprintf(stderr,
                "usage: loadgen produce -b B -t T -n N -s SIZE -a 1|all -l LINGER_MS -P PARTS [-S]\n"
                "       loadgen mproduce -b B -t T -n N -s SIZE -a 1|all -l LINGER_MS -P PARTS -c PRODUCERS [-S]\n"
                "       loadgen consume -b B -t T -n N -P PARTS\n"
                "       loadgen e2e -b B -t T -r RATE -d SECS -s SIZE -P PARTS [-l LINGER_MS] [-w WARMUP]\n"
                "       loadgen gconsume -b B -t T -n N -P PARTS\n"
                "       loadgen join -b B -t T -m MEMBERS -P PARTS\n"
                "       loadgen version\n"
                "       common: [-T LIMIT_SECS] [-X key=value]...\n");
        exit(1);
}

int main(int argc, char **argv) {
        if (argc < 2)
                usage();
        O.mode = argv[1];
        if (!strcmp(O.mode, "version")) {
                printf("RESULT status=ok librdkafka=%s\n", rd_kafka_version_str());
                return 0;
        }
        int opt;
        optind = 2;
        while ((opt = getopt(argc, argv, "b:t:n:s:a:l:P:Sr:d:w:T:X:m:c:")) != -1) {
                switch (opt) {
                case 'b': O.brokers = optarg; break;
                case 't': O.topic = optarg; break;
                case 'n': O.n = atol(optarg); break;
                case 's': O.size = atoi(optarg); break;
                case 'a': O.acks = optarg; break;
                case 'l': O.linger = atoi(optarg); break;
                case 'P': O.parts = atoi(optarg); break;
                case 'S': O.sync = 1; break;
                case 'r': O.rate = atof(optarg); break;
                case 'd': O.secs = atof(optarg); break;
                case 'w': O.warmup = atoi(optarg); break;
                case 'T': O.limit = atoi(optarg); break;
                case 'm': O.members = atoi(optarg); break;
                case 'c': O.producers = atoi(optarg); break;
                case 'X':
                        if (O.nx == 32)
                                usage();
                        O.x[O.nx++] = optarg;
                        break;
                default: usage();
                }
        }
        if (!O.brokers || !O.topic || O.n <= 0 || O.size <= 0 || O.parts <= 0 || O.members <= 0 ||
            O.limit <= 0 || O.rate <= 0 || O.secs <= 0)
                usage();

        signal(SIGALRM, on_alarm);
        alarm((unsigned)O.limit);

        if (!strcmp(O.mode, "produce"))
                return cmd_produce();
        if (!strcmp(O.mode, "mproduce"))
                return cmd_mproduce();
        if (!strcmp(O.mode, "consume"))
                return cmd_consume();
        if (!strcmp(O.mode, "e2e"))
                return cmd_e2e();
        if (!strcmp(O.mode, "gconsume"))
                return cmd_gconsume();
        if (!strcmp(O.mode, "join"))
                return cmd_join();
        usage();
        return 1;
}
