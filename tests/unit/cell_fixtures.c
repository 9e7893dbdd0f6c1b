/* Fixtures of the cell suites: see cell_fixtures.h. */
#include "gen_events_lib.c"

#include "cell_fixtures.h"
#include "red_decode.h"
#include "red_rows.h"
#include "red_test.h"

#include <stdlib.h>
#include <string.h>

red_contract_t *cg;
red_contract_t *cr;

red_contract_t *load(const char *rel)
{
        char err[2048];
        red_contract_t *c = red_contract_load(test_path(rel), err, sizeof(err));

        ck_assert_msg(c != NULL, "%s", err);
        return c;
}

red_time_t tm(const char *s)
{
        red_time_t t;

        ck_assert_int_eq(red_time_parse(s, strlen(s), &t), 0);
        return t;
}

void cell_setup(void)
{
        cg = load("contracts/codegen_metrics.yaml");
        cr = load("tests/data/contracts/cell_render.yaml");
}

void cell_teardown(void)
{
        red_contract_destroy(cg);
        red_contract_destroy(cr);
}

/* ------------------------------------------------------------------ */
/* decoded streams                                                     */
/* ------------------------------------------------------------------ */


/* @p n generated lines, poison-free. */
void stream_gen(stream_t *st, uint64_t seed, size_t n, double days)
{
        size_t cap = n * 700, used = 0;
        gen_opts_t o;
        gen_line_t l;
        gen_t *g;

        memset(st, 0, sizeof(*st));
        gen_opts_default(&o);
        o.events = n;
        o.seed = seed;
        o.days = days;
        o.start = tm(STREAM_START);
        ck_assert_ptr_nonnull(g = gen_new(&o));
        st->text = malloc(cap);
        st->off = calloc(n, sizeof(*st->off));
        st->len = calloc(n, sizeof(*st->len));
        st->topics = calloc(n, sizeof(*st->topics));
        ck_assert(st->text && st->off && st->len && st->topics);
        while (gen_next(g, &l)) {
                ck_assert_uint_lt(used + l.len, cap);
                memcpy(st->text + used, l.text, l.len);
                st->off[st->cnt] = used;
                st->len[st->cnt] = l.len;
                st->topics[st->cnt] = l.topic; /* static strings */
                used += l.len;
                st->cnt++;
        }
        gen_destroy(g);
        ck_assert_uint_eq(st->cnt, n);
}

/* Decodes the stream for contract @p c (every line must decode). */
void stream_decode(stream_t *st, const red_contract_t *c)
{
        char detail[512];

        st->evs = calloc(st->cnt, sizeof(*st->evs));
        st->vals = calloc(st->cnt * c->slot_cnt, sizeof(*st->vals));
        st->msgs = calloc(st->cnt, sizeof(*st->msgs));
        ck_assert(st->evs && st->vals && st->msgs);
        for (size_t i = 0; i < st->cnt; i++) {
                red_msg_t *m = &st->msgs[i];
                m->topic = st->topics[i];
                m->value = st->text + st->off[i];
                m->value_len = st->len[i];
                m->timestamp = -1;
                m->offset = (int64_t)i;
                st->evs[i].values = st->vals + i * c->slot_cnt;
                ck_assert_msg(red_decode(c, m, INT64_MAX / 2, &st->evs[i],
                                         detail,
                                         sizeof(detail)) == RED_DLQ_NONE,
                              "line %zu: %s", i, detail);
        }
}

void stream_release(stream_t *st)
{
        for (size_t i = 0; st->evs && i < st->cnt; i++) {
                red_decode_release(&st->evs[i]);
        }
        free(st->evs);
        free(st->vals);
        free(st->msgs);
        st->evs = NULL;
        st->vals = NULL;
        st->msgs = NULL;
}

void stream_free(stream_t *st)
{
        stream_release(st);
        free(st->text);
        free(st->off);
        free(st->len);
        free(st->topics);
}

red_aggregator_t *aggregate(const red_contract_t *c, const stream_t *st,
                            size_t from, size_t to)
{
        red_aggregator_t *ag = red_aggregator_new(c);

        ck_assert_ptr_nonnull(ag);
        for (size_t i = from; i < to; i++) {
                ck_assert_int_eq(red_aggregator_apply(ag, &st->evs[i]), 0);
        }
        return ag;
}

void serialize(const red_cell_t *cell, red_buf_t *b)
{
        red_buf_reset(b);
        ck_assert_int_eq(red_cell_serialize(cell, b), 0);
        ck_assert(!b->failed);
}

void row(const red_cell_t *cell, red_buf_t *b)
{
        red_buf_reset(b);
        red_rows_cell_json(cell, NULL, b);
        ck_assert(!b->failed);
}

/* The rendered value of column @p name in @p cell ("null" when null). */
char *render_col(const red_cell_t *cell, const char *name)
{
        const red_agg_t *a = red_cell_agg(cell);
        red_buf_t b;
        bool is_null;

        for (size_t i = 0; i < a->column_cnt; i++) {
                if (strcmp(a->columns[i].name, name)) {
                        continue;
                }
                red_buf_init(&b);
                red_cell_render(cell, &a->columns[i], &b, &is_null);
                if (is_null) {
                        ck_assert_uint_eq(b.len, 0);
                        red_buf_destroy(&b);
                        return strdup("null");
                }
                return red_buf_steal(&b, NULL);
        }
        ck_abort_msg("no column %s", name);
        return NULL;
}

/* ------------------------------------------------------------------ */
/* hand-made events of cell_render.yaml                                */
/* ------------------------------------------------------------------ */


void hev_init(hev_t *h, const red_contract_t *c, const char *kind,
              const char *time)
{
        memset(h, 0, sizeof(*h));
        ck_assert_uint_le(c->slot_cnt, 32);
        h->ev.values = h->vals;
        for (size_t k = 0; k < c->kind_cnt; k++) {
                if (!strcmp(c->kinds[k].name, kind)) {
                        h->ev.kind = &c->kinds[k];
                }
        }
        ck_assert_ptr_nonnull(h->ev.kind);
        h->ev.time = tm(time);
}

red_value_t *hval(hev_t *h, const red_contract_t *c, const char *f)
{
        int slot = red_contract_slot(c, f);

        ck_assert_int_ge(slot, 0);
        return &h->vals[slot];
}

void set_num(hev_t *h, const red_contract_t *c, const char *f, double d)
{
        red_value_t *v = hval(h, c, f);

        v->type = RED_FT_NUMBER;
        v->d = d;
}

void set_str(hev_t *h, const red_contract_t *c, const char *f, const char *s)
{
        red_value_t *v = hval(h, c, f);

        v->type = RED_FT_STRING;
        v->s.p = s;
        v->s.len = strlen(s);
}

void set_bool(hev_t *h, const red_contract_t *c, const char *f, bool b)
{
        red_value_t *v = hval(h, c, f);

        v->type = RED_FT_BOOLEAN;
        v->b = b;
}

/* The hourly cell "total/all" at 2025-11-06T10:00. */
red_cell_t *new_cell(const red_contract_t *c)
{
        const char *keys[1] = {"all"};
        size_t lens[1] = {3};
        red_cell_key_t key = {.agg = &c->aggs[0],
                              .wt = RED_WINDOW_HOURLY,
                              .start = tm("2025-11-06T10:00:00Z"),
                              .grouping = 0,
                              .keys = keys,
                              .lens = lens};
        red_cell_t *cell;

        key.group_hash = red_cell_group_hash(key.agg, 0, keys, lens);
        ck_assert_ptr_nonnull(cell = red_cell_new(&key, c->sketch_alpha));
        return cell;
}

void apply(red_cell_t *cell, const hev_t *h)
{
        ck_assert_int_eq(red_cell_apply(cell, &h->ev), 0);
}

void assert_col(const red_cell_t *cell, const char *name, const char *want)
{
        char *got = render_col(cell, name);

        ck_assert_msg(!strcmp(got, want), "%s: got %s, want %s", name, got,
                      want);
        free(got);
}
