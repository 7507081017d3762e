/*
 * shmkit recv: a channel onto standard output; and the pump that shmkit sub
 * shares, messages onto standard output. Each message goes from the ring
 * or the topic's slot straight to write(2) (peek, write, release): one
 * copy on this side. (Under a topic's overwrite policy a slot may change
 * while it is read: there it is copied out and checked first.)
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

static void usage(void)
{
	printf("Usage: shmkit recv [OPTIONS] NAME\n"
	       "\n"
	       "Writes what arrives in channel NAME to standard output, until the sender\n"
	       "closes it ('shmkit send NAME' at the end of its input); then exits 0.\n"
	       "Whichever of send and recv starts first creates the channel and waits\n"
	       "for the other. The last one out removes it.\n"
	       "\n"
	       "  -t, --timeout SECONDS   give up (exit 1) after waiting this long for\n"
	       "                          data (no sender yet, or a silent one);\n"
	       "                          0 to 86400 (a day), fractions allowed: 0.5\n"
	       STREAM_HELP_CREATE
	       "      --lines             accepted for symmetry: messages are written\n"
	       "                          whole, as they come\n"
	       STREAM_HELP_REST
	       "\n"
	       "Exit status: 0 the sender finished, 1 error (the sender died or failed,\n"
	       "timeout), 2 bad usage, 128+N after signal N. Writing into a closed pipe\n"
	       "ends recv quietly, like other tools, and the sender sees the receiver\n"
	       "gone.\n");
}

/* Writes all of buf; 0, or -1 with errno. */
static int write_all(const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(1, buf, len);
		if (n < 0 && errno == EINTR && !stream_signal)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int stream_pump_out(struct stream *s, int *broken_pipe)
{
	const void *p;
	size_t len;
	uint64_t since;
	int r, st;

	for (;;) {
		if (stream_signal)
			return 128 + stream_signal;
		since = clock_ns();
		while ((r = stream_peek(s, &p, &len, STREAM_SLICE_MS)) < 0) {
			if (r == -SHMKIT_EEOF)
				return 0;
			if (r == -SHMKIT_ELOST)
				continue; /* counted by the library; the oldest held is next */
			if ((st = stream_retry(s, r, since)) != STREAM_AGAIN)
				return st;
		}
		if (write_all(p, len) < 0) {
			if (stream_signal)
				return 128 + stream_signal;
			if (errno == EPIPE) {
				*broken_pipe = 1;
				return 0;
			}
			err_msg(s->cmd, "standard output: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		stream_release(s);
		stream_count(s, len);
	}
}

int cmd_recv(int argc, char **argv)
{
	struct stream s = { .cmd = "recv", .role = SHMKIT_CONSUMER };
	int broken_pipe = 0, st;

	if ((st = stream_parse(&s, argc, argv, usage)) != STREAM_GO)
		return st;
	if ((st = stream_open(&s)) != 0)
		return st;
	st = stream_pump_out(&s, &broken_pipe);
	if (broken_pipe) {
		/* close first, so the sender sees us gone; then end as cat would */
		shmkit_chan_close(s.ch);
		s.ch = NULL;
		stream_die_of_sigpipe();
	}
	return stream_end(&s, st);
}
