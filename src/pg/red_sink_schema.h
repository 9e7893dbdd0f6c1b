/*
 * red_sink_schema - a worker writes only the generation of its contract's
 * tables that the contract it runs was built for (red_schema).
 *
 * At connect, red_sink_schema_prepare() asks red_schema_live() whether the
 * contract is the live one and remembers its generation. Each batch then
 * begins with red_sink_schema_check(): it holds the contract's row of
 * reducerd_contract_schema FOR SHARE until it commits, so `reducerd
 * migrate` and a generation switch (which update the row) wait for it,
 * and a batch that starts after a switch finds the new generation and
 * writes nothing.
 */
#ifndef RED_SINK_SCHEMA_H
#define RED_SINK_SCHEMA_H

#include "red_attr.h"
#include "red_contract.h"
#include "red_sink_io.h"
#include "red_sink_types.h"

#include <stddef.h>

/** Whether @p c may write here; sets *@p generation (0: not recorded).
 * 0, or -1 with a message saying what to do. */
int red_sink_schema_prepare(red_sink_io_t *io, const red_contract_t *c,
                            int *generation, char *errstr,
                            size_t size) RED_MUSTCHECK;

/** In the batch's transaction, before anything is written: the contract's
 * tables are still the generation the worker prepared for. FATAL (with a
 * message) when they were switched. */
red_sink_result_t red_sink_schema_check(red_sink_io_t *io,
                                        const red_contract_t *c, int generation,
                                        char *errstr,
                                        size_t size) RED_MUSTCHECK;

#endif
