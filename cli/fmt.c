/*
 * Human forms of figures: sizes, ages, modes, states. One rule for byte
 * sizes everywhere (ls, stat, send/recv, the benchmark's table and chart):
 * three significant digits and a power-of-1024 unit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "2.50" -> "2.5", "3.00" -> "3": figures stay short. */
static void trim_zeros(char *b)
{
	char *e;

	if (!strchr(b, '.'))
		return;
	e = b + strlen(b);
	while (e[-1] == '0')
		e--;
	if (e[-1] == '.')
		e--;
	*e = '\0';
}

void fmt_scaled(char *buf, size_t cap, double v, double base,
		const char *const *units, size_t nunits, const char *sep)
{
	char num[48];
	double whole = v;
	size_t u = 0;
	int dec;

	while (u + 1 < nunits && v >= base) {
		v /= base;
		u++;
	}
	if (v >= 1000 * base) {	/* far past the last unit: exponent form */
		snprintf(buf, cap, "%.3g", whole);
		return;
	}
	if (v < 1) {
		snprintf(num, sizeof(num), "%.3g", v);
	} else {
		for (;;) {
			dec = v < 10 ? 2 : v < 100 ? 1 : 0;
			snprintf(num, sizeof(num), "%.*f", dec, v);
			/* 999.7 rounds to "1000": that is "1k" */
			if (u + 1 < nunits && strtod(num, NULL) >= base) {
				v /= base;
				u++;
				continue;
			}
			break;
		}
		trim_zeros(num);
	}
	snprintf(buf, cap, "%s%s%s", num, *units[u] ? sep : "", units[u]);
}

void fmt_bytes(char *buf, size_t cap, double bytes, enum fmt_style style)
{
	static const char *const iec[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	static const char *const letter[] = { "B", "K", "M", "G", "T", "P", "E" };

	if (style == FMT_IEC)
		fmt_scaled(buf, cap, bytes, 1024, iec, sizeof(iec) / sizeof(iec[0]), " ");
	else
		fmt_scaled(buf, cap, bytes, 1024, letter, sizeof(letter) / sizeof(letter[0]), "");
}

void fmt_number(char *buf, size_t cap, double v)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P", "E" };

	fmt_scaled(buf, cap, v, 1000, units, sizeof(units) / sizeof(units[0]), "");
}

void fmt_age(char *buf, size_t cap, int64_t s)
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, cap, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(buf, cap, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(buf, cap, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, cap, "%lldd", (long long)(s / 86400));
}

const char *state_name(int state)
{
	switch (state) {
	case SHMKIT_STATE_INUSE: return "in-use";
	case SHMKIT_STATE_IDLE: return "idle";
	case SHMKIT_STATE_ORPHAN: return "orphan";
	case SHMKIT_STATE_REMOVING: return "removing";
	case SHMKIT_STATE_PENDING: return "pending";
	}
	return "?";
}

void fmt_mode(char *buf, size_t cap, unsigned mode)
{
	snprintf(buf, cap, "%04o", mode & 0777);
}
