/* red_json_tree - jansson trees, member names with \u0000 included. */
#include "red_json_tree.h"

#include "red_json_scan.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_FLAGS (JSON_ALLOW_NUL | JSON_DECODE_ANY)

/* --- the builder -------------------------------------------------- */

/*
 * A tree built from red_json_scan_walk(): json_loadb()'s values by
 * json_loadb()'s rules, but names may hold \u0000. Used only after
 * json_loadb() refused such a name, so it need not be fast.
 */
typedef struct build_s {
        json_t *root;
        json_t *stack[JSON_PARSER_MAX_DEPTH + 1]; /* borrowed from root */
        size_t depth;
        char *key; /* the pending member name, unescaped */
        size_t key_len, key_cap;
        char *text; /* scratch: a string value, a long number */
        size_t text_cap;
        size_t *nul_at; /* offsets of the \u0000 escapes in names */
        size_t nul_cnt, nul_cap;
        const char *data;
} build_t;

/* Room for @p n bytes and a NUL in *@p buf. */
static int reserve(char **buf, size_t *cap, size_t n)
{
        char *nb;

        if (*cap > n) {
                return 0;
        }
        if (!(nb = realloc(*buf, n + 1))) {
                return -1;
        }
        *buf = nb;
        *cap = n + 1;
        return 0;
}

/* Attaches @p v (a new reference, consumed) where the walk is. */
static int attach(build_t *b, json_t *v)
{
        json_t *parent;

        if (!v) {
                return -1;
        }
        if (!b->depth) {
                b->root = v;
                return 0;
        }
        parent = b->stack[b->depth - 1];
        if (json_is_object(parent)) {
                /* the last of duplicate names counts, as in json_loadb */
                return json_object_setn_new_nocheck(parent, b->key, b->key_len,
                                                    v);
        }
        return json_array_append_new(parent, v);
}

static int on_begin(void *opaque, red_json_type_t t)
{
        build_t *b = opaque;
        json_t *v = t == RED_JSON_OBJ ? json_object() : json_array();

        if (b->depth == JSON_PARSER_MAX_DEPTH + 1 || attach(b, v)) {
                return -1;
        }
        b->stack[b->depth++] = v;
        return 0;
}

/* Remembers where the \u0000 escapes of a name are (raw text). */
static int note_nuls(build_t *b, const red_json_tok_t *name)
{
        for (size_t i = 0; i + 1 < name->len; i++) {
                if (name->p[i] != '\\') {
                        continue;
                }
                if (name->p[i + 1] == 'u' && i + 6 <= name->len &&
                    !memcmp(name->p + i + 2, "0000", 4)) {
                        if (b->nul_cnt == b->nul_cap) {
                                size_t ncap = b->nul_cap ? 2 * b->nul_cap : 8;
                                size_t *n =
                                        realloc(b->nul_at, ncap * sizeof(*n));
                                if (!n) {
                                        return -1;
                                }
                                b->nul_at = n;
                                b->nul_cap = ncap;
                        }
                        b->nul_at[b->nul_cnt++] =
                                (size_t)(name->p + i - b->data);
                }
                i++; /* the escaped character is not an escape */
        }
        return 0;
}

static int on_key(void *opaque, const red_json_tok_t *name)
{
        build_t *b = opaque;

        if (note_nuls(b, name) || reserve(&b->key, &b->key_cap, name->len)) {
                return -1;
        }
        b->key_len = red_json_unescape(name->p, name->len, b->key);
        return 0;
}

/* An integer too long for the scanner, as json_loadb reads it: strtoll,
 * refused when it overflows. */
static json_t *wide_integer(build_t *b, const red_json_tok_t *v)
{
        long long x;

        if (reserve(&b->text, &b->text_cap, v->len)) {
                return NULL;
        }
        memcpy(b->text, v->p, v->len);
        b->text[v->len] = '\0';
        errno = 0;
        x = strtoll(b->text, NULL, 10);
        return errno == ERANGE ? NULL : json_integer(x);
}

static int on_scalar(void *opaque, const red_json_tok_t *v)
{
        build_t *b = opaque;
        double d;

        switch (v->t) {
        case RED_JSON_NULL:
                return attach(b, json_null());
        case RED_JSON_TRUE:
                return attach(b, json_true());
        case RED_JSON_FALSE:
                return attach(b, json_false());
        case RED_JSON_INT:
                return attach(b, v->wide ? wide_integer(b, v)
                                         : json_integer(v->i));
        case RED_JSON_REAL:
                /* json_loadb refuses overflow, takes underflow */
                d = red_json_real(v->p, v->len);
                return isfinite(d) ? attach(b, json_real(d)) : -1;
        default:
                if (reserve(&b->text, &b->text_cap, v->len)) {
                        return -1;
                }
                return attach(
                        b, json_stringn_nocheck(
                                   b->text,
                                   red_json_unescape(v->p, v->len, b->text)));
        }
}

static int on_end(void *opaque)
{
        build_t *b = opaque;

        b->depth--;
        return 0;
}

/* --- the fast builder -------------------------------------------- */

/* Nesting the fast builder follows (deeper: json_loadb). */
#define FAST_DEPTH 64
/* Unescaped text on the stack; longer strings take one allocation. */
#define FAST_TEXT 1024

typedef struct fast_s {
        json_t *root;
        json_t *stack[FAST_DEPTH + 1]; /* borrowed from root */
        size_t depth;
        size_t flags;
        char *text; /* scratch of the input's length: names and strings */
        const char *key;
        size_t key_len;
        char small[FAST_TEXT];
} fast_t;

/* The text of the string token @p t: its span, or unescaped into the
 * scratch at @p at (names and the string after them do not overlap). */
static const char *fast_text(fast_t *f, const red_json_tok_t *t, size_t at,
                             size_t *lenp)
{
        if (!t->esc) {
                *lenp = t->len;
                return t->p;
        }
        *lenp = red_json_unescape(t->p, t->len, f->text + at);
        return f->text + at;
}

static int fast_attach(fast_t *f, json_t *v)
{
        json_t *parent;

        if (!v) {
                return -1;
        }
        if (!f->depth) {
                f->root = v;
                return 0;
        }
        parent = f->stack[f->depth - 1];
        if (json_is_object(parent)) {
                return json_object_setn_new_nocheck(parent, f->key, f->key_len,
                                                    v);
        }
        return json_array_append_new(parent, v);
}

static int fast_begin(void *opaque, red_json_type_t t)
{
        fast_t *f = opaque;
        json_t *v;

        if (f->depth == FAST_DEPTH) {
                return -1;
        }
        v = t == RED_JSON_OBJ ? json_object() : json_array();
        if (fast_attach(f, v)) {
                return -1;
        }
        f->stack[f->depth++] = v;
        return 0;
}

static int fast_key(void *opaque, const red_json_tok_t *name)
{
        fast_t *f = opaque;

        f->key = fast_text(f, name, 0, &f->key_len);
        /* json_loadb refuses \u0000 in a name, whatever the flags */
        return name->esc && memchr(f->key, '\0', f->key_len) ? -1 : 0;
}

static int fast_scalar(void *opaque, const red_json_tok_t *v)
{
        fast_t *f = opaque;
        const char *p;
        size_t len;
        double d;

        if (!f->depth && !(f->flags & JSON_DECODE_ANY)) {
                return -1;
        }
        switch (v->t) {
        case RED_JSON_NULL:
                return fast_attach(f, json_null());
        case RED_JSON_TRUE:
                return fast_attach(f, json_true());
        case RED_JSON_FALSE:
                return fast_attach(f, json_false());
        case RED_JSON_INT:
                return v->wide ? -1 : fast_attach(f, json_integer(v->i));
        case RED_JSON_REAL:
                /* json_loadb refuses overflow, takes underflow */
                d = red_json_real(v->p, v->len);
                return isfinite(d) ? fast_attach(f, json_real(d)) : -1;
        default:
                /* after the pending name in the scratch */
                p = fast_text(f, v, f->key_len, &len);
                if (v->esc && !(f->flags & JSON_ALLOW_NUL) &&
                    memchr(p, '\0', len)) {
                        return -1;
                }
                return fast_attach(f, json_stringn_nocheck(p, len));
        }
}

static int fast_end(void *opaque)
{
        fast_t *f = opaque;

        f->depth--;
        return 0;
}

json_t *red_json_tree_parse(const void *data, size_t len, size_t flags)
{
        fast_t f;
        red_json_walk_t w = {fast_begin, fast_key, fast_scalar, fast_end, &f};

        f.root = NULL;
        f.depth = 0;
        f.flags = flags;
        f.key = NULL;
        f.key_len = 0;
        f.text = f.small;
        if (flags & ~(size_t)(JSON_DECODE_ANY | JSON_ALLOW_NUL) ||
            (len > sizeof(f.small) && !(f.text = malloc(len)))) {
                return json_loadb(data, len, flags, NULL);
        }
        if (red_json_scan_walk(data, len, FAST_DEPTH, &w)) {
                json_decref(f.root);
                f.root = json_loadb(data, len, flags, NULL);
        }
        if (f.text != f.small) {
                free(f.text);
        }
        return f.root;
}

/* --- loading ------------------------------------------------------ */

/*
 * json_loadb()'s error for the text, its names with \u0000 spelt \u0001
 * (the same length, so the same line, column and position): what
 * json_loadb() reports for the first error after such a name.
 */
static void later_error(const build_t *b, size_t len, json_error_t *err)
{
        char *copy = malloc(len ? len : 1);
        json_t *j = NULL;

        if (copy) {
                memcpy(copy, b->data, len);
                for (size_t i = 0; i < b->nul_cnt; i++) {
                        memcpy(copy + b->nul_at[i], "\\u0001", 6);
                }
                j = json_loadb(copy, len, LOAD_FLAGS, err);
        }
        if (!copy || j) {
                /* out of memory (or the two parsers disagree) */
                json_decref(j);
                err->line = err->column = -1;
                err->position = 0;
                snprintf(err->text, sizeof(err->text), "%s",
                         copy ? "invalid JSON" : "out of memory");
        }
        free(copy);
}

json_t *red_json_tree_load(const void *data, size_t len, json_error_t *err)
{
        json_t *root = json_loadb(data, len, LOAD_FLAGS, err);
        red_json_walk_t w = {on_begin, on_key, on_scalar, on_end, NULL};
        build_t *b;

        if (root || json_error_code(err) != json_error_null_byte_in_key) {
                return root;
        }
        if (!(b = calloc(1, sizeof(*b)))) {
                return NULL; /* err: json_loadb's */
        }
        b->data = data;
        w.opaque = b;
        if (red_json_scan_walk(data, len, JSON_PARSER_MAX_DEPTH, &w)) {
                json_decref(b->root);
                b->root = NULL;
                later_error(b, len, err);
        }
        root = b->root;
        free(b->key);
        free(b->text);
        free(b->nul_at);
        free(b);
        return root;
}
