/* passwd: users and groups read from /etc/passwd and /etc/group directly.
 *
 * arbor is linked statically and never goes through NSS: a container's
 * users are the ones its own files list. Lines are split at ':' as
 * passwd(5) and group(5) say; blank lines, '#' comments, NIS '+'/'-' lines
 * and malformed lines are skipped; a line may be of any length. A missing
 * file lists nobody. Lookups return 0 when found, else -1 with errno
 * ENOENT (not listed) or what failed (ENOMEM, EIO...). */
#ifndef ARBOR_PASSWD_H
#define ARBOR_PASSWD_H

#include <stddef.h>
#include <sys/types.h>

struct passwd_user {
	char *name;
	char *dir;
	uid_t uid;
	gid_t gid;		/* the primary group */
};

/* The user called name, or the first one whose uid is uid. *u is filled
 * with malloc'd strings; passwd_user_free releases them. */
int passwd_user_by_name(const char *name, struct passwd_user *u);
int passwd_user_by_uid(uid_t uid, struct passwd_user *u);
void passwd_user_free(struct passwd_user *u);
/* The gid of the group called name. */
int passwd_group_by_name(const char *name, gid_t *gid);
/* The groups of user as login(1) gives them, as getgrouplist(3) does:
 * primary first, then every group that lists user as a member, each gid
 * once. *groups is malloc'd (the caller frees it), *n its length. */
int passwd_user_groups(const char *user, gid_t primary, gid_t **groups, size_t *n);
/* Reads other files than /etc/passwd and /etc/group (NULL: those): for
 * the unit tests only. */
void passwd_set_files(const char *passwd, const char *group);

#endif
