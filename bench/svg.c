/*
 * SVG charts for 'shmkit bench --plot'. We write SVG 1.1 text ourselves, so
 * the command needs no plotting library and any browser shows the result.
 * This file lays out panels, series and legends; svg_axes.c the axes,
 * svg_text.c the escaped text.
 *
 * Text sizes are estimated from character counts (we cannot measure fonts),
 * generously, so that boxes are a little too wide rather than too narrow.
 */
#include <errno.h>
#include <stdlib.h>

#include "svg_draw.h"

/* Readable on white and told apart by most eyes; cycles with a dash. */
static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
	"#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#8a8a00",
};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

static const char *const dashes[] = { NULL, "7 3", "2 3", "9 3 2 3" };
#define NDASHES (sizeof(dashes) / sizeof(dashes[0]))

static const char *legend_suffix(const struct plot_series *s)
{
	return svg_count_valid(s) ? "" : " (no data)";
}

/* Legend box width; 0 when there is nothing to list. */
static int legend_w(const struct plot_panel *p)
{
	double w = 0, t;
	size_t i;

	for (i = 0; i < p->nseries; i++) {
		t = svg_text_w(p->series[i].label, 12, GLYPH_W) +
		    svg_text_w(legend_suffix(&p->series[i]), 12, GLYPH_W);
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

static void draw_labels(struct out *o, const struct plot_panel *p)
{
	double tw = svg_text_w(p->title, 15, BOLD_GLYPH_W);

	if (p->title && *p->title) {
		/* centred over the plot while it fits, else from its left edge */
		if (tw <= PLOT_W)
			svg_put(o, "<text x=\"%d\" y=\"%d\" font-size=\"15\" "
				"font-weight=\"bold\" text-anchor=\"middle\">",
				PLOT_L + PLOT_W / 2, TITLE_H - 12);
		else
			svg_put(o, "<text x=\"%d\" y=\"%d\" font-size=\"15\" "
				"font-weight=\"bold\">", PLOT_L, TITLE_H - 12);
		svg_put_text(o, p->title);
		svg_put(o, "</text>\n");
	}
	if (p->xlabel && *p->xlabel) {
		svg_put(o, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
			PLOT_L + PLOT_W / 2, TITLE_H + PLOT_H + XAXIS_H - 12);
		svg_put_text(o, p->xlabel);
		svg_put(o, "</text>\n");
	}
	if (p->ylabel && *p->ylabel) {
		svg_put(o, "<text transform=\"translate(%d %d) rotate(-90)\" "
			"text-anchor=\"middle\">", 22, TITLE_H + PLOT_H / 2);
		svg_put_text(o, p->ylabel);
		svg_put(o, "</text>\n");
	}
}

static void put_stroke(struct out *o, size_t i)
{
	const char *dash = dashes[i / NPALETTE % NDASHES];

	svg_put(o, "stroke=\"%s\"", palette[i % NPALETTE]);
	if (dash)
		svg_put(o, " stroke-dasharray=\"%s\"", dash);
}

static int draw_series(struct out *o, const struct axes *a,
		       const struct plot_series *s, size_t idx, int bytes)
{
	size_t n = svg_count_valid(s), i;
	struct pt *pts;
	char xb[48];

	if (!n)
		return 0;
	pts = svg_sorted_points(s, n);
	if (!pts)
		return -ENOMEM;
	if (n > 1) {
		svg_put(o, "<polyline fill=\"none\" stroke-width=\"2\" "
			"stroke-linejoin=\"round\" ");
		put_stroke(o, idx);
		svg_put(o, " points=\"");
		for (i = 0; i < n; i++)
			svg_put(o, "%s%.1f,%.1f", i ? " " : "", svg_map_x(a, pts[i].x),
				svg_map_y(a, pts[i].y));
		svg_put(o, "\"/>\n");
	}
	/* a white rim keeps markers apart where lines cross; hovering shows
	 * the exact figure */
	svg_put(o, "<g fill=\"%s\" stroke=\"#ffffff\">\n", palette[idx % NPALETTE]);
	for (i = 0; i < n; i++) {
		svg_fmt_x(xb, sizeof(xb), pts[i].x, bytes);
		svg_put(o, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\"><title>",
			svg_map_x(a, pts[i].x), svg_map_y(a, pts[i].y), MARKER_R);
		svg_put_text(o, s->label);
		svg_put(o, ": %s, %.4g</title></circle>\n", xb, pts[i].y);
	}
	svg_put(o, "</g>\n");
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
	svg_put(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#ffffff\" "
		"stroke=\"#bbbbbb\"/>\n", x, y, width, legend_h(p));
	for (i = 0; i < p->nseries; i++) {
		cy = y + 5 + LEGEND_ROW * (double)i + LEGEND_ROW / 2.0;
		svg_put(o, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
			"stroke-width=\"2\" ", x + 8, cy, x + 34, cy);
		put_stroke(o, i);
		svg_put(o, "/>\n<circle cx=\"%d\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\" "
			"stroke=\"#ffffff\"/>\n", x + 21, cy, MARKER_R,
			palette[i % NPALETTE]);
		svg_put(o, "<text x=\"%d\" y=\"%.1f\">", x + 42, cy + 4);
		svg_put_text(o, p->series[i].label);
		svg_put(o, "%s</text>\n", legend_suffix(&p->series[i]));
	}
}

static void draw_no_data(struct out *o, int x, int y)
{
	svg_put(o, "<text x=\"%d\" y=\"%d\" font-size=\"14\" text-anchor=\"middle\" "
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
	npts = svg_panel_extent(p, &min, &max);
	if (!npts) {
		draw_no_data(o, PLOT_L + PLOT_W / 2, TITLE_H + PLOT_H / 2);
	} else {
		xs = svg_distinct_x(p, npts, &nx);
		if (!xs)
			return -ENOMEM;
		svg_set_axes(&a, min, max);
		svg_draw_y_axis(o, &a);
		svg_draw_x_axis(o, &a, xs, nx, p->x_bytes);
		free(xs);
		for (i = 0; i < p->nseries && !r; i++)
			r = draw_series(o, &a, &p->series[i], i, p->x_bytes);
	}
	/* the frame goes over the gridlines' ends */
	svg_put(o, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
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
	t = 2 * PAD + svg_text_w(caption, 14, BOLD_GLYPH_W);
	if (t > w)
		w = t;
	for (i = 0; i < npanels; i++) {
		t = PLOT_L + PAD + svg_text_w(panels[i].title, 15, BOLD_GLYPH_W);
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

	svg_put(&o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n",
		width, height, width, height);
	if (caption) {
		svg_put(&o, "<title>");
		svg_put_text(&o, caption);
		svg_put(&o, "</title>\n");
	}
	/* the PNG converters and dark browser themes assume transparency */
	svg_put(&o, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
	if (caption) {
		svg_put(&o, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"bold\">",
			PAD, CAPTION_H - 14);
		svg_put_text(&o, caption);
		svg_put(&o, "</text>\n");
	}
	if (!npanels)
		draw_no_data(&o, width / 2, top + 20);
	for (i = 0; i < npanels && !r; i++) {
		svg_put(&o, "<g transform=\"translate(0 %d)\">\n", top);
		r = draw_panel(&o, &panels[i], lw);
		svg_put(&o, "</g>\n");
		top += panel_h(&panels[i]) + PANEL_GAP;
	}
	svg_put(&o, "</svg>\n");
	/* buffered output fails late: find out now, not at the caller's fclose */
	errno = 0;
	if (!o.err && fflush(f))
		o.err = errno ? -errno : -EIO;
	if (!o.err && ferror(f))
		o.err = -EIO;
	return r ? r : o.err;
}
