/*
 * The human forms every program shares, pinned to exact text: byte sizes
 * (cli/fmt.c, one rule for ls, stat, send/recv and the benchmark) and the
 * escaping of labels in the benchmark's SVG chart (bench/svg*.c), where
 * one byte XML forbids makes a browser refuse the whole file.
 *
 * The sources are included, as tests/fuzz_replay.c does, so the test sees
 * their static helpers' effects without a library of the command's parts.
 */
#define _GNU_SOURCE	/* open_memstream */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "../cli/fmt.c"
#include "../cli/text.c"
#include "../cli/util.c"
#include "../bench/svg.c"
#include "../bench/svg_axes.c"
#include "../bench/svg_text.c"

static void bytes_are(double v, const char *iec, const char *narrow)
{
	char buf[48];

	fmt_bytes(buf, sizeof(buf), v, FMT_IEC);
	if (strcmp(buf, iec) != 0)
		t_fail(__FILE__, __LINE__, "%.0f bytes: \"%s\", expected \"%s\"", v, buf, iec);
	fmt_bytes(buf, sizeof(buf), v, FMT_SHORT);
	if (strcmp(buf, narrow) != 0)
		t_fail(__FILE__, __LINE__, "%.0f bytes: \"%s\", expected \"%s\"", v, buf, narrow);
}

static void sizes(void)
{
	char cut[4];

	bytes_are(0, "0 B", "0B");
	bytes_are(8, "8 B", "8B");
	bytes_are(1023, "1023 B", "1023B");
	bytes_are(1024, "1 KiB", "1K");
	bytes_are(1536, "1.5 KiB", "1.5K");
	bytes_are(5000, "4.88 KiB", "4.88K");	/* three significant digits */
	bytes_are(65536, "64 KiB", "64K");
	bytes_are(1048575, "1 MiB", "1M");	/* 1023.999 KiB rounds up a unit */
	bytes_are(1 << 30, "1 GiB", "1G");
	bytes_are(18446744073709551615.0, "16 EiB", "16E");	/* UINT64_MAX */
	fmt_bytes(cut, sizeof(cut), 65536, FMT_IEC);	/* cut, still a string */
	T_ASSERT(strcmp(cut, "64 ") == 0);
}

/* One panel whose series label is hostile; returns the document. */
static char *chart_with_label(const char *label)
{
	static const double x[] = { 64, 4096 }, y[] = { 1, 2 };
	struct plot_series s = { label, 2, x, y };
	struct plot_panel p = { "t", "size", "GB/s", 1, &s, 1 };
	char *doc = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);

	T_ASSERT(f);
	T_EQ(plot_svg(f, "caption", &p, 1), 0);
	T_EQ(fclose(f), 0);
	return doc;
}

static void svg_labels(void)
{
	/* markup, a control byte, U+FFFE, a lone continuation byte, a C0 overlong,
	 * then a good two-byte character and a good U+FFFD: each byte of the
	 * three bad sequences becomes one '?' (3 + 1 + 2) */
	char *doc = chart_with_label("a<b>&\"'\x01\xef\xbf\xbe\x80\xc0\xaf\xc3\xa9\xef\xbf\xbd");

	T_STR_CONTAINS(doc, "a&lt;b&gt;&amp;&quot;&apos; ??????\xc3\xa9\xef\xbf\xbd");
	T_ASSERT(!strstr(doc, "\xef\xbf\xbe"));
	T_STR_CONTAINS(doc, "64 B");	/* x ticks in the shared byte form */
	T_STR_CONTAINS(doc, "4 KiB");
	free(doc);
}

int main(void)
{
	sizes();
	svg_labels();
	return 0;
}
