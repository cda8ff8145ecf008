/* agent: OTP's Agent as an arbor worker, a key-value state holder.
 *
 * Calls: "put KEY VALUE" (VALUE is the rest of the message, spaces and all)
 * -> "ok"; "get KEY" -> VALUE; "delete KEY" -> "ok" (a missing key too);
 * "keys" -> the keys in byte order, one a line. Casts: put and delete.
 * Keys are words without spaces or newlines; values are any bytes. */
#include "arbor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	uint64_t hash;
	char *val;
	size_t klen, vlen;
	char key[];
};

/* A chained hash table that doubles when it holds more entries than slots,
 * so lookups stay O(1) however many keys there are. */
struct agent {
	struct entry **slot;
	size_t nslot, n;
};

/* A piece of the message: keys and values are not NUL-terminated there. */
struct str {
	const char *p;
	size_t len;
};

static uint64_t fnv1a(struct str s)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static struct entry **agent_find(struct agent *a, struct str key, uint64_t h)
{
	struct entry **pp = &a->slot[h & (a->nslot - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == key.len &&
		    memcmp((*pp)->key, key.p, key.len) == 0)
			break;
	return pp;
}

static int agent_grow(struct agent *a)
{
	size_t nslot = a->nslot * 2, i;
	struct entry **slot = calloc(nslot, sizeof(*slot));
	struct entry *e;

	if (!slot)
		return -1;
	for (i = 0; i < a->nslot; i++) {
		while ((e = a->slot[i])) {
			a->slot[i] = e->next;
			e->next = slot[e->hash & (nslot - 1)];
			slot[e->hash & (nslot - 1)] = e;
		}
	}
	free(a->slot);
	a->slot = slot;
	a->nslot = nslot;
	return 0;
}

static int agent_put(struct agent *a, struct str key, struct str val)
{
	uint64_t h = fnv1a(key);
	struct entry **pp = agent_find(a, key, h), *e;
	char *v = malloc(val.len ? val.len : 1);

	if (!v)
		return -1;
	memcpy(v, val.p, val.len);
	if ((e = *pp)) {
		free(e->val);
		goto set;
	}
	e = malloc(sizeof(*e) + key.len);
	if (!e) {
		free(v);
		return -1;
	}
	memcpy(e->key, key.p, key.len);
	e->klen = key.len;
	e->hash = h;
	e->next = NULL;
	*pp = e;
	if (++a->n > a->nslot && agent_grow(a) < 0) {
		/* still correct with longer chains */
	}
set:
	e->val = v;
	e->vlen = val.len;
	return 0;
}

static void agent_delete(struct agent *a, struct str key)
{
	struct entry **pp = agent_find(a, key, fnv1a(key)), *e = *pp;

	if (!e)
		return;
	*pp = e->next;
	free(e->val);
	free(e);
	a->n--;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = *(struct entry *const *)x;
	const struct entry *b = *(struct entry *const *)y;
	int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);

	if (c)
		return c;
	return a->klen < b->klen ? -1 : a->klen > b->klen;
}

static int agent_keys(struct agent *a, struct arbor_buf *out)
{
	struct entry **all, *e;
	size_t i, k = 0;

	if (a->n == 0)
		return 0;
	all = malloc(a->n * sizeof(*all));
	if (!all)
		return -1;
	for (i = 0; i < a->nslot; i++)
		for (e = a->slot[i]; e; e = e->next)
			all[k++] = e;
	qsort(all, k, sizeof(*all), entry_cmp);
	for (i = 0; i < k; i++) {
		if (i)
			arbor_buf_add(out, "\n", 1);
		arbor_buf_add(out, all[i]->key, all[i]->klen);
	}
	free(all);
	return 0;
}

/* Splits "VERB REST" at the first space; true when msg starts with verb. */
static bool verb(struct str msg, const char *v, struct str *rest)
{
	size_t n = strlen(v);

	if (msg.len < n + 1 || memcmp(msg.p, v, n) != 0 || msg.p[n] != ' ')
		return false;
	rest->p = msg.p + n + 1;
	rest->len = msg.len - n - 1;
	return true;
}

/* A key is a non-empty word: it ends a line of "keys" and a field of
 * "put", so it cannot hold a space or a newline. */
static bool key_ok(struct str key)
{
	return key.len > 0 && !memchr(key.p, ' ', key.len) &&
	       !memchr(key.p, '\n', key.len);
}

/* The requests that change the state, shared by calls and casts. Returns
 * 1 when msg is not one of them. */
static int agent_update(struct agent *a, struct str msg, struct arbor_buf *r)
{
	struct str rest, key;
	const char *sp;

	if (verb(msg, "put", &rest)) {
		struct str val;

		sp = memchr(rest.p, ' ', rest.len);
		key.p = rest.p;
		key.len = sp ? (size_t)(sp - rest.p) : rest.len;
		if (!sp || !key_ok(key)) {
			arbor_buf_puts(r, "usage: put KEY VALUE");
			return -1;
		}
		val.p = sp + 1;
		val.len = rest.len - key.len - 1;
		if (agent_put(a, key, val) < 0) {
			arbor_buf_printf(r, "put: %s", strerror(errno));
			return -1;
		}
	} else if (verb(msg, "delete", &key)) {
		if (!key_ok(key)) {
			arbor_buf_puts(r, "usage: delete KEY");
			return -1;
		}
		agent_delete(a, key);
	} else {
		return 1;
	}
	arbor_buf_puts(r, "ok");
	return 0;
}

static int agent_call(void *state, const char *msg, size_t len,
		      struct arbor_buf *reply)
{
	struct agent *a = state;
	struct str m = { msg, len }, key;
	int rc = agent_update(a, m, reply);

	if (rc <= 0)
		return rc;
	if (verb(m, "get", &key)) {
		const struct entry *e;

		if (!key_ok(key)) {
			arbor_buf_puts(reply, "usage: get KEY");
			return -1;
		}
		e = *agent_find(a, key, fnv1a(key));
		if (!e) {
			arbor_buf_printf(reply, "no such key: %.*s",
					 (int)key.len, key.p);
			return -1;
		}
		return arbor_buf_add(reply, e->val, e->vlen);
	}
	if (len == 4 && memcmp(msg, "keys", 4) == 0)
		return agent_keys(a, reply);
	arbor_buf_printf(reply, "unknown request: %.*s", (int)len, msg);
	return -1;
}

/* A cast has nobody to answer: a bad one is said on stderr and dropped. */
static void agent_cast(void *state, const char *msg, size_t len)
{
	struct arbor_buf r = { 0 };
	struct str m = { msg, len };
	int rc = agent_update(state, m, &r);

	if (rc > 0)
		fprintf(stderr, "agent: cast: unknown request: %.*s\n", (int)len,
			msg);
	else if (rc < 0)
		fprintf(stderr, "agent: cast: %s\n", r.data);
	arbor_buf_free(&r);
}

static int agent_init(int argc, char **argv, void **state)
{
	struct agent *a;

	if (argc > 1) {
		fprintf(stderr, "usage: agent\n");
		return 2;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		goto err;
	a->nslot = 16;
	a->slot = calloc(a->nslot, sizeof(*a->slot));
	if (!a->slot)
		goto err_free_agent;
	*state = a;
	return 0;

err_free_agent:
	free(a);
err:
	perror("agent: calloc");
	return 1;
}

static void agent_terminate(void *state, const char *reason)
{
	struct agent *a = state;
	struct entry *e;
	size_t i;

	for (i = 0; i < a->nslot; i++) {
		while ((e = a->slot[i])) {
			a->slot[i] = e->next;
			free(e->val);
			free(e);
		}
	}
	free(a->slot);
	free(a);
}

int main(int argc, char **argv)
{
	static const struct arbor_callbacks cb = {
		.init = agent_init,
		.handle_call = agent_call,
		.handle_cast = agent_cast,
		.terminate = agent_terminate,
	};

	arbor_run(argc, argv, &cb);
}
