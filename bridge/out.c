/*
 * shmkit-bridge out: a channel's messages published to a subject. Each
 * message is copied from the ring into a NATS message and released before
 * it is published: a bridge killed between the two loses it (core NATS is
 * at most once anyway) but never sends it twice, and the next bridge goes
 * on after it, numbering on from the channel's consumer count, so the
 * receiving side sees the gap and counts it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bridge.h"

static void usage(void)
{
	printf("Usage: shmkit-bridge out [OPTIONS] CHANNEL SUBJECT\n"
	       "\n"
	       "Reads channel CHANNEL as its consumer (creating it if need be, as 'shmkit\n"
	       "recv' does) and publishes each message to NATS subject SUBJECT, whole,\n"
	       "in order, with a stream id and a sequence number, for 'shmkit-bridge in'.\n"
	       "When the sender closes the channel it publishes the end of the stream,\n"
	       "and exits 0; if the sender failed or died it publishes that the stream\n"
	       "was cut, and exits 1. While the server is away it stops reading (the\n"
	       "sender waits for room) and reconnects by itself.\n"
	       "\n"
	       "With --topic, CHANNEL names a topic instead, which out reads as one of\n"
	       "its subscribers (waiting for it to appear), from the next message\n"
	       "published or, with --from oldest, from the oldest its history holds.\n"
	       "Messages the topic's overwrite policy passes over are said, and 'in'\n"
	       "counts them lost. A topic keeps nothing for a subscriber that died, so\n"
	       "--topic goes with core delivery only.\n"
	       "\n"
	       BRIDGE_HELP_CONNECT
	       "  -c, --capacity SIZE     ring size when creating (default 1M: messages of\n"
	       "                          up to 512K, which a server's default max_payload\n"
	       "                          of 1M takes)\n"
	       "  -m, --mode MODE         permissions when creating (default 0600)\n"
	       BRIDGE_HELP_KEEP
	       "      --topic             CHANNEL is a topic, read as a subscriber\n"
	       "      --from WHERE        --topic: next (default) or oldest\n"
	       "      --no-batch          one NATS message per message (by default those of\n"
	       "                          up to 64K waiting in the ring go packed together,\n"
	       "                          up to 1M in one)\n"
	       "      --stats             print messages, bytes and rates at the end\n"
	       "      --progress          print them every second while it runs\n"
	       "  -h, --help              this text\n"
	       "\n"
	       "A message larger than the server's max_payload (less 128 bytes for the\n"
	       "headers) is an error: messages are never split. 'shmkit send' makes\n"
	       "messages of up to half the ring: give it -c 1M (or up to twice the\n"
	       "server's max_payload) if it makes the channel.\n"
	       "\n"
	       "Exit status: 0 the stream ended and was flushed to the server, 1 error\n"
	       "(no server, sender failed or died, message too large), 2 bad usage,\n"
	       "128+N after signal N (what was taken from the channel is flushed).\n");
}

struct out {
	struct bridge *b;
	char id[17];		/* this run's stream id, in hex */
	uint64_t seq;		/* the number of the last message taken */
	uint64_t lost;		/* --topic: messages the subscriber lost, numbered */
	size_t limit;		/* the largest message the server takes */
	unsigned char *batch;	/* BATCH_MAX bytes: messages packed into one */
};

/*
 * A topic under the overwrite policy may pass over messages this bridge
 * was too slow for: they get their numbers all the same, so that 'in'
 * sees the gap and counts them lost, as it does what NATS drops.
 */
static void number_lost(struct out *o)
{
	struct bridge *b = o->b;
	uint64_t lost;

	if (!b->s.sub || (lost = shmkit_sub_lost(b->s.sub)) == o->lost)
		return;
	err_msg(b->s.cmd, "%s: lost %" PRIu64 " message%s: overwritten before the bridge read "
		"them (overwrite policy; the other side counts them too)", b->s.name,
		lost - o->lost, lost - o->lost == 1 ? "" : "s");
	o->seq += lost - o->lost;
	o->lost = lost;
}

/* Headers for message o->seq. */
static int set_headers(struct out *o, natsMsg *m, const char *hdr, const char *value)
{
	char seq[24];
	natsStatus st;

	snprintf(seq, sizeof(seq), "%" PRIu64, o->seq);
	if ((st = natsMsgHeader_Set(m, HDR_STREAM, o->id)) != NATS_OK ||
	    (st = natsMsgHeader_Set(m, HDR_SEQ, seq)) != NATS_OK ||
	    (hdr && (st = natsMsgHeader_Set(m, hdr, value)) != NATS_OK)) {
		err_msg(o->b->s.cmd, "NATS message: %s", bridge_nats_error(st));
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * Publishes m, or without headers len bytes at data (a pack): while the
 * connection is down the client keeps up to its reconnect buffer; beyond
 * that, wait. A connection that breaks under a publish (an I/O error) is
 * being made again: publish again. (If the first try did reach the
 * server, 'in' drops the second as a repeat.) 0, or the status to exit
 * with.
 */
static int publish(struct out *o, natsMsg *m, const void *data, size_t len)
{
	struct bridge *b = o->b;
	natsStatus st;

	for (;;) {
		st = m ? natsConnection_PublishMsg(b->nc, m) :
			 natsConnection_Publish(b->nc, b->subject, data, (int)len);
		if (st == NATS_OK)
			return 0;
		if ((st != NATS_INSUFFICIENT_BUFFER && st != NATS_IO_ERROR &&
		     st != NATS_CONNECTION_DISCONNECTED && st != NATS_STALE_CONNECTION) ||
		    bridge_connected(b) < 0) {
			err_msg(b->s.cmd, "%s: publish: %s", b->subject, bridge_nats_error(st));
			return EXIT_RUNTIME;
		}
		if (stream_nap(10))
			return 128 + stream_signal;
	}
}

/* Waits until the server has everything published; 0, or the status. */
static int flush(struct out *o)
{
	natsStatus st;

	for (;;) {
		st = natsConnection_FlushTimeout(o->b->nc, 1000);
		if (st == NATS_OK)
			return 0;
		if (stream_signal)
			return 128 + stream_signal;
		if (bridge_connected(o->b) < 0) {
			err_msg(o->b->s.cmd, "%s: flush: %s", o->b->subject, bridge_nats_error(st));
			return EXIT_RUNTIME;
		}
	}
}

/* A NATS message of len bytes from p (copied), or NULL (said). */
static natsMsg *new_msg(struct out *o, const void *p, size_t len)
{
	natsMsg *m = NULL;
	natsStatus st = natsMsg_Create(&m, o->b->subject, NULL, p, (int)len);

	if (st != NATS_OK) {
		err_msg(o->b->s.cmd, "NATS message: %s", bridge_nats_error(st));
		return NULL;
	}
	return m;
}

/* m, with our headers (message o->seq, and hdr if not NULL), published
 * and destroyed: 0, or the status. */
static int send_msg(struct out *o, natsMsg *m, const char *hdr, const char *value)
{
	int r = set_headers(o, m, hdr, value);

	if (r == 0)
		r = publish(o, m, NULL, 0);
	natsMsg_Destroy(m);
	return r;
}

/* The stream's end (hdr HDR_END) or its cut (HDR_ABORT, why). */
static int marker(struct out *o, const char *hdr, const char *why)
{
	natsMsg *m = new_msg(o, NULL, 0);
	int r = m ? send_msg(o, m, hdr, why) : EXIT_RUNTIME;

	return r ? r : flush(o);
}

/* Cuts the stream for the receiving side; returns status. */
static int cut(struct out *o, const char *why, int status)
{
	marker(o, HDR_ABORT, why);
	return status;
}

/* One message from the ring to the server; 0, or the status. */
static int forward(struct out *o, const void *p, size_t len)
{
	struct bridge *b = o->b;
	natsMsg *m;
	int r;

	if (len > o->limit) {
		err_msg(b->s.cmd, "%s: a message of %zu bytes is larger than the server takes "
			"(%zu: its max_payload less %d for the headers; messages are not split, "
			"so make the channel at most twice that: shmkit send -c)",
			b->s.name, len, o->limit, HDR_ROOM);
		return cut(o, "a message larger than the server takes", EXIT_RUNTIME);
	}
	if (!(m = new_msg(o, p, len)))
		return cut(o, "out of memory", EXIT_RUNTIME);
	number_lost(o);
	o->seq++;
	stream_release(&b->s);	/* copied: the ring's room is the sender's again */
	if ((r = send_msg(o, m, NULL, NULL)) == 0)
		bridge_count(b, len);
	return r;
}

/* Little-endian whatever the host: the other end may differ. */
static void put_le(unsigned char *at, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		at[i] = (unsigned char)(v >> (8 * i));
}

/*
 * The message at p, and those right behind it in the ring while they are
 * small and fit, packed into one NATS message (bridge.h) and published;
 * each is released once copied, as forward does. 0, or the status.
 */
static int forward_batch(struct out *o, const void *p, size_t len)
{
	struct bridge *b = o->b;
	size_t used = PACK_HEAD, room = len <= PACK_SMALL_MSG ? PACK_SMALL_BYTES : BATCH_MAX;
	unsigned count = 0;
	natsMsg *m;

	if (room > o->limit)
		room = o->limit;
	number_lost(o);
	for (;;) {
		unsigned char *at = o->batch + used;

		put_le(at, len, 4);
		memcpy(at + 4, p, len);
		used += 4 + len;
		count++;
		o->seq++;
		stream_release(&b->s);
		bridge_count(b, len);
		/* a loss ends the batch: the numbers in one are consecutive */
		if (count == BATCH_MSG_MAX || (b->s.sub && shmkit_sub_lost(b->s.sub) != o->lost) ||
		    stream_peek(&b->s, &p, &len, 0) != 0 ||
		    len > BATCH_SMALL || used + 4 + len > room)
			break;
	}
	if (count > 1) {
		memcpy(o->batch, PACK_MAGIC, 8);
		memcpy(o->batch + 8, o->id, 16);
		put_le(o->batch + 24, o->seq - (count - 1), 8);
		put_le(o->batch + 32, count, 4);
		put_le(o->batch + 36, 0, 4);
		return publish(o, NULL, o->batch, used);
	}
	/* alone after all: as forward would publish it */
	if (!(m = new_msg(o, o->batch + PACK_HEAD + 4, used - PACK_HEAD - 4)))
		return cut(o, "out of memory", EXIT_RUNTIME);
	return send_msg(o, m, NULL, NULL);
}

static int pump(struct out *o)
{
	struct bridge *b = o->b;
	const void *p;
	size_t len;
	uint64_t since;
	int r, st;

	for (;;) {
		if (stream_signal)
			return 128 + stream_signal;
		/* not connected: leave the messages in the ring, where the
		 * sender waits for room, rather than in our memory */
		if ((r = bridge_connected(b)) <= 0) {
			if (r < 0) {
				err_msg(b->s.cmd, "%s: the connection closed", b->server);
				return EXIT_RUNTIME;
			}
			stream_nap(10);
			continue;
		}
		since = clock_ns();
		r = stream_peek(&b->s, &p, &len, STREAM_SLICE_MS);
		if (r == 0) {
			/* small, and another one behind it: pack them */
			if (!b->no_batch && len <= BATCH_SMALL && 4 + len <= o->limit)
				st = forward_batch(o, p, len);
			else
				st = forward(o, p, len);
			if (st != 0)
				return st;
			continue;
		}
		if (r == -SHMKIT_ELOST)
			continue;	/* numbered with the next one taken */
		number_lost(o);	/* the end comes after them */
		if (r == -SHMKIT_EEOF)
			return marker(o, HDR_END, "clean");
		if (r == -SHMKIT_EABORTED) {
			err_msg(b->s.cmd, "%s: the sender failed before the end of its input: "
				"the stream is cut (and the other side told)", b->s.name);
			return cut(o, "the sender failed", EXIT_RUNTIME);
		}
		if (r == -SHMKIT_EPEERDEAD) {
			err_msg(b->s.cmd, "%s: the sender died: the stream is cut (and the "
				"other side told)", b->s.name);
			return cut(o, "the sender died", EXIT_RUNTIME);
		}
		if ((st = stream_retry(&b->s, r, since)) != STREAM_AGAIN)
			return stream_signal ? st : cut(o, "the out bridge failed", st);
	}
}

/* FNV-1a, 64 bits, of len bytes at p, on from h. */
static uint64_t fnv(uint64_t h, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

/*
 * JetStream: the source channel's id, the same for every run of 'out' on
 * this channel (its messages' ids must match across restarts), and not
 * the same for another channel, or this one made anew: the host, this
 * boot, the segment's shmid (a new segment gets a new one) and creator.
 */
static uint64_t channel_id(int shmid)
{
	struct shmkit_seg_info si = { 0 };
	char host[256] = "", boot[64] = "";
	uint64_t h = 0xcbf29ce484222325ull;
	FILE *f;

	gethostname(host, sizeof(host) - 1);
	if ((f = fopen("/proc/sys/kernel/random/boot_id", "r"))) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = 0;
		fclose(f);
	}
	shmkit_seg_stat(shmid, &si);
	h = fnv(h, host, strlen(host));
	h = fnv(h, boot, strlen(boot));
	h = fnv(h, &shmid, sizeof(shmid));
	h = fnv(h, &si.cpid, sizeof(si.cpid));
	return fnv(h, si.name, strlen(si.name));
}

int bridge_out(int argc, char **argv)
{
	struct bridge b = { .s = { .cmd = "out", .role = SHMKIT_CONSUMER } };
	struct out o = { .b = &b };
	struct shmkit_chan_info info;
	uint64_t id = 0;
	int64_t max;
	int st;

	if ((st = bridge_start(&b, argc, argv, usage)) != STREAM_GO)
		return st;
	max = natsConnection_GetMaxPayload(b.nc);
	o.limit = max > HDR_ROOM ? (size_t)(max - HDR_ROOM) : 0;
	if (b.delivery == DELIVERY_JETSTREAM && bridge_out_js_open(&b) != 0) {
		bridge_js_close(&b);
		bridge_disconnect(&b);
		return EXIT_RUNTIME;
	}
	if ((st = bridge_open_channel(&b)) != 0) {
		bridge_js_close(&b);
		bridge_disconnect(&b);
		return st;
	}
	if (!b.no_batch && b.delivery == DELIVERY_CORE && !(o.batch = malloc(BATCH_MAX))) {
		err_msg(b.s.cmd, "out of memory");
		st = bridge_end(&b, EXIT_RUNTIME);
		bridge_disconnect(&b);
		return st;
	}
	/* number on from the messages earlier consumers took (a topic's
	   subscriber is a new one: its stream starts where it joined) */
	if (b.s.ch && shmkit_chan_info(b.s.shmid, &info) == 0)
		o.seq = info.recv_msgs;
	if (b.delivery == DELIVERY_JETSTREAM)
		id = channel_id(b.s.shmid);
	else if (getrandom(&id, sizeof(id), 0) != sizeof(id))
		id = clock_ns() ^ ((uint64_t)getpid() << 32);
	snprintf(o.id, sizeof(o.id), "%016" PRIx64, id);
	b.start_ns = b.last_report_ns = clock_ns();
	if (b.delivery == DELIVERY_JETSTREAM)
		st = bridge_out_js(&b, o.id);
	else
		st = pump(&o);
	/* interrupted: what was taken from the ring still reaches the server */
	if (st > 128 && bridge_connected(&b) > 0 && b.delivery == DELIVERY_CORE)
		natsConnection_FlushTimeout(b.nc, 1000);
	if (b.progress || b.stats)
		bridge_report(&b, "\n");
	st = bridge_end(&b, st);
	bridge_disconnect(&b);
	free(o.batch);
	return st;
}
