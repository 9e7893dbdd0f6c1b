/* red_format - rows as JSON, NDJSON, CSV (RFC 4180) or an aligned table. */
#include "red_format.h"

#include "red_time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A table cell keeps at most this many characters (JSON objects get long). */
#define TABLE_MAX_WIDTH 60

typedef struct col_s {
        char *name;
        red_val_type_t type;
        size_t width; /* TABLE: widest cell, in characters */
} col_t;

struct red_format_s {
        red_format_kind_t kind;
        col_t *cols;
        size_t cnt;
        size_t rows;
        red_buf_t cells; /* TABLE: the cells, each NUL-terminated */
};

static const char *const names[RED_FORMAT__CNT] = {
        [RED_FORMAT_JSON] = "json",
        [RED_FORMAT_NDJSON] = "ndjson",
        [RED_FORMAT_CSV] = "csv",
        [RED_FORMAT_TABLE] = "table",
        [RED_FORMAT_PROMETHEUS] = "prometheus",
};

static const char *const content_types[RED_FORMAT__CNT] = {
        [RED_FORMAT_JSON] = "application/json",
        [RED_FORMAT_NDJSON] = "application/x-ndjson",
        [RED_FORMAT_CSV] = "text/csv; charset=utf-8; header=present",
        [RED_FORMAT_TABLE] = "text/plain; charset=utf-8",
        [RED_FORMAT_PROMETHEUS] = "text/plain; version=0.0.4; charset=utf-8",
};

const char *red_format_name(red_format_kind_t kind)
{
        return (unsigned)kind < RED_FORMAT__CNT ? names[kind] : NULL;
}

int red_format_parse(const char *s, red_format_kind_t *out)
{
        for (int i = 0; s && i < RED_FORMAT__CNT; i++) {
                if (!strcmp(s, names[i])) {
                        *out = (red_format_kind_t)i;
                        return 0;
                }
        }
        return -EINVAL;
}

const char *red_format_content_type(red_format_kind_t kind)
{
        return (unsigned)kind < RED_FORMAT__CNT ? content_types[kind]
                                                : "application/octet-stream";
}

red_format_t *red_format_new(red_format_kind_t kind, size_t cnt)
{
        red_format_t *f;

        if ((unsigned)kind >= RED_FORMAT__CNT ||
            kind == RED_FORMAT_PROMETHEUS || !(f = calloc(1, sizeof(*f)))) {
                return NULL;
        }
        f->kind = kind;
        f->cnt = cnt;
        red_buf_init(&f->cells);
        if (cnt && !(f->cols = calloc(cnt, sizeof(*f->cols)))) {
                free(f);
                return NULL;
        }
        return f;
}

void red_format_destroy(red_format_t *f)
{
        if (!f) {
                return;
        }
        for (size_t i = 0; i < f->cnt; i++) {
                free(f->cols[i].name);
        }
        free(f->cols);
        red_buf_destroy(&f->cells);
        free(f);
}

int red_format_column(red_format_t *f, size_t i, const char *name,
                      red_val_type_t type)
{
        char *dup = strdup(name);

        if (!dup) {
                return -ENOMEM;
        }
        free(f->cols[i].name);
        f->cols[i].name = dup;
        f->cols[i].type = type;
        return 0;
}

size_t red_format_rows(const red_format_t *f)
{
        return f->rows;
}

/* --- values ----------------------------------------------------------- */

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s, size_t len)
{
        size_t i = 0, d;

        if (i < len && s[i] == '-') {
                i++;
        }
        if (i >= len || s[i] < '0' || s[i] > '9') {
                return false;
        }
        if (s[i] == '0') {
                i++;
        } else {
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                        i++;
                }
        }
        if (i < len && s[i] == '.') {
                for (d = ++i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
                }
                if (i == d) {
                        return false;
                }
        }
        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < len && (s[i] == '+' || s[i] == '-')) {
                        i++;
                }
                for (d = i; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
                }
                if (i == d) {
                        return false;
                }
        }
        return i == len;
}

static int bool_of(const char *s, size_t len)
{
        if ((len == 1 && s[0] == 't') || (len == 4 && !memcmp(s, "true", 4))) {
                return 1;
        }
        if ((len == 1 && s[0] == 'f') || (len == 5 && !memcmp(s, "false", 5))) {
                return 0;
        }
        return -1;
}

/*
 * The text a value stands for in CSV and tables: times canonical, booleans
 * spelled out, numbers as given. Returns a pointer to @p s or to @p tmp.
 */
static const char *plain(red_val_type_t type, const char *s, size_t *len,
                         char tmp[RED_TIME_FMT_SIZE])
{
        red_time_t t;
        int b;

        if (type == RED_VAL_TIME && !red_time_parse(s, *len, &t)) {
                *len = red_time_format(t, tmp, RED_TIME_FMT_SIZE);
                return tmp;
        }
        if (type == RED_VAL_BOOL && (b = bool_of(s, *len)) >= 0) {
                *len = b ? 4 : 5;
                return b ? "true" : "false";
        }
        return s;
}

static void put_json_value(red_buf_t *out, red_val_type_t type, const char *s,
                           size_t len)
{
        char tmp[RED_TIME_FMT_SIZE];
        int b;

        if (!s) {
                red_buf_puts(out, "null");
                return;
        }
        switch (type) {
        case RED_VAL_INT:
        case RED_VAL_NUMBER:
                if (is_json_number(s, len)) {
                        red_buf_append(out, s, len);
                } else {
                        red_buf_puts(out, "null");
                }
                return;
        case RED_VAL_BOOL:
                b = bool_of(s, len);
                red_buf_puts(out, b < 0 ? "null" : b ? "true" : "false");
                return;
        case RED_VAL_JSON:
                red_buf_append(out, s, len);
                return;
        case RED_VAL_TIME:
                s = plain(type, s, &len, tmp);
                red_buf_put_json_str(out, s, len);
                return;
        case RED_VAL_TEXT:
                red_buf_put_json_str(out, s, len);
                return;
        }
}

/* Appends one CSV field (quoted when needed) to @p out. */
static void red_format_csv_field(red_buf_t *out, const char *s, size_t len)
{
        if (!memchr(s, '"', len) && !memchr(s, ',', len) &&
            !memchr(s, '\n', len) && !memchr(s, '\r', len)) {
                red_buf_append(out, s, len);
                return;
        }
        red_buf_putc(out, '"');
        for (const char *q; (q = memchr(s, '"', len));) {
                red_buf_append(out, s, (size_t)(q - s) + 1);
                red_buf_putc(out, '"');
                len -= (size_t)(q - s) + 1;
                s = q + 1;
        }
        red_buf_append(out, s, len);
        red_buf_putc(out, '"');
}

/* Characters of UTF-8 text (continuation bytes do not count). */
static size_t utf8_width(const char *s, size_t len)
{
        size_t w = 0;

        for (size_t i = 0; i < len; i++) {
                w += ((unsigned char)s[i] & 0xc0) != 0x80;
        }
        return w;
}

/* The byte length of the first @p chars characters of @p s. */
static size_t utf8_prefix(const char *s, size_t len, size_t chars)
{
        size_t i = 0;

        for (size_t c = 0; i < len; i++) {
                if (((unsigned char)s[i] & 0xc0) != 0x80 && c++ == chars) {
                        break;
                }
        }
        return i;
}

/* --- writing ---------------------------------------------------------- */

void red_format_begin(red_format_t *f, red_buf_t *out)
{
        switch (f->kind) {
        case RED_FORMAT_JSON:
                red_buf_puts(out, "{\"data\":[");
                break;
        case RED_FORMAT_CSV:
                for (size_t i = 0; i < f->cnt; i++) {
                        if (i) {
                                red_buf_putc(out, ',');
                        }
                        red_format_csv_field(out, f->cols[i].name,
                                             strlen(f->cols[i].name));
                }
                red_buf_puts(out, "\r\n");
                break;
        case RED_FORMAT_TABLE:
                for (size_t i = 0; i < f->cnt; i++) {
                        f->cols[i].width = utf8_width(f->cols[i].name,
                                                      strlen(f->cols[i].name));
                }
                break;
        default:
                break;
        }
}

static void json_object(red_format_t *f, const char *const *vals,
                        const size_t *lens, red_buf_t *out)
{
        red_buf_putc(out, '{');
        for (size_t i = 0; i < f->cnt; i++) {
                size_t len = vals[i] ? (lens ? lens[i] : strlen(vals[i])) : 0;
                if (i) {
                        red_buf_putc(out, ',');
                }
                red_buf_put_json_str(out, f->cols[i].name,
                                     strlen(f->cols[i].name));
                red_buf_putc(out, ':');
                put_json_value(out, f->cols[i].type, vals[i], len);
        }
        red_buf_putc(out, '}');
}

/* TABLE: keeps the cell text; JSON and text longer than the cap are cut. */
static void table_cell(red_format_t *f, size_t i, const char *s, size_t len)
{
        char tmp[RED_TIME_FMT_SIZE];
        size_t w, start = f->cells.len;

        if (!s) {
                s = "";
                len = 0;
        }
        s = plain(f->cols[i].type, s, &len, tmp);
        w = utf8_width(s, len);
        if (w > TABLE_MAX_WIDTH) {
                len = utf8_prefix(s, len, TABLE_MAX_WIDTH - 3);
                red_buf_append(&f->cells, s, len);
                red_buf_puts(&f->cells, "...");
                w = TABLE_MAX_WIDTH;
        } else {
                red_buf_append(&f->cells, s, len);
        }
        /* line breaks would break the grid */
        for (size_t p = start; p < f->cells.len && f->cells.data; p++) {
                if (f->cells.data[p] == '\n' || f->cells.data[p] == '\r' ||
                    f->cells.data[p] == '\t') {
                        f->cells.data[p] = ' ';
                }
        }
        red_buf_putc(&f->cells, '\0');
        if (w > f->cols[i].width) {
                f->cols[i].width = w;
        }
}

int red_format_row(red_format_t *f, const char *const *vals, const size_t *lens,
                   red_buf_t *out)
{
        char tmp[RED_TIME_FMT_SIZE];

        switch (f->kind) {
        case RED_FORMAT_JSON:
                if (f->rows) {
                        red_buf_putc(out, ',');
                }
                json_object(f, vals, lens, out);
                break;
        case RED_FORMAT_NDJSON:
                json_object(f, vals, lens, out);
                red_buf_putc(out, '\n');
                break;
        case RED_FORMAT_CSV:
                for (size_t i = 0; i < f->cnt; i++) {
                        size_t len;
                        const char *s;
                        if (i) {
                                red_buf_putc(out, ',');
                        }
                        if (!vals[i]) {
                                continue;
                        }
                        len = lens ? lens[i] : strlen(vals[i]);
                        s = plain(f->cols[i].type, vals[i], &len, tmp);
                        red_format_csv_field(out, s, len);
                }
                red_buf_puts(out, "\r\n");
                break;
        case RED_FORMAT_TABLE:
                for (size_t i = 0; i < f->cnt; i++) {
                        table_cell(f, i, vals[i],
                                   vals[i] ? (lens ? lens[i] : strlen(vals[i]))
                                           : 0);
                }
                if (f->cells.failed) {
                        return -ENOMEM;
                }
                break;
        default:
                break;
        }
        f->rows++;
        return out->failed ? -ENOMEM : 0;
}

static void pad(red_buf_t *out, size_t n)
{
        while (n--) {
                red_buf_putc(out, ' ');
        }
}

static bool right_aligned(red_val_type_t t)
{
        return t == RED_VAL_INT || t == RED_VAL_NUMBER;
}

static void table_line(red_format_t *f, const char *const *cells,
                       red_buf_t *out)
{
        for (size_t i = 0; i < f->cnt; i++) {
                size_t len = strlen(cells[i]);
                size_t gap = f->cols[i].width - utf8_width(cells[i], len);
                bool last = i + 1 == f->cnt;
                if (i) {
                        red_buf_puts(out, "  ");
                }
                if (right_aligned(f->cols[i].type)) {
                        pad(out, gap);
                }
                red_buf_append(out, cells[i], len);
                if (!right_aligned(f->cols[i].type) && !last) {
                        pad(out, gap);
                }
        }
        red_buf_putc(out, '\n');
}

static void table_end(red_format_t *f, red_buf_t *out)
{
        const char **cells = calloc(f->cnt ? f->cnt : 1, sizeof(*cells));
        const char *p = f->cells.data;

        if (!cells) {
                out->failed = true;
                return;
        }
        for (size_t i = 0; i < f->cnt; i++) {
                cells[i] = f->cols[i].name;
        }
        table_line(f, cells, out);
        for (size_t i = 0; i < f->cnt; i++) {
                if (i) {
                        red_buf_puts(out, "  ");
                }
                for (size_t w = 0; w < f->cols[i].width; w++) {
                        red_buf_putc(out, '-');
                }
        }
        red_buf_putc(out, '\n');
        for (size_t r = 0; r < f->rows && p; r++) {
                for (size_t i = 0; i < f->cnt; i++) {
                        cells[i] = p;
                        p += strlen(p) + 1;
                }
                table_line(f, cells, out);
        }
        red_buf_printf(out, "(%zu row%s)\n", f->rows, f->rows == 1 ? "" : "s");
        free(cells);
}

void red_format_end(red_format_t *f, const char *next_cursor, const char *meta,
                    red_buf_t *out)
{
        switch (f->kind) {
        case RED_FORMAT_JSON:
                red_buf_puts(out, "],\"next_cursor\":");
                if (next_cursor) {
                        red_buf_put_json_str(out, next_cursor,
                                             strlen(next_cursor));
                } else {
                        red_buf_puts(out, "null");
                }
                if (meta && *meta) {
                        red_buf_putc(out, ',');
                        red_buf_puts(out, meta);
                }
                red_buf_puts(out, "}\n");
                break;
        case RED_FORMAT_NDJSON:
                if (next_cursor) {
                        red_buf_puts(out, "{\"next_cursor\":");
                        red_buf_put_json_str(out, next_cursor,
                                             strlen(next_cursor));
                        red_buf_puts(out, "}\n");
                }
                break;
        case RED_FORMAT_TABLE:
                table_end(f, out);
                break;
        default:
                break;
        }
}
