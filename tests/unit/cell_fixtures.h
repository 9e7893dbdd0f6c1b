/*
 * Fixtures of the cell suites (test_cell.c, test_cell_codec.c): the
 * contracts, decoded generated streams, hand-made events of
 * tests/data/contracts/cell_render.yaml, and shortcuts that assert.
 */
#ifndef CELL_FIXTURES_H
#define CELL_FIXTURES_H

#include "red_aggregator.h"
#include "red_buf.h"
#include "red_cell.h"
#include "red_contract.h"
#include "red_event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern red_contract_t *cg; /* contracts/codegen_metrics.yaml */
extern red_contract_t *cr; /* tests/data/contracts/cell_render.yaml */

/* The checked fixture: loads cg and cr, and destroys them. */
void cell_setup(void);
void cell_teardown(void);

/* Where stream_gen() starts the event time. */
#define STREAM_START "2025-11-03T00:00:00Z"

/* A decoded stream of generated events. */
typedef struct stream_s {
        char *text; /* every line (the events borrow from it) */
        size_t *off, *len;
        const char **topics;
        red_event_t *evs;
        red_value_t *vals;
        red_msg_t *msgs;
        size_t cnt;
} stream_t;

/* A hand-made event of cell_render.yaml with its values. */
typedef struct hev_s {
        red_event_t ev;
        red_value_t vals[32];
} hev_t;

/* A contract under the source tree, or the test fails. */
red_contract_t *load(const char *rel);
/* An ISO-8601 time, or the test fails. */
red_time_t tm(const char *s);
/* @p n generated lines, poison-free. */
void stream_gen(stream_t *st, uint64_t seed, size_t n, double days);
/* Decodes the stream for contract @p c (every line must decode). */
void stream_decode(stream_t *st, const red_contract_t *c);
/* Releases the decoded events (the text stays: decode again). */
void stream_release(stream_t *st);
/* Frees everything. */
void stream_free(stream_t *st);
/* A new aggregator with the events [from, to) of @p st applied. */
red_aggregator_t *aggregate(const red_contract_t *c, const stream_t *st,
                            size_t from, size_t to);
/* @p b = the cell's state, or the test fails. */
void serialize(const red_cell_t *cell, red_buf_t *b);
/* @p b = the cell's row as JSON. */
void row(const red_cell_t *cell, red_buf_t *b);
/* The rendered value of column @p name in @p cell ("null" when null). */
char *render_col(const red_cell_t *cell, const char *name);
/* An event of kind @p kind at @p time with no values. */
void hev_init(hev_t *h, const red_contract_t *c, const char *kind,
              const char *time);
/* The value slot of field @p f (to set by hand). */
red_value_t *hval(hev_t *h, const red_contract_t *c, const char *f);
/* Sets field @p f to a number, a string (borrowed), a boolean. */
void set_num(hev_t *h, const red_contract_t *c, const char *f, double d);
void set_str(hev_t *h, const red_contract_t *c, const char *f, const char *s);
void set_bool(hev_t *h, const red_contract_t *c, const char *f, bool b);
/* The hourly cell "total/all" at 2025-11-06T10:00. */
red_cell_t *new_cell(const red_contract_t *c);
/* Applies the event, or the test fails. */
void apply(red_cell_t *cell, const hev_t *h);
/* Column @p name renders as @p want ("null" for null). */
void assert_col(const red_cell_t *cell, const char *name, const char *want);

#endif
