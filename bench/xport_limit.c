/*
 * The two-core limit: the pipeline shmkit's copying API runs, through one
 * shared buffer between the two cores, and nothing else. The producer
 * fills a private buffer (bench_fill), copies it with one memcpy into a
 * slot of a shared ring and publishes it; the consumer checks the bytes in
 * place (bench_check) and frees the slot. No system calls, no framing to
 * parse, no shared indices: the only lines the two cores pass between them
 * are the slots themselves. The work per byte is the copying API's and the
 * protocol the plainest there is, so the table reads shmkit's figures as a
 * fraction of it. One cost it has that a channel has not: freeing a slot
 * writes the slot's first line, which then goes back to the producer (a
 * channel's consumer publishes one position, in a line of its own), so with
 * small messages a channel may pass it.
 *
 * The ring: nslots slots of stride bytes, stride a multiple of the cache
 * line so no two slots share one. A slot is a 64-bit word, then the
 * payload:
 *
 *	word == 0	free: the producer may fill it
 *	word == seq + 1	holds message seq: the consumer may check it
 *
 * Each side walks the slots in order from slot 0 and keeps its position in
 * its own memory (struct bench_link is copied into each child by fork), so
 * a slot's word is the only thing the two write to tell each other
 * anything. The memory is MAP_SHARED | MAP_ANONYMOUS, made before the
 * fork: zeroed, so every slot starts free, and gone with the last process.
 *
 * Spinning only, like the channel's spin policy: no futex, no wake-ups to
 * count. A peer that stops answering fails the run after LIMIT_TIMEOUT_NS
 * instead of hanging it.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"
#include "cli.h"	/* cpu_relax, clock_ns */

#define LIMIT_LINE 64			/* slot alignment: one cache line */
#define LIMIT_WORD 8			/* the slot's sequence word */
#define LIMIT_TIMEOUT_NS 10000000000ull	/* as the channels' CHAN_TIMEOUT_MS */
#define LIMIT_CLOCK_EVERY 4096		/* spins between looks at the clock */

/* This transport's own link (xport.c has another of the same tag): the
 * runs only pass pointers to it, and only this file looks inside. */
struct bench_link {
	unsigned char *ring;	/* shared: nslots * stride bytes */
	size_t map_len;
	size_t stride, nslots;
	size_t max;
	/* private to each child after the fork */
	size_t next;		/* the slot this side uses next */
	unsigned char *buf;	/* the producer's buffer, filled then copied */
};

static _Atomic uint64_t *slot_word(struct bench_link *l, size_t i)
{
	return (_Atomic uint64_t *)(void *)(l->ring + i * l->stride);
}

static unsigned char *slot_data(struct bench_link *l, size_t i)
{
	return l->ring + i * l->stride + LIMIT_WORD;
}

static int limit_make(struct bench_link **out, size_t max, int policy, size_t ring)
{
	struct bench_link *l;
	/* as the channels: the same capacity, doubled for big messages */
	size_t cap = max * 2 > ring ? max * 2 : ring;
	void *p;

	(void)policy;	/* spin only */
	if (!(l = calloc(1, sizeof(*l))))
		return -ENOMEM;
	l->max = max;
	l->stride = (LIMIT_WORD + max + LIMIT_LINE - 1) / LIMIT_LINE * LIMIT_LINE;
	/* two slots at least, or the two sides would take turns */
	l->nslots = cap / l->stride < 2 ? 2 : cap / l->stride;
	l->map_len = l->nslots * l->stride;
	p = mmap(NULL, l->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		int err = -errno;

		free(l);
		return err;
	}
	l->ring = p;
	*out = l;
	return 0;
}

static int limit_open(struct bench_link *l, int sender)
{
	l->next = 0;
	if (!sender)
		return 0;	/* the consumer checks in place: no buffer */
	l->buf = malloc(l->max ? l->max : 1);
	return l->buf ? 0 : -ENOMEM;
}

static void limit_opened(struct bench_link *l)
{
	(void)l;	/* no name to remove: the mapping has none */
}

/*
 * Spins until the word at w is zero (want_free) or not, and returns it
 * through *v with acquire: what the other side wrote before its release
 * store of that value is visible after. -ETIMEDOUT after LIMIT_TIMEOUT_NS.
 * The clock is read only every LIMIT_CLOCK_EVERY spins, so a wait that
 * ends soon costs no clock read; the deadline starts at the first read.
 */
static int limit_wait(_Atomic uint64_t *w, int want_free, uint64_t *v)
{
	uint64_t spins = 0, deadline = 0, now;

	while (((*v = atomic_load_explicit(w, memory_order_acquire)) == 0) != want_free) {
		cpu_relax();
		if (++spins % LIMIT_CLOCK_EVERY)
			continue;
		now = clock_ns();
		if (!deadline)
			deadline = now + LIMIT_TIMEOUT_NS;
		else if (now > deadline)
			return -ETIMEDOUT;
		/* a long wait: let the peer run, should it share this cpu */
		sched_yield();
	}
	return 0;
}

static int limit_send(struct bench_link *l, uint64_t seq, size_t len)
{
	_Atomic uint64_t *w = slot_word(l, l->next);
	uint64_t v;
	int err;

	bench_fill(l->buf, len, seq);
	/* the fill is a real write to memory, and the copy a real read of
	 * it: no compiler may write the payload straight into the ring */
	__asm__ __volatile__("" : : "r"(l->buf) : "memory");
	/* acquire pairs with the consumer's release of 0: its check of the
	 * slot's last message is over before we overwrite it */
	if ((err = limit_wait(w, 1, &v)) < 0)
		return err;
	memcpy(slot_data(l, l->next), l->buf, len);
	/* release pairs with the consumer's acquire: the payload is in
	 * place before the word says so. The store also keeps the copy:
	 * another process may read it after, so it cannot be dropped. */
	atomic_store_explicit(w, seq + 1, memory_order_release);
	l->next = (l->next + 1) % l->nslots;
	return 0;
}

static int limit_recv(struct bench_link *l, uint64_t seq, size_t len)
{
	_Atomic uint64_t *w = slot_word(l, l->next);
	uint64_t v;
	int err;

	/* acquire pairs with the producer's release of seq + 1: the
	 * payload it copied before is what the check reads */
	if ((err = limit_wait(w, 0, &v)) < 0)
		return err;
	/* the bytes first, so a wrong message reads as on any transport */
	if ((err = bench_check(slot_data(l, l->next), len, seq)) < 0)
		return err;
	if (v != seq + 1) {
		snprintf(bench_why, sizeof(bench_why),
			 "message %llu: its slot is marked as message %llu",
			 (unsigned long long)seq, (unsigned long long)(v - 1));
		return -EBADMSG;
	}
	/* release pairs with the producer's acquire: every read of the
	 * check is done before the slot is free to be written again */
	atomic_store_explicit(w, 0, memory_order_release);
	l->next = (l->next + 1) % l->nslots;
	return 0;
}

static int limit_counts(struct bench_link *l, struct bench_counts *c)
{
	(void)l, (void)c;
	return -1;	/* it makes no system calls to count, and keeps no waits */
}

static void limit_close(struct bench_link *l, int sender)
{
	(void)sender;
	free(l->buf);
	l->buf = NULL;
}

static void limit_destroy(struct bench_link *l)
{
	munmap(l->ring, l->map_len);
	free(l);
}

const struct bench_xport bench_xport_limit = {
	"limit", "two-core limit", 0, 1,
	limit_make, limit_open, limit_opened, limit_send, limit_recv, limit_counts,
	limit_close, limit_destroy,
};
