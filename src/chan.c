/*
 * Channels: one producer, one consumer, variable-length messages in a ring
 * inside one named segment (layout in chan.h).
 *
 * Positions. The producer's tail (hot[PROD].pos) and the consumer's head
 * (hot[CONS].pos) are free-running 64-bit byte counts, each with a single
 * writer. Bytes in [head, tail) are published and not yet released; a
 * position's place in the ring is pos & mask (capacity is a power of two).
 * Unsigned tail - head is the fill level even across wrap-around, and 64
 * bits do not wrap in any real lifetime. Each side keeps its own position
 * in private memory (that copy is the truth for it) and a cached copy of
 * the other's, re-read only when the cache says it must wait.
 *
 * Records. An 8-byte header (struct __shmkit_rec: length and a mark), then
 * the payload, padded to 8 bytes. A record never wraps: when it does not
 * fit before the ring's end, the producer writes a PAD record over the rest
 * of the ring and starts again at offset 0. So the largest message,
 * max_msg = capacity / 2, always fits once the ring has drained. A
 * producer that finds the ring empty may pad early, to keep small
 * messages on warm lines (maybe_rewind); to the consumer a pad is a pad.
 *
 * The consumer polls the record, not the tail. Committing a record writes
 * an empty header word (no mark) just past its end first, then the
 * record's own header with the mark. So the word at any record's end holds
 * either that empty word or a newer record's header: never stale bytes of
 * an earlier lap, which could look like a header. A waiting consumer
 * therefore watches one word, in the line the record itself fills, and a
 * message costs one cache-line transfer instead of two (tail, then the
 * record). The producer needs the 8 bytes past the record to be free as
 * well. The tail is still stored on every commit, in the producer's own
 * line: it serves opening, the sleep re-check's sanity test and statistics.
 *
 * Memory ordering (labels are searchable):
 *   P1 producer: writes a record and the empty word after it, then
 *      store_release(its header), then store_release(tail).  pairs with C1
 *   C1 consumer: load_acquire(header at head) and, while that has no
 *      mark, load_acquire(tail); reads the record once the mark shows.
 *   C2 consumer: has read a record, then store_release(head). pairs with P2
 *   P2 producer: load_acquire(head), then overwrites bytes below head + cap.
 * Without P1/C1 the consumer could see the mark before the record's bytes;
 * without C2/P2 the producer could overwrite bytes still being read. A
 * tail past head while the header at head has no mark is impossible
 * (header before tail, release on both), hence corruption.
 *
 * Sleeping, without lost wake-ups (a Dekker handshake):
 *   S1 sleeper: sleeping = 1; full barrier; re-check; futex_wait(wake_seq).
 *   S2 waker:   publish (P1 or C2); full barrier; if sleeping, clear it,
 *               bump wake_seq and futex_wake.
 * Each side stores, then loads the other's word, with a full barrier in
 * between, so at least one of them sees the other's store: either the
 * sleeper sees the new data and does not sleep, or the waker sees the flag.
 * The sleeper read wake_seq before raising the flag, so a wake that lands
 * between its re-check and its futex_wait makes futex_wait return at once.
 * While nobody sleeps, the waker's cost is one barrier and one load of a
 * line that does not change: no system call per message.
 *   S3 waker:   exchange(sleeping, 0), seq_cst: of the wake_peer calls that
 *               race for one announced sleep, only the one that finds the flag
 *               still set calls futex_wake.  pairs with S1's flag store, S5
 *   S4 waker:   fetch_add(wake_seq), seq_cst, before futex_wake: the sleeper's
 *               futex_wait compares the wake_seq it loaded (S1) and returns
 *               at once if it moved.  pairs with S1
 *   S5 kicker:  store(sleeping, 0), seq_cst, then S4: kick_peer wakes whether
 *               or not a sleep was announced (open, close).  pairs with S1, S3
 *
 * Owners and layout:
 *   O0 closer:  store_release(owner, 0) after its last stores (closed).
 *   O1 claimer: load_acquire(owner), then compare_exchange(owner),
 *               seq_cst: of two processes taking a free or dead side
 *               only one wins, and it sees the closer's stores.
 *               pairs with O0 (model/owner.pml)
 *   M0 creator: store_release(magic) after the layout.  pairs with M1
 *   M1 opener:  load_acquire(magic), then reads the layout.
 *
 * Never trust the segment: positions, lengths and layout read from shared
 * memory are checked before use, and a bad one is -SHMKIT_ECORRUPT.
 */
#define _GNU_SOURCE	/* sched_getcpu */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "barrier.h"
#include "chan.h"
#include "futex.h"
#include "look.h"
#include "owner.h"
#include "prezero.h"
#include "proc.h"
#include "relax.h"
#include "seg.h"
#include "shmkit.h"
#include "util.h"
#include "waitset.h"
#include "watch.h"

/*
 * Spin at least this long before sleeping. A sleep and its wake-up cost
 * tens of microseconds here (more in a virtual machine), and a 1 MiB
 * message takes about 70-95 us to write at memory speed: with a 20 us
 * spin, shmkit bench measured a sleep and a wake-up every few such
 * messages; with 100 us, about one per thousand. Each handle then spins
 * twice its recent typical wait (a moving average of the waits that
 * ended in data within SPIN_MAX_NS) or a quarter more than its longest
 * recent one, between the two bounds (learn_spin): a side whose waits
 * run a little over 100 us, or stall now and then, keeps spinning through
 * them instead of sleeping every time. An idle channel's long waits do
 * not count, and each halves the longest. A handle whose spin was set
 * (shmkit_chan_set_spin) spins that long instead, never learnt, or not
 * at all (wait_fixed).
 */
#define SPIN_NS 100000
#define SPIN_MAX_NS 1000000
/*
 * A wait this long may be for our own cpu: the peer may be runnable on
 * it (a crowded machine, or two processes not pinned apart). Each side
 * notes its cpu in its hot block's wait line when it begins to wait, and a waiter
 * offers its cpu, at most this often, only while the peer last waited on
 * the same one: a peer on another cpu gains nothing from our yield, and
 * at 1 MiB messages yields were most of the system calls. Yielding at
 * every look at the clock cost about one system call a microsecond.
 */
#define YIELD_EVERY_NS 20000
#define PEER_CHECK_NS 20000000		/* re-check the peer's life this often */
/*
 * Polls a wait makes before it reads the clock. Reading it costs about 30
 * ns in a virtual machine, and a wait reads it when it begins and when it
 * ends, the second time after the data has come: in a ping-pong of 8 B
 * messages those reads were 10-27% of the round trip (paired A/B blocks
 * within one pair of processes, AMD EPYC VM, 2026-11-30). A wait that
 * ends within these polls (a few microseconds at most) is not timed, and
 * does not count in wait_ns or the spin's moving average.
 */
#define UNTIMED_POLLS 64

/* cold.closed: how a side last ended; cleared by the next open */
#define CLOSED_CLEAN 1
#define CLOSED_ABORTED 2

/*
 * A sleeper wakes at least this often to see whether the peer died (the
 * dead do not wake anyone). Tests set it to -1, so that a lost wake-up
 * shows as a hang instead of hiding behind the next slice.
 */
int64_t __shmkit_chan_sleep_slice_ns = 20000000;

struct shmkit_chan {
	struct shmkit_map map;
	struct __shmkit_chan_hdr *hdr;
	unsigned char *ring;
	uint64_t cap, mask, max_msg;	/* private copies, checked at open */
	int side, peer;			/* __SHMKIT_SIDE_PROD or _CONS */
	int policy;
	int spin_fixed;		/* set by shmkit_chan_set_spin: spin_ns is never learnt */
	uint64_t wait_avg;	/* moving average of short waits, ns */
	uint64_t spin_ns;	/* how long to spin before sleeping */
	uint64_t wait_tail;	/* the longest recent short wait, fading, ns */
	uint64_t pos;		/* my position: private, the truth for me */
	uint64_t peer_pos;	/* producer: the head, as last read;
				   consumer: the tail, as last checked */
	uint64_t next_rec;	/* consumer: the header word data_ready saw */
	uint64_t rewind_at;	/* producer: where reserve next looks at rewinding */
	struct prezero prezero;	/* producer: whether zeroing ahead pays */
	uint64_t zero_to;	/* producer: bytes below are zeroed or judged not to be */
	uint64_t judged_at;	/* producer: pos at the last judgment */
	uint64_t waited_ns;	/* producer: waits for room since then, while timed */
	uint64_t zeroed;	/* producer: bytes zeroed ahead, for tests */
	/*
	 * Producer: 1 while a reservation is open. Consumer: how many
	 * messages are peeked and not yet released (held); they lie from
	 * pos (the oldest, the one len and peek_ptr describe) to ahead.
	 */
	int busy;
	uint64_t len;		/* reserved or oldest held payload length */
	const void *peek_ptr;
	uint64_t ahead;		/* consumer: the end of the held messages */
	/* the other side's owner as last seen alive, and when */
	uint64_t peer_owner;
	uint64_t peer_seen;
	/*
	 * Where the other side sleeps: hdr->sleep[peer], but for an inbox
	 * lane's producer the one sleep block of the inbox's consumer.
	 */
	struct __shmkit_chan_sleep *peer_sleep;
	int borrowed_map;	/* an inbox consumer's lane: the map is the inbox's */
};

static inline uint64_t rec_size(uint64_t len)
{
	return sizeof(struct __shmkit_rec) +
	       ((len + SHMKIT_REC_ALIGN - 1) & ~(uint64_t)(SHMKIT_REC_ALIGN - 1));
}

/* The empty word after a record, which the producer must own too. */
#define REC_END_WORD sizeof(struct __shmkit_rec)

static inline _Atomic uint64_t *rec_word(const struct shmkit_chan *ch, uint64_t pos)
{
	return (_Atomic uint64_t *)(void *)(ch->ring + (pos & ch->mask));
}

static inline uint64_t rec_marked(uint32_t len)
{
	return (uint64_t)SHMKIT_REC_MARK << 32 | len;
}

static inline int rec_has_mark(uint64_t word)
{
	return (uint32_t)(word >> 32) == SHMKIT_REC_MARK;
}

/*
 * Publishes a record of len bytes (or a pad) at the producer's position:
 * the empty word at its end first, then its header. P1.
 */
static void rec_publish(struct shmkit_chan *ch, uint32_t len, uint64_t size)
{
	shmkit_store_relaxed(rec_word(ch, ch->pos + size), 0);
	/* P1: the payload and the empty word before the mark; pairs with C1
	   (model: weak-p1h) */
	shmkit_store_release(rec_word(ch, ch->pos), rec_marked(len));
	ch->pos += size;
	/* P1 as well: who sees this tail sees the header (data_ready;
	   model: weak-p1t) */
	shmkit_store_release(&ch->hdr->hot[__SHMKIT_SIDE_PROD].pos, ch->pos);
}

/*
 * Producer: a pad over the size bytes left before the ring's end. They are
 * skipped, not written: the zeroing's judgment (zero_ahead) counts
 * reserved bytes only, as if the producer had been there already.
 */
static void publish_pad(struct shmkit_chan *ch, uint64_t size)
{
	rec_publish(ch, SHMKIT_REC_PAD, size);
	ch->judged_at += size;
}

/*
 * Has the other side gone? 0 if it may still act (alive, or not yet come);
 * else the error this side's waits end with.
 */
static int peer_gone(struct shmkit_chan *ch)
{
	struct __shmkit_chan_cold *cold = &ch->hdr->cold[ch->peer];
	/*
	 * Either acquire alone orders the last look at the data after the
	 * peer's last stores (model: full-unneeded-go, full-unneeded-gc):
	 * one of the two must stay.
	 */
	uint64_t owner = shmkit_load_acquire(&cold->owner), now;

	if (owner == 0) {
		/* close stores closed before clearing owner: see chan_close */
		uint32_t closed = shmkit_load_acquire(&cold->closed);

		if (!closed)
			return 0;
		if (ch->side == __SHMKIT_SIDE_PROD)
			return -EPIPE;
		return closed == CLOSED_ABORTED ? -SHMKIT_EABORTED : -SHMKIT_EEOF;
	}
	/*
	 * Asking /proc costs microseconds: trust a recent answer. (Not
	 * kill(pid, 0) instead: a killed peer that nobody has reaped yet is
	 * a zombie, which kill finds, and /proc shows for what it is.)
	 */
	now = __shmkit_now_ns();
	if (owner == ch->peer_owner && now - ch->peer_seen < PEER_CHECK_NS)
		return 0;
	if (!__shmkit_owner_alive(owner)) {
		/*
		 * It may have closed and exited between our load of its owner
		 * word and /proc: a clean end must not read as a death. Gone,
		 * it stores nothing more, so one more look settles it (a word
		 * that changed again means a new owner: judge that one later).
		 */
		uint64_t again = shmkit_load_acquire(&cold->owner);

		if (again == owner)
			return -SHMKIT_EPEERDEAD;
		return again ? 0 : peer_gone(ch);
	}
	ch->peer_owner = owner;
	ch->peer_seen = now;
	return 0;
}

/* ------------------------------------------------------- ready and wait */

/* Producer: are need bytes free? 1 yes, 0 no, or -SHMKIT_ECORRUPT. */
static int space_ready(struct shmkit_chan *ch, uint64_t need)
{
	uint64_t head;

	if (ch->cap - (ch->pos - ch->peer_pos) >= need)
		return 1;
	/*
	 * P2: pairs with C2; bytes below head are the consumer's no more.
	 * The model passes with it relaxed (full-unneeded-p2): the payload
	 * stores depend on this load, and Armv8 never makes such a store
	 * visible early. C11 has no such rule, and those stores are plain:
	 * without the acquire they would race with the consumer's reads.
	 */
	head = shmkit_load_acquire(&ch->hdr->hot[__SHMKIT_SIDE_CONS].pos);
	if (ch->pos - head > ch->cap || (head & (SHMKIT_REC_ALIGN - 1)))
		return -SHMKIT_ECORRUPT;
	ch->peer_pos = head;
	return ch->cap - (ch->pos - head) >= need;
}

/*
 * Consumer: a marked header at cur must lie within the published data. A
 * producer stores a record's tail after its header (P1), so the tail read
 * after that header (C1) is at least cur, and never a ring beyond it.
 * Checking costs a load of the producer's line, so it is done once per
 * ring's worth of records: while cur is less than a ring past the tail
 * last checked, the record cannot be a stale or forged one from beyond
 * the data. So a ring full of marked words, with a tail that never moves,
 * yields at most one ring of records before -SHMKIT_ECORRUPT, instead of
 * the same bytes for ever.
 */
static int within_tail(struct shmkit_chan *ch, uint64_t cur)
{
	uint64_t tail;

	if ((int64_t)(cur - ch->peer_pos) < (int64_t)ch->cap)
		return 1;
	/* relaxed would do: C1's acquire of the header orders this load
	   (model: full-unneeded-c1w); a bound check, not a hot path */
	tail = shmkit_load_acquire(&ch->hdr->hot[__SHMKIT_SIDE_PROD].pos);
	if ((tail & (SHMKIT_REC_ALIGN - 1)) || (int64_t)(tail - cur) < 0 ||
	    tail - cur > ch->cap)
		return -SHMKIT_ECORRUPT;
	ch->peer_pos = tail;
	return 1;
}

/*
 * Consumer: is a record published at cur? 1 (its header word is then in
 * next_rec), 0, or -SHMKIT_ECORRUPT.
 */
static int data_ready(struct shmkit_chan *ch, uint64_t cur)
{
	uint64_t tail, word;
	int r;

	/* C1: pairs with P1; a marked header means a complete record
	   (model: weak-c1h) */
	word = shmkit_load_acquire(rec_word(ch, cur));
	if (rec_has_mark(word)) {
		if ((r = within_tail(ch, cur)) < 0)
			return r;
		goto found;
	}
	/*
	 * Nothing yet: the tail tells whether that can be true. It may lag
	 * behind us: the producer stores it just after the header we may
	 * already have read (or died in between), by one record and a pad.
	 * C1 as well: the header is read again below (model: weak-c1t).
	 */
	tail = shmkit_load_acquire(&ch->hdr->hot[__SHMKIT_SIDE_PROD].pos);
	if (tail & (SHMKIT_REC_ALIGN - 1))
		return -SHMKIT_ECORRUPT;
	if ((int64_t)(tail - cur) <= 0)
		return cur - tail <= ch->cap ? 0 : -SHMKIT_ECORRUPT;
	if (tail - cur > ch->cap)
		return -SHMKIT_ECORRUPT;
	/* the header was stored before this tail: it must show now (C1);
	   relaxed would do, after the tail's acquire (full-unneeded-c1r) */
	word = shmkit_load_acquire(rec_word(ch, cur));
	if (!rec_has_mark(word))
		return -SHMKIT_ECORRUPT;
	ch->peer_pos = tail;
found:
	ch->next_rec = word;
	return 1;
}

static int ready(struct shmkit_chan *ch, uint64_t arg)
{
	return ch->side == __SHMKIT_SIDE_PROD ? space_ready(ch, arg) : data_ready(ch, arg);
}

/*
 * Has the other side closed? Two loads, no /proc: fit for the sleep path.
 * Called after S1's barrier, which already orders them (model:
 * full-unneeded-pco, full-unneeded-pcc).
 */
static int peer_closed(const struct shmkit_chan *ch)
{
	const struct __shmkit_chan_cold *cold = &ch->hdr->cold[ch->peer];

	return shmkit_load_acquire(&cold->owner) == 0 && shmkit_load_acquire(&cold->closed);
}

/* S2: called after every publish; wakes the other side if it sleeps. */
static void wake_peer(struct shmkit_chan *ch)
{
	struct __shmkit_chan_sleep *sl = ch->peer_sleep;

	/* S2: orders our publish before the load of sleeping; pairs with S1 */
	shmkit_smp_mb();
	/* S3, S4: in __shmkit_futex_wake_flagged */
	if (__shmkit_futex_wake_flagged(&sl->sleeping, &sl->wake_seq, 1))
		__shmkit_count(&ch->hdr->cold[ch->side].wakes, 1);
}

/*
 * Wakes the other side whether or not it announced a sleep: for close (it
 * must see the end) and open. A predecessor on our side may have died in
 * wake_peer after clearing the flag and before the futex call; the
 * sleeper, its flag gone, would wait out its whole slice. Waking an awake
 * side costs it one spurious re-check.
 */
static void kick_peer(struct shmkit_chan *ch)
{
	struct __shmkit_chan_sleep *sl = ch->peer_sleep;

	/* our stores (closed, positions) before the flag and the bump */
	shmkit_smp_mb();
	/* S5, S4: in __shmkit_futex_kick */
	__shmkit_futex_kick(&sl->sleeping, &sl->wake_seq, 1);
}

/* Sleeps on this side's futex word until woken or ns pass. */
static int sleep_once(struct shmkit_chan *ch, uint64_t arg, int64_t ns)
{
	struct __shmkit_chan_sleep *sl = &ch->hdr->sleep[ch->side];
	/*
	 * Acquire: the flag's store below must not be seen before this load,
	 * or a late waker of our previous sleep could clear the new flag and
	 * bump the sequence we read, and the next wake would be lost
	 * (model/waitset.pml: ws-weak-sq; chan.pml's full-unneeded-sq is
	 * blind to it, its memory model never lets a store pass a load).
	 */
	uint32_t seq = shmkit_load_acquire(&sl->wake_seq);
	int r;

	shmkit_store_relaxed(&sl->sleeping, 1);
	/*
	 * Counted as it is announced: each announcement allows the other side
	 * at most one wake call, so wakes <= sleeps always holds.
	 */
	__shmkit_count(&ch->hdr->cold[ch->side].sleeps, 1);
	/* S1: orders the flag before the re-check; pairs with S2 */
	shmkit_smp_mb();
	r = ready(ch, arg);
	/*
	 * A close is a wake-up condition too: chan_close stores closed, then
	 * bumps wake_seq. If our read of wake_seq saw that bump, this load
	 * sees closed (acquire on both sides), and we must not sleep on a
	 * sequence nobody will bump again.
	 */
	if (r == 0 && !peer_closed(ch)) {
		__shmkit_futex_wait(&sl->wake_seq, seq, ns);
		r = ready(ch, arg);
	}
	shmkit_store_relaxed(&sl->sleeping, 0);
	return r;
}

/*
 * The spin for the next waits, from a wait that ended in data within
 * SPIN_MAX_NS: twice the moving average, or a quarter more than the
 * longest recent wait, whichever is longer, within bounds. The average
 * alone follows the typical wait, and a stream whose waits are short but
 * now and then stall for a few hundred microseconds (a peer preempted;
 * common in virtual machines) slept at every stall: at 1 MiB messages
 * that was 1.6-3.9 sleeps, and as many wakes, per 1,000 messages. The longest
 * wait fades by 1/2048 a wait, over hundreds of milliseconds of a 1 MiB
 * stream, so the spin outlasts the gap between two stalls. Paired A/B
 * runs (AMD EPYC VM, 2026-11-30, 1 MiB copying, 8 pairs of 20,000
 * messages): 3.2x fewer sleeps, fewer in every pair, throughput equal
 * (paired median 1.01).
 */
static void learn_spin(struct shmkit_chan *ch, uint64_t waited)
{
	uint64_t spin, tail;

	/* an eighth of the way to the new wait: a few waits to follow a change */
	ch->wait_avg = ch->wait_avg - ch->wait_avg / 8 + waited / 8;
	spin = 2 * ch->wait_avg;
	tail = ch->wait_tail - ch->wait_tail / 2048;
	ch->wait_tail = waited > tail ? waited : tail;
	if (spin < ch->wait_tail + ch->wait_tail / 4)
		spin = ch->wait_tail + ch->wait_tail / 4;
	ch->spin_ns = spin < SPIN_NS ? SPIN_NS : spin > SPIN_MAX_NS ? SPIN_MAX_NS : spin;
}

/* Does the peer's last wait share our cpu (the one we run on now)? */
static int same_cpu(struct shmkit_chan *ch)
{
	int mine = sched_getcpu();

	return mine < 0 || (uint32_t)mine == shmkit_load_relaxed(&ch->hdr->hot[ch->peer].cpu);
}

/* The next sleep's length: a slice, or what is left before the deadline. */
static int64_t sleep_slice(uint64_t deadline, uint64_t now)
{
	int64_t slice = __shmkit_chan_sleep_slice_ns;

	if (deadline != UINT64_MAX && (slice < 0 || deadline - now < (uint64_t)slice))
		slice = (int64_t)(deadline - now);
	return slice;
}

/* wait_ready's loop, from start: spin, yield, then sleep in slices. */
static int wait_loop(struct shmkit_chan *ch, uint64_t arg, int timeout_ms, uint64_t start)
{
	uint64_t now = start, deadline, next_check, next_yield = start + YIELD_EVERY_NS;
	int r, gone;

	deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;
	next_check = start;
	/* statistics-grade: a stale cpu costs a yield or skips one */
	shmkit_store_relaxed(&ch->hdr->hot[ch->side].cpu, (uint32_t)sched_getcpu());
	for (unsigned i = 1;; i++) {
		r = ready(ch, arg);
		if (r)
			return r < 0 ? r : 0;
		cpu_relax();
		if (i % 64)
			continue;
		now = __shmkit_now_ns();
		if (now >= next_check) {
			gone = peer_gone(ch);
			if (gone) {
				r = ready(ch, arg);
				return r > 0 ? 0 : r < 0 ? r : gone;
			}
			next_check = now + PEER_CHECK_NS;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now >= next_yield) {
			next_yield = now + YIELD_EVERY_NS;
			if (same_cpu(ch)) {
				sched_yield();
				__shmkit_count(&ch->hdr->hot[ch->side].yields, 1);
			}
		}
		if (ch->policy == SHMKIT_WAIT_SPIN || now - start < ch->spin_ns)
			continue;
		r = sleep_once(ch, arg, sleep_slice(deadline, now));
		if (r)
			return r < 0 ? r : 0;
		next_check = 0; /* woken without data: perhaps by a close */
	}
}

/*
 * wait_ready's loop for a spin of 0, from start: from the failed look
 * straight to the sleep handshake, whose re-check is the next look; no
 * pause, poll or yield before it. A close stops the sleep (sleep_once
 * sees it); a death, when a slice ends, as in wait_loop: the dead wake
 * nobody.
 */
static int sleep_loop(struct shmkit_chan *ch, uint64_t arg, int timeout_ms, uint64_t start)
{
	uint64_t now = start, deadline;
	int r, gone;

	deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		r = sleep_once(ch, arg, sleep_slice(deadline, now));
		if (r)
			return r < 0 ? r : 0;
		/* woken without data: a close, a slice's end, a stray wake */
		gone = peer_gone(ch);
		if (gone) {
			r = ready(ch, arg);
			return r > 0 ? 0 : r < 0 ? r : gone;
		}
		now = __shmkit_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
	}
}

/*
 * wait_ready for a spin set with shmkit_chan_set_spin: spin_ns exactly,
 * never learnt, and 0 sleeps at once (unless the policy spins for ever).
 * Timed, as the learnt wait is; the learning is what it leaves out.
 */
static int wait_fixed(struct shmkit_chan *ch, uint64_t arg, int timeout_ms)
{
	uint64_t start = __shmkit_now_ns();
	int r = ch->spin_ns || ch->policy == SHMKIT_WAIT_SPIN ?
		wait_loop(ch, arg, timeout_ms, start) : sleep_loop(ch, arg, timeout_ms, start);

	__shmkit_count(&ch->hdr->hot[ch->side].wait_ns, __shmkit_now_ns() - start);
	return r;
}

/*
 * Waits until ready(ch, arg) or the timeout, per the handle's policy.
 * Returns 0 when ready, else -EAGAIN, -ETIMEDOUT, -ECORRUPT, or what
 * peer_gone says once the other side has closed or died. Time spent in
 * the loop is counted in the side's wait_ns (two clock reads a wait; none
 * when ready at once, or within UNTIMED_POLLS).
 */
static int wait_ready(struct shmkit_chan *ch, uint64_t arg, int timeout_ms)
{
	uint64_t start, waited;
	int r = ready(ch, arg), gone;

	if (r)
		return r < 0 ? r : 0;
	if (timeout_ms == 0 || ch->policy == SHMKIT_WAIT_NONE) {
		gone = peer_gone(ch);
		/* the other side's last data counts: look once more after it left */
		r = gone ? ready(ch, arg) : 0;
		return r > 0 ? 0 : r < 0 ? r : gone ? gone : -EAGAIN;
	}
	/* the one field the default wait pays for shmkit_chan_set_spin */
	if (ch->spin_fixed)
		return wait_fixed(ch, arg, timeout_ms);
	for (int i = 0; i < UNTIMED_POLLS; i++) {
		cpu_relax();
		if ((r = ready(ch, arg)))
			return r < 0 ? r : 0;
	}
	start = __shmkit_now_ns();
	r = wait_loop(ch, arg, timeout_ms, start);
	waited = __shmkit_now_ns() - start;
	__shmkit_count(&ch->hdr->hot[ch->side].wait_ns, waited);
	if (r == 0 && waited <= SPIN_MAX_NS)
		learn_spin(ch, waited);
	else if (r == 0)
		ch->wait_tail /= 2;	/* idle: the next waits need no long spin */
	return r;
}

/* --------------------------------------------------------------- create */

static void chan_init(void *data, uint64_t size, void *arg)
{
	struct __shmkit_chan_hdr *h = data;
	uint64_t cap = *(uint64_t *)arg;

	(void)size;
	h->version = SHMKIT_CHAN_VERSION;
	h->hdr_size = sizeof(*h);
	h->capacity = cap;
	h->max_msg = cap / 2;
	/* the kernel zeroed the rest: positions 0, no owners, nobody asleep */
	/* M0: publishes the layout above; pairs with M1 in check_layout */
	shmkit_store_release(&h->magic, SHMKIT_CHAN_MAGIC);
}

/* The channel header of a segment whose start is at base. */
static struct __shmkit_chan_hdr *chan_hdr_of(void *base)
{
	return (struct __shmkit_chan_hdr *)(void *)((char *)base + SHMKIT_HDR_SIZE);
}

/*
 * Checks the channel layout of segment shmid, seen at base (attached or
 * looked at), with data_size bytes after the segment header. Returns the
 * checked capacity, or a negative error; the caller takes it from there.
 */
static int64_t check_layout(int shmid, void *base, uint64_t data_size)
{
	struct __shmkit_hdr_view view;
	struct __shmkit_chan_hdr *h = chan_hdr_of(base);
	uint64_t cap;
	int err = __shmkit_seg_header(shmid, base, &view);

	if (err < 0)
		return err == -SHMKIT_EFOREIGN ? -SHMKIT_ENOTCHAN : err;
	if (!(view.flags & SHMKIT_HDR_CHANNEL) ||
	    data_size < SHMKIT_CHAN_RING_OFFSET - SHMKIT_HDR_SIZE ||
	    /* M1: pairs with M0 in chan_init; the layout read after is the creator's */
	    shmkit_load_acquire(&h->magic) != SHMKIT_CHAN_MAGIC ||
	    h->version != SHMKIT_CHAN_VERSION || h->hdr_size != sizeof(*h))
		return -SHMKIT_ENOTCHAN;
	cap = h->capacity;
	if (cap < __shmkit_page_size() || cap > SHMKIT_CHAN_MAX_CAPACITY || (cap & (cap - 1)) ||
	    data_size - (SHMKIT_CHAN_RING_OFFSET - SHMKIT_HDR_SIZE) < cap ||
	    h->max_msg != cap / 2)
		return -SHMKIT_ECORRUPT;
	return (int64_t)cap;
}

/* Points an attached handle at its channel, of capacity cap (checked). */
static void set_layout(struct shmkit_chan *ch, uint64_t cap)
{
	ch->hdr = chan_hdr_of(ch->map.base);
	ch->cap = cap;
	ch->mask = cap - 1;
	ch->max_msg = cap / 2;
	ch->ring = (unsigned char *)ch->map.base + SHMKIT_CHAN_RING_OFFSET;
}

/* trust_mode: as for __shmkit_seg_attach_name (-1: take any owner) */
static int attach_channel(const char *name, unsigned flags, int trust_mode,
			  struct shmkit_chan *ch)
{
	int err = __shmkit_seg_attach_name(name, flags, trust_mode, &ch->map);
	int64_t cap;

	if (err < 0)
		return err;
	cap = check_layout(ch->map.shmid, ch->map.base, ch->map.size);
	if (cap < 0) {
		shmkit_seg_detach(&ch->map);
		return (int)cap;
	}
	set_layout(ch, (uint64_t)cap);
	return 0;
}

/*
 * __shmkit_seg_make_checked's check: a channel, of any capacity, which it
 * stores in *(uint64_t *)arg.
 */
static int is_channel(struct shmkit_map *map, void *arg)
{
	int64_t cap = check_layout(map->shmid, map->base, map->size);

	if (cap < 0)
		return (int)cap;
	*(uint64_t *)arg = (uint64_t)cap;
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_make(const char *name, size_t capacity, int mode, unsigned flags,
		     struct shmkit_chan_made *made)
{
	uint64_t cap = __shmkit_page_size(), have = 0;
	int shmid, created = 0;

	if (!made || capacity == 0 || capacity > SHMKIT_CHAN_MAX_CAPACITY)
		return -EINVAL;
	while (cap < capacity)
		cap <<= 1;
	/*
	 * An existing channel keeps the capacity it was made with, smaller
	 * or larger than asked: the capacity is a creation parameter, and
	 * both sides must share one ring. The check reads it back, from
	 * whichever channel the name leads to.
	 */
	shmid = __shmkit_seg_make_checked_created(name,
						  SHMKIT_CHAN_RING_OFFSET - SHMKIT_HDR_SIZE + cap,
						  mode, flags, SHMKIT_HDR_CHANNEL, chan_init, &cap,
						  is_channel, &have, &created);
	if (shmid < 0)
		return shmid;
	made->shmid = shmid;
	made->created = created;
	made->capacity = have;
	made->max_msg = have / 2;
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_create(const char *name, size_t capacity, int mode, unsigned flags)
{
	struct shmkit_chan_made made;
	int err = shmkit_chan_make(name, capacity, mode, flags, &made);

	return err < 0 ? err : made.shmid;
}

SHMKIT_EXPORT
int shmkit_chan_destroy(const char *name)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };
	struct shmkit_seg_info info;
	int shmid = shmkit_seg_open(&ref), err;

	if (shmid < 0)
		return shmid;
	/* a named segment that is no channel is not ours to remove here */
	if ((err = shmkit_seg_stat(shmid, &info)) < 0)
		return err;
	if (!(info.flags & SHMKIT_INFO_CHANNEL))
		return -SHMKIT_ENOTCHAN;
	return shmkit_seg_remove(shmid);
}

/* ----------------------------------------------------------- open/close */

/*
 * A producer that died between a record's header and its tail store left
 * a record the consumer may already have read: a record is committed once
 * its mark shows. So a new producer starts after the last marked record,
 * following the chain from the tail. Every step is checked; the walk stops
 * at the first word without a mark, or at anything out of place.
 */
static uint64_t committed_end(struct shmkit_chan *ch, uint64_t tail, uint64_t head)
{
	uint64_t pos = tail, word, off, size;
	uint32_t len;

	/* acquire and release here: the model passes with either relaxed
	   (full-unneeded-cel, -cet): the claim already ordered them */
	for (;;) {
		word = shmkit_load_acquire(rec_word(ch, pos));
		if (!rec_has_mark(word))
			break;
		len = (uint32_t)word;
		off = pos & ch->mask;
		if (len == SHMKIT_REC_PAD)
			size = off ? ch->cap - off : 0;
		else
			size = len <= ch->max_msg ? rec_size(len) : 0;
		if (!size || size > ch->cap - off)
			break;
		/*
		 * At most a ring's worth, and never more than a ring ahead of
		 * the consumer, whose head may be past the stale tail by
		 * exactly these records (hence the signed difference).
		 */
		if (pos + size - tail > ch->cap || (int64_t)(pos + size - head) > (int64_t)ch->cap)
			break;
		pos += size;
	}
	if (pos != tail)
		shmkit_store_release(&ch->hdr->hot[__SHMKIT_SIDE_PROD].pos, pos);
	return pos;
}

/*
 * Can this side start from mine with the other side at theirs? The tail
 * is at most a ring ahead of the head. For a consumer it may also lag
 * behind the head by up to a ring, as in data_ready: the producer stores
 * a record's header before the tail, and the consumer may have read that
 * record and released it in between (or the producer died there).
 */
static int positions_fit(const struct shmkit_chan *ch, uint64_t mine, uint64_t theirs)
{
	if (ch->side == __SHMKIT_SIDE_PROD)
		return mine - theirs <= ch->cap;
	return theirs - mine <= ch->cap || mine - theirs <= ch->cap;
}

/*
 * Takes up this side of a handle whose owner word is ours now: where the
 * side stopped (a restarted side continues from there), checked against
 * the other side's position. On failure gives the side up again.
 */
static int start_side(struct shmkit_chan *ch)
{
	uint64_t mine, theirs;

	/*
	 * The model passes with these two loads relaxed (full-unneeded-opm-*,
	 * -opt-*), and with the store of closed below (-opc); the producer's
	 * load of the head is kept acquire for P2's reason.
	 */
	mine = shmkit_load_acquire(&ch->hdr->hot[ch->side].pos);
	theirs = shmkit_load_acquire(&ch->hdr->hot[ch->peer].pos);
	if (ch->side == __SHMKIT_SIDE_PROD && !((mine | theirs) & (SHMKIT_REC_ALIGN - 1)))
		mine = committed_end(ch, mine, theirs);
	if (((mine | theirs) & (SHMKIT_REC_ALIGN - 1)) || !positions_fit(ch, mine, theirs)) {
		shmkit_store_release(&ch->hdr->cold[ch->side].owner, 0);
		return -SHMKIT_ECORRUPT;
	}
	ch->pos = mine;
	ch->peer_pos = theirs;
	ch->zero_to = ch->judged_at = mine;
	shmkit_store_release(&ch->hdr->cold[ch->side].closed, 0);
	kick_peer(ch);
	return 0;
}

/* A new handle's side, before the claim: role is SHMKIT_PRODUCER or _CONSUMER. */
static void set_side(struct shmkit_chan *ch, int role)
{
	ch->side = role == SHMKIT_PRODUCER ? __SHMKIT_SIDE_PROD : __SHMKIT_SIDE_CONS;
	ch->peer = !ch->side;
	ch->spin_ns = SPIN_NS;
	ch->peer_sleep = &ch->hdr->sleep[ch->peer];
	__shmkit_prezero_init(&ch->prezero, ch->cap);
}

SHMKIT_EXPORT
int shmkit_chan_open(const char *name, int role, struct shmkit_chan **out)
{
	struct shmkit_chan *ch;
	int err;

	int shared = role & SHMKIT_SHARED;

	role &= ~SHMKIT_SHARED;
	if (!out || (role != SHMKIT_PRODUCER && role != SHMKIT_CONSUMER))
		return -EINVAL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	/* only the owner check: the mode was the creator's choice */
	if ((err = attach_channel(name, 0, shared ? -1 : 0777, ch)) < 0) {
		free(ch);
		return err;
	}
	set_side(ch, role);
	if ((err = __shmkit_owner_claim(&ch->hdr->cold[ch->side].owner)) < 0 ||
	    (err = start_side(ch)) < 0) {
		shmkit_seg_detach(&ch->map);
		free(ch);
		return err;
	}
	*out = ch;
	return 0;
}

struct open_args {
	int role;
	struct shmkit_chan **ch;
};

static int open_once(const char *name, void *arg)
{
	struct open_args *a = arg;

	return shmkit_chan_open(name, a->role, a->ch);
}

SHMKIT_EXPORT
int shmkit_chan_open_wait(const char *name, int role, int timeout_ms, struct shmkit_chan **ch)
{
	struct open_args a = { .role = role, .ch = ch };

	return __shmkit_open_wait(name, timeout_ms, open_once, &a);
}

static int close_as(struct shmkit_chan *ch, uint32_t how)
{
	int err;

	if (!ch)
		return -EINVAL;
	/* closed before owner: who sees no owner also sees closed (peer_gone);
	   O0's release alone orders that (model: full-unneeded-cc) */
	shmkit_store_release(&ch->hdr->cold[ch->side].closed, how);
	/*
	 * O0: gives the side up; pairs with O1 in claim (and peer_gone's
	 * load). The last position store is already behind wake_peer's
	 * barrier; what this release still orders is closed (and the
	 * counters). Without it a claimer could take the side before our
	 * closed = 1 lands, and that late store would then overwrite the
	 * claimer's closed = 0: a live side shown closed (model/owner.pml
	 * finds exactly that with it relaxed: owner-weak-o0).
	 */
	shmkit_store_release(&ch->hdr->cold[ch->side].owner, 0);
	/* the other side may sleep waiting for us: always wake it */
	kick_peer(ch);
	err = ch->borrowed_map ? 0 : shmkit_seg_detach(&ch->map);
	free(ch);
	return err;
}

SHMKIT_EXPORT
int shmkit_chan_close(struct shmkit_chan *ch)
{
	return close_as(ch, CLOSED_CLEAN);
}

/* The consumer tells the end apart; a consumer's abort is its close. */
SHMKIT_EXPORT
int shmkit_chan_abort(struct shmkit_chan *ch)
{
	if (!ch)
		return -EINVAL;
	return close_as(ch, ch->side == __SHMKIT_SIDE_PROD ? CLOSED_ABORTED : CLOSED_CLEAN);
}

SHMKIT_EXPORT
int shmkit_chan_peer(struct shmkit_chan *ch)
{
	if (!ch)
		return -EINVAL;
	return peer_gone(ch);
}

SHMKIT_EXPORT
size_t shmkit_chan_max_msg(const struct shmkit_chan *ch)
{
	return ch ? (size_t)ch->max_msg : 0;
}

SHMKIT_EXPORT
int shmkit_chan_set_wait(struct shmkit_chan *ch, int policy)
{
	if (!ch || policy < SHMKIT_WAIT_BLOCK || policy > SHMKIT_WAIT_NONE)
		return -EINVAL;
	ch->policy = policy;
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_set_spin(struct shmkit_chan *ch, int spin_us)
{
	if (!ch || spin_us < -1 || spin_us > SHMKIT_SPIN_MAX_US)
		return -EINVAL;
	ch->spin_fixed = spin_us >= 0;
	ch->spin_ns = spin_us >= 0 ? (uint64_t)spin_us * 1000u : SPIN_NS;
	/* back to the default: learn afresh, as a new handle does */
	ch->wait_avg = 0;
	ch->wait_tail = 0;
	return 0;
}

/* ------------------------------------------------------------- producer */

/* What remains of a timeout that started at start (for a second wait). */
static int remaining_ms(int timeout_ms, uint64_t start)
{
	uint64_t spent = (__shmkit_now_ns() - start) / 1000000u;

	if (timeout_ms <= 0)
		return timeout_ms;
	return spent >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)spent;
}

/*
 * Positions only grow, so a channel that holds one message at a time
 * (requests and their replies, a trickle) walks its whole ring: with the
 * default 4 MiB ring, larger than a core's L2, nearly every line a record
 * lands on is cold on both sides. An 8-byte round trip through a 4 MiB
 * ring took 1.2x to 1.5x as long as through a 64 KiB one (AMD EPYC).
 * So every REWIND_BYTES of positions the producer reads the head, and if
 * the consumer has released everything and the next record fits in the
 * bytes before the producer's offset, it pads to the ring's end, as when
 * a record does not fit: the next records land on the ring's first lines,
 * still warm. A ring with data in it is left alone; the cost is one load
 * of the consumer's line per REWIND_BYTES.
 *
 * The pad goes out without a wake-up: a sleeping consumer has nothing to
 * do with it, and the record that follows wakes it. The record needs no
 * wait either: the ring is empty, and the pad took only bytes past it.
 */
#define REWIND_BYTES (8u << 10)
#define REWIND_MAX_MSG 1024

static void maybe_rewind(struct shmkit_chan *ch, uint64_t rec)
{
	uint64_t off = ch->pos & ch->mask, head;

	ch->rewind_at = ch->pos + REWIND_BYTES;
	if (off < REWIND_BYTES || rec > rec_size(REWIND_MAX_MSG))
		return;
	/* P2, as in space_ready: the bytes below head are free to overwrite */
	head = shmkit_load_acquire(&ch->hdr->hot[__SHMKIT_SIDE_CONS].pos);
	if (head != ch->pos)
		return;		/* data in the ring (or a bad head: space_ready judges) */
	ch->peer_pos = head;
	publish_pad(ch, ch->cap - off);
}

/*
 * A record that does not fit before the ring's end: publish a pad over the
 * rest, on its own, so the consumer can skip it and free that space. (Pad
 * and record together could need more than the whole ring.)
 */
static int pad_to_end(struct shmkit_chan *ch, int timeout_ms)
{
	uint64_t off = ch->pos & ch->mask, room = ch->cap - off;
	int err = wait_ready(ch, room + REC_END_WORD, timeout_ms);

	if (err < 0)
		return err;
	publish_pad(ch, room);
	wake_peer(ch);
	return 0;
}

/*
 * Producer, reserving rec bytes at pos past what it has judged: judges the
 * next block (prezero.h), and if zeroing pays, zeroes from the
 * reservation's payload up to a block ahead, within the free bytes and
 * this lap of the ring. Free means below peer_pos + cap: released by the
 * consumer, as P2 (space_ready) read it, so the zeroing is ordered after
 * the consumer's last reads there just as the reservation's own stores
 * are, and no one reads those bytes until we publish over them. The word
 * at pos, which a waiting consumer reads, is left alone (it is zero
 * already). Judging by blocks, not by reservations, lets small messages
 * gain too, at one compare each: a string store pays only over many
 * lines, and its cost is spread over the block.
 */
static void zero_ahead(struct shmkit_chan *ch, uint64_t rec)
{
	uint64_t own = rec + REC_END_WORD, done = ch->zero_to, from, to, lim;
	int on = __shmkit_prezero_decide(&ch->prezero, ch->pos - ch->judged_at, ch->waited_ns);

	ch->judged_at = ch->pos;
	ch->waited_ns = 0;
	to = ch->pos + (own > PREZERO_BLOCK ? own : PREZERO_BLOCK);
	if (!on) {
		ch->zero_to = to;
		return;
	}
	/* still no less than pos + own: the reservation had room */
	lim = ch->peer_pos + ch->cap;
	if (to > lim)
		to = lim;
	ch->zero_to = to;
	/* the end word may fall on the next lap's first word: rec_publish's */
	lim = ch->pos - (ch->pos & ch->mask) + ch->cap;
	if (to > lim)
		to = lim;
	from = ch->pos + sizeof(struct __shmkit_rec);
	if ((int64_t)(done - from) > 0)
		from = done;	/* zeroed already, or judged plain: left */
	if ((int64_t)(to - from) > 0) {
		__shmkit_prezero_bytes(ch->ring + (from & ch->mask), to - from);
		ch->zeroed += to - from;
	}
}

void __shmkit_chan_prezero_force(struct shmkit_chan *ch, int on)
{
	__shmkit_prezero_force(&ch->prezero, on);
}

uint64_t __shmkit_chan_prezero_zeroed(const struct shmkit_chan *ch)
{
	return ch->zeroed;
}

SHMKIT_EXPORT
int shmkit_chan_reserve(struct shmkit_chan *ch, size_t len, void **ptr, int timeout_ms)
{
	uint64_t rec, start;
	int err;

	if (!ch || !ptr || ch->side != __SHMKIT_SIDE_PROD)
		return -EINVAL;
	/* a new reservation abandons the last one, also when it fails */
	ch->busy = 0;
	if (len > ch->max_msg)
		return -EMSGSIZE;
	/* like a pipe: writing to a closed reader fails at once */
	if (shmkit_load_relaxed(&ch->hdr->cold[__SHMKIT_SIDE_CONS].closed) &&
	    peer_gone(ch) == -EPIPE)
		return -EPIPE;
	rec = rec_size(len);
	if ((int64_t)(ch->pos - ch->rewind_at) >= 0)
		maybe_rewind(ch, rec);
	/* the fast path: room for the record, the ring's end not in the way */
	if (rec <= ch->cap - (ch->pos & ch->mask) &&
	    ch->cap - (ch->pos - ch->peer_pos) >= rec + REC_END_WORD)
		goto reserved;
	start = __shmkit_now_ns();
	if (rec > ch->cap - (ch->pos & ch->mask) &&
	    (err = pad_to_end(ch, timeout_ms)) < 0)
		return err;
	if ((err = wait_ready(ch, rec + REC_END_WORD, remaining_ms(timeout_ms, start))) < 0)
		return err;
	if (__shmkit_prezero_timing(&ch->prezero))
		ch->waited_ns += __shmkit_now_ns() - start;
reserved:
	ch->busy = 1;
	ch->len = len;
	*ptr = ch->ring + (ch->pos & ch->mask) + sizeof(struct __shmkit_rec);
	/* once a block: the lines may be faster to write zeroed (prezero.h) */
	if ((int64_t)(ch->pos + rec + REC_END_WORD - ch->zero_to) > 0)
		zero_ahead(ch, rec);
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_commit(struct shmkit_chan *ch, size_t used)
{
	struct __shmkit_chan_hot *hot;

	if (!ch || ch->side != __SHMKIT_SIDE_PROD || !ch->busy || used > ch->len)
		return -EINVAL;
	ch->busy = 0;
	rec_publish(ch, (uint32_t)used, rec_size(used));
	hot = &ch->hdr->hot[__SHMKIT_SIDE_PROD];
	__shmkit_count(&hot->msgs, 1);
	__shmkit_count(&hot->bytes, used);
	wake_peer(ch);
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_send(struct shmkit_chan *ch, const void *buf, size_t len, int timeout_ms)
{
	void *p;
	int err = shmkit_chan_reserve(ch, len, &p, timeout_ms);

	if (err < 0)
		return err;
	if (len)
		memcpy(p, buf, len);
	return shmkit_chan_commit(ch, len);
}

/* ------------------------------------------------------------- consumer */

/*
 * Consumer, with a record at ch->pos (data_ready said so): if it is a pad,
 * release it at once and return 1; 0 if it is a message; or an error.
 * The producer may be waiting for exactly the pad's bytes before it can
 * write the next record, which is what we would wait for otherwise.
 */
static int skip_pad(struct shmkit_chan *ch)
{
	uint64_t off = ch->pos & ch->mask;

	/* the header as data_ready read it: read once, checked here */
	if ((uint32_t)ch->next_rec != SHMKIT_REC_PAD)
		return 0;
	/* a pad runs to the ring's end and never starts it */
	if (off == 0)
		return -SHMKIT_ECORRUPT;
	ch->pos += ch->cap - off;
	/* C2: hands the pad's bytes back; pairs with P2. Nothing of the pad
	   was read: relaxed would do (model: full-unneeded-c2p) */
	shmkit_store_release(&ch->hdr->hot[__SHMKIT_SIDE_CONS].pos, ch->pos);
	wake_peer(ch);
	return 1;
}

/*
 * Consumer: takes the record at ch->ahead (or at ch->pos when nothing is
 * held), skipping pads, as one more held message; 0 or an error. A pad
 * right at the head is handed back at once (skip_pad); one after a held
 * message is stepped over privately, and handed back when the release of
 * that message moves the head past it.
 */
static int take_next(struct shmkit_chan *ch, int timeout_ms)
{
	uint64_t cur = ch->busy ? ch->ahead : ch->pos, off, rec;
	uint32_t n;
	int err;

	for (;;) {
		if ((err = wait_ready(ch, cur, timeout_ms)) < 0)
			return err;
		if (!ch->busy) {
			if ((err = skip_pad(ch)) < 0)
				return err;
			cur = ch->pos;
			if (err)
				continue;
		} else if ((uint32_t)ch->next_rec == SHMKIT_REC_PAD) {
			/* a pad runs to the ring's end and never starts it */
			if ((cur & ch->mask) == 0)
				return -SHMKIT_ECORRUPT;
			cur += ch->cap - (cur & ch->mask);
			continue;
		}
		break;
	}
	off = cur & ch->mask;
	n = (uint32_t)ch->next_rec;
	rec = rec_size(n);
	if (n > ch->max_msg || rec > ch->cap - off)
		return -SHMKIT_ECORRUPT;
	if (!ch->busy) {
		ch->len = n;
		ch->peek_ptr = ch->ring + off + sizeof(struct __shmkit_rec);
	}
	ch->busy++;
	ch->ahead = cur + rec;
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_peek(struct shmkit_chan *ch, const void **ptr, size_t *len, int timeout_ms)
{
	int err;

	if (!ch || !ptr || !len || ch->side != __SHMKIT_SIDE_CONS)
		return -EINVAL;
	if (!ch->busy && (err = take_next(ch, timeout_ms)) < 0)
		return err;
	*ptr = ch->peek_ptr;
	*len = (size_t)ch->len;
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_peek_ahead(struct shmkit_chan *ch, const void **ptr, size_t *len,
			   uint64_t *offset, int timeout_ms)
{
	uint64_t at;
	int err;

	if (!ch || !ptr || !len || ch->side != __SHMKIT_SIDE_CONS)
		return -EINVAL;
	if ((err = take_next(ch, timeout_ms)) < 0)
		return err;
	/* the record take_next just checked ends at ahead */
	*len = (uint32_t)ch->next_rec;
	at = ch->ahead - rec_size(*len);
	*ptr = ch->ring + (at & ch->mask) + sizeof(struct __shmkit_rec);
	if (offset)
		*offset = at;
	return 0;
}

/*
 * Consumer, releasing with more held: the record now at the head, read
 * again from the ring. It was checked when it was taken; a word changed
 * since then is a process scribbling on bytes that are ours, so it is
 * checked again against what we hold. Sets len and peek_ptr to it and
 * returns the head, past any pad before it; or 0 for corrupt.
 */
static uint64_t next_held(struct shmkit_chan *ch, uint64_t head)
{
	uint64_t word = shmkit_load_relaxed(rec_word(ch, head)), off, rec;
	uint32_t n = (uint32_t)word;

	if (rec_has_mark(word) && n == SHMKIT_REC_PAD) {
		off = head & ch->mask;
		if (off == 0)
			return 0;
		head += ch->cap - off;
		word = shmkit_load_relaxed(rec_word(ch, head));
		n = (uint32_t)word;
	}
	off = head & ch->mask;
	rec = rec_size(n);
	if (!rec_has_mark(word) || n > ch->max_msg || rec > ch->cap - off ||
	    (int64_t)(ch->ahead - head - rec) < 0)
		return 0;
	ch->len = n;
	ch->peek_ptr = ch->ring + off + sizeof(struct __shmkit_rec);
	return head;
}

SHMKIT_EXPORT
int shmkit_chan_release(struct shmkit_chan *ch)
{
	struct __shmkit_chan_hot *hot;
	uint64_t head, len;

	if (!ch || ch->side != __SHMKIT_SIDE_CONS || !ch->busy)
		return -EINVAL;
	head = ch->pos + rec_size(ch->len);
	len = ch->len;
	if (ch->busy > 1 && !(head = next_held(ch, head)))
		return -SHMKIT_ECORRUPT;
	ch->pos = head;
	ch->busy--;
	hot = &ch->hdr->hot[__SHMKIT_SIDE_CONS];
	/* C2: hands the record's bytes (and a pad after it, if more are
	   held) back to the producer; pairs with P2 (model: weak-c2; with
	   messages held, full-readahead-weak-c2; the head past the oldest
	   only: readahead-release-all, readahead-no-next-held) */
	shmkit_store_release(&hot->pos, ch->pos);
	__shmkit_count(&hot->msgs, 1);
	__shmkit_count(&hot->bytes, len);
	wake_peer(ch);
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_recv(struct shmkit_chan *ch, void *buf, size_t cap, size_t *len,
		     int timeout_ms)
{
	const void *p;
	size_t n;
	int err;

	if (!len)
		return -EINVAL;
	if ((err = shmkit_chan_peek(ch, &p, &n, timeout_ms)) < 0)
		return err;
	*len = n;
	if (n > cap)
		return -EMSGSIZE; /* left in place: the caller can retry bigger */
	if (n)
		memcpy(buf, p, n);
	return shmkit_chan_release(ch);
}

/* ------------------------------------------------------------ wait sets */

/*
 * Producer: can a message of room bytes be reserved at once? As reserve
 * does, a record that does not fit before the ring's end needs a pad
 * first: the poll writes it when its bytes are free, so that the answer
 * is about the record alone (the pad and the record together can need
 * more than the ring).
 */
static int room_ready(struct shmkit_chan *ch, uint64_t room)
{
	uint64_t rec = rec_size(room), off = ch->pos & ch->mask;
	int r;

	if (rec > ch->cap - off) {
		if ((r = space_ready(ch, ch->cap - off + REC_END_WORD)) <= 0)
			return r;
		publish_pad(ch, ch->cap - off);
		wake_peer(ch);
	}
	return space_ready(ch, rec + REC_END_WORD);
}

/* Consumer: is a message (not a pad) at ch->pos? Releases pads on the way. */
static int msg_ready(struct shmkit_chan *ch)
{
	int r;

	for (;;) {
		if ((r = data_ready(ch, ch->pos)) <= 0)
			return r;
		if ((r = skip_pad(ch)) <= 0)
			return r < 0 ? r : 1;
	}
}

int __shmkit_chan_poll(struct shmkit_chan *ch, uint64_t room, int look)
{
	int r, gone;

	if (ch->busy)
		return 1;	/* a reservation or a peeked message: no wait */
	if (ch->side == __SHMKIT_SIDE_PROD) {
		/* reserve fails at once on a closed consumer: so does the poll */
		if (shmkit_load_relaxed(&ch->hdr->cold[__SHMKIT_SIDE_CONS].closed) &&
		    peer_gone(ch) == -EPIPE)
			return -EPIPE;
		r = room_ready(ch, room);
	} else {
		r = msg_ready(ch);
	}
	if (r)
		return r;
	gone = look ? peer_gone(ch) : peer_closed(ch) ? peer_gone(ch) : 0;
	if (!gone)
		return 0;
	/* the other side's last data counts: look once more after it left */
	r = ch->side == __SHMKIT_SIDE_PROD ? room_ready(ch, room) : msg_ready(ch);
	return r ? r : gone;
}

void __shmkit_chan_sleep_words(struct shmkit_chan *ch, struct __shmkit_sleep_words *w)
{
	w->flag = &ch->hdr->sleep[ch->side].sleeping;
	w->seq = &ch->hdr->sleep[ch->side].wake_seq;
	w->sleeps = &ch->hdr->cold[ch->side].sleeps;
	w->shared = 0;
}

int __shmkit_chan_is_producer(const struct shmkit_chan *ch)
{
	return ch->side == __SHMKIT_SIDE_PROD;
}

/* ---------------------------------------------------------------- lanes */

void __shmkit_lane_init(struct __shmkit_chan_hdr *h, uint64_t cap)
{
	chan_init(h, 0, &cap);
}

int __shmkit_lane_open(const struct shmkit_map *map, struct __shmkit_chan_hdr *h,
		       unsigned char *ring, uint64_t cap, int role,
		       struct __shmkit_chan_sleep *cons_sleep, struct shmkit_chan **out)
{
	struct shmkit_chan *ch;
	int err;

	/* M1: pairs with M0 in the inbox's creation; nothing of it is trusted */
	if (shmkit_load_acquire(&h->magic) != SHMKIT_CHAN_MAGIC ||
	    h->version != SHMKIT_CHAN_VERSION || h->hdr_size != sizeof(*h) ||
	    h->capacity != cap || h->max_msg != cap / 2)
		return -SHMKIT_ECORRUPT;
	if (!(ch = calloc(1, sizeof(*ch))))
		return -ENOMEM;
	if (map)
		ch->map = *map;
	else
		ch->borrowed_map = 1;
	ch->hdr = h;
	ch->ring = ring;
	ch->cap = cap;
	ch->mask = cap - 1;
	ch->max_msg = cap / 2;
	set_side(ch, role);
	if (role == SHMKIT_PRODUCER && cons_sleep)
		ch->peer_sleep = cons_sleep;
	if ((err = __shmkit_owner_claim(&h->cold[ch->side].owner)) < 0 ||
	    (err = start_side(ch)) < 0) {
		free(ch);
		return err;
	}
	*out = ch;
	return 0;
}

void __shmkit_lane_adopt(struct shmkit_chan *ch, const struct shmkit_map *map)
{
	ch->map = *map;
	ch->borrowed_map = 0;
}

int __shmkit_lane_ready(struct shmkit_chan *ch)
{
	return ch->busy ? 1 : msg_ready(ch);
}

int __shmkit_lane_close(struct shmkit_chan *ch)
{
	return close_as(ch, CLOSED_CLEAN);
}

/* For tests: the ring as this handle sees it (checked at open). */
void __shmkit_chan_ring(const struct shmkit_chan *ch, const void **start, size_t *len)
{
	*start = ch->ring;
	*len = (size_t)ch->cap;
}

/* ----------------------------------------------------------------- info */

/*
 * A stream waits for a consumer: its producer has closed (cleanly or
 * not), and no consumer holds the channel or has closed it. A consumer
 * that closed is done with the stream: the producer gets -EPIPE from
 * then on, so nothing it could still want was written after. One that
 * died may have a successor, which resumes where it stopped.
 */
static int waits_for_consumer(const struct __shmkit_chan_hdr *h)
{
	uint64_t cons = shmkit_load_acquire(&h->cold[__SHMKIT_SIDE_CONS].owner);

	return shmkit_load_acquire(&h->cold[__SHMKIT_SIDE_PROD].owner) == 0 &&
	       shmkit_load_acquire(&h->cold[__SHMKIT_SIDE_PROD].closed) &&
	       !shmkit_load_acquire(&h->cold[__SHMKIT_SIDE_CONS].closed) &&
	       !(cons && __shmkit_owner_alive(cons));
}

int __shmkit_chan_pending(int shmid, void *base, uint64_t data_size)
{
	return check_layout(shmid, base, data_size) > 0 &&
	       waits_for_consumer(chan_hdr_of(base));
}

int __shmkit_chan_info_at(int shmid, void *base, struct shmkit_chan_info *info)
{
	struct __shmkit_chan_hdr *h;
	struct __shmkit_hdr_view view;
	uint64_t owner, tail, head, cap;
	int64_t checked;
	int err;

	if ((err = __shmkit_seg_header(shmid, base, &view)) < 0)
		return err == -SHMKIT_EFOREIGN ? -SHMKIT_ENOTCHAN : err;
	if ((checked = check_layout(shmid, base, view.data_size)) < 0)
		return (int)checked;
	cap = (uint64_t)checked;
	h = chan_hdr_of(base);
	memset(info, 0, sizeof(*info));
	info->capacity = cap;
	info->max_msg = cap / 2;
	tail = shmkit_load_acquire(&h->hot[__SHMKIT_SIDE_PROD].pos);
	head = shmkit_load_acquire(&h->hot[__SHMKIT_SIDE_CONS].pos);
	info->used = tail - head <= cap ? tail - head : 0;
	info->sent_msgs = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_PROD].msgs);
	info->sent_bytes = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_PROD].bytes);
	info->recv_msgs = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_CONS].msgs);
	info->recv_bytes = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_CONS].bytes);
	info->prod_sleeps = shmkit_load_relaxed(&h->cold[__SHMKIT_SIDE_PROD].sleeps);
	info->prod_wakes = shmkit_load_relaxed(&h->cold[__SHMKIT_SIDE_PROD].wakes);
	info->cons_sleeps = shmkit_load_relaxed(&h->cold[__SHMKIT_SIDE_CONS].sleeps);
	info->cons_wakes = shmkit_load_relaxed(&h->cold[__SHMKIT_SIDE_CONS].wakes);
	info->prod_yields = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_PROD].yields);
	info->cons_yields = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_CONS].yields);
	info->prod_wait_ns = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_PROD].wait_ns);
	info->cons_wait_ns = shmkit_load_relaxed(&h->hot[__SHMKIT_SIDE_CONS].wait_ns);
	owner = shmkit_load_acquire(&h->cold[__SHMKIT_SIDE_PROD].owner);
	info->prod_pid = (pid_t)(uint32_t)owner;
	info->prod_alive = owner && __shmkit_owner_alive(owner);
	owner = shmkit_load_acquire(&h->cold[__SHMKIT_SIDE_CONS].owner);
	info->cons_pid = (pid_t)(uint32_t)owner;
	info->cons_alive = owner && __shmkit_owner_alive(owner);
	info->prod_closed = !!shmkit_load_relaxed(&h->cold[__SHMKIT_SIDE_PROD].closed);
	info->prod_aborted = shmkit_load_relaxed(&h->cold[__SHMKIT_SIDE_PROD].closed) ==
			     CLOSED_ABORTED;
	info->cons_closed = !!shmkit_load_relaxed(&h->cold[__SHMKIT_SIDE_CONS].closed);
	return 0;
}

SHMKIT_EXPORT
int shmkit_chan_info(int shmid, struct shmkit_chan_info *info)
{
	struct __shmkit_look lk;
	int err;

	if (!info)
		return -EINVAL;
	/* a look, not an attach: asking must not make us the last user */
	if ((err = __shmkit_look_begin(shmid, &lk)) < 0)
		return err;
	err = __shmkit_chan_info_at(shmid, lk.base, info);
	__shmkit_look_end(shmid, &lk);
	return err;
}
