/* red_contract_sinks - a contract's raw sinks. */
#include "red_contract_load.h"

#include "red_tabledef.h"
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- raw sinks ----------------------------------------------------------- */

/* A unique field identifies rows: a required string, integer or uuid in
 * every kind stored. */
static int unique_field_check(red_loader_t *ld, const red_yaml_node_t *at,
                              const char *what, uint64_t on, int slot)
{
        const red_contract_t *c = ld->c;
        red_field_type_t t = c->slot_types[slot];

        if (t != RED_FT_STRING && t != RED_FT_INTEGER && t != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size, at,
                                      "%s: unique field %s is a %s (allowed: "
                                      "string, integer, uuid)",
                                      what, c->slot_names[slot],
                                      red_contract_field_type_name(t));
        }
        for (size_t k = 0; k < c->kind_cnt; k++) {
                const red_kind_t *kind = &c->kinds[k];
                bool required = false;

                if (!(on & (UINT64_C(1) << kind->index))) {
                        continue;
                }
                for (size_t f = 0; f < kind->field_cnt; f++) {
                        required |= kind->fields[f].slot == slot &&
                                    kind->fields[f].required;
                }
                if (!required) {
                        return red_yaml_error(ld->errstr, ld->size, at,
                                              "%s: unique field %s must be "
                                              "required in event %s",
                                              what, c->slot_names[slot],
                                              kind->name);
                }
        }
        return 0;
}

/* tables: {input topic: table}: a raw sink may store each topic's events
 * in a table of its own. */
static int raw_tables_of(red_loader_t *ld, const red_yaml_node_t *v,
                         const char *what, red_raw_t *r)
{
        int rc;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        r->topics = calloc(red_yaml_size(v) + 1, sizeof(char *));
        r->tables = calloc(red_yaml_size(v) + 1, sizeof(char *));
        if (!r->topics || !r->tables) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                r->table_cnt++;
                if ((rc = red_contract_load_topic(ld, red_yaml_key(v, i), what,
                                                  &r->topics[i])) ||
                    (rc = red_contract_load_ident(ld, red_yaml_value(v, i),
                                                  what, TABLE_NAME_MAX,
                                                  &r->tables[i]))) {
                        return rc;
                }
                if (!red_contract_input(ld->c, r->topics[i])) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: topic %s is not an input "
                                              "of the contract",
                                              what, r->topics[i]);
                }
        }
        return 0;
}

/* unique: the fields that, with the event time, identify a row (the
 * sink skips rows it stored before). */
static int unique_of(red_loader_t *ld, const red_yaml_node_t *v,
                     const char *what, red_raw_t *r)
{
        char **names = NULL;
        size_t cnt = 0;
        int rc;

        if ((rc = red_contract_load_strlist(ld, v, what, &names, &cnt))) {
                return rc;
        }
        if (!(r->unique = calloc(cnt + 1, sizeof(int)))) {
                rc = -ENOMEM;
                goto err;
        }
        for (size_t i = 0; i < cnt; i++) {
                int slot = red_contract_slot(ld->c, names[i]);
                if (slot < 0) {
                        rc = red_yaml_error(ld->errstr, ld->size, v,
                                            "%s: unique: unknown field "
                                            "\"%s\"",
                                            what, names[i]);
                        goto err;
                }
                if ((rc = unique_field_check(ld, v, what, r->on, slot))) {
                        goto err;
                }
                r->unique[r->unique_cnt++] = slot;
        }
err:
        red_contract_load_strlist_free(names, cnt);
        return rc;
}

/* columns: {column: field}; every unique field needs one. */
static int raw_columns_of(red_loader_t *ld, const red_yaml_node_t *n,
                          const red_yaml_node_t *v, const char *what,
                          red_raw_t *r)
{
        int rc;

        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        r->columns = calloc(red_yaml_size(v) + 1, sizeof(*r->columns));
        if (!r->columns) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_raw_column_t *col = &r->columns[r->column_cnt++];
                if ((rc = red_contract_load_ident(ld, red_yaml_key(v, i), what,
                                                  63, &col->name)) ||
                    (rc = red_contract_load_slot(ld, red_yaml_value(v, i), what,
                                                 &col->slot))) {
                        return rc;
                }
                if (!strcmp(col->name, r->time_column) ||
                    !strcmp(col->name, "created_at")) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: column %s is written by "
                                              "the engine (event time, "
                                              "insertion time)",
                                              what, col->name);
                }
        }
        for (size_t u = 0; u < r->unique_cnt; u++) {
                bool found = false;
                for (size_t i = 0; i < r->column_cnt; i++) {
                        found |= r->columns[i].slot == r->unique[u];
                }
                if (!found) {
                        return red_yaml_error(
                                ld->errstr, ld->size, red_yaml_get(n, "unique"),
                                "%s: unique field %s has no "
                                "column",
                                what, ld->c->slot_names[r->unique[u]]);
                }
        }
        return 0;
}

int red_contract_load_raw_table_check(red_loader_t *ld,
                                      const red_yaml_node_t *n,
                                      const char *what, red_raw_t *r)
{
        size_t cnt = r->column_cnt;
        const char **cols = calloc(cnt + 1, sizeof(*cols));
        red_sqlt_class_t *classes = calloc(cnt + 1, sizeof(*classes));
        bool *integral = calloc(cnt + 1, sizeof(*integral));
        const char *engine[] = {r->time_column, "created_at", r->id_column};
        int rc = -ENOMEM;

        if (cols && classes && integral) {
                for (size_t i = 0; i < cnt; i++) {
                        cols[i] = r->columns[i].name;
                        classes[i] = red_tabledef_field_class(
                                ld->c->slot_types[r->columns[i].slot]);
                        integral[i] = classes[i] == RED_SQLT_INTEGER;
                }
                rc = red_contract_load_table_check(
                        ld, n, what, r->coltypes, r->coltype_cnt, r->indexes,
                        r->index_cnt, cols, classes, integral, cnt, engine,
                        r->id_column ? 3 : 2);
        }
        free(cols);
        free(classes);
        free(integral);
        return rc;
}

static int raw_of(red_loader_t *ld, const red_yaml_node_t *n, red_raw_t *r)
{
        static const char *const keys[] = {
                "name",        "description",  "on",        "tables",
                "time_column", "partition",    "retention", "unique",
                "columns",     "column_types", "indexes",   NULL};
        const red_yaml_node_t *v;
        char what[128];
        int rc;

        if ((rc = red_yaml_check_keys(n, "raw", keys, ld->errstr, ld->size))) {
                return rc;
        }
        if (!(v = red_contract_load_required(ld, n, "raw", "name", "", &rc)) ||
            (rc = red_contract_load_ident(ld, v, "raw name", 63, &r->name))) {
                return rc;
        }
        snprintf(what, sizeof(what), "raw %s", r->name);
        if ((v = red_yaml_get(n, "description")) &&
            (rc = red_contract_load_str(ld, v, what, &r->description))) {
                return rc;
        }
        if (!(v = red_contract_load_required(ld, n, what, "on", "", &rc)) ||
            (rc = red_contract_load_kinds(ld, v, what, &r->on))) {
                return rc;
        }
        if (!(v = red_contract_load_required(ld, n, what, "tables",
                                             " (input topic: table)", &rc)) ||
            (rc = raw_tables_of(ld, v, what, r))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "time_column"))) {
                rc = red_contract_load_ident(ld, v, what, 63, &r->time_column);
        } else if (!(r->time_column = strdup("timestamp"))) {
                rc = -ENOMEM;
        }
        if (rc) {
                return rc;
        }
        r->partition = RED_PART_DAILY;
        if ((v = red_yaml_get(n, "partition")) &&
            (rc = red_contract_load_partition(ld, v, what, &r->partition))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "retention")) &&
            (rc = red_contract_load_duration(ld, v, what, &r->retention_us))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "unique")) &&
            (rc = unique_of(ld, v, what, r))) {
                return rc;
        }
        if (!(v = red_contract_load_required(ld, n, what, "columns",
                                             " (column: field)", &rc)) ||
            (rc = raw_columns_of(ld, n, v, what, r))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "column_types")) &&
            (rc = red_contract_load_coltypes(ld, v, what, &r->coltypes,
                                             &r->coltype_cnt))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "indexes")) &&
            (rc = red_contract_load_indexes(ld, v, what, &r->indexes,
                                            &r->index_cnt))) {
                return rc;
        }
        return red_contract_load_raw_table_check(ld, n, what, r);
}

int red_contract_load_raws(red_loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_SEQ, "raw", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        c->raws = calloc(red_yaml_size(n) + 1, sizeof(*c->raws));
        if (!c->raws) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->raws[i].index = (int)i;
                c->raw_cnt++;
                if ((r = raw_of(ld, red_yaml_item(n, i), &c->raws[i]))) {
                        return r;
                }
        }
        return 0;
}

void red_contract_load_free_raws(red_raw_t *r, size_t cnt)
{
        for (size_t i = 0; r && i < cnt; i++) {
                free(r[i].name);
                free(r[i].description);
                red_contract_load_free_coltypes(r[i].coltypes,
                                                r[i].coltype_cnt);
                red_contract_load_free_indexes(r[i].indexes, r[i].index_cnt);
                red_contract_load_strlist_free(r[i].topics, r[i].table_cnt);
                red_contract_load_strlist_free(r[i].tables, r[i].table_cnt);
                free(r[i].time_column);
                free(r[i].id_column);
                free(r[i].unique);
                for (size_t k = 0; r[i].columns && k < r[i].column_cnt; k++) {
                        free(r[i].columns[k].name);
                }
                free(r[i].columns);
        }
        free(r);
}
