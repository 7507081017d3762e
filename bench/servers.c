/*
 * Servers: request and response, and many producers into one consumer.
 *
 * Round trips (bench_rpc): one server on the first cpu, clients on the
 * second, each calling with a 64-byte request and waiting for its 64-byte
 * reply, all at once; through a shmkit service, and through the server
 * users would write instead: a UNIX stream socket per client and an epoll
 * loop. Every trip is timed alone in the client, and the figures are the
 * median and 99th percentile of all trips of all clients. Then every
 * client stops, and the server's cpu time over an idle spell says what
 * an idle server costs (its clock, read from outside: clock_getcpuclockid).
 * One client spins while it waits, as a single caller would; with more
 * clients than cpus every client sleeps at once (shmkit_client_set_spin
 * 0), since spinning would only take the cpu from the others.
 *
 * Inbox throughput (bench_inbox): 1, 2 or 4 producers on the first cpu
 * into one inbox, its consumer on the second; against one producer into
 * a channel. Zero copy both ways: each producer fills messages in place
 * (its own sequence), the consumer checks every byte in place, per lane.
 * The lanes together hold the channel's ring: with more, the consumer's
 * working set would grow with the producers, and the comparison would be
 * of caches. The figure is messages a second delivered, over reps windows.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pair.h"
#include "shmkit.h"
#include "sweep.h"

#define RPC_SIZE 64
#define RPC_MAX_SAMPLES 40000	/* per client; more trips are made, not kept */
#define SRV_TIMEOUT_MS 10000
#define SRV_START_S 10.0
#define IDLE_S 0.05

enum { PH_START, PH_TIMED, PH_IDLE, PH_STOP };

struct srv_ctl {
	_Atomic int ready;
	_Atomic int phase;
	_Atomic int failed;
	_Atomic int stopped;		/* clients done with their timed trips */
	char why[256];
	char name[64];			/* the service or inbox; the socket's abstract name */
	uint64_t trips[SRV_MAX_CLIENTS];
	uint64_t kept[SRV_MAX_CLIENTS];
	double rate[BENCH_MAX_REPS];	/* inbox: each window's msg/s */
	int windows;
	float sample[];			/* [client][RPC_MAX_SAMPLES], seconds */
};

static _Noreturn void srv_fail(struct srv_ctl *c, const char *what, int err)
{
	if (!atomic_exchange(&c->failed, 1))
		snprintf(c->why, sizeof(c->why), "%s: %s", what,
			 err == -EBADMSG ? bench_why : err < 0 && err > -4096 ? strerror(-err) :
			 shmkit_strerror(err));
	_exit(1);
}

/* Waits until the parent moves past phase; exits quietly if the run failed. */
static void wait_phase(struct srv_ctl *c, int past)
{
	while (atomic_load_explicit(&c->phase, memory_order_acquire) <= past) {
		if (atomic_load(&c->failed))
			_exit(0);
		usleep(100);
	}
}

static socklen_t sock_addr(const struct srv_ctl *c, struct sockaddr_un *a)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	/* abstract: nothing on disk to clean up, gone with the socket */
	snprintf(a->sun_path + 1, sizeof(a->sun_path) - 1, "%s", c->name);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(c->name));
}

static int full_io(int fd, void *buf, size_t n, int out)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = out ? write(fd, (char *)buf + done, n - done) :
				  read(fd, (char *)buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		done += (size_t)r;
	}
	return 0;
}

/* ----------------------------------------------------------- the servers */

static void shm_server(struct srv_ctl *c)
{
	struct shmkit_service *srv;
	struct shmkit_request req;
	const void *p;
	void *w;
	size_t len;
	int err;

	if ((err = shmkit_service_open(c->name, 0, &srv)) < 0)
		srv_fail(c, "server: open", err);
	atomic_fetch_add(&c->ready, 1);
	for (;;) {
		err = shmkit_service_peek(srv, &p, &len, &req, 100);
		if (err == -ETIMEDOUT) {
			if (atomic_load_explicit(&c->phase, memory_order_acquire) == PH_STOP)
				break;
			continue;
		}
		if (err < 0)
			srv_fail(c, "server: receive", err);
		/* read every byte in place, answer with the request's bytes */
		if ((err = shmkit_service_reserve(srv, &req, len, &w, SRV_TIMEOUT_MS)) == 0) {
			memcpy(w, p, len);
			err = shmkit_service_commit(srv, len);
		}
		if (err < 0 && err != -EPIPE && err != -SHMKIT_EPEERDEAD)
			srv_fail(c, "server: reply", err);
		shmkit_service_release(srv);
	}
	shmkit_service_close(srv);
}

static void sock_server(struct srv_ctl *c, int nclients)
{
	struct sockaddr_un a;
	socklen_t alen = sock_addr(c, &a);
	struct epoll_event e, ev[64];
	char buf[RPC_SIZE];
	int ls, ep, open_conns = 0, accepted = 0;

	if ((ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(ls, (struct sockaddr *)&a, alen) < 0 || listen(ls, 128) < 0 ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		srv_fail(c, "socket server", -errno);
	e = (struct epoll_event){ .events = EPOLLIN, .data.fd = ls };
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &e);
	atomic_fetch_add(&c->ready, 1);
	while (accepted < nclients || open_conns > 0) {
		int n = epoll_wait(ep, ev, 64, 100);

		if (n < 0 && errno != EINTR)
			srv_fail(c, "server: epoll_wait", -errno);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;

			if (fd == ls) {
				int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

				if (s < 0)
					srv_fail(c, "server: accept", -errno);
				e = (struct epoll_event){ .events = EPOLLIN, .data.fd = s };
				epoll_ctl(ep, EPOLL_CTL_ADD, s, &e);
				accepted++, open_conns++;
				continue;
			}
			if (full_io(fd, buf, sizeof(buf), 0) < 0) {
				close(fd);	/* the client is done */
				open_conns--;
				continue;
			}
			if (full_io(fd, buf, sizeof(buf), 1) < 0)
				srv_fail(c, "server: write", -errno);
		}
	}
	close(ep);
	close(ls);
}

/* ----------------------------------------------------------- the clients */

static void rpc_client(struct srv_ctl *c, int shm, int nclients, int id)
{
	struct shmkit_client *cl = NULL;
	float *kept = c->sample + (size_t)id * RPC_MAX_SAMPLES;
	char req[RPC_SIZE], rep[RPC_SIZE];
	uint64_t trips = 0;
	size_t len;
	int err, fd = -1;

	if (shm) {
		if ((err = shmkit_client_open(c->name, 0, &cl)) < 0)
			srv_fail(c, "client: open", err);
		if (nclients > 1)
			shmkit_client_set_spin(cl, 0);
	} else {
		struct sockaddr_un a;
		socklen_t alen = sock_addr(c, &a);

		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
		    connect(fd, (struct sockaddr *)&a, alen) < 0)
			srv_fail(c, "client: connect", -errno);
	}
	atomic_fetch_add(&c->ready, 1);
	wait_phase(c, PH_START);
	while (atomic_load_explicit(&c->phase, memory_order_relaxed) == PH_TIMED) {
		double t0 = clock_s();

		bench_fill(req, sizeof(req), trips);
		if (shm) {
			err = shmkit_client_call(cl, req, sizeof(req), rep, sizeof(rep), &len,
						 SRV_TIMEOUT_MS);
		} else {
			err = full_io(fd, req, sizeof(req), 1);
			if (!err)
				err = full_io(fd, rep, sizeof(rep), 0);
			len = sizeof(rep);
		}
		if (err < 0)
			srv_fail(c, "client: call", err);
		if (trips < RPC_MAX_SAMPLES)
			kept[trips] = (float)(clock_s() - t0);
		if (len != sizeof(rep) || (err = bench_check(rep, len, trips)) < 0)
			srv_fail(c, "client: reply", -EBADMSG);
		trips++;
	}
	c->trips[id] = trips;
	c->kept[id] = trips < RPC_MAX_SAMPLES ? trips : RPC_MAX_SAMPLES;
	atomic_fetch_add(&c->stopped, 1);
	wait_phase(c, PH_IDLE);
	if (cl)
		shmkit_client_close(cl);
	if (fd >= 0)
		close(fd);
}

/* -------------------------------------------------------------- the runs */

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* The server's cpu seconds so far, from outside; -1 if it cannot be read. */
static double cpu_of(pid_t pid)
{
	struct timespec ts;
	clockid_t id;

	if (clock_getcpuclockid(pid, &id) != 0 || clock_gettime(id, &ts) != 0)
		return -1;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Forks the server (child 0) and n others, runs fn in each; waits for ready. */
static int start(struct srv_ctl *c, pid_t *pid, int n, const struct bench_opts *o,
		 void (*fn)(struct srv_ctl *, int, void *), void *arg)
{
	double t0 = clock_s();

	fflush(NULL);
	for (int i = 0; i < n; i++) {
		if ((pid[i] = fork()) < 0) {
			for (int k = 0; k < i; k++)
				kill(pid[k], SIGKILL), waitpid(pid[k], NULL, 0);
			return -errno;
		}
		if (pid[i] == 0) {
			pair_pin(o->cpu[i ? 1 : 0]);
			fn(c, i, arg);
			_exit(0);
		}
		/* the server first: the clients connect to it */
		while (i == 0 && atomic_load(&c->ready) < 1 && !atomic_load(&c->failed) &&
		       clock_s() - t0 < SRV_START_S)
			usleep(100);
	}
	while (atomic_load(&c->ready) < n && !atomic_load(&c->failed) && clock_s() - t0 < SRV_START_S)
		usleep(100);
	if (atomic_load(&c->ready) < n && !atomic_exchange(&c->failed, 1))
		snprintf(c->why, sizeof(c->why), "the processes did not start");
	return 0;
}

struct rpc_arg {
	int shm, nclients;
};

static void rpc_child(struct srv_ctl *c, int i, void *arg)
{
	struct rpc_arg *a = arg;

	if (i == 0 && a->shm)
		shm_server(c);
	else if (i == 0)
		sock_server(c, a->nclients);
	else
		rpc_client(c, a->shm, a->nclients, i - 1);
}

int bench_rpc(int shm, int nclients, const struct bench_opts *o, struct bench_rpc_result *r)
{
	static unsigned serial;
	size_t size = sizeof(struct srv_ctl) + (size_t)nclients * RPC_MAX_SAMPLES * sizeof(float);
	struct rpc_arg a = { .shm = shm, .nclients = nclients };
	pid_t pid[SRV_MAX_CLIENTS + 1];
	struct srv_ctl *c;
	uint64_t all = 0, trips = 0;
	double cpu0, cpu1, t0, t1 = 0;
	float *v;
	int bad, shmid = -1;

	if (nclients < 1 || nclients > SRV_MAX_CLIENTS)
		return -1;
	c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return -1;
	snprintf(c->name, sizeof(c->name), "shmkit-bench-rpc.%d.%u", (int)getpid(), serial++);
	if (shm && (shmid = shmkit_service_create(c->name, (unsigned)nclients, 4096,
						  SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)) < 0) {
		err_msg("bench", "request/response: %s", shmkit_strerror(shmid));
		munmap(c, size);
		return -1;
	}
	start(c, pid, nclients + 1, o, rpc_child, &a);
	if (shmid >= 0)
		shmkit_seg_remove(shmid);	/* all attached: freed when they detach */
	if (!atomic_load(&c->failed)) {
		/* a short warm-up, untimed, then the timed spell */
		atomic_store_explicit(&c->phase, PH_TIMED, memory_order_release);
		t0 = clock_s();
		/* one repetition's time: every trip is a sample (a 1-client cell
		   makes hundreds of thousands), and make bench must stay short */
		nanosleep(&(struct timespec){ 0, (long)(o->duration * 1e9) }, NULL);
		atomic_store_explicit(&c->phase, PH_IDLE, memory_order_release);
		while (atomic_load(&c->stopped) < nclients && !atomic_load(&c->failed))
			usleep(100);
		t1 = clock_s();
		/* every client waits, the server has nothing to do: its cost */
		usleep(20000);	/* its spin after the last request is over */
		cpu0 = cpu_of(pid[0]);
		nanosleep(&(struct timespec){ 0, (long)(IDLE_S * 1e9) }, NULL);
		cpu1 = cpu_of(pid[0]);
		r->idle_cpu = cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) / IDLE_S : -1;
		atomic_store_explicit(&c->phase, PH_STOP, memory_order_release);
		for (int i = 0; i < nclients; i++)
			trips += c->trips[i];
		r->calls_per_s = (double)trips / (t1 - t0);
	} else {
		atomic_store_explicit(&c->phase, PH_STOP, memory_order_release);
	}
	bad = pair_reap(pid, nclients + 1, &c->failed, c->why, sizeof(c->why));
	if (bad || atomic_load(&c->failed)) {
		err_msg("bench", "request/response, %s, %d clients: %s; no figure reported",
			shm ? "shmkit" : "socket", nclients, c->why);
		munmap(c, size);
		return -1;
	}
	/* every kept trip of every client, pooled */
	for (int i = 0; i < nclients; i++)
		all += c->kept[i];
	v = malloc((all ? all : 1) * sizeof(*v));
	if (!v || !all) {
		free(v);
		munmap(c, size);
		return -1;
	}
	all = 0;
	for (int i = 0; i < nclients; i++) {
		memcpy(v + all, c->sample + (size_t)i * RPC_MAX_SAMPLES, c->kept[i] * sizeof(*v));
		all += c->kept[i];
	}
	qsort(v, all, sizeof(*v), cmp_float);
	r->median_ns = v[all / 2] * 1e9;
	r->p99_ns = v[all * 99 / 100] * 1e9;
	r->trips = trips;
	free(v);
	munmap(c, size);
	return 0;
}

/* ------------------------------------------------------------ the inbox */

struct inbox_arg {
	int producers;		/* 0: one producer into a channel */
	size_t size;
	const struct bench_opts *o;
};

static void producer(struct srv_ctl *c, int id, struct inbox_arg *a)
{
	struct shmkit_chan *ch;
	uint64_t seq = 0;
	void *p;
	int err;

	err = a->producers ? shmkit_inbox_join(c->name, 0, &ch) :
			     shmkit_chan_open(c->name, SHMKIT_PRODUCER, &ch);
	if (err < 0)
		srv_fail(c, "producer: open", err);
	(void)id;
	atomic_fetch_add(&c->ready, 1);
	wait_phase(c, PH_START);
	for (;; seq++) {
		err = shmkit_chan_reserve(ch, a->size, &p, SRV_TIMEOUT_MS);
		if (err == -EPIPE)
			break;		/* the consumer has its windows */
		if (err < 0)
			srv_fail(c, "producer: reserve", err);
		bench_fill(p, a->size, seq);
		shmkit_chan_commit(ch, a->size);
	}
	shmkit_chan_close(ch);
}

static void consumer(struct srv_ctl *c, struct inbox_arg *a)
{
	struct shmkit_inbox *ib = NULL;
	struct shmkit_chan *ch = NULL;
	uint64_t next[SRV_MAX_CLIENTS] = { 0 }, n = 0;
	const void *p;
	size_t len;
	int err, lane = 0;
	double t0;

	err = a->producers ? shmkit_inbox_open(c->name, 0, &ib) :
			     shmkit_chan_open(c->name, SHMKIT_CONSUMER, &ch);
	if (err < 0)
		srv_fail(c, "consumer: open", err);
	atomic_fetch_add(&c->ready, 1);
	wait_phase(c, PH_START);
	/* a warm-up window, then reps timed ones */
	t0 = clock_s();
	for (int w = -1; w < a->o->reps && w < BENCH_MAX_REPS;) {
		err = ib ? shmkit_inbox_peek(ib, &p, &len, SRV_TIMEOUT_MS) :
			   shmkit_chan_peek(ch, &p, &len, SRV_TIMEOUT_MS);
		if (err < 0)
			srv_fail(c, "consumer: peek", err);
		if (ib)
			lane = shmkit_inbox_from(ib);
		if (lane < 0 || lane >= SRV_MAX_CLIENTS || len != a->size ||
		    bench_check(p, len, next[lane]) < 0)
			srv_fail(c, "consumer", -EBADMSG);
		next[lane]++;
		err = ib ? shmkit_inbox_release(ib) : shmkit_chan_release(ch);
		if (err < 0)
			srv_fail(c, "consumer: release", err);
		/* the clock every 64 messages: a window ends within them */
		if (++n % 64 == 0) {
			double now = clock_s();

			/* a quarter of a streaming repetition each: short, and many */
			if (now - t0 >= a->o->duration / 4) {
				if (w >= 0)
					c->rate[w] = (double)n / (now - t0);
				w++;
				n = 0;
				t0 = now;
			}
		}
	}
	c->windows = a->o->reps < BENCH_MAX_REPS ? a->o->reps : BENCH_MAX_REPS;
	/* closing makes the producers' next reserve fail with -EPIPE */
	if (ib)
		shmkit_inbox_close(ib);
	else
		shmkit_chan_close(ch);
}

static void inbox_child(struct srv_ctl *c, int i, void *arg)
{
	struct inbox_arg *a = arg;

	/* child 0 is the first cpu's: the producers are, the consumer is not */
	if (i == 0)
		consumer(c, a);
	else
		producer(c, i - 1, a);
}

int bench_inbox(int producers, size_t size, const struct bench_opts *o, struct bench_stat *r)
{
	static unsigned serial;
	struct inbox_arg a = { .producers = producers, .size = size, .o = o };
	struct bench_opts swapped = *o;
	pid_t pid[SRV_MAX_CLIENTS + 1];
	struct srv_ctl *c;
	int n = (producers ? producers : 1) + 1, shmid, bad;
	/* the channel's ring shared out: the same bytes in all lanes together */
	size_t share = o->ring / (size_t)(producers ? producers : 1);
	size_t cap = size * 2 > share ? size * 2 : share;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return -1;
	snprintf(c->name, sizeof(c->name), "shmkit-bench-inbox.%d.%u", (int)getpid(), serial++);
	shmid = producers ? shmkit_inbox_create(c->name, (unsigned)producers, cap,
						 SHMKIT_MODE_DEFAULT, SHMKIT_EXCL) :
			    shmkit_chan_create(c->name, cap, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL);
	if (shmid < 0) {
		err_msg("bench", "inbox: %s", shmkit_strerror(shmid));
		munmap(c, sizeof(*c));
		return -1;
	}
	/* the consumer (child 0) on the second cpu, the producers on the first */
	swapped.cpu[0] = o->cpu[1];
	swapped.cpu[1] = o->cpu[0];
	start(c, pid, n, &swapped, inbox_child, &a);
	shmkit_seg_remove(shmid);
	atomic_store_explicit(&c->phase, atomic_load(&c->failed) ? PH_STOP : PH_TIMED,
			      memory_order_release);
	bad = pair_reap(pid, n, &c->failed, c->why, sizeof(c->why));
	if (bad || atomic_load(&c->failed) || c->windows < 1) {
		err_msg("bench", "inbox, %d producers, %zu B: %s; no figure reported", producers,
			size, c->why);
		munmap(c, sizeof(*c));
		return -1;
	}
	bench_stat_of(c->rate, c->windows, r);
	munmap(c, sizeof(*c));
	return 0;
}
