/* red_weight - an event's weight from its contract's weight field. */
#include "red_weight.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>

int red_weight_of(const red_contract_t *c, red_event_t *ev, char *detail,
                  size_t detail_size)
{
        const red_value_t *v;
        const char *name;
        double x, w;

        ev->weight = RED_WEIGHT_ONE;
        if (!c->weight || !(v = red_event_value(ev, c->weight->slot))) {
                return 0;
        }
        name = c->slot_names[c->weight->slot];
        x = v->type == RED_FT_INTEGER ? (double)v->i : v->d;
        w = c->weight->inverse ? 1.0 / x : x;
        if (!isfinite(w) || !(w > 0)) {
                snprintf(detail, detail_size,
                         "%s: %g gives the weight %g (a weight must be "
                         "finite and above 0)",
                         name, x, w);
                return -ERANGE;
        }
        if (w > RED_WEIGHT_MAX) {
                snprintf(detail, detail_size,
                         "%s: %g gives the weight %g, above the largest %g",
                         name, x, w, RED_WEIGHT_MAX);
                return -ERANGE;
        }
        ev->weight = llround(w * (double)RED_WEIGHT_ONE);
        if (ev->weight < 1) {
                snprintf(detail, detail_size,
                         "%s: %g gives the weight %g, below the smallest "
                         "0.000001",
                         name, x, w);
                ev->weight = RED_WEIGHT_ONE;
                return -ERANGE;
        }
        return 0;
}
