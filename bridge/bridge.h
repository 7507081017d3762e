/*
 * shmkit-bridge: a channel carried over NATS. 'out' reads a local channel
 * as its consumer and publishes each message to a subject; 'in'
 * subscribes to the subject and writes each message into a local channel
 * as its producer. The library never sees NATS: this program links both.
 *
 * On the wire every message is one NATS message, its payload the
 * channel message's bytes, with headers (core mode packs several into
 * one, below):
 *
 *   Shmkit-Stream  16 hex digits, chosen at random by each run of 'out'
 *   Shmkit-Seq     the message's number in the source channel: 1, 2, ...
 *                  (the channel's consumer count, so a restarted 'out'
 *                  goes on from where the killed one stopped taking)
 *
 * and, with an empty payload and Shmkit-Seq the last message's number,
 * one of the two markers that end a stream:
 *
 *   Shmkit-End     the producer closed the channel: the stream is whole
 *   Shmkit-Abort   the producer failed or died, or 'out' did (the value
 *                  says which): the stream is cut
 *
 * 'in' counts every number it never got as lost (core NATS delivers at
 * most once), says so on stderr, and fails its channel at the end if
 * anything was lost, as shmkit send fails a cut stream.
 */
#ifndef SHMKIT_BRIDGE_H
#define SHMKIT_BRIDGE_H

#include <nats/nats.h>
#include <stdatomic.h>
#include <stdint.h>

#include "stream.h"

#define HDR_STREAM "Shmkit-Stream"
#define HDR_SEQ "Shmkit-Seq"
#define HDR_END "Shmkit-End"
#define HDR_ABORT "Shmkit-Abort"
/* JetStream mode (bridge/js.c): the message's offset in the source
 * channel (shmkit_chan_peek_ahead) instead of a count, and the id the
 * server's duplicate window matches */
#define HDR_OFFSET "Shmkit-Offset"
/* the offset of the message before, from the same run of 'out': the
 * server may store a message before one published earlier whose first
 * publish was lost, and 'in' puts them back in order by this */
#define HDR_PREV "Shmkit-Prev"
#define HDR_MSG_ID "Nats-Msg-Id"
/* Room the headers take of the server's max_payload, at most (about 80 bytes). */
#define HDR_ROOM 128
/*
 * Core mode packs the messages that are waiting in the ring into one
 * NATS message (never waiting for more). The server's cost goes by NATS
 * messages more than by bytes: one NATS message per message cost as much
 * again as the payload at 64 bytes, and a third more time at 4 KiB than
 * publishing straight. Up to 1 MiB (the server's default max_payload)
 * brought that to 1.03-1.06x on AMD, 1.16-1.34x on Intel; small messages
 * now go in smaller packs (PACK_SMALL_BYTES, below). --no-batch
 * keeps them apart, for subscribers that read the subject themselves.
 *
 * A pack has no NATS headers: those need a natsMsg, which copies the
 * payload once more (a megabyte a pack, beside the megabyte packed, in a
 * 2 MiB L2), and without it the bridge took 4-6% less cpu at 4 KiB on
 * Intel (paired rounds, 2026-12-01). Its payload begins with PACK_HEAD
 * bytes instead:
 *
 *   0   "SHMKPK01"   the magic, with the format's version
 *   8   16 hex digits, the stream id (as Shmkit-Stream)
 *   24  the first message's number, 8 bytes little-endian (Shmkit-Seq)
 *   32  how many messages, 4 bytes little-endian, 1 to BATCH_MSG_MAX
 *   36  4 zero bytes
 *
 * then each message's length (4 bytes, little-endian) and bytes. 'in'
 * also takes a pack with headers, Shmkit-Count saying how many, as 'out'
 * sent them before.
 */
#define HDR_COUNT "Shmkit-Count"
#define PACK_MAGIC "SHMKPK01"
#define PACK_HEAD 40
#define BATCH_MAX (1 << 20)	/* payload bytes of one packed message (at most max_payload) */
/*
 * Messages of up to 4 KiB go in packs of up to 16 KiB instead. Measured
 * with shmkit-bridge bench at 4 KiB (AMD EPYC, 2 vCPUs, 2026-12-02, ten
 * paired rounds each): the server took a median 10.7 us of cpu a message
 * in 1 MiB packs, 10.5 in 32000-byte ones, 9.1 in 16 KiB ones, against
 * 8.2-9.7 for messages published straight, and the bridge's time over
 * direct's went from a median 1.20x to medians of 0.99-1.19x in twelve
 * runs. A large pack reaches the server in pieces, one read each; 1 MiB
 * packs made it take twice the page faults of direct publishing (211,000
 * against 109,000 for 300,000 messages). Larger messages still pack up to BATCH_MAX: at
 * 64 KiB, packs of two or three took 0.84-0.94x of direct's time, packs
 * of fifteen 0.70x. 64 B messages took 0.27x in 16 KiB packs, 0.30x in
 * 1 MiB ones.
 */
#define PACK_SMALL_MSG (4 << 10)
#define PACK_SMALL_BYTES (16 << 10)
#define BATCH_MSG_MAX 4096	/* messages in it */
#define BATCH_SMALL (64 << 10)	/* larger messages go alone */

#define BRIDGE_DEFAULT_SERVER "nats://127.0.0.1:4222"
#define BRIDGE_DEFAULT_TIMEOUT_MS 2000
/* out's channel, if it makes it: messages of up to 512 KiB, which the
 * server's default max_payload (1 MiB) takes */
#define BRIDGE_OUT_CAPACITY (1u << 20)
/* What the client may hold for the server while reconnecting, and what a
 * subscription may hold for 'in' (beyond: the client drops, 'in' counts
 * a gap). */
#define BRIDGE_RECONNECT_BUF (8 << 20)
/* JetStream out: messages on their way (published, held in the ring until
 * acknowledged), and how long an acknowledgement may take before the
 * message is published again (the server drops the repeat by its id) */
#define BRIDGE_JS_WINDOW 1024
#define BRIDGE_JS_ACK_MS 5000
#define BRIDGE_PENDING_MSGS 65536
#define BRIDGE_PENDING_BYTES (64 << 20)

/* The options both directions' --help lists alike. */
#define BRIDGE_HELP_CONNECT \
	"  -s, --server URL        the NATS server (default " BRIDGE_DEFAULT_SERVER ")\n" \
	"      --creds FILE        a NATS credentials file (user JWT and seed)\n" \
	"      --delivery MODE     core: at most once, fastest (the default);\n" \
	"                          jetstream: at least once, stored by the server\n" \
	"      --stream NAME       jetstream: the server's stream (default: shmkit_\n" \
	"                          and the subject, made if missing, as a work queue)\n" \
	"  -t, --timeout SECONDS   give up on the first connection after this long\n" \
	"                          (default 2); later, reconnect for ever\n"
#define BRIDGE_HELP_KEEP \
	"      --keep              do not remove the channel (or topic) at the end\n" \
	"      --shared            use the channel (or topic) even if another user\n" \
	"                          made it, or its mode is wider than -m\n"

enum delivery { DELIVERY_CORE, DELIVERY_JETSTREAM };

struct bridge {
	struct stream s;	/* the local channel or topic: name, options, handle */
	const char *subject;
	int topic;		/* --topic: s names a topic, not a channel */
	unsigned sub_flags;	/* out --topic: SHMKIT_FROM_OLDEST (--from oldest) */
	struct topic_shape shape;	/* in --topic: the shape if it makes it */
	uint64_t wait_subs;	/* in --topic --wait-subs: deliver once this many joined */
	const char *server;
	const char *creds;
	int64_t connect_ms;	/* --timeout: for the first connection */
	enum delivery delivery;
	int no_batch;		/* --no-batch: one NATS message per message */
	int stats, progress;
	/* written by one thread, read by the client's (closing) or ours (reconnects) */
	_Atomic int closing;		/* our own close: not a lost server */
	natsConnection *nc;
	/* JetStream mode */
	jsCtx *js;
	const char *stream_name;	/* --stream, or stream_buf */
	char stream_buf[80];
	const char *durable;		/* in: --durable, or durable_buf */
	char durable_buf[80];
	int work_queue;			/* the stream keeps only what is unacknowledged */
	_Atomic long reconnects;	/* bumped by the client's thread */
	/* figures for --stats and --progress */
	uint64_t msgs, bytes, lost, foreign, start_ns, last_report_ns;
	uint64_t acked, dups;		/* JetStream: acknowledged; dropped as repeats */
	uint64_t reordered;		/* JetStream in: kept back for one stored after */
	uint64_t pending;		/* JetStream out: published, not yet acknowledged */
};

/* Options for both directions: STREAM_GO, or the status to exit with. */
int bridge_parse(struct bridge *b, int argc, char **argv, void (*usage)(void));
/* bridge_parse, then bridge_connect: STREAM_GO connected, or the status. */
int bridge_start(struct bridge *b, int argc, char **argv, void (*usage)(void));

/* Connects to b->server, retrying until --timeout. 0, or 1 (said). */
int bridge_connect(struct bridge *b);
/* stream_open (or with --topic, a topic's side), then the waits set for
 * a bridge (nats.c). 0, or the status to exit with (said). */
int bridge_open_channel(struct bridge *b);
/* stream_end, or the topic's: ends the local side; the status to exit with. */
int bridge_end(struct bridge *b, int status);
/* Has the local peer gone (a channel's receiver, for in)? 0, or the
 * library's error for stream_retry. A topic's subscribers come and go. */
int bridge_peer(struct bridge *b);

/* Closes the connection and the client's threads. */
void bridge_disconnect(struct bridge *b);

/* natsStatus as text, with the client's last error if it says more. */
const char *bridge_nats_error(natsStatus st);

/* Is the connection up? 1 yes, 0 reconnecting, -1 closed for good. */
int bridge_connected(struct bridge *b);

/* in: writes one message into the channel; 0, or the status to exit with. */
int bridge_deliver(struct bridge *b, const void *p, size_t len);
/* A header holding a number: 0, or -1 if it is missing or not one. */
int bridge_header_num(natsMsg *m, const char *key, uint64_t *v);
/* A header holding a stream id (16 hex digits): it, or NULL. */
const char *bridge_header_id(natsMsg *m);

/* Counts a message; draws the --progress line each second. */
void bridge_count(struct bridge *b, uint64_t bytes);
/* The --stats line (also the last --progress line), ending in end. */
void bridge_report(struct bridge *b, const char *end);

/*
 * JetStream (js.c): a context on b->nc (publishes acknowledged to ack, if
 * not NULL), and b->stream_name made if the server lacks it. 0, or 1
 * (said).
 */
int bridge_js_open(struct bridge *b, jsPubAckHandler ack, void *closure);
void bridge_js_close(struct bridge *b);
/* The text of a JetStream failure: the server's error code if it gave one. */
const char *bridge_js_error(natsStatus st, jsErrCode jerr);

/* The directions in JetStream mode. out: open (before the channel: 0 or
 * 1, said), then run (id: the channel's). */
int bridge_out_js_open(struct bridge *b);
int bridge_out_js(struct bridge *b, const char *id);
int bridge_in_js(struct bridge *b);

int bridge_out(int argc, char **argv);
int bridge_bench(int argc, char **argv);
int bridge_in(int argc, char **argv);

#endif
