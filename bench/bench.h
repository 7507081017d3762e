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
 *                   hardware.c the limits (memcpy, one cache line);
 *                   fanout.c one publisher to N subscribers, through a
 *                   topic and through N channels
 *   xport.c         the transports: shmkit channels, pipes, UNIX sockets
 *   xport_limit.c   the two-core limit, a transport of its own
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

/*
 * What a transport counts of its own work, read at both ends of a timed
 * round: [0] the producer's side, [1] the consumer's. A channel's are its
 * struct shmkit_chan_info counters.
 */
struct bench_counts {
	uint64_t ring;		/* the ring's real capacity in bytes */
	uint64_t sleeps[2];	/* futex waits */
	uint64_t wakes[2];	/* futex wakes of the other side */
	uint64_t yields[2];	/* sched_yield calls while waiting */
	uint64_t wait_ns[2];	/* time spent waiting for the other side */
};

struct bench_xport {
	const char *name;	/* as --transports names it: "pipe" */
	const char *label;	/* in tables and plots: "pipe (64 KiB)" */
	int has_policy;		/* 1 if the wait policy changes anything */
	int uses_ring;		/* 1 if make's ring sizes it: once per --rings size */
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
	/* Sending end, between rounds: the counters so far; 0, or -1 when
	 * the transport cannot tell (a pipe's calls are its messages). */
	int (*counts)(struct bench_link *l, struct bench_counts *c);
	void (*close)(struct bench_link *l, int sender);	/* in a child */
	void (*destroy)(struct bench_link *l);	/* in the parent */
};

extern const struct bench_xport *const bench_xports[];

/* The two-core limit (xport_limit.c): fill, one memcpy into a shared
 * ring, check in place; the ceiling the streaming table compares with. */
extern const struct bench_xport bench_xport_limit;

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

/*
 * A repetition that ran beside more than this share of one cpu of other
 * processes' work is spoiled. A tenth of a cpu taken on the bench's cpus
 * is up to a tenth of a round taken from one side, more than quiet
 * repetitions spread; less than that is lost in that spread, and in a
 * short round in /proc/stat's rounding (load.c).
 */
#define BENCH_SPOILED_CPU 0.10

/* One timed repetition of a stream. */
struct bench_rep {
	double msgs_per_s, gb_per_s;
	double other_cpu;	/* other processes beside it, in cpus; -1 unknown */
	int spoiled;		/* other_cpu > BENCH_SPOILED_CPU */
	double line_ns;		/* the cache line's round trip just before it */
	int have_counts;	/* the transport counted its system calls */
	double syscalls_per_1000;	/* sleeps, wakes, yields of both sides */
	double wait[2];		/* producer, consumer: share of the round waiting */
	uint64_t ring;		/* the ring's capacity; 0 unknown */
};

/*
 * A repetition whose probe took this many times the run's median probe is
 * taken to have run on other cpus than the rest (a virtual machine's host
 * moved or crowded them): on the hosts we run on, probes sat at about 30
 * ns (two threads of one core) or 70 ns (two cores, AMD EPYC) when the
 * figures agreed, and at 400-1000 ns in the repetitions that ran at a
 * quarter of the speed. The median, not the fastest: on an Intel Xeon host
 * (2026-12-01) two cores answered in 130-200 ns, and one repetition that
 * the host ran on two threads of one core (31 ns) made every other one
 * look moved, and be run again, for 25 seconds more.
 */
#define BENCH_MOVED 3
#define BENCH_PROBES_MAX 1024	/* stream probes kept for the running median */

struct bench_stream_result {
	struct bench_stat msgs_per_s;
	struct bench_stat gb_per_s;	/* payload bytes, 1e9 per GB */
	uint64_t msgs;			/* in the timed repetitions */
	int nreps;
	struct bench_rep rep[BENCH_MAX_REPS];
	/* from rep[], by bench_stream_sum */
	int spoiled;			/* repetitions spoiled */
	double other_cpu_max;		/* -1 if never known */
	struct bench_stat line_ns;	/* the probes before the repetitions */
	int moved;			/* repetitions probed at > BENCH_MOVED x the median */
	int have_counts;
	double syscalls_per_1000;	/* medians over the repetitions */
	double wait[2];
};

/*
 * Round trips are timed two ways. The mean is a whole round's time over
 * its trips: no clock inside the loop, so nothing but the trips is timed.
 * The percentiles come from timing trips one by one (a round of its own,
 * after the timed ones), and each sample then includes one clock reading
 * (the table prints that cost). With a gap between trips the clock's cost
 * is small beside a sleep and a wake-up, and every round is sampled.
 */
struct bench_lat_result {
	struct bench_stat mean_ns;	/* each repetition's mean trip */
	struct bench_stat median_ns;	/* per-sample median, clock included */
	struct bench_stat p99_ns;	/* per-sample 99th percentile, the same */
	uint64_t samples;
};

/*
 * Each run forks its two processes, pinned, and returns 0 or -1 after
 * printing why (a failed check among the reasons: no figure is made of a
 * broken run).
 */
int bench_stream(const struct bench_xport *x, size_t size,
		 const struct bench_opts *o, struct bench_stream_result *r);
/* r's statistics and flags from its nreps repetitions. */
void bench_stream_sum(struct bench_stream_result *r);
/* gap_us > 0: the pinger pauses that long between round trips, so a
 * blocking peer has gone to sleep when the next message arrives. */
int bench_pingpong(const struct bench_xport *x, size_t size, int policy,
		   unsigned gap_us, const struct bench_opts *o,
		   struct bench_lat_result *r);
/* Single-core memcpy of size-byte messages into an o->ring-sized region. */
int bench_memcpy(size_t size, const struct bench_opts *o, struct bench_stat *gb_per_s);
/* One cache line passed back and forth between the two processes. */
int bench_cacheline(const struct bench_opts *o, struct bench_lat_result *r);
/* What one reading of the benchmark's clock costs, in ns, on o->cpu[0]. */
double bench_clock_cost(const struct bench_opts *o);

/* Whether pinning to o->cpu works here; 0 or -1 with the reason. */
int bench_can_pin(const struct bench_opts *o, char *why, size_t cap);


/*
 * Fan-out (fanout.c): one publisher on o->cpu[0], nsubs subscribers all
 * on o->cpu[1], zero-copy, block policy; through one topic (topic 1) or
 * nsubs channels. delivered: messages per second to each subscriber, a
 * round's messages over the time from its first send to the last
 * subscriber's last check. pub_busy: the publisher's messages per second
 * of its own work, its sending time less its waits for room; pub_wait
 * the share of its sending time it waited; pub_wakes its calls to wake
 * sleeping subscribers, per 1,000 messages (one call wakes every
 * subscriber of a topic; N channels take one each).
 */
#define FAN_MAX_SUBS 8
struct bench_fan_result {
	struct bench_stat delivered, pub_busy, pub_wait;
	struct bench_stat pub_wakes;	/* its wake-up calls per 1,000 messages */
	struct bench_stat line_ns;	/* the probes before the timed rounds */
	double rep_line_ns[BENCH_MAX_REPS];	/* each repetition's (the sweep's) */
	int moved;			/* repetitions probed at > BENCH_MOVED x the median */
	int nreps;
};
int bench_fanout(int topic, int nsubs, size_t size, const struct bench_opts *o,
		 struct bench_fan_result *r);

/*
 * Servers (servers.c). bench_rpc: one server on o->cpu[0], nclients
 * clients on o->cpu[1], 64-byte calls, through a shmkit service (shm 1)
 * or UNIX sockets and an epoll loop (shm 0), for o->duration seconds; the trips' median and 99th percentile, calls a second, and
 * the server's share of a cpu while every client is idle. bench_inbox:
 * producers (1 to SRV_MAX_CLIENTS; 0 for one producer into a channel) on
 * o->cpu[0] into one consumer on o->cpu[1], zero-copy; messages a second
 * over o->reps windows of o->duration / 4.
 */
#define SRV_MAX_CLIENTS 64
struct bench_rpc_result {
	double median_ns, p99_ns;
	double calls_per_s;
	double idle_cpu;	/* cpus; -1 unknown */
	uint64_t trips;
};
int bench_rpc(int shm, int nclients, const struct bench_opts *o, struct bench_rpc_result *r);
int bench_inbox(int producers, size_t size, const struct bench_opts *o, struct bench_stat *r);

/* Median, minimum and maximum of n values (sorts v). */
void bench_stat_of(double *v, int n, struct bench_stat *s);

#endif
