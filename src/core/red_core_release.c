/* red_core_release - the batch: buffered events released in event-time
 * order up to the frontier (capped so a batch keeps its size), sorted,
 * and the workflows they need that are not in memory noted. */
#include "red_core.h"

#include "red_core_impl.h"
#include "red_core_keys.h"
#include "red_log.h"
#include "red_map.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_release(const void *a, const void *b)
{
        const entry_t *x = *(entry_t *const *)a, *y = *(entry_t *const *)b;
        int r;

        if (x->ev.time != y->ev.time) {
                return x->ev.time < y->ev.time ? -1 : 1;
        }
        if (x->ev.kind->index != y->ev.kind->index) {
                return x->ev.kind->index < y->ev.kind->index ? -1 : 1;
        }
        r = strcmp(x->msg.topic ? x->msg.topic : "",
                   y->msg.topic ? y->msg.topic : "");
        if (r) {
                return r;
        }
        if (x->msg.partition != y->msg.partition) {
                return x->msg.partition < y->msg.partition ? -1 : 1;
        }
        return x->msg.offset < y->msg.offset ? -1
                                             : x->msg.offset > y->msg.offset;
}

/* An entry with its event time beside it: the sort compares times without
 * touching the entries, which are scattered in memory. */
typedef struct release_key_s {
        red_time_t time;
        entry_t *e;
} release_key_t;

static int cmp_release_key(const void *a, const void *b)
{
        const release_key_t *x = a, *y = b;

        if (x->time != y->time) {
                return x->time < y->time ? -1 : 1;
        }
        return cmp_release(&x->e, &y->e);
}

/* Sorts released[first..] by cmp_release. */
static int sort_released(red_core_t *core, size_t first)
{
        size_t n = core->released_cnt - first;
        entry_t **r;
        release_key_t *keys;

        if (n < 2) {
                /* also before the first release: released is NULL then,
                 * and NULL + 0 is undefined */
                return 0;
        }
        r = core->released + first;
        if (!(keys = malloc(n * sizeof(*keys)))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                keys[i].time = r[i]->ev.time;
                keys[i].e = r[i];
        }
        qsort(keys, n, sizeof(*keys), cmp_release_key);
        for (size_t i = 0; i < n; i++) {
                r[i] = keys[i].e;
        }
        free(keys);
        return 0;
}

static bool uuid_eq(const void *item, const void *key)
{
        return !red_uuid_cmp(item, key);
}

static int note_missing(red_core_t *core, const red_uuid_t *id)
{
        uint64_t h = red_uuid_hash(id);

        if (red_workflows_get(core->wfs, id) ||
            red_map_find(core->missing_set, h, uuid_eq, id)) {
                return 0;
        }
        if (core->missing_cnt == core->missing_cap) {
                size_t ncap = core->missing_cap ? core->missing_cap * 2 : 256;
                red_uuid_t *nm = realloc(core->missing, ncap * sizeof(*nm));
                if (!nm) {
                        return -ENOMEM;
                }
                /* the set points into the array: rebuild it */
                core->missing = nm;
                core->missing_cap = ncap;
                red_map_clear(core->missing_set);
                for (size_t i = 0; i < core->missing_cnt; i++) {
                        if (red_map_insert(core->missing_set,
                                           red_uuid_hash(&nm[i]), &nm[i])) {
                                return -ENOMEM;
                        }
                }
        }
        core->missing[core->missing_cnt] = *id;
        if (red_map_insert(core->missing_set, h,
                           &core->missing[core->missing_cnt])) {
                return -ENOMEM;
        }
        core->missing_cnt++;
        return 0;
}

/* The k-th smallest of @p t (quickselect with a three-way partition;
 * reorders the array). */
static red_time_t select_kth(red_time_t *t, size_t n, size_t k)
{
        size_t lo = 0, hi = n; /* the k-th is in [lo, hi) */

        while (hi - lo > 1) {
                red_time_t pivot = t[lo + (hi - lo) / 2], tmp;
                size_t lt = lo, i = lo, gt = hi;

                while (i < gt) {
                        if (t[i] < pivot) {
                                tmp = t[lt];
                                t[lt++] = t[i];
                                t[i++] = tmp;
                        } else if (t[i] > pivot) {
                                tmp = t[--gt];
                                t[gt] = t[i];
                                t[i] = tmp;
                        } else {
                                i++;
                        }
                }
                if (k < lt) {
                        hi = lt;
                } else if (k >= gt) {
                        lo = gt;
                } else {
                        return pivot;
                }
        }
        return t[lo];
}

/* The time bound that releases about @p max events (at least the oldest
 * ones, ties included). */
static red_time_t cap_frontier(red_core_t *core, red_time_t frontier,
                               size_t max)
{
        red_time_t *times = malloc(core->buffered * sizeof(*times)), cut;
        size_t n = 0;

        if (!times) {
                return frontier;
        }
        for (size_t i = 0; i < core->part_cnt; i++) {
                part_t *p = &core->parts[i];
                red_time_t pm = INT64_MIN; /* newest time of the prefix */
                for (entry_t *e = p->head; e && n < core->buffered;
                     e = e->next) {
                        if (e->state != E_BUFFERED) {
                                continue;
                        }
                        if (frontier != INT64_MAX && e->ev.time >= frontier) {
                                break;
                        }
                        /* an event leaves with the ones before it: a
                         * frontier above its prefix's newest releases it */
                        times[n++] = pm = e->ev.time > pm ? e->ev.time : pm;
                }
        }
        if (n <= max) {
                free(times);
                return frontier;
        }
        cut = select_kth(times, n, max);
        {
                red_time_t oldest = times[0];
                for (size_t i = 1; i < n; i++) {
                        oldest = times[i] < oldest ? times[i] : oldest;
                }
                if (cut == oldest) {
                        cut++; /* everything at the oldest time goes together */
                }
        }
        free(times);
        return cut;
}

/* Moves buffered entry @p e of @p p into the batch. 0 or -ENOMEM. */
static int release_entry(red_core_t *core, part_t *p, entry_t *e)
{
        if (core->released_cnt == core->released_cap) {
                size_t ncap =
                        core->released_cap ? core->released_cap * 2 : 1024;
                entry_t **nr = realloc(core->released, ncap * sizeof(*nr));
                if (!nr) {
                        return -ENOMEM;
                }
                core->released = nr;
                core->released_cap = ncap;
        }
        e->state = E_RELEASED;
        p->buffered--;
        core->buffered--;
        core->released[core->released_cnt++] = e;
        if (e->urgent) {
                e->urgent = false;
                core->urgent_cnt--;
        }
        return 0;
}

/* After entries from @p first on were released: their order, the
 * workflows they need, their identities. Returns how many, or -ENOMEM. */
static long release_finish(red_core_t *core, size_t first, size_t urgent_before)
{
        if (core->urgent_cnt != urgent_before) {
                red_core_urgent_recompute(core);
        }
        if (sort_released(core, first)) {
                return -ENOMEM;
        }
        if (red_log_enabled(RED_LOG_DEBUG)) {
                for (size_t i = first; i < core->released_cnt; i++) {
                        const entry_t *e = core->released[i];
                        red_log_debug("core", "release %s[%d]@%lld %s %lld",
                                      e->msg.topic, (int)e->msg.partition,
                                      (long long)e->msg.offset,
                                      e->ev.kind->name, (long long)e->ev.time);
                }
        }
        if (core->wfs && core->c->workflow_key_slot >= 0) {
                for (size_t i = first; i < core->released_cnt; i++) {
                        const red_value_t *v =
                                red_event_value(&core->released[i]->ev,
                                                core->c->workflow_key_slot);
                        if (v && v->type == RED_FT_UUID &&
                            note_missing(core, &v->u)) {
                                return -ENOMEM;
                        }
                }
        }
        if (red_core_keys_note(core, first)) {
                return -ENOMEM;
        }
        for (size_t k = 0; k < core->c->state_cnt; k++) {
                for (size_t i = first; i < core->released_cnt; i++) {
                        if (red_state_table_note(core->states[k],
                                                 &core->released[i]->ev)) {
                                return -ENOMEM;
                        }
                }
        }
        return (long)(core->released_cnt - first);
}

red_time_t red_core_next_release(const red_core_t *core)
{
        red_time_t next = INT64_MAX;

        for (size_t i = 0; i < core->part_cnt; i++) {
                const entry_t *e = red_core_first_buffered(&core->parts[i]);

                if (e && e->ev.time < next) {
                        next = e->ev.time;
                }
        }
        return next;
}

long red_core_release(red_core_t *core, red_time_t frontier, size_t max)
{
        size_t first = core->released_cnt;
        size_t urgent_before = core->urgent_cnt;

        if (max && core->buffered > max) {
                frontier = cap_frontier(core, frontier, max);
        }

        for (size_t i = 0; i < core->part_cnt; i++) {
                part_t *p = &core->parts[i];

                for (entry_t *e = p->head; e && p->buffered; e = e->next) {
                        if (e->state != E_BUFFERED) {
                                continue;
                        }
                        if (frontier != INT64_MAX && e->ev.time >= frontier) {
                                break; /* the rest of this partition waits */
                        }
                        if (release_entry(core, p, e)) {
                                return -ENOMEM;
                        }
                }
        }
        return release_finish(core, first, urgent_before);
}

long red_core_release_one(red_core_t *core, red_time_t frontier)
{
        part_t *best = NULL;
        entry_t *head = NULL;
        size_t urgent_before = core->urgent_cnt;

        for (size_t i = 0; i < core->part_cnt; i++) {
                part_t *p = &core->parts[i];
                entry_t *e = red_core_first_buffered(p);

                if (!e || (frontier != INT64_MAX && e->ev.time >= frontier)) {
                        continue;
                }
                if (!head || cmp_release(&e, &head) < 0) {
                        best = p;
                        head = e;
                }
        }
        if (!head) {
                return 0;
        }
        if (release_entry(core, best, head)) {
                return -ENOMEM;
        }
        return release_finish(core, core->released_cnt - 1, urgent_before);
}
