/*
 * shmkit sub: a topic onto standard output. Each message goes from its
 * slot to write(2) (recv.c's pump); the topic's shape is the publisher's
 * business, so sub never creates one: it waits for it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

struct sub {
	struct stream s;
	unsigned flags;		/* SHMKIT_FROM_OLDEST, SHMKIT_SHARED */
};

static void usage(void)
{
	printf("Usage: shmkit sub [OPTIONS] TOPIC\n"
	       "\n"
	       "Writes the messages published on topic TOPIC to standard output, each\n"
	       "whole, in order, from the next one published (or with --from oldest,\n"
	       "from the oldest the topic's history holds), until the publisher closes\n"
	       "it ('shmkit pub TOPIC' at the end of its input); then exits 0. If the\n"
	       "topic does not exist yet, sub waits for it: start subscribers first, and\n"
	       "give pub --wait-subs, to be sure they miss nothing.\n"
	       "\n"
	       "Under the overwrite policy the publisher never waits, and a subscriber\n"
	       "that falls a whole topic behind loses the oldest messages: sub says how\n"
	       "many on stderr, and goes on from the oldest still held. Under the block\n"
	       "policy nothing is lost: the publisher waits for the slowest subscriber.\n"
	       "\n"
	       "  -t, --timeout SECONDS   give up (exit 1) after waiting this long for\n"
	       "                          the topic to appear, or for data (a silent\n"
	       "                          publisher); 0 to 86400 (a day), fractions: 0.5\n"
	       "      --from WHERE        next: messages published from now on (default);\n"
	       "                          oldest: from the oldest in the topic's history\n"
	       "      --lines             accepted for symmetry: messages are written\n"
	       "                          whole, as they come\n"
	       "      --shared            use the topic even if another user made it, or\n"
	       "                          its mode is wider than 0600 (refused otherwise:\n"
	       "                          its owner could read or forge the stream)\n"
	       "      --stats             print bytes, messages, MB/s, losses and sleeps at\n"
	       "                          the end\n"
	       "      --progress          print a live progress line on stderr\n"
	       "  -h, --help              this text\n"
	       "\n"
	       "Exit status: 0 the publisher finished, 1 error (the publisher died or\n"
	       "failed, timeout, no free place), 2 bad usage, 128+N after signal N.\n"
	       "Messages lost under the overwrite policy are not an error: that is the\n"
	       "policy's bargain, and stderr says how many. Writing into a closed pipe\n"
	       "ends sub quietly, like other tools.\n");
}

static int parse(struct sub *u, int argc, char **argv)
{
	static const struct option opts[] = {
		STREAM_LONG_OPTIONS,
		{ "from", required_argument, NULL, 'F' },
		{ 0 }
	};
	struct stream *s = &u->s;
	int c, r;

	s->timeout_ms = -1;
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		if ((r = stream_option(s, c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'F':
			if (!strcmp(optarg, "oldest")) {
				u->flags |= SHMKIT_FROM_OLDEST;
			} else if (!strcmp(optarg, "next")) {
				u->flags &= ~SHMKIT_FROM_OLDEST;
			} else {
				err_msg("sub", "--from: '%s': oldest or next", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if ((r = stream_name(s, argc, argv, "topic")) != STREAM_GO)
		return r;
	if (s->shared)
		u->flags |= SHMKIT_SHARED;
	s->peer = "publisher";
	stream_signals();
	return STREAM_GO;
}

/* The shmid the name leads to now, or a negative error. */
static int shmid_of(const char *name)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };

	return shmkit_seg_open(&ref);
}

/* This process's entry in the topic's subscriber list: for join, and --stats. */
static int own_entry(const struct stream *s, struct shmkit_topic_sub_info *mine)
{
	static struct topic_report t;	/* up to 1,024 subscribers: not on the stack */
	pid_t me = getpid();

	if (shmkit_topic_info(s->shmid, &t.info, t.subs, SHMKIT_TOPIC_MAX_SUBS_SHOWN) < 0)
		return -1;
	for (size_t k = 0; k < t.info.nsubs && k < SHMKIT_TOPIC_MAX_SUBS_SHOWN; k++)
		if (t.subs[k].pid == me) {
			*mine = t.subs[k];
			return 0;
		}
	return -1;
}

/* How long the next wait for the topic may last: a slice, or what is left. */
static int look_ms(const struct stream *s, uint64_t since)
{
	int64_t left;

	if (s->timeout_ms < 0)
		return STREAM_SLICE_MS;
	left = s->timeout_ms - (int64_t)((clock_ns() - since) / 1000000u);
	return left <= 0 ? 0 : left < STREAM_SLICE_MS ? (int)left : STREAM_SLICE_MS;
}

/*
 * Takes a place in the topic, waiting for it to appear (the library
 * looks again and again; here in slices, so that a signal ends the
 * wait). Then the shmid the name leads to must hold this process's place:
 * if not, the topic was removed and made again since the open, and the
 * info read later would be another's. 0, or the status to exit with
 * (said).
 */
static int join(struct sub *u)
{
	struct stream *s = &u->s;
	struct shmkit_topic_sub_info mine;
	uint64_t since = clock_ns();
	int r, ms;

	for (;;) {
		ms = look_ms(s, since);
		r = shmkit_sub_open_wait(s->name, u->flags, ms, &s->sub);
		if (r == 0) {
			if ((s->shmid = shmid_of(s->name)) >= 0 && own_entry(s, &mine) == 0)
				return 0;
			shmkit_sub_close(s->sub);	/* another topic now: again */
			s->sub = NULL;
			continue;
		}
		if (r != -ETIMEDOUT && r != -ENOENT)
			break;
		if (stream_signal)
			return 128 + stream_signal;
		if (ms == 0) {
			err_msg("sub", "%s: no such topic within %g s (is a publisher coming?)",
				s->name, (double)s->timeout_ms / 1000);
			return EXIT_RUNTIME;
		}
	}
	if (r == -SHMKIT_EUNTRUSTED)
		err_untrusted("sub", s->name, SHMKIT_MODE_DEFAULT, "--shared");
	else if (r == -SHMKIT_ENOTTOPIC)
		err_msg("sub", "%s: exists and is not a topic", s->name);
	else if (r == -EBUSY)
		err_msg("sub", "%s: every subscriber place is taken (pub --max-subs sets how "
			"many there are)", s->name);
	else
		err_msg("sub", "%s: %s", s->name, shmkit_strerror(r));
	return EXIT_RUNTIME;
}

/* How this process reads it: in place, or (overwrite) copied and checked. */
static int prepare(struct stream *s)
{
	struct shmkit_topic_info info;
	int r;

	if ((r = shmkit_topic_info(s->shmid, &info, NULL, 0)) < 0) {
		err_msg("sub", "%s: %s", s->name, shmkit_strerror(r));
		return EXIT_RUNTIME;
	}
	s->max_msg = (size_t)info.max_msg;
	if (info.policy == SHMKIT_TOPIC_OVERWRITE && !(s->copy = malloc(s->max_msg))) {
		err_msg("sub", "out of memory");
		return EXIT_RUNTIME;
	}
	return 0;
}

static int sub_end(struct sub *u, int status)
{
	struct stream *s = &u->s;
	struct shmkit_topic_sub_info mine;
	uint64_t lost = shmkit_sub_lost(s->sub);
	int have = own_entry(s, &mine) == 0, r;

	if (s->progress)
		stream_report(s, "\n");
	if ((r = shmkit_sub_close(s->sub)) < 0 && status == 0) {
		err_msg("sub", "%s: close: %s", s->name, shmkit_strerror(r));
		status = EXIT_RUNTIME;
	}
	s->sub = NULL;
	free(s->copy);
	s->copy = NULL;
	if (lost)
		err_msg("sub", "%s: lost %llu messages: overwritten before they were read "
			"(overwrite policy; the publisher does not wait)", s->name,
			(unsigned long long)lost);
	if (s->stats) {
		stream_report(s, "");
		fprintf(stderr, ", lost %llu", (unsigned long long)lost);
		if (have)
			fprintf(stderr, ", slept %llu times", (unsigned long long)mine.sleeps);
		fputc('\n', stderr);
	}
	if (finish_stdout() && status == 0)
		status = EXIT_RUNTIME;
	return status;
}

int cmd_sub(int argc, char **argv)
{
	struct sub u = { .s = { .cmd = "sub", .role = SHMKIT_CONSUMER } };
	int broken_pipe = 0, st;

	if ((st = parse(&u, argc, argv)) != STREAM_GO)
		return st;
	if ((st = join(&u)) != 0)
		return st;
	if ((st = prepare(&u.s)) != 0)
		return sub_end(&u, st);
	u.s.start_ns = u.s.last_report_ns = clock_ns();
	st = stream_pump_out(&u.s, &broken_pipe);
	if (broken_pipe) {
		/* leave first, so the publisher stops waiting for us; then end as cat would */
		shmkit_sub_close(u.s.sub);
		u.s.sub = NULL;
		stream_die_of_sigpipe();
	}
	return sub_end(&u, st);
}
