/*
 * The runner's private seam (bench/pair.c): two forked processes with a
 * shared control block, used by stream.c, pingpong.c and hardware.c.
 */
#ifndef SHMKIT_BENCH_PAIR_H
#define SHMKIT_BENCH_PAIR_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"
#include "cli.h"	/* clock_s */

#define MAX_ROUNDS (BENCH_MAX_REPS + 40)

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
	/* round trips: each round's mean trip; sampled rounds' median and
	 * 99th percentile (the last round, after the timed ones, when trips
	 * follow each other without a gap) */
	double mean[MAX_ROUNDS], med[MAX_ROUNDS], p99[MAX_ROUNDS];
	int sampled_last;	/* percentiles only from the round after the timed ones */
	uint64_t samples;
	/* streams, timed rounds: the consumer's cpu seconds at its start
	 * (cons_cpu[0]) and at the end of round r (r + 1); the other load
	 * beside round r (cpus, -1 unknown); the transport's counters' growth */
	double cons_cpu[MAX_ROUNDS + 1];
	double other[MAX_ROUNDS];
	int have_counts[MAX_ROUNDS];
	struct bench_counts counts[MAX_ROUNDS];
	/* streams, timed rounds: the cache line's round trip just before */
	double line_ns[MAX_ROUNDS];
	char why[320];
	/* the probe's line: the producer makes it odd, the consumer even */
	_Alignas(64) _Atomic uint64_t probe;
	char probe_pad[64 - sizeof(uint64_t)];
};

/* A fresh control block (shared, anonymous), or NULL with errno set. */
struct ctl *pair_ctl_new(void);
/*
 * Forks side(c, i, arg) for i = 0 and 1, pinned to o->cpu[i]; once both
 * have opened their ends calls opened(opened_arg) (if not NULL) and lets
 * them go. Returns 0, or -1 with the reason printed (what names the run).
 */
int pair_run(struct ctl *c, const struct bench_opts *o, const char *what,
	     void (*side)(struct ctl *, int, void *), void *arg,
	     void (*opened)(void *), void *opened_arg);

/* In a side: spins until *v >= want (0), the stop flag (1) or a failure (-1),
 * answering the probe (stream.c) while it waits. */
int pair_wait(struct ctl *c, _Atomic int *v, int want);
/* In a side, its end open: waits for the other side and the parent's go
 * (exits quietly if the run failed meanwhile). */
void pair_started(struct ctl *c);
/* In a side: records the first failure (err as -errno or -EBADMSG) and exits. */
_Noreturn void pair_fail(struct ctl *c, const char *what, int err);
/*
 * Waits for the n children in pid; when one fails (a signal or a non-zero
 * status) kills the rest, sets *failed and, if it was the first, says
 * why in why. Returns 1 if any failed, else 0.
 */
int pair_reap(const pid_t *pid, int n, _Atomic int *failed, char *why, size_t cap);
/* Pins the calling process to cpu; cpu < 0 leaves it free. */
void pair_pin(int cpu);
/* How long round r+1 is, after round r: 0 when the last timed round is done. */
uint64_t pair_next_round(struct ctl *c, int r, double target, int reps, int *timed_left);
/* Round r's median and 99th percentile from its n samples t (seconds; sorts t). */
void pair_percentiles(struct ctl *c, int r, double *t, uint64_t n);
/* The timed rounds' medians and 99th percentiles, as the result. */
void pair_lat_result(struct ctl *c, int reps, struct bench_lat_result *r);

/* Round r of n trips, timed as a whole: its mean trip. */
static inline uint64_t pair_batch_round(struct ctl *c, int r, uint64_t n, uint64_t seq,
					void (*trip)(struct ctl *, void *, uint64_t), void *arg)
{
	c->n[r] = n;
	c->t0[r] = clock_s();
	for (uint64_t i = 0; i < n; i++)
		trip(c, arg, seq + i);
	c->t1[r] = clock_s();
	c->mean[r] = (c->t1[r] - c->t0[r]) / (double)n * 1e9;
	return seq + n;
}

/* Round r of n trips (n at most the room in t), each timed alone. */
static inline uint64_t pair_sampled_round(struct ctl *c, int r, uint64_t n, uint64_t seq,
					  unsigned gap_us, double *t,
					  void (*trip)(struct ctl *, void *, uint64_t), void *arg)
{
	struct timespec gap = { 0, (long)gap_us * 1000 };
	double sum = 0;

	c->n[r] = n;
	c->t0[r] = clock_s();
	for (uint64_t i = 0; i < n; i++) {
		double t0;

		if (gap_us)
			nanosleep(&gap, NULL);
		t0 = clock_s();
		trip(c, arg, seq + i);
		t[i] = clock_s() - t0;
		sum += t[i];
	}
	c->t1[r] = clock_s();
	c->mean[r] = sum / (double)n * 1e9;
	pair_percentiles(c, r, t, n);
	return seq + n;
}

/*
 * The pinger's half of a round-trip measurement: rounds of trips, from
 * first_n and then as pair_next_round says. Without a gap every round is
 * timed as a whole, and one more round, as long as the last, is sampled
 * for the percentiles; with gap_us > 0 each trip is timed alone after a
 * sleep of that long (outside its time). Returns the trips made. Inline,
 * so that with trip a known function the compiler inlines it too: no
 * indirect call is timed.
 */
static inline uint64_t pair_latency_rounds(struct ctl *c, const struct bench_opts *o,
					   uint64_t first_n, unsigned gap_us,
					   void (*trip)(struct ctl *, void *, uint64_t),
					   void *arg)
{
	const uint64_t cap = 1 << 20;
	double *t = malloc(cap * sizeof(*t));
	uint64_t seq = 0, n = first_n;
	int timed_left = 0, r;

	if (!t)
		pair_fail(c, "samples", -ENOMEM);
	c->timed_from = -1;
	c->sampled_last = !gap_us;
	for (r = 0; n; r++) {
		if (gap_us)
			seq = pair_sampled_round(c, r, n < cap ? n : cap, seq, gap_us, t, trip, arg);
		else
			seq = pair_batch_round(c, r, n, seq, trip, arg);
		n = pair_next_round(c, r, o->lat_duration, o->reps, &timed_left);
	}
	if (!gap_us && r < MAX_ROUNDS) {
		n = c->n[r - 1];
		seq = pair_sampled_round(c, r, n < cap ? n : cap, seq, 0, t, trip, arg);
		c->n[r] = 0;	/* not a timed round: pair_lat_result stops before it */
	}
	free(t);
	return seq;
}

#endif
