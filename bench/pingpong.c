/*
 * Round trips: the pinger sends one message and waits for the ponger's
 * answer over a second link; each trip is timed alone, and a round's
 * median and 99th percentile are its figures.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pair.h"
#include "shmkit.h"

struct pp_arg {
	const struct bench_xport *x;
	struct bench_link *there, *back;	/* pinger to ponger, and back */
	size_t size;
	unsigned gap_us;
	const struct bench_opts *o;
};

/* One timed round trip: there, and back. */
static void ping(struct ctl *c, void *arg, uint64_t seq)
{
	struct pp_arg *a = arg;
	int err;

	if ((err = a->x->send(a->there, seq, a->size)) < 0)
		pair_fail(c, "send", err);
	if ((err = a->x->recv(a->back, seq, a->size)) < 0)
		pair_fail(c, "receive", err);
}

static void pinger(struct ctl *c, struct pp_arg *a)
{
	uint64_t seq = pair_latency_rounds(c, a->o, 64, a->gap_us, ping, a);
	int err;

	/* the ponger reads stop after the next message, and answers no more */
	atomic_store_explicit(&c->stop, 1, memory_order_release);
	if ((err = a->x->send(a->there, seq, a->size)) < 0)
		pair_fail(c, "send", err);
}

static void ponger(struct ctl *c, struct pp_arg *a)
{
	int err;

	for (uint64_t seq = 0;; seq++) {
		if ((err = a->x->recv(a->there, seq, a->size)) < 0)
			pair_fail(c, "receive", err);
		/* the transport ordered the pinger's store of stop before this */
		if (atomic_load_explicit(&c->stop, memory_order_acquire))
			break;
		if ((err = a->x->send(a->back, seq, a->size)) < 0)
			pair_fail(c, "send", err);
	}
}

static void pp_side(struct ctl *c, int ponging, void *arg)
{
	struct pp_arg *a = arg;
	int err;

	if ((err = a->x->open(a->there, !ponging)) < 0)
		pair_fail(c, "open", err);
	if ((err = a->x->open(a->back, ponging)) < 0)
		pair_fail(c, "open", err);
	pair_started(c);
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

int bench_pingpong(const struct bench_xport *x, size_t size, int policy,
		   unsigned gap_us, const struct bench_opts *o,
		   struct bench_lat_result *r)
{
	struct pp_arg a = { x, NULL, NULL, size, gap_us, o };
	struct ctl *c = pair_ctl_new();
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
	err = pair_run(c, o, what, pp_side, &a, pp_opened, &a);
	x->destroy(a.there);
	x->destroy(a.back);
	if (!err) {
		memset(r, 0, sizeof(*r));
		pair_lat_result(c, o->reps, r);
	}
	munmap(c, sizeof(*c));
	return err;
}
