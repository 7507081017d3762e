/*
 * Other load beside a round: how much cpu time processes other than the
 * benchmark's two took while a timed round ran, so that a figure measured
 * on a machine busy with something else is known as such.
 *
 * The busy time of the watched cpus comes from /proc/stat as the time
 * they were not idle (elapsed time times cpus, less idle and iowait),
 * rather than as the sum of the busy fields: the kernel measures an idle
 * cpu's idle time to the microsecond when it stops the tick, while user,
 * system, irq and steal time are sampled at each tick; and one rounded
 * figure per line errs less than six. Steal counts as busy, as it should:
 * on a virtual machine it is another guest's work on our cpu.
 *
 * The bench's own time is subtracted from that. Each side reads its own
 * thread's cpu clock, which the kernel brings up to date when asked;
 * another process's (/proc/PID/schedstat, or its process clock) lags by
 * up to a scheduler tick, as much as a short round's whole margin.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"	/* clock_s */
#include "load.h"

/*
 * One "cpu" or "cpuN" line into m if it is one watched; n is -1 for the
 * machine's line. Returns 1 for a cpuN line (online cpus are listed).
 */
static int add_line(struct load_mark *m, const char *line, const int cpu[2], double tick)
{
	unsigned long long user, nice, sys, idle, iowait;
	const char *p = line + 3;
	int n = -1;

	if (*p != ' ' && sscanf(p, "%d", &n) != 1)
		return 0;
	p += strcspn(p, " ");
	if (sscanf(p, "%llu %llu %llu %llu %llu", &user, &nice, &sys, &idle, &iowait) != 5)
		return 0;
	if (cpu[0] < 0 ? n < 0 : n >= 0 && (n == cpu[0] || n == cpu[1])) {
		m->idle_s += (double)(idle + iowait) * tick;
		m->lines++;
	}
	return n >= 0;
}

void load_mark(struct load_mark *m, const int cpu[2])
{
	double tick = 1.0 / (double)sysconf(_SC_CLK_TCK), before = clock_s();
	char line[512];
	int online = 0;
	FILE *f;

	memset(m, 0, sizeof(*m));
	if (!(f = fopen("/proc/stat", "re")))
		return;
	/* the cpu lines come first; the rest (interrupts) is long and not ours */
	while (fgets(line, sizeof(line), f) && !strncmp(line, "cpu", 3))
		online += add_line(m, line, cpu, tick);
	fclose(f);
	m->at = (before + clock_s()) / 2;
	m->cpus = cpu[0] < 0 ? online : m->lines;
	m->ok = cpu[0] < 0 ? m->lines == 1 && online > 0 : m->lines == 2;
}

double load_other(const struct load_mark *a, const struct load_mark *b, double own_s)
{
	double tick = 1.0 / (double)sysconf(_SC_CLK_TCK), span = b->at - a->at, other;

	if (!a->ok || !b->ok || a->cpus != b->cpus || span <= 0)
		return -1;
	other = (double)a->cpus * span - (b->idle_s - a->idle_s) - own_s;
	/* each line's idle is rounded down to a tick at both readings, so the
	 * busy time may be a tick too high per line: only what is surely more */
	other -= (double)b->lines * tick;
	if (other < 0)
		other = 0;
	if (other > (double)a->cpus * span)
		other = (double)a->cpus * span;
	return other / span;
}

double load_own_s(void)
{
	struct timespec t;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) < 0)
		return 0;
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}
