/* red_failpoint - SIGKILL at named points with a configured probability. */
#include "red_failpoint.h"

#include "red_log.h"

#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_POINTS 16

static struct {
        char name[48];
        double p;
} points[MAX_POINTS];
static int point_cnt;
static uint64_t rng;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void red_failpoint_init(void)
{
        const char *spec = getenv("REDUCERD_FAILPOINTS");
        const char *seed = getenv("REDUCERD_FAILPOINT_SEED");
        char *copy, *tok, *save = NULL;

        if (!spec || !*spec || !(copy = strdup(spec))) {
                return;
        }
        rng = seed ? strtoull(seed, NULL, 10)
                   : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
        /* splitmix64: small seeds must not give small first rolls */
        rng += 0x9e3779b97f4a7c15ULL;
        rng = (rng ^ (rng >> 30)) * 0xbf58476d1ce4e5b9ULL;
        rng = (rng ^ (rng >> 27)) * 0x94d049bb133111ebULL;
        rng ^= rng >> 31;
        rng |= 1;
        for (tok = strtok_r(copy, ",", &save); tok && point_cnt < MAX_POINTS;
             tok = strtok_r(NULL, ",", &save)) {
                char *colon = strchr(tok, ':');
                if (!colon) {
                        continue;
                }
                *colon = '\0';
                snprintf(points[point_cnt].name, sizeof(points[0].name), "%s",
                         tok);
                points[point_cnt].p = atof(colon + 1);
                point_cnt++;
        }
        free(copy);
        red_log_warn("failpoint", "fault injection armed: %s", spec);
}

bool red_failpoint_hit(const char *name)
{
        if (!point_cnt) {
                return false;
        }
        for (int i = 0; i < point_cnt; i++) {
                double roll;
                if (strcmp(points[i].name, name)) {
                        continue;
                }
                pthread_mutex_lock(&lock);
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                roll = (double)(rng >> 11) / 9007199254740992.0;
                pthread_mutex_unlock(&lock);
                if (roll < points[i].p) {
                        return true;
                }
        }
        return false;
}

void red_failpoint(const char *name)
{
        if (red_failpoint_hit(name)) {
                red_log_warn("failpoint",
                             "failpoint %s hit: killing the "
                             "process",
                             name);
                kill(getpid(), SIGKILL);
                _exit(137);
        }
}
