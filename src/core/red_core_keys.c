/* red_core_keys - the batch's identities: raw-row keys, dedupe keys. */
#include "red_core_keys.h"

#include "red_buf.h"
#include "red_rows.h"
#include "red_uuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A raw-row identity looked up in key_set (items are key index + 1). */
typedef struct key_probe_s {
        const red_core_t *core;
        const red_core_raw_key_t *k;
} key_probe_t;

static bool key_eq(const void *item, const void *key)
{
        const key_probe_t *pr = key;
        const red_core_raw_key_t *a = &pr->core->keys[(uintptr_t)item - 1];
        const red_core_raw_key_t *b = pr->k;

        return a->raw == b->raw && a->table == b->table &&
               a->ident_len == b->ident_len &&
               !memcmp(a->ident, b->ident, a->ident_len);
}

/*
 * The raw rows with unique fields of the events released from @p first
 * on: the first of each identity in the batch becomes a key for the
 * caller to check against what is stored; a later one marks its event a
 * duplicate at once.
 */
static int note_raw_keys(red_core_t *core, size_t first)
{
        const red_contract_t *c = core->c;
        red_buf_t b;
        int r = 0;

        red_buf_init(&b);
        for (size_t i = first; i < core->released_cnt && !r; i++) {
                entry_t *e = core->released[i];

                for (size_t k = 0; k < c->raw_cnt && !e->duplicate; k++) {
                        const red_raw_t *raw = &c->raws[k];
                        red_core_raw_key_t cand = {.raw = raw, .entry = i};
                        key_probe_t pr = {core, &cand};
                        uint64_t h;

                        if (!raw->unique_cnt ||
                            !(raw->on & (UINT64_C(1) << e->ev.kind->index)) ||
                            !(cand.table = red_contract_raw_table(
                                      raw, e->msg.topic))) {
                                continue;
                        }
                        red_buf_reset(&b);
                        red_rows_raw_ident(raw, &e->ev, &b);
                        if (b.failed) {
                                r = -ENOMEM;
                                break;
                        }
                        cand.ident = b.data;
                        cand.ident_len = b.len;
                        cand.ev = &e->ev;
                        h = red_map_hash_bytes(b.data, b.len,
                                               (uint64_t)(uintptr_t)cand.table);
                        if (red_map_find(core->key_set, h, key_eq, &pr)) {
                                e->duplicate = true;
                                continue;
                        }
                        if (core->key_cnt == core->key_cap) {
                                size_t ncap =
                                        core->key_cap ? core->key_cap * 2 : 256;
                                red_core_raw_key_t *nk =
                                        realloc(core->keys, ncap * sizeof(*nk));
                                if (!nk) {
                                        r = -ENOMEM;
                                        break;
                                }
                                core->keys = nk;
                                core->key_cap = ncap;
                        }
                        if (!(cand.ident = malloc(b.len + 1))) {
                                r = -ENOMEM;
                                break;
                        }
                        memcpy(cand.ident, b.data, b.len + 1);
                        core->keys[core->key_cnt] = cand;
                        if (red_map_insert(
                                    core->key_set, h,
                                    (void *)(uintptr_t)(core->key_cnt + 1))) {
                                free(cand.ident);
                                r = -ENOMEM;
                                break;
                        }
                        core->key_cnt++;
                }
        }
        red_buf_destroy(&b);
        return r;
}

/* --- dedupe keys --------------------------------------------------------- */

/* A dedupe key looked up in dkey_set (items are key index + 1). */
typedef struct dkey_probe_s {
        const red_core_t *core;
        const char *key;
        size_t len;
} dkey_probe_t;

static bool dkey_eq(const void *item, const void *key)
{
        const dkey_probe_t *pr = key;
        const red_core_dedupe_key_t *a = &pr->core->dkeys[(uintptr_t)item - 1];

        return a->len == pr->len && !memcmp(a->key, pr->key, pr->len);
}

/* The text of a dedupe key value into @p b; false when there is none. */
static bool dedupe_text(const red_value_t *v, red_buf_t *b)
{
        char u[RED_UUID_STR_SIZE];

        red_buf_reset(b);
        if (!v) {
                return false;
        }
        switch (v->type) {
        case RED_FT_STRING:
                red_buf_append(b, v->s.p, v->s.len);
                return v->s.len > 0;
        case RED_FT_INTEGER:
                red_buf_put_i64(b, v->i);
                return true;
        case RED_FT_UUID:
                red_uuid_format(&v->u, u);
                red_buf_append(b, u, 36);
                return true;
        default:
                return false;
        }
}

/* Appends a key (its text copied); @p indexed: findable in dkey_set. */
static int dkey_add(red_core_t *core, const red_core_dedupe_key_t *k,
                    bool indexed)
{
        red_core_dedupe_key_t *nk;

        if (core->dkey_cnt == core->dkey_cap) {
                size_t ncap = core->dkey_cap ? core->dkey_cap * 2 : 256;
                if (!(nk = realloc(core->dkeys, ncap * sizeof(*nk)))) {
                        return -ENOMEM;
                }
                core->dkeys = nk;
                core->dkey_cap = ncap;
        }
        nk = &core->dkeys[core->dkey_cnt];
        *nk = *k;
        if (!(nk->key = malloc(k->len + 1))) {
                return -ENOMEM;
        }
        memcpy(nk->key, k->key, k->len);
        nk->key[k->len] = '\0';
        if (indexed &&
            red_map_insert(core->dkey_set, k->hash,
                           (void *)(uintptr_t)(core->dkey_cnt + 1))) {
                free(nk->key);
                return -ENOMEM;
        }
        core->dkey_cnt++;
        return 0;
}

/*
 * The dedupe keys of the events released from @p first on (in release
 * order, so the earliest of a key in event time is its first): a key seen
 * earlier in the batch within the horizon marks its event a duplicate at
 * once; the first becomes a key for the caller to check against what is
 * stored.
 */
static int note_dedupe_keys(red_core_t *core, size_t first)
{
        const red_contract_t *c = core->c;
        red_buf_t b;
        int r = 0;

        if (c->dedupe_slot < 0) {
                return 0;
        }
        red_buf_init(&b);
        for (size_t i = first; i < core->released_cnt && !r; i++) {
                entry_t *e = core->released[i];
                red_core_dedupe_key_t k = {.ev = &e->ev, .entry = i};
                const red_core_dedupe_key_t *seen;
                dkey_probe_t pr = {core, NULL, 0};
                void *item;

                if (e->duplicate ||
                    !dedupe_text(red_event_value(&e->ev, c->dedupe_slot), &b)) {
                        continue;
                }
                if (b.failed) {
                        r = -ENOMEM;
                        break;
                }
                k.key = b.data;
                pr.key = b.data;
                k.len = pr.len = b.len;
                k.hash = red_map_hash_bytes(b.data, b.len, 0);
                item = red_map_find(core->dkey_set, k.hash, dkey_eq, &pr);
                seen = item ? &core->dkeys[(uintptr_t)item - 1] : NULL;
                if (seen && (seen->ev->time > e->ev.time
                                     ? seen->ev->time - e->ev.time
                                     : e->ev.time - seen->ev->time) <=
                                    c->dedupe_horizon_us) {
                        e->duplicate = true;
                        continue;
                }
                /* the same key beyond the horizon is a key of its own */
                r = dkey_add(core, &k, !seen);
        }
        red_buf_destroy(&b);
        return r;
}

/* --- the batch's identities ---------------------------------------------- */

int red_core_keys_note(red_core_t *core, size_t first)
{
        int r = note_raw_keys(core, first);

        return r ? r : note_dedupe_keys(core, first);
}

int red_core_keys_init(red_core_t *core)
{
        if (!(core->key_set = red_map_new()) ||
            !(core->dkey_set = red_map_new())) {
                return -ENOMEM;
        }
        return 0;
}

void red_core_keys_clear(red_core_t *core)
{
        if (!core->key_set || !core->dkey_set) {
                return; /* red_core_keys_init() failed */
        }
        for (size_t i = 0; i < core->key_cnt; i++) {
                free(core->keys[i].ident);
        }
        core->key_cnt = 0;
        red_map_clear(core->key_set);
        for (size_t i = 0; i < core->dkey_cnt; i++) {
                free(core->dkeys[i].key);
        }
        core->dkey_cnt = 0;
        red_map_clear(core->dkey_set);
}

void red_core_keys_destroy(red_core_t *core)
{
        red_core_keys_clear(core);
        red_map_destroy(core->key_set);
        red_map_destroy(core->dkey_set);
        free(core->keys);
        free(core->dkeys);
}
