/* reload: re-reads the INI and applies only what changed (arborctl reload,
 * SIGHUP). A reload runs when its supervisor is idle; reload_kick() is
 * called whenever it may have become so. See reload.c. */
#ifndef ARBOR_RELOAD_H
#define ARBOR_RELOAD_H

#include "child.h"
#include "pending.h"

struct sup;

void reload_request(struct sup *s, struct pending *p);
void reload_kick(struct sup *s);
void reload_plan_done(struct sup *s);
void reload_start_failed(struct sup *s, struct child *c, const char *why);
void reload_abort(struct sup *s);

#endif
