/* test_passwd: users and groups read from odd passwd and group files. TAP. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "passwd.h"

static int n, failed;
static char dir[] = "/tmp/test_passwd.XXXXXX";
static char pw_path[64], gr_path[64];

static void ok(int cond, const char *what)
{
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ++n, what);
	failed |= !cond;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f) == EOF) {
		perror(path);
		exit(1);
	}
}

static void files(const char *pw, const char *gr)
{
	write_file(pw_path, pw);
	write_file(gr_path, gr);
}

static int uid_of(const char *name)
{
	struct passwd_user u;
	int uid;

	if (passwd_user_by_name(name, &u) < 0)
		return -1;
	uid = (int)u.uid;
	passwd_user_free(&u);
	return uid;
}

static int gid_of(const char *name)
{
	gid_t g;

	return passwd_group_by_name(name, &g) < 0 ? -1 : (int)g;
}

static void test_plain(void)
{
	struct passwd_user u;
	gid_t *g = NULL;
	size_t ng = 0;

	files("root:x:0:0:root:/root:/bin/sh\n"
	      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
	      "web:x:33:33::/var/www:\n",
	      "root:x:0:\nweb:x:33:\nlogs:x:4:web\nnogroup:x:65534:\n");
	ok(passwd_user_by_name("nobody", &u) == 0 && u.uid == 65534 && u.gid == 65534 &&
	   !strcmp(u.dir, "/nonexistent") && !strcmp(u.name, "nobody"),
	   "a user by name: uid, primary gid, home");
	passwd_user_free(&u);
	ok(passwd_user_by_uid(33, &u) == 0 && !strcmp(u.name, "web") &&
	   !strcmp(u.dir, "/var/www"), "a user by uid, empty gecos and shell");
	passwd_user_free(&u);
	ok(gid_of("logs") == 4 && gid_of("nogroup") == 65534, "groups by name");
	ok(passwd_user_groups("web", 33, &g, &ng) == 0 && ng == 2 && g[0] == 33 && g[1] == 4,
	   "a user's groups: primary first, then the groups listing it");
	free(g);
	ok(passwd_user_groups("root", 0, &g, &ng) == 0 && ng == 1 && g[0] == 0,
	   "a user listed nowhere has its primary group only");
	free(g);
}

static void test_not_there(void)
{
	struct passwd_user u;

	files("root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n");
	errno = 0;
	ok(passwd_user_by_name("ghost", &u) < 0 && errno == ENOENT,
	   "a name not there: ENOENT");
	errno = 0;
	ok(passwd_user_by_uid(4242, &u) < 0 && errno == ENOENT, "a uid not there: ENOENT");
	errno = 0;
	ok(passwd_group_by_name("ghosts", &(gid_t){ 0 }) < 0 && errno == ENOENT,
	   "a group not there: ENOENT");
	ok(uid_of("roo") < 0 && uid_of("root:x") < 0 && uid_of("") < 0,
	   "no prefix, no colon trick, no empty name matches");
}

static void test_missing_files(void)
{
	struct passwd_user u;
	gid_t *g = NULL;
	size_t ng = 0;

	unlink(pw_path);
	unlink(gr_path);
	errno = 0;
	ok(passwd_user_by_name("root", &u) < 0 && errno == ENOENT,
	   "no passwd file: nobody is listed");
	errno = 0;
	ok(passwd_group_by_name("root", &(gid_t){ 0 }) < 0 && errno == ENOENT,
	   "no group file: no group is listed");
	ok(passwd_user_groups("root", 7, &g, &ng) == 0 && ng == 1 && g[0] == 7,
	   "no group file: only the primary group");
	free(g);
}

static void test_odd_lines(void)
{
	files("# a comment:x:1:1::/:/bin/sh\n"
	      "\n"
	      "   \n"
	      "  #indented:x:2:2::/:\n"
	      "+nis:x:3:3::/:\n"
	      "-other:x:4:4::/:\n"
	      "short:x:5:5\n"
	      "long:x:6:6::/:/bin/sh:extra\n"
	      "badid:x:7a:7::/:\n"
	      "neg:x:-8:8::/:\n"
	      "huge:x:99999999999:9::/:\n"
	      "minus1:x:4294967295:9::/:\n"
	      ":x:10:10::/:\n"
	      "crlf:x:11:11::/home/crlf:/bin/sh\r\n"
	      "last:x:12:12::/:/bin/sh",
	      "#wheel:x:10:web\nweird:x:x:web\nstaff:x:50:web\n");
	ok(uid_of("# a comment") < 0 && uid_of("#indented") < 0, "comment lines are skipped");
	ok(uid_of("+nis") < 0 && uid_of("-other") < 0 && uid_of("nis") < 0,
	   "NIS +/- lines are skipped");
	ok(uid_of("short") < 0 && uid_of("long") < 0, "lines with too few or too many fields");
	ok(uid_of("badid") < 0 && uid_of("neg") < 0 && uid_of("huge") < 0 &&
	   uid_of("minus1") < 0, "ids that are not numbers, negative, or too large");
	ok(uid_of("crlf") == 11, "a CRLF line ending");
	ok(uid_of("last") == 12, "a last line with no newline");
	ok(gid_of("#wheel") < 0 && gid_of("weird") < 0 && gid_of("staff") == 50,
	   "group file: comments and bad gids skipped, the rest read");
}

static void test_long_lines(void)
{
	size_t big = 200000;
	char *pw = malloc(big + 256), *gr = malloc(big + 256);
	gid_t *g = NULL;
	size_t ng = 0, len;

	/* a gecos field and a member list far beyond any fixed buffer */
	strcpy(pw, "wide:x:20:20:");
	memset(pw + strlen(pw), 'g', big);
	strcpy(pw + 13 + big, "::/bin/sh\nafter:x:21:21::/:\n");
	len = (size_t)sprintf(gr, "crowd:x:30:");
	while (len < big)
		len += (size_t)sprintf(gr + len, "someone,");
	strcpy(gr + len, "wide\nafter:x:31:wide\n");
	files(pw, gr);
	ok(uid_of("wide") == 20, "a passwd line of 200 kB");
	ok(uid_of("after") == 21, "the line after it is read whole");
	ok(passwd_user_groups("wide", 20, &g, &ng) == 0 && ng == 3 && g[1] == 30 && g[2] == 31,
	   "a member at the end of a 200 kB member list");
	free(g);
	free(pw);
	free(gr);
}

static void test_many_groups(void)
{
	size_t cap = 4096 * 32, len = 0, ng = 0;
	char *gr = malloc(cap);
	gid_t *g = NULL;
	int all = 1;

	for (int i = 0; i < 3000; i++)
		len += (size_t)snprintf(gr + len, cap - len, "g%d:x:%d:a,many%s\n", i,
					1000 + i, i % 2 ? ",b" : "");
	snprintf(gr + len, cap - len, "dup:x:1000:many\nprimary:x:5:many\n");
	files("many:x:500:5::/:\n", gr);
	ok(passwd_user_groups("many", 5, &g, &ng) == 0 && ng == 3001,
	   "a user in 3000 groups gets all of them and its primary, each once");
	for (size_t i = 1; i < ng; i++)
		all &= g[i] == 1000 + i - 1;
	ok(ng > 0 && g[0] == 5 && all, "in file order, after the primary group");
	free(g);
	ok(passwd_user_groups("man", 5, &g, &ng) == 0 && ng == 1,
	   "a member name's prefix is not a member");
	free(g);
	free(gr);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(pw_path, sizeof(pw_path), "%s/passwd", dir);
	snprintf(gr_path, sizeof(gr_path), "%s/group", dir);
	passwd_set_files(pw_path, gr_path);
	test_plain();
	test_not_there();
	test_missing_files();
	test_odd_lines();
	test_long_lines();
	test_many_groups();
	unlink(pw_path);
	unlink(gr_path);
	rmdir(dir);
	printf("1..%d\n", n);
	return failed;
}
