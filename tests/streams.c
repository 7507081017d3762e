/* Steady streams for tests that watch them (tests/streams.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "streams.h"

#define MSG_SIZE 64
#define PAUSE_NS 200000		/* between two messages of one writer */
#define RECV_TIMEOUT_MS 100

static void pause_a_little(void)
{
	struct timespec ts = { 0, PAUSE_NS };

	nanosleep(&ts, NULL);
}

/* Ends a reader's loop: the writer has gone (or the segment). */
static int over(int r)
{
	return r < 0 && r != -EAGAIN && r != -ETIMEDOUT;
}

static int chan_writer(void *arg)
{
	char msg[MSG_SIZE] = "top";
	struct shmkit_chan *ch;

	if (shmkit_chan_open(arg, SHMKIT_PRODUCER, &ch) < 0)
		return 1;
	for (;;) {
		shmkit_chan_send(ch, msg, sizeof(msg), RECV_TIMEOUT_MS);
		pause_a_little();
	}
}

static int chan_reader(void *arg)
{
	char msg[MSG_SIZE];
	struct shmkit_chan *ch;
	size_t len;

	if (shmkit_chan_open(arg, SHMKIT_CONSUMER, &ch) < 0)
		return 1;
	while (!over(shmkit_chan_recv(ch, msg, sizeof(msg), &len, RECV_TIMEOUT_MS)))
		;
	return 0;
}

static int topic_writer(void *arg)
{
	char msg[MSG_SIZE] = "top";
	struct shmkit_pub *pub;

	if (shmkit_pub_open(arg, 0, &pub) < 0)
		return 1;
	for (;;) {
		shmkit_pub_send(pub, msg, sizeof(msg), RECV_TIMEOUT_MS);
		pause_a_little();
	}
}

static int topic_reader(void *arg)
{
	char msg[MSG_SIZE];
	struct shmkit_sub *sub;
	size_t len;

	if (shmkit_sub_open(arg, 0, &sub) < 0)
		return 1;
	while (!over(shmkit_sub_recv(sub, msg, sizeof(msg), &len, RECV_TIMEOUT_MS)))
		;
	return 0;
}

static int inbox_writer(void *arg)
{
	char msg[MSG_SIZE] = "top";
	struct shmkit_chan *ch;

	if (shmkit_inbox_join(arg, 0, &ch) < 0)
		return 1;
	for (;;) {
		shmkit_chan_send(ch, msg, sizeof(msg), RECV_TIMEOUT_MS);
		pause_a_little();
	}
}

static int inbox_reader(void *arg)
{
	char msg[MSG_SIZE];
	struct shmkit_inbox *ib;
	size_t len;

	if (shmkit_inbox_open(arg, 0, &ib) < 0)
		return 1;
	/* an inbox never ends: producers come and go; the test kills it */
	for (;;)
		shmkit_inbox_recv(ib, msg, sizeof(msg), &len, RECV_TIMEOUT_MS);
}

static void start(struct t_stream *s, int (*fn)(void *), const char *name)
{
	T_ASSERT(s->n < T_STREAM_MAX);
	s->pid[s->n++] = t_fork(fn, (void *)name);
}

void t_chan_stream(const char *name, struct t_stream *s)
{
	T_OK(shmkit_chan_create(name, 65536, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	s->n = 0;
	start(s, chan_writer, name);
	start(s, chan_reader, name);
}

void t_topic_stream(const char *name, int subs, struct t_stream *s)
{
	struct shmkit_topic_params p = { MSG_SIZE, 64, 16, 8, SHMKIT_TOPIC_BLOCK };

	T_OK(shmkit_topic_create(name, &p, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	s->n = 0;
	start(s, topic_writer, name);
	for (int k = 0; k < subs; k++)
		start(s, topic_reader, name);
}

void t_inbox_stream(const char *name, int prods, struct t_stream *s)
{
	T_OK(shmkit_inbox_create(name, 8, 65536, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	s->n = 0;
	start(s, inbox_reader, name);
	for (int k = 0; k < prods; k++)
		start(s, inbox_writer, name);
}

void t_stream_stop(struct t_stream *s)
{
	for (int k = 0; k < s->n; k++)
		if (s->pid[k] > 0)
			kill(s->pid[k], SIGKILL);
	for (int k = 0; k < s->n; k++)
		if (s->pid[k] > 0)
			t_wait(s->pid[k]);
	s->n = 0;
}
