/* red_discovery - the wanted and the held keys of the discovery mirror,
 * compared. */
#include "red_discovery.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void red_discovery_set_init(red_discovery_set_t *s)
{
        memset(s, 0, sizeof(*s));
}

int red_discovery_set_add(red_discovery_set_t *s, const char *key,
                          const char *value, int64_t ttl_s, int64_t lease)
{
        red_discovery_entry_t *e;

        if (s->cnt == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 64;
                red_discovery_entry_t *n = realloc(s->items, cap * sizeof(*n));
                if (!n) {
                        return -ENOMEM;
                }
                s->items = n;
                s->cap = cap;
        }
        e = &s->items[s->cnt];
        e->key = strdup(key);
        e->value = strdup(value);
        e->ttl_s = ttl_s;
        e->lease = lease;
        if (!e->key || !e->value) {
                free(e->key);
                free(e->value);
                return -ENOMEM;
        }
        s->cnt++;
        return 0;
}

static int by_key(const void *a, const void *b)
{
        const red_discovery_entry_t *x = a, *y = b;

        return strcmp(x->key, y->key);
}

void red_discovery_set_sort(red_discovery_set_t *s)
{
        if (s->cnt > 1) {
                qsort(s->items, s->cnt, sizeof(*s->items), by_key);
        }
}

void red_discovery_set_clear(red_discovery_set_t *s)
{
        for (size_t i = 0; i < s->cnt; i++) {
                free(s->items[i].key);
                free(s->items[i].value);
        }
        s->cnt = 0;
}

void red_discovery_set_destroy(red_discovery_set_t *s)
{
        if (!s) {
                return;
        }
        red_discovery_set_clear(s);
        free(s->items);
        memset(s, 0, sizeof(*s));
}

void red_discovery_set_move(red_discovery_set_t *to, red_discovery_set_t *from)
{
        red_discovery_set_destroy(to);
        *to = *from;
        memset(from, 0, sizeof(*from));
}

const char *red_discovery_state_name(red_discovery_state_t st)
{
        static const char *const names[] = {"agree", "missing", "different",
                                            "stray"};

        return st < RED_DISCOVERY__CNT ? names[st] : "?";
}

long red_discovery_diff(const red_discovery_set_t *want,
                        const red_discovery_set_t *have,
                        red_discovery_lease_cb *lease_for, void *opaque,
                        red_discovery_action_t **actions,
                        size_t counts[RED_DISCOVERY__CNT])
{
        red_discovery_action_t *acts = NULL;
        size_t i = 0, j = 0, n = 0, cap = 0;

        *actions = NULL;
        memset(counts, 0, RED_DISCOVERY__CNT * sizeof(*counts));
        /* a merge of two sorted lists */
        while (i < want->cnt || j < have->cnt) {
                const red_discovery_entry_t *w =
                        i < want->cnt ? &want->items[i] : NULL;
                const red_discovery_entry_t *h =
                        j < have->cnt ? &have->items[j] : NULL;
                int c = !w ? 1 : !h ? -1 : strcmp(w->key, h->key);
                red_discovery_state_t st;

                if (c < 0) {
                        st = RED_DISCOVERY_MISSING;
                        h = NULL;
                        i++;
                } else if (c > 0) {
                        st = RED_DISCOVERY_STRAY;
                        w = NULL;
                        j++;
                } else {
                        int64_t lease =
                                lease_for ? lease_for(opaque, w->ttl_s) : -1;
                        st = strcmp(w->value, h->value) ||
                                             (lease >= 0 && lease != h->lease)
                                     ? RED_DISCOVERY_DIFFERENT
                                     : RED_DISCOVERY_AGREE;
                        i++;
                        j++;
                }
                counts[st]++;
                if (st == RED_DISCOVERY_AGREE) {
                        continue;
                }
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        red_discovery_action_t *na =
                                realloc(acts, ncap * sizeof(*na));
                        if (!na) {
                                free(acts);
                                return -ENOMEM;
                        }
                        acts = na;
                        cap = ncap;
                }
                acts[n].state = st;
                acts[n].want = w;
                acts[n].have = h;
                n++;
        }
        *actions = acts;
        return (long)n;
}

double red_discovery_ratio(const size_t counts[RED_DISCOVERY__CNT])
{
        size_t all = 0;

        for (int k = 0; k < RED_DISCOVERY__CNT; k++) {
                all += counts[k];
        }
        return all ? (double)counts[RED_DISCOVERY_AGREE] / (double)all : 1.0;
}

int64_t red_discovery_ttl(double interval_s, bool has_interval,
                          double default_s, double factor)
{
        double s = has_interval && isfinite(interval_s) && interval_s > 0
                           ? interval_s
                           : default_s;
        double ttl = ceil(s * factor);

        if (!isfinite(ttl) || ttl < 1) {
                return 1;
        }
        return ttl > 1e9 ? INT64_C(1000000000) : (int64_t)ttl;
}
