/*
 * red_failpoint - fault injection for the crash tests. REDUCERD_FAILPOINTS
 * holds "name:probability" pairs separated by commas, e.g.
 * "before_commit:0.02,after_commit:0.02,during_publish:0.05,in_revoke:0.5";
 * when a named point is reached and the die roll hits, the process kills
 * itself with SIGKILL, as kill -9 would. A few points inject a fault that
 * does not kill (red_failpoint_hit(): "skip_message" drops a message the
 * consumer polled, as a consumer that skips offsets would).
 * REDUCERD_FAILPOINT_SEED makes the rolls repeatable. Unset: every check
 * is a single branch.
 */
#ifndef RED_FAILPOINT_H
#define RED_FAILPOINT_H

#include <stdbool.h>

/** Reads the environment once; call before starting threads. */
void red_failpoint_init(void);

/** Possibly dies here (see above). */
void red_failpoint(const char *name);

/** True when the die roll for point @p name hits (the caller injects the
 * fault); false when the point is not armed. */
bool red_failpoint_hit(const char *name);

#endif
