/* pending: the table of calls in flight. See pending.h. */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "pending.h"

#define CAP 256		/* buckets: a chain per bucket, any number of calls */

static size_t slot_of(const struct pending_table *t, uint64_t id)
{
	return (size_t)(id * 11400714819323198485ull >> 40) & (t->cap - 1);
}

void pending_table_init(struct pending_table *t, struct loop *l)
{
	memset(t, 0, sizeof(*t));
	t->loop = l;
	t->next_id = 1;
}

void pending_table_free(struct pending_table *t)
{
	free(t->slot);
	t->slot = NULL;
	t->cap = 0;
}

static struct pending *pending_new(struct pending_table *t)
{
	struct pending *p;

	if (!t->slot) {
		t->slot = calloc(CAP, sizeof(*t->slot));
		if (!t->slot)
			return NULL;
		t->cap = CAP;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->t = t;
	return p;
}

struct pending *pending_client(struct pending_table *t, pending_done_fn *done, void *ctx)
{
	struct pending *p = pending_new(t);

	if (p) {
		p->done = done;
		p->ctx = ctx;
	}
	return p;
}

struct pending *pending_from_link(struct pending_table *t, struct link *ln, uint64_t id)
{
	struct pending *p = pending_new(t);

	if (p) {
		p->from_ln = ln;
		p->from_id = id;
	}
	return p;
}

static struct pending *take(struct pending_table *t, uint64_t id)
{
	struct pending **pp;

	if (!t->slot)
		return NULL;
	for (pp = &t->slot[slot_of(t, id)]; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct pending *p = *pp;

			*pp = p->next;
			p->next = NULL;
			return p;
		}
	}
	return NULL;
}

struct pending *pending_find(struct pending_table *t, uint64_t id)
{
	struct pending *p = t->slot ? t->slot[slot_of(t, id)] : NULL;

	while (p && p->id != id)
		p = p->next;
	return p;
}

void pending_answer(struct pending *p, int rc, const char *text, size_t len)
{
	if (p->id)
		take(p->t, p->id);
	loop_timer_del(p->t->loop, p->timer);
	if (p->done)
		p->done(p->ctx, rc, text, len);
	else if (p->from_ln)
		link_send(p->from_ln, rc ? FRAME_ERROR : FRAME_REPLY, p->from_id, text, len,
			  NULL, 0);
	free(p->target);
	free(p);
}

void pending_answer_str(struct pending *p, int rc, const char *text)
{
	pending_answer(p, rc, text, strlen(text));
}

static void on_timeout(struct loop *l, void *data)
{
	struct pending *p = data;

	p->timer = NULL;
	pending_answer_str(p, 1, "timeout");
}

uint64_t pending_send(struct pending *p, struct link *ln, int64_t ms, const char *why)
{
	struct pending_table *t = p->t;
	size_t i;

	p->to = ln;
	p->id = t->next_id++;
	i = slot_of(t, p->id);
	p->next = t->slot[i];
	t->slot[i] = p;
	if (ms >= 0) {
		p->timer = loop_timer_add(t->loop, ms, on_timeout, p);
		if (!p->timer) {
			pending_answer_str(p, 1, why);
			return 0;
		}
	}
	return p->id;
}

int pending_target(struct pending *p, const char *path)
{
	free(p->target);
	p->target = strdup(path);
	return p->target ? 0 : -1;
}

static bool in_subtree(const char *path, const char *base)
{
	size_t n = strlen(base);

	return !n || (!strncmp(path, base, n) && (path[n] == '/' || !path[n]));
}

size_t pending_count(const struct pending_table *t, const char *path)
{
	size_t n = 0;

	for (size_t i = 0; t->slot && i < t->cap; i++)
		for (const struct pending *p = t->slot[i]; p; p = p->next)
			n += p->target && in_subtree(p->target, path);
	return n;
}

void pending_fail_link(struct pending_table *t, struct link *ln, const char *why, bool forget)
{
	for (size_t i = 0; t->slot && i < t->cap; i++) {
		struct pending *p = t->slot[i], *next;

		for (; p; p = next) {
			next = p->next;
			if (forget && p->from_ln == ln)
				p->from_ln = NULL;
			if (p->to == ln)
				pending_answer_str(p, 1, why);
		}
	}
}
