/* The benchmark's chart: throughput and round trip against message size,
 * and fan-out against the number of subscribers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "svg.h"
#include "sweep.h"

#define MAX_LINES (MAX_XPORTS * NVARIANTS)
#define FAN_LINES (2 * NFAN_SIZES)

/* The chart's lines; plot_series points into these arrays. */
struct lines {
	struct plot_series stream[MAX_XPORTS], lat[MAX_LINES];
	double sx[MAX_XPORTS][MAX_SIZES], sy[MAX_XPORTS][MAX_SIZES];
	double lx[MAX_LINES][MAX_SIZES], ly[MAX_LINES][MAX_SIZES];
	char labels[MAX_LINES][64];
	int ns, nl;
	/* fan-out: [0] each subscriber's rate, [1] the publisher's own */
	struct plot_series fan[2][FAN_LINES];
	double fx[2][FAN_LINES][NFAN_SUBS], fy[2][FAN_LINES][NFAN_SUBS];
	char fan_labels[FAN_LINES][48];
	int nf[2];
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

/* One line per size and transport, over the subscriber counts; which 0
 * plots what each subscriber got, 1 the publisher's own rate. */
static void fanout_lines(const struct bench *b, struct lines *l, int which)
{
	for (int s = 0; s < NFAN_SIZES; s++) {
		for (int k = FAN_TOPIC; k >= FAN_CHANS; k--) {
			int j = l->nf[which];
			size_t n = 0;
			char size[32];

			for (int c = 0; c < NFAN_SUBS; c++) {
				const struct bench_fan_result *r = &b->fan[k][c][s];

				if (!b->fan_ok[k][c][s])
					continue;
				l->fx[which][j][n] = fan_subs[c];
				l->fy[which][j][n++] = which ? r->pub_busy.median : r->delivered.median;
			}
			if (!n)
				continue;
			fmt_bytes(size, sizeof(size), (double)fan_sizes[s], FMT_IEC);
			snprintf(l->fan_labels[j], sizeof(l->fan_labels[j]), "%s, %s",
				 k == FAN_TOPIC ? "topic" : "N channels", size);
			l->fan[which][j] = (struct plot_series){ l->fan_labels[j], n, l->fx[which][j],
								 l->fy[which][j] };
			l->nf[which]++;
		}
	}
}

int bench_write_chart(const struct bench *b, const char *path)
{
	static struct lines l;	/* large; the command makes one chart at a time */
	struct plot_panel p[4];
	char caption[320];
	int np = 0, err;
	FILE *f;

	memset(&l, 0, sizeof(l));
	stream_lines(b, &l);
	latency_lines(b, &l);
	fanout_lines(b, &l, 0);
	fanout_lines(b, &l, 1);
	if (b->measure & M_STREAM)
		p[np++] = (struct plot_panel){ "Streaming throughput, one way (median)",
					       "message size", "GB/s", 1, l.stream, (size_t)l.ns };
	if (b->measure & M_LATENCY)
		p[np++] = (struct plot_panel){ "Round trip (mean, batch-timed)", "message size", "ns",
					       1, l.lat, (size_t)l.nl };
	if (b->measure & M_FANOUT) {
		p[np++] = (struct plot_panel){ "Fan-out: msg/s each subscriber got (median)",
					       "subscribers", "msg/s", 0, l.fan[0], (size_t)l.nf[0] };
		p[np++] = (struct plot_panel){ "Fan-out: the publisher's own msg/s (median)",
					       "subscribers", "msg/s", 0, l.fan[1], (size_t)l.nf[1] };
	}
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
