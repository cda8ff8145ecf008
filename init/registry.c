/* registry: run-time state by path, in a hash table. See registry.h. */
#include <stdlib.h>
#include <string.h>

#include "registry.h"

struct entry {
	struct reg_node n;
	struct entry *next;	/* hash chain */
	char path[];
};

struct registry {
	struct entry **slot;
	size_t cap, count;
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
