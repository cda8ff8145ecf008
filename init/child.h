/* child: one child of a supervisor, as an explicit state machine.
 *
 * A child's life is a set of states and the events that move it between
 * them, written as one table, actions[state][event] (see child.c), in the
 * shape of s6-supervise: each transition one short function. The child
 * starts, watches and stops its process; what to do about a death is its
 * owner's (sup.c) business, told through the callbacks of child_ops. No
 * callback runs inside another: the owner queues what it hears and acts on
 * it from the loop's deferred work (loop_defer). */
#ifndef ARBOR_CHILD_H
#define ARBOR_CHILD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "loop.h"
#include "reap.h"

struct child;
struct link;

enum child_kind {
	CHILD_WORKER,		/* a program, forked and exec'd (spawn.c) */
	CHILD_SUPERVISOR,	/* a nested supervisor: a fork running sup.c */
	CHILD_CMD,		/* the -- CMD: outside the strategies */
};

enum child_state {
	CS_STOPPED,		/* no process */
	CS_STARTING,		/* forked, not ready yet */
	CS_RECOVERING,		/* the same, started again after a crash: not
				 * healthy until it is ready */
	CS_RUNNING,		/* ready */
	CS_STOPPING,		/* its stop signal sent, its exit awaited */
	CS_RESTARTING,		/* no process, to be started again */
	CS_WAITING,		/* the same, its restart delay running (backoff):
				 * "restarting" to arborctl */
	CS_NSTATES
};

enum child_event {
	CE_START,		/* arg.again: a restart after a crash */
	CE_EXEC_OK,		/* exec succeeded */
	CE_READY,		/* its readiness condition was met */
	CE_EXIT,		/* reaped; arg.ws */
	CE_START_TIMEOUT,	/* not ready within start_timeout */
	CE_STOP,		/* stop it: its stop signal, then the deadline */
	CE_KILL_DEADLINE,	/* shutdown ms passed since the stop signal */
	CE_WAIT,		/* arg ms: wait that long before the restart */
	CE_RESTART_DELAY,	/* the restart delay elapsed */
	CE_WATCHDOG_MISS,	/* no WATCHDOG=1 in time, or WATCHDOG=trigger */
	CE_HEALTH_FAIL,		/* its health check failed health_retries times */
	CE_NEVENTS
};

/* A health check's state, as `arborctl status --json` names it. */
enum child_health {
	HEALTH_NONE,		/* no health_command: null */
	HEALTH_STARTING,	/* no success yet since ready */
	HEALTH_OK,
	HEALTH_FAILING,		/* from a failure until a success or the kill */
};

/* What the reap map holds for a pid: a child, or its health check's
 * process (each struct begins with this). */
enum child_who { WHO_CHILD, WHO_CHECK };

/* A worker's health check at run time. */
struct child_check {
	enum child_who who;	/* WHO_CHECK */
	struct child *c;
	pid_t pid;		/* the check's process, 0 none */
	bool timed_out;		/* killed at health_timeout: a failure */
	bool dropped;		/* killed as its worker went: no outcome */
	struct loop_timer *timer;	/* the next check, or its timeout */
	enum child_health state;
	int failures;		/* in a row */
	int64_t start_until;	/* loop_now_ms: failures before are not counted */
};

/* What the supervisor means to do with a stopped child. */
enum child_role {
	ROLE_ACTIVE,		/* strategies start and restart it */
	ROLE_HELD,		/* stopped by arborctl: strategies leave it */
	ROLE_FORGOTTEN,		/* a temporary child that ended: never started
				 * again but by arborctl */
};

/* The -- CMD's own options (sup.h's sup_cmd has the rest). */
struct child_cmd {
	char **argv;
	bool group;		/* -g: signals go to CMD's process group */
	bool foreground;	/* CMD gets the terminal */
};

/* How a child tells its owner what happened. */
struct child_ops {
	/* Its state changed (to report it up). */
	void (*changed)(struct child *c);
	/* It became ready. */
	void (*ready)(struct child *c);
	/* It was reaped, in state was; returns the state it is left in
	 * (CS_STOPPED or CS_RESTARTING). */
	enum child_state (*exited)(struct child *c, enum child_state was, int ws);
	/* Frames to and from it over rfd and wfd; NULL on failure. */
	struct link *(*attach)(struct child *c, int rfd, int wfd, size_t max);
	/* Its restart delay elapsed: it is restarting again (CE_WAIT). */
	void (*waited)(struct child *c);
	/* Its link is done with: fail what waits on it with why, free it. */
	void (*detach)(struct child *c, struct link *ln, const char *why);
	/* Its health (check.state, check.failures, watchdog) changed. */
	void (*health)(struct child *c);
	/* A nested supervisor's process, right after fork: never returns. */
	void (*nested_main)(struct child *c, int rfd, int wfd, pid_t ppid);
};

#define CHILD_INSTANCE_MAX 40	/* an ARBOR_INSTANCE value, NUL included */

struct child {
	enum child_who who;	/* WHO_CHILD: first, as in struct child_check */
	enum child_kind kind;
	const struct child_ops *ops;
	void *owner;		/* the supervisor */
	struct loop *loop;
	struct reap *reap;	/* where its pid is found */
	struct conf_node *node;	/* its section (reload may swap it) */
	const char *path;
	const struct child_cmd *cmd;	/* CHILD_CMD */
	struct loop_timer *timer;	/* start timeout, kill deadline or restart
					 * delay */
	struct link *ln;	/* GenServer or nested supervisor, or NULL */
	char *start_err;	/* why the start failed, for the log; NULL: it did
				 * not, or there is nothing to say */
	struct loop_timer *watchdog;	/* running: the next WATCHDOG=1 is due */
	struct child_check *check;	/* made at its first health check: NULL
					 * for most workers */
	enum child_state state;
	enum child_role role;
	pid_t pid;		/* > 0 while a process exists */
	int stop_sig;		/* the signal arbor sent to stop it, 0 none */
	int exec_fd, ready_fd, notify_fd;
	int ws;			/* the wait status of its last exit */
	unsigned backoffs;	/* restarts in a row, for the backoff */
	int stop_signal;	/* as it was started with: reload may change */
	long shutdown_ms;	/* the same */
	int64_t started_ms;	/* of its last start (a child with a backoff) */
	int64_t restart_at;	/* CS_WAITING: when (loop_now_ms) */
	unsigned long instance;	/* ARBOR_INSTANCE of the current start, as
				 * reap_instance() writes it */
	bool doomed;		/* a watchdog miss or failed checks: its kill
				 * is under way (it stays running until reaped) */
};

/* A stopped child of node n (NULL for the CMD, with cmd set). */
struct child *child_new(enum child_kind kind, struct conf_node *n, const char *path,
			const struct child_ops *ops, void *owner, struct loop *l,
			struct reap *r);
/* Closes its fds and cancels its timer; the process, if any, is left. */
void child_free(struct child *c);
/* Hands a reaped pid's status to who the reap map had for it: a child
 * (its CE_EXIT) or a health check. */
void child_reaped(void *who, int ws);

/* Feeds one event to its state machine. 0, or -1 when a start failed
 * (why in c->start_err, the child left as it was). */
int child_event(struct child *c, enum child_event ev, int arg);

static inline int child_start(struct child *c, bool again)
{
	return child_event(c, CE_START, again);
}

static inline void child_stop(struct child *c)
{
	child_event(c, CE_STOP, 0);
}

/* Waits ms before its restart (CS_WAITING): the restart-delay-elapsed
 * event brings it back to CS_RESTARTING and tells the owner (waited); a
 * start meanwhile starts it at once. 0, or -1 when no timer could be
 * armed (the child is left as it was). */
static inline int child_wait(struct child *c, long ms)
{
	return child_event(c, CE_WAIT, ms > INT_MAX ? INT_MAX : (int)ms);
}

/* The owner's decision about a child with no process: CS_STOPPED or
 * CS_RESTARTING (a restart delay running is cancelled). */
void child_settle(struct child *c, enum child_state st);
/* SIGKILL to its process and all it holds (its group; for a supervisor,
 * its session goes when it is reaped). */
void child_kill(struct child *c);
/* A process exists that a signal reaches. */
bool child_alive(const struct child *c);
/* "stopped", "starting", ... as `arborctl status` names the state. */
const char *child_state_name(enum child_state st);

#endif
