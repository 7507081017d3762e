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
 */
#include <inttypes.h>
#include <string.h>

#include "bridge.h"

#define FETCH_BATCH 256
#define ACK_WAIT_NS (30 * 1000000000ll)
/* messages kept back for one stored ahead of them; out never has more
   than its window on the way, so more means something else is wrong */
#define EARLY_MAX (2 * BRIDGE_JS_WINDOW)

struct in_js {
	struct bridge *b;
	natsSubscription *sub;
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

/*
 * (Re)makes the consumer from the message after its ack floor, and the
 * pull subscription on it. 0, or -1 (said once per failure).
 */
static int bind(struct in_js *in)
{
	struct bridge *b = in->b;
	jsConsumerInfo *ci = NULL;
	jsConsumerConfig cc;
	jsSubOptions so;
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
	if (st == NATS_OK) {
		jsSubOptions_Init(&so);
		so.Stream = b->stream_name;
		so.Consumer = b->durable;
		jerr = 0;
		st = js_PullSubscribe(&in->sub, b->js, b->subject, b->durable, NULL, &so, &jerr);
	}
	if (st != NATS_OK) {
		err_msg(b->s.cmd, "%s: consumer %s on stream %s: %s", b->subject, b->durable,
			b->stream_name, bridge_js_error(st, jerr));
		return -1;
	}
	in->bound_at = b->reconnects;
	return 0;
}

/* Acknowledges m; markers wait for the server's word, messages do not. */
static void ack(struct bridge *b, natsMsg *m, int sync)
{
	if ((sync ? natsMsg_AckSync(m, NULL, NULL) : natsMsg_Ack(m, NULL)) == NATS_OK)
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
	natsMsgList list = { 0 };
	jsErrCode jerr;
	natsStatus ns;
	int r, st, i;

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
		jerr = 0;
		ns = natsSubscription_Fetch(&list, in->sub, FETCH_BATCH, STREAM_SLICE_MS, &jerr);
		if (ns == NATS_TIMEOUT) {
			/* idle: notice a receiver that died or left, as send does */
			if ((r = shmkit_chan_peer(b->s.ch)) < 0)
				return stream_retry(&b->s, r, clock_ns());
			continue;
		}
		if (ns != NATS_OK) {
			/* the server went, or answered oddly: take up from the floor */
			in->bound_at = -1;
			stream_nap(50);
			continue;
		}
		st = STREAM_GO;
		for (i = 0; i < list.Count && st == STREAM_GO; i++)
			st = handle(in, &list.Msgs[i]);
		natsMsgList_Destroy(&list);
		if (st != STREAM_GO)
			return st;
	}
}

int bridge_in_js(struct bridge *b)
{
	struct in_js in = { .b = b, .bound_at = -1 };
	int st;

	durable_name(b);
	if (bridge_js_open(b, NULL, NULL) != 0 || bind(&in) < 0)
		st = EXIT_RUNTIME;
	else if ((st = bridge_open_channel(b)) == 0) {
		b->start_ns = b->last_report_ns = clock_ns();
		st = pump(&in);
		if (b->progress || b->stats)
			bridge_report(b, "\n");
		st = stream_end(&b->s, st);
	}
	forget_early(&in);
	natsSubscription_Destroy(in.sub);
	bridge_js_close(b);
	return st;
}
