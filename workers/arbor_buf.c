/* arbor_buf: the growable strings libarbor hands to callbacks for replies. */
#include "arbor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for len more bytes and the NUL kept after them, so that a reply is
 * always usable as a C string. */
static int arbor_buf_grow(struct arbor_buf *b, size_t len)
{
	size_t cap;
	char *p;

	if (len >= ((size_t)-1) / 2 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	if (b->len + len < b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap <= b->len + len)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int arbor_buf_add(struct arbor_buf *b, const void *data, size_t len)
{
	if (arbor_buf_grow(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int arbor_buf_puts(struct arbor_buf *b, const char *s)
{
	return arbor_buf_add(b, s, strlen(s));
}

/* Formats straight into the buffer: one vsnprintf to measure, one to
 * write, no temporary string. */
int arbor_buf_printf(struct arbor_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (arbor_buf_grow(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void arbor_buf_reset(struct arbor_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void arbor_buf_free(struct arbor_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
