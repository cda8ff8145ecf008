/* sup_int: the supervisor's inner structures, shared by sup.c (the child
 * state machine and strategies), link.c (frames to workers, to nested
 * supervisors and to the parent) and status.c (status, tree, ping). */
#ifndef ARBOR_SUP_INT_H
#define ARBOR_SUP_INT_H

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
#include "route.h"
#include "sup.h"
#include "window.h"

enum act_type { ACT_STOP, ACT_START };

struct action {
	enum act_type type;
	struct child *c;
	struct pending *waiter;	/* an arborctl request answered when done */
	bool again;		/* a start after a crash; a stop of a bystander
				 * that starts again */
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
	bool ready;		/* it became ready; else it exited: */
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
};

/* sup.c */
/* The parent supervisor is gone: so is this subtree (nested only). */
void sup_parent_gone(struct sup *s);
void sup_admin(struct sup *s, const char *verb, struct child *c, int sig,
	       struct pending *p);
void sup_shutdown(struct sup *s, int code);
void sup_reload_apply(struct sup *s, struct child **stop, size_t nstop,
		      struct child **start, size_t nstart, struct child **gone,
		      size_t ngone);

/* reload.c: a reload runs when the supervisor is idle; reload_kick() is
 * called whenever it may have become so. */
void reload_request(struct sup *s, struct pending *p);
void reload_kick(struct sup *s);
void reload_plan_done(struct sup *s);
void reload_pass_on(struct sup *s, struct child *k);
void reload_start_failed(struct sup *s, struct child *c, const char *why);
void reload_abort(struct sup *s);


struct child *sup_add_kid(struct sup *s, struct conf_node *n);
/* A child for node n, stopped. */
struct child *sup_child_new(struct sup *s, struct conf_node *n);
/* Makes room for what the children may queue (after kids or gone grew). */
int sup_reserve(struct sup *s);

#endif
