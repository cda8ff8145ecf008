/* conf_expand: ${NAME} in a value, from arbor's own environment, as
 * docker-compose and POSIX sh read them: ${NAME}, ${NAME:-default},
 * ${NAME-default}, ${NAME:?message} and ${NAME?message}; $$ is one $. A
 * bare $NAME (or any other $) is left as it is, so that a command line for
 * sh -c keeps its own variables. A default may hold ${...} itself; it is
 * read only when it is used. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_value.h"

/* The value being written, and the first error. */
struct conf_exp {
	char *out;
	size_t len, cap;
	char *why;
	size_t wlen;
	bool failed;
};

static int exp_fail(struct conf_exp *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int exp_fail(struct conf_exp *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->failed) {
		va_start(ap, fmt);
		vsnprintf(e->why, e->wlen, fmt, ap);
		va_end(ap);
		e->failed = true;
	}
	errno = EINVAL;
	return -1;
}

static int exp_nomem(struct conf_exp *e)
{
	exp_fail(e, "%s", strerror(ENOMEM));
	errno = ENOMEM;
	return -1;
}

static int exp_put(struct conf_exp *e, const char *s, size_t n)
{
	if (e->len + n + 1 > e->cap) {
		size_t cap = (e->len + n + 1) * 2;
		char *o = realloc(e->out, cap);

		if (!o)
			return exp_nomem(e);
		e->out = o;
		e->cap = cap;
	}
	memcpy(e->out + e->len, s, n);
	e->len += n;
	e->out[e->len] = '\0';
	return 0;
}

static int exp_text(struct conf_exp *e, const char **sp, const char *open, bool use);

/* The length of the name at s: a letter or _, then letters, digits, _. */
static size_t exp_name_len(const char *s)
{
	size_t n = 0;

	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_')
		n++;
	return n;
}

/* The ${...} that begins at open, for messages: up to its closing brace
 * (past those of the ${...} inside it), or to the end. */
static int exp_shown(const char *open)
{
	int depth = 0, i;

	for (i = 0; open[i]; i++) {
		if (open[i] == '$' && open[i + 1] == '{') {
			depth++;
			i++;
		} else if (open[i] == '}' && --depth == 0) {
			return i + 1;
		}
	}
	return i;
}

/* After ${NAME: the operator and its word, or the closing brace. The word
 * is expanded into the output when the variable does not stand (use), and
 * only read otherwise. */
static int exp_operator(struct conf_exp *e, const char **sp, const char *open,
			const char *name, size_t nlen, bool use)
{
	const char *s = *sp, *val = NULL;
	bool colon = *s == ':', stands;
	char op;
	size_t mark;

	if (use) {
		char *var = strndup(name, nlen);

		if (!var)
			return exp_nomem(e);
		val = getenv(var);
		free(var);
	}
	if (*s == '}') {
		*sp = s + 1;
		if (use && !val)
			return exp_fail(e, "%.*s: %.*s is not set (give a default: ${%.*s:-VALUE})",
					exp_shown(open), open, (int)nlen, name, (int)nlen, name);
		return use ? exp_put(e, val, strlen(val)) : 0;
	}
	op = s[colon];
	if (op != '-' && op != '?')
		return exp_fail(e, "%.*s: expected }, :-, -, :? or ? after the name %.*s",
				exp_shown(open), open, (int)nlen, name);
	*sp = s + colon + 1;
	stands = val && (!colon || *val);
	mark = e->len;
	if (exp_text(e, sp, open, use && !stands) < 0)
		return -1;
	if (!use || stands)
		return use ? exp_put(e, val, strlen(val)) : 0;
	if (op == '-')
		return 0;
	return exp_fail(e, "%.*s: %.*s is %s%s%s", exp_shown(open), open, (int)nlen, name,
			val ? "empty" : "not set", mark < e->len ? ": " : "", e->out + mark);
}

/* ${...} at *sp (just after the '$'). */
static int exp_brace(struct conf_exp *e, const char **sp, bool use)
{
	const char *open = *sp - 1, *name = *sp + 1;
	size_t nlen = exp_name_len(name);

	if (!strchr(name, '}'))
		return exp_fail(e, "%s: unclosed '${' (write $$ for a literal $)", open);
	if (nlen == 0) {
		size_t bad = strcspn(name, ":-?}");

		if (bad == 0)
			return exp_fail(e, "%.*s: empty variable name", exp_shown(open), open);
		return exp_fail(e, "%.*s: bad variable name '%.*s' (letters, digits and _, not starting with a digit)",
				exp_shown(open), open, (int)bad, name);
	}
	*sp = name + nlen;
	if (!**sp || !strchr("}:-?", **sp))
		return exp_fail(e, "%.*s: bad variable name '%.*s' (letters, digits and _, not starting with a digit)",
				exp_shown(open), open, (int)strcspn(name, ":-?}"), name);
	return exp_operator(e, sp, open, name, nlen, use);
}

/* Text up to the end, or for the word of ${NAME:-word} (open: its "${")
 * up to its closing brace, with $$ and ${...} replaced when use is set. */
static int exp_text(struct conf_exp *e, const char **sp, const char *open, bool use)
{
	const char *s = *sp;

	while (*s && !(open && *s == '}')) {
		size_t run = strcspn(s, open ? "$}" : "$");

		if (use && exp_put(e, s, run) < 0)
			return -1;
		s += run;
		if (*s != '$')
			continue;
		if (s[1] == '{') {
			s++;
			if (exp_brace(e, &s, use) < 0)
				return -1;
			continue;
		}
		/* $$ is one $; any other $ stays as it is */
		if (use && exp_put(e, "$", 1) < 0)
			return -1;
		s += s[1] == '$' ? 2 : 1;
	}
	if (open && !*s)
		return exp_fail(e, "%s: unclosed '${' (write $$ for a literal $)", open);
	*sp = open ? s + 1 : s;
	return 0;
}

int conf_expand(const char *in, char **out, char *why, size_t len)
{
	struct conf_exp e = { .why = why, .wlen = len };
	const char *s = in;

	*out = NULL;
	if (exp_put(&e, "", 0) < 0 || exp_text(&e, &s, NULL, true) < 0) {
		int err = errno;

		free(e.out);
		errno = err;
		return -1;
	}
	*out = e.out;
	return 0;
}
