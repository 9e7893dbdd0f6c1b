/*
 * red_top - `reducerd top [-c CONFIG] [--contract NAME] [--once]`: a live
 * terminal dashboard of one contract (ncurses), refreshed every few
 * seconds, built on the query layer (red_top_data.h) and laid out by
 * red_top_view.h; --once prints one plain-text frame for scripts.
 */
#ifndef RED_TOP_H
#define RED_TOP_H

/** The subcommand; returns the exit status (2: a bad option). */
int red_top_main(int argc, char **argv);

#endif
