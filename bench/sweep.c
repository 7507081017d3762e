/*
 * The sweep: every transport at every size, the repetitions taking turns
 * across the transports, each figure stored in the run's struct bench.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cli.h"
#include "load.h"
#include "sweep.h"

const struct variant variants[NVARIANTS] = {
	{ SHMKIT_WAIT_SPIN, 0, "spin", 1 },
	{ SHMKIT_WAIT_BLOCK, 0, "block", 0 },
	{ SHMKIT_WAIT_BLOCK, GAP_US, "asleep", 0 },
};

int bench_find_xport(const struct bench *b, const char *name)
{
	for (int i = 0; i < b->nx; i++)
		if (!strcmp(b->x[i]->name, name))
			return i;
	return -1;
}

int bench_find_size(const size_t *sizes, int n, size_t size)
{
	for (int i = 0; i < n; i++)
		if (sizes[i] == size)
			return i;
	return -1;
}

/* Transports without a wait policy have one plain row, and "asleep". */
void bench_variant_label(char *buf, size_t cap, const struct bench_xport *x, size_t v)
{
	int named = x->has_policy || v == V_ASLEEP;

	snprintf(buf, cap, "%s%s%s", x->label, named ? ", " : "", named ? variants[v].name : "");
}

static void progress(const struct bench *b, const char *fmt, const char *what, size_t size)
{
	char sz[32];

	if (b->json || !isatty(STDERR_FILENO))
		return;
	fmt_bytes(sz, sizeof(sz), (double)size, FMT_IEC);
	fprintf(stderr, "\r\033[K");
	fprintf(stderr, fmt, what, sz);
}

int bench_st_row(const struct bench *b, int k, int i)
{
	return k == 0 || b->x[i]->uses_ring;
}

/* The median of n probes (v is reordered); 0 if there are none. */
static double median_probe(double *v, int n)
{
	struct bench_stat st;

	bench_stat_of(v, n, &st);
	return st.median;
}

/* The median probe so far: what "moved" is judged against while running. */
static void note_probe(struct bench *b, const struct bench_rep *p)
{
	double v[BENCH_PROBES_MAX];

	if (p->line_ns <= 0 || b->nprobes == BENCH_PROBES_MAX)
		return;
	b->probes[b->nprobes++] = p->line_ns;
	memcpy(v, b->probes, (size_t)b->nprobes * sizeof(*v));
	b->line_ref = median_probe(v, b->nprobes);
}

static int moved(const struct bench *b, const struct bench_rep *p)
{
	return b->line_ref > 0 && p->line_ns > BENCH_MOVED * b->line_ref;
}

/* Spoiled by other processes, or run on cpus the host moved or crowded. */
static int disturbed(const struct bench *b, const struct bench_rep *p)
{
	return p->spoiled || moved(b, p);
}

/* Is a better than c: fewer troubles, then less other load, then a faster probe? */
static int less_disturbed(const struct bench *b, const struct bench_rep *a,
			  const struct bench_rep *c)
{
	int ta = a->spoiled + moved(b, a), tc = c->spoiled + moved(b, c);

	if (ta != tc)
		return ta < tc;
	if (a->other_cpu != c->other_cpu)
		return a->other_cpu < c->other_cpu;
	return a->line_ns < c->line_ns;
}

/*
 * One repetition of transport i into r: run again while other load spoils
 * it or its probe says the host moved its cpus, up to BENCH_RETRIES more
 * times and while the run's allowance lasts, keeping the least disturbed
 * run. 0, or -1 if a run failed.
 */
static int stream_rep(struct bench *b, int i, size_t size, const struct bench_opts *one,
		      struct bench_stream_result *r)
{
	struct bench_stream_result again;

	if (bench_stream(b->x[i], size, one, r) < 0)
		return -1;
	note_probe(b, &r->rep[0]);
	for (int t = 0; t < BENCH_RETRIES && disturbed(b, &r->rep[0]) &&
			b->reruns < b->rerun_max; t++) {
		b->reruns++;
		if (bench_stream(b->x[i], size, one, &again) < 0)
			return -1;
		note_probe(b, &again.rep[0]);
		if (less_disturbed(b, &again.rep[0], &r->rep[0]))
			*r = again;
	}
	return 0;
}

/* One streaming size at ring k, every transport, the repetitions interleaved. */
static void stream_size(struct bench *b, int k, int s, const struct bench_opts *one)
{
	int bad[MAX_XPORTS] = { 0 };
	char what[96], ring[32];

	fmt_bytes(ring, sizeof(ring), (double)one->ring, FMT_IEC);
	for (int rep = 0; rep < b->o.reps; rep++) {
		for (int i = 0; i < b->nx; i++) {
			struct bench_stream_result r, *row = &b->st[k][i][s];

			if (bad[i] || !bench_st_row(b, k, i))
				continue;
			snprintf(what, sizeof(what), "%s%s%s", b->x[i]->label,
				 b->nrings > 1 && b->x[i]->uses_ring ? ", ring " : "",
				 b->nrings > 1 && b->x[i]->uses_ring ? ring : "");
			progress(b, "streaming: %s, %s", what, b->sizes[s]);
			if (stream_rep(b, i, b->sizes[s], one, &r) < 0) {
				bad[i] = 1;
				b->failures++;
				continue;
			}
			row->rep[row->nreps++] = r.rep[0];
			row->msgs += r.msgs;
		}
	}
	for (int i = 0; i < b->nx; i++) {
		if (bad[i] || !bench_st_row(b, k, i))
			continue;
		b->st_ok[k][i][s] = 1;
		bench_stream_sum(&b->st[k][i][s]);
	}
}

/* The median probe of the kept repetitions, and each row's far above it. */
static void mark_moved(struct bench *b)
{
	static double v[MAX_RINGS * MAX_XPORTS * MAX_SIZES * BENCH_MAX_REPS];
	struct bench_stream_result *r;
	int n = 0;

	for (int k = 0; k < b->nrings; k++)
		for (int i = 0; i < b->nx; i++)
			for (int s = 0; s < b->nsizes; s++)
				for (int j = 0; b->st_ok[k][i][s] && j < b->st[k][i][s].nreps; j++)
					if (b->st[k][i][s].rep[j].line_ns > 0)
						v[n++] = b->st[k][i][s].rep[j].line_ns;
	b->line_ref = median_probe(v, n);
	for (int k = 0; k < b->nrings; k++) {
		for (int i = 0; i < b->nx; i++) {
			for (int s = 0; s < b->nsizes; s++) {
				r = &b->st[k][i][s];
				r->moved = 0;
				for (int j = 0; b->st_ok[k][i][s] && j < r->nreps; j++)
					r->moved += moved(b, &r->rep[j]);
			}
		}
	}
}

/*
 * Every streaming size at every ring. Reruns of spoiled repetitions are
 * limited to half the planned ones, so that a machine busy throughout
 * makes the run half as long again, not three times as long.
 */
static void stream_all(struct bench *b, struct bench_opts *one)
{
	int planned = 0;

	for (int k = 0; k < b->nrings; k++)
		for (int i = 0; i < b->nx; i++)
			planned += bench_st_row(b, k, i) * b->nsizes * b->o.reps;
	b->rerun_max = planned / 2;
	for (int k = 0; k < b->nrings; k++) {
		one->ring = b->rings[k];
		for (int s = 0; s < b->nsizes; s++)
			stream_size(b, k, s, one);
	}
	one->ring = b->o.ring;
}

/* One round-trip size: every transport and variant, interleaved. */
static void latency_size(struct bench *b, int s, const struct bench_opts *one)
{
	double mean[MAX_XPORTS][NVARIANTS][BENCH_MAX_REPS];
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
				mean[i][v][rep] = r.mean_ns.median;
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
			bench_stat_of(mean[i][v], b->o.reps, &b->lat[i][v][s].mean_ns);
			bench_stat_of(med[i][v], b->o.reps, &b->lat[i][v][s].median_ns);
			bench_stat_of(p99[i][v], b->o.reps, &b->lat[i][v][s].p99_ns);
		}
	}
}

const size_t fan_sizes[NFAN_SIZES] = { 64, 4096, 65536 };
const int fan_subs[NFAN_SUBS] = { 1, 2, 4, 8 };

/*
 * Fan-out at one size and subscriber count: the topic and N channels take
 * turns, a fresh set of processes and segments each repetition, as the
 * streams do: on these hosts a set sometimes runs several times slower
 * than the next (its memory or cpus placed worse), and taking turns puts
 * both through the same spells.
 */
static void fanout_cell(struct bench *b, int n, int s, const struct bench_opts *one)
{
	double v[2][5][BENCH_MAX_REPS];
	int bad[2] = { 0, 0 };

	for (int rep = 0; rep < b->o.reps; rep++) {
		for (int k = FAN_TOPIC; k >= FAN_CHANS; k--) {
			struct bench_fan_result r;
			char what[32];

			if (bad[k])
				continue;
			snprintf(what, sizeof(what), "%s to %d", k == FAN_TOPIC ? "a topic" :
				 "channels", fan_subs[n]);
			progress(b, "fan-out: %s, %s", what, fan_sizes[s]);
			if (bench_fanout(k == FAN_TOPIC, fan_subs[n], fan_sizes[s], one, &r) < 0) {
				bad[k] = 1;
				b->failures++;
				continue;
			}
			v[k][0][rep] = r.delivered.median;
			v[k][1][rep] = r.pub_busy.median;
			v[k][2][rep] = r.pub_wait.median;
			v[k][3][rep] = r.pub_wakes.median;
			v[k][4][rep] = r.line_ns.median;
		}
	}
	for (int k = FAN_CHANS; k <= FAN_TOPIC; k++) {
		struct bench_fan_result *r = &b->fan[k][n][s];

		if (bad[k])
			continue;
		b->fan_ok[k][n][s] = 1;
		bench_stat_of(v[k][0], b->o.reps, &r->delivered);
		bench_stat_of(v[k][1], b->o.reps, &r->pub_busy);
		bench_stat_of(v[k][2], b->o.reps, &r->pub_wait);
		bench_stat_of(v[k][3], b->o.reps, &r->pub_wakes);
		memcpy(r->rep_line_ns, v[k][4], (size_t)b->o.reps * sizeof(double));
		bench_stat_of(v[k][4], b->o.reps, &r->line_ns);
		r->nreps = b->o.reps;
	}
}

/* Fan-out's repetitions far above the median of its probes. */
static void fanout_moved(struct bench *b)
{
	static double v[2 * NFAN_SUBS * NFAN_SIZES * BENCH_MAX_REPS];
	int m = 0;

	for (int k = 0; k < 2; k++)
		for (int n = 0; n < NFAN_SUBS; n++)
			for (int s = 0; s < NFAN_SIZES; s++)
				for (int i = 0; b->fan_ok[k][n][s] && i < b->fan[k][n][s].nreps; i++)
					if (b->fan[k][n][s].rep_line_ns[i] > 0)
						v[m++] = b->fan[k][n][s].rep_line_ns[i];
	b->fan_ref = median_probe(v, m);
	for (int k = 0; k < 2; k++) {
		for (int n = 0; n < NFAN_SUBS; n++) {
			for (int s = 0; s < NFAN_SIZES; s++) {
				struct bench_fan_result *r = &b->fan[k][n][s];

				r->moved = 0;
				for (int i = 0; b->fan_ok[k][n][s] && i < r->nreps; i++)
					r->moved += b->fan_ref > 0 &&
						    r->rep_line_ns[i] > BENCH_MOVED * b->fan_ref;
			}
		}
	}
}

static void fanout_all(struct bench *b, const struct bench_opts *one)
{
	for (int s = 0; s < NFAN_SIZES; s++)
		for (int n = 0; n < NFAN_SUBS; n++)
			fanout_cell(b, n, s, one);
	fanout_moved(b);
}

const int rpc_clients[NRPC_CLIENTS] = { 1, 4, 16, 64 };
const int inbox_prods[NINBOX_PRODS] = { 0, 1, 2, 4 };
const size_t inbox_sizes[NINBOX_SIZES] = { 64, 4096 };

/* Request/response and inboxes: each cell once, shmkit and socket in turn. */
static void servers_all(struct bench *b)
{
	for (int n = 0; n < NRPC_CLIENTS; n++) {
		for (int k = RPC_SHM; k >= RPC_SOCKET; k--) {
			char what[64];

			snprintf(what, sizeof(what), "%s, %d clients", k == RPC_SHM ? "shmkit" :
				 "socket", rpc_clients[n]);
			progress(b, "request/response: %s, %s", what, 64);
			b->rpc_ok[k][n] = bench_rpc(k == RPC_SHM, rpc_clients[n], &b->o,
						    &b->rpc[k][n]) == 0;
			b->failures += !b->rpc_ok[k][n];
		}
	}
	for (int s = 0; s < NINBOX_SIZES; s++) {
		for (int n = 0; n < NINBOX_PRODS; n++) {
			char what[64];

			snprintf(what, sizeof(what), "%d producers", inbox_prods[n]);
			progress(b, "inbox: %s, %s", what, inbox_sizes[s]);
			b->inbox_ok[n][s] = bench_inbox(inbox_prods[n], inbox_sizes[s], &b->o,
							&b->inbox[n][s]) == 0;
			b->failures += !b->inbox_ok[n][s];
		}
	}
}

void bench_sweep(struct bench *b)
{
	struct bench_opts one = b->o;

	/* before we add to it */
	b->loadavg = load_avg1();
	if (b->measure & M_LIMITS) {
		progress(b, "%s%s", "cache line round trip", 0);
		b->line_ok = bench_cacheline(&b->o, &b->line) == 0;
		b->clock_ns = bench_clock_cost(&b->o);
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
	if (b->measure & M_STREAM) {
		stream_all(b, &one);
		mark_moved(b);
	}
	if (b->measure & M_LATENCY)
		for (int s = 0; s < b->nlat; s++)
			latency_size(b, s, &one);
	if (b->measure & M_FANOUT)
		fanout_all(b, &one);
	if (b->measure & M_SERVERS)
		servers_all(b);
	if (!b->json && isatty(STDERR_FILENO))
		fprintf(stderr, "\r\033[K");
}

