/*
 * red_redact - credentials taken out of a message before it is logged.
 *
 * libpq quotes what it could not parse: a whole connection URI ("invalid
 * URI: \"postgresql://u:secret@[::1\""), or only the token it choked on
 * ("invalid percent-encoded token: \"secret%zz\""). Every libpq message
 * goes through red_redact() before it reaches a log or stderr.
 */
#ifndef RED_REDACT_H
#define RED_REDACT_H

#include <stddef.h>

/** What a credential is replaced by. */
#define RED_REDACTED "***"

/**
 * Copies the @p len bytes of @p msg into @p out (@p size bytes, always
 * NUL-terminated, truncated if need be) with each credential replaced by
 * RED_REDACTED:
 *  - the value of a `password` keyword (`password=VALUE`, `password =
 *    'quoted \' value'`, `?password=VALUE&` in a URI query);
 *  - the password of a URI's userinfo (`scheme://user:PASSWORD@host`);
 *  - every occurrence of a password that @p conninfo holds (by the same
 *    rules, as written and percent-decoded) or of @p password, for the
 *    messages that quote a token without its context.
 * @p conninfo (the connection string the message may quote) and
 * @p password (one known otherwise, e.g. PQpass()) may be NULL. Pure.
 */
void red_redact(char *out, size_t size, const char *msg, size_t len,
                const char *conninfo, const char *password);

#endif
