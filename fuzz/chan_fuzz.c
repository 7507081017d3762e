/*
 * Fuzz target: the input is the contents of a channel segment, and a short
 * script of calls to make on it.
 *
 * One real channel (capacity 4096) is made per process, attached raw once,
 * and for each input: the segment header is put back as it was made (so
 * that open gets as far as the channel logic, unless the input asks to
 * damage it), the channel header and the ring are overwritten with the
 * input's bytes, a producer and a consumer are opened, the script runs
 * with timeout 0 (nothing ever waits), and both sides are closed again.
 *
 * Every call must give a documented result (0 or one of the negative codes
 * its check below lists), every pointer from reserve or peek must lie in the ring
 * with its whole length, and no length may pass max_msg. A violation calls
 * FUZZ_FAIL, which traps (libFuzzer then saves the input as crash-*).
 *
 * Input format (little-endian, as the fields sit in memory; anything the
 * input is too short for is zero):
 *
 *   offset  bytes  what
 *   0       1      flags (FL_* below)
 *   1       1      with FL_SEGHDR: which byte of the segment header to
 *                  damage (4 + b % 124: never the magic, whose loss makes
 *                  every open wait half a second for a creator that is us)
 *   2       48     the script: 16 calls of 3 bytes (op, param low, high)
 *   50      160    the channel header, its padding squeezed out:
 *                  layout (magic 4, version 2, hdr_size 2, flags 4,
 *                  reserved 4, capacity 8, max_msg 8), hot[2] (pos, msgs,
 *                  bytes: 24 each), cold[2] (owner 8, closed 4, reserved 4,
 *                  sleeps 8, wakes 8: 32 each), sleep[2] (sleeping 4,
 *                  wake_seq 4: 8 each)
 *   210     4096   the ring
 *
 * Ops (op & 7; param is 16 bits; len = param & 0xfff, so about half the
 * lengths are above max_msg = 2048):
 *   0 send(len)      1 reserve(len), fill it   2 commit(len)
 *   3 recv(cap len)  4 peek, read it all        5 release
 *   6 close a side (param bit 0: 0 producer, 1 consumer) and, unless
 *     param bit 1, open it again
 *   7 poke: xor the byte at channel offset param % (3968 + 4096) (counted
 *     from the channel header) with (op >> 3) + 1, behind both handles
 *
 * To see what an input does: CHAN_FUZZ_TRACE=1 build/fuzz/chan_fuzz FILE
 * prints each open and call with its result on stderr.
 *
 * Built three ways: by fuzz/run.sh with libFuzzer (the entry point is
 * LLVMFuzzerTestOneInput); by tests/fuzz_replay.c, which includes this file
 * after defining CHAN_FUZZ_ENTRY (the function's name), CHAN_FUZZ_NAME(buf,
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
#include "chan.h"
#include "fuzz.h"
#include "header.h"
#include "look.h"
#include "shmkit.h"

#ifndef CHAN_FUZZ_ENTRY
#define CHAN_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

#define CF_CHECK(c) do { if (!(c)) FUZZ_FAIL("violated: " #c); } while (0)

#define CF_CAP 4096u			/* ring bytes */
#define CF_MAX_MSG (CF_CAP / 2)
#define CF_AREA (SHMKIT_CHAN_RING_OFFSET - SHMKIT_HDR_SIZE + CF_CAP) /* after the segment header */

enum {
	FL_MAGIC = 1 << 0,	/* take the channel magic from the input */
	FL_VERSION = 1 << 1,	/* ... the version */
	FL_CAPACITY = 1 << 2,	/* ... capacity and max_msg */
	FL_HDRSIZE = 1 << 3,	/* ... hdr_size */
	FL_OWNERS = 1 << 4,	/* ... the owner words (else 0: nobody holds a side) */
	FL_SEGHDR = 1 << 5,	/* damage a byte of the segment header */
	FL_CONS_FIRST = 1 << 6,	/* open the consumer first */
	FL_WAIT_NONE = 1 << 7,	/* policy SHMKIT_WAIT_NONE (else BLOCK; timeout 0 anyway) */
};

#define CF_PREFIX 50
#define CF_DENSE 160
#define CF_NOPS 16

static struct {
	int ready;
	int trace;	/* CHAN_FUZZ_TRACE set: each call and its result on stderr */
	int shmid;
	unsigned char *raw;	/* our own read-write mapping of the segment */
	unsigned char seghdr[SHMKIT_HDR_SIZE];	/* the segment header as made */
	char name[SHMKIT_NAME_MAX + 1];
} cf;

#ifndef CHAN_FUZZ_NAME
/*
 * Cleanup for the libFuzzer build. A segment marked for removal loses its
 * key, and a channel is opened by name: so it cannot be marked at once.
 * It is removed at exit, and, for a fuzzer that is killed or crashes (no
 * atexit then), by a small reaper child that waits for this process's end
 * on a pipe and then removes it.
 */
static void cf_remove(void)
{
	if (cf.ready) {
		shmctl(cf.shmid, IPC_RMID, NULL);
		__shmkit_look_forget(cf.shmid);
	}
}

static void cf_reaper(int shmid)
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
		if (cf.raw)
			shmdt(cf.raw);
		while (read(fds[0], &c, 1) != 0)
			;	/* EOF: every holder of the write end is gone */
		shmctl(shmid, IPC_RMID, NULL);
		__shmkit_look_forget(shmid);
		_exit(0);
	}
	close(fds[0]);	/* the write end stays open, unused, until we end */
}

#define CHAN_FUZZ_NAME(buf, cap) snprintf((buf), (cap), "fz-chan-%d", (int)getpid())
#define CF_TRACK(shmid) (cf_reaper(shmid), atexit(cf_remove))
#else
#ifndef CF_TRACK
#define CF_TRACK(shmid) ((void)(shmid))
#endif
#endif

static void cf_setup(void)
{
	int shmid;

	CHAN_FUZZ_NAME(cf.name, sizeof(cf.name));
	shmid = shmkit_chan_create(cf.name, CF_CAP, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	if (shmid == -EEXIST) {	/* left by an earlier process with our pid */
		shmkit_chan_destroy(cf.name);
		shmid = shmkit_chan_create(cf.name, CF_CAP, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	}
	if (shmid < 0) {
		fprintf(stderr, "chan_fuzz: cannot make channel %s: %s\n", cf.name,
			shmkit_strerror(shmid));
		abort();
	}
	cf.shmid = shmid;
	cf.raw = shmat(shmid, NULL, 0);
	if (cf.raw == (void *)-1) {
		shmctl(shmid, IPC_RMID, NULL);
		perror("chan_fuzz: shmat");
		abort();
	}
	cf.ready = 1;
	cf.trace = getenv("CHAN_FUZZ_TRACE") != NULL;
	CF_TRACK(shmid);
	memcpy(cf.seghdr, cf.raw, sizeof(cf.seghdr));
}

/* The input, read past its end as zeros. */
struct cf_in {
	const uint8_t *p;
	size_t n;
};

static uint8_t in_u8(const struct cf_in *in, size_t off)
{
	return off < in->n ? in->p[off] : 0;
}

static uint64_t in_le(const struct cf_in *in, size_t off, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)in_u8(in, off + i) << (8 * i);
	return v;
}

/* Lays the input over the channel's header and ring (see the top). */
static void cf_load(const struct cf_in *in, unsigned flags)
{
	struct __shmkit_chan_hdr *h = (void *)(cf.raw + SHMKIT_HDR_SIZE);
	unsigned char *ring = cf.raw + SHMKIT_CHAN_RING_OFFSET;
	size_t d = CF_PREFIX, off;
	int s;

	memcpy(cf.raw, cf.seghdr, sizeof(cf.seghdr));
	if (flags & FL_SEGHDR)
		cf.raw[4 + in_u8(in, 1) % (SHMKIT_HDR_SIZE - 4)] ^= 0xa5;
	memset(cf.raw + SHMKIT_HDR_SIZE, 0, CF_AREA);

	atomic_store_explicit(&h->magic, (flags & FL_MAGIC) ? (uint32_t)in_le(in, d, 4) :
			      SHMKIT_CHAN_MAGIC, memory_order_relaxed);
	h->version = (flags & FL_VERSION) ? (uint16_t)in_le(in, d + 4, 2) : SHMKIT_CHAN_VERSION;
	h->hdr_size = (flags & FL_HDRSIZE) ? (uint16_t)in_le(in, d + 6, 2) :
		      (uint16_t)sizeof(*h);
	h->flags = (uint32_t)in_le(in, d + 8, 4);
	h->reserved0 = (uint32_t)in_le(in, d + 12, 4);
	h->capacity = (flags & FL_CAPACITY) ? in_le(in, d + 16, 8) : CF_CAP;
	h->max_msg = (flags & FL_CAPACITY) ? in_le(in, d + 24, 8) : CF_MAX_MSG;
	d += 32;
	for (s = 0; s < 2; s++, d += 24) {
		atomic_store_explicit(&h->hot[s].pos, in_le(in, d, 8), memory_order_relaxed);
		atomic_store_explicit(&h->hot[s].msgs, in_le(in, d + 8, 8), memory_order_relaxed);
		atomic_store_explicit(&h->hot[s].bytes, in_le(in, d + 16, 8), memory_order_relaxed);
	}
	for (s = 0; s < 2; s++, d += 32) {
		atomic_store_explicit(&h->cold[s].owner, (flags & FL_OWNERS) ? in_le(in, d, 8) : 0,
				      memory_order_relaxed);
		atomic_store_explicit(&h->cold[s].closed, (uint32_t)in_le(in, d + 8, 4),
				      memory_order_relaxed);
		h->cold[s].reserved = (uint32_t)in_le(in, d + 12, 4);
		atomic_store_explicit(&h->cold[s].sleeps, in_le(in, d + 16, 8), memory_order_relaxed);
		atomic_store_explicit(&h->cold[s].wakes, in_le(in, d + 24, 8), memory_order_relaxed);
	}
	for (s = 0; s < 2; s++, d += 8) {
		atomic_store_explicit(&h->sleep[s].sleeping, (uint32_t)in_le(in, d, 4),
				      memory_order_relaxed);
		atomic_store_explicit(&h->sleep[s].wake_seq, (uint32_t)in_le(in, d + 4, 4),
				      memory_order_relaxed);
	}
	off = CF_PREFIX + CF_DENSE;
	if (in->n > off)
		memcpy(ring, in->p + off, in->n - off < CF_CAP ? in->n - off : CF_CAP);
	shmkit_smp_mb();	/* barrier.h: a fence TSan accepts */
}

/* Is [p, p + len) inside ch's ring, and is the ring the one we made? */
static void cf_span(const struct shmkit_chan *ch, const void *p, size_t len)
{
	const unsigned char *start;
	const void *s;
	size_t cap;

	__shmkit_chan_ring(ch, &s, &cap);
	start = s;
	CF_CHECK(cap == CF_CAP);
	CF_CHECK(len <= CF_MAX_MSG);
	CF_CHECK(p != NULL);
	CF_CHECK((const unsigned char *)p >= start);
	CF_CHECK((size_t)((const unsigned char *)p - start) <= cap - len);
}

static int cf_open(int role, struct shmkit_chan **ch, unsigned flags)
{
	int r = shmkit_chan_open(cf.name, role, ch);

	if (cf.trace)
		fprintf(stderr, "open %s: %d %s\n", role == SHMKIT_PRODUCER ? "producer" : "consumer",
			r, r < 0 ? shmkit_strerror(r) : "");

	CF_CHECK(r == 0 || r == -EBUSY || r == -SHMKIT_ENOTCHAN || r == -SHMKIT_ECORRUPT ||
		 r == -SHMKIT_EBADHDR || r == -SHMKIT_ECLASH);
	if (r < 0) {
		*ch = NULL;
		return r;
	}
	CF_CHECK(shmkit_chan_max_msg(*ch) == CF_MAX_MSG);
	CF_CHECK(shmkit_chan_set_wait(*ch, (flags & FL_WAIT_NONE) ? SHMKIT_WAIT_NONE :
				      SHMKIT_WAIT_BLOCK) == 0);
	return 0;
}

static void cf_close(struct shmkit_chan **ch, int side)
{
	struct __shmkit_chan_hdr *h = (void *)(cf.raw + SHMKIT_HDR_SIZE);

	if (!*ch)
		return;
	CF_CHECK(shmkit_chan_close(*ch) == 0);
	*ch = NULL;
	/* a closed side holds nothing and says so */
	CF_CHECK(atomic_load(&h->cold[side].owner) == 0);
	CF_CHECK(atomic_load(&h->cold[side].closed) == 1);
}

static const char *const cf_op_names[8] = {
	"send", "reserve", "commit", "recv", "peek", "release", "reopen", "poke",
};

/* What this process knows of each handle's half-done calls. */
enum { CF_NONE, CF_KNOWN };

int CHAN_FUZZ_ENTRY(const uint8_t *data, size_t size);
int CHAN_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	struct cf_in in = { data, size };
	struct shmkit_chan *prod = NULL, *cons = NULL;
	unsigned flags = in_u8(&in, 0), i;
	/* producer: a reservation (its length); consumer: a peeked message */
	int resv = CF_NONE, peeked = CF_NONE;
	size_t resv_len = 0, peek_len = 0;
	const void *peek_ptr = NULL;
	static unsigned char buf[CF_CAP];

	if (!cf.ready)
		cf_setup();
	cf_load(&in, flags);
	if (flags & FL_CONS_FIRST) {
		cf_open(SHMKIT_CONSUMER, &cons, flags);
		cf_open(SHMKIT_PRODUCER, &prod, flags);
	} else {
		cf_open(SHMKIT_PRODUCER, &prod, flags);
		cf_open(SHMKIT_CONSUMER, &cons, flags);
	}

	for (i = 0; i < CF_NOPS; i++) {
		unsigned op = in_u8(&in, 2 + 3 * i);
		unsigned param = (unsigned)in_le(&in, 3 + 3 * i, 2);
		size_t len = param & 0xfff, n = 0;
		void *wp = NULL;
		const void *rp = NULL;
		int r = 0;

		switch (op & 7) {
		case 0:	/* send */
			if (!prod)
				break;
			memset(buf, (int)op, len);
			r = shmkit_chan_send(prod, buf, len, 0);
			CF_CHECK((len > CF_MAX_MSG) == (r == -EMSGSIZE));
			CF_CHECK(r == 0 || r == -EMSGSIZE || r == -EAGAIN || r == -EPIPE ||
				 r == -SHMKIT_ECORRUPT || r == -SHMKIT_EPEERDEAD);
			/* send reserves: whatever it returns, nothing is left
			 * reserved (a reserve abandons the last one first) */
			resv = CF_NONE;
			break;
		case 1:	/* reserve, and fill what it gave */
			if (!prod)
				break;
			r = shmkit_chan_reserve(prod, len, &wp, 0);
			CF_CHECK((len > CF_MAX_MSG) == (r == -EMSGSIZE));
			CF_CHECK(r == 0 || r == -EMSGSIZE || r == -EAGAIN || r == -EPIPE ||
				 r == -SHMKIT_ECORRUPT || r == -SHMKIT_EPEERDEAD);
			if (r == 0) {
				cf_span(prod, wp, len);
				memset(wp, (int)op, len);
				resv = CF_KNOWN;
				resv_len = len;
			} else {
				resv = CF_NONE;	/* a failed reserve abandons the last */
			}
			break;
		case 2:	/* commit */
			if (!prod)
				break;
			r = shmkit_chan_commit(prod, len);
			CF_CHECK(r == 0 || r == -EINVAL);
			if (resv == CF_NONE)
				CF_CHECK(r == -EINVAL);
			else
				CF_CHECK(r == (len <= resv_len ? 0 : -EINVAL));
			if (r == 0)
				resv = CF_NONE;
			break;
		case 3:	/* recv */
			if (!cons)
				break;
			r = shmkit_chan_recv(cons, buf, len, &n, 0);
			CF_CHECK(r == 0 || r == -EMSGSIZE || r == -EAGAIN || r == -SHMKIT_EEOF ||
				 r == -SHMKIT_ECORRUPT || r == -SHMKIT_EPEERDEAD);
			if (r == 0 || r == -EMSGSIZE) {
				CF_CHECK(n <= CF_MAX_MSG);
				CF_CHECK(r == 0 ? n <= len : n > len);
				if (peeked == CF_KNOWN)
					CF_CHECK(n == peek_len);
			}
			if (peeked == CF_KNOWN)	/* a peeked message cannot fail to show */
				CF_CHECK(r == 0 || r == -EMSGSIZE);
			if (r == 0) {
				peeked = CF_NONE;
			} else if (r == -EMSGSIZE && peeked == CF_NONE) {
				/* left in place, peeked: find where with a peek */
				size_t m = 0;
				CF_CHECK(shmkit_chan_peek(cons, &rp, &m, 0) == 0);
				CF_CHECK(m == n && m > len);
				cf_span(cons, rp, n);
				peeked = CF_KNOWN;
				peek_ptr = rp;
				peek_len = n;
			}
			break;
		case 4:	/* peek, and read it all */
			if (!cons)
				break;
			r = shmkit_chan_peek(cons, &rp, &n, 0);
			CF_CHECK(r == 0 || r == -EAGAIN || r == -SHMKIT_EEOF ||
				 r == -SHMKIT_ECORRUPT || r == -SHMKIT_EPEERDEAD);
			if (peeked == CF_KNOWN) {
				/* peeking again without releasing: the same message */
				CF_CHECK(r == 0 && rp == peek_ptr && n == peek_len);
			}
			if (r == 0) {
				cf_span(cons, rp, n);
				memcpy(buf, rp, n);
				peeked = CF_KNOWN;
				peek_ptr = rp;
				peek_len = n;
			}
			break;
		case 5:	/* release */
			if (!cons)
				break;
			r = shmkit_chan_release(cons);
			CF_CHECK(r == (peeked == CF_KNOWN ? 0 : -EINVAL));
			peeked = CF_NONE;
			break;
		case 6:	/* close a side, perhaps open it again */
			if (param & 1) {
				cf_close(&cons, __SHMKIT_SIDE_CONS);
				peeked = CF_NONE;
				if (!(param & 2))
					cf_open(SHMKIT_CONSUMER, &cons, flags);
			} else {
				cf_close(&prod, __SHMKIT_SIDE_PROD);
				resv = CF_NONE;
				if (!(param & 2))
					cf_open(SHMKIT_PRODUCER, &prod, flags);
			}
			break;
		case 7:	/* poke the shared state behind both handles' backs */
			cf.raw[SHMKIT_HDR_SIZE + param % CF_AREA] ^= (unsigned char)((op >> 3) + 1);
			break;
		}
		if (cf.trace && (op & 7) <= 5 && !((op & 7) <= 2 ? prod : cons))
			fprintf(stderr, "op %u: %s(%u): skipped, that side is not open\n", i,
				cf_op_names[op & 7], param);
		else if (cf.trace)
			fprintf(stderr, "op %u: %s(%u) -> %d %s n=%zu\n", i, cf_op_names[op & 7],
				param, r, r < 0 ? shmkit_strerror(r) : "", n);
	}

	cf_close(&prod, __SHMKIT_SIDE_PROD);
	cf_close(&cons, __SHMKIT_SIDE_CONS);
	return 0;
}
