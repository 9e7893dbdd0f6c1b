/* Tests for red_nodes: the search parameters (defaults, bounds, enums from
 * the contract, versions), semantic-version order, and the events of the
 * HTTP/CLI writes judged as the pipeline judges them. */
#include "red_test.h"

#include "red_nodes.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define P(n, v) ((red_query_param_t){(n), (v)})

static red_contract_t *registry(void)
{
        return test_contract("contracts/node_registry.yaml");
}

START_TEST(search_defaults)
{
        red_contract_t *c = registry();
        red_nodes_search_t s;
        red_query_error_t e;
        red_buf_t b;
        json_t *j;

        ck_assert_ptr_eq(
                red_nodes_find((const red_contract_t *const *)&c, 1, NULL),
                red_contract_state(c, RED_NODES_TABLE));
        ck_assert_int_eq(red_nodes_search_parse(c, NULL, 0, &s, &e), 0);
        ck_assert_int_eq(s.page, 1);
        ck_assert_int_eq(s.page_size, 10);
        ck_assert_int_eq(s.sort, RED_NODES_SORT_RELEVANCE);
        ck_assert(s.desc);
        ck_assert_ptr_null(s.query);
        red_buf_init(&b);
        red_nodes_search_json(&s, &b);
        j = json_loadb(b.data, b.len, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert(json_is_null(json_object_get(j, "query")));
        ck_assert_str_eq(json_string_value(json_object_get(j, "sort_by")),
                         "relevance");
        ck_assert_str_eq(json_string_value(json_object_get(j, "sort_order")),
                         "desc");
        json_decref(j);
        red_buf_destroy(&b);
        red_nodes_search_free(&s);
        red_contract_destroy(c);
}
END_TEST

START_TEST(search_params)
{
        red_contract_t *c = registry();
        red_nodes_search_t s;
        red_query_error_t e;
        red_query_param_t p[] = {P("query", "  api endpoint "),
                                 P("node_type", "reducer"),
                                 P("health_status", "healthy"),
                                 P("capability", "kafka"),
                                 P("version_min", "1.2.3"),
                                 P("version_max", "1.10.0"),
                                 P("page", "3"),
                                 P("page_size", "100"),
                                 P("sort_by", "version"),
                                 P("sort_order", "asc")};

        ck_assert_int_eq(red_nodes_search_parse(c, p, 10, &s, &e), 0);
        ck_assert_str_eq(s.query, "api endpoint");
        ck_assert_str_eq(s.node_type, "reducer");
        ck_assert_str_eq(s.health_status, "healthy");
        ck_assert_str_eq(s.capability, "kafka");
        ck_assert_str_eq(s.version_min, "1.2.3");
        ck_assert_str_eq(s.version_max, "1.10.0");
        ck_assert_int_eq(s.page, 3);
        ck_assert_int_eq(s.page_size, 100);
        ck_assert_int_eq(s.sort, RED_NODES_SORT_VERSION);
        ck_assert(!s.desc);
        red_nodes_search_free(&s);
        red_contract_destroy(c);
}
END_TEST

/* Each refused alone, naming the parameter. */
START_TEST(search_refused)
{
        static const struct {
                const char *name, *value, *param;
        } bad[] = {
                {"page", "0", "page"},
                {"page_size", "0", "page_size"},
                {"page_size", "101", "page_size"},
                {"sort_by", "age", "sort_by"},
                {"sort_order", "up", "sort_order"},
                {"node_type", "agent", "node_type"},
                {"health_status", "fine", "health_status"},
                {"version", "1.2", "version"},
                {"version_min", "v1.2.3", "version_min"},
                {"colour", "red", "colour"},
        };
        red_contract_t *c = registry();
        red_nodes_search_t s;
        red_query_error_t e;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                red_query_param_t p = P(bad[i].name, bad[i].value);
                ck_assert_int_eq(red_nodes_search_parse(c, &p, 1, &s, &e), -1);
                ck_assert_int_eq(e.status, 400);
                ck_assert_msg(!strcmp(e.param, bad[i].param), "%s: param %s",
                              bad[i].name, e.param);
        }
        /* the allowed node types are the contract's enum */
        {
                red_query_param_t p = P("node_type", "agent");
                ck_assert_int_eq(red_nodes_search_parse(c, &p, 1, &s, &e), -1);
                ck_assert_ptr_nonnull(strstr(e.allowed, "orchestrator"));
        }
        /* a range upside down */
        {
                red_query_param_t p[] = {P("version_min", "2.0.0"),
                                         P("version_max", "1.9.9")};
                ck_assert_int_eq(red_nodes_search_parse(c, p, 2, &s, &e), -1);
                ck_assert_str_eq(e.param, "version_min");
        }
        red_contract_destroy(c);
}
END_TEST

START_TEST(versions)
{
        ck_assert(red_nodes_version_ok("0.0.0"));
        ck_assert(red_nodes_version_ok("1.10.200"));
        ck_assert(!red_nodes_version_ok("1.2"));
        ck_assert(!red_nodes_version_ok("1.2.3.4"));
        ck_assert(!red_nodes_version_ok("1.2.x"));
        ck_assert(!red_nodes_version_ok("1..3"));
        ck_assert(!red_nodes_version_ok(""));
        ck_assert_int_lt(red_nodes_version_cmp("1.2.3", "1.10.0"), 0);
        ck_assert_int_gt(red_nodes_version_cmp("2.0.0", "1.99.99"), 0);
        ck_assert_int_eq(red_nodes_version_cmp("1.02.3", "1.2.3"), 0);
        ck_assert_int_lt(red_nodes_version_cmp("1.2.9", "1.2.10"), 0);
        ck_assert_int_gt(
                red_nodes_version_cmp("1.2.100000000000000000001", "1.2.9"), 0);
}
END_TEST

START_TEST(events)
{
        red_contract_t *c = registry();
        red_nodes_write_t w;
        red_query_error_t e;
        red_time_t now = test_time("2026-01-02T03:04:05Z");
        json_t *j, *pl;
        red_buf_t out;
        const char *body = "{\"node_id\":\"n1\",\"node_name\":\"N1\","
                           "\"node_type\":\"effect\",\"version\":\"1.0.0\","
                           "\"capabilities\":[{\"name\":\"http_api\"}]}";

        ck_assert_int_eq(red_nodes_event(c, RED_NODES_REGISTER, body,
                                         strlen(body), NULL, "api", now, &w,
                                         &e),
                         0);
        ck_assert_str_eq(w.key, "n1");
        ck_assert_str_eq(w.topic,
                         "dev.omninode-bridge.registry.node-introspection.v1");
        ck_assert_str_eq(w.event_type, "NODE_INTROSPECTION");
        j = json_loadb(w.value, w.len, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert_str_eq(json_string_value(json_object_get(j, "timestamp")),
                         "2026-01-02T03:04:05Z");
        pl = json_object_get(j, "payload");
        ck_assert_str_eq(
                json_string_value(json_object_get(pl, "registration_source")),
                "api");
        json_decref(j);
        red_nodes_write_free(&w);

        /* the reference's reason for a node without a name */
        body = "{\"node_id\":\"n1\",\"node_type\":\"effect\","
               "\"version\":\"1.0.0\"}";
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_REGISTER, body,
                                         strlen(body), NULL, "api", now, &w,
                                         &e),
                         -1);
        ck_assert_int_eq(e.status, 400);
        ck_assert_msg(strstr(e.message, "Invalid node data: missing node_id "
                                        "or node_name"),
                      "%s", e.message);
        /* a version that is not MAJOR.MINOR.PATCH, a type not allowed */
        body = "{\"node_id\":\"n1\",\"node_name\":\"N\",\"node_type\":"
               "\"effect\",\"version\":\"1.0\"}";
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_REGISTER, body,
                                         strlen(body), NULL, NULL, now, &w, &e),
                         -1);
        body = "{\"node_id\":\"n1\",\"node_name\":\"N\",\"node_type\":"
               "\"agent\",\"version\":\"1.0.0\"}";
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_REGISTER, body,
                                         strlen(body), NULL, NULL, now, &w, &e),
                         -1);
        /* not JSON, not an object */
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_REGISTER, "{", 1, NULL,
                                         NULL, now, &w, &e),
                         -1);
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_REGISTER, "[]", 2, NULL,
                                         NULL, now, &w, &e),
                         -1);
        /* a heartbeat: the node from the path; the body must agree */
        body = "{\"health_status\":\"degraded\"}";
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_HEARTBEAT, body,
                                         strlen(body), "n2", NULL, now, &w, &e),
                         0);
        ck_assert_str_eq(w.key, "n2");
        ck_assert_str_eq(w.event_type, "NODE_HEARTBEAT");
        /* the answer the API and the CLI print once the broker acked */
        red_buf_init(&out);
        red_nodes_write_answer(&w, &out);
        ck_assert_int_eq(out.data[out.len - 1], '\n');
        j = json_loadb(out.data, out.len, 0, NULL);
        ck_assert_ptr_nonnull(j);
        ck_assert(json_is_true(json_object_get(j, "success")));
        ck_assert_str_eq(json_string_value(json_object_get(j, "node_id")),
                         "n2");
        ck_assert_str_eq(json_string_value(json_object_get(j, "event_type")),
                         "NODE_HEARTBEAT");
        ck_assert_str_eq(json_string_value(json_object_get(j, "topic")),
                         w.topic);
        ck_assert_str_eq(
                json_string_value(json_object_get(
                        json_object_get(json_object_get(j, "event"), "payload"),
                        "health_status")),
                "degraded");
        json_decref(j);
        red_buf_destroy(&out);
        red_nodes_write_free(&w);
        body = "{\"node_id\":\"n3\",\"health_status\":\"healthy\"}";
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_HEARTBEAT, body,
                                         strlen(body), "n2", NULL, now, &w, &e),
                         -1);
        ck_assert_str_eq(e.param, "node_id");
        /* a heartbeat needs a status */
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_HEARTBEAT, "{}", 2, "n2",
                                         NULL, now, &w, &e),
                         -1);
        /* a deregistration needs no body */
        ck_assert_int_eq(red_nodes_event(c, RED_NODES_DEREGISTER, "", 0, "n2",
                                         NULL, now, &w, &e),
                         0);
        ck_assert_str_eq(w.event_type, "NODE_DEREGISTRATION");
        red_nodes_write_free(&w);
        red_contract_destroy(c);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("nodes");
        TCase *tc = tcase_create("nodes");

        tcase_add_test(tc, search_defaults);
        tcase_add_test(tc, search_params);
        tcase_add_test(tc, search_refused);
        tcase_add_test(tc, versions);
        tcase_add_test(tc, events);
        suite_add_tcase(s, tc);
        return test_main(s);
}
