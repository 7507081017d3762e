/*
 * shmkit pub: standard input into a topic. Each message is written once,
 * into one of the topic's slots, however many subscribers read it; the
 * bytes go from read(2) straight into the slot (send.c's pump).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

#define PUB_MAX_MSG (64u << 10)	/* 64 slots of 64 KiB: 4 MiB, as a channel */
#define PUB_SLOTS 64
#define PUB_MAX_SUBS 64
#define PUB_WAIT_MS 10		/* how often --wait-subs looks */

/* The shape options given on the command line, to check an existing topic. */
enum { GAVE_MAX_MSG = 1, GAVE_SLOTS = 2, GAVE_MAX_SUBS = 4, GAVE_HISTORY = 8,
       GAVE_POLICY = 16 };

struct pub {
	struct stream s;
	struct shmkit_topic_params tp;
	unsigned gave;
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
	       "      --max-msg SIZE      the largest message (default 64K)\n"
	       "      --slots N           messages it holds, rounded up to a power of two,\n"
	       "                          at least 4 (default 64)\n"
	       "      --max-subs N        subscribers at once, 1 to 1024 (default 64)\n"
	       "      --history N         how many messages back a new subscriber may start\n"
	       "                          ('shmkit sub --from oldest'); at most slots - 2\n"
	       "                          (default 0)\n"
	       "      --policy POLICY     when the slowest subscriber is a whole topic behind:\n"
	       "                          block      wait for it (default; one that dies\n"
	       "                                     holds pub back at most ~20 ms)\n"
	       "                          overwrite  never wait: it loses the oldest\n"
	       "                                     messages, and is told how many\n"
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

/* A count option: digits within [lo, hi], or -1 (said). */
static int parse_count(const char *opt, const char *text, uint64_t lo, uint64_t hi,
		       uint64_t *v)
{
	if (parse_decimal(text, v) < 0 || *v < lo || *v > hi) {
		err_msg("pub", "--%s: '%s': a number from %llu to %llu", opt, text,
			(unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	return 0;
}

static int parse(struct pub *p, int argc, char **argv)
{
	static const struct option opts[] = {
		STREAM_LONG_OPTIONS,
		{ "wait-subs", required_argument, NULL, 'w' },
		{ "max-msg", required_argument, NULL, 'M' },
		{ "slots", required_argument, NULL, 'N' },
		{ "max-subs", required_argument, NULL, 'U' },
		{ "history", required_argument, NULL, 'H' },
		{ "policy", required_argument, NULL, 'P' },
		{ "mode", required_argument, NULL, 'm' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 }
	};
	struct stream *s = &p->s;
	uint64_t v;
	uint32_t slots = 4;
	int c, r;

	s->timeout_ms = -1;
	s->mode = SHMKIT_MODE_DEFAULT;
	p->tp = (struct shmkit_topic_params){ .max_msg = PUB_MAX_MSG, .slots = PUB_SLOTS,
					      .max_subs = PUB_MAX_SUBS,
					      .policy = SHMKIT_TOPIC_BLOCK };
	while ((c = getopt_long(argc, argv, "t:w:m:h", opts, NULL)) != -1) {
		if ((r = stream_option(s, c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'w':
			if (parse_count("wait-subs", optarg, 0, 1024, &p->wait_subs) < 0)
				return EXIT_USAGE;
			break;
		case 'M':
			if (parse_size(optarg, &v) < 0)
				return EXIT_USAGE;
			if (v == 0 || v > (1u << 30)) {
				err_msg("pub", "--max-msg: from 1 byte to 1G");
				return EXIT_USAGE;
			}
			p->tp.max_msg = (size_t)v;
			p->gave |= GAVE_MAX_MSG;
			break;
		case 'N':
			if (parse_count("slots", optarg, 4, 1u << 20, &v) < 0)
				return EXIT_USAGE;
			p->tp.slots = (uint32_t)v;
			p->gave |= GAVE_SLOTS;
			break;
		case 'U':
			if (parse_count("max-subs", optarg, 1, 1024, &v) < 0)
				return EXIT_USAGE;
			p->tp.max_subs = (uint32_t)v;
			p->gave |= GAVE_MAX_SUBS;
			break;
		case 'H':
			if (parse_count("history", optarg, 0, (1u << 20) - 2, &v) < 0)
				return EXIT_USAGE;
			p->tp.history = (uint32_t)v;
			p->gave |= GAVE_HISTORY;
			break;
		case 'P':
			if (!strcmp(optarg, "block")) {
				p->tp.policy = SHMKIT_TOPIC_BLOCK;
			} else if (!strcmp(optarg, "overwrite")) {
				p->tp.policy = SHMKIT_TOPIC_OVERWRITE;
			} else {
				err_msg("pub", "--policy: '%s': block or overwrite", optarg);
				return EXIT_USAGE;
			}
			p->gave |= GAVE_POLICY;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if ((r = stream_name(s, argc, argv, "topic")) != STREAM_GO)
		return r;
	/* what the library would refuse with a bare -EINVAL, said here */
	while (slots < p->tp.slots)
		slots <<= 1;
	p->tp.slots = slots;	/* as the library rounds it: same_shape compares this */
	if (p->tp.history > slots - 2) {
		err_msg("pub", "--history: at most slots - 2 (%u with %u slots)", slots - 2, slots);
		return EXIT_USAGE;
	}
	if ((uint64_t)slots * (p->tp.max_msg + 64) > (1ull << 32)) {
		err_msg("pub", "--slots times --max-msg: at most 4G in all");
		return EXIT_USAGE;
	}
	s->peer = "subscriber";
	stream_signals();
	return STREAM_GO;
}

/* Does the existing topic have the shape the options asked for? */
static int same_shape(const struct pub *p, const struct shmkit_topic_info *i)
{
	/* max_msg is stored rounded up to whole 64-byte slots */
	return (!(p->gave & GAVE_MAX_MSG) ||
		(i->max_msg >= p->tp.max_msg && i->max_msg - p->tp.max_msg < 64)) &&
	       (!(p->gave & GAVE_SLOTS) || i->slots == p->tp.slots) &&
	       (!(p->gave & GAVE_MAX_SUBS) || i->max_subs == p->tp.max_subs) &&
	       (!(p->gave & GAVE_HISTORY) || i->history == p->tp.history) &&
	       (!(p->gave & GAVE_POLICY) || i->policy == p->tp.policy);
}

/* Creates the topic or opens the existing one (of the shape asked for),
 * and takes the publisher's place. 0, or the status to exit with (said). */
static int open_topic(struct pub *p)
{
	struct stream *s = &p->s;
	unsigned shared = s->shared ? SHMKIT_SHARED : 0;
	struct shmkit_topic_info info;
	int r, tries = 0;

	/* removed between create and open (its last user left): make it again */
	do {
		if ((r = s->shmid = shmkit_topic_create(s->name, &p->tp, s->mode, shared)) < 0)
			break;
		/* checked before taking the place: a topic of another shape is
		 * someone else's, and must not be closed, aborted or removed */
		if ((r = shmkit_topic_info(s->shmid, &info, NULL, 0)) < 0)
			continue;
		if (!same_shape(p, &info)) {
			err_msg("pub", "%s: exists with another shape (%llu slots of up to %llu "
				"bytes, %u subscribers, history %llu, %s policy): remove it first "
				"('shmkit rm -n %s') or leave the shape options out", s->name,
				(unsigned long long)info.slots, (unsigned long long)info.max_msg,
				info.max_subs, (unsigned long long)info.history,
				info.policy == SHMKIT_TOPIC_BLOCK ? "block" : "overwrite", s->name);
			return EXIT_RUNTIME;
		}
		r = shmkit_pub_open(s->name, shared, &s->pub);
	} while ((r == -ENOENT || r == -EIDRM || r == -EINVAL) && ++tries < 16);
	if (r == -SHMKIT_EUNTRUSTED)
		err_untrusted("pub", s->name, s->mode, "--shared");
	else if (r == -SHMKIT_ENOTTOPIC)
		err_msg("pub", "%s: exists and is not a topic", s->name);
	else if (r == -EBUSY)
		err_msg("pub", "%s: another publisher is already using this topic", s->name);
	else if (r < 0)
		err_msg("pub", "%s: %s", s->name, shmkit_strerror(r));
	if (r < 0)
		return EXIT_RUNTIME;
	p->tp.history = (uint32_t)info.history;
	s->max_msg = (size_t)info.max_msg;
	return 0;
}

/* --wait-subs: until that many live subscribers hold a place. 0, or the
 * status to exit with (said). */
static int wait_subs(struct pub *p)
{
	struct stream *s = &p->s;
	uint64_t since = clock_ns();
	int n, r;

	while ((n = shmkit_pub_subscribers(s->pub)) >= 0 && (uint64_t)n < p->wait_subs) {
		if (s->timeout_ms >= 0 &&
		    clock_ns() - since >= (uint64_t)s->timeout_ms * 1000000u) {
			err_msg("pub", "%s: %d of %llu subscribers joined within %g s", s->name,
				n, (unsigned long long)p->wait_subs, (double)s->timeout_ms / 1000);
			return EXIT_RUNTIME;
		}
		if ((r = stream_nap(PUB_WAIT_MS)) != 0)
			return r;
	}
	if (n < 0) {
		err_msg("pub", "%s: %s", s->name, shmkit_strerror(n));
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Closes (or on failure aborts) the place, says --stats, removes the topic
 * unless it is to stay. Returns status, or 1 if closing failed. */
static int pub_end(struct pub *p, int status)
{
	struct stream *s = &p->s;
	struct shmkit_topic_info info;
	int r;

	if (s->progress)
		stream_report(s, "\n");
	r = status != 0 ? shmkit_pub_abort(s->pub) : shmkit_pub_close(s->pub);
	s->pub = NULL;
	if (r < 0 && status == 0) {
		err_msg("pub", "%s: close: %s", s->name, shmkit_strerror(r));
		status = EXIT_RUNTIME;
	}
	if (s->stats && shmkit_topic_info(s->shmid, &info, NULL, 0) == 0) {
		stream_report(s, "");
		fprintf(stderr, ", slept %llu times, woke subscribers %llu times\n",
			(unsigned long long)info.pub_sleeps, (unsigned long long)info.pub_wakes);
	}
	/*
	 * Subscribers that hold a place keep the segment attached and read
	 * the rest after the removal; a history is for subscribers that have
	 * not come yet, so a topic with one stays (gc counts it as pending).
	 */
	if (!s->keep && p->tp.history == 0 && (r = shmkit_seg_remove(s->shmid)) < 0 &&
	    r != -EINVAL && r != -EIDRM)
		err_msg("pub", "%s: topic left in place: %s (its owner or root can remove it: "
			"shmkit rm -n %s)", s->name, shmkit_strerror(r), s->name);
	if (finish_stdout() && status == 0)
		status = EXIT_RUNTIME;
	return status;
}

int cmd_pub(int argc, char **argv)
{
	struct pub p = { .s = { .cmd = "pub", .role = SHMKIT_PRODUCER } };
	int st;

	if ((st = parse(&p, argc, argv)) != STREAM_GO)
		return st;
	if ((st = open_topic(&p)) != 0)
		return st;
	if (p.wait_subs && (st = wait_subs(&p)) != 0)
		return pub_end(&p, st);
	p.s.start_ns = p.s.last_report_ns = clock_ns();
	return pub_end(&p, stream_pump_in(&p.s));
}
