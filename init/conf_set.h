/* conf_set: the functions that read one key's value into the section's
 * node (conf_keys.c: the supervision keys and [arbor]; conf_setup.c: how a
 * worker's process is set up). Only conf_table.c needs them: it names each
 * one in the table of keys. Each returns 0, or -1 after conf_bad(). */
#ifndef ARBOR_CONF_SET_H
#define ARBOR_CONF_SET_H

#include "conf_int.h"

#define CONF_SETTER(name) \
	int name(struct conf_parser *p, const struct conf_key *k, const char *v)

/* conf_keys.c */
CONF_SETTER(conf_set_strategy);
CONF_SETTER(conf_set_restart);
CONF_SETTER(conf_set_auto);
CONF_SETTER(conf_set_intensity);
CONF_SETTER(conf_set_period);
CONF_SETTER(conf_set_shutdown);
CONF_SETTER(conf_set_stop_signal);
CONF_SETTER(conf_set_significant);
CONF_SETTER(conf_set_genserver);
CONF_SETTER(conf_set_command);
/* command's parsing, for every key that names a program (health_command) */
int conf_parse_command(struct conf_parser *p, const struct conf_key *k, const char *v,
		       char ***out);
CONF_SETTER(conf_set_ready);
CONF_SETTER(conf_set_start_timeout);
CONF_SETTER(conf_set_restart_delay);
CONF_SETTER(conf_set_max_message);
CONF_SETTER(conf_set_instances);
CONF_SETTER(conf_set_monitor);
CONF_SETTER(conf_set_socket);
CONF_SETTER(conf_set_control_group);
CONF_SETTER(conf_set_log_format);
CONF_SETTER(conf_set_include);
/* conf_health.c */
CONF_SETTER(conf_set_watchdog);
CONF_SETTER(conf_set_watchdog_signal);
CONF_SETTER(conf_set_health_command);
CONF_SETTER(conf_set_health_duration);
CONF_SETTER(conf_set_health_retries);
/* conf_setup.c */
CONF_SETTER(conf_set_user);
CONF_SETTER(conf_set_group);
CONF_SETTER(conf_set_groups);
CONF_SETTER(conf_set_caps);
CONF_SETTER(conf_set_rlimit);
CONF_SETTER(conf_set_nice);
CONF_SETTER(conf_set_oom);
CONF_SETTER(conf_set_umask);
CONF_SETTER(conf_set_cwd);
CONF_SETTER(conf_set_env);
CONF_SETTER(conf_set_env_file);
CONF_SETTER(conf_set_output);
CONF_SETTER(conf_set_log_max_size);
CONF_SETTER(conf_set_log_backups);
CONF_SETTER(conf_set_nnp);
CONF_SETTER(conf_set_clear_env);

#endif
