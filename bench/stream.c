/*
 * Streaming throughput: a producer sends rounds of messages as fast as the
 * transport takes them, the consumer checks every one, and the rate is
 * messages over the time from a round's first send to its last check.
 * Around each timed round, outside its time, the producer reads what else
 * ran on the bench's cpus (load.c) and the transport's own counters of
 * system calls and waiting, and just before it the two sides pass one
 * cache line back and forth (the probe): the host can move or share the
 * cpus under a virtual machine, which no counter inside it shows, and the
 * line's round trip then changes several times over with the figures.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "load.h"
#include "pair.h"
#include "shmkit.h"

struct stream_arg {
	const struct bench_xport *x;
	struct bench_link *link;
	size_t size;
	const struct bench_opts *o;
	uint64_t fault;		/* a message sent with a wrong number, for tests */
};

/* What the producer reads just outside a timed round. */
struct mark {
	struct bench_counts counts;
	int have_counts;
	double own_s;
	struct load_mark load;
};

static void counts_sub(struct bench_counts *d, const struct bench_counts *now,
		       const struct bench_counts *then)
{
	d->ring = now->ring;
	for (int s = 0; s < 2; s++) {
		d->sleeps[s] = now->sleeps[s] - then->sleeps[s];
		d->wakes[s] = now->wakes[s] - then->wakes[s];
		d->yields[s] = now->yields[s] - then->yields[s];
		d->wait_ns[s] = now->wait_ns[s] - then->wait_ns[s];
	}
}

/*
 * Before t0: the counters, the producer's cpu clock, then /proc/stat; at
 * the end the same in reverse. The bench's own time is thus read over a
 * little more than the window /proc/stat sees, and the other load, if
 * anything, comes out low. Nothing here is inside the timed window.
 */
static void round_begin(const struct stream_arg *a, struct mark *m)
{
	m->have_counts = a->x->counts(a->link, &m->counts) == 0;
	m->own_s = load_own_s();
	load_mark(&m->load, a->o->cpu);
}

static void round_end(struct ctl *c, const struct stream_arg *a, int r, const struct mark *m)
{
	struct bench_counts now;
	struct load_mark load;
	double own;

	load_mark(&load, a->o->cpu);
	/* the consumer read its clock at the end of the last round and this */
	own = load_own_s() - m->own_s + c->cons_cpu[r + 1] - c->cons_cpu[r];
	c->other[r] = load_other(&m->load, &load, own);
	c->have_counts[r] = m->have_counts && a->x->counts(a->link, &now) == 0;
	if (c->have_counts[r])
		counts_sub(&c->counts[r], &now, &m->counts);
}

#define PROBE_TRIPS 256

/* The producer's half of the probe (pair_wait answers it): mean round trip in ns. */
static double probe_line(struct ctl *c)
{
	uint64_t v = atomic_load_explicit(&c->probe, memory_order_relaxed);
	double t0 = clock_s();

	for (int i = 0; i < PROBE_TRIPS; i++) {
		/* odd: the consumer answers with v + 1 (relaxed: no data rides on it) */
		atomic_store_explicit(&c->probe, ++v, memory_order_relaxed);
		while (atomic_load_explicit(&c->probe, memory_order_relaxed) == v)
			cpu_relax();
		v++;
	}
	return (clock_s() - t0) / PROBE_TRIPS * 1e9;
}

static void produce(struct ctl *c, const struct stream_arg *a)
{
	uint64_t seq = 0, n = 1024 * 1024 / (a->size + 64) + 16;
	int err, timed_left = 0;
	struct mark m;

	c->timed_from = -1;
	for (int r = 0; n; r++) {
		/* set when the warm-up ends: every round after it is timed */
		int timed = c->timed_from >= 0;

		if (timed) {
			c->line_ns[r] = probe_line(c);
			round_begin(a, &m);
		}
		c->n[r] = n;
		c->t0[r] = clock_s();
		/* announces n[r] and t0[r]; pairs with the consumer's acquire */
		atomic_store_explicit(&c->round, r, memory_order_release);
		for (uint64_t i = 0; i < n; i++, seq++)
			if ((err = a->x->send(a->link, seq == a->fault ? seq + 1 : seq,
					      a->size)) < 0)
				pair_fail(c, "send", err);
		if (pair_wait(c, &c->done, r))
			_exit(1);
		if (timed)
			round_end(c, a, r, &m);
		n = pair_next_round(c, r, a->o->duration, a->o->reps, &timed_left);
	}
	atomic_store_explicit(&c->stop, 1, memory_order_release);
}

static void consume(struct ctl *c, const struct stream_arg *a)
{
	uint64_t seq = 0;
	int err;

	c->cons_cpu[0] = load_own_s();
	for (int r = 0;; r++) {
		if (pair_wait(c, &c->round, r))
			break;
		for (uint64_t i = 0; i < c->n[r]; i++)
			if ((err = a->x->recv(a->link, seq++, a->size)) < 0)
				pair_fail(c, "receive", err);
		c->t1[r] = clock_s();
		/* outside the timed window, before the producer's reading */
		c->cons_cpu[r + 1] = load_own_s();
		atomic_store_explicit(&c->done, r, memory_order_release);
	}
}

static void stream_side(struct ctl *c, int consumer, void *arg)
{
	struct stream_arg *a = arg;
	int err;

	if ((err = a->x->open(a->link, !consumer)) < 0)
		pair_fail(c, "open", err);
	pair_started(c);
	if (consumer)
		consume(c, a);
	else
		produce(c, a);
	a->x->close(a->link, !consumer);
}

static void link_opened(void *arg)
{
	struct stream_arg *a = arg;

	a->x->opened(a->link);
}

/* Timed round i of c as one repetition. */
static void round_rep(const struct ctl *c, int i, size_t size, struct bench_rep *rep)
{
	const struct bench_counts *k = &c->counts[i];
	double dt = c->t1[i] - c->t0[i];

	memset(rep, 0, sizeof(*rep));
	rep->msgs_per_s = (double)c->n[i] / dt;
	rep->gb_per_s = rep->msgs_per_s * (double)size / 1e9;
	rep->other_cpu = c->other[i];
	rep->spoiled = rep->other_cpu > BENCH_SPOILED_CPU;
	rep->line_ns = c->line_ns[i];
	if (!(rep->have_counts = c->have_counts[i]))
		return;
	rep->ring = k->ring;
	rep->syscalls_per_1000 = (double)(k->sleeps[0] + k->sleeps[1] + k->wakes[0] +
					  k->wakes[1] + k->yields[0] + k->yields[1]) *
				 1000.0 / (double)c->n[i];
	for (int s = 0; s < 2; s++)
		rep->wait[s] = (double)k->wait_ns[s] / 1e9 / dt;
}

void bench_stream_sum(struct bench_stream_result *r)
{
	double rate[BENCH_MAX_REPS], gbs[BENCH_MAX_REPS], calls[BENCH_MAX_REPS];
	double line[BENCH_MAX_REPS];
	double wait[2][BENCH_MAX_REPS];
	struct bench_stat st;
	int k = 0;

	r->spoiled = 0;
	r->other_cpu_max = -1;
	for (int i = 0; i < r->nreps; i++) {
		const struct bench_rep *p = &r->rep[i];

		rate[i] = p->msgs_per_s;
		gbs[i] = p->gb_per_s;
		line[i] = p->line_ns;
		r->spoiled += p->spoiled;
		if (p->other_cpu > r->other_cpu_max)
			r->other_cpu_max = p->other_cpu;
		if (p->have_counts) {
			calls[k] = p->syscalls_per_1000;
			wait[0][k] = p->wait[0];
			wait[1][k++] = p->wait[1];
		}
	}
	bench_stat_of(rate, r->nreps, &r->msgs_per_s);
	bench_stat_of(gbs, r->nreps, &r->gb_per_s);
	bench_stat_of(line, r->nreps, &r->line_ns);
	/* medians of every repetition's, or nothing */
	r->have_counts = k > 0 && k == r->nreps;
	if (!r->have_counts)
		return;
	bench_stat_of(calls, k, &st);
	r->syscalls_per_1000 = st.median;
	for (int s = 0; s < 2; s++) {
		bench_stat_of(wait[s], k, &st);
		r->wait[s] = st.median;
	}
}

int bench_stream(const struct bench_xport *x, size_t size,
		 const struct bench_opts *o, struct bench_stream_result *r)
{
	struct stream_arg a = { x, NULL, size, o, UINT64_MAX };
	const char *fault = getenv("SHMKIT_BENCH_FAULT");
	char what[96];
	struct ctl *c = pair_ctl_new();
	int err;

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
	err = pair_run(c, o, what, stream_side, &a, link_opened, &a);
	x->destroy(a.link);
	if (!err) {
		memset(r, 0, sizeof(*r));
		for (int i = c->timed_from; i < MAX_ROUNDS && c->n[i] && r->nreps < o->reps; i++) {
			round_rep(c, i, size, &r->rep[r->nreps++]);
			r->msgs += c->n[i];
		}
		bench_stream_sum(r);
	}
	munmap(c, sizeof(*c));
	return err;
}
