/* reap: the dead and what they leave behind.
 *
 * One map from pid to the child it stands for (finding a child by pid is
 * O(1)); the waitpid loop that empties the zombies a SIGCHLD stands for,
 * or in a big tree a wait for the one pid the SIGCHLD names (a
 * waitpid(-1) makes the kernel walk every child); and every scan of /proc: the processes a dead worker or supervisor left
 * behind are found by their session or by their environment and killed.
 *
 * Every process arbor starts carries ARBOR_TREE (this arbor's identity),
 * ARBOR_PATH and ARBOR_INSTANCE (one start of one worker) in its
 * environment, and so does everything it forks: a leftover that left its
 * process group or session is still known as ours. */
#ifndef ARBOR_REAP_H
#define ARBOR_REAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct reap;

struct reap *reap_new(void);
void reap_free(struct reap *r);
/* Remembers that pid is who's. 0, or -1 (ENOMEM). */
int reap_add(struct reap *r, pid_t pid, void *who);
/* Makes room for n pids in all at once: a map grown one child at a time
 * leaves each smaller table behind in the heap. 0, or -1 (ENOMEM). */
int reap_reserve(struct reap *r, size_t n);
void reap_del(struct reap *r, pid_t pid);
void *reap_find(const struct reap *r, pid_t pid);

/* Called for each reaped pid that was in the map (already removed). */
typedef void reap_fn(void *ctx, void *who, int ws);
/* Reaps until no zombie is left (a SIGCHLD may stand for many deaths); a
 * pid not in the map is an orphan, reaped and logged. The number reaped. */
int reap_all(struct reap *r, reap_fn *fn, void *ctx);
/* Reaps what a SIGCHLD from pid tells of: in a tree of more than
 * REAP_WALK_MAX children, pid alone if it is one of them and dead (the
 * deaths the same SIGCHLD stood for are left to the reap_all() that runs
 * with reap_kill_adopted()); else as reap_all(). The number reaped. */
#define REAP_WALK_MAX 64
int reap_sigchld(struct reap *r, pid_t pid, reap_fn *fn, void *ctx);
/* tini's -w: each orphan reaped is logged ("reaped zombie process with
 * pid=N") rather than only with -v. */
void reap_warn_orphans(struct reap *r, bool warn);

/* This arbor's identity, made once by the root ("PID-BOOTMS"). */
void reap_init_tree(void);
const char *reap_tree(void);
/* A fresh ARBOR_INSTANCE for one start: a number, written by
 * reap_instance() ("PID.N", PID this process's). */
unsigned long reap_new_instance(void);
void reap_instance(unsigned long n, char *buf, size_t len);

/* Kills every process of this tree whose ARBOR_PATH is path or below it;
 * again until a pass finds nothing. The number killed. */
int reap_kill_path(const char *path);
/* Kills every process of session sid (a dead nested supervisor's). */
void reap_kill_session(pid_t sid);
/* Whether a leftover of ARBOR_INSTANCE inst is a live worker's own helper. */
typedef bool reap_keep_fn(void *ctx, const char *inst);
/* Kills the children of this process that the map does not know: those of
 * this tree, or all of them with all, but those keep() keeps; reaps those
 * already dead (an orphan whose SIGCHLD merged with another). */
void reap_kill_adopted(struct reap *r, bool all, reap_keep_fn *keep, void *ctx);
/* How long after deaths to run reap_all() and reap_kill_adopted(), in
 * ms: 20, or more, so that those passes (each O(children)) take at most 2%
 * of the time. */
int64_t reap_adopt_delay(const struct reap *r);

#endif
