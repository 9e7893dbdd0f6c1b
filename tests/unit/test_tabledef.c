/* Unit tests for red_tabledef and red_sqltype: the tables a contract
 * declares, their SQL types and what their parts mean. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "red_rebuild.h"
#include "red_sqltype.h"
#include "red_tabledef.h"
#include "red_test.h"

/* A contract like the README's walkthrough, with @p below as its speed
 * bucket threshold and @p extra appended to its aggregation. */
static red_contract_t *task_contract(const char *below, const char *extra)
{
        char *text;
        red_contract_t *c;

        ck_assert_int_ge(
                asprintf(&text,
                         "contract: task_metrics\n"
                         "version: 1.0.0\n"
                         "dead_letter_topic: dev.tasks.dead-letter.v1\n"
                         "inputs:\n"
                         "  - {topic: dev.tasks.v1, events: [task]}\n"
                         "events:\n"
                         "  task:\n"
                         "    types: [TASK_COMPLETED]\n"
                         "    fields:\n"
                         "      task_id: {type: string, required: true, "
                         "max_length: 64}\n"
                         "      agent_id: {type: string, required: true, "
                         "max_length: 100}\n"
                         "      success: {type: boolean, required: true}\n"
                         "      duration_ms: {type: number, required: true}\n"
                         "dimensions:\n"
                         "  agent: {field: agent_id}\n"
                         "  speed:\n"
                         "    field: duration_ms\n"
                         "    buckets: [{key: fast, below: %s}, {key: "
                         "slow}]\n"
                         "aggregations:\n"
                         "  - name: by_agent\n"
                         "    table: task_metrics_by_agent\n"
                         "    windows: [hourly, daily]\n"
                         "    key_columns: [agent_id]\n"
                         "    groupings:\n"
                         "      per_agent: [agent]\n"
                         "    measures:\n"
                         "      tasks: {count: task}\n"
                         "      ok: {count: task, where: {success: true}}\n"
                         "      duration: {sketch: duration_ms}\n"
                         "    columns:\n"
                         "      tasks: tasks\n"
                         "      success_rate: ok / tasks\n"
                         "      p95_ms: duration.p95\n"
                         "      total_ms: duration.sum\n"
                         "%s",
                         below, extra),
                0);
        c = test_contract_text(text);
        free(text);
        return c;
}

START_TEST(sqltype_spellings)
{
        static const struct {
                const char *in, *canon;
        } ok[] = {
                {"varchar(50)", "character varying(50)"},
                {" VARCHAR ( 255 ) ", "character varying(255)"},
                {"numeric(5, 4)", "numeric(5,4)"},
                {"numeric(12)", "numeric(12,0)"},
                {"Double  Precision", "double precision"},
                {"timestamptz", "timestamp with time zone"},
                {"int", "integer"},
                {"jsonb", "jsonb"},
        };
        static const char *const bad[] = {"varchar",    "numeric(2,5)",
                                          "serial",     "text; DROP TABLE x",
                                          "varchar(0)", "bigint(3)"};
        red_sqlt_class_t cls;
        char out[96], lit[64];

        for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
                ck_assert_msg(
                        !red_sqltype_parse(ok[i].in, out, sizeof(out), &cls),
                        "%s", ok[i].in);
                ck_assert_str_eq(out, ok[i].canon);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
                ck_assert_msg(
                        red_sqltype_parse(bad[i], out, sizeof(out), &cls) != 0,
                        "%s accepted", bad[i]);
        }
        ck_assert(!red_sqltype_literal("0.0", false, RED_SQLT_DECIMAL, lit,
                                       sizeof(lit)));
        ck_assert_str_eq(lit, "0.0");
        ck_assert(!red_sqltype_literal("{}", true, RED_SQLT_JSON, lit,
                                       sizeof(lit)));
        ck_assert_str_eq(lit, "'{}'");
        ck_assert(!red_sqltype_literal("n/a", false, RED_SQLT_TEXT, lit,
                                       sizeof(lit)));
        ck_assert_str_eq(lit, "'n/a'");
        /* nothing that would need escaping gets through */
        ck_assert(red_sqltype_literal("it's", false, RED_SQLT_TEXT, lit,
                                      sizeof(lit)));
        ck_assert(red_sqltype_literal("1.5", false, RED_SQLT_INTEGER, lit,
                                      sizeof(lit)));
        ck_assert(red_sqltype_literal("1; x", false, RED_SQLT_FLOAT, lit,
                                      sizeof(lit)));
}
END_TEST

static const red_coldef_t *col(const red_tabledef_t *t, const char *name)
{
        const red_coldef_t *cd = red_tabledef_col(t, name);

        ck_assert_msg(cd != NULL, "table %s has no column %s", t->name, name);
        return cd;
}

START_TEST(aggregation_columns_from_what_is_written)
{
        red_contract_t *c = task_contract("1000", "");
        red_tabledef_set_t defs;
        const red_tabledef_t *t;
        char err[512];

        ck_assert_int_eq(red_tabledef_set_build(c, &defs, err, sizeof(err)), 0);
        ck_assert_uint_eq(defs.cnt, 1);
        t = red_tabledef_set_find(&defs, "task_metrics_by_agent");
        ck_assert_ptr_nonnull(t);
        /* grouping_column defaults to the seed's name */
        ck_assert_str_eq(col(t, "aggregation_type")->type,
                         "character varying(50)");
        /* a key filled from a field with max_length */
        ck_assert_str_eq(col(t, "agent_id")->type, "character varying(100)");
        ck_assert(col(t, "agent_id")->not_null);
        /* counts: bigint, never null */
        ck_assert_str_eq(col(t, "tasks")->type, "bigint");
        ck_assert(col(t, "tasks")->not_null);
        ck_assert_str_eq(col(t, "tasks")->def, "0");
        ck_assert_str_eq(col(t, "success_rate")->type, "double precision");
        ck_assert(!col(t, "success_rate")->not_null);
        ck_assert_str_eq(col(t, "p95_ms")->type, "double precision");
        /* an exact sum stays exact */
        ck_assert_str_eq(col(t, "total_ms")->type, "numeric");
        ck_assert_str_eq(col(t, "state")->type, "bytea");
        ck_assert_uint_eq(t->pkey_cnt, 4);
        ck_assert_str_eq(t->pkey[2], "aggregation_type");
        ck_assert_int_eq(t->part, RED_TPART_RANGE);
        ck_assert_int_eq(t->gran, RED_PART_MONTHLY);
        ck_assert_int_eq(t->fillfactor, RED_TABLEDEF_FILLFACTOR_UPDATED);
        ck_assert_uint_eq(t->idx_cnt, 2);
        ck_assert_str_eq(t->idx[0].name, "task_metrics_by_agent_id");
        ck_assert_str_eq(t->idx[1].where, "finalized_at IS NULL");
        /* the column's meaning names the measures it reads */
        ck_assert_ptr_nonnull(
                strstr(red_tabledef_meaning(t, "column success_rate")->text,
                       "ok: count on [task] where success = true"));
        red_tabledef_set_destroy(&defs);
        red_contract_destroy(c);
}
END_TEST

START_TEST(column_types_override)
{
        red_contract_t *c = task_contract(
                "1000", "    column_types:\n"
                        "      success_rate: {type: \"numeric(5,4)\", "
                        "default: 0.0}\n"
                        "      tasks: {not_null: false}\n"
                        "      agent_id: text\n"
                        "    indexes:\n"
                        "      - {name: slow, columns: [p95_ms, window_start], "
                        "where: not_null}\n");
        red_tabledef_set_t defs;
        const red_tabledef_t *t;
        char err[512];

        ck_assert_int_eq(red_tabledef_set_build(c, &defs, err, sizeof(err)), 0);
        t = &defs.items[0];
        ck_assert_str_eq(col(t, "success_rate")->type, "numeric(5,4)");
        ck_assert_str_eq(col(t, "success_rate")->def, "0.0");
        ck_assert(!col(t, "tasks")->not_null);
        ck_assert_str_eq(col(t, "tasks")->def, "0");
        ck_assert_str_eq(col(t, "agent_id")->type, "text");
        ck_assert_uint_eq(t->idx_cnt, 3);
        ck_assert_str_eq(t->idx[2].name, "task_metrics_by_agent_slow");
        ck_assert_str_eq(t->idx[2].where,
                         "p95_ms IS NOT NULL AND window_start IS NOT NULL");
        red_tabledef_set_destroy(&defs);
        red_contract_destroy(c);
}
END_TEST

START_TEST(retention_and_partitions_per_window)
{
        red_contract_t *c = task_contract(
                "1000", "    retention: {hourly: 30d, daily: 90d}\n"
                        "    partition: {hourly: daily, daily: monthly}\n");
        const red_agg_t *a = &c->aggs[0];
        red_tabledef_set_t defs;
        red_partition_t gran;
        char err[512], parent[64];

        ck_assert(a->partition_by_window);
        ck_assert_int_eq(a->window_retention_us[RED_WINDOW_HOURLY],
                         30 * RED_TIME_US_PER_DAY);
        ck_assert_int_eq(a->window_retention_us[RED_WINDOW_DAILY],
                         90 * RED_TIME_US_PER_DAY);
        /* whole partitions of the table go at the longest retention */
        ck_assert_int_eq(a->retention_us, 90 * RED_TIME_US_PER_DAY);
        red_contract_agg_partition_parent(a, RED_WINDOW_HOURLY, parent,
                                          sizeof(parent), &gran);
        ck_assert_str_eq(parent, "task_metrics_by_agent_hourly");
        ck_assert_int_eq(gran, RED_PART_DAILY);
        ck_assert_int_eq(red_tabledef_set_build(c, &defs, err, sizeof(err)), 0);
        ck_assert_int_eq(defs.items[0].part, RED_TPART_WINDOWS);
        ck_assert_uint_eq(defs.items[0].windows,
                          (1u << RED_WINDOW_HOURLY) | (1u << RED_WINDOW_DAILY));
        ck_assert_int_eq(defs.items[0].window_gran[RED_WINDOW_DAILY],
                         RED_PART_MONTHLY);
        red_tabledef_set_destroy(&defs);
        red_contract_destroy(c);

        /* a window type the map does not name keeps its rows */
        c = task_contract("1000", "    retention: {hourly: 30d}\n");
        ck_assert_int_eq(c->aggs[0].window_retention_us[RED_WINDOW_DAILY], 0);
        ck_assert_int_eq(c->aggs[0].retention_us, 0);
        red_contract_destroy(c);
}
END_TEST

/* The meanings schema evolution compares: a new bucket threshold changes
 * the grouping that uses it, a new column is a new part, the rest stays. */
START_TEST(meanings_follow_definitions)
{
        red_contract_t *a = task_contract("1000", "");
        red_contract_t *b = task_contract("500", "");
        red_contract_t *c2 =
                task_contract("1000", "      p99_ms: duration.p99\n");
        red_tabledef_set_t da, db, dc;
        const red_meaning_t *ma, *mb;
        char err[512];
        size_t same = 0;

        ck_assert_int_eq(red_tabledef_set_build(a, &da, err, sizeof(err)), 0);
        ck_assert_int_eq(red_tabledef_set_build(b, &db, err, sizeof(err)), 0);
        ck_assert_int_eq(red_tabledef_set_build(c2, &dc, err, sizeof(err)), 0);
        /* buckets are not used by a grouping: nothing changes */
        for (size_t i = 0; i < da.items[0].meaning_cnt; i++) {
                ma = &da.items[0].meanings[i];
                mb = red_tabledef_meaning(&db.items[0], ma->name);
                ck_assert_ptr_nonnull(mb);
                same += !strcmp(ma->text, mb->text);
        }
        ck_assert_uint_eq(same, da.items[0].meaning_cnt);
        ck_assert_ptr_null(red_tabledef_meaning(&da.items[0], "column p99_ms"));
        ck_assert_ptr_nonnull(
                red_tabledef_meaning(&dc.items[0], "column p99_ms"));
        ck_assert_str_eq(
                red_tabledef_meaning(&da.items[0], "window hourly")->text,
                "hourly windows in UTC");
        red_tabledef_set_destroy(&da);
        red_tabledef_set_destroy(&db);
        red_tabledef_set_destroy(&dc);
        red_contract_destroy(a);
        red_contract_destroy(b);
        red_contract_destroy(c2);
}
END_TEST

/* A window in a time zone means another set of instants than the same
 * window in UTC: the zone is part of the window's meaning. */
START_TEST(time_zone_in_window_meaning)
{
        red_contract_t *c =
                test_contract("tests/data/contracts/tz_berlin.yaml");
        red_tabledef_set_t d;
        char err[512];

        ck_assert_int_eq(red_tabledef_set_build(c, &d, err, sizeof(err)), 0);
        ck_assert_str_eq(
                red_tabledef_meaning(&d.items[0], "window daily")->text,
                "daily windows in Europe/Berlin");
        red_tabledef_set_destroy(&d);
        red_contract_destroy(c);
}
END_TEST

START_TEST(bucket_thresholds_change_the_grouping)
{
        red_contract_t *a = test_contract("contracts/codegen_metrics.yaml");
        char *text = test_read_file(test_path("contracts/codegen_metrics.yaml"),
                                    NULL);
        char *at = strstr(text, "below: 0.6");
        red_tabledef_set_t da, db;
        red_contract_t *b;
        char err[512];

        ck_assert_ptr_nonnull(at);
        memcpy(at, "below: 0.5", 10);
        b = test_contract_text(text);
        ck_assert_int_eq(red_tabledef_set_build(a, &da, err, sizeof(err)), 0);
        ck_assert_int_eq(red_tabledef_set_build(b, &db, err, sizeof(err)), 0);
        ck_assert_str_ne(
                red_tabledef_meaning(&da.items[0], "grouping quality_buckets")
                        ->text,
                red_tabledef_meaning(&db.items[0], "grouping quality_buckets")
                        ->text);
        ck_assert_str_eq(red_tabledef_meaning(&da.items[0],
                                              "grouping node_type_grouping")
                                 ->text,
                         red_tabledef_meaning(&db.items[0],
                                              "grouping node_type_grouping")
                                 ->text);
        ck_assert_ptr_nonnull(strstr(
                red_tabledef_meaning(&db.items[0], "grouping quality_buckets")
                        ->text,
                "low < 0.5"));
        red_tabledef_set_destroy(&da);
        red_tabledef_set_destroy(&db);
        red_contract_destroy(a);
        red_contract_destroy(b);
        free(text);
}
END_TEST

/* The shipped contracts declare every table of the seed schema. */
START_TEST(shipped_contracts_tables)
{
        static const char *const codegen[] = {"codegen_metrics_aggregated",
                                              "workflow_state_current",
                                              "workflow_state_history"};
        red_contract_t *c = test_contract("contracts/codegen_metrics.yaml");
        red_contract_t *am = test_contract("contracts/agent_metrics.yaml");
        red_contract_t *nr;
        red_tabledef_set_t defs;
        const red_tabledef_t *t;
        char err[512];

        ck_assert_int_eq(red_tabledef_set_build(c, &defs, err, sizeof(err)), 0);
        ck_assert_uint_eq(defs.cnt, 3);
        for (size_t i = 0; i < 3; i++) {
                ck_assert_str_eq(defs.items[i].name, codegen[i]);
        }
        t = &defs.items[0];
        ck_assert_str_eq(col(t, "group_key")->type, "character varying(255)");
        ck_assert_str_eq(col(t, "success_rate")->type, "numeric(5,4)");
        ck_assert(col(t, "started_generations")->not_null);
        ck_assert(!col(t, "total_generations")->not_null);
        ck_assert_str_eq(col(t, "stage_statistics")->type, "jsonb");
        ck_assert_int_eq(defs.items[1].fillfactor, 50);
        ck_assert_int_eq(defs.items[2].gran, RED_PART_DAILY);
        red_tabledef_set_destroy(&defs);

        ck_assert_int_eq(red_tabledef_set_build(am, &defs, err, sizeof(err)),
                         0);
        ck_assert_uint_eq(defs.cnt, 7); /* rollup, 5 raw, alerts */
        t = red_tabledef_set_find(&defs, "agent_routing_metrics");
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(col(t, "metric_id")->type, "character varying(50)");
        ck_assert_str_eq(col(t, "metric_type")->type, "character varying(20)");
        ck_assert_str_eq(col(t, "value")->type, "double precision");
        ck_assert(col(t, "value")->not_null);
        ck_assert(!col(t, "agent_id")->not_null);
        ck_assert_str_eq(col(t, "tags")->def, "'{}'");
        ck_assert_uint_eq(t->pkey_cnt, 2);
        ck_assert_str_eq(t->pkey[1], "timestamp");
        ck_assert_uint_eq(t->idx_cnt, 4);
        t = red_tabledef_set_find(&defs, "agent_alerts");
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(col(t, "agent_id")->type, "character varying(100)");
        red_tabledef_set_destroy(&defs);

        /* the node registry's: its history (a raw sink's table, once for
         * its one topic), the state's table and its capability list */
        nr = test_contract("contracts/node_registry.yaml");
        ck_assert_uint_eq(nr->state_cnt, 1);
        ck_assert_int_ge(nr->states[0].history, 0);
        ck_assert_int_eq(red_tabledef_set_build(nr, &defs, err, sizeof(err)),
                         0);
        ck_assert_uint_eq(defs.cnt, 3);
        t = red_tabledef_set_find(&defs, "registered_nodes");
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(t->sink, "state");
        ck_assert_uint_eq(t->pkey_cnt, 1);
        ck_assert_str_eq(t->pkey[0], "node_id");
        ck_assert_str_eq(col(t, "node_id")->type, "character varying(255)");
        /* required in the kind that creates rows: never null */
        ck_assert(col(t, "node_name")->not_null);
        ck_assert(col(t, "version")->not_null);
        ck_assert(!col(t, "registration_source")->not_null); /* declared */
        ck_assert(!col(t, "last_heartbeat")->not_null);
        ck_assert_str_eq(col(t, "last_heartbeat")->type,
                         "timestamp with time zone");
        ck_assert_str_eq(col(t, "heartbeat_count")->def, "0");
        ck_assert_str_eq(col(t, "health_check_interval_s")->type,
                         "double precision");
        ck_assert_str_eq(col(t, "capabilities")->def, "'[]'");
        ck_assert_str_eq(col(t, "search_text")->type, "text");
        /* the effective status is one of the status column's values */
        ck_assert_str_eq(col(t, "state_status")->type, "character varying(50)");
        ck_assert_ptr_nonnull(col(t, "deleted_at"));
        ck_assert_ptr_nonnull(red_tabledef_meaning(t, "column node_name"));
        ck_assert_ptr_nonnull(strstr(
                red_tabledef_meaning(t, "column node_name")->text, "latest "));
        t = red_tabledef_set_find(&defs, "node_capability_index");
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(t->pkey[0], "capability_id");
        ck_assert_str_eq(col(t, "capability_id")->def, "gen_random_uuid()");
        ck_assert(col(t, "capability_name")->not_null);
        ck_assert_uint_eq(t->idx_cnt, 2);
        ck_assert(t->idx[0].unique);
        ck_assert_str_eq(t->idx[0].name, "node_capability_index_node_id_"
                                         "capability_name_key");
        t = red_tabledef_set_find(&defs, "node_heartbeats");
        ck_assert_ptr_nonnull(t);
        ck_assert_uint_eq(t->pkey_cnt, 2);
        ck_assert_str_eq(t->pkey[0], "heartbeat_id");
        ck_assert_str_eq(t->pkey[1], "heartbeat_timestamp");
        ck_assert_int_eq(t->gran, RED_PART_DAILY);
        ck_assert_str_eq(col(t, "health_status")->type,
                         "character varying(50)");
        red_tabledef_set_destroy(&defs);
        red_contract_destroy(nr);
        red_contract_destroy(c);
        red_contract_destroy(am);
}
END_TEST

/* A backfill replaces whole windows: each window type's range grows to
 * its boundaries, and the events read cover the widest. */
START_TEST(rebuild_range_is_whole_windows)
{
        red_rebuild_range_t rr;
        uint32_t hd = (1u << RED_WINDOW_HOURLY) | (1u << RED_WINDOW_DAILY) |
                      (1u << RED_WINDOW_MONTHLY);
        char a[RED_TIME_FMT_SIZE], b[RED_TIME_FMT_SIZE];

        red_rebuild_range(hd, test_ts("2026-03-10T05:30:00Z"),
                          test_ts("2026-03-12T00:00:00Z"), &rr);
        ck_assert_str_eq(test_ts_text(rr.from[RED_WINDOW_HOURLY], a),
                         "2026-03-10T05:00:00Z");
        ck_assert_str_eq(test_ts_text(rr.to[RED_WINDOW_HOURLY], b),
                         "2026-03-12T00:00:00Z");
        ck_assert_str_eq(test_ts_text(rr.from[RED_WINDOW_DAILY], a),
                         "2026-03-10T00:00:00Z");
        ck_assert_str_eq(test_ts_text(rr.from[RED_WINDOW_MONTHLY], a),
                         "2026-03-01T00:00:00Z");
        ck_assert_str_eq(test_ts_text(rr.to[RED_WINDOW_MONTHLY], b),
                         "2026-04-01T00:00:00Z");
        /* weekly is not among the windows: it does not widen the read */
        ck_assert_str_eq(test_ts_text(rr.read_from, a), "2026-03-01T00:00:00Z");
        ck_assert_str_eq(test_ts_text(rr.read_to, b), "2026-04-01T00:00:00Z");
        ck_assert(red_rebuild_covers(&rr, RED_WINDOW_DAILY,
                                     test_ts("2026-03-11T00:00:00Z")));
        ck_assert(!red_rebuild_covers(&rr, RED_WINDOW_DAILY,
                                      test_ts("2026-03-12T00:00:00Z")));
        red_rebuild_range(hd, INT64_MIN, INT64_MAX, &rr);
        ck_assert_int_eq(rr.read_from, INT64_MIN);
        ck_assert_int_eq(rr.read_to, INT64_MAX);
}
END_TEST

/* agent_metrics stores every event it aggregates, with the fields read;
 * codegen_metrics keeps no raw rows (its cells come back from Kafka). */
START_TEST(rebuild_sources)
{
        red_contract_t *am = test_contract("contracts/agent_metrics.yaml");
        red_contract_t *cg = test_contract("contracts/codegen_metrics.yaml");
        red_contract_t *tm = task_contract("1000", "");
        red_rebuild_src_t *src;
        size_t cnt;
        char err[512];

        ck_assert_int_eq(
                red_rebuild_raw_sources(am, &src, &cnt, err, sizeof(err)), 0);
        ck_assert_uint_eq(cnt, 5);
        ck_assert_str_eq(src[0].table, "agent_routing_metrics");
        ck_assert_str_eq(src[0].kind->name, "metric");
        free(src);
        ck_assert_int_ne(
                red_rebuild_raw_sources(cg, &src, &cnt, err, sizeof(err)), 0);
        ck_assert_ptr_nonnull(strstr(err, "codegen_metrics stores no raw "
                                          "rows"));
        /* no raw sink at all */
        ck_assert_int_ne(
                red_rebuild_raw_sources(tm, &src, &cnt, err, sizeof(err)), 0);
        ck_assert_ptr_nonnull(strstr(err, "stores no raw rows"));
        red_contract_destroy(am);
        red_contract_destroy(cg);
        red_contract_destroy(tm);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("tabledef");

        test_add_case(s, "sqltype_spellings", sqltype_spellings, 30);
        test_add_case(s, "aggregation_columns_from_what_is_written",
                      aggregation_columns_from_what_is_written, 30);
        test_add_case(s, "column_types_override", column_types_override, 30);
        test_add_case(s, "retention_and_partitions_per_window",
                      retention_and_partitions_per_window, 30);
        test_add_case(s, "meanings_follow_definitions",
                      meanings_follow_definitions, 30);
        test_add_case(s, "time_zone_in_window_meaning",
                      time_zone_in_window_meaning, 30);
        test_add_case(s, "bucket_thresholds_change_the_grouping",
                      bucket_thresholds_change_the_grouping, 30);
        test_add_case(s, "shipped_contracts_tables", shipped_contracts_tables,
                      30);
        test_add_case(s, "rebuild_range_is_whole_windows",
                      rebuild_range_is_whole_windows, 30);
        test_add_case(s, "rebuild_sources", rebuild_sources, 30);
        return test_main(s);
}
