/*
 * zero-copy: a producer builds messages in place in the ring, a consumer
 * reads them in place. No byte is copied by either side.
 *
 *   zero-copy [COUNT]
 *
 * Pointer lifetimes, the one thing to get right:
 *  - shmkit_chan_reserve() gives the producer a pointer into the ring. It is
 *    valid until shmkit_chan_commit() (or the next reserve, or close). The
 *    consumer cannot see those bytes before commit, so a half-built message
 *    is never read, even if the producer dies while building it.
 *  - shmkit_chan_peek() gives the consumer a pointer to the next message in
 *    the ring. It stays valid, and the producer does not write over those
 *    bytes, until shmkit_chan_release() (or close). After release, the
 *    space is the producer's again: do not keep the pointer.
 *  - The ring is shared memory: a buggy or hostile producer could change
 *    the bytes while you look at them. Copy out what you must check first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmkit.h"

struct reading {	/* what the producer builds in the ring */
	uint64_t seq;
	double celsius;
	char sensor[16];
};

static int produce(const char *name, int count)
{
	struct shmkit_chan *ch;
	void *p;
	int i, r;

	if ((r = shmkit_chan_open(name, SHMKIT_PRODUCER, &ch)) < 0)
		return fprintf(stderr, "producer: %s\n", shmkit_strerror(r)), 1;
	for (i = 0; i < count; i++) {
		if ((r = shmkit_chan_reserve(ch, sizeof(struct reading), &p, -1)) < 0)
			return fprintf(stderr, "producer: %s\n", shmkit_strerror(r)), 1;
		/* build the message right where the consumer will read it;
		 * memcpy, since a ring offset need not suit a double's alignment */
		struct reading m = { .seq = (uint64_t)i, .celsius = 20.0 + i % 7 };
		snprintf(m.sensor, sizeof(m.sensor), "probe-%d", i % 3);
		memcpy(p, &m, sizeof(m));
		shmkit_chan_commit(ch, sizeof(m));	/* now, and only now, visible */
	}
	return shmkit_chan_close(ch) < 0;	/* the consumer gets end of stream */
}

static int consume(const char *name)
{
	struct shmkit_chan *ch;
	struct reading m;
	const void *p;
	size_t len;
	int r, n = 0;
	double sum = 0;

	if ((r = shmkit_chan_open(name, SHMKIT_CONSUMER, &ch)) < 0)
		return fprintf(stderr, "consumer: %s\n", shmkit_strerror(r)), 1;
	while ((r = shmkit_chan_peek(ch, &p, &len, -1)) == 0) {
		if (len != sizeof(m))
			return fprintf(stderr, "consumer: unexpected %zu-byte message\n", len), 1;
		memcpy(&m, p, sizeof(m));	/* a private copy: see the note above */
		shmkit_chan_release(ch);	/* p is not ours any more */
		sum += m.celsius;
		if (n++ < 3)
			printf("reading %llu from %.15s: %.1f C\n", (unsigned long long)m.seq,
			       m.sensor, m.celsius);
	}
	if (r != -SHMKIT_EEOF)
		return fprintf(stderr, "consumer: %s\n", shmkit_strerror(r)), 1;
	printf("... %d readings, mean %.2f C\n", n, n ? sum / n : 0.0);
	return shmkit_chan_close(ch) < 0;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 100000, shmid, status, rc;
	char name[64];
	pid_t pid;

	snprintf(name, sizeof(name), "zero-copy-%d", (int)getpid());
	shmid = shmkit_chan_create(name, 64 * 1024, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	if (shmid < 0)
		return fprintf(stderr, "zero-copy: %s\n", shmkit_strerror(shmid)), 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(produce(name, count));
	rc = consume(name);
	waitpid(pid, &status, 0);
	shmkit_seg_remove(shmid);
	return rc || !WIFEXITED(status) || WEXITSTATUS(status);
}
