/* logfile: `file:PATH` outputs, appended to by arbor, rotated at line
 * boundaries, reopened on request, never waited for.
 *
 * The size is counted from the file's size at open plus what arbor wrote,
 * so a rotation costs no fstat per write. A failed write drops the lines
 * it held; a piece of a line that made it to the disk before the failure
 * is cut off again (ftruncate), so that a file holds whole lines only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log.h"
#include "logfile.h"

struct logfile {
	char *path;
	int fd;			/* -1: to be opened again at the next write */
	int refs;
	bool regular;		/* only a regular file is rotated */
	size_t size;		/* bytes in the file as far as arbor knows */
	size_t max;		/* 0: never rotated */
	int backups;
	unsigned long dropped;	/* lines lost in the current episode */
	int drop_errno;
	int rotate_errno;	/* the last rotation failed (logged once) */
	struct logfile *next;
};

static struct logfile *files;	/* one list per process */

/* Appends to PATH, creating it 0640 whatever the umask: O_EXCL tells
 * whether this open made the file, and only then is its mode set. */
static int open_log(const char *path)
{
	for (int tries = 0; tries < 8; tries++) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC |
			      O_NONBLOCK, 0640);

		if (fd >= 0) {
			if (fchmod(fd, 0640) < 0) {
				close(fd);
				return -1;
			}
			return fd;
		}
		if (errno != EEXIST)
			return -1;
		fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NONBLOCK);
		if (fd >= 0 || errno != ENOENT)
			return fd;
	}
	return -1;
}

/* A regular file on a filesystem with no block left for arbor (root may
 * use the reserved ones). */
static bool disk_full(int fd)
{
	struct statvfs v;
	struct stat st;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fstatvfs(fd, &v) < 0 ||
	    v.f_blocks == 0)
		return false;
	return (geteuid() == 0 ? v.f_bfree : v.f_bavail) == 0;
}

static int file_open(struct logfile *f)
{
	struct stat st;

	if (f->fd >= 0)
		close(f->fd);
	f->fd = open_log(f->path);
	if (f->fd < 0)
		return -1;
	f->regular = fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode);
	f->size = f->regular ? (size_t)st.st_size : 0;
	return 0;
}

static size_t count_lines(const char *p, size_t n)
{
	size_t lines = 0;
	const char *q;

	while (n && (q = memchr(p, '\n', n))) {
		lines++;
		n -= (size_t)(q - p) + 1;
		p = q + 1;
	}
	return lines;
}

/* The end of an episode of drops (or the file's close during one). */
static void report_drops(struct logfile *f)
{
	if (!f->dropped)
		return;
	log_msg("log %s: %lu lines dropped: %s", f->path, f->dropped, strerror(f->drop_errno));
	f->dropped = 0;
}

/* p[0..n) could not all be written: done bytes of it were. A part of a
 * line among those is cut off the file again; the lines not written are
 * counted as dropped. */
static void drop(struct logfile *f, const char *p, size_t n, size_t done, int e)
{
	const char *last = done ? memrchr(p, '\n', done) : NULL;
	size_t whole = last ? (size_t)(last - p) + 1 : 0;
	struct stat st;

	if (done > whole && f->fd >= 0 && f->regular && fstat(f->fd, &st) == 0 &&
	    (size_t)st.st_size >= done - whole &&
	    ftruncate(f->fd, st.st_size - (off_t)(done - whole)) == 0)
		f->size -= done - whole;
	f->dropped += count_lines(p + whole, n - whole);
	f->drop_errno = e;
}

/* Writes p[0..n) whole, or drops it. */
static void put(struct logfile *f, const char *p, size_t n)
{
	size_t done = 0;

	if (f->fd < 0 && file_open(f) < 0) {
		drop(f, p, n, 0, errno);
		return;
	}
	while (done < n) {
		ssize_t w = write(f->fd, p + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			drop(f, p, n, done, w < 0 ? errno : EIO);
			return;
		}
		done += (size_t)w;
		f->size += (size_t)w;
	}
	report_drops(f);
}

/* PATH.N-1 -> PATH.N ... PATH -> PATH.1 (with no backups PATH goes), and
 * PATH opened anew. A failure is logged once until a rotation works. */
static int rotate(struct logfile *f)
{
	char from[PATH_MAX], to[PATH_MAX];
	int rc = 0;

	if (f->backups == 0 && unlink(f->path) < 0 && errno != ENOENT)
		rc = -1;
	for (int i = f->backups - 1; rc == 0 && i >= 0; i--) {
		if (i)
			snprintf(from, sizeof(from), "%s.%d", f->path, i);
		else
			snprintf(from, sizeof(from), "%s", f->path);
		snprintf(to, sizeof(to), "%s.%d", f->path, i + 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			rc = -1;
	}
	if (rc == 0 && file_open(f) == 0) {
		f->rotate_errno = 0;
		return 0;
	}
	if (f->rotate_errno != errno)
		log_msg("log %s: cannot rotate: %s", f->path, strerror(errno));
	f->rotate_errno = errno;
	return -1;
}

static size_t line_len(const char *p, size_t n)
{
	const char *q = memchr(p, '\n', n);

	return q ? (size_t)(q - p) + 1 : n;
}

/* How much of p[0..n) goes into the file as it is: all of it when it
 * fits, else its whole lines that fit; when none does, the file is
 * rotated first (a line longer than max goes whole into a file of its
 * own). After a failed rotation the whole chunk goes where it can. */
static size_t chunk_len(struct logfile *f, const char *p, size_t n)
{
	size_t room = f->size < f->max ? f->max - f->size : 0;
	const char *q;

	if (!f->max || !f->regular || n <= room)
		return n;
	q = room ? memrchr(p, '\n', room) : NULL;
	if (q)
		return (size_t)(q - p) + 1;
	if (f->size == 0)
		return line_len(p, n);
	if (rotate(f) < 0)
		return n;
	if (n <= f->max)
		return n;
	q = memrchr(p, '\n', f->max);
	return q ? (size_t)(q - p) + 1 : line_len(p, n);
}

void logfile_write(struct logfile *f, const char *p, size_t n, bool cont)
{
	while (n > 0) {
		size_t len = cont ? line_len(p, n) : chunk_len(f, p, n);

		put(f, p, len);
		p += len;
		n -= len;
		cont = false;
	}
}

struct logfile *logfile_open(const char *path, size_t max, int backups)
{
	struct logfile *f;

	for (f = files; f && strcmp(f->path, path); f = f->next)
		;
	if (f && f->fd < 0 && file_open(f) < 0)
		return NULL;
	if (!f) {
		f = calloc(1, sizeof(*f));
		if (!f)
			return NULL;
		f->fd = -1;
		f->path = strdup(path);
		if (!f->path || file_open(f) < 0) {
			int e = errno;

			free(f->path);
			free(f);
			errno = e;
			return NULL;
		}
		f->next = files;
		files = f;
	}
	f->refs++;
	f->max = max;
	f->backups = backups;
	if (disk_full(f->fd)) {
		logfile_put(f);
		errno = ENOSPC;
		return NULL;
	}
	return f;
}

static void unlink_free(struct logfile *f)
{
	struct logfile **at = &files;

	while (*at != f)
		at = &(*at)->next;
	*at = f->next;
	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f);
}

void logfile_put(struct logfile *f)
{
	if (!f || --f->refs > 0)
		return;
	report_drops(f);
	unlink_free(f);
}

int logfile_reopen_all(int *failed, char *why, size_t len)
{
	int n = 0;

	for (struct logfile *f = files; f; f = f->next) {
		if (file_open(f) == 0) {
			n++;
			continue;
		}
		if (!(*failed)++)
			snprintf(why, len, "log %s: %s", f->path, strerror(errno));
	}
	return n;
}

void logfile_forget_all(void)
{
	while (files)
		unlink_free(files);
}
