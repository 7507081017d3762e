/*
 * shmkit bench: the channel against pipes and UNIX sockets, and against the
 * hardware's own limits (the two-core limit, memcpy, one cache line), and
 * a topic's fan-out against N channels, all measured in one run on this
 * machine. Every figure is a median over
 * repetitions; every ratio compares figures of the same run, since
 * absolute speeds on a shared machine drift.
 *
 * This file is the command: its options and cmd_bench, which the shmkit
 * command's main() calls like any subcommand. The rest of bench/ measures
 * (sweep.c, pair.c, stream.c, pingpong.c, hardware.c, xport.c,
 * xport_limit.c) and reports (table.c, json.c, chart.c).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sweep.h"

static void usage(void)
{
	printf("Usage: shmkit bench [OPTIONS]\n"
	       "\n"
	       "Measures shmkit channels against pipes and UNIX sockets on this machine,\n"
	       "and against the hardware's limits, in one run, and prints one table.\n"
	       "Two processes, pinned to two cpus, do the work a real user would: the\n"
	       "sender writes every payload byte, the receiver reads every byte and\n"
	       "checks it against the message's sequence number. A failed check ends\n"
	       "that run with an error and no figure. Ratios compare figures of this\n"
	       "same run.\n"
	       "\n"
	       "  -t, --transports LIST  which to run, comma-separated (default: all):\n"
	       "                         shmkit     channel, copying API (send/recv)\n"
	       "                         shmkit-zc  channel, zero-copy API (reserve/commit,\n"
	       "                                    peek/release)\n"
	       "                         limit      the two-core limit: fill, one memcpy\n"
	       "                                    into a shared ring, check in place;\n"
	       "                                    spin only (the \"of limit\" column)\n"
	       "                         pipe       a pipe of the default size\n"
	       "                         pipe-1m    a pipe enlarged to 1 MiB (F_SETPIPE_SZ)\n"
	       "                         unix       a UNIX stream socketpair\n"
	       "  -s, --sizes LIST       streaming message sizes (default 64,1K,4K,64K,1M)\n"
	       "  -l, --lat-sizes LIST   round-trip message sizes (default 8,4K,64K)\n"
	       "  -m, --measure LIST     stream, latency, limits, fanout, servers (default: all)\n"
	       "  -r, --reps N           timed repetitions after warm-up (default 5)\n"
	       "  -d, --duration SECS    seconds per streaming repetition, 0.001 to %d\n"
	       "                         (default 0.1); round trips take a third of it\n"
	       "      --cpus A,B         the two cpus (default 0,1)\n"
	       "      --ring SIZE        channel and limit ring capacity, and memcpy\n"
	       "                         region (default 4M)\n"
	       "      --rings LIST       streaming ring sizes, comma-separated: transports\n"
	       "                         with a ring stream once per size (default: --ring)\n"
	       "      --quick            3 short repetitions: about 10 seconds in all\n"
	       "      --json             results as one JSON object instead of the table\n"
	       "      --plot FILE.svg    also draw throughput and round trip against size\n"
	       "      --save PREFIX      also write PREFIX.txt (the table), PREFIX.json\n"
	       "                         and PREFIX.svg (the plot)\n"
	       "  -h, --help             this text\n"
	       "\n"
	       "Round trips are measured with the channel spinning (spin), spinning then\n"
	       "sleeping on a futex (block), and with the peer gone to sleep between\n"
	       "messages (asleep: %u us pauses). Streams are compared with the two-core\n"
	       "limit (-t limit), the same work through one shared ring and nothing\n"
	       "else. The hardware, for reference: single-core memcpy of each size into\n"
	       "a ring-sized region, and one cache line passed between the two cpus.\n"
	       "\n"
	       "A streaming repetition beside more than %.0f%% of a cpu of other processes'\n"
	       "work (/proc/stat, less the benchmark's own) runs again, up to %d times;\n"
	       "one still disturbed is kept and its row marked '*'. For channels,\n"
	       "syscalls/1k counts futex sleeps and wakes and sched_yield calls of both\n"
	       "sides per 1,000 messages, and p-wait and c-wait the share of the time\n"
	       "each side waited for the other.\n"
	       "\n"
	       "Fan-out: one publisher on the first cpu, 1, 2, 4 and 8 subscribers all on\n"
	       "the second, at 64 B, 4 KiB and 64 KiB, zero-copy, through one topic\n"
	       "(each message written once) and through N channels (written N times).\n"
	       "sub msg/s is what each subscriber gets; with the subscribers sharing a\n"
	       "cpu it falls with N whatever the transport. pub msg/s is the\n"
	       "publisher's own rate: its sending time less its waits for room, the\n"
	       "rate it could keep with a cpu per subscriber.\n", SECONDS_MAX, GAP_US,
	       100 * BENCH_SPOILED_CPU, BENCH_RETRIES);
}

/* -------------------------------------------------------------- options */

/*
 * Each option's parser returns 0, or EXIT_USAGE after saying why; the
 * command decides (nothing here exits).
 */

static int parse_list_sizes(const char *cmd, const char *arg, size_t *out, int *n)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	uint64_t v;

	if (!copy)
		return usage_error(cmd, "out of memory");
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (parse_size(tok, &v) < 0 || *n == MAX_SIZES || v > (1u << 30)) {
			free(copy);
			return usage_error(cmd, "'%s': sizes are 1 byte to 1G, at most %d of them",
					   arg, MAX_SIZES);
		}
		out[(*n)++] = (size_t)v;
	}
	free(copy);
	return *n ? 0 : usage_error(cmd, "'%s': no sizes", arg);
}

/* The transport named tok, or NULL. */
static const struct bench_xport *xport_named(const char *tok)
{
	int i;

	for (i = 0; bench_xports[i] && strcmp(bench_xports[i]->name, tok); i++)
		;
	return bench_xports[i];
}

static int parse_transports(struct bench *b, const char *cmd, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	const struct bench_xport *x;
	int err = 0;

	if (!copy)
		return usage_error(cmd, "out of memory");
	b->nx = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (b->nx = 0; bench_xports[b->nx]; b->nx++)
				b->x[b->nx] = bench_xports[b->nx];
			continue;
		}
		if (!(x = xport_named(tok))) {
			err = usage_error(cmd, "'%s': unknown transport", tok);
			break;
		}
		for (int k = 0; k < b->nx && !err; k++)
			if (b->x[k] == x)
				err = usage_error(cmd, "'%s': named twice", tok);
		if (!err)
			b->x[b->nx++] = x;
	}
	free(copy);
	if (!err && !b->nx)
		err = usage_error(cmd, "'%s': no transports", arg);
	return err;
}

static int parse_measure(const char *cmd, const char *arg, unsigned *m)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return usage_error(cmd, "out of memory");
	*m = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "stream"))
			*m |= M_STREAM;
		else if (!strcmp(tok, "latency"))
			*m |= M_LATENCY;
		else if (!strcmp(tok, "limits"))
			*m |= M_LIMITS;
		else if (!strcmp(tok, "fanout"))
			*m |= M_FANOUT;
		else if (!strcmp(tok, "servers"))
			*m |= M_SERVERS;
		else
			err = usage_error(cmd, "'%s': measure stream, latency, limits, fanout or "
					  "servers", tok);
	}
	free(copy);
	if (!err && !*m)
		err = usage_error(cmd, "'%s': nothing to measure", arg);
	return err;
}

/* SECS for -d: the common rule, and some time to measure in. */
static int parse_duration(const char *cmd, const char *arg, double *secs)
{
	int64_t ms;

	if (parse_seconds(cmd, arg, &ms) < 0)
		return EXIT_USAGE;
	if (ms == 0)
		return usage_error(cmd, "'%s': at least 0.001 seconds", arg);
	*secs = (double)ms / 1000;
	return 0;
}

static int parse_cpus(struct bench *b, const char *cmd, const char *arg)
{
	const char *comma = strchr(arg, ',');
	char first[24];
	uint64_t a, c;

	if (!comma || (size_t)(comma - arg) >= sizeof(first))
		return usage_error(cmd, "'%s': two different cpu numbers, like 0,1", arg);
	memcpy(first, arg, (size_t)(comma - arg));
	first[comma - arg] = '\0';
	if (parse_decimal(first, &a) < 0 || parse_decimal(comma + 1, &c) < 0 ||
	    a > INT_MAX || c > INT_MAX || a == c)
		return usage_error(cmd, "'%s': two different cpu numbers, like 0,1", arg);
	b->o.cpu[0] = (int)a;
	b->o.cpu[1] = (int)c;
	return 0;
}
/* ------------------------------------------------------------------ main */

/* Everything, five sizes streamed and three timed round trip, 5 x 0.1 s. */
static void set_defaults(struct bench *b)
{
	static const size_t def_sizes[] = { 64, 1024, 4096, 65536, 1 << 20 };
	static const size_t def_lat[] = { 8, 4096, 65536 };

	b->o.reps = 5;
	b->o.duration = 0.1;
	b->o.cpu[0] = 0;
	b->o.cpu[1] = 1;
	b->o.ring = 4u << 20;
	b->measure = M_STREAM | M_LATENCY | M_LIMITS | M_FANOUT | M_SERVERS;
	for (b->nx = 0; bench_xports[b->nx]; b->nx++)
		b->x[b->nx] = bench_xports[b->nx];
	memcpy(b->sizes, def_sizes, sizeof(def_sizes));
	b->nsizes = 5;
	memcpy(b->lat_sizes, def_lat, sizeof(def_lat));
	b->nlat = 3;
}

static int parse_reps(const char *arg, int *reps)
{
	uint64_t v;

	if (parse_decimal(arg, &v) < 0 || v < 1 || v > BENCH_MAX_REPS)
		return usage_error("bench", "'%s': repetitions from 1 to %d", arg,
				   BENCH_MAX_REPS);
	*reps = (int)v;
	return 0;
}

static int parse_ring(const char *arg, size_t *ring)
{
	uint64_t v;

	if (parse_size(arg, &v) < 0)
		return usage_error("bench", "'%s': bad ring size", arg);
	if (v < 4096 || v > (1u << 30))
		return usage_error("bench", "'%s': ring from 4K to 1G", arg);
	*ring = (size_t)v;
	return 0;
}

/* --rings: sizes as --ring takes them, each once. */
static int parse_rings(struct bench *b, const char *arg)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return usage_error("bench", "out of memory");
	b->nrings = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (b->nrings == MAX_RINGS)
			err = usage_error("bench", "'%s': at most %d ring sizes", arg, MAX_RINGS);
		else
			err = parse_ring(tok, &b->rings[b->nrings]);
		for (int k = 0; k < b->nrings && !err; k++)
			if (b->rings[k] == b->rings[b->nrings])
				err = usage_error("bench", "'%s': named twice", tok);
		b->nrings += !err;
	}
	free(copy);
	if (!err && !b->nrings)
		err = usage_error("bench", "'%s': no ring sizes", arg);
	return err;
}

/*
 * The command line into b. Returns -1 when the run goes ahead, or the exit
 * status when it does not (--help, or a bad option getopt has reported).
 * --quick shortens only what the user left at its default.
 */
static int parse_options(struct bench *b, int argc, char **argv)
{
	enum { OPT_CPUS = 256, OPT_RING, OPT_RINGS, OPT_QUICK, OPT_JSON, OPT_PLOT, OPT_SAVE };
	static const struct option opts[] = {
		{ "transports", required_argument, NULL, 't' },
		{ "sizes", required_argument, NULL, 's' },
		{ "lat-sizes", required_argument, NULL, 'l' },
		{ "measure", required_argument, NULL, 'm' },
		{ "reps", required_argument, NULL, 'r' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cpus", required_argument, NULL, OPT_CPUS },
		{ "ring", required_argument, NULL, OPT_RING },
		{ "rings", required_argument, NULL, OPT_RINGS },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "save", required_argument, NULL, OPT_SAVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, reps_set = 0, dur_set = 0, quick = 0, err = 0;

	while (!err && (c = getopt_long(argc, argv, "t:s:l:m:r:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 't': err = parse_transports(b, "bench", optarg); break;
		case 's': err = parse_list_sizes("bench", optarg, b->sizes, &b->nsizes); break;
		case 'l': err = parse_list_sizes("bench", optarg, b->lat_sizes, &b->nlat); break;
		case 'm': err = parse_measure("bench", optarg, &b->measure); break;
		case 'r': err = parse_reps(optarg, &b->o.reps); reps_set = 1; break;
		case 'd': err = parse_duration("bench", optarg, &b->o.duration); dur_set = 1; break;
		case OPT_CPUS: err = parse_cpus(b, "bench", optarg); break;
		case OPT_RING: err = parse_ring(optarg, &b->o.ring); break;
		case OPT_RINGS: err = parse_rings(b, optarg); break;
		case OPT_QUICK: quick = 1; break;
		case OPT_JSON: b->json = 1; break;
		case OPT_PLOT: b->plot = optarg; break;
		case OPT_SAVE: b->save = optarg; break;
		default:
			return help_or_bad_option(c, usage);
		}
	}
	if (err)
		return err;
	if (optind < argc)
		return usage_error("bench", "'%s': unexpected argument", argv[optind]);
	if (quick) {
		if (!reps_set)
			b->o.reps = 3;
		if (!dur_set)
			b->o.duration = 0.03;
	}
	b->o.lat_duration = b->o.duration / 3;
	if (!b->nrings)
		b->rings[b->nrings++] = b->o.ring;
	return -1;
}

/* The table or the JSON on stdout, then the files asked for; the status. */
static int report(const struct bench *b)
{
	int status;

	if (b->json)
		bench_print_json(stdout, b);
	else
		bench_print_table(stdout, b);
	status = finish_stdout();
	if (b->plot && bench_write_chart(b, b->plot) < 0)
		status = EXIT_RUNTIME;
	if (b->save && bench_save(b) < 0)
		status = EXIT_RUNTIME;
	if (b->failures) {
		err_msg("bench", "%d run%s failed; see the messages above", b->failures,
			b->failures == 1 ? "" : "s");
		status = EXIT_RUNTIME;
	}
	return status;
}

int cmd_bench(int argc, char **argv)
{
	struct bench *b = calloc(1, sizeof(*b));
	int status;
	char why[128];

	if (!b) {
		err_msg("bench", "%s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	set_defaults(b);
	if ((status = parse_options(b, argc, argv)) >= 0) {
		free(b);
		return status;
	}
	if (bench_can_pin(&b->o, why, sizeof(why)) < 0) {
		fprintf(stderr, "shmkit: bench: cannot pin (%s); running unpinned, "
				"figures will be lower and noisier\n", why);
		b->o.cpu[0] = b->o.cpu[1] = -1;
	}
	machine_line(b->machine, sizeof(b->machine));
	bench_sweep(b);
	status = report(b);
	free(b);
	return status;
}
