/*
 * Looks that leave no trace. Reading a segment's shmkit header means
 * attaching for a moment, and every attach or detach makes the caller the
 * kernel's "last pid" of the segment (and moves its times). Once the
 * looker exits, the real last user would be forgotten and a segment still
 * used on and off would look orphaned.
 *
 * So a looker first leaves a note, /dev/shm/shmkit-looks/ipc-NS/SHMID-PID
 * (NS: the IPC namespace, since shmids are per namespace), with
 * what the kernel said before the look: last pid, attach and detach times,
 * and the change time that identifies this incarnation of the shmid. When
 * a later judgement finds the last pid dead (or itself), it reads that
 * pid's note and takes the real values back. Notes are best effort: a
 * failure to write one never fails a look. After the look the note also
 * records the times the look itself left, so a note is trusted only while
 * the kernel's record is still the one the look left behind. Anyone may write a note, but a
 * note is only consulted for a last pid that is dead or the caller, so a
 * forged one can make a segment look used, never make it look abandoned.
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
 * pid whose note was used, or 0.
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
	char dir[64];		/* the notes' directory, found once per look */
};

/*
 * Starts a look: reads the kernel's record, resolves its last use, leaves
 * this process's note, attaches read-only. Returns 0 or a negative errno.
 */
int __shmkit_look_begin(int shmid, struct __shmkit_look *lk);

/* Ends a look; drops the note its last use was resolved through. */
void __shmkit_look_end(int shmid, struct __shmkit_look *lk);

/* Removes the notes of segments not among the n live shmids. */
void __shmkit_look_prune_gone(const int *live, size_t n);

/* Removes every note of a segment (when it is removed). */
void __shmkit_look_forget(int shmid);

#endif
