/* Unit tests of the frame codec (workers/frame.c), as TAP. */
#define _GNU_SOURCE
#include "frame.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static int tests, failures;

static void __attribute__((format(printf, 2, 3))) ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		failures++;
}

static void pipe_or_die(int p[2], int flags)
{
	if (pipe2(p, O_CLOEXEC | flags) < 0) {
		perror("pipe2");
		exit(2);
	}
}

static void test_header_layout(void)
{
	static const uint8_t want[FRAME_HDR] = {
		0x00, 0x00, 0x01, 0x02,	/* len 258 */
		0x01,			/* version */
		0x04,			/* REPLY */
		0x00, 0x00,		/* flags */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	};
	uint8_t hdr[FRAME_HDR];

	frame_header(hdr, FRAME_REPLY, 0x0102030405060708ULL, 258);
	ok(memcmp(hdr, want, FRAME_HDR) == 0, "header is big-endian, byte by byte");
}

static void test_round_trip(void)
{
	static const char *const payloads[] = { "", "x", "increment",
						"web/api\0get k" };
	static const size_t lens[] = { 0, 1, 9, 13 };
	struct fbuf b = { 0 };
	struct frame f;
	size_t used, i;
	uint8_t t;
	int good = 1;

	for (t = FRAME_CALL; t <= FRAME_STOP; t++) {
		for (i = 0; i < 4; i++) {
			uint64_t id = t == FRAME_CALL ? UINT64_MAX - i : i;

			if (fbuf_put(&b, t, id, payloads[i], lens[i], 0) < 0 ||
			    frame_decode(b.buf + b.off, fbuf_pending(&b), 1024, &f,
					 &used) != FRAME_OK ||
			    used != FRAME_HDR + lens[i] || f.type != t ||
			    f.id != id || f.len != lens[i] ||
			    f.version != FRAME_VERSION || f.flags != 0 ||
			    memcmp(f.data, payloads[i], lens[i]) != 0)
				good = 0;
			fbuf_consume(&b, used);
		}
	}
	ok(good, "every type and payload survives encode and decode");
	ok(fbuf_pending(&b) == 0, "consumed buffer is empty");
	fbuf_free(&b);
}

static void test_max_payload(void)
{
	struct fbuf b = { 0 };
	char *big = calloc(1, 4096);
	struct frame f;
	size_t used;

	fbuf_put(&b, FRAME_CAST, 0, big, 4096, 0);
	ok(frame_decode(b.buf, b.len, 4096, &f, &used) == FRAME_OK &&
		   f.len == 4096 && used == FRAME_HDR + 4096,
	   "a payload of exactly max is accepted");
	ok(frame_decode(b.buf, b.len, 4095, &f, &used) == FRAME_ETOOBIG,
	   "a payload of max + 1 is FRAME_ETOOBIG");
	ok(frame_decode(b.buf, FRAME_HDR, 4095, &f, &used) == FRAME_ETOOBIG,
	   "oversize is refused from the header alone");
	fbuf_free(&b);
	free(big);
}

static void test_short(void)
{
	uint8_t buf[FRAME_HDR + 5];
	struct frame f;
	size_t used, n;
	int good = 1;

	frame_header(buf, FRAME_CALL, 7, 5);
	memcpy(buf + FRAME_HDR, "hello", 5);
	for (n = 0; n < sizeof(buf); n++)
		if (frame_decode(buf, n, 100, &f, &used) != FRAME_SHORT)
			good = 0;
	ok(good, "every proper prefix of a frame is FRAME_SHORT");
}

static void test_errors(void)
{
	uint8_t hdr[FRAME_HDR];
	char msg[128];
	struct frame f;
	size_t used;

	frame_header(hdr, FRAME_CALL, 1, 0);
	hdr[4] = 2;
	ok(frame_decode(hdr, FRAME_HDR, 100, &f, &used) == FRAME_EBADVER,
	   "version 2 is FRAME_EBADVER");
	hdr[4] = 0;
	hdr[5] = 0;
	ok(frame_decode(hdr, FRAME_HDR, 100, &f, &used) == FRAME_EBADVER,
	   "the version is checked first");
	frame_describe(FRAME_EBADVER, hdr, 100, msg, sizeof(msg));
	ok(strcmp(msg, "unsupported protocol version 0 (expected 1)") == 0,
	   "describe bad version: %s", msg);

	frame_header(hdr, 0, 1, 0);
	ok(frame_decode(hdr, FRAME_HDR, 100, &f, &used) == FRAME_EBADTYPE,
	   "type 0 is FRAME_EBADTYPE");
	frame_header(hdr, FRAME_STOP + 1, 1, 0);
	ok(frame_decode(hdr, FRAME_HDR, 100, &f, &used) == FRAME_EBADTYPE,
	   "type 10 is FRAME_EBADTYPE");
	frame_header(hdr, 42, 1, 0);
	frame_describe(FRAME_EBADTYPE, hdr, 100, msg, sizeof(msg));
	ok(strcmp(msg, "unknown frame type 42") == 0, "describe bad type: %s",
	   msg);

	frame_header(hdr, FRAME_CAST, 0, 0);
	hdr[7] = 1;
	ok(frame_decode(hdr, FRAME_HDR, 100, &f, &used) == FRAME_EBADFLAGS,
	   "a reserved flag bit is FRAME_EBADFLAGS");
	frame_describe(FRAME_EBADFLAGS, hdr, 100, msg, sizeof(msg));
	ok(strcmp(msg, "reserved flags 0x0001 set") == 0,
	   "describe flags: %s", msg);

	frame_header(hdr, FRAME_CAST, 0, 2000000);
	ok(frame_decode(hdr, FRAME_HDR, FRAME_MAX_DEFAULT, &f, &used) ==
		   FRAME_ETOOBIG, "2000000 bytes over the default max");
	frame_describe(FRAME_ETOOBIG, hdr, FRAME_MAX_DEFAULT, msg, sizeof(msg));
	ok(strcmp(msg, "frame of 2000000 bytes over max_message 1048576") == 0,
	   "describe oversize: %s", msg);

	ok(strcmp(frame_strerror(FRAME_EBADVER), frame_strerror(FRAME_EBADTYPE)) &&
		   strcmp(frame_strerror(FRAME_ETOOBIG), frame_strerror(FRAME_EBADFLAGS)),
	   "each status has its own message");
	ok(strcmp(frame_type_name(FRAME_CALL), "CALL") == 0 &&
		   strcmp(frame_type_name(FRAME_STOP), "STOP") == 0 &&
		   strcmp(frame_type_name(0), "UNKNOWN") == 0 &&
		   strcmp(frame_type_name(200), "UNKNOWN") == 0,
	   "type names");
}

static void test_fbuf_limit(void)
{
	struct fbuf b = { 0 };
	char data[100] = { 0 };

	ok(fbuf_put(&b, FRAME_CAST, 0, data, 84, 200) == 0, "100 bytes under a 200 limit");
	ok(fbuf_put(&b, FRAME_CAST, 0, data, 84, 200) == 0, "200 bytes at a 200 limit");
	errno = 0;
	ok(fbuf_put(&b, FRAME_CAST, 0, data, 0, 200) == -1 && errno == ENOBUFS,
	   "one more frame is ENOBUFS");
	ok(fbuf_pending(&b) == 200, "a refused frame leaves nothing behind");
	fbuf_consume(&b, 100);
	ok(fbuf_put(&b, FRAME_CAST, 0, data, 84, 200) == 0,
	   "room again once the front is consumed");
	ok(fbuf_put(&b, FRAME_CAST, 0, data, 100, 0) == 0, "limit 0 is no limit");
	fbuf_free(&b);
}

static void test_putv(void)
{
	struct iovec iov[3] = {
		{ "web/api", 8 }, { "get ", 4 }, { "k", 1 },
	};
	struct fbuf b = { 0 };
	struct frame f;
	size_t used;

	fbuf_putv(&b, FRAME_CALL, 9, iov, 3, 0);
	ok(frame_decode(b.buf, b.len, 100, &f, &used) == FRAME_OK && f.len == 13 &&
		   memcmp(f.data, "web/api\0get k", 13) == 0,
	   "fbuf_putv gathers PATH NUL MESSAGE");
	fbuf_free(&b);
}

/* Frames dribbled one byte at a time come out whole, and only once their
 * last byte arrived. */
static void test_byte_by_byte(void)
{
	struct fbuf out = { 0 }, in = { 0 };
	struct frame f;
	size_t used, i, early = 0;
	int p[2], got = 0, good = 1;

	pipe_or_die(p, O_NONBLOCK);
	fbuf_put(&out, FRAME_CALL, 1, "increment", 9, 0);
	fbuf_put(&out, FRAME_CAST, 0, "", 0, 0);
	fbuf_put(&out, FRAME_REPLY, 3, "42", 2, 0);
	for (i = 0; i < out.len; i++) {
		if (write(p[1], out.buf + i, 1) != 1 || fbuf_fill(&in, p[0], 100) != 1)
			good = 0;
		while (frame_decode(in.buf + in.off, fbuf_pending(&in), 100, &f,
				    &used) == FRAME_OK) {
			got++;
			if (i + 1 != (got == 1 ? 25 : got == 2 ? 41 : 59))
				early++;
			if ((got == 1 && (f.type != FRAME_CALL || f.len != 9)) ||
			    (got == 3 && memcmp(f.data, "42", 2) != 0))
				good = 0;
			fbuf_consume(&in, used);
		}
	}
	ok(good && got == 3 && early == 0,
	   "three frames fed byte by byte decode exactly when complete");
	errno = 0;
	ok(fbuf_fill(&in, p[0], 100) == -1 && errno == EAGAIN,
	   "fbuf_fill on an empty pipe is EAGAIN");
	close(p[1]);
	ok(fbuf_fill(&in, p[0], 100) == 0, "fbuf_fill at EOF is 0");
	close(p[0]);
	fbuf_free(&out);
	fbuf_free(&in);
}

/* fbuf_fill never holds more than one largest frame of undecoded bytes. */
static void test_fill_bound(void)
{
	struct fbuf in = { 0 };
	char junk[200] = { 0 };
	int p[2];
	ssize_t n, total = 0;

	pipe_or_die(p, O_NONBLOCK);
	if (write(p[1], junk, sizeof(junk)) != sizeof(junk))
		exit(2);
	while ((n = fbuf_fill(&in, p[0], 50)) > 0)
		total += n;
	ok(total == FRAME_HDR + 50 && n == -1 && errno == ENOBUFS,
	   "fbuf_fill stops at FRAME_HDR + max pending (read %zd)", total);
	close(p[0]);
	close(p[1]);
	fbuf_free(&in);
}

/* A reader that stops reading fills the pipe: fbuf_flush returns 0 with
 * the rest pending instead of blocking, and finishes later in order. */
static void test_flush_full_pipe(void)
{
	size_t big = 256 * 1024, got = 0, used;
	struct fbuf out = { 0 }, in = { 0 };
	char *data = malloc(big);
	struct frame f;
	int p[2], r, rounds = 0, good = 1;

	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 7);
	pipe_or_die(p, O_NONBLOCK);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	fbuf_put(&out, FRAME_REPLY, 5, data, (uint32_t)big, 0);
	fbuf_put(&out, FRAME_CAST, 0, "after", 5, 0);
	r = fbuf_flush(&out, p[1]);
	ok(r == 0 && fbuf_pending(&out) > 0 && fbuf_pending(&out) < big,
	   "flush to a full pipe returns 0 with the rest pending");
	while ((r == 0 || got < 2) && rounds++ < 100000) {
		ssize_t n = fbuf_fill(&in, p[0], big);

		if (n < 0 && errno != EAGAIN)
			good = 0;
		while (frame_decode(in.buf + in.off, fbuf_pending(&in), big, &f,
				    &used) == FRAME_OK) {
			if (got == 0 && (f.len != big || memcmp(f.data, data, big) != 0))
				good = 0;
			if (got == 1 && (f.len != 5 || memcmp(f.data, "after", 5) != 0))
				good = 0;
			got++;
			fbuf_consume(&in, used);
		}
		if (r == 0)
			r = fbuf_flush(&out, p[1]);
	}
	ok(r == 1 && fbuf_pending(&out) == 0, "flush finishes once drained");
	ok(good && got == 2, "both frames arrive intact and in order");
	close(p[0]);
	errno = 0;
	fbuf_put(&out, FRAME_CAST, 0, "x", 1, 0);
	ok(fbuf_flush(&out, p[1]) == -1 && errno == EPIPE,
	   "flush with the reader gone is EPIPE");
	close(p[1]);
	fbuf_free(&out);
	fbuf_free(&in);
	free(data);
}

static int alarm_fd = -1;

/* Only async-signal-safe work: one write. */
static void on_alarm(int sig)
{
	int saved = errno;

	if (write(alarm_fd, "g", 1) < 0) {
		/* nothing to do in a handler */
	}
	errno = saved;
}

/* A signal without SA_RESTART interrupts a blocked read or write; both
 * must retry rather than report EINTR. */
static void test_eintr(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { 0, 20000 } };
	struct fbuf in = { 0 }, out = { 0 };
	char junk[65536] = { 0 };
	int p[2], go[2], st;
	pid_t pid;
	ssize_t n;

	sigaction(SIGALRM, &sa, NULL);

	/* read: blocked on an empty pipe until the handler writes into it */
	pipe_or_die(p, 0);
	alarm_fd = p[1];
	setitimer(ITIMER_REAL, &it, NULL);
	n = fbuf_fill(&in, p[0], 100);
	ok(n == 1 && in.buf[0] == 'g', "fbuf_fill retries EINTR");
	close(p[0]);
	close(p[1]);

	/* write: blocked on a full pipe until a child drains it */
	pipe_or_die(p, O_NONBLOCK);
	pipe_or_die(go, 0);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	pid = fork();
	if (pid == 0) {
		char c;

		close(p[1]);
		fcntl(p[0], F_SETFL, 0);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		while (read(p[0], junk, sizeof(junk)) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	alarm_fd = go[1];
	fbuf_put(&out, FRAME_CAST, 0, "x", 1, 0);
	setitimer(ITIMER_REAL, &it, NULL);
	ok(fbuf_flush(&out, p[1]) == 1, "fbuf_flush retries EINTR");
	close(p[1]);
	close(go[0]);
	close(go[1]);
	waitpid(pid, &st, 0);
	fbuf_free(&in);
	fbuf_free(&out);
}

/* An EVENT carries a node's health up: its check's state, its failures
 * in a row (at most 255 in the byte) and whether it is being killed. */
static void test_event_health(void)
{
	struct frame_event e = { .pid = 42, .state = 3, .restarts = 7, .since_ms = 1234,
				 .health = 3, .health_failures = 200, .watchdog = true,
				 .path = "app/web", .path_len = 7 }, d;
	uint8_t b[FRAME_EVENT_FIXED + 16];
	size_t n = frame_event_encode(&e, b, sizeof(b));

	ok(n == FRAME_EVENT_FIXED + 7, "event: encoded in %zu bytes", n);
	ok(frame_event_decode(b, n, &d) == 0, "event: decodes");
	ok(d.health == 3 && d.health_failures == 200 && d.watchdog,
	   "event: health %u, failures %u, watchdog %d", d.health, d.health_failures,
	   d.watchdog);
	ok(d.pid == 42 && d.restarts == 7 && d.since_ms == 1234 && d.path_len == 7 &&
	   !memcmp(d.path, "app/web", 7), "event: the rest as before");
	e.health = 0;
	e.watchdog = false;
	e.health_failures = 0;
	n = frame_event_encode(&e, b, sizeof(b));
	ok(frame_event_decode(b, n, &d) == 0 && d.health == 0 && !d.watchdog &&
	   d.health_failures == 0, "event: no check, no watchdog");
}

/* The reason a node went down travels up with its state, and a reason of
 * an unknown kind is refused. */
static void test_event_down(void)
{
	struct frame_event e = { .pid = 7, .state = 5, .restarts = 2, .since_ms = 99,
				 .down = FRAME_DOWN_SIGNAL | 9, .path = "web/db", .path_len = 6 };
	struct frame_event d;
	uint8_t b[64];
	size_t n = frame_event_encode(&e, b, sizeof(b));

	ok(n == FRAME_EVENT_FIXED + 6, "EVENT encodes");
	ok(frame_event_decode(b, n, &d) == 0 && d.down == (FRAME_DOWN_SIGNAL | 9) &&
	   d.pid == 7 && d.restarts == 2 && d.path_len == 6, "EVENT's down survives the trip");
	b[20] = 0x04;
	ok(frame_event_decode(b, n, &d) < 0, "EVENT with an unknown down kind refused");
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_header_layout();
	test_round_trip();
	test_max_payload();
	test_short();
	test_errors();
	test_fbuf_limit();
	test_putv();
	test_byte_by_byte();
	test_fill_bound();
	test_flush_full_pipe();
	test_eintr();
	test_event_health();
	test_event_down();
	printf("1..%d\n", tests);
	return failures ? 1 : 0;
}
