/*
 * Channels, one process holding both sides: the API's contract for every
 * result code, framing, zero copy, wrap-around, end of stream, -EPIPE,
 * -EBUSY, and the counters (messages, bytes, sleeps, wakes, yields).
 */
#define _GNU_SOURCE	/* sched_getcpu */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"

static void open_pair(const char *name, size_t cap, struct shmkit_chan **p,
		      struct shmkit_chan **c)
{
	T_OK(t_track(shmkit_chan_create(name, cap, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, p));
	T_OK(shmkit_chan_open(name, SHMKIT_CONSUMER, c));
}

static void basics(void)
{
	char name[64], buf[8192];
	struct shmkit_chan *p, *c, *again;
	struct shmkit_chan_info info;
	struct shmkit_seg_info si;
	size_t len, max;
	int id;

	t_name(name, sizeof(name), "basic");
	open_pair(name, 5000, &p, &c);
	id = shmkit_seg_open(&(struct shmkit_ref){ .kind = SHMKIT_REF_NAME, .name = name });
	T_OK(id);
	T_OK(shmkit_chan_info(id, &info));
	T_EQ(info.capacity, 8192);	/* rounded up to a power of two */
	T_EQ(info.max_msg, 4096);
	max = shmkit_chan_max_msg(p);
	T_EQ(max, 4096);
	T_OK(shmkit_seg_stat(id, &si));
	T_ASSERT(si.flags & SHMKIT_INFO_CHANNEL);
	T_EQ(si.alloc, 4096 + 8192);	/* whole pages, none wasted */
	T_EQ(info.prod_pid, getpid());
	T_EQ(info.cons_pid, getpid());
	T_ASSERT(info.prod_alive && info.cons_alive);

	/* create-or-open takes the existing channel, whatever capacity is asked */
	T_EQ(shmkit_chan_create(name, 1 << 20, SHMKIT_MODE_DEFAULT, 0), id);
	T_EQ(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0), id);
	T_EQ(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);

	/* one side each: a second live producer or consumer is refused */
	T_EQ(shmkit_chan_open(name, SHMKIT_PRODUCER, &again), -EBUSY);
	T_EQ(shmkit_chan_open(name, SHMKIT_CONSUMER, &again), -EBUSY);
	T_EQ(shmkit_chan_open(name, 7, &again), -EINVAL);

	/* nothing there: try once, or time out */
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 30), -ETIMEDOUT);

	/* framing: sizes 0, 1, max; each arrives whole */
	T_OK(shmkit_chan_send(p, "", 0, 0));
	T_OK(shmkit_chan_send(p, "x", 1, 0));
	memset(buf, 'm', max);
	T_OK(shmkit_chan_send(p, buf, max, 0));
	T_EQ(shmkit_chan_send(p, buf, max + 1, 0), -EMSGSIZE);
	memset(buf, 0, sizeof(buf));
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 0);
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_EQ(len, 1);
	T_EQ(buf[0], 'x');
	/* too big for the buffer: size reported, message left in place */
	T_EQ(shmkit_chan_recv(c, buf, 100, &len, 0), -EMSGSIZE);
	T_EQ(len, max);
	T_EQ(shmkit_chan_recv(c, buf, max - 1, &len, 0), -EMSGSIZE);
	T_OK(shmkit_chan_recv(c, buf, max, &len, 0));
	T_EQ(len, max);
	T_EQ(buf[0], 'm');
	T_EQ(buf[max - 1], 'm');
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);

	/* a full ring: try once says -EAGAIN, a timeout says -ETIMEDOUT */
	T_OK(shmkit_chan_send(p, buf, max, 0));
	T_EQ(shmkit_chan_send(p, buf, max, 0), -EAGAIN);
	T_EQ(shmkit_chan_send(p, buf, max, 20), -ETIMEDOUT);
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));

	/* wrong side */
	T_EQ(shmkit_chan_send(c, buf, 1, 0), -EINVAL);
	T_EQ(shmkit_chan_recv(p, buf, 1, &len, 0), -EINVAL);
	T_EQ(shmkit_chan_release(c), -EINVAL);
	T_EQ(shmkit_chan_commit(p, 0), -EINVAL);
	T_EQ(shmkit_chan_set_wait(p, 9), -EINVAL);

	T_OK(shmkit_chan_info(id, &info));
	T_EQ(info.sent_msgs, 4);
	T_EQ(info.recv_msgs, 4);
	T_EQ(info.sent_bytes, 1 + 2 * max);
	T_EQ(info.recv_bytes, 1 + 2 * max);
	T_EQ(info.used, 0);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(name));
}

static void zero_copy(void)
{
	char name[64];
	struct shmkit_chan *p, *c;
	const void *rp, *rp2;
	void *wp;
	size_t len, len2;

	open_pair(t_name(name, sizeof(name), "zc"), 4096, &p, &c);
	T_OK(shmkit_chan_reserve(p, 100, &wp, 0));
	memcpy(wp, "hello", 5);
	/* nothing is visible before commit */
	T_EQ(shmkit_chan_peek(c, &rp, &len, 0), -EAGAIN);
	/* commit fewer bytes than reserved; never more */
	T_EQ(shmkit_chan_commit(p, 101), -EINVAL);
	T_OK(shmkit_chan_commit(p, 5));
	T_OK(shmkit_chan_peek(c, &rp, &len, 0));
	T_EQ(len, 5);
	T_ASSERT(memcmp(rp, "hello", 5) == 0);
	/* peeking again without release gives the same message */
	T_OK(shmkit_chan_peek(c, &rp2, &len2, 0));
	T_ASSERT(rp2 == rp && len2 == len);
	T_OK(shmkit_chan_release(c));
	T_EQ(shmkit_chan_release(c), -EINVAL);
	T_EQ(shmkit_chan_peek(c, &rp, &len, 0), -EAGAIN);
	/* a reservation can be replaced before commit; only the last counts */
	T_OK(shmkit_chan_reserve(p, 10, &wp, 0));
	T_OK(shmkit_chan_reserve(p, 20, &wp, 0));
	memset(wp, 'z', 20);
	T_OK(shmkit_chan_commit(p, 20));
	T_EQ(shmkit_chan_commit(p, 0), -EINVAL);
	T_OK(shmkit_chan_peek(c, &rp, &len, 0));
	T_EQ(len, 20);
	T_EQ(((const char *)rp)[19], 'z');
	T_OK(shmkit_chan_release(c));
	/* a failed reserve abandons the last one too: nothing left to commit */
	T_OK(shmkit_chan_reserve(p, 10, &wp, 0));
	T_EQ(shmkit_chan_reserve(p, 4096, &wp, 0), -EMSGSIZE);
	T_EQ(shmkit_chan_commit(p, 10), -EINVAL);
	T_OK(shmkit_chan_reserve(p, 10, &wp, 0));
	T_OK(shmkit_chan_close(c));
	T_EQ(shmkit_chan_reserve(p, 10, &wp, 0), -EPIPE);
	T_EQ(shmkit_chan_commit(p, 10), -EINVAL);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_destroy(name));
}

static size_t msg_size(unsigned i)
{
	return (i * 7919u) % 2049u; /* 0..2048 = max_msg of a 4 KiB ring */
}

/*
 * Awkward sizes through a small ring, so records wrap and pads appear: the
 * producer fills until the ring says -EAGAIN, the consumer drains, and
 * every message is checked byte for byte, copying and zero copy mixed.
 */
static void wrap_around(void)
{
	char name[64], out[2048], in[2048];
	struct shmkit_chan *p, *c;
	struct shmkit_chan_info info;
	unsigned sent = 0, got = 0;
	size_t len;
	int r, id;

	open_pair(t_name(name, sizeof(name), "wrap"), 4096, &p, &c);
	while (got < 20000) {
		for (;;) {
			void *w;
			size_t n = msg_size(sent);
			if (sent % 2) {
				payload_fill(out, n, sent);
				r = shmkit_chan_send(p, out, n, 0);
			} else if ((r = shmkit_chan_reserve(p, n, &w, 0)) == 0) {
				payload_fill(w, n, sent);
				T_OK(shmkit_chan_commit(p, n));
			}
			if (r == -EAGAIN)
				break;
			T_OK(r);
			sent++;
		}
		T_ASSERT(sent > got);
		while (got < sent) {
			size_t n = msg_size(got);
			if (got % 3) {
				T_OK(shmkit_chan_recv(c, in, sizeof(in), &len, 0));
				T_EQ(len, n);
				T_PAYLOAD(in, len, got);
			} else {
				const void *rp;
				T_OK(shmkit_chan_peek(c, &rp, &len, 0));
				T_EQ(len, n);
				T_PAYLOAD(rp, len, got);
				T_OK(shmkit_chan_release(c));
			}
			got++;
		}
		T_EQ(shmkit_chan_recv(c, in, sizeof(in), &len, 0), -EAGAIN);
	}
	id = shmkit_seg_open(&(struct shmkit_ref){ .kind = SHMKIT_REF_NAME, .name = name });
	T_OK(shmkit_chan_info(id, &info));
	T_EQ(info.sent_msgs, sent);
	T_EQ(info.recv_msgs, sent);
	T_EQ(info.sent_bytes, info.recv_bytes);
	T_EQ(info.used, 0);
	/* one process, never waiting: nobody slept, nobody was woken */
	T_EQ(info.prod_sleeps + info.cons_sleeps + info.prod_wakes + info.cons_wakes, 0);
	T_EQ(info.prod_yields + info.cons_yields, 0);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(name));
}

static void end_of_stream(void)
{
	char name[64], buf[64];
	struct shmkit_chan *p, *c;
	size_t len;

	open_pair(t_name(name, sizeof(name), "eos"), 4096, &p, &c);
	T_OK(shmkit_chan_send(p, "a", 1, 0));
	T_OK(shmkit_chan_send(p, "bb", 2, 0));
	T_OK(shmkit_chan_close(p));
	/* everything still in the ring first, then end of stream */
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, -1));
	T_EQ(len, 1);
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, -1));
	T_EQ(len, 2);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, -1), -SHMKIT_EEOF);
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -SHMKIT_EEOF);
	/* a new producer reopens the stream */
	T_OK(shmkit_chan_open(name, SHMKIT_PRODUCER, &p));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0), -EAGAIN);
	T_OK(shmkit_chan_send(p, "c", 1, 0));
	T_OK(shmkit_chan_recv(c, buf, sizeof(buf), &len, 0));
	T_EQ(buf[0], 'c');

	/* the consumer leaves: the producer's send fails at once */
	T_OK(shmkit_chan_close(c));
	T_EQ(shmkit_chan_send(p, "d", 1, -1), -EPIPE);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_destroy(name));
}

/* shmkit ls marks channels; shmkit stat shows their counters. */
static void in_the_command(void)
{
	char name[64], *out = NULL, line[64];
	struct shmkit_chan *p, *c;
	size_t len;
	int i;

	open_pair(t_name(name, sizeof(name), "cli"), 4096, &p, &c);
	for (i = 0; i < 7; i++)
		T_OK(shmkit_chan_send(p, "12345", 5, 0));
	T_OK(shmkit_chan_recv(c, line, sizeof(line), &len, 0));
	T_EQ(t_cli(&out, NULL, "ls", NULL), 0);
	T_STR_CONTAINS(out, name);
	T_STR_CONTAINS(strstr(out, name), "in-use,channel");
	free(out);
	T_EQ(t_cli(&out, NULL, "stat", "-n", name, NULL), 0);
	T_STR_CONTAINS(out, "channel:      ring 4K, messages up to 2048 bytes");
	T_STR_CONTAINS(out, "sent:       7 messages, 35 bytes");
	T_STR_CONTAINS(out, "received:   1 messages, 5 bytes");
	snprintf(line, sizeof(line), "producer:   pid %d (running)", (int)getpid());
	T_STR_CONTAINS(out, line);
	free(out);
	T_EQ(t_cli(&out, NULL, "stat", "--json", "-n", name, NULL), 0);
	T_STR_CONTAINS(out, "\"channel\": true");
	T_STR_CONTAINS(out, "\"sent_msgs\": 7");
	T_STR_CONTAINS(out, "\"recv_bytes\": 5");
	free(out);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(name));
}

/* Pins this process to the cpu it runs on; returns that cpu. */
static int pin_here(void)
{
	int cpu = sched_getcpu();

	T_ASSERT(cpu >= 0);
	T_OK(t_pin(cpu));
	return cpu;
}

/*
 * Every system call a channel makes on its own is counted: a consumer
 * that waits with nothing coming yields its cpu (after a short spin) if
 * the producer last waited on the same cpu, never if on another, and,
 * when it may block, sleeps. stat and stat --json show the yields.
 */
static void counted_waits(void)
{
	char name[64], buf[64], *out = NULL;
	struct shmkit_chan *p, *c;
	struct shmkit_chan_info info;
	struct __shmkit_chan_hdr *h;
	size_t len;
	uint64_t yields;
	int id, cpu = pin_here();
	char *base;

	open_pair(t_name(name, sizeof(name), "waits"), 4096, &p, &c);
	id = shmkit_seg_open(&(struct shmkit_ref){ .kind = SHMKIT_REF_NAME, .name = name });
	T_OK(id);
	base = shmat(id, NULL, 0);
	T_ASSERT(base != (void *)-1);
	h = (struct __shmkit_chan_hdr *)(base + SHMKIT_HDR_SIZE);
	/* as if the producer had last waited here */
	atomic_store(&h->hot[__SHMKIT_SIDE_PROD].cpu, (uint32_t)cpu);
	T_OK(shmkit_chan_set_wait(c, SHMKIT_WAIT_SPIN));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
	T_OK(shmkit_chan_info(id, &info));
	T_ASSERT(info.cons_yields > 0);
	T_EQ(info.cons_sleeps, 0);	/* spinning never sleeps */
	T_EQ(info.prod_yields + info.prod_sleeps + info.prod_wakes, 0);
	yields = info.cons_yields;

	T_OK(shmkit_chan_set_wait(c, SHMKIT_WAIT_BLOCK));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
	T_OK(shmkit_chan_info(id, &info));
	T_ASSERT(info.cons_yields > yields);	/* the spin before the sleep */
	T_ASSERT(info.cons_sleeps > 0);
	/* two 30 ms waits, timed; the producer never waited */
	T_ASSERT(info.cons_wait_ns >= 60000000u);
	T_EQ(info.prod_wait_ns, 0);

	/* the producer elsewhere: spinning, the consumer keeps its cpu */
	yields = info.cons_yields;
	atomic_store(&h->hot[__SHMKIT_SIDE_PROD].cpu, (uint32_t)cpu + 1);
	T_OK(shmkit_chan_set_wait(c, SHMKIT_WAIT_SPIN));
	T_EQ(shmkit_chan_recv(c, buf, sizeof(buf), &len, 30), -ETIMEDOUT);
	T_OK(shmkit_chan_info(id, &info));
	T_EQ(info.cons_yields, yields);
	T_OK(shmdt(base));

	T_EQ(t_cli(&out, NULL, "stat", "-n", name, NULL), 0);
	snprintf(buf, sizeof(buf), "yields:     producer 0, consumer %llu",
		 (unsigned long long)info.cons_yields);
	T_STR_CONTAINS(out, buf);
	free(out);
	T_EQ(t_cli(&out, NULL, "stat", "--json", "-n", name, NULL), 0);
	snprintf(buf, sizeof(buf), "\"consumer_yields\": %llu", (unsigned long long)info.cons_yields);
	T_STR_CONTAINS(out, buf);
	free(out);
	T_OK(shmkit_chan_close(p));
	T_OK(shmkit_chan_close(c));
	T_OK(shmkit_chan_destroy(name));
}

static void not_a_channel(void)
{
	char name[64];
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = t_name(name, sizeof(name), "plain") };
	struct shmkit_chan *ch;
	struct shmkit_chan_info info;
	int id = t_track(shmkit_seg_create(&ref, 8192, SHMKIT_MODE_DEFAULT, 0));

	T_OK(id);
	T_EQ(shmkit_chan_open(name, SHMKIT_CONSUMER, &ch), -SHMKIT_ENOTCHAN);
	T_EQ(shmkit_chan_create(name, 4096, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ENOTCHAN);
	T_EQ(shmkit_chan_info(id, &info), -SHMKIT_ENOTCHAN);
	/* destroy leaves a segment that is no channel alone */
	T_EQ(shmkit_chan_destroy(name), -SHMKIT_ENOTCHAN);
	T_EQ(shmkit_seg_open(&ref), id);
	T_EQ(shmkit_chan_destroy("no-such-channel-here"), -ENOENT);
	T_EQ(shmkit_chan_open("no-such-channel-here", SHMKIT_CONSUMER, &ch), -ENOENT);
	T_EQ(shmkit_chan_create("bad/name", 4096, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_EQ(shmkit_chan_create(name, 0, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	T_OK(shmkit_seg_remove(id));
}

int main(void)
{
	basics();
	zero_copy();
	wrap_around();
	end_of_stream();
	not_a_channel();
	in_the_command();
	counted_waits();
	return 0;
}
