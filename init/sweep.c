/* sweep: leftovers found by their environment. See sweep.h. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sweep.h"

#define ENV_MAX (64 * 1024)	/* what is read of one process's environ */

static char tree[48];
static unsigned long seq;

void sweep_init_tree(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(tree, sizeof(tree), "%d-%lld", (int)getpid(),
		 (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

const char *sweep_tree(void)
{
	return tree;
}

void sweep_new_instance(char *buf, size_t len)
{
	snprintf(buf, len, "%d.%lu", (int)getpid(), ++seq);
}

/* The value of NAME in a NUL-separated environment, or NULL. */
static const char *env_get(const char *env, size_t n, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = env; p < env + n; p += strlen(p) + 1)
		if (!strncmp(p, name, nl) && p[nl] == '=')
			return p + nl + 1;
	return NULL;
}

typedef bool match_fn(const char *env, size_t n, const void *arg);

static int sweep(match_fn *match, const void *arg)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char *env = malloc(ENV_MAX + 1);
	pid_t self = getpid();
	int killed = 0;

	if (!d || !env) {
		free(env);
		if (d)
			closedir(d);
		return -1;
	}
	while ((e = readdir(d))) {
		pid_t pid = (pid_t)atoi(e->d_name);
		char p[64];
		const char *t;
		ssize_t n;
		int fd;

		if (pid <= 1 || pid == self)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/environ", (int)pid);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, env, ENV_MAX);
		close(fd);
		if (n <= 0)
			continue;
		env[n] = '\0';
		t = env_get(env, (size_t)n, "ARBOR_TREE");
		if (t && !strcmp(t, tree) && match(env, (size_t)n, arg) && kill(pid, SIGKILL) == 0)
			killed++;
	}
	closedir(d);
	free(env);
	return killed;
}

static bool under_path(const char *env, size_t n, const void *arg)
{
	const char *path = arg, *p = env_get(env, n, "ARBOR_PATH");
	size_t l = strlen(path);

	return p && (!l || (!strncmp(p, path, l) && (p[l] == '\0' || p[l] == '/')));
}

/* Again until a pass finds nothing: a process may fork while the pass
 * before it reads /proc. */
int sweep_path(const char *path)
{
	int n, total = 0;

	for (int pass = 0; pass < 8 && (n = sweep(under_path, path)) > 0; pass++)
		total += n;
	return total;
}

bool sweep_of_tree(pid_t pid, char *inst, size_t len)
{
	char p[64], *env = malloc(ENV_MAX + 1);
	bool ours = false;
	ssize_t n;
	int fd;

	if (!env)
		return false;
	snprintf(p, sizeof(p), "/proc/%d/environ", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, env, ENV_MAX);
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		const char *t, *i;

		env[n] = '\0';
		t = env_get(env, (size_t)n, "ARBOR_TREE");
		ours = t && !strcmp(t, tree);
		i = env_get(env, (size_t)n, "ARBOR_INSTANCE");
		snprintf(inst, len, "%s", i ? i : "");
	}
	free(env);
	return ours;
}
