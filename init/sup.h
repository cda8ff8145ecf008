/* sup: one supervisor, running in its own process with its own loop.
 *
 * The root supervisor runs in arbor (PID 1); each nested supervisor is
 * forked from its parent supervisor and runs the same code on its subtree.
 * Children start in file order, each once the previous is ready, and stop in
 * reverse order. A child that exits is restarted by OTP's rules: its restart
 * type, the supervisor's strategy and its restart intensity.
 *
 * This header is what the layers above a supervisor (route.c: frames and
 * requests; reload.c) work with. */
#ifndef ARBOR_SUP_H
#define ARBOR_SUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"
#include "conf.h"
#include "frame.h"
#include "link.h"
#include "loop.h"
#include "pending.h"
#include "policy.h"
#include "registry.h"
#include "window.h"

struct sup;
struct monitors;

/* What `arbor -- CMD` adds to the root: CMD as a significant temporary
 * child whose exit ends arbor with its status. */
struct sup_cmd {
	char **argv;		/* NULL: no CMD */
	bool group;		/* -g: signals go to CMD's process group */
	bool clean[256];	/* -e CODE (repeatable): CODE counts as 0 */
	bool foreground;	/* stdin is a terminal: CMD gets it */
	bool warn_reap;		/* -w: log each reaped zombie that is not CMD */
};

/* What a supervisor asks of the layers above it (route.c, reload.c), set
 * once by whoever runs the root and inherited by every nested supervisor:
 * sup.c calls none of them by name. */
struct sup_hooks {
	link_frame_fn *frame;	/* every link's callbacks */
	link_close_fn *close;
	/* A control request (argv[0] the verb): done(ctx) exactly once. */
	void (*request)(struct sup *s, int argc, char **argv, pending_done_fn *done,
			void *ctx);
	/* A plan ended, before the exits it left waiting are decided. */
	void (*plan_done)(struct sup *s);
	/* The supervisor may have become idle. */
	void (*idle)(struct sup *s);
	/* A child a plan started did not become ready. */
	void (*start_failed)(struct sup *s, struct child *c, const char *why);
	/* The supervisor is stopping. */
	void (*stopping)(struct sup *s);
	/* The node path, in state was until now, changed: rt is its entry. */
	void (*changed)(struct sup *s, const char *path, enum child_state was,
			const struct reg_node *rt);
};

enum act_type { ACT_STOP, ACT_START };

struct action {
	enum act_type type;
	bool again;		/* a start after a crash; a stop of a bystander
				 * that starts again */
	struct child *c;
	struct pending *waiter;	/* an arborctl request answered when done */
};

enum phase { PH_BOOT, PH_RUN, PH_STOP, PH_DONE };

/* A reload under way, or the ones asked for meanwhile: answered once its
 * plan is done and every nested supervisor it was passed on to has
 * answered (see reload.c). */
struct reload {
	struct pending **w;	/* who asked; a SIGHUP's has nobody to tell */
	size_t nw;
	bool planning;		/* its plan of stops and starts is running */
	int left;		/* the plan and the nested answers still due */
	int rc;
	char sum[320];		/* "reloaded FILE: N added, ..." */
	char errs[1536];	/* what failed, "; " between */
};

/* What a child told its supervisor, acted on from deferred work. */
struct note {
	struct child *c;
	bool ready;		/* it became ready */
	bool waited;		/* its restart delay elapsed; else it exited: */
	enum child_state was;	/* its state before it exited */
	int ws;
};

struct sup {
	struct loop *loop;
	struct conf *conf;
	const char *conf_file;
	struct conf_node *node;
	struct registry *reg;	/* run-time state by path */
	struct child **kids;
	size_t nkids;
	struct window win;
	enum phase phase;
	struct action *plan;
	size_t nplan, at, capplan;
	struct note *deaths;	/* exits that came during a plan, in order */
	size_t ndeaths;
	size_t room;		/* of plan, inbox and deaths: see sup_reserve() */
	struct policy_kid *pkids;	/* the children as policy.c sees them */
	struct policy_action *pacts;	/* what it decided */
	int exit_code;
	int die_sig;		/* nested: stopped by a signal not from the
				 * parent, so it dies by it once stopped */
	bool exit_with_cmd;	/* arbor ends with CMD's status (TERM etc.) */
	bool root;
	struct link *up;	/* nested: the link to the parent */
	const struct sup_hooks *hooks;
	struct reap *reap;	/* pid -> child */
	struct note *inbox;	/* what the children told, not acted on yet */
	size_t ninbox;
	bool kicked;		/* sup_step is deferred */
	bool planning;		/* a plan is set and not done */
	struct pending_table calls;	/* calls and requests in flight */
	struct child *cmd;	/* the -- CMD, root only */
	struct sup_cmd cmdopt;
	struct child_cmd cmd_opts;	/* what the CMD child needs of it */
	void *ctl;		/* the control socket server, root only */
	struct loop_timer *adopt_timer;	/* kill_adopted soon after deaths */
	struct child **gone;	/* removed by reload, freed once stopped */
	size_t ngone;
	struct reload *reload;	/* under way */
	struct reload *reload_next;	/* asked meanwhile: runs once idle */
	struct monitors *mon;	/* root only: the monitors (monitor.h) */
};

/* sup.c */
/* The parent supervisor is gone: so is this subtree (nested only). */
void sup_parent_gone(struct sup *s);
void sup_admin(struct sup *s, const char *verb, struct child *c, int sig,
	       struct pending *p);
void sup_shutdown(struct sup *s, int code);
/* A reload's plan: the children removed (stopped, then freed), stopped and
 * started, in that order. */
void sup_reload_apply(struct sup *s, struct child **stop, size_t nstop,
		      struct child **start, size_t nstart, struct child **gone,
		      size_t ngone);

struct child *sup_add_kid(struct sup *s, struct conf_node *n);
/* A child for node n, stopped. */
struct child *sup_child_new(struct sup *s, struct conf_node *n);
/* Makes room for what the children may queue (after kids or gone grew). */
int sup_reserve(struct sup *s);

/* The node path's new state, to the parent (nested supervisors only). */
void sup_event_up(struct sup *s, const char *path, const struct reg_node *rt);

/* Runs the root supervisor of c in this process until the tree is stopped,
 * and frees c (or what reload replaced it with). Returns arbor's exit
 * status. */
int sup_run_root(struct conf *c, const char *conf_file, const struct sup_cmd *cmd,
		 const struct sup_hooks *hooks);

#endif
