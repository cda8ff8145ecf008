/* link: frames over a pipe pair. See link.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

#include "link.h"

/* What may wait to be written to one link: a worker that stops reading
 * cannot make its supervisor grow without bound. */
static size_t link_limit(const struct link *ln)
{
	return 2 * ln->max + 64 * 1024;
}

static void want_write(struct link *ln, bool on)
{
	loop_mod_fd(ln->loop, ln->wfd, on ? EPOLLOUT : 0);
}

void link_flush(struct link *ln)
{
	ln->flush_due = false;
	loop_defer_cancel(ln->loop, ln);
	if (ln->wfd >= 0 && fbuf_pending(&ln->wb) && fbuf_flush(&ln->wb, ln->wfd) == 0)
		want_write(ln, true);
}

static void flush_later(struct loop *l, void *data)
{
	link_flush(data);
}

/* The frames queued while the loop is awake go in one write before it
 * sleeps again: 8 clients' calls that came together go to the worker in
 * one write, which it reads with one read, and its replies come back up
 * the tree in one write at each supervisor. */
int link_send(struct link *ln, uint8_t type, uint64_t id, const void *a, size_t alen,
	      const void *b, size_t blen)
{
	struct iovec iov[2] = { { (void *)a, alen }, { (void *)b, blen } };
	bool idle = fbuf_pending(&ln->wb) == 0;
	int r;

	if (ln->wfd < 0) {
		errno = EPIPE;
		return -1;
	}
	if (fbuf_putv(&ln->wb, type, id, iov, 2, link_limit(ln)) < 0)
		return -1;
	if (!idle || ln->flush_due)
		return 0;	/* EPOLLOUT is already armed, or the flush is due */
	if (loop_defer(ln->loop, flush_later, ln) == 0) {
		ln->flush_due = true;
		return 0;
	}
	r = fbuf_flush(&ln->wb, ln->wfd);
	if (r == 0)
		want_write(ln, true);
	return r < 0 ? -1 : 0;
}

static void on_write(struct link *ln)
{
	if (fbuf_flush(&ln->wb, ln->wfd) != 0)
		want_write(ln, false);	/* sent, or the reader is gone */
}

void link_stop(struct link *ln)
{
	loop_del_fd(ln->loop, ln->rfd);
	ln->dead = true;
}

static void closed(struct link *ln, const char *why)
{
	link_stop(ln);
	ln->on_close(ln, why);
}

/* Hands on every whole frame read so far; one that cannot be decoded
 * closes the link. */
static void decode_all(struct link *ln)
{
	struct frame f;
	size_t used;

	while (!ln->dead) {
		size_t pend = fbuf_pending(&ln->rb);
		const uint8_t *at = ln->rb.buf + ln->rb.off;
		enum frame_status st = frame_decode(at, pend, ln->max, &f, &used);
		char why[200];

		if (st == FRAME_SHORT)
			return;
		if (st != FRAME_OK) {
			frame_describe(st, at, ln->max, why, sizeof(why));
			fbuf_consume(&ln->rb, pend);
			closed(ln, why);
			return;
		}
		ln->on_frame(ln, &f);
		if (!ln->dead)
			fbuf_consume(&ln->rb, used);
	}
}

static void on_read(struct link *ln)
{
	ssize_t n;

	if (ln->dead)
		return;
	n = fbuf_fill(&ln->rb, ln->rfd, ln->max);
	if (n < 0 && errno == ENOBUFS)
		closed(ln, "oversized frame");
	else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		closed(ln, NULL);
	else if (n > 0)
		decode_all(ln);
}

static void on_io(struct loop *l, int fd, uint32_t ev, void *data)
{
	struct link *ln = data;

	if (fd == ln->rfd)
		on_read(ln);
	else
		on_write(ln);
}

struct link *link_new(struct loop *l, int rfd, int wfd, size_t max, link_frame_fn *on_frame,
		      link_close_fn *on_close, void *sup, void *child)
{
	struct link *ln = calloc(1, sizeof(*ln));

	if (!ln)
		return NULL;
	*ln = (struct link){ .loop = l, .rfd = rfd, .wfd = wfd, .max = max,
			     .on_frame = on_frame, .on_close = on_close, .sup = sup,
			     .child = child };
	if (loop_add_fd(l, rfd, EPOLLIN, on_io, ln) < 0)
		goto err_free;
	if (loop_add_fd(l, wfd, 0, on_io, ln) < 0)
		goto err_del_rfd;
	return ln;

err_del_rfd:
	loop_del_fd(l, rfd);
err_free:
	free(ln);
	return NULL;
}

void link_free(struct link *ln)
{
	if (!ln)
		return;
	loop_defer_cancel(ln->loop, ln);
	loop_del_fd(ln->loop, ln->rfd);
	loop_del_fd(ln->loop, ln->wfd);
	close(ln->rfd);
	close(ln->wfd);
	fbuf_free(&ln->rb);
	fbuf_free(&ln->wb);
	free(ln);
}
