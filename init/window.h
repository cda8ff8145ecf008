/* window: OTP's restart intensity as a sliding window in milliseconds.
 *
 * A supervisor may restart at most `intensity` times within any `period_ms`.
 * window_add() records a restart at time now and says whether the limit is
 * passed, in which case the supervisor gives up. */
#ifndef ARBOR_WINDOW_H
#define ARBOR_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

struct window {
	int64_t *at;		/* ring of restart times, oldest first */
	int cap, head, n;
	int intensity;
	int64_t period_ms;
};

int window_init(struct window *w, int intensity, int64_t period_ms);
void window_free(struct window *w);
/* Records a restart at now; true when more than intensity restarts now fall
 * within the last period_ms (the supervisor must give up). */
bool window_add(struct window *w, int64_t now);
/* Restarts counted within the window ending at now. */
int window_count(struct window *w, int64_t now);

#endif
