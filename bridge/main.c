/* shmkit-bridge: the command line, shared by both directions. */
#include <getopt.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: shmkit-bridge out [OPTIONS] CHANNEL SUBJECT\n"
		"       shmkit-bridge in [OPTIONS] SUBJECT CHANNEL\n"
		"\n"
		"Carries a shmkit channel or topic over NATS, from one machine to another:\n"
		"  out    reads channel CHANNEL (as 'shmkit recv' does; with --topic, a\n"
		"         topic, as 'shmkit sub') and publishes each message to SUBJECT\n"
		"  in     subscribes to SUBJECT and writes each message into channel\n"
		"         CHANNEL (as 'shmkit send' does; with --topic, a topic, as\n"
		"         'shmkit pub')\n"
		"  bench  measures what the bridge costs against publishing straight\n"
		"         with the NATS client ('shmkit-bridge bench --help')\n"
		"\n"
		"Options:\n"
		"  -h, --help      this text; 'shmkit-bridge out --help' for a direction\n"
		"  -V, --version   print the version\n"
		"\n"
		"Exit status: 0 the stream ended whole, 1 error or messages lost,\n"
		"2 bad usage, 128+N after signal N.\n");
}

/*
 * A subject to publish to or subscribe to: tokens of printable ASCII
 * without spaces, separated by single dots; no wildcards ('*', '>'), as
 * one subject carries one stream.
 */
static int subject_ok(const char *s)
{
	size_t tok = 0;

	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (!tok)
				return 0;
			tok = 0;
			continue;
		}
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || *s == '*' ||
		    *s == '>')
			return 0;
		tok++;
	}
	return tok > 0;
}

/* A JetStream stream or consumer name, as the bridge takes them. */
static int js_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_-") == n;
}

int bridge_parse(struct bridge *b, int argc, char **argv, void (*help)(void))
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 'S' + 256 },
		{ "creds", required_argument, NULL, 'C' + 256 },
		{ "delivery", required_argument, NULL, 'D' + 256 },
		{ "stream", required_argument, NULL, 'N' + 256 },
		{ "no-batch", no_argument, NULL, 'B' + 256 },
		{ "durable", required_argument, NULL, 'U' + 256 },
		{ "timeout", required_argument, NULL, 't' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "keep", no_argument, NULL, 'k' },
		{ "shared", no_argument, NULL, 'S' },
		{ "stats", no_argument, NULL, 's' + 256 },
		{ "progress", no_argument, NULL, 'p' + 256 },
		{ "topic", no_argument, NULL, 'T' + 256 },
		{ "from", required_argument, NULL, 'F' + 256 },
		{ "wait-subs", required_argument, NULL, 'W' + 256 },
		TOPIC_SHAPE_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct stream *s = &b->s;
	const char *first, *second, *what, *from = NULL;
	int c, r, gave_capacity = 0;

	b->server = BRIDGE_DEFAULT_SERVER;
	b->connect_ms = BRIDGE_DEFAULT_TIMEOUT_MS;
	s->timeout_ms = -1; /* channel waits: for ever, while the bridge runs */
	s->capacity = s->role == SHMKIT_CONSUMER ? BRIDGE_OUT_CAPACITY : STREAM_DEFAULT_CAPACITY;
	s->mode = SHMKIT_MODE_DEFAULT;
	topic_shape_init(&b->shape);
	while ((c = getopt_long(argc, argv, "s:t:c:m:h", opts, NULL)) != -1) {
		if ((r = topic_shape_option(s->cmd, &b->shape, c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 's':
		case 'S' + 256:
			b->server = optarg;
			break;
		case 'C' + 256:
			b->creds = optarg;
			break;
		case 'D' + 256:
			if (!strcmp(optarg, "core"))
				b->delivery = DELIVERY_CORE;
			else if (!strcmp(optarg, "jetstream"))
				b->delivery = DELIVERY_JETSTREAM;
			else
				return usage_error(s->cmd, "--delivery '%s': core or jetstream",
						   optarg);
			break;
		case 'B' + 256:
			if (s->role != SHMKIT_CONSUMER)
				return usage_error(s->cmd, "--no-batch is for 'out'");
			b->no_batch = 1;
			break;
		case 'N' + 256:
			if (!js_name_ok(optarg))
				return usage_error(s->cmd, "--stream '%s': letters, digits, '_' "
						   "and '-', at most 64", optarg);
			b->stream_name = optarg;
			break;
		case 'U' + 256:
			if (s->role != SHMKIT_PRODUCER)
				return usage_error(s->cmd, "--durable is for 'in'");
			if (!js_name_ok(optarg))
				return usage_error(s->cmd, "--durable '%s': letters, digits, '_' "
						   "and '-', at most 64", optarg);
			b->durable = optarg;
			break;
		case 't':
			if (parse_seconds("timeout", optarg, &b->connect_ms) < 0)
				return EXIT_USAGE;
			break;
		case 'T' + 256:
			b->topic = 1;
			break;
		case 'F' + 256:
			if (strcmp(optarg, "oldest") && strcmp(optarg, "next"))
				return usage_error(s->cmd, "--from '%s': oldest or next", optarg);
			from = optarg;
			break;
		case 'W' + 256:
			if (parse_count(s->cmd, "wait-subs", optarg, 1, 1024, &b->wait_subs) < 0)
				return EXIT_USAGE;
			break;
		case 'c':
			gave_capacity = 1;
			if (parse_size(optarg, &s->capacity) < 0)
				return EXIT_USAGE;
			if (s->capacity > (1u << 30)) {
				err_msg(s->cmd, "capacity: at most 1G");
				return EXIT_USAGE;
			}
			break;
		case 'm':
			if (parse_mode(optarg, &s->mode) < 0)
				return EXIT_USAGE;
			break;
		case 'k': s->keep = 1; break;
		case 'S': s->shared = 1; break;
		case 's' + 256: b->stats = 1; break;
		case 'p' + 256: b->progress = 1; break;
		default:
			return help_or_bad_option(c, help);
		}
	}
	if (argc - optind != 2)
		return usage_error(s->cmd, argc - optind < 2 ? "give %s" :
				   "unexpected argument after %s", s->role == SHMKIT_CONSUMER ?
				   "CHANNEL and SUBJECT" : "SUBJECT and CHANNEL");
	first = argv[optind];
	second = argv[optind + 1];
	s->name = s->role == SHMKIT_CONSUMER ? first : second;
	b->subject = s->role == SHMKIT_CONSUMER ? second : first;
	what = b->topic ? "topic" : "channel";
	if (shmkit_name_check(s->name) < 0) {
		err_msg(s->cmd, "'%s': not a %s name (1-63 of letters, digits, '.', '_', '-')",
			s->name, what);
		return EXIT_USAGE;
	}
	if (from && !(b->topic && s->role == SHMKIT_CONSUMER))
		return usage_error(s->cmd, "--from is for 'out --topic'");
	if ((b->shape.gave || b->wait_subs) && !(b->topic && s->role == SHMKIT_PRODUCER))
		return usage_error(s->cmd, "--max-msg, --slots, --max-subs, --history, "
				   "--policy and --wait-subs are for 'in --topic'");
	if (b->topic && gave_capacity)
		return usage_error(s->cmd, "--capacity is for a channel (a topic's shape: "
				   "--max-msg and --slots)");
	if (b->topic && topic_shape_check(s->cmd, &b->shape) < 0)
		return EXIT_USAGE;
	/*
	 * A topic keeps no place for a subscriber that died: what is
	 * published while a killed out restarts is not there for it, and
	 * JetStream's promise (nothing lost) could not be kept.
	 */
	if (b->topic && s->role == SHMKIT_CONSUMER && b->delivery == DELIVERY_JETSTREAM)
		return usage_error(s->cmd, "--topic with --delivery jetstream is for 'in' only: "
				   "a topic keeps nothing for a subscriber that died, so "
				   "out could not promise that nothing is lost (use core "
				   "delivery, or carry the topic through a channel)");
	if (from && !strcmp(from, "oldest"))
		b->sub_flags |= SHMKIT_FROM_OLDEST;
	if (!subject_ok(b->subject)) {
		err_msg(s->cmd, "'%s': not a subject to %s (tokens of printable characters "
			"joined by '.', no spaces, no wildcards)", b->subject,
			s->role == SHMKIT_CONSUMER ? "publish to" : "subscribe to");
		return EXIT_USAGE;
	}
	if (b->delivery != DELIVERY_JETSTREAM && (b->stream_name || b->durable))
		return usage_error(s->cmd, "--%s is for --delivery jetstream",
				   b->stream_name ? "stream" : "durable");
	if (b->topic)
		s->peer = s->role == SHMKIT_PRODUCER ? "subscriber" : "publisher";
	else
		s->peer = s->role == SHMKIT_PRODUCER ? "receiver" : "sender";
	stream_signals();
	return STREAM_GO;
}

int main(int argc, char **argv)
{
	err_prog = "shmkit-bridge";
	/*
	 * Every message is a malloc'd NATS message of up to 1 MiB, freed at
	 * once: keep that memory rather than hand it back to the kernel and
	 * fault it in again each time (page faults and TLB shootdowns were a
	 * tenth of the bridge's time at 64 KiB).
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return finish_stdout();
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("shmkit-bridge %s (libnats %s)\n", shmkit_version(), nats_GetVersion());
		return finish_stdout();
	}
	if (!strcmp(argv[1], "out"))
		return bridge_out(argc - 1, argv + 1);
	if (!strcmp(argv[1], "in"))
		return bridge_in(argc - 1, argv + 1);
	if (!strcmp(argv[1], "bench"))
		return bridge_bench(argc - 1, argv + 1);
	err_msg(argv[1], "unknown direction (out or in; see 'shmkit-bridge --help')");
	return EXIT_USAGE;
}
