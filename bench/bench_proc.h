/*
 * bench_proc - the processes an end-to-end benchmark runs beside itself:
 * the embedded Kafka (tests/kafka_mock_server, which stops when its stdin
 * closes) and `reducerd run`, whose clock starts once its consumer group
 * has assigned the partitions. Bench code only: it exits on a failure.
 */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <stddef.h>
#include <sys/types.h>

/** A running mock Kafka: its pid, the write end of its stdin, and the
 * bootstrap list it reported. */
typedef struct bench_mock_s {
        pid_t pid;
        int stdin_fd;
        char bootstrap[256];
} bench_mock_t;

/**
 * Starts the mock Kafka of build directory @p bindir with @p partitions
 * per topic and the NULL-terminated @p topics created, its output in
 * @p workdir/bootstrap, and waits (10 s at most) for its bootstrap list.
 * The write end of its stdin closes on exec, so that no other child (a
 * server restarted by pg_ctl, a curl) holds the mock open.
 */
void bench_proc_mock_start(bench_mock_t *m, const char *bindir,
                           const char *workdir, long partitions,
                           const char *const *topics);

/** Stops the mock (closes its stdin) and waits for it. */
void bench_proc_mock_stop(bench_mock_t *m);

/**
 * The build directory of the benchmark started as @p argv0 (the parent of
 * its bench/ folder) into @p bindir, and a new directory made from the
 * mkdtemp template @p workdir ("/tmp/...-XXXXXX", rewritten in place).
 */
void bench_proc_dirs(const char *argv0, char *bindir, size_t bindir_size,
                     char *workdir);

/** Runs shell command @p cmd, which must succeed. */
void bench_proc_run(const char *cmd);

/** A TCP port on 127.0.0.1 the kernel has free now (bound, read,
 * released), for a server the benchmark starts. */
int bench_proc_free_port(void);

/** Starts `reducerd run -c @p conf` of @p bindir with its stderr in @p log. */
pid_t bench_proc_reducerd_spawn(const char *bindir, const char *conf,
                                const char *log);
/** Returns once @p log says partitions were assigned (60 s at most). */
void bench_proc_reducerd_wait(const char *log);
/**
 * Starts `reducerd run -c @p conf` of @p bindir with its stderr in
 * @p log, and returns once the log says its partitions were assigned
 * (60 s at most).
 */
pid_t bench_proc_reducerd_start(const char *bindir, const char *conf,
                                const char *log);

#endif
