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
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"

struct reg_node {
	pid_t pid;
	enum child_state state;
	int restarts;
	int64_t since;		/* CLOCK_REALTIME ms when it became running;
				 * CS_WAITING: when it restarts; a one-shot job
				 * stopped: when it was done, 0 if it was not */
	bool giving_up;		/* a supervisor stopping after its intensity */
	enum child_health health;	/* its health check: HEALTH_NONE for none */
	int health_failures;	/* in a row */
	bool watchdog;		/* killed for a watchdog miss or its checks */
	uint16_t down;		/* why it last stopped running: FRAME_DOWN_* */
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

/* The nodes of the tree at run time: those of the configuration, and the
 * pool members started at run time (arborctl start POOL/N), which are the
 * registry's: the configuration is never changed after it is read. */
struct conf;
struct conf_node;
/* The node of path, or NULL. */
struct conf_node *registry_node(const struct registry *r, const struct conf *c,
				 const char *path);
/* The same, making the pool member POOL/N when path names one that does not
 * exist yet (or was deleted); NULL when path is no node and no member of a
 * pool. */
struct conf_node *registry_member(struct registry *r, const struct conf *c,
				   const char *path);
/* Forgets the pool member path (arborctl delete): no node until it is
 * started again (registry_member()). 0, or -1 on ENOMEM. */
int registry_delete(struct registry *r, const char *path);
/* n's i-th child: those of the file, then the members started at run time,
 * less the deleted; NULL past the last. */
struct conf_node *registry_kid(const struct registry *r, const struct conf_node *n, size_t i);
bool registry_is_member(const struct registry *r, const struct conf_node *n);
/* After a reload: the members take their keys from their pool in nc; those
 * whose pool is gone are dropped; deleted members of the file are nodes
 * again (the reload starts them). */
void registry_rebind(struct registry *r, const struct conf *nc);

#endif
