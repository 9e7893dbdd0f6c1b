/*
 * gen_events_lib - a deterministic generator of codegen_metrics event
 * streams: complete workflows (started, 1..8 stage_completed, completed or
 * failed) interleaved in event-time order, in every envelope variant the
 * decoder accepts, optionally with poisoned lines and late workflows.
 *
 * Shared as source by tests/gen_events.c (the command) and
 * bench/bench_core.c (in-memory streams), so everything here is static.
 * The output depends only on the options: no clock, no locale, no libc
 * random numbers; numbers are printed from integers.
 */
#include "red_contract.h"
#include "red_time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* options and the line handed out                                     */
/* ------------------------------------------------------------------ */

enum { GEN_STARTED, GEN_STAGE, GEN_COMPLETED, GEN_FAILED, GEN_KIND_CNT };

/* The contract's kind names, in the order above. */
static const char *const gen_kind_names[GEN_KIND_CNT] = {
        "started", "stage_completed", "completed", "failed"};

/* Input topics of contracts/codegen_metrics.yaml (see gen_topics_from()). */
static const char *const gen_default_topics[GEN_KIND_CNT] = {
        "dev.omninode-bridge.codegen.generation-started.v1",
        "dev.omninode-bridge.codegen.stage-completed.v1",
        "dev.omninode-bridge.codegen.generation-completed.v1",
        "dev.omninode-bridge.codegen.generation-failed.v1",
};

typedef struct gen_opts_s {
        uint64_t events;           /* lines to write */
        double workflows_per_hour; /* > 0: start rate; else from days */
        red_time_t start;          /* first event time */
        double days;               /* span of the stream (rate from events) */
        int partitions;            /* _partition = murmur2(key) mod this */
        int poison_permille;       /* lines replaced by bad input */
        int late_permille;         /* workflows delivered late */
        uint64_t seed;
        bool meta; /* write "_topic", "_key", "_partition" */
        const char *topics[GEN_KIND_CNT];
} gen_opts_t;

typedef struct gen_line_s {
        const char *text; /* borrowed until the next gen_next() */
        size_t len;
        const char *topic;
        const char *key; /* the workflow id (36 bytes) */
        size_t key_len;
        int32_t partition;
        red_time_t time; /* the event's time as written (poison: intended) */
        int kind;        /* GEN_* */
        int poison;      /* 0, or 1 + the poison variant */
        bool late;       /* delivered after later events of other workflows */
} gen_line_t;

static void gen_opts_default(gen_opts_t *o)
{
        memset(o, 0, sizeof(*o));
        o->events = 100000;
        o->start = INT64_C(1762128000) * RED_TIME_US_PER_SEC; /* 2025-11-03 */
        o->days = 1;
        o->partitions = 12;
        o->seed = 1;
        o->meta = true;
        for (int k = 0; k < GEN_KIND_CNT; k++) {
                o->topics[k] = gen_default_topics[k];
        }
}

/*
 * Takes the topic of each generated kind from contract @p c (borrowed; the
 * strings must outlive the generator). Returns the name of a kind the
 * contract does not read from a single-kind topic, or NULL when all set.
 */
__attribute__((unused)) static const char *
gen_topics_from(gen_opts_t *o, const red_contract_t *c)
{
        for (int k = 0; k < GEN_KIND_CNT; k++) {
                const char *topic = NULL;
                for (size_t i = 0; i < c->kind_cnt && !topic; i++) {
                        if (strcmp(c->kinds[i].name, gen_kind_names[k])) {
                                continue;
                        }
                        for (size_t j = 0; j < c->input_cnt; j++) {
                                if (c->inputs[j].default_kind == (int)i) {
                                        topic = c->inputs[j].topic;
                                        break;
                                }
                        }
                }
                if (!topic) {
                        return gen_kind_names[k];
                }
                o->topics[k] = topic;
        }
        return NULL;
}

/* ------------------------------------------------------------------ */
/* random numbers: splitmix64 seeding xoshiro256**                     */
/* ------------------------------------------------------------------ */

typedef struct gen_rng_s {
        uint64_t s[4];
} gen_rng_t;

static uint64_t gen_splitmix(uint64_t *x)
{
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static void gen_rng_seed(gen_rng_t *r, uint64_t seed)
{
        for (int i = 0; i < 4; i++) {
                r->s[i] = gen_splitmix(&seed);
        }
}

static inline uint64_t gen_rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static inline uint64_t gen_u64(gen_rng_t *r)
{
        uint64_t *s = r->s;
        uint64_t out = gen_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = gen_rotl(s[3], 45);
        return out;
}

/* Uniform in [0, n) (Lemire's multiply, no division). */
static inline uint32_t gen_below(gen_rng_t *r, uint32_t n)
{
        return (uint32_t)(((gen_u64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline int64_t gen_range(gen_rng_t *r, int64_t lo, int64_t hi)
{
        return lo + (int64_t)((gen_u64(r) >> 11) % (uint64_t)(hi - lo + 1));
}

/* True with probability permille / 1000. */
static inline bool gen_chance(gen_rng_t *r, uint32_t permille)
{
        return gen_below(r, 1000) < permille;
}

/*
 * An exponential-ish positive integer with mean about @p mean, from a
 * table-free integer recipe (stays bit-identical on every platform):
 * the sum of a uniform and a halving series.
 */
static int64_t gen_spread(gen_rng_t *r, int64_t mean)
{
        int64_t v = gen_range(r, mean / 4, mean);

        while (gen_below(r, 2)) {
                v += gen_range(r, 0, mean / 2);
        }
        return v;
}

/* ------------------------------------------------------------------ */
/* Kafka's default partitioner (murmur2), as the Java client does it   */
/* ------------------------------------------------------------------ */

static uint32_t gen_murmur2(const void *data, size_t len)
{
        const uint32_t m = 0x5bd1e995;
        const int r = 24;
        const unsigned char *p = data;
        uint32_t h = 0x9747b28c ^ (uint32_t)len;

        while (len >= 4) {
                uint32_t k = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                             (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
                k *= m;
                k ^= k >> r;
                k *= m;
                h *= m;
                h ^= k;
                p += 4;
                len -= 4;
        }
        switch (len) {
        case 3:
                h ^= (uint32_t)p[2] << 16;
                /* fall through */
        case 2:
                h ^= (uint32_t)p[1] << 8;
                /* fall through */
        case 1:
                h ^= p[0];
                h *= m;
                break;
        default:
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return h;
}

/* The partition a Java producer's default partitioner picks for @p key. */
static int32_t gen_partition_of(const char *key, size_t len, int partitions)
{
        return (int32_t)((gen_murmur2(key, len) & 0x7fffffff) %
                         (uint32_t)partitions);
}

/* ------------------------------------------------------------------ */
/* text output                                                         */
/* ------------------------------------------------------------------ */

#define GEN_LINE_MAX 4096 /* every line is far shorter */

#define PUT_LIT(p, lit)                                                        \
        do {                                                                   \
                memcpy((p), (lit), sizeof(lit) - 1);                           \
                (p) += sizeof(lit) - 1;                                        \
        } while (0)

static inline char *gen_put(char *p, const char *s, size_t len)
{
        memcpy(p, s, len);
        return p + len;
}

static inline char *gen_puts(char *p, const char *s)
{
        return gen_put(p, s, strlen(s));
}

static char *gen_put_u64(char *p, uint64_t v)
{
        char tmp[20];
        int n = 0;

        do {
                tmp[n++] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        while (n) {
                *p++ = tmp[--n];
        }
        return p;
}

static char *gen_put_i64(char *p, int64_t v)
{
        if (v < 0) {
                *p++ = '-';
                return gen_put_u64(p, (uint64_t)0 - (uint64_t)v);
        }
        return gen_put_u64(p, (uint64_t)v);
}

/* v / 10^decimals with exactly @p decimals digits after the point. */
static char *gen_put_fixed(char *p, int64_t v, int decimals)
{
        static const int64_t pow10[] = {1,     10,     100,    1000,
                                        10000, 100000, 1000000};
        int64_t scale = pow10[decimals];
        uint64_t a;

        if (v < 0) {
                *p++ = '-';
                v = -v;
        }
        a = (uint64_t)v;
        p = gen_put_u64(p, a / (uint64_t)scale);
        *p++ = '.';
        for (int64_t d = scale / 10; d >= 1; d /= 10) {
                *p++ = (char)('0' + a / (uint64_t)d % 10);
        }
        return p;
}

static const char gen_hex[] = "0123456789abcdef";

/* A random version-4 UUID text (36 bytes, no NUL). */
static char *gen_put_uuid(char *p, gen_rng_t *r)
{
        uint64_t hi = gen_u64(r), lo = gen_u64(r);
        unsigned char b[16];

        for (int i = 0; i < 8; i++) {
                b[i] = (unsigned char)(hi >> (8 * i));
                b[8 + i] = (unsigned char)(lo >> (8 * i));
        }
        b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
        b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
        for (int i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10) {
                        *p++ = '-';
                }
                *p++ = gen_hex[b[i] >> 4];
                *p++ = gen_hex[b[i] & 15];
        }
        return p;
}

static char *gen_put2(char *p, int v)
{
        *p++ = (char)('0' + v / 10);
        *p++ = (char)('0' + v % 10);
        return p;
}

/* ------------------------------------------------------------------ */
/* the generator                                                       */
/* ------------------------------------------------------------------ */

static const char *const gen_node_types[] = {"effect", "compute", "reducer",
                                             "orchestrator"};
static const char *const gen_domains[] = {
        "api",           "ml",     "data", "infrastructure", "testing",
        "documentation", "unknown"};
static const char *const gen_stage_names[8] = {"prompt_parsing",
                                               "intelligence_gathering",
                                               "contract_building",
                                               "code_generation",
                                               "event_bus_integration",
                                               "validation",
                                               "refinement",
                                               "file_writing"};
/* Typical stage durations in ms; code generation dominates. */
static const int64_t gen_stage_ms[8] = {1200, 3400, 2100, 15000,
                                        1800, 4200, 6500, 600};
static const char *const gen_errors[] = {
        "timeout after 30s", "LLM quota exceeded",
        "validation failed: 3 errors", "contract \\\"x\\\" not found",
        "r\\u00e9seau indisponible"};

/*
 * Poison variants (see gen_poison()) and the dead-letter code each gets
 * from contracts/codegen_metrics.yaml, whatever the kind it replaces.
 * Every poisoned line still holds "_topic", "_key" and "_partition": as
 * members when the line is a JSON object, else as text (a tool can find
 * them with a plain search; a JSON parser cannot read those lines).
 */
enum {
        GEN_P_TRUNCATED,     /* invalid_json: the closing brace is missing */
        GEN_P_BAD_UTF8,      /* invalid_json: 0xc3 0x28 in a string */
        GEN_P_NAN,           /* invalid_json: a NaN token */
        GEN_P_NOT_OBJECT,    /* not_an_object: an array */
        GEN_P_UNKNOWN_TYPE,  /* unknown_event_type */
        GEN_P_MISSING_ID,    /* missing_field: no workflow_id */
        GEN_P_BAD_UUID,      /* wrong_type: workflow_id not a UUID */
        GEN_P_WRONG_TYPE,    /* wrong_type: strings for numbers, ... */
        GEN_P_OUT_OF_RANGE,  /* out_of_range (not_allowed for started) */
        GEN_P_NOT_ALLOWED,   /* not_allowed (wrong_type for stages) */
        GEN_P_BAD_TIME,      /* invalid_timestamp */
        GEN_P_FUTURE,        /* future_timestamp: 400 days ahead */
        GEN_P_NULL_REQUIRED, /* missing_field: workflow_id null */
        GEN_P_MISSING_TYPE,  /* missing_event_type: workflow topic */
        GEN_P_FRACTION,      /* wrong_type: 2.5 for an integer, ... */
        GEN_P__CNT
};

typedef struct gen_wf_s {
        char id[36];
        char corr[36];
        int32_t partition;
        uint8_t node_type, domain;
        uint8_t stages; /* stage_completed events */
        uint8_t step;   /* next: 0 started, 1..stages, stages+1 end */
        bool fails, late, anonymous_end;
        red_time_t started; /* time of the started event */
        red_time_t t;       /* time of the next event */
        red_time_t delay;   /* late workflows: delivered this much later */
        int64_t tokens;     /* totals of the stages so far */
        int64_t cost_micro;
        uint64_t seq; /* tie-break: start order */
} gen_wf_t;

typedef struct gen_s {
        gen_opts_t o;
        gen_rng_t rng;
        uint64_t emitted;
        red_time_t next_start;
        int64_t gap_us; /* mean time between workflow starts */
        uint64_t started;
        gen_wf_t *pool; /* workflows; free ones chained via free_list */
        uint32_t *free_list;
        size_t free_cnt, pool_cap;
        uint32_t *heap; /* pool indexes, by delivery time */
        size_t heap_cnt;
        int64_t day; /* cached date text */
        char day_text[10];
        char buf[GEN_LINE_MAX];
} gen_t;

/* The mean number of lines per workflow (see gen_wf_open()). */
#define GEN_LINES_PER_WF 7.85

static red_time_t gen_due(const gen_wf_t *w)
{
        return w->t + w->delay;
}

static bool gen_before(const gen_t *g, uint32_t a, uint32_t b)
{
        const gen_wf_t *x = &g->pool[a], *y = &g->pool[b];
        red_time_t dx = gen_due(x), dy = gen_due(y);

        return dx != dy ? dx < dy : x->seq < y->seq;
}

static void gen_heap_push(gen_t *g, uint32_t idx)
{
        size_t i = g->heap_cnt++;

        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (!gen_before(g, idx, g->heap[parent])) {
                        break;
                }
                g->heap[i] = g->heap[parent];
                i = parent;
        }
        g->heap[i] = idx;
}

static uint32_t gen_heap_pop(gen_t *g)
{
        uint32_t top = g->heap[0], last = g->heap[--g->heap_cnt];
        size_t i = 0, n = g->heap_cnt;

        for (;;) {
                size_t c = 2 * i + 1;
                if (c >= n) {
                        break;
                }
                if (c + 1 < n && gen_before(g, g->heap[c + 1], g->heap[c])) {
                        c++;
                }
                if (!gen_before(g, g->heap[c], last)) {
                        break;
                }
                g->heap[i] = g->heap[c];
                i = c;
        }
        if (n) {
                g->heap[i] = last;
        }
        return top;
}

static void gen_destroy(gen_t *g)
{
        if (!g) {
                return;
        }
        free(g->pool);
        free(g->free_list);
        free(g->heap);
        free(g);
}

/* NULL on OOM or bad options. Destroy with gen_destroy(). */
static gen_t *gen_new(const gen_opts_t *o)
{
        gen_t *g;
        double wfs;

        if (o->partitions < 1 || o->poison_permille < 0 ||
            o->poison_permille > 1000 || o->late_permille < 0 ||
            o->late_permille > 1000 ||
            (o->workflows_per_hour <= 0 && o->days <= 0)) {
                return NULL;
        }
        if (!(g = calloc(1, sizeof(*g)))) {
                return NULL;
        }
        g->o = *o;
        gen_rng_seed(&g->rng, o->seed);
        g->next_start = o->start;
        g->day = INT64_MIN;
        if (o->workflows_per_hour > 0) {
                g->gap_us = (int64_t)(3600e6 / o->workflows_per_hour);
        } else {
                wfs = (double)(o->events ? o->events : 1) / GEN_LINES_PER_WF;
                g->gap_us = (int64_t)(o->days * 86400e6 / wfs);
        }
        if (g->gap_us < 1000) {
                g->gap_us = 1000;
        }
        return g;
}

/* A slot for a new workflow; UINT32_MAX on OOM. */
static uint32_t gen_wf_alloc(gen_t *g)
{
        if (!g->free_cnt) {
                size_t ncap = g->pool_cap ? g->pool_cap * 2 : 1024;
                gen_wf_t *np = realloc(g->pool, ncap * sizeof(*np));
                uint32_t *nf, *nh;
                if (!np) {
                        return UINT32_MAX;
                }
                g->pool = np;
                if (!(nf = realloc(g->free_list, ncap * sizeof(*nf))) ||
                    (g->free_list = nf,
                     !(nh = realloc(g->heap, ncap * sizeof(*nh))))) {
                        return UINT32_MAX;
                }
                g->heap = nh;
                for (size_t i = ncap; i > g->pool_cap; i--) {
                        g->free_list[g->free_cnt++] = (uint32_t)(i - 1);
                }
                g->pool_cap = ncap;
        }
        return g->free_list[--g->free_cnt];
}

/* Opens the next workflow: 90 % complete after 4..8 stages (so the FSM
 * reaches validating), 10 % fail at one of 1..8 stages. */
static int gen_wf_open(gen_t *g)
{
        uint32_t idx = gen_wf_alloc(g);
        gen_rng_t *r = &g->rng;
        gen_wf_t *w;

        if (idx == UINT32_MAX) {
                return -1;
        }
        w = &g->pool[idx];
        memset(w, 0, sizeof(*w));
        gen_put_uuid(w->id, r);
        gen_put_uuid(w->corr, r);
        w->partition = gen_partition_of(w->id, 36, g->o.partitions);
        w->node_type = (uint8_t)gen_below(r, 4);
        w->domain = (uint8_t)gen_below(r, 7);
        w->fails = gen_chance(r, 100);
        w->stages =
                (uint8_t)(w->fails ? gen_range(r, 1, 8) : gen_range(r, 4, 8));
        w->anonymous_end = gen_chance(r, 300);
        w->late = g->o.late_permille &&
                  gen_chance(r, (uint32_t)g->o.late_permille);
        if (w->late) {
                /* beyond max_out_of_orderness + grace, within allowed_lateness
                 */
                w->delay = gen_range(r, 3600, 6 * 3600) * RED_TIME_US_PER_SEC;
        }
        /* millisecond times, so the text has three decimals at most */
        w->started = w->t = g->next_start / 1000 * 1000;
        w->seq = g->started++;
        g->next_start += gen_range(r, 0, 2 * g->gap_us);
        gen_heap_push(g, idx);
        return 0;
}

/* ISO-8601 time in one of the accepted spellings. */
static char *gen_put_time(gen_t *g, char *p, red_time_t t, uint32_t style)
{
        int64_t day = t >= 0 ? t / RED_TIME_US_PER_DAY
                             : -((-t - 1) / RED_TIME_US_PER_DAY) - 1;
        int64_t tod = t - day * RED_TIME_US_PER_DAY;
        int64_t secs = tod / RED_TIME_US_PER_SEC;
        int ms = (int)(tod % RED_TIME_US_PER_SEC / 1000);

        if (day != g->day) {
                red_civil_t c;
                red_time_to_civil(day * RED_TIME_US_PER_DAY, &c);
                g->day = day;
                g->day_text[0] = (char)('0' + c.year / 1000 % 10);
                g->day_text[1] = (char)('0' + c.year / 100 % 10);
                gen_put2(g->day_text + 2, c.year % 100);
                g->day_text[4] = '-';
                gen_put2(g->day_text + 5, c.month);
                g->day_text[7] = '-';
                gen_put2(g->day_text + 8, c.day);
        }
        p = gen_put(p, g->day_text, 10);
        *p++ = 'T';
        p = gen_put2(p, (int)(secs / 3600));
        *p++ = ':';
        p = gen_put2(p, (int)(secs / 60 % 60));
        *p++ = ':';
        p = gen_put2(p, (int)(secs % 60));
        if (ms) {
                *p++ = '.';
                *p++ = (char)('0' + ms / 100);
                p = gen_put2(p, ms % 100);
        }
        if (style < 8) {
                *p++ = 'Z';
        } else if (style == 8) {
                PUT_LIT(p, "+00:00");
        } /* 9: no zone, which means UTC */
        return p;
}

/* One string member: ,"name":"value" (value needs no escaping). */
static char *gen_member(char *p, const char *name, const char *value)
{
        *p++ = ',';
        *p++ = '"';
        p = gen_puts(p, name);
        PUT_LIT(p, "\":\"");
        p = gen_puts(p, value);
        *p++ = '"';
        return p;
}

static char *gen_member_num(char *p, const char *name, int64_t v)
{
        *p++ = ',';
        *p++ = '"';
        p = gen_puts(p, name);
        PUT_LIT(p, "\":");
        return gen_put_i64(p, v);
}

static char *gen_member_fixed(char *p, const char *name, int64_t v,
                              int decimals)
{
        *p++ = ',';
        *p++ = '"';
        p = gen_puts(p, name);
        PUT_LIT(p, "\":");
        return gen_put_fixed(p, v, decimals);
}

/*
 * Writes the payload members of the workflow's next event (the first
 * without a comma) and advances the workflow's clock past it.
 */
static char *gen_payload(gen_t *g, gen_wf_t *w, int kind, char *p)
{
        gen_rng_t *r = &g->rng;
        int stage = w->step - 1;

        PUT_LIT(p, "\"workflow_id\":\"");
        p = gen_put(p, w->id, 36);
        *p++ = '"';
        switch (kind) {
        case GEN_STARTED:
                p = gen_member(p, "node_type", gen_node_types[w->node_type]);
                p = gen_member(p, "domain", gen_domains[w->domain]);
                if (gen_chance(r, 200)) {
                        PUT_LIT(p, ",\"prompt\":\"Cr\\u00e9er un n\xc5\x93ud "
                                   "\\\"effect\\\" \xe2\x9c\x93\"");
                }
                w->t += gen_range(r, 50, 400) * 1000;
                break;
        case GEN_STAGE: {
                int64_t ms = gen_spread(r, gen_stage_ms[stage]);
                int64_t tokens = gen_range(r, 100, 5000);
                int64_t cost = tokens * gen_range(r, 2, 30); /* micro-$ */
                bool ok = !(w->fails && w->step == w->stages);
                p = gen_member(p, "stage_name", gen_stage_names[stage]);
                p = gen_member_num(p, "stage_number", stage + 1);
                if (gen_below(r, 2)) {
                        p = gen_member_num(p, "duration_ms", ms);
                } else {
                        p = gen_member_fixed(p, "duration_seconds", ms, 3);
                }
                if (ok) {
                        PUT_LIT(p, ",\"success\":true");
                } else {
                        PUT_LIT(p, ",\"success\":false");
                }
                p = gen_member_num(p, "tokens_consumed", tokens);
                p = gen_member_fixed(p, "cost_usd", cost, 6);
                w->tokens += tokens;
                w->cost_micro += cost;
                w->t += ms * 1000 + gen_range(r, 1, 250) * 1000;
                break;
        }
        case GEN_COMPLETED: {
                int64_t q = gen_range(r, 350, 1000); /* all three buckets */
                if (!w->anonymous_end) {
                        p = gen_member(p, "node_type",
                                       gen_node_types[w->node_type]);
                        p = gen_member(p, "domain", gen_domains[w->domain]);
                }
                p = gen_member_fixed(p, "total_duration_seconds",
                                     (w->t - w->started) / 1000, 3);
                if (q == 1000) {
                        PUT_LIT(p, ",\"quality_score\":1");
                } else {
                        p = gen_member_fixed(p, "quality_score", q, 3);
                }
                if (gen_below(r, 8)) {
                        p = gen_member_num(p, "total_tokens", w->tokens);
                        p = gen_member_fixed(p, "total_cost_usd", w->cost_micro,
                                             6);
                }
                break;
        }
        case GEN_FAILED:
                if (!w->anonymous_end) {
                        p = gen_member(p, "node_type",
                                       gen_node_types[w->node_type]);
                        p = gen_member(p, "domain", gen_domains[w->domain]);
                }
                p = gen_member(p, "failed_stage",
                               gen_stage_names[w->stages - 1]);
                PUT_LIT(p, ",\"error_message\":\"Stage failed: ");
                p = gen_puts(p, gen_errors[gen_below(r, 5)]);
                *p++ = '"';
                break;
        default:
                break;
        }
        return p;
}

static const char *const gen_types[GEN_KIND_CNT][2] = {
        {"NODE_GENERATION_STARTED", "CODEGEN_STARTED"},
        {"NODE_GENERATION_STAGE_COMPLETED", "CODEGEN_STAGE_COMPLETED"},
        {"NODE_GENERATION_COMPLETED", "CODEGEN_COMPLETED"},
        {"NODE_GENERATION_FAILED", "CODEGEN_FAILED"},
};

/* The Kafka metadata members and the closing brace. */
static char *gen_meta(gen_t *g, const gen_wf_t *w, const char *topic, char *p)
{
        if (g->o.meta) {
                p = gen_member(p, "_topic", topic);
                PUT_LIT(p, ",\"_key\":\"");
                p = gen_put(p, w->id, 36);
                PUT_LIT(p, "\",\"_partition\":");
                p = gen_put_u64(p, (uint64_t)w->partition);
        }
        *p++ = '}';
        return p;
}

/* A well-formed event of @p kind for @p w; returns the end of the text. */
static char *gen_event(gen_t *g, gen_wf_t *w, int kind, red_time_t t, char *p)
{
        gen_rng_t *r = &g->rng;
        uint32_t shape = gen_below(r, 1000);
        bool flat = shape < 300, no_type = shape >= 970;

        PUT_LIT(p, "{\"event_id\":\"");
        p = gen_put_uuid(p, r);
        *p++ = '"';
        if (!no_type) {
                PUT_LIT(p, ",\"event_type\":\"");
                p = gen_puts(p, gen_types[kind][gen_below(r, 5) < 2]);
                *p++ = '"';
        }
        PUT_LIT(p, ",\"event_version\":\"1.0\"");
        if (gen_below(r, 2)) {
                PUT_LIT(p, ",\"timestamp\":\"");
        } else {
                PUT_LIT(p, ",\"event_timestamp\":\"");
        }
        p = gen_put_time(g, p, t, gen_below(r, 10));
        PUT_LIT(p, "\",\"correlation_id\":\"");
        p = gen_put(p, w->corr, 36);
        PUT_LIT(p, "\",\"source_service\":\"omninode-bridge\"");
        if (flat) {
                *p++ = ',';
                p = gen_payload(g, w, kind, p);
        } else {
                PUT_LIT(p, ",\"payload\":{");
                p = gen_payload(g, w, kind, p);
                *p++ = '}';
        }
        return gen_meta(g, w, g->o.topics[kind], p);
}

/*
 * A bad line in place of @p w's next event. The workflow still advances
 * (the good event is lost, as a broken producer would lose it).
 */
static char *gen_poison(gen_t *g, gen_wf_t *w, int kind, red_time_t t,
                        int variant, char *p)
{
        char *start = p;
        const char *topic = g->o.topics[kind];

        switch (variant) {
        case GEN_P_TRUNCATED:
                /* a good event without its last byte, the closing brace
                 * (the metadata members are still there as text) */
                p = gen_event(g, w, kind, t, p);
                return p - 1;
        case GEN_P_BAD_UTF8:
                p = gen_event(g, w, kind, t, p);
                memmove(start + 32, start + 30, (size_t)(p - start - 30));
                p += 2;
                start[30] = (char)0xc3; /* a lead byte and ... */
                start[31] = (char)0x28; /* ... no continuation */
                return p;
        case GEN_P_NAN:
                PUT_LIT(p, "{\"event_type\":\"NODE_GENERATION_COMPLETED\","
                           "\"timestamp\":\"");
                p = gen_put_time(g, p, t, 0);
                PUT_LIT(p, "\",\"payload\":{\"workflow_id\":\"");
                p = gen_put(p, w->id, 36);
                PUT_LIT(p, "\",\"total_duration_seconds\":NaN,"
                           "\"quality_score\":0.5}");
                return gen_meta(g, w, topic, p);
        case GEN_P_NOT_OBJECT:
                /* an array; its object holds the metadata members */
                PUT_LIT(p, "[\"NODE_GENERATION_STARTED\",{\"workflow_id\":\"");
                p = gen_put(p, w->id, 36);
                *p++ = '"';
                p = gen_meta(g, w, topic, p);
                *p++ = ']';
                return p;
        default:
                break;
        }
        PUT_LIT(p, "{\"event_id\":\"");
        p = gen_put_uuid(p, &g->rng);
        *p++ = '"';
        if (variant == GEN_P_UNKNOWN_TYPE) {
                PUT_LIT(p, ",\"event_type\":\"NODE_GENERATION_EXPLODED\"");
        } else if (variant == GEN_P_MISSING_TYPE) {
                topic = "dev.omninode-bridge.codegen.workflow.v1";
        } else {
                PUT_LIT(p, ",\"event_type\":\"");
                p = gen_puts(p, gen_types[kind][0]);
                *p++ = '"';
        }
        PUT_LIT(p, ",\"timestamp\":");
        if (variant == GEN_P_BAD_TIME) {
                PUT_LIT(p, "\"yesterday at noon\"");
        } else {
                *p++ = '"';
                p = gen_put_time(g, p,
                                 variant == GEN_P_FUTURE
                                         ? t + 400 * RED_TIME_US_PER_DAY
                                         : t,
                                 0);
                *p++ = '"';
        }
        PUT_LIT(p, ",\"payload\":{");
        switch (variant) {
        case GEN_P_MISSING_ID:
                PUT_LIT(p, "\"node_type\":\"effect\",\"domain\":\"api\"");
                break;
        case GEN_P_BAD_UUID:
                PUT_LIT(p, "\"workflow_id\":\"wf-");
                p = gen_put(p, w->id, 8);
                *p++ = '"';
                break;
        case GEN_P_NULL_REQUIRED:
                PUT_LIT(p, "\"workflow_id\":null");
                break;
        default:
                PUT_LIT(p, "\"workflow_id\":\"");
                p = gen_put(p, w->id, 36);
                *p++ = '"';
                break;
        }
        /* every variant is bad for every kind (tests check this) */
        switch (variant) {
        case GEN_P_WRONG_TYPE:
                PUT_LIT(p, ",\"node_type\":5,\"stage_name\":\"prompt_parsing\","
                           "\"stage_number\":\"one\",\"duration_ms\":5,"
                           "\"success\":\"yes\",\"total_duration_seconds\":"
                           "\"fast\",\"quality_score\":\"high\","
                           "\"failed_stage\":7");
                break;
        case GEN_P_OUT_OF_RANGE:
                PUT_LIT(p, ",\"stage_name\":\"validation\",\"stage_number\":9,"
                           "\"duration_ms\":-5,\"success\":true,"
                           "\"total_duration_seconds\":-1,"
                           "\"quality_score\":1.7,\"failed_stage\":\"\"");
                if (kind == GEN_STARTED) {
                        /* started has no ranges: an enum miss instead */
                        PUT_LIT(p, ",\"node_type\":\"quantum\"");
                }
                break;
        case GEN_P_NOT_ALLOWED:
                PUT_LIT(p, ",\"node_type\":\"quantum\",\"domain\":\"api\","
                           "\"stage_name\":\"x\",\"stage_number\":1,"
                           "\"duration_ms\":5,\"success\":true,"
                           "\"total_duration_seconds\":1,"
                           "\"quality_score\":0.5,\"failed_stage\":\"x\"");
                if (kind == GEN_STAGE) {
                        /* stage events carry no enum: make it a type error */
                        PUT_LIT(p, ",\"tokens_consumed\":1.5");
                }
                break;
        case GEN_P_FRACTION:
                PUT_LIT(p, ",\"stage_name\":\"x\",\"stage_number\":2.5,"
                           "\"duration_ms\":5,\"success\":true,"
                           "\"total_duration_seconds\":1,"
                           "\"quality_score\":0.5,\"total_tokens\":10.25,"
                           "\"failed_stage\":\"x\"");
                if (kind == GEN_STARTED || kind == GEN_FAILED) {
                        PUT_LIT(p, ",\"node_type\":7.5");
                }
                break;
        default:
                /* a complete event otherwise */
                PUT_LIT(p, ",\"node_type\":\"compute\",\"domain\":\"ml\","
                           "\"stage_name\":\"validation\",\"stage_number\":6,"
                           "\"duration_ms\":5,\"success\":true,"
                           "\"total_duration_seconds\":1,"
                           "\"quality_score\":0.5,\"failed_stage\":\"x\"");
                break;
        }
        *p++ = '}';
        return gen_meta(g, w, topic, p);
}

/* The kind of the workflow's next event. */
static int gen_wf_kind(const gen_wf_t *w)
{
        if (w->step == 0) {
                return GEN_STARTED;
        }
        if (w->step <= w->stages) {
                return GEN_STAGE;
        }
        return w->fails ? GEN_FAILED : GEN_COMPLETED;
}

/*
 * The next line, or false after opts.events lines (or on OOM, which
 * leaves *line empty). The text stays valid until the next call.
 */
static bool gen_next(gen_t *g, gen_line_t *line)
{
        gen_rng_t *r = &g->rng;
        uint32_t idx;
        gen_wf_t *w;
        int kind, variant = -1;
        red_time_t t;
        char *end;

        memset(line, 0, sizeof(*line));
        if (g->emitted >= g->o.events) {
                return false;
        }
        /* start every workflow due before the earliest pending event */
        while (!g->heap_cnt || g->next_start <= gen_due(&g->pool[g->heap[0]])) {
                if (gen_wf_open(g)) {
                        return false;
                }
        }
        idx = gen_heap_pop(g);
        w = &g->pool[idx];
        kind = gen_wf_kind(w);
        t = w->t;
        if (g->o.poison_permille &&
            gen_chance(r, (uint32_t)g->o.poison_permille)) {
                variant = (int)gen_below(r, GEN_P__CNT);
                /* keep the workflow's clock where a good event moves it */
                char scratch[GEN_LINE_MAX];
                gen_wf_t copy = *w;
                (void)gen_payload(g, &copy, kind, scratch);
                end = gen_poison(g, w, kind, t, variant, g->buf);
                w->t = copy.t;
                w->tokens = copy.tokens;
                w->cost_micro = copy.cost_micro;
        } else {
                end = gen_event(g, w, kind, t, g->buf);
        }
        line->text = g->buf;
        line->len = (size_t)(end - g->buf);
        line->topic = variant == GEN_P_MISSING_TYPE
                              ? "dev.omninode-bridge.codegen.workflow.v1"
                              : g->o.topics[kind];
        line->key = w->id;
        line->key_len = 36;
        line->partition = w->partition;
        line->time = t;
        line->kind = kind;
        line->poison = variant + 1;
        line->late = w->late;
        g->emitted++;
        if (kind == GEN_FAILED || kind == GEN_COMPLETED) {
                g->free_list[g->free_cnt++] = idx;
        } else {
                w->step++;
                gen_heap_push(g, idx);
        }
        return true;
}
