/* red_rebuild - the sources and windows of a backfill. */
#include "red_rebuild.h"

#include "red_window.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *red_rebuild_column(const red_raw_t *r, int slot)
{
        for (size_t i = 0; i < r->column_cnt; i++) {
                if (r->columns[i].slot == slot) {
                        return r->columns[i].name;
                }
        }
        return NULL;
}

/* Marks in @p used every field slot an aggregation reads. */
static void measure_slots(const red_measure_t *m, size_t cnt, bool *used)
{
        for (size_t i = 0; i < cnt; i++) {
                if (m[i].slot >= 0) {
                        used[m[i].slot] = true;
                }
                for (size_t w = 0; w < m[i].where_cnt; w++) {
                        used[m[i].where[w].slot] = true;
                }
                measure_slots(m[i].sub, m[i].sub_cnt, used);
        }
}

static void used_slots(const red_contract_t *c, bool *used)
{
        for (size_t a = 0; a < c->agg_cnt; a++) {
                const red_agg_t *ag = &c->aggs[a];
                for (size_t g = 0; g < ag->grouping_cnt; g++) {
                        for (size_t k = 0; k < ag->key_cnt; k++) {
                                const red_dim_t *d =
                                        &c->dims[ag->groupings[g].dims[k]];
                                if (d->kind != RED_DIM_CONSTANT) {
                                        used[d->slot] = true;
                                }
                        }
                }
                measure_slots(ag->measures, ag->measure_cnt, used);
        }
}

/* The kind the raw sink stores from @p in, or NULL (it stores none, or
 * several: a row would not say which it was). */
static const red_kind_t *stored_kind(const red_contract_t *c,
                                     const red_raw_t *r, const red_input_t *in)
{
        const red_kind_t *kind = NULL;

        for (size_t k = 0; k < c->kind_cnt; k++) {
                uint64_t bit = UINT64_C(1) << c->kinds[k].index;
                if ((in->kinds & bit) && (r->on & bit)) {
                        if (kind) {
                                return NULL;
                        }
                        kind = &c->kinds[k];
                }
        }
        return kind;
}

int red_rebuild_raw_sources(const red_contract_t *c, red_rebuild_src_t **out,
                            size_t *cnt, char *errstr, size_t size)
{
        bool *used = calloc(c->slot_cnt + 1, sizeof(*used));
        red_rebuild_src_t *src = calloc(c->input_cnt + 1, sizeof(*src));
        int r = -EINVAL;

        *out = NULL;
        *cnt = 0;
        if (!used || !src) {
                free(used);
                free(src);
                return -ENOMEM;
        }
        if (!c->raw_cnt) {
                snprintf(errstr, size,
                         "contract %s stores no raw rows to rebuild its cells "
                         "from",
                         c->name);
                goto done;
        }
        if (c->workflow_key_slot >= 0) {
                snprintf(errstr, size,
                         "contract %s enriches events from earlier ones "
                         "(workflows), which raw rows do not keep",
                         c->name);
                goto done;
        }
        used_slots(c, used);
        for (size_t i = 0; i < c->input_cnt; i++) {
                const red_input_t *in = &c->inputs[i];
                red_rebuild_src_t *s = &src[i];

                for (size_t k = 0; k < c->raw_cnt && !s->table; k++) {
                        const char *table =
                                red_contract_raw_table(&c->raws[k], in->topic);
                        const red_kind_t *kind =
                                table ? stored_kind(c, &c->raws[k], in) : NULL;
                        if (kind &&
                            (in->kinds & ~(UINT64_C(1) << kind->index)) == 0) {
                                s->raw = &c->raws[k];
                                s->table = table;
                                s->kind = kind;
                        }
                }
                s->topic = in->topic;
                if (!s->table) {
                        snprintf(errstr, size,
                                 "contract %s: the events of topic %s are "
                                 "not all stored by one raw sink",
                                 c->name, in->topic);
                        goto done;
                }
                for (size_t f = 0; f < s->kind->field_cnt; f++) {
                        int slot = s->kind->fields[f].slot;
                        if (used[slot] && !red_rebuild_column(s->raw, slot)) {
                                snprintf(errstr, size,
                                         "contract %s: raw sink %s does not "
                                         "store field %s, which an "
                                         "aggregation reads",
                                         c->name, s->raw->name,
                                         c->slot_names[slot]);
                                goto done;
                        }
                }
        }
        *out = src;
        *cnt = c->input_cnt;
        src = NULL;
        r = 0;
done:
        free(used);
        free(src);
        return r;
}

void red_rebuild_range(uint32_t windows, red_time_t from, red_time_t to,
                       red_rebuild_range_t *out)
{
        out->read_from = from;
        out->read_to = to;
        for (int w = 0; w < RED_WINDOW__CNT; w++) {
                red_window_type_t wt = (red_window_type_t)w;
                red_time_t f = from, t = to;

                if (from != INT64_MIN) {
                        f = red_window_start(wt, from);
                }
                if (to != INT64_MAX) {
                        /* the window holding the last instant, whole */
                        t = red_window_end(wt, red_window_start(wt, to - 1));
                }
                out->from[w] = f;
                out->to[w] = t;
                if (!(windows & (1u << w))) {
                        continue;
                }
                if (f < out->read_from) {
                        out->read_from = f;
                }
                if (t > out->read_to) {
                        out->read_to = t;
                }
        }
}

bool red_rebuild_covers(const red_rebuild_range_t *rr, red_window_type_t wt,
                        red_time_t start)
{
        return start >= rr->from[wt] && start < rr->to[wt];
}
