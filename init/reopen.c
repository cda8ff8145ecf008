/* reopen: the files of this process at once, those of nested supervisors
 * by a CTL "reopen" to each, whose answers are added up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logfile.h"
#include "reopen.h"
#include "sup.h"

struct reopen {
	struct pending *p;	/* the request, answered when left is 0 */
	int left;		/* nested supervisors yet to answer */
	int files, failed;
	char why[400];		/* the first failure */
};

static void reopen_answer(struct reopen *r)
{
	char m[512];

	if (r->failed)
		snprintf(m, sizeof(m), "reopened %d file%s; %d failed: %s", r->files,
			 r->files == 1 ? "" : "s", r->failed, r->why);
	else
		snprintf(m, sizeof(m), "reopened %d file%s", r->files, r->files == 1 ? "" : "s");
	pending_answer_str(r->p, r->failed != 0, m);
	free(r);
}

/* A nested supervisor's answer, in the form reopen_answer gives. */
static void nested_done(void *ctx, int rc, const char *text, size_t len)
{
	struct reopen *r = ctx;
	char b[512], *cut;
	int files = 0, failed = 0;

	snprintf(b, sizeof(b), "%.*s", (int)len, text);
	if (sscanf(b, "reopened %d file", &files) == 1)
		r->files += files;
	cut = strstr(b, "; ");
	if (rc && (!cut || sscanf(cut, "; %d failed", &failed) != 1 || failed < 1))
		failed = 1;
	if (failed && !r->failed)
		snprintf(r->why, sizeof(r->why), "%s", cut && strstr(cut, ": ") ?
			 strstr(cut, ": ") + 2 : b);
	r->failed += failed;
	if (--r->left == 0)
		reopen_answer(r);
}

static void pass_on(struct sup *s, struct child *k, struct reopen *r)
{
	struct pending *p = pending_client(&s->calls, nested_done, r);
	uint64_t id;

	if (!p) {
		if (!r->failed++)
			snprintf(r->why, sizeof(r->why), "%s: out of memory", k->path);
		return;
	}
	r->left++;
	id = pending_send(p, k->ln, -1, "");
	if (id && link_send(k->ln, FRAME_CTL, id, "reopen", 7, NULL, 0) < 0)
		pending_answer_str(p, 1, "noproc");
}

void reopen_request(struct sup *s, struct pending *p)
{
	struct reopen *r = calloc(1, sizeof(*r));

	if (!r) {
		pending_answer_str(p, 1, "out of memory");
		return;
	}
	r->p = p;
	r->left = 1;		/* held until every request below is sent */
	r->files = logfile_reopen_all(&r->failed, r->why, sizeof(r->why));
	for (size_t i = 0; i < s->nkids; i++) {
		struct child *k = s->kids[i];

		if (k->kind == CHILD_SUPERVISOR && k->ln && k->state == CS_RUNNING)
			pass_on(s, k, r);
	}
	if (--r->left == 0)
		reopen_answer(r);
}
