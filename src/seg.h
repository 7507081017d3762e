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
 * published (so an opener never sees a half-made segment).
 */
int __shmkit_seg_make(const struct shmkit_ref *ref, size_t size, int mode,
		      unsigned flags, uint32_t hdr_flags, __shmkit_init_fn init,
		      void *arg);

/*
 * Finds the segment named name and attaches it (shmkit_seg_attach flags).
 * With trust_mode >= 0, refuses one the caller does not own, or with
 * permission bits beyond trust_mode (-SHMKIT_EUNTRUSTED). A segment
 * removed during the lookup or the attach is looked up again; -ENOENT
 * once the name has none.
 */
int __shmkit_seg_attach_name(const char *name, unsigned flags, int trust_mode,
			     struct shmkit_map *map);

/* The checked header of an attached segment (no grace period). */
int __shmkit_seg_header(int shmid, const void *base, struct __shmkit_hdr_view *view);

#endif
