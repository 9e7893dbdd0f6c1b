/* red_contract_state_tables - what shapes a state sink's tables: the
 * column_types and indexes of its table, of each list table and of its
 * history, and a list's or the history's id_column; checked against the
 * columns each table will have (red_tabledef_state.c derives them). */
#include "red_contract_load.h"

#include "red_tabledef.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The engine's columns of a state's table (the delete column first, or
 * none). */
#define ENGINE_COLS                                                            \
        "state_times", "state_status", "state_partition", "revision",          \
                "created_at", "updated_at"

/* column_types: and indexes: of @p n into the arrays given. */
static int shape_of(red_loader_t *ld, const red_yaml_node_t *n,
                    const char *what, red_coltype_t **ct, size_t *ct_cnt,
                    red_index_t **ix, size_t *ix_cnt)
{
        const red_yaml_node_t *v;
        int r = 0;

        if ((v = red_yaml_get(n, "column_types")) &&
            (r = red_contract_load_coltypes(ld, v, what, ct, ct_cnt))) {
                return r;
        }
        if ((v = red_yaml_get(n, "indexes")) &&
            (r = red_contract_load_indexes(ld, v, what, ix, ix_cnt))) {
                return r;
        }
        return 0;
}

/* Refuses a column of @p names (@p cnt) that the engine writes. */
static int not_engine(red_loader_t *ld, const red_yaml_node_t *n,
                      const char *what, char *const *names, size_t cnt,
                      const char *engine)
{
        for (size_t i = 0; i < cnt; i++) {
                if (!strcmp(names[i], "created_at") ||
                    (engine && !strcmp(names[i], engine))) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_get(n, "columns"),
                                              "%s: column %s is written by "
                                              "the engine",
                                              what, names[i]);
                }
        }
        return 0;
}

/* An id_column: a name no other column of the table has. */
static int id_column_of(red_loader_t *ld, const red_yaml_node_t *n,
                        const char *what, const char *const *taken,
                        size_t taken_cnt, char **out)
{
        const red_yaml_node_t *v = red_yaml_get(n, "id_column");
        int r;

        if (!v) {
                return 0;
        }
        if ((r = red_contract_load_ident(ld, v, what, 63, out))) {
                return r;
        }
        for (size_t i = 0; i < taken_cnt; i++) {
                if (taken[i] && !strcmp(taken[i], *out)) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: id_column %s is already "
                                              "a column of the table",
                                              what, *out);
                }
        }
        return 0;
}

/* The state's own table: the key and the columns, by what they hold. */
static int main_table(red_loader_t *ld, const red_yaml_node_t *n,
                      red_state_t *s)
{
        size_t cnt = s->column_cnt + 1;
        const char **cols = calloc(cnt, sizeof(*cols));
        red_sqlt_class_t *classes = calloc(cnt, sizeof(*classes));
        bool *integral = calloc(cnt, sizeof(*integral));
        const char *engine[] = {s->deleted_column ? s->deleted_column
                                                  : "created_at",
                                ENGINE_COLS};
        char what[96];
        int r = -ENOMEM;

        snprintf(what, sizeof(what), "state %s", s->name);
        if (cols && classes && integral) {
                cols[0] = s->key_column;
                classes[0] = red_tabledef_field_class(
                        ld->c->slot_types[s->key_slot]);
                for (size_t i = 0; i < s->column_cnt; i++) {
                        cols[i + 1] = s->columns[i].name;
                        classes[i + 1] =
                                red_tabledef_field_class(s->columns[i].type);
                }
                for (size_t i = 0; i < cnt; i++) {
                        integral[i] = classes[i] == RED_SQLT_INTEGER;
                }
                if (!(r = shape_of(ld, n, what, &s->coltypes, &s->coltype_cnt,
                                   &s->indexes, &s->index_cnt))) {
                        r = red_contract_load_table_check(
                                ld, n, what, s->coltypes, s->coltype_cnt,
                                s->indexes, s->index_cnt, cols, classes,
                                integral, cnt, engine,
                                sizeof(engine) / sizeof(*engine));
                }
        }
        free(cols);
        free(classes);
        free(integral);
        return r;
}

/* A list table: the key, the listed members (text), created_at. */
static int list_table(red_loader_t *ld, const red_yaml_node_t *n,
                      const red_state_t *s, red_state_list_t *l)
{
        size_t cnt = l->column_cnt;
        const char **taken = calloc(cnt + 3, sizeof(*taken));
        red_sqlt_class_t *classes = calloc(cnt + 1, sizeof(*classes));
        bool *integral = calloc(cnt + 1, sizeof(*integral));
        const char *engine[] = {s->key_column, "created_at", NULL};
        char what[128];
        int r = -ENOMEM;

        snprintf(what, sizeof(what), "state %s list %s", s->name, l->table);
        if (taken && classes && integral &&
            !(r = not_engine(ld, n, what, l->columns, cnt, NULL))) {
                for (size_t i = 0; i < cnt; i++) {
                        taken[i] = l->columns[i];
                        classes[i] = RED_SQLT_TEXT;
                }
                taken[cnt] = engine[0];
                taken[cnt + 1] = engine[1];
                r = id_column_of(ld, n, what, taken, cnt + 2, &l->id_column);
                engine[2] = l->id_column;
        }
        if (!r && !(r = shape_of(ld, n, what, &l->coltypes, &l->coltype_cnt,
                                 &l->indexes, &l->index_cnt))) {
                r = red_contract_load_table_check(
                        ld, n, what, l->coltypes, l->coltype_cnt, l->indexes,
                        l->index_cnt, (const char *const *)l->columns, classes,
                        integral, cnt, engine, l->id_column ? 3 : 2);
        }
        free(taken);
        free(classes);
        free(integral);
        return r;
}

/* The history: a raw sink's table, with an id_column if asked. */
static int history_table(red_loader_t *ld, const red_yaml_node_t *n,
                         const red_state_t *s, red_raw_t *h)
{
        size_t cnt = h->column_cnt;
        const char **taken = calloc(cnt + 3, sizeof(*taken));
        char what[96];
        int r = -ENOMEM;

        snprintf(what, sizeof(what), "state %s history", s->name);
        if (taken) {
                for (size_t i = 0; i < cnt; i++) {
                        taken[i] = h->columns[i].name;
                }
                if (!(r = not_engine(ld, n, what, (char *const *)taken, cnt,
                                     h->time_column))) {
                        taken[cnt] = h->time_column;
                        taken[cnt + 1] = "created_at";
                        r = id_column_of(ld, n, what, taken, cnt + 2,
                                         &h->id_column);
                }
        }
        free(taken);
        if (!r && !(r = shape_of(ld, n, what, &h->coltypes, &h->coltype_cnt,
                                 &h->indexes, &h->index_cnt))) {
                r = red_contract_load_raw_table_check(ld, n, what, h);
        }
        return r;
}

int red_contract_load_state_tables(red_loader_t *ld, const red_yaml_node_t *n,
                                   red_state_t *s)
{
        const red_yaml_node_t *v;
        int r;

        if ((r = main_table(ld, n, s))) {
                return r;
        }
        v = red_yaml_get(n, "lists");
        for (size_t i = 0; i < s->list_cnt; i++) {
                if ((r = list_table(ld, red_yaml_item(v, i), s,
                                    &s->lists[i]))) {
                        return r;
                }
        }
        if (s->history >= 0 && (v = red_yaml_get(n, "history"))) {
                return history_table(ld, v, s, &ld->c->raws[s->history]);
        }
        return 0;
}
