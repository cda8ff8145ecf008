/* window: a ring of the last intensity+1 restart times. */
#include <stdlib.h>

#include "window.h"

int window_init(struct window *w, int intensity, int64_t period_ms)
{
	w->cap = intensity + 1;
	w->at = calloc((size_t)w->cap, sizeof(*w->at));
	w->head = w->n = 0;
	w->intensity = intensity;
	w->period_ms = period_ms;
	return w->at ? 0 : -1;
}

void window_free(struct window *w)
{
	free(w->at);
	w->at = NULL;
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

bool window_add(struct window *w, int64_t now)
{
	window_expire(w, now);
	if (w->n == w->cap) {	/* keep only the newest cap entries */
		w->head = (w->head + 1) % w->cap;
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
