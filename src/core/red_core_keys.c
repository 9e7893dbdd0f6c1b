/* red_core_keys - the batch's identities: raw-row keys. */
#include "red_core_keys.h"

#include "red_buf.h"
#include "red_rows.h"

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
int red_core_keys_note(red_core_t *core, size_t first)
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
                            !(cand.table = red_raw_table(raw, e->msg.topic))) {
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
                        h = red_hash_bytes(b.data, b.len,
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
