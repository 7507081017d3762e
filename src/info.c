/*
 * What is known about segments: stat of one, the list of all, and the
 * state each is in (in use, idle, orphan, being removed).
 */
#define _GNU_SOURCE	/* SHM_INFO, SHM_STAT, SHM_DEST, SHM_LOCKED */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "header.h"
#include "inbox.h"
#include "look.h"
#include "parse.h"
#include "proc.h"
#include "topic.h"
#include "shmkit.h"
#include "sys.h"
#include "util.h"
#include "watch.h"

/* The kernel keeps SHM_DEST and SHM_LOCKED in the mode word. */
static void set_mode(struct shmkit_seg_info *info, unsigned raw)
{
	info->mode = raw & 0777;
	if (raw & SHM_DEST)
		info->flags |= SHMKIT_INFO_REMOVING;
	if (raw & SHM_LOCKED)
		info->flags |= SHMKIT_INFO_LOCKED;
}

static void from_ds(struct shmkit_seg_info *info, int shmid, const struct shmid_ds *ds)
{
	memset(info, 0, sizeof(*info));
	info->shmid = shmid;
	info->key = ds->shm_perm.__key;
	info->size = ds->shm_segsz;
	info->uid = ds->shm_perm.uid;
	info->gid = ds->shm_perm.gid;
	info->cuid = ds->shm_perm.cuid;
	info->cgid = ds->shm_perm.cgid;
	info->nattch = ds->shm_nattch;
	info->cpid = ds->shm_cpid;
	info->lpid = ds->shm_lpid;
	info->atime = ds->shm_atime;
	info->dtime = ds->shm_dtime;
	info->ctime = ds->shm_ctime;
	set_mode(info, ds->shm_perm.mode);
}

/*
 * Adds what needs more than the kernel's record: the shmkit header (by a
 * brief read-only look, look.h), the last real use, liveness of creator
 * and last user, and the state. A segment we may not read keeps its
 * kernel record and says so.
 */
/* The reader called in each look of a list (src/watch.h), if any. */
struct watcher {
	__shmkit_watch_fn *fn;
	void *arg;
	size_t k;
};

static void complete(struct shmkit_seg_info *info, const struct watcher *w)
{
	struct __shmkit_hdr_view view = { 0 };
	struct __shmkit_last_use use = { info->lpid, info->atime, info->dtime, info->ctime };
	struct __shmkit_look lk;
	uint64_t page = __shmkit_page_size();
	int64_t last_use;
	int creator_alive, last_alive, pending = 0;

	info->alloc = (info->size + page - 1) / page * page;
	info->data_size = info->size;
	if (__shmkit_look_begin(info->shmid, &lk) < 0) {
		info->flags |= SHMKIT_INFO_UNREAD;
		__shmkit_look_resolve(info->shmid, &use);
	} else {
		use = lk.use;
		if (__shmkit_hdr_read(lk.base, info->size, info->key, &view) == 0) {
			info->flags |= SHMKIT_INFO_NAMED;
			if (view.flags & SHMKIT_HDR_PERSIST)
				info->flags |= SHMKIT_INFO_PERSIST;
			if (view.flags & SHMKIT_HDR_CHANNEL) {
				info->flags |= SHMKIT_INFO_CHANNEL;
				pending = __shmkit_chan_pending(info->shmid, lk.base,
								view.data_size);
			}
			if (view.flags & SHMKIT_HDR_INBOX) {
				info->flags |= SHMKIT_INFO_INBOX;
				pending = __shmkit_inbox_pending(info->shmid, lk.base,
								 view.data_size);
			}
			if (view.flags & SHMKIT_HDR_TOPIC) {
				info->flags |= SHMKIT_INFO_TOPIC;
				pending = __shmkit_topic_pending(info->shmid, lk.base,
								 view.data_size);
			}
			info->data_size = view.data_size;
			memcpy(info->name, view.name, sizeof(info->name));
			if (w && w->fn)
				w->fn(w->k, info, lk.base, w->arg);
		}
		__shmkit_look_end(info->shmid, &lk);
	}
	/* the last real use, not a look (ours or an earlier inspector's) */
	info->lpid = use.lpid;
	info->atime = use.atime;
	info->dtime = use.dtime;

	/*
	 * A bare pid can be recycled. The header records the creator's start
	 * time, which settles it; otherwise a process that started after the
	 * segment was made (or last used) cannot be the one that did it.
	 */
	if (info->flags & SHMKIT_INFO_NAMED)
		creator_alive = __shmkit_proc_is(view.creator_pid, view.creator_start);
	else
		creator_alive = __shmkit_proc_alive_before(info->cpid, info->ctime);
	last_use = info->atime > info->dtime ? info->atime : info->dtime;
	last_alive = info->lpid > 0 && __shmkit_proc_alive_before(info->lpid, last_use);
	if (creator_alive)
		info->flags |= SHMKIT_INFO_CREATOR_ALIVE;
	if (last_alive)
		info->flags |= SHMKIT_INFO_LASTPID_ALIVE;

	if (info->flags & SHMKIT_INFO_REMOVING)
		info->state = SHMKIT_STATE_REMOVING;
	else if (info->nattch > 0)
		info->state = SHMKIT_STATE_INUSE;
	else if (pending)
		info->state = SHMKIT_STATE_PENDING;
	else if (creator_alive || last_alive)
		info->state = SHMKIT_STATE_IDLE;
	else
		info->state = SHMKIT_STATE_ORPHAN;
}

SHMKIT_EXPORT
int shmkit_seg_stat(int shmid, struct shmkit_seg_info *info)
{
	struct shmid_ds ds;
	int err;

	if (!info || shmid < 0)
		return -EINVAL;
	if ((err = __shmkit_shmctl(shmid, IPC_STAT, &ds)) < 0)
		return err;
	from_ds(info, shmid, &ds);
	complete(info, NULL);
	return 0;
}

struct list {
	struct shmkit_seg_info *items;
	size_t count, cap;
};

static int list_add(struct list *l, const struct shmkit_seg_info *info)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->items, cap * sizeof(*l->items));
		if (!p)
			return -ENOMEM;
		l->items = p;
		l->cap = cap;
	}
	l->items[l->count++] = *info;
	return 0;
}

/*
 * One row of /proc/sysvipc/shm: key shmid perms size cpid lpid nattch uid
 * gid cuid cgid atime dtime ctime [rss swap]. Returns 0, or -EINVAL for a
 * row that does not parse (the heading, or a format we do not know).
 */
int __shmkit_parse_sysvipc_row(const char *line, struct shmkit_seg_info *info)
{
	long long key;
	int shmid, cpid, lpid;
	unsigned perms, uid, gid, cuid, cgid;
	unsigned long long size, nattch;
	long long atime, dtime, ctime;

	if (sscanf(line, "%lld %d %o %llu %d %d %llu %u %u %u %u %lld %lld %lld",
		   &key, &shmid, &perms, &size, &cpid, &lpid, &nattch, &uid, &gid,
		   &cuid, &cgid, &atime, &dtime, &ctime) != 14)
		return -EINVAL;
	if (shmid < 0 || key < INT32_MIN || key > UINT32_MAX)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->shmid = shmid;
	info->key = (key_t)(uint32_t)key;
	info->size = size;
	info->cpid = cpid;
	info->lpid = lpid;
	info->nattch = nattch;
	info->uid = uid;
	info->gid = gid;
	info->cuid = cuid;
	info->cgid = cgid;
	info->atime = atime;
	info->dtime = dtime;
	info->ctime = ctime;
	set_mode(info, perms);
	return 0;
}

static int list_from_proc(struct list *l)
{
	struct shmkit_seg_info info;
	char line[512];
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	int err = 0;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (__shmkit_parse_sysvipc_row(line, &info) < 0)
			continue;
		if ((err = list_add(l, &info)) < 0)
			break;
	}
	fclose(f);
	return err;
}

/* Without /proc: walk the kernel's index with SHM_STAT. */
static int list_from_shmctl(struct list *l)
{
	struct shm_info si;
	struct shmid_ds ds;
	struct shmkit_seg_info info;
	int max, i, id, err;
#ifdef SHM_STAT_ANY
	int stat_cmd = SHM_STAT_ANY;
#else
	int stat_cmd = SHM_STAT;
#endif

	max = __shmkit_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si);
	if (max < 0)
		return max;
	for (i = 0; i <= max; i++) {
		/* valgrind does not know SHM_STAT_ANY fills ds: give it defined bytes */
		memset(&ds, 0, sizeof(ds));
		/* SHM_STAT_ANY (Linux 4.17) lists even what we may not read */
		id = __shmkit_shmctl(i, stat_cmd, &ds);
		if (id == -EINVAL && stat_cmd != SHM_STAT) {
			stat_cmd = SHM_STAT;
			id = __shmkit_shmctl(i, stat_cmd, &ds);
		}
		if (id < 0)
			continue;
		from_ds(&info, id, &ds);
		if ((err = list_add(l, &info)) < 0)
			return err;
	}
	return 0;
}

int __shmkit_seg_list_from(int source, struct shmkit_seg_info **out, __shmkit_watch_fn *fn,
			   void *arg)
{
	struct watcher w = { fn, arg, 0 };
	struct list l = { 0 };
	size_t i;
	int err;

	err = source == SHMKIT_LIST_PROC ? list_from_proc(&l) : list_from_shmctl(&l);
	if (err < 0) {
		free(l.items);
		return err;
	}
	for (i = 0; i < l.count; i++) {
		w.k = i;
		complete(&l.items[i], &w);
	}
	/* for a list without a segment to look at, the looks' prune */
	__shmkit_look_prune();
	*out = l.items;
	return (int)l.count;
}

int __shmkit_seg_list_watch(struct shmkit_seg_info **out, __shmkit_watch_fn *fn, void *arg)
{
	int n;

	if (!out)
		return -EINVAL;
	n = __shmkit_seg_list_from(SHMKIT_LIST_PROC, out, fn, arg);
	if (n == -ENOENT || n == -EACCES)
		n = __shmkit_seg_list_from(SHMKIT_LIST_SHMCTL, out, fn, arg);
	return n;
}

SHMKIT_EXPORT
int shmkit_seg_list(struct shmkit_seg_info **out)
{
	return __shmkit_seg_list_watch(out, NULL, NULL);
}
