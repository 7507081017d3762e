/*
 * Owners of a side of a shared structure (a channel's producer or
 * consumer, a topic's publisher or a subscriber's entry): a 64-bit word in
 * the segment naming the process that holds it, taken with a CAS, given
 * up by storing 0. The word is pid | (start time low 32 bits) << 32, so a
 * recycled pid does not pass for its dead predecessor.
 */
#ifndef SHMKIT_OWNER_H
#define SHMKIT_OWNER_H

#include <stdatomic.h>
#include <stdint.h>

/* This process's owner word. */
uint64_t __shmkit_owner_word(void);

/* 1 if the process an owner word names still runs, else 0. */
int __shmkit_owner_alive(uint64_t owner);

/* Takes *owner for this process unless a live process holds it (-EBUSY). */
int __shmkit_owner_claim(_Atomic uint64_t *owner);

#endif
