/*
 * The report's closing ratios: shmkit's figures divided by the baselines
 * measured in the same run (a pipe, a 1 MiB pipe, a UNIX socket, the
 * two-core limit, one cache line), since a ratio holds where absolute
 * speeds drift. memcpy on one core stays in the report as information,
 * not as a ceiling: a stream is two cores filling, moving and checking.
 * Throughput ratios above 1 mean shmkit moved more; round-trip ratios are
 * of times, so below 1 means shmkit answered sooner.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sweep.h"

/* Figures the ratios compare; NAN-free: 0 means not measured. Streams at
 * the first ring size. */
static double st_gb(const struct bench *b, const char *x, size_t size)
{
	int i = bench_find_xport(b, x), s = bench_find_size(b->sizes, b->nsizes, size);

	return i >= 0 && s >= 0 && b->st_ok[0][i][s] ? b->st[0][i][s].gb_per_s.median : 0;
}

static double lat_med(const struct bench *b, const char *x, int v, size_t size)
{
	int i = bench_find_xport(b, x), s = bench_find_size(b->lat_sizes, b->nlat, size);

	return i >= 0 && s >= 0 && b->lat_ok[i][v][s] ? b->lat[i][v][s].mean_ns.median : 0;
}

/* Adds what = num / den if both were measured; returns the new count. */
static int add_ratio(struct bench_ratio *t, int n, const char *what, double num, double den)
{
	if (num <= 0 || den <= 0)
		return n;
	snprintf(t[n].what, sizeof(t[n].what), "%s", what);
	t[n].value = num / den;
	t[n].is_ratio = 1;
	return n + 1;
}

/* Small messages against the pipe, and the zero-copy API against copying. */
static int stream_ratios(const struct bench *b, struct bench_ratio *t, int n)
{
	static const size_t big[] = { 64 << 10, 1 << 20 };
	char what[96], sz[16];

	n = add_ratio(t, n, "64 B msg/s, shmkit vs pipe", st_gb(b, "shmkit", 64),
		      st_gb(b, "pipe", 64));
	n = add_ratio(t, n, "64 B msg/s, shmkit-zc vs pipe", st_gb(b, "shmkit-zc", 64),
		      st_gb(b, "pipe", 64));
	n = add_ratio(t, n, "1 KiB GB/s, shmkit vs pipe", st_gb(b, "shmkit", 1024),
		      st_gb(b, "pipe", 1024));
	n = add_ratio(t, n, "4 KiB GB/s, shmkit vs pipe", st_gb(b, "shmkit", 4096),
		      st_gb(b, "pipe", 4096));
	n = add_ratio(t, n, "4 KiB GB/s, shmkit-zc vs pipe", st_gb(b, "shmkit-zc", 4096),
		      st_gb(b, "pipe", 4096));
	for (size_t k = 0; k < 2; k++) {
		fmt_bytes(sz, sizeof(sz), (double)big[k], FMT_IEC);
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs unix", sz);
		n = add_ratio(t, n, what, st_gb(b, "shmkit", big[k]), st_gb(b, "unix", big[k]));
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs pipe-1m", sz);
		n = add_ratio(t, n, what, st_gb(b, "shmkit", big[k]), st_gb(b, "pipe-1m", big[k]));
		snprintf(what, sizeof(what), "%s GB/s, shmkit-zc vs shmkit", sz);
		n = add_ratio(t, n, what, st_gb(b, "shmkit-zc", big[k]),
			      st_gb(b, "shmkit", big[k]));
	}
	return n;
}

/*
 * Both APIs against the two-core limit (bench/xport_limit.c): the same
 * fill, transfer and check through one shared ring with nothing else, so
 * what falls short of 1x is the channel's own cost.
 */
static int limit_ratios(const struct bench *b, struct bench_ratio *t, int n)
{
	static const size_t sizes[] = { 1 << 10, 4 << 10, 64 << 10, 1 << 20 };
	static const char *const api[] = { "shmkit", "shmkit-zc" };
	char what[96], sz[16];

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		double limit = st_gb(b, "limit", sizes[k]);

		fmt_bytes(sz, sizeof(sz), (double)sizes[k], FMT_IEC);
		for (size_t a = 0; a < 2; a++) {
			snprintf(what, sizeof(what), "%s GB/s, %s vs limit", sz, api[a]);
			n = add_ratio(t, n, what, st_gb(b, api[a], sizes[k]), limit);
		}
	}
	return n;
}

/* Round trips against the cache line (the floor) and a sleeping pipe. */
static int latency_ratios(const struct bench *b, struct bench_ratio *t, int n)
{
	if (b->line_ok) {
		double line = b->line.mean_ns.median;

		n = add_ratio(t, n, "8 B round trip, spin vs cache line",
			      lat_med(b, "shmkit", 0, 8), line);
		n = add_ratio(t, n, "8 B round trip, block vs cache line",
			      lat_med(b, "shmkit", 1, 8), line);
	}
	return add_ratio(t, n, "8 B round trip asleep, block vs pipe",
			 lat_med(b, "shmkit", V_ASLEEP, 8), lat_med(b, "pipe", V_ASLEEP, 8));
}

/* Not a ratio of two transports: how often the channel made a system call. */
static int syscall_figure(const struct bench *b, struct bench_ratio *t, int n)
{
	double worst = -1;
	int i = bench_find_xport(b, "shmkit");

	for (int s = 0; i >= 0 && s < b->nsizes; s++) {
		const struct bench_stream_result *r = &b->st[0][i][s];

		if (b->st_ok[0][i][s] && r->have_counts && r->syscalls_per_1000 > worst)
			worst = r->syscalls_per_1000;
	}
	if (worst < 0)
		return n;
	snprintf(t[n].what, sizeof(t[n].what), "system calls per 1,000 msgs, shmkit, worst size");
	t[n].value = worst;
	t[n].is_ratio = 0;
	return n + 1;
}

/* Fan-out figure k (FAN_*) with subs subscribers at size, or 0 if not run. */
static double fan(const struct bench *b, int k, int subs, size_t size, int publisher)
{
	for (int n = 0; n < NFAN_SUBS; n++)
		for (int s = 0; s < NFAN_SIZES; s++)
			if (fan_subs[n] == subs && fan_sizes[s] == size && b->fan_ok[k][n][s])
				return publisher ? b->fan[k][n][s].pub_busy.median :
						   b->fan[k][n][s].delivered.median;
	return 0;
}

/* Write once: what a topic's publisher saves, and what one reader costs. */
static int fanout_ratios(const struct bench *b, struct bench_ratio *t, int n)
{
	n = add_ratio(t, n, "64 B 1 to 1 msg/s, topic vs channel",
		      fan(b, FAN_TOPIC, 1, 64, 0), fan(b, FAN_CHANS, 1, 64, 0));
	n = add_ratio(t, n, "4 KiB 1 to 1 msg/s, topic vs channel",
		      fan(b, FAN_TOPIC, 1, 4096, 0), fan(b, FAN_CHANS, 1, 4096, 0));
	n = add_ratio(t, n, "64 KiB publisher msg/s, topic 4 subs vs 1",
		      fan(b, FAN_TOPIC, 4, 65536, 1), fan(b, FAN_TOPIC, 1, 65536, 1));
	return add_ratio(t, n, "64 KiB publisher msg/s, topic vs 4 channels",
			 fan(b, FAN_TOPIC, 4, 65536, 1), fan(b, FAN_CHANS, 4, 65536, 1));
}

/* The round trip's median with clients clients, k RPC_*; 0 if not run. */
static double rpc_med(const struct bench *b, int k, int clients)
{
	for (int n = 0; n < NRPC_CLIENTS; n++)
		if (rpc_clients[n] == clients && b->rpc_ok[k][n])
			return b->rpc[k][n].median_ns;
	return 0;
}

static double inbox_rate(const struct bench *b, int producers, size_t size)
{
	for (int n = 0; n < NINBOX_PRODS; n++)
		for (int s = 0; s < NINBOX_SIZES; s++)
			if (inbox_prods[n] == producers && inbox_sizes[s] == size &&
			    b->inbox_ok[n][s])
				return b->inbox[n][s].median;
	return 0;
}

/* Request/response against a socket server; an inbox against a channel. */
static int servers_ratios(const struct bench *b, struct bench_ratio *t, int n)
{
	n = add_ratio(t, n, "64 B call, 1 client, shmkit vs socket+epoll",
		      rpc_med(b, RPC_SHM, 1), rpc_med(b, RPC_SOCKET, 1));
	n = add_ratio(t, n, "64 B call, 64 clients, shmkit vs socket+epoll",
		      rpc_med(b, RPC_SHM, 64), rpc_med(b, RPC_SOCKET, 64));
	n = add_ratio(t, n, "64 B msg/s, inbox 4 producers vs channel",
		      inbox_rate(b, 4, 64), inbox_rate(b, 0, 64));
	return add_ratio(t, n, "4 KiB msg/s, inbox 4 producers vs channel",
			 inbox_rate(b, 4, 4096), inbox_rate(b, 0, 4096));
}

int bench_ratios(const struct bench *b, struct bench_ratio *t)
{
	int n = stream_ratios(b, t, 0);

	n = limit_ratios(b, t, n);
	n = latency_ratios(b, t, n);
	n = fanout_ratios(b, t, n);
	n = servers_ratios(b, t, n);
	return syscall_figure(b, t, n);
}
