/*
 * JSON output: exact numbers, stable field names. The schema is listed in
 * the README and in shmkit(1), section JSON; add fields, never rename.
 */
#include "cli.h"

static const char *yesno(int b)
{
	return b ? "true" : "false";
}

/*
 * Names and process names are bytes, not always UTF-8, and JSON must be.
 * A byte that is not part of a well-formed sequence is written as the
 * code point of the same value (\u00XX), so nothing is dropped.
 */
void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n;

	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if ((n = utf8_seq(p)) == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			/* a C1 control: well-formed, but terminals may obey it */
			fprintf(f, "\\u%04x", p[1]);
			p += 2;
		} else if (n > 0) {
			fwrite(p, 1, (size_t)n, f);
			p += n;
		} else {
			fprintf(f, "\\u%04x", *p++);
		}
	}
	fputc('"', f);
}

void json_chan(FILE *f, const struct shmkit_chan_info *c)
{
	fprintf(f, "{\"capacity\": %llu, \"max_msg\": %llu, \"used\": %llu, "
		"\"sent_msgs\": %llu, \"sent_bytes\": %llu, \"recv_msgs\": %llu, "
		"\"recv_bytes\": %llu, \"producer_sleeps\": %llu, \"producer_wakes\": %llu, "
		"\"consumer_sleeps\": %llu, \"consumer_wakes\": %llu, "
		"\"producer_yields\": %llu, \"consumer_yields\": %llu, "
		"\"producer_wait_ns\": %llu, \"consumer_wait_ns\": %llu, "
		"\"producer_pid\": %d, \"producer_alive\": %s, \"producer_closed\": %s, "
		"\"producer_aborted\": %s, "
		"\"consumer_pid\": %d, \"consumer_alive\": %s, \"consumer_closed\": %s}",
		(unsigned long long)c->capacity, (unsigned long long)c->max_msg,
		(unsigned long long)c->used, (unsigned long long)c->sent_msgs,
		(unsigned long long)c->sent_bytes, (unsigned long long)c->recv_msgs,
		(unsigned long long)c->recv_bytes, (unsigned long long)c->prod_sleeps,
		(unsigned long long)c->prod_wakes, (unsigned long long)c->cons_sleeps,
		(unsigned long long)c->cons_wakes, (unsigned long long)c->prod_yields,
		(unsigned long long)c->cons_yields, (unsigned long long)c->prod_wait_ns,
		(unsigned long long)c->cons_wait_ns, (int)c->prod_pid, yesno(c->prod_alive),
		yesno(c->prod_closed), yesno(c->prod_aborted), (int)c->cons_pid,
		yesno(c->cons_alive),
		yesno(c->cons_closed));
}

/* A topic's info and subscribers as one JSON object (no newline). */
static void json_topic(FILE *f, const struct topic_report *t, const char *in)
{
	const struct shmkit_topic_info *i = &t->info;

	fprintf(f, "{\"slots\": %llu, \"max_msg\": %llu, \"history\": %llu, "
		"\"max_subs\": %u, \"policy\": \"%s\", \"published\": %llu, \"bytes\": %llu, "
		"\"publisher_pid\": %d, \"publisher_alive\": %s, \"publisher_closed\": %s, "
		"\"publisher_aborted\": %s, "
		"\"publisher_sleeps\": %llu, \"publisher_wakes\": %llu, "
		"\"publisher_wait_ns\": %llu, \"publisher_yields\": %llu, "
		"\"subscriber_count\": %u, \"subscribers\": [",
		(unsigned long long)i->slots, (unsigned long long)i->max_msg,
		(unsigned long long)i->history, i->max_subs,
		i->policy == SHMKIT_TOPIC_BLOCK ? "block" : "overwrite",
		(unsigned long long)i->published, (unsigned long long)i->bytes, (int)i->pub_pid,
		yesno(i->pub_alive), yesno(i->pub_closed), yesno(i->pub_aborted), (unsigned long long)i->pub_sleeps,
		(unsigned long long)i->pub_wakes, (unsigned long long)i->pub_wait_ns,
		(unsigned long long)i->pub_yields, i->nsubs);
	for (size_t k = 0; k < t->n; k++) {
		const struct shmkit_topic_sub_info *s = &t->subs[k];

		fprintf(f, "%s\n%s    {\"pid\": %d, \"alive\": %s, \"pos\": %llu, \"lag\": %llu, "
			"\"msgs\": %llu, \"bytes\": %llu, \"lost\": %llu, \"sleeps\": %llu, "
			"\"wakes\": %llu, \"wait_ns\": %llu, \"yields\": %llu}", k ? "," : "", in,
			(int)s->pid,
			yesno(s->alive), (unsigned long long)s->pos, (unsigned long long)s->lag,
			(unsigned long long)s->msgs, (unsigned long long)s->bytes,
			(unsigned long long)s->lost, (unsigned long long)s->sleeps,
			(unsigned long long)s->wakes, (unsigned long long)s->wait_ns,
			(unsigned long long)s->yields);
	}
	if (t->n)
		fprintf(f, "\n%s  ", in);
	fprintf(f, "]}");
}

/*
 * An inbox's (or a service's) info and lanes as one JSON object (no
 * newline). The consumer is a service's server, the producers its
 * clients: the names stay those of an inbox, and "service" says which.
 */
static void json_inbox(FILE *f, const struct inbox_report *r, int service, const char *in)
{
	const struct shmkit_inbox_info *i = &r->info;

	fprintf(f, "{\"lane_count\": %u, \"lane_capacity\": %llu, \"max_msg\": %llu, "
		"\"used\": %llu, \"sent_msgs\": %llu, \"recv_msgs\": %llu, "
		"\"producer_count\": %u, "
		"\"consumer_pid\": %d, \"consumer_alive\": %s, \"consumer_closed\": %s, "
		"\"consumer_sleeps\": %llu, \"lanes\": [",
		i->lanes, (unsigned long long)i->lane_capacity, (unsigned long long)i->max_msg,
		(unsigned long long)i->used, (unsigned long long)i->sent_msgs,
		(unsigned long long)i->recv_msgs, i->producers, (int)i->cons_pid,
		yesno(i->cons_alive), yesno(i->cons_closed), (unsigned long long)i->cons_sleeps);
	for (size_t k = 0; k < r->n; k++) {
		const struct shmkit_inbox_lane_info *l = &r->lanes[k];

		fprintf(f, "%s\n%s    {\"lane\": %u, \"pid\": %d, \"alive\": %s, \"used\": %llu, "
			"\"sent_msgs\": %llu, \"sent_bytes\": %llu, \"recv_msgs\": %llu, "
			"\"recv_bytes\": %llu, \"sleeps\": %llu, \"wakes\": %llu", k ? "," : "", in,
			l->lane, (int)l->pid, yesno(l->alive), (unsigned long long)l->used,
			(unsigned long long)l->sent_msgs, (unsigned long long)l->sent_bytes,
			(unsigned long long)l->recv_msgs, (unsigned long long)l->recv_bytes,
			(unsigned long long)l->sleeps, (unsigned long long)l->wakes);
		if (service)
			fprintf(f, ", \"replies_used\": %llu, \"replies_sent\": %llu, "
				"\"replies_read\": %llu", (unsigned long long)l->replies_used,
				(unsigned long long)l->replies_sent,
				(unsigned long long)l->replies_read);
		fputc('}', f);
	}
	if (r->n)
		fprintf(f, "\n%s  ", in);
	fprintf(f, "]}");
}

void json_info(FILE *f, const struct shmkit_seg_info *i,
	       const struct shmkit_proc *procs, int nprocs, int partial,
	       const struct shmkit_chan_info *chan, const struct topic_report *topic,
	       const struct inbox_report *inbox, int service, const char *in)
{
	int k, first = 1;

	fprintf(f, "{\n");
	fprintf(f, "%s  \"shmid\": %d,\n", in, i->shmid);
	fprintf(f, "%s  \"key\": %u,\n", in, (unsigned)i->key);
	fprintf(f, "%s  \"key_hex\": \"0x%08x\",\n", in, (unsigned)i->key);
	fprintf(f, "%s  \"name\": ", in);
	if (i->flags & SHMKIT_INFO_NAMED)
		json_str(f, i->name);
	else
		fputs("null", f);
	fprintf(f, ",\n%s  \"shmkit\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_NAMED));
	fprintf(f, "%s  \"header_readable\": %s,\n", in, yesno(!(i->flags & SHMKIT_INFO_UNREAD)));
	fprintf(f, "%s  \"persistent\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_PERSIST));
	fprintf(f, "%s  \"size\": %llu,\n", in, (unsigned long long)i->size);
	fprintf(f, "%s  \"allocated\": %llu,\n", in, (unsigned long long)i->alloc);
	fprintf(f, "%s  \"data_size\": %llu,\n", in, (unsigned long long)i->data_size);
	fprintf(f, "%s  \"mode\": \"%04o\",\n", in, i->mode);
	fprintf(f, "%s  \"uid\": %u, \"gid\": %u, \"cuid\": %u, \"cgid\": %u,\n", in,
		(unsigned)i->uid, (unsigned)i->gid, (unsigned)i->cuid, (unsigned)i->cgid);
	fprintf(f, "%s  \"nattch\": %llu,\n", in, (unsigned long long)i->nattch);
	fprintf(f, "%s  \"attached\": [", in);
	for (k = 0; k < nprocs; k++) {
		if (procs[k].shmid != i->shmid)
			continue;
		fprintf(f, "%s{\"pid\": %d, \"comm\": ", first ? "" : ", ", (int)procs[k].pid);
		json_str(f, procs[k].comm);
		fputc('}', f);
		first = 0;
	}
	fprintf(f, "],\n%s  \"attached_partial\": %s,\n", in, yesno(partial));
	fprintf(f, "%s  \"cpid\": %d,\n", in, (int)i->cpid);
	fprintf(f, "%s  \"creator_alive\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_CREATOR_ALIVE));
	fprintf(f, "%s  \"lpid\": %d,\n", in, (int)i->lpid);
	fprintf(f, "%s  \"lpid_alive\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_LASTPID_ALIVE));
	fprintf(f, "%s  \"atime\": %lld, \"dtime\": %lld, \"ctime\": %lld,\n", in,
		(long long)i->atime, (long long)i->dtime, (long long)i->ctime);
	fprintf(f, "%s  \"removing\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_REMOVING));
	fprintf(f, "%s  \"locked\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_LOCKED));
	fprintf(f, "%s  \"channel\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_CHANNEL));
	fprintf(f, "%s  \"topic\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_TOPIC));
	fprintf(f, "%s  \"inbox\": %s,\n", in, yesno(i->flags & SHMKIT_INFO_INBOX));
	fprintf(f, "%s  \"service\": %s,\n", in, yesno(service));
	if (chan) {
		fprintf(f, "%s  \"channel_info\": ", in);
		json_chan(f, chan);
		fprintf(f, ",\n");
	}
	if (topic) {
		fprintf(f, "%s  \"topic_info\": ", in);
		json_topic(f, topic, in);
		fprintf(f, ",\n");
	}
	if (inbox) {
		fprintf(f, "%s  \"inbox_info\": ", in);
		json_inbox(f, inbox, service, in);
		fprintf(f, ",\n");
	}
	fprintf(f, "%s  \"state\": \"%s\"\n", in, state_name(i->state));
	fprintf(f, "%s}", in);
}
