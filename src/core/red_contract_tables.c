/* red_contract_tables - the keys that shape a sink's tables: column_types,
 * indexes, and retention and partitioning per window type. */
#include "red_contract_load.h"

#include "red_sqltype.h"
#include "red_tabledef.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The engine derives every table from the contract (red_tabledef.c);
 * these keys adjust what it derives. They are checked here, where errors
 * can point at the file, against the columns the table will have.
 */

/* --- column_types -------------------------------------------------------- */

/* column: TYPE, or column: {type: TYPE, not_null: BOOL, default: VALUE}. */
static int coltype_of(red_loader_t *ld, const red_yaml_node_t *key,
                      const red_yaml_node_t *v, const char *what,
                      red_coltype_t *ct)
{
        static const char *const keys[] = {"type", "not_null", "default", NULL};
        const red_yaml_node_t *tv = v, *dv;
        char canon[96];
        red_sqlt_class_t cls;
        int r;

        ct->not_null = -1;
        if ((r = red_contract_load_ident(ld, key, what, 63, &ct->column))) {
                return r;
        }
        if (red_yaml_kind(v) == RED_YAML_MAP) {
                if ((r = red_yaml_check_keys(v, what, keys, ld->errstr,
                                             ld->size))) {
                        return r;
                }
                tv = red_yaml_get(v, "type");
                if ((dv = red_yaml_get(v, "not_null"))) {
                        bool nn;
                        if ((r = red_yaml_to_bool(dv, what, &nn, ld->errstr,
                                                  ld->size))) {
                                return r;
                        }
                        ct->not_null = nn;
                }
        }
        if (tv) {
                const char *s;
                if ((r = red_yaml_to_str(tv, what, &s, ld->errstr, ld->size))) {
                        return r;
                }
                if (red_sqltype_parse(s, canon, sizeof(canon), &cls)) {
                        return red_yaml_error(ld->errstr, ld->size, tv,
                                              "%s: column %s: unknown SQL "
                                              "type \"%s\" (allowed: %s)",
                                              what, ct->column, s,
                                              red_sqltype_allowed());
                }
                if (!(ct->type = strdup(canon))) {
                        return -ENOMEM;
                }
        }
        if (red_yaml_kind(v) == RED_YAML_MAP &&
            (dv = red_yaml_get(v, "default"))) {
                /* the literal is checked against the column's type once
                 * the type is known (red_contract_load_table_check) */
                if (red_yaml_is_null(dv)) {
                        ct->no_default = true;
                        return 0;
                }
                if (red_yaml_kind(dv) == RED_YAML_MAP && !red_yaml_size(dv)) {
                        ct->def = strdup("{}");
                } else if (red_yaml_kind(dv) == RED_YAML_SEQ &&
                           !red_yaml_size(dv)) {
                        ct->def = strdup("[]");
                } else if (red_yaml_kind(dv) != RED_YAML_SCALAR ||
                           red_yaml_is_null(dv)) {
                        return red_yaml_error(ld->errstr, ld->size, dv,
                                              "%s: column %s: a default is "
                                              "a number, true, false, now, "
                                              "a text, {}, [] or null "
                                              "(none)",
                                              what, ct->column);
                } else {
                        ct->def = strdup(red_yaml_str(dv));
                }
                if (!ct->def) {
                        return -ENOMEM;
                }
        }
        return 0;
}

int red_contract_load_coltypes(red_loader_t *ld, const red_yaml_node_t *n,
                               const char *what, red_coltype_t **out,
                               size_t *cnt)
{
        int r;

        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!(*out = calloc(red_yaml_size(n) + 1, sizeof(**out)))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                (*cnt)++;
                if ((r = coltype_of(ld, red_yaml_key(n, i),
                                    red_yaml_value(n, i), what, &(*out)[i]))) {
                        return r;
                }
        }
        return 0;
}

void red_contract_load_free_coltypes(red_coltype_t *ct, size_t cnt)
{
        for (size_t i = 0; ct && i < cnt; i++) {
                free(ct[i].column);
                free(ct[i].type);
                free(ct[i].def);
        }
        free(ct);
}

/* --- indexes ------------------------------------------------------------- */

/* {name, columns: [...], using: btree|gin|brin|hash, where: not_null} */
static int index_of(red_loader_t *ld, const red_yaml_node_t *n,
                    const char *what, red_index_t *ix)
{
        static const char *const keys[] = {"name", "columns", "using", "where",
                                           NULL};
        static const char *const methods[] = {"btree", "gin", "brin", "hash",
                                              NULL};
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "name", "", &r)) ||
            (r = red_contract_load_ident(ld, v, what, 20, &ix->name))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "columns", "", &r)) ||
            (r = red_contract_load_strlist(ld, v, what, &ix->columns,
                                           &ix->column_cnt))) {
                return r;
        }
        if (!ix->column_cnt || ix->column_cnt > 8) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: index %s: between 1 and 8 columns",
                                      what, ix->name);
        }
        if ((v = red_yaml_get(n, "using"))) {
                if ((r = red_contract_load_str(ld, v, what, &ix->method))) {
                        return r;
                }
                for (r = 0; methods[r] && strcmp(methods[r], ix->method); r++) {
                }
                if (!methods[r]) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: index %s: unknown method "
                                              "\"%s\" (allowed: btree, gin, "
                                              "brin, hash)",
                                              what, ix->name, ix->method);
                }
        } else if (!(ix->method = strdup("btree"))) {
                return -ENOMEM;
        }
        if ((v = red_yaml_get(n, "where"))) {
                const char *s;
                if ((r = red_yaml_to_str(v, what, &s, ld->errstr, ld->size))) {
                        return r;
                }
                if (strcmp(s, "not_null")) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: index %s: where \"%s\" "
                                              "(allowed: not_null: rows "
                                              "whose columns are all set)",
                                              what, ix->name, s);
                }
                ix->not_null = true;
        }
        return 0;
}

int red_contract_load_indexes(red_loader_t *ld, const red_yaml_node_t *n,
                              const char *what, red_index_t **out, size_t *cnt)
{
        int r;

        if (red_yaml_expect(n, RED_YAML_SEQ, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!(*out = calloc(red_yaml_size(n) + 1, sizeof(**out)))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                (*cnt)++;
                if ((r = index_of(ld, red_yaml_item(n, i), what, &(*out)[i]))) {
                        return r;
                }
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp((*out)[i].name, (*out)[j].name)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_item(n, i),
                                        "%s: index %s is defined twice", what,
                                        (*out)[i].name);
                        }
                }
        }
        return 0;
}

void red_contract_load_free_indexes(red_index_t *ix, size_t cnt)
{
        for (size_t i = 0; ix && i < cnt; i++) {
                free(ix[i].name);
                red_contract_load_strlist_free(ix[i].columns, ix[i].column_cnt);
                free(ix[i].method);
        }
        free(ix);
}

/* --- checks against the table's columns --------------------------------- */

static bool in_list(const char *const *names, size_t cnt, const char *name)
{
        for (size_t i = 0; i < cnt; i++) {
                if (!strcmp(names[i], name)) {
                        return true;
                }
        }
        return false;
}

int red_contract_load_table_check(red_loader_t *ld, const red_yaml_node_t *sink,
                                  const char *what, red_coltype_t *ct,
                                  size_t ct_cnt, const red_index_t *ix,
                                  size_t ix_cnt, const char *const *cols,
                                  const red_sqlt_class_t *classes,
                                  const bool *integral, size_t cnt,
                                  const char *const *engine, size_t engine_cnt)
{
        const red_yaml_node_t *at = red_yaml_get(sink, "column_types");

        for (size_t i = 0; i < ct_cnt; i++) {
                red_sqlt_class_t cls;
                char canon[96], lit[160];
                size_t k;

                for (k = 0; k < cnt && strcmp(cols[k], ct[i].column); k++) {
                }
                if (k == cnt) {
                        return red_yaml_error(ld->errstr, ld->size, at,
                                              "%s: column_types: %s is not "
                                              "a column the contract "
                                              "defines",
                                              what, ct[i].column);
                }
                if (ct[i].type &&
                    (red_sqltype_parse(ct[i].type, canon, sizeof(canon),
                                       &cls) ||
                     !red_sqltype_fits(cls, classes[k], integral[k]))) {
                        return red_yaml_error(
                                ld->errstr, ld->size, at,
                                "%s: column_types: column %s "
                                "cannot be %s (it holds %s)",
                                what, ct[i].column, ct[i].type,
                                classes[k] == RED_SQLT_JSON   ? "JSON"
                                : classes[k] == RED_SQLT_TEXT ? "text"
                                                              : "numbers");
                }
                if (!ct[i].type) {
                        cls = classes[k];
                }
                if (ct[i].def) {
                        char *d;
                        bool empty = !strcmp(ct[i].def, "{}") ||
                                     !strcmp(ct[i].def, "[]");
                        if (red_sqltype_literal(ct[i].def, empty, cls, lit,
                                                sizeof(lit))) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, at,
                                        "%s: column_types: column %s: "
                                        "\"%s\" is no default for it",
                                        what, ct[i].column, ct[i].def);
                        }
                        if (!(d = strdup(lit))) {
                                return -ENOMEM;
                        }
                        free(ct[i].def);
                        ct[i].def = d;
                }
        }
        at = red_yaml_get(sink, "indexes");
        for (size_t i = 0; i < ix_cnt; i++) {
                for (size_t k = 0; k < ix[i].column_cnt; k++) {
                        if (!in_list(cols, cnt, ix[i].columns[k]) &&
                            !in_list(engine, engine_cnt, ix[i].columns[k])) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, at,
                                        "%s: index %s: no column %s", what,
                                        ix[i].name, ix[i].columns[k]);
                        }
                }
        }
        return 0;
}

/* --- per window type ----------------------------------------------------- */

/* Key @p i of mapping @p n as one of the aggregation's window types, or
 * -EINVAL naming @p key (the setting). */
static int window_key(red_loader_t *ld, const red_yaml_node_t *n, size_t i,
                      const char *what, const char *key, uint32_t windows,
                      red_window_type_t *wt)
{
        const char *name = red_yaml_str(red_yaml_key(n, i));

        if (red_window_type_parse(name, wt) || !(windows & (1u << *wt))) {
                return red_yaml_error(ld->errstr, ld->size, red_yaml_key(n, i),
                                      "%s: %s: \"%s\" is not one of the "
                                      "aggregation's windows",
                                      what, key, name);
        }
        return 0;
}

int red_contract_load_window_retention(red_loader_t *ld,
                                       const red_yaml_node_t *n,
                                       const char *what, uint32_t windows,
                                       int64_t *ret)
{
        red_window_type_t wt;
        int r;

        if (red_yaml_kind(n) == RED_YAML_SCALAR) {
                int64_t us;
                if ((r = red_contract_load_duration(ld, n, what, &us))) {
                        return r;
                }
                for (int w = 0; w < RED_WINDOW__CNT; w++) {
                        ret[w] = us;
                }
                return 0;
        }
        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                ret[w] = 0; /* a window type not named keeps its rows */
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                if ((r = window_key(ld, n, i, what, "retention", windows,
                                    &wt)) ||
                    (r = red_contract_load_duration(ld, red_yaml_value(n, i),
                                                    what, &ret[wt]))) {
                        return r;
                }
        }
        return 0;
}

int red_contract_load_window_partition(red_loader_t *ld,
                                       const red_yaml_node_t *n,
                                       const char *what, uint32_t windows,
                                       red_partition_t *gran)
{
        red_window_type_t wt;
        int r;

        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                gran[w] = RED_PART_MONTHLY;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                if ((r = window_key(ld, n, i, what, "partition", windows,
                                    &wt)) ||
                    (r = red_contract_load_partition(ld, red_yaml_value(n, i),
                                                     what, &gran[wt]))) {
                        return r;
                }
        }
        return 0;
}
