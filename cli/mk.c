/* shmkit mk: create a segment, print its shmid. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "cli.h"

static void usage(void)
{
	printf("Usage: shmkit mk -s SIZE [-k KEY | -p PATH[:PROJ] | -n NAME] [-m MODE] [-x]\n"
	       "\n"
	       "Creates a shared memory segment (or opens the one with that key) and\n"
	       "prints its shmid alone on standard output.\n"
	       "\n"
	       "  -s, --size SIZE        usable bytes: 4096, 64K, 1M, 2G (powers of 1024)\n"
	       "  -k, --key KEY          System V key, decimal or 0x hex (not 0)\n"
	       "  -p, --path PATH[:PROJ] key from ftok(PATH, PROJ); PROJ 1..255, default 1\n"
	       "  -n, --name NAME        shmkit name; the segment records it in a header\n"
	       "                         and is kept by 'shmkit gc' (persistent)\n"
	       "  -m, --mode MODE        octal permissions, default 0600\n"
	       "  -x, --exclusive        fail if a segment with this key exists\n"
	       "      --shared           -n: accept an existing segment of another user,\n"
	       "                         or with a mode wider than -m (refused otherwise)\n"
	       "  -h, --help             this text\n"
	       "\n"
	       "Without -k, -p or -n a random unused key is chosen, as ipcmk does.\n"
	       "The kernel rounds the allocation up to whole pages.\n");
}

/* No key asked for: pick random ones until one is free. */
static int create_random(uint64_t size, int mode)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_KEY };
	int tries, r = -EEXIST;

	for (tries = 0; tries < 64 && r == -EEXIST; tries++) {
		uint32_t k = 0;
		if (getrandom(&k, sizeof(k), 0) != sizeof(k) || k == 0)
			continue;
		ref.key = (key_t)k;
		r = shmkit_seg_create(&ref, size, mode, SHMKIT_EXCL);
	}
	return r;
}

/* A /proc/meminfo figure in bytes, or 0 if it is not there. */
static uint64_t meminfo(const char *field)
{
	char line[128];
	unsigned long long kb;
	size_t n = strlen(field);
	uint64_t v = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%llu", &kb) == 1)
			v = (uint64_t)kb * 1024;
	if (f)
		fclose(f);
	return v;
}

/*
 * shmget says ENOMEM when the kernel will not promise the segment's
 * memory: a segment is accounted in full when made, like any shared
 * mapping. With vm.overcommit_memory=0 one request may not exceed RAM plus
 * swap; with 2, what is promised may not pass the commit limit. Which key
 * was asked for has nothing to do with it, so name the figure instead.
 */
static void explain_nomem(uint64_t size)
{
	char line[16] = "", want[16], have[16], used[16];
	FILE *f = fopen("/proc/sys/vm/overcommit_memory", "re");
	int mode;

	if (f && !fgets(line, sizeof(line), f))
		line[0] = '\0';
	if (f)
		fclose(f);
	mode = line[0] >= '0' && line[0] <= '2' ? line[0] - '0' : -1;
	fmt_bytes(want, sizeof(want), (double)size, FMT_SHORT);
	if (mode == 0) {
		fmt_bytes(have, sizeof(have),
			  (double)(meminfo("MemTotal") + meminfo("SwapTotal")), FMT_SHORT);
		err_msg("mk", "size %llu (%s): more memory than the system has (RAM + swap: "
			"%s; vm.overcommit_memory=0)", (unsigned long long)size, want, have);
	} else if (mode == 2) {
		fmt_bytes(have, sizeof(have), (double)(meminfo("CommitLimit")), FMT_SHORT);
		fmt_bytes(used, sizeof(used), (double)(meminfo("Committed_AS")), FMT_SHORT);
		err_msg("mk", "size %llu (%s): more memory than the kernel may still promise "
			"(commit limit %s, %s promised already; vm.overcommit_memory=2)",
			(unsigned long long)size, want, have, used);
	} else {
		err_msg("mk", "size %llu (%s): the kernel could not allocate the memory",
			(unsigned long long)size, want);
	}
}

int cmd_mk(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "path", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "exclusive", no_argument, NULL, 'x' },
		{ "shared", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct target t = { .shmid = -1 };
	uint64_t size = 0;
	unsigned flags = 0;
	int mode = SHMKIT_MODE_DEFAULT, c, r;
	struct shmkit_limits lim;

	while ((c = getopt_long(argc, argv, "s:k:p:n:m:xh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size) < 0)
				return EXIT_USAGE;
			break;
		case 'k': case 'p': case 'n':
			if (target_option(&t, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'm':
			if (parse_mode(optarg, &mode) < 0)
				return EXIT_USAGE;
			break;
		case 'x':
			flags |= SHMKIT_EXCL;
			break;
		case 'S':
			flags |= SHMKIT_SHARED;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if (optind < argc)
		return usage_error("mk", "unexpected argument '%s'", argv[optind]);
	if (!size)
		return usage_error("mk", "-s SIZE is required");
	if (size > SIZE_MAX)
		size = SIZE_MAX; /* the limit check below names shmmax */

	if (t.ref.kind == SHMKIT_REF_NAME)
		flags |= SHMKIT_PERSIST;
	r = t.ref.kind ? shmkit_seg_create(&t.ref, (size_t)size, mode, flags)
		       : create_random(size, mode);
	if (r >= 0) {
		printf("%d\n", r);
		return finish_stdout();
	}
	if (r == -SHMKIT_EUNTRUSTED && t.ref.kind == SHMKIT_REF_NAME)
		err_untrusted("mk", t.ref.name, mode, "--shared");
	else if (r == -SHMKIT_ESHMMAX && shmkit_limits(&lim) == 0)
		err_msg("mk", "size %llu%s: exceeds the kernel limit kernel.shmmax (%llu bytes)",
			(unsigned long long)size,
			t.ref.kind == SHMKIT_REF_NAME ? " plus the shmkit header" : "",
			(unsigned long long)lim.shmmax);
	else if (r == -SHMKIT_ESHMALL && shmkit_limits(&lim) == 0)
		err_msg("mk", "size %llu: exceeds what kernel.shmall (%llu pages) leaves free",
			(unsigned long long)size, (unsigned long long)lim.shmall);
	else if (r == -ENOMEM)
		explain_nomem(size);
	else if (r == -SHMKIT_ESHMMNI && shmkit_limits(&lim) == 0)
		err_msg("mk", "no segment left: kernel.shmmni (%llu segments) reached",
			(unsigned long long)lim.shmmni);
	else if (r == -EEXIST)
		err_msg("mk", "%s: a segment with this key already exists (-x)", t.label);
	else if (r == -ENOENT && t.ref.kind == SHMKIT_REF_PATH)
		err_msg("mk", "%s: no such file (ftok needs an existing path)", t.ref.path);
	else
		err_msg("mk", "%s: %s", t.ref.kind ? t.label : "segment", shmkit_strerror(r));
	return EXIT_RUNTIME;
}
