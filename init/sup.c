/* sup: the supervisor's state machine.
 *
 * Each child moves through stopped -> starting -> running -> stopping ->
 * stopped (or restarting while it waits for a plan). Everything a supervisor
 * does to its children is a plan: a list of stops and starts run one at a
 * time, each waiting for the child to be reaped or to be ready, exactly as an
 * OTP supervisor terminates and starts children one by one. Exits that come
 * while a plan runs wait in a queue, as EXIT messages wait in OTP's mailbox. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "log.h"
#include "relay.h"
#include "spawn.h"
#include "sweep.h"
#include "sup_int.h"

static void plan_run(struct sup *s);
static void plan_next(struct sup *s, int rc, const char *text);
static void decide(struct sup *s, struct child *c, int ws);
static int sup_loop(struct sup *s);

const char *sup_state_name(enum cstate st)
{
	static const char *const n[] = { "stopped", "starting", "running",
					 "stopping", "restarting" };
	return n[st];
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- pid -> child, open addressing: finding a child by pid is O(1). --- */

static size_t pid_slot(const struct pidmap *m, pid_t pid)
{
	return ((size_t)pid * 2654435761u) & (m->cap - 1);
}

static int pid_put(struct pidmap *m, pid_t pid, struct child *c)
{
	if ((m->n + 1) * 2 > m->cap) {
		struct pidmap nm = { .cap = m->cap ? m->cap * 2 : 64 };

		nm.slot = calloc(nm.cap, sizeof(*nm.slot));
		if (!nm.slot)
			return -1;
		for (size_t i = 0; i < m->cap; i++)
			if (m->slot[i].pid > 0)
				pid_put(&nm, m->slot[i].pid, m->slot[i].c);
		free(m->slot);
		*m = nm;
	}
	for (size_t i = pid_slot(m, pid);; i = (i + 1) & (m->cap - 1)) {
		if (m->slot[i].pid <= 0) {
			m->slot[i].pid = pid;
			m->slot[i].c = c;
			m->n++;
			return 0;
		}
	}
}

static struct child *pid_get(struct pidmap *m, pid_t pid)
{
	if (!m->cap)
		return NULL;
	for (size_t i = pid_slot(m, pid); m->slot[i].pid; i = (i + 1) & (m->cap - 1))
		if (m->slot[i].pid == pid)
			return m->slot[i].c;
	return NULL;
}

/* Deletes with backward shift so lookups need no tombstones. */
static void pid_del(struct pidmap *m, pid_t pid)
{
	size_t i, j;

	if (!m->cap)
		return;
	for (i = pid_slot(m, pid); m->slot[i].pid != pid; i = (i + 1) & (m->cap - 1))
		if (!m->slot[i].pid)
			return;
	m->slot[i].pid = 0;
	m->n--;
	for (j = (i + 1) & (m->cap - 1); m->slot[j].pid; j = (j + 1) & (m->cap - 1)) {
		size_t h = pid_slot(m, m->slot[j].pid);

		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			m->slot[i] = m->slot[j];
			m->slot[j].pid = 0;
			i = j;
		}
	}
}

/* --- events --- */

void sup_event(struct sup *s, struct child *c)
{
	if (s->up && !c->is_cmd)
		link_event_up(s, c->path, c->rt);
}

void sup_set_state(struct child *c, enum cstate st)
{
	c->state = st;
	c->rt->state = st;
	c->rt->pid = c->pid;
	if (st == C_RUNNING || st == C_STOPPED)
		c->rt->recovering = false;
	if (st == C_RUNNING)
		c->rt->since = wall_ms();
	sup_event(c->sup, c);
}

static void kill_session(pid_t sid);

/* Marks every node below n as stopped: its supervisor is gone. Whatever is
 * left of the subtree is killed: each worker's group, each nested
 * supervisor's session (a supervisor two levels down was reparented here,
 * so its own parent could not clean up after it). */
static void subtree_down(struct sup *s, struct conf_node *n)
{
	for (size_t i = 0; i < n->nkids; i++) {
		struct rtstat *rt = n->kids[i]->rt;

		if (rt && rt->pid > 0 && rt->state != C_STOPPED) {
			if (n->kids[i]->is_sup) {
				kill(rt->pid, SIGKILL);
				kill_session(rt->pid);
			} else {
				kill(-rt->pid, SIGKILL);
			}
		}
		if (rt && (rt->pid || rt->state != C_STOPPED)) {
			rt->pid = 0;
			rt->state = C_STOPPED;
			rt->giving_up = false;
			rt->recovering = false;
			if (s->up)
				link_event_up(s, n->kids[i]->path, rt);
		}
		subtree_down(s, n->kids[i]);
	}
}

/* --- starting a child --- */

static void child_close_fds(struct child *c)
{
	struct loop *l = c->sup->loop;
	int *fds[] = { &c->exec_fd, &c->ready_fd, &c->notify_fd };

	for (size_t i = 0; i < 3; i++) {
		int fd = *fds[i];

		if (fd >= 0) {
			loop_del_fd(l, fd);
			close(fd);
			*fds[i] = -1;
		}
	}
	loop_timer_del(l, c->timer);
	c->timer = NULL;
}

/* Every readiness condition of the child's kind has been met. */
static void maybe_ready(struct child *c)
{
	const struct conf_node *n = c->node;

	if (c->state != C_STARTING || !c->exec_ok)
		return;
	if (c->is_sup || (n && n->ready == READY_GENSERVER)) {
		if (!c->ln || !c->ln->ready)
			return;
	} else if (n && n->ready == READY_FD) {
		if (c->ready_fd != -1)
			return;	/* -1 once the ready line came; -2 never ready */
	} else if (n && n->ready == READY_NOTIFY) {
		if (!c->notified)
			return;
	}
	sup_child_ready(c);
}

static void on_exec(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct child *c = data;
	int err = 0;
	char why[512];
	int r = spawn_exec_result(fd, &err, why, sizeof(why));

	if (r < 0)
		return;
	loop_del_fd(l, fd);
	close(fd);
	c->exec_fd = -1;
	if (r == 1) {
		snprintf(c->start_err, sizeof(c->start_err), "%s", why);
		return;		/* the exit that follows fails the start */
	}
	c->exec_ok = true;
	maybe_ready(c);
}

/* fd:N: ready when the child writes a newline (s6's notification-fd). */
static void on_ready_fd(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct child *c = data;
	char b[256];
	ssize_t n;

	while ((n = read(fd, b, sizeof(b))) > 0) {
		if (memchr(b, '\n', (size_t)n)) {
			loop_del_fd(l, fd);
			close(fd);
			c->ready_fd = -1;
			maybe_ready(c);
			return;
		}
	}
	if (n == 0) {		/* closed without a newline: never ready */
		loop_del_fd(l, fd);
		close(fd);
		c->ready_fd = -2;	/* keeps maybe_ready waiting */
	}
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

/* notify: ready on a datagram holding the line READY=1 (sd_notify). The
 * socket stays open for the worker's life, as under systemd: later
 * messages (STATUS=, WATCHDOG=1, a BARRIER=1 whose fd is dropped, so the
 * sender's barrier returns) are read and ignored, never refused. */
static void on_notify(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct child *c = data;
	char b[4096];

	for (;;) {
		char *line, *save = NULL;
		ssize_t n = notify_recv(fd, b, sizeof(b) - 1, c->pid);

		if (n == -2 || (n >= 0 && c->notified))
			continue;	/* not from the worker's group, or not needed */
		if (n < 0)
			return;
		b[n] = '\0';
		for (line = strtok_r(b, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strcmp(line, "READY=1")) {
				c->notified = true;
				maybe_ready(c);
				break;
			}
		}
	}
}

static void on_start_timeout(struct loop *l, void *data)
{
	struct child *c = data;

	c->timer = NULL;
	snprintf(c->start_err, sizeof(c->start_err),
		 "not ready within start_timeout = %ld ms", c->node->start_timeout_ms);
	kill(c->is_sup ? c->pid : -c->pid, SIGKILL);
}

/* An abstract datagram socket for NOTIFY_SOCKET, one per start. */
static int notify_open(struct child *c, char *name, size_t len)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	size_t n;

	if (fd < 0)
		return -1;
	snprintf(name, len, "@arbor/%d/%d", (int)getpid(), ++c->sup->notify_seq);
	n = strlen(name);
	memcpy(a.sun_path, name, n);
	a.sun_path[0] = '\0';
	if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &(int){ 1 }, sizeof(int)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int start_worker(struct child *c)
{
	struct sup *s = c->sup;
	const struct conf_node *n = c->node;
	struct spawn_opts o = { .node = n, .path = c->path, .ready_fd = -1,
				.out_fd = -1, .err_fd = -1 };
	struct spawn_res r;
	char notify[64];
	const char *what = "pipe2";
	int e;

	o.own_pgrp = true;
	sweep_new_instance(c->instance, sizeof(c->instance));
	o.instance = c->instance;
	if (c->is_cmd) {
		o.node = NULL;
		o.argv = s->cmdopt.argv;
		o.search_path = true;
		o.keep_inherited = true;
		o.inherit_signals = true;
		o.foreground = s->cmdopt.foreground;
	} else {
		o.genserver = n->genserver;
		o.max_message = n->max_message;
		if (n->ready == READY_FD)
			o.ready_fd = n->ready_fd;
		if (n->setup.out.kind == OUT_PREFIX &&
		    !relay_new(s->loop, c->path, STDOUT_FILENO, &o.out_fd))
			goto err;
		if (n->setup.err.kind == OUT_PREFIX &&
		    !relay_new(s->loop, c->path, STDERR_FILENO, &o.err_fd))
			goto err;
		if (n->ready == READY_NOTIFY) {
			what = "socket";
			c->notified = false;
			c->notify_fd = notify_open(c, notify, sizeof(notify));
			if (c->notify_fd < 0)
				goto err;
			o.notify_socket = notify;
		}
	}
	if (spawn_worker(&o, &r) < 0) {
		what = spawn_failed_call;
		goto err;
	}
	if (o.out_fd >= 0)
		close(o.out_fd);
	if (o.err_fd >= 0)
		close(o.err_fd);
	c->pid = r.pid;
	c->exec_fd = r.exec_fd;
	c->ready_fd = r.ready_fd;
	pid_put(&s->pids, c->pid, c);
	loop_add_fd(s->loop, c->exec_fd, EPOLLIN, on_exec, c);
	if (c->ready_fd >= 0)
		loop_add_fd(s->loop, c->ready_fd, EPOLLIN, on_ready_fd, c);
	if (c->notify_fd >= 0)
		loop_add_fd(s->loop, c->notify_fd, EPOLLIN, on_notify, c);
	if (r.to_child >= 0)
		c->ln = link_new(s, c, r.from_child, r.to_child, n->max_message);
	if (!c->is_cmd && n->start_timeout_ms != CONF_INFINITY && n->ready != READY_EXEC)
		c->timer = loop_timer_add(s->loop, n->start_timeout_ms, on_start_timeout, c);
	return 0;

err:
	e = errno;
	if (o.out_fd >= 0)
		close(o.out_fd);
	if (o.err_fd >= 0)
		close(o.err_fd);
	child_close_fds(c);
	snprintf(c->start_err, sizeof(c->start_err), "%s %s: %s", what, c->path, strerror(e));
	errno = e;
	return -1;
}

/* Closes every fd from 3 up but the two given, which end up as 3 and 4. */
static void keep_only(int *a, int *b)
{
	int x = fcntl(*a, F_DUPFD_CLOEXEC, 5), y = fcntl(*b, F_DUPFD_CLOEXEC, 5);

	dup3(x, 3, O_CLOEXEC);
	dup3(y, 4, O_CLOEXEC);
	syscall(SYS_close_range, 5U, ~0U, 0U);
	*a = 3;
	*b = 4;
}

/* Ends this process by sig as if it had never been caught, so that its
 * parent sees the death by a signal that it was (without a core dump). */
static void __attribute__((noreturn)) die_by(int sig)
{
	sigset_t set;

	prctl(PR_SET_DUMPABLE, 0);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	kill(getpid(), sig);	/* delivered before kill() returns */
	_exit(128 + sig);
}

/* The nested supervisor's process: its own session (so that nothing of its
 * subtree can outlive it unnoticed), dying with its parent, a subreaper for
 * its workers' orphans, and the same loop as the root on its subtree. */
/* The supervisor a nested supervisor's process runs: one per process, and
 * held here so that it is still reachable when the process ends by _exit()
 * (valgrind counts what only a dead local pointed to as lost); volatile, or
 * the compiler drops a store that nothing reads. */
static struct sup *volatile nested;

static void __attribute__((noreturn)) nested_main(struct sup *parent, struct child *c,
						  int rfd, int wfd, pid_t ppid)
{
	struct sup *s;
	int code;

	setsid();
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != ppid)
		_exit(1);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	relay_forget_all();	/* the parent's relays are the parent's */
	keep_only(&rfd, &wfd);
	log_forget_fds();
	s = nested = calloc(1, sizeof(*s));
	if (!s)
		_exit(1);
	s->conf = parent->conf;
	s->conf_file = parent->conf_file;
	s->node = c->node;
	s->up = NULL;
	/* The parent's loop, children and links are left behind: their fds are
	 * closed and this process never returns to them. */
	s->loop = loop_new();
	if (!s->loop)
		_exit(1);
	s->up = link_new(s, NULL, rfd, wfd, FRAME_MAX_DEFAULT + 4096);
	code = sup_loop(s);
	if (s->die_sig)
		die_by(s->die_sig);
	_exit(code);
}

static int start_nested(struct child *c)
{
	struct sup *s = c->sup;
	int down[2], up[2];
	pid_t ppid = getpid();

	if (pipe2(down, O_CLOEXEC) < 0)
		goto err;
	if (pipe2(up, O_CLOEXEC) < 0)
		goto err_down;
	c->pid = fork();
	if (c->pid < 0)
		goto err_up;
	if (c->pid == 0) {
		close(down[1]);
		close(up[0]);
		nested_main(s, c, down[0], up[1], ppid);
	}
	close(down[0]);
	close(up[1]);
	fcntl(up[0], F_SETFL, O_NONBLOCK);
	fcntl(down[1], F_SETFL, O_NONBLOCK);
	c->exec_ok = true;
	pid_put(&s->pids, c->pid, c);
	c->ln = link_new(s, c, up[0], down[1], FRAME_MAX_DEFAULT + 4096);
	return 0;

err_up:
	close(up[0]);
	close(up[1]);
err_down:
	close(down[0]);
	close(down[1]);
err:
	snprintf(c->start_err, sizeof(c->start_err), "fork %s: %s", c->path, strerror(errno));
	return -1;
}

static int start_child(struct child *c)
{
	c->exec_ok = false;
	c->start_err[0] = '\0';
	c->stop_sig = 0;
	c->pid = 0;
	c->rt->giving_up = false;
	c->down = false;
	c->shutdown_ms = c->node->shutdown_ms;
	c->cfg_stop_signal = c->node->stop_signal;
	sup_set_state(c, C_STARTING);
	if ((c->is_sup ? start_nested(c) : start_worker(c)) < 0) {
		sup_set_state(c, C_STOPPED);
		return -1;
	}
	c->rt->pid = c->pid;
	log_debug("starting %s pid=%d", c->path, (int)c->pid);
	return 0;
}

void sup_child_ready(struct child *c)
{
	struct sup *s = c->sup;

	loop_timer_del(s->loop, c->timer);
	c->timer = NULL;
	sup_set_state(c, C_RUNNING);
	log_ev("started", c->path, "pid=%d", (int)c->pid);
	if (s->at < s->nplan && s->plan[s->at].c == c && s->plan[s->at].type == ACT_START)
		plan_next(s, 0, "");
}

/* --- stopping a child --- */

static void on_kill_deadline(struct loop *l, void *data)
{
	struct child *c = data;

	c->timer = NULL;
	log_ev("killing", c->path, "pid=%d reason=shutdown_timeout", (int)c->pid);
	kill(c->is_sup ? c->pid : -c->pid, SIGKILL);
}

/* Sends the stop signal to the worker's whole group (the CMD's own pid
 * unless -g), SIGCONT so a stopped process can act on it (not to the CMD:
 * tini sends none), and arms the SIGKILL deadline. */
static void stop_child(struct child *c)
{
	struct sup *s = c->sup;
	long ms = c->shutdown_ms;
	int sig = c->stop_sig ? c->stop_sig : c->cfg_stop_signal;
	pid_t target = (c->is_sup || (c->is_cmd && !s->cmdopt.group)) ? c->pid : -c->pid;

	if (c->state != C_RUNNING && c->state != C_STARTING)
		return;
	c->stop_sig = ms == 0 ? SIGKILL : sig;
	loop_timer_del(s->loop, c->timer);
	c->timer = NULL;
	sup_set_state(c, C_STOPPING);
	kill(target, c->stop_sig);
	if (c->stop_sig != SIGKILL && c->stop_sig != SIGCONT && !c->is_cmd)
		kill(target, SIGCONT);
	if (ms > 0)
		c->timer = loop_timer_add(s->loop, ms, on_kill_deadline, c);
}

/* --- plans --- */

/* Drops what is left of the plan; a request waiting on a dropped action
 * is told why. */
static void plan_reset(struct sup *s)
{
	for (size_t i = s->at; i < s->nplan; i++) {
		struct pending *w = s->plan[i].waiter;

		s->plan[i].waiter = NULL;
		if (w)
			pending_answer_str(s, w, 1, "interrupted: the supervisor is restarting or stopping");
	}
	s->nplan = s->at = 0;
}

/* The current action is done: its waiter gets the answer, the plan goes on. */
/* Steps past the current action, answering its waiter. */
static void plan_advance(struct sup *s, int rc, const char *text)
{
	struct pending *w = s->plan[s->at].waiter;

	s->plan[s->at].waiter = NULL;
	s->at++;
	if (w)
		pending_answer_str(s, w, rc, text);
}

static void plan_next(struct sup *s, int rc, const char *text)
{
	plan_advance(s, rc, text);
	plan_run(s);
}

static void plan_add_w(struct sup *s, enum act_type t, struct child *c, struct pending *w);

static void plan_add(struct sup *s, enum act_type t, struct child *c)
{
	plan_add_w(s, t, c, NULL);
}

static void plan_add_w(struct sup *s, enum act_type t, struct child *c, struct pending *w)
{
	if (s->nplan == s->capplan) {
		size_t n = s->capplan ? 2 * s->capplan : 16;
		struct action *p = realloc(s->plan, n * sizeof(*p));

		if (!p)
			abort();	/* a supervisor without memory cannot go on safely */
		s->plan = p;
		s->capplan = n;
	}
	s->plan[s->nplan].type = t;
	s->plan[s->nplan].waiter = w;
	s->plan[s->nplan].again = false;
	s->plan[s->nplan++].c = c;
}

/* A start that is part of a restart: the child counts as not healthy
 * until it is ready again. */
static void plan_add_again(struct sup *s, struct child *c)
{
	plan_add(s, ACT_START, c);
	s->plan[s->nplan - 1].again = true;
}

static void stop_all_plan(struct sup *s)
{
	plan_reset(s);
	for (size_t i = s->nkids; i-- > 0;)
		plan_add(s, ACT_STOP, s->kids[i]);
}

static void finish(struct sup *s)
{
	s->phase = PH_DONE;
	log_ev("shut down", s->node->path, "status=%d", s->exit_code);
	loop_stop(s->loop);
}

void sup_shutdown(struct sup *s, int code)
{
	if (s->phase == PH_STOP || s->phase == PH_DONE)
		return;
	s->phase = PH_STOP;
	s->exit_code = code;
	s->ndeaths = 0;
	reload_abort(s);
	stop_all_plan(s);
	plan_run(s);
}

static void give_up(struct sup *s)
{
	int n = window_count(&s->win, loop_now_ms());

	log_ev("gave up", s->node->path,
	       "reason=reached_max_restart_intensity restarts=%d intensity=%d period=%ldms",
	       n, s->node->intensity, s->node->period_ms);
	if (s->node->rt) {
		struct rtstat *rt = s->node->rt;

		rt->giving_up = true;	/* ping says so until it is restarted */
		if (s->up) {
			rt->pid = getpid();
			rt->state = C_STOPPING;
			link_event_up(s, s->node->path, rt);
		}
	}
	/* A nested supervisor's give-up is OTP's exit with reason shutdown:
	 * a clean exit for its parent, which restarts it only if permanent. */
	sup_shutdown(s, s->root ? 1 : 0);
}

static void next_death(struct sup *s)
{
	while (s->ndeaths && s->at == s->nplan && s->phase == PH_RUN) {
		struct child *c = s->deaths[0];
		int ws = s->death_ws[0];

		s->ndeaths--;
		memmove(s->deaths, s->deaths + 1, s->ndeaths * sizeof(*s->deaths));
		memmove(s->death_ws, s->death_ws + 1, s->ndeaths * sizeof(*s->death_ws));
		if (c->state == C_RESTARTING)	/* not restarted meanwhile */
			decide(s, c, ws);
	}
}

/* Children removed by a reload are freed once they are stopped. */
static void bury(struct sup *s)
{
	size_t keep = 0;

	for (size_t i = 0; i < s->ngone; i++) {
		struct child *c = s->gone[i];

		if (c->state == C_STOPPED && c->pid <= 0) {
			free(c->rt);
			free(c->path);
			free(c);
		} else {
			s->gone[keep++] = c;
		}
	}
	s->ngone = keep;
}

void sup_reload_apply(struct sup *s, struct child **stop, size_t nstop,
		      struct child **start, size_t nstart, struct child **gone,
		      size_t ngone)
{
	struct child **g = ngone ? realloc(s->gone, (s->ngone + ngone) * sizeof(*g)) : NULL;

	if (g) {
		memcpy(g + s->ngone, gone, ngone * sizeof(*g));
		s->gone = g;
		s->ngone += ngone;
	}
	free(gone);
	for (size_t i = 0; i < s->nkids; i++) {	/* nested ones reload themselves */
		struct child *k = s->kids[i];
		bool restarting = false;

		for (size_t j = 0; j < nstop; j++)
			restarting |= stop[j] == k;
		if (k->is_sup && k->ln && k->state == C_RUNNING && !restarting)
			reload_pass_on(s, k);
	}
	plan_reset(s);
	for (size_t i = 0; i < nstop; i++)
		plan_add(s, ACT_STOP, stop[i]);
	for (size_t i = 0; i < nstart; i++)
		plan_add(s, ACT_START, start[i]);
	plan_run(s);
}

static void plan_done(struct sup *s)
{
	plan_reset(s);
	bury(s);
	switch (s->phase) {
	case PH_BOOT:
		s->phase = PH_RUN;
		((struct rtstat *)s->node->rt)->since = wall_ms();
		if (s->up) {
			s->up->ready = true;
			link_send(s->up, FRAME_READY, 0, "arbor/1", 7, NULL, 0);
		}
		if (s->root)
			log_ev("ready", "", "children=%zu", s->nkids);
		break;
	case PH_STOP:
		finish(s);
		return;
	default:
		break;
	}
	reload_plan_done(s);	/* before the exits it left to decide */
	next_death(s);
	reload_kick(s);
}

static void plan_run(struct sup *s)
{
	while (s->at < s->nplan) {
		struct action *a = &s->plan[s->at];
		struct child *c = a->c;

		if (a->type == ACT_STOP) {
			if (c->state == C_RUNNING || c->state == C_STARTING) {
				stop_child(c);
				return;
			}
			if (c->state == C_STOPPING)
				return;	/* its exit moves the plan on */
			if (c->state == C_RESTARTING)
				sup_set_state(c, C_STOPPED);
		} else if (!c->held && c->state != C_RUNNING) {
			if (c->state == C_STARTING)
				return;
			c->rt->recovering = a->again;	/* ping: not healthy until ready */
			if (start_child(c) == 0)
				return;
			sup_child_failed_start(c, c->start_err);
			return;
		}
		plan_advance(s, 0, "");	/* nothing to do */
	}
	plan_done(s);
}

/* The children a strategy stops and starts again when c has failed: OTP's
 * one_for_all stops all the others in reverse and starts all in order;
 * rest_for_one does the same with the children after c. Temporary children
 * stopped as bystanders are not started again, nor are held ones. */
static void strategy_plan(struct sup *s, struct child *c)
{
	size_t i, at = 0;

	plan_reset(s);
	if (s->node->strategy == STRAT_ONE_FOR_ONE) {
		plan_add_again(s, c);
		return;
	}
	if (s->node->strategy == STRAT_REST_FOR_ONE)
		for (i = 0; i < s->nkids; i++)
			if (s->kids[i] == c)
				at = i;
	for (i = s->nkids; i-- > at;) {
		struct child *k = s->kids[i];

		if (k == c || k->is_cmd)	/* CMD stands outside the strategies */
			continue;
		plan_add(s, ACT_STOP, k);
		if (k->node->restart == RESTART_TEMPORARY)
			k->down = true;
	}
	for (i = at; i < s->nkids; i++) {
		struct child *k = s->kids[i];

		if (k == c || (!k->down && !k->held && !k->is_cmd))
			plan_add_again(s, k);
	}
}

static bool all_significant_down(struct sup *s)
{
	for (size_t i = 0; i < s->nkids; i++) {
		struct child *k = s->kids[i];

		if (k->node && k->node->significant && k->state != C_STOPPED)
			return false;
	}
	return true;
}

static bool abnormal(struct child *c, int ws)
{
	if (WIFEXITED(ws))
		return WEXITSTATUS(ws) != 0;
	return WTERMSIG(ws) != c->stop_sig || !c->stop_sig;
}

/* The CMD of `arbor -- CMD` has exited: arbor ends with its status. */
static int cmd_status(struct sup *s, int ws)
{
	int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);

	if (s->cmdopt.clean[code])	/* as tini: -e 143 covers a death by TERM */
		code = 0;
	return code;
}

/* OTP's restart decision for one exited child. */
static void decide(struct sup *s, struct child *c, int ws)
{
	enum conf_restart rt = c->node ? c->node->restart : RESTART_TEMPORARY;
	bool again = rt == RESTART_PERMANENT || (rt == RESTART_TRANSIENT && abnormal(c, ws));

	if (c->is_cmd) {
		sup_set_state(c, C_STOPPED);
		sup_shutdown(s, cmd_status(s, ws));
		return;
	}
	if (c->held || !again) {
		/* OTP forgets a temporary child; a transient one that ended
		 * normally stays in the list and a sibling's one_for_all or
		 * rest_for_one restart starts it again. */
		if (rt == RESTART_TEMPORARY)
			c->down = true;
		sup_set_state(c, C_STOPPED);
		if (c->node && c->node->significant && !c->held) {
			const char *why = NULL;

			if (s->node->auto_shutdown == AUTO_ANY_SIGNIFICANT)
				why = "any_significant";
			else if (s->node->auto_shutdown == AUTO_ALL_SIGNIFICANT &&
				 all_significant_down(s))
				why = "all_significant";
			if (why) {
				log_ev("auto_shutdown", s->node->path, "reason=%s child=%s",
				       why, c->path);
				sup_shutdown(s, s->root ? (WIFEXITED(ws) ? WEXITSTATUS(ws)
							   : 128 + WTERMSIG(ws)) : 0);
			}
		}
		return;
	}
	if (window_add(&s->win, loop_now_ms())) {
		sup_set_state(c, C_STOPPED);
		give_up(s);
		return;
	}
	c->rt->restarts++;
	log_ev("restarting", c->path, "restart=%d/%d period=%ldms strategy=%s",
	       window_count(&s->win, loop_now_ms()), s->node->intensity, s->node->period_ms,
	       s->node->strategy == STRAT_ONE_FOR_ONE ? "one_for_one" :
	       s->node->strategy == STRAT_ONE_FOR_ALL ? "one_for_all" : "rest_for_one");
	sup_set_state(c, C_RESTARTING);
	strategy_plan(s, c);
	plan_run(s);
}

/* An exit that comes while a plan runs waits for it to end, as an EXIT
 * message waits in an OTP supervisor's mailbox. */
static void defer_death(struct sup *s, struct child *c, int ws)
{
	if (s->ndeaths == s->capdeaths) {
		size_t n = s->capdeaths ? 2 * s->capdeaths : 8;

		s->deaths = realloc(s->deaths, n * sizeof(*s->deaths));
		s->death_ws = realloc(s->death_ws, n * sizeof(*s->death_ws));
		if (!s->deaths || !s->death_ws)
			abort();
		s->capdeaths = n;
	}
	s->deaths[s->ndeaths] = c;
	s->death_ws[s->ndeaths++] = ws;
}

/* A start that failed: at boot it fails the supervisor's own start (the
 * started children are stopped in reverse); later it is one more crash,
 * decided at once, or once the plan is done if the plan is a reload's. */
void sup_child_failed_start(struct child *c, const char *why)
{
	struct sup *s = c->sup;

	log_ev("start failed", c->path, "reason=\"%s\"", why && *why ? why : "exited before ready");
	if (c->state != C_STOPPED)
		sup_set_state(c, C_STOPPED);
	if (s->phase == PH_BOOT) {
		if (s->root)
			log_msg("cannot start %s: %s", c->path,
				why && *why ? why : "it exited before it was ready");
		sup_shutdown(s, 1);
		return;
	}
	if (s->phase != PH_RUN)
		return;
	if (s->at < s->nplan && s->plan[s->at].c == c && s->plan[s->at].waiter) {
		char m[700];	/* arborctl start: the caller hears why, no restart */

		snprintf(m, sizeof(m), "cannot start %s: %s", c->path,
			 why && *why ? why : "it exited before it was ready");
		plan_next(s, 1, m);
		return;
	}
	if (s->reload && s->reload->planning && s->at < s->nplan && s->plan[s->at].c == c) {
		/* The rest of the reload's plan still runs (dropping it left
		 * later added children stopped for good); the failure is a
		 * crash, decided once the plan is done. */
		reload_start_failed(s, c, why && *why ? why : "it exited before it was ready");
		sup_set_state(c, C_RESTARTING);
		defer_death(s, c, 1 << 8);
		plan_next(s, 0, "");
		return;
	}
	plan_reset(s);
	decide(s, c, 1 << 8);
}

/* arborctl start, stop, restart and kill of a direct child. Stop holds the
 * child down (strategies leave it) until start or restart; the answer comes
 * when the action is done. */
void sup_admin(struct sup *s, const char *verb, struct child *c, int sig,
	       struct pending *p)
{
	char m[600];

	if (s->phase != PH_RUN && strcmp(verb, "kill")) {
		pending_answer_str(s, p, 1, "busy: the supervisor is starting or stopping");
		return;
	}
	if (!strcmp(verb, "kill")) {
		if (c->pid <= 0 || (c->state != C_RUNNING && c->state != C_STARTING)) {
			snprintf(m, sizeof(m), "noproc: %s is not running", c->path);
			pending_answer_str(s, p, 1, m);
			return;
		}
		if (c->is_sup)	/* queued: a crash to it, not our stop */
			sigqueue(c->pid, sig > 0 ? sig : SIGKILL, (union sigval){ 0 });
		else
			kill(c->pid, sig > 0 ? sig : SIGKILL);
		pending_answer_str(s, p, 0, "");
		return;
	}
	if (!strcmp(verb, "start") && (c->state == C_RUNNING || c->state == C_STARTING)) {
		snprintf(m, sizeof(m), "already started: %s (pid %d)", c->path, (int)c->pid);
		pending_answer_str(s, p, 1, m);
		return;
	}
	if (!strcmp(verb, "stop")) {
		c->held = true;
		plan_add_w(s, ACT_STOP, c, p);
	} else {
		c->held = false;
		if (!strcmp(verb, "restart"))
			plan_add(s, ACT_STOP, c);
		plan_add_w(s, ACT_START, c, p);
	}
	if (s->nplan - s->at == (strcmp(verb, "restart") ? 1u : 2u))
		plan_run(s);	/* nothing else was under way */
}

/* --- reaping --- */

/* Whatever a dead nested supervisor left in its session is killed. */
static void kill_session(pid_t sid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[64], b[512], *rp;
		int fd;
		ssize_t n;
		long sess = 0;
		pid_t pid = (pid_t)atoi(e->d_name);

		if (pid <= 1)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, b, sizeof(b) - 1);
		close(fd);
		if (n <= 0)
			continue;
		b[n] = '\0';
		rp = strrchr(b, ')');	/* comm may hold spaces */
		if (rp && sscanf(rp + 2, "%*c %*d %*d %ld", &sess) == 1 && sess == sid)
			kill(pid, SIGKILL);
	}
	closedir(d);
}

static void on_reaped(struct sup *s, struct child *c, int ws)
{
	enum cstate was;

	if (c->exec_fd >= 0)	/* its exec report is complete: it has exited */
		on_exec(s->loop, c->exec_fd, EPOLLIN, c);
	was = c->state;
	pid_del(&s->pids, c->pid);
	if (c->is_sup) {
		kill_session(c->pid);
		subtree_down(s, c->node);
		sweep_path(c->path);	/* and what left its session */
	} else if (!c->is_cmd || s->cmdopt.group) {
		kill(-c->pid, SIGKILL);	/* what it left in its group; the rest: kill_adopted */
	}
	child_close_fds(c);
	if (c->ln) {
		char why[96];

		if (WIFSIGNALED(ws))
			snprintf(why, sizeof(why), "worker exited: killed by %s",
				 log_signame(WTERMSIG(ws)));
		else
			snprintf(why, sizeof(why), "worker exited: exit status %d",
				 WEXITSTATUS(ws));
		link_free(c->ln, c->is_sup ? "supervisor exited" : why);
		c->ln = NULL;
	}
	if (was == C_STOPPING) {
		log_ev("stopped", c->path, "pid=%d %s", (int)c->pid, log_wstatus(ws));
		c->pid = 0;
		sup_set_state(c, C_STOPPED);
		if (c->is_cmd && s->exit_with_cmd)
			s->exit_code = cmd_status(s, ws);
		if (s->at < s->nplan && s->plan[s->at].c == c)
			plan_next(s, 0, "");
		return;
	}
	log_ev("exited", c->path, "pid=%d %s", (int)c->pid, log_wstatus(ws));
	c->pid = 0;
	if (was == C_STARTING) {
		if (c->is_cmd && !c->exec_ok && c->start_err[0]) {
			log_msg("cannot run %s (%s)", c->start_err,
				WEXITSTATUS(ws) == 127 ? "check the program's name and $PATH" :
				"check that it is an executable file");
			sup_set_state(c, C_STOPPED);
			sup_shutdown(s, WEXITSTATUS(ws));
			return;
		}
		if (c->is_cmd) {
			decide(s, c, ws);
			return;
		}
		sup_child_failed_start(c, c->start_err[0] ? c->start_err : NULL);
		return;
	}
	if (s->phase == PH_STOP || s->phase == PH_DONE) {
		sup_set_state(c, C_STOPPED);
		if (c->is_cmd && s->exit_with_cmd)
			s->exit_code = cmd_status(s, ws);
		return;
	}
	sup_set_state(c, C_RESTARTING);
	c->rt->pid = 0;
	if (s->at < s->nplan) {
		defer_death(s, c, ws);
		return;
	}
	decide(s, c, ws);
}

/* An adopted process whose ARBOR_INSTANCE is a running child's is that
 * worker's own detached helper: it lives as long as the worker does. */
static bool of_live_kid(struct sup *s, const char *inst)
{
	for (size_t i = 0; *inst && i < s->nkids; i++) {
		struct child *k = s->kids[i];

		if (!k->is_sup && k->pid > 0 && !strcmp(k->instance, inst))
			return true;
	}
	return false;
}

/* Kills what the deaths just reaped left behind. Every supervisor is a
 * subreaper, and the kernel hands a dying process's children to it before
 * it reports the death: whatever escaped a worker's group or a dead
 * supervisor's session is now a child of this process that it did not
 * start. A nested supervisor starts nothing but its children, so all such
 * processes are leftovers; the root kills only those of its own tree (an
 * orphan from `docker exec` or of the -- CMD is reaped, as tini does). */
static void kill_adopted(struct sup *s)
{
	char p[64], inst[64], *b = NULL, *at, *end;
	size_t len = 0, cap = 0;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/proc/self/task/%d/children", (int)getpid());
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	do {
		if (len + 4096 > cap) {
			char *nb = realloc(b, cap = 2 * cap + 8192);

			if (!nb)
				break;
			b = nb;
		}
		n = read(fd, b + len, cap - len - 1);
		if (n > 0)
			len += (size_t)n;
	} while (n > 0);
	close(fd);
	if (!b)
		return;
	b[len] = '\0';
	for (at = b;; at = end) {
		pid_t pid = (pid_t)strtol(at, &end, 10);
		bool ours;

		if (end == at)
			break;
		if (pid <= 1 || pid_get(&s->pids, pid))
			continue;
		ours = sweep_of_tree(pid, inst, sizeof(inst));
		if ((ours || !s->root) && !of_live_kid(s, inst)) {
			log_debug("killing leftover pid=%d", (int)pid);
			kill(pid, SIGKILL);
		}
	}
	free(b);
}

static void on_adopt_timer(struct loop *l, void *data)
{
	struct sup *s = data;

	s->adopt_timer = NULL;
	kill_adopted(s);
}

/* SIGCHLD may stand for many deaths: reap until there is nothing left. */
static void reap(struct sup *s)
{
	int ws;
	pid_t pid;
	bool any = false;

	while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
		struct child *c = pid_get(&s->pids, pid);

		any = true;
		if (c)
			on_reaped(s, c, ws);
		else if (s->cmdopt.warn_reap)	/* tini's -w */
			log_msg("reaped zombie process with pid=%d", (int)pid);
		else
			log_debug("reaped orphan pid=%d %s", (int)pid, log_wstatus(ws));
	}
	if (any && !s->adopt_timer)	/* off the restart's path, one pass for many */
		s->adopt_timer = loop_timer_add(s->loop, 20, on_adopt_timer, s);
}

static bool forwarded(int sig)
{
	switch (sig) {
	case SIGCHLD: case SIGFPE: case SIGILL: case SIGSEGV: case SIGBUS:
	case SIGABRT: case SIGTRAP: case SIGSYS: case SIGTTIN: case SIGTTOU:
		return false;
	default:
		return true;
	}
}

/* The parent stops a nested supervisor with a plain kill() of its
 * stop_signal; anything else (another sender, or the parent relaying
 * `arborctl kill` with sigqueue) is a death the parent did not ask for. */
static bool stop_from_parent(const struct signalfd_siginfo *si)
{
	return (pid_t)si->ssi_pid == getppid() && si->ssi_code == SI_USER;
}

static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	struct sup *s = data;
	int sig = (int)si->ssi_signo;
	struct child *cmd = s->cmd;

	if (sig == SIGCHLD) {
		reap(s);
		return;
	}
	if (sig == SIGPIPE && (pid_t)si->ssi_pid == getpid())
		return;		/* our own write to a closed pipe: EPIPE says it */
	if (sig == SIGHUP && s->conf_file) {	/* with -c, HUP reloads */
		char *argv[] = { "reload", NULL };

		sup_request(s, 1, argv, NULL, NULL);
		return;
	}
	if (cmd && cmd->pid > 0 && forwarded(sig) && !s->conf_file) {
		/* tini's way: every signal goes to CMD, each time it comes, and
		 * arbor waits for CMD however long it takes (the runtime owns the
		 * grace period); CMD's exit ends arbor (decide). */
		kill(s->cmdopt.group ? -cmd->pid : cmd->pid, sig);
		return;
	}
	if (cmd && cmd->pid > 0 && forwarded(sig)) {
		if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
			cmd->stop_sig = sig;
		else
			kill(s->cmdopt.group ? -cmd->pid : cmd->pid, sig);
	}
	switch (sig) {
	case SIGTERM: case SIGINT: case SIGQUIT:
		log_debug("%s: stopping the tree", log_signame(sig));
		if (s->up && s->phase != PH_STOP && s->phase != PH_DONE && !stop_from_parent(si))
			s->die_sig = sig;
		if (s->phase != PH_STOP && s->phase != PH_DONE)
			s->exit_with_cmd = s->cmd != NULL;	/* tini: CMD's status */
		sup_shutdown(s, 0);
		break;
	default:
		break;
	}
}

/* --- building and running --- */

struct child *sup_child_new(struct sup *s, struct conf_node *n)
{
	struct child *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sup = s;
	c->node = n;
	c->path = n->path;
	c->is_sup = n->is_sup;
	c->exec_fd = c->ready_fd = c->notify_fd = -1;
	if (!n->rt)
		n->rt = calloc(1, sizeof(struct rtstat));
	c->rt = n->rt;
	if (!c->rt) {
		free(c);
		return NULL;
	}
	return c;
}

/* A pool member that does not exist yet, made for `arborctl start POOL/N`
 * (OTP's start_child on a simple_one_for_one supervisor); NULL when path is
 * not POOL/N under a pool or already exists. */
struct conf_node *sup_pool_member(struct sup *s, const char *path)
{
	const char *slash = strrchr(path, '/');
	struct conf_node *pool, *n;
	char parent[512];

	if (!slash || conf_find(s->conf, path) || (size_t)(slash - path) >= sizeof(parent))
		return NULL;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	pool = conf_find(s->conf, parent);
	if (!pool || !pool->is_pool)
		return NULL;
	n = conf_pool_add(s->conf, pool, slash + 1);
	if (n && !n->rt)
		n->rt = calloc(1, sizeof(struct rtstat));
	return n;
}

/* Gives every node a run-time slot, so status can be read for any path. */
static void rt_alloc(struct conf_node *n)
{
	if (!n->rt)
		n->rt = calloc(1, sizeof(struct rtstat));
	for (size_t i = 0; i < n->nkids; i++)
		rt_alloc(n->kids[i]);
}

/* A child added while running (a new pool member), last in start order. */
struct child *sup_add_kid(struct sup *s, struct conf_node *n)
{
	struct child **k = realloc(s->kids, (s->nkids + 2) * sizeof(*k));
	struct child *c;

	if (!k)
		return NULL;
	s->kids = k;
	c = sup_child_new(s, n);
	if (!c)
		return NULL;
	if (s->nkids && s->kids[s->nkids - 1]->is_cmd) {	/* CMD stays last */
		s->kids[s->nkids] = s->kids[s->nkids - 1];
		s->kids[s->nkids - 1] = c;
	} else {
		s->kids[s->nkids] = c;
	}
	s->nkids++;
	return c;
}

static struct conf_node cmd_node = {
	.path = "cmd", .name = "cmd", .restart = RESTART_TEMPORARY,
	.shutdown_ms = 5000, .stop_signal = SIGTERM, .significant = true,
	.ready = READY_EXEC, .start_timeout_ms = CONF_INFINITY,
};

static int sup_build(struct sup *s)
{
	struct conf_node *n = s->node;

	rt_alloc(n);
	if (window_init(&s->win, n->intensity, n->period_ms) < 0)
		return -1;
	s->kids = calloc(n->nkids + 1, sizeof(*s->kids));
	if (!s->kids)
		return -1;
	for (size_t i = 0; i < n->nkids; i++) {
		s->kids[i] = sup_child_new(s, n->kids[i]);
		if (!s->kids[i])
			return -1;
	}
	s->nkids = n->nkids;
	if (s->root && s->cmdopt.argv) {	/* CMD starts last, beside the services */
		s->cmd = sup_child_new(s, &cmd_node);
		if (!s->cmd)
			return -1;
		s->cmd->is_cmd = true;
		s->kids[s->nkids++] = s->cmd;
	}
	s->next_id = 1;
	return 0;
}

/* The control socket: always with -c, with `--` only when $ARBOR_SOCKET
 * asks for it (tini has none). A socket a live arbor serves is never
 * stolen: this arbor stops before it starts anything. */
static int open_ctl(struct sup *s)
{
	if (s->cmdopt.argv && !s->conf_file && !getenv("ARBOR_SOCKET"))
		return 0;
	s->ctl = ctl_open(s, s->loop, s->conf->control_socket);
	if (!s->ctl)
		return errno == EADDRINUSE ? -1 : 0;
	if (s->conf->control_group)
		ctl_allow_gid(s->ctl, s->conf->control_gid);
	return 0;
}

static int sup_loop(struct sup *s)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGHUP);
	if (s->root) {
		sigfillset(&set);
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGCHLD && !forwarded(sig))
				sigdelset(&set, sig);
	}
	if (sup_build(s) < 0 || loop_signals(s->loop, &set, on_signal, s) < 0) {
		log_msg("cannot start supervisor %s: %s", *s->node->path ? s->node->path : "/",
			strerror(errno));
		return 1;
	}
	if (s->root && open_ctl(s) < 0)
		return 1;
	s->phase = PH_BOOT;
	plan_reset(s);
	for (size_t i = 0; i < s->nkids; i++)
		plan_add(s, ACT_START, s->kids[i]);
	plan_run(s);
	reap(s);	/* a child may have died before the signalfd existed */
	if (s->phase != PH_DONE && loop_run(s->loop) < 0) {
		log_msg("event loop: %s", strerror(errno));
		return 1;
	}
	return s->exit_code;
}

static void sup_free(struct sup *s)
{
	reload_abort(s);
	for (size_t i = 0; i < s->nkids; i++) {	/* calls still waiting are answered */
		if (s->kids[i]->ln)
			link_free(s->kids[i]->ln, "shutdown");
		s->kids[i]->ln = NULL;
	}
	ctl_close(s->ctl);	/* after the answers, so they go out */
	s->ctl = NULL;
	for (size_t i = 0; i < s->nkids; i++) {
		child_close_fds(s->kids[i]);
		free(s->kids[i]);
	}
	for (size_t i = 0; i < s->ngone; i++) {
		free(s->gone[i]->rt);
		free(s->gone[i]->path);
		free(s->gone[i]);
	}
	free(s->gone);
	free(s->kids);
	free(s->plan);
	free(s->deaths);
	free(s->death_ws);
	free(s->pids.slot);
	free(s->calls);
	window_free(&s->win);
	loop_timer_del(s->loop, s->adopt_timer);
	s->adopt_timer = NULL;
}

static void rt_free(struct conf_node *n)
{
	free(n->rt);
	n->rt = NULL;
	for (size_t i = 0; i < n->nkids; i++)
		rt_free(n->kids[i]);
}

/* The root: the -- CMD and the control socket besides the tree. */
int sup_run_root(struct conf *c, const char *conf_file, const struct sup_cmd *cmd)
{
	struct sup s = { .conf = c, .conf_file = conf_file, .node = c->root, .root = true };
	int code;

	if (cmd)
		s.cmdopt = *cmd;
	s.loop = loop_new();
	if (!s.loop) {
		log_msg("cannot create the event loop: %s", strerror(errno));
		return 1;
	}
	sweep_init_tree();
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout must not kill arbor */
	signal(SIGTTIN, SIG_IGN);	/* as tini: CMD may own the terminal */
	signal(SIGTTOU, SIG_IGN);
	code = sup_loop(&s);
	relay_free_all();
	sup_free(&s);
	if (getpid() != 1)	/* as PID 1, the kernel ends what is left */
		sweep_path("");
	rt_free(s.conf->root);
	conf_free(s.conf);	/* reload may have replaced the caller's */
	free(cmd_node.rt);
	cmd_node.rt = NULL;
	loop_free(s.loop);
	return code;
}
