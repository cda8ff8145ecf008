/* monitor: the table of monitors. See monitor.h.
 *
 * A list: a tree has tens of nodes and a few monitors each, and a node's
 * change is looked up once per change, not per message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"
#include "monitor.h"

struct mon {
	struct mon *next;
	char *watcher;
	char *path;
	bool up;		/* what the watcher was last told: running */
};

struct monitors {
	struct mon *head;
	monitor_send_fn *send;
	void *ctx;
};

struct monitors *monitor_new(monitor_send_fn *send, void *ctx)
{
	struct monitors *m = calloc(1, sizeof(*m));

	if (m) {
		m->send = send;
		m->ctx = ctx;
	}
	return m;
}

static void mon_free(struct mon *o)
{
	free(o->watcher);
	free(o->path);
	free(o);
}

void monitor_free(struct monitors *m)
{
	struct mon *o;

	if (!m)
		return;
	while ((o = m->head)) {
		m->head = o->next;
		mon_free(o);
	}
	free(m);
}

/* "DOWN web/db signal SIGKILL": the reason as OTP's monitors give it. A
 * node that stopped running with no exit to tell was stopped by the
 * choice of its own supervisor (a nested one giving up): shutdown. */
static void send_down(struct monitors *m, const struct mon *o, uint16_t down)
{
	char msg[600];
	int code = down & 0xff;

	switch (down & FRAME_DOWN_KINDS) {
	case FRAME_DOWN_EXIT:
		snprintf(msg, sizeof(msg), "DOWN %s exit %d", o->path, code);
		break;
	case FRAME_DOWN_SIGNAL:
		snprintf(msg, sizeof(msg), "DOWN %s signal %s", o->path, log_signame(code));
		break;
	default:
		snprintf(msg, sizeof(msg), "DOWN %s shutdown", o->path);
	}
	m->send(m->ctx, o->watcher, msg);
}

static struct mon *find(struct monitors *m, const char *watcher, const char *path,
			struct mon ***pp)
{
	struct mon *o, **at;

	for (at = &m->head; (o = *at); at = &o->next)
		if (!strcmp(o->watcher, watcher) && !strcmp(o->path, path))
			break;
	if (pp)
		*pp = at;
	return o;
}

static struct mon *mon_new(const char *watcher, const char *path)
{
	struct mon *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->watcher = strdup(watcher);
	o->path = strdup(path);
	if (!o->watcher || !o->path) {
		mon_free(o);
		return NULL;
	}
	return o;
}

int monitor_add(struct monitors *m, const char *watcher, const char *path, bool up)
{
	struct mon *o = find(m, watcher, path, NULL);
	char msg[600];

	if (!o) {
		o = mon_new(watcher, path);
		if (!o)
			return -1;
		o->next = m->head;
		m->head = o;
	}
	o->up = up;
	if (!up) {
		snprintf(msg, sizeof(msg), "DOWN %s noproc", path);
		m->send(m->ctx, watcher, msg);
	}
	return 0;
}

void monitor_remove(struct monitors *m, const char *watcher, const char *path)
{
	struct mon **at, *o = find(m, watcher, path, &at);

	if (o) {
		*at = o->next;
		mon_free(o);
	}
}

void monitor_drop_watcher(struct monitors *m, const char *watcher)
{
	struct mon *o, **at = &m->head;

	while ((o = *at)) {
		if (!strcmp(o->watcher, watcher)) {
			*at = o->next;
			mon_free(o);
		} else {
			at = &o->next;
		}
	}
}

void monitor_changed(struct monitors *m, const char *path, bool up, uint16_t down)
{
	char msg[600];

	for (struct mon *o = m->head; o; o = o->next) {
		if (o->up == up || strcmp(o->path, path))
			continue;
		o->up = up;
		if (up) {
			snprintf(msg, sizeof(msg), "UP %s", path);
			m->send(m->ctx, o->watcher, msg);
		} else {
			send_down(m, o, down);
		}
	}
}

void monitor_prune(struct monitors *m, bool (*is_node)(void *ctx, const char *path),
		   void *ctx)
{
	struct mon *o, **at = &m->head;

	while ((o = *at)) {
		if (!is_node(ctx, o->watcher)) {
			*at = o->next;
			mon_free(o);
			continue;
		}
		if (o->up && !is_node(ctx, o->path)) {
			o->up = false;
			send_down(m, o, FRAME_DOWN_SHUTDOWN);
		}
		at = &o->next;
	}
}
