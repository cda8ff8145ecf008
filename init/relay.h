/* relay: `stdout = prefix` / `stderr = prefix`, and `file:PATH`. arbor
 * reads a worker's output from a pipe and writes each line to its own
 * stdout or stderr with "[path] " in front. A line longer than RELAY_LINE
 * bytes is split into pieces that each get the prefix; a partial last line
 * gets a newline at EOF. A worker that floods cannot block arbor or make it
 * grow: one buffer of RELAY_LINE bytes per relay, at most that much read
 * per event.
 *
 * With file:PATH the lines go as they are to the file (logfile.h), whole
 * lines in one write per read, a long line in pieces of RELAY_LINE bytes
 * that a rotation never separates. The relay reads on whatever happens to
 * the file, so the worker never blocks on its pipe. */
#ifndef ARBOR_RELAY_H
#define ARBOR_RELAY_H

#include "conf.h"
#include "loop.h"

#define RELAY_LINE 65536

struct relay;

/* Makes the pipe and watches its read end; *child_fd is the write end to give
 * the child (O_CLOEXEC: the child dup2s it onto 1 or 2); the caller closes it
 * after fork. Lines go to dst_fd. NULL with errno on failure. */
struct relay *relay_new(struct loop *l, const char *path, int dst_fd,
			int *child_fd);
/* A worker's stdout and stderr as its set-up s says: a relay for each that
 * is prefix or file:PATH, its write end in *out_fd or *err_fd (left alone
 * otherwise). 0, or -1 with why: "stdout: file:PATH: REASON", or "pipe2
 * PATH: REASON". */
int relay_outputs(struct loop *l, const char *path, const struct conf_setup *s,
		  int *out_fd, int *err_fd, char *why, size_t len);
/* The relay frees itself at EOF, when every writer (the worker and whatever
 * it left behind) has closed the pipe; the owner keeps no pointer for that.
 * relay_free is for an owner that stops early: it flushes a partial line,
 * stops watching, closes and frees (NULL is fine). */
void relay_free(struct relay *r);
/* At arbor's exit: relay_free every relay still open. */
void relay_free_all(void);
/* In a forked child that goes on running arbor's code (a nested supervisor):
 * closes the parent's relay pipes and log files and frees them, without
 * writing anything and without touching the (shared) epoll set. */
void relay_forget_all(void);

#endif
