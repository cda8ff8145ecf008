/* registry: what a supervisor process knows at run time of each node of
 * the tree, keyed by path.
 *
 * The configuration says what the tree should be and is never changed after
 * it is read; the registry says what each node is doing now: its pid, its
 * state, its restarts, since when it runs. A supervisor writes its direct
 * children's entries from their state machines and deeper ones from the
 * EVENT frames its nested supervisors send up, so the root's registry
 * answers `arborctl status` for the whole tree. */
#ifndef ARBOR_REGISTRY_H
#define ARBOR_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"

struct reg_node {
	pid_t pid;
	enum child_state state;
	int restarts;
	int64_t since;		/* CLOCK_REALTIME ms when it became running */
	bool giving_up;		/* a supervisor stopping after its intensity */
};

struct registry;

struct registry *registry_new(void);
void registry_free(struct registry *r);
/* The entry of path, made (stopped, no restarts) if there is none; NULL
 * on ENOMEM. */
struct reg_node *registry_get(struct registry *r, const char *path);
/* The entry of path, or NULL. */
struct reg_node *registry_find(const struct registry *r, const char *path);
/* Forgets path (a node a reload removed). */
void registry_drop(struct registry *r, const char *path);

#endif
