/* ctl_path: where the control socket is when nothing names it.
 *
 * control_socket in [arbor] (or arborctl -S), else $ARBOR_SOCKET, else
 * /run/arbor.sock for root and /tmp/arbor-UID/arbor.sock for any other
 * uid, so that a container run as --user finds a place it may write.
 * arbor and arborctl follow the same rule, each from its own uid. */
#ifndef ARBOR_CTL_PATH_H
#define ARBOR_CTL_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The socket for root. */
#define CTL_ROOT_PATH "/run/arbor.sock"
/* Room for any path a sockaddr_un holds. */
#define CTL_PATH_LEN 108

/* The path chosen by the rule above; named is control_socket or -S (NULL:
 * not given). Returns named, the environment's string, or buf (of
 * CTL_PATH_LEN bytes) holding the default for uid. */
const char *ctl_path_choose(const char *named, uid_t uid, char *buf);
/* Makes the directory of a default path when it is missing: /run (mode
 * 0755; a FROM scratch image has none) for root's, /tmp/arbor-UID (mode
 * 0700) for another uid's. The latter, when it exists, must be a
 * directory (not a symlink) of uid's with no access for group or others,
 * else -1 with errno (EPERM). -1 with a reason in why when it fails; a
 * path that is no default is left alone. */
int ctl_path_make_dir(const char *path, uid_t uid, char *why, size_t len);

#endif
