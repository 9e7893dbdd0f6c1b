/* red_yaml - YAML documents as trees of nodes with line:col marks. */
#include "red_yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

struct red_yaml_node_s {
        red_yaml_kind_t kind;
        int line, col;
        bool quoted;
        const red_yaml_doc_t *doc;
        char *str;               /* scalar text */
        size_t len;              /* scalar length */
        red_yaml_node_t **items; /* seq items; map keys and values pairwise */
        size_t cnt, cap;         /* entries used/allocated in items */
};

struct red_yaml_doc_s {
        char *name;
        red_yaml_node_t *root;
        red_yaml_node_t **nodes; /* every node, for destroy */
        size_t node_cnt, node_cap;
        struct anchor {
                char *name;
                red_yaml_node_t *node;
        } * anchors;
        size_t anchor_cnt, anchor_cap;
};

#define MAX_DEPTH 64

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
        void *p;
        size_t ncap;

        if (need <= *cap) {
                return 0;
        }
        ncap = *cap ? *cap * 2 : 8;
        while (ncap < need) {
                ncap *= 2;
        }
        p = realloc(*arr, ncap * elem);
        if (!p) {
                return -ENOMEM;
        }
        *arr = p;
        *cap = ncap;
        return 0;
}

static red_yaml_node_t *node_new(red_yaml_doc_t *doc, red_yaml_kind_t kind,
                                 const yaml_mark_t *mark)
{
        red_yaml_node_t *n;

        if (grow((void **)&doc->nodes, &doc->node_cap, doc->node_cnt + 1,
                 sizeof(*doc->nodes))) {
                return NULL;
        }
        n = calloc(1, sizeof(*n));
        if (!n) {
                return NULL;
        }
        n->kind = kind;
        n->line = (int)mark->line + 1;
        n->col = (int)mark->column + 1;
        n->doc = doc;
        doc->nodes[doc->node_cnt++] = n;
        return n;
}

static int anchor_add(red_yaml_doc_t *doc, const yaml_char_t *name,
                      red_yaml_node_t *n)
{
        if (!name) {
                return 0;
        }
        if (grow((void **)&doc->anchors, &doc->anchor_cap, doc->anchor_cnt + 1,
                 sizeof(*doc->anchors))) {
                return -ENOMEM;
        }
        doc->anchors[doc->anchor_cnt].name = strdup((const char *)name);
        if (!doc->anchors[doc->anchor_cnt].name) {
                return -ENOMEM;
        }
        doc->anchors[doc->anchor_cnt++].node = n;
        return 0;
}

static red_yaml_node_t *anchor_find(red_yaml_doc_t *doc,
                                    const yaml_char_t *name)
{
        /* Latest definition wins, as in YAML. */
        for (size_t i = doc->anchor_cnt; i-- > 0;) {
                if (!strcmp(doc->anchors[i].name, (const char *)name)) {
                        return doc->anchors[i].node;
                }
        }
        return NULL;
}

static int fmt_at(char *errstr, size_t size, const char *name, int line,
                  int col, const char *fmt, va_list ap) RED_PRINTF(6, 0);

static int fmt_at(char *errstr, size_t size, const char *name, int line,
                  int col, const char *fmt, va_list ap)
{
        int n = snprintf(errstr, size, "%s:%d:%d: ", name, line, col);

        if (n >= 0 && (size_t)n < size) {
                vsnprintf(errstr + n, size - (size_t)n, fmt, ap);
        }
        return -EINVAL;
}

static int err_at(char *errstr, size_t size, const char *name, int line,
                  int col, const char *fmt, ...) RED_PRINTF(6, 7);

static int err_at(char *errstr, size_t size, const char *name, int line,
                  int col, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fmt_at(errstr, size, name, line, col, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Adds @p child under @p parent (NULL parent: the document root). */
static int attach(red_yaml_doc_t *doc, red_yaml_node_t *parent,
                  red_yaml_node_t *child, char *errstr, size_t size)
{
        if (!parent) {
                doc->root = child;
                return 0;
        }
        if (parent->kind == RED_YAML_MAP && parent->cnt % 2 == 0) {
                /* child is a key */
                if (child->kind != RED_YAML_SCALAR) {
                        return err_at(errstr, size, doc->name, child->line,
                                      child->col,
                                      "mapping keys must be scalars");
                }
                if (!child->quoted && !strcmp(child->str, "<<")) {
                        return err_at(errstr, size, doc->name, child->line,
                                      child->col,
                                      "merge keys (<<) are not supported");
                }
                for (size_t i = 0; i < parent->cnt; i += 2) {
                        if (!strcmp(parent->items[i]->str, child->str)) {
                                return err_at(errstr, size, doc->name,
                                              child->line, child->col,
                                              "duplicate key \"%s\" (first at "
                                              "line %d)",
                                              child->str,
                                              parent->items[i]->line);
                        }
                }
        }
        if (grow((void **)&parent->items, &parent->cap, parent->cnt + 1,
                 sizeof(*parent->items))) {
                return -ENOMEM;
        }
        parent->items[parent->cnt++] = child;
        return 0;
}

red_yaml_doc_t *red_yaml_load_string(const char *name, const char *text,
                                     size_t len, char *errstr,
                                     size_t errstr_size)
{
        yaml_parser_t parser;
        yaml_event_t ev;
        red_yaml_doc_t *doc;
        red_yaml_node_t *stack[MAX_DEPTH];
        int depth = 0, docs = 0, r = 0;
        bool done = false;

        doc = calloc(1, sizeof(*doc));
        if (!doc || !(doc->name = strdup(name))) {
                free(doc);
                snprintf(errstr, errstr_size, "%s: out of memory", name);
                return NULL;
        }
        if (!yaml_parser_initialize(&parser)) {
                snprintf(errstr, errstr_size, "%s: out of memory", name);
                red_yaml_doc_destroy(doc);
                return NULL;
        }
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

        while (!done && r == 0) {
                red_yaml_node_t *n = NULL, *parent;

                if (!yaml_parser_parse(&parser, &ev)) {
                        r = err_at(errstr, errstr_size, name,
                                   (int)parser.problem_mark.line + 1,
                                   (int)parser.problem_mark.column + 1,
                                   "%s%s%s", parser.problem,
                                   parser.context ? " " : "",
                                   parser.context ? parser.context : "");
                        break;
                }
                parent = depth ? stack[depth - 1] : NULL;
                switch (ev.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++docs > 1) {
                                r = err_at(errstr, errstr_size, name,
                                           (int)ev.start_mark.line + 1,
                                           (int)ev.start_mark.column + 1,
                                           "only one YAML document per "
                                           "file is allowed");
                        }
                        break;
                case YAML_SCALAR_EVENT:
                        n = node_new(doc, RED_YAML_SCALAR, &ev.start_mark);
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        n->len = ev.data.scalar.length;
                        n->str = malloc(n->len + 1);
                        if (!n->str) {
                                r = -ENOMEM;
                                break;
                        }
                        memcpy(n->str, ev.data.scalar.value, n->len);
                        n->str[n->len] = '\0';
                        n->quoted = ev.data.scalar.style ==
                                            YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                                    ev.data.scalar.style ==
                                            YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                        r = anchor_add(doc, ev.data.scalar.anchor, n);
                        if (!r) {
                                r = attach(doc, parent, n, errstr, errstr_size);
                        }
                        break;
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (depth == MAX_DEPTH) {
                                r = err_at(errstr, errstr_size, name,
                                           (int)ev.start_mark.line + 1,
                                           (int)ev.start_mark.column + 1,
                                           "nesting deeper than %d levels",
                                           MAX_DEPTH);
                                break;
                        }
                        n = node_new(doc,
                                     ev.type == YAML_MAPPING_START_EVENT
                                             ? RED_YAML_MAP
                                             : RED_YAML_SEQ,
                                     &ev.start_mark);
                        if (!n) {
                                r = -ENOMEM;
                                break;
                        }
                        r = anchor_add(doc,
                                       ev.type == YAML_MAPPING_START_EVENT
                                               ? ev.data.mapping_start.anchor
                                               : ev.data.sequence_start.anchor,
                                       n);
                        if (!r) {
                                r = attach(doc, parent, n, errstr, errstr_size);
                        }
                        stack[depth++] = n;
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        depth--;
                        break;
                case YAML_ALIAS_EVENT:
                        n = anchor_find(doc, ev.data.alias.anchor);
                        if (!n) {
                                r = err_at(errstr, errstr_size, name,
                                           (int)ev.start_mark.line + 1,
                                           (int)ev.start_mark.column + 1,
                                           "unknown alias *%s",
                                           ev.data.alias.anchor);
                                break;
                        }
                        r = attach(doc, parent, n, errstr, errstr_size);
                        break;
                default:
                        break;
                }
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&parser);
        if (r == -ENOMEM) {
                snprintf(errstr, errstr_size, "%s: out of memory", name);
        }
        if (r) {
                red_yaml_doc_destroy(doc);
                return NULL;
        }
        return doc;
}

/* --- files -------------------------------------------------------- */

/* The limit of red_yaml_load_file() and the setting that sets it, for
 * messages. Set once at start-up and on reload, read by whoever loads a
 * file: atomics, so a reload on one thread never tears a read elsewhere. */
static atomic_size_t max_file_bytes = RED_YAML_MAX_FILE_BYTES_DEFAULT;
static _Atomic(const char *) max_file_setting;

void red_yaml_set_max_file_bytes(size_t max, const char *setting)
{
        atomic_store(&max_file_bytes, max);
        atomic_store(&max_file_setting, setting);
}

size_t red_yaml_max_file_bytes(void)
{
        return atomic_load(&max_file_bytes);
}

static const char *file_kind(mode_t mode)
{
        if (S_ISDIR(mode)) {
                return "a directory";
        }
        if (S_ISFIFO(mode)) {
                return "a FIFO";
        }
        if (S_ISCHR(mode)) {
                return "a character device";
        }
        if (S_ISBLK(mode)) {
                return "a block device";
        }
        if (S_ISSOCK(mode)) {
                return "a socket";
        }
        return "not a file";
}

static int too_large(char *errstr, size_t errstr_size, const char *path,
                     size_t max, const char *setting)
{
        snprintf(errstr, errstr_size,
                 "%s: too large: more than %zu bytes%s%s%s", path, max,
                 setting ? " (the limit is " : "", setting ? setting : "",
                 setting ? ")" : "");
        return -EFBIG;
}

/* Reads the whole regular file @p fd into a malloc'd buffer of at most
 * @p max bytes. The size is checked before and while reading: a file may
 * grow in between, and some report no size at all. */
static int read_bounded(int fd, const char *path, size_t max,
                        const char *setting, char **textp, size_t *lenp,
                        char *errstr, size_t errstr_size)
{
        struct stat st;
        char *text = NULL;
        size_t len = 0, cap = 0;
        ssize_t n;

        if (fstat(fd, &st)) {
                int e = errno;
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(e));
                return -e;
        }
        if (!S_ISREG(st.st_mode)) {
                /* a FIFO would block for ever, a device never end */
                snprintf(errstr, errstr_size, "%s: not a regular file (%s)",
                         path, file_kind(st.st_mode));
                return -EINVAL;
        }
        if ((uintmax_t)st.st_size > max) {
                return too_large(errstr, errstr_size, path, max, setting);
        }
        do {
                if (len == cap && grow((void **)&text, &cap, len + 65536, 1)) {
                        free(text);
                        snprintf(errstr, errstr_size, "%s: out of memory",
                                 path);
                        return -ENOMEM;
                }
                n = read(fd, text + len, cap - len);
                if (n < 0 && errno == EINTR) {
                        continue;
                }
                if (n < 0) {
                        snprintf(errstr, errstr_size, "%s: read error: %s",
                                 path, strerror(errno));
                        free(text);
                        return -EIO;
                }
                len += (size_t)n;
                if (len > max) {
                        free(text);
                        return too_large(errstr, errstr_size, path, max,
                                         setting);
                }
        } while (n > 0);
        *textp = text;
        *lenp = len;
        return 0;
}

red_yaml_doc_t *red_yaml_load_file_max(const char *path, size_t max,
                                       const char *setting, char *errstr,
                                       size_t errstr_size)
{
        /* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        red_yaml_doc_t *doc;
        char *text = NULL;
        size_t len = 0;
        int r;

        if (fd < 0) {
                snprintf(errstr, errstr_size, "%s: cannot open: %s", path,
                         strerror(errno));
                return NULL;
        }
        r = read_bounded(fd, path, max, setting, &text, &len, errstr,
                         errstr_size);
        close(fd);
        if (r) {
                return NULL;
        }
        doc = red_yaml_load_string(path, text, len, errstr, errstr_size);
        free(text);
        return doc;
}

red_yaml_doc_t *red_yaml_load_file(const char *path, char *errstr,
                                   size_t errstr_size)
{
        return red_yaml_load_file_max(path, red_yaml_max_file_bytes(),
                                      atomic_load(&max_file_setting), errstr,
                                      errstr_size);
}

/* --- documents ---------------------------------------------------- */

void red_yaml_doc_destroy(red_yaml_doc_t *doc)
{
        if (!doc) {
                return;
        }
        for (size_t i = 0; i < doc->node_cnt; i++) {
                free(doc->nodes[i]->str);
                free(doc->nodes[i]->items);
                free(doc->nodes[i]);
        }
        for (size_t i = 0; i < doc->anchor_cnt; i++) {
                free(doc->anchors[i].name);
        }
        free(doc->anchors);
        free(doc->nodes);
        free(doc->name);
        free(doc);
}

const red_yaml_node_t *red_yaml_doc_root(const red_yaml_doc_t *doc)
{
        return doc->root;
}

red_yaml_kind_t red_yaml_kind(const red_yaml_node_t *n)
{
        return n->kind;
}

const char *red_yaml_kind_name(red_yaml_kind_t kind)
{
        switch (kind) {
        case RED_YAML_MAP:
                return "a mapping";
        case RED_YAML_SEQ:
                return "a list";
        default:
                return "a scalar";
        }
}

int red_yaml_line(const red_yaml_node_t *n)
{
        return n->line;
}

int red_yaml_col(const red_yaml_node_t *n)
{
        return n->col;
}

const char *red_yaml_str(const red_yaml_node_t *n)
{
        return n->kind == RED_YAML_SCALAR ? n->str : NULL;
}

size_t red_yaml_len(const red_yaml_node_t *n)
{
        return n->kind == RED_YAML_SCALAR ? n->len : 0;
}

bool red_yaml_is_quoted(const red_yaml_node_t *n)
{
        return n->quoted;
}

bool red_yaml_is_null(const red_yaml_node_t *n)
{
        static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

        if (n->kind != RED_YAML_SCALAR || n->quoted) {
                return false;
        }
        for (size_t i = 0; i < sizeof(nulls) / sizeof(*nulls); i++) {
                if (!strcmp(n->str, nulls[i])) {
                        return true;
                }
        }
        return false;
}

size_t red_yaml_size(const red_yaml_node_t *n)
{
        if (n->kind == RED_YAML_MAP) {
                return n->cnt / 2;
        }
        return n->kind == RED_YAML_SEQ ? n->cnt : 0;
}

const red_yaml_node_t *red_yaml_key(const red_yaml_node_t *n, size_t i)
{
        return n->kind == RED_YAML_MAP && 2 * i < n->cnt ? n->items[2 * i]
                                                         : NULL;
}

const red_yaml_node_t *red_yaml_value(const red_yaml_node_t *n, size_t i)
{
        return n->kind == RED_YAML_MAP && 2 * i + 1 < n->cnt
                       ? n->items[2 * i + 1]
                       : NULL;
}

const red_yaml_node_t *red_yaml_item(const red_yaml_node_t *n, size_t i)
{
        return n->kind == RED_YAML_SEQ && i < n->cnt ? n->items[i] : NULL;
}

const red_yaml_node_t *red_yaml_get(const red_yaml_node_t *n, const char *key)
{
        if (!n || n->kind != RED_YAML_MAP) {
                return NULL;
        }
        for (size_t i = 0; i + 1 < n->cnt; i += 2) {
                if (!strcmp(n->items[i]->str, key)) {
                        return n->items[i + 1];
                }
        }
        return NULL;
}

int red_yaml_error(char *errstr, size_t errstr_size, const red_yaml_node_t *n,
                   const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fmt_at(errstr, errstr_size, n->doc->name, n->line, n->col, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

/* Levenshtein distance, capped; for "did you mean" hints. */
static size_t edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;

        if (la >= 63 || lb >= 63) {
                return 99;
        }
        for (size_t j = 0; j <= lb; j++) {
                row[j] = j;
        }
        for (size_t i = 1; i <= la; i++) {
                prev = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t best = prev + (a[i - 1] != b[j - 1]);
                        tmp = row[j];
                        if (row[j] + 1 < best) {
                                best = row[j] + 1;
                        }
                        if (row[j - 1] + 1 < best) {
                                best = row[j - 1] + 1;
                        }
                        prev = tmp;
                        row[j] = best;
                }
        }
        return row[lb];
}

int red_yaml_check_keys(const red_yaml_node_t *n, const char *what,
                        const char *const *allowed, char *errstr,
                        size_t errstr_size)
{
        if (red_yaml_expect(n, RED_YAML_MAP, what, errstr, errstr_size)) {
                return -EINVAL;
        }
        for (size_t i = 0; i < n->cnt; i += 2) {
                const char *key = n->items[i]->str, *near = NULL;
                size_t best = 3, pos;
                bool ok = false;
                char list[512];

                for (const char *const *a = allowed; *a; a++) {
                        size_t d;

                        if (!strcmp(*a, key)) {
                                ok = true;
                                break;
                        }
                        d = edit_distance(*a, key);
                        if (d < best) {
                                best = d;
                                near = *a;
                        }
                }
                if (ok) {
                        continue;
                }
                list[0] = '\0';
                pos = 0;
                for (const char *const *a = allowed; *a && pos < sizeof(list);
                     a++) {
                        pos += (size_t)snprintf(list + pos, sizeof(list) - pos,
                                                "%s%s",
                                                a == allowed ? "" : ", ", *a);
                }
                if (near) {
                        return red_yaml_error(
                                errstr, errstr_size, n->items[i],
                                "unknown key \"%s\" in %s (allowed: %s); did "
                                "you mean \"%s\"?",
                                key, what, list, near);
                }
                return red_yaml_error(errstr, errstr_size, n->items[i],
                                      "unknown key \"%s\" in %s (allowed: %s)",
                                      key, what, list);
        }
        return 0;
}

int red_yaml_expect(const red_yaml_node_t *n, red_yaml_kind_t kind,
                    const char *what, char *errstr, size_t errstr_size)
{
        if (n->kind == kind) {
                return 0;
        }
        return red_yaml_error(
                errstr, errstr_size, n, "expected %s for %s, got %s",
                red_yaml_kind_name(kind), what,
                red_yaml_is_null(n) ? "nothing" : red_yaml_kind_name(n->kind));
}

int red_yaml_to_str(const red_yaml_node_t *n, const char *what,
                    const char **out, char *errstr, size_t errstr_size)
{
        if (n->kind != RED_YAML_SCALAR || red_yaml_is_null(n)) {
                return red_yaml_error(errstr, errstr_size, n,
                                      "expected a string for %s, got %s", what,
                                      red_yaml_is_null(n)
                                              ? "nothing"
                                              : red_yaml_kind_name(n->kind));
        }
        *out = n->str;
        return 0;
}

int red_yaml_to_int64(const red_yaml_node_t *n, const char *what, int64_t *out,
                      char *errstr, size_t errstr_size)
{
        char *end;
        long long v;

        if (n->kind != RED_YAML_SCALAR || n->quoted || !n->len) {
                goto bad;
        }
        errno = 0;
        v = strtoll(n->str, &end, 10);
        if (errno || *end || end == n->str) {
                goto bad;
        }
        *out = (int64_t)v;
        return 0;
bad:
        return red_yaml_error(errstr, errstr_size, n,
                              "expected an integer for %s, got \"%s\"", what,
                              n->kind == RED_YAML_SCALAR
                                      ? n->str
                                      : red_yaml_kind_name(n->kind));
}

int red_yaml_to_double(const red_yaml_node_t *n, const char *what, double *out,
                       char *errstr, size_t errstr_size)
{
        char *end;
        double v;

        if (n->kind != RED_YAML_SCALAR || n->quoted || !n->len) {
                goto bad;
        }
        errno = 0;
        v = strtod(n->str, &end);
        if (errno || *end || end == n->str || !isfinite(v)) {
                goto bad;
        }
        *out = v;
        return 0;
bad:
        return red_yaml_error(errstr, errstr_size, n,
                              "expected a number for %s, got \"%s\"", what,
                              n->kind == RED_YAML_SCALAR
                                      ? n->str
                                      : red_yaml_kind_name(n->kind));
}

int red_yaml_to_bool(const red_yaml_node_t *n, const char *what, bool *out,
                     char *errstr, size_t errstr_size)
{
        if (n->kind == RED_YAML_SCALAR && !n->quoted) {
                if (!strcmp(n->str, "true")) {
                        *out = true;
                        return 0;
                }
                if (!strcmp(n->str, "false")) {
                        *out = false;
                        return 0;
                }
        }
        return red_yaml_error(errstr, errstr_size, n,
                              "expected true or false for %s, got \"%s\"", what,
                              n->kind == RED_YAML_SCALAR
                                      ? n->str
                                      : red_yaml_kind_name(n->kind));
}
