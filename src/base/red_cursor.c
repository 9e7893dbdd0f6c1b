/* red_cursor - page tokens: length-prefixed values in URL-safe base64. */
#include "red_cursor.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void red_cursor_encode(const char *const *vals, const size_t *lens, size_t cnt,
                       red_buf_t *out)
{
        red_buf_t raw;
        uint32_t acc = 0;
        int bits = 0;

        red_buf_init(&raw);
        for (size_t i = 0; i < cnt; i++) {
                size_t len = lens ? lens[i] : strlen(vals[i]);
                red_buf_printf(&raw, "%zu:", len);
                red_buf_append(&raw, vals[i], len);
        }
        for (size_t i = 0; i < raw.len; i++) {
                acc = (acc << 8) | (unsigned char)raw.data[i];
                bits += 8;
                while (bits >= 6) {
                        bits -= 6;
                        red_buf_putc(out, b64[(acc >> bits) & 63]);
                }
        }
        if (bits) {
                red_buf_putc(out, b64[(acc << (6 - bits)) & 63]);
        }
        if (raw.failed) {
                out->failed = true;
        }
        red_buf_destroy(&raw);
}

void red_cursor_free(char **vals, size_t cnt)
{
        for (size_t i = 0; vals && i < cnt; i++) {
                free(vals[i]);
        }
        free(vals);
}

int red_cursor_decode(const char *token, size_t cnt, char ***vals)
{
        size_t len = strlen(token), n = 0, pos = 0;
        unsigned char *raw;
        uint32_t acc = 0;
        int bits = 0, r = -EINVAL;
        char **v = NULL;

        if (len > RED_CURSOR_MAX) {
                return -EINVAL;
        }
        if (!(raw = malloc(len + 1))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < len; i++) {
                const char *p = strchr(b64, token[i]);
                if (!p) {
                        goto err;
                }
                acc = (acc << 6) | (uint32_t)(p - b64);
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        raw[n++] = (unsigned char)(acc >> bits);
                }
        }
        if (!(v = calloc(cnt + 1, sizeof(*v)))) {
                r = -ENOMEM;
                goto err;
        }
        for (size_t i = 0; i < cnt; i++) {
                size_t vlen = 0, digits = 0;
                while (pos < n && raw[pos] >= '0' && raw[pos] <= '9' &&
                       digits < 6) {
                        vlen = vlen * 10 + (size_t)(raw[pos++] - '0');
                        digits++;
                }
                if (!digits || pos >= n || raw[pos++] != ':' ||
                    vlen > n - pos || memchr(raw + pos, '\0', vlen)) {
                        goto err;
                }
                if (!(v[i] = malloc(vlen + 1))) {
                        r = -ENOMEM;
                        goto err;
                }
                memcpy(v[i], raw + pos, vlen);
                v[i][vlen] = '\0';
                pos += vlen;
        }
        if (pos != n) {
                goto err;
        }
        free(raw);
        *vals = v;
        return 0;
err:
        red_cursor_free(v, cnt);
        free(raw);
        return r;
}
