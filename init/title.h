/* title: the process title that ps shows, as setproctitle(3) sets it.
 *
 * prctl(PR_SET_NAME) only changes the 15-byte comm; ps's args column reads
 * /proc/PID/cmdline, the memory that held argv (and, right after it, the
 * environment strings). title_init moves what that memory holds to the
 * heap at start-up, so that title_set may write over all of it. */
#ifndef ARBOR_TITLE_H
#define ARBOR_TITLE_H

/* First thing in main, before anything keeps a pointer into argv or the
 * environment (getopt's optarg, getenv): argv[] and environ[] are made to
 * point to heap copies of their strings. */
void title_init(int argc, char **argv);
/* Writes the title (cut to the room there is, at least argv's own); it is
 * what `ps -o args=` prints from then on. Does nothing without title_init. */
void title_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
