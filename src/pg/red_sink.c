/* red_sink - one Postgres transaction per batch: the writers in order. */
#include "red_sink.h"

#include "red_failpoint.h"
#include "red_log.h"
#include "red_sink_alert.h"
#include "red_sink_alertq.h"
#include "red_sink_cells.h"
#include "red_sink_dedupe.h"
#include "red_sink_fsm.h"
#include "red_sink_io.h"
#include "red_sink_offsets.h"
#include "red_sink_outbox.h"
#include "red_sink_raw.h"
#include "red_sink_schema.h"
#include "red_sink_state.h"
#include "red_sink_walert.h"
#include "red_window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tries with new partitions created outside the transaction; the last
 * creates them inside it (a batch needing partitions in more steps). */
#define MAX_PARTITION_TRIES 8

/* The batch's own computing, in the order it can run: the caller's work
 * (the events applied: they make the cells, rows and alerts), then, once
 * the cells are locked, their merge. */
typedef enum {
        STEP_NONE,
        STEP_WORK,
        STEP_MERGE,
} step_t;

struct red_sink_s {
        const red_contract_t *c;
        char *instance;
        red_sink_io_t *io;
        red_sink_outbox_t *out;
        red_sink_raw_t *raw;
        red_sink_dedupe_t *dedupe;
        red_sink_fsm_t *fsm;
        red_sink_cells_t *cells;
        red_sink_alert_t *alert;
        red_sink_state_t *state;
        int schema_gen; /* the table generation the contract runs on */
        red_sink_walert_t *walert;
        red_sink_alertq_t *alertq;
        size_t last_rows;
        /* alerts of the last write or finalisation */
        size_t fired[3], resolved[3];
        size_t *rule_fired, *rule_resolved; /* rules, then window rules */
        /* during red_sink_write() */
        red_core_t *core;
        red_sink_work_fn *work;
        void *work_arg;
        step_t step;               /* runs at the next wait, or when needed */
        red_sink_result_t step_rc; /* of a step run during a COPY */
        char step_err[512];
        bool cells_locked;
};

static void on_idle(void *arg);

red_sink_t *red_sink_new(const red_contract_t *c, const char *conninfo,
                         const char *instance)
{
        red_sink_t *s = calloc(1, sizeof(*s));

        if (!s) {
                return NULL;
        }
        s->c = c;
        s->instance = strdup(instance);
        s->io = red_sink_io_new(conninfo);
        s->out = red_sink_outbox_new(instance);
        s->raw = red_sink_raw_new(c);
        s->dedupe = red_sink_dedupe_new(c);
        s->fsm = red_sink_fsm_new(c);
        s->cells = red_sink_cells_new(c);
        s->alert = red_sink_alert_new(c);
        s->state = red_sink_state_new(c);
        s->walert = red_sink_walert_new(c);
        s->alertq = red_sink_alertq_new(c->name);
        s->rule_fired = calloc(red_sink_alert_rule_cnt(s) + 1, sizeof(size_t));
        s->rule_resolved =
                calloc(red_sink_alert_rule_cnt(s) + 1, sizeof(size_t));
        if (!s->instance || !s->io || !s->out || !s->raw || !s->dedupe ||
            !s->fsm || !s->cells || !s->alert || !s->walert || !s->alertq ||
            !s->rule_fired || !s->rule_resolved || !s->state) {
                red_sink_destroy(s);
                return NULL;
        }
        red_sink_io_on_idle(s->io, on_idle, s);
        return s;
}

void red_sink_destroy(red_sink_t *s)
{
        if (!s) {
                return;
        }
        red_sink_state_destroy(s->state);
        red_sink_alert_destroy(s->alert);
        red_sink_walert_destroy(s->walert);
        red_sink_alertq_destroy(s->alertq);
        free(s->rule_fired);
        free(s->rule_resolved);
        red_sink_cells_destroy(s->cells);
        red_sink_fsm_destroy(s->fsm);
        red_sink_raw_destroy(s->raw);
        red_sink_dedupe_destroy(s->dedupe);
        red_sink_outbox_destroy(s->out);
        red_sink_io_destroy(s->io);
        free(s->instance);
        free(s);
}

bool red_sink_connected(const red_sink_t *s)
{
        return red_sink_io_connected(s->io);
}

const char *red_sink_where(const red_sink_t *s)
{
        return red_sink_io_where(s->io);
}

const red_msg_t *red_sink_rejected(const red_sink_t *s)
{
        return red_sink_raw_rejected(s->raw);
}

size_t red_sink_last_rows(const red_sink_t *s)
{
        return s->last_rows;
}

size_t red_sink_alert_rule_cnt(const red_sink_t *s)
{
        const red_alerts_t *a = s->c->alerts;

        return a ? a->rule_cnt + a->window_rule_cnt : 0;
}

const size_t *red_sink_alerts_fired(const red_sink_t *s)
{
        return s->fired;
}

const size_t *red_sink_alerts_resolved(const red_sink_t *s)
{
        return s->resolved;
}

const size_t *red_sink_alert_rules_fired(const red_sink_t *s)
{
        return s->rule_fired;
}

const size_t *red_sink_alert_rules_resolved(const red_sink_t *s)
{
        return s->rule_resolved;
}

void red_sink_set_alert_delivery(red_sink_t *s, bool on, int64_t hold_us)
{
        red_sink_alertq_enable(s->alertq, on);
        red_sink_walert_set_hold(s->walert, hold_us);
}

/* The counters of what the last write or finalisation fired/resolved. */
static void count_alerts(red_sink_t *s)
{
        const red_alerts_t *a = s->c->alerts;
        const size_t *f = red_sink_alert_fired(s->alert);
        const size_t *wf = red_sink_walert_fired(s->walert);
        const size_t *wr = red_sink_walert_resolved(s->walert);

        for (int i = 0; i < 3; i++) {
                s->fired[i] = f[i] + wf[i];
                s->resolved[i] = wr[i];
        }
        if (!a) {
                return;
        }
        memcpy(s->rule_fired, red_sink_alert_rule_fired(s->alert),
               a->rule_cnt * sizeof(size_t));
        memset(s->rule_resolved, 0, a->rule_cnt * sizeof(size_t));
        memcpy(s->rule_fired + a->rule_cnt,
               red_sink_walert_rule_fired(s->walert),
               a->window_rule_cnt * sizeof(size_t));
        memcpy(s->rule_resolved + a->rule_cnt,
               red_sink_walert_rule_resolved(s->walert),
               a->window_rule_cnt * sizeof(size_t));
}

/* Nothing fired or resolved (a failed write). */
static void no_alerts(red_sink_t *s)
{
        size_t n = red_sink_alert_rule_cnt(s);

        memset(s->fired, 0, sizeof(s->fired));
        memset(s->resolved, 0, sizeof(s->resolved));
        memset(s->rule_fired, 0, n * sizeof(size_t));
        memset(s->rule_resolved, 0, n * sizeof(size_t));
}

int red_sink_connect(red_sink_t *s, char *errstr, size_t errstr_size)
{
        if (red_sink_io_connect(s->io, errstr, errstr_size) ||
            red_sink_schema_prepare(s->io, s->c, &s->schema_gen, errstr,
                                    errstr_size) ||
            red_sink_fsm_prepare(s->fsm, s->io, errstr, errstr_size) ||
            red_sink_cells_prepare(s->cells, s->io, errstr, errstr_size) ||
            red_sink_raw_prepare(s->raw, s->io, errstr, errstr_size) ||
            red_sink_alert_prepare(s->alert, s->io, errstr, errstr_size) ||
            red_sink_state_prepare(s->state, s->io, errstr, errstr_size) ||
            red_sink_offsets_prepare(s->io, s->c->name, errstr, errstr_size)) {
                red_sink_io_disconnect(s->io);
                return -1;
        }
        return 0;
}

static red_sink_result_t not_connected(char *errstr, size_t size)
{
        snprintf(errstr, size, "not connected to PostgreSQL");
        return RED_SINK_RETRY;
}

/* --- outside the batch transaction ---------------------------------- */

red_sink_result_t red_sink_offsets(red_sink_t *s, const char *const *topics,
                                   const int32_t *partitions, size_t cnt,
                                   int generation, red_sink_stored_t *out,
                                   char *errstr, size_t errstr_size)
{
        red_sink_dedupe_assigned(s->dedupe, topics, partitions, cnt);
        return red_sink_offsets_load(s->io, s->c->consumer_group, s->instance,
                                     topics, partitions, cnt, generation, out,
                                     errstr, errstr_size);
}

red_sink_result_t red_sink_offsets_reset(red_sink_t *s, const char *topic,
                                         int32_t partition, int64_t prev,
                                         int64_t next, int64_t *stored,
                                         char *errstr, size_t errstr_size)
{
        if (!red_sink_connected(s)) {
                return not_connected(errstr, errstr_size);
        }
        return red_sink_offsets_reset_row(s->io, s->c->consumer_group,
                                          s->instance, topic, partition, prev,
                                          next, stored, errstr, errstr_size);
}

int red_sink_load_workflows(void *sink, const red_uuid_t *ids, size_t cnt,
                            red_workflows_t *t, char *errstr,
                            size_t errstr_size)
{
        red_sink_t *s = sink;

        if (cnt && !red_sink_connected(s)) {
                not_connected(errstr, errstr_size);
                return -1;
        }
        return red_sink_fsm_load(s->fsm, s->io, ids, cnt, t, errstr,
                                 errstr_size);
}

int red_sink_count_states(red_sink_t *s, int64_t *counts, char *errstr,
                          size_t errstr_size)
{
        if (!red_sink_connected(s)) {
                not_connected(errstr, errstr_size);
                return -1;
        }
        return red_sink_fsm_count_states(s->fsm, s->io, counts, errstr,
                                         errstr_size);
}

red_sink_result_t red_sink_raw_lookup(red_sink_t *s, red_core_t *core,
                                      char *errstr, size_t errstr_size)
{
        errstr[0] = '\0';
        return red_sink_raw_mark_stored(s->raw, s->io, core, errstr,
                                        errstr_size);
}

red_sink_result_t red_sink_load_states(red_sink_t *s, red_core_t *core,
                                       char *errstr, size_t errstr_size)
{
        errstr[0] = '\0';
        if (!s->c->state_cnt) {
                return RED_SINK_OK;
        }
        if (!red_sink_connected(s)) {
                return not_connected(errstr, errstr_size);
        }
        return red_sink_state_load(s->state, s->io, core, errstr, errstr_size);
}

red_sink_result_t red_sink_sweep(red_sink_t *s, red_time_t clock,
                                 const int32_t *partitions, size_t cnt,
                                 long *changed, char *errstr,
                                 size_t errstr_size)
{
        *changed = 0;
        if (!s->c->state_cnt) {
                return RED_SINK_OK;
        }
        if (!red_sink_connected(s)) {
                return not_connected(errstr, errstr_size);
        }
        return red_sink_state_sweep(s->state, s->io, s->out, clock, partitions,
                                    cnt, changed, errstr, errstr_size);
}

red_sink_result_t red_sink_start_events(red_sink_t *s, char *errstr,
                                        size_t errstr_size)
{
        if (!s->c->state_cnt) {
                return RED_SINK_OK;
        }
        if (!red_sink_connected(s)) {
                return not_connected(errstr, errstr_size);
        }
        return red_sink_state_start(s->state, s->io, s->out, s->instance,
                                    errstr, errstr_size);
}

red_sink_result_t red_sink_dedupe_lookup(red_sink_t *s, red_core_t *core,
                                         char *errstr, size_t errstr_size)
{
        errstr[0] = '\0';
        return red_sink_dedupe_mark(s->dedupe, s->io, core, errstr,
                                    errstr_size);
}

red_sink_result_t red_sink_finalize(red_sink_t *s, long *finalized,
                                    char *errstr, size_t errstr_size)
{
        red_sink_result_t r;
        bool judged = red_sink_walert_any(s->walert, -1);

        *finalized = 0;
        no_alerts(s);
        if (!red_sink_connected(s)) {
                return not_connected(errstr, errstr_size);
        }
        if (!judged) {
                if ((r = red_sink_cells_finalize(s->cells, s->io, s->instance,
                                                 s->walert, finalized, errstr,
                                                 errstr_size))) {
                        return r;
                }
                return *finalized ? red_sink_outbox_notify(s->io, errstr,
                                                           errstr_size)
                                  : RED_SINK_OK;
        }
        /* the final cells are judged in the transaction that marks them:
         * a crash leaves them unmarked and unjudged, to be done again */
        red_sink_walert_clear(s->walert);
        red_sink_alert_reset(s->alert);
        red_sink_outbox_reset(s->out);
        red_sink_alertq_reset(s->alertq);
        if ((r = red_sink_io_run(s->io, "BEGIN", errstr, errstr_size)) ||
            (r = red_sink_cells_finalize(s->cells, s->io, s->instance,
                                         s->walert, finalized, errstr,
                                         errstr_size)) ||
            (r = red_sink_walert_write(s->walert, s->io, s->alert, s->out,
                                       s->alertq, errstr, errstr_size)) ||
            (r = red_sink_alert_write(
                     s->alert, s->io, &(red_alert_matches_t){0}, s->out,
                     s->alertq, &s->last_rows, errstr, errstr_size)) ||
            (r = red_sink_outbox_write(s->out, s->io, errstr, errstr_size)) ||
            (r = red_sink_alertq_write(s->alertq, s->io, errstr,
                                       errstr_size)) ||
            (*finalized &&
             (r = red_sink_outbox_notify(s->io, errstr, errstr_size))) ||
            (r = red_sink_io_run(s->io, "COMMIT", errstr, errstr_size))) {
                red_sink_io_rollback(s->io);
                red_sink_walert_clear(s->walert);
                *finalized = 0;
                return r;
        }
        count_alerts(s);
        red_sink_walert_log(s->walert);
        red_sink_walert_clear(s->walert);
        return RED_SINK_OK;
}

/* --- client work while Postgres is busy ----------------------------- */

/*
 * A batch costs client time (the events applied, the locked cells merged)
 * and server time (each COPY parsed and inserted). Run one after the other
 * they add up; but once the end of a COPY is sent, Postgres inserts for a
 * while and the client only waits for the result. So the write keeps its
 * next computation pending as a step and the primitives run it at that
 * wait (on_idle, from red_sink_io_copy_end()): the caller's work while
 * Postgres inserts the dedupe keys (or the first raw table), the merge
 * while it inserts the last raw table. A step not run by then runs when
 * its result is needed (step_finish). With one raw table the work still
 * overlaps and the merge does not; without dedupe keys or raw tables
 * nothing overlaps.
 */

static red_sink_result_t run_step(red_sink_t *s, char *errstr, size_t size)
{
        step_t step = s->step;
        int rc;

        s->step = STEP_NONE;
        if (step == STEP_WORK && s->work && (rc = s->work(s->work_arg))) {
                snprintf(errstr, size, "applying the batch: %s",
                         rc == -ENOMEM ? "out of memory" : strerror(-rc));
                return RED_SINK_RETRY;
        }
        if (step == STEP_MERGE) {
                return red_sink_cells_merge(s->cells, s->out, s->walert, errstr,
                                            size);
        }
        return RED_SINK_OK;
}

/* A failure while a COPY is in flight is kept for the write's next step. */
static void on_idle(void *arg)
{
        red_sink_t *s = arg;

        if (s->step != STEP_NONE && s->step_rc == RED_SINK_OK) {
                s->step_rc = run_step(s, s->step_err, sizeof(s->step_err));
        }
}

/* Runs the pending step now; reports a step that failed during a COPY. */
static red_sink_result_t step_finish(red_sink_t *s, char *errstr, size_t size)
{
        on_idle(s);
        if (s->step_rc) {
                snprintf(errstr, size, "%s", s->step_err);
        }
        return s->step_rc;
}

/* Phase A of the cells (once per write), after the events are applied:
 * the cells are their result. Leaves the merge as the pending step. */
static red_sink_result_t lock_cells(red_sink_t *s, char *errstr, size_t size)
{
        red_sink_result_t r;

        if (s->cells_locked) {
                return RED_SINK_OK;
        }
        if ((r = step_finish(s, errstr, size))) {
                return r;
        }
        s->cells_locked = true;
        if (!s->c->agg_cnt) {
                return RED_SINK_OK;
        }
        if ((r = red_sink_cells_lock(s->cells, s->io, red_core_cells(s->core),
                                     errstr, size))) {
                return r;
        }
        s->step = STEP_MERGE;
        return RED_SINK_OK;
}

/* --- the batch transaction ------------------------------------------ */

/* The raw tables in order: the caller's work runs at the end of the
 * first one's COPY; the cells are locked before the last one, so they
 * merge while Postgres inserts it. */
static red_sink_result_t write_raw(red_sink_t *s, char *errstr, size_t size)
{
        size_t tables;
        red_sink_result_t r;

        r = red_sink_raw_plan(s->raw, s->core, &tables, errstr, size);
        for (size_t i = 0; !r && i < tables; i++) {
                if (i > 0 && i == tables - 1 &&
                    (r = lock_cells(s, errstr, size))) {
                        break;
                }
                r = red_sink_raw_write(s->raw, s->io, i, &s->last_rows, errstr,
                                       size);
        }
        return r;
}

/* The steps of one transaction, in order (red_sink.h). */
static red_sink_result_t write_steps(red_sink_t *s,
                                     const red_sink_offset_t *offs, size_t cnt,
                                     int generation, char *errstr, size_t size)
{
        red_core_t *core = s->core;
        red_sink_result_t r;

        /* the contract's tables are still those the worker runs for, and
         * stay so until the commit (red_sink_schema.h) */
        if ((r = red_sink_schema_check(s->io, s->c, s->schema_gen, errstr,
                                       size))) {
                return r;
        }
        /* the offsets first: a fenced zombie stops before it wrote
         * anything, and its row locks keep the new owner waiting until
         * it is done (red_sink_offsets_advance()) */
        if (cnt && (r = red_sink_offsets_advance(s->io, s->c->consumer_group,
                                                 s->instance, offs, cnt,
                                                 generation, errstr, size))) {
                return r;
        }
        if ((r = red_sink_dedupe_write(s->dedupe, s->io, core, &s->last_rows,
                                       errstr, size)) ||
            (r = write_raw(s, errstr, size)) ||
            (r = lock_cells(s, errstr, size)) ||
            (r = step_finish(s, errstr, size)) ||
            (r = red_sink_fsm_write(s->fsm, s->io, red_core_rows(core),
                                    red_core_workflows(core), &s->last_rows,
                                    errstr, size))) {
                return r;
        }
        red_sink_fsm_outbox(s->fsm, red_core_rows(core), s->out);
        if ((r = red_sink_state_write(s->state, s->io, core, s->out,
                                      &s->last_rows, errstr, size))) {
                return r;
        }
        if ((r = red_sink_cells_store(s->cells, s->io, &s->last_rows, errstr,
                                      size)) ||
            (r = red_sink_walert_write(s->walert, s->io, s->alert, s->out,
                                       s->alertq, errstr, size)) ||
            (r = red_sink_alert_write(s->alert, s->io, red_core_alerts(core),
                                      s->out, s->alertq, &s->last_rows, errstr,
                                      size)) ||
            (r = red_sink_outbox_write(s->out, s->io, errstr, size))) {
                return r;
        }
        return red_sink_alertq_write(s->alertq, s->io, errstr, size);
}

/* One try at the batch's transaction; RED_SINK_PARTITIONS when it needs
 * a partition that is missing (rolled back, nothing written). */
static red_sink_result_t write_once(red_sink_t *s, red_core_t *core,
                                    const red_sink_offset_t *offs, size_t cnt,
                                    int generation, red_sink_work_fn *work,
                                    void *work_arg, char *errstr,
                                    size_t errstr_size)
{
        red_sink_result_t r, w;
        char err[512];

        errstr[0] = '\0';
        s->last_rows = 0;
        s->core = core;
        s->work = work;
        s->work_arg = work_arg;
        s->step = STEP_WORK;
        s->step_rc = RED_SINK_OK;
        s->cells_locked = false;
        red_sink_outbox_reset(s->out);
        red_sink_alertq_reset(s->alertq);
        red_sink_alert_reset(s->alert);
        red_sink_walert_clear(s->walert);
        no_alerts(s);
        if (!red_sink_connected(s)) {
                r = not_connected(errstr, errstr_size);
                goto done;
        }
        if ((r = red_sink_io_run(s->io, "BEGIN", errstr, errstr_size)) ||
            (r = write_steps(s, offs, cnt, generation, errstr, errstr_size))) {
                red_sink_io_rollback(s->io);
                goto done;
        }
        red_failpoint("before_commit");
        if ((r = red_sink_io_run(s->io, "COMMIT", errstr, errstr_size))) {
                /* the outcome is unknown: the offsets CAS decides on the
                 * next attempt, and the seen keys are read again */
                red_sink_dedupe_uncertain(s->dedupe);
                goto done;
        }
        red_sink_dedupe_committed(s->dedupe);
        red_failpoint("after_commit");
        count_alerts(s);
        red_sink_walert_log(s->walert);
        red_sink_alert_log(s->alert, red_core_alerts(core));
done:
        /* the work is done even when the write failed before it: the
         * caller's retry writes the same cells */
        if (s->step == STEP_WORK && (w = run_step(s, err, sizeof(err))) && !r) {
                snprintf(errstr, errstr_size, "%s", err);
                r = w;
        }
        s->step = STEP_NONE;
        s->core = NULL;
        s->work = NULL;
        s->work_arg = NULL;
        red_sink_cells_clear(s->cells);
        red_sink_walert_clear(s->walert);
        return r;
}

/* The daily partitions of the batch's event times, in the tables whose
 * rows carry them (dedupe keys, raw rows, workflow history), created now,
 * before the transaction, when missing. Released events are in time
 * order: one look per day and table, answered by the cache. */
static red_sink_result_t precreate(red_sink_t *s, red_core_t *core,
                                   char *errstr, size_t size)
{
        size_t n = red_core_released(core);
        red_time_t from = 0, to = 0;
        red_sink_result_t r;

        for (size_t i = 0; i < n; i++) {
                const red_event_t *ev = red_core_released_event(core, i);

                if (!ev || (ev->time >= from && ev->time < to)) {
                        continue;
                }
                if ((r = red_sink_dedupe_partition_at(
                             s->dedupe, s->io, ev->time, errstr, size)) ||
                    (r = red_sink_raw_partition_at(s->raw, s->io, ev->time,
                                                   errstr, size)) ||
                    (r = red_sink_fsm_partition_at(s->fsm, s->io, ev->time,
                                                   errstr, size))) {
                        return r;
                }
                from = red_window_start(RED_WINDOW_DAILY, ev->time);
                to = red_window_end(RED_WINDOW_DAILY, from);
        }
        return red_sink_io_create_noted(s->io, errstr, size);
}

/* A new partition (a new day of a daily table, a new month of the cells)
 * is created before the batch's transaction, in its own: inside it,
 * CREATE TABLE ... PARTITION OF would lock the parent table against every
 * other replica's batch (and reader) until the commit. The days of the
 * events are made sure of first (precreate()); a partition found missing
 * later (a month of the cells) rolls the try back, and the batch is
 * written again once it exists. */
red_sink_result_t red_sink_write(red_sink_t *s, red_core_t *core,
                                 const red_sink_offset_t *offs, size_t cnt,
                                 int generation, red_sink_work_fn *work,
                                 void *work_arg, char *errstr,
                                 size_t errstr_size)
{
        red_sink_result_t r;

        /* a failure here fails the try below the same way, which then
         * does the work (the caller counts on it) and reports */
        red_sink_io_defer(s->io, true);
        if (red_sink_connected(s) && precreate(s, core, errstr, errstr_size)) {
                red_log_debug("postgres", "%s: creating partitions: %s",
                              s->c->name, errstr);
        }
        for (int tries = 0;; tries++) {
                red_sink_io_defer(s->io, tries < MAX_PARTITION_TRIES);
                /* the work is done by the first try, whatever its end */
                r = write_once(s, core, offs, cnt, generation,
                               tries ? NULL : work, work_arg, errstr,
                               errstr_size);
                if (r != RED_SINK_PARTITIONS) {
                        break;
                }
                red_log_debug("postgres",
                              "%s: %s: creating it outside the "
                              "batch's transaction",
                              s->c->name, errstr);
                if ((r = red_sink_io_create_noted(s->io, errstr,
                                                  errstr_size))) {
                        break;
                }
        }
        red_sink_io_defer(s->io, false);
        return r;
}
