/* conf_int: what the conf_*.c files share while reading a configuration.
 * Nothing outside init/conf*.c includes this; the rest of arbor sees conf.h. */
#ifndef ARBOR_CONF_INT_H
#define ARBOR_CONF_INT_H

#include <stdarg.h>
#include <stdint.h>
#include "conf.h"

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

/* Errors: the first one wins; each returns -1 so callers can return it. */
int conf_fail(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int conf_fail_plain(struct conf_parser *p, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int conf_fail_node(struct conf_parser *p, const struct conf_node *n, int line,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int conf_bad(struct conf_parser *p, const struct conf_key *k, const char *v,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int conf_nomem(struct conf_parser *p);

/* Values. Each returns false when s is not one. */
bool conf_parse_bool(const char *s, bool *out);
bool conf_parse_long(const char *s, long min, long max, long *out);
bool conf_parse_size(const char *s, unsigned long long max,
		     unsigned long long *out);
bool conf_parse_signal(const char *s, int *out);
bool conf_parse_seconds(const char *s, long *ms);

/* The edit distance used for "did you mean": insertions, deletions,
 * substitutions and swaps of two neighbours each cost one. */
size_t conf_distance(const char *a, const char *b);

/* PATH made absolute against dir ("." and ".." are dropped lexically). */
char *conf_path_join(const char *dir, const char *path);
/* Finds argv[0] as exec would, relative to dir or in $PATH: 0 and *full
 * (allocated), or -1 with *full the path that failed (or NULL when out of
 * memory) and *why what is wrong with it. */
int conf_find_program(const char *prog, const char *dir, char **full,
		      const char **why);
void conf_argv_free(char **argv);
size_t conf_argv_len(char *const *argv);

/* A group by name or number: 0 and *gid, or -1 when there is none. */
int conf_lookup_group(const char *v, gid_t *gid);

/* Worker set-up keys (conf_setup.c). */
int conf_set_user(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_group(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_groups(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_caps(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_rlimit(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_nice(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_oom(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_umask(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_cwd(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_env(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_env_file(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_output(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_nnp(struct conf_parser *p, const struct conf_key *k, const char *v);
int conf_set_clear_env(struct conf_parser *p, const struct conf_key *k, const char *v);
/* At the end of a [worker] section: gid and groups from user/group/groups. */
int conf_setup_finish(struct conf_parser *p);
void conf_setup_free(struct conf_setup *s);

/* Index of a key in conf_keys, or -1. */
int conf_key_index(const char *name);
/* The line where key NAME was set in the current section, or 0. */
int conf_seen(const struct conf_parser *p, const char *name);

/* Tree (conf_tree.c). */
struct conf_node *conf_node_new(bool is_sup);
void conf_node_free(struct conf_node *n);
int conf_node_adopt(struct conf_node *parent, struct conf_node *kid);

#endif
