/* conf_err: the one message a failed load gives, "FILE:LINE: [section]:
 * what is wrong", written once: later errors are consequences of the
 * first; and the line of a key in the section, which such messages name. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

/* The word in a section's header, for messages. */
const char *conf_sec_word(enum conf_sec kind)
{
	switch (kind) {
	case SEC_ARBOR:
		return "arbor";
	case SEC_ROOT:
	case SEC_SUP:
		return "supervisor";
	case SEC_WORKER:
		return "worker";
	default:
		return "";
	}
}

/* Formats "FILE:LINE: [section]: " + the message, once: later errors are
 * consequences of the first. */
static int conf_failv(struct conf_parser *p, const char *file, int line,
		      enum conf_sec kind, const char *path, const char *fmt,
		      va_list ap)
{
	size_t n;

	if (p->failed)
		return -1;
	p->failed = true;
	n = (size_t)snprintf(p->err->msg, sizeof(p->err->msg), "%s:%d: ", file, line);
	if (n < sizeof(p->err->msg) && kind != SEC_NONE)
		n += (size_t)snprintf(p->err->msg + n, sizeof(p->err->msg) - n,
				      "[%s%s%s]: ", conf_sec_word(kind),
				      path && *path ? " " : "", path ? path : "");
	if (n < sizeof(p->err->msg))
		vsnprintf(p->err->msg + n, sizeof(p->err->msg) - n, fmt, ap);
	errno = EINVAL;
	return -1;
}

/* conf_fail names the current section; conf_fail_plain names none (a bad
 * header, before its section exists); conf_fail_node names a node whose
 * section has already ended. */
int conf_fail(struct conf_parser *p, int line, const char *fmt, ...)
{
	const struct conf_node *n = p->sect.node;
	va_list ap;

	va_start(ap, fmt);
	conf_failv(p, p->f->name, line, p->sect.kind, n ? n->path : NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail_plain(struct conf_parser *p, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_failv(p, p->f->name, line, SEC_NONE, NULL, fmt, ap);
	va_end(ap);
	return -1;
}

int conf_fail_node(struct conf_parser *p, const struct conf_node *n, int line,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_failv(p, n->file, line, n->is_sup ? SEC_SUP : SEC_WORKER, n->path, fmt, ap);
	va_end(ap);
	return -1;
}

/* "FILE:LINE: [worker x]: key = value: what was expected", and where the
 * value came from when ${NAME} made it. */
int conf_bad(struct conf_parser *p, const struct conf_key *k, const char *v,
	     const char *fmt, ...)
{
	bool from = p->raw && p->value && strcmp(p->raw, p->value);
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return conf_fail(p, p->f->line, "%s = %s%s%s%s: %s", k->name, v,
			 from ? " (from " : "", from ? p->raw : "", from ? ")" : "", what);
}

/* Through the parser's own pointer to the table, so that the setters below
 * the table can ask too. */
int conf_seen(const struct conf_parser *p, const char *name)
{
	for (size_t i = 0; i < p->nkeys; i++)
		if (!strcmp(p->keys[i].name, name))
			return p->sect.seen[i];
	return 0;
}

int conf_nomem(struct conf_parser *p)
{
	if (p->f) {
		conf_fail_plain(p, p->f->line, "%s", strerror(ENOMEM));
	} else if (!p->failed) {
		snprintf(p->err->msg, sizeof(p->err->msg), "%s: %s", p->c->file,
			 strerror(ENOMEM));
		p->failed = true;
	}
	errno = ENOMEM;
	return -1;
}
