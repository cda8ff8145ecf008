/* route: frames' meaning and the ways along the tree. See route.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "log.h"
#include "monitor.h"
#include "route.h"
#include "status.h"
#include "reload.h"
#include "reopen.h"
#include "sup.h"

#define CALL_TIMEOUT_MS 5000
#define HOP_SLACK_MS 1000	/* inner hops wait a little longer than the caller */
#define CTL_TIMEOUT_MS (3600 * 1000)

/* A log event from a nested supervisor: on up, and at the root to those
 * who follow events. The payload is EVENT NUL PATH NUL KV. */
static void follow_event(struct sup *s, const struct frame *f, const struct frame_event *e)
{
	char b[1600];
	struct log_event le = { .time_ms = e->since_ms, .pid = e->pid, .event = b };
	const char *end;

	if (s->up) {
		link_send(s->up, FRAME_EVENT, 0, f->data, f->len, NULL, 0);
		return;
	}
	if (e->path_len >= sizeof(b))
		return;
	memcpy(b, e->path, e->path_len);
	b[e->path_len] = '\0';
	end = b + e->path_len;
	le.path = memchr(b, '\0', e->path_len);
	if (!le.path || ++le.path >= end)
		return;
	le.kv = le.path + strlen(le.path) + 1;
	if (le.kv > end)
		return;
	ctl_event(s->ctl, &le);
}

static void route_changed(struct sup *s, const char *path, enum child_state was,
			  const struct reg_node *rt);

/* A nested supervisor's EVENT about a node below it: into the registry
 * (a pool member started at run time becomes known), and on up. */
static void apply_event(struct sup *s, const struct frame *f)
{
	struct frame_event e;
	struct reg_node *rt;
	enum child_state was;
	char path[512];

	if (frame_event_decode(f->data, f->len, &e) < 0)
		return;
	if (e.log) {	/* its path field is longer than a path */
		follow_event(s, f, &e);
		return;
	}
	if (e.path_len >= sizeof(path) || e.state >= CS_NSTATES)
		return;
	memcpy(path, e.path, e.path_len);
	path[e.path_len] = '\0';
	if (e.deleted) {	/* a pool member deleted below: forgotten, and up */
		registry_delete(s->reg, path);
		if (s->up)
			link_send(s->up, FRAME_EVENT, 0, f->data, f->len, NULL, 0);
		return;
	}
	if (!registry_member(s->reg, s->conf, path) || !(rt = registry_get(s->reg, path)))
		return;
	was = rt->state;
	*rt = (struct reg_node){ .pid = e.pid, .state = e.state, .restarts = e.restarts,
				 .since = e.since_ms, .giving_up = e.giving_up, .down = e.down };
	rt->health = e.health <= HEALTH_FAILING ? (enum child_health)e.health : HEALTH_NONE;
	rt->health_failures = e.health_failures;
	rt->watchdog = e.watchdog;
	if (s->up)
		sup_event_up(s, path, rt);
	else
		log_debug("event %s %s pid=%d restarts=%d", path, child_state_name(rt->state),
			  (int)rt->pid, rt->restarts);
	route_changed(s, path, was, rt);
}

/* --- routing --- */

static bool under(const char *path, const char *base)
{
	size_t n = strlen(base);

	return !*base || (!strncmp(path, base, n) && (path[n] == '/' || !path[n]));
}

/* The direct child of s whose subtree holds path. */
struct child *route_kid(struct sup *s, const char *path, bool *exact)
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
	uint64_t id;
	int hn;

	if (to_worker)
		hn = 0;
	else if (type == FRAME_CALL)
		hn = snprintf(head, sizeof(head), "%s%c%lld%c", path, 0, (long long)timeout, 0);
	else
		hn = snprintf(head, sizeof(head), "%s%c", path, 0);
	if (hn < 0 || (size_t)hn >= sizeof(head)) {
		pending_answer_str(p, 1, "path too long");
		return;
	}
	if (type != FRAME_CALL) {
		if (link_send(to, type, 0, head, (size_t)hn, msg, len) < 0)
			pending_answer_str(p, 1, errno == ENOBUFS ? "busy: not reading its messages"
					   : "noproc");
		else
			pending_answer_str(p, 0, "");
		return;
	}
	id = pending_send(p, to, timeout + (p->from_ln ? HOP_SLACK_MS : 0),
			  "out of memory: cannot time the call");
	if (!id)
		return;
	if (link_send(to, FRAME_CALL, id, head, (size_t)hn, msg, len) < 0) {
		pending_answer_str(p, 1, errno == ENOBUFS ? "busy: not reading its messages" : "noproc");
		return;
	}
	if (id > to->last_id)
		to->last_id = id;
}

/* A CTL request down ln, answered by its supervisor or, after ms (-1:
 * never), by a timeout. */
static void route_send_ctl(struct sup *s, struct link *ln, const char *req, size_t len,
			   struct pending *p, int64_t ms)
{
	uint64_t id = pending_send(p, ln, ms, "out of memory: cannot time the request");

	if (id && link_send(ln, FRAME_CTL, id, req, len, NULL, 0) < 0)
		pending_answer_str(p, 1, "noproc");
}

void route_call(struct sup *s, uint8_t type, const char *path, const char *msg,
		size_t len, int64_t timeout, struct pending *p)
{
	struct conf_node *n = registry_node(s->reg, s->conf, path);
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
		pending_answer_str(p, 1, err);
		return;
	}
	if (n->is_sup) {	/* the root too: "" is / to the user */
		snprintf(err, sizeof(err), "not a genserver: %s is a supervisor",
			 *n->path ? n->path : "/");
		pending_answer_str(p, 1, err);
		return;
	}
	if (!n->genserver) {
		snprintf(err, sizeof(err), "not a genserver: %s (set genserver = yes)", path);
		pending_answer_str(p, 1, err);
		return;
	}
	if (len > n->max_message) {
		snprintf(err, sizeof(err), "message too large: %zu bytes, max_message is %zu",
			 len, n->max_message);
		pending_answer_str(p, 1, err);
		return;
	}
	k = route_kid(s, path, &exact);
	if (!k || k->state != CS_RUNNING || !k->ln || !rt || rt->state != CS_RUNNING) {
		pending_answer_str(p, 1, "noproc");
		return;
	}
	if (!s->up && type == FRAME_CALL)	/* the root counts them for status */
		pending_target(p, path);
	forward(s, k->ln, type, path, msg, len, timeout, p, k->kind != CHILD_SUPERVISOR);
}

/* --- delete: a pool member stopped, then removed (OTP's delete_child) --- */

struct deleting {
	struct sup *s;
	struct pending *p;
	char path[];
};

/* Takes the stopped member out of the supervisor's children (freed with the
 * others a plan leaves stopped), out of the registry, and tells the parent
 * supervisors, whose registries forget it too. */
static int remove_kid(struct sup *s, const char *path)
{
	struct frame_event e = { .deleted = true, .path = path, .path_len = strlen(path) };
	uint8_t b[FRAME_EVENT_FIXED + 512];
	struct child **g, *c = NULL;
	char *copy;
	size_t i, n;

	for (i = 0; i < s->nkids && !c; i++)
		if (!strcmp(s->kids[i]->path, path))
			c = s->kids[i];
	if (!c)
		return 0;	/* deleted meanwhile */
	g = realloc(s->gone, (s->ngone + 1) * sizeof(*g));
	if (!g)
		return -1;
	s->gone = g;
	copy = strdup(c->path);	/* freed with it, as a reload's removed child's */
	if (!copy || registry_delete(s->reg, path) < 0) {
		free(copy);
		return -1;
	}
	c->path = copy;
	memmove(&s->kids[i - 1], &s->kids[i], (s->nkids - i) * sizeof(*s->kids));
	s->nkids--;
	s->gone[s->ngone++] = c;
	log_ev("deleted", path, NULL);
	n = frame_event_encode(&e, b, sizeof(b));
	if (s->up && n)
		link_send(s->up, FRAME_EVENT, 0, b, n, NULL, 0);
	return 0;
}

static void on_deleted_stop(void *ctx, int rc, const char *text, size_t len)
{
	struct deleting *d = ctx;

	if (rc)
		pending_answer(d->p, rc, text, len);
	else if (remove_kid(d->s, d->path) < 0)
		pending_answer_str(d->p, 1, "out of memory");
	else
		pending_answer_str(d->p, 0, "");
	free(d);
}

static void route_delete(struct sup *s, struct child *k, struct pending *p)
{
	size_t n = strlen(k->path) + 1;
	struct deleting *d;
	struct pending *q;
	char m[600];

	if (!s->node->is_pool) {
		snprintf(m, sizeof(m), "not a pool member: %s (delete removes a member of a "
			 "pool; stop stops any child)", k->path);
		pending_answer_str(p, 1, m);
		return;
	}
	d = malloc(sizeof(*d) + n);
	q = d ? pending_client(&s->calls, on_deleted_stop, d) : NULL;
	if (!q) {
		free(d);
		pending_answer_str(p, 1, "out of memory");
		return;
	}
	d->s = s;
	d->p = p;
	memcpy(d->path, k->path, n);
	sup_admin(s, "stop", k, 0, q);
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

	k = route_kid(s, path, &exact);
	if (!k && s->node->is_pool && !strcmp(argv[0], "start")) {
		struct conf_node *m = registry_member(s->reg, s->conf, path);

		if (m && m->parent == s->node && (k = sup_add_kid(s, m)))
			exact = true;
	}
	if (!k) {
		snprintf(msg, sizeof(msg), "no such child: %s", path);
		pending_answer_str(p, 1, msg);
		return;
	}
	if (exact && !strcmp(argv[0], "delete")) {
		route_delete(s, k, p);
		return;
	}
	if (exact) {
		sup_admin(s, argv[0], k, argc > 2 ? log_signum(argv[2]) : SIGKILL, p);
		return;
	}
	if (k->kind != CHILD_SUPERVISOR || !k->ln || k->state != CS_RUNNING) {
		if (!strcmp(argv[0], "stop")) {
			pending_answer_str(p, 0, "");
			return;
		}
		snprintf(msg, sizeof(msg), "noproc: %s is not running", k->path);
		pending_answer_str(p, 1, msg);
		return;
	}
	for (int i = 0; i < argc && n < sizeof(b); i++)
		n += (size_t)snprintf(b + n, sizeof(b) - n, "%s%c", argv[i], 0);
	if (n >= sizeof(b)) {
		pending_answer_str(p, 1, "request too long");
		return;
	}
	route_send_ctl(s, k->ln, b, n, p, CTL_TIMEOUT_MS);
}


/* --- monitors: the table is the root's, which sees every node change --- */

/* An INFO from the root to watcher, answered to nobody. */
static void monitor_deliver(void *ctx, const char *watcher, const char *msg)
{
	struct sup *s = ctx;
	struct pending *p = pending_from_link(&s->calls, NULL, 0);

	if (p)
		route_call(s, FRAME_INFO, watcher, msg, strlen(msg), CALL_TIMEOUT_MS, p);
}

/* The root's table, made when first needed; NULL below the root. */
static struct monitors *monitors_of(struct sup *s)
{
	if (!s->mon && !s->up)
		s->mon = monitor_new(monitor_deliver, s);
	return s->mon;
}

static bool runs(struct sup *s, const char *path)
{
	const struct reg_node *rt = registry_find(s->reg, path);

	return rt && rt->state == CS_RUNNING;
}

/* A node started or stopped running: its watchers are told; as a watcher,
 * it loses its monitors, and gets those of its monitor = key again once it
 * runs (a restarted watcher starts afresh, as a restarted process does in
 * OTP). The root only. */
static void route_changed(struct sup *s, const char *path, enum child_state was,
			  const struct reg_node *rt)
{
	bool up = rt->state == CS_RUNNING;
	struct conf_node *n;
	struct monitors *m;
	char *const *w;

	if (s->up || up == (was == CS_RUNNING) || !(m = monitors_of(s)))
		return;
	monitor_drop_watcher(m, path);
	monitor_changed(m, path, up, rt->down);
	n = up ? registry_node(s->reg, s->conf, path) : NULL;
	for (w = n ? conf_monitors(n) : NULL; w && *w; w++)
		if (monitor_add(m, path, *w, runs(s, *w)) < 0)
			log_msg("%s: cannot monitor %s: out of memory", path, *w);
}

static bool is_node(void *ctx, const char *path)
{
	struct sup *s = ctx;

	return registry_node(s->reg, s->conf, path) != NULL;
}

/* A plan ended: after a reload's, the nodes it removed are gone, and so
 * are the monitors of those that watched. */
static void route_plan_done(struct sup *s)
{
	reload_plan_done(s);
	if (!s->up && s->mon)
		monitor_prune(s->mon, is_node, s);
}

/* monitor or demonitor PATH for watcher: up to the root, which answers
 * once the table has it; DOWN PATH noproc follows the answer when PATH does
 * not run. */
static void route_monitor(struct sup *s, const char *verb, const char *path,
			  const char *watcher, struct pending *p)
{
	struct monitors *m;
	char b[1100];
	int n;

	if (s->up) {
		n = snprintf(b, sizeof(b), "%s%c%s%c%s", verb, 0, path, 0, watcher);
		if (n < 0 || (size_t)n >= sizeof(b))
			pending_answer_str(p, 1, "path too long");
		else
			route_send_ctl(s, s->up, b, (size_t)n, p, CALL_TIMEOUT_MS);
		return;
	}
	if (!runs(s, watcher)) {	/* it died while its request came up */
		pending_answer_str(p, 1, "noproc");
		return;
	}
	if (!(m = monitors_of(s))) {
		pending_answer_str(p, 1, "out of memory");
		return;
	}
	if (!strcmp(verb, "demonitor")) {
		monitor_remove(m, watcher, path);
		pending_answer_str(p, 0, "");
		return;
	}
	if (!*path || !registry_node(s->reg, s->conf, path)) {
		snprintf(b, sizeof(b), "no such child: %s", path);
		pending_answer_str(p, 1, b);
		return;
	}
	pending_answer_str(p, 0, "");
	if (monitor_add(m, watcher, path, runs(s, path)) < 0)
		log_msg("%s: cannot monitor %s: out of memory", watcher, path);
}

/* --- receiving --- */

/* A request that came on a link: its answer goes back the same way. */
static struct pending *from_link(struct link *ln, uint64_t id)
{
	struct sup *s = ln->sup;

	return pending_from_link(&s->calls, ln, id);
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

/* The peer broke the protocol: a worker or nested supervisor is killed
 * (its exit is then a crash like any other), and callers learn why. */
static void protocol_error(struct link *ln, const char *what)
{
	struct child *c = ln->child;
	struct sup *s = ln->sup;
	char why[300];

	link_stop(ln);
	if (!c) {
		log_msg("protocol error from the parent supervisor: %s", what);
		return;
	}
	log_ev("protocol error", c->path, "pid=%d reason=\"%s\"", (int)c->pid, what);
	snprintf(why, sizeof(why), "worker killed: protocol error: %s", what);
	pending_fail_link(&s->calls, ln, why, false);
	child_kill(c);
}

static void got_answer(struct link *ln, const struct frame *f)
{
	struct sup *s = ln->sup;
	struct child *c = ln->child;
	struct pending *p = pending_find(&s->calls, f->id);

	if (!p || p->to != ln) {
		if ((f->id == 0 || f->id > ln->last_id) && c && c->kind != CHILD_SUPERVISOR)
			protocol_error(ln, "reply to no call");
		return;		/* a late answer: its caller has gone */
	}
	pending_answer(p, f->type == FRAME_ERROR, f->data, f->len);
}

static void got_ctl(struct link *ln, const struct frame *f)
{
	char *argv[8], *b = malloc(f->len + 1);
	int argc = 0;
	struct pending *p = from_link(ln, f->id);

	if (!b || !p) {
		free(b);
		if (p)
			pending_answer_str(p, 1, "out of memory");
		return;
	}
	memcpy(b, f->data, f->len);
	b[f->len] = '\0';
	for (char *q = b; q < b + f->len && argc < 7; q += strlen(q) + 1)
		argv[argc++] = q;
	argv[argc] = NULL;
	if (argc == 1 && !strcmp(argv[0], "reload"))
		reload_request(ln->sup, p);	/* answered once applied */
	else if (argc == 1 && !strcmp(argv[0], "reopen"))
		reopen_request(ln->sup, p);	/* answered once the subtree's are */
	else if (argc < 2)
		pending_answer_str(p, 1, "bad request");
	else
		route_ctl(ln->sup, argc, argv, p);
	free(b);
}

/* A CTL from a child: a worker's "monitor\0PATH" or "demonitor\0PATH",
 * or the same passed on by a nested supervisor with the watcher's path
 * after it. */
static void got_monitor(struct link *ln, const struct frame *f)
{
	struct child *c = ln->child;
	bool worker = c->kind != CHILD_SUPERVISOR;
	char b[1100], *argv[4];
	struct pending *p;
	int argc = 0;

	if (worker && !ln->ready) {
		protocol_error(ln, "a CTL before READY");
		return;
	}
	if (f->id == 0) {
		protocol_error(ln, "CTL with id 0");
		return;
	}
	if (!(p = from_link(ln, f->id)))
		return;
	if (f->len >= sizeof(b)) {
		pending_answer_str(p, 1, "path too long");
		return;
	}
	memcpy(b, f->data, f->len);
	b[f->len] = '\0';
	for (char *q = b; q <= b + f->len && argc < 4; q += strlen(q) + 1)
		argv[argc++] = q;
	if (argc != (worker ? 2 : 3) || !*argv[1] ||
	    (strcmp(argv[0], "monitor") && strcmp(argv[0], "demonitor"))) {
		pending_answer_str(p, 1, "bad request: expected monitor PATH or demonitor PATH");
		return;
	}
	route_monitor(ln->sup, argv[0], argv[1], worker ? c->path : argv[2], p);
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

/* One decoded frame from a worker, a nested supervisor or the parent.
 * long: one case per frame type, read top to bottom. */
void route_frame(struct link *ln, const struct frame *f)
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
			apply_event(ln->sup, f);
		else
			protocol_error(ln, "EVENT is reserved for supervisors");
		return;
	case FRAME_CTL:
		if (!c)
			got_ctl(ln, f);
		else
			got_monitor(ln, f);
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

/* --- a call or cast to every running member of a pool --- */

/* OTP's multi_call / abcast: a call or cast to POOL's members (the path
 * POOL, a slash and a star) reaches each member that runs, and is answered
 * once all have answered, one line each. */
struct multi_one {
	struct multi *m;
	char *path;
	int rc;
	char *text;
	size_t len;
};

struct multi {
	struct pending *p;
	bool cast;
	size_t n, left;
	struct multi_one one[];
};

/* The pool a call's or cast's path names the members of (it ends in a
 * slash and a star), into b; NULL when it names one node. */
static char *multi_base(const char *verb, const char *path, char *b, size_t size)
{
	size_t n = strlen(path);

	if ((strcmp(verb, "call") && strcmp(verb, "cast")) || n >= size ||
	    (strcmp(path, "*") && (n < 2 || strcmp(path + n - 2, "/*"))))
		return NULL;
	if (n == 1)
		n = 2;	/* the root's members */
	memcpy(b, path, n - 2);
	b[n - 2] = '\0';
	return b;
}

/* "PATH: reply" a line, in the members' order; failed if any did. */
static void multi_end(struct multi *m)
{
	char *b = NULL;
	size_t len = 0;
	int rc = 0;
	FILE *f = open_memstream(&b, &len);

	for (size_t i = 0; i < m->n; i++) {
		struct multi_one *o = &m->one[i];

		rc |= o->rc;
		if (f)
			fprintf(f, "%s%s: %s%.*s", i ? "\n" : "", o->path, o->rc ? "error: " : "",
				(int)o->len, o->text ? o->text : "");
		free(o->path);
		free(o->text);
	}
	if (f && fclose(f) == 0)
		pending_answer(m->p, rc, b, len);
	else
		pending_answer_str(m->p, 1, "out of memory");
	free(b);
	free(m);
}

static void multi_done(void *ctx, int rc, const char *text, size_t len)
{
	struct multi_one *o = ctx;
	struct multi *m = o->m;

	o->rc = rc;
	if (!rc && m->cast) {
		text = "ok";
		len = 2;
	}
	o->text = malloc(len + 1);
	if (o->text) {
		memcpy(o->text, text, len);
		o->len = len;
	}
	if (--m->left == 0)
		multi_end(m);
}

static void route_multi(struct sup *s, uint8_t type, struct conf_node *pool, const char *msg,
			int64_t timeout, struct pending *p)
{
	struct conf_node *k;
	struct multi *m;
	size_t n = 0;

	if (!pool->is_pool) {
		char err[600];

		snprintf(err, sizeof(err), "not a pool: %s (POOL/* names a pool's members)",
			 *pool->path ? pool->path : "/");
		pending_answer_str(p, 1, err);
		return;
	}
	for (size_t i = 0; (k = registry_kid(s->reg, pool, i)); i++)
		n++;
	m = calloc(1, sizeof(*m) + n * sizeof(m->one[0]));
	if (!m) {
		pending_answer_str(p, 1, "out of memory");
		return;
	}
	m->p = p;
	m->cast = type != FRAME_CALL;
	for (size_t i = 0; (k = registry_kid(s->reg, pool, i)) && m->n < n; i++) {
		struct reg_node *rt = registry_find(s->reg, k->path);

		if (rt && rt->state == CS_RUNNING && (m->one[m->n].path = strdup(k->path)))
			m->one[m->n++].m = m;
	}
	if (!m->n) {
		free(m);
		pending_answer_str(p, 1, "noproc: no member of the pool is running");
		return;
	}
	m->left = m->n + 1;	/* answers may come at once: none ends it early */
	for (size_t i = 0; i < m->n; i++) {
		struct multi_one *o = &m->one[i];
		struct pending *q = pending_client(&s->calls, multi_done, o);

		if (!q)
			multi_done(o, 1, "out of memory", 13);
		else
			route_call(s, type, o->path, msg, strlen(msg), timeout, q);
	}
	if (--m->left == 0)
		multi_end(m);
}

/* --- control requests, by table --- */

/* One verb: argv[0]; n is the node argv[1] names, for a verb with a path;
 * p is answered once the request is done. */
typedef void verb_fn(struct sup *s, int argc, char **argv, struct conf_node *n,
		     struct pending *p);

/* What status.c renders from: the root runs in this process. */
static struct status_src source(struct sup *s)
{
	return (struct status_src){
		.reg = s->reg, .conf = s->conf,
		.root_state = s->phase == PH_STOP || s->phase == PH_DONE ? CS_STOPPING
			      : s->phase == PH_BOOT ? CS_STARTING : CS_RUNNING,
		.cmd = s->cmd ? s->cmd->node : NULL, .calls = &s->calls,
	};
}

static void render(struct sup *s, struct conf_node *n, enum status_view v, struct pending *p)
{
	struct status_src src = source(s);
	size_t len = 0;
	char *b = status_render(&src, n, v, &len);

	if (b)
		pending_answer(p, 0, b, len);
	else
		pending_answer_str(p, 1, "out of memory");
	free(b);
}

static void v_ping(struct sup *s, int argc, char **argv, struct conf_node *n, struct pending *p)
{
	struct status_src src = source(s);
	char m[600];
	int rc;

	if (argc > 1 && *argv[1] && !(n = registry_node(s->reg, s->conf, argv[1]))) {
		snprintf(m, sizeof(m), "no such child: %s", argv[1]);
		pending_answer_str(p, 1, m);
		return;
	}
	rc = status_ping(&src, n ? n : s->conf->root, m, sizeof(m));
	pending_answer_str(p, rc, m);
}

static void v_tree(struct sup *s, int argc, char **argv, struct conf_node *n, struct pending *p)
{
	render(s, s->conf->root, STATUS_TREE, p);
}

static void v_status(struct sup *s, int argc, char **argv, struct conf_node *n,
		     struct pending *p)
{
	render(s, n, argc > 2 && !strcmp(argv[2], "json") ? STATUS_JSON : STATUS_TEXT, p);
}

/* The request is checked here (its path must exist); ctl.c then keeps
 * the client as a follower of events. */
static void v_events(struct sup *s, int argc, char **argv, struct conf_node *n,
		     struct pending *p)
{
	pending_answer_str(p, 0, "following");
}

static void v_shutdown(struct sup *s, int argc, char **argv, struct conf_node *n,
		       struct pending *p)
{
	pending_answer_str(p, 0, "shutting down");
	sup_shutdown(s, 0);
}

static void v_reload(struct sup *s, int argc, char **argv, struct conf_node *n,
		     struct pending *p)
{
	reload_request(s, p);	/* answered once applied */
}

static void v_reopen(struct sup *s, int argc, char **argv, struct conf_node *n,
		     struct pending *p)
{
	reopen_request(s, p);	/* answered once the whole tree's are */
}

static void v_call(struct sup *s, int argc, char **argv, struct conf_node *n, struct pending *p)
{
	char b[512];

	if (multi_base(argv[0], argv[1], b, sizeof(b))) {
		route_multi(s, FRAME_CALL, n, argv[2], atoll(argv[3]), p);
		return;
	}
	route_call(s, FRAME_CALL, argv[1], argv[2], strlen(argv[2]), atoll(argv[3]), p);
}

static void v_cast(struct sup *s, int argc, char **argv, struct conf_node *n, struct pending *p)
{
	char b[512];

	if (multi_base(argv[0], argv[1], b, sizeof(b))) {
		route_multi(s, FRAME_CAST, n, argv[2], CALL_TIMEOUT_MS, p);
		return;
	}
	route_call(s, !strcmp(argv[0], "cast") ? FRAME_CAST : FRAME_INFO, argv[1], argv[2],
		   strlen(argv[2]), CALL_TIMEOUT_MS, p);
}

static void v_admin(struct sup *s, int argc, char **argv, struct conf_node *n, struct pending *p)
{
	char m[600];

	if (!strcmp(argv[0], "delete") && (!n->parent || !n->parent->is_pool)) {
		snprintf(m, sizeof(m), "not a pool member: %s (delete removes a member of a "
			 "pool; stop stops any child)", *n->path ? n->path : "/");
		pending_answer_str(p, 1, m);
	} else if (n == s->conf->root)
		pending_answer_str(p, 1, "the root cannot be stopped or started: "
				   "use arborctl shutdown");
	else if (s->cmd && n == s->cmd->node && strcmp(argv[0], "kill"))
		pending_answer_str(p, 1, "cmd is the -- command, whose exit ends arbor: "
				   "it cannot be stopped or started (use kill)");
	else
		route_ctl(s, argc, argv, p);
}

/* Requests, in the canonical form arborctl sends (see arborctl.c). */
static const struct verb {
	const char *name;
	int words;		/* it needs argv[1..words] */
	bool path;		/* argv[1] names a node, which must exist */
	verb_fn *fn;
} verbs[] = {
	{ "ping", 0, false, v_ping },		/* ping [PATH] */
	{ "tree", 0, false, v_tree },		/* tree */
	{ "shutdown", 0, false, v_shutdown },	/* shutdown */
	{ "reload", 0, false, v_reload },	/* reload */
	{ "reopen", 0, false, v_reopen },	/* reopen */
	{ "status", 1, true, v_status },	/* status PATH text|json */
	{ "events", 1, true, v_events },	/* events PATH text|json */
	{ "call", 3, true, v_call },		/* call PATH MESSAGE TIMEOUT_MS */
	{ "cast", 2, true, v_cast },		/* cast PATH MESSAGE */
	{ "send", 2, true, v_cast },		/* send PATH MESSAGE */
	{ "start", 1, true, v_admin },		/* start PATH */
	{ "stop", 1, true, v_admin },		/* stop PATH */
	{ "restart", 1, true, v_admin },	/* restart PATH */
	{ "kill", 1, true, v_admin },		/* kill PATH SIGNAL */
	{ "delete", 1, true, v_admin },		/* delete PATH */
};

/* The node path names for v: a new pool member for start (it grows the
 * pool), the -- CMD for `cmd`. */
static struct conf_node *find_node(struct sup *s, const struct verb *v, const char *path)
{
	struct conf_node *n = !strcmp(v->name, "start") ?
			      registry_member(s->reg, s->conf, path)
			      : registry_node(s->reg, s->conf, path);

	if (!n && s->cmd && !strcmp(path, s->cmd->path))
		n = s->cmd->node;
	return n;
}

/* Why argv cannot be run, into m; NULL when it can (*n its node). */
static const char *refuse(struct sup *s, const struct verb *v, int argc, char **argv,
			  struct conf_node **n, char *m, size_t size)
{
	char b[512];

	if (!v)
		snprintf(m, size, "bad request: unknown verb '%s'", argc > 0 ? argv[0] : "");
	else if (v->path && argc < 2)
		snprintf(m, size, "bad request: %s needs a path", v->name);
	else if (argc <= v->words)
		snprintf(m, size, "bad request: %s needs %d words after it", v->name, v->words);
	else if (v->path && !(*n = find_node(s, v, multi_base(argv[0], argv[1], b, sizeof(b))
							      ?: argv[1])))
		snprintf(m, size, "no such child: %s", argv[1]);
	else
		return NULL;
	return m;
}

void route_client(struct sup *s, int argc, char **argv, pending_done_fn *done, void *ctx)
{
	const struct verb *v = NULL;
	struct conf_node *n = NULL;
	struct pending *p = pending_client(&s->calls, done, ctx);
	char m[700];

	if (!p) {
		if (done)
			done(ctx, 1, "out of memory", 13);
		return;
	}
	for (size_t i = 0; argc > 0 && i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[0], verbs[i].name))
			v = &verbs[i];
	if (refuse(s, v, argc, argv, &n, m, sizeof(m)))
		pending_answer_str(p, 1, m);
	else
		v->fn(s, argc, argv, n, p);
}

/* The peer is gone or unreadable. A child's exit is reaped as usual; the
 * parent gone is this subtree's end. */
void route_close(struct link *ln, const char *why)
{
	if (why)
		protocol_error(ln, why);
	if (!ln->child)
		sup_parent_gone(ln->sup);
}

const struct sup_hooks route_hooks = {
	.frame = route_frame, .close = route_close, .request = route_client,
	.plan_done = route_plan_done, .idle = reload_kick,
	.start_failed = reload_start_failed, .stopping = reload_abort,
	.changed = route_changed,
};
