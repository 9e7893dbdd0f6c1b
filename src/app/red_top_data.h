/*
 * red_top_data - what one frame of `reducerd top` shows, fetched: the
 * query layer's answers for the chosen contract, aggregation, grouping
 * and window type (red_query plans, red_query_pg runs them on one kept
 * connection, exactly as `reducerd query` would), and the daemon's
 * /metrics scraped over HTTP (libcurl) for the pipeline's numbers.
 *
 * Rows are kept as the query API's JSON objects (column name -> value),
 * so the view reads the same numbers `reducerd query ... --format json`
 * prints. Ranges are whole windows ending with the one that holds "now":
 * the current hour, the 24 hours up to it, and the trend's last windows.
 */
#ifndef RED_TOP_DATA_H
#define RED_TOP_DATA_H

#include "red_attr.h"
#include "red_config.h"
#include "red_contract.h"
#include "red_time.h"
#include "red_window.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/** Windows of a trend: hourly 24, daily 30, weekly 12, monthly 12. */
#define RED_TOP_MAX_TREND 30
/** One-minute buckets of the live trend. */
#define RED_TOP_LIVE_MINUTES 60

/** What the frame is about. */
typedef struct red_top_sel_s {
        const red_contract_t *c;
        const red_agg_t *agg;     /**< NULL: the contract aggregates nothing */
        int grouping;             /**< the GROUPS table's grouping */
        int total;                /**< a grouping of constants only, or -1 */
        red_window_type_t window; /**< the trend's window type */
} red_top_sel_t;

/** The pipeline's numbers from /metrics (summed over the daemons). */
typedef struct red_top_pipe_s {
        bool ok;         /**< at least one daemon answered */
        char error[256]; /**< why not */
        double consumed, applied, dead, late_applied, late_dropped;
        double lag, outbox, partitions;
        double kafka_up, pg_up; /**< the smallest over the daemons */
        double rate;            /**< consumed per second since the last
                                     scrape, NAN for the first */
} red_top_pipe_t;

typedef struct red_top_data_s {
        red_time_t now;
        red_time_t hour_from; /**< start of the window holding now */
        red_time_t day_from;  /**< 23 hours before hour_from */
        json_t *hour, *day;   /**< summary rows of sel.total, or NULL */
        json_t *groups;       /**< summary rows of sel.grouping, 24 h */
        json_t *trend;        /**< series rows, one per window start */
        red_time_t starts[RED_TOP_MAX_TREND];
        size_t start_cnt;
        char trend_group[128]; /**< the group the trend shows */
        json_t *alerts;        /**< latest alert rows, or NULL */
        json_t *workflows;     /**< workflows per state, or NULL */
        red_top_pipe_t pipe;
        /** events consumed per minute, oldest first; NAN before top ran */
        double live[RED_TOP_LIVE_MINUTES];
        char error[512]; /**< the first query that failed, or "" */
} red_top_data_t;

typedef struct red_top_src_s red_top_src_t;

/**
 * A source on @p conf (borrowed) and the contracts of @p set (borrowed);
 * @p metrics: "host:port[,host:port...]" of the daemons' http.listen
 * (NULL: the config's). Connects lazily. NULL on OOM.
 */
red_top_src_t *red_top_src_new(const red_config_t *conf,
                               const red_contract_set_t *set,
                               const char *metrics);
void red_top_src_destroy(red_top_src_t *src);

/** Where the metrics come from ("127.0.0.1:9464"), for the header. */
const char *red_top_src_metrics(const red_top_src_t *src);

/**
 * Fetches everything but the trend for @p sel at @p now (red_time_now() or a
 * fixed instant) into @p d (its previous JSON is released; call
 * red_top_data_clear() when done). Failures are reported in d->error and
 * d->pipe.error, never fatal.
 */
void red_top_fetch(red_top_src_t *src, const red_top_sel_t *sel, red_time_t now,
                   red_top_data_t *d);

/**
 * The trend of @p d: series rows of the total group, or, without one, of
 * @p group (a row of d->groups: the one the view ranks first). After
 * red_top_fetch().
 */
void red_top_fetch_trend(red_top_src_t *src, const red_top_sel_t *sel,
                         red_top_data_t *d, const json_t *group);

/** Releases the JSON of @p d. */
void red_top_data_clear(red_top_data_t *d);

/** The selection's defaults for contract @p c: its first aggregation,
 * grouping 0 (the total one if any is not the only one), the finest
 * window. */
void red_top_sel_init(red_top_sel_t *sel, const red_contract_t *c);

#endif
