/*
 * shmkit-bridge end to end, through a nats-server of the test's own
 * (with JetStream): a byte stream through the commands (producer |
 * shmkit send A, out A -> subject -> in -> B, shmkit recv B | us),
 * checked byte for byte; and framed messages from a library producer to
 * a library consumer, each checked whole and in order by its number; in
 * core mode, then in JetStream mode. Both bridges exit 0 and nothing is
 * lost. 64 MiB and 100,000 messages each; 1 GiB and 1,000,000 under make
 * stress.
 */
#include "bridge.h"

#include <inttypes.h>

#define CHUNK 65536

static struct br_server srv;
static char log_path[64];
static char *mode = "core";	/* --delivery */
/* the figure a clean run's --stats shows of both bridges */
#define CLEAN (!strcmp(mode, "core") ? " 0 lost" : " 0 pending")

static void check_chunk(const unsigned char *p, size_t n, uint64_t at)
{
	size_t bad = payload_check(p, n, at / CHUNK);

	if (bad)
		t_fail(__FILE__, __LINE__, "byte %llu differs (its chunk begins as chunk %llu)",
		       (unsigned long long)(at + bad - 1), (unsigned long long)payload_tag(p, n));
}

/* Starts 'in SUBJECT B' and waits until it has subscribed. */
static pid_t start_in(const char *subject, const char *b, int err)
{
	char *argv[] = { br_bin, "in", "-s", srv.url, "--delivery", mode, "--stats",
			 (char *)subject, (char *)b, NULL };
	pid_t pid = br_spawn(argv, -1, -1, err);

	br_wait_name(b);
	return pid;
}

static int no_batch;	/* out --no-batch */

static pid_t start_out(const char *a, const char *subject, int err)
{
	char *argv[] = { br_bin, "out", "-s", srv.url, "--delivery", mode, "--stats", (char *)a,
			 (char *)subject, no_batch ? "--no-batch" : NULL, NULL };

	return br_spawn(argv, -1, -1, err);
}

static void bytes(void)
{
	const uint64_t total = t_scale(1) > 1 ? 1ull << 30 : 64ull << 20;
	static unsigned char buf[CHUNK];
	char a[64], b[64], subject[80], *log;
	char *send_argv[] = { getenv("S"), "send", "-c", "1M", a, NULL };
	char *recv_argv[] = { getenv("S"), "recv", b, NULL };
	int in_pipe[2], out_pipe[2], err = br_log(log_path);
	pid_t gen, snd, rcv, in, out;
	uint64_t got = 0, i;
	size_t have = 0;

	t_name(a, sizeof(a), "bra");
	t_name(b, sizeof(b), "brb");
	snprintf(subject, sizeof(subject), "shmkit.test.%s", a);
	T_ASSERT(pipe2(in_pipe, O_CLOEXEC) == 0 && pipe2(out_pipe, O_CLOEXEC) == 0);
	in = start_in(subject, b, err);
	rcv = br_spawn(recv_argv, -1, out_pipe[1], err);
	gen = t_child();
	if (gen == 0) {
		close(in_pipe[0]);
		close(out_pipe[0]);
		for (i = 0; i * CHUNK < total; i++) {
			uint64_t left = total - i * CHUNK;
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			payload_fill(buf, n, i);
			if (write(in_pipe[1], buf, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	snd = br_spawn(send_argv, in_pipe[0], -1, err);
	out = start_out(a, subject, err);
	close(in_pipe[0]);
	close(in_pipe[1]);
	close(out_pipe[1]);
	for (;;) {
		ssize_t n = read(out_pipe[0], buf + have, sizeof(buf) - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have == sizeof(buf)) {
			check_chunk(buf, have, got);
			got += have;
			have = 0;
		}
	}
	if (have) {
		check_chunk(buf, have, got);
		got += have;
	}
	close(out_pipe[0]);
	T_EQ(t_wait(gen), 0);
	T_EQ(br_wait(snd), 0);
	T_EQ(br_wait(out), 0);
	T_EQ(br_wait(in), 0);
	T_EQ(br_wait(rcv), 0);
	T_EQ(got, total);
	close(err);
	log = br_slurp(log_path);
	T_STR_CONTAINS(log, CLEAN);
	T_ASSERT(!strstr(log, "lost the server"));
	free(log);
	T_ASSERT(!t_name_exists(a));
	T_ASSERT(!t_name_exists(b));
}

static size_t msg_size(uint64_t i)
{
	return 8 + (size_t)(t_mix(i) % 2000);
}

static int producer(void *arg)
{
	const char *a = arg;
	uint64_t n = t_scale(1) > 1 ? 1000000 : 100000, i;
	static unsigned char buf[4096];
	struct shmkit_chan *tx;

	if (shmkit_chan_create(a, 1 << 20, SHMKIT_MODE_DEFAULT, 0) < 0 ||
	    shmkit_chan_open(a, SHMKIT_PRODUCER, &tx) < 0)
		return 1;
	for (i = 1; i <= n; i++) {
		payload_fill(buf, msg_size(i), i);
		if (shmkit_chan_send(tx, buf, msg_size(i), 20000) < 0)
			return 2;
	}
	return shmkit_chan_close(tx) < 0 ? 3 : 0;
}

static void framed(void)
{
	char a[64], b[64], subject[80], *log;
	static unsigned char buf[4096];
	uint64_t n = t_scale(1) > 1 ? 1000000 : 100000, next = 1;
	int err = br_log(log_path), r;
	struct shmkit_chan *rx;
	pid_t prod, in, out;
	size_t len;

	t_name(a, sizeof(a), "fra");
	t_name(b, sizeof(b), "frb");
	snprintf(subject, sizeof(subject), "shmkit.test.%s", a);
	in = start_in(subject, b, err);
	T_OK(shmkit_chan_open(b, SHMKIT_CONSUMER, &rx));
	prod = t_fork(producer, a);
	out = start_out(a, subject, err);
	while ((r = shmkit_chan_recv(rx, buf, sizeof(buf), &len, 20000)) == 0) {
		T_EQ(payload_tag(buf, len), next);
		T_EQ(len, msg_size(next));
		T_PAYLOAD(buf, len, next);
		next++;
	}
	if (r != -SHMKIT_EEOF) {
		char *said = br_slurp(log_path);

		fprintf(stderr, "the bridges said:\n%s", said);
		free(said);
		t_fail(__FILE__, __LINE__, "%s mode: after message %" PRIu64 " of %" PRIu64 ": %s",
		       mode, next - 1, n, shmkit_strerror(r));
	}
	T_EQ(next - 1, n);
	T_OK(shmkit_chan_close(rx));
	T_EQ(t_wait(prod), 0);
	T_EQ(br_wait(out), 0);
	T_EQ(br_wait(in), 0);
	close(err);
	log = br_slurp(log_path);
	T_STR_CONTAINS(log, CLEAN);
	if (!strcmp(mode, "core")) {
		/* out's NATS messages: one per message and the end with
		   --no-batch; fewer, packed, without (the producer runs ahead) */
		const char *at = strstr(log, "out: ");
		uint64_t nats_msgs;

		T_ASSERT(at && (at = strstr(at, " NATS messages")));
		while (at > log && at[-1] != ',')
			at--;
		T_ASSERT(sscanf(at, " %" SCNu64 " NATS messages", &nats_msgs) == 1);
		if (no_batch) {
			T_EQ(nats_msgs, n + 1);
		} else {
			/* messages of up to 4 KiB travel in packs of up to
			   16 KiB (bridge.h: PACK_SMALL_BYTES), each record
			   4 bytes of length and the message, after a 40-byte
			   preamble */
			uint64_t packed = 0, least;

			for (uint64_t i = 1; i <= n; i++)
				packed += 4 + msg_size(i);
			least = (packed + (16384 - 40) - 1) / (16384 - 40);
			T_ASSERT(nats_msgs < n);
			T_ASSERT(nats_msgs >= least);
		}
		printf("core%s: %" PRIu64 " messages in %" PRIu64 " NATS messages\n",
		       no_batch ? ", --no-batch" : "", n, nats_msgs);
	}
	free(log);
	shmkit_chan_destroy(b); /* unless 'in' was last out and removed it */
	T_ASSERT(!t_name_exists(b));
	T_ASSERT(!t_name_exists(a));
}

/*
 * The bridge's benchmark, a tenth of its 64-byte case: it ends well, and
 * its time column is the median of the pairs' ratios, within their range.
 */
static void bench_quick(void)
{
	char *out = NULL, *line;
	double med, lo, hi;

	T_EQ(t_sh(&out, NULL, "\"$BRIDGE\" bench --quick --size 64 --rounds 3"), 0);
	T_ASSERT((line = strstr(out, "\n   64B ")));
	T_ASSERT(sscanf(line, " 64B %*s %*s %*s %*s %*s %*s %*s %*s %*s %lfx [%lf-%lf]",
			&med, &lo, &hi) == 3);
	T_ASSERT(lo > 0 && lo <= med && med <= hi);
	printf("bench --quick: 64 B, the bridge's time %.2fx of direct's [%.2f-%.2f]\n",
	       med, lo, hi);
	free(out);
}

int main(void)
{
	br_setup();
	strcpy(log_path, t_tmpfile("bridge-log"));
	srv.store = br_store();
	br_server_start(&srv);
	bench_quick();
	bytes();
	unlink(log_path);
	framed();
	unlink(log_path);
	no_batch = 1;
	framed();
	unlink(log_path);
	no_batch = 0;
	mode = "jetstream";
	bytes();
	unlink(log_path);
	framed();
	return 0;
}
