/*
 * shmkit bench: the channel against pipes and UNIX sockets, and against the
 * hardware's own limits, all measured in one run on this machine. Every
 * figure is a median over repetitions; every ratio compares figures of the
 * same run, since absolute speeds on a shared machine drift.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "plot.h"

#define MAX_SIZES 16
#define MAX_XPORTS 8
#define GAP_US 300	/* between round trips: a blocking peer is asleep by then */

enum { M_STREAM = 1, M_LATENCY = 2, M_LIMITS = 4 };

/* Round-trip variants: the channel's policies, and a sleeping peer. */
struct variant {
	int policy;
	unsigned gap_us;
	const char *name;	/* JSON and table */
	int policy_only;	/* only for transports with a wait policy */
};

static const struct variant variants[] = {
	{ SHMKIT_WAIT_SPIN, 0, "spin", 1 },
	{ SHMKIT_WAIT_BLOCK, 0, "block", 0 },
	{ SHMKIT_WAIT_BLOCK, GAP_US, "asleep", 0 },
};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

struct bench {
	struct bench_opts o;
	unsigned measure;
	int json;
	const char *plot;
	const char *save;	/* PREFIX: .txt, .json and .svg as well */
	const struct bench_xport *x[MAX_XPORTS];
	int nx;
	size_t sizes[MAX_SIZES], lat_sizes[MAX_SIZES];
	int nsizes, nlat;
	/* results; ok flags say which were measured */
	struct bench_stream_result st[MAX_XPORTS][MAX_SIZES];
	int st_ok[MAX_XPORTS][MAX_SIZES];
	struct bench_lat_result lat[MAX_XPORTS][NVARIANTS][MAX_SIZES];
	int lat_ok[MAX_XPORTS][NVARIANTS][MAX_SIZES];
	struct bench_stat mcpy[MAX_SIZES];
	int mcpy_ok[MAX_SIZES];
	struct bench_lat_result line;
	int line_ok;
	int failures;
	char machine[256];
};

static void usage(void)
{
	printf("Usage: shmkit bench [OPTIONS]\n"
	       "\n"
	       "Measures shmkit channels against pipes and UNIX sockets on this machine,\n"
	       "and against the hardware's limits, in one run, and prints one table.\n"
	       "Two processes, pinned to two cpus, do the work a real user would: the\n"
	       "sender writes every payload byte, the receiver reads every byte and\n"
	       "checks the message's sequence number. A failed check ends that run with\n"
	       "an error and no figure. Ratios compare figures of this same run.\n"
	       "\n"
	       "  -t, --transports LIST  which to run, comma-separated (default: all):\n"
	       "                         shmkit     channel, copying API (send/recv)\n"
	       "                         shmkit-zc  channel, zero-copy API (reserve/commit,\n"
	       "                                    peek/release)\n"
	       "                         pipe       a pipe of the default size\n"
	       "                         pipe-1m    a pipe enlarged to 1 MiB (F_SETPIPE_SZ)\n"
	       "                         unix       a UNIX stream socketpair\n"
	       "  -s, --sizes LIST       streaming message sizes (default 64,1K,4K,64K,1M)\n"
	       "  -l, --lat-sizes LIST   round-trip message sizes (default 8,4K,64K)\n"
	       "  -m, --measure LIST     stream, latency, limits (default: all three)\n"
	       "  -r, --reps N           timed repetitions after warm-up (default 5)\n"
	       "  -d, --duration SECS    seconds per streaming repetition, 0.001 to %d\n"
	       "                         (default 0.1); round trips take a third of it\n"
	       "      --cpus A,B         the two cpus (default 0,1)\n"
	       "      --ring SIZE        channel capacity and memcpy region (default 4M)\n"
	       "      --quick            3 short repetitions: about 10 seconds in all\n"
	       "      --json             results as one JSON object instead of the table\n"
	       "      --plot FILE.svg    also draw throughput and round trip against size\n"
	       "      --save PREFIX      also write PREFIX.txt (the table), PREFIX.json\n"
	       "                         and PREFIX.svg (the plot)\n"
	       "  -h, --help             this text\n"
	       "\n"
	       "Round trips are measured with the channel spinning (spin), spinning then\n"
	       "sleeping on a futex (block), and with the peer gone to sleep between\n"
	       "messages (asleep: %u us pauses). The hardware's limits: single-core\n"
	       "memcpy of each size into a ring-sized region, and one cache line passed\n"
	       "between the two cpus.\n", SECONDS_MAX, GAP_US);
}

/* -------------------------------------------------------------- options */

static int parse_list_sizes(const char *cmd, const char *arg, size_t *out, int *n)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	uint64_t v;

	if (!copy)
		return -1;
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_size(tok, &v) < 0 || *n == MAX_SIZES || v > (1u << 30)) {
			free(copy);
			usage_error(cmd, "'%s': sizes are 1 byte to 1G, at most %d of them",
				    arg, MAX_SIZES);
		}
		out[(*n)++] = (size_t)v;
	}
	free(copy);
	if (!*n)
		usage_error(cmd, "'%s': no sizes", arg);
	return 0;
}

static void parse_transports(struct bench *b, const char *cmd, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int i;

	b->nx = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; bench_xports[i] && strcmp(bench_xports[i]->name, tok); i++)
			;
		if (!strcmp(tok, "all")) {
			for (b->nx = 0; bench_xports[b->nx]; b->nx++)
				b->x[b->nx] = bench_xports[b->nx];
			continue;
		}
		if (!bench_xports[i])
			usage_error(cmd, "'%s': unknown transport", tok);
		for (int k = 0; k < b->nx; k++)
			if (b->x[k] == bench_xports[i])
				usage_error(cmd, "'%s': named twice", tok);
		b->x[b->nx++] = bench_xports[i];
	}
	free(copy);
	if (!b->nx)
		usage_error(cmd, "'%s': no transports", arg);
}

static unsigned parse_measure(const char *cmd, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	unsigned m = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "stream"))
			m |= M_STREAM;
		else if (!strcmp(tok, "latency"))
			m |= M_LATENCY;
		else if (!strcmp(tok, "limits"))
			m |= M_LIMITS;
		else
			usage_error(cmd, "'%s': measure stream, latency or limits", tok);
	}
	free(copy);
	if (!m)
		usage_error(cmd, "'%s': nothing to measure", arg);
	return m;
}

/* SECS for -d: the common rule, and some time to measure in. */
static double parse_duration(const char *cmd, const char *arg)
{
	int64_t ms;

	if (parse_seconds(cmd, arg, &ms) < 0)
		exit(EXIT_USAGE);
	if (ms == 0)
		usage_error(cmd, "'%s': at least 0.001 seconds", arg);
	return (double)ms / 1000;
}

static void parse_cpus(struct bench *b, const char *cmd, const char *arg)
{
	const char *comma = strchr(arg, ',');
	char first[24];
	uint64_t a, c;

	if (!comma || (size_t)(comma - arg) >= sizeof(first))
		usage_error(cmd, "'%s': two different cpu numbers, like 0,1", arg);
	memcpy(first, arg, (size_t)(comma - arg));
	first[comma - arg] = '\0';
	if (parse_decimal(first, &a) < 0 || parse_decimal(comma + 1, &c) < 0 ||
	    a > INT_MAX || c > INT_MAX || a == c)
		usage_error(cmd, "'%s': two different cpu numbers, like 0,1", arg);
	b->o.cpu[0] = (int)a;
	b->o.cpu[1] = (int)c;
}

static int find_xport(const struct bench *b, const char *name)
{
	for (int i = 0; i < b->nx; i++)
		if (!strcmp(b->x[i]->name, name))
			return i;
	return -1;
}

static int find_size(const size_t *sizes, int n, size_t size)
{
	for (int i = 0; i < n; i++)
		if (sizes[i] == size)
			return i;
	return -1;
}

/* ---------------------------------------------------------------- format */

static void fmt_bytes(char *buf, size_t cap, double v)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB" };
	int u = 0;

	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, v == (double)(uint64_t)v ? "%.0f %s" : "%.1f %s", v, unit[u]);
}

static void fmt_si(char *buf, size_t cap, double v)
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

static void fmt_ns(char *buf, size_t cap, double ns)
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

static void machine_name(char *buf, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256], model[128] = "unknown cpu";
	struct utsname u;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) || !colon)
			continue;
		snprintf(model, sizeof(model), "%s", colon + 2);
		model[strcspn(model, "\n")] = '\0';
		break;
	}
	if (f)
		fclose(f);
	if (uname(&u) < 0)
		strcpy(u.release, "?");
	snprintf(buf, cap, "%s, %ld cpus, Linux %s", model, cpus, u.release);
}

/* ------------------------------------------------------------------ runs */

static void progress(const struct bench *b, const char *fmt, const char *what, size_t size)
{
	char sz[32];

	if (b->json || !isatty(STDERR_FILENO))
		return;
	fmt_bytes(sz, sizeof(sz), (double)size);
	fprintf(stderr, "\r\033[K");
	fprintf(stderr, fmt, what, sz);
}

/* One streaming size, every transport, the repetitions interleaved. */
static void stream_size(struct bench *b, int s, const struct bench_opts *one)
{
	double rate[MAX_XPORTS][BENCH_MAX_REPS], gbs[MAX_XPORTS][BENCH_MAX_REPS];
	double wakes[MAX_XPORTS] = { 0 };
	int bad[MAX_XPORTS] = { 0 };

	for (int rep = 0; rep < b->o.reps; rep++) {
		for (int i = 0; i < b->nx; i++) {
			struct bench_stream_result r;

			if (bad[i])
				continue;
			progress(b, "streaming: %s, %s", b->x[i]->label, b->sizes[s]);
			if (bench_stream(b->x[i], b->sizes[s], one, &r) < 0) {
				bad[i] = 1;
				b->failures++;
				continue;
			}
			rate[i][rep] = r.msgs_per_s.median;
			gbs[i][rep] = r.gb_per_s.median;
			b->st[i][s].msgs += r.msgs;
			b->st[i][s].have_wakes = r.have_wakes;
			wakes[i] += r.wakes_per_1000;
		}
	}
	for (int i = 0; i < b->nx; i++) {
		if (bad[i])
			continue;
		b->st_ok[i][s] = 1;
		bench_stat_of(rate[i], b->o.reps, &b->st[i][s].msgs_per_s);
		bench_stat_of(gbs[i], b->o.reps, &b->st[i][s].gb_per_s);
		b->st[i][s].wakes_per_1000 = wakes[i] / b->o.reps;
	}
}

/* One round-trip size: every transport and variant, interleaved. */
static void latency_size(struct bench *b, int s, const struct bench_opts *one)
{
	double med[MAX_XPORTS][NVARIANTS][BENCH_MAX_REPS];
	double p99[MAX_XPORTS][NVARIANTS][BENCH_MAX_REPS];
	int bad[MAX_XPORTS][NVARIANTS] = { { 0 } };

	for (int rep = 0; rep < b->o.reps; rep++) {
		for (int i = 0; i < b->nx; i++) {
			for (size_t v = 0; v < NVARIANTS; v++) {
				const struct variant *var = &variants[v];
				struct bench_lat_result r;

				if (bad[i][v] || (var->policy_only && !b->x[i]->has_policy))
					continue;
				progress(b, "round trips: %s, %s", b->x[i]->label, b->lat_sizes[s]);
				if (bench_pingpong(b->x[i], b->lat_sizes[s], var->policy,
						   var->gap_us, one, &r) < 0) {
					bad[i][v] = 1;
					b->failures++;
					continue;
				}
				med[i][v][rep] = r.median_ns.median;
				p99[i][v][rep] = r.p99_ns.median;
				b->lat[i][v][s].samples += r.samples;
			}
		}
	}
	for (int i = 0; i < b->nx; i++) {
		for (size_t v = 0; v < NVARIANTS; v++) {
			if (bad[i][v] || (variants[v].policy_only && !b->x[i]->has_policy))
				continue;
			b->lat_ok[i][v][s] = 1;
			bench_stat_of(med[i][v], b->o.reps, &b->lat[i][v][s].median_ns);
			bench_stat_of(p99[i][v], b->o.reps, &b->lat[i][v][s].p99_ns);
		}
	}
}

static void run_all(struct bench *b)
{
	struct bench_opts one = b->o;

	if (b->measure & M_LIMITS) {
		progress(b, "%s%s", "cache line round trip", 0);
		b->line_ok = bench_cacheline(&b->o, &b->line) == 0;
		b->failures += !b->line_ok;
		for (int s = 0; s < b->nsizes; s++) {
			progress(b, "%s %s", "memcpy", b->sizes[s]);
			b->mcpy_ok[s] = bench_memcpy(b->sizes[s], &b->o, &b->mcpy[s]) == 0;
		}
	}
	/*
	 * Repetitions go round the transports: each repetition is a fresh
	 * pair of processes and a fresh link, one transport after another.
	 * On a shared machine conditions drift for seconds at a time (and a
	 * fresh segment's pages may sit in slower memory); taking turns puts
	 * every transport through the same spells, so the ratios hold.
	 */
	one.reps = 1;
	if (b->measure & M_STREAM)
		for (int s = 0; s < b->nsizes; s++)
			stream_size(b, s, &one);
	if (b->measure & M_LATENCY)
		for (int s = 0; s < b->nlat; s++)
			latency_size(b, s, &one);
	if (!b->json && isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
}

/* --------------------------------------------------------------- targets */

/* Figures the targets compare; NAN-free: 0 means not measured. */
static double st_gb(const struct bench *b, const char *x, size_t size)
{
	int i = find_xport(b, x), s = find_size(b->sizes, b->nsizes, size);

	return i >= 0 && s >= 0 && b->st_ok[i][s] ? b->st[i][s].gb_per_s.median : 0;
}

static double lat_med(const struct bench *b, const char *x, int v, size_t size)
{
	int i = find_xport(b, x), s = find_size(b->lat_sizes, b->nlat, size);

	return i >= 0 && s >= 0 && b->lat_ok[i][v][s] ? b->lat[i][v][s].median_ns.median : 0;
}

struct goal_row {
	char what[96];
	double value, goal;
	int at_most;	/* goal is a ceiling */
};

static int add_target(struct goal_row *t, int n, const char *what, double num, double den,
		      double goal, int at_most)
{
	if (num <= 0 || den <= 0)
		return n;
	snprintf(t[n].what, sizeof(t[n].what), "%s", what);
	t[n].value = num / den;
	t[n].goal = goal;
	t[n].at_most = at_most;
	return n + 1;
}

/* The targets, each a ratio within this run. */
static int targets(const struct bench *b, struct goal_row *t)
{
	static const size_t big[] = { 64 << 10, 1 << 20 };
	char what[96];
	double worst_wakes = -1;
	int n = 0, i;

	n = add_target(t, n, "64 B msg/s, shmkit vs pipe", st_gb(b, "shmkit", 64),
		       st_gb(b, "pipe", 64), 10, 0);
	n = add_target(t, n, "64 B msg/s, shmkit-zc vs pipe", st_gb(b, "shmkit-zc", 64),
		       st_gb(b, "pipe", 64), 15, 0);
	n = add_target(t, n, "1 KiB GB/s, shmkit vs pipe", st_gb(b, "shmkit", 1024),
		       st_gb(b, "pipe", 1024), 8, 0);
	n = add_target(t, n, "4 KiB GB/s, shmkit vs pipe", st_gb(b, "shmkit", 4096),
		       st_gb(b, "pipe", 4096), 2, 0);
	n = add_target(t, n, "4 KiB GB/s, shmkit-zc vs pipe", st_gb(b, "shmkit-zc", 4096),
		       st_gb(b, "pipe", 4096), 4, 0);
	for (size_t k = 0; k < 2; k++) {
		char sz[16];

		fmt_bytes(sz, sizeof(sz), (double)big[k]);
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs unix", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit", big[k]), st_gb(b, "unix", big[k]), 3, 0);
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs pipe-1m", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit", big[k]),
			       st_gb(b, "pipe-1m", big[k]), 5, 0);
		snprintf(what, sizeof(what), "%s GB/s, shmkit-zc vs shmkit", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit-zc", big[k]),
			       st_gb(b, "shmkit", big[k]), 1.3, 0);
	}
	for (int s = 0; s < b->nsizes; s++) {
		char sz[16];

		if (b->sizes[s] < 4096 || !b->mcpy_ok[s])
			continue;
		fmt_bytes(sz, sizeof(sz), (double)b->sizes[s]);
		snprintf(what, sizeof(what), "%s GB/s, shmkit vs memcpy", sz);
		n = add_target(t, n, what, st_gb(b, "shmkit", b->sizes[s]),
			       b->mcpy[s].median, 0.5, 0);
	}
	if (b->line_ok) {
		double line = b->line.median_ns.median;

		n = add_target(t, n, "8 B round trip, spin vs cache line",
			       lat_med(b, "shmkit", 0, 8), line, 1.5, 1);
		n = add_target(t, n, "8 B round trip, block vs cache line",
			       lat_med(b, "shmkit", 1, 8), line, 2, 1);
	}
	n = add_target(t, n, "8 B round trip asleep, block vs pipe",
		       lat_med(b, "shmkit", 2, 8), lat_med(b, "pipe", 2, 8), 1.2, 1);
	if ((i = find_xport(b, "shmkit")) >= 0)
		for (int s = 0; s < b->nsizes; s++)
			if (b->st_ok[i][s] && b->st[i][s].have_wakes &&
			    b->st[i][s].wakes_per_1000 > worst_wakes)
				worst_wakes = b->st[i][s].wakes_per_1000;
	if (worst_wakes >= 0) {
		/* a ratio to 1,000 messages: the goal is below one */
		snprintf(t[n].what, sizeof(t[n].what), "wake-ups per 1,000 msgs, shmkit, worst size");
		t[n].value = worst_wakes;
		t[n].goal = 1;
		t[n].at_most = 1;
		n++;
	}
	return n;
}

static int met(const struct goal_row *t)
{
	return t->at_most ? t->value <= t->goal : t->value >= t->goal;
}

/* ----------------------------------------------------------------- table */

static void print_table(FILE *f, const struct bench *b)
{
	struct goal_row t[32];
	char a[32], c[32], d[32], e[32];
	int pipe = find_xport(b, "pipe"), nt;

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

	if (b->measure & M_STREAM) {
		fprintf(f, "\nStreaming, one way\n");
		fprintf(f, "  %-8s %-20s %10s %8s  %-15s %8s %9s %9s\n", "size", "transport",
		       "msg/s", "GB/s", "[min-max]", "vs pipe", "of memcpy", "wakes/1k");
		for (int s = 0; s < b->nsizes; s++) {
			fmt_bytes(a, sizeof(a), (double)b->sizes[s]);
			for (int i = 0; i < b->nx; i++) {
				const struct bench_stream_result *r = &b->st[i][s];

				if (!b->st_ok[i][s]) {
					fprintf(f, "  %-8s %-20s %10s\n", a, b->x[i]->label, "failed");
					continue;
				}
				fmt_si(c, sizeof(c), r->msgs_per_s.median);
				snprintf(d, sizeof(d), "[%.2f-%.2f]", r->gb_per_s.min, r->gb_per_s.max);
				fprintf(f, "  %-8s %-20s %10s %8.2f  %-15s", a, b->x[i]->label, c,
				       r->gb_per_s.median, d);
				if (pipe >= 0 && b->st_ok[pipe][s])
					fprintf(f, " %7.2fx", r->gb_per_s.median /
							      b->st[pipe][s].gb_per_s.median);
				else
					fprintf(f, " %8s", "-");
				if (b->mcpy_ok[s])
					fprintf(f, " %9.2f", r->gb_per_s.median / b->mcpy[s].median);
				else
					fprintf(f, " %9s", "-");
				if (r->have_wakes)
					fprintf(f, " %9.3f", r->wakes_per_1000);
				fprintf(f, "\n");
			}
		}
	}
	if (b->measure & M_LATENCY) {
		fprintf(f, "\nRound trip (ping-pong)\n");
		fprintf(f, "  %-8s %-30s %10s %10s  %-21s %8s %8s\n", "size", "transport", "median",
		       "p99", "[min-max] of medians", "vs pipe", "vs line");
		for (int s = 0; s < b->nlat; s++) {
			fmt_bytes(a, sizeof(a), (double)b->lat_sizes[s]);
			for (int i = 0; i < b->nx; i++) {
				for (size_t v = 0; v < NVARIANTS; v++) {
					const struct bench_lat_result *r = &b->lat[i][v][s];
					char label[64];

					if (variants[v].policy_only && !b->x[i]->has_policy)
						continue;
					snprintf(label, sizeof(label), "%s%s%s", b->x[i]->label,
						 b->x[i]->has_policy || v == 2 ? ", " : "",
						 b->x[i]->has_policy || v == 2 ? variants[v].name : "");
					if (!b->lat_ok[i][v][s]) {
						fprintf(f, "  %-8s %-30s %10s\n", a, label, "failed");
						continue;
					}
					fmt_ns(c, sizeof(c), r->median_ns.median);
					fmt_ns(d, sizeof(d), r->p99_ns.median);
					fmt_ns(e, sizeof(e), r->median_ns.min);
					{
						char f2[16], range[80];

						fmt_ns(f2, sizeof(f2), r->median_ns.max);
						snprintf(range, sizeof(range), "[%s-%s]", e, f2);
						fprintf(f, "  %-8s %-30s %10s %10s  %-21s", a, label, c, d, range);
					}
					/* compare like with like: asleep to asleep */
					if (pipe >= 0 && b->lat_ok[pipe][v ? v : 1][s])
						fprintf(f, " %7.2fx", r->median_ns.median /
							b->lat[pipe][v ? v : 1][s].median_ns.median);
					else
						fprintf(f, " %8s", "-");
					if (b->line_ok)
						fprintf(f, " %7.2fx", r->median_ns.median /
								     b->line.median_ns.median);
					fprintf(f, "\n");
				}
			}
		}
	}
	if (b->measure & M_LIMITS) {
		char ring[16];

		fprintf(f, "\nThe hardware\n");
		if (b->line_ok) {
			fmt_ns(c, sizeof(c), b->line.median_ns.median);
			fmt_ns(d, sizeof(d), b->line.p99_ns.median);
			fprintf(f, "  one cache line, cpu %d to cpu %d and back: %s median, %s p99\n",
			       b->o.cpu[0], b->o.cpu[1], c, d);
		}
		fmt_bytes(ring, sizeof(ring), (double)b->o.ring);
		fprintf(f, "  memcpy on one core into a %s region:", ring);
		for (int s = 0; s < b->nsizes; s++) {
			if (!b->mcpy_ok[s])
				continue;
			fmt_bytes(a, sizeof(a), (double)b->sizes[s]);
			fprintf(f, "%s %s %.2f GB/s", s ? "," : "", a, b->mcpy[s].median);
		}
		fprintf(f, "\n");
	}
	nt = targets(b, t);
	if (nt) {
		int nmet = 0;

		fprintf(f, "\nTargets (ratios within this run)\n");
		for (int k = 0; k < nt; k++) {
			nmet += met(&t[k]);
			fprintf(f, "  %-44s %8.2f%s  goal %s %.1f%s  %s\n", t[k].what, t[k].value,
			       strstr(t[k].what, "wake-ups") ? " " : "x", t[k].at_most ? "<=" : ">=",
			       t[k].goal, strstr(t[k].what, "wake-ups") ? " " : "x",
			       met(&t[k]) ? "met" : "MISSED");
		}
		fprintf(f, "  %d of %d met\n", nmet, nt);
	}
}

/* ------------------------------------------------------------------ JSON */

static void json_stat(FILE *f, const char *name, const struct bench_stat *s)
{
	fprintf(f, "\"%s\": {\"median\": %.6g, \"min\": %.6g, \"max\": %.6g}", name,
		s->median, s->min, s->max);
}

static void print_json(FILE *f, const struct bench *b)
{
	struct goal_row t[32];
	int nt = targets(b, t), first = 1;

	fprintf(f, "{\n  \"version\": ");
	json_str(f, shmkit_version());
	fprintf(f, ",\n  \"machine\": ");
	json_str(f, b->machine);
	fprintf(f, ",\n  \"reps\": %d, \"duration_s\": %.6g, \"ring_bytes\": %zu, "
	       "\"cpus\": [%d, %d],\n", b->o.reps, b->o.duration, b->o.ring,
	       b->o.cpu[0], b->o.cpu[1]);
	fprintf(f, "  \"limits\": {");
	if (b->line_ok) {
		fprintf(f, "\"cacheline_rtt_ns\": {");
		json_stat(f, "median", &b->line.median_ns);
		fprintf(f, ", ");
		json_stat(f, "p99", &b->line.p99_ns);
		fprintf(f, "}, ");
	}
	fprintf(f, "\"memcpy\": [");
	for (int s = 0; s < b->nsizes; s++) {
		if (!b->mcpy_ok[s])
			continue;
		fprintf(f, "%s\n    {\"size\": %zu, ", first ? "" : ",", b->sizes[s]);
		json_stat(f, "gb_per_s", &b->mcpy[s]);
		fprintf(f, "}");
		first = 0;
	}
	fprintf(f, "]},\n  \"stream\": [");
	first = 1;
	for (int s = 0; s < b->nsizes; s++) {
		for (int i = 0; i < b->nx; i++) {
			const struct bench_stream_result *r = &b->st[i][s];

			if (!b->st_ok[i][s])
				continue;
			fprintf(f, "%s\n    {\"transport\": \"%s\", \"size\": %zu, \"msgs\": %llu, ",
			       first ? "" : ",", b->x[i]->name, b->sizes[s],
			       (unsigned long long)r->msgs);
			json_stat(f, "msgs_per_s", &r->msgs_per_s);
			fprintf(f, ", ");
			json_stat(f, "gb_per_s", &r->gb_per_s);
			if (r->have_wakes)
				fprintf(f, ", \"wakes_per_1000\": %.6g", r->wakes_per_1000);
			fprintf(f, "}");
			first = 0;
		}
	}
	fprintf(f, "\n  ],\n  \"latency\": [");
	first = 1;
	for (int s = 0; s < b->nlat; s++) {
		for (int i = 0; i < b->nx; i++) {
			for (size_t v = 0; v < NVARIANTS; v++) {
				const struct bench_lat_result *r = &b->lat[i][v][s];

				if (!b->lat_ok[i][v][s])
					continue;
				fprintf(f, "%s\n    {\"transport\": \"%s\", \"variant\": \"%s\", "
				       "\"size\": %zu, \"samples\": %llu, ",
				       first ? "" : ",", b->x[i]->name, variants[v].name,
				       b->lat_sizes[s], (unsigned long long)r->samples);
				json_stat(f, "median_ns", &r->median_ns);
				fprintf(f, ", ");
				json_stat(f, "p99_ns", &r->p99_ns);
				fprintf(f, "}");
				first = 0;
			}
		}
	}
	fprintf(f, "\n  ],\n  \"targets\": [");
	for (int k = 0; k < nt; k++)
		fprintf(f, "%s\n    {\"what\": \"%s\", \"value\": %.6g, \"goal\": %.6g, "
		       "\"at_most\": %s, \"met\": %s}", k ? "," : "", t[k].what, t[k].value,
		       t[k].goal, t[k].at_most ? "true" : "false", met(&t[k]) ? "true" : "false");
	fprintf(f, "\n  ],\n  \"failures\": %d\n}\n", b->failures);
}

/* ------------------------------------------------------------------ plot */

static int write_plot(const struct bench *b, const char *path)
{
	struct plot_series ss[MAX_XPORTS], ls[MAX_XPORTS * NVARIANTS];
	double sx[MAX_XPORTS][MAX_SIZES], sy[MAX_XPORTS][MAX_SIZES];
	double lx[MAX_XPORTS * NVARIANTS][MAX_SIZES], ly[MAX_XPORTS * NVARIANTS][MAX_SIZES];
	char labels[MAX_XPORTS * NVARIANTS][64];
	struct plot_panel p[2];
	int ns = 0, nl = 0, np = 0, err;
	FILE *f;

	for (int i = 0; i < b->nx; i++) {
		size_t n = 0;

		for (int s = 0; s < b->nsizes; s++) {
			if (!b->st_ok[i][s])
				continue;
			sx[ns][n] = (double)b->sizes[s];
			sy[ns][n++] = b->st[i][s].gb_per_s.median;
		}
		if (n)
			ss[ns] = (struct plot_series){ b->x[i]->label, n, sx[ns], sy[ns] }, ns++;
	}
	for (int i = 0; i < b->nx; i++) {
		for (size_t v = 0; v < NVARIANTS; v++) {
			size_t n = 0;

			for (int s = 0; s < b->nlat; s++) {
				if (!b->lat_ok[i][v][s])
					continue;
				lx[nl][n] = (double)b->lat_sizes[s];
				ly[nl][n++] = b->lat[i][v][s].median_ns.median;
			}
			if (!n)
				continue;
			snprintf(labels[nl], sizeof(labels[nl]), "%s%s%s", b->x[i]->label,
				 b->x[i]->has_policy || v == 2 ? ", " : "",
				 b->x[i]->has_policy || v == 2 ? variants[v].name : "");
			ls[nl] = (struct plot_series){ labels[nl], n, lx[nl], ly[nl] };
			nl++;
		}
	}
	if (b->measure & M_STREAM)
		p[np++] = (struct plot_panel){ "Streaming throughput, one way (median)",
					       "message size", "GB/s", 1, ss, (size_t)ns };
	if (b->measure & M_LATENCY)
		p[np++] = (struct plot_panel){ "Round trip (median)", "message size", "ns",
					       1, ls, (size_t)nl };
	if (!(f = fopen(path, "w"))) {
		err_msg("bench", "%s: %s", path, strerror(errno));
		return -1;
	}
	{
		char caption[320];

		snprintf(caption, sizeof(caption), "shmkit bench %s: %s", shmkit_version(),
			 b->machine);
		err = plot_svg(f, caption, p, (size_t)np);
	}
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (err) {
		err_msg("bench", "%s: %s", path, strerror(-err));
		return -1;
	}
	return 0;
}

/* One of --save's files, written by print (table or JSON). */
static int save_one(const struct bench *b, const char *ext,
		    void (*print)(FILE *, const struct bench *))
{
	char path[4096];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s.%s", b->save, ext);
	if (!(f = fopen(path, "w"))) {
		err_msg("bench", "%s: %s", path, strerror(errno));
		return -1;
	}
	print(f, b);
	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		err_msg("bench", "%s: %s", path, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

static int save_all(const struct bench *b)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s.svg", b->save);
	if (save_one(b, "txt", print_table) < 0 || save_one(b, "json", print_json) < 0)
		return -1;
	return write_plot(b, path);
}

/* ------------------------------------------------------------------ main */

int cmd_bench(int argc, char **argv)
{
	enum { OPT_CPUS = 256, OPT_RING, OPT_QUICK, OPT_JSON, OPT_PLOT, OPT_SAVE };
	static const struct option opts[] = {
		{ "transports", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "lat-sizes", required_argument, NULL, 'l' },
		{ "measure", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "ring", required_argument, NULL, OPT_RING },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "save", required_argument, NULL, OPT_SAVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const size_t def_sizes[] = { 64, 1024, 4096, 65536, 1 << 20 };
	static const size_t def_lat[] = { 8, 4096, 65536 };
	struct bench *b = calloc(1, sizeof(*b));
	int c, reps_set = 0, dur_set = 0, quick = 0, status;
	char why[128];
	uint64_t v;

	if (!b) {
		err_msg("bench", "%s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	b->o.reps = 5;
	b->o.duration = 0.1;
	b->o.cpu[0] = 0;
	b->o.cpu[1] = 1;
	b->o.ring = 4u << 20;
	b->measure = M_STREAM | M_LATENCY | M_LIMITS;
	for (b->nx = 0; bench_xports[b->nx]; b->nx++)
		b->x[b->nx] = bench_xports[b->nx];
	memcpy(b->sizes, def_sizes, sizeof(def_sizes));
	b->nsizes = 5;
	memcpy(b->lat_sizes, def_lat, sizeof(def_lat));
	b->nlat = 3;

	while ((c = getopt_long(argc, argv, "t:s:l:m:r:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': parse_transports(b, "bench", optarg); break;
		case 's': parse_list_sizes("bench", optarg, b->sizes, &b->nsizes); break;
		case 'l': parse_list_sizes("bench", optarg, b->lat_sizes, &b->nlat); break;
		case 'm': b->measure = parse_measure("bench", optarg); break;
		case 'r':
			if (parse_decimal(optarg, &v) < 0 || v < 1 || v > BENCH_MAX_REPS)
				usage_error("bench", "'%s': repetitions from 1 to %d", optarg,
					    BENCH_MAX_REPS);
			b->o.reps = (int)v;
			reps_set = 1;
			break;
		case 'd': b->o.duration = parse_duration("bench", optarg); dur_set = 1; break;
		case OPT_CPUS: parse_cpus(b, "bench", optarg); break;
		case OPT_RING:
			if (parse_size(optarg, &v) < 0)
				usage_error("bench", "'%s': bad ring size", optarg);
			if (v < 4096 || v > (1u << 30))
				usage_error("bench", "'%s': ring from 4K to 1G", optarg);
			b->o.ring = (size_t)v;
			break;
		case OPT_QUICK: quick = 1; break;
		case OPT_JSON: b->json = 1; break;
		case OPT_PLOT: b->plot = optarg; break;
		case OPT_SAVE: b->save = optarg; break;
		case 'h':
			usage();
			free(b);
			return finish_stdout();
		default:
			free(b);
			return EXIT_USAGE; /* getopt said why, in one line */
		}
	}
	if (optind < argc)
		usage_error("bench", "'%s': unexpected argument", argv[optind]);
	if (quick) {
		if (!reps_set)
			b->o.reps = 3;
		if (!dur_set)
			b->o.duration = 0.03;
	}
	b->o.lat_duration = b->o.duration / 3;
	if (bench_can_pin(&b->o, why, sizeof(why)) < 0) {
		fprintf(stderr, "shmkit: bench: cannot pin (%s); running unpinned, "
				"figures will be lower and noisier\n", why);
		b->o.cpu[0] = b->o.cpu[1] = -1;
	}
	machine_name(b->machine, sizeof(b->machine));
	run_all(b);
	if (b->json)
		print_json(stdout, b);
	else
		print_table(stdout, b);
	status = finish_stdout();
	if (b->plot && write_plot(b, b->plot) < 0)
		status = EXIT_RUNTIME;
	if (b->save && save_all(b) < 0)
		status = EXIT_RUNTIME;
	if (b->failures) {
		err_msg("bench", "%d run%s failed; see the messages above", b->failures,
			b->failures == 1 ? "" : "s");
		status = EXIT_RUNTIME;
	}
	free(b);
	return status;
}
