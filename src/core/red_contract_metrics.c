/* red_contract_metrics - a contract's domain Prometheus series (metrics:). */
#include "red_contract_load.h"

#include "red_fsm.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * metrics: maps a Prometheus series name to what it counts: applied events
 * of some kinds (a counter of events or of a number field, or a histogram
 * of a number field), the FSM's history rows (a counter), or the workflows
 * per current state (a gauge). Labels come only from sets fixed here: a
 * dimension that is a constant, buckets, or a field with an enum (or a
 * boolean) in every event that declares it; FSM states; transition
 * results. So the number of series is known at load time and every one of
 * them is exported from the start (rate() needs the zero).
 */

/* Most series of one metric (label combinations) and buckets of a
 * histogram: a contract cannot blow up a scrape by accident. */
#define MAX_SERIES  1000
#define MAX_BUCKETS 30

/* in the order of red_metric_type_t / red_metric_source_t */
static const char *const type_names[] = {"counter", "histogram", "gauge", NULL};
static const char *const source_names[] = {"events", "transitions", "workflows",
                                           NULL};

/* --- names ---------------------------------------------------------------- */

/* Prometheus' metric name rule, at most 100 characters. */
static bool is_metric_name(const char *s)
{
        size_t len = strlen(s);

        if (!len || len > 100 || isdigit((unsigned char)s[0])) {
                return false;
        }
        for (size_t i = 0; i < len; i++) {
                if (!(isalnum((unsigned char)s[i]) || s[i] == '_' ||
                      s[i] == ':')) {
                        return false;
                }
        }
        return true;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && !strcmp(s + a - b, suffix);
}

/* The series name: valid, not reducerd's own, and by the conventions of
 * its type (counters end in _total; a histogram's name must not look like
 * one of its own _bucket/_sum/_count series). */
static int name_of(red_loader_t *ld, const red_yaml_node_t *key,
                   red_metric_t *m)
{
        int r;

        if ((r = red_contract_load_str(ld, key, "metrics", &m->name))) {
                return r;
        }
        if (!is_metric_name(m->name)) {
                return red_yaml_error(ld->errstr, ld->size, key,
                                      "metrics: \"%s\" is not a Prometheus "
                                      "metric name (allowed: letters, digits, "
                                      "_ and :, not starting with a digit, at "
                                      "most 100 characters)",
                                      m->name);
        }
        if (!strncmp(m->name, "reducerd_", 9)) {
                return red_yaml_error(ld->errstr, ld->size, key,
                                      "metrics: %s: the prefix reducerd_ is "
                                      "reserved for reducerd's own series "
                                      "(deploy/METRICS.md)",
                                      m->name);
        }
        return 0;
}

static int type_check_name(red_loader_t *ld, const red_yaml_node_t *key,
                           const red_metric_t *m)
{
        if (m->type == RED_METRIC_COUNTER && !ends_with(m->name, "_total")) {
                return red_yaml_error(ld->errstr, ld->size, key,
                                      "metrics: counter %s: a counter's name "
                                      "ends in _total",
                                      m->name);
        }
        if (m->type != RED_METRIC_COUNTER && ends_with(m->name, "_total")) {
                return red_yaml_error(ld->errstr, ld->size, key,
                                      "metrics: %s %s: only counters end in "
                                      "_total",
                                      type_names[m->type], m->name);
        }
        if (m->type == RED_METRIC_HISTOGRAM &&
            (ends_with(m->name, "_bucket") || ends_with(m->name, "_sum") ||
             ends_with(m->name, "_count"))) {
                return red_yaml_error(ld->errstr, ld->size, key,
                                      "metrics: histogram %s: _bucket, _sum "
                                      "and _count are a histogram's own "
                                      "series",
                                      m->name);
        }
        return 0;
}

/* One of @p names (NULL-terminated) into *out. */
static int enum_of(red_loader_t *ld, const red_yaml_node_t *n, const char *what,
                   const char *const *names, int *out)
{
        const char *s;
        char buf[128];
        size_t cnt = 0;

        if (red_yaml_to_str(n, what, &s, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        for (; names[cnt]; cnt++) {
                if (!strcmp(s, names[cnt])) {
                        *out = (int)cnt;
                        return 0;
                }
        }
        return red_yaml_error(
                ld->errstr, ld->size, n,
                "%s: \"%s\" is not valid (allowed: %s)", what, s,
                red_contract_load_join((char **)names, cnt, buf, sizeof(buf)));
}

/* --- label values ------------------------------------------------------- */

/* Appends @p v to the label's values unless it is there already. */
static int add_value(red_metric_label_t *l, const char *v)
{
        char **nv;

        if (red_contract_load_index(l->values, l->value_cnt, v) >= 0) {
                return 0;
        }
        if (!(nv = realloc(l->values, (l->value_cnt + 1) * sizeof(*nv)))) {
                return -ENOMEM;
        }
        l->values = nv;
        if (!(l->values[l->value_cnt] = strdup(v))) {
                return -ENOMEM;
        }
        l->value_cnt++;
        return 0;
}

/*
 * Whether the FSM engine fills @p slot into every event of kind @p k: a
 * workflows.totals target (the workflow's sum, else 0) of a contract with
 * an fsm, in a kind whose workflow key is required.
 */
static bool filled_by_totals(const red_contract_t *c, const red_kind_t *k,
                             int slot)
{
        bool target = false, keyed = false;

        for (size_t i = 0; c->fsm && i < c->total_cnt; i++) {
                target |= c->total_targets[i] == slot;
        }
        for (size_t f = 0; target && f < k->field_cnt; f++) {
                keyed |= k->fields[f].slot == c->fsm->key_slot &&
                         k->fields[f].required;
        }
        return target && keyed;
}

/* The first kind of @p on whose events may lack field @p slot, or NULL. */
static const red_kind_t *kind_lacking(const red_contract_t *c, uint64_t on,
                                      int slot)
{
        for (size_t k = 0; k < c->kind_cnt; k++) {
                bool has = false;

                if (!(on >> c->kinds[k].index & 1)) {
                        continue;
                }
                for (size_t f = 0; f < c->kinds[k].field_cnt; f++) {
                        const red_field_t *fd = &c->kinds[k].fields[f];
                        has |= fd->slot == slot &&
                               (fd->required || fd->has_default ||
                                filled_by_totals(c, &c->kinds[k], slot));
                }
                if (!has) {
                        return &c->kinds[k];
                }
        }
        return NULL;
}

/*
 * The values dimension @p d can take, or 0 with *why saying why they are
 * not a bounded set. A field's values: its enum in every event declaring
 * it (or true/false), and the dimension's default.
 */
static int dim_values(const red_contract_t *c, const red_dim_t *d,
                      red_metric_label_t *l, char *why, size_t size)
{
        int r = 0;

        *why = '\0';
        switch (d->kind) {
        case RED_DIM_CONSTANT:
                return add_value(l, d->constant);
        case RED_DIM_BUCKETS:
                for (size_t i = 0; i < d->bucket_cnt && !r; i++) {
                        r = add_value(l, d->buckets[i].key);
                }
                return r;
        case RED_DIM_FIELD:
                break;
        }
        if (c->slot_types[d->slot] == RED_FT_BOOLEAN) {
                r = add_value(l, "false");
                r = r ? r : add_value(l, "true");
        } else {
                for (size_t k = 0; k < c->kind_cnt && !r && !*why; k++) {
                        for (size_t f = 0; f < c->kinds[k].field_cnt; f++) {
                                const red_field_t *fd = &c->kinds[k].fields[f];
                                if (fd->slot != d->slot) {
                                        continue;
                                }
                                if (!fd->enum_cnt) {
                                        snprintf(why, size,
                                                 "field %s of event %s has no "
                                                 "enum",
                                                 fd->name, c->kinds[k].name);
                                        break;
                                }
                                for (size_t e = 0; e < fd->enum_cnt && !r;
                                     e++) {
                                        r = add_value(l, fd->enum_values[e]);
                                }
                        }
                }
        }
        if (!r && !*why && d->def) {
                r = add_value(l, d->def);
        }
        return r;
}

/* The names of the dimensions a label may name, for messages. */
static const char *bounded_dims(const red_contract_t *c, char *buf, size_t size)
{
        size_t pos = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < c->dim_cnt && pos < size; i++) {
                red_metric_label_t tmp = {0};
                char why[256];

                if (!dim_values(c, &c->dims[i], &tmp, why, sizeof(why)) &&
                    !*why) {
                        pos += (size_t)snprintf(buf + pos, size - pos, "%s%s",
                                                pos ? ", " : "",
                                                c->dims[i].name);
                }
                red_contract_load_strlist_free(tmp.values, tmp.value_cnt);
        }
        return buf;
}

/* A label of an events metric: a bounded dimension that every event
 * counted has a value for. */
static int dim_label(red_loader_t *ld, const red_yaml_node_t *at,
                     const char *what, const red_metric_t *m,
                     red_metric_label_t *l)
{
        const red_contract_t *c = ld->c;
        const red_kind_t *k;
        const red_dim_t *d;
        char why[256], buf[1024];
        int r;

        for (l->dim = 0; (size_t)l->dim < c->dim_cnt; l->dim++) {
                if (!strcmp(c->dims[l->dim].name, l->name)) {
                        break;
                }
        }
        if ((size_t)l->dim == c->dim_cnt) {
                return red_yaml_error(ld->errstr, ld->size, at,
                                      "%s: unknown label \"%s\": labels are "
                                      "dimensions (allowed: %s)",
                                      what, l->name,
                                      bounded_dims(c, buf, sizeof(buf)));
        }
        d = &c->dims[l->dim];
        if ((r = dim_values(c, d, l, why, sizeof(why)))) {
                return r;
        }
        if (*why) {
                return red_yaml_error(ld->errstr, ld->size, at,
                                      "%s: label %s: the values of dimension "
                                      "%s are not a bounded set (%s) (allowed: "
                                      "%s)",
                                      what, l->name, d->name, why,
                                      bounded_dims(c, buf, sizeof(buf)));
        }
        if (d->kind != RED_DIM_CONSTANT && !d->def &&
            (k = kind_lacking(c, m->on, d->slot))) {
                return red_yaml_error(ld->errstr, ld->size, at,
                                      "%s: label %s: event %s may lack field "
                                      "%s and dimension %s has no default; "
                                      "give the dimension a default",
                                      what, l->name, k->name,
                                      c->slot_names[d->slot], d->name);
        }
        return 0;
}

/* A label of the FSM's rows or workflows: states or results. */
static int fsm_label(red_loader_t *ld, const red_yaml_node_t *at,
                     const char *what, const red_metric_t *m,
                     red_metric_label_t *l)
{
        static const char *const row_labels[] = {"from_state", "to_state",
                                                 "result", NULL};
        static const char *const wf_labels[] = {"state", NULL};
        const red_fsm_t *fsm = ld->c->fsm;
        bool rows = m->source == RED_MSRC_TRANSITIONS;
        const char *const *names = rows ? row_labels : wf_labels;
        int i, r = 0;

        for (i = 0; names[i] && strcmp(names[i], l->name); i++) {
        }
        if (!names[i]) {
                return red_yaml_error(
                        ld->errstr, ld->size, at,
                        "%s: unknown label \"%s\" (allowed: %s)", what, l->name,
                        rows ? "from_state, to_state, result" : "state");
        }
        l->dim = -1;
        l->kind = rows ? (red_mlabel_kind_t)(RED_MLABEL_FROM_STATE + i)
                       : RED_MLABEL_STATE;
        if (l->kind == RED_MLABEL_RESULT) {
                for (int k = 0; k < RED_FSM__CNT && !r; k++) {
                        r = add_value(l,
                                      red_fsm_result_name((red_fsm_result_t)k));
                }
                return r;
        }
        for (size_t s = 0; s < fsm->state_cnt && !r; s++) {
                if (rows || (m->states >> s & 1)) {
                        r = add_value(l, fsm->states[s]);
                }
        }
        /* a row of an unknown workflow has no from state, one refused
         * for an unknown target no to state */
        return r || !rows ? r : add_value(l, RED_METRIC_NO_STATE);
}

static int labels_of(red_loader_t *ld, const red_yaml_node_t *n,
                     const char *what, red_metric_t *m)
{
        char **names = NULL;
        size_t cnt = 0;
        int r = red_contract_load_strlist(ld, n, what, &names, &cnt);

        if (r) {
                return r;
        }
        if (cnt > RED_METRIC_MAX_LABELS) {
                red_contract_load_strlist_free(names, cnt);
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: %zu labels (at most %d)", what, cnt,
                                      RED_METRIC_MAX_LABELS);
        }
        if (!(m->labels = calloc(cnt ? cnt : 1, sizeof(*m->labels)))) {
                red_contract_load_strlist_free(names, cnt);
                return -ENOMEM;
        }
        for (size_t i = 0; i < cnt && !r; i++) {
                const red_yaml_node_t *at = red_yaml_kind(n) == RED_YAML_SEQ
                                                    ? red_yaml_item(n, i)
                                                    : n;
                red_metric_label_t *l = &m->labels[m->label_cnt++];

                /* the label owns the name from here on; names[0..i] still
                 * point at the earlier ones for the duplicate check */
                l->name = names[i];
                if (red_contract_load_index(names, i, l->name) >= 0) {
                        r = red_yaml_error(ld->errstr, ld->size, at,
                                           "%s: label %s is named twice", what,
                                           l->name);
                } else if (!strcmp(l->name, "contract") ||
                           !strcmp(l->name, "le")) {
                        r = red_yaml_error(ld->errstr, ld->size, at,
                                           "%s: label %s is reserved "
                                           "(reducerd adds contract, "
                                           "histograms le)",
                                           what, l->name);
                } else {
                        r = m->source == RED_MSRC_EVENTS
                                    ? dim_label(ld, at, what, m, l)
                                    : fsm_label(ld, at, what, m, l);
                        m->series_cnt *= l->value_cnt;
                }
        }
        /* the names not handed to a label yet, after an error */
        for (size_t i = m->label_cnt; i < cnt; i++) {
                free(names[i]);
        }
        free(names);
        if (!r && m->series_cnt > MAX_SERIES) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: %zu label combinations (at most "
                                      "%d series per metric)",
                                      what, m->series_cnt, MAX_SERIES);
        }
        return r;
}

/* --- the parts of a metric -------------------------------------------- */

static int buckets_of(red_loader_t *ld, const red_yaml_node_t *n,
                      const char *what, red_metric_t *m)
{
        size_t cnt;

        if (red_yaml_expect(n, RED_YAML_SEQ, what, ld->errstr, ld->size)) {
                return -EINVAL;
        }
        cnt = red_yaml_size(n);
        if (!cnt || cnt > MAX_BUCKETS) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: buckets: 1 to %d upper bounds are "
                                      "needed",
                                      what, MAX_BUCKETS);
        }
        if (!(m->buckets = calloc(cnt, sizeof(*m->buckets)))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < cnt; i++) {
                const red_yaml_node_t *b = red_yaml_item(n, i);
                if (red_yaml_to_double(b, what, &m->buckets[i], ld->errstr,
                                       ld->size)) {
                        return -EINVAL;
                }
                if (!isfinite(m->buckets[i]) ||
                    (i && m->buckets[i] <= m->buckets[i - 1])) {
                        return red_yaml_error(ld->errstr, ld->size, b,
                                              "%s: buckets: upper bounds are "
                                              "finite and increasing (+Inf "
                                              "is added)",
                                              what);
                }
                m->bucket_cnt++;
        }
        return 0;
}

/* value: a number field every event counted has (required, defaulted,
 * or filled by workflows.totals). */
static int value_of(red_loader_t *ld, const red_yaml_node_t *n,
                    const char *what, red_metric_t *m)
{
        const red_contract_t *c = ld->c;
        const red_kind_t *k;
        red_field_type_t t;
        int r;

        if ((r = red_contract_load_slot(ld, n, what, &m->value_slot))) {
                return r;
        }
        t = c->slot_types[m->value_slot];
        if (t != RED_FT_NUMBER && t != RED_FT_INTEGER) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: field %s is a %s; value needs a "
                                      "number",
                                      what, c->slot_names[m->value_slot],
                                      red_contract_field_type_name(t));
        }
        if ((k = kind_lacking(c, m->on, m->value_slot))) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: field %s must be required (or "
                                      "have a default) in event %s",
                                      what, c->slot_names[m->value_slot],
                                      k->name);
        }
        return 0;
}

/* states: (workflows) the states counted, all by default. */
static int states_of(red_loader_t *ld, const red_yaml_node_t *n,
                     const char *what, red_metric_t *m)
{
        const red_fsm_t *fsm = ld->c->fsm;
        char **names = NULL, buf[1024];
        size_t cnt = 0;
        int r = red_contract_load_strlist(ld, n, what, &names, &cnt);

        m->states = 0;
        for (size_t i = 0; !r && i < cnt; i++) {
                int s = red_contract_fsm_state(fsm, names[i], strlen(names[i]));
                if (s < 0) {
                        r = red_yaml_error(
                                ld->errstr, ld->size, n,
                                "%s: unknown state \"%s\" (allowed: %s)", what,
                                names[i],
                                red_contract_load_join(fsm->states,
                                                       fsm->state_cnt, buf,
                                                       sizeof(buf)));
                }
                m->states |= s >= 0 ? UINT32_C(1) << s : 0;
        }
        red_contract_load_strlist_free(names, cnt);
        return r;
}

/* Which keys each source takes besides type, help, source and labels. */
static int source_check(red_loader_t *ld, const red_yaml_node_t *n,
                        const char *what, const red_metric_t *m)
{
        static const char *const only[][3] = {
                /* events */ {"states", NULL},
                /* transitions */ {"on", "value", "buckets"},
                /* workflows */ {"on", "value", "buckets"},
        };
        static const red_metric_type_t types[][2] = {
                {RED_METRIC_COUNTER, RED_METRIC_HISTOGRAM},
                {RED_METRIC_COUNTER, RED_METRIC_COUNTER},
                {RED_METRIC_GAUGE, RED_METRIC_GAUGE},
        };
        const red_yaml_node_t *v;

        if (m->type != types[m->source][0] && m->type != types[m->source][1]) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: a %s cannot count %s (allowed: "
                                      "events: counter or histogram; "
                                      "transitions: counter; workflows: "
                                      "gauge)",
                                      what, type_names[m->type],
                                      source_names[m->source]);
        }
        if (m->source != RED_MSRC_EVENTS && !ld->c->fsm) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: source %s needs the contract's fsm",
                                      what, source_names[m->source]);
        }
        for (int i = 0; i < 3 && only[m->source][i]; i++) {
                if ((v = red_yaml_get(n, only[m->source][i]))) {
                        return red_yaml_error(ld->errstr, ld->size, v,
                                              "%s: \"%s\" does not apply to "
                                              "source %s",
                                              what, only[m->source][i],
                                              source_names[m->source]);
                }
        }
        if (m->source == RED_MSRC_EVENTS &&
            (m->type == RED_METRIC_HISTOGRAM) != !!red_yaml_get(n, "buckets")) {
                return red_yaml_error(ld->errstr, ld->size, n,
                                      "%s: buckets belong to histograms, and "
                                      "a histogram needs them",
                                      what);
        }
        return 0;
}

/* The HELP text when the contract gives none. */
static int default_help(const red_contract_t *c, red_metric_t *m)
{
        char kinds[512];
        size_t pos = 0;
        int n = -1;

        kinds[0] = '\0';
        for (size_t k = 0; k < c->kind_cnt && pos < sizeof(kinds); k++) {
                if (m->on >> c->kinds[k].index & 1) {
                        pos += (size_t)snprintf(
                                kinds + pos, sizeof(kinds) - pos, "%s%s",
                                pos ? ", " : "", c->kinds[k].name);
                }
        }
        switch (m->source) {
        case RED_MSRC_EVENTS:
                n = m->value_slot < 0
                            ? asprintf(&m->help, "Events applied: %s", kinds)
                            : asprintf(&m->help, "%s of the events %s",
                                       c->slot_names[m->value_slot], kinds);
                break;
        case RED_MSRC_TRANSITIONS:
                n = asprintf(&m->help, "Workflow transition attempts (FSM "
                                       "history rows)");
                break;
        case RED_MSRC_WORKFLOWS:
                n = asprintf(&m->help, "Workflows by current state");
                break;
        }
        if (n < 0) {
                m->help = NULL;
                return -ENOMEM;
        }
        return 0;
}

/* --- a metric ------------------------------------------------------------ */

static int metric_of(red_loader_t *ld, const red_yaml_node_t *key,
                     const red_yaml_node_t *n, red_metric_t *m)
{
        static const char *const keys[] = {"type",   "help",   "source",
                                           "on",     "value",  "buckets",
                                           "labels", "states", NULL};
        const red_yaml_node_t *v;
        char what[160];
        int r, i;

        m->value_slot = -1;
        if ((r = name_of(ld, key, m))) {
                return r;
        }
        snprintf(what, sizeof(what), "metrics %s", m->name);
        if ((r = red_yaml_check_keys(n, what, keys, ld->errstr, ld->size))) {
                return r;
        }
        if (!(v = red_contract_load_required(
                      ld, n, what, "type",
                      " (allowed: counter, histogram, gauge)", &r)) ||
            (r = enum_of(ld, v, what, type_names, &i))) {
                return r;
        }
        m->type = (red_metric_type_t)i;
        i = RED_MSRC_EVENTS;
        if ((v = red_yaml_get(n, "source")) &&
            (r = enum_of(ld, v, what, source_names, &i))) {
                return r;
        }
        m->source = (red_metric_source_t)i;
        if ((r = type_check_name(ld, key, m)) ||
            (r = source_check(ld, n, what, m))) {
                return r;
        }
        if (m->source == RED_MSRC_EVENTS) {
                if (!(v = red_contract_load_required(ld, n, what, "on", "",
                                                     &r)) ||
                    (r = red_contract_load_kinds(ld, v, what, &m->on))) {
                        return r;
                }
                if ((v = red_yaml_get(n, "value")) &&
                    (r = value_of(ld, v, what, m))) {
                        return r;
                }
                if (m->type == RED_METRIC_HISTOGRAM &&
                    !red_contract_load_required(
                            ld, n, what, "value",
                            " (the number a histogram observes)", &r)) {
                        return r;
                }
                if ((v = red_yaml_get(n, "buckets")) &&
                    (r = buckets_of(ld, v, what, m))) {
                        return r;
                }
        }
        m->states =
                ld->c->fsm ? ~UINT32_C(0) >> (32 - ld->c->fsm->state_cnt) : 0;
        if ((v = red_yaml_get(n, "states")) &&
            (r = states_of(ld, v, what, m))) {
                return r;
        }
        m->series_cnt = 1;
        if ((v = red_yaml_get(n, "labels")) &&
            (r = labels_of(ld, v, what, m))) {
                return r;
        }
        m->width = m->type == RED_METRIC_HISTOGRAM ? m->bucket_cnt + 2 : 1;
        if ((v = red_yaml_get(n, "help"))) {
                return red_contract_load_str(ld, v, what, &m->help);
        }
        return default_help(ld->c, m);
}

int red_contract_load_metrics(red_loader_t *ld, const red_yaml_node_t *n)
{
        red_contract_t *c = ld->c;
        size_t cnt;

        if (red_yaml_expect(n, RED_YAML_MAP, "metrics", ld->errstr, ld->size)) {
                return -EINVAL;
        }
        cnt = red_yaml_size(n);
        if (!(c->metrics = calloc(cnt ? cnt : 1, sizeof(*c->metrics)))) {
                return -ENOMEM;
        }
        for (size_t i = 0; i < cnt; i++) {
                red_metric_t *m = &c->metrics[c->metric_cnt++];
                int r;

                if ((r = metric_of(ld, red_yaml_key(n, i), red_yaml_value(n, i),
                                   m))) {
                        return r;
                }
                for (size_t j = 0; j + 1 < c->metric_cnt; j++) {
                        if (red_contract_metric_names_clash(&c->metrics[j],
                                                            m)) {
                                return red_yaml_error(
                                        ld->errstr, ld->size,
                                        red_yaml_key(n, i),
                                        "metrics: %s clashes with %s (a "
                                        "histogram's _bucket, _sum and _count "
                                        "series are its own)",
                                        m->name, c->metrics[j].name);
                        }
                }
                m->offset = c->metric_values;
                c->metric_values += m->series_cnt * m->width;
        }
        return 0;
}

void red_contract_load_free_metrics(red_metric_t *m, size_t cnt)
{
        for (size_t i = 0; m && i < cnt; i++) {
                for (size_t l = 0; l < m[i].label_cnt; l++) {
                        free(m[i].labels[l].name);
                        red_contract_load_strlist_free(
                                m[i].labels[l].values,
                                m[i].labels[l].value_cnt);
                }
                free(m[i].labels);
                free(m[i].buckets);
                free(m[i].name);
                free(m[i].help);
        }
        free(m);
}
