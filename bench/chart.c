/* The benchmark's chart: throughput and round trip against message size. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "svg.h"
#include "sweep.h"

#define MAX_LINES (MAX_XPORTS * NVARIANTS)

/* The chart's lines; plot_series points into these arrays. */
struct lines {
	struct plot_series stream[MAX_XPORTS], lat[MAX_LINES];
	double sx[MAX_XPORTS][MAX_SIZES], sy[MAX_XPORTS][MAX_SIZES];
	double lx[MAX_LINES][MAX_SIZES], ly[MAX_LINES][MAX_SIZES];
	char labels[MAX_LINES][64];
	int ns, nl;
};

/* One line per transport: the median GB/s at each size that worked, at
 * the first ring size. */
static void stream_lines(const struct bench *b, struct lines *l)
{
	for (int i = 0; i < b->nx; i++) {
		size_t n = 0;

		for (int s = 0; s < b->nsizes; s++) {
			if (!b->st_ok[0][i][s])
				continue;
			l->sx[l->ns][n] = (double)b->sizes[s];
			l->sy[l->ns][n++] = b->st[0][i][s].gb_per_s.median;
		}
		if (n) {
			l->stream[l->ns] = (struct plot_series){ b->x[i]->label, n,
								 l->sx[l->ns], l->sy[l->ns] };
			l->ns++;
		}
	}
}

/* One line per transport and variant: the mean round trip (median of means). */
static void latency_lines(const struct bench *b, struct lines *l)
{
	for (int i = 0; i < b->nx; i++) {
		for (size_t v = 0; v < NVARIANTS; v++) {
			int k = l->nl;
			size_t n = 0;

			for (int s = 0; s < b->nlat; s++) {
				if (!b->lat_ok[i][v][s])
					continue;
				l->lx[k][n] = (double)b->lat_sizes[s];
				l->ly[k][n++] = b->lat[i][v][s].mean_ns.median;
			}
			if (!n)
				continue;
			bench_variant_label(l->labels[k], sizeof(l->labels[k]), b->x[i], v);
			l->lat[k] = (struct plot_series){ l->labels[k], n, l->lx[k], l->ly[k] };
			l->nl++;
		}
	}
}

int bench_write_chart(const struct bench *b, const char *path)
{
	static struct lines l;	/* large; the command makes one chart at a time */
	struct plot_panel p[2];
	char caption[320];
	int np = 0, err;
	FILE *f;

	memset(&l, 0, sizeof(l));
	stream_lines(b, &l);
	latency_lines(b, &l);
	if (b->measure & M_STREAM)
		p[np++] = (struct plot_panel){ "Streaming throughput, one way (median)",
					       "message size", "GB/s", 1, l.stream, (size_t)l.ns };
	if (b->measure & M_LATENCY)
		p[np++] = (struct plot_panel){ "Round trip (mean, batch-timed)", "message size", "ns",
					       1, l.lat, (size_t)l.nl };
	if (!(f = fopen(path, "w"))) {
		err_msg("bench", "%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(caption, sizeof(caption), "shmkit bench %s: %s", shmkit_version(), b->machine);
	err = plot_svg(f, caption, p, (size_t)np);
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (err) {
		err_msg("bench", "%s: %s", path, strerror(-err));
		return -1;
	}
	return 0;
}
