/*
 * The inbox layout: many producers, one consumer, in one named segment
 * (issue 16). ABI between processes, as chan.h: fixed-width fields,
 * offsets pinned by static assertions, nothing trusted when read back.
 *
 *   segment offset 0      segment header (SHMKIT_HDR_SIZE, header.h)
 *   segment offset 128    struct __shmkit_inbox_hdr
 *   segment offset 4096   lane 0, lane 1, ... each lane_stride bytes:
 *                         a page holding a channel header (chan.h),
 *                         then the lane's ring of lane_cap bytes
 *
 * Lanes, not a shared ring. Each producer takes a lane of its own, and a
 * lane is a channel: the same records, positions, orderings (P1, C1, C2,
 * P2), takeover of a dead side and crash behaviour, run by chan.c's code.
 * So producers never contend for a word, a producer killed mid-message
 * leaves nothing in anyone else's way, and order per producer is the
 * lane's order. The price is memory (a ring per producer) and a consumer
 * that looks at every lane when it has nothing to do.
 *
 * One change to the channel protocol: a lane's producer wakes its
 * consumer on the inbox's one sleep block (cons_sleep), not on the lane's
 * own, so the consumer sleeps on one word for all lanes:
 *   I1 consumer: seq = load_acquire(cons_sleep.wake_seq) (acquire: the
 *      flag's store must not be seen first, or a waker of an earlier sleep,
 *      or a joining lane's kick, could clear it; model: inbox-seq-after-flag,
 *      full-inbox-weak-sq); store(sleeping, 1);
 *      full barrier; re-check every lane; futex_wait(wake_seq, seq).
 *      As S1, with the re-check over all lanes.
 *   I2 producer: after P1, S2-S4 on cons_sleep: full barrier; if
 *      sleeping: exchange it to 0; bump wake_seq; wake. Producers race
 *      for the flag; the exchange lets one of them make the call, and
 *      any one wake is enough, since the consumer re-checks every lane.
 *      (A plain store would lose no wake-up either, model/inbox.pml
 *      finds, but two producers could both call for one sleep, and
 *      wakes <= sleeps would no longer hold.)
 * For each lane it is the channel's pairing (model/chan.pml); the
 * shared flag is the topic's W2 with many wakers instead of many
 * sleepers: model/inbox.pml checks it, with lanes_used, and
 * model/waitset.pml the wait set the consumer sleeps through.
 *
 * Sides: the consumer holds the inbox (owner below) and the consumer side
 * of every lane; closing, it closes every lane's consumer side first,
 * so producers get -EPIPE, then gives the inbox up. A producer holds
 * one lane's producer side; a lane is free when that side is free, or
 * its holder is dead (the next producer takes it over as a channel's
 * producer side is taken over: after the last whole message).
 */
#ifndef SHMKIT_INBOX_H
#define SHMKIT_INBOX_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "header.h"

#define SHMKIT_INBOX_MAGIC 0x58424e49u	/* "INBX" little-endian */
#define SHMKIT_INBOX_VERSION 1
#define SHMKIT_INBOX_LANES_OFFSET 4096	/* from the segment's start */
#define SHMKIT_INBOX_LANE_HDR 4096	/* each lane's header page, before its ring */
#define SHMKIT_INBOX_MAX_LANES 1024
#define SHMKIT_INBOX_MAX_BYTES (1ull << 34)	/* all lanes together */
/* a lane's epoch word: in its first header page, after the channel header */
#define SHMKIT_INBOX_EPOCH_OFFSET 2048
#define SHMKIT_INBOX_REPLIES 1u		/* flags: each lane has a reply ring too */
#define SHMKIT_SERVICE_HDR 16		/* before each request and reply (service.c) */

struct __shmkit_inbox_hdr {
	/* layout: written by the creator before magic is published */
	_Atomic uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;
	uint32_t lanes;
	uint32_t flags;		/* SHMKIT_INBOX_REPLIES: a service */
	uint64_t lane_cap;	/* each lane's ring: a power of two, whole pages */
	uint8_t pad0[128 - 24];
	/* the consumer's cold line: written on open, close and sleep */
	_Atomic uint64_t owner;	/* pid | (start time low 32 bits) << 32; 0 none */
	_Atomic uint32_t closed;	/* 1 after a clean close; 0 while open */
	/*
	 * Lanes below this have had a producer: the consumer looks at no
	 * other. Producers take the lowest free lane, and raise this (a
	 * CAS, seq_cst) before their first message; the consumer reads it
	 * after I1's barrier, so a lane's first message is never missed.
	 */
	_Atomic uint32_t lanes_used;
	_Atomic uint64_t sleeps;	/* the consumer slept on cons_sleep */
	uint8_t pad1[128 - 24];
	/* where the consumer sleeps; every lane's producer wakes it here (I2) */
	struct __shmkit_chan_sleep cons_sleep;
};

_Static_assert(offsetof(struct __shmkit_inbox_hdr, owner) == 128, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_inbox_hdr, cons_sleep) == 256, "layout is ABI");
_Static_assert(sizeof(struct __shmkit_inbox_hdr) == 384, "layout is ABI");
_Static_assert(SHMKIT_HDR_SIZE + sizeof(struct __shmkit_inbox_hdr) <= SHMKIT_INBOX_LANES_OFFSET,
	       "inbox header fits before the lanes");
_Static_assert(sizeof(struct __shmkit_chan_hdr) <= SHMKIT_INBOX_LANE_HDR,
	       "a lane's channel header fits in its page");

/* The checked shape of an inbox (private to a handle). */
struct __shmkit_inbox_shape {
	uint32_t lanes;
	uint32_t flags;
	uint64_t lane_cap;
};

/* What a producer (a service's client) holds once it has joined. */
struct __shmkit_inbox_lane_handles {
	struct shmkit_chan *req;	/* its lane's request ring, producer side */
	struct shmkit_chan *rep;	/* a service's reply ring, consumer side */
	uint32_t lane;
	uint32_t epoch;
};

/* For service.c: the kind is 0 (an inbox) or SHMKIT_INBOX_REPLIES (a service). */
int __shmkit_inbox_make(const char *name, unsigned producers, size_t lane_capacity, int mode,
			unsigned flags, uint32_t kind);
int __shmkit_inbox_attach(const char *name, unsigned flags, int trust_mode, uint32_t kind,
			  struct shmkit_map *map, struct __shmkit_inbox_shape *sh);
int __shmkit_inbox_destroy(const char *name, uint32_t kind);
int __shmkit_inbox_join(const char *name, unsigned flags, uint32_t kind,
			struct __shmkit_inbox_lane_handles *out);
int __shmkit_inbox_open(const char *name, unsigned flags, uint32_t kind,
			struct shmkit_inbox **ib);
/* A service's reply ring of a lane, producer side; the lane's epoch now. */
struct shmkit_chan *__shmkit_inbox_reply(struct shmkit_inbox *ib, uint32_t lane);
uint32_t __shmkit_inbox_epoch(struct shmkit_inbox *ib, uint32_t lane);
struct __shmkit_chan_hdr *__shmkit_inbox_lane(void *base, const struct __shmkit_inbox_shape *sh,
					      uint32_t i, int reply);
unsigned char *__shmkit_inbox_ring(void *base, const struct __shmkit_inbox_shape *sh,
				   uint32_t i, int reply);

/*
 * For tests that check pointers stay inside the rings: a lane's ring (its
 * reply ring if reply) as the consumer's handle maps it; the request ring
 * of a client.
 */
void __shmkit_inbox_ring_of(const struct shmkit_inbox *ib, uint32_t lane, int reply,
			    const void **start, size_t *len);
struct shmkit_chan *__shmkit_client_requests(struct shmkit_client *cl);

/*
 * For judging a segment's state (info.c): does the inbox attached at base
 * hold messages that no consumer holds? 1 or 0.
 */
int __shmkit_inbox_pending(int shmid, void *base, uint64_t data_size);

#endif
