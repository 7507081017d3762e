/*
 * Segments: create, open, attach, detach, remove. Raw segments (from a key
 * or a path) are exactly what shmget makes: all bytes are the user's.
 * Named segments carry a header (header.h) before the user's bytes, which
 * records the name so that opening by name can verify it.
 */
#define _GNU_SOURCE	/* SHM_DEST */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "header.h"
#include "look.h"
#include "proc.h"
#include "seg.h"
#include "shmkit.h"
#include "sys.h"
#include "util.h"

/*
 * How often to look a name up again when its segment is removed between
 * the lookup and the look or attach that follows (the shmid then fails
 * with EINVAL or EIDRM, or is marked for removal): a new one may be made
 * under the name meanwhile, or it is gone for good (-ENOENT). Only a name
 * made and removed over and over by others, for every one of these tries,
 * makes a create give up (-EAGAIN); each try yields the CPU first, so that
 * whoever is in the middle of making or removing it can finish.
 */
#define RACE_TRIES 1000

/* How long an opener waits for a live creator to publish a fresh header. */
#define HDR_WAIT_NS (500 * 1000 * 1000L)
#define HDR_POLL_NS (1000 * 1000L)

/* How often an open that waits for a name to be made looks again: see
   __shmkit_open_wait. */
#define MADE_NAP_MIN_NS (1000 * 1000ull)
#define MADE_NAP_MAX_NS (20 * 1000 * 1000ull)

static int check_size(uint64_t segsz)
{
	struct shmkit_limits lim;
	uint64_t pages;

	if (segsz == 0)
		return -SHMKIT_ESHMMIN;
	if (shmkit_limits(&lim) < 0)
		return 0; /* let the kernel judge */
	if (segsz > lim.shmmax)
		return -SHMKIT_ESHMMAX;
	pages = segsz / lim.page_size + (segsz % lim.page_size != 0);
	if (pages > lim.shmall)
		return -SHMKIT_ESHMALL;
	return 0;
}

/*
 * shmget says ENOSPC for both of two limits. The kernel checks the page
 * total (shmall) first, then the segment count (shmmni); SHM_INFO gives
 * its own two figures for this namespace, with no permission needed and
 * nothing attached (a look at each segment would make this process every
 * segment's last user in the kernel's record). What is counted can change
 * under us; the answer is a best explanation.
 */
static int explain_enospc(uint64_t segsz)
{
	struct shm_info si;
	struct shmkit_limits lim;
	uint64_t pages, tot;

	memset(&si, 0, sizeof(si));
	if (shmkit_limits(&lim) < 0 ||
	    __shmkit_shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&si) < 0)
		return -SHMKIT_ESHMALL;
	pages = segsz / lim.page_size + (segsz % lim.page_size != 0);
	tot = si.shm_tot;
	if (tot + pages < tot || tot + pages > lim.shmall)
		return -SHMKIT_ESHMALL;
	if (si.used_ids >= 0 && (uint64_t)si.used_ids >= lim.shmmni)
		return -SHMKIT_ESHMMNI;
	return -SHMKIT_ESHMALL;
}

static int seg_size(int shmid, uint64_t *segsz, key_t *key, pid_t *cpid)
{
	struct shmid_ds ds;
	int err = __shmkit_shmctl(shmid, IPC_STAT, &ds);

	if (err < 0)
		return err;
	*segsz = ds.shm_segsz;
	if (key)
		*key = ds.shm_perm.__key;
	if (cpid)
		*cpid = ds.shm_cpid;
	return 0;
}

/*
 * Reads the header of an attached segment. A creator publishes its header
 * just after shmget, so when the caller expects a header (grace), a
 * segment with no magic yet whose creator still runs gets a short grace
 * period before it is called foreign.
 */
static int read_header(const void *base, int shmid, int grace,
		       struct __shmkit_hdr_view *view)
{
	struct timespec nap = { 0, HDR_POLL_NS };
	uint64_t segsz;
	key_t key;
	pid_t cpid;
	long waited = 0;
	int err, creator_alive;

	for (;;) {
		err = seg_size(shmid, &segsz, &key, &cpid);
		if (err < 0)
			return err;
		/*
		 * Liveness first, header second: a creator seen alive before a
		 * read that found no magic may still publish, so look again; one
		 * seen dead has published all it ever will.
		 */
		creator_alive = grace && __shmkit_proc_alive_before(cpid, 0);
		err = __shmkit_hdr_read(base, segsz, key, view);
		if (err != -SHMKIT_EFOREIGN || !creator_alive || waited >= HDR_WAIT_NS)
			return err;
		nanosleep(&nap, NULL);
		waited += HDR_POLL_NS;
	}
}

/* Opens shmid by name: the header must be there and carry this name. */
static int verify_name(int shmid, const char *name)
{
	struct __shmkit_hdr_view view;
	struct __shmkit_look lk;
	int err = __shmkit_look_begin(shmid, &lk);

	if (err < 0)
		return err;
	err = read_header(lk.base, shmid, 1, &view);
	__shmkit_look_end(shmid, &lk);
	if (err == -SHMKIT_EFOREIGN)
		return -SHMKIT_ECLASH;
	if (err < 0)
		return err;
	return strcmp(view.name, name) == 0 ? 0 : -SHMKIT_ECLASH;
}

/* Did the segment go away under us (removed, or being removed)? */
static int vanished(int err)
{
	return err == -EINVAL || err == -EIDRM;
}

/*
 * A named segment found by its name is used only if the caller made it
 * and still owns it, with no permission bits beyond mode (0777: any).
 * Both uid and cuid count: a creator may hand the owner's uid to anyone
 * (IPC_SET) and keeps its own rights through cuid.
 */
static int trusted(const struct ipc_perm *perm, int mode)
{
	uid_t me = geteuid();

	if (perm->uid != me || perm->cuid != me || (perm->mode & 0777 & ~(unsigned)mode))
		return -SHMKIT_EUNTRUSTED;
	return 0;
}

/* The same, for a shmid: from the kernel's record now. */
static int check_trust(int shmid, int mode)
{
	struct shmid_ds ds;
	int err = __shmkit_shmctl(shmid, IPC_STAT, &ds);

	return err < 0 ? err : trusted(&ds.shm_perm, mode);
}

/*
 * Writes a fresh segment's header; init, if given, first fills the user's
 * bytes, so that whoever sees the header's magic sees those too.
 */
static int init_named(int shmid, const char *name, uint64_t data_size,
		      uint32_t hdr_flags, __shmkit_init_fn init, void *arg)
{
	void *base = NULL;
	int err = __shmkit_shmat(shmid, 0, &base);

	if (err < 0)
		return err;
	if (init)
		init((char *)base + SHMKIT_HDR_SIZE, data_size, arg);
	__shmkit_hdr_init(base, name, data_size, hdr_flags);
	return __shmkit_shmdt(base);
}

/*
 * The key exists: open it, then check it is the one asked for. -EAGAIN if
 * it went away meanwhile (the caller tries to make it again).
 */
static int open_existing(key_t key, const struct shmkit_ref *ref, uint64_t segsz,
			 int mode, unsigned flags)
{
	int named = ref->kind == SHMKIT_REF_NAME;
	struct shmid_ds ds;
	int err, shmid = __shmkit_shmget(key, 0, 0);

	if (shmid == -ENOENT)
		return -EAGAIN;
	if (shmid < 0)
		return shmid;
	if (named && (err = verify_name(shmid, ref->name)) < 0)
		return vanished(err) ? -EAGAIN : err;
	/* one look at the kernel's record serves the owner and the size */
	if ((err = __shmkit_shmctl(shmid, IPC_STAT, &ds)) < 0)
		return vanished(err) ? -EAGAIN : err;
	if (named && !(flags & SHMKIT_SHARED) && (err = trusted(&ds.shm_perm, mode)) < 0)
		return err;
	if (ds.shm_segsz < segsz)
		return -SHMKIT_ESMALLER;
	return shmid;
}

/*
 * One attempt to make the segment, or to open the one that exists. Sets
 * *created to 1 only when this call's shmget made it: of processes racing
 * for one key, IPC_EXCL lets exactly one do that.
 */
static int make_once(key_t key, const struct shmkit_ref *ref, uint64_t segsz,
		     size_t size, int mode, unsigned flags, uint32_t hdr_flags,
		     __shmkit_init_fn init, void *arg, int *created)
{
	int err, shmid;

	*created = 0;

	/*
	 * The limits are for making a segment. As with shmget, an existing
	 * one is still opened (or, with SHMKIT_EXCL, reported as existing)
	 * whatever they say now; its own size is checked below.
	 */
	if ((err = check_size(segsz)) < 0) {
		if (__shmkit_shmget(key, 0, 0) < 0)
			return err;
		shmid = -EEXIST;
	} else {
		shmid = __shmkit_shmget(key, segsz, IPC_CREAT | IPC_EXCL | mode);
	}
	if (shmid >= 0) {
		if (ref->kind == SHMKIT_REF_NAME &&
		    (err = init_named(shmid, ref->name, size, hdr_flags, init, arg)) < 0) {
			__shmkit_shmctl(shmid, IPC_RMID, NULL);
			return err;
		}
		*created = 1;
		return shmid;
	}
	if (shmid == -ENOSPC)
		return explain_enospc(segsz);
	if (shmid != -EEXIST || (flags & SHMKIT_EXCL))
		return shmid;
	return open_existing(key, ref, segsz, mode, flags);
}

int __shmkit_seg_make(const struct shmkit_ref *ref, size_t size, int mode,
		     unsigned flags, uint32_t hdr_flags, __shmkit_init_fn init,
		     void *arg, int *created)
{
	int named = ref && ref->kind == SHMKIT_REF_NAME;
	uint64_t segsz = size;
	key_t key;
	int err, tries, shmid = -EAGAIN, made = 0;

	if (mode == SHMKIT_MODE_DEFAULT)
		mode = 0600;
	if (mode < 0 || mode > 0777 ||
	    (flags & ~(SHMKIT_EXCL | SHMKIT_PERSIST | SHMKIT_SHARED)))
		return -EINVAL;
	if ((flags & SHMKIT_PERSIST) && !named)
		return -EINVAL; /* a raw segment has no header to record it in */
	if ((err = shmkit_key_resolve(ref, &key)) < 0)
		return err;
	if (size == 0)
		return -SHMKIT_ESHMMIN;
	if (named) {
		if (segsz > UINT64_MAX - SHMKIT_HDR_SIZE)
			return -SHMKIT_ESHMMAX;
		segsz += SHMKIT_HDR_SIZE;
		if (flags & SHMKIT_PERSIST)
			hdr_flags |= SHMKIT_HDR_PERSIST;
	}
	for (tries = 0; tries < RACE_TRIES && shmid == -EAGAIN; tries++) {
		if (tries)
			sched_yield();
		shmid = make_once(key, ref, segsz, size, mode, flags, hdr_flags, init, arg,
				  &made);
	}
	if (created)
		*created = made;
	return shmid;
}

SHMKIT_EXPORT
int shmkit_seg_create(const struct shmkit_ref *ref, size_t size, int mode,
		      unsigned flags)
{
	return __shmkit_seg_make(ref, size, mode, flags, 0, NULL, NULL, NULL);
}

int __shmkit_seg_header(int shmid, const void *base, struct __shmkit_hdr_view *view)
{
	return read_header(base, shmid, 0, view);
}

/* One lookup by ref; -EAGAIN if the segment went away during it. */
static int open_once(const struct shmkit_ref *ref, key_t key)
{
	int err, shmid = __shmkit_shmget(key, 0, 0);

	if (shmid < 0)
		return shmid;
	if (ref->kind == SHMKIT_REF_NAME && (err = verify_name(shmid, ref->name)) < 0)
		return vanished(err) ? -EAGAIN : err;
	return shmid;
}

SHMKIT_EXPORT
int shmkit_seg_open(const struct shmkit_ref *ref)
{
	key_t key;
	int err, tries, shmid = -EAGAIN;

	if ((err = shmkit_key_resolve(ref, &key)) < 0)
		return err;
	for (tries = 0; tries < RACE_TRIES && shmid == -EAGAIN; tries++) {
		if (tries)
			sched_yield();
		shmid = open_once(ref, key);
	}
	return shmid;
}

/* Is the segment marked for removal? 1, 0, or a negative errno. */
static int removing(int shmid)
{
	struct shmid_ds ds;
	int err = __shmkit_shmctl(shmid, IPC_STAT, &ds);

	return err < 0 ? err : !!(ds.shm_perm.mode & SHM_DEST);
}

int __shmkit_seg_attach_name(const char *name, unsigned flags, int trust_mode,
			     struct shmkit_map *map)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };
	int err = -EAGAIN, tries, shmid;

	for (tries = 0; tries < RACE_TRIES && err == -EAGAIN; tries++) {
		if (tries)
			sched_yield();
		if ((shmid = shmkit_seg_open(&ref)) < 0)
			return shmid;
		if (trust_mode >= 0 && (err = check_trust(shmid, trust_mode)) < 0) {
			err = vanished(err) ? -EAGAIN : err;
			continue;
		}
		if ((err = shmkit_seg_attach(shmid, flags, map)) < 0) {
			err = vanished(err) ? -EAGAIN : err;
			continue;
		}
		/*
		 * Attached, but perhaps to a segment removed meanwhile, which
		 * lives on for those attached and nobody else can find: a
		 * producer would write into it for ever.
		 */
		if ((err = removing(shmid)) != 0) {
			shmkit_seg_detach(map);
			err = err > 0 || vanished(err) ? -EAGAIN : err;
		}
	}
	return err == -EAGAIN ? -ENOENT : err;
}

SHMKIT_EXPORT
int shmkit_seg_attach(int shmid, unsigned flags, struct shmkit_map *map)
{
	struct __shmkit_hdr_view view;
	uint64_t segsz;
	key_t key;
	void *base = NULL;
	int err;

	if (!map || shmid < 0 || (flags & ~SHMKIT_RDONLY))
		return -EINVAL;
	if ((err = __shmkit_shmat(shmid, (flags & SHMKIT_RDONLY) ? SHM_RDONLY : 0,
				  &base)) < 0)
		return err;
	if ((err = seg_size(shmid, &segsz, &key, NULL)) < 0) {
		__shmkit_shmdt(base);
		return err;
	}
	memset(map, 0, sizeof(*map));
	map->shmid = shmid;
	map->base = base;
	/*
	 * Without a valid header every byte is the user's, even if the first
	 * ones happen to look like a header: a raw segment is never refused.
	 */
	if (__shmkit_hdr_read(base, segsz, key, &view) == 0) {
		map->named = 1;
		map->data = (char *)base + SHMKIT_HDR_SIZE;
		map->size = (size_t)view.data_size;
		memcpy(map->name, view.name, sizeof(map->name));
	} else {
		map->data = base;
		map->size = (size_t)segsz;
	}
	return 0;
}

SHMKIT_EXPORT
int shmkit_seg_detach(struct shmkit_map *map)
{
	int err;

	if (!map || !map->base)
		return -EINVAL;
	err = __shmkit_shmdt(map->base);
	if (err == 0)
		memset(map, 0, sizeof(*map));
	return err;
}

SHMKIT_EXPORT
int shmkit_seg_remove(int shmid)
{
	int err;

	if (shmid < 0)
		return -EINVAL;
	err = __shmkit_shmctl(shmid, IPC_RMID, NULL);
	if (err == 0)
		__shmkit_look_forget(shmid);
	return err;
}

int __shmkit_seg_make_checked(const char *name, size_t size, int mode, unsigned flags,
			      uint32_t hdr_flags, __shmkit_init_fn init, void *init_arg,
			      __shmkit_check_fn check, void *check_arg)
{
	return __shmkit_seg_make_checked_created(name, size, mode, flags, hdr_flags, init,
						 init_arg, check, check_arg, NULL);
}

int __shmkit_seg_make_checked_created(const char *name, size_t size, int mode, unsigned flags,
				      uint32_t hdr_flags, __shmkit_init_fn init, void *init_arg,
				      __shmkit_check_fn check, void *check_arg, int *created)
{
	struct shmkit_ref ref = { .kind = SHMKIT_REF_NAME, .name = name };
	struct shmkit_map map;
	int shmid = -ENOENT, err = -ENOENT, made = 0;
	int trust = (flags & SHMKIT_SHARED) ? -1 : mode == SHMKIT_MODE_DEFAULT ? 0600 : mode;

	/* removed between the two steps: make it again (a few times) */
	for (int tries = 0; tries < 16 && err == -ENOENT; tries++) {
		shmid = __shmkit_seg_make(&ref, size, mode, flags, hdr_flags, init, init_arg,
					  &made);
		if (shmid < 0 && shmid != -SHMKIT_ESMALLER)
			return shmid;
		/* made now, or it existed: then it must be of the kind asked for */
		err = __shmkit_seg_attach_name(name, SHMKIT_RDONLY, trust, &map);
		if (err < 0)
			continue;
		err = check(&map, check_arg);
		/*
		 * Ours only if the name still leads to the segment we made: it
		 * may have been removed, and made again by another, meanwhile.
		 */
		made = made && map.shmid == shmid;
		shmid = map.shmid;
		shmkit_seg_detach(&map);
	}
	if (err == 0 && created)
		*created = made;
	return err < 0 ? err : shmid;
}

/*
 * Is the segment under name's key still being made: no header yet, and
 * its creator runs? read_header's grace, asked once: the creator
 * publishes the header just after shmget, so such a segment is one on its
 * way, not one of another name (unless its creator stalls there for
 * good, or made a raw segment under the key, which only time tells).
 */
static int unborn(const char *name)
{
	struct __shmkit_hdr_view view;
	struct __shmkit_look lk;
	int shmid, alive, err;

	if (shmkit_name_check(name) < 0 ||
	    (shmid = __shmkit_shmget(shmkit_name_key(name), 0, 0)) < 0)
		return 0;
	if (__shmkit_look_begin(shmid, &lk) < 0)
		return 0;
	/* liveness first, header second, as in read_header */
	alive = __shmkit_proc_alive_before(lk.cpid, 0);
	err = __shmkit_hdr_read(lk.base, lk.segsz, lk.key, &view);
	__shmkit_look_end(shmid, &lk);
	return err == -SHMKIT_EFOREIGN && alive;
}

/*
 * Does err, from opening name, say that name is not made yet? A clash is
 * a segment without the header the name needs: the open gave a live
 * creator read_header's grace to publish it, and this asks whether it is
 * on its way still.
 */
static int not_made_yet(const char *name, int err)
{
	return err == -ENOENT || (err == -SHMKIT_ECLASH && unborn(name));
}

static void nap(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

	nanosleep(&ts, NULL);	/* a signal cuts it short: the caller looks again */
}

int __shmkit_open_wait(const char *name, int timeout_ms, __shmkit_open_fn try_open,
		       void *arg)
{
	uint64_t now = __shmkit_now_ns(), deadline, gap = MADE_NAP_MIN_NS;
	int err;

	deadline = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms * 1000000u;
	/*
	 * The kernel tells nobody when a System V segment is made: no inotify
	 * for keys, and a futex needs the memory first. So looking again is
	 * the honest way; from 1 ms, doubling to 20 ms, the first looks come
	 * soon after a creator that is on its way, and a long wait costs 50
	 * looks a second.
	 */
	for (;;) {
		err = try_open(name, arg);
		if (timeout_ms == 0 || !not_made_yet(name, err))
			return err;
		now = __shmkit_now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		nap(deadline - now < gap ? deadline - now : gap);
		gap = 2 * gap < MADE_NAP_MAX_NS ? 2 * gap : MADE_NAP_MAX_NS;
	}
}
