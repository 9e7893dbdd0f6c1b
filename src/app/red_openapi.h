/*
 * red_openapi - the OpenAPI 3.1 description of the read API
 * (src/app/openapi.json), built into the binary and served as
 * GET /v1/openapi.json. Generated at build time by embed_file.py.
 */
#ifndef RED_OPENAPI_H
#define RED_OPENAPI_H

#include <stddef.h>

/** The document's JSON text, NUL-terminated. */
extern const char red_openapi_json[];
/** Its length without the NUL. */
extern const size_t red_openapi_json_len;

#endif
