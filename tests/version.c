/*
 * The version has one source, the VERSION file: the Makefile reads it for
 * the shared library's file name, soname and shmkit.pc. include/shmkit.h
 * repeats it as SHMKIT_VERSION_MAJOR/MINOR/PATCH (an installed header
 * cannot read a file), and shmkit_version() is built from those. This
 * test fails when either disagrees with VERSION, so a release bumps all
 * three or the check goes red.
 *
 * Not compared: src/shmkit.map's node names (SHMKIT_0.1 ...). A node names
 * the release that added its symbols and stays as it is in later releases,
 * so it need not equal VERSION.
 *
 * Runs from the repository's root (as tests/run.sh does).
 */
#include <stdio.h>
#include <string.h>

#include "harness.h"

int main(void)
{
	char text[64], macros[64];
	unsigned major, minor, patch;
	FILE *f = fopen("VERSION", "r");
	int n;

	if (!f)
		t_fail(__FILE__, __LINE__, "VERSION: cannot open (run from the repository's root)");
	T_ASSERT(fgets(text, sizeof(text), f));
	fclose(f);
	text[strcspn(text, "\n")] = 0;
	n = -1;
	T_EQ(sscanf(text, "%u.%u.%u%n", &major, &minor, &patch, &n), 3);
	T_EQ(n, (int)strlen(text));	/* nothing after MAJOR.MINOR.PATCH */

	T_EQ(SHMKIT_VERSION_MAJOR, major);
	T_EQ(SHMKIT_VERSION_MINOR, minor);
	T_EQ(SHMKIT_VERSION_PATCH, patch);
	snprintf(macros, sizeof(macros), "%u.%u.%u", major, minor, patch);
	if (strcmp(shmkit_version(), text))
		t_fail(__FILE__, __LINE__, "shmkit_version() is %s, VERSION says %s",
		       shmkit_version(), text);
	T_ASSERT(!strcmp(macros, text));
	printf("version %s in VERSION, shmkit.h and shmkit_version()\n", text);
	return 0;
}
