/* red_log - leveled single-line logging to stderr, text or JSON. */
#include "red_log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static red_log_level_t log_level = RED_LOG_INFO;
static bool log_json;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void red_log_setup(red_log_level_t level, bool json)
{
        log_level = level;
        log_json = json;
}

bool red_log_enabled(red_log_level_t level)
{
        return level >= log_level;
}

/* Appends @p s to @p buf at *@p pos, escaping for JSON or flattening
 * newlines for text. Truncates silently at the buffer end. */
static void append_escaped(char *buf, size_t size, size_t *pos, const char *s)
{
        for (; *s && *pos + 7 < size; s++) {
                unsigned char c = (unsigned char)*s;
                if (log_json && (c == '"' || c == '\\')) {
                        buf[(*pos)++] = '\\';
                        buf[(*pos)++] = (char)c;
                } else if (c < 0x20) {
                        if (log_json) {
                                *pos += (size_t)snprintf(
                                        buf + *pos, size - *pos, "\\u%04x", c);
                        } else {
                                buf[(*pos)++] = ' ';
                        }
                } else {
                        buf[(*pos)++] = (char)c;
                }
        }
}

void red_log(red_log_level_t level, const char *component, const char *fmt, ...)
{
        char msg[2048], line[4608], ts[40];
        struct timespec now;
        struct tm tm;
        size_t pos = 0;
        va_list ap;

        if (level < log_level) {
                return;
        }
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        strftime(ts, 24, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(ts + 19, sizeof(ts) - 19, ".%03ldZ", now.tv_nsec / 1000000);

        if (log_json) {
                pos = (size_t)snprintf(line, sizeof(line),
                                       "{\"ts\":\"%s\",\"level\":\"%s\","
                                       "\"component\":\"%s\",\"msg\":\"",
                                       ts, level_names[level], component);
                append_escaped(line, sizeof(line) - 3, &pos, msg);
                memcpy(line + pos, "\"}\n", 3);
                pos += 3;
        } else {
                pos = (size_t)snprintf(line, sizeof(line), "%s %-5s %s: ", ts,
                                       level_names[level], component);
                append_escaped(line, sizeof(line) - 1, &pos, msg);
                line[pos++] = '\n';
        }
        /* One write per line; a short write to stderr is not retried. */
        ssize_t r = write(STDERR_FILENO, line, pos);
        (void)r;
}
