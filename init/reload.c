/* reload: re-read the INI and apply only what changed (arborctl reload,
 * SIGHUP). A file with any error changes nothing. Children whose own keys
 * are the same keep running with the same pids; removed ones are stopped,
 * changed ones stopped and started again, added ones started in their place.
 * Every nested supervisor is told to do the same for its own subtree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sup_int.h"

/* Moves the run-time slots from the old tree to the nodes of the same
 * path in the new one; the slots of nodes that are gone are freed. */
static void rt_move(struct conf_node *old, struct conf *nc)
{
	struct conf_node *n = conf_find(nc, old->path);

	for (size_t i = 0; i < old->nkids; i++)
		rt_move(old->kids[i], nc);
	if (n && !n->rt && n->is_sup == old->is_sup)
		n->rt = old->rt;
	else
		free(old->rt);
	old->rt = NULL;
}

static void rt_fill(struct conf_node *n)
{
	if (!n->rt)
		n->rt = calloc(1, sizeof(struct rtstat));
	for (size_t i = 0; i < n->nkids; i++)
		rt_fill(n->kids[i]);
}

/* Pool members started at run time are not in the file: they stay. */
static void keep_members(struct conf_node *old, struct conf *nc)
{
	struct conf_node *np = old->is_pool ? conf_find(nc, old->path) : NULL;

	for (size_t i = 0; i < old->nkids; i++) {
		if (np && np->is_pool && !conf_find(nc, old->kids[i]->path))
			conf_pool_add(nc, np, old->kids[i]->name);
		else if (!old->is_pool)
			keep_members(old->kids[i], nc);
	}
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
		if (!s->kids[i]->is_cmd && !strcmp(s->kids[i]->path, path))
			return s->kids[i];
	return NULL;
}

struct diff {
	struct child **kids;	/* the new order */
	size_t n;
	struct child **gone;	/* removed: stopped, then freed */
	size_t ngone;
	struct child **stop, **start;	/* in the order to act */
	size_t nstop, nstart;
	int added, removed, changed;
};

static void diff_free(struct diff *d)
{
	free(d->kids);
	free(d->gone);
	free(d->stop);
	free(d->start);
}

/* Works out, against the new node for this supervisor, which children are
 * kept, changed, added and removed. Nothing is touched yet. */
static int diff_make(struct sup *s, struct conf_node *nn, struct diff *d)
{
	size_t cap = nn->nkids + s->nkids + 1;

	d->kids = calloc(cap, sizeof(*d->kids));
	d->gone = calloc(cap, sizeof(*d->gone));
	d->stop = calloc(cap, sizeof(*d->stop));
	d->start = calloc(cap, sizeof(*d->start));
	if (!d->kids || !d->gone || !d->stop || !d->start)
		return -1;
	for (size_t i = s->nkids; i-- > 0;) {
		struct child *c = s->kids[i];
		struct conf_node *n = NULL;

		if (c->is_cmd)
			continue;
		for (size_t j = 0; j < nn->nkids; j++)
			if (!strcmp(nn->kids[j]->path, c->path))
				n = nn->kids[j];
		if (!n || n->is_sup != c->is_sup) {
			d->gone[d->ngone++] = c;
			d->stop[d->nstop++] = c;
			d->removed++;
		} else if (!conf_node_same(c->node, n)) {
			d->stop[d->nstop++] = c;
			d->changed++;
		}
	}
	for (size_t j = 0; j < nn->nkids; j++) {
		struct child *c = kid_by_path(s, nn->kids[j]->path);
		bool changed = false;

		for (size_t k = 0; c && k < d->nstop; k++)
			if (d->stop[k] == c)
				changed = true;
		for (size_t k = 0; c && k < d->ngone; k++)
			if (d->gone[k] == c)
				c = NULL;
		if (!c) {
			c = sup_child_new(s, nn->kids[j]);
			if (!c)
				return -1;
			d->added++;
			changed = true;
		}
		d->kids[d->n++] = c;
		if (changed && !c->held)
			d->start[d->nstart++] = c;
	}
	if (s->cmd)
		d->kids[d->n++] = s->cmd;
	return 0;
}

/* Re-reads the file; on success swaps in the new tree and queues the stops
 * and starts. msg says what happened (or the error, file:line first). */
int status_reload(struct sup *s, char *msg, size_t len)
{
	struct conf *nc;
	struct conf_err err;
	struct conf_node *nn;
	struct diff d = { 0 };
	struct conf *old = s->conf;

	if (!s->conf_file) {
		snprintf(msg, len, "nothing to reload: arbor runs without -c FILE");
		return 1;
	}
	if (s->phase != PH_RUN || s->at < s->nplan) {
		snprintf(msg, len, "busy: the tree is starting, stopping or restarting; try again");
		return 1;
	}
	if (conf_load(s->conf_file, &nc, &err) < 0) {
		snprintf(msg, len, "%s", err.msg);
		log_msg("reload refused: %s", err.msg);
		return 1;
	}
	keep_members(old->root, nc);
	nn = conf_find(nc, s->node->path);
	if (!nn || !nn->is_sup) {
		conf_free(nc);
		snprintf(msg, len, "%s is gone from the new file", s->node->path);
		return 1;
	}
	if (s->cmd && conf_find(nc, "cmd")) {
		conf_free(nc);
		snprintf(msg, len, "%s: the -- command runs as 'cmd', which a section now names",
			 s->conf_file);
		return 1;
	}
	if (diff_make(s, nn, &d) < 0) {
		diff_free(&d);
		conf_free(nc);
		snprintf(msg, len, "out of memory");
		return 1;
	}
	d.added = d.removed = d.changed = 0;	/* the whole subtree's, for the reply */
	count_changes(old, s->node, nc, NULL, &d.added, &d.removed, &d.changed);
	count_changes(old, NULL, nc, nn, &d.added, &d.removed, &d.changed);
	rt_move(old->root, nc);
	rt_fill(nc->root);
	for (size_t i = 0; i < d.n; i++) {	/* every kept child points into nc */
		struct child *c = d.kids[i];
		struct conf_node *n;

		if (c->is_cmd)
			continue;
		n = conf_find(nc, c->path);
		c->node = n;
		c->path = n->path;
		c->rt = n->rt;
	}
	for (size_t i = 0; i < d.ngone; i++) {	/* they keep old paths until freed */
		struct child *c = d.gone[i];

		c->path = strdup(c->path);
		c->rt = calloc(1, sizeof(*c->rt));
		c->node = NULL;
		c->held = true;
	}
	if (s->root)
		log_init(nc->log_format, log_verbose());
	s->node = nn;
	window_free(&s->win);
	window_init(&s->win, nn->intensity, nn->period_ms);
	s->conf = nc;
	free(s->kids);
	s->kids = d.kids;
	s->nkids = d.n;
	d.kids = NULL;
	sup_reload_apply(s, d.stop, d.nstop, d.start, d.nstart, d.gone, d.ngone);
	d.gone = NULL;
	snprintf(msg, len, "reloaded %s: %d added, %d removed, %d changed", s->conf_file,
		 d.added, d.removed, d.changed);
	log_ev("reloaded", s->node->path, "added=%d removed=%d changed=%d", d.added, d.removed,
	       d.changed);
	diff_free(&d);
	conf_free(old);
	return 0;
}
