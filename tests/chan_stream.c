/*
 * A producer process and a consumer process stream millions of messages
 * of random sizes (0 to the maximum) through one channel, with the copying
 * API, the zero-copy API, and the two mixed. Message i has a size and
 * contents both sides derive from i alone (common/payload.h: message i
 * of the payload scheme, so what arrived instead can be named). The
 * consumer checks every byte: nothing lost, duplicated, reordered or
 * corrupted.
 *
 * The ring is small (4 KiB) so it runs through empty and full millions of
 * times, and sleeps have no time slice: a lost wake-up hangs the stream,
 * and the watchdog turns the hang into a failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "chan.h"

#define WATCHDOG_S 150

/* Longer runs (make stress) get a longer watchdog, never a shorter one. */
static unsigned watchdog_s(void)
{
	uint64_t s = t_scale(WATCHDOG_S);
	return s > WATCHDOG_S ? (unsigned)s : WATCHDOG_S;
}

enum mode { COPY, ZEROCOPY, MIXED };
static const char *mode_name[] = { "copy", "zero-copy", "mixed" };

struct cfg {
	char name[64];
	enum mode mode;
	uint64_t count;
	size_t max;
};

/* Log-uniform sizes: as many tiny messages as large ones, up to max. */
static size_t msg_len(uint64_t seq, size_t max)
{
	uint64_t r = t_mix(seq);
	unsigned bits = (unsigned)(r % 13); /* 0..12: max is 2048 = 1 << 11 */
	size_t len = (size_t)((r >> 8) & ((1ull << bits) - 1));

	return len > max ? max : len;
}

static int producer(void *arg)
{
	const struct cfg *c = arg;
	struct shmkit_chan *ch;
	unsigned char buf[4096];
	uint64_t seq;
	int r;

	alarm(watchdog_s());
	if ((r = shmkit_chan_open(c->name, SHMKIT_PRODUCER, &ch)) < 0)
		t_fail(__FILE__, __LINE__, "producer open: %s", shmkit_strerror(r));
	for (seq = 0; seq < c->count; seq++) {
		size_t len = msg_len(seq, c->max);
		int zc = c->mode == ZEROCOPY || (c->mode == MIXED && (seq & 1));
		void *w;

		if (zc) {
			r = shmkit_chan_reserve(ch, len, &w, -1);
			if (r == 0) {
				payload_fill(w, len, seq);
				r = shmkit_chan_commit(ch, len);
			}
		} else {
			payload_fill(buf, len, seq);
			r = shmkit_chan_send(ch, buf, len, -1);
		}
		if (r < 0)
			t_fail(__FILE__, __LINE__, "send %llu: %s", (unsigned long long)seq,
			       shmkit_strerror(r));
	}
	return shmkit_chan_close(ch) < 0;
}

static int consumer(void *arg)
{
	const struct cfg *c = arg;
	struct shmkit_chan *ch;
	unsigned char got[4096];
	uint64_t seq;
	size_t len;
	int r;

	alarm(watchdog_s());
	if ((r = shmkit_chan_open(c->name, SHMKIT_CONSUMER, &ch)) < 0)
		t_fail(__FILE__, __LINE__, "consumer open: %s", shmkit_strerror(r));
	for (seq = 0; seq < c->count; seq++) {
		size_t expect = msg_len(seq, c->max);
		int zc = c->mode == ZEROCOPY || (c->mode == MIXED && ((seq >> 1) & 1));
		const unsigned char *p;

		if (zc) {
			r = shmkit_chan_peek(ch, (const void **)&p, &len, -1);
		} else {
			r = shmkit_chan_recv(ch, got, sizeof(got), &len, -1);
			p = got;
		}
		if (r < 0)
			t_fail(__FILE__, __LINE__, "recv %llu: %s", (unsigned long long)seq,
			       shmkit_strerror(r));
		if (len != expect)
			t_fail(__FILE__, __LINE__, "message %llu: %zu bytes, expected %zu",
			       (unsigned long long)seq, len, expect);
		T_PAYLOAD(p, len, seq);
		if (zc && (r = shmkit_chan_release(ch)) < 0)
			t_fail(__FILE__, __LINE__, "release: %s", shmkit_strerror(r));
	}
	/* and then, nothing more: end of stream */
	r = shmkit_chan_recv(ch, got, sizeof(got), &len, -1);
	if (r != -SHMKIT_EEOF)
		t_fail(__FILE__, __LINE__, "after the last message: %s", shmkit_strerror(r));
	return shmkit_chan_close(ch) < 0;
}

static void run(enum mode mode, uint64_t count)
{
	struct cfg c = { .mode = mode, .count = count, .max = 2048 };
	struct shmkit_chan_info info;
	pid_t p, q;
	int id, sp, sq;

	t_name(c.name, sizeof(c.name), mode_name[mode]);
	id = t_track(shmkit_chan_create(c.name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(id);
	q = t_fork(consumer, &c);
	p = t_fork(producer, &c);
	sp = t_wait(p);
	sq = t_wait(q);
	if (sp == 128 + SIGALRM || sq == 128 + SIGALRM)
		t_fail(__FILE__, __LINE__, "%s: stalled for %u s (a lost wake-up?)",
		       mode_name[mode], watchdog_s());
	T_EQ(sp, 0);
	T_EQ(sq, 0);
	T_OK(shmkit_chan_info(id, &info));
	T_EQ(info.sent_msgs, count);
	T_EQ(info.recv_msgs, count);
	T_EQ(info.sent_bytes, info.recv_bytes);
	/* a wake call only ever answers an announced sleep */
	T_ASSERT(info.prod_wakes <= info.cons_sleeps);
	T_ASSERT(info.cons_wakes <= info.prod_sleeps);
	printf("%-9s %llu messages, %llu bytes; producer slept %llu, consumer slept %llu, "
	       "wake calls %llu + %llu\n", mode_name[mode], (unsigned long long)count,
	       (unsigned long long)info.sent_bytes, (unsigned long long)info.prod_sleeps,
	       (unsigned long long)info.cons_sleeps, (unsigned long long)info.prod_wakes,
	       (unsigned long long)info.cons_wakes);
	T_OK(shmkit_chan_destroy(c.name));
}

int main(void)
{
	uint64_t count = t_scale(10 * 1000 * 1000);

	__shmkit_chan_sleep_slice_ns = -1;
	run(COPY, count);
	run(ZEROCOPY, count);
	run(MIXED, count);
	return 0;
}
