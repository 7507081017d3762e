/*
 * Inboxes: the contract of every call, lanes taken and freed, fairness
 * between producers, the consumer's close and death, a producer killed
 * mid-message, a corrupt lane, an inbox in a wait set, and a stream of 8
 * producers into one consumer with every message checked. Sleeps have
 * no time slice (a lost wake-up hangs the test), except where a death
 * must be seen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "inbox.h"

#define TAG(prod, seq) ((uint64_t)(prod) << 40 | (seq))

static int shmid_of(const char *name)
{
	return shmkit_seg_open(&(struct shmkit_ref){ .kind = SHMKIT_REF_NAME, .name = name });
}

static void basics(void)
{
	struct shmkit_inbox_info info;
	struct shmkit_inbox_lane_info li[8];
	struct shmkit_chan *p[5];
	struct shmkit_inbox *ib, *again;
	struct shmkit_seg_info si;
	char name[64], chan[64], buf[4096];
	size_t len;
	int id;

	t_name(name, sizeof(name), "ib-basic");
	T_EQ(shmkit_inbox_create(name, 0, 4096, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_EQ(shmkit_inbox_create(name, 1025, 4096, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_EQ(shmkit_inbox_create(name, 4, 0, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_EQ(shmkit_inbox_create(name, 1024, 1 << 30, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_EQ(shmkit_inbox_join(name, 0, &p[0]), -ENOENT);
	T_EQ(shmkit_inbox_open(name, 0, &ib), -ENOENT);
	id = t_track(shmkit_inbox_create(name, 4, 5000, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	/* an existing inbox keeps its shape */
	T_EQ(shmkit_inbox_create(name, 8, 100000, SHMKIT_MODE_DEFAULT, 0), id);
	T_EQ(shmkit_inbox_create(name, 4, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);
	T_OK(shmkit_seg_stat(id, &si));
	T_ASSERT(si.flags & SHMKIT_INFO_INBOX);
	T_ASSERT(!(si.flags & (SHMKIT_INFO_CHANNEL | SHMKIT_INFO_TOPIC)));
	T_EQ(si.alloc, 4096 + 4 * (4096 + 8192));	/* whole pages, none wasted */
	T_OK(shmkit_inbox_info(id, &info, li, 8));
	T_EQ(info.lanes, 4);
	T_EQ(info.lane_capacity, 8192);
	T_EQ(info.max_msg, 4096);
	T_EQ(info.producers, 0);
	T_EQ(info.listed, 0);
	T_EQ(info.cons_pid, 0);

	/* not an inbox: a channel's name */
	T_OK(t_track(shmkit_chan_create(t_name(chan, sizeof(chan), "ib-chan"), 4096,
					SHMKIT_MODE_DEFAULT, 0)));
	T_EQ(shmkit_inbox_join(chan, 0, &p[0]), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_inbox_open(chan, 0, &ib), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_inbox_create(chan, 4, 4096, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_inbox_destroy(chan), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_inbox_info(shmid_of(chan), &info, NULL, 0), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_chan_open(name, SHMKIT_CONSUMER, &p[0]), -SHMKIT_ENOTCHAN);

	/* producers first: messages wait for the consumer */
	for (int i = 0; i < 4; i++)
		T_OK(shmkit_inbox_join(name, 0, &p[i]));
	T_EQ(shmkit_inbox_join(name, 0, &p[4]), -EBUSY);
	T_EQ(shmkit_inbox_join(name, 7, &p[4]), -EINVAL);
	for (uint64_t k = 0; k < 3; k++) {
		for (int i = 0; i < 4; i++) {
			payload_fill(buf, 100 + (size_t)i, TAG(i, k));
			T_OK(shmkit_chan_send(p[i], buf, 100 + (size_t)i, 0));
		}
	}
	T_EQ(shmkit_chan_peer(p[0]), 0);	/* no consumer yet: not gone */
	T_OK(shmkit_inbox_open(name, 0, &ib));
	T_EQ(shmkit_inbox_open(name, 0, &again), -EBUSY);
	T_EQ(shmkit_inbox_from(ib), -1);
	T_EQ(shmkit_inbox_max_msg(ib), 4096);
	T_OK(shmkit_inbox_info(id, &info, li, 8));
	T_EQ(info.producers, 4);
	T_EQ(info.listed, 4);
	T_EQ(info.sent_msgs, 12);
	T_EQ(info.cons_pid, getpid());
	T_ASSERT(info.cons_alive);
	T_EQ(li[2].lane, 2);
	T_EQ(li[2].pid, getpid());
	T_EQ(li[2].sent_msgs, 3);
	T_EQ(li[2].used, 3 * (8 + 104));

	/* one message from each lane in turn, each in order within its lane */
	for (uint64_t k = 0; k < 3; k++) {
		for (int i = 0; i < 4; i++) {
			T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
			T_EQ(shmkit_inbox_from(ib), i);
			T_EQ(len, 100 + (size_t)i);
			T_PAYLOAD(buf, len, TAG(i, k));
		}
	}
	T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -EAGAIN);
	T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 20), -ETIMEDOUT);

	/* a busy producer does not hold back a quiet one */
	for (int k = 0; k < 10; k++)
		T_OK(shmkit_chan_send(p[0], "busy", 4, 0));
	T_OK(shmkit_chan_send(p[3], "quiet", 5, 0));
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_EQ(shmkit_inbox_from(ib), 3);
	for (int k = 0; k < 9; k++) {
		T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
		T_EQ(shmkit_inbox_from(ib), 0);
	}

	/* zero copy, and a message too big for the buffer stays in place */
	T_OK(shmkit_chan_send(p[1], "peeked", 6, 0));
	{
		const void *ptr;

		T_EQ(shmkit_inbox_release(ib), -EINVAL);
		T_OK(shmkit_inbox_peek(ib, &ptr, &len, -1));
		T_EQ(len, 6);
		T_ASSERT(memcmp(ptr, "peeked", 6) == 0);
		T_OK(shmkit_inbox_peek(ib, &ptr, &len, 0));	/* the same one */
		T_EQ(shmkit_inbox_recv(ib, buf, 3, &len, 0), -EMSGSIZE);
		T_EQ(len, 6);
		T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
		T_EQ(len, 6);
	}

	/* a producer leaves: its lane is the next one taken */
	T_OK(shmkit_chan_close(p[2]));
	T_OK(shmkit_inbox_join(name, 0, &p[2]));
	T_OK(shmkit_chan_send(p[2], "back", 4, 0));
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_EQ(shmkit_inbox_from(ib), 2);

	/* the consumer closes: producers get -EPIPE */
	T_OK(shmkit_inbox_close(ib));
	T_EQ(shmkit_chan_send(p[0], "x", 1, 0), -EPIPE);
	T_EQ(shmkit_chan_peer(p[3]), -EPIPE);
	T_OK(shmkit_inbox_info(id, &info, NULL, 0));
	T_EQ(info.cons_pid, 0);
	T_ASSERT(info.cons_closed);
	/* a new consumer: the lanes are open again */
	T_OK(shmkit_inbox_open(name, 0, &ib));
	T_OK(shmkit_chan_send(p[0], "y", 1, 0));
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	for (int i = 0; i < 4; i++)
		T_OK(shmkit_chan_close(p[i]));
	T_OK(shmkit_inbox_close(ib));
	T_EQ(shmkit_inbox_close(NULL), -EINVAL);
	T_OK(shmkit_inbox_destroy(name));
}

/* ------------------------------------------------------------- processes */

struct producer {
	char name[64];
	int id;
	uint64_t count;
	int die_mid;	/* SIGKILL itself with a message half written */
};

static int produce(void *arg)
{
	struct producer *pr = arg;
	struct shmkit_chan *p;
	uint64_t r = (uint64_t)pr->id * 7919u + 1;
	void *slot;

	if (shmkit_inbox_join(pr->name, 0, &p) < 0)
		return 1;
	for (uint64_t k = 0; k < pr->count; k++) {
		size_t len = 8 + (size_t)((r = t_mix(r)) % 292);	/* 8: the tag names the producer */

		if (shmkit_chan_reserve(p, len, &slot, -1) < 0)
			return 2;
		payload_fill(slot, len, TAG(pr->id, k));
		if (shmkit_chan_commit(p, len) < 0)
			return 3;
		if ((r & 0xfff) == 0)
			usleep((useconds_t)(r >> 55));	/* up to ~0.5 ms: the consumer sleeps */
	}
	if (pr->die_mid) {
		if (shmkit_chan_reserve(p, 200, &slot, -1) < 0)
			return 4;
		memset(slot, 0xee, 100);
		raise(SIGKILL);
	}
	return shmkit_chan_close(p) < 0 ? 5 : 0;
}

/* 8 producers, every message checked, order per producer, nothing lost. */
static void stream(void)
{
	enum { N = 8 };
	struct producer pr[N];
	struct shmkit_inbox *ib;
	struct shmkit_inbox_info info;
	uint64_t next[N] = { 0 }, count = t_scale(1000000), total = 0;
	char name[64], buf[512];
	pid_t pid[N];
	size_t len;

	t_name(name, sizeof(name), "ib-stream");
	T_OK(t_track(shmkit_inbox_create(name, N, 16384, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_inbox_open(name, 0, &ib));
	T_OK(shmkit_inbox_set_spin(ib, 0));	/* sleep at every wait: the handshake's test */
	for (int i = 0; i < N; i++) {
		pr[i] = (struct producer){ .id = i, .count = count };
		memcpy(pr[i].name, name, sizeof(name));
		pid[i] = t_fork(produce, &pr[i]);
	}
	while (total < N * count) {
		uint64_t tag;
		int from;

		T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, -1));
		tag = payload_tag(buf, len);
		from = (int)(tag >> 40);
		T_ASSERT(from >= 0 && from < N);
		T_PAYLOAD(buf, len, TAG(from, next[from]));
		next[from]++;
		total++;
	}
	for (int i = 0; i < N; i++) {
		T_EQ(t_wait(pid[i]), 0);
		T_EQ(next[i], count);
	}
	T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -EAGAIN);
	T_OK(shmkit_inbox_info(shmid_of(name), &info, NULL, 0));
	T_EQ(info.recv_msgs, N * count);
	printf("%d producers x %llu messages, every one checked; the consumer slept %llu times\n",
	       N, (unsigned long long)count, (unsigned long long)info.cons_sleeps);
	T_OK(shmkit_inbox_close(ib));
}

/*
 * A producer killed with a message half written: nothing of it shows,
 * the others go on, and its lane is taken over by the next producer.
 */
static void producer_killed(void)
{
	struct producer dead = { .id = 1, .count = 5, .die_mid = 1 };
	struct producer live = { .id = 2, .count = 3 };
	struct shmkit_chan *p0;
	struct shmkit_inbox *ib;
	struct shmkit_inbox_info info;
	struct shmkit_inbox_lane_info li[4];
	char buf[512];
	size_t len;
	pid_t pid;

	t_name(dead.name, sizeof(dead.name), "ib-kill");
	memcpy(live.name, dead.name, sizeof(live.name));
	T_OK(t_track(shmkit_inbox_create(dead.name, 2, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_inbox_open(dead.name, 0, &ib));
	T_OK(shmkit_inbox_join(dead.name, 0, &p0));	/* lane 0 */
	pid = t_fork(produce, &dead);			/* lane 1 */
	T_EQ(t_wait(pid), 128 + SIGKILL);
	T_OK(shmkit_inbox_info(shmid_of(dead.name), &info, li, 4));
	T_EQ(info.producers, 2);
	T_EQ(li[1].pid, pid);
	T_ASSERT(!li[1].alive);
	/* every lane is held: lane 1 by the dead, which a join takes over */
	pid = t_fork(produce, &live);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_send(p0, "zero", 4, 0));
	for (uint64_t k = 0; k < 5; k++) {
		T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
		if (shmkit_inbox_from(ib) == 0) {
			T_EQ(len, 4);
			T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
		}
		T_EQ(shmkit_inbox_from(ib), 1);
		T_PAYLOAD(buf, len, TAG(1, k));
	}
	for (uint64_t k = 0; k < 3; k++) {
		T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
		T_EQ(shmkit_inbox_from(ib), 1);
		T_PAYLOAD(buf, len, TAG(2, k));
	}
	T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -EAGAIN);
	T_OK(shmkit_chan_close(p0));
	T_OK(shmkit_inbox_close(ib));
}

struct consumer_arg {
	char name[64];
	uint64_t take;
};

/* A consumer that reads take messages, peeks one more, and is killed. */
static int consume_and_die(void *arg)
{
	struct consumer_arg *c = arg;
	struct shmkit_inbox *ib;
	const void *p;
	char buf[512];
	size_t len;

	if (shmkit_inbox_open(c->name, 0, &ib) < 0)
		return 1;
	for (uint64_t k = 0; k < c->take; k++)
		if (shmkit_inbox_recv(ib, buf, sizeof(buf), &len, -1) < 0)
			return 2;
	if (shmkit_inbox_peek(ib, &p, &len, -1) < 0)
		return 3;
	raise(SIGKILL);
	return 4;
}

/* The consumer dies: its successor gets the rest, the peeked one again. */
static void consumer_killed(void)
{
	struct consumer_arg c = { .take = 4 };
	struct shmkit_chan *p;
	struct shmkit_inbox *ib;
	char buf[2048];
	size_t len;
	pid_t pid;
	int err;

	t_name(c.name, sizeof(c.name), "ib-cdead");
	T_OK(t_track(shmkit_inbox_create(c.name, 1, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_inbox_join(c.name, 0, &p));
	for (uint64_t k = 0; k < 10; k++) {
		payload_fill(buf, 50, k);
		T_OK(shmkit_chan_send(p, buf, 50, 0));
	}
	pid = t_fork(consume_and_die, &c);
	T_EQ(t_wait(pid), 128 + SIGKILL);
	/* the producer sees the death within its bound */
	__shmkit_chan_sleep_slice_ns = 20000000;
	err = shmkit_chan_send(p, buf, 2000, 5000);
	while (err == 0)
		err = shmkit_chan_send(p, buf, 2000, 5000);
	T_EQ(err, -SHMKIT_EPEERDEAD);
	__shmkit_chan_sleep_slice_ns = -1;
	T_OK(shmkit_inbox_open(c.name, 0, &ib));
	for (uint64_t k = 4; k < 10; k++) {
		T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
		T_PAYLOAD(buf, len, k);
	}
	/* the producer goes on with the new consumer */
	T_OK(shmkit_chan_send(p, "again", 5, 0));
	do {
		T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
		T_ASSERT(len == 2000 || len == 5);
	} while (len != 5);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_inbox_close(ib));
}

/* A lane's ring forged: that lane is reported once, the others go on. */
static void corrupt_lane(void)
{
	struct shmkit_chan *p[3];
	struct shmkit_inbox *ib;
	struct shmkit_map map;
	char name[64], buf[512];
	size_t len;
	uint64_t *word;

	t_name(name, sizeof(name), "ib-corrupt");
	T_OK(t_track(shmkit_inbox_create(name, 3, 4096, SHMKIT_MODE_DEFAULT, 0)));
	for (int i = 0; i < 3; i++)
		T_OK(shmkit_inbox_join(name, 0, &p[i]));
	T_OK(shmkit_inbox_open(name, 0, &ib));
	T_OK(shmkit_chan_send(p[0], "a", 1, 0));
	T_OK(shmkit_chan_send(p[2], "c", 1, 0));
	/* lane 1: a marked header claiming more than a lane can hold */
	T_OK(shmkit_seg_attach(shmid_of(name), 0, &map));
	word = (uint64_t *)(void *)((char *)map.base + SHMKIT_INBOX_LANES_OFFSET +
				    1 * (SHMKIT_INBOX_LANE_HDR + 4096) + SHMKIT_INBOX_LANE_HDR);
	*word = (uint64_t)SHMKIT_REC_MARK << 32 | 100000;
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_EQ(shmkit_inbox_from(ib), 0);
	T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	T_EQ(shmkit_inbox_from(ib), 1);
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_EQ(shmkit_inbox_from(ib), 2);
	T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -EAGAIN);
	T_OK(shmkit_chan_send(p[0], "a2", 2, 0));
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_EQ(shmkit_inbox_from(ib), 0);
	T_OK(shmkit_seg_detach(&map));
	for (int i = 0; i < 3; i++)
		shmkit_chan_close(p[i]);
	T_OK(shmkit_inbox_close(ib));
}

struct late {
	char name[64];
};

static int join_late(void *arg)
{
	struct late *l = arg;
	struct shmkit_chan *p;

	usleep(30000);
	if (shmkit_inbox_join(l->name, 0, &p) < 0 || shmkit_chan_send(p, "late", 4, -1) < 0)
		return 1;
	return shmkit_chan_close(p) < 0 ? 2 : 0;
}

/* An inbox and a channel in one wait set; the set sleeps until a producer joins. */
static void in_waitset(void)
{
	struct shmkit_waitset *ws;
	struct shmkit_event ev[2];
	struct shmkit_inbox *ib;
	struct shmkit_chan *cp, *cc;
	struct late l;
	char chan[64], buf[64];
	size_t len;
	pid_t pid;

	t_name(l.name, sizeof(l.name), "ib-ws");
	T_OK(t_track(shmkit_inbox_create(l.name, 2, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_inbox_open(l.name, 0, &ib));
	T_OK(t_track(shmkit_chan_create(t_name(chan, sizeof(chan), "ib-ws-c"), 4096,
					SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(chan, SHMKIT_PRODUCER, &cp));
	T_OK(shmkit_chan_open(chan, SHMKIT_CONSUMER, &cc));
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_set_spin(ws, 0));
	T_OK(shmkit_waitset_add_inbox(ws, ib, ib));
	T_OK(shmkit_waitset_add_chan(ws, cc, 0, cc));
	T_EQ(shmkit_waitset_add_inbox(ws, ib, NULL), -EEXIST);
	T_EQ(shmkit_waitset_wait(ws, ev, 2, 0), -EAGAIN);
	pid = t_fork(join_late, &l);
	T_EQ(shmkit_waitset_wait(ws, ev, 2, -1), 1);
	T_ASSERT(ev[0].udata == ib);
	T_EQ(ev[0].status, 0);
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_EQ(len, 4);
	T_EQ(t_wait(pid), 0);
	T_OK(shmkit_chan_send(cp, "c", 1, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, 2, -1), 1);
	T_ASSERT(ev[0].udata == cc);
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_chan_close(cp));
	T_OK(shmkit_chan_close(cc));
	T_OK(shmkit_inbox_close(ib));
}

int main(void)
{
	__shmkit_chan_sleep_slice_ns = -1;
	basics();
	corrupt_lane();
	producer_killed();
	consumer_killed();
	in_waitset();
	stream();
	return 0;
}
