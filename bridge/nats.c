/*
 * The NATS side both directions share: the connection and its options
 * (credentials, timeouts, reconnecting with back-off and jitter), error
 * texts, and the figures --stats and --progress print.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "bridge.h"

const char *bridge_nats_error(natsStatus st)
{
	static char buf[512];
	natsStatus last = NATS_OK;
	const char *text = nats_GetLastError(&last);

	/* the client's texts begin with where it failed: "(conn.c:2088): " */
	if (text && *text == '(' && strstr(text, "): "))
		text = strstr(text, "): ") + 3;
	if (text && *text && last == st)
		snprintf(buf, sizeof(buf), "%s", text);
	else
		snprintf(buf, sizeof(buf), "%s", natsStatus_GetText(st));
	return buf;
}

/*
 * After the first connection the client reconnects for ever. Each try
 * waits 50 ms, doubled each time up to 1 s, plus up to half of that at
 * random, so that many bridges that lost one server do not all come back
 * in the same instant.
 */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure)
{
	int64_t ms = 50;
	unsigned r = 0;

	(void)nc;
	(void)closure;
	while (attempts-- > 1 && ms < 1000)
		ms *= 2;
	if (ms > 1000)
		ms = 1000;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (unsigned)getpid();
	return ms + (int64_t)(r % (unsigned)(ms / 2 + 1));
}

/* The client's threads call these: one line each, never silent. */
static void on_disconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	(void)nc;
	if (!b->closing)
		err_msg(b->s.cmd, "%s: lost the server; reconnecting (%s stops meanwhile)",
			b->server, b->s.role == SHMKIT_CONSUMER ? "reading the channel" :
			"what the server sends");
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct bridge *b = closure;

	(void)nc;
	b->reconnects++;	/* JetStream in: take up from the ack floor again */
	err_msg(b->s.cmd, "%s: reconnected", b->server);
}

/* Fills opts; 0, or 1 (said). */
static int set_options(struct bridge *b, natsOptions *opts)
{
	char name[128];
	natsStatus st;

	snprintf(name, sizeof(name), "shmkit-bridge %s %s", b->s.cmd, b->s.name);
	st = natsOptions_SetURL(opts, b->server);
	if (st != NATS_OK) {
		err_msg(b->s.cmd, "--server '%s': %s", b->server, bridge_nats_error(st));
		return EXIT_USAGE;
	}
	if (b->creds) {
		if (access(b->creds, R_OK) != 0) {
			err_msg(b->s.cmd, "--creds %s: %s", b->creds, strerror(errno));
			return EXIT_RUNTIME;
		}
		st = natsOptions_SetUserCredentialsFromFiles(opts, b->creds, NULL);
		if (st != NATS_OK) {
			err_msg(b->s.cmd, "--creds %s: %s", b->creds, bridge_nats_error(st));
			return EXIT_RUNTIME;
		}
	}
	if ((st = natsOptions_SetName(opts, name)) != NATS_OK ||
	    (st = natsOptions_SetTimeout(opts, b->connect_ms > 0 ? b->connect_ms : 1)) != NATS_OK ||
	    (st = natsOptions_SetAllowReconnect(opts, true)) != NATS_OK ||
	    (st = natsOptions_SetMaxReconnect(opts, -1)) != NATS_OK ||
	    (st = natsOptions_SetCustomReconnectDelay(opts, reconnect_delay, NULL)) != NATS_OK ||
	    (st = natsOptions_SetReconnectBufSize(opts, BRIDGE_RECONNECT_BUF)) != NATS_OK ||
	    (st = natsOptions_SetMaxPendingMsgs(opts, BRIDGE_PENDING_MSGS)) != NATS_OK ||
	    (st = natsOptions_SetDisconnectedCB(opts, on_disconnected, b)) != NATS_OK ||
	    (st = natsOptions_SetReconnectedCB(opts, on_reconnected, b)) != NATS_OK) {
		err_msg(b->s.cmd, "NATS options: %s", bridge_nats_error(st));
		return EXIT_RUNTIME;
	}
	return 0;
}

/*
 * The client's threads are made with SIGINT, SIGTERM and SIGHUP blocked,
 * so that those reach the main thread, whose waits are cut in slices.
 */
int bridge_connect(struct bridge *b)
{
	uint64_t deadline = clock_ns() + (uint64_t)b->connect_ms * 1000000u;
	natsOptions *opts = NULL;
	natsStatus st;
	sigset_t block, old;
	int r;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	st = nats_Open(-1);
	if (st == NATS_OK)
		st = natsOptions_Create(&opts);
	if (st != NATS_OK) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		err_msg(b->s.cmd, "NATS client: %s", bridge_nats_error(st));
		return EXIT_RUNTIME;
	}
	if ((r = set_options(b, opts)) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		natsOptions_Destroy(opts);
		return r;
	}
	for (;;) {
		st = natsConnection_Connect(&b->nc, opts);
		if (st == NATS_OK || st != NATS_NO_SERVER || stream_signal ||
		    clock_ns() + 100000000u > deadline)
			break;
		stream_nap(100);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	natsOptions_Destroy(opts);
	if (st == NATS_OK)
		return 0;
	b->nc = NULL;
	if (stream_signal)
		return 128 + stream_signal;
	if (st == NATS_NO_SERVER)
		err_msg(b->s.cmd, "%s: no server answered within %g s", b->server,
			(double)b->connect_ms / 1000);
	else
		err_msg(b->s.cmd, "%s: %s%s", b->server, b->creds ? "with --creds: " : "",
			bridge_nats_error(st));
	return EXIT_RUNTIME;
}

int bridge_start(struct bridge *b, int argc, char **argv, void (*usage)(void))
{
	int st;

	if ((st = bridge_parse(b, argc, argv, usage)) != STREAM_GO)
		return st;
	if ((st = bridge_connect(b)) != 0) {
		bridge_disconnect(b);
		return st;
	}
	return STREAM_GO;
}

void bridge_disconnect(struct bridge *b)
{
	if (b->nc) {
		b->closing = 1;
		natsConnection_Close(b->nc);
		natsConnection_Destroy(b->nc);
		b->nc = NULL;
	}
	nats_CloseAndWait(2000);
}

int bridge_connected(struct bridge *b)
{
	switch (natsConnection_Status(b->nc)) {
	case NATS_CONN_STATUS_CONNECTED:
		return 1;
	case NATS_CONN_STATUS_CLOSED:
		return -1;
	default:
		return 0;
	}
}

void bridge_report(struct bridge *b, const char *end)
{
	double secs = (double)(clock_ns() - b->start_ns) / 1e9;
	char size[16], line[512];
	FILE *f = line_begin(line, sizeof(line));	/* bridges often share a log */

	fmt_bytes(size, sizeof(size), (double)b->bytes, FMT_SHORT);
	fprintf(f, "%s: %s: %s: %llu messages, %llu bytes (%s), %.2f s, %.0f msg/s, %.1f MB/s",
		err_prog, b->s.cmd, b->s.name, (unsigned long long)b->msgs,
		(unsigned long long)b->bytes, size, secs,
		secs > 0 ? (double)b->msgs / secs : 0.0,
		secs > 0 ? (double)b->bytes / secs / 1e6 : 0.0);
	if (b->delivery == DELIVERY_JETSTREAM && b->s.role == SHMKIT_CONSUMER)
		fprintf(f, ", %llu acknowledged, %llu pending", (unsigned long long)b->acked,
			(unsigned long long)b->pending);
	else if (b->delivery == DELIVERY_JETSTREAM)
		fprintf(f, ", %llu acknowledged, %llu repeats dropped, %llu put back in order",
			(unsigned long long)b->acked, (unsigned long long)b->dups,
			(unsigned long long)b->reordered);
	else if (b->s.role == SHMKIT_PRODUCER)
		fprintf(f, ", %llu lost", (unsigned long long)b->lost);
	if (b->foreign)
		fprintf(f, ", %llu not from a bridge (dropped)", (unsigned long long)b->foreign);
	if (b->nc) {
		natsStatistics *ns = NULL;
		uint64_t x[5] = { 0 };

		if (natsStatistics_Create(&ns) == NATS_OK &&
		    natsConnection_GetStats(b->nc, ns) == NATS_OK &&
		    natsStatistics_GetCounts(ns, &x[0], &x[1], &x[2], &x[3], &x[4]) == NATS_OK)
			fprintf(f, ", %llu NATS messages, %llu reconnects",
				(unsigned long long)x[b->s.role == SHMKIT_CONSUMER ? 2 : 0],
				(unsigned long long)x[4]);
		natsStatistics_Destroy(ns);
	}
	fputs(end, f);
	line_end(f, line, sizeof(line));
}

void bridge_count(struct bridge *b, uint64_t bytes)
{
	uint64_t now;

	b->msgs++;
	b->bytes += bytes;
	if (!b->progress || (b->msgs & 15))
		return;
	now = clock_ns();
	if (now - b->last_report_ns < 1000000000u)
		return;
	b->last_report_ns = now;
	bridge_report(b, "   \r");
}

int bridge_open_channel(struct bridge *b)
{
	struct stream *s = &b->s;
	int st;

	if (!b->topic)
		st = stream_open(s);
	else if (s->role == SHMKIT_CONSUMER)
		st = topic_join(s, b->sub_flags | (s->shared ? SHMKIT_SHARED : 0));
	else if ((st = topic_open_pub(s, &b->shape)) == 0 && b->wait_subs &&
		 (st = topic_wait_subs(s, b->wait_subs)) != 0)
		return bridge_end(b, st);
	if (st != 0)
		return st;
	/*
	 * A bridge waits on the network far more than on the ring: when the
	 * ring is empty (out) or full (in), sleep at once instead of
	 * spinning first, and leave the cpu to the server and the programs.
	 */
	if (s->ch)
		shmkit_chan_set_spin(s->ch, 0);
	else if (s->sub)
		shmkit_sub_set_spin(s->sub, 0);
	else
		shmkit_pub_set_spin(s->pub, 0);
	return 0;
}

int bridge_end(struct bridge *b, int status)
{
	struct stream *s = &b->s;

	if (s->ch)
		return stream_end(s, status);
	if (s->sub)
		return topic_end_sub(s, status);
	if (s->pub)
		return topic_end_pub(s, status, b->shape.tp.history);
	return status;
}

int bridge_peer(struct bridge *b)
{
	int r;

	if (!b->s.ch)
		return 0;
	r = shmkit_chan_peer(b->s.ch);
	return r < 0 ? r : 0;
}
