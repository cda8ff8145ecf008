/* arbor: PID 1 for containers, with OTP's supervision trees.
 *
 *   arbor [-sgvwl] [-e CODE] [-p SIG] [--] CMD [ARGS...] (tini's drop-in)
 *   arbor [-v] -c FILE [-- CMD [ARGS...]]                 (a supervision tree)
 *   arbor check -c FILE                                   (validate and print)
 *   arbor [-v]                     (the tree of $ARBOR_CONFIG or DEFAULT_CONFIG)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "spawn.h"
#include "route.h"
#include "sup.h"
#include "title.h"

#ifndef ARBOR_VERSION
#define ARBOR_VERSION "0.1.0"
#endif
#define EX_USAGE 64
#define EX_CONFIG 78
#define DEFAULT_CONFIG "/etc/arbor/arbor.ini"

static const char usage_text[] =
	"usage: arbor [-sgvw] [-e CODE] [-p SIGNAL] [--] CMD [ARGS...]\n"
	"       arbor [-v] -c FILE [-- CMD [ARGS...]]\n"
	"       arbor check -c FILE\n"
	"       arbor [-v]    (runs $ARBOR_CONFIG, else " DEFAULT_CONFIG ")\n"
	"\n"
	"  -c FILE    run the supervision tree described in FILE (see arbor.ini(5))\n"
	"  -s         accepted for tini; arbor is always a subreaper when not PID 1\n"
	"  -g         send forwarded signals to CMD's process group\n"
	"  -e CODE    count CMD's exit status CODE (128+N: death by signal N) as 0\n"
	"  -p SIGNAL  receive SIGNAL when arbor's parent dies\n"
	"  -w         log each zombie reaped that is not CMD\n"
	"  -v         log more (repeatable)\n"
	"  -l         arbor's licence;  -h  this help;  --version  arbor's version\n"
	"\n"
	"tini's variables: TINI_SUBREAPER (accepted), TINI_KILL_PROCESS_GROUP (as -g),\n"
	"TINI_VERBOSITY (0 silences -w, 2 and up as -v).\n";

/* What -l prints: the text of the LICENSE file (a test compares them). */
static const char licence_text[] =
	"MIT License\n"
	"\n"
	"Copyright (c) 2026 The arbor authors\n"
	"\n"
	"Permission is hereby granted, free of charge, to any person obtaining a copy\n"
	"of this software and associated documentation files (the \"Software\"), to deal\n"
	"in the Software without restriction, including without limitation the rights\n"
	"to use, copy, modify, merge, publish, distribute, sublicense, and/or sell\n"
	"copies of the Software, and to permit persons to whom the Software is\n"
	"furnished to do so, subject to the following conditions:\n"
	"\n"
	"The above copyright notice and this permission notice shall be included in all\n"
	"copies or substantial portions of the Software.\n"
	"\n"
	"THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR\n"
	"IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,\n"
	"FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE\n"
	"AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER\n"
	"LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,\n"
	"OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE\n"
	"SOFTWARE.\n";

static int usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "arbor: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\narbor: run 'arbor -h' for usage\n");
	return EX_USAGE;
}

/* fds 0-2 must be open, or a later open() would take one of them and a
 * child's dup2 onto 1 or 2 would collide with it (s6's fd_sanitize). */
static void fd_sanitize(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);

			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
	}
}

static int load(const char *file, struct conf **c)
{
	struct conf_err err;

	if (conf_load(file, c, &err) < 0) {
		fprintf(stderr, "arbor: %s\n", err.msg);
		return EX_CONFIG;
	}
	return 0;
}

static int check_main(int argc, char **argv)
{
	const char *file = NULL;
	struct conf *c;
	int opt, r;

	optind = 1;
	while ((opt = getopt(argc, argv, "+:c:")) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case ':':
			return usage("option -%s needs a file", (char[]){ (char)optopt, 0 });
		default:
			return usage("unknown option -%s for check", (char[]){ (char)optopt, 0 });
		}
	}
	if (optind < argc)
		return usage("check takes no argument '%s': use check -c FILE", argv[optind]);
	if (!file)
		return usage("%s", "check needs the file to check: arbor check -c FILE");
	r = load(file, &c);
	if (r)
		return r;
	conf_print(c, stdout);
	conf_free(c);
	return 0;
}

/* With no command and no -c, the tree comes from $ARBOR_CONFIG, else from
 * DEFAULT_CONFIG: `ENTRYPOINT ["/sbin/arbor"]` is enough in an image. A
 * set $ARBOR_CONFIG is never passed over for the default. NULL when the
 * file it names does not exist. */
static const char *default_config(void)
{
	const char *env = getenv("ARBOR_CONFIG");
	const char *file = env && *env ? env : DEFAULT_CONFIG;

	return access(file, F_OK) == 0 ? file : NULL;
}

static int no_config(void)
{
	const char *env = getenv("ARBOR_CONFIG");

	if (env && *env)
		fprintf(stderr, "arbor: nothing to run: $ARBOR_CONFIG names %s, "
			"which does not exist (%s is read only when $ARBOR_CONFIG is unset)\n",
			env, DEFAULT_CONFIG);
	else
		fprintf(stderr, "arbor: nothing to run: $ARBOR_CONFIG is unset and "
			"%s does not exist: give a command (arbor -- CMD), a tree "
			"(arbor -c FILE), $ARBOR_CONFIG or %s\n", DEFAULT_CONFIG, DEFAULT_CONFIG);
	fprintf(stderr, "arbor: run 'arbor -h' for usage\n");
	return EX_USAGE;
}

/* tini's variables, read after the flags as tini does: TINI_SUBREAPER asks
 * for what arbor always is; TINI_KILL_PROCESS_GROUP (any value) is -g;
 * TINI_VERBOSITY (tini's default 1) sets the level: 0 silences -w, 2 and up
 * count as -v. */
static void tini_env(struct sup_cmd *cmd, int *verbose)
{
	const char *v = getenv("TINI_VERBOSITY");

	if (getenv("TINI_KILL_PROCESS_GROUP"))
		cmd->group = true;
	if (v) {
		int level = atoi(v);

		*verbose = level > 1 ? level - 1 : 0;
		if (level < 1)
			cmd->warn_reap = false;
	}
}

static int parse_code(const char *s, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < 0 || n > 255)
		return -1;
	*out = (int)n;
	return 0;
}

/* What the command line asks for. */
struct args {
	struct sup_cmd cmd;
	const char *file;
	int verbose, pdeath;
};

/* One flag of arbor's (tini's, and -c); -1 to go on, else the status to
 * exit with at once. */
static int flag(int opt, char **argv, struct args *a)
{
	int code;

	switch (opt) {
	case 'c':
		a->file = optarg;
		return -1;
	case 's':
		return -1;
	case 'l':
		fputs(licence_text, stdout);
		return 0;
	case 'w':
		a->cmd.warn_reap = true;
		return -1;
	case 'g':
		a->cmd.group = true;
		return -1;
	case 'e':
		if (parse_code(optarg, &code) < 0)
			return usage("-e takes an exit status from 0 to 255, not '%s'", optarg);
		a->cmd.clean[code] = true;
		return -1;
	case 'p':
		a->pdeath = log_signum(optarg);
		if (a->pdeath < 0)
			return usage("-p takes a signal name or number (e.g. -p SIGKILL), not '%s'",
				     optarg);
		return -1;
	case 'v':
		a->verbose++;
		return -1;
	case 'h':
		fputs(usage_text, stdout);
		return 0;
	case 'V':
		printf("arbor %s\n", ARBOR_VERSION);
		return 0;
	case ':':
		return usage("option -%s needs a value", (char[]){ (char)optopt, 0 });
	default:
		if (optopt)
			return usage("unknown option -%s", (char[]){ (char)optopt, 0 });
		return usage("unknown option %s", argv[optind - 1]);
	}
}

/* The flags, then CMD or the tree to run; -1 to go on, else the status to
 * exit with at once. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, r;

	while ((opt = getopt_long(argc, argv, "+:c:sge:p:vwhl", longopts, NULL)) != -1)
		if ((r = flag(opt, argv, a)) >= 0)
			return r;
	tini_env(&a->cmd, &a->verbose);
	if (optind < argc)
		a->cmd.argv = argv + optind;
	else if (!a->file && optind > 1 && !strcmp(argv[optind - 1], "--"))
		return usage("%s", "-- needs a command to run: arbor -- CMD [ARGS...]");
	else if (!a->file && !(a->file = default_config()))
		return no_config();
	return -1;
}

/* The tree of file (an empty one for -- CMD alone) into *c; 0, or the
 * status to exit with. */
static int tree_of(const struct args *a, struct conf **c)
{
	int r;

	if (!a->file) {
		*c = conf_empty();
		if (*c)
			return 0;
		fprintf(stderr, "arbor: out of memory\n");
		return 1;
	}
	r = load(a->file, c);
	if (r)
		return r;
	if (a->cmd.argv && conf_find(*c, "cmd")) {
		fprintf(stderr, "arbor: %s: the -- command runs as 'cmd', "
			"which a section already names: rename that child\n", a->file);
		conf_free(*c);
		return EX_CONFIG;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	struct conf *c = NULL;
	int r;

	fd_sanitize();
	title_init(argc, argv);	/* before anything keeps a pointer into argv */
	spawn_save_signals();
	if (argc > 1 && !strcmp(argv[1], "check"))
		return check_main(argc - 1, argv + 1);
	r = parse_args(argc, argv, &a);
	if (r >= 0)
		return r;
	if (a.pdeath && prctl(PR_SET_PDEATHSIG, a.pdeath) < 0)
		fprintf(stderr, "arbor: -p: %s\n", strerror(errno));
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	r = tree_of(&a, &c);
	if (r)
		return r;
	log_init(c->log_format, a.verbose);
	log_quiet(!a.file);
	a.cmd.foreground = a.cmd.argv && isatty(STDIN_FILENO);
	spawn_save_limits();
	return sup_run_root(c, a.file, a.cmd.argv ? &a.cmd : NULL, &route_hooks);
}
