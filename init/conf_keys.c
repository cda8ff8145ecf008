/* conf_keys: every key a section takes and how its value is read. One table,
 * so that "unknown key" and "did you mean" know exactly what exists. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf_int.h"
#include "passwd.h"

bool conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return true;
		}
	}
	return false;
}

/* A whole decimal integer in [min, max]: no blanks, no trailing junk. */
bool conf_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Bytes, with K, M or G (or KiB, MiB, GiB: the same powers of 1024). */
bool conf_parse_size(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	static const struct {
		const char *sfx;
		unsigned shift;
	} sfx[] = {
		{ "", 0 }, { "K", 10 }, { "KiB", 10 }, { "M", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GiB", 30 },
	};
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(end, sfx[i].sfx))
			continue;
		if (v > (max >> sfx[i].shift))
			return false;
		*out = v << sfx[i].shift;
		return true;
	}
	return false;
}

/* TERM, SIGTERM, term or 15: the forms kill(1) takes. */
bool conf_parse_signal(const char *s, int *out)
{
	long n;

	if (conf_parse_long(s, 1, NSIG - 1, &n)) {
		*out = (int)n;
		return true;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *name = sigabbrev_np(sig);

		if (name && !strcasecmp(s, name)) {
			*out = sig;
			return true;
		}
	}
	return false;
}

/* Seconds with up to three decimals, kept as milliseconds: 0.5 is 500. */
bool conf_parse_seconds(const char *s, long *ms)
{
	long whole = 0, frac = 0, scale = 100;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > INT_MAX)
			return false;
	}
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return false;
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10) {
			if (scale == 0 && *p != '0')
				return false;	/* finer than a millisecond */
			frac += (*p - '0') * scale;
		}
	}
	if (*p)
		return false;
	*ms = whole * 1000 + frac;
	return true;
}

size_t conf_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* A key that takes one word out of a list: its index in words, or -1 after
 * an error naming every choice. */
static int conf_choose(struct conf_parser *p, const struct conf_key *k,
		       const char *v, const char *const *words, size_t n)
{
	char expect[256] = "expected ";

	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, words[i]))
			return (int)i;
	for (size_t i = 0; i < n; i++) {
		strcat(expect, words[i]);
		if (i + 2 < n)
			strcat(expect, ", ");
		else if (i + 2 == n)
			strcat(expect, " or ");
	}
	conf_bad(p, k, v, "%s", expect);
	return -1;
}

/* The keys of nodes: each sets one field of the section's node (the
 * defaults are conf_node_new's). */
static int conf_set_strategy(struct conf_parser *p, const struct conf_key *k,
			     const char *v)
{
	static const char *const w[] = { "one_for_one", "one_for_all", "rest_for_one" };
	int i = conf_choose(p, k, v, w, 3);

	if (i < 0)
		return -1;
	p->sect.node->strategy = (enum conf_strategy)i;
	return 0;
}

static int conf_set_restart(struct conf_parser *p, const struct conf_key *k,
			    const char *v)
{
	static const char *const w[] = { "permanent", "transient", "temporary" };
	int i = conf_choose(p, k, v, w, 3);

	if (i < 0)
		return -1;
	p->sect.node->restart = (enum conf_restart)i;
	return 0;
}

static int conf_set_auto(struct conf_parser *p, const struct conf_key *k,
			 const char *v)
{
	static const char *const w[] = { "never", "any_significant", "all_significant" };
	int i = conf_choose(p, k, v, w, 3);

	if (i < 0)
		return -1;
	p->sect.node->auto_shutdown = (enum conf_auto)i;
	return 0;
}

static int conf_set_intensity(struct conf_parser *p, const struct conf_key *k,
			      const char *v)
{
	long n;

	if (!conf_parse_long(v, 0, INT_MAX, &n))
		return conf_bad(p, k, v, "expected an integer >= 0");
	p->sect.node->intensity = (int)n;
	return 0;
}

static int conf_set_period(struct conf_parser *p, const struct conf_key *k,
			   const char *v)
{
	long ms;

	if (!conf_parse_seconds(v, &ms) || ms <= 0)
		return conf_bad(p, k, v, "expected seconds > 0, to the millisecond (5, 0.5, 0.25)");
	p->sect.node->period_ms = ms;
	return 0;
}

static int conf_set_shutdown(struct conf_parser *p, const struct conf_key *k,
			     const char *v)
{
	long ms;

	if (!strcmp(v, "brutal_kill"))
		ms = 0;
	else if (!strcmp(v, "infinity"))
		ms = CONF_INFINITY;
	else if (!conf_parse_long(v, 0, LONG_MAX / 2, &ms))
		return conf_bad(p, k, v, "expected milliseconds >= 0, brutal_kill or infinity");
	p->sect.node->shutdown_ms = ms;
	return 0;
}

static int conf_set_stop_signal(struct conf_parser *p, const struct conf_key *k,
				const char *v)
{
	if (!conf_parse_signal(v, &p->sect.node->stop_signal))
		return conf_bad(p, k, v, "expected a signal name or number (TERM, SIGINT, 15)");
	return 0;
}

static int conf_set_significant(struct conf_parser *p, const struct conf_key *k,
				const char *v)
{
	if (!conf_parse_bool(v, &p->sect.node->significant))
		return conf_bad(p, k, v, "expected yes or no");
	return 0;
}

static int conf_set_genserver(struct conf_parser *p, const struct conf_key *k,
			      const char *v)
{
	if (!conf_parse_bool(v, &p->sect.node->genserver))
		return conf_bad(p, k, v, "expected yes or no");
	return 0;
}

/* The command is split and its program found now, so that `arbor check`
 * catches a missing binary. A relative program is relative to the INI file,
 * not to wherever arbor happens to run. */
static int conf_set_command(struct conf_parser *p, const struct conf_key *k,
			    const char *v)
{
	struct conf_node *n = p->sect.node;
	const char *why;
	char **argv, *full;

	if (conf_split(v, &argv, &why) < 0)
		return errno == ENOMEM ? conf_nomem(p) : conf_bad(p, k, v, "%s", why);
	if (conf_find_program(argv[0], p->f->dir, &full, &why) < 0) {
		if (full)
			conf_bad(p, k, v, "%s: %s", full, why);
		else
			conf_nomem(p);
		free(full);
		conf_argv_free(argv);
		return -1;
	}
	free(argv[0]);
	argv[0] = full;
	n->argv = argv;
	return 0;
}

static int conf_set_ready(struct conf_parser *p, const struct conf_key *k,
			  const char *v)
{
	struct conf_node *n = p->sect.node;
	long fd;

	if (!strcmp(v, "exec")) {
		n->ready = READY_EXEC;
	} else if (!strcmp(v, "notify")) {
		n->ready = READY_NOTIFY;
	} else if (!strcmp(v, "genserver")) {
		n->ready = READY_GENSERVER;
	} else if (!strncmp(v, "fd:", 3) && conf_parse_long(v + 3, 3, 1023, &fd)) {
		n->ready = READY_FD;
		n->ready_fd = (int)fd;
	} else {
		return conf_bad(p, k, v, "expected exec, fd:N (3 <= N <= 1023), notify or genserver");
	}
	return 0;
}

static int conf_set_start_timeout(struct conf_parser *p,
				  const struct conf_key *k, const char *v)
{
	long ms;

	if (!strcmp(v, "infinity"))
		ms = CONF_INFINITY;
	else if (!conf_parse_long(v, 1, LONG_MAX / 2, &ms))
		return conf_bad(p, k, v, "expected milliseconds > 0 or infinity");
	p->sect.node->start_timeout_ms = ms;
	return 0;
}

static int conf_set_max_message(struct conf_parser *p, const struct conf_key *k,
				const char *v)
{
	unsigned long long n;

	if (!conf_parse_size(v, 1ULL << 30, &n) || n < 64)
		return conf_bad(p, k, v, "expected bytes from 64 to 1GiB (e.g. 65536, 64K, 1MiB)");
	p->sect.node->max_message = (size_t)n;
	return 0;
}

static int conf_set_instances(struct conf_parser *p, const struct conf_key *k,
			      const char *v)
{
	long n;

	if (!conf_parse_long(v, 1, CONF_INSTANCES_MAX, &n))
		return conf_bad(p, k, v, "expected an integer from 1 to %d", CONF_INSTANCES_MAX);
	p->sect.node->instances = (int)n;
	return 0;
}

/* The path must fit in sun_path: found here, not when arbor binds it. */
static int conf_set_socket(struct conf_parser *p, const struct conf_key *k,
			   const char *v)
{
	struct sockaddr_un sa;
	char *path;

	if (!*v)
		return conf_bad(p, k, v, "expected a path");
	path = conf_path_join(p->f->dir, v);
	if (!path)
		return conf_nomem(p);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		conf_bad(p, k, v, "%s: longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
		free(path);
		return -1;
	}
	p->c->control_socket = path;
	return 0;
}

/* A number needs no /etc/group entry: containers often have none. */
int conf_lookup_group(const char *v, gid_t *gid)
{
	long n;

	if (passwd_group_by_name(v, gid) == 0)
		return 0;
	if (conf_parse_long(v, 0, INT_MAX - 1, &n)) {
		*gid = (gid_t)n;
		return 0;
	}
	return -1;
}

static int conf_set_control_group(struct conf_parser *p,
				  const struct conf_key *k, const char *v)
{
	if (conf_lookup_group(v, &p->c->control_gid) < 0)
		return conf_bad(p, k, v, "no such group");
	p->c->control_group = strdup(v);
	return p->c->control_group ? 0 : conf_nomem(p);
}

static int conf_set_log_format(struct conf_parser *p, const struct conf_key *k,
			       const char *v)
{
	static const char *const w[] = { "text", "json" };
	int i = conf_choose(p, k, v, w, 2);

	if (i < 0)
		return -1;
	p->c->log_format = (enum conf_logfmt)i;
	return 0;
}

/* Includes are read when their file is done; here the pattern is only made
 * relative to the including file and queued. */
static int conf_set_include(struct conf_parser *p, const struct conf_key *k,
			    const char *v)
{
	struct conf_file *f = p->f;
	struct conf_incl *ni;
	char *pat;

	if (!*v)
		return conf_bad(p, k, v, "expected a file name or a glob");
	if (v[0] == '/' || !f->gdir) {
		pat = strdup(v);
	} else if (asprintf(&pat, "%s/%s", f->gdir, v) < 0) {
		pat = NULL;
	}
	if (!pat)
		return conf_nomem(p);
	ni = realloc(f->incl, (f->nincl + 1) * sizeof(*ni));
	if (!ni) {
		free(pat);
		return conf_nomem(p);
	}
	f->incl = ni;
	ni[f->nincl].pattern = pat;
	ni[f->nincl].value = strdup(v);
	ni[f->nincl].line = f->line;
	if (!ni[f->nincl].value) {
		free(pat);
		return conf_nomem(p);
	}
	f->nincl++;
	return 0;
}

#define RL(n, r) { "rlimit_" n, KW_WORKER, conf_set_rlimit, r, false }

const struct conf_key conf_keys[] = {
	{ "control_socket", KW_ARBOR, conf_set_socket, 0, false },
	{ "control_group", KW_ARBOR, conf_set_control_group, 0, false },
	{ "include", KW_ARBOR, conf_set_include, 0, false },
	{ "log_format", KW_ARBOR, conf_set_log_format, 0, false },
	{ "strategy", KW_SUPS, conf_set_strategy, 0, false },
	{ "intensity", KW_SUPS | KW_WORKER, conf_set_intensity, 0, false },
	{ "period", KW_SUPS | KW_WORKER, conf_set_period, 0, false },
	{ "auto_shutdown", KW_SUPS, conf_set_auto, 0, false },
	{ "restart", KW_CHILD, conf_set_restart, 0, false },
	{ "shutdown", KW_CHILD, conf_set_shutdown, 0, false },
	{ "stop_signal", KW_CHILD, conf_set_stop_signal, 0, false },
	{ "significant", KW_CHILD, conf_set_significant, 0, false },
	{ "command", KW_WORKER, conf_set_command, 0, false },
	{ "genserver", KW_WORKER, conf_set_genserver, 0, false },
	{ "ready", KW_WORKER, conf_set_ready, 0, false },
	{ "start_timeout", KW_WORKER, conf_set_start_timeout, 0, false },
	{ "max_message", KW_WORKER, conf_set_max_message, 0, false },
	{ "instances", KW_WORKER, conf_set_instances, 0, false },
	{ "user", KW_WORKER, conf_set_user, 0, false },
	{ "group", KW_WORKER, conf_set_group, 0, false },
	{ "groups", KW_WORKER, conf_set_groups, 0, false },
	{ "capabilities", KW_WORKER, conf_set_caps, 0, false },
	{ "no_new_privs", KW_WORKER, conf_set_nnp, 0, false },
	{ "nice", KW_WORKER, conf_set_nice, 0, false },
	{ "oom_score_adj", KW_WORKER, conf_set_oom, 0, false },
	{ "umask", KW_WORKER, conf_set_umask, 0, false },
	{ "cwd", KW_WORKER, conf_set_cwd, 0, false },
	{ "env", KW_WORKER, conf_set_env, 0, true },
	{ "env_file", KW_WORKER, conf_set_env_file, 0, false },
	{ "clear_env", KW_WORKER, conf_set_clear_env, 0, false },
	{ "stdout", KW_WORKER, conf_set_output, 1, false },
	{ "stderr", KW_WORKER, conf_set_output, 2, false },
	RL("as", RLIMIT_AS),
	RL("core", RLIMIT_CORE),
	RL("cpu", RLIMIT_CPU),
	RL("data", RLIMIT_DATA),
	RL("fsize", RLIMIT_FSIZE),
	RL("locks", RLIMIT_LOCKS),
	RL("memlock", RLIMIT_MEMLOCK),
	RL("msgqueue", RLIMIT_MSGQUEUE),
	RL("nice", RLIMIT_NICE),
	RL("nofile", RLIMIT_NOFILE),
	RL("nproc", RLIMIT_NPROC),
	RL("rss", RLIMIT_RSS),
	RL("rtprio", RLIMIT_RTPRIO),
	RL("rttime", RLIMIT_RTTIME),
	RL("sigpending", RLIMIT_SIGPENDING),
	RL("stack", RLIMIT_STACK),
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);

_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) <= CONF_NKEYS_MAX,
	       "conf_sect.seen is too small");
_Static_assert(RLIMIT_NLIMITS <= CONF_NLIMITS, "CONF_NLIMITS is too small");

/* A linear scan: the table is short and keys are looked up once per line. */
int conf_key_index(const char *name)
{
	for (size_t i = 0; i < conf_nkeys; i++)
		if (!strcmp(conf_keys[i].name, name))
			return (int)i;
	return -1;
}

int conf_seen(const struct conf_parser *p, const char *name)
{
	int i = conf_key_index(name);

	return i < 0 ? 0 : p->sect.seen[i];
}
