/*
 * Log-log axes: the data's range in decades, where each point lands, and
 * the gridlines and tick labels. Benchmark figures span decades (8 B to
 * 1 MiB, nanoseconds to milliseconds), so both axes are logarithmic.
 *
 * Logarithms are computed here rather than taken from libm: the command
 * links without -lm, and the output is the same bytes for the same input.
 */
#include <math.h>	/* isfinite() only: a macro, no -lm */
#include <stdlib.h>

#include "cli.h"	/* cmp_double, fmt_bytes, fmt_scaled */
#include "svg_draw.h"

static int valid(double x, double y)
{
	return isfinite(x) && isfinite(y) && x > 0 && y > 0;
}

#define LN2	0.69314718055994530942
#define LN10	2.30258509299404568402

/*
 * log10 without libm. Halving brings v to m * 2^e with m in [0.707, 1.414);
 * there ln m = 2 atanh z with z = (m-1)/(m+1) <= 0.172, and 12 terms of the
 * atanh series are exact to well below a pixel (and to a double).
 */
static double lg(double v)
{
	double m = v, z, z2, term, sum = 0;
	int e = 0, k;

	while (m >= 0x1p64) {
		m *= 0x1p-64;
		e += 64;
	}
	while (m < 0x1p-64) {
		m *= 0x1p64;
		e -= 64;
	}
	while (m >= 1.4142135623730951) {
		m /= 2;
		e++;
	}
	while (m < 0.7071067811865476) {
		m *= 2;
		e--;
	}
	z = (m - 1) / (m + 1);
	z2 = z * z;
	term = z;
	for (k = 1; k < 24; k += 2) {
		sum += term / k;
		term *= z2;
	}
	return (e * LN2 + 2 * sum) / LN10;
}

/* 10^k, exact up to 10^22 so 1/100 is the same double as 0.01; below
 * 10^-22 by steps, as 1/10^309 would be 0 where denormals still count. */
static double pow10i(int k)
{
	double p = 1;
	int i, n = k < 0 ? -k : k;

	if (k < -22)
		return pow10i(k + 22) / 1e22;
	for (i = 0; i < n; i++)
		p *= 10;
	return k < 0 ? 1 / p : p;
}

/* Largest k with 10^k <= v: by comparison, as a computed log10(1000) may
 * come out a hair under 3 and cost a whole decade. */
static int decade_floor(double v)
{
	int k = 0;

	while (k > -330 && pow10i(k) > v)
		k--;
	while (k < 310 && pow10i(k + 1) <= v)
		k++;
	return k;
}

static int decade_ceil(double v)
{
	int k = decade_floor(v);

	return pow10i(k) < v ? k + 1 : k;
}

/* m * 10^k for a y gridline; from k itself, as 10^-320 is no double. */
static void fmt_decade(char *buf, size_t cap, int m, int k)
{
	if (k >= -4 && k < 18)
		fmt_number(buf, cap, m * pow10i(k));
	else
		snprintf(buf, cap, "%de%d", m, k);
}

void svg_fmt_x(char *buf, size_t cap, double v, int bytes)
{
	if (bytes)
		fmt_bytes(buf, cap, v, FMT_IEC);
	else
		fmt_number(buf, cap, v);
}

size_t svg_count_valid(const struct plot_series *s)
{
	size_t i, n = 0;

	if (!s->x || !s->y)
		return 0;
	for (i = 0; i < s->n; i++)
		n += valid(s->x[i], s->y[i]);
	return n;
}

static int cmp_pt(const void *a, const void *b)
{
	const struct pt *p = a, *q = b;

	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	if (p->y != q->y)	/* equal x: still one order, for equal output */
		return p->y < q->y ? -1 : 1;
	return 0;
}

/* The series' plottable points in x order: callers pass them in any order. */
struct pt *svg_sorted_points(const struct plot_series *s, size_t n)
{
	struct pt *pts;
	size_t i, k = 0;

	pts = malloc(n * sizeof(*pts));
	if (!pts)
		return NULL;
	for (i = 0; i < s->n && k < n; i++) {
		if (valid(s->x[i], s->y[i])) {
			pts[k].x = s->x[i];
			pts[k].y = s->y[i];
			k++;
		}
	}
	qsort(pts, k, sizeof(*pts), cmp_pt);
	return pts;
}

double svg_map_x(const struct axes *a, double x)
{
	return PLOT_L + (lg(x) - a->xlo) / (a->xhi - a->xlo) * PLOT_W;
}

/* l is already log10: decade gridlines map without a rounding detour. */
static double map_ly(const struct axes *a, double l)
{
	return TITLE_H + (a->yhi - l) / (a->yhi - a->ylo) * PLOT_H;
}

double svg_map_y(const struct axes *a, double y)
{
	return map_ly(a, lg(y));
}

/* Data ranges over all series; returns how many points can be drawn. */
size_t svg_panel_extent(const struct plot_panel *p, struct pt *min, struct pt *max)
{
	const struct plot_series *s;
	size_t i, j, n = 0;

	for (i = 0; i < p->nseries; i++) {
		s = &p->series[i];
		if (!s->x || !s->y)
			continue;
		for (j = 0; j < s->n; j++) {
			if (!valid(s->x[j], s->y[j]))
				continue;
			if (!n++) {
				min->x = max->x = s->x[j];
				min->y = max->y = s->y[j];
				continue;
			}
			if (s->x[j] < min->x)
				min->x = s->x[j];
			if (s->x[j] > max->x)
				max->x = s->x[j];
			if (s->y[j] < min->y)
				min->y = s->y[j];
			if (s->y[j] > max->y)
				max->y = s->y[j];
		}
	}
	return n;
}

void svg_set_axes(struct axes *a, struct pt min, struct pt max)
{
	double lo = lg(min.x), hi = lg(max.x);
	double margin = hi > lo ? (hi - lo) * 0.05 : 0.5;

	/* markers on the first and last x would be cut by the frame */
	a->xlo = lo - margin;
	a->xhi = hi + margin;
	a->ylo = decade_floor(min.y);
	a->yhi = decade_ceil(max.y);
	/* all y one power of ten: centre it, with a labelled line each side */
	if (a->ylo == a->yhi) {
		a->ylo--;
		a->yhi++;
	}
}

/* Each distinct x, sorted: the message sizes the benchmark ran, the ticks. */
double *svg_distinct_x(const struct plot_panel *p, size_t npts, size_t *nx)
{
	const struct plot_series *s;
	double *xs;
	size_t i, j, n = 0, k;

	xs = malloc(npts * sizeof(*xs));
	if (!xs)
		return NULL;
	for (i = 0; i < p->nseries; i++) {
		s = &p->series[i];
		if (!s->x || !s->y)
			continue;
		for (j = 0; j < s->n && n < npts; j++)
			if (valid(s->x[j], s->y[j]))
				xs[n++] = s->x[j];
	}
	qsort(xs, n, sizeof(*xs), cmp_double);
	for (i = k = 0; i < n; i++)
		if (!k || xs[i] != xs[k - 1])
			xs[k++] = xs[i];
	*nx = k;
	return xs;
}

void svg_draw_y_axis(struct out *o, const struct axes *a)
{
	int ndec = a->yhi - a->ylo, k, m, step = 1;
	int minor = ndec <= 3, minor_labels = ndec <= 2;
	double y, l;
	char buf[48];

	/* many decades: label every second or fifth, but draw all lines */
	while (PLOT_H * step < MIN_YLABEL_STEP * ndec)
		step = step < 2 ? 2 : step < 5 ? 5 : step * 2;

	if (minor) {
		svg_put(o, "<path fill=\"none\" stroke=\"#eeeeee\" d=\"");
		for (k = a->ylo; k < a->yhi; k++)
			for (m = 2; m <= 9; m++)
				svg_put(o, "M%d %.1fH%d", PLOT_L,
					map_ly(a, k + lg(m)), PLOT_L + PLOT_W);
		svg_put(o, "\"/>\n");
	}
	svg_put(o, "<path fill=\"none\" stroke=\"#cccccc\" d=\"");
	for (k = a->ylo; k <= a->yhi; k++)
		if (!((k - a->ylo) % step) || PLOT_H >= 4 * ndec)	/* not a grey wall */
			svg_put(o, "M%d %.1fH%d", PLOT_L - TICK_LEN, map_ly(a, k),
				PLOT_L + PLOT_W);
	svg_put(o, "\"/>\n");

	svg_put(o, "<g font-size=\"11\" text-anchor=\"end\" fill=\"#333333\">\n");
	for (k = a->ylo; k <= a->yhi; k++) {
		if ((k - a->ylo) % step)
			continue;
		fmt_decade(buf, sizeof(buf), 1, k);
		svg_put(o, "<text x=\"%d\" y=\"%.1f\">%s</text>\n",
			PLOT_L - TICK_LEN - 3, map_ly(a, k) + 4, buf);
	}
	/* within one or two decades, 2 and 5 keep the values readable */
	for (k = a->ylo; minor_labels && k < a->yhi; k++) {
		for (m = 2; m <= 5; m += 3) {
			l = k + lg(m);
			y = map_ly(a, l);
			fmt_decade(buf, sizeof(buf), m, k);
			svg_put(o, "<text x=\"%d\" y=\"%.1f\" fill=\"#777777\">%s</text>\n",
				PLOT_L - TICK_LEN - 3, y + 4, buf);
		}
	}
	svg_put(o, "</g>\n");
}

void svg_draw_x_axis(struct out *o, const struct axes *a, const double *xs, size_t nx,
		     int bytes)
{
	double x, w, last_right = -1e9;
	size_t i;
	char buf[48];

	svg_put(o, "<path fill=\"none\" stroke=\"#dddddd\" d=\"");
	for (i = 0; i < nx; i++)
		svg_put(o, "M%.1f %dV%d", svg_map_x(a, xs[i]), TITLE_H,
			TITLE_H + PLOT_H + TICK_LEN);
	svg_put(o, "\"/>\n");

	/* a tick at every size run; skip labels that would run into the last */
	svg_put(o, "<g font-size=\"11\" text-anchor=\"middle\" fill=\"#333333\">\n");
	for (i = 0; i < nx; i++) {
		x = svg_map_x(a, xs[i]);
		svg_fmt_x(buf, sizeof(buf), xs[i], bytes);
		w = svg_text_w(buf, 11, GLYPH_W);
		if (x - w / 2 < last_right + MIN_LABEL_GAP)
			continue;
		last_right = x + w / 2;
		svg_put(o, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", x,
			TITLE_H + PLOT_H + TICK_LEN + 13, buf);
	}
	svg_put(o, "</g>\n");
}
