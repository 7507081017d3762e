/* The benchmark's chart: throughput and round trip against message size. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "svg.h"
#include "sweep.h"

int bench_write_chart(const struct bench *b, const char *path)
{
	struct plot_series ss[MAX_XPORTS], ls[MAX_XPORTS * NVARIANTS];
	double sx[MAX_XPORTS][MAX_SIZES], sy[MAX_XPORTS][MAX_SIZES];
	double lx[MAX_XPORTS * NVARIANTS][MAX_SIZES], ly[MAX_XPORTS * NVARIANTS][MAX_SIZES];
	char labels[MAX_XPORTS * NVARIANTS][64];
	struct plot_panel p[2];
	int ns = 0, nl = 0, np = 0, err;
	FILE *f;

	for (int i = 0; i < b->nx; i++) {
		size_t n = 0;

		for (int s = 0; s < b->nsizes; s++) {
			if (!b->st_ok[i][s])
				continue;
			sx[ns][n] = (double)b->sizes[s];
			sy[ns][n++] = b->st[i][s].gb_per_s.median;
		}
		if (n)
			ss[ns] = (struct plot_series){ b->x[i]->label, n, sx[ns], sy[ns] }, ns++;
	}
	for (int i = 0; i < b->nx; i++) {
		for (size_t v = 0; v < NVARIANTS; v++) {
			size_t n = 0;

			for (int s = 0; s < b->nlat; s++) {
				if (!b->lat_ok[i][v][s])
					continue;
				lx[nl][n] = (double)b->lat_sizes[s];
				ly[nl][n++] = b->lat[i][v][s].median_ns.median;
			}
			if (!n)
				continue;
			bench_variant_label(labels[nl], sizeof(labels[nl]), b->x[i], v);
			ls[nl] = (struct plot_series){ labels[nl], n, lx[nl], ly[nl] };
			nl++;
		}
	}
	if (b->measure & M_STREAM)
		p[np++] = (struct plot_panel){ "Streaming throughput, one way (median)",
					       "message size", "GB/s", 1, ss, (size_t)ns };
	if (b->measure & M_LATENCY)
		p[np++] = (struct plot_panel){ "Round trip (median)", "message size", "ns",
					       1, ls, (size_t)nl };
	if (!(f = fopen(path, "w"))) {
		err_msg("bench", "%s: %s", path, strerror(errno));
		return -1;
	}
	{
		char caption[320];

		snprintf(caption, sizeof(caption), "shmkit bench %s: %s", shmkit_version(),
			 b->machine);
		err = plot_svg(f, caption, p, (size_t)np);
	}
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (err) {
		err_msg("bench", "%s: %s", path, strerror(-err));
		return -1;
	}
	return 0;
}
