/* policy: OTP's supervision decisions for one exit, written as a list of
 * actions for sup.c to carry out. Nothing here forks, kills, logs or
 * allocates; the restart window is the only state it touches. */
#include <sys/wait.h>

#include "policy.h"

/* stop_sig 0 (none sent) matches no signal's number. */
bool policy_abnormal(int ws, int stop_sig)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws) != 0;
	return WTERMSIG(ws) != stop_sig;
}

int policy_exit_code(int ws)
{
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static size_t emit(struct policy_action *out, size_t n, enum policy_op op, size_t kid, int code)
{
	out[n].op = op;
	out[n].kid = kid;
	out[n].code = code;
	return n + 1;
}

/* Every significant child has ended: the one that just exited counts as
 * ended, a child whose own exit still waits for a decision does not. The
 * -- CMD takes part (it is significant). */
static bool all_significant_down(const struct policy_sup *s, size_t gone)
{
	for (size_t i = 0; i < s->nkids; i++)
		if (i != gone && s->kids[i].significant && !s->kids[i].stopped)
			return false;
	return true;
}

/* The child stays down (a temporary one is forgotten, OTP deletes it; a
 * transient one that ended normally stays in the list, and a sibling's
 * group restart starts it again). A significant child that ends for good
 * may shut the supervisor down: the root exits with the child's status, a
 * nested supervisor cleanly. A held child triggers nothing. */
static size_t stays_down(const struct policy_sup *s, const struct policy_exit *e,
			 struct policy_action *out)
{
	const struct policy_kid *k = &s->kids[e->kid];
	enum policy_op op = k->restart == RESTART_TEMPORARY ? POL_FORGET : POL_STOPPED;
	size_t n = emit(out, 0, op, e->kid, 0);
	bool shut = false;

	if (!k->significant || k->held)
		return n;
	if (s->auto_shutdown == AUTO_ANY_SIGNIFICANT)
		shut = true;
	else if (s->auto_shutdown == AUTO_ALL_SIGNIFICANT)
		shut = all_significant_down(s, e->kid);
	if (shut)
		n = emit(out, n, POL_SHUTDOWN, 0, s->root ? policy_exit_code(e->ws) : 0);
	return n;
}

/* The group restart after kid `who` failed: one_for_all stops every other
 * child in reverse start order and starts them all in start order;
 * rest_for_one does the same with the children after who. Temporary
 * bystanders are stopped and forgotten; children already forgotten, held
 * ones and the -- CMD are not started again. The failed child is started
 * with the others: it is neither of these, or it would not restart. */
static size_t group_restart(const struct policy_sup *s, size_t who, struct policy_action *out,
			    size_t n)
{
	size_t i, at = s->strategy == STRAT_REST_FOR_ONE ? who : 0;

	for (i = s->nkids; i-- > at;) {
		const struct policy_kid *k = &s->kids[i];

		if (i == who || k->outside)
			continue;
		n = emit(out, n, POL_STOP, i, 0);
		if (k->restart == RESTART_TEMPORARY && !k->oneshot)
			n = emit(out, n, POL_FORGET, i, 0);
	}
	for (i = at; i < s->nkids; i++) {
		const struct policy_kid *k = &s->kids[i];
		bool forgotten = k->down || (k->restart == RESTART_TEMPORARY && !k->oneshot);

		if (!forgotten && !k->held && !k->outside)
			n = emit(out, n, POL_START, i, 0);
	}
	return n;
}

bool policy_restarts(const struct policy_kid *k, const struct policy_exit *e)
{
	if (k->outside || k->held)
		return false;
	return k->restart == RESTART_PERMANENT ||
	       (k->restart == RESTART_TRANSIENT && policy_abnormal(e->ws, e->stop_sig));
}

/* Doubling stops at max_ms: no overflow however long the run of crashes. */
long policy_backoff(long base_ms, long max_ms, unsigned n)
{
	long ms = base_ms;

	if (base_ms <= 0)
		return 0;
	for (unsigned i = 1; i < n && ms < max_ms; i++)
		ms = ms > max_ms / 2 ? max_ms : 2 * ms;
	return ms < max_ms ? ms : max_ms;
}

size_t policy_decide(const struct policy_sup *s, const struct policy_exit *e,
		     struct policy_action *out)
{
	const struct policy_kid *k = &s->kids[e->kid];
	size_t n;

	if (k->outside)
		return 0; /* the -- CMD: its exit is the caller's */
	if (!policy_restarts(k, e))
		return stays_down(s, e, out);
	if (window_add(s->win, s->now_ms)) {
		n = emit(out, 0, POL_STOPPED, e->kid, 0);
		/* A nested supervisor's give-up is OTP's exit with reason
		 * shutdown: a clean exit for its parent. */
		return emit(out, n, POL_GIVE_UP, 0, s->root ? 1 : 0);
	}
	n = emit(out, 0, POL_RESTART, e->kid, window_count(s->win, s->now_ms));
	if (s->strategy == STRAT_ONE_FOR_ONE)
		return emit(out, n, POL_START, e->kid, 0);
	return group_restart(s, e->kid, out, n);
}
