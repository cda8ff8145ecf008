/* log: supervisor events, one line each on stderr, as text or JSON lines.
 *
 * An event has a name, the path of the node it concerns and key=value
 * details: log_ev("exited", "web/api", "pid=%d signal=%s", pid, "SIGKILL")
 * prints `arbor: exited web/api pid=123 signal=SIGKILL` as text, or
 * {"time":"...","event":"exited","path":"web/api","pid":123,"signal":"SIGKILL"}
 * as JSON. A value with spaces is written key="a b". */
#ifndef ARBOR_LOG_H
#define ARBOR_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "conf.h"

void log_init(enum conf_logfmt fmt, int verbose);
bool log_verbose(void);
/* Events are printed only with -v (arbor -- CMD without -c). */
void log_quiet(bool q);
/* An event, see above. kv may be NULL. */
void log_ev(const char *event, const char *path, const char *kv, ...)
	__attribute__((format(printf, 3, 4)));
/* One event as log_ev() was given it, for those who follow events
 * (arborctl events): its time (CLOCK_REALTIME ms), the pid of the arbor
 * process that logged it, its name, path and key=value details. */
struct log_event {
	int64_t time_ms;
	int pid;
	const char *event, *path, *kv;
};
/* Called with every event, printed or not (arbor -- CMD is quiet). */
typedef void log_hook_fn(void *data, const struct log_event *e);
/* fn(data, e) for each event from now on; NULL for none. One per process. */
void log_set_hook(log_hook_fn *fn, void *data);
/* The line e is in the log (text or JSON, ending in a newline) into
 * b[0..cap); its length. cap should be LOG_LINE_MAX. */
#define LOG_LINE_MAX 2048
size_t log_render(char *b, size_t cap, bool json, const struct log_event *e);
/* A plain message: "arbor: ..." (text) or {"event":"message",...}. */
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Only with -v. */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fd 1 or 2 as arbor should write to it: non-blocking when it is a pipe
 * (a reader that stops reading must not stop arbor). */
int log_out_fd(int fd);
/* In a forked supervisor whose fds were closed: open them again on need. */
void log_forget_fds(void);
/* log_format = json: worker lines are relayed as JSON too (relay.h). */
bool log_json(void);
/* Appends s[0..n) to b at `at` as the body of a JSON string, never past cap:
 * quotes, backslashes and control bytes escaped, each byte that is not
 * part of valid UTF-8 replaced by \ufffd. Returns the new end. */
size_t log_json_escape(char *b, size_t at, size_t cap, const char *s, size_t n);
/* "SIGKILL" for 9, "SIG42" for what has no name. */
const char *log_signame(int sig);
/* The signal for "TERM", "SIGTERM", "term" or "15"; -1 if none. */
int log_signum(const char *name);
/* How a wait status reads: "status=1" or "signal=SIGKILL" (static buffer). */
const char *log_wstatus(int wstatus);

#endif
