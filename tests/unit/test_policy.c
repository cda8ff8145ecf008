/* test_policy: OTP's supervision decisions (init/policy.c), case by case
 * after OTP's supervisor_SUITE. Each decision is rendered as one line of
 * actions, e.g. "restart:b=1 stop:c stop:a start:a start:b start:c", where
 * the letters are the children in start order and =N is the action's code.
 * TAP output. */
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

#define MAXKIDS 8
#define EXITED(n) ((n) << 8) /* a wait status: exit(n) */
#define KILLED(sig) (sig)    /* a wait status: death by signal sig */

#include "tap.h"

/* A supervisor under test: its children, window and settings. */
struct fx {
	struct policy_kid kids[MAXKIDS];
	struct window win;
	struct policy_sup sup;
	char line[512];
};

/* Children from words such as "perm trans+sig temp+held cmd": the restart
 * type (perm, trans, temp) or cmd for the -- CMD (temporary, significant
 * and outside, as sup.c makes it), then flags: +sig, +held, +down,
 * +stopped, +out (outside the strategies), +once (a one-shot job). */
static void kids(struct fx *f, const char *spec)
{
	char buf[256], *save, *w;

	snprintf(buf, sizeof(buf), "%s", spec);
	f->sup.nkids = 0;
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		struct policy_kid *k = &f->kids[f->sup.nkids++];

		memset(k, 0, sizeof(*k));
		k->restart = RESTART_TEMPORARY;
		if (!strncmp(w, "perm", 4))
			k->restart = RESTART_PERMANENT;
		else if (!strncmp(w, "trans", 5))
			k->restart = RESTART_TRANSIENT;
		k->outside = !strncmp(w, "cmd", 3) || strstr(w, "+out");
		k->significant = strstr(w, "+sig") || k->outside;
		k->held = strstr(w, "+held");
		k->down = strstr(w, "+down");
		k->stopped = strstr(w, "+stopped");
		k->oneshot = strstr(w, "+once");
	}
}

static void setup(struct fx *f, enum conf_strategy st, int intensity, int64_t period_ms,
		  const char *spec)
{
	memset(f, 0, sizeof(*f));
	window_init(&f->win, intensity, period_ms);
	f->sup.strategy = st;
	f->sup.auto_shutdown = AUTO_NEVER;
	f->sup.root = true;
	f->sup.win = &f->win;
	f->sup.kids = f->kids;
	kids(f, spec);
}

static void teardown(struct fx *f)
{
	window_free(&f->win);
}

static const char *const op_name[] = {
	[POL_STOPPED] = "stopped",   [POL_FORGET] = "forget", [POL_RESTART] = "restart",
	[POL_STOP] = "stop",	     [POL_START] = "start",   [POL_GIVE_UP] = "give_up",
	[POL_SHUTDOWN] = "shutdown",
};

/* Decides kid's exit with wait status ws (arbor sent stop_sig to stop it,
 * 0: none) and renders the actions. */
static const char *decide(struct fx *f, size_t kid, int ws, int stop_sig)
{
	struct policy_exit e = { .kid = kid, .ws = ws, .stop_sig = stop_sig };
	struct policy_action out[POLICY_MAX_ACTIONS(MAXKIDS) + 1];
	size_t n = policy_decide(&f->sup, &e, out), len = 0;

	f->line[0] = '\0';
	if (n > POLICY_MAX_ACTIONS(f->sup.nkids))
		return "more actions than POLICY_MAX_ACTIONS";
	for (size_t i = 0; i < n; i++) {
		const struct policy_action *a = &out[i];
		bool whole = a->op == POL_GIVE_UP || a->op == POL_SHUTDOWN;

		len += snprintf(f->line + len, sizeof(f->line) - len, "%s%s", i ? " " : "",
				op_name[a->op]);
		if (!whole)
			len += snprintf(f->line + len, sizeof(f->line) - len, ":%c",
					(char)('a' + a->kid));
		if (whole || a->op == POL_RESTART)
			len += snprintf(f->line + len, sizeof(f->line) - len, "=%d", a->code);
	}
	return f->line;
}

/* Checks a decision against the expected line, and says what came instead. */
static void expect(const char *got, const char *want, const char *what)
{
	bool same = !strcmp(got, want);

	ok(same, "%s", what);
	if (!same)
		printf("#   got  \"%s\"\n#   want \"%s\"\n", got, want);
}

/* permanent_*, transient_*, temporary_* (normal, shutdown, abnormal). */
static void restart_types(void)
{
	struct fx f;

	setup(&f, STRAT_ONE_FOR_ONE, 10, 5000, "perm trans temp");
	expect(decide(&f, 0, EXITED(0), 0), "restart:a=1 start:a",
	       "permanent_normal: a permanent child that exits 0 is restarted");
	expect(decide(&f, 0, KILLED(SIGTERM), SIGTERM), "restart:a=2 start:a",
	       "permanent_shutdown: one stopped by arbor's own signal is restarted too");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=3 start:a",
	       "permanent_abnormal: one that exits 1 is restarted");
	expect(decide(&f, 1, EXITED(0), 0), "stopped:b",
	       "transient_normal: a transient child that exits 0 stays down, in the list");
	expect(decide(&f, 1, KILLED(SIGTERM), SIGTERM), "stopped:b",
	       "transient_shutdown: killed by the stop signal arbor sent: normal, stays down");
	expect(decide(&f, 1, KILLED(SIGKILL), SIGKILL), "stopped:b",
	       "transient_shutdown: killed by arbor's SIGKILL (brutal_kill): stays down");
	expect(decide(&f, 1, EXITED(2), 0), "restart:b=4 start:b",
	       "transient_abnormal: a transient child that exits 2 is restarted");
	expect(decide(&f, 1, KILLED(SIGKILL), SIGTERM), "restart:b=5 start:b",
	       "transient_abnormal: SIGKILL when arbor sent SIGTERM is abnormal");
	expect(decide(&f, 1, KILLED(SIGTERM), 0), "restart:b=6 start:b",
	       "transient_abnormal: SIGTERM that arbor did not send is abnormal");
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=7 start:b",
	       "a start that failed after boot (status 1) restarts a transient child");
	expect(decide(&f, 2, EXITED(0), 0), "forget:c",
	       "temporary_normal: a temporary child is forgotten");
	expect(decide(&f, 2, KILLED(SIGTERM), SIGTERM), "forget:c",
	       "temporary_shutdown: forgotten");
	expect(decide(&f, 2, EXITED(1), 0), "forget:c",
	       "temporary_abnormal: forgotten, never restarted");
	ok(window_count(&f.win, 0) == 7, "only the restarts count in the window (7, got %d)",
	   window_count(&f.win, 0));
	teardown(&f);
}

static void abnormal_and_codes(void)
{
	ok(!policy_abnormal(EXITED(0), 0), "abnormal: exit 0 is normal");
	ok(policy_abnormal(EXITED(1), SIGTERM), "abnormal: exit 1 is abnormal, whatever was sent");
	ok(!policy_abnormal(KILLED(SIGTERM), SIGTERM), "abnormal: the signal arbor sent is normal");
	ok(policy_abnormal(KILLED(SIGKILL), SIGTERM), "abnormal: another signal is not");
	ok(policy_abnormal(KILLED(SIGTERM), 0), "abnormal: any signal when arbor sent none");
	ok(policy_exit_code(EXITED(3)) == 3, "exit code: exit(3) stands for 3");
	ok(policy_exit_code(KILLED(SIGKILL)) == 137, "exit code: SIGKILL stands for 128+9");
}

/* one_for_one, one_for_all, rest_for_one: the base cases. */
static void strategies(void)
{
	struct fx f;

	setup(&f, STRAT_ONE_FOR_ONE, 10, 3600000, "perm perm");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 start:a",
	       "one_for_one: the child restarts alone, its sibling untouched");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 10, 3600000, "perm perm perm");
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=1 stop:c stop:a start:a start:b start:c",
	       "one_for_all: the others stop in reverse order, all start in order");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=2 stop:c stop:b start:a start:b start:c",
	       "one_for_all: the first child fails");
	teardown(&f);

	setup(&f, STRAT_REST_FOR_ONE, 10, 3600000, "perm perm perm perm");
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=1 stop:d stop:c start:b start:c start:d",
	       "rest_for_one: the children after it stop in reverse and start in order");
	expect(decide(&f, 0, EXITED(1), 0),
	       "restart:a=2 stop:d stop:c stop:b start:a start:b start:c start:d",
	       "rest_for_one: the first child fails: all of them");
	expect(decide(&f, 3, EXITED(1), 0), "restart:d=3 start:d",
	       "rest_for_one: the last child fails: it alone");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 10, 3600000, "temp temp temp perm temp temp temp temp");
	expect(decide(&f, 3, EXITED(1), 0),
	       "restart:d=1 stop:h forget:h stop:g forget:g stop:f forget:f stop:e forget:e "
	       "stop:c forget:c stop:b forget:b stop:a forget:a start:d",
	       "one_for_all of eight: the most actions, within POLICY_MAX_ACTIONS");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 10, 3600000, "perm trans+stopped");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 stop:b start:a start:b",
	       "one_for_all: a transient child that ended normally is started again");
	teardown(&f);
}

/* simple_one_for_one: a pool's members are restarted one for one. */
static void pools(void)
{
	struct fx f;

	setup(&f, STRAT_ONE_FOR_ONE, 2, 3600000, "perm perm perm");
	f.sup.root = false;
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=1 start:b",
	       "simple_one_for_one: a member restarts alone");
	expect(decide(&f, 2, KILLED(SIGKILL), 0), "restart:c=2 start:c",
	       "simple_one_for_one: another member, the second restart");
	expect(decide(&f, 0, EXITED(1), 0), "stopped:a give_up=0",
	       "simple_one_for_one_escalation: the third within the period gives up");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 2, 3600000, "temp temp");
	expect(decide(&f, 0, EXITED(1), 0), "forget:a",
	       "simple_one_for_one: a temporary member is forgotten, the others untouched");
	teardown(&f);
}

/* temporary_bystander: stopped by a group restart and never started again
 * (OTP keeps no start arguments for it). */
static void bystanders(void)
{
	struct fx f;

	setup(&f, STRAT_ONE_FOR_ALL, 2, 300, "perm temp");
	expect(decide(&f, 0, EXITED(0), 0), "restart:a=1 stop:b forget:b start:a",
	       "temporary_bystander (one_for_all): stopped and forgotten");
	teardown(&f);

	setup(&f, STRAT_REST_FOR_ONE, 2, 300, "perm temp");
	expect(decide(&f, 0, EXITED(0), 0), "restart:a=1 stop:b forget:b start:a",
	       "temporary_bystander (rest_for_one): stopped and forgotten");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 2, 300, "perm temp+down+stopped perm");
	expect(decide(&f, 2, EXITED(1), 0), "restart:c=1 stop:b forget:b stop:a start:a start:c",
	       "one_for_all: a temporary child that ended before is not started again");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 2, 300, "perm perm+down+stopped");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 stop:b start:a",
	       "one_for_all: a child marked down is never started again");
	teardown(&f);

	setup(&f, STRAT_REST_FOR_ONE, 2, 300, "temp perm temp");
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=1 stop:c forget:c start:b",
	       "rest_for_one: a temporary child before the failed one is left running");
	teardown(&f);
}

/* One-shot jobs (ready = exit): temporary, yet run again with their group;
 * their own clean exit restarts nothing. */
static void oneshots(void)
{
	struct fx f;

	setup(&f, STRAT_REST_FOR_ONE, 2, 300, "perm temp+once perm");
	expect(decide(&f, 0, KILLED(SIGKILL), 0),
	       "restart:a=1 stop:c stop:b start:a start:b start:c",
	       "rest_for_one: a one-shot job after the failed child runs again");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 2, 300, "temp+once+stopped perm");
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=1 stop:a start:a start:b",
	       "one_for_all: a one-shot job that ran runs again");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 2, 300, "temp+once perm");
	expect(decide(&f, 0, EXITED(1), 0), "forget:a",
	       "a temporary one-shot job that fails is not restarted");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 2, 300, "trans+once perm");
	expect(decide(&f, 0, EXITED(0), 0), "stopped:a",
	       "a transient one-shot job's clean exit restarts nothing");
	teardown(&f);
}

/* Backoff: min(base x 2^(n-1), max); 0 is OTP's immediate restart. */
static void backoff(void)
{
	struct policy_kid perm = { .restart = RESTART_PERMANENT };
	struct policy_kid held = { .restart = RESTART_PERMANENT, .held = true };
	struct policy_kid trans = { .restart = RESTART_TRANSIENT };
	struct policy_exit clean = { .ws = EXITED(0) }, crash = { .ws = EXITED(1) };

	ok(policy_backoff(0, 0, 1) == 0 && policy_backoff(0, 5000, 7) == 0,
	   "backoff: restart_delay 0 waits nothing");
	ok(policy_backoff(500, 4000, 1) == 500 && policy_backoff(500, 4000, 2) == 1000 &&
	   policy_backoff(500, 4000, 3) == 2000 && policy_backoff(500, 4000, 4) == 4000,
	   "backoff: doubles from restart_delay");
	ok(policy_backoff(500, 4000, 5) == 4000 && policy_backoff(500, 3000, 4) == 3000,
	   "backoff: capped at restart_delay_max");
	ok(policy_backoff(500, 500, 9) == 500, "backoff: max = delay: a fixed delay");
	ok(policy_backoff(1000, 2147483647000L, 4000000000U) == 2147483647000L,
	   "backoff: no overflow after many restarts");
	ok(policy_backoff(5000, 1000, 1) == 1000, "backoff: an inherited max below the delay caps it");
	ok(policy_restarts(&perm, &clean) && !policy_restarts(&held, &crash) &&
	   policy_restarts(&trans, &crash) && !policy_restarts(&trans, &clean),
	   "policy_restarts follows the restart types");
}

/* Held children (arborctl stop) and the -- CMD. */
static void held_and_outside(void)
{
	struct fx f;

	setup(&f, STRAT_ONE_FOR_ALL, 5, 5000, "perm perm+held+stopped perm");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 stop:c stop:b start:a start:c",
	       "one_for_all: a held child is not started again");
	teardown(&f);

	setup(&f, STRAT_REST_FOR_ONE, 0, 5000, "perm+held trans+held temp+held");
	f.sup.auto_shutdown = AUTO_ANY_SIGNIFICANT;
	f.kids[0].significant = true;
	expect(decide(&f, 0, EXITED(1), 0), "stopped:a",
	       "a held permanent child that exits stays down: no restart, no give-up");
	expect(decide(&f, 1, EXITED(1), 0), "stopped:b",
	       "a held transient child that crashes stays down");
	expect(decide(&f, 2, EXITED(1), 0), "forget:c", "a held temporary child is forgotten");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 5, 5000, "perm perm cmd");
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=1 stop:a start:a start:b",
	       "one_for_all: the -- CMD is neither stopped nor started");
	expect(decide(&f, 2, EXITED(0), 0), "", "the -- CMD's exit is the caller's: no action");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 5, 5000, "perm perm+out");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 start:a",
	       "one_for_all: a child outside the strategies is left, whatever its restart type");
	teardown(&f);

	setup(&f, STRAT_REST_FOR_ONE, 5, 5000, "perm cmd perm");
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 stop:c start:a start:c",
	       "rest_for_one: the -- CMD stands outside the strategy");
	teardown(&f);
}

/* Restart intensity: one_for_one, one_for_all, rest_for_one escalation. */
static void intensity(void)
{
	struct fx f;

	setup(&f, STRAT_ONE_FOR_ONE, 2, 3600000, "perm perm");
	decide(&f, 0, EXITED(1), 0);
	expect(decide(&f, 1, EXITED(1), 0), "restart:b=2 start:b",
	       "one_for_one: two restarts within the period (intensity 2)");
	expect(decide(&f, 0, EXITED(1), 0), "stopped:a give_up=1",
	       "one_for_one_escalation: the third gives up; the root exits 1");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 1, 3600000, "perm perm");
	f.sup.root = false;
	decide(&f, 0, EXITED(1), 0);
	expect(decide(&f, 1, EXITED(1), 0), "stopped:b give_up=0",
	       "one_for_all_escalation: a nested supervisor gives up cleanly (shutdown)");
	teardown(&f);

	setup(&f, STRAT_REST_FOR_ONE, 1, 3600000, "perm perm perm");
	decide(&f, 2, EXITED(1), 0);
	expect(decide(&f, 0, EXITED(1), 0), "stopped:a give_up=1",
	       "rest_for_one_escalation: the second restart with intensity 1 gives up");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 1, 1000, "perm");
	f.sup.now_ms = 0;
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 start:a", "window: a restart at 0 ms");
	f.sup.now_ms = 1000;
	expect(decide(&f, 0, EXITED(1), 0), "restart:a=1 start:a",
	       "multiple_restarts: one exactly a period ago has left the window");
	f.sup.now_ms = 1999;
	expect(decide(&f, 0, EXITED(1), 0), "stopped:a give_up=1",
	       "window: one 999 ms ago is in it: give up");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ALL, 0, 5000, "perm perm");
	expect(decide(&f, 1, EXITED(1), 0), "stopped:b give_up=1",
	       "intensity 0: the first restart gives up");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 0, 5000, "trans temp");
	decide(&f, 0, EXITED(0), 0);
	expect(decide(&f, 1, EXITED(1), 0), "forget:b",
	       "an exit that is not restarted does not count (intensity 0, no give-up)");
	teardown(&f);
}

/* Significant children and auto_shutdown. */
static void auto_shutdown(void)
{
	struct fx f;

	setup(&f, STRAT_ONE_FOR_ONE, 5, 5000, "temp+sig trans");
	f.sup.auto_shutdown = AUTO_ANY_SIGNIFICANT;
	expect(decide(&f, 0, EXITED(3), 0), "forget:a shutdown=3",
	       "any_significant: the root exits with the child's status");
	expect(decide(&f, 0, KILLED(SIGKILL), 0), "forget:a shutdown=137",
	       "any_significant: a child killed by signal 9: 128+9");
	expect(decide(&f, 1, EXITED(0), 0), "stopped:b",
	       "any_significant: a child that is not significant ends: nothing more");
	f.sup.root = false;
	expect(decide(&f, 0, EXITED(3), 0), "forget:a shutdown=0",
	       "any_significant: a nested supervisor exits cleanly");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 5, 5000, "trans+sig");
	f.sup.auto_shutdown = AUTO_ANY_SIGNIFICANT;
	expect(decide(&f, 0, EXITED(4), 0), "restart:a=1 start:a",
	       "any_significant: a transient child that crashes is restarted, no shutdown");
	expect(decide(&f, 0, KILLED(SIGTERM), SIGTERM), "stopped:a shutdown=143",
	       "any_significant: stopped by arbor's SIGTERM for good: 128+15");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 5, 5000, "temp+sig temp+sig perm");
	f.sup.auto_shutdown = AUTO_ALL_SIGNIFICANT;
	expect(decide(&f, 0, EXITED(0), 0), "forget:a",
	       "all_significant: one of two ended: no shutdown");
	f.kids[0].stopped = f.kids[0].down = true;
	expect(decide(&f, 1, EXITED(5), 0), "forget:b shutdown=5",
	       "all_significant: the last one ends: the root exits with its status");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 5, 5000, "temp+sig perm+stopped temp+sig");
	f.sup.auto_shutdown = AUTO_ALL_SIGNIFICANT;
	expect(decide(&f, 2, EXITED(0), 0), "forget:c",
	       "all_significant: a significant child still running holds the shutdown");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 5, 5000, "temp+sig cmd");
	f.sup.auto_shutdown = AUTO_ALL_SIGNIFICANT;
	expect(decide(&f, 0, EXITED(0), 0), "forget:a",
	       "all_significant: the running -- CMD counts as a significant child");
	teardown(&f);

	setup(&f, STRAT_ONE_FOR_ONE, 5, 5000, "temp+sig");
	expect(decide(&f, 0, EXITED(0), 0), "forget:a", "never: a significant child's end is all");
	teardown(&f);
}

int main(void)
{
	restart_types();
	abnormal_and_codes();
	strategies();
	pools();
	bystanders();
	held_and_outside();
	intensity();
	auto_shutdown();
	oneshots();
	backoff();
	printf("1..%d\n", ntest);
	return nfail != 0;
}
