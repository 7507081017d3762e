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
 *  - Reads that attach to look at a header (seg_stat, seg_list, chan_info,
 *    opening by name) leave a small note in /dev/shm/shmkit-looks-UID/;
 *    see shmkit(7).
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
	SHMKIT_ENOTCHAN,	/* segment is not a channel (or another version) */
	SHMKIT_ECORRUPT,	/* channel or topic state in the segment is inconsistent */
	SHMKIT_EEOF,		/* end of stream: the producer closed, all read */
	SHMKIT_EPEERDEAD,	/* the other side died without closing */
	SHMKIT_EUNTRUSTED,	/* another user's segment, or more open than asked */
	SHMKIT_EABORTED,	/* end of stream: the producer ended by error */
	SHMKIT_ENOTTOPIC,	/* segment is not a topic (or another version) */
	SHMKIT_ELOST,		/* messages were overwritten before this subscriber read them */
	SHMKIT_ENOTINBOX,	/* segment is not an inbox (or another version) */
	SHMKIT_ENOTSERVICE,	/* segment is not a service (or another version) */
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
	/*
	 * Named only: accept an existing segment of another owner, or with
	 * more permission bits than mode. Without it such a segment is refused
	 * with -SHMKIT_EUNTRUSTED: anyone may make a segment under any name
	 * first, and read or forge what its victim then puts in.
	 */
	SHMKIT_SHARED = 1 << 2,
};

enum shmkit_attach_flags {
	SHMKIT_RDONLY = 1 << 0,
};

/*
 * Creates a segment of size usable bytes, or opens the existing one with
 * that key (unless SHMKIT_EXCL). mode is 0..0777 or SHMKIT_MODE_DEFAULT.
 * A named segment gets a small header before its usable bytes; opening an
 * existing named one verifies the name, and that the caller's effective
 * uid owns and created it with no permission bits beyond mode (unless
 * SHMKIT_SHARED). Raw segments (key, path) are taken as they are, as
 * shmget does. Returns the shmid.
 */
int shmkit_seg_create(const struct shmkit_ref *ref, size_t size, int mode,
		      unsigned flags);

/*
 * Finds an existing segment; -ENOENT if none. Returns the shmid. A lookup,
 * for inspecting too: it does not judge the owner (compare the uid and
 * mode of shmkit_seg_stat before trusting it, or use shmkit_seg_create).
 */
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
	/*
	 * A channel nobody has attached whose producer has closed, and that
	 * no consumer has closed since: its messages, or at least its end,
	 * wait for one (a sender that went first). Kept by gc.
	 */
	SHMKIT_STATE_PENDING,
};

enum shmkit_info_flags {
	SHMKIT_INFO_REMOVING = 1 << 0,	/* marked for removal */
	SHMKIT_INFO_LOCKED = 1 << 1,	/* locked in memory (SHM_LOCK) */
	SHMKIT_INFO_NAMED = 1 << 2,	/* has a valid shmkit header */
	SHMKIT_INFO_PERSIST = 1 << 3,	/* header says: keep when orphaned */
	SHMKIT_INFO_UNREAD = 1 << 4,	/* header could not be read (access) */
	SHMKIT_INFO_CREATOR_ALIVE = 1 << 5,
	SHMKIT_INFO_LASTPID_ALIVE = 1 << 6,
	SHMKIT_INFO_CHANNEL = 1 << 7,	/* the segment holds a channel */
	SHMKIT_INFO_TOPIC = 1 << 8,	/* the segment holds a topic */
	SHMKIT_INFO_INBOX = 1 << 9,	/* the segment holds an inbox */
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
 * without a header, started before the segment changed last). Such a
 * look, by this or any process using shmkit, does not count as a use: the
 * last user and the times stay those from before it.
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

/* -------------------------------------------------------------- channels */

/*
 * A channel is a message ring inside one named segment: one producer and
 * one consumer, each in its own process (or thread), messages of 0 to
 * max_msg bytes delivered whole, in order, once. See chan.c for the
 * protocol and its memory ordering.
 */
struct shmkit_chan;

enum shmkit_chan_role {
	SHMKIT_PRODUCER = 1,
	SHMKIT_CONSUMER = 2,
};

enum shmkit_wait_policy {
	SHMKIT_WAIT_BLOCK = 0,	/* spin briefly, then sleep on a futex (default) */
	SHMKIT_WAIT_SPIN,	/* spin only: lowest latency, burns a core */
	SHMKIT_WAIT_NONE,	/* never wait: every call acts as timeout 0 */
};

/*
 * Creates channel name with a ring of capacity bytes, rounded up to a power
 * of two of at least one page (the kernel allocates whole pages anyway), or
 * opens the existing one, whatever its capacity, unless SHMKIT_EXCL. flags:
 * SHMKIT_EXCL, SHMKIT_PERSIST. Returns the shmid; -SHMKIT_ENOTCHAN if name
 * exists and is not a channel.
 */
int shmkit_chan_create(const char *name, size_t capacity, int mode, unsigned flags);

/* What shmkit_chan_make made, or found. */
struct shmkit_chan_made {
	int shmid;
	int created;		/* 1 made now, 0 opened an existing one */
	uint64_t capacity;	/* ring bytes: for an existing channel, its own */
	uint64_t max_msg;	/* capacity / 2 */
};

/*
 * shmkit_chan_create, telling what it did: whether this call made the
 * channel (of processes racing to make one name, exactly one is told it
 * did) and the capacity the channel has, which for an existing one is
 * the capacity it was made with, not the one asked. Returns 0 and fills
 * made; errors as shmkit_chan_create.
 */
int shmkit_chan_make(const char *name, size_t capacity, int mode, unsigned flags,
		     struct shmkit_chan_made *made);

/*
 * Opens channel name as its producer or its consumer. -EBUSY if that side
 * is held by a live process; the place of a dead one is taken over. A
 * channel that the caller's effective uid did not make (and own) is
 * refused with -SHMKIT_EUNTRUSTED, unless role is or'ed with
 * SHMKIT_SHARED.
 */
int shmkit_chan_open(const char *name, int role, struct shmkit_chan **ch);

/*
 * shmkit_chan_open, for a channel that may not be made yet: while name
 * does not exist, or its creator is still making it, looks again (from
 * 1 ms, backing off to every 20 ms: the kernel announces no creation)
 * until timeout_ms: 0 tries once, as shmkit_chan_open; -1 waits for ever;
 * > 0 ends with -ETIMEDOUT. Any other answer ends it at once: a name that
 * is no channel is -SHMKIT_ENOTCHAN, not a wait.
 */
int shmkit_chan_open_wait(const char *name, int role, int timeout_ms, struct shmkit_chan **ch);

/*
 * Closes this side: the consumer then gets end of stream after draining
 * (for a closing producer), or the producer gets -EPIPE (for a closing
 * consumer). A reserved or peeked message not yet committed or released
 * is dropped from this side's view. Frees ch.
 */
int shmkit_chan_close(struct shmkit_chan *ch);

/*
 * Closes this side as failed: as shmkit_chan_close, but a consumer that
 * has drained what was committed gets -SHMKIT_EABORTED instead of
 * -SHMKIT_EEOF, so it knows the stream ended short. For a consumer it is
 * the same as close. Frees ch.
 */
int shmkit_chan_abort(struct shmkit_chan *ch);

/*
 * Removes the channel's segment: it goes when the last side detaches.
 * -SHMKIT_ENOTCHAN if the name is held by a segment that is no channel.
 */
int shmkit_chan_destroy(const char *name);

/*
 * Is the other side still there? 0 while it is open, or has not come yet;
 * else what a wait would end with: -EPIPE (the consumer closed),
 * -SHMKIT_EEOF or -SHMKIT_EABORTED (the producer closed: a consumer may
 * still have messages to read), -SHMKIT_EPEERDEAD (it died; noticed
 * within 100 ms). For a side that waits on something else (its input),
 * and must not outlive its peer.
 */
int shmkit_chan_peer(struct shmkit_chan *ch);

/* The largest message this channel carries, in bytes. */
size_t shmkit_chan_max_msg(const struct shmkit_chan *ch);

/* Sets how this handle waits (shmkit_wait_policy). */
int shmkit_chan_set_wait(struct shmkit_chan *ch, int policy);

/*
 * Sets how long this handle spins before it sleeps, under
 * SHMKIT_WAIT_BLOCK: -1 the default (at least 100 us, longer after long
 * waits that ended in data, up to 1 ms), 0 sleep at once (no spin, no
 * yield: for many waiters sharing few cores), > 0 spin exactly that many
 * microseconds, up to 1,000,000. SHMKIT_WAIT_SPIN still spins for ever,
 * SHMKIT_WAIT_NONE still never waits. -EINVAL for other values.
 */
int shmkit_chan_set_spin(struct shmkit_chan *ch, int spin_us);

/*
 * Timeouts, for every call that can wait: 0 tries once (-EAGAIN if it
 * cannot proceed), -1 waits for ever, > 0 waits that many milliseconds
 * (-ETIMEDOUT). A wait also ends when the other side closes (-EPIPE for the
 * producer; for the consumer once the ring is drained, -SHMKIT_EEOF, or
 * -SHMKIT_EABORTED if the producer aborted) or dies (-SHMKIT_EPEERDEAD,
 * noticed within 100 ms).
 */

/* Copies len bytes in as one message. -EMSGSIZE if len > max_msg. */
int shmkit_chan_send(struct shmkit_chan *ch, const void *buf, size_t len, int timeout_ms);

/*
 * Copies the next message out and sets *len to its size. If it is larger
 * than cap, returns -EMSGSIZE with *len set, and leaves it in place.
 */
int shmkit_chan_recv(struct shmkit_chan *ch, void *buf, size_t cap, size_t *len,
		     int timeout_ms);

/*
 * Zero copy, producer: reserve gives *ptr to len bytes inside the ring to
 * fill in place; commit publishes the first used bytes (used <= len) as one
 * message. Nothing is visible to the consumer before commit; a producer
 * that dies in between leaves nothing behind. The pointer is valid until
 * commit, close, or the next reserve or send on this handle, which abandon
 * an uncommitted reservation (whatever they return).
 */
int shmkit_chan_reserve(struct shmkit_chan *ch, size_t len, void **ptr, int timeout_ms);
int shmkit_chan_commit(struct shmkit_chan *ch, size_t used);

/*
 * Zero copy, consumer: peek gives the next message in place (*ptr, *len),
 * release lets the producer reuse its space. The pointer stays valid, and
 * the producer does not touch those bytes, until release or close on this
 * handle; peeking again without releasing returns the same message.
 */
int shmkit_chan_peek(struct shmkit_chan *ch, const void **ptr, size_t *len, int timeout_ms);
int shmkit_chan_release(struct shmkit_chan *ch);

/*
 * Read-ahead, consumer: the message after every one peeked and not yet
 * released, without releasing any. Each such held message stays valid and
 * untouched until released; release frees the oldest held, and peek
 * returns it again. Held messages keep their room, and the producer may
 * need it for the next message: while holding, wait for more only with a
 * timeout after which you release, or both sides wait for ever. -SHMKIT_EEOF (or
 * _EPEERDEAD) here means no message beyond the held ones: release those.
 * A consumer that closes or dies holding messages leaves them, in order,
 * to the next one: a way to hand on each message only once it is safe
 * elsewhere, with several on the way at a time. *offset (if not NULL) is
 * where the message begins in the channel's stream of bytes: it only
 * grows, and every consumer that gets the message, a successor included,
 * gets the same offset for it, whatever crashed in between. An id that
 * needs no counting.
 */
int shmkit_chan_peek_ahead(struct shmkit_chan *ch, const void **ptr, size_t *len,
			   uint64_t *offset, int timeout_ms);

/* The channel's shape and counters, as stored in its header. */
struct shmkit_chan_info {
	uint64_t capacity;	/* ring bytes */
	uint64_t max_msg;
	uint64_t used;		/* bytes in the ring now (published, not released) */
	uint64_t sent_msgs, sent_bytes, recv_msgs, recv_bytes;
	uint64_t prod_sleeps, prod_wakes;	/* producer slept; woke the consumer */
	uint64_t cons_sleeps, cons_wakes;	/* consumer slept; woke the producer */
	/* sched_yield calls each side made while it waited: with the sleeps
	 * and wakes, every system call a channel makes on its own */
	uint64_t prod_yields, cons_yields;
	/* nanoseconds each side spent waiting for the other (ring full for
	 * the producer, empty for the consumer), sleeps included; waits
	 * shorter than a few microseconds are not timed */
	uint64_t prod_wait_ns, cons_wait_ns;
	pid_t prod_pid, cons_pid;	/* 0 if the side is not open */
	int prod_alive, cons_alive;
	int prod_closed, cons_closed;	/* closed, cleanly or not */
	int prod_aborted;	/* the producer closed with shmkit_chan_abort */
};

/* Reads a channel's info by shmid (read-only attach); -SHMKIT_ENOTCHAN if
 * the segment is not one. */
int shmkit_chan_info(int shmid, struct shmkit_chan_info *info);

/* ---------------------------------------------------------------- topics */

/*
 * A topic is one publisher and many subscribers in one named segment:
 * each message is written once, into a ring of fixed slots, and every
 * subscriber reads it from there, in order, whole, at most once, from
 * where it joined. See topic.h for the layout and the protocol.
 */
struct shmkit_pub;
struct shmkit_sub;

enum shmkit_topic_policy {
	SHMKIT_TOPIC_BLOCK = 1,	/* the publisher waits for the slowest live subscriber */
	SHMKIT_TOPIC_OVERWRITE,	/* it never waits; one that falls behind loses messages, and is told */
};

struct shmkit_topic_params {
	size_t max_msg;		/* the largest message, bytes (every slot holds one) */
	uint32_t slots;		/* messages the topic holds: a power of two, at least 4 */
	uint32_t max_subs;	/* subscribers at once, 1 to 1024 */
	uint32_t history;	/* how far back a new subscriber may start: at most slots - 2 */
	int policy;		/* shmkit_topic_policy */
};

/*
 * Creates topic name (slots rounded up to a power of two), or opens the
 * existing one, whatever its shape, unless SHMKIT_EXCL. flags as for
 * shmkit_chan_create. Returns the shmid; -EINVAL for a shape out of
 * bounds; -SHMKIT_ENOTTOPIC if name exists and is not a topic.
 */
int shmkit_topic_create(const char *name, const struct shmkit_topic_params *params, int mode,
			unsigned flags);

/* Removes the topic's segment: it goes when the last handle detaches. */
int shmkit_topic_destroy(const char *name);

/*
 * The publisher. open: -EBUSY if a live process publishes; a dead one's
 * place is taken, and publishing goes on after its last whole message.
 * flags: SHMKIT_SHARED (as for channels). close: subscribers get end of
 * stream once they have read everything; abort: they get
 * -SHMKIT_EABORTED instead, the stream is incomplete. send and reserve wait, under
 * the block policy, for the slowest live subscriber (timeouts as for
 * channels; a dead subscriber holds it back at most about 20 ms after
 * it died). reserve gives *ptr to len bytes of the next slot; commit
 * publishes its first used bytes. Under the overwrite policy the slot may
 * be one a slow subscriber is reading: it will be told (-SHMKIT_ELOST).
 */
int shmkit_pub_open(const char *name, unsigned flags, struct shmkit_pub **pub);
int shmkit_pub_close(struct shmkit_pub *pub);
int shmkit_pub_abort(struct shmkit_pub *pub);
int shmkit_pub_set_wait(struct shmkit_pub *pub, int policy);
/* As shmkit_chan_set_spin, for the block policy's waits; the default
 * (-1) spins 100 us. */
int shmkit_pub_set_spin(struct shmkit_pub *pub, int spin_us);
int shmkit_pub_send(struct shmkit_pub *pub, const void *buf, size_t len, int timeout_ms);
int shmkit_pub_reserve(struct shmkit_pub *pub, size_t len, void **ptr, int timeout_ms);
int shmkit_pub_commit(struct shmkit_pub *pub, size_t used);
/* How many live subscribers hold a place now (a scan of the table; a
 * /proc look per place held): for a publisher that waits for its
 * audience before it starts. */
int shmkit_pub_subscribers(const struct shmkit_pub *pub);

#define SHMKIT_FROM_OLDEST (1u << 8)	/* shmkit_sub_open: start at the oldest message held */

/*
 * A subscriber. open takes a free place (-EBUSY if max_subs live ones
 * hold them all) and starts at the next message published, or with
 * SHMKIT_FROM_OLDEST up to history messages back. recv copies the next
 * message out (-EMSGSIZE with *len set if it is larger than cap, left in
 * place); peek gives it in place and release is done with it. Waits end
 * as a channel consumer's do (-SHMKIT_EEOF, -SHMKIT_EABORTED,
 * -SHMKIT_EPEERDEAD once everything published was read).
 *
 * Under the overwrite policy a subscriber that fell more than the ring
 * behind gets -SHMKIT_ELOST once, and then goes on from the oldest message
 * still held; shmkit_sub_lost counts the messages lost so far. A peeked
 * message may be overwritten while it is held: release then returns
 * -SHMKIT_ELOST, and what was read from the pointer must be thrown away.
 * Under the block policy a peeked message stays put until release.
 */
int shmkit_sub_open(const char *name, unsigned flags, struct shmkit_sub **sub);
/* shmkit_sub_open, waiting for the topic to be made as
 * shmkit_chan_open_wait does for a channel. */
int shmkit_sub_open_wait(const char *name, unsigned flags, int timeout_ms,
			 struct shmkit_sub **sub);
int shmkit_sub_close(struct shmkit_sub *sub);
int shmkit_sub_set_wait(struct shmkit_sub *sub, int policy);
/* As shmkit_chan_set_spin; the default (-1) spins 100 us. */
int shmkit_sub_set_spin(struct shmkit_sub *sub, int spin_us);
int shmkit_sub_recv(struct shmkit_sub *sub, void *buf, size_t cap, size_t *len, int timeout_ms);
int shmkit_sub_peek(struct shmkit_sub *sub, const void **ptr, size_t *len, int timeout_ms);
int shmkit_sub_release(struct shmkit_sub *sub);
uint64_t shmkit_sub_lost(const struct shmkit_sub *sub);

/* A topic's shape and counters, as stored in its segment. */
struct shmkit_topic_info {
	uint64_t slots, max_msg, history;
	uint32_t max_subs;
	int policy;		/* shmkit_topic_policy */
	uint64_t published;	/* messages published so far */
	uint64_t bytes;		/* their bytes */
	pid_t pub_pid;		/* 0 if no publisher holds the topic */
	int pub_alive, pub_closed;
	int pub_aborted;	/* it closed with shmkit_pub_abort */
	uint64_t pub_sleeps;	/* the publisher waited for a subscriber, asleep */
	uint64_t pub_wakes;	/* its wake calls to sleeping subscribers */
	uint64_t pub_wait_ns;
	uint32_t nsubs;		/* subscribers holding a place now */
	uint64_t pub_yields;	/* its spins' yields to a subscriber on its cpu */
};

/* One subscriber's place in a topic. */
struct shmkit_topic_sub_info {
	pid_t pid;
	int alive;
	uint64_t pos;		/* the number of the next message it reads */
	uint64_t lag;		/* published messages it has not read yet */
	uint64_t msgs, bytes;	/* read since it joined */
	uint64_t lost;		/* overwritten before it read them */
	uint64_t sleeps, wakes, wait_ns;
	uint64_t yields;	/* its spins' yields to another side on its cpu */
};

/*
 * Reads a topic's info by shmid without attaching (a look, as
 * shmkit_chan_info), and up to cap of its subscribers into subs (NULL
 * with cap 0 for none); info->nsubs says how many there are.
 * -SHMKIT_ENOTTOPIC if the segment is not one.
 */
int shmkit_topic_info(int shmid, struct shmkit_topic_info *info,
		      struct shmkit_topic_sub_info *subs, size_t cap);

/* --------------------------------------------------------------- inboxes */

/*
 * An inbox is many producers and one consumer in one named segment. Each
 * producer has a lane of its own, a channel ring, so messages come whole
 * and in order per producer, producers never wait for each other, and one
 * killed mid-message holds no one up. See inbox.h for the layout.
 */
struct shmkit_inbox;

/*
 * Creates inbox name for up to producers producers at once (1 to 1024),
 * each with a lane of lane_capacity bytes (rounded up as a channel's
 * capacity is), or opens the existing one, whatever its shape, unless
 * SHMKIT_EXCL. flags as for shmkit_chan_create. Returns the shmid;
 * -EINVAL for a shape out of bounds (16 GiB of lanes at most);
 * -SHMKIT_ENOTINBOX if name exists and is not an inbox.
 */
int shmkit_inbox_create(const char *name, unsigned producers, size_t lane_capacity, int mode,
			unsigned flags);
/* Removes the inbox's segment: it goes when the last handle detaches. */
int shmkit_inbox_destroy(const char *name);

/*
 * A producer joins: it takes the lowest free lane (or one whose producer
 * died, after that one's last whole message), and gets a channel producer
 * handle on it: shmkit_chan_send, _reserve, _commit, _peer, _close and
 * _abort work on it as on a channel's. -EBUSY if live producers hold every
 * lane (one found corrupt is passed over). Closing the handle frees the
 * lane. flags: SHMKIT_SHARED.
 */
int shmkit_inbox_join(const char *name, unsigned flags, struct shmkit_chan **ch);

/*
 * The consumer. open: -EBUSY if a live process holds it; a dead one's
 * place is taken, with every message it left unread. recv, peek and
 * release as a channel consumer's, over all lanes: one message from each
 * lane with messages in turn, so a producer that never stops holds no
 * other back. Waits end only by timeout (producers come and go; none
 * ends the inbox). A lane found corrupt (also when opening) gives
 * -SHMKIT_ECORRUPT once, and is skipped from then on. Closing makes the
 * producers' calls fail with -EPIPE. flags: SHMKIT_SHARED.
 */
int shmkit_inbox_open(const char *name, unsigned flags, struct shmkit_inbox **ib);
int shmkit_inbox_close(struct shmkit_inbox *ib);
int shmkit_inbox_recv(struct shmkit_inbox *ib, void *buf, size_t cap, size_t *len,
		      int timeout_ms);
int shmkit_inbox_peek(struct shmkit_inbox *ib, const void **ptr, size_t *len, int timeout_ms);
int shmkit_inbox_release(struct shmkit_inbox *ib);
/* The lane of the last message received or peeked (or found corrupt); -1 before any. */
int shmkit_inbox_from(const struct shmkit_inbox *ib);
/* The largest message a lane carries, bytes. */
size_t shmkit_inbox_max_msg(const struct shmkit_inbox *ib);
/* Spin before sleeping, microseconds: as shmkit_waitset_set_spin. */
int shmkit_inbox_set_spin(struct shmkit_inbox *ib, int spin_us);

struct shmkit_inbox_info {
	uint32_t lanes;		/* producers at once, at most */
	uint32_t producers;	/* lanes a producer holds now (alive or not) */
	uint32_t listed;	/* lanes in use: held, or holding or having carried messages */
	uint64_t lane_capacity, max_msg;
	uint64_t used;		/* bytes in all lanes now */
	uint64_t sent_msgs, recv_msgs;
	pid_t cons_pid;		/* 0 if no consumer holds the inbox */
	int cons_alive, cons_closed;
	uint64_t cons_sleeps;
	int replies;		/* 1 for a service: each lane has a reply ring too */
};

struct shmkit_inbox_lane_info {
	uint32_t lane;
	pid_t pid;		/* its producer; 0 if none holds it */
	int alive;
	uint64_t used;		/* bytes in the lane now */
	uint64_t sent_msgs, sent_bytes, recv_msgs, recv_bytes;
	uint64_t sleeps, wakes;	/* its producers slept for room; woke the consumer */
	/* a service's reply ring: bytes in it now; replies the server sent
	 * into it, and the client read (0 for an inbox) */
	uint64_t replies_used, replies_sent, replies_read;
	/* a service's: the epoch of the lane's last client (shmkit_request's);
	 * one more at each claim of the lane, 0 before the first */
	uint32_t epoch;
};

/*
 * Reads an inbox's info by shmid (a look, as shmkit_chan_info), and up to
 * cap of the lanes in use into lanes (info->listed says how many there
 * are). -SHMKIT_ENOTINBOX if the segment is not an inbox.
 */
int shmkit_inbox_info(int shmid, struct shmkit_inbox_info *info,
		      struct shmkit_inbox_lane_info *lanes, size_t cap);

/* -------------------------------------------------------------- services */

/*
 * A service is request and response: many clients, one server, in one
 * named segment. Each client holds a lane of an inbox that carries a
 * reply ring too; the library numbers each request, and the server's
 * reply carries the number back, so a client may have many requests out
 * and tell their replies apart.
 */
struct shmkit_service;
struct shmkit_client;

/* Which request a reply answers: filled in by the server's recv or peek. */
struct shmkit_request {
	uint64_t id;		/* the client's number for it, from 1 */
	uint32_t client;	/* the client's lane */
	uint32_t epoch;		/* which client held the lane: 1, 2, ... one more per
				   client that took the lane (shmkit_inbox_info's) */
};

/*
 * Creates service name for up to clients clients at once (1 to 1024),
 * each lane with a request ring and a reply ring of lane_capacity bytes
 * (rounded up as a channel's). As shmkit_inbox_create otherwise;
 * -SHMKIT_ENOTSERVICE if name exists and is not a service.
 */
int shmkit_service_create(const char *name, unsigned clients, size_t lane_capacity, int mode,
			  unsigned flags);
int shmkit_service_destroy(const char *name);

/*
 * The server: open and close as an inbox consumer's (-EBUSY while a live
 * server holds it; a dead one's unreleased requests come again). recv,
 * peek and release take the next request, as shmkit_inbox_recv, and fill
 * req. reply, or reserve and commit, answer it; they wait only while the
 * client's reply ring is full (timeouts as for channels). A reply to a
 * client that has gone is dropped: -EPIPE (it closed, or its lane has a
 * new client) or -SHMKIT_EPEERDEAD (it died). A request too short to be
 * one is dropped and reported once (-SHMKIT_ECORRUPT).
 */
int shmkit_service_open(const char *name, unsigned flags, struct shmkit_service **srv);
int shmkit_service_close(struct shmkit_service *srv);
int shmkit_service_recv(struct shmkit_service *srv, void *buf, size_t cap, size_t *len,
			struct shmkit_request *req, int timeout_ms);
int shmkit_service_peek(struct shmkit_service *srv, const void **ptr, size_t *len,
			struct shmkit_request *req, int timeout_ms);
int shmkit_service_release(struct shmkit_service *srv);
int shmkit_service_reply(struct shmkit_service *srv, const struct shmkit_request *req,
			 const void *buf, size_t len, int timeout_ms);
int shmkit_service_reserve(struct shmkit_service *srv, const struct shmkit_request *req,
			   size_t len, void **ptr, int timeout_ms);
int shmkit_service_commit(struct shmkit_service *srv, size_t used);
size_t shmkit_service_max_msg(const struct shmkit_service *srv);
int shmkit_service_set_spin(struct shmkit_service *srv, int spin_us);

/*
 * A client: open takes a free lane (-EBUSY if live clients hold them
 * all). send, or reserve and commit, send a request and give its number
 * (*id, if not NULL); recv, or peek and release, take the next reply and
 * the number of the request it answers. call sends one request and waits
 * for its reply (-EBUSY if others are out: use send and recv). A server
 * that dies gives -SHMKIT_EPEERDEAD within 100 ms; one that closes gives
 * -SHMKIT_EEOF once its replies are read, and -EPIPE to send.
 */
int shmkit_client_open(const char *name, unsigned flags, struct shmkit_client **cl);
int shmkit_client_close(struct shmkit_client *cl);
int shmkit_client_send(struct shmkit_client *cl, const void *buf, size_t len, uint64_t *id,
		       int timeout_ms);
int shmkit_client_reserve(struct shmkit_client *cl, size_t len, void **ptr, int timeout_ms);
int shmkit_client_commit(struct shmkit_client *cl, size_t used, uint64_t *id);
int shmkit_client_recv(struct shmkit_client *cl, void *buf, size_t cap, size_t *len,
		       uint64_t *id, int timeout_ms);
int shmkit_client_peek(struct shmkit_client *cl, const void **ptr, size_t *len, uint64_t *id,
		       int timeout_ms);
int shmkit_client_release(struct shmkit_client *cl);
int shmkit_client_call(struct shmkit_client *cl, const void *req, size_t len, void *rep,
		       size_t cap, size_t *rlen, int timeout_ms);
size_t shmkit_client_max_msg(const struct shmkit_client *cl);
/* Spin before sleeping, microseconds, for both rings: as shmkit_chan_set_spin. */
int shmkit_client_set_spin(struct shmkit_client *cl, int spin_us);

/* ------------------------------------------------------------- wait sets */

/*
 * A wait set waits on many handles at once: channels (a consumer for its
 * next message, a producer for room), topic subscribers and publishers.
 * One thread, no system call while some member is ready; asleep, it
 * sleeps on all members' wake words in one futex_waitv (Linux 5.16), or,
 * on older kernels, on one member's at a time in 1 ms slices. Not for
 * sharing between threads: one waiter per set, and a handle in one set at
 * a time.
 */
struct shmkit_waitset;

#define SHMKIT_WAITSET_MAX 128	/* members of one set */

/* One member that can proceed. */
struct shmkit_event {
	void *udata;	/* as given when the member was added */
	/*
	 * 0: the member's next call proceeds at once. Else the error that
	 * call returns now, without waiting: -SHMKIT_EEOF, -EPIPE,
	 * -SHMKIT_EPEERDEAD and the like (reported at every wait until the
	 * member is removed), or -SHMKIT_ELOST once for a subscriber that
	 * lost messages (it has moved on: its next recv gives the oldest
	 * message still held).
	 */
	int status;
};

int shmkit_waitset_new(struct shmkit_waitset **ws);
/* Frees the set; its members stay open. */
int shmkit_waitset_free(struct shmkit_waitset *ws);

/*
 * Adds a member. A channel consumer is ready when a message has come; a
 * producer when a message of room bytes (at most its max_msg) can be
 * reserved at once (room must be 0 for a consumer). A subscriber is ready
 * when a message has come; a publisher when it can publish (always under
 * the overwrite policy). -EEXIST if the handle is in the set already;
 * -ENOSPC past SHMKIT_WAITSET_MAX members; -EMSGSIZE for room > max_msg.
 * Remove a member before closing its handle.
 */
int shmkit_waitset_add_chan(struct shmkit_waitset *ws, struct shmkit_chan *ch, size_t room,
			    void *udata);
int shmkit_waitset_add_pub(struct shmkit_waitset *ws, struct shmkit_pub *pub, void *udata);
int shmkit_waitset_add_sub(struct shmkit_waitset *ws, struct shmkit_sub *sub, void *udata);
/* An inbox consumer: ready when a message has come on any lane. */
int shmkit_waitset_add_inbox(struct shmkit_waitset *ws, struct shmkit_inbox *ib, void *udata);
/* A server: ready when a request has come. A client: when a reply has. */
int shmkit_waitset_add_service(struct shmkit_waitset *ws, struct shmkit_service *srv,
			       void *udata);
int shmkit_waitset_add_client(struct shmkit_waitset *ws, struct shmkit_client *cl, void *udata);
/* Removes the member with this handle; -ENOENT if there is none. */
int shmkit_waitset_del(struct shmkit_waitset *ws, const void *handle);

/*
 * How long a wait spins before it sleeps, in microseconds: -1 the default
 * (100), 0 sleep at once, up to 1,000,000.
 */
int shmkit_waitset_set_spin(struct shmkit_waitset *ws, int spin_us);

/*
 * Waits until at least one member is ready, and fills up to max events.
 * Returns their count; -EAGAIN (timeout 0) or -ETIMEDOUT if none became
 * ready; timeouts as for channels. Fair: each wait starts looking after
 * the last member the previous one reported, so a member that is always
 * ready cannot hide the others. A member's dead peer is reported within
 * 100 ms, as for its own waits.
 */
int shmkit_waitset_wait(struct shmkit_waitset *ws, struct shmkit_event *ev, int max,
			int timeout_ms);

/*
 * For event loops (epoll, poll, libuv, ...): a file descriptor that is
 * readable while the set is armed and a member may be ready. fd makes it
 * at the first call (then returns the same one; the set closes it).
 * Before the loop sleeps, arm: 1 means a member is ready now (do not
 * sleep: wait with timeout 0), 0 means armed, -errno an error. Once the
 * descriptor is readable, shmkit_waitset_wait with timeout 0 disarms and
 * gives the events; so does any wait, add or del. While the loop is busy
 * with messages and does not arm, it costs nothing per message. Watch
 * for readability only (POLLIN, EPOLLIN); epoll_wait may return EINTR
 * once as it is armed. One thread, the one that arms, and not across
 * fork.
 */
int shmkit_waitset_fd(struct shmkit_waitset *ws);
int shmkit_waitset_arm(struct shmkit_waitset *ws);

#ifdef __cplusplus
}
#endif

#endif /* SHMKIT_H */
