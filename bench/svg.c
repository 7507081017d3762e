/*
 * SVG charts for 'shmkit bench --plot'. We write SVG 1.1 text ourselves, so
 * the command needs no plotting library and any browser shows the result.
 *
 * Logarithms are computed here too rather than taken from libm: the command
 * links without -lm, and the output is the same bytes for the same input.
 * Text sizes are estimated from character counts (we cannot measure fonts),
 * generously, so that boxes are a little too wide rather than too narrow.
 */
#include <errno.h>
#include <math.h>	/* isfinite() only: a macro, no -lm */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"	/* cmp_double, fmt_bytes, fmt_scaled, utf8_seq */
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

/* Readable on white and told apart by most eyes; cycles with a dash. */
static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#8a8a00",
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

static const char *const dashes[] = { NULL, "7 3", "2 3", "9 3 2 3" };
#define NDASHES (sizeof(dashes) / sizeof(dashes[0]))

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

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (o->err)
		return;
	errno = 0;
	va_start(ap, fmt);
	r = vfprintf(o->f, fmt, ap);
	va_end(ap);
	if (r < 0)
		o->err = errno ? -errno : -EIO;
}

/*
 * Length of the character at s that XML may hold, or 0: a parser rejects
 * the whole file for one bad byte. Well-formed UTF-8 is utf8_seq's rule;
 * XML also forbids the non-characters U+FFFE and U+FFFF (EF BF BE/BF).
 */
static size_t xml_char_len(const unsigned char *s)
{
	int n = s[0] < 0x80 ? 1 : utf8_seq(s);

	if (n == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
		return 0;
	return (size_t)n;
}

/* Text content or attribute value: labels come from users and hostnames. */
static void put_text(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n;

	for (; *p; p += n) {
		n = xml_char_len(p);
		if (!n) {
			put(o, "?");
			n = 1;
		} else if (n > 1) {
			put(o, "%.*s", (int)n, (const char *)p);
		} else if (*p == '&') {
			put(o, "&amp;");
		} else if (*p == '<') {
			put(o, "&lt;");
		} else if (*p == '>') {
			put(o, "&gt;");
		} else if (*p == '"') {
			put(o, "&quot;");
		} else if (*p == '\'') {
			put(o, "&apos;");
		} else if (*p < 0x20 || *p == 0x7f) {
			put(o, " ");	/* a newline would only be collapsed */
		} else {
			put(o, "%c", *p);
		}
	}
}

/* Characters, not bytes: the estimate of how wide the text is drawn. */
static size_t text_chars(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static double text_w(const char *s, double size, double glyph)
{
	return (double)text_chars(s) * size * glyph;
}

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

static void fmt_number(char *buf, size_t cap, double v)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P", "E" };

	fmt_scaled(buf, cap, v, 1000, units, sizeof(units) / sizeof(units[0]), "");
}

/* m * 10^k for a y gridline; from k itself, as 10^-320 is no double. */
static void fmt_decade(char *buf, size_t cap, int m, int k)
{
	if (k >= -4 && k < 18)
		fmt_number(buf, cap, m * pow10i(k));
	else
		snprintf(buf, cap, "%de%d", m, k);
}

static void fmt_x(char *buf, size_t cap, double v, int bytes)
{
	if (bytes)
		fmt_bytes(buf, cap, v, FMT_IEC);
	else
		fmt_number(buf, cap, v);
}

static size_t count_valid(const struct plot_series *s)
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
static struct pt *sorted_points(const struct plot_series *s, size_t n)
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

static const char *legend_suffix(const struct plot_series *s)
{
	return count_valid(s) ? "" : " (no data)";
}

/* Legend box width; 0 when there is nothing to list. */
static int legend_w(const struct plot_panel *p)
{
	double w = 0, t;
	size_t i;

	for (i = 0; i < p->nseries; i++) {
		t = text_w(p->series[i].label, 12, GLYPH_W) +
		    text_w(legend_suffix(&p->series[i]), 12, GLYPH_W);
		if (t > w)
			w = t;
	}
	if (!p->nseries)
		return 0;
	w += 42 + 12;	/* line sample before the text, padding after */
	return w < LEGEND_MIN_W ? LEGEND_MIN_W : (int)w + 1;
}

static int legend_h(const struct plot_panel *p)
{
	return p->nseries ? 10 + (int)p->nseries * LEGEND_ROW : 0;
}

static int panel_h(const struct plot_panel *p)
{
	int body = PLOT_H + XAXIS_H, lh = legend_h(p);

	return TITLE_H + (lh > body ? lh : body);
}

static double map_x(const struct axes *a, double x)
{
	return PLOT_L + (lg(x) - a->xlo) / (a->xhi - a->xlo) * PLOT_W;
}

/* l is already log10: decade gridlines map without a rounding detour. */
static double map_ly(const struct axes *a, double l)
{
	return TITLE_H + (a->yhi - l) / (a->yhi - a->ylo) * PLOT_H;
}

static double map_y(const struct axes *a, double y)
{
	return map_ly(a, lg(y));
}

/* Data ranges over all series; returns how many points can be drawn. */
static size_t panel_extent(const struct plot_panel *p, struct pt *min, struct pt *max)
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

static void set_axes(struct axes *a, struct pt min, struct pt max)
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
static double *distinct_x(const struct plot_panel *p, size_t npts, size_t *nx)
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

static void draw_y_axis(struct out *o, const struct axes *a)
{
	int ndec = a->yhi - a->ylo, k, m, step = 1;
	int minor = ndec <= 3, minor_labels = ndec <= 2;
	double y, l;
	char buf[48];

	/* many decades: label every second or fifth, but draw all lines */
	while (PLOT_H * step < MIN_YLABEL_STEP * ndec)
		step = step < 2 ? 2 : step < 5 ? 5 : step * 2;

	if (minor) {
		put(o, "<path fill=\"none\" stroke=\"#eeeeee\" d=\"");
		for (k = a->ylo; k < a->yhi; k++)
			for (m = 2; m <= 9; m++)
				put(o, "M%d %.1fH%d", PLOT_L,
				    map_ly(a, k + lg(m)), PLOT_L + PLOT_W);
		put(o, "\"/>\n");
	}
	put(o, "<path fill=\"none\" stroke=\"#cccccc\" d=\"");
	for (k = a->ylo; k <= a->yhi; k++)
		if (!((k - a->ylo) % step) || PLOT_H >= 4 * ndec)	/* not a grey wall */
			put(o, "M%d %.1fH%d", PLOT_L - TICK_LEN, map_ly(a, k),
			    PLOT_L + PLOT_W);
	put(o, "\"/>\n");

	put(o, "<g font-size=\"11\" text-anchor=\"end\" fill=\"#333333\">\n");
	for (k = a->ylo; k <= a->yhi; k++) {
		if ((k - a->ylo) % step)
			continue;
		fmt_decade(buf, sizeof(buf), 1, k);
		put(o, "<text x=\"%d\" y=\"%.1f\">%s</text>\n",
		    PLOT_L - TICK_LEN - 3, map_ly(a, k) + 4, buf);
	}
	/* within one or two decades, 2 and 5 keep the values readable */
	for (k = a->ylo; minor_labels && k < a->yhi; k++) {
		for (m = 2; m <= 5; m += 3) {
			l = k + lg(m);
			y = map_ly(a, l);
			fmt_decade(buf, sizeof(buf), m, k);
			put(o, "<text x=\"%d\" y=\"%.1f\" fill=\"#777777\">%s</text>\n",
			    PLOT_L - TICK_LEN - 3, y + 4, buf);
		}
	}
	put(o, "</g>\n");
}

static void draw_x_axis(struct out *o, const struct axes *a, const double *xs,
			size_t nx, int bytes)
{
	double x, w, last_right = -1e9;
	size_t i;
	char buf[48];

	put(o, "<path fill=\"none\" stroke=\"#dddddd\" d=\"");
	for (i = 0; i < nx; i++)
		put(o, "M%.1f %dV%d", map_x(a, xs[i]), TITLE_H,
		    TITLE_H + PLOT_H + TICK_LEN);
	put(o, "\"/>\n");

	/* a tick at every size run; skip labels that would run into the last */
	put(o, "<g font-size=\"11\" text-anchor=\"middle\" fill=\"#333333\">\n");
	for (i = 0; i < nx; i++) {
		x = map_x(a, xs[i]);
		fmt_x(buf, sizeof(buf), xs[i], bytes);
		w = text_w(buf, 11, GLYPH_W);
		if (x - w / 2 < last_right + MIN_LABEL_GAP)
			continue;
		last_right = x + w / 2;
		put(o, "<text x=\"%.1f\" y=\"%d\">%s</text>\n", x,
		    TITLE_H + PLOT_H + TICK_LEN + 13, buf);
	}
	put(o, "</g>\n");
}

static void draw_labels(struct out *o, const struct plot_panel *p)
{
	double tw = text_w(p->title, 15, BOLD_GLYPH_W);

	if (p->title && *p->title) {
		/* centred over the plot while it fits, else from its left edge */
		if (tw <= PLOT_W)
			put(o, "<text x=\"%d\" y=\"%d\" font-size=\"15\" "
			    "font-weight=\"bold\" text-anchor=\"middle\">",
			    PLOT_L + PLOT_W / 2, TITLE_H - 12);
		else
			put(o, "<text x=\"%d\" y=\"%d\" font-size=\"15\" "
			    "font-weight=\"bold\">", PLOT_L, TITLE_H - 12);
		put_text(o, p->title);
		put(o, "</text>\n");
	}
	if (p->xlabel && *p->xlabel) {
		put(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		    PLOT_L + PLOT_W / 2, TITLE_H + PLOT_H + XAXIS_H - 12);
		put_text(o, p->xlabel);
		put(o, "</text>\n");
	}
	if (p->ylabel && *p->ylabel) {
		put(o, "<text transform=\"translate(%d %d) rotate(-90)\" "
		    "text-anchor=\"middle\">", 22, TITLE_H + PLOT_H / 2);
		put_text(o, p->ylabel);
		put(o, "</text>\n");
	}
}

static void put_stroke(struct out *o, size_t i)
{
	const char *dash = dashes[i / NPALETTE % NDASHES];

	put(o, "stroke=\"%s\"", palette[i % NPALETTE]);
	if (dash)
		put(o, " stroke-dasharray=\"%s\"", dash);
}

static int draw_series(struct out *o, const struct axes *a,
		       const struct plot_series *s, size_t idx, int bytes)
{
	size_t n = count_valid(s), i;
	struct pt *pts;
	char xb[48];

	if (!n)
		return 0;
	pts = sorted_points(s, n);
	if (!pts)
		return -ENOMEM;
	if (n > 1) {
		put(o, "<polyline fill=\"none\" stroke-width=\"2\" "
		    "stroke-linejoin=\"round\" ");
		put_stroke(o, idx);
		put(o, " points=\"");
		for (i = 0; i < n; i++)
			put(o, "%s%.1f,%.1f", i ? " " : "", map_x(a, pts[i].x),
			    map_y(a, pts[i].y));
		put(o, "\"/>\n");
	}
	/* a white rim keeps markers apart where lines cross; hovering shows
	 * the exact figure */
	put(o, "<g fill=\"%s\" stroke=\"#ffffff\">\n", palette[idx % NPALETTE]);
	for (i = 0; i < n; i++) {
		fmt_x(xb, sizeof(xb), pts[i].x, bytes);
		put(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"><title>",
		    map_x(a, pts[i].x), map_y(a, pts[i].y), MARKER_R);
		put_text(o, s->label);
		put(o, ": %s, %.4g</title></circle>\n", xb, pts[i].y);
	}
	put(o, "</g>\n");
	free(pts);
	return 0;
}

/* Right of the plot area, so it never hides a line. */
static void draw_legend(struct out *o, const struct plot_panel *p, int width)
{
	int x = PLOT_L + PLOT_W + LEGEND_GAP, y = TITLE_H;
	double cy;
	size_t i;

	if (!p->nseries)
		return;
	put(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#ffffff\" "
	    "stroke=\"#bbbbbb\"/>\n", x, y, width, legend_h(p));
	for (i = 0; i < p->nseries; i++) {
		cy = y + 5 + LEGEND_ROW * (double)i + LEGEND_ROW / 2.0;
		put(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		    "stroke-width=\"2\" ", x + 8, cy, x + 34, cy);
		put_stroke(o, i);
		put(o, "/>\n<circle cx=\"%d\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
		    "stroke=\"#ffffff\"/>\n", x + 21, cy, MARKER_R,
		    palette[i % NPALETTE]);
		put(o, "<text x=\"%d\" y=\"%.1f\">", x + 42, cy + 4);
		put_text(o, p->series[i].label);
		put(o, "%s</text>\n", legend_suffix(&p->series[i]));
	}
}

static void draw_no_data(struct out *o, int x, int y)
{
	put(o, "<text x=\"%d\" y=\"%d\" font-size=\"14\" text-anchor=\"middle\" "
	    "fill=\"#888888\">no data</text>\n", x, y);
}

static int draw_panel(struct out *o, const struct plot_panel *p, int lw)
{
	struct pt min = { 0, 0 }, max = { 0, 0 };
	struct axes a;
	double *xs;
	size_t npts, nx, i;
	int r = 0;

	draw_labels(o, p);
	npts = panel_extent(p, &min, &max);
	if (!npts) {
		draw_no_data(o, PLOT_L + PLOT_W / 2, TITLE_H + PLOT_H / 2);
	} else {
		xs = distinct_x(p, npts, &nx);
		if (!xs)
			return -ENOMEM;
		set_axes(&a, min, max);
		draw_y_axis(o, &a);
		draw_x_axis(o, &a, xs, nx, p->x_bytes);
		free(xs);
		for (i = 0; i < p->nseries && !r; i++)
			r = draw_series(o, &a, &p->series[i], i, p->x_bytes);
	}
	/* the frame goes over the gridlines' ends */
	put(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
	    "stroke=\"#444444\"/>\n", PLOT_L, TITLE_H, PLOT_W, PLOT_H);
	draw_legend(o, p, lw);
	return r;
}

/* Wide enough for the legends and the longest caption or title. */
static int doc_width(const char *caption, const struct plot_panel *panels,
		     size_t npanels, int lw)
{
	double w = PLOT_L + PLOT_W + PAD, t;
	size_t i;

	if (lw)
		w += LEGEND_GAP + lw;
	t = 2 * PAD + text_w(caption, 14, BOLD_GLYPH_W);
	if (t > w)
		w = t;
	for (i = 0; i < npanels; i++) {
		t = PLOT_L + PAD + text_w(panels[i].title, 15, BOLD_GLYPH_W);
		if (t > w)
			w = t;
	}
	return (int)w + 1;
}

int plot_svg(FILE *f, const char *caption, const struct plot_panel *panels, size_t npanels)
{
	struct out o = { f, 0 };
	int lw = 0, width, height, top, t, r = 0;
	size_t i;

	if (!f || (npanels && !panels))
		return -EINVAL;
	/* one legend width for all, so the panels line up */
	for (i = 0; i < npanels; i++) {
		t = legend_w(&panels[i]);
		if (t > lw)
			lw = t;
	}
	width = doc_width(caption, panels, npanels, lw);
	top = caption ? CAPTION_H : PAD;
	height = top + PAD + (npanels ? 0 : 40);
	for (i = 0; i < npanels; i++)
		height += panel_h(&panels[i]) + (i ? PANEL_GAP : 0);

	put(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
	    "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "font-family=\"sans-serif\" font-size=\"12\">\n",
	    width, height, width, height);
	if (caption) {
		put(&o, "<title>");
		put_text(&o, caption);
		put(&o, "</title>\n");
	}
	/* the PNG converters and dark browser themes assume transparency */
	put(&o, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
	if (caption) {
		put(&o, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">",
		    PAD, CAPTION_H - 14);
		put_text(&o, caption);
		put(&o, "</text>\n");
	}
	if (!npanels)
		draw_no_data(&o, width / 2, top + 20);
	for (i = 0; i < npanels && !r; i++) {
		put(&o, "<g transform=\"translate(0 %d)\">\n", top);
		r = draw_panel(&o, &panels[i], lw);
		put(&o, "</g>\n");
		top += panel_h(&panels[i]) + PANEL_GAP;
	}
	put(&o, "</svg>\n");
	/* buffered output fails late: find out now, not at the caller's fclose */
	errno = 0;
	if (!o.err && fflush(f))
		o.err = errno ? -errno : -EIO;
	if (!o.err && ferror(f))
		o.err = -EIO;
	return r ? r : o.err;
}
