/*
 * shmkit send and shmkit recv, as people use them: in shell pipelines.
 * Byte-exact transfer whichever side starts first (random binary data,
 * and 0 bytes), --lines framing, --timeout, --keep, --stats, a killed or
 * interrupted peer, a reader that closes its pipe, a second sender, bad
 * usage; and in every case no segment is left behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char in_path[64], out_path[64];

/* Shell snippets (t_sh) see $S = the command, $IN and $OUT = our files. */

static void make_input(size_t size)
{
	FILE *f = fopen(in_path, "w");
	size_t i;

	T_ASSERT(f);
	for (i = 0; i < size; i += 8) {
		uint64_t x = t_mix(i);
		fwrite(&x, 1, size - i < 8 ? size - i : 8, f);
	}
	T_EQ(fclose(f), 0);
}

static int same_files(void)
{
	return t_sh(NULL, NULL, "cmp -s \"$IN\" \"$OUT\"") == 0;
}

static long out_size(void)
{
	struct stat st;
	return stat(out_path, &st) == 0 ? (long)st.st_size : -1;
}

/* Is $OUT a prefix of $IN? */
static int out_is_prefix(void)
{
	return t_sh(NULL, NULL, "n=$(stat -c %%s \"$OUT\"); head -c $n \"$IN\" | cmp -s - \"$OUT\"") == 0;
}

static void exact(void)
{
	char name[64];
	char *err = NULL;

	/* receiver first; 20 MB of binary data through a 64 KiB ring */
	make_input(20 * 1000 * 1000 + 3);
	t_name(name, sizeof(name), "exact");
	T_EQ(t_sh(NULL, &err, "\"$S\" recv -c 64K %s > \"$OUT\" & sleep 0.2; "
		"\"$S\" send %s < \"$IN\" && wait $!", name, name), 0);
	T_ASSERT(same_files());
	T_ASSERT(!t_name_exists(name));
	free(err);

	/* sender first: it creates, fills the ring, waits for the receiver */
	t_name(name, sizeof(name), "exact2");
	T_EQ(t_sh(NULL, NULL, "\"$S\" send -c 64K %s < \"$IN\" & sleep 0.3; "
		"\"$S\" recv %s > \"$OUT\" && wait $!", name, name), 0);
	T_ASSERT(same_files());
	T_ASSERT(!t_name_exists(name));

	/* 0 bytes, sender done before the receiver even starts */
	make_input(0);
	t_name(name, sizeof(name), "empty");
	T_EQ(t_sh(NULL, NULL, "\"$S\" send %s < \"$IN\" && \"$S\" recv %s > \"$OUT\"", name, name), 0);
	T_EQ(out_size(), 0);
	T_ASSERT(!t_name_exists(name));
}

/* Sizes around the message maximum and the ring: a 64 KiB ring carries
 * messages of up to 32 KiB, so reads are cut there. */
static void sizes(void)
{
	static const size_t list[] = { 1, 32767, 32768, 32769, 65535, 65536, 65537, 131073 };
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		make_input(list[i]);
		t_name(name, sizeof(name), "size");
		T_EQ(t_sh(NULL, NULL, "\"$S\" send -c 64K %s < \"$IN\" & \"$S\" recv %s > \"$OUT\" "
			"&& wait $!", name, name), 0);
		T_EQ(out_size(), (long)list[i]);
		T_ASSERT(same_files());
		T_ASSERT(!t_name_exists(name));
	}
}

/* Starts argv with the given stdin and stdout; returns the pid. */
static pid_t spawn(char *const argv[], int in, int out)
{
	pid_t pid = fork();

	if (pid == 0) {
		dup2(in, 0);
		dup2(out, 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/*
 * 1 GiB: a writer feeds send 64 KiB chunks, chunk i the payload of message
 * i (common/payload.h; the last one may be shorter, and a shorter payload
 * is the start of a longer one), recv feeds us, and we check every chunk
 * as it completes, whatever sizes the reads come in.
 */
#define GIB_CHUNK 65536

static void gib_check(const unsigned char *p, size_t n, uint64_t at)
{
	size_t bad = payload_check(p, n, at / GIB_CHUNK);

	if (bad)
		t_fail(__FILE__, __LINE__, "byte %llu differs (its chunk begins as chunk %llu)",
		       (unsigned long long)(at + bad - 1), (unsigned long long)payload_tag(p, n));
}

static void gigabyte(void)
{
	const uint64_t total = t_scale(1ull << 30) & ~7ull;
	char name[64], *send_argv[] = { getenv("S"), "send", name, NULL };
	char *recv_argv[] = { getenv("S"), "recv", name, NULL };
	static unsigned char buf[GIB_CHUNK];
	int a[2], b[2];
	pid_t gen, snd, rcv;
	uint64_t got = 0, i;
	size_t have = 0;

	t_name(name, sizeof(name), "gib");
	/* close-on-exec, so no child holds a pipe end it should not */
	T_ASSERT(pipe2(a, O_CLOEXEC) == 0 && pipe2(b, O_CLOEXEC) == 0);
	gen = fork();
	if (gen == 0) {
		close(a[0]);
		close(b[0]);
		close(b[1]);
		for (i = 0; i * GIB_CHUNK < total; i++) {
			uint64_t left = total - i * GIB_CHUNK;
			size_t n = left < GIB_CHUNK ? (size_t)left : GIB_CHUNK;

			payload_fill(buf, n, i);
			if (write(a[1], buf, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	snd = spawn(send_argv, a[0], 1);
	rcv = spawn(recv_argv, 0, b[1]);
	close(a[0]);
	close(a[1]);
	close(b[1]);
	for (;;) {
		ssize_t n = read(b[0], buf + have, sizeof(buf) - have);
		if (n <= 0)
			break;
		/* recv writes whole messages */
		T_ASSERT(n % 8 == 0 || got + have + (uint64_t)n == total);
		have += (size_t)n;
		if (have == sizeof(buf)) {
			gib_check(buf, have, got);
			got += have;
			have = 0;
		}
	}
	if (have) {
		gib_check(buf, have, got);
		got += have;
	}
	close(b[0]);
	T_EQ(waitpid(gen, NULL, 0), gen);
	T_EQ(t_wait(snd), 0);
	T_EQ(t_wait(rcv), 0);
	T_EQ(got, total);
	T_ASSERT(!t_name_exists(name));
}

/* --lines: each message is one whole line, however the input arrives. */
static void lines(void)
{
	char name[64], *out = NULL, *err = NULL;
	struct shmkit_chan *c;
	char buf[256];
	size_t len;
	int n = 0, id;

	t_name(name, sizeof(name), "lines");
	id = t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &c));
	/* written in pieces that split lines, to be sure framing is by line */
	T_EQ(t_sh(NULL, NULL, "{ printf 'one\\ntw'; sleep 0.1; printf 'o\\n\\nthr'; sleep 0.1; "
		"printf 'ee'; } | \"$S\" send --lines %s", name), 0);
	while (shmkit_chan_recv(c, buf, sizeof(buf) - 1, &len, 1000) == 0) {
		buf[len] = '\0';
		switch (n++) {
		case 0: T_ASSERT(!strcmp(buf, "one\n")); break;
		case 1: T_ASSERT(!strcmp(buf, "two\n")); break;
		case 2: T_ASSERT(!strcmp(buf, "\n")); break;
		case 3: T_ASSERT(!strcmp(buf, "three")); break;
		}
	}
	T_EQ(n, 4);
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(name));

	/* long and empty lines come through byte for byte */
	T_EQ(t_sh(NULL, NULL, "{ printf '\\n\\n'; head -c 2047 /dev/zero | tr '\\0' a; echo; "
		"echo short; printf '\\n'; head -c 30000 /dev/zero | tr '\\0' b; } > \"$IN\""), 0);
	t_name(name, sizeof(name), "lines2");
	T_EQ(t_sh(NULL, NULL, "\"$S\" send --lines -c 64K %s < \"$IN\" & "
		"\"$S\" recv %s > \"$OUT\" && wait $!", name, name), 0);
	T_ASSERT(same_files());
	T_ASSERT(!t_name_exists(name));

	/*
	 * A line longer than a message can be is an error, not a split. The
	 * channel stays, marked as failed, for the receiver to learn of it.
	 */
	t_name(name, sizeof(name), "longline");
	T_EQ(t_sh(NULL, NULL, "{ echo first; head -c 5000 /dev/zero | tr '\\0' x; } | "
		"\"$S\" send --lines -c 4K --timeout 2 %s 2>/dev/null", name), 1);
	T_ASSERT(t_name_exists(name));
	T_EQ(t_sh(&out, &err, "\"$S\" recv -t 2 %s", name), 1);
	T_ASSERT(!strcmp(out, "first\n"));
	T_STR_CONTAINS(err, "the sender failed before the end of its input");
	T_ASSERT(!t_name_exists(name));
	free(out);
	free(err);
}

static void timeouts(void)
{
	char name[64], *out = NULL, *err = NULL;

	t_name(name, sizeof(name), "tmo");
	T_EQ(t_sh(NULL, &err, "\"$S\" recv --timeout 0.3 %s", name), 1);
	T_STR_CONTAINS(err, "no data");
	T_ASSERT(strchr(err, '\n') == err + strlen(err) - 1);
	free(err);
	T_ASSERT(!t_name_exists(name));
	T_EQ(t_sh(NULL, &err, "head -c 1000000 /dev/zero | \"$S\" send -c 4K --timeout 0.3 %s", name), 1);
	T_STR_CONTAINS(err, "no room");
	free(err);
	/* what it sent waits, ended as failed, for a receiver to learn of it */
	T_ASSERT(t_name_exists(name));
	T_EQ(t_sh(&out, &err, "\"$S\" recv --timeout 2 %s | wc -c", name), 0);
	/* more than one whole message: send fills the ring, not half of it */
	T_ASSERT(strtol(out, NULL, 10) > 2048 && strtol(out, NULL, 10) <= 4096);
	T_STR_CONTAINS(err, "the sender failed");
	free(out);
	free(err);
	T_ASSERT(!t_name_exists(name));
}

static void keep_and_stats(void)
{
	char name[64], *err = NULL;

	/* --progress: a live line (ending in a carriage return) while it runs */
	t_name(name, sizeof(name), "progress");
	T_EQ(t_sh(NULL, &err, "{ head -c 4000000 /dev/zero; sleep 1; head -c 4000000 /dev/zero; } | "
		"\"$S\" send --progress -c 4K %s & \"$S\" recv -c 4K %s > /dev/null && wait $!",
		name, name), 0);
	T_STR_CONTAINS(err, "bytes");
	T_STR_CONTAINS(err, "MB/s   \r");
	free(err);
	err = NULL;

	make_input(100000);
	t_name(name, sizeof(name), "keep");
	T_EQ(t_sh(NULL, &err, "\"$S\" send --keep --stats %s < \"$IN\" && "
		"\"$S\" recv --keep %s > \"$OUT\"", name, name), 0);
	T_ASSERT(same_files());
	T_STR_CONTAINS(err, "100000 bytes");
	T_STR_CONTAINS(err, "MB/s");
	free(err);
	T_ASSERT(t_name_exists(name));
	T_EQ(t_sh(NULL, NULL, "\"$S\" rm -n %s", name), 0);
}

/*
 * Shell text that waits (20 s at most) until the stream is live: until
 * both sides of channel name are open, or with name NULL, until $OUT has
 * its first bytes (so the snippet must empty $OUT before it starts recv:
 * the shell truncates it only in recv's child, maybe after we look). The
 * tests below stop a side at a moment of a live stream; one stopped while
 * still starting (slow under emulation, or on a loaded machine) never
 * joined it, and its peer would wait for it for good. Returns buf.
 */
static const char *until_live(char *buf, size_t cap, const char *name)
{
	if (!name)
		snprintf(buf, cap, "i=0; until [ -s \"$OUT\" ] || [ $i -gt 400 ]; do "
			 "i=$((i+1)); sleep 0.05; done; ");
	else
		snprintf(buf, cap, "i=0; until \"$S\" stat -n %s 2>/dev/null | "
			 "grep -c -e 'producer:   pid' -e 'consumer:   pid' | grep -q 2; do "
			 "i=$((i+1)); [ $i -gt 400 ] && break; sleep 0.05; done; ", name);
	return buf;
}

/*
 * A killed receiver: the sender says so and exits 1. A killed sender: the
 * receiver exits 1, and what it wrote is an exact prefix of the input.
 * Each is killed at a random moment of a live stream, several times.
 */
static void killed(void)
{
	unsigned trials = (unsigned)t_scale(5);
	char name[64], live[256], *err = NULL;

	if (trials < 1)
		trials = 1;
	make_input(50 * 1000 * 1000);
	for (unsigned i = 0; i < trials; i++) {
		unsigned ms = 100 + (unsigned)(t_rand() % 400);

		t_name(name, sizeof(name), "kill1");
		T_EQ(t_sh(NULL, &err, "cat /dev/zero | \"$S\" send -c 64K %s & s=$!; "
			  "\"$S\" recv %s > /dev/null & r=$!; %ssleep %u.%03u; kill -9 $r; wait $s",
			  name, name, until_live(live, sizeof(live), name),
			  ms / 1000, ms % 1000), 1);
		T_STR_CONTAINS(err, "the receiver died");
		free(err);
		T_ASSERT(!t_name_exists(name));

		t_name(name, sizeof(name), "kill2");
		T_EQ(t_sh(NULL, &err, ": > \"$OUT\"; { cat \"$IN\"; sleep 1; } 2>/dev/null | "
			  "\"$S\" send -c 64K %s & s=$!; \"$S\" recv %s > \"$OUT\" & r=$!; "
			  "%ssleep %u.%03u; kill -9 $s; wait $r", name, name,
			  until_live(live, sizeof(live), NULL), ms / 1000, ms % 1000), 1);
		T_STR_CONTAINS(err, "the sender died");
		free(err);
		T_ASSERT(out_size() > 0);
		T_ASSERT(out_is_prefix());
		T_ASSERT(!t_name_exists(name));
	}
}

/* Ctrl-C on either side ends both, cleanly. */
static void interrupted(void)
{
	char name[64], live[256], *out = NULL, *err = NULL;

	make_input(1000000);
	t_name(name, sizeof(name), "int1");
	/*
	 * The sender interrupted: the receiver drains, then fails, saying the
	 * stream was cut: exit 0 would pass a prefix off as the whole.
	 */
	T_EQ(t_sh(&out, &err, ": > \"$OUT\"; { cat \"$IN\"; sleep 3; } 2>/dev/null | "
		"\"$S\" send %s & s=$!; "
		"\"$S\" recv %s > \"$OUT\" & r=$!; %ssleep 0.5; kill -INT $s; "
		"wait $s; echo send=$?; wait $r; echo recv=$?", name, name,
		until_live(live, sizeof(live), NULL)), 0);
	T_STR_CONTAINS(out, "send=130");
	T_STR_CONTAINS(out, "recv=1");
	T_STR_CONTAINS(err, "the sender failed before the end of its input");
	T_ASSERT(same_files()); /* all it had read was sent */
	free(out);
	free(err);
	T_ASSERT(!t_name_exists(name));

	/* the receiver interrupted: the sender sees it gone */
	t_name(name, sizeof(name), "int2");
	T_EQ(t_sh(&out, &err, "cat /dev/zero | \"$S\" send -c 64K %s & s=$!; "
		"\"$S\" recv %s > /dev/null & r=$!; %ssleep 0.5; kill -INT $r; "
		"wait $r; echo recv=$?; wait $s; echo send=$?", name, name,
		until_live(live, sizeof(live), name)), 0);
	T_STR_CONTAINS(out, "recv=130");
	T_STR_CONTAINS(out, "send=1");
	T_STR_CONTAINS(err, "the receiver closed the channel");
	free(out);
	free(err);
	T_ASSERT(!t_name_exists(name));
}

/* recv into a pipe that closes: quiet, like cat; the sender sees it. */
static void closed_pipe(void)
{
	char name[64], *out = NULL, *err = NULL;

	t_name(name, sizeof(name), "head");
	T_EQ(t_sh(&out, &err, "yes hello 2>/dev/null | \"$S\" send %s 2>/dev/null & s=$!; "
		"\"$S\" recv %s | head -1; echo recv=$?; wait $s; echo send=$?", name, name), 0);
	T_STR_CONTAINS(out, "hello\n");
	T_STR_CONTAINS(out, "send=1");
	T_EQ(err[0], '\0'); /* recv said nothing */
	free(out);
	free(err);
	T_ASSERT(!t_name_exists(name));
}

static void busy_and_usage(void)
{
	char name[64], *err = NULL;

	t_name(name, sizeof(name), "busy");
	/* wait until the first sender holds the channel: no fixed sleep */
	T_EQ(t_sh(NULL, &err, "sleep 5 2>/dev/null | \"$S\" send %s & s=$!; "
		"i=0; until \"$S\" stat -n %s 2>/dev/null | grep -q 'producer:   pid'; do "
		"i=$((i+1)); [ $i -gt 400 ] && break; sleep 0.05; done; "
		"echo x | \"$S\" send %s; rc=$?; kill $s; wait $s; exit $rc", name, name, name), 1);
	T_STR_CONTAINS(err, "another sender");
	free(err);
	T_EQ(t_sh(NULL, NULL, "\"$S\" recv -n 2>/dev/null"), 2);
	T_EQ(t_sh(NULL, NULL, "\"$S\" send 2>/dev/null"), 2);
	T_EQ(t_sh(NULL, NULL, "\"$S\" send a/b 2>/dev/null"), 2);
	T_EQ(t_sh(NULL, NULL, "\"$S\" recv --timeout soon x 2>/dev/null"), 2);
	T_EQ(t_sh(NULL, NULL, "\"$S\" recv --capacity 0 x 2>/dev/null"), 2);
	T_EQ(t_sh(NULL, NULL, "\"$S\" send --help | grep -q Usage"), 0);
	T_EQ(t_sh(NULL, NULL, "\"$S\" recv --help | grep -q Usage"), 0);
	/* the first sender, killed, left its failed end for a receiver */
	T_ASSERT(t_name_exists(name));
	T_EQ(t_sh(NULL, NULL, "\"$S\" recv -t 1 %s 2>/dev/null", name), 1);
	T_ASSERT(!t_name_exists(name));
}

int main(void)
{
	strcpy(in_path, t_tmpfile("stream-in"));
	strcpy(out_path, t_tmpfile("stream-out"));
	setenv("IN", in_path, 1);
	setenv("OUT", out_path, 1);
	setenv("S", getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit", 1);
	exact();
	sizes();
	gigabyte();
	lines();
	timeouts();
	keep_and_stats();
	killed();
	interrupted();
	closed_pipe();
	busy_and_usage();
	return 0;
}
