/* Tests for red_contract: the shipped contract's model, every invalid example.
 */
#include "red_contract.h"
#include "red_test.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(codegen_contract_model)
{
        char err[2048];
        red_contract_t *c = red_contract_load(
                test_path("contracts/codegen_metrics.yaml"), err, sizeof(err));
        const red_agg_t *a;
        const red_fsm_t *f;
        const red_kind_t *k;

        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_str_eq(c->name, "codegen_metrics");
        ck_assert_str_eq(c->consumer_group, "reducerd.codegen_metrics");
        ck_assert_uint_eq(c->kind_cnt, 6);
        ck_assert_uint_eq(c->input_cnt, 5);
        ck_assert_int_eq(c->inputs[0].default_kind, 0);
        ck_assert_int_eq(c->inputs[4].default_kind, -1);
        ck_assert_int_eq(c->max_out_of_orderness_us, 60000000);
        ck_assert_int_eq(c->late_policy, RED_LATE_UPDATE);

        k = red_contract_kind_by_type(c, "CODEGEN_COMPLETED", 17);
        ck_assert_ptr_nonnull(k);
        ck_assert_str_eq(k->name, "completed");
        ck_assert_ptr_eq(
                red_contract_kind_by_type(c, "NODE_GENERATION_COMPLETED", 25),
                k);
        ck_assert_ptr_null(
                red_contract_kind_by_type(c, "CODEGEN_COMPLETE", 16));
        /* stage duration normalisation: ms, or seconds x 1000 */
        k = red_contract_kind_by_type(c, "CODEGEN_STAGE_COMPLETED", 23);
        ck_assert_str_eq(k->fields[3].name, "duration_ms");
        ck_assert_uint_eq(k->fields[3].from_cnt, 2);
        ck_assert_str_eq(k->fields[3].from[1].name, "duration_seconds");
        ck_assert_double_eq(k->fields[3].from[1].scale, 1000);
        /* one slot per field name across kinds */
        ck_assert_int_eq(red_contract_slot(c, "node_type"),
                         c->kinds[2].fields[1].slot);
        ck_assert_int_eq(c->workflow_key_slot,
                         red_contract_slot(c, "workflow_id"));
        ck_assert_uint_eq(c->remember_cnt, 2);

        ck_assert_uint_eq(c->agg_cnt, 1);
        a = &c->aggs[0];
        ck_assert_str_eq(a->table, "codegen_metrics_aggregated");
        ck_assert_uint_eq(a->windows, 0xf);
        ck_assert_uint_eq(a->grouping_cnt, 4);
        ck_assert_str_eq(a->groupings[3].name, "time_window");
        ck_assert_str_eq(c->dims[a->groupings[3].dims[0]].constant, "all");
        ck_assert_uint_eq(a->measure_cnt, 10);
        ck_assert_int_eq(a->measures[3].kind, RED_MEAS_SKETCH);
        ck_assert_int_eq(a->measures[7].kind, RED_MEAS_BY);
        ck_assert_uint_eq(a->measures[7].sub_cnt, 5);
        ck_assert_uint_eq(a->measures[7].sub[1].where_cnt, 1);
        ck_assert_int_eq(a->measures[8].kind, RED_MEAS_COUNT_BY);
        ck_assert_int_eq(a->measures[9].sub[0].kind, RED_MEAS_RECENT);
        ck_assert_int_eq(a->measures[9].sub[0].keep, 5);
        ck_assert_uint_eq(a->column_cnt, 11);
        ck_assert_int_eq(a->columns[5].kind, RED_COL_OBJECT);
        ck_assert_int_eq(a->columns[8].kind, RED_COL_EACH);
        ck_assert_int_eq(a->columns[9].kind, RED_COL_COUNTS);
        ck_assert_int_eq(a->columns[10].kind, RED_COL_EACH);
        ck_assert_int_eq(a->columns[10].sub, 0);
        ck_assert_uint_eq(c->total_cnt, 2);
        ck_assert_str_eq(c->slot_names[c->total_targets[1]], "total_cost_usd");
        ck_assert_str_eq(c->slot_names[c->total_sources[0]], "tokens_consumed");
        ck_assert_str_eq(a->publish.topic,
                         "dev.omninode-bridge.codegen.metrics-recorded.v1");

        f = c->fsm;
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(f->state_cnt, 6);
        ck_assert_str_eq(f->states[f->initial], "pending");
        ck_assert_uint_eq(f->terminal, (1u << 4) | (1u << 5));
        ck_assert_uint_eq(f->transition_cnt, 6);
        ck_assert_uint_eq(f->event_cnt, 6);
        ck_assert_uint_eq(f->transitions[4].from, 0xf);
        ck_assert_str_eq(f->transitions[0].guards[0], "has_requirements");
        ck_assert_uint_eq(f->trigger_cnt, 8);
        ck_assert(f->triggers[2].initialize);
        ck_assert_int_eq(red_contract_fsm_event(f, "retry_workflow", 14),
                         f->transitions[5].event);
        red_contract_destroy(c);
}
END_TEST

/*
 * Calls @p check for every invalid example with its path and the error it
 * must give: "PATH:" followed by its first line "# expect: LINE:COL: ...".
 * Returns how many examples there are.
 */
static int each_invalid_example(void (*check)(const char *path,
                                              const char *want))
{
        const char *dir = test_path("tests/data/contracts/invalid");
        DIR *d = opendir(dir);
        struct dirent *de;
        int seen = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d))) {
                char path[4096], want[8192], *text, *nl;

                if (!strstr(de->d_name, ".yaml")) {
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                text = test_read_file(path, NULL);
                ck_assert_msg(!strncmp(text, "# expect: ", 10),
                              "%s lacks an expect line", path);
                nl = strchr(text, '\n');
                *nl = '\0';
                snprintf(want, sizeof(want), "%s:%s", path, text + 10);
                free(text);
                check(path, want);
                seen++;
        }
        closedir(d);
        return seen;
}

/* In-process, so that valgrind sees every error path free what it built
 * (meson test --setup=valgrind contract). */
static void load_fails(const char *path, const char *want)
{
        char err[2048];
        red_contract_t *c = red_contract_load(path, err, sizeof(err));

        ck_assert_msg(c == NULL, "%s loaded", path);
        ck_assert_str_eq(err, want);
}

START_TEST(invalid_examples)
{
        ck_assert_int_ge(each_invalid_example(load_fails), 45);
}
END_TEST

/* What a user sees: `reducerd check FILE` prints the one line and exits 1
 * (an abort in an error path would exit 134). */
static void check_fails(const char *path, const char *want)
{
        const char *argv[] = {test_bin(), "check", path, NULL};
        char line[8300], *out, *err;
        int rc = test_run(argv, NULL, &out, &err);

        snprintf(line, sizeof(line), "%s\n", want);
        ck_assert_msg(rc == 1, "%s: exit %d: %s", path, rc, err);
        ck_assert_str_eq(err, line);
        free(out);
        free(err);
}

START_TEST(check_rejects_invalid_examples)
{
        ck_assert_int_ge(each_invalid_example(check_fails), 45);
}
END_TEST

START_TEST(minimal_is_valid)
{
        char err[2048];
        red_contract_t *c = red_contract_load(
                test_path("tests/data/contracts/minimal.yaml"), err,
                sizeof(err));

        ck_assert_msg(c != NULL, "%s", err);
        ck_assert_str_eq(c->consumer_group, "reducerd.minimal");
        ck_assert_ptr_null(c->fsm);
        ck_assert_int_eq(c->dedupe_slot, -1);
        red_contract_destroy(c);
}
END_TEST

/* `dedupe`: the key's field and the horizon (7 days unless given); the
 * shipped contracts deduplicate on the envelope's event_id. */
START_TEST(dedupe_key)
{
        red_contract_t *c =
                test_contract_with("tests/data/contracts/minimal.yaml",
                                   "dedupe:\n  key: job_id\n");

        ck_assert_int_eq(c->dedupe_slot, red_contract_slot(c, "job_id"));
        ck_assert_int_eq(c->dedupe_horizon_us, 7 * RED_TIME_US_PER_DAY);
        red_contract_destroy(c);
        c = test_contract_with("tests/data/contracts/minimal.yaml",
                               "dedupe: {key: kind, horizon: 90m}\n");
        ck_assert_int_eq(c->dedupe_slot, red_contract_slot(c, "kind"));
        ck_assert_int_eq(c->dedupe_horizon_us, 90 * RED_TIME_US_PER_MIN);
        red_contract_destroy(c);
        for (int i = 0; i < 2; i++) {
                c = test_contract(i ? "contracts/agent_metrics.yaml"
                                    : "contracts/codegen_metrics.yaml");
                ck_assert_int_eq(c->dedupe_slot,
                                 red_contract_slot(c, "event_id"));
                ck_assert_int_eq(c->slot_types[c->dedupe_slot], RED_FT_STRING);
                ck_assert_int_eq(c->dedupe_horizon_us, 7 * RED_TIME_US_PER_DAY);
                red_contract_destroy(c);
        }
}
END_TEST

/* Directories give their *.yaml files in name order; relative paths
 * resolve against the base directory, absolute ones do not. */
START_TEST(set_from_paths)
{
        char *paths[] = {"contracts", NULL};
        red_contract_set_t set;
        char err[2048], want[4096];

        ck_assert_msg(!red_contract_set_load(&set, paths, 1, test_srcdir(), err,
                                             sizeof(err)),
                      "%s", err);
        ck_assert_uint_eq(set.cnt, 3);
        ck_assert_str_eq(set.items[0]->name, "agent_metrics");
        ck_assert_str_eq(set.items[1]->name, "codegen_metrics");
        ck_assert_str_eq(set.items[2]->name, "node_registry");
        snprintf(want, sizeof(want), "%s/contracts/agent_metrics.yaml",
                 test_srcdir());
        ck_assert_str_eq(set.items[0]->path, want);
        red_contract_set_destroy(&set);

        paths[0] = (char *)test_path("tests/data/contracts/minimal.yaml");
        ck_assert_msg(!red_contract_set_load(&set, paths, 1, "/nonexistent",
                                             err, sizeof(err)),
                      "%s", err);
        ck_assert_uint_eq(set.cnt, 1);
        ck_assert_str_eq(set.items[0]->path, paths[0]);
        red_contract_set_destroy(&set);
}
END_TEST

/* Each failure leaves the set empty and says why. */
START_TEST(set_errors)
{
        char *twice[] = {"contracts/codegen_metrics.yaml", "contracts"};
        char *missing[] = {"contracts", "no/such/dir"};
        char *empty[1];
        red_contract_set_t set;
        char err[2048], want[4096];

        ck_assert_int_eq(red_contract_set_load(&set, missing, 2, test_srcdir(),
                                               err, sizeof(err)),
                         -EINVAL);
        snprintf(want, sizeof(want),
                 "contracts.paths: %s/no/such/dir: No such file or directory",
                 test_srcdir());
        ck_assert_str_eq(err, want);
        ck_assert_uint_eq(set.cnt, 0);
        ck_assert_ptr_null(set.items);

        ck_assert_int_eq(red_contract_set_load(&set, twice, 2, test_srcdir(),
                                               err, sizeof(err)),
                         -EINVAL);
        ck_assert_msg(strstr(err, "contract codegen_metrics (group "
                                  "reducerd.codegen_metrics) clashes with"),
                      "%s", err);
        ck_assert_uint_eq(set.cnt, 0);

        empty[0] = test_tmpdir();
        ck_assert_int_eq(
                red_contract_set_load(&set, empty, 1, NULL, err, sizeof(err)),
                -EINVAL);
        ck_assert_str_eq(err, "contracts.paths: no contract found");
        ck_assert_uint_eq(set.cnt, 0);
        rmdir(empty[0]);
        free(empty[0]);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("contract");
        TCase *tc = tcase_create("contract");

        tcase_add_test(tc, codegen_contract_model);
        tcase_add_test(tc, invalid_examples);
        tcase_add_test(tc, check_rejects_invalid_examples);
        tcase_add_test(tc, minimal_is_valid);
        tcase_add_test(tc, dedupe_key);
        tcase_add_test(tc, set_from_paths);
        tcase_add_test(tc, set_errors);
        suite_add_tcase(s, tc);
        return test_main(s);
}
