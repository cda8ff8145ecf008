/* test_monitor: the table of monitors, with the messages it sends caught
 * as lines "WATCHER: MESSAGE". TAP. */
#include <signal.h>
#include <string.h>

#include "frame.h"
#include "monitor.h"
#include "tap.h"

static char sent[4096];

static void catch_send(void *ctx, const char *watcher, const char *msg)
{
	size_t n = strlen(sent);

	snprintf(sent + n, sizeof(sent) - n, "%s: %s\n", watcher, msg);
}

/* What was sent since the last look is want. */
static bool told(const char *want)
{
	bool same = !strcmp(sent, want);

	if (!same)
		printf("# sent:\n# %s# want:\n# %s", sent, want);
	sent[0] = '\0';
	return same;
}

static bool in_tree(void *ctx, const char *path)
{
	return strcmp(path, "gone") && strcmp(path, "old");
}

int main(void)
{
	struct monitors *m = monitor_new(catch_send, NULL);

	ok(m != NULL, "a table");
	monitor_add(m, "w", "db", true);
	ok(told(""), "a running node: nothing at once");
	monitor_add(m, "w", "web/db", false);
	ok(told("w: DOWN web/db noproc\n"), "a node not running: DOWN noproc at once");
	monitor_add(m, "w", "web/db", false);
	ok(told("w: DOWN web/db noproc\n"), "monitored again while down: noproc again");
	monitor_changed(m, "web/db", true, FRAME_DOWN_NONE);
	ok(told("w: UP web/db\n"), "it runs: UP, once");
	monitor_changed(m, "web/db", true, FRAME_DOWN_NONE);
	ok(told(""), "still running: nothing");
	monitor_changed(m, "db", false, FRAME_DOWN_SIGNAL | SIGKILL);
	ok(told("w: DOWN db signal SIGKILL\n"), "killed: DOWN db signal SIGKILL");
	monitor_changed(m, "db", false, FRAME_DOWN_SIGNAL | SIGKILL);
	ok(told(""), "down twice: told once");
	monitor_changed(m, "db", true, FRAME_DOWN_NONE);
	monitor_changed(m, "db", false, FRAME_DOWN_EXIT | 3);
	ok(told("w: UP db\nw: DOWN db exit 3\n"), "an exit status: DOWN db exit 3");
	monitor_changed(m, "db", true, FRAME_DOWN_NONE);
	monitor_changed(m, "db", false, FRAME_DOWN_SHUTDOWN);
	ok(told("w: UP db\nw: DOWN db shutdown\n"), "stopped by arbor: shutdown");
	monitor_changed(m, "db", true, FRAME_DOWN_NONE);
	monitor_changed(m, "db", false, FRAME_DOWN_NONE);
	ok(told("w: UP db\nw: DOWN db shutdown\n"), "no reason known: shutdown");

	monitor_add(m, "v", "db", true);
	monitor_add(m, "v", "web", true);
	monitor_changed(m, "db", true, FRAME_DOWN_NONE);
	ok(told("w: UP db\n"), "a watcher that thinks it runs is not told UP");
	monitor_remove(m, "w", "db");
	monitor_changed(m, "db", false, FRAME_DOWN_SIGNAL | SIGTERM);
	ok(told("v: DOWN db signal SIGTERM\n"), "demonitored: only the other watcher is told");
	monitor_drop_watcher(m, "v");
	monitor_changed(m, "db", true, FRAME_DOWN_NONE);
	monitor_changed(m, "web", false, FRAME_DOWN_EXIT | 1);
	ok(told(""), "a watcher gone: its monitors are gone");

	monitor_add(m, "old", "db", true);
	monitor_add(m, "w", "gone", true);
	monitor_add(m, "w", "gone2", true);
	monitor_prune(m, in_tree, NULL);
	ok(told("w: DOWN gone shutdown\n"), "pruned: a node that left the tree is down");
	monitor_changed(m, "db", false, FRAME_DOWN_EXIT | 0);
	ok(told(""), "pruned: a watcher that left the tree is told nothing");
	monitor_prune(m, in_tree, NULL);
	ok(told(""), "pruned twice: told once");
	monitor_free(m);
	printf("1..%d\n", ntest);
	return nfail != 0;
}
