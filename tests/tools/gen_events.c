/*
 * gen_events - writes a deterministic stream of codegen_metrics events as
 * JSON lines (the input format of `reducerd reduce` and produce_jsonl):
 * same options, same bytes. See usage() and tests/tools/gen_events_lib.c.
 */
#include "gen_events_lib.c"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>

static void usage(FILE *f)
{
        fputs("usage: gen_events [options] > events.jsonl\n"
              "  --events N              lines to write (default 100000)\n"
              "  --days D                span of event times in days; the\n"
              "                          workflow start rate follows from N\n"
              "                          (default 1)\n"
              "  --workflows-per-hour W  fixed start rate instead of --days\n"
              "  --start TIME            first event time (default\n"
              "                          2025-11-03T00:00:00Z)\n"
              "  --partitions P          _partition = murmur2(_key) mod P,\n"
              "                          as Kafka's Java client (default 12)\n"
              "  --poison PERMILLE       lines replaced by bad input (0)\n"
              "  --late PERMILLE         workflows delivered 1-6 h late (0)\n"
              "  --seed S                (default 1)\n"
              "  --contract FILE         take the input topics from FILE\n"
              "  --no-meta               omit _topic, _key and _partition\n",
              f);
}

static int parse_u64(const char *s, uint64_t *out)
{
        char *end;

        errno = 0;
        *out = strtoull(s, &end, 10);
        return errno || end == s || *end || *s == '-' ? -1 : 0;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
        uint64_t v;

        if (parse_u64(s, &v) || v < (uint64_t)lo || v > (uint64_t)hi) {
                return -1;
        }
        *out = (int)v;
        return 0;
}

static int parse_pos(const char *s, double *out)
{
        char *end;

        *out = strtod(s, &end);
        return end == s || *end || !(*out > 0) || *out > 1e9 ? -1 : 0;
}

int main(int argc, char **argv)
{
        static const struct option longopts[] = {
                {"events", required_argument, NULL, 'n'},
                {"workflows-per-hour", required_argument, NULL, 'w'},
                {"start", required_argument, NULL, 's'},
                {"days", required_argument, NULL, 'd'},
                {"partitions", required_argument, NULL, 'p'},
                {"poison", required_argument, NULL, 'x'},
                {"late", required_argument, NULL, 'l'},
                {"seed", required_argument, NULL, 'S'},
                {"contract", required_argument, NULL, 'c'},
                {"no-meta", no_argument, NULL, 'M'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0},
        };
        red_contract_t *c = NULL;
        gen_opts_t o;
        gen_line_t line;
        gen_t *g;
        bool days_set = false;
        char *out;
        size_t used = 0, cap = 1 << 20;
        int opt, rc = 0;

        gen_opts_default(&o);
        while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                const char *bad = NULL;
                char err[1024];
                switch (opt) {
                case 'n':
                        bad = parse_u64(optarg, &o.events) ? "--events" : NULL;
                        break;
                case 'w':
                        bad = parse_pos(optarg, &o.workflows_per_hour)
                                      ? "--workflows-per-hour"
                                      : NULL;
                        break;
                case 's':
                        bad = red_time_parse(optarg, strlen(optarg), &o.start)
                                      ? "--start"
                                      : NULL;
                        break;
                case 'd':
                        bad = parse_pos(optarg, &o.days) ? "--days" : NULL;
                        days_set = true;
                        break;
                case 'p':
                        bad = parse_int(optarg, 1, 1 << 20, &o.partitions)
                                      ? "--partitions"
                                      : NULL;
                        break;
                case 'x':
                        bad = parse_int(optarg, 0, 1000, &o.poison_permille)
                                      ? "--poison (0..1000)"
                                      : NULL;
                        break;
                case 'l':
                        bad = parse_int(optarg, 0, 1000, &o.late_permille)
                                      ? "--late (0..1000)"
                                      : NULL;
                        break;
                case 'S':
                        bad = parse_u64(optarg, &o.seed) ? "--seed" : NULL;
                        break;
                case 'c': {
                        const char *missing;
                        red_contract_destroy(c);
                        if (!(c = red_contract_load(optarg, err,
                                                    sizeof(err)))) {
                                fprintf(stderr, "gen_events: %s\n", err);
                                return 2;
                        }
                        if ((missing = gen_topics_from(&o, c))) {
                                fprintf(stderr,
                                        "gen_events: %s: no single-kind "
                                        "input topic for kind %s\n",
                                        optarg, missing);
                                red_contract_destroy(c);
                                return 2;
                        }
                        break;
                }
                case 'M':
                        o.meta = false;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
                if (bad) {
                        fprintf(stderr,
                                "gen_events: invalid value for %s: "
                                "\"%s\"\n",
                                bad, optarg);
                        red_contract_destroy(c);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "gen_events: unexpected argument \"%s\"\n",
                        argv[optind]);
                usage(stderr);
                red_contract_destroy(c);
                return 2;
        }
        if (days_set && o.workflows_per_hour > 0) {
                fprintf(stderr, "gen_events: give --days or "
                                "--workflows-per-hour, not both\n");
                red_contract_destroy(c);
                return 2;
        }
        if (!(g = gen_new(&o)) || !(out = malloc(cap))) {
                fprintf(stderr, "gen_events: out of memory\n");
                gen_destroy(g);
                red_contract_destroy(c);
                return 1;
        }
        while (gen_next(g, &line)) {
                if (cap - used < line.len + 1) {
                        if (fwrite(out, 1, used, stdout) != used) {
                                rc = 1;
                                break;
                        }
                        used = 0;
                }
                memcpy(out + used, line.text, line.len);
                used += line.len;
                out[used++] = '\n';
        }
        if (!rc && !line.text && g->emitted < o.events) {
                fprintf(stderr, "gen_events: out of memory\n");
                rc = 1;
        }
        if (!rc && (fwrite(out, 1, used, stdout) != used || fflush(stdout))) {
                rc = 1;
        }
        if (rc && errno) {
                fprintf(stderr, "gen_events: write error: %s\n",
                        strerror(errno));
        }
        free(out);
        gen_destroy(g);
        red_contract_destroy(c);
        return rc;
}
