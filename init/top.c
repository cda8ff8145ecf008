/* top: arborctl top. See top.h.
 *
 * Every second it asks for `status "" json`, flattens the tree into rows
 * and redraws the whole screen in one write: home, each line followed by
 * "clear to end of line", then "clear below". CPU % is the growth of each
 * node's cpu_ms since the last frame, over the wall time between them. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "top.h"

#define TOP_REFRESH_MS 1000
#define TOP_MAX_NODES 4096
#define TOP_SCREEN_MAX (256 * 1024)

struct row {
	char path[256];
	char state[16];
	char health[16];	/* "" when the node has none */
	int depth;
	long long pid, restarts, uptime, rss_kb, cpu_ms, calls;	/* -1: none */
	double cpu_pct;		/* -1: not known yet */
};

struct top {
	const struct top_io *io;
	struct row *rows, *prev;
	size_t n, nprev;
	int64_t at_ms, prev_ms;	/* when rows and prev were read */
	size_t sel, first;	/* the selected row, the first one shown */
	char msg[512];		/* what the last key did */
	bool acted;		/* a key asked arbor for something */
	unsigned short cols, lines;
};

/* --- the terminal --- */

static struct termios saved;
static bool raw_on;
static volatile sig_atomic_t quit_sig, resized;

static void out(const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(STDOUT_FILENO, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

/* Back to the screen and the modes top found, from exit() too. */
static void term_restore(void)
{
	static const char leave[] = "\033[0m\033[?25h\033[?1049l";

	if (!raw_on)
		return;
	raw_on = false;
	out(leave, sizeof(leave) - 1);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
}

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else
		quit_sig = sig;
}

/* No echo, a key at a time, signals (^C) still signals; the alternate
 * screen, the cursor hidden. */
static int term_raw(void)
{
	static const char enter[] = "\033[?1049h\033[?25l\033[H\033[2J";
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved) < 0)
		return -1;
	t = saved;
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
		return -1;
	raw_on = true;
	atexit(term_restore);
	/* a message on the way out (a lost socket) is written after the
	 * restore: stderr is flushed after the atexit handlers have run */
	setvbuf(stderr, NULL, _IOFBF, BUFSIZ);
	out(enter, sizeof(enter) - 1);
	return 0;
}

static void term_size(struct top *t)
{
	struct winsize ws;

	t->cols = 80;
	t->lines = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) {
		t->cols = ws.ws_col;
		t->lines = ws.ws_row;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the status tree, from JSON --- */

struct json {
	const char *p;
	bool bad;
};

static void ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

static bool eat(struct json *j, char c)
{
	ws(j);
	if (*j->p != c)
		return false;
	j->p++;
	return true;
}

/* A string into b (cut to size); escapes other than \" and \\ read as '?'. */
static void jstr(struct json *j, char *b, size_t size)
{
	size_t n = 0;

	if (!eat(j, '"')) {
		j->bad = true;
		return;
	}
	while (*j->p && *j->p != '"') {
		char c = *j->p++;

		if (c == '\\') {
			c = *j->p ? *j->p++ : '\0';
			if (c == 'u') {
				for (int i = 0; i < 4 && *j->p; i++)
					j->p++;
				c = '?';
			} else if (c != '"' && c != '\\' && c != '/') {
				c = '?';
			}
		}
		if (n + 1 < size)
			b[n++] = c;
	}
	if (size)
		b[n] = '\0';
	if (!eat(j, '"'))
		j->bad = true;
}

/* A number, or null (-1); *text gets a string's value if it is one. */
static long long jnum(struct json *j, char *text, size_t size)
{
	char *end;
	long long v;

	ws(j);
	if (*j->p == '"') {
		jstr(j, text ? text : (char[2]){ 0 }, text ? size : 2);
		return -1;
	}
	if (!strncmp(j->p, "null", 4)) {
		j->p += 4;
		if (text && size)
			text[0] = '\0';
		return -1;
	}
	if (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) {
		j->p += *j->p == 't' ? 4 : 5;
		return -1;
	}
	v = strtoll(j->p, &end, 10);
	if (end == j->p)
		j->bad = true;
	j->p = end;
	if (*j->p == '.' || *j->p == 'e' || *j->p == 'E') {
		strtod(j->p, &end);
		j->p = end;
	}
	return v;
}

static void jskip(struct json *j);

static void jskip_until(struct json *j, char close)
{
	char key[2];

	if (eat(j, close))
		return;
	do {
		if (close == '}') {
			jstr(j, key, sizeof(key));
			if (!eat(j, ':'))
				j->bad = true;
		}
		jskip(j);
	} while (!j->bad && eat(j, ','));
	if (!eat(j, close))
		j->bad = true;
}

static void jskip(struct json *j)
{
	ws(j);
	if (eat(j, '{'))
		jskip_until(j, '}');
	else if (eat(j, '['))
		jskip_until(j, ']');
	else
		jnum(j, NULL, 0);
}

static void jnode(struct json *j, struct top *t, int depth);

static void jchildren(struct json *j, struct top *t, int depth)
{
	if (!eat(j, '[')) {
		j->bad = true;
		return;
	}
	if (eat(j, ']'))
		return;
	do
		jnode(j, t, depth);
	while (!j->bad && eat(j, ','));
	if (!eat(j, ']'))
		j->bad = true;
}

/* One node: a row, then its children's rows (the tree in order). */
static void jnode(struct json *j, struct top *t, int depth)
{
	struct row r = { .depth = depth, .pid = -1, .restarts = -1, .uptime = -1,
			 .rss_kb = -1, .cpu_ms = -1, .calls = -1, .cpu_pct = -1 };
	size_t at = t->n;
	char key[32];

	if (!eat(j, '{') || t->n >= TOP_MAX_NODES) {
		j->bad = true;
		return;
	}
	t->rows[t->n++] = r;
	if (eat(j, '}'))
		return;
	do {
		struct row *w = &t->rows[at];

		jstr(j, key, sizeof(key));
		if (j->bad || !eat(j, ':')) {
			j->bad = true;
			return;
		}
		if (!strcmp(key, "children"))
			jchildren(j, t, depth + 1);
		else if (!strcmp(key, "path"))
			jstr(j, w->path, sizeof(w->path));
		else if (!strcmp(key, "state"))
			jstr(j, w->state, sizeof(w->state));
		else if (!strcmp(key, "health"))
			jnum(j, w->health, sizeof(w->health));
		else if (!strcmp(key, "pid"))
			w->pid = jnum(j, NULL, 0);
		else if (!strcmp(key, "restarts"))
			w->restarts = jnum(j, NULL, 0);
		else if (!strcmp(key, "uptime"))
			w->uptime = jnum(j, NULL, 0);
		else if (!strcmp(key, "rss_kb"))
			w->rss_kb = jnum(j, NULL, 0);
		else if (!strcmp(key, "cpu_ms"))
			w->cpu_ms = jnum(j, NULL, 0);
		else if (!strcmp(key, "calls_in_flight"))
			w->calls = jnum(j, NULL, 0);
		else
			jskip(j);
	} while (!j->bad && eat(j, ','));
	if (!eat(j, '}'))
		j->bad = true;
}

/* CPU % of each row whose process was there last time too. */
static void cpu_pct(struct top *t)
{
	int64_t dt = t->at_ms - t->prev_ms;

	for (size_t i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i];

		for (size_t k = 0; dt > 0 && r->cpu_ms >= 0 && k < t->nprev; k++) {
			const struct row *p = &t->prev[k];

			if (p->pid == r->pid && p->cpu_ms >= 0 && !strcmp(p->path, r->path)) {
				r->cpu_pct = 100.0 * (double)(r->cpu_ms - p->cpu_ms) / (double)dt;
				break;
			}
		}
	}
}

/* A fresh view of the tree; -1 with t->msg saying why. */
static int refresh(struct top *t)
{
	static const char *const req[] = { "status", "", "json" };
	struct row *swap;
	struct json j;
	char *text = NULL;
	size_t len = 0;
	size_t keep = t->n;

	if (t->io->ask(t->io->data, req, 3, &text, &len) != 0) {
		snprintf(t->msg, sizeof(t->msg), "status: %.*s", (int)(len < 400 ? len : 400),
			 text ? text : "");
		free(text);
		return -1;
	}
	swap = t->prev;
	t->prev = t->rows;
	t->rows = swap;
	t->nprev = keep;
	t->prev_ms = t->at_ms;
	t->at_ms = now_ms();
	t->n = 0;
	j = (struct json){ .p = text };
	jnode(&j, t, 0);
	free(text);
	if (j.bad) {
		snprintf(t->msg, sizeof(t->msg), "status: an answer top cannot read");
		return -1;
	}
	cpu_pct(t);
	if (t->sel >= t->n)
		t->sel = t->n ? t->n - 1 : 0;
	return 0;
}

/* --- drawing --- */

struct screen {
	char *b;
	size_t len;
	unsigned short cols;
};

/* One line, cut to the screen's width, cleared to its end. */
static void line(struct screen *s, bool inverse, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void line(struct screen *s, bool inverse, const char *fmt, ...)
{
	char l[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l, sizeof(l), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(l))
		n = sizeof(l) - 1;
	if (n > s->cols)
		n = s->cols;
	if (s->len + (size_t)n + 32 > TOP_SCREEN_MAX)
		return;
	s->len += (size_t)snprintf(s->b + s->len, TOP_SCREEN_MAX - s->len, "%s%.*s\033[K%s\r\n",
				   inverse ? "\033[7m" : "", n, l, inverse ? "\033[0m" : "");
}

static void human_time(char *b, size_t size, long long secs)
{
	if (secs < 0)
		snprintf(b, size, "-");
	else if (secs < 60)
		snprintf(b, size, "%llds", secs);
	else if (secs < 3600)
		snprintf(b, size, "%lldm%02llds", secs / 60, secs % 60);
	else if (secs < 86400)
		snprintf(b, size, "%lldh%02lldm", secs / 3600, secs / 60 % 60);
	else
		snprintf(b, size, "%lldd%02lldh", secs / 86400, secs / 3600 % 24);
}

static void row_line(struct screen *s, const struct row *r, bool sel)
{
	char name[300], pid[16] = "-", up[16], cpu[16] = "-", rss[24] = "-", calls[16] = "-";
	const char *base = strrchr(r->path, '/');

	snprintf(name, sizeof(name), "%*s%s", 2 * r->depth, "",
		 !*r->path ? "/" : base ? base + 1 : r->path);
	if (r->pid > 0)
		snprintf(pid, sizeof(pid), "%lld", r->pid);
	human_time(up, sizeof(up), r->pid > 0 && !strcmp(r->state, "running") ? r->uptime : -1);
	if (r->cpu_pct >= 0)
		snprintf(cpu, sizeof(cpu), "%.1f", r->cpu_pct);
	if (r->rss_kb >= 0)
		snprintf(rss, sizeof(rss), r->rss_kb >= 10240 ? "%lldM" : "%lldK",
			 r->rss_kb >= 10240 ? r->rss_kb / 1024 : r->rss_kb);
	if (r->calls >= 0)
		snprintf(calls, sizeof(calls), "%lld", r->calls);
	line(s, sel, "%c %-24s %-10s %7s %8s %8lld %6s %7s %-8s %5s", sel ? '>' : ' ', name,
	     r->state, pid, up, r->restarts < 0 ? 0 : r->restarts, cpu, rss,
	     *r->health ? r->health : "-", calls);
}

/* The rows that fit between the header and the footer, the selected one
 * among them. */
static void draw(struct top *t)
{
	struct screen s = { .b = malloc(TOP_SCREEN_MAX), .cols = t->cols };
	size_t body = t->lines > 5 ? t->lines - 5u : 1;
	char clock[16];
	time_t now = time(NULL);
	struct tm tm;

	if (!s.b)
		return;
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (t->sel < t->first)
		t->first = t->sel;
	if (t->sel >= t->first + body)
		t->first = t->sel - body + 1;
	s.len = (size_t)snprintf(s.b, TOP_SCREEN_MAX, "\033[H");
	line(&s, false, "arbor top: %zu nodes, %s (every %ds)", t->n, clock,
	     TOP_REFRESH_MS / 1000);
	line(&s, true, "  %-24s %-10s %7s %8s %8s %6s %7s %-8s %5s", "NODE", "STATE", "PID",
	     "UPTIME", "RESTARTS", "CPU%", "RSS", "HEALTH", "CALLS");
	for (size_t i = t->first; i < t->n && i < t->first + body; i++)
		row_line(&s, &t->rows[i], i == t->sel);
	s.len += (size_t)snprintf(s.b + s.len, TOP_SCREEN_MAX - s.len, "\033[J\033[%u;1H",
				  (unsigned)(t->lines > 1 ? t->lines - 1 : 1));
	line(&s, false, "%s", t->msg);
	line(&s, true, "j/k, arrows: select  r: restart  s: stop  S, g: start  K: kill  q: quit");
	if (s.len >= 2)
		s.len -= 2;	/* no newline after the last line: no scroll */
	out(s.b, s.len);
	free(s.b);
}

/* --- keys --- */

/* restart, stop, start or kill of the selected node; what it answered
 * goes in the footer. */
static void act(struct top *t, const char *verb)
{
	const char *w[2] = { verb, t->n ? t->rows[t->sel].path : "" };
	const char *shown = *w[1] ? w[1] : "/";
	char *text = NULL;
	size_t len = 0;
	int rc = t->io->ask(t->io->data, w, 2, &text, &len);

	t->acted = true;

	if (len && text[len - 1] == '\n')
		len--;
	if (!rc && !len)
		snprintf(t->msg, sizeof(t->msg), "%s %s: ok", verb, shown);
	else
		snprintf(t->msg, sizeof(t->msg), "%s %s: %.*s", verb, shown,
			 (int)(len < 400 ? len : 400), text ? text : "");
	free(text);
}

/* One key (or an arrow's escape sequence) from b[0..n); how many bytes
 * it took. false in *go for q. */
static size_t key(struct top *t, const char *b, size_t n, bool *go)
{
	if (n >= 3 && b[0] == '\033' && (b[1] == '[' || b[1] == 'O')) {
		if (b[2] == 'A' && t->sel > 0)
			t->sel--;
		else if (b[2] == 'B' && t->sel + 1 < t->n)
			t->sel++;
		return 3;
	}
	switch (b[0]) {
	case 'k':
		if (t->sel > 0)
			t->sel--;
		break;
	case 'j':
		if (t->sel + 1 < t->n)
			t->sel++;
		break;
	case 'r':
		act(t, "restart");
		break;
	case 's':
		act(t, "stop");
		break;
	case 'S':
	case 'g':
		act(t, "start");
		break;
	case 'K':
		act(t, "kill");
		break;
	case 'q':
		*go = false;
		break;
	}
	return 1;
}

/* Keys read; false when top should end. */
static bool keys(struct top *t)
{
	char b[64];
	ssize_t n = read(STDIN_FILENO, b, sizeof(b));
	bool go = true;

	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
		return false;	/* the terminal is gone */
	for (size_t at = 0; n > 0 && at < (size_t)n && go;)
		at += key(t, b + at, (size_t)n - at, &go);
	return go;
}

static void catch_signals(sigset_t *old)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, old);	/* delivered only in ppoll */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
}

int top_run(const struct top_io *io)
{
	struct top t = { .io = io };
	sigset_t old;
	int64_t next = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "arborctl: top needs a terminal: %s is not one (for a script, "
			"use status --json)\n", isatty(STDIN_FILENO) ? "stdout" : "stdin");
		return 2;
	}
	t.rows = calloc(TOP_MAX_NODES, sizeof(*t.rows));
	t.prev = calloc(TOP_MAX_NODES, sizeof(*t.prev));
	if (!t.rows || !t.prev || term_raw() < 0) {
		fprintf(stderr, "arborctl: top: %s\n", strerror(errno));
		free(t.rows);
		free(t.prev);
		return 1;
	}
	catch_signals(&old);
	term_size(&t);
	while (!quit_sig) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int64_t left = next - now_ms();
		struct timespec ts;

		if (left <= 0) {
			if (refresh(&t) == 0 && !strncmp(t.msg, "status:", 7))
				t.msg[0] = '\0';
			draw(&t);
			next = now_ms() + TOP_REFRESH_MS;
			continue;
		}
		ts = (struct timespec){ left / 1000, left % 1000 * 1000000 };
		if (ppoll(&p, 1, &ts, &old) > 0) {
			t.acted = false;
			if (!keys(&t))
				break;
			if (t.acted)
				next = 0;	/* show what the key did at once */
			else
				draw(&t);
		}
		if (resized) {
			resized = 0;
			term_size(&t);
			draw(&t);
		}
	}
	term_restore();
	free(t.rows);
	free(t.prev);
	return 0;
}
