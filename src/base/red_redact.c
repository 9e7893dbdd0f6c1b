/* red_redact - credentials out of libpq messages: by pattern, and by value. */
#include "red_redact.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Passwords taken from one conninfo: more than a conninfo holds. */
#define MAX_SECRETS 32

/* What is scanned: the patterns end differently in each. */
typedef enum {
        TEXT_MESSAGE,  /* a message quoting parts of a conninfo: a value
                          also ends at a quote, blank or '&' */
        TEXT_KEYWORDS, /* a keyword/value conninfo: libpq's rules */
        TEXT_URI,      /* a URI conninfo: libpq's rules */
} text_t;

typedef struct secrets_s {
        const char *p[MAX_SECRETS];
        size_t len[MAX_SECRETS];
        size_t cnt;
        char *store; /* unquoted and decoded forms */
        size_t used;
} secrets_t;

/* Called with each credential found: its offset and length in the text. */
typedef void found_fn(void *arg, const char *text, size_t off, size_t len);

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

static bool value_end(char c, text_t kind)
{
        switch (kind) {
        case TEXT_URI:
                return c == '&';
        case TEXT_KEYWORDS:
                return is_blank(c);
        default:
                return is_blank(c) || c == '"' || c == '\'' || c == '&';
        }
}

/* scheme://user:PASSWORD@host: libpq ends the userinfo at the first '@'
 * before any '/'. Returns where the scan goes on. */
static size_t scan_userinfo(const char *s, size_t len, size_t i, text_t kind,
                            found_fn *found, void *arg)
{
        size_t q = i, colon = 0;
        bool has_colon = false;

        for (; q < len && s[q] != '@' && s[q] != '/'; q++) {
                if (kind == TEXT_MESSAGE && (is_blank(s[q]) || s[q] == '"')) {
                        return q;
                }
                if (s[q] == ':' && !has_colon) {
                        has_colon = true;
                        colon = q;
                }
        }
        if (q < len && s[q] == '@' && has_colon && q > colon + 1) {
                found(arg, s, colon + 1, q - colon - 1);
        }
        return q;
}

/* password = VALUE, the value quoted ('...' with \ escapes) or not.
 * Returns where the scan goes on. */
static size_t scan_keyword(const char *s, size_t len, size_t i, text_t kind,
                           found_fn *found, void *arg)
{
        size_t p = i + strlen("password"), start;

        while (kind != TEXT_URI && p < len && is_blank(s[p])) {
                p++;
        }
        if (p >= len || s[p] != '=') {
                return i + 1;
        }
        p++;
        while (kind != TEXT_URI && p < len && is_blank(s[p])) {
                p++;
        }
        start = p;
        if (kind != TEXT_URI && p < len && s[p] == '\'') {
                for (p++; p < len && s[p] != '\''; p++) {
                        if (s[p] == '\\' && p + 1 < len) {
                                p++;
                        }
                }
                p += p < len; /* the closing quote */
        } else {
                while (p < len && !value_end(s[p], kind)) {
                        p++;
                }
        }
        if (p > start) {
                found(arg, s, start, p - start);
        }
        return p;
}

/* Calls @p found for each credential of @p s by pattern. */
static void scan(const char *s, size_t len, text_t kind, found_fn *found,
                 void *arg)
{
        size_t i = 0;

        while (i < len) {
                if (len - i >= 3 && !memcmp(s + i, "://", 3)) {
                        i = scan_userinfo(s, len, i + 3, kind, found, arg);
                } else if (len - i >= 8 && !strncasecmp(s + i, "password", 8)) {
                        i = scan_keyword(s, len, i, kind, found, arg);
                } else {
                        i++;
                }
        }
}

/* --- passwords of the conninfo ------------------------------------- */

static void add_secret(secrets_t *sec, const char *p, size_t len)
{
        for (size_t i = 0; i < sec->cnt; i++) {
                if (sec->len[i] == len && !memcmp(sec->p[i], p, len)) {
                        return;
                }
        }
        if (len && sec->cnt < MAX_SECRETS) {
                sec->p[sec->cnt] = p;
                sec->len[sec->cnt++] = len;
        }
}

static int hex(char c)
{
        if (c >= '0' && c <= '9') {
                return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
                return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
                return c - 'A' + 10;
        }
        return -1;
}

/* A password as written, unquoted and percent-decoded: a message may
 * quote any of these forms. */
static void found_secret(void *arg, const char *text, size_t off, size_t len)
{
        secrets_t *sec = arg;
        const char *v = text + off;
        char *unq = sec->store + sec->used, *dec;
        size_t n = 0;

        add_secret(sec, v, len);
        if (len >= 2 && v[0] == '\'') {
                for (size_t i = 1; i < len && v[i] != '\''; i++) {
                        if (v[i] == '\\' && i + 1 < len) {
                                i++;
                        }
                        unq[n++] = v[i];
                }
                sec->used += n;
                add_secret(sec, unq, n);
                v = unq;
                len = n;
        }
        dec = sec->store + sec->used;
        n = 0;
        for (size_t i = 0; i < len; i++) {
                if (v[i] == '%' && i + 2 < len && hex(v[i + 1]) >= 0 &&
                    hex(v[i + 2]) >= 0) {
                        dec[n++] = (char)(hex(v[i + 1]) * 16 + hex(v[i + 2]));
                        i += 2;
                } else {
                        dec[n++] = v[i];
                }
        }
        sec->used += n;
        add_secret(sec, dec, n);
}

/* --- the message ---------------------------------------------------- */

static void found_mark(void *arg, const char *text, size_t off, size_t len)
{
        (void)text;
        memset((bool *)arg + off, true, len);
}

static void mark_occurrences(const char *msg, size_t len, const char *p,
                             size_t plen, bool *mask)
{
        for (size_t i = 0; plen && i + plen <= len; i++) {
                if (!memcmp(msg + i, p, plen)) {
                        memset(mask + i, true, plen);
                }
        }
}

static void put(char *out, size_t size, size_t *n, const char *p, size_t len)
{
        for (size_t i = 0; i < len && *n + 1 < size; i++) {
                out[(*n)++] = p[i];
        }
}

void red_redact(char *out, size_t size, const char *msg, size_t len,
                const char *conninfo, const char *password)
{
        size_t clen = conninfo ? strlen(conninfo) : 0, n = 0;
        secrets_t sec = {.cnt = 0};
        bool *mask;

        if (!size) {
                return;
        }
        mask = calloc(len + 1, sizeof(*mask));
        /* the unquoted and the decoded form are each at most as long as
         * the conninfo's text they come from */
        sec.store = malloc(2 * clen + 1);
        if (!mask || !sec.store) {
                /* cannot tell what is secret: withhold it all */
                put(out, size, &n, RED_REDACTED, strlen(RED_REDACTED));
                goto done;
        }
        if (clen) {
                bool uri = !strncmp(conninfo, "postgresql://", 13) ||
                           !strncmp(conninfo, "postgres://", 11);
                scan(conninfo, clen, uri ? TEXT_URI : TEXT_KEYWORDS,
                     found_secret, &sec);
        }
        if (password) {
                add_secret(&sec, password, strlen(password));
        }
        scan(msg, len, TEXT_MESSAGE, found_mark, mask);
        for (size_t i = 0; i < sec.cnt; i++) {
                mark_occurrences(msg, len, sec.p[i], sec.len[i], mask);
        }
        for (size_t i = 0; i < len; i++) {
                if (!mask[i]) {
                        put(out, size, &n, msg + i, 1);
                } else if (!i || !mask[i - 1]) {
                        put(out, size, &n, RED_REDACTED, strlen(RED_REDACTED));
                }
        }
done:
        out[n] = '\0';
        free(mask);
        free(sec.store);
}
