/* Tests for red_state: the column rules, create/delete/revive, staleness
 * and its events, restoring rows, lists. */
#include "red_test.h"

#include "red_state.h"

#include <stdlib.h>
#include <string.h>

#define NOW   "2025-11-07T00:00:00Z"
#define ITEMS "t.items"
#define INTRO "dev.omninode-bridge.registry.node-introspection.v1"
#define BEAT  "dev.omninode-bridge.registry.node-heartbeat.v1"
#define DEREG "dev.omninode-bridge.registry.node-deregistration.v1"

/* Decodes one message and applies it; the event stays alive in @p keep. */
static void apply(red_state_table_t *t, const red_contract_t *c,
                  const char *topic, const char *json)
{
        test_event_t *te =
                test_event(c, topic, 0, 0, test_time(NOW), "%s", json);

        ck_assert_int_eq(red_state_table_note(t, &te->ev), 0);
        ck_assert_int_eq(red_state_table_loaded(t), 0);
        ck_assert_int_eq(red_state_table_apply(t, &te->ev), 0);
        test_event_free(te);
}

/* The row of @p key as JSON (red_state_row_json()), or NULL. */
static json_t *row_of(red_state_table_t *t, const char *key)
{
        size_t cnt;
        red_state_row_t **rows = red_state_table_rows(t, &cnt);

        for (size_t i = 0; i < cnt; i++) {
                if (!strcmp(rows[i]->key, key)) {
                        red_buf_t b;
                        json_t *j;
                        red_buf_init(&b);
                        red_state_row_json(t, rows[i], &b);
                        j = json_loads(b.data, 0, NULL);
                        red_buf_destroy(&b);
                        ck_assert_ptr_nonnull(j);
                        return j;
                }
        }
        return NULL;
}

static const char *str_of(json_t *row, const char *col)
{
        json_t *v = json_object_get(row, col);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The changes of the batch's events, as "created,status,..." */
static char *changes(red_state_table_t *t)
{
        static const char *const names[] = {"created", "deleted", "status"};
        static char buf[512];
        size_t cnt;
        const red_state_event_t *ev = red_state_table_events(t, &cnt);

        buf[0] = '\0';
        for (size_t i = 0; i < cnt; i++) {
                strcat(buf, i ? "," : "");
                strcat(buf, names[ev[i].change]);
        }
        return buf;
}

START_TEST(column_rules_in_any_order)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/state_rules.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        json_t *row;

        /* the newer event first, the older one after (a late event) */
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"new\","
              "\"score\":2,\"attrs\":{\"x\":2,\"color\":\"red\"},"
              "\"timestamp\":\"2025-11-06T10:00:10Z\"}");
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"old\","
              "\"score\":5,\"attrs\":{\"x\":1,\"y\":1,\"color\":7},"
              "\"timestamp\":\"2025-11-06T10:00:00Z\"}");
        row = row_of(t, "a");
        ck_assert_ptr_nonnull(row);
        /* latest: the newer event's, whatever the order of arrival */
        ck_assert_str_eq(str_of(row, "name"), "new");
        /* first: the older event's */
        ck_assert_str_eq(str_of(row, "first_name"), "old");
        ck_assert_str_eq(str_of(row, "first_seen"), "2025-11-06T10:00:00Z");
        /* max, count */
        ck_assert_double_eq(json_number_value(json_object_get(row, "best")), 5);
        ck_assert_int_eq(json_integer_value(json_object_get(row, "puts")), 2);
        /* merge: members of both, the newer event's win */
        ck_assert_int_eq(json_integer_value(json_object_get(
                                 json_object_get(row, "attrs"), "x")),
                         2);
        ck_assert_int_eq(json_integer_value(json_object_get(
                                 json_object_get(row, "attrs"), "y")),
                         1);
        /* a member of the declared type only: 7 is not a string */
        ck_assert_str_eq(str_of(row, "color"), "red");
        json_decref(row);
        red_state_table_commit(t);
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

START_TEST(delete_and_revive)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/state_rules.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        json_t *row;

        /* a removal of an unknown key changes nothing */
        apply(t, c, ITEMS,
              "{\"event_type\":\"REMOVE\",\"id\":\"a\","
              "\"timestamp\":\"2025-11-06T09:00:00Z\"}");
        ck_assert_ptr_null(row_of(t, "a"));
        ck_assert_str_eq(changes(t), "");
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"n\","
              "\"timestamp\":\"2025-11-06T10:00:00Z\"}");
        apply(t, c, ITEMS,
              "{\"event_type\":\"REMOVE\",\"id\":\"a\","
              "\"timestamp\":\"2025-11-06T10:05:00Z\"}");
        row = row_of(t, "a");
        ck_assert_str_eq(str_of(row, "deleted_at"), "2025-11-06T10:05:00Z");
        json_decref(row);
        /* a registration older than the removal does not bring it back */
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"late\","
              "\"timestamp\":\"2025-11-06T10:01:00Z\"}");
        row = row_of(t, "a");
        ck_assert_str_eq(str_of(row, "deleted_at"), "2025-11-06T10:05:00Z");
        ck_assert_str_eq(str_of(row, "name"), "n");
        json_decref(row);
        /* a newer one does */
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"back\","
              "\"timestamp\":\"2025-11-06T10:06:00Z\"}");
        row = row_of(t, "a");
        ck_assert(json_is_null(json_object_get(row, "deleted_at")));
        ck_assert_str_eq(str_of(row, "name"), "back");
        json_decref(row);
        ck_assert_str_eq(changes(t), "created,deleted,created");
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

/* A removal older than the row's newest registration is ignored. */
START_TEST(delete_older_than_registration)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/state_rules.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        json_t *row;

        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\","
              "\"timestamp\":\"2025-11-06T10:00:00Z\"}");
        apply(t, c, ITEMS,
              "{\"event_type\":\"REMOVE\",\"id\":\"a\","
              "\"timestamp\":\"2025-11-06T09:59:00Z\"}");
        row = row_of(t, "a");
        ck_assert(json_is_null(json_object_get(row, "deleted_at")));
        json_decref(row);
        ck_assert_str_eq(changes(t), "created");
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

static int count_item(void *arg, const json_t *const *members)
{
        (*(int *)arg)++;
        ck_assert(json_is_string(members[0]));
        return 0;
}

START_TEST(list_items_first_of_each)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/state_rules.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        size_t cnt;
        red_state_row_t **rows;
        int n = 0;

        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"tags\":[{\"k\":\"x\","
              "\"v\":1},{\"k\":\"y\"},{\"k\":\"x\",\"v\":2}],"
              "\"timestamp\":\"2025-11-06T10:00:00Z\"}");
        rows = red_state_table_rows(t, &cnt);
        ck_assert_uint_eq(cnt, 1);
        ck_assert_int_eq(red_state_list_items(&c->states[0].lists[0], rows[0],
                                              count_item, &n),
                         0);
        ck_assert_int_eq(n, 2);
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

/* The registry: heartbeats keep a node healthy; without them it turns
 * unhealthy after 3 x its interval, once; a heartbeat brings it back. */
START_TEST(staleness)
{
        red_contract_t *c = test_contract("contracts/node_registry.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        size_t cnt;
        red_state_row_t **rows;
        const red_state_event_t *ev;
        json_t *p;

        apply(t, c, INTRO,
              "{\"event_type\":\"NODE_INTROSPECTION\",\"node_id\":\"n1\","
              "\"node_name\":\"N\",\"node_type\":\"effect\",\"version\":"
              "\"1.0.0\",\"health_check\":{\"interval_seconds\":10},"
              "\"timestamp\":\"2025-11-06T10:00:00Z\"}");
        apply(t, c, BEAT,
              "{\"event_type\":\"NODE_HEARTBEAT\",\"node_id\":\"n1\","
              "\"health_status\":\"healthy\","
              "\"timestamp\":\"2025-11-06T10:00:10Z\"}");
        ck_assert_str_eq(changes(t), "created");
        red_state_table_commit(t);
        rows = red_state_table_rows(t, &cnt);
        ck_assert_uint_eq(cnt, 1);
        /* 10:00:10 + 3 x 10 s = 10:00:40: fresh until then */
        ck_assert_str_eq(red_state_effective(t, rows[0],
                                             test_time("2025-11-06T10:00:40Z")),
                         "healthy");
        ck_assert_str_eq(red_state_effective(t, rows[0],
                                             test_time("2025-11-06T10:00:41Z")),
                         "unhealthy");
        ck_assert_int_eq(
                red_state_table_sweep(t, test_time("2025-11-06T10:00:30Z")), 0);
        ck_assert_str_eq(changes(t), "");
        ck_assert_int_eq(
                red_state_table_sweep(t, test_time("2025-11-06T10:01:00Z")), 0);
        ck_assert_str_eq(changes(t), "status");
        ev = red_state_table_events(t, &cnt);
        p = json_loads(ev[0].payload, 0, NULL);
        ck_assert_str_eq(str_of(p, "health_status"), "unhealthy");
        ck_assert_str_eq(str_of(p, "previous_health_status"), "healthy");
        ck_assert_str_eq(str_of(p, "reason"), "stale");
        json_decref(p);
        red_state_table_commit(t);
        /* once: a later sweep finds nothing new */
        ck_assert_int_eq(
                red_state_table_sweep(t, test_time("2025-11-06T10:02:00Z")), 0);
        ck_assert_str_eq(changes(t), "");
        /* a heartbeat brings it back, a degraded one says so */
        apply(t, c, BEAT,
              "{\"event_type\":\"NODE_HEARTBEAT\",\"node_id\":\"n1\","
              "\"health_status\":\"degraded\","
              "\"timestamp\":\"2025-11-06T10:03:00Z\"}");
        ck_assert_str_eq(changes(t), "status");
        ev = red_state_table_events(t, &cnt);
        p = json_loads(ev[0].payload, 0, NULL);
        ck_assert_str_eq(str_of(p, "health_status"), "degraded");
        ck_assert_str_eq(str_of(p, "previous_health_status"), "unhealthy");
        ck_assert_str_eq(str_of(p, "reason"), "reported");
        json_decref(p);
        /* heartbeats of unknown nodes change nothing */
        apply(t, c, BEAT,
              "{\"event_type\":\"NODE_HEARTBEAT\",\"node_id\":\"ghost\","
              "\"health_status\":\"healthy\","
              "\"timestamp\":\"2025-11-06T10:03:00Z\"}");
        ck_assert_ptr_null(row_of(t, "ghost"));
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

/* A stored row restored from storage is what later events fold into;
 * keys looked up and not found are remembered as absent. */
START_TEST(restore_and_missing)
{
        red_contract_t *c = test_contract("contracts/node_registry.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        test_event_t *te = test_event(
                c, BEAT, 0, 0, test_time(NOW),
                "{\"event_type\":\"NODE_HEARTBEAT\",\"node_id\":\"n1\","
                "\"health_status\":\"degraded\","
                "\"timestamp\":\"2025-11-06T10:00:10Z\"}");
        test_event_t *te2 = test_event(
                c, BEAT, 0, 1, test_time(NOW),
                "{\"event_type\":\"NODE_HEARTBEAT\",\"node_id\":\"n2\","
                "\"health_status\":\"healthy\","
                "\"timestamp\":\"2025-11-06T10:00:10Z\"}");
        char *const *missing;
        size_t cnt;
        red_state_row_t *row;
        json_t *j;
        int status_col = c->states[0].stale->status_col;

        ck_assert_int_eq(red_state_table_note(t, &te->ev), 0);
        ck_assert_int_eq(red_state_table_note(t, &te2->ev), 0);
        ck_assert_int_eq(red_state_table_note(t, &te->ev), 0);
        missing = red_state_table_missing(t, &cnt);
        ck_assert_uint_eq(cnt, 2);
        ck_assert_str_eq(missing[0], "n1");
        row = red_state_table_restore(t, "n1");
        red_state_row_set(row, (size_t)status_col, json_string("healthy"),
                          test_time("2025-11-06T10:00:00Z"));
        row->status = strdup("healthy");
        ck_assert_int_eq(red_state_table_loaded(t), 0);
        red_state_table_missing(t, &cnt);
        ck_assert_uint_eq(cnt, 0);
        ck_assert_int_eq(red_state_table_apply(t, &te->ev), 0);
        ck_assert_int_eq(red_state_table_apply(t, &te2->ev), 0);
        j = row_of(t, "n1");
        ck_assert_str_eq(str_of(j, "health_status"), "degraded");
        ck_assert_int_eq(
                json_integer_value(json_object_get(j, "heartbeat_count")), 1);
        json_decref(j);
        ck_assert_ptr_null(row_of(t, "n2"));
        ck_assert_str_eq(changes(t), "status");
        /* noting a known key again adds nothing */
        ck_assert_int_eq(red_state_table_note(t, &te->ev), 0);
        red_state_table_missing(t, &cnt);
        ck_assert_uint_eq(cnt, 0);
        test_event_free(te);
        test_event_free(te2);
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

/* The same change replayed after a rollback keeps its event id. */
START_TEST(event_ids_stable)
{
        red_contract_t *c = test_contract("contracts/node_registry.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        const char *intro =
                "{\"event_type\":\"NODE_INTROSPECTION\",\"node_id\":\"n1\","
                "\"node_name\":\"N\",\"node_type\":\"effect\",\"version\":"
                "\"1.0.0\",\"timestamp\":\"2025-11-06T10:00:00Z\"}";
        const red_state_event_t *ev;
        red_uuid_t first;
        size_t cnt;

        apply(t, c, INTRO, intro);
        ev = red_state_table_events(t, &cnt);
        ck_assert_uint_eq(cnt, 1);
        first = ev[0].id;
        red_state_table_rollback(t);
        apply(t, c, INTRO, intro);
        ev = red_state_table_events(t, &cnt);
        ck_assert_uint_eq(cnt, 1);
        ck_assert_int_eq(red_uuid_cmp(&first, &ev[0].id), 0);
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

/* The text of item @p key's row (static), or NULL when null. */
static const char *text_of(red_state_table_t *t, const char *key)
{
        static char buf[1024];
        json_t *row = row_of(t, key);
        const char *v;

        ck_assert_ptr_nonnull(row);
        v = str_of(row, "text");
        if (v) {
                snprintf(buf, sizeof(buf), "%s", v);
        }
        json_decref(row);
        return v ? buf : NULL;
}

/* text_of follows the row's merged, latest values, whichever event
 * changed them, in any order of arrival. */
START_TEST(text_follows_the_row)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/state_text.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        size_t cnt;
        red_state_row_t **rows;
        red_buf_t b;

        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"Node A\","
              "\"tags\":[{\"k\":\"x\",\"v\":\"one\"},{\"k\":\"y\"}],"
              "\"attrs\":{\"zeta\":\"z\",\"b\":\"bee\",\"n\":5,"
              "\"aa\":\"two a\"},\"timestamp\":\"2025-11-06T10:00:10Z\"}");
        /* attrs in jsonb's member order (b, n, aa, zeta), 5 not a string */
        ck_assert_str_eq(text_of(t, "a"), "Node A x one y bee two a z");
        /* only attrs: merged into the stored members, the name stays */
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"attrs\":{\"b\":\"bus\","
              "\"c\":\"sea\"},\"timestamp\":\"2025-11-06T10:00:20Z\"}");
        ck_assert_str_eq(text_of(t, "a"), "Node A x one y bus sea two a z");
        /* a late event: its name loses, its new member joins */
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"Old\","
              "\"attrs\":{\"b\":\"old\",\"q\":\"late\"},"
              "\"timestamp\":\"2025-11-06T10:00:05Z\"}");
        ck_assert_str_eq(text_of(t, "a"),
                         "Node A x one y bus sea late two a z");
        /* an event that changes none of its columns keeps it */
        apply(t, c, ITEMS,
              "{\"event_type\":\"BEAT\",\"id\":\"a\","
              "\"timestamp\":\"2025-11-06T10:00:30Z\"}");
        ck_assert_str_eq(text_of(t, "a"),
                         "Node A x one y bus sea late two a z");
        /* no state_times entry: the text has no event time of its own */
        rows = red_state_table_rows(t, &cnt);
        ck_assert_uint_eq(cnt, 1);
        red_buf_init(&b);
        red_state_times_json(t, rows[0], &b);
        ck_assert_ptr_null(strstr(b.data, "\"text\""));
        ck_assert_ptr_nonnull(strstr(b.data, "\"attrs\""));
        red_buf_destroy(&b);
        /* a row without any part's value: the empty text, as concat_ws */
        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"b\",\"tags\":[\"loose\",1],"
              "\"timestamp\":\"2025-11-06T10:00:10Z\"}");
        ck_assert_str_eq(text_of(t, "b"), "");
        red_state_table_commit(t);
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

/* Values that are not strings read as PostgreSQL's ->> prints the stored
 * jsonb: numbers as numeric, objects and arrays as jsonb text in its
 * member order and escapes; an object item without the members is an
 * empty piece; items that are not objects give none. */
START_TEST(text_reads_values_as_jsonb)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/state_text.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);

        apply(t, c, ITEMS,
              "{\"event_type\":\"PUT\",\"id\":\"a\",\"name\":\"N\","
              "\"tags\":[{\"k\":{\"bb\":1,\"a\":[true,null,false],"
              "\"ab\":{}},\"v\":2.5},\"loose\",{},{\"k\":null,\"v\":1e20},"
              "{\"k\":1.52587890625e-05,\"v\":-0.0},{\"k\":-12,\"v\":[]},"
              "{\"k\":{\"s\":\"q\\\"b\\\\c\\n\\t\\u0001\\u00e9\"},"
              "\"v\":\"raw \\\"q\\\"\"}],\"attrs\":{\"x\":{\"y\":\"no\"},"
              "\"w\":[\"no\"],\"v\":true,\"u\":\"yes\"},"
              "\"timestamp\":\"2025-11-06T10:00:10Z\"}");
        ck_assert_str_eq(text_of(t, "a"),
                         "N {\"a\": [true, null, false], \"ab\": {}, \"bb\": "
                         "1} 2.5  100000000000000000000 0.0000152587890625 "
                         "0.0 -12 [] {\"s\": \"q\\\"b\\\\c\\n\\t\\u0001"
                         "\xc3\xa9\"} raw \"q\" yes");
        red_state_table_commit(t);
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

/* A row restored with a text another writer left (a release before
 * text_of wrote none) gets the text of its columns with its next write. */
START_TEST(text_of_restored_row_rewritten)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/state_text.yaml");
        red_state_table_t *t = red_state_table_new(c, &c->states[0], 0);
        red_state_row_t *row = red_state_table_restore(t, "a");

        ck_assert_ptr_nonnull(row);
        red_state_row_set(row, 0, json_string("Stored"),
                          test_time("2025-11-06T10:00:00Z"));
        red_state_row_set(row, 4, json_string("stale"), INT64_MIN);
        ck_assert_int_eq(red_state_table_loaded(t), 0);
        ck_assert_str_eq(text_of(t, "a"), "stale");
        apply(t, c, ITEMS,
              "{\"event_type\":\"BEAT\",\"id\":\"a\","
              "\"timestamp\":\"2025-11-06T10:00:30Z\"}");
        ck_assert_str_eq(text_of(t, "a"), "Stored");
        red_state_table_commit(t);
        red_state_table_destroy(t);
        red_contract_destroy(c);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("state");
        TCase *tc = tcase_create("state");

        tcase_add_test(tc, column_rules_in_any_order);
        tcase_add_test(tc, delete_and_revive);
        tcase_add_test(tc, delete_older_than_registration);
        tcase_add_test(tc, list_items_first_of_each);
        tcase_add_test(tc, staleness);
        tcase_add_test(tc, restore_and_missing);
        tcase_add_test(tc, event_ids_stable);
        tcase_add_test(tc, text_follows_the_row);
        tcase_add_test(tc, text_reads_values_as_jsonb);
        tcase_add_test(tc, text_of_restored_row_rewritten);
        suite_add_tcase(s, tc);
        return test_main(s);
}
