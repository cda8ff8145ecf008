/* loop: one event loop per supervisor process.
 *
 * Everything a supervisor waits for goes through here: fds (epoll), signals
 * (one signalfd) and deadlines (a heap of timers behind one timerfd). There
 * is no polling and no sleeping: loop_run() blocks in epoll_wait until
 * something happens. Callbacks may add and remove fds and timers freely,
 * including the one being dispatched; deferred work (loop_defer) runs
 * before each sleep. */
#ifndef ARBOR_LOOP_H
#define ARBOR_LOOP_H

#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

struct loop;
struct loop_timer;

typedef void loop_fd_fn(struct loop *l, int fd, uint32_t events, void *data);
typedef void loop_timer_fn(struct loop *l, void *data);
typedef void loop_signal_fn(struct loop *l, const struct signalfd_siginfo *si,
			    void *data);

struct loop *loop_new(void);
/* Closes the loop's own fds (epoll, timerfd, signalfd), not the watched ones. */
void loop_free(struct loop *l);

/* Watches fd for events (EPOLLIN, EPOLLOUT, ...). One watch per fd. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn,
		void *data);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Forgets fd; an event already fetched for it is not delivered. */
void loop_del_fd(struct loop *l, int fd);

/* A one-shot timer firing ms milliseconds from now. */
struct loop_timer *loop_timer_add(struct loop *l, int64_t ms, loop_timer_fn *fn,
				  void *data);
/* Cancels a timer that has not fired; NULL is fine. */
void loop_timer_del(struct loop *l, struct loop_timer *t);

/* Blocks the signals in set and delivers them to fn through a signalfd. */
int loop_signals(struct loop *l, const sigset_t *set, loop_signal_fn *fn,
		 void *data);
/* Runs fn(l, data) once, after the handler that is running returns and
 * before the loop sleeps again, in the order deferred: a handler hands on
 * what it has learnt instead of running the next step inside itself. 0, or
 * -1 (ENOMEM). */
typedef void loop_defer_fn(struct loop *l, void *data);
int loop_defer(struct loop *l, loop_defer_fn *fn, void *data);
/* Drops the deferred calls for data (an object about to be freed). */
void loop_defer_cancel(struct loop *l, void *data);

/* Runs until loop_stop(); 0, or -1 on an epoll failure. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t loop_now_ms(void);
/* CLOCK_REALTIME in milliseconds (for uptimes shown to people). */
int64_t loop_wall_ms(void);

#endif
