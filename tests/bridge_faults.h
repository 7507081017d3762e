/*
 * What the two fault tests of shmkit-bridge share (bridge_faults: core
 * mode, bridge_js_faults: JetStream): numbered messages of varied sizes
 * from a library producer into channel A, through out, the test's
 * nats-server and in, from channel B to a library consumer, while the
 * test kills and restarts the parts. The processes report here.
 */
#ifndef SHMKIT_TEST_BRIDGE_FAULTS_H
#define SHMKIT_TEST_BRIDGE_FAULTS_H

#include <sys/mman.h>

#include "bridge.h"

static struct br_server srv;
static char a[64], b[64], subject[96], log_path[64];
static const char *delivery;	/* "core" or "jetstream" */

/* What the test's processes tell each other. */
static struct shared {
	volatile uint64_t sent;		/* the producer's last message */
	volatile uint64_t last_got;	/* the consumer's last message */
	volatile uint64_t stop;		/* the faults are over: end the stream */
	volatile uint64_t got;		/* the consumer's messages, in order */
	volatile uint64_t missing;	/* core: numbers it never got */
	volatile uint64_t again;	/* JetStream: messages it had already */
	volatile int end;		/* how the consumer's stream ended */
	char why[256];			/* the consumer's failure, if any */
} *sh;

static size_t msg_size(uint64_t i)
{
	return 8 + (size_t)(t_mix(i) % 1500);
}

/*
 * Sends 1, 2, ... until told to stop, and then until the consumer has got
 * one sent after that (so that the end is not lost in a fault), then
 * closes. Waits out its consumer's deaths: a new out bridge takes its
 * place.
 */
static int producer(void *arg)
{
	static unsigned char buf[2048];
	struct shmkit_chan *tx;
	uint64_t i, tail = 0, deadline = 0;
	int r;

	(void)arg;
	if (shmkit_chan_open(a, SHMKIT_PRODUCER, &tx) < 0)
		return 1;
	for (i = 1;; i++) {
		if (sh->stop && !tail) {
			tail = i;
			deadline = t_now_ns() + 60000000000ull;
		}
		if (tail && sh->last_got >= tail)
			break;
		if (tail && t_now_ns() > deadline)
			return 2; /* the path never came back */
		payload_fill(buf, msg_size(i), i);
		while ((r = shmkit_chan_send(tx, buf, msg_size(i), 100)) < 0) {
			if (r != -ETIMEDOUT && r != -SHMKIT_EPEERDEAD)
				return 3;
			if (r == -SHMKIT_EPEERDEAD)
				br_nap(10);
		}
		sh->sent = i;
	}
	return shmkit_chan_close(tx) < 0 ? 4 : 0;
}

/*
 * Reads B to its end, every message checked whole. Core NATS may lose
 * messages: gaps are counted, a number at or below the last fails.
 * JetStream may bring one again: repeats are counted, a gap fails.
 */
static int consumer(void *arg)
{
	static unsigned char buf[2048];
	int at_least_once = !strcmp(delivery, "jetstream");
	struct shmkit_chan *rx;
	uint64_t last = 0, tag;
	size_t len;
	int r;

	(void)arg;
	if (shmkit_chan_open(b, SHMKIT_CONSUMER, &rx) < 0)
		return 1;
	for (;;) {
		r = shmkit_chan_recv(rx, buf, sizeof(buf), &len, 100);
		if (r == -ETIMEDOUT)
			continue;
		if (r == -SHMKIT_EPEERDEAD) { /* the in bridge, killed */
			br_nap(10);
			continue;
		}
		if (r < 0) {
			sh->end = r;
			break;
		}
		tag = payload_tag(buf, len);
		if (len != msg_size(tag) || payload_check(buf, len, tag)) {
			snprintf(sh->why, sizeof(sh->why), "message after %llu (%zu bytes) is torn",
				 (unsigned long long)last, len);
			return 2;
		}
		if (tag <= last && at_least_once) {
			sh->again++;	/* a repeat may bring several back */
			continue;
		}
		if (tag <= last || (at_least_once && tag != last + 1)) {
			snprintf(sh->why, sizeof(sh->why), "message %llu after %llu: %s",
				 (unsigned long long)tag, (unsigned long long)last,
				 tag <= last ? "out of order" : "lost some");
			return 3;
		}
		sh->missing += tag - last - 1;
		sh->got++;
		sh->last_got = last = tag;
	}
	shmkit_chan_close(rx);
	return 0;
}

static pid_t start_in(int err)
{
	char *argv[] = { br_bin, "in", "--delivery", (char *)delivery, "--stats", "-s", srv.url,
			 (char *)subject, b, NULL };

	return br_spawn(argv, -1, -1, err);
}

static pid_t start_out(int err)
{
	char *argv[] = { br_bin, "out", "--delivery", (char *)delivery, "-s", srv.url, a,
			 (char *)subject, NULL };

	return br_spawn(argv, -1, -1, err);
}

/* The processes of a stream, and the log the bridges write. */
struct faults_run {
	int err;		/* the bridges' stderr, into log_path */
	pid_t in, out, prod, cons;
};

/*
 * The server (with JetStream in a directory of its own for mode
 * "jetstream"), channel A, and the stream's four processes, started in
 * an order in which nothing is lost before the faults begin.
 */
static void faults_start(const char *mode, const char *tag, struct faults_run *f)
{
	delivery = mode;
	br_setup();
	strcpy(log_path, t_tmpfile(tag));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	if (!strcmp(mode, "jetstream"))
		srv.store = br_store();
	br_server_start(&srv);
	f->err = br_log(log_path);
	t_name(a, sizeof(a), "fa");
	t_name(b, sizeof(b), "fb");
	snprintf(subject, sizeof(subject), "shmkit.%s.%s", tag, a);
	T_OK(shmkit_chan_create(a, 256 << 10, SHMKIT_MODE_DEFAULT, 0));
	f->in = start_in(f->err);
	br_wait_name(b);
	f->cons = t_fork(consumer, NULL);
	f->prod = t_fork(producer, NULL);
	f->out = start_out(f->err);
}

#endif
