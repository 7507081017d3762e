/*
 * A whole 'shmkit bench' run: its settings, every figure it measured, and
 * the files that read them. The command (cmd.c) fills the settings, the
 * sweep (sweep.c) the figures; the writers (table.c, json.c, chart.c,
 * save.c) only read a finished run, so each can change without the others.
 */
#ifndef SHMKIT_BENCH_SWEEP_H
#define SHMKIT_BENCH_SWEEP_H

#include <stdio.h>

#include "bench.h"

#define MAX_SIZES 16
#define MAX_XPORTS 8
#define MAX_RINGS 8	/* --rings sizes */
#define BENCH_RETRIES 2	/* extra runs of a repetition spoiled by other load */
#define GAP_US 300	/* between round trips: a blocking peer is asleep by then */

enum { M_STREAM = 1, M_LATENCY = 2, M_LIMITS = 4, M_FANOUT = 8, M_SERVERS = 16 };

/* Fan-out's sizes and subscriber counts (fixed: the grid). */
#define NFAN_SIZES 3
#define NFAN_SUBS 4
extern const size_t fan_sizes[NFAN_SIZES];
extern const int fan_subs[NFAN_SUBS];
enum { FAN_CHANS, FAN_TOPIC };	/* fan[] index: N channels, one topic */

/* Servers' grid: clients of one server; producers into one inbox (0: a channel). */
#define NRPC_CLIENTS 4
#define NINBOX_PRODS 4
#define NINBOX_SIZES 2
extern const int rpc_clients[NRPC_CLIENTS];
extern const int inbox_prods[NINBOX_PRODS];
extern const size_t inbox_sizes[NINBOX_SIZES];
enum { RPC_SOCKET, RPC_SHM };	/* rpc[] index */

/* Round-trip variants: the channel's policies, and a sleeping peer. */
struct variant {
	int policy;
	unsigned gap_us;
	const char *name;	/* JSON and table */
	int policy_only;	/* only for transports with a wait policy */
};

#define NVARIANTS 3
#define V_ASLEEP 2	/* the variant a pipe's "asleep" compares with */
extern const struct variant variants[NVARIANTS];

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
	size_t rings[MAX_RINGS];	/* streaming rings; o.ring for the rest */
	int nrings;
	double loadavg;			/* 1-minute load at the start; -1 unknown */
	int reruns, rerun_max;		/* of spoiled repetitions: made, allowed */
	/* results; ok flags say which were measured. Streams per ring k: a
	 * transport without a ring runs once, at k = 0 */
	struct bench_stream_result st[MAX_RINGS][MAX_XPORTS][MAX_SIZES];
	int st_ok[MAX_RINGS][MAX_XPORTS][MAX_SIZES];
	struct bench_lat_result lat[MAX_XPORTS][NVARIANTS][MAX_SIZES];
	int lat_ok[MAX_XPORTS][NVARIANTS][MAX_SIZES];
	struct bench_stat mcpy[MAX_SIZES];
	int mcpy_ok[MAX_SIZES];
	struct bench_fan_result fan[2][NFAN_SUBS][NFAN_SIZES];
	int fan_ok[2][NFAN_SUBS][NFAN_SIZES];
	struct bench_rpc_result rpc[2][NRPC_CLIENTS];
	int rpc_ok[2][NRPC_CLIENTS];
	struct bench_stat inbox[NINBOX_PRODS][NINBOX_SIZES];
	int inbox_ok[NINBOX_PRODS][NINBOX_SIZES];
	struct bench_lat_result line;
	int line_ok;
	double clock_ns;	/* one clock reading, in every sampled trip */
	/* what "moved" is judged against: the median stream probe of the
	 * run (while running, of the probes so far), ns; 0 none */
	double line_ref;
	double fan_ref;		/* the median of fan-out's probes; 0 none */
	double probes[BENCH_PROBES_MAX];	/* the stream probes so far */
	int nprobes;
	int failures;
	char machine[256];
};

/* sweep.c: every measurement b's settings ask for, into b. */
void bench_sweep(struct bench *b);
/* Index of transport name or of size in b, or -1 if not in this run. */
int bench_find_xport(const struct bench *b, const char *name);
int bench_find_size(const size_t *sizes, int n, size_t size);
/* Whether transport i has a streaming row at ring k. */
int bench_st_row(const struct bench *b, int k, int i);
/* A round-trip row's label: "shmkit (copy), spin", "pipe, asleep". */
void bench_variant_label(char *buf, size_t cap, const struct bench_xport *x, size_t v);

/* format.c: figures as the table prints them (sizes: cli.h's fmt_bytes). */
void fmt_si(char *buf, size_t cap, double v);
void fmt_ns(char *buf, size_t cap, double ns);

/* ratios.c: shmkit against the baselines of the same run. */
#define BENCH_MAX_RATIOS 32
struct bench_ratio {
	char what[96];		/* "64 B msg/s, shmkit vs pipe" */
	double value;
	int is_ratio;		/* 0: a plain figure (system calls per 1,000 msgs) */
};
/* Fills t (BENCH_MAX_RATIOS) with what this run measured; the count. */
int bench_ratios(const struct bench *b, struct bench_ratio *t);

/* The writers: the table, the JSON object, the SVG chart, --save's three. */
void bench_print_table(FILE *f, const struct bench *b);
void bench_print_json(FILE *f, const struct bench *b);
int bench_write_chart(const struct bench *b, const char *path);
int bench_save(const struct bench *b);

#endif
