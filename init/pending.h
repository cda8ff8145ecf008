/* pending: the calls and requests in flight, each waiting for its answer.
 *
 * A call travels hop by hop: at each supervisor it gets a fresh id on the
 * link it leaves by, and a pending record remembers where the answer goes
 * (a client of the control socket, or the link it came from, under the id
 * it came with). Every hop has its own deadline, so nothing waits forever,
 * and an answer that comes after its deadline finds no record and is
 * dropped. */
#ifndef ARBOR_PENDING_H
#define ARBOR_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "loop.h"

/* The answer to a client: rc 0 ok, 1 failed, with text. */
typedef void pending_done_fn(void *ctx, int rc, const char *text, size_t len);

struct pending;

/* One table per supervisor process, keyed by the ids it sends. */
struct pending_table {
	struct loop *loop;
	struct pending **slot;	/* hash of pending by id */
	size_t cap;
	uint64_t next_id;
};

struct pending {
	struct pending_table *t;
	uint64_t id;		/* ours, on the link it went by (0: none yet) */
	struct link *to;	/* where it went (NULL: answered here) */
	struct link *from_ln;	/* came on a link: answered there, under */
	uint64_t from_id;	/* from_id; NULL with no done: nobody */
	pending_done_fn *done;	/* came from a client */
	void *ctx;
	struct loop_timer *timer;
	char *target;		/* the path a call is for (status's
				 * calls_in_flight), or NULL */
	struct pending *next;	/* hash chain */
};

void pending_table_init(struct pending_table *t, struct loop *l);
void pending_table_free(struct pending_table *t);

/* A record answered to done(ctx); NULL on ENOMEM. */
struct pending *pending_client(struct pending_table *t, pending_done_fn *done, void *ctx);
/* A record answered on ln under id (ln NULL: answered to nobody). */
struct pending *pending_from_link(struct pending_table *t, struct link *ln, uint64_t id);
/* Sends p on its way over ln: gives it an id there, and answers it with
 * why after ms (-1: no deadline). The id, or 0 (ENOMEM: p answered). */
uint64_t pending_send(struct pending *p, struct link *ln, int64_t ms, const char *why);
/* The record waiting for the answer id, or NULL. */
struct pending *pending_find(struct pending_table *t, uint64_t id);

/* Answers whoever asked and frees p. */
void pending_answer(struct pending *p, int rc, const char *text, size_t len);
void pending_answer_str(struct pending *p, int rc, const char *text);
/* Records the path a call is for (0, or -1 on ENOMEM: not counted). */
int pending_target(struct pending *p, const char *path);
/* How many calls sent on their way are for path's subtree ("" counts
 * them all). */
size_t pending_count(const struct pending_table *t, const char *path);
/* Answers every record sent over ln with why; with forget, also drops the
 * answers owed to ln (it is going away). */
void pending_fail_link(struct pending_table *t, struct link *ln, const char *why, bool forget);

#endif
