/*
 * pubsub: one publisher, two subscribers, one topic. The publisher is a
 * sensor that takes a reading every millisecond. The fast subscriber
 * reads each one as it comes; the slow one spends three milliseconds on
 * each. What the slow one does to the rest depends on the topic's policy:
 *
 *   pubsub block [READINGS]       the publisher waits for the slow one
 *   pubsub overwrite [READINGS]   the publisher keeps its rate; the slow
 *                                 one loses readings, and is told how many
 *
 * The subscribers are processes of their own, forked from the publisher.
 * Each checks every reading: its sequence number must be the next one
 * after those received and lost so far (so none comes out of order,
 * twice, or unaccounted for), and its value the one the sensor computes
 * for that number (so a torn copy shows). The publisher then checks that
 * each subscriber received or lost every reading it published, and under
 * the block policy received every one. Exits 1 if anything fails, 2 on
 * bad usage. The topic is destroyed on every way out but kill -9.
 */
#define _DEFAULT_SOURCE	/* clock_nanosleep, sigaction, kill under strict C11 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"

#define PERIOD_NS 1000000L	/* the sensor's rate */
#define SLOW_NS 3000000L	/* the slow subscriber's work on one reading */
#define SLOTS 8			/* the ring holds 8 ms of readings */
/* a subscriber alive but stuck would hold a block-policy publisher forever */
#define SEND_TIMEOUT_MS 10000

struct reading {
	uint64_t seq;
	uint64_t taken_ns;	/* CLOCK_MONOTONIC, the same clock in every process */
	double value;
};

/* What a subscriber reports back to the publisher, through its pipe. */
struct tally {
	uint64_t received, lost;
	uint64_t gaps;		/* times it was told -SHMKIT_ELOST */
	uint64_t age_ns;	/* the readings' ages when read, summed */
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A function of the sequence number alone, so a subscriber can check it. */
static double sensor_value(uint64_t seq)
{
	return 20.0 + (double)(seq % 100) / 10.0;
}

static int subscribe(const char *name, int slow, int fd)
{
	const char *who = slow ? "slow" : "fast";
	const struct timespec work = { 0, SLOW_NS };
	struct tally t = { 0 };
	struct shmkit_sub *sub;
	struct reading m;
	size_t len;
	int r;

	if ((r = shmkit_sub_open(name, 0, &sub)) < 0)
		return fprintf(stderr, "%s: %s\n", who, shmkit_strerror(r)), 1;
	/* joined: every reading from the first on is ours to read or to lose */
	if (write(fd, "", 1) != 1)
		return shmkit_sub_close(sub), 1;
	for (;;) {
		r = shmkit_sub_recv(sub, &m, sizeof(m), &len, -1);
		if (r == -SHMKIT_ELOST) {
			t.gaps++;	/* shmkit_sub_lost() has counted the gap */
			continue;
		}
		if (r < 0)
			break;
		/* joined before reading 0: each one's number counts all before it */
		if (len != sizeof(m) || m.seq != t.received + shmkit_sub_lost(sub) ||
		    m.value != sensor_value(m.seq)) {
			fprintf(stderr, "%s: reading %llu came after %llu received and %llu lost\n",
				who, (unsigned long long)m.seq, (unsigned long long)t.received,
				(unsigned long long)shmkit_sub_lost(sub));
			shmkit_sub_close(sub);
			return 1;
		}
		t.received++;
		t.age_ns += now_ns() - m.taken_ns;
		if (slow)
			nanosleep(&work, NULL);
	}
	t.lost = shmkit_sub_lost(sub);
	shmkit_sub_close(sub);
	if (r != -SHMKIT_EEOF)
		return fprintf(stderr, "%s: %s\n", who, shmkit_strerror(r)), 1;
	return write(fd, &t, sizeof(t)) != sizeof(t);
}

static pid_t start_subscriber(const char *name, int slow, int *fd)
{
	pid_t parent = getpid(), pid;
	int p[2];

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* a publisher gone before it opened would leave us waiting forever */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
			_exit(1);
		_exit(subscribe(name, slow, p[1]));
	}
	close(p[1]);
	if (pid < 0)
		close(p[0]);
	else
		*fd = p[0];
	return pid;
}

/* One reading every PERIOD_NS; *ms is how long it took. */
static int publish(struct shmkit_pub *pub, uint64_t readings, uint64_t *ms)
{
	uint64_t start = now_ns();
	struct timespec next;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t seq = 0; seq < readings; seq++) {
		struct reading m = { .seq = seq, .taken_ns = now_ns(), .value = sensor_value(seq) };

		if ((r = shmkit_pub_send(pub, &m, sizeof(m), SEND_TIMEOUT_MS)) < 0)
			return r;
		/* deadlines, not naps: the time a send took comes off the next wait */
		next.tv_nsec += PERIOD_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL)) == EINTR &&
		       !stop)
			;
		if (stop)
			return -EINTR;
	}
	*ms = (now_ns() - start) / 1000000u;
	return 0;
}

static int read_full(int fd, void *buf, size_t len)
{
	ssize_t n;

	for (size_t got = 0; got < len; got += (size_t)n)
		if ((n = read(fd, (char *)buf + got, len - got)) <= 0)
			return -1;
	return 0;
}

/* What the publisher can check of a subscriber's tally. 1 if it holds. */
static int check(const char *who, const struct tally *t, uint64_t readings, int policy)
{
	const char *why = NULL;

	if (t->received + t->lost != readings)
		why = "received and lost do not add up to what was published";
	else if (policy == SHMKIT_TOPIC_BLOCK && t->lost)
		why = "it lost readings, and the block policy loses none";
	else if (!t->lost != !t->gaps)
		why = "its lost readings and its gaps disagree";
	if (why)
		fprintf(stderr, "pubsub: %s: %s\n", who, why);
	return !why;
}

int main(int argc, char **argv)
{
	struct shmkit_topic_params params = {
		.max_msg = sizeof(struct reading),
		.slots = SLOTS,
		.max_subs = 2,
		.history = 0,	/* both subscribers join before the first reading */
	};
	static const char *const who[2] = { "fast", "slow" };
	struct sigaction sa = { .sa_handler = on_signal };
	struct shmkit_pub *pub = NULL;
	struct tally t[2];
	pid_t pid[2] = { -1, -1 };
	int fd[2] = { -1, -1 }, ok = 0, r = 0, i, status;
	uint64_t readings = 500, ms = 0;
	char name[64], c, *end;

	if (argc > 1 && !strcmp(argv[1], "block"))
		params.policy = SHMKIT_TOPIC_BLOCK;
	else if (argc > 1 && !strcmp(argv[1], "overwrite"))
		params.policy = SHMKIT_TOPIC_OVERWRITE;
	if (argc > 2) {
		errno = 0;
		readings = strtoull(argv[2], &end, 10);
		if (errno || *end || argv[2][0] == '-' || readings == 0)
			params.policy = 0;
	}
	if (!params.policy || argc > 3) {
		fprintf(stderr, "usage: pubsub block|overwrite [READINGS]\n");
		return 2;
	}

	snprintf(name, sizeof(name), "pubsub-%d", (int)getpid());
	if ((r = shmkit_topic_create(name, &params, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)) < 0)
		return fprintf(stderr, "pubsub: %s: %s\n", name, shmkit_strerror(r)), 1;
	fflush(stdout);
	for (i = 0; i < 2; i++)
		if ((pid[i] = start_subscriber(name, i, &fd[i])) < 0) {
			perror("pubsub: starting a subscriber");
			goto out;
		}
	/* only the publisher catches these: it must live to remove the topic */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	for (i = 0; i < 2; i++)
		if (read_full(fd[i], &c, 1) < 0) {
			if (!stop)
				fprintf(stderr, "pubsub: the %s subscriber did not join\n", who[i]);
			goto out;
		}
	if ((r = shmkit_pub_open(name, 0, &pub)) < 0 || (r = publish(pub, readings, &ms)) < 0) {
		fprintf(stderr, "pubsub: publishing: %s\n", shmkit_strerror(r));
		goto out;
	}
	/* end of stream: each subscriber reads what is left, then reports */
	r = shmkit_pub_close(pub);
	pub = NULL;
	if (r < 0) {
		fprintf(stderr, "pubsub: %s\n", shmkit_strerror(r));
		goto out;
	}
	for (i = 0; i < 2; i++)
		if (read_full(fd[i], &t[i], sizeof(t[i])) < 0) {
			fprintf(stderr, "pubsub: the %s subscriber failed\n", who[i]);
			goto out;
		}
	ok = 1;
out:
	/* abort, not close: a subscriber must not take a cut stream for a whole one */
	if (pub)
		shmkit_pub_abort(pub);
	for (i = 0; i < 2; i++) {
		if (pid[i] <= 0)
			continue;
		if (!ok)
			kill(pid[i], SIGKILL);	/* also one stopped, or stuck */
		while ((r = waitpid(pid[i], &status, 0)) < 0 && errno == EINTR)
			;
		if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			if (ok)
				fprintf(stderr, "pubsub: the %s subscriber failed\n", who[i]);
			ok = 0;
		}
		close(fd[i]);
	}
	if ((r = shmkit_topic_destroy(name)) < 0) {
		fprintf(stderr, "pubsub: removing %s: %s\n", name, shmkit_strerror(r));
		ok = 0;
	}
	if (stop)
		fprintf(stderr, "pubsub: interrupted\n");
	if (!ok)
		return 1;

	printf("%s: published %llu readings in %llu ms; at the sensor's rate that takes %llu ms\n",
	       argv[1], (unsigned long long)readings, (unsigned long long)ms,
	       (unsigned long long)(readings * (PERIOD_NS / 1000000)));
	for (i = 0; i < 2; i++)
		printf("%s: %llu readings, %llu lost in %llu gap%s, %llu in all; mean age %.2f ms\n",
		       who[i], (unsigned long long)t[i].received, (unsigned long long)t[i].lost,
		       (unsigned long long)t[i].gaps, t[i].gaps == 1 ? "" : "s",
		       (unsigned long long)(t[i].received + t[i].lost),
		       t[i].received ? (double)t[i].age_ns / (double)t[i].received / 1e6 : 0.0);
	for (i = 0; i < 2; i++)
		ok &= check(who[i], &t[i], readings, params.policy);
	return !ok;
}
