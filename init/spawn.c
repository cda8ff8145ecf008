/* spawn: fork+exec with an exec-report pipe (skalibs' cspawn, libuv's
 * process.c): the child never returns into arbor's code, it execs or _exits.
 *
 * The fork is clone(CLONE_VM | CLONE_VFORK), as posix_spawn's: the child
 * runs in arbor's memory on a stack of its own until it execs, so that
 * arbor's page tables are not copied for each child (a cost that grows
 * with arbor's memory, hence with its number of children). What the child
 * needs that allocates (its environment) is made before the clone; the
 * child makes only system calls and formats its messages on its stack.
 * A worker that changes its capabilities is forked as before: libcap-ng
 * keeps its state per thread, and resets it in a child only after fork(). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "setup.h"
#include "spawn.h"
#include "reap.h"

#define CHILD_STACK (64 * 1024)

/* AddressSanitizer cannot follow a child that runs on arbor's memory on a
 * stack it does not know: a sanitized build forks. */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_FORK 1
#else
#define SPAWN_FORK 0
#endif

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static struct rlimit nofile_at_start;
static bool nofile_saved;
static sigset_t mask_at_start;
static uint64_t ignored_at_start;	/* bit s-1 for signal s */

void spawn_save_limits(void)
{
	nofile_saved = getrlimit(RLIMIT_NOFILE, &nofile_at_start) == 0;
}

/* The kernel's own sigaction, for a handler of SIG_DFL or SIG_IGN: glibc
 * refuses to touch its two real-time signals (32, 33), but one ignored by
 * arbor's parent must still be seen and handed on. */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

static int ksigaction(int sig, void (*handler)(int))
{
	struct ksigaction sa = { .handler = (void *)handler };

	return (int)syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof(sa.mask));
}

static bool kignored(int sig)
{
	struct ksigaction was;

	return syscall(SYS_rt_sigaction, sig, NULL, &was, sizeof(was.mask)) == 0 &&
	       was.handler == (void *)SIG_IGN;
}

void spawn_save_signals(void)
{
	sigset_t all, was;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &was);	/* no default action while we look */
	mask_at_start = was;
	for (int s = 1; s < NSIG && s <= 64; s++) {
		if (kignored(s)) {
			ignored_at_start |= 1ULL << (s - 1);
			ksigaction(s, SIG_DFL);
		}
	}
	sigprocmask(SIG_SETMASK, &was, NULL);
}

/* The signals whose disposition in this process is not SIG_DFL (bit s-1
 * for signal s), read once: arbor installs no handler and sets what it
 * ignores before it starts any child, so a child resets only those instead
 * of all 64. */
static uint64_t not_default(void)
{
	static uint64_t mask;
	static bool known;

	if (!known) {
		for (int s = 1; s < NSIG && s <= 64; s++) {
			struct ksigaction was;

			if (syscall(SYS_rt_sigaction, s, NULL, &was, sizeof(was.mask)) == 0 &&
			    was.handler != (void *)SIG_DFL)
				mask |= 1ULL << (s - 1);
		}
		known = true;
	}
	return mask;
}

static void reset_signals(uint64_t which)
{
	sigset_t none;

	for (int s = 1; s < NSIG && s <= 64; s++)
		if (which & (1ULL << (s - 1)))
			ksigaction(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void spawn_reset_signals(void)
{
	reset_signals(not_default());
}

/* What tini's CMD gets: the mask and the ignored signals arbor started with. */
static void inherit_signals(void)
{
	for (int s = 1; s < NSIG && s <= 64; s++)
		if (ignored_at_start & (1ULL << (s - 1)))
			ksigaction(s, SIG_IGN);
	sigprocmask(SIG_SETMASK, &mask_at_start, NULL);
}

/* Reports a failure to the parent and leaves. Nothing here may allocate. */
static void __attribute__((noreturn)) child_fail(int rep, int err, const char *why)
{
	char b[600];
	int n = snprintf(b, sizeof(b), "%d:%s", err, why);

	if (n > 0 && write(rep, b, (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1) < 0)
		_exit(127);
	_exit(err == EACCES || err == ENOEXEC || err == EISDIR ? 126 : 127);
}

/* Moves fd to a number above every target (1-4, and N of fd:N) so the
 * dup2s cannot collide; as low as that, for a small fd limit. */
static int lift(int fd, int above)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, above);
}

static int place(int from, int to)
{
	if (from < 0)
		return 0;
	return dup2(from, to) < 0 ? -1 : 0;
}

/* Everything from 3 up is close-on-exec except the fds this child is given. */
static void seal_fds(const struct spawn_opts *o)
{
	syscall(436 /* close_range */, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
	if (o->genserver) {
		fcntl(3, F_SETFD, 0);
		fcntl(4, F_SETFD, 0);
	}
	if (o->ready_fd >= 0)
		fcntl(o->ready_fd, F_SETFD, 0);
}

/* The relay pipes a worker writes into are its own, as a terminal would be:
 * a worker run as another user can then open /dev/stdout (nginx's
 * access_log /dev/stdout), which is checked against the pipe's owner and
 * mode (0600, arbor's uid until now). */
static int own_pipes(const struct spawn_opts *o)
{
	const struct conf_setup *s = &o->node->setup;
	uid_t u = s->has_user ? s->uid : (uid_t)-1;
	gid_t g = s->has_user || s->has_group ? s->gid : (gid_t)-1;

	if (u == (uid_t)-1 && g == (gid_t)-1)
		return 0;
	if (o->out_fd >= 0 && fchown(o->out_fd, u, g) < 0)
		return -1;
	if (o->err_fd >= 0 && fchown(o->err_fd, u, g) < 0)
		return -1;
	return 0;
}

/* The child's environment, made in the parent; NULL (errno, why) when it
 * cannot be, which the child reports as its own failure. */
static char **child_env(const struct spawn_opts *o, char *why, size_t len)
{
	char **env = NULL, kv[PATH_MAX + 32];

	if (o->node) {
		if (setup_env(&o->node->setup, &env, why, len) < 0)
			return NULL;
	} else {
		return environ;
	}
	if (o->genserver) {
		setup_env_put(&env, "ARBOR_IN_FD=3");
		setup_env_put(&env, "ARBOR_OUT_FD=4");
		setup_env_put(&env, "ARBOR_PROTOCOL=1");
		snprintf(kv, sizeof(kv), "ARBOR_MAX_MESSAGE=%zu", o->max_message);
		setup_env_put(&env, kv);
	}
	snprintf(kv, sizeof(kv), "ARBOR_PATH=%s", o->path);
	setup_env_put(&env, kv);
	if (o->instance) {
		snprintf(kv, sizeof(kv), "ARBOR_TREE=%s", reap_tree());
		setup_env_put(&env, kv);
		snprintf(kv, sizeof(kv), "ARBOR_INSTANCE=%s", o->instance);
		setup_env_put(&env, kv);
	}
	if (o->notify_socket) {
		snprintf(kv, sizeof(kv), "NOTIFY_SOCKET=%s", o->notify_socket);
		setup_env_put(&env, kv);
	}
	if (o->watchdog_ms > 0) {	/* systemd's names: sd_watchdog_enabled() */
		snprintf(kv, sizeof(kv), "WATCHDOG_USEC=%lld", (long long)o->watchdog_ms * 1000);
		setup_env_put(&env, kv);
		/* room for the child's own pid, which only the child knows:
		 * in_child writes it (put_own_pid) */
		setup_env_put(&env, "WATCHDOG_PID=0000000000");
	}
	return env;
}

/* What the child is handed: everything it needs, made before the clone. */
struct child_args {
	const struct spawn_opts *o;
	pid_t parent;
	int rep, gs_in, gs_out, rdy;
	char *const *env;	/* NULL: env_err, env_why */
	int env_err;
	const char *env_why;
	uint64_t signals;	/* the dispositions to reset */
	char *own_pid;		/* WATCHDOG_PID's value in env, or NULL */
};

/* The value of env's NAME=, or NULL. */
static char *env_value(char *const *env, const char *name)
{
	size_t n = strlen(name);

	for (; env && *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

/* Writes the child's pid into the room child_env left (10 digits), with
 * nothing but a system call: the child may share the parent's memory. */
static void put_own_pid(char *at)
{
	char d[16];
	unsigned long v = (unsigned long)getpid();
	size_t n = 0;

	do
		d[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 10);
	while (n)
		*at++ = d[--n];
	*at = '\0';
}

/* Its own process group, and the terminal for a foreground CMD. */
static void child_session(const struct spawn_opts *o)
{
	if (o->own_pgrp)
		setpgid(0, 0);
	if (o->foreground && isatty(STDIN_FILENO)) {
		sigset_t tt;

		sigemptyset(&tt);
		sigaddset(&tt, SIGTTOU);	/* a background group may take the tty */
		sigprocmask(SIG_BLOCK, &tt, NULL);
		tcsetpgrp(STDIN_FILENO, getpgrp());
	}
}

/* The exec, or its failure reported on rep. */
static void __attribute__((noreturn)) child_exec(const struct spawn_opts *o,
						 char *const *env, int rep)
{
	char *const *argv = o->argv ? o->argv : o->node ? o->node->argv : NULL;
	char why[512];
	int e;

	if (!argv || !argv[0])
		child_fail(rep, EINVAL, "no command");
	if (o->search_path)
		execvpe(argv[0], argv, env);
	else
		execve(argv[0], argv, env);
	e = errno;
	snprintf(why, sizeof(why), "%s: %s", argv[0], strerror(e));
	child_fail(rep, e, why);
}

static int __attribute__((noreturn)) in_child(void *arg)
{
	const struct child_args *a = arg;
	const struct spawn_opts *o = a->o;
	pid_t parent = a->parent;
	int rep = a->rep, gs_in = a->gs_in, gs_out = a->gs_out, rdy = a->rdy;
	char why[512] = "";
	int above;

	child_session(o);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);	/* the supervisor died before we could see it */
	reset_signals(a->signals);
	if (o->inherit_signals)
		inherit_signals();

	above = o->ready_fd > 4 ? o->ready_fd + 1 : 5;
	rep = lift(rep, above);
	gs_in = lift(gs_in, above);
	gs_out = lift(gs_out, above);
	rdy = lift(rdy, above);
	if (o->node && own_pipes(o) < 0)
		child_fail(rep, errno, "stdout/stderr: fchown of the relay pipe");
	if (place(o->out_fd, STDOUT_FILENO) < 0 || place(o->err_fd, STDERR_FILENO) < 0 ||
	    place(gs_in, 3) < 0 || place(gs_out, 4) < 0 ||
	    (o->ready_fd >= 0 && place(rdy, o->ready_fd) < 0))
		child_fail(rep, errno, "dup2");
	if (nofile_saved)
		setrlimit(RLIMIT_NOFILE, &nofile_at_start);
	if (!a->env)
		child_fail(rep, a->env_err, a->env_why);
	if (a->own_pid)
		put_own_pid(a->own_pid);
	if (o->node) {
		if (setup_output(&o->node->setup, why, sizeof(why)) < 0 ||
		    setup_apply(&o->node->setup, why, sizeof(why)) < 0)
			child_fail(rep, errno, why);
		/* a change of uid or gid clears the death signal: set it again */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(127);
	}
	if (!o->keep_inherited)
		seal_fds(o);
	child_exec(o, a->env, rep);
}

/* A worker whose start changes its capabilities (see setup.c). */
static bool uses_capng(const struct spawn_opts *o)
{
	const struct conf_setup *s = o->node ? &o->node->setup : NULL;

	return s && (s->has_caps || (s->has_user && s->uid != 0));
}

/* Starts the child: clone(CLONE_VM | CLONE_VFORK) on a stack of its own,
 * returning once it has exec'd or died. fork() for a child that uses
 * libcap-ng. */
static pid_t start_child(struct child_args *a)
{
	static char *stack;
	pid_t pid;

	if (uses_capng(a->o) || SPAWN_FORK) {
		pid = fork();
		if (pid == 0)
			in_child(a);
		return pid;
	}
	if (!stack && !(stack = malloc(CHILD_STACK)))
		return -1;
	return clone(in_child, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, a);
}

int spawn_worker(const struct spawn_opts *o, struct spawn_res *r)
{
	int rep[2], in[2] = { -1, -1 }, out[2] = { -1, -1 }, rdy[2] = { -1, -1 };
	char env_why[512] = "";
	struct child_args a = { .o = o, .parent = getpid(), .signals = not_default() };

	r->failed = "pipe2";
	if (pipe2(rep, O_CLOEXEC) < 0)
		return -1;
	if (o->genserver && (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0))
		goto err_close;
	if (o->ready_fd >= 0 && pipe2(rdy, O_CLOEXEC) < 0)
		goto err_close;
	a.rep = rep[1];
	a.gs_in = in[0];
	a.gs_out = out[1];
	a.rdy = rdy[1];
	a.env = child_env(o, env_why, sizeof(env_why));
	a.env_err = a.env ? 0 : errno;
	a.env_why = env_why;
	if (a.env && a.env != environ && o->watchdog_ms > 0)
		a.own_pid = env_value(a.env, "WATCHDOG_PID");
	r->failed = "fork";
	r->pid = start_child(&a);
	if (a.env && a.env != environ)
		setup_env_free((char **)a.env);
	if (r->pid < 0)
		goto err_close;
	/* both sides after a fork: no race with kill(-pgid); after the clone
	 * the child has done it (and exec'd) already */
	if (o->own_pgrp && uses_capng(o))
		setpgid(r->pid, r->pid);
	close(rep[1]);
	r->exec_fd = rep[0];
	fcntl(r->exec_fd, F_SETFL, O_NONBLOCK);
	r->to_child = in[1];
	r->from_child = out[0];
	r->ready_fd = rdy[0];
	if (in[0] >= 0) {
		close(in[0]);
		close(out[1]);
		fcntl(r->to_child, F_SETFL, O_NONBLOCK);
		fcntl(r->from_child, F_SETFL, O_NONBLOCK);
	}
	if (rdy[1] >= 0) {
		close(rdy[1]);
		fcntl(r->ready_fd, F_SETFL, O_NONBLOCK);
	}
	return 0;

err_close:
	{
		int e = errno;
		int fds[] = { rep[0], rep[1], in[0], in[1], out[0], out[1], rdy[0], rdy[1] };

		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		errno = e;
	}
	return -1;
}

int spawn_exec_result(int exec_fd, int *err, char *why, size_t len)
{
	char b[600];
	ssize_t n = read(exec_fd, b, sizeof(b) - 1);
	char *colon;

	if (n < 0)
		return errno == EAGAIN ? -1 : 0;
	if (n == 0)
		return 0;
	b[n] = '\0';
	*err = atoi(b);
	colon = strchr(b, ':');
	snprintf(why, len, "%s", colon ? colon + 1 : b);
	return 1;
}
