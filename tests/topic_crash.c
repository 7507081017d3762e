/*
 * Topic crashes: a publisher and two subscribers stream, and one of them
 * (the publisher or the first subscriber) is killed with SIGKILL at a
 * random moment, trial after trial, under both policies.
 *
 *  - No process hangs: every wait has a timeout, and the parent gives a
 *    trial 20 s.
 *  - No message is ever torn, repeated or out of order (tags carry the
 *    publisher's epoch and its sequence).
 *  - A killed publisher: the subscribers read what it published whole,
 *    then a new publisher takes its place and they read on to its end of
 *    stream. Under block policy each survivor got every message published
 *    after it joined; under overwrite, got + lost is that number.
 *  - A killed subscriber: a block-policy publisher is held back at most
 *    until its next check for the dead, and the other subscriber gets
 *    every message.
 *
 * 100 trials in make check; SHMKIT_TEST_SCALE=10 (make stress) for 1,000.
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
#include <unistd.h>

#include "harness.h"
#include "topic.h"

#define SUBS 2
#define AFTER 500		/* messages a restarted publisher sends, then closes */
#define FIRST_MAX 3000		/* the first publisher stops here if not killed */

struct shared {
	_Atomic int joined;
	_Atomic uint64_t got[SUBS], lost[SUBS];
	_Atomic int status[SUBS];	/* 0 running, 1 done, else the failure */
};

static struct shared *sh;

static size_t size_of(uint64_t tag)
{
	return 8 + (size_t)((tag * 2654435761u) >> 9) % 249;
}

/* Sends from tag epoch << 32 on, up to n messages, then closes (n == 0: until killed). */
static _Noreturn void publisher(const char *name, uint64_t epoch, uint64_t n)
{
	struct shmkit_pub *p;
	unsigned char buf[256];
	int r;

	while ((r = shmkit_pub_open(name, 0, &p)) == -EBUSY)
		usleep(1000);	/* the dead one is still seen alive for a moment */
	if (r < 0)
		_exit(30);
	for (uint64_t i = 0; !n || i < n; i++) {
		uint64_t tag = epoch << 32 | i;
		size_t len = size_of(tag);

		payload_fill(buf, len, tag);
		if (shmkit_pub_send(p, buf, len, 10000) < 0)
			_exit(31);
	}
	shmkit_pub_close(p);
	_exit(0);
}

static _Noreturn void subscriber(const char *name, int k)
{
	struct shmkit_sub *s;
	unsigned char buf[256];
	uint64_t last = 0, got = 0;
	size_t len;
	int r, first = 1;

	if (shmkit_sub_open(name, 0, &s) < 0)
		_exit(40);
	atomic_fetch_add(&sh->joined, 1);
	for (;;) {
		r = shmkit_sub_recv(s, buf, sizeof(buf), &len, 10000);
		if (r == -SHMKIT_EEOF)
			break;
		if (r == -SHMKIT_ELOST || r == -SHMKIT_EPEERDEAD) {
			/* a dead publisher: its successor comes; poll for it */
			if (r == -SHMKIT_EPEERDEAD)
				usleep(500);
			continue;
		}
		if (r < 0) {
			atomic_store(&sh->status[k], 41);
			_exit(41);
		}
		if (len < 8 || payload_check(buf, len, payload_tag(buf, len)) ||
		    len != size_of(payload_tag(buf, len))) {
			atomic_store(&sh->status[k], 42);	/* torn */
			_exit(42);
		}
		if (!first && payload_tag(buf, len) <= last) {
			atomic_store(&sh->status[k], 43);	/* repeated or reordered */
			_exit(43);
		}
		first = 0;
		last = payload_tag(buf, len);
		atomic_store(&sh->got[k], ++got);
	}
	atomic_store(&sh->lost[k], shmkit_sub_lost(s));
	atomic_store(&sh->status[k], 1);
	shmkit_sub_close(s);
	_exit(0);
}

static uint64_t published(const char *name)
{
	struct shmkit_map map;
	struct shmkit_ref ref = t_name_ref(name);
	uint64_t n;
	int id = shmkit_seg_open(&ref);

	T_OK(id);
	T_OK(shmkit_seg_attach(id, SHMKIT_RDONLY, &map));
	n = atomic_load(&((struct __shmkit_topic_hdr *)map.data)->published);
	T_OK(shmkit_seg_detach(&map));
	return n;
}

static int reap(pid_t pid, int limit_ms)
{
	int st;

	for (int i = 0; i < limit_ms; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		T_ASSERT(r >= 0);
		if (r == pid)
			return st;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	t_fail(__FILE__, __LINE__, "process %d hung", (int)pid);
}

static void trial(int t, int policy, int kill_publisher)
{
	struct shmkit_topic_params tp = { .max_msg = 256, .slots = 16, .max_subs = 4,
					  .history = 0, .policy = policy };
	char name[64];
	pid_t pub, subs[SUBS], next;
	uint64_t total;
	int st;

	memset(sh, 0, sizeof(*sh));
	t_name(name, sizeof(name), "crash");
	T_OK(t_track(shmkit_topic_create(name, &tp, SHMKIT_MODE_DEFAULT, 0)));
	for (int k = 0; k < SUBS; k++)
		if ((subs[k] = t_child()) == 0)
			subscriber(name, k);
	while (atomic_load(&sh->joined) < SUBS)
		usleep(200);
	if ((pub = t_child()) == 0)
		publisher(name, 1, kill_publisher ? 0 : FIRST_MAX);
	usleep((useconds_t)(t_rand() % 3000));
	if (kill_publisher) {
		T_OK(kill(pub, SIGKILL));
		reap(pub, 20000);
		if ((next = t_child()) == 0)
			publisher(name, 2, AFTER);
		st = reap(next, 20000);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	} else {
		T_OK(kill(subs[0], SIGKILL));
		reap(subs[0], 20000);
		st = reap(pub, 20000);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	total = published(name);
	for (int k = kill_publisher ? 0 : 1; k < SUBS; k++) {
		st = reap(subs[k], 20000);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			t_fail(__FILE__, __LINE__, "trial %d (%s, %s killed): subscriber %d exit %d",
			       t, policy == SHMKIT_TOPIC_BLOCK ? "block" : "overwrite",
			       kill_publisher ? "publisher" : "subscriber", k,
			       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		if (policy == SHMKIT_TOPIC_BLOCK)
			T_EQ(atomic_load(&sh->got[k]), total);
		else
			T_EQ(atomic_load(&sh->got[k]) + atomic_load(&sh->lost[k]), total);
	}
	T_OK(shmkit_topic_destroy(name));
}

int main(void)
{
	int trials = (int)t_scale(100);

	if (trials < 8)
		trials = 8;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	for (int t = 0; t < trials; t++)
		trial(t, t % 4 < 2 ? SHMKIT_TOPIC_BLOCK : SHMKIT_TOPIC_OVERWRITE, t % 2);
	printf("%d trials: publisher or subscriber killed at random, block and overwrite\n",
	       trials);
	return 0;
}
