/*
 * The controls of issue 16, each checked where its result is exact.
 *
 * shmkit_chan_make: the first make of a name says created, with the
 * capacity rounded up to a power of two of whole pages and max_msg half
 * of it; a second make, asking another capacity, says opened, with the
 * first capacity; shmkit_chan_create returns the same shmid; SHMKIT_EXCL
 * on an existing name is -EEXIST; bad arguments are -EINVAL; and of two
 * processes racing to make one name, exactly one is told it made it (and
 * both get the same channel), race after race.
 *
 * shmkit_chan_set_spin: -1, 0, 1 and 1,000,000 are taken, anything else
 * (and a NULL handle) is -EINVAL. With spin 0 a consumer sleeps in every
 * wait: a producer in another process sends each message only after the
 * consumer has announced its sleep (and 5 ms more), so N messages make
 * at least N sleeps, with no yield (one more when a message wraps the
 * ring: the pad before it is a publish of its own, whose wake-up may
 * come before the message); the default spin delivers the same stream.
 * Where only the spin decides, counts are exact: with spin 0 a wait that
 * times out has slept and never yielded,
 * on either side; a spin of 1 s outlasts a 50 ms timeout without a
 * sleep; SHMKIT_WAIT_SPIN still never sleeps, SHMKIT_WAIT_NONE never
 * waits. With spin 0 on every side, 10,000 round trips between two
 * processes carry every message intact, and no side ever yields.
 *
 * shmkit_sub_set_spin and shmkit_pub_set_spin: the same values, the same
 * -EINVAL. A subscriber with spin 0 sleeps in every wait for a delayed
 * publisher (each message goes once it has announced its sleep: at least
 * N sleeps for N messages; a topic's 20 ms slices are fixed, so a slow
 * publisher may cost a second one); a block-policy publisher with spin 0
 * sleeps each time a subscriber in another process holds it back; both
 * time out as a channel's side does, and spin and policies rank the
 * same. 10,000 round trips through two topics with spin 0 on every
 * handle arrive intact.
 *
 * shmkit_chan_open_wait and shmkit_sub_open_wait: a channel and a topic
 * a child makes 50 ms later are opened (and carry the child's message);
 * a name nobody makes times out with -ETIMEDOUT, no sooner than asked;
 * timeout 0 is one try, -ENOENT; a name that is not of the kind asked
 * for (a plain named segment, a topic for a channel, a channel for a
 * topic) ends even a wait without timeout at once, with -SHMKIT_ENOTCHAN
 * or -SHMKIT_ENOTTOPIC; a segment whose live creator takes 1.5 s to
 * publish its header (longer than a plain open waits for one) is waited
 * for, while one whose creator died without a header is -SHMKIT_ECLASH
 * at once.
 *
 * A channel's sleeps here have no 20 ms slices: a lost wake-up would
 * hang the test instead of hiding behind the next slice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "header.h"

static uint64_t page_size(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return page > 0 ? (uint64_t)page : 4096;
}

static int shmid_of(const char *name)
{
	struct shmkit_ref ref = t_name_ref(name);

	return shmkit_seg_open(&ref);
}

static void make_says_what_it_did(void)
{
	struct shmkit_chan_made made, again;
	struct shmkit_chan_info info;
	uint64_t page = page_size();
	char name[64];

	t_name(name, sizeof(name), "make");
	/* two pages and a byte: four pages, the next power of two */
	T_OK(shmkit_chan_make(name, 2 * page + 1, SHMKIT_MODE_DEFAULT, 0, &made));
	t_track(made.shmid);
	T_EQ(made.created, 1);
	T_EQ(made.capacity, 4 * page);
	T_EQ(made.max_msg, 2 * page);
	T_EQ(made.shmid, shmid_of(name));
	T_OK(shmkit_chan_info(made.shmid, &info));
	T_EQ(info.capacity, made.capacity);
	T_EQ(info.max_msg, made.max_msg);

	/* another capacity: the channel that is there, with its own */
	T_OK(shmkit_chan_make(name, 1 << 20, SHMKIT_MODE_DEFAULT, 0, &again));
	T_EQ(again.created, 0);
	T_EQ(again.shmid, made.shmid);
	T_EQ(again.capacity, 4 * page);
	T_EQ(again.max_msg, 2 * page);
	T_OK(shmkit_chan_make(name, 1, SHMKIT_MODE_DEFAULT, 0, &again));
	T_EQ(again.created, 0);
	T_EQ(again.capacity, 4 * page);
	/* the short form: the same channel, as a shmid */
	T_EQ(shmkit_chan_create(name, 1 << 20, SHMKIT_MODE_DEFAULT, 0), made.shmid);

	T_EQ(shmkit_chan_make(name, page, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL, &again), -EEXIST);
	T_EQ(shmkit_chan_make(name, page, SHMKIT_MODE_DEFAULT, 0, NULL), -EINVAL);
	T_EQ(shmkit_chan_make(name, 0, SHMKIT_MODE_DEFAULT, 0, &again), -EINVAL);
	T_EQ(shmkit_chan_make(name, (size_t)(1ull << 30) + 1, SHMKIT_MODE_DEFAULT, 0, &again),
	     -EINVAL);
	T_EQ(shmkit_chan_make("no/such", page, SHMKIT_MODE_DEFAULT, 0, &again), -EINVAL);
	T_OK(shmkit_chan_destroy(name));

	/* the smallest: one page */
	T_OK(shmkit_chan_make(name, 1, SHMKIT_MODE_DEFAULT, 0, &made));
	t_track(made.shmid);
	T_EQ(made.created, 1);
	T_EQ(made.capacity, page);
	T_OK(shmkit_chan_destroy(name));
}

/* What one racer found, sent to the parent through a pipe in one write. */
struct race_report {
	int shmid, created;
	uint64_t capacity;
};

struct racer {
	const char *name;
	size_t capacity;
	int gate[2];		/* the start gate: read end, write end */
	int report;		/* write end of the reports' pipe */
};

static int race_make(void *arg)
{
	struct racer *r = arg;
	struct shmkit_chan_made made;
	struct race_report rep;
	char go;

	/*
	 * The gate opens for both at once, when its last write end closes:
	 * ours (a copy from the fork) now, the parent's once both are forked.
	 */
	close(r->gate[1]);
	if (read(r->gate[0], &go, 1) != 0)
		return 2;
	if (shmkit_chan_make(r->name, r->capacity, SHMKIT_MODE_DEFAULT, 0, &made) < 0)
		return 3;
	rep.shmid = made.shmid;
	rep.created = made.created;
	rep.capacity = made.capacity;
	return write(r->report, &rep, sizeof(rep)) == sizeof(rep) ? 0 : 4;
}

static void make_race(void)
{
	uint64_t page = page_size(), rounds = t_scale(40);
	struct race_report rep[2];
	char name[64];

	for (uint64_t round = 0; round < rounds; round++) {
		struct racer r[2];
		int gate[2], reports[2];
		pid_t pid[2];

		T_OK(pipe(gate));
		T_OK(pipe(reports));
		t_name(name, sizeof(name), "race");
		for (int i = 0; i < 2; i++) {
			/* each asks its own capacity: the loser must report the winner's */
			r[i] = (struct racer){ .name = name, .capacity = (i + 1) * page,
					       .gate = { gate[0], gate[1] }, .report = reports[1] };
			pid[i] = t_fork(race_make, &r[i]);
		}
		close(gate[0]);
		close(reports[1]);
		close(gate[1]);
		for (int i = 0; i < 2; i++)
			T_EQ(t_wait(pid[i]), 0);
		T_EQ(read(reports[0], rep, sizeof(rep)), sizeof(rep));
		close(reports[0]);
		t_track(rep[0].shmid);
		T_EQ(rep[0].created + rep[1].created, 1);
		T_EQ(rep[0].shmid, rep[1].shmid);
		T_EQ(rep[0].capacity, rep[1].capacity);
		T_ASSERT(rep[0].capacity == page || rep[0].capacity == 2 * page);
		T_OK(shmkit_chan_destroy(name));
	}
}

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0)
		;
}

static void chan_spin_values(void)
{
	static const int bad[] = { -2, -1000, INT_MIN, 1000001, INT_MAX };
	static const int good[] = { 0, 1, 20, 1000000, -1 };
	struct shmkit_chan *p, *c;
	char name[64];

	t_name(name, sizeof(name), "spinv");
	T_OK(t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, &p));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &c));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ(shmkit_chan_set_spin(p, bad[i]), -EINVAL);
		T_EQ(shmkit_chan_set_spin(c, bad[i]), -EINVAL);
	}
	T_EQ(shmkit_chan_set_spin(NULL, 0), -EINVAL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		T_OK(shmkit_chan_set_spin(p, good[i]));
		T_OK(shmkit_chan_set_spin(c, good[i]));
	}
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(name));
}

/* The consumer's announced sleeps, read where the library counts them. */
static uint64_t cons_sleeps(const struct shmkit_map *map)
{
	const struct __shmkit_chan_hdr *h =
		(const void *)((const char *)map->base + SHMKIT_HDR_SIZE);

	return atomic_load_explicit(&h->cold[__SHMKIT_SIDE_CONS].sleeps, memory_order_relaxed);
}

struct delayed {
	const char *name;
	int shmid;
	uint64_t count;
	int ready;		/* write end: the producer is open */
};

/*
 * The producer: each message goes only once the consumer has announced
 * its sleep for it, and 5 ms later, by when it sleeps in the kernel.
 */
static int delayed_producer(void *arg)
{
	struct delayed *d = arg;
	struct shmkit_chan *tx;
	struct shmkit_map map;
	unsigned char buf[512];

	if (shmkit_chan_open(d->name, SHMKIT_PRODUCER, &tx) < 0 ||
	    shmkit_seg_attach(d->shmid, SHMKIT_RDONLY, &map) < 0)
		return 2;
	/* open first: its wake-up of the consumer must come before any wait */
	if (write(d->ready, "", 1) != 1)
		return 3;
	for (uint64_t i = 0; i < d->count; i++) {
		size_t len = (size_t)(t_mix(i) % sizeof(buf));

		while (cons_sleeps(&map) < i + 1)
			nap_ms(1);
		nap_ms(5);
		payload_fill(buf, len, i);
		if (shmkit_chan_send(tx, buf, len, -1) < 0)
			return 4;
	}
	shmkit_seg_detach(&map);
	return shmkit_chan_close(tx) < 0 ? 5 : 0;
}

/* N delayed messages into a consumer with spin_us: a sleep in each wait. */
static void chan_delayed(int spin_us)
{
	struct delayed d = { .count = 20 };
	struct shmkit_chan_info info;
	struct shmkit_chan *rx;
	unsigned char buf[512];
	int ready[2];
	char name[64], go;
	size_t len;
	pid_t pid;

	d.name = t_name(name, sizeof(name), "delay");
	d.shmid = t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(d.shmid);
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &rx));
	T_OK(shmkit_chan_set_spin(rx, spin_us));
	T_OK(pipe(ready));
	d.ready = ready[1];
	pid = t_fork(delayed_producer, &d);
	close(ready[1]);
	T_EQ(read(ready[0], &go, 1), 1);
	close(ready[0]);
	for (uint64_t i = 0; i < d.count; i++) {
		T_OK(shmkit_chan_recv(rx, buf, sizeof(buf), &len, -1));
		T_EQ(len, t_mix(i) % sizeof(buf));
		T_PAYLOAD(buf, len, i);
	}
	T_OK(shmkit_chan_info(d.shmid, &info));
	T_ASSERT(info.cons_sleeps >= d.count);
	if (spin_us == 0)
		T_EQ(info.cons_yields, 0);
	T_EQ(shmkit_chan_recv(rx, buf, sizeof(buf), &len, -1), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_close(rx));
	T_OK(shmkit_chan_destroy(name));
}

/* Waits that end in a timeout, where the spin alone decides what happens. */
static void chan_spin_timeouts(void)
{
	struct shmkit_chan_info before, after;
	struct shmkit_chan *p, *c;
	unsigned char buf[2048];
	char name[64];
	uint64_t t0;
	size_t len;
	int id;

	t_name(name, sizeof(name), "spint");
	id = t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, &p));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &c));

	/* spin 0: a wait that finds nothing sleeps, and never yields */
	T_OK(shmkit_chan_set_spin(c, 0));
	T_OK(shmkit_chan_info(id, &before));
	t0 = t_now_ns();
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
	T_ASSERT(t_now_ns() - t0 >= 30 * 1000000ull);
	T_OK(shmkit_chan_info(id, &after));
	T_ASSERT(after.cons_sleeps >= before.cons_sleeps + 1);
	T_EQ(after.cons_yields, before.cons_yields);

	/* a spin of 1 s outlasts a 50 ms timeout: no sleep at all */
	T_OK(shmkit_chan_set_spin(c, 1000000));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 50), -ETIMEDOUT);
	T_OK(shmkit_chan_info(id, &before));
	T_EQ(before.cons_sleeps, after.cons_sleeps);

	/* the policies win over the spin: SPIN never sleeps, NONE never waits */
	T_OK(shmkit_chan_set_spin(c, 0));
	T_OK(shmkit_chan_set_wait(c, SHMKIT_WAIT_SPIN));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
	T_OK(shmkit_chan_info(id, &after));
	T_EQ(after.cons_sleeps, before.cons_sleeps);
	T_OK(shmkit_chan_set_wait(c, SHMKIT_WAIT_NONE));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, -1), -EAGAIN);
	T_OK(shmkit_chan_set_wait(c, SHMKIT_WAIT_BLOCK));

	/* the producer the same: a full ring, spin 0, a timeout */
	T_OK(shmkit_chan_set_spin(p, 0));
	T_OK(shmkit_chan_send(p, buf, 2048, 0));
	T_OK(shmkit_chan_info(id, &before));
	T_EQ(shmkit_chan_send(p, buf, 2048, 30), -ETIMEDOUT);
	T_OK(shmkit_chan_info(id, &after));
	T_ASSERT(after.prod_sleeps >= before.prod_sleeps + 1);
	T_EQ(after.prod_yields, before.prod_yields);
	/* still a channel: what was sent arrives, under the default again */
	T_OK(shmkit_chan_set_spin(c, -1));
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 2048);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(name));
}

struct pingpong {
	const char *ping, *pong;
	uint64_t count;
};

/* The echo: each ping checked, answered with a pong of the same tag. */
static int echo(void *arg)
{
	struct pingpong *pp = arg;
	struct shmkit_chan *rx, *tx;
	unsigned char buf[1024];
	const void *msg;
	size_t len;
	uint64_t i;
	int r;

	if (shmkit_chan_open(pp->ping, SHMKIT_CONSUMER, &rx) < 0 ||
	    shmkit_chan_open(pp->pong, SHMKIT_PRODUCER, &tx) < 0 ||
	    shmkit_chan_set_spin(rx, 0) < 0 || shmkit_chan_set_spin(tx, 0) < 0)
		return 2;
	for (i = 0; (r = shmkit_chan_peek(rx, &msg, &len, -1)) == 0; i++) {
		if (len != t_mix(i) % sizeof(buf) || payload_check(msg, len, i))
			return 3;
		payload_fill(buf, len, i);
		if (shmkit_chan_release(rx) < 0 || shmkit_chan_send(tx, buf, len, -1) < 0)
			return 4;
	}
	if (r != -SHMKIT_EEOF || i != pp->count)
		return 5;
	return shmkit_chan_close(tx) < 0 || shmkit_chan_close(rx) < 0 ? 6 : 0;
}

static void chan_pingpong(void)
{
	struct pingpong pp = { .count = t_scale(10000) };
	struct shmkit_chan_info ping, pong;
	struct shmkit_chan *tx, *rx;
	unsigned char buf[1024];
	char a[64], b[64];
	int ping_id, pong_id;
	size_t len;
	pid_t pid;

	pp.ping = t_name(a, sizeof(a), "ping");
	pp.pong = t_name(b, sizeof(b), "pong");
	ping_id = t_track(shmkit_chan_create(a, 4096, SHMKIT_MODE_DEFAULT, 0));
	pong_id = t_track(shmkit_chan_create(b, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(ping_id);
	T_OK(pong_id);
	T_OK(shmkit_chan_open(a, SHMKIT_PRODUCER, &tx));
	T_OK(shmkit_chan_open(b, SHMKIT_CONSUMER, &rx));
	T_OK(shmkit_chan_set_spin(tx, 0));
	T_OK(shmkit_chan_set_spin(rx, 0));
	pid = t_fork(echo, &pp);
	for (uint64_t i = 0; i < pp.count; i++) {
		size_t want = (size_t)(t_mix(i) % sizeof(buf));

		payload_fill(buf, want, i);
		T_OK(shmkit_chan_send(tx, buf, want, -1));
		T_OK(shmkit_chan_recv(rx, buf, sizeof(buf), &len, -1));
		T_EQ(len, want);
		T_PAYLOAD(buf, len, i);
	}
	T_OK(shmkit_chan_close(tx));
	T_EQ(shmkit_chan_recv(rx, buf, sizeof(buf), &len, -1), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_info(ping_id, &ping));
	T_OK(shmkit_chan_info(pong_id, &pong));
	T_EQ(ping.recv_msgs, pp.count);
	T_EQ(pong.recv_msgs, pp.count);
	/* no side spun, so none ever yielded */
	T_EQ(ping.prod_yields + ping.cons_yields + pong.prod_yields + pong.cons_yields, 0);
	T_OK(shmkit_chan_close(rx));
	T_OK(shmkit_chan_destroy(a));
	T_OK(shmkit_chan_destroy(b));
}

static int make_topic(const char *name, uint32_t slots, int policy)
{
	struct shmkit_topic_params tp = { .max_msg = 512, .slots = slots, .max_subs = 4,
					  .policy = policy };

	return t_track(shmkit_topic_create(name, &tp, SHMKIT_MODE_DEFAULT, 0));
}

/* One subscriber's entry (the first), and the publisher's figures. */
static void topic_figures(int shmid, struct shmkit_topic_info *info,
			  struct shmkit_topic_sub_info *sub)
{
	memset(sub, 0, sizeof(*sub));
	T_OK(shmkit_topic_info(shmid, info, sub, 1));
}

static void topic_spin_values(void)
{
	static const int bad[] = { -2, INT_MIN, 1000001, INT_MAX };
	static const int good[] = { 0, 1, 1000000, -1 };
	struct shmkit_pub *pub;
	struct shmkit_sub *sub;
	char name[64];

	t_name(name, sizeof(name), "tspinv");
	T_OK(make_topic(name, 4, SHMKIT_TOPIC_BLOCK));
	T_OK(shmkit_pub_open(name, 0, &pub));
	T_OK(shmkit_sub_open(name, 0, &sub));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ(shmkit_pub_set_spin(pub, bad[i]), -EINVAL);
		T_EQ(shmkit_sub_set_spin(sub, bad[i]), -EINVAL);
	}
	T_EQ(shmkit_pub_set_spin(NULL, 0), -EINVAL);
	T_EQ(shmkit_sub_set_spin(NULL, 0), -EINVAL);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		T_OK(shmkit_pub_set_spin(pub, good[i]));
		T_OK(shmkit_sub_set_spin(sub, good[i]));
	}
	T_OK(shmkit_sub_close(sub));
	T_OK(shmkit_pub_close(pub));
	T_OK(shmkit_topic_destroy(name));
}

/* Timed-out waits of a subscriber and a block-policy publisher. */
static void topic_spin_timeouts(void)
{
	struct shmkit_topic_sub_info s0, s1;
	struct shmkit_topic_info i0, i1;
	struct shmkit_pub *pub;
	struct shmkit_sub *sub;
	unsigned char buf[512];
	char name[64];
	uint64_t t0;
	size_t len;
	int id;

	t_name(name, sizeof(name), "tspint");
	id = make_topic(name, 4, SHMKIT_TOPIC_BLOCK);
	T_OK(id);
	T_OK(shmkit_pub_open(name, 0, &pub));
	T_OK(shmkit_sub_open(name, 0, &sub));

	/* the subscriber: spin 0 sleeps, 1 s of spin outlasts 50 ms */
	T_OK(shmkit_sub_set_spin(sub, 0));
	topic_figures(id, &i0, &s0);
	t0 = t_now_ns();
	T_EQ(shmkit_sub_recv(sub, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
	T_ASSERT(t_now_ns() - t0 >= 30 * 1000000ull);
	topic_figures(id, &i1, &s1);
	T_ASSERT(s1.sleeps >= s0.sleeps + 1);
	T_OK(shmkit_sub_set_spin(sub, 1000000));
	T_EQ(shmkit_sub_recv(sub, buf, sizeof(buf), &len, 50), -ETIMEDOUT);
	topic_figures(id, &i0, &s0);
	T_EQ(s0.sleeps, s1.sleeps);
	T_OK(shmkit_sub_set_spin(sub, 0));
	T_OK(shmkit_sub_set_wait(sub, SHMKIT_WAIT_SPIN));
	T_EQ(shmkit_sub_recv(sub, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
	topic_figures(id, &i1, &s1);
	T_EQ(s1.sleeps, s0.sleeps);
	T_OK(shmkit_sub_set_wait(sub, SHMKIT_WAIT_NONE));
	T_EQ(shmkit_sub_recv(sub, buf, sizeof(buf), &len, -1), -EAGAIN);
	T_OK(shmkit_sub_set_wait(sub, SHMKIT_WAIT_BLOCK));

	/* the publisher, held back by the subscriber four messages on */
	for (uint64_t i = 0; i < 4; i++) {
		payload_fill(buf, 64, i);
		T_OK(shmkit_pub_send(pub, buf, 64, 0));
	}
	T_OK(shmkit_pub_set_spin(pub, 0));
	topic_figures(id, &i0, &s0);
	T_EQ(shmkit_pub_send(pub, buf, 64, 30), -ETIMEDOUT);
	topic_figures(id, &i1, &s1);
	T_ASSERT(i1.pub_sleeps >= i0.pub_sleeps + 1);
	T_OK(shmkit_pub_set_spin(pub, 1000000));
	T_EQ(shmkit_pub_send(pub, buf, 64, 50), -ETIMEDOUT);
	topic_figures(id, &i0, &s0);
	T_EQ(i0.pub_sleeps, i1.pub_sleeps);
	T_OK(shmkit_pub_set_spin(pub, -1));
	for (uint64_t i = 0; i < 4; i++) {
		T_OK(shmkit_sub_recv(sub, buf, sizeof(buf), &len, 0));
		T_PAYLOAD(buf, len, i);
	}
	T_OK(shmkit_sub_close(sub));
	T_OK(shmkit_pub_close(pub));
	T_OK(shmkit_topic_destroy(name));
}

struct tdelayed {
	const char *name;
	int shmid;
	uint64_t count;
	int ready;		/* write end: the child is open */
};

/* A publisher that sends message i once the subscriber announced its i+1st sleep. */
static int delayed_publisher(void *arg)
{
	struct tdelayed *d = arg;
	struct shmkit_topic_sub_info sub;
	struct shmkit_topic_info info;
	struct shmkit_pub *pub;
	unsigned char buf[512];

	if (shmkit_pub_open(d->name, 0, &pub) < 0)
		return 2;
	/* its open wakes the subscribers: before they wait, not during */
	if (write(d->ready, "", 1) != 1)
		return 3;
	for (uint64_t i = 0; i < d->count; i++) {
		size_t len = (size_t)(t_mix(i) % sizeof(buf));

		do {
			nap_ms(1);
			if (shmkit_topic_info(d->shmid, &info, &sub, 1) < 0)
				return 4;
		} while (sub.sleeps < i + 1);
		nap_ms(5);
		payload_fill(buf, len, i);
		if (shmkit_pub_send(pub, buf, len, -1) < 0)
			return 5;
	}
	return shmkit_pub_close(pub) < 0 ? 6 : 0;
}

static void sub_delayed(void)
{
	struct tdelayed d = { .count = 20 };
	struct shmkit_topic_sub_info si;
	struct shmkit_topic_info info;
	struct shmkit_sub *sub;
	unsigned char buf[512];
	char name[64], go;
	int ready[2];
	size_t len;
	pid_t pid;

	d.name = t_name(name, sizeof(name), "tdelay");
	d.shmid = make_topic(name, 8, SHMKIT_TOPIC_BLOCK);
	T_OK(d.shmid);
	T_OK(shmkit_sub_open(name, 0, &sub));
	T_OK(shmkit_sub_set_spin(sub, 0));
	T_OK(pipe(ready));
	d.ready = ready[1];
	pid = t_fork(delayed_publisher, &d);
	close(ready[1]);
	T_EQ(read(ready[0], &go, 1), 1);
	close(ready[0]);
	for (uint64_t i = 0; i < d.count; i++) {
		T_OK(shmkit_sub_recv(sub, buf, sizeof(buf), &len, -1));
		T_EQ(len, t_mix(i) % sizeof(buf));
		T_PAYLOAD(buf, len, i);
	}
	topic_figures(d.shmid, &info, &si);
	T_ASSERT(si.sleeps >= d.count);
	T_EQ(si.msgs, d.count);
	T_EQ(shmkit_sub_recv(sub, buf, sizeof(buf), &len, -1), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_sub_close(sub));
	T_OK(shmkit_topic_destroy(name));
}

/*
 * A subscriber that lets the publisher on one message at a time, each
 * once the publisher has announced another sleep (and 5 ms later).
 */
static int holding_subscriber(void *arg)
{
	struct tdelayed *d = arg;
	struct shmkit_topic_sub_info si;
	struct shmkit_topic_info info;
	struct shmkit_sub *sub;
	unsigned char buf[512];
	size_t len;

	if (shmkit_sub_open(d->name, 0, &sub) < 0)
		return 2;
	if (write(d->ready, "", 1) != 1)
		return 3;
	for (uint64_t i = 0; i < d->count; i++) {
		/* the last four fit without the publisher waiting for them */
		while (i + 4 < d->count) {
			if (shmkit_topic_info(d->shmid, &info, &si, 1) < 0)
				return 4;
			if (info.pub_sleeps >= i + 1)
				break;
			nap_ms(1);
		}
		if (i + 4 < d->count)
			nap_ms(5);
		if (shmkit_sub_recv(sub, buf, sizeof(buf), &len, -1) < 0 ||
		    len != t_mix(i) % sizeof(buf) || payload_check(buf, len, i))
			return 5;
	}
	if (shmkit_sub_recv(sub, buf, sizeof(buf), &len, -1) != -SHMKIT_EEOF)
		return 6;
	return shmkit_sub_close(sub) < 0 ? 7 : 0;
}

static void pub_delayed(void)
{
	struct tdelayed d = { .count = 24 };
	struct shmkit_topic_sub_info si;
	struct shmkit_topic_info info;
	struct shmkit_pub *pub;
	unsigned char buf[512];
	char name[64], go;
	int ready[2];
	pid_t pid;

	d.name = t_name(name, sizeof(name), "tpubd");
	d.shmid = make_topic(name, 4, SHMKIT_TOPIC_BLOCK);
	T_OK(d.shmid);
	T_OK(shmkit_pub_open(name, 0, &pub));
	T_OK(shmkit_pub_set_spin(pub, 0));
	T_OK(pipe(ready));
	d.ready = ready[1];
	pid = t_fork(holding_subscriber, &d);
	close(ready[1]);
	T_EQ(read(ready[0], &go, 1), 1);
	close(ready[0]);
	for (uint64_t i = 0; i < d.count; i++) {
		size_t len = (size_t)(t_mix(i) % sizeof(buf));

		payload_fill(buf, len, i);
		T_OK(shmkit_pub_send(pub, buf, len, -1));
	}
	topic_figures(d.shmid, &info, &si);
	/* every message past the first four waited for the subscriber, asleep */
	T_ASSERT(info.pub_sleeps >= d.count - 4);
	T_OK(shmkit_pub_close(pub));
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_topic_destroy(name));
}

/* The echo through topics: each ping checked, answered with a pong. */
static int topic_echo(void *arg)
{
	struct pingpong *pp = arg;
	struct shmkit_pub *tx;
	struct shmkit_sub *rx;
	unsigned char buf[512];
	size_t len;
	uint64_t i;
	int r;

	if (shmkit_sub_open(pp->ping, 0, &rx) < 0 || shmkit_pub_open(pp->pong, 0, &tx) < 0 ||
	    shmkit_sub_set_spin(rx, 0) < 0 || shmkit_pub_set_spin(tx, 0) < 0)
		return 2;
	for (i = 0; (r = shmkit_sub_recv(rx, buf, sizeof(buf), &len, -1)) == 0; i++) {
		if (len != t_mix(i) % sizeof(buf) || payload_check(buf, len, i))
			return 3;
		if (shmkit_pub_send(tx, buf, len, -1) < 0)
			return 4;
	}
	if (r != -SHMKIT_EEOF || i != pp->count)
		return 5;
	return shmkit_pub_close(tx) < 0 || shmkit_sub_close(rx) < 0 ? 6 : 0;
}

static void topic_pingpong(void)
{
	struct pingpong pp = { .count = t_scale(10000) };
	struct shmkit_topic_sub_info si;
	struct shmkit_topic_info info;
	struct shmkit_pub *tx;
	struct shmkit_sub *rx;
	unsigned char buf[512];
	char a[64], b[64];
	int ping_id, pong_id;
	size_t len;
	pid_t pid;

	pp.ping = t_name(a, sizeof(a), "tping");
	pp.pong = t_name(b, sizeof(b), "tpong");
	ping_id = make_topic(a, 4, SHMKIT_TOPIC_BLOCK);
	pong_id = make_topic(b, 4, SHMKIT_TOPIC_BLOCK);
	T_OK(ping_id);
	T_OK(pong_id);
	T_OK(shmkit_pub_open(a, 0, &tx));
	T_OK(shmkit_sub_open(b, 0, &rx));
	T_OK(shmkit_pub_set_spin(tx, 0));
	T_OK(shmkit_sub_set_spin(rx, 0));
	pid = t_fork(topic_echo, &pp);
	/* the echo's place must be taken before the first ping, or it misses it */
	do {
		nap_ms(1);
		topic_figures(ping_id, &info, &si);
	} while (info.nsubs == 0);
	for (uint64_t i = 0; i < pp.count; i++) {
		size_t want = (size_t)(t_mix(i) % sizeof(buf));

		payload_fill(buf, want, i);
		T_OK(shmkit_pub_send(tx, buf, want, -1));
		T_OK(shmkit_sub_recv(rx, buf, sizeof(buf), &len, -1));
		T_EQ(len, want);
		T_PAYLOAD(buf, len, i);
	}
	T_OK(shmkit_pub_close(tx));
	T_EQ(shmkit_sub_recv(rx, buf, sizeof(buf), &len, -1), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	topic_figures(pong_id, &info, &si);
	T_EQ(info.published, pp.count);
	T_EQ(si.msgs, pp.count);
	T_OK(shmkit_sub_close(rx));
	T_OK(shmkit_topic_destroy(a));
	T_OK(shmkit_topic_destroy(b));
}

#define MS 1000000ull

struct later {
	const char *name;
	int ready;		/* write end: said when the maker has started */
};

/* Makes a channel 50 ms after it starts, and sends message 7 into it. */
static int chan_later(void *arg)
{
	struct later *l = arg;
	struct shmkit_chan *tx;
	unsigned char buf[100];

	if (write(l->ready, "", 1) != 1)
		return 2;
	nap_ms(50);
	if (shmkit_chan_create(l->name, 4096, SHMKIT_MODE_DEFAULT, 0) < 0 ||
	    shmkit_chan_open(l->name, SHMKIT_PRODUCER, &tx) < 0)
		return 3;
	payload_fill(buf, sizeof(buf), 7);
	if (shmkit_chan_send(tx, buf, sizeof(buf), -1) < 0)
		return 4;
	return shmkit_chan_close(tx) < 0 ? 5 : 0;
}

/* Makes a topic 50 ms after it starts, and publishes message 7 once subscribed. */
static int topic_later(void *arg)
{
	struct later *l = arg;
	struct shmkit_topic_params tp = { .max_msg = 512, .slots = 4, .max_subs = 4,
					  .policy = SHMKIT_TOPIC_BLOCK };
	struct shmkit_pub *pub;
	unsigned char buf[100];

	if (write(l->ready, "", 1) != 1)
		return 2;
	nap_ms(50);
	if (shmkit_topic_create(l->name, &tp, SHMKIT_MODE_DEFAULT, 0) < 0 ||
	    shmkit_pub_open(l->name, 0, &pub) < 0)
		return 3;
	while (shmkit_pub_subscribers(pub) == 0)
		nap_ms(1);
	payload_fill(buf, sizeof(buf), 7);
	if (shmkit_pub_send(pub, buf, sizeof(buf), -1) < 0)
		return 4;
	return shmkit_pub_close(pub) < 0 ? 5 : 0;
}

/* Starts maker in a child, and returns once it runs (its 50 ms start then). */
static pid_t start_later(int (*maker)(void *), struct later *l)
{
	int ready[2];
	pid_t pid;
	char go;

	T_OK(pipe(ready));
	l->ready = ready[1];
	pid = t_fork(maker, l);
	close(ready[1]);
	T_EQ(read(ready[0], &go, 1), 1);
	close(ready[0]);
	return pid;
}

static void open_wait_for_maker(void)
{
	struct later l;
	struct shmkit_chan *rx;
	struct shmkit_sub *sub;
	unsigned char buf[512];
	char name[64];
	uint64_t t0;
	size_t len;
	pid_t pid;

	l.name = t_name(name, sizeof(name), "later");
	t0 = t_now_ns();
	pid = start_later(chan_later, &l);
	T_OK(shmkit_chan_open_wait(name, SHMKIT_CONSUMER, 5000, &rx));
	T_ASSERT(t_now_ns() - t0 >= 50 * MS);
	T_OK(shmkit_chan_recv(rx, buf, sizeof(buf), &len, 5000));
	T_EQ(len, 100);
	T_PAYLOAD(buf, len, 7);
	T_EQ(shmkit_chan_recv(rx, buf, sizeof(buf), &len, 5000), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_close(rx));
	T_OK(shmkit_chan_destroy(name));

	l.name = t_name(name, sizeof(name), "tlater");
	t0 = t_now_ns();
	pid = start_later(topic_later, &l);
	T_OK(shmkit_sub_open_wait(name, 0, 5000, &sub));
	T_ASSERT(t_now_ns() - t0 >= 50 * MS);
	T_OK(shmkit_sub_recv(sub, buf, sizeof(buf), &len, 5000));
	T_EQ(len, 100);
	T_PAYLOAD(buf, len, 7);
	T_EQ(shmkit_sub_recv(sub, buf, sizeof(buf), &len, 5000), -SHMKIT_EEOF);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_sub_close(sub));
	T_OK(shmkit_topic_destroy(name));
}

static void open_wait_answers(void)
{
	struct shmkit_ref ref;
	struct shmkit_chan *ch = NULL;
	struct shmkit_sub *sub = NULL;
	char none[64], plain[64], chan[64], topic[64];
	uint64_t t0;

	/* nobody makes it: no sooner than asked, then -ETIMEDOUT */
	t_name(none, sizeof(none), "none");
	t0 = t_now_ns();
	T_EQ(shmkit_chan_open_wait(none, SHMKIT_CONSUMER, 100, &ch), -ETIMEDOUT);
	T_ASSERT(t_now_ns() - t0 >= 100 * MS);
	t0 = t_now_ns();
	T_EQ(shmkit_sub_open_wait(none, 0, 100, &sub), -ETIMEDOUT);
	T_ASSERT(t_now_ns() - t0 >= 100 * MS);
	/* timeout 0: one try, as the plain opens */
	T_EQ(shmkit_chan_open_wait(none, SHMKIT_PRODUCER, 0, &ch), -ENOENT);
	T_EQ(shmkit_sub_open_wait(none, 0, 0, &sub), -ENOENT);
	T_ASSERT(ch == NULL && sub == NULL);

	/* not the kind asked for: at once, even with no timeout (a wait would hang) */
	t_name(plain, sizeof(plain), "plain");
	ref = t_name_ref(plain);
	T_OK(t_track(shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_EQ(shmkit_chan_open_wait(plain, SHMKIT_CONSUMER, -1, &ch), -SHMKIT_ENOTCHAN);
	T_EQ(shmkit_sub_open_wait(plain, 0, -1, &sub), -SHMKIT_ENOTTOPIC);
	t_name(chan, sizeof(chan), "kindc");
	T_OK(t_track(shmkit_chan_create(chan, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_EQ(shmkit_sub_open_wait(chan, 0, -1, &sub), -SHMKIT_ENOTTOPIC);
	t_name(topic, sizeof(topic), "kindt");
	T_OK(make_topic(topic, 4, SHMKIT_TOPIC_BLOCK));
	T_EQ(shmkit_chan_open_wait(topic, SHMKIT_CONSUMER, -1, &ch), -SHMKIT_ENOTCHAN);
	/* bad arguments are answers too */
	T_EQ(shmkit_chan_open_wait(chan, 7, -1, &ch), -EINVAL);
	T_EQ(shmkit_chan_open_wait("no/such", SHMKIT_CONSUMER, -1, &ch), -EINVAL);
	T_EQ(shmkit_sub_open_wait(topic, 1u << 20, -1, &sub), -EINVAL);
	T_ASSERT(ch == NULL && sub == NULL);
	/* the other side is held: -EBUSY at once */
	T_OK(shmkit_chan_open_wait(chan, SHMKIT_CONSUMER, -1, &ch));
	T_EQ(shmkit_chan_open_wait(chan, SHMKIT_CONSUMER, -1, &ch), -EBUSY);
	T_OK(shmkit_chan_close(ch));

	T_OK(shmkit_seg_remove(shmid_of(plain)));
	T_OK(shmkit_chan_destroy(chan));
	T_OK(shmkit_topic_destroy(topic));
}

struct slow_maker {
	const char *name;
	int shmid;
	uint64_t cap;
};

/*
 * Finishes making a channel in a segment that another process made with
 * shmget alone, as chan_init and __shmkit_hdr_init would have: the
 * channel's layout, then the header, each behind its magic.
 */
static int finish_channel(void *arg)
{
	struct slow_maker *m = arg;
	struct __shmkit_chan_hdr *h;
	struct shmkit_map map;

	nap_ms(1500);
	if (shmkit_seg_attach(m->shmid, 0, &map) < 0)
		return 2;
	h = (void *)((char *)map.base + SHMKIT_HDR_SIZE);
	h->version = SHMKIT_CHAN_VERSION;
	h->hdr_size = sizeof(*h);
	h->capacity = m->cap;
	h->max_msg = m->cap / 2;
	atomic_store_explicit(&h->magic, SHMKIT_CHAN_MAGIC, memory_order_release);
	__shmkit_hdr_init(map.base, m->name, SHMKIT_CHAN_RING_OFFSET - SHMKIT_HDR_SIZE + m->cap,
			  SHMKIT_HDR_CHANNEL);
	return shmkit_seg_detach(&map) < 0 ? 3 : 0;
}

/* Makes a raw segment under key, and exits: a creator dead without a header. */
static int make_raw_and_die(void *arg)
{
	struct shmkit_ref ref = t_key_ref(*(key_t *)arg);

	return shmkit_seg_create(&ref, 4096, SHMKIT_MODE_DEFAULT, 0) < 0 ? 2 : 0;
}

static void open_wait_slow_creator(void)
{
	struct slow_maker m = { .cap = page_size() };
	struct shmkit_ref ref;
	struct shmkit_chan *ch;
	struct shmkit_sub *sub;
	char name[64];
	key_t key;
	pid_t pid;

	/*
	 * This process is the creator, in the kernel's record: alive, its
	 * header not yet there. A plain open gives it half a second, then
	 * says -SHMKIT_ECLASH; open_wait goes on waiting.
	 */
	m.name = t_name(name, sizeof(name), "slow");
	ref = t_key_ref(shmkit_name_key(name));
	m.shmid = t_track(shmkit_seg_create(&ref, SHMKIT_CHAN_RING_OFFSET + m.cap,
					    SHMKIT_MODE_DEFAULT, 0));
	T_OK(m.shmid);
	pid = t_fork(finish_channel, &m);
	T_OK(shmkit_chan_open_wait(name, SHMKIT_CONSUMER, 5000, &ch));
	T_EQ(shmkit_chan_max_msg(ch), m.cap / 2);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_close(ch));
	T_OK(shmkit_chan_destroy(name));

	/* a creator that died without a header: never a channel, said at once */
	t_name(name, sizeof(name), "dead");
	key = shmkit_name_key(name);
	T_EQ(t_wait(t_fork(make_raw_and_die, &key)), 0);
	T_EQ(shmkit_chan_open_wait(name, SHMKIT_CONSUMER, -1, &ch), -SHMKIT_ECLASH);
	T_EQ(shmkit_sub_open_wait(name, 0, -1, &sub), -SHMKIT_ECLASH);
	ref = t_key_ref(key);
	T_OK(shmkit_seg_remove(shmkit_seg_open(&ref)));
}

int main(void)
{
	__shmkit_chan_sleep_slice_ns = -1;
	make_says_what_it_did();
	make_race();
	chan_spin_values();
	chan_delayed(0);
	chan_delayed(-1);
	chan_spin_timeouts();
	chan_pingpong();
	topic_spin_values();
	topic_spin_timeouts();
	sub_delayed();
	pub_delayed();
	topic_pingpong();
	open_wait_for_maker();
	open_wait_answers();
	open_wait_slow_creator();
	return 0;
}
