/* Tests for red_fsm: the reference workflow machine driven by the contract. */
#include "red_contract.h"
#include "red_event.h"
#include "red_fsm.h"
#include "red_test.h"
#include "red_workflows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* State indexes of the shipped contract, checked in setup(). */
enum { PENDING, ANALYZING, GENERATING, VALIDATING, COMPLETED, FAILED };

#define T0 INT64_C(1762430400000000) /* 2025-11-06T12:00:00Z */

static red_contract_t *c;
static red_workflows_t *wfs;
static red_fsm_engine_t *eng;
static red_fsm_rows_t rows;

static red_contract_t *load(const char *path)
{
        char err[2048];
        red_contract_t *ct = red_contract_load(path, err, sizeof(err));

        ck_assert_msg(ct != NULL, "%s", err);
        return ct;
}

static void start(red_contract_t *ct)
{
        c = ct;
        wfs = red_workflows_new(0, -1, c->fsm ? c->fsm->terminal : 0,
                                c->remember_cnt);
        ck_assert_ptr_nonnull(wfs);
        eng = red_fsm_engine_new(c, wfs);
        ck_assert_ptr_nonnull(eng);
        memset(&rows, 0, sizeof(rows));
}

static void setup(void)
{
        static const char *const names[] = {"pending",    "analyzing",
                                            "generating", "validating",
                                            "completed",  "failed"};

        start(load(test_path("contracts/codegen_metrics.yaml")));
        for (int i = 0; i < 6; i++) {
                ck_assert_str_eq(c->fsm->states[i], names[i]);
        }
}

static void teardown(void)
{
        red_fsm_rows_destroy(&rows);
        red_fsm_engine_destroy(eng);
        red_workflows_destroy(wfs);
        red_contract_destroy(c);
        eng = NULL;
        wfs = NULL;
        c = NULL;
}

/* ---- hand-built events ---- */

static const red_kind_t *kind(const char *name)
{
        for (size_t i = 0; i < c->kind_cnt; i++) {
                if (!strcmp(c->kinds[i].name, name)) {
                        return &c->kinds[i];
                }
        }
        ck_abort_msg("no kind %s", name);
        return NULL;
}

static int slot(const char *name)
{
        int s = red_contract_slot(c, name);

        ck_assert_msg(s >= 0, "no field %s", name);
        return s;
}

/* A flat event (payload = root) of kind k for workflow wid at time t. */
static red_event_t *ev_new(const char *k, const red_uuid_t *wid, red_time_t t)
{
        red_event_t *ev = calloc(1, sizeof(*ev));

        ev->kind = kind(k);
        ev->time = t;
        ev->values = calloc(c->slot_cnt, sizeof(red_value_t));
        ev->root = ev->payload = json_object();
        if (wid) {
                red_value_t *v = &ev->values[c->workflow_key_slot];
                v->type = RED_FT_UUID;
                v->u = *wid;
        }
        return ev;
}

static void ev_str(red_event_t *ev, const char *field, const char *s)
{
        red_value_t *v = &ev->values[slot(field)];

        v->type = RED_FT_STRING;
        v->s.p = s;
        v->s.len = strlen(s);
        json_object_set_new(ev->payload, field, json_string(s));
}

static void ev_int(red_event_t *ev, const char *field, int64_t i)
{
        red_value_t *v = &ev->values[slot(field)];

        v->type = RED_FT_INTEGER;
        v->i = i;
        json_object_set_new(ev->payload, field, json_integer(i));
}

static void ev_bool(red_event_t *ev, const char *field, bool b)
{
        red_value_t *v = &ev->values[slot(field)];

        v->type = RED_FT_BOOLEAN;
        v->b = b;
        json_object_set_new(ev->payload, field, json_boolean(b));
}

/* payload.metadata = md (steals the reference) */
static void ev_payload_md(red_event_t *ev, json_t *md)
{
        json_object_set_new(ev->payload, "metadata", md);
}

static void ev_free(red_event_t *ev)
{
        json_decref(ev->root);
        free(ev->values);
        free(ev);
}

/* Applies and frees an event; returns the number of rows it added. */
static size_t apply(red_event_t *ev)
{
        size_t before = rows.cnt;

        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ev_free(ev);
        return rows.cnt - before;
}

static red_event_t *stage(const red_uuid_t *wid, red_time_t t, int n,
                          bool success)
{
        red_event_t *ev = ev_new("stage_completed", wid, t);

        ev_str(ev, "stage_name", "stage");
        ev_int(ev, "stage_number", n);
        ev_bool(ev, "success", success);
        return ev;
}

static red_event_t *request(const red_uuid_t *wid, red_time_t t,
                            const char *event, const char *to)
{
        red_event_t *ev = ev_new("workflow_transition_requested", wid, t);

        ev_str(ev, "event", event);
        if (to) {
                ev_str(ev, "to_state", to);
        }
        return ev;
}

static const red_fsm_row_t *last_row(void)
{
        ck_assert_uint_gt(rows.cnt, 0);
        return &rows.items[rows.cnt - 1];
}

static void assert_rejected(const red_fsm_row_t *r, red_fsm_result_t res,
                            const char *reason)
{
        ck_assert(!r->accepted);
        ck_assert_int_eq(r->result, res);
        ck_assert_ptr_nonnull(r->reason);
        ck_assert_str_eq(r->reason, reason);
}

static red_wf_t *wf_of(const red_uuid_t *id)
{
        return red_workflows_get(wfs, id);
}

/* ---- tests ---- */

START_TEST(result_names)
{
        ck_assert_str_eq(red_fsm_result_name(RED_FSM_ACCEPTED), "accepted");
        ck_assert_str_eq(red_fsm_result_name(RED_FSM_NOT_FOUND), "not_found");
        ck_assert_str_eq(red_fsm_result_name(RED_FSM_INVALID_TRANSITION),
                         "invalid_transition");
        ck_assert_str_eq(red_fsm_result_name(RED_FSM_WRONG_EVENT),
                         "wrong_event");
        ck_assert_str_eq(red_fsm_result_name(RED_FSM_GUARD_FAILED),
                         "guard_failed");
        ck_assert_str_eq(red_fsm_result_name(RED_FSM_ALREADY_INITIALIZED),
                         "already_initialized");
        ck_assert_str_eq(red_fsm_result_name(RED_FSM_INVALID_STATE),
                         "invalid_state");
        ck_assert_ptr_null(red_fsm_result_name(RED_FSM__CNT));
}
END_TEST

START_TEST(happy_path)
{
        static const int to[4] = {ANALYZING, GENERATING, VALIDATING, COMPLETED};
        static const char *const evs[4] = {"start_analysis", "start_generation",
                                           "start_validation",
                                           "complete_workflow"};
        static const red_time_t at[4] = {T0 + 1, T0 + 2, T0 + 4, T0 + 10};
        red_uuid_t id;
        red_event_t *ev;
        red_wf_t *wf, **d;
        const uint64_t *cnt = red_fsm_engine_counters(eng);

        red_uuid_v4(&id);
        ev = ev_new("started", &id, T0);
        ev_str(ev, "node_type", "effect");
        ev_str(ev, "domain", "api");
        ck_assert_uint_eq(apply(ev), 0); /* initialisation has no row */
        wf = wf_of(&id);
        ck_assert_ptr_nonnull(wf);
        ck_assert_uint_eq(wf->state, PENDING);
        ck_assert_uint_eq(wf->previous_state, RED_WF_NONE);
        ck_assert_int_eq(wf->state_entry_time, T0);
        ck_assert_uint_eq(red_fsm_engine_initialized(eng), 1);

        for (int n = 1; n <= 6; n++) {
                apply(stage(&id, T0 + n, n, true));
        }
        ev = ev_new("completed", &id, T0 + 10);
        ev_int(ev, "quality_score", 1);
        ck_assert_uint_eq(apply(ev), 1);

        ck_assert_uint_eq(wf->state, COMPLETED);
        ck_assert_uint_eq(wf->previous_state, VALIDATING);
        ck_assert_uint_eq(wf->transition_count, 4);
        ck_assert_int_eq(wf->state_entry_time, T0 + 10);
        ck_assert_int_eq(wf->last_event_time, T0 + 10);
        ck_assert_uint_eq(rows.cnt, 4);
        for (int i = 0; i < 4; i++) {
                const red_fsm_row_t *r = &rows.items[i];
                ck_assert(r->accepted);
                ck_assert_int_eq(r->result, RED_FSM_ACCEPTED);
                ck_assert_ptr_null(r->reason);
                ck_assert_int_eq(r->from_state, i == 0 ? PENDING : to[i - 1]);
                ck_assert_int_eq(r->to_state, to[i]);
                ck_assert_str_eq(r->event, evs[i]);
                ck_assert_int_eq(r->time, at[i]);
                ck_assert_int_eq(memcmp(r->workflow_id.b, id.b, 16), 0);
                ck_assert_int_eq(r->partition, -1);
                ck_assert_int_eq(r->offset, -1);
        }
        ck_assert_uint_eq(cnt[RED_FSM_ACCEPTED], 4);
        for (int i = 1; i < RED_FSM__CNT; i++) {
                ck_assert_uint_eq(cnt[i], 0);
        }
        ck_assert_uint_eq(red_workflows_dirty(wfs, &d), 1);
        ck_assert_ptr_eq(d[0], wf);
        ck_assert_str_eq(wf->remembered[0], "effect");
        ck_assert_str_eq(wf->remembered[1], "api");
}
END_TEST

/*
 * History rows keep the guard values their trigger set (`set:`), beside
 * the event's own metadata, which wins for a key both have.
 */
START_TEST(history_metadata_set)
{
        red_uuid_t id;
        red_event_t *ev;
        const json_t *md;

        red_uuid_v4(&id);
        apply(ev_new("started", &id, T0));
        apply(stage(&id, T0 + 1, 1, true));
        md = last_row()->metadata;
        ck_assert(json_is_true(json_object_get(md, "has_requirements")));
        ck_assert_uint_eq(json_object_size(md), 1);

        ev = stage(&id, T0 + 2, 2, true);
        ev_payload_md(ev, json_pack("{sbss}", "has_analysis_results", 0,
                                    "agent", "a-7"));
        apply(ev);
        md = last_row()->metadata;
        /* the event said false: its value is kept (and the guard fails) */
        ck_assert(json_is_false(json_object_get(md, "has_analysis_results")));
        ck_assert_str_eq(json_string_value(json_object_get(md, "agent")),
                         "a-7");
        ck_assert_int_eq(last_row()->result, RED_FSM_GUARD_FAILED);

        /* a trigger without set: the event's metadata as it is, or none */
        apply(request(&id, T0 + 3, "fail_workflow", NULL));
        ck_assert_ptr_null(last_row()->metadata);
}
END_TEST

/*
 * workflows.totals: the stages' tokens_consumed and cost_usd add up per
 * workflow; a Completed event without its own totals takes the sums, one
 * with them keeps its own, one of an unknown workflow gets 0.
 */
START_TEST(totals_fill_completed)
{
        red_uuid_t a, b, u;
        red_event_t *ev;
        const red_value_t *v;

        red_uuid_v4(&a);
        red_uuid_v4(&b);
        red_uuid_v4(&u);
        apply(ev_new("started", &a, T0));
        apply(ev_new("started", &b, T0));
        for (int n = 1; n <= 3; n++) {
                ev = stage(&a, T0 + n, n, true);
                ev_int(ev, "tokens_consumed", 100 * n);
                ev->values[slot("cost_usd")].type = RED_FT_NUMBER;
                ev->values[slot("cost_usd")].d = 0.001 * n;
                apply(ev);
                ev = stage(&b, T0 + n, n, true);
                ev_int(ev, "tokens_consumed", 7);
                apply(ev);
        }
        ck_assert_double_eq(wf_of(&a)->totals[0], 600);
        ck_assert_double_eq_tol(wf_of(&a)->totals[1], 0.006, 1e-15);

        ev = ev_new("completed", &a, T0 + 10);
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        v = &ev->values[slot("total_tokens")];
        ck_assert_int_eq(v->type, RED_FT_INTEGER);
        ck_assert_int_eq(v->i, 600);
        v = &ev->values[slot("total_cost_usd")];
        ck_assert_int_eq(v->type, RED_FT_NUMBER);
        ck_assert_double_eq_tol(v->d, 0.006, 1e-15);
        ev_free(ev);

        /* its own figure wins; no cost from the stages: 0 */
        ev = ev_new("completed", &b, T0 + 10);
        ev_int(ev, "total_tokens", 5);
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ck_assert_int_eq(ev->values[slot("total_tokens")].i, 5);
        ck_assert_double_eq(ev->values[slot("total_cost_usd")].d, 0);
        ck_assert_int_eq(ev->values[slot("total_cost_usd")].type,
                         RED_FT_NUMBER);
        ev_free(ev);

        /* an unknown workflow: 0; a stage event has no target: untouched */
        ev = ev_new("completed", &u, T0 + 10);
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ck_assert_int_eq(ev->values[slot("total_tokens")].type, RED_FT_INTEGER);
        ck_assert_int_eq(ev->values[slot("total_tokens")].i, 0);
        ev_free(ev);
        ev = stage(&u, T0 + 11, 1, true);
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ck_assert_int_eq(ev->values[slot("total_tokens")].type, RED_FT_NONE);
        ev_free(ev);
}
END_TEST

START_TEST(explicit_requests)
{
        red_uuid_t id, unknown;
        red_event_t *ev;
        red_wf_t *wf;
        char want[128], u[RED_UUID_STR_SIZE];
        json_t *md;
        const uint64_t *cnt = red_fsm_engine_counters(eng);
        json_t *falsy[] = {json_false(),    json_integer(0), json_real(0.0),
                           json_string(""), json_array(),    json_object(),
                           json_null()};

        red_uuid_v4(&id);
        red_uuid_v4(&unknown);
        ck_assert_uint_eq(apply(ev_new("workflow_initialized", &id, T0)), 0);
        wf = wf_of(&id);
        ck_assert_uint_eq(wf->state, PENDING);

        ck_assert_uint_eq(
                apply(request(&id, T0 + 1, "complete_workflow", "completed")),
                1);
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: pending -> completed (event: "
                        "complete_workflow)");
        ck_assert_int_eq(last_row()->from_state, PENDING);
        ck_assert_int_eq(last_row()->to_state, COMPLETED);
        ck_assert_str_eq(last_row()->event, "complete_workflow");

        /* guard missing: no metadata at all, then an empty object */
        apply(request(&id, T0 + 2, "start_analysis", "analyzing"));
        assert_rejected(last_row(), RED_FSM_GUARD_FAILED,
                        "Guard condition failed for analyzing: Missing "
                        "required condition: has_requirements");
        ck_assert_ptr_null(last_row()->metadata);
        ev = request(&id, T0 + 3, "start_analysis", "analyzing");
        md = json_object();
        ev_payload_md(ev, md);
        ck_assert_uint_eq(apply(ev), 1);
        assert_rejected(last_row(), RED_FSM_GUARD_FAILED,
                        "Guard condition failed for analyzing: Missing "
                        "required condition: has_requirements");
        ck_assert_ptr_eq(last_row()->metadata, md); /* kept alive by the row */
        ck_assert_int_eq(last_row()->to_state, ANALYZING);

        /* present but falsy in the Python sense */
        for (size_t i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
                ev = request(&id, T0 + 4, "start_analysis", "analyzing");
                md = json_object();
                json_object_set_new(md, "has_requirements", falsy[i]);
                ev_payload_md(ev, md);
                apply(ev);
                ck_assert_msg(last_row()->result == RED_FSM_GUARD_FAILED,
                              "falsy value %zu passed", i);
        }
        ck_assert_uint_eq(wf->state, PENDING);
        ck_assert_uint_eq(wf->transition_count, 0);

        /* wrong event for an existing transition */
        apply(request(&id, T0 + 5, "start_generation", "analyzing"));
        assert_rejected(last_row(), RED_FSM_WRONG_EVENT,
                        "Wrong event for transition pending -> analyzing: "
                        "got start_generation, expected start_analysis");
        /* an event name the machine does not know */
        apply(request(&id, T0 + 5, "teleport", "analyzing"));
        assert_rejected(last_row(), RED_FSM_WRONG_EVENT,
                        "Wrong event for transition pending -> analyzing: "
                        "got teleport, expected start_analysis");
        apply(request(&id, T0 + 5, "teleport", NULL));
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: pending -> ? (event: "
                        "teleport)");
        ck_assert_int_eq(last_row()->to_state, -1);
        apply(request(&id, T0 + 5, "start_analysis", "nowhere"));
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: pending -> nowhere (event: "
                        "start_analysis)");
        ck_assert_int_eq(last_row()->to_state, -1);

        /* the envelope metadata is looked at first: its false wins */
        ev = request(&id, T0 + 6, "start_analysis", "analyzing");
        md = json_object();
        json_object_set_new(md, "has_requirements", json_true());
        ev_payload_md(ev, md);
        ev->metadata = json_object();
        json_object_set_new(ev->metadata, "has_requirements", json_false());
        json_object_set_new(ev->root, "envelope_md", ev->metadata);
        apply(ev);
        ck_assert_int_eq(last_row()->result, RED_FSM_GUARD_FAILED);

        /* present and truthy: accepted; no to_state: found by event */
        ev = request(&id, T0 + 7, "start_analysis", NULL);
        md = json_object();
        json_object_set_new(md, "has_requirements", json_string("yes"));
        ev_payload_md(ev, md);
        apply(ev);
        ck_assert(last_row()->accepted);
        ck_assert_ptr_null(last_row()->reason);
        ck_assert_int_eq(last_row()->to_state, ANALYZING);
        ck_assert_uint_eq(wf->state, ANALYZING);
        ck_assert_uint_eq(wf->transition_count, 1);
        ck_assert_int_eq(wf->state_entry_time, T0 + 7);

        /* guards in the envelope metadata or the payload itself count too */
        ev = request(&id, T0 + 8, "start_generation", "generating");
        ev->metadata = json_object();
        json_object_set_new(ev->metadata, "has_analysis_results",
                            json_integer(3));
        json_object_set_new(ev->root, "envelope_md", ev->metadata);
        apply(ev);
        ck_assert(last_row()->accepted);
        /* no payload metadata: the row keeps the envelope's */
        ck_assert_int_eq(json_integer_value(json_object_get(
                                 last_row()->metadata, "has_analysis_results")),
                         3);
        ev = request(&id, T0 + 9, "start_validation", "validating");
        json_object_set_new(ev->payload, "has_generated_code", json_true());
        apply(ev);
        ck_assert(last_row()->accepted);
        ck_assert_uint_eq(wf->state, VALIDATING);

        /* unknown workflow */
        ck_assert_uint_eq(apply(request(&unknown, T0 + 10, "start_analysis",
                                        "analyzing")),
                          1);
        red_uuid_format(&unknown, u);
        snprintf(want, sizeof(want), "Workflow %s not found", u);
        assert_rejected(last_row(), RED_FSM_NOT_FOUND, want);
        ck_assert_int_eq(last_row()->from_state, -1);
        ck_assert_ptr_null(wf_of(&unknown)); /* nothing was created */

        ck_assert_uint_eq(cnt[RED_FSM_ACCEPTED], 3);
        ck_assert_uint_eq(cnt[RED_FSM_GUARD_FAILED], 10);
        ck_assert_uint_eq(cnt[RED_FSM_WRONG_EVENT], 2);
        ck_assert_uint_eq(cnt[RED_FSM_INVALID_TRANSITION], 3);
        ck_assert_uint_eq(cnt[RED_FSM_NOT_FOUND], 1);
        ck_assert_uint_eq(rows.cnt, 19);
}
END_TEST

START_TEST(fail_and_retry)
{
        red_uuid_t id, done;
        red_event_t *ev;
        red_wf_t *wf;

        red_uuid_v4(&id);
        red_uuid_v4(&done);
        apply(ev_new("started", &id, T0));
        ev = ev_new("failed", &id, T0 + 1);
        ev_str(ev, "failed_stage", "analysis");
        ck_assert_uint_eq(apply(ev), 1);
        ck_assert(last_row()->accepted);
        ck_assert_str_eq(last_row()->event, "fail_workflow");
        ck_assert_int_eq(last_row()->to_state, FAILED);
        apply(request(&id, T0 + 2, "retry_workflow", NULL));
        ck_assert(last_row()->accepted);
        ck_assert_int_eq(last_row()->from_state, FAILED);
        ck_assert_int_eq(last_row()->to_state, PENDING);
        wf = wf_of(&id);
        ck_assert_uint_eq(wf->state, PENDING);
        ck_assert_uint_eq(wf->previous_state, FAILED);
        ck_assert_uint_eq(wf->transition_count, 2);
        /* a retried workflow can fail again */
        ev = ev_new("failed", &id, T0 + 3);
        ev_str(ev, "failed_stage", "generation");
        apply(ev);
        ck_assert(last_row()->accepted);
        ck_assert_uint_eq(wf->transition_count, 3);

        /* completed is terminal: nothing leaves it */
        ev = ev_new("workflow_initialized", &done, T0);
        ev_str(ev, "initial_state", "validating");
        apply(ev);
        ev = ev_new("completed", &done, T0 + 1);
        apply(ev);
        ck_assert_uint_eq(wf_of(&done)->state, COMPLETED);
        apply(request(&done, T0 + 2, "retry_workflow", NULL));
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: completed -> pending (event: "
                        "retry_workflow)");
        ev = ev_new("failed", &done, T0 + 3);
        ev_str(ev, "failed_stage", "late");
        apply(ev);
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: completed -> failed (event: "
                        "fail_workflow)");
        ck_assert_uint_eq(wf_of(&done)->state, COMPLETED);
        ck_assert_uint_eq(wf_of(&done)->transition_count, 1);
        /* rejections do not touch the record's times */
        ck_assert_int_eq(wf_of(&done)->last_event_time, T0 + 1);
}
END_TEST

START_TEST(out_of_order)
{
        red_uuid_t id, early, other;
        red_event_t *ev;
        red_wf_t *wf;
        const uint64_t *cnt = red_fsm_engine_counters(eng);
        char want[128], u[RED_UUID_STR_SIZE];

        red_uuid_v4(&id);
        red_uuid_v4(&early);
        red_uuid_v4(&other);
        /* a stage before its workflow started */
        ck_assert_uint_eq(apply(stage(&early, T0, 1, true)), 1);
        red_uuid_format(&early, u);
        snprintf(want, sizeof(want), "Workflow %s not found", u);
        assert_rejected(last_row(), RED_FSM_NOT_FOUND, want);
        ck_assert_str_eq(last_row()->event, "start_analysis");
        ck_assert_int_eq(last_row()->to_state, ANALYZING);

        apply(ev_new("started", &id, T0));
        ck_assert_uint_eq(apply(stage(&id, T0 + 1, 1, false)),
                          0); /* no trigger */
        ck_assert_uint_eq(apply(stage(&id, T0 + 1, 1, true)), 1);
        ev = ev_new("completed", &id, T0 + 2);
        ck_assert_uint_eq(apply(ev), 1);
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: analyzing -> completed (event: "
                        "complete_workflow)");
        apply(stage(&id, T0 + 3, 4, true));
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: analyzing -> validating (event: "
                        "start_validation)");
        apply(stage(&id, T0 + 4, 2, true));
        ck_assert(last_row()->accepted);
        apply(stage(&id, T0 + 5, 4, true));
        ck_assert(last_row()->accepted);
        apply(stage(&id, T0 + 6, 1, true)); /* a duplicate, late */
        assert_rejected(last_row(), RED_FSM_INVALID_TRANSITION,
                        "Invalid transition: validating -> analyzing (event: "
                        "start_analysis)");
        /* a duplicate Started is refused without a row */
        ck_assert_uint_eq(apply(ev_new("started", &id, T0 + 7)), 0);
        ck_assert_uint_eq(cnt[RED_FSM_ALREADY_INITIALIZED], 1);
        ck_assert_uint_eq(apply(ev_new("completed", &id, T0 + 8)), 1);
        ck_assert(last_row()->accepted);
        wf = wf_of(&id);
        ck_assert_uint_eq(wf->state, COMPLETED);
        ck_assert_uint_eq(wf->transition_count, 4);
        ck_assert_int_eq(wf->last_event_time, T0 + 8);

        /* WORKFLOW_INITIALIZED with an initial state, and a bad one */
        ev = ev_new("workflow_initialized", &other, T0);
        ev_str(ev, "initial_state", "generating");
        ck_assert_uint_eq(apply(ev), 0);
        ck_assert_uint_eq(wf_of(&other)->state, GENERATING);
        ck_assert_uint_eq(wf_of(&other)->transition_count, 0);
        ev = ev_new("workflow_initialized", &early, T0);
        ev_str(ev, "initial_state", "sleeping");
        ck_assert_uint_eq(apply(ev), 0);
        ck_assert_uint_eq(cnt[RED_FSM_INVALID_STATE], 1);
        ck_assert_ptr_null(wf_of(&early));
        ev = ev_new("workflow_initialized", &other, T0 + 1);
        ev_str(ev, "initial_state", "pending");
        apply(ev);
        ck_assert_uint_eq(cnt[RED_FSM_ALREADY_INITIALIZED], 2);
        ck_assert_uint_eq(wf_of(&other)->state, GENERATING);
        /* an accepted event older than the newest seen: state_entry_time
         * is its time, last_event_time keeps the newest */
        ev = ev_new("failed", &other, T0 - 5);
        ev_str(ev, "failed_stage", "generation");
        apply(ev);
        ck_assert(last_row()->accepted);
        ck_assert_uint_eq(wf_of(&other)->state, FAILED);
        ck_assert_int_eq(wf_of(&other)->state_entry_time, T0 - 5);
        ck_assert_int_eq(wf_of(&other)->last_event_time, T0);

        /* an event without the key does nothing */
        ev = ev_new("completed", NULL, T0);
        ck_assert_uint_eq(apply(ev), 0);
        ck_assert_uint_eq(red_fsm_engine_initialized(eng), 2);
}
END_TEST

START_TEST(enrichment)
{
        red_uuid_t id, lost, late;
        red_event_t *ev;
        const red_value_t *v;
        int nt = slot("node_type"), dom = slot("domain");

        red_uuid_v4(&id);
        red_uuid_v4(&lost);
        red_uuid_v4(&late);
        ev = ev_new("started", &id, T0);
        ev_str(ev, "node_type", "effect");
        ev_str(ev, "domain", "api");
        apply(ev);

        ev = ev_new("failed", &id, T0 + 1);
        ev_str(ev, "failed_stage", "generation");
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        v = red_event_value(ev, nt);
        ck_assert_ptr_nonnull(v);
        ck_assert_int_eq(v->type, RED_FT_STRING);
        ck_assert_uint_eq(v->s.len, 6);
        ck_assert_int_eq(memcmp(v->s.p, "effect", 6), 0);
        v = red_event_value(ev, dom);
        ck_assert_uint_eq(v->s.len, 3);
        ck_assert_int_eq(memcmp(v->s.p, "api", 3), 0);
        ev_free(ev);

        /* an event's own value wins and does not replace the record's */
        ev = ev_new("failed", &id, T0 + 2);
        ev_str(ev, "node_type", "compute");
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ck_assert_int_eq(memcmp(ev->values[nt].s.p, "compute", 7), 0);
        ck_assert_int_eq(memcmp(ev->values[dom].s.p, "api", 3), 0);
        ev_free(ev);
        ck_assert_str_eq(wf_of(&id)->remembered[0], "effect");

        /* no workflow record: no enrichment, no record */
        ev = ev_new("failed", &lost, T0 + 3);
        ev_str(ev, "failed_stage", "generation");
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ck_assert_ptr_null(red_event_value(ev, nt));
        ck_assert_ptr_null(red_event_value(ev, dom));
        ev_free(ev);
        ck_assert_ptr_null(wf_of(&lost));

        /* Started without node_type: the first later event carrying it
         * fills the record */
        apply(ev_new("started", &late, T0));
        ck_assert_ptr_null(wf_of(&late)->remembered[0]);
        ev = ev_new("completed", &late, T0 + 1);
        ev_str(ev, "node_type", "reducer");
        apply(ev);
        ev = ev_new("failed", &late, T0 + 2);
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ck_assert_int_eq(memcmp(ev->values[nt].s.p, "reducer", 7), 0);
        ck_assert_ptr_null(red_event_value(ev, dom));
        ev_free(ev);
        ck_assert_uint_eq(red_workflows_interned(wfs), 3);
}
END_TEST

/* Runs a fixed event sequence with source messages; returns its rows. */
static void replay(red_fsm_rows_t *out)
{
        static const char *topic = "dev.omninode-bridge.codegen.workflow.v1";
        red_uuid_t id;
        red_msg_t msg = {.topic = topic, .partition = 3, .offset = 100};
        red_event_t *ev;

        memset(&id, 0x11, sizeof(id));
        ev = ev_new("workflow_initialized", &id, T0);
        ev->msg = &msg;
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, out), 0);
        ev_free(ev);
        for (int i = 0; i < 3; i++) {
                msg.offset++;
                ev = request(&id, T0 + i, "start_analysis", "analyzing");
                if (i == 2) {
                        json_t *md = json_object();
                        json_object_set_new(md, "has_requirements",
                                            json_true());
                        ev_payload_md(ev, md);
                }
                ev->msg = &msg;
                ck_assert_int_eq(red_fsm_engine_apply(eng, ev, out), 0);
                ev_free(ev);
        }
}

START_TEST(deterministic_ids)
{
        red_fsm_rows_t a = {0}, b = {0};
        red_uuid_t want;
        const char *name = "dev.omninode-bridge.codegen.workflow.v1/3/101/0";

        replay(&a);
        red_fsm_engine_destroy(eng);
        red_workflows_destroy(wfs);
        wfs = red_workflows_new(0, -1, c->fsm->terminal, c->remember_cnt);
        eng = red_fsm_engine_new(c, wfs);
        replay(&b);
        ck_assert_uint_eq(a.cnt, 3);
        ck_assert_uint_eq(b.cnt, 3);
        for (size_t i = 0; i < 3; i++) {
                ck_assert_int_eq(memcmp(a.items[i].transition_id.b,
                                        b.items[i].transition_id.b, 16),
                                 0);
                ck_assert_int_eq(a.items[i].partition, 3);
                ck_assert_int_eq(a.items[i].offset, 101 + (int64_t)i);
                for (size_t k = 0; k < i; k++) {
                        ck_assert_int_ne(memcmp(a.items[i].transition_id.b,
                                                a.items[k].transition_id.b, 16),
                                         0);
                }
        }
        red_uuid_v5(&want, &red_uuid_ns_reducerd, name, strlen(name));
        ck_assert_int_eq(memcmp(a.items[0].transition_id.b, want.b, 16), 0);
        ck_assert(a.items[2].accepted);
        ck_assert_int_eq(wf_of(&a.items[0].workflow_id)->partition, 3);
        red_fsm_rows_destroy(&a);
        red_fsm_rows_destroy(&b);
}
END_TEST

START_TEST(rows_clear_keeps_capacity)
{
        red_uuid_t id;

        red_uuid_v4(&id);
        for (int i = 0; i < 100; i++) {
                apply(stage(&id, T0 + i, 1, true));
        }
        ck_assert_uint_eq(rows.cnt, 100);
        ck_assert_uint_ge(rows.cap, 100);
        red_fsm_rows_clear(&rows);
        ck_assert_uint_eq(rows.cnt, 0);
        ck_assert_uint_ge(rows.cap, 100);
        ck_assert_ptr_nonnull(rows.items);
        red_fsm_rows_destroy(&rows);
        ck_assert_ptr_null(rows.items);
        red_fsm_rows_destroy(NULL);
}
END_TEST

/* ---- contracts written for a test ---- */

static const char *base_contract =
        "contract: jobs\n"
        "version: 0.1.0\n"
        "dead_letter_topic: test.dead-letter\n"
        "inputs:\n"
        "  - topic: test.events\n"
        "    events: [begin, done]\n"
        "events:\n"
        "  begin:\n"
        "    types: [BEGIN]\n"
        "    fields:\n"
        "      job_id: {type: uuid, required: true}\n"
        "      kind: {type: string}\n"
        "  done:\n"
        "    types: [DONE]\n"
        "    fields:\n"
        "      job_id: {type: uuid, required: true}\n"
        "      kind: {type: string}\n"
        "      seconds: {type: number, min: 0}\n"
        "dimensions:\n"
        "  kind: {field: kind, default: unknown}\n"
        "aggregations:\n"
        "  - name: jobs\n"
        "    table: jobs_aggregated\n"
        "    windows: [hourly]\n"
        "    grouping_column: grouping\n"
        "    key_columns: [group_key]\n"
        "    groupings:\n"
        "      by_kind: [kind]\n"
        "    measures:\n"
        "      done: {count: done}\n"
        "    columns:\n"
        "      total: done\n";

static red_contract_t *load_text(const char *extra)
{
        char *dir = test_tmpdir(), path[4200], *text;
        red_contract_t *ct;

        snprintf(path, sizeof(path), "%s/jobs.yaml", dir);
        ck_assert_int_ge(asprintf(&text, "%s%s", base_contract, extra), 0);
        test_write_file(path, text, strlen(text));
        ct = load(path);
        unlink(path);
        rmdir(dir);
        free(text);
        free(dir);
        return ct;
}

START_TEST(several_triggers_one_message)
{
        red_uuid_t id, want;
        red_msg_t msg = {.topic = "test.events", .partition = 0, .offset = 5};
        red_event_t *ev;

        start(load_text("fsm:\n"
                        "  key: job_id\n"
                        "  states: [open, mid, closed]\n"
                        "  initial: open\n"
                        "  terminal: [closed]\n"
                        "  transitions:\n"
                        "    - {from: open, to: mid, event: step}\n"
                        "    - {from: mid, to: closed, event: finish}\n"
                        "  triggers:\n"
                        "    - {on: begin, initialize: true}\n"
                        "    - {on: done, event: step}\n"
                        "    - {on: done, when: {seconds: 2}, event: finish}\n"
                        "  history_table: job_history\n"
                        "  current_table: job_current\n"));
        red_uuid_v4(&id);
        apply(ev_new("begin", &id, T0));
        ev = ev_new("done", &id, T0 + 1);
        ev->values[slot("seconds")].type = RED_FT_NUMBER;
        ev->values[slot("seconds")].d = 2.0;
        ev->msg = &msg;
        ck_assert_uint_eq(apply(ev), 2);
        ck_assert(rows.items[0].accepted);
        ck_assert(rows.items[1].accepted);
        ck_assert_int_eq(rows.items[1].from_state, 1);
        ck_assert_int_eq(wf_of(&id)->state, 2);
        red_uuid_v5(&want, &red_uuid_ns_reducerd, "test.events/0/5/1", 17);
        ck_assert_int_eq(memcmp(rows.items[1].transition_id.b, want.b, 16), 0);
        /* seconds 3 does not satisfy when: one row only */
        red_uuid_v4(&id);
        apply(ev_new("begin", &id, T0));
        ev = ev_new("done", &id, T0 + 1);
        ev->values[slot("seconds")].type = RED_FT_NUMBER;
        ev->values[slot("seconds")].d = 3.0;
        ck_assert_uint_eq(apply(ev), 1);
        ck_assert_int_eq(wf_of(&id)->state, 1);
}
END_TEST

START_TEST(remember_without_fsm)
{
        red_uuid_t id;
        red_event_t *ev;
        int k;

        start(load_text("workflows:\n"
                        "  key: job_id\n"
                        "  remember: [kind]\n"));
        k = slot("kind");
        red_uuid_v4(&id);
        /* nothing to remember: no record */
        ck_assert_uint_eq(apply(ev_new("begin", &id, T0)), 0);
        ck_assert_ptr_null(wf_of(&id));
        ev = ev_new("begin", &id, T0);
        ev_str(ev, "kind", "batch");
        ck_assert_uint_eq(apply(ev), 0);
        ck_assert_ptr_nonnull(wf_of(&id));
        ck_assert_uint_eq(wf_of(&id)->state, RED_WF_NONE);
        ev = ev_new("done", &id, T0 + 1);
        ck_assert_int_eq(red_fsm_engine_apply(eng, ev, &rows), 0);
        ck_assert_int_eq(ev->values[k].type, RED_FT_STRING);
        ck_assert_int_eq(memcmp(ev->values[k].s.p, "batch", 5), 0);
        ev_free(ev);
        ck_assert_uint_eq(rows.cnt, 0);
}
END_TEST

static void setup_none(void)
{
        c = NULL;
        wfs = NULL;
        eng = NULL;
        memset(&rows, 0, sizeof(rows));
}

int main(void)
{
        Suite *s = suite_create("fsm");
        TCase *tc = tcase_create("codegen");
        TCase *tc2 = tcase_create("custom");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, result_names);
        tcase_add_test(tc, happy_path);
        tcase_add_test(tc, history_metadata_set);
        tcase_add_test(tc, totals_fill_completed);
        tcase_add_test(tc, explicit_requests);
        tcase_add_test(tc, fail_and_retry);
        tcase_add_test(tc, out_of_order);
        tcase_add_test(tc, enrichment);
        tcase_add_test(tc, deterministic_ids);
        tcase_add_test(tc, rows_clear_keeps_capacity);
        suite_add_tcase(s, tc);
        tcase_add_checked_fixture(tc2, setup_none, teardown);
        tcase_add_test(tc2, several_triggers_one_message);
        tcase_add_test(tc2, remember_without_fsm);
        suite_add_tcase(s, tc2);
        return test_main(s);
}
