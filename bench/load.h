/*
 * Other load beside a round (bench/load.c): the cpu time processes other
 * than the benchmark's took on its cpus, and the machine's load average.
 */
#ifndef SHMKIT_BENCH_LOAD_H
#define SHMKIT_BENCH_LOAD_H

/* The watched cpus' idle time at one moment. */
struct load_mark {
	double at;		/* CLOCK_MONOTONIC seconds of the reading */
	double idle_s;		/* idle and iowait seconds, summed over the cpus */
	int cpus;		/* how many cpus the figures are of */
	int lines;		/* /proc/stat lines summed, each rounded to a tick */
	int ok;
};

/*
 * Reads /proc/stat: the lines of cpu[0] and cpu[1], or the whole machine's
 * when cpu[0] < 0 (an unpinned run may use any cpu).
 */
void load_mark(struct load_mark *m, const int cpu[2]);
/*
 * Cpus that processes other than the bench kept busy from a to b, own_s
 * being the bench's own cpu seconds in (at least) that time: at least
 * this much, after /proc/stat's rounding. -1 if a reading failed.
 */
double load_other(const struct load_mark *a, const struct load_mark *b, double own_s);
/* The calling thread's cpu seconds so far (exact, unlike /proc). */
double load_own_s(void);

#endif
