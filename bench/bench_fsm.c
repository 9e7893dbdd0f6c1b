/*
 * Benchmark of red_fsm over red_workflows: 10^6 live workflows, 4*10^6
 * transition attempts (accepted and rejected) through the codegen contract,
 * 10^6 lookups; per-call latency histograms and RSS per live workflow.
 * Usage: bench_fsm [contracts/codegen_metrics.yaml]
 */
#include "red_contract.h"
#include "red_event.h"
#include "red_fsm.h"
#include "red_workflows.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_WF     1000000
#define N_TR     4000000
#define N_LOOKUP 1000000
#define BATCH    1000
#define HIST_NS  10     /* bucket width */
#define HIST_MAX 100000 /* buckets: up to 1 ms */

typedef struct hist_s {
        uint64_t b[HIST_MAX + 1];
        uint64_t n, max_ns;
        double sum_ns;
} hist_t;

static inline uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void hist_add(hist_t *h, uint64_t ns)
{
        uint64_t k = ns / HIST_NS;

        h->b[k > HIST_MAX ? HIST_MAX : k]++;
        h->n++;
        h->sum_ns += (double)ns;
        if (ns > h->max_ns) {
                h->max_ns = ns;
        }
}

/* Upper edge of the bucket holding quantile q, in µs. */
static double hist_q_us(const hist_t *h, double q)
{
        uint64_t want = (uint64_t)(q * (double)h->n), seen = 0;

        for (size_t k = 0; k <= HIST_MAX; k++) {
                seen += h->b[k];
                if (seen > want) {
                        return k == HIST_MAX
                                       ? (double)h->max_ns / 1000.0
                                       : (double)(k + 1) * HIST_NS / 1000.0;
                }
        }
        return (double)h->max_ns / 1000.0;
}

static long rss_kb(void)
{
        FILE *fp = fopen("/proc/self/status", "r");
        char line[256];
        long kb = -1;

        if (!fp) {
                return -1;
        }
        while (fgets(line, sizeof(line), fp)) {
                if (!strncmp(line, "VmRSS:", 6)) {
                        kb = strtol(line + 6, NULL, 10);
                }
        }
        fclose(fp);
        return kb;
}

/* splitmix64 */
static uint64_t rng_state = 0x5eed;

static uint64_t rng(void)
{
        uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void die(const char *what)
{
        fprintf(stderr, "bench_fsm: %s\n", what);
        exit(1);
}

static const red_contract_t *gc;

static int slot(const char *name)
{
        int s = red_contract_slot(gc, name);

        if (s < 0) {
                die(name);
        }
        return s;
}

static void set_str(red_event_t *ev, const char *f, const char *s)
{
        red_value_t *v = &ev->values[slot(f)];

        v->type = RED_FT_STRING;
        v->s.p = s;
        v->s.len = strlen(s);
}

static red_event_t *template(const char *kind)
{
        red_event_t *ev = calloc(1, sizeof(*ev));

        for (size_t i = 0; i < gc->kind_cnt; i++) {
                if (!strcmp(gc->kinds[i].name, kind)) {
                        ev->kind = &gc->kinds[i];
                }
        }
        if (!ev->kind) {
                die(kind);
        }
        ev->values = calloc(gc->slot_cnt, sizeof(red_value_t));
        ev->root = ev->payload = json_object();
        ev->values[gc->workflow_key_slot].type = RED_FT_UUID;
        return ev;
}

static red_event_t *stage(int n)
{
        red_event_t *ev = template("stage_completed");

        set_str(ev, "stage_name", "stage");
        ev->values[slot("stage_number")].type = RED_FT_INTEGER;
        ev->values[slot("stage_number")].i = n;
        ev->values[slot("success")].type = RED_FT_BOOLEAN;
        ev->values[slot("success")].b = true;
        return ev;
}

static red_event_t *request(const char *event, const char *to,
                            const char *guard)
{
        red_event_t *ev = template("workflow_transition_requested");

        set_str(ev, "event", event);
        if (to) {
                set_str(ev, "to_state", to);
        }
        if (guard) {
                json_t *md = json_object();
                json_object_set_new(md, guard, json_true());
                json_object_set_new(ev->payload, "metadata", md);
        }
        return ev;
}

static void free_event(red_event_t *ev)
{
        json_decref(ev->root);
        free(ev->values);
        free(ev);
}

int main(int argc, char **argv)
{
        static hist_t htr, hlk;
        char path[4096], err[2048];
        const char *src = getenv("RED_SRCDIR");
        red_contract_t *c;
        red_workflows_t *wfs;
        red_fsm_engine_t *eng;
        red_fsm_rows_t rows = {0};
        red_uuid_t *ids;
        red_event_t *started, *mix[9];
        red_msg_t msg = {.topic = "dev.omninode-bridge.codegen.workflow.v1"};
        long rss0, rss1;
        uint64_t t0, total_ns = 0, sink = 0, rows_total = 0;
        const uint64_t *cnt;
        size_t nmix;

        if (argc > 1) {
                snprintf(path, sizeof(path), "%s", argv[1]);
        } else {
                snprintf(path, sizeof(path),
                         "%s/contracts/codegen_metrics.yaml", src ? src : ".");
        }
        if (!(c = red_contract_load(path, err, sizeof(err)))) {
                die(err);
        }
        gc = c;
        ids = malloc(N_WF * sizeof(*ids));
        for (size_t i = 0; i < N_WF; i++) {
                red_uuid_v4(&ids[i]);
        }
        started = template("started");
        set_str(started, "node_type", "effect");
        set_str(started, "domain", "api");
        nmix = 0;
        mix[nmix++] = stage(1);
        mix[nmix++] = stage(2);
        mix[nmix++] = stage(4);
        mix[nmix++] = template("completed");
        mix[nmix++] = template("failed");
        set_str(mix[nmix - 1], "failed_stage", "generation");
        mix[nmix++] = request("retry_workflow", NULL, NULL);
        mix[nmix++] =
                request("start_analysis", "analyzing", "has_requirements");
        mix[nmix++] = request("complete_workflow", "completed", NULL);
        mix[nmix++] = request("start_generation", "analyzing", NULL);
        for (size_t i = 0; i < nmix; i++) {
                mix[i]->msg = &msg;
        }
        started->msg = &msg;

        wfs = red_workflows_new(2 * N_WF, 86400 * INT64_C(1000000),
                                c->fsm->terminal, c->remember_cnt);
        if (!wfs || !(eng = red_fsm_engine_new(c, wfs))) {
                die("out of memory");
        }

        /* 10^6 live workflows, initialised through the engine */
        rss0 = rss_kb();
        t0 = now_ns();
        for (size_t i = 0; i < N_WF; i++) {
                started->values[c->workflow_key_slot].u = ids[i];
                started->time = (red_time_t)i;
                msg.offset++;
                if (red_fsm_engine_apply(eng, started, &rows)) {
                        die("apply failed");
                }
                if ((i + 1) % BATCH == 0) {
                        red_workflows_commit(wfs);
                }
        }
        red_workflows_commit(wfs);
        t0 = now_ns() - t0;
        rss1 = rss_kb();
        printf("workflows: %d initialised in %.3f s (%.0f/s)\n", N_WF,
               (double)t0 / 1e9, N_WF / ((double)t0 / 1e9));
        printf("memory: VmRSS %ld -> %ld KiB: %.1f bytes per live workflow "
               "(goal <= 256)\n",
               rss0, rss1, (double)(rss1 - rss0) * 1024.0 / N_WF);

        /* 4*10^6 transition attempts on random workflows */
        for (size_t i = 0; i < N_TR; i++) {
                uint64_t r = rng();
                red_event_t *ev = mix[(r >> 32) % nmix];
                uint64_t a, b;

                ev->values[c->workflow_key_slot].u = ids[r % N_WF];
                if ((r & 0x3f00) == 0) {
                        /* 1 in 64: a workflow that is not known */
                        ev->values[c->workflow_key_slot].u.b[0] ^= 0x80;
                }
                ev->time = (red_time_t)(N_WF + i);
                msg.offset++;
                a = now_ns();
                if (red_fsm_engine_apply(eng, ev, &rows)) {
                        die("apply failed");
                }
                b = now_ns();
                hist_add(&htr, b - a);
                total_ns += b - a;
                if ((i + 1) % BATCH == 0) {
                        rows_total += rows.cnt;
                        red_fsm_rows_clear(&rows);
                        red_workflows_commit(wfs);
                }
        }
        rows_total += rows.cnt;
        red_fsm_rows_clear(&rows);
        red_workflows_commit(wfs);
        cnt = red_fsm_engine_counters(eng);
        printf("transitions: %d attempts, %llu rows, %.0f/s (time inside "
               "apply), p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.1f us "
               "(goal p99 <= 5 us)\n",
               N_TR, (unsigned long long)rows_total,
               N_TR / ((double)total_ns / 1e9), hist_q_us(&htr, 0.5),
               hist_q_us(&htr, 0.99), hist_q_us(&htr, 0.999),
               (double)htr.max_ns / 1000.0);
        printf("results:");
        for (int i = 0; i < RED_FSM__CNT; i++) {
                printf(" %s=%llu", red_fsm_result_name(i),
                       (unsigned long long)cnt[i]);
        }
        printf("\n");

        /* 10^6 lookups of random live workflows */
        for (size_t i = 0; i < N_LOOKUP; i++) {
                const red_uuid_t *id = &ids[rng() % N_WF];
                uint64_t a = now_ns(), b;
                red_wf_t *wf = red_workflows_get(wfs, id);
                b = now_ns();
                sink += wf->transition_count;
                hist_add(&hlk, b - a);
        }
        printf("lookups: %d, p50 %.2f us, p99 %.2f us, max %.1f us "
               "(goal p99 <= 1 us)\n",
               N_LOOKUP, hist_q_us(&hlk, 0.5), hist_q_us(&hlk, 0.99),
               (double)hlk.max_ns / 1000.0);
        {
                uint64_t a = now_ns(), b;
                size_t n = red_workflows_evict(
                        wfs,
                        (red_time_t)(N_WF + N_TR) + 86400 * INT64_C(1000000));
                b = now_ns();
                printf("evict: %zu terminal workflows past their TTL in "
                       "%.1f ms, %zu left (sink %llu)\n",
                       n, (double)(b - a) / 1e6, red_workflows_count(wfs),
                       (unsigned long long)sink);
        }

        red_fsm_rows_destroy(&rows);
        red_fsm_engine_destroy(eng);
        red_workflows_destroy(wfs);
        free_event(started);
        for (size_t i = 0; i < nmix; i++) {
                free_event(mix[i]);
        }
        free(ids);
        red_contract_destroy(c);
        return 0;
}
