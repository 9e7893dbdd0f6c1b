/* red_contract_values - the value parsers all contract sections share. */
#include "red_contract_load.h"

#include "red_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each parser reads one YAML node and names @p what (the enclosing item,
 * e.g. "aggregation jobs") in its messages, so that an error reads
 * "file:line:col: aggregation jobs: ..." wherever the value sits.
 */

/* --- keys and scalars --------------------------------------------------- */

const red_yaml_node_t *red_contract_load_required(red_loader_t *ld,
                                                  const red_yaml_node_t *n,
                                                  const char *what,
                                                  const char *key,
                                                  const char *hint, int *r)
{
        const red_yaml_node_t *v = red_yaml_get(n, key);

        if (!v) {
                *r = red_yaml_error(ld->errstr, ld->size, n,
                                    "%s: \"%s\" is required%s", what, key,
                                    hint);
        }
        return v;
}

int red_contract_load_str(red_loader_t *ld, const red_yaml_node_t *n,
                          const char *what, char **out)
{
        const char *s;

        if (red_yaml_to_str(n, what, &s, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        free(*out);
        if (!(*out = strdup(s))) {
                return -ENOMEM;
        }
        return 0;
}

bool red_contract_load_is_ident(const char *s, size_t max)
{
        size_t len = strlen(s);

        if (!len || len > max ||
            !(islower((unsigned char)s[0]) || s[0] == '_')) {
                return false;
        }
        for (size_t i = 0; i < len; i++) {
                if (!(islower((unsigned char)s[i]) ||
                      isdigit((unsigned char)s[i]) || s[i] == '_')) {
                        return false;
                }
        }
        return true;
}

/* Names become SQL identifiers and JSON keys: only the characters that
 * need no quoting anywhere, and short enough for Postgres' 63 bytes. */
int red_contract_load_ident(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, size_t max, char **out)
{
        int r = red_contract_load_str(ld, n, what, out);

        if (r) {
                return r;
        }
        if (!red_contract_load_is_ident(*out, max)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"%s\" is not a valid name "
                                      "(allowed: lowercase letters, digits "
                                      "and _, starting with a letter, at most "
                                      "%zu characters)",
                                      what, *out, max);
        }
        return 0;
}

/* Kafka's own rule for topic names. */
static bool is_topic(const char *s)
{
        size_t len = strlen(s);

        if (!len || len > 249 || !strcmp(s, ".") || !strcmp(s, "..")) {
                return false;
        }
        for (size_t i = 0; i < len; i++) {
                if (!(isalnum((unsigned char)s[i]) || s[i] == '.' ||
                      s[i] == '_' || s[i] == '-')) {
                        return false;
                }
        }
        return true;
}

int red_contract_load_topic(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, char **out)
{
        int r = red_contract_load_str(ld, n, what, out);

        if (!r && !is_topic(*out)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"%s\" is not a valid Kafka topic "
                                      "name (allowed: 1-249 of a-z A-Z 0-9 . _ "
                                      "-)",
                                      what, *out);
        }
        return r;
}

int red_contract_load_duration(red_loader_t *ld, const red_yaml_node_t *n,
                               const char *what, int64_t *out)
{
        const char *s;

        if (red_yaml_to_str(n, what, &s, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (red_time_parse_duration(s, strlen(s), RED_TIME_US_PER_SEC, out) ||
            *out < 0) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"%s\" is not a duration (allowed: "
                                      "e.g. 250ms, 30s, 5m, 2h, 7d)",
                                      what, s);
        }
        return 0;
}

/* --- lists of names ------------------------------------------------------ */

/*
 * The list is the caller's only when the whole of it parsed: a caller
 * that keeps it in a local then has one thing to free, whatever failed,
 * and one that stores it in the contract never stores half a list.
 */
int red_contract_load_strlist(red_loader_t *ld, const red_yaml_node_t *n,
                              const char *what, char ***out, size_t *cnt)
{
        size_t len = red_yaml_kind(n) == RED_YAML_SEQ ? red_yaml_size(n) : 1;
        char **items;
        int r = 0;

        *out = NULL;
        *cnt = 0;
        if (red_yaml_kind(n) == RED_YAML_MAP) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "expected a list for %s, got a mapping",
                                      what);
        }
        items = calloc(len ? len : 1, sizeof(*items));
        if (!items) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < len; i++) {
                const red_yaml_node_t *it = red_yaml_kind(n) == RED_YAML_SEQ
                                                    ? red_yaml_item(n, i)
                                                    : n;
                if ((r = red_contract_load_str(ld, it, what, &items[i]))) {
                        goto err;
                }
        }
        *out = items;
        *cnt = len;
        return 0;
err:
        red_contract_load_strlist_free(items, len);
        return r;
}

void red_contract_load_strlist_free(char **items, size_t cnt)
{
        for (size_t i = 0; items && i < cnt; i++) {
                free(items[i]);
        }
        free(items);
}

int red_contract_load_index(char **names, size_t cnt, const char *name)
{
        for (size_t i = 0; i < cnt; i++) {
                if (!strcmp(names[i], name)) {
                        return (int)i;
                }
        }
        return -1;
}

/* Truncated at @p size: the list only illustrates the message. */
const char *red_contract_load_join(char **names, size_t cnt, char *buf,
                                   size_t size)
{
        size_t pos = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < cnt && pos < size; i++) {
                pos += (size_t)snprintf(buf + pos, size - pos, "%s%s",
                                        i ? ", " : "", names[i]);
        }
        return buf;
}

/* --- references to the contract's kinds and fields ----------------------- */

static const char *kind_names(const red_contract_t *c, char *buf, size_t size)
{
        size_t pos = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < c->kind_cnt && pos < size; i++) {
                pos += (size_t)snprintf(buf + pos, size - pos, "%s%s",
                                        i ? ", " : "", c->kinds[i].name);
        }
        return buf;
}

static int kind_index(const red_contract_t *c, const char *name)
{
        for (size_t i = 0; i < c->kind_cnt; i++) {
                if (!strcmp(c->kinds[i].name, name)) {
                        return (int)i;
                }
        }
        return -1;
}

int red_contract_load_kinds(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, uint64_t *mask)
{
        char **names = NULL, buf[1024];
        size_t cnt = 0;
        int r = red_contract_load_strlist(ld, n, what, &names, &cnt);

        *mask = 0;
        for (size_t i = 0; !r && i < cnt; i++) {
                int k = kind_index(ld->c, names[i]);
                if (k < 0) {
                        const red_yaml_node_t *at =
                                red_yaml_kind(n) == RED_YAML_SEQ
                                        ? red_yaml_item(n, i)
                                        : n;
                        r = red_yaml_error(ld->errstr, ld->size, at,
                                           "%s: unknown event kind \"%s\" "
                                           "(allowed: %s)",
                                           what, names[i],
                                           kind_names(ld->c, buf, sizeof(buf)));
                } else {
                        *mask |= UINT64_C(1) << k;
                }
        }
        red_contract_load_strlist_free(names, cnt);
        if (!r && !*mask) {
                r = red_yaml_error(ld->errstr, ld->size, n,
                                   "%s: at least one event kind is needed",
                                   what);
        }
        return r;
}

int red_contract_load_slot(red_loader_t *ld, const red_yaml_node_t *n,
                           const char *what, int *slot)
{
        const char *s;
        char buf[2048];

        if (red_yaml_to_str(n, what, &s, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        *slot = red_contract_slot(ld->c, s);
        if (*slot < 0) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: unknown field \"%s\" (allowed: %s)",
                                      what, s,
                                      red_contract_load_join(ld->c->slot_names,
                                                             ld->c->slot_cnt,
                                                             buf, sizeof(buf)));
        }
        return 0;
}

int red_contract_load_string_slot(red_loader_t *ld, const red_yaml_node_t *n,
                                  const char *what, int *slot)
{
        int r = red_contract_load_slot(ld, n, what, slot);

        if (!r && ld->c->slot_types[*slot] != RED_FT_STRING) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: field %s must be a string", what,
                                      ld->c->slot_names[*slot]);
        }
        return r;
}

/* --- constants and conditions -------------------------------------------- */

void red_contract_load_const_free(red_const_t *v)
{
        free(v->s);
        v->s = NULL;
}

int red_contract_load_const(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, red_field_type_t type,
                            red_const_t *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        out->type = type;
        switch (type) {
        case RED_FT_BOOLEAN:
                return red_yaml_to_bool(n, what, &out->b, ld->errstr, ld->size);
        case RED_FT_INTEGER:
                r = red_yaml_to_int64(n, what, &out->i, ld->errstr, ld->size);
                /* integers compare with numbers too */
                out->d = (double)out->i;
                return r;
        case RED_FT_NUMBER:
                return red_yaml_to_double(n, what, &out->d, ld->errstr,
                                          ld->size);
        case RED_FT_STRING:
        case RED_FT_UUID:
        case RED_FT_TIMESTAMP:
                return red_contract_load_str(ld, n, what, &out->s);
        default:
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: a %s field cannot have a constant "
                                      "(allowed: string, integer, number, "
                                      "boolean)",
                                      what, red_contract_field_type_name(type));
        }
}

int red_contract_load_conds(red_loader_t *ld, const red_yaml_node_t *n,
                            const char *what, red_cond_t **out, size_t *cnt)
{
        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        *cnt = red_yaml_size(n);
        *out = calloc(*cnt ? *cnt : 1, sizeof(**out));
        if (!*out) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < *cnt; i++) {
                red_cond_t *cd = &(*out)[i];
                red_field_type_t t;
                int r;

                if ((r = red_contract_load_slot(ld, red_yaml_key(n, i), what,
                                                &cd->slot))) {
                        return r;
                }
                t = ld->c->slot_types[cd->slot];
                if (t != RED_FT_BOOLEAN && t != RED_FT_INTEGER &&
                    t != RED_FT_STRING && t != RED_FT_NUMBER) {
                        return red_yaml_error(
                                ld->errstr, ld->size, red_yaml_key(n, i),
                                "%s: field %s is a %s; conditions compare "
                                "booleans, integers, numbers or strings",
                                what, ld->c->slot_names[cd->slot],
                                red_contract_field_type_name(t));
                }
                if ((r = red_contract_load_const(ld, red_yaml_value(n, i), what,
                                                 t, &cd->value))) {
                        return r;
                }
        }
        return 0;
}

void red_contract_load_conds_free(red_cond_t *cd, size_t cnt)
{
        for (size_t i = 0; cd && i < cnt; i++) {
                red_contract_load_const_free(&cd[i].value);
        }
        free(cd);
}

/* --- outputs ------------------------------------------------------------- */

int red_contract_load_publish(red_loader_t *ld, const red_yaml_node_t *n,
                              const char *what, red_publish_t *out)
{
        static const char *const keys[] = {"topic", "event_type", NULL};
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "topic"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"topic\" is required", what);
        }
        if ((r = red_contract_load_topic(ld, v, what, &out->topic))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "event_type"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"event_type\" is required", what);
        }
        return red_contract_load_str(ld, v, what, &out->event_type);
}

int red_contract_load_partition(red_loader_t *ld, const red_yaml_node_t *n,
                                const char *what, red_partition_t *out)
{
        const char *s;

        if (red_yaml_to_str(n, what, &s, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!strcmp(s, "daily")) {
                *out = RED_PART_DAILY;
        } else if (!strcmp(s, "monthly")) {
                *out = RED_PART_MONTHLY;
        } else {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"%s\" is not valid (allowed: "
                                      "daily, monthly)",
                                      what, s);
        }
        return 0;
}
