/*
 * What the tests of shmkit-bridge share: the bridge beside $SHMKIT, a
 * nats-server of the test's own on 127.0.0.1 at a free port, and
 * programs started with their standard streams where the test wants
 * them. Every process started here is killed at exit, before the
 * harness removes the test's channels (so that none makes one again),
 * and dies with the test in any case (t_child).
 */
#ifndef SHMKIT_TEST_BRIDGE_H
#define SHMKIT_TEST_BRIDGE_H

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static char br_bin[4096];	/* shmkit-bridge */
static pid_t br_pids[256];
static int br_npids;

static inline void br_kill_all(void)
{
	int i;

	for (i = 0; i < br_npids; i++)
		if (br_pids[i] > 0) {
			kill(br_pids[i], SIGKILL);
			waitpid(br_pids[i], NULL, 0);
		}
	br_npids = 0;
}

static inline void br_nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Skips (77) unless shmkit-bridge was built and nats-server is here. */
static inline void br_setup(void)
{
	const char *cmd = getenv("SHMKIT") ? getenv("SHMKIT") : "build/shmkit";
	const char *slash = strrchr(cmd, '/');

	snprintf(br_bin, sizeof(br_bin), "%.*sshmkit-bridge", slash ? (int)(slash - cmd + 1) : 0,
		 cmd);
	if (access(br_bin, X_OK) != 0)
		t_skip("%s was not built (no libnats: apt-get install libnats-dev)", br_bin);
	if (system("command -v nats-server >/dev/null 2>&1") != 0)
		t_skip("no nats-server (apt-get install nats-server)");
	setenv("BRIDGE", br_bin, 1);
	setenv("S", cmd, 1);
	atexit(br_kill_all);
}

/*
 * Starts argv with standard input, output and error on these descriptors
 * (-1: /dev/null); the pid, reaped by br_wait or killed at exit.
 */
static inline pid_t br_spawn(char *const argv[], int in, int out, int err)
{
	pid_t pid = t_child();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(in >= 0 ? in : null, 0);
		dup2(out >= 0 ? out : null, 1);
		dup2(err >= 0 ? err : null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (br_npids < (int)(sizeof(br_pids) / sizeof(br_pids[0])))
		br_pids[br_npids++] = pid;
	return pid;
}

/* Waits for pid: its exit status, or 128+signal. */
static inline int br_wait(pid_t pid)
{
	int i, st = t_wait(pid);

	for (i = 0; i < br_npids; i++)
		if (br_pids[i] == pid)
			br_pids[i] = 0;
	return st;
}

static inline void br_kill9(pid_t pid)
{
	kill(pid, SIGKILL);
	br_wait(pid);
}

/* A port on 127.0.0.1 that nobody listens on just now. */
static inline int br_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_ASSERT(fd >= 0);
	T_EQ(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	T_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static inline int br_accepts(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

struct br_server {
	pid_t pid;
	int port;
	char url[64];
	const char *config;	/* a configuration file, or NULL for none */
	const char *store;	/* JetStream's directory, or NULL: no JetStream */
};

/* Starts (or starts again, on the same port) the test's nats-server and
 * waits until it accepts connections. */
static inline void br_server_start(struct br_server *s)
{
	char port[16];
	char *argv[] = { "nats-server", "-a", "127.0.0.1", "-p", port, NULL, NULL, NULL, NULL,
			 NULL, NULL };
	int n = 5;
	uint64_t deadline = t_now_ns() + 20000000000ull;

	if (!s->port)
		s->port = br_free_port();
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(s->url, sizeof(s->url), "nats://127.0.0.1:%d", s->port);
	if (s->config) {
		argv[n++] = "-c";
		argv[n++] = (char *)s->config;
	}
	if (s->store) {
		argv[n++] = "-js";
		argv[n++] = "-sd";
		argv[n++] = (char *)s->store;
	}
	s->pid = br_spawn(argv, -1, -1, -1);
	while (!br_accepts(s->port)) {
		if (t_now_ns() > deadline || waitpid(s->pid, NULL, WNOHANG) == s->pid)
			t_fail(__FILE__, __LINE__, "nats-server on port %d did not start", s->port);
		br_nap(20);
	}
}

static inline void br_server_kill(struct br_server *s)
{
	br_kill9(s->pid);
	s->pid = 0;
}

static char br_store_path[64];

static inline void br_store_remove(void)
{
	char cmd[128];

	br_kill_all();	/* the server first: it writes there */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", br_store_path);
	if (br_store_path[0] && system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", br_store_path);
}

/* A directory for JetStream's files, removed (server killed first) at exit. */
static inline const char *br_store(void)
{
	snprintf(br_store_path, sizeof(br_store_path), "/tmp/shmkit-js-XXXXXX");
	if (!mkdtemp(br_store_path))
		t_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	atexit(br_store_remove);
	return br_store_path;
}

/* Waits (20 s at most) until a segment of this name exists: 'in' makes
 * its channel only once it is subscribed. */
static inline void br_wait_name(const char *name)
{
	uint64_t deadline = t_now_ns() + 20000000000ull;

	while (!t_name_exists(name)) {
		if (t_now_ns() > deadline)
			t_fail(__FILE__, __LINE__, "channel %s never appeared", name);
		br_nap(10);
	}
}

/* A file of the test's own, opened for appending (stderr of bridges). */
static inline int br_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	T_ASSERT(fd >= 0);
	return fd;
}

/* The whole of a file, malloc'd and NUL-terminated. */
static inline char *br_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	T_ASSERT(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	T_ASSERT(buf);
	T_EQ(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#endif
