/* shmkit stat: everything about one segment. */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <grp.h>
#include <time.h>

#include "cli.h"

static void usage(void)
{
	printf("Usage: shmkit stat [--json] SHMID | -k KEY | -p PATH[:PROJ] | -n NAME\n"
	       "\n"
	       "Shows everything about one segment: key, name, sizes, mode, owner and\n"
	       "creator, attach count and the processes attached, creator and last\n"
	       "pid (and whether they still run), times and state. A channel adds its\n"
	       "ring, sides and counters; a topic its shape, publisher, and each\n"
	       "subscriber's pid, position, lag and losses; an inbox its shape,\n"
	       "consumer and totals, and each lane in use: its producer's pid,\n"
	       "bytes queued, messages sent and received, sleeps and wakes. A service\n"
	       "is shown as an inbox whose consumer is the server and producers the\n"
	       "clients, with each lane's replies: bytes queued, sent and read.\n"
	       "\n"
	       "  -k, --key KEY          the segment with this System V key\n"
	       "  -p, --path PATH[:PROJ] the segment with key ftok(PATH, PROJ)\n"
	       "  -n, --name NAME        the shmkit segment with this name\n"
	       "  --json                 one JSON object with exact numbers\n"
	       "  -h, --help             this text\n");
}

static const char *user(uid_t uid, char *buf, size_t cap)
{
	struct passwd *pw = getpwuid(uid);
	char name[SAFE_CAP(32)];

	snprintf(buf, cap, "%s(%u)", pw ? safe_text(name, sizeof(name), pw->pw_name) : "?",
		 (unsigned)uid);
	return buf;
}

static const char *group(gid_t gid, char *buf, size_t cap)
{
	struct group *gr = getgrgid(gid);
	char name[SAFE_CAP(32)];

	snprintf(buf, cap, "%s(%u)", gr ? safe_text(name, sizeof(name), gr->gr_name) : "?",
		 (unsigned)gid);
	return buf;
}

static const char *when(int64_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0)
		return "never";
	localtime_r(&tt, &tm);
	strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static void print_topic(const struct topic_report *t)
{
	const struct shmkit_topic_info *i = &t->info;

	printf("topic:        %llu slots of up to %llu bytes, history %llu, %s policy, "
	       "%u subscribers at most\n", (unsigned long long)i->slots,
	       (unsigned long long)i->max_msg, (unsigned long long)i->history,
	       i->policy == SHMKIT_TOPIC_BLOCK ? "block" : "overwrite", i->max_subs);
	if (i->pub_pid)
		printf("  publisher:  pid %d (%s)\n", (int)i->pub_pid,
		       i->pub_alive ? "running" : "gone without closing");
	else
		printf("  publisher:  %s\n", i->pub_aborted ? "closed as failed (the stream is "
		       "incomplete)" : i->pub_closed ? "closed" : "not open yet");
	printf("  published:  %llu messages, %llu bytes\n", (unsigned long long)i->published,
	       (unsigned long long)i->bytes);
	printf("  publisher:  slept %llu times, woke subscribers %llu times, waited %.3f s, "
	       "yielded %llu times\n", (unsigned long long)i->pub_sleeps,
	       (unsigned long long)i->pub_wakes, (double)i->pub_wait_ns / 1e9,
	       (unsigned long long)i->pub_yields);
	printf("  subscribers: %u\n", i->nsubs);
	for (size_t k = 0; k < t->n; k++) {
		const struct shmkit_topic_sub_info *s = &t->subs[k];

		printf("    pid %-8d %-8s at %llu, lag %llu, read %llu (%llu bytes), lost %llu, "
		       "slept %llu, yielded %llu\n", (int)s->pid, s->alive ? "running" : "gone",
		       (unsigned long long)s->pos, (unsigned long long)s->lag,
		       (unsigned long long)s->msgs, (unsigned long long)s->bytes,
		       (unsigned long long)s->lost, (unsigned long long)s->sleeps,
		       (unsigned long long)s->yields);
	}
	if (t->n < i->nsubs)
		printf("    (%u more not shown)\n", i->nsubs - (unsigned)t->n);
}

/*
 * An inbox, or a service: the same lanes, where a service's consumer is
 * its server, its producers are clients, and each lane has a reply ring.
 */
static void print_inbox(const struct inbox_report *r)
{
	const struct shmkit_inbox_info *i = &r->info;
	int svc = i->replies;
	const char *cons = svc ? "server" : "consumer";
	uint64_t sent_bytes = 0, recv_bytes = 0, rep_used = 0, rep_sent = 0, rep_read = 0;
	char cap[16];

	for (size_t k = 0; k < r->n; k++) {
		sent_bytes += r->lanes[k].sent_bytes;
		recv_bytes += r->lanes[k].recv_bytes;
		rep_used += r->lanes[k].replies_used;
		rep_sent += r->lanes[k].replies_sent;
		rep_read += r->lanes[k].replies_read;
	}
	fmt_bytes(cap, sizeof(cap), (double)i->lane_capacity, FMT_SHORT);
	printf("%s      %u lanes of %s%s, %s up to %llu bytes\n", svc ? "service:" : "inbox:  ",
	       i->lanes, cap, svc ? " each way" : "", svc ? "requests and replies" : "messages",
	       (unsigned long long)i->max_msg);
	if (i->cons_pid)
		printf("  %s:%spid %d (%s)\n", cons, svc ? "     " : "   ", (int)i->cons_pid,
		       i->cons_alive ? "running" : "gone without closing");
	else
		printf("  %s:%s%s\n", cons, svc ? "     " : "   ",
		       i->cons_closed ? "closed" : "not open yet");
	printf("  %s:%s%u holding a lane\n", svc ? "clients" : "producers", svc ? "    " : "  ",
	       i->producers);
	printf("  sent:       %llu %s, %llu bytes\n", (unsigned long long)i->sent_msgs,
	       svc ? "requests" : "messages", (unsigned long long)sent_bytes);
	printf("  received:   %llu %s, %llu bytes; %llu bytes waiting\n",
	       (unsigned long long)i->recv_msgs, svc ? "requests" : "messages",
	       (unsigned long long)recv_bytes, (unsigned long long)i->used);
	if (svc)
		printf("  replies:    %llu sent, %llu read; %llu bytes waiting\n",
		       (unsigned long long)rep_sent, (unsigned long long)rep_read,
		       (unsigned long long)rep_used);
	printf("  sleeps:     %s %llu\n", cons, (unsigned long long)i->cons_sleeps);
	printf("  lanes:      %u in use\n", i->listed);
	if (!r->n)
		return;
	printf("    %5s %-8s %-8s %9s %9s %9s %7s %7s", "LANE", "PID", "STATE", "QUEUED", "SENT",
	       "RECEIVED", "SLEEPS", "WAKES");
	printf(svc ? " %12s %9s %9s\n" : "\n", "REPLY-QUEUED", "REPLIED", "READ");
	for (size_t k = 0; k < r->n; k++) {
		const struct shmkit_inbox_lane_info *l = &r->lanes[k];
		char pid[16];

		snprintf(pid, sizeof(pid), l->pid ? "%d" : "-", (int)l->pid);
		printf("    %5u %-8s %-8s %9llu %9llu %9llu %7llu %7llu", l->lane, pid,
		       !l->pid ? "closed" : l->alive ? "running" : "gone",
		       (unsigned long long)l->used, (unsigned long long)l->sent_msgs,
		       (unsigned long long)l->recv_msgs, (unsigned long long)l->sleeps,
		       (unsigned long long)l->wakes);
		if (svc)
			printf(" %12llu %9llu %9llu", (unsigned long long)l->replies_used,
			       (unsigned long long)l->replies_sent,
			       (unsigned long long)l->replies_read);
		printf("\n");
	}
	if (r->n < i->listed)
		printf("    (%u more not shown)\n", i->listed - (unsigned)r->n);
}

static void print_human(const struct shmkit_seg_info *i, const struct shmkit_proc *p,
			int np, int partial, const struct shmkit_chan_info *c,
			const struct topic_report *topic, const struct inbox_report *inbox)
{
	char a[SAFE_CAP(32) + 16], b[SAFE_CAP(32) + 16], size[16];
	char text[SAFE_CAP(SHMKIT_NAME_MAX)];
	int k;

	printf("shmid:        %d\n", i->shmid);
	printf("key:          0x%08x%s\n", (unsigned)i->key,
	       (i->flags & SHMKIT_INFO_REMOVING) ? " (cleared: marked for removal)" : "");
	if (i->flags & SHMKIT_INFO_NAMED)
		printf("name:         %s%s\n", safe_text(text, sizeof(text), i->name),
		       (i->flags & SHMKIT_INFO_PERSIST) ? " (persistent)" : "");
	else
		printf("name:         - (%s)\n", (i->flags & SHMKIT_INFO_UNREAD) ?
		       "header not readable by you" : "raw segment, no shmkit header");
	fmt_bytes(size, sizeof(size), (double)i->data_size, FMT_SHORT);
	printf("size:         %llu bytes usable (%s)\n", (unsigned long long)i->data_size, size);
	printf("segment size: %llu bytes asked, %llu allocated (whole pages)\n",
	       (unsigned long long)i->size, (unsigned long long)i->alloc);
	printf("mode:         %04o\n", i->mode);
	printf("owner:        %s:%s\n", user(i->uid, a, sizeof(a)), group(i->gid, b, sizeof(b)));
	printf("creator:      %s:%s\n", user(i->cuid, a, sizeof(a)), group(i->cgid, b, sizeof(b)));
	printf("creator pid:  %d (%s)\n", (int)i->cpid,
	       (i->flags & SHMKIT_INFO_CREATOR_ALIVE) ? "running" : "gone");
	printf("last pid:     %d (%s)\n", (int)i->lpid,
	       (i->flags & SHMKIT_INFO_LASTPID_ALIVE) ? "running" : "gone");
	printf("attached:     %llu\n", (unsigned long long)i->nattch);
	for (k = 0; k < np; k++)
		printf("  pid %-8d %s\n", (int)p[k].pid,
		       safe_text(text, sizeof(text), p[k].comm));
	if (partial && (uint64_t)np < i->nattch)
		printf("  (some processes could not be inspected: run as root to see all)\n");
	printf("attach time:  %s\n", when(i->atime, a, sizeof(a)));
	printf("detach time:  %s\n", when(i->dtime, a, sizeof(a)));
	printf("change time:  %s\n", when(i->ctime, a, sizeof(a)));
	printf("state:        %s%s\n", state_name(i->state),
	       (i->flags & SHMKIT_INFO_LOCKED) ? ", locked in memory" : "");
	if (c) {
		char cap[16];
		const char *side[2] = { "producer", "consumer" };
		pid_t pid[2] = { c->prod_pid, c->cons_pid };
		int alive[2] = { c->prod_alive, c->cons_alive };
		int closed[2] = { c->prod_closed, c->cons_closed };

		fmt_bytes(cap, sizeof(cap), (double)c->capacity, FMT_SHORT);
		printf("channel:      ring %s, messages up to %llu bytes, %llu bytes waiting\n",
		       cap, (unsigned long long)c->max_msg, (unsigned long long)c->used);
		for (k = 0; k < 2; k++) {
			if (pid[k])
				printf("  %s:   pid %d (%s)\n", side[k], (int)pid[k],
				       alive[k] ? "running" : "gone without closing");
			else
				printf("  %s:   %s\n", side[k], !closed[k] ? "not open yet" :
				       k == 0 && c->prod_aborted ? "closed as failed (its input "
				       "or the sender broke off)" : "closed");
		}
		printf("  sent:       %llu messages, %llu bytes\n",
		       (unsigned long long)c->sent_msgs, (unsigned long long)c->sent_bytes);
		printf("  received:   %llu messages, %llu bytes\n",
		       (unsigned long long)c->recv_msgs, (unsigned long long)c->recv_bytes);
		printf("  sleeps:     producer %llu, consumer %llu\n",
		       (unsigned long long)c->prod_sleeps, (unsigned long long)c->cons_sleeps);
		printf("  wake calls: by producer %llu, by consumer %llu\n",
		       (unsigned long long)c->prod_wakes, (unsigned long long)c->cons_wakes);
		printf("  yields:     producer %llu, consumer %llu\n",
		       (unsigned long long)c->prod_yields, (unsigned long long)c->cons_yields);
		printf("  waited:     producer %.3f s, consumer %.3f s\n",
		       (double)c->prod_wait_ns / 1e9, (double)c->cons_wait_ns / 1e9);
	}
	if (topic)
		print_topic(topic);
	if (inbox)
		print_inbox(inbox);
}

int cmd_stat(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "path", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct target t = { .shmid = -1 };
	struct shmkit_seg_info info;
	struct shmkit_chan_info chan;
	static struct topic_report topic;
	static struct inbox_report inbox;	/* up to 1,024 lanes: not on the stack */
	int have_chan = 0, have_topic = 0, have_inbox = 0;
	struct shmkit_proc *procs = NULL;
	int json = 0, c, shmid, np, partial = 0, r;

	while ((c = getopt_long(argc, argv, "k:p:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k': case 'p': case 'n':
			if (target_option(&t, c, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'j':
			json = 1;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if (optind < argc && target_shmid(&t, argv[optind++]) < 0)
		return EXIT_USAGE;
	if (optind < argc)
		return usage_error("stat", "unexpected argument '%s'", argv[optind]);
	if (!t.ref.kind && t.shmid < 0)
		return usage_error("stat", "which segment? give a shmid, -k, -p or -n");

	/*
	 * A shmid is looked at once only: each look attaches for a moment,
	 * and a second look would see the first as the last user, hiding the
	 * real one (target_open looks too).
	 */
	shmid = t.ref.kind ? target_open(&t, "stat") : t.shmid;
	if (shmid < 0)
		return EXIT_RUNTIME;
	r = shmkit_seg_stat(shmid, &info);
	if (r < 0) {
		err_msg("stat", "%s: %s", t.label, !t.ref.kind && (r == -EINVAL || r == -EIDRM) ?
			"no segment with this shmid" : shmkit_strerror(r));
		return EXIT_RUNTIME;
	}
	np = shmkit_seg_procs(shmid, &procs, &partial);
	if (np < 0) {
		np = 0;
		partial = 1;
	}
	/* a channel's counters too; one that cannot be read is left out */
	if ((info.flags & SHMKIT_INFO_CHANNEL) && shmkit_chan_info(shmid, &chan) == 0)
		have_chan = 1;
	/* and a topic's, with its subscribers */
	if ((info.flags & SHMKIT_INFO_TOPIC) &&
	    shmkit_topic_info(shmid, &topic.info, topic.subs, SHMKIT_TOPIC_MAX_SUBS_SHOWN) == 0) {
		have_topic = 1;
		topic.n = topic.info.nsubs < SHMKIT_TOPIC_MAX_SUBS_SHOWN ? topic.info.nsubs :
			  SHMKIT_TOPIC_MAX_SUBS_SHOWN;
	}
	/* and an inbox's or a service's, with its lanes in use */
	if ((info.flags & SHMKIT_INFO_INBOX) && inbox_report_read(shmid, &inbox) == 0)
		have_inbox = 1;
	if (json) {
		json_info(stdout, &info, procs, np, partial, have_chan ? &chan : NULL,
			  have_topic ? &topic : NULL, have_inbox ? &inbox : NULL,
			  have_inbox && inbox.info.replies, "");
		printf("\n");
	} else {
		print_human(&info, procs, np, partial, have_chan ? &chan : NULL,
			    have_topic ? &topic : NULL, have_inbox ? &inbox : NULL);
	}
	shmkit_free(procs);
	return finish_stdout();
}
