/* shmkit: the command. Dispatches to one file per subcommand. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int, char **);
	const char *summary;
} commands[] = {
	{ "mk", cmd_mk, "create a segment" },
	{ "ls", cmd_ls, "list every segment: names, users, orphans" },
	{ "stat", cmd_stat, "everything about one segment" },
	{ "top", cmd_top, "watch every segment live: rates, fill, lag, who" },
	{ "rm", cmd_rm, "remove segments" },
	{ "gc", cmd_gc, "remove orphaned segments" },
	{ "doctor", cmd_doctor, "check this machine for what makes shared memory fail" },
	{ "send", cmd_send, "standard input into a channel" },
	{ "recv", cmd_recv, "a channel onto standard output" },
	{ "pub", cmd_pub, "standard input onto a topic, for many readers" },
	{ "sub", cmd_sub, "a topic onto standard output" },
	{ "bench", cmd_bench, "measure channels against pipes and sockets" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: shmkit COMMAND [OPTIONS]\n"
		"\n"
		"System V shared memory made safe and visible.\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
	fprintf(f,
		"\n"
		"A segment is named by its shmid, or by one of:\n"
		"  -k KEY          a System V key, decimal or 0x hex\n"
		"  -p PATH[:PROJ]  ftok(PATH, PROJ), PROJ 1..255 (default 1)\n"
		"  -n NAME         a shmkit name: 1-63 of [A-Za-z0-9._-]\n"
		"\n"
		"Options:\n"
		"  -h, --help      this text; 'shmkit COMMAND --help' for a command\n"
		"  -V, --version   print the version\n"
		"\n"
		"Exit status: 0 success, 1 the system refused, 2 bad usage.\n");
}

/* -V and --help stand alone: whatever follows would be silently ignored. */
static int alone(int argc, char **argv)
{
	if (argc <= 2)
		return 1;
	err_msg(argv[1], "unexpected argument '%s' (see 'shmkit --help')", argv[2]);
	return 0;
}

int main(int argc, char **argv)
{
	static char prog[32];
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		if (!alone(argc, argv))
			return EXIT_USAGE;
		usage(stdout);
		return finish_stdout();
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		if (!alone(argc, argv))
			return EXIT_USAGE;
		printf("shmkit %s\n", shmkit_version());
		return finish_stdout();
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		/*
		 * getopt prints its own one-line error prefixed by argv[0]:
		 * make that "shmkit: mk" so it is our one line, in our format.
		 */
		snprintf(prog, sizeof(prog), "shmkit: %s", commands[i].name);
		argv[1] = prog;
		return commands[i].run(argc - 1, argv + 1);
	}
	err_msg(argv[1], "unknown command (see 'shmkit --help')");
	return EXIT_USAGE;
}
