/*
 * JetStream, for both directions: the context, and the stream the subject
 * is stored in. Unless --stream names one the user made, the bridge makes
 * its own, named after the subject, on first use: file storage, the
 * subject alone, and work-queue retention, so that the server keeps a
 * message until the 'in' bridge has acknowledged it and no longer (a
 * bridge that runs for months does not fill the disk).
 */
#include <stdio.h>
#include <string.h>

#include "bridge.h"

const char *bridge_js_error(natsStatus st, jsErrCode jerr)
{
	static char buf[600];

	switch ((int)jerr) {
	case 0:
		break;
	case JSNotEnabledErr:
	case JSNotEnabledForAccountErr:
		return "the server has no JetStream (start nats-server with -js)";
	case JSStreamNotFoundErr:
		return "no such stream";
	default:
		snprintf(buf, sizeof(buf), "%s (JetStream error %d)", bridge_nats_error(st),
			 (int)jerr);
		return buf;
	}
	if (st == NATS_NO_RESPONDERS)
		return "no reply: the server has no JetStream (start nats-server with -js), "
		       "or no stream takes this subject";
	return bridge_nats_error(st);
}

/* shmkit_ and the subject, with what a stream name may not hold as '_'. */
static void default_name(struct bridge *b)
{
	size_t n = snprintf(b->stream_buf, sizeof(b->stream_buf), "shmkit_%s", b->subject);

	for (size_t i = 0; i < n && i < sizeof(b->stream_buf) - 1; i++) {
		char c = b->stream_buf[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			b->stream_buf[i] = '_';
	}
	b->stream_name = b->stream_buf;
}

/* The stream, made if missing (and not named by --stream); 0 or 1 (said). */
static int ensure_stream(struct bridge *b)
{
	jsStreamInfo *si = NULL;
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	const char *subjects[1] = { b->subject };
	natsStatus st;
	int given = b->stream_name != NULL;

	if (!given)
		default_name(b);
	st = js_GetStreamInfo(&si, b->js, b->stream_name, NULL, &jerr);
	if (st == NATS_OK) {
		b->work_queue = si->Config && si->Config->Retention == js_WorkQueuePolicy;
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (jerr != JSStreamNotFoundErr && st != NATS_NOT_FOUND) {
		err_msg(b->s.cmd, "%s: stream %s: %s", b->server, b->stream_name,
			bridge_js_error(st, jerr));
		return 1;
	}
	if (given) {
		err_msg(b->s.cmd, "%s: stream %s: no such stream (without --stream the bridge "
			"makes its own)", b->server, b->stream_name);
		return 1;
	}
	jsStreamConfig_Init(&cfg);
	cfg.Name = b->stream_name;
	cfg.Subjects = subjects;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	cfg.Retention = js_WorkQueuePolicy;
	jerr = 0;
	st = js_AddStream(&si, b->js, &cfg, NULL, &jerr);
	/* the other direction may have made it just now */
	if (st != NATS_OK && jerr == JSStreamNameExistErr)
		st = NATS_OK;
	if (st != NATS_OK) {
		err_msg(b->s.cmd, "%s: making stream %s for %s: %s", b->server, b->stream_name,
			b->subject, bridge_js_error(st, jerr));
		return 1;
	}
	jsStreamInfo_Destroy(si);
	b->work_queue = 1;
	return 0;
}

int bridge_js_open(struct bridge *b, jsPubAckHandler ack, void *closure)
{
	jsOptions o;
	natsStatus st;

	jsOptions_Init(&o);
	o.Wait = b->connect_ms > 0 ? b->connect_ms : 1;
	if (ack) {
		o.PublishAsync.AckHandler = ack;
		o.PublishAsync.AckHandlerClosure = closure;
		o.PublishAsync.MaxPending = BRIDGE_JS_WINDOW;
	}
	if ((st = natsConnection_JetStream(&b->js, b->nc, &o)) != NATS_OK) {
		err_msg(b->s.cmd, "%s: JetStream: %s", b->server, bridge_nats_error(st));
		return 1;
	}
	return ensure_stream(b);
}

void bridge_js_close(struct bridge *b)
{
	jsCtx_Destroy(b->js);
	b->js = NULL;
}
