/*
 * produce_jsonl - a test and bench helper: produces every line of a
 * JSON-lines file to Kafka, the topic and key taken from the line's
 * "_topic" and "_key" members (or -t), the partition from "_partition"
 * when -P is given, else librdkafka's partitioner on the key. Idempotent
 * producer, acks=all; exits non-zero unless every message was delivered.
 * -o TOPIC produces only the lines of that topic; -r RATE paces them at
 * RATE messages a second, as a live producer would send them.
 *
 *   produce_jsonl -b BOOTSTRAP [-t TOPIC] [-P] [-n FIRST,COUNT] [-o TOPIC]
 *                 [-r RATE] FILE|-
 */
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m,
                        void *opaque)
{
        (void)rk;
        (void)opaque;
        if (m->err) {
                if (failed++ < 5) {
                        fprintf(stderr, "delivery failed: %s\n",
                                rd_kafka_err2str(m->err));
                }
        }
}

/* For lines that are not JSON objects (poison input): the value of
 * "NAME":"..." or "NAME":N found in the raw text, into @p out. */
static bool raw_member(const char *line, size_t len, const char *name,
                       char *out, size_t size)
{
        char pat[64];
        const char *p, *end = line + len;
        size_t n = 0;

        snprintf(pat, sizeof(pat), "\"%s\":", name);
        p = memmem(line, len, pat, strlen(pat));
        if (!p) {
                return false;
        }
        p += strlen(pat);
        while (p < end && *p == ' ') {
                p++;
        }
        if (p < end && *p == '"') {
                for (p++; p < end && *p != '"' && n + 1 < size; p++) {
                        out[n++] = *p;
                }
        } else {
                for (; p < end && (*p == '-' || (*p >= '0' && *p <= '9')) &&
                       n + 1 < size;
                     p++) {
                        out[n++] = *p;
                }
        }
        out[n] = '\0';
        return n > 0;
}

/* Sleeps until message @p sent of a stream paced at @p rate a second that
 * started at @p t0 (CLOCK_MONOTONIC) is due, serving delivery reports. */
static void pace(rd_kafka_t *rk, const struct timespec *t0, long sent,
                 double rate)
{
        struct timespec now;
        double due = (double)sent / rate, left;

        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                left = due - ((double)(now.tv_sec - t0->tv_sec) +
                              (double)(now.tv_nsec - t0->tv_nsec) / 1e9);
                if (left <= 0) {
                        return;
                }
                rd_kafka_poll(rk, left > 0.05 ? 50 : (int)(left * 1000) + 1);
        }
}

static int set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
        char err[256];

        if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s: %s\n", k, err);
                return -1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        const char *brokers = NULL, *topic = NULL, *only = NULL;
        long first = 1, count = -1, lineno = 0, sent = 0;
        double rate = 0;
        struct timespec t0;
        bool use_partition = false;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        FILE *in;
        char *line = NULL, err[512];
        size_t cap = 0;
        ssize_t n;
        int opt;

        while ((opt = getopt(argc, argv, "b:t:Pn:o:r:")) != -1) {
                switch (opt) {
                case 'b':
                        brokers = optarg;
                        break;
                case 't':
                        topic = optarg;
                        break;
                case 'o':
                        only = optarg;
                        break;
                case 'r':
                        rate = atof(optarg);
                        break;
                case 'P':
                        use_partition = true;
                        break;
                case 'n':
                        if (sscanf(optarg, "%ld,%ld", &first, &count) != 2) {
                                return 2;
                        }
                        break;
                default:
                        return 2;
                }
        }
        if (!brokers || optind + 1 != argc) {
                fprintf(stderr,
                        "usage: %s -b BOOTSTRAP [-t TOPIC] [-P] "
                        "[-n FIRST,COUNT] [-o TOPIC] [-r RATE] "
                        "FILE\n",
                        argv[0]);
                return 2;
        }
        if (set(conf, "bootstrap.servers", brokers) ||
            set(conf, "enable.idempotence", "true") ||
            set(conf, "linger.ms", "20") ||
            set(conf, "batch.num.messages", "10000") ||
            set(conf, "queue.buffering.max.messages", "1000000") ||
            /* the tests send messages of 1 MB and more */
            set(conf, "message.max.bytes", "4000000")) {
                return 1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)))) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        in = strcmp(argv[optind], "-") ? fopen(argv[optind], "rb") : stdin;
        if (!in) {
                perror(argv[optind]);
                return 1;
        }
        while ((n = getline(&line, &cap, in)) >= 0) {
                json_t *root, *v;
                const char *t = topic, *key = NULL;
                int32_t part = RD_KAFKA_PARTITION_UA;
                rd_kafka_resp_err_t e;

                lineno++;
                if (lineno < first) {
                        continue;
                }
                if (count >= 0 && lineno >= first + count) {
                        break;
                }
                while (n > 0 && line[n - 1] == '\n') {
                        n--;
                }
                if (!n) {
                        continue;
                }
                root = json_loadb(line, (size_t)n, 0, NULL);
                if (!json_is_object(root)) {
                        static char rt[256], rkey[256];
                        char rp[32];
                        if (raw_member(line, (size_t)n, "_topic", rt,
                                       sizeof(rt))) {
                                t = rt;
                        }
                        if (raw_member(line, (size_t)n, "_key", rkey,
                                       sizeof(rkey))) {
                                key = rkey;
                        }
                        if (use_partition &&
                            raw_member(line, (size_t)n, "_partition", rp,
                                       sizeof(rp))) {
                                part = (int32_t)atoi(rp);
                        }
                } else {
                        if (json_is_string(
                                    v = json_object_get(root, "_topic"))) {
                                t = json_string_value(v);
                        }
                        if (json_is_string(v = json_object_get(root, "_key"))) {
                                key = json_string_value(v);
                        }
                        if (use_partition &&
                            json_is_integer(
                                    v = json_object_get(root, "_partition"))) {
                                part = (int32_t)json_integer_value(v);
                        }
                }
                if (!t) {
                        fprintf(stderr, "line %ld: no _topic and no -t\n",
                                lineno);
                        return 1;
                }
                if (only && strcmp(t, only)) {
                        json_decref(root);
                        continue;
                }
                if (rate > 0) {
                        pace(rk, &t0, sent, rate);
                }
                do {
                        e = rd_kafka_producev(
                                rk, RD_KAFKA_V_TOPIC(t),
                                RD_KAFKA_V_PARTITION(part),
                                RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                                RD_KAFKA_V_VALUE(line, (size_t)n),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END);
                        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                rd_kafka_poll(rk, 50);
                        }
                } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
                json_decref(root);
                if (e) {
                        fprintf(stderr, "line %ld: %s\n", lineno,
                                rd_kafka_err2str(e));
                        return 1;
                }
                sent++;
                rd_kafka_poll(rk, 0);
        }
        free(line);
        if (rd_kafka_flush(rk, 60000)) {
                fprintf(stderr, "flush timed out\n");
                return 1;
        }
        rd_kafka_destroy(rk);
        fprintf(stderr, "produced %ld messages, %ld failed\n", sent, failed);
        return failed ? 1 : 0;
}
