/*
 * red_decode_keep - what an event decoded on the fast path owns.
 *
 * The fast path reads values from spans of the message, and the message
 * outlives its event (red_core keeps it until the event is done), so most
 * values need no copy. What cannot point into the message is gathered
 * here while an event is decoded and handed to it at the end, in as few
 * allocations as possible: strings with escapes, unescaped into one buffer
 * (a stack buffer first; the event gets a single jansson string holding
 * them all), and the JSON values the event keeps (the envelope metadata,
 * the payload members the FSM reads), built from their spans into one
 * array the event owns as ev->root. A typical event owns nothing.
 *
 * Embedded (red_decode_keep_init/_destroy): it holds a pointer into
 * itself, so it must not be copied.
 */
#ifndef RED_DECODE_KEEP_H
#define RED_DECODE_KEEP_H

#include "red_attr.h"
#include "red_event.h"
#include "red_json_scan.h"

#include <jansson.h>
#include <stddef.h>

/** Unescaped bytes kept on the stack before the buffer moves to the heap. */
#define RED_DECODE_KEEP_STACK 2048
/** String values an event may keep unescaped (more: the caller falls back
 * to the tree path). */
#define RED_DECODE_KEEP_SLOTS 32

typedef struct red_decode_keep_s {
        json_t *owned; /**< array of what the event keeps, or NULL */
        char *buf;     /**< unescaped strings: stack, or owned */
        size_t len, cap;
        int slots[RED_DECODE_KEEP_SLOTS]; /**< values holding offsets */
        size_t slot_cnt;
        char stack[RED_DECODE_KEEP_STACK];
} red_decode_keep_t;

/** Empties @p k for one event. */
void red_decode_keep_init(red_decode_keep_t *k);

/** Frees what was not handed to an event. */
void red_decode_keep_destroy(red_decode_keep_t *k);

/**
 * The text of the string token @p t: its span (borrowed from the message)
 * when it has no escapes, else the unescaped text at the end of the
 * buffer (valid until the next call; kept by red_decode_keep_string()).
 * 0, or -1 on OOM.
 */
int red_decode_keep_text(red_decode_keep_t *k, const red_json_tok_t *t,
                         const char **p, size_t *len) RED_MUSTCHECK;

/**
 * Makes @p v, a string value of slot @p slot set to a text from
 * red_decode_keep_text(), last until the event goes: a span of the message
 * stays as it is; the unescaped text is kept and @p v re-pointed at
 * red_decode_keep_finish(). 0, or -1 when too many strings are kept.
 */
int red_decode_keep_string(red_decode_keep_t *k, red_value_t *v,
                           int slot) RED_MUSTCHECK;

/**
 * A JSON value the event keeps, built from the token @p t (a new empty
 * object for NULL). Borrowed: the event owns it after
 * red_decode_keep_finish(). NULL on OOM.
 */
json_t *red_decode_keep_json(red_decode_keep_t *k, const red_json_tok_t *t);

/**
 * Hands what was kept to @p ev: its kept strings point into one string,
 * and ev->root owns everything (NULL when there is nothing). 0, or -1 on
 * OOM (nothing is handed over).
 */
int red_decode_keep_finish(red_decode_keep_t *k, red_event_t *ev) RED_MUSTCHECK;

#endif
