/*
 * red_failpoint - fault injection for the crash tests. REDUCERD_FAILPOINTS
 * holds "name:probability" pairs separated by commas, e.g.
 * "before_commit:0.02,after_commit:0.02,during_publish:0.05,in_revoke:0.5";
 * when a named point is reached and the die roll hits, the process kills
 * itself with SIGKILL, as kill -9 would. REDUCERD_FAILPOINT_SEED makes the
 * rolls repeatable. Unset: every check is a single branch.
 */
#ifndef RED_FAILPOINT_H
#define RED_FAILPOINT_H

/** Reads the environment once; call before starting threads. */
void red_failpoint_init(void);

/** Possibly dies here (see above). */
void red_failpoint(const char *name);

#endif
