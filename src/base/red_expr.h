/*
 * red_expr - the column expressions of contracts: numbers, references,
 * + - * /, parentheses and coalesce(a, b, ...). Values are doubles or
 * null; null propagates through arithmetic and division by zero is null.
 *
 * References are resolved to integers at parse time by the caller's
 * resolver, and read at evaluation time through the caller's callback, so
 * this module knows nothing about measures.
 */
#ifndef RED_EXPR_H
#define RED_EXPR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct red_expr_s red_expr_t;

/**
 * Resolves the reference @p name (e.g. "duration.p95") to an integer.
 * Returns 0, or -1 with a message in @p errstr.
 */
typedef int(red_expr_resolve_cb)(void *opaque, const char *name, int *ref,
                                 char *errstr, size_t errstr_size);

/**
 * Reads reference @p ref. Returns false for null.
 */
typedef bool(red_expr_value_cb)(void *opaque, int ref, double *out);

/**
 * Parses @p text. Returns NULL with "column N: problem" in @p errstr.
 * Caller destroys with red_expr_destroy().
 */
red_expr_t *red_expr_parse(const char *text, red_expr_resolve_cb *resolve,
                           void *opaque, char *errstr, size_t errstr_size);

/** Frees the expression; accepts NULL. */
void red_expr_destroy(red_expr_t *e);

/** Evaluates @p e; returns false when the result is null. */
bool red_expr_eval(const red_expr_t *e, red_expr_value_cb *value, void *opaque,
                   double *out);

/** True when the expression is a single reference (sets *@p ref). */
bool red_expr_is_ref(const red_expr_t *e, int *ref);

/** Calls @p cb with every reference of @p e, left to right. */
void red_expr_refs(const red_expr_t *e, void (*cb)(void *opaque, int ref),
                   void *opaque);

/**
 * True when @p e only adds, subtracts and multiplies (or coalesces)
 * integral constants and references for which @p integral says true: its
 * value is then an integer whenever it is not null. Division never is.
 */
bool red_expr_integral(const red_expr_t *e,
                       bool (*integral)(void *opaque, int ref), void *opaque);

#endif
