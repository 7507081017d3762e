/*
 * make demo: one process streams 1 GiB to another, once through a shmkit
 * channel and once through a pipe, and the receiver checks every byte.
 * Both ways do the same work: the sender writes every byte (generated),
 * the receiver reads every byte (compared). Prints both throughputs and
 * their ratio, and what `shmkit ls` shows while the channel is in use.
 *
 *   stream [SHMKIT_BINARY] [GIB]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "payload.h"
#include "shmkit.h"

#define MSG (64 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Separate cores, where there are two, as a real pair of programs would be. */
static void pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Chunk i of the stream is message i of common/payload.h: the receiver
 * checks every byte without a copy to compare with. */
static int check_chunk(uint64_t i, const void *buf)
{
	size_t bad = payload_check(buf, MSG, i);

	if (bad)
		fprintf(stderr, "demo: chunk %llu: byte %zu differs\n", (unsigned long long)i,
			bad - 1);
	return !bad;
}

static int chan_sender(const char *name, uint64_t chunks)
{
	struct shmkit_chan *ch;
	void *p;
	uint64_t i;

	pin(0);
	if (shmkit_chan_open(name, SHMKIT_PRODUCER, &ch) < 0)
		return 1;
	for (i = 0; i < chunks; i++) {
		if (shmkit_chan_reserve(ch, MSG, &p, -1) < 0)
			return 1;
		payload_fill(p, MSG, i); /* written in place: no copy */
		shmkit_chan_commit(ch, MSG);
	}
	return shmkit_chan_close(ch) < 0;
}

static int chan_receiver(const char *name, uint64_t chunks)
{
	static char scratch[MSG];
	struct shmkit_chan *ch;
	const void *p;
	size_t len;
	uint64_t i;

	pin(1);
	if (shmkit_chan_open(name, SHMKIT_CONSUMER, &ch) < 0)
		return 1;
	for (i = 0; i < chunks; i++) {
		if (shmkit_chan_peek(ch, &p, &len, -1) < 0 || len != MSG ||
		    !check_chunk(i, p)) /* read in place: no copy */
			return 2;
		shmkit_chan_release(ch);
	}
	return shmkit_chan_recv(ch, scratch, sizeof(scratch), &len, -1) != -SHMKIT_EEOF ||
	       shmkit_chan_close(ch) < 0;
}

static int pipe_sender(int fd, uint64_t chunks)
{
	static char buf[MSG];
	uint64_t i;

	pin(0);
	for (i = 0; i < chunks; i++) {
		payload_fill(buf, MSG, i);
		for (size_t off = 0; off < MSG;) {
			ssize_t n = write(fd, buf + off, MSG - off);
			if (n < 0 && errno != EINTR)
				return 1;
			off += n > 0 ? (size_t)n : 0;
		}
	}
	return close(fd) < 0;
}

static int pipe_receiver(int fd, uint64_t chunks)
{
	static char buf[MSG];
	uint64_t i;

	pin(1);
	for (i = 0; i < chunks; i++) {
		for (size_t off = 0; off < MSG;) {
			ssize_t n = read(fd, buf + off, MSG - off);
			if (n == 0 || (n < 0 && errno != EINTR))
				return 1;
			off += n > 0 ? (size_t)n : 0;
		}
		if (!check_chunk(i, buf))
			return 2;
	}
	return read(fd, buf, 1) != 0;
}

static int reap(pid_t pid, const char *who)
{
	int st;

	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "demo: the %s failed (%s)\n", who,
			WIFEXITED(st) && WEXITSTATUS(st) == 2 ? "data differed" : "error");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *shmkit = argc > 1 ? argv[1] : "build/shmkit";
	double gib = argc > 2 ? atof(argv[2]) : 1.0;
	uint64_t chunks = (uint64_t)(gib * 1024 * 1024 * 1024 / MSG);
	double bytes = (double)chunks * MSG, t0, t_chan, t_pipe;
	char name[64], cmd[256];
	struct shmkit_chan_info info;
	pid_t s, r;
	int shmid, fds[2];

	snprintf(name, sizeof(name), "demo-stream-%d", (int)getpid());
	printf("shmkit demo: %.2f GiB from one process to another, every byte checked\n\n", gib);

	/* 1. through a channel: 4 MiB ring, 64 KiB messages, zero copy */
	shmid = shmkit_chan_create(name, 4 << 20, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	if (shmid < 0) {
		fprintf(stderr, "demo: %s: %s\n", name, shmkit_strerror(shmid));
		return 1;
	}
	fflush(stdout);
	t0 = now();
	if ((r = fork()) == 0)
		_exit(chan_receiver(name, chunks));
	if ((s = fork()) == 0)
		_exit(chan_sender(name, chunks));
	/* while it runs: what shmkit ls sees */
	while (shmkit_chan_info(shmid, &info) == 0 && info.sent_msgs < chunks / 8)
		usleep(1000);
	printf("$ shmkit ls   # while the stream runs\n");
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "%s ls | grep -E '^SHMID|%s'", shmkit, name);
	if (system(cmd) != 0)
		printf("(shmkit ls did not show the channel: the stream may have ended first)\n");
	if (reap(s, "channel sender") < 0 || reap(r, "channel receiver") < 0) {
		shmkit_seg_remove(shmid);
		return 1;
	}
	t_chan = now() - t0;
	shmkit_chan_info(shmid, &info);
	shmkit_seg_remove(shmid);
	printf("\nthrough a shmkit channel (zero copy, 64 KiB messages):\n"
	       "  %.2f GiB in %.3f s = %.2f GB/s, all bytes equal; sleeps: sender %llu, receiver %llu\n",
	       gib, t_chan, bytes / t_chan / 1e9, (unsigned long long)info.prod_sleeps,
	       (unsigned long long)info.cons_sleeps);
	fflush(stdout);

	/* 2. through a pipe, the same work */
	if (pipe(fds) < 0)
		return 1;
	t0 = now();
	if ((r = fork()) == 0) {
		close(fds[1]);
		_exit(pipe_receiver(fds[0], chunks));
	}
	if ((s = fork()) == 0) {
		close(fds[0]);
		_exit(pipe_sender(fds[1], chunks));
	}
	close(fds[0]);
	close(fds[1]);
	if (reap(s, "pipe sender") < 0 || reap(r, "pipe receiver") < 0)
		return 1;
	t_pipe = now() - t0;
	printf("through a pipe (64 KiB writes and reads):\n"
	       "  %.2f GiB in %.3f s = %.2f GB/s, all bytes equal\n\n",
	       gib, t_pipe, bytes / t_pipe / 1e9);
	printf("the channel moved the data %.1fx as fast as the pipe on this machine\n",
	       t_pipe / t_chan);
	return 0;
}
