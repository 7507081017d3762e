/*
 * A producer zeroes its large reservations first where that makes its
 * stream faster (src/prezero.h): the trial's judgment, its windows and
 * holds, and streams of large messages through a channel and a topic in
 * which the zeroing runs (every trial zeroes its first window), checked
 * byte for byte, with commits shorter than their reservations.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "prezero.h"

#define BIG (256u << 10)	/* a reservation of a trial's windows */

static void feed(struct prezero *z, const uint32_t *plain, const uint32_t *zero)
{
	for (int i = 0; i < PREZERO_SAMPLES; i++) {
		__shmkit_prezero_sample(z, 0, plain[i]);
		__shmkit_prezero_sample(z, 1, zero[i]);
	}
}

/* The judgment: medians, a tenth's margin, holds that double and reset. */
static void judgment(void)
{
	const uint32_t hundred[] = { 100, 100, 100, 100, 100 };
	const uint32_t fifty[] = { 50, 50, 50, 50, 50 };
	const uint32_t ninety_one[] = { 91, 91, 91, 91, 91 };
	const uint32_t odd_plain[] = { 1, 100, 100, 100, 1 };
	const uint32_t odd_zero[] = { 4000000000u, 50, 50, 4000000000u, 50 };
	struct prezero z;
	uint64_t hold;

	__shmkit_prezero_init(&z, 0);
	feed(&z, hundred, fifty);
	T_EQ(z.on, 1);
	T_EQ(z.trials, 1);
	T_EQ(z.chosen, 1);
	T_EQ(z.wait, PREZERO_HOLD_FIRST);
	T_EQ(z.win_start, 0);
	/* the same answer: twice the hold, up to the longest */
	feed(&z, hundred, fifty);
	T_EQ(z.wait, 2 * PREZERO_HOLD_FIRST);
	for (int i = 0; i < 20; i++)
		feed(&z, hundred, fifty);
	T_EQ(z.wait, PREZERO_HOLD_MAX);
	/* 9% faster is not enough: the zeroing costs bandwidth */
	feed(&z, hundred, ninety_one);
	T_EQ(z.on, 0);
	T_EQ(z.wait, PREZERO_HOLD_FIRST);
	/* two wild windows of five move neither median */
	feed(&z, odd_plain, odd_zero);
	T_EQ(z.on, 1);
	/* a sample beyond the five of its way waits for the other way */
	__shmkit_prezero_init(&z, 0);
	for (int i = 0; i < 2 * PREZERO_SAMPLES; i++)
		__shmkit_prezero_sample(&z, 1, 10);
	T_EQ(z.n[1], PREZERO_SAMPLES);
	T_EQ(z.trials, 0);
	hold = z.hold;
	T_EQ(hold, PREZERO_HOLD_FIRST);
}

static void spin_us(unsigned us)
{
	uint64_t end = t_now_ns() + us * 1000ull;

	while (t_now_ns() < end)
		;
}

/*
 * A trial run through __shmkit_prezero_wanted by a caller whose windows
 * of one way take far longer (it spins 300 us per reservation of that
 * way): the windows alternate, zeroing first, each of at least a window's
 * bytes, and the trial chooses the other way. Returns the choice.
 */
static uint32_t trial(struct prezero *z, int slow_way)
{
	uint64_t trials = z->trials;
	int calls = 0, want, last = -1, windows = 0, in_window = 0;

	while (z->trials == trials) {
		T_ASSERT(++calls < 1000);
		want = __shmkit_prezero_wanted(z, BIG, 0);
		if (z->trials != trials)
			break;
		if (want != last) {
			/* a window has the bytes and reservations it must */
			if (last >= 0)
				T_ASSERT(in_window * BIG >= PREZERO_WINDOW_BYTES &&
					 in_window >= (int)PREZERO_WINDOW_MSGS);
			/* the first is a zeroing one */
			if (last < 0)
				T_EQ(want, 1);
			windows++;
			in_window = 0;
			last = want;
		}
		in_window++;
		if (want == slow_way)
			spin_us(300);
	}
	T_EQ(windows, 2 * PREZERO_SAMPLES);
	return z->on;
}

/*
 * A trial whose plain windows take long only waiting for room: before each
 * reservation that falls in a plain window the caller spins 300 us and
 * says it waited longer. Less its waits the plain way costs nothing, so
 * zeroing cannot win; counted whole, the waits would make it win.
 */
static uint32_t waits_trial(struct prezero *z)
{
	uint64_t trials = z->trials;
	int calls = 0;

	while (z->trials == trials) {
		uint64_t waited = 0;

		T_ASSERT(++calls < 1000);
		if (__shmkit_prezero_timing(z) && !z->win_on) {
			spin_us(300);
			waited = 1000000;
		}
		__shmkit_prezero_wanted(z, BIG, waited);
	}
	return z->on;
}

static void windows(void)
{
	struct prezero z;
	uint64_t before;

	__shmkit_prezero_init(&z, 3 * BIG);
	if (!__shmkit_prezero_possible()) {
		/* nothing to zero with: never asked, whatever the size */
		for (int i = 0; i < 1000; i++)
			T_EQ(__shmkit_prezero_wanted(&z, BIG, 0), 0);
		return;
	}
	/* small reservations: never zeroed, and they do not count */
	for (int i = 0; i < 1000; i++)
		T_EQ(__shmkit_prezero_wanted(&z, PREZERO_MIN_BYTES - 1, 0), 0);
	T_EQ(z.wait, 3 * BIG);
	/* the first lap passes plainly, then the trial begins */
	for (int i = 0; i < 2; i++)
		T_EQ(__shmkit_prezero_wanted(&z, BIG, 0), 0);
	T_EQ(trial(&z, 0), 1);
	/* the hold: the choice, for as many bytes as it lasts */
	before = z.wait;
	T_EQ(before, PREZERO_HOLD_FIRST);
	for (uint64_t b = BIG; b < before; b += BIG)
		T_EQ(__shmkit_prezero_wanted(&z, BIG, 0), 1);
	/* then a trial in which zeroing is the slow way */
	T_EQ(trial(&z, 1), 0);
	T_EQ(z.wait, PREZERO_HOLD_FIRST);
	T_EQ(z.trials, 2);
	T_EQ(z.chosen, 1);
	/* waits for room are not the producer's work */
	z.wait = 0;
	T_EQ(waits_trial(&z), 0);
	T_EQ(z.trials, 3);
}

/* Message i: its length, and how much more than that was reserved. */
static size_t big_len(uint64_t i, size_t max)
{
	uint64_t r = t_mix(i);
	size_t len = PREZERO_MIN_BYTES + (size_t)(r % (max - PREZERO_MIN_BYTES));

	return len;
}

static size_t extra(uint64_t i, size_t len, size_t max)
{
	return (size_t)(t_mix(~i) % (max - len + 1));
}

/* The stream's length: at least a lap and two trials' worth of bytes. */
static uint64_t stream_msgs(size_t max)
{
	uint64_t bytes = t_scale(96ull << 20), least = 24ull << 20;

	return (bytes > least ? bytes : least) / (max / 2);
}

#define CHAN_RING (256u << 10)
#define CHAN_MAX (CHAN_RING / 2)

struct chan_cfg {
	char name[64];
	uint64_t count;
	int on;		/* chan_ahead: zeroing forced on, else off */
};

static int chan_producer(void *arg)
{
	const struct chan_cfg *c = arg;
	struct shmkit_chan *ch;
	void *w;

	alarm(120);
	T_OK(shmkit_chan_open(c->name, SHMKIT_PRODUCER, &ch));
	for (uint64_t i = 0; i < c->count; i++) {
		size_t len = big_len(i, CHAN_MAX);

		/* reserve more than is sent: the rest is never published */
		T_OK(shmkit_chan_reserve(ch, len + extra(i, len, CHAN_MAX), &w, 10000));
		payload_fill(w, len, i);
		T_OK(shmkit_chan_commit(ch, len));
	}
	T_OK(shmkit_chan_close(ch));
	return 0;
}

static void chan_stream(void)
{
	struct chan_cfg c = { .count = stream_msgs(CHAN_MAX) };
	struct shmkit_chan *ch;
	const void *p;
	size_t n;
	pid_t pid;

	t_name(c.name, sizeof(c.name), "pz-chan");
	T_OK(t_track(shmkit_chan_create(c.name, CHAN_RING, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(c.name, SHMKIT_CONSUMER, &ch));
	pid = t_fork(chan_producer, &c);
	for (uint64_t i = 0; i < c.count; i++) {
		T_OK(shmkit_chan_peek(ch, &p, &n, 10000));
		T_EQ(n, big_len(i, CHAN_MAX));
		T_PAYLOAD(p, n, i);
		T_OK(shmkit_chan_release(ch));
	}
	T_EQ(shmkit_chan_peek(ch, &p, &n, 10000), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_close(ch));
}

/*
 * A channel's producer zeroes blocks ahead of its reservations (forced on
 * here, so that it does whatever the host): random sizes of 0 to 3 KiB,
 * one in sixteen up to a quarter ring, most reserved longer than sent,
 * through a ring as small as a block, so the zeroing is cut short by the
 * bytes the consumer has not released and by the ring's end, with pauses
 * in which the consumer catches up and the producer rewinds. The consumer
 * holds up to AHEAD_HOLD messages at once and checks each again as it
 * releases it: zeroing that reached a byte not yet released fails there.
 * Forced off, the same stream zeroes nothing.
 */
#define AHEAD_RING PREZERO_BLOCK
#define AHEAD_HOLD 8

static size_t ahead_len(uint64_t i)
{
	uint64_t r = t_mix(i ^ 0x5a5a5a5a);

	return (size_t)(r >> 8) % (r % 16 ? 3072 : AHEAD_RING / 4);
}

static int ahead_producer(void *arg)
{
	const struct chan_cfg *c = arg;
	struct shmkit_chan *ch;
	void *w;

	alarm(120);
	T_OK(shmkit_chan_open(c->name, SHMKIT_PRODUCER, &ch));
	__shmkit_chan_prezero_force(ch, c->on);
	for (uint64_t i = 0; i < c->count; i++) {
		size_t len = ahead_len(i), more = (size_t)(t_mix(~i) % 512);

		T_OK(shmkit_chan_reserve(ch, len + more, &w, 10000));
		payload_fill(w, len, i);
		T_OK(shmkit_chan_commit(ch, len));
		if (i % 2048 == 2047)
			usleep(2000);
	}
	if (c->on && __shmkit_prezero_possible())
		T_ASSERT(__shmkit_chan_prezero_zeroed(ch) > 0);
	else
		T_EQ(__shmkit_chan_prezero_zeroed(ch), 0);
	T_OK(shmkit_chan_close(ch));
	return 0;
}

static void chan_ahead(int on)
{
	struct chan_cfg c = { .on = on };
	struct shmkit_chan *ch;
	const void *held[AHEAD_HOLD];
	size_t n, lens[AHEAD_HOLD];
	uint64_t first = 0;
	int nheld = 0;
	pid_t pid;

	c.count = t_scale(1u << 15);
	if (c.count < 4096)
		c.count = 4096;
	t_name(c.name, sizeof(c.name), "pz-ahead");
	T_OK(t_track(shmkit_chan_create(c.name, AHEAD_RING, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(c.name, SHMKIT_CONSUMER, &ch));
	pid = t_fork(ahead_producer, &c);
	for (uint64_t i = 0; i < c.count; i++) {
		T_OK(shmkit_chan_peek_ahead(ch, &held[nheld], &n, NULL, 10000));
		T_EQ(n, ahead_len(i));
		T_PAYLOAD(held[nheld], n, i);
		lens[nheld++] = n;
		/* hold 1 to AHEAD_HOLD, as many as the sequence says */
		if (nheld < AHEAD_HOLD && t_mix(i * 7) % AHEAD_HOLD >= (uint64_t)nheld &&
		    i + 1 < c.count)
			continue;
		for (int k = 0; k < nheld; k++) {
			T_PAYLOAD(held[k], lens[k], first + (uint64_t)k);
			T_OK(shmkit_chan_release(ch));
		}
		first = i + 1;
		nheld = 0;
	}
	T_EQ(shmkit_chan_peek(ch, &held[0], &n, 10000), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_close(ch));
}

#define TOPIC_MAX (64u << 10)

struct topic_cfg {
	char name[64];
	uint64_t count;
};

static int topic_publisher(void *arg)
{
	const struct topic_cfg *c = arg;
	struct shmkit_pub *pub;
	void *w;

	alarm(120);
	T_OK(shmkit_pub_open(c->name, 0, &pub));
	while (shmkit_pub_subscribers(pub) < 1)
		usleep(1000);
	for (uint64_t i = 0; i < c->count; i++) {
		size_t len = big_len(i, TOPIC_MAX);

		T_OK(shmkit_pub_reserve(pub, len + extra(i, len, TOPIC_MAX), &w, 10000));
		payload_fill(w, len, i);
		T_OK(shmkit_pub_commit(pub, len));
	}
	T_OK(shmkit_pub_close(pub));
	return 0;
}

static void topic_stream(void)
{
	struct shmkit_topic_params prm = {
		.max_msg = TOPIC_MAX, .slots = 16, .max_subs = 2,
		.policy = SHMKIT_TOPIC_BLOCK,
	};
	struct topic_cfg c = { .count = stream_msgs(TOPIC_MAX) };
	struct shmkit_sub *sub;
	const void *p;
	size_t n;
	pid_t pid;

	t_name(c.name, sizeof(c.name), "pz-topic");
	T_OK(t_track(shmkit_topic_create(c.name, &prm, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_sub_open(c.name, 0, &sub));
	pid = t_fork(topic_publisher, &c);
	for (uint64_t i = 0; i < c.count; i++) {
		T_OK(shmkit_sub_peek(sub, &p, &n, 10000));
		T_EQ(n, big_len(i, TOPIC_MAX));
		T_PAYLOAD(p, n, i);
		T_OK(shmkit_sub_release(sub));
	}
	T_EQ(shmkit_sub_peek(sub, &p, &n, 10000), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_sub_close(sub));
}

int main(void)
{
	judgment();
	windows();
	chan_stream();
	chan_ahead(1);
	chan_ahead(0);
	topic_stream();
	printf("prezero: ok\n");
	return 0;
}
