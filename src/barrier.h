/*
 * Every atomic the library uses, on top of C11 <stdatomic.h>. The ring
 * code calls only these, so each ordering decision is visible by name at
 * its call site, where a comment labels the pairing.
 */
#ifndef SHMKIT_BARRIER_H
#define SHMKIT_BARRIER_H

#include <stdatomic.h>
#include <stdint.h>

/* Loads that later reads depend on: pairs with a store_release. */
#define shmkit_load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
/* Stores that publish earlier writes: pairs with a load_acquire. */
#define shmkit_store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
/* Single-writer fields and statistics: atomicity, no ordering. */
#define shmkit_load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define shmkit_store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
/* Store-load ordering, for the sleeper handshake (see chan.c). */
#define shmkit_smp_mb() atomic_thread_fence(memory_order_seq_cst)

#endif
