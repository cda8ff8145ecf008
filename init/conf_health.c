/* conf_health: the keys of a worker's watchdog and health check. Durations
 * take a unit, as everywhere; a bare number is in seconds, as Docker's
 * HEALTHCHECK and systemd's WatchdogSec= read it. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "conf_set.h"
#include "conf_int.h"

#define HEALTH_UNITS "seconds (10, 0.5) or a duration with a unit (500ms, 10s, 2min)"

static int health_duration(struct conf_parser *p, const struct conf_key *k, const char *v,
			   long min_ms, long *out)
{
	const char *why;

	if (conf_parse_duration(v, 1000, out, &why) < 0)
		return conf_bad(p, k, v, "%s: expected %s%s", why,
				min_ms ? "" : "0 or ", HEALTH_UNITS);
	if (*out > INT_MAX)
		return conf_bad(p, k, v, "longer than 24 days");
	if (*out < min_ms)
		return conf_bad(p, k, v, "expected %s", HEALTH_UNITS);
	return 0;
}

/* watchdog = 0 is no watchdog, as systemd's WatchdogSec=0. */
int conf_set_watchdog(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	return health_duration(p, k, v, 0, &p->sect.node->health.watchdog_ms);
}

int conf_set_watchdog_signal(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	if (!conf_parse_signal(v, &p->sect.node->health.watchdog_signal))
		return conf_bad(p, k, v, "expected a signal name or number (ABRT, SIGKILL, 6)");
	return 0;
}

/* Split and its program found now, as command's (conf_parse_command). */
int conf_set_health_command(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_health *h = &p->sect.node->health;
	char **argv;

	if (conf_parse_command(p, k, v, &argv) < 0)
		return -1;
	free(h->argv);		/* packed */
	h->argv = argv;
	return 0;
}

/* health_interval (arg 0), health_timeout (1), health_start_period (2). */
int conf_set_health_duration(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	struct conf_health *h = &p->sect.node->health;
	long *out[] = { &h->interval_ms, &h->timeout_ms, &h->start_period_ms };

	return health_duration(p, k, v, k->arg == 2 ? 0 : 1, out[k->arg]);
}

int conf_set_health_retries(struct conf_parser *p, const struct conf_key *k, const char *v)
{
	long n;

	if (!conf_parse_long(v, 1, INT_MAX, &n))
		return conf_bad(p, k, v, "expected an integer >= 1");
	p->sect.node->health.retries = (int)n;
	return 0;
}
