/* red_tiles - the coarsest stored windows that cover a range exactly. */
#include "red_tiles.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct tiler_s {
        const red_tz_t *tz; /* the windows' zone, NULL = UTC */
        red_window_type_t types[RED_WINDOW__CNT]; /* coarsest first */
        size_t type_cnt;
        red_window_type_t finest;
        red_tile_t *tiles;
        size_t cnt, cap;
} tiler_t;

static int push_tile(tiler_t *t, red_window_type_t wt, red_time_t from,
                     red_time_t to, size_t windows)
{
        if (t->cnt == t->cap) {
                size_t cap = t->cap ? 2 * t->cap : 8;
                red_tile_t *n = realloc(t->tiles, cap * sizeof(*n));
                if (!n) {
                        return -ENOMEM;
                }
                t->tiles = n;
                t->cap = cap;
        }
        t->tiles[t->cnt++] = (red_tile_t){wt, from, to, windows};
        return 0;
}

static red_time_t end_of(const tiler_t *t, red_window_type_t wt, red_time_t s)
{
        return red_window_end_tz(wt, s, t->tz);
}

static red_time_t next_start(const tiler_t *t, red_window_type_t wt,
                             red_time_t at)
{
        red_time_t s = red_window_start_tz(wt, at, t->tz);

        return s < at ? end_of(t, wt, s) : s;
}

static bool aligned(const tiler_t *t, red_window_type_t wt, red_time_t at)
{
        return red_window_start_tz(wt, at, t->tz) == at;
}

/*
 * Tiles [a, b) (both on boundaries of the finest type): the coarsest type
 * with a whole window inside takes the longest run it can, the part
 * before it is tiled the same way, and so on with what follows. A type
 * whose boundaries are not boundaries of the finest one (months over
 * weeks) is passed over.
 */
static int tile(tiler_t *t, red_time_t a, red_time_t b)
{
        while (a < b) {
                bool placed = false;
                for (size_t i = 0; i < t->type_cnt && !placed; i++) {
                        red_window_type_t wt = t->types[i];
                        red_time_t s = next_start(t, wt, a), e = s;
                        size_t n = 0;
                        int r;
                        if (s >= b || !aligned(t, t->finest, s)) {
                                continue;
                        }
                        while (end_of(t, wt, e) <= b &&
                               aligned(t, t->finest, end_of(t, wt, e))) {
                                e = end_of(t, wt, e);
                                n++;
                        }
                        if (!n) {
                                continue;
                        }
                        if ((r = tile(t, a, s)) ||
                            (r = push_tile(t, wt, s, e, n))) {
                                return r;
                        }
                        a = e;
                        placed = true;
                }
                if (!placed) {
                        /* cannot happen when a and b are finest-aligned */
                        return -EINVAL;
                }
        }
        return 0;
}

int red_tiles_plan(uint32_t windows, const red_tz_t *tz, red_time_t from,
                   red_time_t to, red_time_t *covered_from,
                   red_time_t *covered_to, red_tile_t **tiles, size_t *cnt)
{
        tiler_t t = {.tz = tz, .type_cnt = 0};
        red_time_t len[RED_WINDOW__CNT];
        red_time_t s;
        int r;

        *tiles = NULL;
        *cnt = 0;
        if (from >= to) {
                return -EINVAL;
        }
        /* coarsest first, by the length of the window holding from */
        for (int wt = 0; wt < RED_WINDOW__CNT; wt++) {
                size_t i;
                if (!(windows & (1u << wt))) {
                        continue;
                }
                s = red_window_start_tz((red_window_type_t)wt, from, tz);
                len[wt] = end_of(&t, (red_window_type_t)wt, s) - s;
                for (i = t.type_cnt; i > 0 && len[t.types[i - 1]] < len[wt];
                     i--) {
                        t.types[i] = t.types[i - 1];
                }
                t.types[i] = (red_window_type_t)wt;
                t.type_cnt++;
        }
        if (!t.type_cnt) {
                return -EINVAL;
        }
        t.finest = t.types[t.type_cnt - 1];
        *covered_from = red_window_start_tz(t.finest, from, tz);
        s = red_window_start_tz(t.finest, to, tz);
        *covered_to = s == to ? to : end_of(&t, t.finest, s);
        if ((r = tile(&t, *covered_from, *covered_to))) {
                free(t.tiles);
                return r;
        }
        *tiles = t.tiles;
        *cnt = t.cnt;
        return 0;
}
