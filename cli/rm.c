/* shmkit rm: remove segments, refusing ones still in use unless forced. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void usage(void)
{
	printf("Usage: shmkit rm [--force] TARGET...\n"
	       "\n"
	       "Removes segments. TARGET is a shmid, or -k KEY, -p PATH[:PROJ] or\n"
	       "-n NAME (each may be repeated).\n"
	       "\n"
	       "A segment that processes still have attached is refused, since they\n"
	       "may depend on it. With --force it is marked for removal anyway: its key\n"
	       "is freed at once and the kernel frees its memory at the last detach.\n"
	       "\n"
	       "  -k, --key KEY          the segment with this System V key\n"
	       "  -p, --path PATH[:PROJ] the segment with key ftok(PATH, PROJ)\n"
	       "  -n, --name NAME        the shmkit segment with this name\n"
	       "  -f, --force            remove even if attached\n"
	       "  -h, --help             this text\n"
	       "\n"
	       "Every target is tried; the exit status is 1 if any failed.\n");
}

static int remove_one(const struct target *t, int force)
{
	struct shmkit_seg_info info = { 0 };	/* stays zero if stat fails */
	/* a shmid is looked at once, by the stat below (target_open would too) */
	int shmid = t->ref.kind ? target_open(t, "rm") : t->shmid, r;

	if (shmid < 0)
		return -1;
	r = shmkit_seg_stat(shmid, &info);
	if (r < 0 && !t->ref.kind) {
		err_msg("rm", "%s: %s", t->label, r == -EINVAL || r == -EIDRM ?
			"no segment with this shmid" : shmkit_strerror(r));
		return -1;
	}
	if (r == 0 && info.nattch > 0 && !force) {
		err_msg("rm", "%s: still attached by %llu process%s (--force marks it for removal anyway)",
			t->label, (unsigned long long)info.nattch, info.nattch == 1 ? "" : "es");
		return -1;
	}
	r = shmkit_seg_remove(shmid);
	if (r < 0) {
		err_msg("rm", "%s: %s", t->label,
			r == -EPERM ? "not yours to remove (owner, creator or root only)" :
			r == -EINVAL || r == -EIDRM ? "already gone" : shmkit_strerror(r));
		return -1;
	}
	if (info.nattch > 0)
		printf("%d: marked for removal; %llu process%s still attached, the kernel frees it at the last detach\n",
		       shmid, (unsigned long long)info.nattch, info.nattch == 1 ? "" : "es");
	return 0;
}

int cmd_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "path", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct target *targets;
	int n = 0, force = 0, c, k, failed = 0;

	targets = calloc((size_t)argc, sizeof(*targets));
	if (!targets) {
		err_msg("rm", "out of memory");
		return EXIT_RUNTIME;
	}
	while ((c = getopt_long(argc, argv, "k:p:n:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'k': case 'p': case 'n':
			targets[n].shmid = -1;
			if (target_option(&targets[n++], c, optarg) < 0)
				goto usage;
			break;
		case 'f':
			force = 1;
			break;
		case 'h':
			free(targets);
			usage();
			return finish_stdout();
		default:
			goto usage; /* getopt said why, in one line */
		}
	}
	for (; optind < argc; optind++) {
		targets[n].shmid = -1;
		if (target_shmid(&targets[n++], argv[optind]) < 0)
			goto usage;
	}
	if (n == 0) {
		free(targets);
		return usage_error("rm", "nothing to remove: give a shmid, -k, -p or -n");
	}
	for (k = 0; k < n; k++)
		if (remove_one(&targets[k], force) < 0)
			failed = 1;
	free(targets);
	c = finish_stdout();
	return failed ? EXIT_RUNTIME : c;
usage:
	free(targets);
	return EXIT_USAGE;
}
