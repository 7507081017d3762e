/*
 * Wait sets: the contract of every call, readiness of each kind of member
 * (channel consumer and producer, subscriber, publisher), fairness, ends
 * and deaths reported per member, a full set of 128 asleep in one call,
 * and streams from several processes into one set, with and without
 * futex_waitv, every message checked. Sleeps have no time slice here
 * (__shmkit_chan_sleep_slice_ns = -1), so a lost wake-up hangs the test
 * instead of hiding behind the next slice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "waitset.h"

static void open_pair(const char *name, size_t cap, struct shmkit_chan **p,
		      struct shmkit_chan **c)
{
	T_OK(t_track(shmkit_chan_create(name, cap, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, p));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, c));
}

/* The udata of an event, as the index it was added with. */
static long idx(const struct shmkit_event *ev)
{
	return (long)(intptr_t)ev->udata;
}

static void *as_udata(long i)
{
	return (void *)(intptr_t)i;
}

static void misuse(void)
{
	struct shmkit_waitset *ws;
	struct shmkit_chan *p, *c;
	struct shmkit_event ev[4];
	char name[64];
	uint64_t t0;

	T_EQ(shmkit_waitset_new(NULL), -EINVAL);
	T_EQ(shmkit_waitset_free(NULL), -EINVAL);
	T_OK(shmkit_waitset_new(&ws));
	/* no members: timeout 0 tries, a timeout waits it out, for ever is refused */
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), -EAGAIN);
	t0 = t_now_ns();
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 20), -ETIMEDOUT);
	T_ASSERT(t_now_ns() - t0 >= 20000000);
	T_EQ(shmkit_waitset_wait(ws, ev, 4, -1), -EINVAL);

	t_name(name, sizeof(name), "ws-misuse");
	open_pair(name, 4096, &p, &c);
	T_EQ(shmkit_waitset_add_chan(NULL, c, 0, NULL), -EINVAL);
	T_EQ(shmkit_waitset_add_chan(ws, NULL, 0, NULL), -EINVAL);
	T_EQ(shmkit_waitset_add_chan(ws, c, 1, NULL), -EINVAL);	/* room is the producer's */
	T_EQ(shmkit_waitset_add_chan(ws, p, 2049, NULL), -EMSGSIZE);
	T_OK(shmkit_waitset_add_chan(ws, p, 2048, NULL));
	T_EQ(shmkit_waitset_add_chan(ws, p, 0, NULL), -EEXIST);
	T_OK(shmkit_waitset_add_chan(ws, c, 0, NULL));
	T_EQ(shmkit_waitset_add_pub(ws, NULL, NULL), -EINVAL);
	T_EQ(shmkit_waitset_add_sub(ws, NULL, NULL), -EINVAL);
	T_EQ(shmkit_waitset_wait(ws, NULL, 4, 0), -EINVAL);
	T_EQ(shmkit_waitset_wait(ws, ev, 0, 0), -EINVAL);
	T_EQ(shmkit_waitset_set_spin(ws, -2), -EINVAL);
	T_EQ(shmkit_waitset_set_spin(ws, 1000001), -EINVAL);
	T_EQ(shmkit_waitset_set_spin(NULL, 0), -EINVAL);
	T_OK(shmkit_waitset_set_spin(ws, 0));
	T_OK(shmkit_waitset_set_spin(ws, -1));
	T_EQ(shmkit_waitset_del(ws, NULL), -EINVAL);
	T_EQ(shmkit_waitset_del(NULL, c), -EINVAL);
	T_OK(shmkit_waitset_del(ws, c));
	T_EQ(shmkit_waitset_del(ws, c), -ENOENT);
	T_OK(shmkit_waitset_del(ws, p));
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
}

/* One process holds both sides of three channels; the set holds consumers. */
static void consumers(void)
{
	enum { N = 3 };
	struct shmkit_chan *p[N], *c[N];
	struct shmkit_waitset *ws;
	struct shmkit_event ev[N];
	char name[64], buf[64];
	size_t len;
	int got;

	T_OK(shmkit_waitset_new(&ws));
	for (long i = 0; i < N; i++) {
		t_name(name, sizeof(name), "ws-cons");
		open_pair(name, 4096, &p[i], &c[i]);
		T_OK(shmkit_waitset_add_chan(ws, c[i], 0, as_udata(i)));
	}
	T_EQ(shmkit_waitset_wait(ws, ev, N, 0), -EAGAIN);
	T_EQ(shmkit_waitset_wait(ws, ev, N, 30), -ETIMEDOUT);
	T_OK(shmkit_waitset_set_spin(ws, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, N, 30), -ETIMEDOUT);

	/* one message: that member alone, and its recv proceeds at once */
	T_OK(shmkit_chan_send(p[1], "one", 3, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, N, -1), 1);
	T_EQ(idx(&ev[0]), 1);
	T_EQ(ev[0].status, 0);
	T_OK(shmkit_chan_recv(c[1], buf, sizeof(buf), &len, 0));
	T_EQ(len, 3);
	T_EQ(shmkit_waitset_wait(ws, ev, N, 0), -EAGAIN);

	/* a peeked message stays ready until released */
	T_OK(shmkit_chan_send(p[2], "two", 3, 0));
	{
		const void *ptr;

		T_OK(shmkit_chan_peek(c[2], &ptr, &len, 0));
		T_EQ(shmkit_waitset_wait(ws, ev, N, 0), 1);
		T_EQ(idx(&ev[0]), 2);
		T_OK(shmkit_chan_release(c[2]));
	}
	T_EQ(shmkit_waitset_wait(ws, ev, N, 0), -EAGAIN);

	/*
	 * Fairness: channel 0 always has messages; with one event per wait,
	 * the others are still reported within a round.
	 */
	for (int i = 0; i < 20; i++)
		T_OK(shmkit_chan_send(p[0], "busy", 4, 0));
	T_OK(shmkit_chan_send(p[2], "quiet", 5, 0));
	{
		int seen2 = 0;

		for (int round = 0; round < N; round++) {
			T_EQ(shmkit_waitset_wait(ws, ev, 1, 0), 1);
			T_EQ(ev[0].status, 0);
			if (idx(&ev[0]) == 2) {
				seen2 = 1;
				T_OK(shmkit_chan_recv(c[2], buf, sizeof(buf), &len, 0));
			}
		}
		T_ASSERT(seen2);
	}
	/* several ready at once: all of them in one wait */
	T_OK(shmkit_chan_send(p[1], "x", 1, 0));
	T_OK(shmkit_chan_send(p[2], "y", 1, 0));
	got = shmkit_waitset_wait(ws, ev, N, 0);
	T_EQ(got, 3);
	T_ASSERT(idx(&ev[0]) != idx(&ev[1]) && idx(&ev[1]) != idx(&ev[2]) &&
		 idx(&ev[0]) != idx(&ev[2]));

	/* a closed producer: its messages first, then end of stream, at every wait */
	T_OK(shmkit_chan_abort(p[1]));
	T_OK(shmkit_chan_recv(c[1], buf, sizeof(buf), &len, 0));
	for (int i = 0; i < 20; i++)
		T_OK(shmkit_chan_recv(c[0], buf, sizeof(buf), &len, 0));
	T_OK(shmkit_chan_recv(c[2], buf, sizeof(buf), &len, 0));
	for (int i = 0; i < 2; i++) {
		T_EQ(shmkit_waitset_wait(ws, ev, N, -1), 1);
		T_EQ(idx(&ev[0]), 1);
		T_EQ(ev[0].status, -SHMKIT_EABORTED);
	}
	T_EQ(shmkit_chan_recv(c[1], buf, sizeof(buf), &len, 0), -SHMKIT_EABORTED);
	T_OK(shmkit_waitset_del(ws, c[1]));
	T_EQ(shmkit_waitset_wait(ws, ev, N, 0), -EAGAIN);
	T_OK(shmkit_chan_close(c[1]));
	for (int i = 0; i < N; i++) {
		if (i != 1) {
			T_OK(shmkit_chan_close(p[i]));
			T_OK(shmkit_chan_close(c[i]));
		}
	}
	T_OK(shmkit_waitset_free(ws));
}

/* A producer member: ready when room bytes fit, across the ring's end too. */
static void producers(void)
{
	struct shmkit_chan *p, *c;
	struct shmkit_waitset *ws;
	struct shmkit_event ev[2];
	char name[64], buf[4096];
	size_t len;
	int sent = 0;

	t_name(name, sizeof(name), "ws-prod");
	open_pair(name, 4096, &p, &c);
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_add_chan(ws, p, 1000, as_udata(7)));
	memset(buf, 'r', sizeof(buf));
	/* fill the ring with 1000-byte messages until the set says no room */
	while (shmkit_waitset_wait(ws, ev, 2, 0) == 1) {
		T_EQ(idx(&ev[0]), 7);
		T_EQ(ev[0].status, 0);
		T_OK(shmkit_chan_send(p, buf, 1000, 0));	/* ready: must not fail */
		sent++;
	}
	T_ASSERT(sent >= 2 && sent <= 4);
	T_EQ(shmkit_chan_send(p, buf, 1000, 0), -EAGAIN);
	/*
	 * Around the ring's end: take one message out at a time; whenever
	 * the set says ready, a send proceeds at once (a pad written by the
	 * poll is skipped by the consumer, never seen as a message).
	 */
	for (int i = 0; i < 40; i++) {
		T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
		T_EQ(len, 1000);
		while (shmkit_waitset_wait(ws, ev, 2, 0) == 1)
			T_OK(shmkit_chan_send(p, buf, 1000, 0));
	}
	/* the consumer closes: the producer member says -EPIPE */
	T_OK(shmkit_chan_close(c));
	T_EQ(shmkit_waitset_wait(ws, ev, 2, 0), 1);
	T_EQ(ev[0].status, -EPIPE);
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_chan_close(p));
}

/* Topics: subscribers of two topics and a block-policy publisher. */
static void topics(void)
{
	struct shmkit_topic_params block = { .max_msg = 64, .slots = 4, .max_subs = 4,
					      .policy = SHMKIT_TOPIC_BLOCK };
	struct shmkit_topic_params over = block;
	struct shmkit_pub *pb, *po;
	struct shmkit_sub *sb, *so;
	struct shmkit_waitset *ws;
	struct shmkit_event ev[4];
	char nb[64], no[64], buf[64];
	size_t len;
	int n = 0;

	over.policy = SHMKIT_TOPIC_OVERWRITE;
	T_OK(t_track(shmkit_topic_create(t_name(nb, sizeof(nb), "ws-tb"), &block,
					 SHMKIT_MODE_DEFAULT, 0)));
	T_OK(t_track(shmkit_topic_create(t_name(no, sizeof(no), "ws-to"), &over,
					 SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_pub_open(nb, 0, &pb));
	T_OK(shmkit_pub_open(no, 0, &po));
	T_OK(shmkit_sub_open(nb, 0, &sb));
	T_OK(shmkit_sub_open(no, 0, &so));
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_add_sub(ws, sb, as_udata(1)));
	T_OK(shmkit_waitset_add_sub(ws, so, as_udata(2)));
	T_EQ(shmkit_waitset_add_sub(ws, so, NULL), -EEXIST);
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 20), -ETIMEDOUT);
	T_OK(shmkit_pub_send(po, "o", 1, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, 4, -1), 1);
	T_EQ(idx(&ev[0]), 2);
	T_OK(shmkit_sub_recv(so, buf, sizeof(buf), &len, 0));

	/* overwrite: 10 messages into 4 slots; the subscriber is told once */
	for (int i = 0; i < 10; i++)
		T_OK(shmkit_pub_send(po, "m", 1, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), 1);
	T_EQ(idx(&ev[0]), 2);
	T_EQ(ev[0].status, -SHMKIT_ELOST);
	T_ASSERT(shmkit_sub_lost(so) > 0);
	while (shmkit_sub_recv(so, buf, sizeof(buf), &len, 0) == 0)
		n++;
	T_ASSERT(n >= 1 && (uint64_t)n + shmkit_sub_lost(so) == 10);

	/* block: the publisher is ready until the slowest subscriber holds it */
	T_OK(shmkit_waitset_add_pub(ws, pb, as_udata(3)));
	T_OK(shmkit_waitset_del(ws, so));
	for (n = 0;; n++) {
		int got = shmkit_waitset_wait(ws, ev, 4, 0), pub_ready = 0;

		for (int i = 0; i < got; i++)
			pub_ready |= idx(&ev[i]) == 3;
		if (!pub_ready)
			break;
		T_OK(shmkit_pub_send(pb, "b", 1, 0));
	}
	T_EQ(n, 4);	/* four slots, one subscriber that reads nothing */
	T_EQ(shmkit_pub_send(pb, "b", 1, 0), -EAGAIN);
	T_OK(shmkit_sub_recv(sb, buf, sizeof(buf), &len, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), 2);	/* the sub has 3 more, the pub room */

	/* the publisher closes: the subscriber reads the rest, then end of stream */
	T_OK(shmkit_waitset_del(ws, pb));
	T_OK(shmkit_pub_close(pb));
	for (int i = 0; i < 3; i++)
		T_OK(shmkit_sub_recv(sb, buf, sizeof(buf), &len, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, 4, -1), 1);
	T_EQ(ev[0].status, -SHMKIT_EEOF);
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_sub_close(sb));
	T_OK(shmkit_sub_close(so));
	T_OK(shmkit_pub_close(po));
}

/* ------------------------------------------------------------- processes */

struct feeder {
	char name[64];
	int id;
	uint64_t count;
	int die;		/* SIGKILL itself after count messages */
};

/* A child: produces count checked messages of varied sizes, pausing now and then. */
static int feed(void *arg)
{
	struct feeder *f = arg;
	struct shmkit_chan *p;
	char buf[1024];
	uint64_t r = (uint64_t)f->id * 1000003u;

	if (shmkit_chan_open(f->name, SHMKIT_PRODUCER, &p) < 0)
		return 1;
	for (uint64_t i = 0; i < f->count; i++) {
		size_t len = (size_t)((r = t_mix(r)) % sizeof(buf));

		payload_fill(buf, len, i);
		if (shmkit_chan_send(p, buf, len, -1) < 0)
			return 2;
		if ((r & 0x3ff) == 0)
			usleep((useconds_t)(r >> 54));	/* up to ~1 ms: the set sleeps */
	}
	if (f->die)
		raise(SIGKILL);
	return shmkit_chan_close(p) < 0 ? 3 : 0;
}

/* A child: consumes and checks what the parent produces into it. */
static int drain(void *arg)
{
	struct feeder *f = arg;
	struct shmkit_chan *c;
	char buf[1024];
	size_t len;

	if (shmkit_chan_open(f->name, SHMKIT_CONSUMER, &c) < 0)
		return 1;
	for (uint64_t i = 0; i < f->count; i++) {
		if (shmkit_chan_recv(c, buf, sizeof(buf), &len, -1) < 0 || len != 700 ||
		    payload_check(buf, len, i))
			return 2;
		if ((i & 0x3ff) == 0)
			usleep(300);
	}
	return shmkit_chan_close(c) < 0 ? 3 : 0;
}

/*
 * Four feeders into four consumer members, and one producer member
 * feeding a drain, all in one set that sleeps at once (spin 0).
 */
static void streams(int no_waitv)
{
	enum { IN = 4 };
	struct feeder f[IN + 1];
	struct shmkit_chan *c[IN], *out;
	struct shmkit_waitset *ws;
	struct shmkit_event ev[IN + 1];
	struct shmkit_chan_info info;
	uint64_t next[IN] = { 0 }, sent = 0, count = t_scale(200000);
	pid_t pid[IN + 1];
	int open_in = IN, out_open = 1;
	char buf[1024];
	size_t len;

	__shmkit_waitset_no_waitv = no_waitv;
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_set_spin(ws, 0));
	for (int i = 0; i <= IN; i++) {
		t_name(f[i].name, sizeof(f[i].name), "ws-stream");
		f[i].id = i;
		f[i].count = count;
		f[i].die = 0;
		T_OK(t_track(shmkit_chan_create(f[i].name, 8192, SHMKIT_MODE_DEFAULT, 0)));
		if (i < IN) {
			T_OK(shmkit_chan_open(f[i].name, SHMKIT_CONSUMER, &c[i]));
			T_OK(shmkit_waitset_add_chan(ws, c[i], 0, as_udata(i)));
		} else {
			T_OK(shmkit_chan_open(f[i].name, SHMKIT_PRODUCER, &out));
			T_OK(shmkit_waitset_add_chan(ws, out, 700, as_udata(i)));
		}
	}
	for (int i = 0; i < IN; i++)
		pid[i] = t_fork(feed, &f[i]);
	pid[IN] = t_fork(drain, &f[IN]);
	while (open_in || out_open) {
		int got = shmkit_waitset_wait(ws, ev, IN + 1, -1);

		T_ASSERT(got >= 1);
		for (int e = 0; e < got; e++) {
			long i = idx(&ev[e]);

			if (i == IN) {
				T_EQ(ev[e].status, 0);
				payload_fill(buf, 700, sent);
				T_OK(shmkit_chan_send(out, buf, 700, 0));
				if (++sent == count) {
					T_OK(shmkit_waitset_del(ws, out));
					out_open = 0;
				}
				continue;
			}
			if (ev[e].status == -SHMKIT_EEOF) {
				T_EQ(next[i], count);
				T_OK(shmkit_waitset_del(ws, c[i]));
				open_in--;
				continue;
			}
			T_EQ(ev[e].status, 0);
			/* ready: at least one message waits; take what is there */
			T_OK(shmkit_chan_recv(c[i], buf, sizeof(buf), &len, 0));
			T_PAYLOAD(buf, len, next[i]);
			next[i]++;
		}
	}
	for (int i = 0; i <= IN; i++)
		T_EQ(t_wait(pid[i]), 0);
	for (int i = 0; i < IN; i++) {
		T_OK(shmkit_chan_info(shmkit_seg_open(&(struct shmkit_ref){
			.kind = SHMKIT_REF_NAME, .name = f[i].name }), &info));
		T_ASSERT(info.prod_wakes <= info.cons_sleeps);
		T_OK(shmkit_chan_close(c[i]));
	}
	printf("%s: %d x %llu messages in, %llu out; channel 0's consumer slept %llu times\n",
	       no_waitv ? "fallback" : "futex_waitv", IN, (unsigned long long)count,
	       (unsigned long long)sent, (unsigned long long)info.cons_sleeps);
	T_OK(shmkit_chan_close(out));
	T_OK(shmkit_waitset_free(ws));
	__shmkit_waitset_no_waitv = 0;
}

/* A feeder that dies: its messages, then -SHMKIT_EPEERDEAD for its member alone. */
static void dead_peer(void)
{
	struct feeder f = { .id = 9, .count = 3, .die = 1 };
	struct shmkit_chan *c, *p2, *c2;
	struct shmkit_waitset *ws;
	struct shmkit_event ev[2];
	char buf[1024], name2[64];
	size_t len;
	uint64_t got = 0;
	pid_t pid;

	t_name(f.name, sizeof(f.name), "ws-dead");
	T_OK(t_track(shmkit_chan_create(f.name, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &c));
	t_name(name2, sizeof(name2), "ws-alive");
	open_pair(name2, 4096, &p2, &c2);
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_add_chan(ws, c2, 0, as_udata(2)));
	T_OK(shmkit_waitset_add_chan(ws, c, 0, as_udata(1)));
	/* deaths are seen at a sleep's slice: give the sleeps one */
	__shmkit_chan_sleep_slice_ns = 20000000;
	pid = t_fork(feed, &f);
	for (;;) {
		T_EQ(shmkit_waitset_wait(ws, ev, 2, 10000), 1);
		T_EQ(idx(&ev[0]), 1);
		if (ev[0].status)
			break;
		T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
		T_PAYLOAD(buf, len, got);
		got++;
	}
	__shmkit_chan_sleep_slice_ns = -1;
	T_EQ(ev[0].status, -SHMKIT_EPEERDEAD);
	T_EQ(got, 3);
	T_EQ(t_wait(pid), 128 + SIGKILL);
	T_OK(shmkit_waitset_del(ws, c));
	T_EQ(shmkit_waitset_wait(ws, ev, 2, 0), -EAGAIN);
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_close(p2));
	T_OK(shmkit_chan_close(c2));
}

struct late {
	char name[64];
};

static int send_late(void *arg)
{
	struct late *l = arg;
	struct shmkit_chan *p;

	usleep(30000);
	if (shmkit_chan_open(l->name, SHMKIT_PRODUCER, &p) < 0 ||
	    shmkit_chan_send(p, "late", 4, -1) < 0)
		return 1;
	return shmkit_chan_close(p) < 0 ? 2 : 0;
}

/* The most members a set holds, asleep in one call; the last one wakes it. */
static void full_set(int no_waitv)
{
	enum { MAX = SHMKIT_WAITSET_MAX };
	static struct late l[MAX + 1];
	struct shmkit_chan *c[MAX + 1];
	struct shmkit_waitset *ws;
	struct shmkit_event ev[4];
	char buf[16];
	size_t len;
	pid_t pid;

	__shmkit_waitset_no_waitv = no_waitv;
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_set_spin(ws, 0));
	for (int i = 0; i <= MAX; i++) {
		t_name(l[i].name, sizeof(l[i].name), "ws-full");
		T_OK(t_track(shmkit_chan_create(l[i].name, 4096, SHMKIT_MODE_DEFAULT, 0)));
		T_OK(shmkit_chan_open(l[i].name, SHMKIT_CONSUMER, &c[i]));
		if (i < MAX)
			T_OK(shmkit_waitset_add_chan(ws, c[i], 0, as_udata(i)));
		else
			T_EQ(shmkit_waitset_add_chan(ws, c[i], 0, NULL), -ENOSPC);
	}
	pid = t_fork(send_late, &l[MAX - 1]);
	T_EQ(shmkit_waitset_wait(ws, ev, 4, -1), 1);
	T_EQ(idx(&ev[0]), MAX - 1);
	T_EQ(ev[0].status, 0);
	T_OK(shmkit_chan_recv(c[MAX - 1], buf, sizeof(buf), &len, 0));
	T_EQ(len, 4);
	T_EQ(t_wait(pid), 0);
	for (int i = 0; i <= MAX; i++)
		T_OK(shmkit_chan_close(c[i]));
	T_OK(shmkit_waitset_free(ws));
	__shmkit_waitset_no_waitv = 0;
}

int main(void)
{
	__shmkit_chan_sleep_slice_ns = -1;
	misuse();
	consumers();
	producers();
	topics();
	dead_peer();
	full_set(0);
	full_set(1);
	streams(0);
	streams(1);
	return 0;
}
