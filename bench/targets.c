#include <stdio.h>
#include <string.h>

#include "sweep.h"

/* Figures the targets compare; NAN-free: 0 means not measured. */
static double st_gb(const struct bench *b, const char *x, size_t size)
{
	int i = bench_find_xport(b, x), s = bench_find_size(b->sizes, b->nsizes, size);

	return i >= 0 && s >= 0 && b->st_ok[i][s] ? b->st[i][s].gb_per_s.median : 0;
}

static double lat_med(const struct bench *b, const char *x, int v, size_t size)
{
	int i = bench_find_xport(b, x), s = bench_find_size(b->lat_sizes, b->nlat, size);

	return i >= 0 && s >= 0 && b->lat_ok[i][v][s] ? b->lat[i][v][s].median_ns.median : 0;
}

static int add_target(struct goal_row *t, int n, const char *what, double num, double den,
		      double goal, int at_most)
{
	if (num <= 0 || den <= 0)
		return n;
	snprintf(t[n].what, sizeof(t[n].what), "%s", what);
	t[n].value = num / den;
	t[n].goal = goal;
	t[n].at_most = at_most;
	return n + 1;
}

/* The targets, each a ratio within this run. */
int bench_targets(const struct bench *b, struct goal_row *t)
{
	static const size_t big[] = { 64 << 10, 1 << 20 };
	char what[96];
	double worst_wakes = -1;
	int n = 0, i;

	n = add_target(t, n, "64 B msg/s, shmkit vs pipe", st_gb(b, "shmkit", 64),
		       st_gb(b, "pipe", 64), 10, 0);
	n = add_target(t, n, "64 B msg/s, shmkit-zc vs pipe", st_gb(b, "shmkit-zc", 64),
		       st_gb(b, "pipe", 64), 15, 0);
	n = add_target(t, n, "1 KiB GB/s, shmkit vs pipe", st_gb(b, "shmkit", 1024),
		       st_gb(b, "pipe", 1024), 8, 0);
	n = add_target(t, n, "4 KiB GB/s, shmkit vs pipe", st_gb(b, "shmkit", 4096),
		       st_gb(b, "pipe", 4096), 2, 0);
	n = add_target(t, n, "4 KiB GB/s, shmkit-zc vs pipe", st_gb(b, "shmkit-zc", 4096),
		       st_gb(b, "pipe", 4096), 4, 0);
	for (size_t k = 0; k < 2; k++) {
		char sz[16];

		fmt_bytes(sz, sizeof(sz), (double)big[k]);
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs unix", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit", big[k]), st_gb(b, "unix", big[k]), 3, 0);
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs pipe-1m", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit", big[k]),
			       st_gb(b, "pipe-1m", big[k]), 5, 0);
		snprintf(what, sizeof(what), "%s GB/s, shmkit-zc vs shmkit", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit-zc", big[k]),
			       st_gb(b, "shmkit", big[k]), 1.3, 0);
	}
	for (int s = 0; s < b->nsizes; s++) {
		char sz[16];

		if (b->sizes[s] < 4096 || !b->mcpy_ok[s])
			continue;
		fmt_bytes(sz, sizeof(sz), (double)b->sizes[s]);
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs memcpy", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit", b->sizes[s]),
			       b->mcpy[s].median, 0.5, 0);
	}
	if (b->line_ok) {
		double line = b->line.median_ns.median;

		n = add_target(t, n, "8 B round trip, spin vs cache line",
			       lat_med(b, "shmkit", 0, 8), line, 1.5, 1);
		n = add_target(t, n, "8 B round trip, block vs cache line",
			       lat_med(b, "shmkit", 1, 8), line, 2, 1);
	}
	n = add_target(t, n, "8 B round trip asleep, block vs pipe",
		       lat_med(b, "shmkit", 2, 8), lat_med(b, "pipe", 2, 8), 1.2, 1);
	if ((i = bench_find_xport(b, "shmkit")) >= 0)
		for (int s = 0; s < b->nsizes; s++)
			if (b->st_ok[i][s] && b->st[i][s].have_wakes &&
			    b->st[i][s].wakes_per_1000 > worst_wakes)
				worst_wakes = b->st[i][s].wakes_per_1000;
	if (worst_wakes >= 0) {
		/* a ratio to 1,000 messages: the goal is below one */
		snprintf(t[n].what, sizeof(t[n].what), "wake-ups per 1,000 msgs, shmkit, worst size");
		t[n].value = worst_wakes;
		t[n].goal = 1;
		t[n].at_most = 1;
		n++;
	}
	return n;
}

int bench_target_met(const struct goal_row *t)
{
	return t->at_most ? t->value <= t->goal : t->value >= t->goal;
}

/* ----------------------------------------------------------------- table */
