/*
 * bench_core - the reducer core against the parse limit, on the same bytes
 * in the same run: (a) a jansson-only loop, json_loadb() with default
 * flags + json_decref(), over every message; (b) red_core_add() +
 * red_core_release() + red_core_process() + red_core_commit() in batches
 * (decode, late policy, reorder buffer, FSM, aggregation). Prints events/s of
 * each and core/parse (the goal is
 * >= 0.8). Also times the decoder alone, to show where the rest goes.
 *
 * Events come from the gen_events generator (tests/tools/gen_events_lib.c),
 * built in memory as Kafka would deliver them: the message value is the
 * envelope only (no _topic/_key members), topic/partition/key are set on
 * the message.
 */
#include "gen_events_lib.c"

#include "red_core.h"
#include "red_decode.h"
#include "red_frontier.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <time.h>

typedef struct corpus_s {
        char *bytes;
        size_t len, cap;
        red_msg_t *msgs;
        size_t cnt;
        red_time_t last_time;
        struct {
                const char *topic;
                int32_t partition;
        } * parts; /* the distinct (topic, partition) pairs */
        size_t part_cnt;
} corpus_t;

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *msg)
{
        fprintf(stderr, "bench_core: %s\n", msg);
        exit(1);
}

static void corpus_part(corpus_t *cp, const char *topic, int32_t partition)
{
        for (size_t k = 0; k < cp->part_cnt; k++) {
                if (cp->parts[k].partition == partition &&
                    !strcmp(cp->parts[k].topic, topic)) {
                        return;
                }
        }
        cp->parts = realloc(cp->parts, (cp->part_cnt + 1) * sizeof(*cp->parts));
        if (!cp->parts) {
                die("out of memory");
        }
        cp->parts[cp->part_cnt].topic = topic;
        cp->parts[cp->part_cnt].partition = partition;
        cp->part_cnt++;
}

/* Generates @p o->events messages; pointers are fixed up at the end. */
static void corpus_build(corpus_t *cp, const gen_opts_t *o)
{
        size_t *val_off, *key_off;
        gen_line_t line;
        gen_t *g = gen_new(o);

        if (!g) {
                die("bad generator options");
        }
        cp->cap = (size_t)o->events * 480 + 4096;
        cp->bytes = malloc(cp->cap);
        cp->msgs = calloc(o->events ? o->events : 1, sizeof(*cp->msgs));
        val_off = malloc((o->events + 1) * sizeof(*val_off));
        key_off = malloc((o->events + 1) * sizeof(*key_off));
        if (!cp->bytes || !cp->msgs || !val_off || !key_off) {
                die("out of memory");
        }
        while (gen_next(g, &line)) {
                red_msg_t *m = &cp->msgs[cp->cnt];
                if (cp->cap - cp->len < line.len + line.key_len + 2) {
                        char *nb = realloc(cp->bytes, cp->cap * 2);
                        if (!nb) {
                                die("out of memory");
                        }
                        cp->bytes = nb;
                        cp->cap *= 2;
                }
                val_off[cp->cnt] = cp->len;
                memcpy(cp->bytes + cp->len, line.text, line.len);
                cp->len += line.len;
                cp->bytes[cp->len++] = '\0';
                key_off[cp->cnt] = cp->len;
                memcpy(cp->bytes + cp->len, line.key, line.key_len);
                cp->len += line.key_len;
                cp->bytes[cp->len++] = '\0';
                m->topic = line.topic;
                m->partition = line.partition;
                m->offset = (int64_t)cp->cnt;
                m->value_len = line.len;
                m->key_len = line.key_len;
                m->timestamp = -1;
                if (line.time > cp->last_time) {
                        cp->last_time = line.time;
                }
                corpus_part(cp, line.topic, line.partition);
                cp->cnt++;
        }
        for (size_t i = 0; i < cp->cnt; i++) {
                cp->msgs[i].value = cp->bytes + val_off[i];
                cp->msgs[i].key = cp->bytes + key_off[i];
        }
        free(val_off);
        free(key_off);
        gen_destroy(g);
}

/* (a) the parse limit: jansson with default flags on the same bytes. */
static double run_parse(const corpus_t *cp, size_t *failed)
{
        double t0 = now_s();
        json_error_t err;

        *failed = 0;
        for (size_t i = 0; i < cp->cnt; i++) {
                json_t *j = json_loadb(cp->msgs[i].value, cp->msgs[i].value_len,
                                       0, &err);
                if (!j) {
                        (*failed)++;
                }
                json_decref(j);
        }
        return now_s() - t0;
}

/* The decoder alone (parse + envelope + fields), for the breakdown. */
static double run_decode(const red_contract_t *c, const corpus_t *cp,
                         red_time_t now, size_t *failed)
{
        red_value_t *values = calloc(c->slot_cnt + 1, sizeof(*values));
        red_event_t ev = {.values = values};
        char detail[512];
        double t0 = now_s();

        *failed = 0;
        for (size_t i = 0; i < cp->cnt; i++) {
                if (red_decode(c, &cp->msgs[i], now, &ev, detail,
                               sizeof(detail)) != RED_DLQ_NONE) {
                        (*failed)++;
                        continue;
                }
                red_decode_release(&ev);
        }
        t0 = now_s() - t0;
        free(values);
        return t0;
}

typedef struct core_stats_s {
        uint64_t applied, dead, cells, transitions, batches;
} core_stats_t;

/* The reorder frontier (red_frontier.h) while the input lasts: every
 * partition can still deliver (at the end the caller releases all). */
static red_time_t frontier(const red_core_t *core, const corpus_t *cp)
{
        red_frontier_t f;

        red_frontier_init(&f, 0, 0);
        for (size_t k = 0; k < cp->part_cnt; k++) {
                red_frontier_add(&f, k,
                                 red_core_max_time(core, cp->parts[k].topic,
                                                   cp->parts[k].partition),
                                 RED_FRONTIER_READING);
        }
        return f.time;
}

/* (b) the core, batch by batch, as the daemon drives it (no I/O). */
static double run_core(const red_contract_t *c, const corpus_t *cp,
                       size_t batch, red_time_t now, core_stats_t *st)
{
        char err[512];
        red_core_t *core = red_core_new(c, SIZE_MAX / 2, INT64_MAX / 2, NULL,
                                        NULL, err, sizeof(err));
        double t0;

        if (!core) {
                die(err);
        }
        memset(st, 0, sizeof(*st));
        t0 = now_s();
        for (size_t i = 0; i < cp->cnt;) {
                size_t end = i + batch < cp->cnt ? i + batch : cp->cnt;
                for (; i < end; i++) {
                        if (red_core_add(core, &cp->msgs[i], now, NULL)) {
                                die("red_core_add: out of memory");
                        }
                }
                if (red_core_release(
                            core, i < cp->cnt ? frontier(core, cp) : INT64_MAX,
                            0) < 0) {
                        die("red_core_release: out of memory");
                }
                if (red_core_process(core)) {
                        die("red_core_process: out of memory");
                }
                st->cells += red_aggregator_count(red_core_cells(core));
                st->transitions += red_core_rows(core)->cnt;
                st->batches++;
                red_core_commit(core);
        }
        t0 = now_s() - t0;
        st->applied = red_core_counters(core)->applied;
        st->dead = red_core_counters(core)->dead_lettered;
        red_core_destroy(core);
        return t0;
}

static void usage(void)
{
        fputs("usage: bench_core [--events N] [--batch B] [--days D] "
              "[--poison PERMILLE]\n"
              "                  [--seed S] [--rounds R] [--contract FILE] "
              "[--only parse|core|decode]\n",
              stderr);
        exit(2);
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"events", required_argument, NULL, 'n'},
                {"batch", required_argument, NULL, 'b'},
                {"days", required_argument, NULL, 'd'},
                {"poison", required_argument, NULL, 'x'},
                {"seed", required_argument, NULL, 'S'},
                {"rounds", required_argument, NULL, 'r'},
                {"contract", required_argument, NULL, 'c'},
                {"only", required_argument, NULL, 'o'},
                {NULL, 0, NULL, 0},
        };
        const char *contract = NULL, *only = NULL;
        char err[2048], path[4096];
        red_contract_t *c;
        corpus_t cp = {0};
        gen_opts_t o;
        size_t batch = 20000, failed = 0;
        int rounds = 3, opt;
        double best_parse = 0, best_core = 0, best_decode = 0;
        core_stats_t st = {0};
        red_time_t now;

        gen_opts_default(&o);
        o.events = 1000000;
        o.days = 30;
        o.meta = false;
        while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (opt) {
                case 'n':
                        o.events = strtoull(optarg, NULL, 10);
                        break;
                case 'b':
                        batch = strtoull(optarg, NULL, 10);
                        break;
                case 'd':
                        o.days = strtod(optarg, NULL);
                        break;
                case 'x':
                        o.poison_permille = atoi(optarg);
                        break;
                case 'S':
                        o.seed = strtoull(optarg, NULL, 10);
                        break;
                case 'r':
                        rounds = atoi(optarg);
                        break;
                case 'c':
                        contract = optarg;
                        break;
                case 'o':
                        only = optarg;
                        break;
                default:
                        usage();
                }
        }
        if (!o.events || !batch || rounds < 1 || !(o.days > 0)) {
                usage();
        }
        if (!contract) {
                const char *src = getenv("RED_SRCDIR");
                snprintf(path, sizeof(path),
                         "%s/contracts/codegen_metrics.yaml", src ? src : ".");
                contract = path;
        }
        if (!(c = red_contract_load(contract, err, sizeof(err)))) {
                die(err);
        }
        if (gen_topics_from(&o, c)) {
                die("the contract lacks a codegen input topic");
        }
        corpus_build(&cp, &o);
        now = cp.last_time + RED_TIME_US_PER_HOUR;
        printf("bench_core: %zu events (%.1f MiB, %.0f bytes/event), "
               "%.0f days, batches of %zu, best of %d\n",
               cp.cnt, (double)cp.len / 1048576.0,
               (double)cp.len / (double)cp.cnt, o.days, batch, rounds);
        for (int r = 0; r < rounds; r++) {
                double t;
                if (!only || !strcmp(only, "parse")) {
                        t = run_parse(&cp, &failed);
                        if (!best_parse || t < best_parse) {
                                best_parse = t;
                        }
                }
                if (!only || !strcmp(only, "decode")) {
                        size_t dfail;
                        t = run_decode(c, &cp, now, &dfail);
                        if (!best_decode || t < best_decode) {
                                best_decode = t;
                        }
                }
                if (!only || !strcmp(only, "core")) {
                        t = run_core(c, &cp, batch, now, &st);
                        if (!best_core || t < best_core) {
                                best_core = t;
                        }
                }
        }
        if (best_parse) {
                printf("parse only (json_loadb + json_decref): %10.0f "
                       "events/s (%zu not JSON)\n",
                       (double)cp.cnt / best_parse, failed);
        }
        if (best_decode) {
                printf("decode only (red_decode):              %10.0f "
                       "events/s\n",
                       (double)cp.cnt / best_decode);
        }
        if (best_core) {
                printf("core (add+release+process+commit):     %10.0f "
                       "events/s (applied %llu, dead-lettered %llu, "
                       "%.0f cells and %.0f transitions per batch)\n",
                       (double)cp.cnt / best_core,
                       (unsigned long long)st.applied,
                       (unsigned long long)st.dead,
                       (double)st.cells / (double)st.batches,
                       (double)st.transitions / (double)st.batches);
        }
        if (best_parse && best_core) {
                printf("ratio core/parse: %.2f (goal >= 0.80)\n",
                       best_parse / best_core);
        }
        free(cp.bytes);
        free(cp.msgs);
        free(cp.parts);
        red_contract_destroy(c);
        return 0;
}
