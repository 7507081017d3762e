/*
 * A consumer that reads ahead (shmkit_chan_peek_ahead): holding several
 * messages, releasing the oldest first, across pads and wrap-around;
 * the room held messages keep; the end of a stream with messages held;
 * a successor that gets back what a closed or killed consumer held; a
 * held record scribbled on; and a producer and a reading-ahead consumer
 * in two processes, the consumer killed and replaced again and again.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"

#define MAX_HELD 64

static void open_pair(const char *name, size_t cap, struct shmkit_chan **p,
		      struct shmkit_chan **c)
{
	T_OK(t_track(shmkit_chan_create(name, cap, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, p));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, c));
}

/* Message i's size: 8 to 1200 bytes, so that pads come often in 4 KiB. */
static size_t size_of(uint64_t i)
{
	return 8 + (size_t)((i * 2654435761u) % 1193);
}

static int send_one(struct shmkit_chan *p, uint64_t i, int timeout_ms)
{
	size_t len = size_of(i);
	void *w;
	int r;

	if ((r = shmkit_chan_reserve(p, len, &w, timeout_ms)) < 0)
		return r;
	payload_fill(w, len, i);
	return shmkit_chan_commit(p, len);
}

/*
 * One process, both sides, in a random order: the consumer peeks ahead a
 * random number of messages and releases a random number of the oldest,
 * checking each against the order they were sent in. Every record ends
 * up read where it lies, pads in between included (4 KiB ring, messages
 * of up to 1200 bytes).
 */
static void random_walk(void)
{
	char name[64];
	struct shmkit_chan *p, *c;
	uint64_t sent = 0, taken = 0, released = 0, off, last_end = 0;
	const void *ptr;
	size_t len;
	unsigned seed = 7;
	int r, k;

	t_name(name, sizeof(name), "walk");
	open_pair(name, 4096, &p, &c);
	while (released < 20000) {
		k = rand_r(&seed) % 4;
		if (k == 0) {
			r = send_one(p, sent, 0);
			if (r == 0)
				sent++;
			else
				T_EQ(r, -EAGAIN);
		} else if (k == 1 || k == 2) {
			r = shmkit_chan_peek_ahead(c, &ptr, &len, &off, 0);
			if (taken == sent) {
				T_EQ(r, -EAGAIN);
				continue;
			}
			T_OK(r);
			/* the offset: after the last record, a pad perhaps between */
			T_ASSERT(off >= last_end && off - last_end < 4096);
			last_end = off + 8 + (len + 7) / 8 * 8;
			T_EQ(len, size_of(taken));
			T_PAYLOAD(ptr, len, taken);
			T_EQ((uintptr_t)ptr % 8, 0);
			taken++;
		} else {
			r = shmkit_chan_release(c);
			if (taken == released) {
				T_EQ(r, -EINVAL);
				continue;
			}
			T_OK(r);
			released++;
			/* peek gives the oldest still held, at once */
			if (taken > released) {
				T_OK(shmkit_chan_peek(c, &ptr, &len, 0));
				T_EQ(len, size_of(released));
				T_PAYLOAD(ptr, len, released);
			}
		}
	}
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
}

/* Held messages keep their room; EEOF with messages held; release them. */
static void room_and_end(void)
{
	char name[64];
	struct shmkit_chan *p, *c;
	struct shmkit_chan_info info;
	const void *ptr, *first = NULL;
	size_t len;
	uint64_t n = 0, i;
	int id;

	t_name(name, sizeof(name), "room");
	open_pair(name, 4096, &p, &c);
	/* fill the ring, then hold everything in it */
	while (send_one(p, n, 0) == 0)
		n++;
	T_ASSERT(n >= 3);
	for (i = 0; i < n; i++) {
		T_OK(shmkit_chan_peek_ahead(c, &ptr, &len, NULL, 0));
		T_PAYLOAD(ptr, len, i);
		if (i == 0)
			first = ptr;
	}
	T_EQ(shmkit_chan_peek_ahead(c, &ptr, &len, NULL, 0), -EAGAIN);
	/* holding is not releasing: the producer still has no room */
	T_EQ(send_one(p, n, 0), -EAGAIN);
	T_OK(shmkit_chan_peek(c, &ptr, &len, 0));
	T_ASSERT(ptr == first);
	/* the producer closes: nothing beyond what is held, but all of it stays */
	T_OK(shmkit_chan_close(p));
	T_EQ(shmkit_chan_peek_ahead(c, &ptr, &len, NULL, 0), -SHMKIT_EEOF);
	for (i = 0; i < n; i++) {
		T_OK(shmkit_chan_peek(c, &ptr, &len, 0));
		T_PAYLOAD(ptr, len, i);
		T_OK(shmkit_chan_release(c));
	}
	T_EQ(shmkit_chan_release(c), -EINVAL);
	T_EQ(shmkit_chan_peek(c, &ptr, &len, 0), -SHMKIT_EEOF);
	id = shmkit_seg_open(&(struct shmkit_ref){ .kind = SHMKIT_REF_NAME, .name = name });
	T_OK(id);
	T_OK(shmkit_chan_info(id, &info));
	T_EQ(info.recv_msgs, n);	/* counted at release, once each */
	T_OK(shmkit_chan_close(c));
	/* the argument checks */
	T_EQ(shmkit_chan_peek_ahead(NULL, &ptr, &len, NULL, 0), -EINVAL);
}

/* A consumer that closes holding three leaves them to the next, in order. */
static void successor(void)
{
	char name[64];
	struct shmkit_chan *p, *c;
	const void *ptr;
	size_t len;
	uint64_t i, off, offs[6];

	t_name(name, sizeof(name), "succ");
	open_pair(name, 1 << 16, &p, &c);
	for (i = 0; i < 6; i++)
		T_OK(send_one(p, i, 0));
	for (i = 0; i < 5; i++)
		T_OK(shmkit_chan_peek_ahead(c, &ptr, &len, &offs[i], 0));
	T_OK(shmkit_chan_release(c));
	T_OK(shmkit_chan_release(c));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &c));
	for (i = 2; i < 6; i++) {
		T_OK(shmkit_chan_peek_ahead(c, &ptr, &len, &off, 0));
		T_PAYLOAD(ptr, len, i);
		/* the same message, the same offset, whoever reads it */
		if (i < 5)
			T_EQ(off, offs[i]);
	}
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_close(p));
}

/*
 * A held record's header overwritten by someone else: the release that
 * would make it the oldest says -SHMKIT_ECORRUPT, and nothing reads
 * outside the ring.
 */
static void scribbled(void)
{
	char name[64];
	struct shmkit_chan *p, *c;
	const void *ptr, *second, *ring;
	size_t len, ring_len;
	uint64_t bad = (uint64_t)SHMKIT_REC_MARK << 32 | 0x7fffffffu;

	t_name(name, sizeof(name), "scrib");
	open_pair(name, 4096, &p, &c);
	T_OK(send_one(p, 0, 0));
	T_OK(send_one(p, 1, 0));
	T_OK(shmkit_chan_peek_ahead(c, &ptr, &len, NULL, 0));
	T_OK(shmkit_chan_peek_ahead(c, &second, &len, NULL, 0));
	__shmkit_chan_ring(c, &ring, &ring_len);
	T_ASSERT((const char *)second > (const char *)ring &&
		 (const char *)second < (const char *)ring + ring_len);
	memcpy((char *)second - sizeof(struct __shmkit_rec), &bad, sizeof(bad));
	T_EQ(shmkit_chan_release(c), -SHMKIT_ECORRUPT);
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_close(p));
}

/* Shared between the parent and its children. */
struct shared {
	_Atomic uint64_t released;	/* messages a consumer released, in total */
	_Atomic uint64_t uncounted;	/* released, but killed before counting it */
	_Atomic uint64_t again;		/* messages taken again by a successor */
	_Atomic uint64_t offset[];	/* message i's offset + 1, once taken */
};

#define STREAM_N 2000000

/*
 * A consumer child: reads ahead up to a random window, checks every
 * message in order from where the last one left, releases the oldest
 * when the window is full. Exits 0 at the end of the stream.
 */
static void consumer(const char *name, struct shared *sh, unsigned seed)
{
	struct shmkit_chan *c;
	const void *ptr;
	size_t len;
	uint64_t next, held = 0, window = 1 + rand_r(&seed) % MAX_HELD, off, had;
	int r, first = 1;

	T_OK(shmkit_chan_open_wait(name, SHMKIT_CONSUMER, 10000, &c));
	next = atomic_load(&sh->released);
	for (;;) {
		if (held < window) {
			/* holding, do not wait: the producer may need that room */
			r = shmkit_chan_peek_ahead(c, &ptr, &len, &off, held ? 0 : 10000);
			if (r == -SHMKIT_EEOF)
				break;
			if (r == -EAGAIN && held)
				goto release;
			T_OK(r);
			/* a killed predecessor may have released a message
			   and died before counting it: it never comes again */
			if (first && len == size_of(next + 1) &&
			    !payload_check(ptr, len, next + 1)) {
				atomic_fetch_add(&sh->uncounted, 1);
				next++;
				/* counted now: killed before its own first
				   count, this one must not leave it two behind */
				atomic_store(&sh->released, next);
			}
			first = 0;
			T_EQ(len, size_of(next + held));
			T_PAYLOAD(ptr, len, next + held);
			had = atomic_exchange(&sh->offset[next + held], off + 1);
			if (had) {
				T_EQ(had, off + 1);
				atomic_fetch_add(&sh->again, 1);
			}
			held++;
			continue;
		}
release:
		T_OK(shmkit_chan_release(c));
		held--;
		next++;
		atomic_store(&sh->released, next);
	}
	while (held--) {
		T_OK(shmkit_chan_release(c));
		atomic_store(&sh->released, ++next);
	}
	T_EQ(next, STREAM_N);
	T_OK(shmkit_chan_close(c));
	_exit(0);
}

static void killed_consumers(void)
{
	char name[64];
	struct shared *sh;
	struct shmkit_chan *p;
	pid_t prod, cons;
	int status, kills = 0;
	unsigned seed = 11;

	size_t size = sizeof(*sh) + STREAM_N * sizeof(sh->offset[0]);

	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	t_name(name, sizeof(name), "kill");
	T_OK(t_track(shmkit_chan_create(name, 1 << 14, SHMKIT_MODE_DEFAULT, 0)));
	prod = t_child();
	T_ASSERT(prod >= 0);
	if (prod == 0) {
		T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, &p));
		for (uint64_t i = 0; i < STREAM_N; i++) {
			int r;

			/* a killed consumer: wait for the next one */
			while ((r = send_one(p, i, 30000)) == -SHMKIT_EPEERDEAD)
				usleep(100);
			T_OK(r);
		}
		T_OK(shmkit_chan_close(p));
		_exit(0);
	}
	for (;;) {
		unsigned s = rand_r(&seed);

		cons = t_child();
		T_ASSERT(cons >= 0);
		if (cons == 0)
			consumer(name, sh, s);
		if (kills < 20) {
			usleep(500 + s % 4000);
			if (kill(cons, SIGKILL) == 0)
				kills++;
		}
		T_EQ(waitpid(cons, &status, 0), cons);
		if (WIFEXITED(status)) {
			T_EQ(WEXITSTATUS(status), 0);
			break;
		}
		T_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	T_EQ(waitpid(prod, &status, 0), prod);
	T_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_EQ(atomic_load(&sh->released), STREAM_N);
	printf("killed_consumers: %d kills; %llu taken again, at the same offsets; "
	       "%llu killed between a release and its count\n", kills,
	       (unsigned long long)atomic_load(&sh->again),
	       (unsigned long long)atomic_load(&sh->uncounted));
	for (uint64_t i = 0; i < STREAM_N; i++)
		T_ASSERT(atomic_load(&sh->offset[i]) > (i ? atomic_load(&sh->offset[i - 1]) : 0));
	T_ASSERT(kills > 0 && atomic_load(&sh->uncounted) <= (uint64_t)kills);
	munmap(sh, size);
}

int main(void)
{
	random_walk();
	room_and_end();
	successor();
	scribbled();
	killed_consumers();
	return 0;
}
