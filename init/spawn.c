/* spawn: fork+exec with an exec-report pipe (skalibs' cspawn, libuv's
 * process.c): the child never returns into arbor's code, it execs or _exits. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "setup.h"
#include "spawn.h"
#include "reap.h"

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

void spawn_reset_signals(void)
{
	sigset_t none;

	for (int s = 1; s < NSIG; s++)
		ksigaction(s, SIG_DFL);	/* fails harmlessly for KILL/STOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
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

static char *const *child_env(const struct spawn_opts *o, int rep)
{
	char **env = NULL, kv[PATH_MAX + 32];

	if (o->node) {
		char why[512] = "";

		if (setup_env(&o->node->setup, &env, why, sizeof(why)) < 0)
			child_fail(rep, errno, why);
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
		snprintf(kv, sizeof(kv), "WATCHDOG_PID=%d", (int)getpid());
		setup_env_put(&env, kv);
	}
	return env;
}

static void __attribute__((noreturn)) in_child(const struct spawn_opts *o, pid_t parent,
					       int rep, int gs_in, int gs_out, int rdy)
{
	char why[512] = "";
	char *const *argv = o->argv ? o->argv : o->node->argv;
	char *const *env;
	int above;

	if (o->own_pgrp)
		setpgid(0, 0);
	if (o->foreground && isatty(STDIN_FILENO)) {
		sigset_t tt;

		sigemptyset(&tt);
		sigaddset(&tt, SIGTTOU);	/* a background group may take the tty */
		sigprocmask(SIG_BLOCK, &tt, NULL);
		tcsetpgrp(STDIN_FILENO, getpgrp());
	}
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);	/* the supervisor died before we could see it */
	spawn_reset_signals();
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
	env = child_env(o, rep);
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
	if (o->search_path)
		execvpe(argv[0], argv, env);
	else
		execve(argv[0], argv, env);
	{
		int e = errno;

		snprintf(why, sizeof(why), "%s: %s", argv[0], strerror(e));
		child_fail(rep, e, why);
	}
}

int spawn_worker(const struct spawn_opts *o, struct spawn_res *r)
{
	int rep[2], in[2] = { -1, -1 }, out[2] = { -1, -1 }, rdy[2] = { -1, -1 };
	pid_t parent = getpid();

	r->failed = "pipe2";
	if (pipe2(rep, O_CLOEXEC) < 0)
		return -1;
	if (o->genserver && (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0))
		goto err_close;
	if (o->ready_fd >= 0 && pipe2(rdy, O_CLOEXEC) < 0)
		goto err_close;
	r->failed = "fork";
	r->pid = fork();
	if (r->pid < 0)
		goto err_close;
	if (r->pid == 0)
		in_child(o, parent, rep[1], in[0], out[1], rdy[1]);
	if (o->own_pgrp)
		setpgid(r->pid, r->pid);	/* both sides: no race with kill(-pgid) */
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
