/* red_top - `reducerd top`: the live terminal dashboard, and --once. */
#include "red_top.h"

#include "red_appconf.h"
#include "red_top_data.h"
#include "red_top_view.h"

#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char usage_text[] =
        "usage: reducerd top [-c CONFIG] [--contract NAME] [OPTIONS]\n"
        "\n"
        "A live dashboard of one contract: its numbers over the current hour\n"
        "and the last 24 hours, every group ranked, trends as sparklines,\n"
        "the latest alerts or the workflows by state (from PostgreSQL, "
        "through\n"
        "the query layer), and the pipeline from the daemon's /metrics.\n"
        "\n"
        "  --contract NAME     the contract (default: the first loaded)\n"
        "  --aggregation NAME  its aggregation (default: the first)\n"
        "  --grouping NAME     the grouping of the GROUPS table\n"
        "  --window TYPE       the trend's window type: hourly (24 windows),\n"
        "                      daily (30), weekly (12), monthly (12)\n"
        "  --interval SECONDS  refresh period (default 5)\n"
        "  --metrics HOST:PORT the daemons' /metrics, comma-separated\n"
        "                      (default: http.listen of the config)\n"
        "  --at TIME           show the dashboard as of TIME (ISO-8601)\n"
        "  --once              print one plain-text frame and exit\n"
        "  --width COLUMNS     width of the --once frame (default: the\n"
        "                      terminal's, else 100)\n"
        "\n"
        "Keys: c contract, a aggregation, g grouping, w window type,\n"
        "r refresh now, q quit.\n";

typedef struct top_s {
        red_contract_set_t set;
        size_t contract; /* index in set */
        red_top_sel_t sel;
        red_top_src_t *src;
        red_top_opts_t opts;
        red_time_t at; /* INT64_MIN: now */
} top_t;

static red_time_t now_of(const top_t *t)
{
        return t->at == INT64_MIN ? red_time_now() : t->at;
}

/* --- the selection -------------------------------------------------------- */

static int select_contract(top_t *t, const char *name)
{
        char names[1024] = "";
        size_t pos = 0;

        for (size_t i = 0; i < t->set.cnt; i++) {
                if (!name || !strcmp(t->set.items[i]->name, name)) {
                        t->contract = i;
                        red_top_sel_init(&t->sel, t->set.items[i]);
                        return 0;
                }
                pos += (size_t)snprintf(names + pos, sizeof(names) - pos,
                                        "%s%s", pos ? ", " : "",
                                        t->set.items[i]->name);
                if (pos >= sizeof(names)) {
                        break;
                }
        }
        fprintf(stderr,
                "reducerd top: --contract: unknown contract \"%s\" (allowed: "
                "%s)\n",
                name, names);
        return -1;
}

/* --aggregation, --grouping, --window: names checked against the
 * contract, with what it allows. */
static int select_parts(top_t *t, const char *agg, const char *grouping,
                        const char *window)
{
        const red_contract_t *c = t->sel.c;
        red_window_type_t wt;

        if (agg) {
                size_t i;
                for (i = 0; i < c->agg_cnt && strcmp(c->aggs[i].name, agg);
                     i++) {
                }
                if (i == c->agg_cnt) {
                        fprintf(stderr,
                                "reducerd top: --aggregation: %s has no "
                                "aggregation \"%s\"\n",
                                c->name, agg);
                        return -1;
                }
                t->sel.agg = &c->aggs[i];
        }
        if ((grouping || window) && !t->sel.agg) {
                fprintf(stderr, "reducerd top: %s aggregates nothing\n",
                        c->name);
                return -1;
        }
        if (grouping) {
                size_t g;
                for (g = 0; g < t->sel.agg->grouping_cnt &&
                            strcmp(t->sel.agg->groupings[g].name, grouping);
                     g++) {
                }
                if (g == t->sel.agg->grouping_cnt) {
                        fprintf(stderr,
                                "reducerd top: --grouping: %s has no "
                                "grouping \"%s\"\n",
                                t->sel.agg->name, grouping);
                        return -1;
                }
                t->sel.grouping = (int)g;
        }
        if (window) {
                if (red_window_type_parse(window, &wt) ||
                    !(t->sel.agg->windows >> wt & 1)) {
                        fprintf(stderr,
                                "reducerd top: --window: %s keeps no %s "
                                "windows\n",
                                t->sel.agg->name, window);
                        return -1;
                }
                t->sel.window = wt;
        }
        return 0;
}

/* The keys: each moves one step on and wraps around. */
static bool on_key(top_t *t, int ch)
{
        const red_agg_t *a = t->sel.agg;

        switch (ch) {
        case 'c':
                t->contract = (t->contract + 1) % t->set.cnt;
                red_top_sel_init(&t->sel, t->set.items[t->contract]);
                return true;
        case 'a':
                if (t->sel.c->agg_cnt > 1) {
                        size_t i = (size_t)(a - t->sel.c->aggs);
                        red_top_sel_t s;
                        red_top_sel_init(&s, t->sel.c);
                        s.agg = &t->sel.c->aggs[(i + 1) % t->sel.c->agg_cnt];
                        t->sel = s;
                        t->sel.grouping = 0;
                        t->sel.window = (red_window_type_t)__builtin_ctz(
                                t->sel.agg->windows);
                }
                return true;
        case 'g':
                if (a) {
                        t->sel.grouping =
                                (t->sel.grouping + 1) % (int)a->grouping_cnt;
                }
                return true;
        case 'w':
                for (int i = 1; a && i <= RED_WINDOW__CNT; i++) {
                        int w = ((int)t->sel.window + i) % RED_WINDOW__CNT;
                        if (a->windows >> w & 1) {
                                t->sel.window = (red_window_type_t)w;
                                break;
                        }
                }
                return true;
        case 'r':
                return true;
        default:
                return false;
        }
}

/* One frame's numbers: the trend follows the group GROUPS ranks first. */
static void fetch(top_t *t, red_top_data_t *d)
{
        red_top_fetch(t->src, &t->sel, now_of(t), d);
        red_top_fetch_trend(t->src, &t->sel, d, red_top_view_first(&t->sel, d));
}

/* --- --once --------------------------------------------------------------- */

static int once(top_t *t, size_t width)
{
        red_top_data_t d = {0};
        red_top_frame_t f = {0};
        red_buf_t out;
        int rc;

        red_buf_init(&out);
        fetch(t, &d);
        red_top_view(&f, &t->sel, &d, &t->opts, width, 0);
        red_top_frame_text(&f, &out);
        rc = fwrite(out.data, 1, out.len, stdout) == out.len && !fflush(stdout)
                     ? 0
                     : 1;
        /* a frame without the database's numbers is not a frame */
        if (*d.error) {
                fprintf(stderr, "reducerd top: %s\n", d.error);
                rc = 1;
        }
        red_top_frame_clear(&f);
        red_top_data_clear(&d);
        red_buf_destroy(&out);
        return rc;
}

/* --- the terminal --------------------------------------------------------- */

static const struct {
        short fg;
        attr_t attr;
} looks[RED_TOP__STYLES] = {
        [RED_TOP_PLAIN] = {-1, A_NORMAL},
        [RED_TOP_TITLE] = {-1, A_BOLD},
        [RED_TOP_DIM] = {-1, A_DIM},
        [RED_TOP_OK] = {COLOR_GREEN, 0},
        [RED_TOP_WARN] = {COLOR_YELLOW, A_BOLD},
        [RED_TOP_BAD] = {COLOR_RED, A_BOLD},
        [RED_TOP_INFO] = {COLOR_CYAN, 0},
};

static void draw(const red_top_frame_t *f, bool colors)
{
        erase();
        for (size_t i = 0; i < f->cnt && (int)i < LINES; i++) {
                move((int)i, 0);
                for (size_t s = 0; s < f->lines[i].cnt; s++) {
                        red_top_style_t st = f->lines[i].spans[s].style;
                        attr_t a = looks[st].attr;
                        if (colors && looks[st].fg >= 0) {
                                a |= COLOR_PAIR(st);
                        }
                        attrset(a);
                        addstr(f->lines[i].spans[s].text);
                }
        }
        attrset(A_NORMAL);
        refresh();
}

static int live(top_t *t)
{
        red_top_data_t d = {0};
        red_top_frame_t f = {0};
        int64_t next = 0;
        bool colors, dirty = false, quit = false;

        initscr();
        cbreak();
        noecho();
        keypad(stdscr, TRUE);
        curs_set(0);
        timeout(200);
        if ((colors = has_colors())) {
                start_color();
                use_default_colors();
                for (int s = 0; s < RED_TOP__STYLES; s++) {
                        if (looks[s].fg >= 0) {
                                init_pair((short)s, looks[s].fg, -1);
                        }
                }
        }
        while (!quit) {
                int ch;

                if (red_time_mono_us() >= next) {
                        fetch(t, &d);
                        next = red_time_mono_us() +
                               t->opts.interval_s * RED_TIME_US_PER_SEC;
                        dirty = true;
                }
                if (dirty) {
                        red_top_view(&f, &t->sel, &d, &t->opts, (size_t)COLS,
                                     (size_t)LINES);
                        draw(&f, colors);
                        dirty = false;
                }
                ch = getch();
                if (ch == 'q' || ch == 'Q') {
                        quit = true;
                } else if (ch == KEY_RESIZE) {
                        dirty = true;
                } else if (on_key(t, ch)) {
                        next = 0; /* fetch for the new selection now */
                }
        }
        endwin();
        red_top_frame_clear(&f);
        red_top_data_clear(&d);
        return 0;
}

/* --- options -------------------------------------------------------------- */

static int usage(void)
{
        fputs(usage_text, stderr);
        return 2;
}

int red_top_main(int argc, char **argv)
{
        static const struct option opts[] = {
                {"config", required_argument, NULL, 'c'},
                {"contract", required_argument, NULL, 'C'},
                {"aggregation", required_argument, NULL, 'A'},
                {"grouping", required_argument, NULL, 'g'},
                {"window", required_argument, NULL, 'w'},
                {"interval", required_argument, NULL, 'i'},
                {"metrics", required_argument, NULL, 'm'},
                {"at", required_argument, NULL, 't'},
                {"once", no_argument, NULL, 'o'},
                {"width", required_argument, NULL, 'W'},
                {"help", no_argument, NULL, 'h'},
                {NULL, 0, NULL, 0}};
        const char *cpath = NULL, *contract = NULL, *agg = NULL,
                   *grouping = NULL, *window = NULL, *metrics = NULL;
        top_t t = {.at = INT64_MIN, .opts = {.interval_s = 5}};
        red_config_t *conf;
        bool one = false;
        long width = 0;
        char err[2048], *end;
        int opt, rc = 1;

        while ((opt = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
                switch (opt) {
                case 'c':
                        cpath = optarg;
                        break;
                case 'C':
                        contract = optarg;
                        break;
                case 'A':
                        agg = optarg;
                        break;
                case 'g':
                        grouping = optarg;
                        break;
                case 'w':
                        window = optarg;
                        break;
                case 'm':
                        metrics = optarg;
                        break;
                case 'o':
                        one = true;
                        break;
                case 'i':
                        t.opts.interval_s = (int)strtol(optarg, &end, 10);
                        if (*end || t.opts.interval_s < 1 ||
                            t.opts.interval_s > 3600) {
                                fprintf(stderr, "reducerd top: --interval: "
                                                "1 to 3600 seconds\n");
                                return 2;
                        }
                        break;
                case 'W':
                        width = strtol(optarg, &end, 10);
                        if (*end || width < 40 || width > 1000) {
                                fprintf(stderr, "reducerd top: --width: 40 "
                                                "to 1000 columns\n");
                                return 2;
                        }
                        break;
                case 't':
                        if (red_time_parse(optarg, strlen(optarg), &t.at)) {
                                fprintf(stderr,
                                        "reducerd top: --at: \"%s\" is not "
                                        "an ISO-8601 time\n",
                                        optarg);
                                return 2;
                        }
                        t.opts.fixed_time = true;
                        break;
                case 'h':
                        fputs(usage_text, stdout);
                        return 0;
                default:
                        return usage();
                }
        }
        if (optind < argc) {
                return usage();
        }
        if (!one && !(isatty(0) && isatty(1))) {
                fprintf(stderr, "reducerd top: not a terminal; --once prints "
                                "one frame\n");
                return 2;
        }
        if (!(conf = red_appconf_load(cpath))) {
                return 1;
        }
        if (red_appconf_contracts(&t.set, conf, err, sizeof(err))) {
                fprintf(stderr, "%s\n", err);
                red_config_destroy(conf);
                return 1;
        }
        if (select_contract(&t, contract) ||
            select_parts(&t, agg, grouping, window)) {
                rc = 2;
                goto done;
        }
        setlocale(LC_ALL, "");
        t.opts.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
        if (!(t.src = red_top_src_new(conf, &t.set, metrics))) {
                fprintf(stderr, "reducerd top: out of memory\n");
                goto done;
        }
        t.opts.metrics = red_top_src_metrics(t.src);
        if (one) {
                struct winsize ws;
                if (!width) {
                        width = isatty(1) && !ioctl(1, TIOCGWINSZ, &ws) &&
                                                ws.ws_col >= 40
                                        ? ws.ws_col
                                        : 100;
                }
                t.opts.interval_s = 0;
                rc = once(&t, (size_t)width);
        } else {
                rc = live(&t);
        }
done:
        red_top_src_destroy(t.src);
        red_contract_set_destroy(&t.set);
        red_config_destroy(conf);
        return rc;
}
