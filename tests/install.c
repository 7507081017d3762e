/*
 * make install into a temporary DESTDIR, then a program outside the tree
 * built the way another project would, with pkg-config, against the
 * shared library and against the static one; then make uninstall, which
 * must leave nothing of ours behind.
 *
 * The runner passes the build's settings (SHMKIT_MAKE_ARGS: compiler and
 * sanitizer) so that install copies what this run built, and the flags
 * (SHMKIT_SAN) the outside program needs to link a sanitized library. A
 * build for another machine also passes its compiler (SHMKIT_CC), and
 * what it installed runs under $EMU, as the tests do; so the checks read
 * the programs' ELF headers (readelf knows every machine) and ask the
 * loader itself which libshmkit it took, where ldd knows only this one.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static const char prog[] =
	"#include <shmkit.h>\n"
	"#include <stdio.h>\n"
	"#include <string.h>\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"	struct shmkit_chan *p, *c;\n"
	"	char buf[16];\n"
	"	size_t len;\n"
	"	if (argc != 2 || shmkit_chan_create(argv[1], 4096, SHMKIT_MODE_DEFAULT, 0) < 0 ||\n"
	"	    shmkit_chan_open(argv[1], SHMKIT_PRODUCER, &p) < 0 ||\n"
	"	    shmkit_chan_open(argv[1], SHMKIT_CONSUMER, &c) < 0 ||\n"
	"	    shmkit_chan_send(p, \"outside\", 7, 0) < 0 ||\n"
	"	    shmkit_chan_recv(c, buf, sizeof(buf), &len, 0) < 0 || len != 7 ||\n"
	"	    memcmp(buf, \"outside\", 7))\n"
	"		return 1;\n"
	"	shmkit_chan_close(p);\n"
	"	shmkit_chan_close(c);\n"
	"	shmkit_chan_destroy(argv[1]);\n"
	"	printf(\"ok %s\\n\", shmkit_version());\n"
	"	return 0;\n"
	"}\n";

static char dir[64], version[32];

/* Runs a snippet with $D (the DESTDIR), $V (the version), pkg-config set
 * up for the staged prefix; fails the test on a non-zero exit. */
static char *sh_ok(const char *what, const char *snippet)
{
	char *out = NULL, *err = NULL;
	int rc = t_sh(&out, &err,
		      "D=%s V=%s; export PKG_CONFIG_PATH=$D/usr/lib/pkgconfig "
		      "PKG_CONFIG_SYSROOT_DIR=$D PKG_CONFIG_LIBDIR=/nonexistent; %s",
		      dir, version, snippet);

	if (rc != 0)
		t_fail(__FILE__, __LINE__, "%s: exit %d\n%s%s", what, rc, out, err);
	free(err);
	return out;
}

int main(void)
{
	char *out, *err, name[64], cmd[512];
	FILE *f;

	if (t_sh(&out, &err, "command -v pkg-config && command -v make") != 0)
		t_skip("pkg-config and make are needed (apt-get install pkg-config)");
	free(out), free(err);
	f = fopen("VERSION", "r");
	T_ASSERT(f && fgets(version, sizeof(version), f));
	fclose(f);
	version[strcspn(version, "\n")] = '\0';
	snprintf(dir, sizeof(dir), "/tmp/shmkit-install.XXXXXX");
	T_ASSERT(mkdtemp(dir));

	free(sh_ok("make install", "make -s install DESTDIR=$D PREFIX=/usr $SHMKIT_MAKE_ARGS >/dev/null"));
	/* the files, the soname chain, the .pc */
	free(sh_ok("installed files",
		   "test -f $D/usr/include/shmkit.h && test -f $D/usr/lib/libshmkit.a && "
		   "test -f $D/usr/lib/libshmkit.so.$V && "
		   "test \"$(readlink $D/usr/lib/libshmkit.so.0)\" = libshmkit.so.$V && "
		   "test \"$(readlink $D/usr/lib/libshmkit.so)\" = libshmkit.so.0 && "
		   "readelf -d $D/usr/lib/libshmkit.so.$V | grep -q 'SONAME.*libshmkit.so.0' && "
		   "test -x $D/usr/bin/shmkit && "
		   "test -f $D/usr/share/bash-completion/completions/shmkit && "
		   "test \"$(pkg-config --modversion shmkit)\" = $V && "
		   "for p in man/man*/*.*; do test -e \"$p\" || continue; "
		   /* shmkit-bridge's page goes with it, where libnats is */
		   "case $p in */shmkit-bridge.1) test -x $D/usr/bin/shmkit-bridge || continue;; esac; "
		   "test -f $D/usr/share/man/${p#man/} || { echo missing $p; exit 1; }; done"));
	out = sh_ok("installed command", "$EMU $D/usr/bin/shmkit --version");
	T_STR_CONTAINS(out, version);
	free(out);

	/* an outside program, shared then static */
	snprintf(cmd, sizeof(cmd), "%s/prog.c", dir);
	T_ASSERT((f = fopen(cmd, "w")) && fputs(prog, f) >= 0 && fclose(f) == 0);
	free(sh_ok("build against the shared library",
		   "${SHMKIT_CC:-cc} -std=c11 -Wall -Wextra -pedantic -Werror $SHMKIT_SAN "
		   "-o $D/prog-shared $D/prog.c "
		   "$(pkg-config --cflags --libs shmkit)"));
	free(sh_ok("build against the static library",
		   "${SHMKIT_CC:-cc} -std=c11 -Wall -Wextra -pedantic -Werror $SHMKIT_SAN "
		   "-o $D/prog-static $D/prog.c "
		   "$(pkg-config --cflags shmkit) -Wl,-Bstatic $(pkg-config --static --libs shmkit) "
		   "-Wl,-Bdynamic"));
	t_name(name, sizeof(name), "inst-shared");
	snprintf(cmd, sizeof(cmd),
		 "LD_LIBRARY_PATH=$D/usr/lib LD_DEBUG=libs LD_DEBUG_OUTPUT=$D/prog-ld "
		 "$EMU $D/prog-shared %s && "
		 "grep -q \"calling init: $D/usr/lib/libshmkit.so.0\" $D/prog-ld.*", name);
	out = sh_ok("run against the shared library", cmd);
	T_STR_CONTAINS(out, version);
	free(out);
	t_name(name, sizeof(name), "inst-static");
	snprintf(cmd, sizeof(cmd), "$EMU $D/prog-static %s && "
		 "! readelf -d $D/prog-static | grep -q 'NEEDED.*libshmkit'", name);
	out = sh_ok("run the static build", cmd);
	T_STR_CONTAINS(out, version);
	free(out);

	/* uninstall: only our own test files may remain */
	free(sh_ok("make uninstall", "make -s uninstall DESTDIR=$D PREFIX=/usr $SHMKIT_MAKE_ARGS"));
	out = sh_ok("left after uninstall", "find $D ! -type d ! -name 'prog*'");
	if (out[0])
		t_fail(__FILE__, __LINE__, "uninstall left:\n%s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	free(sh_ok("clean up", cmd));
	return 0;
}
