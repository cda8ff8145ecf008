/* route: what the frames on a supervisor's links mean, and where calls,
 * casts, infos, requests and events go along the tree.
 *
 * A call for PATH goes down to the child whose subtree holds PATH, or up
 * to the parent when PATH is not below this supervisor; at the worker it
 * becomes a CALL with a fresh id, and the REPLY or ERROR comes back the
 * same way (pending.c remembers the way). An admin request (start, stop,
 * restart, kill) for a child of a nested supervisor travels down as a CTL
 * frame; events about nodes travel up as EVENT frames, typed (frame.h). */
#ifndef ARBOR_ROUTE_H
#define ARBOR_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "pending.h"
#include "registry.h"

struct sup;
struct child;

/* The callbacks of every link a supervisor has. */
void route_frame(struct link *ln, const struct frame *f);
void route_close(struct link *ln, const char *why);

/* Routes a call, cast or info to path; p says where the answer goes. */
void route_call(struct sup *s, uint8_t type, const char *path, const char *msg, size_t len,
		int64_t timeout, struct pending *p);
/* Routes start|stop|restart|kill PATH [SIGNAL] to PATH's supervisor. */
void route_ctl(struct sup *s, int argc, char **argv, struct pending *p);
/* A control request (argv[0] the verb, from arborctl): done(ctx) is
 * called exactly once, maybe later. */
void route_client(struct sup *s, int argc, char **argv, pending_done_fn *done, void *ctx);
/* The direct child of s whose subtree holds path; *exact when it is path. */
struct child *route_kid(struct sup *s, const char *path, bool *exact);

/* The hooks a supervisor runs with: these callbacks and reload.c's. */
extern const struct sup_hooks route_hooks;

#endif
