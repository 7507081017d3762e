/*
 * A clean end is never reported as a death. A waiting consumer or
 * subscriber that loads the other side's owner word, and then asks /proc
 * whether it lives, may find it gone because it closed cleanly and
 * exited in between: that must read as end of stream, not as
 * -SHMKIT_EPEERDEAD.
 *
 * Deterministic: this program's own open() stands in for libc's, and the
 * first open of "/proc" while armed (the liveness check) first lets the
 * other side close and exit. (Found by tests/topic_stream under
 * ThreadSanitizer, where /proc reads are slow enough to lose the race.)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static volatile int armed;
static int go_fd;
static pid_t other;

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	va_start(ap, flags);
	if (flags & O_CREAT)
		mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	if (armed && strcmp(path, "/proc") == 0) {
		armed = 0;
		/* the owner word is loaded and nonzero: now it closes and exits */
		if (write(go_fd, "g", 1) != 1 || waitpid(other, NULL, 0) != other)
			_exit(3);
	}
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

/* The other side: opens, says so, closes cleanly when told, exits. */
static void run_other(int kind, const char *name, int ready, int go)
{
	struct shmkit_chan *ch;
	struct shmkit_pub *p;
	char c;
	int r;

	r = kind ? shmkit_pub_open(name, 0, &p) : shmkit_chan_open(name, SHMKIT_PRODUCER, &ch);
	if (r < 0 || write(ready, "r", 1) != 1 || read(go, &c, 1) != 1)
		_exit(1);
	_exit((kind ? shmkit_pub_close(p) : shmkit_chan_close(ch)) < 0);
}

/* kind 0: a channel's consumer; 1: a topic's subscriber. */
static void clean_end(int kind)
{
	struct shmkit_topic_params tp = { .max_msg = 64, .slots = 4, .max_subs = 1,
					  .policy = SHMKIT_TOPIC_BLOCK };
	struct shmkit_chan *ch = NULL;
	struct shmkit_sub *s = NULL;
	int ready[2], go[2];
	char name[64], c, buf[64];
	size_t len;

	t_name(name, sizeof(name), kind ? "topic" : "chan");
	if (kind) {
		T_OK(shmkit_topic_create(name, &tp, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
		T_OK(shmkit_sub_open(name, 0, &s));
	} else {
		T_OK(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
		T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &ch));
	}
	T_EQ(pipe(ready), 0);
	T_EQ(pipe(go), 0);
	if ((other = t_child()) == 0)
		run_other(kind, name, ready[1], go[0]);
	T_EQ(read(ready[0], &c, 1), 1);
	go_fd = go[1];
	armed = 1;
	T_EQ(kind ? shmkit_sub_recv(s, buf, sizeof(buf), &len, 5000) :
		    shmkit_chan_recv(ch, buf, sizeof(buf), &len, 5000), -SHMKIT_EEOF);
	T_ASSERT(!armed);	/* the race was run, not missed */
	if (kind) {
		T_OK(shmkit_sub_close(s));
		T_OK(shmkit_topic_destroy(name));
	} else {
		T_OK(shmkit_chan_close(ch));
		T_OK(shmkit_chan_destroy(name));
	}
	for (int i = 0; i < 2; i++)
		close(ready[i]), close(go[i]);
}

int main(void)
{
	clean_end(0);
	clean_end(1);
	return 0;
}
