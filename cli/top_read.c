/*
 * shmkit top: one refresh, read into items (cli/top.h), and the rates
 * between two refreshes of the same segment.
 *
 * The reads are the library's looks, as ls and stat make them: a
 * read-only attach for a moment, no write into the segment, no lock; a
 * channel under watch runs as fast as one that is not. One look a
 * segment: the list's, in which the counters are read too (src/watch.h).
 * What a refresh costs is timed (read_ns) and shown.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "top.h"
#include "watch.h"

/* Scratch for the members of one segment: up to 1,024 of either kind. */
static struct shmkit_topic_sub_info sub_buf[SHMKIT_TOPIC_MAX_SUBS_SHOWN];
static struct shmkit_inbox_lane_info lane_buf[SHMKIT_INBOX_LANES_SHOWN];

static void side(struct top_item *it, const char *role, pid_t pid, int alive)
{
	it->side[it->nsides++] = (struct top_side){ role, pid, pid && alive };
}

static int read_channel(struct top_entry *e, void *base)
{
	struct shmkit_chan_info c;
	struct top_item *it = &e->item;

	if (__shmkit_chan_info_at(e->seg.shmid, base, &c) < 0)
		return -1;
	it->kind = TOP_CHANNEL;
	it->msgs = c.sent_msgs;
	it->bytes = c.sent_bytes;
	it->sleeps = c.prod_sleeps + c.cons_sleeps;
	it->wakes = c.prod_wakes + c.cons_wakes;
	it->used = c.used;
	it->capacity = c.capacity;
	it->lag = c.sent_msgs - c.recv_msgs;
	it->has_counts = it->has_lag = 1;
	side(it, "prod", c.prod_pid, c.prod_alive);
	side(it, "cons", c.cons_pid, c.cons_alive);
	return 0;
}

/* A subscriber's identity: its pid, and its rank among that pid's places. */
static uint64_t sub_ident(const struct shmkit_topic_sub_info *subs, size_t k)
{
	uint64_t rank = 0;

	for (size_t j = 0; j < k; j++)
		rank += subs[j].pid == subs[k].pid;
	return (uint64_t)(uint32_t)subs[k].pid << 32 | rank;
}

static int read_topic(struct top_entry *e, void *base)
{
	struct shmkit_topic_info t;
	struct top_item *it = &e->item;
	size_t n;

	if (__shmkit_topic_info_at(e->seg.shmid, base, &t, sub_buf, SHMKIT_TOPIC_MAX_SUBS_SHOWN) < 0)
		return -1;
	n = t.nsubs < SHMKIT_TOPIC_MAX_SUBS_SHOWN ? t.nsubs : SHMKIT_TOPIC_MAX_SUBS_SHOWN;
	it->kind = TOP_TOPIC;
	it->msgs = t.published;
	it->bytes = t.bytes;
	it->sleeps = t.pub_sleeps;
	it->wakes = t.pub_wakes;
	it->capacity = t.slots;	/* its fill: the slowest subscriber's lag, in slots */
	it->has_counts = it->has_lag = it->has_lost = 1;
	side(it, "pub", t.pub_pid, t.pub_alive);
	if (n && !(e->members = calloc(n, sizeof(*e->members))))
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		const struct shmkit_topic_sub_info *s = &sub_buf[k];
		struct top_item *m = &e->members[k];

		m->kind = TOP_SUB;
		m->ident = sub_ident(sub_buf, k);
		m->number = (uint32_t)k;
		m->msgs = s->msgs;
		m->bytes = s->bytes;
		m->sleeps = s->sleeps;
		m->wakes = s->wakes;
		m->lost = s->lost;
		m->lag = s->lag;
		m->used = s->lag;
		m->capacity = t.slots;
		m->has_counts = m->has_lag = m->has_lost = 1;
		side(m, "sub", s->pid, s->alive);
		it->sleeps += s->sleeps;
		it->wakes += s->wakes;
		it->lost += s->lost;
		if (s->lag > it->lag)
			it->lag = s->lag;
	}
	it->used = it->lag < it->capacity ? it->lag : it->capacity;
	e->nmembers = n;
	return 0;
}

static int read_inbox(struct top_entry *e, void *base)
{
	struct shmkit_inbox_info ib;
	struct top_item *it = &e->item;
	size_t n;

	if (__shmkit_inbox_info_at(e->seg.shmid, base, &ib, lane_buf, SHMKIT_INBOX_LANES_SHOWN) < 0)
		return -1;
	n = ib.listed < SHMKIT_INBOX_LANES_SHOWN ? ib.listed : SHMKIT_INBOX_LANES_SHOWN;
	it->kind = ib.replies ? TOP_SERVICE : TOP_INBOX;
	it->msgs = ib.sent_msgs;
	it->sleeps = ib.cons_sleeps;
	it->used = ib.used;
	it->capacity = ib.lane_capacity * ib.lanes;
	it->lag = ib.sent_msgs - ib.recv_msgs;
	it->has_counts = it->has_lag = 1;
	side(it, ib.replies ? "srv" : "cons", ib.cons_pid, ib.cons_alive);
	if (n && !(e->members = calloc(n, sizeof(*e->members))))
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		const struct shmkit_inbox_lane_info *l = &lane_buf[k];
		struct top_item *m = &e->members[k];

		m->kind = TOP_LANE;
		/* a service's lane changes hands at each claim: a new epoch */
		m->ident = (uint64_t)l->epoch << 32 | l->lane;
		m->number = l->lane;
		m->msgs = l->sent_msgs;
		m->bytes = l->sent_bytes;
		m->sleeps = l->sleeps;
		m->wakes = l->wakes;
		m->used = l->used;
		m->capacity = ib.lane_capacity;
		m->lag = l->sent_msgs - l->recv_msgs;
		m->has_counts = m->has_lag = 1;
		side(m, ib.replies ? "client" : "prod", l->pid, l->alive);
		it->bytes += l->sent_bytes;
		it->wakes += l->wakes;
	}
	e->nmembers = n;
	return 0;
}

/*
 * Reads what the segment holds into e, from base (its look's mapping); a
 * segment whose counters cannot be read (not ours to read, or gone
 * since it was listed) stays a plain one: top shows what it can.
 */
static int read_entry(struct top_entry *e, void *base)
{
	int r = -1;

	if (e->seg.flags & SHMKIT_INFO_CHANNEL)
		r = read_channel(e, base);
	else if (e->seg.flags & SHMKIT_INFO_TOPIC)
		r = read_topic(e, base);
	else if (e->seg.flags & SHMKIT_INFO_INBOX)
		r = read_inbox(e, base);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {	/* half read: back to plain */
		free(e->members);
		memset(e, 0, sizeof(*e));
	}
	return 0;
}

/* What the list's looks read into, entry k for the k-th segment. */
struct reading {
	struct top_entry *entries;
	size_t cap;
	int err;
};

/* In the look at the k-th segment (src/watch.h): its counters. */
static void read_in_look(size_t k, const struct shmkit_seg_info *info, void *base, void *arg)
{
	struct reading *rd = arg;
	struct top_entry *grown;
	size_t cap;
	int err;

	if (rd->err)
		return;
	if (k >= rd->cap) {
		cap = k + 1 > 2 * rd->cap ? k + 1 : 2 * rd->cap;
		if (!(grown = realloc(rd->entries, cap * sizeof(*grown)))) {
			rd->err = -ENOMEM;
			return;
		}
		memset(grown + rd->cap, 0, (cap - rd->cap) * sizeof(*grown));
		rd->entries = grown;
		rd->cap = cap;
	}
	rd->entries[k].seg = *info;
	if ((err = read_entry(&rd->entries[k], base)) < 0)
		rd->err = err;
}

/* The per-second change of a counter, if it only grew. */
static int per_s(uint64_t now, uint64_t then, double dt, double *rate)
{
	if (now < then)
		return 0;
	*rate = (double)(now - then) / dt;
	return 1;
}

/* Rates of it from was, the same item dt seconds before. */
static void rate(struct top_item *it, const struct top_item *was, double dt)
{
	if (!it->has_counts || was->kind != it->kind || was->ident != it->ident)
		return;
	it->rated = per_s(it->msgs, was->msgs, dt, &it->msgs_s) &&
		    per_s(it->bytes, was->bytes, dt, &it->bytes_s) &&
		    per_s(it->sleeps, was->sleeps, dt, &it->sleeps_s) &&
		    per_s(it->wakes, was->wakes, dt, &it->wakes_s) &&
		    per_s(it->lost, was->lost, dt, &it->lost_s);
}

/*
 * The same segment in prev: the same shmid, made by the same pid at the
 * same time. The kernel lists segments in the same order each time, so
 * the search starts where the last one ended (*at).
 */
static const struct top_entry *find_prev(const struct top_snap *prev, const struct top_entry *e,
					 size_t *at)
{
	for (size_t i = 0; i < prev->n; i++) {
		size_t k = (*at + i) % prev->n;
		const struct top_entry *p = &prev->entries[k];

		if (p->seg.shmid == e->seg.shmid && p->seg.cpid == e->seg.cpid &&
		    p->seg.ctime == e->seg.ctime) {
			*at = k + 1;
			return p;
		}
	}
	return NULL;
}

static void rate_entry(struct top_entry *e, const struct top_entry *p, double dt)
{
	size_t j = 0;

	rate(&e->item, &p->item, dt);
	/* members keep their order (lane number, subscriber place) */
	for (size_t k = 0; k < e->nmembers; k++) {
		while (j < p->nmembers && p->members[j].ident != e->members[k].ident)
			j++;
		if (j == p->nmembers) {
			j = 0;
			continue;
		}
		rate(&e->members[k], &p->members[j], dt);
	}
}

int top_read(struct top_snap *s, const struct top_snap *prev)
{
	struct reading rd = { NULL, 0, 0 };
	struct shmkit_seg_info *list = NULL;
	struct top_entry *grown;
	int n;

	memset(s, 0, sizeof(*s));
	s->when_ns = clock_ns();
	s->wall = (int64_t)time(NULL);
	n = __shmkit_seg_list_watch(&list, read_in_look, &rd);
	s->entries = rd.entries;
	s->n = rd.cap;		/* for top_snap_free, until the list's own count */
	if (n < 0 || rd.err < 0) {
		shmkit_free(list);
		top_snap_free(s);
		return n < 0 ? n : rd.err;
	}
	/* segments without a shmkit header had no call: plain entries */
	if ((size_t)n > rd.cap) {
		if (!(grown = realloc(s->entries, (size_t)n * sizeof(*grown)))) {
			shmkit_free(list);
			top_snap_free(s);
			return -ENOMEM;
		}
		memset(grown + rd.cap, 0, ((size_t)n - rd.cap) * sizeof(*grown));
		s->entries = grown;
	}
	s->n = (size_t)n;
	for (int k = 0; k < n; k++) {
		s->entries[k].seg = list[k];	/* with its state, judged after the look */
		s->entries[k].item.ident = (uint64_t)(uint32_t)list[k].shmid;
	}
	shmkit_free(list);
	s->nprocs = shmkit_seg_procs(-1, &s->procs, &s->partial);
	if (s->nprocs < 0) {
		s->nprocs = 0;
		s->partial = 1;
	}
	s->read_ns = clock_ns() - s->when_ns;
	if (prev && s->when_ns > prev->when_ns) {
		double dt = (double)(s->when_ns - prev->when_ns) * 1e-9;
		size_t at = 0;

		s->since_s = dt;
		for (size_t k = 0; k < s->n; k++) {
			const struct top_entry *p = find_prev(prev, &s->entries[k], &at);

			if (p)
				rate_entry(&s->entries[k], p, dt);
		}
	}
	return 0;
}

void top_snap_free(struct top_snap *s)
{
	for (size_t k = 0; k < s->n; k++)
		free(s->entries[k].members);
	free(s->entries);
	shmkit_free(s->procs);
	memset(s, 0, sizeof(*s));
}
