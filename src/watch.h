/*
 * What shmkit top reads, in one look per segment (cli/top_read.c): the
 * list of segments, and each shmkit segment's counters from the same
 * read-only mapping. A refresh over 1,000 channels made two looks a
 * segment through the public calls (the list's, then the info's), and
 * a look's bookkeeping (its notes, src/look.h) is most of what reading
 * costs.
 */
#ifndef SHMKIT_WATCH_H
#define SHMKIT_WATCH_H

#include <stddef.h>

#include "shmkit.h"

/*
 * Called during the look at the k-th segment of the list, if it has a
 * valid shmkit header: info has its flags (the kind) and name, not yet
 * its state; base is the look's read-only mapping, valid until return.
 */
typedef void __shmkit_watch_fn(size_t k, const struct shmkit_seg_info *info, void *base,
			       void *arg);

/* shmkit_seg_list, calling fn (if not NULL) in each segment's look. */
int __shmkit_seg_list_watch(struct shmkit_seg_info **list, __shmkit_watch_fn *fn, void *arg);

/* The info calls without their own look: base is a look's mapping. */
int __shmkit_chan_info_at(int shmid, void *base, struct shmkit_chan_info *info);
int __shmkit_topic_info_at(int shmid, void *base, struct shmkit_topic_info *info,
			   struct shmkit_topic_sub_info *subs, size_t cap);
int __shmkit_inbox_info_at(int shmid, void *base, struct shmkit_inbox_info *info,
			   struct shmkit_inbox_lane_info *lanes, size_t cap);

#endif
