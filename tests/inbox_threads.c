/*
 * An inbox and a service with their producers, clients, consumer and
 * server as threads of one process: the stream tests again, in a form
 * ThreadSanitizer can follow (make check SANITIZE=thread).
 *
 * Four producer threads stream into one inbox (send or reserve/commit at
 * random), and the consumer thread reads with recv or peek/release at
 * random, through a wait set that sleeps at once; every message is
 * checked, in order per producer. Then three client threads call a
 * server thread, each with requests out at once, every reply checked.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define PRODUCERS 4
#define CLIENTS 3
#define TIMEOUT_MS 20000	/* no wait is unbounded: a hang is a failure */
#define TAG(who, seq) ((uint64_t)(who) << 40 | (seq))

struct run {
	char name[64];
	uint64_t count;
	int id;
	const char *fail;	/* what failed in the thread, or NULL */
};

static void *produce(void *arg)
{
	struct run *r = arg;
	struct shmkit_chan *p;
	char buf[512];
	uint64_t rnd = (uint64_t)r->id + 99;

	if (shmkit_inbox_join(r->name, 0, &p) < 0) {
		r->fail = "join";
		return NULL;
	}
	for (uint64_t k = 0; k < r->count; k++) {
		size_t len = 8 + (size_t)((rnd = t_mix(rnd)) % 400);
		void *slot;

		if (rnd & 1) {
			payload_fill(buf, len, TAG(r->id, k));
			if (shmkit_chan_send(p, buf, len, TIMEOUT_MS) < 0)
				r->fail = "send";
		} else if (shmkit_chan_reserve(p, len, &slot, TIMEOUT_MS) < 0) {
			r->fail = "reserve";
		} else {
			payload_fill(slot, len, TAG(r->id, k));
			if (shmkit_chan_commit(p, len) < 0)
				r->fail = "commit";
		}
		if (r->fail)
			break;
	}
	shmkit_chan_close(p);
	return NULL;
}

static void inbox_stream(void)
{
	struct run r[PRODUCERS];
	pthread_t th[PRODUCERS];
	struct shmkit_inbox *ib;
	struct shmkit_waitset *ws;
	struct shmkit_event ev;
	uint64_t next[PRODUCERS] = { 0 }, total = 0, count = t_scale(200000), rnd = 5;
	char name[64], buf[512];

	t_name(name, sizeof(name), "ib-threads");
	T_OK(t_track(shmkit_inbox_create(name, PRODUCERS, 8192, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_inbox_open(name, 0, &ib));
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_set_spin(ws, 0));
	T_OK(shmkit_waitset_add_inbox(ws, ib, ib));
	for (int i = 0; i < PRODUCERS; i++) {
		r[i] = (struct run){ .count = count, .id = i };
		memcpy(r[i].name, name, sizeof(name));
		T_EQ(pthread_create(&th[i], NULL, produce, &r[i]), 0);
	}
	while (total < PRODUCERS * count) {
		const void *p;
		size_t len;
		uint64_t tag;
		int from;

		T_EQ(shmkit_waitset_wait(ws, &ev, 1, TIMEOUT_MS), 1);
		T_EQ(ev.status, 0);
		if ((rnd = t_mix(rnd)) & 1) {
			T_OK(shmkit_inbox_recv(ib, buf, sizeof(buf), &len, 0));
			p = buf;
		} else {
			T_OK(shmkit_inbox_peek(ib, &p, &len, 0));
		}
		tag = payload_tag(p, len);
		from = (int)(tag >> 40);
		T_ASSERT(from >= 0 && from < PRODUCERS);
		T_PAYLOAD(p, len, TAG(from, next[from]));
		if (p != buf)
			T_OK(shmkit_inbox_release(ib));
		next[from]++;
		total++;
	}
	for (int i = 0; i < PRODUCERS; i++) {
		T_EQ(pthread_join(th[i], NULL), 0);
		if (r[i].fail)
			t_fail(__FILE__, __LINE__, "producer %d: %s failed", i, r[i].fail);
		T_EQ(next[i], count);
	}
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_inbox_close(ib));
}

static void *call(void *arg)
{
	struct run *r = arg;
	struct shmkit_client *cl;
	char req[256], rep[256];
	size_t len;
	uint64_t id;

	if (shmkit_client_open(r->name, 0, &cl) < 0) {
		r->fail = "open";
		return NULL;
	}
	for (uint64_t k = 0; k < r->count && !r->fail; k += 4) {
		/* four out at once, then their four replies, in order */
		for (uint64_t j = 0; j < 4; j++) {
			payload_fill(req, 64, TAG(r->id, k + j));
			if (shmkit_client_send(cl, req, 64, &id, TIMEOUT_MS) < 0 || id != k + j + 1)
				r->fail = "send";
		}
		for (uint64_t j = 0; j < 4 && !r->fail; j++) {
			if (shmkit_client_recv(cl, rep, sizeof(rep), &len, &id, TIMEOUT_MS) < 0 ||
			    id != k + j + 1 || len != 64 || payload_check(rep, len, TAG(r->id, k + j) + 1))
				r->fail = "reply";
		}
	}
	shmkit_client_close(cl);
	return NULL;
}

static void service_calls(void)
{
	struct run r[CLIENTS];
	pthread_t th[CLIENTS];
	struct shmkit_service *srv;
	struct shmkit_request req;
	uint64_t count = t_scale(40000) / 4 * 4 + 4, answered = 0;
	char name[64], buf[256];
	size_t len;

	t_name(name, sizeof(name), "svc-threads");
	T_OK(t_track(shmkit_service_create(name, CLIENTS, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_service_open(name, 0, &srv));
	T_OK(shmkit_service_set_spin(srv, 0));
	for (int i = 0; i < CLIENTS; i++) {
		r[i] = (struct run){ .count = count, .id = i };
		memcpy(r[i].name, name, sizeof(name));
		T_EQ(pthread_create(&th[i], NULL, call, &r[i]), 0);
	}
	while (answered < CLIENTS * count) {
		T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, TIMEOUT_MS));
		payload_fill(buf, len, payload_tag(buf, len) + 1);
		T_OK(shmkit_service_reply(srv, &req, buf, len, TIMEOUT_MS));
		answered++;
	}
	for (int i = 0; i < CLIENTS; i++) {
		T_EQ(pthread_join(th[i], NULL), 0);
		if (r[i].fail)
			t_fail(__FILE__, __LINE__, "client %d: %s failed", i, r[i].fail);
	}
	T_OK(shmkit_service_close(srv));
}

int main(void)
{
	inbox_stream();
	service_calls();
	printf("4 producer threads into an inbox, 3 client threads to a server: all checked\n");
	return 0;
}
