/* loop: epoll + signalfd + one timerfd behind a min-heap of deadlines. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

struct watch {
	loop_fd_fn *fn;
	void *data;
	uint32_t gen;		/* bumped on every add: stale events are dropped */
};

struct loop_timer {
	int64_t at;		/* CLOCK_MONOTONIC ms */
	size_t idx;		/* place in the heap */
	loop_timer_fn *fn;
	void *data;
};

struct deferred {
	loop_defer_fn *fn;	/* NULL: cancelled */
	void *data;
};

struct loop {
	int epfd, tfd, sfd;
	struct watch *w;	/* indexed by fd */
	size_t nw;
	struct loop_timer **heap;
	size_t nheap, capheap;
	int64_t armed;		/* deadline the timerfd is set to, or -1 */
	loop_signal_fn *sig_fn;
	void *sig_data;
	struct deferred *defer;	/* to run before the next sleep, in order */
	size_t ndefer, capdefer;
	int stop;
};

int64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t loop_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Events carry fd and generation so an event fetched before its fd was
 * removed (and maybe reused) is recognised and dropped. */
static uint64_t pack(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

static int watch_grow(struct loop *l, int fd)
{
	size_t n = l->nw ? l->nw : 64;
	struct watch *w;

	while (n <= (size_t)fd)
		n *= 2;
	w = realloc(l->w, n * sizeof(*w));
	if (!w)
		return -1;
	memset(w + l->nw, 0, (n - l->nw) * sizeof(*w));
	l->w = w;
	l->nw = n;
	return 0;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn,
		void *data)
{
	struct epoll_event ev = { .events = events };

	if ((size_t)fd >= l->nw && watch_grow(l, fd) < 0)
		return -1;
	l->w[fd].gen++;
	ev.data.u64 = pack(fd, l->w[fd].gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	l->w[fd].fn = fn;
	l->w[fd].data = data;
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if ((size_t)fd >= l->nw || !l->w[fd].fn) {
		errno = ENOENT;
		return -1;
	}
	ev.data.u64 = pack(fd, l->w[fd].gen);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nw || !l->w[fd].fn)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->w[fd].fn = NULL;
	l->w[fd].data = NULL;
	l->w[fd].gen++;
}

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];

	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->idx = a;
	l->heap[b]->idx = b;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0 && l->heap[(i - 1) / 2]->at > l->heap[i]->at) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t s = i, c = 2 * i + 1;

		if (c < l->nheap && l->heap[c]->at < l->heap[s]->at)
			s = c;
		if (c + 1 < l->nheap && l->heap[c + 1]->at < l->heap[s]->at)
			s = c + 1;
		if (s == i)
			return;
		heap_swap(l, i, s);
		i = s;
	}
}

/* Points the timerfd at the earliest deadline if that is sooner than where
 * it points now; it is never disarmed (a needless wake-up is harmless). */
static void timer_arm(struct loop *l)
{
	struct itimerspec its = { 0 };
	int64_t at = l->nheap ? l->heap[0]->at : -1;

	if (at < 0 || (l->armed >= 0 && at >= l->armed))
		return;		/* an early wake-up finds nothing and re-arms */
	its.it_value.tv_sec = at / 1000;
	its.it_value.tv_nsec = (at % 1000) * 1000000;
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		its.it_value.tv_nsec = 1;
	timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
	l->armed = at;
}

struct loop_timer *loop_timer_add(struct loop *l, int64_t ms, loop_timer_fn *fn,
				  void *data)
{
	struct loop_timer *t;

	if (l->nheap == l->capheap) {
		size_t n = l->capheap ? 2 * l->capheap : 16;
		struct loop_timer **h = realloc(l->heap, n * sizeof(*h));

		if (!h)
			return NULL;
		l->heap = h;
		l->capheap = n;
	}
	t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	t->at = loop_now_ms() + (ms > 0 ? ms : 0);
	t->fn = fn;
	t->data = data;
	t->idx = l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, t->idx);
	timer_arm(l);
	return t;
}

static void heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->idx;

	l->nheap--;
	if (i != l->nheap) {
		heap_swap(l, i, l->nheap);
		heap_down(l, i);
		heap_up(l, i);
	}
}

void loop_timer_del(struct loop *l, struct loop_timer *t)
{
	if (!t)
		return;
	heap_remove(l, t);
	free(t);
	timer_arm(l);
}

static void timers_fire(struct loop *l)
{
	uint64_t n;
	int64_t now = loop_now_ms();

	if (read(l->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	l->armed = -1;
	while (l->nheap && l->heap[0]->at <= now) {
		struct loop_timer *t = l->heap[0];

		heap_remove(l, t);
		t->fn(l, t->data);
		free(t);
	}
	timer_arm(l);
}

static void signals_read(struct loop *l)
{
	struct signalfd_siginfo si[16];
	ssize_t n;

	while ((n = read(l->sfd, si, sizeof(si))) > 0) {
		for (size_t i = 0; i < (size_t)n / sizeof(si[0]); i++)
			l->sig_fn(l, &si[i], l->sig_data);
		if (l->sfd < 0)
			return;
	}
}

int loop_signals(struct loop *l, const sigset_t *set, loop_signal_fn *fn,
		 void *data)
{
	int fd;

	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -1;
	fd = signalfd(l->sfd, set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	l->sfd = fd;
	l->sig_fn = fn;
	l->sig_data = data;
	return 0;
}

int loop_defer(struct loop *l, loop_defer_fn *fn, void *data)
{
	if (l->ndefer == l->capdefer) {
		size_t n = l->capdefer ? 2 * l->capdefer : 16;
		struct deferred *d = realloc(l->defer, n * sizeof(*d));

		if (!d)
			return -1;
		l->defer = d;
		l->capdefer = n;
	}
	l->defer[l->ndefer].fn = fn;
	l->defer[l->ndefer++].data = data;
	return 0;
}

void loop_defer_cancel(struct loop *l, void *data)
{
	for (size_t i = 0; i < l->ndefer; i++)
		if (l->defer[i].data == data)
			l->defer[i].fn = NULL;
}

/* Runs the deferred calls, and those they defer, until none is left. */
static void defer_run(struct loop *l)
{
	while (l->ndefer && !l->stop) {
		struct deferred d = l->defer[0];

		l->ndefer--;
		memmove(l->defer, l->defer + 1, l->ndefer * sizeof(*l->defer));
		if (d.fn)
			d.fn(l, d.data);
	}
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->sfd = -1;
	l->armed = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto err_free;
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0)
		goto err_close_ep;
	return l;

err_close_ep:
	close(l->epfd);
err_free:
	free(l);
	return NULL;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	close(l->tfd);
	if (l->sfd >= 0)
		close(l->sfd);
	for (size_t i = 0; i < l->nheap; i++)
		free(l->heap[i]);
	free(l->heap);
	free(l->defer);
	free(l->w);
	free(l);
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

/* Calls the handlers of one batch of fd events; the timerfd and the
 * signalfd are only noted, in *tick and *sig. */
static void dispatch(struct loop *l, const struct epoll_event *ev, int n, int *tick, int *sig)
{
	for (int i = 0; i < n && !l->stop; i++) {
		uint64_t u = ev[i].data.u64;
		int fd = (int)(uint32_t)u;
		struct watch *w = (size_t)fd < l->nw ? &l->w[fd] : NULL;

		if (u == UINT64_MAX)
			*tick = 1;
		else if (u == UINT64_MAX - 1)
			*sig = 1;
		else if (w && w->fn && w->gen == (uint32_t)(u >> 32))
			w->fn(l, fd, ev[i].events, w->data);
	}
}

/* The timerfd and signalfd are checked after the batch's other fds, so a
 * child's pipe EOF is seen before the SIGCHLD that reports its death. */
int loop_run(struct loop *l)
{
	struct epoll_event ev[64];
	struct epoll_event tev = { .events = EPOLLIN, .data.u64 = UINT64_MAX };
	struct epoll_event sev = { .events = EPOLLIN, .data.u64 = UINT64_MAX - 1 };

	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &tev) < 0)
		return -1;
	if (l->sfd >= 0 && epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->sfd, &sev) < 0)
		return -1;
	l->stop = 0;
	while (defer_run(l), !l->stop) {
		int n = epoll_wait(l->epfd, ev, 64, -1);
		int tick = 0, sig = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		dispatch(l, ev, n, &tick, &sig);
		if (sig && !l->stop)
			signals_read(l);
		if (tick && !l->stop)
			timers_fire(l);
	}
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->tfd, NULL);
	if (l->sfd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, l->sfd, NULL);
	return 0;
}
