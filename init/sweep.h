/* sweep: finds what a dead worker or supervisor left behind, even processes
 * that left its process group or session (setsid), and kills them.
 *
 * Every worker arbor starts carries ARBOR_TREE (this arbor's identity),
 * ARBOR_PATH and ARBOR_INSTANCE (one start of one worker) in its
 * environment, and so does everything it forks. A sweep reads
 * /proc/PID/environ of every process and SIGKILLs those that match:
 * O(processes), so it runs only when a supervisor died. */
#ifndef ARBOR_SWEEP_H
#define ARBOR_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* This arbor's identity, made once by the root ("PID-BOOTMS"). */
void sweep_init_tree(void);
const char *sweep_tree(void);
/* A fresh ARBOR_INSTANCE value for a start, into buf. */
void sweep_new_instance(char *buf, size_t len);
/* Kills every process of this tree whose ARBOR_PATH is path or below it. */
int sweep_path(const char *path);
/* pid's ARBOR_TREE is this arbor's: into inst (len bytes) its
 * ARBOR_INSTANCE ("" if none). False when it is not of this tree. */
bool sweep_of_tree(pid_t pid, char *inst, size_t len);

#endif
