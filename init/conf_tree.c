/* conf_tree: the tree once read: building, finding, comparing and freeing
 * nodes, and handing supervisors' env down to their workers. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* OTP's defaults, and arbor's where OTP has none. */
struct conf_node *conf_node_new(bool is_sup)
{
	struct conf_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->is_sup = is_sup;
	n->restart = RESTART_PERMANENT;
	n->shutdown_ms = is_sup ? CONF_INFINITY : 5000;
	n->stop_signal = SIGTERM;
	n->strategy = STRAT_ONE_FOR_ONE;
	n->intensity = 1;
	n->period_ms = 5000;
	n->auto_shutdown = AUTO_NEVER;
	n->ready = READY_EXEC;
	n->start_timeout_ms = 30000;
	n->max_message = 1024 * 1024;
	n->restart_delay_ms = -1;
	n->restart_delay_max_ms = -1;
	n->health.watchdog_signal = SIGABRT;
	n->health.interval_ms = 10000;
	n->health.timeout_ms = 5000;
	n->health.retries = 3;
	n->log_max_size = CONF_UNSET;
	n->log_backups = -1;
	return n;
}

/* Frees n and its subtree. Members of a pool share the pool's argv and
 * setup, which the pool frees; a node shares its parent's file name when
 * both are in the same file. */
void conf_node_free(struct conf_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		conf_node_free(n->kids[i]);
	free(n->kids);
	if (!(n->parent && n->parent->is_pool)) {
		free(n->argv);	/* each one allocation: conf_argv_pack */
		free(n->health.argv);
		conf_setup_free(&n->setup);
		conf_argv_free(n->monitor);
	}
	free(n->path);
	if (!n->parent || n->file != n->parent->file)	/* else its parent's */
		free(n->file);
	free(n);
}

/* Appends kid to parent's children: file order is start order. The array
 * doubles when full (its size a power of 2, from nkids alone): grown by one
 * it left a trail of freed copies in the heap, one a child. */
int conf_node_adopt(struct conf_node *parent, struct conf_node *kid)
{
	size_t n = parent->nkids;

	if ((n & (n - 1)) == 0) {	/* 0, 1, 2, 4, ...: full */
		struct conf_node **nk = realloc(parent->kids, (n ? 2 * n : 1) * sizeof(*nk));

		if (!nk)
			return -1;
		parent->kids = nk;
	}
	parent->kids[parent->nkids++] = kid;
	kid->parent = parent;
	return 0;
}

bool conf_is_member_name(const char *name)
{
	return name[0] >= '1' && name[0] <= '9' &&
	       strspn(name, "0123456789") == strlen(name);
}

void conf_member_keys(struct conf_node *m, const struct conf_node *pool)
{
	m->line = pool->line;
	m->restart = pool->member_restart;
	m->shutdown_ms = pool->member_shutdown_ms;
	m->stop_signal = pool->member_stop_signal;
	m->genserver = pool->genserver;
	m->ready = pool->ready;
	m->ready_fd = pool->ready_fd;
	m->start_timeout_ms = pool->start_timeout_ms;
	m->max_message = pool->max_message;
	m->health = pool->health;
	m->health.argv = NULL;	/* shared by the caller, as argv is */
}

char *const *conf_monitors(const struct conf_node *n)
{
	if (n->parent && n->parent->is_pool)
		n = n->parent;
	return n->monitor;
}

/* Members point at their pool's argv and setup rather than copying them:
 * one command and one set-up for N processes, freed once (conf_node_free
 * skips them under a pool), and a member made now is the same as one made
 * from the file, for conf_node_same as for the supervisor. */
struct conf_node *conf_pool_add(struct conf *c, struct conf_node *pool, const char *name)
{
	struct conf_node *m;

	if (!pool || !pool->is_pool || !conf_is_member_name(name) ||
	    (c && conf_find(c, pool->path) != pool)) {
		errno = EINVAL;
		return NULL;
	}
	m = conf_node_new(false);
	if (!m)
		goto err_nomem;
	if (asprintf(&m->path, "%s/%s", pool->path, name) < 0) {
		m->path = NULL;
		goto err_free_node;
	}
	m->name = m->path + strlen(pool->path) + 1;
	conf_member_keys(m, pool);
	if (conf_node_adopt(pool, m) < 0)
		goto err_free_node;
	m->file = pool->file;	/* freed by the pool (see conf_node_free) */
	conf_backoff(m, &m->backoff_ms, &m->backoff_max_ms);
	m->argv = pool->argv;	/* shared only once adopted: freed by the pool */
	m->health.argv = pool->health.argv;
	m->setup = pool->setup;
	return m;

err_free_node:
	conf_node_free(m);
err_nomem:
	errno = ENOMEM;
	return NULL;
}

void conf_backoff(const struct conf_node *n, long *delay_ms, long *max_ms)
{
	const struct conf_node *x = n;

	if (n->is_sup || (n->parent && n->parent->is_pool))
		x = n->parent;	/* a pool's own keys are its members' */

	*delay_ms = *max_ms = -1;
	for (; x && (*delay_ms < 0 || *max_ms < 0); x = x->parent) {
		if (*delay_ms < 0)
			*delay_ms = x->restart_delay_ms;
		if (*max_ms < 0)
			*max_ms = x->restart_delay_max_ms;
	}
	if (*delay_ms < 0)
		*delay_ms = 0;
	if (*max_ms < 0)
		*max_ms = *delay_ms;
}

struct conf *conf_empty(void)
{
	struct conf *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->root = conf_node_new(true);
	if (!c->root)
		goto err_free_conf;
	c->root->path = strdup("");
	if (!c->root->path)
		goto err_free_root;
	c->root->name = c->root->path;
	c->log_format = LOG_TEXT;
	return c;

err_free_root:
	conf_node_free(c->root);
err_free_conf:
	free(c);
	errno = ENOMEM;
	return NULL;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	conf_node_free(c->root);
	free(c->file);
	free(c->control_socket);
	free(c->control_group);
	conf_argv_free(c->includes);
	free(c);
}

/* Walks down one component at a time: trees are small and shallow. */
struct conf_node *conf_find(const struct conf *c, const char *path)
{
	struct conf_node *n = c->root;
	const char *s = path;

	while (n && *s) {
		size_t len = strcspn(s, "/");
		struct conf_node *next = NULL;

		for (size_t i = 0; i < n->nkids; i++) {
			if (strlen(n->kids[i]->name) == len &&
			    !strncmp(n->kids[i]->name, s, len)) {
				next = n->kids[i];
				break;
			}
		}
		n = next;
		s += len;
		if (*s == '/' && !*++s)
			return NULL;
	}
	return n;
}

static bool conf_str_same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool conf_argv_same(char *const *a, char *const *b)
{
	size_t n = conf_argv_len(a);

	if (n != conf_argv_len(b))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]))
			return false;
	return true;
}

static bool conf_output_same(const struct conf_output *a, const struct conf_output *b)
{
	return a->kind == b->kind && conf_str_same(a->path, b->path);
}

/* Every field, by content: pool members share their pool's pointers. */
static bool conf_setup_same(const struct conf_setup *a, const struct conf_setup *b)
{
	if (!conf_str_same(a->user, b->user) || a->uid != b->uid || a->gid != b->gid ||
	    !conf_str_same(a->home, b->home) || a->has_user != b->has_user ||
	    a->has_group != b->has_group || a->has_groups != b->has_groups ||
	    a->ngroups != b->ngroups || a->has_caps != b->has_caps ||
	    a->ncaps != b->ncaps || a->no_new_privs != b->no_new_privs ||
	    a->has_nice != b->has_nice || a->nice != b->nice ||
	    a->has_oom != b->has_oom || a->oom_score_adj != b->oom_score_adj ||
	    a->has_umask != b->has_umask || a->umask != b->umask ||
	    !conf_str_same(a->cwd, b->cwd) || !conf_argv_same(a->env, b->env) ||
	    !conf_str_same(a->env_file, b->env_file) || a->clear_env != b->clear_env ||
	    !conf_output_same(&a->out, &b->out) || !conf_output_same(&a->err, &b->err) ||
	    a->log_max_size != b->log_max_size || a->log_backups != b->log_backups)
		return false;
	if (a->ngroups && memcmp(a->groups, b->groups, a->ngroups * sizeof(*a->groups)))
		return false;
	if (a->ncaps && memcmp(a->caps, b->caps, a->ncaps * sizeof(*a->caps)))
		return false;
	for (size_t i = 0; (a->rlimits || b->rlimits) && i < CONF_NLIMITS; i++) {
		static const struct conf_rlimit unset;
		const struct conf_rlimit *x = a->rlimits ? &a->rlimits[i] : &unset;
		const struct conf_rlimit *y = b->rlimits ? &b->rlimits[i] : &unset;

		if (x->set != y->set || (x->set && (x->lim.rlim_cur != y->lim.rlim_cur ||
						    x->lim.rlim_max != y->lim.rlim_max)))
			return false;
	}
	return true;
}

static bool conf_health_same(const struct conf_health *a, const struct conf_health *b)
{
	return a->watchdog_ms == b->watchdog_ms && a->watchdog_signal == b->watchdog_signal &&
	       conf_argv_same(a->argv, b->argv) && a->interval_ms == b->interval_ms &&
	       a->timeout_ms == b->timeout_ms && a->retries == b->retries &&
	       a->start_period_ms == b->start_period_ms;
}

/* Where a node is in the file does not matter; what it runs and how does. */
bool conf_node_same(const struct conf_node *a, const struct conf_node *b)
{
	return conf_str_same(a->path, b->path) && a->is_sup == b->is_sup &&
	       a->is_pool == b->is_pool && a->restart == b->restart &&
	       a->shutdown_ms == b->shutdown_ms && a->stop_signal == b->stop_signal &&
	       a->significant == b->significant && a->strategy == b->strategy &&
	       a->intensity == b->intensity && a->period_ms == b->period_ms &&
	       a->auto_shutdown == b->auto_shutdown && conf_argv_same(a->argv, b->argv) &&
	       a->genserver == b->genserver && a->ready == b->ready &&
	       a->ready_fd == b->ready_fd && a->start_timeout_ms == b->start_timeout_ms &&
	       a->max_message == b->max_message && a->instances == b->instances &&
	       conf_argv_same(a->monitor, b->monitor) && conf_setup_same(&a->setup, &b->setup) &&
	       conf_health_same(&a->health, &b->health);
}

/* Frees a worker's set-up; a pool frees its members' (they share it). */
void conf_setup_free(struct conf_setup *s)
{
	free(s->user);
	free(s->home);
	free(s->groups);
	free(s->caps);
	free(s->rlimits);
	free(s->cwd);
	conf_argv_free(s->env);
	free(s->env_file);
	free(s->out.path);
	free(s->err.path);
	memset(s, 0, sizeof(*s));
}

/* Sets NAME=VALUE in the NULL-terminated list *env of *n entries: in place
 * when NAME is there already (the later one wins), else at the end. */
static int conf_env_set(char ***env, size_t *n, const char *kv)
{
	size_t klen = strcspn(kv, "=") + 1;
	char *copy = strdup(kv), **ne;

	if (!copy)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		if (!strncmp((*env)[i], kv, klen)) {
			free((*env)[i]);
			(*env)[i] = copy;
			return 0;
		}
	}
	ne = realloc(*env, (*n + 2) * sizeof(*ne));
	if (!ne) {
		free(copy);
		return -1;
	}
	*env = ne;
	ne[(*n)++] = copy;
	ne[*n] = NULL;
	return 0;
}

/* up's entries, then own's over them: a new list (NULL when both are
 * empty), or -1. */
static int conf_env_merge(char *const *up, char *const *own, char ***out)
{
	char **env = NULL;
	size_t n = 0;

	for (size_t i = 0; up && up[i]; i++)
		if (conf_env_set(&env, &n, up[i]) < 0)
			goto err_free;
	for (size_t i = 0; own && own[i]; i++)
		if (conf_env_set(&env, &n, own[i]) < 0)
			goto err_free;
	*out = env;
	return 0;

err_free:
	conf_argv_free(env);
	return -1;
}

/* A worker (or a pool, whose members share its set-up) gets what its
 * supervisors' env = lines give it under its own. */
static int conf_inherit_node(struct conf_node *n, char *const *up)
{
	char **env;

	if (conf_env_merge(up, n->setup.env, &env) < 0)
		return -1;
	if (n->is_sup && !n->is_pool) {
		for (size_t i = 0; i < n->nkids; i++) {
			if (conf_inherit_node(n->kids[i], env) < 0) {
				conf_argv_free(env);
				return -1;
			}
		}
		conf_argv_free(env);
		return 0;
	}
	conf_argv_free(n->setup.env);
	n->setup.env = env;
	conf_log_rotation(n, &n->setup.log_max_size, &n->setup.log_backups);
	for (size_t i = 0; n->is_pool && i < n->nkids; i++) {
		n->kids[i]->setup.env = env;
		n->kids[i]->setup.log_max_size = n->setup.log_max_size;
		n->kids[i]->setup.log_backups = n->setup.log_backups;
	}
	return 0;
}

void conf_log_rotation(const struct conf_node *n, size_t *max, int *backups)
{
	*max = CONF_UNSET;
	*backups = -1;
	for (const struct conf_node *x = n; x; x = x->parent) {
		if (*max == CONF_UNSET)
			*max = x->log_max_size;
		if (*backups < 0)
			*backups = x->log_backups;
	}
	if (*max == CONF_UNSET)
		*max = 0;
	if (*backups < 0)
		*backups = 5;
}

/* Every node's backoff as a child, found once, off the restart path. */
static void conf_inherit_backoff(struct conf_node *n)
{
	conf_backoff(n, &n->backoff_ms, &n->backoff_max_ms);
	for (size_t i = 0; i < n->nkids; i++)
		conf_inherit_backoff(n->kids[i]);
}

int conf_inherit_env(struct conf *c)
{
	struct conf_node *root = c->root;

	conf_inherit_backoff(root);

	for (size_t i = 0; i < root->nkids; i++)
		if (conf_inherit_node(root->kids[i], root->setup.env) < 0)
			return -1;
	return 0;
}
