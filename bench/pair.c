/*
 * Two processes and what they share: forking them pinned to different
 * cores, starting them together, waiting, and the rounds of repetitions
 * their figures come from. bench_stream (stream.c), bench_pingpong
 * (pingpong.c) and the hardware's limits (hardware.c) run on this.
 *
 * Repetitions. The producer (or pinger) runs rounds: warm-up rounds,
 * doubling in length until one lasts a quarter of the repetition time,
 * then o->reps timed rounds sized from the warm-up's rate. Rounds never
 * overlap: the producer starts the next only when the consumer has
 * checked the last message of this one.
 *
 * The control block is shared memory (MAP_SHARED | MAP_ANONYMOUS, so
 * nothing outlives the run). One writer per field; the round and done
 * counters are release/acquire pairs, so the figures a counter announces
 * are visible once it is.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "pair.h"

#define START_TIMEOUT 10.0	/* seconds for both children to open */

/*
 * Spins until *v >= want or the stop flag (if any) or a failure, and
 * answers the other side's probe meanwhile (an odd value: stream.c).
 */
int pair_wait(struct ctl *c, _Atomic int *v, int want)
{
	unsigned i = 0;
	uint64_t probe;

	while (atomic_load_explicit(v, memory_order_acquire) < want) {
		if (atomic_load_explicit(&c->failed, memory_order_relaxed))
			return -1;
		if (atomic_load_explicit(&c->stop, memory_order_acquire))
			return 1;
		probe = atomic_load_explicit(&c->probe, memory_order_relaxed);
		if (probe & 1)
			atomic_store_explicit(&c->probe, probe + 1, memory_order_relaxed);
		cpu_relax();
		/* the other side may share this core when pinning is off */
		if (++i % 1024 == 0)
			sched_yield();
	}
	return 0;
}

_Noreturn void pair_fail(struct ctl *c, const char *what, int err)
{
	/* first failure wins: the other side's failure is a consequence */
	if (!atomic_exchange(&c->failed, 1))
		snprintf(c->why, sizeof(c->why), "%s: %s", what,
			 err == -EBADMSG ? bench_why : shmkit_strerror(err));
	_exit(1);
}

void pair_pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void pair_started(struct ctl *c)
{
	atomic_fetch_add(&c->ready, 1);
	if (pair_wait(c, &c->go, 1))
		_exit(1);
}

int bench_can_pin(const struct bench_opts *o, char *why, size_t cap)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0) {
		snprintf(why, cap, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (o->cpu[i] < 0 || o->cpu[i] >= CPU_SETSIZE || !CPU_ISSET(o->cpu[i], &set)) {
			snprintf(why, cap, "cpu %d is not available to this process", o->cpu[i]);
			return -1;
		}
	}
	if (o->cpu[0] == o->cpu[1]) {
		snprintf(why, cap, "producer and consumer need different cpus");
		return -1;
	}
	return 0;
}

struct ctl *pair_ctl_new(void)
{
	struct ctl *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (c == MAP_FAILED)
		return NULL;
	atomic_store(&c->round, -1);
	atomic_store(&c->done, -1);
	return c;
}

/* Rounds to time after round r took dt seconds for n messages (or trips). */
uint64_t pair_next_round(struct ctl *c, int r, double target, int reps, int *timed_left)
{
	double dt = c->t1[r] - c->t0[r], per = dt / (double)c->n[r];
	uint64_t n;

	if (c->timed_from < 0) {
		/* warming up: double until a round lasts a quarter of target */
		if (dt < target / 4 && r < MAX_ROUNDS - reps - 1)
			return c->n[r] * 2;
		c->timed_from = r + 1;
		*timed_left = reps;
	}
	if ((*timed_left)-- <= 0)
		return 0;
	n = per > 0 ? (uint64_t)(target / per) : c->n[r] * 4;
	return n < 16 ? 16 : n;
}

int pair_reap(const pid_t *pid, int n, _Atomic int *failed, char *why, size_t cap)
{
	int left = n, bad = 0, status;

	while (left > 0) {
		pid_t p = wait(&status);

		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			break;
		left--;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad = 1;
			/* the others may wait for ever on a dead peer's ring or pipe */
			for (int i = 0; i < n; i++)
				if (pid[i] != p)
					kill(pid[i], SIGKILL);
			if (!atomic_exchange(failed, 1))
				snprintf(why, cap, "a process died (%s)",
					 WIFSIGNALED(status) ? strsignal(WTERMSIG(status))
							     : "exit status");
		}
	}
	return bad;
}

/*
 * Forks the two sides, lets them open, starts them, and waits. Returns 0
 * or -1 with the reason printed. Neither side outlives the call.
 */
int pair_run(struct ctl *c, const struct bench_opts *o, const char *what,
		    void (*side)(struct ctl *, int, void *), void *arg,
		    void (*opened)(void *), void *opened_arg)
{
	pid_t pid[2];
	int bad;
	double start = clock_s();

	fflush(NULL);
	for (int i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] < 0) {
			err_msg("bench", "fork: %s", strerror(errno));
			if (i)
				kill(pid[0], SIGKILL), waitpid(pid[0], NULL, 0);
			return -1;
		}
		if (pid[i] == 0) {
			pair_pin(o->cpu[i]);
			side(c, i, arg);
			_exit(0);
		}
	}
	/* both ends open before anyone may lose the name */
	while (atomic_load(&c->ready) < 2 && !atomic_load(&c->failed) &&
	       clock_s() - start < START_TIMEOUT)
		usleep(100);
	if (atomic_load(&c->ready) == 2) {
		if (opened)
			opened(opened_arg);
		atomic_store_explicit(&c->go, 1, memory_order_release);
	} else if (!atomic_exchange(&c->failed, 1)) {
		snprintf(c->why, sizeof(c->why), "the two sides did not start");
	}
	bad = pair_reap(pid, 2, &c->failed, c->why, sizeof(c->why));
	if (bad || atomic_load(&c->failed)) {
		err_msg("bench", "%s: %s; no figure reported for this run", what, c->why);
		return -1;
	}
	return 0;
}

void pair_percentiles(struct ctl *c, int r, double *t, uint64_t n)
{
	qsort(t, n, sizeof(*t), cmp_double);
	c->med[r] = t[n / 2] * 1e9;
	c->p99[r] = t[(n * 99) / 100] * 1e9;
	if (c->timed_from >= 0)	/* warm-up samples are not reported */
		c->samples += n;
}

void pair_lat_result(struct ctl *c, int reps, struct bench_lat_result *r)
{
	double mean[BENCH_MAX_REPS], med[BENCH_MAX_REPS], p99[BENCH_MAX_REPS];
	int k = 0, i;

	for (i = c->timed_from; i < MAX_ROUNDS && c->n[i] && k < reps; i++, k++) {
		mean[k] = c->mean[i];
		med[k] = c->med[i];
		p99[k] = c->p99[i];
	}
	bench_stat_of(mean, k, &r->mean_ns);
	if (c->sampled_last && i < MAX_ROUNDS) {
		/* the sampled round after the timed ones, where the loop stopped */
		bench_stat_of(&c->med[i], 1, &r->median_ns);
		bench_stat_of(&c->p99[i], 1, &r->p99_ns);
	} else {
		bench_stat_of(med, k, &r->median_ns);
		bench_stat_of(p99, k, &r->p99_ns);
	}
	r->samples = c->samples;
}
void bench_stat_of(double *v, int n, struct bench_stat *s)
{
	if (n <= 0) {
		s->median = s->min = s->max = 0;
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	s->min = v[0];
	s->max = v[n - 1];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
