/* status: renders what a registry knows of the tree, for arborctl status
 * (text or JSON), tree and ping. It changes nothing. */
#ifndef ARBOR_STATUS_H
#define ARBOR_STATUS_H

#include <stddef.h>

#include "child.h"
#include "conf.h"
#include "pending.h"
#include "registry.h"

/* What is rendered: the registry, the tree, and the root's own state (it
 * runs in this process, not as a child). */
struct status_src {
	const struct registry *reg;
	const struct conf *conf;
	enum child_state root_state;
	struct conf_node *cmd;	/* the -- CMD, shown as the root's last child */
	const struct pending_table *calls;	/* the root's calls in flight */
};

enum status_view { STATUS_TEXT, STATUS_JSON, STATUS_TREE };

/* STATUS_JSON reads /proc/PID/stat and statm of each running node (its
 * "cpu_ms" and "rss_kb"), only when asked: nothing polls. */
/* n's subtree, malloc'd (NULL on ENOMEM), its length in *len. */
char *status_render(const struct status_src *s, struct conf_node *n, enum status_view v,
		    size_t *len);
/* ping's verdict on n's subtree into msg: 0 (pong) when the root runs and
 * no node is giving up, waiting to restart, starting again after a crash,
 * failing its health check or being killed by its watchdog; below the
 * root, every node must also be running (a one-shot job done counts). */
int status_ping(const struct status_src *s, struct conf_node *n, char *msg, size_t size);

#endif
