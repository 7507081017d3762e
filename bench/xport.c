#define _GNU_SOURCE	/* pipe2, F_SETPIPE_SZ */
/*
 * The transports shmkit bench compares. Each does the work a real user of
 * it would do: the sender writes every payload byte (into its own buffer,
 * or into the ring with the zero-copy API), the receiver reads every byte
 * (out of its buffer, or in place) and checks it is the message expected
 * (common/payload.h).
 *
 * Pipes and sockets carry fixed-size messages with no framing, since
 * both ends know the size; a channel frames each message itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "payload.h"
#include "shmkit.h"

char bench_why[200];

void bench_fill(void *buf, size_t len, uint64_t seq)
{
	payload_fill(buf, len, seq);
}

int bench_check(const void *buf, size_t len, uint64_t seq)
{
	size_t bad = payload_check(buf, len, seq);

	if (!bad)
		return 0;
	/* a right first word is the right message, spoilt further on; a
	 * wrong one is another message; under 8 bytes there is no telling */
	if (bad > len)
		snprintf(bench_why, sizeof(bench_why),
			 "message %llu of %zu bytes: changed while it was read",
			 (unsigned long long)seq, len);
	else if (len >= 8 && bad <= 8)
		snprintf(bench_why, sizeof(bench_why),
			 "message %llu of %zu bytes: out of sequence (it carries %llu)",
			 (unsigned long long)seq, len,
			 (unsigned long long)payload_tag(buf, len));
	else
		snprintf(bench_why, sizeof(bench_why),
			 "message %llu of %zu bytes: payload %s at byte %zu",
			 (unsigned long long)seq, len, len < 8 ? "wrong" : "torn", bad - 1);
	return -EBADMSG;
}

/* ------------------------------------------------------------ fd based */

struct bench_link {
	int fd[2];		/* pipe: read, write; socket: the pair */
	int mine;		/* this child's fd */
	size_t max;
	unsigned char *buf;
	/* channels */
	char name[64];
	int shmid;
	int policy;
	int zero_copy;
	struct shmkit_chan *ch;
};

static int fd_make(struct bench_link **out, size_t max, int socket, int pipe_size)
{
	struct bench_link *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	l->max = max;
	if (socket)
		err = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->fd);
	else
		err = pipe2(l->fd, O_CLOEXEC);
	if (err < 0) {
		err = -errno;
		free(l);
		return err;
	}
	if (pipe_size && fcntl(l->fd[1], F_SETPIPE_SZ, pipe_size) < 0) {
		err = -errno;
		close(l->fd[0]);
		close(l->fd[1]);
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

static int pipe_make(struct bench_link **l, size_t max, int policy, size_t ring)
{
	(void)policy, (void)ring;
	return fd_make(l, max, 0, 0);
}

static int pipe1m_make(struct bench_link **l, size_t max, int policy, size_t ring)
{
	(void)policy, (void)ring;
	return fd_make(l, max, 0, 1 << 20);
}

static int unix_make(struct bench_link **l, size_t max, int policy, size_t ring)
{
	(void)policy, (void)ring;
	return fd_make(l, max, 1, 0);
}

static int fd_open(struct bench_link *l, int sender)
{
	/* keep only our end, so the other's exit is seen as EOF or EPIPE */
	l->mine = l->fd[sender ? 1 : 0];
	close(l->fd[sender ? 0 : 1]);
	l->buf = malloc(l->max ? l->max : 1);
	return l->buf ? 0 : -ENOMEM;
}

static void fd_opened(struct bench_link *l)
{
	(void)l;
}

static int fd_send(struct bench_link *l, uint64_t seq, size_t len)
{
	size_t done = 0;
	ssize_t n;

	bench_fill(l->buf, len, seq);
	while (done < len) {
		n = write(l->mine, l->buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

static int fd_recv(struct bench_link *l, uint64_t seq, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(l->mine, l->buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		done += (size_t)n;
	}
	return bench_check(l->buf, len, seq);
}

static int fd_counts(struct bench_link *l, struct bench_counts *c)
{
	(void)l, (void)c;
	return -1;
}

static void fd_close(struct bench_link *l, int sender)
{
	(void)sender;
	close(l->mine);
	free(l->buf);
}

static void fd_destroy(struct bench_link *l)
{
	close(l->fd[0]);
	close(l->fd[1]);
	free(l);
}

/* ------------------------------------------------------------ channels */

#define CHAN_TIMEOUT_MS 10000	/* a stuck run fails instead of hanging */

static int chan_make_common(struct bench_link **out, size_t max, int policy, size_t ring,
			    int zc)
{
	static unsigned serial;
	struct bench_link *l = calloc(1, sizeof(*l));
	/* the largest message is half the ring */
	size_t cap = max * 2 > ring ? max * 2 : ring;
	int shmid;

	if (!l)
		return -ENOMEM;
	snprintf(l->name, sizeof(l->name), "shmkit-bench.%d.%u", (int)getpid(), serial++);
	shmid = shmkit_chan_create(l->name, cap, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	if (shmid < 0) {
		free(l);
		return shmid;
	}
	l->shmid = shmid;
	l->max = max;
	l->policy = policy;
	l->zero_copy = zc;
	*out = l;
	return 0;
}

static int chan_make(struct bench_link **l, size_t max, int policy, size_t ring)
{
	return chan_make_common(l, max, policy, ring, 0);
}

static int chanzc_make(struct bench_link **l, size_t max, int policy, size_t ring)
{
	return chan_make_common(l, max, policy, ring, 1);
}

static int chan_open(struct bench_link *l, int sender)
{
	int err = shmkit_chan_open(l->name, sender ? SHMKIT_PRODUCER : SHMKIT_CONSUMER, &l->ch);

	if (err < 0)
		return err;
	shmkit_chan_set_wait(l->ch, l->policy);
	if (!l->zero_copy && !(l->buf = malloc(l->max ? l->max : 1))) {
		shmkit_chan_close(l->ch);
		return -ENOMEM;
	}
	return 0;
}

static void chan_opened(struct bench_link *l)
{
	/* both sides are attached: the kernel frees it when they detach,
	 * however the run ends */
	shmkit_seg_remove(l->shmid);
}

static int chan_send(struct bench_link *l, uint64_t seq, size_t len)
{
	void *p;
	int err;

	if (!l->zero_copy) {
		bench_fill(l->buf, len, seq);
		return shmkit_chan_send(l->ch, l->buf, len, CHAN_TIMEOUT_MS);
	}
	if ((err = shmkit_chan_reserve(l->ch, len, &p, CHAN_TIMEOUT_MS)) < 0)
		return err;
	bench_fill(p, len, seq);
	return shmkit_chan_commit(l->ch, len);
}

static int chan_recv(struct bench_link *l, uint64_t seq, size_t len)
{
	const void *p;
	size_t n;
	int err;

	if (!l->zero_copy) {
		if ((err = shmkit_chan_recv(l->ch, l->buf, l->max, &n, CHAN_TIMEOUT_MS)) < 0)
			return err;
		p = l->buf;
	} else if ((err = shmkit_chan_peek(l->ch, &p, &n, CHAN_TIMEOUT_MS)) < 0) {
		return err;
	}
	if (n != len) {
		snprintf(bench_why, sizeof(bench_why), "message %llu: %zu bytes, expected %zu",
			 (unsigned long long)seq, n, len);
		return -EBADMSG;
	}
	if ((err = bench_check(p, len, seq)) < 0)
		return err;
	return l->zero_copy ? shmkit_chan_release(l->ch) : 0;
}

/* By shmid: it works after chan_opened removed the name, while attached. */
static int chan_counts(struct bench_link *l, struct bench_counts *c)
{
	struct shmkit_chan_info info;

	if (shmkit_chan_info(l->shmid, &info) < 0)
		return -1;
	c->ring = info.capacity;
	c->sleeps[0] = info.prod_sleeps;
	c->sleeps[1] = info.cons_sleeps;
	c->wakes[0] = info.prod_wakes;
	c->wakes[1] = info.cons_wakes;
	c->yields[0] = info.prod_yields;
	c->yields[1] = info.cons_yields;
	c->wait_ns[0] = info.prod_wait_ns;
	c->wait_ns[1] = info.cons_wait_ns;
	return 0;
}

static void chan_close(struct bench_link *l, int sender)
{
	(void)sender;
	shmkit_chan_close(l->ch);
	free(l->buf);
}

static void chan_destroy(struct bench_link *l)
{
	/* again, for runs that failed before both sides opened */
	shmkit_seg_remove(l->shmid);
	free(l);
}

/* ------------------------------------------------------------ the table */

static const struct bench_xport xport_chan = {
	"shmkit", "shmkit (copy)", 1, 1,
	chan_make, chan_open, chan_opened, chan_send, chan_recv, chan_counts,
	chan_close, chan_destroy,
};

static const struct bench_xport xport_chanzc = {
	"shmkit-zc", "shmkit (zero-copy)", 1, 1,
	chanzc_make, chan_open, chan_opened, chan_send, chan_recv, chan_counts,
	chan_close, chan_destroy,
};

static const struct bench_xport xport_pipe = {
	"pipe", "pipe", 0, 0,
	pipe_make, fd_open, fd_opened, fd_send, fd_recv, fd_counts, fd_close, fd_destroy,
};

static const struct bench_xport xport_pipe1m = {
	"pipe-1m", "pipe (1 MiB)", 0, 0,
	pipe1m_make, fd_open, fd_opened, fd_send, fd_recv, fd_counts, fd_close, fd_destroy,
};

static const struct bench_xport xport_unix = {
	"unix", "UNIX socket", 0, 0,
	unix_make, fd_open, fd_opened, fd_send, fd_recv, fd_counts, fd_close, fd_destroy,
};

/* The order of tables and plots; the pipe is every ratio's baseline, and
 * the limit sits under the channels it is the ceiling of. */
const struct bench_xport *const bench_xports[] = {
	&xport_chan, &xport_chanzc, &bench_xport_limit, &xport_pipe, &xport_pipe1m,
	&xport_unix, NULL,
};
