/*
 * Inbox and service crashes: one process of a live inbox or service is
 * killed with SIGKILL at a random moment, trial after trial.
 *
 * Inboxes: 3 producers stream tagged messages (tag = producer id << 40 |
 * seq) into one inbox of 4 lanes and one consumer reads them. Producers
 * reserve, fill in chunks and commit; the consumer peeks, checks and
 * releases. The side a trial will kill pauses (sleeps) between its
 * chunks, or while it holds a message, so it is nearly always in the
 * middle of one, and that is where most kills land (the test counts
 * them); one trial pair in four runs flat out, so kills land anywhere
 * else too. Trials alternate the victim:
 *  - A producer. The others are neither blocked nor stalled: each gets
 *    PROGRESS more messages through before anything else happens. Its
 *    lane is freed: the next join takes it (the lowest free lane, though
 *    a never used one is free above it), and on that lane the successor's
 *    messages follow the dead one's. Everything the dead one committed
 *    is delivered exactly once and in order; its message in progress
 *    never is (if it died inside the commit call, that message may or may
 *    not count as committed: it is delivered whole or not at all).
 *  - The consumer. Each producer, once its lane is full, gets
 *    -SHMKIT_EPEERDEAD. A new consumer takes the inbox at once, and gets
 *    every message the old one did not release, exactly once and in
 *    order per producer. Precisely: the old one records, per producer,
 *    how many messages it released, and which producer's message it held
 *    (peeked, release not yet recorded). The new one's first message
 *    from every producer is the one after those released; only from the
 *    held producer may it be one later (the release was done, its record
 *    not), and when it is not, the held message has come a second time.
 * In every trial every message delivered is whole (every byte checked),
 * of its length, in order per producer with no gap, and from one lane per
 * producer; at the end each survivor's messages all came, exactly once.
 *
 * Services: 3 clients, each with 3 requests out at a time, and a server
 * that peeks a request, reserves a reply, fills it in slow chunks,
 * commits it, and only then releases the request.
 *  - A client killed (mostly mid-request). The server goes on serving
 *    the others (PROGRESS more replies each); its replies fail only to
 *    the dead client. The lane is freed: the next client gets it, with
 *    replies to the dead one in its ring or still on their way (counted:
 *    those unread when it opens, those sent after the kill), and never
 *    sees one of them:
 *    every reply it gets answers one of its own requests, in order. The
 *    server got every request the dead client committed, and never its
 *    request in progress.
 *  - The server killed (mostly mid-reply). Every client's wait ends with
 *    -SHMKIT_EPEERDEAD. A new server takes over and answers the rest:
 *    every request gets its reply, whole and in order, and its half
 *    written reply is never seen. At most one reply comes twice: the one
 *    the dead server had committed and not yet released the request of.
 *
 * First, exactly: a producer killed with the consumer's wake-up half done
 * (after it took the sleeping flag, before the futex call) stalls a live
 * producer's message until the consumer's sleep slice (20 ms) ends, not
 * longer (the test allows 1 s); a killed producer's lane is
 * free while the dead one is still a zombie; and producers racing for the
 * one lane a death freed: exactly one gets it, the others -EBUSY.
 *
 * Every process has an alarm, every wait of the parent a deadline (no
 * timing is asserted but these generous bounds, and the slice bound).
 * t_scale(100) inbox trials (1,000 under make stress), t_scale(10) of each
 * kind of service trial.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "inbox.h"

#define LANES 4			/* one more than the producers: a free lane above */
#define PRODUCERS 3		/* ids 1..3 */
#define NEXT_ID 4		/* the dead producer's (or client's) successor */
#define MAX_ID 4
#define LANE_CAP 4096
#define AFTER 300		/* messages (requests) the successor sends, then closes */
#define PROGRESS 50		/* what each survivor must get through after a kill */
#define SEQ_BITS 40
#define TAG(id, seq) ((uint64_t)(id) << SEQ_BITS | (seq))
#define REPLY_BIT (1ull << 39)	/* a reply's tag: its request's, with this bit */
#define WINDOW 3		/* requests a client keeps out */
#define DEADLINE_NS (20ull * 1000000000u)	/* any one wait of the parent */

/* Where a producer (client) or a server is in its message. */
enum { IDLE, FILLING, COMMITTING, REPLIED };

struct side {
	_Atomic int joined;
	_Atomic int lane;		/* which it took, as shmkit_inbox_info says */
	_Atomic int state;
	_Atomic uint64_t committed;	/* messages whose commit returned */
	_Atomic uint64_t replies;	/* a client: replies received */
	_Atomic int peerdead;		/* saw -SHMKIT_EPEERDEAD */
	_Atomic int dups;		/* a client: replies that came twice */
	_Atomic uint64_t dup_id;
	_Atomic uint64_t inherited;	/* a client: replies to another in its ring at open */
};

struct reader {
	_Atomic int opened;
	/* per producer (client) id: messages released, so the next one's seq */
	_Atomic uint64_t got[MAX_ID + 1];
	_Atomic int held;		/* id whose message is peeked, not recorded released */
	_Atomic uint64_t held_seq;	/* a server: that request's seq */
	_Atomic int state;		/* a server: IDLE, FILLING, COMMITTING, REPLIED */
	_Atomic uint64_t fails[MAX_ID + 1];	/* a server: replies refused, per client */
	_Atomic uint64_t stale;		/* a server: replies sent to a client killed */
	_Atomic int redelivered;	/* a successor got the held message again */
};

struct shared {
	char name[64];
	int shmid;
	_Atomic int stop;		/* producers (clients): end after the message in hand */
	_Atomic int drain;		/* the reader: every writer has ended */
	_Atomic int killed;		/* the client with this id is dead */
	/* the pauses: a writer's between chunks, the reader's while it holds
	   a message, a server's between its reply's chunks */
	unsigned fill_us, hold_us, reply_us;
	struct side p[MAX_ID + 1];
	struct reader r;
	/* the half-done wake trial */
	_Atomic int go;
	_Atomic uint64_t woke_ns;
	_Atomic int won, busy;
};

static struct shared *sh;

static size_t msg_len(uint64_t tag)
{
	return 8 + (size_t)(t_mix(tag) % 700);	/* 8: the tag must fit */
}

/*
 * A pause in the middle of a message: a sleep, so that the side whose
 * victim is wanted sits mid-message most of the time without taking the
 * cpus from the others (two, shared).
 */
static void pause_us(unsigned us)
{
	if (us)
		usleep(us);
}

/* Fills len bytes at w with message tag, in CHUNKS pieces, us apart. */
#define CHUNKS 4
static void fill_slowly(void *w, size_t len, uint64_t tag, unsigned us)
{
	unsigned char buf[1024];
	size_t step = (len + CHUNKS - 1) / CHUNKS;

	payload_fill(buf, len, tag);
	for (size_t off = 0; off < len; off += step) {
		memcpy((char *)w + off, buf + off, len - off < step ? len - off : step);
		pause_us(us);
	}
}

/* Checks a message as it lies (tag, length, every byte), taking us to do it. */
static uint64_t check_msg(const void *p, size_t len, unsigned us)
{
	uint64_t t = payload_tag(p, len);

	if (len < 8 || len != msg_len(t))
		t_fail(__FILE__, __LINE__, "a message of %zu bytes, tag %#llx: not one of ours",
		       len, (unsigned long long)t);
	pause_us(us);
	T_PAYLOAD(p, len, t);
	return t;
}

static int id_of(uint64_t tag)
{
	uint64_t id = tag >> SEQ_BITS;

	if (id < 1 || id > MAX_ID)
		t_fail(__FILE__, __LINE__, "tag %#llx names no writer", (unsigned long long)tag);
	return (int)id;
}

/*
 * A reader's check of the seq of a message from id: the next one, or,
 * for a successor's first from the held id, possibly one later (the old
 * reader released it but died before recording so).
 */
static void check_seq(int id, uint64_t seq, int successor, int held, int *first)
{
	uint64_t next = atomic_load(&sh->r.got[id]);

	if (successor && !first[id]) {
		first[id] = 1;
		if (held == id) {
			if (seq == next + 1)
				next = seq;
			else if (seq == next)
				atomic_store(&sh->r.redelivered, 1);
		}
	}
	if (seq != next)
		t_fail(__FILE__, __LINE__, "writer %d: got seq %llu, expected %llu%s", id,
		       (unsigned long long)seq, (unsigned long long)next,
		       successor ? " (a successor)" : "");
}

/* ---------------------------------------------------------------- inbox */

/*
 * The lane pid holds in inbox (service) shmid, or -1; and in *unread, if
 * not NULL, the replies in that lane's reply ring nobody has read.
 */
static int lane_of_pid(int shmid, pid_t pid, uint64_t *unread)
{
	struct shmkit_inbox_lane_info li[LANES];
	struct shmkit_inbox_info info;

	T_OK(shmkit_inbox_info(shmid, &info, li, LANES));
	for (uint32_t k = 0; k < info.listed && k < LANES; k++) {
		if (li[k].pid != pid)
			continue;
		if (unread)
			*unread = li[k].replies_sent - li[k].replies_read;
		return (int)li[k].lane;
	}
	return -1;
}

/* Producer id: until stop (limit 0) or limit messages; then closes. */
static _Noreturn void produce(int id, uint64_t limit)
{
	struct side *me = &sh->p[id];
	struct shmkit_chan *ch;
	int r;

	alarm(120);
	/* a dead producer's lane is free at once: no -EBUSY to wait out */
	T_OK(shmkit_inbox_join(sh->name, 0, &ch));
	atomic_store(&me->lane, lane_of_pid(sh->shmid, getpid(), NULL));
	atomic_store(&me->joined, 1);
	for (uint64_t seq = 0; limit ? seq < limit : !atomic_load(&sh->stop); seq++) {
		uint64_t tag = TAG(id, seq);
		size_t len = msg_len(tag);
		void *w;

		while ((r = shmkit_chan_reserve(ch, len, &w, 10000)) == -SHMKIT_EPEERDEAD) {
			atomic_store(&me->peerdead, 1);
			usleep(500);	/* for a new consumer */
		}
		T_OK(r);
		atomic_store(&me->state, FILLING);
		fill_slowly(w, len, tag, sh->fill_us);
		atomic_store(&me->state, COMMITTING);
		T_OK(shmkit_chan_commit(ch, len));
		atomic_store(&me->committed, seq + 1);
		atomic_store(&me->state, IDLE);
	}
	T_OK(shmkit_chan_close(ch));
	_exit(0);
}

/* The consumer; a successor checks its first messages against the record. */
static _Noreturn void consume(int successor)
{
	int first[MAX_ID + 1] = { 0 }, lane_of[MAX_ID + 1] = { 0 }, last_on[LANES] = { 0 };
	/* what the dead one held, before we write over it */
	int held = atomic_load(&sh->r.held);
	struct shmkit_inbox *ib;
	const void *p;
	size_t len;
	int r;

	alarm(120);
	/* a dead consumer's place is free at once */
	T_OK(shmkit_inbox_open(sh->name, 0, &ib));
	atomic_store(&sh->r.opened, 1);
	for (;;) {
		uint64_t tag;
		int id, lane;

		r = shmkit_inbox_peek(ib, &p, &len, 100);
		if (r == -ETIMEDOUT && atomic_load(&sh->drain))
			break;	/* every producer closed, and their lanes are empty */
		if (r == -ETIMEDOUT)
			continue;
		T_OK(r);
		/* held from the peek on: what a successor may get again */
		id = id_of(payload_tag(p, len));
		atomic_store(&sh->r.held, id);
		tag = check_msg(p, len, sh->hold_us);
		lane = shmkit_inbox_from(ib);
		T_ASSERT(lane >= 0 && lane < LANES);
		/* a producer keeps its lane; a lane passes only to a later id */
		if (lane_of[id] && lane_of[id] != lane + 1)
			t_fail(__FILE__, __LINE__, "producer %d on lanes %d and %d", id,
			       lane_of[id] - 1, lane);
		lane_of[id] = lane + 1;
		if (id < last_on[lane])
			t_fail(__FILE__, __LINE__, "lane %d: producer %d after %d", lane, id,
			       last_on[lane]);
		last_on[lane] = id;
		check_seq(id, tag & ((1ull << SEQ_BITS) - 1), successor, held, first);
		T_OK(shmkit_inbox_release(ib));
		atomic_store(&sh->r.got[id], (tag & ((1ull << SEQ_BITS) - 1)) + 1);
		atomic_store(&sh->r.held, 0);
	}
	T_OK(shmkit_inbox_close(ib));
	_exit(0);
}

/* Reaps pid within DEADLINE_NS; its status as t_wait gives it. */
static int reap(pid_t pid, const char *what)
{
	uint64_t t0 = t_now_ns();
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		T_ASSERT(r >= 0);
		if (r == pid)
			return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
		if (t_now_ns() - t0 > DEADLINE_NS)
			t_fail(__FILE__, __LINE__, "%s (pid %d) hung", what, (int)pid);
		usleep(1000);
	}
}

/* Waits until cond(arg) holds, DEADLINE_NS at most; what says what for. */
#define WAIT_FOR(cond, what) \
	do { uint64_t t0_ = t_now_ns(); \
	     while (!(cond)) { \
		if (t_now_ns() - t0_ > DEADLINE_NS) \
			t_fail(__FILE__, __LINE__, "waited 20 s for %s", (what)); \
		usleep(200); } } while (0)

static pid_t spawn_producer(int id, uint64_t limit)
{
	pid_t pid = t_child();

	if (pid == 0)
		produce(id, limit);
	WAIT_FOR(atomic_load(&sh->p[id].joined), "a producer to join");
	return pid;
}

static pid_t spawn_consumer(int successor)
{
	pid_t pid;

	atomic_store(&sh->r.opened, 0);
	if ((pid = t_child()) == 0)
		consume(successor);
	WAIT_FOR(atomic_load(&sh->r.opened), "the consumer to open");
	return pid;
}

static struct {
	unsigned trials[2], mid[2], commit_kills, redelivered, fast;
} ist;

/* Every survivor id in [1, n] but skip gets PROGRESS more through. */
static void progress(int n, int skip, const char *what)
{
	uint64_t base[MAX_ID + 1];

	for (int id = 1; id <= n; id++)
		base[id] = atomic_load(&sh->r.got[id]);
	for (int id = 1; id <= n; id++)
		if (id != skip)
			WAIT_FOR(atomic_load(&sh->r.got[id]) >= base[id] + PROGRESS, what);
}

static void inbox_trial(unsigned t, int kill_consumer)
{
	pid_t prod[MAX_ID + 1], cons, victim_pid;
	int shmid, victim = 0, state = IDLE, vlane = -1;
	uint64_t committed = 0;

	memset(sh, 0, sizeof(*sh));
	t_name(sh->name, sizeof(sh->name), "ibcrash");
	shmid = t_track(shmkit_inbox_create(sh->name, LANES, LANE_CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmid);
	sh->shmid = shmid;
	/*
	 * The victim's side is the slow one: there it is mid-message nearly
	 * all the time. One trial pair in four runs flat out, so that kills
	 * land anywhere else too (inside a wait, a commit, a release, a wake).
	 */
	if (t / 2 % 4 == 3)
		ist.fast++;
	else if (kill_consumer)
		sh->hold_us = 100;
	else
		sh->fill_us = 50;
	cons = spawn_consumer(0);
	for (int id = 1; id <= PRODUCERS; id++)
		prod[id] = spawn_producer(id, 0);
	usleep((useconds_t)(t_rand() % 20000));
	ist.trials[kill_consumer]++;
	if (kill_consumer) {
		int held;

		T_OK(kill(cons, SIGKILL));
		T_EQ(reap(cons, "the consumer"), 128 + SIGKILL);
		held = atomic_load(&sh->r.held);
		ist.mid[1] += held != 0;
		/* every producer fills its lane, and then sees the death */
		for (int id = 1; id <= PRODUCERS; id++)
			WAIT_FOR(atomic_load(&sh->p[id].peerdead), "a producer to see -EPEERDEAD");
		cons = spawn_consumer(1);
		progress(PRODUCERS, 0, "the new consumer's progress");
		ist.redelivered += atomic_load(&sh->r.redelivered);
	} else {
		victim = 1 + (int)(t_rand() % PRODUCERS);
		victim_pid = prod[victim];
		vlane = atomic_load(&sh->p[victim].lane);
		T_ASSERT(vlane >= 0);
		T_OK(kill(victim_pid, SIGKILL));
		T_EQ(reap(victim_pid, "the victim"), 128 + SIGKILL);
		state = atomic_load(&sh->p[victim].state);
		committed = atomic_load(&sh->p[victim].committed);
		ist.mid[0] += state != IDLE;
		ist.commit_kills += state == COMMITTING;
		/* the others are neither blocked nor stalled */
		progress(PRODUCERS, victim, "the survivors' progress after a producer's death");
		/* the lowest free lane is the dead one's, though lane 3 was never used */
		prod[NEXT_ID] = spawn_producer(NEXT_ID, AFTER);
		T_EQ(atomic_load(&sh->p[NEXT_ID].lane), vlane);
		T_EQ(reap(prod[NEXT_ID], "the successor"), 0);
	}
	atomic_store(&sh->stop, 1);
	for (int id = 1; id <= PRODUCERS; id++)
		if (id != victim)
			T_EQ(reap(prod[id], "a producer"), 0);
	atomic_store(&sh->drain, 1);
	T_EQ(reap(cons, "the consumer"), 0);
	/* exactly once each: every message committed, none other */
	for (int id = 1; id <= PRODUCERS; id++) {
		uint64_t got = atomic_load(&sh->r.got[id]);

		if (id != victim) {
			T_EQ(got, atomic_load(&sh->p[id].committed));
			continue;
		}
		/* the message in progress: not committed, unless inside commit */
		if (got != committed && !(state == COMMITTING && got == committed + 1))
			t_fail(__FILE__, __LINE__, "trial %u: the dead producer committed %llu "
			       "(state %d), %llu delivered", t, (unsigned long long)committed, state,
			       (unsigned long long)got);
	}
	if (!kill_consumer)
		T_EQ(atomic_load(&sh->r.got[NEXT_ID]), AFTER);
	T_OK(shmkit_inbox_destroy(sh->name));
}

/* -------------------------------------------------------------- service */

/* Client id: WINDOW requests out; until stop (limit 0) or limit requests. */
static _Noreturn void client(int id, uint64_t limit)
{
	struct side *me = &sh->p[id];
	struct shmkit_client *cl;
	uint64_t sent = 0, answered = 0, last = 0, rid, unread = 0;
	unsigned char buf[1024];
	size_t len;
	int r;

	alarm(120);
	T_OK(shmkit_client_open(sh->name, 0, &cl));
	/* replies its lane's last client left unread: none may reach us */
	atomic_store(&me->lane, lane_of_pid(sh->shmid, getpid(), &unread));
	atomic_store(&me->inherited, unread);
	atomic_store(&me->joined, 1);
	for (;;) {
		while (sent - answered < WINDOW && (limit ? sent < limit : !atomic_load(&sh->stop))) {
			uint64_t tag = TAG(id, sent);
			size_t n = msg_len(tag);
			void *w;

			while ((r = shmkit_client_reserve(cl, n, &w, 10000)) == -SHMKIT_EPEERDEAD) {
				atomic_store(&me->peerdead, 1);
				usleep(500);
			}
			T_OK(r);
			atomic_store(&me->state, FILLING);
			fill_slowly(w, n, tag, sh->fill_us);
			atomic_store(&me->state, COMMITTING);
			T_OK(shmkit_client_commit(cl, n, &rid));
			T_EQ(rid, sent + 1);	/* numbers from 1, one a request */
			atomic_store(&me->committed, ++sent);
			atomic_store(&me->state, IDLE);
		}
		if (sent == answered)
			break;
		r = shmkit_client_recv(cl, buf, sizeof(buf), &len, &rid, 10000);
		if (r == -SHMKIT_EPEERDEAD) {
			atomic_store(&me->peerdead, 1);
			usleep(500);	/* for a new server */
			continue;
		}
		T_OK(r);
		if (rid && rid == last) {
			/* the dead server's last: answered again by its successor */
			T_PAYLOAD(buf, len, TAG(id, rid - 1) | REPLY_BIT);
			atomic_fetch_add(&me->dups, 1);
			atomic_store(&me->dup_id, rid);
			continue;
		}
		if (rid != answered + 1)
			t_fail(__FILE__, __LINE__, "client %d: reply to %llu, expected %llu", id,
			       (unsigned long long)rid, (unsigned long long)answered + 1);
		if (len != msg_len(TAG(id, answered)))
			t_fail(__FILE__, __LINE__, "client %d: reply of %zu bytes", id, len);
		T_PAYLOAD(buf, len, TAG(id, answered) | REPLY_BIT);
		last = rid;
		atomic_store(&me->replies, ++answered);
	}
	T_OK(shmkit_client_close(cl));
	_exit(0);
}

/* The server: peek, reply in slow chunks, commit, and only then release. */
static _Noreturn void serve(int successor)
{
	int first[MAX_ID + 1] = { 0 }, lane_of[MAX_ID + 1] = { 0 };
	int held = atomic_load(&sh->r.held);
	struct shmkit_service *srv;
	struct shmkit_request req;
	const void *p;
	size_t len;
	int r;

	alarm(120);
	T_OK(shmkit_service_open(sh->name, 0, &srv));
	atomic_store(&sh->r.opened, 1);
	for (;;) {
		uint64_t tag, seq;
		void *w;
		int id;

		r = shmkit_service_peek(srv, &p, &len, &req, 100);
		if (r == -ETIMEDOUT && atomic_load(&sh->drain))
			break;
		if (r == -ETIMEDOUT)
			continue;
		T_OK(r);
		id = id_of(payload_tag(p, len));
		atomic_store(&sh->r.held_seq, payload_tag(p, len) & ((1ull << SEQ_BITS) - 1));
		atomic_store(&sh->r.held, id);
		tag = check_msg(p, len, sh->hold_us);
		seq = tag & ((1ull << SEQ_BITS) - 1);
		T_EQ(req.id, seq + 1);
		if (lane_of[id] && lane_of[id] != (int)req.client + 1)
			t_fail(__FILE__, __LINE__, "client %d on lanes %d and %u", id, lane_of[id] - 1,
			       req.client);
		lane_of[id] = (int)req.client + 1;
		check_seq(id, seq, successor, held, first);
		r = shmkit_service_reserve(srv, &req, len, &w, 10000);
		if (r == -EPIPE || r == -SHMKIT_EPEERDEAD) {
			/* the client has gone: closed, died, or its lane changed hands */
			atomic_fetch_add(&sh->r.fails[id], 1);
		} else {
			T_OK(r);
			atomic_store(&sh->r.state, FILLING);
			fill_slowly(w, len, tag | REPLY_BIT, sh->reply_us);
			atomic_store(&sh->r.state, COMMITTING);
			T_OK(shmkit_service_commit(srv, len));
			atomic_store(&sh->r.state, REPLIED);
			if (atomic_load(&sh->killed) == id)
				atomic_fetch_add(&sh->r.stale, 1);
		}
		T_OK(shmkit_service_release(srv));
		atomic_store(&sh->r.got[id], seq + 1);
		atomic_store(&sh->r.held, 0);
		atomic_store(&sh->r.state, IDLE);
	}
	T_OK(shmkit_service_close(srv));
	_exit(0);
}

static pid_t spawn_client(int id, uint64_t limit)
{
	pid_t pid = t_child();

	if (pid == 0)
		client(id, limit);
	WAIT_FOR(atomic_load(&sh->p[id].joined), "a client to open");
	return pid;
}

static pid_t spawn_server(int successor)
{
	pid_t pid;

	atomic_store(&sh->r.opened, 0);
	if ((pid = t_child()) == 0)
		serve(successor);
	WAIT_FOR(atomic_load(&sh->r.opened), "the server to open");
	return pid;
}

/* Replies each client in [1, n] but skip has received. */
static void client_progress(int n, int skip, const char *what)
{
	uint64_t base[MAX_ID + 1];

	for (int id = 1; id <= n; id++)
		base[id] = atomic_load(&sh->p[id].replies);
	for (int id = 1; id <= n; id++)
		if (id != skip)
			WAIT_FOR(atomic_load(&sh->p[id].replies) >= base[id] + PROGRESS, what);
}

static struct {
	unsigned trials[2], mid[2], stale, inherited, dups, refused, fast;
} sst;

static void service_trial(unsigned t, int kill_server)
{
	pid_t cli[MAX_ID + 1], srv, victim_pid;
	int shmid, victim = 0, state = IDLE, held = 0, vlane, nclients = PRODUCERS;
	uint64_t committed = 0, dups = 0, fails = 0, held_seq = 0;

	memset(sh, 0, sizeof(*sh));
	t_name(sh->name, sizeof(sh->name), "svcrash");
	/* every lane held: the dead client's is the only one free */
	shmid = t_track(shmkit_service_create(sh->name, PRODUCERS, LANE_CAP, SHMKIT_MODE_DEFAULT,
					      0));
	T_OK(shmid);
	sh->shmid = shmid;
	if (t / 2 % 4 == 3)
		sst.fast++;
	else if (kill_server)
		sh->reply_us = 50;
	else
		sh->fill_us = 50;
	srv = spawn_server(0);
	for (int id = 1; id <= nclients; id++)
		cli[id] = spawn_client(id, 0);
	usleep((useconds_t)(t_rand() % 20000));
	sst.trials[kill_server]++;
	if (kill_server) {
		T_OK(kill(srv, SIGKILL));
		T_EQ(reap(srv, "the server"), 128 + SIGKILL);
		state = atomic_load(&sh->r.state);
		held = atomic_load(&sh->r.held);
		held_seq = atomic_load(&sh->r.held_seq);
		sst.mid[1] += state == FILLING || state == COMMITTING;
		/* every client's wait for a reply ends so */
		for (int id = 1; id <= nclients; id++)
			WAIT_FOR(atomic_load(&sh->p[id].peerdead), "a client to see -EPEERDEAD");
		srv = spawn_server(1);
		client_progress(nclients, 0, "the clients' progress with a new server");
	} else {
		victim = 1 + (int)(t_rand() % nclients);
		victim_pid = cli[victim];
		vlane = atomic_load(&sh->p[victim].lane);
		T_ASSERT(vlane >= 0);
		atomic_store(&sh->killed, victim);
		T_OK(kill(victim_pid, SIGKILL));
		T_EQ(reap(victim_pid, "the victim"), 128 + SIGKILL);
		state = atomic_load(&sh->p[victim].state);
		committed = atomic_load(&sh->p[victim].committed);
		sst.mid[0] += state != IDLE;
		client_progress(nclients, victim, "the other clients' progress after a client's death");
		/* the lane is free (the only one), and the next client never sees
		   the dead one's replies: it checks every reply is its own */
		cli[NEXT_ID] = spawn_client(NEXT_ID, AFTER);
		T_EQ(atomic_load(&sh->p[NEXT_ID].lane), vlane);
		T_EQ(reap(cli[NEXT_ID], "the next client"), 0);
	}
	atomic_store(&sh->stop, 1);
	for (int id = 1; id <= nclients; id++)
		if (id != victim)
			T_EQ(reap(cli[id], "a client"), 0);
	atomic_store(&sh->drain, 1);
	T_EQ(reap(srv, "the server"), 0);
	for (int id = 1; id <= MAX_ID; id++) {
		dups += atomic_load(&sh->p[id].dups);
		fails += atomic_load(&sh->r.fails[id]);
		/* the server got each request once: a dup is a reply sent twice */
		if (id != victim)
			T_EQ(atomic_load(&sh->r.got[id]), atomic_load(&sh->p[id].committed));
	}
	if (kill_server) {
		/*
		 * One reply at most came twice (or, to a client that had closed
		 * before, was refused): the held request's, whose reply the
		 * dead server committed and whose release it did not make.
		 */
		T_ASSERT(dups + fails <= 1);
		if (dups) {
			int id = 1;

			while (!atomic_load(&sh->p[id].dups))
				id++;
			T_EQ(id, held);
			T_EQ(atomic_load(&sh->p[id].dup_id), held_seq + 1);
			T_ASSERT(state == COMMITTING || state == REPLIED);
		}
		sst.dups += (unsigned)dups;
	} else {
		uint64_t got = atomic_load(&sh->r.got[victim]);

		T_EQ(dups, 0);
		/* refused replies: only the dead client's */
		T_EQ(fails, atomic_load(&sh->r.fails[victim]));
		sst.refused += (unsigned)fails;
		sst.stale += (unsigned)atomic_load(&sh->r.stale);
		sst.inherited += (unsigned)atomic_load(&sh->p[NEXT_ID].inherited);
		if (got != committed && !(state == COMMITTING && got == committed + 1))
			t_fail(__FILE__, __LINE__, "trial %u: the dead client committed %llu "
			       "(state %d), the server got %llu", t, (unsigned long long)committed,
			       state, (unsigned long long)got);
	}
	T_OK(shmkit_service_destroy(sh->name));
}

/* ---------------------------------------------------------------- exact */

/* Joins and waits to be killed. */
static _Noreturn void join_and_wait(void)
{
	struct shmkit_chan *ch;

	T_OK(shmkit_inbox_join(sh->name, 0, &ch));
	atomic_fetch_add(&sh->p[0].joined, 1);
	pause();
	_exit(1);
}

/* A consumer that waits for one message with no timeout, and notes when. */
static _Noreturn void wait_one(void)
{
	struct shmkit_inbox *ib;
	char buf[64];
	size_t len;

	alarm(60);
	T_OK(shmkit_inbox_open(sh->name, 0, &ib));
	T_OK(shmkit_inbox_set_spin(ib, 0));	/* straight to sleep */
	atomic_store(&sh->r.opened, 1);
	T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, -1));
	atomic_store(&sh->woke_ns, t_now_ns());
	T_EQ(len, 4);
	T_ASSERT(memcmp(buf, "live", 4) == 0);
	T_OK(shmkit_inbox_close(ib));
	_exit(0);
}

/*
 * A producer killed inside I2, after it took the consumer's sleeping flag
 * and before its futex call: the consumer sleeps on with its flag down,
 * so a live producer's commit sees nobody to wake. The sleep's slice
 * (20 ms; set by default, and in the consumer here) bounds the stall:
 * the message is taken within it, not at the next join.
 */
static void half_done_wake(void)
{
	struct __shmkit_inbox_hdr *h;
	struct shmkit_chan *live;
	struct shmkit_map map;
	pid_t dying, cons;
	uint64_t sent;
	int shmid;

	memset(sh, 0, sizeof(*sh));
	t_name(sh->name, sizeof(sh->name), "ib-halfwake");
	shmid = t_track(shmkit_inbox_create(sh->name, 2, LANE_CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmid);
	T_OK(shmkit_seg_attach(shmid, 0, &map));
	h = (struct __shmkit_inbox_hdr *)map.data;
	if ((dying = t_child()) == 0)
		join_and_wait();
	WAIT_FOR(atomic_load(&sh->p[0].joined) == 1, "a producer to join");
	T_OK(shmkit_inbox_join(sh->name, 0, &live));
	if ((cons = t_child()) == 0)
		wait_one();
	/* the first half of the dying producer's wake (a sleep announced), then
	   its death; a slice's end may lower the flag first: wait for the next */
	WAIT_FOR(atomic_load(&sh->r.opened) && atomic_exchange(&h->cons_sleep.sleeping, 0),
		 "the consumer to sleep");
	T_OK(kill(dying, SIGKILL));
	T_EQ(reap(dying, "the dying producer"), 128 + SIGKILL);
	sent = t_now_ns();
	T_OK(shmkit_chan_send(live, "live", 4, 0));
	T_EQ(reap(cons, "the consumer"), 0);
	if (atomic_load(&sh->woke_ns) - sent > 1000000000u)
		t_fail(__FILE__, __LINE__, "a live producer's message waited %llu ms",
		       (unsigned long long)((atomic_load(&sh->woke_ns) - sent) / 1000000));
	printf("a half-done wake by a dead producer held a live one's message %.1f ms\n",
	       (double)(atomic_load(&sh->woke_ns) - sent) / 1e6);
	T_OK(shmkit_chan_close(live));
	T_OK(shmkit_seg_detach(&map));
	T_OK(shmkit_inbox_destroy(sh->name));
}

/* A killed producer's lane is free while the dead one is still a zombie. */
static void zombie_lane(void)
{
	struct shmkit_chan *ch, *other;
	siginfo_t si;
	pid_t holder;
	int shmid;

	memset(sh, 0, sizeof(*sh));
	t_name(sh->name, sizeof(sh->name), "ib-zombie");
	shmid = t_track(shmkit_inbox_create(sh->name, 1, LANE_CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmid);
	if ((holder = t_child()) == 0)
		join_and_wait();
	WAIT_FOR(atomic_load(&sh->p[0].joined) == 1, "a producer to join");
	T_EQ(shmkit_inbox_join(sh->name, 0, &other), -EBUSY);
	T_OK(kill(holder, SIGKILL));
	memset(&si, 0, sizeof(si));
	T_EQ(waitid(P_PID, (id_t)holder, &si, WEXITED | WNOWAIT), 0);
	T_OK(shmkit_inbox_join(sh->name, 0, &ch));
	T_EQ(lane_of_pid(shmid, getpid(), NULL), 0);
	T_EQ(reap(holder, "the holder"), 128 + SIGKILL);
	T_OK(shmkit_chan_close(ch));
	T_OK(shmkit_inbox_destroy(sh->name));
}

#define RACERS 6

static _Noreturn void race_to_join(void)
{
	struct shmkit_chan *ch;
	int r;

	while (atomic_load(&sh->go) == 0)
		;
	r = shmkit_inbox_join(sh->name, 0, &ch);
	if (r == -EBUSY) {
		atomic_fetch_add(&sh->busy, 1);
		_exit(0);
	}
	T_OK(r);
	atomic_fetch_add(&sh->won, 1);
	while (atomic_load(&sh->go) != 2)
		usleep(100);
	T_OK(shmkit_chan_close(ch));
	_exit(0);
}

/*
 * Two lanes: one held by a live producer, one by a dead one. RACERS
 * processes join at one moment: exactly one gets the dead one's lane.
 */
static void join_race(void)
{
	struct shmkit_chan *mine;
	pid_t racer[RACERS], holder;
	unsigned trials = (unsigned)t_scale(20);
	int shmid;

	memset(sh, 0, sizeof(*sh));
	t_name(sh->name, sizeof(sh->name), "ib-race");
	shmid = t_track(shmkit_inbox_create(sh->name, 2, LANE_CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmid);
	T_OK(shmkit_inbox_join(sh->name, 0, &mine));	/* lane 0 */
	for (unsigned t = 0; t < trials; t++) {
		atomic_store(&sh->p[0].joined, 0);
		if ((holder = t_child()) == 0)
			join_and_wait();
		WAIT_FOR(atomic_load(&sh->p[0].joined) == 1, "a producer to join");
		T_OK(kill(holder, SIGKILL));
		T_EQ(reap(holder, "the holder"), 128 + SIGKILL);
		atomic_store(&sh->go, 0);
		atomic_store(&sh->won, 0);
		atomic_store(&sh->busy, 0);
		for (int i = 0; i < RACERS; i++)
			if ((racer[i] = t_child()) == 0)
				race_to_join();
		atomic_store(&sh->go, 1);
		WAIT_FOR(atomic_load(&sh->won) + atomic_load(&sh->busy) == RACERS, "the racers");
		T_EQ(atomic_load(&sh->won), 1);
		atomic_store(&sh->go, 2);
		for (int i = 0; i < RACERS; i++)
			T_EQ(reap(racer[i], "a racer"), 0);
	}
	T_OK(shmkit_chan_close(mine));
	T_OK(shmkit_inbox_destroy(sh->name));
}

int main(void)
{
	unsigned trials = (unsigned)t_scale(100), strials = (unsigned)t_scale(10);

	if (trials < 2)
		trials = 2;	/* valgrind's scale: each victim once */
	if (strials < 1)
		strials = 1;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	half_done_wake();
	zombie_lane();
	join_race();
	for (unsigned t = 0; t < trials; t++)
		inbox_trial(t, (int)(t % 2));
	for (unsigned t = 0; t < 2 * strials; t++)
		service_trial(t, (int)(t % 2));
	printf("inbox: %u producers killed (%u mid-message, %u inside commit), %u consumers "
	       "killed (%u holding a message, which came again %u times); %u trials flat out\n",
	       ist.trials[0], ist.mid[0], ist.commit_kills, ist.trials[1], ist.mid[1],
	       ist.redelivered, ist.fast);
	printf("service: %u clients killed (%u mid-request; %u replies to them were in their "
	       "successors' rings, %u sent after the kill, %u refused), %u servers killed (%u "
	       "mid-reply; %u replies came twice); %u trials flat out\n", sst.trials[0],
	       sst.mid[0], sst.inherited, sst.stale, sst.refused, sst.trials[1], sst.mid[1],
	       sst.dups, sst.fast);
	/* where kills land is chance; over a run of any length, mostly mid-message */
	if (ist.trials[0] >= 20)
		T_ASSERT(ist.mid[0] > 0);
	if (ist.trials[1] >= 20)
		T_ASSERT(ist.mid[1] > 0);
	return 0;
}
