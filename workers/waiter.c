/* waiter: a worker that answers later, with arbor's deferred replies.
 *
 * Calls: "wait_for KEY" -> the VALUE of KEY, answered when another caller
 * "put KEY VALUE"s (at once when KEY already has one); "put KEY VALUE" ->
 * "woke N", the callers it answered, and KEY keeps VALUE; "delete KEY" ->
 * "ok"; "waiting" -> how many calls wait; "after MS MESSAGE" -> MESSAGE, in
 * MS milliseconds. Any number of calls wait at once, answered in the order
 * their answers become known. Keys are words without spaces. */
#include "arbor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A call waiting for its answer: for a key (timer 0), or for a timer. */
struct wait {
	struct wait *next;
	struct arbor_from from;
	int timer;
	size_t klen;
	char key[];	/* the key, or the message a timer answers */
};

/* A value put, in a list: a waiter holds few keys. */
struct value {
	struct value *next;
	char *key, *val;
	size_t vlen;
};

struct waiter {
	struct wait *waits;
	struct value *values;
	size_t nwaits;
};

/* The first word of *msg, which then points past it and its blank. */
static size_t word(const char **msg, size_t *len, const char **w)
{
	size_t n = 0;

	*w = *msg;
	while (n < *len && (*msg)[n] != ' ')
		n++;
	*msg += n < *len ? n + 1 : n;
	*len -= n < *len ? n + 1 : n;
	return n;
}

static struct value **value_find(struct waiter *s, const char *k, size_t klen)
{
	struct value **pp;

	for (pp = &s->values; *pp; pp = &(*pp)->next)
		if (strlen((*pp)->key) == klen && !memcmp((*pp)->key, k, klen))
			break;
	return pp;
}

static struct wait *wait_add(struct waiter *s, const char *k, size_t klen)
{
	struct wait *wt = malloc(sizeof(*wt) + klen + 1);

	if (!wt)
		return NULL;
	wt->from = arbor_from();
	wt->timer = 0;
	wt->klen = klen;
	memcpy(wt->key, k, klen);
	wt->key[klen] = '\0';
	wt->next = s->waits;
	s->waits = wt;
	s->nwaits++;
	return wt;
}

static int put(struct waiter *s, const char *k, size_t klen, const char *v,
	       size_t vlen, struct arbor_buf *reply)
{
	struct value **pp = value_find(s, k, klen), *val = *pp;
	struct wait **wp, *wt;
	int woke = 0;

	if (!val) {
		val = calloc(1, sizeof(*val));
		if (!val || !(val->key = strndup(k, klen))) {
			free(val);
			return arbor_buf_puts(reply, "out of memory"), -1;
		}
		*pp = val;
	}
	free(val->val);
	val->val = malloc(vlen + 1);
	if (!val->val)
		return arbor_buf_puts(reply, "out of memory"), -1;
	memcpy(val->val, v, vlen);
	val->vlen = vlen;
	for (wp = &s->waits; (wt = *wp);) {
		if (wt->timer || wt->klen != klen || memcmp(wt->key, k, klen)) {
			wp = &wt->next;
			continue;
		}
		*wp = wt->next;
		s->nwaits--;
		arbor_reply(wt->from, v, vlen);
		free(wt);
		woke++;
	}
	return arbor_buf_printf(reply, "woke %d", woke);
}

static int wait_for(struct waiter *s, const char *k, size_t klen, struct arbor_buf *reply)
{
	struct value *val = *value_find(s, k, klen);

	if (klen == 0)
		return arbor_buf_puts(reply, "wait_for: expected a key"), -1;
	if (val)
		return arbor_buf_add(reply, val->val, val->vlen);
	if (!wait_add(s, k, klen))
		return arbor_buf_puts(reply, "out of memory"), -1;
	return ARBOR_NOREPLY;
}

/* "after MS MESSAGE": a timer "waiter N" answers MESSAGE. */
static int after(struct waiter *s, const char *msg, size_t len, struct arbor_buf *reply)
{
	char tmsg[32], *end;
	const char *w;
	size_t n = word(&msg, &len, &w);
	long ms = strtol(w, &end, 10);
	struct wait *wt;

	if (n == 0 || end != w + n || ms < 0 || ms > 3600000)
		return arbor_buf_puts(reply, "after: expected milliseconds"), -1;
	wt = wait_add(s, msg, len);
	if (!wt)
		return arbor_buf_puts(reply, "out of memory"), -1;
	snprintf(tmsg, sizeof(tmsg), "waiter %llu", (unsigned long long)wt->from.id);
	wt->timer = arbor_send_after((int)ms, tmsg);
	if (wt->timer < 0) {
		s->waits = wt->next;
		s->nwaits--;
		free(wt);
		return arbor_buf_puts(reply, "out of memory"), -1;
	}
	return ARBOR_NOREPLY;
}

static int handle_call(void *state, const char *msg, size_t len, struct arbor_buf *reply)
{
	struct waiter *s = state;
	const char *verb, *key;
	size_t vn = word(&msg, &len, &verb), kn;

	if (vn == 7 && !memcmp(verb, "waiting", 7) && len == 0)
		return arbor_buf_printf(reply, "%zu", s->nwaits);
	if (vn == 5 && !memcmp(verb, "after", 5))
		return after(s, msg, len, reply);
	kn = word(&msg, &len, &key);
	if (vn == 8 && !memcmp(verb, "wait_for", 8))
		return wait_for(s, key, kn, reply);
	if (vn == 3 && !memcmp(verb, "put", 3) && kn > 0)
		return put(s, key, kn, msg, len, reply);
	if (vn == 6 && !memcmp(verb, "delete", 6) && kn > 0) {
		struct value **pp = value_find(s, key, kn), *v = *pp;

		if (v) {
			*pp = v->next;
			free(v->key);
			free(v->val);
			free(v);
		}
		return arbor_buf_puts(reply, "ok");
	}
	arbor_buf_printf(reply, "unknown message: %.*s", (int)vn, verb);
	return -1;
}

/* A timer of after(): its call is answered, and forgotten. */
static void handle_info(void *state, const char *msg, size_t len)
{
	struct waiter *s = state;
	unsigned long long id;
	struct wait **wp, *wt;

	(void)len;
	if (sscanf(msg, "waiter %llu", &id) != 1)
		return;
	for (wp = &s->waits; (wt = *wp); wp = &wt->next) {
		if (wt->timer && wt->from.id == id) {
			*wp = wt->next;
			s->nwaits--;
			arbor_reply(wt->from, wt->key, wt->klen);
			free(wt);
			return;
		}
	}
}

static int init(int argc, char **argv, void **state)
{
	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: waiter\n");
		return 64;
	}
	*state = calloc(1, sizeof(struct waiter));
	if (!*state) {
		fprintf(stderr, "waiter: %s\n", strerror(ENOMEM));
		return 1;
	}
	return 0;
}

/* Calls still waiting are answered by arbor once the worker is gone. */
static void terminate(void *state, const char *reason)
{
	struct waiter *s = state;
	struct wait *wt;
	struct value *v;

	(void)reason;
	while ((wt = s->waits)) {
		s->waits = wt->next;
		free(wt);
	}
	while ((v = s->values)) {
		s->values = v->next;
		free(v->key);
		free(v->val);
		free(v);
	}
	free(s);
}

int main(int argc, char **argv)
{
	static const struct arbor_callbacks cb = {
		.init = init,
		.handle_call = handle_call,
		.handle_info = handle_info,
		.terminate = terminate,
	};

	arbor_run(argc, argv, &cb);
}
