/* red_contract_events - a contract's events, inputs, workflows and event
 * weight. */
#include "red_contract_load.h"

#include "red_buf.h"
#include "red_time.h"

#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * events: comes first, because every other section refers to its kinds
 * (by name, resolved to bit positions in kind masks) and to its fields
 * (by name, resolved to slots: one per distinct field name of the
 * contract, the index of its value in a decoded event).
 */

/* --- fields -------------------------------------------------------------- */

static int field_type_of(red_loader_t *ld, const red_yaml_node_t *n,
                         const char *what, red_field_type_t *out)
{
        const char *s;

        if (red_yaml_to_str(n, what, &s, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        for (int t = RED_FT_STRING; t <= RED_FT_ARRAY; t++) {
                if (!strcmp(s, red_contract_field_type_name(
                                       (red_field_type_t)t))) {
                        *out = (red_field_type_t)t;
                        return 0;
                }
        }
        return red_yaml_error(ld->errstr, ld->size, n,
                              "%s: unknown type \"%s\" (allowed: string, "
                              "integer, number, boolean, uuid, timestamp, "
                              "object, array)",
                              what, s);
}

/* The slot of field @p name, added at its first sight. A name has one type
 * across kinds, so that a slot has one type wherever it is read. */
static int slot_add(red_loader_t *ld, const red_yaml_node_t *at,
                    const char *name, red_field_type_t type, int *slot)
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
                                name, red_contract_field_type_name(type),
                                red_contract_field_type_name(c->slot_types[s]));
                }
                *slot = s;
                return 0;
        }
        /* slot_cnt counts the names only once both arrays have room */
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

/* min, max (integer and number fields), min_length, max_length (string
 * fields). */
static int field_bounds(red_loader_t *ld, const red_yaml_node_t *n,
                        const char *what, red_field_t *f)
{
        const red_yaml_node_t *v;
        int r;

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
                                          "%s: min_length must be >= 0", what);
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
        return 0;
}

/* One item of from: a name, or {field: name, scale: factor}. */
static int field_source(red_loader_t *ld, const red_yaml_node_t *it,
                        const char *what, red_field_type_t type,
                        red_field_src_t *src)
{
        static const char *const keys[] = {"field", "scale", NULL};
        const red_yaml_node_t *v;
        int r;

        src->scale = 1.0;
        if (red_yaml_kind(it) == RED_YAML_SCALAR) {
                return red_contract_load_str(ld, it, what, &src->name);
        }
        if ((r = red_yaml_check_keys(it, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, it, what, "field", "", &r)) ||
            (r = red_contract_load_str(ld, v, what, &src->name)) ||
            !(v = red_yaml_get(it, "scale"))) {
                return r;
        }
        if ((r = red_yaml_to_double(v, what, &src->scale, ld->errstr,
                                    ld->size))) {
                return r;
        }
        if (type != RED_FT_NUMBER && type != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: scale applies to number fields",
                                      what);
        }
        return 0;
}

/* from: the input names a field is read from (unit normalisation), or by
 * default the field's own name. */
static int field_sources(red_loader_t *ld, const red_yaml_node_t *n,
                         const char *what, red_field_t *f)
{
        const red_yaml_node_t *v = red_yaml_get(n, "from");
        size_t cnt;
        int r;

        if (!v) {
                f->from = calloc(1, sizeof(*f->from));
                if (!f->from || !(f->from[0].name = strdup(f->name))) {
                        return -ENOMEM;
                }
                f->from[0].scale = 1.0;
                f->from_cnt = 1;
                return 0;
        }
        if (red_yaml_expect(v, RED_YAML_SEQ, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        cnt = red_yaml_size(v);
        if (!cnt) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: from needs at least one name", what);
        }
        f->from = calloc(cnt, sizeof(*f->from));
        if (!f->from) {
                return -ENOMEM;
        }
        f->from_cnt = cnt;
        for (size_t i = 0; i < cnt; i++) {
                if ((r = field_source(ld, red_yaml_item(v, i), what, f->type,
                                      &f->from[i]))) {
                        return r;
                }
        }
        return 0;
}

/*
 * pattern: a POSIX extended regular expression a string must match. The
 * reference writes its version rule as ^\d+\.\d+\.\d+$, so \d (outside
 * brackets) reads as [0-9]; everything else is POSIX ERE.
 */
static int field_pattern(red_loader_t *ld, const red_yaml_node_t *v,
                         const char *what, red_field_t *f)
{
        red_buf_t b;
        regex_t *re;
        int rc;

        if (f->type != RED_FT_STRING) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: pattern applies to string fields",
                                      what);
        }
        if ((rc = red_contract_load_str(ld, v, what, &f->pattern))) {
                return rc;
        }
        red_buf_init(&b);
        for (const char *p = f->pattern; *p; p++) {
                if (p[0] == '\\' && p[1] == 'd') {
                        red_buf_puts(&b, "[0-9]");
                        p++;
                } else if (p[0] == '\\' && p[1]) {
                        red_buf_append(&b, p, 2);
                        p++;
                } else {
                        red_buf_putc(&b, *p);
                }
        }
        if (b.failed || !(re = calloc(1, sizeof(*re)))) {
                red_buf_destroy(&b);
                return -ENOMEM;
        }
        rc = regcomp(re, b.data ? b.data : "", REG_EXTENDED | REG_NOSUB);
        red_buf_destroy(&b);
        if (rc) {
                free(re);
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: pattern \"%s\" is not a valid "
                                      "POSIX extended regular expression",
                                      what, f->pattern);
        }
        f->regex = re;
        return 0;
}

/* items (an array's item type) and item_required (members every object
 * item holds as a non-empty string). */
static int field_items(red_loader_t *ld, const red_yaml_node_t *n,
                       const char *what, red_field_t *f)
{
        const red_yaml_node_t *v;
        int r;

        if ((v = red_yaml_get(n, "items"))) {
                if (f->type != RED_FT_ARRAY) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: items applies to array "
                                              "fields",
                                              what);
                }
                if ((r = field_type_of(ld, v, what, &f->values))) {
                        return r;
                }
        }
        if (!(v = red_yaml_get(n, "item_required"))) {
                return 0;
        }
        if (f->type != RED_FT_ARRAY || f->values != RED_FT_OBJECT) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "%s: item_required applies to arrays "
                                      "of objects (items: object)",
                                      what);
        }
        return red_contract_load_strlist(ld, v, what, &f->item_required,
                                         &f->item_required_cnt);
}

static int field_of(red_loader_t *ld, const char *kind,
                    const red_yaml_node_t *key, const red_yaml_node_t *n,
                    red_field_t *f)
{
        static const char *const keys[] = {
                "type",          "required",   "default",        "min",
                "max",           "min_length", "max_length",     "enum",
                "values",        "from",       "description",    "items",
                "item_required", "pattern",    "missing_detail", NULL};
        const red_yaml_node_t *v;
        char what[256];
        int r;

        f->min_length = f->max_length = -1;
        if ((r = red_contract_load_ident(ld, key, "field name", 63,
                                         &f->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "field %s of event %s", f->name, kind);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(
                      ld, n, what, "type",
                      " (allowed: string, integer, number, "
                      "boolean, uuid, timestamp, object, "
                      "array)",
                      &r)) ||
            (r = field_type_of(ld, v, what, &f->type)) ||
            (r = slot_add(ld, key, f->name, f->type, &f->slot))) {
                return r;
        }
        if ((v = red_yaml_get(n, "required")) &&
            (r = red_yaml_to_bool(v, what, &f->required, ld->errstr,
                                  ld->size))) {
                return r;
        }
        if ((r = field_bounds(ld, n, what, f))) {
                return r;
        }
        if ((v = red_yaml_get(n, "enum"))) {
                if (f->type != RED_FT_STRING) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: enum applies to string "
                                              "fields",
                                              what);
                }
                if ((r = red_contract_load_strlist(ld, v, what, &f->enum_values,
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
        if ((r = field_items(ld, n, what, f)) ||
            ((v = red_yaml_get(n, "pattern")) &&
             (r = field_pattern(ld, v, what, f)))) {
                return r;
        }
        if ((v = red_yaml_get(n, "missing_detail")) &&
            (r = red_contract_load_str(ld, v, what, &f->missing_detail))) {
                return r;
        }
        if ((v = red_yaml_get(n, "default"))) {
                f->has_default = true;
                if ((r = red_contract_load_const(ld, v, what, f->type,
                                                 &f->def))) {
                        return r;
                }
                if (f->def.s && f->enum_cnt &&
                    red_contract_load_index(f->enum_values, f->enum_cnt,
                                            f->def.s) < 0) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: the default is not one of "
                                              "the enum values",
                                              what);
                }
        }
        return field_sources(ld, n, what, f);
}

static void fields_free(red_field_t *f, size_t cnt)
{
        for (size_t i = 0; f && i < cnt; i++) {
                free(f[i].name);
                red_contract_load_strlist_free(f[i].enum_values, f[i].enum_cnt);
                red_contract_load_const_free(&f[i].def);
                for (size_t s = 0; f[i].from && s < f[i].from_cnt; s++) {
                        free(f[i].from[s].name);
                }
                free(f[i].from);
                red_contract_load_strlist_free(f[i].item_required,
                                               f[i].item_required_cnt);
                free(f[i].pattern);
                free(f[i].missing_detail);
                if (f[i].regex) {
                        regfree(f[i].regex);
                        free(f[i].regex);
                }
        }
        free(f);
}

/* --- events -------------------------------------------------------------- */

/* A kind's event_type spellings; each belongs to one kind only, since the
 * type is what picks the kind of an incoming event. */
static int kind_types(red_loader_t *ld, const red_yaml_node_t *v,
                      const char *what, red_kind_t *k)
{
        const red_contract_t *c = ld->c;
        int r;

        if ((r = red_contract_load_strlist(ld, v, what, &k->types,
                                           &k->type_cnt))) {
                return r;
        }
        for (size_t t = 0; t < k->type_cnt; t++) {
                for (const red_kind_t *o = c->kinds; o < k; o++) {
                        if (red_contract_load_index(o->types, o->type_cnt,
                                                    k->types[t]) >= 0) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, v,
                                        "%s: type %s is already used by "
                                        "event %s",
                                        what, k->types[t], o->name);
                        }
                }
        }
        return 0;
}

static int kind_of(red_loader_t *ld, const red_yaml_node_t *key,
                   const red_yaml_node_t *body, red_kind_t *k)
{
        static const char *const keys[] = {"types", "fields", "description",
                                           NULL};
        const red_yaml_node_t *v;
        char what[128];
        int r;

        if ((r = red_contract_load_ident(ld, key, "event kind", 63,
                                         &k->name))) {
                return r;
        }
        snprintf(what, sizeof(what), "event %s", k->name);
        if ((r = red_yaml_check_keys(body, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, body, what, "types", "",
                                             &r)) ||
            (r = kind_types(ld, v, what, k))) {
                return r;
        }
        if (!(v = red_yaml_get(body, "fields"))) {
                return 0;
        }
        if (red_yaml_expect(v, RED_YAML_MAP, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        k->fields = calloc(red_yaml_size(v) + 1, sizeof(*k->fields));
        if (!k->fields) {
                return -ENOMEM;
        }
        for (size_t j = 0; j < red_yaml_size(v); j++) {
                k->field_cnt++;
                if ((r = field_of(ld, k->name, red_yaml_key(v, j),
                                  red_yaml_value(v, j), &k->fields[j]))) {
                        return r;
                }
        }
        return 0;
}

int red_contract_load_events(red_loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;
        int r;

        if (red_yaml_expect(n, RED_YAML_MAP, "events", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        /* kinds are bits of a uint64_t mask */
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
                red_kind_t *k = &c->kinds[c->kind_cnt];

                k->index = (int)c->kind_cnt;
                c->kind_cnt++;
                if ((r = kind_of(ld, red_yaml_key(n, i), red_yaml_value(n, i),
                                 k))) {
                        return r;
                }
        }
        return 0;
}

void red_contract_load_free_kinds(red_kind_t *k, size_t cnt)
{
        for (size_t i = 0; k && i < cnt; i++) {
                free(k[i].name);
                red_contract_load_strlist_free(k[i].types, k[i].type_cnt);
                fields_free(k[i].fields, k[i].field_cnt);
        }
        free(k);
}

/* --- inputs -------------------------------------------------------------- */

/* {topic, events}: a topic and the kinds of event it carries. */
static int input_of(red_loader_t *ld, const red_yaml_node_t *it,
                    red_input_t *in)
{
        static const char *const keys[] = {"topic", "events", NULL};
        const red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int r;

        in->default_kind = -1;
        if ((r = red_yaml_check_keys(it, "input", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, it, "input", "topic", "",
                                             &r)) ||
            (r = red_contract_load_topic(ld, v, "input", &in->topic))) {
                return r;
        }
        for (const red_input_t *o = c->inputs; o < in; o++) {
                if (!strcmp(o->topic, in->topic)) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "input: topic %s is listed "
                                              "twice",
                                              in->topic);
                }
        }
        if (!(v = red_yaml_get(it, "events"))) {
                return red_yaml_error(ld->errstr, ld->size, it,
                                      "input %s: \"events\" is required",
                                      in->topic);
        }
        if ((r = red_contract_load_kinds(ld, v, "input", &in->kinds))) {
                return r;
        }
        /* events of a one-kind topic need not name their type */
        if (__builtin_popcountll(in->kinds) == 1) {
                in->default_kind = __builtin_ctzll(in->kinds);
        }
        return 0;
}

int red_contract_load_inputs(red_loader_t *ld, const red_yaml_node_t *n)
{
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
                if ((r = input_of(ld, red_yaml_item(n, i),
                                  &c->inputs[c->input_cnt++]))) {
                        return r;
                }
        }
        return 0;
}

void red_contract_load_free_inputs(red_input_t *in, size_t cnt)
{
        for (size_t i = 0; in && i < cnt; i++) {
                free(in[i].topic);
        }
        free(in);
}

/* --- workflows ----------------------------------------------------------- */

/* A number or integer field for workflows.totals, by name. */
static int total_slot(red_loader_t *ld, const red_yaml_node_t *n, int *slot)
{
        red_field_type_t t;
        int r;

        if ((r = red_contract_load_slot(ld, n, "workflows.totals", slot))) {
                return r;
        }
        t = ld->c->slot_types[*slot];
        if (t != RED_FT_NUMBER && t != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "workflows.totals: field %s is a %s; "
                                      "totals need numbers",
                                      ld->c->slot_names[*slot],
                                      red_contract_field_type_name(t));
        }
        return 0;
}

/*
 * totals: {target: source, ...}: per workflow the sum of source over its
 * events, filled into an event lacking target (a Completed without
 * total_tokens takes its stages' tokens_consumed).
 */
static int totals_of(red_loader_t *ld, const red_yaml_node_t *v)
{
        red_contract_t *c = ld->c;
        size_t cnt;
        int r;

        if (red_yaml_expect(v, RED_YAML_MAP, "workflows.totals", ld->errstr,
                            ld->size)) {
                return -EINVAL;
        }
        if ((cnt = red_yaml_size(v)) > RED_CONTRACT_MAX_TOTALS) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "workflows.totals: at most %d totals "
                                      "(got %zu)",
                                      RED_CONTRACT_MAX_TOTALS, cnt);
        }
        c->total_targets = calloc(cnt + 1, sizeof(int));
        c->total_sources = calloc(cnt + 1, sizeof(int));
        if (!c->total_targets || !c->total_sources) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < cnt; i++) {
                int *tg = &c->total_targets[i], *src = &c->total_sources[i];
                if ((r = total_slot(ld, red_yaml_key(v, i), tg)) ||
                    (r = total_slot(ld, red_yaml_value(v, i), src))) {
                        return r;
                }
                if (*tg == *src) {
                        return red_yaml_error(ld->errstr, ld->size,
                                              red_yaml_value(v, i),
                                              "workflows.totals: %s cannot "
                                              "total itself",
                                              c->slot_names[*tg]);
                }
                c->total_cnt++;
        }
        return 0;
}

/* The key that identifies a workflow and the string fields the engine
 * remembers from its first event (e.g. node_type, for events that lack
 * it), and the totals summed per workflow. */
int red_contract_load_workflows(red_loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"key", "remember", "totals", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        int r;

        if ((r = red_yaml_check_keys(n, "workflows", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, "workflows", "key", "",
                                             &r)) ||
            (r = red_contract_load_slot(ld, v, "workflows.key",
                                        &c->workflow_key_slot))) {
                return r;
        }
        if (c->slot_types[c->workflow_key_slot] != RED_FT_UUID) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "workflows.key: field %s must be a "
                                      "uuid",
                                      c->slot_names[c->workflow_key_slot]);
        }
        if ((v = red_yaml_get(n, "totals")) && (r = totals_of(ld, v))) {
                return r;
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
                if ((r = red_contract_load_slot(ld, red_yaml_item(v, i),
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

/* --- weight -------------------------------------------------------------- */

/*
 * weight: the field an event's weight comes from: a name (the weight
 * itself) or {from: field, as: value | inverse}, inverse for a sample
 * rate. The field is a number or an integer; kinds without it weigh 1.
 */
int red_contract_load_weight(red_loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"from", "as", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v = n, *as;
        const char *s;
        red_field_type_t t;
        int r;

        if (!(c->weight = calloc(1, sizeof(*c->weight)))) {
                return -ENOMEM;
        }
        if (red_yaml_kind(n) == RED_YAML_MAP) {
                if ((r = red_yaml_check_keys(n, "weight", keys, ld->errstr,
                                             ld->size)) ||
                    !(v = red_contract_load_required(ld, n, "weight", "from",
                                                     "", &r))) {
                        return r;
                }
                if ((as = red_yaml_get(n, "as"))) {
                        if ((r = red_yaml_to_str(as, "weight.as", &s,
                                                 ld->errstr, ld->size))) {
                                return r;
                        }
                        if (strcmp(s, "value") && strcmp(s, "inverse")) {
                                return red_yaml_error(
                                        ld->errstr, ld->size, as,
                                        "weight.as: \"%s\" is not valid "
                                        "(allowed: value, inverse)",
                                        s);
                        }
                        c->weight->inverse = !strcmp(s, "inverse");
                }
        }
        if ((r = red_contract_load_slot(ld, v, "weight", &c->weight->slot))) {
                return r;
        }
        t = c->slot_types[c->weight->slot];
        if (t != RED_FT_NUMBER && t != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size, v,
                                      "weight: field %s is a %s; a weight "
                                      "needs a number",
                                      c->slot_names[c->weight->slot],
                                      red_contract_field_type_name(t));
        }
        return 0;
}

/* --- dedupe -------------------------------------------------------------- */

/*
 * dedupe: {key, horizon}: an event whose key was seen within the horizon
 * is a duplicate. The key is a field, a string, integer or uuid one (an
 * identity); events whose kind lacks it, or that lack a value, are not
 * deduplicated.
 */
int red_contract_load_dedupe(red_loader_t *ld, const red_yaml_node_t *n)
{
        static const char *const keys[] = {"key", "horizon", NULL};
        red_contract_t *c = ld->c;
        const red_yaml_node_t *v;
        red_field_type_t t;
        int r;

        if ((r = red_yaml_check_keys(n, "dedupe", keys, ld->errstr,
                                     ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(ld, n, "dedupe", "key",
                                             " (a field)", &r)) ||
            (r = red_contract_load_slot(ld, v, "dedupe.key",
                                        &c->dedupe_slot))) {
                return r;
        }
        t = c->slot_types[c->dedupe_slot];
        if (t != RED_FT_STRING && t != RED_FT_INTEGER && t != RED_FT_UUID) {
                r = red_yaml_error(ld->errstr, ld->size, v,
                                   "dedupe.key: field %s is a %s (allowed: "
                                   "a string, integer or uuid field)",
                                   c->slot_names[c->dedupe_slot],
                                   red_contract_field_type_name(t));
                c->dedupe_slot = -1;
                return r;
        }
        c->dedupe_horizon_us = 7 * RED_TIME_US_PER_DAY;
        if ((v = red_yaml_get(n, "horizon")) &&
            ((r = red_contract_load_duration(ld, v, "dedupe.horizon",
                                             &c->dedupe_horizon_us)) ||
             c->dedupe_horizon_us < RED_TIME_US_PER_SEC ||
             c->dedupe_horizon_us > 3650 * RED_TIME_US_PER_DAY)) {
                return r ? r
                         : red_yaml_error(ld->errstr, ld->size, v,
                                          "dedupe.horizon: out of range "
                                          "(allowed: 1s..3650d)");
        }
        return 0;
}
