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

/* "stream": one object per transport and size that worked. */
static void json_stream(FILE *f, const struct bench *b)
{
	int first = 1;

	fprintf(f, "  \"stream\": [");
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
	json_limits(f, b);
	json_stream(f, b);
	json_latency(f, b);
	json_comparisons(f, b);
	fprintf(f, "  \"failures\": %d\n}\n", b->failures);
}
