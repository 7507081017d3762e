/*
 * The soak: a channel stream for as long as asked, with random sizes and
 * both APIs, every byte of every message checked (common/payload.h).
 * Reports messages, bytes, errors (must be 0) and the resident memory of
 * both sides at the start and the end (must not grow). Exit 0 only if all
 * of that holds.
 *
 *   soak SECONDS [CAPACITY]        (make soak DURATION=600)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "payload.h"
#include "shmkit.h"

#define REPORT_S 30		/* a progress line this often */
#define RSS_SLACK_KB 256	/* growth allowed for libc's own caches */

struct ctl {
	_Atomic int stop;	/* parent: producer, finish and close */
	_Atomic int ended;	/* sides that finished their stream */
	_Atomic int release;	/* parent: seen you end, you may exit */
	_Atomic uint64_t msgs, bytes, errors;
	char first_error[200];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* xorshift64*: cheap, and the consumer can replay the producer's choices */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Sizes: mostly small, sometimes up to the maximum. */
static size_t pick_size(uint64_t *s, size_t max)
{
	uint64_t r = next_rand(s);

	switch (r % 8) {
	case 0: return (size_t)(r >> 8) % (max + 1);
	case 1: case 2: return (size_t)(r >> 8) % 4097;
	default: return (size_t)(r >> 8) % 257;
	}
}

static void error(struct ctl *c, const char *fmt, unsigned long long a, unsigned long long b)
{
	if (atomic_fetch_add(&c->errors, 1) == 0)
		snprintf(c->first_error, sizeof(c->first_error), fmt, a, b);
}

static void finish(struct ctl *c, struct shmkit_chan *ch)
{
	shmkit_chan_close(ch);
	atomic_fetch_add(&c->ended, 1);
	while (!atomic_load(&c->release))
		usleep(10000);
	_exit(0);
}

static void producer(struct ctl *c, const char *name)
{
	struct shmkit_chan *ch;
	uint64_t sizes = 42, seq = 0;
	unsigned char *buf;
	size_t max;
	int r;

	if ((r = shmkit_chan_open(name, SHMKIT_PRODUCER, &ch)) < 0) {
		error(c, "producer open: error %llu%llu", (unsigned long long)-r, 0);
		_exit(1);
	}
	max = shmkit_chan_max_msg(ch);
	buf = malloc(max);
	size_t len = pick_size(&sizes, max);

	while (!atomic_load(&c->stop)) {
		void *w;

		/* the two APIs in turn, chosen by the sequence number */
		if (seq & 1) {
			payload_fill(buf, len, seq);
			r = shmkit_chan_send(ch, buf, len, 1000);
		} else if ((r = shmkit_chan_reserve(ch, len, &w, 1000)) == 0) {
			payload_fill(w, len, seq);
			r = shmkit_chan_commit(ch, len);
		}
		if (r == -ETIMEDOUT)
			continue; /* the same message again */
		if (r < 0) {
			error(c, "send %llu: error %llu", (unsigned long long)seq, (unsigned long long)-r);
			break;
		}
		seq++;
		len = pick_size(&sizes, max);
	}
	free(buf);
	finish(c, ch);
}

static void consumer(struct ctl *c, const char *name)
{
	struct shmkit_chan *ch;
	uint64_t sizes = 42, seq = 0;
	unsigned char *buf;
	size_t max, want, len, bad;
	const void *p;
	int r;

	if ((r = shmkit_chan_open(name, SHMKIT_CONSUMER, &ch)) < 0) {
		error(c, "consumer open: error %llu%llu", (unsigned long long)-r, 0);
		_exit(1);
	}
	max = shmkit_chan_max_msg(ch);
	buf = malloc(max);
	want = pick_size(&sizes, max);
	for (;;) {
		if (seq & 1) {
			r = shmkit_chan_recv(ch, buf, max, &len, 1000);
			p = buf;
		} else {
			r = shmkit_chan_peek(ch, &p, &len, 1000);
		}
		if (r == -ETIMEDOUT)
			continue; /* still this message */
		if (r == -SHMKIT_EEOF)
			break;
		if (r < 0) {
			error(c, "receive %llu: error %llu", (unsigned long long)seq, (unsigned long long)-r);
			break;
		}
		if (len != want)
			error(c, "message %llu: %llu bytes, wrong size",
			      (unsigned long long)seq, (unsigned long long)len);
		else if ((bad = payload_check(p, len, seq)))
			error(c, "message %llu: byte %llu is wrong",
			      (unsigned long long)seq, (unsigned long long)bad - 1);
		if (!(seq & 1) && shmkit_chan_release(ch) < 0)
			error(c, "release %llu%llu", (unsigned long long)seq, 0);
		atomic_fetch_add_explicit(&c->msgs, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&c->bytes, len, memory_order_relaxed);
		seq++;
		want = pick_size(&sizes, max);
	}
	free(buf);
	finish(c, ch);
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(int argc, char **argv)
{
	struct ctl *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double seconds = argc > 1 ? atof(argv[1]) : 60, t0, last;
	size_t cap = argc > 2 ? (size_t)atol(argv[2]) : 1 << 20;
	long rss0[2], rss1[2];
	char name[64];
	pid_t pid[2];
	int shmid, grew = 0, status, bad = 0;

	if (c == MAP_FAILED || seconds <= 0 || cap < 4096) {
		fprintf(stderr, "usage: soak SECONDS [CAPACITY]\n");
		return 2;
	}
	snprintf(name, sizeof(name), "shmkit-soak.%d", (int)getpid());
	if ((shmid = shmkit_chan_create(name, cap, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)) < 0) {
		fprintf(stderr, "soak: %s: %s\n", name, shmkit_strerror(shmid));
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		if ((pid[i] = fork()) == 0) {
			if (i)
				consumer(c, name);
			producer(c, name);
		}
	}
	/* both attach within moments; then nobody needs the name */
	sleep(1);
	shmkit_seg_remove(shmid);
	/* a second more, so the ring and the buffers have been touched */
	sleep(1);
	rss0[0] = rss_kb(pid[0]);
	rss0[1] = rss_kb(pid[1]);
	printf("soak: %.0f s, channel of %zu bytes, random sizes 0..%zu, both APIs\n", seconds,
	       cap, cap / 2);
	printf("start: resident memory producer %ld kB, consumer %ld kB\n", rss0[0], rss0[1]);
	fflush(stdout);
	t0 = last = now();
	while (now() - t0 < seconds && !atomic_load(&c->errors)) {
		usleep(100000);
		if (now() - last >= REPORT_S) {
			last = now();
			printf("%6.0f s: %llu messages, %.2f GB, %llu errors, rss %ld/%ld kB\n",
			       last - t0, (unsigned long long)atomic_load(&c->msgs),
			       (double)atomic_load(&c->bytes) / 1e9,
			       (unsigned long long)atomic_load(&c->errors), rss_kb(pid[0]),
			       rss_kb(pid[1]));
			fflush(stdout);
		}
	}
	/* measured while both still stream, as at the start */
	rss1[0] = rss_kb(pid[0]);
	rss1[1] = rss_kb(pid[1]);
	atomic_store(&c->stop, 1);
	while (atomic_load(&c->ended) < 2 && now() - t0 < seconds + 30)
		usleep(10000);
	atomic_store(&c->release, 1);
	for (int i = 0; i < 2; i++) {
		waitpid(pid[i], &status, 0);
		bad |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	for (int i = 0; i < 2; i++)
		grew |= rss1[i] < 0 || rss1[i] > rss0[i] + RSS_SLACK_KB;
	printf("end: %llu messages, %.2f GB in %.0f s, %llu errors\n",
	       (unsigned long long)atomic_load(&c->msgs), (double)atomic_load(&c->bytes) / 1e9,
	       now() - t0, (unsigned long long)atomic_load(&c->errors));
	printf("end: resident memory producer %ld kB, consumer %ld kB (%s)\n", rss1[0], rss1[1],
	       grew ? "GREW" : "no growth");
	if (atomic_load(&c->errors))
		printf("first error: %s\n", c->first_error);
	return atomic_load(&c->errors) || grew || bad || atomic_load(&c->ended) < 2;
}
