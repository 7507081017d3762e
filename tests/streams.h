/*
 * Steady streams for tests that watch them (shmkit top): a channel, a
 * topic or an inbox with every side a child process, messages at a few
 * thousand a second, until stopped or the test exits.
 */
#ifndef SHMKIT_TEST_STREAMS_H
#define SHMKIT_TEST_STREAMS_H

#include <sys/types.h>

#define T_STREAM_MAX 8

struct t_stream {
	pid_t pid[T_STREAM_MAX];	/* the writer(s) and reader(s), as each call says */
	int n;
};

/* Channel name (made here, tracked): pid[0] the producer, pid[1] the consumer. */
void t_chan_stream(const char *name, struct t_stream *s);
/* Topic name with subs subscribers: pid[0] the publisher, then the subscribers. */
void t_topic_stream(const char *name, int subs, struct t_stream *s);
/* Inbox name with prods producers: pid[0] the consumer, then the producers. */
void t_inbox_stream(const char *name, int prods, struct t_stream *s);
/* SIGKILLs and reaps every process of s. */
void t_stream_stop(struct t_stream *s);

#endif
