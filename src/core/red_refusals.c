/* red_refusals - messages storage refused, until committed past. */
#include "red_refusals.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Refusals are rare and short-lived (a batch's worth at most): a plain
 * array, searched only while it holds any. */
typedef struct refusal_s {
        char *topic;
        int32_t partition;
        int64_t offset;
        char *detail;
} refusal_t;

struct red_refusals_s {
        refusal_t *items;
        size_t cnt, cap;
};

red_refusals_t *red_refusals_new(void)
{
        return calloc(1, sizeof(red_refusals_t));
}

static void item_free(refusal_t *it)
{
        free(it->topic);
        free(it->detail);
}

void red_refusals_destroy(red_refusals_t *r)
{
        if (!r) {
                return;
        }
        for (size_t i = 0; i < r->cnt; i++) {
                item_free(&r->items[i]);
        }
        free(r->items);
        free(r);
}

static refusal_t *find(const red_refusals_t *r, const char *topic,
                       int32_t partition, int64_t offset)
{
        for (size_t i = 0; i < r->cnt; i++) {
                refusal_t *it = &r->items[i];

                if (it->offset == offset && it->partition == partition &&
                    !strcmp(it->topic, topic)) {
                        return it;
                }
        }
        return NULL;
}

int red_refusals_add(red_refusals_t *r, const char *topic, int32_t partition,
                     int64_t offset, const char *detail)
{
        refusal_t *it = find(r, topic, partition, offset);
        char *d = strdup(detail);

        if (!d) {
                return -ENOMEM;
        }
        if (it) {
                free(it->detail);
                it->detail = d;
                return 0;
        }
        if (r->cnt == r->cap) {
                size_t ncap = r->cap ? r->cap * 2 : 8;
                refusal_t *ni = realloc(r->items, ncap * sizeof(*ni));
                if (!ni) {
                        free(d);
                        return -ENOMEM;
                }
                r->items = ni;
                r->cap = ncap;
        }
        it = &r->items[r->cnt];
        if (!(it->topic = strdup(topic))) {
                free(d);
                return -ENOMEM;
        }
        it->partition = partition;
        it->offset = offset;
        it->detail = d;
        r->cnt++;
        return 0;
}

const char *red_refusals_find(const red_refusals_t *r, const char *topic,
                              int32_t partition, int64_t offset)
{
        const refusal_t *it;

        if (!r->cnt) {
                return NULL;
        }
        it = find(r, topic, partition, offset);
        return it ? it->detail : NULL;
}

void red_refusals_forget(red_refusals_t *r, const char *topic,
                         int32_t partition, int64_t before)
{
        size_t keep = 0;

        for (size_t i = 0; i < r->cnt; i++) {
                refusal_t *it = &r->items[i];

                if (it->partition == partition && it->offset < before &&
                    !strcmp(it->topic, topic)) {
                        item_free(it);
                } else {
                        r->items[keep++] = *it;
                }
        }
        r->cnt = keep;
}
