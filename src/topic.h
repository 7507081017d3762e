/*
 * The topic layout and protocol: one publisher, many subscribers, each
 * message written once into shared memory (issue 15). Like chan.h, the
 * layout is ABI between processes: fixed-width fields, offsets pinned by
 * static assertions, nothing trusted when read back.
 *
 *   segment offset 0      segment header (SHMKIT_HDR_SIZE, header.h)
 *   segment offset 128    struct __shmkit_topic_hdr
 *   segment offset 4096   the subscriber table: max_subs entries of 128 B
 *   after it, page-aligned the slots: nslots slots of slot_size bytes
 *
 * Slots, not a byte ring. Message s (s = 0, 1, ...) lives in slot
 * s % nslots, which holds up to max_msg bytes. Fixed slots cost memory for
 * small messages in a topic made for large ones, and buy what a topic
 * needs: a message's place follows from its number, so a subscriber's
 * position, its lag, how many it lost, and the history are all counts;
 * and a reader can tell a slot that was overwritten from its sequence
 * word alone.
 *
 * A slot's sequence word (the seqlock of message s):
 *   0          never written
 *   2s + 1     the publisher is writing message s
 *   2s + 2     message s is complete
 *
 * Publishing message s (published == s):
 *   T1 publisher: [block policy: wait until every subscriber's pos is
 *      past s - nslots]; store(slot.seq, 2s + 1); release fence; the
 *      payload and len; store_release(slot.seq, 2s + 2);
 *      store_release(published, s + 1). pairs with T2
 *   T2 subscriber at pos = k: load_acquire(slot(k).seq):
 *      2k + 2     ready: read len and payload; under the overwrite
 *                 policy, acquire fence and load slot.seq again: a
 *                 changed word means the copy may be torn, and the
 *                 message counts as lost;
 *      below      not yet published (or being written): wait;
 *      above      overwritten (overwrite policy; under block it cannot
 *                 happen and is -SHMKIT_ECORRUPT): the subscriber has
 *                 lost messages; it moves to the oldest still held
 *                 but one, published - nslots + 1 (the publisher may
 *                 be writing over the oldest already), and counts the
 *                 difference.
 *   T3 subscriber, done with message k: store_release(pos, k + 1).
 *      pairs with T4 (block policy: the publisher may now reuse the slot)
 *   T4 publisher (block policy), before writing slot s: load_acquire of
 *      each active subscriber's pos (cached as their minimum; re-read
 *      only when the cached minimum holds the publisher back, or when
 *      `joins` has changed).
 *
 * Joining (history H: a new subscriber may start H messages back):
 *   J1 subscriber: claim a table entry (CAS of its owner word, from 0 or a
 *      dead owner); store pos = max(0, P0 - H) for P0 = published as read
 *      now; fetch_add(joins) (seq_cst: after the pos store); then
 *      P = load(published). If P - pos > nslots - 2 the publisher ran
 *      ahead: store pos = P - H and repeat J1's last two steps. Then
 *      W3's wake: a scan between the claim and the pos store read the
 *      entry's previous pos, and may have put the publisher to sleep on
 *      it (model: with H = 0 nothing else would wake it).
 *   J2 publisher (block policy): after store_release(published) and the
 *      full barrier of its wake check (W2), load_acquire(joins); a change
 *      since its last scan makes it re-scan before writing the next slot.
 *      The acquire keeps the scan's loads of the table after it: relaxed,
 *      a scan on Armv8 may see the joiner's entry as it was before the
 *      claim, skip it, and overwrite its start (model: a torn copy).
 *   Either the subscriber's load of published sees P + 1, or the
 *   publisher's load of joins sees the join (a store-buffer pattern, full
 *   barriers on both sides): so without the new pos the publisher writes
 *   at most message P, into the slot of message P - nslots, and a start
 *   of P - H with H <= nslots - 1 is never that one. J1's test allows
 *   nslots - 2, one less, so that its loop ends even when the publisher
 *   keeps one message ahead. Under block policy a join loses nothing;
 *   under overwrite every read is validated anyway.
 *
 * Leaving: store_release(owner, 0) after the last pos store; the
 * publisher's scans skip entries whose owner is 0; then W3's wake, for
 * a publisher asleep on this entry's pos (model: else only the 20 ms
 * slice ends its sleep). A dead subscriber
 * (its owner word names a process that is gone) holds a block-policy
 * publisher at most until the publisher's next check of the entries that
 * hold it back (every 20 ms while it waits): the publisher then clears
 * the owner word with a CAS from the dead owner's value, so a subscriber
 * claiming the entry at the same time either wins or sees 0 and claims it
 * from there.
 *
 * Sleeping, as on channels (a Dekker handshake on each side):
 *   W1 subscriber: seq = load(sub_wake_seq); store(subs_sleeping, 1);
 *      full barrier; re-check its slot (and closed); futex_wait(seq).
 *   W2 publisher, after T1: full barrier; if load(subs_sleeping): exchange
 *      it to 0, bump sub_wake_seq, futex_wake all. Every sleeping
 *      subscriber waits for the same next message, so waking all of them
 *      wakes only those who sleep, with one flag however many there are.
 *      A dead sleeper's flag costs the publisher one wake, once. The flag
 *      is shared: only the publisher clears it, never a subscriber, who
 *      cannot know whether another one sleeps (model: sub-clears).
 *   W3 publisher (block policy): pub_sleeping, pub_wake_seq: as on a
 *      channel's producer; a subscriber after T3: full barrier; if
 *      load(pub_sleeping), exchange it to 0, bump, wake.
 *
 * Publisher: claimed with a CAS as a channel side is; closing stores
 * closed, then the owner word 0 (release), then wakes every sleeper. A
 * subscriber that has read everything published gets end of stream once
 * it sees closed (closed is loaded with acquire before published's last
 * look), or -SHMKIT_EPEERDEAD once the owner is dead. A new publisher
 * goes on from published; a slot left odd by a dead one is rewritten.
 */
#ifndef SHMKIT_TOPIC_H
#define SHMKIT_TOPIC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "header.h"

#define SHMKIT_TOPIC_MAGIC 0x43504f54u	/* "TOPC" little-endian */
#define SHMKIT_TOPIC_VERSION 1
#define SHMKIT_TOPIC_SUBS_OFFSET 4096	/* from the segment's start */
#define SHMKIT_TOPIC_MAX_SUBS 1024
#define SHMKIT_TOPIC_MAX_SLOTS (1u << 20)
#define SHMKIT_TOPIC_MAX_BYTES (1ull << 32)	/* slots in all */
/*
 * Message numbers are compared as plain integers, never modulo 2^64: a
 * count past this (14,000 years at 10 million messages a second) was
 * written by someone else, and opening the topic is refused.
 */
#define SHMKIT_TOPIC_MAX_COUNT (1ull << 62)

/* A slot: the sequence word, the length, then max_msg bytes (slot_size in all). */
struct __shmkit_topic_slot {
	_Atomic uint64_t seq;
	_Atomic uint32_t len;
	uint32_t reserved;
	/* payload follows, 16-byte aligned */
};

/* One subscriber's entry: a hot line it writes per message, a cold one. */
struct __shmkit_topic_sub {
	_Atomic uint64_t pos;	/* the next message it reads */
	_Atomic uint64_t msgs;	/* statistics, single writer */
	_Atomic uint64_t bytes;
	_Atomic uint64_t lost;	/* messages overwritten before it read them */
	uint8_t pad0[64 - 32];
	_Atomic uint64_t owner;	/* pid | (start time low 32 bits) << 32; 0 free */
	_Atomic uint64_t sleeps;
	_Atomic uint64_t wakes;	/* of the publisher (block policy) */
	_Atomic uint64_t wait_ns;
	/* the cpu of its last wait, and its yields to others on that cpu: a
	   hint and a statistic, trusted for nothing (zero from a process
	   built before them: the layout's version did not change) */
	_Atomic uint32_t cpu;
	uint32_t reserved;
	_Atomic uint64_t yields;
	uint8_t pad1[64 - 48];
};

enum __shmkit_topic_policy { __SHMKIT_TOPIC_BLOCK = 1, __SHMKIT_TOPIC_OVERWRITE = 2 };

struct __shmkit_topic_hdr {
	/* layout: written by the creator before magic is published */
	_Atomic uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;
	uint32_t policy;	/* __shmkit_topic_policy */
	uint32_t max_subs;	/* entries in the table */
	uint64_t nslots;	/* a power of two, at least 4 */
	uint64_t slot_size;	/* bytes per slot, a multiple of 64 */
	uint64_t max_msg;	/* slot_size - sizeof(slot header) */
	uint64_t history;	/* at most nslots - 2 */
	uint64_t slots_offset;	/* from the segment's start, page-aligned */
	uint8_t pad0[128 - 56];
	/* the publisher's hot line: written per message */
	_Atomic uint64_t published;	/* messages published: the next one's number */
	_Atomic uint64_t bytes;
	uint8_t pad1[64 - 16];
	/* read by the publisher per message (after W2's barrier) */
	_Atomic uint64_t joins;
	uint8_t pad2[64 - 8];
	/* the publisher's cold line */
	_Atomic uint64_t owner;
	_Atomic uint32_t closed;	/* 1 clean, 2 aborted; 0 while open */
	_Atomic uint32_t pub_cpu;	/* as a subscriber's cpu and yields */
	_Atomic uint64_t sleeps;
	_Atomic uint64_t wakes;		/* futex wakes of subscribers */
	_Atomic uint64_t wait_ns;
	_Atomic uint64_t yields;
	uint8_t pad3[64 - 48];
	/* sleeping: the subscribers' shared flag and word, the publisher's */
	_Atomic uint32_t subs_sleeping;
	_Atomic uint32_t sub_wake_seq;
	uint8_t pad4[64 - 8];
	_Atomic uint32_t pub_sleeping;
	_Atomic uint32_t pub_wake_seq;
	uint8_t pad5[64 - 8];
};

_Static_assert(sizeof(struct __shmkit_topic_slot) == 16, "layout is ABI");
_Static_assert(sizeof(struct __shmkit_topic_sub) == 128, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_topic_sub, owner) == 64, "cold line");
_Static_assert(offsetof(struct __shmkit_topic_hdr, published) == 128, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_topic_hdr, joins) == 192, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_topic_hdr, owner) == 256, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_topic_hdr, subs_sleeping) == 320, "layout is ABI");
_Static_assert(offsetof(struct __shmkit_topic_hdr, pub_sleeping) == 384, "layout is ABI");
_Static_assert(sizeof(struct __shmkit_topic_hdr) == 448, "layout is ABI");
_Static_assert(SHMKIT_HDR_SIZE + sizeof(struct __shmkit_topic_hdr) <= SHMKIT_TOPIC_SUBS_OFFSET,
	       "topic header fits before the table");

/*
 * For judging a segment's state (info.c): does the topic in the segment
 * attached at base hold messages a subscriber could still get? It has
 * published some, and keeps a history that a new subscriber may start
 * from. 1 or 0.
 */
int __shmkit_topic_pending(int shmid, void *base, uint64_t data_size);

/* The slots a handle uses, for tests that check pointers stay inside. */
struct shmkit_pub;
struct shmkit_sub;
void __shmkit_pub_slots(const struct shmkit_pub *p, const void **start, size_t *len);
void __shmkit_sub_slots(const struct shmkit_sub *s, const void **start, size_t *len);

#endif
