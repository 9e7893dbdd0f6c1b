/* red_workflows - bounded, pointer-stable table of live workflow records. */
#include "red_workflows.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Layout, and why:
 * - Records live in fixed chunks of CHUNK_SIZE slots that are never moved
 *   or freed before destroy, so a red_wf_t pointer is stable; a record is
 *   named by its uint32 slot index everywhere inside the table.
 * - The hash index is open addressing with linear probing over 8-byte
 *   entries (32 bits of the key's hash + slot index + 1); it is resized
 *   freely and deletes by backward shift (no tombstones). The stored hash
 *   bits avoid touching a record for most probe misses and make resizing
 *   a pass over the index alone.
 * - LRU is an intrusive doubly-linked list of slot indexes (exact order,
 *   8 bytes per record); free slots are chained through `next`.
 * - Terminal records sit in a binary min-heap on last_event_time so TTL
 *   eviction costs O(evicted log n) instead of a scan. Heap keys are copied
 *   into the heap entry because a dirty record's time may move during a
 *   batch; commit reconciles every dirty record with the heap.
 * - Remembered strings are interned and refcounted (a handful of distinct
 *   values such as node types are shared by a million records).
 */

#define CHUNK_SHIFT 12
#define CHUNK_SIZE  (1u << CHUNK_SHIFT)
#define NIL         UINT32_MAX
#define MAX_SLOTS   (UINT32_MAX - CHUNK_SIZE)

#define IDX_MIN_CAP    1024
#define DIRTY_KEEP     65536 /* dirty-array capacity kept after a batch */
#define INTERN_MIN_CAP 64

#define WF_DIRTY 0x01 /* in the dirty array */

typedef struct rec_s {
        red_wf_t wf;   /* first: a red_wf_t * is a rec_t * */
        uint32_t prev; /* LRU: more recently used neighbour, or NIL */
        uint32_t next; /* LRU: less recently used; free list link */
        uint32_t heap; /* position in the TTL heap, or NIL */
        uint32_t self; /* own slot index */
} rec_t;

typedef struct idx_entry_s {
        uint32_t hash;
        uint32_t ref; /* slot + 1; 0 = empty */
} idx_entry_t;

typedef struct heap_entry_s {
        red_time_t time;
        uint32_t slot;
} heap_entry_t;

typedef struct istr_s {
        uint32_t refcnt;
        uint32_t hash;
        size_t len;
        char s[];
} istr_t;

struct red_workflows_s {
        size_t max_live;
        int64_t ttl_us;
        uint32_t terminal_mask;
        size_t remember_cnt;

        rec_t **chunks;
        size_t chunk_cnt, chunk_cap;
        uint32_t used;      /* slots ever handed out (bump pointer) */
        uint32_t free_head; /* free slot list */
        size_t count;

        idx_entry_t *idx;
        size_t idx_cap; /* power of two */

        uint32_t lru_head, lru_tail;

        heap_entry_t *heap;
        size_t heap_cnt, heap_cap;

        red_wf_t **dirty;
        size_t dirty_cnt, dirty_cap;

        istr_t **strs;
        size_t str_cnt, str_cap; /* power of two */
};

static inline rec_t *rec_at(const red_workflows_t *t, uint32_t slot)
{
        return &t->chunks[slot >> CHUNK_SHIFT][slot & (CHUNK_SIZE - 1)];
}

static inline rec_t *rec_of(red_wf_t *wf)
{
        return (rec_t *)wf;
}

static inline bool is_terminal(const red_workflows_t *t, const red_wf_t *wf)
{
        return wf->state < 32 && (t->terminal_mask >> wf->state) & 1u;
}

static inline uint32_t hash32(const red_uuid_t *id)
{
        return (uint32_t)red_uuid_hash(id);
}

/*
 * ------------------------------------------------------------------------
 * Interned strings
 * ------------------------------------------------------------------------
 */

static uint32_t str_hash(const char *s, size_t len)
{
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < len; i++) {
                h = (h ^ (uint8_t)s[i]) * UINT64_C(0x100000001b3);
        }
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        return (uint32_t)h;
}

static int intern_grow(red_workflows_t *t)
{
        size_t cap = t->str_cap ? t->str_cap * 2 : INTERN_MIN_CAP;
        istr_t **n = calloc(cap, sizeof(*n));

        if (!n) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < t->str_cap; i++) {
                istr_t *e = t->strs[i];
                size_t p;
                if (!e) {
                        continue;
                }
                for (p = e->hash & (cap - 1); n[p]; p = (p + 1) & (cap - 1)) {
                }
                n[p] = e;
        }
        free(t->strs);
        t->strs = n;
        t->str_cap = cap;
        return 0;
}

/* A new reference to the interned copy of s, or NULL on OOM. */
static const char *intern(red_workflows_t *t, const char *s, size_t len)
{
        uint32_t h = str_hash(s, len);
        size_t mask, p;
        istr_t *e;

        if ((t->str_cnt + 1) * 2 > t->str_cap && intern_grow(t)) {
                return NULL;
        }
        mask = t->str_cap - 1;
        for (p = h & mask; (e = t->strs[p]); p = (p + 1) & mask) {
                if (e->hash == h && e->len == len && !memcmp(e->s, s, len)) {
                        e->refcnt++;
                        return e->s;
                }
        }
        if (!(e = malloc(sizeof(*e) + len + 1))) {
                return NULL;
        }
        e->refcnt = 1;
        e->hash = h;
        e->len = len;
        memcpy(e->s, s, len);
        e->s[len] = '\0';
        t->strs[p] = e;
        t->str_cnt++;
        return e->s;
}

static void intern_release(red_workflows_t *t, const char *s)
{
        istr_t *e = (istr_t *)(void *)(s - offsetof(istr_t, s));
        size_t mask = t->str_cap - 1, i, j;

        if (--e->refcnt) {
                return;
        }
        for (i = e->hash & mask; t->strs[i] != e; i = (i + 1) & mask) {
        }
        /* backward-shift deletion */
        for (j = i;;) {
                size_t k;
                j = (j + 1) & mask;
                if (!t->strs[j]) {
                        break;
                }
                k = t->strs[j]->hash & mask;
                if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) {
                        continue;
                }
                t->strs[i] = t->strs[j];
                i = j;
        }
        t->strs[i] = NULL;
        t->str_cnt--;
        free(e);
}

/*
 * ------------------------------------------------------------------------
 * Hash index
 * ------------------------------------------------------------------------
 */

static int idx_grow(red_workflows_t *t)
{
        size_t cap = t->idx_cap ? t->idx_cap * 2 : IDX_MIN_CAP;
        idx_entry_t *n = calloc(cap, sizeof(*n));

        if (!n) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < t->idx_cap; i++) {
                idx_entry_t e = t->idx[i];
                size_t p;
                if (!e.ref) {
                        continue;
                }
                for (p = e.hash & (cap - 1); n[p].ref;
                     p = (p + 1) & (cap - 1)) {
                }
                n[p] = e;
        }
        free(t->idx);
        t->idx = n;
        t->idx_cap = cap;
        return 0;
}

/* Slot of id, or NIL; *posp = its index position or the empty one. */
static uint32_t idx_find(const red_workflows_t *t, const red_uuid_t *id,
                         uint32_t h, size_t *posp)
{
        size_t mask = t->idx_cap - 1, p;

        for (p = h & mask; t->idx[p].ref; p = (p + 1) & mask) {
                if (t->idx[p].hash == h &&
                    !memcmp(rec_at(t, t->idx[p].ref - 1)->wf.id.b, id->b,
                            sizeof(id->b))) {
                        *posp = p;
                        return t->idx[p].ref - 1;
                }
        }
        *posp = p;
        return NIL;
}

static void idx_remove(red_workflows_t *t, uint32_t slot)
{
        size_t mask = t->idx_cap - 1, i, j;
        uint32_t h = hash32(&rec_at(t, slot)->wf.id);

        for (i = h & mask; t->idx[i].ref != slot + 1; i = (i + 1) & mask) {
        }
        for (j = i;;) {
                size_t k;
                j = (j + 1) & mask;
                if (!t->idx[j].ref) {
                        break;
                }
                k = t->idx[j].hash & mask;
                if (i <= j ? (i < k && k <= j) : (i < k || k <= j)) {
                        continue;
                }
                t->idx[i] = t->idx[j];
                i = j;
        }
        t->idx[i].ref = 0;
        t->idx[i].hash = 0;
}

/*
 * ------------------------------------------------------------------------
 * LRU list
 * ------------------------------------------------------------------------
 */

static void lru_unlink(red_workflows_t *t, rec_t *r)
{
        if (r->prev != NIL) {
                rec_at(t, r->prev)->next = r->next;
        } else {
                t->lru_head = r->next;
        }
        if (r->next != NIL) {
                rec_at(t, r->next)->prev = r->prev;
        } else {
                t->lru_tail = r->prev;
        }
}

static void lru_push_head(red_workflows_t *t, rec_t *r)
{
        r->prev = NIL;
        r->next = t->lru_head;
        if (t->lru_head != NIL) {
                rec_at(t, t->lru_head)->prev = r->self;
        } else {
                t->lru_tail = r->self;
        }
        t->lru_head = r->self;
}

/*
 * ------------------------------------------------------------------------
 * TTL heap (min on time)
 * ------------------------------------------------------------------------
 */

static inline void heap_set(red_workflows_t *t, size_t pos, heap_entry_t e)
{
        t->heap[pos] = e;
        rec_at(t, e.slot)->heap = (uint32_t)pos;
}

static void heap_sift_up(red_workflows_t *t, size_t pos)
{
        heap_entry_t e = t->heap[pos];

        while (pos > 0) {
                size_t parent = (pos - 1) / 2;
                if (t->heap[parent].time <= e.time) {
                        break;
                }
                heap_set(t, pos, t->heap[parent]);
                pos = parent;
        }
        heap_set(t, pos, e);
}

static void heap_sift_down(red_workflows_t *t, size_t pos)
{
        heap_entry_t e = t->heap[pos];

        for (;;) {
                size_t c = pos * 2 + 1;
                if (c >= t->heap_cnt) {
                        break;
                }
                if (c + 1 < t->heap_cnt &&
                    t->heap[c + 1].time < t->heap[c].time) {
                        c++;
                }
                if (e.time <= t->heap[c].time) {
                        break;
                }
                heap_set(t, pos, t->heap[c]);
                pos = c;
        }
        heap_set(t, pos, e);
}

static int heap_reserve(red_workflows_t *t, size_t need)
{
        size_t cap;
        heap_entry_t *n;

        if (need <= t->heap_cap) {
                return 0;
        }
        cap = t->heap_cap ? t->heap_cap : 64;
        while (cap < need) {
                cap *= 2;
        }
        if (!(n = realloc(t->heap, cap * sizeof(*n)))) {
                return -ENOMEM;
        }
        t->heap = n;
        t->heap_cap = cap;
        return 0;
}

/* Capacity must have been reserved. */
static void heap_push(red_workflows_t *t, rec_t *r)
{
        heap_entry_t e = {r->wf.last_event_time, r->self};

        t->heap[t->heap_cnt] = e;
        r->heap = (uint32_t)t->heap_cnt++;
        heap_sift_up(t, r->heap);
}

/* Restores the heap order around pos after its key changed. */
static void heap_fix(red_workflows_t *t, size_t pos)
{
        if (pos > 0 && t->heap[(pos - 1) / 2].time > t->heap[pos].time) {
                heap_sift_up(t, pos);
        } else {
                heap_sift_down(t, pos);
        }
}

static void heap_remove(red_workflows_t *t, rec_t *r)
{
        size_t pos = r->heap;

        r->heap = NIL;
        if (pos == --t->heap_cnt) {
                return;
        }
        heap_set(t, pos, t->heap[t->heap_cnt]);
        heap_fix(t, pos);
}

/* Puts a clean record where its state and time say (capacity reserved). */
static void heap_reconcile(red_workflows_t *t, rec_t *r)
{
        bool term = is_terminal(t, &r->wf);

        if (!term) {
                if (r->heap != NIL) {
                        heap_remove(t, r);
                }
        } else if (r->heap == NIL) {
                heap_push(t, r);
        } else if (t->heap[r->heap].time != r->wf.last_event_time) {
                t->heap[r->heap].time = r->wf.last_event_time;
                heap_fix(t, r->heap);
        }
}

/*
 * ------------------------------------------------------------------------
 * Slots
 * ------------------------------------------------------------------------
 */

static rec_t *slot_alloc(red_workflows_t *t)
{
        uint32_t slot;
        rec_t *r;

        if (t->free_head != NIL) {
                slot = t->free_head;
                r = rec_at(t, slot);
                t->free_head = r->next;
        } else {
                if (t->used >= MAX_SLOTS) {
                        return NULL;
                }
                if ((size_t)t->used == t->chunk_cnt * CHUNK_SIZE) {
                        if (t->chunk_cnt == t->chunk_cap) {
                                size_t cap =
                                        t->chunk_cap ? t->chunk_cap * 2 : 16;
                                rec_t **n =
                                        realloc(t->chunks, cap * sizeof(*n));
                                if (!n) {
                                        return NULL;
                                }
                                t->chunks = n;
                                t->chunk_cap = cap;
                        }
                        /* calloc: pages are only touched when used */
                        if (!(t->chunks[t->chunk_cnt] =
                                      calloc(CHUNK_SIZE, sizeof(rec_t)))) {
                                return NULL;
                        }
                        t->chunk_cnt++;
                }
                slot = t->used++;
                r = rec_at(t, slot);
        }
        memset(r, 0, sizeof(*r));
        r->self = slot;
        r->prev = r->next = r->heap = NIL;
        return r;
}

static void slot_free(red_workflows_t *t, rec_t *r)
{
        r->wf.flags = 0;
        r->next = t->free_head;
        t->free_head = r->self;
}

/*
 * Inserts a fresh record for id (which must be absent) into the index and
 * at the head of the LRU list. Returns NULL on OOM with nothing changed.
 */
static rec_t *rec_insert(red_workflows_t *t, const red_uuid_t *id, uint32_t h)
{
        size_t pos;
        rec_t *r;

        if ((t->count + 1) * 4 > t->idx_cap * 3) {
                if (idx_grow(t)) {
                        return NULL;
                }
        }
        if (!(r = slot_alloc(t))) {
                return NULL;
        }
        r->wf.id = *id;
        r->wf.state = RED_WF_NONE;
        r->wf.previous_state = RED_WF_NONE;
        r->wf.partition = -1;
        r->wf.last_event_time = INT64_MIN;
        (void)idx_find(t, id, h, &pos);
        t->idx[pos].hash = h;
        t->idx[pos].ref = r->self + 1;
        lru_push_head(t, r);
        t->count++;
        return r;
}

/* Removes a record from every structure and frees its slot. */
static void rec_drop(red_workflows_t *t, rec_t *r)
{
        idx_remove(t, r->self);
        lru_unlink(t, r);
        if (r->heap != NIL) {
                heap_remove(t, r);
        }
        for (size_t i = 0; i < RED_WF_MAX_REMEMBER; i++) {
                if (r->wf.remembered[i]) {
                        intern_release(t, r->wf.remembered[i]);
                        r->wf.remembered[i] = NULL;
                }
        }
        slot_free(t, r);
        t->count--;
}

/*
 * ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------
 */

red_workflows_t *red_workflows_new(size_t max_live, int64_t terminal_ttl_us,
                                   uint32_t terminal_mask, size_t remember_cnt)
{
        red_workflows_t *t;

        if (remember_cnt > RED_WF_MAX_REMEMBER) {
                return NULL;
        }
        if (!(t = calloc(1, sizeof(*t)))) {
                return NULL;
        }
        t->max_live = max_live;
        t->ttl_us = terminal_ttl_us;
        t->terminal_mask = terminal_mask;
        t->remember_cnt = remember_cnt;
        t->free_head = NIL;
        t->lru_head = t->lru_tail = NIL;
        if (idx_grow(t)) {
                free(t);
                return NULL;
        }
        return t;
}

void red_workflows_destroy(red_workflows_t *t)
{
        if (!t) {
                return;
        }
        for (size_t i = 0; i < t->str_cap; i++) {
                free(t->strs[i]);
        }
        free(t->strs);
        for (size_t i = 0; i < t->chunk_cnt; i++) {
                free(t->chunks[i]);
        }
        free(t->chunks);
        free(t->idx);
        free(t->heap);
        free(t->dirty);
        free(t);
}

red_wf_t *red_workflows_get(red_workflows_t *t, const red_uuid_t *id)
{
        size_t pos;
        uint32_t slot = idx_find(t, id, hash32(id), &pos);
        rec_t *r;

        if (slot == NIL) {
                return NULL;
        }
        r = rec_at(t, slot);
        if (t->lru_head != slot) {
                lru_unlink(t, r);
                lru_push_head(t, r);
        }
        return &r->wf;
}

red_wf_t *red_workflows_create(red_workflows_t *t, const red_uuid_t *id)
{
        uint32_t h = hash32(id);
        size_t pos;
        uint32_t slot = idx_find(t, id, h, &pos);
        rec_t *r;

        if (slot != NIL) {
                return &rec_at(t, slot)->wf;
        }
        if (!(r = rec_insert(t, id, h))) {
                return NULL;
        }
        if (red_workflows_touch(t, &r->wf)) {
                rec_drop(t, r);
                return NULL;
        }
        return &r->wf;
}

int red_workflows_touch(red_workflows_t *t, red_wf_t *wf)
{
        if (wf->flags & WF_DIRTY) {
                return 0;
        }
        if (t->dirty_cnt == t->dirty_cap) {
                size_t cap = t->dirty_cap ? t->dirty_cap * 2 : 256;
                red_wf_t **n = realloc(t->dirty, cap * sizeof(*n));
                if (!n) {
                        return -ENOMEM;
                }
                t->dirty = n;
                t->dirty_cap = cap;
        }
        /* commit may push every dirty record into the heap: reserve now,
         * so that commit cannot fail */
        if (heap_reserve(t, t->heap_cnt + t->dirty_cnt + 1)) {
                return -ENOMEM;
        }
        t->dirty[t->dirty_cnt++] = wf;
        wf->flags |= WF_DIRTY;
        return 0;
}

int red_workflows_remember(red_workflows_t *t, red_wf_t *wf, size_t idx,
                           const char *s, size_t len)
{
        const char *v;
        int r;

        if (idx >= t->remember_cnt) {
                return -EINVAL;
        }
        if (wf->remembered[idx] && strlen(wf->remembered[idx]) == len &&
            !memcmp(wf->remembered[idx], s, len)) {
                return 0;
        }
        if ((r = red_workflows_touch(t, wf))) {
                return r;
        }
        if (!(v = intern(t, s, len))) {
                return -ENOMEM;
        }
        if (wf->remembered[idx]) {
                intern_release(t, wf->remembered[idx]);
        }
        wf->remembered[idx] = v;
        return 0;
}

size_t red_workflows_dirty(red_workflows_t *t, red_wf_t ***out)
{
        *out = t->dirty;
        return t->dirty_cnt;
}

static void dirty_reset(red_workflows_t *t)
{
        t->dirty_cnt = 0;
        if (t->dirty_cap > DIRTY_KEEP) {
                /* a huge batch (bulk load) must not pin its array */
                free(t->dirty);
                t->dirty = NULL;
                t->dirty_cap = 0;
        }
}

void red_workflows_commit(red_workflows_t *t)
{
        for (size_t i = 0; i < t->dirty_cnt; i++) {
                rec_t *r = rec_of(t->dirty[i]);
                r->wf.flags &= (uint8_t)~WF_DIRTY;
                heap_reconcile(t, r);
        }
        dirty_reset(t);
}

void red_workflows_rollback(red_workflows_t *t)
{
        for (size_t i = 0; i < t->dirty_cnt; i++) {
                rec_drop(t, rec_of(t->dirty[i]));
        }
        dirty_reset(t);
}

size_t red_workflows_evict(red_workflows_t *t, red_time_t now)
{
        size_t n = 0;

        if (t->ttl_us >= 0) {
                red_time_t cutoff = now < INT64_MIN + t->ttl_us
                                            ? INT64_MIN
                                            : now - t->ttl_us;
                while (t->heap_cnt && t->heap[0].time < cutoff) {
                        rec_t *r = rec_at(t, t->heap[0].slot);
                        if (r->wf.flags & WF_DIRTY) {
                                /* commit puts it back with its new time */
                                heap_remove(t, r);
                                continue;
                        }
                        rec_drop(t, r);
                        n++;
                }
        }
        if (t->max_live) {
                uint32_t s = t->lru_tail;
                while (t->count > t->max_live && s != NIL) {
                        rec_t *r = rec_at(t, s);
                        s = r->prev;
                        if (!(r->wf.flags & WF_DIRTY)) {
                                rec_drop(t, r);
                                n++;
                        }
                }
        }
        return n;
}

size_t red_workflows_drop_partition(red_workflows_t *t, int32_t partition)
{
        uint32_t s = t->lru_head;
        size_t n = 0;

        while (s != NIL) {
                rec_t *r = rec_at(t, s);
                s = r->next;
                if (r->wf.partition == partition && !(r->wf.flags & WF_DIRTY)) {
                        rec_drop(t, r);
                        n++;
                }
        }
        return n;
}

size_t red_workflows_count(const red_workflows_t *t)
{
        return t->count;
}

size_t red_workflows_remember_cnt(const red_workflows_t *t)
{
        return t->remember_cnt;
}

size_t red_workflows_interned(const red_workflows_t *t)
{
        return t->str_cnt;
}

red_wf_t *red_workflows_restore(red_workflows_t *t, const red_uuid_t *id,
                                uint8_t state, uint8_t previous_state,
                                red_time_t state_entry_time,
                                uint32_t transition_count, int32_t partition,
                                const char *const *remembered)
{
        uint32_t h = hash32(id);
        size_t pos;
        uint32_t slot = idx_find(t, id, h, &pos);
        rec_t *r;

        if (slot != NIL) {
                return &rec_at(t, slot)->wf;
        }
        if (heap_reserve(t, t->heap_cnt + t->dirty_cnt + 1) ||
            !(r = rec_insert(t, id, h))) {
                return NULL;
        }
        r->wf.state = state;
        r->wf.previous_state = previous_state;
        r->wf.state_entry_time = state_entry_time;
        r->wf.last_event_time = state_entry_time;
        r->wf.transition_count = transition_count;
        r->wf.partition = partition;
        for (size_t i = 0; remembered && i < t->remember_cnt; i++) {
                if (!remembered[i]) {
                        continue;
                }
                if (!(r->wf.remembered[i] = intern(t, remembered[i],
                                                   strlen(remembered[i])))) {
                        rec_drop(t, r);
                        return NULL;
                }
        }
        heap_reconcile(t, r);
        return &r->wf;
}
