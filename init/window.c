/* window: a ring of the last restart times, at most intensity + 1 of them.
 * The ring grows as restarts come, so a large intensity costs nothing until
 * it is used. */
#include <stdlib.h>
#include <string.h>

#include "window.h"

int window_init(struct window *w, int intensity, int64_t period_ms)
{
	w->cap = 0;
	w->at = NULL;
	w->head = w->n = 0;
	w->intensity = intensity < 0 ? 0 : intensity;
	w->period_ms = period_ms;
	return 0;
}

void window_free(struct window *w)
{
	free(w->at);
	w->at = NULL;
	w->cap = 0;
}

/* Forgets restarts that fell out of the window ending at now. A restart
 * exactly period_ms ago is out: period = 1 means the last 1000 ms. */
static void window_expire(struct window *w, int64_t now)
{
	while (w->n && now - w->at[w->head] >= w->period_ms) {
		w->head = (w->head + 1) % w->cap;
		w->n--;
	}
}

/* Doubles the ring (up to intensity + 1 slots), keeping the order. */
static int window_grow(struct window *w)
{
	long long want = (long long)w->intensity + 1;
	long long cap = w->cap ? 2LL * w->cap : 8;
	int64_t *at;

	if (cap > want)
		cap = want;
	at = malloc((size_t)cap * sizeof(*at));
	if (!at)
		return -1;
	for (int i = 0; i < w->n; i++)
		at[i] = w->at[(w->head + i) % w->cap];
	free(w->at);
	w->at = at;
	w->cap = (int)cap;
	w->head = 0;
	return 0;
}

bool window_add(struct window *w, int64_t now)
{
	window_expire(w, now);
	if (w->n == w->cap && (w->cap > w->intensity || window_grow(w) < 0)) {
		if (!w->cap)
			return true;	/* no memory: be safe, give up */
		w->head = (w->head + 1) % w->cap;	/* keep the newest */
		w->n--;
	}
	w->at[(w->head + w->n) % w->cap] = now;
	w->n++;
	return w->n > w->intensity;
}

int window_count(struct window *w, int64_t now)
{
	window_expire(w, now);
	return w->n;
}
