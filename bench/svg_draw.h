/*
 * The parts of bench/svg.c's chart writer, shared by its three files and
 * nothing else: svg_text.c writes escaped text, svg_axes.c turns data into
 * log axes and draws them, svg.c draws panels, legends and the document.
 */
#ifndef SHMKIT_BENCH_SVG_DRAW_H
#define SHMKIT_BENCH_SVG_DRAW_H

#include <stddef.h>
#include <stdio.h>

#include "svg.h"

/* Layout, in SVG user units (pixels in a browser at 100% zoom). */
#define PAD		14	/* document edges */
#define CAPTION_H	36	/* caption line above the first panel */
#define PLOT_L		80	/* left of the plot area: y tick labels, y label */
#define PLOT_W		600
#define PLOT_H		300
#define TITLE_H		36	/* panel top to plot area top: the title */
#define XAXIS_H		52	/* plot area bottom to panel bottom: x labels */
#define PANEL_GAP	20
#define LEGEND_GAP	24	/* plot area right edge to the legend box */
#define LEGEND_ROW	20
#define LEGEND_MIN_W	110
#define MARKER_R	3.5
#define TICK_LEN	5
#define MIN_LABEL_GAP	10	/* between neighbouring x tick labels */
#define MIN_YLABEL_STEP	16	/* pixels between labelled y gridlines */

/* Average glyph width per pixel of font size, rounded up for sans-serif. */
#define GLYPH_W		0.6
#define BOLD_GLYPH_W	0.65

struct out {
	FILE *f;
	int err;	/* first failure as -errno; later writes are skipped */
};

struct pt {
	double x, y;
};

/* Where one panel's data lands in its plot area. */
struct axes {
	double xlo, xhi;	/* log10 of the x range, margins included */
	int ylo, yhi;		/* y range in whole decades */
};

/* svg_text.c: output that remembers its first error, and XML-safe text. */
void svg_put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text content or attribute value: labels come from users and hostnames. */
void svg_put_text(struct out *o, const char *s);
/* How wide s is drawn at font size, glyph being the average width factor. */
double svg_text_w(const char *s, double size, double glyph);

/* svg_axes.c: data to positions on log-log axes. */
size_t svg_count_valid(const struct plot_series *s);
struct pt *svg_sorted_points(const struct plot_series *s, size_t n);
size_t svg_panel_extent(const struct plot_panel *p, struct pt *min, struct pt *max);
void svg_set_axes(struct axes *a, struct pt min, struct pt max);
double *svg_distinct_x(const struct plot_panel *p, size_t npts, size_t *nx);
double svg_map_x(const struct axes *a, double x);
double svg_map_y(const struct axes *a, double y);
void svg_fmt_x(char *buf, size_t cap, double v, int bytes);
void svg_draw_y_axis(struct out *o, const struct axes *a);
void svg_draw_x_axis(struct out *o, const struct axes *a, const double *xs, size_t nx,
		     int bytes);

#endif
