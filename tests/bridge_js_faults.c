/*
 * shmkit-bridge in JetStream mode under faults: numbered messages from a
 * library producer (channel A) through out, a nats-server with JetStream,
 * in (channel B) to a library consumer, while the out bridge, the in
 * bridge and the server are killed with SIGKILL at random moments and
 * started again (3 times each; 30 under make stress). JetStream promises
 * at least once: every message must arrive, whole and in order, and the
 * stream must end clean; a message may come again (the in bridge killed
 * between committing and acknowledging it), which the consumer counts,
 * and no more often than the consumer's acknowledgements pending allow.
 */
#include "bridge_faults.h"

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
	int st_in, st_out;
	struct faults_run f;
	char *log;

	faults_start("jetstream", "bridge-js-faults", &f);
	until_got(1);
	for (k = 0; k < 3 * rounds; k++) {
		br_nap(50 + (int)(t_rand() % 300));
		switch (k % 3) {
		case 0:
			br_kill9(f.out);
			f.out = start_out(f.err);
			break;
		case 1:
			br_kill9(f.in);
			in_kills++;
			f.in = start_in(f.err);
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
	T_EQ(t_wait(f.prod), 0);
	until_got(sh->sent);
	st_out = br_wait(f.out);
	st_in = br_wait(f.in);
	T_EQ(t_wait(f.cons), 0);
	close(f.err);
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
	   acknowledgements pending (MaxAckPending, 1024) per such fault */
	T_ASSERT(sh->again <= (uint64_t)(in_kills + srv_kills) * 1024);
	free(log);
	shmkit_chan_destroy(a);
	shmkit_chan_destroy(b);
	return 0;
}
