/* bench-tool: the measuring side of scripts/bench, built at bench time.
 *
 *   bench-tool t0 FILE PROG ARGS...   write CLOCK_MONOTONIC ns to FILE, exec PROG
 *   bench-tool stamps N FMT SECONDS   wait until the stamp files FMT % 1..N all
 *                                     exist; print "count= max_ns="
 *   bench-tool floor N PROG FMT       the least a supervisor of N services can do
 *   bench-tool stop PID SIGNAL        signal PID, print "stop_us=" once it is gone
 *   bench-tool call SOCK PATH MESSAGE CALLS CLIENTS
 *                                     GenServer calls over arbor's control socket
 *                                     from CLIENTS persistent connections
 *   bench-tool relay CALLS block|epoll
 *                                     round trips client -> relay -> echo and
 *                                     back, the relay doing nothing else
 *
 * The stamp files are those of restart_probe (../shared/bench): "pid ns". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HDR 16
#define TYPE_CALL 1
#define TYPE_REPLY 4
#define TYPE_ERROR 5
#define WARMUP_CALLS 200
#define CALL_TIMEOUT "5000"

/* The one clock the probes and the supervisors' children share. */
static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-tool: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Taken just before exec so that a start time counts from the moment the
 * supervisor's own program begins, without the shell's fork in it. */
static int cmd_t0(int argc, char **argv)
{
	FILE *f;

	if (argc < 4)
		return 2;
	f = fopen(argv[2], "we");
	if (!f)
		die(argv[2]);
	fprintf(f, "%lld\n", now_ns());
	if (fclose(f))
		die(argv[2]);
	execvp(argv[3], argv + 3);
	die(argv[3]);
	return 1;
}

static int read_stamp(const char *file, long *pid, long long *t)
{
	FILE *f = fopen(file, "re");
	int ok;

	if (!f)
		return 0;
	ok = fscanf(f, "%ld %lld", pid, t) == 2;
	fclose(f);
	return ok;
}

/* Polls slowly on purpose: the figure comes from the times written in the
 * stamps, not from when this loop notices them, so the poll costs the
 * supervisor under test as little CPU as possible. */
static int cmd_stamps(int argc, char **argv)
{
	int n, next = 1, i;
	long long deadline, max = 0, t;
	char file[4096];
	long pid;

	if (argc != 5)
		return 2;
	n = atoi(argv[2]);
	deadline = now_ns() + atoll(argv[4]) * 1000000000LL;
	while (next <= n) {
		snprintf(file, sizeof(file), argv[3], next);
		if (access(file, R_OK) == 0) {
			next++;
			continue;
		}
		if (now_ns() > deadline) {
			printf("count=%d max_ns=0\n", next - 1);
			return 1;
		}
		usleep(20000);
	}
	for (i = 1; i <= n; i++) {
		snprintf(file, sizeof(file), argv[3], i);
		if (read_stamp(file, &pid, &t) && t > max)
			max = t;
	}
	printf("count=%d max_ns=%lld\n", n, max);
	return 0;
}

/* fork+exec of one service, waiting for the exec as arbor's ready = exec
 * does, so that the start-up floor is measured with the same guarantee. */
static pid_t floor_spawn(const char *prog, const char *fmt, int i)
{
	char file[4096];
	int p[2];
	pid_t pid;
	char c;

	snprintf(file, sizeof(file), fmt, i);
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(prog, prog, "stamp", file, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (pid > 0 && read(p[0], &c, 1) < 0 && errno == EINTR)
		;
	close(p[0]);
	return pid;
}

/* Stop as a supervisor should but with no order: SIGTERM to every
 * service at once, then reap them all. */
static int floor_stop(pid_t *kids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

static void floor_respawn(pid_t *kids, int n, pid_t pid, const char *prog, const char *fmt)
{
	int i;

	for (i = 0; i < n && kids[i] != pid; i++)
		;
	if (i < n)
		kids[i] = floor_spawn(prog, fmt, i + 1);
}

/* The least a supervisor of N services can do: start them one after the
 * other, then sleep in sigwaitinfo() and fork+exec again whatever died. A
 * pid is found by a scan of the table, a few microseconds at 10,000. */
static int cmd_floor(int argc, char **argv)
{
	sigset_t set;
	siginfo_t si;
	pid_t *kids, pid;
	int n, i;

	if (argc != 5)
		return 2;
	n = atoi(argv[2]);
	kids = calloc((size_t)n, sizeof(*kids));
	if (!kids)
		die("calloc");
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < n; i++) {
		kids[i] = floor_spawn(argv[3], argv[4], i + 1);
		if (kids[i] < 0)
			die("fork");
	}
	for (;;) {
		if (sigwaitinfo(&set, &si) == SIGTERM)
			return floor_stop(kids, n);
		/* waitpid(-1) walks every child in the kernel, a cost that
		 * grows with their number; a pid is found at once. One SIGCHLD
		 * may stand for several deaths: the others are swept up by
		 * waitpid(-1) only when the pid it names was not there (one
		 * death at a time here; a real supervisor sweeps later too). */
		pid = waitpid(si.si_pid, NULL, WNOHANG);
		if (pid > 0) {
			floor_respawn(kids, n, pid, argv[3], argv[4]);
			continue;
		}
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0)
			floor_respawn(kids, n, pid, argv[3], argv[4]);
	}
}

/* Times a stop from the signal to the process being gone. The process is
 * not our child (it is the init of a pid namespace), so a pidfd tells
 * when it exits. */
static int cmd_stop(int argc, char **argv)
{
	struct pollfd p = { .events = POLLIN };
	long long t0;
	pid_t pid;

	if (argc != 4)
		return 2;
	pid = atoi(argv[2]);
	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (p.fd < 0)
		die("pidfd_open");
	t0 = now_ns();
	if (kill(pid, atoi(argv[3])))
		die("kill");
	if (poll(&p, 1, 120000) != 1) {
		fprintf(stderr, "bench-tool: %d still running after 120 s\n", pid);
		return 1;
	}
	printf("stop_us=%lld\n", (now_ns() - t0) / 1000);
	return 0;
}

/* --- GenServer calls over the control socket --- */

struct client {
	const char *sock, *req;
	size_t reqlen;
	int calls;
	long long *lat;		/* ns of each call */
	pthread_barrier_t *go;
	int err;
};

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* One CALL frame out, its REPLY in: a header and payload in one write,
 * and the answer read whole when it fits one read, as a client that cares
 * about latency would do it. */
static int call_once(int fd, const struct client *c, uint64_t id, char *ans, size_t cap)
{
	uint8_t out[HDR + 512], in[HDR + 4096];
	size_t got = 0, len = 0;
	ssize_t r;

	put_be(out, c->reqlen, 4);
	out[4] = 1;
	out[5] = TYPE_CALL;
	put_be(out + 6, 0, 2);
	put_be(out + 8, id, 8);
	memcpy(out + HDR, c->req, c->reqlen);
	if (write(fd, out, HDR + c->reqlen) != (ssize_t)(HDR + c->reqlen))
		return -1;
	while (got < HDR || got < HDR + len) {
		r = read(fd, in + got, sizeof(in) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
		if (got >= HDR)
			len = get_be(in, 4);
		if (len >= cap || HDR + len > sizeof(in))
			return -1;
	}
	memcpy(ans, in + HDR, len);
	ans[len] = '\0';
	if (in[5] != TYPE_REPLY || get_be(in + 8, 8) != id) {
		fprintf(stderr, "bench-tool: call answered %s: %s\n",
			in[5] == TYPE_ERROR ? "ERROR" : "an unexpected frame", ans);
		return -1;
	}
	return 0;
}

static int client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A persistent client: warm up, wait for the others, then time each call. */
static void *client_run(void *arg)
{
	struct client *c = arg;
	char ans[4096];
	uint64_t id = 1;
	long long t;
	int fd, i;

	fd = client_connect(c->sock);
	if (fd < 0)
		c->err = 1;
	for (i = 0; !c->err && i < WARMUP_CALLS; i++)
		c->err = call_once(fd, c, id++, ans, sizeof(ans)) != 0;
	pthread_barrier_wait(c->go);
	for (i = 0; !c->err && i < c->calls; i++) {
		t = now_ns();
		c->err = call_once(fd, c, id++, ans, sizeof(ans)) != 0;
		c->lat[i] = now_ns() - t;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

static int cmd_call(int argc, char **argv)
{
	pthread_barrier_t go;
	struct client *cl;
	pthread_t *th;
	long long *lat, t0, t1;
	char req[512];
	int calls, n, i, len, err = 0;

	if (argc != 7)
		return 2;
	calls = atoi(argv[5]);
	n = atoi(argv[6]);
	/* call\0PATH\0MESSAGE\0TIMEOUT_MS, as arborctl sends it */
	len = snprintf(req, sizeof(req), "call%c%s%c%s%c%s", 0, argv[3], 0, argv[4], 0,
		       CALL_TIMEOUT);
	if (calls < 1 || n < 1 || len < 0 || (size_t)len >= sizeof(req))
		return 2;
	cl = calloc((size_t)n, sizeof(*cl));
	th = calloc((size_t)n, sizeof(*th));
	lat = calloc((size_t)n * (size_t)calls, sizeof(*lat));
	if (!cl || !th || !lat)
		die("calloc");
	pthread_barrier_init(&go, NULL, (unsigned)n + 1);
	for (i = 0; i < n; i++) {
		cl[i] = (struct client){ .sock = argv[2], .req = req, .reqlen = (size_t)len,
					 .calls = calls, .lat = lat + (size_t)i * calls, .go = &go };
		if (pthread_create(&th[i], NULL, client_run, &cl[i]))
			die("pthread_create");
	}
	pthread_barrier_wait(&go);
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		err |= cl[i].err;
	}
	t1 = now_ns();
	if (err) {
		fprintf(stderr, "bench-tool: calls to %s failed\n", argv[3]);
		return 1;
	}
	qsort(lat, (size_t)n * calls, sizeof(*lat), cmp_ll);
	printf("calls=%d p50_us=%.1f p99_us=%.1f calls_per_s=%.0f\n", n * calls,
	       lat[(size_t)n * calls / 2] / 1e3, lat[(size_t)n * calls * 99 / 100] / 1e3,
	       (double)n * calls * 1e9 / (double)(t1 - t0));
	return 0;
}

/* --- the least a relay can do --- */

static int cmp_ll(const void *a, const void *b);

/* The middle of a call with nothing in it: a process that passes each
 * 16-byte message from a socket to a pipe and the answer back, either
 * blocking in read() or waking in epoll_wait() as an event loop does. */
static void __attribute__((noreturn)) relay_run(int sock, int to, int from, int use_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	char b[64];
	int ep, n, i;

	if (!use_epoll) {
		while (read(sock, b, sizeof(b)) > 0)
			if (write(to, b, 16) != 16 || read(from, b, sizeof(b)) <= 0 ||
			    write(sock, b, 16) != 16)
				break;
		_exit(0);
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = sock;
	epoll_ctl(ep, EPOLL_CTL_ADD, sock, &ev);
	ev.data.fd = from;
	epoll_ctl(ep, EPOLL_CTL_ADD, from, &ev);
	for (;;) {
		n = epoll_wait(ep, out, 4, -1);
		for (i = 0; i < n; i++) {
			int fd = out[i].data.fd;

			if (read(fd, b, sizeof(b)) <= 0 || write(fd == sock ? to : sock, b, 16) != 16)
				_exit(0);
		}
	}
}

/* Round trips through a relay to an echo process: the floor of a call that
 * has to pass through a supervisor, on this machine. */
static int cmd_relay(int argc, char **argv)
{
	int n, sv[2], to[2], from[2], i;
	long long *lat, t;
	char b[64] = "ping";

	if (argc != 4)
		return 2;
	n = atoi(argv[2]);
	lat = calloc((size_t)n, sizeof(*lat));
	if (n < 1 || !lat || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		die("relay");
	if (fork() == 0) {
		close(sv[0]);
		close(sv[1]);
		close(to[1]);
		close(from[0]);
		while (read(to[0], b, sizeof(b)) > 0)
			if (write(from[1], b, 16) != 16)
				break;
		_exit(0);
	}
	if (fork() == 0) {
		close(sv[0]);
		close(to[0]);
		close(from[1]);
		relay_run(sv[1], to[1], from[0], !strcmp(argv[3], "epoll"));
	}
	close(sv[1]);
	close(to[0]);
	close(to[1]);
	close(from[0]);
	close(from[1]);
	for (i = 0; i < n; i++) {
		t = now_ns();
		if (write(sv[0], b, 16) != 16 || read(sv[0], b, sizeof(b)) != 16)
			die("relay round trip");
		lat[i] = now_ns() - t;
	}
	close(sv[0]);
	while (wait(NULL) > 0)
		;
	qsort(lat, (size_t)n, sizeof(*lat), cmp_ll);
	printf("p50_us=%.1f p99_us=%.1f\n", lat[n / 2] / 1e3, lat[(size_t)n * 99 / 100] / 1e3);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int r = 2;

	if (!strcmp(cmd, "t0"))
		r = cmd_t0(argc, argv);
	else if (!strcmp(cmd, "stamps"))
		r = cmd_stamps(argc, argv);
	else if (!strcmp(cmd, "floor"))
		r = cmd_floor(argc, argv);
	else if (!strcmp(cmd, "stop"))
		r = cmd_stop(argc, argv);
	else if (!strcmp(cmd, "call"))
		r = cmd_call(argc, argv);
	else if (!strcmp(cmd, "relay"))
		r = cmd_relay(argc, argv);
	if (r == 2)
		fprintf(stderr, "usage: bench-tool t0 FILE PROG ARGS... | stamps N FMT SECONDS |"
			" floor N PROG FMT | stop PID SIGNAL |"
			" call SOCK PATH MESSAGE CALLS CLIENTS | relay CALLS block|epoll\n");
	return r;
}
