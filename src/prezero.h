/*
 * Zeroing ring bytes with a string store before the producer writes them,
 * where that pays.
 *
 * Why: a ring's lines were last read by the other side. On some hosts a
 * plain store to such a line waits for the other core to give it up, and
 * the store buffer lets only a few such lines be in flight, while a string
 * store (rep stosb) of a large block takes whole lines without reading
 * them first; the producer's own stores then find the lines in its cache.
 * Measured on an AMD EPYC (family 26 model 2, two vCPUs, cache line round
 * trip about 580 ns), a producer filling its reservations in place ran at
 * about 5 GB/s at every size from 4 KiB to 1 MiB; zeroing each first, at
 * 10 GB/s for 16 KiB, 21 GB/s for 64 KiB and 25 GB/s for 1 MiB. Zeroing
 * each reservation of 4 or 8 KiB cost more than it saved; zeroing 64 KiB
 * blocks ahead of the producer, whatever its messages' size, paid for
 * small ones too: 1 KiB copied 2.3 -> 7.5-7.8 GB/s, zero-copy 2.4-2.6 ->
 * 4.1-7.6, 16 KiB zero-copy 10.6 -> 15.6. On the same host, in the hours
 * its line round trip read 180-200 ns, plain stores were fast, and zeroing
 * made 4 to 64 KiB zero-copy streams 15-35% slower. Other hosts may gain
 * nothing and pay for the extra pass, and a caller that reserves much and
 * writes little pays for bytes it never touches.
 *
 * So each producer finds out for itself. Now and then it runs a trial:
 * windows of its stream alternately with and without zeroing, each timed
 * from judgment to judgment less the producer's waits for room (its own
 * work: what it would take beside a consumer that always keeps up, and
 * what a cpu per consumer would let it reach), and it keeps the faster
 * way, by the median of each, until the next trial. Zeroing must win by a
 * tenth: it spends memory bandwidth.
 *
 * A channel's producer judges once per PREZERO_BLOCK bytes of the ring
 * and zeroes from its reservation up to a block ahead, within the bytes
 * the consumer has released (chan.c, zero_ahead). A topic's publisher
 * judges and zeroes each reservation of PREZERO_MIN_BYTES or more: its
 * slots are shared by every subscriber, and a slot's neighbours may still
 * be read. Either writes only bytes that are its own until it publishes.
 * A zeroed reservation holds zeros until the caller writes, another one
 * old bytes: shmkit promises neither.
 */
#ifndef SHMKIT_PREZERO_H
#define SHMKIT_PREZERO_H

#include <stddef.h>
#include <stdint.h>

/* A topic's reservations smaller than this are never zeroed and do not
   count (a topic zeroes its reservations; a channel, blocks ahead). */
#define PREZERO_MIN_BYTES (16u << 10)
/* A channel's producer judges, and zeroes ahead, this many bytes at once. */
#define PREZERO_BLOCK (64u << 10)
/* A trial's window: at least this many bytes and reservations. Short,
   so that a trial ends within a few hundred messages of 64 KiB: with
   1 MiB windows, publishers of shmkit bench's fan-out lived through
   their whole run in a trial. The median copes with the noise. */
#define PREZERO_WINDOW_BYTES (256u << 10)
#define PREZERO_WINDOW_MSGS 4u
/* Windows of each way per trial; the median shrugs off two bad ones. */
#define PREZERO_SAMPLES 5
/* Bytes reserved between trials: the first hold, then doubling while
   the answer stays the same. */
#define PREZERO_HOLD_FIRST (64ull << 20)
#define PREZERO_HOLD_MAX (1ull << 30)

struct prezero {
	uint64_t wait;		/* bytes to reserve before the next trial */
	uint64_t hold;		/* the last hold's length */
	uint64_t win_start;	/* clock (ns) at the open window's start; 0: no trial */
	uint64_t win_waited;	/* ns the producer waited for room in it since */
	uint64_t win_bytes;	/* bytes reserved in the open window */
	uint32_t win_msgs;
	uint32_t win_on;	/* the open window zeroes */
	uint32_t on;		/* outside trials: zero */
	uint32_t n[2];		/* windows so far, [0] plain and [1] zeroing */
	uint32_t cost[2][PREZERO_SAMPLES];	/* ns of own work per MiB */
	uint64_t trials;	/* trials finished, and how many chose to zero */
	uint64_t chosen;
};

/*
 * A producer's state on a ring of cap bytes: no zeroing, and the first
 * trial after one lap, when page faults no longer blur the figures.
 */
void __shmkit_prezero_init(struct prezero *z, uint64_t cap);

/*
 * Whether to zero, len bytes after the last judgment (a topic's large
 * reservation; a channel's block, pads not counted), having waited
 * waited_ns for room since: 1 or 0. Keeps the trial's windows.
 */
int __shmkit_prezero_decide(struct prezero *z, uint64_t len, uint64_t waited_ns);

/*
 * At each reservation of len bytes, once it has room: 1 if the producer
 * should zero it (__shmkit_prezero_bytes), else 0. waited_ns: how long
 * this reservation waited for room, which the producer need time only
 * while __shmkit_prezero_timing says so (else 0). Keeps the trial's
 * windows; outside trials a compare and a subtraction. Inline, like the
 * next, so that small messages pay one compare and no call.
 */
static inline int __shmkit_prezero_wanted(struct prezero *z, uint64_t len, uint64_t waited_ns)
{
	return len >= PREZERO_MIN_BYTES && __shmkit_prezero_decide(z, len, waited_ns);
}

/* Whether a trial's window is open: the producer should time its waits. */
static inline int __shmkit_prezero_timing(const struct prezero *z)
{
	return z->win_start != 0;
}

/* Zeroes len bytes at p with a string store (nothing where none exists). */
void __shmkit_prezero_bytes(void *p, size_t len);

/* One window's figure, as the trial takes it; apart so tests can feed it. */
void __shmkit_prezero_sample(struct prezero *z, int zeroed, uint64_t ns_per_mib);

/* For tests: zero always (on) or never, and hold that without trials. */
void __shmkit_prezero_force(struct prezero *z, int on);

/* Whether this build can zero this way at all (x86-64 only: rep stosb). */
int __shmkit_prezero_possible(void);

#endif
