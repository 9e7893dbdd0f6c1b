/*
 * Tests for red_core: the add -> release(frontier) -> process ->
 * commit/rollback cycle, the event-time release order, positions and
 * watermarks (and a replay from them), the late-event policies, dead
 * letters, duplicates of raw rows, the FSM and enrichment in a batch, and
 * the counters identity consumed = applied + dead_lettered + late_dropped
 * + duplicates. Every message handed to the core is tracked: it must come
 * back through the done callback exactly when the core is done with it.
 */
#include "red_core.h"
#include "red_map.h"
#include "red_rows.h"
#include "red_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MINIMAL "tests/data/contracts/minimal.yaml"
#define TOPIC   "test.events"
#define JOB     "00000000-0000-4000-8000-000000000001"

#define T_STARTED   "dev.omninode-bridge.codegen.generation-started.v1"
#define T_STAGE     "dev.omninode-bridge.codegen.stage-completed.v1"
#define T_COMPLETED "dev.omninode-bridge.codegen.generation-completed.v1"
#define T_FAILED    "dev.omninode-bridge.codegen.generation-failed.v1"

#define T_ROUTING "dev.agent.metrics.routing.v1"
#define T_STATE   "dev.agent.metrics.state-ops.v1"

#define MIN_US RED_TIME_US_PER_MIN
#define HOUR   "2025-11-06T10:00:00Z" /* the hour most tests happen in */

static red_time_t now; /* the wall clock handed to red_core_add() */

/* ------------------------------------------------------------------ */
/* messages the core borrows                                           */
/* ------------------------------------------------------------------ */

/* A message kept alive for the whole test; done counts the hand-backs. */
typedef struct tmsg_s {
        char *text;
        red_msg_t msg;
        int done;
} tmsg_t;

#define MAX_MSGS 64
static tmsg_t msgs[MAX_MSGS];
static size_t msg_cnt;

static void on_done(void *opaque, void *arg)
{
        tmsg_t *m = opaque;

        ck_assert_ptr_eq(arg, msgs);
        m->done++;
}

/* A new message (printf-style value) of topic[partition] at offset. */
static tmsg_t *msg_new(const char *topic, int32_t partition, int64_t offset,
                       const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static tmsg_t *msg_new(const char *topic, int32_t partition, int64_t offset,
                       const char *fmt, ...)
{
        tmsg_t *m;
        va_list ap;

        ck_assert_uint_lt(msg_cnt, MAX_MSGS);
        m = &msgs[msg_cnt++];
        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&m->text, fmt, ap), 0);
        va_end(ap);
        m->msg.topic = topic;
        m->msg.partition = partition;
        m->msg.offset = offset;
        m->msg.value = m->text;
        m->msg.value_len = strlen(m->text);
        m->msg.timestamp = -1;
        return m;
}

static void add(red_core_t *core, tmsg_t *m)
{
        ck_assert_int_eq(red_core_add(core, &m->msg, now, m), 0);
}

/* A good message of the minimal contract: kind a|b at an ISO time. */
static tmsg_t *done_msg(int32_t partition, int64_t offset, const char *kind,
                        const char *iso)
{
        return msg_new(TOPIC, partition, offset,
                       "{\"event_type\":\"DONE\",\"event_timestamp\":\"%s\","
                       "\"job_id\":\"" JOB "\",\"kind\":\"%s\","
                       "\"seconds\":1.5}",
                       iso, kind);
}

static red_core_t *core_new(const red_contract_t *c)
{
        char err[256];
        red_core_t *core =
                red_core_new(c, 0, -1, on_done, msgs, err, sizeof(err));

        ck_assert_msg(core != NULL, "%s", err);
        return core;
}

static void setup(void)
{
        now = test_time("2025-11-07T00:00:00Z");
        msg_cnt = 0;
}

static void teardown(void)
{
        for (size_t i = 0; i < msg_cnt; i++) {
                free(msgs[i].text);
        }
        memset(msgs, 0, sizeof(msgs));
        msg_cnt = 0;
}

/* ------------------------------------------------------------------ */
/* assertions                                                          */
/* ------------------------------------------------------------------ */

static void assert_identity(const red_core_t *core)
{
        const red_core_counters_t *k = red_core_counters(core);
        uint64_t by_code = 0;

        ck_assert_uint_eq(k->consumed, k->applied + k->dead_lettered +
                                               k->late_dropped + k->duplicates);
        ck_assert_uint_le(k->late_applied, k->applied);
        for (int i = 0; i < RED_DLQ__CNT; i++) {
                by_code += k->dead_by_code[i];
        }
        ck_assert_uint_eq(by_code, k->dead_lettered);
}

static void assert_counters(const red_core_t *core, uint64_t applied,
                            uint64_t dead, uint64_t dropped, uint64_t dups)
{
        const red_core_counters_t *k = red_core_counters(core);

        ck_assert_uint_eq(k->applied, applied);
        ck_assert_uint_eq(k->dead_lettered, dead);
        ck_assert_uint_eq(k->late_dropped, dropped);
        ck_assert_uint_eq(k->duplicates, dups);
        ck_assert_uint_eq(k->consumed, applied + dead + dropped + dups);
        assert_identity(core);
}

/* The position of topic[partition] in the batch, or NULL. */
static const red_position_t *position_of(red_core_t *core, const char *topic,
                                         int32_t partition)
{
        size_t n;
        const red_position_t *p = red_core_positions(core, &n);

        for (size_t i = 0; i < n; i++) {
                if (p[i].partition == partition && !strcmp(p[i].topic, topic)) {
                        return &p[i];
                }
        }
        return NULL;
}

static void assert_position(red_core_t *core, const char *topic,
                            int32_t partition, int64_t offset,
                            red_time_t watermark)
{
        const red_position_t *p = position_of(core, topic, partition);

        ck_assert_msg(p != NULL, "no position for %s[%d]", topic,
                      (int)partition);
        ck_assert_int_eq(p->offset, offset);
        ck_assert_int_eq(p->watermark, watermark);
}

/* The messages' hand-back counts equal @p want (one per message; NULL:
 * every message once). */
static void assert_done(const int *want)
{
        for (size_t i = 0; i < msg_cnt; i++) {
                int w = want ? want[i] : 1;
                ck_assert_msg(msgs[i].done == w,
                              "message %zu handed back %d times, not %d", i,
                              msgs[i].done, w);
        }
}

/* The @p i-th released event is message @p m's (the core keeps its own
 * copy of the message view; the value is the one added). */
static void assert_released(const red_core_t *core, size_t i, const tmsg_t *m)
{
        const red_event_t *ev = red_core_released_event(core, i);

        ck_assert_ptr_nonnull(ev);
        ck_assert_ptr_eq(ev->msg->value, m->text);
        ck_assert_int_eq(ev->msg->partition, m->msg.partition);
        ck_assert_int_eq(ev->msg->offset, m->msg.offset);
}

static void release_process(red_core_t *core, red_time_t frontier, long want)
{
        ck_assert_int_eq(red_core_release(core, frontier, 0), want);
        ck_assert_int_eq(red_core_process(core), 0);
}

/* The cell of the batch (window, start, grouping, key), or a failure. */
#define CELL(core, wt, start, grouping, key)                                   \
        test_cell(red_core_cells(core), RED_WINDOW_##wt, start, grouping, key)

/* ------------------------------------------------------------------ */
/* the cycle                                                           */
/* ------------------------------------------------------------------ */

START_TEST(cycle_commit)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        red_time_t t10 = test_time("2025-11-06T10:00:00Z");
        red_cell_t *cell;
        tmsg_t *m[5];
        size_t n;

        /* p0: 10:00 a, 10:10 a, 10:20 b; p1: 10:05 b, 10:15 a */
        m[0] = done_msg(0, 0, "a", "2025-11-06T10:00:00Z");
        m[1] = done_msg(1, 0, "b", "2025-11-06T10:05:00Z");
        m[2] = done_msg(0, 1, "a", "2025-11-06T10:10:00Z");
        m[3] = done_msg(1, 1, "a", "2025-11-06T10:15:00Z");
        m[4] = done_msg(0, 2, "b", "2025-11-06T10:20:00Z");
        for (int i = 0; i < 5; i++) {
                add(core, m[i]);
        }
        ck_assert_uint_eq(red_core_buffered(core), 5);
        ck_assert_uint_eq(red_core_batch_size(core), 5);
        ck_assert_int_eq(red_core_max_time(core, TOPIC, 0), t10 + 20 * MIN_US);
        ck_assert_int_eq(red_core_max_time(core, TOPIC, 1), t10 + 15 * MIN_US);
        ck_assert_int_eq(red_core_max_time(core, TOPIC, 2), INT64_MIN);
        ck_assert_ptr_eq(red_core_contract(core), c);
        ck_assert_ptr_null(red_core_workflows(core)); /* no fsm */

        /* the frontier is the smaller newest time: 10:15 */
        release_process(core, t10 + 15 * MIN_US, 3);
        ck_assert_uint_eq(red_core_released(core), 3);
        ck_assert_uint_eq(red_core_buffered(core), 2);
        assert_released(core, 0, m[0]);
        assert_released(core, 1, m[1]);
        assert_released(core, 2, m[2]);
        red_core_missing(core, &n);
        ck_assert_uint_eq(n, 0);
        /* 2 window types x 2 kinds; a twice, b once */
        ck_assert_uint_eq(red_aggregator_count(red_core_cells(core)), 4);
        cell = CELL(core, HOURLY, "2025-11-06T10:00:00Z", "by_kind", "a");
        ck_assert_uint_eq(red_cell_events(cell), 2);
        ck_assert_double_eq(test_cell_number(cell, "total"), 2);
        cell = CELL(core, DAILY, "2025-11-06T00:00:00Z", "by_kind", "b");
        ck_assert_uint_eq(red_cell_events(cell), 1);
        /* nothing counts before the commit */
        assert_counters(core, 0, 0, 0, 0);
        /* positions: the first event still buffered, the watermark of the
         * events before it */
        red_core_positions(core, &n);
        ck_assert_uint_eq(n, 2);
        assert_position(core, TOPIC, 0, 2, t10 + 10 * MIN_US - MIN_US);
        assert_position(core, TOPIC, 1, 1, t10 + 5 * MIN_US - MIN_US);

        red_core_commit(core);
        assert_counters(core, 3, 0, 0, 0);
        assert_done((const int[]){1, 1, 1, 0, 0});
        ck_assert_uint_eq(red_core_released(core), 0);
        ck_assert_uint_eq(red_core_batch_size(core), 0);
        ck_assert_uint_eq(red_aggregator_count(red_core_cells(core)), 0);
        /* nothing moved since */
        red_core_positions(core, &n);
        ck_assert_uint_eq(n, 0);

        /* the rest: no new message, the buffered ones move the positions */
        release_process(core, INT64_MAX, 2);
        assert_released(core, 0, m[3]);
        assert_released(core, 1, m[4]);
        red_core_positions(core, &n);
        ck_assert_uint_eq(n, 2);
        assert_position(core, TOPIC, 0, 3, t10 + 20 * MIN_US - MIN_US);
        assert_position(core, TOPIC, 1, 2, t10 + 15 * MIN_US - MIN_US);
        red_core_commit(core);
        assert_counters(core, 5, 0, 0, 0);
        assert_done((const int[]){1, 1, 1, 1, 1});
        ck_assert_uint_eq(red_core_buffered(core), 0);
        red_core_destroy(core);
        red_core_destroy(NULL);
        assert_done((const int[]){1, 1, 1, 1, 1});
        red_contract_destroy(c);
}
END_TEST

START_TEST(rollback_forgets_the_batch)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        tmsg_t *m[4];
        size_t n;

        m[0] = done_msg(0, 0, "a", "2025-11-06T10:00:00Z");
        m[1] = msg_new(TOPIC, 0, 1, "{not json");
        m[2] = done_msg(0, 2, "b", "2025-11-06T10:01:00Z");
        m[3] = done_msg(0, 3, "a", "2025-11-06T10:02:00Z");
        for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 4; i++) {
                        add(core, m[i]);
                }
                release_process(core, INT64_MAX, 3);
                red_core_dead_letters(core, &n);
                ck_assert_uint_eq(n, 1);
                ck_assert_uint_eq(red_aggregator_count(red_core_cells(core)),
                                  4);
                if (round == 0) {
                        /* the transaction failed: everything is dropped and
                         * handed back, nothing counted */
                        red_core_rollback(core);
                        assert_counters(core, 0, 0, 0, 0);
                        assert_done((const int[]){1, 1, 1, 1});
                        ck_assert_uint_eq(red_core_buffered(core), 0);
                        ck_assert_uint_eq(red_core_released(core), 0);
                        red_core_dead_letters(core, &n);
                        ck_assert_uint_eq(n, 0);
                        ck_assert_uint_eq(
                                red_aggregator_count(red_core_cells(core)), 0);
                        red_core_positions(core, &n);
                        ck_assert_uint_eq(n, 0);
                        /* re-read from the stored position: not late, as
                         * the partition's time was not committed */
                        ck_assert_int_eq(red_core_max_time(core, TOPIC, 0),
                                         INT64_MIN);
                } else {
                        assert_position(core, TOPIC, 0, 4,
                                        test_time("2025-11-06T10:01:00Z"));
                        red_core_commit(core);
                }
        }
        assert_counters(core, 3, 1, 0, 0);
        ck_assert_uint_eq(
                red_core_counters(core)->dead_by_code[RED_DLQ_INVALID_JSON], 1);
        assert_done((const int[]){2, 2, 2, 2});
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

START_TEST(drop_partition_and_destroy)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        size_t n;

        add(core, done_msg(0, 0, "a", "2025-11-06T10:00:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T10:01:00Z"));
        add(core, done_msg(1, 0, "b", "2025-11-06T10:00:30Z"));
        add(core, done_msg(1, 1, "b", "2025-11-06T10:02:00Z"));
        /* partition 0 was revoked */
        red_core_drop_partition(core, TOPIC, 0);
        red_core_drop_partition(core, TOPIC, 7); /* unknown: nothing */
        assert_done((const int[]){1, 1, 0, 0});
        ck_assert_uint_eq(red_core_buffered(core), 2);
        red_core_positions(core, &n);
        ck_assert_uint_eq(n, 1);
        assert_position(core, TOPIC, 1, 0, INT64_MIN);
        release_process(core, test_time("2025-11-06T10:01:00Z"), 1);
        assert_released(core, 0, &msgs[2]);
        red_core_commit(core);
        assert_counters(core, 1, 0, 0, 0);
        assert_done((const int[]){1, 1, 1, 0});
        /* destroy hands back what is still buffered */
        red_core_destroy(core);
        assert_done((const int[]){1, 1, 1, 1});
        red_contract_destroy(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* release order and batch size                                        */
/* ------------------------------------------------------------------ */

START_TEST(release_takes_prefixes)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);

        /* offsets in a partition are not in time order: the event at 10:01
         * waits behind the one at 10:05 (a release takes prefixes, so a
         * position covers exactly what was applied) */
        add(core, done_msg(0, 0, "a", "2025-11-06T10:00:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T10:05:00Z"));
        add(core, done_msg(0, 2, "a", "2025-11-06T10:01:00Z"));
        ck_assert_int_eq(red_core_next_release(core),
                         test_time("2025-11-06T10:00:00Z"));
        release_process(core, test_time("2025-11-06T10:03:00Z"), 1);
        assert_position(core, TOPIC, 0, 1, test_time("2025-11-06T09:59:00Z"));
        /* what a release takes next is the partition's first event, not
         * its oldest */
        ck_assert_int_eq(red_core_next_release(core),
                         test_time("2025-11-06T10:05:00Z"));
        /* the frontier is exclusive: an event at it waits */
        release_process(core, test_time("2025-11-06T10:05:00Z"), 0);
        release_process(core, test_time("2025-11-06T10:05:00.000001Z"), 2);
        /* within one release, event-time order */
        assert_released(core, 1, &msgs[2]);
        assert_released(core, 2, &msgs[1]);
        assert_position(core, TOPIC, 0, 3, test_time("2025-11-06T10:04:00Z"));
        ck_assert_int_eq(red_core_next_release(core), INT64_MAX);
        red_core_commit(core);
        assert_counters(core, 3, 0, 0, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

START_TEST(release_max_bounds_the_batch)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        char iso[64];

        /* six distinct times over two partitions: exactly the oldest max */
        for (int i = 0; i < 6; i++) {
                snprintf(iso, sizeof(iso), "2025-11-06T10:0%d:00Z", i);
                add(core, done_msg(i % 2, i / 2, "a", iso));
        }
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 2), 2);
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 3), 3);
        ck_assert_uint_eq(red_core_released(core), 5);
        for (size_t i = 0; i < 5; i++) {
                snprintf(iso, sizeof(iso), "2025-11-06T10:0%zu:00Z", i);
                ck_assert_int_eq(red_core_released_event(core, i)->time,
                                 test_time(iso));
        }
        /* the rest fits: no cap applies */
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 3), 1);
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);

        /* a tie at the cut stays behind as a whole: fewer than max */
        add(core, done_msg(0, 3, "a", "2025-11-06T11:00:00Z"));
        add(core, done_msg(0, 4, "a", "2025-11-06T11:01:00Z"));
        add(core, done_msg(1, 3, "a", "2025-11-06T11:01:00Z"));
        add(core, done_msg(1, 4, "a", "2025-11-06T11:02:00Z"));
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 2), 1);
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 2), 2);
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 2), 1);
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);

        /* everything at the oldest time goes together, even past max */
        add(core, done_msg(0, 5, "a", "2025-11-06T12:00:00Z"));
        add(core, done_msg(0, 6, "a", "2025-11-06T12:00:00Z"));
        add(core, done_msg(1, 5, "a", "2025-11-06T12:00:00Z"));
        add(core, done_msg(1, 6, "a", "2025-11-06T12:01:00Z"));
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 2), 3);
        ck_assert_uint_eq(red_core_buffered(core), 1);
        /* a frontier below the cut wins over max */
        ck_assert_int_eq(red_core_release(core,
                                          test_time("2025-11-06T12:01:"
                                                    "00Z"),
                                          1),
                         0);
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 1), 1);
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);
        assert_counters(core, 14, 0, 0, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

START_TEST(release_order_breaks_ties)
{
        red_contract_t *cg = test_contract("contracts/codegen_metrics.yaml");
        red_core_t *core = core_new(cg);
        const char *wf = "b0000000-0000-4000-8000-000000000001";
        const char *ts = "2025-11-06T10:00:00Z";

        /* same time: kind order of the contract (started before
         * stage_completed before completed), then partition, then offset;
         * topics added in the opposite order */
        add(core, msg_new(T_COMPLETED, 0, 0,
                          "{\"event_type\":\"NODE_GENERATION_COMPLETED\","
                          "\"timestamp\":\"%s\",\"workflow_id\":\"%s\","
                          "\"total_duration_seconds\":3,"
                          "\"quality_score\":0.9}",
                          ts, wf));
        for (int p = 1; p >= 0; p--) {
                for (int o = 0; o < 2; o++) {
                        add(core,
                            msg_new(T_STAGE, p, o,
                                    "{\"event_type\":\"NODE_GENERATION_STAGE_"
                                    "COMPLETED\",\"timestamp\":\"%s\","
                                    "\"workflow_id\":\"%s\","
                                    "\"stage_name\":\"s\",\"stage_number\":%d,"
                                    "\"duration_ms\":5,\"success\":true}",
                                    ts, wf, 5 + o));
                }
        }
        add(core, msg_new(T_STARTED, 3, 9,
                          "{\"event_type\":\"NODE_GENERATION_STARTED\","
                          "\"timestamp\":\"%s\",\"workflow_id\":\"%s\","
                          "\"node_type\":\"compute\",\"domain\":\"api\"}",
                          ts, wf));
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 0), 6);
        {
                static const int want[6][2] = {{3, 9}, {0, 0}, {0, 1},
                                               {1, 0}, {1, 1}, {0, 0}};
                static const char *const kinds[6] = {
                        "started",         "stage_completed", "stage_completed",
                        "stage_completed", "stage_completed", "completed"};
                for (size_t i = 0; i < 6; i++) {
                        const red_event_t *ev =
                                red_core_released_event(core, i);
                        ck_assert_str_eq(ev->kind->name, kinds[i]);
                        ck_assert_int_eq(ev->msg->partition, want[i][0]);
                        ck_assert_int_eq(ev->msg->offset, want[i][1]);
                }
        }
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);
        assert_counters(core, 6, 0, 0, 0);
        red_core_destroy(core);
        red_contract_destroy(cg);
}
END_TEST

/*
 * BUG (found by this test): with max, red_core_release() counted every
 * buffered event older than the frontier, also those that wait behind a
 * newer event of their partition (a release takes prefixes). When more
 * than max such events sat behind a newer head, the lowered frontier was
 * below every head and nothing was released, at every call: the daemon
 * (which releases with batch.max_events) stalled the partition for good
 * while its buffer grew. The cap now counts what a frontier releases.
 */
START_TEST(release_max_never_stalls)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);

        /* a producer clock 5 min ahead, then events of the right time */
        add(core, done_msg(0, 0, "a", "2025-11-06T13:05:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T13:00:00Z"));
        add(core, done_msg(0, 2, "a", "2025-11-06T13:01:00Z"));
        add(core, done_msg(1, 0, "a", "2025-11-06T13:03:00Z"));
        add(core, done_msg(1, 1, "a", "2025-11-06T13:04:00Z"));
        /* partition 1's two, then partition 0 as a whole (its events can
         * only leave together with its head) */
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 2), 2);
        assert_released(core, 0, &msgs[3]);
        assert_released(core, 1, &msgs[4]);
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 2), 3);
        assert_released(core, 2, &msgs[1]);
        assert_released(core, 4, &msgs[0]);
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);
        assert_counters(core, 5, 0, 0, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

/* One event at a time, for narrowing down what storage refused: the
 * oldest partition head goes first, even ahead of older events behind
 * it in its partition. */
START_TEST(release_one_takes_a_head)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);

        add(core, done_msg(0, 0, "a", "2025-11-06T13:05:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T13:00:00Z"));
        add(core, done_msg(1, 0, "a", "2025-11-06T13:03:00Z"));
        /* nothing older than the frontier at a head */
        ck_assert_int_eq(
                red_core_release_one(core, test_time("2025-11-06T13:03:"
                                                     "00Z")),
                0);
        ck_assert_int_eq(red_core_release_one(core, INT64_MAX), 1);
        assert_released(core, 0, &msgs[2]);
        ck_assert_int_eq(red_core_release_one(core, INT64_MAX), 1);
        assert_released(core, 1, &msgs[0]);
        ck_assert_uint_eq(red_core_buffered(core), 1);
        ck_assert_int_eq(red_core_process(core), 0);
        assert_position(core, TOPIC, 0, 1, test_time("2025-11-06T13:04:00Z"));
        red_core_commit(core);
        ck_assert_int_eq(red_core_release_one(core, INT64_MAX), 1);
        assert_released(core, 0, &msgs[1]);
        ck_assert_int_eq(red_core_release_one(core, INT64_MAX), 0);
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);
        assert_counters(core, 3, 0, 0, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* dead letters                                                        */
/* ------------------------------------------------------------------ */

#define AT10   "\"timestamp\":\"2025-11-06T10:00:00Z\","
#define JOB_ID "\"job_id\":\"" JOB "\""

START_TEST(dead_letters_by_code)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        static const struct {
                const char *text; /* NULL: over 1 MiB */
                red_dlq_code_t code;
                const char *detail; /* a part of the detail */
        } want[] = {
                {"{\"job_id\": ", RED_DLQ_INVALID_JSON, ""},
                {"[1, 2]", RED_DLQ_NOT_AN_OBJECT, ""},
                {"{" AT10 "\"kind\":\"a\"}", RED_DLQ_MISSING_FIELD, "job_id"},
                {"{" AT10 JOB_ID ",\"kind\":\"c\"}", RED_DLQ_NOT_ALLOWED,
                 "kind"},
                {"{" AT10 JOB_ID ",\"seconds\":\"x\"}", RED_DLQ_WRONG_TYPE,
                 "seconds"},
                {"{" AT10 JOB_ID ",\"seconds\":-1}", RED_DLQ_OUT_OF_RANGE,
                 "seconds"},
                {"{\"timestamp\":\"yesterday\"," JOB_ID "}",
                 RED_DLQ_INVALID_TIMESTAMP, ""},
                {"{" JOB_ID "}", RED_DLQ_MISSING_TIMESTAMP, ""},
                /* max_future_skew is 5m by default */
                {"{\"timestamp\":\"2025-11-07T00:05:01Z\"," JOB_ID "}",
                 RED_DLQ_FUTURE_TIMESTAMP, ""},
                {"{\"event_type\":\"OTHER\"," AT10 JOB_ID "}",
                 RED_DLQ_UNKNOWN_EVENT_TYPE, "OTHER"},
                {NULL, RED_DLQ_TOO_LARGE, ""},
        };
        const size_t nwant = sizeof(want) / sizeof(want[0]);
        const red_dead_letter_t *dl;
        tmsg_t *kts;
        char code[64];
        red_buf_t b;
        size_t n;

        add(core, done_msg(0, 0, "a", "2025-11-06T10:00:00Z"));
        for (size_t i = 0; i < nwant; i++) {
                add(core, want[i].text ? msg_new(TOPIC, 0, (int64_t)i + 1, "%s",
                                                 want[i].text)
                                       : msg_new(TOPIC, 0, (int64_t)i + 1,
                                                 "{\"pad\":\"%0*d\"}",
                                                 RED_DECODE_MAX_BYTES, 0));
        }
        /* the Kafka timestamp stands in for a missing event time, and 5 min
         * ahead of the clock is not yet the future */
        kts = msg_new(TOPIC, 0, 12, "{" JOB_ID "}");
        kts->msg.timestamp = test_time("2025-11-06T10:30:00Z");
        add(core, kts);
        add(core,
            msg_new(TOPIC, 0, 13,
                    "{\"timestamp\":\"2025-11-07T00:05:00Z\"," JOB_ID "}"));

        /* dead letters are known at once, before any release */
        dl = red_core_dead_letters(core, &n);
        ck_assert_uint_eq(n, nwant);
        red_buf_init(&b);
        for (size_t i = 0; i < n; i++) {
                ck_assert_msg(dl[i].code == want[i].code,
                              "dead letter %zu: %s, not %s (%s)", i,
                              red_dlq_code_name(dl[i].code),
                              red_dlq_code_name(want[i].code), dl[i].detail);
                ck_assert_int_eq(dl[i].msg->offset, (int64_t)i + 1);
                ck_assert_ptr_eq(dl[i].msg->value, msgs[i + 1].text);
                ck_assert_uint_gt(strlen(dl[i].detail), 0);
                ck_assert_msg(strstr(dl[i].detail, want[i].detail),
                              "%s: detail \"%s\" does not name %s",
                              red_dlq_code_name(dl[i].code), dl[i].detail,
                              want[i].detail);
                /* the row names the code */
                red_buf_reset(&b);
                red_rows_dead_letter_json(c, &dl[i], &b);
                snprintf(code, sizeof(code), "\"error_code\":\"%s\"",
                         red_dlq_code_name(dl[i].code));
                ck_assert_msg(!b.failed && strstr(b.data, code), "%s", b.data);
        }
        red_buf_destroy(&b);
        ck_assert_uint_eq(red_core_buffered(core), 3);
        release_process(core, INT64_MAX, 3);
        ck_assert_int_eq(red_core_released_event(core, 1)->time,
                         test_time("2025-11-06T10:30:00Z"));
        assert_position(core, TOPIC, 0, 14, test_time("2025-11-07T00:04:00Z"));
        red_core_commit(core);
        assert_counters(core, 3, nwant, 0, 0);
        for (size_t i = 0; i < nwant; i++) {
                ck_assert_uint_eq(
                        red_core_counters(core)->dead_by_code[want[i].code], 1);
        }
        assert_done(NULL);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

/* A message whose event storage refused is a dead letter when it comes
 * again after the rollback, until a commit passes it. */
START_TEST(refused_message_is_dead_lettered)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        const red_dead_letter_t *dl;
        tmsg_t *m[3];
        size_t n;

        m[0] = done_msg(0, 0, "a", "2025-11-06T10:00:00Z");
        m[1] = done_msg(0, 1, "b", "2025-11-06T10:01:00Z");
        m[2] = done_msg(1, 0, "a", "2025-11-06T10:02:00Z");
        for (int i = 0; i < 3; i++) {
                add(core, m[i]);
        }
        release_process(core, INT64_MAX, 3);
        ck_assert_int_eq(
                red_core_refuse(core, &m[1]->msg, "SQLSTATE 23514: no"), 0);
        red_core_rollback(core);
        /* consumed again from the stored positions */
        for (int i = 0; i < 3; i++) {
                add(core, m[i]);
        }
        dl = red_core_dead_letters(core, &n);
        ck_assert_uint_eq(n, 1);
        ck_assert_ptr_eq(dl[0].msg->value, m[1]->text);
        ck_assert_int_eq(dl[0].code, RED_DLQ_STORAGE_REJECTED);
        ck_assert_str_eq(dl[0].detail, "SQLSTATE 23514: no");
        release_process(core, INT64_MAX, 2);
        red_core_commit(core);
        assert_counters(core, 2, 1, 0, 0);
        ck_assert_uint_eq(
                red_core_counters(core)->dead_by_code[RED_DLQ_STORAGE_REJECTED],
                1);
        ck_assert_str_eq(red_dlq_code_name(RED_DLQ_STORAGE_REJECTED),
                         "storage_rejected");
        /* committed past: the same coordinates are an event again (a
         * recreated topic), and so is a refused one of a dropped
         * partition */
        ck_assert_int_eq(red_core_refuse(core, &m[2]->msg, "x"), 0);
        red_core_drop_partition(core, TOPIC, 1);
        ck_assert_int_eq(red_core_set_watermark(core, TOPIC, 0, INT64_MIN), 0);
        add(core, m[1]);
        add(core, m[2]);
        red_core_dead_letters(core, &n);
        ck_assert_uint_eq(n, 0);
        release_process(core, INT64_MAX, 2);
        red_core_commit(core);
        assert_counters(core, 4, 1, 0, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

START_TEST(dead_letter_behind_a_buffered_event)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);

        /* sent with its batch, but counted and handed back only once the
         * position passes it: a restart from the position reads it again,
         * and whoever commits that position counts it (each once) */
        add(core, done_msg(0, 0, "a", "2025-11-06T11:00:00Z"));
        add(core, msg_new(TOPIC, 0, 1, "nope"));
        release_process(core, test_time("2025-11-06T10:30:00Z"), 0);
        assert_position(core, TOPIC, 0, 0, INT64_MIN);
        red_core_commit(core);
        assert_counters(core, 0, 0, 0, 0);
        ck_assert_uint_eq(red_core_counters(core)->consumed, 0);
        assert_done((const int[]){0, 0});
        release_process(core, INT64_MAX, 1);
        assert_position(core, TOPIC, 0, 2, test_time("2025-11-06T10:59:00Z"));
        red_core_commit(core);
        assert_counters(core, 1, 1, 0, 0);
        assert_done((const int[]){1, 1});
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

/* Issue 12, item 4: an empty value and a tombstone (no value) are
 * consumed like any message, so they are dead letters, not lost. */
START_TEST(empty_values_are_dead_letters)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        tmsg_t *tomb;
        size_t n;
        const red_dead_letter_t *dl;

        add(core, msg_new(TOPIC, 0, 0, "%s", ""));
        tomb = msg_new(TOPIC, 0, 1, "%s", "");
        tomb->msg.value = NULL;
        add(core, tomb);
        add(core, done_msg(0, 2, "a", "2025-11-06T10:00:00Z"));
        release_process(core, INT64_MAX, 1);
        dl = red_core_dead_letters(core, &n);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(dl[0].code, RED_DLQ_EMPTY_VALUE);
        ck_assert_str_eq(dl[0].detail, "the message value is empty");
        ck_assert_int_eq(dl[1].code, RED_DLQ_EMPTY_VALUE);
        ck_assert_str_eq(dl[1].detail,
                         "the message has no value (a tombstone)");
        red_core_commit(core);
        assert_counters(core, 1, 2, 0, 0);
        ck_assert_uint_eq(
                red_core_counters(core)->dead_by_code[RED_DLQ_EMPTY_VALUE], 2);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

/* consumed is counted per message, not summed from the outcomes: a
 * message committed past without an outcome (released, never applied)
 * shows as the difference. */
START_TEST(unaccounted_message_shows)
{
        red_contract_t *c = test_contract(MINIMAL);
        red_core_t *core = core_new(c);
        const red_core_counters_t *k = red_core_counters(core);

        add(core, done_msg(0, 0, "a", "2025-11-06T10:00:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T10:01:00Z"));
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 0), 2);
        red_core_commit(core);
        ck_assert_uint_eq(k->consumed, 2);
        ck_assert_uint_eq(k->applied + k->dead_lettered + k->late_dropped +
                                  k->duplicates,
                          0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* lateness                                                            */
/* ------------------------------------------------------------------ */

/*
 * With max_out_of_orderness 60s, grace 5m and allowed_lateness 1h, after
 * an event at 12:30 (watermark 12:29) on partition 0:
 *   12:00     window 12-13 still open                     -> applied
 *   11:59:59  window 11-12 closed (12:05 <= 12:29), within
 *             allowed lateness (>= 11:29)                 -> late
 *   11:00     closed, beyond allowed lateness             -> late, far
 * and the same 11:00 on partition 1 (no watermark yet)    -> applied.
 * Partitions 2 and 3 pin the boundary: window 11-12 closes when the
 * watermark reaches 12:05 exactly.
 */
static void late_case(red_late_policy_t policy, const char *name,
                      uint64_t applied, uint64_t late_applied, uint64_t dead,
                      uint64_t dropped)
{
        char yaml[128];
        red_contract_t *c;
        red_core_t *core;
        const red_dead_letter_t *dl;
        size_t n;

        snprintf(yaml, sizeof(yaml),
                 "time:\n  grace: 5m\n  allowed_lateness: 1h\n"
                 "  late_policy: %s\n",
                 name);
        c = test_contract_with(MINIMAL, yaml);
        core = core_new(c);
        ck_assert_int_eq(c->late_policy, policy);
        add(core, done_msg(0, 0, "a", "2025-11-06T12:30:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T12:00:00Z"));
        add(core, done_msg(0, 2, "a", "2025-11-06T11:59:59Z"));
        add(core, done_msg(0, 3, "a", "2025-11-06T11:00:00Z"));
        add(core, done_msg(1, 0, "a", "2025-11-06T11:00:00Z"));
        add(core, done_msg(2, 0, "a", "2025-11-06T12:06:00Z"));
        add(core, done_msg(2, 1, "b", "2025-11-06T11:30:00Z"));
        add(core, done_msg(3, 0, "a", "2025-11-06T12:05:59.999999Z"));
        add(core, done_msg(3, 1, "b", "2025-11-06T11:30:00Z"));
        dl = red_core_dead_letters(core, &n);
        ck_assert_uint_eq(n, dead);
        for (size_t i = 0; i < n; i++) {
                ck_assert_int_eq(dl[i].code, RED_DLQ_LATE);
                ck_assert_ptr_nonnull(strstr(dl[i].detail, "watermark"));
        }
        release_process(core, INT64_MAX, (long)applied);
        /* late or not, the watermark covers every decoded event */
        assert_position(core, TOPIC, 0, 4, test_time("2025-11-06T12:29:00Z"));
        red_core_commit(core);
        assert_counters(core, applied, dead, dropped, 0);
        ck_assert_uint_eq(red_core_counters(core)->late_applied, late_applied);
        ck_assert_uint_eq(red_core_counters(core)->dead_by_code[RED_DLQ_LATE],
                          dead);
        assert_done(NULL);
        red_core_destroy(core);
        red_contract_destroy(c);
        teardown();
}

START_TEST(late_policies)
{
        /* update: 11:59:59 and the boundary event (partition 2) applied
         * late, 11:00 on partition 0 beyond allowed_lateness: dead letter */
        late_case(RED_LATE_UPDATE, "update", 8, 2, 1, 0);
        /* dead_letter: all three late ones */
        late_case(RED_LATE_DEAD_LETTER, "dead_letter", 6, 0, 3, 0);
        /* drop: counted, not applied, not dead-lettered */
        late_case(RED_LATE_DROP, "drop", 6, 0, 0, 3);
}
END_TEST

/*
 * Lateness in an aggregation's time zone: Kathmandu (+05:45) hours run
 * from :15 to :15 UTC. With the watermark at 11:14, an event at 10:50 is
 * in the hour 10:15-11:15, still open (it would be late in UTC, whose
 * 10:00-11:00 has closed); one at 10:14 is in the closed 09:15-10:15.
 */
START_TEST(late_in_time_zone)
{
        red_contract_t *c =
                test_contract_with(MINIMAL, "    time_zone: Asia/Kathmandu\n"
                                            "time:\n  late_policy: drop\n");
        red_core_t *core = core_new(c);

        ck_assert_ptr_nonnull(c->aggs[0].tz);
        add(core, done_msg(0, 0, "a", "2025-11-06T11:15:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T10:50:00Z"));
        add(core, done_msg(0, 2, "a", "2025-11-06T10:14:00Z"));
        release_process(core, INT64_MAX, 2);
        red_core_commit(core);
        assert_counters(core, 2, 0, 1, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
        teardown();
}
END_TEST

START_TEST(late_judged_at_arrival)
{
        red_contract_t *c =
                test_contract_with(MINIMAL, "time:\n  late_policy: drop\n");
        red_core_t *core = core_new(c);

        /* grace 0: an event is late once its hour is behind the
         * watermark; judged against what arrived before it, not what
         * was released */
        add(core, done_msg(0, 0, "a", "2025-11-06T10:30:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T11:01:00Z"));
        add(core, done_msg(0, 2, "a", "2025-11-06T10:59:00Z")); /* late */
        add(core, done_msg(0, 3, "a", "2025-11-06T11:00:30Z"));
        /* a late event does not move the partition's time */
        ck_assert_int_eq(red_core_max_time(core, TOPIC, 0),
                         test_time("2025-11-06T11:01:00Z"));
        ck_assert_uint_eq(red_core_buffered(core), 3);
        release_process(core, INT64_MAX, 3);
        red_core_commit(core);
        assert_counters(core, 3, 0, 1, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

START_TEST(replay_from_position)
{
        red_contract_t *c = test_contract_with(
                MINIMAL, "time:\n  grace: 30m\n  late_policy: drop\n");
        red_core_t *one = core_new(c), *two, *three;
        red_time_t wm;
        tmsg_t *m[4];

        /*
         * 10:00 and 12:00 are committed (position 2, watermark 11:59), then
         * 11:10 (window 11-12 open until 12:30) and 10:40 (window 10-11,
         * closed at 11:30): late against the committed 12:00, not against
         * 11:10 alone.
         */
        m[0] = done_msg(0, 0, "a", "2025-11-06T10:00:00Z");
        m[1] = done_msg(0, 1, "a", "2025-11-06T12:00:00Z");
        m[2] = done_msg(0, 2, "a", "2025-11-06T11:10:00Z");
        m[3] = done_msg(0, 3, "a", "2025-11-06T10:40:00Z");
        add(one, m[0]);
        add(one, m[1]);
        release_process(one, INT64_MAX, 2);
        assert_position(one, TOPIC, 0, 2, test_time("2025-11-06T11:59:00Z"));
        wm = position_of(one, TOPIC, 0)->watermark;
        red_core_commit(one);
        add(one, m[2]);
        add(one, m[3]);
        release_process(one, INT64_MAX, 1);
        assert_position(one, TOPIC, 0, 4, test_time("2025-11-06T11:59:00Z"));
        red_core_commit(one);
        assert_counters(one, 3, 0, 1, 0);

        /* the second batch again after a crash, from the stored position
         * and watermark: the same decisions */
        two = core_new(c);
        ck_assert_int_eq(red_core_set_watermark(two, TOPIC, 0, wm), 0);
        ck_assert_int_eq(red_core_max_time(two, TOPIC, 0),
                         test_time("2025-11-06T12:00:00Z"));
        add(two, m[2]);
        add(two, m[3]);
        release_process(two, INT64_MAX, 1);
        assert_position(two, TOPIC, 0, 4, test_time("2025-11-06T11:59:00Z"));
        red_core_commit(two);
        assert_counters(two, 1, 0, 1, 0);

        /* what the stored watermark prevents: judged without it, 10:40 is
         * applied */
        three = core_new(c);
        add(three, m[2]);
        add(three, m[3]);
        release_process(three, INT64_MAX, 2);
        assert_position(three, TOPIC, 0, 4, test_time("2025-11-06T11:09:00Z"));
        red_core_commit(three);
        assert_counters(three, 2, 0, 0, 0);

        /* no watermark stored: nothing to judge by */
        ck_assert_int_eq(red_core_set_watermark(two, TOPIC, 5, INT64_MIN), 0);
        ck_assert_int_eq(red_core_max_time(two, TOPIC, 5), INT64_MIN);
        /* setting the watermark drops what the partition buffered */
        add(two, done_msg(0, 4, "a", "2025-11-06T13:10:00Z"));
        ck_assert_uint_eq(red_core_buffered(two), 1);
        ck_assert_int_eq(red_core_set_watermark(two, TOPIC, 0, wm), 0);
        ck_assert_uint_eq(red_core_buffered(two), 0);
        ck_assert_int_eq(msgs[4].done, 1);
        ck_assert_int_eq(red_core_max_time(two, TOPIC, 0),
                         test_time("2025-11-06T12:00:00Z"));
        red_core_destroy(one);
        red_core_destroy(two);
        red_core_destroy(three);
        red_contract_destroy(c);
}
END_TEST

/* The watermark of the earliest accepted time minus a long
 * max_out_of_orderness is clamped to 0001-01-01, which PostgreSQL stores
 * (year 0000 it refuses). */
START_TEST(watermark_clamped)
{
        red_contract_t *c = test_contract_with(
                MINIMAL, "time:\n  max_out_of_orderness: 60d\n");
        red_core_t *core = core_new(c);

        add(core, done_msg(0, 0, "a", "0001-02-01T00:00:00Z"));
        release_process(core, INT64_MAX, 1);
        assert_position(core, TOPIC, 0, 1, RED_TIME_STORE_MIN);
        red_core_commit(core);
        /* a later event: the arithmetic again, unclamped */
        add(core, done_msg(0, 1, "a", "0001-04-01T00:00:00Z"));
        release_process(core, INT64_MAX, 1);
        assert_position(core, TOPIC, 0, 2,
                        test_time("0001-04-01T00:00:00Z") -
                                60 * RED_TIME_US_PER_DAY);
        red_core_commit(core);
        assert_counters(core, 2, 0, 0, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* workflows                                                           */
/* ------------------------------------------------------------------ */

#define WF1 "c0000000-0000-4000-8000-000000000001"
#define WF2 "c0000000-0000-4000-8000-000000000002"
#define WF3 "c0000000-0000-4000-8000-000000000003"

static tmsg_t *stage_msg(int64_t offset, const char *wf, const char *iso,
                         int number)
{
        return msg_new(T_STAGE, 0, offset,
                       "{\"event_type\":\"NODE_GENERATION_STAGE_COMPLETED\","
                       "\"timestamp\":\"%s\",\"payload\":{\"workflow_id\":"
                       "\"%s\",\"stage_name\":\"stage%d\",\"stage_number\":"
                       "%d,\"duration_seconds\":2,\"success\":true}}",
                       iso, wf, number, number);
}

static red_uuid_t uuid_of(const char *s)
{
        red_uuid_t u;

        ck_assert_int_eq(red_uuid_parse(s, strlen(s), &u), 0);
        return u;
}

START_TEST(workflow_in_event_time_order)
{
        red_contract_t *cg = test_contract("contracts/codegen_metrics.yaml");
        red_core_t *core = core_new(cg);
        red_uuid_t w1 = uuid_of(WF1), w2 = uuid_of(WF2), w3 = uuid_of(WF3);
        const red_uuid_t *missing;
        red_fsm_rows_t *rows;
        red_cell_t *cell;
        red_wf_t *wf;
        size_t n;
        enum { PENDING, ANALYZING, GENERATING, VALIDATING, COMPLETED, FAILED };

        /* the topics arrive in the worst order: completed first, started
         * last; event time puts them right */
        add(core, msg_new(T_COMPLETED, 0, 0,
                          "{\"event_type\":\"NODE_GENERATION_COMPLETED\","
                          "\"timestamp\":\"2025-11-06T10:05:00Z\","
                          "\"workflow_id\":\"" WF1 "\","
                          "\"total_duration_seconds\":300,"
                          "\"quality_score\":0.7}"));
        add(core, stage_msg(0, WF1, "2025-11-06T10:04:00Z", 4));
        add(core, stage_msg(1, WF1, "2025-11-06T10:01:00Z", 1));
        add(core, stage_msg(2, WF1, "2025-11-06T10:02:00Z", 2));
        add(core, msg_new(T_STARTED, 0, 0,
                          "{\"event_type\":\"NODE_GENERATION_STARTED\","
                          "\"timestamp\":\"2025-11-06T10:00:00Z\","
                          "\"workflow_id\":\"" WF1 "\","
                          "\"node_type\":\"compute\",\"domain\":\"ml\"}"));
        /* a second workflow, stored earlier (not in memory) */
        add(core, stage_msg(3, WF2, "2025-11-06T10:03:00Z", 2));
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 0), 6);
        missing = red_core_missing(core, &n);
        ck_assert_uint_eq(n, 2);
        ck_assert_int_eq(red_uuid_cmp(&missing[0], &w1), 0);
        ck_assert_int_eq(red_uuid_cmp(&missing[1], &w2), 0);
        /* the loader restores the stored one: analyzing, node type effect */
        {
                const char *rem[2] = {"effect", "data"};
                ck_assert_ptr_nonnull(red_workflows_restore(
                        red_core_workflows(core), &w2, ANALYZING, PENDING,
                        test_time(HOUR) - RED_TIME_US_PER_HOUR, 1, 0, rem));
        }
        ck_assert_int_eq(red_core_process(core), 0);

        rows = red_core_rows(core);
        ck_assert_uint_eq(rows->cnt, 5);
        {
                static const int to[5] = {ANALYZING, GENERATING, GENERATING,
                                          VALIDATING, COMPLETED};
                for (size_t i = 0; i < rows->cnt; i++) {
                        ck_assert_msg(rows->items[i].accepted, "row %zu: %s", i,
                                      rows->items[i].reason);
                        ck_assert_int_eq(rows->items[i].to_state, to[i]);
                }
                /* the third row is the restored workflow's */
                ck_assert_int_eq(red_uuid_cmp(&rows->items[2].workflow_id, &w2),
                                 0);
                ck_assert_int_eq(rows->items[2].from_state, ANALYZING);
        }
        wf = red_workflows_get(red_core_workflows(core), &w1);
        ck_assert_ptr_nonnull(wf);
        ck_assert_int_eq(wf->state, COMPLETED);
        /* enrichment: the Completed event had no node type or domain, it
         * took them from the Started event */
        cell = CELL(core, HOURLY, HOUR, "node_type_grouping", "compute");
        ck_assert_double_eq(test_cell_number(cell, "successful_generations"),
                            1);
        ck_assert_double_eq(test_cell_number(cell, "started_generations"), 1);
        cell = CELL(core, HOURLY, HOUR, "domain_grouping", "ml");
        ck_assert_double_eq(test_cell_number(cell, "total_generations"), 1);
        /* the restored workflow's stage event took its remembered type */
        cell = CELL(core, HOURLY, HOUR, "node_type_grouping", "effect");
        ck_assert_uint_eq(red_cell_events(cell), 1);
        ck_assert_ptr_null(test_cell_find(red_core_cells(core),
                                          RED_WINDOW_HOURLY, HOUR,
                                          "node_type_grouping", "unknown"));
        red_core_commit(core);
        assert_counters(core, 6, 0, 0, 0);
        ck_assert_uint_eq(
                red_core_counters(core)->fsm_results[RED_FSM_ACCEPTED], 5);

        /* a batch that rolls back forgets the workflows it created and the
         * transitions it made */
        add(core, msg_new(T_STARTED, 0, 1,
                          "{\"event_type\":\"NODE_GENERATION_STARTED\","
                          "\"timestamp\":\"2025-11-06T10:10:00Z\","
                          "\"workflow_id\":\"" WF3 "\"}"));
        add(core, msg_new(T_FAILED, 0, 0,
                          "{\"event_type\":\"NODE_GENERATION_FAILED\","
                          "\"timestamp\":\"2025-11-06T10:11:00Z\","
                          "\"workflow_id\":\"" WF2 "\","
                          "\"failed_stage\":\"stage3\"}"));
        release_process(core, INT64_MAX, 2);
        ck_assert_ptr_nonnull(red_workflows_get(red_core_workflows(core), &w3));
        ck_assert_int_eq(
                red_workflows_get(red_core_workflows(core), &w2)->state,
                FAILED);
        /* the failed event lacked node type: the restored workflow's */
        cell = CELL(core, HOURLY, HOUR, "node_type_grouping", "effect");
        ck_assert_double_eq(test_cell_number(cell, "failed_generations"), 1);
        red_core_rollback(core);
        ck_assert_ptr_null(red_workflows_get(red_core_workflows(core), &w3));
        ck_assert_ptr_null(red_workflows_get(red_core_workflows(core), &w2));
        ck_assert_ptr_nonnull(red_workflows_get(red_core_workflows(core), &w1));
        assert_counters(core, 6, 0, 0, 0);
        ck_assert_uint_eq(
                red_core_counters(core)->fsm_results[RED_FSM_ACCEPTED], 5);
        red_core_destroy(core);
        red_contract_destroy(cg);
}
END_TEST

START_TEST(rejected_transitions_are_counted)
{
        red_contract_t *cg = test_contract("contracts/codegen_metrics.yaml");
        red_core_t *core = core_new(cg);

        /* stage 2 of a workflow nobody started: not found; then started,
         * and stage 4 before stage 1: invalid transition */
        add(core, stage_msg(0, WF1, "2025-11-06T10:00:00Z", 2));
        add(core, msg_new(T_STARTED, 0, 0,
                          "{\"event_type\":\"NODE_GENERATION_STARTED\","
                          "\"timestamp\":\"2025-11-06T10:01:00Z\","
                          "\"workflow_id\":\"" WF1 "\"}"));
        add(core, stage_msg(1, WF1, "2025-11-06T10:02:00Z", 4));
        release_process(core, INT64_MAX, 3);
        ck_assert_uint_eq(red_core_rows(core)->cnt, 2);
        red_core_commit(core);
        /* rejections are rows and counts, never dead letters */
        assert_counters(core, 3, 0, 0, 0);
        ck_assert_uint_eq(
                red_core_counters(core)->fsm_results[RED_FSM_NOT_FOUND], 1);
        ck_assert_uint_eq(red_core_counters(core)
                                  ->fsm_results[RED_FSM_INVALID_TRANSITION],
                          1);
        ck_assert_uint_eq(
                red_core_counters(core)->fsm_results[RED_FSM_ACCEPTED], 0);
        red_core_destroy(core);
        red_contract_destroy(cg);
}
END_TEST

/* ------------------------------------------------------------------ */
/* raw rows: duplicates; alerts                                        */
/* ------------------------------------------------------------------ */

static tmsg_t *metric_msg(const char *topic, int64_t offset, const char *id,
                          const char *name, double value, const char *iso)
{
        return msg_new(topic, 0, offset,
                       "{\"event_type\":\"metric.recorded\","
                       "\"timestamp\":\"%s\",\"metric_id\":\"%s\","
                       "\"metric_name\":\"%s\",\"metric_type\":\"timing\","
                       "\"value\":%g,\"unit\":\"ms\",\"agent_id\":\"a1\"}",
                       iso, id, name, value);
}

START_TEST(duplicates_are_skipped)
{
        red_contract_t *am = test_contract("contracts/agent_metrics.yaml");
        red_core_t *core = core_new(am);
        const red_core_raw_key_t *keys;
        red_alert_matches_t *al;
        red_cell_t *cell;
        size_t n, stored = SIZE_MAX;

        add(core, metric_msg(T_ROUTING, 0, "m1", "routing_decision_time_ms",
                             150, "2025-11-06T10:00:00Z"));
        /* the same metric re-sent: a duplicate within the batch */
        add(core, metric_msg(T_ROUTING, 1, "m1", "routing_decision_time_ms",
                             150, "2025-11-06T10:00:00Z"));
        /* same id, other time: another row */
        add(core, metric_msg(T_ROUTING, 2, "m1", "routing_decision_time_ms", 30,
                             "2025-11-06T10:01:00Z"));
        /* stored by an earlier batch (the caller says so below) */
        add(core, metric_msg(T_ROUTING, 3, "m2", "routing_decision_time_ms",
                             500, "2025-11-06T10:02:00Z"));
        /* same id and time in another table: another row */
        add(core, metric_msg(T_STATE, 0, "m1", "state_get_time_ms", 12,
                             "2025-11-06T10:00:00Z"));
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 0), 5);
        keys = red_core_raw_keys(core, &n);
        ck_assert_uint_eq(n, 4);
        for (size_t i = 0; i < n; i++) {
                ck_assert_ptr_eq(keys[i].raw, &am->raws[0]);
                ck_assert_ptr_eq(red_core_released_event(core, keys[i].entry),
                                 keys[i].ev);
                if (!strcmp(keys[i].table, "agent_routing_metrics") &&
                    keys[i].ev->msg->offset == 3) {
                        stored = i;
                }
        }
        ck_assert_uint_ne(stored, SIZE_MAX);
        red_core_raw_stored(core, stored);
        red_core_raw_stored(core, 99); /* out of range: ignored */
        ck_assert_int_eq(red_core_process(core), 0);
        /* released in time order, ties by topic: m1@10:00 routing, its
         * re-send, m1@10:00 state-ops, m1@10:01, m2@10:02 (stored) */
        ck_assert_ptr_nonnull(red_core_released_event(core, 0));
        ck_assert_ptr_null(red_core_released_event(core, 1));
        ck_assert_str_eq(red_core_released_event(core, 2)->msg->topic, T_STATE);
        ck_assert_ptr_nonnull(red_core_released_event(core, 3));
        ck_assert_ptr_null(red_core_released_event(core, 4));

        /* neither duplicate reached a cell or an alert */
        cell = CELL(core, HOURLY, HOUR, "per_metric",
                    "routing_decision_time_ms");
        ck_assert_double_eq(test_cell_number(cell, "count"), 2);
        ck_assert_double_eq(test_cell_number(cell, "sum"), 180);
        ck_assert_double_eq(test_cell_number(cell, "max"), 150);
        al = red_core_alerts(core);
        /* 150 > 100, 50, 20: three rules; 12 > 10: one; 30 > 20: one */
        ck_assert_uint_eq(al->cnt, 5);
        for (size_t i = 1; i < al->cnt; i++) {
                ck_assert_int_le(al->items[i - 1].time, al->items[i].time);
        }
        ck_assert_str_eq(am->alerts->rules[al->items[4].rule].id,
                         "routing_decision_info");
        ck_assert_double_eq(al->items[4].value, 30);
        red_core_commit(core);
        assert_counters(core, 3, 0, 0, 2);
        ck_assert_uint_eq(red_core_counters(core)->consumed, 5);
        ck_assert_uint_eq(red_core_alerts(core)->cnt, 0);
        red_core_destroy(core);
        red_contract_destroy(am);
}
END_TEST

/* A CRITICAL crossing is urgent while it waits in the reorder buffer:
 * the pipeline writes it as soon as the frontier passes it. */
START_TEST(critical_alerts_are_urgent)
{
        red_contract_t *am = test_contract("contracts/agent_metrics.yaml");
        red_core_t *core = core_new(am);

        ck_assert_int_eq(red_core_urgent(core), INT64_MAX);
        /* WARNING only (> 50, < 100): not urgent */
        add(core, metric_msg(T_ROUTING, 0, "m1", "routing_decision_time_ms", 70,
                             "2025-11-06T10:00:00Z"));
        ck_assert_int_eq(red_core_urgent(core), INT64_MAX);
        add(core, metric_msg(T_ROUTING, 1, "m2", "routing_decision_time_ms",
                             150, "2025-11-06T10:00:05Z"));
        add(core, metric_msg(T_ROUTING, 2, "m3", "routing_decision_time_ms",
                             150, "2025-11-06T10:00:09Z"));
        ck_assert_int_eq(red_core_urgent(core),
                         test_time("2025-11-06T10:00:05Z"));
        /* the first urgent one released: the next one is the oldest */
        ck_assert_int_eq(
                red_core_release(core, test_time("2025-11-06T10:00:06Z"), 0),
                2);
        ck_assert_int_eq(red_core_urgent(core),
                         test_time("2025-11-06T10:00:09Z"));
        /* a rollback drops what is buffered, urgent ones too */
        red_core_rollback(core);
        ck_assert_int_eq(red_core_urgent(core), INT64_MAX);
        red_core_destroy(core);
        red_contract_destroy(am);
}
END_TEST

/* Contract deduplication: the first of a key within the horizon in the
 * batch is a key for the caller to look up; the rest are duplicates at
 * once; events without the key are not deduplicated. */
START_TEST(dedupe_keys)
{
        red_contract_t *c = test_contract_with(
                MINIMAL, "dedupe:\n  key: kind\n  horizon: 1h\n");
        red_core_t *core = core_new(c);
        const red_core_dedupe_key_t *k;
        size_t n, b = SIZE_MAX;

        ck_assert_int_eq(c->dedupe_horizon_us, RED_TIME_US_PER_HOUR);
        add(core, done_msg(0, 0, "a", "2025-11-06T10:00:00Z"));
        add(core, done_msg(0, 1, "a", "2025-11-06T10:30:00Z")); /* dup */
        add(core, done_msg(1, 0, "b", "2025-11-06T10:00:00Z"));
        add(core, done_msg(1, 1, "a", "2025-11-06T11:00:00Z")); /* dup */
        /* 90 minutes after the first a: a key of its own */
        add(core, done_msg(0, 2, "a", "2025-11-06T11:30:00Z"));
        add(core, msg_new(TOPIC, 1, 2,
                          "{\"event_type\":\"DONE\",\"event_timestamp\":"
                          "\"2025-11-06T10:05:00Z\",\"job_id\":\"" JOB "\"}"));
        ck_assert_int_eq(red_core_release(core, INT64_MAX, 0), 6);
        k = red_core_dedupe_keys(core, &n);
        ck_assert_uint_eq(n, 3);
        for (size_t i = 0; i < n; i++) {
                ck_assert_ptr_eq(red_core_released_event(core, k[i].entry),
                                 k[i].ev);
                ck_assert_uint_eq(k[i].len, 1);
                ck_assert_uint_eq(k[i].hash,
                                  red_map_hash_bytes(k[i].key, k[i].len, 0));
                if (k[i].key[0] == 'b') {
                        b = i;
                }
        }
        ck_assert_str_eq(k[0].key, "a");
        ck_assert_int_eq(k[2].ev->time, test_time("2025-11-06T11:30:00Z"));
        /* b was stored by an earlier batch (the caller says so) */
        ck_assert_uint_ne(b, SIZE_MAX);
        red_core_dedupe_seen(core, b);
        red_core_dedupe_seen(core, 99); /* out of range: ignored */
        ck_assert_int_eq(red_core_process(core), 0);
        red_core_commit(core);
        assert_counters(core, 3, 0, 0, 3);
        red_core_dedupe_keys(core, &n);
        ck_assert_uint_eq(n, 0);
        red_core_destroy(core);
        red_contract_destroy(c);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("core");
        TCase *tc = tcase_create("cycle");
        TCase *tr = tcase_create("release");
        TCase *td = tcase_create("dead_letters");
        TCase *tl = tcase_create("late");
        TCase *tw = tcase_create("workflows");
        TCase *tx = tcase_create("raw_alerts");
        TCase *all[] = {tc, tr, td, tl, tw, tx};

        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
                tcase_add_checked_fixture(all[i], setup, teardown);
                suite_add_tcase(s, all[i]);
        }
        tcase_add_test(tc, cycle_commit);
        tcase_add_test(tc, rollback_forgets_the_batch);
        tcase_add_test(tc, drop_partition_and_destroy);
        tcase_add_test(tr, release_takes_prefixes);
        tcase_add_test(tr, release_max_bounds_the_batch);
        tcase_add_test(tr, release_max_never_stalls);
        tcase_add_test(tr, release_order_breaks_ties);
        tcase_add_test(tr, release_one_takes_a_head);
        tcase_add_test(td, dead_letters_by_code);
        tcase_add_test(td, dead_letter_behind_a_buffered_event);
        tcase_add_test(td, empty_values_are_dead_letters);
        tcase_add_test(td, unaccounted_message_shows);
        tcase_add_test(td, refused_message_is_dead_lettered);
        tcase_add_test(tl, late_policies);
        tcase_add_test(tl, late_in_time_zone);
        tcase_add_test(tl, late_judged_at_arrival);
        tcase_add_test(tl, replay_from_position);
        tcase_add_test(tl, watermark_clamped);
        tcase_add_test(tw, workflow_in_event_time_order);
        tcase_add_test(tw, rejected_transitions_are_counted);
        tcase_add_test(tx, duplicates_are_skipped);
        tcase_add_test(tx, critical_alerts_are_urgent);
        tcase_add_test(tx, dedupe_keys);
        return test_main(s);
}
