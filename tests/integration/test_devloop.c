/*
 * Integration: the developer loop (./dev). `./dev run` stops everything it
 * started on every way it ends (Ctrl-C, SIGTERM to its process group,
 * reducerd failing at start on a taken HTTP port), gives reducerd one
 * signal and time to commit, and picks a free HTTP port; npm failing does
 * not stop `./dev build`; the README's "Operating it" commands work as
 * written. Each case runs ./dev on a state directory of its own
 * (REDUCERD_DEV_STATE), with its own PostgreSQL, so the suite's database
 * is never touched.
 */
#include "red_itest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How long ./dev may take to start (packages checked, build up to date,
 * initdb, migrations, reducerd) and to stop. */
#define START_MS 180000
#define STOP_MS  120000

typedef struct devrun_s {
        char *state;        /* REDUCERD_DEV_STATE of this case */
        char out[PATH_MAX]; /* what ./dev printed */
        pid_t pid;          /* ./dev, leader of its own process group */
        int held;           /* a listening socket the test holds */
        int held_port;
} devrun_t;

/* --- running ./dev ------------------------------------------------ */

static bool overridden(const char *entry, const char *const *extra)
{
        size_t len = strcspn(entry, "=");

        /* the suite's own database and settings never reach ./dev */
        if (!strncmp(entry, "PG", 2) || !strncmp(entry, "REDUCERD_", 9)) {
                return true;
        }
        for (size_t i = 0; extra && extra[i]; i++) {
                if (!strncmp(extra[i], entry, len) && extra[i][len] == '=') {
                        return true;
                }
        }
        return false;
}

/* The environment of ./dev: ours without PG* and REDUCERD_*, its state
 * and build directories, a start port for its PostgreSQL, and @p extra
 * (each name once: bash keeps the last of duplicates). */
static char **dev_env(const devrun_t *d, const char *const *extra)
{
        size_t n = 0, k = 0;
        char **env;

        while (environ[n]) {
                n++;
        }
        env = calloc(n + 8 + 32, sizeof(*env));
        ck_assert_ptr_nonnull(env);
        for (size_t i = 0; i < n; i++) {
                if (!overridden(environ[i], extra)) {
                        env[k++] = environ[i];
                }
        }
        ck_assert_int_ge(asprintf(&env[k++], "REDUCERD_DEV_STATE=%s", d->state),
                         0);
        ck_assert_int_ge(asprintf(&env[k++], "REDUCERD_DEV_BUILD=%s",
                                  getenv("RED_BUILDDIR")),
                         0);
        ck_assert_int_ge(asprintf(&env[k++], "REDUCERD_DEV_PGPORT=%d",
                                  56000 + (int)(getpid() % 400) * 5),
                         0);
        for (size_t i = 0; extra && extra[i] && i < 30; i++) {
                env[k++] = (char *)extra[i];
        }
        return env;
}

/* Starts ./dev ARGS (or, when ARGS start with "bash", bash with the rest)
 * in the source tree, in its own process group as a terminal would, output
 * to d->out. */
static void dev_start(devrun_t *d, const char *const *args,
                      const char *const *extra)
{
        const char *argv[16];
        char dev[PATH_MAX];
        char **env = dev_env(d, extra);
        size_t n = 0;

        ck_assert_ptr_nonnull(getenv("RED_BUILDDIR"));
        snprintf(dev, sizeof(dev), "%s/dev", test_srcdir());
        if (!strcmp(args[0], "bash")) {
                argv[n++] = "/bin/bash";
                args++;
        } else {
                argv[n++] = dev;
        }
        for (; *args && n < 15; args++) {
                argv[n++] = *args;
        }
        argv[n] = NULL;
        d->pid = fork();
        ck_assert_int_ge(d->pid, 0);
        if (d->pid == 0) {
                int fd = open(d->out, O_WRONLY | O_CREAT | O_APPEND, 0644);

                setpgid(0, 0);
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
                if (chdir(test_srcdir())) {
                        _exit(126);
                }
                execve(argv[0], (char *const *)argv, env);
                _exit(127);
        }
        setpgid(d->pid, d->pid); /* whichever of us runs first */
        free(env);
}

static char *dev_output(const devrun_t *d)
{
        return access(d->out, R_OK) ? strdup("") : test_read_file(d->out, NULL);
}

/* Its bootstrap file: written once reducerd has started. */
static bool dev_up(void *opaque)
{
        const devrun_t *d = opaque;
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/bootstrap", d->state);
        return access(path, F_OK) == 0 || itest_poll(d->pid) != -2;
}

/* --- what is left ------------------------------------------------- */

/* Reads /proc/PID/NAME with NULs as spaces; returns the length or -1. */
static ssize_t proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
        char path[300];
        ssize_t len;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
        if ((fd = open(path, O_RDONLY)) < 0) {
                return -1;
        }
        len = read(fd, buf, size - 1);
        close(fd);
        for (ssize_t i = 0; i < len; i++) {
                buf[i] = buf[i] ? buf[i] : ' ';
        }
        buf[len > 0 ? len : 0] = '\0';
        return len;
}

/* Pids of what this case started and left: processes whose command line
 * names @p state (the postgres of its data directory, reducerd's
 * --bootstrap-file) or whose environment holds REDUCERD_DEV_STATE=@p state
 * (anything ./dev ran). */
static int leftovers(const char *state, pid_t *pids, int max)
{
        DIR *proc = opendir("/proc");
        struct dirent *de;
        char env_var[PATH_MAX + 32];
        int n = 0;

        snprintf(env_var, sizeof(env_var), "REDUCERD_DEV_STATE=%s ", state);
        ck_assert_ptr_nonnull(proc);
        while ((de = readdir(proc)) && n < max) {
                static char buf[1 << 16];
                pid_t pid = (pid_t)atoi(de->d_name);

                if (pid <= 0 || pid == getpid()) {
                        continue;
                }
                if ((proc_read(pid, "cmdline", buf, sizeof(buf)) > 0 &&
                     strstr(buf, state)) ||
                    (proc_read(pid, "environ", buf, sizeof(buf)) > 0 &&
                     strstr(buf, env_var))) {
                        pids[n++] = pid;
                }
        }
        closedir(proc);
        return n;
}

static bool nothing_left(void *opaque)
{
        const devrun_t *d = opaque;
        pid_t pids[16];

        return leftovers(d->state, pids, 16) == 0;
}

static void assert_nothing_left(devrun_t *d)
{
        pid_t pids[16];
        char all[8192] = "";

        if (test_wait_for(nothing_left, d, 15000)) {
                return;
        }
        for (int i = 0, n = leftovers(d->state, pids, 16); i < n; i++) {
                char cmd[1024];
                size_t len = strlen(all);

                proc_read(pids[i], "cmdline", cmd, sizeof(cmd));
                snprintf(all + len, sizeof(all) - len, "%d %s\n", (int)pids[i],
                         cmd);
        }
        ck_abort_msg("./dev left processes behind:\n%s", all);
}

/* --- set-up and clean-up ------------------------------------------- */

/* The case's ./dev: set up and torn down by an unchecked fixture, in the
 * runner's process, so the clean-up runs even when the case fails (a
 * failed assertion ends the case's own process at once). */
static devrun_t dev;

static void dev_setup(void)
{
        devrun_t *d = &dev;
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);

        memset(d, 0, sizeof(*d));
        d->pid = -1;
        d->state = test_tmpdir();
        snprintf(d->out, sizeof(d->out), "%s.out", d->state);
        /* a port that is taken for as long as the case runs */
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        d->held = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(bind(d->held, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(listen(d->held, 1), 0);
        ck_assert_int_eq(getsockname(d->held, (struct sockaddr *)&sa, &len), 0);
        d->held_port = ntohs(sa.sin_port);
}

/* Stops the PostgreSQL of this case's state, if it runs (@p mode: fast,
 * or immediate when cleaning up after a failure). */
static void pg_stop_state(const devrun_t *d, const char *mode)
{
        char cmd[2 * PATH_MAX];

        snprintf(cmd, sizeof(cmd),
                 "%s/usr/lib/postgresql/15/bin/pg_ctl -D '%s/pg/data' -m %s "
                 "-w stop >/dev/null 2>&1",
                 getuid() == 0 ? "runuser -u postgres -- " : "", d->state,
                 mode);
        if (system(cmd)) {
                /* not running */
        }
}

/* Whatever happened: nothing of this case survives it. The runner does
 * not know the pid of ./dev (the case forked it): everything is found by
 * its state directory. */
static void dev_teardown(void)
{
        devrun_t *d = &dev;
        char cmd[3 * PATH_MAX];
        pid_t pids[16];

        pg_stop_state(d, "immediate");
        for (int i = 0, n = leftovers(d->state, pids, 16); i < n; i++) {
                kill(pids[i], SIGKILL);
        }
        close(d->held);
        if (!getenv("RED_KEEP_TEST_DIRS")) {
                snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", d->state,
                         d->out);
                if (system(cmd)) {
                        /* leave it */
                }
        }
        free(d->state);
}

/* ./dev run up to the point where reducerd serves. */
static void run_until_up(devrun_t *d, const char *const *extra)
{
        const char *args[] = {"run", NULL};
        char *out;

        dev_start(d, args, extra);
        ck_assert_msg(test_wait_for(dev_up, d, START_MS),
                      "./dev run did not start");
        out = dev_output(d);
        ck_assert_msg(itest_poll(d->pid) == -2, "./dev run ended:\n%s", out);
        free(out);
}

/* After a signal: reducerd got exactly one (SIGTERM from ./dev) and
 * finished its batches, and nothing is left. */
static void assert_clean_stop(devrun_t *d, int want_status)
{
        int st = itest_stop(d->pid, 0, STOP_MS);
        char *out = dev_output(d);

        ck_assert_msg(st == want_status, "./dev run exited %d, not %d:\n%s", st,
                      want_status, out);
        ck_assert_msg(strstr(out, "signal 15: finishing the current batches"),
                      "reducerd was not stopped by one SIGTERM:\n%s", out);
        ck_assert_msg(strstr(out, "daemon: stopped"),
                      "reducerd did not finish (a second signal makes it "
                      "exit at once):\n%s",
                      out);
        ck_assert_msg(strstr(out, "==> stopping PostgreSQL"),
                      "PostgreSQL was not stopped:\n%s", out);
        free(out);
        assert_nothing_left(d);
}

/* --- the cases ---------------------------------------------------- */

/* --- the README's first steps ------------------------------------ */

/* The quoted progress line as a pattern: numbers may differ. */
static void progress_pattern(regex_t *re)
{
        char *doc = test_read_file(test_path("README.md"), NULL);
        char *q = strstr(doc, "`codegen_metrics: +"), *end, pat[1024];
        size_t k = 0;

        ck_assert_msg(q, "README.md quotes no progress line");
        end = strchr(q + 1, '`');
        ck_assert_ptr_nonnull(end);
        pat[k++] = '^';
        for (char *p = q + 1; p < end && k < sizeof(pat) - 16; p++) {
                if (isdigit((unsigned char)*p)) {
                        while (isdigit((unsigned char)p[1])) {
                                p++;
                        }
                        k += (size_t)snprintf(pat + k, sizeof(pat) - k,
                                              "[0-9]+");
                } else if (isspace((unsigned char)*p)) {
                        while (isspace((unsigned char)p[1])) {
                                p++;
                        }
                        pat[k++] = ' '; /* the prose wraps it */
                } else {
                        if (strchr(".+*?()[]{}|^$\\", *p)) {
                                pat[k++] = '\\';
                        }
                        pat[k++] = *p;
                }
        }
        pat[k++] = '$';
        pat[k] = '\0';
        ck_assert_int_eq(regcomp(re, pat, REG_EXTENDED | REG_NOSUB), 0);
        free(doc);
}

/* The first progress line of codegen_metrics ./dev printed, or NULL. */
static char *progress_line(const devrun_t *d)
{
        char *out = dev_output(d),
             *p = strstr(out, "pipeline: codegen_metrics: +");
        char *line = NULL;

        if (p) {
                p += strlen("pipeline: ");
                line = strndup(p, strcspn(p, "\n"));
        }
        free(out);
        return line;
}

static bool progress_printed(void *opaque)
{
        char *line = progress_line(opaque);

        free(line);
        return line != NULL;
}

/* The README's block for a second terminal, as written but for the state
 * directory (.dev/ is this case's); returns its output. */
static char *run_second_terminal(devrun_t *d)
{
        char *doc = test_read_file(test_path("README.md"), NULL);
        char *p = strstr(doc, "What `./dev run` shows"), *end, *out;
        char script[8192], state[PATH_MAX + 2];
        const char *args[] = {"bash", "-c", script, NULL};
        devrun_t sub = *d;
        size_t k;
        int st;

        ck_assert_ptr_nonnull(p);
        p = strstr(p, "```sh\n");
        ck_assert_ptr_nonnull(p);
        p += 6;
        end = strstr(p, "```");
        ck_assert_ptr_nonnull(end);
        snprintf(state, sizeof(state), "%s/", d->state);
        k = (size_t)snprintf(script, sizeof(script), "set -euo pipefail\n");
        while (p < end && k < sizeof(script) - sizeof(state)) {
                if (!strncmp(p, ".dev/", 5)) {
                        k += (size_t)snprintf(script + k, sizeof(script) - k,
                                              "%s", state);
                        p += 5;
                } else {
                        script[k++] = *p++;
                }
        }
        script[k] = '\0';
        ck_assert_int_lt(
                snprintf(sub.out, sizeof(sub.out), "%.4000s.second", d->state),
                (int)sizeof(sub.out));
        dev_start(&sub, args, NULL);
        st = itest_stop(sub.pid, 0, START_MS);
        out = dev_output(&sub);
        ck_assert_msg(st == 0,
                      "the README's second-terminal block failed "
                      "(%d):\n%s\n%s",
                      st, script, out);
        unlink(sub.out);
        free(doc);
        return out;
}

/* /healthz on port *opaque answers 200. */
static bool healthz_ok(void *opaque)
{
        char *body;
        bool ok = itest_http_get(*(int *)opaque, "/healthz", &body) == 200;

        free(body);
        return ok;
}

/* Ctrl-C: the terminal signals the whole foreground process group. The
 * HTTP port ./dev starts its search from is taken: it takes the next free
 * one and prints it. Before that, the README's first steps: produce from
 * a second terminal, then the progress line it quotes. */
START_TEST(ctrl_c)
{
        devrun_t *d = &dev;
        char start[64], *out, *p, *line;
        const char *extra[] = {start, NULL};
        regex_t re;
        int port;

        snprintf(start, sizeof(start), "REDUCERD_DEV_HTTP_PORT=%d",
                 d->held_port);
        run_until_up(d, extra);
        out = dev_output(d);
        p = strstr(out, "==> HTTP: http://127.0.0.1:");
        ck_assert_msg(p, "./dev run does not print its HTTP port:\n%s", out);
        port = atoi(p + strlen("==> HTTP: http://127.0.0.1:"));
        ck_assert_int_gt(port, d->held_port);
        /* up means Kafka is; reducerd's server follows a moment later */
        free(out);
        if (!test_wait_for(healthz_ok, &port, START_MS)) {
                /* what ./dev and reducerd said, for the failure's cause */
                out = dev_output(d);
                ck_abort_msg("/healthz on port %d never answered 200; the "
                             "end of ./dev run's output:\n%s",
                             port,
                             strlen(out) > 3000 ? out + strlen(out) - 3000
                                                : out);
        }

        out = run_second_terminal(d);
        ck_assert_msg(strstr(out, "aggregation_type"), "%s", out);
        free(out);
        ck_assert_msg(test_wait_for(progress_printed, d, 60000),
                      "no progress line after an event");
        line = progress_line(d);
        progress_pattern(&re);
        ck_assert_msg(regexec(&re, line, 0, NULL, 0) == 0,
                      "the README quotes a progress line unlike what "
                      "reducerd prints: %s",
                      line);
        regfree(&re);
        ck_assert_msg(!strncmp(line, "codegen_metrics: +1 events in ", 30) &&
                              strstr(line, ": 1 consumed = 1 applied + 0 "
                                           "dead-lettered + 0 late-dropped "
                                           "+ 0 duplicates; lag "),
                      "%s", line);
        free(line);

        ck_assert_int_eq(kill(-d->pid, SIGINT), 0);
        assert_clean_stop(d, 130);
}
END_TEST

/* SIGTERM to the process group (a supervisor, `kill -- -PGID`). */
START_TEST(sigterm_to_group)
{
        devrun_t *d = &dev;

        run_until_up(d, NULL);
        ck_assert_int_eq(kill(-d->pid, SIGTERM), 0);
        assert_clean_stop(d, 143);
}
END_TEST

/* reducerd fails at start (its HTTP port is taken): ./dev fails with it
 * and stops the PostgreSQL it started. */
START_TEST(reducerd_fails_at_start)
{
        devrun_t *d = &dev;
        char listen[64], want[128], *out;
        const char *extra[] = {listen, NULL};
        const char *args[] = {"run", NULL};
        int st;

        snprintf(listen, sizeof(listen), "REDUCERD_HTTP_LISTEN=127.0.0.1:%d",
                 d->held_port);
        dev_start(d, args, extra);
        st = itest_stop(d->pid, 0, START_MS);
        out = dev_output(d);
        ck_assert_msg(st == 1, "./dev run exited %d:\n%s", st, out);
        snprintf(want, sizeof(want), "cannot listen on 127.0.0.1:%d",
                 d->held_port);
        ck_assert_msg(strstr(out, want), "%s", out);
        ck_assert_msg(strstr(out, "==> stopping PostgreSQL"),
                      "PostgreSQL was not stopped:\n%s", out);
        free(out);
        assert_nothing_left(d);
}
END_TEST

/* npm unreachable: `./dev build` still succeeds and says what will fail. */
START_TEST(npm_failure_not_fatal)
{
        devrun_t *d = &dev;
        char bin[PATH_MAX], npm[PATH_MAX + 8], path[8192], *out;
        const char *extra[] = {path, NULL};
        const char *args[] = {"build", NULL};
        static const char fake[] =
                "#!/bin/sh\n"
                "echo 'npm ERR! request to https://registry.npmjs.org/kafkajs "
                "failed, reason: getaddrinfo EAI_AGAIN registry.npmjs.org' "
                ">&2\n"
                "exit 1\n";
        int st;

        snprintf(bin, sizeof(bin), "%s/bin", d->state);
        ck_assert_int_eq(mkdir(bin, 0755), 0);
        snprintf(npm, sizeof(npm), "%s/npm", bin);
        test_write_file(npm, fake, strlen(fake));
        ck_assert_int_eq(chmod(npm, 0755), 0);
        snprintf(path, sizeof(path), "PATH=%s:%s", bin, getenv("PATH"));
        dev_start(d, args, extra);
        st = itest_stop(d->pid, 0, START_MS);
        out = dev_output(d);
        ck_assert_msg(st == 0, "./dev build failed (%d) with npm down:\n%s", st,
                      out);
        ck_assert_msg(strstr(out, "npm install kafkajs@2 failed") &&
                              strstr(out, "EAI_AGAIN") &&
                              strstr(out, "the tests that need kafkajs will "
                                          "fail, the others run"),
                      "no clear warning:\n%s", out);
        free(out);
}
END_TEST

/* The README's "Operating it" block, line by line as written (without
 * their comments), `reducerd run` stopped by SIGTERM once it runs. */
START_TEST(readme_operating_block)
{
        devrun_t *d = &dev;
        char *sec = test_markdown_section(test_path("README.md"),
                                          "## Operating it", NULL);
        char *block, *end, *line, *save = NULL, *out, script[16384];
        const char *extra[] = {"REDUCERD_HTTP_LISTEN=127.0.0.1:0", NULL};
        const char *args[] = {"bash", "-c", script, NULL};
        size_t len;
        int lines = 0, st;

        len = (size_t)snprintf(script, sizeof(script),
                               "set -euo pipefail\nlog='%s/run.log'\n",
                               d->state);
        block = strstr(sec, "```sh\n");
        ck_assert_ptr_nonnull(block);
        block += 6;
        end = strstr(block, "```");
        ck_assert_ptr_nonnull(end);
        *end = '\0';
        for (line = strtok_r(block, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *hash = strstr(line, "  #");

                if (hash) {
                        *hash = '\0';
                }
                len += (size_t)snprintf(script + len, sizeof(script) - len,
                                        "echo '+ %s'\n", line);
                if (!strncmp(line, "reducerd run", 12)) {
                        len += (size_t)snprintf(
                                script + len, sizeof(script) - len,
                                "%s 2>\"$log\" &\n"
                                "pid=$!\n"
                                "for i in $(seq 600); do\n"
                                "  grep -q 'running 3 pipelines' \"$log\" "
                                "&& break\n"
                                "  kill -0 $pid || break\n"
                                "  sleep 0.1\n"
                                "done\n"
                                "kill -TERM $pid\n"
                                "wait $pid\n"
                                "cat \"$log\"\n",
                                line);
                } else {
                        len += (size_t)snprintf(script + len,
                                                sizeof(script) - len, "%s\n",
                                                line);
                }
                ck_assert_uint_lt(len, sizeof(script));
                lines++;
        }
        ck_assert_int_ge(lines, 6);
        dev_start(d, args, extra);
        st = itest_stop(d->pid, 0, START_MS);
        out = dev_output(d);
        ck_assert_msg(st == 0, "the README block failed (%d):\n%s\n%s", st,
                      script, out);
        ck_assert_msg(strstr(out, "config/reducerd.yaml: ok"), "%s", out);
        ck_assert_msg(strstr(out, "daemon: running 3 pipelines") &&
                              strstr(out, "daemon: stopped"),
                      "%s", out);
        ck_assert_msg(strstr(out, "{\"table\":\"agent_metrics_rollup\""),
                      "reduce printed no rows:\n%s", out);
        free(out);
        free(sec);
        /* `./dev pg` leaves its PostgreSQL running, as documented */
        pg_stop_state(d, "fast");
        assert_nothing_left(d);
}
END_TEST

int main(void)
{
        Suite *s = suite_create("devloop");

        const struct {
                const char *name;
                const TTest *test;
        } cases[] = {
                {"ctrl_c", ctrl_c},
                {"sigterm_group", sigterm_to_group},
                {"reducerd_fails", reducerd_fails_at_start},
                {"npm_down", npm_failure_not_fatal},
                {"readme_operating", readme_operating_block},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                tcase_add_unchecked_fixture(
                        test_add_case(s, cases[i].name, cases[i].test, 600),
                        dev_setup, dev_teardown);
        }
        return test_main(s);
}
