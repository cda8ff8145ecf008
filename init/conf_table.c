/* conf_table: every key a section takes and the function that reads its
 * value. One table, so that "unknown key" and "did you mean" know exactly
 * what exists, and so that `arbor check` can print every key it read. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/resource.h>

#include "conf_int.h"
#include "conf_set.h"

#define RL(n, r) { "rlimit_" n, KW_WORKER, conf_set_rlimit, r, false }

const struct conf_key conf_keys[] = {
	{ "control_socket", KW_ARBOR, conf_set_socket, 0, false },
	{ "control_group", KW_ARBOR, conf_set_control_group, 0, false },
	{ "include", KW_ARBOR, conf_set_include, 0, false },
	{ "log_format", KW_ARBOR, conf_set_log_format, 0, false },
	{ "strategy", KW_SUPS, conf_set_strategy, 0, false },
	{ "intensity", KW_SUPS | KW_WORKER, conf_set_intensity, 0, false },
	{ "period", KW_SUPS | KW_WORKER, conf_set_period, 0, false },
	{ "auto_shutdown", KW_SUPS, conf_set_auto, 0, false },
	{ "restart", KW_CHILD, conf_set_restart, 0, false },
	{ "shutdown", KW_CHILD, conf_set_shutdown, 0, false },
	{ "stop_signal", KW_CHILD, conf_set_stop_signal, 0, false },
	{ "significant", KW_CHILD, conf_set_significant, 0, false },
	{ "restart_delay", KW_SUPS | KW_WORKER, conf_set_restart_delay, 0, false },
	{ "restart_delay_max", KW_SUPS | KW_WORKER, conf_set_restart_delay, 1, false },
	{ "command", KW_WORKER, conf_set_command, 0, false },
	{ "genserver", KW_WORKER, conf_set_genserver, 0, false },
	{ "ready", KW_WORKER, conf_set_ready, 0, false },
	{ "start_timeout", KW_WORKER, conf_set_start_timeout, 0, false },
	{ "max_message", KW_WORKER, conf_set_max_message, 0, false },
	{ "watchdog", KW_WORKER, conf_set_watchdog, 0, false },
	{ "watchdog_signal", KW_WORKER, conf_set_watchdog_signal, 0, false },
	{ "health_command", KW_WORKER, conf_set_health_command, 0, false },
	{ "health_interval", KW_WORKER, conf_set_health_duration, 0, false },
	{ "health_timeout", KW_WORKER, conf_set_health_duration, 1, false },
	{ "health_start_period", KW_WORKER, conf_set_health_duration, 2, false },
	{ "health_retries", KW_WORKER, conf_set_health_retries, 0, false },
	{ "instances", KW_WORKER, conf_set_instances, 0, false },
	{ "monitor", KW_WORKER, conf_set_monitor, 0, false },
	{ "user", KW_WORKER, conf_set_user, 0, false },
	{ "group", KW_WORKER, conf_set_group, 0, false },
	{ "groups", KW_WORKER, conf_set_groups, 0, false },
	{ "capabilities", KW_WORKER, conf_set_caps, 0, false },
	{ "no_new_privs", KW_WORKER, conf_set_nnp, 0, false },
	{ "nice", KW_WORKER, conf_set_nice, 0, false },
	{ "oom_score_adj", KW_WORKER, conf_set_oom, 0, false },
	{ "umask", KW_WORKER, conf_set_umask, 0, false },
	{ "cwd", KW_WORKER, conf_set_cwd, 0, false },
	{ "env", KW_SUPS | KW_WORKER, conf_set_env, 0, true },
	{ "env_file", KW_WORKER, conf_set_env_file, 0, false },
	{ "clear_env", KW_WORKER, conf_set_clear_env, 0, false },
	{ "stdout", KW_WORKER, conf_set_output, 1, false },
	{ "stderr", KW_WORKER, conf_set_output, 2, false },
	{ "log_max_size", KW_SUPS | KW_WORKER, conf_set_log_max_size, 0, false },
	{ "log_backups", KW_SUPS | KW_WORKER, conf_set_log_backups, 0, false },
	RL("as", RLIMIT_AS),
	RL("core", RLIMIT_CORE),
	RL("cpu", RLIMIT_CPU),
	RL("data", RLIMIT_DATA),
	RL("fsize", RLIMIT_FSIZE),
	RL("locks", RLIMIT_LOCKS),
	RL("memlock", RLIMIT_MEMLOCK),
	RL("msgqueue", RLIMIT_MSGQUEUE),
	RL("nice", RLIMIT_NICE),
	RL("nofile", RLIMIT_NOFILE),
	RL("nproc", RLIMIT_NPROC),
	RL("rss", RLIMIT_RSS),
	RL("rtprio", RLIMIT_RTPRIO),
	RL("rttime", RLIMIT_RTTIME),
	RL("sigpending", RLIMIT_SIGPENDING),
	RL("stack", RLIMIT_STACK),
};

const size_t conf_nkeys = sizeof(conf_keys) / sizeof(conf_keys[0]);

_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) <= CONF_NKEYS_MAX,
	       "conf_sect.seen is too small");
_Static_assert(sizeof(conf_keys) / sizeof(conf_keys[0]) <= 64 * 2,
	       "conf_node.keys_read is too small");
_Static_assert(RLIMIT_NLIMITS <= CONF_NLIMITS, "CONF_NLIMITS is too small");

/* A linear scan: the table is short and keys are looked up once per line. */
int conf_key_index(const char *name)
{
	for (size_t i = 0; i < conf_nkeys; i++)
		if (!strcmp(conf_keys[i].name, name))
			return (int)i;
	return -1;
}
