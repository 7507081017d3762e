/*
 * Trust between users and between the two ends of a stream: a channel
 * squatted by another user is refused (both ways: root's messages do not
 * leak to it, its forged ones do not reach root); a mode wider than asked
 * is refused; a sender that fails leaves its end for a receiver that
 * comes later; a sender idle on its input still notices a dead receiver;
 * a channel removed while it is being opened is looked up again, never
 * reported as "Invalid argument".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY "setpriv --reuid=65534 --regid=65534 --clear-groups"

/* Waits (up to 8 s) in the script until channel $1 exists. */
#define WAIT_FOR(name) \
	"i=0; until \"$S\" stat -n " name " >/dev/null 2>&1; do i=$((i+1)); " \
	"[ $i -gt 400 ] && break; sleep 0.02; done; "

static void need_setpriv(void)
{
	if (t_sh(NULL, NULL, NOBODY " true") != 0)
		t_skip("setpriv cannot switch to uid 65534 here");
}

/* The attack: nobody waits on a name, root sends into it. */
static void squatted_receiver(void)
{
	char name[64], *out, *err;

	t_name(name, sizeof(name), "squat");
	T_EQ(t_sh(&out, &err, NOBODY " \"$S\" recv -m 0666 -t 3 %s & q=$!; " WAIT_FOR("%s")
		  "printf 'root secret\\n' | \"$S\" send %s; echo send=$?; wait $q",
		  name, name, name), 1);
	T_STR_CONTAINS(out, "send=1");
	T_ASSERT(!strstr(out, "root secret"));
	T_STR_CONTAINS(err, "uid 65534");
	T_STR_CONTAINS(err, "--shared");
	free(out);
	free(err);

	/* sharing on purpose still works */
	t_name(name, sizeof(name), "squat2");
	T_EQ(t_sh(&out, &err, NOBODY " \"$S\" recv -m 0666 -t 10 %s & q=$!; " WAIT_FOR("%s")
		  "printf 'for nobody\\n' | \"$S\" send --shared %s; echo send=$?; wait $q",
		  name, name, name), 0);
	T_STR_CONTAINS(out, "for nobody\n");
	T_STR_CONTAINS(out, "send=0");
	free(out);
	free(err);
}

/* The other way: nobody leaves forged data under a name root reads. */
static void squatted_sender(void)
{
	char name[64], *out, *err;

	t_name(name, sizeof(name), "forge");
	T_EQ(t_sh(NULL, NULL, "echo forged | " NOBODY " \"$S\" send -m 0666 %s", name), 0);
	T_ASSERT(t_name_exists(name));
	T_EQ(t_sh(&out, &err, "\"$S\" recv -t 1 %s", name), 1);
	T_ASSERT(!strstr(out, "forged"));
	T_STR_CONTAINS(err, "uid 65534");
	free(out);
	free(err);
	T_EQ(t_sh(NULL, NULL, "\"$S\" rm -n %s", name), 0);
}

/* A plain named segment squatted the same way: mk -n refuses it too. */
static void squatted_segment(void)
{
	char name[64], *out, *err;

	t_name(name, sizeof(name), "sqseg");
	T_EQ(t_sh(NULL, NULL, NOBODY " \"$S\" mk -n %s -s 4096 -m 0666 >/dev/null", name), 0);
	T_EQ(t_sh(&out, &err, "\"$S\" mk -n %s -s 4096", name), 1);
	T_STR_CONTAINS(err, "uid 65534");
	T_STR_CONTAINS(err, "mode 0666");
	free(out);
	free(err);
	T_EQ(t_sh(NULL, NULL, "\"$S\" mk -n %s -s 4096 --shared >/dev/null", name), 0);
}

/* Root's own channel, but open to everyone: not what send was asked for. */
static void wider_mode(void)
{
	char name[64], *out, *err;

	t_name(name, sizeof(name), "wide");
	T_OK(shmkit_chan_create(name, 4096, 0666, 0));
	T_EQ(t_sh(&out, &err, "echo x | \"$S\" send %s", name), 1);
	T_STR_CONTAINS(err, "mode 0666");
	T_STR_CONTAINS(err, "0600");
	free(out);
	free(err);
	/* asked for, it is fine; so is --shared */
	T_EQ(t_sh(NULL, NULL, "echo x | \"$S\" send -m 0666 %s && \"$S\" recv --shared %s "
		  ">/dev/null", name, name), 0);
	T_ASSERT(!t_name_exists(name));
	/* the library: create refuses, open (owner only) takes it */
	T_OK(shmkit_chan_create(name, 4096, 0644, 0));
	T_EQ(shmkit_chan_create(name, 4096, 0600, 0), -SHMKIT_EUNTRUSTED);
	T_OK(shmkit_chan_create(name, 4096, 0600, SHMKIT_SHARED));
	T_OK(shmkit_chan_destroy(name));
}

/*
 * The README's 'send X < f & recv X' with a sender that fails at once:
 * the receiver must learn of it and exit 1, not make a new channel and
 * wait for ever (here: until its timeout).
 */
static void failed_sender(void)
{
	unsigned i, trials = (unsigned)t_scale(20);
	char name[64], *out, *err;
	const char *line = t_tmpfile("longline");

	T_EQ(t_sh(NULL, NULL, "head -c 5000 /dev/zero | tr '\\0' x > %s", line), 0);
	for (i = 0; i < trials; i++) {
		t_name(name, sizeof(name), "fail");
		T_EQ(t_sh(&out, &err, "\"$S\" send --lines -c 4K %s < %s 2>/dev/null & "
			  "\"$S\" recv -c 4K -t 5 %s; echo recv=$?", name, line, name), 0);
		T_STR_CONTAINS(out, "recv=1");
		T_STR_CONTAINS(err, "the sender failed");
		free(out);
		free(err);
		T_ASSERT(!t_name_exists(name));
	}
}

/* The command with fds 0, 1 and 2 as given (run in a t_fork child). */
struct cmd {
	const char *argv[8];
	int in, out, err;
};

static int run_cmd(void *arg)
{
	struct cmd *c = arg;

	if (dup2(c->in, 0) < 0 || dup2(c->out, 1) < 0 || dup2(c->err, 2) < 0)
		return 126;
	execv(c->argv[0], (char *const *)c->argv);
	return 127;
}

/* Both sides of channel name hold it (or 10 s pass). */
static void wait_both_open(const char *name)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };
	struct shmkit_chan_info ci;
	int i, shmid;

	for (i = 0; i < 1000; i++) {
		if ((shmid = shmkit_seg_open(&ref)) >= 0 && shmkit_chan_info(shmid, &ci) == 0 &&
		    ci.prod_alive && ci.cons_alive)
			return;
		usleep(10000);
	}
	t_fail(__FILE__, __LINE__, "%s: the two sides never both opened", name);
}

/*
 * A sender whose input stays open with nothing coming (tail -f) still
 * sees its receiver die, and ends, without waiting for more input.
 */
static void idle_sender(void)
{
	char name[64], err_text[512] = "";
	const char *err_path = t_tmpfile("idle-err");
	struct cmd send, recv;
	siginfo_t info;
	int in[2], null = open("/dev/null", O_RDWR), ef, i;
	pid_t s, r;

	t_name(name, sizeof(name), "idle");
	T_ASSERT(null >= 0 && pipe(in) == 0);
	ef = open(err_path, O_WRONLY | O_TRUNC);
	T_ASSERT(ef >= 0);
	send = (struct cmd){ .argv = { getenv("S"), "send", name, NULL }, in[0], null, ef };
	recv = (struct cmd){ .argv = { getenv("S"), "recv", name, NULL }, null, null, null };
	s = t_fork(run_cmd, &send);
	close(in[0]);
	T_EQ(write(in[1], "hi\n", 3), 3);
	r = t_fork(run_cmd, &recv);
	wait_both_open(name);
	kill(r, SIGKILL);
	T_EQ(t_wait(r), 128 + SIGKILL);
	/* in[1] stays open: the sender has no reason to end but its peer */
	for (i = 0; i < 1000; i++) {
		/* WNOWAIT: leaves it to t_wait to reap */
		info.si_pid = 0;
		T_EQ(waitid(P_PID, (id_t)s, &info, WEXITED | WNOHANG | WNOWAIT), 0);
		if (info.si_pid == s)
			break;
		usleep(10000);
	}
	if (i == 1000)
		t_fail(__FILE__, __LINE__, "send still waits on its input 10 s after its "
		       "receiver died");
	T_EQ(t_wait(s), 1);
	close(in[1]);
	close(ef);
	close(null);
	ef = open(err_path, O_RDONLY);
	T_ASSERT(ef >= 0 && read(ef, err_text, sizeof(err_text) - 1) >= 0);
	close(ef);
	T_STR_CONTAINS(err_text, "the receiver died");
	T_ASSERT(!t_name_exists(name));
}

/*
 * A sender that finished before its receiver came is no orphan: ls shows
 * the channel pending, gc keeps it (until asked, with an age), and the
 * receiver gets every byte.
 */
static void pending_kept(void)
{
	char name[64], *out, *err;

	t_name(name, sizeof(name), "pend");
	T_EQ(t_sh(NULL, NULL, "echo 'important payload' | \"$S\" send %s", name), 0);
	T_EQ(t_sh(&out, NULL, "\"$S\" ls | grep %s", name), 0);
	T_STR_CONTAINS(out, "pending(1 msgs 18B)");
	free(out);
	T_EQ(t_sh(&out, NULL, "\"$S\" gc && \"$S\" gc --pending 1h && \"$S\" recv -t 1 %s",
		  name), 0);
	T_ASSERT(!strcmp(out, "important payload\n"));
	free(out);
	T_ASSERT(!t_name_exists(name));

	/* asked for, with an age it has reached, gc removes it */
	T_EQ(t_sh(NULL, NULL, "echo lost | \"$S\" send %s", name), 0);
	T_EQ(t_sh(&out, &err, "\"$S\" gc --pending 0"), 0);
	T_STR_CONTAINS(out, name);
	T_ASSERT(!t_name_exists(name));
	free(out);
	free(err);
	T_EQ(t_sh(NULL, NULL, "\"$S\" gc --pending 1x 2>/dev/null"), 2);
}

static int gc_loop(void *arg)
{
	return t_sh(NULL, NULL, "while [ ! -e %s ]; do \"$S\" gc >/dev/null; done",
		    (const char *)arg);
}

/* gc in a loop beside ordinary 'send X < f & recv X' pairs loses nothing. */
static void gc_beside_streams(void)
{
	unsigned i, n = (unsigned)t_scale(60), lost = 0;
	const char *in = t_tmpfile("gc-in"), *out = t_tmpfile("gc-out");
	const char *stop = t_tmpfile("gc-stop");
	char name[64];
	pid_t gc;

	T_EQ(t_sh(NULL, NULL, "head -c 1000000 /dev/urandom > %s && rm -f %s", in, stop), 0);
	gc = t_fork(gc_loop, (void *)stop);
	for (i = 0; i < n; i++) {
		t_name(name, sizeof(name), "gcs");
		if (t_sh(NULL, NULL, "\"$S\" send %s < %s & \"$S\" recv -t 20 %s > %s; "
			 "r=$?; wait $!; cmp -s %s %s && [ $r = 0 ]", name, in, name, out, in,
			 out) != 0)
			lost++;
	}
	T_EQ(t_sh(NULL, NULL, "touch %s", stop), 0);
	T_EQ(t_wait(gc), 0);
	printf("gc beside streams: %u of %u transfers lost\n", lost, n);
	T_EQ(lost, 0);
}

/* Makes and removes the channel again and again, for open to race with. */
static int churn(void *arg)
{
	const char *name = arg;
	unsigned i, n = (unsigned)t_scale(3000);
	int shmid;

	for (i = 0; i < n; i++) {
		shmid = shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0);
		if (shmid >= 0)
			shmctl(shmid, IPC_RMID, NULL);
	}
	return 0;
}

static void removal_race(void)
{
	char name[64];
	struct shmkit_chan *ch;
	unsigned i, n = (unsigned)t_scale(3000), opened = 0;
	pid_t pid;
	int r;

	t_name(name, sizeof(name), "race");
	pid = t_fork(churn, name);
	for (i = 0; i < n; i++) {
		r = i % 2 ? shmkit_chan_open(name, SHMKIT_CONSUMER, &ch)
			  : shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0);
		if (r == -ENOENT || r == -EBUSY)
			continue;
		if (r < 0)
			t_fail(__FILE__, __LINE__, "%s %u: %s", i % 2 ? "open" : "create", i,
			       shmkit_strerror(r));
		if (i % 2) {
			T_OK(shmkit_chan_close(ch));
			opened++;
		}
	}
	T_EQ(t_wait(pid), 0);
	printf("removal race: %u opens of %u succeeded, none failed oddly\n", opened, n / 2);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*run)(void);
	} cases[] = {
		{ "removal race", removal_race },
		{ "wider mode", wider_mode },
		{ "failed sender", failed_sender },
		{ "idle sender", idle_sender },
		{ "pending kept", pending_kept },
		{ "gc beside streams", gc_beside_streams },
		{ "squatted receiver", squatted_receiver },
		{ "squatted sender", squatted_sender },
		{ "squatted segment", squatted_segment },
	};
	size_t i;

	setenv("S", getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!strncmp(cases[i].name, "squatted", 8))
			need_setpriv();
		printf("%s\n", cases[i].name);
		fflush(stdout);
		cases[i].run();
	}
	return 0;
}
