/*
 * epoll: one event loop serving shared memory and TCP at once. A relay:
 * local processes post messages into a shmkit inbox, and everyone
 * connected over TCP gets each one as a line; a line a TCP client sends
 * goes to every TCP client too.
 *
 *   epoll relay NAME [PORT]   makes inbox NAME, listens on 127.0.0.1:PORT
 *                             (any free port by default; it prints it),
 *                             relays until Ctrl-C or SIGTERM, then removes
 *                             the inbox and exits 0
 *   epoll post NAME           posts each line of its input into the inbox
 *
 * The loop is one epoll_wait over the listening socket, the connections,
 * a signalfd, and the inbox's wait set through shmkit_waitset_fd. The
 * wait set's descriptor follows the protocol in shmkit_waitset_new(3):
 *
 *   1. shmkit_waitset_wait(timeout 0): serve what it gives, until -EAGAIN;
 *   2. shmkit_waitset_arm: 1 means something came meanwhile (back to 1),
 *      0 that the descriptor will wake the loop;
 *   3. epoll_wait; when the descriptor is readable, back to 1.
 *
 * While the inbox stays busy the loop never arms, and looks at the
 * sockets with epoll_wait(timeout 0) between two batches, so neither side
 * starves the other. Each message is one line to TCP clients ("shm LANE:
 * text"); each TCP line goes out as "tcp ID: text". A TCP client too slow
 * to take what it is sent is dropped rather than waited for.
 */
#define _GNU_SOURCE	/* accept4, signalfd, MSG_NOSIGNAL */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shmkit.h"

#define PRODUCERS 16		/* local processes posting at once */
#define LANE_BYTES (64 * 1024)
#define CONNS 32		/* TCP clients at once */
#define LINE 1024		/* longest TCP line; longer ones are cut */
#define BATCH 64		/* messages served before the sockets get a look */

/* epoll's tags for what is not a connection; connection i is CONN0 + i */
enum { TAG_WAITSET, TAG_LISTEN, TAG_SIGNAL, CONN0 };

struct conn {
	int fd;			/* -1: free */
	unsigned id;		/* shown to everyone: "tcp ID: ..." */
	size_t have;		/* bytes of an unfinished line in buf */
	char buf[LINE];
};

static struct conn conns[CONNS];
static int ep = -1;
static unsigned next_id = 1;
static uint64_t from_shm, from_tcp;

static void drop(struct conn *c, const char *why)
{
	printf("relay: tcp %u %s\n", c->id, why);
	close(c->fd);	/* also takes it out of the epoll set */
	c->fd = -1;
}

/* Sends one line to every TCP client: who said it, what it said. */
static void broadcast(const char *who, const char *text, size_t len)
{
	char line[LINE + 64];
	int n;

	if (len > LINE)
		len = LINE;
	n = snprintf(line, sizeof(line), "%s: %.*s\n", who, (int)len, text);
	for (char *p = line + strlen(who) + 2; p < line + n - 1; p++)
		if (*p == '\n' || *p == '\0')
			*p = ' ';	/* one message, one line */
	for (int i = 0; i < CONNS; i++) {
		ssize_t sent;

		if (conns[i].fd < 0)
			continue;
		/* never waits: a client whose socket buffer is full is too slow */
		sent = send(conns[i].fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent != n)
			drop(&conns[i], sent >= 0 || errno == EAGAIN ? "too slow: dropped" : "gone");
	}
}

/* Up to BATCH messages from the inbox. 0, or a fatal error. */
static int serve_inbox(struct shmkit_inbox *ib)
{
	char msg[LANE_BYTES / 2], who[32];
	size_t len;
	int r;

	for (int i = 0; i < BATCH; i++) {
		r = shmkit_inbox_recv(ib, msg, sizeof(msg), &len, 0);
		if (r == -EAGAIN)
			return 0;
		if (r == -SHMKIT_ECORRUPT) {	/* that lane is skipped from now on */
			printf("relay: lane %d of the inbox is corrupt\n", shmkit_inbox_from(ib));
			continue;
		}
		if (r < 0)
			return r;
		from_shm++;
		snprintf(who, sizeof(who), "shm %d", shmkit_inbox_from(ib));
		broadcast(who, msg, len);
	}
	return 0;
}

static void accept_one(int lfd)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct epoll_event e = { .events = EPOLLIN };
	char hello[64];
	int fd, i, n;

	if ((fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;	/* gone before we took it, or out of descriptors: not fatal */
	for (i = 0; i < CONNS && conns[i].fd >= 0; i++)
		;
	if (i == CONNS) {
		send(fd, "relay: full\n", 12, MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	e.data.u32 = CONN0 + (uint32_t)i;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		close(fd);
		return;
	}
	conns[i] = (struct conn){ .fd = fd, .id = next_id++ };
	printf("relay: tcp %u connected from %s:%u\n", conns[i].id, inet_ntoa(peer.sin_addr),
	       ntohs(peer.sin_port));
	n = snprintf(hello, sizeof(hello), "relay: you are tcp %u\n", conns[i].id);
	send(fd, hello, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* What a connection sent: every whole line goes to everyone. */
static void serve_conn(struct conn *c)
{
	char who[32];
	ssize_t n = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
	char *start = c->buf, *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop(c, n == 0 ? "left" : "gone");
		return;
	}
	c->have += (size_t)n;
	snprintf(who, sizeof(who), "tcp %u", c->id);
	while ((nl = memchr(start, '\n', c->have - (size_t)(start - c->buf)))) {
		size_t len = (size_t)(nl - start);

		from_tcp++;
		broadcast(who, start, len && start[len - 1] == '\r' ? len - 1 : len);
		if (c->fd < 0)
			return;	/* the broadcast found it gone */
		start = nl + 1;
	}
	c->have -= (size_t)(start - c->buf);
	memmove(c->buf, start, c->have);
	if (c->have == sizeof(c->buf)) {	/* no newline in a whole buffer: cut */
		from_tcp++;
		broadcast(who, c->buf, c->have);
		c->have = 0;
	}
}

static int listen_on(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
		perror("relay: listening");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Adds fd to the epoll set under tag. */
static int watch(int fd, uint32_t tag)
{
	struct epoll_event e = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int relay(const char *name, unsigned port)
{
	struct shmkit_inbox *ib = NULL;
	struct shmkit_waitset *ws = NULL;
	struct shmkit_event ev[4];
	struct epoll_event out[16];
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	sigset_t sigs;
	int lfd = -1, sfd = -1, wfd, r, n, status = 1, stop = 0;
	unsigned conns_seen;

	for (int i = 0; i < CONNS; i++)
		conns[i].fd = -1;
	/* SIGINT and SIGTERM come through a descriptor, as one more event */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    (sfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0 || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return perror("relay"), 1;
	if ((lfd = listen_on(port)) < 0)
		return 1;

	/* an existing inbox is fine: a relay killed before leaves its own */
	if ((r = shmkit_inbox_create(name, PRODUCERS, LANE_BYTES, SHMKIT_MODE_DEFAULT, 0)) < 0 ||
	    (r = shmkit_inbox_open(name, 0, &ib)) < 0) {
		fprintf(stderr, "relay: %s: %s\n", name,
			r == -EBUSY ? "another relay is running" : shmkit_strerror(r));
		return 1;	/* and another's inbox stays */
	}
	if ((r = shmkit_waitset_new(&ws)) < 0 || (r = shmkit_waitset_add_inbox(ws, ib, ib)) < 0 ||
	    (r = shmkit_waitset_set_spin(ws, 0)) < 0 || (r = wfd = shmkit_waitset_fd(ws)) < 0) {
		fprintf(stderr, "relay: %s\n", shmkit_strerror(r));
		goto out;
	}
	if (watch(wfd, TAG_WAITSET) < 0 || watch(lfd, TAG_LISTEN) < 0 || watch(sfd, TAG_SIGNAL) < 0) {
		perror("relay: epoll_ctl");
		goto out;
	}
	getsockname(lfd, (struct sockaddr *)&a, &alen);
	setvbuf(stdout, NULL, _IOLBF, 0);	/* a log: each line as it happens */
	printf("relay: inbox %s, tcp 127.0.0.1:%u ('epoll post %s' posts; 'nc 127.0.0.1 %u' "
	       "listens)\n", name, ntohs(a.sin_port), name, ntohs(a.sin_port));

	while (!stop) {
		int busy = 0;

		/* 1: what the inbox has now, a batch at a time, never asleep */
		n = shmkit_waitset_wait(ws, ev, 4, 0);
		if (n > 0) {	/* an inbox's event has no status: none ends it */
			busy = 1;
			if ((r = serve_inbox(ib)) < 0)
				break;
		} else if (n != -EAGAIN) {
			r = n;
			break;
		}
		/* 2: nothing left: arm; 1 means a message came meanwhile */
		if (!busy && (r = shmkit_waitset_arm(ws)) != 0) {
			if (r < 0)
				break;
			busy = 1;
		}
		/* 3: the sockets; asleep only if armed. Readable wfd: back to 1 */
		n = epoll_wait(ep, out, 16, busy ? 0 : -1);
		if (n < 0 && errno == EINTR)
			continue;	/* once as the set arms, with io_uring */
		if (n < 0) {
			r = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t tag = out[i].data.u32;

			if (tag == TAG_LISTEN)
				accept_one(lfd);
			else if (tag == TAG_SIGNAL)
				stop = 1;
			else if (tag >= CONN0 && conns[tag - CONN0].fd >= 0)
				serve_conn(&conns[tag - CONN0]);
		}
	}
	if (!stop) {
		fprintf(stderr, "relay: %s\n", shmkit_strerror(r));
		goto out;
	}
	conns_seen = next_id - 1;
	printf("relay: stopping: %llu message%s from shm, %llu line%s from tcp, "
	       "%u connection%s\n", (unsigned long long)from_shm, from_shm == 1 ? "" : "s",
	       (unsigned long long)from_tcp, from_tcp == 1 ? "" : "s", conns_seen,
	       conns_seen == 1 ? "" : "s");
	status = 0;
out:
	for (int i = 0; i < CONNS; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	if (ws)
		shmkit_waitset_free(ws);	/* closes wfd */
	/* posters get -EPIPE from now on */
	if ((r = shmkit_inbox_close(ib)) < 0 || (r = shmkit_inbox_destroy(name)) < 0) {
		fprintf(stderr, "relay: closing %s: %s\n", name, shmkit_strerror(r));
		status = 1;
	}
	close(lfd);
	close(sfd);
	close(ep);
	return status;
}

/* Each line of stdin, without its newline, as one message. */
static int post(const char *name)
{
	struct shmkit_chan *ch;
	char line[LANE_BYTES / 2];
	int r;

	if ((r = shmkit_inbox_join(name, 0, &ch)) < 0) {
		fprintf(stderr, "post: %s: %s\n", name,
			r == -ENOENT ? "no relay of that name" : shmkit_strerror(r));
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		if ((r = shmkit_chan_send(ch, line, strlen(line), 5000)) < 0) {
			fprintf(stderr, "post: %s\n", r == -EPIPE ? "the relay stopped" :
				r == -SHMKIT_EPEERDEAD ? "the relay died" : shmkit_strerror(r));
			shmkit_chan_close(ch);
			return 1;
		}
	}
	return shmkit_chan_close(ch) < 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	unsigned long port = 0;
	char *end = NULL;
	int ok = (argc == 3 || argc == 4) && !strcmp(mode, "relay");

	if (ok && argc == 4) {
		errno = 0;
		port = strtoul(argv[3], &end, 10);
		ok = !errno && !*end && argv[3][0] != '-' && port <= 65535;
	}
	if (argc == 3 && !strcmp(mode, "post"))
		ok = 1;
	if (!ok || shmkit_name_check(argv[2]) < 0) {
		fprintf(stderr, "usage: epoll relay NAME [PORT] | epoll post NAME\n");
		return 2;
	}
	return !strcmp(mode, "relay") ? relay(argv[2], (unsigned)port) : post(argv[2]);
}
