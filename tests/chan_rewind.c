/*
 * A producer that finds the ring empty goes back to its start (rewinding,
 * in chan.c's shmkit_chan_reserve): small messages sent one at a time stay
 * in the ring's first lines; messages with others still unread, and large
 * messages, walk the ring as before. Every message arrives whole and in
 * order either way, also in two processes with the consumer sleeping.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"

#define RING (1u << 20)
/* chan.c's REWIND_BYTES and REWIND_MAX_MSG, as this test expects them */
#define REWIND_BYTES (8u << 10)
#define REWIND_MAX_MSG 1024

static void open_pair(const char *name, struct shmkit_chan **p, struct shmkit_chan **c)
{
	T_OK(t_track(shmkit_chan_create(name, RING, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, p));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, c));
}

/* Sends message i of len bytes; returns its payload's offset in the ring. */
static size_t send_at(struct shmkit_chan *p, size_t len, uint64_t i)
{
	const void *ring;
	size_t ring_len;
	void *w;

	__shmkit_chan_ring(p, &ring, &ring_len);
	T_OK(shmkit_chan_reserve(p, len, &w, 1000));
	payload_fill(w, len, i);
	T_OK(shmkit_chan_commit(p, len));
	return (size_t)((const unsigned char *)w - (const unsigned char *)ring);
}

static void recv_one(struct shmkit_chan *c, size_t len, uint64_t i)
{
	const void *ptr;
	size_t n;

	T_OK(shmkit_chan_peek(c, &ptr, &n, 1000));
	T_EQ(n, len);
	T_PAYLOAD(ptr, n, i);
	T_OK(shmkit_chan_release(c));
}

/*
 * One message at a time, each read before the next is sent: sizes from
 * 8 bytes to 1 KiB keep to the ring's first REWIND_BYTES and one record
 * more, over many times the ring's length.
 */
static void one_at_a_time(void)
{
	struct shmkit_chan *p, *c;
	char name[64];
	size_t most = 0, off, len;
	uint64_t i, bytes = 0;

	t_name(name, sizeof(name), "one");
	open_pair(name, &p, &c);
	for (i = 0; bytes < 8ull * RING; i++) {
		len = 8 + (size_t)(i * 2654435761u % (REWIND_MAX_MSG - 7));
		off = send_at(p, len, i);
		if (off > most)
			most = off;
		recv_one(c, len, i);
		bytes += len;
	}
	T_ASSERT(most < REWIND_BYTES + 2 * REWIND_MAX_MSG);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
}

/*
 * Messages of len bytes, each read once `unread` more have been sent
 * after it, over three times the ring's length; the furthest offset any
 * of them was written at.
 */
static size_t furthest(const char *tag, size_t len, uint64_t unread)
{
	struct shmkit_chan *p, *c;
	char name[64];
	size_t most = 0, off;
	uint64_t i, n = 3 * RING / len;

	t_name(name, sizeof(name), tag);
	open_pair(name, &p, &c);
	for (i = 0; i < n + unread; i++) {
		if (i < n) {
			off = send_at(p, len, i);
			if (off > most)
				most = off;
		}
		if (i >= unread)
			recv_one(c, len, i - unread);
	}
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	return most;
}

/*
 * With a message always unread, the ring is never empty: no rewinding.
 * Messages larger than 1 KiB walk the ring even when it is empty.
 */
static void no_rewind(void)
{
	T_ASSERT(furthest("full", 64, 1) > RING - 1024);
	T_ASSERT(furthest("large", 4096, 0) > RING - 8192);
}

/*
 * Two processes, request and reply: the child echoes each message back
 * on a second channel. Its waits sleep at once (spin 0), so every pad
 * that a rewind writes lands while the consumer may be asleep: the
 * message after it must wake it, or the round trip stalls for a whole
 * sleep slice (tests set the slice to forever: a hang, caught by the
 * harness's timeout).
 */
static void echo(void)
{
	struct shmkit_chan *tx, *rx;
	char req[64], rep[64];
	uint64_t i, n = t_scale(20000);
	int status;
	pid_t pid;

	t_name(req, sizeof(req), "req");
	t_name(rep, sizeof(rep), "rep");
	T_OK(t_track(shmkit_chan_create(req, RING, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(t_track(shmkit_chan_create(rep, RING, SHMKIT_MODE_DEFAULT, 0)));
	fflush(NULL);
	pid = fork();
	T_ASSERT(pid >= 0);
	if (pid == 0) {
		struct shmkit_chan *in, *out;
		const void *ptr;
		size_t len;
		void *w;

		if (shmkit_chan_open(req, SHMKIT_CONSUMER, &in) < 0 ||
		    shmkit_chan_open(rep, SHMKIT_PRODUCER, &out) < 0)
			_exit(2);
		shmkit_chan_set_spin(in, 0);
		for (;;) {
			int r = shmkit_chan_peek(in, &ptr, &len, 10000);

			if (r == -SHMKIT_EEOF)
				_exit(0);
			if (r < 0 || shmkit_chan_reserve(out, len, &w, 10000) < 0)
				_exit(3);
			memcpy(w, ptr, len);
			shmkit_chan_commit(out, len);
			shmkit_chan_release(in);
		}
	}
	T_OK(shmkit_chan_open(req, SHMKIT_PRODUCER, &tx));
	T_OK(shmkit_chan_open(rep, SHMKIT_CONSUMER, &rx));
	shmkit_chan_set_spin(rx, 0);
	for (i = 0; i < n; i++) {
		size_t len = 8 + (size_t)(i % 120) * 8;

		send_at(tx, len, i);
		recv_one(rx, len, i);
	}
	T_OK(shmkit_chan_close(tx));
	T_EQ(waitpid(pid, &status, 0), pid);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_OK(shmkit_chan_close(rx));
}

int main(void)
{
	__shmkit_chan_sleep_slice_ns = -1;
	one_at_a_time();
	no_rewind();
	echo();
	return 0;
}
