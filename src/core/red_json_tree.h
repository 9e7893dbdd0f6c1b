/*
 * red_json_tree - JSON text to a jansson tree, as json_loadb() parses it,
 * and also where json_loadb() stops short of JSON: member names with
 * \u0000. JSON allows them and jansson's trees hold them
 * (json_object_setn), but its parser refuses them ("NUL byte in object key
 * not supported"). A message with such a name is valid JSON, so the
 * decoder must not call it invalid_json; it judges the NUL where the
 * event would store it, as it does for NUL in values.
 */
#ifndef RED_JSON_TREE_H
#define RED_JSON_TREE_H

#include <jansson.h>
#include <stddef.h>

/**
 * Parses @p len bytes at @p data with json_loadb(JSON_ALLOW_NUL |
 * JSON_DECODE_ANY) and, when that refuses a member name with \u0000,
 * builds the tree itself (same values, same duplicate rule: the last one
 * counts). Returns a new reference, or NULL with @p err filled as
 * json_loadb() fills it (for an error after a name with \u0000, the words
 * and position json_loadb() gives for that error).
 */
json_t *red_json_tree_load(const void *data, size_t len, json_error_t *err);

/**
 * json_loadb(@p data, @p len, @p flags, NULL), faster: the tree is built
 * from red_json_scan_walk() with json_loadb()'s values and rules (the
 * same calls: json_object_setn_new_nocheck(), the last of duplicate names
 * counts), and what it does not build itself goes to json_loadb(): text
 * json_loadb() refuses, \u0000 in a string without JSON_ALLOW_NUL or in a
 * name, a top value neither object nor array without JSON_DECODE_ANY,
 * integers beyond int64, reals beyond the double range, nesting deeper
 * than 64, other flags. For text a scanner read already (the decoder's
 * objects and arrays). A new reference, or NULL where json_loadb()
 * returns NULL.
 */
json_t *red_json_tree_parse(const void *data, size_t len, size_t flags);

#endif
