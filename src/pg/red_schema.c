/* red_schema - plans and applies the tables of contracts: additive
 * changes online, meaning changes refused or built as a new generation. */
#include "red_schema.h"

#include "red_ddl.h"
#include "red_pg.h"
#include "red_schema_diff.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* pg_advisory_lock key of red_migrate: "redumigr" */
#define MIGRATE_LOCK_KEY "7310597925069711730"

static const char *const ways_forward =
        "Either keep the old definition, or bump the contract's version (now "
        "%2$s) to build a new generation of the table: `reducerd migrate` "
        "creates it, `reducerd backfill --contract %1$s` fills it and "
        "switches readers to it at once, and the old generation keeps "
        "serving until then.";

struct red_schema_plan_s {
        cplan_t *items;
        size_t cnt;
};

/* --- what is recorded --------------------------------------------------- */

static int load_record(PGconn *conn, cplan_t *cp, char *errstr, size_t size)
{
        const char *vals[1] = {cp->c->name};
        PGresult *res;

        res = red_pg_params(conn,
                            "SELECT to_regclass('reducerd_contract_schema') IS "
                            "NOT NULL",
                            0, NULL, errstr, size);
        if (!res) {
                return -1;
        }
        cp->has_state_tables = PQgetvalue(res, 0, 0)[0] == 't';
        PQclear(res);
        if (!cp->has_state_tables) {
                return 0;
        }
        if (!(res = red_pg_params(
                      conn,
                      "SELECT version, generation, parts::text FROM "
                      "reducerd_contract_schema WHERE contract = $1",
                      1, vals, errstr, size))) {
                return -1;
        }
        if (PQntuples(res)) {
                cp->rec_version = strdup(PQgetvalue(res, 0, 0));
                cp->rec_gen = atoi(PQgetvalue(res, 0, 1));
                cp->recorded = json_loads(PQgetvalue(res, 0, 2), 0, NULL);
        }
        PQclear(res);
        return 0;
}

/* The building generation, compared with this contract's parts. */
static int load_building(PGconn *conn, cplan_t *cp, char *errstr, size_t size)
{
        char *parts = json_dumps(cp->parts, JSON_COMPACT);
        const char *vals[2] = {cp->c->name, parts};
        PGresult *res;

        if (!cp->has_state_tables) {
                free(parts);
                return 0;
        }
        res = red_pg_params(
                conn,
                "SELECT generation, version, parts = $2::jsonb FROM "
                "reducerd_contract_generations WHERE contract = $1 "
                "AND status = 'building'",
                2, vals, errstr, size);
        free(parts);
        if (!res) {
                return -1;
        }
        if (PQntuples(res)) {
                cp->building = atoi(PQgetvalue(res, 0, 0));
                cp->building_version = strdup(PQgetvalue(res, 0, 1));
                cp->building_same = PQgetvalue(res, 0, 2)[0] == 't';
        }
        PQclear(res);
        return 0;
}

/* {table: {part: meaning}} of the contract's tables. */
static json_t *parts_of(const red_tabledef_set_t *defs)
{
        json_t *all = json_object();

        for (size_t i = 0; all && i < defs->cnt; i++) {
                const red_tabledef_t *t = &defs->items[i];
                json_t *o = json_object();

                for (size_t k = 0; o && k < t->meaning_cnt; k++) {
                        json_object_set_new(o, t->meanings[k].name,
                                            json_string(t->meanings[k].text));
                }
                if (!o || json_object_set_new(all, t->name, o)) {
                        json_decref(all);
                        return NULL;
                }
        }
        return all;
}

/* --- one contract ------------------------------------------------------- */

/* The statements that create generation @p gen of the affected tables
 * (after dropping a building generation that was for another
 * definition). */
static int plan_generation(PGconn *conn, cplan_t *cp, char *errstr, size_t size)
{
        red_buf_t b;
        int r = 0;

        if (cp->building && cp->building_same) {
                cp->new_gen = cp->building;
                return red_schema_step(
                        cp, NULL,
                        "generation %d of version %s is being built: run "
                        "`reducerd backfill --contract %s` (it switches "
                        "it in when done); until then keep running "
                        "version %s",
                        cp->building, cp->building_version, cp->c->name,
                        cp->rec_version);
        }
        red_buf_init(&b);
        if (cp->building) {
                char sql[256];
                const char *vals[1] = {cp->c->name};
                PGresult *res;

                snprintf(sql, sizeof(sql),
                         "SELECT unnest(tables) FROM "
                         "reducerd_contract_generations WHERE contract = $1 "
                         "AND generation = %d",
                         cp->building);
                if (!(res = red_pg_params(conn, sql, 1, vals, errstr, size))) {
                        return -1;
                }
                for (int i = 0; i < PQntuples(res); i++) {
                        char name[80];
                        if (red_ddl_name(PQgetvalue(res, i, 0), cp->building,
                                         name, sizeof(name))) {
                                continue;
                        }
                        red_buf_puts(&b, "DROP TABLE IF EXISTS ");
                        red_ddl_ident(&b, name);
                        red_buf_puts(&b, ";\n");
                }
                PQclear(res);
                red_buf_puts(&b, "DELETE FROM reducerd_contract_generations "
                                 "WHERE contract = ");
                red_ddl_literal(&b, cp->c->name);
                red_buf_printf(&b, " AND generation = %d;", cp->building);
                r = red_schema_step(cp, red_schema_take_sql(&b),
                                    "generation %d was being built for another "
                                    "definition (version %s): dropped",
                                    cp->building, cp->building_version);
        }
        cp->new_gen =
                (cp->building > cp->rec_gen ? cp->building : cp->rec_gen) + 1;
        for (size_t i = 0; !r && i < cp->defs.cnt; i++) {
                const red_tabledef_t *t = &cp->defs.items[i];
                char name[80];

                if (!cp->affected[i]) {
                        continue;
                }
                red_buf_init(&b);
                if (red_ddl_create(&b, t, cp->new_gen, NULL) ||
                    red_ddl_name(t->name, cp->new_gen, name, sizeof(name))) {
                        red_buf_destroy(&b);
                        snprintf(errstr, size,
                                 "table %s: no room for a generation "
                                 "suffix in its name",
                                 t->name);
                        return -1;
                }
                r = red_schema_step(
                        cp, red_schema_take_sql(&b),
                        "table %s: generation %d for version %s as %s, "
                        "filled by `reducerd backfill --contract %s`",
                        t->name, cp->new_gen, cp->c->version, name,
                        cp->c->name);
        }
        return r;
}

static int plan_contract(PGconn *conn, cplan_t *cp, char *errstr, size_t size)
{
        red_catalog_table_t *want = NULL, *have = NULL;
        size_t meaning_refused = 0;
        int r = -1;

        if (red_tabledef_set_build(cp->c, &cp->defs, errstr, size) ||
            load_record(conn, cp, errstr, size)) {
                return -1;
        }
        if (!(cp->parts = parts_of(&cp->defs)) ||
            !(cp->affected = calloc(cp->defs.cnt + 1, sizeof(bool)))) {
                snprintf(errstr, size, "out of memory");
                return -1;
        }
        if (load_building(conn, cp, errstr, size)) {
                return -1;
        }
        want = calloc(cp->defs.cnt + 1, sizeof(*want));
        have = calloc(cp->defs.cnt + 1, sizeof(*have));
        if (!want || !have) {
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        if (red_schema_wanted(conn, &cp->defs, want, errstr, size)) {
                goto done;
        }
        for (size_t i = 0; i < cp->defs.cnt; i++) {
                int n = red_schema_meaning_diff(cp, &cp->defs.items[i]);
                if (n < 0) {
                        goto oom;
                }
                cp->affected[i] = n > 0;
                meaning_refused += (size_t)n;
        }
        for (size_t i = 0; i < cp->defs.cnt; i++) {
                const red_tabledef_t *t = &cp->defs.items[i];
                red_buf_t b;

                if (red_catalog_table(conn, false, t->name, &have[i], errstr,
                                      size)) {
                        goto done;
                }
                if (cp->affected[i]) {
                        continue;
                }
                if (have[i].exists) {
                        if (red_schema_table_diff(cp, t, &want[i], &have[i])) {
                                goto oom;
                        }
                        continue;
                }
                red_buf_init(&b);
                if (red_ddl_create(&b, t, 0, NULL)) {
                        red_buf_destroy(&b);
                        snprintf(errstr, size, "table %s: unusable name",
                                 t->name);
                        goto done;
                }
                if (red_schema_step(
                            cp, red_schema_take_sql(&b), "table %s: %s (%s)",
                            t->name,
                            cp->recorded && json_object_get(cp->recorded,
                                                            t->name)
                                    ? "missing: created again"
                                    : "new",
                            t->owner)) {
                        goto oom;
                }
        }
        if (meaning_refused && cp->rec_version &&
            strcmp(cp->rec_version, cp->c->version)) {
                /* a new version: new generations of what changed, if those
                 * are aggregation tables (cells can be recomputed) */
                size_t other = 0;
                for (size_t i = 0; i < cp->defs.cnt; i++) {
                        if (cp->affected[i] &&
                            strcmp(cp->defs.items[i].sink, "aggregation")) {
                                other++;
                                if (red_schema_refuse(
                                            cp,
                                            "contract %s: table %s (%s) "
                                            "cannot get a new generation: "
                                            "only aggregation tables are "
                                            "rebuilt from their events. Keep "
                                            "the old definition, or store "
                                            "the changed data in a table of a "
                                            "new name.",
                                            cp->c->name, cp->defs.items[i].name,
                                            cp->defs.items[i].owner)) {
                                        goto oom;
                                }
                        }
                }
                if (!other) {
                        /* the meaning changes are the new generation's */
                        for (size_t i = 0; i < meaning_refused; i++) {
                                free(cp->refused[i]);
                        }
                        memmove(cp->refused, cp->refused + meaning_refused,
                                (cp->refused_cnt - meaning_refused) *
                                        sizeof(*cp->refused));
                        cp->refused_cnt -= meaning_refused;
                        if (!cp->refused_cnt &&
                            plan_generation(conn, cp, errstr, size)) {
                                goto done;
                        }
                }
        } else if (meaning_refused) {
                /* the ways forward, once, after the last meaning change */
                char how[512], *msg, **last = &cp->refused[meaning_refused - 1];
                snprintf(how, sizeof(how), ways_forward, cp->c->name,
                         cp->c->version);
                if (asprintf(&msg, "%s\n  %s", *last, how) < 0) {
                        goto oom;
                }
                free(*last);
                *last = msg;
        }
        if (!cp->refused_cnt) {
                /* what the live generation now is: the new parts of every
                 * table not waiting for a new generation */
                cp->live =
                        json_deep_copy(cp->recorded ? cp->recorded : cp->parts);
                for (size_t i = 0; cp->live && i < cp->defs.cnt; i++) {
                        const char *tn = cp->defs.items[i].name;
                        if (!cp->affected[i]) {
                                json_object_set(cp->live, tn,
                                                json_object_get(cp->parts, tn));
                        }
                }
                if (!cp->live) {
                        goto oom;
                }
                if (cp->building && !cp->new_gen && !meaning_refused) {
                        /* back to the live definition: the generation being
                         * built is not wanted any more */
                        red_buf_t b;
                        red_buf_init(&b);
                        for (size_t i = 0; i < cp->defs.cnt; i++) {
                                char name[80];
                                if (red_ddl_name(cp->defs.items[i].name,
                                                 cp->building, name,
                                                 sizeof(name))) {
                                        continue;
                                }
                                red_buf_puts(&b, "DROP TABLE IF EXISTS ");
                                red_ddl_ident(&b, name);
                                red_buf_puts(&b, ";\n");
                        }
                        red_buf_puts(&b, "DELETE FROM "
                                         "reducerd_contract_generations "
                                         "WHERE contract = ");
                        red_ddl_literal(&b, cp->c->name);
                        red_buf_printf(&b, " AND generation = %d;",
                                       cp->building);
                        if (red_schema_step(
                                    cp, red_schema_take_sql(&b),
                                    "generation %d (version %s) is no longer "
                                    "wanted: the contract is the live one "
                                    "again",
                                    cp->building, cp->building_version)) {
                                goto oom;
                        }
                }
        }
        r = 0;
        goto done;
oom:
        snprintf(errstr, size, "out of memory");
done:
        for (size_t i = 0; want && have && i < cp->defs.cnt; i++) {
                red_catalog_table_free(&want[i]);
                red_catalog_table_free(&have[i]);
        }
        free(want);
        free(have);
        return r;
}

/* --- the plan ------------------------------------------------------------ */

static void cplan_free(cplan_t *cp)
{
        red_tabledef_set_destroy(&cp->defs);
        json_decref(cp->recorded);
        json_decref(cp->parts);
        json_decref(cp->live);
        free(cp->rec_version);
        free(cp->building_version);
        for (size_t i = 0; i < cp->step_cnt; i++) {
                free(cp->steps[i].why);
                free(cp->steps[i].sql);
        }
        free(cp->steps);
        for (size_t i = 0; i < cp->refused_cnt; i++) {
                free(cp->refused[i]);
        }
        free(cp->refused);
        free(cp->affected);
}

void red_schema_plan_destroy(red_schema_plan_t *p)
{
        if (!p) {
                return;
        }
        for (size_t i = 0; i < p->cnt; i++) {
                cplan_free(&p->items[i]);
        }
        free(p->items);
        free(p);
}

red_schema_plan_t *red_schema_plan(PGconn *conn, const red_contract_set_t *set,
                                   char *errstr, size_t size)
{
        red_schema_plan_t *p = calloc(1, sizeof(*p));

        if (!p || !(p->items = calloc(set->cnt + 1, sizeof(*p->items)))) {
                free(p);
                snprintf(errstr, size, "out of memory");
                return NULL;
        }
        for (size_t i = 0; i < set->cnt; i++) {
                cplan_t *cp = &p->items[p->cnt++];
                cp->c = set->items[i];
                if (plan_contract(conn, cp, errstr, size)) {
                        red_schema_plan_destroy(p);
                        return NULL;
                }
        }
        return p;
}

/* The version the live record gets: the live generation keeps its own
 * while another is built. */
static const char *live_version(const cplan_t *cp)
{
        return cp->new_gen && cp->rec_version ? cp->rec_version
                                              : cp->c->version;
}

/* Whether the record of @p cp is not what it should become. */
static bool record_changes(const cplan_t *cp)
{
        return cp->live &&
               (!cp->recorded || !json_equal(cp->live, cp->recorded) ||
                strcmp(cp->rec_version, live_version(cp)) ||
                (cp->new_gen && !cp->building_same));
}

static size_t cplan_statements(const cplan_t *cp)
{
        size_t n = 0;

        for (size_t k = 0; k < cp->step_cnt; k++) {
                n += cp->steps[k].sql != NULL;
        }
        return n;
}

size_t red_schema_plan_statements(const red_schema_plan_t *p)
{
        size_t n = 0;

        for (size_t i = 0; i < p->cnt; i++) {
                n += cplan_statements(&p->items[i]);
        }
        return n;
}

size_t red_schema_plan_refused(const red_schema_plan_t *p)
{
        size_t n = 0;

        for (size_t i = 0; i < p->cnt; i++) {
                n += p->items[i].refused_cnt;
        }
        return n;
}

void red_schema_plan_print_refused(const red_schema_plan_t *p, FILE *fp)
{
        for (size_t i = 0; i < p->cnt; i++) {
                for (size_t k = 0; k < p->items[i].refused_cnt; k++) {
                        fprintf(fp, "refused: %s\n", p->items[i].refused[k]);
                }
        }
}

void red_schema_plan_print(const red_schema_plan_t *p, FILE *fp)
{
        for (size_t i = 0; i < p->cnt; i++) {
                const cplan_t *cp = &p->items[i];

                fprintf(fp, "-- contract %s %s: ", cp->c->name, cp->c->version);
                if (cp->rec_version) {
                        fprintf(fp, "recorded version %s, generation %d\n",
                                cp->rec_version, cp->rec_gen);
                } else {
                        fprintf(fp, "not recorded yet\n");
                }
                for (size_t k = 0; k < cp->step_cnt; k++) {
                        fprintf(fp, "-- %s\n", cp->steps[k].why);
                        if (cp->steps[k].sql) {
                                fprintf(fp, "%s\n", cp->steps[k].sql);
                        }
                }
                if (record_changes(cp)) {
                        fprintf(fp,
                                "-- record the schema of version %s in "
                                "reducerd_contract_schema\n",
                                cp->c->version);
                } else if (!cp->refused_cnt && !cp->step_cnt) {
                        fprintf(fp, "-- up to date\n");
                }
                for (size_t k = 0; k < cp->refused_cnt; k++) {
                        fprintf(fp, "-- refused: %s\n", cp->refused[k]);
                }
        }
}

/* --- applying ------------------------------------------------------------ */

static int record(PGconn *conn, const cplan_t *cp, char *errstr, size_t size)
{
        char *live = json_dumps(cp->live, JSON_COMPACT | JSON_SORT_KEYS);
        char *parts = json_dumps(cp->parts, JSON_COMPACT | JSON_SORT_KEYS);
        char gen[16], newgen[16], tables[4096];
        const char *vals[6];
        size_t pos = 0;
        PGresult *res = NULL;
        int r = -1;

        if (!live || !parts) {
                snprintf(errstr, size, "out of memory");
                goto done;
        }
        snprintf(gen, sizeof(gen), "%d", cp->rec_gen ? cp->rec_gen : 1);
        /* the live generation keeps its version while another is built */
        vals[0] = cp->c->name;
        vals[1] = live_version(cp);
        vals[2] = gen;
        vals[3] = live;
        if (!(res = red_pg_params(
                      conn,
                      "INSERT INTO reducerd_contract_schema (contract, "
                      "version, generation, parts, fingerprint) VALUES ($1, "
                      "$2, $3, $4::text::jsonb, "
                      "encode(sha256(convert_to($4::text, "
                      "'UTF8')), 'hex')) ON CONFLICT (contract) DO UPDATE SET "
                      "version = EXCLUDED.version, parts = EXCLUDED.parts, "
                      "fingerprint = EXCLUDED.fingerprint, updated_at = now()",
                      4, vals, errstr, size))) {
                goto done;
        }
        PQclear(res);
        tables[pos++] = '{';
        for (size_t i = 0; i < cp->defs.cnt; i++) {
                if (cp->new_gen ? cp->affected[i] : true) {
                        pos += (size_t)snprintf(
                                tables + pos, sizeof(tables) - pos, "%s%s",
                                pos > 1 ? "," : "", cp->defs.items[i].name);
                }
                if (pos >= sizeof(tables) - 2) {
                        snprintf(errstr, size, "too many tables");
                        res = NULL;
                        goto done;
                }
        }
        tables[pos++] = '}';
        tables[pos] = '\0';
        snprintf(newgen, sizeof(newgen), "%d",
                 cp->new_gen ? cp->new_gen : (cp->rec_gen ? cp->rec_gen : 1));
        vals[1] = newgen;
        vals[2] = cp->c->version;
        vals[3] = cp->new_gen ? "building" : "live";
        vals[4] = tables;
        vals[5] = cp->new_gen ? parts : live;
        if (!(res = red_pg_params(
                      conn,
                      "INSERT INTO reducerd_contract_generations (contract, "
                      "generation, version, status, tables, parts, "
                      "fingerprint) VALUES ($1, $2, $3, $4, $5::text[], "
                      "$6::text::jsonb, encode(sha256(convert_to($6::text, "
                      "'UTF8')), "
                      "'hex')) ON CONFLICT (contract, generation) DO UPDATE "
                      "SET version = EXCLUDED.version, parts = "
                      "EXCLUDED.parts, fingerprint = EXCLUDED.fingerprint",
                      6, vals, errstr, size))) {
                goto done;
        }
        r = 0;
done:
        PQclear(res);
        free(live);
        free(parts);
        return r;
}

static int apply_contract(PGconn *conn, const cplan_t *cp, char *errstr,
                          size_t size)
{
        const char *vals[1] = {cp->c->name};
        char err[1024], ignore[256];
        PGresult *res;

        if (!record_changes(cp) && !cplan_statements(cp)) {
                return 0;
        }
        if (red_pg_exec(conn, "BEGIN; SET LOCAL client_min_messages = warning",
                        errstr, size)) {
                return -1;
        }
        /* running batches hold the row FOR SHARE: wait for them, and make
         * new ones wait for this */
        if (!(res = red_pg_params(
                      conn,
                      "SELECT 1 FROM reducerd_contract_schema WHERE "
                      "contract = $1 FOR UPDATE",
                      1, vals, err, sizeof(err)))) {
                goto fail;
        }
        PQclear(res);
        for (size_t k = 0; k < cp->step_cnt; k++) {
                if (cp->steps[k].sql &&
                    red_pg_exec(conn, cp->steps[k].sql, err, sizeof(err))) {
                        char why[512];
                        snprintf(why, sizeof(why), "%s", cp->steps[k].why);
                        snprintf(errstr, size, "contract %s: %s: %s",
                                 cp->c->name, why, err);
                        goto rollback;
                }
        }
        if (record(conn, cp, err, sizeof(err))) {
                goto fail;
        }
        if (red_pg_exec(conn, "COMMIT", err, sizeof(err))) {
                goto fail;
        }
        return 0;
fail:
        snprintf(errstr, size, "contract %s: %s", cp->c->name, err);
rollback:
        if (red_pg_exec(conn, "ROLLBACK", ignore, sizeof(ignore))) {
                /* the connection is gone: the server rolls back */
        }
        return -1;
}

/*
 * Applies a plan with no refusals: per contract one transaction that
 * holds the contract's row, runs the statements and records the new
 * state. The caller holds the migration lock (red_schema_migrate() does
 * all of it). Returns 0 or -1 with a message.
 */
static int red_schema_apply(PGconn *conn, const red_schema_plan_t *p,
                            char *errstr, size_t size)
{
        if (red_schema_plan_refused(p)) {
                snprintf(errstr, size, "the plan has refused changes");
                return -1;
        }
        for (size_t i = 0; i < p->cnt; i++) {
                if (apply_contract(conn, &p->items[i], errstr, size)) {
                        return -1;
                }
        }
        return 0;
}

int red_schema_migrate(PGconn *conn, const red_contract_set_t *set,
                       bool dry_run, FILE *out, FILE *err, size_t *statements,
                       char *errstr, size_t size)
{
        red_schema_plan_t *p = NULL;
        char ignore[256];
        int r = -1;

        *statements = 0;
        if (red_pg_exec(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")",
                        errstr, size)) {
                return -1;
        }
        if (!(p = red_schema_plan(conn, set, errstr, size))) {
                goto done;
        }
        if (out) {
                red_schema_plan_print(p, out);
        }
        *statements = red_schema_plan_statements(p);
        if (red_schema_plan_refused(p)) {
                if (err) {
                        red_schema_plan_print_refused(p, err);
                }
                r = 1;
                goto done;
        }
        r = dry_run ? 0 : red_schema_apply(conn, p, errstr, size);
done:
        red_schema_plan_destroy(p);
        if (red_pg_exec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")",
                        ignore, sizeof(ignore))) {
                /* a lost connection releases the lock too */
        }
        return r;
}

/* --- the daemon's side --------------------------------------------------- */

int red_schema_live(PGconn *conn, const red_contract_t *c, int *generation,
                    char *errstr, size_t size)
{
        cplan_t cp = {0};
        int r = -1;

        *generation = 0;
        cp.c = c;
        if (red_tabledef_set_build(c, &cp.defs, errstr, size) ||
            load_record(conn, &cp, errstr, size)) {
                goto done;
        }
        if (!cp.has_state_tables) {
                snprintf(errstr, size,
                         "the database has not been migrated by this "
                         "version (no reducerd_contract_schema): run "
                         "reducerd migrate");
                goto done;
        }
        if (!cp.rec_version) {
                r = 0; /* tables made by hand: the column check decides */
                goto done;
        }
        *generation = cp.rec_gen;
        for (size_t i = 0; i < cp.defs.cnt; i++) {
                json_t *rec =
                        json_object_get(cp.recorded, cp.defs.items[i].name);
                const red_tabledef_t *t = &cp.defs.items[i];

                for (size_t k = 0; rec && k < t->meaning_cnt; k++) {
                        const char *was = json_string_value(
                                json_object_get(rec, t->meanings[k].name));
                        if (!was || !strcmp(was, t->meanings[k].text) ||
                            t->meanings[k].kind == RED_MEANING_INDEX) {
                                continue;
                        }
                        snprintf(errstr, size,
                                 "contract %s %s: table %s: %s is not what "
                                 "the database's tables were built for "
                                 "(version %s, generation %d): run reducerd "
                                 "migrate, which says what to do (a new "
                                 "version builds a new generation with "
                                 "reducerd backfill; until it is switched "
                                 "in, run version %s)",
                                 c->name, c->version, t->name,
                                 t->meanings[k].name, cp.rec_version,
                                 cp.rec_gen, cp.rec_version);
                        goto done;
                }
        }
        r = 0;
done:
        cplan_free(&cp);
        return r;
}
