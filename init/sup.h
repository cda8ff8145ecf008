/* sup: one supervisor, running in its own process with its own loop.
 *
 * The root supervisor runs in arbor (PID 1); each nested supervisor is
 * forked from its parent supervisor and runs the same code on its subtree.
 * Children start in file order, each once the previous is ready, and stop in
 * reverse order. A child that exits is restarted by OTP's rules: its restart
 * type, the supervisor's strategy and its restart intensity. */
#ifndef ARBOR_SUP_H
#define ARBOR_SUP_H

#include <stdbool.h>
#include <sys/types.h>
#include "conf.h"
#include "loop.h"

struct sup;

/* What `arbor -- CMD` adds to the root: CMD as a significant temporary
 * child whose exit ends arbor with its status. */
struct sup_cmd {
	char **argv;		/* NULL: no CMD */
	bool group;		/* -g: signals go to CMD's process group */
	bool clean[256];	/* -e CODE (repeatable): CODE counts as 0 */
	bool foreground;	/* stdin is a terminal: CMD gets it */
	bool warn_reap;		/* -w: log each reaped zombie that is not CMD */
};

/* Runs the root supervisor of c in this process until the tree is stopped,
 * and frees c (or what reload replaced it with). Returns arbor's exit
 * status. */
int sup_run_root(struct conf *c, const char *conf_file, const struct sup_cmd *cmd);

/* Answers a control request (argv[0] is the verb) at the root. done() is
 * called exactly once, maybe later: rc 0 ok, 1 failed, with text. */
typedef void sup_done_fn(void *ctx, int rc, const char *text, size_t len);
void sup_request(struct sup *s, int argc, char **argv, sup_done_fn *done,
		 void *ctx);

#endif
