/* shmkit gc: remove orphaned segments nobody will come back for. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void usage(void)
{
	printf("Usage: shmkit gc [--dry-run] [--foreign] [--pending AGE]\n"
	       "\n"
	       "Removes orphaned segments: nobody attached, and the creator and last\n"
	       "user are gone (pid and start time, so a recycled pid does not count).\n"
	       "Only shmkit segments (with a shmkit header) that are not persistent\n"
	       "are removed; segments made by 'shmkit mk -n' are persistent and kept.\n"
	       "Channels shown as pending (their sender finished, and messages or\n"
	       "the end of the stream wait for a receiver) are kept too, and so are\n"
	       "pending topics, inboxes and services (messages wait for a reader).\n"
	       "Each removed segment is listed.\n"
	       "\n"
	       "  -n, --dry-run    list what would be removed, remove nothing\n"
	       "  --foreign        also remove orphans without a shmkit header (made by\n"
	       "                   other programs, ipcmk, or shmkit mk -k / -p)\n"
	       "  --pending AGE    also remove pending segments unused for AGE: seconds,\n"
	       "                   or a number with s, m, h or d (30m, 2d); their unread\n"
	       "                   messages are lost\n"
	       "  -h, --help       this text\n"
	       "\n"
	       "Orphans the caller may not remove (only their owner or creator, or\n"
	       "root, can) are skipped and counted in one line on stderr.\n");
}

/* AGE: digits, then optionally s, m, h or d. -1 if malformed. */
static int64_t parse_age(const char *text)
{
	const char *s = text;
	int64_t v = 0, unit = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	switch (*s) {
	case '\0': case 's': break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -1;
	}
	if (*s && s[1])
		return -1;
	return v > INT64_MAX / unit ? -1 : v * unit;
}

/* Unused for at least age seconds: no attach or detach since. */
static int unused_for(const struct shmkit_seg_info *i, int64_t age)
{
	int64_t last = i->atime > i->dtime ? i->atime : i->dtime;

	if (i->ctime > last)
		last = i->ctime;
	return (int64_t)time(NULL) - last >= age;
}

/*
 * Is this segment garbage? Persistent and unreadable ones never are; a
 * pending one (a channel, topic, inbox or service) only when asked for,
 * once unused for pending_age.
 */
static int collectable(const struct shmkit_seg_info *i, int foreign, int64_t pending_age)
{
	if (i->flags & SHMKIT_INFO_UNREAD)
		return 0;
	if (i->state == SHMKIT_STATE_PENDING)
		return pending_age >= 0 && !(i->flags & SHMKIT_INFO_PERSIST) &&
		       unused_for(i, pending_age);
	if (i->state != SHMKIT_STATE_ORPHAN)
		return 0;
	if (i->flags & SHMKIT_INFO_NAMED)
		return !(i->flags & SHMKIT_INFO_PERSIST);
	return foreign;
}

/*
 * May this process remove the segment? The kernel lets its owner, its
 * creator and root; for anyone else, an orphan is someone else's to
 * clean up, not a failure of this gc.
 */
static int may_remove(const struct shmkit_seg_info *i)
{
	uid_t me = geteuid();

	return me == 0 || me == i->uid || me == i->cuid;
}

/* Said once, at the end, however many there were. */
static void say_skipped(int n)
{
	if (n == 1)
		err_msg("gc", "skipped 1 orphan of another user (only its owner or "
			"creator, or root, can remove it)");
	else if (n > 1)
		err_msg("gc", "skipped %d orphans of other users (only their owners or "
			"creators, or root, can remove them)", n);
}

int cmd_gc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "foreign", no_argument, NULL, 'F' },
		{ "pending", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct shmkit_seg_info *list = NULL, now;
	int dry = 0, foreign = 0, c, n, k, failed = 0, skipped = 0, r;
	int64_t pending_age = -1;

	while ((c = getopt_long(argc, argv, "nh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = 1;
			break;
		case 'F':
			foreign = 1;
			break;
		case 'P':
			if ((pending_age = parse_age(optarg)) < 0)
				return usage_error("gc", "--pending '%s': not an age (like 3600, 30m, 2d)",
					    optarg);
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if (optind < argc)
		return usage_error("gc", "unexpected argument '%s'", argv[optind]);

	n = shmkit_seg_list(&list);
	if (n < 0) {
		err_msg("gc", "cannot list segments: %s", shmkit_strerror(n));
		return EXIT_RUNTIME;
	}
	for (k = 0; k < n; k++) {
		const struct shmkit_seg_info *i = &list[k];
		char name[SAFE_CAP(SHMKIT_NAME_MAX)];

		if (!collectable(i, foreign, pending_age))
			continue;
		if (!may_remove(i)) {
			skipped++;
			continue;
		}
		/* look again right before removing: someone may have attached since */
		if (!dry && (shmkit_seg_stat(i->shmid, &now) < 0 ||
			     !collectable(&now, foreign, pending_age)))
			continue;
		r = dry ? 0 : shmkit_seg_remove(i->shmid);
		if (r == -EPERM) {
			skipped++;	/* the kernel has the last word (a new owner?) */
			continue;
		}
		if (r < 0) {
			err_msg("gc", "%d: %s", i->shmid, shmkit_strerror(r));
			failed = 1;
			continue;
		}
		printf("%s %d key 0x%08x%s%s\n", dry ? "would remove" : "removed", i->shmid,
		       (unsigned)i->key, (i->flags & SHMKIT_INFO_NAMED) ? " name " : "",
		       (i->flags & SHMKIT_INFO_NAMED) ? safe_text(name, sizeof(name), i->name) : "");
	}
	shmkit_free(list);
	c = finish_stdout();
	say_skipped(skipped);
	return failed ? EXIT_RUNTIME : c;
}
