/*
 * shmkit-bridge refusing what it cannot do, each time with one line on
 * stderr and the exit status of the shmkit commands (1 the system or the
 * peer said no, 2 bad usage): bad options and arguments, an unreachable
 * server, a credentials file that is missing or no such file, a message
 * larger than the receiving channel takes, one larger than the server
 * takes, JetStream asked of a server without it, a --stream that does not
 * exist; and no channel left behind. And what anyone may publish on the
 * subject, written to the server by hand: payloads that are not a pack,
 * preambles that say nothing possible, a pack whose lengths overrun it.
 * 'in' drops or counts each, delivers what is whole, and fails the
 * stream at its end for what went missing.
 */
#include "bridge.h"

static struct br_server srv;

static void one_line(const char *err)
{
	T_ASSERT(err && *err);
	if (strchr(err, '\n') != err + strlen(err) - 1)
		t_fail(__FILE__, __LINE__, "not one line: %s", err);
}

/* Runs a shell snippet ($BRIDGE, $URL); expects status and one line
 * containing want on stderr. */
static void expect(int status, const char *want, const char *fmt, const char *arg)
{
	char *err = NULL;

	if (t_sh(NULL, &err, fmt, arg) != status)
		t_fail(__FILE__, __LINE__, "'%s' with '%s': not status %d: %s", fmt, arg, status,
		       err);
	one_line(err);
	T_STR_CONTAINS(err, want);
	free(err);
}

static void usage(void)
{
	static const char *const bad[][2] = {
		{ "sideways", "unknown direction" },
		{ "out chan", "give CHANNEL and SUBJECT" },
		{ "in", "give SUBJECT and CHANNEL" },
		{ "out a b c", "unexpected argument" },
		{ "out chan 'a b'", "not a subject" },
		{ "in 'orders.*' chan", "not a subject" },
		{ "in a..b chan", "not a subject" },
		{ "in subj a/b", "not a channel name" },
		{ "out --timeout soon a b", "not a number of seconds" },
		{ "in --capacity 0 a b", "size" },
		{ "out --delivery jetstream --durable d a b", "--durable is for 'in'" },
		{ "in --stream s a b", "--stream is for --delivery jetstream" },
		{ "in --delivery jetstream --stream 'a.b' a b", "--stream 'a.b'" },
		{ "in --delivery maybe a b", "core or jetstream" },
		{ "bench --rounds 0", "--rounds N (1 to 99)" },
		{ "bench --size 5K", "--size is 64, 4K or 64K" },
		{ "bench --size", "--size SIZE" },
		{ "out --no-batch --delivery jetstream a b x", "unexpected argument" },
		{ "in --no-batch a b", "--no-batch is for 'out'" },
		{ "out --bogus a b", "unrecognized option" },
		{ "out --topic --delivery jetstream t s", "for 'in' only" },
		{ "out --from oldest a b", "--from is for 'out --topic'" },
		{ "in --topic --from next s t", "--from is for 'out --topic'" },
		{ "out --topic --from first t s", "oldest or next" },
		{ "out --topic --max-msg 1K t s", "are for 'in --topic'" },
		{ "in --slots 8 s c", "are for 'in --topic'" },
		{ "in --wait-subs 2 s c", "are for 'in --topic'" },
		{ "in --topic --wait-subs 0 s t", "a number from 1 to 1024" },
		{ "in --topic --capacity 1M s t", "--capacity is for a channel" },
		{ "in --topic --history 9 --slots 8 s t", "at most slots - 2" },
		{ "in --topic --policy sometimes s t", "block or overwrite" },
		{ "in --topic s a/b", "not a topic name" },
	};
	char *out = NULL, *err = NULL;

	/* no direction: the usage, on stderr, as shmkit does */
	T_EQ(t_sh(NULL, &err, "\"$BRIDGE\""), 2);
	T_STR_CONTAINS(err, "Usage: shmkit-bridge out");
	free(err);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(2, bad[i][1], "\"$BRIDGE\" %s", bad[i][0]);
	T_EQ(t_sh(&out, NULL, "\"$BRIDGE\" out --help && \"$BRIDGE\" in --help && "
		  "\"$BRIDGE\" --help && \"$BRIDGE\" --version && \"$BRIDGE\" bench --help"), 0);
	T_STR_CONTAINS(out, "Usage: shmkit-bridge bench");
	T_STR_CONTAINS(out, "Usage: shmkit-bridge out");
	T_STR_CONTAINS(out, "Usage: shmkit-bridge in");
	T_STR_CONTAINS(out, "shmkit-bridge 0.");
	free(out);
}

static void unreachable(void)
{
	char name[64], url[64];

	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", br_free_port());
	setenv("DEAD", url, 1);
	t_name(name, sizeof(name), "unr");
	expect(1, "no server answered", "\"$BRIDGE\" out -s \"$DEAD\" -t 0.3 %s subj", name);
	expect(1, "no server answered", "\"$BRIDGE\" in -s \"$DEAD\" -t 0.3 subj %s", name);
	expect(1, "no server answered", "\"$BRIDGE\" in -t 0.3 -s %s subj chan", "'http://[bad'");
	T_ASSERT(!t_name_exists(name));
}

static void creds(void)
{
	const char *junk = t_tmpfile("creds");
	char name[64];
	FILE *f = fopen(junk, "w");

	T_ASSERT(f);
	fputs("this is not a credentials file\n", f);
	fclose(f);
	setenv("JUNK", junk, 1);
	t_name(name, sizeof(name), "creds");
	expect(1, "--creds /nonexistent/x.creds", "\"$BRIDGE\" out -s \"$URL\" "
	       "--creds /nonexistent/x.creds %s subj", name);
	expect(1, "with --creds", "\"$BRIDGE\" in -s \"$URL\" --creds \"$JUNK\" subj %s", name);
	T_ASSERT(!t_name_exists(name));
}

/* JetStream asked of a server without it; a --stream that is not there. */
static void jetstream(void)
{
	struct br_server js = { .store = br_store() };
	char name[64];

	t_name(name, sizeof(name), "js");
	expect(1, "no JetStream", "\"$BRIDGE\" out --delivery jetstream -s \"$URL\" %s subj",
	       name);
	expect(1, "no JetStream", "\"$BRIDGE\" in --delivery jetstream -s \"$URL\" subj %s",
	       name);
	br_server_start(&js);
	setenv("JS", js.url, 1);
	expect(1, "stream nope: no such stream", "\"$BRIDGE\" in --delivery jetstream "
	       "--stream nope -s \"$JS\" subj %s", name);
	expect(1, "stream nope: no such stream", "\"$BRIDGE\" out --delivery jetstream "
	       "--stream nope -s \"$JS\" %s subj", name);
	T_ASSERT(!t_name_exists(name));
	br_server_kill(&js);
}

/* Channel a with one message of len bytes in it, closed. */
static void one_message(const char *a, size_t len)
{
	static char buf[8192];
	struct shmkit_chan *tx;

	T_OK(shmkit_chan_create(a, 64 << 10, SHMKIT_MODE_DEFAULT, 0));
	T_OK(shmkit_chan_open(a, SHMKIT_PRODUCER, &tx));
	T_OK(shmkit_chan_send(tx, buf, len, 1000));
	T_OK(shmkit_chan_close(tx));
}

/* Runs out a -> subject -> in b (a topic if topic, of messages up to
 * in_cap; else a channel of capacity in_cap); their statuses and stderr. */
static void bridge_pair(struct br_server *s, const char *a, const char *b, const char *in_cap,
			int topic, int *st_out, int *st_in, char **out_err, char **in_err)
{
	char subject[96], in_log[64], out_log[64];
	char *chan_argv[] = { br_bin, "in", "-s", s->url, "-c", (char *)in_cap, subject,
			      (char *)b, NULL };
	char *topic_argv[] = { br_bin, "in", "-s", s->url, "--topic", "--max-msg",
			       (char *)in_cap, subject, (char *)b, NULL };
	char **in_argv = topic ? topic_argv : chan_argv;
	char *out_argv[] = { br_bin, "out", "-s", s->url, (char *)a, subject, NULL };
	int ie, oe;
	pid_t in, out;

	snprintf(subject, sizeof(subject), "shmkit.bad.%s", a);
	strcpy(in_log, t_tmpfile("in-log"));
	strcpy(out_log, t_tmpfile("out-log"));
	ie = br_log(in_log);
	oe = br_log(out_log);
	in = br_spawn(in_argv, -1, -1, ie);
	br_wait_name(b);
	out = br_spawn(out_argv, -1, -1, oe);
	*st_out = br_wait(out);
	*st_in = br_wait(in);
	close(ie);
	close(oe);
	*in_err = br_slurp(in_log);
	*out_err = br_slurp(out_log);
}

static void too_big(void)
{
	struct br_server small = { .config = t_tmpfile("nats-conf") };
	char a[64], b[64], *out_err, *in_err;
	int st_out, st_in;
	FILE *f;

	/* larger than the receiving channel's largest (2K of a 4K ring) */
	t_name(a, sizeof(a), "biga");
	t_name(b, sizeof(b), "bigb");
	one_message(a, 3000);
	bridge_pair(&srv, a, b, "4K", 0, &st_out, &st_in, &out_err, &in_err);
	T_EQ(st_out, 0);
	T_EQ(st_in, 1);
	one_line(in_err);
	T_STR_CONTAINS(in_err, "a message of 3000 bytes is larger than the channel takes (2048");
	free(out_err);
	free(in_err);
	T_ASSERT(!t_name_exists(a));
	shmkit_chan_destroy(b); /* failed, waiting for a receiver to learn it */

	/* larger than the server's max_payload (set in its configuration) */
	f = fopen(small.config, "w");
	T_ASSERT(f);
	fputs("max_payload: 4096\n", f);
	fclose(f);
	br_server_start(&small);
	t_name(a, sizeof(a), "pla");
	t_name(b, sizeof(b), "plb");
	one_message(a, 5000);
	bridge_pair(&small, a, b, "1M", 0, &st_out, &st_in, &out_err, &in_err);
	T_EQ(st_out, 1);
	T_EQ(st_in, 1);
	one_line(out_err);
	T_STR_CONTAINS(out_err, "a message of 5000 bytes is larger than the server takes (3968");
	one_line(in_err);
	T_STR_CONTAINS(in_err, "the stream was cut at its source (a message larger than the "
		       "server takes)");
	free(out_err);
	free(in_err);
	br_server_kill(&small);
	shmkit_chan_destroy(a);
	shmkit_chan_destroy(b);
}

static void topics(void)
{
	char a[64], t[64], *out_err, *in_err;
	int st_out, st_in;

	/* larger than the topic in makes takes */
	t_name(a, sizeof(a), "tba");
	t_name(t, sizeof(t), "tbt");
	one_message(a, 3000);
	bridge_pair(&srv, a, t, "1K", 1, &st_out, &st_in, &out_err, &in_err);
	T_EQ(st_out, 0);
	T_EQ(st_in, 1);
	one_line(in_err);
	T_STR_CONTAINS(in_err, "a message of 3000 bytes is larger than the topic takes (");
	free(out_err);
	free(in_err);
	T_ASSERT(!t_name_exists(t));	/* in made it, and removed it */

	/* a name that is a channel is not a topic, nor the reverse */
	T_OK(shmkit_chan_create(a, 64 << 10, SHMKIT_MODE_DEFAULT, 0));
	setenv("NAME", a, 1);
	expect(1, "exists and is not a topic", "\"$BRIDGE\" %s -s \"$URL\" s.t \"$NAME\"",
	       "in --topic");
	expect(1, "exists and is not a topic", "\"$BRIDGE\" %s -s \"$URL\" \"$NAME\" s.t",
	       "out --topic");
	shmkit_chan_destroy(a);
}

/* A connection to srv that speaks the NATS protocol by hand. */
static int raw_connect(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char info[4096];

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(fd >= 0);
	T_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	T_ASSERT(read(fd, info, sizeof(info)) > 4);	/* INFO {...} */
	T_ASSERT(!memcmp(info, "INFO", 4));
	return fd;
}

static void raw_write(int fd, const void *p, size_t n)
{
	T_EQ(write(fd, p, n), (ssize_t)n);
}

/* Publishes n bytes at p on subject, without headers. */
static void raw_pub(int fd, const char *subject, const void *p, size_t n)
{
	char line[256];

	raw_write(fd, line, (size_t)snprintf(line, sizeof(line), "PUB %s %zu\r\n", subject, n));
	raw_write(fd, p, n);
	raw_write(fd, "\r\n", 2);
}

/* Publishes n bytes at p on subject with stream id and more headers. */
static void raw_hpub(int fd, const char *subject, const char *id, const char *more,
		     const void *p, size_t n)
{
	char line[256], hdr[256];
	int h = snprintf(hdr, sizeof(hdr), "NATS/1.0\r\nShmkit-Stream: %s\r\n%s\r\n\r\n",
			 id, more);

	raw_write(fd, line, (size_t)snprintf(line, sizeof(line), "HPUB %s %d %zu\r\n", subject,
					     h, (size_t)h + n));
	raw_write(fd, hdr, (size_t)h);
	if (n)
		raw_write(fd, p, n);
	raw_write(fd, "\r\n", 2);
}

/* A pack's preamble (bridge/bridge.h) at p, then its records' room. */
static size_t pack(unsigned char *p, const char *id, uint64_t seq, uint32_t count)
{
	memcpy(p, "SHMKPK01", 8);
	memcpy(p + 8, id, 16);
	for (int i = 0; i < 8; i++)
		p[24 + i] = (unsigned char)(seq >> (8 * i));
	for (int i = 0; i < 4; i++)
		p[32 + i] = (unsigned char)(count >> (8 * i));
	memset(p + 36, 0, 4);
	return 40;
}

static size_t record(unsigned char *p, uint32_t len, const char *bytes, size_t n)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(len >> (8 * i));
	memcpy(p + 4, bytes, n);
	return 4 + n;
}

static void forged(void)
{
	static const char id[] = "0123456789abcdef";
	const char *want[] = { "abc", "de", "x", "yz", "p", "qr" };
	char c[64], subject[96], log_path[64], *log;
	unsigned char buf[512];
	struct shmkit_chan *rx;
	size_t n, len;
	int fd, logfd, r;
	pid_t in;

	t_name(c, sizeof(c), "fgc");
	snprintf(subject, sizeof(subject), "shmkit.test.%s", c);
	strcpy(log_path, t_tmpfile("bridge-forged"));
	logfd = br_log(log_path);
	{
		char *argv[] = { br_bin, "in", "-s", srv.url, "--stats", subject, c, NULL };

		in = br_spawn(argv, -1, -1, logfd);
	}
	br_wait_name(c);
	T_OK(shmkit_chan_open(c, SHMKIT_CONSUMER, &rx));
	fd = raw_connect();
	{
		const char *hello = "CONNECT {\"verbose\":false,\"headers\":true}\r\n";

		raw_write(fd, hello, strlen(hello));
	}
	/* not packs: dropped as foreign */
	raw_pub(fd, subject, "hello", 5);
	n = pack(buf, "0123456789abcdeX", 1, 1);
	raw_pub(fd, subject, buf, n + record(buf + n, 1, "a", 1));
	n = pack(buf, id, 1, 0);
	raw_pub(fd, subject, buf, n + record(buf + n, 1, "a", 1));
	n = pack(buf, id, 1, 5000);
	raw_pub(fd, subject, buf, n + record(buf + n, 1, "a", 1));
	n = pack(buf, id, (uint64_t)1 << 63, 1);
	raw_pub(fd, subject, buf, n + record(buf + n, 1, "a", 1));
	/* 1 to 3: two whole, the third claims 1000 bytes of 5 */
	n = pack(buf, id, 1, 3);
	n += record(buf + n, 3, "abc", 3);
	n += record(buf + n, 2, "de", 2);
	n += record(buf + n, 1000, "fghij", 5);
	raw_pub(fd, subject, buf, n);
	/* 4 and 5, whole */
	n = pack(buf, id, 4, 2);
	n += record(buf + n, 1, "x", 1);
	n += record(buf + n, 2, "yz", 2);
	raw_pub(fd, subject, buf, n);
	/* 6 and 7 packed as an older out did, with headers */
	n = record(buf, 1, "p", 1);
	n += record(buf + n, 2, "qr", 2);
	raw_hpub(fd, subject, id, "Shmkit-Seq: 6\r\nShmkit-Count: 2", buf, n);
	/* the end after 7, as out sends it */
	raw_hpub(fd, subject, id, "Shmkit-Seq: 7\r\nShmkit-End: clean", NULL, 0);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		T_OK(shmkit_chan_recv(rx, buf, sizeof(buf), &len, 20000));
		T_EQ(len, strlen(want[i]));
		T_ASSERT(!memcmp(buf, want[i], len));
	}
	r = shmkit_chan_recv(rx, buf, sizeof(buf), &len, 20000);
	T_EQ(r, -SHMKIT_EABORTED);	/* one went missing: the stream failed */
	T_EQ(br_wait(in), 1);
	shmkit_chan_close(rx);
	close(fd);
	close(logfd);
	log = br_slurp(log_path);
	if (!strstr(log, "5 not from a bridge (dropped)"))
		fprintf(stderr, "in said:\n%s", log);
	T_STR_CONTAINS(log, "neither shmkit-bridge headers nor a pack: dropped");
	T_STR_CONTAINS(log, "lost 1 message (stream 0123456789abcdef, 3 to 3): a packed "
		       "message that does not hold what it says");
	T_STR_CONTAINS(log, "1 message went missing");
	T_STR_CONTAINS(log, "5 not from a bridge (dropped)");
	free(log);
	shmkit_chan_destroy(c);
}

int main(void)
{
	br_setup();
	usage();
	unreachable();
	br_server_start(&srv);
	setenv("URL", srv.url, 1);
	creds();
	too_big();
	topics();
	forged();
	jetstream();
	return 0;
}
