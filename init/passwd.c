/* passwd: /etc/passwd and /etc/group read line by line, as passwd(5) and
 * group(5) describe them, so that a static arbor needs no NSS module. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"

#define PW_FIELDS 7	/* name:password:uid:gid:gecos:dir:shell */
#define GR_FIELDS 4	/* name:password:gid:member,member,... */

static const char *passwd_path = "/etc/passwd";
static const char *group_path = "/etc/group";

void passwd_set_files(const char *passwd, const char *group)
{
	passwd_path = passwd ? passwd : "/etc/passwd";
	group_path = group ? group : "/etc/group";
}

/* Splits line in place at ':' into exactly n fields; false when it has
 * another number of them. */
static bool split(char *line, char **f, int n)
{
	line[strcspn(line, "\r\n")] = '\0';
	for (int i = 0; i < n; i++) {
		char *colon = strchr(line, ':');

		f[i] = line;
		if (i == n - 1)
			return !colon;
		if (!colon)
			return false;
		*colon = '\0';
		line = colon + 1;
	}
	return false;
}

/* A decimal id; (uid_t)-1 is no id, as setresuid(2) reads it. */
static bool parse_id(const char *s, uint32_t *id)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX)
			return false;
	}
	*id = (uint32_t)v;
	return true;
}

/* Calls take on each well-formed entry of path (nf fields, a name, an id
 * in field 2) until it returns true. 1 when one was taken, 0 when none
 * was or the file does not exist, -1 with errno when reading failed. */
static int scan(const char *path, int nf, bool (*take)(char **f, uint32_t id, void *arg),
		void *arg)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL, *f[PW_FIELDS];
	size_t cap = 0;
	uint32_t id;
	int rc = 0;

	if (!fp)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	errno = 0;
	while (getline(&line, &cap, fp) >= 0) {
		char *p = line + strspn(line, " \t");

		if (*p == '#' || *p == '+' || *p == '-' || !split(p, f, nf) || !*f[0] ||
		    !parse_id(f[2], &id))
			continue;
		if (take(f, id, arg)) {
			rc = 1;
			break;
		}
	}
	if (rc == 0 && ferror(fp)) {
		rc = -1;
		if (!errno)
			errno = EIO;
	} else if (rc == 0 && errno == ENOMEM) {
		rc = -1;	/* getline could not grow its buffer */
	}
	free(line);
	fclose(fp);
	return rc;
}

/* ---- users ---- */

struct user_query {
	const char *name;	/* NULL: by uid */
	uid_t uid;
	struct passwd_user *u;
	bool nomem;
};

static bool take_user(char **f, uint32_t uid, void *arg)
{
	struct user_query *q = arg;
	uint32_t gid;

	if (q->name ? strcmp(f[0], q->name) != 0 : uid != q->uid)
		return false;
	if (!parse_id(f[3], &gid))
		return false;
	q->u->uid = uid;
	q->u->gid = gid;
	q->u->name = strdup(f[0]);
	q->u->dir = strdup(f[5]);
	q->nomem = !q->u->name || !q->u->dir;
	return true;
}

static int find_user(struct user_query *q)
{
	int rc;

	memset(q->u, 0, sizeof(*q->u));
	rc = scan(passwd_path, PW_FIELDS, take_user, q);
	if (rc == 1 && q->nomem) {
		passwd_user_free(q->u);
		errno = ENOMEM;
		return -1;
	}
	if (rc == 0)
		errno = ENOENT;
	return rc == 1 ? 0 : -1;
}

int passwd_user_by_name(const char *name, struct passwd_user *u)
{
	struct user_query q = { .name = name, .u = u };

	return find_user(&q);
}

int passwd_user_by_uid(uid_t uid, struct passwd_user *u)
{
	struct user_query q = { .uid = uid, .u = u };

	return find_user(&q);
}

void passwd_user_free(struct passwd_user *u)
{
	free(u->name);
	free(u->dir);
	u->name = u->dir = NULL;
}

/* ---- groups ---- */

struct group_query {
	const char *name;
	gid_t gid;
};

static bool take_group(char **f, uint32_t gid, void *arg)
{
	struct group_query *q = arg;

	if (strcmp(f[0], q->name) != 0)
		return false;
	q->gid = gid;
	return true;
}

int passwd_group_by_name(const char *name, gid_t *gid)
{
	struct group_query q = { .name = name };
	int rc = scan(group_path, GR_FIELDS, take_group, &q);

	if (rc == 0)
		errno = ENOENT;
	if (rc != 1)
		return -1;
	*gid = q.gid;
	return 0;
}

struct groups_query {
	const char *user;
	gid_t *g;
	size_t n, cap;
	bool nomem;
};

static bool member(const char *members, const char *user)
{
	size_t len = strlen(user);

	for (const char *m = members; *m; m += strcspn(m, ",")) {
		m += *m == ',';
		if (!strncmp(m, user, len) && (m[len] == ',' || m[len] == '\0'))
			return true;
	}
	return false;
}

static bool add_gid(struct groups_query *q, gid_t gid)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->g[i] == gid)
			return true;
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		gid_t *g = realloc(q->g, cap * sizeof(*g));

		if (!g)
			return false;
		q->g = g;
		q->cap = cap;
	}
	q->g[q->n++] = gid;
	return true;
}

/* Never takes an entry (every group is read), unless memory runs out. */
static bool take_member(char **f, uint32_t gid, void *arg)
{
	struct groups_query *q = arg;

	if (!member(f[3], q->user))
		return false;
	q->nomem = !add_gid(q, gid);
	return q->nomem;
}

int passwd_user_groups(const char *user, gid_t primary, gid_t **groups, size_t *n)
{
	struct groups_query q = { .user = user };
	int rc;

	if (!add_gid(&q, primary)) {
		errno = ENOMEM;
		return -1;
	}
	rc = scan(group_path, GR_FIELDS, take_member, &q);
	if (rc != 0) {
		free(q.g);
		if (q.nomem)
			errno = ENOMEM;
		return -1;
	}
	*groups = q.g;
	*n = q.n;
	return 0;
}
