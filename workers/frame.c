/* frame: encoding and decoding of arbor's frames, and the byte buffers that
 * carry them through pipes. See frame.h and man/arbor-protocol.7. */
#include "frame.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The most a single fbuf_fill() reads, so one busy pipe cannot make a
 * buffer grow to its limit before anything is decoded. */
#define FBUF_READ_CHUNK (64 * 1024)

/* Byte by byte, so the layout does not depend on the host's byte order or
 * on the alignment of p. */
static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, v >> 16);
	put_be16(p + 2, v);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, v >> 32);
	put_be32(p + 4, v);
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Byte order is fixed (big-endian) so that a worker in any language can
 * build a header with its usual packing helpers. */
void frame_header(uint8_t *hdr, uint8_t type, uint64_t id, uint32_t len)
{
	put_be32(hdr, len);
	hdr[4] = FRAME_VERSION;
	hdr[5] = type;
	put_be16(hdr + 6, 0);
	put_be64(hdr + 8, id);
}

/* Types are dense, 1 to FRAME_STOP: a new type means a new version. */
bool frame_type_valid(uint8_t type)
{
	return type >= FRAME_CALL && type <= FRAME_STOP;
}

/* The header is checked before the payload has arrived, so a peer that
 * announces a 4 GiB frame is refused at once instead of being buffered. */
enum frame_status frame_decode(const uint8_t *buf, size_t n, size_t max,
			       struct frame *f, size_t *used)
{
	uint32_t len;

	if (n < FRAME_HDR)
		return FRAME_SHORT;
	if (buf[4] != FRAME_VERSION)
		return FRAME_EBADVER;
	if (!frame_type_valid(buf[5]))
		return FRAME_EBADTYPE;
	if (get_be16(buf + 6) != 0)
		return FRAME_EBADFLAGS;
	len = get_be32(buf);
	if (len > max)
		return FRAME_ETOOBIG;
	if (n - FRAME_HDR < len)
		return FRAME_SHORT;
	f->len = len;
	f->version = buf[4];
	f->type = buf[5];
	f->flags = 0;
	f->id = get_be64(buf + 8);
	f->data = (const char *)buf + FRAME_HDR;
	*used = FRAME_HDR + (size_t)len;
	return FRAME_OK;
}

/* Fixed strings, safe to keep: no buffer to own. */
const char *frame_strerror(enum frame_status st)
{
	switch (st) {
	case FRAME_OK:
		return "no error";
	case FRAME_SHORT:
		return "incomplete frame";
	case FRAME_EBADVER:
		return "unsupported protocol version";
	case FRAME_EBADTYPE:
		return "unknown frame type";
	case FRAME_ETOOBIG:
		return "frame larger than max_message";
	case FRAME_EBADFLAGS:
		return "reserved flags set";
	}
	return "unknown frame status";
}

/* The generic message says what kind of fault it was; this one also says
 * which byte was wrong, which is what a worker's author needs to see. */
void frame_describe(enum frame_status st, const uint8_t *hdr, size_t max,
		    char *out, size_t size)
{
	switch (st) {
	case FRAME_EBADVER:
		snprintf(out, size, "unsupported protocol version %u (expected %u)",
			 (unsigned)hdr[4], (unsigned)FRAME_VERSION);
		break;
	case FRAME_EBADTYPE:
		snprintf(out, size, "unknown frame type %u", (unsigned)hdr[5]);
		break;
	case FRAME_ETOOBIG:
		snprintf(out, size, "frame of %lu bytes over max_message %zu",
			 (unsigned long)get_be32(hdr), max);
		break;
	case FRAME_EBADFLAGS:
		snprintf(out, size, "reserved flags 0x%04x set",
			 (unsigned)get_be16(hdr + 6));
		break;
	default:
		snprintf(out, size, "%s", frame_strerror(st));
		break;
	}
}

/* Names as in arbor-protocol(7), for logs. */
size_t frame_event_encode(const struct frame_event *e, uint8_t *out, size_t size)
{
	size_t n = FRAME_EVENT_FIXED + e->path_len;

	if (n > size)
		return 0;
	put_be32(out, (uint32_t)e->pid);
	out[4] = e->state;
	out[5] = (e->giving_up ? FRAME_EVENT_GIVING_UP : 0) |
		 (e->deleted ? FRAME_EVENT_DELETED : 0) | (e->log ? FRAME_EVENT_LOG : 0);
	out[6] = (uint8_t)((e->health & 0x7f) | (e->watchdog ? FRAME_EVENT_WATCHDOG : 0));
	out[7] = e->health_failures;
	put_be16(out + 20, e->down);
	put_be32(out + 8, (uint32_t)e->restarts);
	put_be64(out + 12, (uint64_t)e->since_ms);
	memcpy(out + FRAME_EVENT_FIXED, e->path, e->path_len);
	return n;
}

int frame_event_decode(const void *data, size_t len, struct frame_event *e)
{
	const uint8_t *p = data;

	if (len < FRAME_EVENT_FIXED ||
	    (p[5] & ~(FRAME_EVENT_GIVING_UP | FRAME_EVENT_DELETED | FRAME_EVENT_LOG)) ||
	    (get_be16(p + 20) & 0xff00 & ~FRAME_DOWN_KINDS))
		return -1;
	e->health = p[6] & 0x7f;
	e->watchdog = p[6] & FRAME_EVENT_WATCHDOG;
	e->health_failures = p[7];
	e->pid = (int32_t)get_be32(p);
	e->state = p[4];
	e->giving_up = p[5] & FRAME_EVENT_GIVING_UP;
	e->deleted = p[5] & FRAME_EVENT_DELETED;
	e->log = p[5] & FRAME_EVENT_LOG;
	e->restarts = (int32_t)get_be32(p + 8);
	e->since_ms = (int64_t)get_be64(p + 12);
	e->down = get_be16(p + 20);
	e->path = (const char *)p + FRAME_EVENT_FIXED;
	e->path_len = len - FRAME_EVENT_FIXED;
	return 0;
}

const char *frame_type_name(uint8_t type)
{
	static const char *const names[] = {
		[FRAME_CALL] = "CALL",	 [FRAME_CAST] = "CAST",
		[FRAME_INFO] = "INFO",	 [FRAME_REPLY] = "REPLY",
		[FRAME_ERROR] = "ERROR", [FRAME_READY] = "READY",
		[FRAME_EVENT] = "EVENT", [FRAME_CTL] = "CTL",
		[FRAME_STOP] = "STOP",
	};

	if (!frame_type_valid(type))
		return "UNKNOWN";
	return names[type];
}

/* Makes room for need more bytes after the pending ones, first by moving
 * them to the front (a buffer drained as fast as it fills never grows). */
static int fbuf_reserve(struct fbuf *b, size_t need)
{
	size_t pending = b->len - b->off;
	size_t cap;
	uint8_t *p;

	if (b->off > 0 && b->cap - b->len < need) {
		memmove(b->buf, b->buf + b->off, pending);
		b->len = pending;
		b->off = 0;
	}
	if (b->cap - b->len >= need)
		return 0;
	if (need > SIZE_MAX / 2 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len < need)
		cap *= 2;
	p = realloc(b->buf, cap);
	if (!p)
		return -1;
	b->buf = p;
	b->cap = cap;
	return 0;
}

/* The bytes between off and len: written or decoded ones are before off. */
size_t fbuf_pending(const struct fbuf *b)
{
	return b->len - b->off;
}

/* A frame is queued whole or not at all, so a reader never sees half a
 * frame followed by another one. */
int fbuf_putv(struct fbuf *b, uint8_t type, uint64_t id,
	      const struct iovec *iov, int iovcnt, size_t limit)
{
	size_t total = 0;
	int i;

	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > UINT32_MAX - total) {
			errno = EMSGSIZE;
			return -1;
		}
		total += iov[i].iov_len;
	}
	if (limit && fbuf_pending(b) + FRAME_HDR + total > limit) {
		errno = ENOBUFS;
		return -1;
	}
	if (fbuf_reserve(b, FRAME_HDR + total) < 0)
		return -1;
	frame_header(b->buf + b->len, type, id, (uint32_t)total);
	b->len += FRAME_HDR;
	for (i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len)
			memcpy(b->buf + b->len, iov[i].iov_base, iov[i].iov_len);
		b->len += iov[i].iov_len;
	}
	return 0;
}

/* The common case of fbuf_putv(): one contiguous payload. */
int fbuf_put(struct fbuf *b, uint8_t type, uint64_t id, const void *data,
	     uint32_t len, size_t limit)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	return fbuf_putv(b, type, id, &iov, 1, limit);
}

/* Pipes take what fits: a short write or EAGAIN leaves the rest pending for
 * the next EPOLLOUT instead of blocking the caller. */
int fbuf_flush(struct fbuf *b, int fd)
{
	while (b->off < b->len) {
		ssize_t n = write(fd, b->buf + b->off, b->len - b->off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -1;
		}
		b->off += (size_t)n;
	}
	b->off = b->len = 0;
	return 1;
}

/* One read() per call: a level-triggered loop calls again, and a blocking fd
 * that poll() found readable never blocks. The buffer never holds more than
 * one largest frame (FRAME_HDR + max) of undecoded bytes. */
ssize_t fbuf_fill(struct fbuf *b, int fd, size_t max)
{
	size_t room, limit = max > SIZE_MAX - FRAME_HDR ? SIZE_MAX : max + FRAME_HDR;
	ssize_t n;

	if (fbuf_pending(b) >= limit) {
		errno = ENOBUFS;
		return -1;
	}
	room = limit - fbuf_pending(b);
	if (room > FBUF_READ_CHUNK)
		room = FBUF_READ_CHUNK;
	if (fbuf_reserve(b, room) < 0)
		return -1;
	do
		n = read(fd, b->buf + b->len, room);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		b->len += (size_t)n;
	return n;
}

/* Resets to the start when everything was consumed, so a buffer in steady
 * use never needs to move bytes. */
void fbuf_consume(struct fbuf *b, size_t n)
{
	if (n > fbuf_pending(b))
		n = fbuf_pending(b);
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

/* Leaves b empty and reusable. */
void fbuf_free(struct fbuf *b)
{
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = b->off = 0;
}
