/* sup: the one owner of a supervisor.
 *
 * Its children are state machines (child.c); a supervisor holds their
 * order, its phase (booting, running, stopping, done), the plan it runs and
 * the exits that wait for a decision. Everything a supervisor does to its
 * children is a plan: a list of stops and starts run one at a time, each
 * waiting for the child to be reaped or to be ready, exactly as an OTP
 * supervisor terminates and starts children one by one. Exits that come
 * while a plan runs wait in a queue, as EXIT messages wait in OTP's mailbox.
 *
 * What a child tells (ready, exited) is queued and acted on by sup_step(),
 * deferred work of the loop: no decision, start or stop runs inside the
 * handler of the event that led to it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "monitor.h"
#include "policy.h"
#include "reap.h"
#include "relay.h"
#include "sup.h"
#include "title.h"

static void plan_run(struct sup *s);
static void plan_next(struct sup *s, int rc, const char *text);
static void decide(struct sup *s, struct child *c, int ws, bool waited);
static void sup_kick(struct sup *s);
static int sup_loop(struct sup *s);
static void child_failed_start(struct sup *s, struct child *c, const char *why);
static void subtree_down(struct sup *s, struct conf_node *n);

/* --- what the children tell --- */

/* c's entry in the registry; NULL for a child a reload removed. */
static struct reg_node *rt_of(const struct child *c)
{
	const struct sup *s = c->owner;

	return c->node ? registry_get(s->reg, c->path) : NULL;
}

/* Why c stopped running, for its monitors: stopped by its supervisor
 * (its stop signal sent: it is stopping), or its exit. */
static uint16_t down_of(const struct child *c)
{
	if (c->state == CS_STOPPING)
		return FRAME_DOWN_SHUTDOWN;
	if (WIFSIGNALED(c->ws))
		return (uint16_t)(FRAME_DOWN_SIGNAL | (WTERMSIG(c->ws) & 0xff));
	return (uint16_t)(FRAME_DOWN_EXIT | (WEXITSTATUS(c->ws) & 0xff));
}

/* A child's new state, in its run-time slot and up to the parent. */
static void on_changed(struct child *c)
{
	struct sup *s = c->owner;
	struct reg_node *rt = rt_of(c);
	enum child_state was;

	if (!rt)
		return;		/* removed by a reload: nobody asks any more */
	was = rt->state;
	if (was == CS_RUNNING && c->state != CS_RUNNING)
		rt->down = down_of(c);
	rt->state = c->state;
	rt->pid = c->pid;
	if (c->state == CS_STARTING || c->state == CS_RECOVERING)
		rt->giving_up = false;
	if (c->state == CS_RUNNING)
		rt->since = loop_wall_ms();
	else if (c->state == CS_WAITING)	/* when it restarts, for restart_in_ms */
		rt->since = loop_wall_ms() + (c->restart_at - loop_now_ms());
	else if (c->state == CS_STOPPED && c->node->ready == READY_EXIT)
		rt->since = WIFEXITED(c->ws) && !WEXITSTATUS(c->ws) ? loop_wall_ms() : 0;
	if (s->up && c->kind != CHILD_CMD)
		sup_event_up(s, c->path, rt);
	if (s->hooks->changed && c->kind != CHILD_CMD)
		s->hooks->changed(s, c->path, was, rt);
}

/* Its health check or watchdog changed: in its slot and up, its state as
 * it was. */
static void on_health(struct child *c)
{
	struct sup *s = c->owner;
	struct reg_node *rt = rt_of(c);

	if (!rt)
		return;
	rt->health = c->check ? c->check->state : HEALTH_NONE;
	rt->health_failures = c->check ? c->check->failures : 0;
	rt->watchdog = c->doomed;
	if (s->up)
		sup_event_up(s, c->path, rt);
}

void sup_event_up(struct sup *s, const char *path, const struct reg_node *rt)
{
	struct frame_event e = {
		.pid = rt->pid, .state = (uint8_t)rt->state, .giving_up = rt->giving_up,
		.restarts = rt->restarts, .since_ms = rt->since, .down = rt->down, .path = path,
		.path_len = strlen(path),
		.health = (uint8_t)rt->health, .health_failures = rt->health_failures,
		.watchdog = rt->watchdog,
	};
	uint8_t b[FRAME_EVENT_FIXED + 512];
	size_t n = frame_event_encode(&e, b, sizeof(b));

	if (s->up && n)
		link_send(s->up, FRAME_EVENT, 0, b, n, NULL, 0);
}

/* A nested supervisor's log events go up to the root, which hands them to
 * those who follow events (arborctl events); this process still prints
 * them itself. */
static void log_up(void *data, const struct log_event *le)
{
	struct sup *s = data;
	size_t ne = strlen(le->event) + 1, np = strlen(le->path) + 1, nk = strlen(le->kv);
	char body[1600];
	struct frame_event e = { .pid = le->pid, .since_ms = le->time_ms, .log = true,
				 .path = body, .path_len = ne + np + nk };
	uint8_t b[FRAME_EVENT_FIXED + sizeof(body)];
	size_t n;

	if (!s->up || e.path_len > sizeof(body))
		return;
	memcpy(body, le->event, ne);
	memcpy(body + ne, le->path, np);
	memcpy(body + ne + np, le->kv, nk);
	n = frame_event_encode(&e, b, sizeof(b));
	if (n)
		link_send(s->up, FRAME_EVENT, 0, b, n, NULL, 0);
}

/* Queues what c told for sup_step. Each child has at most one of each
 * kind waiting, and sup_reserve() made room for that. */
static void tell(struct sup *s, struct note n)
{
	if (s->ninbox < 2 * s->room)
		s->inbox[s->ninbox++] = n;
	else
		log_msg("%s: lost what it told: no room", n.c->path);
	sup_kick(s);
}

static void on_ready(struct child *c)
{
	tell(c->owner, (struct note){ .c = c, .ready = true });
}

static void on_waited(struct child *c)
{
	tell(c->owner, (struct note){ .c = c, .waited = true, .ws = c->ws });
}

/* The current action is the stop of c as a bystander that starts again. */
static bool stopping_to_restart(const struct sup *s, const struct child *c)
{
	const struct action *a = s->at < s->nplan ? &s->plan[s->at] : NULL;

	return a && a->c == c && a->type == ACT_STOP && a->again;
}

/* Queued for sup_step; the state it is left in until then: a crash waits
 * for a decision (restarting), unless the supervisor is stopping. */
static enum child_state on_exited(struct child *c, enum child_state was, int ws)
{
	struct sup *s = c->owner;

	if (c->kind == CHILD_SUPERVISOR && c->node)	/* (a removed one's is gone) */
		subtree_down(s, c->node);
	tell(s, (struct note){ .c = c, .was = was, .ws = ws });
	if (was == CS_STOPPING)
		return stopping_to_restart(s, c) ? CS_RESTARTING : CS_STOPPED;
	if (was == CS_RUNNING && s->phase != PH_STOP && s->phase != PH_DONE)
		return CS_RESTARTING;
	return CS_STOPPED;
}

static struct link *on_attach(struct child *c, int rfd, int wfd, size_t max)
{
	struct sup *s = c->owner;

	return link_new(c->loop, rfd, wfd, max, s->hooks->frame, s->hooks->close, s, c);
}

static void on_detach(struct child *c, struct link *ln, const char *why)
{
	struct sup *s = c->owner;

	pending_fail_link(&s->calls, ln, why, true);
	link_free(ln);
}

static void nested_main(struct child *c, int rfd, int wfd, pid_t ppid);

static const struct child_ops ops = {
	.changed = on_changed, .ready = on_ready, .exited = on_exited, .waited = on_waited,
	.health = on_health,
	.attach = on_attach, .detach = on_detach, .nested_main = nested_main,
};

/* Marks every node below n as stopped: its supervisor is gone. Whatever is
 * left of the subtree is killed: each worker's group, each nested
 * supervisor's session (a supervisor two levels down was reparented here,
 * so its own parent could not clean up after it). */
static void subtree_down(struct sup *s, struct conf_node *n)
{
	struct conf_node *k;

	for (size_t i = 0; (k = registry_kid(s->reg, n, i)); i++) {
		struct reg_node *rt = registry_find(s->reg, k->path);

		if (rt && rt->pid > 0 && rt->state != CS_STOPPED) {
			if (k->is_sup) {
				kill(rt->pid, SIGKILL);
				reap_kill_session(rt->pid);
			} else {
				kill(-rt->pid, SIGKILL);
			}
		}
		if (rt && (rt->pid || rt->state != CS_STOPPED)) {
			enum child_state was = rt->state;

			if (was == CS_RUNNING)	/* killed above */
				rt->down = FRAME_DOWN_SIGNAL | SIGKILL;
			rt->pid = 0;
			rt->state = CS_STOPPED;
			rt->giving_up = false;
			if (s->up)
				sup_event_up(s, k->path, rt);
			if (s->hooks->changed)
				s->hooks->changed(s, k->path, was, rt);
		}
		subtree_down(s, k);
	}
}

/* --- the nested supervisor's process --- */

void sup_parent_gone(struct sup *s)
{
	log_debug("parent supervisor gone: stopping %s", s->node->path);
	for (size_t i = 0; i < s->nkids; i++)
		child_kill(s->kids[i]);
	s->exit_code = 1;
	s->phase = PH_DONE;
	loop_stop(s->loop);
}

/* Closes every fd from 3 up but the two given, which end up as 3 and 4. */
static void keep_only(int *a, int *b)
{
	int x = fcntl(*a, F_DUPFD_CLOEXEC, 5), y = fcntl(*b, F_DUPFD_CLOEXEC, 5);

	dup3(x, 3, O_CLOEXEC);
	dup3(y, 4, O_CLOEXEC);
	syscall(SYS_close_range, 5U, ~0U, 0U);
	*a = 3;
	*b = 4;
}

/* Ends this process by sig as if it had never been caught, so that its
 * parent sees the death by a signal that it was (without a core dump). */
static void __attribute__((noreturn)) die_by(int sig)
{
	sigset_t set;

	prctl(PR_SET_DUMPABLE, 0);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);	/* delivered before kill() returns */
	_exit(128 + sig);
}

/* The supervisor a nested supervisor's process runs: one per process, and
 * held here so that it is still reachable when the process ends by _exit()
 * (valgrind counts what only a dead local pointed to as lost); volatile, or
 * the compiler drops a store that nothing reads. */
static struct sup *volatile nested;

/* The nested supervisor's process: its own session (so that nothing of its
 * subtree can outlive it unnoticed), dying with its parent, a subreaper for
 * its workers' orphans, and the same loop as the root on its subtree. The
 * parent's loop, children and links are left behind: their fds are closed
 * and this process never returns to them. */
static void nested_main(struct child *c, int rfd, int wfd, pid_t ppid)
{
	struct sup *parent = c->owner, *s;
	int code;

	log_set_hook(NULL, NULL);	/* the parent's followers are the parent's */
	setsid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != ppid)
		_exit(1);
	title_set("arbor: supervisor %s", c->path);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	relay_forget_all();	/* the parent's relays are the parent's */
	keep_only(&rfd, &wfd);
	log_forget_fds();
	s = nested = calloc(1, sizeof(*s));
	if (!s)
		_exit(1);
	s->conf = parent->conf;
	s->conf_file = parent->conf_file;
	s->reg = parent->reg;	/* what the parent knew of this subtree */
	s->node = c->node;
	s->loop = loop_new();
	if (!s->loop)
		_exit(1);
	s->hooks = parent->hooks;
	s->up = link_new(s->loop, rfd, wfd, FRAME_MAX_DEFAULT + 4096, s->hooks->frame,
			 s->hooks->close, s, NULL);
	if (!s->up)
		_exit(1);
	log_set_hook(log_up, s);
	code = sup_loop(s);
	link_flush(s->up);	/* the last frames up */
	if (s->die_sig)
		die_by(s->die_sig);
	_exit(code);
}

/* --- plans --- */

/* Makes room, ahead of need, for what the children may queue (each at most
 * a readiness and an exit waiting in the inbox, and one death) and for the
 * plans a strategy or a shutdown makes (at most a stop and a start each):
 * none of those can then fail for lack of memory. 0, or -1 (ENOMEM). */
int sup_reserve(struct sup *s)
{
	size_t n = s->nkids + s->ngone + 1, plan = 2 * n + 4;
	struct note *in, *d;
	struct policy_kid *pk;
	struct policy_action *pa;

	if (n <= s->room && plan <= s->capplan)
		return 0;
	in = realloc(s->inbox, 2 * n * sizeof(*in));
	if (!in)
		return -1;
	s->inbox = in;
	d = realloc(s->deaths, n * sizeof(*d));
	if (!d)
		return -1;
	s->deaths = d;
	s->room = n;
	pk = realloc(s->pkids, n * sizeof(*pk));
	if (!pk)
		return -1;
	s->pkids = pk;
	pa = realloc(s->pacts, POLICY_MAX_ACTIONS(n) * sizeof(*pa));
	if (!pa)
		return -1;
	s->pacts = pa;
	if (plan > s->capplan) {
		struct action *p = realloc(s->plan, plan * sizeof(*p));

		if (!p)
			return -1;
		s->plan = p;
		s->capplan = plan;
	}
	return 0;
}

/* Drops what is left of the plan; a request waiting on a dropped action
 * is told why. */
static void plan_reset(struct sup *s)
{
	for (size_t i = s->at; i < s->nplan; i++) {
		struct pending *w = s->plan[i].waiter;

		s->plan[i].waiter = NULL;
		if (w)
			pending_answer_str(w, 1, "interrupted: the supervisor is restarting or stopping");
	}
	s->nplan = s->at = 0;
}

/* Steps past the current action, answering its waiter. */
static void plan_advance(struct sup *s, int rc, const char *text)
{
	struct pending *w = s->plan[s->at].waiter;

	s->plan[s->at].waiter = NULL;
	s->at++;
	if (w)
		pending_answer_str(w, rc, text);
}

static void plan_next(struct sup *s, int rc, const char *text)
{
	plan_advance(s, rc, text);
	plan_run(s);
}

/* Appends an action; -1 (ENOMEM) only past the room sup_reserve() made,
 * that is for arborctl's requests. */
static int plan_add_w(struct sup *s, enum act_type t, struct child *c, struct pending *w,
		      bool again)
{
	if (s->nplan == s->capplan) {
		size_t n = 2 * s->capplan;
		struct action *p = realloc(s->plan, n * sizeof(*p));

		if (!p)
			return -1;
		s->plan = p;
		s->capplan = n;
	}
	s->plan[s->nplan++] = (struct action){ .type = t, .c = c, .waiter = w, .again = again };
	s->planning = true;
	return 0;
}

static void plan_add(struct sup *s, enum act_type t, struct child *c, bool again)
{
	plan_add_w(s, t, c, NULL, again);	/* within the room reserved */
}

static void stop_all_plan(struct sup *s)
{
	plan_reset(s);
	for (size_t i = s->nkids; i-- > 0;)
		plan_add(s, ACT_STOP, s->kids[i], false);
	s->planning = true;
}

static void finish(struct sup *s)
{
	s->phase = PH_DONE;
	log_ev("shut down", s->node->path, "status=%d", s->exit_code);
	loop_stop(s->loop);
}

void sup_shutdown(struct sup *s, int code)
{
	if (s->phase == PH_STOP || s->phase == PH_DONE)
		return;
	s->phase = PH_STOP;
	s->exit_code = code;
	s->ndeaths = 0;
	s->hooks->stopping(s);
	stop_all_plan(s);
	sup_kick(s);
}

static void give_up(struct sup *s, int code)
{
	int n = window_count(&s->win, loop_now_ms());

	log_ev("gave up", s->node->path,
	       "reason=reached_max_restart_intensity restarts=%d intensity=%d period=%ldms",
	       n, s->node->intensity, s->node->period_ms);
	struct reg_node *rt = registry_get(s->reg, s->node->path);

	if (rt) {
		rt->giving_up = true;	/* ping says so until it is restarted */
		if (s->up) {
			rt->pid = getpid();
			rt->state = CS_STOPPING;
			sup_event_up(s, s->node->path, rt);
		}
	}
	/* A nested supervisor's give-up is OTP's exit with reason shutdown
	 * (code 0): a clean exit for its parent, which restarts it only if
	 * permanent. */
	sup_shutdown(s, code);
}

static void next_death(struct sup *s)
{
	while (s->ndeaths && s->at == s->nplan && s->phase == PH_RUN) {
		struct note d = s->deaths[0];

		s->ndeaths--;
		memmove(s->deaths, s->deaths + 1, s->ndeaths * sizeof(*s->deaths));
		if (d.c->state == CS_RESTARTING)	/* not restarted meanwhile */
			decide(s, d.c, d.ws, d.waited);
	}
}

/* Children removed by a reload are freed once they are stopped. */
static void bury(struct sup *s)
{
	size_t keep = 0;

	for (size_t i = 0; i < s->ngone; i++) {
		struct child *c = s->gone[i];

		if (c->state == CS_STOPPED && c->pid <= 0) {
			free((char *)c->path);
			child_free(c);
		} else {
			s->gone[keep++] = c;
		}
	}
	s->ngone = keep;
}

void sup_reload_apply(struct sup *s, struct child **stop, size_t nstop,
		      struct child **start, size_t nstart, struct child **gone,
		      size_t ngone)
{
	struct child **g = ngone ? realloc(s->gone, (s->ngone + ngone) * sizeof(*g)) : NULL;

	if (g) {
		memcpy(g + s->ngone, gone, ngone * sizeof(*g));
		s->gone = g;
		s->ngone += ngone;
	} else if (ngone) {	/* stopped all the same, never freed */
		log_msg("reload %s: %s: %zu removed children kept", s->node->path,
			strerror(ENOMEM), ngone);
	}
	free(gone);
	if (sup_reserve(s) < 0)
		log_msg("reload %s: %s", s->node->path, strerror(ENOMEM));
	plan_reset(s);
	for (size_t i = 0; i < nstop; i++)
		plan_add(s, ACT_STOP, stop[i], false);
	for (size_t i = 0; i < nstart; i++)
		plan_add(s, ACT_START, start[i], false);
	s->planning = true;
	sup_kick(s);
}

/* This supervisor runs from now on, as its registry tells. */
static void set_since(struct sup *s)
{
	struct reg_node *rt = registry_get(s->reg, s->node->path);

	if (rt)
		rt->since = loop_wall_ms();
}

static void plan_done(struct sup *s)
{
	s->planning = false;
	plan_reset(s);
	bury(s);
	switch (s->phase) {
	case PH_BOOT:
		s->phase = PH_RUN;
		if (!s->root)	/* the root's counts from its own start */
			set_since(s);
		if (s->up) {
			s->up->ready = true;
			link_send(s->up, FRAME_READY, 0, "arbor/1", 7, NULL, 0);
		}
		if (s->root)
			log_ev("ready", "", "children=%zu", s->nkids);
		break;
	case PH_STOP:
		finish(s);
		return;
	default:
		break;
	}
	s->hooks->plan_done(s);	/* before the exits it left to decide */
	next_death(s);
	s->hooks->idle(s);
}

/* The current start: -1 when it failed (and was dealt with), 0 when the
 * plan waits for the child, 1 when there was nothing to do. */
static int plan_start(struct sup *s, struct action *a)
{
	struct child *c = a->c;

	if (c->role == ROLE_HELD || c->state == CS_RUNNING)
		return 1;
	if (c->state == CS_STARTING || c->state == CS_RECOVERING)
		return 0;
	c->role = ROLE_ACTIVE;
	if (child_start(c, a->again) == 0)
		return 0;
	if (c->state == CS_RESTARTING)
		child_settle(c, CS_STOPPED);
	child_failed_start(s, c, c->start_err);
	return -1;
}

/* The current stop: 0 when the plan waits for the child, 1 when it is
 * stopped. */
static int plan_stop(struct sup *s, struct action *a)
{
	struct child *c = a->c;

	if (c->state == CS_STOPPING)
		return 0;	/* its exit moves the plan on */
	if (child_alive(c)) {
		child_stop(c);
		return 0;
	}
	child_settle(c, a->again ? CS_RESTARTING : CS_STOPPED);
	return 1;
}

/* Runs the plan from where it stands; safe to call again at any time. */
static void plan_run(struct sup *s)
{
	while (s->at < s->nplan) {
		struct action *a = &s->plan[s->at];
		int r = a->type == ACT_STOP ? plan_stop(s, a) : plan_start(s, a);

		if (r <= 0)
			return;
		plan_advance(s, 0, "");
	}
	if (s->planning)
		plan_done(s);
}

/* The CMD of `arbor -- CMD` has exited: arbor ends with its status. */
static int cmd_status(struct sup *s, int ws)
{
	int code = policy_exit_code(ws);

	if (s->cmdopt.clean[code])	/* as tini: -e 143 covers a death by TERM */
		code = 0;
	return code;
}

/* The children as the policy sees them, into s->pkids: all of them, or
 * only kid when that is all the policy reads (one_for_one, unless
 * auto_shutdown counts the significant children), so that a death among
 * 10,000 children costs what it costs among a few. */
static void policy_view(struct sup *s, size_t kid)
{
	bool one = s->node->strategy == STRAT_ONE_FOR_ONE &&
		   s->node->auto_shutdown != AUTO_ALL_SIGNIFICANT;
	size_t end = one ? kid + 1 : s->nkids;

	for (size_t i = one ? kid : 0; i < end; i++) {
		const struct child *k = s->kids[i];

		s->pkids[i] = (struct policy_kid){
			.restart = k->node ? k->node->restart : RESTART_TEMPORARY,
			.significant = k->node && k->node->significant,
			.held = k->role == ROLE_HELD,
			.down = k->role == ROLE_FORGOTTEN,
			.stopped = k->state == CS_STOPPED,
			.outside = k->kind == CHILD_CMD,
			.oneshot = k->node && k->node->ready == READY_EXIT,
		};
	}
}

static bool starts_again(const struct policy_action *a, size_t n, size_t kid)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].op == POL_START && a[i].kid == kid)
			return true;
	return false;
}

static void restarting(struct sup *s, struct child *c, int count)
{
	static const char *const strat[] = { "one_for_one", "one_for_all", "rest_for_one" };

	struct reg_node *rt = rt_of(c);

	if (rt)
		rt->restarts++;
	log_ev("restarting", c->path, "restart=%d/%d period=%ldms strategy=%s", count,
	       s->node->intensity, s->node->period_ms, strat[s->node->strategy]);
	child_settle(c, CS_RESTARTING);
}

static void auto_shutdown(struct sup *s, struct child *c, int code)
{
	log_ev("auto_shutdown", s->node->path, "reason=%s child=%s",
	       s->node->auto_shutdown == AUTO_ANY_SIGNIFICANT ? "any_significant"
	       : "all_significant", c->path);
	sup_shutdown(s, code);
}

/* Carries out one action of the policy; the stops and starts become the
 * plan, in the order given. */
static void act(struct sup *s, const struct policy_action *a, size_t n, size_t i)
{
	struct child *k = s->kids[a[i].kid];

	switch (a[i].op) {
	case POL_STOPPED:
		child_settle(k, CS_STOPPED);
		break;
	case POL_FORGET:
		if (k->role == ROLE_ACTIVE)
			k->role = ROLE_FORGOTTEN;
		child_settle(k, CS_STOPPED);
		break;
	case POL_RESTART:
		restarting(s, k, a[i].code);
		break;
	case POL_STOP:
		plan_add(s, ACT_STOP, k, starts_again(a, n, a[i].kid));
		break;
	case POL_START:
		plan_add(s, ACT_START, k, true);
		break;
	case POL_GIVE_UP:
		give_up(s, a[i].code);
		break;
	case POL_SHUTDOWN:
		auto_shutdown(s, s->kids[a[0].kid], a[i].code);
		break;
	}
}

/* A child with a backoff that is to restart waits first: its n-th restart
 * in a row waits policy_backoff(), and n starts again at 1 once it stayed
 * up for the period. The restart is decided (and counted) when the wait
 * is over. False when it restarts now. */
static bool backoff(struct sup *s, struct child *c, int ws)
{
	const struct conf_node *n = c->node;
	long ms;

	c->ws = ws;	/* decided again, as it is, after the wait */
	if (loop_now_ms() - c->started_ms >= s->node->period_ms)
		c->backoffs = 0;
	if (c->backoffs < UINT_MAX)
		c->backoffs++;
	ms = policy_backoff(n->backoff_ms, n->backoff_max_ms, c->backoffs);
	if (child_wait(c, ms) < 0) {
		log_msg("cannot arm the restart delay of %s: %s: restarting it now", c->path,
			strerror(errno));
		return false;
	}
	log_ev("backoff", c->path, "delay=%ldms n=%u", ms, c->backoffs);
	return true;
}

/* OTP's decision for one exited child (policy.c), carried out; after its
 * restart delay when it has one (waited: that delay is over). */
static void decide(struct sup *s, struct child *c, int ws, bool waited)
{
	struct policy_sup ps = {
		.strategy = s->node->strategy, .auto_shutdown = s->node->auto_shutdown,
		.root = s->root, .win = &s->win, .now_ms = loop_now_ms(),
		.kids = s->pkids, .nkids = s->nkids,
	};
	struct policy_exit e = { .ws = ws, .stop_sig = c->stop_sig };
	size_t n;

	if (c->kind == CHILD_CMD) {
		child_settle(c, CS_STOPPED);
		sup_shutdown(s, cmd_status(s, ws));
		return;
	}
	while (e.kid < s->nkids && s->kids[e.kid] != c)
		e.kid++;
	if (e.kid == s->nkids) {	/* removed by a reload: only stopped */
		child_settle(c, CS_STOPPED);
		return;
	}
	policy_view(s, e.kid);
	if (!waited && c->node->backoff_ms > 0 && policy_restarts(&s->pkids[e.kid], &e) &&
	    backoff(s, c, ws))
		return;
	plan_reset(s);
	n = policy_decide(&ps, &e, s->pacts);
	for (size_t i = 0; i < n; i++)
		act(s, s->pacts, n, i);
	plan_run(s);
}

/* An exit that comes while a plan runs waits for it to end, as an EXIT
 * message waits in an OTP supervisor's mailbox. */
static void defer_death(struct sup *s, struct child *c, int ws, bool waited)
{
	if (s->ndeaths < s->room)
		s->deaths[s->ndeaths++] = (struct note){ .c = c, .ws = ws, .waited = waited };
}

/* A start that failed: at boot it fails the supervisor's own start (the
 * started children are stopped in reverse); later it is one more crash,
 * decided at once, or once the plan is done if the plan is a reload's. */
static void child_failed_start(struct sup *s, struct child *c, const char *why)
{
	const char *reason = why && *why ? why : "it exited before it was ready";

	log_ev("start failed", c->path, "reason=\"%s\"", why && *why ? why : "exited before ready");
	if (s->phase == PH_BOOT) {
		if (s->root)
			log_msg("cannot start %s: %s", c->path, reason);
		sup_shutdown(s, 1);
		return;
	}
	if (s->phase != PH_RUN)
		return;
	if (s->at < s->nplan && s->plan[s->at].c == c && s->plan[s->at].waiter) {
		char m[700];	/* arborctl start: the caller hears why, no restart */

		snprintf(m, sizeof(m), "cannot start %s: %s", c->path, reason);
		plan_next(s, 1, m);
		return;
	}
	if (s->reload && s->reload->planning && s->at < s->nplan && s->plan[s->at].c == c) {
		/* The rest of the reload's plan still runs (dropping it left
		 * later added children stopped for good); the failure is a
		 * crash, decided once the plan is done. */
		s->hooks->start_failed(s, c, reason);
		child_settle(c, CS_RESTARTING);
		defer_death(s, c, 1 << 8, false);
		plan_next(s, 0, "");
		return;
	}
	plan_reset(s);
	decide(s, c, 1 << 8, false);
}

/* arborctl start, stop, restart and kill of a direct child. Stop holds the
 * child down (strategies leave it) until start or restart; the answer comes
 * when the action is done. */
void sup_admin(struct sup *s, const char *verb, struct child *c, int sig,
	       struct pending *p)
{
	char m[600];
	bool restart = !strcmp(verb, "restart");

	if (s->phase != PH_RUN && strcmp(verb, "kill")) {
		pending_answer_str(p, 1, "busy: the supervisor is starting or stopping");
		return;
	}
	if (!strcmp(verb, "kill")) {
		if (c->pid <= 0 || (c->state != CS_RUNNING && c->state != CS_STARTING &&
				    c->state != CS_RECOVERING)) {
			snprintf(m, sizeof(m), "noproc: %s is not running", c->path);
			pending_answer_str(p, 1, m);
			return;
		}
		if (c->kind == CHILD_SUPERVISOR)	/* queued: a crash to it, not our stop */
			sigqueue(c->pid, sig > 0 ? sig : SIGKILL, (union sigval){ 0 });
		else
			kill(c->pid, sig > 0 ? sig : SIGKILL);
		pending_answer_str(p, 0, "");
		return;
	}
	if (!strcmp(verb, "start") && (c->state == CS_RUNNING || c->state == CS_STARTING ||
				       c->state == CS_RECOVERING)) {
		snprintf(m, sizeof(m), "already started: %s (pid %d)", c->path, (int)c->pid);
		pending_answer_str(p, 1, m);
		return;
	}
	if ((restart && plan_add_w(s, ACT_STOP, c, NULL, false) < 0) ||
	    plan_add_w(s, !strcmp(verb, "stop") ? ACT_STOP : ACT_START, c, p, false) < 0) {
		pending_answer_str(p, 1, "out of memory");
		return;
	}
	c->role = !strcmp(verb, "stop") ? ROLE_HELD : ROLE_ACTIVE;
	sup_kick(s);
}

/* --- acting on what the children told --- */

static void handle_exit(struct sup *s, const struct note *n)
{
	struct child *c = n->c;
	bool cmd = c->kind == CHILD_CMD;

	if (n->was == CS_STOPPING || (n->was == CS_RUNNING && (s->phase == PH_STOP ||
							      s->phase == PH_DONE))) {
		if (cmd && s->exit_with_cmd)
			s->exit_code = cmd_status(s, n->ws);
		return;		/* a plan's stop moves on by itself */
	}
	if (n->was == CS_RUNNING) {
		if (c->state != CS_RESTARTING)
			return;	/* restarted meanwhile */
		if (s->at < s->nplan)
			defer_death(s, c, n->ws, false);
		else
			decide(s, c, n->ws, false);
		return;
	}
	if (cmd && c->start_err) {
		log_msg("cannot run %s (%s)", c->start_err,
			WEXITSTATUS(n->ws) == 127 ? "check the program's name and $PATH" :
			"check that it is an executable file");
		sup_shutdown(s, WEXITSTATUS(n->ws));
	} else if (cmd) {
		decide(s, c, n->ws, false);
	} else {
		child_failed_start(s, c, c->start_err);
	}
}

/* A child's restart delay is over: its restart is decided now, or once
 * the plan that runs is done. */
static void handle_waited(struct sup *s, const struct note *n)
{
	if (n->c->state != CS_RESTARTING || s->phase != PH_RUN)
		return;		/* started or stopped meanwhile */
	if (s->at < s->nplan)
		defer_death(s, n->c, n->ws, true);
	else
		decide(s, n->c, n->ws, true);
}

/* A child became ready: the start the plan waits for is done. */
static void handle_ready(struct sup *s, const struct note *n)
{
	if (s->at < s->nplan && s->plan[s->at].c == n->c && s->plan[s->at].type == ACT_START)
		plan_advance(s, 0, "");
}

/* The deferred work: what the children told, in the order they told it,
 * then the plan from where it stands. */
static void sup_step(struct loop *l, void *data)
{
	struct sup *s = data;

	s->kicked = false;
	for (size_t i = 0; i < s->ninbox; i++) {
		if (s->inbox[i].ready)
			handle_ready(s, &s->inbox[i]);
		else if (s->inbox[i].waited)
			handle_waited(s, &s->inbox[i]);
		else
			handle_exit(s, &s->inbox[i]);
	}
	s->ninbox = 0;
	if (s->planning && s->phase != PH_DONE)
		plan_run(s);
}

static void sup_kick(struct sup *s)
{
	if (s->kicked)
		return;
	if (loop_defer(s->loop, sup_step, s) < 0) {
		log_msg("%s: cannot defer work: %s", *s->node->path ? s->node->path : "/",
			strerror(errno));
		return;
	}
	s->kicked = true;
}

/* --- reaping --- */

/* An adopted process whose ARBOR_INSTANCE is a running child's is that
 * worker's own detached helper: it lives as long as the worker does. */
static bool of_live_kid(void *ctx, const char *inst)
{
	struct sup *s = ctx;
	char mine[CHILD_INSTANCE_MAX];

	for (size_t i = 0; *inst && i < s->nkids; i++) {
		struct child *k = s->kids[i];

		if (k->kind == CHILD_SUPERVISOR || k->pid <= 0)
			continue;
		reap_instance(k->instance, mine, sizeof(mine));
		if (!strcmp(mine, inst))
			return true;
	}
	return false;
}

static void on_death(void *ctx, void *who, int ws);

/* Kills what the deaths just reaped left behind. Every supervisor is a
 * subreaper, and the kernel hands a dying process's children to it before
 * it reports the death: whatever escaped a worker's group or a dead
 * supervisor's session is now a child of this process that it did not
 * start. A nested supervisor starts nothing but its children, so all such
 * processes are leftovers; the root kills only those of its own tree (an
 * orphan from `docker exec` or of the -- CMD is reaped, as tini does). */
static void on_adopt_timer(struct loop *l, void *data)
{
	struct sup *s = data;

	s->adopt_timer = NULL;
	/* the deaths a SIGCHLD stood for besides the one it named */
	reap_all(s->reap, on_death, s);
	reap_kill_adopted(s->reap, !s->root, of_live_kid, s);
}

static void on_death(void *ctx, void *who, int ws)
{
	child_reaped(who, ws);
}

/* After n deaths: what they left behind is looked for. */
static void reaped(struct sup *s, int n)
{
	if (n <= 0 || s->adopt_timer)
		return;
	/* off the restart's path, one pass for many; now if it cannot wait */
	s->adopt_timer = loop_timer_add(s->loop, reap_adopt_delay(s->reap), on_adopt_timer, s);
	if (!s->adopt_timer)
		reap_kill_adopted(s->reap, !s->root, of_live_kid, s);
}

static bool forwarded(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGFPE: case SIGILL: case SIGSEGV: case SIGBUS:
	case SIGABRT: case SIGTRAP: case SIGSYS: case SIGTTIN: case SIGTTOU:
		return false;
	default:
		return true;
	}
}

/* The parent stops a nested supervisor with a plain kill() of its
 * stop_signal; anything else (another sender, or the parent relaying
 * `arborctl kill` with sigqueue) is a death the parent did not ask for. */
static bool stop_from_parent(const struct signalfd_siginfo *si)
{
	return (pid_t)si->ssi_pid == getppid() && si->ssi_code == SI_USER;
}

static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	struct sup *s = data;
	int sig = (int)si->ssi_signo;
	struct child *cmd = s->cmd;

	if (sig == SIGCHLD) {
		reaped(s, reap_sigchld(s->reap, (pid_t)si->ssi_pid, on_death, s));
		return;
	}
	if (sig == SIGPIPE && (pid_t)si->ssi_pid == getpid())
		return;		/* our own write to a closed pipe: EPIPE says it */
	if (sig == SIGHUP && s->conf_file) {	/* with -c, HUP reloads */
		char *argv[] = { "reload", NULL };

		s->hooks->request(s, 1, argv, NULL, NULL);	/* nobody to tell */
		return;
	}
	if (cmd && cmd->pid > 0 && forwarded(sig) && !s->conf_file) {
		/* tini's way: every signal goes to CMD, each time it comes, and
		 * arbor waits for CMD however long it takes (the runtime owns the
		 * grace period); CMD's exit ends arbor. */
		kill(s->cmdopt.group ? -cmd->pid : cmd->pid, sig);
		return;
	}
	if (cmd && cmd->pid > 0 && forwarded(sig)) {
		if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
			cmd->stop_sig = sig;
		else
			kill(s->cmdopt.group ? -cmd->pid : cmd->pid, sig);
	}
	switch (sig) {
	case SIGTERM: case SIGINT: case SIGQUIT:
		log_debug("%s: stopping the tree", log_signame(sig));
		if (s->up && s->phase != PH_STOP && s->phase != PH_DONE && !stop_from_parent(si))
			s->die_sig = sig;
		if (s->phase != PH_STOP && s->phase != PH_DONE)
			s->exit_with_cmd = s->cmd != NULL;	/* tini: CMD's status */
		sup_shutdown(s, 0);
		break;
	default:
		break;
	}
}

/* --- building and running --- */

struct child *sup_child_new(struct sup *s, struct conf_node *n)
{
	struct child *c;

	c = child_new(n->is_sup ? CHILD_SUPERVISOR : CHILD_WORKER, n, n->path, &ops, s,
		      s->loop, s->reap);
	return c;
}

/* A child added while running (a new pool member), last in start order. */
struct child *sup_add_kid(struct sup *s, struct conf_node *n)
{
	struct child **k = realloc(s->kids, (s->nkids + 2) * sizeof(*k));
	struct child *c;

	if (!k)
		return NULL;
	s->kids = k;
	c = sup_child_new(s, n);
	if (!c)
		return NULL;
	if (s->nkids && s->kids[s->nkids - 1]->kind == CHILD_CMD) {	/* CMD stays last */
		s->kids[s->nkids] = s->kids[s->nkids - 1];
		s->kids[s->nkids - 1] = c;
	} else {
		s->kids[s->nkids] = c;
	}
	s->nkids++;
	if (sup_reserve(s) < 0) {
		s->nkids--;
		if (s->kids[s->nkids] != c)
			s->kids[s->nkids - 1] = s->kids[s->nkids];
		child_free(c);
		return NULL;
	}
	return c;
}

static struct conf_node cmd_node = {
	.path = "cmd", .name = "cmd", .restart = RESTART_TEMPORARY,
	.shutdown_ms = 5000, .stop_signal = SIGTERM, .significant = true,
	.ready = READY_EXEC, .start_timeout_ms = CONF_INFINITY,
};

static int sup_build(struct sup *s)
{
	struct conf_node *n = s->node;

	if (!s->reg)
		s->reg = registry_new();
	s->reap = reap_new();
	if (!s->reg || !s->reap || reap_reserve(s->reap, n->nkids + 1) < 0 ||
	    window_init(&s->win, n->intensity, n->period_ms) < 0)
		return -1;
	reap_warn_orphans(s->reap, s->root && s->cmdopt.warn_reap);
	s->kids = calloc(n->nkids + 1, sizeof(*s->kids));
	if (!s->kids)
		return -1;
	for (size_t i = 0; i < n->nkids; i++) {
		s->kids[i] = sup_child_new(s, n->kids[i]);
		if (!s->kids[i])
			return -1;
		s->nkids++;
	}
	if (s->root && s->cmdopt.argv) {	/* CMD starts last, beside the services */
		s->cmd_opts = (struct child_cmd){ s->cmdopt.argv, s->cmdopt.group,
						  s->cmdopt.foreground };
		s->cmd = sup_child_new(s, &cmd_node);
		if (!s->cmd)
			return -1;
		s->cmd->kind = CHILD_CMD;
		s->cmd->cmd = &s->cmd_opts;
		s->kids[s->nkids++] = s->cmd;
	}
	pending_table_init(&s->calls, s->loop);
	return sup_reserve(s);
}

static void on_request(void *data, int argc, char **argv, ctl_done_fn *done, void *ctx)
{
	struct sup *s = data;

	s->hooks->request(s, argc, argv, done, ctx);
}

/* The control socket: always with -c, with `--` only when $ARBOR_SOCKET
 * asks for it (tini has none). A socket a live arbor serves is never
 * stolen: this arbor stops before it starts anything. */
static int open_ctl(struct sup *s)
{
	if (s->cmdopt.argv && !s->conf_file && !getenv("ARBOR_SOCKET"))
		return 0;
	s->ctl = ctl_open(s->loop, s->conf->control_socket, on_request, s);
	if (!s->ctl)
		return errno == EADDRINUSE ? -1 : 0;
	if (s->conf->control_group)
		ctl_allow_gid(s->ctl, s->conf->control_gid);
	log_set_hook(ctl_event, s->ctl);	/* arborctl events */
	return 0;
}

static int sup_loop(struct sup *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	if (s->root) {
		sigfillset(&set);
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGCHLD && !forwarded(sig))
				sigdelset(&set, sig);
	}
	if (sup_build(s) < 0 || loop_signals(s->loop, &set, on_signal, s) < 0) {
		log_msg("cannot start supervisor %s: %s", *s->node->path ? s->node->path : "/",
			strerror(errno));
		return 1;
	}
	if (s->root && open_ctl(s) < 0)
		return 1;
	if (s->root)
		set_since(s);
	s->phase = PH_BOOT;
	plan_reset(s);
	for (size_t i = 0; i < s->nkids; i++)
		plan_add(s, ACT_START, s->kids[i], false);
	s->planning = true;
	plan_run(s);
	reaped(s, reap_all(s->reap, on_death, s));	/* died before the signalfd was */
	if (s->phase != PH_DONE && loop_run(s->loop) < 0) {
		log_msg("event loop: %s", strerror(errno));
		return 1;
	}
	return s->exit_code;
}

static void sup_free(struct sup *s)
{
	s->hooks->stopping(s);
	for (size_t i = 0; i < s->nkids; i++) {	/* calls still waiting are answered */
		if (s->kids[i]->ln)
			on_detach(s->kids[i], s->kids[i]->ln, "shutdown");
		s->kids[i]->ln = NULL;
	}
	log_set_hook(NULL, NULL);
	ctl_close(s->ctl);	/* after the answers, so they go out */
	s->ctl = NULL;
	for (size_t i = 0; i < s->nkids; i++)
		child_free(s->kids[i]);
	for (size_t i = 0; i < s->ngone; i++) {
		free((char *)s->gone[i]->path);
		child_free(s->gone[i]);
	}
	free(s->gone);
	free(s->kids);
	free(s->plan);
	free(s->deaths);
	free(s->inbox);
	free(s->pkids);
	free(s->pacts);
	reap_free(s->reap);
	pending_table_free(&s->calls);
	window_free(&s->win);
	loop_timer_del(s->loop, s->adopt_timer);
	s->adopt_timer = NULL;
	loop_defer_cancel(s->loop, s);
}

/* The root: the -- CMD and the control socket besides the tree. */
int sup_run_root(struct conf *c, const char *conf_file, const struct sup_cmd *cmd,
		 const struct sup_hooks *hooks)
{
	struct sup s = { .conf = c, .conf_file = conf_file, .node = c->root, .root = true,
			 .hooks = hooks };
	int code;

	if (cmd)
		s.cmdopt = *cmd;
	s.loop = loop_new();
	if (!s.loop) {
		log_msg("cannot create the event loop: %s", strerror(errno));
		return 1;
	}
	reap_init_tree();
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout must not kill arbor */
	signal(SIGTTIN, SIG_IGN);	/* as tini: CMD may own the terminal */
	signal(SIGTTOU, SIG_IGN);
	code = sup_loop(&s);
	relay_free_all();
	sup_free(&s);
	if (getpid() != 1)	/* as PID 1, the kernel ends what is left */
		reap_kill_path("");
	monitor_free(s.mon);
	registry_free(s.reg);
	conf_free(s.conf);	/* reload may have replaced the caller's */
	loop_free(s.loop);
	return code;
}
