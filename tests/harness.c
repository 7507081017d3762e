#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TRACKED 4096

static int ids[MAX_TRACKED];
static key_t keys[MAX_TRACKED];
static pid_t children[MAX_TRACKED];
static volatile int nids, nkeys, nchildren;
static pid_t owner;

/* Async-signal-safe: only shmget/shmctl and plain loads. */
static void cleanup(void)
{
	int i;

	if (getpid() != owner)
		return;
	/* children first: one still running could make a segment again */
	for (i = 0; i < nchildren; i++) {
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
	}
	nchildren = 0;
	for (i = 0; i < nids; i++)
		shmctl(ids[i], IPC_RMID, NULL);
	for (i = 0; i < nkeys; i++) {
		int id = shmget(keys[i], 0, 0);
		if (id >= 0)
			shmctl(id, IPC_RMID, NULL);
	}
	nids = nkeys = 0;
}

static void on_signal(int sig)
{
	cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

__attribute__((constructor)) static void setup(void)
{
	owner = getpid();
	atexit(cleanup);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGALRM, on_signal);
	signal(SIGPIPE, SIG_IGN);
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (getpid() != owner)
		_exit(1);
	exit(1);
}

void t_skip(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "skip: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(T_EXIT_SKIP);
}

int t_track(int shmid)
{
	if (shmid >= 0 && nids < MAX_TRACKED)
		ids[nids++] = shmid;
	return shmid;
}

key_t t_track_key(key_t key)
{
	if (nkeys < MAX_TRACKED)
		keys[nkeys++] = key;
	return key;
}

int t_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

uint64_t t_rand(void)
{
	uint64_t v = 0;

	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		t_fail(__FILE__, __LINE__, "getrandom failed");
	return v;
}

uint64_t t_scale(uint64_t n)
{
	const char *s = getenv("SHMKIT_TEST_SCALE");
	double f = s ? atof(s) : 1.0;
	uint64_t v = (uint64_t)((double)n * f);

	return v ? v : 1;
}

#define MAX_TMPFILES 32
static char tmpfiles[MAX_TMPFILES][64];
static int ntmpfiles;

static void remove_tmpfiles(void)
{
	int i;

	if (getpid() != owner)
		return;
	for (i = 0; i < ntmpfiles; i++)
		unlink(tmpfiles[i]);
}

const char *t_tmpfile(const char *tag)
{
	char *path;
	int fd;

	if (ntmpfiles == MAX_TMPFILES)
		t_fail(__FILE__, __LINE__, "too many temporary files");
	path = tmpfiles[ntmpfiles];
	snprintf(path, sizeof(tmpfiles[0]), "/tmp/shmkit-%s-XXXXXX", tag);
	fd = mkstemp(path);
	if (fd < 0)
		t_fail(__FILE__, __LINE__, "mkstemp: %s", strerror(errno));
	close(fd);
	if (ntmpfiles++ == 0)
		atexit(remove_tmpfiles);
	return path;
}

static int hold(void *arg)
{
	struct t_holder *h = arg;
	struct shmkit_map map;
	char c;

	close(h->ready[0]);
	close(h->go[1]);
	if (shmkit_seg_attach(h->shmid, 0, &map) < 0)
		return 10;
	if (write(h->ready[1], "r", 1) != 1)
		return 11;
	/* a byte from t_hold_stop, or EOF if the test died */
	while (read(h->go[0], &c, 1) < 0 && errno == EINTR)
		;
	return shmkit_seg_detach(&map) < 0 ? 12 : 0;
}

void t_hold_start(struct t_holder *h, int shmid)
{
	char c;

	h->shmid = shmid;
	if (pipe2(h->ready, O_CLOEXEC) < 0 || pipe2(h->go, O_CLOEXEC) < 0)
		t_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	h->pid = t_fork(hold, h);
	close(h->ready[1]);
	close(h->go[0]);
	if (read(h->ready[0], &c, 1) != 1)
		t_fail(__FILE__, __LINE__, "holder could not attach %d (exit %d)", shmid,
		       t_wait(h->pid));
	close(h->ready[0]);
}

void t_hold_stop(struct t_holder *h)
{
	/* a byte, not EOF: holders forked later hold a copy of this pipe too */
	if (write(h->go[1], "g", 1) != 1)
		t_fail(__FILE__, __LINE__, "holder pipe: %s", strerror(errno));
	close(h->go[1]);
	if (t_wait(h->pid) != 0)
		t_fail(__FILE__, __LINE__, "holder of %d failed", h->shmid);
}

key_t t_key(void)
{
	key_t k;

	do
		k = (key_t)(uint32_t)t_rand();
	while (k == 0 || k == (key_t)-1);
	return t_track_key(k);
}

const char *t_name(char *buf, size_t cap, const char *tag)
{
	static int n;

	snprintf(buf, cap, "t-%d-%d-%s", (int)getpid(), n++, tag);
	t_track_key(shmkit_name_key(buf));
	return buf;
}

struct shmkit_ref t_key_ref(key_t key)
{
	struct shmkit_ref r = { .kind = SHMKIT_REF_KEY, .key = key };

	return r;
}

struct shmkit_ref t_name_ref(const char *name)
{
	struct shmkit_ref r = { .kind = SHMKIT_REF_NAME, .name = name };

	return r;
}

void t_key_text(char *buf, size_t cap, key_t key)
{
	snprintf(buf, cap, "0x%08x", (unsigned)key);
}

int t_shmid_exists(int shmid)
{
	struct shmid_ds ds;

	return shmctl(shmid, IPC_STAT, &ds) == 0;
}

int t_name_exists(const char *name)
{
	struct shmkit_ref ref = t_name_ref(name);

	return shmkit_seg_open(&ref) >= 0;
}

uint64_t t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads fd to EOF into a malloc'd string. */
static char *slurp(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	if (!buf)
		t_fail(__FILE__, __LINE__, "out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			char *p = realloc(buf, cap *= 2);
			if (!p)
				t_fail(__FILE__, __LINE__, "out of memory");
			buf = p;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

int t_run(char *const argv[], char **out, char **err)
{
	int po[2], pe[2], status;
	pid_t pid;
	char *o, *e;

	if (pipe(po) < 0 || pipe(pe) < 0)
		t_fail(__FILE__, __LINE__, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		/*
		 * Only 0-2 go on: a program that leaves a daemon behind (tmux
		 * starts its server) would keep a spare copy of a pipe's
		 * write end open, and the reads below would never end.
		 */
		close(po[0]);
		close(pe[0]);
		if (po[1] > 2)
			close(po[1]);
		if (pe[1] > 2)
			close(pe[1]);
		if (devnull > 2)
			close(devnull);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	/* stderr is small; read stdout first, then stderr */
	o = slurp(po[0]);
	e = slurp(pe[0]);
	close(po[0]);
	close(pe[0]);
	status = t_wait(pid);
	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return status;
}

int t_sh(char **out, char **err, const char *fmt, ...)
{
	char script[4096];
	char *argv[] = { "sh", "-c", script, NULL };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(script, sizeof(script), fmt, ap);
	va_end(ap);
	return t_run(argv, out, err);
}

int t_cli(char **out, char **err, const char *arg0, ...)
{
	const char *bin = getenv("SHMKIT");
	char *argv[64];
	int argc = 0;
	va_list ap;
	const char *a;

	if (!bin)
		bin = "build/shmkit";
	argv[argc++] = (char *)bin;
	va_start(ap, arg0);
	for (a = arg0; a && argc < 63; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return t_run(argv, out, err);
}

pid_t t_fork(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn(arg));
	if (nchildren < MAX_TRACKED)
		children[nchildren++] = pid;
	return pid;
}

pid_t t_child(void)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
	if (pid == 0) {
		/* a test that dies leaves no child waiting for ever */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(20);
		nchildren = 0;	/* the test's to clean up, not the child's */
	}
	return pid;
}

int t_wait(pid_t pid)
{
	int status;

	int i;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			t_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
	for (i = 0; i < nchildren; i++)
		if (children[i] == pid)
			children[i] = 0;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
