/* arborctl: the command line of arbor's control socket (arborctl(8)).
 *
 * It checks its arguments, sends the request as one CALL frame whose
 * payload is the request's words separated by NULs, waits for the one
 * REPLY or ERROR frame that answers it, prints its text and exits 0 or 1.
 * 2 means arbor could not be reached, 64 a usage error. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "ctl_path.h"
#include "frame.h"
#include "log.h"
#include "top.h"

#ifndef ARBOR_VERSION
#define ARBOR_VERSION "0.1.0"
#endif

#define EXIT_FAILED 1
#define EXIT_UNREACHABLE 2
#define EXIT_USAGE 64

#define CALL_TIMEOUT_MS 5000
#define TIMEOUT_SLACK_MS 2000	/* a call's answer may take this much longer */
#define MAX_TIMEOUT_MS (24L * 3600 * 1000)
#define MAX_ANSWER (256u * 1024 * 1024)

struct verb {
	const char *name;
	int min, max;		/* operands after the verb; max -1: the words
				 * after PATH are one MESSAGE, joined by blanks */
	const char *args;
	const char *help;
};

static const struct verb verbs[] = {
	{ "status", 0, 1, "[PATH] [--json]", "the state of PATH's subtree (default: all)" },
	{ "tree", 0, 0, "", "the tree drawn with pids, states, uptimes, restarts" },
	{ "start", 1, 1, "PATH", "start a stopped child" },
	{ "stop", 1, 1, "PATH", "stop a child and keep it stopped" },
	{ "restart", 1, 1, "PATH", "stop a child, then start it" },
	{ "kill", 1, 2, "PATH [SIGNAL]", "send SIGNAL (default KILL) to a child" },
	{ "delete", 1, 1, "PATH", "stop a pool member and remove it" },
	{ "call", 2, -1, "PATH MESSAGE [--timeout MS]", "call a GenServer worker, print its reply" },
	{ "cast", 2, -1, "PATH MESSAGE", "cast MESSAGE to a GenServer worker" },
	{ "send", 2, -1, "PATH MESSAGE", "send MESSAGE to a worker's handle_info" },
	{ "reload", 0, 0, "", "re-read the configuration, apply what changed" },
	{ "reopen", 0, 0, "", "reopen every file: output (after logrotate moved it)" },
	{ "shutdown", 0, 0, "", "stop the tree and arbor" },
	{ "ping", 0, 1, "[PATH]", "exit 0 if arbor answers and PATH's subtree (default: all) is healthy" },
	{ "events", 0, 1, "[PATH] [--json]", "follow the supervisor events as they happen" },
	{ "top", 0, 0, "", "a live full-screen view of the tree, with keys to steer it" },
};

struct opts {
	const char *socket;
	bool json;
	long timeout_ms;	/* -1: none given */
	const struct verb *verb;
	char **args;
	int nargs;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: arborctl [-S SOCKET] VERB [ARGS...]\n\nverbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-9s %-30s %s\n", verbs[i].name, verbs[i].args, verbs[i].help);
	fprintf(f, "\noptions:\n"
		"  -S SOCKET      the control socket (default: $ARBOR_SOCKET, else %s\n"
		"                 for root, /tmp/arbor-UID/arbor.sock for another uid)\n"
		"  --json         status and events as JSON\n"
		"  --timeout MS   how long to wait for the answer (call: default %d)\n"
		"  -h, --help     this help;  --version  arborctl's version\n\n"
		"exit status: 0 done, 1 the request failed, 2 arbor cannot be reached,"
		" 64 usage error\n", CTL_ROOT_PATH, CALL_TIMEOUT_MS);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
usage_error(const struct verb *v, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "arborctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (v)
		fprintf(stderr, "\nusage: arborctl %s%s%s\n", v->name, *v->args ? " " : "",
			v->args);
	else
		fprintf(stderr, "\nusage: arborctl [-S SOCKET] VERB [ARGS...] (arborctl -h lists"
			" the verbs)\n");
	exit(EXIT_USAGE);
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

/* Whole milliseconds, no sign, no unit, not zero. */
static long parse_ms(const char *s)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 1 || v > MAX_TIMEOUT_MS)
		return -1;
	return v;
}

/* `arborctl call counter add 5` sends "add 5", as if it had been quoted. */
static void join_message(struct opts *o)
{
	size_t len = 0;
	char *m;

	for (int i = 1; i < o->nargs; i++)
		len += strlen(o->args[i]) + 1;
	m = malloc(len);
	if (!m) {
		fprintf(stderr, "arborctl: %s\n", strerror(errno));
		exit(EXIT_FAILED);
	}
	m[0] = '\0';
	for (int i = 1; i < o->nargs; i++) {
		if (i > 1)
			strcat(m, " ");
		strcat(m, o->args[i]);
	}
	o->args[1] = m;		/* argv's own slot: freed at exit */
	o->nargs = 2;
}

/* What the verb's arguments and the options must be, once both are known. */
static void check_args(struct opts *o, const char *timeout)
{
	if (o->socket && !*o->socket)
		usage_error(NULL, "-S needs a path");
	if (o->nargs < o->verb->min)
		usage_error(o->verb, "%s needs %s", o->verb->name,
			    o->verb->min == 1 ? "a PATH" : "a PATH and a MESSAGE");
	if (o->verb->max >= 0 && o->nargs > o->verb->max)
		usage_error(o->verb, "%s: unexpected argument '%s'", o->verb->name,
			    o->args[o->verb->max]);
	if (o->verb->max < 0 && o->nargs > 2)
		join_message(o);
	if (o->json && strcmp(o->verb->name, "status") && strcmp(o->verb->name, "events"))
		usage_error(o->verb, "--json is for status and events only");
	if (timeout) {
		o->timeout_ms = parse_ms(timeout);
		if (o->timeout_ms < 0)
			usage_error(o->verb, "--timeout %s: expected milliseconds, 1 to %ld",
				    timeout, MAX_TIMEOUT_MS);
	}
	if (!strcmp(o->verb->name, "kill") && o->nargs > 1 && log_signum(o->args[1]) < 0)
		usage_error(o->verb, "kill: unknown signal '%s'", o->args[1]);
}

/* Options may come before or after the verb (`status --json`, `call P M
 * --timeout 100`); `--` ends them, for a MESSAGE that starts with '-'. */
static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *timeout = NULL;
	int ch;

	o->timeout_ms = -1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":S:h", longs, NULL)) != -1) {
		switch (ch) {
		case 'S':
			o->socket = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 't':
			timeout = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("arborctl %s\n", ARBOR_VERSION);
			exit(0);
		case ':':
			usage_error(NULL, "%s needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error(NULL, "unknown option '-%c'", optopt);
			usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error(NULL, "no verb given");
	o->verb = find_verb(argv[optind]);
	if (!o->verb)
		usage_error(NULL, "unknown verb '%s'", argv[optind]);
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	check_args(o, timeout);
}

/* "/", "/web/" and "web" name the same nodes as "" and "web" do. */
static char *norm_path(char *p)
{
	size_t n;

	while (*p == '/')
		p++;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		p[--n] = '\0';
	return p;
}

/* The canonical request: the verb's words joined by NULs. */
static int build_request(const struct opts *o, char **out, size_t *len)
{
	const char *w[5];
	char tmo[32];
	int n = 0;
	size_t total = 0;
	char *b, *at;

	w[n++] = o->verb->name;
	for (int i = 0; i < o->nargs; i++)
		w[n++] = i == 0 ? norm_path(o->args[0]) : o->args[i];
	if (!strcmp(o->verb->name, "status") || !strcmp(o->verb->name, "events")) {
		if (n == 1)
			w[n++] = "";
		w[n++] = o->json ? "json" : "text";
	} else if (!strcmp(o->verb->name, "call")) {
		snprintf(tmo, sizeof(tmo), "%ld", o->timeout_ms > 0 ? o->timeout_ms
			 : (long)CALL_TIMEOUT_MS);
		w[n++] = tmo;
	}
	for (int i = 0; i < n; i++)
		total += strlen(w[i]) + (i > 0);
	if (total > CTL_MAX_REQUEST) {
		fprintf(stderr, "arborctl: the request is %zu bytes, over the limit of %d\n",
			total, CTL_MAX_REQUEST);
		return -1;
	}
	b = malloc(total + 1);
	if (!b)
		return -1;
	at = b;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(w[i]) + 1;

		memcpy(at, w[i], l);	/* its NUL separates it from the next */
		at += l;
	}
	*out = b;
	*len = total;
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "arborctl: cannot connect to %s: %s\n", path,
			strerror(ENAMETOOLONG));
		exit(EXIT_UNREACHABLE);
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "arborctl: socket: %s\n", strerror(errno));
		exit(EXIT_UNREACHABLE);
	}
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		e = errno;
		if (e == EACCES || e == EPERM) {
			fprintf(stderr, "arborctl: permission denied: cannot connect to %s: %s\n",
				path, strerror(e));
			exit(EXIT_FAILED);
		}
		fprintf(stderr, "arborctl: cannot connect to %s: %s%s\n", path, strerror(e),
			e == ENOENT || e == ECONNREFUSED ?
			" (is arbor running? if it is, it could not make this socket and its log says why)" : "");
		exit(EXIT_UNREACHABLE);
	}
	return fd;
}

/* A refused peer may find the socket closed as it writes: the refusal is
 * waiting to be read all the same, so a failed send is not the end. */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void __attribute__((noreturn)) dropped(const char *path, int e)
{
	fprintf(stderr, "arborctl: %s: connection lost before the answer: %s\n", path,
		strerror(e));
	exit(EXIT_UNREACHABLE);
}

/* Reads until one whole frame is in b; deadline_ms < 0 waits for ever. */
static void read_answer(int fd, const char *path, int64_t deadline_ms, struct fbuf *b,
			struct frame *f, int send_err)
{
	for (;;) {
		size_t used;
		enum frame_status st = frame_decode(b->buf + b->off, fbuf_pending(b),
						    MAX_ANSWER, f, &used);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (st == FRAME_OK)
			return;
		if (st != FRAME_SHORT) {
			fprintf(stderr, "arborctl: %s: bad answer: %s\n", path,
				frame_strerror(st));
			exit(EXIT_UNREACHABLE);
		}
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - loop_now_ms();

			if (left <= 0 || poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left)) == 0) {
				fprintf(stderr, "arborctl: timeout\n");
				exit(EXIT_FAILED);
			}
		}
		n = fbuf_fill(b, fd, MAX_ANSWER);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			dropped(path, errno);
		if (n == 0)
			dropped(path, send_err ? send_err : ECONNRESET);
	}
}

/* A call or cast to a pool's members (POOL, a slash and a star) is
 * answered with a line per member, each "POOL/N: ...", an error when one failed: the lines are
 * the answer either way. */
static bool member_lines(const struct opts *o, const struct frame *f)
{
	const char *a = o->nargs ? o->args[0] : "";
	size_t n;

	while (*a == '/')
		a++;
	n = strlen(a);
	if (strcmp(o->verb->name, "call") && strcmp(o->verb->name, "cast"))
		return false;
	if (n < 3 || a[n - 1] != '*' || a[n - 2] != '/')
		return false;	/* the root is no pool: "*" is refused */
	n--;			/* "POOL/" */
	return f->len > n && !memcmp(f->data, a, n) && memchr(f->data, ':', f->len);
}

/* The answer's text: a reply on stdout, with a newline if it has none; an
 * error on stderr after "arborctl: ". */
static int print_answer(const struct opts *o, const struct frame *f, const char *path)
{
	bool nl = f->len == 0 || f->data[f->len - 1] != '\n';

	if (f->type == FRAME_ERROR && member_lines(o, f)) {
		fwrite(f->data, 1, f->len, stdout);
		if (nl)
			putchar('\n');
		fflush(stdout);
		return EXIT_FAILED;
	}
	if (f->type == FRAME_REPLY) {
		if (f->len) {
			fwrite(f->data, 1, f->len, stdout);
			if (nl)
				putchar('\n');
		}
		if (fflush(stdout) == EOF) {
			fprintf(stderr, "arborctl: writing the answer: %s\n", strerror(errno));
			return EXIT_FAILED;
		}
		return 0;
	}
	if (f->type == FRAME_ERROR) {
		fprintf(stderr, "arborctl: %.*s%s", (int)f->len, f->data, nl ? "\n" : "");
		return EXIT_FAILED;
	}
	fprintf(stderr, "arborctl: %s: unexpected %s frame in answer\n", path,
		frame_type_name(f->type));
	return EXIT_UNREACHABLE;
}

/* events: after the answer that says the request holds, each INFO frame
 * is one log line, printed as it comes, until the REPLY that says arbor
 * shut down (status 0) or a lost connection (2). */
static int follow_events(int fd, const char *path, struct fbuf *rb)
{
	struct frame f;

	for (;;) {
		read_answer(fd, path, -1, rb, &f, 0);
		if (f.type == FRAME_REPLY)
			return 0;
		if (f.type != FRAME_INFO) {
			fprintf(stderr, "arborctl: %s: unexpected %s frame in the events\n", path,
				frame_type_name(f.type));
			return EXIT_UNREACHABLE;
		}
		if (fwrite(f.data, 1, f.len, stdout) != f.len || fflush(stdout) == EOF) {
			fprintf(stderr, "arborctl: writing the events: %s\n", strerror(errno));
			return EXIT_FAILED;
		}
		fbuf_consume(rb, FRAME_HDR + (size_t)f.len);
	}
}

/* top's way to arbor: one connection per request, as a plain arborctl
 * would make. */
static int top_ask(void *data, const char *const *words, int n, char **out, size_t *len)
{
	const char *path = data;
	struct fbuf wb = { 0 }, rb = { 0 };
	struct frame f;
	size_t total = 0;
	char *req, *at;
	int fd, send_err = 0, rc;

	for (int i = 0; i < n; i++)
		total += strlen(words[i]) + 1;
	req = malloc(total);
	if (!req)
		return -1;
	at = req;
	for (int i = 0; i < n; i++) {
		memcpy(at, words[i], strlen(words[i]) + 1);
		at += strlen(words[i]) + 1;
	}
	rc = fbuf_put(&wb, FRAME_CALL, 1, req, (uint32_t)total - 1, 0);
	free(req);
	if (rc < 0)
		return -1;
	fd = connect_to(path);
	if (send_all(fd, wb.buf + wb.off, fbuf_pending(&wb)) < 0)
		send_err = errno;
	fbuf_free(&wb);
	read_answer(fd, path, loop_now_ms() + CALL_TIMEOUT_MS + TIMEOUT_SLACK_MS, &rb, &f,
		    send_err);
	close(fd);
	*out = malloc((size_t)f.len + 1);
	if (*out) {
		memcpy(*out, f.data, f.len);
		(*out)[f.len] = '\0';
		*len = f.len;
	}
	rc = f.type == FRAME_REPLY ? 0 : 1;
	fbuf_free(&rb);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct fbuf wb = { 0 }, rb = { 0 };
	struct frame f;
	const char *path;
	char def[CTL_PATH_LEN], *req;
	size_t len;
	int64_t deadline = -1;
	int fd, send_err = 0, code;

	parse(argc, argv, &o);
	path = ctl_path_choose(o.socket, geteuid(), def);
	if (!strcmp(o.verb->name, "top")) {
		struct top_io io = { .ask = top_ask, .data = (void *)path };

		return top_run(&io);
	}
	if (build_request(&o, &req, &len) < 0)
		return EXIT_USAGE;
	if (o.timeout_ms > 0)
		deadline = loop_now_ms() + o.timeout_ms;
	if (!strcmp(o.verb->name, "call"))
		deadline = loop_now_ms() + (o.timeout_ms > 0 ? o.timeout_ms : CALL_TIMEOUT_MS) +
			   TIMEOUT_SLACK_MS;
	if (fbuf_put(&wb, FRAME_CALL, 1, req, (uint32_t)len, 0) < 0) {
		fprintf(stderr, "arborctl: %s\n", strerror(errno));
		return EXIT_FAILED;
	}
	free(req);
	fd = connect_to(path);
	if (send_all(fd, wb.buf + wb.off, fbuf_pending(&wb)) < 0)
		send_err = errno;
	fbuf_free(&wb);
	read_answer(fd, path, deadline, &rb, &f, send_err);
	if (!strcmp(o.verb->name, "events") && f.type == FRAME_REPLY) {
		fbuf_consume(&rb, FRAME_HDR + (size_t)f.len);
		code = follow_events(fd, path, &rb);
	} else {
		code = print_answer(&o, &f, path);
	}
	fbuf_free(&rb);
	close(fd);
	return code;
}
