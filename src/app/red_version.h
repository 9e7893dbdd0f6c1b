/*
 * red_version - the one-line version of reducerd and the libraries it
 * runs with, for `reducerd version` and the daemon's startup line.
 */
#ifndef RED_VERSION_H
#define RED_VERSION_H

#include <stddef.h>

/** "reducerd 0.1.0 (librdkafka 2.0.2, libpq 15.18, ...)" into @p buf. */
void red_version_string(char *buf, size_t size);

#endif
