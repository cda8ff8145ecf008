/* ctl_path: the default control socket, by uid (see ctl_path.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl_path.h"

static void per_uid(char *buf, uid_t uid)
{
	snprintf(buf, CTL_PATH_LEN, "/tmp/arbor-%u/arbor.sock", (unsigned)uid);
}

const char *ctl_path_choose(const char *named, uid_t uid, char *buf)
{
	const char *env = getenv("ARBOR_SOCKET");

	if (named && *named)
		return named;
	if (env && *env)
		return env;
	if (uid == 0)
		return CTL_ROOT_PATH;
	per_uid(buf, uid);
	return buf;
}

static bool is_per_uid(const char *path, uid_t uid)
{
	char buf[CTL_PATH_LEN];

	if (uid == 0)
		return false;
	per_uid(buf, uid);
	return !strcmp(path, buf);
}

/* The directory must be uid's alone: anyone else able to write there could
 * put their own socket in arbor's place. */
int ctl_path_make_dir(const char *path, uid_t uid, char *why, size_t len)
{
	char dir[CTL_PATH_LEN];
	struct stat st;
	char *slash;

	if (uid == 0 && !strcmp(path, CTL_ROOT_PATH)) {
		if (mkdir("/run", 0755) == 0 || errno == EEXIST)
			return 0;
		snprintf(why, len, "mkdir /run: %s", strerror(errno));
		return -1;
	}
	if (!is_per_uid(path, uid))
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (mkdir(dir, 0700) == 0) {
		if (chmod(dir, 0700) == 0)	/* whatever the umask took away */
			return 0;
		snprintf(why, len, "chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	if (errno != EEXIST) {
		snprintf(why, len, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st) < 0) {
		snprintf(why, len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077)) {
		snprintf(why, len, "%s is not a directory of uid %u's alone (mode 0700): refusing it",
			 dir, (unsigned)uid);
		errno = EPERM;
		return -1;
	}
	return 0;
}
