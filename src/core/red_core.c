/* red_core - decode, late policy, event-time reordering, FSM and aggregation;
 * no I/O. */
#include "red_core.h"

#include "red_core_keys.h"
#include "red_dmetrics.h"
#include "red_log.h"
#include "red_map.h"
#include "red_rows.h"
#include "red_window.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

red_core_t *red_core_new(const red_contract_t *c, size_t max_live_workflows,
                         int64_t terminal_ttl_us, red_core_done_cb *done,
                         void *done_arg, char *errstr, size_t errstr_size)
{
        red_core_t *core = calloc(1, sizeof(*core));

        if (!core) {
                goto oom;
        }
        core->c = c;
        core->done = done;
        core->done_arg = done_arg;
        core->entry_size = sizeof(entry_t) + (c->slot_cnt ? c->slot_cnt : 1) *
                                                     sizeof(red_value_t);
        if (c->fsm) {
                core->wfs =
                        red_workflows_new(max_live_workflows, terminal_ttl_us,
                                          c->fsm->terminal, c->remember_cnt);
                if (!core->wfs ||
                    !(core->fsm = red_fsm_engine_new(c, core->wfs))) {
                        goto oom;
                }
        }
        if (c->state_cnt &&
            !(core->states = calloc(c->state_cnt, sizeof(*core->states)))) {
                goto oom;
        }
        for (size_t i = 0; i < c->state_cnt; i++) {
                size_t max = max_live_workflows < RED_CORE_STATE_ROWS
                                     ? max_live_workflows
                                     : RED_CORE_STATE_ROWS;
                if (max_live_workflows >= SIZE_MAX / 4) {
                        max = 0; /* `reduce`: every row stays */
                }
                if (!(core->states[i] =
                              red_state_table_new(c, &c->states[i], max))) {
                        goto oom;
                }
        }
        if (!(core->ag = red_aggregator_new(c)) ||
            !(core->dm = red_dmetrics_new(c)) ||
            !(core->missing_set = red_map_new()) || red_core_keys_init(core) ||
            !(core->refused = red_refusals_new())) {
                goto oom;
        }
        return core;
oom:
        snprintf(errstr, errstr_size, "contract %s: out of memory", c->name);
        red_core_destroy(core);
        return NULL;
}

/* ------------------------------------------------------------------ */
/* entries and partitions                                              */
/* ------------------------------------------------------------------ */

static entry_t *entry_new(red_core_t *core)
{
        entry_t *e = core->free_list;

        if (e) {
                core->free_list = e->next;
        } else if (!(e = malloc(core->entry_size))) {
                return NULL;
        }
        memset(e, 0, sizeof(*e));
        e->ev.values = e->values;
        return e;
}

/* Hands the message back and recycles the entry. */
static void entry_done(red_core_t *core, entry_t *e)
{
        if (e->decoded) {
                red_decode_release(&e->ev);
        }
        if (core->done) {
                core->done(e->opaque, core->done_arg);
        }
        e->next = core->free_list;
        core->free_list = e;
}

static part_t *part_find(red_core_t *core, const char *topic, int32_t partition,
                         bool create)
{
        const char *t = topic ? topic : "";
        part_t *p;

        if (core->last_part < core->part_cnt) {
                p = &core->parts[core->last_part];
                if (p->partition == partition && !strcmp(p->topic, t)) {
                        return p;
                }
        }
        for (size_t i = 0; i < core->part_cnt; i++) {
                p = &core->parts[i];
                if (p->partition == partition && !strcmp(p->topic, t)) {
                        core->last_part = i;
                        return p;
                }
        }
        if (!create) {
                return NULL;
        }
        if (core->part_cnt == core->part_cap) {
                size_t ncap = core->part_cap ? core->part_cap * 2 : 16;
                part_t *np = realloc(core->parts, ncap * sizeof(*np));
                red_position_t *npos;
                if (!np) {
                        return NULL;
                }
                core->parts = np;
                npos = realloc(core->positions, ncap * sizeof(*npos));
                if (!npos) {
                        return NULL;
                }
                core->positions = npos;
                core->part_cap = ncap;
        }
        p = &core->parts[core->part_cnt];
        memset(p, 0, sizeof(*p));
        if (!(p->topic = strdup(t))) {
                return NULL;
        }
        p->partition = partition;
        p->max_time = p->committed_max = INT64_MIN;
        p->next_offset = -1;
        p->position = -1;
        core->last_part = core->part_cnt++;
        return p;
}

/* The oldest buffered urgent event, after some of them went. */
void red_core_urgent_recompute(red_core_t *core)
{
        core->urgent_min = INT64_MAX;
        for (size_t i = 0; core->urgent_cnt && i < core->part_cnt; i++) {
                for (entry_t *e = core->parts[i].head; e; e = e->next) {
                        if (e->urgent && e->ev.time < core->urgent_min) {
                                core->urgent_min = e->ev.time;
                        }
                }
        }
}

/* Drops every entry of @p p (they will be consumed again). */
static void part_clear(red_core_t *core, part_t *p)
{
        entry_t *e = p->head, *next;

        for (; e; e = next) {
                next = e->next;
                if (e->state == E_BUFFERED) {
                        core->buffered--;
                }
                if (e->urgent) {
                        e->urgent = false;
                        core->urgent_cnt--;
                }
                entry_done(core, e);
        }
        p->head = p->tail = NULL;
        p->buffered = 0;
        p->max_time = p->committed_max;
        p->next_offset = -1;
        p->position = -1;
        p->touched = false;
}

/* ------------------------------------------------------------------ */
/* the batch                                                           */
/* ------------------------------------------------------------------ */

static void batch_clear(red_core_t *core)
{
        core->released_cnt = 0;
        core->added = 0;
        for (size_t i = 0; i < core->dead_cnt; i++) {
                free(core->dead[i].detail);
        }
        core->dead_cnt = 0;
        core->missing_cnt = 0;
        core->position_cnt = 0;
        red_map_clear(core->missing_set);
        red_core_keys_clear(core);
        red_fsm_rows_clear(&core->rows);
        red_aggregator_clear(core->ag);
        core->alerts.cnt = 0;
        memset(&core->batch, 0, sizeof(core->batch));
}

void red_core_destroy(red_core_t *core)
{
        entry_t *e, *next;

        if (!core) {
                return;
        }
        for (size_t i = 0; i < core->part_cnt; i++) {
                part_clear(core, &core->parts[i]);
                free(core->parts[i].topic);
        }
        if (core->ag) {
                batch_clear(core);
        }
        for (e = core->free_list; e; e = next) {
                next = e->next;
                free(e);
        }
        red_fsm_rows_destroy(&core->rows);
        free(core->alerts.items);
        for (size_t i = 0; core->states && i < core->c->state_cnt; i++) {
                red_state_table_destroy(core->states[i]);
        }
        free(core->states);
        red_aggregator_destroy(core->ag);
        red_dmetrics_destroy(core->dm);
        red_fsm_engine_destroy(core->fsm);
        red_workflows_destroy(core->wfs);
        red_map_destroy(core->missing_set);
        red_core_keys_destroy(core);
        red_refusals_destroy(core->refused);
        free(core->parts);
        free(core->positions);
        free(core->released);
        free(core->dead);
        free(core->missing);
        free(core);
}

/* @p e goes to the dead-letter topic with @p code and @p detail. */
static int dead_letter(red_core_t *core, entry_t *e, red_dlq_code_t code,
                       const char *detail)
{
        red_dead_letter_t *d;

        if (core->dead_cnt == core->dead_cap) {
                size_t ncap = core->dead_cap ? core->dead_cap * 2 : 64;
                red_dead_letter_t *nd = realloc(core->dead, ncap * sizeof(*nd));
                if (!nd) {
                        return -ENOMEM;
                }
                core->dead = nd;
                core->dead_cap = ncap;
        }
        d = &core->dead[core->dead_cnt];
        d->msg = &e->msg;
        d->code = code;
        if (!(d->detail = strdup(detail))) {
                return -ENOMEM;
        }
        core->dead_cnt++;
        e->outcome = O_DEAD;
        e->code = (uint8_t)code;
        return 0;
}

/*
 * The earliest end of the windows an event at @p t falls in: per
 * aggregation the end of its finest window, in its time zone (hours nest
 * in days, days in weeks and months, so the finest closes first).
 */
static red_time_t first_window_end(const red_contract_t *c, red_time_t t)
{
        red_time_t first = INT64_MAX;

        for (size_t i = 0; i < c->agg_cnt; i++) {
                const red_agg_t *a = &c->aggs[i];
                red_window_type_t fw =
                        (red_window_type_t)__builtin_ctz(a->windows);
                red_time_t end = red_window_end_tz(
                        fw, red_window_start_tz(fw, t, a->tz), a->tz);
                if (end < first) {
                        first = end;
                }
        }
        return first;
}

/* A partition's watermark: its newest event time @p max (not INT64_MIN)
 * minus max_out_of_orderness, never before the first instant stored (a
 * long max_out_of_orderness could take it to year 0000, which PostgreSQL
 * refuses). */
static red_time_t watermark_of(const red_core_t *core, red_time_t max)
{
        int64_t ooo = core->c->max_out_of_orderness_us;

        return max < RED_TIME_STORE_MIN + ooo ? RED_TIME_STORE_MIN : max - ooo;
}

/* The late policy at arrival; *apply false when the event is not applied. */
static int late_policy(red_core_t *core, entry_t *e, part_t *p, bool *apply)
{
        const red_contract_t *c = core->c;
        red_time_t wm, end;
        char detail[256], t1[RED_TIME_FMT_SIZE], t2[RED_TIME_FMT_SIZE];

        *apply = true;
        if (!c->agg_cnt || p->max_time == INT64_MIN) {
                return 0;
        }
        wm = watermark_of(core, p->max_time);
        end = first_window_end(c, e->ev.time);
        if (end + c->grace_us > wm) {
                return 0; /* its windows are still open */
        }
        red_time_format(e->ev.time, t1, sizeof(t1));
        red_time_format(wm, t2, sizeof(t2));
        switch (c->late_policy) {
        case RED_LATE_DROP:
                *apply = false;
                e->outcome = O_DROPPED;
                return 0;
        case RED_LATE_UPDATE:
                if (e->ev.time >= wm - c->allowed_lateness_us) {
                        e->late = true;
                        return 0;
                }
                snprintf(detail, sizeof(detail),
                         "event time %s is more than allowed_lateness "
                         "behind the watermark %s of %s[%d]",
                         t1, t2, p->topic, (int)p->partition);
                break;
        default:
                snprintf(detail, sizeof(detail),
                         "event time %s is behind the watermark %s of "
                         "%s[%d] and its window is closed",
                         t1, t2, p->topic, (int)p->partition);
                break;
        }
        *apply = false;
        return dead_letter(core, e, RED_DLQ_LATE, detail);
}

int red_core_add(red_core_t *core, const red_msg_t *msg, red_time_t now,
                 void *opaque)
{
        entry_t *e = entry_new(core);
        part_t *p = part_find(core, msg->topic, msg->partition, true);
        red_dlq_code_t code;
        const char *refused;
        char detail[512];
        bool apply;
        int r = 0;

        if (!e || !p) {
                free(e);
                return -ENOMEM;
        }
        e->msg = *msg;
        e->opaque = opaque;
        e->state = E_DONE;
        if (p->tail) {
                p->tail->next = e;
        } else {
                p->head = e;
        }
        p->tail = e;
        p->next_offset = msg->offset + 1;
        p->touched = true;
        core->added++;

        if ((refused = red_refusals_find(core->refused, p->topic,
                                         msg->partition, msg->offset))) {
                /* storage refused its event before: red_core_refuse() */
                return dead_letter(core, e, RED_DLQ_STORAGE_REJECTED, refused);
        }
        code = red_decode(core->c, &e->msg, now, &e->ev, detail,
                          sizeof(detail));
        if (code != RED_DLQ_NONE) {
                return dead_letter(core, e, code, detail);
        }
        e->decoded = true;
        if ((r = late_policy(core, e, p, &apply)) || !apply) {
                return r;
        }
        if (e->ev.time > p->max_time) {
                p->max_time = e->ev.time;
        }
        e->state = E_BUFFERED;
        p->buffered++;
        core->buffered++;
        if (core->c->alerts && red_alert_critical(core->c->alerts, &e->ev)) {
                /* the pipeline writes it as soon as the frontier lets */
                e->urgent = true;
                if (!core->urgent_cnt++ || e->ev.time < core->urgent_min) {
                        core->urgent_min = e->ev.time;
                }
        }
        return 0;
}

red_time_t red_core_urgent(const red_core_t *core)
{
        return core->urgent_cnt ? core->urgent_min : INT64_MAX;
}

red_time_t red_core_max_time(const red_core_t *core, const char *topic,
                             int32_t partition)
{
        part_t *p = part_find((red_core_t *)core, topic, partition, false);

        return p ? p->max_time : INT64_MIN;
}

size_t red_core_buffered(const red_core_t *core)
{
        return core->buffered;
}

size_t red_core_part_buffered(const red_core_t *core, const char *topic,
                              int32_t partition)
{
        part_t *p = part_find((red_core_t *)core, topic, partition, false);

        return p ? p->buffered : 0;
}

const red_core_raw_key_t *red_core_raw_keys(const red_core_t *core,
                                            size_t *cntp)
{
        *cntp = core->key_cnt;
        return core->keys;
}

void red_core_raw_stored(red_core_t *core, size_t i)
{
        if (i < core->key_cnt) {
                core->released[core->keys[i].entry]->duplicate = true;
        }
}

const red_core_dedupe_key_t *red_core_dedupe_keys(const red_core_t *core,
                                                  size_t *cntp)
{
        *cntp = core->dkey_cnt;
        return core->dkeys;
}

void red_core_dedupe_seen(red_core_t *core, size_t i)
{
        if (i < core->dkey_cnt) {
                core->released[core->dkeys[i].entry]->duplicate = true;
        }
}

const red_uuid_t *red_core_missing(red_core_t *core, size_t *cntp)
{
        *cntp = core->missing_cnt;
        return core->missing;
}

red_state_table_t **red_core_states(red_core_t *core, size_t *cntp)
{
        *cntp = core->c->state_cnt;
        return core->states;
}

red_workflows_t *red_core_workflows(red_core_t *core)
{
        return core->wfs;
}

int red_core_process(red_core_t *core)
{
        for (size_t i = 0; i < core->released_cnt; i++) {
                entry_t *e = core->released[i];
                int r;

                if (e->outcome != O_NONE) {
                        continue; /* processed by an earlier call */
                }
                if (e->duplicate) {
                        e->outcome = O_DUPLICATE;
                        continue;
                }
                if (core->fsm && (r = red_fsm_engine_apply(core->fsm, &e->ev,
                                                           &core->rows))) {
                        return r;
                }
                if ((r = red_aggregator_apply(core->ag, &e->ev))) {
                        return r;
                }
                if (core->c->alerts &&
                    (r = red_alert_evaluate(core->c->alerts, &e->ev,
                                            &core->alerts))) {
                        return r;
                }
                for (size_t k = 0; k < core->c->state_cnt; k++) {
                        if ((r = red_state_table_apply(core->states[k],
                                                       &e->ev))) {
                                return r;
                        }
                }
                red_dmetrics_event(core->dm, &e->ev);
                e->outcome = O_APPLIED;
        }
        return 0;
}

red_aggregator_t *red_core_cells(red_core_t *core)
{
        return core->ag;
}

red_fsm_rows_t *red_core_rows(red_core_t *core)
{
        return &core->rows;
}

red_alert_matches_t *red_core_alerts(red_core_t *core)
{
        return &core->alerts;
}

const red_event_t *red_core_released_event(const red_core_t *core, size_t i)
{
        return core->released[i]->duplicate ? NULL : &core->released[i]->ev;
}

const red_dead_letter_t *red_core_dead_letters(const red_core_t *core,
                                               size_t *cntp)
{
        *cntp = core->dead_cnt;
        return core->dead;
}

size_t red_core_batch_size(const red_core_t *core)
{
        return core->added;
}

size_t red_core_released(const red_core_t *core)
{
        return core->released_cnt;
}

/* The first entry still buffered, or NULL. */
entry_t *red_core_first_buffered(const part_t *p)
{
        for (entry_t *e = p->head; e && p->buffered; e = e->next) {
                if (e->state == E_BUFFERED) {
                        return e;
                }
        }
        return NULL;
}

uint64_t red_core_msg_digest(const red_msg_t *msg)
{
        uint64_t h = red_map_hash_mix(0x7265647563657264ULL, /* "reducerd" */
                                      (uint64_t)msg->timestamp);

        h = red_map_hash_bytes(msg->key, msg->key ? msg->key_len : 0, h);
        return red_map_hash_bytes(msg->value, msg->value ? msg->value_len : 0,
                                  h);
}

const red_position_t *red_core_positions(red_core_t *core, size_t *cntp)
{
        core->position_cnt = 0;
        for (size_t i = 0; i < core->part_cnt; i++) {
                part_t *p = &core->parts[i];
                entry_t *stop = red_core_first_buffered(p);
                red_time_t max = p->committed_max;
                red_position_t *pos;
                const entry_t *last = NULL;

                int64_t offset = stop ? stop->msg.offset : p->next_offset;

                /* a partition moves when it got messages or when events
                 * buffered earlier were released */
                if (p->next_offset < 0 ||
                    (!p->touched && offset == p->position)) {
                        continue;
                }
                for (entry_t *e = p->head; e != stop; e = e->next) {
                        if (e->decoded && e->ev.time > max) {
                                max = e->ev.time;
                        }
                        last = e;
                }
                pos = &core->positions[core->position_cnt++];
                pos->topic = p->topic;
                pos->partition = p->partition;
                pos->offset = offset;
                pos->watermark =
                        max == INT64_MIN ? INT64_MIN : watermark_of(core, max);
                pos->last_offset = last ? last->msg.offset : -1;
                pos->last_digest = last ? red_core_msg_digest(&last->msg) : 0;
        }
        *cntp = core->position_cnt;
        return core->positions;
}

int red_core_set_watermark(red_core_t *core, const char *topic,
                           int32_t partition, red_time_t watermark)
{
        part_t *p = part_find(core, topic, partition, true);

        if (!p) {
                return -ENOMEM;
        }
        p->committed_max =
                watermark == INT64_MIN
                        ? INT64_MIN
                        : watermark + core->c->max_out_of_orderness_us;
        part_clear(core, p);
        red_core_urgent_recompute(core);
        /* another worker may have changed this partition's rows */
        for (size_t k = 0; k < core->c->state_cnt; k++) {
                red_state_table_forget(core->states[k]);
        }
        return 0;
}

void red_core_drop_partition(red_core_t *core, const char *topic,
                             int32_t partition)
{
        part_t *p = part_find(core, topic, partition, false);

        /* workflows the FSM stores come back from Postgres as the next
         * owner left them (their totals, their state) */
        if (core->c->fsm) {
                red_workflows_drop_partition(core->wfs, partition);
        }
        if (p) {
                part_clear(core, p);
                red_core_urgent_recompute(core);
                red_refusals_forget(core->refused, p->topic, p->partition,
                                    INT64_MAX);
        }
}

/* Counts a message whose position is committed: consumed, and what became
 * of it. A message with no outcome is consumed and nothing else, so the
 * counters show it instead of balancing by construction. */
static void count_done(red_core_counters_t *k, const entry_t *e)
{
        k->consumed++;
        switch (e->outcome) {
        case O_APPLIED:
                k->applied++;
                k->late_applied += e->late;
                break;
        case O_DUPLICATE:
                k->duplicates++;
                break;
        case O_DEAD:
                k->dead_lettered++;
                k->dead_by_code[e->code]++;
                break;
        case O_DROPPED:
                k->late_dropped++;
                break;
        default:
                break;
        }
}

int red_core_refuse(red_core_t *core, const red_msg_t *msg, const char *detail)
{
        return red_refusals_add(core->refused, msg->topic ? msg->topic : "",
                                msg->partition, msg->offset, detail);
}

void red_core_commit(red_core_t *core)
{
        uint64_t *tot = (uint64_t *)&core->totals;
        const uint64_t *add = (const uint64_t *)&core->batch;
        red_time_t newest = INT64_MIN;

        /* FSM results count the history rows that were written */
        for (size_t i = 0; i < core->rows.cnt; i++) {
                core->batch.fsm_results[core->rows.items[i].result]++;
        }
        red_dmetrics_rows(core->dm, &core->rows);
        red_dmetrics_commit(core->dm);
        /* entries before each position are done: count them, each once
         * whichever replica commits its position, and hand them back */
        for (size_t i = 0; i < core->part_cnt; i++) {
                part_t *p = &core->parts[i];
                entry_t *stop = red_core_first_buffered(p);

                if (p->next_offset >= 0) {
                        p->position = stop ? stop->msg.offset : p->next_offset;
                        red_refusals_forget(core->refused, p->topic,
                                            p->partition, p->position);
                }

                while (p->head && p->head->state != E_BUFFERED) {
                        entry_t *e = p->head;
                        if (e->decoded && e->ev.time > p->committed_max) {
                                p->committed_max = e->ev.time;
                        }
                        count_done(&core->batch, e);
                        p->head = e->next;
                        entry_done(core, e);
                }
                if (!p->head) {
                        p->tail = NULL;
                }
                p->touched = false;
                if (p->max_time > newest) {
                        newest = p->max_time;
                }
        }
        for (size_t i = 0; i < sizeof(core->totals) / sizeof(uint64_t); i++) {
                tot[i] += add[i];
        }
        for (size_t k = 0; k < core->c->state_cnt; k++) {
                red_state_table_commit(core->states[k]);
        }
        if (core->wfs) {
                red_workflows_commit(core->wfs);
                if (newest != INT64_MIN) {
                        red_workflows_evict(core->wfs, newest);
                }
        }
        batch_clear(core);
}

void red_core_rollback(red_core_t *core)
{
        for (size_t i = 0; i < core->part_cnt; i++) {
                part_clear(core, &core->parts[i]);
        }
        red_core_urgent_recompute(core);
        if (core->wfs) {
                red_workflows_rollback(core->wfs);
        }
        for (size_t k = 0; k < core->c->state_cnt; k++) {
                red_state_table_rollback(core->states[k]);
        }
        red_dmetrics_rollback(core->dm);
        batch_clear(core);
}

const red_core_counters_t *red_core_counters(const red_core_t *core)
{
        return &core->totals;
}

const double *red_core_metrics(const red_core_t *core)
{
        return red_dmetrics_totals(core->dm);
}

const red_contract_t *red_core_contract(const red_core_t *core)
{
        return core->c;
}
