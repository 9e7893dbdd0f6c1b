/*
 * The JSON Schemas of contracts/schemas/ agree with the contract and the
 * decoder: generated from the current contract; valid and invalid sample
 * events judged the same by Python's jsonschema (Draft202012Validator) and
 * by `reducerd reduce` (accepted = no dead letter); and every example of
 * contracts/schemas/PRODUCING.md parses, the JSON events being accepted by
 * both.
 */
#include "red_test.h"

#include "red_contract.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PYTHON        "/usr/bin/python3"
#define CONTRACT      "contracts/codegen_metrics.yaml"
#define CONTRACT_NAME "codegen_metrics"
#define SAMPLES       "tests/data/producers/samples.jsonl"
#define PRODUCING_MD  "contracts/schemas/PRODUCING.md"
/* the samples' clock: their event times are 2025-11-06T10:xx */
#define SAMPLES_NOW "2025-11-06T12:00:00Z"
/* the Kafka message timestamp `reduce` gives every sample */
#define KAFKA_TIME "2025-11-06T10:30:00Z"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static red_contract_t *load_contract(void)
{
        char err[1024];
        red_contract_t *c =
                red_contract_load(test_path(CONTRACT), err, sizeof(err));

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
        for (size_t i = 0; i < c->kind_cnt; i++) {
                if (!strcmp(c->kinds[i].name, name)) {
                        return &c->kinds[i];
                }
        }
        ck_abort_msg("no event kind %s in %s", name, CONTRACT);
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
 * the other samples).
 */
static json_t *as_message(json_t *event, const char *topic, size_t i)
{
        json_t *m = json_deep_copy(event);
        char key[32];

        if (!json_is_object(m)) {
                return m;
        }
        snprintf(key, sizeof(key), "sample-%zu", i);
        json_object_set_new(m, "_topic", json_string(topic));
        json_object_set_new(m, "_key", json_string(key));
        json_object_set_new(m, "_partition", json_integer((json_int_t)i));
        json_object_set_new(m, "_timestamp", json_string(KAFKA_TIME));
        return m;
}

/*
 * Runs `reducerd reduce` over @p file; returns an array with, per input
 * line, the dead letter's code (string) or null when accepted. Checks the
 * summary counts every line.
 */
static json_t *reduce_verdicts(const char *file, size_t lines, const char *now)
{
        const char *argv[] = {test_bin(),           "reduce",  "--contract",
                              test_path(CONTRACT),  "--input", file,
                              now ? "--now" : NULL, now,       NULL};
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

/* Runs the Python validator over @p cases; one verdict line per case. */
static char **schema_verdicts(const char *cases, size_t lines)
{
        const char *argv[] = {PYTHON,
                              test_path("tests/schema_check.py"),
                              test_path("contracts/schemas"),
                              CONTRACT_NAME,
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
/* the schemas are generated from the contract                         */
/* ------------------------------------------------------------------ */

START_TEST(generated_from_contract)
{
        const char *argv[] = {PYTHON,
                              test_path("contracts/schemas/generate.py"),
                              "--check", test_path(CONTRACT), NULL};
        char *out, *err;
        int rc = test_run(argv, NULL, &out, &err);

        ck_assert_msg(rc == 0, "%s%s", out, err);
        ck_assert_ptr_nonnull(strstr(out, "schemas up to date"));
        free(out);
        free(err);
}
END_TEST

/* ------------------------------------------------------------------ */
/* sample events: schema and decoder agree with the expected verdict   */
/* ------------------------------------------------------------------ */

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
        red_contract_t *c = load_contract();
        char *dir = test_tmpdir(), *text, *p, *nl, *msg = NULL;
        char input[4096], cases[4096];
        json_t *samples = json_array(), *verdicts, *s;
        /* per kind: bit 0 nested, bit 1 flat, bit 2+t spelling t */
        unsigned seen[64] = {0};
        FILE *in, *cs;
        char **schema;
        size_t n, i, differences = 0;

        text = test_read_file(test_path(SAMPLES), NULL);
        for (p = text; *p; p = nl + 1) {
                json_error_t jerr;
                nl = strchr(p, '\n');
                ck_assert_ptr_nonnull(nl);
                s = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &jerr);
                ck_assert_msg(s != NULL, "%s: %s", SAMPLES, jerr.text);
                json_array_append_new(samples, s);
        }
        free(text);
        n = json_array_size(samples);
        ck_assert_int_ge(n, 50);

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

                ck_assert_msg(raw || ev, "sample %zu has no event", i);
                if (raw) {
                        /* the producer's bytes, as they are */
                        fprintf(in, "%s\n", json_string_value(raw));
                        json_object_set(cs_line, "raw", raw);
                } else {
                        json_t *m = as_message(ev, topic_of(c, k), i);
                        put_line(in, m);
                        json_decref(m);
                        json_object_set(cs_line, "event", ev);
                }
                put_line(cs, cs_line);
                json_decref(cs_line);
        }
        ck_assert_int_eq(fclose(in), 0);
        ck_assert_int_eq(fclose(cs), 0);

        verdicts = reduce_verdicts(input, n, SAMPLES_NOW);
        schema = schema_verdicts(cases, n);

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

                if (sv) {
                        /* a documented difference, with its reason */
                        differences++;
                        ck_assert_msg(json_is_string(json_object_get(s, "why")),
                                      "sample \"%s\": a \"schema\" verdict "
                                      "needs a \"why\"",
                                      name);
                }
                ck_assert_msg(valid || want_code,
                              "sample \"%s\": an invalid sample names its "
                              "dead-letter code",
                              name);
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
        ck_assert_msg(msg == NULL, "samples judged wrongly:%s", msg);

        /* coverage: every kind valid nested and flat, in every spelling;
         * every dead-letter code a producer can cause */
        for (size_t ki = 0; ki < c->kind_cnt; ki++) {
                const red_kind_t *k = &c->kinds[ki];
                unsigned want = 3u | (((1u << k->type_cnt) - 1) << 2);
                ck_assert_msg((seen[ki] & want) == want,
                              "no valid sample of kind %s in every form and "
                              "spelling (have mask %#x, want %#x)",
                              k->name, seen[ki], want);
        }
        for (size_t ci = 0; codes[ci]; ci++) {
                bool found = false;
                json_array_foreach(samples, i, s)
                {
                        const char *w =
                                json_string_value(json_object_get(s, "code"));
                        found |= w && !strcmp(w, codes[ci]);
                }
                ck_assert_msg(found, "no sample for dead-letter code %s",
                              codes[ci]);
        }
        /* the differences README.md documents, and no more */
        ck_assert_int_le(differences, 6);

        free_verdicts(schema);
        json_decref(verdicts);
        json_decref(samples);
        red_contract_destroy(c);
        remove_dir(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* PRODUCING.md                                                        */
/* ------------------------------------------------------------------ */

typedef struct block_s {
        char lang[16];
        char *text; /* malloc'd, ends with a newline */
        int line;   /* of the opening fence */
} block_t;

/* The fenced code blocks of a Markdown text (a NULL-text terminated
 * array; caller frees). */
static block_t *code_blocks(const char *md)
{
        block_t *b = calloc(1, sizeof(*b));
        size_t n = 0;
        int line = 1;

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
                                              PRODUCING_MD, start);
                                q = e + 1;
                                line++;
                        }
                        ck_assert_msg(*q, "%s:%d: unclosed code block",
                                      PRODUCING_MD, start);
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

static void free_blocks(block_t *b)
{
        for (size_t i = 0; b[i].text; i++) {
                free(b[i].text);
        }
        free(b);
}

START_TEST(docs_json_examples_accepted)
{
        red_contract_t *c = load_contract();
        char *md = test_read_file(test_path(PRODUCING_MD), NULL);
        block_t *b = code_blocks(md);
        char *dir = test_tmpdir(), input[4096], cases[4096], **schema;
        unsigned kinds = 0;
        size_t n = 0;
        json_t *verdicts;
        FILE *in, *cs;

        snprintf(input, sizeof(input), "%s/input.jsonl", dir);
        snprintf(cases, sizeof(cases), "%s/cases.jsonl", dir);
        in = fopen(input, "w");
        cs = fopen(cases, "w");
        ck_assert(in && cs);
        for (size_t i = 0; b[i].text; i++) {
                json_error_t jerr;
                json_t *ev, *m, *line;
                const red_kind_t *k;
                const char *t;

                if (strcmp(b[i].lang, "json")) {
                        continue;
                }
                ev = json_loads(b[i].text, 0, &jerr);
                ck_assert_msg(ev != NULL, "%s:%d: %s (line %d of the block)",
                              PRODUCING_MD, b[i].line, jerr.text, jerr.line);
                t = json_string_value(json_object_get(ev, "event_type"));
                ck_assert_msg(t, "%s:%d: the example has no event_type",
                              PRODUCING_MD, b[i].line);
                k = red_contract_kind_by_type(c, t, strlen(t));
                ck_assert_msg(k, "%s:%d: %s is not an event type of %s",
                              PRODUCING_MD, b[i].line, t, CONTRACT);
                kinds |= 1u << k->index;
                m = as_message(ev, topic_of(c, k), n);
                put_line(in, m);
                line = json_pack("{sssO}", "kind", k->name, "event", ev);
                put_line(cs, line);
                json_decref(line);
                json_decref(m);
                json_decref(ev);
                n++;
        }
        ck_assert_int_eq(fclose(in), 0);
        ck_assert_int_eq(fclose(cs), 0);
        ck_assert_msg(kinds == (1u << c->kind_cnt) - 1,
                      "%s needs a JSON example of every event kind (have "
                      "mask %#x)",
                      PRODUCING_MD, kinds);

        /* the wall clock: the examples are in the past, and fine */
        verdicts = reduce_verdicts(input, n, NULL);
        schema = schema_verdicts(cases, n);
        for (size_t i = 0; i < n; i++) {
                ck_assert_msg(json_is_null(json_array_get(verdicts, i)),
                              "JSON example %zu of %s: reducerd dead-letters "
                              "it: %s",
                              i + 1, PRODUCING_MD,
                              reduce_detail(verdicts, n, i));
                ck_assert_msg(!strcmp(schema[i], "valid"),
                              "JSON example %zu of %s: %s", i + 1, PRODUCING_MD,
                              schema[i]);
        }
        free_verdicts(schema);
        json_decref(verdicts);
        free_blocks(b);
        free(md);
        remove_dir(dir);
        red_contract_destroy(c);
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
                      PRODUCING_MD, b->line, b->lang, out, err);
        free(out);
        free(err);
}

START_TEST(docs_code_parses)
{
        char *md = test_read_file(test_path(PRODUCING_MD), NULL);
        block_t *b = code_blocks(md);
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
                              "%s:%d: empty code block", PRODUCING_MD,
                              b[i].line);
                if (!strcmp(lang, "go") || !strcmp(lang, "java")) {
                        ck_assert_msg(balanced(b[i].text, why, sizeof(why)),
                                      "%s:%d: %s", PRODUCING_MD, b[i].line,
                                      why);
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
                                      PRODUCING_MD, b[i].line);
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
                                PRODUCING_MD, b[i].line);
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
                                     PRODUCING_MD, b[i].line, lang);
                }
        }
        ck_assert_int_ge(sh, 2);
        ck_assert_int_ge(py, 2);
        ck_assert_int_ge(js, 1);
        ck_assert_int_eq(go, 1);
        ck_assert_int_eq(java, 1);
        printf("summary: PRODUCING.md code: %d sh, %d python, %d js%s, "
               "%d go%s, %d java%s\n",
               sh, py, js, node ? "" : " (no node: unchecked)", go,
               gofmt ? " (gofmt -e)" : " (brackets only: no gofmt)", java,
               javac ? " (javac parser)" : " (brackets only: no javac)");
        free(node);
        free(gofmt);
        free(javac);
        free_blocks(b);
        free(md);
        remove_dir(dir);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("schemas");
        TCase *tc = tcase_create("schemas");

        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, generated_from_contract);
        tcase_add_test(tc, samples_agree);
        tcase_add_test(tc, docs_json_examples_accepted);
        tcase_add_test(tc, docs_code_parses);
        suite_add_tcase(s, tc);
        return test_main(s);
}
