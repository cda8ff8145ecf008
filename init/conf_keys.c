/* conf_keys: how the value of each supervision key ([supervisor], the
 * child keys of [worker], [arbor]) is read into the section's node; the
 * set-up keys are conf_setup.c's, and conf_table.c lists them all. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "conf_set.h"
#include "conf_int.h"
#include "passwd.h"

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
int conf_set_strategy(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	static const char *const w[] = { "one_for_one", "one_for_all", "rest_for_one" };
	int i = conf_choose(p, k, v, w, 3);

	if (i < 0)
		return -1;
	p->sect.node->strategy = (enum conf_strategy)i;
	return 0;
}

int conf_set_restart(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	static const char *const w[] = { "permanent", "transient", "temporary" };
	int i = conf_choose(p, k, v, w, 3);

	if (i < 0)
		return -1;
	p->sect.node->restart = (enum conf_restart)i;
	return 0;
}

int conf_set_auto(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	static const char *const w[] = { "never", "any_significant", "all_significant" };
	int i = conf_choose(p, k, v, w, 3);

	if (i < 0)
		return -1;
	p->sect.node->auto_shutdown = (enum conf_auto)i;
	return 0;
}

int conf_set_intensity(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	long n;

	if (!conf_parse_long(v, 0, INT_MAX, &n))
		return conf_bad(p, k, v, "expected an integer >= 0");
	p->sect.node->intensity = (int)n;
	return 0;
}

/* A duration key (DESIGN: every duration takes a unit): a bare number is in
 * the key's own unit, bare_ms; below min_ms is refused as the rest is. */
static int conf_duration(struct conf_parser *p, const struct conf_key *k,
			 const char *v, long bare_ms, long min_ms, const char *expect,
			 long *out)
{
	const char *why;

	if (conf_parse_duration(v, bare_ms, out, &why) < 0)
		return conf_bad(p, k, v, "%s: expected %s", why, expect);
	if (*out < min_ms)
		return conf_bad(p, k, v, "expected %s", expect);
	return 0;
}

#define CONF_UNITS "a duration with a unit (500ms, 10s, 2min, 1h)"

int conf_set_period(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	return conf_duration(p, k, v, 1000, 1, "seconds > 0 (5, 0.5) or " CONF_UNITS,
			     &p->sect.node->period_ms);
}

int conf_set_shutdown(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_node *n = p->sect.node;

	if (!strcmp(v, "brutal_kill"))
		n->shutdown_ms = 0;
	else if (!strcmp(v, "infinity"))
		n->shutdown_ms = CONF_INFINITY;
	else
		return conf_duration(p, k, v, 1, 0, "milliseconds >= 0 or " CONF_UNITS
				     ", brutal_kill or infinity", &n->shutdown_ms);
	return 0;
}

int conf_set_stop_signal(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	if (!conf_parse_signal(v, &p->sect.node->stop_signal))
		return conf_bad(p, k, v, "expected a signal name or number (TERM, SIGINT, 15)");
	return 0;
}

int conf_set_significant(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	if (!conf_parse_bool(v, &p->sect.node->significant))
		return conf_bad(p, k, v, "expected yes or no");
	return 0;
}

int conf_set_genserver(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	if (!conf_parse_bool(v, &p->sect.node->genserver))
		return conf_bad(p, k, v, "expected yes or no");
	return 0;
}

/* The command is split and its program found now, so that `arbor check`
 * catches a missing binary. A relative program is relative to the INI file,
 * not to wherever arbor happens to run. *out: the words, packed. */
int conf_parse_command(struct conf_parser *p, const struct conf_key *k, const char *v,
		       char ***out)
{
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
	*out = conf_argv_pack(argv);
	return *out ? 0 : conf_nomem(p);
}

int conf_set_command(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	return conf_parse_command(p, k, v, &p->sect.node->argv);
}

int conf_set_ready(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_node *n = p->sect.node;
	long fd;

	if (!strcmp(v, "exec")) {
		n->ready = READY_EXEC;
	} else if (!strcmp(v, "notify")) {
		n->ready = READY_NOTIFY;
	} else if (!strcmp(v, "genserver")) {
		n->ready = READY_GENSERVER;
	} else if (!strcmp(v, "exit")) {
		n->ready = READY_EXIT;
	} else if (!strncmp(v, "fd:", 3) && conf_parse_long(v + 3, 3, 1023, &fd)) {
		n->ready = READY_FD;
		n->ready_fd = (int)fd;
	} else {
		return conf_bad(p, k, v, "expected exec, fd:N (3 <= N <= 1023), notify, genserver or exit");
	}
	return 0;
}

int conf_set_start_timeout(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_node *n = p->sect.node;

	if (!strcmp(v, "infinity")) {
		n->start_timeout_ms = CONF_INFINITY;
		return 0;
	}
	return conf_duration(p, k, v, 1, 1, "milliseconds > 0 or " CONF_UNITS ", or infinity",
			     &n->start_timeout_ms);
}

/* restart_delay (arg 0) and restart_delay_max (arg 1): milliseconds when
 * bare, as shutdown and start_timeout are. */
int conf_set_restart_delay(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_node *n = p->sect.node;

	return conf_duration(p, k, v, 1, 0, "milliseconds >= 0 or " CONF_UNITS,
			     k->arg ? &n->restart_delay_max_ms : &n->restart_delay_ms);
}

int conf_set_max_message(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	unsigned long long n;

	if (!conf_parse_size(v, 1ULL << 30, &n) || n < 64)
		return conf_bad(p, k, v, "expected bytes from 64 to 1GiB (e.g. 65536, 64K, 1MiB)");
	p->sect.node->max_message = (size_t)n;
	return 0;
}

int conf_set_instances(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	long n;

	if (!conf_parse_long(v, 1, CONF_INSTANCES_MAX, &n))
		return conf_bad(p, k, v, "expected an integer from 1 to %d", CONF_INSTANCES_MAX);
	p->sect.node->instances = (int)n;
	return 0;
}

/* The paths are whole paths from the root; that each names a node is
 * checked once the whole tree is read (conf_check_monitors), since a node
 * may come later in the file. */
int conf_set_monitor(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_node *n = p->sect.node;
	const char *why;
	char **paths;

	if (!v[strspn(v, " \t")])
		return conf_bad(p, k, v, "expected the paths of the nodes to watch (web/db)");
	if (conf_split(v, &paths, &why) < 0)
		return errno == ENOMEM ? conf_nomem(p) : conf_bad(p, k, v, "%s", why);
	conf_argv_free(n->monitor);
	n->monitor = paths;
	n->monitor_line = p->f->line;
	return 0;
}

/* The path must fit in sun_path: found here, not when arbor binds it. */
int conf_set_socket(struct conf_parser *p, const struct conf_key *k, const char *v)
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

int conf_set_control_group(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	if (conf_lookup_group(v, &p->c->control_gid) < 0)
		return conf_bad(p, k, v, "no such group");
	p->c->control_group = strdup(v);
	return p->c->control_group ? 0 : conf_nomem(p);
}

int conf_set_log_format(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	static const char *const w[] = { "text", "json" };
	int i = conf_choose(p, k, v, w, 2);

	if (i < 0)
		return -1;
	p->c->log_format = (enum conf_logfmt)i;
	return 0;
}

/* Every include = value, for `arbor check` to print. */
static int conf_keep_include(struct conf_parser *p, const char *v)
{
	size_t n = conf_argv_len(p->c->includes);
	char **ni = realloc(p->c->includes, (n + 2) * sizeof(*ni));

	if (!ni)
		return conf_nomem(p);
	p->c->includes = ni;
	ni[n] = strdup(v);
	ni[n + 1] = NULL;
	return ni[n] ? 0 : conf_nomem(p);
}

/* Includes are read when their file is done; here the pattern is only made
 * relative to the including file and queued. */
int conf_set_include(struct conf_parser *p, const struct conf_key *k, const char *v)
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
	return conf_keep_include(p, v);
}
