/* top: arborctl top, a full-screen live view of the tree (arborctl(8)).
 *
 * Plain ANSI escapes and termios, no ncurses: arborctl is static and must
 * work in an image with no terminfo database, and every terminal arbor
 * meets (xterm and its kin, the Linux console, tmux, screen) speaks the
 * few VT100 sequences used here. Part of arborctl, not of arbor. */
#ifndef ARBOR_TOP_H
#define ARBOR_TOP_H

#include <stddef.h>

/* How top talks to arbor: ask() sends one request (its words) and gives
 * the answer's text, malloc'd, in *out: 0 for a reply, 1 for an error.
 * When arbor cannot be reached it exits (2) without returning. */
struct top_io {
	int (*ask)(void *data, const char *const *words, int n, char **out, size_t *len);
	void *data;
};

/* Runs the view until `q`, SIGINT or SIGTERM: 0. Its exit status when
 * stdin or stdout is not a terminal (2, after saying so). The terminal is
 * restored however it ends, exit() included. */
int top_run(const struct top_io *io);

#endif
