/*
 * The README's claims that need no database: every repository path it
 * names exists, every command its shell blocks use is installed by ./dev,
 * every `reducerd ...` it shows is a real subcommand (and the ones that
 * need no services run as written), the test counts of its Tests section
 * are what meson runs, and `./dev fuzz` is documented. (The claims that
 * need a database are checked by the devloop and ops suites: the
 * "Operating it" block, the progress line, the lag.)
 */
#include "red_test.h"

#include <ctype.h>
#include <glob.h>
#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define README_MD "README.md"

/* --- reading the README ------------------------------------------- */

/* One piece of code: a fenced block (with its language) or an inline
 * span, and the line it starts on. */
typedef struct code_s {
        char *text;
        char lang[16]; /* "" for inline code */
        int line;
} code_t;

typedef struct codes_s {
        code_t *items;
        size_t cnt;
} codes_t;

static void add_code(codes_t *c, const char *text, size_t len, const char *lang,
                     int line)
{
        c->items = realloc(c->items, (c->cnt + 1) * sizeof(*c->items));
        ck_assert_ptr_nonnull(c->items);
        c->items[c->cnt].text = strndup(text, len);
        snprintf(c->items[c->cnt].lang, sizeof(c->items[0].lang), "%s", lang);
        c->items[c->cnt].line = line;
        c->cnt++;
}

/* Every fenced block and every inline code span of the README (spans may
 * wrap lines, as the prose does). */
static codes_t readme_codes(void)
{
        char *doc = test_read_file(test_path(README_MD), NULL);
        codes_t c = {NULL, 0};
        int line = 1;

        for (const char *p = doc; *p;) {
                if ((p == doc || p[-1] == '\n') && !strncmp(p, "```", 3)) {
                        const char *lang = p + 3, *body = strchr(p, '\n');
                        const char *end;
                        char l[16];
                        int start = line;

                        ck_assert_ptr_nonnull(body);
                        snprintf(l, sizeof(l), "%.*s", (int)(body - lang),
                                 lang);
                        end = strstr(body + 1, "\n```");
                        ck_assert_msg(end, "%s:%d: unclosed code block",
                                      README_MD, start);
                        add_code(&c, body + 1, (size_t)(end - body), l, start);
                        for (const char *q = p; q < end + 4; q++) {
                                line += *q == '\n';
                        }
                        p = end + 4;
                        continue;
                }
                if (*p == '`') {
                        const char *end = strchr(p + 1, '`');
                        ck_assert_msg(end, "%s:%d: unclosed `", README_MD,
                                      line);
                        add_code(&c, p + 1, (size_t)(end - p - 1), "", line);
                        for (const char *q = p; q < end; q++) {
                                line += *q == '\n';
                        }
                        p = end + 1;
                        continue;
                }
                line += *p == '\n';
                p++;
        }
        free(doc);
        return c;
}

static void codes_free(codes_t *c)
{
        for (size_t i = 0; i < c->cnt; i++) {
                free(c->items[i].text);
        }
        free(c->items);
}

/* --- paths -------------------------------------------------------- */

static const char *const top_dirs[] = {"bench/",  "config/",     "contracts/",
                                       "deploy/", "migrations/", "src/",
                                       "tests/",  NULL};

static bool path_char(char ch)
{
        return ch && !isspace((unsigned char)ch) && !strchr("`)]\"',<>|;", ch);
}

/* Every repository path the README names (in code or in prose, links
 * included) exists: "events.jsonl" that nobody has is a broken example. */
START_TEST(named_paths_exist)
{
        char *doc = test_read_file(test_path(README_MD), NULL);
        int seen = 0;

        for (const char *p = doc; *p; p++) {
                char tok[512];
                size_t len = 0;
                glob_t g;

                if (p != doc && path_char(p[-1]) && p[-1] != '(' &&
                    p[-1] != '[') {
                        continue; /* inside a word or a URL */
                }
                bool top = false;
                for (const char *const *d = top_dirs; *d && !top; d++) {
                        top = !strncmp(p, *d, strlen(*d));
                }
                if (!top) {
                        continue;
                }
                while (path_char(p[len]) && len < sizeof(tok) - 1) {
                        tok[len] = p[len];
                        len++;
                }
                while (len && strchr(".,:;", tok[len - 1])) {
                        len--; /* the sentence's punctuation */
                }
                tok[len] = '\0';
                ck_assert_int_eq(glob(test_path(tok), GLOB_NOCHECK, NULL, &g),
                                 0);
                ck_assert_msg(g.gl_pathc && access(g.gl_pathv[0], F_OK) == 0,
                              "%s names %s, which does not exist", README_MD,
                              tok);
                globfree(&g);
                seen++;
        }
        ck_assert_int_ge(seen, 20);
        printf("summary: README names %d existing paths\n", seen);
        free(doc);
}
END_TEST

/* --- commands ------------------------------------------------------ */

/* Commands the README's shell blocks use and the ./dev package (or
 * "name:package" command entry) that provides each. */
static const struct {
        const char *cmd, *dev_entry;
} provided[] = {
        {"curl", "curl"},
        {"kcat", "kcat"},
        {"psql", "postgresql-client-15"},
        {"python3", "python3"},
        {"node", "node:nodejs"},
        {"npm", "npm:npm"},
        {"jq", "jq"},
        {"meson", "meson"},
        {"ninja", "ninja-build"},
        {"clang", "clang-14"},
};

/* The word at @p p if it is one of the commands above, else -1. */
static int command_at(const char *p)
{
        for (size_t i = 0; i < sizeof(provided) / sizeof(*provided); i++) {
                size_t len = strlen(provided[i].cmd);
                if (!strncmp(p, provided[i].cmd, len) &&
                    !isalnum((unsigned char)p[len]) && p[len] != '-' &&
                    p[len] != '.') {
                        return (int)i;
                }
        }
        return -1;
}

/* The command words of a shell line: at its start and after | ; && $( */
static void commands_of(const char *line, bool *used)
{
        bool at_start = true;

        for (const char *p = line; *p; p++) {
                if (*p == '#' && (p == line || isspace((unsigned char)p[-1]))) {
                        return; /* a comment */
                }
                if (at_start && !isspace((unsigned char)*p)) {
                        int i = command_at(p);
                        if (i >= 0) {
                                used[i] = true;
                        }
                        at_start = false;
                }
                if (*p == '|' || *p == ';' || (*p == '&' && p[1] == '&') ||
                    (*p == '$' && p[1] == '(')) {
                        at_start = true;
                        p += *p == '|' || *p == ';' ? 0 : 1;
                }
        }
}

/* True when @p entry is a word of ./dev's packages=( ) or commands=( ). */
static bool dev_installs(const char *dev, const char *entry)
{
        static const char *const lists[] = {"\npackages=(", "\ncommands=(",
                                            NULL};
        size_t len = strlen(entry);

        for (const char *const *l = lists; *l; l++) {
                const char *p = strstr(dev, *l), *end;

                ck_assert_msg(p, "./dev has no %s", *l + 1);
                p += strlen(*l);
                end = strchr(p, ')');
                for (; (p = strstr(p, entry)) && p < end; p++) {
                        if (isspace((unsigned char)p[-1]) &&
                            (isspace((unsigned char)p[len]) || p[len] == ')')) {
                                return true;
                        }
                }
        }
        return false;
}

START_TEST(commands_installed_by_dev)
{
        codes_t c = readme_codes();
        char *dev = test_read_file(test_path("dev"), NULL);
        bool used[sizeof(provided) / sizeof(*provided)] = {false};
        int cnt = 0;

        for (size_t i = 0; i < c.cnt; i++) {
                char *save = NULL, *text = strdup(c.items[i].text);
                if (strcmp(c.items[i].lang, "sh")) {
                        free(text);
                        continue;
                }
                for (char *l = strtok_r(text, "\n", &save); l;
                     l = strtok_r(NULL, "\n", &save)) {
                        commands_of(l, used);
                }
                free(text);
        }
        for (size_t i = 0; i < sizeof(provided) / sizeof(*provided); i++) {
                if (!used[i]) {
                        continue;
                }
                ck_assert_msg(dev_installs(dev, provided[i].dev_entry),
                              "the README runs %s, but ./dev does not "
                              "install %s",
                              provided[i].cmd, provided[i].dev_entry);
                cnt++;
        }
        ck_assert_msg(used[0] && used[1] && used[2],
                      "curl, kcat and psql are no longer found in the "
                      "README's shell blocks: is the parser broken?");
        printf("summary: the %d commands the README runs are installed by "
               "./dev\n",
               cnt);
        free(dev);
        codes_free(&c);
}
END_TEST

/* Every `reducerd X` shown is a subcommand; complete `reducerd reduce`
 * and `reducerd check` commands (no services needed: not check
 * --postgres) run as written. */
START_TEST(reducerd_commands_work)
{
        codes_t c = readme_codes();
        int seen = 0, ran = 0;

        ck_assert_int_eq(chdir(test_srcdir()), 0);
        for (size_t i = 0; i < c.cnt; i++) {
                char *save = NULL, *text = strdup(c.items[i].text);

                /* inline code wraps with the prose: one line */
                if (!c.items[i].lang[0]) {
                        for (char *q = text; *q; q++) {
                                *q = *q == '\n' ? ' ' : *q;
                        }
                }
                for (char *l = strtok_r(text, "\n", &save); l;
                     l = strtok_r(NULL, "\n", &save)) {
                        const char *argv[32];
                        char *w, *wsave = NULL, *hash, *out, *err;
                        size_t n = 0;
                        int rc;

                        while (isspace((unsigned char)*l)) {
                                l++;
                        }
                        if (strncmp(l, "reducerd ", 9)) {
                                continue;
                        }
                        if ((hash = strstr(l, " #"))) {
                                *hash = '\0';
                        }
                        argv[n++] = test_bin();
                        for (w = strtok_r(l + 9, " ", &wsave); w && n < 31;
                             w = strtok_r(NULL, " ", &wsave)) {
                                argv[n++] = w;
                        }
                        argv[n] = NULL;
                        ck_assert_msg(n >= 2, "%s:%d: `reducerd` alone",
                                      README_MD, c.items[i].line);
                        /* check --postgres needs a database */
                        if (n > 2 && (!strcmp(argv[1], "reduce") ||
                                      (!strcmp(argv[1], "check") &&
                                       strcmp(argv[n - 1], "--postgres")))) {
                                ran++;
                        } else {
                                argv[2] = "--help";
                                argv[3] = NULL;
                        }
                        rc = test_run(argv, NULL, &out, &err);
                        ck_assert_msg(
                                rc == 0, "%s:%d: reducerd %s ... exits %d: %s",
                                README_MD, c.items[i].line, argv[1], rc, err);
                        free(out);
                        free(err);
                        seen++;
                }
                free(text);
        }
        ck_assert_int_ge(seen, 6);
        ck_assert_int_ge(ran, 2);
        printf("summary: %d reducerd commands shown, %d run as written\n", seen,
               ran);
        codes_free(&c);
}
END_TEST

/* --- the Tests section -------------------------------------------- */

typedef enum {
        CHECK_SUITE,
        REPO_CHECK,
        SEED_REPLAY,
        INTEGRATION,
        KIND_CNT
} kind_t;

/* What a meson test is: an integration suite, a repository check (a
 * script), the seed replay of a fuzz target, or a Check unit suite. */
static kind_t kind_of(json_t *t)
{
        static const char *const checks[] = {"symbols", "layers", "tree",
                                             "clang_format", NULL};
        const char *name = json_string_value(json_object_get(t, "name"));
        json_t *sv;
        size_t k;

        json_array_foreach(json_object_get(t, "suite"), k, sv)
        {
                const char *s = json_string_value(sv);
                if (s && strstr(s, ":integration")) {
                        return INTEGRATION;
                }
        }
        for (const char *const *c = checks; *c; c++) {
                if (!strcmp(*c, name)) {
                        return REPO_CHECK;
                }
        }
        return strncmp(name, "fuzz_", 5) ? CHECK_SUITE : SEED_REPLAY;
}

/* The numbers of "## Tests" are what meson runs (its introspection of
 * this build) and what tests/fuzz builds. */
START_TEST(test_counts_are_right)
{
        char *sec =
                test_markdown_section(test_path(README_MD), "## Tests", NULL);
        const char *build = getenv("RED_BUILDDIR");
        char path[4096], flat[8192];
        json_error_t jerr;
        json_t *tests;
        regex_t re;
        regmatch_t m[7];
        int claim[6], have[6], kinds[KIND_CNT] = {0};
        size_t k = 0, ti;
        json_t *t;

        ck_assert_ptr_nonnull(build);
        snprintf(path, sizeof(path), "%s/meson-info/intro-tests.json", build);
        tests = json_load_file(path, 0, &jerr);
        ck_assert_msg(tests, "%s: %s", path, jerr.text);
        for (const char *p = sec; *p && k < sizeof(flat) - 1; p++) {
                flat[k++] = isspace((unsigned char)*p) ? ' ' : *p;
        }
        flat[k] = '\0';
        ck_assert_int_eq(
                regcomp(&re,
                        "runs ([0-9]+) test programs: ([0-9]+) Check unit "
                        "suites .* ([0-9]+) repository checks .* ([0-9]+) "
                        "fuzz-seed replays and ([0-9]+) integration suites .* "
                        "each of the ([0-9]+) fuzz targets",
                        REG_EXTENDED),
                0);
        ck_assert_msg(regexec(&re, flat, 7, m, 0) == 0,
                      "%s, \"## Tests\": the sentence with the counts "
                      "changed; keep \"runs N test programs: N Check unit "
                      "suites ... N repository checks ... N fuzz-seed "
                      "replays and N integration suites ... each of the N "
                      "fuzz targets\"",
                      README_MD);
        for (int i = 0; i < 6; i++) {
                claim[i] = atoi(flat + m[i + 1].rm_so);
        }
        regfree(&re);
        json_array_foreach(tests, ti, t)
        {
                kinds[kind_of(t)]++;
        }
        have[0] = (int)json_array_size(tests);
        have[1] = kinds[CHECK_SUITE];
        have[2] = kinds[REPO_CHECK];
        have[3] = kinds[SEED_REPLAY];
        have[4] = kinds[INTEGRATION];
        have[5] = kinds[SEED_REPLAY]; /* one replay per fuzz target */
        for (int i = 0; i < 6; i++) {
                ck_assert_msg(claim[i] == have[i],
                              "%s, \"## Tests\": count %d says %d, meson "
                              "runs %d (programs, Check unit suites, "
                              "repository checks, fuzz-seed replays, "
                              "integration suites, fuzz targets)",
                              README_MD, i + 1, claim[i], have[i]);
        }
        printf("summary: README test counts match meson: %d programs\n",
               have[0]);
        json_decref(tests);
        free(sec);
}
END_TEST

/* `./dev fuzz` is in the Tests section and in ./dev's help. */
START_TEST(fuzzing_documented)
{
        char *sec =
                test_markdown_section(test_path(README_MD), "## Tests", NULL);
        char dev[4096], *out, *err;
        const char *argv[] = {dev, "help", NULL};

        snprintf(dev, sizeof(dev), "%s", test_path("dev"));
        ck_assert_ptr_nonnull(strstr(sec, "`./dev fuzz [SECONDS]`"));
        ck_assert_int_eq(test_run(argv, NULL, &out, &err), 0);
        ck_assert_msg(strstr(out, "./dev fuzz [SECONDS]"), "%s", out);
        free(out);
        free(err);
        free(sec);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("readme");
        TCase *tc = tcase_create("readme");

        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, named_paths_exist);
        tcase_add_test(tc, commands_installed_by_dev);
        tcase_add_test(tc, reducerd_commands_work);
        tcase_add_test(tc, test_counts_are_right);
        tcase_add_test(tc, fuzzing_documented);
        suite_add_tcase(s, tc);
        return test_main(s);
}
