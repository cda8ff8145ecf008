/* conf_split: command lines split into words as sh would, and the program
 * found as exec would find it, so that a typo shows up in `arbor check`
 * rather than as a worker that fails to start. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_value.h"

/* argv arrays are NULL-terminated, each word allocated on its own. */
void conf_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

size_t conf_argv_len(char *const *argv)
{
	size_t n = 0;

	while (argv && argv[n])
		n++;
	return n;
}

char **conf_argv_pack(char **argv)
{
	size_t n = conf_argv_len(argv), size = (n + 1) * sizeof(*argv);
	char **v, *at;

	for (size_t i = 0; i < n; i++)
		size += strlen(argv[i]) + 1;
	v = malloc(size);
	if (v) {
		at = (char *)(v + n + 1);
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(argv[i]) + 1;

			v[i] = memcpy(at, argv[i], len);
			at += len;
		}
		v[n] = NULL;
	}
	conf_argv_free(argv);
	return v;
}

static bool conf_is_blank(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Appends a copy of word to the growing, NULL-terminated *v. */
static int conf_argv_push(char ***v, size_t *n, const char *word)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -1;
	*v = nv;
	nv[*n] = strdup(word);
	if (!nv[*n])
		return -1;
	nv[++*n] = NULL;
	return 0;
}

/* The pieces of a word, each read from *sp into word + *len: 0, or -1
 * with a syntax error in *why. */

/* 'text': taken as it is, up to the next '. */
static int conf_split_single(const char **sp, char *word, size_t *len,
			     const char **why)
{
	const char *s = *sp, *end = strchr(s + 1, '\'');

	if (!end) {
		*why = "unterminated single quote";
		return -1;
	}
	memcpy(word + *len, s + 1, end - s - 1);
	*len += end - s - 1;
	*sp = end + 1;
	return 0;
}

/* "text": POSIX says that inside "", \ quotes only $ ` " \ and newline. */
static int conf_split_double(const char **sp, char *word, size_t *len,
			     const char **why)
{
	const char *s = *sp;

	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1] && strchr("$`\"\\\n", s[1])) {
			s++;
			if (*s == '\n')
				continue;
		}
		word[(*len)++] = *s;
	}
	if (!*s) {
		*why = "unterminated double quote";
		return -1;
	}
	*sp = s + 1;
	return 0;
}

/* \c: c itself; \ and a newline: nothing (a line continuation). */
static int conf_split_backslash(const char **sp, char *word, size_t *len,
				const char **why, bool *some)
{
	const char *s = *sp;

	if (!s[1]) {
		*why = "backslash at the end";
		return -1;
	}
	if (s[1] != '\n') {
		word[(*len)++] = s[1];
		*some = true;
	}
	*sp = s + 2;
	return 0;
}

/* Reads one word starting at *sp into word, the way sh reads it: quotes and
 * backslashes are removed, nothing is expanded. Returns the word's status:
 * 1 a word, 0 none (only a line continuation), -1 a syntax error in *why. */
static int conf_split_word(const char **sp, char *word, const char **why)
{
	size_t len = 0;
	bool some = false;
	int r = 0;

	while (r == 0 && **sp && !conf_is_blank(**sp)) {
		if (**sp == '\'') {
			r = conf_split_single(sp, word, &len, why);
			some = true;
		} else if (**sp == '"') {
			r = conf_split_double(sp, word, &len, why);
			some = true;
		} else if (**sp == '\\') {
			r = conf_split_backslash(sp, word, &len, why, &some);
		} else {
			word[len++] = *(*sp)++;
			some = true;
		}
	}
	word[len] = '\0';
	return r < 0 ? -1 : some;
}

/* Word splitting without a shell: a worker's command runs exactly as
 * written, and a quoting mistake is a config error, not a runtime one. */
int conf_split(const char *line, char ***argv, const char **why)
{
	char **v = NULL, *word;
	size_t n = 0;
	const char *s = line;
	int r;

	*argv = NULL;
	*why = NULL;
	word = malloc(strlen(line) + 1);	/* a word never grows */
	if (!word)
		goto err_nomem;
	for (;;) {
		while (conf_is_blank(*s))
			s++;
		if (!*s)
			break;
		r = conf_split_word(&s, word, why);
		if (r < 0)
			goto err_syntax;
		if (r > 0 && conf_argv_push(&v, &n, word) < 0)
			goto err_nomem;
	}
	if (n == 0) {
		*why = "empty command";
		goto err_syntax;
	}
	free(word);
	*argv = v;
	return 0;

err_syntax:
	free(word);
	conf_argv_free(v);
	errno = EINVAL;
	return -1;
err_nomem:
	free(word);
	conf_argv_free(v);
	*why = strerror(ENOMEM);
	errno = ENOMEM;
	return -1;
}

/* Joins a relative path to an absolute dir and drops "." and ".." by name,
 * so that what `arbor check` prints is the file that runs. */
char *conf_path_join(const char *dir, const char *path)
{
	size_t dl = strlen(dir), pl = strlen(path), len = 0;
	char *all, *out, *tok, *save;

	all = malloc(dl + pl + 2);
	out = malloc(dl + pl + 3);
	if (!all || !out)
		goto err_free;
	if (path[0] == '/')
		strcpy(all, path);
	else
		sprintf(all, "%s/%s", dir, path);
	for (tok = strtok_r(all, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			while (len > 0 && out[len - 1] != '/')
				len--;
			if (len > 0)
				len--;	/* the '/' before it */
			continue;
		}
		out[len++] = '/';
		strcpy(out + len, tok);
		len += strlen(tok);
	}
	if (len == 0)
		out[len++] = '/';
	out[len] = '\0';
	free(all);
	return out;

err_free:
	free(all);
	free(out);
	return NULL;
}

/* What exec would say about running path, or NULL when it would run it. */
static const char *conf_program_problem(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return strerror(errno);
	if (S_ISDIR(st.st_mode))
		return strerror(EISDIR);
	if (!S_ISREG(st.st_mode))
		return "not a regular file";
	if (access(path, X_OK) < 0)
		return "not executable";
	return NULL;
}

/* Looks for prog in each directory of $PATH, as execvp does. */
static int conf_search_path(const char *prog, char **full, const char **why)
{
	const char *path = getenv("PATH");
	const char *d, *end;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (d = path;; d = end + 1) {
		size_t dl;
		char *cand;

		end = strchrnul(d, ':');
		dl = end - d;
		if (asprintf(&cand, "%.*s/%s", (int)dl, dl ? d : ".", prog) < 0)
			goto err_nomem;
		if (!conf_program_problem(cand)) {
			*full = cand;
			return 0;
		}
		free(cand);
		if (!*end)
			break;
	}
	*full = strdup(prog);
	*why = "not found in PATH";
	return -1;

err_nomem:
	*full = NULL;
	*why = strerror(ENOMEM);
	return -1;
}

int conf_find_program(const char *prog, const char *dir, char **full,
		      const char **why)
{
	if (!strchr(prog, '/'))
		return conf_search_path(prog, full, why);
	*full = prog[0] == '/' ? strdup(prog) : conf_path_join(dir, prog);
	if (!*full) {
		*why = strerror(ENOMEM);
		return -1;
	}
	*why = conf_program_problem(*full);
	return *why ? -1 : 0;
}
