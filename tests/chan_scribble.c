/*
 * Never trust the segment. First a fixed list of crafted corruptions of a
 * channel's header and ring, each with the clean error it must give. Then
 * a scribbler writes random bytes over the header and the ring, thousands
 * of times, while a producer and a consumer keep working: every call must
 * return (within its timeout and a margin), every pointer handed out must
 * lie inside the ring, and neither side may crash.
 */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "header.h"

#define CAP 4096

/* The channel header of a raw mapping of the segment. */
static struct __shmkit_chan_hdr *hdr_of(void *base)
{
	return (struct __shmkit_chan_hdr *)((char *)base + SHMKIT_HDR_SIZE);
}

static unsigned char *ring_of(void *base)
{
	return (unsigned char *)base + SHMKIT_CHAN_RING_OFFSET;
}

struct fresh {
	char name[64];
	int shmid;
	void *raw;	/* our own read-write mapping, to corrupt through */
	struct shmkit_chan *p, *c;
};

static void fresh(struct fresh *f, const char *tag)
{
	t_name(f->name, sizeof(f->name), tag);
	f->shmid = t_track(shmkit_chan_create(f->name, CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(f->shmid);
	f->raw = shmat(f->shmid, NULL, 0);
	T_ASSERT(f->raw != (void *)-1);
	T_OK(shmkit_chan_open(f->name, SHMKIT_PRODUCER, &f->p));
	T_OK(shmkit_chan_open(f->name, SHMKIT_CONSUMER, &f->c));
}

static void done(struct fresh *f)
{
	shmkit_chan_close(f->p);
	if (f->c)
		shmkit_chan_close(f->c);
	shmdt(f->raw);
	T_OK(shmkit_chan_destroy(f->name));
}

static void crafted(void)
{
	struct fresh f;
	struct __shmkit_chan_hdr *h;
	struct shmkit_chan *x;
	char buf[CAP];
	size_t len;
	uint32_t *rec;

	/* the producer's tail claims more data than the ring holds */
	fresh(&f, "c-tail");
	h = hdr_of(f.raw);
	atomic_store(&h->hot[SHMKIT_SIDE_PROD].pos, CAP + 8);
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	/* misaligned tail */
	atomic_store(&h->hot[SHMKIT_SIDE_PROD].pos, 12);
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	/*
	 * A tail behind the head (wrapped counters). A tail may lag by up to
	 * a record (stored just after the header the consumer polls), so a
	 * few bytes behind is no data yet; more than a ring behind is wrong.
	 */
	atomic_store(&h->hot[SHMKIT_SIDE_PROD].pos, (uint64_t)-8);
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -EAGAIN);
	atomic_store(&h->hot[SHMKIT_SIDE_PROD].pos, (uint64_t)-(CAP + 8));
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	/* and a reopened side refuses the inconsistent positions */
	shmkit_chan_close(f.c);
	T_EQ(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &x), -SHMKIT_ECORRUPT);
	T_OK(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &f.c) == -SHMKIT_ECORRUPT ? 0 : -1);
	atomic_store(&h->hot[SHMKIT_SIDE_PROD].pos, 0);
	T_OK(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &f.c));
	done(&f);

	/*
	 * A record whose length is beyond the maximum; a header without its
	 * mark although the tail says it was published.
	 */
	fresh(&f, "c-len");
	T_OK(shmkit_chan_send(f.p, "abc", 3, 0));
	rec = (uint32_t *)(void *)ring_of(f.raw);
	rec[0] = CAP / 2 + 1;
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	rec[0] = 3;
	rec[1] = 0;
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	rec[1] = SHMKIT_REC_MARK;
	rec[0] = SHMKIT_REC_PAD; /* a pad at offset 0 is never written */
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_ECORRUPT);
	rec[0] = 3;
	T_OK(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 3);
	done(&f);

	/*
	 * The consumer's head runs ahead of the producer's tail. The producer
	 * reads the head only when its cached copy says the ring is full.
	 */
	fresh(&f, "c-head");
	h = hdr_of(f.raw);
	T_OK(shmkit_chan_send(f.p, buf, CAP / 2, 0));
	atomic_store(&h->hot[SHMKIT_SIDE_CONS].pos, 2 * CAP);
	T_EQ(shmkit_chan_send(f.p, buf, CAP / 2, 0), -SHMKIT_ECORRUPT);
	atomic_store(&h->hot[SHMKIT_SIDE_CONS].pos, 0);
	T_EQ(shmkit_chan_send(f.p, buf, CAP / 2, 0), -EAGAIN);
	done(&f);

	/*
	 * A producer that died between a record's header and its tail store:
	 * the record is committed (its mark shows) and may be read already. A
	 * new producer must continue after it, not write over it.
	 */
	fresh(&f, "c-lag");
	h = hdr_of(f.raw);
	T_OK(shmkit_chan_send(f.p, "first", 5, 0));
	T_OK(shmkit_chan_send(f.p, "second", 6, 0));
	shmkit_chan_close(f.p);
	atomic_store(&h->hot[SHMKIT_SIDE_PROD].pos, 16); /* after "first" only */
	T_OK(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0));
	T_OK(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 6);
	T_ASSERT(!memcmp(buf, "second", 6));
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_EEOF);
	/* a consumer opening now finds its head ahead of the tail: healthy */
	shmkit_chan_close(f.c);
	T_OK(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &f.c));
	T_EQ(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0), -SHMKIT_EEOF);
	T_OK(shmkit_chan_open(f.name, SHMKIT_PRODUCER, &f.p));
	T_EQ(atomic_load(&h->hot[SHMKIT_SIDE_PROD].pos), 32);
	T_OK(shmkit_chan_send(f.p, "third", 5, 0));
	T_OK(shmkit_chan_recv(f.c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 5);
	T_ASSERT(!memcmp(buf, "third", 5));
	done(&f);

	/* layout: magic, version, capacity, max_msg; and the segment header */
	fresh(&f, "c-layout");
	h = hdr_of(f.raw);
	shmkit_chan_close(f.c); /* so that only the layout can refuse an open */
	f.c = NULL;
	atomic_store(&h->magic, 0x12345678);
	T_EQ(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &x), -SHMKIT_ENOTCHAN);
	atomic_store(&h->magic, SHMKIT_CHAN_MAGIC);
	h->version = 99;
	T_EQ(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &x), -SHMKIT_ENOTCHAN);
	h->version = SHMKIT_CHAN_VERSION;
	h->capacity = 3 * 4096;
	T_EQ(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &x), -SHMKIT_ECORRUPT);
	h->capacity = 1ull << 40;
	T_EQ(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &x), -SHMKIT_ECORRUPT);
	h->capacity = CAP;
	h->max_msg = CAP;
	T_EQ(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &x), -SHMKIT_ECORRUPT);
	h->max_msg = CAP / 2;
	((unsigned char *)f.raw)[0] ^= 0xff; /* the segment header's magic */
	T_EQ(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &x), -SHMKIT_ECLASH);
	((unsigned char *)f.raw)[0] ^= 0xff;
	T_OK(shmkit_chan_open(f.name, SHMKIT_CONSUMER, &f.c));
	done(&f);
}

#define CALL_MS 50		/* every call's timeout */
#define MARGIN_MS 2000		/* what a loaded machine may add */

struct worker {
	const char *name;
	int producer;
	unsigned rounds;
};

static void check_span(struct shmkit_chan *ch, const void *p, size_t len)
{
	const void *start;
	size_t cap;

	__shmkit_chan_ring(ch, &start, &cap);
	if ((const char *)p < (const char *)start ||
	    (const char *)p + len > (const char *)start + cap || len > cap / 2)
		t_fail(__FILE__, __LINE__, "span %p+%zu outside the ring %p+%zu", p, len, start, cap);
}

/* Works the channel through whatever the scribbler does; reopens when its
 * handle reports the state as corrupt (a fresh open checks again). */
static int work(void *arg)
{
	struct worker *w = arg;
	struct shmkit_chan *ch = NULL;
	unsigned char buf[CAP];
	unsigned i, ok = 0, corrupt = 0, other = 0;
	int r;

	alarm(t_scale(120) > 120 ? (unsigned)t_scale(120) : 120);
	for (i = 0; i < w->rounds; i++) {
		uint64_t t0 = t_now_ns() / 1000000u, took;
		size_t len = (size_t)(t_rand() % (CAP / 2 + 64));
		void *wp;
		const void *rp;

		if (!ch) {
			r = shmkit_chan_open(w->name, w->producer ? SHMKIT_PRODUCER : SHMKIT_CONSUMER, &ch);
			if (r < 0) {
				ch = NULL;
				usleep(200);
				continue;
			}
		}
		if (w->producer && (i & 1)) {
			r = shmkit_chan_reserve(ch, len, &wp, CALL_MS);
			if (r == 0) {
				check_span(ch, wp, len);
				memset(wp, 0xa5, len);
				r = shmkit_chan_commit(ch, len / 2);
			}
		} else if (w->producer) {
			r = shmkit_chan_send(ch, buf, len, CALL_MS);
		} else if (i & 1) {
			r = shmkit_chan_peek(ch, &rp, &len, CALL_MS);
			if (r == 0) {
				check_span(ch, rp, len);
				memcpy(buf, rp, len);
				r = shmkit_chan_release(ch);
			}
		} else {
			r = shmkit_chan_recv(ch, buf, sizeof(buf), &len, CALL_MS);
			if (r == 0 && len > CAP / 2)
				t_fail(__FILE__, __LINE__, "received %zu bytes from a %d ring", len, CAP);
		}
		took = t_now_ns() / 1000000u - t0;
		if (took > 2 * CALL_MS + MARGIN_MS)
			t_fail(__FILE__, __LINE__, "a call took %llu ms (timeout %d)",
			       (unsigned long long)took, CALL_MS);
		ok += r == 0;
		corrupt += r == -SHMKIT_ECORRUPT;
		other += r != 0 && r != -SHMKIT_ECORRUPT;
		switch (r) {
		case 0: case -EAGAIN: case -ETIMEDOUT: case -EMSGSIZE:
			break;
		case -EPIPE: case -SHMKIT_EEOF: case -SHMKIT_EPEERDEAD:
			/*
			 * A scribbled owner word reads as a closed or dead
			 * peer, and stays so: start over like a user would,
			 * or the side idles out its rounds on this error.
			 */
		case -SHMKIT_ECORRUPT:
			shmkit_chan_close(ch);
			ch = NULL;
			break;
		default:
			t_fail(__FILE__, __LINE__, "unexpected result %d: %s", r, shmkit_strerror(r));
		}
	}
	if (ch)
		shmkit_chan_close(ch);
	/* the point is calls on a live channel, not failed opens */
	if (ok == 0)
		t_fail(__FILE__, __LINE__, "%s: no call ever succeeded", w->producer ? "producer" : "consumer");
	printf("%s: %u calls succeeded, %u saw corruption, %u other errors\n",
	       w->producer ? "producer" : "consumer", ok, corrupt, other);
	fflush(stdout);
	return 0;
}

/* Has pid exited? Asks without reaping it (t_wait does that). */
static int exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

static void scribble(void)
{
	char name[64];
	struct worker prod, cons;
	unsigned char *raw;
	pid_t p, c;
	int shmid, n;
	/*
	 * Not fewer than 2,000 rounds, even scaled down for valgrind: with
	 * 200, one slow run saw a side never complete a call.
	 */
	unsigned rounds = (unsigned)t_scale(100000), i;

	if (rounds < 2000)
		rounds = 2000;

	t_name(name, sizeof(name), "scribble");
	shmid = t_track(shmkit_chan_create(name, CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmid);
	raw = shmat(shmid, NULL, 0);
	T_ASSERT(raw != (void *)-1);
	prod = (struct worker){ name, 1, rounds };
	cons = (struct worker){ name, 0, rounds };
	p = t_fork(work, &prod);
	c = t_fork(work, &cons);
	/*
	 * Random bytes over the channel's shared state (positions, owners,
	 * sleep words, counters) and the ring. The layout line is left alone:
	 * open checks it and copies it (the crafted cases cover that), so
	 * scribbling it would only keep every open failing. Now and then the
	 * scribbler makes the positions agree again, like a repair, so the
	 * sides get back to work and meet the next scribbles mid-stream.
	 */
	struct __shmkit_chan_hdr *h = hdr_of(raw);
	size_t first = SHMKIT_HDR_SIZE + offsetof(struct __shmkit_chan_hdr, hot);
	size_t span = SHMKIT_CHAN_RING_OFFSET + CAP - first;
	for (i = 0, n = 0; ; i++) {
		size_t off = first + (size_t)(t_rand() % span);
		size_t len = 1 + (size_t)(t_rand() % 8);
		if (off + len > SHMKIT_CHAN_RING_OFFSET + CAP)
			len = SHMKIT_CHAN_RING_OFFSET + CAP - off;
		for (size_t k = 0; k < len; k++)
			raw[off + k] = (unsigned char)t_rand();
		n++;
		if (i % 16)
			continue;
		usleep(20);
		if (i % 256 == 0) {
			uint64_t tail = atomic_load(&h->hot[SHMKIT_SIDE_PROD].pos) & ~7ull;
			atomic_store(&h->hot[SHMKIT_SIDE_PROD].pos, tail);
			atomic_store(&h->hot[SHMKIT_SIDE_CONS].pos, tail);
		}
		if (exited(p) && exited(c))
			break;
	}
	shmdt(raw);
	printf("%d scribbles over %u rounds per side\n", n, rounds);
	/* whatever the scribbles did, the sides end on their own */
	T_EQ(t_wait(p), 0);
	T_EQ(t_wait(c), 0);
	T_OK(shmkit_seg_remove(shmid));
}

int main(void)
{
	crafted();
	scribble();
	return 0;
}
