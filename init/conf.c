/* conf: reads INI files (with inih) into the supervision tree.
 *
 * inih splits lines into keys and values; this file follows along line by
 * line (its own reader counts lines and sees [section] headers, even those
 * with no keys), so every error can name FILE:LINE. Sections are closed as
 * the next one begins: that is where keys that depend on each other are
 * checked. The first error stops the load. */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"

/* The word in a section's header, for messages. */
static const char *conf_sec_word(enum conf_sec kind)
{
	switch (kind) {
	case SEC_ARBOR:
		return "arbor";
	case SEC_ROOT:
	case SEC_SUP:
		return "supervisor";
	case SEC_WORKER:
		return "worker";
	default:
		return "";
	}
}

/* Formats "FILE:LINE: [section]: " + the message, once: later errors are
 * consequences of the first. */
static int conf_failv(struct conf_parser *p, const char *file, int line,
		      enum conf_sec kind, const char *path, const char *fmt,
		      va_list ap)
{
	size_t n;

	if (p->failed)
		return -1;
	p->failed = true;
	n = (size_t)snprintf(p->err->msg, sizeof(p->err->msg), "%s:%d: ", file, line);
	if (n < sizeof(p->err->msg) && kind != SEC_NONE)
		n += (size_t)snprintf(p->err->msg + n, sizeof(p->err->msg) - n,
				      "[%s%s%s]: ", conf_sec_word(kind),
				      path && *path ? " " : "", path ? path : "");
	if (n < sizeof(p->err->msg))
		vsnprintf(p->err->msg + n, sizeof(p->err->msg) - n, fmt, ap);
	errno = EINVAL;
	return -1;
}

/* conf_fail names the current section; conf_fail_plain names none (a bad
 * header, before its section exists); conf_fail_node names a node whose
 * section has already ended. */
int conf_fail(struct conf_parser *p, int line, const char *fmt, ...)
{
	const struct conf_node *n = p->sect.node;
	va_list ap;

	va_start(ap, fmt);
	conf_failv(p, p->f->name, line, p->sect.kind, n ? n->path : NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail_plain(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_failv(p, p->f->name, line, SEC_NONE, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail_node(struct conf_parser *p, const struct conf_node *n, int line,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_failv(p, n->file, line, n->is_sup ? SEC_SUP : SEC_WORKER, n->path, fmt, ap);
	va_end(ap);
	return -1;
}

/* "FILE:LINE: [worker x]: key = value: what was expected". */
int conf_bad(struct conf_parser *p, const struct conf_key *k, const char *v,
	     const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return conf_fail(p, p->f->line, "%s = %s: %s", k->name, v, what);
}

int conf_nomem(struct conf_parser *p)
{
	if (p->f) {
		conf_fail_plain(p, p->f->line, "%s", strerror(ENOMEM));
	} else if (!p->failed) {
		snprintf(p->err->msg, sizeof(p->err->msg), "%s: %s", p->c->file,
			 strerror(ENOMEM));
		p->failed = true;
	}
	errno = ENOMEM;
	return -1;
}

/* The nearest word to s in words (by conf_distance), if near enough to be a
 * typo: at most 2 edits, and fewer than the word has letters. */
static const char *conf_nearest(const char *s, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t bd = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t d = conf_distance(s, words[i]);

		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	if (!best || bd > 2 || bd >= strlen(s))
		return NULL;
	return best;
}

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
	return conf_keys[idx].set(p, &conf_keys[idx], value) == 0;
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
static int conf_on_key(void *user, const char *section, const char *name,
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

/* At the very end, once the root's auto_shutdown is final. */
static int conf_check_deferred(struct conf_parser *p)
{
	for (size_t i = 0; i < p->nsigs; i++)
		if (conf_check_significant(p, p->sigs[i].node, p->sigs[i].line) < 0)
			return -1;
	return 0;
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

/* The checks that need the whole [worker] section. */
static int conf_worker_finish(struct conf_parser *p)
{
	struct conf_node *n = p->sect.node;
	int line;

	if (!n->argv)
		return conf_fail(p, p->sect.line, "missing command (the program to run)");
	if (!conf_seen(p, "ready") && n->genserver)
		n->ready = READY_GENSERVER;
	line = conf_seen(p, "ready");
	if (n->ready == READY_GENSERVER && !n->genserver)
		return conf_fail(p, line, "ready = genserver: needs genserver = yes");
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
	return conf_setup_finish(p);
}

/* Ends the current section: checks what depends on several keys. */
static int conf_section_end(struct conf_parser *p)
{
	struct conf_node *n = p->sect.node;
	int r = 0;

	if (p->sect.kind == SEC_WORKER)
		r = conf_worker_finish(p);
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
	n->file = strdup(p->f->name);
	n->line = line;
	if (!n->path || !n->file || conf_node_adopt(parent, n) < 0) {
		conf_node_free(n);
		return conf_nomem(p);
	}
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
static int conf_scan_line(struct conf_parser *p, const char *line)
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

/* inih's reader: one physical line per call, so p->f->line is the line
 * whose key the handler gets next. NULL (end) once an error is found. */
static char *conf_reader(char *str, int num, void *stream)
{
	struct conf_parser *p = stream;
	ssize_t n;

	if (p->failed)
		return NULL;
	n = getline(&p->buf, &p->cap, p->f->fp);
	if (n < 0)
		return NULL;
	p->f->line++;
	if (n >= num) {
		conf_fail_plain(p, p->f->line, "line longer than %d bytes", num - 2);
		return NULL;
	}
	if (memchr(p->buf, '\0', (size_t)n)) {
		conf_fail_plain(p, p->f->line, "a NUL byte: not a text file");
		return NULL;
	}
	memcpy(str, p->buf, (size_t)n + 1);
	if (conf_scan_line(p, str) < 0)
		return NULL;
	return str;
}

/* Keeps a file name for as long as the load lasts (errors point to it). */
static const char *conf_keep_name(struct conf_parser *p, const char *name)
{
	char **nn = realloc(p->names, (p->nnames + 1) * sizeof(*nn));

	if (!nn)
		return NULL;
	p->names = nn;
	nn[p->nnames] = strdup(name);
	return nn[p->nnames] ? nn[p->nnames++] : NULL;
}

/* The directory of name, absolute (relative paths in the file are relative
 * to it) and as named, glob-escaped (includes are globbed against it). */
static int conf_file_dirs(struct conf_file *f)
{
	const char *slash = strrchr(f->name, '/');
	char *dir;

	if (!slash) {
		f->dir = realpath(".", NULL);
		return f->dir ? 0 : -1;
	}
	dir = strndup(f->name, slash == f->name ? 1 : (size_t)(slash - f->name));
	if (!dir)
		return -1;
	f->dir = realpath(dir, NULL);
	f->gdir = malloc(2 * strlen(dir) + 1);
	if (f->gdir) {
		char *g = f->gdir;

		for (const char *s = dir; *s; s++) {
			if (strchr("*?[]\\", *s))
				*g++ = '\\';
			*g++ = *s;
		}
		*g = '\0';
	}
	free(dir);
	return f->dir && f->gdir ? 0 : -1;
}

static int conf_read_file(struct conf_parser *p, const char *name, int depth);

/* Run by root, a file that anyone may write lets anyone choose what runs
 * as root: refused, for the top file and every include alike. Checked on
 * the open file, so what is checked is what is read. */
static int conf_check_mode(struct conf_parser *p, const char *name, FILE *fp)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (fstat(fileno(fp), &st) < 0) {
		snprintf(p->err->msg, sizeof(p->err->msg), "%s: cannot read: %s", name,
			 strerror(errno));
		p->failed = true;
		return -1;
	}
	if (!(st.st_mode & S_IWOTH))
		return 0;
	snprintf(p->err->msg, sizeof(p->err->msg),
		 "%s: writable by others (mode %04o): refusing to run it as root, since anyone could make arbor run any program as root; run chmod o-w %s",
		 name, (unsigned)(st.st_mode & 07777), name);
	p->failed = true;
	errno = EPERM;
	return -1;
}

/* glob's report of a directory it could not read. A missing directory is
 * not an error: an include that matches nothing is fine. */
static int conf_glob_err(const char *path, int eerrno)
{
	(void)path;
	return eerrno != ENOENT && eerrno != ENOTDIR;
}

/* Reads what one include = line matches, in sorted order. */
static int conf_include(struct conf_parser *p, struct conf_file *f,
			const struct conf_incl *inc)
{
	glob_t g;
	int r;

	p->f = f;		/* errors here are the including file's */
	if (f->depth >= CONF_INCLUDE_DEPTH)
		return conf_fail_plain(p, inc->line, "[arbor]: include = %s: includes nested deeper than %d (does a file include itself?)",
				       inc->value, CONF_INCLUDE_DEPTH);
	r = glob(inc->pattern, 0, conf_glob_err, &g);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r != 0) {
		if (r == GLOB_NOSPACE)
			return conf_nomem(p);
		return conf_fail_plain(p, inc->line, "[arbor]: include = %s: a directory on the way cannot be read",
				       inc->value);
	}
	r = 0;
	for (size_t i = 0; i < g.gl_pathc && r == 0; i++)
		r = conf_read_file(p, g.gl_pathv[i], f->depth + 1);
	globfree(&g);
	return r;
}

/* Frees what conf_read_file opened for one file. */
static void conf_file_close(struct conf_file *f)
{
	if (f->fp)
		fclose(f->fp);
	free(f->dir);
	free(f->gdir);
	for (size_t i = 0; i < f->nincl; i++) {
		free(f->incl[i].pattern);
		free(f->incl[i].value);
	}
	free(f->incl);
}

/* One file, then the files it includes: file order is start order. */
static int conf_read_file(struct conf_parser *p, const char *name, int depth)
{
	struct conf_file f = { .depth = depth };
	struct conf_file *up = p->f;
	int r = -1;

	f.name = conf_keep_name(p, name);
	if (!f.name)
		return conf_nomem(p);
	p->f = &f;
	{
		struct stat st;	/* a FIFO would block the open, /dev/zero never end */

		if (stat(name, &st) == 0 && !S_ISREG(st.st_mode)) {
			snprintf(p->err->msg, sizeof(p->err->msg),
				 "%s: not a regular file: a configuration must be a file", name);
			p->failed = true;
			goto out;
		}
	}
	f.fp = fopen(name, "re");
	if (!f.fp) {
		snprintf(p->err->msg, sizeof(p->err->msg), "%s: cannot read: %s", name,
			 strerror(errno));
		p->failed = true;
		goto out;
	}
	if (conf_check_mode(p, name, f.fp) < 0)
		goto out;
	if (conf_file_dirs(&f) < 0) {
		snprintf(p->err->msg, sizeof(p->err->msg), "%s: cannot resolve its directory: %s",
			 name, strerror(errno));
		p->failed = true;
		goto out;
	}
	errno = 0;
	r = ini_parse_stream(conf_reader, p, conf_on_key, p);
	if (!p->failed && ferror(f.fp)) {
		snprintf(p->err->msg, sizeof(p->err->msg), "%s: cannot read: %s", name,
			 strerror(errno ? errno : EIO));
		p->failed = true;
	} else if (!p->failed && r > 0) {
		conf_fail_plain(p, r, "expected KEY = VALUE, a [section] or a ; comment");
	} else if (!p->failed && r < 0) {
		conf_nomem(p);
	}
	r = -1;
	if (p->failed || conf_section_end(p) < 0)
		goto out;
	fclose(f.fp);
	f.fp = NULL;
	for (size_t i = 0; i < f.nincl; i++) {
		if (conf_include(p, &f, &f.incl[i]) < 0)
			goto out;
	}
	r = 0;
out:
	conf_file_close(&f);
	p->f = up;
	return r;
}

/* inih's knobs are process-wide in Debian's build: long lines (up to
 * CONF_LINE_MAX) in one piece, and no continuation lines (an indented
 * key is a key, not a piece of the previous value). */
struct conf_ini_knobs {
	bool use_stack, allow_realloc, allow_multiline, inline_comments;
	int max_line, initial_alloc;
};

static void conf_ini_set(struct conf_ini_knobs *old)
{
	old->use_stack = ini_use_stack;
	old->allow_realloc = ini_allow_realloc;
	old->allow_multiline = ini_allow_multiline;
	old->max_line = ini_max_line;
	old->initial_alloc = ini_initial_alloc;
	old->inline_comments = ini_allow_inline_comments;
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_allow_inline_comments = false;	/* conf_strip_comment's job */
	ini_allow_multiline = false;
	ini_max_line = CONF_LINE_MAX;
	ini_initial_alloc = CONF_LINE_MAX;
}

static void conf_ini_restore(const struct conf_ini_knobs *old)
{
	ini_use_stack = old->use_stack;
	ini_allow_inline_comments = old->inline_comments;
	ini_allow_realloc = old->allow_realloc;
	ini_allow_multiline = old->allow_multiline;
	ini_max_line = old->max_line;
	ini_initial_alloc = old->initial_alloc;
}

int conf_load(const char *file, struct conf **out, struct conf_err *err)
{
	struct conf_parser p = { .err = err };
	struct conf_ini_knobs knobs;
	int r = -1;

	*out = NULL;
	err->msg[0] = '\0';
	p.c = conf_empty();
	if (!p.c || !(p.c->file = strdup(file))) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s", file, strerror(ENOMEM));
		conf_free(p.c);
		errno = ENOMEM;
		return -1;
	}
	conf_ini_set(&knobs);
	if (conf_read_file(&p, file, 0) == 0 && conf_check_deferred(&p) == 0)
		r = 0;
	conf_ini_restore(&knobs);
	free(p.sect.pw_name);
	free(p.buf);
	free(p.sigs);
	for (size_t i = 0; i < p.nnames; i++)
		free(p.names[i]);
	free(p.names);
	if (r < 0) {
		conf_free(p.c);
		errno = errno == ENOMEM ? ENOMEM : EINVAL;
		return -1;
	}
	*out = p.c;
	return 0;
}
