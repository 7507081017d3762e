/*
 * A topic's publisher and subscribers as threads of one process: the
 * stream test again, in a form ThreadSanitizer can follow (make check
 * SANITIZE=thread), under both policies.
 *
 * One publisher thread picks send or reserve/commit per message at random;
 * three subscriber threads joined before the first message read it all
 * (one with recv, one with peek/release, one alternating), one of them
 * napping now and then; a fourth thread joins and leaves again and again
 * while the stream runs, from the next message or from the oldest held,
 * sometimes leaving with a message still peeked. Every message's size and
 * bytes follow from its number (common/payload.h), and every one is
 * checked: under block each reader gets every message from where it
 * joined, in order; under overwrite each gets seq == start + received +
 * lost, and received + lost covers the stream.
 *
 * Under the overwrite policy the publisher may write a slot while a
 * subscriber reads it: the library's own copies (send, recv) use relaxed
 * atomic words there, and so must whoever writes through reserve's pointer
 * or reads through peek's, or the program has a data race by C11's rules
 * (which ThreadSanitizer did not flag in our trials: a clean run here is
 * no proof of that); what such a read got is judged only once release has
 * said the message was not overwritten.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define COUNT 100000		/* messages per run, scaled (ThreadSanitizer: 0.1) */
#define MIN_COUNT 2000
#define SLOTS 16
#define HISTORY 6
#define MAX_MSG 240		/* 256-byte slots: the largest messages fill one */
#define STEADY 3
#define TIMEOUT_MS 20000	/* no wait is unbounded: a hang is a failure */

enum { RECV, PEEK, MIXED };
static const char *mode_name[] = { "recv", "peek", "mixed" };

struct run {
	char name[64];
	int policy;
	uint64_t count, seed;
	size_t max;
	uint64_t slots, history;
	/* messages the publisher has committed: never more than published,
	   at most one less */
	_Atomic uint64_t sent;
	_Atomic int done;	/* the publisher has closed (or failed) */
};

/* What a reader has seen: the message due next, and the counts. */
struct tally {
	int known;		/* pos known: a joiner learns it from its first message */
	uint64_t pos, got, lost, elost, torn;
};

struct thread {
	struct run *run;
	pthread_t tid;
	struct shmkit_sub *sub;	/* steady readers: opened before the stream starts */
	int mode, slow;
	struct tally t;
	uint64_t joins, join_got, join_lost, left_holding;
	char err[512];
};

static const char *policy_name(int policy)
{
	return policy == SHMKIT_TOPIC_BLOCK ? "block" : "overwrite";
}

static int failf(struct thread *th, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A thread's failure, for the main thread to report: returns -1. */
static int failf(struct thread *th, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(th->err, sizeof(th->err), fmt, ap);
	va_end(ap);
	return -1;
}

static size_t msg_len(const struct run *r, uint64_t seq)
{
	uint64_t x = t_mix(r->seed + seq);

	if ((x & 7) == 0)
		return r->max;	/* fills its slot */
	return 8 + (size_t)((x >> 8) % (r->max - 7));
}

/*
 * Message seq into a reserved slot: payload_fill's bytes, in 8-byte words
 * (the slot's payload is 16-byte aligned) and single bytes for the tail.
 * Relaxed atomic stores under overwrite (see the top); plain ones under
 * block, where only the protocol orders them against the readers, which
 * is what ThreadSanitizer is to check. Word by word, through volatile, so
 * that the compiler makes no vector stores of them: ThreadSanitizer sees
 * those as ranges, and in our trials missed races on them that it caught
 * on 8-byte words.
 */
static void slot_fill(int over, unsigned char *slot, size_t len, uint64_t seq)
{
	uint64_t w = seq;
	unsigned char tail[8];
	size_t k, i;

	for (k = 0; k + 8 <= len; k += 8) {
		w += PAYLOAD_STEP;
		if (over)
			__atomic_store_n((uint64_t *)(void *)(slot + k), w, __ATOMIC_RELAXED);
		else
			*(volatile uint64_t *)(void *)(slot + k) = w;
	}
	w += PAYLOAD_STEP;
	memcpy(tail, &w, sizeof(tail));
	for (i = 0; k + i < len; i++) {
		if (over)
			__atomic_store_n(slot + k + i, tail[i], __ATOMIC_RELAXED);
		else
			((volatile unsigned char *)slot)[k + i] = tail[i];
	}
}

/* A peeked message's bytes into dst, as slot_fill wrote them. */
static void slot_copy(int over, unsigned char *dst, const unsigned char *slot, size_t len)
{
	size_t k, i;

	for (k = 0; k + 8 <= len; k += 8) {
		uint64_t w = over ? __atomic_load_n((const uint64_t *)(const void *)(slot + k),
						    __ATOMIC_RELAXED)
				  : *(const volatile uint64_t *)(const void *)(slot + k);

		memcpy(dst + k, &w, 8);
	}
	for (i = 0; k + i < len; i++)
		dst[k + i] = over ? __atomic_load_n(slot + k + i, __ATOMIC_RELAXED)
				  : ((const volatile unsigned char *)slot)[k + i];
}

static void *publisher(void *arg)
{
	struct thread *th = arg;
	struct run *r = th->run;
	unsigned char buf[MAX_MSG];
	struct shmkit_pub *p;
	uint64_t seq;
	int err = 0;

	if ((err = shmkit_pub_open(r->name, 0, &p)) < 0) {
		failf(th, "publisher open: %s", shmkit_strerror(err));
		atomic_store(&r->done, 1);
		return NULL;
	}
	for (seq = 0; seq < r->count; seq++) {
		size_t len = msg_len(r, seq);
		uint64_t x = t_mix(~(r->seed + seq));
		void *w;

		if (x & 1) {
			err = shmkit_pub_reserve(p, (x & 2) ? r->max : len, &w, TIMEOUT_MS);
			if (err == 0) {
				slot_fill(r->policy == SHMKIT_TOPIC_OVERWRITE, w, len, seq);
				err = shmkit_pub_commit(p, len);
			}
		} else {
			payload_fill(buf, len, seq);
			err = shmkit_pub_send(p, buf, len, TIMEOUT_MS);
		}
		if (err < 0)
			break;
		atomic_store_explicit(&r->sent, seq + 1, memory_order_release);
		/* overwrite: let the readers in now and then, so they lose some, not all */
		if (r->policy == SHMKIT_TOPIC_OVERWRITE && seq % 8 == 7)
			usleep(50);
	}
	if (err < 0) {
		failf(th, "publishing %llu: %s", (unsigned long long)seq, shmkit_strerror(err));
		shmkit_pub_abort(p);
	} else if ((err = shmkit_pub_close(p)) < 0) {
		failf(th, "publisher close: %s", shmkit_strerror(err));
	}
	atomic_store(&r->done, 1);
	return NULL;
}

/*
 * Reads the next message and checks it against the tally. Returns 1 for
 * a message, 0 for -SHMKIT_ELOST (overwrite), -SHMKIT_EEOF at the end, or
 * -1 (th->err says why). *held: leave a peeked message unreleased (the
 * joiner leaving with it; it is not counted).
 */
static int next_msg(struct thread *th, struct shmkit_sub *s, int peek, int *held)
{
	const struct run *r = th->run;
	const int over = r->policy == SHMKIT_TOPIC_OVERWRITE;
	struct tally *t = &th->t;
	unsigned char data[MAX_MSG];
	const void *p;
	size_t len = 0, bad;
	uint64_t tag;
	int err;

	if (peek) {
		err = shmkit_sub_peek(s, &p, &len, TIMEOUT_MS);
		if (err == 0 && len > r->max)
			return failf(th, "peeked %zu bytes, more than max_msg", len);
		if (err == 0 && held && *held)
			return 1;
		/* read in place, before release lets the slot go */
		if (err == 0)
			slot_copy(over, data, p, len);
	} else {
		err = shmkit_sub_recv(s, data, sizeof(data), &len, TIMEOUT_MS);
	}
	if (err == -SHMKIT_EEOF)
		return err;
	if (err == -SHMKIT_ELOST && over) {
		t->elost++;
		goto lost;
	}
	if (err < 0 && !t->known)
		return failf(th, "%s, before the first message: %s", peek ? "peek" : "recv",
			     shmkit_strerror(err));
	if (err < 0)
		return failf(th, "%s at %llu: %s", peek ? "peek" : "recv",
			     (unsigned long long)t->pos, shmkit_strerror(err));
	tag = t->known ? t->pos : payload_tag(data, len);
	bad = len != msg_len(r, tag) ? 1 : payload_check(data, len, tag);
	if (peek && (err = shmkit_sub_release(s)) < 0) {
		if (err != -SHMKIT_ELOST || !over)
			return failf(th, "release of %llu: %s", (unsigned long long)tag,
				     shmkit_strerror(err));
		/* overwritten while held: what was read is void */
		t->elost++;
		t->torn++;
		goto lost;
	}
	if (bad && len != msg_len(r, tag))
		return failf(th, "expected message %llu of %zu bytes, got %zu bytes carrying %llu",
			     (unsigned long long)tag, msg_len(r, tag), len,
			     (unsigned long long)payload_tag(data, len));
	if (bad)
		return failf(th, "message %llu of %zu bytes: byte %zu is wrong (it carries %llu)",
			     (unsigned long long)tag, len, bad - 1,
			     (unsigned long long)payload_tag(data, len));
	if (shmkit_sub_lost(s) != t->lost)
		return failf(th, "lost went from %llu to %llu without -SHMKIT_ELOST",
			     (unsigned long long)t->lost, (unsigned long long)shmkit_sub_lost(s));
	if (!t->known) {
		/* a joiner's first: it started at tag less what it lost before */
		t->known = 1;
		t->pos = tag;
		return 2;
	}
	t->got++;
	t->pos++;
	return 1;
lost:
	if (shmkit_sub_lost(s) <= t->lost)
		return failf(th, "-SHMKIT_ELOST at %llu, but nothing more counted lost",
			     (unsigned long long)t->pos);
	if (t->known)
		t->pos += shmkit_sub_lost(s) - t->lost;
	t->lost = shmkit_sub_lost(s);
	if (t->known && t->pos > r->count)
		return failf(th, "lost past the end (%llu)", (unsigned long long)t->pos);
	return 0;
}

/* A reader's turn with its first message (2 from next_msg): count it. */
static void first_counted(struct tally *t)
{
	t->got++;
	t->pos++;
}

/* A subscriber there from the start: reads to the end of the stream. */
static void *steady(void *arg)
{
	struct thread *th = arg;
	uint64_t n = 0;
	int r;

	th->t.known = 1;	/* joined before message 0 */
	for (;;) {
		int peek = th->mode == PEEK || (th->mode == MIXED && (n++ & 1));

		r = next_msg(th, th->sub, peek, NULL);
		if (r < 0)
			break;
		if (th->slow && r == 1 && th->t.pos % 1024 == 0)
			usleep(300);
	}
	if (r == -SHMKIT_EEOF && th->t.pos != th->run->count)
		failf(th, "end of stream at %llu of %llu", (unsigned long long)th->t.pos,
		      (unsigned long long)th->run->count);
	shmkit_sub_close(th->sub);
	return NULL;
}

/*
 * A subscriber that comes and goes: joins (from the next message, or the
 * oldest held), reads a few, leaves (now and then with a message peeked),
 * naps, and again, until the publisher is done. Each stay is checked on
 * its own: it starts where published stood at the join (less history).
 */
static void *joiner(void *arg)
{
	struct thread *th = arg;
	struct run *r = th->run;
	uint64_t x = r->seed;

	/* once at least, however late this thread starts */
	do {
		struct shmkit_sub *s;
		uint64_t lo, hi, n, want;
		int oldest, err, held = 0;

		x = t_mix(x);
		oldest = x & 1;
		lo = atomic_load_explicit(&r->sent, memory_order_acquire);
		if ((err = shmkit_sub_open(r->name, oldest ? SHMKIT_FROM_OLDEST : 0, &s)) < 0) {
			failf(th, "join: %s", shmkit_strerror(err));
			return NULL;
		}
		hi = atomic_load_explicit(&r->sent, memory_order_acquire) + 1;
		if (oldest) {
			lo = lo > r->history ? lo - r->history : 0;
			hi = hi > r->history ? hi - r->history : 0;
		}
		th->joins++;
		memset(&th->t, 0, sizeof(th->t));
		/* now and then slow to start: under block the publisher waits for us */
		if ((x >> 50) % 4 == 0)
			usleep(1000);
		want = 1 + (x >> 8) % (3 * r->slots);
		for (n = 0; n < want; n++) {
			int peek = (x >> (20 + n % 32)) & 1;

			held = peek && n == want - 1 && (x & 6) == 0;
			err = next_msg(th, s, peek, &held);
			if (err == 2) {
				uint64_t start = th->t.pos - th->t.lost;

				if (start < lo || start > hi) {
					failf(th, "joined%s with published in [%llu, %llu], "
					      "but started at %llu", oldest ? " from the oldest" : "",
					      (unsigned long long)lo, (unsigned long long)hi,
					      (unsigned long long)start);
					err = -1;
				} else {
					first_counted(&th->t);
				}
			}
			if (err < 0)
				break;
		}
		if (err == 1 && held)
			th->left_holding++;
		if (err == -SHMKIT_EEOF && th->t.known && th->t.pos != r->count) {
			failf(th, "end of stream at %llu of %llu", (unsigned long long)th->t.pos,
			      (unsigned long long)r->count);
			err = -1;
		}
		th->join_got += th->t.got;
		th->join_lost += th->t.lost;
		shmkit_sub_close(s);
		if (err == -1)
			return NULL;
		usleep((useconds_t)((x >> 40) % 500));
	} while (!atomic_load(&r->done));
	return NULL;
}

static void stream(int policy, uint64_t count)
{
	struct shmkit_topic_params tp = { .max_msg = MAX_MSG, .slots = SLOTS, .max_subs = 8,
					  .history = HISTORY, .policy = policy };
	struct shmkit_topic_info info;
	struct run r = { .policy = policy, .count = count, .seed = t_rand() };
	struct thread pub = { .run = &r }, join = { .run = &r }, subs[STEADY];
	uint64_t start = t_now_ns();
	int id;

	t_name(r.name, sizeof(r.name), policy == SHMKIT_TOPIC_BLOCK ? "tblock" : "tover");
	id = t_track(shmkit_topic_create(r.name, &tp, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(id);
	T_OK(shmkit_topic_info(id, &info, NULL, 0));
	T_EQ(info.max_msg, MAX_MSG);
	r.max = info.max_msg;
	r.slots = info.slots;
	r.history = info.history;
	for (int i = 0; i < STEADY; i++) {
		subs[i] = (struct thread){ .run = &r, .mode = i, .slow = i == 0 };
		T_OK(shmkit_sub_open(r.name, 0, &subs[i].sub));
	}
	for (int i = 0; i < STEADY; i++)
		T_EQ(pthread_create(&subs[i].tid, NULL, steady, &subs[i]), 0);
	T_EQ(pthread_create(&join.tid, NULL, joiner, &join), 0);
	T_EQ(pthread_create(&pub.tid, NULL, publisher, &pub), 0);
	T_EQ(pthread_join(pub.tid, NULL), 0);
	T_EQ(pthread_join(join.tid, NULL), 0);
	for (int i = 0; i < STEADY; i++)
		T_EQ(pthread_join(subs[i].tid, NULL), 0);

	if (pub.err[0])
		t_fail(__FILE__, __LINE__, "%s: %s", policy_name(policy), pub.err);
	for (int i = 0; i < STEADY; i++)
		if (subs[i].err[0])
			t_fail(__FILE__, __LINE__, "%s: subscriber %d (%s): %s", policy_name(policy),
			       i, mode_name[subs[i].mode], subs[i].err);
	if (join.err[0])
		t_fail(__FILE__, __LINE__, "%s: the joiner, stay %llu: %s", policy_name(policy),
		       (unsigned long long)join.joins, join.err);
	for (int i = 0; i < STEADY; i++) {
		T_EQ(subs[i].t.got + subs[i].t.lost, count);
		if (policy == SHMKIT_TOPIC_BLOCK)
			T_EQ(subs[i].t.lost, 0);
	}
	if (policy == SHMKIT_TOPIC_BLOCK)
		T_EQ(join.join_lost, 0);
	T_ASSERT(join.joins > 0);
	T_OK(shmkit_topic_info(id, &info, NULL, 0));
	T_EQ(info.published, count);
	T_EQ(info.nsubs, 0);
	printf("%-9s %llu messages; lost %llu %llu %llu (recv, peek, mixed); the joiner joined "
	       "%llu times, got %llu, lost %llu, left holding a peek %llu times; %.1f s, "
	       "seed %#llx\n", policy_name(policy), (unsigned long long)count,
	       (unsigned long long)subs[0].t.lost, (unsigned long long)subs[1].t.lost,
	       (unsigned long long)subs[2].t.lost, (unsigned long long)join.joins,
	       (unsigned long long)join.join_got, (unsigned long long)join.join_lost,
	       (unsigned long long)join.left_holding, (double)(t_now_ns() - start) / 1e9,
	       (unsigned long long)r.seed);
	T_OK(shmkit_topic_destroy(r.name));
}

int main(void)
{
	uint64_t count = t_scale(COUNT);

	if (count < MIN_COUNT)
		count = MIN_COUNT;
	stream(SHMKIT_TOPIC_BLOCK, count);
	stream(SHMKIT_TOPIC_OVERWRITE, count);
	return 0;
}
