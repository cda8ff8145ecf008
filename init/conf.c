/* conf: what each line of an INI file means. [section] headers open and
 * close sections (nodes of the tree, whose parent must come first: file
 * order is start order), and KEY = VALUE lines go to the key's setter in
 * conf_table.c. Sections are closed as the next one begins: that is where
 * keys that depend on each other are checked. The first error stops the
 * load. conf_file.c feeds the lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* The KW_* bit of the keys a section takes. */
static unsigned conf_sec_mask(enum conf_sec kind)
{
	switch (kind) {
	case SEC_ARBOR:
		return KW_ARBOR;
	case SEC_ROOT:
		return KW_ROOT;
	case SEC_SUP:
		return KW_SUP;
	case SEC_WORKER:
		return KW_WORKER;
	default:
		return 0;
	}
}

/* A key this section does not take: say where it belongs, or what it might
 * have been meant to be. */
static int conf_unknown_key(struct conf_parser *p, const char *name, int idx)
{
	unsigned mask = conf_sec_mask(p->sect.kind);
	const char *words[CONF_NKEYS_MAX], *near;
	size_t n = 0;

	if (idx >= 0) {
		unsigned w = conf_keys[idx].where;

		if (p->sect.kind == SEC_ROOT && (w & KW_SUP))
			return conf_fail(p, p->f->line, "%s: the root supervisor has no parent (restart, shutdown, stop_signal and significant are for children)",
					 name);
		return conf_fail(p, p->f->line, "%s: not a key of this section (it belongs in %s)",
				 name, w & KW_ARBOR ? "[arbor]" :
				 w & KW_WORKER && !(w & KW_SUPS) ? "[worker PATH]" :
				 w & KW_SUPS && !(w & KW_WORKER) ? "[supervisor PATH]" :
				 "[supervisor PATH] or [worker PATH]");
	}
	for (size_t i = 0; i < conf_nkeys; i++)
		if (conf_keys[i].where & mask)
			words[n++] = conf_keys[i].name;
	near = conf_nearest(name, words, n);
	if (near)
		return conf_fail(p, p->f->line, "unknown key '%s' (did you mean '%s'?)", name, near);
	return conf_fail(p, p->f->line, "unknown key '%s'", name);
}

/* The key's setter gets the value with ${NAME} replaced; errors show the
 * value as written too (conf_bad). */
static int conf_set_expanded(struct conf_parser *p, const struct conf_key *k,
			     const char *raw)
{
	char why[512], *value;
	int r;

	if (conf_expand(raw, &value, why, sizeof(why)) < 0) {
		if (errno == ENOMEM)
			return conf_nomem(p);
		return conf_fail(p, p->f->line, "%s = %s: %s", k->name, raw, why);
	}
	p->raw = raw;
	p->value = value;
	r = k->set(p, k, value);
	p->raw = p->value = NULL;
	free(value);
	if (r == 0) {
		uint64_t *bits = p->sect.node ? p->sect.node->keys_read : p->c->keys_read;
		size_t i = (size_t)(k - conf_keys);

		bits[i / 64] |= 1ULL << (i % 64);
	}
	return r;
}

/* One KEY = VALUE of the current section, its comment gone. */
static int conf_on_value(struct conf_parser *p, const char *name, const char *value)
{
	int idx, *seen;
	int line;

	line = p->f->line;
	if (p->sect.kind == SEC_NONE) {
		conf_fail_plain(p, line, "%s = %s: outside any section (a key goes under [arbor], [supervisor ...] or [worker ...])",
				name, value);
		return 0;
	}
	idx = conf_key_index(name);
	if (idx < 0 || !(conf_keys[idx].where & conf_sec_mask(p->sect.kind))) {
		conf_unknown_key(p, name, idx);
		return 0;
	}
	seen = &p->sect.seen[idx];
	if (*seen && !conf_keys[idx].repeat) {
		conf_fail(p, line, "%s: given twice (first at line %d)", name, *seen);
		return 0;
	}
	/* [arbor] may appear in several files, but says each thing once */
	if (p->sect.kind == SEC_ARBOR && strcmp(name, "include")) {
		if (p->arbor_line[idx]) {
			conf_fail(p, line, "%s: given twice (first at %s:%d)", name,
				  p->arbor_file[idx], p->arbor_line[idx]);
			return 0;
		}
		p->arbor_file[idx] = p->f->name;
		p->arbor_line[idx] = line;
	}
	*seen = line;
	return conf_set_expanded(p, &conf_keys[idx], value) == 0;
}

/* The value without its end-of-line comment, as a new string: a ';' after
 * a blank starts one, except inside the quotes of a command line (which is
 * split as a shell splits words, so "sh -c 'a ; b'" keeps its ';'). */
static char *conf_strip_comment(const char *v, bool shell)
{
	bool blank = false;	/* the last character was a blank, unquoted */
	size_t i, end;
	char q = 0;

	for (i = 0; v[i]; i++) {
		if (q == '\'') {
			if (v[i] == '\'')
				q = 0;
		} else if (shell && v[i] == '\\') {
			if (v[i + 1])
				i++;
			blank = false;
			continue;
		} else if (q == '"') {
			if (v[i] == '"')
				q = 0;
		} else if (shell && (v[i] == '\'' || v[i] == '"')) {
			q = v[i];
		} else if (v[i] == ';' && blank) {
			break;
		}
		blank = !q && (v[i] == ' ' || v[i] == '\t');
	}
	for (end = i; end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'); end--)
		;
	return strndup(v, end);
}

/* inih's handler: one key = value line of the current section. */
int conf_on_key(void *user, const char *section, const char *name,
		       const char *raw)
{
	struct conf_parser *p = user;
	char *value;
	int r;

	(void)section;		/* ours is p->sect: inih truncates long names */
	if (p->failed)
		return 0;
	value = conf_strip_comment(raw, !strcmp(name, "command"));
	if (!value) {
		conf_nomem(p);
		return 0;
	}
	r = conf_on_value(p, name, value);
	free(value);
	return r;
}

/* The parent's auto_shutdown must let a significant child matter, else
 * "significant" would silently mean nothing. */
static int conf_check_significant(struct conf_parser *p, struct conf_node *n,
				  int line)
{
	if (n->parent->auto_shutdown != AUTO_NEVER)
		return 0;
	return conf_fail_node(p, n, line, "significant = yes: the parent %s%s%shas auto_shutdown = never (set any_significant or all_significant there)",
			      *n->parent->path ? "[supervisor " : "",
			      n->parent->path, *n->parent->path ? "] " : "(the root) ");
}

/* Keeps a significant child for conf_check_deferred: the root's section
 * may come later in the file than its children. */
static int conf_defer_significant(struct conf_parser *p, struct conf_node *n,
				  int line)
{
	struct conf_sigref *ns = realloc(p->sigs, (p->nsigs + 1) * sizeof(*ns));

	if (!ns)
		return conf_nomem(p);
	p->sigs = ns;
	ns[p->nsigs].node = n;
	ns[p->nsigs].line = line;
	p->nsigs++;
	return 0;
}

/* Each monitor = path of n and below names a node of the tree. */
static int conf_check_monitors(struct conf_parser *p, const struct conf_node *n)
{
	for (char **m = n->monitor; m && *m; m++) {
		const struct conf_node *t = conf_find(p->c, *m);

		if (!t || !**m)
			return conf_fail_node(p, n, n->monitor_line, "monitor = %s: no such node in the tree (paths are whole paths from the root, as web/db)",
					      *m);
		if (t == n)
			return conf_fail_node(p, n, n->monitor_line, "monitor = %s: a worker cannot monitor itself",
					      *m);
	}
	for (size_t i = 0; i < n->nkids; i++)
		if (!(n->is_pool) && conf_check_monitors(p, n->kids[i]) < 0)
			return -1;
	return 0;
}

/* At the very end, once the root's auto_shutdown is final and every node
 * exists. */
int conf_check_deferred(struct conf_parser *p)
{
	for (size_t i = 0; i < p->nsigs; i++)
		if (conf_check_significant(p, p->sigs[i].node, p->sigs[i].line) < 0)
			return -1;
	return conf_check_monitors(p, p->c->root);
}

/* A [worker P] with instances = N becomes a supervisor of N identical
 * workers P/1..P/N (OTP's simple_one_for_one), made by conf_pool_add as the
 * members started at run time are. The section's restart, shutdown and
 * stop_signal are the members'; the pool itself is a permanent supervisor. */
static int conf_pool_expand(struct conf_parser *p, struct conf_node *pool)
{
	char name[16];

	pool->member_restart = pool->restart;
	pool->member_shutdown_ms = pool->shutdown_ms;
	pool->member_stop_signal = pool->stop_signal;
	pool->is_sup = true;
	pool->is_pool = true;
	pool->strategy = STRAT_ONE_FOR_ONE;
	pool->restart = RESTART_PERMANENT;
	pool->shutdown_ms = CONF_INFINITY;
	pool->stop_signal = SIGTERM;
	for (int i = 1; i <= pool->instances; i++) {
		snprintf(name, sizeof(name), "%d", i);
		if (!conf_pool_add(p->c, pool, name))
			return conf_nomem(p);
	}
	return 0;
}

/* health_interval and the like mean nothing without a check to run. */
static int conf_health_finish(struct conf_parser *p)
{
	static const char *const keys[] = { "health_interval", "health_timeout",
					    "health_retries", "health_start_period" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !p->sect.node->health.argv; i++)
		if (conf_seen(p, keys[i]))
			return conf_fail(p, conf_seen(p, keys[i]), "%s: needs health_command (the check to run)", keys[i]);
	return 0;
}

/* The checks that need the whole [worker] section. */
static int conf_worker_finish(struct conf_parser *p)
{
	struct conf_node *n = p->sect.node;
	int line;

	if (!n->argv)
		return conf_fail(p, p->sect.line, "missing command (the program to run)");
	if (conf_health_finish(p) < 0)
		return -1;
	if (!conf_seen(p, "ready") && n->genserver)
		n->ready = READY_GENSERVER;
	line = conf_seen(p, "ready");
	if (n->ready == READY_GENSERVER && !n->genserver)
		return conf_fail(p, line, "ready = genserver: needs genserver = yes");
	if (n->ready == READY_EXIT && n->genserver)
		return conf_fail(p, line, "ready = exit: a one-shot job cannot be a genserver");
	if (n->monitor && !n->genserver)
		return conf_fail(p, conf_seen(p, "monitor"), "monitor: needs genserver = yes (DOWN and UP come as messages to handle_info)");
	if (n->ready == READY_EXIT && !conf_seen(p, "restart"))
		n->restart = RESTART_TEMPORARY;	/* a one-shot job's default */
	else if (n->ready == READY_EXIT && n->restart == RESTART_PERMANENT)
		return conf_fail(p, conf_seen(p, "restart"), "restart = permanent: a one-shot job (ready = exit at line %d) is never restarted for its own exit (use transient or temporary)",
				 line);
	if (!n->instances) {
		line = conf_seen(p, "intensity");
		if (!line)
			line = conf_seen(p, "period");
		if (line)
			return conf_fail(p, line, "%s: only for a pool (with instances = N)",
					 line == conf_seen(p, "intensity") ? "intensity" : "period");
	} else if (n->significant) {
		return conf_fail(p, conf_seen(p, "significant"),
				 "significant = yes: a pool (instances = %d) cannot be significant",
				 n->instances);
	}
	return conf_setup_finish(p, conf_seen(p, "user"));
}

/* Ends the current section: checks what depends on several keys. */
int conf_section_end(struct conf_parser *p)
{
	struct conf_node *n = p->sect.node;
	int r = 0;

	if (p->sect.kind == SEC_WORKER)
		r = conf_worker_finish(p);
	if (!r && n && n->restart_delay_max_ms >= 0 &&
	    n->restart_delay_max_ms < n->restart_delay_ms)
		r = conf_fail(p, conf_seen(p, "restart_delay_max"), "restart_delay_max = %ld ms: less than restart_delay = %ld ms",
			      n->restart_delay_max_ms, n->restart_delay_ms);
	if (!r && n && n->significant && p->sect.kind != SEC_ROOT) {
		int line = conf_seen(p, "significant");

		if (n->restart == RESTART_PERMANENT)
			r = conf_fail(p, line, "significant = yes: needs restart = transient or temporary (this child is permanent)");
		else if (n->parent->parent)
			r = conf_check_significant(p, n, line);
		else
			r = conf_defer_significant(p, n, line);
	}
	if (!r && n && n->instances)
		r = conf_pool_expand(p, n);
	free(p->sect.pw_name);
	memset(&p->sect, 0, sizeof(p->sect));
	return r;
}

/* Names of [A-Za-z0-9_.@-] (but not "." or "..") joined by single '/'. */
static bool conf_path_ok(const char *path)
{
	const char *c = path;

	for (;;) {
		size_t len = strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				       "0123456789_.@-");

		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += len;
		if (*c == '\0')
			return true;
		if (*c != '/')
			return false;
		c++;
	}
}

/* A new [supervisor PATH] or [worker PATH]: its parent must be a
 * supervisor defined above, since file order is start order. */
static int conf_node_begin(struct conf_parser *p, enum conf_sec kind, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *word = conf_sec_word(kind);
	struct conf_node *parent = p->c->root, *n;
	int line = p->f->line;

	if (!conf_path_ok(path))
		return conf_fail_plain(p, line, "[%s %s]: bad path '%s': expected names of letters, digits, '_', '.', '@' or '-' joined by '/'",
				       word, path, path);
	if (slash) {
		char *ppath = strndup(path, (size_t)(slash - path));

		if (!ppath)
			return conf_nomem(p);
		parent = conf_find(p->c, ppath);
		if (!parent)
			conf_fail_plain(p, line, "[%s %s]: child before its parent: no [supervisor %s] above it",
					word, path, ppath);
		else if (parent->is_pool)
			conf_fail_plain(p, line, "[%s %s]: parent %s is a pool (instances = %d): its members are %s/1..%s/%d",
					word, path, ppath, parent->instances, ppath, ppath,
					parent->instances);
		else if (!parent->is_sup)
			conf_fail_plain(p, line, "[%s %s]: parent %s is a worker, not a supervisor",
					word, path, ppath);
		free(ppath);
		if (p->failed)
			return -1;
	}
	n = conf_find(p->c, path);
	if (n)
		return conf_fail_plain(p, line, "[%s %s]: duplicate path '%s' (first at %s:%d)",
				       word, path, path, n->file, n->line);
	n = conf_node_new(kind == SEC_SUP);
	if (!n)
		return conf_nomem(p);
	n->path = strdup(path);
	n->line = line;
	if (!n->path || conf_node_adopt(parent, n) < 0) {
		conf_node_free(n);
		return conf_nomem(p);
	}
	/* one copy of a file's name for all its sections (see conf_node_free) */
	if (parent->file && !strcmp(parent->file, p->f->name))
		n->file = parent->file;
	else if (!(n->file = strdup(p->f->name)))
		return conf_nomem(p);
	n->name = slash ? n->path + (slash - path) + 1 : n->path;
	p->sect.kind = kind;
	p->sect.node = n;
	p->sect.line = line;
	return 0;
}

/* The root's flags: it exists anyway, so this section may appear once. */
static int conf_root_begin(struct conf_parser *p)
{
	struct conf_node *root = p->c->root;

	if (root->file)
		return conf_fail_plain(p, p->f->line, "duplicate section [supervisor] (first at %s:%d)",
				       root->file, root->line);
	root->file = strdup(p->f->name);
	if (!root->file)
		return conf_nomem(p);
	root->line = p->f->line;
	p->sect.kind = SEC_ROOT;
	p->sect.node = root;
	p->sect.line = root->line;
	return 0;
}

/* "[type path]" with the brackets gone and blanks trimmed. */
static int conf_section_begin(struct conf_parser *p, char *text)
{
	static const char *const types[] = { "arbor", "supervisor", "worker" };
	char *path = text + strcspn(text, " \t");
	const char *near;
	int line = p->f->line;

	if (*path) {
		*path++ = '\0';
		path += strspn(path, " \t");
	}
	if (!strcmp(text, "arbor")) {
		if (*path)
			return conf_fail_plain(p, line, "[arbor %s]: [arbor] takes no path", path);
		p->sect.kind = SEC_ARBOR;
		p->sect.line = line;
		return 0;
	}
	if (!strcmp(text, "supervisor"))
		return *path ? conf_node_begin(p, SEC_SUP, path) : conf_root_begin(p);
	if (!strcmp(text, "worker")) {
		if (!*path)
			return conf_fail_plain(p, line, "[worker] needs a path: [worker NAME]");
		return conf_node_begin(p, SEC_WORKER, path);
	}
	near = conf_nearest(text, types, 3);
	if (near)
		return conf_fail_plain(p, line, "unknown section [%s%s%s] (did you mean [%s%s%s]?)",
				       text, *path ? " " : "", path, near, *path ? " " : "",
				       path);
	return conf_fail_plain(p, line, "unknown section [%s%s%s] (expected [arbor], [supervisor PATH] or [worker PATH])",
			       text, *path ? " " : "", path);
}

/* A line that starts with '[' opens a section. inih sees it too, but does
 * not report sections without keys, and cuts long names. */
static int conf_scan_header(struct conf_parser *p, const char *line)
{
	const char *s = line;
	const char *end, *rest;
	char *text;
	size_t len;
	int r;

	end = strchr(s, ']');
	if (!end)
		return conf_fail_plain(p, p->f->line, "a section header needs a closing ']'");
	rest = end + 1 + strspn(end + 1, " \t\r\n");
	if (*rest && *rest != ';' && *rest != '#')
		return conf_fail_plain(p, p->f->line, "unexpected text after ']': %.*s",
				       (int)strcspn(rest, "\r\n"), rest);
	if (conf_section_end(p) < 0)
		return -1;
	s++;
	s += strspn(s, " \t");
	for (len = (size_t)(end - s); len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'); len--)
		;
	text = strndup(s, len);
	if (!text)
		return conf_nomem(p);
	r = conf_section_begin(p, text);
	free(text);
	return r;
}

/* Sees each line before inih does: headers open sections here, and a line
 * inih would reject is reported now, before any later line's error. */
int conf_scan_line(struct conf_parser *p, const char *line)
{
	const char *s = line + strspn(line, " \t\r\n");

	if (p->f->line == 1 && !strncmp(s, "\xEF\xBB\xBF", 3))
		s += 3;
	if (!*s || *s == ';' || *s == '#')
		return 0;
	if (*s == '[')
		return conf_scan_header(p, s);
	if (!strpbrk(s, "=:"))
		return conf_fail(p, p->f->line, "expected KEY = VALUE, a [section] or a ; comment");
	return 0;
}
