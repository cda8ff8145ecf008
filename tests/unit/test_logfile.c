/* Unit tests of init/logfile.c: how a file: output is opened, appended
 * to, rotated at line boundaries and reopened. TAP output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logfile.h"

#include "tap.h"

static char tmpdir[] = "/tmp/test_logfile.XXXXXX";

static char *at(const char *name)
{
	static char b[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(b[i], sizeof(b[i]), "%s/%s", tmpdir, name);
	return b[i];
}

/* The file's text (at most 4 KiB), "" when it does not exist. */
static const char *text(const char *name)
{
	static char b[4096];
	int fd = open(at(name), O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, b, sizeof(b) - 1);

	b[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return b;
}

static bool exists(const char *name)
{
	return access(at(name), F_OK) == 0;
}

static void test_open(void)
{
	struct logfile *f, *g;
	struct stat st;
	mode_t old = umask(077);

	f = logfile_open(at("a.log"), 0, 5);
	umask(old);
	ok(f && stat(at("a.log"), &st) == 0 && (st.st_mode & 07777) == 0640,
	   "created 0640 under umask 077");
	g = logfile_open(at("a.log"), 0, 5);
	ok(g == f, "the same PATH is one open file");
	logfile_write(f, "one\n", 4, false);
	logfile_write(g, "two\n", 4, false);
	logfile_put(g);
	logfile_put(f);
	f = logfile_open(at("a.log"), 0, 5);
	logfile_write(f, "three\n", 6, false);
	logfile_put(f);
	ok(!strcmp(text("a.log"), "one\ntwo\nthree\n"), "appended, in order");
	chmod(at("a.log"), 0600);
	f = logfile_open(at("a.log"), 0, 5);
	logfile_put(f);
	ok(stat(at("a.log"), &st) == 0 && (st.st_mode & 07777) == 0600,
	   "an existing file keeps its mode");
	errno = 0;
	ok(!logfile_open("/nonexistent/x.log", 0, 5) && errno == ENOENT,
	   "a missing directory: NULL, ENOENT");
}

static void test_rotate(void)
{
	struct logfile *f = logfile_open(at("r.log"), 10, 2);

	/* 10 bytes: "aaaa\nbbbb\n" fits, "cccc\n" goes to a new file */
	logfile_write(f, "aaaa\nbbbb\ncccc\n", 15, false);
	ok(!strcmp(text("r.log.1"), "aaaa\nbbbb\n") && !strcmp(text("r.log"), "cccc\n"),
	   "rotated at the line that does not fit");
	logfile_write(f, "a line much longer than ten\n", 28, false);
	ok(!strcmp(text("r.log"), "a line much longer than ten\n") &&
	   !strcmp(text("r.log.1"), "cccc\n") && !strcmp(text("r.log.2"), "aaaa\nbbbb\n"),
	   "a line longer than the size goes whole into a file of its own");
	logfile_write(f, "dd\n", 3, false);
	ok(!strcmp(text("r.log"), "dd\n") && !strcmp(text("r.log.2"), "cccc\n") &&
	   !exists("r.log.3"), "the oldest is dropped: log_backups files kept");
	logfile_write(f, "eeee", 4, false);
	logfile_write(f, "eeeeeeee\n", 9, true);
	ok(!strcmp(text("r.log"), "dd\neeeeeeeeeeee\n"),
	   "the rest of a line stays with its beginning");
	logfile_put(f);

	f = logfile_open(at("z.log"), 4, 0);
	logfile_write(f, "xyz\nuvw\n", 8, false);
	logfile_put(f);
	ok(!strcmp(text("z.log"), "uvw\n") && !exists("z.log.1"),
	   "log_backups = 0: the file starts again, no backup");
}

static void test_reopen(void)
{
	struct logfile *f = logfile_open(at("o.log"), 0, 5);
	int failed = 0;
	char why[256] = "";

	logfile_write(f, "before\n", 7, false);
	rename(at("o.log"), at("o.log.old"));
	ok(logfile_reopen_all(&failed, why, sizeof(why)) == 1 && failed == 0,
	   "one file reopened");
	logfile_write(f, "after\n", 6, false);
	ok(!strcmp(text("o.log"), "after\n") && !strcmp(text("o.log.old"), "before\n"),
	   "after a rename and a reopen, lines go to a new file");
	logfile_put(f);
}

int main(void)
{
	char cmd[PATH_MAX + 16];

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_rotate();
	test_reopen();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
