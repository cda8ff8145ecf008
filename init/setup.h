/* setup: a worker's process set-up, applied in the forked child before exec.
 *
 * Identity (user, group, supplementary groups), capabilities (libcap-ng),
 * no_new_privs, rlimits, nice, oom_score_adj, umask, cwd and the environment,
 * as read into struct conf_setup. Runs after fork, so it only reports: on
 * failure it writes "KEY: reason" into why, leaves errno as the failing call
 * set it and returns -1; the caller sends that to the parent and _exits.
 * The child calls them in this order: setup_env, setup_output, setup_apply. */
#ifndef ARBOR_SETUP_H
#define ARBOR_SETUP_H

#include <stddef.h>
#include "conf.h"

/* Builds the worker's environment, later sources replacing earlier ones:
 * arbor's own (unless clear_env), HOME/USER/LOGNAME when user is set, the
 * env_file (read now, so an edit applies at the next start), the env = lines.
 * *envp is a malloc'd NULL-terminated array owning its strings. */
int setup_env(const struct conf_setup *s, char ***envp, char *why, size_t len);
/* Sets or replaces one "KEY=VALUE" in an *envp made by setup_env. */
int setup_env_put(char ***envp, const char *kv);
/* Adds the KEY=VALUE lines of an environment file (systemd's EnvironmentFile
 * syntax: blank lines and # or ; comments skipped, "export " and one pair of
 * surrounding quotes stripped) to *envp. A line that is not KEY=VALUE is an
 * error "env_file: PATH:LINE: ...". With envp NULL it only checks the file. */
int setup_env_file(const char *path, char ***envp, char *why, size_t len);
/* Frees what setup_env made (the child execs instead; tests free). */
void setup_env_free(char **env);
/* Applies everything but the environment and the output, in the order that
 * works: rlimits, nice, oom_score_adj, umask (while still privileged), then
 * groups/gid/uid keeping exactly the listed capabilities (bounding set
 * reduced, ambient raised), then cwd (as the worker's user), and
 * no_new_privs last. */
int setup_apply(const struct conf_setup *s, char *why, size_t len);
/* Opens /dev/null onto fd 1 or 2 for `null`; inherit, prefix and file:PATH
 * are left to the caller (prefix and file: are relay pipes, relay.h). */
int setup_output(const struct conf_setup *s, char *why, size_t len);

#endif
