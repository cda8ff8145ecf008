/* link: frames over a pipe pair, and nothing else.
 *
 * A link joins a supervisor to a GenServer worker, to a nested supervisor,
 * or (in a nested supervisor) to its parent. It reads and decodes frames
 * (frame.h) and hands each to on_frame; it queues and writes what is sent,
 * never blocking. When the peer is gone (EOF) or sends what cannot be
 * decoded, it stops reading and calls on_close once. What the frames mean
 * is route.c's business. */
#ifndef ARBOR_LINK_H
#define ARBOR_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "loop.h"

struct link;
typedef void link_frame_fn(struct link *ln, const struct frame *f);
/* why: NULL at EOF, else what could not be read ("oversized frame", ...). */
typedef void link_close_fn(struct link *ln, const char *why);

struct link {
	struct loop *loop;
	int rfd, wfd;
	struct fbuf rb, wb;
	size_t max;		/* largest payload accepted */
	bool dead;		/* reading stopped */
	link_frame_fn *on_frame;
	link_close_fn *on_close;
	/* the peer, as its owner sees it */
	void *sup;		/* the supervisor at this end */
	void *child;		/* the child at the other end, NULL: the parent */
	uint64_t last_id;	/* highest id a CALL went out with */
	bool ready;		/* READY seen (or sent, to the parent) */
	bool flush_due;		/* a write is deferred to before the loop sleeps */
};

/* Watches rfd and wfd (non-blocking); NULL with errno on failure (the fds
 * are then the caller's to close). */
struct link *link_new(struct loop *l, int rfd, int wfd, size_t max, link_frame_fn *on_frame,
		      link_close_fn *on_close, void *sup, void *child);
/* Closes the fds and frees ln. */
void link_free(struct link *ln);
/* Queues one frame whose payload is a then b. 0, or -1: ENOBUFS when the
 * peer does not read, EPIPE when it is gone, ENOMEM. */
int link_send(struct link *ln, uint8_t type, uint64_t id, const void *a, size_t alen,
	      const void *b, size_t blen);
/* Writes now what link_send() queued for the loop's next sleep (before
 * the process exits). */
void link_flush(struct link *ln);
/* Reads no more (after a protocol error): what follows is ignored. */
void link_stop(struct link *ln);

#endif
