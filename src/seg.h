/* What the channel layer needs of the segment layer beyond the public API. */
#ifndef SHMKIT_SEG_H
#define SHMKIT_SEG_H

#include <stdint.h>

#include "header.h"
#include "shmkit.h"

/* Fills the user's bytes of a fresh named segment before it is published. */
typedef void (*__shmkit_init_fn)(void *data, uint64_t size, void *arg);

/*
 * shmkit_seg_create with two more things for named segments: header flags
 * to record, and an init function that runs before the header's magic is
 * published (so an opener never sees a half-made segment). *created (if
 * not NULL) says whether this call made the segment (1) or opened an
 * existing one (0).
 */
int __shmkit_seg_make(const struct shmkit_ref *ref, size_t size, int mode,
		      unsigned flags, uint32_t hdr_flags, __shmkit_init_fn init,
		      void *arg, int *created);

/* Checks what an attached segment holds: 0 if it is the caller's kind. */
typedef int (*__shmkit_check_fn)(struct shmkit_map *map, void *arg);

/*
 * Makes named segment name as __shmkit_seg_make does, or takes the one
 * that exists, and checks it, attached read-only, with check: a channel
 * or a topic keeps the shape it was made with, whatever this call asks,
 * but it must be of the kind asked for. Returns the shmid, or the error
 * of the making, the attach (with the trust rule of flags and mode) or
 * the check.
 */
int __shmkit_seg_make_checked(const char *name, size_t size, int mode, unsigned flags,
			      uint32_t hdr_flags, __shmkit_init_fn init, void *init_arg,
			      __shmkit_check_fn check, void *check_arg);

/*
 * The same, and on success *created (if not NULL) is 1 if this call made
 * the segment it returns, 0 if another process did.
 */
int __shmkit_seg_make_checked_created(const char *name, size_t size, int mode, unsigned flags,
				      uint32_t hdr_flags, __shmkit_init_fn init, void *init_arg,
				      __shmkit_check_fn check, void *check_arg, int *created);

/*
 * Finds the segment named name and attaches it (shmkit_seg_attach flags).
 * With trust_mode >= 0, refuses one the caller does not own, or with
 * permission bits beyond trust_mode (-SHMKIT_EUNTRUSTED). A segment
 * removed during the lookup or the attach is looked up again; -ENOENT
 * once the name has none.
 */
int __shmkit_seg_attach_name(const char *name, unsigned flags, int trust_mode,
			     struct shmkit_map *map);

/* Opens name (shmkit_chan_open, shmkit_sub_open, with what arg holds). */
typedef int (*__shmkit_open_fn)(const char *name, void *arg);

/*
 * Calls try_open until name is made: while it finds no segment (-ENOENT),
 * or one whose creator has not yet published its header, it looks again,
 * 1 ms later, then 2, 4, up to every 20 ms, until timeout_ms (0: once, as
 * try_open alone; < 0: for ever). Returns what try_open returned (its
 * first other answer), or -ETIMEDOUT.
 */
int __shmkit_open_wait(const char *name, int timeout_ms, __shmkit_open_fn try_open,
		       void *arg);

/* The checked header of an attached segment (no grace period). */
int __shmkit_seg_header(int shmid, const void *base, struct __shmkit_hdr_view *view);

#endif
