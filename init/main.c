/* arbor: PID 1 for containers, with OTP's supervision trees.
 *
 *   arbor [-sgv] [-e CODE] [-p SIG] [--] CMD [ARGS...]   (tini's drop-in)
 *   arbor [-v] -c FILE [-- CMD [ARGS...]]                 (a supervision tree)
 *   arbor check -c FILE                                   (validate and print)
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
#include "sup.h"

#ifndef ARBOR_VERSION
#define ARBOR_VERSION "0.1.0"
#endif
#define EX_USAGE 64
#define EX_CONFIG 78

static const char usage_text[] =
	"usage: arbor [-sgv] [-e CODE] [-p SIGNAL] [--] CMD [ARGS...]\n"
	"       arbor [-v] -c FILE [-- CMD [ARGS...]]\n"
	"       arbor check -c FILE\n"
	"\n"
	"  -c FILE    run the supervision tree described in FILE (see arbor.ini(5))\n"
	"  -s         accepted for tini; arbor is always a subreaper when not PID 1\n"
	"  -g         send forwarded signals to CMD's process group\n"
	"  -e CODE    count CMD's exit status CODE as 0\n"
	"  -p SIGNAL  receive SIGNAL when arbor's parent dies\n"
	"  -v         log more (repeatable)\n"
	"  -h         this help;  --version  arbor's version\n";

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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sup_cmd cmd = { 0 };
	int code;
	const char *file = NULL;
	struct conf *c = NULL;
	int opt, verbose = 0, pdeath = 0;

	fd_sanitize();
	spawn_save_signals();
	if (argc > 1 && !strcmp(argv[1], "check"))
		return check_main(argc - 1, argv + 1);
	while ((opt = getopt_long(argc, argv, "+:c:sge:p:vhl", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			file = optarg;
			break;
		case 's':
			break;
		case 'l':
			break;	/* tini's license flag: nothing to print */
		case 'g':
			cmd.group = true;
			break;
		case 'e':
			if (parse_code(optarg, &code) < 0)
				return usage("-e takes an exit status from 0 to 255, not '%s'", optarg);
			cmd.clean[code] = true;
			break;
		case 'p':
			pdeath = log_signum(optarg);
			if (pdeath < 0)
				return usage("-p takes a signal name or number (e.g. -p SIGKILL), not '%s'",
					     optarg);
			break;
		case 'v':
			verbose++;
			break;
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
	if (optind < argc)
		cmd.argv = argv + optind;
	else if (!file)
		return usage("%s", optind > 1 && !strcmp(argv[optind - 1], "--") ?
			     "-- needs a command to run: arbor -- CMD [ARGS...]" :
			     "nothing to run: give a command (arbor -- CMD) or a tree (arbor -c FILE)");
	if (pdeath && prctl(PR_SET_PDEATHSIG, pdeath) < 0)
		fprintf(stderr, "arbor: -p: %s\n", strerror(errno));
	if (getpid() != 1)
		prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (file) {
		int r = load(file, &c);

		if (r)
			return r;
		if (cmd.argv && conf_find(c, "cmd")) {
			fprintf(stderr, "arbor: %s: the -- command runs as 'cmd', "
				"which a section already names: rename that child\n", file);
			conf_free(c);
			return EX_CONFIG;
		}
	} else {
		c = conf_empty();
		if (!c) {
			fprintf(stderr, "arbor: out of memory\n");
			return 1;
		}
	}
	log_init(c->log_format, verbose);
	log_quiet(!file);
	cmd.foreground = cmd.argv && isatty(STDIN_FILENO);
	spawn_save_limits();
	return sup_run_root(c, file, cmd.argv ? &cmd : NULL);
}
