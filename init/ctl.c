/* ctl: the control socket server (see ctl.h and arborctl(8)).
 *
 * Every client is a small state machine driven by client_pump(): it reads
 * one frame, hands the request to the request callback, and reads the next only
 * once the answer has been written out. So a client holds at most one
 * request in flight, one bounded read buffer and one answer, and a client
 * that stalls (half a request, an unread answer) stalls nobody else.
 *
 * An answer may come long after the request (a call waits for its worker)
 * or before the request callback returns. It goes through a struct ctl_req that
 * outlives its client: when the client goes first, req->cl is set to NULL
 * and the answer is dropped.
 *
 * A client whose `events` request was answered with success becomes a
 * follower: it sends nothing more, and every event of its subtree is
 * queued for it as an INFO frame (ctl_event()), up to CTL_FOLLOW_QUEUE
 * bytes; the rest is dropped and counted. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_path.h"
#include "frame.h"
#include "log.h"
#include "passwd.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

#define CTL_BACKLOG 1024
#define CTL_MAX_WORDS 8		/* call PATH MESSAGE TIMEOUT is the longest */
#define CTL_MAX_CLIENTS 4096
#define CTL_FD_RESERVE 256	/* fds kept for the tree when clients are many */
#define CTL_WANT_NOFILE 8192	/* soft RLIMIT_NOFILE raised to this at most */
#define CTL_IDLE_MS (60 * 1000)	/* an idle connection is closed after this */
#define CTL_RETRY_MS 100	/* accept() paused this long after EMFILE */
#define CTL_ACCEPT_BATCH 64	/* accepts per wake-up, so clients get turns */
#define CTL_FOLLOW_QUEUE (64 * 1024)	/* events queued for a follower, at most */

struct ctl_client;

struct ctl {
	ctl_request_fn *request;	/* who answers */
	void *data;
	struct loop *loop;
	int fd;
	char *path;
	dev_t dev;		/* the file we bound, unlinked only if still ours */
	ino_t ino;
	uid_t euid;
	bool has_gid;
	gid_t gid;
	struct ctl_client *clients;
	size_t nclients, max_clients;
	bool paused;		/* not accepting: too many clients or no fds */
	int accept_err;		/* the errno last logged, until accept works */
	struct loop_timer *retry;
	bool closing;
};

struct ctl_req {
	struct ctl_client *cl;	/* NULL once the client has gone */
	uint64_t id;
	bool follow;		/* `events`: a follower once answered */
};

struct ctl_client {
	struct ctl *ctl;
	struct ctl_client *prev, *next;
	int fd;
	struct fbuf rb, wb;
	struct ctl_req *req;	/* the request in flight, or NULL */
	struct loop_timer *idle;
	uint32_t events;	/* what the loop watches for now */
	bool closing;		/* close once wb is written (a bad request) */
	bool dead;		/* free at the end of the pump */
	bool pumping, again;
	int64_t last;		/* the last request or answer, for the idle timer */
	bool follow;		/* follows events: sends no more requests */
	bool follow_json;
	char *follow_path;	/* the subtree it follows */
	unsigned long dropped;	/* events that did not fit its queue */
};

static void client_pump(struct ctl_client *cl);
static bool client_idle(const struct ctl_client *cl);

/* --- accepting --- */

static void ctl_resume(struct ctl *c)
{
	if (!c->paused || c->retry || c->closing || c->nclients >= c->max_clients)
		return;
	if (loop_mod_fd(c->loop, c->fd, EPOLLIN) == 0)
		c->paused = false;
}

static void on_retry(struct loop *l, void *data)
{
	struct ctl *c = data;

	c->retry = NULL;
	ctl_resume(c);
}

/* With no fd to accept into, a level-triggered listener would wake the
 * loop forever: stop watching it until a client goes or a moment passes. */
static void ctl_pause(struct ctl *c, int64_t retry_ms)
{
	if (!c->paused && loop_mod_fd(c->loop, c->fd, 0) == 0)
		c->paused = true;
	if (retry_ms && !c->retry)
		c->retry = loop_timer_add(c->loop, retry_ms, on_retry, c);
}

/* SO_PEERGROUPS gives the peer's supplementary groups as the kernel saw
 * them at connect(); kernels before 4.13 lack it, and then the groups of
 * the uid's user in the group database count instead. */
static bool peer_in_group(int fd, uid_t uid, gid_t primary, gid_t want)
{
	gid_t some[64], *g = some;
	socklen_t len = sizeof(some);
	bool in = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
		/* len is what the kernel wrote */
	} else if (errno == ERANGE) {
		g = malloc(len);
		if (!g)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
			len = 0;
	} else if (errno == ENOPROTOOPT) {
		struct passwd_user pw;
		size_t n = 0;

		if (passwd_user_by_uid(uid, &pw) == 0) {
			if (passwd_user_groups(pw.name, primary, &g, &n) < 0)
				g = some;
			passwd_user_free(&pw);
		}
		len = (socklen_t)(n * sizeof(gid_t));
	} else {
		len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		in = in || g[i] == want;
	if (g != some)
		free(g);
	return in;
}

/* Root, arbor's own uid, and control_group may steer the tree. */
static bool peer_allowed(const struct ctl *c, int fd, uid_t *uid)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return false;
	*uid = cr.uid;
	if (cr.uid == 0 || cr.uid == c->euid)
		return true;
	if (!c->has_gid)
		return false;
	return cr.gid == c->gid || peer_in_group(fd, cr.uid, cr.gid, c->gid);
}

/* One ERROR frame, then the door closes. A fresh socket's buffer takes a
 * frame this small whole, so this never blocks. */
static void refuse(int fd, uid_t uid)
{
	uint8_t b[FRAME_HDR + 128];
	int n;

	n = snprintf((char *)b + FRAME_HDR, sizeof(b) - FRAME_HDR,
		     "permission denied: uid %u is not allowed (control_group admits a group)",
		     (unsigned)uid);
	if (n < 0 || (size_t)n >= sizeof(b) - FRAME_HDR)
		n = 0;
	frame_header(b, FRAME_ERROR, 0, (uint32_t)n);
	if (send(fd, b, FRAME_HDR + (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control socket: refusing uid %u: %s", (unsigned)uid, strerror(errno));
	close(fd);
}

static void on_client_io(struct loop *l, int fd, uint32_t ev, void *data);

static void client_add(struct ctl *c, int fd)
{
	struct ctl_client *cl;
	uid_t uid = (uid_t)-1;

	if (!peer_allowed(c, fd, &uid)) {
		log_msg("control socket: refused a client with uid %d", (int)uid);
		refuse(fd, uid);
		return;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		goto err_close;
	cl->ctl = c;
	cl->fd = fd;
	cl->events = EPOLLIN;
	if (loop_add_fd(c->loop, fd, EPOLLIN, on_client_io, cl) < 0)
		goto err_free;
	cl->next = c->clients;
	if (c->clients)
		c->clients->prev = cl;
	c->clients = cl;
	c->nclients++;
	client_pump(cl);	/* arms the idle timer */
	return;

err_free:
	free(cl);
err_close:
	log_msg("control socket: dropping a client: %s", strerror(errno));
	close(fd);
}

static void on_accept(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct ctl *c = data;

	for (int i = 0; i < CTL_ACCEPT_BATCH; i++) {
		int cfd;

		if (c->nclients >= c->max_clients) {
			ctl_pause(c, 0);
			return;
		}
		cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd >= 0) {
			c->accept_err = 0;
			client_add(c, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* one line per episode, not one per retry */
		if (errno != c->accept_err)
			log_msg("control socket %s: accept: %s", c->path, strerror(errno));
		c->accept_err = errno;
		ctl_pause(c, CTL_RETRY_MS);
		return;
	}
}

/* --- one client --- */

static void client_free(struct ctl_client *cl)
{
	struct ctl *c = cl->ctl;

	if (cl->req)
		cl->req->cl = NULL;	/* its answer will find nobody */
	loop_timer_del(c->loop, cl->idle);
	loop_del_fd(c->loop, cl->fd);
	close(cl->fd);
	fbuf_free(&cl->rb);
	fbuf_free(&cl->wb);
	free(cl->follow_path);
	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->nclients--;
	free(cl);
	ctl_resume(c);
}

/* Frees now, or at the end of the pump that is running for it. */
static void client_drop(struct ctl_client *cl)
{
	cl->dead = true;
	if (!cl->pumping)
		client_free(cl);
}

static void on_idle(struct loop *l, void *data)
{
	struct ctl_client *cl = data;
	int64_t left = cl->last + CTL_IDLE_MS - loop_now_ms();

	cl->idle = NULL;
	if (!client_idle(cl) || left > 0) {
		cl->idle = loop_timer_add(l, left > 0 ? left : CTL_IDLE_MS, on_idle, cl);
		return;
	}
	client_drop(cl);
}

/* send() rather than write(): a client that has gone must not raise
 * SIGPIPE, which PID 1 takes from its signalfd and would pass on. */
static int client_flush(struct ctl_client *cl)
{
	struct fbuf *b = &cl->wb;

	while (fbuf_pending(b)) {
		ssize_t n = send(cl->fd, b->buf + b->off, fbuf_pending(b),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		fbuf_consume(b, (size_t)n);
	}
	return 1;
}

/* A request that cannot be framed ends the connection: after garbage there
 * is no telling where the next frame would begin. */
static void client_bad(struct ctl_client *cl, uint64_t id, const char *why)
{
	char m[300];
	int n = snprintf(m, sizeof(m), "bad request: %s", why);

	if (n < 0 || (size_t)n >= sizeof(m))
		n = (int)strlen(m);
	if (fbuf_put(&cl->wb, FRAME_ERROR, id, m, (uint32_t)n, 0) < 0)
		cl->dead = true;
	cl->closing = true;
	cl->again = true;	/* to write it and close */
}

/* The answer to a request. Given inside the request callback, it is written by
 * the pump that made the request; given later, it may come in the middle
 * of anything (another client's request, a child's exit), so the client
 * only asks the loop for a turn: nothing here starts a new request. */
static void ctl_done(void *ctx, int rc, const char *text, size_t len)
{
	struct ctl_req *r = ctx;
	struct ctl_client *cl = r->cl;
	uint64_t id = r->id;
	bool follow = r->follow;

	free(r);
	if (!cl)
		return;
	cl->req = NULL;
	cl->follow = follow && rc == 0;
	if (len > UINT32_MAX - FRAME_HDR)
		len = 0;
	if (fbuf_put(&cl->wb, rc ? FRAME_ERROR : FRAME_REPLY, id, text, (uint32_t)len, 0) < 0)
		cl->dead = true;
	if (cl->pumping) {
		cl->again = true;
		return;
	}
	/* Later, from the loop: this may be deep inside another request. */
	if (client_flush(cl) == 1) {
		if (!(cl->events & EPOLLIN) && loop_mod_fd(cl->ctl->loop, cl->fd, EPOLLIN) == 0)
			cl->events = EPOLLIN;
		return;
	}
	if (loop_mod_fd(cl->ctl->loop, cl->fd, EPOLLOUT) == 0)
		cl->events = EPOLLOUT;
}

/* The payload is the request's words separated by NULs; the request callback gets
 * them as argv. */
static void client_request(struct ctl_client *cl, const struct frame *f)
{
	char *words, *argv[CTL_MAX_WORDS + 1];
	int argc = 0;
	struct ctl_req *r;

	if (f->type != FRAME_CALL) {
		char m[64];

		snprintf(m, sizeof(m), "expected a CALL frame, got %s", frame_type_name(f->type));
		client_bad(cl, f->id, m);
		return;
	}
	words = malloc((size_t)f->len + 1);
	r = malloc(sizeof(*r));
	if (!words || !r) {
		free(words);
		free(r);
		cl->dead = true;
		return;
	}
	memcpy(words, f->data, f->len);
	words[f->len] = '\0';
	for (size_t at = 0; at <= f->len && argc <= CTL_MAX_WORDS; at += strlen(words + at) + 1)
		argv[argc++] = words + at;
	fbuf_consume(&cl->rb, FRAME_HDR + (size_t)f->len);
	r->cl = cl;
	r->id = f->id;
	r->follow = false;
	if (argc >= 3 && !strcmp(argv[0], "events")) {	/* events PATH text|json */
		free(cl->follow_path);
		cl->follow_path = strdup(argv[1]);
		cl->follow_json = !strcmp(argv[2], "json");
		r->follow = cl->follow_path != NULL;
	}
	cl->req = r;
	if (f->len == 0 || argc > CTL_MAX_WORDS) {
		const char *m = f->len ? "bad request: too many words" : "bad request: empty";

		ctl_done(r, 1, m, strlen(m));
	} else
		cl->ctl->request(cl->ctl->data, argc, argv, ctl_done, r);
	free(words);
}

/* Starts the next request in the read buffer, if one is whole. */
static void client_next(struct ctl_client *cl)
{
	struct frame f;
	size_t used;
	enum frame_status st;

	st = frame_decode(cl->rb.buf + cl->rb.off, fbuf_pending(&cl->rb), CTL_MAX_REQUEST,
			  &f, &used);
	if (st == FRAME_OK) {
		client_request(cl, &f);
	} else if (st != FRAME_SHORT) {
		const uint8_t *h = cl->rb.buf + cl->rb.off;
		uint64_t id = 0;
		char m[200];

		frame_describe(st, h, CTL_MAX_REQUEST, m, sizeof(m));
		if (st == FRAME_ETOOBIG) {
			/* the header is sound but for its length: answer its id */
			for (int i = 8; i < FRAME_HDR; i++)
				id = id << 8 | h[i];
			snprintf(m, sizeof(m), "request over the limit of %d bytes",
				 CTL_MAX_REQUEST);
		}
		client_bad(cl, id, m);
	}
}

static bool client_idle(const struct ctl_client *cl)
{
	return !cl->req && !fbuf_pending(&cl->wb) && !cl->closing && !cl->follow;
}

/* Reads only while idle: the next request waits in the socket until the
 * answer to this one is out, which bounds both buffers. */
static void client_watch(struct ctl_client *cl)
{
	struct ctl *c = cl->ctl;
	uint32_t ev = fbuf_pending(&cl->wb) ? EPOLLOUT : client_idle(cl) ? EPOLLIN : cl->events;

	if (cl->follow)	/* EPOLLIN: to see it go */
		ev = EPOLLIN | (fbuf_pending(&cl->wb) ? EPOLLOUT : 0);

	if (ev != cl->events && loop_mod_fd(c->loop, cl->fd, ev) == 0)
		cl->events = ev;
	cl->last = loop_now_ms();
	if (!cl->idle)
		cl->idle = loop_timer_add(c->loop, CTL_IDLE_MS, on_idle, cl);
}

/* Writes what is queued and starts what is read, until the client waits on
 * something. An answer given inside the request callback only sets `again`, so a
 * client that pipelines many requests is served by this loop, not by
 * recursion. Runs only from the loop's callbacks. */
static void client_pump(struct ctl_client *cl)
{
	if (cl->pumping) {
		cl->again = true;
		return;
	}
	cl->pumping = true;
	do {
		cl->again = false;
		if (cl->dead)
			break;
		if (client_flush(cl) < 0 || (cl->closing && !fbuf_pending(&cl->wb)))
			cl->dead = true;
		else if (client_idle(cl))
			client_next(cl);
	} while (cl->again);
	cl->pumping = false;
	if (cl->dead)
		client_free(cl);
	else
		client_watch(cl);
}

static void follower_io(struct ctl_client *cl, uint32_t ev);

static void on_client_io(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct ctl_client *cl = data;

	if (cl->follow) {
		follower_io(cl, ev);
		return;
	}
	if ((ev & EPOLLIN) && !client_idle(cl) && !fbuf_pending(&cl->wb)) {
		/* a request is in flight and the next one knocks: wait */
		if (loop_mod_fd(l, fd, 0) == 0)
			cl->events = 0;
	}
	if ((ev & EPOLLIN) && client_idle(cl)) {
		ssize_t n = fbuf_fill(&cl->rb, fd, CTL_MAX_REQUEST);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			cl->dead = true;	/* gone, maybe halfway through */
	}
	/* HUP: the peer closed both ways; what it sent whole still runs. */
	if ((ev & EPOLLERR) || ((ev & EPOLLHUP) && !(ev & EPOLLIN)))
		cl->dead = true;
	client_pump(cl);
}

/* --- followers of events --- */

static bool follows(const struct ctl_client *cl, const char *path)
{
	size_t n;

	if (!cl->follow || cl->dead)
		return false;
	n = strlen(cl->follow_path);
	return !n || (!strncmp(path, cl->follow_path, n) && (path[n] == '/' || !path[n]));
}

/* Says how many events were dropped, once that fits: 0, or -1. */
static int put_dropped(struct ctl_client *cl)
{
	char kv[48], line[LOG_LINE_MAX];
	struct log_event e = { .pid = (int)getpid(), .event = "dropped",
			       .path = cl->follow_path, .kv = kv };
	size_t n;

	snprintf(kv, sizeof(kv), "count=%lu", cl->dropped);
	e.time_ms = loop_wall_ms();
	n = log_render(line, sizeof(line), cl->follow_json, &e);
	if (fbuf_put(&cl->wb, FRAME_INFO, 0, line, (uint32_t)n, CTL_FOLLOW_QUEUE) < 0)
		return -1;
	cl->dropped = 0;
	return 0;
}

/* Queues one line and writes what the socket takes now. */
static void follower_put(struct ctl_client *cl, const char *line, size_t n)
{
	int r;

	/* after a drop, the queue drains to half before anything more goes
	 * in: one "dropped" line per episode, not one per event */
	if ((cl->dropped && (fbuf_pending(&cl->wb) > CTL_FOLLOW_QUEUE / 2 ||
			     put_dropped(cl) < 0)) ||
	    fbuf_put(&cl->wb, FRAME_INFO, 0, line, (uint32_t)n, CTL_FOLLOW_QUEUE) < 0) {
		cl->dropped++;
		return;
	}
	r = client_flush(cl);
	if (r < 0) {
		client_drop(cl);
		return;
	}
	if (r == 0 && !(cl->events & EPOLLOUT) &&
	    loop_mod_fd(cl->ctl->loop, cl->fd, EPOLLIN | EPOLLOUT) == 0)
		cl->events = EPOLLIN | EPOLLOUT;
}

/* A follower only ever reads its queue; what it writes is ignored, and
 * its end (EOF, an error) frees it. */
static void follower_io(struct ctl_client *cl, uint32_t ev)
{
	if (ev & EPOLLIN) {
		char junk[512];
		ssize_t n = recv(cl->fd, junk, sizeof(junk), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			       errno != EINTR))
			cl->dead = true;
	}
	if (ev & (EPOLLERR | EPOLLHUP))
		cl->dead = true;
	if (!cl->dead && (ev & EPOLLOUT) && client_flush(cl) >= 0 && cl->dropped &&
	    fbuf_pending(&cl->wb) <= CTL_FOLLOW_QUEUE / 2)
		put_dropped(cl);
	client_pump(cl);
}

void ctl_event(void *data, const struct log_event *e)
{
	struct ctl *c = data;
	char text[LOG_LINE_MAX], json[LOG_LINE_MAX];
	size_t nt = 0, nj = 0;
	struct ctl_client *cl, *next;

	if (!c || c->closing)
		return;
	for (cl = c->clients; cl; cl = next) {
		next = cl->next;
		if (!follows(cl, e->path))
			continue;
		if (cl->follow_json && !nj)
			nj = log_render(json, sizeof(json), true, e);
		else if (!cl->follow_json && !nt)
			nt = log_render(text, sizeof(text), false, e);
		if (cl->follow_json)
			follower_put(cl, json, nj);
		else
			follower_put(cl, text, nt);
	}
}

/* Followers hear that the stream ends, as far as their socket takes it. */
static void followers_end(struct ctl *c)
{
	static const char end[] = "shut down";

	for (struct ctl_client *cl = c->clients; cl; cl = cl->next) {
		if (!cl->follow || cl->dead)
			continue;
		if (cl->dropped)
			put_dropped(cl);
		fbuf_put(&cl->wb, FRAME_REPLY, 0, end, sizeof(end) - 1, 0);
	}
}

/* --- the socket --- */

/* 1,000 clients at once need 1,000 fds: the soft limit goes up towards the
 * hard one (not all the way: the workers inherit it). */
static size_t raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return CTL_MAX_CLIENTS;
	if (rl.rlim_cur < CTL_WANT_NOFILE && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max < CTL_WANT_NOFILE ? rl.rlim_max : CTL_WANT_NOFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > CTL_MAX_CLIENTS + CTL_FD_RESERVE)
		return CTL_MAX_CLIENTS;
	if (rl.rlim_cur <= 2 * CTL_FD_RESERVE)
		return rl.rlim_cur / 2;
	return rl.rlim_cur - CTL_FD_RESERVE;
}

/* A socket file nobody listens on (connect() refused) is what a dead arbor
 * left: replace it. One that answers belongs to a live arbor: keep off. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_msg("control socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_msg("control socket %s: the file exists and is not a socket", path);
		errno = EEXIST;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_msg("control socket %s: socket: %s", path, strerror(errno));
		return -1;
	}
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		log_msg("control socket %s is in use by a running arbor", path);
		errno = EADDRINUSE;
		return -1;
	}
	if (e != ECONNREFUSED) {
		log_msg("control socket %s: connect: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_msg("control socket %s: cannot remove the stale file: %s", path,
			strerror(errno));
		return -1;
	}
	log_debug("control socket %s: replaced a stale socket file", path);
	return 0;
}

/* The umask makes the file 0600 from its first moment; chmod() makes sure
 * whatever umask arbor was started with. */
static int bind_listen(struct ctl *c, const struct sockaddr_un *sa)
{
	struct stat st;
	mode_t old;
	int r;

	old = umask(0177);
	r = bind(c->fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (r < 0) {
		if (errno == EADDRINUSE)
			log_msg("control socket %s is in use by a running arbor", c->path);
		else
			log_msg("control socket %s: bind: %s", c->path, strerror(errno));
		return -1;
	}
	if (chmod(c->path, 0600) < 0 || stat(c->path, &st) < 0) {
		log_msg("control socket %s: %s", c->path, strerror(errno));
		goto err_unlink;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (listen(c->fd, CTL_BACKLOG) < 0) {
		log_msg("control socket %s: listen: %s", c->path, strerror(errno));
		goto err_unlink;
	}
	return 0;

err_unlink:
	unlink(c->path);
	return -1;
}

/* arbor runs on without a socket, but that must not pass unseen: arborctl
 * (and a probe built on `arborctl ping`) will fail, and this says why. */
static void no_socket(const char *path)
{
	int e = errno;

	log_msg("error: no control socket: arborctl cannot reach this arbor at %s"
		" (control_socket or $ARBOR_SOCKET can name a writable path)", path);
	errno = e;
}

/* The socket's address, its directory made first; -1 after saying why. */
static int socket_addr(const char *path, struct sockaddr_un *sa)
{
	char why[256];

	if (ctl_path_make_dir(path, geteuid(), why, sizeof(why)) < 0) {
		log_msg("control socket %s: %s", path, why);
		no_socket(path);
		return -1;
	}
	if (strlen(path) >= sizeof(sa->sun_path)) {
		log_msg("control socket %s: the path is longer than %zu bytes", path,
			sizeof(sa->sun_path) - 1);
		errno = ENAMETOOLONG;
		no_socket(path);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

struct ctl *ctl_open(struct loop *l, const char *path, ctl_request_fn *fn, void *data)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char def[CTL_PATH_LEN];
	struct ctl *c;
	bool said = false;	/* clear_stale() and bind_listen() log why */
	int e;

	path = ctl_path_choose(path, geteuid(), def);
	if (socket_addr(path, &sa) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto err;
	c->request = fn;
	c->data = data;
	c->loop = l;
	c->euid = geteuid();
	c->path = strdup(path);
	if (!c->path)
		goto err_free;
	c->max_clients = raise_nofile();
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0)
		goto err_free_path;
	if (clear_stale(path, &sa) < 0 || bind_listen(c, &sa) < 0) {
		said = true;
		goto err_close;
	}
	if (loop_add_fd(l, c->fd, EPOLLIN, on_accept, c) < 0) {
		e = errno;
		unlink(path);
		errno = e;
		goto err_close;
	}
	return c;

err_close:
	e = errno;
	close(c->fd);
	errno = e;
err_free_path:
	free(c->path);
err_free:
	free(c);
err:
	if (!said)
		log_msg("control socket %s: %s", path, strerror(errno));
	if (errno != EADDRINUSE)
		no_socket(path);
	return NULL;	/* errno EADDRINUSE: a live arbor has it */
}

int ctl_allow_gid(struct ctl *c, gid_t gid)
{
	bool any = gid != (gid_t)-1;

	if (chown(c->path, (uid_t)-1, any ? gid : getegid()) < 0 ||
	    chmod(c->path, any ? 0660 : 0600) < 0) {
		log_msg("control socket %s: control_group: %s", c->path, strerror(errno));
		return -1;
	}
	c->has_gid = any;
	c->gid = gid;
	return 0;
}

/* The file is removed only if it is still the one we bound: another arbor
 * may have replaced it since. */
void ctl_close(struct ctl *c)
{
	struct stat st;

	if (!c)
		return;
	followers_end(c);
	c->closing = true;
	for (struct ctl_client *cl = c->clients; cl; cl = cl->next)
		client_flush(cl);	/* answers given at the very end go out */
	while (c->clients)
		client_free(c->clients);
	loop_timer_del(c->loop, c->retry);
	loop_del_fd(c->loop, c->fd);
	close(c->fd);
	if (stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c);
}

