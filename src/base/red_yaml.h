/*
 * red_yaml - a YAML document as a read-only tree whose every node knows
 * its file, line and column, so that config and contract errors can
 * point at the input: "contracts/x.yaml:12:5: unknown key ...".
 *
 * Built from libyaml's event parser. Anchors and aliases are resolved by
 * sharing nodes; merge keys ("<<") and multi-document files are refused.
 * All nodes live in an arena owned by the document.
 */
#ifndef RED_YAML_H
#define RED_YAML_H

#include "red_attr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct red_yaml_doc_s red_yaml_doc_t;
typedef struct red_yaml_node_s red_yaml_node_t;

typedef enum {
        RED_YAML_SCALAR,
        RED_YAML_MAP,
        RED_YAML_SEQ,
} red_yaml_kind_t;

/** The size limit of red_yaml_load_file() until one is set: 4 MiB. */
#define RED_YAML_MAX_FILE_BYTES_DEFAULT ((size_t)4 * 1024 * 1024)

/**
 * Parses the file at @p path. Returns NULL and fills @p errstr
 * ("path:line:col: problem") on I/O or syntax errors, and without reading
 * it when it is not a regular file ("path: not a regular file (a FIFO)":
 * a FIFO would block, a device never end) or holds more than the limit
 * set by red_yaml_set_max_file_bytes() ("path: too large: ...").
 * Caller destroys with red_yaml_doc_destroy().
 */
red_yaml_doc_t *red_yaml_load_file(const char *path, char *errstr,
                                   size_t errstr_size);

/**
 * red_yaml_load_file() with its own limit of @p max bytes; @p setting
 * (may be NULL, borrowed) names what sets the limit in the message.
 */
red_yaml_doc_t *red_yaml_load_file_max(const char *path, size_t max,
                                       const char *setting, char *errstr,
                                       size_t errstr_size);

/**
 * Sets the size limit of every later red_yaml_load_file() in the process
 * (config and contract files: bounded, so that a wrong path never fills
 * the memory). @p setting (a string that outlives every load, e.g. a
 * literal; may be NULL) names the setting in messages.
 */
void red_yaml_set_max_file_bytes(size_t max, const char *setting);

/** The current limit of red_yaml_load_file(). */
size_t red_yaml_max_file_bytes(void);

/** Parses @p len bytes of @p text; @p name is used in messages. */
red_yaml_doc_t *red_yaml_load_string(const char *name, const char *text,
                                     size_t len, char *errstr,
                                     size_t errstr_size);

/** Frees the document and every node; accepts NULL. */
void red_yaml_doc_destroy(red_yaml_doc_t *doc);

/** The root node (borrowed), or NULL for an empty document. */
const red_yaml_node_t *red_yaml_doc_root(const red_yaml_doc_t *doc);

red_yaml_kind_t red_yaml_kind(const red_yaml_node_t *n);
/** "a mapping", "a list" or "a scalar", for messages. */
const char *red_yaml_kind_name(red_yaml_kind_t kind);
int red_yaml_line(const red_yaml_node_t *n); /**< 1-based */
int red_yaml_col(const red_yaml_node_t *n);  /**< 1-based */

/** Scalar text, NUL-terminated (borrowed); NULL for maps and lists. */
const char *red_yaml_str(const red_yaml_node_t *n);
/** Scalar length in bytes (scalars may contain NUL when quoted). */
size_t red_yaml_len(const red_yaml_node_t *n);
/** True for a quoted scalar ('x' or "x"), which is never null/number. */
bool red_yaml_is_quoted(const red_yaml_node_t *n);
/** True for a plain scalar ~, null, Null, NULL or empty. */
bool red_yaml_is_null(const red_yaml_node_t *n);

/** Number of pairs of a map or items of a list; 0 for a scalar. */
size_t red_yaml_size(const red_yaml_node_t *n);
/** The i-th key / value of a map, i-th item of a list (borrowed). */
const red_yaml_node_t *red_yaml_key(const red_yaml_node_t *n, size_t i);
const red_yaml_node_t *red_yaml_value(const red_yaml_node_t *n, size_t i);
const red_yaml_node_t *red_yaml_item(const red_yaml_node_t *n, size_t i);
/** The value of map key @p key, or NULL (also when @p n is not a map). */
const red_yaml_node_t *red_yaml_get(const red_yaml_node_t *n, const char *key);

/**
 * Formats "name:line:col: " followed by the message into @p errstr.
 * Always returns -EINVAL so callers can `return red_yaml_error(...)`.
 */
int red_yaml_error(char *errstr, size_t errstr_size, const red_yaml_node_t *n,
                   const char *fmt, ...) RED_PRINTF(4, 5);

/**
 * Checks that @p n is a map whose keys are all in the NULL-terminated
 * @p allowed list; else writes e.g.
 * `f.yaml:3:5: unknown key "windw" in aggregation (allowed: windows,
 * group_by); did you mean "windows"?` naming @p what.
 * Returns 0 or -EINVAL.
 */
int red_yaml_check_keys(const red_yaml_node_t *n, const char *what,
                        const char *const *allowed, char *errstr,
                        size_t errstr_size) RED_MUSTCHECK;

/** Checks the node kind; message "expected a mapping for @p what, got a list".
 */
int red_yaml_expect(const red_yaml_node_t *n, red_yaml_kind_t kind,
                    const char *what, char *errstr,
                    size_t errstr_size) RED_MUSTCHECK;

/** Scalar conversions with input-pointing messages; 0 or -EINVAL. */
int red_yaml_to_int64(const red_yaml_node_t *n, const char *what, int64_t *out,
                      char *errstr, size_t errstr_size) RED_MUSTCHECK;
int red_yaml_to_double(const red_yaml_node_t *n, const char *what, double *out,
                       char *errstr, size_t errstr_size) RED_MUSTCHECK;
int red_yaml_to_bool(const red_yaml_node_t *n, const char *what, bool *out,
                     char *errstr, size_t errstr_size) RED_MUSTCHECK;
/** A non-null scalar as a string (maps, lists and null are errors). */
int red_yaml_to_str(const red_yaml_node_t *n, const char *what,
                    const char **out, char *errstr,
                    size_t errstr_size) RED_MUSTCHECK;

#endif
