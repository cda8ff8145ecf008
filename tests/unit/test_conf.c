/* test_conf: the INI loader (init/conf*.c) against files written to a
 * temporary directory. Prints TAP; exits 1 when a test failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_int.h"

#include "tap.h"

static char dir[PATH_MAX];	/* mkdtemp, resolved */

/* Writes dir/name with the given text; returns its path (static buffer). */
static const char *put(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return path;
}

static void mkdir_in(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST) {
		printf("Bail out! mkdir %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* Loads text as dir/name; NULL and the message in err on failure. */
static struct conf *load(const char *name, const char *text, struct conf_err *err)
{
	struct conf *c = NULL;

	if (conf_load(put(name, text), &c, err) < 0)
		return NULL;
	return c;
}

/* A NULL-terminated list of words, written in place. */
#define W(...) ((const char *const[]){ __VA_ARGS__, NULL })

static bool argv_is(char **argv, const char *const *want)
{
	size_t i;

	if (!argv)
		return false;
	for (i = 0; want[i]; i++)
		if (!argv[i] || strcmp(argv[i], want[i]))
			return false;
	return argv[i] == NULL;
}

static void split_ok(const char *line, const char *what, const char *const *want)
{
	char **argv = NULL;
	const char *why;

	ok(conf_split(line, &argv, &why) == 0 && argv_is(argv, want), "conf_split: %s", what);
	conf_argv_free(argv);
}

static void split_err(const char *line, const char *want_why)
{
	char **argv = (char **)1;
	const char *why = NULL;
	int r = conf_split(line, &argv, &why);

	ok(r == -1 && argv == NULL && why && !strcmp(why, want_why) && errno == EINVAL,
	   "conf_split rejects [%s]: %s (got %s)", line, want_why, why ? why : "nothing");
}

static void test_split(void)
{
	split_ok("/bin/echo a  b\tc", "blanks separate words", W("/bin/echo", "a", "b", "c"));
	split_ok("  x  ", "leading and trailing blanks", W("x"));
	split_ok("sh -c 'echo $HOME; ls *'", "single quotes keep everything",
		 W("sh", "-c", "echo $HOME; ls *"));
	split_ok("echo \"a \\\"b\\\" \\$c \\n\"", "double quotes: \\ before \" $ only",
		 W("echo", "a \"b\" $c \\n"));
	split_ok("echo a\\ b \\'c\\'", "backslash outside quotes", W("echo", "a b", "'c'"));
	split_ok("echo '' \"\"", "empty quotes are empty words", W("echo", "", ""));
	split_ok("echo a'b'\"c\"d", "quotes inside a word join it", W("echo", "abcd"));
	split_ok("echo 'it'\\''s'", "the '\\'' idiom", W("echo", "it's"));
	split_ok("nginx -g \"daemon off;\"", "nginx's example", W("nginx", "-g", "daemon off;"));
	split_ok("echo ~ $X `y` #z", "no expansion", W("echo", "~", "$X", "`y`", "#z"));
	split_err("echo 'abc", "unterminated single quote");
	split_err("echo \"abc", "unterminated double quote");
	split_err("echo \"abc\\\"", "unterminated double quote");
	split_err("echo abc\\", "backslash at the end");
	split_err("", "empty command");
	split_err("   \t ", "empty command");
}

static void test_defaults(void)
{
	struct conf_err err;
	struct conf *c = load("defaults.ini",
			      "[supervisor s]\n"
			      "[worker s/w]\n"
			      "command = /bin/sh -c 'exit 0'\n"
			      "[worker g]\n"
			      "command = sh\n"
			      "genserver = yes\n", &err);
	struct conf_node *r, *s, *w, *g;
	char file[PATH_MAX];

	ok(c != NULL, "defaults.ini loads%s%s", c ? "" : ": ", c ? "" : err.msg);
	if (!c)
		return;
	r = c->root;
	s = conf_find(c, "s");
	w = conf_find(c, "s/w");
	g = conf_find(c, "g");
	ok(r->is_sup && !r->parent && !strcmp(r->path, "") && r->strategy == STRAT_ONE_FOR_ONE &&
	   r->intensity == 1 && r->period_ms == 5000 && r->auto_shutdown == AUTO_NEVER &&
	   r->nkids == 2 && r->kids[0] == s && r->kids[1] == g,
	   "root: one_for_one, intensity 1, period 5000 ms, kids in file order");
	ok(s && s->is_sup && !s->is_pool && s->shutdown_ms == CONF_INFINITY &&
	   s->restart == RESTART_PERMANENT && s->parent == r && !strcmp(s->name, "s"),
	   "supervisor: shutdown infinity, permanent");
	ok(w && !w->is_sup && w->parent == s && !strcmp(w->name, "w") &&
	   w->restart == RESTART_PERMANENT && w->shutdown_ms == 5000 &&
	   w->stop_signal == SIGTERM && !w->significant && !w->genserver &&
	   w->ready == READY_EXEC && w->start_timeout_ms == 30000 &&
	   w->max_message == 1024 * 1024 && w->instances == 0 && !w->setup.has_user &&
	   !w->setup.has_caps && w->setup.out.kind == OUT_INHERIT,
	   "worker: permanent, 5000 ms, SIGTERM, ready exec, 30 s, 1 MiB");
	ok(w && argv_is(w->argv, W("/bin/sh", "-c", "exit 0")), "worker argv split");
	snprintf(file, sizeof(file), "%s/defaults.ini", dir);
	ok(w && w->line == 2 && !strcmp(w->file, file), "a node knows its file and line");
	ok(g && g->ready == READY_GENSERVER && g->genserver,
	   "genserver = yes makes ready default to genserver");
	ok(g && g->argv[0][0] == '/' && !strcmp(strrchr(g->argv[0], '/'), "/sh") &&
	   access(g->argv[0], X_OK) == 0, "a bare name is looked up in PATH: %s",
	   g ? g->argv[0] : "");
	conf_free(c);
}

static void test_values(void)
{
	struct conf_err err;
	struct conf *c;
	struct conf_node *n, *s;
	struct passwd *pw = getpwnam("nobody");
	char want[PATH_MAX];

	mkdir_in("bin");
	chmod(put("bin/tool", "#!/bin/sh\nexit 0\n"), 0755);
	put("app.env", "A=1\n");
	c = load("values.ini",
		 "[supervisor]\n"
		 "strategy = rest_for_one\n"
		 "intensity = 0\n"
		 "period = 0.5\n"
		 "auto_shutdown = all_significant\n"
		 "[supervisor s]\n"
		 "strategy = one_for_all\n"
		 "restart = transient\n"
		 "shutdown = brutal_kill\n"
		 "significant = true\n"
		 "period = 1.2500\n"
		 "[worker w]\n"
		 "command = bin/../bin/tool --flag\n"
		 "restart = temporary\n"
		 "shutdown = 0\n"
		 "stop_signal = SIGINT\n"
		 "ready = fd:5\n"
		 "start_timeout = infinity\n"
		 "max_message = 64K\n"
		 "user = nobody\n"
		 "capabilities = CAP_NET_BIND_SERVICE, chown Cap_Kill chown\n"
		 "no_new_privs = on\n"
		 "rlimit_nofile = 1024:4096\n"
		 "rlimit_core = infinity\n"
		 "rlimit_as = 1G\n"
		 "nice = -5\n"
		 "oom_score_adj = -1000\n"
		 "umask = 027\n"
		 "cwd = bin\n"
		 "env = B=2\n"
		 "env = A=x y=z\n"
		 "env_file = app.env\n"
		 "clear_env = 1\n"
		 "stdout = file:log/out.txt\n"
		 "stderr = null\n"
		 "[worker w2]\n"
		 "command = /bin/true\n"
		 "shutdown = infinity\n"
		 "stop_signal = 10\n"
		 "max_message = 2MiB\n"
		 "group = 4242\n"
		 "groups =\n"
		 "capabilities =\n"
		 "stdout = prefix\n", &err);
	ok(c != NULL, "values.ini loads%s%s", c ? "" : ": ", c ? "" : err.msg);
	if (!c)
		return;
	n = c->root;
	ok(n->strategy == STRAT_REST_FOR_ONE && n->intensity == 0 && n->period_ms == 500 &&
	   n->auto_shutdown == AUTO_ALL_SIGNIFICANT, "root flags: period 0.5 is 500 ms");
	s = conf_find(c, "s");
	ok(s && s->strategy == STRAT_ONE_FOR_ALL && s->restart == RESTART_TRANSIENT &&
	   s->shutdown_ms == 0 && s->significant && s->period_ms == 1250,
	   "supervisor: brutal_kill is 0, period 1.25 is 1250 ms");
	n = conf_find(c, "w");
	if (!n) {
		ok(false, "worker w found");
		conf_free(c);
		return;
	}
	snprintf(want, sizeof(want), "%s/bin/tool", dir);
	ok(argv_is(n->argv, W(want, "--flag")),
	   "a relative command is relative to the INI file: %s", n->argv[0]);
	ok(n->restart == RESTART_TEMPORARY && n->shutdown_ms == 0 && n->stop_signal == SIGINT &&
	   n->ready == READY_FD && n->ready_fd == 5 && n->start_timeout_ms == CONF_INFINITY &&
	   n->max_message == 64 * 1024, "worker keys: temporary, 0, SIGINT, fd:5, infinity, 64K");
	ok(pw && pw->pw_gid != 0 && n->setup.has_user && n->setup.uid == pw->pw_uid &&
	   n->setup.gid == pw->pw_gid && !n->setup.has_group && !strcmp(n->setup.user, "nobody") &&
	   n->setup.home && !strcmp(n->setup.home, pw->pw_dir) && !n->setup.has_groups &&
	   n->setup.ngroups >= 1 && n->setup.groups[0] == pw->pw_gid,
	   "user = nobody: uid, gid, home and the user's groups");
	ok(n->setup.has_caps && n->setup.ncaps == 3 && n->setup.caps[0] == 10 &&
	   n->setup.caps[1] == 0 && n->setup.caps[2] == 5 && n->setup.no_new_privs,
	   "capabilities: prefix and case optional, duplicates once");
	ok(n->setup.rlimits[RLIMIT_NOFILE].set && n->setup.rlimits[RLIMIT_NOFILE].lim.rlim_cur == 1024 &&
	   n->setup.rlimits[RLIMIT_NOFILE].lim.rlim_max == 4096 &&
	   n->setup.rlimits[RLIMIT_CORE].lim.rlim_cur == RLIM_INFINITY &&
	   n->setup.rlimits[RLIMIT_CORE].lim.rlim_max == RLIM_INFINITY &&
	   n->setup.rlimits[RLIMIT_AS].lim.rlim_max == 1ULL << 30 &&
	   !n->setup.rlimits[RLIMIT_NPROC].set, "rlimits: soft:hard, infinity, one value");
	ok(n->setup.has_nice && n->setup.nice == -5 && n->setup.has_oom &&
	   n->setup.oom_score_adj == -1000 && n->setup.has_umask && n->setup.umask == 027,
	   "nice, oom_score_adj, umask (octal)");
	snprintf(want, sizeof(want), "%s/bin", dir);
	ok(n->setup.cwd && !strcmp(n->setup.cwd, want), "cwd is made absolute: %s",
	   n->setup.cwd ? n->setup.cwd : "");
	ok(argv_is(n->setup.env, W("B=2", "A=x y=z")) && n->setup.clear_env,
	   "env in order, clear_env");
	snprintf(want, sizeof(want), "%s/app.env", dir);
	ok(n->setup.env_file && !strcmp(n->setup.env_file, want), "env_file is made absolute");
	snprintf(want, sizeof(want), "%s/log/out.txt", dir);
	ok(n->setup.out.kind == OUT_FILE && !strcmp(n->setup.out.path, want) &&
	   n->setup.err.kind == OUT_NULL, "stdout = file:PATH relative to the file, stderr = null");
	n = conf_find(c, "w2");
	ok(n && n->shutdown_ms == CONF_INFINITY && n->stop_signal == 10 &&
	   n->max_message == 2 * 1024 * 1024 && n->setup.has_group && n->setup.gid == 4242 &&
	   !n->setup.has_user && n->setup.has_groups && n->setup.ngroups == 0 &&
	   n->setup.has_caps && n->setup.ncaps == 0 && n->setup.out.kind == OUT_PREFIX,
	   "infinity, signal by number, numeric group, empty groups and capabilities");
	conf_free(c);
}

/* ${NAME} and its forms, from the environment; $$ and a bare $ as sh would
 * leave them for a shell to see. */
static void test_expand(void)
{
	static const struct {
		const char *in, *out;	/* out NULL: refused with why */
		const char *why;
	} cases[] = {
		{ "plain", "plain", NULL },
		{ "${T_SET}", "8080", NULL },
		{ "port ${T_SET}!", "port 8080!", NULL },
		{ "${T_SET}${T_SET}", "80808080", NULL },
		{ "$$", "$", NULL },
		{ "$${T_SET}", "${T_SET}", NULL },
		{ "$HOME $T_SET $ a$", "$HOME $T_SET $ a$", NULL },
		{ "${T_UNSET:-dflt}", "dflt", NULL },
		{ "${T_EMPTY:-dflt}", "dflt", NULL },
		{ "${T_SET:-dflt}", "8080", NULL },
		{ "${T_UNSET-dflt}", "dflt", NULL },
		{ "${T_EMPTY-dflt}", "", NULL },
		{ "${T_UNSET:-}", "", NULL },
		{ "${T_UNSET:-a ${T_SET} $$ b}", "a 8080 $ b", NULL },
		{ "${T_SET:-${T_UNSET}}", "8080", NULL },
		{ "${T_SET:?needed}", "8080", NULL },
		{ "${T_EMPTY?needed}", "", NULL },
		{ "${T_UNSET}", NULL, "${T_UNSET}: T_UNSET is not set (give a default: ${T_UNSET:-VALUE})" },
		{ "a ${T_UNSET:?set it to a port} b", NULL, "${T_UNSET:?set it to a port}: T_UNSET is not set: set it to a port" },
		{ "${T_EMPTY:?say ${T_SET}}", NULL, "${T_EMPTY:?say ${T_SET}}: T_EMPTY is empty: say 8080" },
		{ "${T_UNSET?}", NULL, "${T_UNSET?}: T_UNSET is not set" },
		{ "${T_UNSET:-${T_UNSET2}}", NULL, "${T_UNSET2}: T_UNSET2 is not set (give a default: ${T_UNSET2:-VALUE})" },
		{ "x ${T_SET", NULL, "${T_SET: unclosed '${' (write $$ for a literal $)" },
		{ "${T_UNSET:-${T_SET}", NULL, "${T_UNSET:-${T_SET}: unclosed '${' (write $$ for a literal $)" },
		{ "${", NULL, "${: unclosed '${' (write $$ for a literal $)" },
		{ "${}", NULL, "${}: empty variable name" },
		{ "${:-x}", NULL, "${:-x}: empty variable name" },
		{ "${1X}", NULL, "${1X}: bad variable name '1X' (letters, digits and _, not starting with a digit)" },
		{ "${A B}", NULL, "${A B}: bad variable name 'A B' (letters, digits and _, not starting with a digit)" },
		{ "${A.B}", NULL, "${A.B}: bad variable name 'A.B' (letters, digits and _, not starting with a digit)" },
		{ "${T_SET:+x}", NULL, "${T_SET:+x}: expected }, :-, -, :? or ? after the name T_SET" },
	};

	setenv("T_SET", "8080", 1);
	setenv("T_EMPTY", "", 1);
	unsetenv("T_UNSET");
	unsetenv("T_UNSET2");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[512] = "", *out = NULL;
		int r = conf_expand(cases[i].in, &out, why, sizeof(why));

		if (cases[i].out)
			ok(r == 0 && out && !strcmp(out, cases[i].out), "expand '%s' is '%s': '%s' %s",
			   cases[i].in, cases[i].out, out ? out : "(refused)", why);
		else
			ok(r < 0 && !out && errno == EINVAL && !strcmp(why, cases[i].why),
			   "expand '%s' refused: %s", cases[i].in, r < 0 ? why : out);
		free(out);
	}
}

/* env in supervisor sections: inherited by the subtree, deeper over higher,
 * a child's own over all; a pool's members share the pool's. */
static void test_env_inherit(void)
{
	struct conf_err err;
	struct conf *c = load("envsup.ini",
			      "[worker first]\ncommand = /bin/true\n"
			      "[supervisor]\nenv = A=root\nenv = B=root\n"
			      "[supervisor web]\nenv = B=web\nenv = C=web\n"
			      "[worker web/api]\ncommand = /bin/true\nenv = C=api\nenv = D=api\nenv = D=api2\n"
			      "[worker web/pool]\ncommand = /bin/true\ninstances = 2\n"
			      "[supervisor web/inner]\nenv = A=inner\n"
			      "[worker web/inner/x]\ncommand = /bin/true\n"
			      "[worker web/inner/y]\ncommand = /bin/true\nenv = Y=1\n"
			      "[supervisor other]\n[worker other/z]\ncommand = /bin/true\n", &err);

	if (!c) {
		ok(false, "envsup.ini loads: %s", err.msg);
		return;
	}
	ok(argv_is(conf_find(c, "first")->setup.env, W("A=root", "B=root")),
	   "env: the root's section, though it comes later, reaches a worker above it");
	ok(argv_is(conf_find(c, "web/api")->setup.env, W("A=root", "B=web", "C=api", "D=api2")),
	   "env: deeper sections win over higher ones, a child's own over both");
	ok(argv_is(conf_find(c, "web/pool")->setup.env, W("A=root", "B=web", "C=web")) &&
	   conf_find(c, "web/pool/1")->setup.env == conf_find(c, "web/pool")->setup.env &&
	   conf_find(c, "web/pool/2")->setup.env == conf_find(c, "web/pool")->setup.env,
	   "env: a pool's members share the pool's inherited env");
	ok(argv_is(conf_find(c, "web/inner/x")->setup.env, W("A=inner", "B=web", "C=web")) &&
	   argv_is(conf_find(c, "web/inner/y")->setup.env, W("A=inner", "B=web", "C=web", "Y=1")),
	   "env: three levels deep");
	ok(argv_is(conf_find(c, "other/z")->setup.env, W("A=root", "B=root")),
	   "env: a sibling subtree has only the root's");
	ok(argv_is(conf_find(c, "web")->setup.env, W("B=web", "C=web")),
	   "env: a supervisor keeps its own lines");
	conf_free(c);
}

/* restart_delay and restart_delay_max: a worker's own, else the nearest
 * supervisor's above it; a supervisor's section sets its children's (a
 * pool's, its members'); the max defaults to the delay. And ready = exit
 * makes a temporary child unless restart says transient. */
static void test_backoff_keys(void)
{
	struct conf_err err;
	struct conf *c = load("backoff.ini",
			      "[worker first]\ncommand = /bin/true\n"
			      "[supervisor]\nrestart_delay = 100ms\n"
			      "[supervisor web]\nrestart_delay = 1s\nrestart_delay_max = 30s\n"
			      "[worker web/api]\ncommand = /bin/true\nrestart_delay = 2s\n"
			      "[worker web/pool]\ncommand = /bin/true\ninstances = 2\nrestart_delay = 3s\n"
			      "[worker web/x]\ncommand = /bin/true\n"
			      "[worker job]\ncommand = /bin/true\nready = exit\n"
			      "[worker tjob]\ncommand = /bin/true\nready = exit\nrestart = transient\n",
			      &err);
	const struct conf_node *n;

	if (!c) {
		ok(false, "backoff.ini loads: %s", err.msg);
		return;
	}
	n = conf_find(c, "first");
	ok(n->backoff_ms == 100 && n->backoff_max_ms == 100,
	   "backoff: the root's section, though later, is a default; max = delay");
	n = conf_find(c, "web");
	ok(n->backoff_ms == 100 && n->backoff_max_ms == 100,
	   "backoff: a supervisor's own keys are its children's, not its own");
	n = conf_find(c, "web/api");
	ok(n->backoff_ms == 2000 && n->backoff_max_ms == 30000,
	   "backoff: a worker's own delay, its supervisor's max");
	n = conf_find(c, "web/x");
	ok(n->backoff_ms == 1000 && n->backoff_max_ms == 30000, "backoff: the supervisor's both");
	ok(conf_find(c, "web/pool/2")->backoff_ms == 3000 &&
	   conf_find(c, "web/pool/2")->backoff_max_ms == 30000 &&
	   conf_find(c, "web/pool")->backoff_ms == 1000,
	   "backoff: a pool's keys are its members'");
	ok(conf_find(c, "job")->ready == READY_EXIT &&
	   conf_find(c, "job")->restart == RESTART_TEMPORARY &&
	   conf_find(c, "tjob")->restart == RESTART_TRANSIENT,
	   "ready = exit: temporary by default, transient when asked");
	conf_free(c);
	c = load("nobackoff.ini", "[worker a]\ncommand = /bin/true\n", &err);
	ok(c && conf_find(c, "a")->backoff_ms == 0 && conf_find(c, "a")->backoff_max_ms == 0,
	   "backoff: none by default (OTP's immediate restart)");
	conf_free(c);
}

/* Durations: a unit, or the key's own unit when bare; whole milliseconds. */
static void test_durations(void)
{
	static const struct {
		const char *s;
		long bare, ms;	/* ms < 0: refused */
		const char *why;
	} cases[] = {
		{ "5", 1000, 5000, NULL }, { "5", 1, 5, NULL }, { "0.25", 1000, 250, NULL },
		{ "500ms", 1000, 500, NULL }, { "10s", 1, 10000, NULL },
		{ "2min", 1, 120000, NULL }, { "1.5min", 1, 90000, NULL },
		{ "2h", 1, 7200000, NULL }, { "10 s", 1, 10000, NULL },
		{ "0.001s", 1, 1, NULL }, { "1.000000000s", 1, 1000, NULL },
		{ "2147483647s", 1, 2147483647000L, NULL },
		{ "2147483648s", 1, -1, "too large (at most 2147483647s)" },
		{ "596524h", 1, -1, "too large (at most 2147483647s)" },
		{ "99999999999999999999", 1, -1, "too large (at most 2147483647s)" },
		{ "0.0001s", 1, -1, "finer than a millisecond" },
		{ "1.5", 1, -1, "finer than a millisecond" },
		{ "1.0000000001s", 1, -1, "finer than a millisecond" },
		{ "-1s", 1, -1, "negative" }, { "", 1, -1, "not a number" },
		{ "s", 1, -1, "not a number" }, { "1.", 1, -1, "no digit after '.'" },
		{ "5x", 1, -1, "unknown unit" }, { "5sec", 1, -1, "unknown unit" },
		{ "5m", 1, -1, "'m' is ambiguous (write ms or min)" },
		{ "5 m s", 1, -1, "unknown unit" }, { "1e3", 1, -1, "unknown unit" },
	};
	struct conf_err err;
	struct conf *c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = NULL;
		long ms = -7;
		int r = conf_parse_duration(cases[i].s, cases[i].bare, &ms, &why);

		if (cases[i].ms >= 0)
			ok(r == 0 && ms == cases[i].ms, "duration '%s' (bare %ld ms) is %ld ms: %ld",
			   cases[i].s, cases[i].bare, cases[i].ms, ms);
		else
			ok(r < 0 && why && !strcmp(why, cases[i].why), "duration '%s' refused: %s",
			   cases[i].s, why ? why : "(accepted)");
	}
	c = load("dur.ini", "[supervisor s]\nperiod = 1.5min\n"
			    "[worker s/w]\ncommand = /bin/true\nshutdown = 2s\nstart_timeout = 250ms\n"
			    "[worker s/bare]\ncommand = /bin/true\nshutdown = 2\nstart_timeout = 250\n",
		 &err);
	ok(c && conf_find(c, "s")->period_ms == 90000 &&
	   conf_find(c, "s/w")->shutdown_ms == 2000 &&
	   conf_find(c, "s/w")->start_timeout_ms == 250 &&
	   conf_find(c, "s/bare")->shutdown_ms == 2 &&
	   conf_find(c, "s/bare")->start_timeout_ms == 250,
	   "period, shutdown and start_timeout take units; bare numbers keep theirs%s%s",
	   c ? "" : ": ", c ? "" : err.msg);
	conf_free(c);
}

static void test_pool(void)
{
	struct conf_err err;
	struct conf *c = load("pool.ini",
			      "[worker pool]\n"
			      "command = /bin/sleep 1000\n"
			      "instances = 3\n"
			      "restart = transient\n"
			      "shutdown = 100\n"
			      "intensity = 7\n"
			      "period = 30\n"
			      "env = X=1\n"
			      "[worker after]\n"
			      "command = /bin/true\n", &err);
	struct conf_node *p;
	bool members = true;

	ok(c != NULL, "pool.ini loads%s%s", c ? "" : ": ", c ? "" : err.msg);
	if (!c)
		return;
	p = conf_find(c, "pool");
	ok(p && p->is_sup && p->is_pool && p->instances == 3 && p->nkids == 3 &&
	   p->strategy == STRAT_ONE_FOR_ONE && p->restart == RESTART_PERMANENT &&
	   p->shutdown_ms == CONF_INFINITY && p->intensity == 7 && p->period_ms == 30000,
	   "a pool is a permanent one_for_one supervisor with its own intensity/period");
	for (int i = 1; p && i <= 3; i++) {
		char path[32];
		const struct conf_node *m;

		snprintf(path, sizeof(path), "pool/%d", i);
		m = conf_find(c, path);
		members = members && m && m == p->kids[i - 1] && !m->is_sup && m->parent == p &&
			  !strcmp(m->path, path) && m->restart == RESTART_TRANSIENT &&
			  m->shutdown_ms == 100 && m->argv == p->argv && m->instances == 0 &&
			  argv_is(m->setup.env, W("X=1"));
	}
	ok(p && members, "members pool/1..pool/3 carry the section's worker keys");
	ok(c->root->nkids == 2 && c->root->kids[1] == conf_find(c, "after"),
	   "the next section follows the pool");
	ok(!conf_find(c, "pool/4") && !conf_find(c, "pool/0"), "no member beyond instances");
	conf_free(c);
}

/* Members started at run time: named as asked, sharing the pool's data as
 * the members from the file do, printed, compared and freed like them. */
static void test_pool_add(void)
{
	const char *ini = "[worker pool]\n"
			  "command = /bin/sleep 1000\n"
			  "instances = %d\n"
			  "restart = transient\n"
			  "shutdown = 100\n"
			  "stop_signal = INT\n"
			  "ready = notify\n"
			  "env = X=1\n"
			  "stdout = prefix\n"
			  "[worker after]\n"
			  "command = /bin/true\n";
	static const char *const bad_names[] = { "0", "01", "-1", "+1", "", "a", "1a", "1/2" };
	struct conf_err err;
	char text[512], *out = NULL;
	struct conf *c, *c2, *c3;
	struct conf_node *p, *m, *m1, *w;
	size_t len = 0;
	bool all = true;
	FILE *f;

	snprintf(text, sizeof(text), ini, 2);
	c = load("padd.ini", text, &err);
	c2 = load("padd.ini", text, &err);
	snprintf(text, sizeof(text), ini, 3);
	c3 = load("padd3.ini", text, &err);
	ok(c && c2 && c3, "padd.ini and padd3.ini load%s%s", c && c2 && c3 ? "" : ": ",
	   c && c2 && c3 ? "" : err.msg);
	if (!c || !c2 || !c3) {
		conf_free(c);
		conf_free(c2);
		conf_free(c3);
		return;
	}
	p = conf_find(c, "pool");
	m1 = conf_find(c, "pool/1");
	m = conf_pool_add(c, p, "3");
	ok(m && p->nkids == 3 && p->kids[2] == m && m->parent == p && !strcmp(m->path, "pool/3") &&
	   !strcmp(m->name, "3") && conf_find(c, "pool/3") == m && !m->is_sup && !m->is_pool &&
	   m->instances == 0, "conf_pool_add appends pool/3 to the pool");
	ok(m && m->argv == p->argv && m->setup.env == p->setup.env && m->argv == m1->argv &&
	   m->restart == RESTART_TRANSIENT && m->shutdown_ms == 100 && m->stop_signal == SIGINT &&
	   m->ready == READY_NOTIFY && m->setup.out.kind == OUT_PREFIX && !m->significant &&
	   m->line == m1->line && !strcmp(m->file, m1->file),
	   "the new member shares the pool's argv and setup, and has the section's keys");
	ok(m && conf_node_same(m, conf_find(c3, "pool/3")) &&
	   conf_node_same(p, conf_find(c2, "pool")) && p->instances == 2 &&
	   p->restart == RESTART_PERMANENT && p->shutdown_ms == CONF_INFINITY,
	   "conf_node_same: the same as pool/3 read with instances = 3; the pool as read (instances = 2)");
	ok(m && !conf_node_same(m, m1), "conf_node_same: pool/3 is not pool/1");
	f = open_memstream(&out, &len);
	conf_print(c, f);
	fclose(f);
	ok(out && strstr(out, "\n│   ├── 2: worker restart=transient shutdown=100 stop_signal=SIGINT ready=notify stdout=prefix env=X=1 command=/bin/sleep 1000\n") &&
	   strstr(out, "\n│   └── 3: worker restart=transient shutdown=100 stop_signal=SIGINT ready=notify stdout=prefix env=X=1 command=/bin/sleep 1000\n") &&
	   strstr(out, ": ok (2 supervisors, 4 workers)\n"),
	   "conf_print shows the new member as the others");
	if (nfail)
		printf("# %s", out);
	free(out);
	for (int i = 4; i <= 200; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%d", i);
		w = conf_pool_add(c, p, name);
		all = all && w && w->argv == p->argv && p->kids[p->nkids - 1] == w;
	}
	ok(all && p->nkids == 200 && conf_find(c, "pool/200") == p->kids[199] &&
	   conf_find(c, "pool/1") == m1, "200 members: the kids array grows, all are found");
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		errno = 0;
		w = conf_pool_add(c, p, bad_names[i]);
		all = all && !w && errno == EINVAL;
	}
	ok(all && p->nkids == 200, "a name that is not a positive integer: NULL, EINVAL");
	errno = 0;
	ok(!conf_pool_add(c, conf_find(c, "after"), "1") && errno == EINVAL &&
	   !conf_pool_add(c, c->root, "1") && !conf_pool_add(c, NULL, "1") &&
	   conf_find(c, "after")->nkids == 0 && c->root->nkids == 2,
	   "not a pool (a worker, the root): NULL, EINVAL");
	errno = 0;
	ok(!conf_pool_add(c, conf_find(c3, "pool"), "4") && errno == EINVAL &&
	   conf_find(c3, "pool")->nkids == 3, "a pool of another tree: NULL, EINVAL");
	conf_free(c);	/* valgrind: no leak, no double free of the shared data */
	conf_free(c2);
	conf_free(c3);
}

/* Run as root, a file anyone may write would let anyone choose what runs as
 * root: refused, top file and includes alike. As another user, loaded. */
static void test_writable(void)
{
	struct conf_err err;
	struct conf *c = NULL;
	char path[PATH_MAX], inc[PATH_MAX], want[sizeof(err.msg)];
	bool root = geteuid() == 0;
	int r;

	mkdir_in("wr");
	snprintf(inc, sizeof(inc), "%s", put("wr/inc.ini", "[worker b]\ncommand = /bin/true\n"));
	snprintf(path, sizeof(path), "%s",
		 put("wr/top.ini", "[arbor]\ninclude = inc.ini\n[worker a]\ncommand = /bin/true\n"));
	chmod(path, 0666);
	r = conf_load(path, &c, &err);
	snprintf(want, sizeof(want), "%s: writable by others (mode 0666): refusing to run it as root, since anyone could make arbor run any program as root; run chmod o-w %s",
		 path, path);
	if (root)
		ok(r == -1 && !c && !strcmp(err.msg, want), "root: a top file of mode 0666 is refused: %s",
		   err.msg);
	else
		ok(r == 0 && c, "not root: a top file of mode 0666 loads");
	conf_free(c);
	c = NULL;
	chmod(path, 0644);
	chmod(inc, 01602);
	r = conf_load(path, &c, &err);
	snprintf(want, sizeof(want), "%s: writable by others (mode 1602): refusing to run it as root, since anyone could make arbor run any program as root; run chmod o-w %s",
		 inc, inc);
	if (root)
		ok(r == -1 && !c && !strcmp(err.msg, want), "root: an included file of mode 1602 is refused: %s",
		   err.msg);
	else
		ok(r == 0 && c, "not root: an included file of mode 1602 loads");
	conf_free(c);
	c = NULL;
	chmod(inc, 0664);
	ok(conf_load(path, &c, &err) == 0 && c && conf_find(c, "b"),
	   "group-writable (0664) and 0644 files load%s%s", c ? "" : ": ", c ? "" : err.msg);
	conf_free(c);
}

static void test_include(void)
{
	struct conf_err err;
	struct conf *c;
	struct conf_node *r;
	bool order;

	mkdir_in("inc");
	mkdir_in("inc/conf.d");
	mkdir_in("inc/conf.d/more");
	/* created out of order, so that directory order is not sorted order */
	put("inc/conf.d/20-b.ini", "[worker b]\ncommand = /bin/true\n");
	put("inc/conf.d/10-a.ini",
	    "[arbor]\ninclude = more/*.ini\n[supervisor a]\n");
	put("inc/conf.d/30-c.ini", "[worker c]\ncommand = /bin/true\n");
	put("inc/conf.d/more/x.ini", "[worker a/x]\ncommand = /bin/true\n");
	put("inc/conf.d/readme.txt", "not an ini file\n");
	c = load("inc/main.ini",
		 "[arbor]\n"
		 "include = conf.d/*.ini\n"
		 "include = nothing/*.ini\n"
		 "[worker first]\n"
		 "command = /bin/true\n", &err);
	ok(c == NULL && strstr(err.msg, "main.ini:3: [arbor]: include: given twice (first at line 2)"),
	   "include once per [arbor] section: %s", err.msg);
	conf_free(c);
	c = load("inc/main.ini",
		 "[arbor]\n"
		 "include = conf.d/*.ini\n"
		 "[arbor]\n"
		 "include = nothing/*.ini\n"
		 "[worker first]\n"
		 "command = /bin/true\n", &err);
	ok(c != NULL, "includes load%s%s", c ? "" : ": ", c ? "" : err.msg);
	if (!c)
		return;
	r = c->root;
	order = r->nkids == 4 && !strcmp(r->kids[0]->path, "first") &&
		!strcmp(r->kids[1]->path, "a") && !strcmp(r->kids[2]->path, "b") &&
		!strcmp(r->kids[3]->path, "c") &&
		r->kids[1]->nkids == 1 && !strcmp(r->kids[1]->kids[0]->path, "a/x");
	ok(order, "the file first, then its includes in sorted order, each with its own includes");
	ok(r->kids[1] && strstr(r->kids[1]->file, "inc/conf.d/10-a.ini") && r->kids[1]->line == 3,
	   "a node from an included file names that file: %s:%d", r->kids[1]->file,
	   r->kids[1]->line);
	conf_free(c);
}

static void test_find_same(void)
{
	struct conf_err err;
	const char *base = "[supervisor a]\n"
			   "[worker a/b]\n"
			   "command = /bin/sleep 1\n"
			   "env = X=1\n"
			   "[worker c]\n"
			   "command = /bin/true\n";
	struct conf *c1 = load("same1.ini", base, &err);
	struct conf *c2 = load("same2.ini",
			       "[worker c]\n"
			       "command = /bin/true\n"
			       "[supervisor a]\n"
			       "[worker a/b]\n"
			       "command = /bin/sleep 1\n"
			       "env = X=2\n", &err);
	struct conf *e = conf_empty();

	ok(c1 && c2, "same1.ini and same2.ini load");
	if (c1 && c2) {
		ok(conf_find(c1, "") == c1->root && conf_find(c1, "a/b") &&
		   !strcmp(conf_find(c1, "a/b")->path, "a/b") && !conf_find(c1, "a/x") &&
		   !conf_find(c1, "a/") && !conf_find(c1, "b") && !conf_find(c1, "a/b/c"),
		   "conf_find: root, nested, missing");
		ok(conf_node_same(conf_find(c1, "c"), conf_find(c2, "c")) &&
		   conf_node_same(conf_find(c1, "a"), conf_find(c2, "a")),
		   "conf_node_same: moved sections are the same");
		ok(!conf_node_same(conf_find(c1, "a/b"), conf_find(c2, "a/b")),
		   "conf_node_same: a changed env is not");
		ok(!conf_node_same(conf_find(c1, "a"), conf_find(c1, "c")),
		   "conf_node_same: different nodes are not");
	}
	ok(e && e->root && e->root->nkids == 0 && e->root->is_sup && !e->file &&
	   !e->control_socket && e->log_format == LOG_TEXT && e->root->intensity == 1,
	   "conf_empty: only the root, with OTP's defaults");
	conf_free(c1);
	conf_free(c2);
	conf_free(e);
}

static void test_print(void)
{
	struct conf_err err;
	struct conf *c = load("print.ini",
			      "[supervisor web]\n"
			      "strategy = rest_for_one\n"
			      "[worker web/api]\n"
			      "command = /bin/echo 'a b'\n"
			      "genserver = yes\n"
			      "[worker pool]\n"
			      "command = /bin/true\n"
			      "instances = 2\n", &err);
	char *out = NULL, want[PATH_MAX + 64];
	size_t len = 0;
	FILE *f;

	if (!c) {
		ok(false, "print.ini loads: %s", err.msg);
		return;
	}
	f = open_memstream(&out, &len);
	conf_print(c, f);
	fclose(f);
	snprintf(want, sizeof(want), "%s/print.ini: ok (3 supervisors, 3 workers)\n", dir);
	ok(strstr(out, "root: supervisor strategy=one_for_one intensity=1 period=5\n") &&
	   strstr(out, "\n├── web: supervisor strategy=rest_for_one intensity=1 period=5\n") &&
	   strstr(out, "\n│   └── api: worker restart=permanent genserver=yes command=/bin/echo 'a b'\n") &&
	   strstr(out, "\n└── pool: pool instances=2 intensity=1 period=5\n") &&
	   strstr(out, "\n    ├── 1: worker restart=permanent command=/bin/true\n") &&
	   strstr(out, "\n    └── 2: worker") && strstr(out, want),
	   "conf_print draws the tree and a summary");
	if (nfail)
		printf("# %s", out);
	free(out);
	conf_free(c);
}

/* A value each key takes, for the walk over the table below: a key added to
 * conf_keys without one here (and without conf_print saying it) fails. */
static const char *sample_value(const char *key)
{
	static const char *const samples[][2] = {
		{ "control_socket", "/tmp/arbor-walk.sock" }, { "control_group", "0" },
		{ "include", "nothing.d/*.ini" }, { "log_format", "json" },
		{ "strategy", "one_for_all" }, { "intensity", "2" }, { "period", "3" },
		{ "auto_shutdown", "any_significant" }, { "restart", "transient" },
		{ "shutdown", "1s" }, { "stop_signal", "INT" }, { "significant", "no" },
		{ "command", "/bin/true" }, { "genserver", "yes" }, { "ready", "notify" },
		{ "start_timeout", "5s" }, { "max_message", "64K" }, { "instances", "2" },
		{ "user", "0" }, { "group", "0" }, { "groups", "0" },
		{ "capabilities", "chown" }, { "no_new_privs", "yes" }, { "nice", "1" },
		{ "oom_score_adj", "1" }, { "umask", "022" }, { "cwd", "/" }, { "env", "A=1" },
		{ "env_file", "walk.env" }, { "clear_env", "yes" }, { "stdout", "null" },
		{ "stderr", "prefix" }, { "restart_delay", "500ms" }, { "restart_delay_max", "1min" },
		{ "watchdog", "30s" }, { "watchdog_signal", "KILL" },
		{ "health_command", "/bin/true" }, { "health_interval", "2s" },
		{ "health_timeout", "1s" }, { "health_start_period", "5" },
		{ "health_retries", "2" },
		{ "log_max_size", "10M" }, { "log_backups", "3" },
		{ "monitor", "db" },
	};

	if (!strncmp(key, "rlimit_", 7))
		return "1024:2048";
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		if (!strcmp(samples[i][0], key))
			return samples[i][1];
	return NULL;
}

/* `arbor check` prints every key it read: each key of the table, set alone
 * in a section that takes it, shows up as key= in conf_print's output. */
static void test_print_every_key(void)
{
	size_t missing = 0;

	put("walk.env", "A=1\n");
	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *v = sample_value(k->name);
		char ini[512], key[64], *out = NULL;
		struct conf_err err;
		struct conf *c;
		size_t len = 0;
		FILE *f;

		if (!v) {
			ok(false, "key %s: no sample value in test_conf's sample_value()", k->name);
			continue;
		}
		if (k->where & KW_ARBOR)
			snprintf(ini, sizeof(ini), "[arbor]\n%s = %s\n", k->name, v);
		else if (k->where & KW_SUP)
			snprintf(ini, sizeof(ini), "[supervisor s]\n%s = %s\n", k->name, v);
		else if (!strcmp(k->name, "monitor"))	/* of a node that exists */
			snprintf(ini, sizeof(ini), "[worker db]\ncommand = /bin/true\n[worker w]\n"
				 "command = /bin/true\ngenserver = yes\n%s = %s\n", k->name, v);
		else if (!strcmp(k->name, "command"))
			snprintf(ini, sizeof(ini), "[worker w]\ncommand = %s\n", v);
		else if (!strncmp(k->name, "health_", 7) && strcmp(k->name, "health_command"))
			/* health_interval and the like need a check */
			snprintf(ini, sizeof(ini), "[worker w]\ncommand = /bin/true\n"
				 "health_command = /bin/true\n%s = %s\n", k->name, v);
		else
			snprintf(ini, sizeof(ini), "[worker w]\ncommand = /bin/true\n%s = %s\n",
				 k->name, v);
		c = load("walk.ini", ini, &err);
		if (!c) {
			ok(false, "key %s = %s loads: %s", k->name, v, err.msg);
			continue;
		}
		f = open_memstream(&out, &len);
		conf_print(c, f);
		fclose(f);
		snprintf(key, sizeof(key), " %s=", k->name);
		if (!strstr(out, key)) {
			ok(false, "arbor check prints %s = %s: %s", k->name, v, out);
			missing++;
		}
		free(out);
		conf_free(c);
	}
	ok(missing == 0 && conf_nkeys > 40, "arbor check prints each of the %zu keys it read",
	   conf_nkeys);
}

/* Each bad file and the exact message it must give. %s is the file. */
static const struct {
	const char *ini, *msg;
} bad[] = {
	{ "[worker a]\ncomand = /bin/true\n",
	  "%s:2: [worker a]: unknown key 'comand' (did you mean 'command'?)" },
	{ "[worker web/api]\ncommand = /bin/true\n",
	  "%s:1: [worker web/api]: child before its parent: no [supervisor web] above it" },
	{ "[supervisor web]\n[worker web/api]\ncommand = /bin/true\nrestart = always\n",
	  "%s:4: [worker web/api]: restart = always: expected permanent, transient or temporary" },
	{ "[supervisor]\n\nstrategy = one_for_none\n",
	  "%s:3: [supervisor]: strategy = one_for_none: expected one_for_one, one_for_all or rest_for_one" },
	{ "[worker a]\ncommand = /bin/true\nshutdown = soon\n",
	  "%s:3: [worker a]: shutdown = soon: not a number: expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h), brutal_kill or infinity" },
	{ "[supervisor s]\nintensity = -1\n",
	  "%s:2: [supervisor s]: intensity = -1: expected an integer >= 0" },
	{ "[supervisor]\nperiod = 0\n",
	  "%s:2: [supervisor]: period = 0: expected seconds > 0 (5, 0.5) or a duration with a unit (500ms, 10s, 2min, 1h)" },
	{ "[worker a]\ncommand = /bin/true\ngenserver = maybe\n",
	  "%s:3: [worker a]: genserver = maybe: expected yes or no" },
	{ "[supervisor a]\n; comment\n[supervisor a]\n",
	  "%s:3: [supervisor a]: duplicate path 'a' (first at %s:1)" },
	{ "[worker a]\nrestart = transient\n[worker b]\ncommand = /bin/true\n",
	  "%s:1: [worker a]: missing command (the program to run)" },
	{ "[worker a]\ncommand = /nonexistent/prog -x\n",
	  "%s:2: [worker a]: command = /nonexistent/prog -x: /nonexistent/prog: No such file or directory" },
	{ "[worker a]\ncommand = /etc/passwd\n",
	  "%s:2: [worker a]: command = /etc/passwd: /etc/passwd: not executable" },
	{ "[worker a]\ncommand = /bin/echo 'oops\n",
	  "%s:2: [worker a]: command = /bin/echo 'oops: unterminated single quote" },
	{ "[supervisor]\nauto_shutdown = any_significant\n[worker a]\ncommand = /bin/true\nsignificant = yes\n",
	  "%s:5: [worker a]: significant = yes: needs restart = transient or temporary (this child is permanent)" },
	{ "[supervisor s]\n[worker s/a]\ncommand = /bin/true\nsignificant = yes\nrestart = temporary\n",
	  "%s:4: [worker s/a]: significant = yes: the parent [supervisor s] has auto_shutdown = never (set any_significant or all_significant there)" },
	{ "[worker a]\ncommand = /bin/true\nsignificant = yes\nrestart = transient\n",
	  "%s:3: [worker a]: significant = yes: the parent (the root) has auto_shutdown = never (set any_significant or all_significant there)" },
	{ "[supervisor]\nshutdown = 5\n",
	  "%s:2: [supervisor]: shutdown: the root supervisor has no parent (restart, shutdown, stop_signal and significant are for children)" },
	{ "[wroker a]\n", "%s:1: unknown section [wroker a] (did you mean [worker a]?)" },
	{ "[worker a]\ncommand = /bin/true\n[worker a/b]\ncommand = /bin/true\n",
	  "%s:3: [worker a/b]: parent a is a worker, not a supervisor" },
	{ "[worker p]\ncommand = /bin/true\ninstances = 2\n[worker p/x]\ncommand = /bin/true\n",
	  "%s:4: [worker p/x]: parent p is a pool (instances = 2): its members are p/1..p/2" },
	{ "[worker a]\ncommand = /bin/true\nintensity = 3\n",
	  "%s:3: [worker a]: intensity: only for a pool (with instances = N)" },
	{ "[worker a]\ncommand = /bin/true\nready = genserver\n",
	  "%s:3: [worker a]: ready = genserver: needs genserver = yes" },
	{ "[worker a]\ncommand = /bin/true\ncommand = /bin/false\n",
	  "%s:3: [worker a]: command: given twice (first at line 2)" },
	{ "[worker a]\ncommand = /bin/true\nuser = no-such-user-here\n",
	  "%s:3: [worker a]: user = no-such-user-here: no such user" },
	{ "[worker a]\ncommand = /bin/true\ngroup = no-such-group-here\n",
	  "%s:3: [worker a]: group = no-such-group-here: no such group" },
	{ "[worker a]\ncommand = /bin/true\ncapabilities = chown, cap_bogus\n",
	  "%s:3: [worker a]: capabilities = chown, cap_bogus: unknown capability 'cap_bogus'" },
	{ "[worker a]\ncommand = /bin/true\nrlimit_nofile = 10:5\n",
	  "%s:3: [worker a]: rlimit_nofile = 10:5: the soft limit is above the hard limit" },
	{ "[worker a]\ncommand = /bin/true\nrlimit_nofle = 10\n",
	  "%s:3: [worker a]: unknown key 'rlimit_nofle' (did you mean 'rlimit_nofile'?)" },
	{ "[worker a]\ncommand = /bin/true\nnice = 20\n",
	  "%s:3: [worker a]: nice = 20: expected an integer from -20 to 19" },
	{ "[supervisor s]\ncommand = /bin/true\n",
	  "%s:2: [supervisor s]: command: not a key of this section (it belongs in [worker PATH])" },
	{ "[worker a]\ncommand = /bin/true\njunk\n",
	  "%s:3: [worker a]: expected KEY = VALUE, a [section] or a ; comment" },
	{ "key = value\n",
	  "%s:1: key = value: outside any section (a key goes under [arbor], [supervisor ...] or [worker ...])" },
	{ "[worker a/../b]\n",
	  "%s:1: [worker a/../b]: bad path 'a/../b': expected names of letters, digits, '_', '.', '@' or '-' joined by '/'" },
	{ "[arbor]\nlog_format = xml\n", "%s:2: [arbor]: log_format = xml: expected text or json" },
	{ "[worker a]\ncommand = /bin/true\nenv = MY VAR=1\n",
	  "%s:3: [worker a]: env = MY VAR=1: expected KEY=VALUE, KEY of letters, digits and _" },
	{ "[worker a]\ncommand = /bin/true\ninstances = 0\n",
	  "%s:3: [worker a]: instances = 0: expected an integer from 1 to 10000" },
	/* test_expand has set T_SET=8080 and unset T_UNSET */
	{ "[worker a]\ncommand = /bin/true\nenv = A=${T_UNSET}\n",
	  "%s:3: [worker a]: env = A=${T_UNSET}: ${T_UNSET}: T_UNSET is not set (give a default: ${T_UNSET:-VALUE})" },
	{ "[worker a]\ncommand = /bin/true ${1X}\n",
	  "%s:2: [worker a]: command = /bin/true ${1X}: ${1X}: bad variable name '1X' (letters, digits and _, not starting with a digit)" },
	{ "[worker a]\ncommand = /bin/true\nrestart_delay = -1s\n",
	  "%s:3: [worker a]: restart_delay = -1s: negative: expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h)" },
	{ "[supervisor s]\nrestart_delay_max = 10m\n",
	  "%s:2: [supervisor s]: restart_delay_max = 10m: 'm' is ambiguous (write ms or min): expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h)" },
	{ "[worker a]\ncommand = /bin/true\nrestart_delay = 2s\nrestart_delay_max = 1s\n",
	  "%s:4: [worker a]: restart_delay_max = 1000 ms: less than restart_delay = 2000 ms" },
	{ "[worker a]\ncommand = /bin/true\nrestart = permanent\nready = exit\n",
	  "%s:3: [worker a]: restart = permanent: a one-shot job (ready = exit at line 4) is never restarted for its own exit (use transient or temporary)" },
	{ "[worker a]\ncommand = /bin/true\nready = exits\n",
	  "%s:3: [worker a]: ready = exits: expected exec, fd:N (3 <= N <= 1023), notify, genserver or exit" },
	{ "[worker a]\ncommand = /bin/true\nshutdown = ${T_SET}x\n",
	  "%s:3: [worker a]: shutdown = 8080x (from ${T_SET}x): unknown unit: expected milliseconds >= 0 or a duration with a unit (500ms, 10s, 2min, 1h), brutal_kill or infinity" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct conf_err err;
		struct conf *c = load("bad.ini", bad[i].ini, &err);
		char path[PATH_MAX], want[sizeof(err.msg)], what[sizeof(err.msg)];

		snprintf(path, sizeof(path), "%s/bad.ini", dir);
		snprintf(want, sizeof(want), bad[i].msg, path, path);
		snprintf(what, sizeof(what), bad[i].msg, "FILE", "FILE");
		ok(!c && !strcmp(err.msg, want), "error: %s", what);
		if (c || strcmp(err.msg, want))
			printf("#  got: %s\n# want: %s\n", c ? "(loaded)" : err.msg, want);
		conf_free(c);
	}
}

static void test_unreadable(void)
{
	struct conf_err err;
	struct conf *c = NULL;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/missing.ini", dir);
	ok(conf_load(path, &c, &err) == -1 && !c &&
	   !strcmp(strstr(err.msg, "missing.ini"), "missing.ini: cannot read: No such file or directory"),
	   "a missing file: %s", err.msg);
	put("deep.ini", "[arbor]\ninclude = deep.ini\n");
	c = load("deep.ini", "[arbor]\ninclude = deep.ini\n", &err);
	ok(!c && strstr(err.msg, "deep.ini:2: [arbor]: include = deep.ini: includes nested deeper than 8"),
	   "includes stop at depth 8: %s", err.msg);
}

/* top.ini includes d1.ini, which includes d2.ini, ... down to dN.ini. */
static struct conf *load_chain(int n, struct conf_err *err)
{
	char name[32], text[128];

	for (int i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "chain/d%d.ini", i);
		if (i < n)
			snprintf(text, sizeof(text), "[arbor]\ninclude = d%d.ini\n", i + 1);
		else
			snprintf(text, sizeof(text), "[worker w%d]\ncommand = /bin/true\n", i);
		put(name, text);
	}
	return load("chain/top.ini", "[arbor]\ninclude = d1.ini\n", err);
}

static void test_depth(void)
{
	struct conf_err err;
	struct conf *c;

	mkdir_in("chain");
	c = load_chain(8, &err);
	ok(c && conf_find(c, "w8"), "8 nested includes are fine%s%s", c ? "" : ": ",
	   c ? "" : err.msg);
	conf_free(c);
	c = load_chain(9, &err);
	ok(!c && strstr(err.msg, "/chain/d8.ini:2: [arbor]: include = d9.ini: includes nested deeper than 8"),
	   "a 9th is refused at the including line: %s", c ? "(loaded)" : err.msg);
	conf_free(c);
}

/* Each variant differs from the base in one key: conf_node_same must see it. */
static void test_same_keys(void)
{
	static const char *const sup[] = {
		"strategy = one_for_all", "intensity = 2", "period = 6", "restart = transient",
		"shutdown = 10", "stop_signal = INT", "auto_shutdown = any_significant",
	};
	static const char *const wrk[] = {
		"command = /bin/true x", "restart = temporary", "shutdown = 1", "genserver = yes",
		"ready = notify", "ready = fd:4", "start_timeout = 9", "max_message = 128",
		"user = root", "group = 7", "groups = 7", "capabilities = chown",
		"no_new_privs = yes", "rlimit_core = 0", "nice = 1", "oom_score_adj = 1",
		"umask = 077", "cwd = /", "env = A=1", "env_file = /dev/null", "clear_env = yes",
		"stdout = null", "stderr = prefix", "stdout = file:/x", "instances = 1",
	};
	struct conf_err err;
	char text[256];
	struct conf *base, *c;
	int differ = 0, total = 0;

	base = load("base.ini", "[supervisor s]\n[worker w]\ncommand = /bin/true\n", &err);
	for (size_t i = 0; base && i < sizeof(sup) / sizeof(sup[0]); i++) {
		snprintf(text, sizeof(text), "[supervisor s]\n%s\n[worker w]\ncommand = /bin/true\n",
			 sup[i]);
		c = load("variant.ini", text, &err);
		total++;
		if (c && !conf_node_same(conf_find(base, "s"), conf_find(c, "s")) &&
		    conf_node_same(conf_find(base, "w"), conf_find(c, "w")))
			differ++;
		else
			printf("# not seen as changed: %s\n", sup[i]);
		conf_free(c);
	}
	for (size_t i = 0; base && i < sizeof(wrk) / sizeof(wrk[0]); i++) {
		snprintf(text, sizeof(text), "[supervisor s]\n[worker w]\n%s\n%s\n",
			 strncmp(wrk[i], "command", 7) ? "command = /bin/true" : "", wrk[i]);
		c = load("variant.ini", text, &err);
		total++;
		if (c && !conf_node_same(conf_find(base, "w"), conf_find(c, "w")) &&
		    conf_node_same(conf_find(base, "s"), conf_find(c, "s")))
			differ++;
		else
			printf("# not seen as changed: %s%s%s\n", wrk[i], c ? "" : ": ",
			       c ? "" : err.msg);
		conf_free(c);
	}
	ok(base && differ == total, "conf_node_same sees a change in each of %d keys", total);
	conf_free(base);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	char tmpl[] = "/tmp/test_conf.XXXXXX";

	umask(022);	/* the files written here are not writable by others */
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_split();
	test_defaults();
	test_values();
	test_durations();
	test_expand();
	test_env_inherit();
	test_pool();
	test_pool_add();
	test_writable();
	test_include();
	test_find_same();
	test_print();
	test_print_every_key();
	test_errors();
	test_unreadable();
	test_depth();
	test_same_keys();
	test_backoff_keys();
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
