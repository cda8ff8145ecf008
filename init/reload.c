/* reload: re-read the INI and apply only what changed (arborctl reload,
 * SIGHUP). A file with any error changes nothing. Children whose own keys
 * are the same keep running with the same pids; removed ones are stopped,
 * changed ones stopped and started again, added ones started in their place.
 * Every nested supervisor is told to do the same for its own subtree.
 *
 * A reload waits until its supervisor is idle (as arborctl start waits for
 * a plan under way) and is answered once it has been applied: its own plan
 * done, and every nested supervisor's answer in. The reloads asked for
 * while one waits or runs are run together next: they all want the file as
 * it is then. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "reload.h"
#include "sup.h"

/* Forgets the run-time state of the nodes that are gone from the new tree
 * (or changed from worker to supervisor and back): a node added again
 * later starts afresh. */
static void registry_prune(struct registry *r, const struct conf_node *old,
			   const struct conf *nc)
{
	const struct conf_node *n = conf_find(nc, old->path);

	for (size_t i = 0; i < old->nkids; i++)
		registry_prune(r, old->kids[i], nc);
	if (!n || n->is_sup != old->is_sup)
		registry_drop(r, old->path);
}

/* Counts, over the whole tree, the nodes added, removed and changed. */
static void count_changes(const struct conf *oc, const struct conf_node *o,
			  const struct conf *nc, const struct conf_node *n, int *add,
			  int *rem, int *chg)
{
	if (o) {
		const struct conf_node *m = conf_find(nc, o->path);

		if (!m || m->is_sup != o->is_sup)
			++*rem;
		else if (o->parent && !conf_node_same(o, m))
			++*chg;
		for (size_t i = 0; i < o->nkids; i++)
			count_changes(oc, o->kids[i], nc, NULL, add, rem, chg);
	}
	if (n) {
		const struct conf_node *m = conf_find(oc, n->path);

		if (!m || m->is_sup != n->is_sup)
			++*add;
		for (size_t i = 0; i < n->nkids; i++)
			count_changes(oc, NULL, nc, n->kids[i], add, rem, chg);
	}
}

static struct child *kid_by_path(struct sup *s, const char *path)
{
	for (size_t i = 0; i < s->nkids; i++)
		if (s->kids[i]->kind != CHILD_CMD && !strcmp(s->kids[i]->path, path))
			return s->kids[i];
	return NULL;
}

struct diff {
	struct child **kids;	/* the new order */
	size_t n;
	struct child **gone;	/* removed: stopped, then freed */
	char **paths;		/* their paths, copied (the old tree goes) */
	size_t ngone;
	struct window win;	/* the new restart window */
	bool has_win;
	struct child **stop, **start;	/* in the order to act */
	size_t nstop, nstart;
	int added, removed, changed;
};

static void diff_free(struct diff *d)
{
	for (size_t i = 0; d->paths && i < d->ngone; i++)
		free(d->paths[i]);
	if (d->has_win)
		window_free(&d->win);
	free(d->paths);
	free(d->kids);
	free(d->gone);
	free(d->stop);
	free(d->start);
}

/* Works out, against the new node for this supervisor, which children are
 * kept, changed, added and removed. Nothing is touched yet. */
/* The children to stop: removed ones (to be freed, each keeping a copy of
 * its path) and changed ones, in reverse start order. */
static int diff_stops(struct sup *s, struct conf_node *nn, struct diff *d)
{
	for (size_t i = s->nkids; i-- > 0;) {
		struct child *c = s->kids[i];
		struct conf_node *n = NULL;

		if (c->kind == CHILD_CMD || (nn->is_pool && registry_is_member(s->reg, c->node)))
			continue;	/* members started at run time stay */
		for (size_t j = 0; j < nn->nkids; j++)
			if (!strcmp(nn->kids[j]->path, c->path))
				n = nn->kids[j];
		if (!n || n->is_sup != (c->kind == CHILD_SUPERVISOR)) {
			d->paths[d->ngone] = strdup(c->path);
			if (!d->paths[d->ngone])
				return -1;
			d->gone[d->ngone++] = c;
			d->stop[d->nstop++] = c;
			d->removed++;
		} else if (!conf_node_same(c->node, n)) {
			d->stop[d->nstop++] = c;
			d->changed++;
		}
	}
	return 0;
}

static bool listed(struct child *const *l, size_t n, const struct child *c)
{
	for (size_t i = 0; i < n; i++)
		if (l[i] == c)
			return true;
	return false;
}

/* The new order of children, and which start: added and changed ones. */
static int diff_order(struct sup *s, struct conf_node *nn, struct diff *d)
{
	for (size_t j = 0; j < nn->nkids; j++) {
		struct child *c = kid_by_path(s, nn->kids[j]->path);
		bool changed = c && listed(d->stop, d->nstop, c);

		if (c && listed(d->gone, d->ngone, c))
			c = NULL;
		if (!c) {
			c = sup_child_new(s, nn->kids[j]);
			if (!c)
				return -1;
			d->added++;
			changed = true;
		}
		d->kids[d->n++] = c;
		if (changed && c->role != ROLE_HELD)
			d->start[d->nstart++] = c;
	}
	for (size_t i = 0; nn->is_pool && i < s->nkids; i++)
		if (registry_is_member(s->reg, s->kids[i]->node))
			d->kids[d->n++] = s->kids[i];
	if (s->cmd)
		d->kids[d->n++] = s->cmd;
	return 0;
}

/* Works out, against the new node for this supervisor, which children are
 * kept, changed, added and removed. Nothing is touched yet. */
static int diff_make(struct sup *s, struct conf_node *nn, struct diff *d)
{
	size_t cap = nn->nkids + s->nkids + 1;

	d->kids = calloc(cap, sizeof(*d->kids));
	d->gone = calloc(cap, sizeof(*d->gone));
	d->paths = calloc(cap, sizeof(*d->paths));
	d->stop = calloc(cap, sizeof(*d->stop));
	d->start = calloc(cap, sizeof(*d->start));
	if (!d->kids || !d->gone || !d->paths || !d->stop || !d->start)
		return -1;
	if (window_init(&d->win, nn->intensity, nn->period_ms) < 0)
		return -1;
	d->has_win = true;
	if (diff_stops(s, nn, d) < 0)
		return -1;
	return diff_order(s, nn, d);
}

/* --- the answer --- */

static void note(struct reload *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Records one failure for the answer. */
static void note(struct reload *r, const char *fmt, ...)
{
	size_t n = strlen(r->errs);
	va_list ap;

	r->rc = 1;
	if (n && n + 3 < sizeof(r->errs)) {
		memcpy(r->errs + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= sizeof(r->errs))
		return;
	va_start(ap, fmt);
	vsnprintf(r->errs + n, sizeof(r->errs) - n, fmt, ap);
	va_end(ap);
}

static void reload_free(struct reload *r)
{
	free(r->w);
	free(r);
}

/* Answers everyone who asked. A nested supervisor tells its parent only
 * what failed; the root puts that after its summary of the whole tree. */
static void reload_finish(struct sup *s)
{
	struct reload *r = s->reload;
	char m[sizeof(r->sum) + sizeof(r->errs) + 2];

	s->reload = NULL;
	if (!r->rc)
		snprintf(m, sizeof(m), "%s", r->sum);
	else if (*r->sum && s->root)
		snprintf(m, sizeof(m), "%s; %s", r->sum, r->errs);
	else
		snprintf(m, sizeof(m), "%s", r->errs);
	for (size_t i = 0; i < r->nw; i++)
		pending_answer_str(r->w[i], r->rc, m);
	reload_free(r);
	reload_kick(s);
}

static void reload_step(struct sup *s)
{
	if (s->reload && --s->reload->left == 0)
		reload_finish(s);
}

/* The plan the reload made is done (plan_done() calls this for every plan;
 * only the reload's own counts). */
void reload_plan_done(struct sup *s)
{
	if (s->reload && s->reload->planning) {
		s->reload->planning = false;
		reload_step(s);
	}
}

/* A child the reload started (added or changed) did not become ready. */
void reload_start_failed(struct sup *s, struct child *c, const char *why)
{
	if (s->reload)
		note(s->reload, "cannot start %s: %s", c->path, why);
}

/* A nested supervisor's answer to the reload passed on to it. Its
 * failures name their own paths; anything else is about it. */
static void nested_done(void *ctx, int rc, const char *text, size_t len)
{
	struct child *k = ctx;
	struct sup *s = k->owner;

	if (!s->reload)
		return;		/* cut short: this supervisor is stopping */
	if (rc && len > 13 && !memcmp(text, "cannot start ", 13))
		note(s->reload, "%.*s", (int)len, text);
	else if (rc)
		note(s->reload, "%s: %.*s", k->path, (int)len, text);
	reload_step(s);
}

/* Tells the nested supervisor k to reload its subtree (a CTL request);
 * the reload under way is answered only once k has answered. */
static void pass_on(struct sup *s, struct child *k)
{
	struct pending *p = pending_client(&s->calls, nested_done, k);
	uint64_t id;

	if (!p) {
		note(s->reload, "%s: out of memory", k->path);
		return;
	}
	s->reload->left++;
	id = pending_send(p, k->ln, -1, "");
	if (link_send(k->ln, FRAME_CTL, id, "reload", 7, NULL, 0) < 0)
		pending_answer_str(p, 1, "noproc");
}

/* Every running nested supervisor that is not restarted reloads itself. */
static void pass_on_all(struct sup *s, struct child **stop, size_t nstop)
{
	for (size_t i = 0; i < s->nkids; i++) {
		struct child *k = s->kids[i];

		if (k->kind == CHILD_SUPERVISOR && k->ln && k->state == CS_RUNNING &&
		    !listed(stop, nstop, k))
			pass_on(s, k);
	}
}

/* A supervisor that stops answers the reloads it holds. */
void reload_abort(struct sup *s)
{
	struct reload *rs[] = { s->reload, s->reload_next };
	static const char m[] = "interrupted: the supervisor is stopping";

	s->reload = s->reload_next = NULL;
	for (size_t i = 0; i < 2; i++) {
		if (!rs[i])
			continue;
		for (size_t j = 0; j < rs[i]->nw; j++)
			pending_answer_str(rs[i]->w[j], 1, m);
		reload_free(rs[i]);
	}
}

static void reload_run(struct sup *s);

/* Queues a reload; p is answered once it has been applied (or refused). */
void reload_request(struct sup *s, struct pending *p)
{
	struct reload *r = s->reload_next;
	struct pending **w;

	if (!s->conf_file) {
		pending_answer_str(p, 1, "nothing to reload: arbor runs without -c FILE");
		return;
	}
	if (s->phase == PH_STOP || s->phase == PH_DONE) {
		pending_answer_str(p, 1, "stopping: the supervisor is shutting down");
		return;
	}
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			goto err_nomem;
		s->reload_next = r;
	}
	w = realloc(r->w, (r->nw + 1) * sizeof(*w));
	if (!w)
		goto err_nomem;
	r->w = w;
	r->w[r->nw++] = p;
	reload_kick(s);
	return;

err_nomem:
	pending_answer_str(p, 1, "out of memory");
}

/* Runs the reloads waiting, if the supervisor is idle: running, with no
 * plan under way, no exit waiting for a decision and no reload unanswered. */
void reload_kick(struct sup *s)
{
	if (s->reload || !s->reload_next || s->phase != PH_RUN || s->at < s->nplan ||
	    s->ndeaths)
		return;
	s->reload = s->reload_next;
	s->reload_next = NULL;
	reload_run(s);
}

/* --- applying --- */

/* Re-reads the file; on success swaps in the new tree and starts the plan
 * of stops and starts. An error is the answer at once, file:line first. */
/* Re-reads the file: the new tree and this supervisor's node in it, or
 * NULL after answering why not (file:line first). */
static struct conf_node *reload_load(struct sup *s, struct conf **nc)
{
	struct reload *r = s->reload;
	struct conf_err err;
	struct conf_node *nn;

	if (conf_load(s->conf_file, nc, &err) < 0) {
		note(r, "%s", err.msg);
		log_msg("reload refused: %s", err.msg);
		return NULL;
	}
	nn = conf_find(*nc, s->node->path);
	if (!nn || !nn->is_sup)
		note(r, "%s is gone from the new file", s->node->path);
	else if (s->cmd && conf_find(*nc, "cmd"))
		note(r, "%s: the -- command runs as 'cmd', which a section now names",
		     s->conf_file);
	else
		return nn;
	conf_free(*nc);
	return NULL;
}

/* Points the supervisor at the new tree: kept children at their new
 * nodes, removed ones at their own copies of their paths, held until they
 * are freed. */
static void reload_swap(struct sup *s, struct conf *nc, struct conf_node *nn, struct diff *d)
{
	registry_prune(s->reg, s->conf->root, nc);
	for (size_t i = 0; i < d->n; i++) {
		struct child *c = d->kids[i];
		struct conf_node *n;

		if (c->kind == CHILD_CMD || registry_is_member(s->reg, c->node))
			continue;
		n = conf_find(nc, c->path);
		c->node = n;
		c->path = n->path;
	}
	for (size_t i = 0; i < d->ngone; i++) {
		d->gone[i]->path = d->paths[i];
		d->paths[i] = NULL;
		d->gone[i]->node = NULL;
		d->gone[i]->role = ROLE_HELD;
	}
	registry_rebind(s->reg, nc);	/* after the gone ones took their paths */
	if (s->root)
		log_init(nc->log_format, log_verbose());
	s->node = nn;
	window_free(&s->win);
	s->win = d->win;
	d->has_win = false;
	s->conf = nc;
	free(s->kids);
	s->kids = d->kids;
	s->nkids = d->n;
	d->kids = NULL;
}

/* Re-reads the file; on success swaps in the new tree and starts the plan
 * of stops and starts. An error is the answer at once. */
static void reload_run(struct sup *s)
{
	struct reload *r = s->reload;
	struct conf *nc, *old = s->conf;
	struct conf_node *nn = reload_load(s, &nc);
	struct diff d = { 0 };

	if (!nn) {
		reload_finish(s);
		return;
	}
	if (diff_make(s, nn, &d) < 0) {
		diff_free(&d);
		conf_free(nc);
		note(r, "out of memory");
		reload_finish(s);
		return;
	}
	d.added = d.removed = d.changed = 0;	/* the whole subtree's, for the reply */
	count_changes(old, s->node, nc, NULL, &d.added, &d.removed, &d.changed);
	count_changes(old, NULL, nc, nn, &d.added, &d.removed, &d.changed);
	reload_swap(s, nc, nn, &d);
	snprintf(r->sum, sizeof(r->sum), "reloaded %s: %d added, %d removed, %d changed",
		 s->conf_file, d.added, d.removed, d.changed);
	log_ev("reloaded", s->node->path, "added=%d removed=%d changed=%d", d.added, d.removed,
	       d.changed);
	conf_free(old);
	r->planning = true;
	r->left = 1;
	pass_on_all(s, d.stop, d.nstop);
	/* last: the reload may be answered (and r freed) before it returns */
	sup_reload_apply(s, d.stop, d.nstop, d.start, d.nstart, d.gone, d.ngone);
	d.gone = NULL;
	diff_free(&d);
}
