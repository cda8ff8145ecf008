/* relay: a worker's output, line by line, with "[path] " in front.
 *
 * One read of at most RELAY_LINE bytes per event, then back to the loop, so a
 * flooding worker gets its turn like everyone else and never more memory.
 * Each line (prefix, text, newline) leaves in one writev, and short lines are
 * batched only up to PIPE_BUF, so a line never interleaves with what other
 * writers put on the same pipe.
 *
 * With log_format = json each line (or piece) is one JSON object instead:
 * {"path":"web/app","stream":"stdout","line":"..."}, its text escaped by
 * log_json_escape into one buffer that all the relays of the process share
 * (they run one at a time), grown to the largest line's worst case. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "logfile.h"
#include "relay.h"

#define RELAY_IOV 64		/* iovecs in one batched writev */

struct relay {
	struct loop *loop;
	int fd;			/* read end, non-blocking */
	int dst;
	struct relay *prev, *next;	/* every live relay, for relay_*_all */
	char *prefix;		/* "[path] ", or {"path":...,"line":" in JSON */
	size_t plen;
	bool json;		/* log_format = json when it was made */
	struct logfile *file;	/* file:PATH: the lines go there, as they are */
	bool mid;		/* file: the last piece written ended mid-line */
	size_t len;		/* bytes waiting in buf */
	char buf[RELAY_LINE + 1];	/* + 1: a full-length line's newline */
};

static struct relay *live;	/* one list per process, as the relays are */
static char *jbuf;		/* JSON lines being written, see above */
static size_t jcap;

/* Writes the whole iovec, resuming after a short write. When the reader of
 * dst cannot keep up and dst is non-blocking, the rest is dropped: arbor does
 * not wait for its own stdout. */
static void write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t w = writev(fd, iov, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

/* Batches [prefix, line] pairs while they fit in PIPE_BUF together. */
struct batch {
	struct iovec iov[RELAY_IOV];
	int n;
	size_t bytes;
	size_t jlen;		/* JSON: bytes of jbuf in use by iov */
};

static void batch_flush(struct relay *r, struct batch *b)
{
	write_all(log_out_fd(r->dst), b->iov, b->n);
	b->n = 0;
	b->bytes = 0;
}

/* Queues one line as a JSON object, written into jbuf after the lines
 * already queued (flushed first when the batch would pass PIPE_BUF). */
static void batch_add_json(struct relay *r, struct batch *b, const char *s, size_t n)
{
	size_t start, at;

	if (n && s[n - 1] == '\n')
		n--;
	if (b->n == 0)
		b->jlen = 0;
	start = at = b->jlen;
	memcpy(jbuf + at, r->prefix, r->plen);
	at = log_json_escape(jbuf, at + r->plen, jcap - 3, s, n);
	memcpy(jbuf + at, "\"}\n", 3);
	at += 3;
	if (b->n && b->bytes + (at - start) > PIPE_BUF)
		batch_flush(r, b);	/* jbuf before start stays until then */
	b->iov[b->n++] = (struct iovec){ jbuf + start, at - start };
	b->bytes += at - start;
	b->jlen = at;
	if (b->bytes > PIPE_BUF || b->n == RELAY_IOV)
		batch_flush(r, b);
}

/* Queues one piece of text; nl says whether a newline must be added. */
static void batch_add(struct relay *r, struct batch *b, char *s, size_t n, bool nl)
{
	size_t total = r->plen + n + nl;

	if (r->json) {
		batch_add_json(r, b, s, n);
		return;
	}

	if (b->n && (b->bytes + total > PIPE_BUF || b->n + 3 > RELAY_IOV))
		batch_flush(r, b);
	b->iov[b->n++] = (struct iovec){ r->prefix, r->plen };
	b->iov[b->n++] = (struct iovec){ s, n };
	if (nl)
		b->iov[b->n++] = (struct iovec){ "\n", 1 };
	b->bytes += total;
	if (b->bytes > PIPE_BUF)
		batch_flush(r, b);
}

/* Sends every complete line in buf, keeping the rest for the next read. A
 * full buffer without a newline is a line too long: its first RELAY_LINE
 * bytes go as one piece (the last byte may be a RELAY_LINE line's newline,
 * hence waiting for a full buffer, not for RELAY_LINE bytes). */
static void relay_lines(struct relay *r)
{
	struct batch b = { .n = 0 };
	size_t off = 0;
	char *nl;

	while ((nl = memchr(r->buf + off, '\n', r->len - off))) {
		size_t n = (size_t)(nl - (r->buf + off)) + 1;

		batch_add(r, &b, r->buf + off, n, false);
		off += n;
	}
	if (r->len == sizeof(r->buf) && off == 0) {	/* full, no newline */
		batch_add(r, &b, r->buf + off, RELAY_LINE, true);
		off += RELAY_LINE;
	}
	if (b.n)
		batch_flush(r, &b);
	memmove(r->buf, r->buf + off, r->len - off);
	r->len -= off;
}

/* file:PATH: every complete line read goes in one write, untouched; a
 * full buffer with no newline goes as a piece of a long line. */
static void relay_file(struct relay *r)
{
	char *nl = memrchr(r->buf, '\n', r->len);
	size_t n = nl ? (size_t)(nl - r->buf) + 1 : 0;

	if (!n && r->len == sizeof(r->buf))
		n = r->len;
	if (!n)
		return;
	logfile_write(r->file, r->buf, n, r->mid);
	r->mid = r->buf[n - 1] != '\n';
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
}

static void relay_readable(struct loop *l, int fd, uint32_t events, void *data)
{
	struct relay *r = data;
	ssize_t n = read(fd, r->buf + r->len, sizeof(r->buf) - r->len);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {		/* EOF: every writer is gone */
		relay_free(r);
		return;
	}
	r->len += (size_t)n;
	if (r->file)
		relay_file(r);
	else
		relay_lines(r);
}

/* {"path":"PATH","stream":"stdout","line":" and room in jbuf for a line
 * of it: PIPE_BUF of batched lines, then the worst case of one more (every
 * byte escaped as \u00XX). */
static int json_prefix(struct relay *r, const char *path, int dst_fd)
{
	static const char head[] = "{\"path\":\"";
	const char *tail = dst_fd == STDERR_FILENO ? "\",\"stream\":\"stderr\",\"line\":\"" :
						     "\",\"stream\":\"stdout\",\"line\":\"";
	size_t plen = strlen(path), cap = sizeof(head) + 6 * plen + strlen(tail) + 1;
	size_t at, need;

	r->prefix = malloc(cap);
	if (!r->prefix)
		return -1;
	memcpy(r->prefix, head, sizeof(head) - 1);
	at = log_json_escape(r->prefix, sizeof(head) - 1, cap, path, plen);
	strcpy(r->prefix + at, tail);
	need = PIPE_BUF + strlen(r->prefix) + 6 * (RELAY_LINE + 1) + 8;
	if (need > jcap) {
		char *b = realloc(jbuf, need);

		if (!b) {
			free(r->prefix);
			r->prefix = NULL;
			return -1;
		}
		jbuf = b;
		jcap = need;
	}
	return 0;
}

/* The pipe, watched, and r in the list of live relays. */
static int relay_pipe(struct loop *l, struct relay *r, int *child_fd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0 ||
	    loop_add_fd(l, p[0], EPOLLIN, relay_readable, r) < 0) {
		int e = errno;

		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	r->loop = l;
	r->fd = p[0];
	r->next = live;
	if (live)
		live->prev = r;
	live = r;
	*child_fd = p[1];
	return 0;
}

struct relay *relay_new(struct loop *l, const char *path, int dst_fd,
			int *child_fd)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (log_json() ? json_prefix(r, path, dst_fd) < 0 :
	    asprintf(&r->prefix, "[%s] ", path) < 0)
		goto err_free;
	r->plen = strlen(r->prefix);
	r->json = log_json();
	r->dst = dst_fd;
	if (relay_pipe(l, r, child_fd) < 0)
		goto err_free_prefix;
	return r;

err_free_prefix:
	free(r->prefix);
err_free:
	free(r);
	return NULL;
}

/* The same for file:PATH (o), rotated at max bytes with backups. */
static struct relay *relay_new_file(struct loop *l, const struct conf_output *o, size_t max,
				    int backups, int *child_fd)
{
	struct relay *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->file = logfile_open(o->path, max, backups);
	if (!r->file)
		goto err_free;
	if (relay_pipe(l, r, child_fd) < 0)
		goto err_put;
	return r;

err_put:
	{
		int e = errno;

		logfile_put(r->file);
		errno = e;
	}
err_free:
	free(r);
	return NULL;
}

/* One stream: a prefix relay, a file relay, or nothing to do. */
static int relay_output(struct loop *l, const char *path, const struct conf_setup *s,
			const struct conf_output *o, int dst, int *child_fd, char *why,
			size_t len)
{
	const char *key = dst == STDERR_FILENO ? "stderr" : "stdout";

	if (o->kind == OUT_PREFIX && !relay_new(l, path, dst, child_fd)) {
		snprintf(why, len, "pipe2 %s: %s", path, strerror(errno));
		return -1;
	}
	if (o->kind == OUT_FILE &&
	    !relay_new_file(l, o, s->log_max_size, s->log_backups, child_fd)) {
		snprintf(why, len, "%s: file:%s: %s", key, o->path, strerror(errno));
		return -1;
	}
	return 0;
}

int relay_outputs(struct loop *l, const char *path, const struct conf_setup *s,
		  int *out_fd, int *err_fd, char *why, size_t len)
{
	if (relay_output(l, path, s, &s->out, STDOUT_FILENO, out_fd, why, len) < 0)
		return -1;
	return relay_output(l, path, s, &s->err, STDERR_FILENO, err_fd, why, len);
}

static void unlink_free(struct relay *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		live = r->next;
	if (r->next)
		r->next->prev = r->prev;
	close(r->fd);
	free(r->prefix);
	free(r);
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	if (r->file) {
		if (r->len)
			logfile_write(r->file, r->buf, r->len, r->mid);
		logfile_put(r->file);
	} else if (r->len) {
		struct batch b = { .n = 0 };

		batch_add(r, &b, r->buf, r->len, r->buf[r->len - 1] != '\n');
		batch_flush(r, &b);
	}
	loop_del_fd(r->loop, r->fd);
	unlink_free(r);
}

void relay_free_all(void)
{
	while (live)
		relay_free(live);
}

void relay_forget_all(void)
{
	while (live)
		unlink_free(live);
	logfile_forget_all();
}
