/* Integration test support: mock Kafka process, reducerd processes, table
 * comparison. */
#include "red_itest.h"

#include "red_contract.h"
#include "red_time.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <fcntl.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* In a child the test forked: dies with the test process (SIGKILL when it
 * exits, also on a failed assertion), so no server outlives a test.
 * @p parent is the test's pid from before the fork. */
static void die_with(pid_t parent)
{
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
                _exit(127); /* it is gone already */
        }
}

extern char **environ;

static const char *env_or(const char *name, const char *def)
{
        const char *v = getenv(name);
        return v ? v : def;
}

void itest_init(itest_t *t, const char *name)
{
        char env[512], *out, *err, codegen[4096], agent[4096];
        const char *envs[] = {env, NULL};
        const char *argv[] = {test_bin(), "migrate", codegen, agent, NULL};
        int rc;

        memset(t, 0, sizeof(*t));
        t->kafka_pid = -1;
        t->dir = test_tmpdir();
        t->conninfo = test_pg_create_db(name);
        snprintf(env, sizeof(env), "REDUCERD_POSTGRES_CONNINFO=%s",
                 t->conninfo);
        /* the engine's tables and those of the shipped contracts */
        snprintf(codegen, sizeof(codegen), "%s",
                 test_path("contracts/codegen_metrics.yaml"));
        snprintf(agent, sizeof(agent), "%s",
                 test_path("contracts/agent_metrics.yaml"));
        rc = test_run(argv, envs, &out, &err);
        ck_assert_msg(rc == 0, "migrate: %s", err);
        free(out);
        free(err);
}

int itest_cmd(itest_t *t, const char *const *args, char **out, char **err)
{
        char env[512];
        const char *envs[] = {env, NULL};
        const char *argv[32];
        size_t n = 0;

        argv[n++] = test_bin();
        for (size_t i = 0; args[i] && n < 31; i++) {
                argv[n++] = args[i];
        }
        argv[n] = NULL;
        snprintf(env, sizeof(env), "REDUCERD_POSTGRES_CONNINFO=%s",
                 t->conninfo);
        return test_run(argv, envs, out, err);
}

char *itest_cmd_ok(itest_t *t, const char *const *args)
{
        char *out, *err;
        int rc = itest_cmd(t, args, &out, &err);

        ck_assert_msg(rc == 0, "reducerd %s %s: exit %d: %s%s", args[0],
                      args[1] ? args[1] : "", rc, err, out);
        free(err);
        return out;
}

char *itest_edit(itest_t *t, const char *rel, const char *name,
                 const char *const *edits)
{
        char *text = test_read_file(test_path(rel), NULL), *path;

        for (size_t i = 0; edits[i]; i += 2) {
                char *at = strstr(text, edits[i]), *n;
                ck_assert_msg(at != NULL, "%s: no \"%s\"", rel, edits[i]);
                ck_assert_int_ge(asprintf(&n, "%.*s%s%s", (int)(at - text),
                                          text, edits[i + 1],
                                          at + strlen(edits[i])),
                                 0);
                free(text);
                text = n;
        }
        ck_assert_int_ge(asprintf(&path, "%s/%s", t->dir, name), 0);
        test_write_file(path, text, strlen(text));
        free(text);
        return path;
}

char *itest_value(const char *conninfo, const char *sql)
{
        PGconn *c = test_pg_connect(conninfo);
        char *v = test_pg_value(c, sql);

        PQfinish(c);
        return v;
}

const char *itest_db_config(itest_t *t, const char *const *contracts)
{
        static char path[4096];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/db.yaml", t->dir);
        fp = fopen(path, "w");
        ck_assert_ptr_nonnull(fp);
        fprintf(fp, "postgres:\n  conninfo: \"%s\"\ncontracts:\n  paths:\n",
                t->conninfo);
        for (size_t i = 0; contracts[i]; i++) {
                fprintf(fp, "    - \"%s\"\n", contracts[i]);
        }
        fprintf(fp, "http:\n  listen: \"\"\n");
        ck_assert_int_eq(fclose(fp), 0);
        return path;
}

/* Adds a topic to a NULL-terminated list unless present. */
static void add_topic(const char **list, size_t *cnt, const char *topic)
{
        for (size_t i = 0; i < *cnt; i++) {
                if (!strcmp(list[i], topic)) {
                        return;
                }
        }
        list[(*cnt)++] = topic;
        list[*cnt] = NULL;
}

void itest_kafka(itest_t *t, int partitions, const char *const *contracts)
{
        const char *argv[256];
        red_contract_t *cs[8] = {NULL};
        char parts[16], line[512], err[2048];
        int in[2], out[2];
        size_t n = 0, ncs = 0;
        pid_t parent;
        FILE *fp;

        snprintf(parts, sizeof(parts), "%d", partitions);
        argv[n++] = env_or("RED_MOCK_SERVER", "kafka_mock_server");
        argv[n++] = "-p";
        argv[n++] = parts;
        argv[n] = NULL;
        for (size_t i = 0; contracts && contracts[i]; i++) {
                red_contract_t *c =
                        red_contract_load(contracts[i], err, sizeof(err));
                ck_assert_msg(c != NULL, "%s", err);
                cs[ncs++] = c;
                for (size_t k = 0; k < c->input_cnt; k++) {
                        add_topic(argv, &n, c->inputs[k].topic);
                }
                add_topic(argv, &n, c->dead_letter_topic);
                for (size_t a = 0; a < c->agg_cnt; a++) {
                        if (c->aggs[a].publish.topic) {
                                add_topic(argv, &n, c->aggs[a].publish.topic);
                        }
                }
                if (c->fsm && c->fsm->publish.topic) {
                        add_topic(argv, &n, c->fsm->publish.topic);
                }
                if (c->alerts && c->alerts->publish.topic) {
                        add_topic(argv, &n, c->alerts->publish.topic);
                }
                for (size_t s = 0; s < c->state_cnt; s++) {
                        const red_state_t *st = &c->states[s];
                        const red_publish_t *pub[] = {
                                &st->on_created, &st->on_deleted,
                                &st->on_status, &st->on_start};
                        for (size_t k = 0; k < 4; k++) {
                                if (pub[k]->topic) {
                                        add_topic(argv, &n, pub[k]->topic);
                                }
                        }
                }
        }
        ck_assert_int_eq(pipe(in), 0);
        ck_assert_int_eq(pipe(out), 0);
        parent = getpid();
        t->kafka_pid = fork();
        ck_assert_int_ge(t->kafka_pid, 0);
        if (t->kafka_pid == 0) {
                die_with(parent);
                dup2(in[0], 0);
                dup2(out[1], 1);
                close(in[1]);
                close(out[0]);
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        t->kafka_stdin = in[1];
        fp = fdopen(out[0], "r");
        ck_assert_msg(fgets(line, sizeof(line), fp) != NULL,
                      "the mock Kafka did not start");
        line[strcspn(line, "\n")] = '\0';
        t->bootstrap = strdup(line);
        fclose(fp);
        for (size_t i = 0; i < ncs; i++) {
                red_contract_destroy(cs[i]);
        }
}

void itest_kafka_stop(itest_t *t)
{
        if (t->kafka_pid > 0) {
                close(t->kafka_stdin);
                if (itest_stop(t->kafka_pid, 0, 5000) < 0) {
                        itest_stop(t->kafka_pid, SIGKILL, 5000);
                }
                t->kafka_pid = -1;
        }
        free(t->bootstrap);
        t->bootstrap = NULL;
}

/* A producer on the test's cluster (destroy with rd_kafka_destroy()). */
static rd_kafka_t *producer_of(itest_t *t)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        char err[512];

        ck_assert_int_eq(rd_kafka_conf_set(conf, "bootstrap.servers",
                                           t->bootstrap, err, sizeof(err)),
                         RD_KAFKA_CONF_OK);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        ck_assert_msg(rk != NULL, "%s", err);
        return rk;
}

void itest_watermarks(itest_t *t, const char *topic, int32_t partition,
                      int64_t *lo, int64_t *hi)
{
        rd_kafka_t *rk = producer_of(t);

        ck_assert_int_eq(rd_kafka_query_watermark_offsets(rk, topic, partition,
                                                          lo, hi, 10000),
                         0);
        rd_kafka_destroy(rk);
}

void itest_config(itest_t *t, const char *const *contracts, int max_events,
                  int max_ms, const char *extra_yaml)
{
        FILE *fp;

        snprintf(t->config, sizeof(t->config), "%s/reducerd.yaml", t->dir);
        fp = fopen(t->config, "w");
        ck_assert_ptr_nonnull(fp);
        fprintf(fp,
                "kafka:\n  brokers: \"%s\"\n  properties:\n"
                "    partition.assignment.strategy: range,roundrobin\n"
                "    session.timeout.ms: \"6000\"\n"
                "    heartbeat.interval.ms: \"1000\"\n"
                "    topic.metadata.refresh.interval.ms: \"5000\"\n"
                "postgres:\n  conninfo: \"%s\"\n  retry_max_ms: 2000\n"
                "contracts:\n  paths:\n",
                t->bootstrap ? t->bootstrap : "embedded", t->conninfo);
        for (size_t i = 0; contracts[i]; i++) {
                fprintf(fp, "    - \"%s\"\n", contracts[i]);
        }
        fprintf(fp, "batch:\n  max_events: %d\n  max_ms: %d\n", max_events,
                max_ms);
        fprintf(fp, "%s\n", extra_yaml ? extra_yaml : "http:\n  listen: \"\"");
        ck_assert_int_eq(fclose(fp), 0);
}

pid_t itest_start(itest_t *t, const char *const *env, int n)
{
        return itest_start_args(t, env, n, NULL);
}

pid_t itest_start_args(itest_t *t, const char *const *env, int n,
                       const char *const *args)
{
        const char *argv[32];
        char log[4096];
        size_t argc = 0;
        pid_t pid, parent;

        argv[argc++] = test_bin();
        argv[argc++] = "run";
        argv[argc++] = "-c";
        argv[argc++] = t->config;
        for (size_t i = 0; args && args[i] && argc + 1 < 32; i++) {
                argv[argc++] = args[i];
        }
        argv[argc] = NULL;

        snprintf(log, sizeof(log), "%s/reducerd-%d.log", t->dir, n);
        parent = getpid();
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                char id[64];

                die_with(parent);
                dup2(fd, 1);
                dup2(fd, 2);
                snprintf(id, sizeof(id), "REDUCERD_INSTANCE_ID=worker-%d", n);
                putenv(strdup(id));
                for (size_t i = 0; env && env[i]; i++) {
                        putenv(strdup(env[i]));
                }
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        return pid;
}

static int status_of(int st)
{
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int itest_poll(pid_t pid)
{
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);

        return r == pid ? status_of(st) : -2;
}

/* A process to wait for and, once it exited, its status. */
typedef struct exit_wait_s {
        pid_t pid;
        int status;
} exit_wait_t;

static bool exited(void *opaque)
{
        exit_wait_t *w = opaque;

        return (w->status = itest_poll(w->pid)) != -2;
}

int itest_stop(pid_t pid, int sig, long timeout_ms)
{
        exit_wait_t w = {pid, -2};

        if (sig) {
                kill(pid, sig);
        }
        return test_wait_for(exited, &w, timeout_ms) ? w.status : -1;
}

void itest_fini(itest_t *t)
{
        itest_kafka_stop(t);
        if (!getenv("RED_KEEP_TEST_DIRS")) {
                char cmd[4200];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
                if (system(cmd)) {
                        /* leave it */
                }
        }
        free(t->dir);
        free(t->conninfo);
}

void itest_produce(itest_t *t, const char *file, long first, long count)
{
        char range[64], *out, *err;
        const char *argv[] = {env_or("RED_PRODUCE", "produce_jsonl"),
                              "-b",
                              t->bootstrap,
                              "-P",
                              "-n",
                              range,
                              file,
                              NULL};
        int rc;

        snprintf(range, sizeof(range), "%ld,%ld", first, count);
        rc = test_run(argv, NULL, &out, &err);
        ck_assert_msg(rc == 0, "produce: %s", err);
        free(out);
        free(err);
}

pid_t itest_produce_start(itest_t *t, const char *file, const char *topic,
                          double rate)
{
        char r[32];
        pid_t pid;

        snprintf(r, sizeof(r), "%g", rate);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                const char *prog = env_or("RED_PRODUCE", "produce_jsonl");
                int fd = open("/dev/null", O_WRONLY);

                dup2(fd, 2); /* its one line of totals */
                execl(prog, prog, "-b", t->bootstrap, "-P", "-o", topic, "-r",
                      r, file, (char *)NULL);
                _exit(127);
        }
        return pid;
}

void itest_produce_raw(itest_t *t, const char *topic, int32_t partition,
                       const void *value, size_t len, int count)
{
        rd_kafka_t *rk = producer_of(t);

        for (int i = 0; i < count; i++) {
                ck_assert_int_eq(
                        rd_kafka_producev(
                                rk, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_PARTITION(partition),
                                RD_KAFKA_V_VALUE((void *)value, len),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_END),
                        0);
        }
        ck_assert_int_eq(rd_kafka_flush(rk, 30000), 0);
        rd_kafka_destroy(rk);
}

const char *itest_generate(itest_t *t, const char *name, const char *args)
{
        static char path[4096];
        char cmd[8192];

        char start[64] = "";

        snprintf(path, sizeof(path), "%s/%s", t->dir, name);
        if (!strstr(args, "--start")) {
                /* recent events: older ones would fall past the tables'
                 * retention, which the daemon's maintenance enforces */
                char ts[RED_TIME_FMT_SIZE];
                red_time_t now = red_time_now();
                red_time_format(now - (now % RED_TIME_US_PER_HOUR) -
                                        7 * RED_TIME_US_PER_DAY,
                                ts, sizeof(ts));
                snprintf(start, sizeof(start), "--start %s", ts);
        }
        snprintf(cmd, sizeof(cmd), "'%s' %s %s > '%s'",
                 env_or("RED_GEN_EVENTS", "gen_events"), start, args, path);
        ck_assert_msg(system(cmd) == 0, "generator failed: %s", cmd);
        return path;
}

long itest_committed(itest_t *t, const char *group)
{
        PGconn *c = test_pg_connect(t->conninfo);
        const char *vals[1] = {group};
        PGresult *res = PQexecParams(
                c,
                "SELECT coalesce(sum(greatest(next_offset, 0)), 0) FROM "
                "reducerd_offsets WHERE consumer_group = $1",
                1, NULL, vals, NULL, NULL, 0);
        long n = -1;

        if (PQresultStatus(res) == PGRES_TUPLES_OK) {
                n = atol(PQgetvalue(res, 0, 0));
        }
        PQclear(res);
        PQfinish(c);
        return n;
}

typedef struct committed_wait_s {
        itest_t *t;
        const char *group;
        long want;
} committed_wait_t;

static bool committed_reached(void *opaque)
{
        committed_wait_t *w = opaque;

        return itest_committed(w->t, w->group) >= w->want;
}

bool itest_wait_committed(itest_t *t, const char *group, long want,
                          long timeout_ms)
{
        committed_wait_t w = {t, group, want};

        /* each look opens a connection: five a second is plenty */
        return test_wait_every(committed_reached, &w, timeout_ms, 200);
}

long itest_lines(const char *file)
{
        char *text = test_read_file(file, NULL);
        long n = 0;

        for (char *p = text; *p; p++) {
                n += *p == '\n';
        }
        free(text);
        return n;
}

long itest_dead_letters(const char *reduce_output)
{
        long n = 0;

        for (const char *p = reduce_output; (p = strstr(p, "{\"dead_letter\""));
             p++) {
                n++;
        }
        return n;
}

char *itest_reduce(const char *contract, const char *file)
{
        const char *argv[] = {test_bin(), "reduce", "--contract", contract,
                              "--input",  file,     NULL};
        char *out, *err;
        int rc = test_run(argv, NULL, &out, &err);

        ck_assert_msg(rc == 0, "reduce: %s", err);
        free(err);
        return out;
}

/* ------------------------------------------------------------------ */
/* comparison                                                          */
/* ------------------------------------------------------------------ */

static bool both_times(const json_t *a, const json_t *b, red_time_t *ta,
                       red_time_t *tb)
{
        return json_is_string(a) && json_is_string(b) &&
               !red_time_parse(json_string_value(a), json_string_length(a),
                               ta) &&
               !red_time_parse(json_string_value(b), json_string_length(b), tb);
}

/* Values equal; @p scale >= 0 rounds expected numbers to that scale. */
static bool same(const json_t *want, const json_t *got, int scale, char *why,
                 size_t size, const char *path)
{
        red_time_t ta, tb;

        if (json_is_number(want) && json_is_number(got)) {
                double w = json_number_value(want), g = json_number_value(got);
                if (scale >= 0) {
                        double m = pow(10, scale);
                        w = round(w * m) /
                            m; /* numeric rounds half away from zero */
                        if (fabs(w - g) <= 0.5 / m) {
                                return true;
                        }
                } else if (w == g) {
                        return true;
                }
                snprintf(why, size, "%s: expected %.17g, got %.17g", path, w,
                         g);
                return false;
        }
        if (json_is_object(want) && json_is_object(got)) {
                const char *k;
                json_t *v;
                if (json_object_size(want) != json_object_size(got)) {
                        snprintf(why, size,
                                 "%s: %zu members expected, %zu "
                                 "found",
                                 path, json_object_size(want),
                                 json_object_size(got));
                        return false;
                }
                json_object_foreach((json_t *)want, k, v)
                {
                        char sub[512];
                        snprintf(sub, sizeof(sub), "%s.%s", path, k);
                        if (!same(v, json_object_get(got, k), scale, why, size,
                                  sub)) {
                                return false;
                        }
                }
                return true;
        }
        if (both_times(want, got, &ta, &tb)) {
                if (ta == tb) {
                        return true;
                }
        } else if (json_equal((json_t *)want, (json_t *)got)) {
                return true;
        }
        {
                char *w = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
                char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT)
                              : NULL;
                snprintf(why, size, "%s: expected %.300s, got %.300s", path,
                         w ? w : "?", g ? g : "(missing)");
                free(w);
                free(g);
        }
        return false;
}

long itest_compare_table(itest_t *t, const char *expected, const char *table,
                         const char *key_column)
{
        json_t *want = json_object(), *scales = json_object();
        PGconn *c = test_pg_connect(t->conninfo);
        const char *p = expected;
        const char *vals[1] = {table};
        char sql[512], why[1024], first[1024];
        PGresult *res;
        long rows = 0, diffs = 0;

        while (*p) {
                const char *nl = strchr(p, '\n');
                json_t *line = json_loadb(p, (size_t)(nl - p), 0, NULL), *tb;
                ck_assert_ptr_nonnull(line);
                tb = json_object_get(line, "table");
                if (tb && !strcmp(json_string_value(tb), table)) {
                        json_t *row = json_object_get(line, "row");
                        json_object_set(want,
                                        json_string_value(json_object_get(
                                                row, key_column)),
                                        row);
                }
                json_decref(line);
                p = nl + 1;
        }
        res = PQexecParams(c,
                           "SELECT column_name, coalesce(numeric_scale, -1) "
                           "FROM information_schema.columns WHERE table_name "
                           "= $1 AND data_type = 'numeric'",
                           1, NULL, vals, NULL, NULL, 0);
        ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
        for (int i = 0; i < PQntuples(res); i++) {
                json_object_set_new(scales, PQgetvalue(res, i, 0),
                                    json_integer(atoi(PQgetvalue(res, i, 1))));
        }
        PQclear(res);
        test_pg_exec(c, "SET TIME ZONE 'UTC'");
        snprintf(sql, sizeof(sql), "SELECT row_to_json(t) FROM %s t", table);
        res = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
                      PQresultErrorMessage(res));
        for (int i = 0; i < PQntuples(res); i++) {
                json_t *got = json_loads(PQgetvalue(res, i, 0), 0, NULL);
                const char *key =
                        json_string_value(json_object_get(got, key_column));
                json_t *w = json_object_get(want, key), *v;
                const char *col;

                ck_assert_msg(w != NULL,
                              "%s: row %s=%s is not in the "
                              "expected output",
                              table, key_column, key);
                json_object_foreach(w, col, v)
                {
                        json_t *sc = json_object_get(scales, col);
                        char path[300];
                        snprintf(path, sizeof(path), "%s[%s].%s", table, key,
                                 col);
                        if (!same(v, json_object_get(got, col),
                                  sc ? (int)json_integer_value(sc) : -1, why,
                                  sizeof(why), path)) {
                                /* every difference is shown, the first
                                 * few in the failure */
                                fprintf(stderr, "%s\n", why);
                                if (!diffs++) {
                                        memcpy(first, why, sizeof(first));
                                }
                        }
                }
                json_object_del(want, key);
                json_decref(got);
                rows++;
        }
        ck_assert_msg(!diffs, "%s (and %ld more differences, on stderr)", first,
                      diffs - 1);
        ck_assert_msg(json_object_size(want) == 0,
                      "%s: %zu expected rows are missing in Postgres", table,
                      json_object_size(want));
        PQclear(res);
        PQfinish(c);
        json_decref(want);
        json_decref(scales);
        return rows;
}

/* A canonical text of a row without the ignored columns: timestamps as
 * microseconds, numbers as %.17g, keys sorted. */
static json_t *canonical(json_t *v, const char *const *ignore)
{
        red_time_t ts;

        if (json_is_object(v)) {
                json_t *o = json_object();
                const char *k;
                json_t *m;
                json_object_foreach(v, k, m)
                {
                        bool skip = false;
                        for (size_t i = 0; ignore && ignore[i]; i++) {
                                skip |= !strcmp(k, ignore[i]);
                        }
                        if (!skip) {
                                json_object_set_new(o, k, canonical(m, NULL));
                        }
                }
                return o;
        }
        if (json_is_string(v) &&
            !red_time_parse(json_string_value(v), json_string_length(v), &ts)) {
                return json_integer(ts);
        }
        if (json_is_number(v)) {
                return json_real(json_number_value(v));
        }
        return json_incref(v);
}

static char *canonical_text(json_t *row, const char *const *ignore)
{
        json_t *c = canonical(row, ignore);
        char *s = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS |
                                        JSON_REAL_PRECISION(17));

        json_decref(c);
        return s;
}

long itest_compare_rows(itest_t *t, const char *expected, const char *table,
                        const char *const *ignore)
{
        json_t *want = json_object();
        PGconn *c = test_pg_connect(t->conninfo);
        const char *p = expected;
        char sql[512];
        PGresult *res;
        long rows = 0;

        while (*p) {
                const char *nl = strchr(p, '\n');
                json_t *line = json_loadb(p, (size_t)(nl - p), 0, NULL), *tb;
                ck_assert_ptr_nonnull(line);
                tb = json_object_get(line, "table");
                if (tb && !strcmp(json_string_value(tb), table)) {
                        char *k = canonical_text(json_object_get(line, "row"),
                                                 ignore);
                        json_t *n = json_object_get(want, k);
                        json_object_set_new(
                                want, k,
                                json_integer(n ? json_integer_value(n) + 1
                                               : 1));
                        free(k);
                }
                json_decref(line);
                p = nl + 1;
        }
        test_pg_exec(c, "SET TIME ZONE 'UTC'");
        snprintf(sql, sizeof(sql), "SELECT row_to_json(t) FROM %s t", table);
        res = PQexec(c, sql);
        ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
                      PQresultErrorMessage(res));
        for (int i = 0; i < PQntuples(res); i++) {
                json_t *got = json_loads(PQgetvalue(res, i, 0), 0, NULL);
                char *k = canonical_text(got, ignore);
                json_t *n = json_object_get(want, k);

                ck_assert_msg(n && json_integer_value(n) > 0,
                              "%s: row not expected (or once too often): "
                              "%.600s",
                              table, k);
                if (json_integer_value(n) == 1) {
                        json_object_del(want, k);
                } else {
                        json_integer_set(n, json_integer_value(n) - 1);
                }
                free(k);
                json_decref(got);
                rows++;
        }
        if (json_object_size(want)) {
                const char *k = json_object_iter_key(json_object_iter(want));
                ck_abort_msg("%s: %zu expected rows missing, e.g. %.600s",
                             table, json_object_size(want), k);
        }
        PQclear(res);
        PQfinish(c);
        json_decref(want);
        return rows;
}

/* ------------------------------------------------------------------ */
/* consuming a topic                                                   */
/* ------------------------------------------------------------------ */

/* A topic being read to its end by itest_consume(). */
typedef struct consume_s {
        rd_kafka_t *rk;
        json_t *out;
        int eofs, pcnt;
} consume_t;

/* Takes the next message (waiting up to 500 ms for it); true once every
 * partition reported its end. */
static bool consume_next(void *opaque)
{
        consume_t *cs = opaque;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(cs->rk, 500);
        rd_kafka_headers_t *hdrs;
        json_t *o, *h, *v;

        if (!m) {
                return cs->eofs == cs->pcnt;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                cs->eofs++;
                rd_kafka_message_destroy(m);
                return cs->eofs == cs->pcnt;
        }
        ck_assert_msg(!m->err, "%s", rd_kafka_message_errstr(m));
        o = json_object();
        h = json_object();
        v = json_loadb(m->payload, m->len, 0, NULL);
        json_object_set_new(o, "value",
                            v ? v : json_stringn(m->payload, m->len));
        json_object_set_new(o, "key",
                            m->key ? json_stringn(m->key, m->key_len)
                                   : json_null());
        if (!rd_kafka_message_headers(m, &hdrs)) {
                const char *name;
                const void *val;
                size_t len;
                for (size_t i = 0;
                     !rd_kafka_header_get_all(hdrs, i, &name, &val, &len);
                     i++) {
                        json_object_set_new(h, name, json_stringn(val, len));
                }
        }
        json_object_set_new(o, "headers", h);
        json_array_append_new(cs->out, o);
        rd_kafka_message_destroy(m);
        return cs->eofs == cs->pcnt;
}

json_t *itest_consume(itest_t *t, const char *topic)
{
        char err[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const rd_kafka_metadata_t *md;
        rd_kafka_topic_t *rkt;
        rd_kafka_topic_partition_list_t *parts;
        consume_t cs = {.out = json_array()};

        rd_kafka_conf_set(conf, "bootstrap.servers", t->bootstrap, err,
                          sizeof(err));
        rd_kafka_conf_set(conf, "group.id", "itest-reader", err, sizeof(err));
        rd_kafka_conf_set(conf, "enable.partition.eof", "true", err,
                          sizeof(err));
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", err,
                          sizeof(err));
        cs.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        ck_assert_msg(cs.rk != NULL, "%s", err);
        rkt = rd_kafka_topic_new(cs.rk, topic, NULL);
        ck_assert_int_eq(rd_kafka_metadata(cs.rk, 0, rkt, &md, 10000), 0);
        cs.pcnt = md->topics[0].partition_cnt;
        parts = rd_kafka_topic_partition_list_new(cs.pcnt);
        for (int i = 0; i < cs.pcnt; i++) {
                rd_kafka_topic_partition_list_add(parts, topic, i)->offset =
                        RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        ck_assert_int_eq(rd_kafka_assign(cs.rk, parts), 0);
        rd_kafka_topic_partition_list_destroy(parts);
        /* the poll itself waits: no pause between looks */
        ck_assert_msg(test_wait_every(consume_next, &cs, 60000, 0),
                      "could not read %s to its end", topic);
        rd_kafka_consumer_close(cs.rk);
        rd_kafka_destroy(cs.rk);
        return cs.out;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

char *itest_log(itest_t *t, int n)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/reducerd-%d.log", t->dir, n);
        if (access(path, R_OK)) {
                return strdup(""); /* not created yet */
        }
        return test_read_file(path, NULL);
}

typedef struct log_wait_s {
        itest_t *t;
        const char *text;
} log_wait_t;

static bool log_has(void *opaque)
{
        log_wait_t *w = opaque;
        char *log = itest_log(w->t, 0);
        bool found = strstr(log, w->text) != NULL;

        free(log);
        return found;
}

bool itest_wait_log(itest_t *t, const char *text, long timeout_ms)
{
        log_wait_t w = {t, text};

        return test_wait_for(log_has, &w, timeout_ms);
}

/* The HTTP port worker n logged, once it did. */
typedef struct port_wait_s {
        itest_t *t;
        int n;
        int port;
} port_wait_t;

static bool port_logged(void *opaque)
{
        port_wait_t *w = opaque;
        char *log = itest_log(w->t, w->n), *p = strstr(log, "/readyz on ");

        if (p) {
                p = strchr(p, '\n');
                while (p && p > log && p[-1] != ':') {
                        p--;
                }
                w->port = p ? atoi(p) : 0;
        }
        free(log);
        return w->port > 0;
}

int itest_http_port(itest_t *t, int n)
{
        port_wait_t w = {t, n, 0};

        ck_assert_msg(test_wait_every(port_logged, &w, 30000, 100),
                      "worker %d never logged its HTTP port", n);
        return w.port;
}

/* Connects within @p ms; returns the socket or -1. */
static int connect_within(int port, long ms)
{
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        struct pollfd p;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
            err = 0;
        socklen_t len = sizeof(err);

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_ge(fd, 0);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
            errno != EINPROGRESS) {
                close(fd);
                return -1;
        }
        p.fd = fd;
        p.events = POLLOUT;
        if (poll(&p, 1, (int)ms) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
                close(fd);
                return -1;
        }
        /* the rest blocks, each read and write at most the deadline */
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        return fd;
}

int itest_http_get_within(int port, const char *path, char **body, long ms)
{
        long long deadline = test_now_ms() + ms;
        int fd = connect_within(port, ms), status = -1;
        char req[512], *buf = NULL, *p;
        size_t len = 0, cap = 0;
        ssize_t n;

        *body = NULL;
        if (fd < 0) {
                *body = strdup("");
                return -1;
        }
        snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: "
                 "close\r\n\r\n",
                 path);
        if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
                close(fd);
                *body = strdup("");
                return -1;
        }
        do {
                if (len + 65536 > cap) {
                        cap = (len + 65536) * 2;
                        buf = realloc(buf, cap);
                }
                n = read(fd, buf + len, cap - len - 1);
                len += n > 0 ? (size_t)n : 0;
        } while (n > 0 && test_now_ms() < deadline);
        close(fd);
        buf[len] = '\0';
        if (n == 0) { /* a whole answer, not one cut by the deadline */
                sscanf(buf, "HTTP/1.%*d %d", &status);
        }
        p = strstr(buf, "\r\n\r\n");
        *body = strdup(p ? p + 4 : "");
        free(buf);
        return status;
}

int itest_http_get(int port, const char *path, char **body)
{
        return itest_http_get_within(port, path, body, 30000);
}

double itest_metric(const char *metrics, const char *series)
{
        size_t len = strlen(series);

        for (const char *p = metrics; p && *p; p = strchr(p, '\n')) {
                if (*p == '\n') {
                        p++;
                }
                if (!strncmp(p, series, len) && p[len] == ' ') {
                        return atof(p + len + 1);
                }
        }
        return -1;
}

/* A series awaited by itest_wait_metric(). */
typedef struct metric_wait_s {
        int port;
        const char *series;
        double want;
} metric_wait_t;

static bool metric_reached(void *opaque)
{
        metric_wait_t *w = opaque;
        char *body;
        double v;

        ck_assert_int_eq(itest_http_get(w->port, "/metrics", &body), 200);
        v = itest_metric(body, w->series);
        free(body);
        return v >= w->want;
}

bool itest_wait_metric(int port, const char *series, double want,
                       long timeout_ms)
{
        metric_wait_t w = {port, series, want};

        return test_wait_every(metric_reached, &w, timeout_ms, 100);
}

/* ------------------------------------------------------------------ */
/* the read side                                                       */
/* ------------------------------------------------------------------ */

long itest_load(itest_t *t, const char *contract, const char *file)
{
        const char *argv[] = {env_or("RED_LOAD_EVENTS", "load_events"),
                              "-c",
                              contract,
                              "-d",
                              t->conninfo,
                              file,
                              NULL};
        char *out, *err;
        long n = -1;
        int rc = test_run(argv, NULL, &out, &err);

        ck_assert_msg(rc == 0, "load_events: %s", err);
        ck_assert_msg(sscanf(out, "loaded %ld events", &n) == 1, "%s", out);
        ck_assert_msg(strstr(out, " 0 dead letters"), "%s", out);
        free(out);
        free(err);
        return n;
}

int itest_api_port(itest_t *t, const char *log_name)
{
        char path[4096];
        long long deadline = test_now_ms() + 30000;

        snprintf(path, sizeof(path), "%s/%s", t->dir, log_name);
        while (test_now_ms() < deadline) {
                char *log = access(path, R_OK) ? strdup("")
                                               : test_read_file(path, NULL);
                char *p = strstr(log, "read API on http");
                int port = 0;

                if (p && (p = strstr(p, "://")) && (p = strchr(p + 3, ':'))) {
                        port = atoi(p + 1);
                }
                free(log);
                if (port > 0) {
                        return port;
                }
                usleep(50 * 1000);
        }
        ck_abort_msg("%s never logged the read API's port", path);
        return -1;
}

pid_t itest_serve(itest_t *t, const char *config, const char *const *env, int n,
                  int *port)
{
        char log[4096], name[64];
        pid_t pid, parent;

        snprintf(name, sizeof(name), "serve-%d.log", n);
        snprintf(log, sizeof(log), "%s/%s", t->dir, name);
        unlink(log);
        parent = getpid();
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

                die_with(parent);
                dup2(fd, 1);
                dup2(fd, 2);
                for (size_t i = 0; env && env[i]; i++) {
                        putenv(strdup(env[i]));
                }
                execl(test_bin(), test_bin(), "serve", "-c", config,
                      (char *)NULL);
                _exit(127);
        }
        *port = itest_api_port(t, name);
        return pid;
}

int itest_curl(itest_t *t, const char *url, const char *const *args,
               char **body, size_t *body_len, char **headers)
{
        static int seq;
        char bfile[4096], hfile[4096];
        const char *argv[64];
        size_t n = 0;
        char *out, *err;
        int status = 0;

        snprintf(bfile, sizeof(bfile), "%s/curl-%d.body", t->dir, seq);
        snprintf(hfile, sizeof(hfile), "%s/curl-%d.head", t->dir, seq++);
        argv[n++] = "/usr/bin/curl";
        argv[n++] = "-sS";
        argv[n++] = "--max-time";
        argv[n++] = "120";
        argv[n++] = "-o";
        argv[n++] = bfile;
        argv[n++] = "-D";
        argv[n++] = hfile;
        argv[n++] = "-w";
        argv[n++] = "%{http_code}";
        for (size_t i = 0; args && args[i] && n < 60; i++) {
                argv[n++] = args[i];
        }
        argv[n++] = url;
        argv[n] = NULL;
        test_run(argv, NULL, &out, &err);
        status = atoi(out);
        if (body) {
                *body = access(bfile, R_OK) ? strdup("")
                                            : test_read_file(bfile, body_len);
                if (access(bfile, R_OK) && body_len) {
                        *body_len = 0;
                }
        }
        if (headers) {
                *headers = access(hfile, R_OK) ? strdup("")
                                               : test_read_file(hfile, NULL);
                for (char *p = *headers; *p; p++) {
                        *p = (char)tolower((unsigned char)*p);
                }
        }
        unlink(bfile);
        unlink(hfile);
        free(out);
        free(err);
        return status;
}

char *itest_urlenc(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o = out;

        ck_assert_ptr_nonnull(out);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (isalnum(c) || c == '-' || c == '_' || c == '.' ||
                    c == '~') {
                        *o++ = (char)c;
                } else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = '\0';
        return out;
}

const char *itest_api_data(itest_t *t)
{
        const char *codegen = test_path("contracts/codegen_metrics.yaml");
        const char *agent = test_path("contracts/agent_metrics.yaml");
        const char *events =
                itest_generate(t, "codegen.jsonl", ITEST_API_EVENTS);

        ck_assert_int_eq(itest_load(t, codegen, events), 20000);
        ck_assert_int_eq(itest_load(t, agent,
                                    test_path("tests/data/api/"
                                              "agent_metrics.jsonl")),
                         600);
        return events;
}

void itest_api_config(itest_t *t, const char *api_lines)
{
        FILE *fp;

        snprintf(t->config, sizeof(t->config), "%s/reducerd.yaml", t->dir);
        ck_assert_ptr_nonnull(fp = fopen(t->config, "w"));
        fprintf(fp,
                "postgres:\n  conninfo: \"%s\"\n"
                "contracts:\n  paths:\n    - \"%s\"\n    - \"%s\"\n"
                "api:\n  listen: \"127.0.0.1:0\"\n%s",
                t->conninfo, test_path("contracts/codegen_metrics.yaml"),
                test_path("contracts/agent_metrics.yaml"),
                api_lines ? api_lines : "");
        ck_assert_int_eq(fclose(fp), 0);
}

char *itest_api_get(itest_t *t, int port, const char *path, int want)
{
        char url[8192], *body;
        int st;

        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        st = itest_curl(t, url, NULL, &body, NULL, NULL);
        ck_assert_msg(st == want, "GET %s: %d, wanted %d: %.400s", path, st,
                      want, body);
        return body;
}

int itest_send_json(itest_t *t, int port, const char *method, const char *path,
                    const char *json, char **body)
{
        char url[512];
        const char *args[] = {"-X",
                              method,
                              "-H",
                              "Content-Type: application/json",
                              json ? "--data-binary" : NULL,
                              json,
                              NULL};

        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        return itest_curl(t, url, args, body, NULL, NULL);
}

/* One crash round: a worker, until it is over (itest_crash_rounds()). */
typedef struct crash_round_s {
        itest_t *t;
        const itest_crash_t *c;
        pid_t pid;
        int round;
        long before;
        int st; /* exit status, -2 while running */
} crash_round_t;

static bool crash_round_over(void *opaque)
{
        crash_round_t *r = opaque;
        const itest_crash_t *c = r->c;

        if ((r->st = itest_poll(r->pid)) != -2) {
                return true;
        }
        if (itest_committed(r->t, c->group) >= c->n) {
                return true;
        }
        if (r->round % c->stop_every == 0 &&
            itest_committed(r->t, c->group) > r->before + c->stop_after) {
                r->st = itest_stop(r->pid, c->stop_signal, 30000);
                return true;
        }
        return false;
}

int itest_crash_rounds(itest_t *t, const itest_crash_t *c)
{
        char fp[512], seed[64];
        const char *env[] = {fp, seed, NULL};
        int crashes = 0;

        snprintf(fp, sizeof(fp), "REDUCERD_FAILPOINTS=%s", c->failpoints);
        for (int round = 1; round <= 40 && itest_committed(t, c->group) < c->n;
             round++) {
                crash_round_t r = {.t = t, .c = c, .round = round, .st = -2};

                r.before = itest_committed(t, c->group);
                snprintf(seed, sizeof(seed), "REDUCERD_FAILPOINT_SEED=%d",
                         round);
                r.pid = itest_start(t, round < 30 ? env : NULL, round);
                test_wait_every(crash_round_over, &r, 60000, 100);
                if (r.st == -2) {
                        r.st = itest_stop(r.pid, SIGTERM, 30000);
                }
                if (r.st == 128 + SIGKILL) {
                        crashes++;
                } else {
                        ck_assert_msg(r.st == 0, "round %d: exit status %d",
                                      round, r.st);
                }
        }
        return crashes;
}
