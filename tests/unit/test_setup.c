/* Unit tests of init/setup.c: the worker's environment, output and process
 * set-up, each applied in a forked child whose truth is read back from
 * /proc/self after exec. TAP output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "setup.h"

#include "tap.h"

static char tmpdir[] = "/tmp/test_setup.XXXXXX";

static void skip(const char *what)
{
	printf("ok %d - # SKIP %s\n", ++ntest, what);
}

static const char *env_get(char **env, const char *key)
{
	size_t k = strlen(key);

	for (; env && *env; env++)
		if (!strncmp(*env, key, k) && (*env)[k] == '=')
			return *env + k + 1;
	return NULL;
}

static size_t env_n(char **env, const char *key)
{
	size_t k = strlen(key), n = 0;

	for (; env && *env; env++)
		if (!strncmp(*env, key, k) && (*env)[k] == '=')
			n++;
	return n;
}

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static char *write_tmp(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_env_inherit_and_put(void)
{
	struct conf_setup s = { 0 };
	char **env = NULL, why[256] = "";

	setenv("ARBOR_T_INHERITED", "yes", 1);
	ok(setup_env(&s, &env, why, sizeof(why)) == 0, "setup_env with nothing set");
	ok(streq(env_get(env, "ARBOR_T_INHERITED"), "yes"), "arbor's environment is inherited");
	ok(setup_env_put(&env, "ARBOR_T_INHERITED=no") == 0 &&
	   streq(env_get(env, "ARBOR_T_INHERITED"), "no") &&
	   env_n(env, "ARBOR_T_INHERITED") == 1, "setup_env_put replaces a variable");
	ok(setup_env_put(&env, "ARBOR_T_NEW=1") == 0 && streq(env_get(env, "ARBOR_T_NEW"), "1"),
	   "setup_env_put adds a variable");
	ok(setup_env_put(&env, "ARBOR_T=x") == 0 && streq(env_get(env, "ARBOR_T_NEW"), "1") &&
	   streq(env_get(env, "ARBOR_T"), "x"), "a key that is a prefix of another is its own");
	setup_env_free(env);
}

static void test_env_clear_and_lines(void)
{
	char *lines[] = { "A=1", "B=two words", "A=3", NULL };
	struct conf_setup s = { .clear_env = true, .env = lines };
	char **env = NULL, why[256] = "";

	ok(setup_env(&s, &env, why, sizeof(why)) == 0, "setup_env with clear_env");
	ok(!env_get(env, "ARBOR_T_INHERITED") && !env_get(env, "PATH"),
	   "clear_env drops arbor's environment");
	ok(streq(env_get(env, "A"), "3") && env_n(env, "A") == 1 &&
	   streq(env_get(env, "B"), "two words"), "env = lines, a later one replacing");
	setup_env_free(env);
}

static void test_env_file(void)
{
	const char *text =
		"# a comment\n"
		"; another\n"
		"\n"
		"   \n"
		"PLAIN=value\n"
		"export EXPORTED=yes\n"
		"  SPACED  =  padded value  \n"
		"DQ=\"double \\\"quoted\\\" \\$x\"\n"
		"SQ='single \\n $x'\n"
		"EMPTY=\n"
		"EQ=a=b\n"
		"OVERRIDDEN=from file\n"
		"HOME=/from/file\r\n"
		"LAST=no newline";
	char *lines[] = { "OVERRIDDEN=from env", NULL };
	struct conf_setup s = { .clear_env = true, .env = lines };
	char **env = NULL, why[256] = "";

	s.env_file = strdup(write_tmp("env", text));
	s.has_user = true;
	s.user = "nobody";
	s.uid = 65534;
	s.home = "/nonexistent";
	ok(setup_env(&s, &env, why, sizeof(why)) == 0, "setup_env with env_file: %s", why);
	ok(streq(env_get(env, "PLAIN"), "value"), "env_file: KEY=VALUE");
	ok(streq(env_get(env, "EXPORTED"), "yes"), "env_file: export prefix");
	ok(streq(env_get(env, "SPACED"), "padded value"), "env_file: blanks around = and value");
	ok(streq(env_get(env, "DQ"), "double \"quoted\" $x"), "env_file: double quotes");
	ok(streq(env_get(env, "SQ"), "single \\n $x"), "env_file: single quotes keep all");
	ok(streq(env_get(env, "EMPTY"), ""), "env_file: empty value");
	ok(streq(env_get(env, "EQ"), "a=b"), "env_file: = inside the value");
	ok(streq(env_get(env, "LAST"), "no newline"), "env_file: last line without newline");
	ok(streq(env_get(env, "OVERRIDDEN"), "from env"), "env = overrides env_file");
	ok(streq(env_get(env, "HOME"), "/from/file"), "env_file overrides the user's HOME");
	ok(streq(env_get(env, "USER"), "nobody") && streq(env_get(env, "LOGNAME"), "nobody"),
	   "USER and LOGNAME from user =");
	ok(!env_get(env, "#") && !env_get(env, ";"), "comments are not variables");
	setup_env_free(env);
	free(s.env_file);
}

static void test_env_user(void)
{
	struct conf_setup s = { .has_user = true, .user = "65534", .uid = 65534,
				.home = "/nonexistent" };
	char **env = NULL, why[256] = "";

	setenv("HOME", "/root", 1);
	ok(setup_env(&s, &env, why, sizeof(why)) == 0 &&
	   streq(env_get(env, "HOME"), "/nonexistent") && env_n(env, "HOME") == 1,
	   "HOME from the user's entry replaces arbor's");
	ok(streq(env_get(env, "USER"), "nobody"), "USER is the name for a numeric user =");
	setup_env_free(env);
}

static void test_env_file_errors(void)
{
	struct conf_setup s = { 0 };
	char **env = NULL, why[256] = "", expect[PATH_MAX + 64];
	int rc;

	s.env_file = strdup(write_tmp("bad", "A=1\n\nthis is not\n"));
	rc = setup_env(&s, &env, why, sizeof(why));
	snprintf(expect, sizeof(expect), "env_file: %s:3: expected KEY=VALUE", s.env_file);
	ok(rc < 0 && streq(why, expect), "a bad env_file line names file:line (%s)", why);
	free(s.env_file);
	s.env_file = strdup(write_tmp("badkey", "1A=x\n"));
	ok(setup_env_file(s.env_file, NULL, why, sizeof(why)) < 0 && strstr(why, ":1: "),
	   "a key starting with a digit is refused (%s)", why);
	free(s.env_file);
	s.env_file = "/nonexistent/env";
	errno = 0;
	rc = setup_env(&s, &env, why, sizeof(why));
	ok(rc < 0 && errno == ENOENT &&
	   streq(why, "env_file: /nonexistent/env: No such file or directory"),
	   "a missing env_file: %s", why);
	ok(setup_env_file(write_tmp("good", "A=1\n"), NULL, why, sizeof(why)) == 0,
	   "setup_env_file with no envp only checks");
}

static off_t file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) < 0 ? -1 : st.st_size;
}

/* Runs setup_output in a child that then writes to fds 1 and 2. */
static int output_child(const struct conf_setup *s, char *why, size_t len)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		umask(077);
		if (setup_output(s, why, len) < 0) {
			if (write(p[1], why, strlen(why)) < 0)
				_exit(3);
			_exit(1);
		}
		if (write(1, "out\n", 4) != 4 || write(2, "err\n", 4) != 4)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], why, len - 1);
	why[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* null opens /dev/null; file:PATH is a relay pipe put on the fd by the
 * caller (relay.c, logfile.c): setup_output leaves the fd alone. */
static void test_output(void)
{
	struct conf_setup s = { 0 };
	char path[PATH_MAX], why[512];
	int saved = dup(1), null = open("/dev/null", O_WRONLY), rc;

	s.out = (struct conf_output){ OUT_NULL, NULL };
	s.err = (struct conf_output){ OUT_NULL, NULL };
	ok(output_child(&s, why, sizeof(why)) == 0, "null: writes succeed");

	snprintf(path, sizeof(path), "%s/out.log", tmpdir);
	s.out = (struct conf_output){ OUT_FILE, path };
	s.err = (struct conf_output){ OUT_NULL, NULL };
	fflush(stdout);
	dup2(null, 1);		/* the child's "out" would go into the TAP */
	rc = output_child(&s, why, sizeof(why));
	dup2(saved, 1);
	close(saved);
	close(null);
	ok(rc == 0 && file_size(path) < 0, "file: is left to the relay: nothing opened");
}

/* Applies s in a child that execs sh to print its own /proc status, limits
 * and cwd: what the worker really is after exec. Returns the exit status;
 * out gets the output, or "FAIL errno why" when setup_apply failed. */
static int apply_child(const struct conf_setup *s, void (*pre)(void), char *out,
		       size_t len)
{
	int p[2], st;
	pid_t pid;
	size_t got = 0;
	ssize_t n;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char why[512] = "";

		close(p[0]);
		dup2(p[1], 1);
		if (pre)
			pre();
		if (setup_apply(s, why, sizeof(why)) < 0) {
			dprintf(1, "FAIL %d %s", errno, why);
			_exit(1);
		}
		execl("/bin/sh", "sh", "-c",
		      "cat /proc/$$/status /proc/$$/limits; echo \"Cwd: $(pwd)\"; "
		      "echo \"Nice: $(cut -d' ' -f19 /proc/$$/stat)\"; "
		      "echo \"Oom: $(cat /proc/$$/oom_score_adj)\"", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (got + 1 < len && (n = read(p[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The rest of the line that starts with key, blanks squeezed, or "";
 * four calls can share one printf. */
static const char *field(const char *out, const char *key)
{
	static char vs[4][256];
	static int next;
	char *v = vs[next++ % 4];
	size_t k = strlen(key), n = 0;

	v[0] = '\0';
	for (const char *p = out; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, key, k) || !strchr(": \t", p[k]))
			continue;
		for (p += k + 1; *p && *p != '\n' && n + 1 < sizeof(vs[0]); p++) {
			bool blank = *p == ' ' || *p == '\t';

			if (!blank)
				v[n++] = *p;
			else if (n && v[n - 1] != ' ')
				v[n++] = ' ';
		}
		while (n && v[n - 1] == ' ')
			n--;
		v[n] = '\0';
		break;
	}
	return v;
}

static void test_apply_user_caps(void)
{
	gid_t groups[] = { 1, 5 };
	int caps[] = { 10 };	/* CAP_NET_BIND_SERVICE */
	struct conf_rlimit rl[CONF_NLIMITS] = { 0 };
	struct conf_setup s = {
		.user = "nobody", .uid = 65534, .gid = 65534, .has_user = true,
		.groups = groups, .ngroups = 2, .has_groups = true,
		.has_caps = true, .caps = caps, .ncaps = 1,
		.no_new_privs = true, .has_umask = true, .umask = 027,
		.has_nice = true, .nice = 5, .has_oom = true, .oom_score_adj = 300,
		.cwd = "/tmp", .rlimits = rl,
	};
	static char out[16384];
	int rc;

	s.rlimits[RLIMIT_NOFILE] = (struct conf_rlimit){ true, { 100, 200 } };
	s.rlimits[RLIMIT_CORE] = (struct conf_rlimit){ true, { 0, RLIM_INFINITY } };
	s.rlimits[RLIMIT_MEMLOCK] = (struct conf_rlimit){ true, { 65536, 65536 } };
	rc = apply_child(&s, NULL, out, sizeof(out));
	ok(rc == 0, "setup_apply as nobody with net_bind_service (%.200s)", rc ? out : "");
	ok(streq(field(out, "Uid"), "65534 65534 65534 65534"), "Uid: %s", field(out, "Uid"));
	ok(streq(field(out, "Gid"), "65534 65534 65534 65534"), "Gid: %s", field(out, "Gid"));
	ok(streq(field(out, "Groups"), "1 5"), "Groups: %s", field(out, "Groups"));
	ok(streq(field(out, "CapEff"), "0000000000000400"), "CapEff: %s", field(out, "CapEff"));
	ok(streq(field(out, "CapPrm"), "0000000000000400"), "CapPrm: %s", field(out, "CapPrm"));
	ok(streq(field(out, "CapInh"), "0000000000000400"), "CapInh: %s", field(out, "CapInh"));
	ok(streq(field(out, "CapAmb"), "0000000000000400"), "CapAmb: %s", field(out, "CapAmb"));
	ok(streq(field(out, "CapBnd"), "0000000000000400"), "CapBnd: %s", field(out, "CapBnd"));
	ok(streq(field(out, "NoNewPrivs"), "1"), "NoNewPrivs: %s", field(out, "NoNewPrivs"));
	ok(streq(field(out, "Umask"), "0027"), "Umask: %s", field(out, "Umask"));
	ok(streq(field(out, "Max open files"), "100 200 files"), "nofile: %s",
	   field(out, "Max open files"));
	ok(streq(field(out, "Max core file size"), "0 unlimited bytes"), "core: %s",
	   field(out, "Max core file size"));
	ok(streq(field(out, "Max locked memory"), "65536 65536 bytes"), "memlock: %s",
	   field(out, "Max locked memory"));
	ok(streq(field(out, "Cwd"), "/tmp"), "cwd: %s", field(out, "Cwd"));
	ok(streq(field(out, "Nice"), "5"), "nice: %s", field(out, "Nice"));
	ok(streq(field(out, "Oom"), "300"), "oom_score_adj: %s", field(out, "Oom"));
}

static void test_apply_user_nocaps(void)
{
	struct conf_setup s = { .user = "nobody", .uid = 65534, .gid = 65534,
				.has_user = true };
	static char out[16384];

	ok(apply_child(&s, NULL, out, sizeof(out)) == 0, "setup_apply as nobody, no capabilities");
	ok(streq(field(out, "Groups"), ""), "no supplementary groups: '%s'", field(out, "Groups"));
	ok(streq(field(out, "CapEff"), "0000000000000000") &&
	   streq(field(out, "CapPrm"), "0000000000000000") &&
	   streq(field(out, "CapAmb"), "0000000000000000") &&
	   streq(field(out, "CapBnd"), "0000000000000000"),
	   "a non-root worker without capabilities has none (Eff %s Bnd %s)",
	   field(out, "CapEff"), field(out, "CapBnd"));
	ok(streq(field(out, "NoNewPrivs"), "0"), "no_new_privs unset: %s", field(out, "NoNewPrivs"));
}

static void test_apply_root_caps(void)
{
	int caps[] = { 0, 10 };	/* CAP_CHOWN, CAP_NET_BIND_SERVICE */
	struct conf_setup s = { .has_caps = true, .caps = caps, .ncaps = 2 };
	static char out[16384];

	ok(apply_child(&s, NULL, out, sizeof(out)) == 0, "setup_apply as root with two caps");
	ok(streq(field(out, "Uid"), "0 0 0 0"), "still root: %s", field(out, "Uid"));
	ok(streq(field(out, "CapEff"), "0000000000000401") &&
	   streq(field(out, "CapPrm"), "0000000000000401") &&
	   streq(field(out, "CapBnd"), "0000000000000401"),
	   "a root worker holds exactly its capabilities (Eff %s Bnd %s)",
	   field(out, "CapEff"), field(out, "CapBnd"));
}

static void test_apply_root_untouched(void)
{
	struct conf_setup s = { 0 };
	static char out[16384], mine[64];
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "CapBnd:", 7))
			snprintf(mine, sizeof(mine), "%s", field(line, "CapBnd"));
	if (f)
		fclose(f);
	ok(apply_child(&s, NULL, out, sizeof(out)) == 0 && streq(field(out, "CapBnd"), mine),
	   "a root worker without capabilities keeps arbor's (%s)", field(out, "CapBnd"));
}

static void become_nobody(void)
{
	gid_t g = 65534;

	if (setgroups(1, &g) < 0 || setresgid(65534, 65534, 65534) < 0 ||
	    setresuid(65534, 65534, 65534) < 0)
		_exit(4);
}

static void test_apply_errors(void)
{
	struct conf_setup s = { .cwd = "/nonexistent/dir" };
	struct conf_rlimit rl[CONF_NLIMITS] = { 0 };
	static char out[4096];
	char expect[256];
	FILE *f;
	long nr_open = 0;

	ok(apply_child(&s, NULL, out, sizeof(out)) == 1 &&
	   streq(out, "FAIL 2 cwd: /nonexistent/dir: No such file or directory"),
	   "a missing cwd: %s", out);

	f = fopen("/proc/sys/fs/nr_open", "r");
	if (f && fscanf(f, "%ld", &nr_open) != 1)
		nr_open = 0;
	if (f)
		fclose(f);
	s = (struct conf_setup){ .rlimits = rl };
	s.rlimits[RLIMIT_NOFILE] = (struct conf_rlimit){ true, { 10, (rlim_t)nr_open + 1 } };
	snprintf(expect, sizeof(expect), "FAIL 1 rlimit_nofile = 10:%ld: setrlimit: ", nr_open + 1);
	ok(apply_child(&s, NULL, out, sizeof(out)) == 1 && !strncmp(out, expect, strlen(expect)),
	   "an rlimit beyond fs.nr_open: %s", out);

	s = (struct conf_setup){ .user = "daemon", .uid = 1, .gid = 1, .has_user = true };
	ok(apply_child(&s, become_nobody, out, sizeof(out)) == 1 &&
	   streq(out, "FAIL 1 user: setgroups: Operation not permitted"),
	   "changing user without privilege: %s", out);

	s = (struct conf_setup){ .user = "nobody", .uid = 65534, .gid = 65534,
				 .has_user = true, .cwd = tmpdir };	/* mode 0700 */
	snprintf(expect, sizeof(expect), "FAIL 13 cwd: %s: Permission denied", tmpdir);
	ok(apply_child(&s, NULL, out, sizeof(out)) == 1 && streq(out, expect),
	   "cwd is entered as the worker's user: %s", out);
}

static void test_apply_own_user(void)
{
	int caps[] = { 10 }, unknown_caps[] = { 99 };
	gid_t groups[] = { 65534 }, other_groups[] = { 1 };
	struct conf_setup s = { .user = "nobody", .uid = 65534, .gid = 65534,
				.has_user = true, .groups = groups, .ngroups = 1,
				.has_groups = true };
	static char out[16384];

	ok(apply_child(&s, become_nobody, out, sizeof(out)) == 0 &&
	   streq(field(out, "Uid"), "65534 65534 65534 65534"),
	   "user = arbor's own user needs no privilege (Uid %s)", field(out, "Uid"));
	s.groups = other_groups;
	ok(apply_child(&s, become_nobody, out, sizeof(out)) == 1 &&
	   streq(out, "FAIL 1 user: setgroups: Operation not permitted"),
	   "other groups than arbor's own need privilege: %s", out);
	s.groups = groups;
	s.has_caps = true;
	s.caps = caps;
	s.ncaps = 1;
	ok(apply_child(&s, become_nobody, out, sizeof(out)) == 1 &&
	   !strncmp(out, "FAIL 1 capabilities: capset: ", 29),
	   "capabilities arbor does not hold cannot be given: %s", out);
	s.caps = unknown_caps;
	ok(apply_child(&s, NULL, out, sizeof(out)) == 1 &&
	   streq(out, "FAIL 22 capabilities: 99: Invalid argument"),
	   "an unknown capability number: %s", out);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_env_inherit_and_put();
	test_env_clear_and_lines();
	test_env_file();
	test_env_user();
	test_env_file_errors();
	test_output();
	if (geteuid() == 0) {
		test_apply_user_caps();
		test_apply_user_nocaps();
		test_apply_root_caps();
		test_apply_root_untouched();
		test_apply_errors();
		test_apply_own_user();
	} else {
		skip("setup_apply needs root");
	}
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
