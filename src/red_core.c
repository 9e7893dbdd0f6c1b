/* red_core - decode, late policy, FSM and aggregation of one batch, no I/O. */
#include "red_core.h"

#include "red_log.h"
#include "red_map.h"
#include "red_window.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_core_s {
        const red_contract_t *c;
        red_workflows_t *wfs;
        red_fsm_engine_t *fsm;
        red_aggregator_t *ag;
        red_fsm_rows_t rows;
        int finest_window; /* smallest window type aggregated, or -1 */

        /* the batch */
        red_event_t *events;
        red_value_t *values; /* events_cap * slot_cnt */
        bool *decoded;       /* per event: decoded (else dead-lettered) */
        size_t event_cnt, event_cap;
        red_dead_letter_t *dead;
        size_t dead_cnt, dead_cap;
        red_uuid_t *missing;
        size_t missing_cnt, missing_cap;
        red_map_t *missing_set;
        red_core_counters_t batch;

        red_watermark_t *wms;
        red_time_t *wm_committed; /* max_time per wms entry at the last commit */
        size_t wm_cnt, wm_cap;
        size_t wm_last; /* cache of the last entry used */

        red_core_counters_t totals;
};

red_core_t *red_core_new(const red_contract_t *c, size_t max_live_workflows,
                         int64_t terminal_ttl_us, char *errstr,
                         size_t errstr_size)
{
        red_core_t *core = calloc(1, sizeof(*core));

        if (!core) {
                goto oom;
        }
        core->c = c;
        core->finest_window = -1;
        for (size_t i = 0; i < c->agg_cnt; i++) {
                int w = __builtin_ctz(c->aggs[i].windows);
                if (core->finest_window < 0 || w < core->finest_window) {
                        core->finest_window = w;
                }
        }
        if (c->fsm) {
                core->wfs = red_workflows_new(max_live_workflows,
                                              terminal_ttl_us,
                                              c->fsm->terminal,
                                              c->remember_cnt);
                if (!core->wfs ||
                    !(core->fsm = red_fsm_engine_new(c, core->wfs))) {
                        goto oom;
                }
        }
        if (!(core->ag = red_aggregator_new(c)) ||
            !(core->missing_set = red_map_new())) {
                goto oom;
        }
        return core;
oom:
        snprintf(errstr, errstr_size, "contract %s: out of memory", c->name);
        red_core_destroy(core);
        return NULL;
}

static void batch_clear(red_core_t *core)
{
        for (size_t i = 0; i < core->event_cnt; i++) {
                if (core->decoded[i]) {
                        red_decode_release(&core->events[i]);
                }
        }
        core->event_cnt = 0;
        for (size_t i = 0; i < core->dead_cnt; i++) {
                free(core->dead[i].detail);
        }
        core->dead_cnt = 0;
        core->missing_cnt = 0;
        red_map_clear(core->missing_set);
        red_fsm_rows_clear(&core->rows);
        red_aggregator_clear(core->ag);
        memset(&core->batch, 0, sizeof(core->batch));
        for (size_t i = 0; i < core->wm_cnt; i++) {
                core->wms[i].changed = false;
        }
}

void red_core_destroy(red_core_t *core)
{
        if (!core) {
                return;
        }
        if (core->ag) {
                batch_clear(core);
        }
        red_fsm_rows_destroy(&core->rows);
        red_aggregator_destroy(core->ag);
        red_fsm_engine_destroy(core->fsm);
        red_workflows_destroy(core->wfs);
        red_map_destroy(core->missing_set);
        for (size_t i = 0; i < core->wm_cnt; i++) {
                free(core->wms[i].topic);
        }
        free(core->wms);
        free(core->wm_committed);
        free(core->events);
        free(core->values);
        free(core->decoded);
        free(core->dead);
        free(core->missing);
        free(core);
}

/* ------------------------------------------------------------------ */
/* watermarks                                                          */
/* ------------------------------------------------------------------ */

static red_watermark_t *wm_find(red_core_t *core, const char *topic,
                                int32_t partition, bool create)
{
        const char *t = topic ? topic : "";
        red_watermark_t *w;

        if (core->wm_last < core->wm_cnt) {
                w = &core->wms[core->wm_last];
                if (w->partition == partition && !strcmp(w->topic, t)) {
                        return w;
                }
        }
        for (size_t i = 0; i < core->wm_cnt; i++) {
                w = &core->wms[i];
                if (w->partition == partition && !strcmp(w->topic, t)) {
                        core->wm_last = i;
                        return w;
                }
        }
        if (!create) {
                return NULL;
        }
        if (core->wm_cnt == core->wm_cap) {
                size_t ncap = core->wm_cap ? core->wm_cap * 2 : 16;
                red_watermark_t *nw = realloc(core->wms, ncap * sizeof(*nw));
                red_time_t *nc;
                if (!nw) {
                        return NULL;
                }
                core->wms = nw;
                nc = realloc(core->wm_committed, ncap * sizeof(*nc));
                if (!nc) {
                        return NULL;
                }
                core->wm_committed = nc;
                core->wm_cap = ncap;
        }
        w = &core->wms[core->wm_cnt];
        memset(w, 0, sizeof(*w));
        if (!(w->topic = strdup(t))) {
                return NULL;
        }
        w->partition = partition;
        w->max_time = INT64_MIN;
        w->watermark = INT64_MIN;
        core->wm_committed[core->wm_cnt] = INT64_MIN;
        core->wm_last = core->wm_cnt++;
        return w;
}

static void wm_advance(red_core_t *core, red_watermark_t *w, red_time_t t)
{
        if (t > w->max_time) {
                w->max_time = t;
                w->watermark = t - core->c->max_out_of_orderness_us;
                w->changed = true;
        }
}

red_watermark_t *red_core_watermarks(red_core_t *core, size_t *cntp)
{
        *cntp = core->wm_cnt;
        return core->wms;
}

red_time_t red_core_watermark(const red_core_t *core, const char *topic,
                              int32_t partition)
{
        red_watermark_t *w = wm_find((red_core_t *)core, topic, partition,
                                     false);

        return w ? w->watermark : INT64_MIN;
}

int red_core_set_watermark(red_core_t *core, const char *topic,
                           int32_t partition, red_time_t watermark)
{
        red_watermark_t *w = wm_find(core, topic, partition, true);

        if (!w) {
                return -ENOMEM;
        }
        w->watermark = watermark;
        w->max_time = watermark == INT64_MIN
                              ? INT64_MIN
                              : watermark + core->c->max_out_of_orderness_us;
        core->wm_committed[w - core->wms] = w->max_time;
        return 0;
}

/* ------------------------------------------------------------------ */
/* the batch                                                           */
/* ------------------------------------------------------------------ */

static int dead_letter(red_core_t *core, const red_msg_t *msg,
                       red_dlq_code_t code, const char *detail)
{
        red_dead_letter_t *d;

        if (core->dead_cnt == core->dead_cap) {
                size_t ncap = core->dead_cap ? core->dead_cap * 2 : 64;
                red_dead_letter_t *nd = realloc(core->dead,
                                                ncap * sizeof(*nd));
                if (!nd) {
                        return -ENOMEM;
                }
                core->dead = nd;
                core->dead_cap = ncap;
        }
        d = &core->dead[core->dead_cnt];
        d->msg = msg;
        d->code = code;
        if (!(d->detail = strdup(detail))) {
                return -ENOMEM;
        }
        core->dead_cnt++;
        core->batch.dead_lettered++;
        core->batch.dead_by_code[code]++;
        return 0;
}

static int grow_events(red_core_t *core)
{
        size_t ncap = core->event_cap ? core->event_cap * 2 : 1024;
        size_t slots = core->c->slot_cnt ? core->c->slot_cnt : 1;
        red_event_t *ne;
        red_value_t *nv;
        bool *nd;

        ne = realloc(core->events, ncap * sizeof(*ne));
        if (!ne) {
                return -ENOMEM;
        }
        core->events = ne;
        nd = realloc(core->decoded, ncap * sizeof(*nd));
        if (!nd) {
                return -ENOMEM;
        }
        core->decoded = nd;
        nv = realloc(core->values, ncap * slots * sizeof(*nv));
        if (!nv) {
                return -ENOMEM;
        }
        core->values = nv;
        /* values moved: re-point the events already decoded */
        for (size_t i = 0; i < core->event_cnt; i++) {
                core->events[i].values = nv + i * slots;
        }
        core->event_cap = ncap;
        return 0;
}

static bool uuid_eq(const void *item, const void *key)
{
        return !red_uuid_cmp(item, key);
}

static int note_missing(red_core_t *core, const red_uuid_t *id)
{
        uint64_t h = red_uuid_hash(id);

        if (red_workflows_get(core->wfs, id) ||
            red_map_find(core->missing_set, h, uuid_eq, id)) {
                return 0;
        }
        if (core->missing_cnt == core->missing_cap) {
                size_t ncap = core->missing_cap ? core->missing_cap * 2 : 256;
                red_uuid_t *nm = realloc(core->missing, ncap * sizeof(*nm));
                if (!nm) {
                        return -ENOMEM;
                }
                /* the set points into the array: rebuild it */
                core->missing = nm;
                core->missing_cap = ncap;
                red_map_clear(core->missing_set);
                for (size_t i = 0; i < core->missing_cnt; i++) {
                        if (red_map_insert(core->missing_set,
                                           red_uuid_hash(&nm[i]), &nm[i])) {
                                return -ENOMEM;
                        }
                }
        }
        core->missing[core->missing_cnt] = *id;
        if (red_map_insert(core->missing_set, h,
                           &core->missing[core->missing_cnt])) {
                return -ENOMEM;
        }
        core->missing_cnt++;
        return 0;
}

int red_core_add(red_core_t *core, const red_msg_t *msg, red_time_t now)
{
        size_t slots = core->c->slot_cnt ? core->c->slot_cnt : 1;
        red_event_t *ev;
        red_dlq_code_t code;
        char detail[512];

        if (core->event_cnt == core->event_cap && grow_events(core)) {
                return -ENOMEM;
        }
        ev = &core->events[core->event_cnt];
        ev->values = core->values + core->event_cnt * slots;
        core->decoded[core->event_cnt] = false;
        core->event_cnt++;
        core->batch.consumed++;
        code = red_decode(core->c, msg, now, ev, detail, sizeof(detail));
        if (code != RED_DLQ_NONE) {
                return dead_letter(core, msg, code, detail);
        }
        core->decoded[core->event_cnt - 1] = true;
        if (core->wfs && core->c->workflow_key_slot >= 0) {
                const red_value_t *v = red_event_value(
                        ev, core->c->workflow_key_slot);
                if (v && v->type == RED_FT_UUID) {
                        return note_missing(core, &v->u);
                }
        }
        return 0;
}

const red_uuid_t *red_core_missing(red_core_t *core, size_t *cntp)
{
        *cntp = core->missing_cnt;
        return core->missing;
}

red_workflows_t *red_core_workflows(red_core_t *core)
{
        return core->wfs;
}

/* Late check of one event; returns true when it is to be applied. */
static int late_policy(red_core_t *core, red_event_t *ev,
                       red_watermark_t *w, bool *apply)
{
        const red_contract_t *c = core->c;
        red_time_t end;
        char detail[256], t1[RED_TIME_FMT_SIZE], t2[RED_TIME_FMT_SIZE];

        *apply = true;
        if (core->finest_window < 0 || w->watermark == INT64_MIN) {
                return 0;
        }
        end = red_window_end((red_window_type_t)core->finest_window,
                             red_window_start(
                                     (red_window_type_t)core->finest_window,
                                     ev->time));
        if (end + c->grace_us > w->watermark) {
                return 0; /* its windows are still open */
        }
        red_time_format(ev->time, t1, sizeof(t1));
        red_time_format(w->watermark, t2, sizeof(t2));
        switch (c->late_policy) {
        case RED_LATE_DROP:
                *apply = false;
                core->batch.late_dropped++;
                return 0;
        case RED_LATE_UPDATE:
                if (ev->time >= w->watermark - c->allowed_lateness_us) {
                        core->batch.late_applied++;
                        return 0;
                }
                snprintf(detail, sizeof(detail),
                         "event time %s is more than allowed_lateness "
                         "behind the watermark %s of %s[%d]",
                         t1, t2, w->topic, (int)w->partition);
                break;
        default:
                snprintf(detail, sizeof(detail),
                         "event time %s is behind the watermark %s of "
                         "%s[%d] and its window is closed",
                         t1, t2, w->topic, (int)w->partition);
                break;
        }
        *apply = false;
        return dead_letter(core, ev->msg, RED_DLQ_LATE, detail);
}

int red_core_process(red_core_t *core)
{
        for (size_t i = 0; i < core->event_cnt; i++) {
                red_event_t *ev = &core->events[i];
                red_watermark_t *w;
                bool apply;
                int r;

                if (!core->decoded[i]) {
                        continue;
                }
                w = wm_find(core, ev->msg->topic, ev->msg->partition, true);
                if (!w) {
                        return -ENOMEM;
                }
                if ((r = late_policy(core, ev, w, &apply))) {
                        return r;
                }
                if (!apply) {
                        continue;
                }
                if (core->fsm &&
                    (r = red_fsm_engine_apply(core->fsm, ev, &core->rows))) {
                        return r;
                }
                if ((r = red_aggregator_apply(core->ag, ev))) {
                        return r;
                }
                wm_advance(core, w, ev->time);
                core->batch.applied++;
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

const red_dead_letter_t *red_core_dead_letters(const red_core_t *core,
                                               size_t *cntp)
{
        *cntp = core->dead_cnt;
        return core->dead;
}

size_t red_core_batch_size(const red_core_t *core)
{
        return core->event_cnt;
}

void red_core_commit(red_core_t *core)
{
        red_time_t newest = INT64_MIN;
        uint64_t *tot = (uint64_t *)&core->totals;
        const uint64_t *add = (const uint64_t *)&core->batch;

        /* FSM results count the history rows that were written */
        for (size_t i = 0; i < core->rows.cnt; i++) {
                core->batch.fsm_results[core->rows.items[i].result]++;
        }

        for (size_t i = 0; i < sizeof(core->totals) / sizeof(uint64_t); i++) {
                tot[i] += add[i];
        }
        for (size_t i = 0; i < core->wm_cnt; i++) {
                core->wm_committed[i] = core->wms[i].max_time;
                if (core->wms[i].max_time > newest) {
                        newest = core->wms[i].max_time;
                }
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
        for (size_t i = 0; i < core->wm_cnt; i++) {
                red_watermark_t *w = &core->wms[i];
                w->max_time = core->wm_committed[i];
                w->watermark = w->max_time == INT64_MIN
                                       ? INT64_MIN
                                       : w->max_time -
                                                 core->c->max_out_of_orderness_us;
        }
        if (core->wfs) {
                red_workflows_rollback(core->wfs);
        }
        batch_clear(core);
}

const red_core_counters_t *red_core_counters(const red_core_t *core)
{
        return &core->totals;
}

const red_contract_t *red_core_contract(const red_core_t *core)
{
        return core->c;
}
