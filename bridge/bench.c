/*
 * shmkit-bridge bench: what the bridge costs against publishing straight
 * with the NATS client, in the same run, through a nats-server of its own
 * on 127.0.0.1.
 *
 *   direct   a publisher process publishes N payloads to a subject; a
 *            subscriber process takes them (natsConnection_Publish,
 *            natsSubscription_NextMsg: what a user of NATS alone writes)
 *   bridge   a producer writes the same N payloads into channel A; out A
 *            publishes them, in B delivers them into channel B, where a
 *            consumer takes them
 *
 * Each is timed from the first payload written to the last one taken,
 * in the taking process; both check each payload's tag (its number), so
 * that a lost or reordered message shows. Rounds alternate direct and
 * bridge; the table shows each one's median rate and the cost of the
 * bridge, its time over direct's (the goal: at most 1.2x), as
 * the median of each pair's ratio.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"
#include "payload.h"

/* Five pairs: on a shared 2-vCPU host one pair's ratio swung 0.93-1.45x
 * at 4 KiB (2026-12-02), so the median of three moved by 0.1x run to run */
#define BENCH_ROUNDS 5
#define MAX_SIZE (64 << 10)

struct shared {
	_Atomic int ready;		/* the taker is subscribed or open */
	_Atomic int go;			/* write now */
	double t0, t1;			/* first written, last taken */
	_Atomic uint64_t taken, bad;	/* taken; with a wrong tag or size */
};

static struct shared *sh;
static pid_t server_pid;
/*
 * The producer and consumer sleep when they must wait, without spinning
 * first, as the direct publisher and subscriber do inside the client: on
 * a machine with fewer cpus than the processes of a run, spinning would
 * take from the server and the bridges what the direct run leaves them.
 */
static const int bench_spin = 0;
static const char *self;	/* this program, for out and in */
static char url[64];

static void nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int accepts(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static pid_t spawn(char *const argv[], int quiet)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		if (quiet)
			dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static pid_t start_server(void)
{
	char port[16];
	char *argv[] = { "nats-server", "-a", "127.0.0.1", "-p", port, NULL };
	int p = free_port(), i;
	pid_t pid;

	if (p < 0)
		return -1;
	snprintf(port, sizeof(port), "%d", p);
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", p);
	pid = spawn(argv, 1);
	for (i = 0; i < 1000 && pid > 0; i++) {
		if (accepts(p))
			return pid;
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		nap_ms(10);
	}
	return -1;
}

static natsConnection *connect_or_die(void)
{
	natsConnection *nc = NULL;

	if (natsConnection_ConnectTo(&nc, url) != NATS_OK)
		_exit(3);
	return nc;
}

/* Takes n messages; records each one's tag and the time of the last. */
static void take(uint64_t tag, const void *p, size_t len, size_t size)
{
	if (len != size || payload_check(p, len, tag))
		atomic_fetch_add(&sh->bad, 1);
	atomic_fetch_add(&sh->taken, 1);
	sh->t1 = clock_s();
}

static void direct_sub(const char *subject, uint64_t n, size_t size)
{
	natsConnection *nc = connect_or_die();
	natsSubscription *sub = NULL;
	natsMsg *m = NULL;
	uint64_t i = 0;

	if (natsConnection_SubscribeSync(&sub, nc, subject) != NATS_OK ||
	    natsSubscription_SetPendingLimits(sub, BRIDGE_PENDING_MSGS, BRIDGE_PENDING_BYTES) !=
	    NATS_OK || natsConnection_Flush(nc) != NATS_OK)
		_exit(3);
	atomic_store(&sh->ready, 1);
	while (i < n && natsSubscription_NextMsg(&m, sub, 2000) == NATS_OK) {
		take(++i, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), size);
		natsMsg_Destroy(m);
	}
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(nc);
	_exit(0);
}

static void direct_pub(const char *subject, uint64_t n, size_t size)
{
	static unsigned char buf[MAX_SIZE];
	natsConnection *nc = connect_or_die();
	uint64_t i;

	while (!atomic_load(&sh->go))
		nap_ms(1);
	sh->t0 = clock_s();
	for (i = 1; i <= n; i++) {
		payload_fill(buf, size, i);
		if (natsConnection_Publish(nc, subject, buf, (int)size) != NATS_OK)
			_exit(4);
	}
	natsConnection_FlushTimeout(nc, 10000);
	natsConnection_Destroy(nc);
	_exit(0);
}

static void chan_consumer(const char *name, uint64_t n, size_t size)
{
	struct shmkit_chan *rx;
	const void *p;
	size_t len;
	uint64_t i = 0;

	if (shmkit_chan_open_wait(name, SHMKIT_CONSUMER, 10000, &rx) < 0)
		_exit(3);
	shmkit_chan_set_spin(rx, bench_spin);
	atomic_store(&sh->ready, 1);
	while (i < n && shmkit_chan_peek(rx, &p, &len, 5000) == 0) {
		take(++i, p, len, size);
		shmkit_chan_release(rx);
	}
	shmkit_chan_close(rx);
	_exit(0);
}

static void chan_producer(const char *name, uint64_t n, size_t size)
{
	struct shmkit_chan *tx;
	void *w;
	uint64_t i;

	if (shmkit_chan_open(name, SHMKIT_PRODUCER, &tx) < 0)
		_exit(3);
	shmkit_chan_set_spin(tx, bench_spin);
	while (!atomic_load(&sh->go))
		nap_ms(1);
	sh->t0 = clock_s();
	for (i = 1; i <= n; i++) {
		if (shmkit_chan_reserve(tx, size, &w, 10000) < 0)
			_exit(4);
		payload_fill(w, size, i);
		shmkit_chan_commit(tx, size);
	}
	shmkit_chan_close(tx);
	_exit(0);
}

/* Reaps pid within ms, else kills it. */
static void reap(pid_t pid, int ms)
{
	while (ms > 0 && waitpid(pid, NULL, WNOHANG) == 0) {
		nap_ms(10);
		ms -= 10;
	}
	if (ms <= 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

static void reset(void)
{
	memset(sh, 0, sizeof(*sh));
}

/* The server's cpu seconds so far, from /proc (clock ticks). */
static double server_cpu_s(void)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)server_pid);
	if (!(f = fopen(path, "r")))
		return 0;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	/* after the command's closing parenthesis: fields 3 on; utime is 14 */
	if (!p || !(p = strrchr(buf, ')')) ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Cpu seconds of the reaped children and the server so far. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6 + server_cpu_s();
}

/* One direct round: the rate in messages a second, or -1 on loss; the
 * cpu time all its processes took, the server's included, in cpu[0], and
 * the server's alone in cpu[1]. */
static double run_direct(int round, uint64_t n, size_t size, double cpu[2])
{
	char subject[64];
	pid_t sub, pub;
	double cpu0 = cpu_s(), srv0 = server_cpu_s();

	snprintf(subject, sizeof(subject), "bench.direct.%d.%zu.%d", getpid(), size, round);
	reset();
	if ((sub = fork()) == 0)
		direct_sub(subject, n, size);
	while (!atomic_load(&sh->ready))
		nap_ms(1);
	if ((pub = fork()) == 0)
		direct_pub(subject, n, size);
	atomic_store(&sh->go, 1);
	reap(pub, 120000);
	reap(sub, 120000);
	cpu[0] = cpu_s() - cpu0;
	cpu[1] = server_cpu_s() - srv0;
	if (sh->taken != n || sh->bad)
		return -1;
	return (double)n / (sh->t1 - sh->t0);
}

/* One bridge round, as run_direct. */
static double run_bridge(int round, uint64_t n, size_t size, double cpu[2])
{
	char a[64], b[64], subject[64];
	pid_t in, out, cons, prod;
	struct shmkit_chan_info info;
	int id, i;
	double cpu0 = cpu_s(), srv0 = server_cpu_s();

	snprintf(a, sizeof(a), "bench-bridge-%d-a%d", getpid(), round);
	snprintf(b, sizeof(b), "bench-bridge-%d-b%d", getpid(), round);
	snprintf(subject, sizeof(subject), "bench.bridge.%d.%zu.%d", getpid(), size, round);
	reset();
	if ((id = shmkit_chan_create(a, 1 << 20, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL)) < 0)
		return -1;
	{
		char *in_argv[] = { (char *)self, "in", "-s", url, "-c", "1M", subject, b, NULL };
		char *out_argv[] = { (char *)self, "out", "-s", url, a, subject, NULL };

		in = spawn(in_argv, 0);
		if ((cons = fork()) == 0)
			chan_consumer(b, n, size);
		while (!atomic_load(&sh->ready))
			nap_ms(1);
		if ((prod = fork()) == 0)
			chan_producer(a, n, size);
		out = spawn(out_argv, 0);
	}
	/* out has opened A: go */
	for (i = 0; i < 2000; i++) {
		if (shmkit_chan_info(id, &info) == 0 && info.cons_pid && info.prod_pid)
			break;
		nap_ms(5);
	}
	atomic_store(&sh->go, 1);
	reap(prod, 120000);
	reap(cons, 120000);
	reap(out, 10000);
	reap(in, 10000);
	cpu[0] = cpu_s() - cpu0;
	cpu[1] = server_cpu_s() - srv0;
	shmkit_chan_destroy(a);
	shmkit_chan_destroy(b);
	if (sh->taken != n || sh->bad)
		return -1;
	return (double)n / (sh->t1 - sh->t0);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void usage(void)
{
	printf("Usage: shmkit-bridge bench [--rounds N] [--quick] [--size SIZE]\n"
	       "\n"
	       "Measures what the bridge costs against publishing straight with the NATS\n"
	       "client, in the same run, through a nats-server of its own on 127.0.0.1:\n"
	       "messages a second at 64 B, 4 KiB and 64 KiB, direct (publisher ->\n"
	       "server -> subscriber) and through the bridge (channel -> out -> server\n"
	       "-> in -> channel), core NATS, and the bridge's time over direct's.\n"
	       "\n"
	       "  --rounds N   rounds of each, alternating (default 5; the median counts)\n"
	       "  --quick      a tenth of the messages\n"
	       "  --size SIZE  only the case of this size: 64, 4K or 64K\n"
	       "  -h, --help   this text\n"
	       "\n"
	       "Needs nats-server on the PATH. Exit status: 0, 1 error or a lost message.\n");
}

int bridge_bench(int argc, char **argv)
{
	static const struct { size_t size; uint64_t n; } cases[] = {
		{ 64, 400000 }, { 4096, 100000 }, { 65536, 10000 },
	};
	int rounds = BENCH_ROUNDS, quick = 0, i, r, failed = 0;
	uint64_t only = 0;
	char machine[256];
	pid_t server;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage();
			return finish_stdout();
		} else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--size") && i + 1 < argc) {
			if (parse_size(argv[++i], &only) < 0 ||
			    (only != 64 && only != 4096 && only != 65536))
				return usage_error("bench", "'%s': --size is 64, 4K or 64K", argv[i]);
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < argc &&
			 (rounds = atoi(argv[++i])) >= 1 && rounds <= 99)
			;
		else
			return usage_error("bench", "'%s': --rounds N (1 to 99), --quick or --size SIZE",
					   argv[i]);
	}
	self = "/proc/self/exe";
	{
		static char exe[4096];
		ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

		if (len > 0) {
			exe[len] = 0;
			self = exe;
		}
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || (server_pid = server = start_server()) < 0) {
		err_msg("bench", "could not start nats-server (apt-get install nats-server)");
		return EXIT_RUNTIME;
	}
	machine_line(machine, sizeof(machine));
	printf("shmkit-bridge bench: %s, load %.2f, libnats %s\n", machine, load_avg1(),
	       nats_GetVersion());
	printf("core NATS, %d rounds each, alternating; medians. cpu us: cpu time of all\n"
	       "the processes (the server's too) a message, srv: the server's share of it;\n"
	       "time and cpu: the bridge's over direct's, each round over the direct round\n"
	       "before it, the median [and the range] of those ratios\n\n", rounds);
	printf("%6s %8s  %12s %7s %6s %5s  %12s %7s %6s %5s  %6s %-13s %6s\n", "size", "messages",
	       "direct msg/s", "MB/s", "cpu us", "srv", "bridge msg/s", "MB/s", "cpu us", "srv",
	       "time", "[min-max]", "cpu");
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		uint64_t n = quick ? cases[i].n / 10 : cases[i].n;
		size_t size = cases[i].size;
		double d[99], bq[99], dc[99], bc[99], ds[99], bs[99], tr[99], cr[99];
		double dm, bm, dcm, bcm, tmin, tmax;
		char sz[16], range[32];

		if (only && size != only)
			continue;
		for (r = 0; r < rounds; r++) {
			double cpu[2];

			d[r] = run_direct(r, n, size, cpu);
			dc[r] = cpu[0], ds[r] = cpu[1];
			bq[r] = run_bridge(r, n, size, cpu);
			bc[r] = cpu[0], bs[r] = cpu[1];
			if (d[r] < 0 || bq[r] < 0)
				failed = 1;
		}
		/* paired before median() sorts the rounds apart: the host's
		   drift between rounds cancels within a pair */
		for (r = 0; r < rounds; r++) {
			tr[r] = d[r] > 0 && bq[r] > 0 ? d[r] / bq[r] : -1;
			cr[r] = dc[r] > 0 ? bc[r] / dc[r] : -1;
		}
		tmin = tmax = tr[0];
		for (r = 1; r < rounds; r++) {
			tmin = tr[r] < tmin ? tr[r] : tmin;
			tmax = tr[r] > tmax ? tr[r] : tmax;
		}
		snprintf(range, sizeof(range), "[%.2f-%.2f]", tmin, tmax);
		dm = median(d, rounds);
		bm = median(bq, rounds);
		/* cpu microseconds a message, all processes and the server */
		dcm = median(dc, rounds) / (double)n * 1e6;
		bcm = median(bc, rounds) / (double)n * 1e6;
		fmt_bytes(sz, sizeof(sz), (double)size, FMT_SHORT);
		printf("%6s %8" PRIu64 "  %12.0f %7.1f %6.2f %5.2f  %12.0f %7.1f %6.2f %5.2f  "
		       "%5.2fx %-13s %5.2fx\n", sz, n, dm, dm * (double)size / 1e6, dcm,
		       median(ds, rounds) / (double)n * 1e6, bm, bm * (double)size / 1e6, bcm,
		       median(bs, rounds) / (double)n * 1e6, median(tr, rounds), range,
		       median(cr, rounds));
		fflush(stdout);
	}
	if (failed)
		printf("\nA round lost or garbled messages (core NATS drops when a subscriber\n"
		       "falls behind): its rate is shown as -1 and counted as such.\n");
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	return failed;
}
