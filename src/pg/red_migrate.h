/*
 * red_migrate - applies migrations/NNNN_name.sql in order, each inside its
 * own transaction, recorded with a SHA-256 checksum in
 * reducerd_schema_migrations. A session advisory lock serialises replicas
 * that start together; an applied file that changed is refused.
 *
 * The migrations are compiled into the binary; a directory can replace
 * them (tests, or a hotfix without a rebuild). They create the engine's
 * own tables; a contract's tables come from the contract (red_schema).
 * The numbers of retired migrations (see red_migrate.c) stay taken.
 */
#ifndef RED_MIGRATE_H
#define RED_MIGRATE_H

#include "red_attr.h"
#include <libpq-fe.h>
#include <stddef.h>
#include <stdio.h>

typedef struct red_migration_s {
        const char *name; /**< file name, e.g. "0001_core.sql" */
        const char *sql;
        size_t len;
} red_migration_t;

/** The migrations built into the binary (borrowed, sorted by name). */
const red_migration_t *red_migrate_builtin(size_t *cntp);

/**
 * Reads every NNNN_*.sql file of @p dir, sorted. Returns 0 or -1 with a
 * message; free the result with red_migrate_free().
 */
int red_migrate_read_dir(const char *dir, red_migration_t **out, size_t *cntp,
                         char *errstr, size_t errstr_size) RED_MUSTCHECK;
void red_migrate_free(red_migration_t *m, size_t cnt);

/**
 * Applies the pending migrations of @p m on @p conn. Sets *@p applied to
 * the number applied now (0 when up to date). Returns 0, or -1 with a
 * message (nothing of the failing migration is left behind).
 */
int red_migrate_apply(PGconn *conn, const red_migration_t *m, size_t cnt,
                      int *applied, char *errstr,
                      size_t errstr_size) RED_MUSTCHECK;

/**
 * Writes the pending migrations of @p m to @p out (name, then the SQL),
 * changing nothing; sets *@p pending to their number. Returns 0, or -1
 * with a message.
 */
int red_migrate_pending(PGconn *conn, const red_migration_t *m, size_t cnt,
                        FILE *out, int *pending, char *errstr,
                        size_t errstr_size) RED_MUSTCHECK;

#endif
