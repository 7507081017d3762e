/*
 * Topics: the API's contract in one process (shape checks, fan-out, the
 * block policy holding the publisher, history, overwrite with exact loss
 * counts, a peeked message overwritten, end of stream, a new publisher),
 * then across processes: a publisher and three subscribers streaming
 * messages of random sizes, every byte checked, under both policies, and
 * a subscriber killed while it holds a block-policy publisher back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static int make_topic(const char *name, size_t max_msg, uint32_t slots, uint32_t history,
		      int policy)
{
	struct shmkit_topic_params p = { .max_msg = max_msg, .slots = slots, .max_subs = 8,
					 .history = history, .policy = policy };

	return t_track(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0));
}

static void send_tag(struct shmkit_pub *p, uint64_t tag, size_t len)
{
	unsigned char buf[256];

	payload_fill(buf, len, tag);
	T_OK(shmkit_pub_send(p, buf, len, 0));
}

static void recv_tag(struct shmkit_sub *s, uint64_t tag)
{
	unsigned char buf[256];
	size_t len;

	T_OK(shmkit_sub_recv(s, buf, sizeof(buf), &len, 0));
	T_PAYLOAD(buf, len, tag);
}

static void shapes(void)
{
	struct shmkit_topic_params p = { .max_msg = 100, .slots = 5, .max_subs = 4,
					 .history = 2, .policy = SHMKIT_TOPIC_BLOCK };
	struct shmkit_pub *pub, *again;
	struct shmkit_sub *sub;
	char name[64], chan[64];
	int id;

	t_name(name, sizeof(name), "shape");
	/* out of bounds: each field alone */
	p.max_msg = 0;
	T_EQ(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	p.max_msg = 100, p.slots = 0;
	T_EQ(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	p.slots = 5, p.max_subs = 0;
	T_EQ(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	p.max_subs = 4, p.history = 7;	/* 5 slots are 8: history at most 6 */
	T_EQ(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	p.history = 6, p.policy = 0;
	T_EQ(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_EQ(shmkit_topic_create(name, NULL, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_ASSERT(!t_name_exists(name));

	p.policy = SHMKIT_TOPIC_BLOCK;
	id = t_track(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	/* create-or-open takes the existing topic, whatever shape is asked */
	p.max_msg = 5000;
	T_EQ(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, 0), id);
	T_EQ(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);

	/* one publisher; subscribers up to max_subs */
	T_OK(shmkit_pub_open(name, 0, &pub));
	T_EQ(shmkit_pub_open(name, 0, &again), -EBUSY);
	T_EQ(shmkit_pub_open(name, 1u << 9, &again), -EINVAL);
	{
		struct shmkit_sub *subs[4];

		for (int i = 0; i < 4; i++)
			T_OK(shmkit_sub_open(name, 0, &subs[i]));
		T_EQ(shmkit_sub_open(name, 0, &sub), -EBUSY);
		T_OK(shmkit_sub_close(subs[2]));
		T_OK(shmkit_sub_open(name, 0, &sub));	/* a freed place */
		subs[2] = sub;
		for (int i = 0; i < 4; i++)
			T_OK(shmkit_sub_close(subs[i]));
	}
	/* too large for a slot; the slot holds max_msg rounded up */
	{
		static unsigned char big[4096];

		T_EQ(shmkit_pub_send(pub, big, 4096, 0), -EMSGSIZE);
		T_OK(shmkit_pub_send(pub, big, 100, 0));
	}
	T_OK(shmkit_pub_close(pub));

	/* a channel is no topic, and a topic no channel */
	t_name(chan, sizeof(chan), "notopic");
	T_OK(t_track(shmkit_chan_create(chan, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_EQ(shmkit_pub_open(chan, 0, &pub), -SHMKIT_ENOTTOPIC);
	T_EQ(shmkit_sub_open(chan, 0, &sub), -SHMKIT_ENOTTOPIC);
	T_EQ(shmkit_topic_create(chan, &p, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ENOTTOPIC);
	T_EQ(shmkit_topic_destroy(chan), -SHMKIT_ENOTTOPIC);
	T_EQ(shmkit_chan_open(name, SHMKIT_PRODUCER, &(struct shmkit_chan *){ NULL }),
	     -SHMKIT_ENOTCHAN);
	T_OK(shmkit_topic_destroy(name));
	T_ASSERT(!t_name_exists(name));
}

/* Block policy: each message once for all; the slowest subscriber holds. */
static void fan_out_block(void)
{
	struct shmkit_pub *p;
	struct shmkit_sub *s[3];
	char name[64];
	uint64_t tag = 0, got[3] = { 0, 0, 0 };

	t_name(name, sizeof(name), "block");
	T_OK(make_topic(name, 200, 8, 2, SHMKIT_TOPIC_BLOCK));
	T_OK(shmkit_pub_open(name, 0, &p));
	T_EQ(shmkit_pub_subscribers(p), 0);
	for (int i = 0; i < 3; i++)
		T_OK(shmkit_sub_open(name, 0, &s[i]));
	T_EQ(shmkit_pub_subscribers(p), 3);
	T_EQ(shmkit_pub_subscribers(NULL), -EINVAL);

	/* nobody has read: the ring fills, then the publisher must wait */
	for (; tag < 8; tag++)
		send_tag(p, tag, (size_t)(tag * 25));
	T_EQ(shmkit_pub_send(p, "x", 1, 0), -EAGAIN);
	T_EQ(shmkit_pub_send(p, "x", 1, 30), -ETIMEDOUT);
	/* two read it all, the third one message: room for exactly one */
	for (int i = 0; i < 2; i++)
		for (; got[i] < 8; got[i]++)
			recv_tag(s[i], got[i]);
	recv_tag(s[2], got[2]++);
	send_tag(p, tag++, 7);
	T_EQ(shmkit_pub_send(p, "x", 1, 0), -EAGAIN);
	/* the slow one leaves: nothing holds the publisher back for a ring */
	T_OK(shmkit_sub_close(s[2]));
	for (int k = 0; k < 7; k++)
		send_tag(p, tag++, 64);
	T_EQ(shmkit_pub_send(p, "x", 1, 0), -EAGAIN);
	for (int i = 0; i < 2; i++)
		for (; got[i] < tag; got[i]++)
			recv_tag(s[i], got[i]);
	T_EQ(shmkit_sub_recv(s[0], NULL, 0, &(size_t){ 0 }, 0), -EAGAIN);

	/* an empty message, by NULL both ways (no memcpy of NULL: UBSan) */
	{
		size_t len = 1;

		T_OK(shmkit_pub_send(p, NULL, 0, 0));
		tag++;
		for (int i = 0; i < 2; i++) {
			T_OK(shmkit_sub_recv(s[i], NULL, 0, &len, 0));
			T_EQ(len, 0);
			got[i]++;
		}
	}
	/* a reserve that fails drops the one before, as on channels */
	{
		void *w;

		T_OK(shmkit_pub_reserve(p, 10, &w, 0));
		T_EQ(shmkit_pub_reserve(p, 241, &w, 0), -EMSGSIZE);	/* max_msg: 240 */
		T_EQ(shmkit_pub_commit(p, 10), -EINVAL);
	}

	/* a message too large for the buffer stays in place */
	send_tag(p, tag++, 100);
	{
		unsigned char small[10], buf[256];
		size_t len = 0;

		T_EQ(shmkit_sub_recv(s[0], small, sizeof(small), &len, 0), -EMSGSIZE);
		T_EQ(len, 100);
		T_OK(shmkit_sub_recv(s[0], buf, sizeof(buf), &len, 0));
		T_PAYLOAD(buf, len, tag - 1);
	}
	recv_tag(s[1], tag - 1);

	/* zero copy: peek holds the slot under block policy */
	{
		void *w;
		const void *r;
		size_t len;

		T_OK(shmkit_pub_reserve(p, 50, &w, 0));
		payload_fill(w, 40, tag);
		T_OK(shmkit_pub_commit(p, 40));
		T_OK(shmkit_sub_peek(s[0], &r, &len, 0));
		T_EQ(len, 40);
		T_PAYLOAD(r, len, tag);
		T_OK(shmkit_sub_peek(s[0], &r, &len, 0));	/* the same again */
		T_PAYLOAD(r, len, tag);
		T_OK(shmkit_sub_release(s[0]));
		T_EQ(shmkit_sub_release(s[0]), -EINVAL);
		recv_tag(s[1], tag++);
	}

	/* end of stream after the last message */
	send_tag(p, tag++, 3);
	T_OK(shmkit_pub_close(p));
	for (int i = 0; i < 2; i++) {
		recv_tag(s[i], tag - 1);
		T_EQ(shmkit_sub_recv(s[i], NULL, 0, &(size_t){ 0 }, 0), -SHMKIT_EEOF);
		T_EQ(shmkit_sub_recv(s[i], NULL, 0, &(size_t){ 0 }, 100), -SHMKIT_EEOF);
	}
	/* a new publisher goes on with the next number */
	T_OK(shmkit_pub_open(name, 0, &p));
	send_tag(p, tag, 9);
	for (int i = 0; i < 2; i++) {
		recv_tag(s[i], tag);
	}
	/* one that fails says so: what came is not the whole stream */
	send_tag(p, tag + 1, 5);
	T_OK(shmkit_pub_abort(p));
	for (int i = 0; i < 2; i++) {
		recv_tag(s[i], tag + 1);
		T_EQ(shmkit_sub_recv(s[i], NULL, 0, &(size_t){ 0 }, 0), -SHMKIT_EABORTED);
		T_OK(shmkit_sub_close(s[i]));
	}
	T_EQ(shmkit_pub_abort(NULL), -EINVAL);
}

/* History: a late subscriber may start up to history messages back. */
static void history(void)
{
	struct shmkit_pub *p;
	struct shmkit_sub *old, *next;
	char name[64];

	t_name(name, sizeof(name), "hist");
	T_OK(make_topic(name, 64, 8, 3, SHMKIT_TOPIC_BLOCK));
	T_OK(shmkit_pub_open(name, 0, &p));
	T_OK(shmkit_sub_open(name, SHMKIT_FROM_OLDEST, &old));	/* nothing yet: from 0 */
	send_tag(p, 0, 8);
	send_tag(p, 1, 8);
	recv_tag(old, 0);
	recv_tag(old, 1);
	T_OK(shmkit_sub_close(old));
	/* no subscriber: nothing holds the publisher */
	for (uint64_t t = 2; t < 20; t++)
		send_tag(p, t, 16);
	T_OK(shmkit_sub_open(name, SHMKIT_FROM_OLDEST, &old));
	T_OK(shmkit_sub_open(name, 0, &next));
	T_EQ(shmkit_sub_recv(next, NULL, 0, &(size_t){ 0 }, 0), -EAGAIN);
	for (uint64_t t = 17; t < 20; t++)
		recv_tag(old, t);
	send_tag(p, 20, 16);
	recv_tag(old, 20);
	recv_tag(next, 20);
	T_EQ(shmkit_sub_lost(old), 0);
	T_OK(shmkit_sub_close(old));
	T_OK(shmkit_sub_close(next));
	T_OK(shmkit_pub_close(p));
}

/* Overwrite: the publisher never waits; a slow subscriber is told what it lost. */
static void overwrite(void)
{
	struct shmkit_pub *p;
	struct shmkit_sub *slow, *fast;
	const void *r;
	size_t len;
	char name[64];
	uint64_t t;

	t_name(name, sizeof(name), "over");
	T_OK(make_topic(name, 128, 8, 0, SHMKIT_TOPIC_OVERWRITE));
	T_OK(shmkit_pub_open(name, 0, &p));
	T_OK(shmkit_sub_open(name, 0, &slow));
	T_OK(shmkit_sub_open(name, 0, &fast));
	for (t = 0; t < 30; t++) {
		send_tag(p, t, (size_t)(t % 17) * 7);
		recv_tag(fast, t);
	}
	/* 30 published, 8 slots: 23 lost, then 23 .. 29 (22 may be torn) */
	T_EQ(shmkit_sub_recv(slow, NULL, 0, &len, 0), -SHMKIT_ELOST);
	T_EQ(shmkit_sub_lost(slow), 23);
	for (t = 23; t < 30; t++)
		recv_tag(slow, t);
	T_EQ(shmkit_sub_recv(slow, NULL, 0, &len, 0), -EAGAIN);

	/* a peeked message overwritten while held: release says so */
	send_tag(p, 30, 50);
	T_OK(shmkit_sub_peek(slow, &r, &len, 0));
	T_PAYLOAD(r, len, 30);
	for (t = 31; t < 40; t++)
		send_tag(p, t, 50);
	T_EQ(shmkit_sub_release(slow), -SHMKIT_ELOST);
	/* 40 published: 33 .. 39 held whole (32's slot is the next one written) */
	T_EQ(shmkit_sub_lost(slow), 23 + 3);
	for (t = 33; t < 40; t++)
		recv_tag(slow, t);
	T_OK(shmkit_pub_close(p));
	T_EQ(shmkit_sub_recv(slow, NULL, 0, &len, 0), -SHMKIT_EEOF);
	T_OK(shmkit_sub_close(slow));
	T_OK(shmkit_sub_close(fast));
}

/*
 * The segment's state: a topic is marked as one, and one nobody attached
 * that keeps a history to read is pending, which gc keeps.
 */
static void in_the_listing(void)
{
	struct shmkit_seg_info si;
	struct shmkit_pub *p;
	char name[64], flat[64], *out = NULL, *err = NULL;
	int id, flat_id;

	id = make_topic(t_name(name, sizeof(name), "kept"), 64, 8, 4, SHMKIT_TOPIC_BLOCK);
	flat_id = make_topic(t_name(flat, sizeof(flat), "flat"), 64, 8, 0, SHMKIT_TOPIC_BLOCK);
	T_OK(id);
	T_OK(flat_id);
	T_OK(shmkit_seg_stat(id, &si));
	T_ASSERT(si.flags & SHMKIT_INFO_TOPIC);
	T_ASSERT(!(si.flags & SHMKIT_INFO_CHANNEL));
	T_ASSERT(si.state != SHMKIT_STATE_PENDING);	/* nothing published yet */
	for (int k = 0; k < 2; k++) {
		T_OK(shmkit_pub_open(k ? flat : name, 0, &p));
		send_tag(p, 1, 10);
		T_OK(shmkit_pub_close(p));
	}
	T_OK(shmkit_seg_stat(id, &si));
	T_EQ(si.state, SHMKIT_STATE_PENDING);
	T_OK(shmkit_seg_stat(flat_id, &si));
	T_ASSERT(si.state != SHMKIT_STATE_PENDING);	/* no history: nothing to get */
	T_EQ(t_cli(&out, &err, "ls", NULL), 0);
	T_STR_CONTAINS(out, ",topic");
	free(out);
	free(err);
	/* gc keeps a pending topic, unless told an age for pending ones */
	T_EQ(t_cli(&out, &err, "gc", NULL), 0);
	free(out);
	free(err);
	T_ASSERT(t_name_exists(name));
	T_EQ(t_cli(&out, &err, "gc", "--pending", "0", NULL), 0);
	free(out);
	free(err);
	T_ASSERT(!t_name_exists(name));
	T_ASSERT(t_name_exists(flat));	/* idle: its creator (we) still runs */
}

/* shmkit_topic_info and shmkit stat: the publisher, and each subscriber's lag. */
static void in_stat(void)
{
	struct shmkit_topic_info info;
	struct shmkit_topic_sub_info subs[4];
	struct shmkit_pub *p;
	struct shmkit_sub *a, *b;
	char name[64], *out = NULL, *err = NULL;
	int id;

	id = make_topic(t_name(name, sizeof(name), "stat"), 64, 8, 0, SHMKIT_TOPIC_OVERWRITE);
	T_OK(id);
	T_OK(shmkit_pub_open(name, 0, &p));
	T_OK(shmkit_sub_open(name, 0, &a));
	T_OK(shmkit_sub_open(name, 0, &b));
	for (uint64_t t = 0; t < 3; t++) {
		send_tag(p, t, 20);
		recv_tag(a, t);
	}
	T_OK(shmkit_topic_info(id, &info, subs, 4));
	T_EQ(info.slots, 8);
	T_EQ(info.policy, SHMKIT_TOPIC_OVERWRITE);
	T_EQ(info.published, 3);
	T_EQ(info.bytes, 60);
	T_EQ(info.pub_pid, getpid());
	T_ASSERT(info.pub_alive && !info.pub_closed);
	T_EQ(info.nsubs, 2);
	T_EQ(subs[0].lag + subs[1].lag, 3);	/* one has read all three, one none */
	T_EQ(subs[0].msgs + subs[1].msgs, 3);
	T_ASSERT(subs[0].alive && subs[1].alive);
	T_OK(shmkit_topic_info(id, &info, NULL, 0));	/* counts only */
	T_EQ(info.nsubs, 2);
	T_EQ(shmkit_topic_info(id, NULL, NULL, 0), -EINVAL);

	T_EQ(t_cli(&out, &err, "stat", "-n", name, NULL), 0);
	T_STR_CONTAINS(out, "topic:");
	T_STR_CONTAINS(out, "published:  3 messages, 60 bytes");
	T_STR_CONTAINS(out, "subscribers: 2");
	T_STR_CONTAINS(out, "lag 3");
	free(out);
	free(err);
	T_EQ(t_sh(&out, &err, "%s stat --json -n %s | python3 -c 'import json, sys; "
		  "t = json.load(sys.stdin)[\"topic_info\"]; "
		  "print(t[\"published\"], sorted(s[\"lag\"] for s in t[\"subscribers\"]))'",
		  getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit", name), 0);
	T_STR_CONTAINS(out, "3 [0, 3]");
	free(out);
	free(err);
	T_OK(shmkit_sub_close(a));
	T_OK(shmkit_sub_close(b));
	T_OK(shmkit_pub_close(p));
}

/*
 * A topic another user owns is refused, as a channel is: its owner could
 * read or forge the stream. SHMKIT_SHARED takes it on purpose. Needs root
 * to hand the segment to nobody (65534); run.sh runs the tests as root.
 */
static void foreign(void)
{
	struct shmkit_topic_params tp = { .max_msg = 64, .slots = 4, .max_subs = 2,
					  .policy = SHMKIT_TOPIC_BLOCK };
	struct shmkit_pub *p;
	struct shmkit_sub *s;
	struct shmid_ds ds;
	char name[64];
	int id;

	if (geteuid() != 0) {
		printf("  (not root: a foreign topic not tried)\n");
		return;
	}
	id = make_topic(t_name(name, sizeof(name), "foreign"), 64, 4, 0, SHMKIT_TOPIC_BLOCK);
	T_OK(id);
	T_EQ(shmctl(id, IPC_STAT, &ds), 0);
	ds.shm_perm.uid = 65534;
	T_EQ(shmctl(id, IPC_SET, &ds), 0);
	T_EQ(shmkit_pub_open(name, 0, &p), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_sub_open(name, 0, &s), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_topic_create(name, &tp, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_EUNTRUSTED);
	T_EQ(shmkit_topic_create(name, &tp, SHMKIT_MODE_DEFAULT, SHMKIT_SHARED), id);
	T_OK(shmkit_pub_open(name, SHMKIT_SHARED, &p));
	T_OK(shmkit_sub_open(name, SHMKIT_SHARED, &s));
	send_tag(p, 5, 30);
	recv_tag(s, 5);
	T_OK(shmkit_sub_close(s));
	T_OK(shmkit_pub_close(p));
}

/* ------------------------------------------------------ across processes */

#define SUBS 3

static size_t size_of(uint64_t tag, size_t max)
{
	/* sizes from 8 (a tag to check by) to max, odd tails included */
	return 8 + (size_t)((tag * 2654435761u) >> 7) % (max - 7);
}

/* Waits for n children to say (one byte each on fd) that they have joined. */
static void joined(int fd, int n)
{
	char c;

	for (int i = 0; i < n; i++)
		T_EQ(read(fd, &c, 1), 1);
}

/*
 * A subscriber process: says on ready when it has joined, checks every
 * message, and writes what it got and lost to fd.
 */
static _Noreturn void subscriber(const char *name, int ready, int fd, int slow)
{
	struct shmkit_sub *s;
	static unsigned char buf[4096];
	uint64_t got = 0, expect = 0, counts[2];
	size_t len;
	int r;

	if (shmkit_sub_open(name, SHMKIT_FROM_OLDEST, &s) < 0 || write(ready, "j", 1) != 1)
		_exit(10);
	for (;;) {
		r = shmkit_sub_recv(s, buf, sizeof(buf), &len, 10000);
		if (r == -SHMKIT_EEOF)
			break;
		if (r == -SHMKIT_ELOST)
			continue;
		if (r < 0)
			_exit(11);
		if (payload_check(buf, len, payload_tag(buf, len)) || len != size_of(payload_tag(buf, len), 2048))
			_exit(12);
		/* in order, never twice: a tag below the last seen is a repeat */
		if (payload_tag(buf, len) < expect)
			_exit(13);
		expect = payload_tag(buf, len) + 1;
		got++;
		if (slow && got % 64 == 0)
			usleep(200);
	}
	counts[0] = got;
	counts[1] = shmkit_sub_lost(s);
	if (write(fd, counts, sizeof(counts)) != sizeof(counts))
		_exit(14);
	shmkit_sub_close(s);
	_exit(0);
}

static void stream(int policy, uint64_t n)
{
	struct shmkit_pub *p;
	static unsigned char buf[4096];
	char name[64];
	int fds[2], ready[2], st;
	pid_t kids[SUBS];
	uint64_t counts[2];

	t_name(name, sizeof(name), policy == SHMKIT_TOPIC_BLOCK ? "sblock" : "sover");
	T_OK(make_topic(name, 2048, 64, 0, policy));
	T_OK(pipe(fds));
	T_OK(pipe(ready));
	for (int i = 0; i < SUBS; i++)
		if ((kids[i] = t_child()) == 0)
			subscriber(name, ready[1], fds[1], i == 0);
	/* every subscriber has joined (from the oldest: message 0) before we start */
	joined(ready[0], SUBS);
	close(ready[0]);
	close(ready[1]);
	T_OK(shmkit_pub_open(name, 0, &p));
	for (uint64_t t = 0; t < n; t++) {
		size_t len = size_of(t, 2048);

		payload_fill(buf, len, t);
		T_OK(shmkit_pub_send(p, buf, len, 10000));
		/* overwrite never waits: pause now and then, so that the
		   subscribers read most messages and race for the rest */
		if (policy == SHMKIT_TOPIC_OVERWRITE && t % 64 == 63)
			usleep(50);
	}
	T_OK(shmkit_pub_close(p));
	for (int i = 0; i < SUBS; i++) {
		T_EQ(waitpid(kids[i], &st, 0), kids[i]);
		T_ASSERT(WIFEXITED(st));
		T_EQ(WEXITSTATUS(st), 0);
		T_EQ(read(fds[0], counts, sizeof(counts)), sizeof(counts));
		if (policy == SHMKIT_TOPIC_BLOCK) {
			T_EQ(counts[0], n);
			T_EQ(counts[1], 0);
		} else {
			T_EQ(counts[0] + counts[1], n);
		}
		printf("  %s: a subscriber got %llu, lost %llu\n",
		       policy == SHMKIT_TOPIC_BLOCK ? "block" : "overwrite",
		       (unsigned long long)counts[0], (unsigned long long)counts[1]);
	}
	close(fds[0]);
	close(fds[1]);
}

/* A subscriber killed while it holds a block-policy publisher: dropped. */
static void dead_subscriber(void)
{
	struct shmkit_pub *p;
	struct shmkit_sub *s;
	char name[64], buf[8];
	int st, ready[2];
	pid_t kid;
	uint64_t start;

	t_name(name, sizeof(name), "dead");
	T_OK(make_topic(name, 64, 8, 0, SHMKIT_TOPIC_BLOCK));
	T_OK(shmkit_pub_open(name, 0, &p));
	T_OK(pipe(ready));
	if ((kid = t_child()) == 0) {
		if (shmkit_sub_open(name, 0, &s) < 0 || write(ready[1], "j", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	joined(ready[0], 1);
	close(ready[0]);
	close(ready[1]);
	T_OK(shmkit_sub_open(name, 0, &s));
	for (int t = 0; t < 8; t++)
		T_OK(shmkit_pub_send(p, "y", 1, 0));
	for (int t = 0; t < 8; t++)
		T_OK(shmkit_sub_recv(s, buf, sizeof(buf), &(size_t){ 0 }, 0));
	/* we have read all eight: only the child holds the publisher */
	T_EQ(shmkit_pub_send(p, "y", 1, 0), -EAGAIN);
	T_EQ(shmkit_pub_subscribers(p), 2);
	T_OK(kill(kid, SIGKILL));
	T_EQ(waitpid(kid, &st, 0), kid);
	/* its place is still held, but not by anyone alive */
	T_EQ(shmkit_pub_subscribers(p), 1);
	/* our own subscriber reads on; the dead one is dropped within the check */
	start = t_now_ns();
	T_OK(shmkit_pub_send(p, "z", 1, 2000));
	/* dropped at the publisher's next look for the dead: 20 ms apart */
	T_ASSERT(t_now_ns() - start < 1000000000u);
	T_OK(shmkit_sub_recv(s, buf, sizeof(buf), &(size_t){ 0 }, 0));
	T_EQ(buf[0], 'z');
	T_OK(shmkit_sub_close(s));
	T_OK(shmkit_pub_close(p));
}

/*
 * Joins racing a publisher that never waits: with 4 slots it publishes
 * more than the ring between a joiner's two looks at published whenever
 * the joiner is slowed there (preempted, or under valgrind). That is no
 * corruption: every join succeeds, and the first read counts what went
 * by as lost (a join once said -SHMKIT_ECORRUPT here, under load).
 */
static void join_races_overwrite(void)
{
	uint64_t joins = t_scale(20000) < 200 ? 200 : t_scale(20000), i;
	struct shmkit_sub *s;
	char name[64], buf[8];
	size_t len;
	pid_t kid;
	int r;

	t_name(name, sizeof(name), "race");
	T_OK(make_topic(name, 8, 4, 0, SHMKIT_TOPIC_OVERWRITE));
	if ((kid = t_child()) == 0) {
		struct shmkit_pub *p;

		if (shmkit_pub_open(name, 0, &p) < 0)
			_exit(1);
		for (;;)
			shmkit_pub_send(p, "", 0, 0);
	}
	for (i = 0; i < joins; i++) {
		T_OK(shmkit_sub_open(name, 0, &s));
		r = shmkit_sub_recv(s, buf, sizeof(buf), &len, 1000);
		T_ASSERT(r == 0 || r == -SHMKIT_ELOST);
		T_OK(shmkit_sub_close(s));
	}
	kill(kid, SIGKILL);
	T_EQ(t_wait(kid), 128 + SIGKILL);
}

struct yielder {
	const char *name;
	int shmid, cpu, shares;	/* shares: another side is pinned to cpu too */
	uint64_t n;
};

/*
 * A subscriber pinned to y->cpu that reads n messages, each of which it
 * waits for (they come slowly, so it spins before it sleeps), then says
 * by its exit status whether its yields are as they should be: some when
 * another side shares its cpu, none when none does.
 */
static int yield_sub(void *arg)
{
	const struct yielder *y = arg;
	struct shmkit_topic_sub_info subs[8];
	struct shmkit_topic_info info;
	struct shmkit_sub *s;
	uint64_t yields = UINT64_MAX;

	if (t_pin(y->cpu) < 0 || shmkit_sub_open(y->name, 0, &s) < 0)
		return 2;
	for (uint64_t t = 0; t < y->n; t++) {
		char buf[64];
		size_t len;

		if (shmkit_sub_recv(s, buf, sizeof(buf), &len, 10000) < 0)
			return 3;
	}
	if (shmkit_topic_info(y->shmid, &info, subs, 8) < 0)
		return 4;
	for (uint32_t i = 0; i < info.nsubs && i < 8; i++)
		if (subs[i].pid == getpid())
			yields = subs[i].yields;
	shmkit_sub_close(s);
	printf("a subscriber on cpu %d%s: %llu yields in %llu waits\n", y->cpu,
	       y->shares ? " with another" : " alone", (unsigned long long)yields,
	       (unsigned long long)y->n);
	fflush(stdout);
	if (yields == UINT64_MAX)
		return 5;
	return y->shares ? !(yields > 0) : yields != 0;
}

/*
 * Sides that share a cpu take turns: two subscribers pinned to one cpu
 * each yield while they spin for a message; one alone on its cpu (the
 * publisher on another) never does.
 */
static void sharing_a_cpu(void)
{
	struct yielder y[2];
	struct shmkit_pub *p;
	cpu_set_t set;
	char name[64];
	int cpus[2], ncpu = 0, id;
	pid_t kids[2];

	T_OK(sched_getaffinity(0, sizeof(set), &set));
	for (int c = 0; c < CPU_SETSIZE && ncpu < 2; c++)
		if (CPU_ISSET(c, &set))
			cpus[ncpu++] = c;
	for (int alone = 0; alone < 2; alone++) {
		int nsubs = alone ? 1 : 2;

		if (alone && ncpu < 2) {
			printf("one cpu: no subscriber can be alone on one\n");
			break;
		}
		id = make_topic(t_name(name, sizeof(name), "cpu"), 64, 16, 0, SHMKIT_TOPIC_BLOCK);
		T_OK(id);
		/* the publisher on the first cpu, the subscribers on the last */
		T_OK(t_pin(cpus[0]));
		T_OK(shmkit_pub_open(name, 0, &p));
		for (int i = 0; i < nsubs; i++) {
			y[i] = (struct yielder){ .name = name, .shmid = id, .cpu = cpus[ncpu - 1],
						 .shares = !alone, .n = 100 };
			kids[i] = t_fork(yield_sub, &y[i]);
		}
		while (shmkit_pub_subscribers(p) < nsubs)
			usleep(1000);
		for (uint64_t t = 0; t < 100; t++) {
			unsigned char buf[16];

			usleep(1000);	/* longer than a spin's first yield (20 us) */
			payload_fill(buf, sizeof(buf), t);
			/* may wait: two subscribers on one cpu under valgrind
			   once fell the whole ring (16) behind */
			T_OK(shmkit_pub_send(p, buf, sizeof(buf), 10000));
		}
		for (int i = 0; i < nsubs; i++)
			T_EQ(t_wait(kids[i]), 0);
		T_OK(shmkit_pub_close(p));
		T_OK(shmkit_topic_destroy(name));
	}
	CPU_ZERO(&set);
	for (int c = 0; c < ncpu; c++)
		CPU_SET(cpus[c], &set);
	T_OK(sched_setaffinity(0, sizeof(set), &set));
}

int main(void)
{
	uint64_t n = t_scale(200000);

	if (n < 1000)
		n = 1000;
	shapes();
	fan_out_block();
	history();
	overwrite();
	in_the_listing();
	in_stat();
	sharing_a_cpu();
	foreign();
	stream(SHMKIT_TOPIC_BLOCK, n);
	stream(SHMKIT_TOPIC_OVERWRITE, n);
	dead_subscriber();
	join_races_overwrite();
	return 0;
}
