/* counter [INITIAL]: the classic GenServer example, as an arbor worker.
 *
 * Calls: "increment" (replies the new value), "get_value", "add N" (replies
 * the new value). Casts: "increment", "add N". The value is a long long;
 * a result out of its range is refused. */
#include "arbor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counter {
	long long value;
};

/* The whole string must be the number: "5x" and "" are not integers. */
static int parse_ll(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end ? -1 : 0;
}

static int counter_init(int argc, char **argv, void **state)
{
	struct counter *c;
	long long initial = 0;

	if (argc > 2) {
		fprintf(stderr, "usage: counter [INITIAL]\n");
		return 2;
	}
	if (argc == 2 && parse_ll(argv[1], &initial) < 0) {
		fprintf(stderr, "counter: INITIAL: expected an integer: %s\n",
			argv[1]);
		return 2;
	}
	c = malloc(sizeof(*c));
	if (!c) {
		perror("counter: malloc");
		return 1;
	}
	c->value = initial;
	*state = c;
	return 0;
}

/* Applies one request, shared by calls and casts; on failure why says what
 * was wrong. */
static int counter_apply(struct counter *c, const char *msg,
			 struct arbor_buf *why)
{
	long long n, sum;

	if (strcmp(msg, "increment") == 0) {
		n = 1;
	} else if (strncmp(msg, "add ", 4) == 0) {
		if (parse_ll(msg + 4, &n) < 0) {
			arbor_buf_printf(why, "add: expected an integer: %s",
					 msg + 4);
			return -1;
		}
	} else {
		arbor_buf_printf(why, "unknown request: %s", msg);
		return -1;
	}
	if (__builtin_add_overflow(c->value, n, &sum)) {
		arbor_buf_printf(why, "%s: result out of range", msg);
		return -1;
	}
	c->value = sum;
	return 0;
}

static int counter_call(void *state, const char *msg, size_t len,
			struct arbor_buf *reply)
{
	struct counter *c = state;

	if (strlen(msg) != len) {
		arbor_buf_puts(reply, "unknown request: (binary)");
		return -1;
	}
	if (strcmp(msg, "get_value") != 0 && counter_apply(c, msg, reply) < 0)
		return -1;
	arbor_buf_printf(reply, "%lld", c->value);
	return 0;
}

/* A cast has nobody to answer: a bad one is said on stderr and dropped. */
static void counter_cast(void *state, const char *msg, size_t len)
{
	struct arbor_buf why = { 0 };

	if (strlen(msg) != len || counter_apply(state, msg, &why) < 0)
		fprintf(stderr, "counter: cast: %s\n",
			why.data ? why.data : "binary message");
	arbor_buf_free(&why);
}

static void counter_terminate(void *state, const char *reason)
{
	free(state);
}

int main(int argc, char **argv)
{
	static const struct arbor_callbacks cb = {
		.init = counter_init,
		.handle_call = counter_call,
		.handle_cast = counter_cast,
		.terminate = counter_terminate,
	};

	arbor_run(argc, argv, &cb);
}
