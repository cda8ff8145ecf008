/* tap: the unit tests' one check, printed as TAP ("ok N - what" or
 * "not ok N - what"); main() returns nfail != 0. */
#ifndef ARBOR_TEST_TAP_H
#define ARBOR_TEST_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int ntest, nfail;

static void __attribute__((format(printf, 2, 3))) ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++ntest);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		nfail++;
	fflush(stdout);
}

#endif
