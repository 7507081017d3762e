/*
 * SVG charts for 'shmkit bench --plot': we write the SVG text ourselves so
 * the command needs no plotting library, only a browser to look at it.
 */
#ifndef SHMKIT_BENCH_SVG_H
#define SHMKIT_BENCH_SVG_H

#include <stddef.h>
#include <stdio.h>

/* One line on a chart; the arrays are only read, never kept. */
struct plot_series {
	const char *label;	/* legend text, e.g. "shmkit (copy)" */
	size_t n;		/* points */
	const double *x, *y;	/* x > 0 and y > 0 (log scales); points with y <= 0 or non-finite are skipped */
};

/* One chart: benchmark figures span decades, so both axes are log scales. */
struct plot_panel {
	const char *title;	/* e.g. "Streaming throughput" */
	const char *xlabel;	/* e.g. "message size" */
	const char *ylabel;	/* e.g. "GB/s" */
	int x_bytes;		/* 1: x tick labels as byte sizes: 8 B, 64 B, 1 KiB, 4 KiB, 64 KiB, 1 MiB */
	const struct plot_series *series;
	size_t nseries;
};

/* Writes one SVG document with the panels stacked vertically, each a log-log
 * line chart with markers and a legend. Returns 0, or -errno on write failure.
 * f is flushed so a full disk shows here; -ENOMEM and -EINVAL (NULL f) too. */
int plot_svg(FILE *f, const char *caption, const struct plot_panel *panels, size_t npanels);

#endif
