/* title: nginx's ngx_setproctitle and Postgres's ps_status, in small: the
 * strings of argv and of the environment lie end to end on the stack at
 * start-up; once copied to the heap, that whole area is ours to write. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "title.h"

extern char **environ;

static char *area;		/* argv[0]'s first byte */
static size_t room;		/* bytes up to the last contiguous string's end */

/* Moves *s to the heap and past it if it starts where the area ends so
 * far; false when the area ends here (not contiguous, or out of memory). */
static bool take(char **s, char **end)
{
	char *copy;

	if (*s != *end)
		return false;
	copy = strdup(*s);
	if (!copy)
		return false;
	*end += strlen(*s) + 1;
	*s = copy;
	return true;
}

void title_init(int argc, char **argv)
{
	char *end;
	bool more = true;

	if (argc < 1 || !argv[0])
		return;
	area = end = argv[0];
	for (int i = 0; i < argc && more; i++)
		more = take(&argv[i], &end);
	for (char **e = environ; e && *e && more; e++)
		more = take(e, &end);
	room = (size_t)(end - area);
}

void title_set(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!area || room < 2)
		return;
	va_start(ap, fmt);
	n = vsnprintf(area, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n < room)
		memset(area + n, 0, room - (size_t)n);
}
