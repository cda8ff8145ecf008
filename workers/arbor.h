/* libarbor: write an arbor worker in C as an OTP GenServer.
 *
 * A worker fills in struct arbor_callbacks and calls arbor_run(), which
 * speaks arbor-protocol(7) on the pipes arbor gave it: init() returning is
 * readiness, each CALL goes to handle_call() and its answer back to the
 * caller, CASTs to handle_cast(), INFOs and the worker's own timers to
 * handle_info(), and terminate() runs when the worker is stopped in order
 * (SIGTERM, SIGINT, arbor gone, arbor_stop()). Messages are served one at a
 * time, in order; a call may be answered later (ARBOR_NOREPLY, arbor_reply()),
 * so that many are in flight at once. The full manual is libarbor(3). */
#ifndef ARBOR_H
#define ARBOR_H

#include <stddef.h>
#include <stdint.h>

/* Default timeout of arbor_call(), as GenServer.call's. */
#define ARBOR_CALL_TIMEOUT 5000

/* handle_call() returns it to answer later, with arbor_reply(). */
#define ARBOR_NOREPLY 1

/* Who waits for the answer to a call, as OTP's From: a small value to copy
 * and keep. id is the CALL's correlation id (0: no call). */
struct arbor_from {
	uint64_t id;
};

/* A growable byte string. data is NUL-terminated past len once anything was
 * added (even zero bytes), so a text reply can be used as a C string; it may
 * also hold binary bytes. Zero-initialise it. */
struct arbor_buf {
	char *data;
	size_t len, cap;
};

int arbor_buf_add(struct arbor_buf *b, const void *data, size_t len);
int arbor_buf_puts(struct arbor_buf *b, const char *s);
int arbor_buf_printf(struct arbor_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Empties the string, keeping its memory. */
void arbor_buf_reset(struct arbor_buf *b);
void arbor_buf_free(struct arbor_buf *b);

/* Every callback may be NULL. A message msg has len bytes and is followed by
 * a NUL that is not part of it. */
struct arbor_callbacks {
	/* Runs first, with the worker's argv; sets *state for the others.
	 * Returns 0 when ready, or an exit status (> 0) to exit with at once,
	 * without becoming ready and without terminate(). NULL: ready at
	 * once with a NULL state. */
	int (*init)(int argc, char **argv, void **state);
	/* Answers one CALL: returns 0 to reply with *reply, -1 to answer an
	 * error whose reason is *reply, ARBOR_NOREPLY to answer later with
	 * arbor_reply(), keeping arbor_from(). NULL: every call is an error
	 * "unexpected call: MSG". */
	int (*handle_call)(void *state, const char *msg, size_t len,
			   struct arbor_buf *reply);
	/* A CAST: no answer. NULL: ignored. */
	void (*handle_cast)(void *state, const char *msg, size_t len);
	/* An INFO (arborctl send, another worker's arbor_send) or a timer of
	 * arbor_send_after(). NULL: ignored. */
	void (*handle_info)(void *state, const char *msg, size_t len);
	/* Runs once on an orderly stop, reason "shutdown" or arbor_stop()'s;
	 * frees the state. Not run after a protocol error or a failed init. */
	void (*terminate)(void *state, const char *reason);
};

/* Runs the worker until it stops, then exits: 0 after an orderly stop
 * (SIGTERM, SIGINT, EOF from arbor) or arbor_stop("normal"), 1 after
 * another arbor_stop() reason, a protocol error, or when not started by
 * arbor as a genserver (a message on stderr says why). */
void arbor_run(int argc, char **argv, const struct arbor_callbacks *cb)
	__attribute__((noreturn));

/* Calls the worker at path (its path in the tree, "database/agent") and
 * waits for the answer, at most timeout_ms (0: ARBOR_CALL_TIMEOUT; < 0:
 * until arbor answers, which it does within its own 5000 ms). Returns 0 and
 * the reply in *reply, or -1 with the reason in *reply and errno:
 * EREMOTEIO  the callee or arbor answered an error (noproc, timeout, ...);
 * ETIMEDOUT  no answer in time (reason "timeout"; a late one is dropped);
 * EDEADLK    path is this worker; ENOTCONN  called from init();
 * ECANCELED  the worker is being stopped; EPIPE  arbor is gone;
 * EMSGSIZE   path and message pass max_message.
 * Frames arriving meanwhile wait, in order, until the callback returns. */
int arbor_call(const char *path, const char *msg, size_t len, int timeout_ms,
	       struct arbor_buf *reply);
/* Sends a CAST, or an INFO (handle_info()), to the worker at path. Returns
 * at once: 0, or -1 with errno as arbor_call()'s. Delivery is not
 * confirmed, as in OTP. */
int arbor_cast(const char *path, const char *msg, size_t len);
int arbor_send(const char *path, const char *msg, size_t len);

/* The caller of the call handle_call() is serving; outside handle_call(),
 * { 0 }. */
struct arbor_from arbor_from(void);
/* Answers a call handle_call() returned ARBOR_NOREPLY for, from any
 * callback, once: 0, or -1 with errno: EINVAL  from is no call this worker
 * was given; EMSGSIZE  len passes max_message; EPIPE  arbor is gone. A
 * reply to a call that timed out meanwhile is dropped by arbor. */
int arbor_reply(struct arbor_from from, const void *data, size_t len);
/* The same, answering an error whose reason is the text why. */
int arbor_reply_error(struct arbor_from from, const char *why);

/* Delivers msg to this worker's handle_info() in ms milliseconds. Returns a
 * timer number (> 0) for arbor_cancel_timer(), or -1 (ENOMEM, EINVAL). */
int arbor_send_after(int ms, const char *msg);
/* Cancels a timer that has not fired yet: 0, or -1 (ENOENT). */
int arbor_cancel_timer(int timer);

/* Monitors the node at path (a worker or a supervisor, its whole path from
 * the root), as OTP's monitor/2: handle_info() then receives "DOWN PATH
 * REASON" when it stops running (REASON: "exit N", "signal SIGKILL",
 * "shutdown" when arbor or arborctl stopped it) and "UP PATH" when it runs
 * and is ready again, until arbor_demonitor() or this worker's own end.
 * When the node does not run now, "DOWN PATH noproc" comes at once. Waits
 * for arbor's answer, frames arriving meanwhile queued: 0, or -1 with errno
 * ENOENT  no node has that path; EINVAL  no path; ENOTCONN  called from
 * init() (use monitor = in arbor.ini); EBUSY  inside an arbor_call();
 * ECANCELED  stopping; EPIPE  arbor is gone; ETIMEDOUT  no answer;
 * EREMOTEIO  arbor refused otherwise. Monitoring twice is monitoring once. */
int arbor_monitor(const char *path);
/* Ends the monitor of path (nothing more comes for it): 0, or -1 with
 * errno as arbor_monitor()'s. A path not monitored is fine. */
int arbor_demonitor(const char *path);

/* Stops the worker with reason: tells arbor (a STOP frame that arbor
 * logs), runs terminate(reason), exits 0 when reason is "normal", else 1
 * (so a transient worker is restarted). Call it from a callback. */
void arbor_stop(const char *reason) __attribute__((noreturn));

/* This worker's path in the tree ($ARBOR_PATH), "" before arbor_run(). */
const char *arbor_path(void);

#endif
