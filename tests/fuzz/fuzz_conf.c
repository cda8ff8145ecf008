/* fuzz_conf: libFuzzer harness for the INI loader (init/conf*.c).
 *
 * conf_load() reads files, so the input becomes files in a private
 * directory, split at NUL bytes (which no INI file may hold anyway):
 *
 *   part 1  main.ini        the file loaded
 *   part 2  inc.ini         reached by "include = inc.ini"
 *   part 3  conf.d/a.ini    reached by "include = conf.d/a.ini" or a glob
 *
 * Whatever the bytes, the load either succeeds with a tree that prints, or
 * fails with a message that names a file; it never crashes, leaks or reads
 * out of bounds (ASan, UBSan and LeakSanitizer watch).
 *
 * Build: scripts/fuzz (clang -fsanitize=fuzzer,address,undefined). */
#define _GNU_SOURCE
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "fuzz_conf: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                       \
			abort();                                        \
		}                                                       \
	} while (0)

static char dir[64];
static char files[3][128];
static FILE *devnull;

/* One directory for the whole run, made once: a fresh one per input would
 * cost more than the parse. */
static void setup_dir(void)
{
	static const char *const names[] = { "main.ini", "inc.ini", "conf.d/a.ini" };
	char sub[128];

	snprintf(dir, sizeof(dir), "/tmp/fuzz_conf.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	if (mkdir(sub, 0755) < 0)
		abort();
	for (int i = 0; i < 3; i++)
		snprintf(files[i], sizeof(files[i]), "%s/%s", dir, names[i]);
	devnull = fopen("/dev/null", "we");
	if (!devnull)
		abort();
}

/* Removes the directory when libFuzzer exits. */
static void cleanup_dir(void)
{
	char sub[128];

	for (int i = 0; i < 3; i++)
		unlink(files[i]);
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	rmdir(sub);
	rmdir(dir);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		abort();
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			abort();
		data += n;
		len -= (size_t)n;
	}
	close(fd);
}

/* Walks the tree: every node is found again by its path, is the same as
 * itself, and sits where its parent lists it. Only the first few children
 * of each node are looked up by path: a pool of 10,000 members would make
 * the walk quadratic, and the fuzzer would time out on the harness. */
static void check_tree(const struct conf *c, const struct conf_node *n, size_t at)
{
	if (at < 16) {
		CHECK(conf_find(c, n->path) == n);
		CHECK(conf_node_same(n, n));
	}
	if (n->parent)
		CHECK(at < n->parent->nkids && n->parent->kids[at] == n);
	if (!n->is_sup)
		CHECK(n->argv && n->argv[0]);
	for (size_t i = 0; i < n->nkids; i++)
		check_tree(c, n->kids[i], i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct conf_err err;
	struct conf *c = NULL;
	size_t at = 0;

	if (!ready) {
		setup_dir();
		atexit(cleanup_dir);
		ready = true;
	}
	for (int i = 0; i < 3; i++) {
		const uint8_t *nul = at < size ? memchr(data + at, '\0', size - at) : NULL;
		size_t len = nul ? (size_t)(nul - (data + at)) : size - at;

		if (i == 2)	/* the last file takes the rest, NULs and all */
			len = size - at;
		write_file(files[i], data + at, len);
		at += len + (nul && i < 2 ? 1 : 0);
		if (at > size)
			at = size;
	}
	if (conf_load(files[0], &c, &err) == 0) {
		CHECK(c && c->root);
		check_tree(c, c->root, 0);
		conf_print(c, devnull);
		conf_free(c);
	} else {
		CHECK(c == NULL);
		CHECK(err.msg[0] != '\0');
		CHECK(memchr(err.msg, '\0', sizeof(err.msg)) != NULL);
		CHECK(strchr(err.msg, '/') != NULL || errno == ENOMEM);	/* names a file */
	}
	return 0;
}
