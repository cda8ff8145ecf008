/* registry: run-time state by path, in a hash table. See registry.h. */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

#include "registry.h"

struct entry {
	struct reg_node n;
	struct entry *next;	/* hash chain */
	char path[];
};

struct registry {
	struct entry **slot;
	size_t cap, count;
	struct conf_node **members;	/* pool members started at run time */
	size_t nmembers;
	char **deleted;		/* pool members deleted, until started again */
	size_t ndeleted;
};

/* FNV-1a */
static size_t hash(const char *s)
{
	size_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct registry *registry_new(void)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cap = 64;
	r->slot = calloc(r->cap, sizeof(*r->slot));
	if (!r->slot) {
		free(r);
		return NULL;
	}
	return r;
}

static void member_free(struct conf_node *m);

void registry_free(struct registry *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->cap; i++) {
		struct entry *e = r->slot[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	for (size_t i = 0; i < r->nmembers; i++)
		member_free(r->members[i]);
	free(r->members);
	for (size_t i = 0; i < r->ndeleted; i++)
		free(r->deleted[i]);
	free(r->deleted);
	free(r->slot);
	free(r);
}

static struct entry **where(const struct registry *r, const char *path)
{
	struct entry **e = &r->slot[hash(path) & (r->cap - 1)];

	while (*e && strcmp((*e)->path, path))
		e = &(*e)->next;
	return e;
}

struct reg_node *registry_find(const struct registry *r, const char *path)
{
	struct entry *e = *where(r, path);

	return e ? &e->n : NULL;
}

/* Doubles the table when it holds more entries than slots; a table that
 * cannot grow still works, with longer chains. */
static void grow(struct registry *r)
{
	size_t cap = 2 * r->cap;
	struct entry **slot = calloc(cap, sizeof(*slot));

	if (!slot)
		return;
	for (size_t i = 0; i < r->cap; i++) {
		struct entry *e = r->slot[i], *next;

		for (; e; e = next) {
			size_t j = hash(e->path) & (cap - 1);

			next = e->next;
			e->next = slot[j];
			slot[j] = e;
		}
	}
	free(r->slot);
	r->slot = slot;
	r->cap = cap;
}

struct reg_node *registry_get(struct registry *r, const char *path)
{
	struct entry **at = where(r, path), *e = *at;
	size_t len = strlen(path) + 1;

	if (e)
		return &e->n;
	e = calloc(1, sizeof(*e) + len);
	if (!e)
		return NULL;
	memcpy(e->path, path, len);
	*at = e;
	if (++r->count > r->cap)
		grow(r);
	return &e->n;
}

void registry_drop(struct registry *r, const char *path)
{
	struct entry **at = where(r, path), *e = *at;

	if (!e)
		return;
	*at = e->next;
	free(e);
	r->count--;
}

/* --- pool members started at run time --- */

static bool deleted(const struct registry *r, const char *path)
{
	for (size_t i = 0; i < r->ndeleted; i++)
		if (!strcmp(r->deleted[i], path))
			return true;
	return false;
}

int registry_delete(struct registry *r, const char *path)
{
	char **d, *p;

	registry_drop(r, path);
	if (deleted(r, path))
		return 0;
	d = realloc(r->deleted, (r->ndeleted + 1) * sizeof(*d));
	if (!d)
		return -1;
	r->deleted = d;
	p = strdup(path);
	if (!p)
		return -1;
	r->deleted[r->ndeleted++] = p;
	return 0;
}

/* A member started again after it was deleted. */
static void undelete(struct registry *r, const char *path)
{
	for (size_t i = 0; i < r->ndeleted; i++) {
		if (!strcmp(r->deleted[i], path)) {
			free(r->deleted[i]);
			r->deleted[i] = r->deleted[--r->ndeleted];
			return;
		}
	}
}

struct conf_node *registry_node(const struct registry *r, const struct conf *c,
				 const char *path)
{
	struct conf_node *n = conf_find(c, path);

	if (deleted(r, path))
		return NULL;

	for (size_t i = 0; !n && i < r->nmembers; i++)
		if (!strcmp(r->members[i]->path, path))
			n = r->members[i];
	return n;
}

bool registry_is_member(const struct registry *r, const struct conf_node *n)
{
	for (size_t i = 0; i < r->nmembers; i++)
		if (r->members[i] == n)
			return true;
	return false;
}

/* A member takes its pool's worker keys, as conf_pool_add gives them to
 * the members read from the file; argv and set-up stay the pool's. */
static void member_fill(struct conf_node *m, struct conf_node *pool)
{
	m->parent = pool;
	m->file = pool->file;
	conf_member_keys(m, pool);
	conf_backoff(m, &m->backoff_ms, &m->backoff_max_ms);
	m->argv = pool->argv;
	m->health.argv = pool->health.argv;
	m->setup = pool->setup;
}

static void member_free(struct conf_node *m)
{
	free(m->path);
	free(m);
}

/* The pool member path, made for `arborctl start POOL/N` (OTP's
 * start_child on a simple_one_for_one supervisor); NULL when path is not
 * POOL/N under a pool. */
struct conf_node *registry_member(struct registry *r, const struct conf *c,
				   const char *path)
{
	const char *slash = strrchr(path, '/');
	struct conf_node *pool, *m, **ms;
	char parent[512];

	undelete(r, path);
	m = registry_node(r, c, path);

	if (m || !slash || (size_t)(slash - path) >= sizeof(parent) || !conf_is_member_name(slash + 1))
		return m;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	pool = conf_find(c, parent);
	if (!pool || !pool->is_pool)
		return NULL;
	ms = realloc(r->members, (r->nmembers + 1) * sizeof(*ms));
	if (!ms)
		return NULL;
	r->members = ms;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->path = strdup(path))) {
		free(m);
		return NULL;
	}
	m->name = m->path + (slash - path) + 1;
	member_fill(m, pool);
	r->members[r->nmembers++] = m;
	return m;
}

struct conf_node *registry_kid(const struct registry *r, const struct conf_node *n, size_t i)
{
	for (size_t j = 0; j < n->nkids; j++)
		if ((!r->ndeleted || !deleted(r, n->kids[j]->path)) && i-- == 0)
			return n->kids[j];
	for (size_t j = 0; n->is_pool && j < r->nmembers; j++)
		if (r->members[j]->parent == n && !deleted(r, r->members[j]->path) && i-- == 0)
			return r->members[j];
	return NULL;
}

void registry_rebind(struct registry *r, const struct conf *nc)
{
	size_t keep = 0;

	for (size_t i = 0; i < r->nmembers; i++) {
		struct conf_node *m = r->members[i];
		struct conf_node *pool = conf_find(nc, m->parent->path);

		if (pool && pool->is_pool && !conf_find(nc, m->path)) {
			member_fill(m, pool);
			r->members[keep++] = m;
		} else {
			registry_drop(r, m->path);
			member_free(m);
		}
	}
	r->nmembers = keep;
	keep = 0;
	for (size_t i = 0; i < r->ndeleted; i++) {	/* the file's are started again */
		if (conf_find(nc, r->deleted[i]))
			free(r->deleted[i]);
		else
			r->deleted[keep++] = r->deleted[i];
	}
	r->ndeleted = keep;
}
