/* fuzz_frame: libFuzzer harness for the frame codec (workers/frame.c).
 *
 * A frame arrives from a worker that may be buggy or hostile, in pieces of
 * any size, so the input is played into a pipe in chunks and read back
 * through fbuf_fill(), as arbor's link does, decoding after each fill.
 * Every frame decoded is encoded again and must give back the very bytes it
 * came from; the buffer must never hold more than one largest frame.
 *
 *   byte 0     which max_message limit to decode with
 *   byte 1     the chunk size written to the pipe at a time (1..256)
 *   the rest   the byte stream a worker sends
 *
 * Build: scripts/fuzz (clang -fsanitize=fuzzer,address,undefined). */
#define _GNU_SOURCE
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A failed invariant is a crash, so libFuzzer keeps the input. */
#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "fuzz_frame: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                       \
			abort();                                        \
		}                                                       \
	} while (0)

/* The limits worth trying: none at all, tiny ones that make ETOOBIG easy
 * to reach, and the default. */
static size_t pick_max(uint8_t b)
{
	static const size_t maxes[] = { 0, 1, 7, 16, 100, 4096, 65536,
					FRAME_MAX_DEFAULT };

	return maxes[b % (sizeof(maxes) / sizeof(maxes[0]))];
}

/* One call of frame_decode on a flat buffer, with what must hold of its
 * answer whatever the bytes were. */
static void decode_flat(const uint8_t *buf, size_t n, size_t max)
{
	struct frame f;
	size_t used = 0;
	enum frame_status st = frame_decode(buf, n, max, &f, &used);
	char why[128];

	if (st == FRAME_OK) {
		CHECK(used == FRAME_HDR + (size_t)f.len);
		CHECK(used <= n);
		CHECK(f.len <= max);
		CHECK(f.data == (const char *)buf + FRAME_HDR);
		CHECK(frame_type_valid(f.type));
		CHECK(strcmp(frame_type_name(f.type), "UNKNOWN") != 0);
	} else if (st == FRAME_SHORT) {
		CHECK(n < FRAME_HDR || n - FRAME_HDR < ((size_t)buf[0] << 24 |
			(size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3]));
	} else {
		CHECK(n >= FRAME_HDR);
		frame_describe(st, buf, max, why, sizeof(why));
		CHECK(why[0] != '\0');
		CHECK(strlen(frame_strerror(st)) > 0);
	}
}

/* A decoded frame, encoded again, must be the bytes it was decoded from:
 * what arbor forwards is what the worker sent. */
static void check_reencode(const struct frame *f, const uint8_t *orig)
{
	struct fbuf out = { 0 };
	struct iovec iov[2] = {
		{ .iov_base = (void *)f->data, .iov_len = f->len / 2 },
		{ .iov_base = (void *)(f->data + f->len / 2),
		  .iov_len = f->len - f->len / 2 },
	};

	CHECK(fbuf_putv(&out, f->type, f->id, iov, 2, 0) == 0);
	CHECK(fbuf_pending(&out) == FRAME_HDR + (size_t)f->len);
	CHECK(memcmp(out.buf + out.off, orig, FRAME_HDR + (size_t)f->len) == 0);
	/* a limit one byte too small refuses it whole */
	fbuf_consume(&out, fbuf_pending(&out));
	errno = 0;
	CHECK(fbuf_put(&out, f->type, f->id, f->data, f->len,
		       FRAME_HDR + (size_t)f->len - 1) == -1 && errno == ENOBUFS);
	CHECK(fbuf_pending(&out) == 0);
	fbuf_free(&out);
}

/* Decodes every whole frame pending in b. Returns false once the stream is
 * refused (a reader drops the link then). *at counts the bytes consumed,
 * which must be the same bytes, in order, as the stream's. */
static bool drain(struct fbuf *b, size_t max, const uint8_t *stream,
		  size_t *at)
{
	struct frame f;
	size_t used;
	enum frame_status st;

	for (;;) {
		st = frame_decode(b->buf + b->off, fbuf_pending(b), max, &f, &used);
		if (st == FRAME_SHORT)
			return true;
		if (st != FRAME_OK)
			return false;
		CHECK(memcmp(b->buf + b->off, stream + *at, used) == 0);
		check_reencode(&f, stream + *at);
		*at += used;
		fbuf_consume(b, used);
	}
}

/* The stream through a non-blocking pipe, chunk bytes at a time, read
 * with fbuf_fill as arbor reads a worker's reply pipe. */
static void through_pipe(const uint8_t *data, size_t size, size_t max,
			 size_t chunk)
{
	struct fbuf b = { 0 };
	size_t sent = 0, at = 0;
	int p[2];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	while (sent < size) {
		size_t k = size - sent < chunk ? size - sent : chunk;

		n = write(p[1], data + sent, k);
		CHECK(n == (ssize_t)k);
		sent += k;
		for (;;) {
			n = fbuf_fill(&b, p[0], max);
			/* ENOBUFS would mean a largest frame's worth is
			 * pending that drain() did not take: never */
			CHECK(!(n < 0 && errno == ENOBUFS));
			if (n < 0) {
				CHECK(errno == EAGAIN);
				break;
			}
			CHECK(n > 0);
			CHECK(fbuf_pending(&b) <= FRAME_HDR + max);
			if (!drain(&b, max, data, &at))
				goto out;
		}
	}
	CHECK(at + fbuf_pending(&b) == size);
out:
	fbuf_free(&b);
	close(p[0]);
	close(p[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max, chunk;

	if (size < 2)
		return 0;
	max = pick_max(data[0]);
	chunk = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	if (size > 60000)	/* stays under a pipe's capacity */
		return 0;
	decode_flat(data, size, max);
	through_pipe(data, size, max, chunk);
	return 0;
}
