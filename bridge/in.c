/*
 * shmkit-bridge in: a subject's messages written into a channel, in the
 * order they come. Core NATS delivers at most once: a message the server
 * or the client dropped (a slow consumer, a reconnect, a bridge killed
 * and restarted) never comes, and its number is missing. Every missing
 * number is counted and said on stderr, and a stream that ends with any
 * missing fails its channel, as shmkit send fails a cut stream: the
 * consumer never takes a stream with holes for a whole one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

static void usage(void)
{
	printf("Usage: shmkit-bridge in [OPTIONS] SUBJECT CHANNEL\n"
	       "\n"
	       "Subscribes to NATS subject SUBJECT and writes each message that\n"
	       "'shmkit-bridge out' publishes there into channel CHANNEL, as its sender\n"
	       "(creating it if need be, as 'shmkit send' does, once the subscription is\n"
	       "in place), for 'shmkit recv CHANNEL' or any consumer. It checks each\n"
	       "message's stream id and number: a message that never came is counted as\n"
	       "lost and said on stderr, never passed over in silence. At the end of the\n"
	       "stream it closes the channel and exits 0; if anything was lost, or the\n"
	       "stream was cut at its source, it closes the channel as failed and exits 1.\n"
	       "\n"
	       "With --topic, CHANNEL names a topic instead, which in publishes on (made\n"
	       "if missing, of the shape the options below give; any subscribers read\n"
	       "every message); it is closed, or closed as failed, as the channel\n"
	       "would be. Give --wait-subs to deliver nothing before that many\n"
	       "subscribers have joined.\n"
	       "\n"
	       BRIDGE_HELP_CONNECT
	       "      --durable NAME      jetstream: the server's consumer to read through\n"
	       "                          (default: shmkit-in- and CHANNEL, '.' as '_')\n"
	       STREAM_HELP_CREATE
	       BRIDGE_HELP_KEEP
	       "      --topic             CHANNEL is a topic, to publish on\n"
	       "      --wait-subs N       --topic: deliver nothing before N subscribers joined\n"
	       "      --stats             print messages, bytes, rates and losses at the end\n"
	       "      --progress          print them every second while it runs\n"
	       "  -h, --help              this text\n"
	       "\n"
	       "The topic's shape, when in makes it (an existing one of another shape\n"
	       "is refused):\n"
	       TOPIC_HELP_SHAPE
	       "\n"
	       "While the channel is full the client holds up to 65536 messages or 64 MiB\n"
	       "for it, then drops what comes (counted as lost). A message larger than\n"
	       "the channel's largest (half its capacity) is an error.\n"
	       "\n"
	       "Exit status: 0 the stream ended whole, 1 error or messages lost (the\n"
	       "count is said), 2 bad usage, 128+N after signal N.\n");
}

#define OLD_STREAMS 8

struct in {
	struct bridge *b;
	natsSubscription *sub;
	char id[17];		/* the stream being followed; "" before the first */
	char old[OLD_STREAMS][17];	/* streams it followed before */
	unsigned nold;
	uint64_t last;		/* the last number delivered or counted lost */
	int late_said;		/* a late message was said since the last delivered */
};

int bridge_header_num(natsMsg *m, const char *key, uint64_t *v)
{
	const char *text = NULL;

	if (natsMsgHeader_Get(m, key, &text) != NATS_OK || !text)
		return -1;
	return parse_decimal(text, v);
}

const char *bridge_header_id(natsMsg *m)
{
	const char *id = NULL;

	if (natsMsgHeader_Get(m, HDR_STREAM, &id) != NATS_OK || !id || strlen(id) != 16 ||
	    id[strspn(id, "0123456789abcdef")])
		return NULL;
	return id;
}

static int stream_known(const struct in *in, const char *id)
{
	unsigned i;

	if (!strcmp(id, in->id))
		return 1;
	for (i = 0; i < in->nold && i < OLD_STREAMS; i++)
		if (!strcmp(id, in->old[i]))
			return 1;
	return 0;
}

/*
 * Follows stream id from now on. A new stream id is a new run of 'out' on
 * the same channel, numbered on from where the last one stopped taking.
 * The server may still pass on messages of the old run after the first of
 * the new one (it reads each connection on its own): those come late,
 * below the numbers already counted, and are dropped.
 */
static void follow(struct in *in, const char *id)
{
	struct bridge *b = in->b;

	if (in->id[0]) {
		err_msg(b->s.cmd, "%s: stream %s replaced by stream %s (the out bridge "
			"restarted)", b->subject, in->id, id);
		snprintf(in->old[in->nold++ % OLD_STREAMS], sizeof(in->old[0]), "%s", in->id);
	}
	snprintf(in->id, sizeof(in->id), "%s", id);
}

/* Counts the n numbers from in->last + 1 as lost, and says so. */
static void count_lost(struct in *in, const char *id, uint64_t n, const char *note)
{
	struct bridge *b = in->b;

	b->lost += n;
	err_msg(b->s.cmd, "%s: lost %" PRIu64 " message%s (stream %s, %" PRIu64 " to %" PRIu64 ")%s",
		b->subject, n, n == 1 ? "" : "s", id, in->last + 1, in->last + n, note);
	in->last += n;
}

/*
 * Counts the numbers missing up to upto: for a message, the one before
 * its own; for a marker, the stream's last (inclusive). Numbers before
 * the first message this run of 'in' gets may have been delivered by an
 * earlier run: they count too (more than went missing, never less).
 */
static void count_gap(struct in *in, const char *id, uint64_t upto)
{
	int first = !in->id[0];

	if (!stream_known(in, id))
		follow(in, id);
	if (upto > in->last)
		count_lost(in, id, upto - in->last,
			   first ? ", sent before this bridge subscribed" : "");
}

int bridge_deliver(struct bridge *b, const void *p, size_t len)
{
	struct stream *s = &b->s;
	uint64_t since = clock_ns();
	void *w;
	int r, st;

	if (len > s->max_msg) {
		if (b->topic)
			err_msg(s->cmd, "%s: a message of %zu bytes is larger than the topic takes "
				"(%zu; a topic made by the bridge takes --max-msg)",
				s->name, len, s->max_msg);
		else
			err_msg(s->cmd, "%s: a message of %zu bytes is larger than the channel "
				"takes (%zu, half its capacity; make it bigger with --capacity)",
				s->name, len, s->max_msg);
		return EXIT_RUNTIME;
	}
	while ((r = stream_reserve(s, len, &w, STREAM_SLICE_MS)) < 0)
		if ((st = stream_retry(s, r, since)) != STREAM_AGAIN)
			return st;
	if (len)
		memcpy(w, p, len);
	stream_commit(s, len);
	bridge_count(b, len);
	return 0;
}

/* A pack's first number past this was not counted by a channel (2^62, as
 * topics refuse counts past it): refused, and no sum with it overflows. */
#define PACK_SEQ_MAX (1ull << 62)

/* n bytes (at most 8) at p, little-endian. */
static uint64_t get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/*
 * Is m a pack without headers (bridge.h)? If so, 1, with its stream id
 * in id, its first number and count, and the packed messages' bytes
 * after the preamble in *p and *left. 0 for anything else; a preamble
 * that says nothing possible (a count of 0, numbers past 2^62) is not one.
 */
static int pack_head(natsMsg *m, char id[17], uint64_t *seq, uint64_t *count,
		     const unsigned char **p, size_t *left)
{
	const unsigned char *d = (const unsigned char *)natsMsg_GetData(m);
	size_t n = (size_t)natsMsg_GetDataLength(m);

	if (!d || n < PACK_HEAD || memcmp(d, PACK_MAGIC, 8) != 0)
		return 0;
	memcpy(id, d + 8, 16);
	id[16] = 0;
	*seq = get_le(d + 24, 8);
	*count = get_le(d + 32, 4);
	if (id[strspn(id, "0123456789abcdef")] || *seq == 0 || *seq > PACK_SEQ_MAX ||
	    *count == 0 || *count > BATCH_MSG_MAX || get_le(d + 36, 4) != 0)
		return 0;
	*p = d + PACK_HEAD;
	*left = n - PACK_HEAD;
	return 1;
}

/*
 * count messages packed into the left bytes at p, numbered from seq: each
 * written into the channel. A length that overruns the payload ends the
 * unpacking: what is left counts as lost.
 */
static int unpack(struct in *in, const unsigned char *p, size_t left, uint64_t seq,
		  uint64_t count)
{
	struct bridge *b = in->b;
	size_t len;
	uint64_t i;
	int st;

	for (i = 0; i < count; i++) {
		if (left < 4 || (len = (size_t)get_le(p, 4)) > left - 4) {
			count_lost(in, in->id, seq + count - 1 - in->last,
				   ": a packed message that does not hold what it says");
			return STREAM_GO;
		}
		if ((st = bridge_deliver(b, p + 4, len)) != 0)
			return st;
		in->last = seq + i;
		p += 4 + len;
		left -= 4 + len;
	}
	in->late_said = 0;
	return STREAM_GO;
}

/* One message from the server; STREAM_GO to go on, or the status. */
static int handle(struct in *in, natsMsg *m)
{
	struct bridge *b = in->b;
	const char *id = NULL, *why = NULL;
	const unsigned char *p = (const unsigned char *)natsMsg_GetData(m);
	size_t left = (size_t)natsMsg_GetDataLength(m);
	uint64_t seq, count = 1;
	char pack_id[17];
	int packed = 0, st;

	if (pack_head(m, pack_id, &seq, &count, &p, &left)) {
		id = pack_id;
		packed = 1;
	} else if (!(id = bridge_header_id(m)) || bridge_header_num(m, HDR_SEQ, &seq) < 0 ||
		   (natsMsgHeader_Get(m, HDR_COUNT, &why) == NATS_OK &&
		    (bridge_header_num(m, HDR_COUNT, &count) < 0 || count == 0 ||
		     count > BATCH_MSG_MAX))) {
		if (!b->foreign++)
			err_msg(b->s.cmd, "%s: a message with neither shmkit-bridge headers nor "
				"a pack: dropped (more are counted by --stats)", b->subject);
		return STREAM_GO;
	}
	if (!packed && natsMsgHeader_Get(m, HDR_END, &why) == NATS_OK) {
		count_gap(in, id, seq);
		if (!b->lost)
			return 0;
		err_msg(b->s.cmd, "%s: the stream ended, but %" PRIu64 " message%s went missing on "
			"the way: %s is closed as failed", b->subject, b->lost,
			b->lost == 1 ? "" : "s", b->s.name);
		return EXIT_RUNTIME;
	}
	if (!packed && natsMsgHeader_Get(m, HDR_ABORT, &why) == NATS_OK) {
		count_gap(in, id, seq);
		err_msg(b->s.cmd, "%s: the stream was cut at its source (%s): %s is closed as "
			"failed", b->subject, why ? why : "no reason given", b->s.name);
		return EXIT_RUNTIME;
	}
	/*
	 * Numbers only go up. One at or below the last, of a stream followed
	 * before, comes late: it was counted lost when the newer stream
	 * passed it. Of the stream followed now it is a repeat (a publish
	 * tried again) or a channel numbered afresh: dropped, and counted
	 * lost, which for a repeat counts one too many, never one too few.
	 */
	if (seq <= in->last) {
		if (!stream_known(in, id))
			follow(in, id);
		if (!strcmp(id, in->id)) {
			b->lost += count;
			err_msg(b->s.cmd, "%s: lost %" PRIu64 " message%s (stream %s, from %" PRIu64
				", numbered at or below %" PRIu64 ": a repeat, or a channel made "
				"anew): dropped", b->subject, count, count == 1 ? "" : "s", id, seq,
				in->last);
		} else if (!in->late_said++)
			err_msg(b->s.cmd, "%s: message %" PRIu64 " of stream %s came late (counted "
				"lost already): dropped", b->subject, seq, id);
		return STREAM_GO;
	}
	count_gap(in, id, seq - 1);
	if (packed || count > 1)
		return unpack(in, p, left, seq, count);
	if ((st = bridge_deliver(b, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m))) != 0)
		return st;
	in->last = seq;
	in->late_said = 0;
	return STREAM_GO;
}

static int pump(struct in *in)
{
	struct bridge *b = in->b;
	natsMsg *m = NULL;
	natsStatus ns;
	int r, st;

	for (;;) {
		if (stream_signal)
			return 128 + stream_signal;
		ns = natsSubscription_NextMsg(&m, in->sub, STREAM_SLICE_MS);
		if (ns == NATS_TIMEOUT || ns == NATS_SLOW_CONSUMER) {
			/* idle: notice a receiver that died or left, as send does */
			if ((r = bridge_peer(b)) < 0)
				return stream_retry(&b->s, r, clock_ns());
			continue;
		}
		if (ns != NATS_OK) {
			if (stream_signal)
				return 128 + stream_signal;
			err_msg(b->s.cmd, "%s: %s", b->subject, bridge_nats_error(ns));
			return EXIT_RUNTIME;
		}
		st = handle(in, m);
		natsMsg_Destroy(m);
		if (st != STREAM_GO)
			return st;
	}
}

int bridge_in(int argc, char **argv)
{
	struct bridge b = { .s = { .cmd = "in", .role = SHMKIT_PRODUCER } };
	struct in in = { .b = &b };
	natsStatus ns;
	int st;

	if ((st = bridge_start(&b, argc, argv, usage)) != STREAM_GO)
		return st;
	if (b.delivery == DELIVERY_JETSTREAM) {
		st = bridge_in_js(&b);
		bridge_disconnect(&b);
		return st;
	}
	/* subscribed, and the server knows it, before the channel appears:
	 * whoever waits for the channel may start the stream */
	ns = natsConnection_SubscribeSync(&in.sub, b.nc, b.subject);
	if (ns == NATS_OK)
		ns = natsSubscription_SetPendingLimits(in.sub, BRIDGE_PENDING_MSGS,
						       BRIDGE_PENDING_BYTES);
	if (ns == NATS_OK)
		ns = natsConnection_FlushTimeout(b.nc, b.connect_ms > 0 ? b.connect_ms : 1);
	if (ns != NATS_OK) {
		err_msg(b.s.cmd, "%s: subscribe: %s", b.subject, bridge_nats_error(ns));
		st = EXIT_RUNTIME;
	} else
		st = bridge_open_channel(&b);
	if (st == 0) {
		b.start_ns = b.last_report_ns = clock_ns();
		st = pump(&in);
		if (b.progress || b.stats)
			bridge_report(&b, "\n");
		st = bridge_end(&b, st);
	}
	natsSubscription_Destroy(in.sub);
	bridge_disconnect(&b);
	return st;
}
