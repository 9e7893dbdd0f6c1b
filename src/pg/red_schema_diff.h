/*
 * red_schema_diff - what the parts of red_schema share (not for other
 * modules): the plan of one contract, and the comparisons that fill it
 * (red_schema_diff.c): what each part means against what was recorded,
 * and each table the contract wants against the table that exists.
 */
#ifndef RED_SCHEMA_DIFF_H
#define RED_SCHEMA_DIFF_H

#include "red_attr.h"
#include "red_buf.h"
#include "red_catalog.h"
#include "red_contract.h"
#include "red_tabledef.h"

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

/* A statement of the plan (or a note: sql NULL) and why. */
typedef struct step_s {
        char *why;
        char *sql; /* NULL: a note */
} step_t;

typedef struct cplan_s {
        const red_contract_t *c;
        red_tabledef_set_t defs;
        json_t *recorded;  /* parts recorded for the live generation */
        char *rec_version; /* NULL: no record */
        int rec_gen;
        int building; /* generation being built, 0: none */
        char *building_version;
        bool building_same; /* ... for exactly this contract */
        bool has_state_tables;
        step_t *steps;
        size_t step_cnt;
        char **refused;
        size_t refused_cnt;
        bool *affected; /* per def: meaning changed */
        int new_gen;    /* a new generation for the affected tables */
        json_t *parts;  /* of this contract */
        json_t *live;   /* what to record as live (NULL: nothing) */
} cplan_t;


/* Adds a statement (taking @p sql; NULL: a note) with why it is there.
 * 0 or -ENOMEM. */
int red_schema_step(cplan_t *cp, char *sql, const char *why, ...)
        RED_PRINTF(3, 4);
/* Adds a refused change. 0 or -ENOMEM. */
int red_schema_refuse(cplan_t *cp, const char *f, ...) RED_PRINTF(2, 3);
/* The buffer's text as a statement, or NULL when a name in it could not
 * be used. */
char *red_schema_take_sql(red_buf_t *b);

/* Compares the meanings of table @p t with what was recorded: a refusal
 * for each change of stored rows' meaning. Returns their number, or
 * -ENOMEM. */
int red_schema_meaning_diff(cplan_t *cp, const red_tabledef_t *t);

/* The statements that make existing table @p have what @p want (the
 * contract's table as the server spells it) is, and refusals for what
 * cannot change in place. 0 or -ENOMEM / -EINVAL. */
int red_schema_table_diff(cplan_t *cp, const red_tabledef_t *t,
                          const red_catalog_table_t *want,
                          const red_catalog_table_t *have);

/* The contract's tables as the server makes them: created as temporary
 * tables in a transaction that is rolled back, read into @p out (one per
 * definition). 0, or -1 with a message. */
int red_schema_wanted(PGconn *conn, const red_tabledef_set_t *defs,
                      red_catalog_table_t *out, char *errstr, size_t size);

#endif
