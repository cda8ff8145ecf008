/* ctl: the control socket, served by the root supervisor in PID 1.
 *
 * A Unix stream socket (mode 0600; peers checked with SO_PEERCRED: root,
 * arbor's own uid, and control_group). Each request is one frame from
 * arborctl; the answer is one REPLY or ERROR frame (see arborctl(8)).
 * Each request goes to the request callback given to ctl_open(). */
#ifndef ARBOR_CTL_H
#define ARBOR_CTL_H

#include <stddef.h>
#include <sys/types.h>
#include "loop.h"

struct ctl;

/* The answer to a request: rc 0 ok, 1 failed, with text. */
typedef void ctl_done_fn(void *ctx, int rc, const char *text, size_t len);
/* A request (argv[0] the verb): done(ctx) is called exactly once, maybe
 * later. */
typedef void ctl_request_fn(void *data, int argc, char **argv, ctl_done_fn *done, void *ctx);

/* The largest request payload: a max_message and its path and verb. */
#define CTL_MAX_REQUEST (1024 * 1024 + 4096)

/* Opens and serves path (NULL: $ARBOR_SOCKET, else the default for arbor's
 * uid, see ctl_path.h). A stale socket file from a dead arbor is replaced;
 * a live one is not stolen. NULL on failure, after logging why. */
struct ctl *ctl_open(struct loop *l, const char *path, ctl_request_fn *fn, void *data);
/* Admits the members of group gid (control_group) besides root and arbor's
 * own uid: the file becomes mode 0660, owned by that group. (gid_t)-1
 * admits no group again (mode 0600). 0, or -1 after logging why. */
int ctl_allow_gid(struct ctl *c, gid_t gid);
/* Hands one event to the clients that follow events (the request
 * `events PATH text|json`, once answered with success, makes its client a
 * follower of PATH's subtree): each gets it as an INFO frame holding the
 * log line. A follower that reads too slowly never blocks arbor: its queue
 * is bounded, and what does not fit is dropped and counted, and a
 * "dropped" event says how many once there is room again. A log_hook_fn
 * (log.h); c may be NULL. */
struct log_event;
void ctl_event(void *c, const struct log_event *e);
/* Closes the socket, drops the clients and unlinks the file. Followers of
 * events get a last REPLY frame, "shut down", first. Requests in
 * flight are answered to nobody. Not from inside a ctl_done_fn. */
void ctl_close(struct ctl *c);

#endif
