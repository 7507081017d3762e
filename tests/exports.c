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

#define MAX_SYMS 256

static int find(char **syms, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(syms[i], name))
			return 1;
	return 0;
}

int main(void)
{
	static char *syms[MAX_SYMS];
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
		*strchr(sym, '@') = '\0';
		if (exported == MAX_SYMS)
			t_fail(__FILE__, __LINE__, "more than %d symbols", MAX_SYMS);
		syms[exported++] = strdup(sym);
	}
	free(out);
	/*
	 * Exactly the version script's list, and each one declared in the
	 * public header; and every function the header declares is exported.
	 */
	{
		FILE *map = fopen("src/shmkit.map", "r"), *hdr = fopen("include/shmkit.h", "r");
		char buf[512], name[128];
		int listed = 0, declared = 0;
		static char header[65536];
		size_t n;

		if (!map || !hdr)
			t_skip("src/shmkit.map or include/shmkit.h not found (run from the source tree)");
		n = fread(header, 1, sizeof(header) - 1, hdr);
		header[n] = '\0';
		fclose(hdr);
		while (fgets(buf, sizeof(buf), map)) {
			char decl[160];

			if (sscanf(buf, " %127[a-z_0-9];", name) != 1 || strncmp(name, "shmkit_", 7))
				continue;
			listed++;
			if (!find(syms, exported, name))
				t_fail(__FILE__, __LINE__, "%s is in the version script but not exported", name);
			snprintf(decl, sizeof(decl), "%s(", name);
			if (!strstr(header, decl))
				t_fail(__FILE__, __LINE__, "%s is exported but not declared in shmkit.h", name);
		}
		fclose(map);
		T_EQ(exported, listed);
		/* declarations: "type name(" or "*name(" at the start of a line's text */
		for (char *p = header; (p = strstr(p, "shmkit_")); p++) {
			size_t k = strspn(p, "abcdefghijklmnopqrstuvwxyz_0123456789");

			if (p[k] != '(' || (p[-1] != ' ' && p[-1] != '*') || k >= sizeof(name))
				continue;
			memcpy(name, p, k);
			name[k] = '\0';
			declared++;
			if (!find(syms, exported, name))
				t_fail(__FILE__, __LINE__, "shmkit.h declares %s, which is not exported", name);
		}
		T_ASSERT(declared >= listed);
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
