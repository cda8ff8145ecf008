/* link: frames between a supervisor and its GenServer workers, its nested
 * supervisors and its parent, and the routing of calls along the tree.
 *
 * A call travels hop by hop: at each supervisor it gets a fresh id on the
 * link it leaves by, and a pending record remembers where the answer goes.
 * Every hop has its own deadline, so nothing waits forever, and an answer
 * that comes after its deadline finds no record and is dropped. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "sup_int.h"

#define CALL_TIMEOUT_MS 5000
#define HOP_SLACK_MS 1000	/* inner hops wait a little longer than the caller */

/* What may wait to be written to one link: a worker that stops reading
 * cannot make its supervisor grow without bound. */
static size_t link_limit(const struct link *ln)
{
	return 2 * ln->max + 64 * 1024;
}

/* --- pending calls: a small hash by id --- */

static size_t pend_slot(struct sup *s, uint64_t id)
{
	return (size_t)(id * 11400714819323198485ull >> 40) & (s->ncalls_cap - 1);
}

struct pending *pending_new(struct sup *s)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (!s->calls) {
		s->ncalls_cap = 256;
		s->calls = calloc(s->ncalls_cap, sizeof(*s->calls));
		if (!s->calls) {
			free(p);
			return NULL;
		}
	}
	return p;
}

static void pend_insert(struct sup *s, struct pending *p)
{
	size_t i;

	p->id = s->next_id++;
	i = pend_slot(s, p->id);
	p->next = s->calls[i];
	s->calls[i] = p;
}

static struct pending *pend_take(struct sup *s, uint64_t id)
{
	struct pending **pp;

	if (!s->calls)
		return NULL;
	for (pp = &s->calls[pend_slot(s, id)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct pending *p = *pp;

			*pp = p->next;
			p->next = NULL;
			return p;
		}
	}
	return NULL;
}

static struct pending *pend_find(struct sup *s, uint64_t id)
{
	struct pending *p = s->calls ? s->calls[pend_slot(s, id)] : NULL;

	while (p && p->id != id)
		p = p->next;
	return p;
}

/* Answers whoever asked and forgets the record. */
void pending_answer(struct sup *s, struct pending *p, int rc, const char *text,
		    size_t len)
{
	if (p->id)
		pend_take(s, p->id);
	loop_timer_del(s->loop, p->timer);
	if (p->from == OR_CLIENT) {
		if (p->done)
			p->done(p->ctx, rc, text, len);
	} else if (p->from_ln) {
		link_send(p->from_ln, rc ? FRAME_ERROR : FRAME_REPLY, p->from_id, text, len,
			  NULL, 0);
	}
	free(p);
}

void pending_answer_str(struct sup *s, struct pending *p, int rc, const char *text)
{
	pending_answer(s, p, rc, text, strlen(text));
}

static void on_call_timeout(struct loop *l, void *data)
{
	struct pending *p = data;

	p->timer = NULL;
	pending_answer_str(p->to ? p->to->sup : NULL, p, 1, "timeout");
}

/* --- sending --- */

static void on_link_io(struct loop *l, int fd, uint32_t ev, void *data);

static void link_want_write(struct link *ln, bool on)
{
	loop_mod_fd(ln->sup->loop, ln->wfd, on ? EPOLLOUT : 0);
}

int link_send(struct link *ln, uint8_t type, uint64_t id, const void *a,
	      size_t alen, const void *b, size_t blen)
{
	struct iovec iov[2] = { { (void *)a, alen }, { (void *)b, blen } };
	bool idle = fbuf_pending(&ln->wb) == 0;
	int r;

	if (ln->wfd < 0) {
		errno = EPIPE;
		return -1;
	}
	if (fbuf_putv(&ln->wb, type, id, iov, 2, link_limit(ln)) < 0)
		return -1;
	if (!idle)
		return 0;	/* EPOLLOUT is already armed */
	r = fbuf_flush(&ln->wb, ln->wfd);
	if (r == 0)
		link_want_write(ln, true);
	return r < 0 ? -1 : 0;
}

static void on_link_write(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct link *ln = data;
	int r = fbuf_flush(&ln->wb, ln->wfd);

	if (r != 0)
		link_want_write(ln, false);	/* sent, or the reader is gone */
}

/* EVENT: "path\tpid\tstate\trestarts\tsince\tgiving_up" to the parent. */
void link_event_up(struct sup *s, const char *path, const struct reg_node *rt)
{
	char b[600];
	int n = snprintf(b, sizeof(b), "%s\t%d\t%d\t%d\t%lld\t%d", path, (int)rt->pid,
			 (int)rt->state, rt->restarts, (long long)rt->since, rt->giving_up);

	if (s->up && n > 0 && (size_t)n < sizeof(b))
		link_send(s->up, FRAME_EVENT, 0, b, (size_t)n, NULL, 0);
}

static void apply_event(struct sup *s, const char *d, size_t len)
{
	char b[600], *tab;
	struct reg_node *rt;
	int pid, st, restarts, gu;
	long long since;

	if (len >= sizeof(b))
		return;
	memcpy(b, d, len);
	b[len] = '\0';
	tab = strchr(b, '\t');
	if (!tab)
		return;
	*tab = '\0';
	if (sscanf(tab + 1, "%d\t%d\t%d\t%lld\t%d", &pid, &st, &restarts, &since, &gu) != 5)
		return;
	if (!sup_member(s, b) || st < CS_STOPPED || st >= CS_NSTATES)
		return;		/* (a member started at run time is made) */
	rt = registry_get(s->reg, b);
	if (!rt)
		return;
	rt->pid = pid;
	rt->state = st;
	rt->restarts = restarts;
	rt->since = since;
	rt->giving_up = gu;
	if (s->up)
		link_event_up(s, b, rt);
	else
		log_debug("event %s %s pid=%d restarts=%d", b, child_state_name(rt->state),
			  (int)rt->pid, rt->restarts);
}

/* --- routing --- */

static bool under(const char *path, const char *base)
{
	size_t n = strlen(base);

	return !*base || (!strncmp(path, base, n) && (path[n] == '/' || !path[n]));
}

/* The direct child of s whose subtree holds path. */
struct child *sup_find_kid(struct sup *s, const char *path, bool *exact)
{
	for (size_t i = 0; i < s->nkids; i++) {
		struct child *k = s->kids[i];

		if (under(path, k->path)) {
			*exact = !strcmp(path, k->path);
			return k;
		}
	}
	return NULL;
}

static void forward(struct sup *s, struct link *to, uint8_t type, const char *path,
		    const char *msg, size_t len, int64_t timeout, struct pending *p,
		    bool to_worker)
{
	char head[600];
	int hn;

	if (to_worker)
		hn = 0;
	else if (type == FRAME_CALL)
		hn = snprintf(head, sizeof(head), "%s%c%lld%c", path, 0, (long long)timeout, 0);
	else
		hn = snprintf(head, sizeof(head), "%s%c", path, 0);
	if (hn < 0 || (size_t)hn >= sizeof(head)) {
		pending_answer_str(s, p, 1, "path too long");
		return;
	}
	if (type != FRAME_CALL) {
		if (link_send(to, type, 0, head, (size_t)hn, msg, len) < 0)
			pending_answer_str(s, p, 1, errno == ENOBUFS ? "busy: not reading its messages"
				   : "noproc");
		else
			pending_answer_str(s, p, 0, "");
		return;
	}
	p->to = to;
	pend_insert(s, p);
	if (link_send(to, FRAME_CALL, p->id, head, (size_t)hn, msg, len) < 0) {
		pending_answer_str(s, p, 1, errno == ENOBUFS ? "busy: not reading its messages" : "noproc");
		return;
	}
	if (p->id > to->last_id)
		to->last_id = p->id;
	p->timer = loop_timer_add(s->loop, timeout + (p->from == OR_CLIENT ? 0 : HOP_SLACK_MS),
				  on_call_timeout, p);
}

/* Routes a call, cast or info to path; p says where the answer goes. */
void route_call(struct sup *s, uint8_t type, const char *path, const char *msg,
		size_t len, int64_t timeout, struct pending *p)
{
	struct conf_node *n = sup_node(s, path);
	struct reg_node *rt = registry_find(s->reg, path);
	struct child *k;
	bool exact = false;
	char err[600];

	if (!under(path, s->node->path)) {
		if (s->up) {
			forward(s, s->up, type, path, msg, len, timeout, p, false);
			return;
		}
		n = NULL;
	}
	if (!n) {
		snprintf(err, sizeof(err), "no such child: %s", path);
		pending_answer_str(s, p, 1, err);
		return;
	}
	if (n->is_sup) {	/* the root too: "" is / to the user */
		snprintf(err, sizeof(err), "not a genserver: %s is a supervisor",
			 *n->path ? n->path : "/");
		pending_answer_str(s, p, 1, err);
		return;
	}
	if (!n->genserver) {
		snprintf(err, sizeof(err), "not a genserver: %s (set genserver = yes)", path);
		pending_answer_str(s, p, 1, err);
		return;
	}
	if (len > n->max_message) {
		snprintf(err, sizeof(err), "message too large: %zu bytes, max_message is %zu",
			 len, n->max_message);
		pending_answer_str(s, p, 1, err);
		return;
	}
	k = sup_find_kid(s, path, &exact);
	if (!k || k->state != CS_RUNNING || !k->ln || !rt || rt->state != CS_RUNNING) {
		pending_answer_str(s, p, 1, "noproc");
		return;
	}
	forward(s, k->ln, type, path, msg, len, timeout, p, k->kind != CHILD_SUPERVISOR);
}

/* Admin verbs for a child of a nested supervisor travel as CTL frames:
 * "verb\0path\0arg". */
void route_ctl(struct sup *s, int argc, char **argv, struct pending *p)
{
	const char *path = argv[1];
	struct child *k;
	bool exact = false;
	char b[700], msg[600];
	size_t n = 0;

	k = sup_find_kid(s, path, &exact);
	if (!k && s->node->is_pool && !strcmp(argv[0], "start")) {
		struct conf_node *m = sup_member(s, path);

		if (m && m->parent == s->node && (k = sup_add_kid(s, m)))
			exact = true;
	}
	if (!k) {
		snprintf(msg, sizeof(msg), "no such child: %s", path);
		pending_answer_str(s, p, 1, msg);
		return;
	}
	if (exact) {
		sup_admin(s, argv[0], k, argc > 2 ? log_signum(argv[2]) : SIGKILL, p);
		return;
	}
	if (k->kind != CHILD_SUPERVISOR || !k->ln || k->state != CS_RUNNING) {
		if (!strcmp(argv[0], "stop")) {
			pending_answer_str(s, p, 0, "");
			return;
		}
		snprintf(msg, sizeof(msg), "noproc: %s is not running", k->path);
		pending_answer_str(s, p, 1, msg);
		return;
	}
	for (int i = 0; i < argc && n < sizeof(b); i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%s%c", argv[i], 0);
	if (n >= sizeof(b)) {
		pending_answer_str(s, p, 1, "request too long");
		return;
	}
	if (link_request(s, k->ln, b, n, p) == 0)
		p->timer = loop_timer_add(s->loop, 3600 * 1000, on_call_timeout, p);
}

/* Sends a CTL request ("verb\0path\0arg") down ln; p gets the answer, or
 * noproc at once (and -1) when it cannot be sent. */
int link_request(struct sup *s, struct link *ln, const char *req, size_t len,
		 struct pending *p)
{
	p->to = ln;
	pend_insert(s, p);
	if (link_send(ln, FRAME_CTL, p->id, req, len, NULL, 0) < 0) {
		pending_answer_str(s, p, 1, "noproc");
		return -1;
	}
	return 0;
}

/* --- receiving --- */

/* A request that came on a link: its answer goes back the same way. */
static struct pending *from_link(struct link *ln, uint64_t id)
{
	struct pending *p = pending_new(ln->sup);

	if (p) {
		p->from = OR_LINK;
		p->from_ln = ln;
		p->from_id = id;
	}
	return p;
}

/* "PATH\0[TIMEOUT\0]MESSAGE" */
static int split_routed(const struct frame *f, bool timed, const char **path,
			int64_t *timeout, const char **msg, size_t *len)
{
	const char *z = memchr(f->data, 0, f->len), *t;

	if (!z)
		return -1;
	*path = f->data;
	*msg = z + 1;
	*timeout = CALL_TIMEOUT_MS;
	if (timed) {
		t = memchr(*msg, 0, f->len - (size_t)(*msg - f->data));
		if (!t)
			return -1;
		*timeout = atoll(*msg);
		*msg = t + 1;
	}
	*len = f->len - (size_t)(*msg - f->data);
	return 0;
}

static void fail_calls(struct link *ln, const char *why, bool forget);

static void protocol_error(struct link *ln, const char *what)
{
	struct child *c = ln->child;

	if (!c) {
		log_msg("protocol error from the parent supervisor: %s", what);
		return;
	}
	log_ev("protocol error", c->path, "pid=%d reason=\"%s\"", (int)c->pid, what);
	{
		char why[300];	/* callers learn why their worker is being killed */

		snprintf(why, sizeof(why), "worker killed: protocol error: %s", what);
		fail_calls(ln, why, false);
	}
	child_kill(c);
	loop_del_fd(ln->sup->loop, ln->rfd);
	ln->dead = true;
}

static void got_answer(struct link *ln, const struct frame *f)
{
	struct sup *s = ln->sup;
	struct pending *p = pend_find(s, f->id);

	if (!p || p->to != ln) {
		if ((f->id == 0 || f->id > ln->last_id) && ln->child &&
		    ln->child->kind != CHILD_SUPERVISOR)
			protocol_error(ln, "reply to no call");
		return;		/* a late answer: its caller has gone */
	}
	pending_answer(s, p, f->type == FRAME_ERROR, f->data, f->len);
}

static void got_ctl(struct link *ln, const struct frame *f)
{
	char *argv[8], *b = malloc(f->len + 1);
	int argc = 0;
	struct pending *p = from_link(ln, f->id);

	if (!b || !p) {
		free(b);
		free(p);
		return;
	}
	memcpy(b, f->data, f->len);
	b[f->len] = '\0';
	for (char *q = b; q < b + f->len && argc < 7; q += strlen(q) + 1)
		argv[argc++] = q;
	argv[argc] = NULL;
	if (argc == 1 && !strcmp(argv[0], "reload"))
		reload_request(ln->sup, p);	/* answered once applied */
	else if (argc < 2)
		pending_answer_str(ln->sup, p, 1, "bad request");
	else
		route_ctl(ln->sup, argc, argv, p);
	free(b);
}

static void got_routed(struct link *ln, const struct frame *f, bool timed)
{
	const char *path, *msg;
	int64_t timeout;
	size_t len;
	struct pending *p;
	char pb[512];

	if (split_routed(f, timed, &path, &timeout, &msg, &len) < 0 ||
	    strlen(path) >= sizeof(pb)) {
		protocol_error(ln, "a call without a path");
		return;
	}
	snprintf(pb, sizeof(pb), "%s", path);
	p = from_link(ln, f->id);
	if (!p)
		return;
	if (f->type != FRAME_CALL)
		p->from_ln = NULL;	/* casts and infos are not answered */
	route_call(ln->sup, f->type, pb, msg, len, timeout, p);
}

/* One decoded frame from a worker, a nested supervisor or the parent. */
static void dispatch(struct link *ln, const struct frame *f)
{
	struct child *c = ln->child;
	bool sup_child = c && c->kind == CHILD_SUPERVISOR, worker = c && !sup_child;

	switch (f->type) {
	case FRAME_READY:
		if (ln->ready || !c) {
			protocol_error(ln, "a second READY");
			return;
		}
		ln->ready = true;
		child_event(c, CE_READY, 0);
		return;
	case FRAME_REPLY:
	case FRAME_ERROR:
		got_answer(ln, f);
		return;
	case FRAME_EVENT:
		if (sup_child)
			apply_event(ln->sup, f->data, f->len);
		else
			protocol_error(ln, "EVENT is reserved for supervisors");
		return;
	case FRAME_CTL:
		if (!c)
			got_ctl(ln, f);
		else
			protocol_error(ln, "CTL is reserved for supervisors");
		return;
	case FRAME_STOP:
		if (worker)
			log_ev("stopping", c->path, "pid=%d reason=\"%.*s\"", (int)c->pid,
			       (int)(f->len > 200 ? 200 : f->len), f->data);
		return;
	case FRAME_CALL:
	case FRAME_CAST:
	case FRAME_INFO:
		if (worker && !ln->ready) {
			protocol_error(ln, "a call before READY");
			return;
		}
		if (worker && f->type == FRAME_CALL && f->id == 0) {
			protocol_error(ln, "CALL with id 0");
			return;
		}
		got_routed(ln, f, !worker && f->type == FRAME_CALL);
		return;
	default:
		protocol_error(ln, "unexpected frame type");
	}
}

static void on_link_read(struct loop *l, struct link *ln)
{
	struct frame f;
	size_t used;
	ssize_t n;

	if (ln->dead)
		return;
	n = fbuf_fill(&ln->rb, ln->rfd, ln->max);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		if (n < 0 && errno == ENOBUFS)
			protocol_error(ln, "oversized frame");
		loop_del_fd(l, ln->rfd);
		if (!ln->child) {	/* the parent is gone: so is this subtree */
			log_debug("parent supervisor gone: stopping %s", ln->sup->node->path);
			for (size_t i = 0; i < ln->sup->nkids; i++)
				child_kill(ln->sup->kids[i]);
			_exit(1);
		}
		return;
	}
	for (;;) {
		size_t pend = fbuf_pending(&ln->rb);
		const uint8_t *at = ln->rb.buf + ln->rb.off;
		enum frame_status st = frame_decode(at, pend, ln->max, &f, &used);

		if (st == FRAME_SHORT)
			return;
		if (st != FRAME_OK) {
			char why[200];

			frame_describe(st, at, ln->max, why, sizeof(why));
			protocol_error(ln, why);
			fbuf_consume(&ln->rb, pend);
			return;
		}
		dispatch(ln, &f);
		if (ln->dead)
			return;
		fbuf_consume(&ln->rb, used);
	}
}

static void on_link_io(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct link *ln = data;

	if (fd == ln->rfd)
		on_link_read(l, ln);
	else
		on_link_write(l, fd, ev, data);
}

struct link *link_new(struct sup *s, struct child *c, int rfd, int wfd, size_t max)
{
	struct link *ln = calloc(1, sizeof(*ln));

	if (!ln)
		return NULL;
	ln->sup = s;
	ln->child = c;
	ln->rfd = rfd;
	ln->wfd = wfd;
	ln->max = max;
	loop_add_fd(s->loop, rfd, EPOLLIN, on_link_io, ln);
	loop_add_fd(s->loop, wfd, 0, on_link_io, ln);
	return ln;
}

/* Fails every call waiting on ln with why; with forget, also drops the
 * answers to requests ln made. */
static void fail_calls(struct link *ln, const char *why, bool forget)
{
	struct sup *s = ln->sup;

	for (size_t i = 0; s->calls && i < s->ncalls_cap; i++) {
		struct pending *p = s->calls[i], *next;

		for (; p; p = next) {
			next = p->next;
			if (forget && p->from == OR_LINK && p->from_ln == ln)
				p->from_ln = NULL;
			if (p->to == ln)
				pending_answer_str(s, p, 1, why);
		}
	}
}

void link_free(struct link *ln, const char *why)
{
	struct sup *s = ln->sup;

	fail_calls(ln, why, true);
	loop_del_fd(s->loop, ln->rfd);
	loop_del_fd(s->loop, ln->wfd);
	close(ln->rfd);
	close(ln->wfd);
	fbuf_free(&ln->rb);
	fbuf_free(&ln->wb);
	free(ln);
}
