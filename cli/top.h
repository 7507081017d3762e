/*
 * shmkit top: what one refresh reads (cli/top_read.c), and how it is
 * shown (cli/top_show.c); cli/top.c runs the refreshes and the keys.
 *
 * Every kind of segment is read into the same shape, an item, so sorting
 * and showing never look at the kind: a channel, a topic, an inbox or a
 * service is an item, and so is each of a topic's subscribers and each
 * of an inbox's lanes in use (members, listed under their segment). A
 * plain segment is an item with no counters. Counters are the totals the
 * segment holds; rates come from two refreshes of the same item.
 */
#ifndef SHMKIT_CLI_TOP_H
#define SHMKIT_CLI_TOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "shmkit.h"

enum top_kind {
	TOP_SEGMENT,		/* plain: no shmkit header we read counters from */
	TOP_CHANNEL,
	TOP_TOPIC,
	TOP_INBOX,
	TOP_SERVICE,
	TOP_SUB,		/* a topic's subscriber */
	TOP_LANE,		/* an inbox's lane (a service's: a client's) */
};

/* A process on one side of an item: "prod", "cons", "pub", "srv"... */
struct top_side {
	const char *role;
	pid_t pid;		/* 0: nobody holds this side */
	int alive;
};

/* What one refresh read of an item, and what two make of it. */
struct top_item {
	enum top_kind kind;
	/* counters: totals, as the segment holds them */
	uint64_t msgs, bytes;	/* written into it (a subscriber: read by it) */
	uint64_t sleeps, wakes, lost;
	uint64_t used, capacity;	/* fill; capacity 0 when it has none */
	uint64_t lag;		/* messages written and not yet read */
	unsigned has_counts : 1, has_lag : 1, has_lost : 1;
	struct top_side side[2];
	int nsides;
	/* a member's identity between refreshes: lane number, or subscriber pid
	 * and its rank among that pid's subscribers */
	uint64_t ident;
	uint32_t number;	/* a member's lane number, or subscriber place in the list */
	/* per second, from the previous refresh; rated 0 when unknown */
	int rated;
	double msgs_s, bytes_s, sleeps_s, wakes_s, lost_s;
};

/* One segment of a refresh, with its members. */
struct top_entry {
	struct shmkit_seg_info seg;
	struct top_item item;
	struct top_item *members;	/* malloc'd, nmembers */
	size_t nmembers;
};

/* One refresh. */
struct top_snap {
	uint64_t when_ns;	/* monotonic, when the read began */
	uint64_t read_ns;	/* how long the read took */
	int64_t wall;		/* seconds since the epoch, for the header */
	double since_s;		/* seconds since the refresh the rates come from; 0: none */
	struct top_entry *entries;
	size_t n;
	struct shmkit_proc *procs;	/* every attachment (plain segments show them) */
	int nprocs, partial;
};

/*
 * Reads every segment of this IPC namespace into s (0, or the library's
 * error). Read-only: each segment is looked at as shmkit ls does (a
 * read-only attach for a moment), nothing is written into it and no lock
 * is taken. prev, if not NULL, is the refresh before: rates come from it.
 */
int top_read(struct top_snap *s, const struct top_snap *prev);
void top_snap_free(struct top_snap *s);

/* How the rows are ordered (cli/top_show.c). */
enum top_sort { SORT_MSGS, SORT_BYTES, SORT_FILL, SORT_LAG, SORT_NAME, SORT_COUNT };

struct top_view {
	enum top_sort sort;
	int reverse;		/* the other way from each key's natural order */
	int members;		/* list subscribers and lanes under their segment */
	const char *match;	/* fnmatch pattern on the name (or shmid), or NULL */
	int64_t interval_ms;
	int paused;
	int keys;		/* a terminal: the header names the keys */
};

const char *top_sort_name(enum top_sort sort);
/* The key named text ("msgs", "bytes", "fill", "lag", "name"), or -1. */
int top_sort_parse(const char *text);

/*
 * The entries of s that the view's pattern lets through, in its order:
 * an array of indices into s->entries (malloc'd; NULL if none) and count.
 */
size_t top_order(const struct top_snap *s, const struct top_view *v, size_t **order);

/*
 * The screen as lines: the header and the table, members included, each
 * line without newline, cut to width columns (0: not cut). emit is called
 * once a line; at most max_lines lines (0: all), the last saying how many
 * rows did not fit.
 */
void top_lines(const struct top_snap *s, const struct top_view *v, size_t width,
	       size_t max_lines, void (*emit)(const char *line, void *arg), void *arg);

/* One refresh as one JSON object on one line (documented in shmkit(1)). */
void top_json(FILE *f, const struct top_snap *s, const struct top_view *v);

#endif
