/* The benchmark as one JSON object: --json, and --save's .json. */
#include <stdio.h>

#include "cli.h"
#include "sweep.h"

static void json_stat(FILE *f, const char *name, const struct bench_stat *s)
{
	fprintf(f, "\"%s\": {\"median\": %.6g, \"min\": %.6g, \"max\": %.6g}", name,
		s->median, s->min, s->max);
}

/* "limits": the cache line's round trip and memcpy at each size. */
static void json_limits(FILE *f, const struct bench *b)
{
	int first = 1;

	fprintf(f, "  \"limits\": {");
	if (b->line_ok) {
		fprintf(f, "\"cacheline_rtt_ns\": {");
		json_stat(f, "mean", &b->line.mean_ns);
		fprintf(f, ", ");
		json_stat(f, "sampled_median", &b->line.median_ns);
		fprintf(f, ", ");
		json_stat(f, "sampled_p99", &b->line.p99_ns);
		fprintf(f, "}, \"clock_ns\": %.6g, ", b->clock_ns);
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
	fprintf(f, "]},\n");
}

/* "name": v, or null when not known. */
static void json_num(FILE *f, const char *name, double v, int known)
{
	if (known)
		fprintf(f, "\"%s\": %.6g", name, v);
	else
		fprintf(f, "\"%s\": null", name);
}

/* The counters' figures, of a repetition or a row's medians. */
static void json_counts(FILE *f, int have, double calls, const double wait[2])
{
	json_num(f, "syscalls_per_1000", calls, have);
	fprintf(f, ", ");
	json_num(f, "producer_wait", wait[0], have);
	fprintf(f, ", ");
	json_num(f, "consumer_wait", wait[1], have);
}

static void json_rep(FILE *f, const struct bench_rep *p)
{
	fprintf(f, "{\"msgs_per_s\": %.6g, \"gb_per_s\": %.6g, ", p->msgs_per_s, p->gb_per_s);
	json_num(f, "other_cpu", p->other_cpu, p->other_cpu >= 0);
	fprintf(f, ", \"spoiled\": %s, \"line_ns\": %.6g, ", p->spoiled ? "true" : "false",
		p->line_ns);
	json_counts(f, p->have_counts, p->syscalls_per_1000, p->wait);
	fprintf(f, "}");
}

/* Transport i, size s, at ring k (null for a transport without one). */
static void json_stream_row(FILE *f, const struct bench *b, int k, int i, int s)
{
	const struct bench_stream_result *r = &b->st[k][i][s];

	/* the ring the channel made, which may be larger than asked */
	unsigned long long ring = r->rep[0].ring ? r->rep[0].ring : b->rings[k];

	fprintf(f, "{\"transport\": \"%s\", \"size\": %zu, ", b->x[i]->name, b->sizes[s]);
	if (b->x[i]->uses_ring)
		fprintf(f, "\"ring_bytes\": %llu, ", ring);
	else
		fprintf(f, "\"ring_bytes\": null, ");
	fprintf(f, "\"msgs\": %llu, ", (unsigned long long)r->msgs);
	json_stat(f, "msgs_per_s", &r->msgs_per_s);
	fprintf(f, ", ");
	json_stat(f, "gb_per_s", &r->gb_per_s);
	fprintf(f, ", \"spoiled\": %d, \"moved\": %d, ", r->spoiled, r->moved);
	json_num(f, "other_cpu_max", r->other_cpu_max, r->other_cpu_max >= 0);
	fprintf(f, ", ");
	json_stat(f, "line_ns", &r->line_ns);
	fprintf(f, ", ");
	json_counts(f, r->have_counts, r->syscalls_per_1000, r->wait);
	fprintf(f, ",\n     \"reps\": [");
	for (int n = 0; n < r->nreps; n++) {
		fprintf(f, "%s", n ? ",\n       " : "");
		json_rep(f, &r->rep[n]);
	}
	fprintf(f, "]}");
}

/* "stream": one object per ring, transport and size that worked. */
static void json_stream(FILE *f, const struct bench *b)
{
	int first = 1;

	fprintf(f, "  \"stream\": [");
	for (int k = 0; k < b->nrings; k++) {
		for (int s = 0; s < b->nsizes; s++) {
			for (int i = 0; i < b->nx; i++) {
				if (!b->st_ok[k][i][s])
					continue;
				fprintf(f, "%s\n    ", first ? "" : ",");
				json_stream_row(f, b, k, i, s);
				first = 0;
			}
		}
	}
	fprintf(f, "\n  ],\n");
}

/* "latency": one object per transport, variant and size that worked. */
static void json_latency(FILE *f, const struct bench *b)
{
	int first = 1;

	fprintf(f, "  \"latency\": [");
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
				json_stat(f, "mean_ns", &r->mean_ns);
				fprintf(f, ", ");
				json_stat(f, "sampled_median_ns", &r->median_ns);
				fprintf(f, ", ");
				json_stat(f, "sampled_p99_ns", &r->p99_ns);
				fprintf(f, "}");
				first = 0;
			}
		}
	}
	fprintf(f, "\n  ],\n");
}

/* "fanout": one object per size, subscriber count and transport that worked. */
static void json_fanout(FILE *f, const struct bench *b)
{
	int first = 1;

	fprintf(f, "  \"fanout\": [");
	for (int s = 0; s < NFAN_SIZES; s++) {
		for (int n = 0; n < NFAN_SUBS; n++) {
			for (int k = FAN_TOPIC; k >= FAN_CHANS; k--) {
				const struct bench_fan_result *r = &b->fan[k][n][s];

				if (!b->fan_ok[k][n][s])
					continue;
				fprintf(f, "%s\n    {\"transport\": \"%s\", \"size\": %zu, "
					"\"subscribers\": %d, \"reps\": %d, ", first ? "" : ",",
					k == FAN_TOPIC ? "topic" : "channels", fan_sizes[s],
					fan_subs[n], r->nreps);
				json_stat(f, "sub_msgs_per_s", &r->delivered);
				fprintf(f, ", ");
				json_stat(f, "pub_msgs_per_s", &r->pub_busy);
				fprintf(f, ", ");
				json_stat(f, "pub_wait_share", &r->pub_wait);
				fprintf(f, ", ");
				json_stat(f, "pub_wakes_per_1000", &r->pub_wakes);
				fprintf(f, ", ");
				json_stat(f, "line_ns", &r->line_ns);
				fprintf(f, ", \"moved\": %d", r->moved);
				fprintf(f, "}");
				first = 0;
			}
		}
	}
	fprintf(f, "\n  ],\n");
}

/* "rpc" and "inbox": the servers' cells that worked. */
static void json_servers(FILE *f, const struct bench *b)
{
	int first = 1;

	fprintf(f, "  \"rpc\": [");
	for (int n = 0; n < NRPC_CLIENTS; n++) {
		for (int k = RPC_SHM; k >= RPC_SOCKET; k--) {
			const struct bench_rpc_result *r = &b->rpc[k][n];

			if (!b->rpc_ok[k][n])
				continue;
			fprintf(f, "%s\n    {\"server\": \"%s\", \"clients\": %d, \"size\": 64, "
				"\"median_ns\": %.6g, \"p99_ns\": %.6g, \"calls_per_s\": %.6g, ",
				first ? "" : ",", k == RPC_SHM ? "shmkit" : "socket", rpc_clients[n],
				r->median_ns, r->p99_ns, r->calls_per_s);
			json_num(f, "idle_cpu", r->idle_cpu, r->idle_cpu >= 0);
			fprintf(f, ", \"trips\": %llu}", (unsigned long long)r->trips);
			first = 0;
		}
	}
	fprintf(f, "\n  ],\n  \"inbox\": [");
	first = 1;
	for (int s = 0; s < NINBOX_SIZES; s++) {
		for (int n = 0; n < NINBOX_PRODS; n++) {
			if (!b->inbox_ok[n][s])
				continue;
			fprintf(f, "%s\n    {\"transport\": \"%s\", \"producers\": %d, "
				"\"size\": %zu, ", first ? "" : ",", n ? "inbox" : "channel",
				n ? inbox_prods[n] : 1, inbox_sizes[s]);
			json_stat(f, "msgs_per_s", &b->inbox[n][s]);
			fprintf(f, "}");
			first = 0;
		}
	}
	fprintf(f, "\n  ],\n");
}

/* "comparisons": the table's closing ratios, as text and value. */
static void json_comparisons(FILE *f, const struct bench *b)
{
	struct bench_ratio t[BENCH_MAX_RATIOS];
	int nt = bench_ratios(b, t);

	fprintf(f, "  \"comparisons\": [");
	for (int k = 0; k < nt; k++)
		fprintf(f, "%s\n    {\"what\": \"%s\", \"value\": %.6g}", k ? "," : "",
			t[k].what, t[k].value);
	fprintf(f, "\n  ],\n");
}

void bench_print_json(FILE *f, const struct bench *b)
{
	fprintf(f, "{\n  \"version\": ");
	json_str(f, shmkit_version());
	fprintf(f, ",\n  \"machine\": ");
	json_str(f, b->machine);
	fprintf(f, ",\n  \"reps\": %d, \"duration_s\": %.6g, \"ring_bytes\": %zu, "
	       "\"cpus\": [%d, %d],\n", b->o.reps, b->o.duration, b->o.ring,
	       b->o.cpu[0], b->o.cpu[1]);
	fprintf(f, "  \"rings\": [");
	for (int k = 0; k < b->nrings; k++)
		fprintf(f, "%s%zu", k ? ", " : "", b->rings[k]);
	fprintf(f, "], ");
	json_num(f, "loadavg_1m", b->loadavg, b->loadavg >= 0);
	fprintf(f, ", \"spoiled_above\": %.6g, \"reruns\": %d, \"line_median_ns\": %.6g, "
		"\"fan_line_median_ns\": %.6g, \"moved_above\": %d,\n", BENCH_SPOILED_CPU,
		b->reruns, b->line_ref, b->fan_ref, BENCH_MOVED);
	json_limits(f, b);
	json_stream(f, b);
	json_latency(f, b);
	json_fanout(f, b);
	json_servers(f, b);
	json_comparisons(f, b);
	fprintf(f, "  \"failures\": %d\n}\n", b->failures);
}
