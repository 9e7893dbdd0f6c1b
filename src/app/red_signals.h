/*
 * red_signals - the signals of the long-running subcommands (`run`,
 * `serve`): SIGTERM or SIGINT asks to stop (a second one exits at once),
 * SIGHUP asks to reload, SIGPIPE is ignored (a peer that went away is an
 * error return, not a death). The handlers only set flags; the main loop
 * reads them.
 */
#ifndef RED_SIGNALS_H
#define RED_SIGNALS_H

#include <stdbool.h>

/** Installs the handlers (once, from the main thread). */
void red_signals_install(void);

/** The signal that asked to stop, or 0. */
int red_signals_stop(void);

/** True once per SIGHUP received since the last call. */
bool red_signals_reload(void);

#endif
