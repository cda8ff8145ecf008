/* conf_int: what the conf_*.c files share while reading a configuration.
 * Nothing outside init/conf*.c includes this; the rest of arbor sees conf.h.
 *
 * The files are layers; each uses only those below it:
 *   conf_value.c, conf_split.c,  values, command lines and ${NAME}
 *   conf_expand.c                (conf_value.h: no parser state)
 *   conf_tree.c                  nodes: new, free, find, compare, env
 *                                inherited from supervisors
 *   conf_err.c                   the error message of a load, conf_seen
 *   conf_keys.c, conf_setup.c    each key's setter (conf_set.h)
 *   conf_table.c                 the table of keys
 *   conf.c                       what a line means: sections and keys
 *   conf_file.c                  files and includes, conf_load()
 *   conf_print.c                 `arbor check`'s drawing of the tree */
#ifndef ARBOR_CONF_INT_H
#define ARBOR_CONF_INT_H

#include <stdarg.h>
#include <stdint.h>
#include "conf.h"
#include "conf_value.h"

#define CONF_INCLUDE_DEPTH 8	/* files including files, at most */
#define CONF_LINE_MAX 16384	/* bytes in one line of an INI file */
#define CONF_NKEYS_MAX 96	/* room in conf_sect.seen for every key */
#define CONF_INSTANCES_MAX 10000

enum conf_sec { SEC_NONE, SEC_ARBOR, SEC_ROOT, SEC_SUP, SEC_WORKER };

/* An include = line waiting for the end of its file. */
struct conf_incl {
	char *value;		/* as written */
	char *pattern;		/* joined to the including file's directory */
	int line;
};

/* The file being read; its includes are read after it. */
struct conf_file {
	const char *name;	/* as the user named it (owned by the parser) */
	char *dir;		/* its directory, absolute, for relative paths */
	char *gdir;		/* its directory as named, glob-escaped, or NULL */
	FILE *fp;
	int line;
	int depth;
	struct conf_incl *incl;
	size_t nincl;
};

/* The section being read: what a key applies to and what was seen in it. */
struct conf_sect {
	enum conf_sec kind;
	struct conf_node *node;	/* NULL for [arbor] */
	int line;		/* of the [header] */
	int seen[CONF_NKEYS_MAX];	/* line where each key was set, 0 = not */
	bool pw_found;		/* user = has a passwd entry: */
	gid_t pw_gid;		/* its primary group */
	char *pw_name;		/* its name, for getgrouplist */
};

/* A significant child whose parent's auto_shutdown is checked at the end:
 * the root's [supervisor] section may come after its children. */
struct conf_sigref {
	struct conf_node *node;
	int line;
};

struct conf_parser {
	struct conf *c;
	struct conf_err *err;
	bool failed;
	struct conf_file *f;
	struct conf_sect sect;
	char *buf;		/* getline's buffer */
	size_t cap;
	char **names;		/* every file name read, freed at the end */
	size_t nnames;
	const char *arbor_file[CONF_NKEYS_MAX];	/* [arbor] keys are set once */
	int arbor_line[CONF_NKEYS_MAX];
	struct conf_sigref *sigs;
	size_t nsigs;
	const struct conf_key *keys;	/* conf_keys, for conf_seen */
	size_t nkeys;
	const char *raw;	/* the value being set, as written */
	const char *value;	/* and with its ${NAME} replaced */
};

/* One key of a section. where says which sections take it. */
enum {
	KW_ARBOR = 1,
	KW_ROOT = 2,
	KW_SUP = 4,
	KW_WORKER = 8,
	KW_CHILD = KW_SUP | KW_WORKER,
	KW_SUPS = KW_ROOT | KW_SUP,
};

struct conf_key {
	const char *name;
	unsigned where;
	int (*set)(struct conf_parser *p, const struct conf_key *k, const char *v);
	int arg;
	bool repeat;
};

extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;

/* Errors (conf_err.c): the first one wins; each returns -1 so callers can
 * return it. */
int conf_fail(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int conf_fail_plain(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int conf_fail_node(struct conf_parser *p, const struct conf_node *n, int line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int conf_bad(struct conf_parser *p, const struct conf_key *k, const char *v,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int conf_nomem(struct conf_parser *p);
/* The line where key NAME was set in the current section, or 0. */
int conf_seen(const struct conf_parser *p, const char *name);
/* The word in a section's header: "arbor", "supervisor", "worker". */
const char *conf_sec_word(enum conf_sec kind);

/* Tree (conf_tree.c). */
struct conf_node *conf_node_new(bool is_sup);
void conf_node_free(struct conf_node *n);
int conf_node_adopt(struct conf_node *parent, struct conf_node *kid);
void conf_setup_free(struct conf_setup *s);
/* Once the whole tree is read: each worker's env is its supervisors' env =
 * lines, the root's first, each deeper one over them, and its own over all
 * (the same NAME twice: the later wins); each node's backoff is found
 * (conf_backoff). 0, or -1 when out of memory. */
int conf_inherit_env(struct conf *c);

/* A group by name or number: 0 and *gid, or -1 when there is none
 * (conf_keys.c; conf_setup.c uses it too). */
int conf_lookup_group(const char *v, gid_t *gid);
/* At the end of a [worker] section: gid and groups from user/group/groups
 * (conf_setup.c); line is where user = was. */
int conf_setup_finish(struct conf_parser *p, int line);

/* The table of keys (conf_table.c). */
extern const struct conf_key conf_keys[];
extern const size_t conf_nkeys;
/* Index of a key in conf_keys, or -1. */
int conf_key_index(const char *name);

/* What each line means (conf.c), for the file reader (conf_file.c). */
/* Sees each line before inih does: opens sections, rejects what inih would. */
int conf_scan_line(struct conf_parser *p, const char *line);
/* inih's handler: one KEY = VALUE of the current section. */
int conf_on_key(void *user, const char *section, const char *name, const char *raw);
/* Ends the current section (at a header, and at the end of each file). */
int conf_section_end(struct conf_parser *p);
/* At the very end: checks that had to wait for the whole tree. */
int conf_check_deferred(struct conf_parser *p);

#endif
