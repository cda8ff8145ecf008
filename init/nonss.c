/* nonss: getpwuid and initgroups for a static arbor, without NSS.
 *
 * libcap-ng's capng_change_id refers to both (it calls them only with
 * CAPNG_INIT_SUPP_GRP, which arbor never passes). Linked statically,
 * glibc's versions would need its NSS modules at run time, which no
 * scratch image has. These read the image's files through passwd instead;
 * the Makefile links this file into the static binaries only. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

#include "passwd.h"

struct passwd *getpwuid(uid_t uid)
{
	static struct passwd_user u;
	static struct passwd pw;
	static char empty[] = "";
	int e = errno;

	passwd_user_free(&u);
	if (passwd_user_by_uid(uid, &u) < 0) {
		if (errno == ENOENT)
			errno = e;	/* not found leaves errno alone */
		return NULL;
	}
	pw = (struct passwd){ .pw_name = u.name, .pw_passwd = empty, .pw_uid = u.uid,
			      .pw_gid = u.gid, .pw_gecos = empty, .pw_dir = u.dir,
			      .pw_shell = empty };
	return &pw;
}

int initgroups(const char *user, gid_t group)
{
	gid_t *g;
	size_t n;
	int rc, e;

	if (passwd_user_groups(user, group, &g, &n) < 0)
		return -1;
	rc = setgroups(n, g);
	e = errno;
	free(g);
	errno = e;
	return rc;
}
