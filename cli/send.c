/*
 * shmkit send: standard input into a channel; and the pump that shmkit pub
 * shares, standard input into messages. The bytes go from read(2)
 * straight into a reserved span of the ring or a topic's slot (reserve,
 * read, commit): one copy on this side, none in between.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream.h"

static void usage(void)
{
	printf("Usage: shmkit send [OPTIONS] NAME\n"
	       "\n"
	       "Reads standard input and moves it into channel NAME, for 'shmkit recv\n"
	       "NAME' (or any consumer) to read: a pipe between two programs that goes\n"
	       "through shared memory. Whichever of send and recv starts first creates\n"
	       "the channel and waits for the other. At the end of input the channel is\n"
	       "closed, and recv drains it and ends too. The last one out removes it.\n"
	       "\n"
	       "  -t, --timeout SECONDS   give up (exit 1) after waiting this long for\n"
	       "                          room in the ring (no receiver, or a stuck one);\n"
	       "                          0 to 86400 (a day), fractions allowed: 0.5\n"
	       STREAM_HELP_CREATE
	       "      --lines             one message per line, never split (a line must\n"
	       "                          fit in half the ring)\n"
	       STREAM_HELP_REST
	       "\n"
	       "Exit status: 0 all sent, 1 error (receiver gone, timeout), 2 bad usage,\n"
	       "128+N after signal N. On any failure the channel is closed as failed:\n"
	       "the receiver gets what was sent, then exits 1 saying the stream is cut.\n");
}

/* Waits for room for len bytes; 0 with *ptr, or the status to exit with. */
static int reserve(struct stream *s, size_t len, void **ptr)
{
	uint64_t since = clock_ns();
	int r, st;

	while ((r = stream_reserve(s, len, ptr, STREAM_SLICE_MS)) < 0)
		if ((st = stream_retry(s, r, since)) != STREAM_AGAIN)
			return st;
	return 0;
}

/*
 * Room for the next read: the largest span free now, from a whole message
 * down to an eighth of one; only when not even that is free, wait for an
 * eighth. Always asking for a whole message would leave up to half the
 * ring unused: a 64 KiB ring would hold one 32 KiB message at a time.
 * A topic's slots each hold a whole message, free or not: no halves.
 */
static int reserve_some(struct stream *s, size_t max, void **ptr, size_t *got)
{
	size_t len, least = max >= 8 && s->ch ? max / 8 : max;

	for (len = max; len >= least && len; len /= 2) {
		if (stream_reserve(s, len, ptr, 0) == 0) {
			*got = len;
			return 0;
		}
	}
	*got = least;
	return reserve(s, least, ptr);
}

/*
 * Waits until standard input has something (or its end) to read, watching
 * the receiver meanwhile: a sender fed by 'tail -f' must notice that its
 * receiver died or left without waiting for more input, as tail -f
 * notices a closed output. (A publisher has no one receiver to watch:
 * subscribers come and go.) 0, or the status to exit with.
 */
static int wait_input(struct stream *s)
{
	struct pollfd in = { .fd = 0, .events = POLLIN };
	int r;

	for (;;) {
		if (stream_signal)
			return 128 + stream_signal;
		r = poll(&in, 1, STREAM_SLICE_MS);
		if (r > 0 || (r < 0 && errno != EINTR))
			return 0; /* readable, at its end, or let read(2) say why */
		if (r == 0 && s->ch && (r = shmkit_chan_peer(s->ch)) < 0)
			return stream_retry(s, r, clock_ns());
	}
}

/* The plain byte stream: each read(2) becomes one message. */
static int send_bytes(struct stream *s)
{
	size_t chunk = s->max_msg, room;
	void *p;
	ssize_t n;
	int st;

	for (;;) {
		if ((st = wait_input(s)) != 0)
			return st;
		if ((st = reserve_some(s, chunk, &p, &room)) != 0)
			return st;
		do
			n = read(0, p, room);
		while (n < 0 && errno == EINTR && !stream_signal);
		if (stream_signal)
			return 128 + stream_signal;
		if (n < 0) {
			err_msg(s->cmd, "standard input: %s", strerror(errno));
			return EXIT_RUNTIME;
		}
		if (n == 0)
			return 0; /* the reservation is dropped by close */
		stream_commit(s, (size_t)n);
		stream_count(s, (uint64_t)n);
	}
}

/*
 * --lines: whole lines as messages. Input is read into a buffer first, as
 * a line's end is only known once read; each line is then copied in once.
 */
static int send_lines(struct stream *s)
{
	size_t max = s->max_msg, cap = 2 * max, have = 0, start, k;
	char *buf = malloc(cap);
	void *p;
	ssize_t n;
	int st = 0, eof = 0;

	if (!buf) {
		err_msg(s->cmd, "out of memory");
		return EXIT_RUNTIME;
	}
	while (!eof || have) {
		if (stream_signal) {
			st = 128 + stream_signal;
			break;
		}
		if (!eof && have < cap) {
			if ((st = wait_input(s)) != 0)
				break;
			n = read(0, buf + have, cap - have);
			if (n < 0 && errno == EINTR && !stream_signal)
				continue;
			if (stream_signal) {
				st = 128 + stream_signal;
				break;
			}
			if (n < 0) {
				err_msg(s->cmd, "standard input: %s", strerror(errno));
				st = EXIT_RUNTIME;
				break;
			}
			eof = n == 0;
			have += (size_t)n;
		}
		/* send every complete line; at the end, the last one as it is */
		for (start = 0;;) {
			char *nl = memchr(buf + start, '\n', have - start);
			size_t len = nl ? (size_t)(nl - (buf + start)) + 1 : eof ? have - start : 0;

			if (len == 0)
				break;
			if (len > max) {
				err_msg(s->cmd, "%s: a line of %zu bytes or more does not fit a "
					"message (at most %zu; raise %s)", s->name, len, max,
					s->ch ? "--capacity" : "--max-msg");
				st = EXIT_RUNTIME;
				goto out;
			}
			if ((st = reserve(s, len, &p)) != 0)
				goto out;
			memcpy(p, buf + start, len);
			stream_commit(s, len);
			stream_count(s, len);
			start += len;
		}
		k = have - start;
		if (k == cap) {
			err_msg(s->cmd, "%s: a line of %zu bytes or more does not fit a message "
				"(at most %zu; raise %s)", s->name, k, max,
				s->ch ? "--capacity" : "--max-msg");
			st = EXIT_RUNTIME;
			break;
		}
		memmove(buf, buf + start, k);
		have = k;
	}
out:
	free(buf);
	return st;
}

int stream_pump_in(struct stream *s)
{
	return s->lines ? send_lines(s) : send_bytes(s);
}

int cmd_send(int argc, char **argv)
{
	struct stream s = { .cmd = "send", .role = SHMKIT_PRODUCER };
	int st;

	if ((st = stream_parse(&s, argc, argv, usage)) != STREAM_GO)
		return st;
	if ((st = stream_open(&s)) != 0)
		return st;
	return stream_end(&s, stream_pump_in(&s));
}
