/*
 * shmkit pub: standard input into a topic. Each message is written once,
 * into one of the topic's slots, however many subscribers read it; the
 * bytes go from read(2) straight into the slot (send.c's pump).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

struct pub {
	struct stream s;
	struct topic_shape shape;
	uint64_t wait_subs;	/* --wait-subs: publish once this many have joined */
};

static void usage(void)
{
	printf("Usage: shmkit pub [OPTIONS] TOPIC\n"
	       "\n"
	       "Reads standard input and publishes it on topic TOPIC. Every subscriber\n"
	       "('shmkit sub TOPIC', or a program) gets every message published after it\n"
	       "joined, and each message is written once, however many read it. pub\n"
	       "creates the topic if it does not exist (subscribers wait for it). Each\n"
	       "read of input becomes one message; with --lines, each line. At the end\n"
	       "of input the topic is closed: subscribers read what is left, and end.\n"
	       "pub then removes the topic, unless --keep, or it keeps a history for\n"
	       "subscribers still to come.\n"
	       "\n"
	       "  -t, --timeout SECONDS   give up (exit 1) after waiting this long for\n"
	       "                          room (block policy: a subscriber that does not\n"
	       "                          read) or for --wait-subs; 0 to 86400 (a day),\n"
	       "                          fractions allowed: 0.5\n"
	       "  -w, --wait-subs N       publish nothing before N subscribers have joined\n"
	       "                          (one that joins later misses what came before)\n"
	       "      --lines             one message per line, never split (a line must\n"
	       "                          fit in --max-msg)\n"
	       "\n"
	       "The topic's shape, when pub creates it (an existing topic of another\n"
	       "shape is refused):\n"
	       TOPIC_HELP_SHAPE
	       "  -m, --mode MODE         permissions when creating (default 0600)\n"
	       "\n"
	       "      --keep              do not remove the topic at the end\n"
	       "      --shared            use the topic even if another user made it, or its\n"
	       "                          mode is wider than -m (refused otherwise: its\n"
	       "                          owner could read or forge the stream)\n"
	       "      --stats             print bytes, messages, MB/s and sleeps at the end\n"
	       "      --progress          print a live progress line on stderr\n"
	       "  -h, --help              this text\n"
	       "\n"
	       "Exit status: 0 all published, 1 error (timeout, the topic refused), 2 bad\n"
	       "usage, 128+N after signal N. On any failure the topic is closed as\n"
	       "failed: subscribers get what was published, then exit 1 saying the\n"
	       "stream is cut.\n");
}

static int parse(struct pub *p, int argc, char **argv)
{
	static const struct option opts[] = {
		STREAM_LONG_OPTIONS,
		TOPIC_SHAPE_LONG_OPTIONS,
		{ "wait-subs", required_argument, NULL, 'w' },
		{ "mode", required_argument, NULL, 'm' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 }
	};
	struct stream *s = &p->s;
	int c, r;

	s->timeout_ms = -1;
	s->mode = SHMKIT_MODE_DEFAULT;
	topic_shape_init(&p->shape);
	while ((c = getopt_long(argc, argv, "t:w:m:h", opts, NULL)) != -1) {
		if ((r = stream_option(s, c, optarg)) != 0 ||
		    (r = topic_shape_option("pub", &p->shape, c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'w':
			if (parse_count("pub", "wait-subs", optarg, 0, 1024, &p->wait_subs) < 0)
				return EXIT_USAGE;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if ((r = stream_name(s, argc, argv, "topic")) != STREAM_GO)
		return r;
	if (topic_shape_check("pub", &p->shape) < 0)
		return EXIT_USAGE;
	s->peer = "subscriber";
	stream_signals();
	return STREAM_GO;
}

int cmd_pub(int argc, char **argv)
{
	struct pub p = { .s = { .cmd = "pub", .role = SHMKIT_PRODUCER } };
	int st;

	if ((st = parse(&p, argc, argv)) != STREAM_GO)
		return st;
	if ((st = topic_open_pub(&p.s, &p.shape)) != 0)
		return st;
	if (p.wait_subs && (st = topic_wait_subs(&p.s, p.wait_subs)) != 0)
		return topic_end_pub(&p.s, st, p.shape.tp.history);
	p.s.start_ns = p.s.last_report_ns = clock_ns();
	return topic_end_pub(&p.s, stream_pump_in(&p.s), p.shape.tp.history);
}
