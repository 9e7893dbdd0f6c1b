/*
 * load_events - fills PostgreSQL from a JSON-lines file with reducerd's
 * own core and sink, without Kafka: the rows are exactly those `reducerd
 * run` would write for the same events (cells with their serialised
 * state, raw rows, workflows, alerts), in batches of one transaction
 * each. Used by the read-side tests and by bench/bench_query.
 *
 *   load_events -c CONTRACT [-b BATCH] [-d CONNINFO] EVENTS.jsonl
 *
 * Lines may carry "_topic", "_partition" and "_key" as produce_jsonl and
 * `reducerd reduce` read them; without _topic the contract's first input
 * topic is used. Prints "loaded N events: A applied, D dead letters".
 */
#include "red_contract.h"
#include "red_core.h"
#include "red_log.h"
#include "red_sink.h"
#include "red_time.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct line_s {
        char *text;
        size_t len;
        red_msg_t msg;
        char *topic, *key;
} line_t;

static void die(const char *what, const char *detail)
{
        fprintf(stderr, "load_events: %s%s%s\n", what, detail ? ": " : "",
                detail ? detail : "");
        exit(1);
}

static line_t *read_lines(const char *path, const red_contract_t *c,
                          size_t *cnt)
{
        FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
        line_t *lines = NULL;
        size_t n = 0, cap = 0, len = 0;
        char *buf = NULL;
        ssize_t got;
        int64_t offsets[4096] = {0};

        if (!fp) {
                die("cannot open", path);
        }
        while ((got = getline(&buf, &len, fp)) > 0) {
                json_t *root, *v;
                line_t *l;
                while (got && (buf[got - 1] == '\n' || buf[got - 1] == '\r')) {
                        buf[--got] = '\0';
                }
                if (!got) {
                        continue;
                }
                if (n == cap) {
                        cap = cap ? 2 * cap : 1024;
                        if (!(lines = realloc(lines, cap * sizeof(*lines)))) {
                                die("out of memory", NULL);
                        }
                }
                l = &lines[n++];
                memset(l, 0, sizeof(*l));
                l->text = strdup(buf);
                l->len = (size_t)got;
                root = json_loads(buf, 0, NULL);
                if (json_is_string(v = json_object_get(root, "_topic"))) {
                        l->topic = strdup(json_string_value(v));
                }
                if (json_is_string(v = json_object_get(root, "_key"))) {
                        l->key = strdup(json_string_value(v));
                }
                if (json_is_integer(v = json_object_get(root, "_partition"))) {
                        l->msg.partition =
                                (int32_t)(json_integer_value(v) % 4096);
                }
                json_decref(root);
                l->msg.topic = l->topic ? l->topic : c->inputs[0].topic;
                l->msg.value = l->text;
                l->msg.value_len = l->len;
                l->msg.key = l->key;
                l->msg.key_len = l->key ? strlen(l->key) : 0;
                l->msg.timestamp = -1;
                /* offsets count per partition (topics share the count:
                 * they only need to grow) */
                l->msg.offset = offsets[l->msg.partition]++;
        }
        free(buf);
        if (fp != stdin) {
                fclose(fp);
        }
        *cnt = n;
        return lines;
}

/* The events applied while Postgres copies (red_sink_work_fn). */
static int apply_events(void *core)
{
        return red_core_process(core);
}

int main(int argc, char **argv)
{
        const char *cpath = NULL, *conninfo = "";
        long batch = 5000;
        char err[2048];
        red_contract_t *c;
        red_core_t *core;
        red_sink_t *sink;
        line_t *lines;
        size_t cnt;
        int opt;

        while ((opt = getopt(argc, argv, "c:b:d:")) != -1) {
                switch (opt) {
                case 'c':
                        cpath = optarg;
                        break;
                case 'b':
                        batch = atol(optarg);
                        break;
                case 'd':
                        conninfo = optarg;
                        break;
                default:
                        die("usage: load_events -c CONTRACT [-b BATCH] "
                            "[-d CONNINFO] EVENTS.jsonl",
                            NULL);
                }
        }
        if (!cpath || optind + 1 != argc || batch < 1) {
                die("usage: load_events -c CONTRACT [-b BATCH] [-d CONNINFO] "
                    "EVENTS.jsonl",
                    NULL);
        }
        red_log_setup(RED_LOG_WARN, false);
        if (!(c = red_contract_load(cpath, err, sizeof(err)))) {
                die(err, NULL);
        }
        lines = read_lines(argv[optind], c, &cnt);
        if (!(core = red_core_new(c, 10000000, 0, NULL, NULL, err,
                                  sizeof(err))) ||
            !(sink = red_sink_new(c, conninfo, "load_events"))) {
                die("setting up", err);
        }
        if (red_sink_connect(sink, err, sizeof(err))) {
                die("connecting", err);
        }
        for (size_t i = 0; i < cnt;) {
                size_t end = i + (size_t)batch < cnt ? i + (size_t)batch : cnt;
                const red_uuid_t *missing;
                size_t missing_cnt;
                red_sink_result_t r;
                red_time_t now = red_time_now();

                for (size_t j = i; j < end; j++) {
                        if (red_core_add(core, &lines[j].msg, now, NULL)) {
                                die("out of memory", NULL);
                        }
                }
                if (red_core_release(core, INT64_MAX, 0) < 0) {
                        die("out of memory", NULL);
                }
                missing = red_core_missing(core, &missing_cnt);
                if (missing_cnt &&
                    red_sink_load_workflows(sink, missing, missing_cnt,
                                            red_core_workflows(core), err,
                                            sizeof(err))) {
                        die("loading workflows", err);
                }
                if (red_sink_dedupe_lookup(sink, core, err, sizeof(err)) ||
                    red_sink_raw_lookup(sink, core, err, sizeof(err))) {
                        die("looking up raw rows", err);
                }
                r = red_sink_write(sink, core, NULL, 0, 0, apply_events, core,
                                   err, sizeof(err));
                if (r == RED_SINK_REPLAY || r == RED_SINK_RETRY) {
                        /* the same lines again, as the pipeline does */
                        red_core_rollback(core);
                        continue;
                }
                if (r) {
                        die("writing", err);
                }
                red_core_commit(core);
                i = end;
        }
        printf("loaded %zu events: %llu applied, %llu dead letters\n", cnt,
               (unsigned long long)red_core_counters(core)->applied,
               (unsigned long long)red_core_counters(core)->dead_lettered);
        red_sink_destroy(sink);
        red_core_destroy(core);
        for (size_t i = 0; i < cnt; i++) {
                free(lines[i].text);
                free(lines[i].topic);
                free(lines[i].key);
        }
        free(lines);
        red_contract_destroy(c);
        return 0;
}
