/* red_top_frame - styled lines of text for `reducerd top`, and numbers. */
#include "red_top_frame.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- lines and frames ----------------------------------------------------- */

void red_top_frame_clear(red_top_frame_t *f)
{
        for (size_t i = 0; i < f->cnt; i++) {
                for (size_t s = 0; s < f->lines[i].cnt; s++) {
                        free(f->lines[i].spans[s].text);
                }
                free(f->lines[i].spans);
        }
        free(f->lines);
        memset(f, 0, sizeof(*f));
}

/* Display columns of UTF-8 text: every character used here is one wide. */
size_t red_top_frame_width(const char *s)
{
        size_t w = 0;

        for (; *s; s++) {
                w += ((unsigned char)*s & 0xc0) != 0x80;
        }
        return w;
}

/* Bytes of the longest prefix of @p s at most @p cols wide. */
static size_t u8_prefix(const char *s, size_t cols)
{
        size_t i = 0, w = 0;

        while (s[i]) {
                if (((unsigned char)s[i] & 0xc0) != 0x80 && w++ == cols) {
                        break;
                }
                i++;
        }
        return i;
}

red_top_line_t *red_top_frame_line(red_top_frame_t *f)
{
        if (f->cnt == f->cap) {
                size_t cap = f->cap ? 2 * f->cap : 32;
                red_top_line_t *l = realloc(f->lines, cap * sizeof(*l));
                if (!l) {
                        return NULL;
                }
                f->lines = l;
                f->cap = cap;
        }
        memset(&f->lines[f->cnt], 0, sizeof(f->lines[0]));
        return &f->lines[f->cnt++];
}

/* Appends @p text in @p style, cut at column @p max of the line. */
void red_top_frame_put(red_top_line_t *l, red_top_style_t style,
                       const char *text, size_t max)
{
        size_t room, n;
        red_top_span_t *sp;

        if (!l) {
                return;
        }
        room = max > l->width ? max - l->width : 0;
        if (!(n = u8_prefix(text, room))) {
                return;
        }
        if (l->cnt == l->cap) {
                size_t cap = l->cap ? 2 * l->cap : 8;
                red_top_span_t *s = realloc(l->spans, cap * sizeof(*s));
                if (!s) {
                        return;
                }
                l->spans = s;
                l->cap = cap;
        }
        sp = &l->spans[l->cnt];
        if (!(sp->text = strndup(text, n))) {
                return;
        }
        sp->style = style;
        l->cnt++;
        l->width += red_top_frame_width(sp->text);
}

void red_top_frame_putf(red_top_line_t *l, red_top_style_t style, size_t max,
                        const char *fmt, ...)
{
        char buf[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        red_top_frame_put(l, style, buf, max);
}

/* Spaces up to column @p col. */
void red_top_frame_pad(red_top_line_t *l, size_t col, size_t max)
{
        char sp[256];
        size_t n = col > l->width ? col - l->width : 0;

        n = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;
        memset(sp, ' ', n);
        sp[n] = '\0';
        red_top_frame_put(l, RED_TOP_PLAIN, sp, max);
}

/* Moves the spans of @p from to the end of @p to (which takes them). */
void red_top_frame_append(red_top_line_t *to, const red_top_line_t *from,
                          size_t max)
{
        for (size_t s = 0; s < from->cnt; s++) {
                red_top_frame_put(to, from->spans[s].style, from->spans[s].text,
                                  max);
        }
}

void red_top_frame_text(const red_top_frame_t *f, red_buf_t *out)
{
        for (size_t i = 0; i < f->cnt; i++) {
                size_t start = out->len;
                for (size_t s = 0; s < f->lines[i].cnt; s++) {
                        red_buf_puts(out, f->lines[i].spans[s].text);
                }
                while (out->len > start && out->data[out->len - 1] == ' ') {
                        out->len--;
                }
                red_buf_putc(out, '\n');
        }
}

/* --- numbers -------------------------------------------------------------- */

/* A number as people read it: integers whole, others to 3 digits. */
const char *red_top_frame_num(double v, char *buf, size_t size)
{
        double a = fabs(v);

        if (isnan(v)) {
                snprintf(buf, size, "-");
        } else if (v == floor(v) && a < 1e12) {
                snprintf(buf, size, "%.0f", v);
        } else if (a >= 1e6) {
                snprintf(buf, size, "%.4g", v);
        } else if (a >= 100) {
                snprintf(buf, size, "%.1f", v);
        } else if (a >= 1) {
                snprintf(buf, size, "%.2f", v);
        } else {
                snprintf(buf, size, "%.3f", v);
        }
        return buf;
}

const char *red_top_frame_pct(double v, char *buf, size_t size)
{
        if (isnan(v)) {
                snprintf(buf, size, "-");
        } else {
                snprintf(buf, size, "%.1f%%", v * 100);
        }
        return buf;
}

/* --- sparklines ----------------------------------------------------------- */

/* @p n values as one character each (a space for NAN), from zero (or the
 * smallest value, if negative) to the largest. */
void red_top_frame_spark(const double *v, size_t n, bool utf8, char *out,
                         size_t size)
{
        static const char *const blocks[] = {"▁", "▂", "▃", "▄",
                                             "▅", "▆", "▇", "█"};
        static const char ascii[] = "_.-:=+*#";
        double lo = 0, hi = 0;
        size_t pos = 0;
        bool any = false;

        for (size_t i = 0; i < n; i++) {
                if (!isnan(v[i])) {
                        lo = any ? fmin(lo, v[i]) : fmin(0, v[i]);
                        hi = any ? fmax(hi, v[i]) : v[i];
                        any = true;
                }
        }
        for (size_t i = 0; i < n && pos + 4 < size; i++) {
                int lv = 0;
                if (isnan(v[i])) {
                        out[pos++] = ' ';
                        continue;
                }
                if (hi > lo) {
                        lv = (int)lround((v[i] - lo) / (hi - lo) * 7);
                }
                if (utf8) {
                        memcpy(out + pos, blocks[lv], 3);
                        pos += 3;
                } else {
                        out[pos++] = ascii[lv];
                }
        }
        out[pos] = '\0';
}
