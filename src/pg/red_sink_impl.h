/*
 * red_sink_impl - what the parts of the sink share (not for other modules).
 *
 * red_sink.c holds the connection, offsets, workflows, cells and the batch
 * transaction; red_sink_raw.c the row-by-row tables (`raw`);
 * red_sink_alert.c the alert rules' cooldowns, rows and events.
 */
#ifndef RED_SINK_IMPL_H
#define RED_SINK_IMPL_H

#include "red_buf.h"
#include "red_cell.h"
#include "red_core.h"
#include "red_map.h"
#include "red_partition.h"
#include "red_sink.h"

#include <libpq-fe.h>

/* A cell of the batch and its id. */
typedef struct cell_ref_s {
        red_uuid_t id;
        red_cell_t *cell;
} cell_ref_t;

/* Per aggregation: quoted names and the SQL built once; the batch's cells
 * between the phases of the write. */
typedef struct agg_sql_s {
        char table[80];  /* quoted */
        char *cols;      /* the columns we write, comma-separated */
        char *copy_tmp;  /* COPY red_tmp_N (cols) FROM STDIN */
        char *copy_keys; /* COPY red_tmp_N (key columns) FROM STDIN */
        char *insert;    /* phase A: placeholder or lock */
        char *select;    /* phase A: the locked rows' state */
        char *update;    /* phase C: merged values */
        char tmp[32];
        cell_ref_t *refs;   /* the batch's cells of this aggregation */
        size_t n;
        red_cell_t **merged; /* stored state + delta, owned */
        size_t nmerged;
        PGresult *state;    /* phase A's rows, until merged */
        red_buf_t lines;    /* COPY text: keys (A), then merged rows (B) */
} agg_sql_t;

/* What the batch computes next while Postgres is busy with a COPY. */
typedef enum {
        IDLE_NONE,
        IDLE_PROCESS, /* red_core_process() */
        IDLE_MERGE,   /* the locked cells' merge */
} idle_work_t;

/* Per raw sink and table: the SQL built once. */
typedef struct raw_sql_s {
        const red_raw_t *raw;
        const char *table;    /* borrowed from the contract */
        char *copy;           /* COPY into the table */
        char *lookup;         /* stored identities among arrays of the batch's */
        size_t params;        /* of lookup: one array per key column, time range */
        char time_col[80];    /* quoted */
} raw_sql_t;

struct red_sink_s {
        const red_contract_t *c;
        char *conninfo;
        char *instance;
        PGconn *conn;
        char where[256];
        red_partition_cache_t *parts;
        agg_sql_t *aggs;
        raw_sql_t *raws;
        size_t raw_cnt;
        char *alert_copy; /* COPY into the alerts table */
        red_buf_t buf;    /* COPY data */
        red_buf_t json;   /* rendering */
        red_buf_t out;    /* outbox COPY data */
        red_map_t *by_id;
        size_t last_rows;
        bool unique_replays; /* a unique violation means RED_SINK_REPLAY */
        int lookup_credit;   /* batches that still look stored rows up */
        red_core_t *batch_core; /* during red_sink_write() */
        idle_work_t idle;
        red_sink_result_t idle_rc;
        char idle_err[512];
        bool cells_locked;
        size_t fired;       /* alerts of the last write */
        size_t fired_by[3]; /* ... by severity: CRITICAL, WARNING, INFO */
};

/* After a batch met a stored raw row, this many batches look stored rows
 * up first (a producer that re-sends usually does so for a while); then
 * the lookup stops until the next unique violation. */
#define LOOKUP_CREDIT 32

/* helpers of red_sink.c */
int red_sink_check_columns(red_sink_t *s, const char *table,
                           const char *const *cols, size_t cnt, char *errstr,
                           size_t size);
red_sink_result_t red_sink_classify(red_sink_t *s, PGresult *res, char *errstr,
                                    size_t size);
red_sink_result_t red_sink_exec(red_sink_t *s, const char *sql, char *errstr,
                                size_t size);
red_sink_result_t red_sink_copy_in(red_sink_t *s, const char *sql,
                                   const red_buf_t *data, char *errstr,
                                   size_t size);
/* COPY in pieces, so Postgres inserts while the rest is rendered. */
red_sink_result_t red_sink_copy_begin(red_sink_t *s, const char *sql,
                                      char *errstr, size_t size);
/* Sends @p data and empties it. */
red_sink_result_t red_sink_copy_send(red_sink_t *s, red_buf_t *data,
                                     char *errstr, size_t size);
/* Ends the COPY; while Postgres inserts the rest, runs red_sink_idle(). */
red_sink_result_t red_sink_copy_end(red_sink_t *s, char *errstr, size_t size);
/* Does the batch's pending client work (see idle_work_t); a failure is
 * reported by the write's next step. */
void red_sink_idle(red_sink_t *s);
/* Applies the core's events if not yet done, then locks the batch's cells
 * and leaves their merge as the pending work. Once per write. */
red_sink_result_t red_sink_lock_cells(red_sink_t *s, char *errstr,
                                      size_t size);
void red_sink_copy_time(red_buf_t *b, red_time_t t);
/* An object value in COPY text: its text as sent, or jansson's dump. */
void red_sink_copy_object(red_buf_t *b, const red_value_t *v);
void red_sink_copy_uuid(red_buf_t *b, const red_uuid_t *u);
void red_sink_envelope(red_sink_t *s, red_buf_t *b, const char *event_type,
                       const red_uuid_t *event_id, const char *correlation_id,
                       const char *payload);
void red_sink_outbox_line(red_buf_t *out, const char *topic, const char *key,
                          const red_buf_t *payload);

/* red_sink_raw.c */
int red_sink_raw_prepare(red_sink_t *s, char *errstr, size_t size);
void red_sink_raw_free(red_sink_t *s);
red_sink_result_t red_sink_raw_write(red_sink_t *s, red_core_t *core,
                                     char *errstr, size_t size);

/* red_sink_alert.c */
int red_sink_alert_prepare(red_sink_t *s, char *errstr, size_t size);
void red_sink_alert_free(red_sink_t *s);
red_sink_result_t red_sink_alert_write(red_sink_t *s, red_core_t *core,
                                       char *errstr, size_t size);
void red_sink_alert_log(red_sink_t *s, red_core_t *core);

#endif
