/* reopen: `arborctl reopen`: every file:PATH output of the tree is closed
 * and opened again (for an external logrotate: after `mv PATH PATH.1`, new
 * lines go to a new PATH). This supervisor reopens its own files, then
 * tells each running nested supervisor to do the same; the request is
 * answered once all have: "reopened N files" (failures make it exit 1 and
 * name the first). See reopen.c. */
#ifndef ARBOR_REOPEN_H
#define ARBOR_REOPEN_H

#include "pending.h"

struct sup;

void reopen_request(struct sup *s, struct pending *p);

#endif
