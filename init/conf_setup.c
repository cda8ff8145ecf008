/* conf_setup: the keys that say how a worker's process is set up before
 * exec (identity, capabilities, limits, environment, output). Names are
 * looked up now, so an unknown user or capability stops `arbor check`, not
 * a worker at three in the morning. */
#define _GNU_SOURCE
#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"
#include "passwd.h"
#include "setup.h"
#include "conf_set.h"

/* The set-up keys occur in [worker] sections (env in [supervisor] too),
 * which have a node. */
static struct conf_setup *conf_cur_setup(struct conf_parser *p)
{
	return &p->sect.node->setup;
}

/* A user by name, or by number: a uid with no passwd entry is allowed (as in
 * containers), but then group = must say which gid to run as. */
int conf_set_user(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	struct passwd_user pw;
	bool found = passwd_user_by_name(v, &pw) == 0;
	long n = -1;

	if (!found && conf_parse_long(v, 0, INT_MAX - 1, &n))
		found = passwd_user_by_uid((uid_t)n, &pw) == 0;
	if (!found && n < 0)
		return conf_bad(p, k, v, "no such user");
	s->user = strdup(v);
	if (!s->user)
		goto err_nomem;
	s->has_user = true;
	if (!found) {
		s->uid = (uid_t)n;
		return 0;
	}
	s->uid = pw.uid;
	s->home = pw.dir;
	p->sect.pw_found = true;
	p->sect.pw_gid = pw.gid;
	p->sect.pw_name = pw.name;
	return 0;

err_nomem:
	if (found)
		passwd_user_free(&pw);
	return conf_nomem(p);
}

int conf_set_group(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);

	if (conf_lookup_group(v, &s->gid) < 0)
		return conf_bad(p, k, v, "no such group");
	s->has_group = true;
	return 0;
}

/* The next item of a list separated by commas and/or blanks, copied into
 * buf (of the list's size); NULL at the end. */
static const char *conf_list_next(const char *s, char *buf)
{
	size_t n = 0;

	while (*s == ',' || isspace((unsigned char)*s))
		s++;
	if (!*s)
		return NULL;
	while (*s && *s != ',' && !isspace((unsigned char)*s))
		buf[n++] = *s++;
	buf[n] = '\0';
	return s;
}

int conf_set_groups(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	char *item = malloc(strlen(v) + 1);
	const char *at = v;
	int r = -1;

	if (!item)
		return conf_nomem(p);
	s->has_groups = true;
	while ((at = conf_list_next(at, item))) {
		gid_t *ng, gid;

		if (conf_lookup_group(item, &gid) < 0) {
			conf_bad(p, k, v, "no such group '%s'", item);
			goto out;
		}
		ng = realloc(s->groups, (s->ngroups + 1) * sizeof(*ng));
		if (!ng) {
			conf_nomem(p);
			goto out;
		}
		s->groups = ng;
		ng[s->ngroups++] = gid;
	}
	r = 0;
out:
	free(item);
	return r;
}

/* net_bind_service, CAP_NET_BIND_SERVICE, Cap_Chown: libcap-ng knows the
 * names without the prefix, in any case. */
int conf_set_caps(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	char *item = malloc(strlen(v) + 1);
	const char *at = v;
	int r = -1;

	if (!item)
		return conf_nomem(p);
	s->has_caps = true;
	while ((at = conf_list_next(at, item))) {
		const char *name = item;
		int cap, *nc;
		size_t i;

		if (!strncasecmp(name, "cap_", 4))
			name += 4;
		cap = capng_name_to_capability(name);
		if (cap < 0) {
			conf_bad(p, k, v, "unknown capability '%s'", item);
			goto out;
		}
		for (i = 0; i < s->ncaps && s->caps[i] != cap; i++)
			;
		if (i < s->ncaps)
			continue;
		nc = realloc(s->caps, (s->ncaps + 1) * sizeof(*nc));
		if (!nc) {
			conf_nomem(p);
			goto out;
		}
		s->caps = nc;
		nc[s->ncaps++] = cap;
	}
	r = 0;
out:
	free(item);
	return r;
}

/* One limit: a size or infinity (unlimited, as ulimit(1) says it). */
static bool conf_parse_limit(const char *s, rlim_t *out)
{
	unsigned long long v;

	if (!strcmp(s, "infinity") || !strcmp(s, "unlimited")) {
		*out = RLIM_INFINITY;
		return true;
	}
	if (!conf_parse_size(s, RLIM_INFINITY - 1, &v))
		return false;
	*out = (rlim_t)v;
	return true;
}

/* "soft:hard" or one value for both, as prlimit(1) takes them. */
int conf_set_rlimit(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	struct conf_rlimit *rl;
	const char *colon = strchr(v, ':');
	char soft[64];

	if (!s->rlimits)	/* most workers set none: made at the first */
		s->rlimits = calloc(CONF_NLIMITS, sizeof(*s->rlimits));
	if (!s->rlimits)
		return conf_nomem(p);
	rl = &s->rlimits[k->arg];
	if (!colon) {
		if (!conf_parse_limit(v, &rl->lim.rlim_cur))
			goto err_bad;
		rl->lim.rlim_max = rl->lim.rlim_cur;
	} else {
		if ((size_t)(colon - v) >= sizeof(soft))
			goto err_bad;
		memcpy(soft, v, colon - v);
		soft[colon - v] = '\0';
		if (!conf_parse_limit(soft, &rl->lim.rlim_cur) ||
		    !conf_parse_limit(colon + 1, &rl->lim.rlim_max))
			goto err_bad;
		if (rl->lim.rlim_cur > rl->lim.rlim_max)
			return conf_bad(p, k, v, "the soft limit is above the hard limit");
	}
	rl->set = true;
	return 0;

err_bad:
	return conf_bad(p, k, v, "expected LIMIT or SOFT:HARD, each a number or infinity");
}

int conf_set_nice(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	long n;

	if (!conf_parse_long(v, -20, 19, &n))
		return conf_bad(p, k, v, "expected an integer from -20 to 19");
	s->nice = (int)n;
	s->has_nice = true;
	return 0;
}

int conf_set_oom(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	long n;

	if (!conf_parse_long(v, -1000, 1000, &n))
		return conf_bad(p, k, v, "expected an integer from -1000 to 1000");
	s->oom_score_adj = (int)n;
	s->has_oom = true;
	return 0;
}

int conf_set_umask(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	size_t len = strlen(v);

	if (len == 0 || len > 4 || strspn(v, "01234567") != len)
		return conf_bad(p, k, v, "expected an octal mode such as 022 or 0077");
	s->umask = (mode_t)strtoul(v, NULL, 8) & 0777;
	s->has_umask = true;
	return 0;
}

/* A path key relative to the INI file's directory, stored absolute. */
static int conf_set_path(struct conf_parser *p, const struct conf_key *k,
			 const char *v, char **out)
{
	if (!*v)
		return conf_bad(p, k, v, "expected a path");
	*out = conf_path_join(p->f->dir, v);
	return *out ? 0 : conf_nomem(p);
}

int conf_set_cwd(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	struct stat st;

	if (conf_set_path(p, k, v, &s->cwd) < 0)
		return -1;
	if (stat(s->cwd, &st) < 0)
		return conf_bad(p, k, v, "%s: %s", s->cwd, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return conf_bad(p, k, v, "%s: %s", s->cwd, strerror(ENOTDIR));
	return 0;
}

/* env = KEY=VALUE, repeatable, in order; the value is taken as is. KEY is
 * what a shell (and env_file) would take as a name. */
int conf_set_env(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	const char *eq = strchr(v, '=');
	size_t n = conf_argv_len(s->env);
	char **ne;

	size_t klen = strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789_");

	if (!eq || klen != (size_t)(eq - v) || klen == 0 || isdigit((unsigned char)v[0]))
		return conf_bad(p, k, v, "expected KEY=VALUE, KEY of letters, digits and _");
	ne = realloc(s->env, (n + 2) * sizeof(*ne));
	if (!ne)
		return conf_nomem(p);
	s->env = ne;
	ne[n] = strdup(v);
	ne[n + 1] = NULL;
	return ne[n] ? 0 : conf_nomem(p);
}

int conf_set_env_file(struct conf_parser *p, const struct conf_key *k,
		      const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);

	char why[1024];
	const char *what = why;

	if (conf_set_path(p, k, v, &s->env_file) < 0)
		return -1;
	/* Read now, so that a bad line fails the check; read again at every
	 * start, so that an edit is seen at the next restart. */
	if (setup_env_file(s->env_file, NULL, why, sizeof(why)) < 0) {
		if (!strncmp(what, "env_file: ", 10))
			what += 10;
		return conf_bad(p, k, v, "%s", what);
	}
	return 0;
}

/* stdout/stderr: inherit, prefix, null or file:PATH. */
int conf_set_output(struct conf_parser *p, const struct conf_key *k,
		    const char *v)
{
	struct conf_setup *s = conf_cur_setup(p);
	struct conf_output *o = k->arg == 1 ? &s->out : &s->err;

	if (!strcmp(v, "inherit"))
		o->kind = OUT_INHERIT;
	else if (!strcmp(v, "prefix"))
		o->kind = OUT_PREFIX;
	else if (!strcmp(v, "null"))
		o->kind = OUT_NULL;
	else if (!strncmp(v, "file:", 5) && v[5])
		o->kind = OUT_FILE;
	else
		return conf_bad(p, k, v, "expected inherit, prefix, null or file:PATH");
	if (o->kind == OUT_FILE)
		return conf_set_path(p, k, v + 5, &o->path);
	return 0;
}

/* log_max_size = SIZE: bytes, or K, M, G (powers of 1024); 0 = never. */
int conf_set_log_max_size(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	unsigned long long n;

	if (!conf_parse_size(v, 1ULL << 50, &n))
		return conf_bad(p, k, v, "expected a size in bytes, K, M or G (0, 65536, 512K, "
				"10M, 1G; powers of 1024), 0 for no rotation");
	p->sect.node->log_max_size = (size_t)n;
	return 0;
}

int conf_set_log_backups(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	long n;

	if (!conf_parse_long(v, 0, 1000, &n))
		return conf_bad(p, k, v, "expected an integer from 0 (no backup) to 1000");
	p->sect.node->log_backups = (int)n;
	return 0;
}

int conf_set_nnp(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	if (!conf_parse_bool(v, &conf_cur_setup(p)->no_new_privs))
		return conf_bad(p, k, v, "expected yes or no");
	return 0;
}

int conf_set_clear_env(struct conf_parser *p, const struct conf_key *k,
		       const char *v)
{
	if (!conf_parse_bool(v, &conf_cur_setup(p)->clear_env))
		return conf_bad(p, k, v, "expected yes or no");
	return 0;
}

/* The user's supplementary groups, as login(1) would give them. */
static int conf_user_groups(struct conf_parser *p, struct conf_setup *s)
{
	free(s->groups);
	s->groups = NULL;
	if (passwd_user_groups(p->sect.pw_name, p->sect.pw_gid, &s->groups, &s->ngroups) < 0)
		return conf_fail(p, conf_seen(p, "user"), "user = %s: /etc/group: %s",
				 s->user, strerror(errno));
	return 0;
}

/* user, group and groups may come in any order: the gid and the
 * supplementary groups are settled when the section ends (line: where
 * user = was). has_groups stays what it says (groups = was given); without
 * it, a user's groups are the ones /etc/group gives that user. */
int conf_setup_finish(struct conf_parser *p, int line)
{
	struct conf_setup *s = conf_cur_setup(p);

	if (!s->has_user)
		return 0;
	if (!s->has_group) {
		if (!p->sect.pw_found)
			return conf_fail(p, line, "user = %s: uid %u has no passwd entry, so group = is needed",
					 s->user, (unsigned)s->uid);
		s->gid = p->sect.pw_gid;
	}
	if (s->has_groups || !p->sect.pw_found)
		return 0;
	return conf_user_groups(p, s);
}
