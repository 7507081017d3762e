/*
 * Fuzz target: the input is the state of a topic segment, and a short
 * script of calls to make on it.
 *
 * One real topic is made per process (max_msg 240, so 4 slots of 256
 * bytes; 4 subscriber places; history 2), attached raw once, and for each
 * input: the segment header is put back as it was made (so that open gets
 * as far as the topic logic, unless the input asks to damage it), the
 * topic header, the first 4 entries of the subscriber table and the slots
 * are overwritten with the input's bytes, a publisher and one or two
 * subscribers are opened, the script runs with timeout 0 (nothing ever
 * waits), and everything is closed again.
 *
 * Every call must give a documented result (0 or one of the negative codes
 * its check below lists: include/shmkit.h, shmkit_topic_create(3) and
 * src/topic.c); every pointer from reserve or peek must lie in a slot's
 * payload, with its whole length, inside the slots of the segment the
 * handle attached; no length may pass the handle's max_msg; recv must
 * never write past cap, and what it copies must be a slot's message;
 * shmkit_topic_info must say what the segment holds, and never write past
 * cap entries; -SHMKIT_ELOST only under the overwrite policy, and
 * shmkit_sub_lost grows exactly when it is returned. Until the script
 * pokes the segment behind the handles' backs (ops 9, 14, 15), the
 * protocol is checked too: positions, counters and the slots' words move
 * as topic.h says; a subscriber gets exactly the bytes this process
 * published as that message; under the block policy no message a
 * subscriber has not read is overwritten, and the publisher waits
 * (-EAGAIN) only for a subscriber a whole ring behind; a message released
 * whole did not change while it was peeked; end of stream comes only
 * after this process closed (or aborted) the publisher. These strict
 * checks also need a published count below 2^62 at the start: the
 * library's message numbers and sequence words (2s + 2) are not compared
 * modulo 2^64, so near 2^63 and 2^64 a topic misjudges its slots (a wait
 * with nobody behind, an empty slot taken for a whole message) and only
 * the results and bounds are checked. A violation calls FUZZ_FAIL, which
 * traps (libFuzzer then saves the input as crash-*).
 *
 * Nothing may block: every call has timeout 0, and the segment header's
 * magic is never damaged, by the input or a poke (without it, every open
 * waits half a second for a creator that is us: seg.c's grace period);
 * after each op the segment header must still be as loaded. The other
 * loops in the library are bounded by the ring (pub_open's step over
 * whole messages) or single-threaded (a join's retry).
 *
 * Input format (little-endian, as the fields sit in memory; anything the
 * input is too short for is zero):
 *
 *   offset  bytes  what
 *   0       1      flags (TFL_* below)
 *   1       1      with TFL_SEGHDR: which byte of the segment header to
 *                  damage (4 + b % 124: never the magic)
 *   2       72     the script: 24 calls of 3 bytes (op, param low, high)
 *   74      136    the topic header, its padding squeezed out:
 *                  magic 4, version 2, hdr_size 2, policy 4, max_subs 4,
 *                  nslots 8, slot_size 8, max_msg 8, history 8,
 *                  slots_offset 8 (the layout: the topic's own values
 *                  unless TFL_IDENT or TFL_SHAPE), published 8, bytes 8,
 *                  joins 8, owner 8 (0 unless TFL_OWNERS), closed 4,
 *                  pub_cpu 4, sleeps 8, wakes 8, wait_ns 8,
 *                  subs_sleeping 4, sub_wake_seq 4, pub_sleeping 4,
 *                  pub_wake_seq 4
 *   210     256    subscriber table entries 0-3, padding squeezed out, 64
 *                  each: pos, msgs, bytes, lost, owner (0 unless
 *                  TFL_OWNERS), sleeps, wakes, wait_ns (8 each)
 *   466     1024   the slots as they lie (4 of 256: seq 8, len 4,
 *                  reserved 4, payload 240)
 *
 * Ops (op & 15; k = op bit 4 picks subscriber 0 or 1; param is 16 bits;
 * len = param & 0x1ff, so about half the lengths are above max_msg):
 *   0 send(len); len 0 with param bit 15: buf NULL (if TOPIC_FUZZ_NULL_BUFS)
 *   1 reserve(len), fill it      2 commit(len)
 *   3 recv(k, cap len); cap 0 with param bit 15: buf NULL (the same)
 *   4 peek(k), read it all       5 release(k)
 *   6 close subscriber k (if open) and, unless param bit 1, open it
 *     again, with SHMKIT_FROM_OLDEST if param bit 0
 *   7 close the publisher (param bit 2: shmkit_pub_abort) and, unless
 *     param bit 1, open it again; with param bit 3 instead, open a second
 *     publisher while this one is open (-EBUSY)
 *   8 topic_info(cap param & 7, subs NULL if param bit 3)
 *   9 poke: xor the byte at topic offset param % 9088 (from the topic
 *     header to the segment's end, with 4 KiB pages) with (op >> 4) + 1,
 *     behind every handle
 *   10 burst: 1 + (param >> 12) sends of param & 0xff bytes, until one fails
 *   11 drain(k): 1 + (param >> 12) recvs, cap len, until one fails (but
 *     for -SHMKIT_ELOST)
 *   12 set_wait: the publisher if param bit 0, else subscriber k, to
 *     policy (param >> 1) & 3 (3 is no policy: -EINVAL)
 *   13 misuse: call param % 12 of a list of invalid calls (null handles,
 *     pointers, unknown flags): -EINVAL, and nothing changes
 *   14 poke a word: the 8-aligned word at topic offset 8 * (param % 1136)
 *     becomes (op >> 4) & 7, or with op bit 7 2^64 - 1 - that
 *   15 fake a message: for s = published + (param & 15) - 8, the slot of
 *     message s (by the header's layout if it is one after the segment
 *     header, else the topic's own) gets sequence word 2s + 2 (2s + 1 with
 *     param bit 4) and length (op >> 4) * 17
 *
 * Flags: TFL_OVERWRITE the overwrite policy (else block; unless
 * TFL_SHAPE); TFL_SHAPE max_subs, nslots, slot_size, max_msg, history,
 * slots_offset and policy from the input; TFL_IDENT magic, version and
 * hdr_size from it; TFL_OWNERS the owner words from it (else nobody holds
 * anything); TFL_SEGHDR damage a byte of the segment header;
 * TFL_SUBS_FIRST open the subscribers before the publisher; TFL_OLDEST
 * subscriber 0 opens with SHMKIT_FROM_OLDEST; TFL_ONE_SUB only subscriber
 * 0 opens at the start.
 *
 * To see what an input does: TOPIC_FUZZ_TRACE=1 build/fuzz/topic_fuzz FILE
 * prints each open and call with its result on stderr. fuzz/mkcorpus.py
 * writes the crafted seeds (fuzz/corpus/topic/seed-*).
 *
 * Built three ways: by fuzz/run.sh with libFuzzer (the entry point is
 * LLVMFuzzerTestOneInput); by tests/fuzz_replay.c, which includes this file
 * after defining TOPIC_FUZZ_ENTRY (the function's name), TOPIC_FUZZ_NAME(buf,
 * cap) (a tracked name from the test harness) and FUZZ_FAIL(msg); or by
 * anyone with a main of their own.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "barrier.h"
#include "fuzz.h"
#include "header.h"
#include "look.h"
#include "owner.h"
#include "shmkit.h"
#include "topic.h"

#ifndef TOPIC_FUZZ_ENTRY
#define TOPIC_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

#define TF_CHECK(c) do { if (!(c)) FUZZ_FAIL("violated: " #c); } while (0)

/*
 * NULL buffers with length 0 (ops 0 and 3 with param bit 15), which the
 * API accepts. (This found src/topic.c passing NULL to memcpy under the
 * block policy, which UBSan stops at; -DTOPIC_FUZZ_NULL_BUFS=0 leaves
 * them out.)
 */
#ifndef TOPIC_FUZZ_NULL_BUFS
#define TOPIC_FUZZ_NULL_BUFS 1
#endif

#define TF_ASK_MAX_MSG 240	/* slots of 256 bytes */
#define TF_NSLOTS 4u
#define TF_MAX_SUBS 4u
#define TF_HISTORY 2u
#define TF_SLOT_SIZE 256u
#define TF_MAX_MSG (TF_SLOT_SIZE - sizeof(struct __shmkit_topic_slot))
#define TF_SLOT_BYTES (TF_NSLOTS * TF_SLOT_SIZE)
#define TF_TABLE_MAX 64		/* table entries looked at: past any that fit */

enum {
	TFL_OVERWRITE = 1 << 0,	/* the overwrite policy (else block) */
	TFL_SHAPE = 1 << 1,	/* shape and policy from the input */
	TFL_IDENT = 1 << 2,	/* magic, version, hdr_size from the input */
	TFL_OWNERS = 1 << 3,	/* owner words from the input (else 0) */
	TFL_SEGHDR = 1 << 4,	/* damage a byte of the segment header */
	TFL_SUBS_FIRST = 1 << 5,	/* open the subscribers first */
	TFL_OLDEST = 1 << 6,	/* subscriber 0 opens with SHMKIT_FROM_OLDEST */
	TFL_ONE_SUB = 1 << 7,	/* open only subscriber 0 at the start */
};

#define TF_NOPS 24
#define TF_PREFIX (2 + 3 * TF_NOPS)
#define TF_HDR_DENSE 136
#define TF_SUB_DENSE 64
#define TF_TABLE_IN (TF_PREFIX + TF_HDR_DENSE)
#define TF_SLOTS_IN (TF_TABLE_IN + TF_MAX_SUBS * TF_SUB_DENSE)
#define TF_LAYOUT_END 56	/* topic header bytes check_layout reads */
#define TF_HUGE (1ull << 62)	/* strict only for message numbers below */

static struct {
	int ready;
	int trace;	/* TOPIC_FUZZ_TRACE set: each call and its result on stderr */
	int shmid;
	unsigned char *raw;	/* our own read-write mapping of the segment */
	size_t segsz;		/* the whole segment, header included */
	size_t area;		/* the bytes after the segment header */
	uint64_t slots_off;	/* where the slots are, as made */
	uint64_t me;		/* this process's owner word */
	unsigned char seghdr[SHMKIT_HDR_SIZE];	/* the segment header as made */
	unsigned char loaded[SHMKIT_HDR_SIZE];	/* as this input has it */
	char name[SHMKIT_NAME_MAX + 1];
} tf;

#ifndef TOPIC_FUZZ_NAME
/*
 * Cleanup for the libFuzzer build, as in chan_fuzz.c: a topic is opened by
 * name, so its segment cannot be marked for removal at once; it is removed
 * at exit, or by a reaper child that waits for this process's end.
 */
static void tf_remove(void)
{
	if (tf.ready) {
		shmctl(tf.shmid, IPC_RMID, NULL);
		__shmkit_look_forget(tf.shmid);
	}
}

static void tf_reaper(int shmid)
{
	int fds[2];
	char c;
	pid_t pid;

	if (pipe(fds) < 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		close(fds[1]);
		if (tf.raw)
			shmdt(tf.raw);
		while (read(fds[0], &c, 1) != 0)
			;	/* EOF: every holder of the write end is gone */
		shmctl(shmid, IPC_RMID, NULL);
		__shmkit_look_forget(shmid);
		_exit(0);
	}
	close(fds[0]);	/* the write end stays open, unused, until we end */
}

#define TOPIC_FUZZ_NAME(buf, cap) snprintf((buf), (cap), "fz-topic-%d", (int)getpid())
#define TF_TRACK(shmid) (tf_reaper(shmid), atexit(tf_remove))
#else
#ifndef TF_TRACK
#define TF_TRACK(shmid) ((void)(shmid))
#endif
#endif

static struct __shmkit_topic_hdr *tf_hdr(void)
{
	return (void *)(tf.raw + SHMKIT_HDR_SIZE);
}

static struct __shmkit_topic_sub *tf_entry(unsigned i)
{
	return (struct __shmkit_topic_sub *)(void *)(tf.raw + SHMKIT_TOPIC_SUBS_OFFSET) + i;
}

/* Table entries that lie inside the segment (whatever max_subs says). */
static unsigned tf_entries(void)
{
	size_t n = (tf.segsz - SHMKIT_TOPIC_SUBS_OFFSET) / sizeof(struct __shmkit_topic_sub);

	return n < TF_TABLE_MAX ? (unsigned)n : TF_TABLE_MAX;
}

#define TF_LD(x) atomic_load_explicit(&(x), memory_order_relaxed)
#define TF_ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

static void tf_setup(void)
{
	struct shmkit_topic_params tp = {
		.max_msg = TF_ASK_MAX_MSG, .slots = TF_NSLOTS, .max_subs = TF_MAX_SUBS,
		.history = TF_HISTORY, .policy = SHMKIT_TOPIC_BLOCK,
	};
	struct shmid_ds ds;
	int shmid;

	TOPIC_FUZZ_NAME(tf.name, sizeof(tf.name));
	shmid = shmkit_topic_create(tf.name, &tp, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	if (shmid == -EEXIST) {	/* left by an earlier process with our pid */
		shmkit_topic_destroy(tf.name);
		shmid = shmkit_topic_create(tf.name, &tp, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	}
	if (shmid < 0) {
		fprintf(stderr, "topic_fuzz: cannot make topic %s: %s\n", tf.name,
			shmkit_strerror(shmid));
		abort();
	}
	tf.shmid = shmid;
	tf.raw = shmat(shmid, NULL, 0);
	if (tf.raw == (void *)-1 || shmctl(shmid, IPC_STAT, &ds) < 0) {
		shmctl(shmid, IPC_RMID, NULL);
		perror("topic_fuzz: shmat");
		abort();
	}
	tf.ready = 1;
	tf.trace = getenv("TOPIC_FUZZ_TRACE") != NULL;
	TF_TRACK(shmid);
	memcpy(tf.seghdr, tf.raw, sizeof(tf.seghdr));
	tf.segsz = ds.shm_segsz;
	tf.area = tf.segsz - SHMKIT_HDR_SIZE;
	tf.slots_off = tf_hdr()->slots_offset;
	tf.me = __shmkit_owner_word();
	/* the shape this file's input format and seeds are written for */
	if (tf_hdr()->nslots != TF_NSLOTS || tf_hdr()->slot_size != TF_SLOT_SIZE ||
	    tf.slots_off + TF_SLOT_BYTES != tf.segsz) {
		fprintf(stderr, "topic_fuzz: the topic's shape is not the one expected\n");
		abort();
	}
}

/* The input, read past its end as zeros. */
struct tf_in {
	const uint8_t *p;
	size_t n;
};

static uint8_t tf_u8(const struct tf_in *in, size_t off)
{
	return off < in->n ? in->p[off] : 0;
}

static uint64_t tf_le(const struct tf_in *in, size_t off, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)tf_u8(in, off + i) << (8 * i);
	return v;
}

/* Lays the input over the topic's header, table and slots (see the top). */
static void tf_load(const struct tf_in *in, unsigned flags)
{
	struct __shmkit_topic_hdr *h = tf_hdr();
	size_t d = TF_PREFIX, off;
	unsigned i;

	memcpy(tf.raw, tf.seghdr, sizeof(tf.seghdr));
	if (flags & TFL_SEGHDR)
		tf.raw[4 + tf_u8(in, 1) % (SHMKIT_HDR_SIZE - 4)] ^= 0xa5;
	memcpy(tf.loaded, tf.raw, sizeof(tf.loaded));
	memset(tf.raw + SHMKIT_HDR_SIZE, 0, tf.area);

	TF_ST(h->magic, (flags & TFL_IDENT) ? (uint32_t)tf_le(in, d, 4) : SHMKIT_TOPIC_MAGIC);
	h->version = (flags & TFL_IDENT) ? (uint16_t)tf_le(in, d + 4, 2) : SHMKIT_TOPIC_VERSION;
	h->hdr_size = (flags & TFL_IDENT) ? (uint16_t)tf_le(in, d + 6, 2) : (uint16_t)sizeof(*h);
	if (flags & TFL_SHAPE) {
		h->policy = (uint32_t)tf_le(in, d + 8, 4);
		h->max_subs = (uint32_t)tf_le(in, d + 12, 4);
		h->nslots = tf_le(in, d + 16, 8);
		h->slot_size = tf_le(in, d + 24, 8);
		h->max_msg = tf_le(in, d + 32, 8);
		h->history = tf_le(in, d + 40, 8);
		h->slots_offset = tf_le(in, d + 48, 8);
	} else {
		h->policy = (flags & TFL_OVERWRITE) ? __SHMKIT_TOPIC_OVERWRITE : __SHMKIT_TOPIC_BLOCK;
		h->max_subs = TF_MAX_SUBS;
		h->nslots = TF_NSLOTS;
		h->slot_size = TF_SLOT_SIZE;
		h->max_msg = TF_MAX_MSG;
		h->history = TF_HISTORY;
		h->slots_offset = tf.slots_off;
	}
	d += 56;
	TF_ST(h->published, tf_le(in, d, 8));
	TF_ST(h->bytes, tf_le(in, d + 8, 8));
	TF_ST(h->joins, tf_le(in, d + 16, 8));
	TF_ST(h->owner, (flags & TFL_OWNERS) ? tf_le(in, d + 24, 8) : 0);
	TF_ST(h->closed, (uint32_t)tf_le(in, d + 32, 4));
	TF_ST(h->pub_cpu, (uint32_t)tf_le(in, d + 36, 4));
	TF_ST(h->sleeps, tf_le(in, d + 40, 8));
	TF_ST(h->wakes, tf_le(in, d + 48, 8));
	TF_ST(h->wait_ns, tf_le(in, d + 56, 8));
	TF_ST(h->subs_sleeping, (uint32_t)tf_le(in, d + 64, 4));
	TF_ST(h->sub_wake_seq, (uint32_t)tf_le(in, d + 68, 4));
	TF_ST(h->pub_sleeping, (uint32_t)tf_le(in, d + 72, 4));
	TF_ST(h->pub_wake_seq, (uint32_t)tf_le(in, d + 76, 4));
	d = TF_TABLE_IN;
	for (i = 0; i < TF_MAX_SUBS; i++, d += TF_SUB_DENSE) {
		struct __shmkit_topic_sub *e = tf_entry(i);

		TF_ST(e->pos, tf_le(in, d, 8));
		TF_ST(e->msgs, tf_le(in, d + 8, 8));
		TF_ST(e->bytes, tf_le(in, d + 16, 8));
		TF_ST(e->lost, tf_le(in, d + 24, 8));
		TF_ST(e->owner, (flags & TFL_OWNERS) ? tf_le(in, d + 32, 8) : 0);
		TF_ST(e->sleeps, tf_le(in, d + 40, 8));
		TF_ST(e->wakes, tf_le(in, d + 48, 8));
		TF_ST(e->wait_ns, tf_le(in, d + 56, 8));
	}
	off = TF_SLOTS_IN;
	if (in->n > off)
		memcpy(tf.raw + tf.slots_off, in->p + off,
		       in->n - off < TF_SLOT_BYTES ? in->n - off : TF_SLOT_BYTES);
	shmkit_smp_mb();	/* barrier.h: a fence TSan accepts */
}

/* The layout a handle checked when it opened, read back from the segment. */
struct tf_view {
	const unsigned char *start;	/* the handle's slots, in its own mapping */
	size_t len;
	uint64_t nslots, slot_size, max_msg, history;
	uint32_t max_subs;
	uint32_t policy;	/* __shmkit_topic_policy */
};

struct tf_pub {
	struct shmkit_pub *p;
	struct tf_view v;
	int resv;		/* a reservation is open */
	size_t resv_len;
	uint64_t resv_msg;	/* its message's number (strict mode) */
};

struct tf_sub {
	struct shmkit_sub *s;
	struct tf_view v;
	int entry;		/* its table entry, -1 if unknown */
	int peeked;
	const unsigned char *peek_ptr;
	size_t peek_len;
	unsigned char copy[TF_SLOT_BYTES];	/* the peeked bytes, as first read */
};

enum { TF_PUB_UNKNOWN, TF_PUB_OPEN, TF_PUB_CLOSED, TF_PUB_ABORTED };

/* One input's run. */
struct tf_run {
	unsigned flags;
	/*
	 * Strict until a poke: then only what holds for any bytes is
	 * checked (the bounds, the results), not the protocol.
	 */
	int poked;
	int huge;		/* message numbers near 2^63 and 2^64: see the top */
	int layout_poked;	/* a poke reached the layout check_layout reads */
	int pub_state;		/* how this process last left the publisher */
	struct tf_pub pub;
	struct tf_sub sub[2];
	struct {
		uint64_t msg;
		uint32_t len;
		int valid;
	} sent[64];		/* the messages this process published, by number */
};

static int tf_strict(const struct tf_run *run)
{
	return !run->poked && !run->huge;
}

/* Is the layout the one made, and the segment header undamaged? */
static int tf_intact(const struct tf_run *run)
{
	return !(run->flags & (TFL_SHAPE | TFL_IDENT | TFL_SEGHDR)) && !run->layout_poked;
}

static unsigned char tf_pat(uint64_t msg, size_t i)
{
	return (unsigned char)(msg * 37 + i * 7 + 1);
}

static void tf_fill(unsigned char *p, uint64_t msg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = tf_pat(msg, i);
}

static int tf_is_pat(const unsigned char *p, uint64_t msg, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != tf_pat(msg, i))
			return 0;
	return 1;
}

/*
 * Fills v from the topic header as the handle that just opened checked it,
 * and checks the handle's slots (start, len) against it: they must lie in
 * a mapping of this very segment, inside it.
 */
static void tf_view_of(struct tf_view *v, const void *start, size_t len)
{
	struct __shmkit_topic_hdr *h = tf_hdr();
	const unsigned char *base;
	uint64_t off = h->slots_offset;

	v->start = start;
	v->len = len;
	v->nslots = h->nslots;
	v->slot_size = h->slot_size;
	v->max_msg = h->max_msg;
	v->history = h->history;
	v->max_subs = h->max_subs;
	v->policy = h->policy;
	TF_CHECK(v->policy == __SHMKIT_TOPIC_BLOCK || v->policy == __SHMKIT_TOPIC_OVERWRITE);
	TF_CHECK(v->nslots >= 4 && (v->nslots & (v->nslots - 1)) == 0);
	TF_CHECK(v->slot_size >= 64 && v->slot_size % 64 == 0);
	TF_CHECK(v->max_msg == v->slot_size - sizeof(struct __shmkit_topic_slot));
	TF_CHECK(v->history <= v->nslots - 2);
	TF_CHECK(v->max_subs >= 1 && v->max_subs <= tf_entries());
	TF_CHECK(len == v->nslots * v->slot_size);
	TF_CHECK(off >= SHMKIT_TOPIC_SUBS_OFFSET + (uint64_t)v->max_subs *
		 sizeof(struct __shmkit_topic_sub));
	TF_CHECK(off <= tf.segsz && len <= tf.segsz - off);
	TF_CHECK(start != NULL && (uintptr_t)start >= off);
	base = (const unsigned char *)start - off;
	TF_CHECK((uintptr_t)base % SHMLBA == 0);
	/* two mappings of the same segment: the handle's and ours */
	TF_CHECK(memcmp(base, tf.raw, tf.segsz) == 0);
}

static struct __shmkit_topic_slot *tf_slot(const struct tf_view *v, uint64_t msg)
{
	return (struct __shmkit_topic_slot *)(void *)((unsigned char *)v->start +
						      (msg & (v->nslots - 1)) * v->slot_size);
}

/* Is [p, p + n) a message's bytes in one of v's slots? */
static void tf_span(const struct tf_view *v, const void *p, size_t n)
{
	const unsigned char *q = p;
	size_t at;

	TF_CHECK(n <= v->max_msg);
	TF_CHECK(q != NULL && q >= v->start);
	at = (size_t)(q - v->start);
	TF_CHECK(at < v->len && n <= v->len - at);
	TF_CHECK(at % v->slot_size == sizeof(struct __shmkit_topic_slot));
}

/* Is buf[0, n) the message held in some slot of v, with that length? */
static int tf_in_some_slot(const struct tf_view *v, const unsigned char *buf, size_t n)
{
	for (uint64_t i = 0; i < v->nslots; i++) {
		struct __shmkit_topic_slot *s = tf_slot(v, i);

		if (TF_LD(s->len) == n && memcmp((unsigned char *)s + sizeof(*s), buf, n) == 0)
			return 1;
	}
	return 0;
}

/* Entries that hold back a block publisher writing message m, or claim
 * to be past it (those make a scan -SHMKIT_ECORRUPT). */
static void tf_blockers(const struct tf_view *v, uint64_t m, unsigned *behind, unsigned *ahead)
{
	*behind = *ahead = 0;
	for (uint32_t i = 0; i < v->max_subs; i++) {
		struct __shmkit_topic_sub *e = tf_entry(i);
		uint64_t pos = TF_LD(e->pos);

		if (!TF_LD(e->owner))
			continue;
		if (pos > m)
			(*ahead)++;
		else if (m - pos >= v->nslots)
			(*behind)++;
	}
}

static void tf_trace(const char *what, int r, size_t n)
{
	if (tf.trace)
		fprintf(stderr, "  %s -> %d %s n=%zu\n", what, r, r < 0 ? shmkit_strerror(r) : "", n);
}

/* ------------------------------------------------------------- publisher */

static int tf_open_result(int r)
{
	return r == 0 || r == -EBUSY || r == -SHMKIT_ENOTTOPIC || r == -SHMKIT_ECORRUPT ||
	       r == -SHMKIT_EBADHDR || r == -SHMKIT_ECLASH;
}

static void tf_pub_open(struct tf_run *run)
{
	struct __shmkit_topic_hdr *h = tf_hdr();
	uint64_t p0 = TF_LD(h->published), p1;
	const void *start;
	size_t len;
	int r = shmkit_pub_open(tf.name, 0, &run->pub.p);

	tf_trace("pub_open", r, 0);
	TF_CHECK(tf_open_result(r));
	/* a count past SHMKIT_TOPIC_MAX_COUNT is refused, never wrapped */
	if (tf_intact(run))
		TF_CHECK(p0 > SHMKIT_TOPIC_MAX_COUNT ? r == -SHMKIT_ECORRUPT || r == -EBUSY :
						      r == 0 || r == -EBUSY);
	if (tf_intact(run) && tf_strict(run) && !(run->flags & TFL_OWNERS) &&
	    p0 <= SHMKIT_TOPIC_MAX_COUNT)
		TF_CHECK(r == 0);
	run->pub.resv = 0;
	if (r < 0) {
		run->pub.p = NULL;
		return;
	}
	__shmkit_pub_slots(run->pub.p, &start, &len);
	tf_view_of(&run->pub.v, start, len);
	TF_CHECK(TF_LD(h->owner) == tf.me);
	TF_CHECK(TF_LD(h->closed) == 0);
	/* it goes on after the last whole message, stepping over those whole */
	p1 = TF_LD(h->published);
	TF_CHECK(p1 - p0 <= run->pub.v.nslots);
	for (uint64_t k = p0; k != p1; k++)
		TF_CHECK(TF_LD(tf_slot(&run->pub.v, k)->seq) == 2 * k + 2);
	TF_CHECK(TF_LD(tf_slot(&run->pub.v, p1)->seq) != 2 * p1 + 2);
	run->pub_state = TF_PUB_OPEN;
}

static void tf_pub_close(struct tf_run *run, int abort_it)
{
	struct __shmkit_topic_hdr *h = tf_hdr();
	int r;

	if (!run->pub.p)
		return;
	r = abort_it ? shmkit_pub_abort(run->pub.p) : shmkit_pub_close(run->pub.p);
	tf_trace(abort_it ? "pub_abort" : "pub_close", r, 0);
	TF_CHECK(r == 0);
	run->pub.p = NULL;
	run->pub.resv = 0;
	/* a closed publisher holds nothing and says how it ended */
	TF_CHECK(TF_LD(h->owner) == 0);
	TF_CHECK(TF_LD(h->closed) == (abort_it ? 2u : 1u));
	run->pub_state = abort_it ? TF_PUB_ABORTED : TF_PUB_CLOSED;
}

/* A second publisher, while this one is open: its place is taken. */
static void tf_pub_second(struct tf_run *run)
{
	struct shmkit_pub *p2 = NULL;
	int r;

	if (!run->pub.p)
		return;
	r = shmkit_pub_open(tf.name, 0, &p2);
	tf_trace("second pub_open", r, 0);
	TF_CHECK(tf_open_result(r));
	if (tf_intact(run) && tf_strict(run))
		TF_CHECK(r == -EBUSY);
	if (r == 0) {
		/* a poke gave the owner word away: tidy up, nothing is strict now */
		TF_CHECK(!tf_strict(run));
		TF_CHECK(shmkit_pub_close(p2) == 0);
	}
}

/* send (reserve == 0) or reserve of len bytes. */
static int tf_write(struct tf_run *run, size_t len, int reserve, int nullbuf)
{
	static unsigned char sbuf[512];
	struct tf_pub *pb = &run->pub;
	struct __shmkit_topic_hdr *h = tf_hdr();
	uint64_t m = TF_LD(h->published), bytes0 = TF_LD(h->bytes);
	unsigned behind, ahead;
	void *wp = NULL;
	int r;

	if (!pb->p)
		return 0;
	tf_blockers(&pb->v, m, &behind, &ahead);
	tf_fill(sbuf, m, len);
	if (reserve)
		r = shmkit_pub_reserve(pb->p, len, &wp, 0);
	else
		r = shmkit_pub_send(pb->p, nullbuf ? NULL : sbuf, len, 0);
	tf_trace(reserve ? "reserve" : "send", r, len);
	TF_CHECK(r == 0 || r == -EMSGSIZE || r == -EAGAIN || r == -SHMKIT_ECORRUPT);
	TF_CHECK((len > pb->v.max_msg) == (r == -EMSGSIZE));
	/* the overwrite policy never waits, and never scans the table */
	if (pb->v.policy == __SHMKIT_TOPIC_OVERWRITE)
		TF_CHECK(r == 0 || r == -EMSGSIZE);
	/* a reserve abandons the last reservation, whatever it returns */
	pb->resv = 0;
	if (tf_strict(run) && pb->v.policy == __SHMKIT_TOPIC_BLOCK) {
		/* it waits for a subscriber a whole ring behind, and only then */
		if (r == 0)
			TF_CHECK(behind == 0);
		if (r == -EAGAIN)
			TF_CHECK(behind > 0);
		if (r == -SHMKIT_ECORRUPT)
			TF_CHECK(ahead > 0);
	}
	if (tf_strict(run))
		TF_CHECK(TF_LD(h->published) == m + (r == 0 && !reserve));
	if (r < 0)
		return r;
	if (reserve) {
		tf_span(&pb->v, wp, len);
		memset(wp, 0x5c, len);	/* all of it is ours to write */
		tf_fill(wp, m, len);
		pb->resv = 1;
		pb->resv_len = len;
		pb->resv_msg = m;
		if (tf_strict(run)) {
			TF_CHECK((unsigned char *)wp == (unsigned char *)tf_slot(&pb->v, m) +
							sizeof(struct __shmkit_topic_slot));
			TF_CHECK(TF_LD(tf_slot(&pb->v, m)->seq) == 2 * m + 1);
		}
		return 0;
	}
	if (tf_strict(run)) {
		struct __shmkit_topic_slot *s = tf_slot(&pb->v, m);

		TF_CHECK(TF_LD(s->seq) == 2 * m + 2 && TF_LD(s->len) == len);
		TF_CHECK(tf_is_pat((unsigned char *)s + sizeof(*s), m, len));
		TF_CHECK(TF_LD(h->bytes) == bytes0 + len);
		run->sent[m % 64].msg = m;
		run->sent[m % 64].len = (uint32_t)len;
		run->sent[m % 64].valid = 1;
	}
	return 0;
}

static void tf_commit(struct tf_run *run, size_t used)
{
	struct tf_pub *pb = &run->pub;
	struct __shmkit_topic_hdr *h = tf_hdr();
	uint64_t m = pb->resv_msg, bytes0 = TF_LD(h->bytes);
	int r;

	if (!pb->p)
		return;
	r = shmkit_pub_commit(pb->p, used);
	tf_trace("commit", r, used);
	TF_CHECK(r == 0 || r == -EINVAL);
	TF_CHECK(r == (pb->resv && used <= pb->resv_len ? 0 : -EINVAL));
	if (r < 0)
		return;
	pb->resv = 0;
	if (tf_strict(run)) {
		struct __shmkit_topic_slot *s = tf_slot(&pb->v, m);

		TF_CHECK(TF_LD(h->published) == m + 1);
		TF_CHECK(TF_LD(s->seq) == 2 * m + 2 && TF_LD(s->len) == used);
		TF_CHECK(tf_is_pat((unsigned char *)s + sizeof(*s), m, used));
		TF_CHECK(TF_LD(h->bytes) == bytes0 + used);
		run->sent[m % 64].msg = m;
		run->sent[m % 64].len = (uint32_t)used;
		run->sent[m % 64].valid = 1;
	}
}

/* ------------------------------------------------------------ subscriber */

static void tf_sub_open(struct tf_run *run, int k, int oldest)
{
	struct tf_sub *sb = &run->sub[k];
	struct __shmkit_topic_hdr *h = tf_hdr();
	uint64_t before[TF_TABLE_MAX], p = TF_LD(h->published), hist = h->history, start;
	unsigned i, n = tf_entries(), changed = 0;
	/* a block publisher asleep is woken, once, by the joining subscriber */
	uint64_t woke = h->policy == __SHMKIT_TOPIC_BLOCK && TF_LD(h->pub_sleeping);
	const void *slots;
	size_t len;
	int r;

	for (i = 0; i < n; i++)
		before[i] = TF_LD(tf_entry(i)->owner);
	r = shmkit_sub_open(tf.name, oldest ? SHMKIT_FROM_OLDEST : 0, &sb->s);
	tf_trace(oldest ? "sub_open oldest" : "sub_open", r, (size_t)k);
	TF_CHECK(tf_open_result(r));
	if (tf_intact(run))
		TF_CHECK(p > SHMKIT_TOPIC_MAX_COUNT ? r == -SHMKIT_ECORRUPT || r == -EBUSY :
						     r == 0 || r == -EBUSY);
	if (tf_intact(run) && tf_strict(run) && !(run->flags & TFL_OWNERS) &&
	    p <= SHMKIT_TOPIC_MAX_COUNT)
		TF_CHECK(r == 0);	/* 4 places, at most 2 taken */
	sb->entry = -1;
	sb->peeked = 0;
	if (r < 0) {
		sb->s = NULL;
		for (i = 0; i < n; i++)
			TF_CHECK(TF_LD(tf_entry(i)->owner) != tf.me || before[i] == tf.me);
		return;
	}
	__shmkit_sub_slots(sb->s, &slots, &len);
	tf_view_of(&sb->v, slots, len);
	/* it took exactly one place, a free or dead one, and starts afresh */
	for (i = 0; i < n; i++) {
		if (TF_LD(tf_entry(i)->owner) == before[i])
			continue;
		changed++;
		sb->entry = (int)i;
	}
	TF_CHECK(changed == 1 && (uint32_t)sb->entry < sb->v.max_subs);
	{
		struct __shmkit_topic_sub *e = tf_entry((unsigned)sb->entry);

		TF_CHECK(TF_LD(e->owner) == tf.me);
		start = oldest ? (p > hist ? p - hist : 0) : p;
		TF_CHECK(TF_LD(e->pos) == start);
		TF_CHECK(TF_LD(e->msgs) == 0 && TF_LD(e->bytes) == 0 && TF_LD(e->lost) == 0);
		TF_CHECK(TF_LD(e->sleeps) == 0 && TF_LD(e->wakes) == woke && TF_LD(e->wait_ns) == 0);
		if (woke)
			TF_CHECK(TF_LD(h->pub_sleeping) == 0);
	}
	TF_CHECK(shmkit_sub_lost(sb->s) == 0);
}

static void tf_sub_close(struct tf_run *run, int k)
{
	struct tf_sub *sb = &run->sub[k];
	int r;

	if (!sb->s)
		return;
	r = shmkit_sub_close(sb->s);
	tf_trace("sub_close", r, (size_t)k);
	TF_CHECK(r == 0);
	sb->s = NULL;
	sb->peeked = 0;
	if (sb->entry >= 0)
		TF_CHECK(TF_LD(tf_entry((unsigned)sb->entry)->owner) == 0);
}

/* What a subscriber's wait may end with, given how we left the publisher. */
static void tf_sub_result(const struct tf_run *run, const struct tf_sub *sb, int r, int recv)
{
	TF_CHECK(r == 0 || r == -EAGAIN || r == -SHMKIT_EEOF || r == -SHMKIT_EABORTED ||
		 r == -SHMKIT_EPEERDEAD || r == -SHMKIT_ELOST || r == -SHMKIT_ECORRUPT ||
		 (recv && r == -EMSGSIZE));
	if (r == -SHMKIT_ELOST)
		TF_CHECK(sb->v.policy == __SHMKIT_TOPIC_OVERWRITE);
	if (!tf_strict(run))
		return;
	switch (run->pub_state) {
	case TF_PUB_OPEN:
		TF_CHECK(r != -SHMKIT_EEOF && r != -SHMKIT_EABORTED && r != -SHMKIT_EPEERDEAD);
		break;
	case TF_PUB_CLOSED:
		TF_CHECK(r != -EAGAIN && r != -SHMKIT_EABORTED && r != -SHMKIT_EPEERDEAD);
		break;
	case TF_PUB_ABORTED:
		TF_CHECK(r != -EAGAIN && r != -SHMKIT_EEOF && r != -SHMKIT_EPEERDEAD);
		break;
	}
}

/* A subscriber's entry, before a call, to compare with after it. */
struct tf_before {
	uint64_t pos, msgs, bytes, lost, sub_lost;
	struct __shmkit_topic_sub *e;
};

static void tf_snap(const struct tf_sub *sb, struct tf_before *b)
{
	b->e = sb->entry >= 0 ? tf_entry((unsigned)sb->entry) : NULL;
	if (b->e) {
		b->pos = TF_LD(b->e->pos);
		b->msgs = TF_LD(b->e->msgs);
		b->bytes = TF_LD(b->e->bytes);
		b->lost = TF_LD(b->e->lost);
	}
	b->sub_lost = shmkit_sub_lost(sb->s);
}

/*
 * After a call that returned r and read a message of n bytes if adv:
 * the lost count grows exactly on -SHMKIT_ELOST, and (strict) the entry
 * moves by the message read plus those lost.
 */
static void tf_moved(const struct tf_run *run, const struct tf_sub *sb,
		     const struct tf_before *b, int r, int adv, size_t n)
{
	uint64_t lost = shmkit_sub_lost(sb->s), d = lost - b->sub_lost;

	TF_CHECK(lost >= b->sub_lost);
	TF_CHECK((r == -SHMKIT_ELOST) == (d > 0));
	if (!tf_strict(run) || !b->e)
		return;
	TF_CHECK(TF_LD(b->e->pos) == b->pos + (uint64_t)adv + d);
	TF_CHECK(TF_LD(b->e->lost) == b->lost + d);
	TF_CHECK(TF_LD(b->e->msgs) == b->msgs + (uint64_t)adv);
	TF_CHECK(TF_LD(b->e->bytes) == b->bytes + (adv ? n : 0));
}

/* Strict: is [p, p + n) message pos as it lies in its slot, and as sent? */
static void tf_is_msg(const struct tf_run *run, const struct tf_sub *sb, uint64_t pos,
		      const unsigned char *p, size_t n, int in_place)
{
	struct __shmkit_topic_slot *s = tf_slot(&sb->v, pos);
	const unsigned char *payload = (const unsigned char *)s + sizeof(*s);

	TF_CHECK(TF_LD(s->seq) == 2 * pos + 2 && TF_LD(s->len) == n);
	if (in_place)
		TF_CHECK(p == payload);
	else
		TF_CHECK(memcmp(p, payload, n) == 0);
	if (run->sent[pos % 64].valid && run->sent[pos % 64].msg == pos) {
		TF_CHECK(run->sent[pos % 64].len == n);
		TF_CHECK(tf_is_pat(p, pos, n));
	}
}

static int tf_recv(struct tf_run *run, int k, size_t cap, int nullbuf)
{
	static unsigned char rbuf[512 + 64];
	struct tf_sub *sb = &run->sub[k];
	struct tf_before b;
	size_t n = (size_t)-1, i;
	int r, was_peeked = sb->peeked;

	if (!sb->s)
		return 0;
	tf_snap(sb, &b);
	memset(rbuf + cap, 0xa5, 64);
	r = shmkit_sub_recv(sb->s, nullbuf ? NULL : rbuf, cap, &n, 0);
	tf_trace("recv", r, n);
	tf_sub_result(run, sb, r, 1);
	for (i = cap; i < cap + 64; i++)
		TF_CHECK(rbuf[i] == 0xa5);	/* never past cap */
	if (r == 0 || r == -EMSGSIZE) {
		TF_CHECK(n <= sb->v.max_msg);
		TF_CHECK(r == 0 ? n <= cap : n > cap);
	}
	if (r == 0 && !nullbuf) {
		/* a message, as some slot holds it (nothing ran since the copy) */
		TF_CHECK(tf_in_some_slot(&sb->v, rbuf, n));
		if (tf_strict(run) && b.e)
			tf_is_msg(run, sb, b.pos, rbuf, n, 0);
	}
	if (was_peeked && tf_strict(run) && sb->v.policy == __SHMKIT_TOPIC_BLOCK) {
		/* the peeked message is still the next one */
		TF_CHECK(r == 0 || r == -EMSGSIZE);
		TF_CHECK(n == sb->peek_len);
	}
	sb->peeked = 0;
	tf_moved(run, sb, &b, r, r == 0, n);
	return r;
}

static void tf_peek(struct tf_run *run, int k)
{
	static unsigned char pbuf[TF_SLOT_BYTES];
	struct tf_sub *sb = &run->sub[k];
	struct tf_before b;
	const void *p = NULL;
	size_t n = (size_t)-1;
	int r;

	if (!sb->s)
		return;
	tf_snap(sb, &b);
	r = shmkit_sub_peek(sb->s, &p, &n, 0);
	tf_trace("peek", r, n);
	tf_sub_result(run, sb, r, 0);
	if (sb->peeked && tf_strict(run) && sb->v.policy == __SHMKIT_TOPIC_BLOCK) {
		/* peeking again before a release gives the same message */
		TF_CHECK(r == 0 && p == sb->peek_ptr && n == sb->peek_len);
	}
	sb->peeked = 0;
	if (r == 0) {
		tf_span(&sb->v, p, n);
		memcpy(pbuf, p, n);	/* read it all */
		if (tf_strict(run) && b.e)
			tf_is_msg(run, sb, b.pos, p, n, 1);
		sb->peeked = 1;
		sb->peek_ptr = p;
		sb->peek_len = n;
		memcpy(sb->copy, p, n);
	}
	tf_moved(run, sb, &b, r, 0, 0);
}

static void tf_release(struct tf_run *run, int k)
{
	struct tf_sub *sb = &run->sub[k];
	struct tf_before b;
	int r;

	if (!sb->s)
		return;
	tf_snap(sb, &b);
	r = shmkit_sub_release(sb->s);
	tf_trace("release", r, 0);
	TF_CHECK(r == 0 || r == -EINVAL || r == -SHMKIT_ELOST || r == -SHMKIT_ECORRUPT);
	TF_CHECK((r == -EINVAL) == !sb->peeked);
	/* only the overwrite policy looks at the slot again */
	if (r == -SHMKIT_ELOST || r == -SHMKIT_ECORRUPT)
		TF_CHECK(sb->v.policy == __SHMKIT_TOPIC_OVERWRITE);
	if (sb->peeked && sb->v.policy == __SHMKIT_TOPIC_BLOCK)
		TF_CHECK(r == 0);
	/* released whole: nobody wrote the message while it was held */
	if (r == 0 && tf_strict(run))
		TF_CHECK(memcmp(sb->peek_ptr, sb->copy, sb->peek_len) == 0);
	tf_moved(run, sb, &b, r, r == 0, sb->peek_len);
	sb->peeked = 0;
}

/* ------------------------------------------------------------------ info */

static void tf_info(struct tf_run *run, size_t cap, int nullsubs)
{
	struct shmkit_topic_sub_info subs[8 + 2];
	struct shmkit_topic_info info;
	struct __shmkit_topic_hdr *h = tf_hdr();
	size_t filled, j;
	unsigned i, nsubs = 0, ours = 0;
	int r;

	memset(subs, 0xee, sizeof(subs));
	r = shmkit_topic_info(tf.shmid, &info, nullsubs ? NULL : subs, cap);
	tf_trace("topic_info", r, cap);
	if (nullsubs && cap) {
		TF_CHECK(r == -EINVAL);
		return;
	}
	TF_CHECK(r == 0 || r == -SHMKIT_ENOTTOPIC || r == -SHMKIT_ECORRUPT ||
		 r == -SHMKIT_EBADHDR);
	if (tf_intact(run))
		TF_CHECK(r == 0);
	if (r < 0)
		return;
	/* what the segment holds now: nothing runs during the call */
	TF_CHECK(info.slots == h->nslots && info.max_msg == h->max_msg);
	TF_CHECK(info.history == h->history && info.max_subs == h->max_subs);
	TF_CHECK((uint32_t)info.policy == h->policy);
	TF_CHECK(info.slots >= 4 && info.history <= info.slots - 2);
	TF_CHECK(info.max_subs >= 1 && info.max_subs <= tf_entries());
	TF_CHECK(info.published == TF_LD(h->published) && info.bytes == TF_LD(h->bytes));
	TF_CHECK(info.pub_pid == (pid_t)(uint32_t)TF_LD(h->owner));
	TF_CHECK(info.pub_alive == 0 || info.pub_alive == 1);
	if (!TF_LD(h->owner))
		TF_CHECK(info.pub_alive == 0);
	if (TF_LD(h->owner) == tf.me)
		TF_CHECK(info.pub_alive == 1 && info.pub_pid == getpid());
	TF_CHECK(info.pub_closed == (TF_LD(h->closed) != 0));
	TF_CHECK(info.pub_aborted == (TF_LD(h->closed) == 2));
	TF_CHECK(info.pub_sleeps == TF_LD(h->sleeps) && info.pub_wakes == TF_LD(h->wakes) &&
		 info.pub_wait_ns == TF_LD(h->wait_ns));
	if (tf_strict(run) && run->pub.p)
		TF_CHECK(info.pub_pid == getpid() && info.pub_alive && !info.pub_closed);
	for (i = 0; i < info.max_subs; i++)
		nsubs += TF_LD(tf_entry(i)->owner) != 0;
	TF_CHECK(info.nsubs == nsubs);
	filled = cap < nsubs ? cap : nsubs;
	for (i = 0, j = 0; i < info.max_subs && j < filled; i++) {
		struct __shmkit_topic_sub *e = tf_entry(i);
		uint64_t owner = TF_LD(e->owner), pos = TF_LD(e->pos);
		const struct shmkit_topic_sub_info *o = &subs[j];

		if (!owner)
			continue;
		j++;
		TF_CHECK(o->pid == (pid_t)(uint32_t)owner);
		TF_CHECK(o->alive == 0 || o->alive == 1);
		if (owner == tf.me)
			TF_CHECK(o->alive == 1);
		ours += owner == tf.me;
		TF_CHECK(o->pos == pos);
		TF_CHECK(o->lag == (info.published > pos ? info.published - pos : 0));
		TF_CHECK(o->msgs == TF_LD(e->msgs) && o->bytes == TF_LD(e->bytes) &&
			 o->lost == TF_LD(e->lost));
		TF_CHECK(o->sleeps == TF_LD(e->sleeps) && o->wakes == TF_LD(e->wakes) &&
			 o->wait_ns == TF_LD(e->wait_ns));
	}
	/* never past cap, nor past the subscribers there are */
	for (j = filled; j < sizeof(subs) / sizeof(subs[0]); j++) {
		const unsigned char *q = (const unsigned char *)&subs[j];

		for (size_t b = 0; b < sizeof(subs[j]); b++)
			TF_CHECK(q[b] == 0xee);
	}
	/* our open subscribers are all there (unless others claim our word) */
	if (tf_strict(run) && filled == nsubs && !(run->flags & TFL_OWNERS))
		TF_CHECK(ours == (unsigned)(run->sub[0].s != NULL) + (run->sub[1].s != NULL));
}

/* ---------------------------------------------------------------- misuse */

static void tf_misuse(struct tf_run *run, unsigned which)
{
	struct shmkit_topic_info info;
	struct shmkit_pub *p = NULL;
	struct shmkit_sub *s = NULL, *sub = run->sub[0].s ? run->sub[0].s : run->sub[1].s;
	const void *cp;
	void *wp;
	size_t n;
	unsigned char b[8] = { 0 };
	int r = -EINVAL, r2 = -EINVAL;

	switch (which % 12) {
	case 0:
		r = shmkit_pub_send(NULL, b, 1, 0);
		break;
	case 1:	/* (a reservation open stays open) */
		r = shmkit_pub_reserve(run->pub.p, 1, NULL, 0);
		r2 = shmkit_pub_reserve(NULL, 1, &wp, 0);
		break;
	case 2:
		r = shmkit_pub_commit(NULL, 0);
		break;
	case 3:
		if (sub)
			r = shmkit_sub_recv(sub, NULL, 1, &n, 0);
		r2 = shmkit_sub_recv(NULL, b, sizeof(b), &n, 0);
		break;
	case 4:
		if (sub)
			r = shmkit_sub_recv(sub, b, sizeof(b), NULL, 0);
		break;
	case 5:	/* (a peeked message stays peeked) */
		if (sub) {
			r = shmkit_sub_peek(sub, NULL, &n, 0);
			r2 = shmkit_sub_peek(sub, &cp, NULL, 0);
		}
		break;
	case 6:
		r = shmkit_sub_release(NULL);
		TF_CHECK(shmkit_sub_lost(NULL) == 0);
		break;
	case 7:
		r = shmkit_pub_open(tf.name, SHMKIT_EXCL, &p);
		r2 = shmkit_pub_open(tf.name, 0, NULL);
		break;
	case 8:
		r = shmkit_sub_open(tf.name, 1u << 12, &s);
		r2 = shmkit_sub_open(tf.name, 0, NULL);
		break;
	case 9:
		r = shmkit_topic_info(tf.shmid, NULL, NULL, 0);
		r2 = shmkit_topic_info(tf.shmid, &info, NULL, 1);
		break;
	case 10:
		r = shmkit_pub_close(NULL);
		r2 = shmkit_sub_close(NULL);
		TF_CHECK(shmkit_pub_abort(NULL) == -EINVAL);
		break;
	case 11:
		if (run->pub.p)
			r = shmkit_pub_send(run->pub.p, NULL, 5, 0);
		r2 = shmkit_pub_set_wait(NULL, SHMKIT_WAIT_BLOCK);
		TF_CHECK(shmkit_sub_set_wait(NULL, SHMKIT_WAIT_BLOCK) == -EINVAL);
		break;
	}
	tf_trace("misuse", r, which % 12);
	TF_CHECK(r == -EINVAL && r2 == -EINVAL);
	TF_CHECK(p == NULL && s == NULL);
}

/* ----------------------------------------------------------------- pokes */

static void tf_poke_byte(struct tf_run *run, unsigned param, unsigned hi)
{
	size_t at = param % tf.area;

	tf.raw[SHMKIT_HDR_SIZE + at] ^= (unsigned char)(hi + 1);
	run->poked = 1;
	if (at < TF_LAYOUT_END)
		run->layout_poked = 1;
}

static void tf_poke_word(struct tf_run *run, unsigned param, unsigned hi)
{
	size_t at = 8 * (param % (tf.area / 8));
	uint64_t v = (hi & 8) ? ~(uint64_t)0 - (hi & 7) : (hi & 7);

	memcpy(tf.raw + SHMKIT_HDR_SIZE + at, &v, 8);
	run->poked = 1;
	if (at < TF_LAYOUT_END)
		run->layout_poked = 1;
}

/*
 * The slot of message s, by the header's layout if it fits after the
 * segment header, else as made.
 */
static void tf_fake(struct tf_run *run, unsigned param, unsigned hi)
{
	struct __shmkit_topic_hdr *h = tf_hdr();
	uint64_t n = h->nslots, size = h->slot_size, off = h->slots_offset;
	uint64_t s = TF_LD(h->published) + (param & 15) - 8;
	struct __shmkit_topic_slot *slot;

	if (n < 4 || n > 64 || (n & (n - 1)) || size < 64 || size % 64 || size > tf.segsz ||
	    off < SHMKIT_HDR_SIZE || off % 64 || off > tf.segsz || n * size > tf.segsz - off) {
		n = TF_NSLOTS;
		size = TF_SLOT_SIZE;
		off = tf.slots_off;
	}
	slot = (void *)(tf.raw + off + (s & (n - 1)) * size);
	TF_ST(slot->seq, (param & 16) ? 2 * s + 1 : 2 * s + 2);
	TF_ST(slot->len, hi * 17);
	run->poked = 1;
}

/* ------------------------------------------------------------------- run */

static const char *const tf_op_names[16] = {
	"send", "reserve", "commit", "recv", "peek", "release", "sub-reopen", "pub-reopen",
	"info", "poke", "burst", "drain", "set-wait", "misuse", "poke-word", "fake",
};

int TOPIC_FUZZ_ENTRY(const uint8_t *data, size_t size);
int TOPIC_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static struct tf_run run;
	struct tf_in in = { data, size };
	unsigned i, j;

	if (!tf.ready)
		tf_setup();
	memset(&run, 0, sizeof(run));
	run.flags = tf_u8(&in, 0);
	run.sub[0].entry = run.sub[1].entry = -1;
	tf_load(&in, run.flags);
	run.huge = TF_LD(tf_hdr()->published) >= TF_HUGE;
	if (tf.trace)
		fprintf(stderr, "input of %zu bytes, flags 0x%02x\n", size, run.flags);
	if (!(run.flags & TFL_SUBS_FIRST))
		tf_pub_open(&run);
	tf_sub_open(&run, 0, !!(run.flags & TFL_OLDEST));
	if (!(run.flags & TFL_ONE_SUB))
		tf_sub_open(&run, 1, 0);
	if (run.flags & TFL_SUBS_FIRST)
		tf_pub_open(&run);

	for (i = 0; i < TF_NOPS; i++) {
		unsigned op = tf_u8(&in, 2 + 3 * i), code = op & 15, hi = op >> 4;
		unsigned param = (unsigned)tf_le(&in, 3 + 3 * i, 2);
		size_t len = param & 0x1ff;
		int k = (int)(hi & 1);

		if (tf.trace)
			fprintf(stderr, "op %u: %s(%u) k=%d\n", i, tf_op_names[code], param, k);
		switch (code) {
		case 0:
			tf_write(&run, len, 0, TOPIC_FUZZ_NULL_BUFS && len == 0 && (param & 0x8000));
			break;
		case 1:
			tf_write(&run, len, 1, 0);
			break;
		case 2:
			tf_commit(&run, len);
			break;
		case 3:
			tf_recv(&run, k, len, TOPIC_FUZZ_NULL_BUFS && len == 0 && (param & 0x8000));
			break;
		case 4:
			tf_peek(&run, k);
			break;
		case 5:
			tf_release(&run, k);
			break;
		case 6:
			tf_sub_close(&run, k);
			if (!(param & 2))
				tf_sub_open(&run, k, param & 1);
			break;
		case 7:
			if (param & 8) {
				tf_pub_second(&run);
				break;
			}
			tf_pub_close(&run, !!(param & 4));
			if (!(param & 2))
				tf_pub_open(&run);
			break;
		case 8:
			tf_info(&run, param & 7, !!(param & 8));
			break;
		case 9:
			tf_poke_byte(&run, param, hi);
			break;
		case 10:
			for (j = 0; j <= param >> 12; j++)
				if (tf_write(&run, param & 0xff, 0, 0) < 0)
					break;
			break;
		case 11:
			for (j = 0; j <= param >> 12; j++) {
				int r = tf_recv(&run, k, len, 0);

				if (r != 0 && r != -SHMKIT_ELOST)
					break;
			}
			break;
		case 12: {
			int policy = (int)((param >> 1) & 3), want = policy <= 2 ? 0 : -EINVAL;

			if (param & 1) {
				if (run.pub.p)
					TF_CHECK(shmkit_pub_set_wait(run.pub.p, policy) == want);
			} else if (run.sub[k].s) {
				TF_CHECK(shmkit_sub_set_wait(run.sub[k].s, policy) == want);
			}
			break;
		}
		case 13:
			tf_misuse(&run, param);
			break;
		case 14:
			tf_poke_word(&run, param, hi);
			break;
		case 15:
			tf_fake(&run, param, hi);
			break;
		}
		/* nobody writes the segment header: neither the library nor a
		 * poke (its magic gone, every open would wait) */
		TF_CHECK(memcmp(tf.raw, tf.loaded, sizeof(tf.loaded)) == 0);
	}

	tf_pub_close(&run, 0);
	tf_sub_close(&run, 0);
	tf_sub_close(&run, 1);
	return 0;
}
