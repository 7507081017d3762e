/*
 * Never trust the segment. First the crafted corruptions of a channel's
 * header and ring (tests/corrupt_cases.c), each with the clean error it
 * must give. Then a scribbler writes random bytes over the header and the
 * ring, thousands of times, while a producer and a consumer keep working:
 * every call must return (within its timeout and a margin), every pointer
 * handed out must lie inside the ring, and neither side may crash.
 */
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "corrupt_cases.h"
#include "harness.h"
#include "header.h"

#define CAP 4096

/* The channel header of a raw mapping of the segment. */
static struct __shmkit_chan_hdr *hdr_of(void *base)
{
	return (struct __shmkit_chan_hdr *)((char *)base + SHMKIT_HDR_SIZE);
}

#define CALL_MS 50		/* every call's timeout */
#define MARGIN_MS 2000		/* what a loaded machine may add */

struct worker {
	const char *name;
	int producer;
	unsigned rounds;
};

static void check_span(struct shmkit_chan *ch, const void *p, size_t len)
{
	const void *start;
	size_t cap;

	__shmkit_chan_ring(ch, &start, &cap);
	if ((const char *)p < (const char *)start ||
	    (const char *)p + len > (const char *)start + cap || len > cap / 2)
		t_fail(__FILE__, __LINE__, "span %p+%zu outside the ring %p+%zu", p, len, start, cap);
}

/* Works the channel through whatever the scribbler does; reopens when its
 * handle reports the state as corrupt (a fresh open checks again). */
static int work(void *arg)
{
	struct worker *w = arg;
	struct shmkit_chan *ch = NULL;
	unsigned char buf[CAP];
	unsigned i, ok = 0, corrupt = 0, other = 0;
	int r;

	alarm(t_scale(120) > 120 ? (unsigned)t_scale(120) : 120);
	for (i = 0; i < w->rounds; i++) {
		uint64_t t0 = t_now_ns() / 1000000u, took;
		size_t len = (size_t)(t_rand() % (CAP / 2 + 64));
		void *wp;
		const void *rp;

		if (!ch) {
			r = shmkit_chan_open(w->name, w->producer ? SHMKIT_PRODUCER : SHMKIT_CONSUMER, &ch);
			if (r < 0) {
				ch = NULL;
				usleep(200);
				continue;
			}
		}
		if (w->producer && (i & 1)) {
			r = shmkit_chan_reserve(ch, len, &wp, CALL_MS);
			if (r == 0) {
				check_span(ch, wp, len);
				memset(wp, 0xa5, len);
				r = shmkit_chan_commit(ch, len / 2);
			}
		} else if (w->producer) {
			r = shmkit_chan_send(ch, buf, len, CALL_MS);
		} else if (i & 1) {
			r = shmkit_chan_peek(ch, &rp, &len, CALL_MS);
			if (r == 0) {
				check_span(ch, rp, len);
				memcpy(buf, rp, len);
				r = shmkit_chan_release(ch);
			}
		} else {
			r = shmkit_chan_recv(ch, buf, sizeof(buf), &len, CALL_MS);
			if (r == 0 && len > CAP / 2)
				t_fail(__FILE__, __LINE__, "received %zu bytes from a %d ring", len, CAP);
		}
		took = t_now_ns() / 1000000u - t0;
		if (took > 2 * CALL_MS + MARGIN_MS)
			t_fail(__FILE__, __LINE__, "a call took %llu ms (timeout %d)",
			       (unsigned long long)took, CALL_MS);
		ok += r == 0;
		corrupt += r == -SHMKIT_ECORRUPT;
		other += r != 0 && r != -SHMKIT_ECORRUPT;
		switch (r) {
		case 0: case -EAGAIN: case -ETIMEDOUT: case -EMSGSIZE:
			break;
		case -EPIPE: case -SHMKIT_EEOF: case -SHMKIT_EPEERDEAD:
		case -SHMKIT_EABORTED:
			/*
			 * A scribbled owner word reads as a closed or dead
			 * peer (with a scribbled 'closed' word, one that
			 * aborted), and stays so: start over like a user
			 * would, or the side idles out its rounds on this
			 * error.
			 */
		case -SHMKIT_ECORRUPT:
			shmkit_chan_close(ch);
			ch = NULL;
			break;
		default:
			t_fail(__FILE__, __LINE__, "unexpected result %d: %s", r, shmkit_strerror(r));
		}
	}
	if (ch)
		shmkit_chan_close(ch);
	/* the point is calls on a live channel, not failed opens */
	if (ok == 0)
		t_fail(__FILE__, __LINE__, "%s: no call ever succeeded", w->producer ? "producer" : "consumer");
	printf("%s: %u calls succeeded, %u saw corruption, %u other errors\n",
	       w->producer ? "producer" : "consumer", ok, corrupt, other);
	fflush(stdout);
	return 0;
}

/* Has pid exited? Asks without reaping it (t_wait does that). */
static int exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

static void scribble(void)
{
	char name[64];
	struct worker prod, cons;
	unsigned char *raw;
	pid_t p, c;
	int shmid, n;
	/*
	 * Not fewer than 2,000 rounds, even scaled down for valgrind: with
	 * 200, one slow run saw a side never complete a call.
	 */
	unsigned rounds = (unsigned)t_scale(100000), i;

	if (rounds < 2000)
		rounds = 2000;

	t_name(name, sizeof(name), "scribble");
	shmid = t_track(shmkit_chan_create(name, CAP, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmid);
	raw = shmat(shmid, NULL, 0);
	T_ASSERT(raw != (void *)-1);
	prod = (struct worker){ name, 1, rounds };
	cons = (struct worker){ name, 0, rounds };
	p = t_fork(work, &prod);
	c = t_fork(work, &cons);
	/*
	 * Random bytes over the channel's shared state (positions, owners,
	 * sleep words, counters) and the ring. The layout line is left alone:
	 * open checks it and copies it (the crafted cases cover that), so
	 * scribbling it would only keep every open failing. Now and then the
	 * scribbler makes the positions agree again, like a repair, so the
	 * sides get back to work and meet the next scribbles mid-stream.
	 */
	struct __shmkit_chan_hdr *h = hdr_of(raw);
	size_t first = SHMKIT_HDR_SIZE + offsetof(struct __shmkit_chan_hdr, hot);
	size_t span = SHMKIT_CHAN_RING_OFFSET + CAP - first;
	for (i = 0, n = 0; ; i++) {
		size_t off = first + (size_t)(t_rand() % span);
		size_t len = 1 + (size_t)(t_rand() % 8);
		if (off + len > SHMKIT_CHAN_RING_OFFSET + CAP)
			len = SHMKIT_CHAN_RING_OFFSET + CAP - off;
		for (size_t k = 0; k < len; k++)
			raw[off + k] = (unsigned char)t_rand();
		n++;
		if (i % 16)
			continue;
		usleep(20);
		if (i % 256 == 0) {
			uint64_t tail = atomic_load(&h->hot[__SHMKIT_SIDE_PROD].pos) & ~7ull;
			atomic_store(&h->hot[__SHMKIT_SIDE_PROD].pos, tail);
			atomic_store(&h->hot[__SHMKIT_SIDE_CONS].pos, tail);
		}
		if (exited(p) && exited(c))
			break;
	}
	shmdt(raw);
	printf("%d scribbles over %u rounds per side\n", n, rounds);
	/* whatever the scribbles did, the sides end on their own */
	T_EQ(t_wait(p), 0);
	T_EQ(t_wait(c), 0);
	T_OK(shmkit_seg_remove(shmid));
}

int main(void)
{
	printf("%u crafted corruptions: clean errors\n", corrupt_cases_run());
	scribble();
	return 0;
}
