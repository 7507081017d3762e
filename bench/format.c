/* Figures as the benchmark's table prints them (sizes: fmt_bytes, cli/fmt.c). */
#include <stdio.h>

#include "sweep.h"

void fmt_si(char *buf, size_t cap, double v)
{
	if (v >= 1e9)
		snprintf(buf, cap, "%.2f G", v / 1e9);
	else if (v >= 1e6)
		snprintf(buf, cap, "%.2f M", v / 1e6);
	else if (v >= 1e3)
		snprintf(buf, cap, "%.1f k", v / 1e3);
	else
		snprintf(buf, cap, "%.0f", v);
}

void fmt_ns(char *buf, size_t cap, double ns)
{
	if (ns >= 1e6)
		snprintf(buf, cap, "%.2f ms", ns / 1e6);
	else if (ns >= 1e4)
		snprintf(buf, cap, "%.1f us", ns / 1e3);
	else if (ns >= 1e3)
		snprintf(buf, cap, "%.2f us", ns / 1e3);
	else
		snprintf(buf, cap, "%.0f ns", ns);
}
