/* red_reduce - the contract test driver: JSON lines in, table rows out. */
#include "red_reduce.h"

#include "red_buf.h"
#include "red_core.h"
#include "red_frontier.h"
#include "red_map.h"
#include "red_rawseen.h"
#include "red_rows.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* One input line and the message the core sees. */
typedef struct line_s {
        char *text;
        size_t len;
        red_msg_t msg;
        char *topic;
        char *key;
} line_t;

typedef struct state_s {
        red_uuid_t id;
        char *json;
} state_t;

typedef struct reduce_s {
        const red_reduce_opts_t *opts;
        red_contract_t *c;
        red_core_t *core;
        red_aggregator_t *result;
        red_buf_t history;       /* rendered history lines */
        red_buf_t raw;           /* rendered raw rows, deduplicated */
        red_buf_t alerts;        /* rendered alerts that fired */
        red_rawseen_t *raw_seen; /* raw rows and dedupe keys stored */
        size_t raw_rows, alert_cnt;
        red_alert_state_t *cooldowns;
        red_buf_t dead;          /* rendered dead-letter lines */
        struct state_s **states; /* last rendered current state per workflow */
        size_t state_cnt, state_cap;
        red_map_t *state_map;
        uint64_t transitions;
        line_t *lines;
        size_t line_cnt, line_cap;
        struct rpart_s {
                /* owned: the lines' topics go when the core is done with
                 * them, long before the last frontier is computed */
                char *topic;
                int32_t partition;
                size_t last; /* index of its last line */
        } * parts;
        size_t part_cnt;
        char *errstr;
        size_t errsize;
} reduce_t;

static void line_free(line_t *l)
{
        free(l->text);
        free(l->topic);
        free(l->key);
        l->text = l->topic = l->key = NULL;
}

/* The core is done with a line (red_core_done_cb). */
static void line_done(void *opaque, void *arg)
{
        (void)arg;
        line_free(opaque);
}

static void lines_free(reduce_t *rd)
{
        for (size_t i = 0; i < rd->line_cnt; i++) {
                line_free(&rd->lines[i]);
        }
        rd->line_cnt = 0;
}

/* The partitions of the input and the index of the last line of each. */
static int index_partitions(reduce_t *rd)
{
        for (size_t i = 0; i < rd->line_cnt; i++) {
                line_t *l = &rd->lines[i];
                const char *t = l->topic ? l->topic : "";
                size_t k;

                for (k = 0; k < rd->part_cnt; k++) {
                        if (rd->parts[k].partition == l->msg.partition &&
                            !strcmp(rd->parts[k].topic, t)) {
                                break;
                        }
                }
                if (k == rd->part_cnt) {
                        struct rpart_s *np =
                                realloc(rd->parts, (k + 1) * sizeof(*np));
                        if (!np) {
                                return -ENOMEM;
                        }
                        rd->parts = np;
                        if (!(rd->parts[k].topic = strdup(t))) {
                                return -ENOMEM;
                        }
                        rd->parts[k].partition = l->msg.partition;
                        rd->part_cnt++;
                }
                rd->parts[k].last = i;
        }
        return 0;
}

/* Reads the Kafka metadata members of a line; malformed lines keep none
 * and go to the decoder, which dead-letters them. */
static void line_meta(line_t *l, long lineno)
{
        json_t *root = json_loadb(l->text, l->len, JSON_ALLOW_NUL, NULL), *v;

        memset(&l->msg, 0, sizeof(l->msg));
        l->msg.offset = lineno;
        l->msg.timestamp = -1;
        l->msg.value = l->text;
        l->msg.value_len = l->len;
        if (!json_is_object(root)) {
                json_decref(root);
                return;
        }
        if (json_is_string(v = json_object_get(root, "_topic"))) {
                l->topic = strdup(json_string_value(v));
        }
        if (json_is_string(v = json_object_get(root, "_key"))) {
                l->key = strdup(json_string_value(v));
        }
        if (json_is_integer(v = json_object_get(root, "_partition"))) {
                l->msg.partition = (int32_t)json_integer_value(v);
        }
        if (json_is_string(v = json_object_get(root, "_timestamp"))) {
                red_time_t t;
                if (!red_time_parse(json_string_value(v), json_string_length(v),
                                    &t)) {
                        l->msg.timestamp = t;
                }
        }
        json_decref(root);
        l->msg.topic = l->topic;
        l->msg.key = l->key;
        l->msg.key_len = l->key ? strlen(l->key) : 0;
}

static int cmp_state(const void *a, const void *b)
{
        return red_uuid_cmp(&(*(state_t *const *)a)->id,
                            &(*(state_t *const *)b)->id);
}

static bool state_eq(const void *item, const void *key)
{
        return !red_uuid_cmp(&((const state_t *)item)->id, key);
}

/* Remembers the rendered current state of every workflow the batch
 * changed, replacing older renderings of the same workflow. */
static int keep_states(reduce_t *rd)
{
        red_workflows_t *wfs = red_core_workflows(rd->core);
        red_wf_t **dirty;
        size_t cnt;

        if (!wfs) {
                return 0;
        }
        cnt = red_workflows_dirty(wfs, &dirty);
        for (size_t i = 0; i < cnt; i++) {
                uint64_t h = red_uuid_hash(&dirty[i]->id);
                state_t *st;
                red_buf_t b;

                if (dirty[i]->state == RED_WF_NONE) {
                        continue;
                }
                red_buf_init(&b);
                red_rows_current_json(rd->c, dirty[i], &b);
                if (b.failed) {
                        red_buf_destroy(&b);
                        return -ENOMEM;
                }
                st = red_map_find(rd->state_map, h, state_eq, &dirty[i]->id);
                if (!st) {
                        if (rd->state_cnt == rd->state_cap) {
                                size_t ncap =
                                        rd->state_cap ? rd->state_cap * 2 : 64;
                                state_t **ns =
                                        realloc(rd->states, ncap * sizeof(*ns));
                                if (!ns) {
                                        red_buf_destroy(&b);
                                        return -ENOMEM;
                                }
                                rd->states = ns;
                                rd->state_cap = ncap;
                        }
                        if (!(st = calloc(1, sizeof(*st)))) {
                                red_buf_destroy(&b);
                                return -ENOMEM;
                        }
                        st->id = dirty[i]->id;
                        rd->states[rd->state_cnt++] = st;
                        if (red_map_insert(rd->state_map, h, st)) {
                                red_buf_destroy(&b);
                                return -ENOMEM;
                        }
                }
                free(st->json);
                st->json = red_buf_steal(&b, NULL);
        }
        return 0;
}

/* The frontier after adding lines [0, to) (red_frontier.h): a partition
 * with lines ahead is still reading, one without is finished (a file has
 * no producers to wait for); INT64_MAX when every one is finished. */
static red_time_t frontier(reduce_t *rd, size_t to)
{
        red_frontier_t f;

        red_frontier_init(&f, rd->opts->now, rd->c->idle_wait_us);
        for (size_t k = 0; k < rd->part_cnt; k++) {
                red_frontier_add(&f, k,
                                 red_core_max_time(rd->core, rd->parts[k].topic,
                                                   rd->parts[k].partition),
                                 rd->parts[k].last >= to
                                         ? RED_FRONTIER_READING
                                         : RED_FRONTIER_FINISHED);
        }
        return f.time;
}

/* The batch's raw rows, and their identities remembered. */
static int keep_raw(reduce_t *rd)
{
        for (size_t i = 0; i < red_core_released(rd->core); i++) {
                const red_event_t *ev = red_core_released_event(rd->core, i);

                for (size_t k = 0; ev && k < rd->c->raw_cnt; k++) {
                        const red_raw_t *r = &rd->c->raws[k];
                        const char *table =
                                red_contract_raw_table(r, ev->msg->topic);

                        if (!table ||
                            !(r->on & (UINT64_C(1) << ev->kind->index))) {
                                continue;
                        }
                        rd->raw_rows++;
                        red_buf_printf(&rd->raw,
                                       "{\"table\":\"%s\",\"row\":", table);
                        red_rows_raw_json(rd->c, r, ev, &rd->raw);
                        red_buf_puts(&rd->raw, "}\n");
                }
        }
        if (red_rawseen_keep(rd->raw_seen, rd->core)) {
                return -ENOMEM;
        }
        return rd->raw.failed ? -ENOMEM : 0;
}

static int run_batch(reduce_t *rd, size_t from, size_t to)
{
        red_fsm_rows_t *rows;
        const red_dead_letter_t *dl;
        red_cell_t **cells;
        size_t cnt;
        int r;

        for (size_t i = from; i < to; i++) {
                if ((r = red_core_add(rd->core, &rd->lines[i].msg,
                                      rd->opts->now, &rd->lines[i]))) {
                        return r;
                }
        }
        if (red_core_release(rd->core, frontier(rd, to), 0) < 0) {
                return -ENOMEM;
        }
        /* no database behind `reduce`: missing workflows stay missing */
        if ((r = red_rawseen_mark(rd->raw_seen, rd->core)) ||
            (r = red_core_process(rd->core))) {
                return r;
        }
        cells = red_aggregator_cells(red_core_cells(rd->core), &cnt);
        for (size_t i = 0; i < cnt; i++) {
                if ((r = red_aggregator_merge_cell(rd->result, cells[i],
                                                   rd->errstr, rd->errsize))) {
                        return r;
                }
        }
        rows = red_core_rows(rd->core);
        rd->transitions += rows->cnt;
        for (size_t i = 0; i < rows->cnt; i++) {
                red_buf_printf(&rd->history, "{\"table\":\"%s\",\"row\":",
                               rd->c->fsm->history_table);
                red_rows_history_json(rd->c->fsm, &rows->items[i],
                                      &rd->history);
                red_buf_puts(&rd->history, "}\n");
        }
        if ((r = keep_raw(rd))) {
                return r;
        }
        if (rd->c->alerts) {
                red_alert_matches_t *am = red_core_alerts(rd->core);
                if ((r = red_alert_cooldown(rd->c->alerts, am->items, am->cnt,
                                            rd->cooldowns))) {
                        return r;
                }
                for (size_t i = 0; i < am->cnt; i++) {
                        const red_alerts_t *a = rd->c->alerts;

                        if (!am->items[i].fires) {
                                continue;
                        }
                        rd->alert_cnt++;
                        red_buf_printf(&rd->alerts, "{\"%s\":\"%s\",\"row\":",
                                       a->table ? "table" : "topic",
                                       a->table ? a->table : a->publish.topic);
                        red_alert_json(rd->c, &am->items[i], &rd->alerts);
                        red_buf_puts(&rd->alerts, "}\n");
                }
        }
        dl = red_core_dead_letters(rd->core, &cnt);
        for (size_t i = 0; i < cnt; i++) {
                red_buf_puts(&rd->dead, "{\"dead_letter\":");
                red_rows_dead_letter_json(rd->c, &dl[i], &rd->dead);
                red_buf_puts(&rd->dead, "}\n");
        }
        if ((r = keep_states(rd))) {
                return r;
        }
        red_core_commit(rd->core);
        return rd->history.failed || rd->dead.failed ? -ENOMEM : 0;
}

static int print_all(reduce_t *rd)
{
        FILE *out = rd->opts->out;
        const red_core_counters_t *k = red_core_counters(rd->core);
        red_cell_t **cells;
        size_t cnt;
        red_buf_t b;

        red_buf_init(&b);
        cells = red_aggregator_cells(rd->result, &cnt);
        for (size_t i = 0; i < cnt; i++) {
                red_buf_reset(&b);
                red_rows_cell_json(cells[i], NULL, &b);
                fprintf(out, "{\"table\":\"%s\",\"row\":%s}\n",
                        red_cell_agg(cells[i])->table, b.data);
        }
        red_buf_destroy(&b);
        if (rd->history.len) {
                fwrite(rd->history.data, 1, rd->history.len, out);
        }
        if (rd->state_cnt) {
                qsort(rd->states, rd->state_cnt, sizeof(*rd->states),
                      cmp_state);
        }
        for (size_t i = 0; i < rd->state_cnt; i++) {
                fprintf(out, "{\"table\":\"%s\",\"row\":%s}\n",
                        rd->c->fsm->current_table, rd->states[i]->json);
        }
        if (rd->raw.len) {
                fwrite(rd->raw.data, 1, rd->raw.len, out);
        }
        if (rd->alerts.len) {
                fwrite(rd->alerts.data, 1, rd->alerts.len, out);
        }
        if (rd->dead.len) {
                fwrite(rd->dead.data, 1, rd->dead.len, out);
        }
        fprintf(out,
                "{\"summary\":{\"contract\":\"%s\",\"consumed\":%llu,"
                "\"applied\":%llu,\"dead_lettered\":%llu,"
                "\"late_dropped\":%llu,\"late_applied\":%llu,"
                "\"duplicates\":%llu,\"cells\":%zu,\"transitions\":%llu,"
                "\"raw_rows\":%zu,\"alerts\":%zu}}\n",
                rd->c->name, (unsigned long long)k->consumed,
                (unsigned long long)k->applied,
                (unsigned long long)k->dead_lettered,
                (unsigned long long)k->late_dropped,
                (unsigned long long)k->late_applied,
                (unsigned long long)k->duplicates, cnt,
                (unsigned long long)rd->transitions, rd->raw_rows,
                rd->alert_cnt);
        return ferror(out) ? -EIO : 0;
}

int red_reduce_run(const red_reduce_opts_t *opts, char *errstr,
                   size_t errstr_size)
{
        reduce_t rd = {.opts = opts, .errstr = errstr, .errsize = errstr_size};
        FILE *in = NULL;
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long lineno = 0;
        int r = -1;

        red_buf_init(&rd.history);
        red_buf_init(&rd.dead);
        red_buf_init(&rd.raw);
        red_buf_init(&rd.alerts);
        errstr[0] = '\0';
        if (!(rd.c = red_contract_load(opts->contract, errstr, errstr_size))) {
                return -1;
        }
        if (!(rd.core = red_core_new(rd.c, SIZE_MAX / 2, INT64_MAX / 2,
                                     line_done, NULL, errstr, errstr_size)) ||
            !(rd.result = red_aggregator_new(rd.c)) ||
            !(rd.state_map = red_map_new()) ||
            !(rd.raw_seen = red_rawseen_new(rd.c)) ||
            !(rd.cooldowns = red_alert_state_new())) {
                if (!errstr[0]) {
                        snprintf(errstr, errstr_size, "out of memory");
                }
                goto done;
        }
        in = strcmp(opts->input, "-") ? fopen(opts->input, "rb") : stdin;
        if (!in) {
                snprintf(errstr, errstr_size, "%s: cannot open: %s",
                         opts->input, strerror(errno));
                goto done;
        }
        while ((n = getline(&line, &cap, in)) >= 0) {
                line_t *l;

                lineno++;
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) {
                        n--;
                }
                if (n == 0) {
                        continue;
                }
                if (rd.line_cnt == rd.line_cap) {
                        size_t ncap = rd.line_cap ? rd.line_cap * 2 : 1024;
                        line_t *nl = realloc(rd.lines, ncap * sizeof(*nl));
                        if (!nl) {
                                goto oom;
                        }
                        rd.lines = nl;
                        rd.line_cap = ncap;
                }
                l = &rd.lines[rd.line_cnt];
                memset(l, 0, sizeof(*l));
                if (!(l->text = malloc((size_t)n + 1))) {
                        goto oom;
                }
                memcpy(l->text, line, (size_t)n);
                l->text[n] = '\0';
                l->len = (size_t)n;
                line_meta(l, lineno);
                rd.line_cnt++;
        }
        if (ferror(in)) {
                snprintf(errstr, errstr_size, "%s: read error: %s", opts->input,
                         strerror(errno));
                goto done;
        }
        if (index_partitions(&rd)) {
                goto oom;
        }
        for (size_t from = 0; from < rd.line_cnt;) {
                size_t to = opts->batch && from + opts->batch < rd.line_cnt
                                    ? from + opts->batch
                                    : rd.line_cnt;
                if (run_batch(&rd, from, to)) {
                        goto oom;
                }
                from = to;
        }
        if (print_all(&rd)) {
                snprintf(errstr, errstr_size, "write error: %s",
                         strerror(errno));
                goto done;
        }
        r = 0;
        goto done;
oom:
        if (!errstr[0]) {
                snprintf(errstr, errstr_size, "out of memory");
        }
done:
        if (in && in != stdin) {
                fclose(in);
        }
        free(line);
        red_core_destroy(rd.core); /* hands its lines back first */
        rd.core = NULL;
        lines_free(&rd);
        free(rd.lines);
        for (size_t i = 0; i < rd.part_cnt; i++) {
                free(rd.parts[i].topic);
        }
        free(rd.parts);
        for (size_t i = 0; i < rd.state_cnt; i++) {
                free(rd.states[i]->json);
                free(rd.states[i]);
        }
        free(rd.states);
        red_map_destroy(rd.state_map);
        red_buf_destroy(&rd.history);
        red_buf_destroy(&rd.dead);
        red_buf_destroy(&rd.raw);
        red_buf_destroy(&rd.alerts);
        red_rawseen_destroy(rd.raw_seen);
        red_alert_state_destroy(rd.cooldowns);
        red_aggregator_destroy(rd.result);
        red_core_destroy(rd.core);
        red_contract_destroy(rd.c);
        return r;
}
