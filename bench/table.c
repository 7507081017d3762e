/* The benchmark's table: what a person reads, and --save's .txt. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sweep.h"

void bench_print_table(FILE *f, const struct bench *b)
{
	struct goal_row t[32];
	char a[32], c[32], d[32], e[32];
	int pipe = bench_find_xport(b, "pipe"), nt;

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
					bench_variant_label(label, sizeof(label), b->x[i], v);
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
	nt = bench_targets(b, t);
	if (nt) {
		int nmet = 0;

		fprintf(f, "\nTargets (ratios within this run)\n");
		for (int k = 0; k < nt; k++) {
			nmet += bench_target_met(&t[k]);
			fprintf(f, "  %-44s %8.2f%s  goal %s %.1f%s  %s\n", t[k].what, t[k].value,
			       strstr(t[k].what, "wake-ups") ? " " : "x", t[k].at_most ? "<=" : ">=",
			       t[k].goal, strstr(t[k].what, "wake-ups") ? " " : "x",
			       bench_target_met(&t[k]) ? "met" : "MISSED");
		}
		fprintf(f, "  %d of %d met\n", nmet, nt);
	}
}
