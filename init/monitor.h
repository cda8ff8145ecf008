/* monitor: the table of monitors, OTP's erlang:monitor/2 for arbor's nodes.
 *
 * A monitor is a pair (watcher, path): the genserver worker at watcher is
 * told, as an INFO, "DOWN PATH REASON" when the node at path stops running
 * and "UP PATH" when it runs (is ready) again. The table lives in PID 1,
 * whose registry sees every node of the tree change (EVENT frames carry
 * the changes up from nested supervisors), so that a monitor works across
 * any supervisors. The table knows nothing of the tree: route.c tells it
 * what changed and gives it a way to send. */
#ifndef ARBOR_MONITOR_H
#define ARBOR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Delivers msg (text) to the worker at watcher as an INFO. */
typedef void monitor_send_fn(void *ctx, const char *watcher, const char *msg);

struct monitors;

/* An empty table; NULL on ENOMEM. */
struct monitors *monitor_new(monitor_send_fn *send, void *ctx);
void monitor_free(struct monitors *m);

/* watcher monitors path, which runs or not (up): when it does not,
 * "DOWN PATH noproc" is sent at once (again for a pair that exists
 * already: one pair, one monitor). 0, or -1 (ENOMEM). */
int monitor_add(struct monitors *m, const char *watcher, const char *path, bool up);
/* Ends the monitor (watcher, path), if there is one. */
void monitor_remove(struct monitors *m, const char *watcher, const char *path);
/* Ends every monitor of watcher (it stopped running). */
void monitor_drop_watcher(struct monitors *m, const char *watcher);
/* The node path started (up) or stopped running; down is why it stopped
 * (FRAME_DOWN_* of frame.h). Tells its watchers. */
void monitor_changed(struct monitors *m, const char *path, bool up, uint16_t down);
/* After nodes left the tree (a reload): the monitors of a watcher that is
 * no node any more are dropped, and the watchers of a node that is no
 * more are told "DOWN PATH shutdown" if they thought it running. */
void monitor_prune(struct monitors *m, bool (*is_node)(void *ctx, const char *path),
		   void *ctx);

#endif
