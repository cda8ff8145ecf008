/* conf_value: the words a value may be (booleans, integers, sizes, signals,
 * durations) and the distance between two words, for "did you mean". Pure
 * functions: no parser state, no errors printed. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf_value.h"

bool conf_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return true;
		}
	}
	return false;
}

/* A whole decimal integer in [min, max]: no blanks, no trailing junk. */
bool conf_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Bytes, with K, M or G (or KiB, MiB, GiB: the same powers of 1024). */
bool conf_parse_size(const char *s, unsigned long long max,
		     unsigned long long *out)
{
	static const struct {
		const char *sfx;
		unsigned shift;
	} sfx[] = {
		{ "", 0 }, { "K", 10 }, { "KiB", 10 }, { "M", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GiB", 30 },
	};
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcmp(end, sfx[i].sfx))
			continue;
		if (v > (max >> sfx[i].shift))
			return false;
		*out = v << sfx[i].shift;
		return true;
	}
	return false;
}

/* TERM, SIGTERM, term or 15: the forms kill(1) takes. */
bool conf_parse_signal(const char *s, int *out)
{
	long n;

	if (conf_parse_long(s, 1, NSIG - 1, &n)) {
		*out = (int)n;
		return true;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int sig = 1; sig < NSIG; sig++) {
		const char *name = sigabbrev_np(sig);

		if (name && !strcasecmp(s, name)) {
			*out = sig;
			return true;
		}
	}
	return false;
}

/* Seconds with up to three decimals, kept as milliseconds: 0.5 is 500. */
bool conf_parse_seconds(const char *s, long *ms)
{
	long whole = 0, frac = 0, scale = 100;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > INT_MAX)
			return false;
	}
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return false;
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10) {
			if (scale == 0 && *p != '0')
				return false;	/* finer than a millisecond */
			frac += (*p - '0') * scale;
		}
	}
	if (*p)
		return false;
	*ms = whole * 1000 + frac;
	return true;
}

size_t conf_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t d[65][65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t v = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/* The nearest word to s in words (by conf_distance), if near enough to be a
 * typo: at most 2 edits, and fewer than the word has letters. */
const char *conf_nearest(const char *s, const char *const *words, size_t n)
{
	const char *best = NULL;
	size_t bd = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t d = conf_distance(s, words[i]);

		if (d < bd) {
			bd = d;
			best = words[i];
		}
	}
	if (!best || bd > 2 || bd >= strlen(s))
		return NULL;
	return best;
}
