/* child: the state machine of one child. See child.h.
 *
 *   stopped/restarting --start--> starting (recovering) --ready--> running
 *   starting, running --stop--> stopping --exit--> stopped
 *   starting, running --exit--> what the owner says (stopped, restarting)
 *   stopped/restarting --wait--> waiting --restart delay--> restarting
 *   waiting --start--> starting (at once: the delay is dropped)
 *   starting (ready = exit) --exit 0--> stopped, and ready
 *
 * Each cell of actions[state][event] is one transition; an empty cell is an
 * event that means nothing in that state and is dropped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "frame.h"
#include "log.h"
#include "relay.h"
#include "spawn.h"

typedef int transition(struct child *c, int arg);

const char *child_state_name(enum child_state st)
{
	static const char *const n[CS_NSTATES] = {
		[CS_STOPPED] = "stopped", [CS_STARTING] = "starting",
		[CS_RECOVERING] = "starting", [CS_RUNNING] = "running",
		[CS_STOPPING] = "stopping", [CS_RESTARTING] = "restarting",
		[CS_WAITING] = "restarting",
	};

	return n[st];
}

#define START_ERR_MAX 512	/* what is kept of why a start failed */

static char start_err_nomem[] = "out of memory";

/* Keeps why the start failed, printf-style, for the log. The buffer is made
 * at the first failure: most children never fail to start. */
static void __attribute__((format(printf, 2, 3)))
start_err(struct child *c, const char *fmt, ...)
{
	va_list ap;

	if (!c->start_err || c->start_err == start_err_nomem)
		c->start_err = malloc(START_ERR_MAX);
	if (!c->start_err) {
		c->start_err = start_err_nomem;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(c->start_err, START_ERR_MAX, fmt, ap);
	va_end(ap);
}

static void start_err_clear(struct child *c)
{
	if (c->start_err != start_err_nomem)
		free(c->start_err);
	c->start_err = NULL;
}

static void set_state(struct child *c, enum child_state st)
{
	if (c->state == st)
		return;
	c->state = st;
	c->ops->changed(c);
}

bool child_alive(const struct child *c)
{
	return c->pid > 0 && (c->state == CS_STARTING || c->state == CS_RECOVERING ||
			      c->state == CS_RUNNING || c->state == CS_STOPPING);
}

void child_kill(struct child *c)
{
	if (c->pid > 0)
		kill(c->kind == CHILD_SUPERVISOR ? c->pid : -c->pid, SIGKILL);
}

static void close_fd(struct child *c, int *fd)
{
	if (*fd >= 0) {
		loop_del_fd(c->loop, *fd);
		close(*fd);
		*fd = -1;
	}
}

static void check_stop(struct child *c);

static void close_fds(struct child *c)
{
	close_fd(c, &c->exec_fd);
	close_fd(c, &c->ready_fd);
	close_fd(c, &c->notify_fd);
	loop_timer_del(c->loop, c->timer);
	c->timer = NULL;
	loop_timer_del(c->loop, c->watchdog);
	c->watchdog = NULL;
	check_stop(c);
}

/* --- the health check: a process of its own every health_interval --- */

/* c's check state, made at its first use: most workers have no health
 * check. NULL on ENOMEM. */
static struct child_check *check_of(struct child *c)
{
	if (!c->check) {
		c->check = calloc(1, sizeof(*c->check));
		if (!c->check)
			return NULL;
		c->check->who = WHO_CHECK;
		c->check->c = c;
	}
	return c->check;
}

static void set_health(struct child *c, enum child_health st, int failures)
{
	if (c->check->state == st && c->check->failures == failures)
		return;
	c->check->state = st;
	c->check->failures = failures;
	c->ops->health(c);
}

static void on_check_timer(struct loop *l, void *data);

static void check_arm(struct child *c, long ms)
{
	c->check->timer = loop_timer_add(c->loop, ms, on_check_timer, c);
	if (!c->check->timer)
		log_msg("cannot arm the health check of %s: %s", c->path, strerror(errno));
}

/* The check runs as the worker would (user, env, cwd, outputs), in a
 * process group of its own, with the worker's ARBOR_INSTANCE: a sweep after
 * the worker's death takes it too. Its exit comes back by the reap map.
 * Its outputs go where the worker's go: relayed, or into its file:. */
static int check_spawn(struct child *c)
{
	const struct conf_node *n = c->node;
	char inst[CHILD_INSTANCE_MAX];
	struct spawn_opts o = { .node = n, .path = c->path, .argv = n->health.argv,
				.ready_fd = -1, .out_fd = -1, .err_fd = -1,
				.own_pgrp = true, .instance = inst };
	struct spawn_res r;
	int rc = 0;
	char why[256];

	reap_instance(c->instance, inst, sizeof(inst));
	if (relay_outputs(c->loop, c->path, &n->setup, &o.out_fd, &o.err_fd, why,
			  sizeof(why)) < 0) {
		log_msg("health check of %s: %s", c->path, why);
		rc = -1;
	}
	if (rc == 0 && spawn_worker(&o, &r) == 0) {
		close(r.exec_fd);	/* a failed exec is an exit 127: a failure */
		if (reap_add(c->reap, r.pid, c->check) < 0) {
			kill(-r.pid, SIGKILL);
			waitpid(r.pid, NULL, 0);
			rc = -1;
		} else {
			c->check->pid = r.pid;
		}
	} else {
		rc = -1;
	}
	if (o.out_fd >= 0)
		close(o.out_fd);
	if (o.err_fd >= 0)
		close(o.err_fd);
	return rc;
}

/* The interval passed: a check starts, with its timeout; or the timeout
 * passed: the check is killed, and its exit counts as a failure. */
static void on_check_timer(struct loop *l, void *data)
{
	struct child *c = data;

	c->check->timer = NULL;
	if (c->check->pid > 0) {
		c->check->timed_out = true;
		kill(-c->check->pid, SIGKILL);
		return;
	}
	c->check->timed_out = false;
	if (check_spawn(c) < 0) {
		log_msg("health check of %s: cannot start it: %s", c->path, strerror(errno));
		check_arm(c, c->node->health.interval_ms);
		return;
	}
	log_debug("health check of %s pid=%d", c->path, (int)c->check->pid);
	check_arm(c, c->node->health.timeout_ms);
}

/* One check's outcome, as Docker counts them: a success makes it ok; a
 * failure within the start period while it never succeeded is not
 * counted; health_retries failures in a row kill it. */
static void check_done(struct child *c, bool ok)
{
	struct child_check *k = c->check;
	const struct conf_health *h = &c->node->health;

	if (ok) {
		if (k->state != HEALTH_OK)
			log_ev("health", c->path, "state=ok pid=%d", (int)c->pid);
		set_health(c, HEALTH_OK, 0);
	} else if (k->state == HEALTH_STARTING && loop_now_ms() < k->start_until) {
		log_debug("health check of %s failed in its start period", c->path);
	} else {
		if (k->state != HEALTH_FAILING)
			log_ev("health", c->path, "state=failing failures=1 pid=%d", (int)c->pid);
		set_health(c, HEALTH_FAILING, k->failures + 1);
		if (k->failures >= h->retries) {
			child_event(c, CE_HEALTH_FAIL, 0);
			return;
		}
	}
	check_arm(c, h->interval_ms);
}

static void check_reaped(struct child_check *k, int ws)
{
	struct child *c = k->c;
	bool ok = !k->timed_out && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;

	k->pid = 0;
	if (k->dropped) {	/* of an earlier start: a new one may run */
		k->dropped = false;
		if (c->state == CS_RUNNING && !c->doomed && !k->timer && c->node->health.argv)
			check_arm(c, c->node->health.interval_ms);
		return;
	}
	loop_timer_del(c->loop, k->timer);
	k->timer = NULL;
	if (c->state != CS_RUNNING || c->doomed)
		return;		/* its worker is gone or going */
	if (!ok)
		log_debug("health check of %s: %s", c->path,
			  k->timed_out ? "timed out" : log_wstatus(ws));
	check_done(c, ok);
}

void child_reaped(void *who, int ws)
{
	if (*(enum child_who *)who == WHO_CHECK)
		check_reaped(who, ws);
	else
		child_event(who, CE_EXIT, ws);
}

/* From ready: the first check after health_interval, as Docker's. */
static void check_start(struct child *c)
{
	if (!c->node || !c->node->health.argv)
		return;
	if (!check_of(c)) {
		log_msg("cannot arm the health check of %s: %s", c->path, strerror(errno));
		return;
	}
	c->check->start_until = loop_now_ms() + c->node->health.start_period_ms;
	set_health(c, HEALTH_STARTING, 0);
	if (!c->check->timer && c->check->pid == 0)
		check_arm(c, c->node->health.interval_ms);
}

/* No more checks; one still running is killed (and reaped later). */
static void check_stop(struct child *c)
{
	if (!c->check)
		return;
	loop_timer_del(c->loop, c->check->timer);
	c->check->timer = NULL;
	if (c->check->pid > 0) {
		kill(-c->check->pid, SIGKILL);
		c->check->dropped = true;
	}
}

/* --- what the process tells: exec, fd:N, notify --- */

/* Reads the exec report: 1 when it is complete (c->start_err says why exec
 * failed, if it did), 0 when not yet. */
static int exec_report(struct child *c)
{
	int err = 0;
	char why[START_ERR_MAX];
	int r = spawn_exec_result(c->exec_fd, &err, why, sizeof(why));

	if (r < 0)
		return 0;
	close_fd(c, &c->exec_fd);
	if (r == 1 && why[0])
		start_err(c, "%s", why);
	return 1;
}

static void on_exec(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct child *c = data;

	if (exec_report(c) && !c->start_err)
		child_event(c, CE_EXEC_OK, 0);
	/* a failed exec: the exit that follows fails the start */
}

/* fd:N: ready when the child writes a newline (s6's notification-fd); a
 * pipe closed without one never makes it ready. */
static void on_ready_fd(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct child *c = data;
	char b[256];
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0) {
		if (memchr(b, '\n', (size_t)n)) {
			close_fd(c, &c->ready_fd);
			child_event(c, CE_READY, 0);
			return;
		}
	}
	if (n == 0)
		close_fd(c, &c->ready_fd);
}

/* One datagram; -2 when it came from a live process outside the worker's
 * process group (anyone in the network namespace could write to it). */
static ssize_t notify_recv(int fd, char *b, size_t len, pid_t pgid)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} cm;
	struct iovec iov = { b, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *h;
	ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

	if (n < 0)
		return -1;
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_CREDENTIALS) {
			struct ucred uc;

			memcpy(&uc, CMSG_DATA(h), sizeof(uc));
			/* a helper such as systemd-notify may be gone (and reaped)
			 * before this is read: a sender that no longer exists cannot
			 * be checked, and is taken at its word */
			if (uc.pid > 0 && (uc.pid == pgid || getpgid(uc.pid) == pgid ||
					   (getpgid(uc.pid) < 0 && errno == ESRCH)))
				return n;
		}
	}
	return -2;
}

static bool has_line(const char *b, const char *want)
{
	size_t n = strlen(want);

	for (const char *l = b; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		if (!strncmp(l, want, n) && (l[n] == '\n' || !l[n]))
			return true;
	return false;
}

static void on_watchdog(struct loop *l, void *data);

/* The watchdog's next deadline, from now (ready or the last WATCHDOG=1). */
static void watchdog_arm(struct child *c)
{
	loop_timer_del(c->loop, c->watchdog);
	c->watchdog = loop_timer_add(c->loop, c->node->health.watchdog_ms, on_watchdog, c);
	if (!c->watchdog)
		log_msg("cannot arm the watchdog of %s: %s", c->path, strerror(errno));
}

/* notify: ready on a datagram holding the line READY=1 (sd_notify), for a
 * worker with ready = notify; WATCHDOG=1 feeds a watchdog, WATCHDOG=trigger
 * fails it. The socket stays open for the worker's life, as under systemd:
 * other messages (STATUS=, a BARRIER=1 whose fd is dropped, so the sender's
 * barrier returns) are read and ignored, never refused. */
static void on_notify(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct child *c = data;
	char b[4096];
	ssize_t n;

	while ((n = notify_recv(fd, b, sizeof(b) - 1, c->pid)) != -1) {
		if (n < 0)
			continue;	/* not from the worker's group */
		b[n] = '\0';
		if (c->node->ready == READY_NOTIFY && has_line(b, "READY=1"))
			child_event(c, CE_READY, 0);
		if (c->watchdog && has_line(b, "WATCHDOG=1"))
			watchdog_arm(c);
		if (c->state == CS_RUNNING && has_line(b, "WATCHDOG=trigger"))
			child_event(c, CE_WATCHDOG_MISS, 1);
		if (c->notify_fd < 0)
			return;		/* it was reaped meanwhile */
	}
}

static void on_watchdog(struct loop *l, void *data)
{
	struct child *c = data;

	c->watchdog = NULL;
	child_event(c, CE_WATCHDOG_MISS, 0);
}

static void on_start_timeout(struct loop *l, void *data)
{
	struct child *c = data;

	c->timer = NULL;
	child_event(c, CE_START_TIMEOUT, 0);
}

static void on_kill_deadline(struct loop *l, void *data)
{
	struct child *c = data;

	c->timer = NULL;
	child_event(c, CE_KILL_DEADLINE, 0);
}

static void on_restart_delay(struct loop *l, void *data)
{
	struct child *c = data;

	c->timer = NULL;
	child_event(c, CE_RESTART_DELAY, 0);
}

/* --- starting --- */

/* An abstract datagram socket for NOTIFY_SOCKET, one per start. Its name
 * is the kernel's (autobind: bound with no name), unique in the network
 * namespace: arbors in other pid namespaces that share it (containers on
 * the host's network, each arbor pid 1) never choose the same one. */
static int notify_open(char *name, size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	size_t n;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(sa_family_t)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0)
		goto fail;
	n = alen - offsetof(struct sockaddr_un, sun_path);
	if (n < 2 || a.sun_path[0] != '\0' || n >= len) {
		errno = EADDRNOTAVAIL;
		goto fail;
	}
	name[0] = '@';
	memcpy(name + 1, a.sun_path + 1, n - 1);
	name[n] = '\0';
	return fd;
fail:
	close(fd);
	return -1;
}

/* The options of spawn_worker for this child: its relays and notify
 * socket are opened here. 0, or -1 with *what the failed call (NULL:
 * start_err says it all). */
static int worker_opts(struct child *c, struct spawn_opts *o, char *notify, size_t len,
		       const char **what)
{
	const struct conf_node *n = c->node;
	char why[START_ERR_MAX] = "";

	if (c->kind == CHILD_CMD) {
		o->node = NULL;
		o->argv = c->cmd->argv;
		o->search_path = true;
		o->keep_inherited = true;
		o->inherit_signals = true;	/* tini: CMD keeps the mask and ignored signals */
		o->foreground = c->cmd->foreground;
		return 0;
	}
	o->genserver = n->genserver;
	o->max_message = n->max_message;
	if (n->ready == READY_FD)
		o->ready_fd = n->ready_fd;
	*what = NULL;
	if (relay_outputs(c->loop, c->path, &n->setup, &o->out_fd, &o->err_fd, why,
			  sizeof(why)) < 0) {
		if (why[0])
			start_err(c, "%s", why);
		return -1;
	}
	o->watchdog_ms = n->health.watchdog_ms;
	if (n->ready == READY_NOTIFY || n->health.watchdog_ms > 0) {
		*what = "socket";
		c->notify_fd = notify_open(notify, len);
		if (c->notify_fd < 0)
			return -1;
		o->notify_socket = notify;
	}
	return 0;
}

/* Watches what the new process tells: its exec report, its readiness and
 * its frames, and arms the start timeout. */
static int watch(struct child *c, int from_child, int to_child)
{
	const struct conf_node *n = c->node;

	if (reap_add(c->reap, c->pid, c) < 0)
		return -1;
	if (c->exec_fd >= 0 && loop_add_fd(c->loop, c->exec_fd, EPOLLIN, on_exec, c) < 0)
		return -1;
	if (c->ready_fd >= 0 && loop_add_fd(c->loop, c->ready_fd, EPOLLIN, on_ready_fd, c) < 0)
		return -1;
	if (c->notify_fd >= 0 && loop_add_fd(c->loop, c->notify_fd, EPOLLIN, on_notify, c) < 0)
		return -1;
	if (to_child >= 0) {
		c->ln = c->ops->attach(c, from_child, to_child,
				       c->kind == CHILD_SUPERVISOR ? FRAME_MAX_DEFAULT + 4096
				       : n->max_message);
		if (!c->ln)
			return -1;
	}
	if (c->kind == CHILD_WORKER && n->start_timeout_ms != CONF_INFINITY &&
	    n->ready != READY_EXEC) {
		c->timer = loop_timer_add(c->loop, n->start_timeout_ms, on_start_timeout, c);
		if (!c->timer)
			return -1;
	}
	return 0;
}

/* A process that was forked but cannot be watched is killed and waited
 * for at once: nothing of it must be left that arbor does not know. */
static void abandon(struct child *c, int e)
{
	child_kill(c);
	waitpid(c->pid, NULL, 0);
	reap_del(c->reap, c->pid);
	if (c->ln)
		c->ops->detach(c, c->ln, "cannot start");
	c->ln = NULL;
	close_fds(c);
	c->pid = 0;
	start_err(c, "watch %s: %s", c->path, strerror(e));
}

static int start_worker(struct child *c)
{
	char inst[CHILD_INSTANCE_MAX];
	struct spawn_opts o = { .node = c->node, .path = c->path, .ready_fd = -1,
				.out_fd = -1, .err_fd = -1, .own_pgrp = true,
				.instance = inst };
	struct spawn_res r = { .failed = "fork" };
	char notify[64];
	const char *what = "fork";
	int e, rc = worker_opts(c, &o, notify, sizeof(notify), &what);

	reap_instance(c->instance, inst, sizeof(inst));
	if (rc == 0 && spawn_worker(&o, &r) < 0) {
		what = r.failed;
		rc = -1;
	}
	e = errno;
	if (o.out_fd >= 0)
		close(o.out_fd);
	if (o.err_fd >= 0)
		close(o.err_fd);
	if (rc < 0) {
		close_fds(c);
		if (what)
			start_err(c, "%s %s: %s", what, c->path, strerror(e));
		return -1;
	}
	c->pid = r.pid;
	c->exec_fd = r.exec_fd;
	c->ready_fd = r.ready_fd;
	if (watch(c, r.from_child, r.to_child) < 0) {
		if (!c->ln && r.to_child >= 0) {
			close(r.from_child);
			close(r.to_child);
		}
		abandon(c, errno);
		return -1;
	}
	return 0;
}

static int start_nested(struct child *c)
{
	int down[2], up[2];
	pid_t ppid = getpid();

	if (pipe2(down, O_CLOEXEC) < 0)
		goto err;
	if (pipe2(up, O_CLOEXEC) < 0)
		goto err_close_down;
	c->pid = fork();
	if (c->pid < 0)
		goto err_close_up;
	if (c->pid == 0) {
		close(down[1]);
		close(up[0]);
		c->ops->nested_main(c, down[0], up[1], ppid);
		_exit(1);
	}
	close(down[0]);
	close(up[1]);
	fcntl(up[0], F_SETFL, O_NONBLOCK);
	fcntl(down[1], F_SETFL, O_NONBLOCK);
	if (watch(c, up[0], down[1]) < 0) {
		if (!c->ln) {
			close(up[0]);
			close(down[1]);
		}
		abandon(c, errno);
		return -1;
	}
	return 0;

err_close_up:
	close(up[0]);
	close(up[1]);
err_close_down:
	close(down[0]);
	close(down[1]);
err:
	start_err(c, "fork %s: %s", c->path, strerror(errno));
	c->pid = 0;
	return -1;
}

/* --- transitions --- */

static int t_start(struct child *c, int again)
{
	start_err_clear(c);
	c->stop_sig = 0;
	c->pid = 0;
	if (c->node) {
		c->shutdown_ms = c->node->shutdown_ms;
		c->stop_signal = c->node->stop_signal;
	}
	if (c->node && c->node->backoff_ms > 0)
		c->started_ms = loop_now_ms();
	c->instance = reap_new_instance();
	if ((c->kind == CHILD_SUPERVISOR ? start_nested(c) : start_worker(c)) < 0)
		return -1;
	log_debug("starting %s pid=%d", c->path, (int)c->pid);
	set_state(c, again ? CS_RECOVERING : CS_STARTING);
	return 0;
}

/* A start while the restart delay runs: now, and the delay is dropped. */
static int t_start_early(struct child *c, int again)
{
	loop_timer_del(c->loop, c->timer);
	c->timer = NULL;
	return t_start(c, again);
}

static int t_wait(struct child *c, int ms)
{
	c->timer = loop_timer_add(c->loop, ms, on_restart_delay, c);
	if (!c->timer)
		return -1;
	c->restart_at = loop_now_ms() + ms;
	set_state(c, CS_WAITING);
	return 0;
}

static int t_restart_delay(struct child *c, int arg)
{
	set_state(c, CS_RESTARTING);
	c->ops->waited(c);
	return 0;
}

static int t_ready(struct child *c, int arg)
{
	loop_timer_del(c->loop, c->timer);
	c->timer = NULL;
	c->doomed = false;
	set_state(c, CS_RUNNING);
	log_ev("started", c->path, "pid=%d", (int)c->pid);
	if (c->node && c->node->health.watchdog_ms > 0 && c->kind == CHILD_WORKER)
		watchdog_arm(c);
	if (c->kind == CHILD_WORKER)
		check_start(c);
	c->ops->ready(c);
	return 0;
}

/* A worker that hangs: watchdog_signal to its group (SIGCONT too, so a
 * stopped one acts on it), SIGKILL after shutdown. It stays running until
 * it is reaped, so that its exit is a crash its supervisor restarts. */
static void doom(struct child *c)
{
	int sig = c->node->health.watchdog_signal;

	c->doomed = true;
	loop_timer_del(c->loop, c->watchdog);
	c->watchdog = NULL;
	check_stop(c);
	c->ops->health(c);
	kill(-c->pid, c->shutdown_ms == 0 ? SIGKILL : sig);
	if (sig != SIGKILL && sig != SIGCONT)
		kill(-c->pid, SIGCONT);
	if (c->shutdown_ms > 0) {
		loop_timer_del(c->loop, c->timer);
		c->timer = loop_timer_add(c->loop, c->shutdown_ms, on_kill_deadline, c);
		if (!c->timer)
			child_kill(c);
	}
}

/* arg 1: the worker sent WATCHDOG=trigger. */
static int t_watchdog_miss(struct child *c, int trigger)
{
	if (c->doomed)
		return 0;
	log_ev("watchdog", c->path, "pid=%d reason=%s signal=%s", (int)c->pid,
	       trigger ? "trigger" : "timeout", log_signame(c->node->health.watchdog_signal));
	doom(c);
	return 0;
}

static int t_health_fail(struct child *c, int arg)
{
	if (c->doomed)
		return 0;
	log_ev("health", c->path, "state=failing failures=%d pid=%d signal=%s", c->check->failures,
	       (int)c->pid, log_signame(c->node->health.watchdog_signal));
	doom(c);
	return 0;
}

/* exec worked: a child ready at exec is ready; the others wait for their
 * readiness condition, which may even have come first. */
static int t_exec_ok(struct child *c, int arg)
{
	if (c->kind == CHILD_CMD || !c->node || c->node->ready == READY_EXEC)
		return t_ready(c, arg);
	return 0;
}

static int t_start_timeout(struct child *c, int arg)
{
	start_err(c, "not ready within start_timeout = %ld ms", c->node->start_timeout_ms);
	child_kill(c);
	return 0;
}

/* Sends the stop signal to the worker's whole group (the CMD's own pid
 * unless -g), SIGCONT so a stopped process can act on it (not to the CMD:
 * tini sends none), and arms the SIGKILL deadline. */
static int t_stop(struct child *c, int arg)
{
	long ms = c->shutdown_ms;
	int sig = c->stop_sig ? c->stop_sig : c->stop_signal;
	pid_t target = c->kind == CHILD_SUPERVISOR ||
		       (c->kind == CHILD_CMD && !c->cmd->group) ? c->pid : -c->pid;

	c->stop_sig = ms == 0 ? SIGKILL : sig;
	loop_timer_del(c->loop, c->timer);
	c->timer = NULL;
	loop_timer_del(c->loop, c->watchdog);
	c->watchdog = NULL;
	check_stop(c);
	set_state(c, CS_STOPPING);
	kill(target, c->stop_sig);
	if (c->stop_sig != SIGKILL && c->stop_sig != SIGCONT && c->kind != CHILD_CMD)
		kill(target, SIGCONT);
	if (ms > 0) {
		c->timer = loop_timer_add(c->loop, ms, on_kill_deadline, c);
		if (!c->timer) {
			log_msg("cannot arm the kill deadline of %s: %s: killing it now",
				c->path, strerror(errno));
			child_kill(c);
		}
	}
	return 0;
}

static int t_kill_deadline(struct child *c, int arg)
{
	log_ev("killing", c->path, "pid=%d reason=shutdown_timeout", (int)c->pid);
	child_kill(c);
	return 0;
}

/* What a dead child leaves is killed: a worker's group (the rest, found by
 * its environment, by the owner's sweep of adopted processes), a nested
 * supervisor's session and whatever of its subtree left that. */
static void clean_up_after(struct child *c)
{
	if (c->kind == CHILD_SUPERVISOR) {
		reap_kill_session(c->pid);
		reap_kill_path(c->path);
	} else if (c->kind == CHILD_WORKER || c->cmd->group) {
		kill(-c->pid, SIGKILL);
	}
}

/* A one-shot job (ready = exit) that exited with status 0 is ready, and
 * done: it has no process left to watch. */
static bool job_done(const struct child *c, enum child_state was, int ws)
{
	return c->kind == CHILD_WORKER && c->node && c->node->ready == READY_EXIT &&
	       (was == CS_STARTING || was == CS_RECOVERING) && !c->start_err &&
	       WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
}

static int t_exit(struct child *c, int ws)
{
	enum child_state was = c->state;
	char why[96];

	if (c->exec_fd >= 0)	/* its exec report is complete: it has exited */
		exec_report(c);
	clean_up_after(c);
	close_fds(c);
	if (c->ln) {
		if (c->kind == CHILD_SUPERVISOR)
			snprintf(why, sizeof(why), "supervisor exited");
		else if (WIFSIGNALED(ws))
			snprintf(why, sizeof(why), "worker exited: killed by %s",
				 log_signame(WTERMSIG(ws)));
		else
			snprintf(why, sizeof(why), "worker exited: exit status %d",
				 WEXITSTATUS(ws));
		c->ops->detach(c, c->ln, why);
		c->ln = NULL;
	}
	log_ev(was == CS_STOPPING ? "stopped" : "exited", c->path, "pid=%d %s", (int)c->pid,
	       log_wstatus(ws));
	c->pid = 0;
	c->ws = ws;
	if ((c->check && c->check->state != HEALTH_NONE) || c->doomed) {
		bool checked = c->node && c->node->health.argv;
		struct child_check *k = checked ? check_of(c) : c->check;

		c->doomed = false;
		if (k) {
			k->state = checked ? HEALTH_STARTING : HEALTH_NONE;
			k->failures = 0;
		}
		c->ops->health(c);
	}
	if (job_done(c, was, ws)) {
		set_state(c, CS_STOPPED);
		c->ops->ready(c);
		return 0;
	}
	set_state(c, c->ops->exited(c, was, ws));
	return 0;
}

static transition *const actions[CS_NSTATES][CE_NEVENTS] = {
	[CS_STOPPED] = {
		[CE_START] = t_start, [CE_WAIT] = t_wait,
	},
	[CS_RESTARTING] = {
		[CE_START] = t_start, [CE_WAIT] = t_wait,
	},
	[CS_WAITING] = {
		[CE_START] = t_start_early, [CE_RESTART_DELAY] = t_restart_delay,
	},
	[CS_STARTING] = {
		[CE_EXEC_OK] = t_exec_ok, [CE_READY] = t_ready, [CE_EXIT] = t_exit,
		[CE_START_TIMEOUT] = t_start_timeout, [CE_STOP] = t_stop,
	},
	[CS_RECOVERING] = {
		[CE_EXEC_OK] = t_exec_ok, [CE_READY] = t_ready, [CE_EXIT] = t_exit,
		[CE_START_TIMEOUT] = t_start_timeout, [CE_STOP] = t_stop,
	},
	[CS_RUNNING] = {
		[CE_EXIT] = t_exit, [CE_STOP] = t_stop, [CE_KILL_DEADLINE] = t_kill_deadline,
		[CE_WATCHDOG_MISS] = t_watchdog_miss, [CE_HEALTH_FAIL] = t_health_fail,
	},
	[CS_STOPPING] = {
		[CE_EXIT] = t_exit, [CE_KILL_DEADLINE] = t_kill_deadline,
	},
};

int child_event(struct child *c, enum child_event ev, int arg)
{
	transition *t = actions[c->state][ev];

	return t ? t(c, arg) : 0;
}

void child_settle(struct child *c, enum child_state st)
{
	if (c->state == CS_WAITING) {
		loop_timer_del(c->loop, c->timer);
		c->timer = NULL;
	}
	if (c->state == CS_STOPPED || c->state == CS_RESTARTING || c->state == CS_WAITING)
		set_state(c, st);
}

struct child *child_new(enum child_kind kind, struct conf_node *n, const char *path,
			const struct child_ops *ops, void *owner, struct loop *l,
			struct reap *r)
{
	struct child *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->kind = kind;
	c->node = n;
	c->path = path;
	c->ops = ops;
	c->owner = owner;
	c->loop = l;
	c->reap = r;
	c->exec_fd = c->ready_fd = c->notify_fd = -1;
	c->who = WHO_CHILD;
	return c;
}

void child_free(struct child *c)
{
	if (!c)
		return;
	close_fds(c);
	if (c->check && c->check->pid > 0)	/* reaped as an orphan: nothing
						 * points here */
		reap_del(c->reap, c->check->pid);
	free(c->check);
	start_err_clear(c);
	free(c);
}
