#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stream.h"

volatile sig_atomic_t stream_signal;

static void on_signal(int sig)
{
	stream_signal = sig;
}

int stream_option(struct stream *s, int opt, const char *arg)
{
	switch (opt) {
	case 't':
		return parse_seconds("timeout", arg, &s->timeout_ms) < 0 ? -1 : 1;
	case 's': s->stats = 1; return 1;
	case 'p': s->progress = 1; return 1;
	case 'l': s->lines = 1; return 1;
	case 'S': s->shared = 1; return 1;
	/* only in the tables of the commands that create (send, recv, pub) */
	case 'm':
		return parse_mode(arg, &s->mode) < 0 ? -1 : 1;
	case 'k': s->keep = 1; return 1;
	}
	return 0;
}

int stream_name(struct stream *s, int argc, char **argv, const char *what)
{
	if (optind >= argc)
		return usage_error(s->cmd, "which %s? give its NAME", what);
	s->name = argv[optind++];
	if (optind < argc)
		return usage_error(s->cmd, "unexpected argument '%s'", argv[optind]);
	if (shmkit_name_check(s->name) < 0) {
		err_msg(s->cmd, "'%s': not a %s name (1-63 of letters, digits, '.', '_', '-')",
			s->name, what);
		return EXIT_USAGE;
	}
	return STREAM_GO;
}

void stream_signals(void)
{
	struct sigaction sa;

	/* no SA_RESTART: a blocked read or write returns, and we clean up */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is an EPIPE we handle */
}

int stream_nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	if (!stream_signal)
		nanosleep(&ts, NULL); /* a signal cuts it short: EINTR */
	return stream_signal ? 128 + stream_signal : 0;
}

int stream_parse(struct stream *s, int argc, char **argv, void (*usage)(void))
{
	static const struct option opts[] = {
		STREAM_LONG_OPTIONS,
		{ "capacity", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "keep", no_argument, NULL, 'k' },
		{ 0 }
	};
	int c, r;

	s->timeout_ms = -1;
	s->capacity = STREAM_DEFAULT_CAPACITY;
	s->mode = SHMKIT_MODE_DEFAULT;
	while ((c = getopt_long(argc, argv, "t:c:m:h", opts, NULL)) != -1) {
		if ((r = stream_option(s, c, optarg)) != 0) {
			if (r < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'c':
			if (parse_size(optarg, &s->capacity) < 0)
				return EXIT_USAGE;
			break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if ((r = stream_name(s, argc, argv, "channel")) != STREAM_GO)
		return r;
	if (s->capacity > (1u << 30)) {
		err_msg(s->cmd, "capacity: at most 1G");
		return EXIT_USAGE;
	}
	s->peer = s->role == SHMKIT_PRODUCER ? "receiver" : "sender";
	stream_signals();
	return STREAM_GO;
}

/* Creates the channel or opens the existing one: its shmid, or -1 said. */
static int create(const struct stream *s)
{
	int r = shmkit_chan_create(s->name, (size_t)s->capacity, s->mode,
				   s->shared ? SHMKIT_SHARED : 0);

	if (r == -SHMKIT_EUNTRUSTED)
		err_untrusted(s->cmd, s->name, s->mode, "--shared");
	else if (r < 0)
		err_msg(s->cmd, "%s: %s", s->name,
			r == -SHMKIT_ENOTCHAN ? "exists and is not a channel" : shmkit_strerror(r));
	return r < 0 ? -1 : r;
}

int stream_open(struct stream *s)
{
	int r, tries = 0;

	/* removed between create and open (its last user left): make it again */
	do {
		if ((s->shmid = create(s)) < 0)
			return EXIT_RUNTIME;
		r = shmkit_chan_open(s->name, s->role | (s->shared ? SHMKIT_SHARED : 0), &s->ch);
	} while (r == -ENOENT && ++tries < 16);
	if (r == -SHMKIT_EUNTRUSTED)
		err_untrusted(s->cmd, s->name, s->mode, "--shared");
	else if (r == -EBUSY)
		err_msg(s->cmd, "%s: another %s is already using this channel", s->name,
			s->role == SHMKIT_PRODUCER ? "sender" : "receiver");
	else if (r < 0)
		err_msg(s->cmd, "%s: %s", s->name, shmkit_strerror(r));
	if (r < 0)
		return EXIT_RUNTIME;
	s->max_msg = shmkit_chan_max_msg(s->ch);
	s->start_ns = s->last_report_ns = clock_ns();
	return 0;
}

int stream_retry(struct stream *s, int r, uint64_t waited_since)
{
	if (stream_signal)
		return 128 + stream_signal;
	if (r == -ETIMEDOUT || r == -EAGAIN) {
		if (s->timeout_ms >= 0 &&
		    clock_ns() - waited_since >= (uint64_t)s->timeout_ms * 1000000u) {
			err_msg(s->cmd, "%s: no %s (is a %s %s?) within %g s", s->name,
				s->role == SHMKIT_PRODUCER ? "room" : "data", s->peer,
				s->role == SHMKIT_PRODUCER ? "reading" : "writing",
				(double)s->timeout_ms / 1000);
			return EXIT_RUNTIME;
		}
		return STREAM_AGAIN;
	}
	if (r == -SHMKIT_EPEERDEAD)
		err_msg(s->cmd, "%s: the %s died", s->name, s->peer);
	else if (r == -SHMKIT_EABORTED)
		err_msg(s->cmd, "%s: the %s failed before the end of its input: what "
			"came is written, but the stream is incomplete", s->name, s->peer);
	else if (r == -EPIPE)
		err_msg(s->cmd, "%s: the receiver closed the channel", s->name);
	else
		err_msg(s->cmd, "%s: %s", s->name, shmkit_strerror(r));
	return EXIT_RUNTIME;
}

int stream_reserve(struct stream *s, size_t len, void **ptr, int timeout_ms)
{
	return s->ch ? shmkit_chan_reserve(s->ch, len, ptr, timeout_ms) :
		       shmkit_pub_reserve(s->pub, len, ptr, timeout_ms);
}

void stream_commit(struct stream *s, size_t used)
{
	if (s->ch)
		shmkit_chan_commit(s->ch, used);
	else
		shmkit_pub_commit(s->pub, used);
}

int stream_peek(struct stream *s, const void **ptr, size_t *len, int timeout_ms)
{
	int r;

	if (s->ch)
		return shmkit_chan_peek(s->ch, ptr, len, timeout_ms);
	if (!s->copy)
		return shmkit_sub_peek(s->sub, ptr, len, timeout_ms);
	/* the copy taken and not yet released: peeking again gives it again */
	if (!s->copy_held) {
		/* recv checks its copy against the slot's sequence word afterwards */
		if ((r = shmkit_sub_recv(s->sub, s->copy, s->max_msg, &s->copy_len,
					 timeout_ms)) < 0)
			return r;
		s->copy_held = 1;
	}
	*ptr = s->copy;
	*len = s->copy_len;
	return 0;
}

void stream_release(struct stream *s)
{
	if (s->ch)
		shmkit_chan_release(s->ch);
	else if (!s->copy)
		shmkit_sub_release(s->sub); /* block policy: the slot stayed put */
	else
		s->copy_held = 0;
}

void stream_die_of_sigpipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
}

void stream_report(struct stream *s, const char *end)
{
	double secs = (double)(clock_ns() - s->start_ns) / 1e9;
	char size[16], line[512];
	FILE *f = line_begin(line, sizeof(line));

	fmt_bytes(size, sizeof(size), (double)s->bytes, FMT_SHORT);
	fprintf(f, "shmkit: %s: %s: %llu bytes (%s) in %llu messages, %.2f s, %.1f MB/s%s",
		s->cmd, s->name, (unsigned long long)s->bytes, size,
		(unsigned long long)s->msgs, secs, secs > 0 ? (double)s->bytes / secs / 1e6 : 0.0,
		end);
	line_end(f, line, sizeof(line));
}

void stream_count(struct stream *s, uint64_t bytes)
{
	uint64_t now;

	s->bytes += bytes;
	s->msgs++;
	/* the clock every 16 messages: a few ns each, and still several
	 * looks a second when messages are megabytes */
	if (!s->progress || (s->msgs & 15))
		return;
	now = clock_ns();
	if (now - s->last_report_ns < 500000000u)
		return;
	s->last_report_ns = now;
	stream_report(s, "   \r");
}

int stream_end(struct stream *s, int status)
{
	struct shmkit_chan_info info;
	int r, peer_here, remove = 0;

	if (s->progress)
		stream_report(s, "\n"); /* the last figures, on a line of their own */
	/* a sender that failed says so: its receiver must not take a prefix for all */
	r = status != 0 ? shmkit_chan_abort(s->ch) : shmkit_chan_close(s->ch);
	s->ch = NULL;
	if (r < 0 && status == 0) {
		err_msg(s->cmd, "%s: close: %s", s->name, shmkit_strerror(r));
		status = EXIT_RUNTIME;
	}
	if (shmkit_chan_info(s->shmid, &info) == 0) {
		if (s->stats) {
			stream_report(s, "");
			fprintf(stderr, ", slept %llu times\n", (unsigned long long)
				(s->role == SHMKIT_PRODUCER ? info.prod_sleeps : info.cons_sleeps));
		}
		/*
		 * The last one out removes the channel. A receiver is last once
		 * no live sender holds it; a sender only once a receiver came
		 * and went, since until then the data and the end of it (clean
		 * or failed) wait for one: a receiver that comes later reads
		 * them, instead of making a new channel and waiting for ever.
		 */
		if (s->role == SHMKIT_CONSUMER) {
			peer_here = info.prod_pid && info.prod_alive;
			remove = !peer_here;
		} else {
			peer_here = info.cons_pid && info.cons_alive;
			remove = !peer_here && (info.cons_closed || info.cons_pid);
		}
		/*
		 * A group member may use a channel it may not remove (only the
		 * owner, creator or root may): the data is through, so the
		 * status stays, but a channel left behind is worth a line.
		 */
		if (remove && !s->keep && (r = shmkit_seg_remove(s->shmid)) < 0 && r != -EINVAL &&
		    r != -EIDRM)
			err_msg(s->cmd, "%s: channel left in place: %s (its owner or root can "
				"remove it: shmkit rm -n %s)", s->name, shmkit_strerror(r), s->name);
	}
	if (finish_stdout() && status == 0)
		status = EXIT_RUNTIME;
	return status;
}
