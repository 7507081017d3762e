/*
 * shmkit-bridge in core mode under faults: a stream of numbered messages
 * from a library producer (channel A) through out, a nats-server, in
 * (channel B) to a library consumer, while the out bridge, the in bridge
 * and the server are killed with SIGKILL at random moments and started
 * again (3 times each; 20 under make stress). Core NATS may lose
 * messages; what must hold: every message the consumer gets is whole and
 * in order, the in bridge reports at least as many lost as are missing
 * (never a silent loss), and a stream with any loss ends failed.
 */
#include <sys/mman.h>

#include "bridge.h"

static struct br_server srv;
static char a[64], b[64], subject[96], log_path[64];

/* What the test's processes tell each other. */
static struct shared {
	volatile uint64_t sent;		/* the producer's last message */
	volatile uint64_t last_got;	/* the consumer's last message */
	volatile uint64_t stop;		/* the faults are over: end the stream */
	volatile uint64_t got, missing;	/* the consumer's counts */
	volatile int end;		/* how the consumer's stream ended */
	char why[256];			/* the consumer's failure, if any */
} *sh;

static size_t msg_size(uint64_t i)
{
	return 8 + (size_t)(t_mix(i) % 1500);
}

/*
 * Sends 1, 2, ... until told to stop, and then until the consumer has got
 * one sent after that (so the end is not lost in a fault), then closes.
 * Waits out its consumer's deaths: a new out bridge takes its place.
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

static int consumer(void *arg)
{
	static unsigned char buf[2048];
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
		if (tag <= last) {
			snprintf(sh->why, sizeof(sh->why), "message %llu after %llu: out of order",
				 (unsigned long long)tag, (unsigned long long)last);
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
	char *argv[] = { br_bin, "in", "-s", srv.url, (char *)subject, b, NULL };

	return br_spawn(argv, -1, -1, err);
}

static pid_t start_out(int err)
{
	char *argv[] = { br_bin, "out", "-s", srv.url, a, (char *)subject, NULL };

	return br_spawn(argv, -1, -1, err);
}

/* Waits (30 s at most) until the consumer gets a message it had not. */
static void until_moving(void)
{
	uint64_t from = sh->last_got, deadline = t_now_ns() + 30000000000ull;

	while (sh->last_got == from) {
		if (t_now_ns() > deadline) {
			char *log = br_slurp(log_path);

			fprintf(stderr, "the bridges said:\n%s", log);
			free(log);
			t_fail(__FILE__, __LINE__, "the stream never moved again after message %llu",
			       (unsigned long long)from);
		}
		br_nap(5);
	}
}

/* The sum of the in bridges' "lost N messages" lines. */
static uint64_t reported_lost(const char *log)
{
	const char *p = log;
	uint64_t sum = 0;

	while ((p = strstr(p, ": lost "))) {
		p += 7;
		sum += strtoull(p, NULL, 10);
	}
	return sum;
}

int main(void)
{
	unsigned rounds = (unsigned)t_scale(3), k;
	int err, st_in, st_out;
	pid_t in, out, prod, cons;
	uint64_t actual;
	char *log;

	br_setup();
	strcpy(log_path, t_tmpfile("bridge-faults"));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	br_server_start(&srv);
	err = br_log(log_path);
	t_name(a, sizeof(a), "fa");
	t_name(b, sizeof(b), "fb");
	snprintf(subject, sizeof(subject), "shmkit.faults.%s", a);
	T_OK(shmkit_chan_create(a, 256 << 10, SHMKIT_MODE_DEFAULT, 0));
	in = start_in(err);
	br_wait_name(b);
	cons = t_fork(consumer, NULL);
	prod = t_fork(producer, NULL);
	out = start_out(err);
	until_moving();
	for (k = 0; k < 3 * rounds; k++) {
		br_nap(50 + (int)(t_rand() % 300));
		switch (k % 3) {
		case 0:
			br_kill9(out);
			out = start_out(err);
			break;
		case 1:
			br_kill9(in);
			in = start_in(err);
			break;
		case 2:
			br_server_kill(&srv);
			br_server_start(&srv);
			break;
		}
		until_moving();
	}
	sh->stop = 1;
	T_EQ(t_wait(prod), 0);
	st_out = br_wait(out);
	st_in = br_wait(in);
	T_EQ(t_wait(cons), 0);
	close(err);
	log = br_slurp(log_path);
	if (sh->why[0])
		t_fail(__FILE__, __LINE__, "%s", sh->why);
	/* what never reached the consumer: its gaps, and any after its last */
	actual = sh->missing + (sh->sent - sh->last_got);
	printf("%llu sent, %llu got, %llu missing, %llu reported lost; out %d, in %d\n",
	       (unsigned long long)sh->sent, (unsigned long long)sh->got,
	       (unsigned long long)actual, (unsigned long long)reported_lost(log), st_out, st_in);
	if (st_out != 0 || (st_in != 0 && st_in != 1))
		fprintf(stderr, "the bridges said:\n%s", log);
	T_EQ(st_out, 0);
	T_ASSERT(reported_lost(log) >= actual);
	T_EQ(sh->got + actual, sh->sent);
	/* a stream with holes ends failed, one without ends clean */
	if (st_in == 0) {
		T_EQ(sh->end, -SHMKIT_EEOF);
	} else {
		T_EQ(st_in, 1);
		T_EQ(sh->end, -SHMKIT_EABORTED);
		T_STR_CONTAINS(log, "went missing on the way");
	}
	free(log);
	shmkit_chan_destroy(a);
	shmkit_chan_destroy(b);
	return 0;
}
