/* red_signals - stop and reload requests from signals, as flags. */
#include "red_signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;

static void on_stop(int sig)
{
        if (stop_requested) {
                /* second signal: leave at once */
                _exit(128 + sig);
        }
        stop_requested = sig;
}

static void on_hup(int sig)
{
        (void)sig;
        reload_requested = 1;
}

void red_signals_install(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sigemptyset(&sa.sa_mask);
        sa.sa_handler = on_stop;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sa.sa_handler = on_hup;
        sigaction(SIGHUP, &sa, NULL);
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
}

int red_signals_stop(void)
{
        return (int)stop_requested;
}

bool red_signals_reload(void)
{
        if (!reload_requested) {
                return false;
        }
        reload_requested = 0;
        return true;
}
