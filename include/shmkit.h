/*
 * shmkit: System V shared memory made safe and visible.
 *
 * Conventions, once for the whole API:
 *  - Every function that can fail returns an int: 0 or a non-negative
 *    result on success, a negative errno (or a negative SHMKIT_E* code
 *    below) on failure. errno is never the channel for errors.
 *  - The library never prints and never exits.
 *  - Memory the library allocates for the caller is released with
 *    shmkit_free().
 */
#ifndef SHMKIT_H
#define SHMKIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/ipc.h>	/* key_t, also under strict ISO C */

#ifdef __cplusplus
extern "C" {
#endif

#define SHMKIT_VERSION_MAJOR 0
#define SHMKIT_VERSION_MINOR 1
#define SHMKIT_VERSION_PATCH 0

/* The version of the library actually linked, e.g. "0.1.0". */
const char *shmkit_version(void);

/*
 * Errors that have no errno of their own. Functions return them negated,
 * like errno values; shmkit_strerror() knows both kinds.
 */
enum shmkit_error {
	SHMKIT_EFOREIGN = 4096,	/* segment carries no shmkit header */
	SHMKIT_ECLASH,		/* name's key belongs to a segment of another name */
	SHMKIT_ESHMMAX,		/* size above the kernel limit kernel.shmmax */
	SHMKIT_ESHMMIN,		/* size below the kernel minimum (1 byte) */
	SHMKIT_ESHMALL,		/* system page total kernel.shmall reached */
	SHMKIT_ESHMMNI,		/* segment count kernel.shmmni reached */
	SHMKIT_EBADHDR,		/* shmkit header present but damaged */
	SHMKIT_ESMALLER,	/* existing segment smaller than the size asked */
};

/* Text for a negative (or positive) error code; never NULL. */
const char *shmkit_strerror(int err);

/* Releases memory the library returned (lists). NULL is fine. */
void shmkit_free(void *ptr);

/* ------------------------------------------------------------------ keys */

#define SHMKIT_NAME_MAX 63	/* longest name, without the terminating NUL */

enum shmkit_ref_kind {
	SHMKIT_REF_KEY = 1,	/* .key: a raw System V key, never IPC_PRIVATE */
	SHMKIT_REF_PATH,	/* .path and .proj (1..255): ftok(3) */
	SHMKIT_REF_NAME,	/* .name: a shmkit name, hashed to a key */
};

/* How a caller names a segment. Fill kind and the fields it uses. */
struct shmkit_ref {
	int kind;
	key_t key;
	const char *path;
	int proj;
	const char *name;
};

/* The one resolver: ref to key. -EINVAL for a malformed ref, -ENOENT etc.
 * from ftok for a path that cannot be looked up. */
int shmkit_key_resolve(const struct shmkit_ref *ref, key_t *key);

/* Parses a raw key: decimal, or hex with 0x. Rejects 0 (IPC_PRIVATE),
 * signs, junk and values beyond 32 bits with -EINVAL. */
int shmkit_key_parse(const char *text, key_t *key);

/* 0 if name is 1..SHMKIT_NAME_MAX characters of [A-Za-z0-9._-]. */
int shmkit_name_check(const char *name);

/*
 * The key of a name: 32-bit FNV-1a over the bytes "shmkit:" followed by
 * the name, with 0 (IPC_PRIVATE) mapped to 0x5348u. The name must be valid.
 */
key_t shmkit_name_key(const char *name);

/* -------------------------------------------------------------- segments */

#define SHMKIT_MODE_DEFAULT (-1)	/* means 0600: owner read and write */

enum shmkit_create_flags {
	SHMKIT_EXCL = 1 << 0,	 /* fail with -EEXIST if the key is taken */
	SHMKIT_PERSIST = 1 << 1, /* named only: keep when orphaned (gc skips it) */
};

enum shmkit_attach_flags {
	SHMKIT_RDONLY = 1 << 0,
};

/*
 * Creates a segment of size usable bytes, or opens the existing one with
 * that key (unless SHMKIT_EXCL). mode is 0..0777 or SHMKIT_MODE_DEFAULT.
 * A named segment gets a small header before its usable bytes; opening an
 * existing named one verifies the name. Returns the shmid.
 */
int shmkit_seg_create(const struct shmkit_ref *ref, size_t size, int mode,
		      unsigned flags);

/* Opens an existing segment; -ENOENT if none. Returns the shmid. */
int shmkit_seg_open(const struct shmkit_ref *ref);

/* A segment attached to this process. */
struct shmkit_map {
	int shmid;
	void *data;		/* first usable byte */
	size_t size;		/* usable bytes (segment size less any header) */
	void *base;		/* what shmat returned: the header, if any */
	int named;		/* 1 if the segment carries a shmkit header */
	char name[SHMKIT_NAME_MAX + 1];
};

/* Attaches read-write, or read-only with SHMKIT_RDONLY. */
int shmkit_seg_attach(int shmid, unsigned flags, struct shmkit_map *map);

/* Detaches what shmkit_seg_attach attached; map is cleared. */
int shmkit_seg_detach(struct shmkit_map *map);

/* Marks a segment for removal: the kernel frees it at the last detach. */
int shmkit_seg_remove(int shmid);

enum shmkit_seg_state {
	SHMKIT_STATE_INUSE = 1,	/* at least one process has it attached */
	SHMKIT_STATE_IDLE,	/* nobody attached, creator or last user alive */
	SHMKIT_STATE_ORPHAN,	/* nobody attached, creator and last user gone */
	SHMKIT_STATE_REMOVING,	/* marked for removal, still attached */
};

enum shmkit_info_flags {
	SHMKIT_INFO_REMOVING = 1 << 0,	/* marked for removal */
	SHMKIT_INFO_LOCKED = 1 << 1,	/* locked in memory (SHM_LOCK) */
	SHMKIT_INFO_NAMED = 1 << 2,	/* has a valid shmkit header */
	SHMKIT_INFO_PERSIST = 1 << 3,	/* header says: keep when orphaned */
	SHMKIT_INFO_UNREAD = 1 << 4,	/* header could not be read (access) */
	SHMKIT_INFO_CREATOR_ALIVE = 1 << 5,
	SHMKIT_INFO_LASTPID_ALIVE = 1 << 6,
};

/* Everything known about one segment, as stat and list report it. */
struct shmkit_seg_info {
	int shmid;
	key_t key;		/* 0 once the segment is marked for removal */
	uint64_t size;		/* bytes asked of the kernel (shm_segsz) */
	uint64_t alloc;		/* size rounded up to whole pages */
	uint64_t data_size;	/* usable bytes: size less any shmkit header */
	unsigned mode;		/* permission bits, 0..0777 */
	uid_t uid, cuid;	/* owner and creator */
	gid_t gid, cgid;
	uint64_t nattch;
	pid_t cpid;		/* creator */
	pid_t lpid;		/* last attach or detach */
	int64_t atime, dtime, ctime;	/* seconds since the epoch, 0 = never */
	unsigned flags;		/* SHMKIT_INFO_* */
	int state;		/* SHMKIT_STATE_* */
	char name[SHMKIT_NAME_MAX + 1];	/* "" unless SHMKIT_INFO_NAMED */
};

/*
 * Fills info for one segment. Reading a shmkit header means attaching
 * read-only for a moment; the figures reported are those from before.
 * The state is judged from the kernel's record and the header: a creator
 * is alive if its pid runs with the start time the header recorded (or,
 * without a header, started before the segment changed last); the calling
 * process never counts as the last user, since looking makes it one.
 */
int shmkit_seg_stat(int shmid, struct shmkit_seg_info *info);

/*
 * Every segment on the system, as a malloc'd array (release with
 * shmkit_free). Returns the count.
 */
int shmkit_seg_list(struct shmkit_seg_info **list);

/* A process that has a segment attached. */
struct shmkit_proc {
	int shmid;
	pid_t pid;
	char comm[16];
};

/*
 * The processes that have shmid attached (or, with shmid -1, every
 * attachment on the system), from /proc/PID/maps. Returns the count and
 * sets *partial to 1 if some process's maps could not be read.
 */
int shmkit_seg_procs(int shmid, struct shmkit_proc **procs, int *partial);

/* Kernel limits, from /proc/sys/kernel. */
struct shmkit_limits {
	uint64_t shmmax;	/* bytes in one segment */
	uint64_t shmall;	/* pages in all segments together */
	uint64_t shmmni;	/* number of segments */
	uint64_t page_size;
};

int shmkit_limits(struct shmkit_limits *lim);

#ifdef __cplusplus
}
#endif

#endif /* SHMKIT_H */
