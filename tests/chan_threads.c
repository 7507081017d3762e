/*
 * Both sides of a channel as two threads of one process: the stream test
 * again, in a form ThreadSanitizer can follow (make check SANITIZE=thread),
 * and the wait policies: a spinning consumer never announces a sleep, so
 * the producer makes no wake call at all, however long the stream.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

struct side {
	const char *name;
	uint64_t count;
	int policy;
	int zero_copy;
	int result;
};

static size_t msg_len(uint64_t seq)
{
	return (size_t)(t_mix(seq) % 1025); /* 0..1024 through a 4 KiB ring */
}

static void *producer(void *arg)
{
	struct side *s = arg;
	struct shmkit_chan *ch;
	unsigned char buf[1024];
	uint64_t seq;
	void *w;
	int r = 0;

	if ((s->result = shmkit_chan_open(s->name, SHMKIT_PRODUCER, &ch)) < 0)
		return NULL;
	for (seq = 0; seq < s->count; seq++) {
		size_t len = msg_len(seq);
		if (s->zero_copy && (seq & 1)) {
			if ((r = shmkit_chan_reserve(ch, len, &w, 10000)) < 0)
				break;
			payload_fill(w, len, seq);
			r = shmkit_chan_commit(ch, len);
		} else {
			payload_fill(buf, len, seq);
			r = shmkit_chan_send(ch, buf, len, 10000);
		}
		if (r < 0)
			break;
	}
	s->result = seq == s->count ? shmkit_chan_close(ch) : (shmkit_chan_close(ch), r);
	return NULL;
}

static void *consumer(void *arg)
{
	struct side *s = arg;
	struct shmkit_chan *ch;
	unsigned char got[1024];
	const void *p;
	uint64_t seq;
	size_t len;
	int r = 0;

	if ((s->result = shmkit_chan_open(s->name, SHMKIT_CONSUMER, &ch)) < 0)
		return NULL;
	shmkit_chan_set_wait(ch, s->policy);
	for (seq = 0; seq < s->count; seq++) {
		if (s->zero_copy && (seq & 2)) {
			if ((r = shmkit_chan_peek(ch, &p, &len, 10000)) < 0)
				break;
			memcpy(got, p, len < sizeof(got) ? len : sizeof(got));
			if ((r = shmkit_chan_release(ch)) < 0)
				break;
		} else if ((r = shmkit_chan_recv(ch, got, sizeof(got), &len, 10000)) < 0) {
			break;
		}
		if (len != msg_len(seq) || payload_check(got, len, seq)) {
			/* a thread leaves failing to the main one: say what came */
			fprintf(stderr, "expected message %llu of %zu bytes, got %zu bytes "
				"carrying %llu\n", (unsigned long long)seq, msg_len(seq), len,
				(unsigned long long)payload_tag(got, len < sizeof(got) ? len : sizeof(got)));
			r = -EBADMSG;
			break;
		}
	}
	if (seq == s->count)
		r = shmkit_chan_recv(ch, got, sizeof(got), &len, 10000) == -SHMKIT_EEOF ? 0 : -EPROTO;
	shmkit_chan_close(ch);
	s->result = r;
	return NULL;
}

static void stream(uint64_t count, int policy, int zero_copy, struct shmkit_chan_info *info)
{
	char name[64];
	struct side p = { .count = count, .zero_copy = zero_copy };
	struct side c = { .count = count, .policy = policy, .zero_copy = zero_copy };
	pthread_t tp, tc;
	int id;

	p.name = c.name = t_name(name, sizeof(name), "thr");
	id = t_track(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL));
	T_OK(id);
	T_EQ(pthread_create(&tc, NULL, consumer, &c), 0);
	T_EQ(pthread_create(&tp, NULL, producer, &p), 0);
	T_EQ(pthread_join(tp, NULL), 0);
	T_EQ(pthread_join(tc, NULL), 0);
	T_OK(p.result);
	T_OK(c.result);
	T_OK(shmkit_chan_info(id, info));
	T_EQ(info->recv_msgs, count);
	T_OK(shmkit_chan_destroy(name));
}

int main(void)
{
	struct shmkit_chan_info info;
	uint64_t count = t_scale(1000000);
	char name[64];
	struct shmkit_chan *ch;
	char buf[16];
	size_t len;

	stream(count, SHMKIT_WAIT_BLOCK, 0, &info);
	T_ASSERT(info.prod_wakes <= info.cons_sleeps);
	stream(count, SHMKIT_WAIT_BLOCK, 1, &info);
	T_ASSERT(info.prod_wakes <= info.cons_sleeps);

	/* a spinning consumer: not one sleep announced, not one wake call made */
	stream(count, SHMKIT_WAIT_SPIN, 1, &info);
	T_EQ(info.cons_sleeps, 0);
	T_EQ(info.prod_wakes, 0);
	printf("spinning consumer: %llu messages, 0 sleeps, 0 wake calls; producer slept %llu\n",
	       (unsigned long long)count, (unsigned long long)info.prod_sleeps);

	/* never wait: even an unbounded timeout returns at once */
	T_OK(t_track(shmkit_chan_create(t_name(name, sizeof(name), "nowait"), 4096,
					SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, &ch));
	T_OK(shmkit_chan_set_wait(ch, SHMKIT_WAIT_NONE));
	T_EQ(shmkit_chan_recv(ch, buf, sizeof(buf), &len, -1), -EAGAIN);
	T_OK(shmkit_chan_close(ch));
	T_OK(shmkit_chan_destroy(name));
	return 0;
}
