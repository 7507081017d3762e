/*
 * Crashes: one side of a live stream is killed with SIGKILL at a random
 * moment, over and over, for each side.
 *
 *  - The survivor's wait ends with -SHMKIT_EPEERDEAD soon after (the
 *    library checks every 20 ms; the test allows 1 s on a loaded machine
 *    and prints the worst it saw).
 *  - A new peer takes the dead one's place and the stream goes on: a new
 *    consumer starts exactly after the last released message, a new
 *    producer's first message follows whatever the dead one committed,
 *    and a half-written (reserved, never committed) message is never seen.
 *  - No message is ever torn, duplicated or out of order.
 *  - Afterwards `shmkit gc` removes the orphaned channel.
 *  - The same when the victim is killed while opening and closing: one
 *    side opens, moves one message, and closes, over and over, until it
 *    dies at a random point of that cycle; its place is then taken.
 *  - Several processes racing to take a dead side's place: exactly one
 *    gets it, the others -EBUSY.
 *
 * Messages are common/payload.h's, tagged with (epoch, seq); a producer's
 * epoch is its number in the trial, so the consumer can tell a restarted
 * stream.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "header.h"

#define AFTER_RESTART 2000	/* messages the new peer handles, then ends */

struct shared {
	_Atomic uint64_t killed_at;	/* ns, when the parent sent SIGKILL */
	_Atomic uint64_t done;		/* churn: messages moved and recorded */
	_Atomic uint64_t noticed_at;	/* ns, when the survivor saw it */
	_Atomic uint64_t peeked;	/* consumer: last seq verified, + 1 */
	_Atomic int opened;		/* sides that have opened the channel */
	_Atomic int go;			/* claim race: 1 start, 2 winner may close */
	_Atomic int won, busy;		/* claim race: outcomes */
	char name[64];
};

/*
 * Message (epoch, seq): 16..200 bytes, the payload of tag epoch << 48 |
 * seq. Every byte follows from the tag, and another message's bytes
 * differ in every word, so a torn one fails; no checksum is needed. A
 * stream never nears 2^48 messages, nor a trial 2^16 epochs.
 */
#define SEQ_BITS 48

static size_t msg_len(uint32_t epoch, uint64_t seq)
{
	return 16 + t_mix(seq * 31 + epoch) % 185;
}

static uint64_t msg_tag(uint32_t epoch, uint64_t seq)
{
	return (uint64_t)epoch << SEQ_BITS | seq;
}

/* The consumer does not know what comes next: it reads (epoch, seq) from
 * the message and checks the rest against them. */
static int check_msg(const unsigned char *b, size_t len, uint32_t *epoch, uint64_t *seq)
{
	uint64_t tag = payload_tag(b, len);

	*epoch = (uint32_t)(tag >> SEQ_BITS);
	*seq = tag & ((1ull << SEQ_BITS) - 1);
	if (len != msg_len(*epoch, *seq) || payload_check(b, len, tag))
		return -1;
	return 0;
}

/* Producer epoch e: messages 0, 1, ... until limit (0: no limit). */
static int produce(struct shared *sh, uint32_t epoch, uint64_t limit)
{
	struct shmkit_chan *ch;
	uint64_t seq;
	int r;

	alarm(60);
	while ((r = shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &ch)) == -EBUSY)
		usleep(1000); /* the dead one's place frees when it is seen dead */
	if (r < 0)
		t_fail(__FILE__, __LINE__, "producer open: %s", shmkit_strerror(r));
	atomic_fetch_add(&sh->opened, 1);
	for (seq = 0; !limit || seq < limit; seq++) {
		size_t len = msg_len(epoch, seq);
		void *w;

		/* zero copy: most of the time is spent between reserve and commit */
		for (;;) {
			r = shmkit_chan_reserve(ch, len, &w, 5000);
			if (r != -SHMKIT_EPEERDEAD)
				break;
			if (!atomic_load(&sh->noticed_at))
				atomic_store(&sh->noticed_at, t_now_ns());
			usleep(500); /* wait for a new consumer */
		}
		if (r == -EPIPE)
			break; /* the consumer ended the trial */
		if (r < 0)
			t_fail(__FILE__, __LINE__, "reserve: %s", shmkit_strerror(r));
		payload_fill(w, len, msg_tag(epoch, seq));
		T_OK(shmkit_chan_commit(ch, len));
	}
	T_OK(shmkit_chan_close(ch));
	return 0;
}

/*
 * Consumer: checks every message. first: the seq it must start at in
 * epoch 1 (a new consumer starts after the last released message; the
 * one peeked but maybe not released may come again). limit: messages to
 * take before closing (0: until end of stream).
 */
static int consume(struct shared *sh, uint64_t limit, int restarted)
{
	struct shmkit_chan *ch;
	uint32_t epoch = 0, e;
	uint64_t next = 0, seq, taken = 0;
	const void *p;
	size_t len;
	int r, first = 1;

	alarm(60);
	while ((r = shmkit_chan_open(sh->name, SHMKIT_CONSUMER, &ch)) == -EBUSY)
		usleep(1000);
	if (r < 0)
		t_fail(__FILE__, __LINE__, "consumer open: %s", shmkit_strerror(r));
	atomic_fetch_add(&sh->opened, 1);
	for (;;) {
		r = shmkit_chan_peek(ch, &p, &len, 5000);
		if (r == -SHMKIT_EPEERDEAD) {
			if (!atomic_load(&sh->noticed_at))
				atomic_store(&sh->noticed_at, t_now_ns());
			usleep(500); /* wait for a new producer */
			continue;
		}
		if (r == -SHMKIT_EEOF)
			break;
		if (r < 0)
			t_fail(__FILE__, __LINE__, "peek: %s", shmkit_strerror(r));
		if (check_msg(p, len, &e, &seq) < 0)
			t_fail(__FILE__, __LINE__, "torn message after %llu: %zu bytes, "
			       "beginning as epoch %u seq %llu", (unsigned long long)next, len, e,
			       (unsigned long long)seq);
		if (first && restarted) {
			uint64_t seen = atomic_load(&sh->peeked);
			/* either the last peeked one again (never released) or the next */
			if (seq + 1 != seen && seq != seen)
				t_fail(__FILE__, __LINE__, "restart at %llu, last peeked %llu",
				       (unsigned long long)seq, (unsigned long long)seen - 1);
			next = seq;
			epoch = e;
		}
		first = 0;
		if (e != epoch) {
			/* a new producer: its stream starts at 0, epochs only grow */
			if (e < epoch || seq != 0)
				t_fail(__FILE__, __LINE__, "epoch %u seq %llu after epoch %u",
				       e, (unsigned long long)seq, epoch);
			epoch = e;
			next = 0;
		}
		if (seq != next)
			t_fail(__FILE__, __LINE__, "got seq %llu, expected %llu (epoch %u)",
			       (unsigned long long)seq, (unsigned long long)next, e);
		next++;
		atomic_store(&sh->peeked, seq + 1);
		T_OK(shmkit_chan_release(ch));
		if (limit && ++taken >= limit)
			break;
	}
	T_OK(shmkit_chan_close(ch));
	return 0;
}

struct role {
	struct shared *sh;
	int what;	/* 0 consumer, 1 consumer after restart, 2.. producer epoch */
	uint64_t limit;
};

static int run_role(void *arg)
{
	struct role *r = arg;

	if (r->what >= 2)
		return produce(r->sh, (uint32_t)r->what - 1, r->limit);
	return consume(r->sh, r->limit, r->what == 1);
}

static int create_and_exit(void *arg)
{
	struct shared *sh = arg;
	/* made by a process that is gone, so the leftover is an orphan */
	return shmkit_chan_create(sh->name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL) < 0;
}

static uint64_t worst_ns;

static void trial(struct shared *sh, int kill_producer, unsigned i)
{
	struct role victim, survivor, successor;
	pid_t v, s, n;
	uint64_t lag;

	memset(sh, 0, sizeof(*sh));
	snprintf(sh->name, sizeof(sh->name), "t-%d-crash-%u", (int)getpid(), i);
	t_track_key(shmkit_name_key(sh->name));
	T_EQ(t_wait(t_fork(create_and_exit, sh)), 0);

	victim = (struct role){ sh, kill_producer ? 2 : 0, 0 };
	survivor = (struct role){ sh, kill_producer ? 0 : 2, 0 };
	successor = (struct role){ sh, kill_producer ? 3 : 1, kill_producer ? AFTER_RESTART : 0 };
	if (!kill_producer)
		survivor.limit = 0, successor.limit = AFTER_RESTART;

	s = t_fork(run_role, &survivor);
	v = t_fork(run_role, &victim);
	/* kills during open are another test's business: wait for both */
	while (atomic_load(&sh->opened) < 2)
		usleep(100);
	usleep((useconds_t)(t_rand() % 20000));
	atomic_store(&sh->killed_at, t_now_ns());
	kill(v, SIGKILL);
	T_EQ(t_wait(v), 128 + SIGKILL);
	/* the survivor notices (it waits: a full ring, or an empty one) */
	while (!atomic_load(&sh->noticed_at)) {
		if (t_now_ns() - atomic_load(&sh->killed_at) > 10ull * 1000000000u)
			t_fail(__FILE__, __LINE__, "trial %u: survivor never noticed the death", i);
		usleep(1000);
	}
	lag = atomic_load(&sh->noticed_at) - atomic_load(&sh->killed_at);
	if (lag > worst_ns)
		worst_ns = lag;
	if (lag > 1000000000u)
		t_fail(__FILE__, __LINE__, "trial %u: death noticed after %llu ms", i,
		       (unsigned long long)(lag / 1000000));
	/* a new peer takes over and the stream completes, checked */
	n = t_fork(run_role, &successor);
	T_EQ(t_wait(n), 0);
	T_EQ(t_wait(s), 0);
}

static int gc_removes(const char *name)
{
	char *out = NULL;
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };
	int rc = t_cli(&out, NULL, "gc", NULL);

	T_EQ(rc, 0);
	T_STR_CONTAINS(out, name);
	free(out);
	return shmkit_seg_open(&ref);
}

static int open_and_wait(void *arg)
{
	struct shared *sh = arg;
	struct shmkit_chan *ch;
	int r = shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &ch);

	if (r < 0)
		return 1;
	atomic_fetch_add(&sh->opened, 1);
	pause();
	return 0;
}

/*
 * A second live producer in another process is refused with -EBUSY; once
 * that one is killed, even while still a zombie nobody has reaped, it
 * counts as dead: the consumer's wait ends, and its place can be taken.
 */
static void busy_and_zombie(struct shared *sh)
{
	struct shmkit_chan *c, *p;
	char buf[16];
	size_t len;
	siginfo_t si;
	pid_t holder;
	uint64_t t0;

	memset(sh, 0, sizeof(*sh));
	snprintf(sh->name, sizeof(sh->name), "t-%d-zombie", (int)getpid());
	t_track_key(shmkit_name_key(sh->name));
	T_OK(shmkit_chan_create(sh->name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmkit_chan_open(sh->name, SHMKIT_CONSUMER, &c));
	holder = t_fork(open_and_wait, sh);
	while (atomic_load(&sh->opened) < 1)
		usleep(100);
	T_EQ(shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &p), -EBUSY);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);

	kill(holder, SIGKILL);
	memset(&si, 0, sizeof(si));
	/* wait until it is a zombie, without reaping it */
	T_EQ(waitid(P_PID, (id_t)holder, &si, WEXITED | WNOWAIT), 0);
	t0 = t_now_ns();
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 10000), -SHMKIT_EPEERDEAD);
	T_ASSERT(t_now_ns() - t0 < 1000000000u);
	T_OK(shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &p));
	T_EQ(t_wait(holder), 128 + SIGKILL);
	T_OK(shmkit_chan_send(p, "z", 1, 0));
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(sh->name));
}

#define RACERS 6

static int race_to_claim(void *arg)
{
	struct shared *sh = arg;
	struct shmkit_chan *ch;
	int r;

	while (atomic_load(&sh->go) == 0)
		;
	r = shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &ch);
	if (r == -EBUSY) {
		atomic_fetch_add(&sh->busy, 1);
		return 0;
	}
	if (r < 0)
		return 1;
	atomic_fetch_add(&sh->won, 1);
	/* hold the side until every racer has tried */
	while (atomic_load(&sh->go) != 2)
		usleep(100);
	return shmkit_chan_close(ch) < 0;
}

/*
 * The producer dies; RACERS processes, released at one moment, all open
 * its side. claim's one compare-and-swap (O1) must let exactly one in.
 */
static void claim_race(struct shared *sh)
{
	pid_t racer[RACERS], holder;
	unsigned t, trials = (unsigned)t_scale(20);
	int i;

	memset(sh, 0, sizeof(*sh));
	snprintf(sh->name, sizeof(sh->name), "t-%d-race", (int)getpid());
	t_track_key(shmkit_name_key(sh->name));
	T_OK(shmkit_chan_create(sh->name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	for (t = 0; t < trials; t++) {
		atomic_store(&sh->opened, 0);
		holder = t_fork(open_and_wait, sh);
		while (atomic_load(&sh->opened) < 1)
			usleep(100);
		kill(holder, SIGKILL);
		T_EQ(t_wait(holder), 128 + SIGKILL);
		atomic_store(&sh->go, 0);
		atomic_store(&sh->won, 0);
		atomic_store(&sh->busy, 0);
		for (i = 0; i < RACERS; i++)
			racer[i] = t_fork(race_to_claim, sh);
		atomic_store(&sh->go, 1);
		while (atomic_load(&sh->won) + atomic_load(&sh->busy) < RACERS)
			usleep(100);
		T_EQ(atomic_load(&sh->won), 1);
		atomic_store(&sh->go, 2);
		for (i = 0; i < RACERS; i++)
			T_EQ(t_wait(racer[i]), 0);
	}
	T_OK(shmkit_chan_destroy(sh->name));
}

static int die_mid_message(void *arg)
{
	struct shared *sh = arg;
	struct shmkit_chan *ch;
	void *w;

	if (shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &ch) < 0 ||
	    shmkit_chan_send(ch, "whole", 5, 0) < 0 ||
	    shmkit_chan_reserve(ch, 100, &w, 0) < 0)
		return 1;
	memset(w, 'h', 50); /* half written, never committed */
	raise(SIGKILL);
	return 1;
}

/* A producer that dies between reserve and commit leaves nothing visible. */
static void reserve_then_die(struct shared *sh)
{
	struct shmkit_chan *c, *p;
	char buf[128];
	size_t len;

	memset(sh, 0, sizeof(*sh));
	snprintf(sh->name, sizeof(sh->name), "t-%d-halfway", (int)getpid());
	t_track_key(shmkit_name_key(sh->name));
	T_OK(shmkit_chan_create(sh->name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(shmkit_chan_open(sh->name, SHMKIT_CONSUMER, &c));
	T_EQ(t_wait(t_fork(die_mid_message, sh)), 128 + SIGKILL);
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 5);
	T_ASSERT(memcmp(buf, "whole", 5) == 0);
	/* the half-written message is not there: the producer is dead */
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_EPEERDEAD);
	/* a new producer continues the stream from where it stands */
	T_OK(shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &p));
	T_OK(shmkit_chan_send(p, "next", 4, 0));
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 4);
	T_ASSERT(memcmp(buf, "next", 4) == 0);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(sh->name));
}

/* Consumer for half_done_wake: one message, waiting with no time-out. */
static int wait_forever(void *arg)
{
	struct shared *sh = arg;
	struct shmkit_chan *c;
	char buf[16];
	size_t len;

	/* no slices: only a wake-up ends the sleep (a hang fails by alarm) */
	__shmkit_chan_sleep_slice_ns = -1;
	alarm(60);
	if (shmkit_chan_open(sh->name, SHMKIT_CONSUMER, &c) < 0)
		return 1;
	atomic_fetch_add(&sh->opened, 1);
	if (shmkit_chan_recv(c, buf, sizeof(buf), &len, -1) < 0 || len != 4 || memcmp(buf, "wake", 4))
		return 2;
	shmkit_chan_close(c);
	return 0;
}

/*
 * A producer killed inside its wake-up, after it took the sleeper's flag
 * and before the futex call: the consumer sleeps on with no flag up, so
 * the successor's sends see nobody to wake. Opening wakes the other side
 * for that reason; without it the consumer sleeps until the alarm.
 */
static void half_done_wake(struct shared *sh)
{
	struct __shmkit_chan_hdr *h;
	struct shmkit_chan *p;
	pid_t holder, cons;
	void *raw;
	int shmid;

	memset(sh, 0, sizeof(*sh));
	snprintf(sh->name, sizeof(sh->name), "t-%d-halfwake", (int)getpid());
	t_track_key(shmkit_name_key(sh->name));
	shmid = shmkit_chan_create(sh->name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	T_OK(shmid);
	raw = shmat(shmid, NULL, 0);
	T_ASSERT(raw != (void *)-1);
	h = (struct __shmkit_chan_hdr *)((char *)raw + SHMKIT_HDR_SIZE);
	holder = t_fork(open_and_wait, sh);
	cons = t_fork(wait_forever, sh);
	while (atomic_load(&sh->opened) < 2)
		usleep(100);
	while (!atomic_load(&h->sleep[__SHMKIT_SIDE_CONS].sleeping))
		usleep(100);
	/* the first half of wake_peer, then the kill */
	atomic_exchange(&h->sleep[__SHMKIT_SIDE_CONS].sleeping, 0);
	kill(holder, SIGKILL);
	T_EQ(t_wait(holder), 128 + SIGKILL);
	T_OK(shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &p));
	T_OK(shmkit_chan_send(p, "wake", 4, 0));
	T_EQ(t_wait(cons), 0);
	T_OK(shmkit_chan_close(p));
	shmdt(raw);
	T_OK(shmkit_chan_destroy(sh->name));
}

/* ------------------------------------------------ killed in open or close */

#define CHURN_END UINT64_MAX	/* the successor's last message */

/* Producer churn: open, send message `done`, record it, close; again. */
static int churn_producer(void *arg)
{
	struct shared *sh = arg;
	struct shmkit_chan *ch;
	uint64_t seq;
	int r;

	alarm(60);
	for (;;) {
		while ((r = shmkit_chan_open(sh->name, SHMKIT_PRODUCER, &ch)) == -EBUSY)
			usleep(100);
		T_OK(r);
		atomic_store(&sh->opened, 2);
		seq = atomic_load(&sh->done);
		T_OK(shmkit_chan_send(ch, &seq, sizeof(seq), 5000));
		atomic_store(&sh->done, seq + 1);
		T_OK(shmkit_chan_close(ch));
	}
}

/* Consumer churn: open, take one message, record it, close; again. */
static int churn_consumer(void *arg)
{
	struct shared *sh = arg;
	struct shmkit_chan *ch;
	uint64_t seq;
	size_t len;
	int r;

	alarm(60);
	for (;;) {
		while ((r = shmkit_chan_open(sh->name, SHMKIT_CONSUMER, &ch)) == -EBUSY)
			usleep(100);
		T_OK(r);
		atomic_store(&sh->opened, 2);
		T_OK(shmkit_chan_recv(ch, &seq, sizeof(seq), &len, 5000));
		if (len != sizeof(seq) || seq != atomic_load(&sh->done))
			t_fail(__FILE__, __LINE__, "churn: got %llu, expected %llu",
			       (unsigned long long)seq, (unsigned long long)atomic_load(&sh->done));
		atomic_store(&sh->done, seq + 1);
		T_OK(shmkit_chan_close(ch));
	}
}

/*
 * The steady side of a churn trial: a consumer that takes messages in
 * order until CHURN_END, or a producer that sends 0, 1, ... until the
 * parent, content, kills it.
 */
static int churn_steady(void *arg)
{
	struct shared *sh = arg;
	struct shmkit_chan *ch;
	uint64_t seq = 0, got;
	size_t len;
	int producer = atomic_load(&sh->peeked) == 1, r;

	alarm(60);
	T_OK(shmkit_chan_open(sh->name, producer ? SHMKIT_PRODUCER : SHMKIT_CONSUMER, &ch));
	atomic_fetch_add(&sh->opened, 1);
	for (;;) {
		if (producer) {
			r = shmkit_chan_send(ch, &seq, sizeof(seq), 5000);
			/* the churning consumer between close and open: try again */
			if (r == -EPIPE || r == -SHMKIT_EPEERDEAD) {
				usleep(50);
				continue;
			}
			T_OK(r);
			seq++;
			continue;
		}
		r = shmkit_chan_recv(ch, &got, sizeof(got), &len, 5000);
		/* between a close and the next open, or dead: wait for the next */
		if (r == -SHMKIT_EEOF || r == -SHMKIT_EPEERDEAD) {
			usleep(50);
			continue;
		}
		T_OK(r);
		if (got == CHURN_END)
			break;
		if (len != sizeof(got) || got != seq)
			t_fail(__FILE__, __LINE__, "churn: got %llu, expected %llu",
			       (unsigned long long)got, (unsigned long long)seq);
		seq++;
	}
	T_OK(shmkit_chan_close(ch));
	return 0;
}

/*
 * One trial: the churning side is killed at a random moment (in open, in
 * close, or between), then a successor takes its place and finishes. A
 * churning consumer's successor must start at the message after the last
 * one it recorded, or at that one if it died between taking and recording
 * it... except that a message it had released but not recorded is gone:
 * so its first is `done` or `done + 1`.
 */
static void churn_trial(struct shared *sh, int kill_producer, unsigned i)
{
	struct shmkit_chan *ch;
	uint64_t done, seq;
	size_t len;
	pid_t steady, victim;
	int r;

	memset(sh, 0, sizeof(*sh));
	snprintf(sh->name, sizeof(sh->name), "t-%d-churn-%u", (int)getpid(), i);
	t_track_key(shmkit_name_key(sh->name));
	T_OK(shmkit_chan_create(sh->name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	atomic_store(&sh->peeked, kill_producer ? 0 : 1); /* the steady side's role */
	steady = t_fork(churn_steady, sh);
	victim = t_fork(kill_producer ? churn_producer : churn_consumer, sh);
	while (atomic_load(&sh->opened) < 2)
		usleep(100);
	usleep((useconds_t)(t_rand() % 5000));
	kill(victim, SIGKILL);
	T_EQ(t_wait(victim), 128 + SIGKILL);
	done = atomic_load(&sh->done);
	/* the successor: its open must succeed once the dead owner is seen dead */
	while ((r = shmkit_chan_open(sh->name, kill_producer ? SHMKIT_PRODUCER : SHMKIT_CONSUMER,
				     &ch)) == -EBUSY)
		usleep(100);
	T_OK(r);
	if (kill_producer) {
		/* whatever the dead one committed arrives; we go on after it */
		seq = CHURN_END;
		T_OK(shmkit_chan_send(ch, &seq, sizeof(seq), 5000));
	} else {
		T_OK(shmkit_chan_recv(ch, &seq, sizeof(seq), &len, 5000));
		if (seq != done && seq != done + 1)
			t_fail(__FILE__, __LINE__, "churn %u: restart at %llu, recorded %llu", i,
			       (unsigned long long)seq, (unsigned long long)done);
		/* and the stream goes on in order */
		for (int k = 0; k < 50; k++) {
			uint64_t next;

			T_OK(shmkit_chan_recv(ch, &next, sizeof(next), &len, 5000));
			if (next != seq + 1)
				t_fail(__FILE__, __LINE__, "churn %u: %llu after %llu", i,
				       (unsigned long long)next, (unsigned long long)seq);
			seq = next;
		}
	}
	T_OK(shmkit_chan_close(ch));
	if (!kill_producer)
		kill(steady, SIGKILL), t_wait(steady);
	else
		T_EQ(t_wait(steady), 0);
	T_OK(shmkit_chan_destroy(sh->name));
}

int main(void)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned trials = (unsigned)t_scale(100), i;

	T_ASSERT(sh != MAP_FAILED);
	busy_and_zombie(sh);
	reserve_then_die(sh);
	half_done_wake(sh);
	claim_race(sh);
	for (i = 0; i < trials; i++) {
		trial(sh, 0, 2 * i);
		/* everyone is gone: the channel is an orphan, and gc takes it */
		T_EQ(gc_removes(sh->name), -ENOENT);
		trial(sh, 1, 2 * i + 1);
		T_EQ(gc_removes(sh->name), -ENOENT);
	}
	for (i = 0; i < trials; i++) {
		churn_trial(sh, 1, 2 * i);
		churn_trial(sh, 0, 2 * i + 1);
	}
	printf("%u trials per side, and %u more per side killed while opening and closing; the slowest "
	       "death was noticed after %.1f ms\n", trials, trials, (double)worst_ns / 1e6);
	return 0;
}
