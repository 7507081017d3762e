/*
 * A wait set's file descriptor, both ways it is made (io_uring, where the
 * kernel allows it, and the watcher thread): quiet until armed, readable
 * once a member's peer publishes, quiet again after the wait; arm finds
 * what is ready already and keeps it for the next wait; nothing is
 * announced, and no peer makes a system call, while the set is not armed;
 * a full set of 128; an epoll loop serving a channel and a socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"
#include "waitset.h"

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	T_ASSERT(r >= 0);
	return r == 1 && (p.revents & POLLIN);
}

static void open_pair(const char *name, struct shmkit_chan **p, struct shmkit_chan **c)
{
	T_OK(t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, p));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, c));
}

struct late {
	char name[64];
	int delay_us;
	int count;
	int ready[2];	/* written once the producer side is open, if ready[1] > 0 */
};

static int send_late(void *arg)
{
	struct late *l = arg;
	struct shmkit_chan *p;

	if (shmkit_chan_open(l->name, SHMKIT_PRODUCER, &p) < 0)
		return 1;
	if (l->ready[1] > 0 && write(l->ready[1], "o", 1) != 1)
		return 4;
	for (int i = 0; i < l->count; i++) {
		usleep((useconds_t)l->delay_us);
		if (shmkit_chan_send(p, "late", 4, -1) < 0)
			return 2;
	}
	return shmkit_chan_close(p) < 0 ? 3 : 0;
}

static void basics(int thread)
{
	struct shmkit_waitset *ws;
	struct shmkit_event ev[4];
	struct shmkit_chan *p, *c;
	struct shmkit_chan_info info;
	char name[64], buf[64];
	size_t len;
	int fd, id;
	uint64_t sleeps;

	__shmkit_waitset_thread_fd = thread;
	T_OK(shmkit_waitset_new(&ws));
	T_EQ(shmkit_waitset_arm(ws), -EINVAL);		/* no descriptor yet */
	fd = shmkit_waitset_fd(ws);
	T_OK(fd);
	if (!thread && strcmp(__shmkit_waitset_fd_kind(ws), "io_uring") != 0) {
		printf("io_uring: not here (%s instead): its half skipped\n",
		       __shmkit_waitset_fd_kind(ws));
		T_OK(shmkit_waitset_free(ws));
		return;
	}
	T_ASSERT(strcmp(__shmkit_waitset_fd_kind(ws), thread ? "thread" : "io_uring") == 0);
	T_EQ(shmkit_waitset_fd(ws), fd);
	T_EQ(shmkit_waitset_arm(ws), 0);		/* empty: armed, and quiet */
	T_ASSERT(!readable(fd, 20));

	t_name(name, sizeof(name), "wsfd");
	open_pair(name, &p, &c);
	id = shmkit_seg_open(&(struct shmkit_ref){ .kind = SHMKIT_REF_NAME, .name = name });
	T_OK(shmkit_waitset_add_chan(ws, c, 0, c));

	/* busy, never armed: no sleep announced, no wake called */
	for (int i = 0; i < 1000; i++) {
		T_OK(shmkit_chan_send(p, "m", 1, 0));
		T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), 1);
		T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	}
	T_OK(shmkit_chan_info(id, &info));
	T_EQ(info.cons_sleeps, 0);
	T_EQ(info.prod_wakes, 0);

	/* armed and idle: quiet; a publish makes it readable; the wait quiets it */
	for (int round = 0; round < 3; round++) {
		T_EQ(shmkit_waitset_arm(ws), 0);
		T_ASSERT(!readable(fd, 10));
		T_OK(shmkit_chan_send(p, "w", 1, 0));
		T_ASSERT(readable(fd, 10000));
		T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), 1);
		T_ASSERT(ev[0].udata == c);
		T_ASSERT(!readable(fd, 0));
		T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	}
	T_OK(shmkit_chan_info(id, &info));
	sleeps = info.cons_sleeps;
	T_EQ(sleeps, 3);			/* one announcement per arm */
	T_EQ(info.prod_wakes, 3);

	/* ready before the arm: arm says so, the wait gives it, nothing armed */
	T_OK(shmkit_chan_send(p, "r", 1, 0));
	T_EQ(shmkit_waitset_arm(ws), 1);
	T_ASSERT(!readable(fd, 0));
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), 1);
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));

	/* armed, then the member removed: its kept event goes with it */
	T_OK(shmkit_chan_send(p, "d", 1, 0));
	T_EQ(shmkit_waitset_arm(ws), 1);
	T_OK(shmkit_waitset_del(ws, c));
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), -EAGAIN);
	T_OK(shmkit_waitset_add_chan(ws, c, 0, c));
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));

	/* arm and disarm, 1000 times: nothing piles up, nothing fires */
	for (int i = 0; i < 1000; i++) {
		T_EQ(shmkit_waitset_arm(ws), 0);
		T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), -EAGAIN);
	}
	T_ASSERT(!readable(fd, 0));

	/* a peer in another process, asleep in between: 200 rounds */
	{
		struct late l = { .delay_us = 200, .count = 200 };
		pid_t pid;

		T_OK(shmkit_chan_close(p));
		memcpy(l.name, name, sizeof(name));
		T_OK(pipe(l.ready));
		pid = t_fork(send_late, &l);
		/* until the child holds the producer side, the consumer sees the end */
		T_EQ(read(l.ready[0], buf, 1), 1);
		/* not the end: nothing yet, or (on a loaded machine, 200 us
		   later) the child's first message, left for the loop below */
		{
			int r = shmkit_waitset_wait(ws, ev, 4, 0);

			T_ASSERT(r == -EAGAIN || (r == 1 && ev[0].status == 0));
		}
		for (int got = 0; got < l.count;) {
			int r = shmkit_waitset_arm(ws);

			T_OK(r);
			if (r == 0)
				T_ASSERT(readable(fd, 10000));
			r = shmkit_waitset_wait(ws, ev, 4, 0);
			if (r == -EAGAIN)
				continue;	/* woken by the child's open: nothing to read */
			T_EQ(r, 1);
			T_EQ(ev[0].status, 0);
			T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
			got++;
		}
		T_EQ(t_wait(pid), 0);
		close(l.ready[0]);
		close(l.ready[1]);
	}
	T_EQ(shmkit_waitset_wait(ws, ev, 4, 0), 1);	/* the child closed */
	T_EQ(ev[0].status, -SHMKIT_EEOF);
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_chan_close(c));
	__shmkit_waitset_thread_fd = 0;
}

/* A subscriber's loss found by arm is kept, and reported once. */
static void loss_kept(void)
{
	struct shmkit_topic_params tp = { .max_msg = 64, .slots = 4, .max_subs = 2,
					   .policy = SHMKIT_TOPIC_OVERWRITE };
	struct shmkit_waitset *ws;
	struct shmkit_event ev[2];
	struct shmkit_pub *pub;
	struct shmkit_sub *sub;
	char name[64];

	T_OK(t_track(shmkit_topic_create(t_name(name, sizeof(name), "wsfd-t"), &tp,
					 SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_pub_open(name, 0, &pub));
	T_OK(shmkit_sub_open(name, 0, &sub));
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_fd(ws));
	T_OK(shmkit_waitset_add_sub(ws, sub, sub));
	for (int i = 0; i < 10; i++)
		T_OK(shmkit_pub_send(pub, "x", 1, 0));
	T_EQ(shmkit_waitset_arm(ws), 1);
	T_EQ(shmkit_waitset_wait(ws, ev, 2, 0), 1);
	T_EQ(ev[0].status, -SHMKIT_ELOST);
	T_EQ(shmkit_waitset_wait(ws, ev, 2, 0), 1);
	T_EQ(ev[0].status, 0);
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_sub_close(sub));
	T_OK(shmkit_pub_close(pub));
}

/* 128 members, the thread's vector full: the last one still wakes it. */
static void full(int thread)
{
	enum { MAX = SHMKIT_WAITSET_MAX };
	static struct late l[MAX];
	struct shmkit_chan *c[MAX];
	struct shmkit_waitset *ws;
	struct shmkit_event ev[2];
	char buf[16];
	size_t len;
	pid_t pid;
	int fd;

	__shmkit_waitset_thread_fd = thread;
	T_OK(shmkit_waitset_new(&ws));
	fd = shmkit_waitset_fd(ws);
	T_OK(fd);
	for (int i = 0; i < MAX; i++) {
		t_name(l[i].name, sizeof(l[i].name), "wsfd-full");
		T_OK(t_track(shmkit_chan_create(l[i].name, 4096, SHMKIT_MODE_DEFAULT, 0)));
		T_OK(shmkit_chan_open(l[i].name, SHMKIT_CONSUMER, &c[i]));
		T_OK(shmkit_waitset_add_chan(ws, c[i], 0, c[i]));
	}
	l[MAX - 1].delay_us = 30000;
	l[MAX - 1].count = 1;
	/* the child's open kicks its member: it may take a few arms */
	pid = t_fork(send_late, &l[MAX - 1]);
	for (;;) {
		int r = shmkit_waitset_arm(ws);

		T_OK(r);
		if (r == 0)
			T_ASSERT(readable(fd, 10000));
		r = shmkit_waitset_wait(ws, ev, 2, 0);
		if (r == 1 && ev[0].status == 0)
			break;
		T_ASSERT(r == -EAGAIN || (r == 1 && ev[0].status == -SHMKIT_EEOF));
	}
	T_ASSERT(ev[0].udata == c[MAX - 1]);
	T_OK(shmkit_chan_recv(c[MAX - 1], buf, sizeof(buf), &len, 0));
	T_EQ(t_wait(pid), 0);
	/* arm and disarm with the vector full (the thread's cancel is the first word) */
	for (int i = 0; i < 100; i++) {
		T_OK(shmkit_waitset_arm(ws));
		T_OK(shmkit_waitset_del(ws, c[MAX - 1]));
		T_OK(shmkit_waitset_add_chan(ws, c[MAX - 1], 0, c[MAX - 1]));
	}
	T_OK(shmkit_waitset_free(ws));
	for (int i = 0; i < MAX; i++)
		T_OK(shmkit_chan_close(c[i]));
	__shmkit_waitset_thread_fd = 0;
}

struct mixed {
	char name[64];
	int sock;
	int rounds;
};

/* Alternates: a line on the socket, a message on the channel, with pauses. */
static int feed_both(void *arg)
{
	struct mixed *m = arg;
	struct shmkit_chan *p;

	if (shmkit_chan_open(m->name, SHMKIT_PRODUCER, &p) < 0)
		return 1;
	for (int i = 0; i < m->rounds; i++) {
		usleep(500);
		if (write(m->sock, "s", 1) != 1)
			return 2;
		usleep(500);
		if (shmkit_chan_send(p, "c", 1, -1) < 0)
			return 3;
	}
	return shmkit_chan_close(p) < 0 ? 4 : 0;
}

/* One epoll loop: a channel (through the set's descriptor) and a socket. */
static void epoll_loop(int thread)
{
	struct mixed m = { .rounds = 100 };
	struct shmkit_waitset *ws;
	struct shmkit_chan *c;
	struct epoll_event e, out[4];
	int sv[2], ep, fd, from_sock = 0, from_chan = 0, ended = 0;
	pid_t pid;

	__shmkit_waitset_thread_fd = thread;
	t_name(m.name, sizeof(m.name), "wsfd-epoll");
	T_OK(t_track(shmkit_chan_create(m.name, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(m.name, SHMKIT_CONSUMER, &c));
	T_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_add_chan(ws, c, 0, c));
	fd = shmkit_waitset_fd(ws);
	T_OK(fd);
	ep = epoll_create1(EPOLL_CLOEXEC);
	T_OK(ep);
	e = (struct epoll_event){ .events = EPOLLIN, .data.fd = fd };
	T_OK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e));
	e = (struct epoll_event){ .events = EPOLLIN, .data.fd = sv[0] };
	T_OK(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &e));
	m.sock = sv[1];
	pid = t_fork(feed_both, &m);
	while (from_sock < m.rounds || !ended) {
		struct shmkit_event ev[2];
		char b[16];
		size_t len;
		int n, r;

		/* the set first: it may have something without any sleep */
		while ((r = shmkit_waitset_wait(ws, ev, 2, 0)) == 1) {
			if (ev[0].status == -SHMKIT_EEOF) {
				T_OK(shmkit_waitset_del(ws, c));
				ended = 1;
				break;
			}
			T_EQ(ev[0].status, 0);
			T_OK(shmkit_chan_recv(c, b, sizeof(b), &len, 0));
			from_chan++;
		}
		if (ended && from_sock == m.rounds)
			break;
		if (!ended && shmkit_waitset_arm(ws) == 1)
			continue;
		n = epoll_wait(ep, out, 4, 10000);
		if (n < 0 && errno == EINTR)
			continue;	/* the arm's completion, once (io_uring) */
		T_ASSERT(n > 0);
		for (int i = 0; i < n; i++) {
			if (out[i].data.fd == sv[0]) {
				T_EQ(read(sv[0], b, 1), 1);
				from_sock++;
			}
		}
	}
	T_EQ(from_chan, m.rounds);
	T_EQ(t_wait(pid), 0);
	printf("epoll (%s): %d lines from the socket, %d messages from the channel\n",
	       __shmkit_waitset_fd_kind(ws), from_sock, from_chan);
	close(ep);
	close(sv[0]);
	close(sv[1]);
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_chan_close(c));
	__shmkit_waitset_thread_fd = 0;
}

int main(void)
{
	__shmkit_chan_sleep_slice_ns = -1;
	basics(0);
	basics(1);
	loss_kept();
	full(0);
	full(1);
	epoll_loop(0);
	epoll_loop(1);
	return 0;
}
