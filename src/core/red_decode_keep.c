/* red_decode_keep - strings and JSON values a fast-path event owns. */
#include "red_decode_keep.h"

#include "red_json_tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void red_decode_keep_init(red_decode_keep_t *k)
{
        k->owned = NULL;
        k->buf = k->stack;
        k->len = 0;
        k->cap = sizeof(k->stack);
        k->slot_cnt = 0;
}

void red_decode_keep_destroy(red_decode_keep_t *k)
{
        json_decref(k->owned);
        k->owned = NULL;
        if (k->buf != k->stack) {
                free(k->buf);
        }
        k->buf = k->stack;
}

/* Room for @p n more bytes of kept strings. */
static int reserve(red_decode_keep_t *k, size_t n)
{
        char *nb;
        size_t ncap;

        if (k->cap - k->len >= n) {
                return 0;
        }
        ncap = (k->len + n) * 2;
        if (k->buf == k->stack) {
                if (!(nb = malloc(ncap))) {
                        return -1;
                }
                memcpy(nb, k->buf, k->len);
        } else if (!(nb = realloc(k->buf, ncap))) {
                return -1;
        }
        k->buf = nb;
        k->cap = ncap;
        return 0;
}

int red_decode_keep_text(red_decode_keep_t *k, const red_json_tok_t *t,
                         const char **p, size_t *len)
{
        if (!t->esc) {
                *p = t->p;
                *len = t->len;
                return 0;
        }
        /* the text is never longer than its escaped form */
        if (reserve(k, t->len)) {
                return -1;
        }
        *p = k->buf + k->len;
        *len = red_json_unescape(t->p, t->len, k->buf + k->len);
        return 0;
}

int red_decode_keep_string(red_decode_keep_t *k, red_value_t *v, int slot)
{
        if (v->s.p != k->buf + k->len) {
                return 0; /* a span of the message */
        }
        if (k->slot_cnt == RED_DECODE_KEEP_SLOTS) {
                return -1;
        }
        /* an offset until the buffer has its final place */
        v->s.p = (const char *)(uintptr_t)k->len;
        k->slots[k->slot_cnt++] = slot;
        k->len += v->s.len;
        return 0;
}

json_t *red_decode_keep_json(red_decode_keep_t *k, const red_json_tok_t *t)
{
        json_t *j;

        if (!k->owned && !(k->owned = json_array())) {
                return NULL;
        }
        switch (t ? t->t : RED_JSON_OBJ) {
        case RED_JSON_NULL:
                j = json_null();
                break;
        case RED_JSON_TRUE:
                j = json_true();
                break;
        case RED_JSON_FALSE:
                j = json_false();
                break;
        case RED_JSON_INT:
                j = json_integer(t->i);
                break;
        case RED_JSON_REAL:
                j = json_real(red_json_real(t->p, t->len));
                break;
        default:
                /* validated already: this parse cannot fail but for OOM */
                j = t ? red_json_tree_parse(t->p, t->len,
                                            JSON_DECODE_ANY | JSON_ALLOW_NUL)
                      : json_object();
                break;
        }
        if (!j || json_array_append_new(k->owned, j)) {
                return NULL;
        }
        return j;
}

int red_decode_keep_finish(red_decode_keep_t *k, red_event_t *ev)
{
        json_t *str;
        const char *base;

        if (k->slot_cnt) {
                if (!(k->owned || (k->owned = json_array())) ||
                    !(str = json_stringn_nocheck(k->buf, k->len)) ||
                    json_array_append_new(k->owned, str)) {
                        return -1;
                }
                base = json_string_value(str);
                for (size_t i = 0; i < k->slot_cnt; i++) {
                        red_value_t *v = &ev->values[k->slots[i]];
                        v->s.p = base + (uintptr_t)v->s.p;
                }
        }
        ev->root = k->owned;
        k->owned = NULL;
        return 0;
}
