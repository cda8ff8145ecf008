/* Unit tests of init/relay.c on the real event loop: a forked writer feeds
 * the pipe, the relay writes "[path] line" to a file, and frees itself (its
 * read end closes) at EOF. TAP output. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "relay.h"

#include "tap.h"

struct run {
	int rfd;		/* the relay's read end, closed when it is done */
	int64_t deadline;
	bool timed_out;
};

/* Waits for the relay's own EOF handling, bounded by a deadline. */
static void poll_done(struct loop *l, void *data)
{
	struct run *r = data;

	if (fcntl(r->rfd, F_GETFD) < 0 && errno == EBADF) {
		loop_stop(l);
		return;
	}
	if (loop_now_ms() > r->deadline) {
		r->timed_out = true;
		loop_stop(l);
		return;
	}
	loop_timer_add(l, 5, poll_done, r);
}

/* The writer waits until the relay has read everything written so far. */
static void drain(int fd)
{
	int queued;

	while (ioctl(fd, FIONREAD, &queued) == 0 && queued > 0)
		usleep(1000);
}

/* Relays in[0..n) written by a child (in chunks of chunk bytes, each read
 * by the relay before the next when sync) and returns what came out,
 * malloc'd, its length in *outlen; NULL on a time-out. */
static char *relay_run(const char *in, size_t n, size_t chunk, bool sync, size_t *outlen)
{
	char path[] = "/tmp/test_relay.XXXXXX";
	int dst = mkstemp(path), child_fd, probe, st;
	struct loop *l = loop_new();
	struct run r;
	char *out = NULL;
	pid_t pid;
	off_t size;

	unlink(path);
	probe = dup(0);		/* the lowest free fd: the pipe's read end */
	close(probe);
	r = (struct run){ .rfd = probe, .deadline = loop_now_ms() + 20000 };
	if (!l || dst < 0 || !relay_new(l, "w/x", dst, &child_fd))
		return NULL;
	pid = fork();
	if (pid == 0) {
		for (size_t off = 0; off < n;) {
			size_t k = n - off < chunk ? n - off : chunk;
			ssize_t w = write(child_fd, in + off, k);

			if (w < 0)
				_exit(1);
			off += (size_t)w;
			if (sync)
				drain(child_fd);
		}
		_exit(0);
	}
	close(child_fd);
	loop_timer_add(l, 5, poll_done, &r);
	loop_run(l);
	waitpid(pid, &st, 0);
	if (r.timed_out) {
		relay_free_all();
	} else {
		size = lseek(dst, 0, SEEK_END);
		out = malloc((size_t)size + 1);
		if (pread(dst, out, (size_t)size, 0) != size)
			size = 0;
		out[size] = '\0';
		*outlen = (size_t)size;
	}
	close(dst);
	loop_free(l);
	return out;
}

static bool relays_sync(const char *in, size_t n, size_t chunk, bool sync,
			const char *want, size_t wlen)
{
	size_t got = 0;
	char *out = relay_run(in, n, chunk, sync, &got);
	bool same = out && got == wlen && !memcmp(out, want, wlen);

	if (out && !same)
		fprintf(stderr, "# got %zu bytes: %.200s\n", got, out);
	free(out);
	return same;
}

static bool relays_to(const char *in, size_t n, size_t chunk, const char *want,
		      size_t wlen)
{
	return relays_sync(in, n, chunk, false, want, wlen);
}

static void test_lines(void)
{
	ok(relays_to("a\nb\n", 4, 4096, "[w/x] a\n[w/x] b\n", 16), "two lines");
	ok(relays_to("a\nb\n", 4, 1, "[w/x] a\n[w/x] b\n", 16), "lines written a byte at a time");
	ok(relays_to("one\npartial", 11, 4096, "[w/x] one\n[w/x] partial\n", 24),
	   "a partial last line is flushed at EOF with a newline");
	ok(relays_to("", 0, 4096, "", 0), "nothing written, nothing relayed, relay freed");
	ok(relays_to("\n\n", 2, 4096, "[w/x] \n[w/x] \n", 14), "empty lines keep their prefix");
}

/* Builds the expected output of one long line split into RELAY_LINE pieces. */
static char *split_expect(char c, size_t n, size_t *len)
{
	size_t pieces = (n + RELAY_LINE - 1) / RELAY_LINE, off = 0;
	char *e = malloc(n + pieces * 7), *p = e;

	while (off < n) {
		size_t k = n - off < RELAY_LINE ? n - off : RELAY_LINE;

		memcpy(p, "[w/x] ", 6);
		memset(p + 6, c, k);
		p[6 + k] = '\n';
		p += 7 + k;
		off += k;
	}
	*len = (size_t)(p - e);
	return e;
}

static void test_long_lines(void)
{
	size_t n = 200000, elen;
	char *in = malloc(n + 1), *want;

	memset(in, 'x', n);
	in[n] = '\n';
	want = split_expect('x', n, &elen);
	ok(relays_to(in, n + 1, 65536, want, elen),
	   "a 200000-byte line comes out as 4 prefixed pieces of at most 64 KiB");
	ok(relays_to(in, n, 7777, want, elen), "the same without its newline, in odd chunks");
	free(want);

	memset(in, 'y', RELAY_LINE);
	memcpy(in + RELAY_LINE, "\nz\n", 3);
	want = malloc(RELAY_LINE + 20);
	memcpy(want, "[w/x] ", 6);
	memset(want + 6, 'y', RELAY_LINE);
	memcpy(want + 6 + RELAY_LINE, "\n[w/x] z\n", 9);
	ok(relays_sync(in, RELAY_LINE + 3, RELAY_LINE, true, want, RELAY_LINE + 15),
	   "a line of exactly 64 KiB is one line, not a piece and an empty line");
	ok(relays_sync(in, RELAY_LINE + 3, 1000, true, want, RELAY_LINE + 15),
	   "the same, read in many small pieces");
	free(want);
	free(in);
}

static void test_many_lines(void)
{
	size_t nl = 100000, cap = nl * 16, ilen = 0, wlen = 0;
	char *in = malloc(cap), *want = malloc(cap * 2);

	for (size_t i = 0; i < nl; i++) {
		int k = snprintf(in + ilen, cap - ilen, "line %zu\n", i);

		wlen += (size_t)snprintf(want + wlen, cap * 2 - wlen, "[w/x] %.*s", k, in + ilen);
		ilen += (size_t)k;
	}
	ok(relays_to(in, ilen, 65536, want, wlen), "100000 short lines, in order, none lost");
	ok(relays_to(in, ilen, 3, want, wlen), "the same written 3 bytes at a time");
	free(in);
	free(want);
}

#define J(line) "{\"path\":\"w/x\",\"stream\":\"stdout\",\"line\":\"" line "\"}\n"
#define RELAYS_TO(in, want) relays_to(in, sizeof(in) - 1, 4096, want, sizeof(want) - 1)

/* log_format = json: one object per line, its text escaped. */
static void test_json(void)
{
	size_t n = 200000, elen = 0, piece = sizeof(J("")) - 1;
	char *in = malloc(n), *want = malloc(4 * piece + 2 * n);

	log_init(LOG_JSON, 0);
	ok(RELAYS_TO("a\nb c\n", J("a") J("b c")), "json: a line is an object, its newline dropped");
	ok(RELAYS_TO("q\"b\\c\x01\t\r\x7f\n", J("q\\\"b\\\\c\\u0001\\t\\r\\u007f")),
	   "json: quotes, backslashes and control bytes escaped");
	ok(RELAYS_TO("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb3\n", J("\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8c\xb3")),
	   "json: valid UTF-8 passes as it is");
	ok(RELAYS_TO("\xff\xc3(\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82\n",
		     J("\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
		       "\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd")),
	   "json: each byte of invalid UTF-8 becomes U+FFFD (stray, overlong, surrogate, too high, cut)");
	ok(RELAYS_TO("one\npartial", J("one") J("partial")), "json: a partial last line at EOF");
	ok(RELAYS_TO("\n", J("")), "json: an empty line");
	memset(in, '"', n);
	for (size_t off = 0; off < n; off += RELAY_LINE) {
		size_t k = n - off < RELAY_LINE ? n - off : RELAY_LINE;

		memcpy(want + elen, J(""), piece - 3);
		elen += piece - 3;
		for (size_t i = 0; i < k; i++, elen += 2)
			memcpy(want + elen, "\\\"", 2);
		memcpy(want + elen, "\"}\n", 3);
		elen += 3;
	}
	ok(relays_to(in, n, 7777, want, elen),
	   "json: a 200000-byte line of quotes is 4 objects of at most 64 KiB of text each");
	log_init(LOG_TEXT, 0);
	ok(RELAYS_TO("a\n", "[w/x] a\n"), "text again for a relay made after");
	free(in);
	free(want);
}

int main(void)
{
	test_lines();
	test_long_lines();
	test_many_lines();
	test_json();
	relay_free(NULL);
	printf("1..%d\n", ntest);
	return nfail ? 1 : 0;
}
