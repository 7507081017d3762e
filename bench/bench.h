/*
 * shmkit bench: the measuring half, what the runs and transports share.
 *
 * bench/ holds the benchmark apart from the command's cli/; the shmkit
 * binary links its objects, and cli/main.c calls cmd_bench like any other
 * subcommand. The files, one concern each:
 *
 *   cmd.c           the command: usage, options, defaults, cmd_bench
 *   sweep.c         every transport at every size, repetitions interleaved
 *   pair.c          two pinned processes, their control block, rounds
 *   stream.c        throughput runs; pingpong.c round-trip runs;
 *                   hardware.c the limits (memcpy, one cache line)
 *   xport.c         the transports: shmkit channels, pipes, UNIX sockets
 *   load.c          other processes' cpu time beside a round (/proc/stat)
 *   ratios.c        shmkit against the baselines of the same run
 *   table.c         the table; json.c the JSON; chart.c the SVG chart,
 *                   drawn by svg.c (svg_axes.c, svg_text.c); save.c
 *                   --save's three files
 *   format.c        figures as text
 *
 * sweep.h holds a whole run (struct bench) for the sweep and the writers.
 *
 * The seam for new transports is struct bench_xport: a table of a few
 * functions, listed in bench_xports[]. The runs know nothing else about
 * them, so another IPC library can be added in a file of its own.
 */
#ifndef SHMKIT_BENCH_BENCH_H
#define SHMKIT_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ transports */

/* One one-way link, as a transport keeps it. Made before the fork, so both
 * children inherit it; each then opens its own end. */
struct bench_link;

struct bench_xport {
	const char *name;	/* as --transports names it: "pipe" */
	const char *label;	/* in tables and plots: "pipe (64 KiB)" */
	int has_policy;		/* 1 if the wait policy changes anything */
	/* In the parent: a link for messages of up to max bytes. policy is a
	 * SHMKIT_WAIT_* and ring a buffer size, for transports that have them. */
	int (*make)(struct bench_link **l, size_t max, int policy, size_t ring);
	/* In a child: take the sending (sender 1) or receiving end. */
	int (*open)(struct bench_link *l, int sender);
	/* In the parent, once both children have opened: nothing more needs
	 * to find the link by name (a channel is then marked for removal). */
	void (*opened)(struct bench_link *l);
	/*
	 * Sends message seq of len bytes, writing every byte of it, or
	 * receives the next one, reading every byte and checking it is
	 * message seq of len bytes. 0, or a negative errno; a failed check is
	 * -EBADMSG with the reason in bench_why.
	 */
	int (*send)(struct bench_link *l, uint64_t seq, size_t len);
	int (*recv)(struct bench_link *l, uint64_t seq, size_t len);
	/* Receiving end, after a stream: wake-up system calls both sides
	 * made, and messages; 0, or -1 when the transport cannot tell. */
	int (*wakes)(struct bench_link *l, uint64_t *wakes, uint64_t *msgs);
	void (*close)(struct bench_link *l, int sender);	/* in a child */
	void (*destroy)(struct bench_link *l);	/* in the parent */
};

extern const struct bench_xport *const bench_xports[];

/* Why the last check failed, for the error message. */
extern char bench_why[200];

/* The payload of message seq (common/payload.h), so a torn, stale,
 * repeated or reordered message fails the check. */
void bench_fill(void *buf, size_t len, uint64_t seq);
int bench_check(const void *buf, size_t len, uint64_t seq);

/* ---------------------------------------------------------------- runs */

#define BENCH_MAX_REPS 64

struct bench_opts {
	int reps;		/* timed repetitions, after warm-up */
	double duration;	/* seconds per streaming repetition */
	double lat_duration;	/* seconds per round-trip repetition */
	int cpu[2];		/* producer (pinger), consumer (ponger); -1 unpinned */
	size_t ring;		/* channel capacity and memcpy working set */
};

/* Median, minimum and maximum over the repetitions. */
struct bench_stat {
	double median, min, max;
};

struct bench_stream_result {
	struct bench_stat msgs_per_s;
	struct bench_stat gb_per_s;	/* payload bytes, 1e9 per GB */
	uint64_t msgs;			/* in the timed repetitions */
	int have_wakes;
	double wakes_per_1000;		/* wake-up system calls per 1,000 msgs */
};

struct bench_lat_result {
	struct bench_stat median_ns;	/* each repetition's median */
	struct bench_stat p99_ns;	/* each repetition's 99th percentile */
	uint64_t samples;
};

/*
 * Each run forks its two processes, pinned, and returns 0 or -1 after
 * printing why (a failed check among the reasons: no figure is made of a
 * broken run).
 */
int bench_stream(const struct bench_xport *x, size_t size,
		 const struct bench_opts *o, struct bench_stream_result *r);
/* gap_us > 0: the pinger pauses that long between round trips, so a
 * blocking peer has gone to sleep when the next message arrives. */
int bench_pingpong(const struct bench_xport *x, size_t size, int policy,
		   unsigned gap_us, const struct bench_opts *o,
		   struct bench_lat_result *r);
/* Single-core memcpy of size-byte messages into an o->ring-sized region. */
int bench_memcpy(size_t size, const struct bench_opts *o, struct bench_stat *gb_per_s);
/* One cache line passed back and forth between the two processes. */
int bench_cacheline(const struct bench_opts *o, struct bench_lat_result *r);

/* Whether pinning to o->cpu works here; 0 or -1 with the reason. */
int bench_can_pin(const struct bench_opts *o, char *why, size_t cap);


/* Median, minimum and maximum of n values (sorts v). */
void bench_stat_of(double *v, int n, struct bench_stat *s);

#endif
