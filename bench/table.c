/* The benchmark's table: what a person reads, and --save's .txt. */
#include <stdio.h>

#include "cli.h"
#include "sweep.h"

static void print_heading(FILE *f, const struct bench *b)
{
	fprintf(f, "shmkit bench %s: ", shmkit_version());
	fput_safe(f, b->machine);	/* from /proc/cpuinfo and uname */
	fputc('\n', f);
	fprintf(f, "%d repetitions after warm-up; figures are medians [min-max]; "
	       "ratios are to the pipe in this run\n",
	       b->o.reps);
	if (b->o.cpu[0] >= 0)
		fprintf(f, "producer (pinger) on cpu %d, consumer (ponger) on cpu %d\n",
		       b->o.cpu[0], b->o.cpu[1]);
	else
		fprintf(f, "not pinned: the two processes may share a cpu\n");
	if (b->loadavg >= 0)
		fprintf(f, "machine load at the start: %.2f (1-minute load average)\n", b->loadavg);
}

/* A row's system calls, waits, and its ring if not the section's. */
static void print_stream_counts(FILE *f, const struct bench_stream_result *r, size_t ring)
{
	char real[32];

	if (!r->have_counts)
		return;
	fprintf(f, " %11.3f %5.1f%% %5.1f%%", r->syscalls_per_1000, 100 * r->wait[0],
		100 * r->wait[1]);
	/* a channel's ring is a power of two, and at least two messages */
	if (r->rep[0].ring && r->rep[0].ring != ring) {
		fmt_bytes(real, sizeof(real), (double)r->rep[0].ring, FMT_IEC);
		fprintf(f, "  ring %s", real);
	}
}

/*
 * One streaming row at ring k. pipe and limit are those transports'
 * indexes, or -1 if they did not run. "of limit" is this row's GB/s over
 * the two-core limit's at the same size and ring: blank on the limit's
 * own row, and where the limit has no figure.
 */
static void print_stream_row(FILE *f, const struct bench *b, int k, int i, int s, int pipe,
			     int limit)
{
	const struct bench_stream_result *r = &b->st[k][i][s];
	char size[32], rate[32], range[32], of[32] = "";

	fmt_bytes(size, sizeof(size), (double)b->sizes[s], FMT_IEC);
	if (!b->st_ok[k][i][s]) {
		fprintf(f, "  %-8s %-20s %10s\n", size, b->x[i]->label, "failed");
		return;
	}
	fmt_si(rate, sizeof(rate), r->msgs_per_s.median);
	snprintf(range, sizeof(range), "[%.2f-%.2f]", r->gb_per_s.min, r->gb_per_s.max);
	fprintf(f, "  %-8s %-20s %10s %8.2f%c %-15s", size, b->x[i]->label, rate,
	       r->gb_per_s.median, r->spoiled ? '*' : r->moved ? '~' : ' ', range);
	if (pipe >= 0 && b->st_ok[0][pipe][s])
		fprintf(f, " %7.2fx", r->gb_per_s.median / b->st[0][pipe][s].gb_per_s.median);
	else
		fprintf(f, " %8s", "-");
	if (limit >= 0 && limit != i && b->st_ok[k][limit][s])
		snprintf(of, sizeof(of), "%.2f",
			 r->gb_per_s.median / b->st[k][limit][s].gb_per_s.median);
	/* a blank cell at the end of a line would only leave spaces there */
	if (*of || r->have_counts)
		fprintf(f, " %8s", of);
	print_stream_counts(f, r, b->rings[k]);
	fprintf(f, "\n");
}

/* What the streaming footnotes count, over every row that worked. */
struct stream_totals {
	int reps, spoiled, moved;
	double other_max;	/* -1 if never known */
	double line_min, line_max;
};

static void stream_totals(const struct bench *b, struct stream_totals *t)
{
	*t = (struct stream_totals){ .other_max = -1 };
	for (int k = 0; k < b->nrings; k++) {
		for (int i = 0; i < b->nx; i++) {
			for (int s = 0; s < b->nsizes; s++) {
				const struct bench_stream_result *r = &b->st[k][i][s];

				if (!b->st_ok[k][i][s])
					continue;
				t->reps += r->nreps;
				t->spoiled += r->spoiled;
				t->moved += r->moved;
				if (r->other_cpu_max > t->other_max)
					t->other_max = r->other_cpu_max;
				if (r->line_ns.max > t->line_max)
					t->line_max = r->line_ns.max;
				if (r->line_ns.min > 0 &&
				    (!t->line_min || r->line_ns.min < t->line_min))
					t->line_min = r->line_ns.min;
			}
		}
	}
}

/* The '~' footnote: repetitions whose cpus the host moved or crowded. */
static void print_probe_note(FILE *f, const struct bench *b, const struct stream_totals *t)
{
	if (b->line_ref <= 0)
		return;
	fprintf(f, "  cache line round trip before each repetition: %.0f to %.0f ns, "
		"median %.0f\n", t->line_min, t->line_max, b->line_ref);
	if (t->moved)
		fprintf(f, "  ~ %d of %d repetitions ran with it above %dx the median: the host\n"
			"    moved or crowded the cpus, and their figures may be far off\n",
			t->moved, t->reps, BENCH_MOVED);
}

/* The '*' footnote, or how little else ran. */
static void print_load_note(FILE *f, const struct bench *b, const struct stream_totals *t)
{
	int spoiled = t->spoiled, reps = t->reps;
	double most = t->other_max;

	if (most < 0)
		fprintf(f, "  other load beside the repetitions: not known (no /proc/stat)\n");
	else if (spoiled)
		fprintf(f, "  * %d of %d repetitions ran beside other load "
			"(%.0f%% of a cpu at most), after %d reruns in all\n",
			spoiled, reps, 100 * most, b->reruns);
	else
		fprintf(f, "  other load beside the repetitions: %.0f%% of a cpu at most "
			"(above %.0f%% one would run again)\n",
			100 * most, 100 * BENCH_SPOILED_CPU);
}

static int any_ring(const struct bench *b)
{
	for (int i = 0; i < b->nx; i++)
		if (b->x[i]->uses_ring)
			return 1;
	return 0;
}

static void print_stream(FILE *f, const struct bench *b)
{
	int pipe = bench_find_xport(b, "pipe"), limit = bench_find_xport(b, "limit");
	struct stream_totals t;
	char ring[32];

	fprintf(f, "\nStreaming, one way\n");
	fprintf(f, "  %-8s %-20s %10s %8s  %-15s %8s %8s %11s %6s %6s\n", "size", "transport",
	       "msg/s", "GB/s", "[min-max]", "vs pipe", "of limit", "syscalls/1k", "p-wait",
	       "c-wait");
	for (int k = 0; k < b->nrings; k++) {
		/* transports without a ring have their rows in the first */
		fmt_bytes(ring, sizeof(ring), (double)b->rings[k], FMT_IEC);
		if (any_ring(b))
			fprintf(f, "  ring %s\n", ring);
		for (int s = 0; s < b->nsizes; s++)
			for (int i = 0; i < b->nx; i++)
				if (bench_st_row(b, k, i))
					print_stream_row(f, b, k, i, s, pipe, limit);
	}
	/* what the column divides by, since "limit" alone says little */
	if (limit >= 0)
		fprintf(f, "  limit: fill, one memcpy into a shared ring, check in place; "
			   "spin only\n");
	else
		fprintf(f, "  of limit: blank, the two-core limit did not run (-t limit)\n");
	stream_totals(b, &t);
	print_load_note(f, b, &t);
	print_probe_note(f, b, &t);
}

/* One round-trip row: transport i, variant v, size s. */
static void print_latency_row(FILE *f, const struct bench *b, int i, size_t v, int s, int pipe)
{
	const struct bench_lat_result *r = &b->lat[i][v][s];
	/* compare like with like: asleep to asleep, the rest to blocking */
	size_t pv = v ? v : 1;
	char size[32], label[64], mean[32], med[32], p99[32], lo[32], hi[32], range[80];

	fmt_bytes(size, sizeof(size), (double)b->lat_sizes[s], FMT_IEC);
	bench_variant_label(label, sizeof(label), b->x[i], v);
	if (!b->lat_ok[i][v][s]) {
		fprintf(f, "  %-8s %-30s %10s\n", size, label, "failed");
		return;
	}
	fmt_ns(mean, sizeof(mean), r->mean_ns.median);
	fmt_ns(med, sizeof(med), r->median_ns.median);
	fmt_ns(p99, sizeof(p99), r->p99_ns.median);
	fmt_ns(lo, sizeof(lo), r->mean_ns.min);
	fmt_ns(hi, sizeof(hi), r->mean_ns.max);
	snprintf(range, sizeof(range), "[%s-%s]", lo, hi);
	fprintf(f, "  %-8s %-30s %10s %10s %10s  %-21s", size, label, mean, med, p99, range);
	if (pipe >= 0 && b->lat_ok[pipe][pv][s])
		fprintf(f, " %7.2fx", r->mean_ns.median / b->lat[pipe][pv][s].mean_ns.median);
	else
		fprintf(f, " %8s", "-");
	if (b->line_ok)
		fprintf(f, " %7.2fx", r->mean_ns.median / b->line.mean_ns.median);
	fprintf(f, "\n");
}

static void print_latency(FILE *f, const struct bench *b)
{
	int pipe = bench_find_xport(b, "pipe");

	fprintf(f, "\nRound trip (ping-pong)\n");
	fprintf(f, "  %-8s %-30s %10s %10s %10s  %-21s %8s %8s\n", "size", "transport", "mean",
		"p50*", "p99*", "[min-max] of means", "vs pipe", "vs line");
	for (int s = 0; s < b->nlat; s++)
		for (int i = 0; i < b->nx; i++)
			for (size_t v = 0; v < NVARIANTS; v++)
				if (!variants[v].policy_only || b->x[i]->has_policy)
					print_latency_row(f, b, i, v, s, pipe);
	fprintf(f, "  mean: rounds timed as a whole, over their trips; ratios divide means\n"
		"  * sampled: trips timed one by one, each with one clock reading%s\n",
		b->line_ok ? " (see The hardware)" : "");
}

static void print_hardware(FILE *f, const struct bench *b)
{
	char mean[32], med[32], p99[32], ring[16], size[32];

	fprintf(f, "\nThe hardware\n");
	if (b->line_ok) {
		fmt_ns(mean, sizeof(mean), b->line.mean_ns.median);
		fmt_ns(med, sizeof(med), b->line.median_ns.median);
		fmt_ns(p99, sizeof(p99), b->line.p99_ns.median);
		fprintf(f, "  one cache line, cpu %d to cpu %d and back: %s mean; sampled %s "
			"median, %s p99\n", b->o.cpu[0], b->o.cpu[1], mean, med, p99);
		fprintf(f, "  one clock reading (clock_gettime): %.1f ns\n", b->clock_ns);
	}
	fmt_bytes(ring, sizeof(ring), (double)b->o.ring, FMT_IEC);
	/* for reference only: a stream's ceiling is the two-core limit */
	fprintf(f, "  memcpy on one core into a %s region (for reference):", ring);
	for (int s = 0; s < b->nsizes; s++) {
		if (!b->mcpy_ok[s])
			continue;
		fmt_bytes(size, sizeof(size), (double)b->sizes[s], FMT_IEC);
		fprintf(f, "%s %s %.2f GB/s", s ? "," : "", size, b->mcpy[s].median);
	}
	fprintf(f, "\n");
}

/* One fan-out row: each subscriber's rate, then the publisher's own. */
static void print_fanout_row(FILE *f, const struct bench *b, int n, int s)
{
	const struct bench_fan_result *t = &b->fan[FAN_TOPIC][n][s], *c = &b->fan[FAN_CHANS][n][s];
	const struct bench_fan_result *one = &b->fan[FAN_TOPIC][0][s];
	int tok = b->fan_ok[FAN_TOPIC][n][s], cok = b->fan_ok[FAN_CHANS][n][s];
	char size[32], v[4][32];

	fmt_bytes(size, sizeof(size), (double)fan_sizes[s], FMT_IEC);
	fmt_si(v[0], sizeof(v[0]), t->delivered.median);
	fmt_si(v[1], sizeof(v[1]), c->delivered.median);
	fmt_si(v[2], sizeof(v[2]), t->pub_busy.median);
	fmt_si(v[3], sizeof(v[3]), c->pub_busy.median);
	fprintf(f, "  %-8s %4d %11s %11s", size, fan_subs[n], tok ? v[0] : "failed",
		cok ? v[1] : "failed");
	/* either side's repetitions ran on cpus the host moved or crowded */
	fputc((tok && t->moved) || (cok && c->moved) ? '~' : ' ', f);
	if (tok && cok)
		fprintf(f, " %6.2fx", t->delivered.median / c->delivered.median);
	else
		fprintf(f, " %7s", "");
	fprintf(f, " %11s %11s", tok ? v[2] : "failed", cok ? v[3] : "failed");
	if (tok && cok)
		fprintf(f, " %6.2fx", t->pub_busy.median / c->pub_busy.median);
	else
		fprintf(f, " %7s", "");
	if (tok && b->fan_ok[FAN_TOPIC][0][s])
		fprintf(f, " %8.2fx", t->pub_busy.median / one->pub_busy.median);
	fprintf(f, "\n");
}

static void print_fanout(FILE *f, const struct bench *b)
{
	fprintf(f, "\nFan-out, zero-copy, block policy: one publisher on cpu %d, every subscriber "
		"on cpu %d\n", b->o.cpu[0], b->o.cpu[1]);
	int moved = 0, reps = 0;

	fprintf(f, "  %-8s %4s %11s %11s %8s %11s %11s %7s %9s\n", "size", "subs",
		"sub: topic", "channels", "ratio", "pub: topic", "channels", "ratio", "vs 1 sub");
	for (int s = 0; s < NFAN_SIZES; s++) {
		for (int n = 0; n < NFAN_SUBS; n++) {
			print_fanout_row(f, b, n, s);
			for (int k = 0; k < 2; k++)
				if (b->fan_ok[k][n][s])
					moved += b->fan[k][n][s].moved, reps += b->fan[k][n][s].nreps;
		}
	}
	if (moved)
		fprintf(f, "  ~ %d of %d repetitions ran with the cache line's round trip above "
			"%dx the median (%.0f ns):\n    the host moved or crowded the cpus, "
			"and their figures may be far off\n", moved, reps, BENCH_MOVED,
			b->fan_ref);
	fprintf(f, "  sub: msg/s each subscriber got; the subscribers share one cpu, so it "
		"falls with N\n"
		"  pub: the publisher's msg/s over its own work (sending less waiting for "
		"room):\n"
		"       what it could keep with a cpu per subscriber; a topic writes each "
		"message once,\n"
		"       N channels N times\n");
}

static void print_servers(FILE *f, const struct bench *b)
{
	char v[6][32];

	fprintf(f, "\nRequest/response, 64 B: one server on cpu %d, every client on cpu %d\n",
		b->o.cpu[0], b->o.cpu[1]);
	fprintf(f, "  %-8s %-7s %10s %10s %11s %10s\n", "clients", "server", "median", "p99",
		"calls/s", "idle cpu");
	for (int n = 0; n < NRPC_CLIENTS; n++) {
		for (int k = RPC_SHM; k >= RPC_SOCKET; k--) {
			const struct bench_rpc_result *r = &b->rpc[k][n];

			if (!b->rpc_ok[k][n]) {
				fprintf(f, "  %-8d %-7s %10s\n", rpc_clients[n],
					k == RPC_SHM ? "shmkit" : "socket", "failed");
				continue;
			}
			fmt_ns(v[0], sizeof(v[0]), r->median_ns);
			fmt_ns(v[1], sizeof(v[1]), r->p99_ns);
			fmt_si(v[2], sizeof(v[2]), r->calls_per_s);
			if (r->idle_cpu >= 0)
				snprintf(v[3], sizeof(v[3]), "%.2f%%", 100 * r->idle_cpu);
			else
				snprintf(v[3], sizeof(v[3]), "?");
			fprintf(f, "  %-8d %-7s %10s %10s %11s %10s\n", rpc_clients[n],
				k == RPC_SHM ? "shmkit" : "socket", v[0], v[1], v[2], v[3]);
		}
	}
	fprintf(f, "  shmkit: a service; socket: a UNIX stream socket per client, the server in "
		"epoll_wait.\n  One client spins while it waits; more sleep at once (spin 0). "
		"idle cpu: the server's\n  share of a cpu while every client waits\n");
	fprintf(f, "\nInbox, zero-copy: producers on cpu %d, one consumer on cpu %d, msg/s "
		"delivered\n", b->o.cpu[0], b->o.cpu[1]);
	fprintf(f, "  %-8s %11s", "size", "channel");
	for (int n = 1; n < NINBOX_PRODS; n++)
		fprintf(f, " %8d prod", inbox_prods[n]);
	fprintf(f, "\n");
	for (int s = 0; s < NINBOX_SIZES; s++) {
		fmt_bytes(v[4], sizeof(v[4]), (double)inbox_sizes[s], FMT_IEC);
		fprintf(f, "  %-8s", v[4]);
		for (int n = 0; n < NINBOX_PRODS; n++) {
			fmt_si(v[5], sizeof(v[5]), b->inbox[n][s].median);
			fprintf(f, " %*s", n ? 13 : 11, b->inbox_ok[n][s] ? v[5] : "failed");
		}
		fprintf(f, "\n");
	}
}

static void print_ratios(FILE *f, const struct bench *b)
{
	struct bench_ratio t[BENCH_MAX_RATIOS];
	int nt = bench_ratios(b, t);

	if (!nt)
		return;
	fprintf(f, "\nshmkit against the baselines of this run (medians divided)\n");
	fprintf(f, "  throughput: above 1x moves more; round trip: below 1x answers sooner\n");
	for (int k = 0; k < nt; k++)
		/* two decimals, or three digits for the small ones (0.0035x) */
		fprintf(f, t[k].value < 0.1 ? "  %-44s %8.2g%s\n" : "  %-44s %8.2f%s\n", t[k].what,
			t[k].value, t[k].is_ratio ? "x" : "");
}

void bench_print_table(FILE *f, const struct bench *b)
{
	print_heading(f, b);
	if (b->measure & M_STREAM)
		print_stream(f, b);
	if (b->measure & M_LATENCY)
		print_latency(f, b);
	if (b->measure & M_FANOUT)
		print_fanout(f, b);
	if (b->measure & M_SERVERS)
		print_servers(f, b);
	if (b->measure & M_LIMITS)
		print_hardware(f, b);
	print_ratios(f, b);
}
