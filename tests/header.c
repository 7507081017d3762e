/*
 * The public header on its own: it compiles cleanly as C11 and as C++
 * (its declarations inside extern "C"), with -Wall -Wextra -pedantic
 * -Werror, and a C++ program links against the library and runs.
 *
 * The compilers are cc and c++, or the build's own when it is for another
 * machine (SHMKIT_CC and SHMKIT_CXX, from the Makefile); the program then
 * runs under $EMU, as the tests do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char src[] =
	"#include <shmkit.h>\n"
	"#include <stdio.h>\n"
	"int main(void)\n"
	"{\n"
	"	key_t key;\n"
	"	struct shmkit_limits lim;\n"
	"	if (shmkit_key_parse(\"0x1234\", &key) != 0 || key != 0x1234 ||\n"
	"	    shmkit_name_check(\"ok-name\") != 0 || shmkit_limits(&lim) != 0)\n"
	"		return 1;\n"
	"	printf(\"%s %s\\n\", shmkit_version(), shmkit_strerror(-SHMKIT_EEOF));\n"
	"	return 0;\n"
	"}\n";

int main(void)
{
	const char *bin = getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit";
	const char *c = t_tmpfile("c"), *cc = t_tmpfile("cc"), *exe = t_tmpfile("exe");
	char dir[4096], *out, *err;
	FILE *f;

	/* the build directory, where libshmkit.a is */
	snprintf(dir, sizeof(dir), "%s", bin);
	*strrchr(dir, '/') = '\0';
	T_ASSERT((f = fopen(c, "w")) && fputs(src, f) >= 0 && fclose(f) == 0);
	T_EQ(t_sh(&out, &err, "cp %s %s", c, cc), 0);
	free(out), free(err);

	if (t_sh(&out, &err, "${SHMKIT_CC:-cc} -std=c11 -Wall -Wextra -pedantic -Werror -Iinclude "
		 "-fsyntax-only -x c %s", c) != 0)
		t_fail(__FILE__, __LINE__, "as C11:\n%s", err);
	free(out), free(err);
	if (t_sh(&out, &err, "command -v ${SHMKIT_CXX:-c++}") != 0)
		t_skip("no C++ compiler %s (apt-get install g++; for aarch64, g++-aarch64-linux-gnu)",
		       getenv("SHMKIT_CXX") ? getenv("SHMKIT_CXX") : "c++");
	free(out), free(err);
	for (int std = 0; std < 2; std++) {
		if (t_sh(&out, &err, "${SHMKIT_CXX:-c++} -std=%s -Wall -Wextra -pedantic -Werror -Iinclude "
			 "-fsyntax-only -x c++ %s", std ? "c++17" : "c++11", cc) != 0)
			t_fail(__FILE__, __LINE__, "as C++:\n%s", err);
		free(out), free(err);
	}
	/* linked from C++: only right if the header says extern "C" */
	if (t_sh(&out, &err, "${SHMKIT_CXX:-c++} -std=c++11 $SHMKIT_SAN -Iinclude -x c++ %s "
		 "-x none %s/libshmkit.a -o %s && $EMU %s", cc, dir, exe, exe) != 0)
		t_fail(__FILE__, __LINE__, "C++ program:\n%s%s", out, err);
	T_STR_CONTAINS(out, shmkit_version());
	T_STR_CONTAINS(out, "end of stream");
	free(out), free(err);
	return 0;
}
