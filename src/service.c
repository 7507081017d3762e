/*
 * Services: request and response on an inbox whose lanes carry a reply
 * ring as well (inbox.h). A client holds a lane: the producer side of its
 * request ring, the consumer side of its reply ring. The server holds the
 * inbox: the consumer side of every request ring, the producer side of
 * every reply ring. Both rings are channels, so order, crash behaviour
 * and wake-ups are the channel's.
 *
 * Correlation. Every request and reply starts with a small header: the
 * client's number for the request, and the epoch of the client's claim
 * of its lane. The server copies both into its reply; the client drops
 * replies of another epoch. So a reply the server sends to a client that
 * has gone never reaches the client that took the lane next, even when
 * the reply was on its way as the lane changed hands. A client's numbers
 * grow by one per request, from 1: a client may have many requests out,
 * and tell their replies apart whatever order the server answers in.
 *
 * Headers are checked: a request too short for one is dropped and
 * reported (-SHMKIT_ECORRUPT, naming its lane), and the server goes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "inbox.h"
#include "shmkit.h"
#include "util.h"
#include "waitset.h"

/* Before every request and every reply. */
struct svc_hdr {
	uint64_t id;		/* the client's number for the request */
	uint32_t epoch;		/* the client's claim of its lane */
	uint32_t reserved;	/* 0 */
};
_Static_assert(sizeof(struct svc_hdr) == SHMKIT_SERVICE_HDR, "wire format is ABI");

struct shmkit_service {
	struct shmkit_inbox *ib;
	struct shmkit_chan *reserved;	/* the reply ring of an open reservation */
	void *res_at;			/* where its header goes, at commit */
	struct svc_hdr res_hdr;
};

struct shmkit_client {
	struct shmkit_chan *req, *rep;
	uint32_t lane, epoch;
	uint64_t next_id;	/* the number of the next request */
	uint64_t outstanding;	/* requests sent, not yet answered */
	void *res_at;		/* an open reservation's header, or NULL */
};

/* ----------------------------------------------------------------- setup */

SHMKIT_EXPORT
int shmkit_service_create(const char *name, unsigned clients, size_t lane_capacity, int mode,
			  unsigned flags)
{
	return __shmkit_inbox_make(name, clients, lane_capacity, mode, flags, SHMKIT_INBOX_REPLIES);
}

SHMKIT_EXPORT
int shmkit_service_destroy(const char *name)
{
	return __shmkit_inbox_destroy(name, SHMKIT_INBOX_REPLIES);
}

/* ---------------------------------------------------------------- server */

SHMKIT_EXPORT
int shmkit_service_open(const char *name, unsigned flags, struct shmkit_service **out)
{
	struct shmkit_service *srv;
	int err;

	if (!out)
		return -EINVAL;
	if (!(srv = calloc(1, sizeof(*srv))))
		return -ENOMEM;
	if ((err = __shmkit_inbox_open(name, flags, SHMKIT_INBOX_REPLIES, &srv->ib)) < 0) {
		free(srv);
		return err;
	}
	*out = srv;
	return 0;
}

SHMKIT_EXPORT
int shmkit_service_close(struct shmkit_service *srv)
{
	int err;

	if (!srv)
		return -EINVAL;
	err = shmkit_inbox_close(srv->ib);
	free(srv);
	return err;
}

SHMKIT_EXPORT
int shmkit_service_set_spin(struct shmkit_service *srv, int spin_us)
{
	return srv ? shmkit_inbox_set_spin(srv->ib, spin_us) : -EINVAL;
}

SHMKIT_EXPORT
size_t shmkit_service_max_msg(const struct shmkit_service *srv)
{
	return srv ? shmkit_inbox_max_msg(srv->ib) - sizeof(struct svc_hdr) : 0;
}

SHMKIT_EXPORT
int shmkit_service_peek(struct shmkit_service *srv, const void **ptr, size_t *len,
			struct shmkit_request *req, int timeout_ms)
{
	struct svc_hdr h;
	const void *p;
	size_t n;
	int err;

	if (!srv || !ptr || !len || !req)
		return -EINVAL;
	if ((err = shmkit_inbox_peek(srv->ib, &p, &n, timeout_ms)) < 0)
		return err;
	req->client = (uint32_t)shmkit_inbox_from(srv->ib);
	if (n < sizeof(h)) {
		/* not a request: dropped, and said once */
		shmkit_inbox_release(srv->ib);
		return -SHMKIT_ECORRUPT;
	}
	memcpy(&h, p, sizeof(h));	/* a copy: the client may still write the ring */
	req->id = h.id;
	req->epoch = h.epoch;
	*ptr = (const char *)p + sizeof(h);
	*len = n - sizeof(h);
	return 0;
}

SHMKIT_EXPORT
int shmkit_service_release(struct shmkit_service *srv)
{
	return srv ? shmkit_inbox_release(srv->ib) : -EINVAL;
}

SHMKIT_EXPORT
int shmkit_service_recv(struct shmkit_service *srv, void *buf, size_t cap, size_t *len,
			struct shmkit_request *req, int timeout_ms)
{
	const void *p;
	size_t n;
	int err;

	if (!len || (!buf && cap))
		return -EINVAL;
	if ((err = shmkit_service_peek(srv, &p, &n, req, timeout_ms)) < 0)
		return err;
	*len = n;
	if (n > cap)
		return -EMSGSIZE;	/* left in place, as a channel's recv does */
	if (n)
		memcpy(buf, p, n);
	return shmkit_inbox_release(srv->ib);
}

/*
 * The reply ring for req, if its client is the one that sent it and is
 * still there: -EPIPE once the lane has changed hands (or the client
 * closed), -SHMKIT_EPEERDEAD if the client died. A reply to a client that
 * has gone is dropped, and nothing waits for a reader that will not come.
 */
static int reply_ring(struct shmkit_service *srv, const struct shmkit_request *req,
		      struct shmkit_chan **out)
{
	struct shmkit_chan *rep;
	int gone;

	if (!srv || !req || !(rep = __shmkit_inbox_reply(srv->ib, req->client)))
		return -EINVAL;
	if (__shmkit_inbox_epoch(srv->ib, req->client) != req->epoch)
		return -EPIPE;
	if ((gone = shmkit_chan_peer(rep)) < 0)
		return gone;
	*out = rep;
	return 0;
}

SHMKIT_EXPORT
int shmkit_service_reserve(struct shmkit_service *srv, const struct shmkit_request *req,
			   size_t len, void **ptr, int timeout_ms)
{
	struct shmkit_chan *rep;
	void *p;
	int err;

	if (!ptr)
		return -EINVAL;
	if (srv)
		srv->reserved = NULL;	/* a new reservation drops the last one */
	if ((err = reply_ring(srv, req, &rep)) < 0)
		return err;
	if (len > shmkit_service_max_msg(srv))
		return -EMSGSIZE;
	if ((err = shmkit_chan_reserve(rep, len + sizeof(struct svc_hdr), &p, timeout_ms)) < 0)
		return err;
	srv->reserved = rep;
	srv->res_at = p;
	srv->res_hdr = (struct svc_hdr){ .id = req->id, .epoch = req->epoch };
	*ptr = (char *)p + sizeof(struct svc_hdr);
	return 0;
}

SHMKIT_EXPORT
int shmkit_service_commit(struct shmkit_service *srv, size_t used)
{
	struct shmkit_chan *rep;

	if (!srv || !(rep = srv->reserved))
		return -EINVAL;
	srv->reserved = NULL;
	memcpy(srv->res_at, &srv->res_hdr, sizeof(srv->res_hdr));
	/* the channel checks used against what was reserved */
	return shmkit_chan_commit(rep, used + sizeof(struct svc_hdr));
}

SHMKIT_EXPORT
int shmkit_service_reply(struct shmkit_service *srv, const struct shmkit_request *req,
			 const void *buf, size_t len, int timeout_ms)
{
	void *p;
	int err;

	if (!buf && len)
		return -EINVAL;
	if ((err = shmkit_service_reserve(srv, req, len, &p, timeout_ms)) < 0)
		return err;
	if (len)
		memcpy(p, buf, len);
	return shmkit_service_commit(srv, len);
}

struct shmkit_inbox *__shmkit_service_inbox(struct shmkit_service *srv)
{
	return srv->ib;
}

/* ---------------------------------------------------------------- client */

/* What remains of a timeout that started at start_ns (-1 and 0 stay). */
static int ms_left(int timeout_ms, uint64_t start_ns)
{
	uint64_t spent = (__shmkit_now_ns() - start_ns) / 1000000u;

	if (timeout_ms <= 0)
		return timeout_ms;
	return spent >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)spent;
}

SHMKIT_EXPORT
int shmkit_client_open(const char *name, unsigned flags, struct shmkit_client **out)
{
	struct __shmkit_inbox_lane_handles lh;
	struct shmkit_client *cl;
	int err;

	if (!out)
		return -EINVAL;
	if (!(cl = calloc(1, sizeof(*cl))))
		return -ENOMEM;
	if ((err = __shmkit_inbox_join(name, flags, SHMKIT_INBOX_REPLIES, &lh)) < 0) {
		free(cl);
		return err;
	}
	cl->req = lh.req;
	cl->rep = lh.rep;
	cl->lane = lh.lane;
	cl->epoch = lh.epoch;
	cl->next_id = 1;
	*out = cl;
	return 0;
}

SHMKIT_EXPORT
int shmkit_client_close(struct shmkit_client *cl)
{
	int err;

	if (!cl)
		return -EINVAL;
	/* the reply side borrows the request side's map: it goes first */
	__shmkit_lane_close(cl->rep);
	err = shmkit_chan_close(cl->req);
	free(cl);
	return err;
}

SHMKIT_EXPORT
int shmkit_client_set_spin(struct shmkit_client *cl, int spin_us)
{
	int err;

	if (!cl)
		return -EINVAL;
	if ((err = shmkit_chan_set_spin(cl->req, spin_us)) < 0)
		return err;
	return shmkit_chan_set_spin(cl->rep, spin_us);
}

SHMKIT_EXPORT
size_t shmkit_client_max_msg(const struct shmkit_client *cl)
{
	return cl ? shmkit_chan_max_msg(cl->req) - sizeof(struct svc_hdr) : 0;
}

SHMKIT_EXPORT
int shmkit_client_reserve(struct shmkit_client *cl, size_t len, void **ptr, int timeout_ms)
{
	void *p;
	int err;

	if (!cl || !ptr)
		return -EINVAL;
	cl->res_at = NULL;
	if (len > shmkit_client_max_msg(cl))
		return -EMSGSIZE;
	if ((err = shmkit_chan_reserve(cl->req, len + sizeof(struct svc_hdr), &p, timeout_ms)) < 0)
		return err;
	cl->res_at = p;
	*ptr = (char *)p + sizeof(struct svc_hdr);
	return 0;
}

SHMKIT_EXPORT
int shmkit_client_commit(struct shmkit_client *cl, size_t used, uint64_t *id)
{
	struct svc_hdr h = { .id = cl ? cl->next_id : 0, .epoch = cl ? cl->epoch : 0 };
	int err;

	if (!cl || !cl->res_at)
		return -EINVAL;
	memcpy(cl->res_at, &h, sizeof(h));
	cl->res_at = NULL;
	/* the channel checks used against what was reserved */
	if ((err = shmkit_chan_commit(cl->req, used + sizeof(h))) < 0)
		return err;
	if (id)
		*id = cl->next_id;
	cl->next_id++;
	cl->outstanding++;
	return 0;
}

SHMKIT_EXPORT
int shmkit_client_send(struct shmkit_client *cl, const void *buf, size_t len, uint64_t *id,
		       int timeout_ms)
{
	void *p;
	int err;

	if (!buf && len)
		return -EINVAL;
	if ((err = shmkit_client_reserve(cl, len, &p, timeout_ms)) < 0)
		return err;
	if (len)
		memcpy(p, buf, len);
	return shmkit_client_commit(cl, len, id);
}

SHMKIT_EXPORT
int shmkit_client_peek(struct shmkit_client *cl, const void **ptr, size_t *len, uint64_t *id,
		       int timeout_ms)
{
	uint64_t start = __shmkit_now_ns();
	struct svc_hdr h;
	const void *p;
	size_t n;
	int err, wait = timeout_ms;

	if (!cl || !ptr || !len)
		return -EINVAL;
	for (;;) {
		if ((err = shmkit_chan_peek(cl->rep, &p, &n, wait)) < 0)
			return err;
		if (n >= sizeof(h)) {
			memcpy(&h, p, sizeof(h));
			if (h.epoch == cl->epoch)
				break;
		}
		/* meant for the lane's earlier client, or no reply at all: not ours */
		shmkit_chan_release(cl->rep);
		wait = ms_left(timeout_ms, start);
	}
	if (id)
		*id = h.id;
	*ptr = (const char *)p + sizeof(h);
	*len = n - sizeof(h);
	return 0;
}

SHMKIT_EXPORT
int shmkit_client_release(struct shmkit_client *cl)
{
	int err;

	if (!cl)
		return -EINVAL;
	if ((err = shmkit_chan_release(cl->rep)) == 0 && cl->outstanding)
		cl->outstanding--;
	return err;
}

SHMKIT_EXPORT
int shmkit_client_recv(struct shmkit_client *cl, void *buf, size_t cap, size_t *len,
		       uint64_t *id, int timeout_ms)
{
	const void *p;
	size_t n;
	int err;

	if (!len || (!buf && cap))
		return -EINVAL;
	if ((err = shmkit_client_peek(cl, &p, &n, id, timeout_ms)) < 0)
		return err;
	*len = n;
	if (n > cap)
		return -EMSGSIZE;	/* left in place */
	if (n)
		memcpy(buf, p, n);
	return shmkit_client_release(cl);
}

SHMKIT_EXPORT
int shmkit_client_call(struct shmkit_client *cl, const void *req, size_t len, void *rep,
		       size_t cap, size_t *rlen, int timeout_ms)
{
	uint64_t start, id, got;
	int err;

	if (!cl || !rlen)
		return -EINVAL;
	/* with others out, their replies could come first: use send and recv */
	if (cl->outstanding)
		return -EBUSY;
	start = __shmkit_now_ns();
	if ((err = shmkit_client_send(cl, req, len, &id, timeout_ms)) < 0)
		return err;
	if ((err = shmkit_client_recv(cl, rep, cap, rlen, &got, ms_left(timeout_ms, start))) < 0)
		return err;
	/* none other was out: a reply of this epoch answers this request */
	return got == id ? 0 : -SHMKIT_ECORRUPT;
}

struct shmkit_chan *__shmkit_client_replies(struct shmkit_client *cl)
{
	return cl->rep;
}

struct shmkit_chan *__shmkit_client_requests(struct shmkit_client *cl)
{
	return cl->req;
}
