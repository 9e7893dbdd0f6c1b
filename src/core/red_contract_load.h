/*
 * red_contract_load - what the files of the contract loader share (not for
 * other modules).
 *
 * red_contract_load.c reads the root mapping and calls one parser per
 * section, in the order in which sections may refer to each other:
 *
 *   red_contract_values.c    the value parsers every section uses (names,
 *                            topics, durations, lists, kinds, fields,
 *                            constants, conditions, publish, partition)
 *   red_contract_events.c    events (kinds, fields), inputs, workflows,
 *                            weight
 *   red_contract_aggs.c      dimensions and aggregations
 *   red_contract_measures.c  an aggregation's measures and columns
 *   red_contract_fsm.c       the workflow state machine
 *   red_contract_sinks.c     raw sinks and alert rules
 *   red_contract_tables.c    what shapes a sink's tables: column_types,
 *                            indexes, retention and partitioning per
 *                            window type
 *   red_contract_sinks.c     raw sinks
 *   red_contract_alerts.c    alert rules (per event, over windows)
 *   red_contract_metrics.c   domain Prometheus series
 *   red_contract_state.c     state sinks (one row per key; after raw:
 *                            a state's history is a raw sink of its own)
 *   red_contract_state_tables.c  what shapes a state sink's tables
 *
 * red_contract.c (lookups, contract sets) uses only the public header:
 * including this one would make red_contract and red_contract_load
 * include each other (tests/check_layers.py).
 *
 * Errors: every parser returns 0, -EINVAL with "file:line:col: problem" in
 * the loader's errstr (red_yaml_error()), or -ENOMEM.
 *
 * Ownership while a contract is built (who frees what when a section
 * fails half-way):
 * - What a parser allocates for the contract it stores there at once, and
 *   it counts an element in (cnt++) before it fills it; arrays are
 *   calloc'ed, so members not reached yet are NULL or 0. E.g.
 *   red_contract_load_aggs() stores c->aggs, then per aggregation does
 *   c->agg_cnt++ before parsing it; if its third grouping fails, the
 *   aggregation holds two whole groupings and a third with what it got.
 * - On error a parser returns at once and frees nothing it stored in the
 *   contract: red_contract_load() hands the partial contract to
 *   red_contract_destroy(), whose free functions (below) release exactly
 *   what was built, whole or partial.
 * - What a parser keeps in locals (a list of names it looks up, say) it
 *   frees itself, once, on every path, and never keeps a pointer to it
 *   afterwards: a later error path must not free it again. A list parser
 *   that fails leaves nothing to free (red_contract_load_strlist()).
 */
#ifndef RED_CONTRACT_LOAD_H
#define RED_CONTRACT_LOAD_H

#include "red_contract.h"
#include "red_sqltype.h"
#include "red_yaml.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The loader's state: the contract being built and where errors go. */
typedef struct red_loader_s {
        red_contract_t *c;
        char *errstr;
        size_t size;
} red_loader_t;

/* Table names leave room for the "_YYYY_MM_DD" partition suffix. */
#define TABLE_NAME_MAX 52
/* Aggregation tables also for a window type ("_monthly") and a table
 * generation ("_g999", red_schema) before that suffix. */
#define AGG_TABLE_NAME_MAX 39

/* --- values (red_contract_values.c) ------------------------------------ */

/* The value of @p key of map @p n; if absent NULL, and -EINVAL in *r with
 * "what: \"key\" is required" and @p hint ("" or " (allowed: ...)"). */
const red_yaml_node_t *red_contract_load_required(red_loader_t *ld,
                                                  const red_yaml_node_t *n,
                                                  const char *what,
                                                  const char *key,
                                                  const char *hint, int *r);
/* A scalar as a string into *out (a previous *out is freed). */
int red_contract_load_str(red_loader_t *ld, const red_yaml_node_t *n,
                          const char *what, char **out) RED_MUSTCHECK;
/* [a-z_][a-z0-9_]*, at most @p max bytes: safe as an SQL identifier. */
bool red_contract_load_is_ident(const char *s, size_t max);
/* A name (red_contract_load_is_ident()); on error *out may hold the bad name.
 */
int red_contract_load_ident(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, size_t max,
                            char **out) RED_MUSTCHECK;
/* A Kafka topic name; on error *out may hold the bad name. */
int red_contract_load_topic(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, char **out) RED_MUSTCHECK;
/* "250ms", "30s", "5m", "2h", "7d" in microseconds, >= 0. */
int red_contract_load_duration(red_loader_t *ld, const red_yaml_node_t *n,
                               const char *what, int64_t *out) RED_MUSTCHECK;
/*
 * A list of strings (a single scalar counts as a one-item list) into a
 * new array; the caller frees it with red_contract_load_strlist_free(). On
 * error *out is NULL and *cnt 0: nothing to free.
 */
int red_contract_load_strlist(red_loader_t *ld, const red_yaml_node_t *n,
                              const char *what, char ***out,
                              size_t *cnt) RED_MUSTCHECK;
/* Frees @p cnt strings and the array; accepts NULL. */
void red_contract_load_strlist_free(char **items, size_t cnt);
/* The index of @p name in @p names, or -1. */
int red_contract_load_index(char **names, size_t cnt, const char *name);
/* "a, b, c" of a name list into @p buf, for (allowed: ...) texts. */
const char *red_contract_load_join(char **names, size_t cnt, char *buf,
                                   size_t size);
/* An event kind name or a list of them, as a mask (at least one kind). */
int red_contract_load_kinds(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, uint64_t *mask) RED_MUSTCHECK;
/* A field name, resolved to its slot. */
int red_contract_load_slot(red_loader_t *ld, const red_yaml_node_t *n,
                           const char *what, int *slot) RED_MUSTCHECK;
/* A field name whose field is a string, resolved to its slot. */
int red_contract_load_string_slot(red_loader_t *ld, const red_yaml_node_t *n,
                                  const char *what, int *slot) RED_MUSTCHECK;
/* A constant of @p type into *out (which it owns;
 * red_contract_load_const_free()). */
int red_contract_load_const(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, red_field_type_t type,
                            red_const_t *out) RED_MUSTCHECK;
void red_contract_load_const_free(red_const_t *v);
/*
 * {field: value, ...}: equality conditions into a new array of *cnt
 * entries (set before they are filled); free with
 * red_contract_load_conds_free() on success and failure alike.
 */
int red_contract_load_conds(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, red_cond_t **out,
                            size_t *cnt) RED_MUSTCHECK;
void red_contract_load_conds_free(red_cond_t *cd, size_t cnt);
/* {topic, event_type}: where results are republished. */
int red_contract_load_publish(red_loader_t *ld, const red_yaml_node_t *n,
                              const char *what,
                              red_publish_t *out) RED_MUSTCHECK;
/* "daily" or "monthly". */
int red_contract_load_partition(red_loader_t *ld, const red_yaml_node_t *n,
                                const char *what,
                                red_partition_t *out) RED_MUSTCHECK;

/* --- sections ------------------------------------------------------------ */
/*
 * Each parses one top-level key of the contract into ld->c (see the
 * ownership rule above); each free function accepts NULL and a partial
 * section.
 */

/* red_contract_events.c: events (before everything else: they define
 * the kinds and field slots), inputs, workflows, weight (before
 * aggregations: they are weighted with it) */
int red_contract_load_events(red_loader_t *ld,
                             const red_yaml_node_t *n) RED_MUSTCHECK;
int red_contract_load_inputs(red_loader_t *ld,
                             const red_yaml_node_t *n) RED_MUSTCHECK;
int red_contract_load_workflows(red_loader_t *ld,
                                const red_yaml_node_t *n) RED_MUSTCHECK;
int red_contract_load_weight(red_loader_t *ld,
                             const red_yaml_node_t *n) RED_MUSTCHECK;
int red_contract_load_dedupe(red_loader_t *ld,
                             const red_yaml_node_t *n) RED_MUSTCHECK;
void red_contract_load_free_kinds(red_kind_t *k, size_t cnt);
void red_contract_load_free_inputs(red_input_t *in, size_t cnt);

/* red_contract_aggs.c: dimensions, aggregations (need dimensions) */
int red_contract_load_dims(red_loader_t *ld,
                           const red_yaml_node_t *n) RED_MUSTCHECK;
int red_contract_load_aggs(red_loader_t *ld,
                           const red_yaml_node_t *n) RED_MUSTCHECK;
void red_contract_load_free_dims(red_dim_t *d, size_t cnt);
/* [hourly, daily, weekly, monthly] (or one name) as a mask, not empty. */
int red_contract_load_windows(red_loader_t *ld, const red_yaml_node_t *v,
                              const char *what, uint32_t *mask) RED_MUSTCHECK;
void red_contract_load_free_aggs(red_agg_t *a, size_t cnt);

/* red_contract_measures.c: a map of measures (an aggregation's, or a by
 * measure's when @p nested) into *out, allocated at once, *cnt counting
 * each before it is parsed; one column of aggregation @p a */
int red_contract_load_measures(red_loader_t *ld, const red_yaml_node_t *n,
                               const char *what, bool nested,
                               red_measure_t **out, size_t *cnt) RED_MUSTCHECK;
int red_contract_load_column(red_loader_t *ld, const red_agg_t *a,
                             const red_yaml_node_t *key,
                             const red_yaml_node_t *n,
                             red_column_t *col) RED_MUSTCHECK;
void red_contract_load_free_measures(red_measure_t *m, size_t cnt);
/* An alert rule's value over aggregation @p a: the name of one of its
 * scalar columns (*column set, *expr untouched), or an expression over its
 * measures (*column -1, *expr owned by the caller). */
int red_contract_load_agg_value(red_loader_t *ld, const red_agg_t *a,
                                const red_yaml_node_t *n, const char *what,
                                int *column,
                                struct red_expr_s **expr) RED_MUSTCHECK;
void red_contract_load_free_column(red_column_t *col);

/* red_contract_fsm.c: the workflow state machine (needs workflows) */
int red_contract_load_fsm(red_loader_t *ld,
                          const red_yaml_node_t *n) RED_MUSTCHECK;
void red_contract_load_free_fsm(red_fsm_t *fsm);

/* red_contract_sinks.c: raw sinks (need inputs) */
int red_contract_load_raws(red_loader_t *ld,
                           const red_yaml_node_t *n) RED_MUSTCHECK;
void red_contract_load_free_raws(red_raw_t *r, size_t cnt);

/* red_contract_alerts.c: alert rules per event and over windows (need
 * aggregations) */
int red_contract_load_alerts(red_loader_t *ld,
                             const red_yaml_node_t *n) RED_MUSTCHECK;
void red_contract_load_free_alerts(red_alerts_t *a);

/* red_contract_tables.c: column_types: {column: TYPE or {type, not_null,
 * default}} and indexes: [{name, columns, using, where}] of a sink (its
 * arrays allocated at once, *cnt counting each before it is parsed);
 * retention: and partition: per window type. */
int red_contract_load_coltypes(red_loader_t *ld, const red_yaml_node_t *n,
                               const char *what, red_coltype_t **out,
                               size_t *cnt) RED_MUSTCHECK;
void red_contract_load_free_coltypes(red_coltype_t *ct, size_t cnt);
int red_contract_load_indexes(red_loader_t *ld, const red_yaml_node_t *n,
                              const char *what, red_index_t **out,
                              size_t *cnt) RED_MUSTCHECK;
void red_contract_load_free_indexes(red_index_t *ix, size_t cnt);
/*
 * Checks a sink's column_types and indexes against its table: @p cols
 * (@p cnt, the columns the contract defines, each holding values of
 * @p classes; @p integral: only integers) and @p engine (the engine's
 * own columns, which indexes may name too). Turns each default into its
 * SQL literal. @p sink is the sink's node, for the error position.
 */
int red_contract_load_table_check(red_loader_t *ld, const red_yaml_node_t *sink,
                                  const char *what, red_coltype_t *ct,
                                  size_t ct_cnt, const red_index_t *ix,
                                  size_t ix_cnt, const char *const *cols,
                                  const red_sqlt_class_t *classes,
                                  const bool *integral, size_t cnt,
                                  const char *const *engine,
                                  size_t engine_cnt) RED_MUSTCHECK;
/* red_contract_sinks.c: a raw sink's column_types and indexes against its
 * table's columns (a state's history too) */
int red_contract_load_raw_table_check(red_loader_t *ld,
                                      const red_yaml_node_t *n,
                                      const char *what,
                                      red_raw_t *r) RED_MUSTCHECK;
/* retention: a duration, or {window: duration} (windows not named keep
 * their rows: 0) into @p ret[RED_WINDOW__CNT]. */
int red_contract_load_window_retention(red_loader_t *ld,
                                       const red_yaml_node_t *n,
                                       const char *what, uint32_t windows,
                                       int64_t *ret) RED_MUSTCHECK;
/* partition: {window: daily|monthly} into @p gran[RED_WINDOW__CNT]
 * (windows not named: monthly). */
int red_contract_load_window_partition(red_loader_t *ld,
                                       const red_yaml_node_t *n,
                                       const char *what, uint32_t windows,
                                       red_partition_t *gran) RED_MUSTCHECK;
/* red_contract_metrics.c: domain Prometheus series (need dimensions and
 * the fsm) */
int red_contract_load_metrics(red_loader_t *ld,
                              const red_yaml_node_t *n) RED_MUSTCHECK;
void red_contract_load_free_metrics(red_metric_t *m, size_t cnt);
/* red_contract_state.c: state sinks (need raw: their history rows are
 * appended to c->raws) */
int red_contract_load_states(red_loader_t *ld,
                             const red_yaml_node_t *n) RED_MUSTCHECK;
void red_contract_load_free_states(red_state_t *s, size_t cnt);
/* red_contract_state_tables.c: what shapes a state's tables (column_types,
 * indexes, id_column of its table, lists and history), after the rest of
 * state @p s is loaded from @p n */
int red_contract_load_state_tables(red_loader_t *ld, const red_yaml_node_t *n,
                                   red_state_t *s) RED_MUSTCHECK;

#endif
