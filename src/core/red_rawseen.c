/* red_rawseen - raw-row identities and dedupe keys kept in memory across
 * batches. */
#include "red_rawseen.h"

#include "red_buf.h"
#include "red_map.h"
#include "red_seen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct red_rawseen_s {
        red_map_t *keys; /* "table\n" + identity, owned */
        red_buf_t key;
        /* the dedupe keys applied: one source, covered from the start
         * (nothing is stored anywhere else) */
        red_seen_t *dedupe;
};

red_rawseen_t *red_rawseen_new(const red_contract_t *c)
{
        red_rawseen_t *s = calloc(1, sizeof(*s));

        if (!s) {
                return NULL;
        }
        red_buf_init(&s->key);
        if (!(s->keys = red_map_new()) ||
            (c->dedupe_slot >= 0 &&
             (!(s->dedupe =
                        red_seen_new(SIZE_MAX / 64, c->dedupe_horizon_us)) ||
              red_seen_cover(s->dedupe, 0, INT64_MIN)))) {
                red_rawseen_destroy(s);
                return NULL;
        }
        return s;
}

void red_rawseen_destroy(red_rawseen_t *s)
{
        size_t pos = 0;
        char *k;

        if (!s) {
                return;
        }
        while (s->keys && (k = red_map_next(s->keys, &pos))) {
                free(k);
        }
        red_map_destroy(s->keys);
        red_buf_destroy(&s->key);
        red_seen_destroy(s->dedupe);
        free(s);
}

static bool key_eq(const void *item, const void *key)
{
        return !strcmp(item, key);
}

/* "table\n" + identity: what the table's unique key holds. */
static int seen_key(const red_core_raw_key_t *k, red_buf_t *out)
{
        red_buf_reset(out);
        red_buf_puts(out, k->table);
        red_buf_putc(out, '\n');
        red_buf_append(out, k->ident, k->ident_len);
        return out->failed ? -ENOMEM : 0;
}

int red_rawseen_mark(red_rawseen_t *s, red_core_t *core)
{
        const red_core_dedupe_key_t *dk;
        const red_core_raw_key_t *keys;
        size_t cnt;

        /* contract deduplication, as the seen-keys table would judge it */
        dk = red_core_dedupe_keys(core, &cnt);
        for (size_t i = 0; s->dedupe && i < cnt; i++) {
                if (red_seen_check(s->dedupe, 0, dk[i].hash, dk[i].ev->time) ==
                    RED_SEEN_DUP) {
                        red_core_dedupe_seen(core, i);
                }
        }
        keys = red_core_raw_keys(core, &cnt);
        for (size_t i = 0; i < cnt; i++) {
                if (seen_key(&keys[i], &s->key)) {
                        return -ENOMEM;
                }
                if (red_map_find(s->keys,
                                 red_map_hash_bytes(s->key.data, s->key.len, 0),
                                 key_eq, s->key.data)) {
                        red_core_raw_stored(core, i);
                }
        }
        return 0;
}

int red_rawseen_keep(red_rawseen_t *s, red_core_t *core)
{
        const red_core_dedupe_key_t *dk;
        const red_core_raw_key_t *keys;
        size_t cnt;

        dk = red_core_dedupe_keys(core, &cnt);
        for (size_t i = 0; s->dedupe && i < cnt; i++) {
                if (red_core_released_event(core, dk[i].entry) &&
                    red_seen_add(s->dedupe, 0, dk[i].hash, dk[i].ev->time)) {
                        return -ENOMEM;
                }
        }
        keys = red_core_raw_keys(core, &cnt);
        for (size_t i = 0; i < cnt; i++) {
                char *dup;

                if (!red_core_released_event(core, keys[i].entry)) {
                        continue; /* stored before */
                }
                if (seen_key(&keys[i], &s->key) ||
                    !(dup = strdup(s->key.data))) {
                        return -ENOMEM;
                }
                if (red_map_insert(
                            s->keys,
                            red_map_hash_bytes(s->key.data, s->key.len, 0),
                            dup)) {
                        free(dup);
                        return -ENOMEM;
                }
        }
        return 0;
}
