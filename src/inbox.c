/*
 * Inboxes: many producers, one consumer, a lane (a channel ring) per
 * producer. The layout and the protocol (I1, I2) are in inbox.h; each
 * lane runs chan.c's code, so what is proven for a channel holds for it.
 *
 * The consumer reads the lanes in turn, one message each, starting after
 * the lane it read last: a producer that never stops cannot hold the
 * others back. It waits through a private wait set (waitset.c) whose one
 * member is the inbox itself, so its spin and sleep, timeouts and slices,
 * are the wait set's.
 *
 * Never trust the segment: the shape is checked at open, each lane's
 * header at open, and lane positions by chan.c. A lane found corrupt,
 * when the consumer opens or later, is reported once and then left
 * alone, and a producer's join passes over it: one broken lane does not
 * stop the consumer from serving the rest, nor producers from joining.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "barrier.h"
#include "chan.h"
#include "inbox.h"
#include "look.h"
#include "owner.h"
#include "seg.h"
#include "shmkit.h"
#include "util.h"
#include "waitset.h"
#include "watch.h"

struct shmkit_inbox {
	struct shmkit_map map;
	struct __shmkit_inbox_hdr *hdr;
	uint32_t nlanes;
	uint64_t lane_cap;
	struct __shmkit_inbox_shape sh;
	struct shmkit_chan **lane;	/* the consumer side of each lane */
	struct shmkit_chan **reply;	/* a service's: the producer side of each reply ring */
	unsigned char *broken;		/* lanes found corrupt: skipped (LANE_*) */
	uint32_t next;		/* where the next look at the lanes starts */
	int ready;		/* the lane the last poll found a message in */
	int held;		/* the lane of a peeked message, or -1 */
	int from;		/* the lane of the last message given out */
	struct shmkit_waitset *ws;	/* this inbox alone: for its waits */
};

/* ib->broken[i]: a lane found corrupt, not yet reported or reported */
#define LANE_UNSAID 1
#define LANE_BROKEN 2

/* ----------------------------------------------------------------- shape */

/* A lane's size: one ring and its header page, or two with replies. */
static uint64_t lane_stride(const struct __shmkit_inbox_shape *sh)
{
	uint64_t one = SHMKIT_INBOX_LANE_HDR + sh->lane_cap;

	return sh->flags & SHMKIT_INBOX_REPLIES ? 2 * one : one;
}

struct __shmkit_chan_hdr *__shmkit_inbox_lane(void *base, const struct __shmkit_inbox_shape *sh,
					      uint32_t i, int reply)
{
	return (void *)((char *)base + SHMKIT_INBOX_LANES_OFFSET + i * lane_stride(sh) +
			(reply ? SHMKIT_INBOX_LANE_HDR + sh->lane_cap : 0));
}

unsigned char *__shmkit_inbox_ring(void *base, const struct __shmkit_inbox_shape *sh,
				   uint32_t i, int reply)
{
	return (unsigned char *)__shmkit_inbox_lane(base, sh, i, reply) + SHMKIT_INBOX_LANE_HDR;
}

/* The epoch word in a lane's first header page, after its channel header. */
static _Atomic uint64_t *lane_epoch(void *base, const struct __shmkit_inbox_shape *sh, uint32_t i)
{
	return (void *)((char *)__shmkit_inbox_lane(base, sh, i, 0) + SHMKIT_INBOX_EPOCH_OFFSET);
}

#define lane_hdr(base, sh, i) __shmkit_inbox_lane((base), (sh), (i), 0)
#define lane_ring(base, sh, i) __shmkit_inbox_ring((base), (sh), (i), 0)

static struct __shmkit_inbox_hdr *inbox_hdr_of(void *base)
{
	return (void *)((char *)base + SHMKIT_HDR_SIZE);
}

static void inbox_init(void *data, uint64_t size, void *arg)
{
	struct __shmkit_inbox_hdr *h = data;
	const struct __shmkit_inbox_shape *sh = arg;
	void *base = (char *)data - SHMKIT_HDR_SIZE;

	(void)size;
	h->version = SHMKIT_INBOX_VERSION;
	h->hdr_size = sizeof(*h);
	h->lanes = sh->lanes;
	h->flags = sh->flags;
	h->lane_cap = sh->lane_cap;
	for (uint32_t i = 0; i < sh->lanes; i++) {
		__shmkit_lane_init(lane_hdr(base, sh, i), sh->lane_cap);
		if (sh->flags & SHMKIT_INBOX_REPLIES)
			__shmkit_lane_init(__shmkit_inbox_lane(base, sh, i, 1), sh->lane_cap);
	}
	/* M0: publishes the layout and the lanes; pairs with M1 in check_layout */
	shmkit_store_release(&h->magic, SHMKIT_INBOX_MAGIC);
}

/*
 * Checks the inbox at base (data_size bytes after the segment header)
 * and fills sh with its shape. The lanes' own headers are checked as
 * each is opened.
 */
static int check_layout(int shmid, void *base, uint64_t data_size, struct __shmkit_inbox_shape *sh)
{
	struct __shmkit_hdr_view view;
	struct __shmkit_inbox_hdr *h = inbox_hdr_of(base);
	uint64_t cap, need;
	uint32_t lanes;
	int err = __shmkit_seg_header(shmid, base, &view);

	if (err < 0)
		return err == -SHMKIT_EFOREIGN ? -SHMKIT_ENOTINBOX : err;
	if (!(view.flags & SHMKIT_HDR_INBOX) ||
	    data_size < SHMKIT_INBOX_LANES_OFFSET - SHMKIT_HDR_SIZE ||
	    /* M1: pairs with M0 in inbox_init */
	    shmkit_load_acquire(&h->magic) != SHMKIT_INBOX_MAGIC ||
	    h->version != SHMKIT_INBOX_VERSION || h->hdr_size != sizeof(*h))
		return -SHMKIT_ENOTINBOX;
	lanes = h->lanes;
	cap = h->lane_cap;
	sh->flags = h->flags;
	if (lanes == 0 || lanes > SHMKIT_INBOX_MAX_LANES || cap < __shmkit_page_size() ||
	    cap > SHMKIT_CHAN_MAX_CAPACITY || (cap & (cap - 1)) ||
	    (sh->flags & ~SHMKIT_INBOX_REPLIES))
		return -SHMKIT_ECORRUPT;
	sh->lanes = lanes;
	sh->lane_cap = cap;
	need = (uint64_t)lanes * lane_stride(sh);
	if (data_size - (SHMKIT_INBOX_LANES_OFFSET - SHMKIT_HDR_SIZE) < need)
		return -SHMKIT_ECORRUPT;
	return 0;
}

/* __shmkit_seg_make_checked's check: an inbox of the same kind, of any shape. */
static int is_kind(struct shmkit_map *map, void *arg)
{
	struct __shmkit_inbox_shape sh;
	int err = check_layout(map->shmid, map->base, map->size, &sh);

	if (err == 0 && (sh.flags & SHMKIT_INBOX_REPLIES) != *(uint32_t *)arg)
		return *(uint32_t *)arg ? -SHMKIT_ENOTSERVICE : -SHMKIT_ENOTINBOX;
	return err == -SHMKIT_ENOTINBOX && *(uint32_t *)arg ? -SHMKIT_ENOTSERVICE : err;
}

int __shmkit_inbox_make(const char *name, unsigned producers, size_t lane_capacity, int mode,
			unsigned flags, uint32_t kind)
{
	struct __shmkit_inbox_shape sh = { .lanes = producers, .lane_cap = __shmkit_page_size(),
					   .flags = kind };

	if (producers == 0 || producers > SHMKIT_INBOX_MAX_LANES || lane_capacity == 0 ||
	    lane_capacity > SHMKIT_CHAN_MAX_CAPACITY)
		return -EINVAL;
	while (sh.lane_cap < lane_capacity)
		sh.lane_cap <<= 1;
	if ((uint64_t)producers * lane_stride(&sh) > SHMKIT_INBOX_MAX_BYTES)
		return -EINVAL;
	/* an existing inbox keeps its shape, as a channel keeps its capacity */
	return __shmkit_seg_make_checked(name, SHMKIT_INBOX_LANES_OFFSET - SHMKIT_HDR_SIZE +
						       (uint64_t)producers * lane_stride(&sh),
					 mode, flags, SHMKIT_HDR_INBOX, inbox_init, &sh, is_kind,
					 &kind);
}

SHMKIT_EXPORT
int shmkit_inbox_create(const char *name, unsigned producers, size_t lane_capacity, int mode,
			unsigned flags)
{
	return __shmkit_inbox_make(name, producers, lane_capacity, mode, flags, 0);
}

/*
 * Attaches inbox name of the given kind (0 or SHMKIT_INBOX_REPLIES): an
 * inbox is not a service, nor a service an inbox, since each side of a
 * service holds a reply ring the plain calls would leave alone.
 */
int __shmkit_inbox_attach(const char *name, unsigned flags, int trust_mode, uint32_t kind,
			  struct shmkit_map *map, struct __shmkit_inbox_shape *sh)
{
	int err = __shmkit_seg_attach_name(name, flags, trust_mode, map);

	if (err < 0)
		return err;
	err = check_layout(map->shmid, map->base, map->size, sh);
	if (err == 0 && (sh->flags & SHMKIT_INBOX_REPLIES) != kind)
		err = -SHMKIT_ENOTINBOX;
	if (err == -SHMKIT_ENOTINBOX && kind)
		err = -SHMKIT_ENOTSERVICE;
	if (err < 0)
		shmkit_seg_detach(map);
	return err;
}
#define attach_inbox(name, flags, trust, map, sh) \
	__shmkit_inbox_attach((name), (flags), (trust), 0, (map), (sh))

int __shmkit_inbox_destroy(const char *name, uint32_t kind)
{
	struct shmkit_map map;
	struct __shmkit_inbox_shape sh;
	int err;

	/* a named segment of another kind is not ours to remove here */
	if ((err = __shmkit_inbox_attach(name, SHMKIT_RDONLY, -1, kind, &map, &sh)) < 0)
		return err;
	err = shmkit_seg_remove(map.shmid);
	shmkit_seg_detach(&map);
	return err;
}

SHMKIT_EXPORT
int shmkit_inbox_destroy(const char *name)
{
	return __shmkit_inbox_destroy(name, 0);
}

/* ------------------------------------------------------------- producers */

/* I1's other side: lanes below lanes_used are looked at; raise it to i + 1. */
static void mark_used(struct __shmkit_inbox_hdr *h, uint32_t i)
{
	uint32_t cur = shmkit_load_relaxed(&h->lanes_used);

	while (cur <= i && !shmkit_cas_seq_cst(&h->lanes_used, &cur, i + 1))
		;
}

/*
 * Takes a lane: its request ring's producer side first (whoever holds it
 * holds the lane), then, in a service, its reply ring's consumer side,
 * which the lane's last client gave up or died holding, and a new epoch
 * (see inbox.h). *rep is NULL for a plain inbox. A lane held, or corrupt
 * (either ring's header or positions), is passed over.
 */
int __shmkit_inbox_join(const char *name, unsigned flags, uint32_t kind,
			struct __shmkit_inbox_lane_handles *out)
{
	struct shmkit_map map;
	struct __shmkit_inbox_shape sh;
	struct __shmkit_inbox_hdr *h;
	int err, busy = 0;

	if (!name || !out || (flags & ~SHMKIT_SHARED))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if ((err = __shmkit_inbox_attach(name, 0, (flags & SHMKIT_SHARED) ? -1 : 0777, kind, &map,
					 &sh)) < 0)
		return err;
	h = inbox_hdr_of(map.base);
	/* the lowest free lane: the consumer looks no further than lanes_used */
	for (uint32_t i = 0; i < sh.lanes; i++) {
		/* the map is handed over once the lane is ours (both rings) */
		err = __shmkit_lane_open(NULL, lane_hdr(map.base, &sh, i), lane_ring(map.base, &sh, i),
					 sh.lane_cap, SHMKIT_PRODUCER, &h->cons_sleep, &out->req);
		busy |= err == -EBUSY;
		if (err == -EBUSY || err == -SHMKIT_ECORRUPT)
			continue;
		if (err < 0)
			break;
		if (kind) {
			err = __shmkit_lane_open(NULL, __shmkit_inbox_lane(map.base, &sh, i, 1),
						 __shmkit_inbox_ring(map.base, &sh, i, 1),
						 sh.lane_cap, SHMKIT_CONSUMER, NULL, &out->rep);
			if (err < 0) {
				/* corrupt, or a live holder of a lane nobody holds:
				   not as we leave it; let the lane go again */
				__shmkit_lane_close(out->req);
				out->req = NULL;
				if (err != -EBUSY && err != -SHMKIT_ECORRUPT)
					break;
				err = -SHMKIT_ECORRUPT;
				continue;
			}
			/* a new epoch: replies meant for an earlier client are not ours */
			out->epoch = (uint32_t)(shmkit_fetch_add_seq_cst(lane_epoch(map.base, &sh, i),
									  1) + 1);
		}
		out->lane = i;
		/* before the first message: see lanes_used in inbox.h */
		mark_used(h, i);
		__shmkit_lane_adopt(out->req, &map);	/* it detaches at close */
		return 0;
	}
	shmkit_seg_detach(&map);
	/* a held lane may be let go: say busy rather than corrupt */
	return busy && err == -SHMKIT_ECORRUPT ? -EBUSY : err;
}

SHMKIT_EXPORT
int shmkit_inbox_join(const char *name, unsigned flags, struct shmkit_chan **out)
{
	struct __shmkit_inbox_lane_handles lh;
	int err;

	if (!out)
		return -EINVAL;
	if ((err = __shmkit_inbox_join(name, flags, 0, &lh)) == 0)
		*out = lh.req;
	return err;
}

/* -------------------------------------------------------------- consumer */

/*
 * Gives up what the consumer holds, while the segment is still attached:
 * every lane's reply side (clients get end of stream) and consumer side
 * (producers get -EPIPE), then the inbox itself (see inbox.h). Frees the
 * handle.
 */
static int give_up(struct shmkit_inbox *ib)
{
	int err;

	for (uint32_t i = 0; ib->reply && i < ib->nlanes; i++)
		if (ib->reply[i])
			__shmkit_lane_close(ib->reply[i]);
	for (uint32_t i = 0; ib->lane && i < ib->nlanes; i++)
		if (ib->lane[i])
			__shmkit_lane_close(ib->lane[i]);
	shmkit_store_release(&ib->hdr->closed, 1);
	/* O0: as a channel side's close; pairs with O1 in the next claim */
	shmkit_store_release(&ib->hdr->owner, 0);
	err = shmkit_seg_detach(&ib->map);
	free(ib->lane);
	free(ib->reply);
	free(ib->broken);
	if (ib->ws)
		shmkit_waitset_free(ib->ws);
	free(ib);
	return err;
}

/*
 * Opens every lane's side of this kind of handle: the consumer side of
 * each request ring, and in a service the producer side of each reply
 * ring. Each is free, or left by a consumer that died (one that closed
 * gave them up before the inbox): a live holder means the segment is not
 * as an inbox leaves it. A lane found so, or with a corrupt header or
 * positions, is left alone and reported at the first look at the lanes,
 * as one found corrupt later is: the others are served.
 */
static int open_lanes(struct shmkit_inbox *ib)
{
	void *base = ib->map.base;
	int err;

	for (uint32_t i = 0; i < ib->nlanes; i++) {
		err = __shmkit_lane_open(NULL, lane_hdr(base, &ib->sh, i), lane_ring(base, &ib->sh, i),
					 ib->sh.lane_cap, SHMKIT_CONSUMER, NULL, &ib->lane[i]);
		if (err == 0 && ib->reply &&
		    (err = __shmkit_lane_open(NULL, __shmkit_inbox_lane(base, &ib->sh, i, 1),
					      __shmkit_inbox_ring(base, &ib->sh, i, 1),
					      ib->sh.lane_cap, SHMKIT_PRODUCER, NULL,
					      &ib->reply[i])) < 0) {
			/* a lane is both rings or neither: its clients get -EPIPE */
			__shmkit_lane_close(ib->lane[i]);
			ib->lane[i] = NULL;
		}
		if (err == -EBUSY || err == -SHMKIT_ECORRUPT)
			ib->broken[i] = LANE_UNSAID;
		else if (err < 0)
			return err;
	}
	return 0;
}

int __shmkit_inbox_open(const char *name, unsigned flags, uint32_t kind,
			struct shmkit_inbox **out)
{
	struct shmkit_inbox *ib;
	int err;

	if (!name || !out || (flags & ~SHMKIT_SHARED))
		return -EINVAL;
	if (!(ib = calloc(1, sizeof(*ib))))
		return -ENOMEM;
	ib->held = ib->from = ib->ready = -1;
	if ((err = __shmkit_inbox_attach(name, 0, (flags & SHMKIT_SHARED) ? -1 : 0777, kind,
					 &ib->map, &ib->sh)) < 0) {
		free(ib);
		return err;
	}
	ib->hdr = inbox_hdr_of(ib->map.base);
	ib->nlanes = ib->sh.lanes;
	ib->lane_cap = ib->sh.lane_cap;
	if ((err = __shmkit_owner_claim(&ib->hdr->owner)) < 0) {
		shmkit_seg_detach(&ib->map);
		free(ib);
		return err;
	}
	ib->lane = calloc(ib->nlanes, sizeof(*ib->lane));
	ib->broken = calloc(ib->nlanes, 1);
	if (kind && !(ib->reply = calloc(ib->nlanes, sizeof(*ib->reply))))
		err = -ENOMEM;
	if (err == 0)
		err = ib->lane && ib->broken ? shmkit_waitset_new(&ib->ws) : -ENOMEM;
	if (err == 0)
		err = open_lanes(ib);
	if (err == 0)
		err = shmkit_waitset_add_inbox(ib->ws, ib, NULL);
	if (err < 0) {
		give_up(ib);
		return err;
	}
	shmkit_store_release(&ib->hdr->closed, 0);
	*out = ib;
	return 0;
}

SHMKIT_EXPORT
int shmkit_inbox_open(const char *name, unsigned flags, struct shmkit_inbox **out)
{
	return __shmkit_inbox_open(name, flags, 0, out);
}

struct shmkit_chan *__shmkit_inbox_reply(struct shmkit_inbox *ib, uint32_t lane)
{
	return ib->reply && lane < ib->nlanes ? ib->reply[lane] : NULL;
}

uint32_t __shmkit_inbox_epoch(struct shmkit_inbox *ib, uint32_t lane)
{
	/* acquire: orders what the server reads of the lane after a client's claim */
	return (uint32_t)shmkit_load_acquire(lane_epoch(ib->map.base, &ib->sh, lane));
}

void __shmkit_inbox_ring_of(const struct shmkit_inbox *ib, uint32_t lane, int reply,
			    const void **start, size_t *len)
{
	*start = __shmkit_inbox_ring(ib->map.base, &ib->sh, lane, reply);
	*len = (size_t)ib->sh.lane_cap;
}

SHMKIT_EXPORT
int shmkit_inbox_close(struct shmkit_inbox *ib)
{
	if (!ib)
		return -EINVAL;
	return give_up(ib);
}

SHMKIT_EXPORT
int shmkit_inbox_set_spin(struct shmkit_inbox *ib, int spin_us)
{
	return ib ? shmkit_waitset_set_spin(ib->ws, spin_us) : -EINVAL;
}

SHMKIT_EXPORT
size_t shmkit_inbox_max_msg(const struct shmkit_inbox *ib)
{
	return ib ? (size_t)(ib->lane_cap / 2) : 0;
}

SHMKIT_EXPORT
int shmkit_inbox_from(const struct shmkit_inbox *ib)
{
	return ib ? ib->from : -EINVAL;
}

/*
 * Finds a lane with a message, looking from ib->next on: 1 (its index in
 * ib->ready), 0, or -SHMKIT_ECORRUPT once for a lane found corrupt (its
 * index in ib->from), which is skipped from then on.
 */
static int find_ready(struct shmkit_inbox *ib)
{
	/* acquire: a lane's header is read after the producer's claim of it;
	   never trusted beyond the number of lanes */
	uint32_t used = shmkit_load_acquire(&ib->hdr->lanes_used), i = ib->next;
	int r;

	if (used > ib->nlanes)
		used = ib->nlanes;
	if (i >= used)
		i = 0;
	for (uint32_t k = 0; k < used; k++, i = i + 1 == used ? 0 : i + 1) {
		if (ib->broken[i] == LANE_BROKEN)
			continue;
		if (ib->broken[i] || (r = __shmkit_lane_ready(ib->lane[i])) < 0) {
			ib->broken[i] = LANE_BROKEN;
			ib->from = (int)i;
			return -SHMKIT_ECORRUPT;
		}
		if (r == 0)
			continue;
		ib->ready = (int)i;
		return 1;
	}
	return 0;
}

/* Waits for a lane with a message; returns its index, or an error. */
static int next_lane(struct shmkit_inbox *ib, int timeout_ms)
{
	struct shmkit_event ev;
	int r;

	if ((r = find_ready(ib)) != 0)
		return r < 0 ? r : ib->ready;
	if (timeout_ms == 0)
		return -EAGAIN;
	/* the wait set's poll is find_ready: a lane found is in ib->ready */
	if ((r = shmkit_waitset_wait(ib->ws, &ev, 1, timeout_ms)) < 0)
		return r;
	return ev.status < 0 ? ev.status : ib->ready;
}

SHMKIT_EXPORT
int shmkit_inbox_peek(struct shmkit_inbox *ib, const void **ptr, size_t *len, int timeout_ms)
{
	int i, err;

	if (!ib || !ptr || !len)
		return -EINVAL;
	if (ib->held >= 0)
		return shmkit_chan_peek(ib->lane[ib->held], ptr, len, 0);
	if ((i = next_lane(ib, timeout_ms)) < 0)
		return i;
	if ((err = shmkit_chan_peek(ib->lane[i], ptr, len, 0)) < 0) {
		/* ready, so only a bad record can fail here */
		ib->broken[i] = LANE_BROKEN;
		ib->from = i;
		return err;
	}
	ib->held = ib->from = i;
	/* one message a lane, in turn: the next look starts after this one */
	ib->next = (uint32_t)i + 1;
	return 0;
}

SHMKIT_EXPORT
int shmkit_inbox_release(struct shmkit_inbox *ib)
{
	int err;

	if (!ib || ib->held < 0)
		return -EINVAL;
	err = shmkit_chan_release(ib->lane[ib->held]);
	ib->held = -1;
	return err;
}

SHMKIT_EXPORT
int shmkit_inbox_recv(struct shmkit_inbox *ib, void *buf, size_t cap, size_t *len,
		      int timeout_ms)
{
	const void *p;
	size_t n;
	int err;

	if (!ib || !len || (!buf && cap))
		return -EINVAL;
	if ((err = shmkit_inbox_peek(ib, &p, &n, timeout_ms)) < 0)
		return err;
	*len = n;
	if (n > cap)
		return -EMSGSIZE;	/* left in place, as a channel's recv does */
	if (n)
		memcpy(buf, p, n);
	return shmkit_inbox_release(ib);
}

/* ------------------------------------------------------------ wait sets */

int __shmkit_inbox_poll(struct shmkit_inbox *ib, int look)
{
	(void)look;	/* many producers, no one peer: nothing to end the wait */
	return ib->held >= 0 ? 1 : find_ready(ib);
}

void __shmkit_inbox_sleep_words(struct shmkit_inbox *ib, struct __shmkit_sleep_words *w)
{
	/* I1: the consumer's one sleep block, which every lane's producer wakes */
	w->flag = &ib->hdr->cons_sleep.sleeping;
	w->seq = &ib->hdr->cons_sleep.wake_seq;
	w->sleeps = &ib->hdr->sleeps;
	w->shared = 0;
}

/* ----------------------------------------------------------------- info */

/* Lanes hold messages, and no live consumer holds the inbox. */
int __shmkit_inbox_pending(int shmid, void *base, uint64_t data_size)
{
	struct __shmkit_inbox_shape sh;
	struct __shmkit_inbox_hdr *h = inbox_hdr_of(base);
	uint64_t cons;

	if (check_layout(shmid, base, data_size, &sh) < 0)
		return 0;
	cons = shmkit_load_acquire(&h->owner);
	if (cons && __shmkit_owner_alive(cons))
		return 0;
	for (uint32_t i = 0; i < sh.lanes; i++) {
		struct __shmkit_chan_hdr *l = lane_hdr(base, &sh, i);

		if (shmkit_load_acquire(&l->hot[0].pos) != shmkit_load_acquire(&l->hot[1].pos))
			return 1;
	}
	return 0;
}

/* The bytes of msgs service headers among bytes in all: never more than bytes. */
static uint64_t service_headers(uint64_t bytes, uint64_t msgs)
{
	return msgs > bytes / SHMKIT_SERVICE_HDR ? bytes : msgs * SHMKIT_SERVICE_HDR;
}

int __shmkit_inbox_info_at(int shmid, void *base, struct shmkit_inbox_info *info,
			   struct shmkit_inbox_lane_info *lanes, size_t cap)
{
	struct __shmkit_hdr_view view;
	struct __shmkit_inbox_shape sh;
	struct __shmkit_inbox_hdr *h;
	uint64_t owner;
	size_t k = 0;
	int err;

	if ((err = __shmkit_seg_header(shmid, base, &view)) < 0 ||
	    (err = check_layout(shmid, base, view.data_size, &sh)) < 0)
		return err == -SHMKIT_EFOREIGN ? -SHMKIT_ENOTINBOX : err;
	h = inbox_hdr_of(base);
	memset(info, 0, sizeof(*info));
	info->lanes = sh.lanes;
	info->lane_capacity = sh.lane_cap;
	info->replies = !!(sh.flags & SHMKIT_INBOX_REPLIES);
	/* what a caller may send: a service's own header comes off */
	info->max_msg = sh.lane_cap / 2 - (info->replies ? SHMKIT_SERVICE_HDR : 0);
	owner = shmkit_load_acquire(&h->owner);
	info->cons_pid = (pid_t)(uint32_t)owner;
	info->cons_alive = owner && __shmkit_owner_alive(owner);
	info->cons_closed = !!shmkit_load_relaxed(&h->closed);
	info->cons_sleeps = shmkit_load_relaxed(&h->sleeps);
	for (uint32_t i = 0; i < sh.lanes; i++) {
		struct __shmkit_chan_hdr *l = lane_hdr(base, &sh, i);
		struct shmkit_inbox_lane_info li = { .lane = i };
		uint64_t tail = shmkit_load_acquire(&l->hot[0].pos);
		uint64_t head = shmkit_load_acquire(&l->hot[1].pos);

		owner = shmkit_load_acquire(&l->cold[0].owner);
		li.pid = (pid_t)(uint32_t)owner;
		li.alive = owner && __shmkit_owner_alive(owner);
		li.used = tail - head <= sh.lane_cap ? tail - head : 0;
		li.sent_msgs = shmkit_load_relaxed(&l->hot[0].msgs);
		li.sent_bytes = shmkit_load_relaxed(&l->hot[0].bytes);
		li.recv_msgs = shmkit_load_relaxed(&l->hot[1].msgs);
		li.recv_bytes = shmkit_load_relaxed(&l->hot[1].bytes);
		li.sleeps = shmkit_load_relaxed(&l->cold[0].sleeps);
		li.wakes = shmkit_load_relaxed(&l->cold[0].wakes);
		if (info->replies) {
			/* the reply ring: the server is its producer, the client its consumer */
			struct __shmkit_chan_hdr *r = __shmkit_inbox_lane(base, &sh, i, 1);
			uint64_t rtail = shmkit_load_acquire(&r->hot[0].pos);
			uint64_t rhead = shmkit_load_acquire(&r->hot[1].pos);

			li.replies_used = rtail - rhead <= sh.lane_cap ? rtail - rhead : 0;
			li.replies_sent = shmkit_load_relaxed(&r->hot[0].msgs);
			li.replies_read = shmkit_load_relaxed(&r->hot[1].msgs);
			li.epoch = (uint32_t)shmkit_load_relaxed(lane_epoch(base, &sh, i));
			/* the bytes a client sent, not the library's headers */
			li.sent_bytes -= service_headers(li.sent_bytes, li.sent_msgs);
			li.recv_bytes -= service_headers(li.recv_bytes, li.recv_msgs);
		}
		info->sent_msgs += li.sent_msgs;
		info->recv_msgs += li.recv_msgs;
		info->used += li.used;
		/* the lanes in use: held by a producer, or with messages to read */
		if (!owner && !li.used && !li.sent_msgs && !li.replies_used)
			continue;
		if (owner)
			info->producers++;
		if (k < cap)
			lanes[k] = li;
		k++;
	}
	info->listed = (uint32_t)k;
	return 0;
}

SHMKIT_EXPORT
int shmkit_inbox_info(int shmid, struct shmkit_inbox_info *info,
		      struct shmkit_inbox_lane_info *lanes, size_t cap)
{
	struct __shmkit_look lk;
	int err;

	if (!info || (!lanes && cap))
		return -EINVAL;
	/* a look, not an attach: asking must not make us the last user */
	if ((err = __shmkit_look_begin(shmid, &lk)) < 0)
		return err;
	err = __shmkit_inbox_info_at(shmid, lk.base, info, lanes, cap);
	__shmkit_look_end(shmid, &lk);
	return err;
}
