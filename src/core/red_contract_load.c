/* red_contract_load - loads a contract file: the root, then each section. */
#include "red_contract_load.h"

#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- identity and settings ----------------------------------------------- */

/* time: the event-time settings (defaults in contract_of()). */
static int time_of(red_loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"max_out_of_orderness",
                                           "grace",
                                           "late_policy",
                                           "allowed_lateness",
                                           "max_future_skew",
                                           "idle_wait",
                                           NULL};
        /* in the order of red_late_policy_t */
        static const char *const policies[] = {"update", "dead_letter", "drop"};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        const char *s;
        int r;

        if ((r = red_yaml_check_keys(n, "time", keys, ld->errstr, ld->size))) {
                return r;
        }
        if (((v = red_yaml_get(n, "max_out_of_orderness")) &&
             (r = red_contract_load_duration(ld, v, "time.max_out_of_orderness",
                                             &c->max_out_of_orderness_us))) ||
            ((v = red_yaml_get(n, "grace")) &&
             (r = red_contract_load_duration(ld, v, "time.grace",
                                             &c->grace_us))) ||
            ((v = red_yaml_get(n, "allowed_lateness")) &&
             (r = red_contract_load_duration(ld, v, "time.allowed_lateness",
                                             &c->allowed_lateness_us))) ||
            ((v = red_yaml_get(n, "max_future_skew")) &&
             (r = red_contract_load_duration(ld, v, "time.max_future_skew",
                                             &c->max_future_skew_us))) ||
            ((v = red_yaml_get(n, "idle_wait")) &&
             (r = red_contract_load_duration(ld, v, "time.idle_wait",
                                             &c->idle_wait_us)))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "late_policy"))) {
                return 0;
        }
        if ((r = red_yaml_to_str(v, "time.late_policy", &s, ld->errstr,
                                 ld->size))) {
                return r;
        }
        for (int i = 0; i < 3; i++) {
                if (!strcmp(s, policies[i])) {
                        c->late_policy = (red_late_policy_t)i;
                        return 0;
                }
        }
        return red_yaml_error(ld->errstr, ld->size, v,
                              "time.late_policy: \"%s\" is not valid "
                              "(allowed: update, dead_letter, drop)",
                              s);
}

/* sketch: the relative accuracy of every quantile sketch of the contract. */
static int sketch_of(red_loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"relative_accuracy", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *a;
        int r;

        if ((r = red_yaml_check_keys(n, "sketch", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        if ((a = red_yaml_get(n, "relative_accuracy")) &&
            ((r = red_yaml_to_double(a, "sketch.relative_accuracy",
                                     &c->sketch_alpha, ld->errstr, ld->size)) ||
             c->sketch_alpha < 0.0001 || c->sketch_alpha > 0.2)) {
                return r ? r
                         : red_yaml_error(ld->errstr, ld->size, a,
                                          "sketch.relative_accuracy: %g is "
                                          "out of range (allowed: "
                                          "0.0001..0.2)",
                                          c->sketch_alpha);
        }
        return 0;
}

/* contract, version, consumer_group, dead_letter_topic. */
static int identity_of(red_loader_t *ld, const red_yaml_node_t *root)
{
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_contract_load_ident(ld, red_yaml_get(root, "contract"),
                                         "contract", 40, &c->name)) ||
            (r = red_contract_load_str(ld, red_yaml_get(root, "version"),
                                       "version", &c->version)) ||
            (r = red_contract_load_topic(
                     ld, red_yaml_get(root, "dead_letter_topic"),
                     "dead_letter_topic", &c->dead_letter_topic))) {
                return r;
        }
        if ((v = red_yaml_get(root, "consumer_group"))) {
                return red_contract_load_str(ld, v, "consumer_group",
                                             &c->consumer_group);
        }
        if (asprintf(&c->consumer_group, "reducerd.%s", c->name) < 0) {
                /* asprintf leaves the pointer undefined on failure */
                c->consumer_group = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* --- the sections -------------------------------------------------------- */

/*
 * In the order in which sections refer to each other: events define the
 * kinds and fields everything else names; raw tables must be inputs'
 * topics; aggregations group by dimensions and are weighted by weight;
 * the fsm key must equal the workflows key; metrics label by dimensions
 * and FSM states.
 */
static const struct {
        const char *key;
        int (*parse)(red_loader_t *ld, const red_yaml_node_t *n);
} sections[] = {
        {"events", red_contract_load_events},
        {"inputs", red_contract_load_inputs},
        {"workflows", red_contract_load_workflows},
        {"weight", red_contract_load_weight},
        {"dedupe", red_contract_load_dedupe},
        {"dimensions", red_contract_load_dims},
        {"aggregations", red_contract_load_aggs},
        {"fsm", red_contract_load_fsm},
        {"raw", red_contract_load_raws},
        {"state", red_contract_load_states},
        {"alerts", red_contract_load_alerts},
        {"metrics", red_contract_load_metrics},
};

static int contract_of(red_loader_t *ld, const red_yaml_node_t *root)
{
        static const char *const keys[] = {"contract",
                                           "version",
                                           "description",
                                           "consumer_group",
                                           "time",
                                           "sketch",
                                           "dead_letter_topic",
                                           "inputs",
                                           "events",
                                           "workflows",
                                           "weight",
                                           "dedupe",
                                           "dimensions",
                                           "aggregations",
                                           "fsm",
                                           "raw",
                                           "state",
                                           "alerts",
                                           "metrics",
                                           NULL};
        static const char *const required[] = {
                "contract", "version", "dead_letter_topic",
                "inputs",   "events",  NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(root, "contract", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        for (const char *const *k = required; *k; k++) {
                if (!red_yaml_get(root, *k)) {
                        return red_yaml_error(ld->errstr, ld->size, root,
                                              "contract: \"%s\" is required",
                                              *k);
                }
        }
        if ((r = identity_of(ld, root))) {
                return r;
        }
        c->max_out_of_orderness_us = 60 * RED_TIME_US_PER_SEC;
        c->allowed_lateness_us = 7 * RED_TIME_US_PER_DAY;
        c->max_future_skew_us = 5 * RED_TIME_US_PER_MIN;
        c->idle_wait_us = 2 * RED_TIME_US_PER_SEC;
        if ((v = red_yaml_get(root, "time")) && (r = time_of(ld, v))) {
                return r;
        }
        c->sketch_alpha = 0.01;
        if ((v = red_yaml_get(root, "sketch")) && (r = sketch_of(ld, v))) {
                return r;
        }
        c->workflow_key_slot = -1;
        c->dedupe_slot = -1;
        for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++) {
                if ((v = red_yaml_get(root, sections[i].key)) &&
                    (r = sections[i].parse(ld, v))) {
                        return r;
                }
        }
        return 0;
}

/* --- load and destroy ---------------------------------------------------- */

/*
 * The contract is built in place: on any error, what the sections stored
 * so far is freed by red_contract_destroy() (the ownership rule of
 * red_contract_load.h), so no parser needs an undo path of its own.
 */
red_contract_t *red_contract_load(const char *path, char *errstr,
                                  size_t errstr_size)
{
        red_yaml_doc_t *doc = red_yaml_load_file(path, errstr, errstr_size);
        red_loader_t ld = {NULL, errstr, errstr_size};
        const red_yaml_node_t *root;
        int r;

        if (!doc) {
                return NULL;
        }
        if (!(ld.c = calloc(1, sizeof(*ld.c))) ||
            !(ld.c->path = strdup(path))) {
                r = -ENOMEM;
        } else if (!(root = red_yaml_doc_root(doc)) ||
                   red_yaml_kind(root) != RED_YAML_MAP) {
                r = -EINVAL;
                snprintf(errstr, errstr_size,
                         "%s:1:1: a contract must be a mapping", path);
        } else {
                r = contract_of(&ld, root);
        }
        if (r == -ENOMEM) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
        }
        red_yaml_doc_destroy(doc);
        if (r) {
                red_contract_destroy(ld.c);
                return NULL;
        }
        return ld.c;
}

/* Frees a whole contract as well as one that a section left half-built. */
void red_contract_destroy(red_contract_t *c)
{
        if (!c) {
                return;
        }
        red_contract_load_free_kinds(c->kinds, c->kind_cnt);
        red_contract_load_free_inputs(c->inputs, c->input_cnt);
        red_contract_load_strlist_free(c->slot_names, c->slot_cnt);
        free(c->slot_types);
        free(c->remember_slots);
        free(c->total_targets);
        free(c->total_sources);
        red_contract_load_free_dims(c->dims, c->dim_cnt);
        red_contract_load_free_aggs(c->aggs, c->agg_cnt);
        red_contract_load_free_fsm(c->fsm);
        red_contract_load_free_raws(c->raws, c->raw_cnt);
        red_contract_load_free_states(c->states, c->state_cnt);
        red_contract_load_free_alerts(c->alerts);
        free(c->weight);
        red_contract_load_free_metrics(c->metrics, c->metric_cnt);
        free(c->path);
        free(c->name);
        free(c->version);
        free(c->consumer_group);
        free(c->dead_letter_topic);
        free(c);
}
