/*
 * red_contract - the contract model and its YAML loader.
 *
 * A contract is immutable once loaded; the engine modules read its public
 * records directly (they are data, not objects). Names are resolved at
 * load time into indexes: every distinct field name of a contract gets one
 * "slot" (the index of its value in a decoded event), every event kind an
 * index (bit positions in kind masks), every FSM state and event an index.
 * The format is documented in contracts/README.md.
 */
#ifndef RED_CONTRACT_H
#define RED_CONTRACT_H

#include "red_attr.h"
#include "red_window.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RED_CONTRACT_MAX_KINDS  64
#define RED_CONTRACT_MAX_STATES 32
#define RED_CONTRACT_MAX_TOTALS 4 /**< workflows.totals */

typedef enum {
        RED_FT_NONE = 0, /**< value absent */
        RED_FT_STRING,
        RED_FT_INTEGER,
        RED_FT_NUMBER,
        RED_FT_BOOLEAN,
        RED_FT_UUID,
        RED_FT_TIMESTAMP,
        RED_FT_OBJECT,
        RED_FT_ARRAY, /**< a JSON array (stored as JSONB) */
} red_field_type_t;

/** "string", "integer", ... */
const char *red_contract_field_type_name(red_field_type_t t);

/** A constant typed value from the contract (defaults, where, set). */
typedef struct red_const_s {
        red_field_type_t type;
        int64_t i;
        double d;
        bool b;
        char *s;
} red_const_t;

/** An input name and its scale factor (unit normalisation). */
typedef struct red_field_src_s {
        char *name;
        double scale;
} red_field_src_t;

typedef struct red_field_s {
        char *name;
        int slot;
        red_field_type_t type;
        bool required;
        bool has_min, has_max;
        double min, max;
        int64_t min_length, max_length; /**< -1: unbounded */
        char **enum_values;
        size_t enum_cnt;
        bool has_default;
        red_const_t def;
        red_field_src_t *from; /**< at least one: the field's own name */
        size_t from_cnt;
        red_field_type_t values; /**< object: type of every value; array: of
                                    every item; or NONE */
        char **item_required;    /**< array of objects: members every item
                                    must hold as a non-empty string */
        size_t item_required_cnt;
        char *pattern; /**< string: POSIX extended regex (\\d is [0-9]) */
        void *regex;   /**< its compiled form (regex_t, owned) */
        char *missing_detail; /**< dead-letter detail when a required field
                                 is missing, or NULL for the default */
} red_field_t;

typedef struct red_kind_s {
        char *name;
        int index;
        char **types; /**< accepted event_type spellings */
        size_t type_cnt;
        red_field_t *fields;
        size_t field_cnt;
} red_kind_t;

typedef struct red_input_s {
        char *topic;
        uint64_t kinds;   /**< mask of kind indexes */
        int default_kind; /**< the topic's single kind, else -1 */
} red_input_t;

/** Equality condition on a field (where:, when:). */
typedef struct red_cond_s {
        int slot;
        red_const_t value;
} red_cond_t;

typedef enum {
        RED_DIM_FIELD,
        RED_DIM_BUCKETS,
        RED_DIM_CONSTANT,
} red_dim_kind_t;

typedef struct red_bucket_s {
        char *key;
        bool has_below;
        double below;
} red_bucket_t;

typedef struct red_dim_s {
        char *name;
        red_dim_kind_t kind;
        int slot;  /**< FIELD, BUCKETS */
        char *def; /**< FIELD: value when absent, or NULL */
        char *constant;
        red_bucket_t *buckets;
        size_t bucket_cnt;
} red_dim_t;

typedef enum {
        RED_MEAS_COUNT,
        RED_MEAS_SUM,
        RED_MEAS_STATS,
        RED_MEAS_SKETCH,
        RED_MEAS_COUNT_BY,
        RED_MEAS_BY,
        RED_MEAS_RECENT, /**< the last few distinct values, by event time */
} red_meas_kind_t;

/** Most values a recent measure keeps (keep:), and the bytes kept of each. */
#define RED_RECENT_MAX_KEEP 10
#define RED_RECENT_MAX_LEN  200

typedef struct red_measure_s {
        char *name;
        red_meas_kind_t kind;
        uint64_t on; /**< kinds that contribute (mask) */
        red_cond_t *where;
        size_t where_cnt;
        int slot;                  /**< the field (all but COUNT) */
        int precision;             /**< decimal digits kept by exact sums */
        struct red_measure_s *sub; /**< BY: the per-value measures */
        size_t sub_cnt;
        int keep; /**< RECENT: how many distinct values */
} red_measure_t;

struct red_expr_s; /* red_expr.h */

typedef enum {
        RED_COL_EXPR,   /**< a scalar expression */
        RED_COL_OBJECT, /**< JSON object of key -> expression */
        RED_COL_EACH,   /**< JSON object per value of a BY measure */
        RED_COL_COUNTS, /**< a COUNT_BY measure's JSON object */
        RED_COL_RECENT, /**< a RECENT measure's JSON array, newest first */
} red_col_kind_t;

typedef struct red_column_s {
        char *name;
        char *source; /**< the definition as written, in one line (what the
                         column means: schema fingerprints, comments) */
        red_col_kind_t kind;
        struct red_expr_s *expr; /**< EXPR; EACH with a scalar value */
        char **keys;             /**< OBJECT (also EACH's object value) */
        struct red_expr_s **exprs;
        size_t key_cnt;
        int measure; /**< EACH, COUNTS, RECENT: index in measures */
        int sub;     /**< EACH of a RECENT sub-measure: its index, else -1 */
} red_column_t;

typedef struct red_grouping_s {
        char *name;
        int *dims; /**< one dimension index per key column */
} red_grouping_t;

typedef struct red_publish_s {
        char *topic; /**< NULL: not published */
        char *event_type;
} red_publish_t;

typedef enum {
        RED_PART_DAILY,
        RED_PART_MONTHLY,
} red_partition_t;

/**
 * How a table column is declared in SQL where the contract overrides the
 * engine's choice (column_types:), e.g. to keep a seed schema's types.
 */
typedef struct red_coltype_s {
        char *column;
        char *type;      /**< SQL type (validated), or NULL: the engine's */
        int not_null;    /**< -1: the engine's, else 0 or 1 */
        char *def;       /**< the default as an SQL literal (validated, quoted),
                            or NULL: none */
        bool no_default; /**< default: null drops the engine's default */
} red_coltype_t;

/** An index a contract asks for on one of its tables (indexes:). */
typedef struct red_index_s {
        char *name; /**< the index is <table>_<name> */
        char **columns;
        size_t column_cnt;
        char *method;  /**< btree, gin, brin or hash */
        bool not_null; /**< partial: WHERE each column IS NOT NULL */
} red_index_t;

typedef struct red_agg_s {
        char *name;
        int index;
        char *table;
        char *description; /**< the table's comment, or NULL */
        red_partition_t partition;
        /**
         * partition: {window: daily|monthly}: the table is partitioned by
         * window type first (a child table <table>_<window> per window
         * type), each child by range of window_start in its own size, so
         * each window type's retention drops whole partitions.
         */
        bool partition_by_window;
        red_partition_t window_partition[RED_WINDOW__CNT];
        /** Whole partitions older than this are dropped (0: kept): with one
         * partitioning the longest of the window retentions, or 0 when one
         * of them keeps its rows forever. */
        int64_t retention_us;
        /** Per window type (retention: {hourly: 30d, ...}); 0: forever. */
        int64_t window_retention_us[RED_WINDOW__CNT];
        uint32_t windows;      /**< mask of red_window_type_t */
        red_tz_t *tz;          /**< time_zone: (owned); NULL = UTC */
        char *grouping_column; /**< default aggregation_type */
        char **key_columns;
        size_t key_cnt;
        red_grouping_t *groupings;
        size_t grouping_cnt;
        red_measure_t *measures;
        size_t measure_cnt;
        red_column_t *columns;
        size_t column_cnt;
        red_publish_t publish;
        bool weighted; /**< counts, sums, sketches weigh events (weight:) */
        red_coltype_t *coltypes;
        size_t coltype_cnt;
        red_index_t *indexes;
        size_t index_cnt;
} red_agg_t;

typedef struct red_transition_s {
        uint32_t from; /**< mask of states */
        int to;
        int event;
        char **guards;
        size_t guard_cnt;
} red_transition_t;

typedef struct red_trigger_s {
        uint64_t on; /**< kinds mask */
        red_cond_t *when;
        size_t when_cnt;
        bool initialize;
        int state_from;    /**< slot of the initial state, or -1 */
        int event;         /**< FSM event index, or -1 */
        int event_from;    /**< slot holding the event name, or -1 */
        int to_state_from; /**< slot holding the target state, or -1 */
        char **set_keys;   /**< guard keys the trigger asserts */
        red_const_t *set_values;
        size_t set_cnt;
} red_trigger_t;

typedef struct red_fsm_s {
        int key_slot;
        char **states;
        size_t state_cnt;
        int initial;
        uint32_t terminal; /**< mask */
        char **events;     /**< distinct transition event names */
        size_t event_cnt;
        red_transition_t *transitions;
        size_t transition_cnt;
        red_trigger_t *triggers;
        size_t trigger_cnt;
        char *history_table;
        char *current_table;
        red_partition_t history_partition;
        int64_t history_retention_us;
        red_publish_t publish;
} red_fsm_t;

/** A column of a raw sink and the field that fills it. */
typedef struct red_raw_column_s {
        char *name;
        int slot;
} red_raw_column_t;

/** Row-by-row storage of events (raw:). */
typedef struct red_raw_s {
        char *name;
        int index;
        char *description; /**< the tables' comment, or NULL */
        uint64_t on;       /**< kinds stored */
        char **topics;     /**< input topic -> table, pairwise */
        char **tables;
        size_t table_cnt;
        char *time_column; /**< filled with the event time; the partition key */
        red_partition_t partition;
        int64_t retention_us;
        int *unique; /**< slots that, with the time, identify a row */
        size_t unique_cnt;
        red_raw_column_t *columns;
        size_t column_cnt;
        red_coltype_t *coltypes;
        size_t coltype_cnt;
        red_index_t *indexes;
        size_t index_cnt;
        char *id_column; /**< a uuid made by the server, first in the
                            primary key (a state's history), or NULL */
} red_raw_t;

typedef enum {
        RED_OP_GT,
        RED_OP_LT,
        RED_OP_GTE,
        RED_OP_LTE,
} red_alert_op_t;

typedef struct red_alert_rule_s {
        char *id;
        char *metric; /**< the match field's value this rule addresses */
        red_alert_op_t op;
        double threshold;
        char *severity; /**< CRITICAL, WARNING or INFO */
        char *message;  /**< template: {metric_name} {value} {threshold}
                           {operator} {severity} {agent_id} */
        int64_t cooldown_us;
} red_alert_rule_t;

/**
 * A rule over an aggregation's cells (alerts.window_rules): a column or an
 * expression over the measures of each matching cell compared with a
 * threshold, per window; it fires, resolves, and holds state per (rule,
 * window type, group) (red_alert_window.h).
 */
typedef struct red_window_rule_s {
        char *id;
        int agg;          /**< index in contract->aggs */
        int grouping;     /**< index in the aggregation's groupings, -1: any */
        uint32_t windows; /**< mask of red_window_type_t */
        int *where_keys;  /**< key column indexes ... */
        char **where_values; /**< ... and the values they must equal */
        size_t where_cnt;
        char *value_text;        /**< the value as written */
        char *metric;            /**< what alert rows call the value
                                    (metric_name); default value_text */
        int column;              /**< a scalar column of the aggregation, or
                                    -1 ... */
        struct red_expr_s *expr; /**< ... an expression over its measures */
        red_alert_op_t op;
        double threshold;
        char *severity;      /**< CRITICAL, WARNING or INFO */
        char *message;       /**< template: {value} {threshold} {operator}
                                {severity} {rule} {window} {window_start}
                                {grouping} and the key columns */
        int64_t for_us;      /**< the condition must hold this long */
        int64_t cooldown_us; /**< from a resolution to the next firing */
        uint64_t min_events; /**< cells with fewer events are not judged */
        bool final_only;     /**< judged only once the cell is final */
} red_window_rule_t;

/** Threshold rules on one numeric field (alerts:), and rules over the
 * aggregations' windows. */
typedef struct red_alerts_s {
        uint64_t on;    /**< kinds evaluated (0: no per-event rules) */
        int match_slot; /**< field naming the metric (e.g. metric_name) */
        int value_slot; /**< field compared with the threshold */
        int scope_slot; /**< cooldown per rule and this field's value, or -1 */
        int tags_slot;  /**< object field copied into alerts, or -1 */
        int correlation_slot; /**< string field copied into alerts, or -1 */
        char *table;
        red_publish_t publish;
        red_alert_rule_t *rules; /**< per event */
        size_t rule_cnt;
        red_window_rule_t *window_rules;
        size_t window_rule_cnt;
} red_alerts_t;

/** How a state column folds the values of the events that carry it. */
typedef enum {
        RED_RULE_LATEST, /**< the value of the newest event (event time) */
        RED_RULE_FIRST,  /**< the value of the oldest event */
        RED_RULE_MAX,    /**< the largest value */
        RED_RULE_COUNT,  /**< how many events */
        RED_RULE_MERGE,  /**< JSON objects merged member by member, the
                            newer event's members win */
        RED_RULE_TEXT,   /**< text computed from the row's other columns
                            (text_of:), not from events */
} red_rule_t;

/** What a part of a text_of column takes from its column. */
typedef enum {
        RED_TEXT_VALUE,   /**< a string or uuid column's value */
        RED_TEXT_ITEMS,   /**< per object item of an array column: the
                             members' values joined by a space */
        RED_TEXT_STRINGS, /**< the string members of an object column, in
                             PostgreSQL jsonb's member order */
} red_text_kind_t;

/** One part of a text_of column. */
typedef struct red_text_part_s {
        red_text_kind_t kind;
        char *name;     /**< the column, as written */
        int column;     /**< its index in the state */
        char **members; /**< RED_TEXT_ITEMS: the item members */
        size_t member_cnt;
} red_text_part_t;

/** Column source: the event time instead of a field. */
#define RED_STATE_TIME (-2)

/** One column of a state table and the rule that fills it. */
typedef struct red_state_col_s {
        char *name;
        red_rule_t rule;
        uint64_t on; /**< kinds that contribute */
        int slot;    /**< the field, RED_STATE_TIME, or -1 (count) */
        char **path; /**< members inside an object field, or NULL */
        size_t path_cnt;
        red_field_type_t type;  /**< of the stored value: the field's (or the
                                   member's declared type), timestamp for the
                                   time, integer for a count, string for a
                                   text */
        red_text_part_t *parts; /**< RED_RULE_TEXT: what the text is of */
        size_t part_cnt;
        bool in_text; /**< a part of a text_of column */
} red_state_col_t;

/** A child table with one row per item of an array column. */
typedef struct red_state_list_s {
        char *table;
        int column;        /**< the array column's index in the state */
        char **columns;    /**< the child table's columns ... */
        char **members;    /**< ... and the item members that fill them */
        size_t column_cnt; /**< the first column identifies an item */
        char *id_column;   /**< a uuid primary key made by the server, or
                              NULL: the key is (key, first column) */
        red_coltype_t *coltypes;
        size_t coltype_cnt;
        red_index_t *indexes;
        size_t index_cnt;
} red_state_list_t;

/** When a row counts as stale, and what its status then reads. */
typedef struct red_staleness_s {
        int *time_cols; /**< the newest of these timestamp columns ... */
        size_t time_cnt;
        int interval_col; /**< ... plus factor x this column's seconds
                             (or default_interval) is older than the clock */
        int64_t default_interval_us;
        double factor;
        int status_col; /**< the status column the rule overrides */
        char *value;    /**< what the status reads when stale */
} red_staleness_t;

/** One row per key, folded from events (state:). */
typedef struct red_state_s {
        char *name;
        int index;
        char *table;
        char *key_column;
        int key_slot;         /**< a required string or uuid field */
        uint64_t on;          /**< kinds applied */
        uint64_t create;      /**< kinds that create (or revive) a row */
        uint64_t delete_on;   /**< kinds that soft-delete a row */
        char *deleted_column; /**< NULL without soft delete */
        red_state_col_t *columns;
        size_t column_cnt;
        red_state_list_t *lists;
        size_t list_cnt;
        red_staleness_t *stale;   /**< NULL: no staleness rule */
        red_publish_t on_created; /**< a row created or revived */
        red_publish_t on_deleted; /**< a row soft-deleted */
        red_publish_t on_status;  /**< the effective status changed */
        red_publish_t on_start;   /**< once when a worker starts */
        int history;              /**< index of its history raw sink, or -1 */
        red_coltype_t *coltypes;  /**< of the state's table */
        size_t coltype_cnt;
        red_index_t *indexes;
        size_t index_cnt;
} red_state_t;
/** The event weight (weight:): a field's value, or its inverse. */
typedef struct red_weight_s {
        int slot;     /**< a number or integer field */
        bool inverse; /**< weight = 1 / value (a sample rate) */
} red_weight_t;

/*
 * Domain Prometheus series (metrics:), exported on /metrics next to
 * reducerd's own. Each label has a bounded set of values fixed at load
 * time, so a metric has series_cnt = the product of its labels' value
 * counts series, all exported from the start.
 */
typedef enum {
        RED_METRIC_COUNTER,
        RED_METRIC_HISTOGRAM,
        RED_METRIC_GAUGE,
} red_metric_type_t;

typedef enum {
        RED_MSRC_EVENTS,      /**< applied events of the kinds `on` */
        RED_MSRC_TRANSITIONS, /**< the FSM's history rows */
        RED_MSRC_WORKFLOWS,   /**< workflows per current state (gauge, read
                                   from the FSM's current table) */
} red_metric_source_t;

typedef enum {
        RED_MLABEL_DIM,        /**< EVENTS: a dimension's value */
        RED_MLABEL_FROM_STATE, /**< TRANSITIONS */
        RED_MLABEL_TO_STATE,   /**< TRANSITIONS */
        RED_MLABEL_RESULT,     /**< TRANSITIONS: red_fsm_result_name() */
        RED_MLABEL_STATE,      /**< WORKFLOWS */
} red_mlabel_kind_t;

/** Most labels of one metric. */
#define RED_METRIC_MAX_LABELS 8

/** Value of a state label for "no state" (a row of an unknown workflow). */
#define RED_METRIC_NO_STATE "none"

typedef struct red_metric_label_s {
        char *name;
        red_mlabel_kind_t kind;
        int dim;       /**< RED_MLABEL_DIM: the dimension index */
        char **values; /**< the bounded set, in declaration order */
        size_t value_cnt;
} red_metric_label_t;

typedef struct red_metric_s {
        char *name;
        char *help;
        red_metric_type_t type;
        red_metric_source_t source;
        uint64_t on;     /**< EVENTS: kinds counted */
        int value_slot;  /**< EVENTS: number added (counter) or observed
                              (histogram), or -1: one per event */
        double *buckets; /**< HISTOGRAM: upper bounds, increasing */
        size_t bucket_cnt;
        uint32_t states; /**< WORKFLOWS: mask of states counted */
        red_metric_label_t *labels;
        size_t label_cnt;
        size_t series_cnt; /**< product of the labels' value counts */
        size_t width;      /**< values per series: 1; histograms
                                bucket_cnt + 2 (buckets, +Inf, sum) */
        size_t offset;     /**< its first value in the contract's array
                                (red_dmetrics.h) */
} red_metric_t;

typedef enum {
        RED_LATE_UPDATE,
        RED_LATE_DEAD_LETTER,
        RED_LATE_DROP,
} red_late_policy_t;

typedef struct red_contract_s {
        char *path;
        char *name;
        char *version;
        char *consumer_group;
        char *dead_letter_topic;
        int64_t max_out_of_orderness_us;
        int64_t grace_us;
        red_late_policy_t late_policy;
        int64_t allowed_lateness_us;
        int64_t max_future_skew_us;
        int64_t idle_wait_us;
        double sketch_alpha;

        red_input_t *inputs;
        size_t input_cnt;
        red_kind_t *kinds;
        size_t kind_cnt;
        char **slot_names; /**< slot -> field name */
        red_field_type_t *slot_types;
        size_t slot_cnt;

        int dedupe_slot; /**< the `dedupe` key's field; -1 without */
        int64_t dedupe_horizon_us;
        int workflow_key_slot; /**< -1 without `workflows` */
        int *remember_slots;
        size_t remember_cnt;
        /** workflows.totals: target field <- the workflow's sum of source */
        int *total_targets;
        int *total_sources;
        size_t total_cnt;

        red_dim_t *dims;
        size_t dim_cnt;
        red_agg_t *aggs;
        size_t agg_cnt;
        red_fsm_t *fsm; /**< NULL without `fsm` */
        red_raw_t *raws;
        size_t raw_cnt;
        red_alerts_t *alerts;  /**< NULL without `alerts` */
        red_weight_t *weight;  /**< NULL: every event weighs 1 */
        red_metric_t *metrics; /**< domain series (metrics:) */
        size_t metric_cnt;
        size_t metric_values; /**< values of all of them (red_dmetrics.h) */
        red_state_t *states;
        size_t state_cnt;
} red_contract_t;

/**
 * Loads and validates the contract at @p path. On error returns NULL with
 * "path:line:col: problem (allowed: ...)" in @p errstr.
 * Caller destroys with red_contract_destroy().
 */
red_contract_t *red_contract_load(const char *path, char *errstr,
                                  size_t errstr_size);

/** Frees the contract; accepts NULL. */
void red_contract_destroy(red_contract_t *c);

/** The kind whose types include @p event_type, or NULL. */
const red_kind_t *red_contract_kind_by_type(const red_contract_t *c,
                                            const char *event_type, size_t len);

/** The table of raw sink @p r for @p topic, or NULL (not stored). */
const char *red_contract_raw_table(const red_raw_t *r, const char *topic);

/** The state sink writing @p table, or NULL. */
const red_state_t *red_contract_state(const red_contract_t *c,
                                      const char *table);

/** "latest", "first", "max", "count", "merge". */
const char *red_contract_rule_name(red_rule_t r);

/** "gt", "lt", "gte", "lte". */
const char *red_contract_alert_op_name(red_alert_op_t op);

/** Whether two metrics would export a series of the same name (equal
 * names, or one is a histogram's _bucket, _sum or _count). */
bool red_contract_metric_names_clash(const red_metric_t *a,
                                     const red_metric_t *b);

/** The input declaring @p topic, or NULL. */
const red_input_t *red_contract_input(const red_contract_t *c,
                                      const char *topic);

/** The slot of field @p name, or -1. */
int red_contract_slot(const red_contract_t *c, const char *name);

/** The column_types: entry of @p column in @p ct, or NULL. */
const red_coltype_t *red_contract_coltype_find(const red_coltype_t *ct,
                                               size_t cnt, const char *column);

/**
 * The table holding aggregation @p a's cells of window type @p wt as
 * partitions: the aggregation's table, or with partition_by_window its
 * child <table>_<window>; and the size of those partitions. @p parent
 * gets the name (64 bytes suffice).
 */
void red_contract_agg_partition_parent(const red_agg_t *a, red_window_type_t wt,
                                       char *parent, size_t size,
                                       red_partition_t *gran);

/** FSM state / event index by name, or -1. */
int red_contract_fsm_state(const red_fsm_t *fsm, const char *name, size_t len);
int red_contract_fsm_event(const red_fsm_t *fsm, const char *name, size_t len);


/*
 * Measure output references used by column expressions: (measure index
 * << 16) | output code; quantile codes are 100 + round(q * 10000).
 */
#define RED_OUT_COUNT        1
#define RED_OUT_SUM          2
#define RED_OUT_AVG          3
#define RED_OUT_MIN          4
#define RED_OUT_MAX          5
#define RED_OUT_EVENTS       6 /**< the unweighted count (weight:) */
#define RED_OUT_Q0           100
#define RED_REF_MEASURE(ref) ((ref) >> 16)
#define RED_REF_OUTPUT(ref)  ((ref)&0xffff)
#define RED_REF_QUANTILE(ref)                                                  \
        ((double)(RED_REF_OUTPUT(ref) - RED_OUT_Q0) / 10000.0)

/** All contracts a service runs (owned). */
typedef struct red_contract_set_s {
        red_contract_t **items;
        size_t cnt;
} red_contract_set_t;

/**
 * Loads every contract named by @p paths (@p path_cnt entries, borrowed):
 * a file, or a directory meaning its *.yaml files in name order. Relative
 * paths resolve against @p base_dir (NULL or "." for the working
 * directory), e.g. the config's contracts.paths and base_dir. Checks the
 * contracts against each other (names, consumer groups and tables must be
 * distinct). Returns 0, or -EINVAL / -ENOMEM with a message (path
 * problems name the setting contracts.paths); on error @p set is left
 * empty. Caller destroys with red_contract_set_destroy().
 */
int red_contract_set_load(red_contract_set_t *set, char *const *paths,
                          size_t path_cnt, const char *base_dir, char *errstr,
                          size_t errstr_size) RED_MUSTCHECK;

/** Adds one contract file to @p set (used by check and tests). */
int red_contract_set_add(red_contract_set_t *set, const char *path,
                         char *errstr, size_t errstr_size) RED_MUSTCHECK;

/** Frees the contracts; @p set itself may be reused. */
void red_contract_set_destroy(red_contract_set_t *set);

#endif
