/* ctl: the control socket, served by the root supervisor in PID 1.
 *
 * A Unix stream socket (mode 0600; peers checked with SO_PEERCRED: root,
 * arbor's own uid, and control_group). Each request is one frame from
 * arborctl; the answer is one REPLY or ERROR frame (see arborctl(8)).
 * Requests go to sup_request(). */
#ifndef ARBOR_CTL_H
#define ARBOR_CTL_H

#include <sys/types.h>
#include "loop.h"

struct sup;
struct ctl;

/* The largest request payload: a max_message and its path and verb. */
#define CTL_MAX_REQUEST (1024 * 1024 + 4096)

/* Opens and serves path (NULL: $ARBOR_SOCKET, else the default for arbor's
 * uid, see ctl_path.h). A stale socket file from a dead arbor is replaced;
 * a live one is not stolen. NULL on failure, after logging why. */
struct ctl *ctl_open(struct sup *s, struct loop *l, const char *path);
/* Admits the members of group gid (control_group) besides root and arbor's
 * own uid: the file becomes mode 0660, owned by that group. (gid_t)-1
 * admits no group again (mode 0600). 0, or -1 after logging why. */
int ctl_allow_gid(struct ctl *c, gid_t gid);
/* Closes the socket, drops the clients and unlinks the file. Requests in
 * flight are answered to nobody. Not from inside a sup_done_fn. */
void ctl_close(struct ctl *c);
/* The socket path in use. */
const char *ctl_path(const struct ctl *c);

#endif
