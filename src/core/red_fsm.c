/* red_fsm - workflow state machine: triggers, checks, history rows. */
#include "red_fsm.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_fsm_engine_s {
        const red_contract_t *c;
        const red_fsm_t *fsm; /* NULL: enrichment only */
        red_workflows_t *wfs;
        int key_slot; /* -1: the engine does nothing */
        /*
         * Lookup tables built once from the transitions (the loader
         * guarantees at most one transition per (from, event) and per
         * (from, to)): transition index or -1.
         */
        int *by_from_event; /* [state * event_cnt + event] */
        int *by_from_to;    /* [from * state_cnt + to] */
        int *first_to;      /* [event]: `to` of the first transition with it */
        uint64_t counters[RED_FSM__CNT];
        uint64_t initialized;
};

static const char *const result_names[RED_FSM__CNT] = {
        [RED_FSM_ACCEPTED] = "accepted",
        [RED_FSM_NOT_FOUND] = "not_found",
        [RED_FSM_INVALID_TRANSITION] = "invalid_transition",
        [RED_FSM_WRONG_EVENT] = "wrong_event",
        [RED_FSM_GUARD_FAILED] = "guard_failed",
        [RED_FSM_ALREADY_INITIALIZED] = "already_initialized",
        [RED_FSM_INVALID_STATE] = "invalid_state",
};

const char *red_fsm_result_name(red_fsm_result_t r)
{
        return (unsigned)r < RED_FSM__CNT ? result_names[r] : NULL;
}

/*
 * ------------------------------------------------------------------------
 * Rows
 * ------------------------------------------------------------------------
 */

static void row_free(red_fsm_row_t *row)
{
        free(row->event);
        free(row->reason);
        json_decref(row->metadata);
        row->event = row->reason = NULL;
        row->metadata = NULL;
}

void red_fsm_rows_clear(red_fsm_rows_t *rows)
{
        for (size_t i = 0; i < rows->cnt; i++) {
                row_free(&rows->items[i]);
        }
        rows->cnt = 0;
}

void red_fsm_rows_destroy(red_fsm_rows_t *rows)
{
        if (!rows) {
                return;
        }
        red_fsm_rows_clear(rows);
        free(rows->items);
        rows->items = NULL;
        rows->cap = 0;
}

/* Moves *row into the vector (ownership too), or -ENOMEM leaving it. */
static int rows_push(red_fsm_rows_t *rows, red_fsm_row_t *row)
{
        if (rows->cnt == rows->cap) {
                size_t cap = rows->cap ? rows->cap * 2 : 64;
                red_fsm_row_t *n = realloc(rows->items, cap * sizeof(*n));
                if (!n) {
                        return -ENOMEM;
                }
                rows->items = n;
                rows->cap = cap;
        }
        rows->items[rows->cnt++] = *row;
        return 0;
}

/*
 * ------------------------------------------------------------------------
 * Engine
 * ------------------------------------------------------------------------
 */

red_fsm_engine_t *red_fsm_engine_new(const red_contract_t *c,
                                     red_workflows_t *wfs)
{
        const red_fsm_t *fsm = c->fsm;
        red_fsm_engine_t *e;
        size_t sc, ec;

        if (c->remember_cnt > red_workflows_remember_cnt(wfs) ||
            c->total_cnt > RED_WF_MAX_TOTALS) {
                return NULL;
        }
        if (!(e = calloc(1, sizeof(*e)))) {
                return NULL;
        }
        e->c = c;
        e->fsm = fsm;
        e->wfs = wfs;
        e->key_slot = fsm ? fsm->key_slot : c->workflow_key_slot;
        if (!fsm) {
                return e;
        }
        sc = fsm->state_cnt;
        ec = fsm->event_cnt;
        e->by_from_event = malloc((sc * ec + 1) * sizeof(int));
        e->by_from_to = malloc((sc * sc + 1) * sizeof(int));
        e->first_to = malloc((ec + 1) * sizeof(int));
        if (!e->by_from_event || !e->by_from_to || !e->first_to) {
                red_fsm_engine_destroy(e);
                return NULL;
        }
        for (size_t i = 0; i < sc * ec; i++) {
                e->by_from_event[i] = -1;
        }
        for (size_t i = 0; i < sc * sc; i++) {
                e->by_from_to[i] = -1;
        }
        for (size_t i = 0; i < ec; i++) {
                e->first_to[i] = -1;
        }
        for (size_t k = 0; k < fsm->transition_cnt; k++) {
                const red_transition_t *tr = &fsm->transitions[k];
                for (size_t s = 0; s < sc; s++) {
                        if (!(tr->from >> s & 1u)) {
                                continue;
                        }
                        if (e->by_from_event[s * ec + tr->event] < 0) {
                                e->by_from_event[s * ec + tr->event] = (int)k;
                        }
                        if (e->by_from_to[s * sc + tr->to] < 0) {
                                e->by_from_to[s * sc + tr->to] = (int)k;
                        }
                }
                if (e->first_to[tr->event] < 0) {
                        e->first_to[tr->event] = tr->to;
                }
        }
        return e;
}

void red_fsm_engine_destroy(red_fsm_engine_t *e)
{
        if (!e) {
                return;
        }
        free(e->by_from_event);
        free(e->by_from_to);
        free(e->first_to);
        free(e);
}

const uint64_t *red_fsm_engine_counters(const red_fsm_engine_t *e)
{
        return e->counters;
}

uint64_t red_fsm_engine_initialized(const red_fsm_engine_t *e)
{
        return e->initialized;
}

/*
 * ------------------------------------------------------------------------
 * Matching and guards
 * ------------------------------------------------------------------------
 */

static const red_value_t *value_of(const red_event_t *ev, int slot)
{
        return slot >= 0 ? red_event_value(ev, slot) : NULL;
}

/* `when` equality; a missing value never equals. */
static bool cond_holds(const red_cond_t *cd, const red_value_t *v)
{
        const red_const_t *k = &cd->value;

        if (!v) {
                return false;
        }
        switch (k->type) {
        case RED_FT_BOOLEAN:
                return v->type == RED_FT_BOOLEAN && v->b == k->b;
        case RED_FT_INTEGER:
                if (v->type == RED_FT_INTEGER) {
                        return v->i == k->i;
                }
                return v->type == RED_FT_NUMBER && v->d == (double)k->i;
        case RED_FT_NUMBER:
                if (v->type == RED_FT_NUMBER) {
                        return v->d == k->d;
                }
                return v->type == RED_FT_INTEGER && (double)v->i == k->d;
        case RED_FT_STRING:
                return v->type == RED_FT_STRING && k->s &&
                       v->s.len == strlen(k->s) &&
                       !memcmp(v->s.p, k->s, v->s.len);
        default:
                return false;
        }
}

static bool trigger_matches(const red_trigger_t *t, const red_event_t *ev)
{
        if (!(t->on >> ev->kind->index & 1u)) {
                return false;
        }
        for (size_t i = 0; i < t->when_cnt; i++) {
                if (!cond_holds(&t->when[i], value_of(ev, t->when[i].slot))) {
                        return false;
                }
        }
        return true;
}

/* Python truthiness of a JSON value. */
static bool json_truthy(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return json_object_size(v) > 0;
        case JSON_ARRAY:
                return json_array_size(v) > 0;
        case JSON_STRING:
                return json_string_length(v) > 0;
        case JSON_INTEGER:
                return json_integer_value(v) != 0;
        case JSON_REAL:
                return json_real_value(v) != 0.0;
        case JSON_TRUE:
                return true;
        default:
                return false;
        }
}

static bool const_truthy(const red_const_t *k)
{
        switch (k->type) {
        case RED_FT_BOOLEAN:
                return k->b;
        case RED_FT_INTEGER:
                return k->i != 0;
        case RED_FT_NUMBER:
                return k->d != 0.0;
        default:
                return k->s && *k->s;
        }
}

static const json_t *payload_metadata(const red_event_t *ev)
{
        json_t *m;

        if (!json_is_object(ev->payload)) {
                return NULL;
        }
        m = json_object_get(ev->payload, "metadata");
        return json_is_object(m) ? m : NULL;
}

/*
 * A guard holds when the first place that has the key - envelope metadata,
 * payload metadata, payload, the trigger's `set` - has a truthy value
 * there (a present false or null is not overridden by a later source).
 */
static bool guard_holds(const red_trigger_t *t, const red_event_t *ev,
                        const char *key)
{
        const json_t *src[3] = {
                json_is_object(ev->metadata) ? ev->metadata : NULL,
                payload_metadata(ev),
                json_is_object(ev->payload) ? ev->payload : NULL,
        };

        for (size_t i = 0; i < 3; i++) {
                json_t *v;
                if (src[i] && (v = json_object_get(src[i], key))) {
                        return json_truthy(v);
                }
        }
        for (size_t i = 0; i < t->set_cnt; i++) {
                if (!strcmp(t->set_keys[i], key)) {
                        return const_truthy(&t->set_values[i]);
                }
        }
        return false;
}

/*
 * ------------------------------------------------------------------------
 * Applying
 * ------------------------------------------------------------------------
 */

/* Marks wf changed by ev: dirty first (so an OOM leaves it unchanged). */
static int wf_touch(red_fsm_engine_t *e, red_wf_t *wf, const red_event_t *ev)
{
        int r = red_workflows_touch(e->wfs, wf);

        if (r) {
                return r;
        }
        if (ev->time > wf->last_event_time) {
                wf->last_event_time = ev->time;
        }
        wf->partition = ev->msg ? ev->msg->partition : -1;
        return 0;
}

static int do_initialize(red_fsm_engine_t *e, const red_trigger_t *t,
                         const red_event_t *ev, const red_uuid_t *id,
                         red_wf_t **wfp)
{
        const red_fsm_t *fsm = e->fsm;
        red_wf_t *wf = *wfp;
        const red_value_t *v;
        int state = fsm->initial, r;

        if (wf && wf->state != RED_WF_NONE) {
                /* the reference refuses re-initialisation */
                e->counters[RED_FSM_ALREADY_INITIALIZED]++;
                return 0;
        }
        if ((v = value_of(ev, t->state_from)) && v->type == RED_FT_STRING) {
                state = red_contract_fsm_state(fsm, v->s.p, v->s.len);
                if (state < 0) {
                        e->counters[RED_FSM_INVALID_STATE]++;
                        return 0;
                }
        }
        if (!wf && !(wf = *wfp = red_workflows_create(e->wfs, id))) {
                return -ENOMEM;
        }
        if ((r = wf_touch(e, wf, ev))) {
                return r;
        }
        wf->state = (uint8_t)state;
        wf->previous_state = RED_WF_NONE;
        wf->state_entry_time = ev->time;
        wf->transition_count = 0;
        e->initialized++;
        return 0;
}

/* A trigger's set value as JSON (a new reference), NULL on OOM. */
static json_t *const_json(const red_const_t *k)
{
        switch (k->type) {
        case RED_FT_BOOLEAN:
                return json_boolean(k->b);
        case RED_FT_INTEGER:
                return json_integer(k->i);
        case RED_FT_NUMBER:
                return json_real(k->d);
        default:
                return json_string(k->s ? k->s : "");
        }
}

/*
 * The metadata of a history row: the event's metadata object @p md, plus
 * the guard values trigger @p t sets (`set:`) that it lacks, so a row
 * shows what the guards were checked against (the event's own values
 * win, as they do for the guards). *@p out: a new reference, or NULL
 * when there is nothing. 0 or -ENOMEM.
 */
static int history_metadata(const red_trigger_t *t, const json_t *md,
                            json_t **out)
{
        json_t *o;

        *out = NULL;
        if (!t->set_cnt) {
                *out = md ? json_incref((json_t *)md) : NULL;
                return 0;
        }
        if (!(o = md ? json_copy((json_t *)md) : json_object())) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < t->set_cnt; i++) {
                json_t *v;
                if (json_object_get(o, t->set_keys[i])) {
                        continue;
                }
                if (!(v = const_json(&t->set_values[i])) ||
                    json_object_set_new(o, t->set_keys[i], v)) {
                        json_decref(o);
                        return -ENOMEM;
                }
        }
        *out = o;
        return 0;
}

static void transition_id(red_uuid_t *out, const red_event_t *ev,
                          const red_uuid_t *wid, size_t n)
{
        char buf[640];
        int len;

        if (ev->msg) {
                len = snprintf(buf, sizeof(buf),
                               "%s/%" PRId32 "/%" PRId64 "/%zu",
                               ev->msg->topic ? ev->msg->topic : "",
                               ev->msg->partition, ev->msg->offset, n);
        } else {
                char u[RED_UUID_STR_SIZE];
                red_uuid_format(wid, u);
                len = snprintf(buf, sizeof(buf), "%s/%" PRId64 "/%s/%zu", u,
                               ev->time, ev->kind->name, n);
        }
        if (len < 0) {
                len = 0;
        }
        /* topics are at most 249 bytes: the buffer always suffices */
        red_uuid_v5(out, &red_uuid_ns_reducerd, buf,
                    (size_t)len < sizeof(buf) ? (size_t)len : sizeof(buf) - 1);
}

static char *str_dup_len(const char *s, size_t len)
{
        char *d = malloc(len + 1);

        if (d) {
                memcpy(d, s, len);
                d[len] = '\0';
        }
        return d;
}

static int do_transition(red_fsm_engine_t *e, const red_trigger_t *t,
                         const red_event_t *ev, const red_uuid_t *id,
                         red_wf_t *wf, red_fsm_rows_t *rows, size_t *n)
{
        const red_fsm_t *fsm = e->fsm;
        const size_t sc = fsm->state_cnt, ec = fsm->event_cnt;
        const red_transition_t *tr = NULL;
        const red_value_t *v;
        const char *evname, *toname = "?";
        size_t evlen, tolen = 1;
        int evi, to = -1, from = -1, rc = -1, r;
        red_fsm_row_t row = {0};
        const json_t *md;

        /* the FSM event: fixed, or named by a field (raw name if unknown) */
        if (t->event >= 0) {
                evi = t->event;
                evname = fsm->events[evi];
                evlen = strlen(evname);
        } else {
                if (!(v = value_of(ev, t->event_from)) ||
                    v->type != RED_FT_STRING) {
                        return 0; /* nothing was requested */
                }
                evname = v->s.p;
                evlen = v->s.len;
                evi = red_contract_fsm_event(fsm, evname, evlen);
        }
        if (wf && wf->state < sc) {
                from = wf->state;
        }

        /* the target: to_state field, else by event from here, else any */
        if ((v = value_of(ev, t->to_state_from)) && v->type == RED_FT_STRING) {
                to = red_contract_fsm_state(fsm, v->s.p, v->s.len);
                toname = v->s.p;
                tolen = v->s.len;
        } else {
                if (from >= 0 && evi >= 0 &&
                    (rc = e->by_from_event[(size_t)from * ec + (size_t)evi]) >=
                            0) {
                        to = fsm->transitions[rc].to;
                }
                if (to < 0 && evi >= 0) {
                        to = e->first_to[evi];
                }
                if (to >= 0) {
                        toname = fsm->states[to];
                        tolen = strlen(toname);
                }
        }

        transition_id(&row.transition_id, ev, id, (*n)++);
        row.workflow_id = *id;
        row.from_state = from;
        row.to_state = to;
        row.time = ev->time;
        row.partition = ev->msg ? ev->msg->partition : -1;
        row.offset = ev->msg ? ev->msg->offset : -1;
        if (!(row.event = str_dup_len(evname, evlen))) {
                return -ENOMEM;
        }
        if (!(md = payload_metadata(ev))) {
                md = json_is_object(ev->metadata) ? ev->metadata : NULL;
        }
        if (history_metadata(t, md, &row.metadata)) {
                goto err;
        }

        /* the reference's checks, in its order */
        if (from < 0) {
                char u[RED_UUID_STR_SIZE];
                red_uuid_format(id, u);
                row.result = RED_FSM_NOT_FOUND;
                r = asprintf(&row.reason, "Workflow %s not found", u);
        } else if (to < 0 ||
                   (rc = e->by_from_to[(size_t)from * sc + (size_t)to]) < 0) {
                row.result = RED_FSM_INVALID_TRANSITION;
                r = asprintf(&row.reason,
                             "Invalid transition: %s -> %.*s (event: %.*s)",
                             fsm->states[from], (int)tolen, toname, (int)evlen,
                             evname);
        } else if ((tr = &fsm->transitions[rc])->event != evi) {
                row.result = RED_FSM_WRONG_EVENT;
                r = asprintf(&row.reason,
                             "Wrong event for transition %s -> %s: got %.*s, "
                             "expected %s",
                             fsm->states[from], fsm->states[to], (int)evlen,
                             evname, fsm->events[tr->event]);
        } else {
                row.result = RED_FSM_ACCEPTED;
                r = 0;
                for (size_t g = 0; g < tr->guard_cnt; g++) {
                        if (!guard_holds(t, ev, tr->guards[g])) {
                                row.result = RED_FSM_GUARD_FAILED;
                                r = asprintf(&row.reason,
                                             "Guard condition failed for "
                                             "%s: Missing required "
                                             "condition: %s",
                                             fsm->states[to], tr->guards[g]);
                                break;
                        }
                }
        }
        if (r < 0) {
                row.reason = NULL;
                goto err;
        }
        if (row.result == RED_FSM_ACCEPTED) {
                if ((r = wf_touch(e, wf, ev))) {
                        goto err;
                }
                row.accepted = true;
                wf->previous_state = wf->state;
                wf->state = (uint8_t)to;
                wf->state_entry_time = ev->time;
                wf->transition_count++;
        }
        if (rows_push(rows, &row)) {
                /* the record may have moved on: the batch is rolled back */
                goto err;
        }
        e->counters[row.result]++;
        return 0;

err:
        row_free(&row);
        return -ENOMEM;
}

/* Whether the event's kind declares the field of @p slot. */
static bool kind_has(const red_event_t *ev, int slot)
{
        for (size_t i = 0; i < ev->kind->field_cnt; i++) {
                if (ev->kind->fields[i].slot == slot) {
                        return true;
                }
        }
        return false;
}

/*
 * workflows.totals: the record adds the event's source values; an event
 * whose kind declares a target it lacks gets the sum so far (0 when no
 * event of the workflow carried the source, or the workflow is unknown):
 * the event's own figure wins, then its workflow's, then 0.
 */
static int do_totals(red_fsm_engine_t *e, red_event_t *ev, red_wf_t *wf)
{
        const red_contract_t *c = e->c;
        int r;

        for (size_t i = 0; i < c->total_cnt; i++) {
                const red_value_t *s = red_event_value(ev, c->total_sources[i]);
                red_value_t *t = &ev->values[c->total_targets[i]];
                double sum;

                if (wf && s) {
                        if ((r = wf_touch(e, wf, ev))) {
                                return r;
                        }
                        wf->totals[i] +=
                                s->type == RED_FT_INTEGER ? (double)s->i : s->d;
                }
                if (t->type != RED_FT_NONE ||
                    !kind_has(ev, c->total_targets[i])) {
                        continue;
                }
                sum = wf ? wf->totals[i] : 0;
                memset(t, 0, sizeof(*t));
                if (c->slot_types[c->total_targets[i]] == RED_FT_INTEGER) {
                        t->type = RED_FT_INTEGER;
                        t->i = llround(sum);
                } else {
                        t->type = RED_FT_NUMBER;
                        t->d = sum;
                }
        }
        return 0;
}

/* workflows.remember: the record takes what it lacks, the event too. */
static int do_remember(red_fsm_engine_t *e, red_event_t *ev,
                       const red_uuid_t *id, red_wf_t *wf)
{
        const red_contract_t *c = e->c;
        int r;

        if (!wf) {
                bool any = false;
                if (e->fsm) {
                        /* only initialised workflows remember */
                        return do_totals(e, ev, NULL);
                }
                for (size_t i = 0; i < c->remember_cnt; i++) {
                        any |= ev->values[c->remember_slots[i]].type ==
                               RED_FT_STRING;
                }
                for (size_t i = 0; i < c->total_cnt; i++) {
                        any |= red_event_value(ev, c->total_sources[i]) != NULL;
                }
                if (!any) {
                        return do_totals(e, ev, NULL);
                }
                if (!(wf = red_workflows_create(e->wfs, id))) {
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < c->remember_cnt; i++) {
                red_value_t *v = &ev->values[c->remember_slots[i]];
                if (v->type == RED_FT_STRING) {
                        if (wf->remembered[i]) {
                                continue;
                        }
                        if ((r = wf_touch(e, wf, ev)) ||
                            (r = red_workflows_remember(e->wfs, wf, i, v->s.p,
                                                        v->s.len))) {
                                return r;
                        }
                } else if (v->type == RED_FT_NONE && wf->remembered[i]) {
                        v->type = RED_FT_STRING;
                        v->s.p = wf->remembered[i];
                        v->s.len = strlen(wf->remembered[i]);
                }
        }
        return do_totals(e, ev, wf);
}

int red_fsm_engine_apply(red_fsm_engine_t *e, red_event_t *ev,
                         red_fsm_rows_t *rows)
{
        const red_fsm_t *fsm = e->fsm;
        const red_value_t *kv;
        red_uuid_t id;
        red_wf_t *wf;
        size_t n = 0;
        int r;

        if (e->key_slot < 0 || !(kv = red_event_value(ev, e->key_slot)) ||
            kv->type != RED_FT_UUID || !ev->kind) {
                return 0;
        }
        id = kv->u;
        wf = red_workflows_get(e->wfs, &id);
        for (size_t i = 0; fsm && i < fsm->trigger_cnt; i++) {
                const red_trigger_t *t = &fsm->triggers[i];
                if (!trigger_matches(t, ev)) {
                        continue;
                }
                r = t->initialize ? do_initialize(e, t, ev, &id, &wf)
                                  : do_transition(e, t, ev, &id, wf, rows, &n);
                if (r) {
                        return r;
                }
        }
        return do_remember(e, ev, &id, wf);
}
