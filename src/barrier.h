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
#if defined(__SANITIZE_THREAD__)
#define SHMKIT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHMKIT_TSAN 1
#endif
#endif
#ifdef SHMKIT_TSAN
/*
 * gcc's ThreadSanitizer rejects fences. A seq_cst read-modify-write is a
 * full barrier on the machines we run on (lock-prefixed on x86), and TSan
 * checks data races, which the acquire/release pairs already order.
 */
static _Atomic uint32_t shmkit_tsan_fence_word;
#define shmkit_smp_mb() \
	((void)atomic_fetch_add_explicit(&shmkit_tsan_fence_word, 0, memory_order_seq_cst))
#else
#define shmkit_smp_mb() atomic_thread_fence(memory_order_seq_cst)
#endif

#endif
