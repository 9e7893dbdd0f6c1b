/* red_contract - loads and validates contract YAML into the contract model. */
#include "red_contract.h"

#include "red_expr.h"
#include "red_time.h"
#include "red_yaml.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct loader_s {
        red_contract_t *c;
        char *errstr;
        size_t size;
} loader_t;

static const char *const type_names[] = {
        "none", "string", "integer", "number", "boolean", "uuid", "timestamp",
        "object"};

const char *red_field_type_name(red_field_type_t t)
{
        return (size_t)t < sizeof(type_names) / sizeof(*type_names)
                       ? type_names[t]
                       : "?";
}

/* ------------------------------------------------------------------ */
/* Scalar helpers                                                      */
/* ------------------------------------------------------------------ */

static int str_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                  char **out)
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

static bool is_ident(const char *s, size_t max)
{
        size_t len = strlen(s);

        if (!len || len > max || !(islower((unsigned char)s[0]) || s[0] == '_')) {
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

/* A name: [a-z_][a-z0-9_]*, at most @p max bytes (SQL-safe). */
static int ident_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                    size_t max, char **out)
{
        int r = str_of(ld, n, what, out);

        if (r) {
                return r;
        }
        if (!is_ident(*out, max)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"%s\" is not a valid name "
                                      "(allowed: lowercase letters, digits "
                                      "and _, starting with a letter, at most "
                                      "%zu characters)",
                                      what, *out, max);
        }
        return 0;
}

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

static int topic_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                    char **out)
{
        int r = str_of(ld, n, what, out);

        if (!r && !is_topic(*out)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"%s\" is not a valid Kafka topic "
                                      "name (allowed: 1-249 of a-z A-Z 0-9 . _ "
                                      "-)",
                                      what, *out);
        }
        return r;
}

static int duration_of(loader_t *ld, const red_yaml_node_t *n,
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

static void strlist_free(char **items, size_t cnt)
{
        for (size_t i = 0; items && i < cnt; i++) {
                free(items[i]);
        }
        free(items);
}

/*
 * Parses a list of strings (a single scalar counts as a one-item list).
 * The list is the caller's only when the whole of it parsed: on error
 * *out is NULL and *cnt 0, so a caller never frees half a list, nor a
 * list of an earlier call that its local still points to.
 */
static int strlist_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                      char ***out, size_t *cnt)
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
                if ((r = str_of(ld, it, what, &items[i]))) {
                        goto err;
                }
        }
        *out = items;
        *cnt = len;
        return 0;
err:
        strlist_free(items, len);
        return r;
}

static int index_of(char **names, size_t cnt, const char *name)
{
        for (size_t i = 0; i < cnt; i++) {
                if (!strcmp(names[i], name)) {
                        return (int)i;
                }
        }
        return -1;
}

/* "a, b, c" of a name list, for (allowed: ...) texts. */
static const char *join(char **names, size_t cnt, char *buf, size_t size)
{
        size_t pos = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < cnt && pos < size; i++) {
                pos += (size_t)snprintf(buf + pos, size - pos, "%s%s",
                                        i ? ", " : "", names[i]);
        }
        return buf;
}

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

/* A kind name or a list of them, as a mask. */
static int kinds_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                    uint64_t *mask)
{
        char **names = NULL, buf[1024];
        size_t cnt = 0;
        int r = strlist_of(ld, n, what, &names, &cnt);

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
                                           kind_names(ld->c, buf,
                                                      sizeof(buf)));
                } else {
                        *mask |= UINT64_C(1) << k;
                }
        }
        strlist_free(names, cnt);
        if (!r && !*mask) {
                r = red_yaml_error(ld->errstr, ld->size, n,
                                   "%s: at least one event kind is needed",
                                   what);
        }
        return r;
}

/* A field name, resolved to its slot. */
static int slot_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                   int *slot)
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
                                      join(ld->c->slot_names,
                                           ld->c->slot_cnt, buf, sizeof(buf)));
        }
        return 0;
}

static void const_free(red_const_t *v)
{
        free(v->s);
        v->s = NULL;
}

/* A constant of the given type. */
static int const_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                    red_field_type_t type, red_const_t *out)
{
        int r;

        memset(out, 0, sizeof(*out));
        out->type = type;
        switch (type) {
        case RED_FT_BOOLEAN:
                return red_yaml_to_bool(n, what, &out->b, ld->errstr,
                                        ld->size);
        case RED_FT_INTEGER:
                r = red_yaml_to_int64(n, what, &out->i, ld->errstr, ld->size);
                out->d = (double)out->i;
                return r;
        case RED_FT_NUMBER:
                return red_yaml_to_double(n, what, &out->d, ld->errstr,
                                          ld->size);
        case RED_FT_STRING:
        case RED_FT_UUID:
        case RED_FT_TIMESTAMP:
                return str_of(ld, n, what, &out->s);
        default:
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: a %s field cannot have a constant "
                                      "(allowed: string, integer, number, "
                                      "boolean)",
                                      what, red_field_type_name(type));
        }
}

/* {field: value, ...}: equality conditions. */
static int conds_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                    red_cond_t **out, size_t *cnt)
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

                if ((r = slot_of(ld, red_yaml_key(n, i), what, &cd->slot))) {
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
                                red_field_type_name(t));
                }
                if ((r = const_of(ld, red_yaml_value(n, i), what, t,
                                  &cd->value))) {
                        return r;
                }
        }
        return 0;
}

static void conds_free(red_cond_t *cd, size_t cnt)
{
        for (size_t i = 0; cd && i < cnt; i++) {
                const_free(&cd[i].value);
        }
        free(cd);
}

static int publish_of(loader_t *ld, const red_yaml_node_t *n,
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
        if ((r = topic_of(ld, v, what, &out->topic))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "event_type"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"event_type\" is required", what);
        }
        return str_of(ld, v, what, &out->event_type);
}

static int partition_of(loader_t *ld, const red_yaml_node_t *n,
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

/* Table names leave room for the "_YYYY_MM_DD" partition suffix. */
#define TABLE_NAME_MAX 52

/* ------------------------------------------------------------------ */
/* events                                                              */
/* ------------------------------------------------------------------ */

static int field_type_of(loader_t *ld, const red_yaml_node_t *n,
                         const char *what, red_field_type_t *out)
{
        const char *s;

        if (red_yaml_to_str(n, what, &s, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        for (int t = RED_FT_STRING; t <= RED_FT_OBJECT; t++) {
                if (!strcmp(s, type_names[t])) {
                        *out = (red_field_type_t)t;
                        return 0;
                }
        }
        return red_yaml_error(ld->errstr, ld->size, n,
                              "%s: unknown type \"%s\" (allowed: string, "
                              "integer, number, boolean, uuid, timestamp, "
                              "object)",
                              what, s);
}

static int slot_add(loader_t *ld, const red_yaml_node_t *at, const char *name,
                    red_field_type_t type, int *slot)
{
        red_contract_t *c = ld->c;
        char **names;
        red_field_type_t *types;
        int s = red_contract_slot(c, name);

        if (s >= 0) {
                if (c->slot_types[s] != type) {
                        return red_yaml_error(
                                ld->errstr, ld->size, at,
                                "field %s is a %s here but a %s in another "
                                "event kind; a field name must have one type "
                                "in a contract",
                                name, red_field_type_name(type),
                                red_field_type_name(c->slot_types[s]));
                }
                *slot = s;
                return 0;
        }
        names = realloc(c->slot_names, (c->slot_cnt + 1) * sizeof(*names));
        if (!names) {
                return -ENOMEM;
        }
        c->slot_names = names;
        types = realloc(c->slot_types, (c->slot_cnt + 1) * sizeof(*types));
        if (!types) {
                return -ENOMEM;
        }
        c->slot_types = types;
        if (!(names[c->slot_cnt] = strdup(name))) {
                return -ENOMEM;
        }
        types[c->slot_cnt] = type;
        *slot = (int)c->slot_cnt++;
        return 0;
}

static int field_of(loader_t *ld, const char *kind, const red_yaml_node_t *key,
                    const red_yaml_node_t *n, red_field_t *f)
{
        static const char *const keys[] = {
                "type", "required", "default", "min", "max", "min_length",
                "max_length", "enum", "values", "from", "description", NULL};
        const red_yaml_node_t *v;
        char what[256];
        int r;

        f->min_length = f->max_length = -1;
        if ((r = ident_of(ld, key, "field name", 63, &f->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "field %s of event %s", f->name, kind);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "type"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"type\" is required (allowed: "
                                      "string, integer, number, boolean, "
                                      "uuid, timestamp, object)",
                                      what);
        }
        if ((r = field_type_of(ld, v, what, &f->type))) {
                return r;
        }
        if ((r = slot_add(ld, key, f->name, f->type, &f->slot))) {
                return r;
        }
        if ((v = red_yaml_get(n, "required")) &&
            (r = red_yaml_to_bool(v, what, &f->required, ld->errstr,
                                  ld->size))) {
                return r;
        }
        if ((v = red_yaml_get(n, "min")) || (v = red_yaml_get(n, "max"))) {
                if (f->type != RED_FT_INTEGER && f->type != RED_FT_NUMBER) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: min/max apply to integer "
                                              "and number fields",
                                              what);
                }
        }
        if ((v = red_yaml_get(n, "min"))) {
                f->has_min = true;
                if ((r = red_yaml_to_double(v, what, &f->min, ld->errstr,
                                            ld->size))) {
                        return r;
                }
        }
        if ((v = red_yaml_get(n, "max"))) {
                f->has_max = true;
                if ((r = red_yaml_to_double(v, what, &f->max, ld->errstr,
                                            ld->size))) {
                        return r;
                }
                if (f->has_min && f->max < f->min) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: max is below min", what);
                }
        }
        if ((v = red_yaml_get(n, "min_length")) ||
            (v = red_yaml_get(n, "max_length"))) {
                if (f->type != RED_FT_STRING) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: min_length/max_length "
                                              "apply to string fields",
                                              what);
                }
        }
        if ((v = red_yaml_get(n, "min_length")) &&
            ((r = red_yaml_to_int64(v, what, &f->min_length, ld->errstr,
                                    ld->size)) ||
             f->min_length < 0)) {
                return r ? r
                         : red_yaml_error(ld->errstr, ld->size, v,
                                          "%s: min_length must be >= 0",
                                          what);
        }
        if ((v = red_yaml_get(n, "max_length")) &&
            ((r = red_yaml_to_int64(v, what, &f->max_length, ld->errstr,
                                    ld->size)) ||
             f->max_length < f->min_length || f->max_length < 1)) {
                return r ? r
                         : red_yaml_error(ld->errstr, ld->size, v,
                                          "%s: max_length must be >= 1 and "
                                          ">= min_length",
                                          what);
        }
        if ((v = red_yaml_get(n, "enum"))) {
                if (f->type != RED_FT_STRING) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: enum applies to string "
                                              "fields",
                                              what);
                }
                if ((r = strlist_of(ld, v, what, &f->enum_values,
                                    &f->enum_cnt))) {
                        return r;
                }
        }
        if ((v = red_yaml_get(n, "values"))) {
                if (f->type != RED_FT_OBJECT) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: values applies to object "
                                              "fields",
                                              what);
                }
                if ((r = field_type_of(ld, v, what, &f->values))) {
                        return r;
                }
        }
        if ((v = red_yaml_get(n, "default"))) {
                f->has_default = true;
                if ((r = const_of(ld, v, what, f->type, &f->def))) {
                        return r;
                }
                if (f->def.s && f->enum_cnt &&
                    index_of(f->enum_values, f->enum_cnt, f->def.s) < 0) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: the default is not one of "
                                              "the enum values",
                                              what);
                }
        }
        if ((v = red_yaml_get(n, "from"))) {
                size_t cnt;
                if (red_yaml_expect(v, RED_YAML_SEQ, what, ld->errstr,
                                    ld->size)) {
                        return -EINVAL;
                }
                cnt = red_yaml_size(v);
                if (!cnt) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: from needs at least one "
                                              "name",
                                              what);
                }
                f->from = calloc(cnt, sizeof(*f->from));
                if (!f->from) {
                        return -ENOMEM;
                }
                f->from_cnt = cnt;
                for (size_t i = 0; i < cnt; i++) {
                        static const char *const src_keys[] = {"field",
                                                               "scale", NULL};
                        const red_yaml_node_t *it = red_yaml_item(v, i), *fv;
                        f->from[i].scale = 1.0;
                        if (red_yaml_kind(it) == RED_YAML_SCALAR) {
                                r = str_of(ld, it, what, &f->from[i].name);
                        } else if ((r = red_yaml_check_keys(
                                            it, what, src_keys, ld->errstr,
                                            ld->size))) {
                                return r;
                        } else if (!(fv = red_yaml_get(it, "field"))) {
                                return red_yaml_error(ld->errstr, ld->size, it,
                                                      "%s: \"field\" is "
                                                      "required",
                                                      what);
                        } else if (!(r = str_of(ld, fv, what,
                                                &f->from[i].name)) &&
                                   (fv = red_yaml_get(it, "scale"))) {
                                r = red_yaml_to_double(fv, what,
                                                       &f->from[i].scale,
                                                       ld->errstr, ld->size);
                                if (!r && f->type != RED_FT_NUMBER &&
                                    f->type != RED_FT_INTEGER) {
                                        r = red_yaml_error(
                                                ld->errstr, ld->size, fv,
                                                "%s: scale applies to "
                                                "number fields",
                                                what);
                                }
                        }
                        if (r) {
                                return r;
                        }
                }
        } else {
                f->from = calloc(1, sizeof(*f->from));
                if (!f->from || !(f->from[0].name = strdup(f->name))) {
                        return -ENOMEM;
                }
                f->from[0].scale = 1.0;
                f->from_cnt = 1;
        }
        return 0;
}

static int events_of(loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"types", "fields", "description",
                                           NULL};
        red_contract_t *c = ld->c;
        int r;

        if (red_yaml_expect(n, RED_YAML_MAP, "events", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!red_yaml_size(n) || red_yaml_size(n) > RED_CONTRACT_MAX_KINDS) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "events: between 1 and %d event kinds "
                                      "are allowed",
                                      RED_CONTRACT_MAX_KINDS);
        }
        c->kinds = calloc(red_yaml_size(n), sizeof(*c->kinds));
        if (!c->kinds) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                const red_yaml_node_t *body = red_yaml_value(n, i), *v;
                red_kind_t *k = &c->kinds[c->kind_cnt];
                char what[128];

                k->index = (int)c->kind_cnt;
                c->kind_cnt++;
                if ((r = ident_of(ld, red_yaml_key(n, i), "event kind", 63,
                                  &k->name))) {
                        return r;
                }
                snprintf(what, sizeof(what), "event %s", k->name);
                if ((r = red_yaml_check_keys(body, what, keys, ld->errstr,
                                             ld->size))) {
                        return r;
                }
                if (!(v = red_yaml_get(body, "types"))) {
                        return red_yaml_error(ld->errstr, ld->size, body,
                                              "%s: \"types\" is required",
                                              what);
                }
                if ((r = strlist_of(ld, v, what, &k->types, &k->type_cnt))) {
                        return r;
                }
                for (size_t t = 0; t < k->type_cnt; t++) {
                        for (size_t j = 0; j + 1 < c->kind_cnt; j++) {
                                if (index_of(c->kinds[j].types,
                                             c->kinds[j].type_cnt,
                                             k->types[t]) >= 0) {
                                        return red_yaml_error(
                                                ld->errstr, ld->size, v,
                                                "%s: type %s is already "
                                                "used by event %s",
                                                what, k->types[t],
                                                c->kinds[j].name);
                                }
                        }
                }
                if (!(v = red_yaml_get(body, "fields"))) {
                        continue;
                }
                if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr,
                                    ld->size)) {
                        return -EINVAL;
                }
                k->fields = calloc(red_yaml_size(v) + 1, sizeof(*k->fields));
                if (!k->fields) {
                        return -ENOMEM;
                }
                for (size_t j = 0; j < red_yaml_size(v); j++) {
                        k->field_cnt++;
                        if ((r = field_of(ld, k->name, red_yaml_key(v, j),
                                          red_yaml_value(v, j),
                                          &k->fields[j]))) {
                                return r;
                        }
                }
        }
        return 0;
}

static int inputs_of(loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"topic", "events", NULL};
        red_contract_t *c = ld->c;
        int r;

        if (red_yaml_expect(n, RED_YAML_SEQ, "inputs", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!red_yaml_size(n)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "inputs: at least one topic is needed");
        }
        c->inputs = calloc(red_yaml_size(n), sizeof(*c->inputs));
        if (!c->inputs) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                const red_yaml_node_t *it = red_yaml_item(n, i), *v;
                red_input_t *in = &c->inputs[c->input_cnt++];

                in->default_kind = -1;
                if ((r = red_yaml_check_keys(it, "input", keys, ld->errstr,
                                             ld->size))) {
                        return r;
                }
                if (!(v = red_yaml_get(it, "topic"))) {
                        return red_yaml_error(ld->errstr, ld->size, it,
                                              "input: \"topic\" is required");
                }
                if ((r = topic_of(ld, v, "input", &in->topic))) {
                        return r;
                }
                for (size_t j = 0; j + 1 < c->input_cnt; j++) {
                        if (!strcmp(c->inputs[j].topic, in->topic)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, v,
                                        "input: topic %s is listed twice",
                                        in->topic);
                        }
                }
                if (!(v = red_yaml_get(it, "events"))) {
                        return red_yaml_error(ld->errstr, ld->size, it,
                                              "input %s: \"events\" is "
                                              "required",
                                              in->topic);
                }
                if ((r = kinds_of(ld, v, "input", &in->kinds))) {
                        return r;
                }
                if (__builtin_popcountll(in->kinds) == 1) {
                        in->default_kind = __builtin_ctzll(in->kinds);
                }
        }
        return 0;
}

static int workflows_of(loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"key", "remember", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(n, "workflows", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "key"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "workflows: \"key\" is required");
        }
        if ((r = slot_of(ld, v, "workflows.key", &c->workflow_key_slot))) {
                return r;
        }
        if (c->slot_types[c->workflow_key_slot] != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "workflows.key: field %s must be a "
                                      "uuid",
                                      c->slot_names[c->workflow_key_slot]);
        }
        if (!(v = red_yaml_get(n, "remember"))) {
                return 0;
        }
        if (red_yaml_expect(v, RED_YAML_SEQ, "workflows.remember", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        if (red_yaml_size(v) > 4) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "workflows.remember: at most 4 fields "
                                      "are remembered (got %zu)",
                                      red_yaml_size(v));
        }
        c->remember_slots = calloc(red_yaml_size(v) + 1, sizeof(int));
        if (!c->remember_slots) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                int s;
                if ((r = slot_of(ld, red_yaml_item(v, i),
                                 "workflows.remember", &s))) {
                        return r;
                }
                if (c->slot_types[s] != RED_FT_STRING) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_item(v, i),
                                              "workflows.remember: field %s "
                                              "must be a string",
                                              c->slot_names[s]);
                }
                c->remember_slots[c->remember_cnt++] = s;
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* dimensions                                                          */
/* ------------------------------------------------------------------ */

static int dim_of(loader_t *ld, const red_yaml_node_t *key,
                  const red_yaml_node_t *n, red_dim_t *d)
{
        static const char *const keys[] = {"field", "default", "buckets",
                                           "constant", NULL};
        const red_yaml_node_t *v;
        char what[128];
        int r;

        if ((r = ident_of(ld, key, "dimension", 63, &d->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "dimension %s", d->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if ((v = red_yaml_get(n, "constant"))) {
                if (red_yaml_get(n, "field")) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: use either constant or "
                                              "field",
                                              what);
                }
                d->kind = RED_DIM_CONSTANT;
                return str_of(ld, v, what, &d->constant);
        }
        if (!(v = red_yaml_get(n, "field"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"field\" or \"constant\" is "
                                      "required",
                                      what);
        }
        if ((r = slot_of(ld, v, what, &d->slot))) {
                return r;
        }
        if ((v = red_yaml_get(n, "default")) &&
            (r = str_of(ld, v, what, &d->def))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "buckets"))) {
                red_field_type_t t = ld->c->slot_types[d->slot];
                d->kind = RED_DIM_FIELD;
                if (t == RED_FT_OBJECT || t == RED_FT_NUMBER ||
                    t == RED_FT_TIMESTAMP) {
                        return red_yaml_error(
                                ld->errstr, ld->size, red_yaml_get(n, "field"),
                                "%s: a %s field cannot be a dimension "
                                "(allowed: string, integer, boolean, uuid; "
                                "use buckets for numbers)",
                                what, red_field_type_name(t));
                }
                return 0;
        }
        d->kind = RED_DIM_BUCKETS;
        if (ld->c->slot_types[d->slot] != RED_FT_NUMBER &&
            ld->c->slot_types[d->slot] != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: buckets need a number field", what);
        }
        if (red_yaml_expect(v, RED_YAML_SEQ, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        d->buckets = calloc(red_yaml_size(v) + 1, sizeof(*d->buckets));
        if (!d->buckets) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                static const char *const bkeys[] = {"key", "below", NULL};
                const red_yaml_node_t *it = red_yaml_item(v, i), *bv;
                red_bucket_t *b = &d->buckets[d->bucket_cnt++];
                bool last = i + 1 == red_yaml_size(v);

                if ((r = red_yaml_check_keys(it, what, bkeys, ld->errstr,
                                             ld->size))) {
                        return r;
                }
                if (!(bv = red_yaml_get(it, "key"))) {
                        return red_yaml_error(ld->errstr, ld->size, it,
                                              "%s: bucket \"key\" is "
                                              "required",
                                              what);
                }
                if ((r = str_of(ld, bv, what, &b->key))) {
                        return r;
                }
                if ((bv = red_yaml_get(it, "below"))) {
                        b->has_below = true;
                        if ((r = red_yaml_to_double(bv, what, &b->below,
                                                    ld->errstr, ld->size))) {
                                return r;
                        }
                        if (i > 0 && d->buckets[i - 1].below >= b->below) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, bv,
                                        "%s: bucket thresholds must "
                                        "increase",
                                        what);
                        }
                } else if (!last) {
                        return red_yaml_error(ld->errstr, ld->size, it,
                                              "%s: only the last bucket may "
                                              "omit \"below\"",
                                              what);
                }
        }
        return 0;
}

static int dims_of(loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_MAP, "dimensions", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        c->dims = calloc(red_yaml_size(n) + 1, sizeof(*c->dims));
        if (!c->dims) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->dim_cnt++;
                if ((r = dim_of(ld, red_yaml_key(n, i), red_yaml_value(n, i),
                                &c->dims[i]))) {
                        return r;
                }
        }
        return 0;
}

/* ------------------------------------------------------------------ */
/* aggregations: measures                                              */
/* ------------------------------------------------------------------ */

static const char *const meas_keys[] = {"count", "sum", "stats", "sketch",
                                        "count_by", "by", NULL};

static int measure_of(loader_t *ld, const red_yaml_node_t *key,
                      const red_yaml_node_t *n, const char *owner,
                      bool nested, red_measure_t *m);

static int measures_of(loader_t *ld, const red_yaml_node_t *n,
                       const char *what, bool nested, red_measure_t **out,
                       size_t *cnt)
{
        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!red_yaml_size(n)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: at least one measure is needed",
                                      what);
        }
        *out = calloc(red_yaml_size(n), sizeof(**out));
        if (!*out) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                (*cnt)++;
                if ((r = measure_of(ld, red_yaml_key(n, i),
                                    red_yaml_value(n, i), what, nested,
                                    &(*out)[i]))) {
                        return r;
                }
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp((*out)[j].name, (*out)[i].name)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_key(n, i),
                                        "%s: measure %s is defined twice",
                                        what, (*out)[i].name);
                        }
                }
        }
        return 0;
}

static int measure_of(loader_t *ld, const red_yaml_node_t *key,
                      const red_yaml_node_t *n, const char *owner,
                      bool nested, red_measure_t *m)
{
        static const char *const keys[] = {"count", "sum", "stats", "sketch",
                                           "count_by", "by", "on", "where",
                                           "precision", "measures", NULL};
        const red_yaml_node_t *v = NULL, *kv;
        char what[256];
        int r, found = 0;

        if ((r = ident_of(ld, key, "measure", 63, &m->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "%s measure %s", owner, m->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        for (int k = 0; meas_keys[k]; k++) {
                if ((kv = red_yaml_get(n, meas_keys[k]))) {
                        found++;
                        v = kv;
                        m->kind = (red_meas_kind_t)k;
                }
        }
        if (found != 1) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: exactly one of count, sum, stats, "
                                      "sketch, count_by, by is needed",
                                      what);
        }
        if (nested && m->kind == RED_MEAS_BY) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: by measures cannot be nested",
                                      what);
        }
        m->slot = -1;
        m->on = ~UINT64_C(0) >> (64 - ld->c->kind_cnt);
        if (m->kind == RED_MEAS_COUNT) {
                if ((r = kinds_of(ld, v, what, &m->on))) {
                        return r;
                }
        } else {
                red_field_type_t t;
                if ((r = slot_of(ld, v, what, &m->slot))) {
                        return r;
                }
                t = ld->c->slot_types[m->slot];
                if (m->kind <= RED_MEAS_SKETCH && t != RED_FT_NUMBER &&
                    t != RED_FT_INTEGER) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: field %s is a %s; this "
                                              "measure needs a number",
                                              what, ld->c->slot_names[m->slot],
                                              red_field_type_name(t));
                }
                if (m->kind >= RED_MEAS_COUNT_BY &&
                    (t == RED_FT_NUMBER || t == RED_FT_OBJECT ||
                     t == RED_FT_TIMESTAMP)) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: cannot group by a %s "
                                              "field",
                                              what, red_field_type_name(t));
                }
                m->precision = t == RED_FT_NUMBER ? 6 : 0;
        }
        if ((kv = red_yaml_get(n, "on"))) {
                uint64_t on;
                if ((r = kinds_of(ld, kv, what, &on))) {
                        return r;
                }
                m->on &= on;
        }
        if ((kv = red_yaml_get(n, "where")) &&
            (r = conds_of(ld, kv, what, &m->where, &m->where_cnt))) {
                return r;
        }
        if ((kv = red_yaml_get(n, "precision"))) {
                int64_t p;
                if ((r = red_yaml_to_int64(kv, what, &p, ld->errstr,
                                           ld->size))) {
                        return r;
                }
                if (p < 0 || p > 9 || m->kind == RED_MEAS_COUNT ||
                    m->kind >= RED_MEAS_COUNT_BY) {
                        return red_yaml_error(ld->errstr, ld->size, kv,
                                              "%s: precision applies to sum, "
                                              "stats and sketch (allowed: "
                                              "0..9)",
                                              what);
                }
                m->precision = (int)p;
        }
        kv = red_yaml_get(n, "measures");
        if (m->kind == RED_MEAS_BY) {
                if (!kv) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "%s: a by measure needs "
                                              "\"measures\"",
                                              what);
                }
                return measures_of(ld, kv, what, true, &m->sub, &m->sub_cnt);
        }
        if (kv) {
                return red_yaml_error(ld->errstr, ld->size, kv,
                                      "%s: \"measures\" belongs to by "
                                      "measures",
                                      what);
        }
        return 0;
}

static void measures_free(red_measure_t *m, size_t cnt)
{
        for (size_t i = 0; m && i < cnt; i++) {
                free(m[i].name);
                conds_free(m[i].where, m[i].where_cnt);
                measures_free(m[i].sub, m[i].sub_cnt);
        }
        free(m);
}

/* ------------------------------------------------------------------ */
/* aggregations: columns                                               */
/* ------------------------------------------------------------------ */

typedef struct resolve_ctx_s {
        const red_measure_t *measures;
        size_t cnt;
} resolve_ctx_t;

static int resolve_ref(void *opaque, const char *name, int *ref, char *errstr,
                       size_t size)
{
        const resolve_ctx_t *rc = opaque;
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);
        const red_measure_t *m = NULL;
        int idx = -1, out;

        for (size_t i = 0; i < rc->cnt; i++) {
                if (strlen(rc->measures[i].name) == len &&
                    !strncmp(rc->measures[i].name, name, len)) {
                        m = &rc->measures[i];
                        idx = (int)i;
                }
        }
        if (!m) {
                snprintf(errstr, size, "unknown measure \"%.*s\"", (int)len,
                         name);
                return -1;
        }
        if (m->kind >= RED_MEAS_COUNT_BY) {
                snprintf(errstr, size,
                         "measure %s holds one value per key; use it as a "
                         "whole column or with each:",
                         m->name);
                return -1;
        }
        if (!dot) {
                if (m->kind == RED_MEAS_COUNT) {
                        out = RED_OUT_COUNT;
                } else if (m->kind == RED_MEAS_SUM) {
                        out = RED_OUT_SUM;
                } else {
                        snprintf(errstr, size,
                                 "measure %s has several outputs; name one "
                                 "(allowed: %s.count, .sum, .avg, .min, .max%s)",
                                 m->name, m->name,
                                 m->kind == RED_MEAS_SKETCH ? ", .p50, .p95, "
                                                              ".p99, .pNN"
                                                            : "");
                        return -1;
                }
        } else if (m->kind == RED_MEAS_COUNT) {
                snprintf(errstr, size, "measure %s is a count; use it as %s",
                         m->name, m->name);
                return -1;
        } else if (!strcmp(dot + 1, "count")) {
                out = RED_OUT_COUNT;
        } else if (!strcmp(dot + 1, "sum")) {
                out = RED_OUT_SUM;
        } else if (m->kind == RED_MEAS_SUM) {
                snprintf(errstr, size, "measure %s is a sum (allowed: %s, "
                         "%s.count, %s.sum); use stats for min/max/avg",
                         m->name, m->name, m->name, m->name);
                return -1;
        } else if (!strcmp(dot + 1, "avg")) {
                out = RED_OUT_AVG;
        } else if (!strcmp(dot + 1, "min")) {
                out = RED_OUT_MIN;
        } else if (!strcmp(dot + 1, "max")) {
                out = RED_OUT_MAX;
        } else if (m->kind == RED_MEAS_SKETCH && dot[1] == 'p' &&
                   isdigit((unsigned char)dot[2])) {
                /* p50, p99, p99_9 (= 99.9th percentile), p100 */
                char *end;
                double pct = strtod(dot + 2, &end);
                if (*end == '_' && isdigit((unsigned char)end[1])) {
                        double frac = strtod(end + 1, &end);
                        int digits = (int)strspn(strchr(dot + 2, '_') + 1,
                                                 "0123456789");
                        pct += frac / pow(10, digits);
                }
                if (*end || pct > 100) {
                        snprintf(errstr, size,
                                 "\"%s\" is not a percentile (allowed: e.g. "
                                 "%s.p50, %s.p99, %s.p99_9)",
                                 dot + 1, m->name, m->name, m->name);
                        return -1;
                }
                out = RED_OUT_Q0 + (int)lround(pct * 100);
        } else {
                snprintf(errstr, size,
                         "measure %s has no output \"%s\" (allowed: count, "
                         "sum, avg, min, max%s)",
                         m->name, dot + 1,
                         m->kind == RED_MEAS_SKETCH ? ", pNN" : "");
                return -1;
        }
        *ref = (idx << 16) | out;
        return 0;
}

static int expr_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                   resolve_ctx_t *rc, red_expr_t **out)
{
        const char *s;
        char err[512];

        if (red_yaml_kind(n) != RED_YAML_SCALAR || red_yaml_is_null(n)) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: expected an expression", what);
        }
        s = red_yaml_str(n);
        *out = red_expr_parse(s, resolve_ref, rc, err, sizeof(err));
        if (!*out) {
                return red_yaml_error(ld->errstr, ld->size, n, "%s: %s", what,
                                      err);
        }
        return 0;
}

static int object_of(loader_t *ld, const red_yaml_node_t *n, const char *what,
                     resolve_ctx_t *rc, red_column_t *col)
{
        size_t cnt = red_yaml_size(n);
        int r;

        col->keys = calloc(cnt + 1, sizeof(*col->keys));
        col->exprs = calloc(cnt + 1, sizeof(*col->exprs));
        if (!col->keys || !col->exprs) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < cnt; i++) {
                col->key_cnt++;
                if ((r = str_of(ld, red_yaml_key(n, i), what,
                                &col->keys[i])) ||
                    (r = expr_of(ld, red_yaml_value(n, i), what, rc,
                                 &col->exprs[i]))) {
                        return r;
                }
        }
        return 0;
}

static int column_of(loader_t *ld, red_agg_t *a, const red_yaml_node_t *key,
                     const red_yaml_node_t *n, red_column_t *col)
{
        resolve_ctx_t rc = {a->measures, a->measure_cnt};
        const red_yaml_node_t *v;
        char what[256];
        int r;

        if ((r = ident_of(ld, key, "column", 63, &col->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "aggregation %s column %s", a->name,
                 col->name);
        col->measure = -1;
        if (red_yaml_kind(n) == RED_YAML_SCALAR) {
                for (size_t i = 0; i < a->measure_cnt; i++) {
                        if (a->measures[i].kind == RED_MEAS_COUNT_BY &&
                            !strcmp(a->measures[i].name, red_yaml_str(n))) {
                                col->kind = RED_COL_COUNTS;
                                col->measure = (int)i;
                                return 0;
                        }
                }
                col->kind = RED_COL_EXPR;
                return expr_of(ld, n, what, &rc, &col->expr);
        }
        if (red_yaml_expect(n, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        if (!(v = red_yaml_get(n, "each"))) {
                col->kind = RED_COL_OBJECT;
                return object_of(ld, n, what, &rc, col);
        }
        {
                static const char *const keys[] = {"each", "value", NULL};
                const char *mname;
                const red_measure_t *m = NULL;

                col->kind = RED_COL_EACH;
                if ((r = red_yaml_check_keys(n, what, keys, ld->errstr,
                                             ld->size)) ||
                    (r = red_yaml_to_str(v, what, &mname, ld->errstr,
                                         ld->size))) {
                        return r;
                }
                for (size_t i = 0; i < a->measure_cnt; i++) {
                        if (!strcmp(a->measures[i].name, mname)) {
                                m = &a->measures[i];
                                col->measure = (int)i;
                        }
                }
                if (!m || m->kind != RED_MEAS_BY) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: each needs a by measure, "
                                              "\"%s\" is not one",
                                              what, mname);
                }
                rc.measures = m->sub;
                rc.cnt = m->sub_cnt;
                if (!(v = red_yaml_get(n, "value"))) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "%s: \"value\" is required",
                                              what);
                }
                if (red_yaml_kind(v) == RED_YAML_MAP) {
                        return object_of(ld, v, what, &rc, col);
                }
                return expr_of(ld, v, what, &rc, &col->expr);
        }
}

static void column_free(red_column_t *col)
{
        free(col->name);
        red_expr_destroy(col->expr);
        for (size_t i = 0; i < col->key_cnt; i++) {
                free(col->keys[i]);
                red_expr_destroy(col->exprs[i]);
        }
        free(col->keys);
        free(col->exprs);
}

/* ------------------------------------------------------------------ */
/* aggregations                                                        */
/* ------------------------------------------------------------------ */

static const char *const engine_columns[] = {
        "aggregation_id", "window_type", "window_start", "window_end",
        "state",          "revision",    "finalized_at", "updated_at", NULL};

static int dim_index(const red_contract_t *c, const char *name)
{
        for (size_t i = 0; i < c->dim_cnt; i++) {
                if (!strcmp(c->dims[i].name, name)) {
                        return (int)i;
                }
        }
        return -1;
}

static int agg_of(loader_t *ld, const red_yaml_node_t *n, red_agg_t *a)
{
        static const char *const keys[] = {
                "name", "table", "partition", "retention", "windows",
                "grouping_column", "key_columns", "groupings", "measures",
                "columns", "publish", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        char what[128], buf[1024], **names = NULL;
        size_t cnt = 0;
        int r;

        if ((r = red_yaml_check_keys(n, "aggregation", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "name"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "aggregation: \"name\" is required");
        }
        if ((r = ident_of(ld, v, "aggregation name", 63, &a->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "aggregation %s", a->name);
        if (!(v = red_yaml_get(n, "table"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"table\" is required", what);
        }
        if ((r = ident_of(ld, v, what, TABLE_NAME_MAX, &a->table))) {
                return r;
        }
        a->partition = RED_PART_MONTHLY;
        if ((v = red_yaml_get(n, "partition")) &&
            (r = partition_of(ld, v, what, &a->partition))) {
                return r;
        }
        if ((v = red_yaml_get(n, "retention")) &&
            (r = duration_of(ld, v, what, &a->retention_us))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "windows"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"windows\" is required (allowed: "
                                      "hourly, daily, weekly, monthly)",
                                      what);
        }
        if ((r = strlist_of(ld, v, what, &names, &cnt))) {
                return r;
        }
        for (size_t i = 0; i < cnt; i++) {
                red_window_type_t wt;
                if (red_window_type_parse(names[i], &wt)) {
                        r = red_yaml_error(
                                ld->errstr, ld->size,
                                red_yaml_kind(v) == RED_YAML_SEQ
                                        ? red_yaml_item(v, i)
                                        : v,
                                "%s: unknown window \"%s\" (allowed: hourly, "
                                "daily, weekly, monthly)",
                                what, names[i]);
                        break;
                }
                a->windows |= 1u << wt;
        }
        strlist_free(names, cnt);
        names = NULL;
        if (r) {
                return r;
        }
        if (!a->windows) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: at least one window is needed",
                                      what);
        }
        if (!(v = red_yaml_get(n, "grouping_column"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"grouping_column\" is required",
                                      what);
        }
        if ((r = ident_of(ld, v, what, 63, &a->grouping_column))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "key_columns"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"key_columns\" is required",
                                      what);
        }
        if ((r = strlist_of(ld, v, what, &a->key_columns, &a->key_cnt))) {
                return r;
        }
        if (a->key_cnt < 1 || a->key_cnt > 8) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: between 1 and 8 key columns are "
                                      "allowed",
                                      what);
        }
        for (size_t i = 0; i < a->key_cnt; i++) {
                if (!is_ident(a->key_columns[i], 63)) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: key column \"%s\" is not "
                                              "a valid name",
                                              what, a->key_columns[i]);
                }
        }
        if (!(v = red_yaml_get(n, "groupings"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"groupings\" is required", what);
        }
        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        a->groupings = calloc(red_yaml_size(v) + 1, sizeof(*a->groupings));
        if (!a->groupings) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_grouping_t *g = &a->groupings[a->grouping_cnt++];
                const red_yaml_node_t *gv = red_yaml_value(v, i);
                size_t dcnt = 0;

                if ((r = str_of(ld, red_yaml_key(v, i), what, &g->name))) {
                        return r;
                }
                if ((r = strlist_of(ld, gv, what, &names, &dcnt))) {
                        return r;
                }
                g->dims = calloc(a->key_cnt + 1, sizeof(*g->dims));
                if (!g->dims) {
                        strlist_free(names, dcnt);
                        return -ENOMEM;
                }
                if (dcnt != a->key_cnt) {
                        strlist_free(names, dcnt);
                        return red_yaml_error(ld->errstr, ld->size, gv,
                                              "%s: grouping %s needs one "
                                              "dimension per key column "
                                              "(%zu)",
                                              what, g->name, a->key_cnt);
                }
                for (size_t k = 0; k < dcnt; k++) {
                        g->dims[k] = dim_index(c, names[k]);
                        if (g->dims[k] < 0) {
                                size_t pos = 0;
                                buf[0] = '\0';
                                for (size_t d = 0; d < c->dim_cnt; d++) {
                                        pos += (size_t)snprintf(
                                                buf + pos, sizeof(buf) - pos,
                                                "%s%s", d ? ", " : "",
                                                c->dims[d].name);
                                }
                                r = red_yaml_error(
                                        ld->errstr, ld->size, gv,
                                        "%s: grouping %s: unknown dimension "
                                        "\"%s\" (allowed: %s)",
                                        what, g->name, names[k], buf);
                                strlist_free(names, dcnt);
                                return r;
                        }
                }
                strlist_free(names, dcnt);
                names = NULL;
        }
        if (!a->grouping_cnt) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: at least one grouping is needed",
                                      what);
        }
        if (!(v = red_yaml_get(n, "measures"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"measures\" is required", what);
        }
        if ((r = measures_of(ld, v, what, false, &a->measures,
                             &a->measure_cnt))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "columns"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"columns\" is required", what);
        }
        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        a->columns = calloc(red_yaml_size(v) + 1, sizeof(*a->columns));
        if (!a->columns) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_column_t *col = &a->columns[a->column_cnt++];
                const char *name = red_yaml_str(red_yaml_key(v, i));
                bool clash = !strcmp(name, a->grouping_column);

                for (const char *const *e = engine_columns; *e; e++) {
                        clash |= !strcmp(name, *e);
                }
                for (size_t k = 0; k < a->key_cnt; k++) {
                        clash |= !strcmp(name, a->key_columns[k]);
                }
                if (clash) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: column %s is written by "
                                              "the engine itself",
                                              what, name);
                }
                if ((r = column_of(ld, a, red_yaml_key(v, i),
                                   red_yaml_value(v, i), col))) {
                        return r;
                }
        }
        if ((v = red_yaml_get(n, "publish")) &&
            (r = publish_of(ld, v, what, &a->publish))) {
                return r;
        }
        return 0;
}

static int aggs_of(loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_SEQ, "aggregations", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        c->aggs = calloc(red_yaml_size(n) + 1, sizeof(*c->aggs));
        if (!c->aggs) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->aggs[i].index = (int)i;
                c->agg_cnt++;
                if ((r = agg_of(ld, red_yaml_item(n, i), &c->aggs[i]))) {
                        return r;
                }
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp(c->aggs[j].name, c->aggs[i].name) ||
                            !strcmp(c->aggs[j].table, c->aggs[i].table)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_item(n, i),
                                        "aggregation %s: name or table "
                                        "already used by aggregation %s",
                                        c->aggs[i].name, c->aggs[j].name);
                        }
                }
        }
        return 0;
}

static void aggs_free(red_agg_t *a, size_t cnt)
{
        for (size_t i = 0; a && i < cnt; i++) {
                free(a[i].name);
                free(a[i].table);
                free(a[i].grouping_column);
                strlist_free(a[i].key_columns, a[i].key_cnt);
                for (size_t g = 0; a[i].groupings && g < a[i].grouping_cnt;
                     g++) {
                        free(a[i].groupings[g].name);
                        free(a[i].groupings[g].dims);
                }
                free(a[i].groupings);
                measures_free(a[i].measures, a[i].measure_cnt);
                for (size_t k = 0; a[i].columns && k < a[i].column_cnt; k++) {
                        column_free(&a[i].columns[k]);
                }
                free(a[i].columns);
                free(a[i].publish.topic);
                free(a[i].publish.event_type);
        }
        free(a);
}

/* ------------------------------------------------------------------ */
/* fsm                                                                 */
/* ------------------------------------------------------------------ */

static int state_mask_of(loader_t *ld, const red_fsm_t *fsm,
                         const red_yaml_node_t *n, const char *what,
                         uint32_t *mask)
{
        char **names = NULL, buf[1024];
        size_t cnt = 0;
        int r = strlist_of(ld, n, what, &names, &cnt);

        *mask = 0;
        for (size_t i = 0; !r && i < cnt; i++) {
                int s = index_of(fsm->states, fsm->state_cnt, names[i]);
                if (s < 0) {
                        r = red_yaml_error(ld->errstr, ld->size, n,
                                           "%s: unknown state \"%s\" "
                                           "(allowed: %s)",
                                           what, names[i],
                                           join(fsm->states, fsm->state_cnt,
                                                buf, sizeof(buf)));
                } else {
                        *mask |= 1u << s;
                }
        }
        strlist_free(names, cnt);
        return r;
}

static int state_of(loader_t *ld, const red_fsm_t *fsm,
                    const red_yaml_node_t *n, const char *what, int *out)
{
        uint32_t mask;
        int r;

        if (red_yaml_kind(n) != RED_YAML_SCALAR) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: expected one state", what);
        }
        if ((r = state_mask_of(ld, fsm, n, what, &mask))) {
                return r;
        }
        *out = __builtin_ctz(mask);
        return 0;
}

static int transition_of(loader_t *ld, red_fsm_t *fsm,
                         const red_yaml_node_t *n, red_transition_t *t)
{
        static const char *const keys[] = {"from", "to", "event", "guards",
                                           NULL};
        const red_yaml_node_t *v;
        char *ev = NULL;
        int r;

        if ((r = red_yaml_check_keys(n, "fsm transition", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        for (const char *const *k = keys; k < keys + 3; k++) {
                if (!red_yaml_get(n, *k)) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "fsm transition: \"%s\" is "
                                              "required",
                                              *k);
                }
        }
        if ((r = state_mask_of(ld, fsm, red_yaml_get(n, "from"),
                               "fsm transition from", &t->from)) ||
            (r = state_of(ld, fsm, red_yaml_get(n, "to"), "fsm transition to",
                          &t->to)) ||
            (r = ident_of(ld, red_yaml_get(n, "event"), "fsm transition event",
                          50, &ev))) {
                free(ev);
                return r;
        }
        t->event = index_of(fsm->events, fsm->event_cnt, ev);
        if (t->event < 0) {
                char **ne = realloc(fsm->events,
                                    (fsm->event_cnt + 1) * sizeof(*ne));
                if (!ne) {
                        free(ev);
                        return -ENOMEM;
                }
                fsm->events = ne;
                t->event = (int)fsm->event_cnt;
                fsm->events[fsm->event_cnt++] = ev;
        } else {
                free(ev);
        }
        if ((v = red_yaml_get(n, "guards")) &&
            (r = strlist_of(ld, v, "fsm transition guards", &t->guards,
                            &t->guard_cnt))) {
                return r;
        }
        /* One target per (from, event) keeps "the transition from the
         * current state with that event" well defined. */
        for (red_transition_t *o = fsm->transitions; o < t; o++) {
                if ((o->from & t->from) && o->event == t->event) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "fsm transition: event %s "
                                              "already leaves one of these "
                                              "states",
                                              fsm->events[t->event]);
                }
                if ((o->from & t->from) && o->to == t->to) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "fsm transition: %s is already "
                                              "reachable from one of these "
                                              "states",
                                              fsm->states[t->to]);
                }
        }
        return 0;
}

static int string_slot_of(loader_t *ld, const red_yaml_node_t *n,
                          const char *what, int *slot)
{
        int r = slot_of(ld, n, what, slot);

        if (!r && ld->c->slot_types[*slot] != RED_FT_STRING) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: field %s must be a string", what,
                                      ld->c->slot_names[*slot]);
        }
        return r;
}

static int trigger_of(loader_t *ld, red_fsm_t *fsm, const red_yaml_node_t *n,
                      red_trigger_t *t)
{
        static const char *const keys[] = {"on", "when", "initialize",
                                           "state_from", "event", "event_from",
                                           "to_state_from", "set", NULL};
        const red_yaml_node_t *v;
        const char *what = "fsm trigger";
        char buf[1024];
        int r, actions = 0;

        t->state_from = t->event = t->event_from = t->to_state_from = -1;
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_yaml_get(n, "on"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"on\" is required", what);
        }
        if ((r = kinds_of(ld, v, what, &t->on))) {
                return r;
        }
        if ((v = red_yaml_get(n, "when")) &&
            (r = conds_of(ld, v, what, &t->when, &t->when_cnt))) {
                return r;
        }
        if ((v = red_yaml_get(n, "initialize"))) {
                if ((r = red_yaml_to_bool(v, what, &t->initialize, ld->errstr,
                                          ld->size))) {
                        return r;
                }
                actions += t->initialize;
        }
        if ((v = red_yaml_get(n, "state_from")) &&
            (r = string_slot_of(ld, v, what, &t->state_from))) {
                return r;
        }
        if ((v = red_yaml_get(n, "event"))) {
                const char *ev;
                actions++;
                if ((r = red_yaml_to_str(v, what, &ev, ld->errstr,
                                         ld->size))) {
                        return r;
                }
                t->event = index_of(fsm->events, fsm->event_cnt, ev);
                if (t->event < 0) {
                        return red_yaml_error(
                                ld->errstr, ld->size, v,
                                "%s: unknown event \"%s\" (allowed: %s)",
                                what, ev,
                                join(fsm->events, fsm->event_cnt, buf,
                                     sizeof(buf)));
                }
        }
        if ((v = red_yaml_get(n, "event_from"))) {
                actions++;
                if ((r = string_slot_of(ld, v, what, &t->event_from))) {
                        return r;
                }
        }
        if ((v = red_yaml_get(n, "to_state_from")) &&
            (r = string_slot_of(ld, v, what, &t->to_state_from))) {
                return r;
        }
        if (actions != 1) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: exactly one of initialize: true, "
                                      "event, event_from is needed",
                                      what);
        }
        if (t->state_from >= 0 && !t->initialize) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: state_from belongs to initialize "
                                      "triggers",
                                      what);
        }
        if ((v = red_yaml_get(n, "set"))) {
                if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr,
                                    ld->size)) {
                        return -EINVAL;
                }
                t->set_keys = calloc(red_yaml_size(v) + 1,
                                     sizeof(*t->set_keys));
                t->set_values = calloc(red_yaml_size(v) + 1,
                                       sizeof(*t->set_values));
                if (!t->set_keys || !t->set_values) {
                        return -ENOMEM;
                }
                /* counted in once both arrays exist: fsm_free() walks
                 * both */
                t->set_cnt = red_yaml_size(v);
                for (size_t i = 0; i < t->set_cnt; i++) {
                        const red_yaml_node_t *sv = red_yaml_value(v, i);
                        red_field_type_t ty = RED_FT_STRING;
                        bool b;
                        int64_t iv;
                        char err[8];

                        if ((r = str_of(ld, red_yaml_key(v, i), what,
                                        &t->set_keys[i]))) {
                                return r;
                        }
                        if (!red_yaml_to_bool(sv, what, &b, err, sizeof(err))) {
                                ty = RED_FT_BOOLEAN;
                        } else if (!red_yaml_to_int64(sv, what, &iv, err,
                                                      sizeof(err))) {
                                ty = RED_FT_INTEGER;
                        }
                        if ((r = const_of(ld, sv, what, ty,
                                          &t->set_values[i]))) {
                                return r;
                        }
                }
        }
        return 0;
}

static int fsm_of(loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {
                "key", "states", "initial", "terminal", "transitions",
                "triggers", "history_table", "current_table",
                "history_partition", "history_retention", "publish", NULL};
        red_contract_t *c = ld->c;
        red_fsm_t *fsm;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(n, "fsm", keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(fsm = c->fsm = calloc(1, sizeof(*fsm)))) {
                return -ENOMEM;
        }
        for (const char *const *k = keys; k < keys + 8; k++) {
                if (!red_yaml_get(n, *k)) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "fsm: \"%s\" is required", *k);
                }
        }
        if ((r = slot_of(ld, red_yaml_get(n, "key"), "fsm.key",
                         &fsm->key_slot))) {
                return r;
        }
        if (c->slot_types[fsm->key_slot] != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size,
                                      red_yaml_get(n, "key"),
                                      "fsm.key: field %s must be a uuid",
                                      c->slot_names[fsm->key_slot]);
        }
        if (c->workflow_key_slot >= 0 &&
            c->workflow_key_slot != fsm->key_slot) {
                return red_yaml_error(ld->errstr, ld->size,
                                      red_yaml_get(n, "key"),
                                      "fsm.key must equal workflows.key");
        }
        c->workflow_key_slot = fsm->key_slot;
        v = red_yaml_get(n, "states");
        if ((r = strlist_of(ld, v, "fsm.states", &fsm->states,
                            &fsm->state_cnt))) {
                return r;
        }
        if (fsm->state_cnt < 2 || fsm->state_cnt > RED_CONTRACT_MAX_STATES) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "fsm.states: between 2 and %d states "
                                      "are allowed",
                                      RED_CONTRACT_MAX_STATES);
        }
        for (size_t i = 0; i < fsm->state_cnt; i++) {
                if (!is_ident(fsm->states[i], 50) ||
                    index_of(fsm->states, i, fsm->states[i]) >= 0) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "fsm.states: \"%s\" is "
                                              "repeated or not a valid name",
                                              fsm->states[i]);
                }
        }
        if ((r = state_of(ld, fsm, red_yaml_get(n, "initial"), "fsm.initial",
                          &fsm->initial)) ||
            (r = state_mask_of(ld, fsm, red_yaml_get(n, "terminal"),
                               "fsm.terminal", &fsm->terminal))) {
                return r;
        }
        v = red_yaml_get(n, "transitions");
        if (red_yaml_expect(v, RED_YAML_SEQ, "fsm.transitions", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        fsm->transitions = calloc(red_yaml_size(v) + 1,
                                  sizeof(*fsm->transitions));
        if (!fsm->transitions) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                fsm->transition_cnt++;
                if ((r = transition_of(ld, fsm, red_yaml_item(v, i),
                                       &fsm->transitions[i]))) {
                        return r;
                }
        }
        v = red_yaml_get(n, "triggers");
        if (red_yaml_expect(v, RED_YAML_SEQ, "fsm.triggers", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        fsm->triggers = calloc(red_yaml_size(v) + 1, sizeof(*fsm->triggers));
        if (!fsm->triggers) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                fsm->trigger_cnt++;
                if ((r = trigger_of(ld, fsm, red_yaml_item(v, i),
                                    &fsm->triggers[i]))) {
                        return r;
                }
        }
        if ((r = ident_of(ld, red_yaml_get(n, "history_table"), "fsm",
                          TABLE_NAME_MAX, &fsm->history_table)) ||
            (r = ident_of(ld, red_yaml_get(n, "current_table"), "fsm",
                          TABLE_NAME_MAX, &fsm->current_table))) {
                return r;
        }
        fsm->history_partition = RED_PART_DAILY;
        if ((v = red_yaml_get(n, "history_partition")) &&
            (r = partition_of(ld, v, "fsm", &fsm->history_partition))) {
                return r;
        }
        if ((v = red_yaml_get(n, "history_retention")) &&
            (r = duration_of(ld, v, "fsm", &fsm->history_retention_us))) {
                return r;
        }
        if ((v = red_yaml_get(n, "publish")) &&
            (r = publish_of(ld, v, "fsm", &fsm->publish))) {
                return r;
        }
        return 0;
}

static void fsm_free(red_fsm_t *fsm)
{
        if (!fsm) {
                return;
        }
        strlist_free(fsm->states, fsm->state_cnt);
        strlist_free(fsm->events, fsm->event_cnt);
        for (size_t i = 0; fsm->transitions && i < fsm->transition_cnt; i++) {
                strlist_free(fsm->transitions[i].guards,
                             fsm->transitions[i].guard_cnt);
        }
        free(fsm->transitions);
        for (size_t i = 0; fsm->triggers && i < fsm->trigger_cnt; i++) {
                red_trigger_t *t = &fsm->triggers[i];
                conds_free(t->when, t->when_cnt);
                for (size_t k = 0; k < t->set_cnt; k++) {
                        free(t->set_keys[k]);
                        const_free(&t->set_values[k]);
                }
                free(t->set_keys);
                free(t->set_values);
        }
        free(fsm->triggers);
        free(fsm->history_table);
        free(fsm->current_table);
        free(fsm->publish.topic);
        free(fsm->publish.event_type);
        free(fsm);
}

/* ------------------------------------------------------------------ */
/* raw sinks and alerts                                                */
/* ------------------------------------------------------------------ */

/* A unique field identifies rows: a required string, integer or uuid in
 * every kind stored. */
static int unique_field_check(loader_t *ld, const red_yaml_node_t *at,
                              const char *what, uint64_t on, int slot)
{
        const red_contract_t *c = ld->c;
        red_field_type_t t = c->slot_types[slot];

        if (t != RED_FT_STRING && t != RED_FT_INTEGER && t != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size, at,
                                      "%s: unique field %s is a %s (allowed: "
                                      "string, integer, uuid)",
                                      what, c->slot_names[slot],
                                      red_field_type_name(t));
        }
        for (size_t k = 0; k < c->kind_cnt; k++) {
                const red_kind_t *kind = &c->kinds[k];
                bool required = false;

                if (!(on & (UINT64_C(1) << kind->index))) {
                        continue;
                }
                for (size_t f = 0; f < kind->field_cnt; f++) {
                        required |= kind->fields[f].slot == slot &&
                                    kind->fields[f].required;
                }
                if (!required) {
                        return red_yaml_error(ld->errstr, ld->size, at,
                                              "%s: unique field %s must be "
                                              "required in event %s",
                                              what, c->slot_names[slot],
                                              kind->name);
                }
        }
        return 0;
}

static int raw_of(loader_t *ld, const red_yaml_node_t *n, red_raw_t *r)
{
        static const char *const keys[] = {
                "name", "on", "tables", "time_column", "partition",
                "retention", "unique", "columns", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        char what[128];
        int rc;

        if ((rc = red_yaml_check_keys(n, "raw", keys, ld->errstr,
                                      ld->size))) {
                return rc;
        }
        if (!(v = red_yaml_get(n, "name"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "raw: \"name\" is required");
        }
        if ((rc = ident_of(ld, v, "raw name", 63, &r->name))) {
                return rc;
        }
        snprintf(what, sizeof(what), "raw %s", r->name);
        if (!(v = red_yaml_get(n, "on"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"on\" is required", what);
        }
        if ((rc = kinds_of(ld, v, what, &r->on))) {
                return rc;
        }
        if (!(v = red_yaml_get(n, "tables"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"tables\" is required (input "
                                      "topic: table)",
                                      what);
        }
        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        r->topics = calloc(red_yaml_size(v) + 1, sizeof(char *));
        r->tables = calloc(red_yaml_size(v) + 1, sizeof(char *));
        if (!r->topics || !r->tables) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                r->table_cnt++;
                if ((rc = topic_of(ld, red_yaml_key(v, i), what,
                                   &r->topics[i])) ||
                    (rc = ident_of(ld, red_yaml_value(v, i), what,
                                   TABLE_NAME_MAX, &r->tables[i]))) {
                        return rc;
                }
                if (!red_contract_input(c, r->topics[i])) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: topic %s is not an input "
                                              "of the contract",
                                              what, r->topics[i]);
                }
        }
        if ((v = red_yaml_get(n, "time_column"))) {
                rc = ident_of(ld, v, what, 63, &r->time_column);
        } else if (!(r->time_column = strdup("timestamp"))) {
                rc = -ENOMEM;
        }
        if (rc) {
                return rc;
        }
        r->partition = RED_PART_DAILY;
        if ((v = red_yaml_get(n, "partition")) &&
            (rc = partition_of(ld, v, what, &r->partition))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "retention")) &&
            (rc = duration_of(ld, v, what, &r->retention_us))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "unique"))) {
                char **names = NULL;
                size_t cnt = 0;
                if ((rc = strlist_of(ld, v, what, &names, &cnt))) {
                        return rc;
                }
                r->unique = calloc(cnt + 1, sizeof(int));
                for (size_t i = 0; r->unique && i < cnt; i++) {
                        r->unique[i] = red_contract_slot(c, names[i]);
                        if (r->unique[i] < 0) {
                                rc = red_yaml_error(ld->errstr, ld->size, v,
                                                    "%s: unique: unknown "
                                                    "field \"%s\"",
                                                    what, names[i]);
                                break;
                        }
                        if ((rc = unique_field_check(ld, v, what, r->on,
                                                     r->unique[i]))) {
                                break;
                        }
                        r->unique_cnt++;
                }
                strlist_free(names, cnt);
                if (!r->unique) {
                        return -ENOMEM;
                }
                if (rc) {
                        return rc;
                }
        }
        if (!(v = red_yaml_get(n, "columns"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: \"columns\" is required (column: "
                                      "field)",
                                      what);
        }
        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        r->columns = calloc(red_yaml_size(v) + 1, sizeof(*r->columns));
        if (!r->columns) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                red_raw_column_t *col = &r->columns[r->column_cnt++];
                if ((rc = ident_of(ld, red_yaml_key(v, i), what, 63,
                                   &col->name)) ||
                    (rc = slot_of(ld, red_yaml_value(v, i), what,
                                  &col->slot))) {
                        return rc;
                }
                if (!strcmp(col->name, r->time_column) ||
                    !strcmp(col->name, "created_at")) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_key(v, i),
                                              "%s: column %s is written by "
                                              "the engine (event time, "
                                              "insertion time)",
                                              what, col->name);
                }
        }
        for (size_t u = 0; u < r->unique_cnt; u++) {
                bool found = false;
                for (size_t i = 0; i < r->column_cnt; i++) {
                        found |= r->columns[i].slot == r->unique[u];
                }
                if (!found) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_get(n, "unique"),
                                              "%s: unique field %s has no "
                                              "column",
                                              what,
                                              c->slot_names[r->unique[u]]);
                }
        }
        return 0;
}

static int raws_of(loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;

        if (red_yaml_expect(n, RED_YAML_SEQ, "raw", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        c->raws = calloc(red_yaml_size(n) + 1, sizeof(*c->raws));
        if (!c->raws) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(n); i++) {
                int r;
                c->raws[i].index = (int)i;
                c->raw_cnt++;
                if ((r = raw_of(ld, red_yaml_item(n, i), &c->raws[i]))) {
                        return r;
                }
        }
        return 0;
}

static void raws_free(red_raw_t *r, size_t cnt)
{
        for (size_t i = 0; r && i < cnt; i++) {
                free(r[i].name);
                strlist_free(r[i].topics, r[i].table_cnt);
                strlist_free(r[i].tables, r[i].table_cnt);
                free(r[i].time_column);
                free(r[i].unique);
                for (size_t k = 0; r[i].columns && k < r[i].column_cnt; k++) {
                        free(r[i].columns[k].name);
                }
                free(r[i].columns);
        }
        free(r);
}

const char *red_raw_table(const red_raw_t *r, const char *topic)
{
        for (size_t i = 0; topic && i < r->table_cnt; i++) {
                if (!strcmp(r->topics[i], topic)) {
                        return r->tables[i];
                }
        }
        return NULL;
}

static const char *const op_names[] = {"gt", "lt", "gte", "lte"};

const char *red_alert_op_name(red_alert_op_t op)
{
        return (unsigned)op < 4 ? op_names[op] : "?";
}

static int rule_of(loader_t *ld, const red_yaml_node_t *n,
                   int64_t default_cooldown, red_alert_rule_t *r)
{
        static const char *const keys[] = {"id", "metric", "op", "threshold",
                                           "severity", "message", "cooldown",
                                           NULL};
        static const char *const severities[] = {"CRITICAL", "WARNING",
                                                 "INFO"};
        const red_yaml_node_t *v;
        const char *s;
        char what[128] = "alert rule";
        int rc;

        if ((rc = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return rc;
        }
        for (const char *const *k = keys; k < keys + 5; k++) {
                if (!red_yaml_get(n, *k)) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "alert rule: \"%s\" is "
                                              "required",
                                              *k);
                }
        }
        if ((rc = ident_of(ld, red_yaml_get(n, "id"), what, 100, &r->id))) {
                return rc;
        }
        snprintf(what, sizeof(what), "alert rule %s", r->id);
        if ((rc = str_of(ld, red_yaml_get(n, "metric"), what, &r->metric)) ||
            (rc = red_yaml_to_double(red_yaml_get(n, "threshold"), what,
                                     &r->threshold, ld->errstr, ld->size))) {
                return rc;
        }
        v = red_yaml_get(n, "op");
        if ((rc = red_yaml_to_str(v, what, &s, ld->errstr, ld->size))) {
                return rc;
        }
        r->op = (red_alert_op_t)-1;
        for (int i = 0; i < 4; i++) {
                if (!strcmp(s, op_names[i])) {
                        r->op = (red_alert_op_t)i;
                }
        }
        if ((int)r->op < 0) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: operator \"%s\" is not valid "
                                      "(allowed: gt, lt, gte, lte)",
                                      what, s);
        }
        v = red_yaml_get(n, "severity");
        if ((rc = str_of(ld, v, what, &r->severity))) {
                return rc;
        }
        if (strcmp(r->severity, severities[0]) &&
            strcmp(r->severity, severities[1]) &&
            strcmp(r->severity, severities[2])) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: severity \"%s\" is not valid "
                                      "(allowed: CRITICAL, WARNING, INFO)",
                                      what, r->severity);
        }
        if ((v = red_yaml_get(n, "message"))) {
                rc = str_of(ld, v, what, &r->message);
        } else if (!(r->message = strdup("{metric_name} {operator} "
                                         "{threshold}: actual={value}"))) {
                rc = -ENOMEM;
        }
        if (rc) {
                return rc;
        }
        r->cooldown_us = default_cooldown;
        if ((v = red_yaml_get(n, "cooldown")) &&
            (rc = duration_of(ld, v, what, &r->cooldown_us))) {
                return rc;
        }
        return 0;
}

static int alerts_of(loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {
                "on", "match", "value", "scope", "tags", "correlation",
                "table", "publish", "cooldown", "rules", NULL};
        red_contract_t *c = ld->c;
        red_alerts_t *a;
        const red_yaml_node_t *v;
        int64_t cooldown = 5 * RED_TIME_US_PER_MIN;
        int rc;

        if ((rc = red_yaml_check_keys(n, "alerts", keys, ld->errstr,
                                      ld->size))) {
                return rc;
        }
        if (!(a = c->alerts = calloc(1, sizeof(*a)))) {
                return -ENOMEM;
        }
        a->scope_slot = a->tags_slot = a->correlation_slot = -1;
        for (const char *const *k = keys; k < keys + 3; k++) {
                if (!red_yaml_get(n, *k)) {
                        return red_yaml_error(ld->errstr, ld->size, n,
                                              "alerts: \"%s\" is required",
                                              *k);
                }
        }
        if ((rc = kinds_of(ld, red_yaml_get(n, "on"), "alerts", &a->on)) ||
            (rc = string_slot_of(ld, red_yaml_get(n, "match"), "alerts.match",
                                 &a->match_slot)) ||
            (rc = slot_of(ld, red_yaml_get(n, "value"), "alerts.value",
                          &a->value_slot))) {
                return rc;
        }
        if (c->slot_types[a->value_slot] != RED_FT_NUMBER &&
            c->slot_types[a->value_slot] != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size,
                                      red_yaml_get(n, "value"),
                                      "alerts.value: field %s must be a "
                                      "number",
                                      c->slot_names[a->value_slot]);
        }
        if (((v = red_yaml_get(n, "scope")) &&
             (rc = slot_of(ld, v, "alerts.scope", &a->scope_slot))) ||
            ((v = red_yaml_get(n, "tags")) &&
             (rc = slot_of(ld, v, "alerts.tags", &a->tags_slot))) ||
            ((v = red_yaml_get(n, "correlation")) &&
             (rc = string_slot_of(ld, v, "alerts.correlation",
                                  &a->correlation_slot)))) {
                return rc;
        }
        if (a->tags_slot >= 0 && c->slot_types[a->tags_slot] != RED_FT_OBJECT) {
                return red_yaml_error(ld->errstr, ld->size,
                                      red_yaml_get(n, "tags"),
                                      "alerts.tags: field %s must be an "
                                      "object",
                                      c->slot_names[a->tags_slot]);
        }
        if ((v = red_yaml_get(n, "table")) &&
            (rc = ident_of(ld, v, "alerts.table", TABLE_NAME_MAX,
                           &a->table))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "publish")) &&
            (rc = publish_of(ld, v, "alerts", &a->publish))) {
                return rc;
        }
        if ((v = red_yaml_get(n, "cooldown")) &&
            (rc = duration_of(ld, v, "alerts.cooldown", &cooldown))) {
                return rc;
        }
        if (!a->table && !a->publish.topic) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "alerts: give a \"table\", a "
                                      "\"publish\" topic or both");
        }
        if (!(v = red_yaml_get(n, "rules"))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "alerts: \"rules\" is required");
        }
        if (red_yaml_expect(v, RED_YAML_SEQ, "alerts.rules", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        a->rules = calloc(red_yaml_size(v) + 1, sizeof(*a->rules));
        if (!a->rules) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < red_yaml_size(v); i++) {
                a->rule_cnt++;
                if ((rc = rule_of(ld, red_yaml_item(v, i), cooldown,
                                  &a->rules[i]))) {
                        return rc;
                }
                for (size_t j = 0; j < i; j++) {
                        if (!strcmp(a->rules[j].id, a->rules[i].id)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_item(v, i),
                                        "alert rule %s is defined twice",
                                        a->rules[i].id);
                        }
                }
        }
        return 0;
}

static void alerts_free(red_alerts_t *a)
{
        if (!a) {
                return;
        }
        for (size_t i = 0; a->rules && i < a->rule_cnt; i++) {
                free(a->rules[i].id);
                free(a->rules[i].metric);
                free(a->rules[i].severity);
                free(a->rules[i].message);
        }
        free(a->rules);
        free(a->table);
        free(a->publish.topic);
        free(a->publish.event_type);
        free(a);
}

/* ------------------------------------------------------------------ */
/* the contract                                                        */
/* ------------------------------------------------------------------ */

static int time_of(loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {
                "max_out_of_orderness", "grace", "late_policy",
                "allowed_lateness", "max_future_skew", "idle_wait", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(n, "time", keys, ld->errstr, ld->size))) {
                return r;
        }
        if (((v = red_yaml_get(n, "max_out_of_orderness")) &&
             (r = duration_of(ld, v, "time.max_out_of_orderness",
                              &c->max_out_of_orderness_us))) ||
            ((v = red_yaml_get(n, "grace")) &&
             (r = duration_of(ld, v, "time.grace", &c->grace_us))) ||
            ((v = red_yaml_get(n, "allowed_lateness")) &&
             (r = duration_of(ld, v, "time.allowed_lateness",
                              &c->allowed_lateness_us))) ||
            ((v = red_yaml_get(n, "max_future_skew")) &&
             (r = duration_of(ld, v, "time.max_future_skew",
                              &c->max_future_skew_us))) ||
            ((v = red_yaml_get(n, "idle_wait")) &&
             (r = duration_of(ld, v, "time.idle_wait", &c->idle_wait_us)))) {
                return r;
        }
        if ((v = red_yaml_get(n, "late_policy"))) {
                static const char *const pol[] = {"update", "dead_letter",
                                                  "drop"};
                const char *s;
                if ((r = red_yaml_to_str(v, "time.late_policy", &s,
                                         ld->errstr, ld->size))) {
                        return r;
                }
                for (int i = 0; i < 3; i++) {
                        if (!strcmp(s, pol[i])) {
                                c->late_policy = (red_late_policy_t)i;
                                return 0;
                        }
                }
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "time.late_policy: \"%s\" is not valid "
                                      "(allowed: update, dead_letter, drop)",
                                      s);
        }
        return 0;
}

static int contract_of(loader_t *ld, const red_yaml_node_t *root)
{
        static const char *const keys[] = {
                "contract", "version", "description", "consumer_group", "time",
                "sketch", "dead_letter_topic", "inputs", "events", "workflows",
                "dimensions", "aggregations", "fsm", "raw", "alerts", NULL};
        static const char *const required[] = {"contract", "version",
                                               "dead_letter_topic", "inputs",
                                               "events", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(root, "contract", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        for (const char *const *k = required; *k; k++) {
                if (!red_yaml_get(root, *k)) {
                        return red_yaml_error(ld->errstr, ld->size, root,
                                              "contract: \"%s\" is required",
                                              *k);
                }
        }
        if ((r = ident_of(ld, red_yaml_get(root, "contract"), "contract", 40,
                          &c->name)) ||
            (r = str_of(ld, red_yaml_get(root, "version"), "version",
                        &c->version)) ||
            (r = topic_of(ld, red_yaml_get(root, "dead_letter_topic"),
                          "dead_letter_topic", &c->dead_letter_topic))) {
                return r;
        }
        if ((v = red_yaml_get(root, "consumer_group"))) {
                r = str_of(ld, v, "consumer_group", &c->consumer_group);
        } else if (asprintf(&c->consumer_group, "reducerd.%s", c->name) < 0) {
                c->consumer_group = NULL;
                r = -ENOMEM;
        }
        if (r) {
                return r;
        }
        c->max_out_of_orderness_us = 60 * RED_TIME_US_PER_SEC;
        c->allowed_lateness_us = 7 * RED_TIME_US_PER_DAY;
        c->max_future_skew_us = 5 * RED_TIME_US_PER_MIN;
        c->idle_wait_us = 2 * RED_TIME_US_PER_SEC;
        if ((v = red_yaml_get(root, "time")) && (r = time_of(ld, v))) {
                return r;
        }
        c->sketch_alpha = 0.01;
        if ((v = red_yaml_get(root, "sketch"))) {
                static const char *const skeys[] = {"relative_accuracy",
                                                    NULL};
                const red_yaml_node_t *a;
                if ((r = red_yaml_check_keys(v, "sketch", skeys, ld->errstr,
                                             ld->size))) {
                        return r;
                }
                if ((a = red_yaml_get(v, "relative_accuracy")) &&
                    ((r = red_yaml_to_double(a, "sketch.relative_accuracy",
                                             &c->sketch_alpha, ld->errstr,
                                             ld->size)) ||
                     c->sketch_alpha < 0.0001 || c->sketch_alpha > 0.2)) {
                        return r ? r
                                 : red_yaml_error(
                                           ld->errstr, ld->size, a,
                                           "sketch.relative_accuracy: %g is "
                                           "out of range (allowed: "
                                           "0.0001..0.2)",
                                           c->sketch_alpha);
                }
        }
        c->workflow_key_slot = -1;
        if ((r = events_of(ld, red_yaml_get(root, "events"))) ||
            (r = inputs_of(ld, red_yaml_get(root, "inputs")))) {
                return r;
        }
        if ((v = red_yaml_get(root, "workflows")) && (r = workflows_of(ld, v))) {
                return r;
        }
        if ((v = red_yaml_get(root, "dimensions")) && (r = dims_of(ld, v))) {
                return r;
        }
        if ((v = red_yaml_get(root, "aggregations")) && (r = aggs_of(ld, v))) {
                return r;
        }
        if ((v = red_yaml_get(root, "fsm")) && (r = fsm_of(ld, v))) {
                return r;
        }
        if ((v = red_yaml_get(root, "raw")) && (r = raws_of(ld, v))) {
                return r;
        }
        if ((v = red_yaml_get(root, "alerts")) && (r = alerts_of(ld, v))) {
                return r;
        }
        return 0;
}

red_contract_t *red_contract_load(const char *path, char *errstr,
                                  size_t errstr_size)
{
        red_yaml_doc_t *doc = red_yaml_load_file(path, errstr, errstr_size);
        loader_t ld = {NULL, errstr, errstr_size};
        const red_yaml_node_t *root;
        int r;

        if (!doc) {
                return NULL;
        }
        if (!(ld.c = calloc(1, sizeof(*ld.c))) ||
            !(ld.c->path = strdup(path))) {
                r = -ENOMEM;
        } else if (!(root = red_yaml_doc_root(doc)) ||
                   red_yaml_kind(root) != RED_YAML_MAP) {
                r = -EINVAL;
                snprintf(errstr, errstr_size,
                         "%s:1:1: a contract must be a mapping", path);
        } else {
                r = contract_of(&ld, root);
        }
        if (r == -ENOMEM) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
        }
        red_yaml_doc_destroy(doc);
        if (r) {
                red_contract_destroy(ld.c);
                return NULL;
        }
        return ld.c;
}

void red_contract_destroy(red_contract_t *c)
{
        if (!c) {
                return;
        }
        for (size_t i = 0; c->kinds && i < c->kind_cnt; i++) {
                red_kind_t *k = &c->kinds[i];
                free(k->name);
                strlist_free(k->types, k->type_cnt);
                for (size_t j = 0; k->fields && j < k->field_cnt; j++) {
                        red_field_t *f = &k->fields[j];
                        free(f->name);
                        strlist_free(f->enum_values, f->enum_cnt);
                        const_free(&f->def);
                        for (size_t s = 0; f->from && s < f->from_cnt; s++) {
                                free(f->from[s].name);
                        }
                        free(f->from);
                }
                free(k->fields);
        }
        free(c->kinds);
        for (size_t i = 0; c->inputs && i < c->input_cnt; i++) {
                free(c->inputs[i].topic);
        }
        free(c->inputs);
        strlist_free(c->slot_names, c->slot_cnt);
        free(c->slot_types);
        free(c->remember_slots);
        for (size_t i = 0; c->dims && i < c->dim_cnt; i++) {
                free(c->dims[i].name);
                free(c->dims[i].def);
                free(c->dims[i].constant);
                for (size_t b = 0; b < c->dims[i].bucket_cnt; b++) {
                        free(c->dims[i].buckets[b].key);
                }
                free(c->dims[i].buckets);
        }
        free(c->dims);
        aggs_free(c->aggs, c->agg_cnt);
        fsm_free(c->fsm);
        raws_free(c->raws, c->raw_cnt);
        alerts_free(c->alerts);
        free(c->path);
        free(c->name);
        free(c->version);
        free(c->consumer_group);
        free(c->dead_letter_topic);
        free(c);
}

const red_kind_t *red_contract_kind_by_type(const red_contract_t *c,
                                            const char *event_type, size_t len)
{
        for (size_t i = 0; i < c->kind_cnt; i++) {
                for (size_t t = 0; t < c->kinds[i].type_cnt; t++) {
                        const char *ty = c->kinds[i].types[t];
                        if (!strncmp(ty, event_type, len) && !ty[len]) {
                                return &c->kinds[i];
                        }
                }
        }
        return NULL;
}

const red_input_t *red_contract_input(const red_contract_t *c,
                                      const char *topic)
{
        for (size_t i = 0; i < c->input_cnt; i++) {
                if (!strcmp(c->inputs[i].topic, topic)) {
                        return &c->inputs[i];
                }
        }
        return NULL;
}

int red_contract_slot(const red_contract_t *c, const char *name)
{
        return index_of(c->slot_names, c->slot_cnt, name);
}

int red_fsm_state(const red_fsm_t *fsm, const char *name, size_t len)
{
        for (size_t i = 0; i < fsm->state_cnt; i++) {
                if (!strncmp(fsm->states[i], name, len) &&
                    !fsm->states[i][len]) {
                        return (int)i;
                }
        }
        return -1;
}

int red_fsm_event(const red_fsm_t *fsm, const char *name, size_t len)
{
        for (size_t i = 0; i < fsm->event_cnt; i++) {
                if (!strncmp(fsm->events[i], name, len) &&
                    !fsm->events[i][len]) {
                        return (int)i;
                }
        }
        return -1;
}

/* ------------------------------------------------------------------ */
/* contract sets                                                       */
/* ------------------------------------------------------------------ */

/* The tables @p c writes (at most @p max). */
static size_t contract_tables(const red_contract_t *c, const char **out,
                              size_t max)
{
        size_t n = 0;

        for (size_t a = 0; a < c->agg_cnt && n < max; a++) {
                out[n++] = c->aggs[a].table;
        }
        for (size_t r = 0; r < c->raw_cnt; r++) {
                for (size_t t = 0; t < c->raws[r].table_cnt && n < max; t++) {
                        out[n++] = c->raws[r].tables[t];
                }
        }
        if (c->fsm && n + 2 <= max) {
                out[n++] = c->fsm->history_table;
                out[n++] = c->fsm->current_table;
        }
        if (c->alerts && c->alerts->table && n < max) {
                out[n++] = c->alerts->table;
        }
        return n;
}

static int set_check(const red_contract_set_t *set, const red_contract_t *c,
                     char *errstr, size_t size)
{
        for (size_t i = 0; i < set->cnt; i++) {
                const red_contract_t *o = set->items[i];
                const char *mine[64], *theirs[64];
                size_t n, m;

                if (!strcmp(o->name, c->name) ||
                    !strcmp(o->consumer_group, c->consumer_group)) {
                        snprintf(errstr, size,
                                 "%s: contract %s (group %s) clashes with %s "
                                 "(contract %s, group %s): names and consumer "
                                 "groups must be distinct",
                                 c->path, c->name, c->consumer_group, o->path,
                                 o->name, o->consumer_group);
                        return -EINVAL;
                }
                n = contract_tables(c, mine, 64);
                m = contract_tables(o, theirs, 64);
                for (size_t a = 0; a < n; a++) {
                        for (size_t b = 0; b < m; b++) {
                                if (!strcmp(mine[a], theirs[b])) {
                                        snprintf(errstr, size,
                                                 "%s: table %s is already "
                                                 "written by %s",
                                                 c->path, mine[a], o->path);
                                        return -EINVAL;
                                }
                        }
                }
        }
        return 0;
}

int red_contract_set_add(red_contract_set_t *set, const char *path,
                         char *errstr, size_t errstr_size)
{
        red_contract_t *c = red_contract_load(path, errstr, errstr_size);
        red_contract_t **items;

        if (!c) {
                return -EINVAL;
        }
        if (set_check(set, c, errstr, errstr_size)) {
                red_contract_destroy(c);
                return -EINVAL;
        }
        items = realloc(set->items, (set->cnt + 1) * sizeof(*items));
        if (!items) {
                red_contract_destroy(c);
                snprintf(errstr, errstr_size, "out of memory");
                return -ENOMEM;
        }
        set->items = items;
        set->items[set->cnt++] = c;
        return 0;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds the *.yaml files of directory @p dir, in name order, so that
 * the set (and which of two clashing contracts is reported) does not
 * depend on the order readdir() returns. */
static int set_add_dir(red_contract_set_t *set, const char *dir, char *errstr,
                       size_t errstr_size)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char **files = NULL;
        size_t cnt = 0;
        int r = 0;

        while (d && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char **nf;
                if (len < 6 || de->d_name[0] == '.' ||
                    strcmp(de->d_name + len - 5, ".yaml")) {
                        continue;
                }
                nf = realloc(files, (cnt + 1) * sizeof(*nf));
                if (!nf) {
                        r = -ENOMEM;
                        break;
                }
                files = nf;
                if (asprintf(&files[cnt], "%s/%s", dir, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                cnt++;
        }
        if (d) {
                closedir(d);
        }
        if (cnt) {
                qsort(files, cnt, sizeof(*files), cmp_str);
        }
        for (size_t f = 0; f < cnt && !r; f++) {
                r = red_contract_set_add(set, files[f], errstr, errstr_size);
        }
        for (size_t f = 0; f < cnt; f++) {
                free(files[f]);
        }
        free(files);
        return r;
}

/* @p rel against @p base_dir, as the config resolves its paths. */
static char *resolve(const char *base_dir, const char *rel)
{
        char *out;

        if (rel[0] == '/' || !base_dir || !strcmp(base_dir, ".")) {
                return strdup(rel);
        }
        if (asprintf(&out, "%s/%s", base_dir, rel) < 0) {
                return NULL;
        }
        return out;
}

int red_contract_set_load(red_contract_set_t *set, char *const *paths,
                          size_t path_cnt, const char *base_dir, char *errstr,
                          size_t errstr_size)
{
        int r = 0;

        memset(set, 0, sizeof(*set));
        for (size_t i = 0; i < path_cnt && !r; i++) {
                char *path = resolve(base_dir, paths[i]);
                struct stat st;

                if (!path) {
                        r = -ENOMEM;
                        break;
                }
                if (stat(path, &st)) {
                        snprintf(errstr, errstr_size, "contracts.paths: %s: %s",
                                 path, strerror(errno));
                        r = -EINVAL;
                } else if (S_ISDIR(st.st_mode)) {
                        r = set_add_dir(set, path, errstr, errstr_size);
                } else {
                        r = red_contract_set_add(set, path, errstr,
                                                 errstr_size);
                }
                free(path);
        }
        if (!r && !set->cnt) {
                snprintf(errstr, errstr_size,
                         "contracts.paths: no contract found");
                r = -EINVAL;
        }
        if (r == -ENOMEM) {
                snprintf(errstr, errstr_size, "out of memory");
        }
        if (r) {
                red_contract_set_destroy(set);
        }
        return r;
}

void red_contract_set_destroy(red_contract_set_t *set)
{
        for (size_t i = 0; i < set->cnt; i++) {
                red_contract_destroy(set->items[i]);
        }
        free(set->items);
        memset(set, 0, sizeof(*set));
}
