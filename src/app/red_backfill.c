/* red_backfill - `reducerd backfill`: a range's cells recomputed and
 * replaced, and a new table generation filled and switched in. */
#include "red_backfill.h"

#include "red_appconf.h"
#include "red_backfill_db.h"
#include "red_failpoint.h"
#include "red_frontier.h"
#include "red_log.h"
#include "red_pg.h"
#include "red_rawread.h"
#include "red_rebuild.h"
#include "red_recompute.h"
#include "red_replay.h"
#include "red_schema.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A batch of the daemon takes less than this from its first row to its
 * commit: a raw row committed after a snapshot was stored (created_at) no
 * earlier than this before it. */
#define CATCH_UP_MARGIN_US (15 * 60 * RED_TIME_US_PER_SEC)
#define READ_ROWS          5000
#define REPLAY_BATCH       20000

typedef struct bf_s {
        const red_config_t *conf;
        const red_contract_t *c;
        red_time_t from, to;
        bool kafka; /* the source */
        int gen;    /* generation written (0: the live tables) */
        int live;   /* the live generation */
        uint64_t aggs;
        uint32_t windows; /* of the aggregations written */
        red_rebuild_src_t *srcs;
        size_t src_cnt;
        red_rebuild_range_t rr;
        red_backfill_db_t *db;
        red_recompute_t *rc;
        red_replay_t *rp;
        char *ends; /* kafka: where the replay of step 1 ends (JSON) */
        /* progress */
        bool tty;
        const char *step, *unit;
        long long started_ms, shown_ms;
        uint64_t events, total; /* of the step, of the run */
        double done;            /* fraction of the step, or < 0 when unknown */
        char *err;
        size_t errsize;
} bf_t;

/* --- progress ------------------------------------------------------------- */

static long long now_ms(void)
{
        return red_time_mono_us() / 1000;
}

/* A bar on a terminal (redrawn at most 5 times a second), a log line
 * every 10 s and at the end of each step elsewhere. */
static void show(bf_t *b, bool final)
{
        long long t = now_ms(), el = t - b->started_ms;
        double rate = el > 0 ? (double)b->events * 1000.0 / (double)el : 0;
        char eta[32] = "", pct[16] = "";

        if (!final && t - b->shown_ms < (b->tty ? 200 : 10000)) {
                return;
        }
        b->shown_ms = t;
        if (b->done > 0.001 && b->done < 1) {
                long long left = (long long)((double)el * (1 - b->done) /
                                             b->done / 1000.0);
                snprintf(eta, sizeof(eta), ", ETA %lld:%02lld", left / 60,
                         left % 60);
        }
        if (b->done >= 0) {
                snprintf(pct, sizeof(pct), " %3.0f%%",
                         (final ? 1 : b->done) * 100);
        }
        if (b->tty) {
                int w = b->done >= 0 ? (int)((final ? 1 : b->done) * 30) : 0;
                fprintf(stderr, "\r%-22s [%.*s%*s]%s %llu %s, %.0f/s%s ",
                        b->step, w, "##############################", 30 - w,
                        "", pct, (unsigned long long)b->events, b->unit, rate,
                        eta);
                if (final) {
                        fputc('\n', stderr);
                }
        } else {
                red_log_info("backfill", "%s: %s:%s %llu %s (%.0f/s)%s",
                             b->c->name, b->step, pct,
                             (unsigned long long)b->events, b->unit, rate, eta);
        }
}

static void step(bf_t *b, const char *name, const char *unit)
{
        b->step = name;
        b->unit = unit;
        b->started_ms = now_ms();
        b->shown_ms = 0;
        b->events = 0;
        b->done = -1;
}

static void chunk_done(void *arg, size_t done, size_t total, const char *chunk)
{
        bf_t *b = arg;

        (void)chunk;
        b->done = (double)done / (double)total;
        b->events = done;
        show(b, done == total);
}

/* --- what to write, from what --------------------------------------------- */

/* The generation to write: the one migrate builds for this contract, else
 * the live tables if the contract is the live one. */
static int target(bf_t *b, PGconn *conn)
{
        const red_contract_t *c = b->c;
        char why[1024];

        if (red_schema_building(conn, c, &b->gen, &b->aggs, b->err,
                                b->errsize)) {
                return -1;
        }
        if (!b->gen) {
                if (red_schema_live(conn, c, &b->live, why, sizeof(why))) {
                        snprintf(b->err, b->errsize,
                                 "%s; a backfill writes the live tables of "
                                 "the live version or the generation that "
                                 "reducerd migrate built for a new one",
                                 why);
                        return -1;
                }
                b->aggs = ~UINT64_C(0);
        }
        for (size_t i = 0; i < c->agg_cnt; i++) {
                if (i < 64 && (b->aggs & (UINT64_C(1) << i))) {
                        b->windows |= c->aggs[i].windows;
                }
        }
        if (!c->agg_cnt || !b->windows) {
                snprintf(b->err, b->errsize,
                         "contract %s has no aggregation to backfill", c->name);
                return -1;
        }
        return 0;
}

/* Raw rows when they hold everything, else Kafka. */
static int source(bf_t *b, const char *want)
{
        char why[512];
        int r = red_rebuild_raw_sources(b->c, &b->srcs, &b->src_cnt, why,
                                        sizeof(why));

        if (r == -ENOMEM) {
                snprintf(b->err, b->errsize, "out of memory");
                return -1;
        }
        if (want && !strcmp(want, "raw") && r) {
                snprintf(b->err, b->errsize, "--source raw: %s", why);
                return -1;
        }
        b->kafka = r || (want && !strcmp(want, "kafka"));
        if (b->kafka && !strcmp(b->conf->kafka_brokers, "embedded")) {
                snprintf(b->err, b->errsize,
                         "a replay needs the brokers: the embedded Kafka "
                         "lives in `reducerd run`, give its bootstrap "
                         "address in REDUCERD_KAFKA_BROKERS%s%s",
                         r ? " (no raw rows to rebuild from: " : "",
                         r ? why : "");
                return -1;
        }
        if (b->kafka && r) {
                red_log_info("backfill", "%s: replaying Kafka (%s)", b->c->name,
                             why);
        }
        return 0;
}

/* --- recomputing ---------------------------------------------------------- */

/* Step 1 from raw rows: one snapshot, in event-time order. */
static int read_raw(bf_t *b, red_time_t from, red_time_t to,
                    red_time_t *snapshot)
{
        red_rawread_t *rd =
                red_rawread_open(b->conf->postgres_conninfo, b->srcs,
                                 b->src_cnt, from, to, b->err, b->errsize);
        int64_t *offs = calloc(b->src_cnt + 1, sizeof(*offs));
        long n;
        int r = -1;

        if (!rd || !offs) {
                goto done;
        }
        if (snapshot) {
                *snapshot = red_rawread_snapshot(rd);
        }
        while ((n = red_rawread_next(rd, READ_ROWS, b->err, b->errsize)) > 0) {
                red_time_t last = 0;
                for (long i = 0; i < n; i++) {
                        red_msg_t m = {0};
                        size_t src;

                        m.value = red_rawread_row(rd, (size_t)i, &m.value_len,
                                                  &src, &last);
                        m.topic = b->srcs[src].topic;
                        m.offset = offs[src]++;
                        m.timestamp = last;
                        if (red_recompute_add(b->rc, &m, NULL)) {
                                snprintf(b->err, b->errsize, "out of memory");
                                goto done;
                        }
                }
                /* the rows come in time order: all of them can go, and
                 * the fetch's memory with them */
                if (red_recompute_flush(b->rc, INT64_MAX, b->err, b->errsize)) {
                        goto done;
                }
                b->events += (uint64_t)n;
                b->total += (uint64_t)n;
                if (from != INT64_MIN && to != INT64_MAX && to > from) {
                        b->done = (double)(last - from) / (double)(to - from);
                }
                show(b, false);
        }
        r = n < 0 ? -1 : 0;
done:
        free(offs);
        red_rawread_close(rd);
        return r;
}

static void message_done(void *opaque, void *arg)
{
        (void)arg;
        if (opaque) {
                rd_kafka_message_destroy(opaque);
        }
}

static int replayed(void *arg, rd_kafka_message_t *m)
{
        bf_t *b = arg;
        red_msg_t v;

        red_replay_view(m, &v);
        if (red_recompute_add(b->rc, &v, m)) {
                rd_kafka_message_destroy(m);
                return -1;
        }
        b->events++;
        b->total++;
        return 0;
}

/* Applies what the partitions' progress allows (red_frontier.h). */
static int replay_flush(bf_t *b)
{
        const red_replay_part_t *parts;
        red_frontier_t f;
        size_t cnt;
        int64_t done = 0, total = 0;

        parts = red_replay_parts(b->rp, &cnt);
        red_frontier_init(&f, red_time_now(), b->c->idle_wait_us);
        for (size_t i = 0; i < cnt; i++) {
                red_frontier_add(&f, i,
                                 red_recompute_max_time(b->rc, parts[i].topic,
                                                        parts[i].partition),
                                 parts[i].finished ? RED_FRONTIER_FINISHED
                                                   : RED_FRONTIER_READING);
                done += parts[i].next - parts[i].start;
                total += parts[i].end - parts[i].start;
        }
        b->done = total ? (double)done / (double)total : 1;
        return red_recompute_flush(b->rc, f.time, b->err, b->errsize);
}

/* Reads the replay to its ends into the recomputation. */
static int replay_all(bf_t *b)
{
        if (red_replay_start(b->rp, b->err, b->errsize)) {
                return -1;
        }
        while (!red_replay_done(b->rp)) {
                if (red_replay_poll(b->rp, REPLAY_BATCH, 500, replayed, b,
                                    b->err, b->errsize) < 0 ||
                    replay_flush(b)) {
                        return -1;
                }
                show(b, false);
        }
        return red_recompute_flush(b->rc, INT64_MAX, b->err, b->errsize);
}

static const char **input_topics(const red_contract_t *c)
{
        const char **t = calloc(c->input_cnt + 1, sizeof(*t));

        for (size_t i = 0; t && i < c->input_cnt; i++) {
                t[i] = c->inputs[i].topic;
        }
        return t;
}

/* A replay of the inputs from where the range's events may start: a
 * message is stamped no earlier than its event minus max_future_skew. */
static int replay_open(bf_t *b, const char *end_json)
{
        const char **topics = input_topics(b->c);
        char group[300];
        red_time_t start = b->rr.read_from;

        if (!topics) {
                snprintf(b->err, b->errsize, "out of memory");
                return -1;
        }
        if (start != INT64_MIN) {
                start -= b->c->max_future_skew_us;
        }
        snprintf(group, sizeof(group), "%s.backfill", b->c->consumer_group);
        red_replay_destroy(b->rp);
        b->rp = red_replay_new(b->conf, b->conf->kafka_brokers, group, topics,
                               b->c->input_cnt, b->err, b->errsize);
        free(topics);
        free(b->ends);
        b->ends = NULL;
        if (!b->rp || red_replay_plan(b->rp, start, end_json, &b->ends, b->err,
                                      b->errsize)) {
                return -1;
        }
        return 0;
}

/* --- the daemon's positions ------------------------------------------------
 */

/* The daemon's next offset of each replayed partition (-1: none yet). */
static int live_offsets(bf_t *b, PGconn *conn, json_t **out)
{
        const char *vals[1] = {b->c->consumer_group};
        PGresult *res = PQexecParams(conn,
                                     "SELECT topic || '/' || partition, "
                                     "next_offset FROM reducerd_offsets "
                                     "WHERE consumer_group = $1",
                                     1, NULL, vals, NULL, NULL, 0);

        *out = NULL;
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                red_pg_error(conn, res, b->err, b->errsize);
                PQclear(res);
                return -1;
        }
        *out = json_object();
        for (int i = 0; *out && i < PQntuples(res); i++) {
                json_object_set_new(
                        *out, PQgetvalue(res, i, 0),
                        json_integer(strtoll(PQgetvalue(res, i, 1), NULL, 10)));
        }
        PQclear(res);
        return *out ? 0 : -1;
}

static int64_t offset_of(json_t *offs, const red_replay_part_t *p)
{
        char key[300];
        json_t *v;

        snprintf(key, sizeof(key), "%s/%d", p->topic, (int)p->partition);
        v = json_object_get(offs, key);
        return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* The daemon's offsets where they are behind the cut of step 1: what
 * lies between is in the new generation already. */
static int offsets_to_cut(bf_t *b, PGconn *conn, json_t *ends)
{
        const char *key;
        json_t *v;

        json_object_foreach(ends, key, v)
        {
                const char *slash = strrchr(key, '/');
                char topic[256], part[16], off[32];
                const char *vals[4] = {b->c->consumer_group, topic, part, off};
                PGresult *res;

                if (!slash || (size_t)(slash - key) >= sizeof(topic)) {
                        continue;
                }
                snprintf(topic, sizeof(topic), "%.*s", (int)(slash - key), key);
                snprintf(part, sizeof(part), "%s", slash + 1);
                snprintf(off, sizeof(off), "%lld",
                         (long long)json_integer_value(v));
                res = PQexecParams(
                        conn,
                        "INSERT INTO reducerd_offsets (consumer_group, topic, "
                        "partition, next_offset, owner) VALUES ($1, $2, $3, "
                        "$4, 'backfill') ON CONFLICT (consumer_group, topic, "
                        "partition) DO UPDATE SET next_offset = "
                        "EXCLUDED.next_offset, owner = 'backfill', updated_at "
                        "= now() WHERE reducerd_offsets.next_offset < "
                        "EXCLUDED.next_offset",
                        4, NULL, vals, NULL, NULL, 0);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                        red_pg_error(conn, res, b->err, b->errsize);
                        PQclear(res);
                        return -1;
                }
                PQclear(res);
        }
        return 0;
}

/* --- the steps ------------------------------------------------------------ */

/* Step 1: the events up to the cut, written chunk by chunk. */
static int step_one(bf_t *b, const red_backfill_resume_t *resume,
                    red_time_t *snapshot)
{
        step(b, "reading", "events");
        if (b->kafka) {
                if (replay_open(b, resume->end_offsets) ||
                    (!resume->end_offsets &&
                     red_backfill_db_set_source(b->db, b->ends, 0, b->err,
                                                b->errsize)) ||
                    replay_all(b)) {
                        return -1;
                }
        } else {
                red_time_t snap;
                if (read_raw(b, b->rr.read_from, b->rr.read_to, &snap)) {
                        return -1;
                }
                /* a resumed run catches up from the first run's snapshot */
                *snapshot = resume->snapshot ? resume->snapshot : snap;
                if (!resume->snapshot &&
                    red_backfill_db_set_source(b->db, NULL, *snapshot, b->err,
                                               b->errsize)) {
                        return -1;
                }
        }
        show(b, true);
        step(b, "writing", "chunks");
        return red_backfill_db_write(b->db, red_recompute_cells(b->rc), &b->rr,
                                     false, chunk_done, b, b->err, b->errsize);
}

/* Step 2 from raw rows: the windows of rows stored since the snapshot,
 * recomputed and replaced. */
static int catch_up_raw(bf_t *b, PGconn *conn, red_time_t snapshot)
{
        red_time_t first, since = snapshot - CATCH_UP_MARGIN_US;
        red_time_t oldest = since - b->c->allowed_lateness_us -
                            b->c->max_out_of_orderness_us - RED_TIME_US_PER_DAY;
        red_rebuild_range_t rr;

        if (red_rawread_since(conn, b->srcs, b->src_cnt, since, oldest, &first,
                              b->err, b->errsize)) {
                return -1;
        }
        if (first == INT64_MAX || (b->to != INT64_MAX && first >= b->to)) {
                return 0;
        }
        red_rebuild_range(b->windows, first > b->from ? first : b->from, b->to,
                          &rr);
        red_recompute_destroy(b->rc);
        if (!(b->rc = red_recompute_new(b->c, NULL, NULL, NULL, b->err,
                                        b->errsize))) {
                return -1;
        }
        return read_raw(b, rr.read_from, rr.read_to, NULL) ||
                               red_backfill_db_write(
                                       b->db, red_recompute_cells(b->rc), &rr,
                                       true, NULL, NULL, b->err, b->errsize)
                       ? -1
                       : 0;
}

/* Step 2 from Kafka: the messages between the cut and the daemon's
 * offsets, merged; the daemon's offsets moved to the cut where behind. */
static int catch_up_kafka(bf_t *b, PGconn *conn)
{
        json_t *live = NULL, *ends = json_loads(b->ends, 0, NULL);
        const red_replay_part_t *parts;
        size_t cnt;
        int r = -1;

        if (!ends || live_offsets(b, conn, &live)) {
                goto done;
        }
        parts = red_replay_parts(b->rp, &cnt);
        for (size_t i = 0; i < cnt; i++) {
                int64_t at = offset_of(live, &parts[i]);
                if (red_replay_set(b->rp, parts[i].topic, parts[i].partition,
                                   parts[i].end, at)) {
                        goto done;
                }
        }
        /* a fresh accumulator; the core keeps what it learnt (workflows,
         * re-sent events) */
        if (red_recompute_flush(b->rc, INT64_MAX, b->err, b->errsize)) {
                goto done;
        }
        red_aggregator_clear(red_recompute_cells(b->rc));
        if (replay_all(b) ||
            red_backfill_db_merge(b->db, red_recompute_cells(b->rc), &b->rr,
                                  b->err, b->errsize) ||
            offsets_to_cut(b, conn, ends)) {
                goto done;
        }
        r = 0;
done:
        json_decref(live);
        json_decref(ends);
        return r;
}

/* Step 2: under the contract's schema row. */
static int step_two(bf_t *b, red_time_t snapshot)
{
        PGconn *conn = red_backfill_db_conn(b->db);
        char ignore[256];
        int live;

        step(b, b->gen ? "catching up, switching" : "catching up", "events");
        if (red_pg_exec(conn, "BEGIN", b->err, b->errsize) ||
            red_schema_lock(conn, b->c->name, &live, b->err, b->errsize) ||
            (b->kafka ? catch_up_kafka(b, conn)
                      : catch_up_raw(b, conn, snapshot)) ||
            (b->gen &&
             red_schema_switch(conn, b->c, b->gen, live, b->err, b->errsize)) ||
            red_backfill_db_finish(b->db, b->err, b->errsize) ||
            red_pg_exec(conn, "COMMIT", b->err, b->errsize)) {
                if (red_pg_exec(conn, "ROLLBACK", ignore, sizeof(ignore))) {
                        /* the connection is gone: rolled back */
                }
                return -1;
        }
        show(b, true);
        return 0;
}

/* A repair of the live tables from Kafka: all of it while the daemon's
 * batches wait, up to the offsets they had committed. */
static int locked_replay(bf_t *b)
{
        PGconn *conn = red_backfill_db_conn(b->db);
        const red_replay_part_t *parts;
        json_t *live = NULL;
        char ignore[256];
        size_t cnt;
        int lg;

        step(b, "replaying (locked)", "events");
        if (red_pg_exec(conn, "BEGIN", b->err, b->errsize) ||
            red_schema_lock(conn, b->c->name, &lg, b->err, b->errsize) ||
            live_offsets(b, conn, &live) || replay_open(b, NULL)) {
                goto fail;
        }
        parts = red_replay_parts(b->rp, &cnt);
        for (size_t i = 0; i < cnt; i++) {
                if (red_replay_set(b->rp, parts[i].topic, parts[i].partition,
                                   parts[i].start,
                                   offset_of(live, &parts[i]))) {
                        goto fail;
                }
        }
        if (replay_all(b) ||
            red_backfill_db_write(b->db, red_recompute_cells(b->rc), &b->rr,
                                  true, NULL, NULL, b->err, b->errsize) ||
            red_backfill_db_finish(b->db, b->err, b->errsize) ||
            red_pg_exec(conn, "COMMIT", b->err, b->errsize)) {
                goto fail;
        }
        json_decref(live);
        show(b, true);
        return 0;
fail:
        json_decref(live);
        if (red_pg_exec(conn, "ROLLBACK", ignore, sizeof(ignore))) {
                /* the connection is gone: rolled back */
        }
        return -1;
}

static int run(bf_t *b, const char *want)
{
        red_backfill_resume_t resume = {0};
        red_time_t snapshot = 0;
        PGconn *conn;
        int r = -1;

        if (!(conn = red_pg_connect(b->conf->postgres_conninfo, b->err,
                                    b->errsize))) {
                return -1;
        }
        if (target(b, conn) || source(b, want)) {
                PQfinish(conn);
                return -1;
        }
        PQfinish(conn);
        red_rebuild_range(b->windows, b->from, b->to, &b->rr);
        if (!(b->db = red_backfill_db_new(b->c, b->conf->postgres_conninfo,
                                          b->aggs, b->gen, b->err,
                                          b->errsize)) ||
            red_backfill_db_begin(b->db, b->kafka ? "kafka" : "raw", b->from,
                                  b->to, &resume, b->err, b->errsize)) {
                goto done;
        }
        if (resume.resumed) {
                red_log_info("backfill",
                             "%s: resuming the interrupted backfill (the "
                             "chunks written are kept)",
                             b->c->name);
        }
        if (!(b->rc = red_recompute_new(
                      b->c, b->kafka ? b->conf->postgres_conninfo : NULL,
                      b->kafka ? message_done : NULL, NULL, b->err,
                      b->errsize))) {
                goto done;
        }
        if (b->kafka && !b->gen) {
                r = locked_replay(b);
        } else {
                r = step_one(b, &resume, &snapshot) || step_two(b, snapshot)
                            ? -1
                            : 0;
        }
done:
        free(resume.end_offsets);
        return r;
}

/* --- the command ---------------------------------------------------------- */

static int usage(const char *msg)
{
        fprintf(stderr,
                "%s%susage: reducerd backfill [-c CONFIG] --contract NAME "
                "[--from TIME] [--to TIME] [--source raw|kafka]\n",
                msg ? "reducerd backfill: " : "", msg ? msg : "");
        return 2;
}

int red_backfill_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"contract", required_argument, NULL, 'k'},
                {"from", required_argument, NULL, 'f'},
                {"to", required_argument, NULL, 't'},
                {"source", required_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        const char *cpath = NULL, *name = NULL, *want = NULL;
        red_contract_set_t set = {0};
        red_config_t *conf;
        char err[2048];
        bf_t b;
        int opt, r = 1;

        memset(&b, 0, sizeof(b));
        b.from = INT64_MIN;
        b.to = INT64_MAX;
        while ((opt = getopt_long(argc, argv, "c:k:f:t:s:h", opts, NULL)) !=
               -1) {
                red_time_t *t = opt == 'f' ? &b.from : &b.to;
                switch (opt) {
                case 'c':
                        cpath = optarg;
                        break;
                case 'k':
                        name = optarg;
                        break;
                case 'f':
                case 't':
                        if (red_time_parse(optarg, strlen(optarg), t)) {
                                return usage("--from/--to take ISO-8601 "
                                             "times\n");
                        }
                        break;
                case 's':
                        if (strcmp(optarg, "raw") && strcmp(optarg, "kafka")) {
                                return usage("--source is raw or kafka\n");
                        }
                        want = optarg;
                        break;
                case 'h':
                        printf("usage: reducerd backfill [-c CONFIG] "
                               "--contract NAME [--from TIME] [--to TIME] "
                               "[--source raw|kafka]\n\nRecomputes the "
                               "contract's cells of every window that "
                               "overlaps [from, to) (default: all) and "
                               "replaces the\nstored ones, while reducerd run "
                               "keeps running: the new generation migrate "
                               "built for a\nnew version (switched in when "
                               "done), else the live tables. From the raw "
                               "rows when they\nhold every event, else by "
                               "replaying the input topics. An interrupted "
                               "backfill resumes.\n");
                        return 0;
                default:
                        return usage(NULL);
                }
        }
        if (!name || optind < argc ||
            (b.from != INT64_MIN && b.to != INT64_MAX && b.to <= b.from)) {
                return usage(!name ? "--contract is required\n" : NULL);
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (red_appconf_contracts(&set, conf, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                red_config_destroy(conf);
                return 1;
        }
        /* the crash tests: REDUCERD_FAILPOINTS=backfill_chunk:1, ... */
        red_failpoint_init();
        for (size_t i = 0; i < set.cnt; i++) {
                if (!strcmp(set.items[i]->name, name)) {
                        b.c = set.items[i];
                }
        }
        b.conf = conf;
        b.err = err;
        b.errsize = sizeof(err);
        b.tty = isatty(2);
        err[0] = '\0';
        if (!b.c) {
                fprintf(stderr,
                        "reducerd backfill: no contract %s in the "
                        "config's contracts\n",
                        name);
        } else if (run(&b, want)) {
                fprintf(stderr, "reducerd backfill: %s: %s\n", name, err);
        } else {
                printf("backfill %s: %llu events read; %s\n", name,
                       (unsigned long long)b.total,
                       b.gen ? "the new generation is live"
                             : "the range's cells replaced");
                r = 0;
        }
        red_replay_destroy(b.rp);
        red_recompute_destroy(b.rc);
        red_backfill_db_destroy(b.db);
        free(b.srcs);
        free(b.ends);
        red_contract_set_destroy(&set);
        red_config_destroy(conf);
        return r;
}
