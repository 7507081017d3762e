/*
 * Every atomic operation on shared memory the library makes (the channel
 * in chan.c, the segment header in header.c) goes through these names, on
 * top of C11 <stdatomic.h>, so each ordering decision is visible by name
 * at its call site, where a comment labels the pairing. Nothing in src/
 * calls atomic_* directly.
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
/*
 * Sequentially consistent operations, where two processes race on one
 * word and each must see the other's store or win outright: the owner
 * claim, the sleeping flag and the wake sequence (labels in chan.c). The
 * read-modify-writes are full barriers as well.
 */
#define shmkit_store_seq_cst(p, v) atomic_store_explicit((p), (v), memory_order_seq_cst)
#define shmkit_exchange_seq_cst(p, v) atomic_exchange_explicit((p), (v), memory_order_seq_cst)
#define shmkit_fetch_add_seq_cst(p, v) atomic_fetch_add_explicit((p), (v), memory_order_seq_cst)
/* On failure *expected gets the value found. */
#define shmkit_cas_seq_cst(p, expected, desired) \
	atomic_compare_exchange_strong_explicit((p), (expected), (desired), \
						memory_order_seq_cst, memory_order_seq_cst)
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
/* unused in files that include this header but never fence */
static _Atomic uint32_t shmkit_tsan_fence_word __attribute__((unused));
#define shmkit_smp_mb() \
	((void)atomic_fetch_add_explicit(&shmkit_tsan_fence_word, 0, memory_order_seq_cst))
#else
#define shmkit_smp_mb() atomic_thread_fence(memory_order_seq_cst)
#endif

#endif
