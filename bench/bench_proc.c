/* bench_proc - the mock Kafka and reducerd beside a benchmark. */
#include "bench_proc.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
        fprintf(stderr, "bench: %s\n", what);
        exit(1);
}

void bench_proc_mock_start(bench_mock_t *m, const char *bindir,
                           const char *workdir, long partitions,
                           const char *const *topics)
{
        char path[PATH_MAX], cmd[PATH_MAX];
        int in[2];
        FILE *fp;

        if (pipe2(in, O_CLOEXEC)) {
                die("pipe");
        }
        snprintf(path, sizeof(path), "%s/bootstrap", workdir);
        snprintf(cmd, sizeof(cmd), "%s/tests/kafka_mock_server", bindir);
        if ((m->pid = fork()) == 0) {
                char p[24];
                const char *av[64] = {"kafka_mock_server", "-p", p};
                int k = 3;
                snprintf(p, sizeof(p), "%ld", partitions);
                for (int i = 0; topics[i] && k < 63; i++) {
                        av[k++] = topics[i];
                }
                av[k] = NULL;
                dup2(in[0], 0);
                if (!freopen(path, "w", stdout)) {
                        _exit(127);
                }
                execv(cmd, (char *const *)av);
                _exit(127);
        }
        if (m->pid < 0) {
                die("fork");
        }
        close(in[0]);
        m->stdin_fd = in[1];
        m->bootstrap[0] = '\0';
        for (int i = 0; i < 100 && !m->bootstrap[0]; i++) {
                usleep(100 * 1000);
                if ((fp = fopen(path, "r"))) {
                        if (!fgets(m->bootstrap, sizeof(m->bootstrap), fp)) {
                                m->bootstrap[0] = '\0';
                        }
                        fclose(fp);
                }
        }
        m->bootstrap[strcspn(m->bootstrap, "\n")] = '\0';
        if (!m->bootstrap[0]) {
                die("the mock Kafka did not start");
        }
}

void bench_proc_mock_stop(bench_mock_t *m)
{
        close(m->stdin_fd);
        waitpid(m->pid, NULL, 0);
}

void bench_proc_dirs(const char *argv0, char *bindir, size_t bindir_size,
                     char *workdir)
{
        char path[PATH_MAX], *slash;

        if (!realpath(argv0, path) || !(slash = strrchr(path, '/'))) {
                die("cannot locate the build directory");
        }
        *slash = '\0';
        snprintf(bindir, bindir_size, "%.4000s/..", path);
        if (!mkdtemp(workdir)) {
                die("mkdtemp");
        }
}

void bench_proc_run(const char *cmd)
{
        if (system(cmd) != 0) {
                fprintf(stderr, "bench: failed: %s\n", cmd);
                exit(1);
        }
}

int bench_proc_free_port(void)
{
        struct sockaddr_in a = {.sin_family = AF_INET};
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
            !getsockname(fd, (struct sockaddr *)&a, &len)) {
                port = ntohs(a.sin_port);
        }
        if (fd >= 0) {
                close(fd);
        }
        if (!port) {
                die("no free port");
        }
        return port;
}

pid_t bench_proc_reducerd_spawn(const char *bindir, const char *conf,
                                const char *log)
{
        char cmd[PATH_MAX];
        pid_t pid;

        snprintf(cmd, sizeof(cmd), "%s/src/reducerd", bindir);
        if ((pid = fork()) == 0) {
                if (!freopen(log, "w", stderr)) {
                        _exit(127);
                }
                execl(cmd, "reducerd", "run", "-c", conf, (char *)NULL);
                _exit(127);
        }
        if (pid < 0) {
                die("fork");
        }
        return pid;
}

void bench_proc_reducerd_wait(const char *log)
{
        for (int i = 0;; i++) {
                char line[1024];
                bool assigned = false;
                FILE *fp;
                if (i > 600) {
                        die("reducerd got no assignment in 60 s");
                }
                usleep(100 * 1000);
                if (!(fp = fopen(log, "r"))) {
                        continue;
                }
                while (fgets(line, sizeof(line), fp)) {
                        assigned |= strstr(line, "assigned") != NULL;
                }
                fclose(fp);
                if (assigned) {
                        return;
                }
        }
}

pid_t bench_proc_reducerd_start(const char *bindir, const char *conf,
                                const char *log)
{
        pid_t pid = bench_proc_reducerd_spawn(bindir, conf, log);

        bench_proc_reducerd_wait(log);
        return pid;
}
