/* red_contract_state - a contract's state sinks: one row per key. */
#include "red_contract_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * state: comes after raw, because a state sink's history rows are a raw
 * sink of their own (appended to c->raws, so the raw writer, partitions,
 * retention and `reduce` treat them like any other raw rows).
 */

/* The columns the engine writes into every state table itself. */
static const char *const engine_columns[] = {
        "state_times", "state_status", "state_partition",
        "revision",    "created_at",   "updated_at",
        NULL};

static bool engine_column(const char *name)
{
        for (const char *const *e = engine_columns; *e; e++) {
                if (!strcmp(*e, name)) {
                        return true;
                }
        }
        return false;
}

/* The index of column @p name in @p s, or -1. */
static int column_index(const red_state_t *s, const char *name)
{
        for (size_t i = 0; i < s->column_cnt; i++) {
                if (s->columns[i].name && !strcmp(s->columns[i].name, name)) {
                        return (int)i;
                }
        }
        return -1;
}

/* --- columns ------------------------------------------------------------- */

/* The kinds of @p s that declare field @p slot. */
static uint64_t kinds_with(const red_contract_t *c, uint64_t on, int slot)
{
        uint64_t m = 0;

        for (size_t k = 0; k < c->kind_cnt; k++) {
                const red_kind_t *kind = &c->kinds[k];
                if (!(on & (UINT64_C(1) << kind->index))) {
                        continue;
                }
                for (size_t f = 0; f < kind->field_cnt; f++) {
                        if (kind->fields[f].slot == slot) {
                                m |= UINT64_C(1) << kind->index;
                        }
                }
        }
        return m;
}

/* "field" or "field.member.member" or "$time" into the column's source. */
static int column_source(red_loader_t *ld, const red_yaml_node_t *v,
                         const char *what, red_state_col_t *col)
{
        const char *src;
        char *copy, *save = NULL, *part;
        int r = 0;

        if (red_yaml_to_str(v, what, &src, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!strcmp(src, "$time")) {
                col->slot = RED_STATE_TIME;
                col->type = RED_FT_TIMESTAMP;
                return 0;
        }
        if (!(copy = strdup(src))) {
                return -ENOMEM;
        }
        part = strtok_r(copy, ".", &save);
        col->slot = part ? red_contract_slot(ld->c, part) : -1;
        if (col->slot < 0) {
                r = red_yaml_error(ld->errstr, ld->size, v,
                                   "%s: unknown field \"%s\" (a field of the "
                                   "contract's events, optionally with "
                                   ".member of an object field, or $time)",
                                   what, part ? part : src);
                goto out;
        }
        col->type = ld->c->slot_types[col->slot];
        while ((part = strtok_r(NULL, ".", &save))) {
                char **np;
                if (col->type != RED_FT_OBJECT && col->path_cnt == 0) {
                        r = red_yaml_error(
                                ld->errstr, ld->size, v,
                                "%s: %s is a %s field: only object "
                                "fields have members",
                                what, ld->c->slot_names[col->slot],
                                red_contract_field_type_name(col->type));
                        goto out;
                }
                np = realloc(col->path, (col->path_cnt + 1) * sizeof(*np));
                if (!np) {
                        r = -ENOMEM;
                        goto out;
                }
                col->path = np;
                if (!(np[col->path_cnt] = strdup(part))) {
                        r = -ENOMEM;
                        goto out;
                }
                col->path_cnt++;
        }
        if (col->path_cnt) {
                col->type = RED_FT_NONE; /* any JSON, unless type: says */
        }
out:
        free(copy);
        return r;
}

/* --- text_of -------------------------------------------------------------
 */

/* One part of a text_of list: "column", {items: column, members: [m, ...]}
 * or {strings: column}. Columns are resolved by text_resolve(). */
static int text_part(red_loader_t *ld, const red_yaml_node_t *n,
                     const char *what, red_text_part_t *p)
{
        static const char *const keys[] = {"items", "members", "strings", NULL};
        const red_yaml_node_t *items, *members, *strings;
        int r;

        if (red_yaml_kind(n) == RED_YAML_SCALAR) {
                p->kind = RED_TEXT_VALUE;
                return red_contract_load_str(ld, n, what, &p->name);
        }
        if (red_yaml_kind(n) != RED_YAML_MAP) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: a part is a column, {items: "
                                      "column, members: [...]} or {strings: "
                                      "column}",
                                      what);
        }
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        items = red_yaml_get(n, "items");
        members = red_yaml_get(n, "members");
        strings = red_yaml_get(n, "strings");
        if (strings && !items && !members) {
                p->kind = RED_TEXT_STRINGS;
                return red_contract_load_str(ld, strings, what, &p->name);
        }
        if (!items || !members || strings) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: a part is a column, {items: "
                                      "column, members: [...]} or {strings: "
                                      "column}",
                                      what);
        }
        p->kind = RED_TEXT_ITEMS;
        if ((r = red_contract_load_str(ld, items, what, &p->name)) ||
            (r = red_contract_load_strlist(ld, members, what, &p->members,
                                           &p->member_cnt))) {
                return r;
        }
        if (!p->member_cnt) {
                return red_yaml_error(ld->errstr, ld->size, members,
                                      "%s: members needs at least one "
                                      "member",
                                      what);
        }
        return 0;
}

/* text_of: [part, ...] into @p col. */
static int text_of(red_loader_t *ld, const red_yaml_node_t *v, const char *what,
                   red_state_col_t *col)
{
        int r;

        if (red_yaml_kind(v) != RED_YAML_SEQ || !red_yaml_size(v)) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: text_of needs a list of parts "
                                      "(columns, {items: column, members: "
                                      "[...]}, {strings: column})",
                                      what);
        }
        col->slot = -1;
        col->type = RED_FT_STRING;
        col->parts = calloc(red_yaml_size(v), sizeof(*col->parts));
        if (!col->parts) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                col->parts[i].column = -1;
                col->part_cnt++;
                if ((r = text_part(ld, red_yaml_item(v, i), what,
                                   &col->parts[i]))) {
                        return r;
                }
        }
        return 0;
}

/* The columns of every text_of column's parts, once all are declared. */
static int text_resolve(red_loader_t *ld, const red_yaml_node_t *n,
                        red_state_t *s)
{
        for (size_t i = 0; i < s->column_cnt; i++) {
                red_state_col_t *col = &s->columns[i];
                const red_yaml_node_t *at =
                        red_yaml_get(red_yaml_value(n, i), "text_of");
                char what[160];

                if (col->rule != RED_RULE_TEXT) {
                        continue;
                }
                snprintf(what, sizeof(what), "state %s column %s text_of",
                         s->name, col->name);
                for (size_t k = 0; k < col->part_cnt; k++) {
                        red_text_part_t *p = &col->parts[k];
                        const red_yaml_node_t *pn = red_yaml_item(at, k);
                        const red_state_col_t *src;
                        red_field_type_t t;
                        bool ok;

                        p->column = column_index(s, p->name);
                        if (p->column < 0) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, pn,
                                        "%s: \"%s\" is not a column of the "
                                        "state",
                                        what, p->name);
                        }
                        src = &s->columns[p->column];
                        s->columns[p->column].in_text = true;
                        if (src->rule == RED_RULE_TEXT) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, pn,
                                        "%s: %s is a text_of column (a text "
                                        "is made of columns filled by "
                                        "events)",
                                        what, p->name);
                        }
                        t = src->type;
                        ok = p->kind == RED_TEXT_VALUE
                                     ? t == RED_FT_STRING || t == RED_FT_UUID
                             : p->kind == RED_TEXT_ITEMS ? t == RED_FT_ARRAY
                                                         : t == RED_FT_OBJECT;
                        if (!ok) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, pn,
                                        "%s: %s holds %s (a part names a "
                                        "string or uuid column, {items: ...} "
                                        "an array column, {strings: ...} an "
                                        "object column)",
                                        what, p->name,
                                        t ? red_contract_field_type_name(t)
                                          : "any JSON");
                        }
                }
        }
        return 0;
}

/* {latest|first|max: source, on: kinds, type: t} | {count: kinds} |
 * {merge: object field} | {text_of: [part, ...]}. */
static int column_of(red_loader_t *ld, const red_state_t *s,
                     const red_yaml_node_t *key, const red_yaml_node_t *n,
                     red_state_col_t *col)
{
        static const char *const keys[] = {"latest", "first", "max",
                                           "count",  "merge", "text_of",
                                           "on",     "type",  NULL};
        static const char *const rules[] = {"latest", "first", "max",
                                            "count",  "merge", "text_of"};
        const red_yaml_node_t *v = NULL, *t;
        char what[160];
        int r, found = 0;

        if ((r = red_contract_load_ident(ld, key, "state column", 63,
                                         &col->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "state %s column %s", s->name, col->name);
        if (engine_column(col->name) || !strcmp(col->name, s->key_column) ||
            (s->deleted_column && !strcmp(col->name, s->deleted_column))) {
                return red_yaml_error(ld->errstr, ld->size, key,
                                      "%s: written by the engine (the key, "
                                      "the delete column, or one of "
                                      "state_times, state_status, "
                                      "state_partition, revision, "
                                      "created_at, updated_at)",
                                      what);
        }
        if (column_index(s, col->name) !=
            (int)(col - s->columns)) { /* an earlier one has the name */
                return red_yaml_error(ld->errstr, ld->size, key,
                                      "%s: declared twice", what);
        }
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        for (int i = 0; i < 6; i++) {
                const red_yaml_node_t *x = red_yaml_get(n, rules[i]);
                if (x) {
                        v = x;
                        col->rule = (red_rule_t)i;
                        found++;
                }
        }
        if (found != 1) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: exactly one rule is needed "
                                      "(allowed: latest, first, max, count, "
                                      "merge, text_of)",
                                      what);
        }
        col->on = s->on;
        if (col->rule == RED_RULE_TEXT) {
                if ((t = red_yaml_get(n, "on")) ||
                    (t = red_yaml_get(n, "type"))) {
                        return red_yaml_error(ld->errstr, ld->size, t,
                                              "%s: text_of takes neither on "
                                              "nor type (the text follows "
                                              "its columns, a string)",
                                              what);
                }
                return text_of(ld, v, what, col);
        }
        if (col->rule == RED_RULE_COUNT) {
                col->slot = -1;
                col->type = RED_FT_INTEGER;
                if ((r = red_contract_load_kinds(ld, v, what, &col->on))) {
                        return r;
                }
        } else if ((r = column_source(ld, v, what, col))) {
                return r;
        }
        if ((t = red_yaml_get(n, "on")) &&
            (r = red_contract_load_kinds(ld, t, what, &col->on))) {
                return r;
        }
        if ((t = red_yaml_get(n, "type"))) {
                const char *ts;
                bool ok = false;
                if (!col->path_cnt) {
                        return red_yaml_error(ld->errstr, ld->size, t,
                                              "%s: type applies to members "
                                              "of object fields (a field has "
                                              "its own type)",
                                              what);
                }
                if (red_yaml_to_str(t, what, &ts, ld->errstr, ld->size)) {
                        return -EINVAL;
                }
                for (int k = RED_FT_STRING; k <= RED_FT_ARRAY && !ok; k++) {
                        if (k != RED_FT_UUID && k != RED_FT_TIMESTAMP &&
                            !strcmp(ts, red_contract_field_type_name(k))) {
                                col->type = (red_field_type_t)k;
                                ok = true;
                        }
                }
                if (!ok) {
                        return red_yaml_error(ld->errstr, ld->size, t,
                                              "%s: unknown type \"%s\" "
                                              "(allowed: string, integer, "
                                              "number, boolean, object, "
                                              "array)",
                                              what, ts);
                }
        }
        if (col->slot >= 0) {
                col->on &= kinds_with(ld->c, s->on, col->slot);
        }
        col->on &= s->on;
        if (!col->on) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: no event kind of the state's "
                                      "\"on\" fills it",
                                      what);
        }
        if (col->rule == RED_RULE_MAX && col->type != RED_FT_INTEGER &&
            col->type != RED_FT_NUMBER && col->type != RED_FT_TIMESTAMP &&
            col->type != RED_FT_STRING) {
                return red_yaml_error(
                        ld->errstr, ld->size, v,
                        "%s: max needs an integer, number, "
                        "timestamp or string value, not %s",
                        what,
                        col->type ? red_contract_field_type_name(col->type)
                                  : "any JSON");
        }
        if (col->rule == RED_RULE_MERGE && col->type != RED_FT_OBJECT) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: merge needs an object value", what);
        }
        return 0;
}

static int columns_of(red_loader_t *ld, const red_yaml_node_t *n,
                      red_state_t *s)
{
        char what[96];
        int r;

        snprintf(what, sizeof(what), "state %s columns", s->name);
        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        s->columns = calloc(red_yaml_size(n) + 1, sizeof(*s->columns));
        if (!s->columns) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                s->column_cnt++;
                if ((r = column_of(ld, s, red_yaml_key(n, i),
                                   red_yaml_value(n, i), &s->columns[i]))) {
                        return r;
                }
        }
        return text_resolve(ld, n, s);
}

/* --- lists ----------------------------------------------------------- */

static int list_of(red_loader_t *ld, const red_yaml_node_t *n,
                   const red_state_t *s, red_state_list_t *l)
{
        static const char *const keys[] = {
                "table",        "from",    "columns", "id_column",
                "column_types", "indexes", NULL};
        const red_yaml_node_t *v;
        const char *from;
        char what[128];
        int r;

        snprintf(what, sizeof(what), "state %s lists", s->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size)) ||
            !(v = red_contract_load_required(ld, n, what, "table", "", &r)) ||
            (r = red_contract_load_ident(ld, v, what, TABLE_NAME_MAX,
                                         &l->table))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "from",
                                             " (an array column)", &r))) {
                return r;
        }
        if (red_yaml_to_str(v, what, &from, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        l->column = column_index(s, from);
        if (l->column < 0 || s->columns[l->column].type != RED_FT_ARRAY) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: \"%s\" is not an array column of "
                                      "the state",
                                      what, from);
        }
        if (!(v = red_contract_load_required(ld, n, what, "columns",
                                             " (column: item member)", &r))) {
                return r;
        }
        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!red_yaml_size(v)) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: at least one column is needed",
                                      what);
        }
        l->columns = calloc(red_yaml_size(v) + 1, sizeof(char *));
        l->members = calloc(red_yaml_size(v) + 1, sizeof(char *));
        if (!l->columns || !l->members) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                l->column_cnt++;
                if ((r = red_contract_load_ident(ld, red_yaml_key(v, i), what,
                                                 63, &l->columns[i])) ||
                    (r = red_contract_load_str(ld, red_yaml_value(v, i), what,
                                               &l->members[i]))) {
                        return r;
                }
                if (!strcmp(l->columns[i], s->key_column)) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: %s is the key column, "
                                              "written by the engine",
                                              what, s->key_column);
                }
        }
        return 0;
}

static int lists_of(red_loader_t *ld, const red_yaml_node_t *n, red_state_t *s)
{
        int r;

        if (red_yaml_expect(n, RED_YAML_SEQ, "state lists", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        s->lists = calloc(red_yaml_size(n) + 1, sizeof(*s->lists));
        if (!s->lists) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                s->list_cnt++;
                if ((r = list_of(ld, red_yaml_item(n, i), s, &s->lists[i]))) {
                        return r;
                }
        }
        return 0;
}

/* --- staleness -------------------------------------------------------- */

/* A column of @p s named by @p v, of one of the allowed types. */
static int column_ref(red_loader_t *ld, const red_yaml_node_t *v,
                      const char *what, const red_state_t *s, bool time,
                      int *out)
{
        const char *name;
        int i;
        red_field_type_t t;

        if (red_yaml_to_str(v, what, &name, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if ((i = column_index(s, name)) < 0) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: \"%s\" is not a column of the "
                                      "state",
                                      what, name);
        }
        t = s->columns[i].type;
        if (time ? t != RED_FT_TIMESTAMP
                 : (t != RED_FT_INTEGER && t != RED_FT_NUMBER)) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: column %s must hold %s", what, name,
                                      time ? "a timestamp"
                                           : "a number (seconds)");
        }
        *out = i;
        return 0;
}

static int staleness_of(red_loader_t *ld, const red_yaml_node_t *n,
                        red_state_t *s)
{
        static const char *const keys[] = {
                "time",  "interval", "default_interval", "factor", "status",
                "value", NULL};
        const red_yaml_node_t *v;
        red_staleness_t *st;
        const char *name;
        char what[96];
        int r;

        snprintf(what, sizeof(what), "state %s staleness", s->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(st = s->stale = calloc(1, sizeof(*st)))) {
                return -ENOMEM;
        }
        st->interval_col = -1;
        st->factor = 3;
        st->default_interval_us = 30 * RED_TIME_US_PER_SEC;
        if (!(v = red_contract_load_required(ld, n, what, "time",
                                             " (timestamp columns)", &r))) {
                return r;
        }
        if (red_yaml_kind(v) == RED_YAML_SCALAR) {
                if (!(st->time_cols = calloc(1, sizeof(int)))) {
                        return -ENOMEM;
                }
                st->time_cnt = 1;
                if ((r = column_ref(ld, v, what, s, true, st->time_cols))) {
                        return r;
                }
        } else {
                if (red_yaml_expect(v, RED_YAML_SEQ, what, ld->errstr,
                                    ld->size)) {
                        return -EINVAL;
                }
                if (!(st->time_cols =
                              calloc(red_yaml_size(v) + 1, sizeof(int)))) {
                        return -ENOMEM;
                }
                for (size_t i = 0; i < red_yaml_size(v); i++) {
                        if ((r = column_ref(ld, red_yaml_item(v, i), what, s,
                                            true, &st->time_cols[i]))) {
                                return r;
                        }
                        st->time_cnt++;
                }
        }
        if ((v = red_yaml_get(n, "interval")) &&
            (r = column_ref(ld, v, what, s, false, &st->interval_col))) {
                return r;
        }
        if ((v = red_yaml_get(n, "default_interval")) &&
            ((r = red_contract_load_duration(ld, v, what,
                                             &st->default_interval_us)) ||
             st->default_interval_us <= 0)) {
                return r ? r
                         : red_yaml_error(ld->errstr, ld->size, v,
                                          "%s: default_interval must be "
                                          "positive",
                                          what);
        }
        if ((v = red_yaml_get(n, "factor")) &&
            ((r = red_yaml_to_double(v, what, &st->factor, ld->errstr,
                                     ld->size)) ||
             st->factor <= 0 || st->factor > 1000)) {
                return r ? r
                         : red_yaml_error(ld->errstr, ld->size, v,
                                          "%s: factor must be in (0, 1000]",
                                          what);
        }
        if (!(v = red_contract_load_required(ld, n, what, "status",
                                             " (a string column)", &r))) {
                return r;
        }
        if (red_yaml_to_str(v, what, &name, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if ((st->status_col = column_index(s, name)) < 0 ||
            s->columns[st->status_col].type != RED_FT_STRING) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: \"%s\" is not a string column of "
                                      "the state",
                                      what, name);
        }
        if (!(v = red_contract_load_required(ld, n, what, "value", "", &r))) {
                return r;
        }
        return red_contract_load_str(ld, v, what, &st->value);
}

/* --- history, delete, publish -------------------------------------------- */

/* history: a raw sink of the state's events, in one table (every input
 * topic that carries one of its kinds goes there). */
static int history_of(red_loader_t *ld, const red_yaml_node_t *n,
                      red_state_t *s)
{
        static const char *const keys[] = {
                "table",     "on",      "time_column", "partition",
                "retention", "columns", "id_column",   "column_types",
                "indexes",   NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        red_raw_t *raws, *h;
        char what[96];
        int r;

        snprintf(what, sizeof(what), "state %s history", s->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        raws = realloc(c->raws, (c->raw_cnt + 2) * sizeof(*raws));
        if (!raws) {
                return -ENOMEM;
        }
        c->raws = raws;
        h = &c->raws[c->raw_cnt];
        memset(h, 0, 2 * sizeof(*h));
        h->index = (int)c->raw_cnt;
        s->history = h->index;
        c->raw_cnt++;
        if (asprintf(&h->name, "%s_history", s->name) < 0) {
                h->name = NULL;
                return -ENOMEM;
        }
        if (!(v = red_contract_load_required(ld, n, what, "on", "", &r)) ||
            (r = red_contract_load_kinds(ld, v, what, &h->on))) {
                return r;
        }
        h->topics = calloc(c->input_cnt + 1, sizeof(char *));
        h->tables = calloc(c->input_cnt + 1, sizeof(char *));
        if (!h->topics || !h->tables) {
                return -ENOMEM;
        }
        if (!(v = red_contract_load_required(ld, n, what, "table", "", &r))) {
                return r;
        }
        for (size_t i = 0; i < c->input_cnt; i++) {
                if (!(c->inputs[i].kinds & h->on)) {
                        continue;
                }
                h->table_cnt++;
                if (!(h->topics[h->table_cnt - 1] =
                              strdup(c->inputs[i].topic)) ||
                    (r = red_contract_load_ident(
                             ld, v, what, TABLE_NAME_MAX,
                             &h->tables[h->table_cnt - 1]))) {
                        return r ? r : -ENOMEM;
                }
        }
        if (!h->table_cnt) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: no input topic carries its kinds",
                                      what);
        }
        if ((v = red_yaml_get(n, "time_column"))) {
                r = red_contract_load_ident(ld, v, what, 63, &h->time_column);
        } else if (!(h->time_column = strdup("timestamp"))) {
                r = -ENOMEM;
        }
        if (r) {
                return r;
        }
        h->partition = RED_PART_DAILY;
        if (((v = red_yaml_get(n, "partition")) &&
             (r = red_contract_load_partition(ld, v, what, &h->partition))) ||
            ((v = red_yaml_get(n, "retention")) &&
             (r = red_contract_load_duration(ld, v, what, &h->retention_us)))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, what, "columns",
                                             " (column: field)", &r))) {
                return r;
        }
        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!(h->columns = calloc(red_yaml_size(v) + 1, sizeof(*h->columns)))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_raw_column_t *col = &h->columns[h->column_cnt++];
                if ((r = red_contract_load_ident(ld, red_yaml_key(v, i), what,
                                                 63, &col->name)) ||
                    (r = red_contract_load_slot(ld, red_yaml_value(v, i), what,
                                                &col->slot))) {
                        return r;
                }
        }
        return 0;
}

static int delete_of(red_loader_t *ld, const red_yaml_node_t *n, red_state_t *s)
{
        static const char *const keys[] = {"on", "column", NULL};
        const red_yaml_node_t *v;
        char what[96];
        int r;

        snprintf(what, sizeof(what), "state %s delete", s->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size)) ||
            !(v = red_contract_load_required(ld, n, what, "on", "", &r)) ||
            (r = red_contract_load_kinds(ld, v, what, &s->delete_on))) {
                return r;
        }
        if ((v = red_yaml_get(n, "column"))) {
                return red_contract_load_ident(ld, v, what, 63,
                                               &s->deleted_column);
        }
        return (s->deleted_column = strdup("deleted_at")) ? 0 : -ENOMEM;
}

static int publish_of(red_loader_t *ld, const red_yaml_node_t *n,
                      red_state_t *s)
{
        static const char *const keys[] = {"created", "deleted", "status",
                                           "start", NULL};
        red_publish_t *outs[] = {&s->on_created, &s->on_deleted, &s->on_status,
                                 &s->on_start};
        char what[96];
        int r;

        snprintf(what, sizeof(what), "state %s publish", s->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        for (int i = 0; i < 4; i++) {
                const red_yaml_node_t *v = red_yaml_get(n, keys[i]);
                if (v &&
                    (r = red_contract_load_publish(ld, v, what, outs[i]))) {
                        return r;
                }
        }
        if (s->on_status.topic && !s->stale) {
                return red_yaml_error(
                        ld->errstr, ld->size, red_yaml_get(n, "status"),
                        "%s: status needs a staleness rule", what);
        }
        return 0;
}

/* --- a state sink --------------------------------------------------------- */

/* The key: a required string or uuid field of every kind applied. */
static int key_of(red_loader_t *ld, const red_yaml_node_t *v, const char *what,
                  red_state_t *s)
{
        const red_contract_t *c = ld->c;
        red_field_type_t t;
        int r;

        if ((r = red_contract_load_slot(ld, v, what, &s->key_slot)) ||
            (r = red_contract_load_ident(ld, v, what, 63, &s->key_column))) {
                return r;
        }
        t = c->slot_types[s->key_slot];
        if (t != RED_FT_STRING && t != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: the key %s is a %s (allowed: "
                                      "string, uuid)",
                                      what, s->key_column,
                                      red_contract_field_type_name(t));
        }
        for (size_t k = 0; k < c->kind_cnt; k++) {
                const red_kind_t *kind = &c->kinds[k];
                bool required = false;

                if (!(s->on & (UINT64_C(1) << kind->index))) {
                        continue;
                }
                for (size_t f = 0; f < kind->field_cnt; f++) {
                        required |= kind->fields[f].slot == s->key_slot &&
                                    kind->fields[f].required;
                }
                if (!required) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: the key %s must be "
                                              "required in event %s",
                                              what, s->key_column, kind->name);
                }
        }
        return 0;
}

static int state_of(red_loader_t *ld, const red_yaml_node_t *n, red_state_t *s)
{
        static const char *const keys[] = {
                "name",    "table",        "key",     "on",        "create",
                "delete",  "columns",      "lists",   "staleness", "history",
                "publish", "column_types", "indexes", NULL};
        const red_yaml_node_t *v;
        char what[96];
        int r;

        s->key_slot = -1;
        s->history = -1;
        if ((r = red_yaml_check_keys(n, "state", keys, ld->errstr, ld->size)) ||
            !(v = red_contract_load_required(ld, n, "state", "name", "", &r)) ||
            (r = red_contract_load_ident(ld, v, "state name", 63, &s->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "state %s", s->name);
        if (!(v = red_contract_load_required(ld, n, what, "table", "", &r)) ||
            (r = red_contract_load_ident(ld, v, what, TABLE_NAME_MAX,
                                         &s->table)) ||
            !(v = red_contract_load_required(ld, n, what, "on", "", &r)) ||
            (r = red_contract_load_kinds(ld, v, what, &s->on)) ||
            !(v = red_contract_load_required(ld, n, what, "key", " (a field)",
                                             &r)) ||
            (r = key_of(ld, v, what, s))) {
                return r;
        }
        s->create = s->on;
        if ((v = red_yaml_get(n, "create")) &&
            (r = red_contract_load_kinds(ld, v, what, &s->create))) {
                return r;
        }
        if ((v = red_yaml_get(n, "delete")) && (r = delete_of(ld, v, s))) {
                return r;
        }
        if ((s->create | s->delete_on) & ~s->on) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: create and delete kinds must be "
                                      "among its \"on\" kinds",
                                      what);
        }
        if (s->create & s->delete_on) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: a kind cannot both create and "
                                      "delete rows",
                                      what);
        }
        if (!(v = red_contract_load_required(ld, n, what, "columns",
                                             " (column: {rule: source})",
                                             &r)) ||
            (r = columns_of(ld, v, s))) {
                return r;
        }
        if (((v = red_yaml_get(n, "lists")) && (r = lists_of(ld, v, s))) ||
            ((v = red_yaml_get(n, "staleness")) &&
             (r = staleness_of(ld, v, s))) ||
            ((v = red_yaml_get(n, "history")) && (r = history_of(ld, v, s))) ||
            ((v = red_yaml_get(n, "publish")) && (r = publish_of(ld, v, s)))) {
                return r;
        }
        return red_contract_load_state_tables(ld, n, s);
}

int red_contract_load_states(red_loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_SEQ, "state", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        c->states = calloc(red_yaml_size(n) + 1, sizeof(*c->states));
        if (!c->states) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->states[i].index = (int)i;
                c->state_cnt++;
                if ((r = state_of(ld, red_yaml_item(n, i), &c->states[i]))) {
                        return r;
                }
                for (size_t k = 0; k < i; k++) {
                        if (!strcmp(c->states[k].table, c->states[i].table) ||
                            !strcmp(c->states[k].name, c->states[i].name)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_item(n, i),
                                        "state %s: its name and table must "
                                        "differ from state %s's",
                                        c->states[i].name, c->states[k].name);
                        }
                }
        }
        return 0;
}

void red_contract_load_free_states(red_state_t *s, size_t cnt)
{
        for (size_t i = 0; s && i < cnt; i++) {
                red_state_t *x = &s[i];

                for (size_t k = 0; x->columns && k < x->column_cnt; k++) {
                        free(x->columns[k].name);
                        red_contract_load_strlist_free(x->columns[k].path,
                                                       x->columns[k].path_cnt);
                        for (size_t p = 0; p < x->columns[k].part_cnt; p++) {
                                red_text_part_t *tp = &x->columns[k].parts[p];
                                free(tp->name);
                                red_contract_load_strlist_free(tp->members,
                                                               tp->member_cnt);
                        }
                        free(x->columns[k].parts);
                }
                free(x->columns);
                for (size_t l = 0; x->lists && l < x->list_cnt; l++) {
                        free(x->lists[l].table);
                        red_contract_load_strlist_free(x->lists[l].columns,
                                                       x->lists[l].column_cnt);
                        red_contract_load_strlist_free(x->lists[l].members,
                                                       x->lists[l].column_cnt);
                        free(x->lists[l].id_column);
                        red_contract_load_free_coltypes(
                                x->lists[l].coltypes, x->lists[l].coltype_cnt);
                        red_contract_load_free_indexes(x->lists[l].indexes,
                                                       x->lists[l].index_cnt);
                }
                free(x->lists);
                if (x->stale) {
                        free(x->stale->time_cols);
                        free(x->stale->value);
                        free(x->stale);
                }
                red_publish_t *pubs[] = {&x->on_created, &x->on_deleted,
                                         &x->on_status, &x->on_start};
                for (int p = 0; p < 4; p++) {
                        free(pubs[p]->topic);
                        free(pubs[p]->event_type);
                }
                free(x->name);
                free(x->table);
                free(x->key_column);
                free(x->deleted_column);
                red_contract_load_free_coltypes(x->coltypes, x->coltype_cnt);
                red_contract_load_free_indexes(x->indexes, x->index_cnt);
        }
        free(s);
}
