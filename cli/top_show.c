/*
 * shmkit top: one refresh as screen lines or as one JSON object. The
 * lines are the same on a terminal and in plain output; the terminal
 * only cuts them to its width and height (cli/top.c).
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "top.h"

#define LINE_MAX_BYTES 1024

static const char *const sort_names[SORT_COUNT] = {
	[SORT_MSGS] = "msgs", [SORT_BYTES] = "bytes", [SORT_FILL] = "fill",
	[SORT_LAG] = "lag", [SORT_NAME] = "name",
};

const char *top_sort_name(enum top_sort sort)
{
	return sort_names[sort];
}

int top_sort_parse(const char *text)
{
	for (int k = 0; k < SORT_COUNT; k++)
		if (!strcmp(text, sort_names[k]))
			return k;
	return -1;
}

static const char *kind_name(enum top_kind kind)
{
	switch (kind) {
	case TOP_SEGMENT: return "shm";
	case TOP_CHANNEL: return "channel";
	case TOP_TOPIC: return "topic";
	case TOP_INBOX: return "inbox";
	case TOP_SERVICE: return "service";
	case TOP_SUB: return "sub";
	case TOP_LANE: return "lane";
	}
	return "?";
}

/* ---------------------------------------------------------------- order */

static double fill_of(const struct top_item *it)
{
	return it->capacity ? (double)it->used / (double)it->capacity : 0;
}

/* The sort key's figure; higher first in the natural order. */
static double figure(const struct top_item *it, enum top_sort sort)
{
	switch (sort) {
	case SORT_MSGS: return it->rated ? it->msgs_s : 0;
	case SORT_BYTES: return it->rated ? it->bytes_s : 0;
	case SORT_FILL: return fill_of(it);
	case SORT_LAG: return it->has_lag ? (double)it->lag : 0;
	default: return 0;
	}
}

/* Named before unnamed, then by name, then by shmid. */
static int cmp_name(const struct top_entry *a, const struct top_entry *b)
{
	int an = !!(a->seg.flags & SHMKIT_INFO_NAMED), bn = !!(b->seg.flags & SHMKIT_INFO_NAMED);
	int c;

	if (an != bn)
		return bn - an;
	if (an && (c = strcmp(a->seg.name, b->seg.name)))
		return c;
	return (a->seg.shmid > b->seg.shmid) - (a->seg.shmid < b->seg.shmid);
}

static const struct top_snap *sort_snap;	/* qsort has no argument */
static const struct top_view *sort_view;

static int cmp_entries(const void *pa, const void *pb)
{
	const struct top_entry *a = &sort_snap->entries[*(const size_t *)pa];
	const struct top_entry *b = &sort_snap->entries[*(const size_t *)pb];
	double fa, fb;
	int c = 0;

	if (sort_view->sort != SORT_NAME) {
		fa = figure(&a->item, sort_view->sort);
		fb = figure(&b->item, sort_view->sort);
		c = (fa < fb) - (fa > fb);
	}
	if (!c)
		c = cmp_name(a, b);
	return sort_view->reverse ? -c : c;
}

static int matches(const struct top_entry *e, const char *pattern)
{
	char id[16];

	if (!pattern)
		return 1;
	if (e->seg.flags & SHMKIT_INFO_NAMED)
		return fnmatch(pattern, e->seg.name, 0) == 0;
	snprintf(id, sizeof(id), "%d", e->seg.shmid);
	return fnmatch(pattern, id, 0) == 0;
}

size_t top_order(const struct top_snap *s, const struct top_view *v, size_t **order)
{
	size_t n = 0;

	*order = s->n ? malloc(s->n * sizeof(**order)) : NULL;
	if (!*order)
		return 0;
	for (size_t k = 0; k < s->n; k++)
		if (matches(&s->entries[k], v->match))
			(*order)[n++] = k;
	sort_snap = s;
	sort_view = v;
	qsort(*order, n, sizeof(**order), cmp_entries);
	return n;
}

/* ---------------------------------------------------------------- lines */

/* A rate: blank for a plain segment, "-" before two refreshes. */
static void fmt_rate(char *buf, size_t cap, const struct top_item *it, double v)
{
	if (!it->has_counts)
		buf[0] = '\0';
	else if (!it->rated)
		snprintf(buf, cap, "-");
	else
		fmt_number(buf, cap, v);
}

/* A count the item has, or blank. */
static void fmt_count(char *buf, size_t cap, int has, uint64_t v)
{
	if (!has)
		buf[0] = '\0';
	else
		fmt_number(buf, cap, (double)v);
}

/* Appends to a line buffer, never past its end. */
static void add(char *line, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(char *line, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*len + 1 >= LINE_MAX_BYTES)
		return;
	va_start(ap, fmt);
	w = vsnprintf(line + *len, LINE_MAX_BYTES - *len, fmt, ap);
	va_end(ap);
	if (w > 0)
		*len += (size_t)w < LINE_MAX_BYTES - *len ? (size_t)w : LINE_MAX_BYTES - 1 - *len;
}

/* The sides: "prod 1234 cons 5678(dead)"; "-" for a side nobody holds. */
static void add_sides(char *line, size_t *len, const struct top_item *it)
{
	for (int k = 0; k < it->nsides; k++) {
		const struct top_side *sd = &it->side[k];

		if (sd->pid)
			add(line, len, "%s%s %d%s", k ? " " : "", sd->role, (int)sd->pid,
			    sd->alive ? "" : "(dead)");
		else
			add(line, len, "%s%s -", k ? " " : "", sd->role);
	}
}

/* A plain segment's attached processes: "1234(name) 5678(name)". */
static void add_procs(char *line, size_t *len, const struct top_snap *s, const struct top_entry *e)
{
	uint64_t shown = 0;
	char comm[SAFE_CAP(16)];

	for (int k = 0; k < s->nprocs; k++) {
		if (s->procs[k].shmid != e->seg.shmid)
			continue;
		add(line, len, "%s%d(%s)", shown ? " " : "", (int)s->procs[k].pid,
		    safe_text(comm, sizeof(comm), s->procs[k].comm));
		shown++;
	}
	/* processes whose maps we may not read still count in nattch */
	if (shown < e->seg.nattch)
		add(line, len, "%s?", shown ? " " : "");
	else if (!shown)
		add(line, len, "-");
}

static void item_line(char *line, const struct top_snap *s, const struct top_entry *e,
		      const struct top_item *it)
{
	char name[SAFE_CAP(SHMKIT_NAME_MAX)], msgs[16], bytes[16], fill[8], lag[16], lost[16];
	char sleeps[16], wakes[16], shmid[16];
	size_t len = 0;

	if (it == &e->item) {
		snprintf(shmid, sizeof(shmid), "%d", e->seg.shmid);
		if (e->seg.flags & SHMKIT_INFO_NAMED)
			safe_text(name, sizeof(name), e->seg.name);
		else
			snprintf(name, sizeof(name), "-");
	} else {
		shmid[0] = '\0';
		snprintf(name, sizeof(name), "  %s %u", it->kind == TOP_SUB ? "#" : "lane",
			 (unsigned)it->number);
	}
	fmt_rate(msgs, sizeof(msgs), it, it->msgs_s);
	if (!it->has_counts)
		bytes[0] = '\0';
	else if (!it->rated)
		snprintf(bytes, sizeof(bytes), "-");
	else
		fmt_bytes(bytes, sizeof(bytes), it->bytes_s, FMT_SHORT);
	if (it->capacity)
		snprintf(fill, sizeof(fill), "%d%%", (int)(fill_of(it) * 100 + 0.5));
	else
		snprintf(fill, sizeof(fill), it->has_counts ? "-" : "");
	fmt_count(lag, sizeof(lag), it->has_lag, it->lag);
	fmt_count(lost, sizeof(lost), it->has_lost, it->lost);
	fmt_rate(sleeps, sizeof(sleeps), it, it->sleeps_s);
	fmt_rate(wakes, sizeof(wakes), it, it->wakes_s);
	/* a service's lanes are its clients' */
	add(line, &len, "%-10s %-20s %-7s %7s %7s %4s %6s %6s %6s %6s  ", shmid, name,
	    it->kind == TOP_LANE && e->item.kind == TOP_SERVICE ? "client" : kind_name(it->kind),
	    msgs, bytes, fill, lag, lost, sleeps, wakes);
	if (it->kind == TOP_SEGMENT)
		add_procs(line, &len, s, e);
	else
		add_sides(line, &len, it);
	/* the fixed columns may leave trailing blanks: none at the end */
	while (len && line[len - 1] == ' ')
		line[--len] = '\0';
}

struct emitter {
	size_t width, max, count;
	void (*emit)(const char *, void *);
	void *arg;
};

static void put(struct emitter *em, char *line)
{
	if (em->width && strlen(line) > em->width)
		line[em->width] = '\0';
	em->emit(line, em->arg);
	em->count++;
}

static void header(struct emitter *em, const struct top_snap *s, const struct top_view *v,
		   size_t shown)
{
	size_t n[TOP_LANE + 1] = { 0 }, len = 0;
	char line[LINE_MAX_BYTES], when[16];
	time_t t = (time_t)s->wall;
	struct tm tm;

	for (size_t k = 0; k < s->n; k++)
		n[s->entries[k].item.kind]++;
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	line[0] = '\0';
	add(line, &len, "shmkit top  %s  every %.3gs  %zu segments: %zu channels, %zu topics, "
	    "%zu inboxes, %zu services, %zu plain  read in %.2f ms", when,
	    (double)v->interval_ms / 1000, s->n, n[TOP_CHANNEL], n[TOP_TOPIC], n[TOP_INBOX],
	    n[TOP_SERVICE], n[TOP_SEGMENT], (double)s->read_ns / 1e6);
	put(em, line);
	len = 0;
	line[0] = '\0';
	add(line, &len, "sort: %s%s", top_sort_name(v->sort), v->reverse ? " (reversed)" : "");
	if (v->match) {
		char m[SAFE_CAP(64)];

		add(line, &len, "  match: %s (%zu of %zu)", safe_text(m, sizeof(m), v->match),
		    shown, s->n);
	}
	if (v->paused)
		add(line, &len, "  PAUSED");
	if (v->keys)
		add(line, &len, "   keys: q quit, s sort, r reverse, m members, p pause");
	put(em, line);
	snprintf(line, sizeof(line), "%-10s %-20s %-7s %7s %7s %4s %6s %6s %6s %6s  %s", "SHMID",
		 "NAME", "KIND", "MSG/S", "B/S", "FILL", "LAG", "LOST", "SLP/S", "WAKE/S",
		 "PIDS");
	put(em, line);
}

void top_lines(const struct top_snap *s, const struct top_view *v, size_t width,
	       size_t max_lines, void (*emit)(const char *line, void *arg), void *arg)
{
	struct emitter em = { width, max_lines, 0, emit, arg };
	char line[LINE_MAX_BYTES];
	size_t *order, n = top_order(s, v, &order), rows = 0, left;

	for (size_t k = 0; k < n; k++)
		rows += 1 + (v->members ? s->entries[order[k]].nmembers : 0);
	header(&em, s, v, n);
	left = rows;
	for (size_t k = 0; k < n; k++) {
		const struct top_entry *e = &s->entries[order[k]];
		size_t m = v->members ? e->nmembers : 0;

		for (size_t j = 0; j <= m; j++) {
			if (max_lines && em.count + 1 >= max_lines && left > 1) {
				snprintf(line, sizeof(line), "... %zu more rows", left);
				put(&em, line);
				free(order);
				return;
			}
			line[0] = '\0';
			item_line(line, s, e, j ? &e->members[j - 1] : &e->item);
			put(&em, line);
			left--;
		}
	}
	free(order);
}

/* ----------------------------------------------------------------- JSON */

static void json_rate(FILE *f, const char *key, const struct top_item *it, double v)
{
	if (it->rated)
		fprintf(f, ", \"%s\": %.3f", key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void json_item(FILE *f, const struct top_item *it)
{
	fprintf(f, "\"kind\": \"%s\"", kind_name(it->kind));
	if (!it->has_counts)
		return;
	fprintf(f, ", \"msgs\": %llu, \"bytes\": %llu, \"sleeps\": %llu, \"wakes\": %llu",
		(unsigned long long)it->msgs, (unsigned long long)it->bytes,
		(unsigned long long)it->sleeps, (unsigned long long)it->wakes);
	fprintf(f, ", \"used\": %llu, \"capacity\": %llu", (unsigned long long)it->used,
		(unsigned long long)it->capacity);
	if (it->has_lag)
		fprintf(f, ", \"lag\": %llu", (unsigned long long)it->lag);
	if (it->has_lost)
		fprintf(f, ", \"lost\": %llu", (unsigned long long)it->lost);
	json_rate(f, "msgs_per_s", it, it->msgs_s);
	json_rate(f, "bytes_per_s", it, it->bytes_s);
	json_rate(f, "sleeps_per_s", it, it->sleeps_s);
	json_rate(f, "wakes_per_s", it, it->wakes_s);
	if (it->has_lost)
		json_rate(f, "lost_per_s", it, it->lost_s);
	fprintf(f, ", \"sides\": [");
	for (int k = 0; k < it->nsides; k++)
		fprintf(f, "%s{\"role\": \"%s\", \"pid\": %d, \"alive\": %s}", k ? ", " : "",
			it->side[k].role, (int)it->side[k].pid, it->side[k].alive ? "true" : "false");
	fprintf(f, "]");
}

static void json_entry(FILE *f, const struct top_snap *s, const struct top_entry *e, int members)
{
	int first = 1;

	fprintf(f, "{\"shmid\": %d, \"key\": %d, \"name\": ", e->seg.shmid, (int)e->seg.key);
	if (e->seg.flags & SHMKIT_INFO_NAMED)
		json_str(f, e->seg.name);
	else
		fprintf(f, "null");
	fprintf(f, ", \"owner\": %u, \"mode\": %u, \"size\": %llu, \"nattch\": %llu, "
		"\"state\": \"%s\", ", (unsigned)e->seg.uid, e->seg.mode & 0777,
		(unsigned long long)e->seg.size, (unsigned long long)e->seg.nattch,
		state_name(e->seg.state));
	json_item(f, &e->item);
	fprintf(f, ", \"attached\": [");
	for (int k = 0; k < s->nprocs; k++) {
		if (s->procs[k].shmid != e->seg.shmid)
			continue;
		fprintf(f, "%s{\"pid\": %d, \"comm\": ", first ? "" : ", ", (int)s->procs[k].pid);
		json_str(f, s->procs[k].comm);
		fprintf(f, "}");
		first = 0;
	}
	fprintf(f, "], \"attached_partial\": %s", s->partial ? "true" : "false");
	if (members && e->item.kind != TOP_SEGMENT) {
		fprintf(f, ", \"members\": [");
		for (size_t k = 0; k < e->nmembers; k++) {
			fprintf(f, "%s{\"number\": %u, ", k ? ", " : "", (unsigned)e->members[k].number);
			json_item(f, &e->members[k]);
			fprintf(f, "}");
		}
		fprintf(f, "]");
	}
	fprintf(f, "}");
}

void top_json(FILE *f, const struct top_snap *s, const struct top_view *v)
{
	size_t *order, n = top_order(s, v, &order);

	fprintf(f, "{\"time\": %lld, \"interval_s\": ", (long long)s->wall);
	if (s->since_s > 0)
		fprintf(f, "%.3f", s->since_s);
	else
		fprintf(f, "null");
	fprintf(f, ", \"read_ms\": %.3f, \"count\": %zu, \"segments\": [",
		(double)s->read_ns / 1e6, n);
	for (size_t k = 0; k < n; k++) {
		fprintf(f, "%s", k ? ", " : "");
		json_entry(f, s, &s->entries[order[k]], v->members);
	}
	fprintf(f, "]}\n");
	free(order);
}
