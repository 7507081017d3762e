/*
 * shmkit pub and shmkit sub, as people use them: in shell pipelines.
 * Byte-exact fan-out to two subscribers, --lines, history with --from
 * oldest (the topic stays, pending, for late subscribers), the overwrite
 * policy with a stalled subscriber (losses counted and said, the rest in
 * order), a killed and a failing publisher, a squatted name, refusals
 * and bad usage; and no segment is left behind.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY "setpriv --reuid=65534 --regid=65534 --clear-groups"

/* Shell snippets (t_sh) see $S = the command, $IN, $OUT, $OUT2 = our
 * files, and $FIFO, a named pipe. */
static char in_path[64], out_path[64], out2_path[64], fifo_path[64];

/* In a script: $FIFO held open for writing, so that a publisher reading
 * it waits for input that never comes (and no stray writer outlives us). */
#define HELD_INPUT "exec 3<>\"$FIFO\"; "

/* Waits (up to 8 s) in a script until n live subscribers hold topic name. */
#define WAIT_SUBS(name, n) \
	"i=0; until [ \"$(\"$S\" stat -n " name " 2>/dev/null | grep -c '^    pid .*running')\" " \
	"-ge " n " ]; do i=$((i+1)); [ $i -gt 400 ] && break; sleep 0.02; done; "

static void make_input(size_t size)
{
	FILE *f = fopen(in_path, "w");

	T_ASSERT(f);
	for (size_t i = 0; i < size; i += 8) {
		uint64_t x = t_mix(i ^ 0x70c1c);
		fwrite(&x, 1, size - i < 8 ? size - i : 8, f);
	}
	T_EQ(fclose(f), 0);
}

/* Two subscribers, each gets every byte; the publisher removes the topic. */
static void fan_out(void)
{
	char name[64], *err = NULL;

	make_input(6 * 1000 * 1000 + 5);
	t_name(name, sizeof(name), "fan");
	T_EQ(t_sh(NULL, &err, "\"$S\" sub %s > \"$OUT\" & a=$!; \"$S\" sub %s > \"$OUT2\" & b=$!; "
		"\"$S\" pub --wait-subs 2 --max-msg 4K --slots 8 --stats %s < \"$IN\" && "
		"wait $a && wait $b", name, name, name), 0);
	T_EQ(t_sh(NULL, NULL, "cmp \"$IN\" \"$OUT\" && cmp \"$IN\" \"$OUT2\""), 0);
	T_STR_CONTAINS(err, "6000005 bytes");
	T_STR_CONTAINS(err, "woke subscribers");
	T_ASSERT(!t_name_exists(name));
	free(err);

	/* nothing in, nothing out: both end at once, with status 0 */
	make_input(0);
	t_name(name, sizeof(name), "fan0");
	T_EQ(t_sh(NULL, NULL, "\"$S\" sub %s > \"$OUT\" & a=$!; "
		"\"$S\" pub -w 1 %s < \"$IN\" && wait $a && test ! -s \"$OUT\"", name, name), 0);
	T_ASSERT(!t_name_exists(name));
}

/* --lines: a message per line; a line too long fails both sides, clearly. */
static void lines(void)
{
	char name[64], *out = NULL, *err = NULL;

	t_name(name, sizeof(name), "lines");
	T_EQ(t_sh(&out, &err, "\"$S\" sub --stats %s & a=$!; "
		"printf 'one\\ntwo\\nthree' | \"$S\" pub -w 1 --lines %s && wait $a",
		name, name), 0);
	T_EQ(strcmp(out, "one\ntwo\nthree"), 0);
	T_STR_CONTAINS(err, "in 3 messages");
	free(out), free(err);

	t_name(name, sizeof(name), "long");
	T_EQ(t_sh(&out, &err, "\"$S\" sub %s > \"$OUT\" & a=$!; { echo short; head -c 1000 /dev/zero | "
		"tr '\\0' x; echo; } | \"$S\" pub -w 1 --lines --max-msg 256 %s; echo pub=$?; "
		"wait $a; echo sub=$?", name, name), 0);
	T_EQ(strcmp(out, "pub=1\nsub=1\n"), 0);
	T_EQ(t_sh(NULL, NULL, "test \"$(cat \"$OUT\")\" = short"), 0);
	T_STR_CONTAINS(err, "does not fit a message (at most 304; raise --max-msg)");
	T_STR_CONTAINS(err, "the publisher failed before the end of its input");
	T_ASSERT(!t_name_exists(name));
	free(out), free(err);
}

/* A history stays for subscribers still to come, until removed. */
static void history(void)
{
	char name[64], *out = NULL, *err = NULL;

	t_name(name, sizeof(name), "hist");
	T_EQ(t_sh(NULL, NULL, "seq 1 10 | \"$S\" pub --lines --history 3 --slots 8 %s", name), 0);
	T_ASSERT(t_name_exists(name));
	T_EQ(t_sh(&out, NULL, "\"$S\" ls | grep -- '%s'", name), 0);
	T_STR_CONTAINS(out, "pending,topic");
	free(out);
	T_EQ(t_sh(&out, NULL, "\"$S\" sub --from oldest -t 5 %s", name), 0);
	T_EQ(strcmp(out, "8\n9\n10\n"), 0);
	free(out);
	/* from the next one: the publisher has closed, so nothing, at once */
	T_EQ(t_sh(&out, NULL, "\"$S\" sub -t 5 %s", name), 0);
	T_EQ(strcmp(out, ""), 0);
	free(out);
	/* gc keeps what a late subscriber could still read */
	T_EQ(t_sh(NULL, NULL, "\"$S\" gc"), 0);
	T_ASSERT(t_name_exists(name));

	/* another publisher goes on with the same topic; other shapes are refused */
	T_EQ(t_sh(NULL, &err, "echo x | \"$S\" pub --policy overwrite %s", name), 1);
	T_STR_CONTAINS(err, "exists with another shape");
	T_STR_CONTAINS(err, "history 3, block policy");
	free(err);
	T_EQ(t_sh(NULL, NULL, "echo 11 | \"$S\" pub --history 3 %s", name), 0);
	T_EQ(t_sh(&out, NULL, "\"$S\" sub --from oldest -t 5 %s", name), 0);
	T_EQ(strcmp(out, "9\n10\n11\n"), 0);
	free(out);
	T_EQ(t_sh(NULL, NULL, "\"$S\" rm -n %s", name), 0);
	T_ASSERT(!t_name_exists(name));
}

/*
 * Overwrite: a subscriber whose output is stalled until the publisher has
 * finished cannot keep up, so it must lose messages, be told, and deliver
 * the rest whole and in order: received + lost = published.
 */
static void overwrite(void)
{
	char name[64], *out = NULL, *err = NULL;
	unsigned long got, lost, prev = 0, v;
	const char *p;
	FILE *f;

	t_name(name, sizeof(name), "over");
	T_EQ(t_sh(NULL, &err, "rm -f \"$OUT2\"; "
		"\"$S\" sub --stats %s | { until [ -e \"$OUT2\" ]; do sleep 0.02; done; "
		"cat > \"$OUT\"; } & "
		"seq 1 100000 | \"$S\" pub -w 1 --lines --policy overwrite --slots 8 %s; "
		"echo pub=$? > \"$OUT2\"; wait", name, name), 0);
	T_STR_CONTAINS(err, "overwritten before they were read (overwrite policy");
	T_ASSERT((p = strstr(err, ", lost ")) && sscanf(p, ", lost %lu", &lost) == 1);
	T_ASSERT((p = strstr(err, " in ")) && sscanf(p, " in %lu messages", &got) == 1);
	T_EQ(got + lost, 100000);
	T_ASSERT(lost > 0);
	/* what came is a run of whole lines, rising */
	T_ASSERT((f = fopen(out_path, "r")));
	for (unsigned long n = 0; n < got; n++) {
		T_EQ(fscanf(f, "%lu\n", &v), 1);
		T_ASSERT(v > prev && v <= 100000);
		prev = v;
	}
	T_EQ(fgetc(f), EOF);
	fclose(f);
	T_EQ(prev, 100000);	/* the last ones are never lost: nothing overwrote them */
	T_ASSERT(!t_name_exists(name));
	free(out), free(err);
}

/* A killed publisher: the subscriber says so; gc collects the topic. */
static void killed(void)
{
	char name[64], *out = NULL, *err = NULL;

	t_name(name, sizeof(name), "kill");
	T_EQ(t_sh(&out, &err, "\"$S\" sub %s > /dev/null & a=$!; "
		"yes | \"$S\" pub -w 1 %s & p=$!; sleep 0.3; kill -9 $p; wait $a; echo sub=$?",
		name, name), 0);
	T_STR_CONTAINS(out, "sub=1");
	T_STR_CONTAINS(err, "the publisher died");
	free(out), free(err);
	/*
	 * Not t_name_exists here: a look from this process, which lives on,
	 * would leave it the segment's last pid, and gc rightly keeps what a
	 * live process used last (src/look.h).
	 */
	T_EQ(t_sh(&out, NULL, "\"$S\" gc"), 0);
	T_STR_CONTAINS(out, name);
	T_ASSERT(!t_name_exists(name));
	free(out);

	/* input that fails: the publisher closes as failed, and says why */
	t_name(name, sizeof(name), "inerr");
	T_EQ(t_sh(&out, &err, "\"$S\" sub %s & a=$!; \"$S\" pub -w 1 %s < /; echo pub=$?; "
		"wait $a; echo sub=$?", name, name), 0);
	T_STR_CONTAINS(out, "pub=1\nsub=1");
	T_STR_CONTAINS(err, "standard input: Is a directory");
	T_STR_CONTAINS(err, "failed before the end of its input");
	T_ASSERT(!t_name_exists(name));
	free(out), free(err);

	/* a signal: both clean up and end with 128 + its number */
	t_name(name, sizeof(name), "sig");
	T_EQ(t_sh(&out, NULL, "\"$S\" sub %s > /dev/null & a=$!; " HELD_INPUT
		"\"$S\" pub -w 1 %s < \"$FIFO\" & p=$!; " WAIT_SUBS("%s", "1")
		"kill -TERM $p; wait $p; echo pub=$?; wait $a; echo sub=$?", name, name, name), 0);
	T_STR_CONTAINS(out, "pub=143\nsub=1");
	T_ASSERT(!t_name_exists(name));
	free(out);
}

/* Refusals: each says why, and touches nothing that is not its own. */
static void refusals(void)
{
	char name[64], other[64], *out = NULL, *err = NULL;

	/* a second publisher; a full topic; another shape while one publishes */
	t_name(name, sizeof(name), "busy");
	T_EQ(t_sh(&out, &err, "\"$S\" sub -t 10 %s > /dev/null & a=$!; "
		HELD_INPUT "\"$S\" pub -w 1 --max-subs 1 %s < \"$FIFO\" & p=$!; "
		WAIT_SUBS("%s", "1")
		"echo x | \"$S\" pub %s; echo second=$?; "
		"\"$S\" sub -t 1 %s; echo full=$?; "
		"echo x | \"$S\" pub --max-subs 2 %s; echo shape=$?; "
		"\"$S\" stat -n %s | grep -E 'publisher:  pid|^    pid' | grep -c running; kill $p; wait $a; echo sub=$?", name, name, name, name, name, name, name), 0);
	T_STR_CONTAINS(out, "second=1\nfull=1\nshape=1\n2\nsub=1");
	T_STR_CONTAINS(err, "another publisher is already using this topic");
	T_STR_CONTAINS(err, "every subscriber place is taken");
	T_STR_CONTAINS(err, "exists with another shape");
	T_ASSERT(!t_name_exists(name));
	free(out), free(err);

	/* not a topic; not there; nobody joins */
	t_name(name, sizeof(name), "chan");
	T_OK(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_EQ(t_sh(NULL, &err, "\"$S\" sub -t 1 %s", name), 1);
	T_STR_CONTAINS(err, "exists and is not a topic");
	free(err);
	T_EQ(t_sh(NULL, &err, "echo x | \"$S\" pub %s", name), 1);
	T_STR_CONTAINS(err, "exists and is not a topic");
	free(err);
	T_OK(shmkit_chan_destroy(name));
	t_name(other, sizeof(other), "none");
	T_EQ(t_sh(NULL, &err, "\"$S\" sub -t 0.2 %s", other), 1);
	T_STR_CONTAINS(err, "no such topic within 0.2 s");
	free(err);
	T_EQ(t_sh(NULL, &err, "echo x | \"$S\" pub -w 2 -t 0.2 %s", other), 1);
	T_STR_CONTAINS(err, "0 of 2 subscribers joined within 0.2 s");
	T_ASSERT(!t_name_exists(other));
	free(err);
}

/* A name another user took first is not trusted without --shared. */
static void squatted(void)
{
	char name[64], *out = NULL, *err = NULL;

	/* last: what ran before passed, and the runner counts the whole as skipped */
	if (t_sh(NULL, NULL, NOBODY " true") != 0)
		t_skip("setpriv cannot switch to uid 65534 here");
	t_name(name, sizeof(name), "squat");
	T_EQ(t_sh(NULL, NULL, NOBODY " \"$S\" pub -m 0666 --keep %s < /dev/null", name), 0);
	T_EQ(t_sh(NULL, &err, "\"$S\" sub -t 1 %s", name), 1);
	T_STR_CONTAINS(err, "--shared");
	free(err);
	T_EQ(t_sh(NULL, &err, "echo secret | \"$S\" pub %s", name), 1);
	T_STR_CONTAINS(err, "--shared");
	free(err);
	/*
	 * On purpose, it works: the squatter's topic carries root's line. The
	 * subscriber comes once the publisher is in (the squatter closed the
	 * topic, and one that joins a closed topic is at its end at once).
	 */
	T_EQ(t_sh(&out, NULL, "echo shared | \"$S\" pub --shared -w 1 -t 10 --keep %s & p=$!; "
		"i=0; until \"$S\" stat -n %s | grep -q 'publisher:  pid.*running'; do "
		"i=$((i+1)); [ $i -gt 400 ] && break; sleep 0.02; done; "
		"\"$S\" sub --shared -t 5 %s && wait $p", name, name, name), 0);
	T_EQ(strcmp(out, "shared\n"), 0);
	free(out);
	T_EQ(t_sh(NULL, NULL, "\"$S\" rm -n %s", name), 0);
}

static void usage(void)
{
	static const char *const bad[] = {
		"pub", "sub", "pub --slots 3 x", "pub --slots 2097152 x", "pub --policy fifo x",
		"pub --history 7 --slots 8 x", "pub --max-msg 0 x", "pub --max-msg 2G x",
		"pub --max-subs 0 x", "pub --max-subs 1025 x", "pub -w -1 x", "pub x y",
		"sub --from first x", "sub --keep x", "sub -m 0600 x", "pub 'bad name' ",
		"pub --max-msg 1G --slots 8 x", "sub -t 90000 x",
	};
	char *out = NULL, *err = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (t_sh(NULL, &err, "\"$S\" %s < /dev/null", bad[i]) != 2)
			t_fail(__FILE__, __LINE__, "'shmkit %s' did not exit 2: %s", bad[i], err);
		T_STR_CONTAINS(err, "shmkit: ");
		free(err);
	}
	T_EQ(t_sh(&out, NULL, "\"$S\" pub --help && \"$S\" sub --help"), 0);
	T_STR_CONTAINS(out, "Usage: shmkit pub [OPTIONS] TOPIC");
	T_STR_CONTAINS(out, "--policy POLICY");
	T_STR_CONTAINS(out, "Usage: shmkit sub [OPTIONS] TOPIC");
	T_STR_CONTAINS(out, "--from WHERE");
	free(out);
}

int main(void)
{
	strcpy(in_path, t_tmpfile("topic-in"));
	strcpy(out_path, t_tmpfile("topic-out"));
	strcpy(out2_path, t_tmpfile("topic-out2"));
	setenv("IN", in_path, 1);
	setenv("OUT", out_path, 1);
	setenv("OUT2", out2_path, 1);
	strcpy(fifo_path, t_tmpfile("topic-fifo"));
	unlink(fifo_path);
	T_EQ(mkfifo(fifo_path, 0600), 0);
	setenv("FIFO", fifo_path, 1);
	setenv("S", getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit", 1);
	fan_out();
	lines();
	history();
	overwrite();
	killed();
	refusals();
	usage();
	squatted();
	return 0;
}
