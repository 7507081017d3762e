/*
 * Looks that leave no trace. Reading a segment's shmkit header means
 * attaching for a moment, and every attach or detach makes the caller the
 * kernel's "last pid" of the segment (and moves its times). Once the
 * looker exits, the real last user would be forgotten and a segment still
 * used on and off would look orphaned.
 *
 * So a looker first leaves a note, SHMID-PID, with what the kernel said
 * before the look: last pid, attach and detach times, and the change time
 * that identifies this incarnation of the shmid. When a later judgement
 * finds the last pid dead (or itself), it reads that pid's note and takes
 * the real values back. After the look the note also records the times
 * the look itself left, so a note is trusted only while the kernel's
 * record is still the one the look left behind. Notes are best effort: a
 * failure to write one never fails a look.
 *
 * Where notes live, and why they can be trusted. Each user writes only in
 * a directory of its own, /dev/shm/shmkit-looks-UID/ipc-NS/ (UID: the
 * effective uid; NS: the IPC namespace's inode, since shmids are per
 * namespace). /dev/shm is shared by every user, so every step is walked
 * through directory fds and checked after it is opened, never by path:
 * /dev/shm must be root's and sticky (or closed to others), so nobody
 * else can rename or remove our entries in it; each directory is opened
 * without following a link, and must be a directory owned by the uid in
 * its name that nobody else may write (mode 0755). Files are made with
 * O_EXCL and renamed within the checked directory, and only names inside
 * it are ever removed (unlinkat neither follows a link nor removes a
 * directory). If another user squats our name first, with a link or a
 * directory of its own, nothing of theirs is followed or touched: we keep
 * our notes in a spare directory, shmkit-looks-UID-XXXXXXXX (8 random hex
 * digits, so nobody can take it in advance), found again by its owner and
 * the uid in its name. Without notes our looks would count as uses, and a
 * segment whose real last user still runs would look abandoned. Only if
 * no directory at all can be had is no note written. Pruning, likewise,
 * touches only our own directory.
 *
 * A note for a pid may have been written by any user, so a reader looks
 * in every user's directory that passes the same checks, and in a note
 * file only if it is a small regular file of that user's. It trusts the
 * note of a user who could have attached the segment to look: root, its
 * owner or creator, or anyone if the mode lets group or others read. Only
 * one note for a pid can be genuine; if several pass, the one that makes
 * the segment look more used wins (a live last user, then the later use).
 * A note is consulted only for a last pid that is dead, so a forged note
 * can make a segment look used, never abandoned, and since nobody can
 * remove another user's notes, the genuine one cannot be made to vanish.
 * Our own look (last pid: this process) is taken only from our own
 * directory.
 */
#ifndef SHMKIT_LOOK_H
#define SHMKIT_LOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/types.h>

/* What a look must not lose. */
struct __shmkit_last_use {
	pid_t lpid;
	int64_t atime, dtime, ctime;
};

/*
 * If use->lpid is this process or a dead one that left a note for this
 * segment incarnation, replaces use with the note's values. Returns the
 * pid whose note was used, or 0. Reads the segment's permissions itself,
 * for the trust rule above; when it may not (the caller cannot read the
 * segment), every note that passes the checks counts, since ignoring the
 * genuine one is what could make a used segment look abandoned.
 */
pid_t __shmkit_look_resolve(int shmid, struct __shmkit_last_use *use);

/* A look in progress. */
struct __shmkit_look {
	void *base;		/* read-only mapping */
	uint64_t segsz;
	key_t key;
	pid_t cpid;
	struct __shmkit_last_use use;	/* resolved: what the kernel said before */
	pid_t from;		/* whose note use came from, or 0 */
	int from_ours;		/* that note is in our own directory: ours to drop */
	int notes;		/* our notes directory (fd), or -1: none to trust */
};

/*
 * Starts a look: reads the kernel's record, resolves its last use, leaves
 * this process's note, attaches read-only. Returns 0 or a negative errno.
 */
int __shmkit_look_begin(int shmid, struct __shmkit_look *lk);

/* Ends a look; drops the note its last use was resolved through, if ours. */
void __shmkit_look_end(int shmid, struct __shmkit_look *lk);

/*
 * Removes our notes that tell nothing any more (those of segments that
 * are gone among them); a pass at most once a second in a process, which
 * every look makes too.
 */
void __shmkit_look_prune(void);

/* Removes our notes of a segment (when it is removed). */
void __shmkit_look_forget(int shmid);

#endif
