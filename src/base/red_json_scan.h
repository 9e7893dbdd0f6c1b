/*
 * red_json_scan - a strict JSON scanner that builds no tree.
 *
 * It accepts exactly what jansson's json_loadb() accepts (RFC 8259
 * grammar, UTF-8 checked as jansson checks it: no overlong forms, no
 * surrogates, nothing past U+10FFFF; no NaN or Infinity; nothing after the
 * value but white space) and hands out values as spans of the input: a
 * string is the bytes between its quotes (with a flag when it holds
 * escapes), a number its token, an object or array its whole text.
 *
 * Why: decoding an event needs a few members of the envelope and of its
 * payload. Building a jansson tree of ~50 values per message costs more
 * than the parse itself once thousands of events live until their batch
 * commits, so red_decode scans each message once with
 * red_json_scan_doc() and reads values straight from the spans.
 *
 * When jansson takes over: the scanner is the fast path, jansson the
 * reference. Every scanning function returns -1 for invalid input, so the
 * caller can let jansson parse it again and word the error, and also for
 * the valid constructs it leaves to jansson: escaped member names, \u0000,
 * integers of 19 or more digits, numbers near the double range or longer
 * than RED_JSON_SCAN_MAX_NUMBER characters, nesting deeper than
 * RED_JSON_SCAN_MAX_DEPTH, and more than RED_JSON_SCAN_MAX_MEMBERS members
 * where members are collected. red_json_scan_walk() is the exception: it
 * takes all of these, for callers that must go where jansson cannot
 * (member names with \u0000, which JSON allows and json_loadb refuses).
 *
 * No domain knowledge: which members matter is the caller's business.
 */
#ifndef RED_JSON_SCAN_H
#define RED_JSON_SCAN_H

#include "red_attr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Members collected per object (red_json_scan_doc/_object). */
#define RED_JSON_SCAN_MAX_MEMBERS 64
/** Nesting the fast scanners follow. */
#define RED_JSON_SCAN_MAX_DEPTH 64
/** The longest number token the fast scanners take. */
#define RED_JSON_SCAN_MAX_NUMBER 300

typedef enum {
        RED_JSON_NULL,
        RED_JSON_TRUE,
        RED_JSON_FALSE,
        RED_JSON_INT,
        RED_JSON_REAL,
        RED_JSON_STR,
        RED_JSON_OBJ,
        RED_JSON_ARR,
} red_json_type_t;

/** A value as a span of the input (borrowed from it). */
typedef struct red_json_tok_s {
        red_json_type_t t;
        bool esc;      /**< STR: has escapes (see red_json_unescape()) */
        bool wide;     /**< INT (walk only): more digits than i holds */
        const char *p; /**< STR: after the opening quote; others: the token */
        size_t len;    /**< STR: up to the closing quote */
        int64_t i;     /**< INT: the value (unless wide) */
} red_json_tok_t;

/** An object member: its name (raw, between the quotes) and value. */
typedef struct red_json_member_s {
        const char *k;
        size_t klen;
        red_json_tok_t v;
} red_json_member_t;

/** The members of a document's object and of one of its own members. */
typedef struct red_json_doc_s {
        red_json_member_t top[RED_JSON_SCAN_MAX_MEMBERS];
        size_t top_cnt;
        red_json_member_t sub[RED_JSON_SCAN_MAX_MEMBERS];
        size_t sub_cnt;
        /** the last member named sub_key (the one jansson keeps) is an
         * object, and its members are in sub */
        bool sub_object;
} red_json_doc_t;

/**
 * Scans @p len bytes that must be one JSON object, collecting its members
 * in @p doc->top and, when a member named @p sub_key (e.g. "payload") is
 * an object, that object's members in @p doc->sub. Duplicate names are
 * kept in order (the last one is jansson's). 0, or -1: invalid, not an
 * object, or a construct left to jansson.
 */
int red_json_scan_doc(red_json_doc_t *doc, const void *data, size_t len,
                      const char *sub_key) RED_MUSTCHECK;

/**
 * Scans the object text @p p (@p len bytes, e.g. an OBJ token) and
 * collects its members into @p m (room for RED_JSON_SCAN_MAX_MEMBERS),
 * their number into *@p cnt. 0 or -1 (as red_json_scan_doc()).
 */
int red_json_scan_object(const char *p, size_t len, red_json_member_t *m,
                         size_t *cnt) RED_MUSTCHECK;

/** The value of the number token @p p (@p len bytes, from a scanner
 * here), as jansson's strtod() reads it: correctly rounded, whatever the
 * locale (NAN only when a copy of a token longer than
 * RED_JSON_SCAN_MAX_NUMBER cannot be allocated). */
double red_json_real(const char *p, size_t len);

/**
 * Writes the text of the string token @p p (@p len bytes between the
 * quotes, from a scanner here) with its escapes resolved (as UTF-8) to
 * @p out, which has room for @p len bytes (the text is never longer), and
 * returns its length.
 */
size_t red_json_unescape(const char *p, size_t len, char *out);

/** What red_json_scan_walk() reports, in document order. */
typedef struct red_json_walk_s {
        /** An object or array begins (@p t RED_JSON_OBJ or _ARR). */
        int (*begin)(void *opaque, red_json_type_t t);
        /** A member name of the object being walked (a STR token). */
        int (*key)(void *opaque, const red_json_tok_t *name);
        /** A scalar: null, true, false, a number or a string. */
        int (*scalar)(void *opaque, const red_json_tok_t *v);
        /** The innermost object or array ends. */
        int (*end)(void *opaque);
        void *opaque;
} red_json_walk_t;

/**
 * Walks the JSON text @p data (@p len bytes; any value at the top, white
 * space around it) and reports its parts to @p w, taking what the fast
 * scanners leave to jansson: escaped names, \u0000, numbers of any length
 * (an INT that does not fit int64 comes as `wide`: the caller converts
 * it), nesting up to @p max_depth. A callback that returns non-zero stops
 * the walk, which returns that value. 0, -1 for invalid JSON (or nesting
 * deeper than @p max_depth), or a callback's value.
 */
int red_json_scan_walk(const void *data, size_t len, int max_depth,
                       const red_json_walk_t *w) RED_MUSTCHECK;

/**
 * Finds the scalar members named @p name of the JSON object @p data
 * (@p len bytes): the object's own in *@p top and, when its member
 * @p sub_key (may be NULL) is an object, that object's in *@p sub. The
 * last of duplicate names counts, as in jansson, and names are compared
 * unescaped. An absent member, or one whose value is an object or array,
 * comes back as a RED_JSON_NULL token with p NULL. For callers that hold a
 * jansson tree and need a number's text (jansson keeps only its double).
 * Takes what red_json_scan_walk() takes, nesting up to @p max_depth.
 * 0, or -1 for invalid JSON.
 */
int red_json_scan_find(const void *data, size_t len, int max_depth,
                       const char *sub_key, const char *name,
                       red_json_tok_t *top, red_json_tok_t *sub) RED_MUSTCHECK;

#endif
