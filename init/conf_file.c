/* conf_file: the files of a configuration, read in order. The top file,
 * then what each include = line matches, each file through inih with our
 * own line reader (which counts lines, so every error can name FILE:LINE);
 * what each line means is conf.c's. Files that anyone may write are
 * refused when run as root. */
#define _GNU_SOURCE
#include <errno.h>
#include <glob.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"

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
	struct conf_parser p = { .err = err, .keys = conf_keys, .nkeys = conf_nkeys };
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
	if (conf_read_file(&p, file, 0) == 0 && conf_check_deferred(&p) == 0) {
		r = conf_inherit_env(p.c);
		if (r < 0)
			conf_nomem(&p);
	}
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
