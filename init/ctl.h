/* ctl: the control socket, served by the root supervisor in PID 1.
 *
 * A Unix stream socket (mode 0600; peers checked with SO_PEERCRED: root,
 * arbor's own uid, and control_group). Each request is one frame from
 * arborctl; the answer is one REPLY or ERROR frame (see arborctl(8)).
 * Requests go to sup_request(). */
#ifndef ARBOR_CTL_H
#define ARBOR_CTL_H

#include "loop.h"

struct sup;
struct ctl;

/* Opens and serves path (NULL: $ARBOR_SOCKET, else /run/arbor.sock). A
 * stale socket file from a dead arbor is replaced; a live one is not
 * stolen. NULL on failure, after logging why. */
struct ctl *ctl_open(struct sup *s, struct loop *l, const char *path);
/* Closes the socket, drops the clients and unlinks the file. */
void ctl_close(struct ctl *c);
/* The socket path in use. */
const char *ctl_path(const struct ctl *c);

#endif
