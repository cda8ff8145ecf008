/* logfile: a `file:PATH` output as arbor writes it. The worker writes into
 * a pipe (relay.c); the lines land here, appended to PATH.
 *
 * One open file per PATH in a process, shared by every relay that writes
 * to it (stdout and stderr to the same PATH, a worker's old and new
 * instances), freed with its last user. With log_max_size the file is
 * rotated at line boundaries: PATH -> PATH.1 ... PATH.N, the oldest
 * dropped, PATH opened anew; log_backups = 0 keeps no backup (PATH starts
 * again empty). logfile_reopen_all() opens every PATH again, for an
 * external logrotate.
 *
 * A write never waits: on a full disk (or any failed write) the lines are
 * dropped and counted, and the first line that can be written again logs
 * `log PATH: N lines dropped: REASON` once for the whole episode (so does
 * the file's close, if the episode has not ended by then). */
#ifndef ARBOR_LOGFILE_H
#define ARBOR_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>

struct logfile;

/* PATH opened (or the open one found) with the rotation of this user:
 * max bytes (0: never rotated) and backups. A file this open creates is
 * made 0640 whatever the umask. A regular file on a filesystem with no
 * free block fails with ENOSPC, as a start that would lose its output
 * at once. NULL with errno on failure. */
struct logfile *logfile_open(const char *path, size_t max, int backups);
/* Drops one user; the last closes the file. NULL is fine. */
void logfile_put(struct logfile *f);
/* Appends p[0..n): whole lines, except that a last piece without its
 * newline may be a long line's first part. cont says p starts with the
 * rest of a line begun by the previous call for the same writer: it is
 * never separated from its beginning by a rotation. */
void logfile_write(struct logfile *f, const char *p, size_t n, bool cont);
/* Closes and opens again every file open in this process, for logrotate.
 * The number of files reopened; failures are counted in *failed and the
 * first is described in why (the file then retries at its next write). */
int logfile_reopen_all(int *failed, char *why, size_t len);
/* In a forked child that goes on running arbor's code: closes the parent's
 * files and frees them, without writing or reporting anything. */
void logfile_forget_all(void);

#endif
