/*
 * shmkit sub: a topic onto standard output. Each message goes from its
 * slot to write(2) (recv.c's pump); the topic's shape is the publisher's
 * business, so sub never creates one: it waits for it.
 */
#include <getopt.h>
#include <string.h>

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

int cmd_sub(int argc, char **argv)
{
	struct sub u = { .s = { .cmd = "sub", .role = SHMKIT_CONSUMER } };
	int broken_pipe = 0, st;

	if ((st = parse(&u, argc, argv)) != STREAM_GO)
		return st;
	if ((st = topic_join(&u.s, u.flags)) != 0)
		return topic_end_sub(&u.s, st);
	u.s.start_ns = u.s.last_report_ns = clock_ns();
	st = stream_pump_out(&u.s, &broken_pipe);
	if (broken_pipe) {
		/* leave first, so the publisher stops waiting for us; then end as cat would */
		shmkit_sub_close(u.s.sub);
		u.s.sub = NULL;
		stream_die_of_sigpipe();
	}
	return topic_end_sub(&u.s, st);
}
