/*
 * Fan-out: one publisher, N subscribers, every message to every one of
 * them; through one topic (written once), and through N channels (the
 * publisher writes each message N times, once into each). Both with the
 * zero-copy API: the publisher fills each message in place, and each
 * subscriber checks every byte in place (common/payload.h), as users do.
 *
 * The publisher runs on the first cpu and every subscriber on the second:
 * with two cpus that is the only fair split, and it means the subscribers
 * share one cpu. So the rate each subscriber gets falls with N under the
 * block policy whatever the transport, and what write-once saves shows in
 * the publisher's own cost: its sending time less the time it waited for
 * room (the library's wait counters, read outside the timed window), as
 * a rate, "publisher msg/s". That is the rate it could keep up with
 * subscribers that each had a cpu of their own.
 *
 * Rounds: a warm-up, then reps timed ones, each announced in the control
 * block before its first message (n[r]); a subscriber notes when it has
 * checked a round's last message, and the publisher starts the next round
 * once every subscriber has, so no round's time holds another's. Between
 * rounds the publisher and subscriber 0 pass one cache line back and
 * forth, as the streams' probe does: a set of processes the host placed
 * badly shows there, several times slower.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pair.h"
#include "shmkit.h"
#include "sweep.h"

#define FAN_ROUNDS (BENCH_MAX_REPS + 2)
#define FAN_TIMEOUT_MS 10000	/* a stuck run fails instead of hanging */
#define FAN_START_S 10.0
#define FAN_PROBE_TRIPS 256

struct fan_ctl {
	_Atomic int ready;		/* children with their end open */
	_Atomic int go;
	_Atomic int failed;
	_Atomic int done[FAN_MAX_SUBS];	/* subscriber i: rounds checked to their end */
	uint64_t n[FAN_ROUNDS];		/* messages in round r, set before its first */
	double t0[FAN_ROUNDS];		/* the publisher: round r's first send */
	double sent[FAN_ROUNDS];	/* its last commit */
	double wait_s[FAN_ROUNDS];	/* its waits for room within the round */
	uint64_t wakes[FAN_ROUNDS];	/* its wake-up calls within the round */
	double t1[FAN_ROUNDS][FAN_MAX_SUBS];	/* subscriber i: the round's last check */
	double line_ns[FAN_ROUNDS];	/* the probe before round r */
	_Atomic int probed;		/* the probe before round r is over: r */
	char why[256];
	/* the probe's line: the publisher makes it odd, subscriber 0 even */
	_Alignas(64) _Atomic uint64_t probe;
	char probe_pad[64 - sizeof(uint64_t)];
};

struct fan_run {
	int topic;			/* 1: one topic; 0: nsubs channels */
	int nsubs;
	size_t size;
	const struct bench_opts *o;
	double round_s;			/* a timed round's length */
	char name[FAN_MAX_SUBS][64];	/* the topic (name[0]), or each channel */
	int shmid[FAN_MAX_SUBS];
	int nseg;
	struct fan_ctl *c;
};

static _Noreturn void fan_fail(struct fan_ctl *c, const char *what, int err)
{
	if (!atomic_exchange(&c->failed, 1))
		snprintf(c->why, sizeof(c->why), "%s: %s", what,
			 err == -EBADMSG ? bench_why : shmkit_strerror(err));
	_exit(1);
}

/* Waits for the parent's go; a failed start exits quietly. */
static void started(struct fan_ctl *c)
{
	atomic_fetch_add(&c->ready, 1);
	while (!atomic_load_explicit(&c->go, memory_order_acquire)) {
		if (atomic_load(&c->failed))
			_exit(0);
		usleep(50);
	}
}

/* The publisher's counters so far: its waits for room in seconds, and
 * its wake-up calls (looks: only outside timed windows). */
static void pub_counts(const struct fan_run *f, double *wait_s, uint64_t *wakes)
{
	uint64_t ns = 0, w = 0;

	for (int i = 0; i < f->nseg; i++) {
		if (f->topic) {
			struct shmkit_topic_info t;

			if (shmkit_topic_info(f->shmid[i], &t, NULL, 0) == 0)
				ns += t.pub_wait_ns, w += t.pub_wakes;
		} else {
			struct shmkit_chan_info ch;

			if (shmkit_chan_info(f->shmid[i], &ch) == 0)
				ns += ch.prod_wait_ns, w += ch.prod_wakes;
		}
	}
	*wait_s = (double)ns / 1e9;
	*wakes = w;
}

/* The publisher's half of the probe: the mean round trip, ns. */
static double probe_line(struct fan_ctl *c)
{
	uint64_t v = atomic_load_explicit(&c->probe, memory_order_relaxed);
	double t0 = clock_s();

	for (int i = 0; i < FAN_PROBE_TRIPS; i++) {
		/* odd: subscriber 0 answers v + 1 (relaxed: no data rides on it) */
		atomic_store_explicit(&c->probe, ++v, memory_order_relaxed);
		while (atomic_load_explicit(&c->probe, memory_order_relaxed) == v) {
			if (atomic_load(&c->failed))
				_exit(0);
			cpu_relax();
		}
		v++;
	}
	return (clock_s() - t0) / FAN_PROBE_TRIPS * 1e9;
}

/*
 * Subscriber 0's half: answers until the probe before round r is over.
 * Not before every subscriber is done with the round before: they share
 * its cpu, and a spin here would take time from their timed round.
 */
static void answer_probe(struct fan_ctl *c, int nsubs, int r)
{
	for (int i = 1; i < nsubs; i++)
		while (atomic_load_explicit(&c->done[i], memory_order_acquire) < r) {
			if (atomic_load(&c->failed))
				_exit(0);
			sched_yield();
		}
	while (atomic_load_explicit(&c->probed, memory_order_acquire) < r) {
		uint64_t v = atomic_load_explicit(&c->probe, memory_order_relaxed);

		if (v & 1)
			atomic_store_explicit(&c->probe, v + 1, memory_order_relaxed);
		if (atomic_load(&c->failed))
			_exit(0);
		cpu_relax();
	}
}

/* Every subscriber has checked round r to its end. */
static void wait_round(struct fan_ctl *c, int nsubs, int r)
{
	for (int i = 0; i < nsubs; i++)
		while (atomic_load_explicit(&c->done[i], memory_order_acquire) <= r) {
			if (atomic_load(&c->failed))
				_exit(0);
			cpu_relax();
		}
}

static void publisher(struct fan_run *f)
{
	struct fan_ctl *c = f->c;
	struct shmkit_pub *pub = NULL;
	struct shmkit_chan *ch[FAN_MAX_SUBS];
	uint64_t seq = 0, n;
	int err, r, nch = f->topic ? 0 : f->nsubs;
	void *p;

	if (f->topic && (err = shmkit_pub_open(f->name[0], 0, &pub)) < 0)
		fan_fail(c, "publisher: open", err);
	for (int i = 0; i < nch; i++)
		if ((err = shmkit_chan_open(f->name[i], SHMKIT_PRODUCER, &ch[i])) < 0)
			fan_fail(c, "producer: open", err);
	started(c);
	/* a warm-up of about a ring's worth touches every page first */
	n = f->o->ring / f->size;
	n = n < 64 ? 64 : n > 100000 ? 100000 : n;
	for (r = 0; r <= f->o->reps && r < FAN_ROUNDS - 1; r++) {
		double w0, w1, dt;
		uint64_t k0, k1;

		pub_counts(f, &w0, &k0);
		if (r > 0) {
			/* the other subscribers' spins for the next message are over
			   (a channel's is at most 1 ms): subscriber 0 has its cpu */
			nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
			c->line_ns[r] = probe_line(c);
			atomic_store_explicit(&c->probed, r, memory_order_release);
		}
		c->n[r] = n;
		c->t0[r] = clock_s();
		for (uint64_t k = 0; k < n; k++, seq++) {
			if (pub) {
				if ((err = shmkit_pub_reserve(pub, f->size, &p, FAN_TIMEOUT_MS)) < 0)
					fan_fail(c, "publisher: reserve", err);
				bench_fill(p, f->size, seq);
				shmkit_pub_commit(pub, f->size);
				continue;
			}
			for (int i = 0; i < nch; i++) {
				if ((err = shmkit_chan_reserve(ch[i], f->size, &p, FAN_TIMEOUT_MS)) < 0)
					fan_fail(c, "producer: reserve", err);
				bench_fill(p, f->size, seq);
				shmkit_chan_commit(ch[i], f->size);
			}
		}
		c->sent[r] = clock_s();
		wait_round(c, f->nsubs, r);
		pub_counts(f, &w1, &k1);
		c->wait_s[r] = w1 - w0;
		c->wakes[r] = k1 - k0;
		/* the next round: round_s at this round's pace */
		dt = c->t1[r][0] - c->t0[r];
		for (int i = 1; i < f->nsubs; i++)
			if (c->t1[r][i] - c->t0[r] > dt)
				dt = c->t1[r][i] - c->t0[r];
		n = dt > 0 ? (uint64_t)((double)n * f->round_s / dt) : n;
		n = n < 16 ? 16 : n;
	}
	c->n[r] = 0;
	atomic_store_explicit(&c->probed, r, memory_order_release);
	if (pub)
		shmkit_pub_close(pub);
	for (int i = 0; i < nch; i++)
		shmkit_chan_close(ch[i]);
}

static void subscriber(struct fan_run *f, int i)
{
	struct fan_ctl *c = f->c;
	struct shmkit_sub *sub = NULL;
	struct shmkit_chan *ch = NULL;
	const void *p;
	uint64_t seq = 0;
	size_t len;
	int err;

	if (f->topic)
		err = shmkit_sub_open(f->name[0], 0, &sub);
	else
		err = shmkit_chan_open(f->name[i], SHMKIT_CONSUMER, &ch);
	if (err < 0)
		fan_fail(c, "subscriber: open", err);
	started(c);
	for (int r = 0;; r++) {
		for (uint64_t k = 0;; k++, seq++) {
			err = sub ? shmkit_sub_peek(sub, &p, &len, FAN_TIMEOUT_MS) :
				    shmkit_chan_peek(ch, &p, &len, FAN_TIMEOUT_MS);
			if (err == -SHMKIT_EEOF && k == 0)
				goto out;
			if (err < 0)
				fan_fail(c, "subscriber: peek", err);
			/* the message is published after n[r]: its acquire covers it */
			if (len != f->size || (err = bench_check(p, len, seq)) < 0) {
				if (len != f->size)
					snprintf(bench_why, sizeof(bench_why), "message %llu: %zu bytes",
						 (unsigned long long)seq, len);
				fan_fail(c, "subscriber", -EBADMSG);
			}
			if ((err = sub ? shmkit_sub_release(sub) : shmkit_chan_release(ch)) < 0)
				fan_fail(c, "subscriber: release", err);
			if (k + 1 == c->n[r])
				break;
		}
		seq++;
		c->t1[r][i] = clock_s();
		atomic_store_explicit(&c->done[i], r + 1, memory_order_release);
		if (i == 0)
			answer_probe(c, f->nsubs, r + 1);
	}
out:
	if (sub)
		shmkit_sub_close(sub);
	else
		shmkit_chan_close(ch);
}

/* The topic, or the channels, each as large as the bench's channel ring. */
static int make_segments(struct fan_run *f)
{
	static unsigned serial;
	int r;

	f->nseg = f->topic ? 1 : f->nsubs;
	for (int i = 0; i < f->nseg; i++) {
		snprintf(f->name[i], sizeof(f->name[i]), "shmkit-bench-fan.%d.%u",
			 (int)getpid(), serial++);
		if (f->topic) {
			/* the channel ring's bytes, in slots of the message size */
			size_t per = (f->size + 16 + 63) / 64 * 64;
			uint32_t slots = 8;

			while ((size_t)slots * 2 * per <= f->o->ring && slots < (1u << 16))
				slots *= 2;
			struct shmkit_topic_params tp = {
				.max_msg = f->size, .slots = slots, .max_subs = (uint32_t)f->nsubs,
				.policy = SHMKIT_TOPIC_BLOCK,
			};
			r = shmkit_topic_create(f->name[i], &tp, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
		} else {
			size_t cap = f->size * 2 > f->o->ring ? f->size * 2 : f->o->ring;

			r = shmkit_chan_create(f->name[i], cap, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
		}
		if (r < 0) {
			err_msg("bench", "fan-out: %s: %s", f->name[i], shmkit_strerror(r));
			f->nseg = i;
			return -1;
		}
		f->shmid[i] = r;
	}
	return 0;
}

static void remove_segments(struct fan_run *f)
{
	for (int i = 0; i < f->nseg; i++)
		shmkit_seg_remove(f->shmid[i]);
}

/* Forks the publisher and the subscribers, and waits; 0 or -1 (said). */
static int fan_fork(struct fan_run *f, const char *what)
{
	pid_t pid[FAN_MAX_SUBS + 1];
	int n = f->nsubs + 1, bad;
	double start = clock_s();

	fflush(NULL);
	for (int i = 0; i < n; i++) {
		if ((pid[i] = fork()) < 0) {
			err_msg("bench", "fork: %s", strerror(errno));
			for (int k = 0; k < i; k++)
				kill(pid[k], SIGKILL), waitpid(pid[k], NULL, 0);
			return -1;
		}
		if (pid[i] == 0) {
			pair_pin(f->o->cpu[i ? 1 : 0]);
			if (i == 0)
				publisher(f);
			else
				subscriber(f, i - 1);
			_exit(0);
		}
	}
	while (atomic_load(&f->c->ready) < n && !atomic_load(&f->c->failed) &&
	       clock_s() - start < FAN_START_S)
		usleep(100);
	if (atomic_load(&f->c->ready) == n) {
		remove_segments(f);	/* all attached: freed when they detach */
		atomic_store_explicit(&f->c->go, 1, memory_order_release);
	} else if (!atomic_exchange(&f->c->failed, 1)) {
		snprintf(f->c->why, sizeof(f->c->why), "the processes did not start");
	}
	bad = pair_reap(pid, n, &f->c->failed, f->c->why, sizeof(f->c->why));
	if (bad || atomic_load(&f->c->failed)) {
		err_msg("bench", "%s: %s; no figure reported for this run", what, f->c->why);
		return -1;
	}
	return 0;
}

int bench_fanout(int topic, int nsubs, size_t size, const struct bench_opts *o,
		 struct bench_fan_result *res)
{
	struct fan_run f = { .topic = topic, .nsubs = nsubs, .size = size, .o = o,
			     .round_s = o->duration / 2 };
	double deliv[BENCH_MAX_REPS], busy[BENCH_MAX_REPS], wait[BENCH_MAX_REPS];
	double wakes[BENCH_MAX_REPS], line[BENCH_MAX_REPS];
	char what[64];
	int k = 0, err;

	if (nsubs < 1 || nsubs > FAN_MAX_SUBS)
		return -1;
	snprintf(what, sizeof(what), "fan-out %s to %d, %zu B", topic ? "topic" : "channels",
		 nsubs, size);
	f.c = mmap(NULL, sizeof(*f.c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f.c == MAP_FAILED) {
		err_msg("bench", "%s: %s", what, strerror(errno));
		return -1;
	}
	if ((err = make_segments(&f)) == 0)
		err = fan_fork(&f, what);
	remove_segments(&f);
	/* round 0 warmed up; the timed rounds follow until n is 0 */
	for (int r = 1; err == 0 && r < FAN_ROUNDS && f.c->n[r] && k < o->reps; r++, k++) {
		double last = f.c->t1[r][0], sending = f.c->sent[r] - f.c->t0[r];

		for (int i = 1; i < nsubs; i++)
			last = f.c->t1[r][i] > last ? f.c->t1[r][i] : last;
		deliv[k] = (double)f.c->n[r] / (last - f.c->t0[r]);
		/* never below a tenth of the sending time: a counter read late */
		busy[k] = (double)f.c->n[r] /
			  (sending - f.c->wait_s[r] > sending / 10 ? sending - f.c->wait_s[r]
								   : sending / 10);
		wait[k] = f.c->wait_s[r] / sending;
		wakes[k] = 1000.0 * (double)f.c->wakes[r] / (double)f.c->n[r];
		line[k] = f.c->line_ns[r];
	}
	munmap(f.c, sizeof(*f.c));
	if (err || k == 0)
		return -1;
	bench_stat_of(deliv, k, &res->delivered);
	bench_stat_of(busy, k, &res->pub_busy);
	bench_stat_of(wait, k, &res->pub_wait);
	bench_stat_of(wakes, k, &res->pub_wakes);
	bench_stat_of(line, k, &res->line_ns);
	res->nreps = k;
	return 0;
}
