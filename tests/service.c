/*
 * Services: request and response. The contract of every call, kinds kept
 * apart (an inbox is no service), correlation with many requests out and
 * replies in any order, zero copy on both sides, a client that dies with
 * a reply on its way (the next client of its lane never sees it), a
 * server that dies or closes, wait sets, and clients in processes of
 * their own calling a server, every reply checked; and what
 * shmkit_inbox_info says of a service: its kind and reply rings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "harness.h"

static void kinds(void)
{
	struct shmkit_service *srv;
	struct shmkit_client *cl;
	struct shmkit_inbox *ib;
	struct shmkit_chan *p;
	char svc[64], inbox[64];
	int id;

	t_name(svc, sizeof(svc), "svc-kind");
	t_name(inbox, sizeof(inbox), "svc-inbox");
	T_EQ(shmkit_client_open(svc, 0, &cl), -ENOENT);
	T_EQ(shmkit_service_open(svc, 0, &srv), -ENOENT);
	T_EQ(shmkit_service_create(svc, 0, 4096, SHMKIT_MODE_DEFAULT, 0), -EINVAL);
	id = t_track(shmkit_service_create(svc, 2, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	T_EQ(shmkit_service_create(svc, 9, 9000, SHMKIT_MODE_DEFAULT, 0), id);
	T_EQ(shmkit_service_create(svc, 2, 4096, SHMKIT_MODE_DEFAULT, SHMKIT_EXCL), -EEXIST);
	T_OK(t_track(shmkit_inbox_create(inbox, 2, 4096, SHMKIT_MODE_DEFAULT, 0)));
	/* an inbox is no service, nor a service an inbox */
	T_EQ(shmkit_service_create(inbox, 2, 4096, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ENOTSERVICE);
	T_EQ(shmkit_service_open(inbox, 0, &srv), -SHMKIT_ENOTSERVICE);
	T_EQ(shmkit_client_open(inbox, 0, &cl), -SHMKIT_ENOTSERVICE);
	T_EQ(shmkit_service_destroy(inbox), -SHMKIT_ENOTSERVICE);
	T_EQ(shmkit_inbox_create(svc, 2, 4096, SHMKIT_MODE_DEFAULT, 0), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_inbox_open(svc, 0, &ib), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_inbox_join(svc, 0, &p), -SHMKIT_ENOTINBOX);
	T_EQ(shmkit_inbox_destroy(svc), -SHMKIT_ENOTINBOX);
	T_OK(shmkit_service_destroy(svc));
	T_OK(shmkit_inbox_destroy(inbox));
}

static void correlation(void)
{
	struct shmkit_service *srv, *again;
	struct shmkit_client *a, *b, *c, *d;
	struct shmkit_request req[4];
	char name[64], buf[256];
	size_t len;
	uint64_t id;

	t_name(name, sizeof(name), "svc-corr");
	T_OK(t_track(shmkit_service_create(name, 2, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_service_open(name, 0, &srv));
	T_EQ(shmkit_service_open(name, 0, &again), -EBUSY);
	T_EQ(shmkit_service_max_msg(srv), 2048 - 16);
	T_OK(shmkit_client_open(name, 0, &a));
	T_OK(shmkit_client_open(name, 0, &b));
	T_EQ(shmkit_client_open(name, 0, &c), -EBUSY);
	T_EQ(shmkit_client_max_msg(a), 2048 - 16);
	T_EQ(shmkit_client_send(a, buf, 2048 - 15, NULL, 0), -EMSGSIZE);

	/* three out from a, one from b; numbers from 1 */
	for (uint64_t k = 1; k <= 3; k++) {
		snprintf(buf, sizeof(buf), "a%llu", (unsigned long long)k);
		T_OK(shmkit_client_send(a, buf, strlen(buf), &id, 0));
		T_EQ(id, k);
	}
	T_OK(shmkit_client_send(b, "b1", 2, &id, 0));
	T_EQ(id, 1);
	T_EQ(shmkit_client_call(a, "x", 1, buf, sizeof(buf), &len, 0), -EBUSY);
	/* the server takes them, one lane at a time in turn */
	for (int i = 0; i < 4; i++) {
		T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req[i], 0));
		buf[len] = 0;
		if (req[i].client == 0) {
			T_EQ(buf[0], 'a');
			T_EQ(req[i].id, (uint64_t)(buf[1] - '0'));
		} else {
			T_EQ(req[i].client, 1);
			T_ASSERT(strcmp(buf, "b1") == 0);
		}
	}
	T_EQ(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req[0], 0), -EAGAIN);
	/* replies in reverse order: each carries its request's number back */
	for (int i = 3; i >= 0; i--) {
		snprintf(buf, sizeof(buf), "re:%u:%llu", req[i].client, (unsigned long long)req[i].id);
		T_OK(shmkit_service_reply(srv, &req[i], buf, strlen(buf), 0));
	}
	for (int i = 0; i < 3; i++) {
		char want[32];

		T_OK(shmkit_client_recv(a, buf, sizeof(buf), &len, &id, 0));
		buf[len] = 0;
		snprintf(want, sizeof(want), "re:0:%llu", (unsigned long long)id);
		T_ASSERT(strcmp(buf, want) == 0);
		T_EQ(id, 3 - (uint64_t)i);
	}
	T_OK(shmkit_client_recv(b, buf, sizeof(buf), &len, &id, 0));
	T_EQ(id, 1);
	T_EQ(shmkit_client_recv(a, buf, sizeof(buf), &len, &id, 0), -EAGAIN);

	/* zero copy both ways */
	{
		void *w;
		const void *r;
		struct shmkit_request q;

		T_OK(shmkit_client_reserve(a, 100, &w, 0));
		memcpy(w, "zc-request", 10);
		T_EQ(shmkit_client_commit(b, 10, &id), -EINVAL);	/* b reserved nothing */
		T_OK(shmkit_client_commit(a, 10, &id));
		T_EQ(id, 4);
		T_OK(shmkit_service_peek(srv, &r, &len, &q, -1));
		T_EQ(len, 10);
		T_ASSERT(memcmp(r, "zc-request", 10) == 0);
		T_EQ(q.id, 4);
		T_OK(shmkit_service_reserve(srv, &q, 64, &w, 0));
		memcpy(w, "zc-reply", 8);
		T_OK(shmkit_service_commit(srv, 8));
		T_EQ(shmkit_service_commit(srv, 8), -EINVAL);
		T_OK(shmkit_service_release(srv));
		T_OK(shmkit_client_peek(a, &r, &len, &id, -1));
		T_EQ(len, 8);
		T_EQ(id, 4);
		T_ASSERT(memcmp(r, "zc-reply", 8) == 0);
		T_OK(shmkit_client_release(a));
	}

	/* the server closes: replies already sent are read, then end of stream */
	T_OK(shmkit_client_send(b, "late", 4, &id, 0));
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req[0], 0));
	T_OK(shmkit_service_reply(srv, &req[0], "last", 4, 0));
	T_OK(shmkit_service_close(srv));
	T_OK(shmkit_client_recv(b, buf, sizeof(buf), &len, &id, 0));
	T_EQ(len, 4);
	T_EQ(shmkit_client_recv(b, buf, sizeof(buf), &len, &id, 0), -SHMKIT_EEOF);
	T_EQ(shmkit_client_send(a, "x", 1, &id, 0), -EPIPE);
	/* a client leaves: its lane is the next client's, with a new epoch */
	T_OK(shmkit_client_close(b));
	T_OK(shmkit_client_open(name, 0, &d));
	T_OK(shmkit_client_close(d));
	T_OK(shmkit_client_close(a));
	T_EQ(shmkit_client_close(NULL), -EINVAL);
}

struct child {
	char name[64];
	int ready[2];
	uint64_t calls;
	int id;
};

/* A client that sends one request, says so, and waits to be killed. */
static int send_and_wait(void *arg)
{
	struct child *ch = arg;
	struct shmkit_client *cl;

	if (shmkit_client_open(ch->name, 0, &cl) < 0 || shmkit_client_send(cl, "doomed", 6, NULL, 0) < 0)
		return 1;
	if (write(ch->ready[1], "s", 1) != 1)
		return 2;
	pause();
	return 3;
}

/*
 * A client dies with a reply to it in its ring: the server's next reply
 * to it is dropped, and the client that takes the lane next never sees
 * either.
 */
static void client_dies(void)
{
	struct child ch;
	struct shmkit_service *srv;
	struct shmkit_client *cl;
	struct shmkit_request req;
	char buf[64];
	size_t len;
	pid_t pid;

	t_name(ch.name, sizeof(ch.name), "svc-cdead");
	T_OK(t_track(shmkit_service_create(ch.name, 1, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_service_open(ch.name, 0, &srv));
	T_OK(pipe(ch.ready));
	pid = t_fork(send_and_wait, &ch);
	T_EQ(read(ch.ready[0], buf, 1), 1);
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, -1));
	T_EQ(len, 6);
	T_OK(shmkit_service_reply(srv, &req, "stale", 5, 0));	/* it is alive still */
	kill(pid, SIGKILL);
	T_EQ(t_wait(pid), 128 + SIGKILL);
	/* seen dead within the bound (a recent look at it is trusted for 20 ms);
	   until then replies still land in its ring, for nobody */
	{
		uint64_t t0 = t_now_ns();
		int err;

		while ((err = shmkit_service_reply(srv, &req, "dropped", 7, 0)) == 0 &&
		       t_now_ns() - t0 < 2000000000ull)
			usleep(5000);
		T_EQ(err, -SHMKIT_EPEERDEAD);
	}
	/* the lane's next client: a new epoch, and the stale reply is not its */
	T_OK(shmkit_client_open(ch.name, 0, &cl));
	{
		struct shmkit_inbox_info info;
		struct shmkit_inbox_lane_info li;

		T_OK(shmkit_inbox_info(shmkit_seg_open(&(struct shmkit_ref){
			.kind = SHMKIT_REF_NAME, .name = ch.name }), &info, &li, 1));
		T_EQ(li.epoch, 2);
		T_EQ(req.epoch, 1);
	}
	T_EQ(shmkit_service_reply(srv, &req, "dropped", 7, 0), -EPIPE);
	T_OK(shmkit_client_send(cl, "fresh", 5, NULL, 0));
	T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
	T_EQ(req.id, 1);
	T_OK(shmkit_service_reply(srv, &req, "for-you", 7, 0));
	T_OK(shmkit_client_recv(cl, buf, sizeof(buf), &len, NULL, 0));
	T_EQ(len, 7);
	T_ASSERT(memcmp(buf, "for-you", 7) == 0);
	T_EQ(shmkit_client_recv(cl, buf, sizeof(buf), &len, NULL, 0), -EAGAIN);
	T_OK(shmkit_client_close(cl));
	T_OK(shmkit_service_close(srv));
	close(ch.ready[0]);
	close(ch.ready[1]);
}

/* A server that takes one request and is killed before it answers. */
static int serve_and_die(void *arg)
{
	struct child *ch = arg;
	struct shmkit_service *srv;
	struct shmkit_request req;
	char buf[64];
	size_t len;

	if (shmkit_service_open(ch->name, 0, &srv) < 0 ||
	    write(ch->ready[1], "o", 1) != 1 ||
	    shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, -1) < 0)
		return 1;
	raise(SIGKILL);
	return 2;
}

/* The server dies: the client's wait ends with -SHMKIT_EPEERDEAD. */
static void server_dies(void)
{
	struct child ch;
	struct shmkit_client *cl;
	char buf[64];
	size_t len;
	pid_t pid;

	t_name(ch.name, sizeof(ch.name), "svc-sdead");
	T_OK(t_track(shmkit_service_create(ch.name, 2, 4096, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(pipe(ch.ready));
	pid = t_fork(serve_and_die, &ch);
	T_EQ(read(ch.ready[0], buf, 1), 1);
	T_OK(shmkit_client_open(ch.name, 0, &cl));
	__shmkit_chan_sleep_slice_ns = 20000000;	/* deaths show at a slice */
	T_EQ(shmkit_client_call(cl, "hello", 5, buf, sizeof(buf), &len, 10000),
	     -SHMKIT_EPEERDEAD);
	__shmkit_chan_sleep_slice_ns = -1;
	T_EQ(t_wait(pid), 128 + SIGKILL);
	T_OK(shmkit_client_close(cl));
	close(ch.ready[0]);
	close(ch.ready[1]);
}

/* A client process: calls checked round trips, then many requests out at once. */
static int caller(void *arg)
{
	struct child *ch = arg;
	struct shmkit_client *cl;
	char buf[512], rep[512];
	size_t len;
	uint64_t id, r = (uint64_t)ch->id + 1;

	if (shmkit_client_open(ch->name, 0, &cl) < 0)
		return 1;
	for (uint64_t k = 0; k < ch->calls; k++) {
		size_t n = 8 + (size_t)((r = t_mix(r)) % 400);

		payload_fill(buf, n, (uint64_t)ch->id << 40 | k);
		if (shmkit_client_call(cl, buf, n, rep, sizeof(rep), &len, -1) < 0)
			return 2;
		/* the server answers with the request's tag plus one */
		if (len != n || payload_check(rep, len, ((uint64_t)ch->id << 40 | k) + 1))
			return 3;
	}
	for (uint64_t k = 0; k < 50; k++) {
		payload_fill(buf, 16, k);
		if (shmkit_client_send(cl, buf, 16, &id, -1) < 0 || id != ch->calls + k + 1)
			return 4;
	}
	for (uint64_t k = 0; k < 50; k++) {
		if (shmkit_client_recv(cl, rep, sizeof(rep), &len, &id, -1) < 0 ||
		    id != ch->calls + k + 1 || payload_check(rep, len, k + 1))
			return 5;
	}
	return shmkit_client_close(cl) < 0 ? 6 : 0;
}

/* Four client processes and a server in a wait set that sleeps at once. */
static void many_clients(void)
{
	enum { N = 4 };
	struct child ch[N];
	struct shmkit_service *srv;
	struct shmkit_waitset *ws;
	struct shmkit_event ev;
	struct shmkit_request req;
	char name[64], buf[512];
	uint64_t calls = t_scale(20000), answered = 0;
	pid_t pid[N];
	size_t len;

	t_name(name, sizeof(name), "svc-many");
	T_OK(t_track(shmkit_service_create(name, N, 8192, SHMKIT_MODE_DEFAULT, 0)));
	T_OK(shmkit_service_open(name, 0, &srv));
	T_OK(shmkit_waitset_new(&ws));
	T_OK(shmkit_waitset_set_spin(ws, 0));
	T_OK(shmkit_waitset_add_service(ws, srv, srv));
	T_EQ(shmkit_waitset_add_service(ws, srv, srv), -EEXIST);
	for (int i = 0; i < N; i++) {
		memcpy(ch[i].name, name, sizeof(name));
		ch[i].id = i;
		ch[i].calls = calls;
		pid[i] = t_fork(caller, &ch[i]);
	}
	while (answered < N * (calls + 50)) {
		T_EQ(shmkit_waitset_wait(ws, &ev, 1, -1), 1);
		T_ASSERT(ev.udata == srv);
		T_EQ(ev.status, 0);
		T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
		T_ASSERT(len >= 8);
		payload_fill(buf, len, payload_tag(buf, len) + 1);
		T_OK(shmkit_service_reply(srv, &req, buf, len, -1));
		answered++;
	}
	for (int i = 0; i < N; i++)
		T_EQ(t_wait(pid[i]), 0);
	printf("%d clients x %llu calls and 50 requests out at once, every reply checked\n", N,
	       (unsigned long long)calls);
	T_OK(shmkit_waitset_del(ws, srv));
	T_OK(shmkit_waitset_free(ws));
	T_OK(shmkit_service_close(srv));
}

/*
 * shmkit_inbox_info on a service: it says so, its largest message is a
 * client's, and each lane lists its reply ring's figures (an inbox's are 0).
 */
static void info_figures(void)
{
	struct shmkit_inbox_info in;
	struct shmkit_inbox_lane_info li[2];
	struct shmkit_service *srv;
	struct shmkit_client *cl;
	struct shmkit_request req;
	char name[64], inbox[64], buf[64];
	size_t len;
	int id, ib;

	t_name(name, sizeof(name), "svc-info");
	id = t_track(shmkit_service_create(name, 2, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(id);
	T_OK(shmkit_service_open(name, 0, &srv));
	T_OK(shmkit_client_open(name, 0, &cl));
	T_OK(shmkit_client_send(cl, "ping", 4, NULL, 0));
	T_OK(shmkit_client_send(cl, "ping", 4, NULL, 0));
	for (int k = 0; k < 2; k++) {
		T_OK(shmkit_service_recv(srv, buf, sizeof(buf), &len, &req, 0));
		T_OK(shmkit_service_reply(srv, &req, "pong", 4, 0));
	}
	T_OK(shmkit_client_recv(cl, buf, sizeof(buf), &len, NULL, 0));

	T_OK(shmkit_inbox_info(id, &in, li, 2));
	T_EQ(in.replies, 1);
	T_EQ(in.max_msg, shmkit_client_max_msg(cl));
	T_EQ(in.listed, 1);
	T_EQ(li[0].pid, getpid());
	T_EQ(li[0].sent_msgs, 2);
	T_EQ(li[0].recv_msgs, 2);
	T_EQ(li[0].sent_bytes, 8);	/* "ping" twice: the library's headers left out */
	T_EQ(li[0].recv_bytes, 8);
	T_EQ(li[0].used, 0);
	T_EQ(li[0].replies_sent, 2);
	T_EQ(li[0].replies_read, 1);
	T_EQ(li[0].replies_used, 8 + 24);	/* one record: 16-byte header, "pong", padding */

	/* a plain inbox: no replies, nothing of a reply ring */
	t_name(inbox, sizeof(inbox), "svc-info-ib");
	ib = t_track(shmkit_inbox_create(inbox, 1, 4096, SHMKIT_MODE_DEFAULT, 0));
	T_OK(ib);
	{
		struct shmkit_chan *p;

		T_OK(shmkit_inbox_join(inbox, 0, &p));
		T_OK(shmkit_chan_send(p, "x", 1, 0));
		T_OK(shmkit_inbox_info(ib, &in, li, 2));
		T_EQ(in.replies, 0);
		T_EQ(in.max_msg, 2048);
		T_EQ(in.listed, 1);
		T_EQ(li[0].sent_msgs, 1);
		T_EQ(li[0].replies_used + li[0].replies_sent + li[0].replies_read, 0);
		T_OK(shmkit_chan_close(p));
	}
	T_OK(shmkit_client_close(cl));
	T_OK(shmkit_service_close(srv));
	T_OK(shmkit_service_destroy(name));
	T_OK(shmkit_inbox_destroy(inbox));
}

int main(void)
{
	__shmkit_chan_sleep_slice_ns = -1;
	kinds();
	correlation();
	info_figures();
	client_dies();
	server_dies();
	many_clients();
	return 0;
}
