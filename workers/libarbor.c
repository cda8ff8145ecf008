/* libarbor: the worker's side of arbor-protocol(7), as an OTP GenServer.
 *
 * One worker per process, one thread: the loop waits in ppoll() on the pipe
 * from arbor and the nearest timer, with SIGTERM and SIGINT let through only
 * there, and hands each frame to a callback, one at a time. An outgoing call
 * blocks the loop until its answer; whatever arrives meanwhile is queued in
 * order. The library opens no fd of its own: a worker holds 0, 1, 2,
 * arbor's two pipes and only what its callbacks open. */
#define _GNU_SOURCE
#include "arbor.h"
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define READY_PAYLOAD "arbor/1"

/* A frame from arbor waiting for its callback: the payload is copied out of
 * the read buffer and NUL-terminated for the callbacks' convenience. */
struct msg {
	struct msg *next;
	uint8_t type;
	uint64_t id;
	size_t len;
	char data[];
};

/* An arbor_send_after() message, in a list sorted by deadline. */
struct timer {
	struct timer *next;
	int64_t at;
	int id;
	char msg[];
};

/* The one worker of this process: every entry point of the API needs it,
 * and callbacks have no handle to pass back. */
static struct worker {
	const struct arbor_callbacks *cb;
	void *state;
	const char *name;	/* for messages on stderr */
	char *path;		/* $ARBOR_PATH */
	int in, out;		/* frames from arbor, frames to arbor */
	size_t max;		/* $ARBOR_MAX_MESSAGE */
	bool ready;		/* READY sent: the worker may send */
	bool gone;		/* arbor closed a pipe: stop */
	bool terminating;	/* terminate() is running */
	struct fbuf rbuf, wbuf;
	struct msg *head, **tail;
	uint64_t last_id;	/* the last id this worker used for a CALL */
	uint64_t serving;	/* the id of the CALL handle_call() serves */
	uint64_t max_call;	/* the largest CALL id arbor sent */
	uint64_t waiting;	/* the id arbor_call() waits for, 0 when none */
	struct msg *answer;	/* its REPLY or ERROR once it came */
	struct timer *timers;
	int last_timer;
	struct arbor_buf reply;
} w = { .in = -1, .out = -1, .tail = &w.head };

/* Set by the handler of SIGTERM and SIGINT, read by the loop. */
static volatile sig_atomic_t stop_signal;

/* Deadlines use the monotonic clock: setting the date must not fire or
 * delay a timer. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Frees what the worker holds so that a worker run under valgrind exits
 * clean; the process exits right after. */
static void worker_free(void)
{
	struct msg *m;
	struct timer *t;

	while ((m = w.head)) {
		w.head = m->next;
		free(m);
	}
	w.tail = &w.head;
	free(w.answer);
	w.answer = NULL;
	while ((t = w.timers)) {
		w.timers = t->next;
		free(t);
	}
	fbuf_free(&w.rbuf);
	fbuf_free(&w.wbuf);
	arbor_buf_free(&w.reply);
	free(w.path);
	w.path = NULL;
	if (w.in >= 0)
		close(w.in);
	if (w.out >= 0)
		close(w.out);
	w.in = w.out = -1;
}

/* Startup failures: the worker cannot run at all, and arbor logs its
 * stderr and exit status. */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", w.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	worker_free();
	exit(1);
}

/* arbor sent something the protocol does not allow: the stream can no
 * longer be trusted, so the worker says what it was and exits 1 for arbor
 * to restart it, without terminate() (a crash, not an orderly stop). */
static void __attribute__((noreturn, format(printf, 1, 2)))
protocol_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: protocol error: ", w.name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (from arbor)\n", stderr);
	worker_free();
	exit(1);
}

/* A stop signal ends a wait unless terminate() is already running: then
 * what it sends or calls still gets its time. */
static bool stopping(void)
{
	return stop_signal && !w.terminating;
}

/* The one place the worker sleeps: ppoll() on fds until one is ready, the
 * deadline (-1: none) passes, or a stop signal comes. SIGTERM and SIGINT are
 * blocked from the check of stop_signal to ppoll(), which lets them in
 * atomically, so that one arriving in between wakes it rather than being
 * missed; the caller's mask is back on return, so callbacks and the
 * programs they start run with the mask the worker had. Returns ppoll()'s
 * result, or 0 when the worker is already stopping; the caller looks again
 * either way. */
static int wait_fds(struct pollfd *pfd, nfds_t n, int64_t deadline)
{
	sigset_t stops, old, during;
	struct timespec ts, *tsp = NULL;
	int r = 0, saved;

	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	if (sigprocmask(SIG_BLOCK, &stops, &old) < 0)
		return -1;
	if (!stopping()) {
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			if (left < 0)
				left = 0;
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (long)(left % 1000) * 1000000;
			tsp = &ts;
		}
		during = old;
		sigdelset(&during, SIGTERM);
		sigdelset(&during, SIGINT);
		r = ppoll(pfd, n, tsp, &during);
	}
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return r;
}

/* The orderly end: terminate() once, then exit with status. */
static void __attribute__((noreturn)) finish(const char *reason, int status)
{
	if (!w.terminating) {
		w.terminating = true;
		if (w.cb && w.cb->terminate)
			w.cb->terminate(w.state, reason);
	}
	worker_free();
	exit(status);
}

/* Writes everything queued. Blocking is fine here (this is the worker's own
 * process) but a stop signal ends the wait: arbor is about to kill a worker
 * that cannot write, so it had better run terminate() now. */
static int flush_out(void)
{
	struct pollfd pfd = { .fd = w.out, .events = POLLOUT };

	for (;;) {
		int r;

		if (w.gone) {
			errno = EPIPE;
			return -1;
		}
		r = fbuf_flush(&w.wbuf, w.out);
		if (r == 1)
			return 0;
		if (r < 0) {
			w.gone = true;
			errno = EPIPE;
			return -1;
		}
		if (stopping()) {
			w.gone = true;
			errno = ECANCELED;
			return -1;
		}
		if (wait_fds(&pfd, 1, -1) < 0 && errno != EINTR)
			return -1;
	}
}

/* Every frame is written whole before the worker goes on, so what it sends
 * is in the order it sent it. */
static int send_frame(uint8_t type, uint64_t id, const struct iovec *iov,
		      int iovcnt)
{
	if (w.gone) {
		errno = EPIPE;
		return -1;
	}
	if (fbuf_putv(&w.wbuf, type, id, iov, iovcnt, 0) < 0)
		return -1;
	return flush_out();
}

/* A reply or a reason text, cut to max_message so that the frame is legal
 * whatever the callback produced. */
static int send_text(uint8_t type, uint64_t id, const char *s, size_t len)
{
	struct iovec iov = { .iov_base = (void *)s, .iov_len = len };

	if (iov.iov_len > w.max)
		iov.iov_len = w.max;
	return send_frame(type, id, &iov, 1);
}

/* Frames to another worker carry "PATH" NUL "MESSAGE". */
static int send_routed(uint8_t type, uint64_t id, const char *path,
		       const char *msg, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)path, .iov_len = strlen(path) + 1 },
		{ .iov_base = (void *)msg, .iov_len = len },
	};

	return send_frame(type, id, iov, 2);
}

/* The read buffer is reused by the next read, and a queued frame may wait
 * for a while: each one gets its own copy. */
static struct msg *msg_new(const struct frame *f)
{
	struct msg *m = malloc(sizeof(*m) + f->len + 1);

	if (!m)
		return NULL;
	m->next = NULL;
	m->type = f->type;
	m->id = f->id;
	m->len = f->len;
	memcpy(m->data, f->data, f->len);
	m->data[f->len] = '\0';
	return m;
}

/* Sorts one decoded frame: answers to this worker's call are set aside for
 * arbor_call(), work for the callbacks is queued, the rest is a protocol
 * error. */
static void accept_frame(const struct frame *f)
{
	struct msg *m;

	switch (f->type) {
	case FRAME_CALL:
		if (f->id == 0)
			protocol_error("CALL with id 0");
		if (f->id > w.max_call)
			w.max_call = f->id;
		break;
	case FRAME_CAST:
	case FRAME_INFO:
		break;
	case FRAME_REPLY:
	case FRAME_ERROR:
		if (w.waiting && f->id == w.waiting)
			break;
		if (f->id != 0 && f->id <= w.last_id)
			return;	/* the answer to a call that timed out */
		protocol_error("%s %llu answers no call", frame_type_name(f->type),
			       (unsigned long long)f->id);
	default:
		protocol_error("unexpected %s frame", frame_type_name(f->type));
	}
	m = msg_new(f);
	if (!m)
		die("out of memory for a %u-byte message", f->len);
	if (f->type == FRAME_REPLY || f->type == FRAME_ERROR) {
		w.answer = m;
		w.waiting = 0;
		return;
	}
	*w.tail = m;
	w.tail = &m->next;
}

/* Reads what the pipe holds and decodes every whole frame in it. EOF (or a
 * read error) means arbor is gone. */
static void read_input(void)
{
	char why[128];
	struct frame f;
	size_t used;
	ssize_t n;

	n = fbuf_fill(&w.rbuf, w.in, w.max);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		w.gone = true;
		return;
	}
	for (;;) {
		enum frame_status st = frame_decode(w.rbuf.buf + w.rbuf.off,
						    fbuf_pending(&w.rbuf), w.max, &f, &used);

		if (st == FRAME_SHORT)
			return;
		if (st != FRAME_OK) {
			frame_describe(st, w.rbuf.buf + w.rbuf.off, w.max, why,
				       sizeof(why));
			protocol_error("%s", why);
		}
		accept_frame(&f);
		fbuf_consume(&w.rbuf, used);
	}
}

/* Waits for arbor's pipe, a stop signal, or the deadline (-1: none). */
static void wait_io(int64_t deadline)
{
	struct pollfd pfd = { .fd = w.in, .events = POLLIN };

	if (wait_fds(&pfd, 1, deadline) <= 0)
		return;	/* timeout, stopping, or EINTR: the caller looks again */
	if (pfd.revents)
		read_input();
}

/* Async-signal-safe: it only notes the signal, and touches no errno. */
static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

/* A handler rather than SIG_IGN: a write to a closed pipe fails with EPIPE
 * either way, but a caught signal is reset by exec, so programs the worker
 * runs get the usual SIGPIPE. */
static void on_sigpipe(int sig)
{
	(void)sig;
}

/* The handlers only note the signal; wait_fds() wakes for it and
 * terminate() runs from the loop, never from a handler. SA_RESTART: a
 * callback's own system calls are not cut short by a stop signal, they
 * finish first. The signal mask is left as it was. */
static void setup_signals(void)
{
	struct sigaction sa = { .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		die("sigaction: %s", strerror(errno));
	sa.sa_handler = on_sigpipe;
	if (sigaction(SIGPIPE, &sa, NULL) < 0)
		die("sigaction: %s", strerror(errno));
}

/* The fds arbor passed, by the names it gave them. They are made
 * close-on-exec and their names removed from the environment, so that a
 * program the worker runs neither holds arbor's pipes nor takes itself for
 * a genserver. */
static int env_fd(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long fd;
	int fl;

	if (!s)
		die("%s is not set: run this program under arbor with genserver = yes",
		    name);
	errno = 0;
	fd = strtol(s, &end, 10);
	if (errno || end == s || *end || fd < 0 || fd > INT_MAX)
		die("%s=%s: expected a file descriptor number", name, s);
	fl = fcntl((int)fd, F_GETFL);
	if (fl < 0)
		die("%s=%s: %s", name, s, strerror(errno));
	if (fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl((int)fd, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl %s=%s: %s", name, s, strerror(errno));
	unsetenv(name);
	return (int)fd;
}

/* Everything arbor tells the worker comes from the environment; a worker
 * run by hand, or by a newer arbor, stops here with a message. */
static void setup_env(void)
{
	const char *s;

	if (!getenv("ARBOR_IN_FD"))
		die("ARBOR_IN_FD is not set: run this program under arbor with genserver = yes");
	s = getenv("ARBOR_PROTOCOL");
	if (!s || strcmp(s, "1") != 0)
		die("ARBOR_PROTOCOL=%s: this worker speaks arbor protocol 1 only",
		    s ? s : "(unset)");
	w.max = FRAME_MAX_DEFAULT;
	s = getenv("ARBOR_MAX_MESSAGE");
	if (s) {
		unsigned long long max;
		char *end;

		errno = 0;
		max = strtoull(s, &end, 10);
		if (errno || end == s || *end || max == 0 || max > UINT32_MAX ||
		    *s == '-')
			die("ARBOR_MAX_MESSAGE=%s: expected a size in bytes (1 to %u)",
			    s, UINT32_MAX);
		w.max = max;
	}
	s = getenv("ARBOR_PATH");
	w.path = strdup(s ? s : "");
	if (!w.path)
		die("out of memory");
	w.in = env_fd("ARBOR_IN_FD");
	w.out = env_fd("ARBOR_OUT_FD");
}

/* Exactly one answer per CALL, whatever the callback did: a reply that
 * cannot be sent whole becomes an error saying why. */
static void handle_call(struct msg *m)
{
	const struct arbor_callbacks *cb = w.cb;
	int rc;

	arbor_buf_reset(&w.reply);
	if (arbor_buf_add(&w.reply, "", 0) < 0)
		die("out of memory");
	if (cb->handle_call) {
		w.serving = m->id;
		rc = cb->handle_call(w.state, m->data, m->len, &w.reply);
		w.serving = 0;
		if (rc == ARBOR_NOREPLY)
			return;
	} else {
		rc = -1;
		arbor_buf_puts(&w.reply, "unexpected call: ");
		arbor_buf_add(&w.reply, m->data, m->len);
	}
	if (rc == 0 && w.reply.len > w.max) {
		size_t len = w.reply.len;

		rc = -1;
		arbor_buf_reset(&w.reply);
		arbor_buf_printf(&w.reply, "reply of %zu bytes over max_message %zu",
				 len, w.max);
	}
	send_text(rc == 0 ? FRAME_REPLY : FRAME_ERROR, m->id, w.reply.data,
		  w.reply.len);
}

struct arbor_from arbor_from(void)
{
	return (struct arbor_from){ .id = w.serving };
}

/* arbor kills a worker that answers an id it never sent, so such a reply
 * is refused here. A second reply to the same call is arbor's to drop, as
 * is one to a call that timed out. */
static int reply_check(struct arbor_from from, size_t len)
{
	if (from.id == 0 || from.id > w.max_call) {
		errno = EINVAL;
		return -1;
	}
	if (len > w.max) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int arbor_reply(struct arbor_from from, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	if (reply_check(from, len) < 0)
		return -1;
	return send_frame(FRAME_REPLY, from.id, &iov, 1);
}

int arbor_reply_error(struct arbor_from from, const char *why)
{
	if (!why)
		why = "error";
	if (reply_check(from, 0) < 0)
		return -1;
	return send_text(FRAME_ERROR, from.id, why, strlen(why));
}

/* Hands one queued frame to its callback. */
static void dispatch(struct msg *m)
{
	const struct arbor_callbacks *cb = w.cb;

	switch (m->type) {
	case FRAME_CALL:
		handle_call(m);
		break;
	case FRAME_CAST:
		if (cb->handle_cast)
			cb->handle_cast(w.state, m->data, m->len);
		break;
	case FRAME_INFO:
		if (cb->handle_info)
			cb->handle_info(w.state, m->data, m->len);
		break;
	}
}

/* Pops the oldest queued frame and serves it; false when none waits. */
static bool run_one_msg(void)
{
	struct msg *m = w.head;

	if (!m)
		return false;
	w.head = m->next;
	if (!w.head)
		w.tail = &w.head;
	dispatch(m);
	free(m);
	return true;
}

/* Fires the earliest timer if it is due; false when none is. */
static bool run_one_timer(void)
{
	struct timer *t = w.timers;

	if (!t || t->at > now_ms())
		return false;
	w.timers = t->next;
	if (w.cb->handle_info)
		w.cb->handle_info(w.state, t->msg, strlen(t->msg));
	free(t);
	return true;
}

/* Frames and timers take turns, so neither a flood of messages nor a busy
 * timer starves the other. */
static void __attribute__((noreturn)) loop(void)
{
	for (;;) {
		bool busy;

		if (stop_signal || w.gone)
			finish("shutdown", 0);
		busy = run_one_msg();
		busy |= run_one_timer();
		if (!busy)
			wait_io(w.timers ? w.timers->at : -1);
	}
}

/* READY is sent only once init() returned 0: that is the start arbor
 * waits for before it starts the next child. */
void arbor_run(int argc, char **argv, const struct arbor_callbacks *cb)
{
	static const struct arbor_callbacks none;
	struct iovec iov = { .iov_base = READY_PAYLOAD,
			     .iov_len = sizeof(READY_PAYLOAD) - 1 };
	int rc = 0;

	w.cb = cb ? cb : &none;
	w.name = program_invocation_short_name;
	setup_env();
	setup_signals();
	if (w.cb->init)
		rc = w.cb->init(argc, argv, &w.state);
	if (rc != 0) {
		worker_free();
		exit(rc > 0 && rc < 256 ? rc : 1);
	}
	if (stop_signal)
		finish("shutdown", 0);
	if (send_frame(FRAME_READY, 0, &iov, 1) < 0 && errno != EPIPE &&
	    errno != ECANCELED)
		die("write READY: %s", strerror(errno));
	w.ready = true;
	loop();
}

/* What every outgoing frame needs: to be after READY and within
 * max_message. The reason goes to reply for arbor_call(). */
static int check_send(const char *path, size_t len, struct arbor_buf *why)
{
	const char *reason = NULL;
	int err = 0;

	if (!path || !*path) {
		err = EINVAL;
		reason = "no path";
	} else if (!w.ready) {
		err = ENOTCONN;
		reason = "not ready: messages can be sent once init returned";
	} else if (w.gone) {
		err = EPIPE;
		reason = "arbor is gone";
	} else if (strlen(path) + 1 > w.max || len > w.max - strlen(path) - 1) {
		err = EMSGSIZE;
		reason = "message over max_message";
	}
	if (!err)
		return 0;
	if (why) {
		arbor_buf_reset(why);
		arbor_buf_puts(why, reason);
	}
	errno = err;
	return -1;
}

/* A failed call forgets its id, so that a late answer is dropped. */
static int call_failed(struct arbor_buf *reply, int err, const char *reason)
{
	w.waiting = 0;
	arbor_buf_reset(reply);
	arbor_buf_puts(reply, reason);
	errno = err;
	return -1;
}

/* Waits in the worker's own loop, so frames that arrive meanwhile are
 * queued and served, in order, after the callback returns. */
int arbor_call(const char *path, const char *msg, size_t len, int timeout_ms,
	       struct arbor_buf *reply)
{
	int64_t deadline = -1;
	struct msg *a;
	uint64_t id;
	int rc;

	arbor_buf_reset(reply);
	if (arbor_buf_add(reply, "", 0) < 0)
		return -1;
	if (check_send(path, len, reply) < 0)
		return -1;
	if (strcmp(path, w.path) == 0)
		return call_failed(reply, EDEADLK, "calling itself");
	if (w.waiting)
		return call_failed(reply, EBUSY, "a call is already waiting");
	id = ++w.last_id;
	if (timeout_ms >= 0)
		deadline = now_ms() + (timeout_ms ? timeout_ms : ARBOR_CALL_TIMEOUT);
	if (send_routed(FRAME_CALL, id, path, msg, len) < 0)
		return call_failed(reply, errno, errno == ECANCELED ?
				   "stopping" : "arbor is gone");
	w.waiting = id;
	while (!w.answer) {
		if (w.gone)
			return call_failed(reply, EPIPE, "arbor is gone");
		if (stopping())
			return call_failed(reply, ECANCELED, "stopping");
		if (deadline >= 0 && now_ms() >= deadline)
			return call_failed(reply, ETIMEDOUT, "timeout");
		wait_io(deadline);
	}
	a = w.answer;
	w.answer = NULL;
	rc = arbor_buf_add(reply, a->data, a->len);
	if (rc == 0 && a->type == FRAME_ERROR) {
		errno = EREMOTEIO;
		rc = -1;
	}
	free(a);
	return rc;
}

/* Casts and infos are fire-and-forget, as in OTP: arbor drops what it
 * cannot deliver. */
int arbor_cast(const char *path, const char *msg, size_t len)
{
	if (check_send(path, len, NULL) < 0)
		return -1;
	return send_routed(FRAME_CAST, 0, path, msg, len);
}

int arbor_send(const char *path, const char *msg, size_t len)
{
	if (check_send(path, len, NULL) < 0)
		return -1;
	return send_routed(FRAME_INFO, 0, path, msg, len);
}

/* Timers with the same deadline fire in the order they were set. */
int arbor_send_after(int ms, const char *msg)
{
	struct timer *t, **pp;
	size_t len;

	if (ms < 0 || !msg) {
		errno = EINVAL;
		return -1;
	}
	len = strlen(msg);
	t = malloc(sizeof(*t) + len + 1);
	if (!t)
		return -1;
	memcpy(t->msg, msg, len + 1);
	t->at = now_ms() + ms;
	w.last_timer = w.last_timer == INT_MAX ? 1 : w.last_timer + 1;
	t->id = w.last_timer;
	for (pp = &w.timers; *pp && (*pp)->at <= t->at; pp = &(*pp)->next)
		;
	t->next = *pp;
	*pp = t;
	return t->id;
}

/* Timer numbers are not reused until they wrap, so a stale number cancels
 * nothing rather than another timer. */
int arbor_cancel_timer(int timer)
{
	struct timer *t, **pp;

	for (pp = &w.timers; (t = *pp); pp = &t->next) {
		if (t->id == timer) {
			*pp = t->next;
			free(t);
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

/* OTP's {stop, Reason}: normal is a clean exit, anything else a crash that
 * a transient worker is restarted after. Before READY arbor is told
 * nothing (it only expects READY), so the reason goes to stderr. */
void arbor_stop(const char *reason)
{
	int status;

	if (!reason)
		reason = "normal";
	status = strcmp(reason, "normal") == 0 ? 0 : 1;
	if (w.terminating) {
		worker_free();
		exit(status);
	}
	if (!w.ready) {
		if (status)
			fprintf(stderr, "%s: stopping: %s\n",
				w.name ? w.name : program_invocation_short_name,
				reason);
		worker_free();
		exit(status);
	}
	send_text(FRAME_STOP, 0, reason, strlen(reason));
	finish(reason, status);
}

/* Workers use their path in messages and to tell other workers where to
 * answer. */
const char *arbor_path(void)
{
	return w.path ? w.path : "";
}
