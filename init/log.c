/* log: one write(2) per line, so lines from several supervisor processes
 * sharing stderr never interleave. */
#include <ctype.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "log.h"

static enum conf_logfmt fmt_ = LOG_TEXT;
static int verbose_;
static bool quiet_;

/* `arbor -- CMD` is as quiet as tini: events only with -v. */
void log_quiet(bool q)
{
	quiet_ = q;
}

void log_init(enum conf_logfmt fmt, int verbose)
{
	fmt_ = fmt;
	verbose_ = verbose;
}

bool log_verbose(void)
{
	return verbose_ > 0;
}

static const struct {
	int sig;
	const char *name;
} sigs[] = {
	{ SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" },
	{ SIGILL, "SIGILL" }, { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" },
	{ SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" }, { SIGKILL, "SIGKILL" },
	{ SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
	{ SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
	{ SIGSTKFLT, "SIGSTKFLT" }, { SIGCHLD, "SIGCHLD" }, { SIGCONT, "SIGCONT" },
	{ SIGSTOP, "SIGSTOP" }, { SIGTSTP, "SIGTSTP" }, { SIGTTIN, "SIGTTIN" },
	{ SIGTTOU, "SIGTTOU" }, { SIGURG, "SIGURG" }, { SIGXCPU, "SIGXCPU" },
	{ SIGXFSZ, "SIGXFSZ" }, { SIGVTALRM, "SIGVTALRM" }, { SIGPROF, "SIGPROF" },
	{ SIGWINCH, "SIGWINCH" }, { SIGIO, "SIGIO" }, { SIGPWR, "SIGPWR" },
	{ SIGSYS, "SIGSYS" },
};

const char *log_signame(int sig)
{
	static char buf[16];

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigs[i].sig == sig)
			return sigs[i].name;
	snprintf(buf, sizeof(buf), "SIG%d", sig);
	return buf;
}

int log_signum(const char *name)
{
	if (isdigit((unsigned char)*name)) {
		char *end;
		long n = strtol(name, &end, 10);

		return (*end || n < 1 || n >= NSIG) ? -1 : (int)n;
	}
	if (!strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcasecmp(sigs[i].name + 3, name))
			return sigs[i].sig;
	return -1;
}

const char *log_wstatus(int ws)
{
	static char buf[48];

	if (WIFSIGNALED(ws))
		snprintf(buf, sizeof(buf), "signal=%s%s", log_signame(WTERMSIG(ws)),
			 WCOREDUMP(ws) ? " core=yes" : "");
	else
		snprintf(buf, sizeof(buf), "status=%d", WEXITSTATUS(ws));
	return buf;
}

static int nb_fd[3] = { -1, -1, -1 };

/* A pipe that nobody reads must never block arbor: writes to stdout and
 * stderr go through a non-blocking file description of their own (reopened
 * through /proc, so the workers sharing the pipe keep a blocking one), and
 * what does not fit is dropped. Files and terminals are used as they are. */
int log_out_fd(int fd)
{
	struct stat st;
	char p[32];

	if (fd < 1 || fd > 2)
		return fd;
	if (nb_fd[fd] >= 0)
		return nb_fd[fd];
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return fd;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	nb_fd[fd] = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	return nb_fd[fd] >= 0 ? nb_fd[fd] : fd;
}

void log_forget_fds(void)
{
	nb_fd[1] = nb_fd[2] = -1;
}

static void emit(char *line, size_t n)
{
	int fd = log_out_fd(STDERR_FILENO);

	while (n > 0) {
		ssize_t w = write(fd, line, n);

		if (w < 0)
			return;
		line += w;
		n -= (size_t)w;
	}
}

/* The length of the valid UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t log_json_escape(char *b, size_t at, size_t cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n && at + 6 <= cap;) {
		unsigned char c = u[i];
		size_t k = utf8_len(u + i, n - i);
		const char *esc = NULL;

		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (!k)
			esc = "\\ufffd";	/* one replacement per invalid byte */
		if (esc) {
			memcpy(b + at, esc, strlen(esc));
			at += strlen(esc);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			memcpy(b + at, "\\u00", 4);
			b[at + 4] = hex[c >> 4];
			b[at + 5] = hex[c & 15];
			at += 6;
			i++;
		} else {
			memcpy(b + at, u + i, k);
			at += k;
			i += k;
		}
	}
	return at;
}

bool log_json(void)
{
	return fmt_ == LOG_JSON;
}

/* Appends s to b as a JSON string body. */
static size_t json_str(char *b, size_t at, size_t cap, const char *s, size_t n)
{
	return log_json_escape(b, at, cap - 2, s, n);
}

/* A value a JSON number can hold: digits, maybe after a minus. */
static bool json_number(const char *v, const char *ve)
{
	if (v == ve)
		return false;
	for (const char *p = v; p < ve; p++)
		if (!isdigit((unsigned char)*p) && !(p == v && *p == '-'))
			return false;
	return true;
}

/* The value at v ("quoted" or up to a blank): its end into *ve, whether it
 * was quoted; returns where the next pair starts. */
static const char *kv_value(const char **v, const char **ve, bool *quoted)
{
	*quoted = **v == '"';
	if (!*quoted) {
		*ve = *v + strcspn(*v, " ");
		return *ve;
	}
	(*v)++;
	*ve = strchr(*v, '"');
	if (!*ve)
		*ve = *v + strlen(*v);
	return **ve ? *ve + 1 : *ve;
}

/* Turns `k=v k2="a b"` into ,"k":v,"k2":"a b" (numbers stay numbers). */
static size_t json_kv(char *b, size_t at, size_t cap, const char *kv)
{
	while (*kv && at + 16 < cap) {
		const char *k = kv, *eq, *v, *ve;
		bool quoted, num;

		while (*k == ' ')
			k++;
		eq = strchr(k, '=');
		if (!*k || !eq)
			break;
		v = eq + 1;
		kv = kv_value(&v, &ve, &quoted);
		num = !quoted && json_number(v, ve);
		b[at++] = ',';
		b[at++] = '"';
		at = json_str(b, at, cap, k, (size_t)(eq - k));
		b[at++] = '"';
		b[at++] = ':';
		if (!num)
			b[at++] = '"';
		at = json_str(b, at, cap, v, (size_t)(ve - v));
		if (!num)
			b[at++] = '"';
	}
	return at;
}

static size_t json_head(char *b, size_t cap, int64_t ms, int pid, const char *event)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	size_t at;

	gmtime_r(&secs, &tm);
	at = strftime(b, cap, "{\"time\":\"%Y-%m-%dT%H:%M:%S", &tm);
	at += (size_t)snprintf(b + at, cap - at, ".%03dZ\",\"arbor_pid\":%d,\"event\":\"%s\"",
			       (int)(ms % 1000), pid, event);
	return at;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static log_hook_fn *hook_;
static void *hook_data_;

void log_set_hook(log_hook_fn *fn, void *data)
{
	hook_ = fn;
	hook_data_ = data;
}

size_t log_render(char *b, size_t cap, bool json, const struct log_event *e)
{
	size_t at;

	if (json) {
		at = json_head(b, cap - 8, e->time_ms, e->pid, e->event);
		at += (size_t)snprintf(b + at, cap - 8 - at, ",\"path\":\"");
		at = json_str(b, at, cap - 8, e->path, strlen(e->path));
		b[at++] = '"';
		at = json_kv(b, at, cap - 8, e->kv);
		b[at++] = '}';
	} else {
		at = (size_t)snprintf(b, cap - 2, "arbor: %s %s%s%s", e->event,
				      *e->path ? e->path : "/", *e->kv ? " " : "", e->kv);
		if (at > cap - 2)
			at = cap - 2;
	}
	b[at++] = '\n';
	return at;
}

void log_ev(const char *event, const char *path, const char *kv, ...)
{
	char d[1024] = "", b[LOG_LINE_MAX];
	struct log_event e = { .event = event, .path = path, .kv = d };

	if (!hook_ && quiet_ && !verbose_)
		return;
	if (kv) {
		va_list ap;

		va_start(ap, kv);
		vsnprintf(d, sizeof(d), kv, ap);
		va_end(ap);
	}
	e.time_ms = now_ms();
	e.pid = (int)getpid();
	if (hook_)
		hook_(hook_data_, &e);
	if (quiet_ && !verbose_)
		return;
	emit(b, log_render(b, sizeof(b), fmt_ == LOG_JSON, &e));
}

static void vmsg(const char *fmt, va_list ap)
{
	char m[1024], b[2100];
	size_t at;

	vsnprintf(m, sizeof(m), fmt, ap);
	if (fmt_ == LOG_JSON) {
		at = json_head(b, sizeof(b) - 8, now_ms(), (int)getpid(), "message");
		at += (size_t)snprintf(b + at, sizeof(b) - at, ",\"message\":\"");
		at = json_str(b, at, sizeof(b) - 8, m, strlen(m));
		b[at++] = '"';
		b[at++] = '}';
	} else {
		at = (size_t)snprintf(b, sizeof(b) - 2, "arbor: %s", m);
		if (at > sizeof(b) - 2)
			at = sizeof(b) - 2;
	}
	b[at++] = '\n';
	emit(b, at);
}

void log_msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose_)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}
