/*
 * red_log - one line per event of note, as text or JSON, to stderr.
 *
 * Lines are written with a single write(2) so concurrent threads never
 * interleave within a line. Nothing here ever receives a secret: callers
 * log hosts, ports and names, never conninfo strings or passwords.
 */
#ifndef RED_LOG_H
#define RED_LOG_H

#include "red_attr.h"
#include <stdbool.h>

typedef enum {
        RED_LOG_DEBUG,
        RED_LOG_INFO,
        RED_LOG_WARN,
        RED_LOG_ERROR,
} red_log_level_t;

/** Sets the threshold and the format (json=true: one JSON object a line). */
void red_log_setup(red_log_level_t level, bool json);

/** True when a message at @p level would be written. */
bool red_log_enabled(red_log_level_t level);

/**
 * Writes one line: time, level, @p component and the formatted message.
 * Newlines in the message are replaced so a line stays a line.
 */
void red_log(red_log_level_t level, const char *component, const char *fmt, ...)
        RED_PRINTF(3, 4);

#define red_log_debug(comp, ...) red_log(RED_LOG_DEBUG, comp, __VA_ARGS__)
#define red_log_info(comp, ...)  red_log(RED_LOG_INFO, comp, __VA_ARGS__)
#define red_log_warn(comp, ...)  red_log(RED_LOG_WARN, comp, __VA_ARGS__)
#define red_log_error(comp, ...) red_log(RED_LOG_ERROR, comp, __VA_ARGS__)

#endif
