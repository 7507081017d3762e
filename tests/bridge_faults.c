/*
 * shmkit-bridge in core mode under faults: a stream of numbered messages
 * from a library producer (channel A) through out, a nats-server, in
 * (channel B) to a library consumer, while the out bridge, the in bridge
 * and the server are killed with SIGKILL at random moments and started
 * again (3 times each; 30 under make stress). Core NATS may lose
 * messages; what must hold: every message the consumer gets is whole and
 * in order, the in bridge reports at least as many lost as are missing
 * (never a silent loss), and a stream with any loss ends failed.
 */
#include "bridge_faults.h"

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
	int st_in, st_out;
	struct faults_run f;
	uint64_t actual;
	char *log;

	faults_start("core", "bridge-faults", &f);
	until_moving();
	for (k = 0; k < 3 * rounds; k++) {
		br_nap(50 + (int)(t_rand() % 300));
		switch (k % 3) {
		case 0:
			br_kill9(f.out);
			f.out = start_out(f.err);
			break;
		case 1:
			br_kill9(f.in);
			f.in = start_in(f.err);
			break;
		case 2:
			br_server_kill(&srv);
			br_server_start(&srv);
			break;
		}
		until_moving();
	}
	sh->stop = 1;
	T_EQ(t_wait(f.prod), 0);
	st_out = br_wait(f.out);
	st_in = br_wait(f.in);
	T_EQ(t_wait(f.cons), 0);
	close(f.err);
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
