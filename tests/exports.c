/*
 * The shared library exports exactly the shmkit_ API: every defined
 * dynamic symbol starts with shmkit_ and sits in a SHMKIT_ version node,
 * and the soname carries the major version.
 */
#define _POSIX_C_SOURCE 200809L
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

int main(void)
{
	const char *bin = getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit";
	char dir[4096], lib[4200], *out = NULL, *line, *save = NULL;
	int exported = 0;

	snprintf(dir, sizeof(dir), "%s", bin);
	snprintf(lib, sizeof(lib), "%s/libshmkit.so", dirname(dir));

	{
		char *argv[] = { "nm", "-D", "--defined-only", lib, NULL };
		if (t_run(argv, &out, NULL) != 0)
			t_skip("nm could not read %s", lib);
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char addr[64], type[8], sym[256];
		if (sscanf(line, "%63s %7s %255s", addr, type, sym) != 3)
			t_fail(__FILE__, __LINE__, "unexpected nm line: %s", line);
		if (!strcmp(type, "A") && !strncmp(sym, "SHMKIT_", 7))
			continue; /* the version node itself */
		if (strncmp(sym, "shmkit_", 7) || !strstr(sym, "@@SHMKIT_"))
			t_fail(__FILE__, __LINE__, "exported symbol outside the API: %s", sym);
		exported++;
	}
	free(out);
	/* and every symbol the version script lists is there */
	{
		FILE *map = fopen("src/shmkit.map", "r");
		char buf[256];
		int listed = 0;

		if (!map)
			t_skip("src/shmkit.map not found (run from the source tree)");
		while (fgets(buf, sizeof(buf), map))
			if (strstr(buf, "shmkit_"))
				listed++;
		fclose(map);
		T_EQ(exported, listed);
	}

	{
		char *argv[] = { "readelf", "-d", lib, NULL };
		if (t_run(argv, &out, NULL) != 0)
			t_skip("readelf could not read %s", lib);
		T_STR_CONTAINS(out, "[libshmkit.so.0]");
		free(out);
	}
	return 0;
}
