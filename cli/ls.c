/* shmkit ls: every segment on the system, with what ipcs cannot show. */
#include <getopt.h>
#include <pwd.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void usage(void)
{
	printf("Usage: shmkit ls [--json]\n"
	       "\n"
	       "Lists every System V shared memory segment on the system: shmid, key,\n"
	       "shmkit name, owner, mode, size asked and allocated (whole pages), number\n"
	       "attached and by which pids, creator pid and whether it still runs, age\n"
	       "and state:\n"
	       "  in-use    attached by at least one process\n"
	       "  idle      nobody attached; its creator or last user still runs\n"
	       "  orphan    nobody attached; creator and last user are gone\n"
	       "  removing  marked for removal; freed at the last detach\n"
	       "  pending   a channel nobody attached whose sender has finished, or\n"
	       "            an inbox or service nobody attached with messages for a\n"
	       "            consumer: the unread messages and bytes follow, as\n"
	       "            (3 msgs 120B); or a topic nobody attached that keeps a\n"
	       "            history of messages a new subscriber could still read;\n"
	       "            kept by 'shmkit gc' unless it is given an age for them\n"
	       "A shmkit segment made by 'shmkit mk -n' adds \"persistent\"; one that\n"
	       "holds a channel adds \"channel\", a topic \"topic\", an inbox \"inbox\"\n"
	       "and a service \"service\".\n"
	       "\n"
	       "  --json      exact numbers as a JSON array, one object per segment\n"
	       "  -h, --help  this text\n"
	       "\n"
	       "Reading a shmkit header attaches read-only for a moment, as any reader\n"
	       "would; the times shown are those from before.\n");
}

static void owner_name(char *buf, size_t cap, uid_t uid)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		safe_text(buf, cap, pw->pw_name);
	else
		snprintf(buf, cap, "%u", (unsigned)uid);
}

/*
 * The state, and for a pending channel or inbox what waits in it:
 * "pending(3 msgs 120B)". ib: the inbox's report, if i is one and it
 * could be read.
 */
static void state_text(char *buf, size_t cap, const struct shmkit_seg_info *i,
		       const struct inbox_report *ib)
{
	struct shmkit_chan_info c;
	uint64_t msgs, bytes = 0;
	int failed = 0;
	char size[16];

	if (i->state == SHMKIT_STATE_PENDING && ib) {
		msgs = ib->info.sent_msgs - ib->info.recv_msgs;
		for (size_t k = 0; k < ib->n; k++)
			bytes += ib->lanes[k].sent_bytes - ib->lanes[k].recv_bytes;
	} else if (i->state == SHMKIT_STATE_PENDING && shmkit_chan_info(i->shmid, &c) == 0) {
		msgs = c.sent_msgs - c.recv_msgs;
		bytes = c.sent_bytes - c.recv_bytes;
		failed = c.prod_aborted;
	} else {
		snprintf(buf, cap, "%s", state_name(i->state));
		return;
	}
	fmt_bytes(size, sizeof(size), (double)bytes, FMT_SHORT);
	snprintf(buf, cap, "pending(%llu msgs %s%s)", (unsigned long long)msgs, size,
		 failed ? " failed" : "");
}

/* What the segment holds, as ls adds it to the state: ",channel" and so on. */
static const char *kind_text(const struct shmkit_seg_info *i, const struct inbox_report *ib)
{
	if (i->flags & SHMKIT_INFO_CHANNEL)
		return ",channel";
	if (i->flags & SHMKIT_INFO_TOPIC)
		return ",topic";
	if (i->flags & SHMKIT_INFO_INBOX)
		return ib && ib->info.replies ? ",service" : ",inbox";
	return "";
}

/* The attached pids of one segment as "12,345"; "-" for none. */
static void pid_list(char *buf, size_t cap, const struct shmkit_seg_info *i,
		     const struct shmkit_proc *procs, int n, int partial)
{
	size_t len = 0;
	uint64_t shown = 0;
	int k;

	buf[0] = '\0';
	for (k = 0; k < n && len + 12 < cap; k++) {
		if (procs[k].shmid != i->shmid)
			continue;
		len += (size_t)snprintf(buf + len, cap - len, "%s%d", len ? "," : "",
					(int)procs[k].pid);
		shown++;
	}
	/* processes whose maps we may not read still count in nattch */
	if (shown < i->nattch && (partial || len + 12 >= cap))
		snprintf(buf + len, cap - len, "%s?", len ? "," : "");
	else if (!len)
		snprintf(buf, cap, "-");
}

/* An inbox's or a service's report, if i holds one that could be read; else NULL. */
static const struct inbox_report *read_inbox(const struct shmkit_seg_info *i,
					     struct inbox_report *ib)
{
	if (!(i->flags & SHMKIT_INFO_INBOX) || inbox_report_read(i->shmid, ib) < 0)
		return NULL;
	return ib;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct shmkit_seg_info *list = NULL;
	struct shmkit_proc *procs = NULL;
	static struct inbox_report ib;	/* up to 1,024 lanes: not on the stack */
	const struct inbox_report *have_ib;
	int json = 0, c, n, np, partial = 0, k;
	time_t now = time(NULL);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if (optind < argc)
		return usage_error("ls", "unexpected argument '%s'", argv[optind]);

	n = shmkit_seg_list(&list);
	if (n < 0) {
		err_msg("ls", "cannot list segments: %s", shmkit_strerror(n));
		return EXIT_RUNTIME;
	}
	np = shmkit_seg_procs(-1, &procs, &partial);
	if (np < 0) {
		np = 0;
		partial = 1;
	}

	if (json) {
		printf("[");
		for (k = 0; k < n; k++) {
			have_ib = read_inbox(&list[k], &ib);
			printf("%s\n  ", k ? "," : "");
			json_info(stdout, &list[k], procs, np, partial, NULL, NULL, NULL,
				  have_ib && have_ib->info.replies, "  ");
		}
		printf("%s]\n", n ? "\n" : "");
	} else {
		printf("%-10s %-10s %-16s %-8s %-4s %7s %7s %5s %-12s %-12s %5s %s\n",
		       "SHMID", "KEY", "NAME", "OWNER", "MODE", "SIZE", "ALLOC", "NATT",
		       "PIDS", "CREATOR", "AGE", "STATE");
		for (k = 0; k < n; k++) {
			const struct shmkit_seg_info *i = &list[k];
			char owner[SAFE_CAP(32)], mode[8], size[16], alloc[16], pids[64];
			char creator[32], age[16], name[SAFE_CAP(SHMKIT_NAME_MAX)], state[64];

			owner_name(owner, sizeof(owner), i->uid);
			fmt_mode(mode, sizeof(mode), i->mode);
			fmt_bytes(size, sizeof(size), (double)i->data_size, FMT_SHORT);
			fmt_bytes(alloc, sizeof(alloc), (double)i->alloc, FMT_SHORT);
			pid_list(pids, sizeof(pids), i, procs, np, partial);
			snprintf(creator, sizeof(creator), "%d/%s", (int)i->cpid,
				 (i->flags & SHMKIT_INFO_CREATOR_ALIVE) ? "live" : "gone");
			fmt_age(age, sizeof(age), (int64_t)now - i->ctime);
			have_ib = read_inbox(i, &ib);
			state_text(state, sizeof(state), i, have_ib);
			printf("%-10d 0x%08x %-16s %-8s %-4s %7s %7s %5llu %-12s %-12s %5s %s%s%s\n",
			       i->shmid, (unsigned)i->key,
			       (i->flags & SHMKIT_INFO_NAMED) ?
			       safe_text(name, sizeof(name), i->name) : "-",
			       owner, mode, size, alloc, (unsigned long long)i->nattch,
			       pids, creator, age, state,
			       (i->flags & SHMKIT_INFO_PERSIST) ? ",persistent" : "",
			       kind_text(i, have_ib));
		}
	}
	shmkit_free(list);
	shmkit_free(procs);
	return finish_stdout();
}
