/* conf_print: the tree as `arbor check` shows it, drawn as tree(1) does,
 * one node a line with every key read in its section (and the env it
 * inherits), then a summary for scripts. Values are said as the INI file
 * would say them, durations in the key's own unit. */
#define _GNU_SOURCE
#include <cap-ng.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

static const char *const conf_strategy_names[] = { "one_for_one", "one_for_all", "rest_for_one" };
static const char *const conf_restart_names[] = { "permanent", "transient", "temporary" };
static const char *const conf_auto_names[] = { "never", "any_significant", "all_significant" };

/* Prints a word so that conf_split would read it back the same. */
static void conf_print_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-+=/.,:@%") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	}
	fputc('\'', f);
}

/* Milliseconds as the seconds one would write: 5000 is 5, 500 is 0.5. */
static void conf_print_seconds(FILE *f, long ms)
{
	if (ms % 1000 == 0)
		fprintf(f, "%ld", ms / 1000);
	else if (ms % 100 == 0)
		fprintf(f, "%ld.%ld", ms / 1000, ms % 1000 / 100);
	else if (ms % 10 == 0)
		fprintf(f, "%ld.%02ld", ms / 1000, ms % 1000 / 10);
	else
		fprintf(f, "%ld.%03ld", ms / 1000, ms % 1000);
}

/* How a key's value is kept in struct conf_node, so that it can be said
 * again in INI terms. */
enum show_kind {
	SH_ENUM, SH_INT, SH_BOOL, SH_SECONDS, SH_MS, SH_SHUTDOWN, SH_SIGNAL, SH_SIZE,
	SH_WORD, SH_READY, SH_GID, SH_GIDS, SH_CAPS, SH_OCTAL, SH_OUTPUT, SH_RLIMIT,
	SH_ARGV,
	SH_PATHS,
};

struct conf_show {
	const char *name;	/* "rlimit_" stands for every rlimit_ key */
	enum show_kind kind;
	size_t off;		/* of the field in struct conf_node */
	const char *const *names;	/* SH_ENUM */
};

#define N(field) offsetof(struct conf_node, field)

/* Every key of a [supervisor] or [worker] section but command and env,
 * which conf_print_line says itself. A key missing here is caught by
 * test_conf's walk over conf_keys. */
static const struct conf_show conf_shows[] = {
	{ "strategy", SH_ENUM, N(strategy), conf_strategy_names },
	{ "intensity", SH_INT, N(intensity), NULL },
	{ "period", SH_SECONDS, N(period_ms), NULL },
	{ "auto_shutdown", SH_ENUM, N(auto_shutdown), conf_auto_names },
	{ "restart", SH_ENUM, N(restart), conf_restart_names },
	{ "shutdown", SH_SHUTDOWN, N(shutdown_ms), NULL },
	{ "stop_signal", SH_SIGNAL, N(stop_signal), NULL },
	{ "significant", SH_BOOL, N(significant), NULL },
	{ "restart_delay", SH_MS, N(restart_delay_ms), NULL },
	{ "restart_delay_max", SH_MS, N(restart_delay_max_ms), NULL },
	{ "genserver", SH_BOOL, N(genserver), NULL },
	{ "ready", SH_READY, 0, NULL },
	{ "start_timeout", SH_MS, N(start_timeout_ms), NULL },
	{ "max_message", SH_SIZE, N(max_message), NULL },
	{ "watchdog", SH_MS, N(health.watchdog_ms), NULL },
	{ "watchdog_signal", SH_SIGNAL, N(health.watchdog_signal), NULL },
	{ "health_command", SH_ARGV, N(health.argv), NULL },
	{ "health_interval", SH_MS, N(health.interval_ms), NULL },
	{ "health_timeout", SH_MS, N(health.timeout_ms), NULL },
	{ "health_start_period", SH_MS, N(health.start_period_ms), NULL },
	{ "health_retries", SH_INT, N(health.retries), NULL },
	{ "instances", SH_INT, N(instances), NULL },
	{ "monitor", SH_PATHS, 0, NULL },
	{ "user", SH_WORD, N(setup.user), NULL },
	{ "group", SH_GID, N(setup.gid), NULL },
	{ "groups", SH_GIDS, 0, NULL },
	{ "capabilities", SH_CAPS, 0, NULL },
	{ "no_new_privs", SH_BOOL, N(setup.no_new_privs), NULL },
	{ "nice", SH_INT, N(setup.nice), NULL },
	{ "oom_score_adj", SH_INT, N(setup.oom_score_adj), NULL },
	{ "umask", SH_OCTAL, N(setup.umask), NULL },
	{ "cwd", SH_WORD, N(setup.cwd), NULL },
	{ "env_file", SH_WORD, N(setup.env_file), NULL },
	{ "clear_env", SH_BOOL, N(setup.clear_env), NULL },
	{ "stdout", SH_OUTPUT, N(setup.out), NULL },
	{ "stderr", SH_OUTPUT, N(setup.err), NULL },
	{ "log_max_size", SH_SIZE, N(log_max_size), NULL },
	{ "log_backups", SH_INT, N(log_backups), NULL },
	{ "rlimit_", SH_RLIMIT, 0, NULL },
};

static const struct conf_show *conf_show_of(const char *key)
{
	for (size_t i = 0; i < sizeof(conf_shows) / sizeof(conf_shows[0]); i++) {
		const char *name = conf_shows[i].name;

		if (!strcmp(key, name) || (!strcmp(name, "rlimit_") && !strncmp(key, name, 7)))
			return &conf_shows[i];
	}
	return NULL;
}

static void show_limit(FILE *f, rlim_t v)
{
	if (v == RLIM_INFINITY)
		fputs("infinity", f);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

static void show_rlimit(FILE *f, const struct conf_rlimit *rl)
{
	show_limit(f, rl->lim.rlim_cur);
	if (rl->lim.rlim_max != rl->lim.rlim_cur) {
		fputc(':', f);
		show_limit(f, rl->lim.rlim_max);
	}
}

static void show_output(FILE *f, const struct conf_output *o)
{
	static const char *const kinds[] = { "inherit", "prefix", "null", "file:" };

	if (o->kind != OUT_FILE) {
		fputs(kinds[o->kind], f);
		return;
	}
	fputs("file:", f);
	conf_print_word(f, o->path);
}

static void show_ready(FILE *f, const struct conf_node *n)
{
	static const char *const modes[] = { "exec", "fd:", "notify", "genserver", "exit" };

	fputs(modes[n->ready], f);
	if (n->ready == READY_FD)
		fprintf(f, "%d", n->ready_fd);
}

static void show_signal(FILE *f, int sig)
{
	const char *name = sigabbrev_np(sig);

	if (name)
		fprintf(f, "SIG%s", name);
	else
		fprintf(f, "%d", sig);
}

/* groups and capabilities: comma-separated, as the keys take them. */
static void show_list(FILE *f, const struct conf_setup *s, bool caps)
{
	size_t n = caps ? s->ncaps : s->ngroups;

	if (n == 0)
		fputs("''", f);
	for (size_t i = 0; i < n; i++) {
		const char *name = caps ? capng_capability_to_name((unsigned)s->caps[i]) : NULL;

		if (i)
			fputc(',', f);
		if (name)
			fputs(name, f);
		else
			fprintf(f, "%u", caps ? (unsigned)s->caps[i] : (unsigned)s->groups[i]);
	}
}

/* A command as one word, which conf_split reads back as the same words
 * when none of them holds a quote or a space. */
static void show_argv(FILE *f, char *const *argv)
{
	char *line = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&line, &len);

	if (!m)
		return;
	for (char *const *a = argv; a && *a; a++)
		fprintf(m, "%s%s", a == argv ? "" : " ", *a);
	if (fclose(m) == 0)
		conf_print_word(f, line);
	free(line);
}

/* monitor = a b: the paths as one word, quoted when there are several. */
static void show_paths(FILE *f, char *const *paths)
{
	char b[1024];
	size_t len = 0;

	b[0] = '\0';
	for (size_t i = 0; paths && paths[i] && len < sizeof(b); i++)
		len += (size_t)snprintf(b + len, sizeof(b) - len, "%s%s", i ? " " : "", paths[i]);
	conf_print_word(f, b);
}

/* Milliseconds, infinity, or (for shutdown) 0 as brutal_kill. */
static void show_ms(FILE *f, long ms, bool shutdown)
{
	if (ms == CONF_INFINITY)
		fputs("infinity", f);
	else if (ms == 0 && shutdown)
		fputs("brutal_kill", f);
	else
		fprintf(f, "%ld", ms);
}

/* The value of key k of node n, as the INI file would say it. */
static void show_value(FILE *f, const struct conf_node *n, const struct conf_key *k,
		       const struct conf_show *sh)
{
	const char *at = (const char *)n + sh->off;

	switch (sh->kind) {
	case SH_ENUM:
		fputs(sh->names[*(const int *)at], f);
		break;
	case SH_INT:
		fprintf(f, "%d", *(const int *)at);
		break;
	case SH_BOOL:
		fputs(*(const bool *)at ? "yes" : "no", f);
		break;
	case SH_SECONDS:
		conf_print_seconds(f, *(const long *)at);
		break;
	case SH_MS:
	case SH_SHUTDOWN:
		show_ms(f, *(const long *)at, sh->kind == SH_SHUTDOWN);
		break;
	case SH_SIGNAL:
		show_signal(f, *(const int *)at);
		break;
	case SH_SIZE:
		fprintf(f, "%zu", *(const size_t *)at);
		break;
	case SH_WORD:
		conf_print_word(f, *(char *const *)at);
		break;
	case SH_READY:
		show_ready(f, n);
		break;
	case SH_GID:
		fprintf(f, "%u", (unsigned)*(const gid_t *)at);
		break;
	case SH_GIDS:
	case SH_CAPS:
		show_list(f, &n->setup, sh->kind == SH_CAPS);
		break;
	case SH_OCTAL:
		fprintf(f, "%04o", (unsigned)*(const mode_t *)at);
		break;
	case SH_OUTPUT:
		show_output(f, (const struct conf_output *)at);
		break;
	case SH_RLIMIT:
		if (n->setup.rlimits)
			show_rlimit(f, &n->setup.rlimits[k->arg]);
		break;
	case SH_ARGV:
		show_argv(f, *(char *const *const *)at);
		break;
	case SH_PATHS:
		show_paths(f, conf_monitors(n));
		break;
	}
}

static bool conf_bit(const uint64_t *bits, size_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

/* The keys a line shows: those read in the node's section; a pool's worker
 * keys are its members' (the pool's line has its own in its head). */
static const uint64_t *conf_line_keys(const struct conf_node *n)
{
	static const uint64_t none[2];

	if (n->is_pool)
		return none;
	if (n->parent && n->parent->is_pool)
		return n->parent->keys_read;
	return n->keys_read;
}

/* The keys read that the head (conf_print_head) has not said, in the
 * table's order, then env (its own and what it inherits), then command:
 * last, since its words run to the end of the line. */
static void conf_print_tail(FILE *f, const struct conf_node *n, const bool *said)
{
	const uint64_t *bits = conf_line_keys(n);

	for (size_t i = 0; i < conf_nkeys; i++) {
		const struct conf_key *k = &conf_keys[i];
		const struct conf_show *sh = conf_show_of(k->name);

		if (!sh || said[i] || !conf_bit(bits, i))
			continue;
		if (n->parent && n->parent->is_pool &&
		    (!strcmp(k->name, "instances") || !strcmp(k->name, "intensity") ||
		     !strcmp(k->name, "period")))
			continue;
		fprintf(f, " %s=", k->name);
		show_value(f, n, k, sh);
	}
	for (char **e = n->is_pool ? NULL : n->setup.env; e && *e; e++) {
		fputs(" env=", f);
		conf_print_word(f, *e);
	}
	if (!n->is_sup && n->argv) {
		fputs(" command=", f);
		for (char **a = n->argv; *a; a++) {
			if (a != n->argv)
				fputc(' ', f);
			conf_print_word(f, *a);
		}
	}
}

/* Marks key NAME as said by the head. */
static void conf_said(bool *said, const char *name)
{
	int i = conf_key_index(name);

	if (i >= 0)
		said[i] = true;
}

/* A node's main keys, always there so that a line reads like its section
 * (defaults left out where they are the rule), then conf_print_tail. */
static void conf_print_line(FILE *f, const struct conf_node *n)
{
	bool said[CONF_NKEYS_MAX] = { false };

	if (n->is_pool)
		fprintf(f, "pool instances=%d", n->instances);
	else if (n->is_sup)
		fprintf(f, "supervisor strategy=%s", conf_strategy_names[n->strategy]);
	else
		fprintf(f, "worker restart=%s", conf_restart_names[n->restart]);
	conf_said(said, n->is_sup ? "strategy" : "restart");
	if (n->is_sup) {
		fprintf(f, " intensity=%d period=", n->intensity);
		conf_print_seconds(f, n->period_ms);
		conf_said(said, "intensity");
		conf_said(said, "period");
		if (n->auto_shutdown != AUTO_NEVER) {
			fprintf(f, " auto_shutdown=%s", conf_auto_names[n->auto_shutdown]);
			conf_said(said, "auto_shutdown");
		}
		if (!n->is_pool && n->parent && n->restart != RESTART_PERMANENT) {
			fprintf(f, " restart=%s", conf_restart_names[n->restart]);
			conf_said(said, "restart");
		}
	}
	if (n->significant) {
		fputs(" significant=yes", f);
		conf_said(said, "significant");
	}
	if (!n->is_sup && n->genserver) {
		fputs(" genserver=yes", f);
		conf_said(said, "genserver");
	}
	if (!n->is_sup && n->setup.has_user) {
		fprintf(f, " user=%s", n->setup.user);
		conf_said(said, "user");
	}
	conf_print_tail(f, n, said);
	fputc('\n', f);
}

/* The [arbor] keys read, on a line of their own before the tree. */
static void conf_print_arbor(FILE *f, const struct conf *c)
{
	bool any = false;

	for (size_t i = 0; i < conf_nkeys; i++)
		any = any || conf_bit(c->keys_read, i);
	if (!any)
		return;
	fputs("arbor:", f);
	if (c->control_socket) {
		fputs(" control_socket=", f);
		conf_print_word(f, c->control_socket);
	}
	if (c->control_group) {
		fputs(" control_group=", f);
		conf_print_word(f, c->control_group);
	}
	if (conf_bit(c->keys_read, (size_t)conf_key_index("log_format")))
		fprintf(f, " log_format=%s", c->log_format == LOG_JSON ? "json" : "text");
	for (char **i = c->includes; i && *i; i++) {
		fputs(" include=", f);
		conf_print_word(f, *i);
	}
	fputc('\n', f);
}

static bool conf_is_last(const struct conf_node *n)
{
	return n->parent->kids[n->parent->nkids - 1] == n;
}

/* The columns left of a node: one per ancestor below the root, a bar where
 * that ancestor has siblings still to come. */
static void conf_print_cols(FILE *f, const struct conf_node *n)
{
	const struct conf_node *up = n->parent;

	if (!up || !up->parent)
		return;
	conf_print_cols(f, up);
	fputs(conf_is_last(up) ? "    " : "\u2502   ", f);
}

static void conf_print_node(FILE *f, const struct conf_node *n,
			    size_t *sups, size_t *workers)
{
	if (n->parent) {
		conf_print_cols(f, n);
		fputs(conf_is_last(n) ? "\u2514\u2500\u2500 " : "\u251c\u2500\u2500 ", f);
		fprintf(f, "%s: ", n->name);
	} else {
		fputs("root: ", f);
	}
	conf_print_line(f, n);
	if (n->is_sup)
		++*sups;
	else
		++*workers;
	for (size_t i = 0; i < n->nkids; i++)
		conf_print_node(f, n->kids[i], sups, workers);
}

/* tree(1)'s drawing, one node a line, then a summary for scripts. */
void conf_print(const struct conf *c, FILE *f)
{
	size_t sups = 0, workers = 0;

	conf_print_arbor(f, c);
	conf_print_node(f, c->root, &sups, &workers);
	fprintf(f, "%s: ok (%zu supervisor%s, %zu worker%s)\n",
		c->file ? c->file : "(no file)", sups, sups == 1 ? "" : "s",
		workers, workers == 1 ? "" : "s");
}
