/* reap: the pid map, the waitpid loop and the /proc scans. See reap.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "reap.h"

#define ENV_MAX (64 * 1024)	/* what is read of one process's environ */

struct reap {
	struct { pid_t pid; void *who; } *slot;	/* open addressing */
	size_t cap, n;
	bool warn;		/* tini's -w: each orphan reaped is logged */
	int64_t walk_us;	/* what the last reap_all() cost, in us */
	int64_t adopt_us;	/* and the last reap_kill_adopted() */
};

static char tree[48];
static unsigned long seq;

/* --- the map --- */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct reap *reap_new(void)
{
	return calloc(1, sizeof(struct reap));
}

void reap_free(struct reap *r)
{
	if (r)
		free(r->slot);
	free(r);
}

static size_t slot_of(const struct reap *r, pid_t pid)
{
	return ((size_t)pid * 2654435761u) & (r->cap - 1);
}

static void put(struct reap *r, pid_t pid, void *who)
{
	size_t i = slot_of(r, pid);

	while (r->slot[i].pid > 0)
		i = (i + 1) & (r->cap - 1);
	r->slot[i].pid = pid;
	r->slot[i].who = who;
	r->n++;
}

/* The map with cap slots (a power of 2 that holds what it has). */
static int resize(struct reap *r, size_t cap)
{
	struct reap nm = { .cap = cap, .warn = r->warn };

	nm.slot = calloc(nm.cap, sizeof(*nm.slot));
	if (!nm.slot)
		return -1;
	for (size_t i = 0; i < r->cap; i++)
		if (r->slot[i].pid > 0)
			put(&nm, r->slot[i].pid, r->slot[i].who);
	free(r->slot);
	*r = nm;
	return 0;
}

/* Keeps the map at most half full, so that a probe ends soon. */
int reap_reserve(struct reap *r, size_t n)
{
	size_t cap = r->cap ? r->cap : 64;

	while (n * 2 > cap)
		cap *= 2;
	return cap > r->cap ? resize(r, cap) : 0;
}

int reap_add(struct reap *r, pid_t pid, void *who)
{
	if (reap_reserve(r, r->n + 1) < 0)
		return -1;
	put(r, pid, who);
	return 0;
}

void *reap_find(const struct reap *r, pid_t pid)
{
	if (!r->cap)
		return NULL;
	for (size_t i = slot_of(r, pid); r->slot[i].pid; i = (i + 1) & (r->cap - 1))
		if (r->slot[i].pid == pid)
			return r->slot[i].who;
	return NULL;
}

/* Deletes with backward shift, so that lookups need no tombstones. */
void reap_del(struct reap *r, pid_t pid)
{
	size_t i, j, mask = r->cap - 1;

	if (!r->cap)
		return;
	for (i = slot_of(r, pid); r->slot[i].pid != pid; i = (i + 1) & mask)
		if (!r->slot[i].pid)
			return;
	r->slot[i].pid = 0;
	r->n--;
	for (j = (i + 1) & mask; r->slot[j].pid; j = (j + 1) & mask) {
		size_t h = slot_of(r, r->slot[j].pid);

		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			r->slot[i] = r->slot[j];
			r->slot[j].pid = 0;
			i = j;
		}
	}
}

void reap_warn_orphans(struct reap *r, bool warn)
{
	r->warn = warn;
}

static void orphan(const struct reap *r, pid_t pid, int ws)
{
	if (r->warn)
		log_msg("reaped zombie process with pid=%d", (int)pid);
	else
		log_debug("reaped orphan pid=%d %s", (int)pid, log_wstatus(ws));
}

int reap_all(struct reap *r, reap_fn *fn, void *ctx)
{
	int64_t t0 = now_us();
	int ws, n = 0;
	pid_t pid;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		void *who = reap_find(r, pid);

		n++;
		if (!who) {
			orphan(r, pid, ws);
			continue;
		}
		reap_del(r, pid);
		fn(ctx, who, ws);
	}
	r->walk_us = now_us() - t0;
	return n;
}

int reap_sigchld(struct reap *r, pid_t pid, reap_fn *fn, void *ctx)
{
	void *who = r->n > REAP_WALK_MAX ? reap_find(r, pid) : NULL;
	int ws;

	if (!who || waitpid(pid, &ws, WNOHANG) != pid)
		return reap_all(r, fn, ctx);
	reap_del(r, pid);
	fn(ctx, who, ws);
	return 1;
}

/* --- identity --- */

void reap_init_tree(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tree, sizeof(tree), "%d-%lld", (int)getpid(),
		 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

const char *reap_tree(void)
{
	return tree;
}

unsigned long reap_new_instance(void)
{
	return ++seq;
}

void reap_instance(unsigned long n, char *buf, size_t len)
{
	snprintf(buf, len, "%d.%lu", (int)getpid(), n);
}

/* --- /proc --- */

/* What a scan knows of one process, read when first asked for. */
struct proc {
	pid_t pid;
	char *env;		/* NUL-separated, or NULL when unreadable */
	size_t nenv;
	char *buf;		/* ENV_MAX + 1 bytes, shared by a scan */
};

/* The value of NAME in p's environment, or NULL. */
static const char *proc_env(struct proc *p, const char *name)
{
	size_t nl = strlen(name);

	if (!p->env) {
		char path[64];
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/environ", (int)p->pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return NULL;
		n = read(fd, p->buf, ENV_MAX);
		close(fd);
		if (n <= 0)
			return NULL;
		p->buf[n] = '\0';
		p->env = p->buf;
		p->nenv = (size_t)n;
	}
	for (const char *e = p->env; e < p->env + p->nenv; e += strlen(e) + 1)
		if (!strncmp(e, name, nl) && e[nl] == '=')
			return e + nl + 1;
	return NULL;
}

static bool of_tree(struct proc *p)
{
	const char *t = proc_env(p, "ARBOR_TREE");

	return t && !strcmp(t, tree);
}

/* p's session id, or -1. */
static long proc_session(const struct proc *p)
{
	char path[64], b[512], *rp;
	long sess = -1;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	b[n] = '\0';
	rp = strrchr(b, ')');	/* comm may hold spaces */
	if (!rp || sscanf(rp + 2, "%*c %*d %*d %ld", &sess) != 1)
		return -1;
	return sess;
}

typedef bool match_fn(struct proc *p, const void *arg);

/* The one scanner: kills each process of pids[0..n) (or of all /proc when
 * pids is NULL) that match() picks. The number killed, or -1. */
static int scan(const pid_t *pids, size_t n, match_fn *match, const void *arg)
{
	DIR *d = pids ? NULL : opendir("/proc");
	struct proc p = { .buf = malloc(ENV_MAX + 1) };
	pid_t self = getpid();
	int killed = 0;

	if ((!pids && !d) || !p.buf) {
		free(p.buf);
		if (d)
			closedir(d);
		return -1;
	}
	for (size_t i = 0;; i++) {
		struct dirent *e = d ? readdir(d) : NULL;

		if (d ? !e : i >= n)
			break;
		p.pid = d ? (pid_t)atoi(e->d_name) : pids[i];
		p.env = NULL;
		if (p.pid > 1 && p.pid != self && match(&p, arg) && kill(p.pid, SIGKILL) == 0)
			killed++;
	}
	if (d)
		closedir(d);
	free(p.buf);
	return killed;
}

static bool under_path(struct proc *p, const void *arg)
{
	const char *path = arg, *at;
	size_t l = strlen(path);

	if (!of_tree(p))
		return false;
	at = proc_env(p, "ARBOR_PATH");
	return at && (!l || (!strncmp(at, path, l) && (at[l] == '\0' || at[l] == '/')));
}

int reap_kill_path(const char *path)
{
	int n, total = 0;

	/* a process may fork while the pass before it reads /proc */
	for (int pass = 0; pass < 8 && (n = scan(NULL, 0, under_path, path)) > 0; pass++)
		total += n;
	return total;
}

static bool in_session(struct proc *p, const void *arg)
{
	return proc_session(p) == (long)*(const pid_t *)arg;
}

void reap_kill_session(pid_t sid)
{
	scan(NULL, 0, in_session, &sid);
}

struct adopted {
	const struct reap *r;
	bool all;
	reap_keep_fn *keep;
	void *ctx;
};

static bool leftover(struct proc *p, const void *arg)
{
	const struct adopted *a = arg;
	const char *inst;
	bool ours;
	int ws;

	if (reap_find(a->r, p->pid))
		return false;
	if (waitpid(p->pid, &ws, WNOHANG) == p->pid) {
		orphan(a->r, p->pid, ws);
		return false;
	}
	ours = of_tree(p);
	inst = proc_env(p, "ARBOR_INSTANCE");
	if (!(ours || a->all) || (inst && a->keep(a->ctx, inst)))
		return false;
	log_debug("killing leftover pid=%d", (int)p->pid);
	return true;
}

/* This process's children, from /proc/self/task/PID/children: a list of
 * pids, or NULL. The buffer holds about as many as the map in one read:
 * each read() of that file walks the list of children from its start. */
static pid_t *children(size_t hint, size_t *n)
{
	char path[64], *b = NULL, *at, *end;
	size_t len = 0, cap = hint * 8;
	pid_t *pids = NULL;
	ssize_t r = 1;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (r > 0) {
		if (!b || len + 4096 > cap) {
			char *nb = realloc(b, cap = 2 * cap + 8192);

			if (!nb)
				break;
			b = nb;
		}
		r = read(fd, b + len, cap - len - 1);
		if (r > 0)
			len += (size_t)r;
	}
	close(fd);
	if (b)
		pids = malloc((len / 2 + 1) * sizeof(*pids));	/* "N " per pid */
	*n = 0;
	if (pids) {
		b[len] = '\0';
		for (at = b; (pids[*n] = (pid_t)strtol(at, &end, 10)), end != at; at = end)
			++*n;
	}
	free(b);
	return pids;
}

void reap_kill_adopted(struct reap *r, bool all, reap_keep_fn *keep, void *ctx)
{
	struct adopted a = { r, all, keep, ctx };
	int64_t t0 = now_us();
	size_t n;
	pid_t *pids = children(r->n, &n);

	if (pids)
		scan(pids, n, leftover, &a);
	free(pids);
	r->adopt_us = now_us() - t0;
}

int64_t reap_adopt_delay(const struct reap *r)
{
	int64_t ms = (r->walk_us + r->adopt_us) * 50 / 1000;

	return ms > 20 ? ms : 20;
}
