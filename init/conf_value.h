/* conf_value: what a value in an INI file may be, read without a parser.
 * The bottom layer of the conf module (conf_value.c, conf_split.c,
 * conf_expand.c): pure functions, which the layers above (conf_keys.c,
 * conf_setup.c, conf.c) turn into errors naming FILE:LINE. */
#ifndef ARBOR_CONF_VALUE_H
#define ARBOR_CONF_VALUE_H

#include <stdbool.h>
#include <stddef.h>

/* Values (conf_value.c). Each returns false when s is not one. */
bool conf_parse_bool(const char *s, bool *out);
bool conf_parse_long(const char *s, long min, long max, long *out);
bool conf_parse_size(const char *s, unsigned long long max,
		     unsigned long long *out);
bool conf_parse_signal(const char *s, int *out);

/* Durations: at most CONF_DURATION_MAX_MS (2^31-1 seconds). */
#define CONF_DURATION_MAX_MS (2147483647LL * 1000)
/* A number with up to nine decimals and an optional unit (ms, s, min, h): a
 * bare number is in units of bare_ms (1000 for a key in seconds). 0 and
 * *ms, or -1 with *why (negative, not a number, unknown unit, too large,
 * finer than a millisecond). */
int conf_parse_duration(const char *s, long bare_ms, long *ms, const char **why);

/* The edit distance used for "did you mean": insertions, deletions,
 * substitutions and swaps of two neighbours each cost one. */
size_t conf_distance(const char *a, const char *b);
/* The word of words nearest to s, if near enough to be a typo, or NULL. */
const char *conf_nearest(const char *s, const char *const *words, size_t n);

/* ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message},
 * ${NAME?message} from the environment, $$ as $, any other $ as it is
 * (conf_expand.c): 0 and *out (allocated), or -1 with errno (EINVAL: what
 * is wrong in why, naming the ${...}; ENOMEM). */
int conf_expand(const char *in, char **out, char *why, size_t len);

/* Command lines and paths (conf_split.c; conf_split itself is in conf.h). */
/* PATH made absolute against dir ("." and ".." are dropped lexically). */
char *conf_path_join(const char *dir, const char *path);
/* Finds argv[0] as exec would, relative to dir or in $PATH: 0 and *full
 * (allocated), or -1 with *full the path that failed (or NULL when out of
 * memory) and *why what is wrong with it. */
int conf_find_program(const char *prog, const char *dir, char **full,
		      const char **why);
void conf_argv_free(char **argv);
size_t conf_argv_len(char *const *argv);
/* argv as one allocation, the pointers then the words, freed by one
 * free(): what a node keeps of command and health_command, one a worker.
 * argv is freed; NULL on ENOMEM (argv freed all the same). */
char **conf_argv_pack(char **argv);

#endif
