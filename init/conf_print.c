/* conf_print: the tree as `arbor check` shows it, drawn as tree(1) does,
 * one node a line, then a summary for scripts. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

static const char *const conf_strategy_names[] = { "one_for_one", "one_for_all", "rest_for_one" };
static const char *const conf_restart_names[] = { "permanent", "transient", "temporary" };
static const char *const conf_auto_names[] = { "never", "any_significant", "all_significant" };

/* Prints a word so that conf_split would read it back the same. */
static void conf_print_word(FILE *f, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789_-+=/.,:@%") == strlen(w)) {
		fputs(w, f);
		return;
	}
	fputc('\'', f);
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", f);
		else
			fputc(*w, f);
	}
	fputc('\'', f);
}

/* Milliseconds as the seconds one would write: 5000 is 5, 500 is 0.5. */
static void conf_print_seconds(FILE *f, long ms)
{
	if (ms % 1000 == 0)
		fprintf(f, "%ld", ms / 1000);
	else if (ms % 100 == 0)
		fprintf(f, "%ld.%ld", ms / 1000, ms % 1000 / 100);
	else if (ms % 10 == 0)
		fprintf(f, "%ld.%02ld", ms / 1000, ms % 1000 / 10);
	else
		fprintf(f, "%ld.%03ld", ms / 1000, ms % 1000);
}

/* A node's main keys in INI terms, defaults left out where they are the
 * rule, so that a line reads like its section. */
static void conf_print_keys(FILE *f, const struct conf_node *n)
{
	if (n->is_pool)
		fprintf(f, "pool instances=%d", n->instances);
	else if (n->is_sup)
		fprintf(f, "supervisor strategy=%s", conf_strategy_names[n->strategy]);
	else
		fprintf(f, "worker restart=%s", conf_restart_names[n->restart]);
	if (n->is_sup) {
		fprintf(f, " intensity=%d period=", n->intensity);
		conf_print_seconds(f, n->period_ms);
		if (n->auto_shutdown != AUTO_NEVER)
			fprintf(f, " auto_shutdown=%s", conf_auto_names[n->auto_shutdown]);
		if (!n->is_pool && n->parent && n->restart != RESTART_PERMANENT)
			fprintf(f, " restart=%s", conf_restart_names[n->restart]);
	}
	if (n->significant)
		fputs(" significant=yes", f);
	if (!n->is_sup && n->genserver)
		fputs(" genserver=yes", f);
	if (!n->is_sup && n->setup.has_user)
		fprintf(f, " user=%s", n->setup.user);
	if (!n->is_sup && n->argv) {
		fputs(" command=", f);
		for (char **a = n->argv; *a; a++) {
			if (a != n->argv)
				fputc(' ', f);
			conf_print_word(f, *a);
		}
	}
	fputc('\n', f);
}

static bool conf_is_last(const struct conf_node *n)
{
	return n->parent->kids[n->parent->nkids - 1] == n;
}

/* The columns left of a node: one per ancestor below the root, a bar where
 * that ancestor has siblings still to come. */
static void conf_print_cols(FILE *f, const struct conf_node *n)
{
	const struct conf_node *up = n->parent;

	if (!up || !up->parent)
		return;
	conf_print_cols(f, up);
	fputs(conf_is_last(up) ? "    " : "\u2502   ", f);
}

static void conf_print_node(FILE *f, const struct conf_node *n,
			    size_t *sups, size_t *workers)
{
	if (n->parent) {
		conf_print_cols(f, n);
		fputs(conf_is_last(n) ? "\u2514\u2500\u2500 " : "\u251c\u2500\u2500 ", f);
		fprintf(f, "%s: ", n->name);
	} else {
		fputs("root: ", f);
	}
	conf_print_keys(f, n);
	if (n->is_sup)
		++*sups;
	else
		++*workers;
	for (size_t i = 0; i < n->nkids; i++)
		conf_print_node(f, n->kids[i], sups, workers);
}

/* tree(1)'s drawing, one node a line, then a summary for scripts. */
void conf_print(const struct conf *c, FILE *f)
{
	size_t sups = 0, workers = 0;

	conf_print_node(f, c->root, &sups, &workers);
	fprintf(f, "%s: ok (%zu supervisor%s, %zu worker%s)\n",
		c->file ? c->file : "(no file)", sups, sups == 1 ? "" : "s",
		workers, workers == 1 ? "" : "s");
}
