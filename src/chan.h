/*
 * The channel layout: what lives in the segment, after the segment header
 * (header.h). It is ABI between processes: fixed-width fields, offsets
 * pinned by static assertions, nothing trusted when read back.
 *
 *   segment offset 0      segment header (SHMKIT_HDR_SIZE, 128 bytes, header.h)
 *   segment offset 128    struct __shmkit_chan_hdr (below)
 *   segment offset 4096   the ring: capacity bytes, a power of two
 *
 * So a channel is 4096 + capacity bytes: whole pages, nothing wasted.
 *
 * Each side's fields sit in blocks of two cache lines (128 bytes), so that
 * no two writers share a line and the adjacent-line prefetcher does not
 * pair them either. Hot blocks are written on every message; cold ones
 * only on open, close and sleep; the other side reads cold blocks on every
 * message, which costs nothing while they are unchanged.
 */
#ifndef SHMKIT_CHAN_H
#define SHMKIT_CHAN_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "header.h"
#include "shmkit.h"

#define SHMKIT_CHAN_MAGIC 0x4e414843u	/* "CHAN" little-endian */
#define SHMKIT_CHAN_VERSION 2
#define SHMKIT_CHAN_RING_OFFSET 4096	/* from the segment's start */
#define SHMKIT_CHAN_MAX_CAPACITY (1ull << 30)

/*
 * A record in the ring: this header, then len bytes, then padding to 8.
 * The header is stored as one 64-bit word, len in the low half and mark in
 * the high half (so len comes first in memory on little-endian machines):
 * a word without the mark means "nothing here yet".
 */
struct __shmkit_rec {
	uint32_t len;		/* payload bytes, or REC_PAD */
	uint32_t mark;		/* SHMKIT_REC_MARK once the record is complete */
};
#define SHMKIT_REC_PAD 0xffffffffu	/* skip to the end of the ring */
#define SHMKIT_REC_MARK 0x31434552u	/* "REC1" */
#define SHMKIT_REC_ALIGN 8

/*
 * Written by its side only: the first line on every message, the second
 * whenever the side waits. The peer reads the first line's pos when its
 * own cached copy says it must wait, and the second line's cpu only when
 * it might yield: a side that waits often keeps these stores off the
 * lines the peer reads on every message (the cold block).
 */
struct __shmkit_chan_hot {
	_Atomic uint64_t pos;	/* producer: tail (end of published data);
				   consumer: head (end of released data) */
	_Atomic uint64_t msgs;	/* statistics, single writer */
	_Atomic uint64_t bytes;
	uint8_t pad0[64 - 24];
	_Atomic uint64_t yields;	/* sched_yield calls while it waited */
	_Atomic uint64_t wait_ns;	/* time spent waiting for the other side */
	_Atomic uint32_t cpu;		/* where this side last began to wait */
	uint32_t reserved;
	uint8_t pad1[64 - 24];
};

/* Written on open, close and sleep, by its side only. */
struct __shmkit_chan_cold {
	_Atomic uint64_t owner;	/* pid | (start time low 32 bits) << 32; 0 none */
	_Atomic uint32_t closed;	/* 1 after a clean close */
	uint32_t reserved;
	_Atomic uint64_t sleeps;	/* times this side slept on its futex */
	_Atomic uint64_t wakes;		/* times this side woke the other */
	uint8_t pad[128 - 32];
};

/*
 * A side's sleep block. The sleeper raises `sleeping` and sleeps on
 * `wake_seq`; the other side, having published, clears `sleeping` and bumps
 * `wake_seq` before the futex wake. Written only around sleeps.
 */
struct __shmkit_chan_sleep {
	_Atomic uint32_t sleeping;
	_Atomic uint32_t wake_seq;
	uint8_t pad[128 - 8];
};

/* Internal indices of hot[], cold[], sleep[]: not the public SHMKIT_PRODUCER. */
enum __shmkit_side { __SHMKIT_SIDE_PROD, __SHMKIT_SIDE_CONS };

struct __shmkit_chan_hdr {
	/* layout: written by the creator before magic is published */
	_Atomic uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;
	uint32_t flags;		/* none yet: room for pub-sub and many producers */
	uint32_t reserved0;
	uint64_t capacity;	/* ring bytes: a power of two, whole pages */
	uint64_t max_msg;	/* largest payload */
	uint8_t pad0[128 - 32];
	struct __shmkit_chan_hot hot[2];	/* indexed by __shmkit_side */
	struct __shmkit_chan_cold cold[2];
	struct __shmkit_chan_sleep sleep[2];
};

_Static_assert(sizeof(struct __shmkit_chan_hot) == 128, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_chan_hot, yields) == 64, "waits have their own line");
_Static_assert(sizeof(struct __shmkit_chan_cold) == 128, "layout is ABI");
_Static_assert(sizeof(struct __shmkit_chan_sleep) == 128, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_chan_hdr, hot) == 128, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_chan_hdr, cold) == 384, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_chan_hdr, sleep) == 640, "layout is ABI");
_Static_assert(sizeof(struct __shmkit_chan_hdr) == 896, "layout is ABI");
_Static_assert(SHMKIT_HDR_SIZE + sizeof(struct __shmkit_chan_hdr) <= SHMKIT_CHAN_RING_OFFSET,
	       "channel header fits before the ring");

struct shmkit_chan;
/* The ring a handle uses, for tests that check pointers stay inside it. */
void __shmkit_chan_ring(const struct shmkit_chan *ch, const void **start, size_t *len);
/* For tests (prezero.h): a producer that zeroes ahead always (on) or
   never, and how many bytes it has zeroed. */
void __shmkit_chan_prezero_force(struct shmkit_chan *ch, int on);
uint64_t __shmkit_chan_prezero_zeroed(const struct shmkit_chan *ch);

/*
 * For judging a segment's state (info.c): does the channel in the named
 * segment attached at base hold a stream that waits for its consumer?
 * Its producer closed (cleanly or not), and no consumer holds it or has
 * closed it since. 1 or 0.
 */
int __shmkit_chan_pending(int shmid, void *base, uint64_t data_size);

/*
 * Lanes (inbox.c): the channel's protocol on a header and ring inside
 * another segment. lane_init writes a header for a ring of cap bytes (the
 * creator's part, M0 last). lane_open checks one against cap and takes up
 * a side of it: with map, the handle owns that attachment and detaches it
 * at close; without, it borrows the caller's. A producer's wakes go to
 * cons_sleep, the one sleep block its consumer sleeps on for every lane
 * (NULL: the lane's own, as on a channel).
 * -EBUSY if a live process holds the side, -SHMKIT_ECORRUPT for a bad
 * header or positions. lane_adopt: a handle opened without a map takes
 * map over (detaches it at close). lane_ready: has a consumer lane a
 * message, at once (1, 0 or an error)? lane_close: close, for either side.
 */
void __shmkit_lane_init(struct __shmkit_chan_hdr *h, uint64_t cap);
int __shmkit_lane_open(const struct shmkit_map *map, struct __shmkit_chan_hdr *h,
		       unsigned char *ring, uint64_t cap, int role,
		       struct __shmkit_chan_sleep *cons_sleep, struct shmkit_chan **out);
void __shmkit_lane_adopt(struct shmkit_chan *ch, const struct shmkit_map *map);
int __shmkit_lane_ready(struct shmkit_chan *ch);
int __shmkit_lane_close(struct shmkit_chan *ch);

/* Longest single futex sleep, ns; -1 for none (tests only). */
extern int64_t __shmkit_chan_sleep_slice_ns;

#endif
