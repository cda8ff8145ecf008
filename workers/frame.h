/* frame: arbor's wire format, shared by arbor and libarbor.
 *
 * Every frame is a 16-byte header followed by LEN bytes of payload. All
 * integers are big-endian:
 *
 *   offset 0  u32 len      payload length (not counting the header)
 *   offset 4  u8  version  FRAME_VERSION
 *   offset 5  u8  type     enum frame_type
 *   offset 6  u16 flags    0 (reserved)
 *   offset 8  u64 id       correlation id (0 for cast, info, ready)
 *
 * The full specification is man/arbor-protocol.7. */
#ifndef ARBOR_FRAME_H
#define ARBOR_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define FRAME_VERSION 1
#define FRAME_HDR 16
#define FRAME_MAX_DEFAULT (1024 * 1024)

enum frame_type {
	FRAME_CALL = 1,		/* request expecting a REPLY or ERROR with the same id */
	FRAME_CAST = 2,		/* no reply */
	FRAME_INFO = 3,		/* handle_info, no reply */
	FRAME_REPLY = 4,	/* answer to CALL id */
	FRAME_ERROR = 5,	/* failure answer to CALL id; payload: reason text */
	FRAME_READY = 6,	/* worker -> arbor once init returned; payload "arbor/1" */
	FRAME_EVENT = 7,	/* supervisor -> parent supervisor: a node changed */
	FRAME_CTL = 8,		/* parent supervisor -> supervisor: an admin request */
	FRAME_STOP = 9,		/* worker -> arbor: stopping with reason (payload) */
};

struct frame {
	uint8_t type;
	uint8_t version;
	uint16_t flags;
	uint64_t id;
	uint32_t len;
	const char *data;	/* points into the buffer it was decoded from */
};

enum frame_status {
	FRAME_OK = 0,		/* one frame decoded */
	FRAME_SHORT = 1,	/* need more bytes */
	FRAME_EBADVER = -1,	/* unknown version */
	FRAME_EBADTYPE = -2,	/* unknown type */
	FRAME_ETOOBIG = -3,	/* len over the limit */
	FRAME_EBADFLAGS = -4,	/* reserved bits set */
};

/* Writes the header for (type, id, len) into hdr[FRAME_HDR]. */
void frame_header(uint8_t *hdr, uint8_t type, uint64_t id, uint32_t len);
/* Decodes one frame from buf[0..n). On FRAME_OK, *f is set and *used is the
 * number of bytes it took. max is the largest payload accepted. */
enum frame_status frame_decode(const uint8_t *buf, size_t n, size_t max,
			       struct frame *f, size_t *used);
/* A message for a negative status: "unknown frame type 42". */
const char *frame_strerror(enum frame_status st);
/* The same with the offending value, for a log line: "unknown frame type
 * 42", "frame of 2000000 bytes over max_message 1048576". hdr is the
 * FRAME_HDR bytes frame_decode() refused; max the limit it was given. */
void frame_describe(enum frame_status st, const uint8_t *hdr, size_t max,
		    char *out, size_t size);
/* "CALL", "REPLY", ...; "UNKNOWN" for a type frame_type_valid() refuses. */
const char *frame_type_name(uint8_t type);
bool frame_type_valid(uint8_t type);

/* EVENT (supervisor -> parent supervisor): one node's run-time state.
 * Payload, big-endian: u32 pid, u8 state, u8 flags (bit 0: giving up,
 * bit 1: deleted, bit 7: a log event), u8 health (its check's state, 0
 * none; bit 7: its watchdog or checks are killing it), u8 health failures
 * in a row (at most 255), u32 restarts, u64 since (CLOCK_REALTIME ms),
 * u16 down, then the node's path (no NUL). Only arbor's own processes
 * speak it. */
#define FRAME_EVENT_FIXED 22
#define FRAME_EVENT_GIVING_UP 0x01
#define FRAME_EVENT_DELETED 0x02	/* the node is gone (arborctl delete) */
/* A log event for arborctl events, passed up to the root: pid is the
 * logging process, since the event's time, and the path field holds
 * EVENT NUL PATH NUL KV (log.h's struct log_event). */
#define FRAME_EVENT_LOG 0x80
#define FRAME_EVENT_WATCHDOG 0x80	/* in the health byte */

/* EVENT's down: why the node last stopped running (what monitors are
 * told), the kind in the high byte and its number in the low one. */
#define FRAME_DOWN_NONE 0x0000		/* it has not been running */
#define FRAME_DOWN_EXIT 0x0100		/* | the exit status */
#define FRAME_DOWN_SIGNAL 0x0200	/* | the signal number */
#define FRAME_DOWN_SHUTDOWN 0x0300	/* stopped by its supervisor */
#define FRAME_DOWN_KINDS 0x0300

struct frame_event {
	int32_t pid;
	uint8_t state;
	bool giving_up;
	bool deleted;
	bool log;		/* FRAME_EVENT_LOG */
	int32_t restarts;
	int64_t since_ms;
	uint8_t health;		/* a health check's state (child.h), 0 none */
	uint8_t health_failures;	/* in a row, at most 255 */
	bool watchdog;		/* being killed by its watchdog or checks */
	uint16_t down;		/* FRAME_DOWN_* */
	const char *path;	/* decoded: points into the frame, not NUL-ended */
	size_t path_len;
};

/* Writes e into out[0..size): the payload's length, or 0 when it does not
 * fit. */
size_t frame_event_encode(const struct frame_event *e, uint8_t *out, size_t size);
/* Reads an EVENT payload: 0, or -1 when it is too short or its flags or
 * down hold unknown bits. */
int frame_event_decode(const void *data, size_t len, struct frame_event *e);

/* A growable byte buffer for one direction of a pipe. */
struct fbuf {
	uint8_t *buf;
	size_t len, cap, off;	/* bytes [off, len) are pending */
};

/* Appends a whole frame; -1 (ENOBUFS) when it would pass limit bytes pending
 * (limit 0: no limit), ENOMEM, or EMSGSIZE when len does not fit a u32. */
int fbuf_put(struct fbuf *b, uint8_t type, uint64_t id, const void *data,
	     uint32_t len, size_t limit);
/* The same with the payload gathered from iov[0..iovcnt), e.g. PATH, NUL,
 * MESSAGE. */
int fbuf_putv(struct fbuf *b, uint8_t type, uint64_t id,
	      const struct iovec *iov, int iovcnt, size_t limit);
/* Bytes queued and not yet written (or read and not yet consumed). */
size_t fbuf_pending(const struct fbuf *b);
/* Writes what it can to a non-blocking fd: 1 all sent, 0 more pending,
 * -1 error (errno; EPIPE when the reader is gone). Retries EINTR. */
int fbuf_flush(struct fbuf *b, int fd);
/* One read() of what is available from a non-blocking fd: bytes read, 0 at
 * EOF, -1 error (EAGAIN when nothing was there). max is the largest payload,
 * as for frame_decode(): at most FRAME_HDR + max bytes stay pending, so
 * decode after each fill; -1 (ENOBUFS) when that much is already pending. */
ssize_t fbuf_fill(struct fbuf *b, int fd, size_t max);
/* Drops n decoded bytes from the front. */
void fbuf_consume(struct fbuf *b, size_t n);
void fbuf_free(struct fbuf *b);

#endif
