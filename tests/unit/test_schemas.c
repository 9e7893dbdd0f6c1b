/*
 * The JSON Schemas of contracts/schemas/ agree with the shipped contracts
 * and the decoder, for every contract under contracts/: generated from the
 * current contracts; valid and invalid sample events judged the same by
 * Python's jsonschema (Draft202012Validator) and by `reducerd reduce`
 * (accepted = no dead letter), the samples covering every field's type,
 * bounds and enum; and every example of the README's "Producing events"
 * section parses, the JSON events being accepted by both, and the agent
 * metric programs, run with stand-in clients, send only events both accept.
 */
#include "red_test.h"

#include "red_contract.h"

#include <glob.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PYTHON    "/usr/bin/python3"
#define README_MD "README.md"
/* the section test_schemas and test_producers check, up to the next "## " */
#define SECTION "## Producing events"
/* stand-ins for kcat and confluent-kafka that record what they send */
#define STUBS "tests/data/producers/stubs"
/* the samples' clock: their event times are 2025-11-06T10:xx */
#define SAMPLES_NOW "2025-11-06T12:00:00Z"
/* the Kafka message timestamp `reduce` gives every sample */
#define KAFKA_TIME "2025-11-06T10:30:00Z"
/* the fewest samples a contract may have */
#define MIN_SAMPLES 50

/* The shipped contracts and their samples. */
typedef struct shipped_s {
        const char *name;    /* contracts/<name>.yaml */
        const char *samples; /* lines of {"name", "kind", "valid", ...} */
        /* samples whose "schema" verdict differs from "valid": the
         * differences contracts/schemas/README.md documents, and no more */
        size_t max_differences;
} shipped_t;

static const shipped_t shipped[] = {
        {"codegen_metrics", "tests/data/producers/samples.jsonl", 6},
        {"agent_metrics", "tests/data/producers/agent_samples.jsonl", 3},
        {"node_registry", "tests/data/producers/registry_samples.jsonl", 1},
};
#define SHIPPED_CNT (sizeof(shipped) / sizeof(shipped[0]))

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static void contract_path(const shipped_t *sc, char *buf, size_t size)
{
        char rel[256];

        snprintf(rel, sizeof(rel), "contracts/%s.yaml", sc->name);
        snprintf(buf, size, "%s", test_path(rel));
}

static red_contract_t *load_contract(const shipped_t *sc)
{
        char err[1024], path[4096];
        red_contract_t *c;

        contract_path(sc, path, sizeof(path));
        c = red_contract_load(path, err, sizeof(err));
        ck_assert_msg(c != NULL, "%s", err);
        return c;
}

/* The topic a kind is read from (its first input). */
static const char *topic_of(const red_contract_t *c, const red_kind_t *k)
{
        for (size_t i = 0; i < c->input_cnt; i++) {
                if (c->inputs[i].kinds & (UINT64_C(1) << k->index)) {
                        return c->inputs[i].topic;
                }
        }
        ck_abort_msg("kind %s has no input topic", k->name);
        return NULL;
}

static const red_kind_t *kind_named(const red_contract_t *c, const char *name)
{
        for (size_t i = 0; name && i < c->kind_cnt; i++) {
                if (!strcmp(c->kinds[i].name, name)) {
                        return &c->kinds[i];
                }
        }
        ck_abort_msg("no event kind %s in contract %s", name ? name : "(null)",
                     c->name);
        return NULL;
}

/* An executable found in PATH (malloc'd), or NULL. */
static char *in_path(const char *name)
{
        const char *path = getenv("PATH");
        char *copy, *dir, *save = NULL, *found = NULL;

        if (!path) {
                return NULL;
        }
        copy = strdup(path);
        for (dir = strtok_r(copy, ":", &save); dir && !found;
             dir = strtok_r(NULL, ":", &save)) {
                char *p;
                ck_assert_int_gt(asprintf(&p, "%s/%s", dir, name), 0);
                if (access(p, X_OK) == 0) {
                        found = p;
                } else {
                        free(p);
                }
        }
        free(copy);
        return found;
}

/* Removes a test_tmpdir() and frees its path. */
static void remove_dir(char *dir)
{
        const char *argv[] = {"/bin/rm", "-rf", dir, NULL};

        if (!getenv("RED_KEEP_TEST_DIRS")) {
                ck_assert_int_eq(test_run(argv, NULL, NULL, NULL), 0);
        }
        free(dir);
}

/* Appends one compact JSON line to @p fp. */
static void put_line(FILE *fp, json_t *v)
{
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

        ck_assert_ptr_nonnull(s);
        fprintf(fp, "%s\n", s);
        free(s);
}

/*
 * A message as `reducerd reduce` reads it: the event plus the Kafka
 * metadata members (its own partition, so that lateness never depends on
 * the other events); @p key NULL: no key.
 */
static json_t *as_message(json_t *event, const char *topic, const char *key,
                          size_t i)
{
        json_t *m = json_deep_copy(event);

        if (!json_is_object(m)) {
                return m;
        }
        json_object_set_new(m, "_topic", json_string(topic));
        if (key) {
                json_object_set_new(m, "_key", json_string(key));
        }
        json_object_set_new(m, "_partition", json_integer((json_int_t)i));
        json_object_set_new(m, "_timestamp", json_string(KAFKA_TIME));
        return m;
}

/* The key a sample is sent with: "sample-<i>" when the contract keys its
 * events (by workflow), else none, as the agent-metric producers send. */
static const char *sample_key(const red_contract_t *c, size_t i, char *buf,
                              size_t size)
{
        if (c->workflow_key_slot < 0) {
                return NULL;
        }
        snprintf(buf, size, "sample-%zu", i);
        return buf;
}

/*
 * Runs `reducerd reduce` with @p contract over @p file; returns an array
 * with, per input line, the dead letter's code (string) or null when
 * accepted, followed by the dead letters themselves. Checks the summary
 * counts every line.
 */
static json_t *reduce_verdicts(const char *contract, const char *file,
                               size_t lines, const char *now)
{
        const char *argv[] = {
                test_bin(), "reduce", "--contract",         contract,
                "--input",  file,     now ? "--now" : NULL, now,
                NULL};
        json_t *out = json_array(), *sum = NULL;
        char *text, *err, *p, *nl;
        int rc = test_run(argv, NULL, &text, &err);

        ck_assert_msg(rc == 0, "reduce: %s", err);
        for (size_t i = 0; i < lines; i++) {
                json_array_append_new(out, json_null());
        }
        for (p = text; *p; p = nl + 1) {
                json_t *row, *dl;
                nl = strchr(p, '\n');
                ck_assert_ptr_nonnull(nl);
                row = json_loadb(p, (size_t)(nl - p), 0, NULL);
                ck_assert_ptr_nonnull(row);
                if ((dl = json_object_get(row, "dead_letter"))) {
                        /* offsets are line numbers, from 1 */
                        json_int_t off = json_integer_value(
                                json_object_get(dl, "offset"));
                        ck_assert(off >= 1 && (size_t)off <= lines);
                        json_array_set(out, (size_t)off - 1,
                                       json_object_get(dl, "error_code"));
                        json_array_append(out, dl); /* details, after */
                } else if (json_object_get(row, "summary")) {
                        sum = json_incref(json_object_get(row, "summary"));
                }
                json_decref(row);
        }
        ck_assert_msg(sum != NULL, "reduce printed no summary");
        ck_assert_int_eq(json_integer_value(json_object_get(sum, "consumed")),
                         (json_int_t)lines);
        json_decref(sum);
        free(text);
        free(err);
        return out;
}

/* The detail reduce gave line @p i, for messages. */
static const char *reduce_detail(json_t *verdicts, size_t lines, size_t i)
{
        for (size_t k = lines; k < json_array_size(verdicts); k++) {
                json_t *dl = json_array_get(verdicts, k);
                if ((size_t)json_integer_value(json_object_get(dl, "offset")) ==
                    i + 1) {
                        return json_string_value(
                                json_object_get(dl, "error_detail"));
                }
        }
        return "";
}

/* Runs the Python validator with the schemas of contract @p name over
 * @p cases; one verdict line per case. */
static char **schema_verdicts(const char *name, const char *cases, size_t lines)
{
        const char *argv[] = {PYTHON,
                              test_path("tests/tools/schema_check.py"),
                              test_path("contracts/schemas"),
                              name,
                              cases,
                              NULL};
        char *out, *err, *p, **v = calloc(lines + 1, sizeof(*v));
        size_t n = 0;
        int rc = test_run(argv, NULL, &out, &err);

        ck_assert_msg(rc == 0,
                      "schema_check.py failed (needs Debian's "
                      "python3-jsonschema): %s",
                      err);
        for (p = strtok(out, "\n"); p; p = strtok(NULL, "\n")) {
                ck_assert_int_lt(n, lines);
                v[n++] = strdup(p);
        }
        ck_assert_int_eq(n, lines);
        free(out);
        free(err);
        return v;
}

static void free_verdicts(char **v)
{
        for (size_t i = 0; v && v[i]; i++) {
                free(v[i]);
        }
        free(v);
}

/* Appends to a growing message. */
static void note(char **msg, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void note(char **msg, const char *fmt, ...)
{
        char *add, *joined;
        va_list ap;

        va_start(ap, fmt);
        ck_assert_int_ge(vasprintf(&add, fmt, ap), 0);
        va_end(ap);
        ck_assert_int_ge(asprintf(&joined, "%s%s", *msg ? *msg : "", add), 0);
        free(add);
        free(*msg);
        *msg = joined;
}

/* ------------------------------------------------------------------ */
/* the schemas are generated from the contracts                        */
/* ------------------------------------------------------------------ */

START_TEST(generated_from_contracts)
{
        const char *argv[16] = {
                PYTHON, test_path("contracts/schemas/generate.py"), "--check"};
        size_t argc = 3;
        glob_t g;
        char *out, *err;
        int rc;

        /* every contract shipped is one of shipped[] (and has samples) */
        ck_assert_int_eq(glob(test_path("contracts/*.yaml"), 0, NULL, &g), 0);
        ck_assert_int_le(g.gl_pathc, sizeof(argv) / sizeof(*argv) - argc - 1);
        for (size_t i = 0; i < g.gl_pathc; i++) {
                const char *base = strrchr(g.gl_pathv[i], '/') + 1;
                bool known = false;
                for (size_t s = 0; s < SHIPPED_CNT; s++) {
                        known |= strlen(base) == strlen(shipped[s].name) + 5 &&
                                 !strncmp(base, shipped[s].name,
                                          strlen(shipped[s].name));
                }
                ck_assert_msg(known,
                              "contracts/%s has no entry in shipped[] of "
                              "tests/test_schemas.c (schemas and samples)",
                              base);
                argv[argc++] = g.gl_pathv[i];
        }
        ck_assert_int_eq(g.gl_pathc, SHIPPED_CNT);
        argv[argc] = NULL;

        /* the envelope is shared: all contracts in one run */
        rc = test_run(argv, NULL, &out, &err);
        ck_assert_msg(rc == 0, "%s%s", out, err);
        ck_assert_ptr_nonnull(strstr(out, "schemas up to date"));
        free(out);
        free(err);
        globfree(&g);
}
END_TEST

/* ------------------------------------------------------------------ */
/* sample events: schema and decoder agree with the expected verdict   */
/* ------------------------------------------------------------------ */

/* The dead-letter codes a producer can cause with contract @p c. */
static bool can_cause(const red_contract_t *c, const char *code)
{
        bool required = false, bounds = false, enums = false, multi = false;

        for (size_t i = 0; i < c->input_cnt; i++) {
                multi |= c->inputs[i].default_kind < 0;
        }
        for (size_t k = 0; k < c->kind_cnt; k++) {
                for (size_t i = 0; i < c->kinds[k].field_cnt; i++) {
                        const red_field_t *f = &c->kinds[k].fields[i];
                        required |= f->required && !f->has_default;
                        bounds |= f->has_min || f->has_max ||
                                  f->min_length > 0 || f->max_length >= 0;
                        enums |= f->enum_cnt > 0;
                }
        }
        if (!strcmp(code, "missing_field")) {
                return required;
        }
        if (!strcmp(code, "out_of_range")) {
                return bounds;
        }
        if (!strcmp(code, "not_allowed")) {
                return enums;
        }
        if (!strcmp(code, "missing_event_type")) {
                return multi;
        }
        return true;
}

/* What the samples must show of one field (bits of seen[] and want[]). */
enum {
        COV_WRONG_TYPE = 1u << 0,  /* wrong_type naming it */
        COV_MISSING = 1u << 1,     /* missing_field naming it */
        COV_BELOW = 1u << 2,       /* out_of_range below min(_length) */
        COV_ABOVE = 1u << 3,       /* out_of_range above max(_length) */
        COV_AT_MIN = 1u << 4,      /* accepted at exactly min(_length) */
        COV_AT_MAX = 1u << 5,      /* accepted at exactly max(_length) */
        COV_NOT_ALLOWED = 1u << 6, /* not_allowed naming it */
        COV_MEMBER = 1u << 7,      /* an object member of the wrong type */
};

static const char *const cov_names[] = {
        "wrong_type",
        "missing_field",
        "out_of_range below the minimum",
        "out_of_range above the maximum",
        "accepted at exactly the minimum",
        "accepted at exactly the maximum",
        "not_allowed",
        "wrong_type of an object member",
};

static unsigned cov_wanted(const red_field_t *f)
{
        unsigned w = COV_WRONG_TYPE;

        if (f->required && !f->has_default) {
                w |= COV_MISSING;
        }
        if (f->has_min || f->min_length > 0) {
                w |= COV_BELOW | COV_AT_MIN;
        }
        if (f->has_max || f->max_length >= 0) {
                w |= COV_ABOVE | COV_AT_MAX;
        }
        if (f->enum_cnt) {
                w |= COV_NOT_ALLOWED;
        }
        if (f->type == RED_FT_OBJECT && f->values != RED_FT_NONE) {
                w |= COV_MEMBER;
        }
        return w;
}

/* The value the decoder reads for @p f from a sample event, or NULL:
 * each input name in a nested payload, then at the top level; @p scale
 * gets the name's unit factor. */
static json_t *field_value(json_t *ev, const red_field_t *f, double *scale)
{
        json_t *payload = json_object_get(ev, "payload");

        for (size_t i = 0; i < f->from_cnt; i++) {
                json_t *v = NULL;
                if (json_is_object(payload)) {
                        v = json_object_get(payload, f->from[i].name);
                }
                if (!v || json_is_null(v)) {
                        v = json_object_get(ev, f->from[i].name);
                }
                if (v && !json_is_null(v)) {
                        *scale = f->from[i].scale;
                        return v;
                }
        }
        return NULL;
}

/* Characters (code points) of a JSON string. */
static size_t chars_of(json_t *s)
{
        const char *p = json_string_value(s);
        size_t len = json_string_length(s), n = 0;

        for (size_t i = 0; i < len; i++) {
                n += ((unsigned char)p[i] & 0xc0) != 0x80;
        }
        return n;
}

/* Where @p v lies against @p f's bounds: COV_BELOW, COV_ABOVE, COV_AT_MIN
 * and/or COV_AT_MAX, or 0. */
static unsigned bound_bits(const red_field_t *f, json_t *v, double scale)
{
        unsigned b = 0;

        if (json_is_string(v) && (f->min_length > 0 || f->max_length >= 0)) {
                int64_t n = (int64_t)chars_of(v);
                if (f->min_length > 0) {
                        b |= n < f->min_length    ? COV_BELOW
                             : n == f->min_length ? COV_AT_MIN
                                                  : 0;
                }
                if (f->max_length >= 0) {
                        b |= n > f->max_length    ? COV_ABOVE
                             : n == f->max_length ? COV_AT_MAX
                                                  : 0;
                }
        } else if (json_is_number(v)) {
                double x = json_number_value(v) * scale;
                if (f->has_min) {
                        b |= x < f->min    ? COV_BELOW
                             : x == f->min ? COV_AT_MIN
                                           : 0;
                }
                if (f->has_max) {
                        b |= x > f->max    ? COV_ABOVE
                             : x == f->max ? COV_AT_MAX
                                           : 0;
                }
        }
        return b;
}

/* Does a dead letter's detail name field @p f ("f: ..." or "f.member: "),
 * or is it the field's own missing_detail? */
static bool names_field(const char *detail, const red_field_t *f)
{
        size_t n = strlen(f->name);

        if (detail && f->missing_detail && !strcmp(detail, f->missing_detail)) {
                return true;
        }
        return detail && !strncmp(detail, f->name, n) &&
               (detail[n] == ':' || detail[n] == '.');
}

/*
 * Every field of the contract is exercised: a wrong type; when required,
 * missing; each bound crossed and met; an enum value not allowed and every
 * allowed one accepted; an object member of the wrong type. @p ok[i]:
 * sample i is accepted by both reducerd and the schema; @p codes[i] the
 * code reducerd gave it, with @p details[i].
 */
static void check_field_coverage(const red_contract_t *c, json_t *samples,
                                 const bool *ok, const char *const *codes,
                                 const char *const *details)
{
        unsigned *seen = calloc(c->slot_cnt, sizeof(*seen));
        unsigned *want = calloc(c->slot_cnt, sizeof(*want));
        uint64_t *enums = calloc(c->slot_cnt, sizeof(*enums));
        const red_field_t **first = calloc(c->slot_cnt, sizeof(*first));
        char *msg = NULL;
        json_t *s;
        size_t i;

        for (size_t k = 0; k < c->kind_cnt; k++) {
                for (size_t j = 0; j < c->kinds[k].field_cnt; j++) {
                        const red_field_t *f = &c->kinds[k].fields[j];
                        if (!first[f->slot]) {
                                first[f->slot] = f;
                        }
                        want[f->slot] |= cov_wanted(f);
                }
        }
        json_array_foreach(samples, i, s)
        {
                json_t *ev = json_object_get(s, "event");
                for (size_t slot = 0; slot < c->slot_cnt; slot++) {
                        const red_field_t *f = first[slot];
                        double scale = 1;
                        json_t *v;
                        if (!f) {
                                continue;
                        }
                        v = json_is_object(ev) ? field_value(ev, f, &scale)
                                               : NULL;
                        if (ok[i] && v) {
                                seen[slot] |= bound_bits(f, v, scale) &
                                              (COV_AT_MIN | COV_AT_MAX);
                                for (size_t e = 0;
                                     e < f->enum_cnt && json_is_string(v);
                                     e++) {
                                        if (!strcmp(json_string_value(v),
                                                    f->enum_values[e])) {
                                                enums[slot] |= UINT64_C(1) << e;
                                        }
                                }
                        }
                        if (!codes[i] || !names_field(details[i], f)) {
                                continue;
                        }
                        if (!strcmp(codes[i], "wrong_type")) {
                                seen[slot] |= details[i][strlen(f->name)] == '.'
                                                      ? COV_MEMBER
                                                      : COV_WRONG_TYPE;
                        } else if (!strcmp(codes[i], "missing_field")) {
                                seen[slot] |= COV_MISSING;
                        } else if (!strcmp(codes[i], "not_allowed")) {
                                seen[slot] |= COV_NOT_ALLOWED;
                        } else if (!strcmp(codes[i], "out_of_range") && v) {
                                seen[slot] |= bound_bits(f, v, scale) &
                                              (COV_BELOW | COV_ABOVE);
                        }
                }
        }
        for (size_t slot = 0; slot < c->slot_cnt; slot++) {
                const red_field_t *f = first[slot];
                unsigned missing = want[slot] & ~seen[slot];
                if (!f) {
                        continue;
                }
                for (size_t b = 0; b < sizeof(cov_names) / sizeof(*cov_names);
                     b++) {
                        if (missing & (1u << b)) {
                                note(&msg, "\n  %s: no sample %s", f->name,
                                     cov_names[b]);
                        }
                }
                ck_assert_int_le(f->enum_cnt, 64);
                for (size_t e = 0; e < f->enum_cnt; e++) {
                        if (!(enums[slot] & (UINT64_C(1) << e))) {
                                note(&msg,
                                     "\n  %s: no accepted sample with "
                                     "\"%s\"",
                                     f->name, f->enum_values[e]);
                        }
                }
        }
        ck_assert_msg(msg == NULL, "%s: the samples leave out:%s", c->name,
                      msg);
        free(seen);
        free(want);
        free(enums);
        free(first);
}

START_TEST(samples_agree)
{
        static const char *const codes[] = {"missing_field",
                                            "wrong_type",
                                            "out_of_range",
                                            "not_allowed",
                                            "invalid_timestamp",
                                            "unknown_event_type",
                                            "missing_event_type",
                                            "invalid_json",
                                            "not_an_object",
                                            "future_timestamp",
                                            NULL};
        const shipped_t *sc = &shipped[_i];
        red_contract_t *c = load_contract(sc);
        char *dir = test_tmpdir(), *text, *p, *nl, *msg = NULL;
        char input[4096], cases[4096], contract[4096], key[32];
        json_t *samples = json_array(), *verdicts, *s;
        /* per kind: bit 0 nested, bit 1 flat, bit 2+t spelling t */
        unsigned seen[RED_CONTRACT_MAX_KINDS] = {0};
        const char **got_codes, **details;
        FILE *in, *cs;
        char **schema;
        bool *both_ok;
        size_t n, i, differences = 0;

        text = test_read_file(test_path(sc->samples), NULL);
        for (p = text; *p; p = nl + 1) {
                json_error_t jerr;
                nl = strchr(p, '\n');
                ck_assert_ptr_nonnull(nl);
                s = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &jerr);
                ck_assert_msg(s != NULL, "%s: %s", sc->samples, jerr.text);
                json_array_append_new(samples, s);
        }
        free(text);
        n = json_array_size(samples);
        ck_assert_msg(n >= MIN_SAMPLES, "%s: %zu samples, want %d or more",
                      sc->samples, n, MIN_SAMPLES);

        snprintf(input, sizeof(input), "%s/input.jsonl", dir);
        snprintf(cases, sizeof(cases), "%s/cases.jsonl", dir);
        in = fopen(input, "w");
        cs = fopen(cases, "w");
        ck_assert(in && cs);
        json_array_foreach(samples, i, s)
        {
                const char *kname =
                        json_string_value(json_object_get(s, "kind"));
                const red_kind_t *k = kind_named(c, kname);
                json_t *raw = json_object_get(s, "raw");
                json_t *ev = json_object_get(s, "event");
                json_t *cs_line = json_pack("{ss}", "kind", kname);

                ck_assert_msg(raw || ev, "%s: sample %zu has no event",
                              sc->samples, i);
                if (raw) {
                        /* the producer's bytes, as they are */
                        fprintf(in, "%s\n", json_string_value(raw));
                        json_object_set(cs_line, "raw", raw);
                } else {
                        json_t *m = as_message(
                                ev, topic_of(c, k),
                                sample_key(c, i, key, sizeof(key)), i);
                        put_line(in, m);
                        json_decref(m);
                        json_object_set(cs_line, "event", ev);
                }
                put_line(cs, cs_line);
                json_decref(cs_line);
        }
        ck_assert_int_eq(fclose(in), 0);
        ck_assert_int_eq(fclose(cs), 0);

        contract_path(sc, contract, sizeof(contract));
        verdicts = reduce_verdicts(contract, input, n, SAMPLES_NOW);
        schema = schema_verdicts(sc->name, cases, n);
        both_ok = calloc(n, sizeof(*both_ok));
        got_codes = calloc(n, sizeof(*got_codes));
        details = calloc(n, sizeof(*details));

        json_array_foreach(samples, i, s)
        {
                const char *name =
                        json_string_value(json_object_get(s, "name"));
                const char *kname =
                        json_string_value(json_object_get(s, "kind"));
                const red_kind_t *k = kind_named(c, kname);
                bool valid = json_is_true(json_object_get(s, "valid"));
                json_t *sv = json_object_get(s, "schema");
                bool schema_valid = sv ? json_is_true(sv) : valid;
                const char *want_code =
                        json_string_value(json_object_get(s, "code"));
                const char *code =
                        json_string_value(json_array_get(verdicts, i));
                bool accepted = code == NULL;
                bool schema_ok = !strcmp(schema[i], "valid");
                json_t *ev = json_object_get(s, "event");

                both_ok[i] = accepted && schema_ok;
                got_codes[i] = code;
                details[i] = code ? reduce_detail(verdicts, n, i) : NULL;
                if (sv) {
                        /* a documented difference, with its reason */
                        differences++;
                        ck_assert_msg(json_is_string(json_object_get(s, "why")),
                                      "%s: sample \"%s\": a \"schema\" "
                                      "verdict needs a \"why\"",
                                      sc->samples, name);
                }
                ck_assert_msg(valid || want_code,
                              "%s: sample \"%s\": an invalid sample names "
                              "its dead-letter code",
                              sc->samples, name);
                if (accepted != valid ||
                    (want_code && (!code || strcmp(code, want_code)))) {
                        note(&msg, "\n  \"%s\": reducerd %s (%s), expected %s",
                             name, code ? code : "accepts",
                             reduce_detail(verdicts, n, i),
                             valid ? "accepted" : want_code);
                }
                if (schema_ok != schema_valid) {
                        note(&msg,
                             "\n  \"%s\": the schema says %s, expected %s",
                             name, schema[i],
                             schema_valid ? "valid" : "invalid");
                }
                if (valid && schema_valid && json_is_object(ev)) {
                        json_t *t = json_object_get(ev, "event_type");
                        bool nested =
                                json_is_object(json_object_get(ev, "payload"));
                        seen[k->index] |= nested ? 1u : 2u;
                        for (size_t ti = 0; t && ti < k->type_cnt; ti++) {
                                if (json_is_string(t) &&
                                    !strcmp(json_string_value(t),
                                            k->types[ti])) {
                                        seen[k->index] |= 4u << ti;
                                }
                        }
                }
        }
        ck_assert_msg(msg == NULL, "%s: samples judged wrongly:%s", sc->samples,
                      msg);

        /* coverage: every kind valid nested and flat, in every spelling;
         * every dead-letter code a producer can cause; every field */
        for (size_t ki = 0; ki < c->kind_cnt; ki++) {
                const red_kind_t *k = &c->kinds[ki];
                unsigned want = 3u | (((1u << k->type_cnt) - 1) << 2);
                ck_assert_msg((seen[ki] & want) == want,
                              "%s: no valid sample of kind %s in every form "
                              "and spelling (have mask %#x, want %#x)",
                              sc->samples, k->name, seen[ki], want);
        }
        for (size_t ci = 0; codes[ci]; ci++) {
                bool found = false;
                if (!can_cause(c, codes[ci])) {
                        continue;
                }
                json_array_foreach(samples, i, s)
                {
                        const char *w =
                                json_string_value(json_object_get(s, "code"));
                        found |= w && !strcmp(w, codes[ci]);
                }
                ck_assert_msg(found, "%s: no sample for dead-letter code %s",
                              sc->samples, codes[ci]);
        }
        check_field_coverage(c, samples, both_ok, got_codes, details);
        /* the differences contracts/schemas/README.md documents, no more */
        ck_assert_msg(differences <= sc->max_differences,
                      "%s: %zu samples where the schema and reducerd "
                      "differ, at most %zu documented",
                      sc->samples, differences, sc->max_differences);
        printf("summary: %s: %zu samples, %zu documented differences\n",
               sc->name, n, differences);

        free(both_ok);
        free(got_codes);
        free(details);
        free_verdicts(schema);
        json_decref(verdicts);
        json_decref(samples);
        red_contract_destroy(c);
        remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* the README's "Producing events" section                             */
/* ------------------------------------------------------------------ */

typedef struct block_s {
        char lang[16];
        char *text; /* malloc'd, ends with a newline */
        int line;   /* of the opening fence, in README.md */
} block_t;

/* The fenced code blocks of a Markdown text whose first line is line
 * @p line of README.md (a NULL-text terminated array; caller frees). */
static block_t *code_blocks(const char *md, int line)
{
        block_t *b = calloc(1, sizeof(*b));
        size_t n = 0;

        for (const char *p = md; *p;) {
                const char *eol = strchr(p, '\n');
                if (!eol) {
                        break;
                }
                if (!strncmp(p, "```", 3) && eol > p + 3) {
                        const char *body = eol + 1, *q = body;
                        int start = line;
                        size_t len = (size_t)(eol - p - 3);
                        /* the closing fence: a line that is exactly ``` */
                        while (*q && strncmp(q, "```\n", 4)) {
                                const char *e = strchr(q, '\n');
                                ck_assert_msg(e, "%s:%d: unclosed code block",
                                              README_MD, start);
                                q = e + 1;
                                line++;
                        }
                        ck_assert_msg(*q, "%s:%d: unclosed code block",
                                      README_MD, start);
                        b = realloc(b, (n + 2) * sizeof(*b));
                        snprintf(b[n].lang, sizeof(b[n].lang), "%.*s",
                                 (int)(len < 15 ? len : 15), p + 3);
                        b[n].text = strndup(body, (size_t)(q - body));
                        b[n].line = start;
                        n++;
                        b[n].text = NULL;
                        p = q + 4;
                        line += 2;
                        continue;
                }
                p = eol + 1;
                line++;
        }
        b[n].text = NULL;
        return b;
}

static block_t *section_blocks(void)
{
        int line;
        char *sec = test_markdown_section(test_path(README_MD), SECTION, &line);
        block_t *b = code_blocks(sec, line);

        free(sec);
        return b;
}

static void free_blocks(block_t *b)
{
        for (size_t i = 0; b[i].text; i++) {
                free(b[i].text);
        }
        free(b);
}

/*
 * Judges example events: @p examples holds {"event", "where", and
 * optionally "topic" and "key" (null: none)}. The contract and kind come
 * from the topic (which must be an input of a shipped contract carrying
 * the event type) or else from event_type; every event must be accepted
 * by `reducerd reduce` (on the wall clock) and by its kind's schema.
 * Per contract, @p kinds gets the kinds seen, @p forms bit 0 for a nested
 * and bit 1 for a flat event.
 */
static void judge_examples(json_t *examples, uint64_t kinds[SHIPPED_CNT],
                           unsigned forms[SHIPPED_CNT])
{
        red_contract_t *cs[SHIPPED_CNT];
        FILE *in[SHIPPED_CNT], *cf[SHIPPED_CNT];
        json_t *where[SHIPPED_CNT], *x;
        char *dir = test_tmpdir(), path[4096];
        size_t i;

        for (size_t ci = 0; ci < SHIPPED_CNT; ci++) {
                cs[ci] = load_contract(&shipped[ci]);
                snprintf(path, sizeof(path), "%s/%s.input.jsonl", dir,
                         shipped[ci].name);
                in[ci] = fopen(path, "w");
                snprintf(path, sizeof(path), "%s/%s.cases.jsonl", dir,
                         shipped[ci].name);
                cf[ci] = fopen(path, "w");
                ck_assert(in[ci] && cf[ci]);
                where[ci] = json_array();
                kinds[ci] = 0;
                forms[ci] = 0;
        }
        json_array_foreach(examples, i, x)
        {
                json_t *ev = json_object_get(x, "event"), *kv, *m, *line;
                const char *w = json_string_value(json_object_get(x, "where"));
                const char *topic =
                        json_string_value(json_object_get(x, "topic"));
                const char *t =
                        json_string_value(json_object_get(ev, "event_type"));
                const char *key;
                const red_kind_t *k = NULL;
                const red_input_t *inp = NULL;
                size_t ci = 0, n;
                char buf[32];

                ck_assert_msg(json_is_object(ev), "%s: not a JSON object", w);
                if (topic) {
                        for (size_t c2 = 0; c2 < SHIPPED_CNT && !inp; c2++) {
                                for (size_t j = 0; j < cs[c2]->input_cnt; j++) {
                                        if (!strcmp(cs[c2]->inputs[j].topic,
                                                    topic)) {
                                                inp = &cs[c2]->inputs[j];
                                                ci = c2;
                                                break;
                                        }
                                }
                        }
                        ck_assert_msg(inp,
                                      "%s: %s is not an input topic of a "
                                      "shipped contract",
                                      w, topic);
                        if (t) {
                                k = red_contract_kind_by_type(cs[ci], t,
                                                              strlen(t));
                                ck_assert_msg(k && (inp->kinds &
                                                    (UINT64_C(1) << k->index)),
                                              "%s: %s does not carry event "
                                              "type %s",
                                              w, topic, t);
                        } else {
                                ck_assert_msg(inp->default_kind >= 0,
                                              "%s: no event_type, and %s "
                                              "carries several kinds",
                                              w, topic);
                                k = &cs[ci]->kinds[inp->default_kind];
                        }
                } else {
                        ck_assert_msg(t, "%s: the example has no event_type",
                                      w);
                        for (ci = 0; ci < SHIPPED_CNT; ci++) {
                                k = red_contract_kind_by_type(cs[ci], t,
                                                              strlen(t));
                                if (k) {
                                        break;
                                }
                        }
                        ck_assert_msg(k,
                                      "%s: %s is not an event type of a "
                                      "shipped contract",
                                      w, t);
                        topic = topic_of(cs[ci], k);
                }
                n = json_array_size(where[ci]);
                kv = json_object_get(x, "key");
                key = kv ? json_string_value(kv)
                         : sample_key(cs[ci], n, buf, sizeof(buf));
                kinds[ci] |= UINT64_C(1) << k->index;
                forms[ci] |= json_is_object(json_object_get(ev, "payload"))
                                     ? 1u
                                     : 2u;
                m = as_message(ev, topic, key, n);
                put_line(in[ci], m);
                line = json_pack("{sssO}", "kind", k->name, "event", ev);
                put_line(cf[ci], line);
                json_decref(line);
                json_decref(m);
                json_array_append_new(where[ci], json_string(w));
        }
        for (size_t ci = 0; ci < SHIPPED_CNT; ci++) {
                size_t n = json_array_size(where[ci]);
                char input[4096], cases[4096], contract[4096], **schema;
                json_t *verdicts;

                ck_assert_int_eq(fclose(in[ci]), 0);
                ck_assert_int_eq(fclose(cf[ci]), 0);
                if (!n) {
                        json_decref(where[ci]);
                        red_contract_destroy(cs[ci]);
                        continue;
                }
                snprintf(input, sizeof(input), "%s/%s.input.jsonl", dir,
                         shipped[ci].name);
                snprintf(cases, sizeof(cases), "%s/%s.cases.jsonl", dir,
                         shipped[ci].name);
                contract_path(&shipped[ci], contract, sizeof(contract));
                /* the wall clock: the examples are in the past, and fine */
                verdicts = reduce_verdicts(contract, input, n, NULL);
                schema = schema_verdicts(shipped[ci].name, cases, n);
                for (i = 0; i < n; i++) {
                        const char *w =
                                json_string_value(json_array_get(where[ci], i));
                        ck_assert_msg(json_is_null(json_array_get(verdicts, i)),
                                      "%s: reducerd dead-letters it: %s", w,
                                      reduce_detail(verdicts, n, i));
                        ck_assert_msg(!strcmp(schema[i], "valid"),
                                      "%s: the schema of %s says %s", w,
                                      shipped[ci].name, schema[i]);
                }
                free_verdicts(schema);
                json_decref(verdicts);
                json_decref(where[ci]);
                red_contract_destroy(cs[ci]);
        }
        remove_dir(dir);
}

START_TEST(docs_json_examples_accepted)
{
        block_t *b = section_blocks();
        json_t *examples = json_array();
        uint64_t kinds[SHIPPED_CNT];
        unsigned forms[SHIPPED_CNT];

        for (size_t i = 0; b[i].text; i++) {
                json_error_t jerr;
                json_t *ev;
                char where[64];

                if (strcmp(b[i].lang, "json")) {
                        continue;
                }
                ev = json_loads(b[i].text, 0, &jerr);
                ck_assert_msg(ev != NULL, "%s:%d: %s (line %d of the block)",
                              README_MD, b[i].line, jerr.text, jerr.line);
                snprintf(where, sizeof(where), "%s:%d: JSON example", README_MD,
                         b[i].line);
                json_array_append_new(examples, json_pack("{soss}", "event", ev,
                                                          "where", where));
        }
        judge_examples(examples, kinds, forms);
        for (size_t ci = 0; ci < SHIPPED_CNT; ci++) {
                red_contract_t *c = load_contract(&shipped[ci]);
                uint64_t all = c->kind_cnt == 64
                                       ? UINT64_MAX
                                       : (UINT64_C(1) << c->kind_cnt) - 1;
                ck_assert_msg(kinds[ci] == all,
                              "%s, section \"%s\": no JSON example of some "
                              "event kind of %s (have mask %#llx)",
                              README_MD, SECTION, c->name,
                              (unsigned long long)kinds[ci]);
                ck_assert_msg(forms[ci] == 3,
                              "%s, section \"%s\": %s needs a JSON example "
                              "in the nested and one in the flat form",
                              README_MD, SECTION, c->name);
                red_contract_destroy(c);
        }
        json_decref(examples);
        free_blocks(b);
}
END_TEST

/* Copies a stand-in client from STUBS/@p rel to @p dir/@p to. */
static void install_stub(const char *rel, const char *dir, const char *to)
{
        char src[256], dst[4096];
        size_t len;
        char *text;

        snprintf(src, sizeof(src), "%s/%s", STUBS, rel);
        text = test_read_file(test_path(src), &len);
        snprintf(dst, sizeof(dst), "%s/%s", dir, to);
        test_write_file(dst, text, len);
        ck_assert_int_eq(chmod(dst, 0755), 0);
        free(text);
}

/*
 * Runs a sh or python block with the stand-in kcat first in PATH and the
 * stand-in confluent_kafka first in PYTHONPATH, given the bootstrap address
 * as $1 and $BOOTSTRAP; appends what it sent to @p examples and returns
 * how many messages that was.
 */
static size_t run_with_stubs(const block_t *b, size_t idx, const char *dir,
                             json_t *examples)
{
        bool sh = !strcmp(b->lang, "sh");
        char file[4096], sent[4096], path[8192], pypath[4200], sentvar[4200];
        const char *argv[] = {"/usr/bin/env",
                              path,
                              pypath,
                              sentvar,
                              "BOOTSTRAP=127.0.0.1:9",
                              sh ? "/bin/sh" : PYTHON,
                              file,
                              "127.0.0.1:9",
                              NULL};
        char *out, *err, *text, *p, *nl;
        size_t n = 0;
        int rc;

        snprintf(file, sizeof(file), "%s/run%zu.%s", dir, idx,
                 sh ? "sh" : "py");
        test_write_file(file, b->text, strlen(b->text));
        snprintf(sent, sizeof(sent), "%s/sent%zu.jsonl", dir, idx);
        test_write_file(sent, "", 0);
        snprintf(path, sizeof(path), "PATH=%s/bin:%s", dir,
                 getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
        snprintf(pypath, sizeof(pypath), "PYTHONPATH=%s/python", dir);
        snprintf(sentvar, sizeof(sentvar), "RED_STUB_SENT=%s", sent);
        rc = test_run(argv, NULL, &out, &err);
        ck_assert_msg(rc == 0,
                      "%s:%d: the %s block fails with the stand-in clients "
                      "(exit %d):\n%s%s",
                      README_MD, b->line, b->lang, rc, out, err);
        free(out);
        free(err);

        text = test_read_file(sent, NULL);
        for (p = text; *p; p = nl + 1) {
                json_t *rec, *ev;
                json_error_t jerr;
                const char *value;
                char where[128];

                nl = strchr(p, '\n');
                ck_assert_ptr_nonnull(nl);
                rec = json_loadb(p, (size_t)(nl - p), 0, &jerr);
                ck_assert_msg(rec, "%s: %s", sent, jerr.text);
                value = json_string_value(json_object_get(rec, "value"));
                ck_assert_msg(value,
                              "%s:%d: the %s block sends a message without "
                              "a value",
                              README_MD, b->line, b->lang);
                /* strict JSON, as the decoder reads it (no NaN) */
                ev = json_loads(value, 0, &jerr);
                ck_assert_msg(ev,
                              "%s:%d: the %s block sends a message that is "
                              "not JSON (%s): %s",
                              README_MD, b->line, b->lang, jerr.text, value);
                snprintf(where, sizeof(where),
                         "%s:%d: message %zu the %s block sends", README_MD,
                         b->line, n + 1, b->lang);
                json_array_append_new(
                        examples,
                        json_pack("{sosOsOss}", "event", ev, "topic",
                                  json_object_get(rec, "topic"), "key",
                                  json_object_get(rec, "key"), "where", where));
                json_decref(rec);
                n++;
        }
        free(text);
        ck_assert_msg(n > 0, "%s:%d: the %s block sends nothing", README_MD,
                      b->line, b->lang);
        return n;
}

/*
 * The programs that send agent metrics (the sh and python blocks that
 * mention metric.recorded) are run with stand-ins for kcat and
 * confluent-kafka that record each message instead of sending it; every
 * message must go to an input topic of its contract and be accepted by
 * reducerd and the schema.
 */
START_TEST(docs_programs_send_valid_events)
{
        block_t *b = section_blocks();
        char *dir = test_tmpdir(), sub[4096];
        json_t *examples = json_array();
        uint64_t kinds[SHIPPED_CNT];
        unsigned forms[SHIPPED_CNT];
        size_t sh = 0, py = 0, msgs = 0;

        snprintf(sub, sizeof(sub), "%s/bin", dir);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        snprintf(sub, sizeof(sub), "%s/python", dir);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        snprintf(sub, sizeof(sub), "%s/python/confluent_kafka", dir);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        install_stub("kcat", dir, "bin/kcat");
        install_stub("confluent_kafka/__init__.py", dir,
                     "python/confluent_kafka/__init__.py");

        for (size_t i = 0; b[i].text; i++) {
                bool is_sh = !strcmp(b[i].lang, "sh");
                if ((!is_sh && strcmp(b[i].lang, "python")) ||
                    !strstr(b[i].text, "metric.recorded")) {
                        continue;
                }
                msgs += run_with_stubs(&b[i], i, dir, examples);
                *(is_sh ? &sh : &py) += 1;
        }
        ck_assert_msg(sh >= 1 && py >= 1,
                      "%s, section \"%s\": want a kcat (sh) and a Python "
                      "program sending metric.recorded, have %zu and %zu",
                      README_MD, SECTION, sh, py);
        judge_examples(examples, kinds, forms);
        printf("summary: README producers run with stand-in clients: %zu sh, "
               "%zu python, %zu messages accepted\n",
               sh, py, msgs);
        json_decref(examples);
        free_blocks(b);
        remove_dir(dir);
}
END_TEST

/*
 * Brackets balance outside strings, characters and comments, for the code
 * of languages the build cannot compile. Knows "...", '...', `...` (Go raw
 * strings), """...""" (Java text blocks), // and block comments.
 */
static bool balanced(const char *s, char *why, size_t size)
{
        char stack[256];
        size_t depth = 0;
        int line = 1;

        for (const char *p = s; *p; p++) {
                if (*p == '\n') {
                        line++;
                } else if (!strncmp(p, "//", 2)) {
                        p = strchr(p, '\n');
                        if (!p) {
                                break;
                        }
                        line++;
                } else if (!strncmp(p, "/*", 2)) {
                        const char *e = strstr(p + 2, "*/");
                        if (!e) {
                                snprintf(why, size, "line %d: open comment",
                                         line);
                                return false;
                        }
                        for (; p < e; p++) {
                                line += *p == '\n';
                        }
                        p++;
                } else if (!strncmp(p, "\"\"\"", 3) || *p == '`') {
                        const char *close = *p == '`' ? "`" : "\"\"\"";
                        const char *e = strstr(p + strlen(close), close);
                        if (!e) {
                                snprintf(why, size, "line %d: open string",
                                         line);
                                return false;
                        }
                        for (; p < e; p++) {
                                line += *p == '\n';
                        }
                        p += strlen(close) - 1;
                } else if (*p == '"' || *p == '\'') {
                        char q = *p;
                        for (p++; *p && *p != q; p++) {
                                if (*p == '\\' && p[1]) {
                                        p++;
                                } else if (*p == '\n') {
                                        snprintf(why, size,
                                                 "line %d: open string", line);
                                        return false;
                                }
                        }
                        if (!*p) {
                                snprintf(why, size, "line %d: open string",
                                         line);
                                return false;
                        }
                } else if (strchr("([{", *p)) {
                        if (depth == sizeof(stack)) {
                                snprintf(why, size, "line %d: too deep", line);
                                return false;
                        }
                        stack[depth++] = *p == '('   ? ')'
                                         : *p == '[' ? ']'
                                                     : '}';
                } else if (strchr(")]}", *p)) {
                        if (!depth || stack[--depth] != *p) {
                                snprintf(why, size, "line %d: unexpected %c",
                                         line, *p);
                                return false;
                        }
                }
        }
        if (depth) {
                snprintf(why, size, "%zu brackets left open", depth);
                return false;
        }
        return true;
}

/* Runs a syntax checker over a code block written to @p file. */
static void syntax_check(const char *const argv[], const block_t *b)
{
        char *out, *err;
        int rc = test_run(argv, NULL, &out, &err);

        ck_assert_msg(rc == 0, "%s:%d: the %s block does not parse:\n%s%s",
                      README_MD, b->line, b->lang, out, err);
        free(out);
        free(err);
}

START_TEST(docs_code_parses)
{
        block_t *b = section_blocks();
        char *dir = test_tmpdir(), *node = in_path("node"),
             *gofmt = in_path("gofmt"), *javac = in_path("javac");
        int go = 0, java = 0, sh = 0, py = 0, js = 0;

        for (size_t i = 0; b[i].text; i++) {
                const char *lang = b[i].lang;
                char file[4096], why[256];

                if (!strcmp(lang, "json")) {
                        continue; /* docs_json_examples_accepted */
                }
                ck_assert_msg(strspn(b[i].text, " \n\t") < strlen(b[i].text),
                              "%s:%d: empty code block", README_MD, b[i].line);
                if (!strcmp(lang, "go") || !strcmp(lang, "java")) {
                        ck_assert_msg(balanced(b[i].text, why, sizeof(why)),
                                      "%s:%d: %s", README_MD, b[i].line, why);
                }
                if (!strcmp(lang, "sh")) {
                        const char *argv[] = {"/bin/sh", "-n", file, NULL};
                        snprintf(file, sizeof(file), "%s/block%zu.sh", dir, i);
                        test_write_file(file, b[i].text, strlen(b[i].text));
                        syntax_check(argv, &b[i]);
                        sh++;
                } else if (!strcmp(lang, "python")) {
                        const char *argv[] = {
                                PYTHON, "-c",
                                "import ast, sys; "
                                "ast.parse(open(sys.argv[1]).read())",
                                file, NULL};
                        snprintf(file, sizeof(file), "%s/block%zu.py", dir, i);
                        test_write_file(file, b[i].text, strlen(b[i].text));
                        syntax_check(argv, &b[i]);
                        py++;
                } else if (!strcmp(lang, "js")) {
                        const char *argv[] = {node, "--check", file, NULL};
                        snprintf(file, sizeof(file), "%s/block%zu.js", dir, i);
                        test_write_file(file, b[i].text, strlen(b[i].text));
                        if (node) {
                                syntax_check(argv, &b[i]);
                        }
                        js++;
                } else if (!strcmp(lang, "go")) {
                        const char *argv[] = {gofmt, "-e", file, NULL};
                        ck_assert_msg(strstr(b[i].text, "package main\n"),
                                      "%s:%d: the Go program needs "
                                      "package main",
                                      README_MD, b[i].line);
                        snprintf(file, sizeof(file), "%s/block%zu.go", dir, i);
                        test_write_file(file, b[i].text, strlen(b[i].text));
                        if (gofmt) {
                                syntax_check(argv, &b[i]);
                        }
                        go++;
                } else if (!strcmp(lang, "java")) {
                        /* javac parses only (no kafka-clients here): stop
                         * after the parser when it finds no error */
                        const char *cls = strstr(b[i].text, "public class ");
                        char name[128], out[4096];
                        const char *argv[] = {
                                javac, "-XDshould-stop.ifNoError=PARSE",
                                "-d",  out,
                                file,  NULL};
                        ck_assert_msg(
                                cls && sscanf(cls,
                                              "public class %127[A-Za-z0-9_]",
                                              name) == 1,
                                "%s:%d: the Java program needs a "
                                "public class",
                                README_MD, b[i].line);
                        snprintf(file, sizeof(file), "%s/%s.java", dir, name);
                        snprintf(out, sizeof(out), "%s/classes", dir);
                        test_write_file(file, b[i].text, strlen(b[i].text));
                        if (javac) {
                                syntax_check(argv, &b[i]);
                        }
                        java++;
                } else {
                        ck_abort_msg("%s:%d: a %s code block: no test checks "
                                     "it",
                                     README_MD, b[i].line, lang);
                }
        }
        ck_assert_int_ge(sh, 3);
        ck_assert_int_ge(py, 3);
        ck_assert_int_ge(js, 1);
        ck_assert_int_eq(go, 1);
        ck_assert_int_eq(java, 1);
        printf("summary: README \"%s\" code: %d sh, %d python, %d js%s, "
               "%d go%s, %d java%s\n",
               SECTION + 3, sh, py, js, node ? "" : " (no node: unchecked)", go,
               gofmt ? " (gofmt -e)" : " (brackets only: no gofmt)", java,
               javac ? " (javac parser)" : " (brackets only: no javac)");
        free(node);
        free(gofmt);
        free(javac);
        free_blocks(b);
        remove_dir(dir);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("schemas");
        TCase *tc = tcase_create("schemas");

        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, generated_from_contracts);
        tcase_add_loop_test(tc, samples_agree, 0, (int)SHIPPED_CNT);
        tcase_add_test(tc, docs_json_examples_accepted);
        tcase_add_test(tc, docs_programs_send_valid_events);
        tcase_add_test(tc, docs_code_parses);
        suite_add_tcase(s, tc);
        return test_main(s);
}
