/*
 * Streaming throughput: a producer sends rounds of messages as fast as the
 * transport takes them, the consumer checks every one, and the rate is
 * messages over the time from a round's first send to its last check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "pair.h"
#include "shmkit.h"

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
		pair_fail(c, "open", err);
	atomic_fetch_add(&c->ready, 1);
	if (pair_wait(c, &c->go, 1))
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
					pair_fail(c, "send", err);
			if (pair_wait(c, &c->done, r))
				_exit(1);
			n = pair_next_round(c, r, a->o->duration, a->o->reps, &timed_left);
		}
		atomic_store_explicit(&c->stop, 1, memory_order_release);
	} else {
		for (int r = 0;; r++) {
			if (pair_wait(c, &c->round, r))
				break;
			for (uint64_t i = 0; i < c->n[r]; i++)
				if ((err = a->x->recv(a->link, seq++, a->size)) < 0)
					pair_fail(c, "receive", err);
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
	struct ctl *c = pair_ctl_new();
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
	err = pair_run(c, o, what, stream_side, &a, link_opened, &a);
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
