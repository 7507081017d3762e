/*
 * shmkit-bridge in, JetStream mode: at least once. The bridge reads the
 * stream through a durable pull consumer, and acknowledges each message
 * to the server only after committing it into the channel. So a message
 * leaves the server's keeping only once it is in the local ring.
 *
 * Order needs care. A message the server delivered but that never got
 * here (the bridge killed, the server restarted under a fetch) comes again
 * only after the consumer's ack wait, behind newer ones. So whenever this
 * may have happened (at the start, after a reconnect, after a failed
 * fetch) the bridge takes up from the consumer's ack floor again: it
 * reads the floor, and makes the consumer anew from the message after
 * it (on a work queue, from the first message the stream still holds,
 * which is the same, as acknowledged ones are gone). As it acknowledges in order, that is the first message it has not
 * yet committed, or one it committed but whose acknowledgement was lost:
 * a repeat, which it knows by its offset (Shmkit-Offset only grows
 * within a stream) and drops.
 *
 * It asks for messages itself (a pull request to the consumer's "next"
 * subject, answered on an inbox of its own) rather than through the
 * client's Fetch: libnats before 3.10 writes past its array in Fetch when
 * more than half a batch is already waiting (nats.c #749); Debian ships
 * 3.4.1, and it corrupted the heap in 2 of 4 runs of a million messages.
 * Doing it by hand also keeps a second request on its way while the
 * first is answered, so the stream does not stop at each batch.
 */
#include <inttypes.h>
#include <string.h>

#include "bridge.h"

#define FETCH_BATCH 256
/* a request the server has not filled ends after this (a 408 status) */
#define PULL_EXPIRES_MS 2000
#define ACK_WAIT_NS (30 * 1000000000ll)
/* messages kept back for one stored ahead of them; out never has more
   than its window on the way, so more means something else is wrong */
#define EARLY_MAX (2 * BRIDGE_JS_WINDOW)

struct in_js {
	struct bridge *b;
	natsSubscription *sub;	/* our inbox, where pulled messages come */
	char inbox[128];
	char next_subject[256];	/* where pull requests go */
	int asked;		/* messages requested and not yet come */
	uint64_t asked_until;	/* after this, requests still open are lost */
	char id[17];		/* the stream followed; "" before the first */
	uint64_t last;		/* its last offset committed */
	int last_valid;		/* last holds one (offset 0 is a message too) */
	long bound_at;		/* b->reconnects when last bound; -1: bind again */
	/* stored ahead of the message before them: kept, unacknowledged */
	natsMsg *early[EARLY_MAX];
	unsigned nearly;
};

static void forget_early(struct in_js *in)
{
	while (in->nearly)
		natsMsg_Destroy(in->early[--in->nearly]);
}

/* The consumer's name: --durable, or shmkit-in- and the channel's name. */
static void durable_name(struct bridge *b)
{
	size_t n;

	if (b->durable)
		return;
	n = snprintf(b->durable_buf, sizeof(b->durable_buf), "shmkit-in-%s", b->s.name);
	for (size_t i = 0; i < n && i < sizeof(b->durable_buf) - 1; i++)
		if (b->durable_buf[i] == '.')
			b->durable_buf[i] = '_';
	b->durable = b->durable_buf;
}

/* Our inbox, and the subject that asks the consumer for more; 0 or -1. */
static int inbox_names(struct in_js *in)
{
	struct bridge *b = in->b;
	natsInbox *inbox = NULL;
	int n;

	if (natsInbox_Create(&inbox) != NATS_OK) {
		err_msg(b->s.cmd, "%s: no memory for an inbox", b->subject);
		return -1;
	}
	snprintf(in->inbox, sizeof(in->inbox), "%s", inbox);
	natsInbox_Destroy(inbox);
	n = snprintf(in->next_subject, sizeof(in->next_subject), "$JS.API.CONSUMER.MSG.NEXT.%s.%s",
		     b->stream_name, b->durable);
	if (n < 0 || (size_t)n >= sizeof(in->next_subject)) {
		err_msg(b->s.cmd, "--durable %s: too long", b->durable);
		return -1;
	}
	return 0;
}

/*
 * (Re)makes the consumer from the message after its ack floor, and the
 * pull subscription on it. 0, or -1 (said once per failure).
 */
static int bind(struct in_js *in)
{
	struct bridge *b = in->b;
	jsConsumerInfo *ci = NULL;
	jsConsumerConfig cc;
	jsErrCode jerr = 0;
	uint64_t start = 0;
	natsStatus st;

	if (in->sub) {
		natsSubscription_Destroy(in->sub);
		in->sub = NULL;
	}
	/* unacknowledged: they come again, from the floor */
	forget_early(in);
	st = js_GetConsumerInfo(&ci, b->js, b->stream_name, b->durable, NULL, &jerr);
	if (st == NATS_OK) {
		start = ci->AckFloor.Stream + 1;
		jsConsumerInfo_Destroy(ci);
		jerr = 0;
		st = js_DeleteConsumer(b->js, b->stream_name, b->durable, NULL, &jerr);
	} else if (jerr == JSConsumerNotFoundErr || st == NATS_NOT_FOUND)
		st = NATS_OK;
	if (st == NATS_OK) {
		jsConsumerConfig_Init(&cc);
		cc.Durable = b->durable;
		cc.AckPolicy = js_AckExplicit;
		cc.AckWait = ACK_WAIT_NS;
		cc.MaxAckPending = 4 * FETCH_BATCH;
		cc.FilterSubject = b->subject;
		/* a work queue holds only what is unacknowledged: all of it
		   starts after the floor (and the server takes no other policy) */
		if (start && !b->work_queue) {
			cc.DeliverPolicy = js_DeliverByStartSequence;
			cc.OptStartSeq = start;
		}
		jerr = 0;
		st = js_AddConsumer(&ci, b->js, b->stream_name, &cc, NULL, &jerr);
		if (st == NATS_OK)
			jsConsumerInfo_Destroy(ci);
	}
	if (st == NATS_OK)
		st = natsConnection_SubscribeSync(&in->sub, b->nc, in->inbox);
	if (st == NATS_OK)
		st = natsSubscription_SetPendingLimits(in->sub, BRIDGE_PENDING_MSGS,
						       BRIDGE_PENDING_BYTES);
	if (st != NATS_OK) {
		err_msg(b->s.cmd, "%s: consumer %s on stream %s: %s", b->subject, b->durable,
			b->stream_name, bridge_js_error(st, jerr));
		return -1;
	}
	in->bound_at = b->reconnects;
	in->asked = 0;
	return 0;
}

/*
 * Keeps requests open for FETCH_BATCH to 2 * FETCH_BATCH messages, so
 * that the server always has somewhere to send the next one. Each
 * request lasts PULL_EXPIRES_MS; one the server lost with its
 * connection is given up a second after that. -1 if it could not ask.
 */
static int ask(struct in_js *in)
{
	char body[96];
	uint64_t now = clock_ns();

	if (in->asked && now > in->asked_until)
		in->asked = 0;
	if (in->asked >= FETCH_BATCH)
		return 0;
	snprintf(body, sizeof(body), "{\"batch\":%d,\"expires\":%lld}", FETCH_BATCH,
		 (long long)PULL_EXPIRES_MS * 1000000);
	if (natsConnection_PublishRequestString(in->b->nc, in->next_subject, in->inbox,
						body) != NATS_OK)
		return -1;
	in->asked += FETCH_BATCH;
	in->asked_until = now + (PULL_EXPIRES_MS + 1000) * 1000000ull;
	return 0;
}

/*
 * A status from the consumer instead of a message: 1 if m is one, after
 * taking what it says of the requests open. 408 (a request ran out) and
 * 409 (one cut short) say how many they no longer bring; 404 (nothing
 * there, for a no-wait request) and anything else close all of them.
 */
static int status(struct in_js *in, natsMsg *m)
{
	const char *code = NULL;
	uint64_t unfilled;

	if (natsMsg_GetDataLength(m) > 0 ||
	    natsMsgHeader_Get(m, "Status", &code) != NATS_OK || !code)
		return 0;
	if (!strncmp(code, "100", 3))
		return 1;	/* an idle heartbeat: we ask for none, ignore one */
	if ((!strncmp(code, "408", 3) || !strncmp(code, "409", 3)) &&
	    bridge_header_num(m, "Nats-Pending-Messages", &unfilled) == 0 &&
	    unfilled <= (uint64_t)in->asked)
		in->asked -= (int)unfilled;
	else
		in->asked = 0;
	return 1;
}

/*
 * Acknowledges m (its reply subject is the consumer's ack subject for
 * it); markers wait for the server's word, messages do not.
 */
static void ack(struct bridge *b, natsMsg *m, int sync)
{
	const char *to = natsMsg_GetReply(m);
	natsMsg *reply = NULL;
	natsStatus st;

	if (!to || strncmp(to, "$JS.ACK.", 8))
		return;		/* not from a consumer: nothing to acknowledge */
	if (sync) {
		st = natsConnection_RequestString(&reply, b->nc, to, "+ACK",
						  b->connect_ms > 0 ? b->connect_ms : 1);
		natsMsg_Destroy(reply);
	} else
		st = natsConnection_PublishString(b->nc, to, "+ACK");
	if (st == NATS_OK)
		b->acked++;
}

/* Commits m, then any kept back that follow it; STREAM_GO or the status. */
static int commit(struct in_js *in, natsMsg *m, uint64_t off)
{
	struct bridge *b = in->b;
	natsMsg *kept = NULL;	/* m, when it came from early[]: ours to destroy */
	uint64_t prev, o;
	unsigned i;
	int st;

	for (;;) {
		st = bridge_deliver(b, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
		if (st == 0) {
			in->last = off;
			in->last_valid = 1;
			ack(b, m, 0);
		}
		natsMsg_Destroy(kept);
		if (st != 0)
			return st;
		/* kept back, and now behind us: repeats */
		for (i = 0; i < in->nearly;)
			if (bridge_header_num(in->early[i], HDR_OFFSET, &o) == 0 && o <= off) {
				b->dups++;
				ack(b, in->early[i], 0);
				natsMsg_Destroy(in->early[i]);
				in->early[i] = in->early[--in->nearly];
			} else
				i++;
		for (i = 0; i < in->nearly; i++)
			if (bridge_header_num(in->early[i], HDR_PREV, &prev) == 0 && prev == off)
				break;
		if (i == in->nearly)
			return STREAM_GO;
		kept = m = in->early[i];
		in->early[i] = in->early[--in->nearly];
		if (bridge_header_num(m, HDR_OFFSET, &off) < 0)
			return EXIT_RUNTIME;	/* checked when kept back: never */
	}
}

/*
 * One message; STREAM_GO to go on, or the status to exit with. A message
 * stored ahead of the one before it (its Shmkit-Prev is not the last
 * committed) is kept back, *mp set to NULL: the one before comes later.
 */
static int handle(struct in_js *in, natsMsg **mp)
{
	struct bridge *b = in->b;
	natsMsg *m = *mp;
	const char *id, *why = NULL;
	uint64_t off, prev;

	if (!(id = bridge_header_id(m)) || bridge_header_num(m, HDR_OFFSET, &off) < 0) {
		if (!b->foreign++)
			err_msg(b->s.cmd, "%s: a message without shmkit-bridge JetStream headers: "
				"dropped (more are counted by --stats)", b->subject);
		ack(b, m, 0);
		return STREAM_GO;
	}
	if (strcmp(id, in->id)) {
		if (in->id[0])
			err_msg(b->s.cmd, "%s: stream %s replaced by stream %s (a new source channel)",
				b->subject, in->id, id);
		snprintf(in->id, sizeof(in->id), "%s", id);
		in->last = 0;
		in->last_valid = 0;
	}
	if (natsMsgHeader_Get(m, HDR_END, &why) == NATS_OK) {
		ack(b, m, 1);
		return 0;
	}
	if (natsMsgHeader_Get(m, HDR_ABORT, &why) == NATS_OK) {
		err_msg(b->s.cmd, "%s: the stream was cut at its source (%s): %s is closed as "
			"failed", b->subject, why ? why : "no reason given", b->s.name);
		ack(b, m, 1);
		return EXIT_RUNTIME;
	}
	if (in->last_valid && off <= in->last) {
		b->dups++;
		ack(b, m, 0);
		return STREAM_GO;
	}
	if (in->last_valid && bridge_header_num(m, HDR_PREV, &prev) == 0 && prev != in->last) {
		if (in->nearly == EARLY_MAX) {
			err_msg(b->s.cmd, "%s: more than %d messages stored ahead of the one before "
				"them (stream %s, after offset %" PRIu64 ")", b->subject, EARLY_MAX,
				id, in->last);
			return EXIT_RUNTIME;
		}
		in->early[in->nearly++] = m;
		b->reordered++;
		*mp = NULL;
		return STREAM_GO;
	}
	return commit(in, m, off);
}

static int pump(struct in_js *in)
{
	struct bridge *b = in->b;
	natsMsg *m;
	natsStatus ns;
	int r, st;

	for (;;) {
		if (stream_signal)
			return 128 + stream_signal;
		if (bridge_connected(b) < 0) {
			err_msg(b->s.cmd, "%s: the connection closed", b->server);
			return EXIT_RUNTIME;
		}
		if (in->bound_at != b->reconnects && bridge_connected(b) > 0 && bind(in) < 0) {
			in->bound_at = -1;
			stream_nap(200);
			continue;
		}
		if (!in->sub) {
			stream_nap(50);
			continue;
		}
		if (ask(in) < 0) {
			/* the connection is down: it says when it is back */
			stream_nap(50);
			continue;
		}
		m = NULL;
		ns = natsSubscription_NextMsg(&m, in->sub, STREAM_SLICE_MS);
		if (ns == NATS_TIMEOUT || ns == NATS_SLOW_CONSUMER) {
			/* idle: notice a receiver that died or left, as send does */
			if ((r = bridge_peer(b)) < 0)
				return stream_retry(&b->s, r, clock_ns());
			continue;
		}
		if (ns != NATS_OK) {
			/* the server went, or answered oddly: take up from the floor */
			in->bound_at = -1;
			stream_nap(50);
			continue;
		}
		if (status(in, m)) {
			natsMsg_Destroy(m);
			continue;
		}
		if (in->asked > 0)
			in->asked--;
		st = handle(in, &m);
		natsMsg_Destroy(m);
		if (st != STREAM_GO)
			return st;
	}
}

int bridge_in_js(struct bridge *b)
{
	struct in_js in = { .b = b, .bound_at = -1 };
	int st;

	durable_name(b);
	if (bridge_js_open(b, NULL, NULL) != 0 || inbox_names(&in) < 0 || bind(&in) < 0)
		st = EXIT_RUNTIME;
	else if ((st = bridge_open_channel(b)) == 0) {
		b->start_ns = b->last_report_ns = clock_ns();
		st = pump(&in);
		if (b->progress || b->stats)
			bridge_report(b, "\n");
		st = bridge_end(b, st);
	}
	forget_early(&in);
	natsSubscription_Destroy(in.sub);
	bridge_js_close(b);
	return st;
}
