/*
 * Running one measurement: two processes, pinned to different cores, that
 * talk over a transport, and a parent that waits for them and turns their
 * clock readings into figures.
 *
 * Repetitions. The producer (or pinger) runs rounds: warm-up rounds,
 * doubling in length until one lasts a quarter of the repetition time,
 * then o->reps timed rounds sized from the warm-up's rate. Rounds never
 * overlap: the producer starts the next only when the consumer has
 * checked the last message of this one.
 *
 * The control block is shared memory (MAP_SHARED | MAP_ANONYMOUS, so
 * nothing outlives the run). One writer per field; the round and done
 * counters are release/acquire pairs, so the figures a counter announces
 * are visible once it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "shmkit.h"

#define MAX_ROUNDS (BENCH_MAX_REPS + 40)
#define START_TIMEOUT 10.0	/* seconds for both children to open */

struct ctl {
	_Atomic int ready;	/* children that have opened their end */
	_Atomic int go;		/* parent: both open, start */
	_Atomic int round;	/* producer: round r announced (n[r] set), -1 none */
	_Atomic int done;	/* consumer: round r checked to its end */
	_Atomic int stop;	/* producer: no more rounds */
	_Atomic int failed;
	int timed_from;		/* first timed round */
	uint64_t n[MAX_ROUNDS];
	double t0[MAX_ROUNDS], t1[MAX_ROUNDS];
	/* round trips: each timed round's median and 99th percentile */
	double med[MAX_ROUNDS], p99[MAX_ROUNDS];
	uint64_t samples;
	int have_wakes;
	uint64_t wakes, wake_msgs;
	char why[320];
};

/* Spins until *v >= want or the stop flag (if any) or a failure. */
static int wait_for(struct ctl *c, _Atomic int *v, int want)
{
	unsigned i = 0;

	while (atomic_load_explicit(v, memory_order_acquire) < want) {
		if (atomic_load_explicit(&c->failed, memory_order_relaxed))
			return -1;
		if (atomic_load_explicit(&c->stop, memory_order_acquire))
			return 1;
		cpu_relax();
		/* the other side may share this core when pinning is off */
		if (++i % 1024 == 0)
			sched_yield();
	}
	return 0;
}

static _Noreturn void child_fail(struct ctl *c, const char *what, int err)
{
	/* first failure wins: the other side's failure is a consequence */
	if (!atomic_exchange(&c->failed, 1))
		snprintf(c->why, sizeof(c->why), "%s: %s", what,
			 err == -EBADMSG ? bench_why : shmkit_strerror(err));
	_exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

int bench_can_pin(const struct bench_opts *o, char *why, size_t cap)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		snprintf(why, cap, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (o->cpu[i] < 0 || o->cpu[i] >= CPU_SETSIZE || !CPU_ISSET(o->cpu[i], &set)) {
			snprintf(why, cap, "cpu %d is not available to this process", o->cpu[i]);
			return -1;
		}
	}
	if (o->cpu[0] == o->cpu[1]) {
		snprintf(why, cap, "producer and consumer need different cpus");
		return -1;
	}
	return 0;
}

static struct ctl *ctl_new(void)
{
	struct ctl *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (c == MAP_FAILED)
		return NULL;
	atomic_store(&c->round, -1);
	atomic_store(&c->done, -1);
	return c;
}

/* Rounds to time after round r took dt seconds for n messages (or trips). */
static uint64_t next_round(struct ctl *c, int r, double target, int reps, int *timed_left)
{
	double dt = c->t1[r] - c->t0[r], per = dt / (double)c->n[r];
	uint64_t n;

	if (c->timed_from < 0) {
		/* warming up: double until a round lasts a quarter of target */
		if (dt < target / 4 && r < MAX_ROUNDS - reps - 1)
			return c->n[r] * 2;
		c->timed_from = r + 1;
		*timed_left = reps;
	}
	if ((*timed_left)-- <= 0)
		return 0;
	n = per > 0 ? (uint64_t)(target / per) : c->n[r] * 4;
	return n < 16 ? 16 : n;
}

/*
 * Forks the two sides, lets them open, starts them, and waits. Returns 0
 * or -1 with the reason printed. Neither side outlives the call.
 */
static int run_pair(struct ctl *c, const struct bench_opts *o, const char *what,
		    void (*side)(struct ctl *, int, void *), void *arg,
		    void (*opened)(void *), void *opened_arg)
{
	pid_t pid[2];
	int status, left = 2, bad = 0;
	double start = clock_s();

	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			err_msg("bench", "fork: %s", strerror(errno));
			if (i)
				kill(pid[0], SIGKILL), waitpid(pid[0], NULL, 0);
			return -1;
		}
		if (pid[i] == 0) {
			pin(o->cpu[i]);
			side(c, i, arg);
			_exit(0);
		}
	}
	/* both ends open before anyone may lose the name */
	while (atomic_load(&c->ready) < 2 && !atomic_load(&c->failed) &&
	       clock_s() - start < START_TIMEOUT)
		usleep(100);
	if (atomic_load(&c->ready) == 2) {
		if (opened)
			opened(opened_arg);
		atomic_store_explicit(&c->go, 1, memory_order_release);
	} else if (!atomic_exchange(&c->failed, 1)) {
		snprintf(c->why, sizeof(c->why), "the two sides did not start");
	}
	while (left > 0) {
		pid_t p = wait(&status);

		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			break;
		left--;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad = 1;
			/* the other side may wait for ever on a dead peer's pipe */
			for (int i = 0; i < 2; i++)
				if (pid[i] != p)
					kill(pid[i], SIGKILL);
			if (!atomic_exchange(&c->failed, 1))
				snprintf(c->why, sizeof(c->why), "a side died (%s)",
					 WIFSIGNALED(status) ? strsignal(WTERMSIG(status))
							     : "exit status");
		}
	}
	if (bad || atomic_load(&c->failed)) {
		err_msg("bench", "%s: %s; no figure reported for this run", what, c->why);
		return -1;
	}
	return 0;
}


/* ------------------------------------------------------------ streaming */

struct stream_arg {
	const struct bench_xport *x;
	struct bench_link *link;
	size_t size;
	const struct bench_opts *o;
	uint64_t fault;		/* a message sent with a wrong number, for tests */
};

static void stream_side(struct ctl *c, int consumer, void *arg)
{
	struct stream_arg *a = arg;
	uint64_t seq = 0, n;
	int err, timed_left = 0;

	if ((err = a->x->open(a->link, !consumer)) < 0)
		child_fail(c, "open", err);
	atomic_fetch_add(&c->ready, 1);
	if (wait_for(c, &c->go, 1))
		_exit(1);
	if (!consumer) {
		c->timed_from = -1;
		n = 1024 * 1024 / (a->size + 64) + 16;
		for (int r = 0; n; r++) {
			c->n[r] = n;
			c->t0[r] = clock_s();
			/* announces n[r] and t0[r]; pairs with the consumer's acquire */
			atomic_store_explicit(&c->round, r, memory_order_release);
			for (uint64_t i = 0; i < n; i++, seq++)
				if ((err = a->x->send(a->link, seq == a->fault ? seq + 1 : seq,
						      a->size)) < 0)
					child_fail(c, "send", err);
			if (wait_for(c, &c->done, r))
				_exit(1);
			n = next_round(c, r, a->o->duration, a->o->reps, &timed_left);
		}
		atomic_store_explicit(&c->stop, 1, memory_order_release);
	} else {
		for (int r = 0;; r++) {
			if (wait_for(c, &c->round, r))
				break;
			for (uint64_t i = 0; i < c->n[r]; i++)
				if ((err = a->x->recv(a->link, seq++, a->size)) < 0)
					child_fail(c, "receive", err);
			c->t1[r] = clock_s();
			atomic_store_explicit(&c->done, r, memory_order_release);
		}
		c->have_wakes = a->x->wakes(a->link, &c->wakes, &c->wake_msgs) == 0;
	}
	a->x->close(a->link, !consumer);
}

static void link_opened(void *arg)
{
	struct stream_arg *a = arg;

	a->x->opened(a->link);
}

int bench_stream(const struct bench_xport *x, size_t size,
		 const struct bench_opts *o, struct bench_stream_result *r)
{
	struct stream_arg a = { x, NULL, size, o, UINT64_MAX };
	const char *fault = getenv("SHMKIT_BENCH_FAULT");
	double rate[BENCH_MAX_REPS], gbs[BENCH_MAX_REPS];
	char what[96];
	struct ctl *c = ctl_new();
	int err, k = 0;

	snprintf(what, sizeof(what), "%s, %zu-byte messages", x->label, size);
	/* the tests' proof that a broken run is an error, not a figure */
	if (fault && *fault)
		a.fault = strtoull(fault, NULL, 10);
	if (!c) {
		err_msg("bench", "shared control block: %s", strerror(errno));
		return -1;
	}
	if ((err = x->make(&a.link, size, SHMKIT_WAIT_BLOCK, o->ring)) < 0) {
		err_msg("bench", "%s: %s", what, shmkit_strerror(err));
		munmap(c, sizeof(*c));
		return -1;
	}
	err = run_pair(c, o, what, stream_side, &a, link_opened, &a);
	x->destroy(a.link);
	if (!err) {
		memset(r, 0, sizeof(*r));
		for (int i = c->timed_from; i < MAX_ROUNDS && c->n[i] && k < o->reps; i++, k++) {
			double dt = c->t1[i] - c->t0[i];

			rate[k] = (double)c->n[i] / dt;
			gbs[k] = rate[k] * (double)size / 1e9;
			r->msgs += c->n[i];
		}
		bench_stat_of(rate, k, &r->msgs_per_s);
		bench_stat_of(gbs, k, &r->gb_per_s);
		if (c->have_wakes && c->wake_msgs) {
			r->have_wakes = 1;
			r->wakes_per_1000 = (double)c->wakes * 1000.0 / (double)c->wake_msgs;
		}
	}
	munmap(c, sizeof(*c));
	return err;
}

/* ------------------------------------------------------------ ping-pong */

struct pp_arg {
	const struct bench_xport *x;
	struct bench_link *there, *back;	/* pinger to ponger, and back */
	size_t size;
	unsigned gap_us;
	const struct bench_opts *o;
};

/* Closes latency round r of n round trips t (seconds): median and p99. */
static void end_latency_round(struct ctl *c, int r, double *t, uint64_t n)
{
	c->t1[r] = clock_s();
	qsort(t, n, sizeof(*t), cmp_double);
	c->med[r] = t[n / 2] * 1e9;
	c->p99[r] = t[(n * 99) / 100] * 1e9;
	if (c->timed_from >= 0)
		c->samples += n;
}

static void pinger(struct ctl *c, struct pp_arg *a)
{
	size_t cap = 1 << 20;
	double *t = malloc(cap * sizeof(*t));
	struct timespec gap = { 0, (long)a->gap_us * 1000 };
	uint64_t seq = 0, n = 64;
	int err, timed_left = 0;

	if (!t)
		child_fail(c, "samples", -ENOMEM);
	c->timed_from = -1;
	for (int r = 0; n; r++) {
		if (n > cap)
			n = cap;
		c->n[r] = n;
		c->t0[r] = clock_s();
		for (uint64_t i = 0; i < n; i++, seq++) {
			double t0;

			if (a->gap_us)
				nanosleep(&gap, NULL);
			t0 = clock_s();
			if ((err = a->x->send(a->there, seq, a->size)) < 0)
				child_fail(c, "send", err);
			if ((err = a->x->recv(a->back, seq, a->size)) < 0)
				child_fail(c, "receive", err);
			t[i] = clock_s() - t0;
		}
		end_latency_round(c, r, t, n);
		n = next_round(c, r, a->o->lat_duration, a->o->reps, &timed_left);
	}
	/* the ponger reads stop after the next message, and answers no more */
	atomic_store_explicit(&c->stop, 1, memory_order_release);
	if ((err = a->x->send(a->there, seq, a->size)) < 0)
		child_fail(c, "send", err);
	free(t);
}

static void ponger(struct ctl *c, struct pp_arg *a)
{
	int err;

	for (uint64_t seq = 0;; seq++) {
		if ((err = a->x->recv(a->there, seq, a->size)) < 0)
			child_fail(c, "receive", err);
		/* the transport ordered the pinger's store of stop before this */
		if (atomic_load_explicit(&c->stop, memory_order_acquire))
			break;
		if ((err = a->x->send(a->back, seq, a->size)) < 0)
			child_fail(c, "send", err);
	}
}

static void pp_side(struct ctl *c, int ponging, void *arg)
{
	struct pp_arg *a = arg;
	int err;

	if ((err = a->x->open(a->there, !ponging)) < 0)
		child_fail(c, "open", err);
	if ((err = a->x->open(a->back, ponging)) < 0)
		child_fail(c, "open", err);
	atomic_fetch_add(&c->ready, 1);
	if (wait_for(c, &c->go, 1))
		_exit(1);
	if (ponging)
		ponger(c, a);
	else
		pinger(c, a);
	a->x->close(a->there, !ponging);
	a->x->close(a->back, ponging);
}

static void pp_opened(void *arg)
{
	struct pp_arg *a = arg;

	a->x->opened(a->there);
	a->x->opened(a->back);
}

static void lat_result(struct ctl *c, int reps, struct bench_lat_result *r)
{
	double med[BENCH_MAX_REPS], p99[BENCH_MAX_REPS];
	int k = 0;

	for (int i = c->timed_from; i < MAX_ROUNDS && c->n[i] && k < reps; i++, k++) {
		med[k] = c->med[i];
		p99[k] = c->p99[i];
	}
	bench_stat_of(med, k, &r->median_ns);
	bench_stat_of(p99, k, &r->p99_ns);
	r->samples = c->samples;
}

int bench_pingpong(const struct bench_xport *x, size_t size, int policy,
		   unsigned gap_us, const struct bench_opts *o,
		   struct bench_lat_result *r)
{
	struct pp_arg a = { x, NULL, NULL, size, gap_us, o };
	struct ctl *c = ctl_new();
	char what[96];
	int err;

	snprintf(what, sizeof(what), "%s, %zu-byte round trips", x->label, size);
	if (!c) {
		err_msg("bench", "shared control block: %s", strerror(errno));
		return -1;
	}
	if ((err = x->make(&a.there, size, policy, o->ring)) < 0 ||
	    (err = x->make(&a.back, size, policy, o->ring)) < 0) {
		err_msg("bench", "%s: %s", what, shmkit_strerror(err));
		if (a.there)
			x->destroy(a.there);
		munmap(c, sizeof(*c));
		return -1;
	}
	err = run_pair(c, o, what, pp_side, &a, pp_opened, &a);
	x->destroy(a.there);
	x->destroy(a.back);
	if (!err) {
		memset(r, 0, sizeof(*r));
		lat_result(c, o->reps, r);
	}
	munmap(c, sizeof(*c));
	return err;
}

/* ------------------------------------------------------- the hardware */

/*
 * The copy a producer does, without anything else: size bytes from one
 * private buffer into a region the ring's size, walking through it.
 */
int bench_memcpy(size_t size, const struct bench_opts *o, struct bench_stat *s)
{
	size_t region = o->ring > size ? o->ring : size, off = 0;
	unsigned char *src = malloc(size), *dst = malloc(region);
	double v[BENCH_MAX_REPS], target = o->duration / 2;
	uint64_t n = 16;
	cpu_set_t old;
	int k = 0;

	if (!src || !dst) {
		free(src);
		free(dst);
		err_msg("bench", "memcpy: %s", strerror(ENOMEM));
		return -1;
	}
	sched_getaffinity(0, sizeof(old), &old);
	pin(o->cpu[0]);
	memset(src, 0x5a, size);
	memset(dst, 0, region);
	for (int warm = 1; k < o->reps;) {
		double t0 = clock_s(), dt;

		for (uint64_t i = 0; i < n; i++) {
			if (off + size > region)
				off = 0;
			memcpy(dst + off, src, size);
			/* keeps the compiler from dropping copies nobody reads */
			__asm__ __volatile__("" : : "r"(dst + off) : "memory");
			off += size;
		}
		dt = clock_s() - t0;
		if (warm && dt < target / 4) {
			n *= 2;
			continue;
		}
		if (warm) {
			warm = 0;
			n = (uint64_t)((double)n * target / dt) + 1;
			continue;
		}
		v[k++] = (double)n * (double)size / dt / 1e9;
	}
	sched_setaffinity(0, sizeof(old), &old);
	bench_stat_of(v, k, s);
	free(src);
	free(dst);
	return 0;
}

/* One line, owned by nobody else; the two sides take turns bumping it. */
struct cl_arg {
	_Atomic uint64_t *line;
	const struct bench_opts *o;
};

static void cl_side(struct ctl *c, int ponging, void *arg)
{
	struct cl_arg *a = arg;
	size_t cap = 1 << 20;
	double *t = NULL;
	uint64_t v = 0, n = 1024;
	int timed_left = 0;

	atomic_fetch_add(&c->ready, 1);
	if (wait_for(c, &c->go, 1))
		_exit(1);
	if (ponging) {
		/* answer odd with even until the pinger writes 0 */
		for (;;) {
			while (((v = atomic_load_explicit(a->line, memory_order_acquire)) & 1) == 0) {
				if (atomic_load_explicit(&c->stop, memory_order_acquire))
					return;
				cpu_relax();
			}
			atomic_store_explicit(a->line, v + 1, memory_order_release);
		}
	}
	if (!(t = malloc(cap * sizeof(*t))))
		child_fail(c, "samples", -ENOMEM);
	c->timed_from = -1;
	for (int r = 0; n; r++) {
		if (n > cap)
			n = cap;
		c->n[r] = n;
		c->t0[r] = clock_s();
		for (uint64_t i = 0; i < n; i++) {
			double t0 = clock_s();

			atomic_store_explicit(a->line, ++v, memory_order_release);
			while (atomic_load_explicit(a->line, memory_order_acquire) == v)
				cpu_relax();
			v++;
			t[i] = clock_s() - t0;
		}
		end_latency_round(c, r, t, n);
		n = next_round(c, r, c->t1[r] > 0 ? a->o->lat_duration : 0, a->o->reps, &timed_left);
	}
	atomic_store_explicit(&c->stop, 1, memory_order_release);
	free(t);
}

int bench_cacheline(const struct bench_opts *o, struct bench_lat_result *r)
{
	struct ctl *c = ctl_new();
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct cl_arg a = { page, o };
	int err;

	if (!c || page == MAP_FAILED) {
		err_msg("bench", "shared memory: %s", strerror(errno));
		if (c)
			munmap(c, sizeof(*c));
		return -1;
	}
	err = run_pair(c, o, "cache line round trip", cl_side, &a, NULL, NULL);
	if (!err) {
		memset(r, 0, sizeof(*r));
		lat_result(c, o->reps, r);
	}
	munmap(page, 4096);
	munmap(c, sizeof(*c));
	return err;
}

/* ------------------------------------------------------------ statistics */

void bench_stat_of(double *v, int n, struct bench_stat *s)
{
	if (n <= 0) {
		s->median = s->min = s->max = 0;
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
