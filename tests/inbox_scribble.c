/*
 * Never trust an inbox's segment. First crafted corruptions, one at a
 * time, each with the exact result it must give: the inbox header's
 * shape (lanes 0, above 1024, more than the segment holds, fewer than it
 * was made with; lane_cap not a power of two, under a page, too big;
 * unknown flags; magic, version, hdr_size), lanes_used out of range
 * (clamped to the lanes, never an index past them), a lane's ring, its
 * positions or its header spoiled (that lane is reported once and
 * skipped, the others are served, at open as while running), a lane's
 * owner word naming a live process, the consumer's sleep block, and on a
 * service a request too short for its header and the epoch word.
 *
 * Then a scribbler writes random and crafted values over an inbox's
 * segment (its header, lane headers, positions, records, epoch words,
 * the consumer's sleep block) while two producers and a consumer work it,
 * and then over a service's while a client and a server do; every call
 * has a short timeout. Calls may fail (-SHMKIT_ECORRUPT, timeouts,
 * -EPIPE, ...), but must return within their timeout and a margin; every
 * pointer handed out must lie inside its lane's ring, with its whole
 * length; nobody may crash. shmkit_inbox_info and the command's stat read
 * the scribbled segment too. Under SANITIZE=1 or valgrind an access
 * outside the segment, or past the library's arrays, shows as well.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "inbox.h"
#include "owner.h"
#include "waitset.h"

#define CAP 4096u		/* every lane's ring */
#define MAX_MSG (CAP / 2)
#define LANES 4

/* An inbox (or service) made for one case, with a raw mapping of our own. */
struct seg {
	char name[64];
	int shmid;
	struct shmkit_map map;
	struct __shmkit_inbox_hdr *h;
	struct __shmkit_inbox_shape sh;	/* as made */
};

static void seg_make(struct seg *s, const char *tag, unsigned lanes, int service)
{
	t_name(s->name, sizeof(s->name), tag);
	s->shmid = t_track(service ? shmkit_service_create(s->name, lanes, CAP, SHMKIT_MODE_DEFAULT, 0)
			   : shmkit_inbox_create(s->name, lanes, CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(s->shmid);
	T_OK(shmkit_seg_attach(s->shmid, 0, &s->map));
	s->h = s->map.data;
	s->sh = (struct __shmkit_inbox_shape){ .lanes = lanes, .lane_cap = CAP,
					       .flags = service ? SHMKIT_INBOX_REPLIES : 0 };
}

static void seg_done(struct seg *s)
{
	T_OK(shmkit_seg_detach(&s->map));
	T_OK(shmkit_seg_remove(s->shmid));
}

static struct __shmkit_chan_hdr *lane(struct seg *s, uint32_t i, int reply)
{
	return __shmkit_inbox_lane(s->map.base, &s->sh, i, reply);
}

static unsigned char *ring(struct seg *s, uint32_t i, int reply)
{
	return __shmkit_inbox_ring(s->map.base, &s->sh, i, reply);
}

/* A message of tag from p, 40 bytes. */
static void send_tag(struct shmkit_chan *p, uint64_t tag)
{
	unsigned char buf[40];

	payload_fill(buf, sizeof(buf), tag);
	T_OK(shmkit_chan_send(p, buf, sizeof(buf), 0));
}

/* The next message must be tag, from lane. */
static void recv_tag(struct shmkit_inbox *ib, uint64_t tag, int from)
{
	unsigned char buf[MAX_MSG];
	size_t len;

	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
	T_EQ(len, 40);
	T_PAYLOAD(buf, len, tag);
	T_EQ(shmkit_inbox_from(ib), from);
}

static void expect_empty(struct shmkit_inbox *ib)
{
	unsigned char buf[MAX_MSG];
	size_t len;

	T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -EAGAIN);
}

/* Every way in gives err: join, open, info; a service's open and client too. */
static void refused(struct seg *s, int err)
{
	struct shmkit_inbox_info info;
	struct shmkit_inbox *ib;
	struct shmkit_chan *p;
	struct shmkit_service *srv;
	struct shmkit_client *cl;

	T_EQ(shmkit_inbox_join(s->name, 0, &p), err);
	T_EQ(shmkit_inbox_open(s->name, 0, &ib), err);
	T_EQ(shmkit_inbox_info(s->shmid, &info, NULL, 0), err);
	T_EQ(shmkit_service_open(s->name, 0, &srv),
	     err == -SHMKIT_ENOTINBOX ? -SHMKIT_ENOTSERVICE : err);
	T_EQ(shmkit_client_open(s->name, 0, &cl),
	     err == -SHMKIT_ENOTINBOX ? -SHMKIT_ENOTSERVICE : err);
}

/* The inbox header's shape and identity: each bad value, then put back. */
static void bad_shapes(void)
{
	struct { const char *what; size_t off, size; uint64_t value; int err; } cases[] = {
		{ "lanes 0", offsetof(struct __shmkit_inbox_hdr, lanes), 4, 0, -SHMKIT_ECORRUPT },
		{ "lanes 1025", offsetof(struct __shmkit_inbox_hdr, lanes), 4, 1025,
		  -SHMKIT_ECORRUPT },
		{ "lanes 2^32-1", offsetof(struct __shmkit_inbox_hdr, lanes), 4, 0xffffffffu,
		  -SHMKIT_ECORRUPT },
		{ "lanes 5 of 4", offsetof(struct __shmkit_inbox_hdr, lanes), 4, LANES + 1,
		  -SHMKIT_ECORRUPT },
		{ "lane_cap 3 pages", offsetof(struct __shmkit_inbox_hdr, lane_cap), 8, 3 * 4096,
		  -SHMKIT_ECORRUPT },
		{ "lane_cap 2048", offsetof(struct __shmkit_inbox_hdr, lane_cap), 8, 2048,
		  -SHMKIT_ECORRUPT },
		{ "lane_cap 0", offsetof(struct __shmkit_inbox_hdr, lane_cap), 8, 0,
		  -SHMKIT_ECORRUPT },
		{ "lane_cap 2^31", offsetof(struct __shmkit_inbox_hdr, lane_cap), 8, 1ull << 31,
		  -SHMKIT_ECORRUPT },
		{ "lane_cap 2^63", offsetof(struct __shmkit_inbox_hdr, lane_cap), 8, 1ull << 63,
		  -SHMKIT_ECORRUPT },
		{ "lane_cap 8192 in a 4096 shape", offsetof(struct __shmkit_inbox_hdr, lane_cap), 8,
		  8192, -SHMKIT_ECORRUPT },
		{ "flags 2", offsetof(struct __shmkit_inbox_hdr, flags), 4, 2, -SHMKIT_ECORRUPT },
		/* a service's lanes are twice as long: they do not fit */
		{ "flags REPLIES", offsetof(struct __shmkit_inbox_hdr, flags), 4,
		  SHMKIT_INBOX_REPLIES, -SHMKIT_ECORRUPT },
		{ "magic", offsetof(struct __shmkit_inbox_hdr, magic), 4, 0x12345678,
		  -SHMKIT_ENOTINBOX },
		{ "version 2", offsetof(struct __shmkit_inbox_hdr, version), 2, 2,
		  -SHMKIT_ENOTINBOX },
		{ "hdr_size 128", offsetof(struct __shmkit_inbox_hdr, hdr_size), 2, 128,
		  -SHMKIT_ENOTINBOX },
	};
	struct shmkit_inbox *ib;
	struct shmkit_chan *p;
	struct seg s;
	unsigned char keep[8];

	seg_make(&s, "scrib-shape", LANES, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *at = (unsigned char *)s.h + cases[i].off;

		memcpy(keep, at, cases[i].size);
		memcpy(at, &cases[i].value, cases[i].size);	/* little-endian hosts */
		refused(&s, cases[i].err);
		memcpy(at, keep, cases[i].size);
		/* put back, it is an inbox again */
		T_OK(shmkit_inbox_join(s.name, 0, &p));
		T_OK(shmkit_chan_close(p));
	}
	/* fewer lanes than made: a smaller inbox, the rest of the segment unused */
	s.h->lanes = 2;
	{
		struct shmkit_inbox_info info;
		struct shmkit_chan *q, *r;

		T_OK(shmkit_inbox_info(s.shmid, &info, NULL, 0));
		T_EQ(info.lanes, 2);
		T_OK(shmkit_inbox_open(s.name, 0, &ib));
		T_OK(shmkit_inbox_join(s.name, 0, &p));
		T_OK(shmkit_inbox_join(s.name, 0, &q));
		T_EQ(shmkit_inbox_join(s.name, 0, &r), -EBUSY);
		send_tag(q, 11);
		recv_tag(ib, 11, 1);
		T_OK(shmkit_chan_close(p));
		T_OK(shmkit_chan_close(q));
		T_OK(shmkit_inbox_close(ib));
	}
	s.h->lanes = LANES;
	seg_done(&s);
}

/* lanes_used out of range: clamped, and never an index past the lanes. */
static void lanes_used(void)
{
	const uint32_t values[] = { LANES + 1, 1000, 0xffffffffu };
	struct shmkit_chan *p[LANES];
	struct shmkit_inbox *ib;
	struct seg s;

	seg_make(&s, "scrib-used", LANES, 0);
	for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
		T_OK(shmkit_inbox_open(s.name, 0, &ib));
		for (int i = 0; i < LANES; i++)
			T_OK(shmkit_inbox_join(s.name, 0, &p[i]));
		atomic_store(&s.h->lanes_used, values[v]);
		for (int i = 0; i < LANES; i++)
			send_tag(p[i], 100 + (uint64_t)i);
		for (int i = 0; i < LANES; i++)
			recv_tag(ib, 100 + (uint64_t)i, i);
		expect_empty(ib);
		/* a join leaves a value above its lane alone */
		T_OK(shmkit_chan_close(p[3]));
		T_OK(shmkit_inbox_join(s.name, 0, &p[3]));
		T_EQ(atomic_load(&s.h->lanes_used), values[v]);
		for (int i = 0; i < LANES; i++)
			T_OK(shmkit_chan_close(p[i]));
		T_OK(shmkit_inbox_close(ib));
	}
	/* 0: the consumer looks at no lane, until a join raises it again */
	T_OK(shmkit_inbox_open(s.name, 0, &ib));
	T_OK(shmkit_inbox_join(s.name, 0, &p[0]));
	T_OK(shmkit_inbox_join(s.name, 0, &p[1]));
	send_tag(p[1], 7);
	atomic_store(&s.h->lanes_used, 0);
	expect_empty(ib);
	T_OK(shmkit_inbox_join(s.name, 0, &p[2]));
	T_EQ(atomic_load(&s.h->lanes_used), 3);
	recv_tag(ib, 7, 1);
	for (int i = 0; i < 3; i++)
		T_OK(shmkit_chan_close(p[i]));
	T_OK(shmkit_inbox_close(ib));
	seg_done(&s);
}

/*
 * Lane 1 spoiled while the consumer runs: a record past max_msg, or a
 * tail more than a ring ahead. Reported once (naming lane 1), then
 * skipped; lanes 0 and 2 are served before and after.
 */
static void lane_broken_running(void)
{
	struct shmkit_chan *p[3];
	struct shmkit_inbox *ib;
	struct seg s;
	unsigned char buf[MAX_MSG];
	size_t len;

	for (int how = 0; how < 2; how++) {
		seg_make(&s, "scrib-lane", 3, 0);
		for (int i = 0; i < 3; i++)
			T_OK(shmkit_inbox_join(s.name, 0, &p[i]));
		T_OK(shmkit_inbox_open(s.name, 0, &ib));
		send_tag(p[0], 1);
		send_tag(p[2], 3);
		if (how == 0) {
			/* a marked header claiming more than a lane carries */
			uint64_t w = (uint64_t)SHMKIT_REC_MARK << 32 | (MAX_MSG + 8);

			memcpy(ring(&s, 1, 0), &w, 8);
		} else {
			atomic_store(&lane(&s, 1, 0)->hot[__SHMKIT_SIDE_PROD].pos, 2 * CAP);
		}
		recv_tag(ib, 1, 0);
		T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
		T_EQ(shmkit_inbox_from(ib), 1);
		recv_tag(ib, 3, 2);
		expect_empty(ib);
		send_tag(p[0], 4);
		send_tag(p[2], 5);
		recv_tag(ib, 4, 0);
		recv_tag(ib, 5, 2);
		expect_empty(ib);
		for (int i = 0; i < 3; i++)
			shmkit_chan_close(p[i]);	/* lane 1's may see its state as corrupt */
		T_OK(shmkit_inbox_close(ib));
		seg_done(&s);
	}
}

/*
 * Lane 1 found spoiled when the consumer opens (its channel header, or
 * positions that cannot be): the open succeeds, lane 1 is reported once
 * when the look at the lanes reaches it, the other lanes are served. A
 * join passes over it too.
 */
static void lane_broken_at_open(void)
{
	struct shmkit_chan *p[3], *q;
	struct shmkit_inbox *ib;
	struct seg s;
	unsigned char buf[MAX_MSG];
	size_t len;

	for (int how = 0; how < 3; how++) {
		seg_make(&s, "scrib-open", 3, 0);
		for (int i = 0; i < 3; i++)
			T_OK(shmkit_inbox_join(s.name, 0, &p[i]));
		send_tag(p[0], 1);
		send_tag(p[2], 3);
		if (how == 0)
			atomic_store(&lane(&s, 1, 0)->magic, 0);
		else if (how == 1)
			lane(&s, 1, 0)->capacity = 2 * CAP;
		else
			atomic_store(&lane(&s, 1, 0)->hot[__SHMKIT_SIDE_CONS].pos, 3 * CAP);
		T_OK(shmkit_inbox_open(s.name, 0, &ib));
		recv_tag(ib, 1, 0);
		T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
		T_EQ(shmkit_inbox_from(ib), 1);
		recv_tag(ib, 3, 2);
		expect_empty(ib);
		/* lane 0 free again: a join takes it, lane 1 spoiled or not */
		T_OK(shmkit_chan_close(p[0]));
		T_OK(shmkit_inbox_join(s.name, 0, &q));
		send_tag(q, 6);
		recv_tag(ib, 6, 0);
		T_OK(shmkit_chan_close(q));
		for (int i = 1; i < 3; i++)
			shmkit_chan_close(p[i]);
		T_OK(shmkit_inbox_close(ib));
		/*
		 * Only lane 1 not held, and spoiled: -EBUSY, as when live
		 * producers hold every lane (one may leave); with every lane
		 * spoiled, -SHMKIT_ECORRUPT.
		 */
		{
			struct shmkit_chan *a, *b;

			T_OK(shmkit_inbox_join(s.name, 0, &a));
			T_OK(shmkit_inbox_join(s.name, 0, &b));
			T_EQ(shmkit_inbox_join(s.name, 0, &q), -EBUSY);
			T_OK(shmkit_chan_close(a));
			T_OK(shmkit_chan_close(b));
			atomic_store(&lane(&s, 0, 0)->magic, 0);
			atomic_store(&lane(&s, 2, 0)->magic, 0);
			T_EQ(shmkit_inbox_join(s.name, 0, &q), -SHMKIT_ECORRUPT);
		}
		seg_done(&s);
	}
}

/* A lane's producer owner word naming a live process: a join passes it. */
static void lane_held_by_stranger(void)
{
	struct shmkit_chan *p;
	struct shmkit_inbox *ib;
	struct seg s;

	seg_make(&s, "scrib-owner", 2, 0);
	atomic_store(&lane(&s, 0, 0)->cold[__SHMKIT_SIDE_PROD].owner, __shmkit_owner_word());
	T_OK(shmkit_inbox_join(s.name, 0, &p));
	T_OK(shmkit_inbox_open(s.name, 0, &ib));
	send_tag(p, 9);
	recv_tag(ib, 9, 1);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_inbox_close(ib));
	seg_done(&s);
}

/* The consumer's sleep block: a flag up with nobody asleep costs a wake, no more. */
static void sleep_block(void)
{
	struct shmkit_inbox_lane_info li[1];
	struct shmkit_inbox_info info;
	struct shmkit_chan *p;
	struct shmkit_inbox *ib;
	struct seg s;

	seg_make(&s, "scrib-sleep", 1, 0);
	T_OK(shmkit_inbox_join(s.name, 0, &p));
	T_OK(shmkit_inbox_open(s.name, 0, &ib));
	atomic_store(&s.h->cons_sleep.sleeping, 1);
	atomic_store(&s.h->cons_sleep.wake_seq, 0xfffffffeu);
	send_tag(p, 1);
	T_EQ(atomic_load(&s.h->cons_sleep.sleeping), 0);
	T_EQ(atomic_load(&s.h->cons_sleep.wake_seq), 0xffffffffu);
	send_tag(p, 2);
	T_OK(shmkit_inbox_info(s.shmid, &info, li, 1));
	T_EQ(li[0].wakes, 1);
	recv_tag(ib, 1, 0);
	recv_tag(ib, 2, 0);
	/* a wait through the wrapped sequence still ends on time */
	{
		unsigned char buf[64];
		size_t len;
		uint64_t t0 = t_now_ns();

		T_EQ(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
		T_ASSERT(t_now_ns() - t0 < 2000000000u);
	}
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_inbox_close(ib));
	seg_done(&s);
}

/*
 * A service: a request too short for its header; the epoch word spoiled;
 * a lane's reply ring spoiled.
 */
static void service_cases(void)
{
	struct shmkit_service *srv;
	struct shmkit_client *cl;
	struct shmkit_request req;
	struct seg s;
	char buf[64];
	size_t len;
	uint64_t id;

	seg_make(&s, "scrib-svc", 2, 1);
	T_OK(shmkit_service_open(s.name, 0, &srv));
	T_OK(shmkit_client_open(s.name, 0, &cl));
	T_OK(shmkit_client_send(cl, "first", 5, &id, 0));
	T_OK(shmkit_client_close(cl));
	/* after it, a record of 4 bytes: no room for the service's header */
	{
		struct __shmkit_chan_hdr *l = lane(&s, 0, 0);
		uint64_t tail = atomic_load(&l->hot[__SHMKIT_SIDE_PROD].pos), zero = 0;
		uint64_t w = (uint64_t)SHMKIT_REC_MARK << 32 | 4;

		memcpy(ring(&s, 0, 0) + (tail & (CAP - 1)) + 16, &zero, 8);
		memcpy(ring(&s, 0, 0) + (tail & (CAP - 1)) + 8, "tiny", 4);
		memcpy(ring(&s, 0, 0) + (tail & (CAP - 1)), &w, 8);
		atomic_store(&l->hot[__SHMKIT_SIDE_PROD].pos, tail + 16);
	}
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
	T_EQ(len, 5);
	T_EQ(req.client, 0);
	T_EQ(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0), -SHMKIT_ECORRUPT);
	T_EQ(req.client, 0);
	T_EQ(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0), -EAGAIN);

	/* the epoch word moved under a client: replies to it are refused */
	T_OK(shmkit_client_open(s.name, 0, &cl));
	T_OK(shmkit_client_send(cl, "ping", 4, &id, 0));
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
	*(uint64_t *)(void *)((char *)lane(&s, 0, 0) + SHMKIT_INBOX_EPOCH_OFFSET) = 12345;
	T_EQ(shmkit_service_reply(srv, &req, "pong", 4, 0), -EPIPE);
	T_EQ(shmkit_client_recv(cl, buf, sizeof(buf), &len, &id, 0), -EAGAIN);
	/* a new client of the lane counts on from the word, and is served */
	T_OK(shmkit_client_close(cl));
	T_OK(shmkit_client_open(s.name, 0, &cl));
	T_OK(shmkit_client_send(cl, "ping", 4, &id, 0));
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
	T_EQ(req.epoch, 12346);
	T_OK(shmkit_service_reply(srv, &req, "pong", 4, 0));
	T_OK(shmkit_client_recv(cl, buf, sizeof(buf), &len, &id, 0));
	T_EQ(len, 4);
	T_OK(shmkit_client_close(cl));
	T_OK(shmkit_service_close(srv));
	seg_done(&s);

	/* lane 0's reply ring spoiled: a client passes over the lane, the
	   server reports it once and serves lane 1 */
	seg_make(&s, "scrib-svc-rep", 2, 1);
	lane(&s, 0, 1)->max_msg = CAP;
	T_OK(shmkit_client_open(s.name, 0, &cl));
	T_OK(shmkit_service_open(s.name, 0, &srv));
	T_OK(shmkit_client_send(cl, "ping", 4, &id, 0));
	T_EQ(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0), -SHMKIT_ECORRUPT);
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
	T_EQ(req.client, 1);
	T_OK(shmkit_service_reply(srv, &req, "pong", 4, 0));
	T_OK(shmkit_client_recv(cl, buf, sizeof(buf), &len, &id, 0));
	T_EQ(len, 4);
	T_EQ(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0), -EAGAIN);
	/* the only lane left is the spoiled one */
	{
		struct shmkit_client *other;

		T_EQ(shmkit_client_open(s.name, 0, &other), -EBUSY);
	}
	T_OK(shmkit_client_close(cl));
	T_OK(shmkit_service_close(srv));
	seg_done(&s);
}

/* ------------------------------------------------------------ scribbler */

#define CALL_MS 20		/* every call's timeout */
#define MARGIN_MS 2000		/* what a loaded machine may add */

enum { PRODUCER, CONSUMER, CLIENT, SERVER };
static const char *const role_names[] = { "producer", "consumer", "client", "server" };

struct worker {
	const char *name;
	int role;
	unsigned rounds;
};

/* [p, p + len) inside [start, start + cap), and no longer than a lane carries */
static void check_span(const void *p, size_t len, const void *start, size_t cap)
{
	const char *q = p, *lo = start;

	if (len > cap / 2 || q < lo || (size_t)(q - lo) > cap - len)
		t_fail(__FILE__, __LINE__, "span %p+%zu outside the ring %p+%zu", p, len, start, cap);
}

static void chan_span(const struct shmkit_chan *ch, const void *p, size_t len)
{
	const void *start;
	size_t cap;

	__shmkit_chan_ring(ch, &start, &cap);
	check_span(p, len, start, cap);
}

static void lane_span(const struct shmkit_inbox *ib, int from, int reply, const void *p,
		      size_t len)
{
	const void *start;
	size_t cap;

	if (from < 0 || from >= LANES)
		t_fail(__FILE__, __LINE__, "a message from lane %d", from);
	__shmkit_inbox_ring_of(ib, (uint32_t)from, reply, &start, &cap);
	check_span(p, len, start, cap);
}

/* What a worker keeps open, and throws away on a fault. */
struct handles {
	struct shmkit_chan *prod;
	struct shmkit_inbox *ib;
	struct shmkit_client *cl;
	struct shmkit_service *srv;
	struct shmkit_request req;
	int have_req;
};

static void drop(struct handles *hd)
{
	if (hd->prod)
		shmkit_chan_close(hd->prod);
	if (hd->ib)
		shmkit_inbox_close(hd->ib);
	if (hd->cl)
		shmkit_client_close(hd->cl);
	if (hd->srv)
		shmkit_service_close(hd->srv);
	memset(hd, 0, sizeof(*hd));
}

static int reopen(const struct worker *w, struct handles *hd)
{
	switch (w->role) {
	case PRODUCER: return shmkit_inbox_join(w->name, 0, &hd->prod);
	case CONSUMER: return shmkit_inbox_open(w->name, 0, &hd->ib);
	case CLIENT: return shmkit_client_open(w->name, 0, &hd->cl);
	default: return shmkit_service_open(w->name, 0, &hd->srv);
	}
}

/* One call of the worker's role; its result. */
static int one_call(struct handles *hd, int role, unsigned i, unsigned char *buf)
{
	size_t len = (size_t)(t_rand() % (MAX_MSG + 64)), n;
	const void *rp;
	void *wp;
	uint64_t id;
	int r;

	switch (role) {
	case PRODUCER:
		if (!(i & 1))
			return shmkit_chan_send(hd->prod, buf, len, CALL_MS);
		if ((r = shmkit_chan_reserve(hd->prod, len, &wp, CALL_MS)) < 0)
			return r;
		chan_span(hd->prod, wp, len);
		memset(wp, 0xa5, len);
		return shmkit_chan_commit(hd->prod, len / 2);
	case CONSUMER:
		if (!(i & 1)) {
			r = shmkit_inbox_recv(hd->ib, buf, MAX_MSG, &n, CALL_MS);
			if ((r == 0 || r == -EMSGSIZE) && n > MAX_MSG)
				t_fail(__FILE__, __LINE__, "received %zu bytes from a lane of %u", n, CAP);
			if (r == -EMSGSIZE)
				t_fail(__FILE__, __LINE__, "no message fits in max_msg?");
			return r;
		}
		if ((r = shmkit_inbox_peek(hd->ib, &rp, &n, CALL_MS)) < 0)
			return r;
		lane_span(hd->ib, shmkit_inbox_from(hd->ib), 0, rp, n);
		memcpy(buf, rp, n);
		return shmkit_inbox_release(hd->ib);
	case CLIENT:
		len %= MAX_MSG - SHMKIT_SERVICE_HDR + 32;
		if (i % 3 == 0)
			return shmkit_client_send(hd->cl, buf, len, &id, CALL_MS);
		if (i % 3 == 1) {
			if ((r = shmkit_client_reserve(hd->cl, len, &wp, CALL_MS)) < 0)
				return r;
			chan_span(__shmkit_client_requests(hd->cl), wp, len);
			memset(wp, 0x5a, len);
			return shmkit_client_commit(hd->cl, len, &id);
		}
		if ((r = shmkit_client_peek(hd->cl, &rp, &n, &id, CALL_MS)) < 0)
			return r;
		chan_span(__shmkit_client_replies(hd->cl), rp, n);
		memcpy(buf, rp, n);
		return shmkit_client_release(hd->cl);
	default:
		if (!hd->have_req || i % 2) {
			r = shmkit_service_peek(hd->srv, &rp, &n, &hd->req, CALL_MS);
			if (r < 0)
				return r;
			lane_span(__shmkit_service_inbox(hd->srv), (int)hd->req.client, 0, rp, n);
			memcpy(buf, rp, n);
			hd->have_req = 1;
			return shmkit_service_release(hd->srv);
		}
		len %= MAX_MSG - SHMKIT_SERVICE_HDR + 32;
		hd->have_req = 0;
		if ((r = shmkit_service_reserve(hd->srv, &hd->req, len, &wp, CALL_MS)) < 0)
			return r;
		lane_span(__shmkit_service_inbox(hd->srv), (int)hd->req.client, 1, wp, len);
		memset(wp, 0x3c, len);
		return shmkit_service_commit(hd->srv, len);
	}
}

/* Works the segment through whatever the scribbler does; starts over on a fault. */
static int work(void *arg)
{
	const struct worker *w = arg;
	static unsigned char buf[MAX_MSG + 64];
	struct handles hd = { 0 };
	unsigned ok = 0, corrupt = 0, other = 0;
	int r;

	/* rounds, or the time they may take on a slow or crowded machine */
	uint64_t budget = (t_scale(10) > 10 ? t_scale(10) : 10) * 1000000000ull;
	uint64_t start = t_now_ns();

	alarm(t_scale(240) > 240 ? (unsigned)t_scale(240) : 240);
	for (unsigned i = 0; i < w->rounds && t_now_ns() - start < budget; i++) {
		uint64_t t0 = t_now_ns(), took;

		if (!hd.prod && !hd.ib && !hd.cl && !hd.srv) {
			r = reopen(w, &hd);
			switch (r) {
			case 0: break;
			case -EBUSY: case -SHMKIT_ECORRUPT: case -SHMKIT_ENOTINBOX:
			case -SHMKIT_ENOTSERVICE:
				memset(&hd, 0, sizeof(hd));
				usleep(200);
				continue;
			default:
				t_fail(__FILE__, __LINE__, "%s open: %s", role_names[w->role],
				       shmkit_strerror(r));
			}
		}
		r = one_call(&hd, w->role, i, buf);
		took = (t_now_ns() - t0) / 1000000u;
		if (took > 2 * CALL_MS + MARGIN_MS)
			t_fail(__FILE__, __LINE__, "a %s call took %llu ms (timeout %d)",
			       role_names[w->role], (unsigned long long)took, CALL_MS);
		ok += r == 0;
		corrupt += r == -SHMKIT_ECORRUPT;
		other += r != 0 && r != -SHMKIT_ECORRUPT;
		switch (r) {
		case 0: case -EAGAIN: case -ETIMEDOUT: case -EMSGSIZE:
			break;
		case -EPIPE: case -SHMKIT_EPEERDEAD:
			/* a server's reply to a client gone (or seen so): the next */
			if (w->role == SERVER)
				break;
			/* fall through */
		case -SHMKIT_EEOF: case -SHMKIT_EABORTED:
			/* a scribbled owner or closed word: start over */
			drop(&hd);
			break;
		case -SHMKIT_ECORRUPT:
			/*
			 * A consumer skips the lane from now on; now and then it
			 * starts over (an open checks every lane again). A
			 * channel handle stays stuck: start over.
			 */
			if ((w->role != CONSUMER && w->role != SERVER) || corrupt % 4 == 0)
				drop(&hd);
			break;
		default:
			t_fail(__FILE__, __LINE__, "%s: unexpected result %d: %s",
			       role_names[w->role], r, shmkit_strerror(r));
		}
	}
	drop(&hd);
	if (ok == 0)
		t_fail(__FILE__, __LINE__, "%s: no call ever succeeded", role_names[w->role]);
	printf("%s: %u calls succeeded, %u saw corruption, %u other errors\n",
	       role_names[w->role], ok, corrupt, other);
	fflush(stdout);
	return 0;
}

static int exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* A value to write: anything, small, near 2^64, a marked record header. */
static uint64_t crafted(void)
{
	switch (t_rand() % 6) {
	case 0: return t_rand();
	case 1: return t_rand() % 64;
	case 2: return ~(uint64_t)0 - t_rand() % 4;
	case 3: return (uint64_t)SHMKIT_REC_MARK << 32 | (t_rand() % (CAP + 64));
	case 4: return (uint64_t)SHMKIT_REC_MARK << 32 | SHMKIT_REC_PAD;
	default: return (t_rand() % (4 * CAP)) & ~7ull;	/* a plausible position */
	}
}

/*
 * Puts back what makes every open fail (the layouts) and makes each
 * ring's positions agree, like a repair: the workers get back to work and
 * meet the next scribbles mid-stream.
 */
static void repair(struct seg *s, const struct __shmkit_inbox_hdr *layout, int rings)
{
	memcpy(s->h, layout, offsetof(struct __shmkit_inbox_hdr, pad0));
	for (uint32_t i = 0; i < s->sh.lanes; i++) {
		for (int r = 0; r < rings; r++) {
			struct __shmkit_chan_hdr *l = lane(s, i, r);
			uint64_t pos = atomic_load(&l->hot[__SHMKIT_SIDE_PROD].pos) & ~7ull;

			atomic_store(&l->magic, SHMKIT_CHAN_MAGIC);
			l->version = SHMKIT_CHAN_VERSION;
			l->hdr_size = sizeof(*l);
			l->capacity = CAP;
			l->max_msg = MAX_MSG;
			atomic_store(&l->hot[__SHMKIT_SIDE_PROD].pos, pos);
			atomic_store(&l->hot[__SHMKIT_SIDE_CONS].pos, pos);
		}
	}
}

/* One scribble somewhere in the inbox's shared state. */
static void scribble_once(struct seg *s, int rings)
{
	uint32_t i = (uint32_t)(t_rand() % s->sh.lanes);
	int r = (int)(t_rand() % (uint64_t)rings);
	unsigned char *at;
	uint64_t v = crafted();
	size_t n = 8;

	/* the layouts seldom: each makes every open fail until the repair */
	switch (t_rand() % 64) {
	case 0:	/* the inbox header's layout */
		at = (unsigned char *)s->h + (t_rand() % 24 & ~3ull);
		n = 4;
		break;
	case 1:	/* a lane's channel layout */
		at = (unsigned char *)lane(s, i, r) + (t_rand() % 32 & ~7ull);
		break;
	case 2: case 3: case 4: case 5:	/* owner, closed, lanes_used, sleeps */
		at = (unsigned char *)&s->h->owner + (t_rand() % 24 & ~3ull);
		n = 4;
		if (t_rand() % 2)
			v = (uint32_t)(t_rand() % 8);	/* lanes_used near the lanes */
		break;
	case 6: case 7:	/* the consumer's sleep block */
		at = (unsigned char *)&s->h->cons_sleep + (t_rand() % 2) * 4;
		n = 4;
		break;
	case 8: case 9: case 10: case 11:	/* a lane's epoch word */
		at = (unsigned char *)lane(s, i, 0) + SHMKIT_INBOX_EPOCH_OFFSET;
		if (t_rand() % 2)
			v = atomic_load((_Atomic uint64_t *)(void *)at) + t_rand() % 3 - 1;
		break;
	case 12: case 13: case 14: case 15: case 16: case 17: case 18: case 19:
	case 20: case 21: case 22: case 23:	/* positions */
		at = (unsigned char *)&lane(s, i, r)->hot[t_rand() % 2].pos;
		if (t_rand() % 2)
			v = atomic_load((_Atomic uint64_t *)(void *)at) + (t_rand() % 64 - 32) * 8;
		break;
	case 24: case 25: case 26: case 27:	/* a lane's owner and closed words */
		at = (unsigned char *)&lane(s, i, r)->cold[t_rand() % 2] + (t_rand() % 2) * 8;
		if (t_rand() % 2)
			v = t_rand() % 3;
		break;
	case 28: case 29:	/* a lane's sleep blocks */
		at = (unsigned char *)&lane(s, i, r)->sleep[t_rand() % 2] + (t_rand() % 2) * 4;
		n = 4;
		break;
	default:	/* records and payloads */
		at = ring(s, i, r) + (t_rand() % CAP & ~7ull);
		break;
	}
	memcpy(at, &v, n);
}

static void scribble_run(int service)
{
	struct __shmkit_inbox_hdr layout;
	struct worker wk[3];
	struct shmkit_inbox_info info;
	struct shmkit_inbox_lane_info li[LANES];
	pid_t pid[3];
	struct seg s;
	int nw, n = 0;
	unsigned rounds = (unsigned)t_scale(10000), i;

	if (rounds < 2000)
		rounds = 2000;	/* valgrind's scale: still every kind of call */
	seg_make(&s, service ? "scrib-svc-run" : "scrib-run", LANES, service);
	memcpy(&layout, s.h, sizeof(layout));
	if (service) {
		wk[0] = (struct worker){ s.name, SERVER, rounds };
		wk[1] = (struct worker){ s.name, CLIENT, rounds };
		nw = 2;
	} else {
		wk[0] = (struct worker){ s.name, CONSUMER, rounds };
		wk[1] = (struct worker){ s.name, PRODUCER, rounds };
		wk[2] = (struct worker){ s.name, PRODUCER, rounds };
		nw = 3;
	}
	for (int k = 0; k < nw; k++)
		pid[k] = t_fork(work, &wk[k]);
	for (i = 0;; i++) {
		int all = 1;

		scribble_once(&s, service ? 2 : 1);
		n++;
		if (i % 4)
			continue;
		usleep(100);
		if (i % 256 == 0)
			repair(&s, &layout, service ? 2 : 1);
		if (i % 256)
			continue;
		if (i % 1024 == 0) {
			int r = shmkit_inbox_info(s.shmid, &info, li, LANES);

			T_ASSERT(r == 0 || r == -SHMKIT_ECORRUPT || r == -SHMKIT_ENOTINBOX);
			T_ASSERT(r < 0 || info.listed <= LANES);
		}
		if (i % 16384 == 0) {
			char *out = NULL, *err = NULL;
			int st = t_cli(&out, &err, "stat", "-n", s.name, NULL);

			T_ASSERT(st == 0 || st == 1);
			free(out);
			free(err);
		}
		for (int k = 0; k < nw; k++)
			all &= exited(pid[k]);
		if (all)
			break;
	}
	printf("%d scribbles over %s, %u rounds per worker at most\n", n,
	       service ? "a service" : "an inbox", rounds);
	for (int k = 0; k < nw; k++)
		T_EQ(t_wait(pid[k]), 0);
	seg_done(&s);
}

int main(void)
{
	bad_shapes();
	lanes_used();
	lane_broken_running();
	lane_broken_at_open();
	lane_held_by_stranger();
	sleep_block();
	service_cases();
	printf("crafted corruptions: each gave its exact result\n");
	scribble_run(0);
	scribble_run(1);
	return 0;
}
