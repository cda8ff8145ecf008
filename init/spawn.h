/* spawn: fork, set up and exec one worker program.
 *
 * The child resets its signals, becomes the leader of its own process group,
 * dies with its supervisor (PR_SET_PDEATHSIG, checked against the fork race),
 * gets exactly the fds meant for it, applies the worker's set-up and execs.
 * Whether exec worked comes back on exec_fd: EOF means it did; otherwise the
 * child wrote "errno:message" before _exit(127). */
#ifndef ARBOR_SPAWN_H
#define ARBOR_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>
#include "conf.h"

struct spawn_opts {
	const struct conf_node *node;	/* a worker's conf, or NULL for argv alone */
	const char *path;		/* for messages and ARBOR_PATH */
	char *const *argv;		/* NULL: node->argv */
	bool search_path;		/* argv[0] is looked up in $PATH */
	bool own_pgrp;			/* setpgid(0, 0) */
	bool foreground;		/* make its group the terminal's foreground */
	bool keep_inherited;		/* fds arbor inherited go to the child */
	bool inherit_signals;		/* the mask and ignored signals arbor
					 * started with (spawn_save_signals) */
	bool genserver;			/* request/reply pipes on fds 3 and 4 */
	int ready_fd;			/* fd:N, or -1 */
	const char *notify_socket;	/* NOTIFY_SOCKET value, or NULL */
	int out_fd, err_fd;		/* onto 1 and 2 (prefix relays), or -1 */
	size_t max_message;
	const char *instance;		/* ARBOR_INSTANCE, with ARBOR_TREE (reap.h) */
	long watchdog_ms;		/* > 0: WATCHDOG_USEC and WATCHDOG_PID */
};

struct spawn_res {
	pid_t pid;
	int exec_fd;		/* read end, see above */
	int ready_fd;		/* read end of the fd:N pipe, or -1 */
	int to_child;		/* genserver: we write frames here, or -1 */
	int from_child;		/* genserver: we read frames here, or -1 */
	const char *failed;	/* on failure, the call: "pipe2" or "fork" */
};

int spawn_worker(const struct spawn_opts *o, struct spawn_res *r);
/* Reads the child's exec report from exec_fd (after EPOLLIN): 0 exec worked
 * (EOF), 1 it failed (errno in *err, text in why), -1 not yet (EAGAIN). */
int spawn_exec_result(int exec_fd, int *err, char *why, size_t len);
/* Remembers arbor's resource limits as it was started, before it raises its
 * own open-file limit for the control socket: workers get the originals. */
void spawn_save_limits(void);
/* Remembers the signal mask and the ignored signals arbor was started with,
 * for the -- CMD, and gives arbor itself default dispositions (an ignored
 * SIGCHLD would reap its children before it could see them). */
void spawn_save_signals(void);
/* In a freshly forked child: default dispositions, empty mask. */
void spawn_reset_signals(void);

#endif
