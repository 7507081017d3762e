/*
 * Wait sets: one thread waits on many channels and topics (shmkit.h).
 *
 * Awake, a wait polls its members in turn, from where the last wait
 * stopped: a few loads each, no system call. It spins like a channel's
 * wait, then sleeps. To sleep it does each member's own sleeper's half of
 * the handshake (S1 in chan.c, W1 and W3 in topic.h), for all members in
 * a row: read the member's wake sequence, raise its flag; then one full
 * barrier; then re-check every member; then sleep until any sequence
 * moves. The wakers are the members' peers, unchanged: each one, having
 * published, makes its full barrier and looks at the flag of the side it
 * serves (S2, W2, W3). For every member it is the same store-barrier-load
 * pairing as for one handle, so either the re-check sees the peer's data
 * or the peer sees the flag and bumps the sequence the sleep compares.
 *
 * One sleep on many words is futex_waitv (Linux 5.16). Without it (an
 * older kernel, or a sandbox that forbids the call), a set of one member
 * sleeps on its word as a handle does, and a larger set on one member's
 * word at a time, a different one each time, in slices of
 * FALLBACK_SLICE_NS: a wake of that member is seen at once, the others'
 * within a slice.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "barrier.h"
#include "chan.h"
#include "futex.h"
#include "relax.h"
#include "shmkit.h"
#include "util.h"
#include "waitfd.h"
#include "waitset.h"

#define SPIN_NS 100000			/* the default spin, as a channel's least */
/*
 * A member's dead peer: look this often; and sleep at most this long.
 * A handle's own wait does both every 20 ms. A look asks /proc, some
 * microseconds: a set of 64 idle channels looking every 20 ms took 2.3%
 * of a cpu (AMD EPYC VM, 2026-11-30), and still about 2% with looks
 * every 80 ms and slices of 20 ms, which keep the 100 ms bound.
 */
#define PEER_CHECK_NS 80000000
#define SLICE_NS 20000000
#define FALLBACK_SLICE_NS 1000000

enum member_kind { MEMBER_CHAN, MEMBER_PUB, MEMBER_SUB, MEMBER_INBOX };

struct member {
	void *handle;		/* what the user added, and removes */
	void *target;		/* what is polled: the handle, or a part of it */
	void *udata;
	int kind;
	uint64_t room;		/* a channel producer's message size */
	uint64_t looked;	/* when its peer was last looked at, ns */
	struct __shmkit_sleep_words words;
};

struct shmkit_waitset {
	struct member m[SHMKIT_WAITSET_MAX];
	int n;
	int next;		/* where the next scan starts */
	unsigned turn;		/* fallback: whose word the next sleep is on */
	uint64_t spin_ns;
	/* the descriptor for event loops, made by shmkit_waitset_fd */
	struct __shmkit_waitfd *wf;
	int armed;		/* flags raised and the descriptor armed */
	/* events arm found instead of arming, for the next wait */
	struct shmkit_event pend[SHMKIT_WAITSET_MAX];
	void *pend_handle[SHMKIT_WAITSET_MAX];
	int npend;
};

int __shmkit_waitset_no_waitv;
int __shmkit_waitset_thread_fd;

static void disarm(struct shmkit_waitset *ws);
/* learned at the first sleep that tries it; any thread may set it */
static _Atomic int waitv_missing;

SHMKIT_EXPORT
int shmkit_waitset_new(struct shmkit_waitset **out)
{
	struct shmkit_waitset *ws;

	if (!out)
		return -EINVAL;
	if (!(ws = calloc(1, sizeof(*ws))))
		return -ENOMEM;
	ws->spin_ns = SPIN_NS;
	*out = ws;
	return 0;
}

SHMKIT_EXPORT
int shmkit_waitset_free(struct shmkit_waitset *ws)
{
	if (!ws)
		return -EINVAL;
	disarm(ws);
	__shmkit_waitfd_close(ws->wf);
	free(ws);
	return 0;
}

static int find(const struct shmkit_waitset *ws, const void *handle)
{
	for (int i = 0; i < ws->n; i++)
		if (ws->m[i].handle == handle)
			return i;
	return -1;
}

static int add_as(struct shmkit_waitset *ws, void *handle, void *target, int kind,
		  uint64_t room, void *udata)
{
	struct member *m;

	if (find(ws, handle) >= 0)
		return -EEXIST;
	disarm(ws);	/* an armed vector without the new member would miss it */
	if (ws->n == SHMKIT_WAITSET_MAX)
		return -ENOSPC;
	m = &ws->m[ws->n];
	*m = (struct member){ .handle = handle, .target = target, .udata = udata, .kind = kind,
			      .room = room };
	if (kind == MEMBER_CHAN)
		__shmkit_chan_sleep_words(target, &m->words);
	else if (kind == MEMBER_PUB)
		__shmkit_pub_sleep_words(target, &m->words);
	else if (kind == MEMBER_SUB)
		__shmkit_sub_sleep_words(target, &m->words);
	else
		__shmkit_inbox_sleep_words(target, &m->words);
	ws->n++;
	return 0;
}

static int add(struct shmkit_waitset *ws, void *handle, int kind, uint64_t room, void *udata)
{
	return add_as(ws, handle, handle, kind, room, udata);
}

SHMKIT_EXPORT
int shmkit_waitset_add_chan(struct shmkit_waitset *ws, struct shmkit_chan *ch, size_t room,
			    void *udata)
{
	if (!ws || !ch)
		return -EINVAL;
	if (!__shmkit_chan_is_producer(ch) && room)
		return -EINVAL;
	if (room > shmkit_chan_max_msg(ch))
		return -EMSGSIZE;
	return add(ws, ch, MEMBER_CHAN, room, udata);
}

SHMKIT_EXPORT
int shmkit_waitset_add_pub(struct shmkit_waitset *ws, struct shmkit_pub *pub, void *udata)
{
	if (!ws || !pub)
		return -EINVAL;
	return add(ws, pub, MEMBER_PUB, 0, udata);
}

SHMKIT_EXPORT
int shmkit_waitset_add_sub(struct shmkit_waitset *ws, struct shmkit_sub *sub, void *udata)
{
	if (!ws || !sub)
		return -EINVAL;
	return add(ws, sub, MEMBER_SUB, 0, udata);
}

SHMKIT_EXPORT
int shmkit_waitset_add_inbox(struct shmkit_waitset *ws, struct shmkit_inbox *ib, void *udata)
{
	if (!ws || !ib)
		return -EINVAL;
	return add(ws, ib, MEMBER_INBOX, 0, udata);
}

SHMKIT_EXPORT
int shmkit_waitset_add_service(struct shmkit_waitset *ws, struct shmkit_service *srv,
			       void *udata)
{
	if (!ws || !srv)
		return -EINVAL;
	return add_as(ws, srv, __shmkit_service_inbox(srv), MEMBER_INBOX, 0, udata);
}

SHMKIT_EXPORT
int shmkit_waitset_add_client(struct shmkit_waitset *ws, struct shmkit_client *cl, void *udata)
{
	if (!ws || !cl)
		return -EINVAL;
	return add_as(ws, cl, __shmkit_client_replies(cl), MEMBER_CHAN, 0, udata);
}

SHMKIT_EXPORT
int shmkit_waitset_del(struct shmkit_waitset *ws, const void *handle)
{
	int i;

	if (!ws || !handle)
		return -EINVAL;
	if ((i = find(ws, handle)) < 0)
		return -ENOENT;
	disarm(ws);
	/* events kept for it are void now */
	for (int k = 0; k < ws->npend;) {
		if (ws->pend_handle[k] != handle) {
			k++;
			continue;
		}
		ws->npend--;
		memmove(ws->pend + k, ws->pend + k + 1, (size_t)(ws->npend - k) * sizeof(ws->pend[0]));
		memmove(ws->pend_handle + k, ws->pend_handle + k + 1,
			(size_t)(ws->npend - k) * sizeof(void *));
	}
	/* keep the order: the turn of the others stays as it was */
	memmove(&ws->m[i], &ws->m[i + 1], (size_t)(ws->n - i - 1) * sizeof(ws->m[0]));
	ws->n--;
	if (ws->next > i)
		ws->next--;
	if (ws->next >= ws->n)
		ws->next = 0;
	return 0;
}

SHMKIT_EXPORT
int shmkit_waitset_set_spin(struct shmkit_waitset *ws, int spin_us)
{
	if (!ws || spin_us < -1 || spin_us > SHMKIT_SPIN_MAX_US)
		return -EINVAL;
	ws->spin_ns = spin_us < 0 ? SPIN_NS : (uint64_t)spin_us * 1000u;
	return 0;
}

/* ------------------------------------------------------------------ wait */

static int poll_member(struct member *m, int look)
{
	switch (m->kind) {
	case MEMBER_CHAN:
		return __shmkit_chan_poll(m->target, m->room, look);
	case MEMBER_PUB:
		return __shmkit_pub_poll(m->target, look);
	case MEMBER_SUB:
		return __shmkit_sub_poll(m->target, look);
	default:
		return __shmkit_inbox_poll(m->target, look);
	}
}

/*
 * Polls each member once, from ws->next on, into up to max events; the
 * next scan starts after the last member reported. With now set, members
 * not looked at for PEER_CHECK_NS also get a look at their peer's life:
 * one /proc look per member per period, however often the set waits.
 */
static int scan_into(struct shmkit_waitset *ws, struct shmkit_event *ev, void **handles,
		     int max, uint64_t now)
{
	int got = 0, last = 0, i = ws->next, r;

	for (int k = 0; k < ws->n && got < max; k++, i = i + 1 == ws->n ? 0 : i + 1) {
		struct member *m = &ws->m[i];
		int look = now && now - m->looked >= PEER_CHECK_NS;

		if (look)
			m->looked = now;
		if (!(r = poll_member(m, look)))
			continue;
		ev[got].udata = m->udata;
		ev[got].status = r > 0 ? 0 : r;
		if (handles)
			handles[got] = m->handle;
		got++;
		last = i;
	}
	if (got)
		ws->next = last + 1 == ws->n ? 0 : last + 1;
	return got;
}

static int scan(struct shmkit_waitset *ws, struct shmkit_event *ev, int max, uint64_t now)
{
	return scan_into(ws, ev, NULL, max, now);
}

/* Sleeps until one of the words moves, or ns pass (< 0: no limit). */
static void sleep_on(struct shmkit_waitset *ws, _Atomic uint32_t *const *words,
		     const uint32_t *vals, int64_t ns)
{
	int n = ws->n, r, i;

	if (n > 1 && !__shmkit_waitset_no_waitv && !atomic_load_explicit(&waitv_missing,
									memory_order_relaxed)) {
		r = __shmkit_futex_waitv(words, vals, n, ns);
		/* seccomp sandboxes answer calls they do not know with EPERM */
		if (r != -ENOSYS && r != -EPERM)
			return;
		atomic_store_explicit(&waitv_missing, 1, memory_order_relaxed);
	}
	i = n > 1 ? (int)(ws->turn++ % (unsigned)n) : 0;
	if (n > 1 && (ns < 0 || ns > FALLBACK_SLICE_NS))
		ns = FALLBACK_SLICE_NS;
	__shmkit_futex_wait(words[i], vals[i], ns);
}

/*
 * Announces a sleep on every member, re-checks them all, and sleeps if
 * none is ready (the handshake: see the top of this file). Returns the
 * events found, after the sleep or instead of it.
 */
static void announce(struct shmkit_waitset *ws, _Atomic uint32_t **words, uint32_t *vals)
{
	for (int i = 0; i < ws->n; i++) {
		struct __shmkit_sleep_words *w = &ws->m[i].words;

		/* S1, W1, W3: the sequence before the flag, and the acquire
		   keeps it there: were the flag's store seen first, a waker
		   still busy with our previous sleep could clear the new
		   flag and bump the sequence we then read, and the next
		   message's waker would find no flag (model: ws-weak-sq) */
		vals[i] = shmkit_load_acquire(w->seq);
		words[i] = w->seq;
		shmkit_store_relaxed(w->flag, 1);
		/* each announcement allows one wake: wakes <= sleeps holds */
		__shmkit_count(w->sleeps, 1);
	}
	/* S1, W1, W3: every flag before every re-check; pairs with the
	   members' wakers (S2, W2, W3) */
	shmkit_smp_mb();
}

/* Lowers the flags we may lower (a shared one is the waker's to clear). */
static void unannounce(struct shmkit_waitset *ws)
{
	for (int i = 0; i < ws->n; i++)
		if (!ws->m[i].words.shared)
			shmkit_store_relaxed(ws->m[i].words.flag, 0);
}

static int sleep_all(struct shmkit_waitset *ws, struct shmkit_event *ev, int max, int64_t ns)
{
	_Atomic uint32_t *words[SHMKIT_WAITSET_MAX];
	uint32_t vals[SHMKIT_WAITSET_MAX];
	int got;

	announce(ws, words, vals);
	/* the re-check sees closes (they bump the sequence after closed),
	   not deaths: those need /proc, and the slice bounds them */
	got = scan(ws, ev, max, 0);
	if (!got) {
		sleep_on(ws, words, vals, ns);
		got = scan(ws, ev, max, 0);
	}
	unannounce(ws);
	return got;
}

/* ------------------------------------------------------------ the fd */

/* Ends an armed wait of the descriptor, if any, and lowers the flags. */
static void disarm(struct shmkit_waitset *ws)
{
	if (!ws->armed)
		return;
	__shmkit_waitfd_disarm(ws->wf);
	unannounce(ws);
	ws->armed = 0;
}

SHMKIT_EXPORT
int shmkit_waitset_fd(struct shmkit_waitset *ws)
{
	int err;

	if (!ws)
		return -EINVAL;
	if (!ws->wf && (err = __shmkit_waitfd_open(__shmkit_waitset_thread_fd, &ws->wf)) < 0)
		return err;
	return __shmkit_waitfd_fd(ws->wf);
}

SHMKIT_EXPORT
int shmkit_waitset_arm(struct shmkit_waitset *ws)
{
	_Atomic uint32_t *words[SHMKIT_WAITSET_MAX];
	uint32_t vals[SHMKIT_WAITSET_MAX];
	int got, err;

	if (!ws || !ws->wf)
		return -EINVAL;
	disarm(ws);
	if (ws->npend)
		return 1;
	if (ws->n == 0)
		return 0;	/* nothing can wake it: the descriptor stays quiet */
	announce(ws, words, vals);
	/*
	 * The re-check, as before a sleep. What it finds is kept for the
	 * next wait: a poll may have acted on it (a subscriber's loss is
	 * reported once), so it must not be found again and lost.
	 */
	if ((got = scan_into(ws, ws->pend, ws->pend_handle, SHMKIT_WAITSET_MAX, 0))) {
		ws->npend = got;
		unannounce(ws);
		return 1;
	}
	if ((err = __shmkit_waitfd_arm(ws->wf, words, vals, ws->n)) < 0) {
		unannounce(ws);
		return err;
	}
	ws->armed = 1;
	return 0;
}

const char *__shmkit_waitset_fd_kind(const struct shmkit_waitset *ws)
{
	return ws->wf ? __shmkit_waitfd_kind(ws->wf) : "none";
}

/* Events arm kept: up to max of them, the rest for the next wait. */
static int take_pending(struct shmkit_waitset *ws, struct shmkit_event *ev, int max)
{
	int got = ws->npend < max ? ws->npend : max;

	memcpy(ev, ws->pend, (size_t)got * sizeof(*ev));
	ws->npend -= got;
	memmove(ws->pend, ws->pend + got, (size_t)ws->npend * sizeof(*ev));
	memmove(ws->pend_handle, ws->pend_handle + got, (size_t)ws->npend * sizeof(void *));
	return got;
}

/* A set with no members waits out its timeout; for ever would never end. */
static int wait_empty(int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };

	if (timeout_ms < 0)
		return -EINVAL;
	if (timeout_ms == 0)
		return -EAGAIN;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return -ETIMEDOUT;
}

SHMKIT_EXPORT
int shmkit_waitset_wait(struct shmkit_waitset *ws, struct shmkit_event *ev, int max,
			int timeout_ms)
{
	uint64_t start, now, deadline, next_look;
	int64_t slice;
	int got;

	if (!ws || !ev || max < 1)
		return -EINVAL;
	disarm(ws);
	if (ws->npend)
		return take_pending(ws, ev, max);
	if (ws->n == 0)
		return wait_empty(timeout_ms);
	if ((got = scan(ws, ev, max, 0)))
		return got;
	start = __shmkit_now_ns();
	if (timeout_ms == 0)
		return (got = scan(ws, ev, max, start)) ? got : -EAGAIN;
	deadline = timeout_ms < 0 ? UINT64_MAX : start + (uint64_t)timeout_ms * 1000000u;
	next_look = start;
	for (unsigned i = 1;; i++) {
		if ((got = scan(ws, ev, max, 0)))
			return got;
		cpu_relax();
		/* the clock costs tens of ns: read it every 64 polls while spinning */
		if (ws->spin_ns && i % 64)
			continue;
		now = __shmkit_now_ns();
		if (now >= next_look) {
			if ((got = scan(ws, ev, max, now)))
				return got;
			next_look = now + PEER_CHECK_NS;
		}
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now - start < ws->spin_ns)
			continue;
		/* the tests' -1 (no slice) holds here too */
		slice = __shmkit_chan_sleep_slice_ns < 0 ? -1 : SLICE_NS;
		if (deadline != UINT64_MAX && (slice < 0 || deadline - now < (uint64_t)slice))
			slice = (int64_t)(deadline - now);
		if ((got = sleep_all(ws, ev, max, slice)))
			return got;
		next_look = 0;	/* woken without news: perhaps a slice's end */
	}
}
