/*
 * shmkit-bridge out, JetStream mode: at least once. A message leaves the
 * channel's ring only once the server has acknowledged storing it. Many
 * are on their way at a time: the bridge reads ahead in the ring
 * (shmkit_chan_peek_ahead), publishes each asynchronously, and releases
 * from the oldest as the acknowledgements come. A message whose publish
 * fails or is not acknowledged in time is published again from the ring,
 * where it still lies.
 *
 * Each message's id (Nats-Msg-Id) is the source channel's id and the
 * message's offset in the channel: the same for this bridge, a restarted
 * one, or one that took over after a kill, as the offset comes from the
 * ring and not from a count. So the server's duplicate window drops a
 * message published twice, whoever published it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

enum held_state { HELD_SENT, HELD_ACKED, HELD_FAILED };

#define NO_PREV UINT64_MAX	/* the first message this run takes */

struct held {
	uint64_t offset;
	uint64_t prev;		/* the message before's offset, or NO_PREV */
	const void *p;		/* in the ring, valid until released */
	size_t len;
	enum held_state state;
};

struct out_js {
	struct bridge *b;
	const char *id;		/* the source channel's id, in hex */
	size_t limit;		/* the largest message the server takes */
	pthread_mutex_t lock;	/* state[] against the client's thread */
	pthread_cond_t acked;
	struct held win[BRIDGE_JS_WINDOW];	/* oldest at first */
	unsigned first, count;
	int failure_said;
	uint64_t retry_ns;	/* when failed ones were last published again */
	uint64_t prev;		/* the offset of the last message taken */
};

/* One per process: the client's thread may call on_ack until it exits. */
static struct out_js the_out;

static int set_header(struct out_js *o, natsMsg *m, const char *key, const char *value)
{
	natsStatus st = natsMsgHeader_Set(m, key, value);

	if (st != NATS_OK)
		err_msg(o->b->s.cmd, "NATS message: %s", bridge_nats_error(st));
	return st != NATS_OK;
}

/* A message with our headers; its id is the stream id and what. */
static natsMsg *make_msg(struct out_js *o, const void *p, size_t len, const char *what,
			 uint64_t offset, uint64_t prev)
{
	char off[24], prev_off[24], msg_id[64];
	natsMsg *m = NULL;
	natsStatus st = natsMsg_Create(&m, o->b->subject, NULL, p, (int)len);

	if (st != NATS_OK) {
		err_msg(o->b->s.cmd, "NATS message: %s", bridge_nats_error(st));
		return NULL;
	}
	snprintf(off, sizeof(off), "%" PRIu64, offset);
	snprintf(msg_id, sizeof(msg_id), "%s-%s", o->id, what ? what : off);
	if (set_header(o, m, HDR_STREAM, o->id) || set_header(o, m, HDR_OFFSET, off) ||
	    set_header(o, m, HDR_MSG_ID, msg_id)) {
		natsMsg_Destroy(m);
		return NULL;
	}
	snprintf(prev_off, sizeof(prev_off), "%" PRIu64, prev);
	if (!what && prev != NO_PREV && set_header(o, m, HDR_PREV, prev_off)) {
		natsMsg_Destroy(m);
		return NULL;
	}
	return m;
}

/* The client's thread: the server's answer for one message. */
static void on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
	struct out_js *o = closure;
	const char *text = NULL;
	uint64_t off;
	unsigned i;

	(void)js;
	if (natsMsgHeader_Get(m, HDR_OFFSET, &text) == NATS_OK && text &&
	    parse_decimal(text, &off) == 0) {
		pthread_mutex_lock(&o->lock);
		for (i = 0; i < o->count; i++) {
			struct held *h = &o->win[(o->first + i) % BRIDGE_JS_WINDOW];

			if (h->offset == off && h->state == HELD_SENT) {
				h->state = pa && !pae ? HELD_ACKED : HELD_FAILED;
				break;
			}
		}
		pthread_cond_signal(&o->acked);
		pthread_mutex_unlock(&o->lock);
	}
	if (pae) {
		pthread_mutex_lock(&o->lock);
		if (!o->failure_said++)
			err_msg(o->b->s.cmd, "%s: a publish failed (%s): publishing it again, and "
				"any later failure, without a word", o->b->subject,
				bridge_js_error(pae->Err, pae->ErrCode));
		pthread_mutex_unlock(&o->lock);
	}
	natsMsg_Destroy(m);
}

/* Publishes held message h (again); on failure marks it for another try. */
static int publish_held(struct out_js *o, struct held *h)
{
	jsPubOptions po;
	natsMsg *m = make_msg(o, h->p, h->len, NULL, h->offset, h->prev);
	natsStatus st;

	if (!m)
		return EXIT_RUNTIME;
	jsPubOptions_Init(&po);
	po.MaxWait = BRIDGE_JS_ACK_MS;
	pthread_mutex_lock(&o->lock);
	h->state = HELD_SENT;
	pthread_mutex_unlock(&o->lock);
	st = js_PublishMsgAsync(o->b->js, &m, &po);
	if (st != NATS_OK) {
		natsMsg_Destroy(m);
		pthread_mutex_lock(&o->lock);
		h->state = HELD_FAILED;
		pthread_mutex_unlock(&o->lock);
	}
	return 0;
}

/* Releases the acknowledged messages at the front; publishes failed ones again. */
static int settle(struct out_js *o)
{
	struct bridge *b = o->b;
	unsigned done = 0, i;
	int r;

	pthread_mutex_lock(&o->lock);
	while (done < o->count && o->win[(o->first + done) % BRIDGE_JS_WINDOW].state == HELD_ACKED)
		done++;
	pthread_mutex_unlock(&o->lock);
	for (i = 0; i < done; i++) {
		struct held *h = &o->win[o->first];

		if ((r = shmkit_chan_release(b->s.ch)) < 0) {
			err_msg(b->s.cmd, "%s: %s", b->s.name, shmkit_strerror(r));
			return EXIT_RUNTIME;
		}
		b->acked++;
		bridge_count(b, h->len);
		pthread_mutex_lock(&o->lock);
		o->first = (o->first + 1) % BRIDGE_JS_WINDOW;
		o->count--;
		pthread_mutex_unlock(&o->lock);
	}
	/* failed: published again while the connection is up, at most each
	   50 ms (a publish can fail at once, again and again) */
	if (bridge_connected(b) <= 0 || clock_ns() - o->retry_ns < 50000000)
		return 0;
	o->retry_ns = clock_ns();
	for (i = 0; i < o->count; i++) {
		struct held *h = &o->win[(o->first + i) % BRIDGE_JS_WINDOW];
		enum held_state s;

		pthread_mutex_lock(&o->lock);
		s = h->state;
		pthread_mutex_unlock(&o->lock);
		if (s == HELD_FAILED && (r = publish_held(o, h)) != 0)
			return r;
	}
	return 0;
}

/* Waits up to ms for an acknowledgement. */
static void await_ack(struct out_js *o, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&o->lock);
	pthread_cond_timedwait(&o->acked, &o->lock, &ts);
	pthread_mutex_unlock(&o->lock);
}

/* A marker, published and acknowledged before we go on; 0 or the status. */
static int marker(struct out_js *o, const char *hdr, const char *why)
{
	struct bridge *b = o->b;
	jsPubOptions po;
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus st;
	uint64_t start = clock_ns();

	for (;;) {
		natsMsg *m = make_msg(o, NULL, 0, !strcmp(hdr, HDR_END) ? "end" : "abort", 0,
				      NO_PREV);

		if (!m)
			return EXIT_RUNTIME;
		if (set_header(o, m, hdr, why)) {
			natsMsg_Destroy(m);
			return EXIT_RUNTIME;
		}
		jsPubOptions_Init(&po);
		po.MaxWait = BRIDGE_JS_ACK_MS;
		st = js_PublishMsg(&pa, b->js, m, &po, &jerr);
		natsMsg_Destroy(m);
		jsPubAck_Destroy(pa);
		pa = NULL;
		if (st == NATS_OK)
			return 0;
		if (stream_signal)
			return 128 + stream_signal;
		if (bridge_connected(b) < 0 ||
		    (jerr && clock_ns() - start > 10 * (uint64_t)BRIDGE_JS_ACK_MS * 1000000)) {
			err_msg(b->s.cmd, "%s: publishing the end of the stream: %s", b->subject,
				bridge_js_error(st, jerr));
			return EXIT_RUNTIME;
		}
		stream_nap(50);
	}
}

/* Everything held acknowledged and released; 0 or the status. */
static int drain(struct out_js *o)
{
	int r;

	while (o->count) {
		if ((r = settle(o)) != 0)
			return r;
		if (stream_signal)
			return 128 + stream_signal;
		if (o->count)
			await_ack(o, 10);
	}
	return 0;
}

/* The end of the source: drain, then the marker. */
static int finish(struct out_js *o, int r)
{
	struct bridge *b = o->b;
	int st;

	if (r == -SHMKIT_EEOF) {
		if ((st = drain(o)) != 0)
			return st;
		return marker(o, HDR_END, "clean");
	}
	/* cut: what the sender committed before it failed is passed on first */
	if ((st = drain(o)) != 0)
		return st;
	if (r == -SHMKIT_EABORTED)
		err_msg(b->s.cmd, "%s: the sender failed before the end of its input: the stream "
			"is cut (and the other side told)", b->s.name);
	else
		err_msg(b->s.cmd, "%s: the sender died: the stream is cut (and the other side "
			"told)", b->s.name);
	marker(o, HDR_ABORT, r == -SHMKIT_EABORTED ? "the sender failed" : "the sender died");
	return EXIT_RUNTIME;
}

static int pump(struct out_js *o)
{
	struct bridge *b = o->b;
	const void *p;
	size_t len;
	uint64_t off, since;
	int r, st;

	for (;;) {
		if (stream_signal)
			return 128 + stream_signal;
		if ((st = settle(o)) != 0)
			return st;
		b->pending = o->count;
		if ((r = bridge_connected(b)) <= 0 || o->count == BRIDGE_JS_WINDOW) {
			if (r < 0) {
				err_msg(b->s.cmd, "%s: the connection closed", b->server);
				return EXIT_RUNTIME;
			}
			await_ack(o, 10);
			continue;
		}
		/* holding messages, never wait in the ring: the sender may need
		   their room, and they leave only as acknowledgements come */
		since = clock_ns();
		r = shmkit_chan_peek_ahead(b->s.ch, &p, &len, &off, o->count ? 0 : STREAM_SLICE_MS);
		if (r == 0) {
			struct held *h = &o->win[(o->first + o->count) % BRIDGE_JS_WINDOW];

			if (len > o->limit) {
				err_msg(b->s.cmd, "%s: a message of %zu bytes is larger than the server "
					"takes (%zu: its max_payload less %d for the headers)",
					b->s.name, len, o->limit, HDR_ROOM);
				drain(o);
				marker(o, HDR_ABORT, "a message larger than the server takes");
				return EXIT_RUNTIME;
			}
			*h = (struct held){ .offset = off, .prev = o->prev, .p = p, .len = len,
					    .state = HELD_SENT };
			o->prev = off;
			pthread_mutex_lock(&o->lock);
			o->count++;
			pthread_mutex_unlock(&o->lock);
			if ((st = publish_held(o, h)) != 0)
				return st;
			continue;
		}
		if (r == -EAGAIN && o->count) {
			await_ack(o, 1);
			continue;
		}
		if (r == -SHMKIT_EEOF || r == -SHMKIT_EABORTED || r == -SHMKIT_EPEERDEAD)
			return finish(o, r);
		if ((st = stream_retry(&b->s, r, since)) != STREAM_AGAIN)
			return st;
	}
}

int bridge_out_js_open(struct bridge *b)
{
	struct out_js *o = &the_out;
	int64_t max = natsConnection_GetMaxPayload(b->nc);

	o->b = b;
	o->prev = NO_PREV;
	o->limit = max > HDR_ROOM ? (size_t)(max - HDR_ROOM) : 0;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->acked, NULL);
	return bridge_js_open(b, on_ack, o);
}

int bridge_out_js(struct bridge *b, const char *id)
{
	struct out_js *o = &the_out;
	int st;

	o->id = id;
	st = pump(o);
	/* interrupted: what is held stays in the ring for the next bridge */
	b->pending = o->count;
	bridge_js_close(b);
	return st;
}
