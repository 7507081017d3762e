/*
 * What the hardware allows, the floor under every transport's figures:
 * one core's memcpy, and one cache line passed between two cores.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cli.h"
#include "pair.h"

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
	pair_pin(o->cpu[0]);
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

/* Trip seq: the pinger makes the line odd (2 seq + 1), the ponger even. */
static void bump(struct ctl *c, void *arg, uint64_t seq)
{
	struct cl_arg *a = arg;
	uint64_t v = 2 * seq + 1;

	(void)c;
	atomic_store_explicit(a->line, v, memory_order_release);
	while (atomic_load_explicit(a->line, memory_order_acquire) == v)
		cpu_relax();
}

static void cl_side(struct ctl *c, int ponging, void *arg)
{
	struct cl_arg *a = arg;
	uint64_t v;

	pair_started(c);
	if (!ponging) {
		pair_latency_rounds(c, a->o, 1024, 0, bump, a);
		atomic_store_explicit(&c->stop, 1, memory_order_release);
		return;
	}
	/* answer odd with even until the pinger says stop */
	for (;;) {
		while (((v = atomic_load_explicit(a->line, memory_order_acquire)) & 1) == 0) {
			if (atomic_load_explicit(&c->stop, memory_order_acquire))
				return;
			cpu_relax();
		}
		atomic_store_explicit(a->line, v + 1, memory_order_release);
	}
}

int bench_cacheline(const struct bench_opts *o, struct bench_lat_result *r)
{
	struct ctl *c = pair_ctl_new();
	void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct cl_arg a = { page, o };
	int err;

	if (!c || page == MAP_FAILED) {
		err_msg("bench", "shared memory: %s", strerror(errno));
		if (c)
			munmap(c, sizeof(*c));
		return -1;
	}
	err = pair_run(c, o, "cache line round trip", cl_side, &a, NULL, NULL);
	if (!err) {
		memset(r, 0, sizeof(*r));
		pair_lat_result(c, o->reps, r);
	}
	munmap(page, 4096);
	munmap(c, sizeof(*c));
	return err;
}

double bench_clock_cost(const struct bench_opts *o)
{
	enum { READINGS = 200000 };
	volatile double sink = 0;
	double t0, t1;
	cpu_set_t old;

	sched_getaffinity(0, sizeof(old), &old);
	pair_pin(o->cpu[0]);
	t0 = clock_s();
	for (int i = 0; i < READINGS; i++)
		sink += clock_s();
	t1 = clock_s();
	sched_setaffinity(0, sizeof(old), &old);
	(void)sink;
	return (t1 - t0) / READINGS * 1e9;
}
