/*
 * Fuzz target: the input is the state of an inbox or a service segment
 * (its header, its lanes' headers, epoch words and ring bytes), and a
 * short script of calls to make on it.
 *
 * Two real segments are made per process, of one size: an inbox of 4
 * lanes and a service of 2 lanes (2 rings each), every ring 4096 bytes;
 * both are attached raw once. For each input: the segment header is put
 * back as it was made (unless the input asks to damage it), the inbox
 * header and the 4 rings' headers and bytes are overwritten with the
 * input's, producers (clients) join and a consumer (server) opens as the
 * flags say, the script runs with timeout 0 (nothing ever waits), and
 * everything is closed again.
 *
 * Every call must give a documented result (0 or one of the negative
 * codes its check lists: include/shmkit.h, shmkit_inbox_create(3),
 * shmkit_inbox_open(3), shmkit_service_create(3) and src/inbox.c,
 * src/service.c); every pointer a reserve or a peek gives must lie in
 * the ring it belongs to (a producer's or client's own ring, the lane's
 * ring as the consumer maps it, the reply ring of the request's lane),
 * with its whole length; no length may pass max_msg; recv never writes
 * past cap; shmkit_inbox_info never writes past cap entries. Nobody
 * writes the segment header. While the input's state is clean (no damage
 * flag, no positions, no ring bytes) and until the script pokes the
 * segment, the protocol is checked too: what the consumer (server)
 * receives from a lane is exactly the oldest message sent on that lane
 * and not yet released, byte for byte, with the number and epoch a
 * service's request carries; what a client receives is the reply the
 * server wrote for one of its own requests. A violation calls FUZZ_FAIL,
 * which traps (libFuzzer then saves the input as crash-*).
 *
 * Input format (little-endian, as the fields sit in memory; anything the
 * input is too short for is zero):
 *
 *   offset  bytes  what
 *   0       1      flags (IFL_* below)
 *   1       1      with IFL_SEGHDR: which byte of the segment header to
 *                  damage (4 + b % 124: never the magic)
 *   2       72     the script: 24 calls of 3 bytes (op, param low, high)
 *   74      56     the inbox header, padding squeezed out: magic 4,
 *                  version 2, hdr_size 2 (the made ones unless IFL_IDENT),
 *                  lanes 4, flags 4, lane_cap 8 (unless IFL_SHAPE),
 *                  owner 8 (0 unless IFL_OWNERS), closed 4, lanes_used 4,
 *                  sleeps 8, cons_sleep.sleeping 4, cons_sleep.wake_seq 4
 *   130     432    4 rings of 108 bytes each: an inbox's lanes 0-3; a
 *                  service's lane 0 requests, lane 0 replies, lane 1
 *                  requests, lane 1 replies. Each: channel layout (magic 4,
 *                  version 2, hdr_size 2, capacity 8, max_msg 8: the made
 *                  ones unless IFL_LANEHDR), producer pos 8, msgs 8,
 *                  consumer pos 8, msgs 8, producer owner 8, closed 4,
 *                  consumer owner 8, closed 4 (owners 0 unless
 *                  IFL_OWNERS), producer sleeping 4, wake_seq 4, consumer
 *                  sleeping 4, wake_seq 4, the lane's epoch word 8 (a
 *                  request ring's only), ring_at 2, ring_len 2
 *   562     ...    ring bytes: for each ring in turn, ring_len % 4097 of
 *                  them (as many as the input has) laid at ring_at,
 *                  wrapping at the ring's end
 *
 * Ops (code = op & 15; k = (op >> 4) & 3 picks producer or client k; hi =
 * op >> 4; param is 16 bits; len = param & 0xfff, about half above
 * max_msg):
 *   0 join(k): producer (client) k joins; if it holds a lane, it closes
 *     first (param bit 0: shmkit_chan_abort, in an inbox)
 *   1 send(k, len)                  2 reserve(k, len), fill it
 *   3 commit(k, len)                4 close(k) (bit 0: abort, in an inbox)
 *   5 the consumer (server) closes and, unless param bit 1, opens again
 *   6 recv(cap len)                 7 peek, read it all
 *   8 release
 *   9 inbox: shmkit_chan_peer(k); service: reply to the last request
 *     (len; param bit 15: reserve and commit len / 2)
 *   10 inbox: a wait set of the inbox, waited on with timeout 0;
 *      service: client k receives (cap len; param bit 15: peek, release)
 *   11 shmkit_inbox_info(cap param & 7, lanes NULL if param bit 3)
 *   12 poke: xor the byte at offset param % the bytes after the segment
 *      header with hi + 1, behind every handle
 *   13 poke a word: the 8-aligned word at 8 * (param & 0x7fff) (modulo
 *      those bytes) becomes hi, or 2^64 - 1 - hi with param bit 15
 *   14 burst(k): 1 + (param >> 12) sends of param & 0xff bytes, until one
 *      fails
 *   15 drain: 1 + (param >> 12) receives (cap len), until one fails
 *
 * Flags: IFL_SERVICE the service (else the inbox); IFL_SHAPE lanes, flags
 * and lane_cap from the input; IFL_IDENT magic, version and hdr_size from
 * it; IFL_OWNERS the owner words from it (else nobody holds anything);
 * IFL_LANEHDR the rings' layouts from it; IFL_SEGHDR damage a byte of the
 * segment header; IFL_CONS_FIRST the consumer opens before producers 0
 * and 1 join (else after); IFL_NO_CONS no consumer at the start.
 *
 * To see what an input does: INBOX_FUZZ_TRACE=1 build/fuzz/inbox_fuzz FILE
 * prints each call with its result on stderr. fuzz/mkcorpus.py writes the
 * crafted seeds (fuzz/corpus/inbox/seed-*).
 *
 * Built three ways: by fuzz/run.sh with libFuzzer (the entry point is
 * LLVMFuzzerTestOneInput); by tests/fuzz_replay.c, which includes this
 * file after defining INBOX_FUZZ_ENTRY (the function's name),
 * INBOX_FUZZ_NAME(buf, cap, tag) (a tracked name from the test harness)
 * and FUZZ_FAIL(msg); or by anyone with a main of their own.
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
#include "payload.h"
#include "header.h"
#include "inbox.h"
#include "look.h"
#include "shmkit.h"
#include "waitset.h"

#ifndef INBOX_FUZZ_ENTRY
#define INBOX_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

#define IBF_CHECK(c) do { if (!(c)) FUZZ_FAIL("violated: " #c); } while (0)

#define IBF_CAP 4096u			/* every ring */
#define IBF_MAX_MSG (IBF_CAP / 2)	/* an inbox's largest message */
#define IBF_RINGS 4
#define IBF_HANDLES 4			/* producers (clients) */
#define IBF_NOPS 24
#define IBF_HDR_IN (2 + 3 * IBF_NOPS)
#define IBF_RING_DENSE 108
#define IBF_RINGS_IN (IBF_HDR_IN + 56)
#define IBF_BYTES_IN (IBF_RINGS_IN + IBF_RINGS * IBF_RING_DENSE)
#define IBF_FIFO 512			/* messages remembered per lane */
#define IBF_BIG (4 * IBF_CAP)		/* the largest ring a shape from the input can have */

enum {
	IFL_SERVICE = 1 << 0,	/* the service segment (else the inbox) */
	IFL_SHAPE = 1 << 1,	/* lanes, flags, lane_cap from the input */
	IFL_IDENT = 1 << 2,	/* magic, version, hdr_size from the input */
	IFL_OWNERS = 1 << 3,	/* owner words from the input (else 0) */
	IFL_LANEHDR = 1 << 4,	/* the rings' layouts from the input */
	IFL_SEGHDR = 1 << 5,	/* damage a byte of the segment header */
	IFL_CONS_FIRST = 1 << 6,	/* the consumer opens before the producers join */
	IFL_NO_CONS = 1 << 7,	/* no consumer at the start */
};

/* One of the two segments. */
struct ibf_seg {
	int shmid;
	unsigned char *raw;	/* our own read-write mapping */
	size_t area;		/* the bytes after the segment header */
	struct __shmkit_inbox_shape sh;	/* as made */
	unsigned char seghdr[SHMKIT_HDR_SIZE];	/* the segment header as made */
	char name[SHMKIT_NAME_MAX + 1];
};

static struct {
	int ready;
	int trace;	/* INBOX_FUZZ_TRACE set: each call and its result on stderr */
	struct ibf_seg seg[2];	/* the inbox, the service */
} ibf;

#ifndef INBOX_FUZZ_NAME
/*
 * Cleanup for the libFuzzer build, as in chan_fuzz.c: the segments are
 * opened by name, so they cannot be marked for removal at once; they are
 * removed at exit, or by a reaper child that waits for this process's end.
 */
static void ibf_remove(void)
{
	for (int i = 0; i < 2 && ibf.ready; i++) {
		shmctl(ibf.seg[i].shmid, IPC_RMID, NULL);
		__shmkit_look_forget(ibf.seg[i].shmid);
	}
}

static void ibf_reaper(void)
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
		for (int i = 0; i < 2; i++)
			shmdt(ibf.seg[i].raw);
		while (read(fds[0], &c, 1) != 0)
			;	/* EOF: every holder of the write end is gone */
		ibf_remove();
		_exit(0);
	}
	close(fds[0]);	/* the write end stays open, unused, until we end */
}

#define INBOX_FUZZ_NAME(buf, cap, tag) snprintf((buf), (cap), "fz-%s-%d", (tag), (int)getpid())
#define IBF_TRACK() (ibf_reaper(), atexit(ibf_remove))
#else
#ifndef IBF_TRACK
#define IBF_TRACK() ((void)0)
#endif
#endif

static void ibf_make(struct ibf_seg *g, int service)
{
	struct shmid_ds ds;
	int shmid;

	INBOX_FUZZ_NAME(g->name, sizeof(g->name), service ? "svc" : "inbox");
	for (int again = 0; again < 2; again++) {
		shmid = service ? shmkit_service_create(g->name, 2, IBF_CAP, SHMKIT_MODE_DEFAULT,
							SHMKIT_EXCL) :
				  shmkit_inbox_create(g->name, IBF_RINGS, IBF_CAP, SHMKIT_MODE_DEFAULT,
						      SHMKIT_EXCL);
		if (shmid != -EEXIST)
			break;
		/* left by an earlier process with our pid */
		if (service)
			shmkit_service_destroy(g->name);
		else
			shmkit_inbox_destroy(g->name);
	}
	if (shmid < 0) {
		fprintf(stderr, "inbox_fuzz: cannot make %s: %s\n", g->name, shmkit_strerror(shmid));
		abort();
	}
	g->shmid = shmid;
	g->raw = shmat(shmid, NULL, 0);
	if (g->raw == (void *)-1 || shmctl(shmid, IPC_STAT, &ds) < 0) {
		shmctl(shmid, IPC_RMID, NULL);
		perror("inbox_fuzz: shmat");
		abort();
	}
	g->area = ds.shm_segsz - SHMKIT_HDR_SIZE;
	g->sh = (struct __shmkit_inbox_shape){ .lanes = service ? 2 : IBF_RINGS,
					       .flags = service ? SHMKIT_INBOX_REPLIES : 0,
					       .lane_cap = IBF_CAP };
	memcpy(g->seghdr, g->raw, sizeof(g->seghdr));
}

static void ibf_setup(void)
{
	ibf_make(&ibf.seg[0], 0);
	ibf_make(&ibf.seg[1], 1);
	ibf.ready = 1;
	ibf.trace = getenv("INBOX_FUZZ_TRACE") != NULL;
	IBF_TRACK();
	/* the shape this file's input format is written for: one size, 4 rings */
	if (ibf.seg[0].area != ibf.seg[1].area ||
	    ibf.seg[0].area != SHMKIT_INBOX_LANES_OFFSET - SHMKIT_HDR_SIZE +
			       IBF_RINGS * (SHMKIT_INBOX_LANE_HDR + IBF_CAP)) {
		fprintf(stderr, "inbox_fuzz: the segments' sizes are not the ones expected\n");
		abort();
	}
}

/* The input, read past its end as zeros. */
struct ibf_in {
	const uint8_t *p;
	size_t n;
};

static uint8_t ibf_u8(const struct ibf_in *in, size_t off)
{
	return off < in->n ? in->p[off] : 0;
}

static uint64_t ibf_le(const struct ibf_in *in, size_t off, unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)ibf_u8(in, off + i) << (8 * i);
	return v;
}

#define IBF_ST(x, v) atomic_store_explicit(&(x), (v), memory_order_relaxed)

/* Ring r of the made shape: its channel header, and its bytes. */
static struct __shmkit_chan_hdr *ibf_ring_hdr(struct ibf_seg *g, int r)
{
	int svc = !!(g->sh.flags & SHMKIT_INBOX_REPLIES);

	return __shmkit_inbox_lane(g->raw, &g->sh, svc ? (uint32_t)r / 2 : (uint32_t)r,
				   svc ? r % 2 : 0);
}

/*
 * Lays the input over the segment (see the top). Returns 1 if the state
 * is clean: no damage flag, no positions, no ring bytes.
 */
static int ibf_load(struct ibf_seg *g, const struct ibf_in *in, unsigned flags)
{
	struct __shmkit_inbox_hdr *h = (void *)(g->raw + SHMKIT_HDR_SIZE);
	size_t d = IBF_HDR_IN, bytes = IBF_BYTES_IN;
	int clean = !(flags & (IFL_SHAPE | IFL_IDENT | IFL_OWNERS | IFL_LANEHDR | IFL_SEGHDR));

	memcpy(g->raw, g->seghdr, sizeof(g->seghdr));
	if (flags & IFL_SEGHDR)
		g->raw[4 + ibf_u8(in, 1) % (SHMKIT_HDR_SIZE - 4)] ^= 0xa5;
	memset(g->raw + SHMKIT_HDR_SIZE, 0, g->area);

	IBF_ST(h->magic, (flags & IFL_IDENT) ? (uint32_t)ibf_le(in, d, 4) : SHMKIT_INBOX_MAGIC);
	h->version = (flags & IFL_IDENT) ? (uint16_t)ibf_le(in, d + 4, 2) : SHMKIT_INBOX_VERSION;
	h->hdr_size = (flags & IFL_IDENT) ? (uint16_t)ibf_le(in, d + 6, 2) : (uint16_t)sizeof(*h);
	h->lanes = (flags & IFL_SHAPE) ? (uint32_t)ibf_le(in, d + 8, 4) : g->sh.lanes;
	h->flags = (flags & IFL_SHAPE) ? (uint32_t)ibf_le(in, d + 12, 4) : g->sh.flags;
	h->lane_cap = (flags & IFL_SHAPE) ? ibf_le(in, d + 16, 8) : IBF_CAP;
	IBF_ST(h->owner, (flags & IFL_OWNERS) ? ibf_le(in, d + 24, 8) : 0);
	IBF_ST(h->closed, (uint32_t)ibf_le(in, d + 32, 4));
	IBF_ST(h->lanes_used, (uint32_t)ibf_le(in, d + 36, 4));
	IBF_ST(h->sleeps, ibf_le(in, d + 40, 8));
	IBF_ST(h->cons_sleep.sleeping, (uint32_t)ibf_le(in, d + 48, 4));
	IBF_ST(h->cons_sleep.wake_seq, (uint32_t)ibf_le(in, d + 52, 4));

	d = IBF_RINGS_IN;
	for (int r = 0; r < IBF_RINGS; r++, d += IBF_RING_DENSE) {
		struct __shmkit_chan_hdr *l = ibf_ring_hdr(g, r);
		unsigned char *ring = (unsigned char *)l + SHMKIT_INBOX_LANE_HDR;
		uint64_t at = ibf_le(in, d + 104, 2), n = ibf_le(in, d + 106, 2) % (IBF_CAP + 1);
		int lanehdr = !!(flags & IFL_LANEHDR), owners = !!(flags & IFL_OWNERS);

		IBF_ST(l->magic, lanehdr ? (uint32_t)ibf_le(in, d, 4) : SHMKIT_CHAN_MAGIC);
		l->version = lanehdr ? (uint16_t)ibf_le(in, d + 4, 2) : SHMKIT_CHAN_VERSION;
		l->hdr_size = lanehdr ? (uint16_t)ibf_le(in, d + 6, 2) : (uint16_t)sizeof(*l);
		l->capacity = lanehdr ? ibf_le(in, d + 8, 8) : IBF_CAP;
		l->max_msg = lanehdr ? ibf_le(in, d + 16, 8) : IBF_MAX_MSG;
		IBF_ST(l->hot[__SHMKIT_SIDE_PROD].pos, ibf_le(in, d + 24, 8));
		IBF_ST(l->hot[__SHMKIT_SIDE_PROD].msgs, ibf_le(in, d + 32, 8));
		IBF_ST(l->hot[__SHMKIT_SIDE_CONS].pos, ibf_le(in, d + 40, 8));
		IBF_ST(l->hot[__SHMKIT_SIDE_CONS].msgs, ibf_le(in, d + 48, 8));
		IBF_ST(l->cold[__SHMKIT_SIDE_PROD].owner, owners ? ibf_le(in, d + 56, 8) : 0);
		IBF_ST(l->cold[__SHMKIT_SIDE_PROD].closed, (uint32_t)ibf_le(in, d + 64, 4));
		IBF_ST(l->cold[__SHMKIT_SIDE_CONS].owner, owners ? ibf_le(in, d + 68, 8) : 0);
		IBF_ST(l->cold[__SHMKIT_SIDE_CONS].closed, (uint32_t)ibf_le(in, d + 76, 4));
		IBF_ST(l->sleep[__SHMKIT_SIDE_PROD].sleeping, (uint32_t)ibf_le(in, d + 80, 4));
		IBF_ST(l->sleep[__SHMKIT_SIDE_PROD].wake_seq, (uint32_t)ibf_le(in, d + 84, 4));
		IBF_ST(l->sleep[__SHMKIT_SIDE_CONS].sleeping, (uint32_t)ibf_le(in, d + 88, 4));
		IBF_ST(l->sleep[__SHMKIT_SIDE_CONS].wake_seq, (uint32_t)ibf_le(in, d + 92, 4));
		if (!(g->sh.flags & SHMKIT_INBOX_REPLIES) || r % 2 == 0)
			IBF_ST(*(_Atomic uint64_t *)(void *)((char *)l + SHMKIT_INBOX_EPOCH_OFFSET),
			       ibf_le(in, d + 96, 8));
		if (ibf_le(in, d + 24, 8) || ibf_le(in, d + 40, 8))
			clean = 0;
		for (uint64_t i = 0; i < n && bytes < in->n; i++, bytes++) {
			ring[(at + i) & (IBF_CAP - 1)] = in->p[bytes];
			clean = 0;
		}
	}
	shmkit_smp_mb();	/* barrier.h: a fence TSan accepts */
	return clean;
}

/* ------------------------------------------------------------ the run */

/* A message this process sent on a lane, not yet released by a reader. */
struct ibf_msg {
	uint64_t tag;
	uint32_t len;
	uint32_t epoch;		/* a request's: its client's claim of the lane */
	uint64_t id;		/* a request's number */
};

struct ibf_writer {
	struct shmkit_chan *p;		/* an inbox's producer */
	struct shmkit_client *cl;	/* a service's client */
	size_t max;			/* its largest message */
	int lane;			/* its lane while strict, else -1 */
	uint32_t epoch;			/* a client's, while strict */
	uint64_t next_id;		/* a client's next request number */
	int resv;			/* a reservation is open */
	size_t resv_len;
	uint64_t resv_tag;
};

struct ibf_run {
	struct ibf_seg *g;
	unsigned flags;
	int svc;
	int strict;		/* clean, and no poke yet */
	int poked;		/* the script has poked the segment */
	uint64_t tags;		/* the last tag given out */
	struct ibf_writer w[IBF_HANDLES];
	struct shmkit_inbox *ib;
	struct shmkit_service *srv;
	size_t max;		/* the reader's largest message */
	uint32_t lanes;		/* the reader's lanes, as it checked them */
	int peeked;		/* the reader holds a message (peek, or recv -EMSGSIZE) */
	const void *peek_ptr;
	size_t peek_len;
	int peek_lane;
	struct shmkit_request req;	/* the last request peeked or received */
	int have_req;
	struct {
		struct ibf_msg m[IBF_FIFO];
		unsigned head, n;
	} fifo[IBF_RINGS];	/* per lane, while strict */
};

/* A reply's bytes: from the request's number, epoch and lane. */
static uint64_t ibf_reply_tag(uint64_t id, uint32_t epoch, uint32_t lane)
{
	return id << 20 ^ (uint64_t)epoch << 4 ^ lane ^ 0x5bd1e995u;
}

static int ibf_is_payload(const void *p, size_t n, uint64_t tag)
{
	static unsigned char want[IBF_BIG];

	IBF_CHECK(n <= sizeof(want));
	payload_fill(want, n, tag);
	return memcmp(p, want, n) == 0;
}

/* A ring's size from a shape that fits the segment: 4, 8 or 16 KiB. */
static int ibf_cap_ok(size_t cap)
{
	return cap == IBF_CAP || cap == 2 * IBF_CAP || cap == 4 * IBF_CAP;
}

/* Is [p, p + n) inside [start, start + cap), and no longer than max? */
static void ibf_span(const void *p, size_t n, const void *start, size_t cap, size_t max)
{
	const unsigned char *q = p, *lo = start;

	IBF_CHECK(ibf_cap_ok(cap));
	IBF_CHECK(max <= cap / 2);
	IBF_CHECK(n <= max);
	IBF_CHECK(q != NULL && q >= lo);
	IBF_CHECK((size_t)(q - lo) <= cap - n);
}

static void ibf_chan_span(const struct shmkit_chan *ch, const void *p, size_t n, size_t max)
{
	const void *start;
	size_t cap;

	__shmkit_chan_ring(ch, &start, &cap);
	ibf_span(p, n, start, cap, max);
}

static struct shmkit_inbox *ibf_inbox_of(struct ibf_run *run)
{
	return run->svc ? (run->srv ? __shmkit_service_inbox(run->srv) : NULL) : run->ib;
}

/* [p, p + n) in lane's ring (reply ring) as the reader maps it. */
static void ibf_lane_span(struct ibf_run *run, int lane, int reply, const void *p, size_t n)
{
	const void *start;
	size_t cap;

	IBF_CHECK(lane >= 0 && (uint32_t)lane < run->lanes);
	__shmkit_inbox_ring_of(ibf_inbox_of(run), (uint32_t)lane, reply, &start, &cap);
	ibf_span(p, n, start, cap, run->max);
}

static int ibf_lanes(const struct ibf_run *run)
{
	return run->svc ? 2 : IBF_RINGS;
}

static void ibf_push(struct ibf_run *run, int lane, struct ibf_msg m)
{
	if (!run->strict || lane < 0)
		return;
	if (run->fifo[lane].n == IBF_FIFO) {
		run->strict = 0;	/* more than we keep: check no further */
		return;
	}
	run->fifo[lane].m[(run->fifo[lane].head + run->fifo[lane].n++) % IBF_FIFO] = m;
}

/* While strict: a message received from lane must be its oldest one. */
static void ibf_expect(struct ibf_run *run, int lane, const void *p, size_t n,
		       const struct shmkit_request *req)
{
	struct ibf_msg *m;

	if (!run->strict)
		return;
	IBF_CHECK(lane >= 0 && lane < ibf_lanes(run));
	IBF_CHECK(run->fifo[lane].n > 0);
	m = &run->fifo[lane].m[run->fifo[lane].head];
	IBF_CHECK(n == m->len);
	IBF_CHECK(ibf_is_payload(p, n, m->tag));
	if (req) {
		IBF_CHECK(req->id == m->id);
		IBF_CHECK(req->epoch == m->epoch);
	}
}

static void ibf_pop(struct ibf_run *run, int lane)
{
	if (!run->strict || lane < 0 || lane >= ibf_lanes(run) || !run->fifo[lane].n)
		return;
	run->fifo[lane].head = (run->fifo[lane].head + 1) % IBF_FIFO;
	run->fifo[lane].n--;
}

static void ibf_trace(const char *what, int k, unsigned param, int r)
{
	if (ibf.trace)
		fprintf(stderr, "  %s k=%d param=%u -> %d %s\n", what, k, param, r,
			r < 0 ? shmkit_strerror(r) : "");
}

/* The lowest lane none of our writers holds: where a join goes while strict. */
static int ibf_free_lane(const struct ibf_run *run)
{
	for (int l = 0; l < ibf_lanes(run); l++) {
		int held = 0;

		for (int k = 0; k < IBF_HANDLES; k++)
			held |= (run->w[k].p || run->w[k].cl) && run->w[k].lane == l;
		if (!held)
			return l;
	}
	return -1;
}

/* ------------------------------------------------------------ writers */

static void ibf_close_writer(struct ibf_run *run, int k, int abort_it)
{
	struct ibf_writer *w = &run->w[k];

	if (w->p)
		IBF_CHECK((abort_it ? shmkit_chan_abort(w->p) : shmkit_chan_close(w->p)) == 0);
	if (w->cl)
		IBF_CHECK(shmkit_client_close(w->cl) == 0);
	w->p = NULL;
	w->cl = NULL;
	w->resv = 0;
}

static void ibf_join(struct ibf_run *run, int k)
{
	struct ibf_writer *w = &run->w[k];
	int lane = run->strict ? ibf_free_lane(run) : -1, r;

	r = run->svc ? shmkit_client_open(run->g->name, 0, &w->cl) :
		       shmkit_inbox_join(run->g->name, 0, &w->p);
	ibf_trace("join", k, 0, r);
	IBF_CHECK(r == 0 || r == -EBUSY || r == -SHMKIT_ECORRUPT || r == -SHMKIT_EBADHDR ||
		  r == -SHMKIT_ECLASH || r == (run->svc ? -SHMKIT_ENOTSERVICE : -SHMKIT_ENOTINBOX));
	if (r < 0) {
		w->p = NULL;
		w->cl = NULL;
		/* strict: a free lane is taken, or none is free */
		if (run->strict)
			IBF_CHECK(r == -EBUSY && lane < 0);
		return;
	}
	if (run->strict)
		IBF_CHECK(lane >= 0);
	w->lane = lane;
	w->next_id = 1;
	w->resv = 0;
	if (run->svc && lane >= 0) {
		/* the claim's new epoch, as the lane's word holds it */
		w->epoch = (uint32_t)atomic_load((_Atomic uint64_t *)(void *)(
			(char *)__shmkit_inbox_lane(run->g->raw, &run->g->sh, (uint32_t)lane, 0) +
			SHMKIT_INBOX_EPOCH_OFFSET));
	}
	{
		const void *start;
		size_t cap;

		__shmkit_chan_ring(run->svc ? __shmkit_client_requests(w->cl) : w->p, &start, &cap);
		IBF_CHECK(ibf_cap_ok(cap));
		w->max = run->svc ? shmkit_client_max_msg(w->cl) : shmkit_chan_max_msg(w->p);
		IBF_CHECK(w->max == cap / 2 - (run->svc ? SHMKIT_SERVICE_HDR : 0));
		if (run->strict)
			IBF_CHECK(cap == IBF_CAP);
	}
}

static int ibf_write_ok(int r)
{
	return r == 0 || r == -EMSGSIZE || r == -EAGAIN || r == -EPIPE || r == -SHMKIT_ECORRUPT ||
	       r == -SHMKIT_EPEERDEAD;
}

/* send (reserve 0) or reserve and fill (reserve 1) len bytes from writer k */
static int ibf_write(struct ibf_run *run, int k, size_t len, int reserve)
{
	struct ibf_writer *w = &run->w[k];
	static unsigned char buf[IBF_BIG];
	uint64_t tag = ++run->tags, id = 0;
	void *p;
	int r;

	if (!w->p && !w->cl)
		return -EBADF;
	w->resv = 0;	/* a send or reserve abandons an open reservation */
	if (!reserve) {
		payload_fill(buf, len, tag);
		r = run->svc ? shmkit_client_send(w->cl, buf, len, &id, 0) :
			       shmkit_chan_send(w->p, buf, len, 0);
		ibf_trace("send", k, (unsigned)len, r);
		IBF_CHECK(ibf_write_ok(r));
		IBF_CHECK((len > w->max) == (r == -EMSGSIZE));
		if (r == 0) {
			if (run->svc)
				IBF_CHECK(id == w->next_id++);
			ibf_push(run, w->lane, (struct ibf_msg){ tag, (uint32_t)len, w->epoch, id });
		}
		return r;
	}
	r = run->svc ? shmkit_client_reserve(w->cl, len, &p, 0) :
		       shmkit_chan_reserve(w->p, len, &p, 0);
	ibf_trace("reserve", k, (unsigned)len, r);
	IBF_CHECK(ibf_write_ok(r));
	IBF_CHECK((len > w->max) == (r == -EMSGSIZE));
	if (r == 0) {
		ibf_chan_span(run->svc ? __shmkit_client_requests(w->cl) : w->p, p, len, w->max);
		payload_fill(p, len, tag);
		w->resv = 1;
		w->resv_len = len;
		w->resv_tag = tag;
	}
	return r;
}

static void ibf_commit(struct ibf_run *run, int k, size_t used)
{
	struct ibf_writer *w = &run->w[k];
	uint64_t id = 0;
	int r;

	if (!w->p && !w->cl)
		return;
	r = run->svc ? shmkit_client_commit(w->cl, used, &id) : shmkit_chan_commit(w->p, used);
	ibf_trace("commit", k, (unsigned)used, r);
	IBF_CHECK(r == 0 || r == -EINVAL);
	IBF_CHECK(r == (w->resv && used <= w->resv_len ? 0 : -EINVAL));
	if (r < 0) {
		/* a client's reservation goes with a failed commit; a channel keeps it */
		if (run->svc)
			w->resv = 0;
		return;
	}
	w->resv = 0;
	if (run->svc)
		IBF_CHECK(id == w->next_id++);
	ibf_push(run, w->lane, (struct ibf_msg){ w->resv_tag, (uint32_t)used, w->epoch, id });
}

/* ------------------------------------------------------------- readers */

static void ibf_reader_close(struct ibf_run *run)
{
	if (run->ib)
		IBF_CHECK(shmkit_inbox_close(run->ib) == 0);
	if (run->srv)
		IBF_CHECK(shmkit_service_close(run->srv) == 0);
	run->ib = NULL;
	run->srv = NULL;
	run->peeked = 0;
	run->have_req = 0;
}

static void ibf_reader_open(struct ibf_run *run)
{
	int r = run->svc ? shmkit_service_open(run->g->name, 0, &run->srv) :
			   shmkit_inbox_open(run->g->name, 0, &run->ib);

	ibf_trace("open", -1, 0, r);
	IBF_CHECK(r == 0 || r == -EBUSY || r == -SHMKIT_ECORRUPT || r == -SHMKIT_EBADHDR ||
		  r == -SHMKIT_ECLASH || r == (run->svc ? -SHMKIT_ENOTSERVICE : -SHMKIT_ENOTINBOX));
	if (run->strict)
		IBF_CHECK(r == 0);
	if (r < 0) {
		run->ib = NULL;
		run->srv = NULL;
		return;
	}
	{
		/* the shape it checked: read at once, before any poke */
		struct __shmkit_inbox_hdr *h = (void *)(run->g->raw + SHMKIT_HDR_SIZE);

		run->lanes = h->lanes;
		run->max = run->svc ? shmkit_service_max_msg(run->srv) :
				      shmkit_inbox_max_msg(run->ib);
		IBF_CHECK(ibf_cap_ok(h->lane_cap));
		IBF_CHECK(run->max == h->lane_cap / 2 - (run->svc ? SHMKIT_SERVICE_HDR : 0));
		IBF_CHECK(run->lanes >= 1 && run->lanes <= IBF_RINGS);
		if (run->strict)
			IBF_CHECK(h->lane_cap == IBF_CAP);
	}
	IBF_CHECK(shmkit_inbox_from(ibf_inbox_of(run)) == -1);
}

/* peek (cap < 0) or recv (cap >= 0); its result */
static int ibf_read(struct ibf_run *run, long cap)
{
	static unsigned char buf[IBF_BIG + 16];
	struct shmkit_request req = { 0 };
	struct shmkit_inbox *ib = ibf_inbox_of(run);
	const void *p = NULL;
	size_t n = 0;
	int r, lane;

	if (!ib)
		return -EBADF;
	memset(buf, 0xee, sizeof(buf));
	if (cap >= 0)
		r = run->svc ? shmkit_service_recv(run->srv, buf, (size_t)cap, &n, &req, 0) :
			       shmkit_inbox_recv(run->ib, buf, (size_t)cap, &n, 0);
	else
		r = run->svc ? shmkit_service_peek(run->srv, &p, &n, &req, 0) :
			       shmkit_inbox_peek(run->ib, &p, &n, 0);
	ibf_trace(cap >= 0 ? "recv" : "peek", -1, (unsigned)cap, r);
	IBF_CHECK(r == 0 || r == -EAGAIN || r == -SHMKIT_ECORRUPT || (cap >= 0 && r == -EMSGSIZE));
	lane = run->svc ? (int)req.client : shmkit_inbox_from(ib);
	if (run->peeked) {
		/* a held message shows again, the same one */
		IBF_CHECK(r == 0 || r == -EMSGSIZE);
		IBF_CHECK(n == run->peek_len && lane == run->peek_lane);
		if (cap < 0)
			IBF_CHECK(p == run->peek_ptr);
	}
	if (run->strict)
		IBF_CHECK(r != -SHMKIT_ECORRUPT);
	if (r == -SHMKIT_ECORRUPT) {
		IBF_CHECK(lane >= 0 && (uint32_t)lane < run->lanes);
		if (run->svc)
			run->have_req = 0;
		return r;
	}
	if (r < 0 && r != -EMSGSIZE)
		return r;
	IBF_CHECK(n <= run->max);
	if (run->svc) {
		run->req = req;
		run->have_req = 1;
		IBF_CHECK(req.client < run->lanes);
	}
	if (r == 0 && cap >= 0) {
		IBF_CHECK(n <= (size_t)cap);
		IBF_CHECK(buf[n] == 0xee);	/* nothing past what it says */
		ibf_expect(run, lane, buf, n, run->svc ? &req : NULL);
		ibf_pop(run, lane);
		run->peeked = 0;
		return r;
	}
	if (r == -EMSGSIZE) {
		IBF_CHECK(n > (size_t)cap);
		IBF_CHECK(buf[0] == 0xee);	/* left in place, nothing copied */
		/* held now: find where with a peek */
		r = run->svc ? shmkit_service_peek(run->srv, &p, &n, &req, 0) :
			       shmkit_inbox_peek(run->ib, &p, &n, 0);
		IBF_CHECK(r == 0);
		r = -EMSGSIZE;
	}
	ibf_lane_span(run, lane, 0, p, n);
	memcpy(buf, p, n);
	ibf_expect(run, lane, buf, n, run->svc ? &req : NULL);
	run->peeked = 1;
	run->peek_ptr = p;
	run->peek_len = n;
	run->peek_lane = lane;
	return r;
}

static void ibf_release(struct ibf_run *run)
{
	int r;

	if (!ibf_inbox_of(run))
		return;
	r = run->svc ? shmkit_service_release(run->srv) : shmkit_inbox_release(run->ib);
	ibf_trace("release", -1, 0, r);
	IBF_CHECK(r == (run->peeked ? 0 : -EINVAL));
	if (r == 0)
		ibf_pop(run, run->peek_lane);
	run->peeked = 0;
}

/* The server answers the last request: len bytes (or reserve and commit). */
static void ibf_reply(struct ibf_run *run, size_t len, int zc)
{
	const struct shmkit_request *q = &run->req;
	uint64_t tag;
	void *p;
	int r;

	if (!run->srv || !run->have_req)
		return;
	tag = ibf_reply_tag(q->id, q->epoch, q->client);
	if (!zc) {
		static unsigned char buf[IBF_BIG];

		payload_fill(buf, len, tag);
		r = shmkit_service_reply(run->srv, q, buf, len, 0);
	} else {
		r = shmkit_service_reserve(run->srv, q, len, &p, 0);
		if (r == 0) {
			ibf_lane_span(run, (int)q->client, 1, p, len);
			payload_fill(p, len, tag);
			r = shmkit_service_commit(run->srv, len / 2);
			IBF_CHECK(r == 0);
			IBF_CHECK(shmkit_service_commit(run->srv, 0) == -EINVAL);
		}
	}
	ibf_trace(zc ? "reply-zc" : "reply", -1, (unsigned)len, r);
	/* -EINVAL: a lane the server found corrupt when it opened has no reply ring */
	IBF_CHECK(r == 0 || r == -EMSGSIZE || r == -EAGAIN || r == -EPIPE || r == -EINVAL ||
		  r == -SHMKIT_ECORRUPT || r == -SHMKIT_EPEERDEAD);
	/* the client's presence is asked first, the size after */
	IBF_CHECK(r != -EMSGSIZE || len > run->max);
	IBF_CHECK(r != 0 || len <= run->max);
	if (run->strict)
		IBF_CHECK(r != -EINVAL && r != -SHMKIT_ECORRUPT);
}

/* Client k takes a reply: recv (cap) or peek and release. */
static void ibf_client_recv(struct ibf_run *run, int k, size_t cap, int zc)
{
	struct ibf_writer *w = &run->w[k];
	static unsigned char buf[IBF_BIG + 16];
	const void *p = buf;
	uint64_t id = 0;
	size_t n = 0;
	int r;

	if (!w->cl)
		return;
	memset(buf, 0xee, sizeof(buf));
	r = zc ? shmkit_client_peek(w->cl, &p, &n, &id, 0) :
		 shmkit_client_recv(w->cl, buf, cap, &n, &id, 0);
	ibf_trace(zc ? "client-peek" : "client-recv", k, (unsigned)cap, r);
	IBF_CHECK(r == 0 || r == -EAGAIN || r == -SHMKIT_EEOF || r == -SHMKIT_EABORTED ||
		  r == -SHMKIT_EPEERDEAD || r == -SHMKIT_ECORRUPT || (!zc && r == -EMSGSIZE));
	if (r < 0 && r != -EMSGSIZE)
		return;
	IBF_CHECK(n <= w->max);
	if (zc) {
		ibf_chan_span(__shmkit_client_replies(w->cl), p, n, w->max);
	} else if (r == 0) {
		IBF_CHECK(n <= cap && buf[n] == 0xee);
	} else {
		IBF_CHECK(n > cap && buf[0] == 0xee);
		return;
	}
	/* strict: one of its own requests, answered as the server wrote it */
	if (run->strict && w->lane >= 0) {
		IBF_CHECK(id >= 1 && id < w->next_id);
		IBF_CHECK(ibf_is_payload(p, n, ibf_reply_tag(id, w->epoch, (uint32_t)w->lane)));
	}
	if (zc)
		IBF_CHECK(shmkit_client_release(w->cl) == 0);
	IBF_CHECK(shmkit_client_release(w->cl) == -EINVAL);
}

static void ibf_info(struct ibf_run *run, unsigned cap, int null_lanes)
{
	struct shmkit_inbox_lane_info li[9];
	struct shmkit_inbox_info info;
	int r;

	memset(li, 0xab, sizeof(li));
	r = shmkit_inbox_info(run->g->shmid, &info, null_lanes ? NULL : li, null_lanes ? 0 : cap);
	ibf_trace("info", -1, cap, r);
	IBF_CHECK(r == 0 || r == -SHMKIT_ECORRUPT || r == -SHMKIT_ENOTINBOX ||
		  r == -SHMKIT_EBADHDR || r == -SHMKIT_ECLASH);
	/* never past cap entries */
	for (unsigned i = null_lanes ? 0 : cap; i < 9; i++) {
		const unsigned char *b = (const unsigned char *)&li[i];

		for (size_t j = 0; j < sizeof(li[i]); j++)
			IBF_CHECK(b[j] == 0xab);
	}
	if (r < 0)
		return;
	IBF_CHECK(info.lanes >= 1 && info.lanes <= SHMKIT_INBOX_MAX_LANES);
	IBF_CHECK(info.listed <= info.lanes && info.producers <= info.listed);
	if (!(run->flags & IFL_SHAPE) && !run->poked)
		IBF_CHECK(info.replies == run->svc);
	for (unsigned i = 0; !null_lanes && i < cap && i < info.listed; i++) {
		IBF_CHECK(li[i].lane < info.lanes);
		IBF_CHECK(li[i].used <= info.lane_capacity);
	}
}

/* A wait set of the inbox, waited on with timeout 0. */
static void ibf_waitset(struct ibf_run *run)
{
	struct shmkit_waitset *ws;
	struct shmkit_event ev[2];
	int r;

	if (!run->ib)
		return;
	IBF_CHECK(shmkit_waitset_new(&ws) == 0);
	IBF_CHECK(shmkit_waitset_add_inbox(ws, run->ib, run) == 0);
	r = shmkit_waitset_wait(ws, ev, 2, 0);
	ibf_trace("waitset", -1, 0, r);
	IBF_CHECK(r == 1 || r == -EAGAIN);
	if (r == 1) {
		IBF_CHECK(ev[0].udata == run);
		IBF_CHECK(ev[0].status == 0 || ev[0].status == -SHMKIT_ECORRUPT);
		if (run->strict)
			IBF_CHECK(ev[0].status == 0);
	}
	IBF_CHECK(shmkit_waitset_free(ws) == 0);
}

static const char *const ibf_op_names[16] = {
	"join", "send", "reserve", "commit", "close", "reader-reopen", "recv", "peek",
	"release", "peer/reply", "waitset/client-recv", "info", "poke", "poke-word", "burst",
	"drain",
};

int INBOX_FUZZ_ENTRY(const uint8_t *data, size_t size);
int INBOX_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static struct ibf_run run;
	struct ibf_in in = { data, size };
	unsigned flags = ibf_u8(&in, 0), i, j;
	unsigned char loaded[SHMKIT_HDR_SIZE];

	if (!ibf.ready)
		ibf_setup();
	memset(&run, 0, sizeof(run));
	run.flags = flags;
	run.svc = !!(flags & IFL_SERVICE);
	run.g = &ibf.seg[run.svc];
	for (int k = 0; k < IBF_HANDLES; k++)
		run.w[k].lane = -1;
	run.strict = ibf_load(run.g, &in, flags);
	memcpy(loaded, run.g->raw, sizeof(loaded));
	if (ibf.trace)
		fprintf(stderr, "input of %zu bytes, flags 0x%02x, %s%s\n", size, flags,
			run.svc ? "service" : "inbox", run.strict ? ", strict" : "");
	if ((flags & (IFL_CONS_FIRST | IFL_NO_CONS)) == IFL_CONS_FIRST)
		ibf_reader_open(&run);
	ibf_join(&run, 0);
	ibf_join(&run, 1);
	if (!(flags & (IFL_CONS_FIRST | IFL_NO_CONS)))
		ibf_reader_open(&run);

	for (i = 0; i < IBF_NOPS; i++) {
		unsigned op = ibf_u8(&in, 2 + 3 * i), code = op & 15, hi = op >> 4;
		unsigned param = (unsigned)ibf_le(&in, 3 + 3 * i, 2);
		size_t len = param & 0xfff;
		int k = (int)(hi & 3);

		if (ibf.trace)
			fprintf(stderr, "op %u: %s(%u) k=%d\n", i, ibf_op_names[code], param, k);
		switch (code) {
		case 0:
			ibf_close_writer(&run, k, !run.svc && (param & 1));
			ibf_join(&run, k);
			break;
		case 1:
			ibf_write(&run, k, len, 0);
			break;
		case 2:
			ibf_write(&run, k, len, 1);
			break;
		case 3:
			ibf_commit(&run, k, len);
			break;
		case 4:
			ibf_close_writer(&run, k, !run.svc && (param & 1));
			break;
		case 5:
			ibf_reader_close(&run);
			if (!(param & 2))
				ibf_reader_open(&run);
			break;
		case 6:
			ibf_read(&run, (long)len);
			break;
		case 7:
			ibf_read(&run, -1);
			break;
		case 8:
			ibf_release(&run);
			break;
		case 9:
			if (run.svc) {
				ibf_reply(&run, len, !!(param & 0x8000));
			} else if (run.w[k].p) {
				int r = shmkit_chan_peer(run.w[k].p);

				ibf_trace("peer", k, 0, r);
				IBF_CHECK(r == 0 || r == -EPIPE || r == -SHMKIT_EPEERDEAD);
			}
			break;
		case 10:
			if (run.svc)
				ibf_client_recv(&run, k, len, !!(param & 0x8000));
			else
				ibf_waitset(&run);
			break;
		case 11:
			ibf_info(&run, param & 7, !!(param & 8));
			break;
		case 12:
			run.g->raw[SHMKIT_HDR_SIZE + param % run.g->area] ^= (unsigned char)(hi + 1);
			run.strict = 0;
			run.poked = 1;
			break;
		case 13: {
			uint64_t v = (param & 0x8000) ? ~(uint64_t)hi : hi;
			size_t at = ((size_t)(param & 0x7fff) * 8) % run.g->area;

			memcpy(run.g->raw + SHMKIT_HDR_SIZE + at, &v, 8);
			run.strict = 0;
			run.poked = 1;
			break;
		}
		case 14:
			for (j = 0; j <= param >> 12; j++)
				if (ibf_write(&run, k, param & 0xff, 0) != 0)
					break;
			break;
		case 15:
			for (j = 0; j <= param >> 12; j++)
				if (ibf_read(&run, (long)len) != 0)
					break;
			break;
		}
		/* nobody writes the segment header: neither the library nor a poke */
		IBF_CHECK(memcmp(run.g->raw, loaded, sizeof(loaded)) == 0);
	}

	for (int k = 0; k < IBF_HANDLES; k++)
		ibf_close_writer(&run, k, 0);
	ibf_reader_close(&run);
	return 0;
}
