/* conf: the supervision tree as read from INI files (inih), validated.
 *
 * conf_load() reads FILE and its includes into a tree of conf_node, in file
 * order, with ${NAME} in values taken from the environment, and validates
 * every key before anything starts. On a user error it
 * returns -1 and fills err->msg with "FILE:LINE: [section]: key = value:
 * expected ..." (plus "did you mean 'x'?" for a misspelt key). */
#ifndef ARBOR_CONF_H
#define ARBOR_CONF_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

enum conf_strategy { STRAT_ONE_FOR_ONE, STRAT_ONE_FOR_ALL, STRAT_REST_FOR_ONE };
enum conf_restart { RESTART_PERMANENT, RESTART_TRANSIENT, RESTART_TEMPORARY };
enum conf_ready { READY_EXEC, READY_FD, READY_NOTIFY, READY_GENSERVER, READY_EXIT };
enum conf_auto { AUTO_NEVER, AUTO_ANY_SIGNIFICANT, AUTO_ALL_SIGNIFICANT };
enum conf_out { OUT_INHERIT, OUT_PREFIX, OUT_NULL, OUT_FILE };
enum conf_logfmt { LOG_TEXT, LOG_JSON };

#define CONF_INFINITY (-1L)	/* shutdown = infinity */
#define CONF_NLIMITS 16		/* RLIMIT_NLIMITS on Linux */
#define CONF_UNSET ((size_t)-1)	/* a size key not written */

struct conf_rlimit {
	bool set;
	struct rlimit lim;
};

struct conf_output {
	enum conf_out kind;
	char *path;		/* OUT_FILE */
};

/* A worker's process set-up (issue: worker processes). Zero/NULL = unset.
 * The fields are ordered without holes: every worker holds one. */
struct conf_setup {
	char *user;		/* name as written, NULL = run as arbor's uid */
	char *home;		/* the user's home, for HOME */
	uid_t uid;
	gid_t gid;		/* from group =, else the user's primary group */
	gid_t *groups;		/* supplementary groups (groups = or the user's) */
	size_t ngroups;
	int *caps;		/* CAP_* numbers */
	size_t ncaps;
	struct conf_rlimit *rlimits;	/* CONF_NLIMITS of them, by RLIMIT_*;
					 * NULL until one is set */
	int nice;
	int oom_score_adj;
	mode_t umask;
	bool has_user, has_group, has_groups;
	bool has_caps;		/* capabilities = given (possibly empty) */
	bool no_new_privs;
	bool has_nice, has_oom, has_umask;
	bool clear_env;
	char *cwd;
	char **env;		/* "KEY=VALUE", NULL-terminated, env = lines in order */
	char *env_file;		/* read at start: KEY=VALUE lines, # comments */
	struct conf_output out, err;
	/* file: outputs as they apply (see conf_log_rotation) */
	size_t log_max_size;	/* 0: never rotated */
	int log_backups;	/* default 5 */
};

/* A worker's watchdog and health check (0 and NULL: none). */
struct conf_health {
	long watchdog_ms;	/* WATCHDOG=1 at least this often once ready */
	int watchdog_signal;	/* sent on a miss; default SIGABRT */
	int retries;		/* failures in a row that kill it; default 3 */
	char **argv;		/* health_command, split like command (and,
				 * like it, one allocation) */
	long interval_ms;	/* default 10000 */
	long timeout_ms;	/* default 5000 */
	long start_period_ms;	/* failures after ready not counted; default 0 */
};

struct conf_node {
	char *path;		/* "" for the root, "web", "web/endpoint" */
	const char *name;	/* last component of path (points into path) */
	struct conf_node *parent;
	struct conf_node **kids;	/* in file (start) order */
	size_t nkids;
	char *file;		/* where its section begins (its parent's string
				 * when the same file) */
	int line;
	bool is_sup;		/* [supervisor ...] (or a pool, see instances) */
	bool is_pool;		/* a [worker P] with instances = N: a supervisor
				 * whose N children P/1..P/N share its worker keys */
	bool significant;	/* as a child (with restart, shutdown below) */
	bool genserver;		/* as a worker (with ready below) */
	uint64_t keys_read[2];	/* bit i: conf_keys[i] was in its section */

	/* as a child of its parent */
	enum conf_restart restart;	/* default permanent */
	int stop_signal;	/* default SIGTERM */
	long shutdown_ms;	/* 0 = brutal_kill, CONF_INFINITY; default 5000
				 * for workers, infinity for supervisors */
	/* backoff as written in its section, -1 when not: a worker's own, a
	 * supervisor's the default of its children (see conf_backoff) */
	long restart_delay_ms;
	long restart_delay_max_ms;
	/* the backoff of this child as it applies: conf_backoff's answer */
	long backoff_ms;
	long backoff_max_ms;

	/* log_max_size and log_backups as written in its section, CONF_UNSET
	 * and -1 when not: a worker's own, a supervisor's the default of the
	 * workers under it (see conf_log_rotation) */
	size_t log_max_size;
	int log_backups;

	/* as a supervisor */
	enum conf_strategy strategy;	/* default one_for_one */
	int intensity;		/* default 1 */
	enum conf_auto auto_shutdown;	/* default never */
	long period_ms;		/* default 5000 */

	/* as a worker (the fields ordered without holes: most nodes are
	 * workers) */
	enum conf_ready ready;	/* default exec (genserver when genserver = yes) */
	int ready_fd;		/* READY_FD: N of fd:N */
	char **argv;		/* command split like a shell, NULL-terminated;
				 * one allocation (conf_argv_pack) */
	long start_timeout_ms;	/* default 30000; CONF_INFINITY = none */
	size_t max_message;	/* default 1 MiB */
	int instances;		/* 0 = not a pool; a pool's N as configured
				 * (conf_pool_add does not change it) */
	int monitor_line;	/* of monitor = */
	struct conf_setup setup;
	struct conf_health health;
	char **monitor;		/* monitor = PATH...: the nodes it watches,
				 * NULL-terminated; NULL: none (see
				 * conf_monitors()) */

	/* as a pool: what each member is as a child (the section's restart,
	 * shutdown and stop_signal; the pool's own are a supervisor's) */
	enum conf_restart member_restart;
	int member_stop_signal;
	long member_shutdown_ms;
};

struct conf {
	char *file;		/* the top file as given */
	char *control_socket;	/* NULL: $ARBOR_SOCKET, else /run/arbor.sock */
	char *control_group;	/* NULL or a group name */
	gid_t control_gid;
	enum conf_logfmt log_format;
	char **includes;	/* include = values, in order, NULL-terminated */
	uint64_t keys_read[2];	/* bit i: conf_keys[i] was in an [arbor] section */
	struct conf_node *root;	/* always present */
};

struct conf_err {
	char msg[2048];
};

/* Reads and validates FILE. 0 and *out, or -1 with err->msg set. */
int conf_load(const char *file, struct conf **out, struct conf_err *err);
/* An empty tree (only the root, OTP defaults), for `arbor -- CMD`. */
struct conf *conf_empty(void);
void conf_free(struct conf *c);
/* The node at PATH ("" is the root), or NULL. */
struct conf_node *conf_find(const struct conf *c, const char *path);
/* Prints the tree as `arbor check` shows it: the [arbor] keys read, then
 * one node a line with every key read in its section, then a summary. */
void conf_print(const struct conf *c, FILE *f);
/* Splits a command line like a POSIX shell splits words (quotes, backslashes),
 * without expansion. 0 and *argv (NULL-terminated), or -1 with a reason. */
int conf_split(const char *line, char ***argv, const char **why);
/* The backoff of n as a child: its own restart_delay (a worker's) or the
 * nearest supervisor's above it that sets one, 0 when none does; its
 * restart_delay_max found the same way, else the delay. A loaded tree
 * has it in each node's backoff_ms and backoff_max_ms already. */
void conf_backoff(const struct conf_node *n, long *delay_ms, long *max_ms);
/* The rotation of n's file: outputs: its own log_max_size (a worker's, or
 * its pool's) or the nearest supervisor's above it, else 0; log_backups
 * found the same way, else 5. A loaded tree has them in setup already. */
void conf_log_rotation(const struct conf_node *n, size_t *max, int *backups);
/* Two nodes' own keys (not their children) are the same: reload's "changed". */
bool conf_node_same(const struct conf_node *a, const struct conf_node *b);
/* Starts a pool member at run time (OTP's start_child on a
 * simple_one_for_one): appends a worker named NAME (a positive integer, which
 * the caller has checked is not taken) to POOL, sharing the pool's worker keys
 * exactly as the members read from the file do; conf_free frees it with the
 * rest. The member, or NULL with errno: ENOMEM, or EINVAL when POOL is not a
 * pool or NAME not a positive integer. POOL->kids may move. */
struct conf_node *conf_pool_add(struct conf *c, struct conf_node *pool, const char *name);
/* The paths n monitors (monitor =): its own, or for a pool member its
 * pool's; NULL when none. */
char *const *conf_monitors(const struct conf_node *n);
/* A pool member's name: "1", "42" (no sign, no leading zero, nothing else). */
bool conf_is_member_name(const char *name);
/* Gives member m its pool's worker keys (restart, shutdown, stop signal,
 * genserver, ready, start_timeout, max_message) and line; not argv and
 * set-up (nor health.argv), which the caller shares as it must. */
void conf_member_keys(struct conf_node *m, const struct conf_node *pool);

#endif
