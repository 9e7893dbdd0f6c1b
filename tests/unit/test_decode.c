/*
 * Tests for red_decode: the envelope (nested or flat payload, timestamp
 * names and zones, event type from envelope, header or topic), every field
 * rule and every dead-letter code with its detail. Every message is decoded
 * twice, by red_decode() and by the reference red_decode_tree(), and the
 * two must agree exactly; a fuzz test holds them to that on generated and
 * mutated streams.
 */
#include "gen_events_lib.c"

#include "red_decode.h"
#include "red_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define T_STARTED   "dev.omninode-bridge.codegen.generation-started.v1"
#define T_STAGE     "dev.omninode-bridge.codegen.stage-completed.v1"
#define T_COMPLETED "dev.omninode-bridge.codegen.generation-completed.v1"
#define T_FAILED    "dev.omninode-bridge.codegen.generation-failed.v1"
#define T_WORKFLOW  "dev.omninode-bridge.codegen.workflow.v1"
#define WF          "a0000000-0000-4000-8000-00000000000a"
#define TS          "\"timestamp\":\"2025-11-06T10:00:00Z\""

static red_contract_t *cg;  /* contracts/codegen_metrics.yaml */
static red_contract_t *dfc; /* tests/data/contracts/decode_fields.yaml */
static red_time_t t_now;    /* 2025-11-07T00:00:00Z */

/* The last decode (fast path). */
static red_event_t ev;
static red_value_t vals[64];
static red_msg_t msg;
static char detail[512];

static red_contract_t *load(const char *rel)
{
        char err[2048];
        red_contract_t *c = red_contract_load(test_path(rel), err, sizeof(err));

        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_uint_le(c->slot_cnt, 64);
        return c;
}

static red_time_t tm(const char *s)
{
        red_time_t t;

        ck_assert_int_eq(red_time_parse(s, strlen(s), &t), 0);
        return t;
}

static void setup(void)
{
        cg = load("contracts/codegen_metrics.yaml");
        dfc = load("tests/data/contracts/decode_fields.yaml");
        t_now = tm("2025-11-07T00:00:00Z");
        memset(&ev, 0, sizeof(ev));
}

static void teardown(void)
{
        red_decode_release(&ev);
        red_contract_destroy(cg);
        red_contract_destroy(dfc);
}

/* An object value parsed (a new reference), whichever form it has. */
static json_t *object_of(const red_value_t *v)
{
        if (v->j) {
                return json_incref(v->j);
        }
        return json_loadb(v->raw, v->raw_len, JSON_ALLOW_NUL, NULL);
}

/* json_equal(), but member names may hold NULs (json_equal compares
 * them as C strings). */
static bool same_json(const json_t *a, const json_t *b)
{
        const char *key;
        size_t key_len, i;
        json_t *item;

        if (json_is_array(a) && json_is_array(b)) {
                if (json_array_size(a) != json_array_size(b)) {
                        return false;
                }
                json_array_foreach(a, i, item)
                {
                        if (!same_json(item, json_array_get(b, i))) {
                                return false;
                        }
                }
                return true;
        }
        if (!json_is_object(a) || !json_is_object(b)) {
                return json_equal(a, b);
        }
        if (json_object_size(a) != json_object_size(b)) {
                return false;
        }
        json_object_keylen_foreach((json_t *)a, key, key_len, item)
        {
                if (!same_json(item, json_object_getn(b, key, key_len))) {
                        return false;
                }
        }
        return true;
}

static bool value_eq(const red_value_t *a, const red_value_t *b)
{
        if (a->type != b->type) {
                return false;
        }
        switch (a->type) {
        case RED_FT_NONE:
                return true;
        case RED_FT_STRING:
                return a->s.len == b->s.len &&
                       !memcmp(a->s.p, b->s.p, a->s.len);
        case RED_FT_INTEGER:
                return a->i == b->i;
        case RED_FT_NUMBER:
                return !memcmp(&a->d, &b->d, sizeof(a->d));
        case RED_FT_BOOLEAN:
                return a->b == b->b;
        case RED_FT_TIMESTAMP:
                return a->t == b->t;
        case RED_FT_UUID:
                return !red_uuid_cmp(&a->u, &b->u);
        case RED_FT_OBJECT: {
                json_t *x = object_of(a), *y = object_of(b);
                bool eq = x && y && same_json(x, y);
                json_decref(x);
                json_decref(y);
                return eq;
        }
        default:
                return false;
        }
}

/* What the FSM reads from a payload: the guard keys and "metadata". */
static void check_fsm_view(const red_contract_t *c, const red_event_t *fast,
                           const red_event_t *tree, const char *what)
{
        const char *keys[64];
        size_t n = 0;

        keys[n++] = "metadata";
        for (size_t t = 0; c->fsm && t < c->fsm->transition_cnt; t++) {
                for (size_t g = 0;
                     g < c->fsm->transitions[t].guard_cnt && n < 64; g++) {
                        keys[n++] = c->fsm->transitions[t].guards[g];
                }
        }
        for (size_t i = 0; i < n; i++) {
                json_t *a = json_object_get(fast->payload, keys[i]);
                json_t *b = json_object_get(tree->payload, keys[i]);
                if (!c->fsm && !strcmp(keys[i], "metadata")) {
                        continue; /* kept only for an FSM */
                }
                ck_assert_msg((!a && !b) || (a && b && same_json(a, b)),
                              "%s: payload member %s differs", what, keys[i]);
        }
        ck_assert_msg((!fast->metadata && !tree->metadata) ||
                              (fast->metadata && tree->metadata &&
                               same_json(fast->metadata, tree->metadata)),
                      "%s: envelope metadata differs", what);
}

/*
 * Decodes @p m with both paths, asserts they agree, and leaves the fast
 * path's event in ev (released by the next call or the teardown).
 */
static red_dlq_code_t decode_msg(const red_contract_t *c, const red_msg_t *m,
                                 red_time_t now)
{
        red_value_t tvals[64];
        red_event_t tev = {.values = tvals};
        char tdetail[512];
        red_dlq_code_t code, tcode;

        red_decode_release(&ev);
        ev.values = vals;
        code = red_decode(c, m, now, &ev, detail, sizeof(detail));
        tcode = red_decode_tree(c, m, now, &tev, tdetail, sizeof(tdetail));
        ck_assert_msg(code == tcode, "fast %s (%s) != tree %s (%s) for %.*s",
                      red_dlq_code_name(code), detail, red_dlq_code_name(tcode),
                      tdetail, (int)(m->value_len > 300 ? 300 : m->value_len),
                      (const char *)m->value);
        ck_assert_str_eq(detail, tdetail);
        if (code == RED_DLQ_NONE) {
                ck_assert_ptr_eq(ev.kind, tev.kind);
                ck_assert_int_eq(ev.time, tev.time);
                ck_assert_ptr_eq(ev.msg, m);
                for (size_t i = 0; i < c->slot_cnt; i++) {
                        ck_assert_msg(
                                value_eq(&vals[i], &tvals[i]),
                                "slot %s differs for %.*s", c->slot_names[i],
                                (int)(m->value_len > 300 ? 300 : m->value_len),
                                (const char *)m->value);
                }
                check_fsm_view(c, &ev, &tev, (const char *)m->value);
                red_decode_release(&tev);
        } else {
                ck_assert_str_ne(detail, "");
                ck_assert_ptr_null(ev.root);
                ck_assert_ptr_null(tev.root);
        }
        return code;
}

/* Decodes JSON text @p json from @p topic (Kafka timestamp -1, no header). */
static red_dlq_code_t dec(const red_contract_t *c, const char *topic,
                          const char *json)
{
        memset(&msg, 0, sizeof(msg));
        msg.topic = topic;
        msg.value = json;
        msg.value_len = strlen(json);
        msg.timestamp = -1;
        return decode_msg(c, &msg, t_now);
}

static const red_value_t *val(const char *field)
{
        int slot = red_contract_slot(ev.kind ? cg : NULL, field);

        ck_assert_int_ge(slot, 0);
        return &vals[slot];
}

/* Value of @p field in the last event of contract @p c. */
static const red_value_t *cval(const red_contract_t *c, const char *field)
{
        int slot = red_contract_slot(c, field);

        ck_assert_msg(slot >= 0, "no field %s", field);
        return &vals[slot];
}

static void assert_str(const red_value_t *v, const char *want)
{
        ck_assert_int_eq(v->type, RED_FT_STRING);
        ck_assert_uint_eq(v->s.len, strlen(want));
        ck_assert_msg(!memcmp(v->s.p, want, v->s.len), "got \"%.*s\", want %s",
                      (int)v->s.len, v->s.p, want);
}

/* ------------------------------------------------------------------ */

START_TEST(nested_and_flat)
{
        red_uuid_t id;

        ck_assert_int_eq(red_uuid_parse(WF, 36, &id), 0);
        ck_assert_int_eq(
                dec(cg, T_STARTED,
                    "{\"event_type\":\"NODE_GENERATION_STARTED\"," TS
                    ",\"payload\":{\"workflow_id\":\"" WF
                    "\",\"node_type\":\"effect\",\"domain\":\"api\"}}"),
                RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "started");
        ck_assert_int_eq(val("workflow_id")->type, RED_FT_UUID);
        ck_assert_int_eq(red_uuid_cmp(&val("workflow_id")->u, &id), 0);
        assert_str(val("node_type"), "effect");
        assert_str(val("domain"), "api");

        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"NODE_GENERATION_STARTED\"," TS
                             ",\"workflow_id\":\"" WF
                             "\",\"node_type\":\"compute\",\"domain\":\"ml\"}"),
                         RED_DLQ_NONE);
        ck_assert_int_eq(red_uuid_cmp(&val("workflow_id")->u, &id), 0);
        assert_str(val("node_type"), "compute");
        assert_str(val("domain"), "ml");
        ck_assert_int_eq(ev.time, tm("2025-11-06T10:00:00Z"));

        /* nested payload, a field only in the envelope: found there */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"CODEGEN_STARTED\"," TS
                             ",\"node_type\":\"reducer\",\"payload\":{"
                             "\"workflow_id\":\"" WF "\"}}"),
                         RED_DLQ_NONE);
        assert_str(val("node_type"), "reducer");
        ck_assert_int_eq(val("domain")->type, RED_FT_NONE);

        /* a "payload" that is not an object: the event is flat */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"CODEGEN_STARTED\"," TS
                             ",\"payload\":\"x\",\"workflow_id\":\"" WF "\"}"),
                         RED_DLQ_NONE);
}
END_TEST

START_TEST(timestamps)
{
        const char *pre = "{\"event_type\":\"CODEGEN_STARTED\",";
        const char *post = ",\"payload\":{\"workflow_id\":\"" WF "\"}}";
        char buf[512];

        snprintf(buf, sizeof(buf), "%s\"timestamp\":\"2025-11-06T10:00:00Z\"%s",
                 pre, post);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T10:00:00Z"));

        snprintf(buf, sizeof(buf),
                 "%s\"event_timestamp\":\"2025-11-06T10:00:01.25Z\"%s", pre,
                 post);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T10:00:01Z") + 250000);

        /* both: event_timestamp wins */
        snprintf(buf, sizeof(buf),
                 "%s\"timestamp\":\"2025-11-06T10:00:00Z\","
                 "\"event_timestamp\":\"2025-11-06T11:00:00Z\"%s",
                 pre, post);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T11:00:00Z"));

        /* no zone means UTC; an offset is honoured */
        snprintf(buf, sizeof(buf), "%s\"timestamp\":\"2025-11-06T10:00:00\"%s",
                 pre, post);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T10:00:00Z"));
        snprintf(buf, sizeof(buf),
                 "%s\"timestamp\":\"2025-11-06T12:00:00+02:00\"%s", pre, post);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T10:00:00Z"));

        /* payload-level timestamp when the envelope has none */
        ck_assert_int_eq(
                dec(cg, T_STARTED,
                    "{\"event_type\":\"CODEGEN_STARTED\",\"payload\":"
                    "{\"workflow_id\":\"" WF
                    "\",\"event_timestamp\":\"2025-11-06T09:30:00Z\"}}"),
                RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T09:30:00Z"));

        /* a null timestamp counts as absent: the other name is used */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"CODEGEN_STARTED\","
                             "\"event_timestamp\":null,"
                             "\"timestamp\":\"2025-11-06T08:00:00Z\","
                             "\"payload\":{\"workflow_id\":\"" WF "\"}}"),
                         RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T08:00:00Z"));

        snprintf(buf, sizeof(buf), "%s\"timestamp\":\"yesterday\"%s", pre,
                 post);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_INVALID_TIMESTAMP);
        ck_assert_str_eq(detail,
                         "timestamp: \"yesterday\" is not an ISO-8601 time");
        snprintf(buf, sizeof(buf), "%s\"event_timestamp\":1762423200%s", pre,
                 post);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_INVALID_TIMESTAMP);
        ck_assert_str_eq(detail, "event_timestamp: expected an ISO-8601 "
                                 "string, got an integer");
}
END_TEST

START_TEST(kafka_timestamp)
{
        const char *json = "{\"event_type\":\"CODEGEN_STARTED\",\"payload\":{"
                           "\"workflow_id\":\"" WF "\"}}";

        memset(&msg, 0, sizeof(msg));
        msg.topic = T_STARTED;
        msg.value = json;
        msg.value_len = strlen(json);
        msg.timestamp = tm("2025-11-06T07:00:00Z");
        ck_assert_int_eq(decode_msg(cg, &msg, t_now), RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, tm("2025-11-06T07:00:00Z"));

        msg.timestamp = -1;
        ck_assert_int_eq(decode_msg(cg, &msg, t_now),
                         RED_DLQ_MISSING_TIMESTAMP);
        ck_assert_str_eq(detail, "no timestamp or event_timestamp, and no "
                                 "Kafka message timestamp");
}
END_TEST

START_TEST(future_timestamp)
{
        char buf[512];

        /* exactly max_future_skew (5 min) ahead is accepted */
        snprintf(buf, sizeof(buf),
                 "{\"event_type\":\"CODEGEN_STARTED\",\"timestamp\":"
                 "\"2025-11-07T00:05:00Z\",\"payload\":{\"workflow_id\":"
                 "\"" WF "\"}}");
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_NONE);
        snprintf(buf, sizeof(buf),
                 "{\"event_type\":\"CODEGEN_STARTED\",\"timestamp\":"
                 "\"2025-11-07T00:05:00.001Z\",\"payload\":{\"workflow_id\":"
                 "\"" WF "\"}}");
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_FUTURE_TIMESTAMP);
        ck_assert_str_eq(detail, "event time 2025-11-07T00:05:00.001000Z is "
                                 "more than 300 s ahead of the clock");
        /* the clock is the caller's */
        msg.value = buf;
        msg.value_len = strlen(buf);
        ck_assert_int_eq(decode_msg(cg, &msg, t_now + RED_TIME_US_PER_SEC),
                         RED_DLQ_NONE);
}
END_TEST

START_TEST(event_type_sources)
{
        const char *body = "{" TS ",\"payload\":{\"workflow_id\":\"" WF
                           "\",\"event\":\"start_analysis\"}}";

        /* from the topic's single kind */
        ck_assert_int_eq(dec(cg, T_STARTED, body), RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "started");
        ck_assert_int_eq(dec(cg, T_FAILED, body), RED_DLQ_MISSING_FIELD);
        ck_assert_str_eq(detail, "failed_stage: required field is missing");

        /* several kinds on the topic and no type anywhere */
        ck_assert_int_eq(dec(cg, T_WORKFLOW, body), RED_DLQ_MISSING_EVENT_TYPE);
        ck_assert_str_eq(detail, "no event_type in the envelope or the "
                                 "headers, and topic " T_WORKFLOW
                                 " carries several event kinds");
        ck_assert_int_eq(dec(cg, NULL, body), RED_DLQ_MISSING_EVENT_TYPE);
        ck_assert_int_eq(dec(cg, "some.other.topic", body),
                         RED_DLQ_MISSING_EVENT_TYPE);

        /* from the Kafka header */
        memset(&msg, 0, sizeof(msg));
        msg.topic = T_WORKFLOW;
        msg.value = body;
        msg.value_len = strlen(body);
        msg.timestamp = -1;
        msg.header_type = "WORKFLOW_TRANSITION_REQUESTEDxyz";
        msg.header_type_len = strlen("WORKFLOW_TRANSITION_REQUESTED");
        ck_assert_int_eq(decode_msg(cg, &msg, t_now), RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "workflow_transition_requested");
        assert_str(val("event"), "start_analysis");
        msg.header_type = "NOPE";
        msg.header_type_len = 4;
        ck_assert_int_eq(decode_msg(cg, &msg, t_now),
                         RED_DLQ_UNKNOWN_EVENT_TYPE);
        ck_assert_str_eq(detail, "event_type header \"NOPE\" is not handled "
                                 "by contract codegen_metrics");

        /* the envelope wins over the header */
        body = "{\"event_type\":\"WORKFLOW_INITIALIZED\"," TS
               ",\"payload\":{\"workflow_id\":\"" WF "\"}}";
        msg.value = body;
        msg.value_len = strlen(body);
        ck_assert_int_eq(decode_msg(cg, &msg, t_now), RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "workflow_initialized");
        /* default applied */
        assert_str(val("initial_state"), "pending");

        /* in the payload when the envelope has none */
        ck_assert_int_eq(dec(cg, T_WORKFLOW,
                             "{" TS ",\"payload\":{\"event_type\":"
                             "\"WORKFLOW_INITIALIZED\",\"workflow_id\":\"" WF
                             "\"}}"),
                         RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "workflow_initialized");

        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"NODE_GENERATION_EXPLODED\"," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\"}}"),
                         RED_DLQ_UNKNOWN_EVENT_TYPE);
        ck_assert_str_eq(detail, "event_type \"NODE_GENERATION_EXPLODED\" is "
                                 "not handled by contract codegen_metrics");
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":7," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\"}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "event_type: expected a string, got an "
                                 "integer");
        /* a null type is no type: the topic decides */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":null," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\"}}"),
                         RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "started");
}
END_TEST

START_TEST(both_spellings)
{
        static const char *const kinds[] = {"STARTED", "STAGE_COMPLETED",
                                            "COMPLETED", "FAILED"};
        static const char *const names[] = {"started", "stage_completed",
                                            "completed", "failed"};
        const char *payload =
                "{\"workflow_id\":\"" WF "\",\"stage_name\":\"validation\","
                "\"stage_number\":6,\"duration_ms\":5,\"success\":true,"
                "\"total_duration_seconds\":2,\"quality_score\":0.9,"
                "\"failed_stage\":\"validation\"}";

        for (size_t k = 0; k < 4; k++) {
                for (int sp = 0; sp < 2; sp++) {
                        char buf[1024];
                        snprintf(buf, sizeof(buf),
                                 "{\"event_type\":\"%s%s\"," TS
                                 ",\"payload\":%s}",
                                 sp ? "CODEGEN_" : "NODE_GENERATION_", kinds[k],
                                 payload);
                        /* the topic does not matter when the type is given */
                        ck_assert_int_eq(dec(cg, T_WORKFLOW, buf),
                                         RED_DLQ_NONE);
                        ck_assert_str_eq(ev.kind->name, names[k]);
                }
        }
}
END_TEST

#define STAGE(fields)                                                          \
        "{\"event_type\":\"CODEGEN_STAGE_COMPLETED\"," TS                      \
        ",\"payload\":{\"workflow_id\":\"" WF "\",\"stage_name\":\"x\","       \
        "\"success\":true," fields "}}"

START_TEST(unit_normalisation)
{
        ck_assert_int_eq(
                dec(cg, T_STAGE,
                    STAGE("\"stage_number\":1,\"duration_seconds\":1.5")),
                RED_DLQ_NONE);
        ck_assert_int_eq(val("duration_ms")->type, RED_FT_NUMBER);
        ck_assert_double_eq(val("duration_ms")->d, 1500);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1200")),
                         RED_DLQ_NONE);
        ck_assert_double_eq(val("duration_ms")->d, 1200);
        /* the first name of `from` wins */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_seconds\":9,"
                                   "\"duration_ms\":7")),
                         RED_DLQ_NONE);
        ck_assert_double_eq(val("duration_ms")->d, 7);
        /* a null first name falls through to the next */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":null,"
                                   "\"duration_seconds\":0.25")),
                         RED_DLQ_NONE);
        ck_assert_double_eq(val("duration_ms")->d, 250);
        /* range checks apply to the normalised value */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,"
                                   "\"duration_seconds\":-0.5")),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "duration_ms: -500 is below the minimum 0");
}
END_TEST

START_TEST(integers)
{
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":5.0,\"duration_ms\":1")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("stage_number")->type, RED_FT_INTEGER);
        ck_assert_int_eq(val("stage_number")->i, 5);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":5e0,\"duration_ms\":1")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("stage_number")->i, 5);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":5.5,\"duration_ms\":1")),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail,
                         "stage_number: expected an integer, got a number");
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":\"5\",\"duration_ms\":1")),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail,
                         "stage_number: expected an integer, got a string");
        /* a number field takes integers */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":8,\"duration_ms\":3,"
                                   "\"tokens_consumed\":12,\"cost_usd\":2")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("tokens_consumed")->i, 12);
        ck_assert_int_eq(val("cost_usd")->type, RED_FT_NUMBER);
        ck_assert_double_eq(val("cost_usd")->d, 2);
        /* 19 digits: past int64, as jansson decides it */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"tokens_consumed\":99999999999999999999")),
                         RED_DLQ_INVALID_JSON);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"tokens_consumed\":9223372036854775807")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("tokens_consumed")->i, INT64_MAX);
        /* a huge real is out of the integer range */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"tokens_consumed\":1e300")),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1e400")),
                         RED_DLQ_INVALID_JSON);
}
END_TEST

#define COMPLETED(fields)                                                      \
        "{\"event_type\":\"NODE_GENERATION_COMPLETED\"," TS                    \
        ",\"payload\":{\"workflow_id\":\"" WF "\","                            \
        "\"total_duration_seconds\":3," fields "}}"

START_TEST(nulls_and_defaults)
{
        /* defaults: an integer and a string */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\"}"),
                         RED_DLQ_NONE);
        ck_assert_int_eq(cval(dfc, "count")->type, RED_FT_INTEGER);
        ck_assert_int_eq(cval(dfc, "count")->i, 7);
        ck_assert_int_eq(cval(dfc, "label")->type, RED_FT_STRING);
        ck_assert_uint_eq(cval(dfc, "label")->s.len, 4);
        /* null is absent: default applied, optional left out */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"count\":null,"
                             "\"ratio\":null}"),
                         RED_DLQ_NONE);
        ck_assert_int_eq(cval(dfc, "count")->i, 7);
        ck_assert_int_eq(cval(dfc, "ratio")->type, RED_FT_NONE);

        /* no default: total_tokens stays absent for the workflow's stage
         * sums to fill (workflows.totals) */
        ck_assert_int_eq(
                dec(cg, T_COMPLETED, COMPLETED("\"quality_score\":0.7")),
                RED_DLQ_NONE);
        ck_assert_int_eq(val("total_tokens")->type, RED_FT_NONE);
        ck_assert_int_eq(val("node_type")->type, RED_FT_NONE);
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.7,"
                                       "\"total_tokens\":null,"
                                       "\"node_type\":null")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("total_tokens")->type, RED_FT_NONE);
        ck_assert_int_eq(val("node_type")->type, RED_FT_NONE);
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.7,"
                                       "\"total_tokens\":42")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("total_tokens")->i, 42);

        /* required and null, or absent */
        ck_assert_int_eq(
                dec(cg, T_COMPLETED, COMPLETED("\"quality_score\":null")),
                RED_DLQ_MISSING_FIELD);
        ck_assert_str_eq(detail, "quality_score: required field is missing");
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             "{\"event_type\":\"CODEGEN_COMPLETED\"," TS
                             ",\"payload\":{\"workflow_id\":null,"
                             "\"total_duration_seconds\":3,"
                             "\"quality_score\":0.5}}"),
                         RED_DLQ_MISSING_FIELD);
        ck_assert_str_eq(detail, "workflow_id: required field is missing");
        /* null in the payload, present in the envelope: the envelope's */
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             "{\"event_type\":\"CODEGEN_COMPLETED\"," TS
                             ",\"quality_score\":0.25,\"payload\":{"
                             "\"workflow_id\":\"" WF
                             "\",\"quality_score\":null,"
                             "\"total_duration_seconds\":3}}"),
                         RED_DLQ_NONE);
        ck_assert_double_eq(val("quality_score")->d, 0.25);
}
END_TEST

START_TEST(enum_and_range)
{
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.7,"
                                       "\"node_type\":\"quantum\"")),
                         RED_DLQ_NOT_ALLOWED);
        ck_assert_str_eq(detail,
                         "node_type: \"quantum\" is not one of the allowed "
                         "values");
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.7,"
                                       "\"domain\":\"API\"")),
                         RED_DLQ_NOT_ALLOWED);
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.7,"
                                       "\"domain\":\"documentation\"")),
                         RED_DLQ_NONE);
        assert_str(val("domain"), "documentation");

        ck_assert_int_eq(
                dec(cg, T_COMPLETED, COMPLETED("\"quality_score\":1.7")),
                RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "quality_score: 1.7 is above the maximum 1");
        ck_assert_int_eq(
                dec(cg, T_COMPLETED, COMPLETED("\"quality_score\":-0.1")),
                RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "quality_score: -0.1 is below the minimum 0");
        /* the bounds themselves are in range */
        ck_assert_int_eq(dec(cg, T_COMPLETED, COMPLETED("\"quality_score\":1")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(dec(cg, T_COMPLETED, COMPLETED("\"quality_score\":0")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(
                dec(cg, T_STAGE, STAGE("\"stage_number\":9,\"duration_ms\":1")),
                RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "stage_number: 9 is above the maximum 8");
        ck_assert_int_eq(
                dec(cg, T_STAGE, STAGE("\"stage_number\":0,\"duration_ms\":1")),
                RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "stage_number: 0 is below the minimum 1");
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.5,"
                                       "\"total_tokens\":-3")),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "total_tokens: -3 is below the minimum 0");
}
END_TEST

/* A number field takes -1e15..1e15 (after scaling), whatever its range
 * says: what a cell's exact sum holds (red_event.h). */
START_TEST(number_limit)
{
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1e15")),
                         RED_DLQ_NONE);
        ck_assert_double_eq(val("duration_ms")->d, 1e15);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,"
                                   "\"duration_ms\":1.0000000000000002e15")),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail,
                         "duration_ms: 1000000000000000.2 is outside "
                         "-1e+15..1e+15, the range of numbers that sums hold "
                         "exactly");
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1e300")),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail,
                         "duration_ms: 1e+300 is outside -1e+15..1e+15, the "
                         "range of numbers that sums hold exactly");
        /* after scaling: 1e12 s is 1e15 ms, 1.5e12 s is too much */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,"
                                   "\"duration_seconds\":1e12")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,"
                                   "\"duration_seconds\":1.5e12")),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail,
                         "duration_ms: 1.5e+15 is outside -1e+15..1e+15, the "
                         "range of numbers that sums hold exactly");
        /* integers are 64-bit: their sums cannot overflow, no such bound */
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.5,"
                                       "\"total_tokens\":"
                                       "9000000000000000000")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("total_tokens")->i, INT64_C(9000000000000000000));
}
END_TEST

/* A stage event with duration @p dur (its JSON text); "esc" spells a
 * member name with an escape, which sends the fast path to jansson. */
static red_dlq_code_t stage_dur(const char *dur, bool esc)
{
        char buf[512];

        snprintf(buf, sizeof(buf), STAGE("\"stage_number\":1,\"%s\":%s"),
                 esc ? "duration\\u005fms" : "duration_ms", dur);
        return dec(cg, T_STAGE, buf);
}

/* Every number accepted can be stored: PostgreSQL's double precision
 * refuses what underflows to 0 ("1e-400"), takes denormals and -0. Both
 * paths judge alike (dec() holds them to it), also when jansson reads the
 * message and keeps only the double. */
START_TEST(storable_numbers)
{
        for (int esc = 0; esc < 2; esc++) {
                ck_assert_int_eq(stage_dur("1e-400", esc),
                                 RED_DLQ_OUT_OF_RANGE);
                ck_assert_str_eq(detail,
                                 "duration_ms: 1e-400 is closer to zero than "
                                 "a double can hold (underflow)");
                ck_assert_int_eq(stage_dur("0.00000000000000000000000000000"
                                           "00001e-300",
                                           esc),
                                 RED_DLQ_OUT_OF_RANGE);
                /* zeros with any exponent are zero */
                ck_assert_int_eq(stage_dur("0e-400", esc), RED_DLQ_NONE);
                ck_assert_double_eq(val("duration_ms")->d, 0);
                ck_assert_int_eq(stage_dur("0.000e5", esc), RED_DLQ_NONE);
                /* a denormal is a double, and PostgreSQL takes it */
                ck_assert_int_eq(stage_dur("5e-324", esc), RED_DLQ_NONE);
                ck_assert_double_gt(val("duration_ms")->d, 0);
                ck_assert_int_eq(stage_dur("2.2250738585072014e-308", esc),
                                 RED_DLQ_NONE);
                /* -0 stays -0 */
                ck_assert_int_eq(stage_dur("-0.0", esc), RED_DLQ_NONE);
                ck_assert(signbit(val("duration_ms")->d));
        }
        /* min 0 on duration_ms: a negative denormal is below it */
        ck_assert_int_eq(stage_dur("-5e-324", false), RED_DLQ_OUT_OF_RANGE);
        /* an integer field: the real that underflows is no 0 either */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"tokens_consumed\":1e-400")),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "tokens_consumed: 1e-400 is closer to zero "
                                 "than a double can hold (underflow)");
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"tokens_consumed\":0e-400")),
                         RED_DLQ_NONE);
        /* the extremes of int64 are integers; past them is no JSON jansson
         * reads (integers), or beyond the sums' range (reals) */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"tokens_consumed\":-9223372036854775808")),
                         RED_DLQ_OUT_OF_RANGE); /* min: 0 */
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.5,"
                                       "\"total_tokens\":"
                                       "9223372036854775807")),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("total_tokens")->i, INT64_MAX);
        ck_assert_int_eq(dec(cg, T_COMPLETED,
                             COMPLETED("\"quality_score\":0.5,"
                                       "\"total_tokens\":"
                                       "9223372036854775808")),
                         RED_DLQ_INVALID_JSON);
        ck_assert_int_eq(stage_dur("-1e15", false), RED_DLQ_OUT_OF_RANGE);
        ck_assert_int_eq(stage_dur("1.7976931348623157e308", false),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"ratio\":-1e15}"),
                         RED_DLQ_OUT_OF_RANGE);
}
END_TEST

/* A metric of decode_fields.yaml with event time @p ts and field "at"
 * @p at (JSON text, or NULL). */
static red_dlq_code_t metric_at(const char *ts, const char *at)
{
        char buf[512];

        snprintf(buf, sizeof(buf),
                 "{\"event_type\":\"metric.recorded\",\"timestamp\":\"%s\","
                 "\"metric_id\":\"" WF "\"%s%s}",
                 ts, at ? ",\"at\":" : "", at ? at : "");
        return dec(dfc, "test.metrics", buf);
}

/* Every time accepted can be stored, and so can its windows, partitions
 * and watermark: 0001-02-01..9999-12-01 (red_event.h). */
START_TEST(storable_times)
{
        /* the top end is far in the future: a clock that allows it */
        dfc->max_future_skew_us = INT64_MAX / 2;
        ck_assert_int_eq(metric_at("0001-01-01T00:00:00Z", NULL),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "timestamp: 0001-01-01T00:00:00Z is outside "
                                 "0001-02-01..9999-12-01, the times reducerd "
                                 "stores");
        ck_assert_int_eq(metric_at("0000-06-01T00:00:00Z", NULL),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_int_eq(metric_at("0001-01-31T23:59:59.999999Z", NULL),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_int_eq(metric_at("0001-02-01T00:00:00Z", NULL), RED_DLQ_NONE);
        ck_assert_int_eq(ev.time, RED_TIME_ACCEPT_MIN);
        /* an offset can take a time across the bound */
        ck_assert_int_eq(metric_at("0001-02-01T00:00:00+01:00", NULL),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_int_eq(metric_at("9999-11-30T23:59:59.999999Z", NULL),
                         RED_DLQ_NONE);
        ck_assert_int_eq(ev.time + 1, RED_TIME_ACCEPT_END);
        ck_assert_int_eq(metric_at("9999-12-01T00:00:00Z", NULL),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_int_eq(metric_at("9999-12-31T23:59:00-18:00", NULL),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "timestamp: +010000-01-01T17:59:00Z is "
                                 "outside 0001-02-01..9999-12-01, the times "
                                 "reducerd stores");
        /* a timestamp field likewise */
        ck_assert_int_eq(
                metric_at("2025-11-06T10:00:00Z", "\"0001-01-01T00:00:00Z\""),
                RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "at: 0001-01-01T00:00:00Z is outside "
                                 "0001-02-01..9999-12-01, the times reducerd "
                                 "stores");
        ck_assert_int_eq(
                metric_at("2025-11-06T10:00:00Z", "\"9999-12-31T23:59:59Z\""),
                RED_DLQ_OUT_OF_RANGE);
        ck_assert_int_eq(
                metric_at("2025-11-06T10:00:00Z", "\"0001-02-01T00:00:00Z\""),
                RED_DLQ_NONE);
        /* and a Kafka timestamp */
        memset(&msg, 0, sizeof(msg));
        msg.topic = "test.metrics";
        msg.value =
                "{\"event_type\":\"metric.recorded\",\"metric_id\":\"" WF "\"}";
        msg.value_len = strlen(msg.value);
        msg.timestamp = RED_TIME_ACCEPT_END;
        ck_assert_int_eq(decode_msg(dfc, &msg, t_now), RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "Kafka message timestamp: "
                                 "9999-12-01T00:00:00Z is outside "
                                 "0001-02-01..9999-12-01, the times reducerd "
                                 "stores");
        /* the bounds are the instants named */
        {
                red_civil_t lo = {.year = 1, .month = 2, .day = 1};
                red_civil_t hi = {.year = 9999, .month = 12, .day = 1};
                red_civil_t first = {.year = 1, .month = 1, .day = 1};
                ck_assert_int_eq(red_time_from_civil(&lo), RED_TIME_ACCEPT_MIN);
                ck_assert_int_eq(red_time_from_civil(&hi), RED_TIME_ACCEPT_END);
                ck_assert_int_eq(red_time_from_civil(&first),
                                 RED_TIME_STORE_MIN);
        }
}
END_TEST

START_TEST(string_lengths)
{
        char name[512], buf[1024];
        size_t n = 0;

        /* 100 two-byte characters: 200 bytes, 100 characters */
        for (int i = 0; i < 100; i++) {
                name[n++] = (char)0xc3;
                name[n++] = (char)0xa9;
        }
        name[n] = '\0';
        snprintf(buf, sizeof(buf),
                 STAGE("\"stage_number\":1,\"duration_ms\":1,"
                       "\"stage_name\":\"%s\""),
                 name);
        ck_assert_int_eq(dec(cg, T_STAGE, buf), RED_DLQ_NONE);
        ck_assert_uint_eq(val("stage_name")->s.len, 200);
        ck_assert_int_eq(memcmp(val("stage_name")->s.p, name, 200), 0);
        /* one more (a 3-byte character) is too long */
        snprintf(buf, sizeof(buf),
                 STAGE("\"stage_number\":1,\"duration_ms\":1,"
                       "\"stage_name\":\"%s\xe2\x9c\x93\""),
                 name);
        ck_assert_int_eq(dec(cg, T_STAGE, buf), RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "stage_name: 101 characters, allowed 1..100");
        /* escapes count as the characters they stand for */
        snprintf(buf, sizeof(buf),
                 STAGE("\"stage_number\":1,\"duration_ms\":1,"
                       "\"stage_name\":\"\\u00e9\\ud83d\\ude00\\n\""));
        ck_assert_int_eq(dec(cg, T_STAGE, buf), RED_DLQ_NONE);
        assert_str(val("stage_name"), "\xc3\xa9\xf0\x9f\x98\x80\n");
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"stage_name\":\"\"")),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "stage_name: 0 characters, allowed 1..100");
        /* valid JSON, but not storable text */
        ck_assert_int_eq(dec(cg, T_STAGE,
                             STAGE("\"stage_number\":1,\"duration_ms\":1,"
                                   "\"stage_name\":\"a\\u0000b\"")),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail,
                         "stage_name: a string with a NUL character (\\u0000)");

        /* min_length 2, max_length 5 of the small contract */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"name\":\"\xc3\xa9"
                             "\"}"),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "name: 1 characters, allowed 2..5");
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"name\":\"\xc3\xa9"
                             "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}"),
                         RED_DLQ_NONE);
        ck_assert_uint_eq(cval(dfc, "name")->s.len, 10);
}
END_TEST

START_TEST(booleans_and_uuids)
{
        ck_assert_int_eq(dec(cg, T_STAGE,
                             "{\"event_type\":\"CODEGEN_STAGE_COMPLETED\"," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"stage_name\":\"x\",\"stage_number\":1,"
                             "\"duration_ms\":1,\"success\":false}}"),
                         RED_DLQ_NONE);
        ck_assert_int_eq(val("success")->type, RED_FT_BOOLEAN);
        ck_assert(!val("success")->b);
        ck_assert_int_eq(dec(cg, T_STAGE,
                             "{\"event_type\":\"CODEGEN_STAGE_COMPLETED\"," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"stage_name\":\"x\",\"stage_number\":1,"
                             "\"duration_ms\":1,\"success\":\"yes\"}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "success: expected a boolean, got a string");
        ck_assert_int_eq(dec(cg, T_STAGE,
                             "{\"event_type\":\"CODEGEN_STAGE_COMPLETED\"," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"stage_name\":\"x\",\"stage_number\":1,"
                             "\"duration_ms\":1,\"success\":1}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "success: expected a boolean, got an integer");

        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{" TS ",\"payload\":{\"workflow_id\":"
                             "\"not-a-uuid\"}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "workflow_id: \"not-a-uuid\" is not a UUID");
        ck_assert_int_eq(
                dec(cg, T_STARTED, "{" TS ",\"payload\":{\"workflow_id\":12}}"),
                RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail,
                         "workflow_id: expected a uuid, got an integer");
        /* upper case and escapes are still the same UUID */
        ck_assert_int_eq(
                dec(cg, T_STARTED,
                    "{" TS ",\"payload\":{\"workflow_id\":"
                    "\"A0000000-0000-4000-8000-00000000000\\u0041\"}}"),
                RED_DLQ_NONE);
        {
                red_uuid_t id;
                ck_assert_int_eq(red_uuid_parse(WF, 36, &id), 0);
                ck_assert_int_eq(red_uuid_cmp(&val("workflow_id")->u, &id), 0);
        }
}
END_TEST

START_TEST(object_values)
{
        const red_value_t *v;

        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"tags\":{\"a\":\"1\","
                             "\"b\":\"\\u00e9\"},\"at\":"
                             "\"2025-11-06T10:00:00.5Z\",\"ratio\":-0.5}"),
                         RED_DLQ_NONE);
        v = cval(dfc, "tags");
        ck_assert_int_eq(v->type, RED_FT_OBJECT);
        {
                json_t *o = object_of(v);
                ck_assert_uint_eq(json_object_size(o), 2);
                ck_assert_str_eq(json_string_value(json_object_get(o, "b")),
                                 "\xc3\xa9");
                json_decref(o);
        }
        /* the fast path keeps the text as sent */
        ck_assert_ptr_nonnull(v->raw);
        ck_assert_int_eq(v->raw_len, strlen("{\"a\":\"1\",\"b\":\"\\u00e9\"}"));
        ck_assert_int_eq(cval(dfc, "at")->type, RED_FT_TIMESTAMP);
        ck_assert_int_eq(cval(dfc, "at")->t,
                         tm("2025-11-06T10:00:00Z") + 500000);
        ck_assert_int_eq(cval(dfc, "count")->i, 7);
        ck_assert_double_eq(cval(dfc, "ratio")->d, -0.5);
        assert_str(cval(dfc, "label"), "none");

        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"tags\":{\"a\":\"1\","
                             "\"x\":5}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "tags.x: expected a string, got an integer");
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF
                             "\",\"tags\":{\"y\":null}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "tags.y: expected a string, got null");
        /* duplicate keys: the last value counts, reported where the key
         * first appeared (as jansson keeps it) */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"tags\":{\"a\":1,"
                             "\"b\":2,\"a\":3}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "tags.a: expected a string, got an integer");
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"tags\":{\"a\":1,"
                             "\"a\":\"x\"}}"),
                         RED_DLQ_NONE);
        /* PostgreSQL's jsonb cannot hold \u0000 */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"tags\":{\"a\":"
                             "\"x\\u0000y\"}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "tags: contains \\u0000, which PostgreSQL "
                                 "cannot store");
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"tags\":[\"a\"]}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "tags: expected an object, got an array");
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"at\":\"noon\"}"),
                         RED_DLQ_INVALID_TIMESTAMP);
        ck_assert_str_eq(detail, "at: \"noon\" is not an ISO-8601 time");
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"ratio\":1.0000001}"),
                         RED_DLQ_OUT_OF_RANGE);
        ck_assert_str_eq(detail, "ratio: 1.0000001 is above the maximum 1");
}
END_TEST

START_TEST(fsm_members_kept)
{
        /* nested: guard keys and metadata of the payload, envelope metadata */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metadata\":{\"trace\":\"t1\"},\"payload\":{"
                             "\"metric_id\":\"" WF "\",\"may_close\":true,"
                             "\"metadata\":{\"reason\":\"done\"},"
                             "\"noise\":[1,2,{\"a\":null}]}}"),
                         RED_DLQ_NONE);
        ck_assert(json_is_true(json_object_get(ev.payload, "may_close")));
        ck_assert_str_eq(
                json_string_value(json_object_get(
                        json_object_get(ev.payload, "metadata"), "reason")),
                "done");
        ck_assert_str_eq(
                json_string_value(json_object_get(ev.metadata, "trace")), "t1");
        /* flat: the envelope metadata is the payload's, one object */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metadata\":{\"trace\":\"t2\"},"
                             "\"metric_id\":\"" WF "\",\"may_close\":0}"),
                         RED_DLQ_NONE);
        ck_assert_ptr_eq(json_object_get(ev.payload, "metadata"), ev.metadata);
        ck_assert_int_eq(
                json_integer_value(json_object_get(ev.payload, "may_close")),
                0);
        /* present but null is kept (a guard reads it as false) */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"may_close\":null}"),
                         RED_DLQ_NONE);
        ck_assert(json_is_null(json_object_get(ev.payload, "may_close")));
        /* duplicate keys: the last one counts, as in jansson */
        ck_assert_int_eq(dec(dfc, "test.metrics",
                             "{\"event_type\":\"metric.recorded\"," TS
                             ",\"metric_id\":\"" WF "\",\"may_close\":false,"
                             "\"ratio\":0.1,\"may_close\":true,\"ratio\":0.2}"),
                         RED_DLQ_NONE);
        ck_assert(json_is_true(json_object_get(ev.payload, "may_close")));
        ck_assert_double_eq(cval(dfc, "ratio")->d, 0.2);
}
END_TEST

START_TEST(extra_fields_ignored)
{
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_id\":\"e\",\"event_type\":"
                             "\"CODEGEN_STARTED\",\"event_version\":\"2.0\","
                             "\"correlation_id\":7,\"source_service\":null," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"prompt\":\"\\\"hi\\\" \\/ \\t\","
                             "\"unknown\":{\"deep\":[[[{}]]],\"n\":-1.5e-3},"
                             "\"node_type\":\"effect\"}}"),
                         RED_DLQ_NONE);
        assert_str(val("node_type"), "effect");
        ck_assert_int_eq(val("domain")->type, RED_FT_NONE);
}
END_TEST

START_TEST(size_limit)
{
        const char *head =
                "{\"event_type\":\"CODEGEN_STARTED\"," TS
                ",\"payload\":{\"workflow_id\":\"" WF "\"},\"pad\":\"";
        size_t hl = strlen(head);
        char *buf = malloc(RED_DECODE_MAX_BYTES + 2);

        /* exactly 1 MiB decodes */
        memcpy(buf, head, hl);
        memset(buf + hl, 'x', RED_DECODE_MAX_BYTES - hl - 2);
        memcpy(buf + RED_DECODE_MAX_BYTES - 2, "\"}", 2);
        memset(&msg, 0, sizeof(msg));
        msg.topic = T_STARTED;
        msg.value = buf;
        msg.value_len = RED_DECODE_MAX_BYTES;
        msg.timestamp = -1;
        ck_assert_int_eq(decode_msg(cg, &msg, t_now), RED_DLQ_NONE);
        /* one byte more does not */
        memcpy(buf + RED_DECODE_MAX_BYTES - 2, "x\"}", 3);
        msg.value_len = RED_DECODE_MAX_BYTES + 1;
        ck_assert_int_eq(decode_msg(cg, &msg, t_now), RED_DLQ_TOO_LARGE);
        ck_assert_str_eq(detail, "1048577 bytes, at most 1048576 are accepted");
        red_decode_release(&ev);
        free(buf);
}
END_TEST

/* An empty value and a tombstone are dead letters of their own kind. */
START_TEST(empty_value)
{
        ck_assert_int_eq(dec(cg, T_STARTED, ""), RED_DLQ_EMPTY_VALUE);
        ck_assert_str_eq(detail, "the message value is empty");
        ck_assert_str_eq(red_dlq_code_name(RED_DLQ_EMPTY_VALUE), "empty_value");
}
END_TEST

START_TEST(invalid_json)
{
        static const char *const bad_inputs[] = {
                " ",
                "{",
                "{\"event_type\":\"CODEGEN_STARTED\"",
                "{\"event_type\":\"CODEGEN_STARTED\",}",
                "{\"a\":1}x",
                "{\"a\":1}{}",
                "{'a':1}",
                "{\"a\":NaN}",
                "{\"a\":-Infinity}",
                "{\"a\":01}",
                "{\"a\":1.}",
                "{\"a\":.5}",
                "{\"a\":1e}",
                "{\"a\":-}",
                "{\"a\":+1}",
                "{\"a\":tru}",
                "{\"a\":truex}",
                "{\"a\":nul}",
                "{\"a\":\"\xc3\x28\"}",
                "{\"a\":\"\xc0\xaf\"}",
                "{\"a\":\"\xed\xa0\x80\"}",
                "{\"a\":\"\xf4\x90\x80\x80\"}",
                "{\"a\":\"\xff\"}",
                "{\"a\xff\":1}",
                "{\"a\":\"\\ud800\"}",
                "{\"a\":\"\\udc00\"}",
                "{\"a\":\"\\ud800\\u0041\"}",
                "{\"a\":\"\\x41\"}",
                "{\"a\":\"\\u12G4\"}",
                "{\"a\":\"tab\there\"}",
                "{\"a\":\"line\nbreak\"}",
                "{\"a\":[1,]}",
                "{\"a\":[1 2]}",
                "{\"a\" 1}",
                "{\"a\":1,,\"b\":2}",
                "{\"a\":1e999}",
                "{\"a\":-1e400}",
                "\xef\xbb\xbf{\"a\":1}",
        };
        char buf[64];

        for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(*bad_inputs); i++) {
                ck_assert_msg(dec(cg, T_STARTED, bad_inputs[i]) ==
                                      RED_DLQ_INVALID_JSON,
                              "input %zu (%s) is not invalid_json: %s", i,
                              bad_inputs[i], detail);
                ck_assert_msg(strstr(detail, " at line "), "%s", detail);
        }
        /* a NUL byte inside the message */
        memcpy(buf, "{\"a\":\"x\0y\"}", 11);
        memset(&msg, 0, sizeof(msg));
        msg.topic = T_STARTED;
        msg.value = buf;
        msg.value_len = 11;
        msg.timestamp = -1;
        ck_assert_int_eq(decode_msg(cg, &msg, t_now), RED_DLQ_INVALID_JSON);
        /* NULL value of length 0: a tombstone */
        msg.value = NULL;
        msg.value_len = 0;
        ck_assert_int_eq(decode_msg(cg, &msg, t_now), RED_DLQ_EMPTY_VALUE);
        ck_assert_str_eq(detail, "the message has no value (a tombstone)");
        /* the jansson wording, with the position */
        ck_assert_int_eq(dec(cg, T_STARTED, "{\"a\":NaN}"),
                         RED_DLQ_INVALID_JSON);
        ck_assert_str_eq(detail, "invalid token near 'NaN' at line 1 column "
                                 "8 (NaN and Infinity are not JSON numbers; "
                                 "a value must be finite)");
        ck_assert_int_eq(dec(cg, T_STARTED, "{\"a\":tru}"),
                         RED_DLQ_INVALID_JSON);
        ck_assert_str_eq(detail, "invalid token near 'tru' at line 1 column 8");
}
END_TEST

START_TEST(valid_json_corners)
{
        char buf[1024];
        size_t n;

        /* constructs the scanner leaves to jansson still decode */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_\\u0074ype\":\"CODEGEN_STARTED\"," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"x\":\"a\\u0000b\"}}"),
                         RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "started");
        ck_assert_int_eq(dec(cg, T_STARTED,
                             " \r\n\t{ \"event_type\" : \"CODEGEN_STARTED\" , "
                             "\"timestamp\" : \"2025-11-06T10:00:00Z\" , "
                             "\"payload\" : { \"workflow_id\" : \"" WF
                             "\" , \"n\" : [ ] , \"o\" : { } } } \n"),
                         RED_DLQ_NONE);
        /* 80 nested arrays, a huge real, an underflow */
        n = (size_t)snprintf(buf, sizeof(buf),
                             "{\"event_type\":\"\\u0043ODEGEN_STARTED\"," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"big\":1234567890123456789012345678.5,"
                             "\"tiny\":1e-400,\"deep\":");
        for (int i = 0; i < 80; i++) {
                buf[n++] = '[';
        }
        buf[n++] = '1';
        for (int i = 0; i < 80; i++) {
                buf[n++] = ']';
        }
        memcpy(buf + n, "}}", 3);
        ck_assert_int_eq(dec(cg, T_STARTED, buf), RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "started");
        /* an integer past int64 is an error in jansson */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{" TS ",\"payload\":{\"workflow_id\":\"" WF
                             "\",\"big\":123456789012345678901234567890}}"),
                         RED_DLQ_INVALID_JSON);
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{" TS ",\"payload\":{\"workflow_id\":\"" WF
                             "\",\"big\":-9223372036854775808}}"),
                         RED_DLQ_NONE);
}
END_TEST

/* jansson's words for @p text with its \u0000 escapes spelt \u0001 (what
 * the decoder reports for an error after a name with \u0000). */
static void jansson_error(const char *text, char *out, size_t size)
{
        char *copy = strdup(text), *p;
        json_error_t jerr;

        ck_assert_ptr_nonnull(copy);
        while ((p = strstr(copy, "\\u0000"))) {
                p[5] = '1';
        }
        ck_assert_ptr_null(json_loads(copy, JSON_DECODE_ANY, &jerr));
        snprintf(out, size, "%s at line %d column %d", jerr.text, jerr.line,
                 jerr.column);
        free(copy);
}

/*
 * \u0000 is valid JSON in a name as in a value (jansson's parser refuses
 * it in names: red_json_tree builds those trees). Where the event stores
 * JSON or text, a NUL is the same field error wherever it is; elsewhere it
 * is ignored; only invalid JSON is invalid_json.
 */
START_TEST(nul_in_names_and_values)
{
        red_contract_t *mini = load("tests/data/contracts/minimal.yaml");
        char want[256];

        /* valid JSON: the fields decide */
        ck_assert_int_eq(dec(cg, T_STARTED, "{\"\\u0000\":1}"),
                         RED_DLQ_MISSING_FIELD);
        ck_assert_str_eq(detail, "workflow_id: required field is missing");
        /* in names the event does not keep: ignored, like in values */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"CODEGEN_STARTED\"," TS
                             ",\"x\\u0000y\":{\"\\u0000\":[\"\\u0000\"]},"
                             "\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"n\\u0000\":1,\"n\\u0000\":2}}"),
                         RED_DLQ_NONE);
        ck_assert_str_eq(ev.kind->name, "started");
        ck_assert_ptr_nonnull(json_object_getn(ev.root, "x\0y", 3));
        /* duplicate names: the last counts, as json_loadb has it */
        ck_assert_int_eq(
                json_integer_value(json_object_getn(ev.payload, "n\0", 2)), 2);
        /* an object field: a NUL in a name is what a NUL in a value is */
        for (size_t i = 0; i < 2; i++) {
                char msg_text[512];
                snprintf(msg_text, sizeof(msg_text),
                         "{\"event_type\":\"metric.recorded\"," TS
                         ",\"metric_id\":\"" WF "\",\"tags\":%s}",
                         i ? "{\"a\\u0000\":\"x\"}" : "{\"a\":\"x\\u0000\"}");
                ck_assert_int_eq(dec(dfc, "test.metrics", msg_text),
                                 RED_DLQ_WRONG_TYPE);
                ck_assert_str_eq(detail, "tags: contains \\u0000, which "
                                         "PostgreSQL cannot store");
        }
        /* the metadata an FSM history row stores: the same */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"CODEGEN_STARTED\"," TS
                             ",\"metadata\":{\"k\\u0000\":1},"
                             "\"payload\":{\"workflow_id\":\"" WF "\"}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "metadata: contains \\u0000, which "
                                 "PostgreSQL cannot store");
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"CODEGEN_STARTED\"," TS
                             ",\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"metadata\":{\"k\":[\"\\u0000\"]}}}"),
                         RED_DLQ_WRONG_TYPE);
        ck_assert_str_eq(detail, "metadata: contains \\u0000, which "
                                 "PostgreSQL cannot store");
        /* the payload's metadata is the one stored: the envelope's is not */
        ck_assert_int_eq(dec(cg, T_STARTED,
                             "{\"event_type\":\"CODEGEN_STARTED\"," TS
                             ",\"metadata\":{\"k\\u0000\":1},"
                             "\"payload\":{\"workflow_id\":\"" WF "\","
                             "\"metadata\":{\"k\":1}}}"),
                         RED_DLQ_NONE);
        /* no FSM, no history row: metadata is not stored */
        ck_assert_int_eq(dec(mini, "test.events",
                             "{\"event_type\":\"DONE\"," TS
                             ",\"metadata\":{\"k\\u0000\":\"\\u0000\"},"
                             "\"job_id\":\"" WF "\"}"),
                         RED_DLQ_NONE);

        /* invalid JSON after such a name: jansson's words and position */
        static const char *const bad_after[] = {
                "{\"\\u0000\":1,}",
                "{\"a\\u0000\":1,\"b\":123456789012345678901234}",
                "{\"a\\u0000\":[1e999]}",
                "{\"a\\u0000\":1}\n{}",
                "{\"a\\u0000\":\"\\ud800\"}",
        };
        for (size_t i = 0; i < sizeof(bad_after) / sizeof(*bad_after); i++) {
                ck_assert_int_eq(dec(cg, T_STARTED, bad_after[i]),
                                 RED_DLQ_INVALID_JSON);
                jansson_error(bad_after[i], want, sizeof(want));
                ck_assert_str_eq(detail, want);
        }
        red_contract_destroy(mini);
}
END_TEST

START_TEST(not_an_object)
{
        static const char *const inputs[][2] = {
                {"[1,2]", "an array"}, {"\"str\"", "a string"},
                {"42", "an integer"},  {"4.5", "a number"},
                {"true", "a boolean"}, {"null", "null"},
        };
        char want[128];

        for (size_t i = 0; i < sizeof(inputs) / sizeof(*inputs); i++) {
                ck_assert_int_eq(dec(cg, T_STARTED, inputs[i][0]),
                                 RED_DLQ_NOT_AN_OBJECT);
                snprintf(want, sizeof(want),
                         "the message is %s, not a JSON object", inputs[i][1]);
                ck_assert_str_eq(detail, want);
        }
}
END_TEST

START_TEST(code_names)
{
        for (int a = 0; a < RED_DLQ__CNT; a++) {
                const char *na = red_dlq_code_name((red_dlq_code_t)a);
                ck_assert_ptr_nonnull(na);
                ck_assert_uint_gt(strlen(na), 0);
                ck_assert_str_ne(na, "unknown");
                for (int b = 0; b < a; b++) {
                        ck_assert_str_ne(na,
                                         red_dlq_code_name((red_dlq_code_t)b));
                }
        }
        ck_assert_str_eq(red_dlq_code_name(RED_DLQ_INVALID_JSON),
                         "invalid_json");
        ck_assert_str_eq(red_dlq_code_name(RED_DLQ_FUTURE_TIMESTAMP),
                         "future_timestamp");
        ck_assert_str_eq(red_dlq_code_name(RED_DLQ__CNT), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ */
/* generated streams and mutations: fast path == tree path              */
/* ------------------------------------------------------------------ */

static void decode_line(const gen_line_t *l, red_dlq_code_t *code)
{
        memset(&msg, 0, sizeof(msg));
        msg.topic = l->topic;
        msg.partition = l->partition;
        msg.value = l->text;
        msg.value_len = l->len;
        msg.timestamp = -1;
        *code = decode_msg(cg, &msg, t_now);
}

START_TEST(generated_streams)
{
        gen_opts_t o;
        gen_line_t l;
        gen_t *g;
        size_t seen[GEN_P__CNT + 1] = {0}, kinds[GEN_KIND_CNT] = {0};
        red_dlq_code_t code;
        uint64_t codes = 0;

        /* clean: every line decodes, all kinds and spellings */
        gen_opts_default(&o);
        o.events = 20000;
        o.days = 2;
        o.start = tm("2025-11-03T00:00:00Z");
        ck_assert_ptr_null(gen_topics_from(&o, cg));
        ck_assert_ptr_nonnull(g = gen_new(&o));
        while (gen_next(g, &l)) {
                decode_line(&l, &code);
                ck_assert_msg(code == RED_DLQ_NONE, "%s: %.*s", detail,
                              (int)l.len, l.text);
                ck_assert_str_eq(ev.kind->name, gen_kind_names[l.kind]);
                ck_assert_int_eq(ev.time, l.time);
                kinds[l.kind]++;
        }
        gen_destroy(g);
        for (int k = 0; k < GEN_KIND_CNT; k++) {
                ck_assert_uint_gt(kinds[k], 100);
        }

        /* all poison: every line is dead-lettered, with many codes */
        o.poison_permille = 1000;
        o.seed = 7;
        o.events = 5000;
        ck_assert_ptr_nonnull(g = gen_new(&o));
        while (gen_next(g, &l)) {
                decode_line(&l, &code);
                ck_assert_msg(code != RED_DLQ_NONE,
                              "poison variant %d decoded: %.*s", l.poison - 1,
                              (int)l.len, l.text);
                ck_assert_int_gt(l.poison, 0);
                seen[l.poison]++;
                codes |= UINT64_C(1) << code;
        }
        gen_destroy(g);
        for (int v = 1; v <= GEN_P__CNT; v++) {
                ck_assert_msg(seen[v] > 0, "variant %d never made", v - 1);
        }
        for (int c = RED_DLQ_INVALID_JSON; c <= RED_DLQ_FUTURE_TIMESTAMP; c++) {
                if (c == RED_DLQ_TOO_LARGE || c == RED_DLQ_MISSING_TIMESTAMP) {
                        continue;
                }
                ck_assert_msg(codes & (UINT64_C(1) << c), "no %s",
                              red_dlq_code_name((red_dlq_code_t)c));
        }
}
END_TEST

START_TEST(mutations_agree)
{
        static const char inserts[][8] = {
                "\"",      "\\",   "{", "}",  "[",    "]",     ",",     ":",
                "0",       "-",    ".", "e",  "\xc3", "\x80",  "\xff",  "\\u",
                "\\ud800", "null", " ", "\n", "\x01", "1e999", "\"\":", "\\\"",
        };
        gen_opts_t o;
        gen_line_t l;
        gen_rng_t rng;
        char buf[GEN_LINE_MAX + 64];
        size_t n = 0, ok = 0;
        gen_t *g;

        gen_opts_default(&o);
        o.events = 4000;
        o.poison_permille = 100;
        o.seed = 99;
        o.start = tm("2025-11-03T00:00:00Z");
        ck_assert_ptr_nonnull(g = gen_new(&o));
        gen_rng_seed(&rng, 4242);
        while (gen_next(g, &l)) {
                for (int m = 0; m < 6; m++) {
                        size_t len = l.len, at = gen_below(&rng, (uint32_t)len);
                        red_dlq_code_t code;
                        gen_line_t cp = l;

                        memcpy(buf, l.text, len);
                        switch (m) {
                        case 0: /* flip a byte */
                                buf[at] = (char)gen_u64(&rng);
                                break;
                        case 1: /* truncate */
                                len = at;
                                break;
                        case 2: { /* insert a token */
                                const char *ins = inserts[gen_below(
                                        &rng,
                                        sizeof(inserts) / sizeof(*inserts))];
                                size_t il = strlen(ins);
                                memmove(buf + at + il, buf + at, len - at);
                                memcpy(buf + at, ins, il);
                                len += il;
                                break;
                        }
                        case 3: /* delete a byte */
                                memmove(buf + at, buf + at + 1, len - at - 1);
                                len--;
                                break;
                        case 4: /* swap two bytes */ {
                                size_t b = gen_below(&rng, (uint32_t)len);
                                char t = buf[at];
                                buf[at] = buf[b];
                                buf[b] = t;
                                break;
                        }
                        default: /* unchanged */
                                break;
                        }
                        cp.text = buf;
                        cp.len = len;
                        decode_line(&cp, &code);
                        ok += code == RED_DLQ_NONE;
                        n++;
                }
        }
        gen_destroy(g);
        ck_assert_uint_eq(n, 24000);
        /* the mutations leave some valid, break most */
        ck_assert_uint_gt(ok, 4000);
        ck_assert_uint_lt(ok, 20000);
}
END_TEST

/* Object fields: the fast path checks members on the spans, the tree
 * path on jansson's objects; mutated messages must be judged alike. */
START_TEST(object_mutations_agree)
{
        static const char *const tags[] = {
                "{\"a\":\"1\",\"b\":\"x y\"}",
                "{}",
                "{\"a\":\"1\",\"a\":\"2\"}",
                "{\"k\":\"\\u00e9\\n\",\"n\":{\"deep\":[1,2,{\"x\":null}]}}",
                "{\"a\":1,\"b\":\"2\",\"a\":\"3\"}",
                "{ \"spaced\" : \"v\" , \"t\" : \"true\" }",
        };
        gen_rng_t rng;
        char line[512], buf[600];
        size_t n = 0, ok = 0;

        gen_rng_seed(&rng, 77);
        for (int round = 0; round < 3000; round++) {
                const char *t = tags[round % 6];
                int len = snprintf(line, sizeof(line),
                                   "{\"event_type\":\"metric.recorded\"," TS
                                   ",\"metric_id\":\"" WF "\",\"tags\":%s,"
                                   "\"ratio\":0.5}",
                                   t);
                size_t at = gen_below(&rng, (uint32_t)len), l = (size_t)len;
                const char *ins[] = {"\"", "{",     "}",       ",",    ":", "1",
                                     "[",  "\"\":", "\\u0000", "null", "\\"};

                memcpy(buf, line, l);
                switch (round % 4) {
                case 0:
                        break;
                case 1:
                        buf[at] = (char)gen_u64(&rng);
                        break;
                case 2: {
                        const char *i = ins[gen_below(&rng, 11)];
                        size_t il = strlen(i);
                        memmove(buf + at + il, buf + at, l - at);
                        memcpy(buf + at, i, il);
                        l += il;
                        break;
                }
                default:
                        memmove(buf + at, buf + at + 1, l - at - 1);
                        l--;
                        break;
                }
                memset(&msg, 0, sizeof(msg));
                msg.topic = "test.metrics";
                msg.value = buf;
                msg.value_len = l;
                msg.timestamp = -1;
                ok += decode_msg(dfc, &msg, t_now) == RED_DLQ_NONE;
                n++;
        }
        ck_assert_uint_gt(ok, 300);
        ck_assert_uint_lt(ok, n);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("decode");
        TCase *tc = tcase_create("envelope");
        TCase *tf = tcase_create("fields");
        TCase *tj = tcase_create("json");
        TCase *tg = tcase_create("generated");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_checked_fixture(tf, setup, teardown);
        tcase_add_checked_fixture(tj, setup, teardown);
        tcase_add_checked_fixture(tg, setup, teardown);
        tcase_add_test(tc, nested_and_flat);
        tcase_add_test(tc, timestamps);
        tcase_add_test(tc, kafka_timestamp);
        tcase_add_test(tc, future_timestamp);
        tcase_add_test(tc, event_type_sources);
        tcase_add_test(tc, both_spellings);
        tcase_add_test(tf, unit_normalisation);
        tcase_add_test(tf, number_limit);
        tcase_add_test(tf, storable_numbers);
        tcase_add_test(tf, storable_times);
        tcase_add_test(tf, integers);
        tcase_add_test(tf, nulls_and_defaults);
        tcase_add_test(tf, enum_and_range);
        tcase_add_test(tf, string_lengths);
        tcase_add_test(tf, booleans_and_uuids);
        tcase_add_test(tf, object_values);
        tcase_add_test(tf, fsm_members_kept);
        tcase_add_test(tf, extra_fields_ignored);
        tcase_add_test(tj, size_limit);
        tcase_add_test(tj, empty_value);
        tcase_add_test(tj, invalid_json);
        tcase_add_test(tj, valid_json_corners);
        tcase_add_test(tj, nul_in_names_and_values);
        tcase_add_test(tj, not_an_object);
        tcase_add_test(tj, code_names);
        tcase_add_test(tg, generated_streams);
        tcase_add_test(tg, mutations_agree);
        tcase_add_test(tg, object_mutations_agree);
        tcase_set_timeout(tg, 60);
        suite_add_tcase(s, tc);
        suite_add_tcase(s, tf);
        suite_add_tcase(s, tj);
        suite_add_tcase(s, tg);
        return test_main(s);
}
