/* setup: a worker's identity, capabilities, limits, environment and output,
 * applied in the forked child between fork and exec. Every failure is
 * reported as "KEY: what failed: strerror" with errno kept for the caller. */
#define _GNU_SOURCE
#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "passwd.h"
#include "setup.h"

extern char **environ;

/* Names of the rlimit_ keys, by RLIMIT_* number, for messages. */
static const char *const rlimit_names[CONF_NLIMITS] = {
	[RLIMIT_CPU] = "cpu",		[RLIMIT_FSIZE] = "fsize",
	[RLIMIT_DATA] = "data",		[RLIMIT_STACK] = "stack",
	[RLIMIT_CORE] = "core",		[RLIMIT_RSS] = "rss",
	[RLIMIT_NPROC] = "nproc",	[RLIMIT_NOFILE] = "nofile",
	[RLIMIT_MEMLOCK] = "memlock",	[RLIMIT_AS] = "as",
	[RLIMIT_LOCKS] = "locks",	[RLIMIT_SIGPENDING] = "sigpending",
	[RLIMIT_MSGQUEUE] = "msgqueue",	[RLIMIT_NICE] = "nice",
	[RLIMIT_RTPRIO] = "rtprio",	[RLIMIT_RTTIME] = "rttime",
};
_Static_assert(RLIMIT_NLIMITS == CONF_NLIMITS, "conf_setup.rlimits fits RLIMIT_*");

/* Fills why and returns -1 with errno as it was: the caller reports errno. */
static int __attribute__((format(printf, 3, 4)))
fail(char *why, size_t len, const char *fmt, ...)
{
	int e = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

/* ---- environment ---- */

int setup_env_put(char ***envp, const char *kv)
{
	char **env = *envp, *copy;
	size_t klen = strcspn(kv, "="), n;

	copy = strdup(kv);
	if (!copy)
		return -1;
	for (n = 0; env[n]; n++) {
		if (!strncmp(env[n], kv, klen) &&
		    (env[n][klen] == '=' || env[n][klen] == '\0')) {
			free(env[n]);
			env[n] = copy;
			return 0;
		}
	}
	env = realloc(env, (n + 2) * sizeof(*env));
	if (!env) {
		free(copy);
		return -1;
	}
	env[n] = copy;
	env[n + 1] = NULL;
	*envp = env;
	return 0;
}

void setup_env_free(char **env)
{
	if (!env)
		return;
	for (size_t i = 0; env[i]; i++)
		free(env[i]);
	free(env);
}

static bool env_key_ok(const char *k, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)k[0]) || k[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)k[i]) || k[i] == '_'))
			return false;
	return true;
}

/* A value in double quotes loses the backslash before " \ $ and `, as in a
 * shell; single quotes keep everything. Works in place. */
static void env_unquote(char *v, size_t *n)
{
	char q = v[0], *w = v;

	if (*n < 2 || (q != '"' && q != '\'') || v[*n - 1] != q)
		return;
	for (size_t i = 1; i + 1 < *n; i++) {
		if (q == '"' && v[i] == '\\' && i + 2 < *n && strchr("\"\\$`", v[i + 1]))
			i++;
		*w++ = v[i];
	}
	*n = (size_t)(w - v);
}

/* Turns one line of an env file into "KEY=VALUE" in *kv, or NULL for a blank
 * or comment line. -1 with *err when the line is not KEY=VALUE. */
static int env_line(char *line, char **kv, const char **err)
{
	char *p = line, *eq, *v;
	size_t klen, vlen;

	*kv = NULL;
	line[strcspn(line, "\r\n")] = '\0';
	p += strspn(p, " \t");
	if (*p == '\0' || *p == '#' || *p == ';')
		return 0;
	if (!strncmp(p, "export", 6) && (p[6] == ' ' || p[6] == '\t'))
		p += 6 + strspn(p + 6, " \t");
	eq = strchr(p, '=');
	if (!eq) {
		*err = "expected KEY=VALUE";
		return -1;
	}
	for (klen = (size_t)(eq - p); klen && (p[klen - 1] == ' ' || p[klen - 1] == '\t');)
		klen--;
	if (!env_key_ok(p, klen)) {
		*err = "expected a name of letters, digits and _ before =";
		return -1;
	}
	v = eq + 1 + strspn(eq + 1, " \t");
	for (vlen = strlen(v); vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t');)
		vlen--;
	env_unquote(v, &vlen);
	if (asprintf(kv, "%.*s=%.*s", (int)klen, p, (int)vlen, v) < 0) {
		*kv = NULL;
		*err = strerror(errno);
		return -1;
	}
	return 0;
}

static bool is_dev_null(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

int setup_env_file(const char *path, char ***envp, char *why, size_t len)
{
	/* O_NONBLOCK: a fifo must not hang the open; a device or a fifo could
	 * be read forever, so only a regular file (or /dev/null) is read */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *line = NULL, *kv;
	size_t cap = 0;
	const char *err;
	struct stat st;
	int n = 0, rc = 0;
	FILE *f;

	if (fd < 0)
		return fail(why, len, "env_file: %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = fail(why, len, "env_file: %s: %s", path, strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		rc = fail(why, len, "env_file: %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode) && !is_dev_null(&st)) {
		errno = EINVAL;
		rc = fail(why, len, "env_file: %s: not a regular file", path);
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	f = fdopen(fd, "re");
	if (!f) {
		close(fd);
		return fail(why, len, "env_file: %s: %s", path, strerror(errno));
	}
	errno = 0;
	while (getline(&line, &cap, f) >= 0) {
		n++;
		if (env_line(line, &kv, &err) < 0) {
			errno = EINVAL;
			rc = fail(why, len, "env_file: %s:%d: %s", path, n, err);
			break;
		}
		if (kv && envp && setup_env_put(envp, kv) < 0)
			rc = fail(why, len, "env_file: %s: %s", path, strerror(errno));
		free(kv);
		if (rc < 0)
			break;
	}
	if (rc == 0 && ferror(f))
		rc = fail(why, len, "env_file: %s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

static int env_put_var(char ***envp, const char *k, const char *v)
{
	char *kv;
	int rc;

	if (!v)
		return 0;
	if (asprintf(&kv, "%s=%s", k, v) < 0)
		return -1;
	rc = setup_env_put(envp, kv);
	free(kv);
	return rc;
}

/* HOME, and USER and LOGNAME as the user's name, also when user = gave a
 * number that the image's /etc/passwd names. */
static int env_put_user(char ***envp, const struct conf_setup *s)
{
	struct passwd_user pw = { 0 };
	const char *name = s->user;
	int rc;

	if (name && name[strspn(name, "0123456789")] == '\0' &&
	    passwd_user_by_uid(s->uid, &pw) == 0)
		name = pw.name;
	rc = env_put_var(envp, "HOME", s->home ? s->home : "/") < 0 ||
	     env_put_var(envp, "USER", name) < 0 ||
	     env_put_var(envp, "LOGNAME", name) < 0 ? -1 : 0;
	passwd_user_free(&pw);
	return rc;
}

int setup_env(const struct conf_setup *s, char ***envp, char *why, size_t len)
{
	char **env = calloc(1, sizeof(*env));

	if (!env)
		return fail(why, len, "env: %s", strerror(errno));
	for (char **e = environ; !s->clear_env && e && *e; e++)
		if (setup_env_put(&env, *e) < 0)
			goto err_nomem;
	if (s->has_user && env_put_user(&env, s) < 0)
		goto err_nomem;
	if (env_put_var(&env, "PWD", s->cwd) < 0)
		goto err_nomem;
	if (s->env_file && setup_env_file(s->env_file, &env, why, len) < 0)
		goto err_free;
	for (char **e = s->env; e && *e; e++)
		if (setup_env_put(&env, *e) < 0)
			goto err_nomem;
	*envp = env;
	return 0;

err_nomem:
	fail(why, len, "env: %s", strerror(errno));
err_free:
	{
		int e = errno;

		setup_env_free(env);
		errno = e;
	}
	return -1;
}

/* ---- output ---- */

/* null opens /dev/null; inherit keeps arbor's fd; prefix and file:PATH are
 * relay pipes the caller has put on the fd already (relay.h). */
static int output_open(const struct conf_output *o, int target, const char *key,
		       char *why, size_t len)
{
	int fd;

	if (o->kind != OUT_NULL)
		return 0;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(why, len, "%s: /dev/null: %s", key, strerror(errno));
	if (fd == target)	/* target was closed: keep it, lose CLOEXEC */
		return fcntl(fd, F_SETFD, 0) < 0 ?
			fail(why, len, "%s: fcntl: %s", key, strerror(errno)) : 0;
	if (dup2(fd, target) < 0) {
		fail(why, len, "%s: dup2: %s", key, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int setup_output(const struct conf_setup *s, char *why, size_t len)
{
	if (output_open(&s->out, STDOUT_FILENO, "stdout", why, len) < 0)
		return -1;
	return output_open(&s->err, STDERR_FILENO, "stderr", why, len);
}

/* ---- limits ---- */

static void limit_str(rlim_t v, char *b, size_t n)
{
	if (v == RLIM_INFINITY)
		snprintf(b, n, "infinity");
	else
		snprintf(b, n, "%llu", (unsigned long long)v);
}

static int apply_rlimits(const struct conf_setup *s, char *why, size_t len)
{
	char soft[24], hard[24];

	for (int i = 0; s->rlimits && i < CONF_NLIMITS; i++) {
		if (!s->rlimits[i].set)
			continue;
		if (setrlimit(i, &s->rlimits[i].lim) == 0)
			continue;
		limit_str(s->rlimits[i].lim.rlim_cur, soft, sizeof(soft));
		limit_str(s->rlimits[i].lim.rlim_max, hard, sizeof(hard));
		return fail(why, len, "rlimit_%s = %s:%s: setrlimit: %s",
			    rlimit_names[i] ? rlimit_names[i] : "?", soft, hard,
			    strerror(errno));
	}
	return 0;
}

static int apply_oom(int adj, char *why, size_t len)
{
	char b[16];
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	int n = snprintf(b, sizeof(b), "%d\n", adj);

	if (fd < 0)
		return fail(why, len, "oom_score_adj: /proc/self/oom_score_adj: %s",
			    strerror(errno));
	if (write(fd, b, (size_t)n) != n) {
		fail(why, len, "oom_score_adj = %d: %s", adj, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Resource settings that may need privileges arbor is about to drop. */
static int apply_limits(const struct conf_setup *s, char *why, size_t len)
{
	if (apply_rlimits(s, why, len) < 0)
		return -1;
	if (s->has_nice && setpriority(PRIO_PROCESS, 0, s->nice) < 0)
		return fail(why, len, "nice = %d: setpriority: %s", s->nice,
			    strerror(errno));
	if (s->has_oom && apply_oom(s->oom_score_adj, why, len) < 0)
		return -1;
	if (s->has_umask)
		umask(s->umask);
	return 0;
}

/* ---- identity and capabilities ---- */

static bool cap_listed(const struct conf_setup *s, int cap)
{
	for (size_t i = 0; i < s->ncaps; i++)
		if (s->caps[i] == cap)
			return true;
	return false;
}

static const char *cap_name(int cap)
{
	const char *n = capng_capability_to_name((unsigned)cap);

	return n ? n : "?";
}

/* Drops from the bounding set every capability not listed, so nothing the
 * worker execs (setuid or file-capability programs) can gain one back.
 * Without CAP_SETPCAP arbor cannot touch the bounding set: it is left. */
static int drop_bounding(const struct conf_setup *s, bool can_setpcap, char *why,
			 size_t len)
{
	for (int c = 0;; c++) {
		int in = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

		if (in < 0)	/* EINVAL past the last capability */
			return 0;
		if (!in || cap_listed(s, c) || !can_setpcap)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			return fail(why, len, "capabilities: bounding set: drop cap_%s: %s",
				    cap_name(c), strerror(errno));
	}
}

/* Ambient capabilities are what survives execve for a non-root uid; they
 * must already be permitted and inheritable. */
static int raise_ambient(const struct conf_setup *s, char *why, size_t len)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return fail(why, len, "capabilities: ambient: %s", strerror(errno));
	for (size_t i = 0; i < s->ncaps; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, s->caps[i], 0, 0) < 0)
			return fail(why, len, "capabilities: ambient cap_%s: %s",
				    cap_name(s->caps[i]), strerror(errno));
	return 0;
}

/* What capng_change_id's negative results mean, for the message. */
static int change_id_failed(const struct conf_setup *s, int rc, char *why,
			    size_t len)
{
	const char *e = strerror(errno);

	switch (rc) {
	case -4:
		return fail(why, len, "%s: setresgid %u: %s",
			    s->has_group ? "group" : "user", (unsigned)s->gid, e);
	case -5:
		return fail(why, len, "user: setgroups: %s", e);
	case -6:
		return fail(why, len, "user: setresuid %u: %s", (unsigned)s->uid, e);
	case -2:
	case -7:
		return fail(why, len, "user: prctl(PR_SET_KEEPCAPS): %s", e);
	case -3:
		return fail(why, len, "capabilities: cannot keep them across the change of user (arbor must hold each capability it gives): %s",
			    e);
	default:
		return fail(why, len, "capabilities: capng_change_id: %d: %s", rc, e);
	}
}

/* The supplementary groups asked for are the ones this process has. */
static bool groups_are_current(const struct conf_setup *s)
{
	gid_t cur[256];
	int n = getgroups(256, cur);

	if (n < 0 || (size_t)n != s->ngroups)
		return false;
	for (size_t i = 0; i < s->ngroups; i++) {
		int j = 0;

		while (j < n && cur[j] != s->groups[i])
			j++;
		if (j == n)
			return false;
	}
	return true;
}

/* When arbor is not root and the worker runs as arbor's own ids, there is
 * nothing to change and no right to do it: skip. */
static bool identity_is_own(const struct conf_setup *s)
{
	return geteuid() != 0 &&
	       (!s->has_user || s->uid == geteuid()) &&
	       (!(s->has_user || s->has_group) || s->gid == getegid()) &&
	       (!s->has_groups || groups_are_current(s));
}

/* Supplementary groups go first, while CAP_SETGID is still held. */
static int set_groups(const struct conf_setup *s, char *why, size_t len)
{
	if (!(s->has_user || s->has_groups))
		return 0;
	if (setgroups(s->ngroups, s->groups) < 0)
		return fail(why, len, "%s: setgroups: %s",
			    s->has_user ? "user" : "groups", strerror(errno));
	return 0;
}

/* No capabilities to manage: a root worker keeps arbor's, so only ids. */
static int change_ids_plain(const struct conf_setup *s, char *why, size_t len)
{
	if (set_groups(s, why, len) < 0)
		return -1;
	if ((s->has_user || s->has_group) && setresgid(s->gid, s->gid, s->gid) < 0)
		return fail(why, len, "%s: setresgid %u: %s",
			    s->has_group ? "group" : "user", (unsigned)s->gid,
			    strerror(errno));
	if (s->has_user && setresuid(s->uid, s->uid, s->uid) < 0)
		return fail(why, len, "user: setresuid %u: %s", (unsigned)s->uid,
			    strerror(errno));
	return 0;
}

/* Exactly the listed capabilities end up effective, permitted, inheritable
 * and ambient, and the bounding set holds only them: capng_change_id keeps
 * them across the uid change (PR_SET_KEEPCAPS), the ambient set carries them
 * through execve. Supplementary groups are set by hand beforehand, so no
 * CAPNG_*_SUPP_GRP flag: the listed (or the user's) groups stay. */
static int change_ids_caps(const struct conf_setup *s, char *why, size_t len)
{
	const unsigned all = CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE |
			     CAPNG_BOUNDING_SET;
	bool setpcap, ids = s->has_user || s->has_group;

	if (capng_get_caps_process() < 0)
		return fail(why, len, "capabilities: capget: %s", strerror(errno));
	setpcap = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 1;
	capng_clear(CAPNG_SELECT_BOTH);
	for (size_t i = 0; i < s->ncaps; i++)
		if (capng_update(CAPNG_ADD, all, (unsigned)s->caps[i]) < 0) {
			errno = EINVAL;
			return fail(why, len, "capabilities: %d: %s", s->caps[i],
				    strerror(errno));
		}
	if (drop_bounding(s, setpcap, why, len) < 0)
		return -1;
	if (ids && !identity_is_own(s)) {
		int rc;

		if (set_groups(s, why, len) < 0)
			return -1;
		rc = capng_change_id(s->has_user ? (int)s->uid : -1,
				     (int)s->gid, CAPNG_NO_FLAG);
		if (rc < 0)
			return change_id_failed(s, rc, why, len);
	} else if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
		return fail(why, len, "capabilities: capset: %s", strerror(errno));
	}
	return raise_ambient(s, why, len);
}

/* A worker that ends as a non-root uid gets no capabilities unless listed;
 * a root worker without capabilities = keeps what arbor has. */
static bool manages_caps(const struct conf_setup *s)
{
	if (s->has_caps)
		return true;
	return s->has_user ? s->uid != 0 : false;
}

static int apply_identity(const struct conf_setup *s, char *why, size_t len)
{
	if (manages_caps(s))
		return change_ids_caps(s, why, len);
	if (identity_is_own(s))
		return 0;
	return change_ids_plain(s, why, len);
}

int setup_apply(const struct conf_setup *s, char *why, size_t len)
{
	if (apply_limits(s, why, len) < 0 || apply_identity(s, why, len) < 0)
		return -1;
	if (s->cwd && chdir(s->cwd) < 0)
		return fail(why, len, "cwd: %s: %s", s->cwd, strerror(errno));
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return fail(why, len, "no_new_privs: prctl: %s", strerror(errno));
	return 0;
}
