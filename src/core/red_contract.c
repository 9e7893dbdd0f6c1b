/* red_contract - lookups in the contract model; contract sets. */
#include "red_contract.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The loader: red_contract_load.c and the section files it names. */

/* --- names --------------------------------------------------------------- */

/* in the order of red_field_type_t */
static const char *const type_names[] = {"none",      "string",  "integer",
                                         "number",    "boolean", "uuid",
                                         "timestamp", "object",  "array"};

const char *red_contract_field_type_name(red_field_type_t t)
{
        return (size_t)t < sizeof(type_names) / sizeof(*type_names)
                       ? type_names[t]
                       : "?";
}

/* in the order of red_rule_t */
static const char *const rule_names[] = {"latest", "first", "max",
                                         "count",  "merge", "text_of"};

const char *red_contract_rule_name(red_rule_t r)
{
        return (unsigned)r < 6 ? rule_names[r] : "?";
}

/* in the order of red_alert_op_t */
static const char *const op_names[] = {"gt", "lt", "gte", "lte"};

const char *red_contract_alert_op_name(red_alert_op_t op)
{
        return (unsigned)op < 4 ? op_names[op] : "?";
}

/* --- lookups ------------------------------------------------------------- */

const char *red_contract_raw_table(const red_raw_t *r, const char *topic)
{
        for (size_t i = 0; topic && i < r->table_cnt; i++) {
                if (!strcmp(r->topics[i], topic)) {
                        return r->tables[i];
                }
        }
        return NULL;
}

const red_state_t *red_contract_state(const red_contract_t *c,
                                      const char *table)
{
        for (size_t i = 0; table && i < c->state_cnt; i++) {
                if (!strcmp(c->states[i].table, table)) {
                        return &c->states[i];
                }
        }
        return NULL;
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
        for (size_t i = 0; i < c->slot_cnt; i++) {
                if (!strcmp(c->slot_names[i], name)) {
                        return (int)i;
                }
        }
        return -1;
}

const red_coltype_t *red_contract_coltype_find(const red_coltype_t *ct,
                                               size_t cnt, const char *column)
{
        for (size_t i = 0; i < cnt; i++) {
                if (!strcmp(ct[i].column, column)) {
                        return &ct[i];
                }
        }
        return NULL;
}

void red_contract_agg_partition_parent(const red_agg_t *a, red_window_type_t wt,
                                       char *parent, size_t size,
                                       red_partition_t *gran)
{
        if (a->partition_by_window) {
                snprintf(parent, size, "%s_%s", a->table,
                         red_window_type_name(wt));
                *gran = a->window_partition[wt];
        } else {
                snprintf(parent, size, "%s", a->table);
                *gran = a->partition;
        }
}

int red_contract_fsm_state(const red_fsm_t *fsm, const char *name, size_t len)
{
        for (size_t i = 0; i < fsm->state_cnt; i++) {
                if (!strncmp(fsm->states[i], name, len) &&
                    !fsm->states[i][len]) {
                        return (int)i;
                }
        }
        return -1;
}

int red_contract_fsm_event(const red_fsm_t *fsm, const char *name, size_t len)
{
        for (size_t i = 0; i < fsm->event_cnt; i++) {
                if (!strncmp(fsm->events[i], name, len) &&
                    !fsm->events[i][len]) {
                        return (int)i;
                }
        }
        return -1;
}

/* Whether series of histogram @p h (name, name_bucket, _sum, _count)
 * include @p name. */
static bool histogram_owns(const red_metric_t *h, const char *name)
{
        static const char *const parts[] = {"_bucket", "_sum", "_count"};
        size_t len = strlen(h->name);

        if (h->type != RED_METRIC_HISTOGRAM || strncmp(h->name, name, len)) {
                return false;
        }
        for (int i = 0; i < 3; i++) {
                if (!strcmp(name + len, parts[i])) {
                        return true;
                }
        }
        return false;
}

bool red_contract_metric_names_clash(const red_metric_t *a,
                                     const red_metric_t *b)
{
        return !strcmp(a->name, b->name) || histogram_owns(a, b->name) ||
               histogram_owns(b, a->name);
}

/* --- contract sets ------------------------------------------------------ */

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
        for (size_t i = 0; i < c->state_cnt && n < max; i++) {
                out[n++] = c->states[i].table;
                for (size_t l = 0; l < c->states[i].list_cnt && n < max; l++) {
                        out[n++] = c->states[i].lists[l].table;
                }
        }
        return n;
}

/* Contracts share one database, one Kafka cluster and one /metrics: two
 * with the same name, consumer group or table would take each other's
 * partitions and overwrite each other's rows, two declaring the same
 * metric would export one series twice. */
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
                for (size_t a = 0; a < c->metric_cnt; a++) {
                        for (size_t b = 0; b < o->metric_cnt; b++) {
                                if (red_contract_metric_names_clash(
                                            &c->metrics[a], &o->metrics[b])) {
                                        snprintf(errstr, size,
                                                 "%s: metric %s clashes with "
                                                 "%s of %s",
                                                 c->path, c->metrics[a].name,
                                                 o->metrics[b].name, o->path);
                                        return -EINVAL;
                                }
                        }
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
