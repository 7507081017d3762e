/*
 * Topics: one publisher, many subscribers, each message written once.
 * The layout and the protocol, with its labels (T1-T4, J1-J2, W1-W3), are
 * in topic.h; the comments here name the label each access implements.
 *
 * Never trust the segment: every position, length and layout field read
 * from shared memory is checked before use; a bad one is
 * -SHMKIT_ECORRUPT, never an access outside the segment.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "barrier.h"
#include "futex.h"
#include "look.h"
#include "owner.h"
#include "prezero.h"
#include "relax.h"
#include "seg.h"
#include "shmkit.h"
#include "topic.h"
#include "util.h"
#include "waitset.h"
#include "watch.h"

#define SPIN_NS 100000			/* spin this long before sleeping (unless set_spin) */
#define SLICE_NS 20000000		/* a sleep's longest slice: see dead peers */
#define PEER_CHECK_NS 20000000		/* look for dead peers this often */
#define YIELD_EVERY_NS 20000		/* a spin looks for others on its cpu this often */

/* The checked shape of a topic and where its parts are, private to a handle. */
struct topic_view {
	struct shmkit_map map;
	struct __shmkit_topic_hdr *hdr;
	struct __shmkit_topic_sub *subs;
	unsigned char *slots;
	uint64_t nslots, mask, slot_size, max_msg, history;
	uint32_t max_subs;
	int policy;		/* __shmkit_topic_policy */
	int wait;		/* shmkit_wait_policy */
	uint64_t spin_ns;	/* spin before sleeping: SPIN_NS, or set_spin's */
};

struct shmkit_pub {
	struct topic_view t;
	uint64_t pos;		/* the next message's number */
	uint64_t min_pos;	/* block: the subscribers' least pos, as last scanned */
	uint64_t joins;		/* block: joins as of that scan */
	int rescan;		/* block: joins changed since: scan before the next slot */
	int busy;		/* a reservation is open */
	uint64_t len;
	struct prezero prezero;	/* whether large reservations pay to zero first */
};

struct shmkit_sub {
	struct topic_view t;
	struct __shmkit_topic_sub *me;
	uint64_t pos;		/* the next message to read: private, the truth */
	uint64_t lost;		/* messages lost so far */
	uint64_t held_seq;	/* peek: the slot word of the held message */
	int busy;		/* a message is peeked */
	uint64_t len;
};

static struct __shmkit_topic_slot *slot_of(const struct topic_view *t, uint64_t s)
{
	return (struct __shmkit_topic_slot *)(void *)(t->slots + (s & t->mask) * t->slot_size);
}

static unsigned char *payload_of(struct __shmkit_topic_slot *slot)
{
	return (unsigned char *)slot + sizeof(*slot);
}

/*
 * Under the overwrite policy the publisher may write a slot while a
 * subscriber copies it out; the subscriber then throws the copy away (T2).
 * Both sides copy with relaxed atomic words there, so the race is one the
 * language defines. Under block policy nobody writes a slot being read,
 * and plain memcpy does.
 */
static void copy_in(const struct topic_view *t, unsigned char *dst, const void *src, size_t n)
{
	const unsigned char *s = src;
	size_t i;

	/* an empty message may come with a NULL buffer, which memcpy may not take */
	if (n && t->policy == __SHMKIT_TOPIC_BLOCK) {
		memcpy(dst, src, n);
		return;
	}
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		__atomic_store_n((uint64_t *)(void *)(dst + i), w, __ATOMIC_RELAXED);
	}
	if (i < n) {
		uint64_t w = 0;

		memcpy(&w, s + i, n - i);
		__atomic_store_n((uint64_t *)(void *)(dst + i), w, __ATOMIC_RELAXED);
	}
}

static void copy_out(const struct topic_view *t, void *dst, const unsigned char *src, size_t n)
{
	unsigned char *d = dst;
	size_t i;

	if (n && t->policy == __SHMKIT_TOPIC_BLOCK) {
		memcpy(dst, src, n);
		return;
	}
	for (i = 0; i + 8 <= n; i += 8) {
		uint64_t w = __atomic_load_n((const uint64_t *)(const void *)(src + i), __ATOMIC_RELAXED);

		memcpy(d + i, &w, 8);
	}
	if (i < n) {
		uint64_t w = __atomic_load_n((const uint64_t *)(const void *)(src + i), __ATOMIC_RELAXED);

		memcpy(d + i, &w, n - i);
	}
}

/* ---------------------------------------------------------------- layout */

struct topic_shape {
	uint64_t nslots, slot_size, history, slots_offset;
	uint32_t max_subs, policy;
};

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* The shape params ask for, or -EINVAL. */
static int shape_of(const struct shmkit_topic_params *p, struct topic_shape *sh)
{
	uint64_t n = 4;

	if (!p || p->max_msg == 0 || p->max_msg > SHMKIT_TOPIC_MAX_BYTES / 4 ||
	    p->slots == 0 || p->slots > SHMKIT_TOPIC_MAX_SLOTS ||
	    p->max_subs == 0 || p->max_subs > SHMKIT_TOPIC_MAX_SUBS ||
	    (p->policy != SHMKIT_TOPIC_BLOCK && p->policy != SHMKIT_TOPIC_OVERWRITE))
		return -EINVAL;
	while (n < p->slots)
		n <<= 1;
	if (p->history > n - 2)
		return -EINVAL;
	sh->nslots = n;
	sh->slot_size = round_up(sizeof(struct __shmkit_topic_slot) + p->max_msg, 64);
	if (sh->slot_size > SHMKIT_TOPIC_MAX_BYTES / n)
		return -EINVAL;
	sh->history = p->history;
	sh->max_subs = p->max_subs;
	sh->policy = p->policy == SHMKIT_TOPIC_BLOCK ? __SHMKIT_TOPIC_BLOCK : __SHMKIT_TOPIC_OVERWRITE;
	sh->slots_offset = round_up(SHMKIT_TOPIC_SUBS_OFFSET +
				    (uint64_t)p->max_subs * sizeof(struct __shmkit_topic_sub),
				    __shmkit_page_size());
	return 0;
}

static void topic_init(void *data, uint64_t size, void *arg)
{
	struct __shmkit_topic_hdr *h = data;
	const struct topic_shape *sh = arg;

	(void)size;
	h->version = SHMKIT_TOPIC_VERSION;
	h->hdr_size = sizeof(*h);
	h->policy = sh->policy;
	h->max_subs = sh->max_subs;
	h->nslots = sh->nslots;
	h->slot_size = sh->slot_size;
	h->max_msg = sh->slot_size - sizeof(struct __shmkit_topic_slot);
	h->history = sh->history;
	h->slots_offset = sh->slots_offset;
	/* the kernel zeroed the rest: nothing published, no owners, no sleepers */
	/* publishes the layout above; pairs with the acquire in check_layout */
	shmkit_store_release(&h->magic, SHMKIT_TOPIC_MAGIC);
}

/*
 * Checks the topic layout of segment shmid seen at base, with data_size
 * bytes after the segment header, and fills t's layout fields.
 */
static int check_layout(int shmid, void *base, uint64_t data_size, struct topic_view *t)
{
	struct __shmkit_hdr_view view;
	struct __shmkit_topic_hdr *h = (void *)((char *)base + SHMKIT_HDR_SIZE);
	uint64_t n, size, subs_end, off;
	uint32_t max_subs;
	int err = __shmkit_seg_header(shmid, base, &view);

	if (err < 0)
		return err == -SHMKIT_EFOREIGN ? -SHMKIT_ENOTTOPIC : err;
	if (!(view.flags & SHMKIT_HDR_TOPIC) ||
	    data_size < SHMKIT_TOPIC_SUBS_OFFSET - SHMKIT_HDR_SIZE ||
	    /* pairs with the release in topic_init: the layout read next is the creator's */
	    shmkit_load_acquire(&h->magic) != SHMKIT_TOPIC_MAGIC ||
	    h->version != SHMKIT_TOPIC_VERSION || h->hdr_size != sizeof(*h))
		return -SHMKIT_ENOTTOPIC;
	n = h->nslots;
	size = h->slot_size;
	max_subs = h->max_subs;
	off = h->slots_offset;
	if (n < 4 || n > SHMKIT_TOPIC_MAX_SLOTS || (n & (n - 1)) ||
	    size < 64 || size % 64 || size > SHMKIT_TOPIC_MAX_BYTES / n ||
	    h->max_msg != size - sizeof(struct __shmkit_topic_slot) ||
	    h->history > n - 2 || max_subs == 0 || max_subs > SHMKIT_TOPIC_MAX_SUBS ||
	    (h->policy != __SHMKIT_TOPIC_BLOCK && h->policy != __SHMKIT_TOPIC_OVERWRITE))
		return -SHMKIT_ECORRUPT;
	subs_end = SHMKIT_TOPIC_SUBS_OFFSET + (uint64_t)max_subs * sizeof(struct __shmkit_topic_sub);
	if (off < subs_end || off % 64 || off > SHMKIT_HDR_SIZE + data_size ||
	    SHMKIT_HDR_SIZE + data_size - off < n * size)
		return -SHMKIT_ECORRUPT;
	t->hdr = h;
	t->subs = (void *)((char *)base + SHMKIT_TOPIC_SUBS_OFFSET);
	t->slots = (unsigned char *)base + off;
	t->nslots = n;
	t->mask = n - 1;
	t->slot_size = size;
	t->max_msg = size - sizeof(struct __shmkit_topic_slot);
	t->history = h->history;
	t->max_subs = max_subs;
	t->policy = (int)h->policy;
	t->wait = SHMKIT_WAIT_BLOCK;
	t->spin_ns = SPIN_NS;
	return 0;
}

static int attach_topic(const char *name, unsigned flags, int trust_mode, struct topic_view *t)
{
	int err = __shmkit_seg_attach_name(name, flags, trust_mode, &t->map);

	if (err < 0)
		return err;
	err = check_layout(t->map.shmid, t->map.base, t->map.size, t);
	if (err < 0)
		shmkit_seg_detach(&t->map);
	return err;
}

/* __shmkit_seg_make_checked's check: a topic, of any shape. */
static int is_topic(struct shmkit_map *map, void *arg)
{
	struct topic_view t;

	(void)arg;
	return check_layout(map->shmid, map->base, map->size, &t);
}

SHMKIT_EXPORT
int shmkit_topic_create(const char *name, const struct shmkit_topic_params *params, int mode,
			unsigned flags)
{
	struct topic_shape sh;
	int err;

	if ((err = shape_of(params, &sh)) < 0)
		return err;
	/* an existing topic keeps its shape: every handle must agree on it */
	return __shmkit_seg_make_checked(name, sh.slots_offset - SHMKIT_HDR_SIZE +
						       sh.nslots * sh.slot_size,
					 mode, flags, SHMKIT_HDR_TOPIC, topic_init, &sh, is_topic,
					 NULL);
}

SHMKIT_EXPORT
int shmkit_topic_destroy(const char *name)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };
	struct topic_view probe;
	int shmid = shmkit_seg_open(&ref), err;

	if (shmid < 0)
		return shmid;
	/* a named segment that is no topic is not ours to remove here */
	memset(&probe, 0, sizeof(probe));
	if ((err = attach_topic(name, SHMKIT_RDONLY, -1, &probe)) < 0)
		return err;
	shmkit_seg_detach(&probe.map);
	return shmkit_seg_remove(shmid);
}

int __shmkit_topic_pending(int shmid, void *base, uint64_t data_size)
{
	struct topic_view t;

	return check_layout(shmid, base, data_size, &t) == 0 && t.history > 0 &&
	       shmkit_load_acquire(&t.hdr->published) > 0;
}

int __shmkit_topic_info_at(int shmid, void *base, struct shmkit_topic_info *info,
			   struct shmkit_topic_sub_info *subs, size_t cap)
{
	struct __shmkit_hdr_view view;
	struct topic_view t;
	struct __shmkit_topic_hdr *h;
	uint64_t owner;
	uint32_t closed;
	size_t n = 0;
	int err;

	if ((err = __shmkit_seg_header(shmid, base, &view)) < 0 ||
	    (err = check_layout(shmid, base, view.data_size, &t)) < 0)
		return err == -SHMKIT_EFOREIGN ? -SHMKIT_ENOTTOPIC : err;
	h = t.hdr;
	memset(info, 0, sizeof(*info));
	info->slots = t.nslots;
	info->max_msg = t.max_msg;
	info->history = t.history;
	info->max_subs = t.max_subs;
	info->policy = t.policy == __SHMKIT_TOPIC_BLOCK ? SHMKIT_TOPIC_BLOCK : SHMKIT_TOPIC_OVERWRITE;
	info->published = shmkit_load_acquire(&h->published);
	info->bytes = shmkit_load_relaxed(&h->bytes);
	owner = shmkit_load_acquire(&h->owner);
	info->pub_pid = (pid_t)(uint32_t)owner;
	info->pub_alive = owner && __shmkit_owner_alive(owner);
	closed = shmkit_load_relaxed(&h->closed);
	info->pub_closed = closed != 0;
	info->pub_aborted = closed == 2;
	info->pub_sleeps = shmkit_load_relaxed(&h->sleeps);
	info->pub_wakes = shmkit_load_relaxed(&h->wakes);
	info->pub_wait_ns = shmkit_load_relaxed(&h->wait_ns);
	info->pub_yields = shmkit_load_relaxed(&h->yields);
	for (uint32_t i = 0; i < t.max_subs; i++) {
		struct __shmkit_topic_sub *e = &t.subs[i];
		struct shmkit_topic_sub_info *o;
		uint64_t pos;

		if (!(owner = shmkit_load_acquire(&e->owner)))
			continue;
		if (n++ >= cap)
			continue;
		o = &subs[n - 1];
		memset(o, 0, sizeof(*o));
		pos = shmkit_load_acquire(&e->pos);
		o->pid = (pid_t)(uint32_t)owner;
		o->alive = __shmkit_owner_alive(owner);
		o->pos = pos;
		/* numbers from shared memory: a pos past published is shown as no lag */
		o->lag = info->published > pos ? info->published - pos : 0;
		o->msgs = shmkit_load_relaxed(&e->msgs);
		o->bytes = shmkit_load_relaxed(&e->bytes);
		o->lost = shmkit_load_relaxed(&e->lost);
		o->sleeps = shmkit_load_relaxed(&e->sleeps);
		o->wakes = shmkit_load_relaxed(&e->wakes);
		o->wait_ns = shmkit_load_relaxed(&e->wait_ns);
		o->yields = shmkit_load_relaxed(&e->yields);
	}
	info->nsubs = (uint32_t)n;
	return 0;
}

SHMKIT_EXPORT
int shmkit_topic_info(int shmid, struct shmkit_topic_info *info,
		      struct shmkit_topic_sub_info *subs, size_t cap)
{
	struct __shmkit_look lk;
	int err;

	if (!info || (!subs && cap))
		return -EINVAL;
	/* a look, not an attach: asking must not make us the last user */
	if ((err = __shmkit_look_begin(shmid, &lk)) < 0)
		return err;
	err = __shmkit_topic_info_at(shmid, lk.base, info, subs, cap);
	__shmkit_look_end(shmid, &lk);
	return err;
}

void __shmkit_pub_slots(const struct shmkit_pub *p, const void **start, size_t *len)
{
	*start = p->t.slots;
	*len = p->t.nslots * p->t.slot_size;
}

void __shmkit_sub_slots(const struct shmkit_sub *s, const void **start, size_t *len)
{
	*start = s->t.slots;
	*len = s->t.nslots * s->t.slot_size;
}

/* ----------------------------------------------------------------- waits */

typedef int (*ready_fn)(void *arg);
typedef int (*sleep_fn)(void *arg, int64_t ns);

/* The next sleep's length: a slice, or what is left before the deadline. */
static int64_t slice_ns(uint64_t deadline, uint64_t now)
{
	return deadline - now < SLICE_NS ? (int64_t)(deadline - now) : SLICE_NS;
}

/*
 * wait_for with a spin of 0, from now: from the failed look straight to
 * the sleep, whose re-check (W1, W3) is the next look; no pause and no
 * poll before it. A sleep that ends without data is followed by a look
 * for a gone peer, as in wait_for's loop.
 */
static int sleep_for(uint64_t deadline, uint64_t now, ready_fn cond, ready_fn gone,
		     sleep_fn sleep, void *arg)
{
	int r;

	for (;;) {
		if ((r = sleep(arg, slice_ns(deadline, now))))
			return r;
		if ((r = cond(arg)) || (r = gone(arg)))
			return r;
		if ((now = __shmkit_now_ns()) >= deadline)
			return -ETIMEDOUT;
	}
}

/* Who waits: where it notes its cpu and counts its yields. */
struct waiter {
	_Atomic uint32_t *cpu;
	_Atomic uint64_t *yields;
	const struct __shmkit_topic_sub *self;	/* NULL: the publisher */
};

/*
 * Does another side of the topic that holds its place (the publisher, a
 * subscriber) say it last ran on cpu? Then a spin there takes the cpu
 * from a side that may have work: subscribers that share a cpu spun out
 * each other's turns, and with a yield every YIELD_EVERY_NS instead, two
 * to eight subscribers on one cpu each got about twice the messages
 * (fan-out, 64 KiB, AMD EPYC, 2026-12-02). The words are hints: a wrong
 * one costs a yield, or one not made.
 */
static int shares_cpu(const struct topic_view *t, const struct waiter *w, uint32_t cpu)
{
	if (w->self && shmkit_load_relaxed(&t->hdr->owner) &&
	    shmkit_load_relaxed(&t->hdr->pub_cpu) == cpu)
		return 1;
	for (uint32_t i = 0; i < t->max_subs; i++) {
		const struct __shmkit_topic_sub *e = &t->subs[i];

		if (e != w->self && shmkit_load_relaxed(&e->owner) &&
		    shmkit_load_relaxed(&e->cpu) == cpu)
			return 1;
	}
	return 0;
}

/* Notes the cpu this side runs on: -1 if unknown. Statistics-grade: who
   reads a stale one yields once too many, or once too few. */
static int note_cpu(_Atomic uint32_t *word)
{
	int cpu = sched_getcpu();

	if (cpu >= 0)
		shmkit_store_relaxed(word, (uint32_t)cpu);
	return cpu;
}

/* Gives the cpu up if another side says it is there too. */
static void give_way(const struct topic_view *t, const struct waiter *w)
{
	int cpu = note_cpu(w->cpu);

	if (cpu >= 0 && shares_cpu(t, w, (uint32_t)cpu)) {
		sched_yield();
		__shmkit_count(w->yields, 1);
	}
}

/*
 * A wait for cond(arg) == nonzero, per the handle's policy and spin:
 * spin for spin_ns (none at all: sleep_for), then sleep in slices (sleep
 * announces the sleep, re-checks and calls futex_wait; W1, W3).
 * gone(arg) says whether to stop (a closed or dead peer); it runs every
 * PEER_CHECK_NS and after each sleep. Returns what cond or gone returned
 * (cond's > 0 as 0), -EAGAIN or -ETIMEDOUT.
 */
static int wait_for(const struct topic_view *t, int timeout_ms, ready_fn cond, ready_fn gone,
		    sleep_fn sleep, void *arg, _Atomic uint64_t *wait_ns, const struct waiter *w)
{
	uint64_t start, now, deadline, next_check, next_yield;
	int r;

	if ((r = cond(arg)))
		return r < 0 ? r : 0;
	if (timeout_ms == 0 || t->wait == SHMKIT_WAIT_NONE) {
		r = gone(arg);
		return r ? r : -EAGAIN;
	}
	start = now = __shmkit_now_ns();
	deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;
	if (t->spin_ns == 0 && t->wait == SHMKIT_WAIT_BLOCK) {
		r = sleep_for(deadline, now, cond, gone, sleep, arg);
		goto counted;
	}
	next_check = start;
	next_yield = start + YIELD_EVERY_NS;
	note_cpu(w->cpu);
	for (unsigned i = 1;; i++) {
		if ((r = cond(arg)))
			break;
		cpu_relax();
		if (i % 64)
			continue;
		now = __shmkit_now_ns();
		if (now >= next_check) {
			if ((r = gone(arg)))
				break;
			next_check = now + PEER_CHECK_NS;
		}
		if (now >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		if (now >= next_yield) {
			next_yield = now + YIELD_EVERY_NS;
			give_way(t, w);
		}
		if (t->wait == SHMKIT_WAIT_SPIN || now - start < t->spin_ns)
			continue;
		if ((r = sleep(arg, slice_ns(deadline, now))))
			break;
		next_check = 0;
	}
counted:
	__shmkit_count(wait_ns, __shmkit_now_ns() - start);
	return r < 0 ? r : 0;
}

/* shmkit_pub_set_spin and shmkit_sub_set_spin: as a channel side's. */
static int set_spin(struct topic_view *t, int spin_us)
{
	if (spin_us < -1 || spin_us > SHMKIT_SPIN_MAX_US)
		return -EINVAL;
	t->spin_ns = spin_us < 0 ? SPIN_NS : (uint64_t)spin_us * 1000u;
	return 0;
}

/* ------------------------------------------------------------- publisher */

static void wake_subs(struct shmkit_pub *p, int always)
{
	struct __shmkit_topic_hdr *h = p->t.hdr;

	/* W2: the slot's word (T1) before our look at the flag; pairs with W1 */
	shmkit_smp_mb();
	if (always) {
		__shmkit_futex_kick(&h->subs_sleeping, &h->sub_wake_seq, INT_MAX);
		__shmkit_count(&h->wakes, 1);
	} else if (__shmkit_futex_wake_flagged(&h->subs_sleeping, &h->sub_wake_seq, INT_MAX)) {
		__shmkit_count(&h->wakes, 1);
	}
	/* J2: a join since our last scan makes us scan before the next slot */
	if (p->t.policy == __SHMKIT_TOPIC_BLOCK &&
	    shmkit_load_acquire(&h->joins) != p->joins)
		p->rescan = 1;
}

/*
 * T4: the least pos of the active subscribers, into p->min_pos (p->pos if
 * there are none: nothing holds the publisher). -SHMKIT_ECORRUPT if one
 * claims to have read what was never published.
 */
static int scan_subs(struct shmkit_pub *p)
{
	uint64_t min = p->pos;

	p->joins = shmkit_load_acquire(&p->t.hdr->joins);
	p->rescan = 0;
	for (uint32_t i = 0; i < p->t.max_subs; i++) {
		struct __shmkit_topic_sub *e = &p->t.subs[i];
		uint64_t pos;

		if (!shmkit_load_acquire(&e->owner))
			continue;
		/* T4: pairs with T3; the bytes below pos are read and done with */
		pos = shmkit_load_acquire(&e->pos);
		if (pos > p->pos)
			return -SHMKIT_ECORRUPT;
		if (pos < min)
			min = pos;
	}
	p->min_pos = min;
	return 0;
}

/* Block policy: is slot p->pos free for every subscriber? 1, 0 or an error. */
static int room_ready(void *arg)
{
	struct shmkit_pub *p = arg;
	int err;

	if (!p->rescan && p->min_pos + p->t.nslots > p->pos)
		return 1;
	if ((err = scan_subs(p)) < 0)
		return err;
	return p->min_pos + p->t.nslots > p->pos;
}

/*
 * While it waits, the publisher drops subscribers that died holding it
 * back: a CAS from the dead owner's word, so that one claiming the entry
 * at the same moment either wins or finds it free. Never "gone": it is the
 * publisher that decides to go on.
 */
static int evict_dead(void *arg)
{
	struct shmkit_pub *p = arg;

	for (uint32_t i = 0; i < p->t.max_subs; i++) {
		struct __shmkit_topic_sub *e = &p->t.subs[i];
		uint64_t owner = shmkit_load_acquire(&e->owner);

		if (owner && shmkit_load_acquire(&e->pos) + p->t.nslots <= p->pos &&
		    !__shmkit_owner_alive(owner) &&
		    shmkit_cas_seq_cst(&e->owner, &owner, 0))
			p->rescan = 1;
	}
	return 0;
}

static int pub_sleep(void *arg, int64_t ns)
{
	struct shmkit_pub *p = arg;
	struct __shmkit_topic_hdr *h = p->t.hdr;
	uint32_t seq = shmkit_load_acquire(&h->pub_wake_seq);
	int r;

	/* W3: the flag, a full barrier, the re-check; pairs with sub_wake_pub */
	shmkit_store_relaxed(&h->pub_sleeping, 1);
	__shmkit_count(&h->sleeps, 1);
	shmkit_smp_mb();
	p->rescan = 1;
	r = room_ready(p);
	if (r == 0) {
		__shmkit_futex_wait(&h->pub_wake_seq, seq, ns);
		r = room_ready(p);
	}
	shmkit_store_relaxed(&h->pub_sleeping, 0);
	return r;
}

SHMKIT_EXPORT
int shmkit_pub_open(const char *name, unsigned flags, struct shmkit_pub **out)
{
	struct shmkit_pub *p;
	int err;

	if (!out || (flags & ~(unsigned)SHMKIT_SHARED))
		return -EINVAL;
	if (!(p = calloc(1, sizeof(*p))))
		return -ENOMEM;
	if ((err = attach_topic(name, 0, (flags & SHMKIT_SHARED) ? -1 : 0777, &p->t)) < 0) {
		free(p);
		return err;
	}
	if ((err = __shmkit_owner_claim(&p->t.hdr->owner)) < 0) {
		shmkit_seg_detach(&p->t.map);
		free(p);
		return err;
	}
	/*
	 * A new publisher goes on where the last one stopped. One that died
	 * between a slot's even word and published left a message that
	 * subscribers may have read: step over it. A slot left odd is
	 * rewritten by the next send.
	 */
	p->pos = shmkit_load_acquire(&p->t.hdr->published);
	if (p->pos > SHMKIT_TOPIC_MAX_COUNT) {
		shmkit_store_release(&p->t.hdr->owner, 0);
		shmkit_seg_detach(&p->t.map);
		free(p);
		return -SHMKIT_ECORRUPT;
	}
	while (shmkit_load_acquire(&slot_of(&p->t, p->pos)->seq) == 2 * p->pos + 2)
		p->pos++;
	note_cpu(&p->t.hdr->pub_cpu);
	shmkit_store_release(&p->t.hdr->published, p->pos);
	p->rescan = 1;
	__shmkit_prezero_init(&p->prezero, p->t.nslots * p->t.slot_size);
	shmkit_store_release(&p->t.hdr->closed, 0);
	/*
	 * A predecessor that died between a message and its wake-up owed the
	 * sleepers that wake: without it they would sleep out their 20 ms
	 * slice (model: full-topic-takeover, found; -kick, this fix).
	 */
	wake_subs(p, 1);
	*out = p;
	return 0;
}

static int pub_close_as(struct shmkit_pub *p, uint32_t how)
{
	int err;

	if (!p)
		return -EINVAL;
	/* closed before the owner word: who sees no owner also sees closed */
	shmkit_store_release(&p->t.hdr->closed, how);
	shmkit_store_release(&p->t.hdr->owner, 0);
	wake_subs(p, 1);
	err = shmkit_seg_detach(&p->t.map);
	free(p);
	return err;
}

SHMKIT_EXPORT
int shmkit_pub_close(struct shmkit_pub *p)
{
	return pub_close_as(p, 1);
}

SHMKIT_EXPORT
int shmkit_pub_abort(struct shmkit_pub *p)
{
	return pub_close_as(p, 2);
}

SHMKIT_EXPORT
int shmkit_pub_set_wait(struct shmkit_pub *p, int policy)
{
	if (!p || policy < SHMKIT_WAIT_BLOCK || policy > SHMKIT_WAIT_NONE)
		return -EINVAL;
	p->t.wait = policy;
	return 0;
}

SHMKIT_EXPORT
int shmkit_pub_set_spin(struct shmkit_pub *p, int spin_us)
{
	return p ? set_spin(&p->t, spin_us) : -EINVAL;
}

SHMKIT_EXPORT
int shmkit_pub_reserve(struct shmkit_pub *p, size_t len, void **ptr, int timeout_ms)
{
	struct __shmkit_topic_slot *slot;
	uint64_t start = 0;
	int err;

	if (!p || !ptr)
		return -EINVAL;
	p->busy = 0;	/* a failed reserve drops the last one, as a channel's does */
	if (len > p->t.max_msg)
		return -EMSGSIZE;
	if (__shmkit_prezero_timing(&p->prezero))
		start = __shmkit_now_ns();
	if (p->t.policy == __SHMKIT_TOPIC_BLOCK &&
	    (err = wait_for(&p->t, timeout_ms, room_ready, evict_dead, pub_sleep, p,
			    &p->t.hdr->wait_ns, &(struct waiter){ &p->t.hdr->pub_cpu,
								  &p->t.hdr->yields, NULL })) < 0)
		return err;
	slot = slot_of(&p->t, p->pos);
	/* T1: the odd word before any byte of the new message */
	shmkit_store_relaxed(&slot->seq, 2 * p->pos + 1);
	atomic_thread_fence(memory_order_release);
	p->busy = 1;
	p->len = len;
	*ptr = payload_of(slot);
	/* after T1's odd word, as the caller's own bytes (prezero.h) */
	if (__shmkit_prezero_wanted(&p->prezero, len, start ? __shmkit_now_ns() - start : 0))
		__shmkit_prezero_bytes(*ptr, len);
	return 0;
}

SHMKIT_EXPORT
int shmkit_pub_commit(struct shmkit_pub *p, size_t used)
{
	struct __shmkit_topic_slot *slot;

	if (!p || !p->busy || used > p->len)
		return -EINVAL;
	slot = slot_of(&p->t, p->pos);
	shmkit_store_relaxed(&slot->len, (uint32_t)used);
	/* T1: the message whole before its even word; pairs with T2 */
	shmkit_store_release(&slot->seq, 2 * p->pos + 2);
	p->pos++;
	p->busy = 0;
	shmkit_store_release(&p->t.hdr->published, p->pos);
	__shmkit_count(&p->t.hdr->bytes, used);
	wake_subs(p, 0);
	return 0;
}

SHMKIT_EXPORT
int shmkit_pub_subscribers(const struct shmkit_pub *p)
{
	int n = 0;

	if (!p)
		return -EINVAL;
	for (uint32_t i = 0; i < p->t.max_subs; i++) {
		uint64_t owner = shmkit_load_acquire(&p->t.subs[i].owner);

		n += owner && __shmkit_owner_alive(owner);
	}
	return n;
}

SHMKIT_EXPORT
int shmkit_pub_send(struct shmkit_pub *p, const void *buf, size_t len, int timeout_ms)
{
	void *dst;
	int err;

	if (!p || (!buf && len))
		return -EINVAL;
	if ((err = shmkit_pub_reserve(p, len, &dst, timeout_ms)) < 0)
		return err;
	copy_in(&p->t, dst, buf, len);
	return shmkit_pub_commit(p, len);
}

/* ------------------------------------------------------------ subscriber */

/* What slot word w says of message k: 1 ready, 0 not yet, -1 overwritten. */
static int slot_state(uint64_t w, uint64_t k)
{
	if (w == 2 * k + 2)
		return 1;
	return w > 2 * k + 2 ? -1 : 0;
}

/*
 * Message k was overwritten: move to the oldest one still held and count
 * the rest as lost. Returns -SHMKIT_ELOST, or -SHMKIT_ECORRUPT.
 */
static int skip_lost(struct shmkit_sub *s, uint64_t k)
{
	uint64_t published = shmkit_load_acquire(&s->t.hdr->published), next;

	if (s->t.policy == __SHMKIT_TOPIC_BLOCK || published <= k)
		return -SHMKIT_ECORRUPT;
	/* the publisher may be writing slot published: the one after it is whole */
	next = published + 1 > s->t.nslots ? published + 1 - s->t.nslots : 0;
	if (next <= k)
		next = k + 1;
	s->lost += next - k;
	__shmkit_count(&s->me->lost, next - k);
	s->pos = next;
	shmkit_store_release(&s->me->pos, next);
	return -SHMKIT_ELOST;
}

/* Is message s->pos here? 1 yes, 0 not yet, or an error (-SHMKIT_ELOST). */
static int msg_ready(void *arg)
{
	struct shmkit_sub *s = arg;
	/* T2: pairs with T1's release of the even word */
	uint64_t w = shmkit_load_acquire(&slot_of(&s->t, s->pos)->seq);
	int st = slot_state(w, s->pos);

	return st >= 0 ? st : skip_lost(s, s->pos);
}

/* Has the publisher gone with nothing more for us? 0, or how it ended. */
static int pub_gone(void *arg)
{
	struct shmkit_sub *s = arg;
	struct __shmkit_topic_hdr *h = s->t.hdr;
	uint32_t closed = shmkit_load_acquire(&h->closed);
	uint64_t owner = shmkit_load_acquire(&h->owner);
	int r;

	if (!closed && owner && !__shmkit_owner_alive(owner)) {
		/*
		 * It may have closed and exited between our load of closed and
		 * /proc: a clean end must not read as a death. Gone, it
		 * stores nothing more, so one more look settles it. That look
		 * at closed must acquire: after a successor's close it orders
		 * our last look at the slots after its messages (model:
		 * full-topic-weak-gc2); the owner load may be relaxed.
		 */
		closed = shmkit_load_acquire(&h->closed);
		if (!closed && shmkit_load_acquire(&h->owner) != owner)
			return 0;	/* a new publisher took over meanwhile */
	} else if (!closed) {
		return 0;
	}
	if (closed)
		r = closed == 2 ? -SHMKIT_EABORTED : -SHMKIT_EEOF;
	else
		r = -SHMKIT_EPEERDEAD;
	/* the last look: what it published before it went is still ours */
	int ready = msg_ready(s);

	return ready > 0 ? 0 : ready < 0 ? ready : r;
}

static int sub_sleep(void *arg, int64_t ns)
{
	struct shmkit_sub *s = arg;
	struct __shmkit_topic_hdr *h = s->t.hdr;
	uint32_t seq = shmkit_load_acquire(&h->sub_wake_seq);
	int r;

	/* W1: the shared flag, a full barrier, the re-check; pairs with W2 */
	shmkit_store_relaxed(&h->subs_sleeping, 1);
	__shmkit_count(&s->me->sleeps, 1);
	shmkit_smp_mb();
	r = msg_ready(s);
	/* a close also bumps sub_wake_seq: see it before sleeping on it */
	if (r == 0 && !shmkit_load_acquire(&h->closed))
		__shmkit_futex_wait(&h->sub_wake_seq, seq, ns);
	return r;
}

/* W3's other half: after T3, wake a block-policy publisher that sleeps. */
static void sub_wake_pub(struct shmkit_sub *s)
{
	struct __shmkit_topic_hdr *h = s->t.hdr;

	if (s->t.policy != __SHMKIT_TOPIC_BLOCK)
		return;
	shmkit_smp_mb();
	if (__shmkit_futex_wake_flagged(&h->pub_sleeping, &h->pub_wake_seq, 1))
		__shmkit_count(&s->me->wakes, 1);
}

/* J1: takes a free (or dead) entry of the table; -EBUSY if none. */
static int claim_entry(struct shmkit_sub *s)
{
	for (uint32_t i = 0; i < s->t.max_subs; i++) {
		if (__shmkit_owner_claim(&s->t.subs[i].owner) == 0) {
			s->me = &s->t.subs[i];
			return 0;
		}
	}
	return -EBUSY;
}

/* J1: the start position, published where a block-policy publisher sees it. */
static int join(struct shmkit_sub *s, int from_oldest)
{
	struct __shmkit_topic_hdr *h = s->t.hdr;
	uint64_t published = shmkit_load_acquire(&h->published), start;

	for (int tries = 0;; tries++) {
		start = from_oldest && published > s->t.history ? published - s->t.history :
			from_oldest ? 0 : published;
		shmkit_store_release(&s->me->pos, start);
		/* J1: pos before joins (seq_cst), joins before published; pairs with J2 */
		shmkit_fetch_add_seq_cst(&h->joins, 1);
		published = atomic_load_explicit(&h->published, memory_order_seq_cst);
		/*
		 * Only going back is corrupt. Far ahead is not: a thread
		 * preempted between the two looks comes back to a publisher
		 * that ran on (under either policy, as it had not seen pos).
		 */
		if (published < start || published > SHMKIT_TOPIC_MAX_COUNT)
			return -SHMKIT_ECORRUPT;
		if (published - start <= s->t.nslots - 2)
			break;
		/*
		 * It ran ahead of our first look: look again. Under block it
		 * waits for us soon; under overwrite it never does, and the
		 * start we have is as good as a later one (the first read
		 * counts what went by as lost).
		 */
		if (tries > 1000) {
			if (s->t.policy == __SHMKIT_TOPIC_BLOCK)
				return -EAGAIN;
			break;
		}
	}
	s->pos = start;
	return 0;
}

SHMKIT_EXPORT
int shmkit_sub_open(const char *name, unsigned flags, struct shmkit_sub **out)
{
	struct shmkit_sub *s;
	int err;

	if (!out || (flags & ~(unsigned)(SHMKIT_SHARED | SHMKIT_FROM_OLDEST)))
		return -EINVAL;
	if (!(s = calloc(1, sizeof(*s))))
		return -ENOMEM;
	if ((err = attach_topic(name, 0, (flags & SHMKIT_SHARED) ? -1 : 0777, &s->t)) < 0) {
		free(s);
		return err;
	}
	if ((err = claim_entry(s)) < 0)
		goto fail;
	/* the entry's counters are this subscriber's from now on */
	shmkit_store_relaxed(&s->me->msgs, 0);
	shmkit_store_relaxed(&s->me->bytes, 0);
	shmkit_store_relaxed(&s->me->lost, 0);
	shmkit_store_relaxed(&s->me->sleeps, 0);
	shmkit_store_relaxed(&s->me->wakes, 0);
	shmkit_store_relaxed(&s->me->wait_ns, 0);
	shmkit_store_relaxed(&s->me->yields, 0);
	note_cpu(&s->me->cpu);
	if ((err = join(s, flags & SHMKIT_FROM_OLDEST)) < 0) {
		shmkit_store_release(&s->me->owner, 0);
		goto fail;
	}
	/* a publisher asleep on the entry's old pos: it has a new one now */
	sub_wake_pub(s);
	*out = s;
	return 0;
fail:
	shmkit_seg_detach(&s->t.map);
	free(s);
	return err;
}

struct open_args {
	unsigned flags;
	struct shmkit_sub **sub;
};

static int sub_open_once(const char *name, void *arg)
{
	struct open_args *a = arg;

	return shmkit_sub_open(name, a->flags, a->sub);
}

SHMKIT_EXPORT
int shmkit_sub_open_wait(const char *name, unsigned flags, int timeout_ms,
			 struct shmkit_sub **sub)
{
	struct open_args a = { .flags = flags, .sub = sub };

	return __shmkit_open_wait(name, timeout_ms, sub_open_once, &a);
}

SHMKIT_EXPORT
int shmkit_sub_close(struct shmkit_sub *s)
{
	int err;

	if (!s)
		return -EINVAL;
	/* leaving: the publisher stops counting us (after our last pos) */
	shmkit_store_release(&s->me->owner, 0);
	sub_wake_pub(s);
	err = shmkit_seg_detach(&s->t.map);
	free(s);
	return err;
}

SHMKIT_EXPORT
int shmkit_sub_set_wait(struct shmkit_sub *s, int policy)
{
	if (!s || policy < SHMKIT_WAIT_BLOCK || policy > SHMKIT_WAIT_NONE)
		return -EINVAL;
	s->t.wait = policy;
	return 0;
}

SHMKIT_EXPORT
int shmkit_sub_set_spin(struct shmkit_sub *s, int spin_us)
{
	return s ? set_spin(&s->t, spin_us) : -EINVAL;
}

SHMKIT_EXPORT
uint64_t shmkit_sub_lost(const struct shmkit_sub *s)
{
	return s ? s->lost : 0;
}

/* T3: done with message s->pos. */
static void advance(struct shmkit_sub *s, size_t n)
{
	s->pos++;
	/* T3: pairs with T4; the slot is the publisher's again */
	shmkit_store_release(&s->me->pos, s->pos);
	__shmkit_count(&s->me->msgs, 1);
	__shmkit_count(&s->me->bytes, n);
	sub_wake_pub(s);
}

SHMKIT_EXPORT
int shmkit_sub_peek(struct shmkit_sub *s, const void **ptr, size_t *len, int timeout_ms)
{
	struct __shmkit_topic_slot *slot;
	uint32_t n;
	int err;

	if (!s || !ptr || !len)
		return -EINVAL;
	s->busy = 0;
	if ((err = wait_for(&s->t, timeout_ms, msg_ready, pub_gone, sub_sleep, s,
			    &s->me->wait_ns, &(struct waiter){ &s->me->cpu, &s->me->yields,
							       s->me })) < 0)
		return err;
	slot = slot_of(&s->t, s->pos);
	n = shmkit_load_relaxed(&slot->len);
	if (n > s->t.max_msg) {
		/* under overwrite a torn length is the publisher's next message */
		if (s->t.policy == __SHMKIT_TOPIC_OVERWRITE) {
			atomic_thread_fence(memory_order_acquire);
			if (shmkit_load_relaxed(&slot->seq) != 2 * s->pos + 2)
				return skip_lost(s, s->pos);
		}
		return -SHMKIT_ECORRUPT;
	}
	s->busy = 1;
	s->len = n;
	*ptr = payload_of(slot);
	*len = n;
	return 0;
}

SHMKIT_EXPORT
int shmkit_sub_release(struct shmkit_sub *s)
{
	struct __shmkit_topic_slot *slot;

	if (!s || !s->busy)
		return -EINVAL;
	s->busy = 0;
	if (s->t.policy == __SHMKIT_TOPIC_OVERWRITE) {
		/* T2: was it overwritten while it was held? Then what was read is void */
		slot = slot_of(&s->t, s->pos);
		atomic_thread_fence(memory_order_acquire);
		if (shmkit_load_relaxed(&slot->seq) != 2 * s->pos + 2)
			return skip_lost(s, s->pos);
	}
	advance(s, s->len);
	return 0;
}

SHMKIT_EXPORT
int shmkit_sub_recv(struct shmkit_sub *s, void *buf, size_t cap, size_t *len, int timeout_ms)
{
	const void *src;
	size_t n;
	int err;

	if (!s || !len || (!buf && cap))
		return -EINVAL;
	if ((err = shmkit_sub_peek(s, &src, &n, timeout_ms)) < 0)
		return err;
	*len = n;
	if (n > cap) {
		s->busy = 0;
		return -EMSGSIZE;
	}
	copy_out(&s->t, buf, src, n);
	return shmkit_sub_release(s);
}

/* ------------------------------------------------------------ wait sets */

int __shmkit_pub_poll(struct shmkit_pub *p, int look)
{
	int r;

	if (p->busy || p->t.policy == __SHMKIT_TOPIC_OVERWRITE)
		return 1;	/* a reservation open, or a publisher that never waits */
	if ((r = room_ready(p)) || !look)
		return r;
	/* as wait_for's gone: subscribers that died holding us back go */
	evict_dead(p);
	return room_ready(p);
}

int __shmkit_sub_poll(struct shmkit_sub *s, int look)
{
	int r;

	if (s->busy)
		return 1;	/* a peeked message: peek gives it again at once */
	if ((r = msg_ready(s)))
		return r;
	/* without look, only a close (no /proc): what the sleep's re-check needs */
	if (!look && !shmkit_load_acquire(&s->t.hdr->closed))
		return 0;
	return pub_gone(s);
}

void __shmkit_pub_sleep_words(struct shmkit_pub *p, struct __shmkit_sleep_words *w)
{
	w->flag = &p->t.hdr->pub_sleeping;
	w->seq = &p->t.hdr->pub_wake_seq;
	w->sleeps = &p->t.hdr->sleeps;
	w->shared = 0;
}

void __shmkit_sub_sleep_words(struct shmkit_sub *s, struct __shmkit_sleep_words *w)
{
	w->flag = &s->t.hdr->subs_sleeping;
	w->seq = &s->t.hdr->sub_wake_seq;
	w->sleeps = &s->me->sleeps;
	w->shared = 1;
}
