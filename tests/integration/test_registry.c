/*
 * Integration: the node registry (issue 19), contracts/node_registry.yaml
 * run by `reducerd run` with its API. The reference's search fixture
 * (tests/integration/test_node_registry.py: 20 nodes search-test-000..019)
 * is registered once through Kafka and once through POST /v1/nodes; each
 * time the searches (pages, sorting, capability, type, version and text
 * filters, discovery routes) must return what this file computes from the
 * fixture on its own. Then: a node whose heartbeats stop reads unhealthy
 * and a NODE_HEALTH_CHANGED event is published; a heartbeat heals it;
 * deregistration removes it from search; a node without node_name is
 * refused (HTTP 400, or a dead letter) with the reference's reason text.
 * `reducerd nodes` searches, reads and writes the same way. The tables
 * equal `reducerd reduce` over the reduce golden's reference
 * data, and after a registration storm with kill -9 (from inside at the
 * commit's edges, from outside anywhere) and restarts.
 */
#include "red_buf.h"
#include "red_itest.h"
#include "red_time.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONTRACT   "contracts/node_registry.yaml"
#define GROUP      "reducerd.node_registry"
#define T_INTRO    "dev.omninode-bridge.registry.node-introspection.v1"
#define T_DEREG    "dev.omninode-bridge.registry.node-deregistration.v1"
#define T_BEAT     "dev.omninode-bridge.registry.node-heartbeat.v1"
#define T_DLQ      "dev.omninode-bridge.registry.dead-letter.v1"
#define T_REG      "dev.omninode-bridge.registry.node-registered.v1"
#define T_UNREG    "dev.omninode-bridge.registry.node-deregistered.v1"
#define T_HEALTH   "dev.omninode-bridge.registry.node-health-changed.v1"
#define T_START    "dev.omninode-bridge.registry.request-introspection.v1"
#define NODES      20
#define REASON     "Invalid node data: missing node_id or node_name"
#define PARTITIONS 3

static const char *const types[] = {"effect", "compute", "reducer",
                                    "orchestrator"};

/* The payload of fixture node @p i (the reference's fields), with a
 * health-check interval of @p interval seconds. */
static char *fixture_node(int i, int interval)
{
        char *s;

        ck_assert_int_ge(
                asprintf(&s,
                         "{\"node_id\":\"search-test-%03d\",\"node_name\":"
                         "\"SearchTestNode%03d\",\"node_type\":\"%s\","
                         "\"version\":\"1.%d.%d\",\"capabilities\":[{"
                         "\"name\":\"capability_%d\",\"description\":\"Test "
                         "capability %d\"}],\"endpoints\":{\"http\":"
                         "\"http://127.0.0.1:%d\"},\"health_check\":{"
                         "\"endpoint\":\"/health\",\"interval_seconds\":%d,"
                         "\"timeout_seconds\":5},\"metadata\":{\"index\":%d,"
                         "\"category\":\"category_%d\"}}",
                         i, i, types[i % 4], i / 10, i % 10, i % 5, i % 5,
                         9000 + i, interval, i, i % 3),
                0);
        return s;
}

/* A fresh database with the registry contract recorded as `reducerd
 * migrate` records it (its tables come from migration 0011), so the worker
 * runs past the check of its tables' generation. */
static void init_db(itest_t *t, const char *name)
{
        char contract[4096];
        const char *mig[] = {"migrate", contract, NULL};
        char *rec;

        snprintf(contract, sizeof(contract), "%s", test_path(CONTRACT));
        itest_init(t, name);
        free(itest_cmd_ok(t, mig));
        rec = itest_value(t->conninfo,
                          "SELECT version || '/' || generation FROM "
                          "reducerd_contract_schema WHERE contract = "
                          "'node_registry'");
        ck_assert_str_eq(rec, "1.0.0/1");
        free(rec);
}

/* Starts reducerd run with its API on the registry contract. */
static pid_t start(itest_t *t, const char *name, int *api_port)
{
        char contract[4096];
        const char *cs[] = {contract, NULL};

        snprintf(contract, sizeof(contract), "%s", test_path(CONTRACT));
        init_db(t, name);
        itest_kafka(t, PARTITIONS, cs);
        itest_config(t, cs, 500, 100,
                     "http:\n  listen: \"127.0.0.1:0\"\n  api: true\n"
                     "api:\n  listen: \"127.0.0.1:0\"\n  threads: 2\n"
                     "  pg_connections: 2\n");
        pid_t pid = itest_start(t, NULL, 0);
        *api_port = itest_api_port(t, "reducerd-0.log");
        return pid;
}

/* GET /v1/nodes/search?@p qs, parsed. */
static json_t *search(itest_t *t, int port, const char *qs)
{
        char path[1024], *body;
        json_t *doc;

        snprintf(path, sizeof(path), "/v1/nodes/search?%s", qs);
        body = itest_api_get(t, port, path, 200);
        doc = json_loads(body, 0, NULL);
        ck_assert_msg(doc != NULL, "search %s: %s", qs, body);
        free(body);
        ck_assert(json_is_true(json_object_get(doc, "success")));
        return doc;
}

static long total(json_t *doc)
{
        return (long)json_integer_value(json_object_get(doc, "total_count"));
}

/* The fixture index of a result's node_id, or -1. */
static int index_of(json_t *node)
{
        const char *id = json_string_value(json_object_get(node, "node_id"));
        int i;

        if (!id || sscanf(id, "search-test-%3d", &i) != 1) {
                return -1;
        }
        return i;
}

typedef bool (*pred_t)(int i);

/* Every result (one page of up to 100) is a fixture node that @p want
 * selects, and each one it selects is there. */
static void expect(itest_t *t, int port, const char *qs, pred_t want)
{
        json_t *doc = search(t, port, qs), *r;
        bool seen[NODES] = {false};
        long cnt = 0;
        size_t k;

        json_array_foreach(json_object_get(doc, "results"), k, r)
        {
                int i = index_of(r);
                ck_assert_msg(i >= 0 && i < NODES && want(i) && !seen[i],
                              "%s: unexpected %s", qs,
                              json_string_value(json_object_get(r, "node_id")));
                seen[i] = true;
        }
        for (int i = 0; i < NODES; i++) {
                cnt += want(i);
                ck_assert_msg(!want(i) || seen[i],
                              "%s: search-test-%03d missing", qs, i);
        }
        ck_assert_int_eq(total(doc), cnt);
        json_decref(doc);
}

static bool cap2(int i)
{
        return i % 5 == 2;
}

/* 1.0.5 <= 1.(i/10).(i%10) <= 1.1.2, as (minor, patch) pairs */
static bool v_range(int i)
{
        int minor = i / 10, patch = i % 10;
        return (minor > 0 || patch >= 5) && (minor < 1 || patch <= 2);
}

static bool v_min(int i)
{
        return i / 10 >= 1 && i % 10 >= 7;
}

static bool v_113(int i)
{
        return i / 10 == 1 && i % 10 == 3;
}

static bool reducer(int i)
{
        return !strcmp(types[i % 4], "reducer");
}

static bool effect(int i)
{
        return !strcmp(types[i % 4], "effect");
}

static bool cat1(int i)
{
        return i % 3 == 1;
}

static bool cat2_cap4(int i)
{
        return i % 3 == 2 && i % 5 == 4;
}

static bool cap3_text(int i)
{
        return i % 5 == 3;
}

static bool reducer_cap2(int i)
{
        return reducer(i) && cap2(i);
}

/* Waits until the search counts @p want live nodes. */
static void wait_total(itest_t *t, int port, long want)
{
        long got = -1;

        for (int tries = 0; tries < 600; tries++) {
                json_t *doc = search(t, port, "page_size=1");
                got = total(doc);
                json_decref(doc);
                if (got == want) {
                        return;
                }
                usleep(100 * 1000);
        }
        ck_abort_msg("the registry holds %ld nodes, wanted %ld", got, want);
}

/* The reference's checks and the filters, on the 20 fixture nodes. */
static void check_fixture(itest_t *t, int port)
{
        json_t *doc, *a, *b, *r, *prev = NULL;
        size_t k, j;
        char *body;

        /* page 1 of size 10: total 20, 10 results, 2 pages */
        doc = search(t, port, "page=1&page_size=10");
        ck_assert_int_eq(total(doc), NODES);
        ck_assert_int_eq(json_array_size(json_object_get(doc, "results")), 10);
        ck_assert_int_eq(
                json_integer_value(json_object_get(doc, "total_pages")), 2);
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "page")), 1);
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "page_size")),
                         10);
        ck_assert(json_is_number(json_object_get(doc, "execution_time_ms")));
        ck_assert(json_is_object(json_object_get(doc, "query")));
        json_decref(doc);
        /* pages 1 and 2 of size 5 are disjoint */
        a = search(t, port, "page=1&page_size=5");
        b = search(t, port, "page=2&page_size=5");
        ck_assert_int_eq(json_array_size(json_object_get(a, "results")), 5);
        ck_assert_int_eq(json_array_size(json_object_get(b, "results")), 5);
        json_array_foreach(json_object_get(a, "results"), k, r)
        {
                json_t *s;
                json_array_foreach(json_object_get(b, "results"), j, s)
                {
                        ck_assert_int_ne(index_of(r), index_of(s));
                }
        }
        json_decref(a);
        json_decref(b);
        /* a page past the last: no results, the total still counted (by
         * relevance the count comes with the ranked rows, by a column from
         * a subquery of the same statement) */
        a = search(t, port, "query=category_1&page=3&page_size=5");
        b = search(t, port, "sort_by=name&page=9&page_size=5");
        ck_assert_int_eq(json_array_size(json_object_get(a, "results")), 0);
        ck_assert_int_eq(total(a), 7); /* i % 3 == 1 */
        ck_assert_int_eq(json_array_size(json_object_get(b, "results")), 0);
        ck_assert_int_eq(total(b), NODES);
        json_decref(a);
        json_decref(b);
        a = search(t, port, "query=category_1&page=2&page_size=5");
        ck_assert_int_eq(json_array_size(json_object_get(a, "results")), 2);
        ck_assert_int_eq(total(a), 7);
        json_decref(a);
        /* by name ascending: sorted, every node */
        doc = search(t, port, "sort_by=name&sort_order=asc&page_size=100");
        ck_assert_int_eq(json_array_size(json_object_get(doc, "results")),
                         NODES);
        json_array_foreach(json_object_get(doc, "results"), k, r)
        {
                if (prev) {
                        ck_assert_str_lt(json_string_value(json_object_get(
                                                 prev, "node_name")),
                                         json_string_value(json_object_get(
                                                 r, "node_name")));
                }
                prev = r;
        }
        json_decref(doc);
        /* by semantic version descending: 1.1.9 ... 1.0.0 */
        doc = search(t, port, "sort_by=version&sort_order=desc&page_size=100");
        json_array_foreach(json_object_get(doc, "results"), k, r)
        {
                ck_assert_int_eq(index_of(r), NODES - 1 - (int)k);
        }
        json_decref(doc);
        /* filters */
        expect(t, port, "capability=capability_2&page_size=100", cap2);
        expect(t, port, "version_min=1.0.5&version_max=1.1.2&page_size=100",
               v_range);
        expect(t, port, "version_min=1.1.7&page_size=100", v_min);
        expect(t, port, "version=1.1.3&page_size=100", v_113);
        expect(t, port, "node_type=reducer&page_size=100", reducer);
        expect(t, port, "node_type=reducer&capability=capability_2",
               reducer_cap2);
        /* free text: a metadata value, a capability, two phrases */
        expect(t, port, "query=category_1&page_size=100", cat1);
        expect(t, port, "query=CAPABILITY_3&page_size=100", cap3_text);
        expect(t, port, "query=category_2%20capability_4&page_size=100",
               cat2_cap4);
        /* the whole name is the best match */
        doc = search(t, port, "query=SearchTestNode007&page_size=100");
        r = json_array_get(json_object_get(doc, "results"), 0);
        ck_assert_int_eq(index_of(r), 7);
        ck_assert_double_eq_tol(
                json_real_value(json_object_get(r, "relevance_score")), 0.5,
                1e-9);
        if (json_array_size(json_object_get(doc, "results")) > 1) {
                ck_assert_double_lt(
                        json_real_value(json_object_get(
                                json_array_get(json_object_get(doc, "results"),
                                               1),
                                "relevance_score")),
                        0.5);
        }
        json_decref(doc);
        /* a typo matches nothing exactly: the names similar by trigrams,
         * the closest first */
        doc = search(t, port, "query=SerchTestNode007&page_size=100");
        ck_assert_int_ge(total(doc), 1);
        ck_assert_int_eq(
                index_of(json_array_get(json_object_get(doc, "results"), 0)),
                7);
        json_decref(doc);
        /* discovery */
        expect(t, port, "page_size=100&node_type=reducer", reducer);
        body = itest_api_get(t, port,
                             "/v1/nodes/discover/capability/capability_2?"
                             "page_size=100",
                             200);
        doc = json_loads(body, 0, NULL);
        ck_assert_int_eq(total(doc), 4);
        json_decref(doc);
        free(body);
        body = itest_api_get(t, port, "/v1/nodes/discover/type/reducer", 200);
        doc = json_loads(body, 0, NULL);
        ck_assert_int_eq(total(doc), 5);
        json_decref(doc);
        free(body);
        body = itest_api_get(t, port,
                             "/v1/nodes/discover/healthy/effect?page_size=100",
                             200);
        doc = json_loads(body, 0, NULL);
        json_array_foreach(json_object_get(doc, "results"), k, r)
        {
                ck_assert(effect(index_of(r)));
                ck_assert_str_eq(
                        json_string_value(json_object_get(r, "health_status")),
                        "healthy");
        }
        ck_assert_int_eq(total(doc), 5);
        json_decref(doc);
        free(body);
        /* one node */
        body = itest_api_get(t, port, "/v1/nodes/search-test-013", 200);
        doc = json_loads(body, 0, NULL);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "version")),
                         "1.1.3");
        ck_assert_str_eq(
                json_string_value(json_object_get(
                        json_array_get(json_object_get(doc, "capabilities"), 0),
                        "name")),
                "capability_3");
        json_decref(doc);
        free(body);
        /* refused parameters name themselves */
        free(itest_api_get(t, port, "/v1/nodes/search?page=0", 400));
        free(itest_api_get(t, port, "/v1/nodes/search?page_size=101", 400));
        free(itest_api_get(t, port, "/v1/nodes/search?sort_by=age", 400));
        free(itest_api_get(t, port, "/v1/nodes/search?version_min=1.x", 400));
        free(itest_api_get(t, port, "/v1/nodes/search?node_type=agent", 400));
        free(itest_api_get(t, port, "/v1/nodes/search?colour=red", 400));
        free(itest_api_get(t, port, "/v1/nodes/no-such-node", 404));
}

/* A JSON-lines file of events for produce_jsonl. */
static FILE *open_lines(itest_t *t, const char *name, char *path, size_t size)
{
        FILE *fp;

        snprintf(path, size, "%s/%s", t->dir, name);
        fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        return fp;
}

/* The messages of @p topic whose value (or its payload) has node_id
 * @p id and, when @p member is not NULL, @p member = @p value. */
static int count_msgs(itest_t *t, const char *topic, const char *id,
                      const char *member, const char *value)
{
        json_t *msgs = itest_consume(t, topic), *m;
        size_t k;
        int n = 0;

        json_array_foreach(msgs, k, m)
        {
                json_t *v = json_object_get(m, "value"), *p;
                const char *got;
                p = json_object_get(v, "payload");
                p = json_is_object(p) ? p : v;
                got = json_string_value(json_object_get(p, "node_id"));
                if (!got || (id && strcmp(got, id))) {
                        continue;
                }
                if (member) {
                        got = json_string_value(json_object_get(p, member));
                        if (!got || strcmp(got, value)) {
                                continue;
                        }
                }
                n++;
        }
        json_decref(msgs);
        return n;
}

/* count_msgs() once it reaches @p want (the outbox relay publishes a
 * moment after the rows are written), or after 30 s. */
static int wait_msgs(itest_t *t, const char *topic, const char *id,
                     const char *member, const char *value, int want)
{
        int n = 0;

        for (int tries = 0; tries < 300; tries++) {
                if ((n = count_msgs(t, topic, id, member, value)) >= want) {
                        break;
                }
                usleep(100 * 1000);
        }
        return n;
}

START_TEST(fixture_through_kafka)
{
        itest_t t;
        char path[4096], now[RED_TIME_FMT_SIZE], *node, *body;
        int port;
        pid_t pid = start(&t, "registry_kafka", &port);
        json_t *msgs, *m;
        size_t k;
        bool dead = false;
        FILE *fp = open_lines(&t, "fixture.jsonl", path, sizeof(path));

        /* on start, running nodes are asked to announce themselves */
        for (int tries = 0; tries < 300; tries++) {
                msgs = itest_consume(&t, T_START);
                k = json_array_size(msgs);
                json_decref(msgs);
                if (k) {
                        break;
                }
                usleep(100 * 1000);
        }
        ck_assert_msg(k >= 1, "no REGISTRY_REQUEST_INTROSPECTION");
        red_time_format(red_time_now(), now, sizeof(now));
        for (int i = 0; i < NODES; i++) {
                node = fixture_node(i, 3600);
                fprintf(fp,
                        "{\"event_type\":\"NODE_INTROSPECTION\",\"timestamp\":"
                        "\"%s\",\"payload\":%s,\"_topic\":\"" T_INTRO "\","
                        "\"_key\":\"search-test-%03d\"}\n",
                        now, node, i);
                free(node);
        }
        /* the reference's refusal: a node without a name */
        fprintf(fp,
                "{\"event_type\":\"NODE_INTROSPECTION\",\"timestamp\":\"%s\","
                "\"payload\":{\"node_id\":\"nameless\",\"node_type\":"
                "\"effect\",\"version\":\"1.0.0\"},\"_topic\":\"" T_INTRO
                "\",\"_key\":\"nameless\"}\n",
                now);
        fclose(fp);
        itest_produce(&t, path, 1, NODES + 1);
        ck_assert(itest_wait_committed(&t, GROUP, NODES + 1, 120000));
        wait_total(&t, port, NODES);
        check_fixture(&t, port);
        /* the rows: one capability each, published registrations */
        ck_assert_int_eq(wait_msgs(&t, T_REG, NULL, NULL, NULL, NODES), NODES);
        msgs = itest_consume(&t, T_DLQ);
        json_array_foreach(msgs, k, m)
        {
                const char *d = json_string_value(json_object_get(
                        json_object_get(m, "headers"), "error_detail"));
                dead |= d && strstr(d, REASON);
        }
        ck_assert_msg(dead, "no dead letter says \"" REASON "\"");
        json_decref(msgs);
        /* deregistration removes a node from search */
        fp = open_lines(&t, "dereg.jsonl", path, sizeof(path));
        red_time_format(red_time_now(), now, sizeof(now));
        fprintf(fp,
                "{\"event_type\":\"NODE_DEREGISTRATION\",\"timestamp\":\"%s\","
                "\"payload\":{\"node_id\":\"search-test-019\",\"reason\":"
                "\"shutdown\"},\"_topic\":\"" T_DEREG
                "\",\"_key\":\"search-test-019\"}\n",
                now);
        fclose(fp);
        itest_produce(&t, path, 1, 1);
        wait_total(&t, port, NODES - 1);
        free(itest_api_get(&t, port, "/v1/nodes/search-test-019", 404));
        ck_assert_int_eq(
                wait_msgs(&t, T_UNREG, "search-test-019", NULL, NULL, 1), 1);
        body = itest_api_get(&t, port,
                             "/v1/nodes/search?query=SearchTestNode019", 200);
        ck_assert_ptr_null(strstr(body, "search-test-019"));
        free(body);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

/* The effective health of node @p id by GET, or NULL when not found
 * (static). */
static const char *health_of(itest_t *t, int port, const char *id)
{
        static char health[32];
        char url[512], *body;
        json_t *doc;
        int st;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/nodes/%s", port, id);
        st = itest_curl(t, url, NULL, &body, NULL, NULL);
        if (st == 404) {
                free(body);
                return NULL;
        }
        ck_assert_msg(st == 200, "GET %s: %d %s", id, st, body);
        doc = json_loads(body, 0, NULL);
        snprintf(health, sizeof(health), "%s",
                 json_string_value(json_object_get(doc, "health_status")));
        json_decref(doc);
        free(body);
        return health;
}

/* Waits until node @p id reads @p want (NULL: gone). */
static void wait_health(itest_t *t, int port, const char *id, const char *want)
{
        const char *got = NULL;

        for (int tries = 0; tries < 600; tries++) {
                got = health_of(t, port, id);
                if (want ? got && !strcmp(got, want) : !got) {
                        return;
                }
                usleep(100 * 1000);
        }
        ck_abort_msg("%s reads %s, wanted %s", id, got ? got : "(gone)",
                     want ? want : "(gone)");
}

/* `reducerd nodes -c CONFIG ARGS...` (NULL-terminated); the exit status,
 * stdout in *out (malloc'd). */
static int nodes_cli(itest_t *t, char **out, ...)
{
        const char *argv[32] = {test_bin(), "nodes", "-c", t->config};
        size_t n = 4;
        char *err;
        va_list ap;
        int st;

        va_start(ap, out);
        while (n < 31 && (argv[n] = va_arg(ap, const char *))) {
                n++;
        }
        va_end(ap);
        argv[n] = NULL;
        st = test_run(argv, NULL, out, &err);
        if (st) {
                fprintf(stderr, "reducerd nodes %s: %s", argv[4], err);
        }
        free(err);
        return st;
}

/* The same queries and writes through `reducerd nodes`. */
static void check_cli(itest_t *t, int port)
{
        char path[4096], *out, *node;
        json_t *doc;

        ck_assert_int_eq(nodes_cli(t, &out, "search", "--capability",
                                   "capability_2", "--page_size", "100", NULL),
                         0);
        doc = json_loads(out, 0, NULL);
        ck_assert_msg(doc != NULL, "%s", out);
        ck_assert_int_eq(total(doc), 4);
        json_decref(doc);
        free(out);
        ck_assert_int_eq(nodes_cli(t, &out, "search", "--version_min=1.1.0",
                                   "--sort_by", "name", NULL),
                         0);
        doc = json_loads(out, 0, NULL);
        ck_assert_int_eq(total(doc), 10);
        json_decref(doc);
        free(out);
        ck_assert_int_eq(nodes_cli(t, &out, "get", "search-test-013", NULL), 0);
        doc = json_loads(out, 0, NULL);
        ck_assert_msg(doc != NULL, "%s", out);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "version")),
                         "1.1.3");
        json_decref(doc);
        free(out);
        ck_assert_int_eq(nodes_cli(t, &out, "get", "no-such-node", NULL), 3);
        free(out);
        ck_assert_int_eq(nodes_cli(t, &out, "search", "--page", "0", NULL), 2);
        free(out);
        /* writes: registered, reported degraded, deregistered */
        snprintf(path, sizeof(path), "%s/cli-node.json", t->dir);
        node = fixture_node(1, 3600);
        memcpy(strstr(node, "search-test-001"), "cli-node-000001", 15);
        test_write_file(path, node, strlen(node));
        free(node);
        ck_assert_int_eq(nodes_cli(t, &out, "register", path, NULL), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"registration_source\":\"cli\""));
        free(out);
        wait_health(t, port, "cli-node-000001", "healthy");
        ck_assert_int_eq(nodes_cli(t, &out, "heartbeat", "cli-node-000001",
                                   "degraded", "--response_time_ms", "3.5",
                                   NULL),
                         0);
        free(out);
        wait_health(t, port, "cli-node-000001", "degraded");
        ck_assert_int_eq(nodes_cli(t, &out, "heartbeat", "cli-node-000001",
                                   "sleepy", NULL),
                         2);
        free(out);
        ck_assert_int_eq(nodes_cli(t, &out, "deregister", "cli-node-000001",
                                   "--reason", "test over", NULL),
                         0);
        free(out);
        wait_health(t, port, "cli-node-000001", NULL);
}

START_TEST(fixture_through_http)
{
        itest_t t;
        int port, st;
        pid_t pid = start(&t, "registry_http", &port);
        char *node, *body, *metrics;
        int http_port = itest_http_port(&t, 0);

        for (int i = 0; i < NODES; i++) {
                node = fixture_node(i, 3600);
                st = itest_send_json(&t, port, "POST", "/v1/nodes", node,
                                     &body);
                ck_assert_msg(st == 202, "POST %d: %d %s", i, st, body);
                ck_assert_ptr_nonnull(strstr(body, "NODE_INTROSPECTION"));
                free(body);
                free(node);
        }
        /* refused with the reference's reason, nothing published */
        st = itest_send_json(
                &t, port, "POST", "/v1/nodes",
                "{\"node_id\":\"nameless\",\"node_type\":\"effect\","
                "\"version\":\"1.0.0\"}",
                &body);
        ck_assert_int_eq(st, 400);
        ck_assert_msg(strstr(body, REASON), "%s", body);
        free(body);
        st = itest_send_json(
                &t, port, "POST", "/v1/nodes",
                "{\"node_id\":\"x\",\"node_name\":\"X\",\"node_type\":"
                "\"effect\",\"version\":\"1.0\"}",
                &body);
        ck_assert_int_eq(st, 400);
        free(body);
        wait_total(&t, port, NODES);
        check_fixture(&t, port);
        ck_assert_int_eq(count_msgs(&t, T_INTRO, NULL, NULL, NULL), NODES);
        ck_assert_int_eq(
                count_msgs(&t, T_INTRO, NULL, "registration_source", "api"),
                NODES);

        /* heartbeats stop: unhealthy after 3 x 1 s, and an event says so */
        node = fixture_node(0, 1);
        memcpy(strstr(node, "search-test-000"), "stale-node-0000", 15);
        st = itest_send_json(&t, port, "POST", "/v1/nodes", node, &body);
        ck_assert_int_eq(st, 202);
        free(body);
        free(node);
        wait_health(&t, port, "stale-node-0000", "unhealthy");
        ck_assert_int_eq(wait_msgs(&t, T_HEALTH, "stale-node-0000",
                                   "health_status", "unhealthy", 1),
                         1);
        /* a heartbeat heals it (for the next 3 s at least: poll quickly) */
        st = itest_send_json(
                &t, port, "PUT", "/v1/nodes/stale-node-0000/health",
                "{\"health_status\":\"degraded\",\"response_time_ms\":"
                "12.5}",
                &body);
        ck_assert_msg(st == 202, "%d %s", st, body);
        free(body);
        ck_assert_int_ge(wait_msgs(&t, T_HEALTH, "stale-node-0000",
                                   "health_status", "degraded", 1),
                         1);
        ck_assert_int_eq(wait_msgs(&t, T_REG, "stale-node-0000", NULL, NULL, 1),
                         1);
        /* deregistered: gone from search and GET, an event */
        st = itest_send_json(&t, port, "DELETE", "/v1/nodes/stale-node-0000",
                             NULL, &body);
        ck_assert_msg(st == 202, "%d %s", st, body);
        free(body);
        wait_health(&t, port, "stale-node-0000", NULL);
        wait_total(&t, port, NODES);
        ck_assert_int_eq(
                wait_msgs(&t, T_UNREG, "stale-node-0000", NULL, NULL, 1), 1);
        /* the path and the body must agree */
        st = itest_send_json(
                &t, port, "PUT", "/v1/nodes/a/health",
                "{\"node_id\":\"b\",\"health_status\":\"healthy\"}", &body);
        ck_assert_int_eq(st, 400);
        free(body);
        check_cli(&t, port);
        /* /metrics */
        ck_assert_int_eq(itest_http_get(http_port, "/metrics", &metrics), 200);
        ck_assert_double_eq(itest_metric(metrics, "registrations_total"),
                            NODES + 3);
        ck_assert_double_eq(
                itest_metric(metrics, "registrations_successful_total"),
                NODES + 1);
        ck_assert_double_eq(itest_metric(metrics,
                                         "registry_nodes{node_type=\"effect\","
                                         "health_status=\"healthy\"}"),
                            5);
        ck_assert_double_gt(itest_metric(metrics,
                                         "registry_search_duration_seconds_"
                                         "count"),
                            10);
        free(metrics);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* exactly once: Postgres equals `reducerd reduce`                      */
/* ------------------------------------------------------------------ */

/* The expected rows of `reducerd reduce` over @p file, without the
 * registered_nodes' state_status: reduce judges staleness at the input's
 * newest event time, the pipeline at the wall clock (the effective status
 * is a function of time; the rows' data is not). */
static char *expected_rows(const char *file)
{
        char *out = itest_reduce(test_path(CONTRACT), file), *p = out;
        red_buf_t b;

        red_buf_init(&b);
        while (*p) {
                char *nl = strchr(p, '\n');
                json_t *line = json_loadb(p, (size_t)(nl - p), 0, NULL);
                char *text;
                ck_assert_ptr_nonnull(line);
                json_object_del(json_object_get(line, "row"), "state_status");
                text = json_dumps(line, JSON_COMPACT);
                red_buf_puts(&b, text);
                red_buf_putc(&b, '\n');
                free(text);
                json_decref(line);
                p = nl + 1;
        }
        free(out);
        return red_buf_steal(&b, NULL);
}

/* The three tables equal @p expected; returns the live nodes' rows. */
static long compare_registry(itest_t *t, const char *expected)
{
        const char *caps_ignore[] = {"capability_id", "created_at", NULL};
        const char *beats_ignore[] = {"heartbeat_id", "created_at", NULL};
        long n =
                itest_compare_table(t, expected, "registered_nodes", "node_id");

        itest_compare_rows(t, expected, "node_capability_index", caps_ignore);
        itest_compare_rows(t, expected, "node_heartbeats", beats_ignore);
        return n;
}

static long lines_of(const char *file)
{
        char *text = test_read_file(file, NULL);
        long n = 0;

        for (char *p = text; *p; p++) {
                n += *p == '\n';
        }
        free(text);
        return n;
}

/* Every row's search_text, written by reducerd (the contract's text_of),
 * equals what migration 0012's SQL function computes from the row as
 * stored; returns how many rows there are. */
static long text_equals_sql(itest_t *t)
{
        PGconn *c = test_pg_connect(t->conninfo);
        char *v = test_pg_value(
                c, "SELECT count(*) || ' ' || count(*) FILTER (WHERE "
                   "search_text IS DISTINCT FROM "
                   "registered_nodes_search_text(node_name, capabilities, "
                   "metadata)) FROM registered_nodes");
        long rows = 0, differ = -1;

        ck_assert_int_eq(sscanf(v, "%ld %ld", &rows, &differ), 2);
        ck_assert_msg(differ == 0, "%ld of %ld search texts differ from SQL's",
                      differ, rows);
        free(v);
        PQfinish(c);
        return rows;
}

/* The reference data of the `reduce` golden test (registrations,
 * heartbeats, a ghost node's heartbeat, deregistrations, a revival, dead
 * letters), through Kafka; then nodes whose capabilities and metadata hold
 * values of every JSON type, names in any order and escapes
 * (search_text.jsonl), whose search text must still be SQL's. */
START_TEST(reference_equals_reduce)
{
        const char *file = test_path("tests/data/reduce/node_registry/"
                                     "reference.jsonl");
        const char *odd = test_path("tests/data/reduce/node_registry/"
                                    "search_text.jsonl");
        char *expected = expected_rows(file);
        itest_t t;
        int port;
        pid_t pid = start(&t, "registry_reference", &port);
        long n = lines_of(file), m = lines_of(odd);

        itest_produce(&t, file, 1, n);
        ck_assert(itest_wait_committed(&t, GROUP, n, 120000));
        ck_assert_int_eq(compare_registry(&t, expected), 20);
        ck_assert_int_eq(text_equals_sql(&t), 20);
        free(expected);
        itest_produce(&t, odd, 1, m);
        ck_assert(itest_wait_committed(&t, GROUP, n + m, 120000));
        ck_assert_int_eq(text_equals_sql(&t), 27);
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

/* A registration storm of @p nodes nodes over the last hour, in time
 * order: announcements, heartbeats, capability changes, deregistrations
 * and re-registrations, each node's events in partition node % 3. */
static void write_storm(const char *path, int nodes)
{
        FILE *fp = fopen(path, "w");
        red_time_t t0 = red_time_now() - 50 * RED_TIME_US_PER_MIN;
        char ts[RED_TIME_FMT_SIZE];

        ck_assert_ptr_nonnull(fp);
#define AT(sec, j)                                                             \
        red_time_format(t0 + (sec)*RED_TIME_US_PER_SEC + (j)*10000, ts,        \
                        sizeof(ts))
        /* phase 0: every node announces itself */
        for (int j = 0; j < nodes; j++) {
                AT(0, j);
                fprintf(fp,
                        "{\"event_type\":\"NODE_INTROSPECTION\",\"timestamp\":"
                        "\"%s\",\"payload\":{\"node_id\":\"storm-%04d\","
                        "\"node_name\":\"StormNode%04d\",\"node_type\":\"%s\","
                        "\"version\":\"1.0.%d\",\"capabilities\":[{\"name\":"
                        "\"capability_%d\"}],\"health_check\":{"
                        "\"interval_seconds\":30},\"metadata\":{\"i\":%d}},"
                        "\"_topic\":\"" T_INTRO "\",\"_key\":\"storm-%04d\","
                        "\"_partition\":%d}\n",
                        ts, j, j, types[j % 4], j % 10, j % 5, j, j, j % 3);
        }
        for (int phase = 1; phase <= 7; phase++) {
                for (int j = 0; j < nodes; j++) {
                        AT(phase * 60, j);
                        if (phase == 4 && j % 5 == 0) {
                                /* two capabilities now: the list replaced */
                                fprintf(fp,
                                        "{\"event_type\":\"NODE_"
                                        "INTROSPECTION\","
                                        "\"timestamp\":\"%s\",\"payload\":{"
                                        "\"node_id\":\"storm-%04d\","
                                        "\"node_name\":\"StormNode%04d\","
                                        "\"node_type\":\"%s\",\"version\":"
                                        "\"1.1.0\",\"capabilities\":[{\"name\":"
                                        "\"a\"},{\"name\":\"b\","
                                        "\"description\":"
                                        "\"B\"}]},\"_topic\":\"" T_INTRO "\","
                                        "\"_key\":\"storm-%04d\",\"_"
                                        "partition\":"
                                        "%d}\n",
                                        ts, j, j, types[j % 4], j, j % 3);
                        } else if (phase == 6 && j % 7 == 0) {
                                fprintf(fp,
                                        "{\"event_type\":\"NODE_"
                                        "DEREGISTRATION\","
                                        "\"timestamp\":\"%s\",\"payload\":{"
                                        "\"node_id\":\"storm-%04d\"},"
                                        "\"_topic\":\"" T_DEREG "\",\"_key\":"
                                        "\"storm-%04d\",\"_partition\":%d}\n",
                                        ts, j, j, j % 3);
                        } else if (phase == 7 && j % 14 == 0) {
                                fprintf(fp,
                                        "{\"event_type\":\"NODE_"
                                        "INTROSPECTION\","
                                        "\"timestamp\":\"%s\",\"payload\":{"
                                        "\"node_id\":\"storm-%04d\","
                                        "\"node_name\":\"StormNode%04d\","
                                        "\"node_type\":\"%s\",\"version\":"
                                        "\"2.0.0\"},\"_topic\":\"" T_INTRO "\","
                                        "\"_key\":\"storm-%04d\",\"_"
                                        "partition\":"
                                        "%d}\n",
                                        ts, j, j, types[j % 4], j, j % 3);
                        } else if (phase <= 5) {
                                fprintf(fp,
                                        "{\"event_type\":\"NODE_HEARTBEAT\","
                                        "\"timestamp\":\"%s\",\"payload\":{"
                                        "\"node_id\":\"storm-%04d\","
                                        "\"health_status\":\"%s\","
                                        "\"response_time_ms\":%d.5},"
                                        "\"_topic\":\"" T_BEAT "\",\"_key\":"
                                        "\"storm-%04d\",\"_partition\":%d}\n",
                                        ts, j,
                                        (j + phase) % 4 ? "healthy"
                                                        : "degraded",
                                        phase, j, j % 3);
                        }
                }
        }
#undef AT
        fclose(fp);
}

/* kill -9 during a registration storm, from inside at the commit's edges
 * and from outside anywhere, restarted until done: the tables equal
 * `reducerd reduce` (a crash-free run). */
START_TEST(storm_kill9)
{
        itest_t t;
        const char *cs[] = {test_path(CONTRACT), NULL};
        char path[4096], *expected;
        /* every second round also a kill -9 from outside, at whatever
         * point it is */
        itest_crash_t crash = {.group = GROUP,
                               .failpoints = "before_commit:0.1,"
                                             "after_commit:0.1",
                               .stop_every = 2,
                               .stop_after = 200,
                               .stop_signal = SIGKILL};
        int crashes;
        long n;

        init_db(&t, "registry_storm");
        itest_kafka(&t, PARTITIONS, cs);
        itest_config(&t, cs, 100, 50, NULL);
        snprintf(path, sizeof(path), "%s/storm.jsonl", t.dir);
        write_storm(path, 400);
        n = crash.n = lines_of(path);
        expected = expected_rows(path);
        itest_produce(&t, path, 1, n);
        crashes = itest_crash_rounds(&t, &crash);
        ck_assert_msg(itest_committed(&t, GROUP) == n, "%ld of %ld",
                      itest_committed(&t, GROUP), n);
        ck_assert_msg(crashes >= 3, "only %d crashes happened", crashes);
        ck_assert_int_eq(compare_registry(&t, expected), 400);
        free(expected);
        itest_fini(&t);
}
END_TEST

/*
 * Heartbeat history obeys its retention (the contract's history:
 * retention 30d, daily partitions): heartbeats of January and February
 * written through the sink land in day partitions; `reducerd maintain` as
 * of 1 March drops the days before 30 January and keeps the later ones
 * (and creates days ahead); the node's row is untouched.
 */
START_TEST(heartbeat_retention)
{
        static const char *const days[] = {"2026-01-01", "2026-01-05",
                                           "2026-01-29", "2026-01-30",
                                           "2026-02-25"};
        char contract[4096], path[4200], *v;
        const char *cs[] = {contract, NULL};
        const char *maintain[] = {"maintain", "-c", NULL, "--now", NULL, NULL};
        itest_t t;
        PGconn *c;
        FILE *fp;

        snprintf(contract, sizeof(contract), "%s", test_path(CONTRACT));
        init_db(&t, "registry_retention");
        snprintf(path, sizeof(path), "%s/beats.jsonl", t.dir);
        ck_assert_ptr_nonnull(fp = fopen(path, "w"));
        fprintf(fp, "{\"event_type\":\"NODE_INTROSPECTION\",\"timestamp\":"
                    "\"2026-01-01T00:00:00Z\",\"_topic\":\"" T_INTRO "\","
                    "\"_key\":\"ret-node\",\"payload\":{\"node_id\":"
                    "\"ret-node\",\"node_name\":\"RetNode\",\"node_type\":"
                    "\"effect\",\"version\":\"1.0.0\"}}\n");
        for (size_t i = 0; i < sizeof(days) / sizeof(*days); i++) {
                fprintf(fp,
                        "{\"event_type\":\"NODE_HEARTBEAT\",\"timestamp\":"
                        "\"%sT12:00:00Z\",\"_topic\":\"" T_BEAT "\","
                        "\"_key\":\"ret-node\",\"payload\":{\"node_id\":"
                        "\"ret-node\",\"health_status\":\"healthy\","
                        "\"response_time_ms\":%zu}}\n",
                        days[i], 10 + i);
        }
        ck_assert_int_eq(fclose(fp), 0);
        ck_assert_int_eq(itest_load(&t, contract, path), 6);
        c = test_pg_connect(t.conninfo);
        v = test_pg_partitions(c, "node_heartbeats");
        ck_assert_str_eq(v, "node_heartbeats_2026_01_01 "
                            "node_heartbeats_2026_01_05 "
                            "node_heartbeats_2026_01_29 "
                            "node_heartbeats_2026_01_30 "
                            "node_heartbeats_2026_02_25");
        free(v);

        /* as of 1 March: 30 days back is 30 January */
        maintain[2] = itest_db_config(&t, cs);
        maintain[4] = "2026-03-01T00:00:00Z";
        free(itest_cmd_ok(&t, maintain));
        v = test_pg_partitions(c, "node_heartbeats");
        ck_assert_msg(!strstr(v, "node_heartbeats_2026_01_0") &&
                              !strstr(v, "node_heartbeats_2026_01_29"),
                      "old days kept: %s", v);
        ck_assert_msg(strstr(v, "node_heartbeats_2026_01_30") &&
                              strstr(v, "node_heartbeats_2026_02_25"),
                      "recent days dropped: %s", v);
        ck_assert_msg(strstr(v, "node_heartbeats_2026_03_07"),
                      "no days ahead: %s", v);
        free(v);
        v = test_pg_value(c, "SELECT string_agg(response_time_ms::text, ',' "
                             "ORDER BY heartbeat_timestamp) FROM "
                             "node_heartbeats");
        ck_assert_str_eq(v, "13,14");
        free(v);
        v = test_pg_value(c, "SELECT heartbeat_count || ' ' || "
                             "last_heartbeat::date FROM registered_nodes "
                             "WHERE node_id = 'ret-node'");
        ck_assert_str_eq(v, "5 2026-02-25");
        free(v);
        PQfinish(c);
        itest_fini(&t);
}
END_TEST

/*
 * A registry whose search_text is still generated (a database at
 * migration 0012 that a newer reducerd runs against before `reducerd
 * migrate`): the worker writes no batch and says what to do.
 */
START_TEST(generated_text_refused)
{
        char contract[4096];
        const char *cs[] = {contract, NULL};
        itest_t t;
        PGconn *c;
        pid_t pid;

        snprintf(contract, sizeof(contract), "%s", test_path(CONTRACT));
        init_db(&t, "registry_generated");
        c = test_pg_connect(t.conninfo);
        test_pg_exec(c, "ALTER TABLE registered_nodes DROP COLUMN "
                        "search_text CASCADE");
        test_pg_exec(c, "ALTER TABLE registered_nodes ADD COLUMN search_text "
                        "text GENERATED ALWAYS AS "
                        "(registered_nodes_search_text(node_name, "
                        "capabilities, metadata)) STORED");
        PQfinish(c);
        itest_kafka(&t, PARTITIONS, cs);
        itest_config(&t, cs, 500, 100, NULL);
        pid = itest_start(&t, NULL, 0);
        ck_assert(itest_wait_log(&t,
                                 "table registered_nodes: column search_text "
                                 "is generated, but contract node_registry "
                                 "writes it: run reducerd migrate",
                                 60000));
        ck_assert_int_eq(itest_stop(pid, SIGTERM, 30000), 0);
        itest_fini(&t);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("registry");

        /* each can be run alone: CK_RUN_CASE=kafka */
        test_add_case(s, "kafka", fixture_through_kafka, 600);
        test_add_case(s, "http", fixture_through_http, 600);
        test_add_case(s, "reference", reference_equals_reduce, 600);
        test_add_case(s, "storm", storm_kill9, 900);
        test_add_case(s, "retention", heartbeat_retention, 300);
        test_add_case(s, "generated", generated_text_refused, 300);
        return test_main(s);
}
