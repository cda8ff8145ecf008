/* status: renders what the root's registry knows of the tree for arborctl
 * -- status (text or JSON), tree and ping. It changes nothing. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "registry.h"
#include "status.h"

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

/* The root reports itself as running in arbor's own process. */
static void node_view(const struct status_src *s, struct conf_node *n, struct reg_node *out)
{
	const struct reg_node *rt = registry_find(s->reg, n->path);

	memset(out, 0, sizeof(*out));
	if (rt)
		*out = *rt;
	if (n == s->conf->root) {
		out->pid = getpid();
		out->state = s->root_state;
		out->restarts = 0;
	}
}

/* The i-th child of n as shown: the -- CMD (`cmd`) follows the root's
 * last child, though no section names it. */
static struct conf_node *kid_at(const struct status_src *s, struct conf_node *n, size_t i)
{
	struct conf_node *k = registry_kid(s->reg, n, i);

	if (k || !s->cmd || n != s->conf->root)
		return k;
	return i == 0 || registry_kid(s->reg, n, i - 1) ? s->cmd : NULL;
}

/* A worker's health check: null without one; starting until its first
 * outcome (before its first start too). */
static void json_health(struct sbuf *sb, const struct conf_node *n, const struct reg_node *rt)
{
	static const char *const names[] = {
		[HEALTH_NONE] = "starting", [HEALTH_STARTING] = "starting", [HEALTH_OK] = "ok",
		[HEALTH_FAILING] = "failing",
	};

	if (!n->health.argv)
		sb_printf(sb, ",\"health\":null");
	else
		sb_printf(sb, ",\"health\":\"%s\"", names[rt->health]);
	sb_printf(sb, ",\"health_failures\":%d", rt->health_failures);
}

/* What /proc says of pid's own process: CPU time (utime + stime) in ms
 * and resident memory in KiB. -1 when it cannot be read (it is gone). */
static int proc_usage(pid_t pid, long long *cpu_ms, long long *rss_kb)
{
	char p[64], b[1024], *end;
	unsigned long long ut, st;
	long long pages;
	long tck = sysconf(_SC_CLK_TCK), pg = sysconf(_SC_PAGESIZE);
	FILE *f;
	size_t n;
	int ok;

	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	n = fread(b, 1, sizeof(b) - 1, f);
	fclose(f);
	b[n] = '\0';
	end = strrchr(b, ')');	/* the name may hold blanks and parentheses */
	/* after ")": state, then fields 4..13, then utime (14) and stime (15) */
	if (!end || sscanf(end + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &ut, &st) != 2 || tck <= 0)
		return -1;
	snprintf(p, sizeof(p), "/proc/%d/statm", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -1;
	ok = fscanf(f, "%*u %lld", &pages) == 1;
	fclose(f);
	if (!ok)
		return -1;
	*cpu_ms = (long long)((ut + st) * 1000 / (unsigned long long)tck);
	*rss_kb = pages * (pg / 1024);
	return 0;
}

/* "rss_kb", "cpu_ms" and "calls_in_flight" of a node that runs: those of
 * its own process, and the calls in flight through the root to its
 * subtree. A stopped node has none of them. */
static void json_usage(const struct status_src *s, struct sbuf *sb, struct conf_node *n,
		       const struct reg_node *rt)
{
	long long cpu, rss;

	if (rt->pid <= 0 || rt->state == CS_STOPPED || proc_usage(rt->pid, &cpu, &rss) < 0)
		return;
	sb_printf(sb, ",\"rss_kb\":%lld,\"cpu_ms\":%lld,\"calls_in_flight\":%zu", rss, cpu,
		  s->calls ? pending_count(s->calls, n->path) : 0);
}

static void json_node(const struct status_src *s, struct sbuf *sb, struct conf_node *n)
{
	struct conf_node *k;
	struct reg_node rt;
	int64_t up;

	node_view(s, n, &rt);
	up = rt.state == CS_RUNNING && rt.since ? (loop_wall_ms() - rt.since) / 1000 : 0;
	sb_printf(sb, "{\"path\":");
	sb_json_str(sb, n->path);
	sb_printf(sb, ",\"type\":\"%s\",\"pid\":", n->is_sup ? "supervisor" : "worker");
	if (rt.pid > 0 && rt.state != CS_STOPPED)
		sb_printf(sb, "%d", (int)rt.pid);
	else
		sb_printf(sb, "null");
	sb_printf(sb, ",\"state\":\"%s\",\"restart\":\"%s\",\"restarts\":%d,\"uptime\":%lld",
		  child_state_name(rt.state), restart_name(n), rt.restarts, (long long)up);
	json_usage(s, sb, n, &rt);
	if (rt.state == CS_WAITING)	/* since: when it restarts */
		sb_printf(sb, ",\"restart_in_ms\":%lld",
			  (long long)(rt.since > loop_wall_ms() ? rt.since - loop_wall_ms() : 0));
	if (!n->is_sup && n->ready == READY_EXIT && rt.state == CS_STOPPED && rt.since)
		sb_printf(sb, ",\"exit_status\":0");	/* a one-shot job that is done */
	if (n->is_sup)
		sb_printf(sb, ",\"strategy\":\"%s\",\"intensity\":%d,\"period\":%ld",
			  strategy_name(n), n->intensity, n->period_ms / 1000);
	else
		sb_printf(sb, ",\"genserver\":%s", n->genserver ? "true" : "false");
	if (!n->is_sup && n != s->cmd)
		json_health(sb, n, &rt);
	sb_printf(sb, ",\"children\":[");
	for (size_t i = 0; (k = kid_at(s, n, i)); i++) {
		if (i)
			sb_printf(sb, ",");
		json_node(s, sb, k);
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

static void node_line(const struct status_src *s, struct sbuf *sb, struct conf_node *n)
{
	struct reg_node rt;
	char up[32] = "-";

	node_view(s, n, &rt);
	if (rt.state == CS_RUNNING && rt.since)
		uptime(up, sizeof(up), (loop_wall_ms() - rt.since) / 1000);
	if (rt.pid > 0 && rt.state != CS_STOPPED)
		sb_printf(sb, " %s pid %d, up %s, restarts %d", child_state_name(rt.state),
			  (int)rt.pid, up, rt.restarts);
	else
		sb_printf(sb, " %s, restarts %d", child_state_name(rt.state), rt.restarts);
}

/* The tree drawn like tree(1), each node with its type, pid, state,
 * uptime and restarts. */
static void tree_node(const struct status_src *s, struct sbuf *sb, struct conf_node *n,
		      const char *indent, bool last, bool top)
{
	char sub[512];
	struct conf_node *k;

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
	for (size_t i = 0; (k = kid_at(s, n, i)); i++)
		tree_node(s, sb, k, sub, !kid_at(s, n, i + 1), false);
}

static void status_text(const struct status_src *s, struct sbuf *sb, struct conf_node *n)
{
	struct reg_node rt;
	char up[32] = "-", pid[16] = "-";
	struct conf_node *k;

	node_view(s, n, &rt);
	if (rt.state == CS_RUNNING && rt.since)
		uptime(up, sizeof(up), (loop_wall_ms() - rt.since) / 1000);
	if (rt.pid > 0 && rt.state != CS_STOPPED)
		snprintf(pid, sizeof(pid), "%d", (int)rt.pid);
	sb_printf(sb, "%-24s %-10s %-7s %-10s %-9s %8d %8s\n", *n->path ? n->path : "/",
		  n->is_sup ? "supervisor" : "worker", pid, child_state_name(rt.state),
		  restart_name(n), rt.restarts, up);
	for (size_t i = 0; (k = kid_at(s, n, i)); i++)
		status_text(s, sb, k);
}

/* Why n is not healthy, or NULL: a supervisor giving up, a child waiting
 * to restart, or one started again after a crash that is not ready yet, a
 * worker failing its health check or killed by its watchdog. A child
 * started by arborctl or by a reload is not counted while it starts. With
 * all (ping PATH), every node must be running (a one-shot job done too). */
static const char *sick(const struct conf_node *n, const struct reg_node *rt, bool all)
{
	if (!rt)
		return all ? "stopped" : NULL;
	if (rt->giving_up)
		return "giving up";
	if (rt->state == CS_RESTARTING || rt->state == CS_WAITING)
		return "waiting to restart";
	if (rt->state == CS_RECOVERING)
		return "restarting";
	if (rt->health == HEALTH_FAILING)
		return "failing its health check";
	if (rt->watchdog)
		return "being killed by its watchdog";
	if (all && rt->state != CS_RUNNING &&
	    !(rt->state == CS_STOPPED && !n->is_sup && n->ready == READY_EXIT && rt->since))
		return child_state_name(rt->state);
	return NULL;
}

/* The first node of n's subtree that is not healthy; *why says how. */
static const struct conf_node *unhealthy(const struct status_src *s, struct conf_node *n,
					       bool all, const char **why)
{
	struct conf_node *k;

	*why = sick(n, registry_find(s->reg, n->path), all);
	if (*why)
		return n;
	for (size_t i = 0; (k = registry_kid(s->reg, n, i)); i++) {
		const struct conf_node *bad = unhealthy(s, k, all, why);

		if (bad)
			return bad;
	}
	return NULL;
}

char *status_render(const struct status_src *s, struct conf_node *n, enum status_view v, size_t *len)
{
	struct sbuf sb = { 0 };

	switch (v) {
	case STATUS_JSON:
		json_node(s, &sb, n);
		break;
	case STATUS_TEXT:
		sb_printf(&sb, "%-24s %-10s %-7s %-10s %-9s %8s %8s\n", "PATH", "TYPE", "PID",
			  "STATE", "RESTART", "RESTARTS", "UPTIME");
		status_text(s, &sb, n);
		break;
	case STATUS_TREE:
		tree_node(s, &sb, n, "", true, true);
		break;
	}
	*len = sb.len;
	return sb.b;
}

int status_ping(const struct status_src *s, struct conf_node *n, char *msg, size_t size)
{
	const char *why = NULL;
	bool all = n != s->conf->root;
	const struct conf_node *bad = unhealthy(s, n, all, &why);

	if (s->root_state == CS_STARTING)
		snprintf(msg, size, "starting");
	else if (s->root_state != CS_RUNNING)
		snprintf(msg, size, "stopping");
	else if (bad)
		snprintf(msg, size, "not healthy: %s is %s", *bad->path ? bad->path : "/", why);
	else
		snprintf(msg, size, "pong");
	return s->root_state == CS_RUNNING && !bad ? 0 : 1;
}
