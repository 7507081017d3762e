/*
 * shmkit-bridge in JetStream mode under faults: numbered messages from a
 * library producer (channel A) through out, a nats-server with JetStream,
 * in (channel B) to a library consumer, while the out bridge, the in
 * bridge and the server are killed with SIGKILL at random moments and
 * started again (3 times each; 20 under make stress). JetStream promises
 * at least once: every message must arrive, whole and in order, and the
 * stream must end clean; a message may come again (the in bridge killed
 * between committing and acknowledging it), which the consumer counts,
 * and no more often than the consumer's acknowledgements pending allow.
 */
#include <sys/mman.h>

#include "bridge.h"

static struct br_server srv;
static char a[64], b[64], subject[96], log_path[64];

static struct shared {
	volatile uint64_t sent;		/* the producer's last message */
	volatile uint64_t last_got;	/* the consumer's last message */
	volatile uint64_t stop;		/* the faults are over: end the stream */
	volatile uint64_t got, again;	/* the consumer's counts */
	volatile int end;		/* how the consumer's stream ended */
	char why[256];			/* the consumer's failure, if any */
} *sh;

static size_t msg_size(uint64_t i)
{
	return 8 + (size_t)(t_mix(i) % 1500);
}

/* Sends 1, 2, ... until told to stop, then closes. Waits out its
 * consumer's deaths: a new out bridge takes its place. */
static int producer(void *arg)
{
	static unsigned char buf[2048];
	struct shmkit_chan *tx;
	uint64_t i;
	int r;

	(void)arg;
	if (shmkit_chan_open(a, SHMKIT_PRODUCER, &tx) < 0)
		return 1;
	for (i = 1; !sh->stop; i++) {
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
		/* again: one already had (a repeat may bring several back) */
		if (tag <= last) {
			sh->again++;
			continue;
		}
		if (tag != last + 1) {
			snprintf(sh->why, sizeof(sh->why), "message %llu after %llu: %llu lost",
				 (unsigned long long)tag, (unsigned long long)last,
				 (unsigned long long)(tag - last - 1));
			return 3;
		}
		sh->got++;
		sh->last_got = last = tag;
	}
	shmkit_chan_close(rx);
	return 0;
}

static pid_t start_in(int err)
{
	char *argv[] = { br_bin, "in", "--delivery", "jetstream", "--stats", "-s", srv.url,
			 (char *)subject, b, NULL };

	return br_spawn(argv, -1, -1, err);
}

static pid_t start_out(int err)
{
	char *argv[] = { br_bin, "out", "--delivery", "jetstream", "-s", srv.url, a,
			 (char *)subject, NULL };

	return br_spawn(argv, -1, -1, err);
}

/* Waits (60 s at most) until the consumer has got message n. */
static void until_got(uint64_t n)
{
	uint64_t deadline = t_now_ns() + 60000000000ull;

	while (sh->last_got < n) {
		if (t_now_ns() > deadline || sh->why[0]) {
			char *log = br_slurp(log_path);

			fprintf(stderr, "the bridges said:\n%s", log);
			free(log);
			t_fail(__FILE__, __LINE__, "stuck at message %llu of %llu%s%s",
			       (unsigned long long)sh->last_got, (unsigned long long)n,
			       sh->why[0] ? ": " : "", sh->why);
		}
		br_nap(5);
	}
}

/* The last in bridge's --stats line, from the start of its line. */
static const char *stats_line(const char *log)
{
	const char *p = log, *hit = NULL;

	while ((p = strstr(p, "put back in order"))) {
		hit = p;
		p++;
	}
	if (!hit)
		return "(no stats line)\n";	/* the log: see below */
	while (hit > log && hit[-1] != '\n')
		hit--;
	return hit;
}

int main(void)
{
	unsigned rounds = (unsigned)t_scale(3), k, in_kills = 0, srv_kills = 0;
	int err, st_in, st_out;
	pid_t in, out, prod, cons;
	char *log;

	br_setup();
	strcpy(log_path, t_tmpfile("bridge-js-faults"));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	T_ASSERT(sh != MAP_FAILED);
	srv.store = br_store();
	br_server_start(&srv);
	err = br_log(log_path);
	t_name(a, sizeof(a), "ja");
	t_name(b, sizeof(b), "jb");
	snprintf(subject, sizeof(subject), "shmkit.jsfaults.%s", a);
	T_OK(shmkit_chan_create(a, 256 << 10, SHMKIT_MODE_DEFAULT, 0));
	in = start_in(err);
	br_wait_name(b);
	cons = t_fork(consumer, NULL);
	prod = t_fork(producer, NULL);
	out = start_out(err);
	until_got(1);
	for (k = 0; k < 3 * rounds; k++) {
		br_nap(50 + (int)(t_rand() % 300));
		switch (k % 3) {
		case 0:
			br_kill9(out);
			out = start_out(err);
			break;
		case 1:
			br_kill9(in);
			in_kills++;
			in = start_in(err);
			break;
		case 2:
			br_server_kill(&srv);
			srv_kills++;
			br_server_start(&srv);
			break;
		}
		/* moving again: a message sent after the fault arrives */
		until_got(sh->sent + 1);
	}
	sh->stop = 1;
	T_EQ(t_wait(prod), 0);
	until_got(sh->sent);
	st_out = br_wait(out);
	st_in = br_wait(in);
	T_EQ(t_wait(cons), 0);
	close(err);
	log = br_slurp(log_path);
	if (sh->why[0])
		t_fail(__FILE__, __LINE__, "%s", sh->why);
	printf("%llu sent, %llu got, %llu came again; out %d, in %d\n%s",
	       (unsigned long long)sh->sent, (unsigned long long)sh->got,
	       (unsigned long long)sh->again, st_out, st_in, stats_line(log));
	if (st_out != 0 || st_in != 0)
		fprintf(stderr, "the bridges said:\n%s", log);
	T_EQ(st_out, 0);
	T_EQ(st_in, 0);
	T_EQ(sh->end, -SHMKIT_EEOF);
	T_EQ(sh->got, sh->sent);	/* 1 to sent, each once, in order */
	/* repeats: what a killed in, or a server that lost acknowledgements,
	   had committed and not yet had acknowledged: at most the consumer's
	   acknowledgements pending (4 fetches of 256) per such fault */
	T_ASSERT(sh->again <= (uint64_t)(in_kills + srv_kills) * 1024);
	free(log);
	shmkit_chan_destroy(a);
	shmkit_chan_destroy(b);
	return 0;
}
