/*
 * red_schema - contracts own their tables: `reducerd migrate` creates and
 * evolves every table a contract declares (red_tabledef) and records, per
 * contract, its version, table generation and what each table-shaping
 * part means (reducerd_contract_schema, migrations/0008).
 *
 * A plan compares, for each contract:
 *  - what the parts mean now with what was recorded: a new column,
 *    window type, grouping or index is additive; a changed column,
 *    grouping or layout, or a removed column, window or grouping, changes
 *    what stored rows mean and is refused, unless the contract's version
 *    changed: then the aggregation tables it concerns get a new
 *    *generation* (T_g<N>), which `reducerd backfill` fills and switches
 *    in (red_schema_switch()) while the old one keeps serving;
 *  - the table the contract wants (created as a temporary table and read
 *    back, red_catalog) with the table that exists: what is missing is
 *    created or added online, a type or key that differs is refused.
 * A database migrated before contracts owned their tables is adopted as
 * it is when its tables equal what the contracts declare.
 *
 * The daemon checks at connect that the contract it runs is the live one
 * (red_schema_live()), and each batch holds the contract's row FOR SHARE,
 * so a switch waits for running batches and a stale worker cannot write
 * into a switched table.
 */
#ifndef RED_SCHEMA_H
#define RED_SCHEMA_H

#include "red_attr.h"
#include "red_contract.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct red_schema_plan_s red_schema_plan_t;

/**
 * Plans the contracts of @p set (borrowed; must outlive the plan) on
 * @p conn, changing nothing (temporary tables in a rolled-back
 * transaction). Returns NULL with a message on failure.
 */
red_schema_plan_t *red_schema_plan(PGconn *conn, const red_contract_set_t *set,
                                   char *errstr, size_t errstr_size);
void red_schema_plan_destroy(red_schema_plan_t *p);

/** Statements the plan would run (0: the tables are as the contracts
 * say and the record is current). */
size_t red_schema_plan_statements(const red_schema_plan_t *p);
/** Changes refused (the plan cannot be applied while there are any). */
size_t red_schema_plan_refused(const red_schema_plan_t *p);

/**
 * Writes the plan: per contract, each statement preceded by a comment
 * saying why, the notes, and the refused changes with the ways forward.
 */
void red_schema_plan_print(const red_schema_plan_t *p, FILE *fp);
/** Writes only the refused changes (for errors). */
void red_schema_plan_print_refused(const red_schema_plan_t *p, FILE *fp);

/**
 * The whole of `reducerd migrate` for the contracts: under the migration
 * advisory lock, plans and, unless @p dry_run or something is refused,
 * applies. The plan is printed to @p out (NULL: not printed). Sets
 * *@p statements. Returns 0, 1 when refused (printed to @p err), or -1
 * with a message.
 */
int red_schema_migrate(PGconn *conn, const red_contract_set_t *set,
                       bool dry_run, FILE *out, FILE *err, size_t *statements,
                       char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * At a worker's connect: whether contract @p c may write its tables.
 * Fine when the database has no record of the contract (tables made by
 * hand) or records the same meaning for every part both know (parts only
 * one side has are additive); sets *@p generation to the live generation
 * (0: no record). Otherwise -1 with a message that says what to do (run
 * `reducerd migrate`, or keep the live version while a new generation is
 * built).
 */
int red_schema_live(PGconn *conn, const red_contract_t *c, int *generation,
                    char *errstr, size_t errstr_size) RED_MUSTCHECK;

/* --- generations (red_schema_switch.c) ---------------------------------- */

/**
 * In the caller's open transaction: holds contract @p contract's schema
 * row FOR UPDATE (batches wait; running ones are waited for) and sets
 * *@p generation to the live generation (0: no record). 0 or -1.
 */
int red_schema_lock(PGconn *conn, const char *contract, int *generation,
                    char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * The generation being built for exactly contract @p c (its parts), or 0,
 * and the aggregations (bit per index) that have tables in it.
 */
int red_schema_building(PGconn *conn, const red_contract_t *c, int *generation,
                        uint64_t *aggs, char *errstr,
                        size_t errstr_size) RED_MUSTCHECK;

/**
 * In the caller's transaction, holding red_schema_lock(): makes
 * generation @p generation of @p c live. Each of its tables T: the live
 * T (generation @p live) becomes T_g<live> with its partitions and
 * indexes, T_g<generation> becomes T; the record takes the generation's
 * version and parts, the old generation is retired. 0 or -1.
 */
int red_schema_switch(PGconn *conn, const red_contract_t *c, int generation,
                      int live, char *errstr, size_t errstr_size) RED_MUSTCHECK;

/**
 * The statement a batch runs first: locks the contract's row FOR SHARE
 * and returns its live generation ($1: the contract). A batch of a worker
 * whose generation differs must not write.
 */
#define RED_SCHEMA_BATCH_SQL                                                   \
        "SELECT generation FROM reducerd_contract_schema WHERE contract = $1 " \
        "FOR SHARE"

#endif
