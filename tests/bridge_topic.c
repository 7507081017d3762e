/*
 * shmkit-bridge with topics, through a nats-server of the test's own:
 *  - out --topic: a library publisher's topic, read by out as a
 *    subscriber, into a channel at the far end, every message whole and
 *    in order, then the end;
 *  - in --topic --wait-subs 2: a channel into a topic that in makes, read
 *    by two library subscribers, each getting every message, in core and
 *    in JetStream mode;
 *  - under the overwrite policy, an out bridge stopped (SIGSTOP) while
 *    the publisher goes on loses messages: out says so, in counts every
 *    one of them lost, the far channel ends failed, and what came plus
 *    what was counted is all that was published;
 *  - a topic and a channel that another user (65534) made first, under
 *    the names the bridges are told: each of the four refuses them, as
 *    send, recv, pub and sub do, and says --shared would take them.
 * 20,000 messages each; 200,000 in JetStream mode under make stress.
 * Core mode stays at 20,000 (10 MB) whatever the scale: core NATS drops
 * what in falls behind by more than its client and the server hold for
 * it (64 MiB each), which a stream of 100 MB into a topic two
 * subscribers check can do (seen, and counted lost, as it must be).
 */
#include "bridge.h"

#include <inttypes.h>

static struct br_server srv;
static char log_path[64];

static uint64_t msgs;	/* this case's messages: count(mode) */

static uint64_t count(const char *mode)
{
	return !strcmp(mode, "jetstream") && t_scale(1) > 1 ? 200000 : 20000;
}

static size_t msg_size(uint64_t i)
{
	return 8 + (size_t)(t_mix(i) % 1000);
}

struct pub_job {
	const char *name;
	int policy;
	uint64_t n;
};

/* Makes the topic, waits for one subscriber (the out bridge), publishes n. */
static int publisher(void *arg)
{
	const struct pub_job *job = arg;
	struct shmkit_topic_params tp = { .max_msg = 2048, .slots = 16, .max_subs = 4,
					  .policy = job->policy };
	static unsigned char buf[2048];
	struct shmkit_pub *pub;
	uint64_t i;

	if (shmkit_topic_create(job->name, &tp, SHMKIT_MODE_DEFAULT, 0) < 0 ||
	    shmkit_pub_open(job->name, 0, &pub) < 0)
		return 1;
	while (shmkit_pub_subscribers(pub) < 1)
		br_nap(5);
	for (i = 1; i <= job->n; i++) {
		payload_fill(buf, msg_size(i), i);
		if (shmkit_pub_send(pub, buf, msg_size(i), 20000) < 0)
			return 2;
	}
	return shmkit_pub_close(pub) < 0 ? 3 : 0;
}

/* The far channel's messages, checked; the count got, *end the last result. */
static uint64_t drain(const char *name, uint64_t *missing, int *end)
{
	static unsigned char buf[2048];
	struct shmkit_chan *rx;
	uint64_t got = 0, last = 0, tag;
	size_t len;
	int r;

	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &rx));
	while ((r = shmkit_chan_recv(rx, buf, sizeof(buf), &len, 30000)) == 0) {
		tag = payload_tag(buf, len);
		T_ASSERT(tag > last);
		T_EQ(len, msg_size(tag));
		T_PAYLOAD(buf, len, tag);
		*missing += tag - last - 1;
		last = tag;
		got++;
	}
	*end = r;
	T_OK(shmkit_chan_close(rx));
	return got;
}

static char *said(int err)
{
	close(err);
	return br_slurp(log_path);
}

/* The sum of in's "lost N messages" lines. */
static uint64_t reported_lost(const char *log)
{
	const char *line = log, *end, *at;
	uint64_t sum = 0;

	for (; *line; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if (!strncmp(line, "shmkit-bridge: in: ", 19) && (at = strstr(line, ": lost ")) &&
		    at < end)
			sum += strtoull(at + 7, NULL, 10);
	}
	return sum;
}

/* Subscribers holding a place in topic name now (0 if it is not there). */
static uint32_t subscribers(const char *name)
{
	struct shmkit_ref ref = t_name_ref(name);
	struct shmkit_topic_info info;
	int shmid = shmkit_seg_open(&ref);

	if (shmid < 0 || shmkit_topic_info(shmid, &info, NULL, 0) < 0)
		return 0;
	return info.nsubs;
}

static void out_topic(int policy, int stop)
{
	char t[64], c[64], subject[80], *log;
	struct pub_job job = { .name = t, .policy = policy, .n = msgs = count("core") };
	uint64_t got, missing = 0;
	int err = br_log(log_path), end, st_in;
	pid_t pub, in, out;

	t_name(t, sizeof(t), "bt");
	t_name(c, sizeof(c), "bc");
	snprintf(subject, sizeof(subject), "shmkit.test.%s", t);
	{
		char *argv[] = { br_bin, "in", "-s", srv.url, "--stats", subject, c, NULL };

		in = br_spawn(argv, -1, -1, err);
	}
	br_wait_name(c);
	pub = t_fork(publisher, &job);
	{
		char *argv[] = { br_bin, "out", "-s", srv.url, "--topic", "--stats", t, subject,
				 NULL };

		out = br_spawn(argv, -1, -1, err);
	}
	if (stop) {
		/* stopped once it holds its place, before the publisher (which
		   waits for it) begins: all but the topic's last 16 go by */
		while (subscribers(t) < 1)
			br_nap(1);
		kill(out, SIGSTOP);
		T_EQ(t_wait(pub), 0);
		kill(out, SIGCONT);
	}
	got = drain(c, &missing, &end);
	if (!stop)
		T_EQ(t_wait(pub), 0);
	T_EQ(br_wait(out), 0);
	st_in = br_wait(in);
	log = said(err);
	if (!stop) {
		if (end != -SHMKIT_EEOF || st_in != 0 || got != job.n)
			fprintf(stderr, "the bridges said:\n%s", log);
		T_EQ(end, -SHMKIT_EEOF);
		T_EQ(st_in, 0);
		T_EQ(got, job.n);
		T_STR_CONTAINS(log, " 0 lost");
	} else {
		uint64_t lost = reported_lost(log);

		printf("overwrite, out stopped: %" PRIu64 " got, %" PRIu64 " missing, %" PRIu64
		       " reported lost\n", got, missing, lost);
		if (!missing)
			fprintf(stderr, "the bridges said:\n%s", log);
		T_ASSERT(missing > 0);
		T_STR_CONTAINS(log, "overwritten before the bridge read them");
		T_EQ(st_in, 1);
		T_EQ(end, -SHMKIT_EABORTED);
		T_ASSERT(lost >= missing);
		T_EQ(got + lost, job.n);
	}
	free(log);
	shmkit_chan_destroy(c);	/* in removes it only if we closed first */
}

struct sub_job {
	const char *name;
	uint64_t n;
};

static int subscriber(void *arg)
{
	const struct sub_job *job = arg;
	static unsigned char buf[2048];
	struct shmkit_sub *sub;
	uint64_t next = 1;
	size_t len;
	int r;

	if (shmkit_sub_open_wait(job->name, 0, 30000, &sub) < 0)
		return 1;
	while ((r = shmkit_sub_recv(sub, buf, sizeof(buf), &len, 30000)) == 0) {
		if (payload_tag(buf, len) != next || len != msg_size(next) ||
		    payload_check(buf, len, next))
			return 2;
		next++;
	}
	if (r != -SHMKIT_EEOF || next - 1 != job->n)
		return 3;
	return shmkit_sub_close(sub) < 0 ? 4 : 0;
}

static int producer(void *arg)
{
	const char *a = arg;
	static unsigned char buf[2048];
	struct shmkit_chan *tx;
	uint64_t i;

	if (shmkit_chan_create(a, 1 << 20, SHMKIT_MODE_DEFAULT, 0) < 0 ||
	    shmkit_chan_open(a, SHMKIT_PRODUCER, &tx) < 0)
		return 1;
	for (i = 1; i <= msgs; i++) {
		payload_fill(buf, msg_size(i), i);
		if (shmkit_chan_send(tx, buf, msg_size(i), 20000) < 0)
			return 2;
	}
	return shmkit_chan_close(tx) < 0 ? 3 : 0;
}

static void in_topic(const char *mode)
{
	char a[64], t[64], subject[80], *log;
	struct sub_job job = { .name = t, .n = msgs = count(mode) };
	int err = br_log(log_path), st_in, st_s1, st_s2;
	pid_t s1, s2, prod, in, out;

	t_name(a, sizeof(a), "ba");
	t_name(t, sizeof(t), "bu");
	snprintf(subject, sizeof(subject), "shmkit.test.%s", a);
	s1 = t_fork(subscriber, &job);
	s2 = t_fork(subscriber, &job);
	{
		char *argv[] = { br_bin, "in", "-s", srv.url, "--delivery", (char *)mode, "--topic",
				 "--wait-subs", "2", "--max-msg", "2K", "--stats", subject, t, NULL };

		in = br_spawn(argv, -1, -1, err);
	}
	br_wait_name(t);	/* in has subscribed to the subject by then */
	prod = t_fork(producer, a);
	{
		char *argv[] = { br_bin, "out", "-s", srv.url, "--delivery", (char *)mode,
				 "--stats", a, subject, NULL };

		out = br_spawn(argv, -1, -1, err);
	}
	st_s1 = t_wait(s1);
	st_s2 = t_wait(s2);
	T_EQ(t_wait(prod), 0);
	T_EQ(br_wait(out), 0);
	st_in = br_wait(in);
	log = said(err);
	if (st_s1 || st_s2 || st_in)
		fprintf(stderr, "%s mode; the bridges said:\n%s", mode, log);
	T_EQ(st_s1, 0);
	T_EQ(st_s2, 0);
	T_EQ(st_in, 0);
	free(log);
	T_ASSERT(!t_name_exists(t));
}

#define NOBODY "setpriv --reuid=65534 --regid=65534 --clear-groups"

/* One bridge command on a squatted name: refused at once, naming --shared. */
static void refused(const char *args)
{
	char *err = NULL;
	int st = t_sh(NULL, &err, "timeout 20 '%s' %s", br_bin, args);

	if (st != 1 || !strstr(err, "--shared"))
		fprintf(stderr, "shmkit-bridge %s: exit %d, said:\n%s", args, st, err);
	T_EQ(st, 1);
	T_STR_CONTAINS(err, "--shared");
	free(err);
}

/*
 * Another user's topic or channel under the name given: reading it would
 * carry whatever its owner forges to the far side, writing it would hand
 * them the stream. Last: the runner counts the whole as skipped if
 * setpriv cannot switch users here.
 */
static void squatted(void)
{
	char t[64], c[64], args[512];

	if (t_sh(NULL, NULL, NOBODY " true") != 0)
		t_skip("setpriv cannot switch to uid 65534 here");
	t_name(t, sizeof(t), "sqt");
	t_name(c, sizeof(c), "sqc");
	T_EQ(t_sh(NULL, NULL, NOBODY " \"$S\" pub -m 0666 --keep %s < /dev/null", t), 0);
	T_EQ(t_sh(NULL, NULL, NOBODY " \"$S\" send -m 0666 --keep %s < /dev/null", c), 0);
	snprintf(args, sizeof(args), "out -s %s --topic %s shmkit.test.%s", srv.url, t, t);
	refused(args);
	snprintf(args, sizeof(args), "in -s %s --topic shmkit.test.%s %s", srv.url, t, t);
	refused(args);
	snprintf(args, sizeof(args), "out -s %s %s shmkit.test.%s", srv.url, c, c);
	refused(args);
	snprintf(args, sizeof(args), "in -s %s shmkit.test.%s %s", srv.url, c, c);
	refused(args);
	/* still the squatter's, untouched */
	T_ASSERT(t_name_exists(t));
	T_ASSERT(t_name_exists(c));
	T_EQ(t_sh(NULL, NULL, "\"$S\" rm -n %s && \"$S\" rm -n %s", t, c), 0);
}

int main(void)
{
	br_setup();
	strcpy(log_path, t_tmpfile("bridge-topic"));
	srv.store = br_store();
	br_server_start(&srv);
	out_topic(SHMKIT_TOPIC_BLOCK, 0);
	in_topic("core");
	in_topic("jetstream");
	out_topic(SHMKIT_TOPIC_OVERWRITE, 1);
	squatted();
	return 0;
}
