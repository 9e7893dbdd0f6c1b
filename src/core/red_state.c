/* red_state - state rows folded from events by column rules; no I/O. */
#include "red_state.h"

#include "red_json_dump.h"
#include "red_json_tree.h"
#include "red_map.h"
#include "red_state_text.h"
#include "red_time.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct red_state_table_s {
        const red_contract_t *c;
        const red_state_t *s;
        size_t max_rows;
        red_map_t *map; /* key -> row */
        red_state_row_t **rows;
        size_t row_cnt, row_cap;
        /* the batch */
        char **missing;
        size_t missing_cnt, missing_cap;
        red_map_t *missing_set;
        red_state_row_t **dirty;
        size_t dirty_cnt, dirty_cap;
        red_state_event_t *events;
        size_t event_cnt, event_cap;
        red_state_row_t **sorted; /* red_state_table_rows() */
        /* ',"<column>":' of every column and of the delete column, as
         * red_state_row_json() writes them: heads.data + head_at[i] up to
         * head_at[i + 1] */
        red_buf_t heads;
        size_t *head_at;
        red_buf_t scratch; /* a payload being rendered */
};

/* The namespace of the state events' ids (uuid v5). */
static const red_uuid_t state_ns = {{0x6a, 0x1f, 0x0e, 0x5c, 0x93, 0x2b, 0x4d,
                                     0x61, 0xa4, 0x07, 0x3e, 0x18, 0xc2, 0x55,
                                     0x9d, 0x70}};

/* --- rows ------------------------------------------------------------------
 */

static uint64_t key_hash(const char *key)
{
        return red_map_hash_bytes(key, strlen(key), 0x5157);
}

static bool row_eq(const void *item, const void *key)
{
        return !strcmp(((const red_state_row_t *)item)->key, key);
}

static void row_free(const red_state_t *s, red_state_row_t *row)
{
        if (!row) {
                return;
        }
        for (size_t i = 0; row->vals && i < s->column_cnt; i++) {
                json_decref(row->vals[i]);
        }
        free(row->vals);
        free(row->at);
        free(row->key);
        free(row->status);
        free(row);
}

static red_state_row_t *row_new(red_state_table_t *t, const char *key)
{
        const red_state_t *s = t->s;
        red_state_row_t *row = calloc(1, sizeof(*row));

        if (!row || !(row->key = strdup(key)) ||
            !(row->vals = calloc(s->column_cnt + 1, sizeof(*row->vals))) ||
            !(row->at = malloc((s->column_cnt + 1) * sizeof(*row->at)))) {
                row_free(s, row);
                return NULL;
        }
        for (size_t i = 0; i < s->column_cnt; i++) {
                row->at[i] = INT64_MIN;
        }
        row->alive_at = row->deleted_at = INT64_MIN;
        row->partition = -1;
        if (t->row_cnt == t->row_cap) {
                size_t ncap = t->row_cap ? t->row_cap * 2 : 64;
                red_state_row_t **nr = realloc(t->rows, ncap * sizeof(*nr));
                if (!nr) {
                        row_free(s, row);
                        return NULL;
                }
                t->rows = nr;
                t->row_cap = ncap;
        }
        if (red_map_insert(t->map, key_hash(key), row)) {
                row_free(s, row);
                return NULL;
        }
        t->rows[t->row_cnt++] = row;
        return row;
}

static red_state_row_t *row_find(const red_state_table_t *t, const char *key)
{
        return red_map_find(t->map, key_hash(key), row_eq, key);
}

red_state_table_t *red_state_table_new(const red_contract_t *c,
                                       const red_state_t *s, size_t max_rows)
{
        red_state_table_t *t = calloc(1, sizeof(*t));

        if (!t) {
                return NULL;
        }
        t->c = c;
        t->s = s;
        t->max_rows = max_rows;
        red_buf_init(&t->heads);
        red_buf_init(&t->scratch);
        if (!(t->map = red_map_new()) || !(t->missing_set = red_map_new()) ||
            !(t->head_at = malloc((s->column_cnt + 2) * sizeof(*t->head_at)))) {
                red_state_table_destroy(t);
                return NULL;
        }
        for (size_t i = 0; i <= s->column_cnt; i++) {
                const char *name = i < s->column_cnt ? s->columns[i].name
                                                     : s->deleted_column;
                t->head_at[i] = t->heads.len;
                if (name) {
                        red_buf_putc(&t->heads, ',');
                        red_buf_put_json_str(&t->heads, name, strlen(name));
                        red_buf_putc(&t->heads, ':');
                }
        }
        t->head_at[s->column_cnt + 1] = t->heads.len;
        if (t->heads.failed) {
                red_state_table_destroy(t);
                return NULL;
        }
        return t;
}

/* Column @p i's head (',"name":'); i == column_cnt: the delete column's. */
static void put_head(const red_state_table_t *t, size_t i, red_buf_t *out)
{
        red_buf_append(out, t->heads.data + t->head_at[i],
                       t->head_at[i + 1] - t->head_at[i]);
}

static void batch_clear(red_state_table_t *t)
{
        for (size_t i = 0; i < t->missing_cnt; i++) {
                free(t->missing[i]);
        }
        t->missing_cnt = 0;
        red_map_clear(t->missing_set);
        for (size_t i = 0; i < t->dirty_cnt; i++) {
                t->dirty[i]->dirty = false;
                t->dirty[i]->list_dirty = false;
        }
        t->dirty_cnt = 0;
        for (size_t i = 0; i < t->event_cnt; i++) {
                free(t->events[i].key);
                free(t->events[i].payload);
        }
        t->event_cnt = 0;
}

void red_state_table_forget(red_state_table_t *t)
{
        batch_clear(t);
        for (size_t i = 0; i < t->row_cnt; i++) {
                row_free(t->s, t->rows[i]);
        }
        t->row_cnt = 0;
        red_map_clear(t->map);
}

void red_state_table_destroy(red_state_table_t *t)
{
        if (!t) {
                return;
        }
        if (t->map) {
                red_state_table_forget(t);
        }
        red_map_destroy(t->map);
        red_map_destroy(t->missing_set);
        free(t->rows);
        free(t->missing);
        free(t->dirty);
        free(t->events);
        free(t->sorted);
        free(t->head_at);
        red_buf_destroy(&t->heads);
        red_buf_destroy(&t->scratch);
        free(t);
}

const red_state_t *red_state_table_sink(const red_state_table_t *t)
{
        return t->s;
}

/* --- keys and loading ----------------------------------------------------- */

const char *red_state_event_key(const red_state_table_t *t,
                                const red_event_t *ev, char *out, size_t size)
{
        const red_state_t *s = t->s;
        const red_value_t *v;

        if (!(s->on & (UINT64_C(1) << ev->kind->index)) ||
            !(v = red_event_value(ev, s->key_slot))) {
                return NULL;
        }
        if (v->type == RED_FT_UUID && size >= RED_UUID_STR_SIZE) {
                red_uuid_format(&v->u, out);
                return out;
        }
        if (v->type != RED_FT_STRING || v->s.len >= size) {
                return NULL;
        }
        memcpy(out, v->s.p, v->s.len);
        out[v->s.len] = '\0';
        return out;
}

static bool str_eq(const void *item, const void *key)
{
        return !strcmp(item, key);
}

int red_state_table_note(red_state_table_t *t, const red_event_t *ev)
{
        char buf[1024];
        const char *key = red_state_event_key(t, ev, buf, sizeof(buf));
        uint64_t h;
        char *copy;

        if (!key || row_find(t, key)) {
                return 0;
        }
        h = key_hash(key);
        if (red_map_find(t->missing_set, h, str_eq, key)) {
                return 0;
        }
        if (t->missing_cnt == t->missing_cap) {
                size_t ncap = t->missing_cap ? t->missing_cap * 2 : 64;
                char **nm = realloc(t->missing, ncap * sizeof(*nm));
                if (!nm) {
                        return -ENOMEM;
                }
                t->missing = nm;
                t->missing_cap = ncap;
        }
        if (!(copy = strdup(key))) {
                return -ENOMEM;
        }
        if (red_map_insert(t->missing_set, h, copy)) {
                free(copy);
                return -ENOMEM;
        }
        t->missing[t->missing_cnt++] = copy;
        return 0;
}

char *const *red_state_table_missing(const red_state_table_t *t, size_t *cntp)
{
        *cntp = t->missing_cnt;
        return t->missing;
}

red_state_row_t *red_state_table_restore(red_state_table_t *t, const char *key)
{
        red_state_row_t *row = row_find(t, key);

        if (row) {
                return row; /* restored twice: the first one counts */
        }
        if ((row = row_new(t, key))) {
                row->exists = row->stored = true;
        }
        return row;
}

void red_state_row_set(red_state_row_t *row, size_t col, json_t *v,
                       red_time_t at)
{
        json_decref(row->vals[col]);
        row->vals[col] = v;
        row->at[col] = at;
}

int red_state_table_loaded(red_state_table_t *t)
{
        /* a key not restored has no row: remember that, so it is not
         * looked up again */
        for (size_t i = 0; i < t->missing_cnt; i++) {
                if (!row_find(t, t->missing[i]) && !row_new(t, t->missing[i])) {
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < t->missing_cnt; i++) {
                free(t->missing[i]);
        }
        t->missing_cnt = 0;
        red_map_clear(t->missing_set);
        return 0;
}

/* --- values -----------------------------------------------------------------
 */

/* The objects an event brings as text (red_decode's fast path), parsed
 * once for all the columns that read them (health_check and
 * health_check.interval_seconds). Values are never changed in place, so
 * columns may share one. */
#define PARSED_MAX 8
typedef struct parsed_s {
        int slot[PARSED_MAX];
        json_t *j[PARSED_MAX]; /* NULL: the text did not parse */
        size_t cnt;
} parsed_t;

/* A new reference to the tree of @p v's text (slot @p slot), or NULL. */
static json_t *parsed_get(parsed_t *p, int slot, const red_value_t *v)
{
        json_t *j;

        for (size_t i = 0; i < p->cnt; i++) {
                if (p->slot[i] == slot) {
                        return p->j[i] ? json_incref(p->j[i]) : NULL;
                }
        }
        j = red_json_tree_parse(v->raw, v->raw_len, 0);
        if (j && p->cnt < PARSED_MAX) {
                p->slot[p->cnt] = slot;
                p->j[p->cnt++] = json_incref(j);
        }
        return j;
}

static void parsed_clear(parsed_t *p)
{
        for (size_t i = 0; i < p->cnt; i++) {
                json_decref(p->j[i]);
        }
        p->cnt = 0;
}

/* The event's value of @p col as a new reference, or NULL when it has
 * none (absent, null, or a member of another type than declared). */
static json_t *source_value(const red_state_col_t *col, const red_event_t *ev,
                            parsed_t *parsed)
{
        const red_value_t *v;
        json_t *j = NULL, *m;
        char u[RED_UUID_STR_SIZE];

        if (col->slot == RED_STATE_TIME) {
                return json_integer(ev->time);
        }
        if (col->slot < 0 || !(v = red_event_value(ev, col->slot))) {
                return NULL;
        }
        switch (v->type) {
        case RED_FT_STRING:
                j = json_stringn_nocheck(v->s.p, v->s.len);
                break;
        case RED_FT_INTEGER:
                j = json_integer(v->i);
                break;
        case RED_FT_NUMBER:
                j = json_real(v->d);
                break;
        case RED_FT_BOOLEAN:
                j = json_boolean(v->b);
                break;
        case RED_FT_UUID:
                red_uuid_format(&v->u, u);
                j = json_string(u);
                break;
        case RED_FT_TIMESTAMP:
                j = json_integer(v->t);
                break;
        case RED_FT_OBJECT:
        case RED_FT_ARRAY:
                j = v->j ? json_incref(v->j) : parsed_get(parsed, col->slot, v);
                break;
        default:
                break;
        }
        if (!col->path_cnt || !j) {
                return j;
        }
        m = j;
        for (size_t i = 0; i < col->path_cnt && m; i++) {
                m = json_is_object(m) ? json_object_get(m, col->path[i]) : NULL;
        }
        switch (col->type) {
        case RED_FT_STRING:
                m = json_is_string(m) ? m : NULL;
                break;
        case RED_FT_INTEGER:
                m = json_is_integer(m) ? m : NULL;
                break;
        case RED_FT_NUMBER:
                m = json_is_number(m) ? m : NULL;
                break;
        case RED_FT_BOOLEAN:
                m = json_is_boolean(m) ? m : NULL;
                break;
        case RED_FT_OBJECT:
                m = json_is_object(m) ? m : NULL;
                break;
        case RED_FT_ARRAY:
                m = json_is_array(m) ? m : NULL;
                break;
        default:
                m = json_is_null(m) ? NULL : m;
                break;
        }
        if (m) {
                json_incref(m);
        }
        json_decref(j);
        return m;
}

/* >0 when @p a is larger than @p b (both of the column's type). */
static int value_cmp(const json_t *a, const json_t *b)
{
        if (json_is_string(a) && json_is_string(b)) {
                return strcmp(json_string_value(a), json_string_value(b));
        }
        if (json_is_integer(a) && json_is_integer(b)) {
                json_int_t x = json_integer_value(a), y = json_integer_value(b);
                return x > y ? 1 : x < y ? -1 : 0;
        }
        if (json_is_number(a) && json_is_number(b)) {
                double x = json_number_value(a), y = json_number_value(b);
                return x > y ? 1 : x < y ? -1 : 0;
        }
        return 0;
}

/* Object @p over's members written over a copy of @p base. */
static json_t *merged(const json_t *base, const json_t *over)
{
        json_t *out = json_deep_copy(base);

        if (out && json_object_update(out, (json_t *)over)) {
                json_decref(out);
                return NULL;
        }
        return out;
}

/* Folds @p v (taken) into column @p i. -ENOMEM, 0 (unchanged) or 1. */
static int fold(red_state_row_t *row, size_t i, const red_state_col_t *col,
                json_t *v, red_time_t time)
{
        json_t *cur = row->vals[i], *nv;
        red_time_t at = row->at[i];

        switch (col->rule) {
        case RED_RULE_LATEST:
                if (!v || (at != INT64_MIN && time < at)) {
                        break;
                }
                if (cur && json_equal(cur, v) && at == time) {
                        break;
                }
                red_state_row_set(row, i, v, time);
                return 1;
        case RED_RULE_FIRST:
                if (!v || (at != INT64_MIN && time >= at)) {
                        break;
                }
                red_state_row_set(row, i, v, time);
                return 1;
        case RED_RULE_MAX:
                if (!v || (cur && value_cmp(v, cur) <= 0)) {
                        break;
                }
                red_state_row_set(row, i, v, time);
                return 1;
        case RED_RULE_COUNT:
                json_decref(v);
                if (!(nv = json_integer((json_is_integer(cur)
                                                 ? json_integer_value(cur)
                                                 : 0) +
                                        1))) {
                        return -ENOMEM;
                }
                red_state_row_set(row, i, nv, at > time ? at : time);
                return 1;
        case RED_RULE_MERGE:
                if (!json_is_object(v)) {
                        break;
                }
                if (!json_is_object(cur)) {
                        red_state_row_set(row, i, v, time);
                        return 1;
                }
                /* the newer event's members win, whatever the order */
                nv = at == INT64_MIN || time >= at ? merged(cur, v)
                                                   : merged(v, cur);
                json_decref(v);
                if (!nv) {
                        return -ENOMEM;
                }
                if (json_equal(nv, cur)) {
                        json_decref(nv);
                        return 0;
                }
                red_state_row_set(row, i, nv, at > time ? at : time);
                return 1;
        case RED_RULE_TEXT:
                break; /* computed from the other columns */
        }
        json_decref(v);
        return 0;
}

/* Text column @p col of @p row from its parts. 0 or -ENOMEM. */
static int text_value(red_state_row_t *row, size_t i,
                      const red_state_col_t *col)
{
        json_t *nv = red_state_text_of(col, row->vals);

        if (!nv) {
                return -ENOMEM;
        }
        red_state_row_set(row, i, nv, INT64_MIN);
        return 0;
}

/* Every text column of @p row, after its other columns changed. */
static int texts(const red_state_t *s, red_state_row_t *row)
{
        for (size_t i = 0; i < s->column_cnt; i++) {
                int r;
                if (s->columns[i].rule == RED_RULE_TEXT &&
                    (r = text_value(row, i, &s->columns[i]))) {
                        return r;
                }
        }
        return 0;
}

/* --- effective status ------------------------------------------------------
 */

const char *red_state_effective(const red_state_table_t *t,
                                const red_state_row_t *row, red_time_t clock)
{
        const red_staleness_t *st = t->s->stale;
        const json_t *status;
        red_time_t newest = INT64_MIN;
        double interval_us;

        if (!st) {
                return NULL;
        }
        for (size_t i = 0; i < st->time_cnt; i++) {
                const json_t *v = row->vals[st->time_cols[i]];
                if (json_is_integer(v) && json_integer_value(v) > newest) {
                        newest = json_integer_value(v);
                }
        }
        interval_us = (double)st->default_interval_us;
        if (st->interval_col >= 0) {
                const json_t *v = row->vals[st->interval_col];
                if (json_is_number(v) && json_number_value(v) > 0) {
                        interval_us = json_number_value(v) * 1e6;
                }
        }
        if (newest != INT64_MIN &&
            (double)newest + st->factor * interval_us < (double)clock) {
                return st->value;
        }
        status = row->vals[st->status_col];
        return json_is_string(status) ? json_string_value(status) : NULL;
}

static bool same(const char *a, const char *b)
{
        return a == b || (a && b && !strcmp(a, b));
}

/* --- the batch -------------------------------------------------------------
 */

static int mark_dirty(red_state_table_t *t, red_state_row_t *row)
{
        int r;

        if (row->dirty) {
                return 0;
        }
        /* a row restored with a text some other writer left (a release
         * before text_of, SQL) is written with the text its columns give */
        if ((r = texts(t->s, row))) {
                return r;
        }
        if (t->dirty_cnt == t->dirty_cap) {
                size_t ncap = t->dirty_cap ? t->dirty_cap * 2 : 64;
                red_state_row_t **nd = realloc(t->dirty, ncap * sizeof(*nd));
                if (!nd) {
                        return -ENOMEM;
                }
                t->dirty = nd;
                t->dirty_cap = ncap;
        }
        row->dirty = true;
        t->dirty[t->dirty_cnt++] = row;
        return 0;
}

static void put_time(red_buf_t *out, red_time_t time)
{
        char ts[RED_TIME_FMT_SIZE];

        red_time_format(time, ts, sizeof(ts));
        red_buf_put_json_str(out, ts, strlen(ts));
}

void red_state_change_id(const red_contract_t *c, const red_state_t *s,
                         const char *key, red_state_change_t change,
                         red_time_t time, const char *detail, red_uuid_t *out)
{
        const char *parts[] = {c->name, s->name, key};
        red_buf_t name;

        /* "%s\n%s\n%s\n%d\n%lld\n%s", without printf's cost: a change
         * per registration */
        red_buf_init(&name);
        for (size_t i = 0; i < 3; i++) {
                red_buf_puts(&name, parts[i]);
                red_buf_putc(&name, '\n');
        }
        red_buf_put_i64(&name, (int64_t)change);
        red_buf_putc(&name, '\n');
        red_buf_put_i64(&name, time);
        red_buf_putc(&name, '\n');
        if (detail) {
                red_buf_puts(&name, detail);
        }
        red_uuid_v5(out, &state_ns, name.failed ? key : name.data,
                    name.failed ? strlen(key) : name.len);
        red_buf_destroy(&name);
}

/* Queues an event; @p payload is taken (freed on failure too). */
static int add_event(red_state_table_t *t, red_state_change_t change,
                     const char *key, red_time_t time, const char *detail,
                     char *payload)
{
        red_state_event_t *e;

        if (!payload) {
                return -ENOMEM;
        }
        if (t->event_cnt == t->event_cap) {
                size_t ncap = t->event_cap ? t->event_cap * 2 : 32;
                red_state_event_t *ne = realloc(t->events, ncap * sizeof(*ne));
                if (!ne) {
                        free(payload);
                        return -ENOMEM;
                }
                t->events = ne;
                t->event_cap = ncap;
        }
        e = &t->events[t->event_cnt];
        e->change = change;
        e->payload = payload;
        if (!(e->key = strdup(key))) {
                free(payload);
                return -ENOMEM;
        }
        red_state_change_id(t->c, t->s, key, change, time, detail, &e->id);
        t->event_cnt++;
        return 0;
}

static int created_event(red_state_table_t *t, red_state_row_t *row,
                         red_time_t time)
{
        char *payload;

        /* rendered in the table's scratch and kept in a copy of its size:
         * a buffer per event grew by doubling (two reallocations for the
         * registry's rows) and kept up to twice the text until commit */
        red_buf_reset(&t->scratch);
        red_state_row_json(t, row, &t->scratch);
        if (t->scratch.failed || !(payload = malloc(t->scratch.len + 1))) {
                return -ENOMEM;
        }
        memcpy(payload, t->scratch.data, t->scratch.len + 1);
        return add_event(t, RED_STATE_CREATED, row->key, time, NULL, payload);
}

static int deleted_event(red_state_table_t *t, red_state_row_t *row)
{
        red_buf_t b;

        red_buf_init(&b);
        red_buf_putc(&b, '{');
        red_buf_put_json_str(&b, t->s->key_column, strlen(t->s->key_column));
        red_buf_putc(&b, ':');
        red_buf_put_json_str(&b, row->key, strlen(row->key));
        red_buf_putc(&b, ',');
        red_buf_put_json_str(&b, t->s->deleted_column,
                             strlen(t->s->deleted_column));
        red_buf_putc(&b, ':');
        put_time(&b, row->deleted_at);
        red_buf_putc(&b, '}');
        if (b.failed) {
                red_buf_destroy(&b);
                return -ENOMEM;
        }
        return add_event(t, RED_STATE_DELETED, row->key, row->deleted_at, NULL,
                         red_buf_steal(&b, NULL));
}

void red_state_status_json(const red_state_t *s, const char *key,
                           const char *now, const char *prev,
                           const char *reason, red_time_t clock, red_buf_t *out)
{
        const char *col = s->columns[s->stale->status_col].name;

        red_buf_putc(out, '{');
        red_buf_put_json_str(out, s->key_column, strlen(s->key_column));
        red_buf_putc(out, ':');
        red_buf_put_json_str(out, key, strlen(key));
        red_buf_printf(out, ",\"%s\":", col);
        if (now) {
                red_buf_put_json_str(out, now, strlen(now));
        } else {
                red_buf_puts(out, "null");
        }
        red_buf_printf(out, ",\"previous_%s\":", col);
        if (prev) {
                red_buf_put_json_str(out, prev, strlen(prev));
        } else {
                red_buf_puts(out, "null");
        }
        red_buf_printf(out, ",\"reason\":\"%s\",\"changed_at\":", reason);
        put_time(out, clock);
        red_buf_putc(out, '}');
}

/* The effective status at @p clock moved away from the published one: a
 * status event, and the row remembers what was published. */
static int status_event(red_state_table_t *t, red_state_row_t *row,
                        const char *now, red_time_t clock, const char *reason)
{
        char *copy = now ? strdup(now) : NULL;
        red_buf_t b;
        int r;

        if (now && !copy) {
                return -ENOMEM;
        }
        red_buf_init(&b);
        red_state_status_json(t->s, row->key, now, row->status, reason, clock,
                              &b);
        if (b.failed) {
                red_buf_destroy(&b);
                free(copy);
                return -ENOMEM;
        }
        if ((r = add_event(t, RED_STATE_STATUS, row->key, clock, now,
                           red_buf_steal(&b, NULL)))) {
                free(copy);
                return r;
        }
        free(row->status);
        row->status = copy;
        return 0;
}

/* The columns @p ev contributes to. -ENOMEM, 0 (nothing changed) or 1. */
static int apply_columns(red_state_table_t *t, red_state_row_t *row,
                         const red_event_t *ev)
{
        const red_state_t *s = t->s;
        uint64_t bit = UINT64_C(1) << ev->kind->index;
        int changed = 0;
        bool text_changed = false;
        parsed_t parsed = {.cnt = 0};

        for (size_t i = 0; i < s->column_cnt; i++) {
                const red_state_col_t *col = &s->columns[i];
                json_t *v = NULL;
                int r;

                if (!(col->on & bit) || col->rule == RED_RULE_TEXT) {
                        continue;
                }
                if (col->rule != RED_RULE_COUNT &&
                    !(v = source_value(col, ev, &parsed))) {
                        continue;
                }
                if ((r = fold(row, i, col, v, ev->time)) < 0) {
                        parsed_clear(&parsed);
                        return r;
                }
                for (size_t l = 0; r && l < s->list_cnt; l++) {
                        row->list_dirty |= s->lists[l].column == (int)i;
                }
                changed |= r;
                text_changed |= r && col->in_text;
        }
        parsed_clear(&parsed);
        /* a row not yet dirty gets its texts from mark_dirty(), which
         * every change reaches; a dirty row's again only when a column
         * they are made of changed (not on every heartbeat) */
        if (text_changed && row->dirty) {
                int r = texts(s, row);
                if (r) {
                        return r;
                }
        }
        return changed;
}

int red_state_table_apply(red_state_table_t *t, const red_event_t *ev)
{
        const red_state_t *s = t->s;
        uint64_t bit = UINT64_C(1) << ev->kind->index;
        char buf[1024];
        const char *key = red_state_event_key(t, ev, buf, sizeof(buf));
        red_state_row_t *row;
        bool create = s->create & bit, revive = false;
        const char *before, *after;
        int r;

        if (!key) {
                return 0;
        }
        row = row_find(t, key);
        if (!row && !create) {
                return 0; /* nothing to update */
        }
        if (!row && !(row = row_new(t, key))) {
                return -ENOMEM;
        }
        if (!row->exists) {
                if (!create) {
                        return 0;
                }
                row->exists = true;
                revive = true;
        } else if (row->deleted_at != INT64_MIN) {
                /* deleted: only a newer registration brings it back */
                if (!create || ev->time <= row->deleted_at) {
                        return 0;
                }
                row->deleted_at = INT64_MIN;
                revive = true;
        }
        if (s->delete_on & bit) {
                if (ev->time < row->alive_at) {
                        return 0; /* older than the latest registration */
                }
                if ((r = apply_columns(t, row, ev)) < 0) {
                        return r;
                }
                row->deleted_at = ev->time;
                row->partition = ev->msg ? ev->msg->partition : -1;
                if ((r = mark_dirty(t, row))) {
                        return r;
                }
                return deleted_event(t, row);
        }
        before = row->status;
        if ((r = apply_columns(t, row, ev)) < 0) {
                return r;
        }
        if (create && ev->time > row->alive_at) {
                row->alive_at = ev->time;
                r = 1;
        }
        if (!r && !revive) {
                return 0;
        }
        row->partition = ev->msg ? ev->msg->partition : -1;
        if ((r = mark_dirty(t, row))) {
                return r;
        }
        after = red_state_effective(t, row, ev->time);
        if (revive) {
                char *copy = after ? strdup(after) : NULL;
                if (after && !copy) {
                        return -ENOMEM;
                }
                free(row->status);
                row->status = copy;
                return created_event(t, row, ev->time);
        }
        if (s->stale && !same(before, after)) {
                return status_event(t, row, after, ev->time, "reported");
        }
        return 0;
}

int red_state_table_sweep(red_state_table_t *t, red_time_t clock)
{
        if (!t->s->stale) {
                return 0;
        }
        for (size_t i = 0; i < t->row_cnt; i++) {
                red_state_row_t *row = t->rows[i];
                const char *now;
                int r;

                if (!row->exists || row->deleted_at != INT64_MIN) {
                        continue;
                }
                now = red_state_effective(t, row, clock);
                if (same(now, row->status)) {
                        continue;
                }
                if ((r = mark_dirty(t, row)) ||
                    (r = status_event(t, row, now, clock, "stale"))) {
                        return r;
                }
        }
        return 0;
}

static int cmp_row(const void *a, const void *b)
{
        return strcmp((*(red_state_row_t *const *)a)->key,
                      (*(red_state_row_t *const *)b)->key);
}

red_state_row_t **red_state_table_dirty(red_state_table_t *t, size_t *cntp)
{
        if (t->dirty_cnt > 1) {
                /* in key order, so that replicas lock rows in one order */
                qsort(t->dirty, t->dirty_cnt, sizeof(*t->dirty), cmp_row);
        }
        *cntp = t->dirty_cnt;
        return t->dirty;
}

const red_state_event_t *red_state_table_events(const red_state_table_t *t,
                                                size_t *cntp)
{
        *cntp = t->event_cnt;
        return t->events;
}

red_state_row_t **red_state_table_rows(red_state_table_t *t, size_t *cntp)
{
        size_t n = 0;
        red_state_row_t **nr =
                realloc(t->sorted, (t->row_cnt + 1) * sizeof(*nr));

        if (!nr) {
                *cntp = 0;
                return NULL;
        }
        t->sorted = nr;
        for (size_t i = 0; i < t->row_cnt; i++) {
                if (t->rows[i]->exists) {
                        nr[n++] = t->rows[i];
                }
        }
        if (n > 1) {
                qsort(nr, n, sizeof(*nr), cmp_row);
        }
        *cntp = n;
        return nr;
}

void red_state_table_commit(red_state_table_t *t)
{
        for (size_t i = 0; i < t->dirty_cnt; i++) {
                t->dirty[i]->revision++;
                t->dirty[i]->stored = t->dirty[i]->exists;
        }
        batch_clear(t);
        if (t->max_rows && t->row_cnt > t->max_rows) {
                red_state_table_forget(t);
        }
}

void red_state_table_rollback(red_state_table_t *t)
{
        red_state_table_forget(t);
}

/* --- rendering ---------------------------------------------------------------
 */

void red_state_value_json(const red_state_col_t *col, const json_t *v,
                          red_buf_t *out)
{
        if (!v || json_is_null(v)) {
                /* a count starts at 0 */
                red_buf_puts(out, col->rule == RED_RULE_COUNT ? "0" : "null");
                return;
        }
        if (col->type == RED_FT_TIMESTAMP && json_is_integer(v)) {
                put_time(out, json_integer_value(v));
                return;
        }
        /* json_dumps(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) */
        if (red_json_dump(v, true, out)) {
                out->failed = true;
        }
}

void red_state_row_json(const red_state_table_t *t, const red_state_row_t *row,
                        red_buf_t *out)
{
        const red_state_t *s = t->s;

        red_buf_putc(out, '{');
        red_buf_put_json_str(out, s->key_column, strlen(s->key_column));
        red_buf_putc(out, ':');
        red_buf_put_json_str(out, row->key, strlen(row->key));
        for (size_t i = 0; i < s->column_cnt; i++) {
                put_head(t, i, out);
                red_state_value_json(&s->columns[i], row->vals[i], out);
        }
        if (s->deleted_column) {
                put_head(t, s->column_cnt, out);
                if (row->deleted_at == INT64_MIN) {
                        red_buf_puts(out, "null");
                } else {
                        put_time(out, row->deleted_at);
                }
        }
        if (s->stale) {
                red_buf_puts(out, ",\"state_status\":");
                if (row->status) {
                        red_buf_put_json_str(out, row->status,
                                             strlen(row->status));
                } else {
                        red_buf_puts(out, "null");
                }
        }
        red_buf_putc(out, '}');
}

void red_state_times_json(const red_state_table_t *t,
                          const red_state_row_t *row, red_buf_t *out)
{
        const red_state_t *s = t->s;
        bool first = true;

        red_buf_putc(out, '{');
        for (size_t i = 0; i < s->column_cnt; i++) {
                if (row->at[i] == INT64_MIN) {
                        continue;
                }
                if (!first) {
                        red_buf_putc(out, ',');
                }
                first = false;
                red_buf_put_json_str(out, s->columns[i].name,
                                     strlen(s->columns[i].name));
                red_buf_putc(out, ':');
                red_buf_put_i64(out, row->at[i]);
        }
        if (row->alive_at != INT64_MIN) {
                red_buf_puts(out, first ? "\"$alive\":" : ",\"$alive\":");
                red_buf_put_i64(out, row->alive_at);
        }
        red_buf_putc(out, '}');
}

int red_state_list_items(const red_state_list_t *l, const red_state_row_t *row,
                         red_state_item_fn *fn, void *arg)
{
        const json_t *arr = row->vals[l->column];
        const json_t *members[16];
        size_t i, n = l->column_cnt < 16 ? l->column_cnt : 16;
        json_t *item;

        if (!json_is_array(arr)) {
                return 0;
        }
        json_array_foreach((json_t *)arr, i, item)
        {
                const json_t *id = json_object_get(item, l->members[0]);
                bool seen = false;
                size_t k;
                json_t *prev;
                int r;

                if (!json_is_object(item) || !id || json_is_null(id)) {
                        continue;
                }
                /* the first item of an identity wins */
                json_array_foreach((json_t *)arr, k, prev)
                {
                        if (k >= i) {
                                break;
                        }
                        seen |= json_is_object(prev) &&
                                json_equal(json_object_get(prev, l->members[0]),
                                           id);
                }
                if (seen) {
                        continue;
                }
                for (size_t m = 0; m < n; m++) {
                        const json_t *v = json_object_get(item, l->members[m]);
                        members[m] = json_is_object(v) || json_is_array(v) ||
                                                     json_is_null(v)
                                             ? NULL
                                             : v;
                }
                if ((r = fn(arg, members))) {
                        return r;
                }
        }
        return 0;
}
