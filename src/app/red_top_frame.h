/*
 * red_top_frame - what `reducerd top` draws: lines of styled UTF-8 text
 * (spans), cut at a width, and the way it writes numbers and sparklines.
 * ncurses turns styles into colours, --once prints the text. Pure.
 */
#ifndef RED_TOP_FRAME_H
#define RED_TOP_FRAME_H

#include "red_buf.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
        RED_TOP_PLAIN,
        RED_TOP_TITLE, /**< section titles */
        RED_TOP_DIM,   /**< headers, units, help */
        RED_TOP_OK,
        RED_TOP_WARN,
        RED_TOP_BAD,
        RED_TOP_INFO,
        RED_TOP__STYLES
} red_top_style_t;

typedef struct red_top_span_s {
        red_top_style_t style;
        char *text; /**< UTF-8, owned */
} red_top_span_t;

typedef struct red_top_line_s {
        red_top_span_t *spans;
        size_t cnt, cap;
        size_t width; /**< display columns */
} red_top_line_t;

/** Lines; zero it to initialise. */
typedef struct red_top_frame_s {
        red_top_line_t *lines;
        size_t cnt, cap;
} red_top_frame_t;

void red_top_frame_clear(red_top_frame_t *f);

/** Frees the lines and zeroes @p f (to be used again). */
void red_top_frame_clear(red_top_frame_t *f);

/** A new empty line at the end of @p f, or NULL on OOM (the functions
 * below accept NULL and do nothing). */
red_top_line_t *red_top_frame_line(red_top_frame_t *f);

/** Appends @p text (copied) in @p style, cut at column @p max. */
void red_top_frame_put(red_top_line_t *l, red_top_style_t style,
                       const char *text, size_t max);
void red_top_frame_putf(red_top_line_t *l, red_top_style_t style, size_t max,
                        const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/** Spaces up to column @p col. */
void red_top_frame_pad(red_top_line_t *l, size_t col, size_t max);

/** Appends copies of the spans of @p from to @p to. */
void red_top_frame_append(red_top_line_t *to, const red_top_line_t *from,
                          size_t max);

/** Display columns of UTF-8 text (every character drawn is one wide). */
size_t red_top_frame_width(const char *s);

/** The frame as plain text, one line each, trailing blanks trimmed. */
void red_top_frame_text(const red_top_frame_t *f, red_buf_t *out);

/** @p v as people read it: integers whole, others to three digits; "-"
 * for NAN. Returns @p buf. */
const char *red_top_frame_num(double v, char *buf, size_t size);
/** A ratio as a percentage with one decimal ("71.4%"), "-" for NAN. */
const char *red_top_frame_pct(double v, char *buf, size_t size);

/** @p n values as one block character each (ASCII unless @p utf8), a
 * space for NAN, scaled from zero (or the smallest, if negative) to the
 * largest; NUL-terminated into @p out. */
void red_top_frame_spark(const double *v, size_t n, bool utf8, char *out,
                         size_t size);

#endif
