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

/* The units a duration may carry. "m" is refused as ambiguous (minutes to
 * systemd, a typo for ms to most readers). */
static const struct {
	const char *name;
	long ms;
} conf_units[] = {
	{ "ms", 1 }, { "s", 1000 }, { "min", 60 * 1000 }, { "h", 60 * 60 * 1000 },
};

/* The milliseconds of one UNIT (as written after a number), or 0 with *why. */
static long conf_unit_ms(const char *unit, long bare_ms, const char **why)
{
	unit += strspn(unit, " \t");
	if (!*unit)
		return bare_ms;
	for (size_t i = 0; i < sizeof(conf_units) / sizeof(conf_units[0]); i++)
		if (!strcmp(unit, conf_units[i].name))
			return conf_units[i].ms;
	*why = !strcmp(unit, "m") ? "'m' is ambiguous (write ms or min)" : "unknown unit";
	return 0;
}

/* Reads the digits at *sp into *n (at most max, else *why); the number of
 * digits read. */
static int conf_digits(const char **sp, long long max, long long *n,
		       const char **why)
{
	int count = 0;

	for (*n = 0; isdigit((unsigned char)**sp); (*sp)++, count++) {
		*n = *n * 10 + (**sp - '0');
		if (*n > max) {
			*why = "too large (at most 2147483647s)";
			return -1;
		}
	}
	return count;
}

/* A number with decimals and an optional unit (500ms, 10s, 1.5min, 2h): a
 * bare number is in units of bare_ms. The result must be whole
 * milliseconds, at most CONF_DURATION_MAX_MS. */
int conf_parse_duration(const char *s, long bare_ms, long *ms, const char **why)
{
	long long whole, frac = 0, scale = 1, total;
	const char *p = s;
	long unit;

	*why = *s == '-' ? "negative" : "not a number";
	if (!isdigit((unsigned char)*p) ||
	    conf_digits(&p, CONF_DURATION_MAX_MS, &whole, why) < 0)
		return -1;
	if (*p == '.') {
		p++;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale == 1000000000LL) {
				if (*p != '0')
					goto err_fine;
				continue;
			}
			frac = frac * 10 + (*p - '0');
			scale *= 10;
		}
		if (scale == 1) {
			*why = "no digit after '.'";
			return -1;
		}
	}
	unit = conf_unit_ms(p, bare_ms, why);
	if (!unit)
		return -1;
	if (frac * unit % scale)
		goto err_fine;
	total = frac * unit / scale;
	if (whole > (CONF_DURATION_MAX_MS - total) / unit) {
		*why = "too large (at most 2147483647s)";
		return -1;
	}
	*ms = (long)(whole * unit + total);
	return 0;

err_fine:
	*why = "finer than a millisecond";
	return -1;
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
