/* test_window: OTP's restart intensity as a sliding window in ms. TAP. */
#include <stdio.h>

#include "window.h"

static int n, failed;

static void ok(int cond, const char *what)
{
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ++n, what);
	failed |= !cond;
}

int main(void)
{
	struct window w;
	int i, gave_up = 0;

	window_init(&w, 0, 5000);
	ok(window_add(&w, 0), "intensity 0: the first restart gives up");
	window_free(&w);

	window_init(&w, 1, 5000);
	ok(!window_add(&w, 0), "intensity 1: one restart is fine");
	ok(window_add(&w, 4999), "intensity 1: a second within 5000 ms gives up");
	window_free(&w);

	window_init(&w, 1, 1000);
	ok(!window_add(&w, 0), "period 1 s: first restart");
	ok(!window_add(&w, 1000), "a restart exactly period ms ago is out of the window");
	ok(window_add(&w, 1999), "one 999 ms ago is in it");
	window_free(&w);

	window_init(&w, 2, 1000);
	ok(!window_add(&w, 0) && !window_add(&w, 600), "intensity 2: two restarts");
	ok(!window_add(&w, 1200), "the window slides: the one at 0 has left it");
	ok(window_count(&w, 1200) == 2, "two restarts counted at 1200 ms");
	ok(window_add(&w, 1500), "three within 1000 ms give up");
	ok(window_count(&w, 5000) == 0, "all forgotten after the period");
	window_free(&w);

	window_init(&w, 100000, 60000);
	for (i = 0; i < 100000; i++)
		gave_up |= window_add(&w, i / 10);
	ok(!gave_up, "a large intensity: 100000 restarts are allowed");
	ok(window_add(&w, 10000), "and the next one gives up");
	window_free(&w);

	window_init(&w, 2147483647, 1000);
	ok(!window_add(&w, 0), "intensity INT_MAX does not overflow");
	window_free(&w);

	printf("1..%d\n", n);
	return failed;
}
