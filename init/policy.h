/* policy: OTP's supervision decisions, as a pure function.
 *
 * Given a supervisor's strategy, its children as the policy sees them, one
 * exit and the restart window, policy_decide() says what to do: which
 * children to stop (in reverse start order) and to start again (in start
 * order), which to forget, whether the supervisor gives up or shuts down.
 * It forks, kills, logs and allocates nothing; sup.c carries the actions
 * out, in the order given. The restart window is the only state it changes
 * (a restart is recorded in it when one is decided).
 *
 * The rules are those of OTP's supervisor (see supervisor_SUITE):
 * - permanent children are always restarted, transient ones only after an
 *   abnormal exit (a non-zero status, or a signal other than the one arbor
 *   sent to stop it), temporary ones never;
 * - one_for_one restarts the child alone; one_for_all stops every other
 *   child in reverse start order and starts them all in start order;
 *   rest_for_one does the same with the children after it;
 * - temporary bystanders of a group restart are stopped and forgotten, never
 *   started again (but a one-shot job, ready = exit, runs again whenever
 *   its group starts); held children (stopped by arborctl) are left alone;
 * - more than intensity restarts within period makes the supervisor give up
 *   (root: exit status 1; nested: a clean exit, OTP's reason shutdown);
 * - a significant child that ends for good triggers auto_shutdown (any or
 *   all significant): the root exits with that child's status, a nested
 *   supervisor exits cleanly.
 * The -- CMD stands outside the strategies (its exit is the caller's). */
#ifndef ARBOR_POLICY_H
#define ARBOR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "window.h"

/* One child, as the policy sees it. */
struct policy_kid {
	enum conf_restart restart;
	bool significant;
	bool held;		/* stopped by arborctl: strategies leave it */
	bool down;		/* a temporary child that ended: never started again */
	bool stopped;		/* neither starting, running nor stopping, and no
				 * exit of its own waiting to be decided (such a
				 * child is not down yet: all_significant waits) */
	bool outside;		/* outside the strategies: the -- CMD */
	bool oneshot;		/* ready = exit: runs again whenever its group
				 * starts, even when temporary */
};

/* The supervisor, as the policy sees it. */
struct policy_sup {
	enum conf_strategy strategy;
	enum conf_auto auto_shutdown;
	bool root;
	struct window *win;	/* the restart window (intensity, period) */
	int64_t now_ms;		/* CLOCK_MONOTONIC, for the window */
	const struct policy_kid *kids;	/* in start order */
	size_t nkids;
};

/* One exit to decide: which child, its wait status, and the signal arbor
 * sent to stop it (0: none). A start that failed after boot is an exit with
 * status 1. */
struct policy_exit {
	size_t kid;
	int ws;
	int stop_sig;
};

enum policy_op {
	POL_STOPPED,		/* kid: ended and not restarted (stays in the list) */
	POL_FORGET,		/* kid: a temporary child, never started again */
	POL_RESTART,		/* kid: restarts; code = restarts now in the window */
	POL_STOP,		/* kid: stop it, a bystander of a group restart */
	POL_START,		/* kid: start it (again) */
	POL_GIVE_UP,		/* intensity reached: stop all, exit with code */
	POL_SHUTDOWN,		/* auto_shutdown: stop all, exit with code */
};

struct policy_action {
	enum policy_op op;
	size_t kid;		/* index into policy_sup.kids */
	int code;		/* POL_RESTART: restarts in the window;
				 * POL_GIVE_UP, POL_SHUTDOWN: exit status */
};

/* Room policy_decide() may need in out for a supervisor of n children. */
#define POLICY_MAX_ACTIONS(n) (3 * (n) + 3)

/* Writes the actions for e into out, in the order to carry them out, and
 * returns how many. */
size_t policy_decide(const struct policy_sup *s, const struct policy_exit *e,
		     struct policy_action *out);

/* The exit e of kid k restarts it (its restart type, not held, not the
 * -- CMD): the window and the strategy decide the rest. */
bool policy_restarts(const struct policy_kid *k, const struct policy_exit *e);

/* The wait before the n-th consecutive restart (n >= 1) of a child with
 * restart_delay base_ms and restart_delay_max max_ms:
 * min(base_ms x 2^(n-1), max_ms); 0 when base_ms is 0. */
long policy_backoff(long base_ms, long max_ms, unsigned n);

/* An exit OTP calls abnormal: a non-zero status, or a death by any signal
 * other than stop_sig (0: arbor sent none). */
bool policy_abnormal(int ws, int stop_sig);

/* The status a process's exit stands for: N, or 128+N for signal N. */
int policy_exit_code(int ws);

#endif
