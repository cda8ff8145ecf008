/* status: the root's answers to arborctl -- status, tree, ping -- read from
 * the run-time state every node keeps (conf_node->rt), and the dispatch of
 * every other request into the tree. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sup_int.h"

struct sbuf {
	char *b;
	size_t len, cap;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	for (;;) {
		size_t room = sb->cap - sb->len;
		int n;

		va_start(ap, fmt);
		n = vsnprintf(sb->b ? sb->b + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		size_t cap = (sb->cap + (size_t)n + 1) * 2;
		char *b = realloc(sb->b, cap);

		if (!b)
			return;
		sb->b = b;
		sb->cap = cap;
	}
}

static void sb_json_str(struct sbuf *sb, const char *s)
{
	sb_printf(sb, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(sb, "\\%c", c);
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else
			sb_printf(sb, "%c", c);
	}
	sb_printf(sb, "\"");
}

static const char *restart_name(const struct conf_node *n)
{
	static const char *const r[] = { "permanent", "transient", "temporary" };

	return r[n->restart];
}

static const char *strategy_name(const struct conf_node *n)
{
	static const char *const r[] = { "one_for_one", "one_for_all", "rest_for_one" };

	return r[n->strategy];
}

static int64_t now_wall(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The root reports itself as running in arbor's own process. */
static void node_view(struct sup *s, struct conf_node *n, struct rtstat *out)
{
	if (n == s->conf->root) {
		memset(out, 0, sizeof(*out));
		out->pid = getpid();
		out->state = s->phase == PH_STOP || s->phase == PH_DONE ? C_STOPPING
			     : s->phase == PH_BOOT ? C_STARTING : C_RUNNING;
		out->since = ((struct rtstat *)n->rt)->since;
		out->giving_up = ((struct rtstat *)n->rt)->giving_up;
		return;
	}
	*out = *(struct rtstat *)n->rt;
}

/* The -- CMD is the root's last child `cmd`, though no section names it. */
static struct conf_node *cmd_of(struct sup *s, const struct conf_node *n)
{
	return s->cmd && n == s->conf->root ? s->cmd->node : NULL;
}

static void json_node(struct sup *s, struct sbuf *sb, struct conf_node *n)
{
	struct rtstat rt;
	int64_t up;

	node_view(s, n, &rt);
	up = rt.state == C_RUNNING && rt.since ? (now_wall() - rt.since) / 1000 : 0;
	sb_printf(sb, "{\"path\":");
	sb_json_str(sb, n->path);
	sb_printf(sb, ",\"type\":\"%s\",\"pid\":", n->is_sup ? "supervisor" : "worker");
	if (rt.pid > 0 && rt.state != C_STOPPED)
		sb_printf(sb, "%d", (int)rt.pid);
	else
		sb_printf(sb, "null");
	sb_printf(sb, ",\"state\":\"%s\",\"restart\":\"%s\",\"restarts\":%d,\"uptime\":%lld",
		  sup_state_name(rt.state), restart_name(n), rt.restarts, (long long)up);
	if (n->is_sup)
		sb_printf(sb, ",\"strategy\":\"%s\",\"intensity\":%d,\"period\":%ld",
			  strategy_name(n), n->intensity, n->period_ms / 1000);
	else
		sb_printf(sb, ",\"genserver\":%s", n->genserver ? "true" : "false");
	sb_printf(sb, ",\"children\":[");
	for (size_t i = 0; i < n->nkids; i++) {
		if (i)
			sb_printf(sb, ",");
		json_node(s, sb, n->kids[i]);
	}
	if (cmd_of(s, n)) {
		sb_printf(sb, "%s", n->nkids ? "," : "");
		json_node(s, sb, cmd_of(s, n));
	}
	sb_printf(sb, "]}");
}

static void uptime(char *b, size_t len, int64_t secs)
{
	if (secs < 60)
		snprintf(b, len, "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(b, len, "%lldm%02llds", (long long)secs / 60, (long long)secs % 60);
	else if (secs < 86400)
		snprintf(b, len, "%lldh%02lldm", (long long)secs / 3600, (long long)secs / 60 % 60);
	else
		snprintf(b, len, "%lldd%02lldh", (long long)secs / 86400, (long long)secs / 3600 % 24);
}

static void node_line(struct sup *s, struct sbuf *sb, struct conf_node *n)
{
	struct rtstat rt;
	char up[32] = "-";

	node_view(s, n, &rt);
	if (rt.state == C_RUNNING && rt.since)
		uptime(up, sizeof(up), (now_wall() - rt.since) / 1000);
	if (rt.pid > 0 && rt.state != C_STOPPED)
		sb_printf(sb, " %s pid %d, up %s, restarts %d", sup_state_name(rt.state),
			  (int)rt.pid, up, rt.restarts);
	else
		sb_printf(sb, " %s, restarts %d", sup_state_name(rt.state), rt.restarts);
}

/* The tree drawn like tree(1), each node with its type, pid, state,
 * uptime and restarts. */
static void tree_node(struct sup *s, struct sbuf *sb, struct conf_node *n,
		      const char *indent, bool last, bool top)
{
	char sub[512];

	if (top)
		sb_printf(sb, "%s", *n->path ? n->path : "/");
	else
		sb_printf(sb, "%s%s%s", indent, last ? "└── " : "├── ", n->name);
	if (n->is_sup)
		sb_printf(sb, " (%s %s)", n->is_pool ? "pool" : "supervisor", strategy_name(n));
	else
		sb_printf(sb, " (worker%s)", n->genserver ? ", genserver" : "");
	node_line(s, sb, n);
	sb_printf(sb, "\n");
	snprintf(sub, sizeof(sub), "%s%s", indent, top ? "" : last ? "    " : "│   ");
	for (size_t i = 0; i < n->nkids; i++)
		tree_node(s, sb, n->kids[i], sub, i + 1 == n->nkids && !cmd_of(s, n), false);
	if (cmd_of(s, n))
		tree_node(s, sb, cmd_of(s, n), sub, true, false);
}

static void status_text(struct sup *s, struct sbuf *sb, struct conf_node *n)
{
	struct rtstat rt;
	char up[32] = "-", pid[16] = "-";

	node_view(s, n, &rt);
	if (rt.state == C_RUNNING && rt.since)
		uptime(up, sizeof(up), (now_wall() - rt.since) / 1000);
	if (rt.pid > 0 && rt.state != C_STOPPED)
		snprintf(pid, sizeof(pid), "%d", (int)rt.pid);
	sb_printf(sb, "%-24s %-10s %-7s %-10s %-9s %8d %8s\n", *n->path ? n->path : "/",
		  n->is_sup ? "supervisor" : "worker", pid, sup_state_name(rt.state),
		  restart_name(n), rt.restarts, up);
	for (size_t i = 0; i < n->nkids; i++)
		status_text(s, sb, n->kids[i]);
	if (cmd_of(s, n))
		status_text(s, sb, cmd_of(s, n));
}

/* Why n is not healthy, or NULL: a supervisor giving up, a child waiting
 * to restart, or one started again after a crash that is not ready yet. A
 * child started by arborctl or by a reload is not counted while it starts. */
static const char *sick(const struct rtstat *rt)
{
	if (!rt)
		return NULL;
	if (rt->giving_up)
		return "giving up";
	if (rt->state == C_RESTARTING)
		return "waiting to restart";
	if (rt->state == C_STARTING && rt->recovering)
		return "restarting";
	return NULL;
}

/* The first node of n's subtree that is not healthy; *why says how. */
static const struct conf_node *unhealthy(struct conf_node *n, const char **why)
{
	*why = sick(n->rt);
	if (*why)
		return n;
	for (size_t i = 0; i < n->nkids; i++) {
		const struct conf_node *bad = unhealthy(n->kids[i], why);

		if (bad)
			return bad;
	}
	return NULL;
}

static void reply_sb(sup_done_fn *done, void *ctx, int rc, struct sbuf *sb)
{
	if (done)
		done(ctx, rc, sb->b ? sb->b : "", sb->len);
	free(sb->b);
}

static void reply(sup_done_fn *done, void *ctx, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void reply(sup_done_fn *done, void *ctx, int rc, const char *fmt, ...)
{
	char b[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (done)
		done(ctx, rc, b, strlen(b));
}

static struct pending *client(struct sup *s, sup_done_fn *done, void *ctx)
{
	struct pending *p = pending_new(s);

	if (p) {
		p->from = OR_CLIENT;
		p->done = done;
		p->ctx = ctx;
	}
	return p;
}

/* Requests, in the canonical form arborctl sends (see arborctl.c):
 *   status PATH text|json · tree · ping · shutdown · reload
 *   start|stop|restart PATH · kill PATH SIGNAL
 *   call PATH MESSAGE TIMEOUT_MS · cast PATH MESSAGE · send PATH MESSAGE */
void sup_request(struct sup *s, int argc, char **argv, sup_done_fn *done, void *ctx)
{
	const char *verb = argc > 0 ? argv[0] : "";
	struct conf_node *n = argc > 1 ? conf_find(s->conf, argv[1]) : NULL;

	if (!n && argc > 1 && !strcmp(verb, "start"))
		n = sup_pool_member(s, argv[1]);	/* grows a pool */
	if (!n && argc > 1 && s->cmd && !strcmp(argv[1], s->cmd->path))
		n = s->cmd->node;
	struct sbuf sb = { 0 };
	struct pending *p;

	if (!strcmp(verb, "ping")) {
		const char *why = NULL;
		const struct conf_node *bad = unhealthy(s->conf->root, &why);

		if (s->phase == PH_BOOT)
			reply(done, ctx, 1, "starting");
		else if (s->phase != PH_RUN)
			reply(done, ctx, 1, "stopping");
		else if (bad)
			reply(done, ctx, 1, "not healthy: %s is %s", *bad->path ? bad->path : "/",
			      why);
		else
			reply(done, ctx, 0, "pong");
		return;
	}
	if (!strcmp(verb, "tree")) {
		tree_node(s, &sb, s->conf->root, "", true, true);
		reply_sb(done, ctx, 0, &sb);
		return;
	}
	if (!strcmp(verb, "shutdown")) {
		reply(done, ctx, 0, "shutting down");
		sup_shutdown(s, 0);
		return;
	}
	if (!strcmp(verb, "reload")) {	/* answered once applied */
		p = client(s, done, ctx);
		if (p)
			reload_request(s, p);
		else
			reply(done, ctx, 1, "out of memory");
		return;
	}
	if (argc < 2) {
		reply(done, ctx, 1, "bad request: %s needs a path", verb);
		return;
	}
	if (!n) {
		reply(done, ctx, 1, "no such child: %s", argv[1]);
		return;
	}
	if (!strcmp(verb, "status")) {
		if (argc > 2 && !strcmp(argv[2], "json"))
			json_node(s, &sb, n);
		else {
			sb_printf(&sb, "%-24s %-10s %-7s %-10s %-9s %8s %8s\n", "PATH", "TYPE",
				  "PID", "STATE", "RESTART", "RESTARTS", "UPTIME");
			status_text(s, &sb, n);
		}
		reply_sb(done, ctx, 0, &sb);
		return;
	}
	p = client(s, done, ctx);
	if (!p) {
		reply(done, ctx, 1, "out of memory");
		return;
	}
	if (!strcmp(verb, "call") && argc > 3) {
		route_call(s, FRAME_CALL, argv[1], argv[2], strlen(argv[2]),
			   atoll(argv[3]), p);
	} else if ((!strcmp(verb, "cast") || !strcmp(verb, "send")) && argc > 2) {
		route_call(s, verb[1] == 'a' ? FRAME_CAST : FRAME_INFO, argv[1], argv[2],
			   strlen(argv[2]), 5000, p);
	} else if (!strcmp(verb, "start") || !strcmp(verb, "stop") ||
		   !strcmp(verb, "restart") || !strcmp(verb, "kill")) {
		if (n == s->conf->root) {
			pending_answer_str(s, p, 1, "the root cannot be stopped or started: "
					   "use arborctl shutdown");
			return;
		}
		if (s->cmd && n == s->cmd->node && strcmp(verb, "kill")) {
			pending_answer_str(s, p, 1, "cmd is the -- command, whose exit ends arbor: "
					   "it cannot be stopped or started (use kill)");
			return;
		}
		route_ctl(s, argc, argv, p);
	} else {
		free(p);
		reply(done, ctx, 1, "bad request: unknown verb '%s'", verb);
	}
}

